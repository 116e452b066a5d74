/* Detection and dispatch to the v1/v2 backends. */
#include "cgroup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "cgroup_internal.h"
#include "util.h"

/* ---- manager ---- */

static int open_manager(const char *proc_text, struct cgroup_manager **ret)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->proc_text = proc_text;
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0)
                return -errno;
        int r;
        if (fs.f_type == CGROUP2_SUPER_MAGIC) {
                m->version = 2;
                r = cgroup_v2_open(m);
        } else {
                m->version = 1;
                r = cgroup_v1_open(m);
        }
        if (r < 0)
                return r;
        size_t len = 0;
        unsigned wanted = m->version == 2 ? CG_V2_WANTED : (1u << CG_N) - 1;
        for (int c = 0; c < CG_N; c++) {
                if (!(wanted & (1u << c)) || (m->available & (1u << c)))
                        continue;
                const char *n =
                        m->version == 2 && c == CG_BLKIO ? "io" : cgroup_controller_names[c];
                len += (size_t) snprintf(m->missing + len, sizeof m->missing - len, "%s%s",
                                         len ? ", " : "", n);
                if (len >= sizeof m->missing)
                        break;
        }
        m->proc_text = NULL;
        *ret = TAKE_PTR(m);
        return 0;
}

int cgroup_open_manager(struct cgroup_manager **ret)
{
        return open_manager(NULL, ret);
}

int cgroup_open_manager_of(pid_t pid, const char *name, struct cgroup_manager **ret)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = NULL;
        int r = cgroup_read_at(AT_FDCWD, path, &text);
        if (r < 0)
                return r;
        /* Each line ends in <B>/berth/<name>: cut that suffix off to get B. */
        _cleanup_free_ char *suffix = strdup_printf("/berth/%s", name);
        _cleanup_free_ char *out = calloc(1, strlen(text) + 2);
        if (!suffix || !out)
                return -ENOMEM;
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
        return open_manager(out, ret);
}

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m)
{
        if (!m)
                return NULL;
        free(m->own);
        free(m->base);
        for (int c = 0; c < CG_N; c++)
                free(m->v1_base[c]);
        free(m);
        return NULL;
}

int cgroup_manager_version(const struct cgroup_manager *m)
{
        return m->version;
}

const char *cgroup_manager_missing(const struct cgroup_manager *m)
{
        return m->missing;
}

const char *cgroup_manager_base(const struct cgroup_manager *m)
{
        if (m->version == 2)
                return m->base;
        if (m->v1_base[CG_MEMORY])
                return m->v1_base[CG_MEMORY];
        for (int c = 0; c < CG_N; c++)
                if (m->v1_base[c])
                        return m->v1_base[c];
        return "";
}

int cgroup_manager_claim(struct cgroup_manager *m)
{
        return m->version == 2 ? cgroup_v2_claim(m) : 0;
}

/* ---- cgroups ---- */

static struct cgroup *cgroup_new(struct cgroup_manager *m, const char *name)
{
        struct cgroup *cg = calloc(1, sizeof *cg);
        if (!cg)
                return NULL;
        cg->m = m;
        cg->fd = -1;
        for (int c = 0; c < CG_N; c++)
                cg->v1_fd[c] = -1;
        cg->name = strdup(name);
        if (!cg->name)
                return cgroup_free(cg);
        return cg;
}

static int cgroup_make(struct cgroup_manager *m, const char *name, bool mk, struct cgroup **ret)
{
        if (!name_is_valid(name))
                return -EINVAL;
        _cleanup_(cgroup_freep) struct cgroup *cg = cgroup_new(m, name);
        if (!cg)
                return -ENOMEM;
        int r = m->version == 2 ? cgroup_v2_create(cg, mk) : cgroup_v1_create(cg, mk);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cg);
        return 0;
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
        if (cg->fd >= 0)
                (void) close(cg->fd);
        free(cg->path);
        for (int c = 0; c < CG_N; c++) {
                if (cg->v1_fd[c] >= 0)
                        (void) close(cg->v1_fd[c]);
                free(cg->v1_path[c]);
        }
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
        if (cg->m->version == 2)
                return cg->path;
        if (cg->v1_path[CG_MEMORY])
                return cg->v1_path[CG_MEMORY];
        for (int c = 0; c < CG_N; c++)
                if (cg->v1_path[c])
                        return cg->v1_path[c];
        return "";
}

int cgroup_apply_limits(struct cgroup *cg, const struct spec_limits *l, char *err, size_t errlen)
{
        if (err && errlen)
                err[0] = 0;
        return cg->m->version == 2 ? cgroup_v2_apply_limits(cg, l, err, errlen)
                                   : cgroup_v1_apply_limits(cg, l, err, errlen);
}

int cgroup_apply_devices(struct cgroup *cg)
{
        return cg->m->version == 2 ? cgroup_v2_apply_devices(cg) : cgroup_v1_apply_devices(cg);
}

int cgroup_attach(struct cgroup *cg, pid_t pid)
{
        if (pid <= 0)
                return -EINVAL;
        if (cg->m->version == 1)
                return cgroup_v1_attach(cg, pid);
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int) pid);
        return cgroup_write_at(cg->fd, "cgroup.procs", buf);
}

int cgroup_open_tasks(struct cgroup *cg, int *fds, size_t max, size_t *ret_n)
{
        if (cg->m->version != 1)
                return -EOPNOTSUPP;
        return cgroup_v1_open_tasks(cg, fds, max, ret_n);
}

int cgroup_join_self(const int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (write(fds[i], "0", 1) != 1)
                        return -errno;
        return 0;
}

int cgroup_fd(struct cgroup *cg)
{
        return cg->m->version == 2 ? cg->fd : -EOPNOTSUPP;
}

int cgroup_freeze(struct cgroup *cg)
{
        return cg->m->version == 2 ? cgroup_v2_set_frozen(cg, true)
                                   : cgroup_v1_set_frozen(cg, true);
}

int cgroup_thaw(struct cgroup *cg)
{
        return cg->m->version == 2 ? cgroup_v2_set_frozen(cg, false)
                                   : cgroup_v1_set_frozen(cg, false);
}

int cgroup_is_frozen(struct cgroup *cg)
{
        int fd = cg->m->version == 2 ? cg->fd : cg->v1_fd[CG_FREEZER];
        const char *file = cg->m->version == 2 ? "cgroup.freeze" : "freezer.state";
        if (fd < 0 || !cgroup_file_exists_at(fd, file))
                return 0;
        _cleanup_free_ char *s = NULL;
        int r = cgroup_read_at(fd, file, &s);
        if (r < 0)
                return r;
        /* v2: the requested state, "1"; v1: FROZEN, or FREEZING on the way. */
        return cg->m->version == 2 ? s[0] == '1' : strncmp(s, "THAWED", 6) != 0;
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
        if (cg->m->version == 2 && sig == SIGKILL) {
                int r = cgroup_v2_kill(cg);
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
        return cg->m->version == 2 ? cgroup_v2_is_empty(cg) : cgroup_v1_is_empty(cg);
}

int cgroup_wait_empty(struct cgroup *cg, usec_t timeout)
{
        if (cg->m->version == 2)
                return cgroup_v2_wait_empty(cg, timeout);
        /* v1 has no reliable emptiness notification without a release agent:
         * re-check with a short growing interval, bounded by timeout. */
        usec_t deadline = cgroup_now() + timeout, step = 1000;
        for (;;) {
                int r = cgroup_v1_is_empty(cg);
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

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *ret)
{
        ret->memory_current = ret->memory_peak = ret->cpu_usage_ns = ret->pids_current =
                CGROUP_STAT_UNKNOWN;
        ret->io_read_bytes = ret->io_write_bytes = ret->oom_kills = CGROUP_STAT_UNKNOWN;
        return cg->m->version == 2 ? cgroup_v2_stats(cg, ret) : cgroup_v1_stats(cg, ret);
}

int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *n)
{
        int dfd = cg->fd;
        if (cg->m->version == 1) {
                /* Every process is in every hierarchy; use one that exists. */
                static const int order[] = {CG_PIDS,    CG_FREEZER, CG_MEMORY, CG_CPU,
                                            CG_CPUACCT, CG_DEVICES, CG_BLKIO,  CG_CPUSET};
                for (size_t i = 0; i < ELEMENTSOF(order) && dfd < 0; i++)
                        dfd = cg->v1_fd[order[i]];
        }
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
        return cg->m->version == 2 ? cgroup_v2_remove(cg) : cgroup_v1_remove(cg);
}
