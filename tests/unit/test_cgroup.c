/* Unit tests for the pure parts of cgroup.c: conversions and parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cgroup.h"
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
        return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
