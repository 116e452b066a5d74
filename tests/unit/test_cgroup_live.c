/* Live tests of cgroup.c against the host's real cgroups (v1 here, v2 in the
 * VM lane): limits enforced by the kernel, freeze, kill, stats, removal.
 * Needs root; every test skips otherwise. Cgroups are named btcg-<pid>-<n>
 * below the process's own cgroup and removed after each test.
 * On v2, set BERTH_CGROUP_CLAIM=1 to let the test claim its own (delegated)
 * cgroup like berthd does; without it a busy non-root own cgroup skips. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "cgroup_backend.h"
#include "util.h"

struct fixture {
        struct cgroup_manager *m;
        struct cgroup *cg;
        char name[64];
        char paths[CG_N + 1][512]; /* every directory of the cgroup, "" terminated */
};

static struct cgroup_manager *manager;
static int counter;
static const char *skip_reason;

static void msleep(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void reap_all(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static int group_setup(void **state)
{
        (void) state;
        if (geteuid() != 0) {
                skip_reason = "not root";
                return 0;
        }
        int r = cgroup_open_manager(&manager);
        if (r < 0) {
                skip_reason = "no cgroup file system";
                return 0;
        }
        const char *claim = getenv("BERTH_CGROUP_CLAIM");
        if (claim && streq(claim, "1")) {
                r = cgroup_manager_claim(manager);
                if (r < 0) {
                        fprintf(stderr, "claim failed: %s\n", strerror(-r));
                        return -1;
                }
        }
        /* Orphans of the forking tests come back to us to be reaped. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        fprintf(stderr, "# cgroup v%d, base %s, missing: '%s'\n", cgroup_manager_version(manager),
                cgroup_manager_base(manager), cgroup_manager_missing(manager));
        return 0;
}

static int group_teardown(void **state)
{
        (void) state;
        cgroup_manager_free(manager);
        return 0;
}

static int setup(void **state)
{
        if (skip_reason) {
                *state = NULL;
                return 0;
        }
        struct fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        f->m = manager;
        snprintf(f->name, sizeof f->name, "btcg-%d-%d", (int) getpid(), ++counter);
        int r = cgroup_create(manager, f->name, &f->cg);
        if (r == -EBUSY && cgroup_manager_version(manager) == 2) {
                skip_reason =
                        "own v2 cgroup holds processes (set BERTH_CGROUP_CLAIM=1 when delegated)";
                free(f);
                *state = NULL;
                return 0;
        }
        assert_int_equal(r, 0);
        size_t n = 0;
        if (cgroup_manager_version(manager) == 2)
                snprintf(f->paths[n++], sizeof f->paths[0], "%s", cgroup_path(f->cg));
        else
                for (int c = 0; c < CG_N; c++)
                        if (cgroup_controller_path(f->cg, c))
                                snprintf(f->paths[n++], sizeof f->paths[0], "%s",
                                         cgroup_controller_path(f->cg, c));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (!f)
                return 0;
        (void) cgroup_thaw(f->cg);
        (void) cgroup_kill_all(f->cg, SIGKILL);
        int r = cgroup_wait_empty(f->cg, 5000000);
        reap_all();
        int q = cgroup_remove(f->cg);
        cgroup_free(f->cg);
        bool left = false;
        for (size_t i = 0; f->paths[i][0]; i++)
                if (access(f->paths[i], F_OK) == 0) {
                        fprintf(stderr, "left behind: %s\n", f->paths[i]);
                        left = true;
                }
        free(f);
        reap_all();
        return r < 0 || q < 0 || left ? -1 : 0;
}

#define SKIP_UNLESS_READY(f)                                                                       \
        do {                                                                                       \
                if (!(f)) {                                                                        \
                        fprintf(stderr, "# skip: %s\n", skip_reason);                              \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

/* Forks a child that joins cg and runs fn; the parent returns its pid once
 * it is in the cgroup. */
static pid_t spawn_in(struct cgroup *cg, void (*fn)(void *), void *arg)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                char ok = cgroup_attach(cg, getpid()) < 0 ? 'E' : 'K';
                (void) !write(p[1], &ok, 1);
                close(p[1]);
                if (ok == 'K')
                        fn(arg);
                _exit(ok == 'K' ? 0 : 99);
        }
        close(p[1]);
        char ok = 0;
        assert_int_equal(read(p[0], &ok, 1), 1);
        close(p[0]);
        assert_int_equal(ok, 'K');
        return pid;
}

static void do_sleep(void *arg)
{
        (void) arg;
        for (int i = 0; i < 600; i++)
                pause();
}

static void do_spin(void *arg)
{
        volatile uint64_t *counter_p = arg;
        for (;;)
                if (counter_p)
                        (*counter_p)++;
}

static char *read_file_str(const char *dir, const char *file)
{
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, file);
        char *s = NULL;
        int r = cgroup_read_at(AT_FDCWD, p, &s);
        if (r < 0)
                return NULL;
        s[strcspn(s, "\n")] = 0;
        return s;
}

static bool is_v2(void)
{
        return cgroup_manager_version(manager) == 2;
}

static bool have(int controller)
{
        return manager->available & (1u << controller);
}

/* ---- tests ---- */

/* cgroup_prepare() replaces a leftover of the same name (the fixture's
 * cgroup) and hands the placement its backend uses: v2 a clone-into fd, a
 * child cloned with it is born in the cgroup; v1 one `tasks` fd per
 * hierarchy, through which a child moves itself (as a container's set-up
 * child does). Either way the child ends up in every directory of it. */
static void test_prepare_placement_puts_child_in_cgroup(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        struct spec_limits l = {0};
        struct cgroup *cg = NULL;
        struct cgroup_placement pl = CGROUP_PLACEMENT_INIT;
        struct error err = { 0 };
        int r = cgroup_prepare(f->m, f->name, &l, NULL, 0, &cg, &pl, &err);
        if (r < 0)
                fprintf(stderr, "cgroup_prepare: %s\n", err.msg);
        assert_int_equal(r, 0);
        assert_string_equal(cgroup_path(cg), cgroup_path(f->cg));
        cgroup_free(f->cg);
        f->cg = cg;
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid;
        if (cgroup_manager_places_at_clone(f->m)) {
                assert_true(pl.clone_into_fd >= 0);
                assert_int_equal(pl.n_join_fds, 0);
                struct clone_args a = {.flags = CLONE_INTO_CGROUP,
                                       .exit_signal = SIGCHLD,
                                       .cgroup = (uint64_t) pl.clone_into_fd};
                pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
                assert_true(pid >= 0);
                if (pid == 0) {
                        char ok = 'K';
                        (void) !write(p[1], &ok, 1);
                        for (int i = 0; i < 600; i++)
                                pause();
                        _exit(0);
                }
        } else {
                assert_int_equal(pl.clone_into_fd, -1);
                assert_true(pl.n_join_fds >= 1 && pl.n_join_fds <= CGROUP_JOIN_MAX);
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        char ok = cgroup_join_self(pl.join_fds, pl.n_join_fds) < 0 ? 'E' : 'K';
                        (void) !write(p[1], &ok, 1);
                        for (int i = 0; i < 600; i++)
                                pause();
                        _exit(0);
                }
        }
        cgroup_placement_done(&pl);
        assert_int_equal(pl.n_join_fds, 0);
        close(p[1]);
        char ok = 0;
        assert_int_equal(read(p[0], &ok, 1), 1);
        close(p[0]);
        assert_int_equal(ok, 'K');
        /* In every directory of the cgroup (each hierarchy). */
        char want[32];
        snprintf(want, sizeof want, "%d", (int) pid);
        for (size_t i = 0; f->paths[i][0]; i++) {
                char *procs = read_file_str(f->paths[i], "cgroup.procs");
                assert_non_null(procs);
                if (strcmp(procs, want) != 0)
                        fprintf(stderr, "%s/cgroup.procs: '%s', want '%s'\n", f->paths[i], procs, want);
                assert_string_equal(procs, want);
                free(procs);
        }
}

static void test_create_exists_open_existing_and_eexist(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        for (size_t i = 0; f->paths[i][0]; i++)
                assert_int_equal(access(f->paths[i], F_OK), 0);
        struct cgroup *again = NULL;
        assert_int_equal(cgroup_create(f->m, f->name, &again), -EEXIST);
        assert_int_equal(cgroup_open_existing(f->m, f->name, &again), 0);
        assert_string_equal(cgroup_path(again), cgroup_path(f->cg));
        cgroup_free(again);
        char other[80];
        snprintf(other, sizeof other, "%s-none", f->name);
        assert_int_equal(cgroup_open_existing(f->m, other, &again), -ENOENT);
        assert_int_equal(cgroup_create(f->m, "../escape", &again), -EINVAL);
        assert_int_equal(cgroup_manager_places_at_clone(f->m), is_v2());
}

struct bomb {
        int fd;
};

static void do_fork_bomb(void *arg)
{
        struct bomb *b = arg;
        int n = 0, err = 0;
        for (int i = 0; i < 500; i++) {
                pid_t p = fork();
                if (p < 0) {
                        err = errno;
                        break;
                }
                if (p == 0) {
                        for (int k = 0; k < 600; k++)
                                pause();
                        _exit(0);
                }
                n++;
        }
        int res[2] = {n, err};
        (void) !write(b->fd, res, sizeof res);
        for (int k = 0; k < 600; k++)
                pause();
}

static void test_apply_limits_pids_stops_fork_bomb(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_PIDS))
                skip();
        struct spec_limits l = {.pids = 64};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct bomb b = {.fd = p[1]};
        (void) spawn_in(f->cg, do_fork_bomb, &b);
        close(p[1]);
        int res[2] = {0, 0};
        assert_int_equal(read(p[0], res, sizeof res), sizeof res);
        close(p[0]);
        fprintf(stderr, "# forked %d children before fork failed (%s)\n", res[0], strerror(res[1]));
        assert_int_equal(res[1], EAGAIN);
        assert_true(res[0] <= 63);
        struct cgroup_stats st;
        assert_int_equal(cgroup_stats(f->cg, &st), 0);
        assert_true(st.pids_current <= 64);
        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_pids(f->cg, &pids, &n), 0);
        assert_true(n <= 64 && n >= (size_t) res[0]);
        free(pids);
}

static void do_allocate(void *arg)
{
        (void) arg;
        /* 200 MiB, touched page by page, in 1 MiB pieces. */
        for (int i = 0; i < 200; i++) {
                char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
                if (p == MAP_FAILED)
                        _exit(3);
                for (size_t o = 0; o < (1 << 20); o += 4096)
                        p[o] = 1;
        }
        _exit(0);
}

static void test_apply_limits_memory_oom_kills(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_MEMORY))
                skip();
        struct spec_limits l = {.memory = 64 << 20, .memory_swap = 64 << 20};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        struct cgroup_stats before;
        assert_int_equal(cgroup_stats(f->cg, &before), 0);
        pid_t pid = spawn_in(f->cg, do_allocate, NULL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        struct cgroup_stats st;
        assert_int_equal(cgroup_stats(f->cg, &st), 0);
        fprintf(stderr, "# oom_kills %llu → %llu, peak %llu\n",
                (unsigned long long) before.oom_kills, (unsigned long long) st.oom_kills,
                (unsigned long long) st.memory_peak);
        assert_true(st.oom_kills != CGROUP_STAT_UNKNOWN);
        assert_true(st.oom_kills >= before.oom_kills + 1);
        if (st.memory_peak != CGROUP_STAT_UNKNOWN)
                assert_true(st.memory_peak <= (64u << 20));
}

static void test_apply_limits_cpus_half(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_CPU))
                skip();
        struct spec_limits l = {.cpus_milli = 500};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        (void) spawn_in(f->cg, do_spin, NULL);
        msleep(300);
        struct cgroup_stats a, b;
        assert_int_equal(cgroup_stats(f->cg, &a), 0);
        if (a.cpu_usage_ns == CGROUP_STAT_UNKNOWN)
                skip();
        usec_t t0 = cgroup_now();
        msleep(3000);
        assert_int_equal(cgroup_stats(f->cg, &b), 0);
        usec_t t1 = cgroup_now();
        double pct = (double) (b.cpu_usage_ns - a.cpu_usage_ns) / 10.0 / (double) (t1 - t0);
        fprintf(stderr, "# cpus=0.5 measured %.1f%% of one CPU over %.1f s\n", pct,
                (double) (t1 - t0) / 1e6);
        assert_true(pct >= 35.0 && pct <= 65.0);
}

static void test_freeze_stops_counter_thaw_resumes(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        volatile uint64_t *ctr =
                mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(ctr != MAP_FAILED);
        (void) spawn_in(f->cg, do_spin, (void *) ctr);
        msleep(100);
        int r = cgroup_freeze(f->cg);
        if (r == -EOPNOTSUPP) {
                munmap((void *) ctr, 4096);
                skip();
        }
        assert_int_equal(r, 0);
        uint64_t c1 = *ctr;
        msleep(300);
        uint64_t c2 = *ctr;
        assert_int_equal(c1, c2);
        assert_int_equal(cgroup_thaw(f->cg), 0);
        msleep(300);
        uint64_t c3 = *ctr;
        fprintf(stderr, "# frozen counter %llu stayed, thawed reached %llu\n",
                (unsigned long long) c2, (unsigned long long) c3);
        assert_true(c3 > c2);
        munmap((void *) ctr, 4096);
}

static void do_flee(void *arg)
{
        (void) arg;
        /* The escape artist: fork, let the parent die, repeat; the pid
         * never stays the same. Bounded by the pids limit and by time. */
        time_t end = time(NULL) + 60;
        while (time(NULL) < end) {
                pid_t p = fork();
                if (p > 0)
                        _exit(0);
                if (p < 0)
                        msleep(1);
        }
        _exit(0);
}

static void test_kill_all_empties_forking_cgroup(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        struct spec_limits l = {.pids = 32};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        for (int i = 0; i < 4; i++)
                (void) spawn_in(f->cg, do_flee, NULL);
        msleep(200);
        reap_all();
        assert_int_equal(cgroup_is_empty(f->cg), 0);
        assert_int_equal(cgroup_kill_all(f->cg, SIGKILL), 0);
        int r = cgroup_wait_empty(f->cg, 5000000);
        reap_all();
        assert_int_equal(r, 0);
        assert_int_equal(cgroup_is_empty(f->cg), 1);
}

static void test_apply_limits_live_memory_change(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_MEMORY))
                skip();
        const char *file = is_v2() ? "memory.max" : "memory.limit_in_bytes";
        const char *dir = is_v2() ? cgroup_path(f->cg) : cgroup_controller_path(f->cg, CG_MEMORY);
        pid_t pid = spawn_in(f->cg, do_sleep, NULL);
        struct spec_limits l = {.memory = 100 << 20};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        char *v = read_file_str(dir, file);
        assert_string_equal(v, "104857600");
        free(v);
        l.memory = 200 << 20;
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        v = read_file_str(dir, file);
        assert_string_equal(v, "209715200");
        free(v);
        l.memory = 0;
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        v = read_file_str(dir, file);
        assert_true(streq(v, "max") || strtoull(v, NULL, 10) > (1ULL << 50));
        free(v);
        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_pids(f->cg, &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], pid);
        free(pids);
        assert_int_equal(kill(pid, 0), 0);
}

static void do_hold_40m(void *arg)
{
        int fd = *(int *) arg;
        char *p = mmap(NULL, 40 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(3);
        memset(p, 1, 40 << 20);
        (void) !write(fd, "x", 1);
        for (int k = 0; k < 600; k++)
                pause();
}

static void test_apply_limits_memory_below_usage_fails_keeps_old(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_MEMORY))
                skip();
        const char *file = is_v2() ? "memory.max" : "memory.limit_in_bytes";
        const char *dir = is_v2() ? cgroup_path(f->cg) : cgroup_controller_path(f->cg, CG_MEMORY);
        struct spec_limits l = {.memory = 100 << 20, .memory_swap = 100 << 20, .pids = 10};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = spawn_in(f->cg, do_hold_40m, &p[1]);
        close(p[1]);
        char x;
        assert_int_equal(read(p[0], &x, 1), 1);
        close(p[0]);
        struct spec_limits bad = {.memory = 10 << 20, .memory_swap = 10 << 20, .pids = 20};
        int r = cgroup_apply_limits(f->cg, &bad, &err);
        fprintf(stderr, "# error: %s\n", err.msg);
        assert_true(r < 0);
        assert_true(strncmp(err.msg, "limits.memory", 13) == 0);
        assert_non_null(strstr(err.msg, ": "));
        char *v = read_file_str(dir, file);
        assert_string_equal(v, "104857600");
        free(v);
        /* Keys written before the failure are rolled back too. */
        const char *pdir = is_v2() ? cgroup_path(f->cg) : cgroup_controller_path(f->cg, CG_PIDS);
        if (pdir) {
                v = read_file_str(pdir, "pids.max");
                assert_string_equal(v, "10");
                free(v);
        }
        assert_int_equal(kill(pid, 0), 0);
}

static void test_apply_limits_cpuset_outside_host_fails_keeps_old(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!have(CG_CPUSET) || sysconf(_SC_NPROCESSORS_CONF) > 63)
                skip();
        const char *dir = is_v2() ? cgroup_path(f->cg) : cgroup_controller_path(f->cg, CG_CPUSET);
        struct spec_limits l = {.cpuset = (char *) "0"};
        struct error err = { 0 };
        assert_true(cgroup_apply_limits(f->cg, &l, &err) >= 0);
        char *v = read_file_str(dir, "cpuset.cpus");
        assert_string_equal(v, "0");
        free(v);
        l.cpuset = (char *) "63";
        int r = cgroup_apply_limits(f->cg, &l, &err);
        fprintf(stderr, "# error: %s\n", err.msg);
        assert_true(r < 0);
        assert_true(strncmp(err.msg, "limits.cpuset: ", 15) == 0);
        assert_string_equal(err.msg + 15, strerror(-r));
        v = read_file_str(dir, "cpuset.cpus");
        assert_string_equal(v, "0");
        free(v);
}

static void do_mknod(void *arg)
{
        const char *base = arg;
        char a[256], b[256];
        snprintf(a, sizeof a, "%s-null", base);
        snprintf(b, sizeof b, "%s-mem", base);
        int ok = mknod(a, S_IFCHR | 0600, makedev(1, 3));
        int e1 = ok < 0 ? errno : 0;
        int bad = mknod(b, S_IFCHR | 0600, makedev(1, 1));
        int e2 = bad < 0 ? errno : 0;
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        (void) unlink(a);
        (void) unlink(b);
        _exit(e1 == 0 && e2 == EPERM && fd >= 0
                      ? 0
                      : 10 + (e1 ? 1 : 0) + (e2 != EPERM ? 2 : 0) + (fd < 0 ? 4 : 0));
}

static void test_apply_devices_denies_other_devices(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        if (!is_v2() && !have(CG_DEVICES))
                skip();
        assert_int_equal(cgroup_apply_devices(f->cg, NULL, 0), 0);
        assert_int_equal(cgroup_apply_devices(f->cg, NULL, 0), 0); /* idempotent */
        char base[128];
        snprintf(base, sizeof base, "/tmp/%s", f->name);
        pid_t pid = spawn_in(f->cg, do_mknod, base);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void do_work(void *arg)
{
        (void) arg;
        volatile uint64_t x = 0;
        volatile char *p =
                mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED)
                for (size_t o = 0; o < (8u << 20); o += 4096)
                        p[o] = 1;
        for (uint64_t i = 0; i < 50000000; i++)
                x += i;
        for (int k = 0; k < 600; k++)
                pause();
}

static void test_stats_reports_usage(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        (void) spawn_in(f->cg, do_work, NULL);
        msleep(700);
        struct cgroup_stats st;
        assert_int_equal(cgroup_stats(f->cg, &st), 0);
        fprintf(stderr, "# memory %llu cpu %llu ns pids %llu io %llu/%llu oom %llu\n",
                (unsigned long long) st.memory_current, (unsigned long long) st.cpu_usage_ns,
                (unsigned long long) st.pids_current, (unsigned long long) st.io_read_bytes,
                (unsigned long long) st.io_write_bytes, (unsigned long long) st.oom_kills);
        if (have(CG_MEMORY))
                assert_true(st.memory_current >= (6u << 20) &&
                            st.memory_current != CGROUP_STAT_UNKNOWN);
        assert_true(st.cpu_usage_ns > 10000000 && st.cpu_usage_ns != CGROUP_STAT_UNKNOWN);
        if (have(CG_PIDS))
                assert_int_equal(st.pids_current, 1);
        if (have(CG_MEMORY))
                assert_int_equal(st.oom_kills, 0);
}

static void test_remove_refuses_while_populated(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        (void) spawn_in(f->cg, do_sleep, NULL);
        assert_int_equal(cgroup_remove(f->cg), -EBUSY);
        for (size_t i = 0; f->paths[i][0]; i++)
                assert_int_equal(access(f->paths[i], F_OK), 0);
}

static void expect_file(const char *dir, const char *file, const char *want)
{
        if (!dir)
                return;
        char *v = read_file_str(dir, file);
        if (!v)
                return; /* this host has no such file */
        if (!streq(v, want))
                fprintf(stderr, "%s/%s: '%s', expected '%s'\n", dir, file, v, want);
        assert_string_equal(v, want);
        free(v);
}

static void test_apply_limits_weights_swap_and_defaults(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        struct spec_limits l = {.memory = 64 << 20,
                                .memory_swap = 96 << 20,
                                .cpus_milli = 1500,
                                .cpu_weight = 500,
                                .io_weight = 500,
                                .pids = 0};
        struct error err = { 0 };
        int r = cgroup_apply_limits(f->cg, &l, &err);
        fprintf(stderr, "# apply: %d '%s'\n", r, err.msg);
        assert_true(r >= 0);
        if (r == 1)
                assert_non_null(strstr(err.msg, "limits."));
        if (is_v2()) {
                const char *d = cgroup_path(f->cg);
                expect_file(d, "memory.swap.max", "33554432");
                expect_file(d, "cpu.max", "150000 100000");
                expect_file(d, "cpu.weight", "500");
                expect_file(d, "pids.max", "max");
                if (access(d, F_OK) == 0 && r == 0) {
                        char *v = read_file_str(d, "io.weight");
                        if (v) {
                                assert_string_equal(v, "default 500");
                                free(v);
                        }
                }
        } else {
                expect_file(cgroup_controller_path(f->cg, CG_MEMORY), "memory.memsw.limit_in_bytes", "100663296");
                expect_file(cgroup_controller_path(f->cg, CG_CPU), "cpu.cfs_quota_us", "150000");
                expect_file(cgroup_controller_path(f->cg, CG_CPU), "cpu.shares", "13084");
                expect_file(cgroup_controller_path(f->cg, CG_PIDS), "pids.max", "max");
                char *w = cgroup_controller_path(f->cg, CG_BLKIO)
                                  ? read_file_str(cgroup_controller_path(f->cg, CG_BLKIO), "blkio.weight")
                                  : NULL;
                if (w)
                        assert_string_equal(w, "504");
                else
                        expect_file(cgroup_controller_path(f->cg, CG_BLKIO), "blkio.bfq.weight", "50");
                free(w);
        }
        /* Everything unset again: the kernel defaults come back. */
        struct spec_limits none = {0};
        assert_true(cgroup_apply_limits(f->cg, &none, &err) >= 0);
        if (is_v2()) {
                expect_file(cgroup_path(f->cg), "memory.max", "max");
                expect_file(cgroup_path(f->cg), "memory.swap.max", "max");
                expect_file(cgroup_path(f->cg), "cpu.max", "max 100000");
                expect_file(cgroup_path(f->cg), "cpu.weight", "100");
        } else {
                expect_file(cgroup_controller_path(f->cg, CG_CPU), "cpu.cfs_quota_us", "-1");
                expect_file(cgroup_controller_path(f->cg, CG_CPU), "cpu.shares", "1024");
                expect_file(cgroup_controller_path(f->cg, CG_MEMORY), "memory.memsw.limit_in_bytes",
                            "9223372036854771712");
                expect_file(cgroup_controller_path(f->cg, CG_MEMORY), "memory.limit_in_bytes",
                            "9223372036854771712");
        }
}

static void test_kill_all_sigterm_reaches_every_process(void **state)
{
        struct fixture *f = *state;
        SKIP_UNLESS_READY(f);
        for (int i = 0; i < 3; i++)
                (void) spawn_in(f->cg, do_sleep, NULL);
        assert_int_equal(cgroup_is_empty(f->cg), 0);
        assert_int_equal(cgroup_kill_all(f->cg, SIGTERM), 0);
        int r = cgroup_wait_empty(f->cg, 5000000);
        reap_all();
        assert_int_equal(r, 0);
        assert_int_equal(cgroup_is_empty(f->cg), 1);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_create_exists_open_existing_and_eexist),
                T(test_prepare_placement_puts_child_in_cgroup),
                T(test_apply_limits_pids_stops_fork_bomb),
                T(test_apply_limits_memory_oom_kills),
                T(test_apply_limits_cpus_half),
                T(test_freeze_stops_counter_thaw_resumes),
                T(test_kill_all_empties_forking_cgroup),
                T(test_apply_limits_live_memory_change),
                T(test_apply_limits_memory_below_usage_fails_keeps_old),
                T(test_apply_limits_cpuset_outside_host_fails_keeps_old),
                T(test_apply_devices_denies_other_devices),
                T(test_stats_reports_usage),
                T(test_remove_refuses_while_populated),
                T(test_apply_limits_weights_swap_and_defaults),
                T(test_kill_all_sigterm_reaches_every_process),
        };
        return cmocka_run_group_tests_name("cgroup_live", tests, group_setup, group_teardown);
}
