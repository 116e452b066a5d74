/* Detection, dispatch to the v1/v2 backends, and helpers both share. */
#include "cgroup.h"

#include <dirent.h>
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

const char *const cgroup_controller_names[CG_N] = {
        [CG_CPU] = "cpu",       [CG_CPUACCT] = "cpuacct", [CG_CPUSET] = "cpuset",
        [CG_MEMORY] = "memory", [CG_DEVICES] = "devices", [CG_FREEZER] = "freezer",
        [CG_BLKIO] = "blkio",   [CG_PIDS] = "pids",
};

/* ---- pure conversions and parsers ---- */

uint64_t cgroup_weight_to_shares(uint32_t weight)
{
        if (weight < 1)
                weight = 1;
        if (weight > 10000)
                weight = 10000;
        /* The conversion runc and crun use (and systemd's inverse). */
        return 2 + ((uint64_t) (weight - 1) * 262142) / 9999;
}

uint32_t cgroup_io_weight_to_v1(uint32_t weight)
{
        if (weight < 1)
                weight = 1;
        if (weight > 10000)
                weight = 10000;
        return 10 + (uint32_t) (((uint64_t) (weight - 1) * 990) / 9999);
}

uint32_t cgroup_io_weight_to_bfq(uint32_t weight)
{
        if (weight < 1)
                weight = 1;
        if (weight > 10000)
                weight = 10000;
        return 1 + (uint32_t) (((uint64_t) (weight - 1) * 999) / 9999);
}

uint64_t cgroup_cpus_to_quota(uint32_t cpus_milli, uint64_t period_us)
{
        uint64_t q = (uint64_t) cpus_milli * period_us / 1000;
        return q < 1000 ? 1000 : q; /* the kernel's minimum quota is 1 ms */
}

int cgroup_parse_proc_cgroup(const char *text, const char *controller, char **ret)
{
        const char *line = text;
        while (line && *line) {
                const char *eol = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t) (eol - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (eol - c1 - 1)) : NULL;
                if (c2) {
                        bool match = false;
                        if (!*controller)
                                match = c2 == c1 + 1 && c1 - line == 1 && line[0] == '0';
                        else {
                                size_t cl = strlen(controller);
                                for (const char *p = c1 + 1; p < c2;) {
                                        const char *e = memchr(p, ',', (size_t) (c2 - p));
                                        if (!e)
                                                e = c2;
                                        if ((size_t) (e - p) == cl &&
                                            strncmp(p, controller, cl) == 0)
                                                match = true;
                                        p = e + 1;
                                }
                        }
                        if (match) {
                                if (c2[1] != '/')
                                        return -EINVAL;
                                char *s = strndup(c2 + 1, (size_t) (eol - c2 - 1));
                                if (!s)
                                        return -ENOMEM;
                                *ret = s;
                                return 0;
                        }
                }
                line = *eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
        size_t kl = strlen(key);
        for (const char *line = text; line && *line;) {
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(line + kl + 1, &end, 10);
                        if (errno || end == line + kl + 1)
                                return -EINVAL;
                        *ret = v;
                        return 0;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return -ENOENT;
}

int cgroup_parse_io_stat(const char *text, uint64_t *rbytes, uint64_t *wbytes)
{
        uint64_t r = 0, w = 0;
        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                for (const char *f = p; f < eol;) {
                        const char *sp = memchr(f, ' ', (size_t) (eol - f));
                        if (!sp)
                                sp = eol;
                        uint64_t *dst = NULL;
                        size_t off = 0;
                        if (sp - f > 7 && strncmp(f, "rbytes=", 7) == 0)
                                dst = &r, off = 7;
                        else if (sp - f > 7 && strncmp(f, "wbytes=", 7) == 0)
                                dst = &w, off = 7;
                        if (dst) {
                                char *end;
                                unsigned long long v = strtoull(f + off, &end, 10);
                                if (end != sp)
                                        return -EINVAL;
                                *dst += v;
                        }
                        f = sp + 1;
                }
                p = *eol ? eol + 1 : NULL;
        }
        *rbytes = r;
        *wbytes = w;
        return 0;
}

int cgroup_parse_blkio_bytes(const char *text, uint64_t *rbytes, uint64_t *wbytes)
{
        uint64_t r = 0, w = 0;
        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                char dev[32], op[16];
                unsigned long long v;
                char line[128];
                size_t len = (size_t) (eol - p);
                if (len < sizeof line) {
                        memcpy(line, p, len);
                        line[len] = 0;
                        if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3) {
                                if (streq(op, "Read"))
                                        r += v;
                                else if (streq(op, "Write"))
                                        w += v;
                        }
                }
                p = *eol ? eol + 1 : NULL;
        }
        *rbytes = r;
        *wbytes = w;
        return 0;
}

/* ---- file helpers ---- */

int cgroup_write_at(int dfd, const char *file, const char *value)
{
        _cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* A zero-length write never reaches the kernel's handler. */
        if (!*value)
                value = "\n";
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

int cgroup_read_at(int dfd, const char *file, char **ret)
{
        _cleanup_close_ int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == cap) {
                        if (cap >= (1u << 20))
                                return -EFBIG;
                        char *nb = realloc(buf, cap * 2 + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap *= 2;
                }
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int cgroup_read_u64_at(int dfd, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = cgroup_read_at(dfd, file, &s);
        if (r < 0)
                return r;
        if (strncmp(s, "max", 3) == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        *ret = v;
        return 0;
}

bool cgroup_file_exists_at(int dfd, const char *file)
{
        return faccessat(dfd, file, F_OK, 0) == 0;
}

int cgroup_undo_write(struct cgroup_undo *u, int dfd, const char *file, const char *value)
{
        if (u->n >= ELEMENTSOF(u->e))
                return -E2BIG;
        _cleanup_free_ char *old = NULL;
        int r = cgroup_read_at(dfd, file, &old);
        if (r < 0)
                return r;
        old[strcspn(old, "\n")] = 0;
        r = cgroup_write_at(dfd, file, value);
        if (r < 0)
                return r;
        u->e[u->n].dfd = dfd;
        u->e[u->n].file = file;
        snprintf(u->e[u->n].old, sizeof u->e[u->n].old, "%s", old);
        u->n++;
        return 0;
}

void cgroup_undo_rollback(struct cgroup_undo *u)
{
        /* Restore in reverse order, so paired files (memory and swap) go
         * back through the same valid intermediate states. */
        while (u->n > 0) {
                u->n--;
                (void) cgroup_write_at(u->e[u->n].dfd, u->e[u->n].file, u->e[u->n].old);
        }
}

void cgroup_set_err(char *err, size_t errlen, const char *key, int r)
{
        if (err && errlen)
                snprintf(err, errlen, "limits.%s: %s", key, strerror(r < 0 ? -r : r));
}

int cgroup_collect_pids(int dfd, pid_t **pids, size_t *n, size_t *cap, int depth)
{
        if (depth > 16)
                return -ELOOP;
        _cleanup_free_ char *text = NULL;
        int r = cgroup_read_at(dfd, "cgroup.procs", &text);
        if (r < 0)
                return r;
        for (char *p = text; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0) {
                        if (*n == *cap) {
                                size_t nc = *cap ? *cap * 2 : 64;
                                if (nc > (1u << 22))
                                        return -E2BIG;
                                pid_t *np = realloc(*pids, nc * sizeof(pid_t));
                                if (!np)
                                        return -ENOMEM;
                                *pids = np;
                                *cap = nc;
                        }
                        (*pids)[(*n)++] = (pid_t) v;
                }
                p = end;
                while (*p == '\n')
                        p++;
        }
        int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        DIR *d = fdopendir(dup);
        if (!d) {
                r = -errno;
                (void) close(dup);
                return r;
        }
        struct dirent *de;
        r = 0;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int sub = openat(dirfd(d), de->d_name,
                                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0)
                        continue; /* removed meanwhile */
                r = cgroup_collect_pids(sub, pids, n, cap, depth + 1);
                if (r < 0 && r != -ENOENT)
                        break;
                r = 0;
        }
        closedir(d);
        return r;
}

int cgroup_rmdir_tree(int dfd, const char *name, int depth)
{
        if (depth > 16)
                return -ELOOP;
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1; /* owned by d now */
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = cgroup_rmdir_tree(dirfd(d), de->d_name, depth + 1);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int cgroup_open_dir(const char *base, const char *name, bool mk, int *ret_fd, char **ret_path)
{
        _cleanup_free_ char *p = strdup_printf("%s/%s", base, name);
        if (!p)
                return -ENOMEM;
        if (mk && mkdir(p, 0755) < 0)
                return -errno;
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        if (ret_path)
                *ret_path = TAKE_PTR(p);
        return 0;
}

usec_t cgroup_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * 1000000 + (usec_t) ts.tv_nsec / 1000;
}

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
