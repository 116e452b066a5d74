#include "keys.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>

#include "image.h"
#include "tbuild.h"
#include "parse.h"
#include "util.h"

/* ---- value checks (pure) ------------------------------------------------- */

static const char *check_template(const char *v)
{
        return name_is_valid(v) ? NULL : "'%s' is not a template name";
}

static const char *check_workdir(const char *v)
{
        return path_is_clean_absolute(v) ? NULL : "'%s' must be an absolute path without . or .. components";
}

static const char *check_user(const char *v)
{
        return user_is_valid(v) ? NULL : "'%s' is not UID[:GID] or NAME[:GROUP]";
}

static const char *check_hostname(const char *v)
{
        return hostname_is_valid(v) ? NULL : "'%s' is not a valid host name";
}

static const char *check_env(const char *v)
{
        return env_is_valid(v) ? NULL : "'%s' is not NAME=VALUE";
}

static const char *check_cpuset(const char *v)
{
        return parse_cpuset(v) >= 0 ? NULL : "'%s' is not a CPU list (use 0-3,5)";
}

static const char *check_http_path(const char *v)
{
        return v[0] == '/' ? NULL : "'%s' must start with /";
}

/* ---- composite fields: hashed and compared as the spec module always did -- */

#define C(p) ((const struct spec_container *) (p))

static void hash_address(struct key_hasher *s, const void *p)
{
        key_hash_u64(s, "address-auto", C(p)->address_auto);
        key_hash_u64(s, "address", in_addr_host(C(p)->address));
        /* Only when given: the hashes of records from before stay valid. */
        if (C(p)->address_prefix)
                key_hash_u64(s, "address-prefix", C(p)->address_prefix);
        if (C(p)->address_dhcp)
                key_hash_u64(s, "address-dhcp", 1);
}

static bool equal_address(const void *a, const void *b)
{
        return C(a)->address_auto == C(b)->address_auto && C(a)->address.s_addr == C(b)->address.s_addr &&
               C(a)->address_prefix == C(b)->address_prefix && C(a)->address_dhcp == C(b)->address_dhcp;
}

static void hash_publish(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        key_hash_u64(s, "publish", c->n_publish);
        for (size_t i = 0; i < c->n_publish; i++) {
                key_hash_u64(s, "p.addr", in_addr_host(c->publish[i].host_addr));
                key_hash_u64(s, "p.host", c->publish[i].host_port);
                key_hash_u64(s, "p.cont", c->publish[i].container_port);
                key_hash_u64(s, "p.proto", c->publish[i].proto);
                if (c->publish[i].host6) { /* only then: the hashes of IPv4 records stay */
                        uint64_t h[2];
                        memcpy(h, &c->publish[i].host_addr6, sizeof h);
                        key_hash_u64(s, "p.addr6.hi", h[0]);
                        key_hash_u64(s, "p.addr6.lo", h[1]);
                }
        }
}

static bool equal_publish(const void *a, const void *b)
{
        size_t n = C(a)->n_publish;
        return n == C(b)->n_publish && (n == 0 || memcmp(C(a)->publish, C(b)->publish, n * sizeof(struct publish)) == 0);
}

/* The extra networks (network NAME { }): nothing while there are none, so
 * the hashes of every record from before them stay valid. */
static void hash_attach(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        if (!c->n_attach)
                return;
        key_hash_u64(s, "attach", c->n_attach);
        for (size_t i = 0; i < c->n_attach; i++) {
                key_hash_str(s, "a.net", c->attach[i].network);
                key_hash_u64(s, "a.addr", c->attach[i].address_auto ? 0 : in_addr_host(c->attach[i].address));
                /* A network berth does not own: only then, so berth's keep their hashes. */
                if (c->attach[i].mode != NET_BRIDGE)
                        key_hash_u64(s, "a.mode", (uint64_t) c->attach[i].mode);
                if (c->attach[i].address_prefix)
                        key_hash_u64(s, "a.prefix", c->attach[i].address_prefix);
                if (c->attach[i].address_dhcp)
                        key_hash_u64(s, "a.dhcp", 1);
        }
}

static bool equal_attach(const void *pa, const void *pb)
{
        const struct spec_container *a = pa, *b = pb;
        if (a->n_attach != b->n_attach)
                return false;
        for (size_t i = 0; i < a->n_attach; i++)
                if (!streq(a->attach[i].network, b->attach[i].network) ||
                    a->attach[i].address_auto != b->attach[i].address_auto ||
                    (!a->attach[i].address_auto && a->attach[i].address.s_addr != b->attach[i].address.s_addr) ||
                    a->attach[i].mode != b->attach[i].mode ||
                    a->attach[i].address_prefix != b->attach[i].address_prefix ||
                    a->attach[i].address_dhcp != b->attach[i].address_dhcp)
                        return false;
        return true;
}

static void attach_list(const struct spec_container *c, char *buf, size_t size)
{
        size_t o = 0;
        buf[0] = 0;
        for (size_t i = 0; i < c->n_attach && o < size; i++)
                o += (size_t) snprintf(buf + o, size - o, "%s%s", i ? "+" : "", c->attach[i].network);
        if (!c->n_attach)
                snprintf(buf, size, "none");
}

/* "networks db → db+cache": the extra networks as a plan reason. */
static bool describe_attach(const void *a, const void *b, char *buf, size_t size)
{
        char x[128], y[128];
        attach_list(a, x, sizeof x);
        attach_list(b, y, sizeof y);
        if (streq(x, y))
                snprintf(buf, size, "network addresses");
        else
                snprintf(buf, size, "networks %s → %s", x, y);
        return true;
}

static void hash_mounts(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        key_hash_u64(s, "mounts", c->n_mounts);
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct spec_mount *m = &c->mounts[i];
                key_hash_str(s, "m.name", m->name);
                key_hash_str(s, "m.source", m->source);
                key_hash_str(s, "m.target", m->target);
                key_hash_u64(s, "m.type", m->type);
                key_hash_u64(s, "m.ro", m->read_only);
                key_hash_u64(s, "m.size", m->size);
                if (m->idmap) /* only then: the hashes of the others stay */
                        key_hash_u64(s, "m.idmap", 1);
        }
}

static bool equal_mounts(const void *pa, const void *pb)
{
        const struct spec_container *a = pa, *b = pb;
        if (a->n_mounts != b->n_mounts)
                return false;
        for (size_t i = 0; i < a->n_mounts; i++) {
                const struct spec_mount *x = &a->mounts[i], *y = &b->mounts[i];
                if (!streq_ptr(x->name, y->name) || !streq_ptr(x->source, y->source) ||
                    !streq_ptr(x->target, y->target) || x->type != y->type || x->read_only != y->read_only ||
                    x->size != y->size || x->idmap != y->idmap)
                        return false;
        }
        return true;
}

static void hash_seccomp(struct key_hasher *s, const void *p)
{
        key_hash_u64(s, "seccomp", C(p)->seccomp);
        key_hash_str(s, "seccomp-profile", C(p)->seccomp_profile);
        if (C(p)->seccomp_profile_digest) /* only then: hashes of older records stay valid */
                key_hash_u64(s, "seccomp-profile-digest", C(p)->seccomp_profile_digest);
}

static bool equal_seccomp(const void *a, const void *b)
{
        return C(a)->seccomp == C(b)->seccomp && streq_ptr(C(a)->seccomp_profile, C(b)->seccomp_profile) &&
               C(a)->seccomp_profile_digest == C(b)->seccomp_profile_digest;
}

static bool describe_seccomp(const void *a, const void *b, char *buf, size_t size)
{
        bool same_setting = C(a)->seccomp == C(b)->seccomp && streq_ptr(C(a)->seccomp_profile, C(b)->seccomp_profile);
        snprintf(buf, size, "%s", same_setting ? "seccomp profile content" : "seccomp");
        return true;
}

static void hash_idmap(struct key_hasher *s, const void *p)
{
        key_hash_u64(s, "idmap", C(p)->idmap);
        key_hash_u64(s, "idmap-uid", C(p)->idmap_host_uid);
        key_hash_u64(s, "idmap-gid", C(p)->idmap_host_gid);
        key_hash_u64(s, "idmap-count", C(p)->idmap_count);
        if (C(p)->idmap_auto) /* only then: the hashes of the others stay */
                key_hash_u64(s, "idmap-auto", 1);
}

static bool equal_idmap(const void *a, const void *b)
{
        return C(a)->idmap == C(b)->idmap && C(a)->idmap_auto == C(b)->idmap_auto &&
               C(a)->idmap_host_uid == C(b)->idmap_host_uid &&
               C(a)->idmap_host_gid == C(b)->idmap_host_gid && C(a)->idmap_count == C(b)->idmap_count;
}

/* ---- settings (18a): sysctl, rlimits, env-file --------------------------- */

static const char *check_abs_path(const char *v)
{
        return path_is_clean_absolute(v) ? NULL : "'%s' must be an absolute path without . or .. components";
}

static void hash_sysctl(struct key_hasher *s, const void *p)
{
        if (C(p)->sysctl) /* only then: hashes of older records stay valid */
                key_hash_strv(s, "sysctl", C(p)->sysctl);
}

static bool equal_sysctl(const void *a, const void *b)
{
        return strv_equal(C(a)->sysctl, C(b)->sysctl);
}

static void hash_rlimits(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        if (!c->n_rlimits)
                return;
        key_hash_u64(s, "rlimits", c->n_rlimits);
        for (size_t i = 0; i < c->n_rlimits; i++) {
                key_hash_u64(s, "rl.res", (uint64_t) c->rlimits[i].resource);
                key_hash_u64(s, "rl.soft", c->rlimits[i].soft);
                key_hash_u64(s, "rl.hard", c->rlimits[i].hard);
        }
}

static bool equal_rlimits(const void *a, const void *b)
{
        size_t n = C(a)->n_rlimits;
        return n == C(b)->n_rlimits &&
               (n == 0 || memcmp(C(a)->rlimits, C(b)->rlimits, n * sizeof(struct spec_rlimit)) == 0);
}

static void hash_env_file(struct key_hasher *s, const void *p)
{
        if (!C(p)->env_file)
                return;
        key_hash_str(s, "env-file", C(p)->env_file);
        key_hash_u64(s, "env-file-digest", C(p)->env_file_digest);
}

static bool equal_env_file(const void *a, const void *b)
{
        return streq_ptr(C(a)->env_file, C(b)->env_file) && C(a)->env_file_digest == C(b)->env_file_digest;
}

static bool describe_env_file(const void *a, const void *b, char *buf, size_t size)
{
        snprintf(buf, size, "%s", streq_ptr(C(a)->env_file, C(b)->env_file) ? "env-file content" : "env-file");
        return true;
}

/* ---- devices, secrets, hooks (set 18b): hashed only when present ---------- */

static void hash_devices(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        if (!c->n_devices)
                return; /* hashes of records without devices stay valid */
        key_hash_u64(s, "devices", c->n_devices);
        for (size_t i = 0; i < c->n_devices; i++) {
                const struct spec_device *d = &c->devices[i];
                key_hash_str(s, "d.name", d->name);
                key_hash_str(s, "d.path", d->path);
                key_hash_str(s, "d.access", d->access);
        }
}

static bool equal_devices(const void *pa, const void *pb)
{
        const struct spec_container *a = pa, *b = pb;
        if (a->n_devices != b->n_devices)
                return false;
        for (size_t i = 0; i < a->n_devices; i++) {
                const struct spec_device *x = &a->devices[i], *y = &b->devices[i];
                if (!streq_ptr(x->name, y->name) || !streq_ptr(x->path, y->path) || !streq_ptr(x->access, y->access))
                        return false;
        }
        return true;
}

static void hash_secrets(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        if (!c->n_secrets)
                return;
        key_hash_u64(s, "secrets", c->n_secrets);
        for (size_t i = 0; i < c->n_secrets; i++) {
                key_hash_str(s, "s.name", c->secrets[i].name);
                key_hash_str(s, "s.source", c->secrets[i].source);
                key_hash_str(s, "s.target", c->secrets[i].target);
        }
}

static bool equal_secrets(const void *pa, const void *pb)
{
        const struct spec_container *a = pa, *b = pb;
        if (a->n_secrets != b->n_secrets)
                return false;
        for (size_t i = 0; i < a->n_secrets; i++) {
                const struct spec_secret *x = &a->secrets[i], *y = &b->secrets[i];
                if (!streq_ptr(x->name, y->name) || !streq_ptr(x->source, y->source) ||
                    !streq_ptr(x->target, y->target))
                        return false;
        }
        return true;
}

static void hash_hooks(struct key_hasher *s, const void *p)
{
        const struct spec_container *c = p;
        for (int i = 0; i < _HOOK_KIND_MAX; i++) {
                if (!c->hooks[i].command)
                        continue;
                key_hash_str(s, "hook", hook_kind_to_string(i));
                key_hash_strv(s, "hook.command", c->hooks[i].command);
                key_hash_u64(s, "hook.timeout", c->hooks[i].timeout);
        }
}

static bool equal_hooks(const void *pa, const void *pb)
{
        const struct spec_container *a = pa, *b = pb;
        for (int i = 0; i < _HOOK_KIND_MAX; i++)
                if (!strv_equal(a->hooks[i].command, b->hooks[i].command) ||
                    a->hooks[i].timeout != b->hooks[i].timeout)
                        return false;
        return true;
}

#define N(p) ((const struct spec_network *) (p))

static void hash_subnet(struct key_hasher *s, const void *p)
{
        key_hash_u64(s, "subnet", in_addr_host(N(p)->subnet));
        key_hash_u64(s, "prefix", N(p)->prefix);
}

static bool equal_subnet(const void *a, const void *b)
{
        return N(a)->subnet.s_addr == N(b)->subnet.s_addr && N(a)->prefix == N(b)->prefix;
}

static void hash_subnet6(struct key_hasher *s, const void *p)
{
        if (!N(p)->v6)
                return; /* as before subnet6 existed */
        uint64_t hi, lo;
        memcpy(&hi, N(p)->subnet6.s6_addr, 8);
        memcpy(&lo, N(p)->subnet6.s6_addr + 8, 8);
        key_hash_u64(s, "subnet6-hi", hi);
        key_hash_u64(s, "subnet6-lo", lo);
        key_hash_u64(s, "prefix6", N(p)->prefix6);
}

static bool equal_subnet6(const void *a, const void *b)
{
        return N(a)->v6 == N(b)->v6 && N(a)->prefix6 == N(b)->prefix6 &&
               memcmp(&N(a)->subnet6, &N(b)->subnet6, sizeof N(a)->subnet6) == 0;
}

/* ---- the table ------------------------------------------------------------ */

static const char *const restart_words[] = { "no", "on-failure", "always", "unless-stopped", NULL };
static const char *const net_mode_words[] = { "none", "bridge", "host", "macvlan", "ipvlan", NULL };
static const char *const mount_type_words[] = { "bind", "tmpfs", NULL };
static const char *const health_action_words[] = { "restart", "stop", "none", NULL };
static const char *const update_words[] = { "auto", "manual", NULL };
static const char *const log_driver_words[] = { "default", "file", "journald", NULL };

#define SC(f) offsetof(struct spec_container, f)
#define SM(f) offsetof(struct spec_mount, f)
#define SN(f) offsetof(struct spec_network, f)
#define SD(f) offsetof(struct spec_device, f)
#define SS(f) offsetof(struct spec_secret, f)
#define SH(f) offsetof(struct spec_hook, f)
#define ST(f) offsetof(struct spec_template, f)
#define STC(f) offsetof(struct spec_template_copy, f)
#define MS SPEC_USEC_PER_MSEC
#define SEC SPEC_USEC_PER_SEC

/* Within a block prefix and a class, rows are hashed and named in reasons in
 * table order: the order (and the tags) keep every hash ever written valid.
 * A new key gets KEYF_SPARSE_HASH: left out of the hash while it has its
 * default, it changes no existing record's hash. */
static const struct key_def table[] = {
        { "", "container", KEY_BLOCK, KEY_NO_FIELD, .flags = KEYF_MULTI,
          .doc = "a container definition: container NAME { ... }" },
        { "", "network", KEY_BLOCK, KEY_NO_FIELD, .flags = KEYF_MULTI,
          .doc = "a bridge network definition: network NAME { ... }" },
        { "", "template", KEY_BLOCK, KEY_NO_FIELD, .flags = KEYF_MULTI,
          .doc = "an image as a template: template NAME { from = ... }" },

        /* container: restart */
        { "container", "template", KEY_STR, SC(template_name), SC(line_template), KEY_CLASS_RESTART,
          .hash_tag = "template", .check = check_template, .def = "none",
          .doc = "the root file system is a copy-on-write copy of this template" },
        { "container", "rootfs", KEY_STR, SC(rootfs), SC(line_rootfs), KEY_CLASS_RESTART, .hash_tag = "rootfs",
          .def = "none", .doc = "the root file system is this host directory" },
        { "container", "command", KEY_STRV, SC(command), 0, KEY_CLASS_RESTART, KEYF_LIST, .hash_tag = "command",
          .def = "the template's default command", .doc = "the program and its arguments" },
        { "container", "env", KEY_STRV, SC(env), 0, KEY_CLASS_RESTART, KEYF_LIST, .hash_tag = "env",
          .check = check_env, .def = "none", .doc = "environment variables, NAME=VALUE" },
        { "container", "workdir", KEY_STR, SC(workdir), 0, KEY_CLASS_RESTART, .hash_tag = "workdir",
          .check = check_workdir, .def = "/", .doc = "the working directory of the command" },
        { "container", "user", KEY_STR, SC(user), SC(line_user), KEY_CLASS_RESTART, .hash_tag = "user",
          .check = check_user, .def = "0", .doc = "the user (and group) the command runs as" },
        { "container", "hostname", KEY_STR, SC(hostname), 0, KEY_CLASS_RESTART, .hash_tag = "hostname",
          .check = check_hostname, .def = "the container's name", .doc = "the host name inside the container" },
        { "container", "init", KEY_BOOL, SC(init), 0, KEY_CLASS_RESTART, .hash_tag = "init", .dflt = true,
          .def = "true", .doc = "berth's minimal init is PID 1 and reaps" },

        /* container: supervise */
        { "container", "autostart", KEY_BOOL, SC(autostart), 0, KEY_CLASS_SUPERVISE, KEYF_SHOW_VALUES,
          .hash_tag = "autostart", .def = "false", .doc = "start at berthd start and at reload" },
        { "container", "start-order", KEY_INT32, SC(start_order), 0, KEY_CLASS_SUPERVISE, KEYF_SHOW_VALUES,
          .hash_tag = "start-order", .def = "0", .doc = "start groups, lowest first" },
        { "container", "start-delay", KEY_DURATION, SC(start_delay), 0, KEY_CLASS_SUPERVISE,
          .hash_tag = "start-delay", .def = "0", .doc = "wait this long before starting" },
        { "container", "start-timeout", KEY_DURATION, SC(start_timeout), 0, KEY_CLASS_SUPERVISE, .min = SEC,
          .hash_tag = "start-timeout", .dflt = 60 * SEC, .def = "60s",
          .doc = "how long a start may take before it failed" },
        { "container", "after", KEY_STRV, SC(after), SC(line_after), KEY_CLASS_SUPERVISE, KEYF_LIST,
          .hash_tag = "after", .def = "none", .doc = "start only once these containers run" },
        { "container", "requires", KEY_STRV, SC(requires), SC(line_requires), KEY_CLASS_SUPERVISE, KEYF_LIST,
          .hash_tag = "requires", .def = "none", .doc = "like after, and stopped with them" },
        { "container", "restart", KEY_ENUM, SC(restart), 0, KEY_CLASS_SUPERVISE, KEYF_SHOW_VALUES,
          .words = restart_words, .hash_tag = "restart", .dflt = RESTART_NO, .def = "no",
          .doc = "when the command exits: no, on-failure, always, unless-stopped" },
        { "container", "restart-delay", KEY_DURATION, SC(restart_delay), 0, KEY_CLASS_SUPERVISE, .min = 10 * MS,
          .hash_tag = "restart-delay", .dflt = 1 * SEC, .def = "1s", .doc = "the delay before the first restart" },
        { "container", "restart-max-delay", KEY_DURATION, SC(restart_max_delay), 0, KEY_CLASS_SUPERVISE,
          .min = 10 * MS, .hash_tag = "restart-max-delay", .dflt = 60 * SEC, .def = "60s",
          .doc = "the longest delay between restarts" },
        { "container", "restart-limit", KEY_U32, SC(restart_limit), 0, KEY_CLASS_SUPERVISE, .min = 0,
          .max = 10000, .hash_tag = "restart-limit", .dflt = 5, .def = "5",
          .doc = "restarts within restart-window before giving up" },
        { "container", "restart-window", KEY_DURATION, SC(restart_window), 0, KEY_CLASS_SUPERVISE, .min = SEC,
          .hash_tag = "restart-window", .dflt = 60 * SEC, .def = "60s", .doc = "the window restart-limit counts in" },
        { "container", "stop-signal", KEY_SIGNAL, SC(stop_signal), SC(line_stop_signal), KEY_CLASS_SUPERVISE,
          .hash_tag = "stop-signal", .dflt = SIGTERM, .def = "SIGTERM", .doc = "the signal that asks to stop" },
        { "container", "stop-timeout", KEY_DURATION, SC(stop_timeout), 0, KEY_CLASS_SUPERVISE,
          .hash_tag = "stop-timeout", .dflt = 10 * SEC, .def = "10s", .doc = "how long to wait before killing" },
        { "container", "stateful-stop", KEY_BOOL, SC(stateful_stop), SC(line_stateful_stop), KEY_CLASS_SUPERVISE,
          KEYF_SPARSE_HASH | KEYF_SHOW_VALUES, .hash_tag = "stateful-stop", .def = "berthd's --stateful-stop (false)",
          .doc = "at berthd's shutdown checkpointed (CRIU) instead of stopped, restored at its next start" },

        /* container.network: restart */
        { "container", "network", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, .hash = hash_attach,
          .equal = equal_attach, .describe = describe_attach, .reason = "network",
          .doc = "the container's network: the untitled block is eth0, network NAME { } an extra interface" },
        { "container.network", "mode", KEY_ENUM, SC(net_mode), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .words = net_mode_words, .hash_tag = "net-mode", .reason = "network", .dflt = NET_NONE,
          .def = "bridge when bridge is set, otherwise none", .doc = "none, bridge, host, macvlan or ipvlan" },
        { "container.network", "bridge", KEY_STR, SC(network), SC(line_network), KEY_CLASS_RESTART,
          KEYF_BY_BLOCK, .hash_tag = "network", .reason = "network", .def = "none",
          .doc = "the network definition the container is on, or a host bridge berth does not manage" },
        { "container.network", "parent", KEY_STR, SC(parent), SC(line_parent), KEY_CLASS_RESTART,
          KEYF_BY_BLOCK | KEYF_SPARSE_HASH, .hash_tag = "parent", .reason = "network", .def = "none",
          .doc = "the host interface of a macvlan or ipvlan container" },
        { "container.network", "gateway", KEY_STR, SC(gateway_text), SC(line_gateway), KEY_CLASS_RESTART,
          KEYF_BY_BLOCK | KEYF_SPARSE_HASH, .hash_tag = "gateway", .reason = "network", .def = "none (no default route)",
          .doc = "the default route's gateway on a network berth does not own" },
        { "container.network", "address", KEY_CUSTOM, SC(address), SC(line_address), KEY_CLASS_RESTART,
          KEYF_BY_BLOCK, .reason = "network", .hash = hash_address, .equal = equal_address, .def = "auto",
          .doc = "the IPv4 address: auto, A.B.C.D, or A.B.C.D/N or dhcp on a network berth does not own" },
        { "container.network", "publish", KEY_CUSTOM, SC(publish), SC(line_publish), KEY_CLASS_RESTART,
          KEYF_LIST | KEYF_BY_BLOCK, .hash = hash_publish, .equal = equal_publish, .def = "none",
          .doc = "host ports forwarded to the container" },
        { "container.network", "dns", KEY_STRV, SC(dns), 0, KEY_CLASS_RESTART, KEYF_LIST | KEYF_BY_BLOCK,
          .hash_tag = "dns", .reason = "network", .def = "the host's name servers", .doc = "name servers for /etc/resolv.conf" },

        /* container.limits: live */
        { "container", "limits", KEY_BLOCK, KEY_NO_FIELD, .doc = "resource limits" },
        { "container.limits", "memory", KEY_SIZE, SC(limits.memory), 0, KEY_CLASS_LIVE, .min = 1ULL << 20,
          .hash_tag = "memory", .zero = "unlimited", .def = "unlimited", .doc = "the hard memory limit" },
        { "container.limits", "memory-swap", KEY_SWAP, SC(limits.memory_swap), 0, KEY_CLASS_LIVE,
          .hash_tag = "memory-swap", .zero = "unset", .def = "not set", .doc = "the limit of memory plus swap" },
        { "container.limits", "cpus", KEY_CPUS, SC(limits.cpus_milli), 0, KEY_CLASS_LIVE, .hash_tag = "cpus",
          .def = "unlimited", .doc = "CPU time, in CPUs" },
        { "container.limits", "cpu-weight", KEY_U32, SC(limits.cpu_weight), 0, KEY_CLASS_LIVE, .min = 1,
          .max = 10000, .hash_tag = "cpu-weight", .def = "not set", .doc = "the share of CPU under contention" },
        { "container.limits", "cpuset", KEY_STR, SC(limits.cpuset), 0, KEY_CLASS_LIVE, .hash_tag = "cpuset",
          .zero = "all", .check = check_cpuset, .def = "all CPUs", .doc = "the CPUs the container may run on" },
        { "container.limits", "pids", KEY_U32, SC(limits.pids), 0, KEY_CLASS_LIVE, .min = 1, .max = 4194304,
          .hash_tag = "pids", .def = "unlimited", .doc = "the most processes and threads" },
        { "container.limits", "io-weight", KEY_U32, SC(limits.io_weight), 0, KEY_CLASS_LIVE, .min = 1,
          .max = 10000, .hash_tag = "io-weight", .def = "not set", .doc = "the share of block I/O" },

        /* container.mount: restart; the fields are struct spec_mount's */
        { "container", "mount", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_MULTI, .hash = hash_mounts,
          .equal = equal_mounts, .doc = "a mount: mount NAME { ... }" },
        { "container.mount", "type", KEY_ENUM, SM(type), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .words = mount_type_words, .reason = "mount", .def = "tmpfs when only size is given, otherwise bind",
          .doc = "bind or tmpfs" },
        { "container.mount", "source", KEY_STR, SM(source), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK, .reason = "mount",
          .def = "none", .doc = "the host path to bind mount" },
        { "container.mount", "target", KEY_STR, SM(target), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK, .reason = "mount",
          .def = "none", .doc = "where the mount appears in the container" },
        { "container.mount", "read-only", KEY_BOOL, SM(read_only), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .reason = "mount", .def = "false", .doc = "mount read-only" },
        { "container.mount", "size", KEY_SIZE, SM(size), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK, .min = 4096,
          .reason = "mount", .def = "the kernel's default", .doc = "the size of a tmpfs" },
        { "container.mount", "idmap", KEY_BOOL, SM(idmap), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK, .reason = "mount",
          .def = "false", .doc = "a bind mount seen through the container's id mapping" },

        /* container.capabilities: restart */
        { "container", "capabilities", KEY_BLOCK, KEY_NO_FIELD, .doc = "capabilities added and dropped" },
        { "container.capabilities", "add", KEY_CAPS, SC(caps_add), 0, KEY_CLASS_RESTART,
          KEYF_LIST | KEYF_BY_BLOCK, .hash_tag = "caps-add", .reason = "capabilities", .def = "none",
          .doc = "capabilities added to the default set" },
        { "container.capabilities", "drop", KEY_CAPS, SC(caps_drop), 0, KEY_CLASS_RESTART,
          KEYF_LIST | KEYF_BY_BLOCK, .hash_tag = "caps-drop", .reason = "capabilities", .def = "none",
          .doc = "capabilities removed from the default set" },

        /* container: restart, after the blocks above in the hash */
        { "container", "seccomp", KEY_CUSTOM, SC(seccomp), SC(line_seccomp), KEY_CLASS_RESTART,
          .hash = hash_seccomp, .equal = equal_seccomp, .describe = describe_seccomp, .def = "default",
          .doc = "the system call filter: default, unconfined or a profile's path" },
        { "container", "idmap", KEY_CUSTOM, SC(idmap), SC(line_idmap), KEY_CLASS_RESTART, .hash = hash_idmap,
          .equal = equal_idmap, .def = "none", .doc = "a user namespace: HOSTID:COUNT or auto" },
        { "container", "disk-quota", KEY_SIZE, SC(disk_quota), 0, KEY_CLASS_RESTART, .min = 1ULL << 20,
          .hash_tag = "disk-quota", .def = "none", .doc = "the space the writable layer may use" },

        /* devices, secrets, hooks (lib/devices.c, lib/secrets.c, lib/hooks.c):
         * container.device and container.secret restart, container.hook is
         * supervise; the fields are struct spec_device's, spec_secret's and
         * spec_hook's, read by their blocks' readers in config.c. */
        { "container", "device", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_MULTI, .hash = hash_devices,
          .equal = equal_devices, .reason = "device",
          .doc = "a host device node in the container: device \"/dev/fuse\" { ... } or device \"c 10:229\" { ... }" },
        { "container.device", "path", KEY_STR, SD(path), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK, .reason = "device",
          .def = "the host node's path", .doc = "where the node appears in the container, under /dev" },
        { "container.device", "access", KEY_STR, SD(access), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .reason = "device", .def = "rwm", .doc = "what the device cgroup allows: r read, w write, m mknod" },
        { "container", "allow-host-disks", KEY_BOOL, SC(allow_host_disks), 0, KEY_CLASS_RESTART, KEYF_SPARSE_HASH,
          .hash_tag = "allow-host-disks", .def = "false",
          .doc = "allow devices of the disk holding the host's root file system" },
        { "container", "secret", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_MULTI, .hash = hash_secrets,
          .equal = equal_secrets, .reason = "secret", .doc = "a read-only secret file: secret NAME { ... }" },
        { "container.secret", "source", KEY_STR, SS(source), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .reason = "secret", .def = "none", .doc = "the host file holding the secret" },
        { "container.secret", "target", KEY_STR, SS(target), 0, KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .reason = "secret", .def = "/run/secrets/NAME", .doc = "where the secret appears in the container" },
        { "container", "hook", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_SUPERVISE, KEYF_MULTI, .hash = hash_hooks,
          .equal = equal_hooks, .reason = "hook",
          .doc = "a host command at pre-start, post-start or post-stop: hook pre-start { ... }" },
        { "container.hook", "command", KEY_STRV, SH(command), 0, KEY_CLASS_SUPERVISE, KEYF_LIST | KEYF_BY_BLOCK,
          .reason = "hook", .def = "none", .doc = "the program and its arguments, run on the host" },
        { "container.hook", "timeout", KEY_DURATION, SH(timeout), 0, KEY_CLASS_SUPERVISE, KEYF_BY_BLOCK,
          .min = 10 * MS, .max = 3600 * SEC, .reason = "hook", .dflt = 10 * SEC, .def = "10s",
          .doc = "a hook taking longer is killed and failed" },

        /* container.health: supervise */
        { "container", "health", KEY_BLOCK, SC(health.enabled), SC(health.line), KEY_CLASS_SUPERVISE,
          .hash_tag = "health", .doc = "a health check" },
        { "container.health", "command", KEY_STRV, SC(health.command), 0, KEY_CLASS_SUPERVISE, KEYF_LIST,
          .hash_tag = "h.command", .reason = "health", .def = "none", .doc = "a probe run in the container" },
        { "container.health", "tcp", KEY_U16, SC(health.tcp_port), 0, KEY_CLASS_SUPERVISE, .min = 1,
          .max = 65535, .hash_tag = "h.tcp", .reason = "health", .def = "none", .doc = "a TCP port to connect to" },
        { "container.health", "http", KEY_STR, SC(health.http_path), 0, KEY_CLASS_SUPERVISE, .hash_tag = "h.http",
          .reason = "health", .check = check_http_path, .def = "none", .doc = "with tcp: the path to GET" },
        { "container.health", "http-status", KEY_U16, SC(health.http_status), 0, KEY_CLASS_SUPERVISE,
          .min = 100, .max = 599, .hash_tag = "h.status", .reason = "health", .dflt = 200, .def = "200",
          .doc = "the status the http probe expects" },
        { "container.health", "interval", KEY_DURATION, SC(health.interval), 0, KEY_CLASS_SUPERVISE,
          .min = 100 * MS, .hash_tag = "h.interval", .reason = "health", .dflt = 30 * SEC, .def = "30s",
          .doc = "time between two probes" },
        { "container.health", "timeout", KEY_DURATION, SC(health.timeout), 0, KEY_CLASS_SUPERVISE,
          .min = 10 * MS, .hash_tag = "h.timeout", .reason = "health", .dflt = 5 * SEC, .def = "5s",
          .doc = "a probe taking longer fails" },
        { "container.health", "start-period", KEY_DURATION, SC(health.start_period), 0, KEY_CLASS_SUPERVISE,
          .hash_tag = "h.start-period", .reason = "health", .def = "0",
          .doc = "failures this soon after a start do not count" },
        { "container.health", "retries", KEY_U32, SC(health.retries), 0, KEY_CLASS_SUPERVISE, .min = 1,
          .max = 100, .hash_tag = "h.retries", .reason = "health", .dflt = 3, .def = "3",
          .doc = "failed probes in a row before unhealthy" },
        { "container.health", "on-failure", KEY_ENUM, SC(health.on_failure), 0, KEY_CLASS_SUPERVISE,
          .words = health_action_words, .hash_tag = "h.on-failure", .reason = "health",
          .dflt = HEALTH_ACTION_RESTART, .def = "restart", .doc = "restart, stop or none" },

        /* container.log: restart */
        { "container", "log", KEY_BLOCK, KEY_NO_FIELD, .doc = "the console log: rotation, driver" },
        { "container.log", "max-size", KEY_SIZE, SC(log_max_size), 0, KEY_CLASS_RESTART, .min = 4096,
          .hash_tag = "log-max-size", .reason = "log", .dflt = 10ULL << 20, .def = "10M",
          .doc = "rotate the log at this size" },
        { "container.log", "max-files", KEY_U32, SC(log_max_files), 0, KEY_CLASS_RESTART, .min = 1, .max = 100,
          .hash_tag = "log-max-files", .reason = "log", .dflt = 3, .def = "3", .doc = "log files kept" },
        { "container.log", "driver", KEY_ENUM, SC(log_driver), 0, KEY_CLASS_RESTART,
          KEYF_SPARSE_HASH | KEYF_SHOW_VALUES, .words = log_driver_words, .hash_tag = "log-driver",
          .reason = "log driver", .dflt = LOG_DRIVER_DEFAULT, .def = "default",
          .doc = "where the output goes: default (berthd's --log-driver), file or journald" },

        /* container settings (18a): restart, but io-max (live); every row sparse */
        { "container", "read-only-root", KEY_BOOL, SC(read_only_root), 0, KEY_CLASS_RESTART,
          KEYF_SPARSE_HASH | KEYF_SHOW_VALUES, .hash_tag = "read-only-root", .def = "false",
          .doc = "the root file system is read-only; /tmp and /run are private tmpfs" },
        { "container", "env-file", KEY_STR, SC(env_file), SC(line_env_file), KEY_CLASS_RESTART, KEYF_SPARSE_HASH,
          .check = check_abs_path, .hash = hash_env_file, .equal = equal_env_file, .describe = describe_env_file,
          .def = "none", .doc = "a file of NAME=VALUE lines added to the environment (env wins)" },
        { "container", "sysctl", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_FREEFORM, .hash = hash_sysctl,
          .equal = equal_sysctl, .doc = "namespaced kernel parameters: sysctl { net.ipv4.ip_forward = 1 }" },
        { "container", "rlimits", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_FREEFORM,
          .hash = hash_rlimits, .equal = equal_rlimits, .doc = "resource limits of the container's processes" },
        { "container", "io-max", KEY_BLOCK, KEY_NO_FIELD, .doc = "block I/O throttling of one device" },
        { "container.io-max", "device", KEY_STR, SC(limits.io_device), SC(line_io_device), KEY_CLASS_LIVE,
          KEYF_SPARSE_HASH, .hash_tag = "io-device", .reason = "io-max.device", .zero = "none",
          .check = check_abs_path, .def = "none", .doc = "the block device throttled" },
        { "container.io-max", "rbps", KEY_SIZE, SC(limits.io_rbps), 0, KEY_CLASS_LIVE, KEYF_SPARSE_HASH, .min = 1,
          .hash_tag = "io-rbps", .reason = "io-max.rbps", .zero = "unlimited", .def = "unlimited",
          .doc = "bytes read per second" },
        { "container.io-max", "wbps", KEY_SIZE, SC(limits.io_wbps), 0, KEY_CLASS_LIVE, KEYF_SPARSE_HASH, .min = 1,
          .hash_tag = "io-wbps", .reason = "io-max.wbps", .zero = "unlimited", .def = "unlimited",
          .doc = "bytes written per second" },
        { "container.io-max", "riops", KEY_U32, SC(limits.io_riops), 0, KEY_CLASS_LIVE, KEYF_SPARSE_HASH, .min = 1,
          .max = 1000000000, .hash_tag = "io-riops", .reason = "io-max.riops", .zero = "unlimited",
          .def = "unlimited", .doc = "read operations per second" },
        { "container.io-max", "wiops", KEY_U32, SC(limits.io_wiops), 0, KEY_CLASS_LIVE, KEYF_SPARSE_HASH, .min = 1,
          .max = 1000000000, .hash_tag = "io-wiops", .reason = "io-max.wiops", .zero = "unlimited",
          .def = "unlimited", .doc = "write operations per second" },
        { "container", "update", KEY_ENUM, SC(update), 0, KEY_CLASS_SUPERVISE, KEYF_SPARSE_HASH | KEYF_SHOW_VALUES,
          .words = update_words, .hash_tag = "update", .dflt = UPDATE_AUTO, .def = "auto",
          .doc = "auto: restarted onto its template once a rebuild is ready; manual: only by berthctl restart" },
        /* console and stdin (21): restart, sparse */
        { "container", "console", KEY_BOOL, SC(console), 0, KEY_CLASS_RESTART, KEYF_SPARSE_HASH | KEYF_SHOW_VALUES,
          .hash_tag = "console", .def = "false",
          .doc = "a pty of the container's own as its terminal, held by its monitor: berthctl console" },
        { "container", "stdin", KEY_BOOL, SC(stdin_open), SC(line_stdin), KEY_CLASS_RESTART,
          KEYF_SPARSE_HASH | KEYF_SHOW_VALUES, .hash_tag = "stdin", .def = "false",
          .doc = "the standard input is a pipe held by the monitor, fed by berthctl attach (else /dev/null)" },
        /* container.snapshot: supervise (berthd's schedule, lib/supervise_snapshot.c) */
        { "container", "snapshot", KEY_BLOCK, KEY_NO_FIELD, .doc = "scheduled snapshots of the writable layer" },
        { "container.snapshot", "every", KEY_DURATION, SC(snapshot_every), 0, KEY_CLASS_SUPERVISE, KEYF_SPARSE_HASH,
          .min = SEC, .hash_tag = "snap-every", .reason = "snapshot", .def = "none",
          .doc = "take a snapshot this often" },
        { "container.snapshot", "keep", KEY_U32, SC(snapshot_keep), 0, KEY_CLASS_SUPERVISE, KEYF_SPARSE_HASH,
          .min = 1, .max = 1000, .hash_tag = "snap-keep", .reason = "snapshot", .dflt = 7, .def = "7",
          .doc = "scheduled snapshots kept; older ones are removed" },

        /* network: the bridge is recreated, or changed in place */
        /* template: read when a container starts or berthd builds it (tbuild.c), hashed there */
        { "template", "from", KEY_STR, ST(from), ST(line_from), KEY_CLASS_RESTART, .check = tbuild_from_check,
          .def = "none (required)",
          .doc = "the base: \"debian\", \"busybox\", another template's name, or an image: oci-archive:FILE, "
                 "oci:DIR[:TAG] or docker-archive:FILE" },
        { "template", "suite", KEY_STR, ST(suite), ST(line_suite), KEY_CLASS_RESTART, .check = tbuild_suite_check,
          .def = "the host's (/etc/apt/sources.list.d, /etc/apt/sources.list)",
          .doc = "from = \"debian\": the Debian suite debootstrap installs" },
        { "template", "mirror", KEY_STR, ST(mirror), ST(line_mirror), KEY_CLASS_RESTART, .check = tbuild_mirror_check,
          .def = "the host's (/etc/apt/sources.list.d, /etc/apt/sources.list)",
          .doc = "from = \"debian\": the Debian mirror (an http:// or https:// URL)" },
        { "template", "packages", KEY_STRV, ST(packages), ST(line_packages), KEY_CLASS_RESTART, KEYF_LIST,
          .check = tbuild_package_check, .def = "none", .doc = "Debian packages apt-get installs in the build root" },
        { "template", "run", KEY_STRV, ST(run), ST(line_run), KEY_CLASS_RESTART, KEYF_LIST, .def = "none",
          .doc = "a command run in the build root (host network) after packages and copies" },
        { "template", "copy", KEY_BLOCK, KEY_NO_FIELD, 0, KEY_CLASS_RESTART, KEYF_REPEAT,
          .doc = "a host file or directory copied into the build root (the block may be repeated)" },
        { "template.copy", "source", KEY_STR, STC(source), STC(line_source), KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .def = "none (required)", .doc = "the host path (an absolute path to a file or directory)" },
        { "template.copy", "target", KEY_STR, STC(target), STC(line_target), KEY_CLASS_RESTART, KEYF_BY_BLOCK,
          .def = "none (required)", .doc = "where it goes in the template (an absolute path)" },

        { "network", "bridge", KEY_STR, SN(bridge), 0, KEY_CLASS_RECREATE, KEYF_BY_BLOCK, .hash_tag = "bridge",
          .def = "the network's name", .doc = "the bridge interface's name" },
        { "network", "subnet", KEY_CUSTOM, SN(subnet), 0, KEY_CLASS_RECREATE, KEYF_BY_BLOCK, .hash = hash_subnet,
          .equal = equal_subnet, .def = "none", .doc = "the IPv4 subnet, /8 to /30" },
        { "network", "subnet6", KEY_CUSTOM, SN(subnet6), 0, KEY_CLASS_RECREATE, KEYF_BY_BLOCK, .hash = hash_subnet6,
          .equal = equal_subnet6, .def = "none (IPv4 only)", .doc = "an IPv6 prefix: a dual-stack network" },
        { "network", "gateway", KEY_IPV4, SN(gateway), 0, KEY_CLASS_RECREATE, KEYF_BY_BLOCK,
          .hash_tag = "gateway", .def = "the subnet's first address", .doc = "the bridge's own address" },
        { "network", "nat", KEY_BOOL, SN(nat), 0, KEY_CLASS_NET_LIVE, KEYF_SHOW_VALUES, .hash_tag = "nat",
          .def = "false", .doc = "masquerade traffic leaving the subnet" },
        { "network", "mtu", KEY_U32, SN(mtu), 0, KEY_CLASS_NET_LIVE, KEYF_SHOW_VALUES, .min = 576, .max = 65535,
          .hash_tag = "mtu", .zero = "default", .def = "the kernel's default", .doc = "the MTU of the bridge" },
        { "network", "nat6", KEY_BOOL, SN(nat6), 0, KEY_CLASS_NET_LIVE, KEYF_SHOW_VALUES | KEYF_SPARSE_HASH,
          .hash_tag = "nat6", .def = "false (the prefix is routed)",
          .doc = "masquerade IPv6 traffic leaving the subnet6 prefix (NAT66)" },
        { .name = NULL },
};

const struct key_def *keys_table(size_t *n)
{
        if (n)
                *n = ELEMENTSOF(table) - 1;
        return table;
}

const struct key_def *keys_find(const char *block, const char *name)
{
        for (const struct key_def *k = table; k->name; k++)
                if (streq(k->block, block) && streq(k->name, name))
                        return k;
        return NULL;
}

const char *key_path(const struct key_def *k, char *buf, size_t size)
{
        snprintf(buf, size, "%s%s%s", k->block, k->block[0] ? "." : "", k->name);
        return buf;
}

const char *key_class_to_string(enum key_class c)
{
        static const char *const t[] = { "restart", "live", "supervise", "recreate", "network-live" };
        return (unsigned) c < ELEMENTSOF(t) ? t[c] : "?";
}

/* Whether k is in block prefix (n = strlen(prefix)) or one below it. */
static bool in_block_n(const struct key_def *k, const char *prefix, size_t n)
{
        return k->block[0] == prefix[0] && strncmp(k->block, prefix, n) == 0 &&
               (k->block[n] == 0 || k->block[n] == '.');
}

static bool in_block(const struct key_def *k, const char *prefix)
{
        return in_block_n(k, prefix, strlen(prefix));
}

#define FIELD(spec, k, type) ((type *) ((char *) (spec) + (k)->offset))
#define CFIELD(spec, k, type) (*(const type *) ((const char *) (spec) + (k)->offset))

/* ---- parsing -------------------------------------------------------------- */

static int parse_failed(char *msg, size_t size, const char *fmt, const char *text)
{
        snprintf(msg, size, fmt, text);
        return -EINVAL;
}

int key_parse(const struct key_def *k, const char *text, void *spec, char *msg, size_t size)
{
        char b[32];
        int r;
        switch (k->type) {
        case KEY_STR: {
                if (!text[0])
                        return parse_failed(msg, size, "must not be empty%s", "");
                char *c = strdup(text);
                if (!c)
                        return -ENOMEM;
                char **f = FIELD(spec, k, char *);
                free(*f);
                *f = c;
                const char *bad = k->check ? k->check(text) : NULL;
                return bad ? parse_failed(msg, size, bad, text) : 0;
        }
        case KEY_BOOL:
                if (parse_bool(text, FIELD(spec, k, bool)) < 0)
                        return parse_failed(msg, size, "'%s' is not a boolean (use true or false)", text);
                return 0;
        case KEY_SIZE: {
                uint64_t n;
                r = parse_size(text, &n);
                if (r == -ERANGE)
                        return parse_failed(msg, size, "'%s' is too large", text);
                if (r < 0)
                        return parse_failed(msg, size, "'%s' is not a size (use 512k, 256M, 2G)", text);
                if (n < k->min) {
                        snprintf(msg, size, "'%s' is below the minimum of %s", text, format_size(k->min, b, sizeof b));
                        return -EINVAL;
                }
                *FIELD(spec, k, uint64_t) = n;
                return 0;
        }
        case KEY_DURATION: {
                usec_t n;
                r = parse_duration(text, &n);
                if (r == -ERANGE)
                        return parse_failed(msg, size, "'%s' is too long", text);
                if (r < 0)
                        return parse_failed(msg, size, "'%s' is not a duration (use 500ms, 10s, 5m, 1h)", text);
                if (n < k->min) {
                        snprintf(msg, size, "'%s' is below the minimum of %s", text,
                                 format_duration(k->min, b, sizeof b));
                        return -EINVAL;
                }
                if (k->max && n > k->max) {
                        snprintf(msg, size, "'%s' is above the maximum of %s", text,
                                 format_duration(k->max, b, sizeof b));
                        return -ERANGE;
                }
                *FIELD(spec, k, usec_t) = n;
                return 0;
        }
        case KEY_U32:
        case KEY_U16: {
                uint32_t n;
                r = parse_uint32(text, (uint32_t) k->min, (uint32_t) k->max, &n);
                if (r == -ERANGE) {
                        snprintf(msg, size, "'%s' is out of range (%u..%u)", text, (unsigned) k->min,
                                 (unsigned) k->max);
                        return -ERANGE;
                }
                if (r < 0)
                        return parse_failed(msg, size, "'%s' is not a number", text);
                if (k->type == KEY_U16)
                        *FIELD(spec, k, uint16_t) = (uint16_t) n;
                else
                        *FIELD(spec, k, uint32_t) = n;
                return 0;
        }
        case KEY_INT32:
                if (parse_int32(text, FIELD(spec, k, int32_t)) < 0)
                        return parse_failed(msg, size, "'%s' is not an integer", text);
                return 0;
        case KEY_ENUM: {
                for (size_t i = 0; k->words[i]; i++)
                        if (streq(text, k->words[i])) {
                                *FIELD(spec, k, int) = (int) i;
                                return 0;
                        }
                char list[256] = "";
                for (size_t i = 0; k->words[i]; i++) {
                        size_t l = strlen(list);
                        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", k->words[i]);
                }
                snprintf(msg, size, "'%s' is not valid (use %s)", text, list);
                return -EINVAL;
        }
        case KEY_SIGNAL:
                if (parse_signal(text, FIELD(spec, k, int)) < 0)
                        return parse_failed(msg, size,
                                            "'%s' is not a signal (use SIGTERM, SIGINT, SIGQUIT, SIGHUP, ...)", text);
                return 0;
        case KEY_CPUS:
                r = parse_cpus(text, FIELD(spec, k, uint32_t));
                if (r == -ERANGE)
                        return parse_failed(msg, size, "'%s' is out of range (0.001..4096)", text);
                if (r < 0)
                        return parse_failed(msg, size, "'%s' is not a CPU count (use 1, 0.5, 2.25)", text);
                return 0;
        case KEY_SWAP: {
                uint64_t n;
                if (streq(text, "unlimited") || streq(text, "-1")) {
                        *FIELD(spec, k, int64_t) = -1;
                        return 0;
                }
                if (parse_size(text, &n) < 0 || n > INT64_MAX)
                        return parse_failed(msg, size, "'%s' is not a size (use 1G, or unlimited)", text);
                *FIELD(spec, k, int64_t) = (int64_t) n;
                return 0;
        }
        case KEY_IPV4:
                if (parse_ipv4(text, FIELD(spec, k, struct in_addr)) < 0)
                        return parse_failed(msg, size, "'%s' is not an IPv4 address", text);
                return 0;
        default:
                return parse_failed(msg, size, "%s: read by its block", k->name);
        }
}

void keys_apply_defaults(const char *block_prefix, void *spec)
{
        for (const struct key_def *k = table; k->name; k++) {
                if (!in_block(k, block_prefix) || !k->dflt || k->offset == KEY_NO_FIELD ||
                    streq(k->block, "container.mount") || streq(k->block, "container.device") ||
                    streq(k->block, "container.secret") || streq(k->block, "container.hook"))
                        continue;
                switch (k->type) {
                case KEY_BOOL:
                        *FIELD(spec, k, bool) = k->dflt != 0;
                        break;
                case KEY_SIZE:
                case KEY_DURATION:
                        *FIELD(spec, k, uint64_t) = k->dflt;
                        break;
                case KEY_U32:
                        *FIELD(spec, k, uint32_t) = (uint32_t) k->dflt;
                        break;
                case KEY_U16:
                        *FIELD(spec, k, uint16_t) = (uint16_t) k->dflt;
                        break;
                case KEY_ENUM:
                case KEY_SIGNAL:
                        *FIELD(spec, k, int) = (int) k->dflt;
                        break;
                default:
                        break;
                }
        }
}

/* ---- hashing -------------------------------------------------------------- */

static void hash_bytes(struct key_hasher *s, const void *p, size_t n)
{
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                s->h ^= b[i];
                s->h *= 0x100000001b3ULL;
        }
}

/* v in decimal: the bytes "%llu" gives, without printf (a plan hashes
 * every definition: 1,000 on a reload). */
static void hash_decimal(struct key_hasher *s, uint64_t v)
{
        char d[20];
        size_t i = sizeof d;
        do
                d[--i] = (char) ('0' + v % 10);
        while ((v /= 10));
        hash_bytes(s, d + i, sizeof d - i);
}

void key_hash_u64(struct key_hasher *s, const char *tag, uint64_t v)
{
        /* "TAG=V;" */
        hash_bytes(s, tag, strlen(tag));
        hash_bytes(s, "=", 1);
        hash_decimal(s, v);
        hash_bytes(s, ";", 1);
}

void key_hash_str(struct key_hasher *s, const char *tag, const char *v)
{
        if (!v) {
                key_hash_u64(s, tag, 0);
                return;
        }
        /* "TAG:LEN:V" */
        size_t len = strlen(v);
        hash_bytes(s, tag, strlen(tag));
        hash_bytes(s, ":", 1);
        hash_decimal(s, len);
        hash_bytes(s, ":", 1);
        hash_bytes(s, v, len);
}

void key_hash_strv(struct key_hasher *s, const char *tag, char *const *v)
{
        key_hash_u64(s, tag, strv_length(v));
        for (size_t i = 0; v && v[i]; i++)
                key_hash_str(s, tag, v[i]);
}

void key_hash_out(const struct key_hasher *s, char out[SPEC_HASH_LEN])
{
        snprintf(out, SPEC_HASH_LEN, "%016llx", (unsigned long long) s->h);
}

/* A scalar field as a number (its hash value and what equality compares). */
static bool key_number(const struct key_def *k, const void *spec, uint64_t *ret)
{
        switch (k->type) {
        case KEY_BLOCK:
        case KEY_BOOL:
                *ret = CFIELD(spec, k, bool);
                return true;
        case KEY_SIZE:
        case KEY_DURATION:
        case KEY_CAPS:
                *ret = CFIELD(spec, k, uint64_t);
                return true;
        case KEY_U32:
        case KEY_CPUS:
                *ret = CFIELD(spec, k, uint32_t);
                return true;
        case KEY_U16:
                *ret = CFIELD(spec, k, uint16_t);
                return true;
        case KEY_INT32:
                *ret = (uint64_t) (int64_t) CFIELD(spec, k, int32_t);
                return true;
        case KEY_ENUM:
        case KEY_SIGNAL:
                *ret = (uint64_t) (int64_t) CFIELD(spec, k, int);
                return true;
        case KEY_SWAP:
                *ret = (uint64_t) CFIELD(spec, k, int64_t);
                return true;
        case KEY_IPV4:
                *ret = in_addr_host(CFIELD(spec, k, struct in_addr));
                return true;
        default:
                return false;
        }
}

static void key_hash(struct key_hasher *s, const struct key_def *k, const void *spec)
{
        uint64_t v;
        if (k->hash) {
                k->hash(s, spec);
                return;
        }
        if (!k->hash_tag || k->offset == KEY_NO_FIELD)
                return;
        if (k->type == KEY_STR) {
                const char *str = CFIELD(spec, k, const char *);
                if (!(k->flags & KEYF_SPARSE_HASH) || str)
                        key_hash_str(s, k->hash_tag, str);
        } else if (k->type == KEY_STRV) {
                char *const *v2 = *(char **const *) ((const char *) (spec) + (k)->offset);
                if (!(k->flags & KEYF_SPARSE_HASH) || v2)
                        key_hash_strv(s, k->hash_tag, v2);
        } else if (key_number(k, spec, &v) && (!(k->flags & KEYF_SPARSE_HASH) || v != k->dflt))
                key_hash_u64(s, k->hash_tag, v);
}

static bool class_matches(const struct key_def *k, enum key_class cls, bool any_class)
{
        return any_class || k->cls == cls;
}

void keys_hash(const char *block_prefix, enum key_class cls, bool any_class, const void *spec,
               char out[SPEC_HASH_LEN])
{
        struct key_hasher s = KEY_HASHER_INIT;
        size_t n = strlen(block_prefix);
        for (const struct key_def *k = table; k->name; k++)
                if (class_matches(k, cls, any_class) && in_block_n(k, block_prefix, n))
                        key_hash(&s, k, spec);
        key_hash_out(&s, out);
}

/* ---- differences ---------------------------------------------------------- */

bool key_equal(const struct key_def *k, const void *a, const void *b)
{
        uint64_t x, y;
        if (k->equal)
                return k->equal(a, b);
        if (k->offset == KEY_NO_FIELD || (k->flags & KEYF_BY_BLOCK && !k->hash_tag))
                return true; /* compared as a part of its block */
        if (k->type == KEY_STR)
                return streq_ptr(CFIELD(a, k, const char *), CFIELD(b, k, const char *));
        if (k->type == KEY_STRV)
                return strv_equal(*(char **const *) ((const char *) a + k->offset), *(char **const *) ((const char *) b + k->offset));
        if (key_number(k, a, &x) && key_number(k, b, &y))
                return x == y;
        return true;
}

/* A value as a reason shows it: "256M", "unlimited", "on". */
static const char *key_format(const struct key_def *k, const void *spec, char *buf, size_t size)
{
        uint64_t v = 0;
        if (k->type == KEY_STR) {
                const char *s = CFIELD(spec, k, const char *);
                return s ? s : (k->zero ? k->zero : "");
        }
        if (!key_number(k, spec, &v))
                return "?";
        if (v == 0 && k->zero && k->type != KEY_BOOL)
                return k->zero;
        switch (k->type) {
        case KEY_BOOL:
                return v ? "on" : "off";
        case KEY_SIZE:
                return format_size(v, buf, size);
        case KEY_SWAP:
                return (int64_t) v < 0 ? "unlimited" : format_size(v, buf, size);
        case KEY_CPUS:
                snprintf(buf, size, "%u.%03u", (unsigned) v / 1000, (unsigned) v % 1000);
                return buf;
        case KEY_INT32:
                snprintf(buf, size, "%d", (int) (int64_t) v);
                return buf;
        case KEY_ENUM:
                return k->words[v];
        default:
                snprintf(buf, size, "%llu", (unsigned long long) v);
                return buf;
        }
}

static void join(char *buf, size_t size, const char *s)
{
        size_t n = strlen(buf);
        if (n + 1 >= size)
                return;
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "", s);
}

/* Whether reason is already one of buf's ", "-separated entries. */
static bool listed(const char *buf, const char *reason)
{
        size_t l = strlen(reason);
        for (const char *p = buf; *p;) {
                const char *e = strstr(p, ", ");
                size_t n = e ? (size_t) (e - p) : strlen(p);
                if (n == l && strncmp(p, reason, l) == 0)
                        return true;
                if (!e)
                        break;
                p = e + 2;
        }
        return false;
}

const char *keys_diff(const char *block_prefix, enum key_class cls, const void *a, const void *b, char *buf,
                      size_t size)
{
        buf[0] = 0;
        for (const struct key_def *k = table; k->name; k++) {
                if (!in_block(k, block_prefix) || k->cls != cls || key_equal(k, a, b))
                        continue;
                char line[256], x[64], y[64];
                const char *name = k->reason ? k->reason : k->name;
                if (k->describe && k->describe(a, b, line, sizeof line))
                        name = line;
                else if (k->flags & KEYF_SHOW_VALUES || k->cls == KEY_CLASS_LIVE) {
                        snprintf(line, sizeof line, "%s %s → %s", name, key_format(k, a, x, sizeof x),
                                 key_format(k, b, y, sizeof y));
                        name = line;
                }
                if (!listed(buf, name))
                        join(buf, size, name);
        }
        return buf;
}
