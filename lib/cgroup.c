/* Chooses the backend once per manager and dispatches to its ops table;
 * owns what is the same for every backend: names, the kill and wait
 * strategies, and cgroup_prepare()'s claim and leftover policy. */
#include "cgroup.h"

#include <assert.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#include "cgroup_backend.h"
#include "util.h"

/* ---- manager ---- */

/* cgroup2 mounted at /sys/fs/cgroup → v2, otherwise v1. A further backend
 * (systemd-managed, say) is one more table chosen here. */
static int choose_backend(const struct cgroup_backend_ops **ret)
{
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0)
                return -errno;
        *ret = fs.f_type == CGROUP2_SUPER_MAGIC ? &cgroup_v2_ops : &cgroup_v1_ops;
        return 0;
}

int cgroup_open_manager_with(const struct cgroup_backend_ops *ops, const struct cgroup_sources *src,
                             struct cgroup_manager **ret)
{
        assert(ops->manager_size >= sizeof(struct cgroup_manager));
        assert(ops->cgroup_size >= sizeof(struct cgroup));
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = calloc(1, ops->manager_size);
        if (!m)
                return -ENOMEM;
        int r = ops->open(m, src);
        m->ops = ops; /* only now: free calls done() on what open() filled */
        if (r < 0)
                return r;
        size_t len = 0;
        for (int c = 0; c < CG_N; c++) {
                if (!(ops->wanted & (1u << c)) || (m->available & (1u << c)))
                        continue;
                len += (size_t) snprintf(m->missing + len, sizeof m->missing - len, "%s%s",
                                         len ? ", " : "", ops->controller_name(c));
                if (len >= sizeof m->missing)
                        break;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static int open_manager(const char *proc_text, struct cgroup_manager **ret)
{
        const struct cgroup_backend_ops *ops = NULL;
        int r = choose_backend(&ops);
        if (r < 0)
                return r;
        struct cgroup_sources src = {.proc_text = proc_text};
        return cgroup_open_manager_with(ops, &src, ret);
}

int cgroup_open_manager(struct cgroup_manager **ret)
{
        return open_manager(NULL, ret);
}

static int of_text(char *text, const char *suffix, char *out);

/* The base cgroup text of the container name that pid runs in: each line of
 * /proc/PID/cgroup ends in <B>/berth/<name>, cut that suffix off to get B. */
static int base_of(pid_t pid, const char *name, char **ret)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = NULL;
        int r = cgroup_read_at(AT_FDCWD, path, &text);
        if (r < 0)
                return r;
        _cleanup_free_ char *suffix = strdup_printf("/berth/%s", name);
        _cleanup_free_ char *out = calloc(1, strlen(text) + 2);
        if (!suffix || !out)
                return -ENOMEM;
        r = of_text(text, suffix, out);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

int cgroup_open_manager_of(pid_t pid, const char *name, struct cgroup_manager **ret)
{
        _cleanup_free_ char *out = NULL;
        int r = base_of(pid, name, &out);
        if (r < 0)
                return r;
        r = open_manager(out, ret);
        if (r >= 0)
                (*ret)->of_text = TAKE_PTR(out);
        return r;
}

int cgroup_manager_of_cached(pid_t pid, const char *name, struct cgroup_manager **cache)
{
        _cleanup_free_ char *out = NULL;
        int r = base_of(pid, name, &out);
        if (r < 0)
                return r;
        if (*cache && (*cache)->of_text && streq((*cache)->of_text, out))
                return 0;
        struct cgroup_manager *m = NULL;
        r = open_manager(out, &m);
        if (r < 0)
                return r;
        m->of_text = TAKE_PTR(out);
        cgroup_manager_free(*cache);
        *cache = m;
        return 1;
}

int cgroup_name_is_frozen(const struct cgroup_manager *m, const char *name)
{
        if (!name_is_valid(name))
                return -EINVAL;
        return m->ops->name_is_frozen(m, name);
}

/* /proc/PID/cgroup text, each line's <B>/berth/<name> suffix cut to <B>,
 * into out (as long as text + 2). */
static int of_text(char *text, const char *suffix, char *out)
{
        size_t sl = strlen(suffix);
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                size_t l = strlen(line);
                if (l >= sl && streq(line + l - sl, suffix)) {
                        line[l - sl] = 0;
                        if (line[l - sl - 1] == ':') /* B is the root */
                                strcat(line, "/");
                }
                strcat(out, line);
                strcat(out, "\n");
        }
        return 0;
}

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m)
{
        if (!m)
                return NULL;
        if (m->ops)
                m->ops->done(m);
        free(m->of_text);
        free(m);
        return NULL;
}

int cgroup_manager_version(const struct cgroup_manager *m)
{
        return m->ops->version;
}

const char *cgroup_manager_missing(const struct cgroup_manager *m)
{
        return m->missing;
}

const char *cgroup_manager_base(const struct cgroup_manager *m)
{
        return m->ops->base(m);
}

int cgroup_manager_claim(struct cgroup_manager *m)
{
        return m->ops->claim ? m->ops->claim(m) : 0;
}

bool cgroup_manager_places_at_clone(const struct cgroup_manager *m)
{
        return m->ops->places_at_clone;
}

int cgroup_place(struct cgroup *cg, struct cgroup_placement *ret_place)
{
        *ret_place = (struct cgroup_placement) CGROUP_PLACEMENT_INIT;
        return cg->m->ops->place(cg, ret_place);
}

/* ---- cgroups ---- */

static int cgroup_make(struct cgroup_manager *m, const char *name, bool mk, struct cgroup **ret)
{
        if (!name_is_valid(name))
                return -EINVAL;
        struct cgroup *cg = calloc(1, m->ops->cgroup_size);
        if (!cg)
                return -ENOMEM;
        cg->m = m;
        cg->name = strdup(name);
        if (!cg->name) {
                free(cg);
                return -ENOMEM;
        }
        /* create() sets up its fields before anything can fail, so the
         * handle can be freed whatever it returns. */
        int r = m->ops->create(cg, mk);
        if (r < 0) {
                cgroup_free(cg);
                return r;
        }
        /* Best effort: a cgroupfs without xattrs leaves it unmarked. */
        if (mk && m->owner[0])
                (void) setxattr(cgroup_path(cg), CGROUP_OWNER_XATTR, m->owner, strlen(m->owner), 0);
        *ret = cg;
        return 0;
}

void cgroup_manager_set_owner(struct cgroup_manager *m, const char *owner)
{
        snprintf(m->owner, sizeof m->owner, "%s", owner ? owner : "");
}

int cgroup_owned(const struct cgroup *cg)
{
        if (!cg->m->owner[0])
                return 0;
        char v[sizeof cg->m->owner];
        ssize_t n = getxattr(cgroup_path(cg), CGROUP_OWNER_XATTR, v, sizeof v - 1);
        if (n < 0)
                return 0; /* unmarked */
        v[n] = 0;
        return streq(v, cg->m->owner) ? 0 : -EPERM;
}

int cgroup_create(struct cgroup_manager *m, const char *name, struct cgroup **ret)
{
        return cgroup_make(m, name, true, ret);
}

int cgroup_open_existing(struct cgroup_manager *m, const char *name, struct cgroup **ret)
{
        return cgroup_make(m, name, false, ret);
}

struct cgroup *cgroup_free(struct cgroup *cg)
{
        if (!cg)
                return NULL;
        cg->m->ops->cgroup_done(cg);
        free(cg->name);
        free(cg);
        return NULL;
}

const char *cgroup_name(const struct cgroup *cg)
{
        return cg->name;
}

const char *cgroup_path(const struct cgroup *cg)
{
        return cg->m->ops->path(cg);
}

const char *cgroup_controller_path(const struct cgroup *cg, int c)
{
        return c >= 0 && c < CG_N ? cg->m->ops->controller_path(cg, c) : NULL;
}

int cgroup_apply_limits(struct cgroup *cg, const struct spec_limits *l, struct error *e)
{
        if (e)
                *e = (struct error){ .code = 0 };
        return cg->m->ops->apply_limits(cg, l, e);
}

int cgroup_apply_devices(struct cgroup *cg, const struct cgroup_device_rule *extra, size_t n)
{
        if (n > CGROUP_DEVICES_MAX)
                return -E2BIG;
        return cg->m->ops->apply_devices(cg, extra, n);
}

int cgroup_attach(struct cgroup *cg, pid_t pid)
{
        if (pid <= 0)
                return -EINVAL;
        return cg->m->ops->attach(cg, pid);
}

/* ---- placement ---- */

void cgroup_placement_done(struct cgroup_placement *p)
{
        for (size_t i = 0; i < p->n_join_fds; i++)
                (void) close(p->join_fds[i]);
        *p = (struct cgroup_placement) CGROUP_PLACEMENT_INIT;
}

int cgroup_prepare(struct cgroup_manager *m, const char *name, const struct spec_limits *l,
                   const struct cgroup_device_rule *devices, size_t n_devices, struct cgroup **ret_cg,
                   struct cgroup_placement *ret_place, struct error *e)
{
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        int r = cgroup_create(m, name, &cg);
        if (r == -EBUSY) { /* our base holds processes: move them below it */
                int q = cgroup_manager_claim(m);
                if (q < 0)
                        return error_set(e, q, "cannot take over cgroup %s for its children", cgroup_manager_base(m));
                r = cgroup_create(m, name, &cg);
        }
        if (r == -EEXIST) { /* a leftover of a crash: empty it, take its place */
                _cleanup_(cgroup_freep) struct cgroup *old = NULL;
                if (cgroup_open_existing(m, name, &old) >= 0) {
                        if (cgroup_owned(old) < 0)
                                return error_set(e, -EBUSY, "its cgroup %s belongs to another berthd's container "
                                                 "of the same name (another state directory): left alone",
                                                 cgroup_path(old));
                        (void) cgroup_kill_all(old, SIGKILL);
                        (void) cgroup_wait_empty(old, 2 * SPEC_USEC_PER_SEC);
                        (void) cgroup_remove(old);
                }
                r = cgroup_create(m, name, &cg);
        }
        if (r < 0)
                return error_set(e, r, "cannot create its cgroup");
        r = cgroup_apply_limits(cg, l, e);
        if (r < 0) {
                if (e && !e->msg[0])
                        (void) error_code(e, r);
                goto out_remove;
        }
        r = cgroup_apply_devices(cg, devices, n_devices);
        if (r < 0) {
                (void) error_set(e, r, "cannot restrict its devices");
                goto out_remove;
        }
        struct cgroup_placement p = CGROUP_PLACEMENT_INIT;
        r = cg->m->ops->place(cg, &p);
        if (r < 0) {
                (void) error_set(e, r, "cannot open the container's cgroup");
                goto out_remove;
        }
        *ret_place = p;
        *ret_cg = TAKE_PTR(cg);
        return 0;

out_remove:
        (void) cgroup_remove(cg);
        return r;
}

int cgroup_join_self(const int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (write(fds[i], "0", 1) != 1)
                        return -errno;
        return 0;
}

/* ---- freezing, killing, waiting ---- */

int cgroup_freeze(struct cgroup *cg)
{
        return cg->m->ops->set_frozen(cg, true);
}

int cgroup_thaw(struct cgroup *cg)
{
        return cg->m->ops->set_frozen(cg, false);
}

int cgroup_is_frozen(struct cgroup *cg)
{
        return cg->m->ops->is_frozen(cg);
}

static int signal_pids(struct cgroup *cg, int sig, size_t *ret_n)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cgroup_pids(cg, &pids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return -errno;
        *ret_n = n;
        return 0;
}

int cgroup_kill_all(struct cgroup *cg, int sig)
{
        if (sig == SIGKILL && cg->m->ops->kill) {
                int r = cg->m->ops->kill(cg);
                if (r != -ENOENT)
                        return r;
        }
        size_t n;
        int r = cgroup_freeze(cg);
        if (r == -EOPNOTSUPP) {
                /* No freezer: signal until no new process shows up, bounded. */
                for (int round = 0; round < 64; round++) {
                        r = signal_pids(cg, sig, &n);
                        if (r < 0 || n == 0 || sig != SIGKILL)
                                return r;
                        if (cgroup_wait_empty(cg, 20000) == 0)
                                return 0;
                }
                return -EBUSY;
        }
        /* A freeze that times out (a task stuck in the kernel) still gets
         * the signal: killing matters more than the race it closes. */
        int q = signal_pids(cg, sig, &n);
        int t = cgroup_thaw(cg);
        if (q < 0)
                return q;
        return r < 0 ? r : t;
}

int cgroup_is_empty(struct cgroup *cg)
{
        return cg->m->ops->is_empty(cg);
}

int cgroup_wait_empty(struct cgroup *cg, usec_t timeout)
{
        if (cg->m->ops->wait_empty)
                return cg->m->ops->wait_empty(cg, timeout);
        /* No emptiness notification (v1 without a release agent): re-check
         * with a short growing interval, bounded by timeout. */
        usec_t deadline = cgroup_now() + timeout, step = 1000;
        for (;;) {
                int r = cgroup_is_empty(cg);
                if (r != 0)
                        return r < 0 ? r : 0;
                usec_t now = cgroup_now();
                if (now >= deadline)
                        return -ETIMEDOUT;
                usec_t s = step < deadline - now ? step : deadline - now;
                struct timespec ts = {.tv_sec = (time_t) (s / 1000000),
                                      .tv_nsec = (long) (s % 1000000) * 1000};
                (void) nanosleep(&ts, NULL);
                if (step < 50000)
                        step *= 2;
        }
}

/* ---- statistics, processes, removal ---- */

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *ret)
{
        ret->memory_current = ret->memory_peak = ret->cpu_usage_ns = ret->pids_current =
                CGROUP_STAT_UNKNOWN;
        ret->io_read_bytes = ret->io_write_bytes = ret->oom_kills = CGROUP_STAT_UNKNOWN;
        ret->memory_limit = ret->pids_limit = CGROUP_STAT_UNKNOWN;
        return cg->m->ops->stats(cg, ret);
}

int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *n)
{
        int dfd = cg->m->ops->procs_fd(cg);
        if (dfd < 0)
                return -ENOENT;
        _cleanup_free_ pid_t *pids = NULL;
        size_t cnt = 0, cap = 0;
        int r = cgroup_collect_pids(dfd, &pids, &cnt, &cap, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pids);
        *n = cnt;
        return 0;
}

int cgroup_remove(struct cgroup *cg)
{
        return cg->m->ops->remove(cg);
}
