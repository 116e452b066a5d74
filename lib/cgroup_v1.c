/* cgroup v1 backend: one directory per controller hierarchy. Its state:
 * B per hierarchy, and a directory fd per hierarchy for each cgroup. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup_backend.h"
#include "util.h"

struct v1_manager {
        struct cgroup_manager m;
        char *base[CG_N]; /* directory of B per controller (NULL when not mounted) */
        int frozen_dfd;   /* B/berth of the freezer (cgroup_read_small_below) */
};

struct v1_cgroup {
        struct cgroup cg;
        int fd[CG_N]; /* directory fd and path per controller (-1 / NULL when absent) */
        char *path[CG_N];
};

static struct v1_manager *v1m(const struct cgroup_manager *m)
{
        return (struct v1_manager *) m;
}

static struct v1_cgroup *v1cg(const struct cgroup *cg)
{
        return (struct v1_cgroup *) cg;
}

/* Controllers whose hierarchy is co-mounted with an earlier one share its
 * directory: act on each directory once. */
static bool v1_is_first(const struct cgroup *cg, int c)
{
        if (!v1cg(cg)->path[c])
                return false;
        for (int i = 0; i < c; i++)
                if (v1cg(cg)->path[i] && streq(v1cg(cg)->path[i], v1cg(cg)->path[c]))
                        return false;
        return true;
}

static int v1_open(struct cgroup_manager *m, const struct cgroup_sources *src)
{
        _cleanup_free_ char *self = NULL, *mi = NULL;
        int r = src->proc_text ? ((self = strdup(src->proc_text)) ? 0 : -ENOMEM)
                               : cgroup_read_at(AT_FDCWD, "/proc/self/cgroup", &self);
        if (r < 0)
                return r;
        r = src->mountinfo ? ((mi = strdup(src->mountinfo)) ? 0 : -ENOMEM)
                           : cgroup_read_at(AT_FDCWD, "/proc/self/mountinfo", &mi);
        if (r < 0)
                return r;
        for (char *line = mi; line && *line;) {
                char *eol = strchrnul(line, '\n');
                bool last = !*eol;
                *eol = 0;
                /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
                char root[1024], mnt[1024];
                const char *dash = strstr(line, " - ");
                if (dash && sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) == 2) {
                        char fstype[32], superopts[512];
                        if (sscanf(dash + 3, "%31s %*s %511s", fstype, superopts) == 2 &&
                            streq(fstype, "cgroup") && !strchr(mnt, '\\')) {
                                for (int c = 0; c < CG_N; c++) {
                                        if (v1m(m)->base[c])
                                                continue;
                                        bool has = false;
                                        for (char *tok = superopts; *tok;) {
                                                size_t len = strcspn(tok, ",");
                                                if (len == strlen(cgroup_controller_names[c]) &&
                                                    strncmp(tok, cgroup_controller_names[c], len) ==
                                                            0)
                                                        has = true;
                                                tok += len;
                                                if (*tok)
                                                        tok++;
                                        }
                                        if (!has)
                                                continue;
                                        _cleanup_free_ char *own = NULL;
                                        if (cgroup_parse_proc_cgroup(
                                                    self, cgroup_controller_names[c], &own) < 0)
                                                continue;
                                        /* A mount of a sub-tree shows paths below its root. */
                                        const char *rel = own;
                                        if (!streq(root, "/")) {
                                                size_t rl = strlen(root);
                                                if (strncmp(own, root, rl) != 0 ||
                                                    (own[rl] && own[rl] != '/'))
                                                        continue;
                                                rel = own + rl;
                                        }
                                        if (streq(rel, "/"))
                                                rel = "";
                                        v1m(m)->base[c] = strdup_printf("%s%s", mnt, rel);
                                        if (!v1m(m)->base[c])
                                                return -ENOMEM;
                                        m->available |= 1u << c;
                                }
                        }
                }
                line = last ? NULL : eol + 1;
        }
        if (!m->available)
                return -ENOMEDIUM;
        return 0;
}

/* New v1 cpusets start with no CPUs and no memory nodes: copy the parent's. */
static int v1_cpuset_inherit(int dfd)
{
        _cleanup_close_ int parent = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return -errno;
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *cur = NULL, *val = NULL;
                int r = cgroup_read_at(dfd, files[i], &cur);
                if (r < 0)
                        return r;
                if (cur[0] != '\n' && cur[0] != 0)
                        continue;
                r = cgroup_read_at(parent, files[i], &val);
                if (r < 0)
                        return r;
                r = cgroup_write_at(dfd, files[i], val);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void v1_done(struct cgroup_manager *m)
{
        for (int c = 0; c < CG_N; c++)
                free(v1m(m)->base[c]);
        cgroup_below_close(&v1m(m)->frozen_dfd);
}

/* The memory hierarchy's (else the first one's): what callers show. */
static const char *v1_base(const struct cgroup_manager *m)
{
        if (v1m(m)->base[CG_MEMORY])
                return v1m(m)->base[CG_MEMORY];
        for (int c = 0; c < CG_N; c++)
                if (v1m(m)->base[c])
                        return v1m(m)->base[c];
        return "";
}

static int v1_create(struct cgroup *cg, bool mk)
{
        struct cgroup_manager *m = cg->m;
        for (int c = 0; c < CG_N; c++)
                v1cg(cg)->fd[c] = -1;
        unsigned made = 0;
        int r = 0;
        bool any = false;
        for (int c = 0; c < CG_N; c++) {
                if (!v1m(m)->base[c])
                        continue;
                _cleanup_free_ char *berth = strdup_printf("%s/berth", v1m(m)->base[c]);
                if (!berth)
                        return -ENOMEM;
                bool shared = false;
                for (int i = 0; i < c; i++)
                        if (v1m(m)->base[i] && streq(v1m(m)->base[i], v1m(m)->base[c]))
                                shared = true;
                bool create = mk && !shared;
                /* berth/ may vanish under us when another user removes the
                 * last container at the same moment: retry a few times. */
                for (int attempt = 0; attempt < 4; attempt++) {
                        if (create) {
                                if (mkdir(berth, 0755) < 0 && errno != EEXIST) {
                                        r = -errno;
                                        goto out_remove;
                                }
                                if (c == CG_CPUSET) {
                                        _cleanup_close_ int bfd =
                                                open(berth, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                                        r = bfd < 0 ? -errno : v1_cpuset_inherit(bfd);
                                        if (r == -ENOENT)
                                                continue;
                                        if (r < 0)
                                                goto out_remove;
                                }
                        }
                        r = cgroup_open_dir(berth, cg->name, create, &v1cg(cg)->fd[c],
                                            &v1cg(cg)->path[c]);
                        if (r != -ENOENT || !create)
                                break;
                }
                if (r == -ENOENT && !mk)
                        continue; /* not in this hierarchy (controller mounted later) */
                if (r < 0)
                        goto out_remove;
                any = true;
                if (create)
                        made |= 1u << c;
                if (create && c == CG_CPUSET) {
                        r = v1_cpuset_inherit(v1cg(cg)->fd[c]);
                        if (r < 0)
                                goto out_remove;
                }
        }
        return any ? 0 : -ENOENT;

out_remove:
        /* Undo only the directories this call made. */
        for (int c = CG_N - 1; c >= 0; c--)
                if (made & (1u << c)) {
                        (void) rmdir(v1cg(cg)->path[c]);
                        _cleanup_free_ char *berth = strdup_printf("%s/berth", v1m(m)->base[c]);
                        if (berth)
                                (void) rmdir(berth);
                }
        return r;
}

static int v1_apply_limits(struct cgroup *cg, const struct spec_limits *l, struct error *e)
{
        struct cgroup_undo u = {.n = 0};
        int notes = 0, r = 0;
        const char *key = NULL;
        char a[32], b[32];

        int fd = v1cg(cg)->fd[CG_MEMORY];
        if (fd >= 0) {
                bool memsw = cgroup_file_exists_at(fd, "memory.memsw.limit_in_bytes");
                uint64_t cur;
                r = cgroup_read_u64_at(fd, "memory.limit_in_bytes", &cur);
                if (r < 0) {
                        key = "memory";
                        goto fail;
                }
                snprintf(a, sizeof a, "%" PRId64, l->memory ? (int64_t) l->memory : -1);
                snprintf(b, sizeof b, "%" PRId64, l->memory_swap > 0 ? l->memory_swap : -1);
                bool raising = l->memory == 0 || l->memory > cur;
                /* memsw must stay >= the memory limit in every intermediate state. */
                if (memsw && raising) {
                        key = "memory-swap";
                        r = cgroup_undo_write(&u, fd, "memory.memsw.limit_in_bytes", b);
                        if (r < 0)
                                goto fail;
                }
                key = "memory";
                r = cgroup_undo_write(&u, fd, "memory.limit_in_bytes", a);
                if (r < 0)
                        goto fail;
                if (memsw && !raising) {
                        key = "memory-swap";
                        r = cgroup_undo_write(&u, fd, "memory.memsw.limit_in_bytes", b);
                        if (r < 0)
                                goto fail;
                }
                if (!memsw && l->memory_swap > 0)
                        cgroup_add_note(e, &notes, "memory-swap", "no swap accounting on this host, skipped");
        } else if (l->memory || l->memory_swap > 0)
                cgroup_add_note(e, &notes, "memory", "no memory controller on this host, skipped");

        fd = v1cg(cg)->fd[CG_CPU];
        if (fd >= 0) {
                key = "cpus";
                if (l->cpus_milli) {
                        snprintf(a, sizeof a, "%" PRIu64,
                                 cgroup_cpus_to_quota(l->cpus_milli, 100000));
                        r = cgroup_undo_write(&u, fd, "cpu.cfs_period_us", "100000");
                        if (r >= 0)
                                r = cgroup_undo_write(&u, fd, "cpu.cfs_quota_us", a);
                } else {
                        r = cgroup_undo_write(&u, fd, "cpu.cfs_quota_us", "-1");
                        if (r >= 0)
                                r = cgroup_undo_write(&u, fd, "cpu.cfs_period_us", "100000");
                }
                if (r < 0)
                        goto fail;
                key = "cpu-weight";
                snprintf(a, sizeof a, "%" PRIu64,
                         l->cpu_weight ? cgroup_weight_to_shares(l->cpu_weight) : 1024);
                r = cgroup_undo_write(&u, fd, "cpu.shares", a);
                if (r < 0)
                        goto fail;
        } else if (l->cpus_milli || l->cpu_weight)
                cgroup_add_note(e, &notes, "cpus", "no cpu controller on this host, skipped");

        fd = v1cg(cg)->fd[CG_CPUSET];
        if (fd >= 0) {
                key = "cpuset";
                _cleanup_free_ char *parent_cpus = NULL;
                const char *v = l->cpuset;
                if (!v) {
                        _cleanup_close_ int parent =
                                openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        r = parent < 0 ? -errno
                                       : cgroup_read_at(parent, "cpuset.cpus", &parent_cpus);
                        if (r < 0)
                                goto fail;
                        v = parent_cpus;
                }
                r = cgroup_undo_write(&u, fd, "cpuset.cpus", v);
                if (r < 0)
                        goto fail;
        } else if (l->cpuset)
                cgroup_add_note(e, &notes, "cpuset", "no cpuset controller on this host, skipped");

        fd = v1cg(cg)->fd[CG_PIDS];
        if (fd >= 0) {
                key = "pids";
                if (l->pids)
                        snprintf(a, sizeof a, "%" PRIu32, l->pids);
                else
                        snprintf(a, sizeof a, "max");
                r = cgroup_undo_write(&u, fd, "pids.max", a);
                if (r < 0)
                        goto fail;
        } else if (l->pids)
                cgroup_add_note(e, &notes, "pids", "no pids controller on this host, skipped");

        fd = v1cg(cg)->fd[CG_BLKIO];
        key = "io-weight";
        if (fd >= 0 && cgroup_file_exists_at(fd, "blkio.weight")) {
                snprintf(a, sizeof a, "%" PRIu32,
                         l->io_weight ? cgroup_io_weight_to_v1(l->io_weight) : 500);
                r = cgroup_undo_write(&u, fd, "blkio.weight", a);
        } else if (fd >= 0 && cgroup_file_exists_at(fd, "blkio.bfq.weight")) {
                snprintf(a, sizeof a, "%" PRIu32,
                         l->io_weight ? cgroup_io_weight_to_bfq(l->io_weight) : 100);
                r = cgroup_undo_write(&u, fd, "blkio.bfq.weight", a);
        } else if (l->io_weight)
                cgroup_add_note(e, &notes, "io-weight",
                                "no blkio.weight or blkio.bfq.weight on this host, skipped");
        if (r < 0)
                goto fail;
        r = cgroup_apply_io_max(&u, fd, false, l, e, &notes);
        if (r < 0) {
                cgroup_undo_rollback(&u);
                return r;
        }
        return notes ? 1 : 0;

fail:
        cgroup_undo_rollback(&u);
        (void) error_set(e, r, "limits.%s", key);
        return r;
}

static int v1_apply_devices(struct cgroup *cg, const struct cgroup_device_rule *extra, size_t n)
{
        static const char *const allow[] = {
                "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",   "c 1:9 rwm",
                "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
        };
        int fd = v1cg(cg)->fd[CG_DEVICES];
        if (fd < 0)
                return -EOPNOTSUPP;
        int r = cgroup_write_at(fd, "devices.deny", "a");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(allow); i++)
                r = cgroup_write_at(fd, "devices.allow", allow[i]);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char line[64];
                r = cgroup_write_at(fd, "devices.allow", cgroup_device_rule_format(&extra[i], line, sizeof line));
        }
        return r;
}

static int v1_attach(struct cgroup *cg, pid_t pid)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int) pid);
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c))
                        continue;
                int r = cgroup_write_at(v1cg(cg)->fd[c], "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void v1_cgroup_done(struct cgroup *cg)
{
        for (int c = 0; c < CG_N; c++) {
                if (v1cg(cg)->fd[c] >= 0)
                        (void) close(v1cg(cg)->fd[c]);
                free(v1cg(cg)->path[c]);
        }
}

static const char *v1_controller_path(const struct cgroup *cg, int c)
{
        return v1cg(cg)->path[c];
}

static const char *v1_path(const struct cgroup *cg)
{
        if (v1cg(cg)->path[CG_MEMORY])
                return v1cg(cg)->path[CG_MEMORY];
        for (int c = 0; c < CG_N; c++)
                if (v1cg(cg)->path[c])
                        return v1cg(cg)->path[c];
        return "";
}

/* No CLONE_INTO_CGROUP on v1: the new process moves itself through the
 * `tasks` file of each hierarchy, opened here (write-only, close-on-exec). */
static int v1_place(struct cgroup *cg, struct cgroup_placement *p)
{
        _Static_assert(CG_N <= CGROUP_JOIN_MAX, "one join fd per hierarchy");
        size_t n = 0;
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c))
                        continue;
                int fd = openat(v1cg(cg)->fd[c], "tasks", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int r = -errno;
                        for (size_t i = 0; i < n; i++)
                                (void) close(p->join_fds[i]);
                        return r;
                }
                p->join_fds[n++] = fd;
        }
        p->clone_into_fd = -1;
        p->n_join_fds = n;
        return 0;
}

static int v1_set_frozen(struct cgroup *cg, bool frozen)
{
        int fd = v1cg(cg)->fd[CG_FREEZER];
        if (fd < 0)
                return -EOPNOTSUPP;
        const char *want = frozen ? "FROZEN" : "THAWED";
        int r = cgroup_write_at(fd, "freezer.state", want);
        if (r < 0)
                return r;
        /* v1 has no notification: re-read the state, bounded by 5 s. */
        usec_t deadline = cgroup_now() + 5000000, step = 500;
        for (;;) {
                _cleanup_free_ char *s = NULL;
                r = cgroup_read_at(fd, "freezer.state", &s);
                if (r < 0)
                        return r;
                if (strncmp(s, want, strlen(want)) == 0)
                        return 0;
                if (cgroup_now() >= deadline)
                        return -ETIMEDOUT;
                /* A freeze stuck in FREEZING needs the write repeated. */
                if (frozen)
                        (void) cgroup_write_at(fd, "freezer.state", want);
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long) step * 1000};
                (void) nanosleep(&ts, NULL);
                if (step < 20000)
                        step *= 2;
        }
}

static int v1_is_frozen(struct cgroup *cg)
{
        int fd = v1cg(cg)->fd[CG_FREEZER];
        if (fd < 0 || !cgroup_file_exists_at(fd, "freezer.state"))
                return 0;
        _cleanup_free_ char *s = NULL;
        int r = cgroup_read_at(fd, "freezer.state", &s);
        if (r < 0)
                return r;
        /* FROZEN, or FREEZING on the way. */
        return strncmp(s, "THAWED", 6) != 0;
}

static int v1_name_is_frozen(const struct cgroup_manager *m, const char *name)
{
        const char *b = v1m(m)->base[CG_FREEZER];
        if (!b)
                return 0;
        char dir[PATH_MAX], s[16];
        if (snprintf(dir, sizeof dir, "%s/berth", b) >= (int) sizeof dir)
                return -ENAMETOOLONG;
        int r = cgroup_read_small_below(&v1m(m)->frozen_dfd, dir, name, "freezer.state", s, sizeof s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return strncmp(s, "THAWED", 6) != 0;
}

static int v1_is_empty(struct cgroup *cg)
{
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c) || v1cg(cg)->fd[c] < 0)
                        continue;
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0, cap = 0;
                int r = cgroup_collect_pids(v1cg(cg)->fd[c], &pids, &n, &cap, 0);
                if (r < 0)
                        return r;
                if (n > 0)
                        return 0;
        }
        return 1;
}

/* Every process is in every hierarchy; use one that exists. */
static int v1_procs_fd(struct cgroup *cg)
{
        static const int order[] = {CG_PIDS,    CG_FREEZER, CG_MEMORY, CG_CPU,
                                    CG_CPUACCT, CG_DEVICES, CG_BLKIO,  CG_CPUSET};
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (v1cg(cg)->fd[order[i]] >= 0)
                        return v1cg(cg)->fd[order[i]];
        return -ENOENT;
}

static int v1_stats(struct cgroup *cg, struct cgroup_stats *st)
{
        int fd = v1cg(cg)->fd[CG_MEMORY];
        if (fd >= 0) {
                (void) cgroup_read_u64_at(fd, "memory.usage_in_bytes", &st->memory_current);
                (void) cgroup_read_u64_at(fd, "memory.max_usage_in_bytes", &st->memory_peak);
                /* no limit: the page counter's maximum, rounded to pages */
                if (cgroup_read_u64_at(fd, "memory.limit_in_bytes", &st->memory_limit) < 0 ||
                    st->memory_limit >= (UINT64_C(1) << 62))
                        st->memory_limit = CGROUP_STAT_UNKNOWN;
                _cleanup_free_ char *oc = NULL;
                if (cgroup_read_at(fd, "memory.oom_control", &oc) >= 0 &&
                    cgroup_parse_keyed(oc, "oom_kill", &st->oom_kills) < 0)
                        st->oom_kills = CGROUP_STAT_UNKNOWN;
        }
        if (v1cg(cg)->fd[CG_CPUACCT] >= 0)
                (void) cgroup_read_u64_at(v1cg(cg)->fd[CG_CPUACCT], "cpuacct.usage",
                                          &st->cpu_usage_ns);
        if (v1cg(cg)->fd[CG_PIDS] >= 0) {
                (void) cgroup_read_u64_at(v1cg(cg)->fd[CG_PIDS], "pids.current", &st->pids_current);
                (void) cgroup_read_u64_at(v1cg(cg)->fd[CG_PIDS], "pids.max", &st->pids_limit);
        }
        fd = v1cg(cg)->fd[CG_BLKIO];
        if (fd >= 0) {
                static const char *const files[] = {"blkio.throttle.io_service_bytes_recursive",
                                                    "blkio.io_service_bytes_recursive",
                                                    "blkio.throttle.io_service_bytes"};
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        _cleanup_free_ char *t = NULL;
                        if (cgroup_read_at(fd, files[i], &t) < 0)
                                continue;
                        if (cgroup_parse_blkio_bytes(t, &st->io_read_bytes, &st->io_write_bytes) <
                            0)
                                st->io_read_bytes = st->io_write_bytes = CGROUP_STAT_UNKNOWN;
                        break;
                }
        }
        return 0;
}

static int v1_remove(struct cgroup *cg)
{
        int r = 0;
        for (int c = 0; c < CG_N; c++) {
                if (!v1m(cg->m)->base[c])
                        continue;
                bool shared = false;
                for (int i = 0; i < c; i++)
                        if (v1m(cg->m)->base[i] && streq(v1m(cg->m)->base[i], v1m(cg->m)->base[c]))
                                shared = true;
                if (shared)
                        continue;
                _cleanup_free_ char *berth = strdup_printf("%s/berth", v1m(cg->m)->base[c]);
                if (!berth)
                        return -ENOMEM;
                _cleanup_close_ int bfd =
                        open(berth, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (bfd < 0)
                        continue;
                /* A container's cgroup has no children (its cgroupfs is
                 * read-only): one rmdir, the tree walk only if that fails. */
                int q = 0;
                if (unlinkat(bfd, cg->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        q = cgroup_rmdir_tree(bfd, cg->name, 0);
                if (q < 0 && r == 0)
                        r = q;
                /* berth/ goes too once the last container is gone; another
                 * creator racing with us retries its mkdir. */
                (void) rmdir(berth);
        }
        return r;
}

static const char *v1_controller_name(int c)
{
        return cgroup_controller_names[c];
}

const struct cgroup_backend_ops cgroup_v1_ops = {
        .version = 1,
        .manager_size = sizeof(struct v1_manager),
        .cgroup_size = sizeof(struct v1_cgroup),
        .wanted = (1u << CG_N) - 1,
        .controller_name = v1_controller_name,
        .places_at_clone = false,
        .open = v1_open,
        .done = v1_done,
        .base = v1_base,
        .claim = NULL, /* no internal-process rule on v1 */
        .create = v1_create,
        .cgroup_done = v1_cgroup_done,
        .path = v1_path,
        .controller_path = v1_controller_path,
        .apply_limits = v1_apply_limits,
        .apply_devices = v1_apply_devices,
        .attach = v1_attach,
        .place = v1_place,
        .set_frozen = v1_set_frozen,
        .is_frozen = v1_is_frozen,
        .name_is_frozen = v1_name_is_frozen,
        .kill = NULL, /* freeze, signal every pid, thaw */
        .is_empty = v1_is_empty,
        .wait_empty = NULL, /* no notification without a release agent: polled */
        .stats = v1_stats,
        .procs_fd = v1_procs_fd,
        .remove = v1_remove,
};
