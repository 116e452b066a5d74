/* The control methods (lib/control.h): ls/inspect, start/stop/restart/kill,
 * plan/reload, destroy, events and wait. Each validates its parameters and
 * answers with an error naming what is wrong; none blocks the loop. */

#include "settings.h"
#include "supervise_internal.h"
#include "idmap.h"
#include "jsontext.h"
#include "runtime_files.h"

/* ---- control methods ---------------------------------------------------------------------------- */

static json_object *strv_json(char *const *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static json_object *str_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static json_object *caps_json(uint64_t caps)
{
        json_object *a = json_object_new_array();
        for (int i = 0; i < 64; i++)
                if (caps & (UINT64_C(1) << i)) {
                        char buf[32];
                        json_object_array_add(a, json_object_new_string(capability_to_string(i, buf, sizeof buf)));
                }
        return a;
}


/* When c's template is an image: the image, and each value it gives as a
 * default, with where the value in force comes from ("image",
 * "definition", "default"). NULL when the template is no (imported) image. */
static json_object *image_json(const char *state_dir, const struct spec_container *c)
{
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        if (!c->template_name || image_read(state_dir, c->template_name, &img) < 0)
                return NULL;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(img->name));
        json_object_object_add(o, "source", json_object_new_string(img->source));
        json_object_object_add(o, "layers", strv_json(img->layers));
        json_object_object_add(o, "exposed_ports", strv_json(img->exposed_ports));
        const char *src = NULL;
        _cleanup_strv_free_ char **cmd = runtime_command(NULL, c, img, &src);
        json_object_object_add(o, "command", strv_json(cmd));
        json_object_object_add(o, "command_source", json_object_new_string(src));
        json_object_object_add(o, "env", strv_json(img->env));
        json_object *env_src = json_object_new_object();
        for (size_t i = 0; img->env && img->env[i]; i++) {
                size_t k = strcspn(img->env[i], "=");
                _cleanup_free_ char *name = strndup(img->env[i], k);
                bool own = false;
                for (size_t j = 0; c->env && c->env[j]; j++)
                        own |= strncmp(c->env[j], img->env[i], k + 1) == 0;
                if (name)
                        json_object_object_add(env_src, name, json_object_new_string(own ? "definition" : "image"));
        }
        json_object_object_add(o, "env_source", env_src);
        const char *wd = c->workdir ? c->workdir : img->workdir ? img->workdir : "/";
        json_object_object_add(o, "workdir", json_object_new_string(wd));
        json_object_object_add(o, "workdir_source", json_object_new_string(c->workdir  ? "definition"
                                                                           : img->workdir ? "image"
                                                                                          : "default"));
        const char *user = c->user ? c->user : img->user ? img->user : "0";
        json_object_object_add(o, "user", json_object_new_string(user));
        json_object_object_add(o, "user_source", json_object_new_string(c->user  ? "definition"
                                                                        : img->user ? "image"
                                                                                    : "default"));
        int sig = runtime_stop_signal(state_dir, c, &src);
        json_object_object_add(o, "stop_signal", json_object_new_string(signal_to_string(sig)));
        json_object_object_add(o, "stop_signal_source", json_object_new_string(src));
        /* Healthcheck: the image's as a health block unless the definition has one. */
        struct spec_health ih;
        json_object *h = NULL;
        if (runtime_image_health(state_dir, c, &ih) > 0) {
                h = json_object_new_object();
                json_object_object_add(h, "command", strv_json(ih.command));
                json_object_object_add(h, "interval_usec", json_object_new_uint64(ih.interval));
                json_object_object_add(h, "timeout_usec", json_object_new_uint64(ih.timeout));
                json_object_object_add(h, "start_period_usec", json_object_new_uint64(ih.start_period));
                json_object_object_add(h, "retries", json_object_new_int64(ih.retries));
                json_object_object_add(h, "on_failure", json_object_new_string(health_action_to_string(ih.on_failure)));
                strv_free(ih.command);
        }
        json_object_object_add(o, "health", h);
        json_object_object_add(o, "health_source", json_object_new_string(c->health.enabled ? "definition"
                                                                          : h                ? "image"
                                                                                             : "none"));
        json_object_object_add(o, "healthcheck_test", img->health_test ? strv_json(img->health_test) : NULL);
        json_object_object_add(o, "devices_dropped", json_object_new_int64(img->devices_dropped));
        json_object_object_add(o, "setuid_cleared", json_object_new_int64(img->setuid_cleared));
        json_object_object_add(o, "dropped", strv_json(img->dropped));
        return o;
}

/* The definition in force, every default filled in (berthctl inspect):
 * durations in microseconds, sizes in bytes, 0 for "none"/"unlimited" as
 * in berth.conf(5). */
static json_object *definition_json(const struct spec_container *c)
{
        json_object *d = json_object_new_object();
        json_object_object_add(d, "template", str_or_null(c->template_name));
        json_object_object_add(d, "rootfs", str_or_null(c->rootfs));
        json_object_object_add(d, "command", strv_json(c->command));
        json_object_object_add(d, "env", strv_json(c->env));
        json_object_object_add(d, "workdir", str_or_null(c->workdir));
        json_object_object_add(d, "user", str_or_null(c->user));
        json_object_object_add(d, "hostname", str_or_null(c->hostname ? c->hostname : c->name));
        json_object_object_add(d, "init", json_object_new_boolean(c->init));
        json_object_object_add(d, "autostart", json_object_new_boolean(c->autostart));
        json_object_object_add(d, "start_order", json_object_new_int(c->start_order));
        json_object_object_add(d, "start_delay_usec", json_object_new_uint64(c->start_delay));
        json_object_object_add(d, "start_timeout_usec", json_object_new_uint64(c->start_timeout));
        json_object_object_add(d, "after", strv_json(c->after));
        json_object_object_add(d, "requires", strv_json(c->requires));
        json_object_object_add(d, "restart", json_object_new_string(restart_policy_to_string(c->restart)));
        json_object_object_add(d, "restart_delay_usec", json_object_new_uint64(c->restart_delay));
        json_object_object_add(d, "restart_max_delay_usec", json_object_new_uint64(c->restart_max_delay));
        json_object_object_add(d, "restart_limit", json_object_new_int64(c->restart_limit));
        json_object_object_add(d, "restart_window_usec", json_object_new_uint64(c->restart_window));
        json_object_object_add(d, "stop_signal", json_object_new_string(signal_to_string(c->stop_signal)));
        json_object_object_add(d, "stop_timeout_usec", json_object_new_uint64(c->stop_timeout));
        json_object_object_add(d, "network_mode", json_object_new_string(net_mode_to_string(c->net_mode)));
        json_object_object_add(d, "network", str_or_null(c->network));
        char addr[INET_ADDRSTRLEN] = "auto";
        if (c->net_mode == NET_BRIDGE && !c->address_auto)
                (void) inet_ntop(AF_INET, &c->address, addr, sizeof addr);
        json_object_object_add(d, "address", c->net_mode == NET_BRIDGE ? json_object_new_string(addr) : NULL);
        json_object *pub = json_object_new_array();
        for (size_t i = 0; i < c->n_publish; i++) {
                const struct publish *p = &c->publish[i];
                char host[INET6_ADDRSTRLEN];
                json_object *o = json_object_new_object();
                (void) publish_host_text(p, host, sizeof host);
                json_object_object_add(o, "host_address", json_object_new_string(host[0] ? host : "0.0.0.0"));
                json_object_object_add(o, "host_port", json_object_new_int(p->host_port));
                json_object_object_add(o, "container_port", json_object_new_int(p->container_port));
                json_object_object_add(o, "protocol", json_object_new_string(p->proto == PROTO_UDP ? "udp" : "tcp"));
                json_object_array_add(pub, o);
        }
        json_object_object_add(d, "publish", pub);
        json_object *att = json_object_new_array();
        for (size_t i = 0; i < c->n_attach; i++) {
                const struct spec_attach *at = &c->attach[i];
                char aa[INET_ADDRSTRLEN + 4] = "auto";
                if (at->address_dhcp)
                        snprintf(aa, sizeof aa, "dhcp");
                else if (!at->address_auto) {
                        (void) inet_ntop(AF_INET, &at->address, aa, INET_ADDRSTRLEN);
                        if (at->address_prefix)
                                snprintf(aa + strlen(aa), sizeof aa - strlen(aa), "/%u", at->address_prefix);
                }
                json_object *o = json_object_new_object();
                json_object_object_add(o, "network", json_object_new_string(at->network));
                json_object_object_add(o, "mode", json_object_new_string(net_mode_to_string(at->mode)));
                json_object_object_add(o, "address", json_object_new_string(aa));
                json_object_array_add(att, o);
        }
        json_object_object_add(d, "networks", att);
        json_object_object_add(d, "dns", strv_json(c->dns));
        json_object *l = json_object_new_object();
        json_object_object_add(l, "memory", json_object_new_uint64(c->limits.memory));
        json_object_object_add(l, "memory_swap", json_object_new_int64(c->limits.memory_swap));
        json_object_object_add(l, "cpus_milli", json_object_new_int64(c->limits.cpus_milli));
        json_object_object_add(l, "cpu_weight", json_object_new_int64(c->limits.cpu_weight));
        json_object_object_add(l, "cpuset", str_or_null(c->limits.cpuset));
        json_object_object_add(l, "pids", json_object_new_int64(c->limits.pids));
        json_object_object_add(l, "io_weight", json_object_new_int64(c->limits.io_weight));
        json_object_object_add(d, "limits", l);
        if (c->limits.io_device) {
                json_object *io = json_object_new_object();
                json_object_object_add(io, "device", json_object_new_string(c->limits.io_device));
                json_object_object_add(io, "rbps", json_object_new_uint64(c->limits.io_rbps));
                json_object_object_add(io, "wbps", json_object_new_uint64(c->limits.io_wbps));
                json_object_object_add(io, "riops", json_object_new_int64(c->limits.io_riops));
                json_object_object_add(io, "wiops", json_object_new_int64(c->limits.io_wiops));
                json_object_object_add(d, "io_max", io);
        } else
                json_object_object_add(d, "io_max", NULL);
        json_object_object_add(d, "read_only_root", json_object_new_boolean(c->read_only_root));
        json_object_object_add(d, "console", json_object_new_boolean(c->console));
        json_object_object_add(d, "stdin", json_object_new_boolean(c->stdin_open));
        json_object_object_add(d, "sysctl", strv_json(c->sysctl));
        json_object *rl = json_object_new_object();
        for (size_t i = 0; i < c->n_rlimits; i++) {
                char v[64], a[24], b[24];
                const struct spec_rlimit *x = &c->rlimits[i];
                snprintf(a, sizeof a, "%" PRIu64, x->soft);
                snprintf(b, sizeof b, "%" PRIu64, x->hard);
                snprintf(v, sizeof v, "%s:%s", x->soft == SPEC_RLIM_INFINITY ? "unlimited" : a,
                         x->hard == SPEC_RLIM_INFINITY ? "unlimited" : b);
                json_object_object_add(rl, settings_rlimit_to_name(x->resource), json_object_new_string(v));
        }
        json_object_object_add(d, "rlimits", rl);
        json_object_object_add(d, "env_file", str_or_null(c->env_file));
        json_object *mounts = json_object_new_array();
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct spec_mount *mt = &c->mounts[i];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "type", json_object_new_string(mt->type == MOUNT_TMPFS ? "tmpfs" : "bind"));
                json_object_object_add(o, "source", str_or_null(mt->source));
                json_object_object_add(o, "target", str_or_null(mt->target));
                json_object_object_add(o, "read_only", json_object_new_boolean(mt->read_only));
                json_object_object_add(o, "size", json_object_new_uint64(mt->size));
                json_object_array_add(mounts, o);
        }
        json_object_object_add(d, "mounts", mounts);
        json_object *devs = json_object_new_array();
        for (size_t i = 0; i < c->n_devices; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "device", str_or_null(c->devices[i].name));
                json_object_object_add(o, "path", str_or_null(c->devices[i].path));
                json_object_object_add(o, "access", str_or_null(c->devices[i].access));
                json_object_array_add(devs, o);
        }
        json_object_object_add(d, "devices", devs);
        json_object_object_add(d, "allow_host_disks", json_object_new_boolean(c->allow_host_disks));
        json_object *secrets = json_object_new_array(); /* where from and to, never the content */
        for (size_t i = 0; i < c->n_secrets; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", str_or_null(c->secrets[i].name));
                json_object_object_add(o, "source", str_or_null(c->secrets[i].source));
                json_object_object_add(o, "target", str_or_null(c->secrets[i].target));
                json_object_array_add(secrets, o);
        }
        json_object_object_add(d, "secrets", secrets);
        json_object *hooks = json_object_new_object();
        for (int i = 0; i < _HOOK_KIND_MAX; i++) {
                if (!c->hooks[i].command)
                        continue;
                json_object *o = json_object_new_object();
                json_object_object_add(o, "command", strv_json(c->hooks[i].command));
                json_object_object_add(o, "timeout_usec", json_object_new_uint64(c->hooks[i].timeout));
                json_object_object_add(hooks, hook_kind_to_string(i), o);
        }
        json_object_object_add(d, "hooks", hooks);
        json_object_object_add(d, "capabilities_add", caps_json(c->caps_add));
        json_object_object_add(d, "capabilities_drop", caps_json(c->caps_drop));
        json_object_object_add(d, "seccomp", json_object_new_string(seccomp_mode_to_string(c->seccomp)));
        json_object_object_add(d, "seccomp_profile", str_or_null(c->seccomp_profile));
        json_object_object_add(d, "idmap", json_object_new_boolean(c->idmap));
        json_object_object_add(d, "idmap_auto", json_object_new_boolean(c->idmap_auto));
        json_object_object_add(d, "idmap_default", json_object_new_boolean(c->idmap_default));
        if (c->idmap && !c->idmap_auto) {
                json_object_object_add(d, "idmap_host_uid", json_object_new_int64(c->idmap_host_uid));
                json_object_object_add(d, "idmap_host_gid", json_object_new_int64(c->idmap_host_gid));
                json_object_object_add(d, "idmap_count", json_object_new_int64(c->idmap_count));
        }
        json_object *h = NULL;
        if (c->health.enabled) {
                const struct spec_health *hc = &c->health;
                h = json_object_new_object();
                json_object_object_add(h, "command", hc->command ? strv_json(hc->command) : NULL);
                json_object_object_add(h, "tcp_port", json_object_new_int(hc->tcp_port));
                json_object_object_add(h, "http_path", str_or_null(hc->http_path));
                json_object_object_add(h, "http_status", json_object_new_int(hc->http_status));
                json_object_object_add(h, "interval_usec", json_object_new_uint64(hc->interval));
                json_object_object_add(h, "timeout_usec", json_object_new_uint64(hc->timeout));
                json_object_object_add(h, "start_period_usec", json_object_new_uint64(hc->start_period));
                json_object_object_add(h, "retries", json_object_new_int64(hc->retries));
                json_object_object_add(h, "on_failure", json_object_new_string(health_action_to_string(hc->on_failure)));
        }
        json_object_object_add(d, "health", h);
        json_object_object_add(d, "disk_quota", json_object_new_uint64(c->disk_quota));
        json_object_object_add(d, "log_max_size", json_object_new_uint64(c->log_max_size));
        json_object_object_add(d, "log_max_files", json_object_new_int64(c->log_max_files));
        static const char *const drivers[] = { "default", "file", "journald" };
        json_object_object_add(d, "log_driver", json_object_new_string(drivers[c->log_driver]));
        return d;
}

/* The container's id and where its output goes: the driver its current
 * (or last) start used, else the one a start would use; the lines its
 * monitor dropped (DIR/log-dropped, lib/monitor.h). */
static json_object *log_json(struct manager *m, struct unit *u, const char *dir)
{
        json_object *o = json_object_new_object();
        char id[33];
        bool started = false;
        uint64_t dropped = 0;
        if (dir) {
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                _cleanup_free_ char *text = NULL;
                started = dfd >= 0 && faccessat(dfd, "log-driver", F_OK, 0) == 0;
                if (dfd >= 0 && read_file_at(dfd, "log-dropped", 64, &text, NULL) >= 0 &&
                    strncmp(text, "lines=", 6) == 0)
                        dropped = strtoull(text + 6, NULL, 10);
        }
        bool journald = started ? state_log_journald(dir)
                                : u->spec && (u->spec->log_driver == LOG_DRIVER_JOURNALD ||
                                              (u->spec->log_driver == LOG_DRIVER_DEFAULT && m->o.log_journald));
        json_object_object_add(o, "driver", json_object_new_string(journald ? "journald" : "file"));
        json_object_object_add(o, "id", dir && state_container_id(dir, false, id) == 0 ? json_object_new_string(id)
                                                                                       : NULL);
        json_object_object_add(o, "dropped_lines", json_object_new_uint64(dropped));
        return o;
}

/* The cgroup directory of a running container, or NULL. */
static json_object *cgroup_json(struct unit *u)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *cm = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        if (u->init_pid <= 0 || (u->state != U_RUNNING && u->state != U_STOPPING) ||
            cgroup_open_manager_of(u->init_pid, u->name, &cm) < 0 || cgroup_open_existing(cm, u->name, &cg) < 0)
                return NULL;
        return json_object_new_string(cgroup_path(cg));
}

/* The host ids a container in a user namespace runs as, and how its root
 * was presented to them (idmap.h), as its last start recorded; before any
 * start, the block of the pool it holds (auto) or its definition's. null
 * without idmap. */
static json_object *idmap_json(struct manager *m, struct unit *u, const char *dir)
{
        uint32_t start = 0, count = 0;
        char method[32] = "";
        bool have = dir && idmap_record_read(dir, &start, &count, method, sizeof method) >= 0;
        if (!have && !(u->spec && u->spec->idmap))
                return NULL;
        if (!have && u->spec->idmap_auto) {
                count = IDMAP_AUTO_COUNT;
                if (idmap_range_lookup(m->o.state_dir, u->name, &start) < 0)
                        count = 0;
        } else if (!have) {
                start = u->spec->idmap_host_uid;
                count = u->spec->idmap_count;
        }
        json_object *o = json_object_new_object();
        char range[32];
        snprintf(range, sizeof range, "%u:%u", start, count);
        json_object_object_add(o, "range", count ? json_object_new_string(range) : NULL);
        json_object_object_add(o, "host_uid", count ? json_object_new_int64(start) : NULL);
        json_object_object_add(o, "count", json_object_new_int64(count));
        json_object_object_add(o, "method", method[0] ? json_object_new_string(method) : NULL);
        json_object_object_add(o, "auto", json_object_new_boolean(u->spec && u->spec->idmap_auto));
        /* from berthd --default-idmap, not the definition */
        json_object_object_add(o, "default", json_object_new_boolean(u->spec && u->spec->idmap_default));
        return o;
}

static json_object *interface_json(const char *ifname, const char *network, const char *address,
                                   const char *host_veth)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "interface", json_object_new_string(ifname));
        json_object_object_add(o, "network", json_object_new_string(network));
        json_object_object_add(o, "address", json_object_new_string(address));
        json_object_object_add(o, "host_veth", host_veth && host_veth[0] ? json_object_new_string(host_veth) : NULL);
        return o;
}

/* A bridged container's interfaces: eth0 on its network, eth1... on its
 * extra ones (network NAME { }), each with its address and host veth (while
 * it runs). */
static json_object *interfaces_json(struct manager *m, struct unit *u)
{
        json_object *a = json_object_new_array();
        const struct spec_container *c = u->spec;
        if (!c || c->net_mode != NET_BRIDGE)
                return a;
        bool running = u->state == U_RUNNING || u->state == U_STOPPING;
        char veth[IFNAMSIZ] = "", addr[INET_ADDRSTRLEN] = "";
        if (running && net_container_veth(u->name, m->net_owner, veth) < 0)
                veth[0] = 0;
        json_object_array_add(a, interface_json("eth0", c->network, u->address, veth));
        for (size_t i = 0; i < c->n_attach; i++) {
                char ifname[32];
                snprintf(ifname, sizeof ifname, "eth%u", (unsigned) (i + 1));
                const struct spec_attach *at = &c->attach[i];
                veth[0] = addr[0] = 0;
                if (running && at->mode == NET_BRIDGE &&
                    net_container_attach_veth(u->name, m->net_owner, at->network, veth) < 0)
                        veth[0] = 0;
                if (spec_attach_external(at)) {
                        /* The definition's: no IPAM on a network berth does not own. */
                        if (running && at->address_dhcp)
                                snprintf(addr, sizeof addr, "dhcp");
                        else if (running)
                                (void) inet_ntop(AF_INET, &at->address, addr, sizeof addr);
                } else if (running &&
                           runtime_recorded_address_on(m->o.state_dir, at->network, u->name, addr) < 0)
                        addr[0] = 0;
                json_object_array_add(a, interface_json(ifname, c->attach[i].network, addr, veth));
        }
        return a;
}

/* What ls shows of a unit, and inspect's first members: one object,
 * written as text (issue 22: an ls of 1,000 containers built 1,000 json-c
 * objects of 13 members, only to print them). */
static void unit_brief_text(struct manager *m, struct unit *u, struct jbuf *b)
{
        jbuf_lit(b, "{");
        jbuf_key(b, true, "name");
        jbuf_str(b, u->name);
        const char *state = unit_shown_state(u);
        jbuf_key(b, false, "state");
        jbuf_str(b, state);
        if (streq(state, "waiting")) {
                jbuf_key(b, false, "waiting_for");
                jbuf_str(b, u->waiting_for);
        }
        jbuf_key(b, false, "orphaned");
        jbuf_bool(b, u->orphaned);
        jbuf_key(b, false, "health");
        jbuf_str(b, u->spec && unit_health(u)->enabled && u->state == U_RUNNING ? health_status_to_string(u->health.status)
                                                                                 : "-");
        jbuf_key(b, false, "pid");
        jbuf_int(b, u->state == U_RUNNING || u->state == U_STOPPING ? u->init_pid : 0);
        jbuf_key(b, false, "address");
        jbuf_str(b, u->address);
        /* A dual-stack network's IPv6 address follows from the IPv4 one. */
        const struct spec_network *n6 = u->spec && u->spec->net_mode == NET_BRIDGE && u->address[0]
                                                ? spec_set_find_network(&m->set, u->spec->network)
                                                : NULL;
        struct in_addr a4;
        char a6[INET6_ADDRSTRLEN] = "";
        if (n6 && n6->v6 && inet_pton(AF_INET, u->address, &a4) == 1) {
                struct in6_addr x;
                net_address6(n6, a4, &x);
                inet_ntop(AF_INET6, &x, a6, sizeof a6);
        }
        jbuf_key(b, false, "address6");
        jbuf_str(b, a6);
        jbuf_key(b, false, "restarts");
        jbuf_int(b, u->restarts);
        uint64_t up = u->state == U_RUNNING && u->started_realtime ? (now_realtime() - u->started_realtime) / 1000000ULL : 0;
        jbuf_key(b, false, "uptime_sec");
        jbuf_uint(b, up);
        jbuf_key(b, false, "last_status");
        jbuf_int(b, u->last_status);
        jbuf_key(b, false, "error");
        jbuf_str(b, u->last_error);
        jbuf_key(b, false, "declared");
        jbuf_bool(b, u->spec && !u->owned_spec);
        jbuf_lit(b, "}");
}

/* inspect: the brief members (parsed back from their text, so that ls and
 * inspect cannot drift apart), then the rest. */
static json_object *unit_json(struct manager *m, struct unit *u)
{
        struct jbuf b = { 0 };
        unit_brief_text(m, u, &b);
        json_object *o = b.oom ? NULL : json_tokener_parse(b.p);
        jbuf_done(&b);
        if (!o)
                o = json_object_new_object();
        _cleanup_free_ char *dir = unit_dir(m, u->name);
        json_object_object_add(o, "dir", json_object_new_string(dir ? dir : ""));
        json_object_object_add(o, "idmap", idmap_json(m, u, dir));
        json_object_object_add(o, "log", log_json(m, u, dir));
        json_object_object_add(o, "init_start", json_object_new_uint64(u->init_start));
        json_object_object_add(o, "monitor_pid", json_object_new_int(u->monitor_pid));
        json_object_object_add(o, "operator_stopped", json_object_new_boolean(u->operator_stopped));
        json_object_object_add(o, "restart_hash", json_object_new_string(u->rh));
        json_object_object_add(o, "live_hash", json_object_new_string(u->lh));
        if (u->spec) {
                const struct spec_container *c = u->spec;
                json_object_object_add(o, "file", json_object_new_string(c->file));
                json_object_object_add(o, "line", json_object_new_int(c->line));
                json_object_object_add(o, "restart_policy", json_object_new_string(restart_policy_to_string(c->restart)));
                json_object_object_add(o, "autostart", json_object_new_boolean(c->autostart));
                json_object_object_add(o, "network_mode", json_object_new_string(net_mode_to_string(c->net_mode)));
                json_object *cmd = json_object_new_array();
                for (size_t i = 0; c->command && c->command[i]; i++)
                        json_object_array_add(cmd, json_object_new_string(c->command[i]));
                json_object_object_add(o, "command", cmd);
                json_object_object_add(o, "definition", definition_json(c));
                json_object *img = image_json(m->o.state_dir, c);
                if (img)
                        json_object_object_add(o, "image", img);
                json_object *tb = c->template_name ? manager_template_json(m, c->template_name) : NULL;
                if (tb)
                        json_object_object_add(o, "template_build", tb);
        }
        json_object_object_add(o, "interfaces", interfaces_json(m, u));
        json_object_object_add(o, "cgroup", cgroup_json(u));
        json_object *probes = json_object_new_array();
        for (uint32_t i = 0; i < HEALTH_LAST_N; i++) {
                const struct health_result *r = health_state_result(&u->health, i);
                if (!r)
                        break;
                json_object *pr = json_object_new_object();
                json_object_object_add(pr, "time_usec", json_object_new_uint64(r->started_realtime));
                json_object_object_add(pr, "duration_usec", json_object_new_uint64(r->duration));
                json_object_object_add(pr, "ok", json_object_new_boolean(r->ok));
                json_object_object_add(pr, "exit_status", json_object_new_int(r->exit_status));
                json_object_object_add(pr, "output", json_object_new_string(r->output));
                json_object_array_add(probes, pr);
        }
        json_object_object_add(o, "health_probes", probes);
        json_object *ev = json_object_new_array();
        for (size_t i = 0; i < m->n_events; i++) {
                const struct event_rec *e = &m->events[(m->events_head + i) % EVENTS_KEPT];
                if (e->name && streq(e->name, u->name))
                        json_object_array_add(ev, event_json(e));
        }
        json_object_object_add(o, "events", ev);
        return o;
}

static const char *param_string(json_object *params, const char *key)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static void reply_no_such(struct control_conn *c, const char *name)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name ? name : ""));
        (void) control_reply_error(c, "io.berth.NoSuchContainer", p);
}

static void reply_invalid(struct control_conn *c, const char *why)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, "org.varlink.service.InvalidParameter", p);
}

static void reply_refused(struct control_conn *c, const char *error, const char *why)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, error, p);
}

/* berthctl destroy NAME: deletes the data of an orphan, and only of one
 * that no definition names and that does not run. */
static void method_destroy(struct manager *m, struct control_conn *c, json_object *params)
{
        const char *name = param_string(params, "name");
        struct unit *u = name ? unit_find(m, name) : NULL;
        char why[700];
        if (!u) {
                reply_no_such(c, name);
                return;
        }
        if (u->spec && !u->owned_spec) {
                snprintf(why, sizeof why, "container '%s' is declared in %s:%d: remove its definition and reload first",
                         u->name, u->spec->file ? u->spec->file : "?", u->spec->line);
                reply_refused(c, "io.berth.ContainerDeclared", why);
                return;
        }
        /* A definition back in the directory but not reloaded yet counts:
         * the operator restored it to keep the data. */
        struct spec_set files = { 0 };
        struct diag d = { 0 };
        int r = manager_load_conf(m, &files, &d);
        const struct spec_container *f = r >= 0 ? spec_set_find_container(&files, u->name) : NULL;
        if (r < 0)
                snprintf(why, sizeof why, "the definitions in %s cannot be read or are invalid: fix them first",
                         m->o.conf_dir);
        else if (f)
                snprintf(why, sizeof why, "container '%s' is declared in %s:%d (not reloaded yet): remove its "
                         "definition first", u->name, f->file ? f->file : "?", f->line);
        spec_set_done(&files);
        diag_done(&d);
        if (r < 0 || f) {
                reply_refused(c, "io.berth.ContainerDeclared", why);
                return;
        }
        if (u->state == U_RUNNING || u->state == U_STARTING || u->state == U_STOPPING || u->monitor_pid ||
            u->layer_pid) {
                snprintf(why, sizeof why, "container '%s' is %s: destroy it once it has stopped", u->name,
                         u->layer_pid ? "being snapshotted or restored" : unit_state_names[u->state]);
                reply_refused(c, "io.berth.ContainerRunning", why);
                return;
        }
        r = runtime_delete_data(m->o.state_dir, u->name);
        if (r == -EBUSY) {
                snprintf(why, sizeof why, "container '%s' is in use (a process holds its lock): not deleted", u->name);
                reply_refused(c, "io.berth.ContainerRunning", why);
                return;
        }
        if (r < 0) {
                snprintf(why, sizeof why, "cannot delete the data of container '%s': %s", u->name, strerror(-r));
                reply_refused(c, "io.berth.DestroyFailed", why);
                return;
        }
        emit(m, u->name, "destroyed", "its data is deleted");
        unit_forget(m, u);
        (void) control_reply(c, NULL, false);
}

/* Names from {"names": [...]} (or {"name": "x"}); all must exist. */
static bool collect_units(struct manager *m, struct control_conn *c, json_object *params, struct unit **out, size_t max,
                          size_t *n)
{
        json_object *arr;
        *n = 0;
        const char *one = param_string(params, "name");
        if (one) {
                out[(*n)++] = unit_find(m, one);
                if (!out[0]) {
                        reply_no_such(c, one);
                        return false;
                }
                return true;
        }
        if (!params || !json_object_object_get_ex(params, "names", &arr) || !json_object_is_type(arr, json_type_array) ||
            json_object_array_length(arr) == 0) {
                reply_invalid(c, "expected \"names\": [\"NAME\", ...]");
                return false;
        }
        for (size_t i = 0; i < json_object_array_length(arr) && *n < max; i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(arr, i));
                struct unit *u = name ? unit_find(m, name) : NULL;
                if (!u) {
                        reply_no_such(c, name);
                        return false;
                }
                out[(*n)++] = u;
        }
        return true;
}

static void method_plan(struct manager *m, struct control_conn *c, bool apply, json_object *params)
{
        struct spec_set next = { 0 };
        struct plan p = { 0 };
        json_object *errs = NULL;
        int r = make_plan(m, &next, &p, &errs);
        if (r == -EINVAL) {
                /* The reply takes errs with it: count them first. */
                size_t n = json_object_array_length(errs);
                json_object *ep = json_object_new_object();
                json_object_object_add(ep, "errors", errs);
                (void) control_reply_error(c, "io.berth.InvalidDefinitions", ep);
                if (apply) {
                        m->definition_errors = n;
                        (void) sd_notifyf(false, "STATUS=reload refused: %zu errors in %s", n, m->o.conf_dir);
                        emit(m, NULL, "reload-refused", "%zu errors", n);
                }
                return;
        }
        if (r < 0) {
                (void) control_reply_error(c, "io.berth.InternalError", NULL);
                return;
        }
        char why[1024];
        bool force_needed = reload_needs_force(m, &p, why, sizeof why);
        json_object *fv;
        bool force = params && json_object_object_get_ex(params, "force", &fv) && json_object_get_boolean(fv);
        if (apply && force_needed && !force) {
                reply_refused(c, "io.berth.ReloadRefused", why);
                emit(m, NULL, "reload-refused", "%s", why);
                plan_done(&p);
                spec_set_done(&next);
                return;
        }
        json_object *out = plan_to_json(&p);
        if (out)
                json_object_object_add(out, "templates", manager_templates_plan(m, &next));
        if (out && force_needed && !apply)
                json_object_object_add(out, "force_needed", json_object_new_string(why));
        if (apply) {
                char buf[64];
                snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) now_mono(m));
                (void) sd_notify(false, buf);
                uint64_t seq = m->events_seq;
                json_object *hold;
                if (params && json_object_object_get_ex(params, "hold", &hold) &&
                    json_object_is_type(hold, json_type_array))
                        m->reload_hold = hold;
                apply_plan(m, &next, &p);
                m->reload_hold = NULL;
                m->definition_errors = 0;
                save_last_good(m);
                emit(m, NULL, "reloaded", "%zu changes", plan_count_changes(&p));
                (void) sd_notify(false, "READY=1");
                json_object *w;
                bool wait = params && json_object_object_get_ex(params, "wait", &w) && json_object_get_boolean(w);
                if (wait && manager_busy(m)) {
                        /* The plan now; once every start and stop has finished,
                         * {"failed": [...]}: what did not start or update. */
                        (void) control_reply(c, out, true);
                        control_conn_set_tag(c, TAG_RELOAD, (void *) (uintptr_t) seq);
                        plan_done(&p);
                        return;
                }
                json_object_object_add(out, "failed", reload_failures(m, seq));
        } else
                spec_set_done(&next);
        plan_done(&p);
        (void) control_reply(c, out, false);
}

static void send_backlog(struct manager *m, struct control_conn *c)
{
        for (size_t i = 0; i < m->n_events; i++)
                (void) control_reply(c, event_json(&m->events[(m->events_head + i) % EVENTS_KEPT]), true);
}

/* The backlog from the journal on disk (events of earlier berthds too):
 * those at or after since_usec, the last `last` of them (0: all). */
struct replay {
        uint64_t since_usec;
        json_object *arr;
};

static int replay_line(const char *line, void *userdata)
{
        struct replay *r = userdata;
        json_object *o = json_tokener_parse(line), *t;
        if (!o)
                return 0;
        if (!json_object_object_get_ex(o, "time_usec", &t) || (uint64_t) json_object_get_uint64(t) < r->since_usec) {
                json_object_put(o);
                return 0;
        }
        json_object_array_add(r->arr, o);
        return 0;
}

static int send_journal(struct manager *m, struct control_conn *c, uint64_t since_usec, size_t last)
{
        struct replay r = { .since_usec = since_usec, .arr = json_object_new_array() };
        if (!r.arr)
                return -ENOMEM;
        int q = journal_foreach(&m->journal, replay_line, &r);
        size_t n = json_object_array_length(r.arr);
        for (size_t i = last && n > last ? n - last : 0; q >= 0 && i < n; i++)
                (void) control_reply(c, json_object_get(json_object_array_get_idx(r.arr, i)), true);
        json_object_put(r.arr);
        return q;
}

static bool unit_alive(const struct unit *u)
{
        return u->state == U_STARTING || u->state == U_RUNNING || u->state == U_STOPPING;
}

static void add_action(json_object *acts, const char *fmt, ...) _printf_(2, 3);
static void add_action(json_object *acts, const char *fmt, ...)
{
        char line[600];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        json_object_array_add(acts, json_object_new_string(line));
}

/* Marks into acc what the named units require (requires = true) or what
 * requires them, and in via[i] the named unit that brought each in. */
static int mark_closure(struct manager *m, const struct order_unit *view, struct unit **units, size_t n, bool requires,
                        bool *acc, const char **via)
{
        size_t nu = m->n_units;
        _cleanup_free_ bool *tmp = calloc(nu + 1, sizeof *tmp);
        if (!tmp)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                size_t idx = 0;
                while (idx < nu && m->units[idx] != units[k])
                        idx++;
                memset(tmp, 0, nu * sizeof *tmp);
                if (requires)
                        (void) order_mark_required(view, nu, idx, tmp);
                else
                        (void) order_mark_requirers(view, nu, idx, tmp);
                for (size_t i = 0; i < nu; i++)
                        if (tmp[i] && !acc[i]) {
                                acc[i] = true;
                                via[i] = units[k]->name;
                        }
        }
        return 0;
}

/* start, stop and restart: start brings up what the named containers
 * require first; stop takes down what requires them first; restart does
 * both and brings the requirers back after them. The reply lists what was
 * done; what cannot be done is an error and changes nothing. */
/* unit_request_stop(), with the operator's stop timeout (stop/restart -t)
 * for this stop when one was given. */
static void request_stop_within(struct unit *u, const usec_t *timeout)
{
        if (timeout && (u->state == U_RUNNING || u->state == U_STARTING)) {
                u->stop_timeout_set = true;
                u->stop_timeout_once = *timeout;
        }
        unit_request_stop(u);
}

static void method_verb(struct manager *m, struct control_conn *c, const char *method, struct unit **units, size_t n,
                        const usec_t *stop_timeout)
{
        bool start = streq(method, "io.berth.Container.Start"), stop = streq(method, "io.berth.Container.Stop");
        bool restart = !start && !stop;
        size_t nu = m->n_units;
        _cleanup_free_ struct order_unit *view = order_view(m);
        _cleanup_free_ bool *named = calloc(nu + 1, sizeof *named), *req = calloc(nu + 1, sizeof *req),
                            *dep = calloc(nu + 1, sizeof *dep);
        _cleanup_free_ const char **req_via = calloc(nu + 1, sizeof *req_via),
                                  **dep_via = calloc(nu + 1, sizeof *dep_via);
        if (!view || !named || !req || !dep || !req_via || !dep_via ||
            ((start || restart) && mark_closure(m, view, units, n, true, req, req_via) < 0) ||
            ((stop || restart) && mark_closure(m, view, units, n, false, dep, dep_via) < 0)) {
                (void) control_reply_error(c, "io.berth.InternalError", NULL);
                return;
        }
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < nu; i++)
                        if (m->units[i] == units[k])
                                named[i] = true;
        for (size_t i = 0; i < nu; i++) {
                const struct unit *u = m->units[i];
                if (req[i] && !named[i] && (!u->spec || u->owned_spec)) {
                        char why[600];
                        snprintf(why, sizeof why, "'%s' requires '%s', which is no longer declared", req_via[i],
                                 u->name);
                        reply_invalid(c, why);
                        return;
                }
        }
        json_object *acts = json_object_new_array();
        if (stop || restart) /* requirers first, so that the order of the list is the order of the stops */
                for (size_t i = 0; i < nu; i++) {
                        struct unit *u = m->units[i];
                        if (!dep[i] || named[i])
                                continue;
                        bool up = u->state == U_RUNNING || u->state == U_STARTING;
                        if (restart && up) {
                                emit(m, u->name, "stop", "requires '%s', which restarts", dep_via[i]);
                                u->restart_after_stop = true;
                                request_stop_within(u, stop_timeout);
                                add_action(acts, "restart '%s': it requires '%s'", u->name, dep_via[i]);
                        } else if (stop && (unit_alive(u) || u->pending_start || u->state == U_BACKOFF)) {
                                emit(m, u->name, "stop", "requires '%s', which is stopped by the operator",
                                     dep_via[i]);
                                u->operator_stopped = true;
                                u->restart_after_stop = false;
                                request_stop_within(u, stop_timeout);
                                add_action(acts, "stop '%s' first: it requires '%s'", u->name, dep_via[i]);
                        }
                }
        if (start || restart)
                for (size_t i = 0; i < nu; i++) {
                        struct unit *u = m->units[i];
                        if (!req[i] || named[i] || u->pending_start)
                                continue;
                        if (u->state == U_STOPPING || (u->pending_stop && unit_alive(u))) {
                                u->operator_stopped = false;
                                u->restart_after_stop = true;
                                add_action(acts, "start '%s' first, once it has stopped: '%s' requires it", u->name,
                                           req_via[i]);
                                continue;
                        }
                        if (unit_alive(u))
                                continue;
                        emit(m, u->name, "start", "required by '%s'", req_via[i]);
                        u->consecutive = 0;
                        u->n_restart_times = 0;
                        unit_request_start(u);
                        add_action(acts, "start '%s' first: '%s' requires it", u->name, req_via[i]);
                }
        for (size_t i = 0; i < nu; i++) {
                struct unit *u = m->units[i];
                if (!named[i])
                        continue;
                if (stop) {
                        bool was_down = !unit_alive(u) && !u->pending_start && u->state != U_BACKOFF;
                        u->operator_stopped = true;
                        u->restart_after_stop = false;
                        if (was_down) {
                                add_action(acts, "'%s' is already %s", u->name, unit_state_names[u->state]);
                                continue;
                        }
                        emit(m, u->name, "stop", "requested by the operator");
                        request_stop_within(u, stop_timeout);
                        add_action(acts, "stop '%s'", u->name);
                        continue;
                }
                u->consecutive = 0;
                u->n_restart_times = 0;
                u->operator_stopped = false;
                if (u->state == U_STOPPING || (u->pending_stop && unit_alive(u))) {
                        u->restart_after_stop = true;
                        add_action(acts, "start '%s' once it has stopped", u->name);
                } else if (restart && (u->state == U_RUNNING || u->state == U_STARTING)) {
                        u->restart_after_stop = true;
                        request_stop_within(u, stop_timeout);
                        add_action(acts, "restart '%s'", u->name);
                } else if (unit_alive(u)) {
                        add_action(acts, "'%s' is already %s", u->name, unit_state_names[u->state]);
                } else if (u->pending_start) {
                        add_action(acts, "'%s' is already waiting to start", u->name);
                } else {
                        unit_request_start(u);
                        add_action(acts, "start '%s'", u->name);
                }
        }
        /* The operator's intent is on disk before any of it is acted on. */
        for (size_t i = 0; i < nu; i++)
                if (named[i] || dep[i] || req[i])
                        unit_save_intent(m->units[i]);
        if (stop)
                crash_point(m, "operator-stop-recorded");
        manager_dispatch_soon(m);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "actions", acts);
        (void) control_reply(c, p, false);
}

void on_call(void *userdata, struct control_conn *c, const char *method, json_object *params, bool more)
{
        struct manager *m = userdata;
        struct unit *units[256];
        size_t n = 0;
        if (streq(method, "io.berth.Container.List")) {
                struct jbuf b = { 0 };
                jbuf_lit(&b, "{\"containers\":[");
                for (size_t i = 0; i < m->n_units; i++) {
                        if (i)
                                jbuf_raw(&b, ",", 1);
                        unit_brief_text(m, m->units[i], &b);
                }
                jbuf_lit(&b, "]}");
                if (b.oom)
                        reply_refused(c, "io.berth.OutOfMemory", "out of memory");
                else
                        (void) control_reply_text(c, b.p, b.len);
                jbuf_done(&b);
        } else if (streq(method, "io.berth.Container.Inspect")) {
                const char *name = param_string(params, "name");
                struct unit *u = name ? unit_find(m, name) : NULL;
                if (!u)
                        reply_no_such(c, name);
                else
                        (void) control_reply(c, unit_json(m, u), false);
        } else if (streq(method, "io.berth.Manager.Plan"))
                method_plan(m, c, false, params);
        else if (streq(method, "io.berth.Manager.Reload"))
                method_plan(m, c, true, params);
        else if (streq(method, "io.berth.Container.Snapshot") || streq(method, "io.berth.Container.Restore") ||
                 streq(method, "io.berth.Container.Checkpoint")) {
                if (m->shutting_down)
                        (void) control_reply_error(c, "io.berth.ShuttingDown", NULL);
                else if (streq(method, "io.berth.Container.Snapshot"))
                        method_snapshot(m, c, params);
                else if (streq(method, "io.berth.Container.Checkpoint"))
                        method_checkpoint(m, c, params);
                else
                        method_restore(m, c, params);
        } else if (streq(method, "io.berth.Container.Destroy")) {
                if (m->shutting_down)
                        (void) control_reply_error(c, "io.berth.ShuttingDown", NULL);
                else
                        method_destroy(m, c, params);
        }
        else if (streq(method, "io.berth.Container.Start") || streq(method, "io.berth.Container.Stop") ||
                 streq(method, "io.berth.Container.Restart")) {
                if (m->shutting_down) {
                        (void) control_reply_error(c, "io.berth.ShuttingDown", NULL);
                        return;
                }
                if (!collect_units(m, c, params, units, ELEMENTSOF(units), &n))
                        return;
                for (size_t i = 0; i < n; i++) {
                        struct unit *u = units[i];
                        if (!u->spec || u->owned_spec) {
                                reply_no_such(c, u->name);
                                return;
                        }
                }
                /* stop, restart -t: {"stop_timeout_usec": N} for every stop they make */
                json_object *t;
                usec_t stop_timeout = 0;
                bool have_timeout = params && json_object_object_get_ex(params, "stop_timeout_usec", &t);
                if (have_timeout) {
                        if (!json_object_is_type(t, json_type_int) || json_object_get_int64(t) < 0) {
                                reply_invalid(c, "stop_timeout_usec: not a number of microseconds");
                                return;
                        }
                        stop_timeout = (usec_t) json_object_get_int64(t);
                }
                /* start --from-checkpoint TAG: one container, restored by CRIU instead of started */
                const char *ckpt = param_string(params, "from_checkpoint");
                if (ckpt) {
                        char why[700];
                        if (!streq(method, "io.berth.Container.Start") || n != 1) {
                                reply_invalid(c, "from_checkpoint: one container, and only with start");
                                return;
                        }
                        if (!unit_set_restore(units[0], ckpt, why, sizeof why)) {
                                json_object *p = json_object_new_object();
                                json_object_object_add(p, "reason", json_object_new_string(why));
                                (void) control_reply_error(c, "io.berth.RestoreFailed", p);
                                return;
                        }
                        emit(m, units[0]->name, "start", "from checkpoint '%s'", ckpt);
                }
                method_verb(m, c, method, units, n, have_timeout ? &stop_timeout : NULL);
        } else if (streq(method, "io.berth.Container.Kill")) {
                if (!collect_units(m, c, params, units, ELEMENTSOF(units), &n))
                        return;
                const char *s = param_string(params, "signal");
                int sig = SIGTERM;
                if (s && parse_signal(s, &sig) < 0) {
                        reply_invalid(c, "signal: not a signal name or number");
                        return;
                }
                /* All or nothing: a signal that cannot be sent is an error, never a silent no-op. */
                for (size_t i = 0; i < n; i++)
                        if (units[i]->state != U_RUNNING || unit_init_pidfd(units[i]) < 0) {
                                char why[600];
                                snprintf(why, sizeof why, "'%s' is %s: no process to signal; nothing was sent",
                                         units[i]->name, unit_state_names[units[i]->state]);
                                reply_invalid(c, why);
                                return;
                        }
                for (size_t i = 0; i < n; i++)
                        if (syscall(SYS_pidfd_send_signal, units[i]->init_pidfd, sig, NULL, 0) < 0) {
                                char why[600];
                                snprintf(why, sizeof why, "'%s': cannot send the signal: %s", units[i]->name,
                                         strerror(errno));
                                reply_invalid(c, why);
                                return;
                        }
                (void) control_reply(c, NULL, false);
        } else if (streq(method, "io.berth.Manager.Events")) {
                /* since_usec or last: from the journal on disk (across
                 * restarts), else the events this berthd keeps. */
                json_object *since = NULL, *last = NULL;
                bool from_disk = params && (json_object_object_get_ex(params, "since_usec", &since) |
                                            json_object_object_get_ex(params, "last", &last));
                if (!from_disk || send_journal(m, c, since ? json_object_get_uint64(since) : 0,
                                               last ? (size_t) json_object_get_uint64(last) : 0) < 0)
                        send_backlog(m, c);
                if (more)
                        control_conn_set_tag(c, TAG_EVENTS, NULL);
                else
                        (void) control_reply(c, NULL, false);
        } else if (streq(method, "io.berth.Manager.Status")) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "containers", json_object_new_int64((int64_t) m->n_units));
                json_object_object_add(p, "ready", json_object_new_boolean(m->ready));
                json_object_object_add(p, "conf_dir", json_object_new_string(m->o.conf_dir));
                json_object_object_add(p, "state_dir", json_object_new_string(m->o.state_dir));
                json_object_object_add(p, "definition_errors", json_object_new_int64((int64_t) m->definition_errors));
                json_object_object_add(p, "last_good", json_object_new_boolean(m->on_last_good));
                (void) control_reply(c, p, false);
        } else {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "method", json_object_new_string(method));
                (void) control_reply_error(c, "org.varlink.service.MethodNotFound", p);
        }
}
