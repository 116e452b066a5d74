#include "spec.h"

#include <signal.h>
#include <stdio.h>

#include "parse.h"
#include "util.h"

int spec_container_new(const char *name, const char *file, int line, struct spec_container **ret)
{
        struct spec_container *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        c->file = strdup(file ? file : "");
        if (!c->name || !c->file) {
                spec_container_free(c);
                return -ENOMEM;
        }
        c->line = line;
        c->init = true;
        c->start_timeout = 60 * SPEC_USEC_PER_SEC;
        c->restart = RESTART_NO;
        c->restart_delay = 1 * SPEC_USEC_PER_SEC;
        c->restart_max_delay = 60 * SPEC_USEC_PER_SEC;
        c->restart_limit = 5;
        c->restart_window = 60 * SPEC_USEC_PER_SEC;
        c->stop_signal = SIGTERM;
        c->stop_timeout = 10 * SPEC_USEC_PER_SEC;
        c->net_mode = NET_NONE;
        c->seccomp = SECCOMP_DEFAULT;
        c->health.interval = 30 * SPEC_USEC_PER_SEC;
        c->health.timeout = 5 * SPEC_USEC_PER_SEC;
        c->health.retries = 3;
        c->health.http_status = 200;
        c->health.on_failure = HEALTH_ACTION_RESTART;
        c->log_max_size = 10ULL << 20;
        c->log_max_files = 3;
        *ret = c;
        return 0;
}

struct spec_container *spec_container_free(struct spec_container *c)
{
        if (!c)
                return NULL;
        free(c->name);
        free(c->file);
        free(c->template_name);
        free(c->rootfs);
        strv_free(c->command);
        strv_free(c->env);
        free(c->workdir);
        free(c->user);
        free(c->hostname);
        strv_free(c->after);
        strv_free(c->requires);
        free(c->network);
        free(c->publish);
        strv_free(c->dns);
        free(c->limits.cpuset);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].name);
                free(c->mounts[i].source);
                free(c->mounts[i].target);
        }
        free(c->mounts);
        free(c->seccomp_profile);
        strv_free(c->health.command);
        free(c->health.http_path);
        free(c);
        return NULL;
}

int spec_network_new(const char *name, const char *file, int line, struct spec_network **ret)
{
        struct spec_network *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->name = strdup(name);
        n->bridge = strdup(name);
        n->file = strdup(file ? file : "");
        if (!n->name || !n->bridge || !n->file) {
                spec_network_free(n);
                return -ENOMEM;
        }
        n->line = line;
        *ret = n;
        return 0;
}

struct spec_network *spec_network_free(struct spec_network *n)
{
        if (!n)
                return NULL;
        free(n->name);
        free(n->bridge);
        free(n->file);
        free(n);
        return NULL;
}

void spec_set_done(struct spec_set *s)
{
        for (size_t i = 0; i < s->n_containers; i++)
                spec_container_free(s->containers[i]);
        for (size_t i = 0; i < s->n_networks; i++)
                spec_network_free(s->networks[i]);
        free(s->containers);
        free(s->networks);
        *s = (struct spec_set){ 0 };
}

struct spec_container *spec_set_find_container(const struct spec_set *s, const char *name)
{
        for (size_t i = 0; i < s->n_containers; i++)
                if (streq(s->containers[i]->name, name))
                        return s->containers[i];
        return NULL;
}

struct spec_network *spec_set_find_network(const struct spec_set *s, const char *name)
{
        for (size_t i = 0; i < s->n_networks; i++)
                if (streq(s->networks[i]->name, name))
                        return s->networks[i];
        return NULL;
}

/* FNV-1a over a self-delimiting serialisation: each field is tagged and
 * length-prefixed, so adjacent fields can never run into each other and
 * the result does not depend on struct layout, endianness or pointers. */
struct hasher {
        uint64_t h;
};

static void hash_bytes(struct hasher *s, const void *p, size_t n)
{
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                s->h ^= b[i];
                s->h *= 0x100000001b3ULL;
        }
}

static void hash_u64(struct hasher *s, const char *tag, uint64_t v)
{
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%s=%llu;", tag, (unsigned long long) v);
        hash_bytes(s, buf, (size_t) n);
}

static void hash_str(struct hasher *s, const char *tag, const char *v)
{
        if (!v) {
                hash_u64(s, tag, 0);
                return;
        }
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%s:%zu:", tag, strlen(v));
        hash_bytes(s, buf, (size_t) n);
        hash_bytes(s, v, strlen(v));
}

static void hash_strv(struct hasher *s, const char *tag, char *const *v)
{
        hash_u64(s, tag, strv_length(v));
        for (size_t i = 0; v && v[i]; i++)
                hash_str(s, tag, v[i]);
}

static void hash_out(const struct hasher *s, char out[SPEC_HASH_LEN])
{
        snprintf(out, SPEC_HASH_LEN, "%016llx", (unsigned long long) s->h);
}

#define HASHER_INIT { .h = 0xcbf29ce484222325ULL }

void spec_container_hash_restart(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        struct hasher s = HASHER_INIT;
        hash_str(&s, "template", c->template_name);
        hash_str(&s, "rootfs", c->rootfs);
        hash_strv(&s, "command", c->command);
        hash_strv(&s, "env", c->env);
        hash_str(&s, "workdir", c->workdir);
        hash_str(&s, "user", c->user);
        hash_str(&s, "hostname", c->hostname);
        hash_u64(&s, "init", c->init);
        hash_u64(&s, "net-mode", c->net_mode);
        hash_str(&s, "network", c->network);
        hash_u64(&s, "address-auto", c->address_auto);
        hash_u64(&s, "address", in_addr_host(c->address));
        hash_u64(&s, "publish", c->n_publish);
        for (size_t i = 0; i < c->n_publish; i++) {
                hash_u64(&s, "p.addr", in_addr_host(c->publish[i].host_addr));
                hash_u64(&s, "p.host", c->publish[i].host_port);
                hash_u64(&s, "p.cont", c->publish[i].container_port);
                hash_u64(&s, "p.proto", c->publish[i].proto);
        }
        hash_strv(&s, "dns", c->dns);
        hash_u64(&s, "mounts", c->n_mounts);
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct spec_mount *m = &c->mounts[i];
                hash_str(&s, "m.name", m->name);
                hash_str(&s, "m.source", m->source);
                hash_str(&s, "m.target", m->target);
                hash_u64(&s, "m.type", m->type);
                hash_u64(&s, "m.ro", m->read_only);
                hash_u64(&s, "m.size", m->size);
        }
        hash_u64(&s, "caps-add", c->caps_add);
        hash_u64(&s, "caps-drop", c->caps_drop);
        hash_u64(&s, "seccomp", c->seccomp);
        hash_str(&s, "seccomp-profile", c->seccomp_profile);
        if (c->seccomp_profile_digest) /* only then: hashes of older records stay valid */
                hash_u64(&s, "seccomp-profile-digest", c->seccomp_profile_digest);
        hash_u64(&s, "idmap", c->idmap);
        hash_u64(&s, "idmap-uid", c->idmap_host_uid);
        hash_u64(&s, "idmap-gid", c->idmap_host_gid);
        hash_u64(&s, "idmap-count", c->idmap_count);
        hash_u64(&s, "disk-quota", c->disk_quota);
        hash_u64(&s, "log-max-size", c->log_max_size);
        hash_u64(&s, "log-max-files", c->log_max_files);
        hash_out(&s, out);
}

void spec_container_hash_live(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        struct hasher s = HASHER_INIT;
        hash_u64(&s, "memory", c->limits.memory);
        hash_u64(&s, "memory-swap", (uint64_t) c->limits.memory_swap);
        hash_u64(&s, "cpus", c->limits.cpus_milli);
        hash_u64(&s, "cpu-weight", c->limits.cpu_weight);
        hash_str(&s, "cpuset", c->limits.cpuset);
        hash_u64(&s, "pids", c->limits.pids);
        hash_u64(&s, "io-weight", c->limits.io_weight);
        hash_out(&s, out);
}

void spec_container_hash_supervise(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        struct hasher s = HASHER_INIT;
        hash_u64(&s, "autostart", c->autostart);
        hash_u64(&s, "start-order", (uint64_t) (int64_t) c->start_order);
        hash_u64(&s, "start-delay", c->start_delay);
        hash_u64(&s, "start-timeout", c->start_timeout);
        hash_strv(&s, "after", c->after);
        hash_strv(&s, "requires", c->requires);
        hash_u64(&s, "restart", c->restart);
        hash_u64(&s, "restart-delay", c->restart_delay);
        hash_u64(&s, "restart-max-delay", c->restart_max_delay);
        hash_u64(&s, "restart-limit", c->restart_limit);
        hash_u64(&s, "restart-window", c->restart_window);
        hash_u64(&s, "stop-signal", (uint64_t) c->stop_signal);
        hash_u64(&s, "stop-timeout", c->stop_timeout);
        const struct spec_health *h = &c->health;
        hash_u64(&s, "health", h->enabled);
        hash_strv(&s, "h.command", h->command);
        hash_u64(&s, "h.tcp", h->tcp_port);
        hash_str(&s, "h.http", h->http_path);
        hash_u64(&s, "h.status", h->http_status);
        hash_u64(&s, "h.interval", h->interval);
        hash_u64(&s, "h.timeout", h->timeout);
        hash_u64(&s, "h.start-period", h->start_period);
        hash_u64(&s, "h.retries", h->retries);
        hash_u64(&s, "h.on-failure", h->on_failure);
        hash_out(&s, out);
}

void spec_network_hash(const struct spec_network *n, char out[SPEC_HASH_LEN])
{
        struct hasher s = HASHER_INIT;
        hash_str(&s, "bridge", n->bridge);
        hash_u64(&s, "subnet", in_addr_host(n->subnet));
        hash_u64(&s, "prefix", n->prefix);
        hash_u64(&s, "gateway", in_addr_host(n->gateway));
        hash_u64(&s, "nat", n->nat);
        hash_u64(&s, "mtu", n->mtu);
        hash_out(&s, out);
}

static void append(char *buf, size_t size, const char *s)
{
        size_t n = strlen(buf);
        if (n >= size - 1)
                return;
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "", s);
}

static bool mounts_equal(const struct spec_container *a, const struct spec_container *b)
{
        if (a->n_mounts != b->n_mounts)
                return false;
        for (size_t i = 0; i < a->n_mounts; i++) {
                const struct spec_mount *x = &a->mounts[i], *y = &b->mounts[i];
                if (!streq_ptr(x->name, y->name) || !streq_ptr(x->source, y->source) ||
                    !streq_ptr(x->target, y->target) || x->type != y->type ||
                    x->read_only != y->read_only || x->size != y->size)
                        return false;
        }
        return true;
}

const char *spec_container_diff_restart(const struct spec_container *a, const struct spec_container *b,
                                        char *buf, size_t size)
{
        buf[0] = 0;
        if (!streq_ptr(a->template_name, b->template_name))
                append(buf, size, "template");
        if (!streq_ptr(a->rootfs, b->rootfs))
                append(buf, size, "rootfs");
        if (!strv_equal(a->command, b->command))
                append(buf, size, "command");
        if (!strv_equal(a->env, b->env))
                append(buf, size, "env");
        if (!streq_ptr(a->workdir, b->workdir))
                append(buf, size, "workdir");
        if (!streq_ptr(a->user, b->user))
                append(buf, size, "user");
        if (!streq_ptr(a->hostname, b->hostname))
                append(buf, size, "hostname");
        if (a->init != b->init)
                append(buf, size, "init");
        if (a->net_mode != b->net_mode || !streq_ptr(a->network, b->network) ||
            a->address_auto != b->address_auto || a->address.s_addr != b->address.s_addr ||
            !strv_equal(a->dns, b->dns))
                append(buf, size, "network");
        if (a->n_publish != b->n_publish ||
            (a->n_publish && memcmp(a->publish, b->publish, a->n_publish * sizeof(struct publish))))
                append(buf, size, "publish");
        if (!mounts_equal(a, b))
                append(buf, size, "mount");
        if (a->caps_add != b->caps_add || a->caps_drop != b->caps_drop)
                append(buf, size, "capabilities");
        if (a->seccomp != b->seccomp || !streq_ptr(a->seccomp_profile, b->seccomp_profile))
                append(buf, size, "seccomp");
        else if (a->seccomp_profile_digest != b->seccomp_profile_digest)
                append(buf, size, "seccomp profile content");
        if (a->idmap != b->idmap || a->idmap_host_uid != b->idmap_host_uid ||
            a->idmap_host_gid != b->idmap_host_gid || a->idmap_count != b->idmap_count)
                append(buf, size, "idmap");
        if (a->disk_quota != b->disk_quota)
                append(buf, size, "disk-quota");
        if (a->log_max_size != b->log_max_size || a->log_max_files != b->log_max_files)
                append(buf, size, "log");
        return buf;
}

static void diff_size(char *buf, size_t size, const char *key, uint64_t a, uint64_t b)
{
        char x[32], y[32], line[128];
        if (a == b)
                return;
        snprintf(line, sizeof line, "%s %s → %s", key, a ? format_size(a, x, sizeof x) : "unlimited",
                 b ? format_size(b, y, sizeof y) : "unlimited");
        append(buf, size, line);
}

static void diff_num(char *buf, size_t size, const char *key, uint64_t a, uint64_t b)
{
        char line[128];
        if (a == b)
                return;
        snprintf(line, sizeof line, "%s %llu → %llu", key, (unsigned long long) a, (unsigned long long) b);
        append(buf, size, line);
}

const char *spec_container_diff_live(const struct spec_container *a, const struct spec_container *b,
                                     char *buf, size_t size)
{
        const struct spec_limits *x = &a->limits, *y = &b->limits;
        char line[160];
        buf[0] = 0;
        diff_size(buf, size, "memory", x->memory, y->memory);
        if (x->memory_swap != y->memory_swap) {
                char p[32], q[32];
                snprintf(line, sizeof line, "memory-swap %s → %s",
                         x->memory_swap > 0 ? format_size((uint64_t) x->memory_swap, p, sizeof p)
                                            : (x->memory_swap < 0 ? "unlimited" : "unset"),
                         y->memory_swap > 0 ? format_size((uint64_t) y->memory_swap, q, sizeof q)
                                            : (y->memory_swap < 0 ? "unlimited" : "unset"));
                append(buf, size, line);
        }
        if (x->cpus_milli != y->cpus_milli) {
                snprintf(line, sizeof line, "cpus %u.%03u → %u.%03u", x->cpus_milli / 1000,
                         x->cpus_milli % 1000, y->cpus_milli / 1000, y->cpus_milli % 1000);
                append(buf, size, line);
        }
        diff_num(buf, size, "cpu-weight", x->cpu_weight, y->cpu_weight);
        if (!streq_ptr(x->cpuset, y->cpuset)) {
                snprintf(line, sizeof line, "cpuset %s → %s", x->cpuset ? x->cpuset : "all",
                         y->cpuset ? y->cpuset : "all");
                append(buf, size, line);
        }
        diff_num(buf, size, "pids", x->pids, y->pids);
        diff_num(buf, size, "io-weight", x->io_weight, y->io_weight);
        return buf;
}

const char *restart_policy_to_string(restart_policy_t p)
{
        static const char *const t[] = { "no", "on-failure", "always", "unless-stopped" };
        return (unsigned) p < ELEMENTSOF(t) ? t[p] : "?";
}

const char *net_mode_to_string(net_mode_t m)
{
        static const char *const t[] = { "none", "bridge", "host" };
        return (unsigned) m < ELEMENTSOF(t) ? t[m] : "?";
}

const char *health_action_to_string(health_action_t a)
{
        static const char *const t[] = { "restart", "stop", "none" };
        return (unsigned) a < ELEMENTSOF(t) ? t[a] : "?";
}

const char *seccomp_mode_to_string(seccomp_mode_t m)
{
        static const char *const t[] = { "default", "unconfined", "profile" };
        return (unsigned) m < ELEMENTSOF(t) ? t[m] : "?";
}
