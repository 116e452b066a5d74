/* Unit tests for the parts of the cgroup module that need no root: the
 * conversions and parsers of cgroup_util.c, and both backends through the one
 * interface of cgroup.h against a fake cgroupfs tree in a temporary
 * directory (cgroup_open_manager_with() reads the host from there). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "cgroup_backend.h"
#include "cgroup_util.h"

static void test_weight_to_shares_matches_runc(void **state)
{
        (void) state;
        assert_int_equal(cgroup_weight_to_shares(1), 2);
        assert_int_equal(cgroup_weight_to_shares(100), 2597);
        assert_int_equal(cgroup_weight_to_shares(10000), 262144);
        assert_int_equal(cgroup_weight_to_shares(0), 2);          /* clamped */
        assert_int_equal(cgroup_weight_to_shares(20000), 262144); /* clamped */
}

static void test_io_weight_to_v1_range(void **state)
{
        (void) state;
        assert_int_equal(cgroup_io_weight_to_v1(1), 10);
        assert_int_equal(cgroup_io_weight_to_v1(10000), 1000);
        assert_int_equal(cgroup_io_weight_to_v1(5000), 504);
        assert_int_equal(cgroup_io_weight_to_bfq(1), 1);
        assert_int_equal(cgroup_io_weight_to_bfq(10000), 1000);
}

static void test_cpus_to_quota_values(void **state)
{
        (void) state;
        assert_int_equal(cgroup_cpus_to_quota(500, 100000), 50000);
        assert_int_equal(cgroup_cpus_to_quota(1500, 100000), 150000);
        assert_int_equal(cgroup_cpus_to_quota(1, 100000), 1000); /* kernel minimum */
        assert_int_equal(cgroup_cpus_to_quota(4096000, 100000), 409600000ULL);
}

static const char proc_v1[] = "12:name=systemd:/user.slice\n"
                              "4:memory:/process_api/db45\n"
                              "2:cpu,cpuacct:/system.slice/x.service\n"
                              "1:pids:/\n"
                              "0::/user.slice/u.scope\n";

static void test_parse_proc_cgroup_v1_controllers(void **state)
{
        (void) state;
        char *p = NULL;
        assert_int_equal(cgroup_parse_proc_cgroup(proc_v1, "memory", &p), 0);
        assert_string_equal(p, "/process_api/db45");
        free(p);
        assert_int_equal(cgroup_parse_proc_cgroup(proc_v1, "cpuacct", &p), 0);
        assert_string_equal(p, "/system.slice/x.service");
        free(p);
        assert_int_equal(cgroup_parse_proc_cgroup(proc_v1, "pids", &p), 0);
        assert_string_equal(p, "/");
        free(p);
        /* "cpu" must not match "cpuset" or a prefix of "cpuacct". */
        assert_int_equal(cgroup_parse_proc_cgroup("3:cpuset:/a\n", "cpu", &p), -ENOENT);
        assert_int_equal(cgroup_parse_proc_cgroup(proc_v1, "devices", &p), -ENOENT);
}

static void test_parse_proc_cgroup_v2_line(void **state)
{
        (void) state;
        char *p = NULL;
        assert_int_equal(cgroup_parse_proc_cgroup(proc_v1, "", &p), 0);
        assert_string_equal(p, "/user.slice/u.scope");
        free(p);
        assert_int_equal(cgroup_parse_proc_cgroup("0::/\n", "", &p), 0);
        assert_string_equal(p, "/");
        free(p);
        assert_int_equal(cgroup_parse_proc_cgroup("4:memory:/x\n", "", &p), -ENOENT);
}

static void test_parse_keyed_finds_exact_key(void **state)
{
        (void) state;
        const char *cpu = "usage_usec 123456\nuser_usec 100\nsystem_usec 23456\n";
        uint64_t v = 0;
        assert_int_equal(cgroup_parse_keyed(cpu, "usage_usec", &v), 0);
        assert_int_equal(v, 123456);
        assert_int_equal(cgroup_parse_keyed(cpu, "system_usec", &v), 0);
        assert_int_equal(v, 23456);
        const char *oom = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_int_equal(cgroup_parse_keyed(oom, "oom_kill", &v), 0);
        assert_int_equal(v, 3);
        assert_int_equal(cgroup_parse_keyed(oom, "usage", &v), -ENOENT);
        assert_int_equal(cgroup_parse_keyed("populated 1\nfrozen 0\n", "frozen", &v), 0);
        assert_int_equal(v, 0);
}

static void test_parse_io_stat_sums_devices(void **state)
{
        (void) state;
        const char *t = "8:0 rbytes=1000 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
                        "8:16 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0\n";
        uint64_t r = 0, w = 0;
        assert_int_equal(cgroup_parse_io_stat(t, &r, &w), 0);
        assert_int_equal(r, 1005);
        assert_int_equal(w, 27);
        assert_int_equal(cgroup_parse_io_stat("", &r, &w), 0);
        assert_int_equal(r, 0);
        assert_int_equal(cgroup_parse_io_stat("8:0 rbytes=1x wbytes=2\n", &r, &w), -EINVAL);
}

static void test_parse_blkio_bytes_reads_and_writes(void **state)
{
        (void) state;
        const char *t = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Async 2\n8:0 Total 12288\n"
                        "8:16 Read 4\n8:16 Write 0\nTotal 12292\n";
        uint64_t r = 0, w = 0;
        assert_int_equal(cgroup_parse_blkio_bytes(t, &r, &w), 0);
        assert_int_equal(r, 4100);
        assert_int_equal(w, 8192);
}

/* ---- both backends against a fake cgroupfs tree ---- */

struct fake {
        char root[64];
        const struct cgroup_backend_ops *ops;
        char proc[256], mountinfo[1024];
        struct cgroup_manager *m;
};

static void put(const char *dir, const char *file, const char *text)
{
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, file);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

static char *get(const char *dir, const char *file)
{
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, file);
        char *s = NULL;
        assert_int_equal(cgroup_read_at(AT_FDCWD, p, &s), 0);
        return s;
}

#define assert_file(dir, file, want)                                                               \
        do {                                                                                       \
                char *s_ = get(dir, file);                                                         \
                assert_string_equal(s_, want);                                                     \
                free(s_);                                                                          \
        } while (0)

static void mkdirf(const char *fmt, const char *a, const char *b)
{
        char p[512];
        snprintf(p, sizeof p, fmt, a, b);
        assert_int_equal(mkdir(p, 0755), 0);
}

/* v2: root/svc is our cgroup; memory, cpu, pids are enabled there. */
static int fake_v2_setup(void **state)
{
        struct fake *f = calloc(1, sizeof *f);
        snprintf(f->root, sizeof f->root, "/tmp/cgfake.XXXXXX");
        if (!f || !mkdtemp(f->root))
                return -1;
        f->ops = &cgroup_v2_ops;
        snprintf(f->proc, sizeof f->proc, "0::/svc\n");
        char svc[128];
        snprintf(svc, sizeof svc, "%s/svc", f->root);
        mkdirf("%s%s", svc, "");
        mkdirf("%s%s", svc, "/berth");
        put(svc, "cgroup.controllers", "cpu memory pids\n");
        put(svc, "cgroup.subtree_control", "");
        put(svc, "cgroup.procs", "");
        put(svc, "berth/cgroup.subtree_control", "");
        struct cgroup_sources src = {.root = f->root, .proc_text = f->proc};
        if (cgroup_open_manager_with(f->ops, &src, &f->m) < 0)
                return -1;
        *state = f;
        return 0;
}

/* v1: memory, cpu+cpuacct (co-mounted), pids, devices and freezer
 * hierarchies below root, our cgroup /svc in each; no cpuset, no blkio. */
static int fake_v1_setup(void **state)
{
        struct fake *f = calloc(1, sizeof *f);
        snprintf(f->root, sizeof f->root, "/tmp/cgfake.XXXXXX");
        if (!f || !mkdtemp(f->root))
                return -1;
        f->ops = &cgroup_v1_ops;
        snprintf(f->proc, sizeof f->proc,
                 "6:freezer:/svc\n5:devices:/svc\n4:pids:/svc\n3:cpu,cpuacct:/svc\n"
                 "2:memory:/svc\n1:name=systemd:/svc\n");
        static const char *const h[] = {"memory", "cpu,cpuacct", "pids", "devices", "freezer"};
        size_t len = 0;
        for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
                mkdirf("%s/%s", f->root, h[i]);
                char svc[128];
                snprintf(svc, sizeof svc, "%s/%s", f->root, h[i]);
                mkdirf("%s%s", svc, "/svc");
                len += (size_t) snprintf(f->mountinfo + len, sizeof f->mountinfo - len,
                                         "%zu 20 0:%zu / %s/%s rw,nosuid - cgroup cgroup rw,%s\n",
                                         30 + i, 40 + i, f->root, h[i], h[i]);
        }
        struct cgroup_sources src = {.proc_text = f->proc, .mountinfo = f->mountinfo};
        if (cgroup_open_manager_with(f->ops, &src, &f->m) < 0)
                return -1;
        *state = f;
        return 0;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
        (void) st, (void) type, (void) ftw;
        return remove(p);
}

static int fake_teardown(void **state)
{
        struct fake *f = *state;
        cgroup_manager_free(f->m);
        int r = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return r;
}

static bool fake_is_v2(const struct fake *f)
{
        return f->ops == &cgroup_v2_ops;
}

/* Every directory of the cgroup (one per v1 hierarchy), NULL terminated. */
static void fake_dirs(const struct cgroup *cg, const char **dirs)
{
        size_t n = 0;
        for (int c = 0; c < CG_N; c++) {
                const char *d = cgroup_controller_path(cg, c);
                bool seen = !d;
                for (size_t i = 0; i < n && !seen; i++)
                        seen = strcmp(dirs[i], d) == 0;
                if (!seen)
                        dirs[n++] = d;
        }
        dirs[n] = NULL;
}

static void test_open_manager_with_reports_backend(void **state)
{
        struct fake *f = *state;
        char base[128];
        if (fake_is_v2(f)) {
                assert_int_equal(cgroup_manager_version(f->m), 2);
                assert_true(cgroup_manager_places_at_clone(f->m));
                assert_string_equal(cgroup_manager_missing(f->m), "cpuset, io");
                snprintf(base, sizeof base, "%s/svc", f->root);
        } else {
                assert_int_equal(cgroup_manager_version(f->m), 1);
                assert_false(cgroup_manager_places_at_clone(f->m));
                assert_string_equal(cgroup_manager_missing(f->m), "cpuset, blkio");
                snprintf(base, sizeof base, "%s/memory/svc", f->root);
        }
        assert_string_equal(cgroup_manager_base(f->m), base);
        /* Nothing to claim on v1; the fake v2 base holds no process. */
        assert_int_equal(cgroup_manager_claim(f->m), 0);
}

static void test_create_open_existing_and_remove(void **state)
{
        struct fake *f = *state;
        struct cgroup *cg = NULL, *again = NULL;
        assert_int_equal(cgroup_create(f->m, "cgweb", &cg), 0);
        assert_string_equal(cgroup_name(cg), "cgweb");
        char want[160];
        snprintf(want, sizeof want, "%s/%s/berth/cgweb", f->root,
                 fake_is_v2(f) ? "svc" : "memory/svc");
        assert_string_equal(cgroup_path(cg), want);
        const char *dirs[CG_N + 1];
        fake_dirs(cg, dirs);
        assert_int_equal(dirs[fake_is_v2(f) ? 1 : 5] == NULL, true);
        for (size_t i = 0; dirs[i]; i++)
                assert_int_equal(access(dirs[i], F_OK), 0);
        assert_int_equal(cgroup_create(f->m, "cgweb", &again), -EEXIST);
        assert_int_equal(cgroup_open_existing(f->m, "cgweb", &again), 0);
        assert_string_equal(cgroup_path(again), cgroup_path(cg));
        cgroup_free(again);
        assert_int_equal(cgroup_open_existing(f->m, "cgnone", &again), -ENOENT);
        assert_int_equal(cgroup_create(f->m, "../cgescape", &again), -EINVAL);
        assert_int_equal(cgroup_remove(cg), 0);
        for (size_t i = 0; dirs[i]; i++)
                assert_int_equal(access(dirs[i], F_OK), -1);
        assert_null(cgroup_free(cg));
        assert_null(cgroup_free(NULL));
}

/* The files a kernel would show in a new cgroup, as far as the test uses
 * them; "0\n" so that a write of two or more bytes replaces it whole. */
static void fake_populate(const struct fake *f, const struct cgroup *cg)
{
        const char *dirs[CG_N + 1];
        fake_dirs(cg, dirs);
        for (size_t i = 0; dirs[i]; i++) {
                put(dirs[i], "cgroup.procs", "");
                put(dirs[i], "tasks", "");
        }
        if (fake_is_v2(f)) {
                const char *d = cgroup_path(cg);
                static const char *const files[] = {"memory.max", "memory.swap.max", "cpu.max",
                                                    "cpu.weight", "pids.max"};
                for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
                        put(d, files[i], "0\n");
                put(d, "memory.current", "4096\n");
                put(d, "cpu.stat", "usage_usec 7\nuser_usec 5\n");
                put(d, "memory.events", "low 0\noom_kill 2\n");
                put(d, "cgroup.freeze", "0\n");
        } else {
                const char *mem = cgroup_controller_path(cg, CG_MEMORY);
                const char *cpu = cgroup_controller_path(cg, CG_CPU);
                put(mem, "memory.limit_in_bytes", "0\n");
                put(mem, "memory.usage_in_bytes", "4096\n");
                put(mem, "memory.oom_control", "oom_kill_disable 0\noom_kill 2\n");
                put(cpu, "cpu.cfs_period_us", "0\n");
                put(cpu, "cpu.cfs_quota_us", "0\n");
                put(cpu, "cpu.shares", "0\n");
                put(cpu, "cpuacct.usage", "7000\n");
                put(cgroup_controller_path(cg, CG_PIDS), "pids.max", "0\n");
                put(cgroup_controller_path(cg, CG_FREEZER), "freezer.state", "THAWED\n");
        }
}

static void fake_unpopulate(const struct cgroup *cg)
{
        const char *dirs[CG_N + 1];
        fake_dirs(cg, dirs);
        for (size_t i = 0; dirs[i]; i++) {
                char cmd[600];
                snprintf(cmd, sizeof cmd, "%s", dirs[i]);
                assert_int_equal(nftw(cmd, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
                assert_int_equal(mkdir(cmd, 0755), 0);
        }
}

static void test_apply_limits_writes_backend_files(void **state)
{
        struct fake *f = *state;
        struct cgroup *cg = NULL;
        assert_int_equal(cgroup_create(f->m, "cglim", &cg), 0);
        fake_populate(f, cg);
        struct spec_limits l = {.memory = 64 << 20, .cpus_milli = 500, .pids = 64};
        struct error err = { 0 };
        /* 0: nothing asked for is missing on either fake host. */
        assert_int_equal(cgroup_apply_limits(cg, &l, &err), 0);
        if (fake_is_v2(f)) {
                const char *d = cgroup_path(cg);
                assert_file(d, "memory.max", "67108864");
                assert_file(d, "memory.swap.max", "max");
                assert_file(d, "cpu.max", "50000 100000");
                assert_file(d, "cpu.weight", "100");
                assert_file(d, "pids.max", "64");
        } else {
                assert_file(cgroup_controller_path(cg, CG_MEMORY), "memory.limit_in_bytes",
                            "67108864");
                assert_file(cgroup_controller_path(cg, CG_CPU), "cpu.cfs_quota_us", "50000");
                assert_file(cgroup_controller_path(cg, CG_CPU), "cpu.cfs_period_us", "100000");
                assert_file(cgroup_controller_path(cg, CG_CPU), "cpu.shares", "1024");
                assert_file(cgroup_controller_path(cg, CG_PIDS), "pids.max", "64");
        }
        /* A limit for a controller the host lacks: skipped, said so. */
        struct spec_limits io = {.io_weight = 200};
        assert_int_equal(cgroup_apply_limits(cg, &io, &err), 1);
        assert_non_null(strstr(err.msg, "limits.io-weight"));
        fake_unpopulate(cg);
        assert_int_equal(cgroup_remove(cg), 0);
        cgroup_free(cg);
}

static void test_pids_stats_and_frozen_read_backend_files(void **state)
{
        struct fake *f = *state;
        struct cgroup *cg = NULL;
        assert_int_equal(cgroup_create(f->m, "cgstat", &cg), 0);
        fake_populate(f, cg);
        assert_int_equal(cgroup_is_frozen(cg), 0);
        if (fake_is_v2(f))
                put(cgroup_path(cg), "cgroup.freeze", "1\n");
        else
                put(cgroup_controller_path(cg, CG_FREEZER), "freezer.state", "FREEZING\n");
        assert_int_equal(cgroup_is_frozen(cg), 1);

        const char *procs_dir = fake_is_v2(f) ? cgroup_path(cg) : cgroup_controller_path(cg, CG_PIDS);
        put(procs_dir, "cgroup.procs", "123\n456\n");
        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_pids(cg, &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 123);
        assert_int_equal(pids[1], 456);
        free(pids);

        struct cgroup_stats st;
        assert_int_equal(cgroup_stats(cg, &st), 0);
        assert_int_equal(st.memory_current, 4096);
        assert_int_equal(st.cpu_usage_ns, 7000);
        assert_int_equal(st.oom_kills, 2);
        assert_true(st.io_read_bytes == CGROUP_STAT_UNKNOWN);
        fake_unpopulate(cg);
        assert_int_equal(cgroup_remove(cg), 0);
        cgroup_free(cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_weight_to_shares_matches_runc),
                cmocka_unit_test(test_io_weight_to_v1_range),
                cmocka_unit_test(test_cpus_to_quota_values),
                cmocka_unit_test(test_parse_proc_cgroup_v1_controllers),
                cmocka_unit_test(test_parse_proc_cgroup_v2_line),
                cmocka_unit_test(test_parse_keyed_finds_exact_key),
                cmocka_unit_test(test_parse_io_stat_sums_devices),
                cmocka_unit_test(test_parse_blkio_bytes_reads_and_writes),
        };
#define FAKE(t)                                                                                    \
        {"v1: " #t, t, fake_v1_setup, fake_teardown, NULL},                                        \
                {"v2: " #t, t, fake_v2_setup, fake_teardown, NULL}
        const struct CMUnitTest backend_tests[] = {
                FAKE(test_open_manager_with_reports_backend),
                FAKE(test_create_open_existing_and_remove),
                FAKE(test_apply_limits_writes_backend_files),
                FAKE(test_pids_stats_and_frozen_read_backend_files),
        };
        int r = cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
        return r + cmocka_run_group_tests_name("cgroup backends (fake cgroupfs)", backend_tests,
                                               NULL, NULL);
}
