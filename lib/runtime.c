#include "runtime.h"
#include "runtime_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <linux/capability.h>
#include <net/if.h>
#include <time.h>

#include "cgroup.h"
#include "criu.h"
#include "devices.h"
#include "hostsfile.h"
#include "idmap.h"
#include "ipam.h"
#include "nat.h"
#include "net.h"
#include "quota.h"
#include "secrets.h"
#include "security.h"
#include "state.h"
#include "tstore.h"
#include "util.h"

struct runtime_internal {
        struct security_caps caps;
        struct security_seccomp seccomp;
        uid_t idmap_uid;
        gid_t idmap_gid;
        uint32_t idmap_count;
        struct idmap_root idmap_root; /* with idmap: what the parent mounts for the child */
        char *idmap_scratch;
        const char *dir;              /* the container's directory (rc->dir) */
        const struct spec_container *spec;
        const struct spec_network *net; /* NET_BRIDGE, NET_MACVLAN, NET_IPVLAN */
        struct spec_network ext_net;    /* net of a network berth does not own (points into spec) */
        char net_owner[NET_OWNER_MAX];    /* owner id of our bridges, veths, cgroups (the state directory's) */
        struct in_addr address;
        bool veth_made, bridge_made;
        /* The extra interfaces (spec->attach[i]: eth<i+1>). */
        const struct spec_network *attach_net[SPEC_ATTACH_MAX];
        struct in_addr attach_address[SPEC_ATTACH_MAX];
        bool attach_bridge_made[SPEC_ATTACH_MAX];
        bool attach_hosts[SPEC_ATTACH_MAX]; /* its line is in that network's hosts file */
        struct spec_network attach_ext[SPEC_ATTACH_MAX]; /* a host bridge's, a macvlan/ipvlan parent's */
        char *hosts_dir;                /* the networks directory whose hosts file lists us */
        bool hosts_own;                 /* on several networks: hosts.d/NAME there is our /etc/hosts */
        bool state_written;             /* a foreground run's state record */
        char *stage;                    /* foreground: where the record is written before it is published */
        bool state_staged;              /* stage/state exists, not yet renamed into place */
        char *nat_table;                /* the table of a foreground run, when it has one */
        struct cgroup_manager *cgm;
        struct cgroup *cg;
        struct cgroup_placement place;  /* how the child gets into cg */
        char **envp;
        char **argv;
        char *merged, *upper, *work, *etc, *overlay_opts;
        struct devices_prepared devs;   /* device blocks: nodes and cgroup rules */
        struct secrets_prepared secrets; /* their sources, open until the child copied them */
        struct image_info *image;       /* the template's image, when it is one */
};

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * SPEC_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void internal_free(struct runtime_internal *in)
{
        if (!in)
                return;
        security_seccomp_done(&in->seccomp);
        secrets_close(&in->secrets);
        image_info_free(in->image);
        strv_free(in->envp);
        strv_free(in->argv);
        free(in->merged);
        free(in->upper);
        free(in->work);
        free(in->etc);
        free(in->overlay_opts);
        free(in->idmap_scratch);
        free(in->nat_table);
        free(in->hosts_dir);
        free(in->stage);
        cgroup_placement_done(&in->place);
        cgroup_free(in->cg);
        cgroup_manager_free(in->cgm);
        free(in);
}

static int setup_cgroup(const struct spec_container *c, struct runtime_internal *in, struct error *e);

/* In the parent while the child builds its mounts, before it creates its
 * cgroup namespace and long before the workload runs: the cgroup when the
 * child joins it rather than being born into it (cgroup v1: made, limited
 * and joined here, where the mkdirs and the move's wait for an RCU grace
 * period run next to the mounts instead of before them) and the network. */
static bool going_cgroup(const struct runtime_internal *in)
{
        return in->cgm && !cgroup_manager_places_at_clone(in->cgm);
}

static bool going_needed(const struct runtime_internal *in)
{
        return going_cgroup(in) || in->spec->net_mode != NET_HOST;
}

/* The container's network in its network namespace nsfd: lo, and its
 * interface on its network (veth on a bridge, macvlan, ipvlan). */
static int plumb_network(struct runtime_internal *in, int nsfd, struct error *e)
{
        int r;
        if (in->spec->net_mode == NET_NONE) {
                r = net_loopback_up(nsfd);
                if (r < 0)
                        return error_set(e, r, "cannot bring lo up");
        } else if (in->spec->net_mode == NET_MACVLAN || in->spec->net_mode == NET_IPVLAN) {
                r = net_container_vlan(in->spec->name, in->spec->net_mode, in->spec->parent, nsfd, in->net,
                                       in->address);
                if (r == -ENODEV)
                        return error_set(e, 0, "its parent interface '%s' does not exist", in->spec->parent);
                if (r < 0)
                        return error_set(e, r, "cannot give it a %s interface on '%s'",
                                         net_mode_to_string(in->spec->net_mode), in->spec->parent);
        } else {
                r = net_container_setup(in->spec->name, in->net_owner, nsfd, in->net, in->address);
                if (r == -EEXIST)
                        return error_set(e, 0, "its host interface exists and is not berth's");
                if (r == -ENODEV && in->net->external)
                        return error_set(e, 0, "host bridge '%s' does not exist, is not a bridge, or is a "
                                         "berth network's", in->net->bridge);
                if (r < 0)
                        return error_set(e, r, "cannot plumb the container into network '%s'", in->net->name);
                in->veth_made = true;
                for (size_t i = 0; i < in->spec->n_attach && in->attach_net[i]; i++) {
                        const struct spec_attach *at = &in->spec->attach[i];
                        if (at->mode == NET_MACVLAN || at->mode == NET_IPVLAN) {
                                r = net_container_vlan_attach(in->spec->name, at->mode, at->network, nsfd,
                                                              (unsigned) i + 1, in->attach_net[i],
                                                              in->attach_address[i]);
                                if (r == -ENODEV)
                                        return error_set(e, 0, "the parent interface '%s' of eth%zu does not exist",
                                                         at->network, i + 1);
                                if (r < 0)
                                        return error_set(e, r, "cannot give it a %s interface on '%s' (eth%zu)",
                                                         net_mode_to_string(at->mode), at->network, i + 1);
                                continue;
                        }
                        r = net_container_attach(in->spec->name, in->net_owner, nsfd, (unsigned) i + 1,
                                                 in->attach_net[i], in->attach_address[i]);
                        if (r == -EEXIST)
                                return error_set(e, 0, "its host interface on network '%s' exists and is "
                                                 "not berth's", in->attach_net[i]->name);
                        if (r == -ENODEV && in->attach_net[i]->external)
                                return error_set(e, 0, "host bridge '%s' (eth%zu) does not exist, is not a bridge, "
                                                 "or is a berth network's", in->attach_net[i]->name, i + 1);
                        if (r < 0)
                                return error_set(e, r, "cannot plumb the container into network '%s' (eth%zu)",
                                                 in->attach_net[i]->name, i + 1);
                }
        }
        return 0;
}

static int going_setup(void *userdata, pid_t pid, struct spawn_handoff *h, struct error *e)
{
        struct runtime_internal *in = userdata;
        int r;
        if (going_cgroup(in)) {
                r = setup_cgroup(in->spec, in, e);
                if (r < 0)
                        return r;
        }
        if (in->spec->net_mode != NET_HOST) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
                _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
                if (nsfd < 0)
                        return error_set(e, -errno, "cannot open the container's network namespace");
                r = plumb_network(in, nsfd, e);
                if (r < 0)
                        return r;
        }
        /* Last, so that nothing fails after they are handed on: the child
         * moves itself through these (spawn closes them once sent). */
        if (in->place.n_join_fds > SPAWN_MAX_FDS)
                return error_set(e, -E2BIG, "cannot open the container's cgroup");
        for (size_t i = 0; i < in->place.n_join_fds; i++)
                h->fds[i] = in->place.join_fds[i];
        h->n_fds = in->place.n_join_fds;
        in->place.n_join_fds = 0;
        return 0;
}

/* A foreground run's state record lets berthctl exec, stats and health
 * find it the way they find berthd's containers, with this process as its
 * monitor. It is written (and synced) while the child sets itself up, into
 * a staging directory that nothing reads: the record may only appear at
 * its place once the workload runs, or exec could join a container that is
 * not yet confined. runtime_start() renames it into place. */
static int started_setup(void *userdata, pid_t pid, struct error *e)
{
        struct runtime_internal *in = userdata;
        if (!in->stage)
                return 0;
        struct state_record rec = { .monitor_pid = getpid(), .init_pid = pid,
                                    .started_realtime_usec = realtime_usec() };
        if (state_proc_starttime(getpid(), &rec.monitor_start) < 0 || state_proc_starttime(pid, &rec.init_start) < 0)
                return error_set(e, -ESRCH, "its init is gone");
        (void) state_boot_id(rec.boot_id);
        spec_container_hash_restart(in->spec, rec.restart_hash);
        spec_container_hash_live(in->spec, rec.live_hash);
        spec_container_hash_supervise(in->spec, rec.supervise_hash);
        if (in->address.s_addr)
                (void) inet_ntop(AF_INET, &in->address, rec.address, sizeof rec.address);
        if (mkdir(in->stage, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "cannot create %s", in->stage);
        int r = state_write(in->stage, &rec, false);
        if (r < 0)
                return error_set(e, r, "cannot write its state record");
        in->state_staged = true;
        return 0;
}

/* With idmap, once the child's user namespace has its maps: the root and
 * the /etc files, mounted here, on the privileged side, for the child to
 * attach (spawn.h); which method served the root goes into DIR/idmap. */
static int created_setup(struct runtime_internal *in, pid_t pid, struct spawn_handoff *h, struct error *e)
{
        if (!in->spec->idmap)
                return 0;
        return idmap_handoff(&in->idmap_root, in->etc, in->dir, in->spec->mounts, in->spec->n_mounts, pid, h, e);
}

/* spawn's one hook: the parent's work while the child sets itself up. */
static int spawn_hook(void *userdata, enum spawn_phase phase, pid_t pid, struct spawn_handoff *h, struct error *e)
{
        switch (phase) {
        case SPAWN_PHASE_GOING:
                return going_setup(userdata, pid, h, e);
        case SPAWN_PHASE_STARTED:
                return started_setup(userdata, pid, e);
        case SPAWN_PHASE_CREATED:
                return created_setup(userdata, pid, h, e);
        }
        return 0;
}

/* Removes a staged record that was never published. */
static void unstage(struct runtime_internal *in)
{
        if (!in || !in->stage)
                return;
        if (in->state_staged) {
                _cleanup_free_ char *p = strdup_printf("%s/state", in->stage);
                if (p)
                        (void) unlink(p);
                in->state_staged = false;
        }
        (void) rmdir(in->stage);
}

/* A network berth does not own (a host bridge, the parent of a macvlan or
 * ipvlan): the address and gateway are the definition's, nothing is made on
 * the host but the veth (on a bridge), no IPAM, no shared hosts file. */
static void setup_external_network(const struct spec_container *c, struct runtime_internal *in)
{
        in->ext_net = (struct spec_network){
                .name = c->net_mode == NET_BRIDGE ? c->network : c->parent,
                .bridge = c->net_mode == NET_BRIDGE ? c->network : NULL,
                .prefix = c->address_prefix,
                .gateway = c->gateway,
                .external = true,
        };
        in->net = &in->ext_net;
        if (!c->address_dhcp)
                in->address = c->address;
}

static int ensure_bridge(const struct spec_network *net, const char *owner, struct error *e)
{
        int r = net_bridge_ensure(net, owner);
        if (r == -EEXIST)
                return error_set(e, 0, "bridge '%s' exists and was not created by berth", net->bridge);
        if (r == -EBUSY)
                return error_set(e, 0, "bridge '%s' belongs to another berthd (another state directory)", net->bridge);
        if (r < 0)
                return error_set(e, r, "cannot create bridge '%s'", net->bridge);
        return 0;
}

/* c's address on net (want NULL: auto) from the network's IPAM file in the
 * networks directory dfd, and its line in net's hosts file. */
static int assign_address(const struct spec_set *set, const struct spec_container *c, int dfd,
                          const struct spec_network *net, const struct in_addr *want, struct in_addr *ret,
                          struct error *e)
{
        /* Static addresses of the others on this network (as eth0 or an
         * extra interface) are never handed out. */
        _cleanup_free_ struct in_addr *reserved = calloc(set->n_containers * (1 + SPEC_ATTACH_MAX) + 1,
                                                         sizeof *reserved);
        size_t nr = 0;
        if (!reserved)
                return error_set(e, -ENOMEM, "network '%s': cannot list its containers", net->name);
        for (size_t i = 0; i < set->n_containers; i++) {
                const struct spec_container *o = set->containers[i];
                if (o == c || o->net_mode != NET_BRIDGE)
                        continue;
                if (streq_ptr(o->network, net->name) && !o->address_auto)
                        reserved[nr++] = o->address;
                for (size_t k = 0; k < o->n_attach; k++)
                        if (streq(o->attach[k].network, net->name) && !o->attach[k].address_auto &&
                            !spec_attach_external(&o->attach[k]))
                                reserved[nr++] = o->attach[k].address;
        }
        int r = ipam_assign(dfd, net, c->name, want, reserved, nr, ret);
        if (r == -ENOSPC)
                return error_set(e, 0, "network '%s' has no free address left", net->name);
        if (r < 0)
                return error_set(e, r, "cannot assign an address on '%s'", net->name);

        /* A hostname that is no valid name is only the container's own. */
        r = hostsfile_set(dfd, net->name, c->name, c->hostname && name_is_valid(c->hostname) ? c->hostname : NULL,
                          ret);
        if (r < 0)
                return error_set(e, r, "cannot write the hosts file of network '%s'", net->name);
        return 0;
}

/* Bridge and address of a bridged container, and its line in the network's
 * hosts file, which becomes its /etc/hosts (etc_dir/hosts); the same (but
 * the /etc/hosts) on each of its extra networks. */
static int setup_bridge_network(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                                struct runtime_internal *in, struct error *e)
{
        const struct spec_network *net = spec_set_find_network(set, c->network);
        if (!net)
                return error_set(e, 0, "network '%s' is not declared", c->network);
        in->net = net;
        bool existed = if_nametoindex(net->bridge) != 0;
        int r = ensure_bridge(net, in->net_owner, e);
        if (r < 0)
                return r;
        in->bridge_made = !existed;

        _cleanup_free_ char *dir = state_networks_dir(state_dir);
        if (!dir)
                return error_set(e, -ENOMEM, "network '%s'", net->name);
        r = mkdir_p(dir, 0700);
        _cleanup_close_ int dfd = r < 0 ? r : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return error_set(e, r < 0 ? r : -errno, "cannot open %s", dir);
        r = assign_address(set, c, dfd, net, c->address_auto ? NULL : &c->address, &in->address, e);
        if (r < 0)
                return r;
        in->hosts_dir = strdup(dir);
        if (!in->hosts_dir)
                return error_set(e, -ENOMEM, "network '%s'", net->name);
        for (size_t i = 0; i < c->n_attach; i++) {
                const struct spec_attach *at = &c->attach[i];
                if (spec_attach_external(at)) {
                        /* A host bridge, a macvlan/ipvlan parent: the definition's
                         * address, nothing made on the host but the veth, no IPAM,
                         * no hosts line (as for such an eth0). */
                        in->attach_ext[i] = (struct spec_network){
                                .name = at->network,
                                .bridge = at->mode == NET_BRIDGE ? at->network : NULL,
                                .prefix = at->address_prefix,
                                .external = true,
                        };
                        in->attach_net[i] = &in->attach_ext[i];
                        if (!at->address_dhcp)
                                in->attach_address[i] = at->address;
                        continue;
                }
                const struct spec_network *an = spec_set_find_network(set, at->network);
                if (!an)
                        return error_set(e, 0, "network '%s' is not declared", at->network);
                existed = if_nametoindex(net_bridge_name(an)) != 0;
                r = ensure_bridge(an, in->net_owner, e);
                if (r < 0)
                        return r;
                in->attach_bridge_made[i] = !existed;
                in->attach_net[i] = an;
                r = assign_address(set, c, dfd, an, at->address_auto ? NULL : &at->address, &in->attach_address[i], e);
                if (r < 0)
                        return r;
                in->attach_hosts[i] = true;
        }
        /* On several networks: a hosts file of its own, of them all
         * (hostsfile.h), kept up to date by every change of theirs. */
        const char *nets[1 + SPEC_ATTACH_MAX];
        size_t n_nets = 0;
        nets[n_nets++] = net->name;
        for (size_t i = 0; i < c->n_attach; i++)
                if (!spec_attach_external(&c->attach[i]))
                        nets[n_nets++] = c->attach[i].network;
        if (n_nets > 1) {
                in->hosts_own = true; /* a failure's cleanup removes what it made */
                r = hostsfile_own_set(dfd, c->name, nets, n_nets);
                if (r < 0)
                        return error_set(e, r, "cannot write its hosts file %s/" HOSTSFILE_OWN_DIR "/%s", dir,
                                         c->name);
        }
        r = in->hosts_own ? hostsfile_own_link(dfd, c->name, in->etc) : hostsfile_link(dfd, net->name, in->etc);
        if (r == -EXDEV) {
                /* containers/ on another file system than networks/: a copy,
                 * whose names are those of now (documented in berthd(8)). */
                _cleanup_free_ char *fname = in->hosts_own ? strdup_printf(HOSTSFILE_OWN_DIR "/%s", c->name)
                                                           : strdup_printf("%s.hosts", net->name);
                _cleanup_free_ char *text = NULL;
                r = fname ? read_file_at(dfd, fname, HOSTSFILE_MAX, &text, NULL) : -ENOMEM;
                if (r >= 0)
                        r = runtime_write_text(in->etc, "hosts", text);
        }
        if (r < 0)
                return error_set(e, r, "cannot link the hosts file of network '%s' into %s", net->name, in->etc);
        return 0;
}

/* The container's own cgroup, berth/NAME below our base (the manager is
 * open already), with its limits and device rules, and how the child gets
 * into it. Messages without the container's name. */
static int setup_cgroup(const struct spec_container *c, struct runtime_internal *in, struct error *e)
{
        return cgroup_prepare(in->cgm, c->name, &c->limits, in->devs.rules, in->devs.n, &in->cg, &in->place, e);
}

static void cgroup_teardown(struct cgroup *cg)
{
        /* Usually empty already: the init's exit took the PID namespace
         * down, and the removal succeeds at once. A cgroup that still holds
         * processes refuses it (EBUSY): kill them, wait, remove again. */
        if (cgroup_remove(cg) == 0)
                return;
        (void) cgroup_kill_all(cg, SIGKILL);
        (void) cgroup_wait_empty(cg, 5 * SPEC_USEC_PER_SEC);
        (void) cgroup_remove(cg);
}

static int take_lock(const char *dir, int *ret)
{
        _cleanup_free_ char *p = strdup_printf("%s/lock", dir);
        if (!p)
                return -ENOMEM;
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

/* disk-quota: a project quota on the writable layer, set before the
 * overlay is mounted; without disk-quota, a limit an earlier start set is
 * lifted. */
static int setup_disk_quota(const struct spec_container *c, const char *state_dir, bool overlay, struct error *e)
{
        _cleanup_free_ char *dir = state_containers_dir(state_dir);
        _cleanup_close_ int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (dfd < 0)
                return error_set(e, dir ? -errno : -ENOMEM, "cannot open %s", dir);
        if (c->disk_quota == 0) {
                (void) quota_container_release(dfd, c->name);
                return 0;
        }
        if (!overlay)
                return error_set(e, 0,
                                 "disk-quota needs a template (with rootfs = DIR the container writes to that "
                                 "directory itself)");
        /* The kernel lets CAP_SYS_RESOURCE (in the host's user namespace)
         * write past a project's hard limit on ext4. */
        if ((c->caps_add & (1ULL << CAP_SYS_RESOURCE)) && !c->idmap)
                return error_set(e, 0,
                                 "disk-quota cannot hold a container with capability 'sys_resource' (drop it, or "
                                 "use idmap)");
        int r = quota_container_apply(dfd, c->name, c->disk_quota);
        if (r == -EOPNOTSUPP)
                return error_set(e, 0,
                                 "disk-quota needs project quotas on the file system of %s (xfs or ext4 mounted "
                                 "with prjquota)",
                                 dir);
        if (r < 0)
                return error_set(e, r, "cannot set disk-quota on %s/%s/upper", dir, c->name);
        return 0;
}

/* The range (idmap = "auto": the container's block of the pool) and what
 * the parent mounts for the child (created_setup). The container's root
 * owns the top of its writable layer; nothing else is chowned. */
static int setup_idmap(const struct spec_set *set, const struct spec_container *c, const struct runtime_opts *o,
                       const char *lower, struct runtime_internal *in, struct error *e)
{
        /* An image's several layers: each would need its own idmapped mount. */
        if (lower && strchr(lower, ':'))
                return error_set(e, 0, "idmap: template '%s' is an image of several layers, which idmap does not "
                                 "support yet (use a built or imported template)",
                                 c->template_name);
        uint32_t start;
        int r = idmap_resolve_range(set, c, o->state_dir, &start, e);
        if (r < 0)
                return r;
        in->idmap_uid = start;
        in->idmap_gid = start;
        in->idmap_count = c->idmap_count;
        if (chown(in->upper, start, start) < 0 || chown(in->work, start, start) < 0)
                return error_set(e, -errno, "cannot hand the writable layer to the mapped root");
        in->idmap_scratch = strdup_printf("%s/lower", in->dir);
        if (!in->idmap_scratch)
                return error_code(e, -ENOMEM);
        if (lower && mkdir(in->idmap_scratch, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "cannot create %s", in->idmap_scratch);
        in->idmap_root = (struct idmap_root){
                .state_dir = o->state_dir,
                .template_name = c->template_name,
                .lower = lower,
                .rootfs = lower ? NULL : c->rootfs,
                .upper = in->upper,
                .work = in->work,
                .scratch = in->idmap_scratch,
                .volatile_upper = o->ephemeral,
                .start = start,
                .count = c->idmap_count,
                .force_copy = idmap_force_copy(),
        };
        return 0;
}

const char *runtime_init_path(void)
{
        static char path[PATH_MAX + 16];
        const char *env = getenv("BERTH_INIT");
        if (env && *env)
                return env;
        if (path[0])
                return path;
        char exe[PATH_MAX];
        if (exe_dir(exe, sizeof exe) == 0) {
                snprintf(path, sizeof path, "%s/berth-init", exe);
                if (access(path, X_OK) == 0)
                        return path;
        }
        snprintf(path, sizeof path, "%s/berth-init", BERTH_SBINDIR);
        return path;
}

int runtime_init_exe(int *ret, struct error *e)
{
        const char *path = runtime_init_path();
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(e, -errno, "cannot open %s (set BERTH_INIT to where berth-init is)", path);
        int r = security_sealed_memfd(fd, "berth-init", ret);
        if (r < 0)
                return error_set(e, r, "cannot make a sealed copy of %s", path);
        return 0;
}

int runtime_init_share(const char *run_dir, char **ret, struct error *e)
{
        const char *src = runtime_init_path();
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (in < 0 || fstat(in, &st) < 0)
                return error_set(e, -errno, "cannot open %s (set BERTH_INIT to where berth-init is)", src);
        if (!S_ISREG(st.st_mode))
                return error_set(e, -EINVAL, "%s is not a regular file", src);
        _cleanup_free_ char *dir = strdup_printf("%s/init", run_dir);
        _cleanup_free_ char *file = strdup_printf("%s/init/" RUNTIME_INIT_NAME, run_dir);
        if (!dir || !file)
                return error_code(e, -ENOMEM);
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return error_set(e, r, "cannot create %s", dir);
        /* An earlier berthd's copy (it was killed): detached, not reused.
         * Its containers keep theirs (each holds a bind of the file). */
        for (int i = 0; i < 8 && umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
                ;
        char size[32];
        snprintf(size, sizeof size, "%lld", (long long) st.st_size + 65536);
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "4", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return error_set(e, -errno, "cannot create a tmpfs for %s", file);
        _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (mnt < 0)
                return error_set(e, -errno, "cannot create a tmpfs for %s", file);
        _cleanup_close_ int out = openat(mnt, RUNTIME_INIT_NAME, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0555);
        if (out < 0)
                return error_set(e, -errno, "cannot create %s", file);
        off_t done = 0;
        while (done < st.st_size) {
                ssize_t n = sendfile(out, in, NULL, (size_t) (st.st_size - done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return error_set(e, n < 0 ? -errno : -EIO, "cannot copy %s to %s", src, file);
                done += n;
        }
        if (close(TAKE_FD(out)) < 0)
                return error_set(e, -errno, "cannot write %s", file);
        /* The superblock read-only, not only a mount of it: a bind made
         * writable again (a container's remount) still writes nothing. */
        _cleanup_close_ int pick = fspick(mnt, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
        if (pick < 0 || fsconfig(pick, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
            fsconfig(pick, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
                return error_set(e, -errno, "cannot make the file system of %s read-only", file);
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                return error_set(e, -errno, "cannot make the mount of %s read-only", file);
        if (move_mount(mnt, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return error_set(e, -errno, "cannot mount the copy of berth-init on %s", dir);
        /* Nothing of it propagates anywhere (a shared /run would). */
        (void) mount(NULL, dir, NULL, MS_PRIVATE, NULL);
        struct statfs sfs;
        if (statfs(file, &sfs) < 0 || !(sfs.f_flags & ST_RDONLY)) {
                (void) umount2(dir, MNT_DETACH);
                return error_set(e, -EROFS, "%s is not on a read-only file system", file);
        }
        *ret = TAKE_PTR(file);
        return 0;
}

void runtime_init_unshare(const char *file)
{
        if (!file)
                return;
        _cleanup_free_ char *dir = strdup(file);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!slash)
                return;
        *slash = 0;
        (void) umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
        (void) rmdir(dir);
}

/* Whether c's init runs from berthd's read-only copy (checkpointable) or
 * from the sealed memfd: the memfd for a container in a user namespace
 * (it could not reach the copy's path; it cannot be restored anyway) and
 * for one with CAP_SYS_ADMIN, which could remount the copy's superblock
 * read-write and change every container's init; the seals hold against
 * that. */
static bool runtime_init_shared(const struct spec_container *c, const struct runtime_opts *o,
                                const struct runtime_internal *in)
{
        return o->init_file && c->init && !c->idmap && !(in->caps.bounding & SECURITY_CAP_BIT(CAP_SYS_ADMIN));
}

/* A start from a checkpoint (o->restore_images): everything a start
 * prepares (directory, lock, cgroup with its limits, address, /etc files,
 * confinement record) is made the same way; then, instead of spawning, a
 * new network namespace is plumbed as at start, and a child of ours mounts
 * the overlay in a mount namespace of its own, joins the cgroup and
 * becomes `criu restore`, which makes the container's namespaces and
 * processes again, its init a child of this process (--restore-sibling). */
static int restore(const struct spec_container *c, const struct runtime_opts *o, struct runtime_internal *in,
                   struct runtime_container *rc, struct error *e)
{
        int r;
        if (c->idmap)
                return error_set(e, 0, "a container with idmap cannot be restored from a checkpoint");
        if (!in->overlay_opts)
                return error_set(e, 0, "only a container over a template can be restored from a checkpoint");
        if (in->cgm && !in->cg && (r = setup_cgroup(c, in, e)) < 0)
                return r;
        _cleanup_close_ int nsfd = -1;
        if (c->net_mode != NET_HOST) {
                _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self < 0 || unshare(CLONE_NEWNET) < 0)
                        return error_set(e, -errno, "cannot create a network namespace");
                nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                int q = nsfd < 0 ? -errno : 0;
                if (setns(self, CLONE_NEWNET) < 0)
                        return error_set(e, -errno, "cannot return to the host's network namespace");
                if (q < 0)
                        return error_set(e, q, "cannot open the new network namespace");
                r = plumb_network(in, nsfd, e);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *pidfile = strdup_printf("%s/restore.pid", rc->dir);
        if (!pidfile)
                return error_code(e, -ENOMEM);
        (void) unlink(pidfile);
        pid_t child = fork();
        if (child < 0)
                return error_set(e, -errno, "cannot fork");
        if (child == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("overlay", in->merged, "overlay", MS_NODEV, in->overlay_opts) < 0) {
                        dprintf(2, "berth: restore: cannot mount the root file system: %s\n", strerror(errno));
                        _exit(125);
                }
                if (in->cg && cgroup_attach(in->cg, getpid()) < 0) {
                        dprintf(2, "berth: restore: cannot join the container's cgroup\n");
                        _exit(125);
                }
                /* The container's cgroup namespace, rooted there as at a
                 * start (spawn.c): with --manage-cgroups=ignore criu makes
                 * none, the restored tree inherits this one. */
                if (unshare(CLONE_NEWCGROUP) < 0) {
                        dprintf(2, "berth: restore: cannot create the cgroup namespace: %s\n", strerror(errno));
                        _exit(125);
                }
                struct criu_restore_params rp = { .images_dir = o->restore_images,
                                                  .root = in->merged,
                                                  .pidfile = pidfile,
                                                  .netns_fd = nsfd,
                                                  .stdio = { -1, o->stdio[1], o->stdio[2] } };
                criu_restore_exec(&rp);
        }
        int st;
        while (waitpid(child, &st, 0) < 0)
                if (errno != EINTR)
                        return error_set(e, -errno, "cannot wait for criu restore");
        int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (status == 125)
                return error_set(e, 0, "cannot prepare the restore (root file system or cgroup)");
        if (status != 0)
                return criu_restore_failed(o->restore_images, status, e);
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = open(rc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dfd < 0 ? -errno : read_file_at(dfd, "restore.pid", 64, &text, NULL);
        if (r < 0)
                return error_set(e, r, "criu restore wrote no pid to %s", pidfile);
        (void) unlink(pidfile);
        pid_t pid = (pid_t) strtol(text, NULL, 10);
        int pidfd = pid > 0 ? (int) syscall(SYS_pidfd_open, pid, 0) : -1;
        if (pidfd < 0)
                return error_set(e, -ESRCH, "the restored init (pid %d) is gone", (int) pid);
        /* ours (--restore-sibling): the monitor waits for it */
        FILE *f;
        char path[64];
        int ppid = -1;
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        if ((f = fopen(path, "re"))) {
                char line[256];
                while (fgets(line, sizeof line, f))
                        if (sscanf(line, "PPid: %d", &ppid) == 1)
                                break;
                fclose(f);
        }
        if (ppid != getpid()) {
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                close(pidfd);
                return error_set(e, -ECHILD, "the restored init (pid %d) is not ours (parent %d)", (int) pid, ppid);
        }
        rc->pid = pid;
        rc->pidfd = pidfd;
        return 0;
}

static int start(const struct spec_set *set, const struct spec_container *c, const struct runtime_opts *o,
                 struct runtime_container **ret, int *exit_code, struct error *e)
{
        /* Every cleanup variable is declared before the first goto. */
        _cleanup_free_ char *lower = NULL;
        _cleanup_close_ int init_fd = -1, store_lock = -1;
        struct runtime_internal *in = NULL;
        const char *hostname = c->hostname ? c->hostname : c->name;
        struct spawn_params p;
        const char *dirs[4];
        *exit_code = SPAWN_EXIT_SETUP;
        struct runtime_container *rc = calloc(1, sizeof *rc);
        if (!rc)
                return error_code(e, -ENOMEM);
        rc->lock_fd = rc->pidfd = rc->pty_master = -1;
        rc->pid = -1;
        rc->ephemeral = o->ephemeral;
        rc->name = strdup(c->name);
        rc->in = calloc(1, sizeof *rc->in);
        rc->dir = state_container_dir(o->state_dir, c->name);
        int r;
        if (!rc->name || !rc->in || !rc->dir) {
                r = error_code(e, -ENOMEM);
                goto fail;
        }
        in = rc->in;
        in->dir = rc->dir;
        in->place = (struct cgroup_placement) CGROUP_PLACEMENT_INIT;
        net_owner_id(o->state_dir, in->net_owner);

        /* Root file system first: the most likely operator mistake. */
        struct stat st;
        if (c->template_name) {
                r = runtime_template_root(set, c, o->state_dir, &lower, &in->image, &store_lock, e);
                if (r < 0)
                        goto fail_early;
        } else if (stat(c->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                r = error_set(e, 0, "rootfs '%s' is not a directory", c->rootfs);
                goto fail_early;
        } else if (path_is_host_root(c->rootfs)) {
                /* check refused it by name; a symlink may point there since. */
                r = error_set(e, 0, "rootfs '%s' is the host's root directory", c->rootfs);
                goto fail_early;
        }
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].type == MOUNT_BIND && stat(c->mounts[i].source, &st) < 0) {
                        r = error_set(e, -errno, "mount '%s': source '%s'", c->mounts[i].name,
                                      c->mounts[i].source);
                        goto fail_early;
                }
        if ((r = devices_prepare(c, &in->devs, e)) < 0 || (r = secrets_open(c, &in->secrets, e)) < 0)
                goto fail_early;

        r = mkdir_p(rc->dir, 0700);
        if (r < 0) {
                r = error_set(e, r, "cannot create %s", rc->dir);
                goto fail_early;
        }
        r = take_lock(rc->dir, &rc->lock_fd);
        if (r == -EBUSY) {
                r = error_set(e, 0, "already running");
                goto fail_early;
        }
        if (r < 0) {
                r = error_set(e, r, "cannot lock %s", rc->dir);
                goto fail_early;
        }
        /* What it runs on, for template ls/remove/prune, before the store
         * lock goes: from here on its directory lock says it is alive. */
        if (c->template_name) {
                r = tstore_note_use(rc->dir, c->template_name, in->image ? in->image->layers : NULL,
                                     !o->foreground);
                if (r < 0) {
                        r = error_set(e, r, "cannot write %s/" TSTORE_USE_FILE, rc->dir);
                        goto fail;
                }
        }
        if (store_lock >= 0)
                close(TAKE_FD(store_lock));
        in->merged = strdup_printf("%s/rootfs", rc->dir);
        in->upper = strdup_printf("%s/upper", rc->dir);
        in->work = strdup_printf("%s/work", rc->dir);
        in->etc = strdup_printf("%s/etc", rc->dir);
        if (!in->merged || !in->upper || !in->work || !in->etc) {
                r = error_code(e, -ENOMEM);
                goto fail;
        }
        if (o->ephemeral) {
                (void) rm_rf(in->upper);
                (void) rm_rf(in->work);
        }
        dirs[0] = in->merged;
        dirs[1] = in->upper;
        dirs[2] = in->work;
        dirs[3] = in->etc;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST) {
                        r = error_set(e, -errno, "cannot create %s", dirs[i]);
                        goto fail;
                }
        r = setup_disk_quota(c, o->state_dir, lower != NULL, e);
        if (r < 0)
                goto fail;
        if (lower) {
                /* An ephemeral run's upper layer dies with it: skip overlay's syncs. */
                in->overlay_opts = strdup_printf("lowerdir=%s,upperdir=%s,workdir=%s%s", lower, in->upper, in->work,
                                                 o->ephemeral ? ",volatile" : "");
                if (!in->overlay_opts) {
                        r = error_code(e, -ENOMEM);
                        goto fail;
                }
        }
        in->spec = c;
        if (o->foreground) {
                in->stage = strdup_printf("%s/state.staged", rc->dir);
                if (!in->stage) {
                        r = error_code(e, -ENOMEM);
                        goto fail;
                }
        }
        if (spec_container_external_net(c))
                setup_external_network(c, in);
        else if (c->net_mode == NET_BRIDGE) {
                r = setup_bridge_network(set, c, o->state_dir, in, e);
                if (r < 0)
                        goto fail;
                if (o->foreground) {
                        /* A foreground run owns a table of its own, never berthd's
                         * (also for no NAT and no port: it guards route_localnet and
                         * forwards DNS to a loopback server of the host, nat.c). */
                        in->nat_table = strdup_printf("berth_run_%s", c->name);
                        if (!in->nat_table) {
                                r = error_code(e, -ENOMEM);
                                goto fail;
                        }
                        for (char *q = in->nat_table; *q; q++)
                                if (*q == '.' || *q == '-')
                                        *q = '_';
                        struct nat_target t = { .name = c->name, .address = in->address, .publish = c->publish,
                                                .n_publish = c->n_publish, .v6 = in->net->v6 };
                        if (t.v6)
                                net_address6(in->net, in->address, &t.address6);
                        struct spec_network *nets[1] = { (struct spec_network *) in->net };
                        r = nat_apply(in->nat_table, nets, 1, &t, 1, e);
                        if (r < 0) {
                                free(in->nat_table);
                                in->nat_table = NULL;
                                (void) error_wrap(e, "cannot install NAT rules");
                                goto fail;
                        }
                }
        }
        r = runtime_write_etc(c, hostname, in->net, in->hosts_dir != NULL, in->etc);
        if (r < 0) {
                r = error_set(e, r, "cannot write /etc files");
                goto fail;
        }
        in->envp = runtime_build_env(c, hostname, o->tty, in->image ? in->image->env : NULL);
        in->argv = runtime_command(o->command, c, in->image, NULL);
        if (!in->envp || !in->argv) {
                r = error_code(e, -ENOMEM);
                goto fail;
        }

        r = security_caps_prepare(c, &in->caps);
        if (r < 0) {
                r = error_set(e, r, "cannot read the kernel's capabilities");
                goto fail;
        }
        r = runtime_seccomp_prepare(o->state_dir, c, &in->caps, &in->seccomp, e);
        if (r < 0)
                goto fail;
        /* What exec and health probes apply, whatever the file says later. */
        r = state_write_confinement(rc->dir, &in->caps, &in->seccomp);
        if (r < 0) {
                r = error_set(e, r, "cannot record its confinement");
                goto fail;
        }
        if (c->idmap) {
                r = setup_idmap(set, c, o, lower, in, e);
                if (r < 0)
                        goto fail;
        } else {
                /* What an earlier start with idmap recorded no longer holds. */
                _cleanup_free_ char *rec = strdup_printf("%s/idmap", rc->dir);
                if (rec)
                        (void) unlink(rec);
        }

        /* A child born into its cgroup (v2, CLONE_INTO_CGROUP) needs it to
         * exist first. One that joins it afterwards (v1) gets it made in
         * going_setup, next to the child's mounts. */
        r = cgroup_open_manager(&in->cgm);
        if (r < 0) {
                r = error_set(e, r, "cannot find the cgroup hierarchies");
                goto fail;
        }
        cgroup_manager_set_owner(in->cgm, in->net_owner);
        if (cgroup_manager_places_at_clone(in->cgm)) {
                r = setup_cgroup(c, in, e);
                if (r < 0)
                        goto fail;
        }

        if (o->init_exe && *o->init_exe >= 0) {
                init_fd = fcntl(*o->init_exe, F_DUPFD_CLOEXEC, 3);
                r = init_fd < 0 ? error_set(e, -errno, "cannot use the shared copy of berth-init") : 0;
        } else
                r = runtime_init_exe(&init_fd, e);
        if (r < 0)
                goto fail;

        if (o->restore_images) {
                r = restore(c, o, in, rc, e);
                if (r < 0) {
                        *exit_code = SPAWN_EXIT_SETUP;
                        goto fail;
                }
                *exit_code = 0;
                *ret = rc;
                return 0;
        }
        p = (struct spawn_params){
                .mounts = {
                        .mounts = c->mounts,
                        .n_mounts = c->n_mounts,
                        .merged = in->merged,
                        .overlay_opts = in->overlay_opts,
                        .rootfs_dir = lower ? NULL : c->rootfs,
                        .etc_dir = in->etc,
                        .userns = c->idmap,
                        .console_fd = -1,
                        .read_only_root = c->read_only_root,
                        .sysctl = c->sysctl,
                        .nodes = in->devs.nodes,
                        .n_nodes = in->devs.n,
                        .secrets = in->secrets.items,
                        .n_secrets = in->secrets.n,
                        .init_file = runtime_init_shared(c, o, in) ? o->init_file : NULL,
                        .init_target = RUNTIME_INIT_TARGET,
                },
                .argv = in->argv,
                .envp = in->envp,
                .hostname = hostname,
                .user = c->user ? c->user : (in->image ? in->image->user : NULL),
                .workdir = c->workdir ? c->workdir : (in->image ? in->image->workdir : NULL),
                .home_from_user = !c->env && !c->env_file_env,
                .init = c->init,
                .new_netns = c->net_mode != NET_HOST,
                .tty = o->tty,
                .stdio = { o->stdio[0], o->stdio[1], o->stdio[2] },
                .cgroup_fd = in->place.clone_into_fd,
                .userns = c->idmap,
                .idmap_uid = in->idmap_uid,
                .idmap_gid = in->idmap_gid,
                .idmap_count = in->idmap_count,
                .rlimits = c->rlimits,
                .n_rlimits = c->n_rlimits,
                .kill_on_parent_death = o->foreground,
                .init_exe_fd = init_fd,
                .caps = &in->caps,
                .seccomp = &in->seccomp,
                .going = going_needed(in),
                .hook = spawn_hook,
                .userdata = in,
        };
        struct spawn_result res;
        r = spawn_container(&p, &res, e);
        if (r < 0) {
                *exit_code = res.exit_code;
                goto fail;
        }
        rc->pid = res.pid;
        rc->pidfd = res.pidfd;
        rc->pty_master = res.pty_master;
        if (in->state_staged) {
                /* The workload runs: publish the record written meanwhile. */
                _cleanup_free_ char *from = strdup_printf("%s/state", in->stage);
                _cleanup_free_ char *to = strdup_printf("%s/state", rc->dir);
                if (!from || !to || rename(from, to) < 0) {
                        r = error_set(e, from && to ? -errno : -ENOMEM, "cannot write its state record");
                        goto fail;
                }
                in->state_staged = false;
                in->state_written = true;
                (void) rmdir(in->stage);
        }
        *exit_code = 0;
        *ret = rc;
        return 0;

fail:
        runtime_destroy(rc);
        return r;
fail_early:
        rc->ephemeral = false; /* nothing of ours to remove yet */
        runtime_destroy(rc);
        return r;
}

int runtime_start(const struct spec_set *set, const struct spec_container *c, const struct runtime_opts *o,
                  struct runtime_container **ret, int *exit_code, struct error *e)
{
        int r = start(set, c, o, ret, exit_code, e);
        if (r < 0)
                (void) error_wrap(e, "container '%s'", c->name);
        return r;
}

void runtime_destroy(struct runtime_container *rc)
{
        if (!rc)
                return;
        struct runtime_internal *in = rc->in;
        unstage(in);
        if (in && in->state_written) {
                _cleanup_free_ char *p = strdup_printf("%s/state", rc->dir);
                if (p)
                        (void) unlink(p);
        }
        if (in && in->cg)
                cgroup_teardown(in->cg);
        if (in && in->veth_made)
                (void) net_container_teardown(rc->name, in->net_owner);
        if (in && in->hosts_dir && in->net) {
                _cleanup_close_ int hd = open(in->hosts_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (hd >= 0) {
                        (void) hostsfile_set(hd, in->net->name, rc->name, NULL, NULL);
                        for (size_t i = 0; i < SPEC_ATTACH_MAX; i++)
                                if (in->attach_hosts[i])
                                        (void) hostsfile_set(hd, in->attach_net[i]->name, rc->name, NULL, NULL);
                        if (in->hosts_own)
                                (void) hostsfile_own_remove(hd, rc->name);
                }
        }
        if (in && in->nat_table)
                (void) nat_remove(in->nat_table, NULL);
        if (in && in->bridge_made && in->net)
                (void) net_bridge_remove(in->net->bridge, in->net_owner);
        for (size_t i = 0; in && i < SPEC_ATTACH_MAX; i++)
                if (in->attach_bridge_made[i])
                        (void) net_bridge_remove(net_bridge_name(in->attach_net[i]), in->net_owner);
        if (rc->pidfd >= 0)
                close(rc->pidfd);
        if (rc->pty_master >= 0)
                close(rc->pty_master);
        if (rc->ephemeral && rc->dir && in && in->spec && in->spec->disk_quota) {
                /* The project's limit would outlive the files. */
                _cleanup_free_ char *parent = strdup_printf("%s/..", rc->dir);
                _cleanup_close_ int pfd = parent ? open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                if (pfd >= 0)
                        (void) quota_container_release(pfd, rc->name);
        }
        if (rc->ephemeral && in && in->spec && in->spec->idmap_auto && in->idmap_root.state_dir)
                (void) idmap_range_release(in->idmap_root.state_dir, rc->name); /* a run's block dies with it */
        if (rc->ephemeral && rc->dir)
                (void) rm_rf(rc->dir);
        else if (rc->in && rc->in->merged)
                (void) rmdir(rc->in->merged);
        if (rc->lock_fd >= 0)
                close(rc->lock_fd);
        internal_free(rc->in);
        free(rc->name);
        free(rc->dir);
        free(rc);
}

int runtime_signal(struct runtime_container *rc, int sig)
{
        if (rc->pidfd >= 0) {
                if (syscall(SYS_pidfd_send_signal, rc->pidfd, sig, NULL, 0) < 0)
                        return -errno;
                return 0;
        }
        return kill(rc->pid, sig) < 0 ? -errno : 0;
}

void runtime_cleanup(const char *state_dir, const char *name)
{
        hostsfile_forget(state_dir, name);
        char owner[NET_OWNER_MAX];
        net_owner_id(state_dir, owner);
        struct cgroup_manager *m = NULL;
        struct cgroup *cg = NULL;
        if (cgroup_open_manager(&m) >= 0) {
                cgroup_manager_set_owner(m, owner);
                if (cgroup_open_existing(m, name, &cg) >= 0 && cgroup_owned(cg) == 0)
                        cgroup_teardown(cg);
        }
        cgroup_free(cg);
        cgroup_manager_free(m);
        (void) net_container_teardown(name, owner);
}

int runtime_update_limits(const struct spec_container *c, pid_t init_pid, struct error *e)
{
        struct cgroup_manager *m = NULL;
        struct cgroup *cg = NULL;
        /* Found through its init: below berthd's cgroup, or in its own scope. */
        int r = init_pid > 0 ? cgroup_open_manager_of(init_pid, c->name, &m) : -ESRCH;
        if (r >= 0)
                r = cgroup_open_existing(m, c->name, &cg);
        if (r >= 0) {
                r = cgroup_apply_limits(cg, &c->limits, e);
                if (r < 0 && !e->msg[0])
                        (void) error_code(e, r);
        } else
                (void) error_set(e, r, "cannot open its cgroup");
        cgroup_free(cg);
        cgroup_manager_free(m);
        return r;
}

int runtime_delete_data(const char *state_dir, const char *name)
{
        _cleanup_free_ char *dir = state_container_dir(state_dir, name);
        _cleanup_free_ char *cd = state_containers_dir(state_dir);
        _cleanup_free_ char *nd = state_networks_dir(state_dir);
        if (!dir || !cd || !nd)
                return -ENOMEM;
        /* Whatever runs it (a monitor, a foreground berthctl run) holds its lock. */
        _cleanup_close_ int lock = -1;
        int r = take_lock(dir, &lock);
        if (r < 0 && r != -ENOENT)
                return r;
        _cleanup_close_ int cdfd = open(cd, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cdfd >= 0)
                (void) quota_container_release(cdfd, name);
        (void) idmap_range_release(state_dir, name);
        r = rm_rf(dir);
        if (r < 0 && r != -ENOENT)
                return r;
        /* Its address on whichever network it was on (the definition, which
         * named it, is gone). */
        _cleanup_close_ int ndfd = open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *dp = ndfd >= 0 ? fdopendir(dup(ndfd)) : NULL;
        if (dp) {
                struct dirent *de;
                while ((de = readdir(dp))) {
                        size_t l = strlen(de->d_name);
                        if (l <= 5 || de->d_name[0] == '.' || !streq(de->d_name + l - 5, ".ipam"))
                                continue;
                        char net[256];
                        snprintf(net, sizeof net, "%.*s", (int) (l - 5), de->d_name);
                        (void) ipam_release(ndfd, net, name);
                }
                closedir(dp);
        }
        return 0;
}

int runtime_recorded_address(const char *state_dir, const struct spec_container *c, char buf[INET_ADDRSTRLEN])
{
        if (c->net_mode != NET_BRIDGE || !c->network)
                return -ENOENT;
        return runtime_recorded_address_on(state_dir, c->network, c->name, buf);
}

int runtime_recorded_address_on(const char *state_dir, const char *network, const char *name,
                                char buf[INET_ADDRSTRLEN])
{
        _cleanup_free_ char *nd = state_networks_dir(state_dir);
        _cleanup_free_ char *file = strdup_printf("%s.ipam", network);
        if (!nd || !file)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, file, IPAM_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        struct ipam_table t = { 0 };
        r = ipam_table_parse(text, &t);
        for (size_t i = 0; r >= 0 && i < t.n; i++)
                if (streq(t.entries[i].name, name)) {
                        inet_ntop(AF_INET, &t.entries[i].address, buf, INET_ADDRSTRLEN);
                        ipam_table_done(&t);
                        return 0;
                }
        ipam_table_done(&t);
        return r < 0 ? r : -ENOENT;
}

const char *runtime_cgroup_path(const struct runtime_container *rc)
{
        return rc->in && rc->in->cg ? cgroup_path(rc->in->cg) : NULL;
}

struct in_addr runtime_address(const struct runtime_container *rc)
{
        struct in_addr none = { 0 };
        return rc->in ? rc->in->address : none;
}
