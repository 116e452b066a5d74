/* cgroup v1 backend: one directory per controller hierarchy. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup_internal.h"
#include "util.h"

/* Controllers whose hierarchy is co-mounted with an earlier one share its
 * directory: act on each directory once. */
static bool v1_is_first(const struct cgroup *cg, int c)
{
        if (!cg->v1_path[c])
                return false;
        for (int i = 0; i < c; i++)
                if (cg->v1_path[i] && streq(cg->v1_path[i], cg->v1_path[c]))
                        return false;
        return true;
}

int cgroup_v1_open(struct cgroup_manager *m)
{
        _cleanup_free_ char *self = NULL, *mi = NULL;
        int r = m->proc_text ? ((self = strdup(m->proc_text)) ? 0 : -ENOMEM)
                             : cgroup_read_at(AT_FDCWD, "/proc/self/cgroup", &self);
        if (r < 0)
                return r;
        r = cgroup_read_at(AT_FDCWD, "/proc/self/mountinfo", &mi);
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
                                        if (m->v1_base[c])
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
                                        m->v1_base[c] = strdup_printf("%s%s", mnt, rel);
                                        if (!m->v1_base[c])
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

int cgroup_v1_create(struct cgroup *cg, bool mk)
{
        struct cgroup_manager *m = cg->m;
        unsigned made = 0;
        int r = 0;
        bool any = false;
        for (int c = 0; c < CG_N; c++) {
                if (!m->v1_base[c])
                        continue;
                _cleanup_free_ char *berth = strdup_printf("%s/berth", m->v1_base[c]);
                if (!berth)
                        return -ENOMEM;
                bool shared = false;
                for (int i = 0; i < c; i++)
                        if (m->v1_base[i] && streq(m->v1_base[i], m->v1_base[c]))
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
                        r = cgroup_open_dir(berth, cg->name, create, &cg->v1_fd[c],
                                            &cg->v1_path[c]);
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
                        r = v1_cpuset_inherit(cg->v1_fd[c]);
                        if (r < 0)
                                goto out_remove;
                }
        }
        return any ? 0 : -ENOENT;

out_remove:
        /* Undo only the directories this call made. */
        for (int c = CG_N - 1; c >= 0; c--)
                if (made & (1u << c)) {
                        (void) rmdir(cg->v1_path[c]);
                        _cleanup_free_ char *berth = strdup_printf("%s/berth", m->v1_base[c]);
                        if (berth)
                                (void) rmdir(berth);
                }
        return r;
}

static void add_note(char *err, size_t errlen, int *notes, const char *fmt, const char *key)
{
        size_t len = err ? strlen(err) : 0;
        if (err && len + 1 < errlen)
                snprintf(err + len, errlen - len, "%slimits.%s: %s", len ? "; " : "", key, fmt);
        (*notes)++;
}

int cgroup_v1_apply_limits(struct cgroup *cg, const struct spec_limits *l, char *err, size_t errlen)
{
        struct cgroup_undo u = {.n = 0};
        int notes = 0, r = 0;
        const char *key = NULL;
        char a[32], b[32];

        int fd = cg->v1_fd[CG_MEMORY];
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
                        add_note(err, errlen, &notes, "no swap accounting on this host, skipped",
                                 "memory-swap");
        } else if (l->memory || l->memory_swap > 0)
                add_note(err, errlen, &notes, "no memory controller on this host, skipped",
                         "memory");

        fd = cg->v1_fd[CG_CPU];
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
                add_note(err, errlen, &notes, "no cpu controller on this host, skipped", "cpus");

        fd = cg->v1_fd[CG_CPUSET];
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
                add_note(err, errlen, &notes, "no cpuset controller on this host, skipped",
                         "cpuset");

        fd = cg->v1_fd[CG_PIDS];
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
                add_note(err, errlen, &notes, "no pids controller on this host, skipped", "pids");

        fd = cg->v1_fd[CG_BLKIO];
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
                add_note(err, errlen, &notes,
                         "no blkio.weight or blkio.bfq.weight on this host, skipped", "io-weight");
        if (r < 0)
                goto fail;
        return notes ? 1 : 0;

fail:
        cgroup_undo_rollback(&u);
        cgroup_set_err(err, errlen, key, r);
        return r;
}

int cgroup_v1_apply_devices(struct cgroup *cg)
{
        static const char *const allow[] = {
                "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",   "c 1:9 rwm",
                "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
        };
        int fd = cg->v1_fd[CG_DEVICES];
        if (fd < 0)
                return -EOPNOTSUPP;
        int r = cgroup_write_at(fd, "devices.deny", "a");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(allow); i++)
                r = cgroup_write_at(fd, "devices.allow", allow[i]);
        return r;
}

int cgroup_v1_attach(struct cgroup *cg, pid_t pid)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int) pid);
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c))
                        continue;
                int r = cgroup_write_at(cg->v1_fd[c], "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_v1_open_tasks(struct cgroup *cg, int *fds, size_t max, size_t *ret_n)
{
        size_t n = 0;
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c))
                        continue;
                int fd = n < max ? openat(cg->v1_fd[c], "tasks", O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
                if (fd < 0) {
                        int r = n < max ? -errno : -E2BIG;
                        for (size_t i = 0; i < n; i++)
                                close(fds[i]);
                        return r;
                }
                fds[n++] = fd;
        }
        *ret_n = n;
        return 0;
}

int cgroup_v1_set_frozen(struct cgroup *cg, bool frozen)
{
        int fd = cg->v1_fd[CG_FREEZER];
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

int cgroup_v1_is_empty(struct cgroup *cg)
{
        for (int c = 0; c < CG_N; c++) {
                if (!v1_is_first(cg, c) || cg->v1_fd[c] < 0)
                        continue;
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0, cap = 0;
                int r = cgroup_collect_pids(cg->v1_fd[c], &pids, &n, &cap, 0);
                if (r < 0)
                        return r;
                if (n > 0)
                        return 0;
        }
        return 1;
}

int cgroup_v1_stats(struct cgroup *cg, struct cgroup_stats *st)
{
        int fd = cg->v1_fd[CG_MEMORY];
        if (fd >= 0) {
                (void) cgroup_read_u64_at(fd, "memory.usage_in_bytes", &st->memory_current);
                (void) cgroup_read_u64_at(fd, "memory.max_usage_in_bytes", &st->memory_peak);
                _cleanup_free_ char *oc = NULL;
                if (cgroup_read_at(fd, "memory.oom_control", &oc) >= 0 &&
                    cgroup_parse_keyed(oc, "oom_kill", &st->oom_kills) < 0)
                        st->oom_kills = CGROUP_STAT_UNKNOWN;
        }
        if (cg->v1_fd[CG_CPUACCT] >= 0)
                (void) cgroup_read_u64_at(cg->v1_fd[CG_CPUACCT], "cpuacct.usage",
                                          &st->cpu_usage_ns);
        if (cg->v1_fd[CG_PIDS] >= 0)
                (void) cgroup_read_u64_at(cg->v1_fd[CG_PIDS], "pids.current", &st->pids_current);
        fd = cg->v1_fd[CG_BLKIO];
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

int cgroup_v1_remove(struct cgroup *cg)
{
        int r = 0;
        for (int c = 0; c < CG_N; c++) {
                if (!cg->m->v1_base[c])
                        continue;
                bool shared = false;
                for (int i = 0; i < c; i++)
                        if (cg->m->v1_base[i] && streq(cg->m->v1_base[i], cg->m->v1_base[c]))
                                shared = true;
                if (shared)
                        continue;
                _cleanup_free_ char *berth = strdup_printf("%s/berth", cg->m->v1_base[c]);
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
