/* Shared helpers of the cgroup backends: controller names, pure conversions
 * and parsers, small cgroupfs file helpers. Calls nothing above it. */
#include "cgroup_util.h"
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "settings.h"
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
        /* cgroupfs files report size 0: util reads them in chunks, up to 1 MiB. */
        return read_file_at(dfd, file, 1u << 20, ret, NULL);
}

static int read_small(int dfd, const char *path, char *buf, size_t size)
{
        int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t k;
        do
                k = read(fd, buf, size - 1);
        while (k < 0 && errno == EINTR);
        int r = k < 0 ? -errno : 0;
        close(fd);
        buf[k > 0 ? k : 0] = 0;
        return r;
}

void cgroup_below_close(int *dfd)
{
        if (*dfd > 0)
                close(*dfd - 1);
        *dfd = 0;
}

int cgroup_read_small_below(int *dfd, const char *dir, const char *name, const char *file, char *buf, size_t size)
{
        char rel[PATH_MAX];
        if (size < 2 || snprintf(rel, sizeof rel, "%s/%s", name, file) >= (int) sizeof rel)
                return -ENAMETOOLONG;
        for (int attempt = 0; attempt < 2; attempt++) {
                if (*dfd <= 0) {
                        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                return -errno;
                        *dfd = fd + 1;
                }
                int r = read_small(*dfd - 1, rel, buf, size);
                if (r != -ENOENT)
                        return r;
                /* DIR itself may have been removed and made again: our fd
                 * then names the old, empty one. Once more by path. */
                cgroup_below_close(dfd);
        }
        return -ENOENT;
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

void cgroup_add_note(struct error *e, int *notes, const char *key, const char *what)
{
        (*notes)++;
        if (!e)
                return;
        size_t len = strnlen(e->msg, sizeof e->msg);
        if (len + 1 < sizeof e->msg)
                snprintf(e->msg + len, sizeof e->msg - len, "%slimits.%s: %s", len ? "; " : "", key, what);
}

/* ---- io-max: one device's throttle in the per-device files ---------------- */

/* Sets device dev's line of file (v1 blkio.throttle.*, v2 io.max) to
 * "dev value", after setting every other device's line to "D clear":
 * berth throttles one device, so a device named before is released. Each
 * write is journaled in u with the line it replaced. */
static int undo_write_device(struct cgroup_undo *u, int dfd, const char *file, const char *dev, const char *value,
                             const char *clear)
{
        _cleanup_free_ char *text = NULL;
        char line[256], old[256];
        int r = cgroup_read_at(dfd, file, &text);
        if (r < 0)
                return r;
        snprintf(old, sizeof old, "%s %s", dev ? dev : "", clear);
        for (char *p = text, *nl; p && *p; p = nl) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = 0;
                size_t dl = strcspn(p, " ");
                if (dl == 0 || !strchr(p, ':'))
                        continue;
                if (dev && strlen(dev) == dl && strncmp(p, dev, dl) == 0) {
                        snprintf(old, sizeof old, "%s", p);
                        continue;
                }
                if (u->n >= ELEMENTSOF(u->e))
                        return -E2BIG;
                snprintf(line, sizeof line, "%.*s %s", (int) dl, p, clear);
                if ((r = cgroup_write_at(dfd, file, line)) < 0)
                        return r;
                u->e[u->n].dfd = dfd;
                u->e[u->n].file = file;
                snprintf(u->e[u->n].old, sizeof u->e[u->n].old, "%s", p);
                u->n++;
        }
        if (!dev)
                return 0;
        if (u->n >= ELEMENTSOF(u->e))
                return -E2BIG;
        snprintf(line, sizeof line, "%s %s", dev, value);
        if ((r = cgroup_write_at(dfd, file, line)) < 0)
                return r;
        u->e[u->n].dfd = dfd;
        u->e[u->n].file = file;
        snprintf(u->e[u->n].old, sizeof u->e[u->n].old, "%s", old);
        u->n++;
        return 0;
}

static void io_value(char *buf, size_t size, uint64_t v, const char *unset)
{
        if (v)
                snprintf(buf, size, "%" PRIu64, v);
        else
                snprintf(buf, size, "%s", unset);
}

int cgroup_apply_io_max(struct cgroup_undo *u, int dfd, bool v2, const struct spec_limits *l, struct error *e,
                        int *notes)
{
        static const char *const v1_files[] = { "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                                                "blkio.throttle.read_iops_device",
                                                "blkio.throttle.write_iops_device" };
        char dev[32], *devp = NULL;
        int r;
        if (dfd < 0 || !cgroup_file_exists_at(dfd, v2 ? "io.max" : v1_files[0])) {
                if (l->io_device)
                        cgroup_add_note(e, notes, "io-max",
                                        v2 ? "no io.max on this host, skipped"
                                           : "no blkio.throttle files on this host, skipped");
                return 0;
        }
        if (l->io_device) {
                unsigned ma, mi;
                r = settings_block_device(l->io_device, &ma, &mi);
                if (r < 0)
                        return error_set(e, r == -ENOTBLK ? -ENOTBLK : r, "io-max: device '%s'", l->io_device);
                snprintf(dev, sizeof dev, "%u:%u", ma, mi);
                devp = dev;
        }
        const uint64_t v[4] = { l->io_rbps, l->io_wbps, l->io_riops, l->io_wiops };
        char a[4][32];
        if (v2) {
                for (size_t i = 0; i < 4; i++)
                        io_value(a[i], sizeof a[i], v[i], "max");
                char value[160];
                snprintf(value, sizeof value, "rbps=%s wbps=%s riops=%s wiops=%s", a[0], a[1], a[2], a[3]);
                r = undo_write_device(u, dfd, "io.max", devp, value, "rbps=max wbps=max riops=max wiops=max");
        } else {
                r = 0;
                for (size_t i = 0; i < 4 && r >= 0; i++) {
                        io_value(a[i], sizeof a[i], v[i], "0");
                        r = undo_write_device(u, dfd, v1_files[i], devp, a[i], "0");
                }
        }
        if (r < 0)
                return error_set(e, r, "io-max: cannot throttle device '%s'", l->io_device ? l->io_device : "?");
        return 0;
}

const char *cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t size)
{
        snprintf(buf, size, "%c %u:%u %s%s%s", r->type, r->major, r->minor, r->access & CGROUP_DEV_READ ? "r" : "",
                 r->access & CGROUP_DEV_WRITE ? "w" : "", r->access & CGROUP_DEV_MKNOD ? "m" : "");
        return buf;
}
