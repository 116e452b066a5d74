/* Unit tests for the pure parts of scope.c (unit and slice names), the
 * monitor's OOM count parser and the exit record it writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "scope.h"
#include "state.h"
#include "util.h"

static void test_scope_unit_name_plain(void **state)
{
        (void) state;
        char buf[300];
        assert_int_equal(scope_unit_name("berth", "web", buf, sizeof buf), 0);
        assert_string_equal(buf, "berth-web.scope");
        assert_int_equal(scope_unit_name("berth", "db.main_2", buf, sizeof buf), 0);
        assert_string_equal(buf, "berth-db.main_2.scope");
}

static void test_scope_unit_name_refuses_bad(void **state)
{
        (void) state;
        char buf[300];
        assert_int_equal(scope_unit_name("berth", "a b", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_unit_name("berth", "x/y", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_unit_name("berth", "", buf, sizeof buf), -EINVAL);
        char longname[300];
        memset(longname, 'a', 260);
        longname[260] = 0;
        assert_int_equal(scope_unit_name("berth", longname, buf, sizeof buf), -EINVAL);
        char small[8];
        assert_int_equal(scope_unit_name("berth", "web", small, sizeof small), -EINVAL);
}

static void test_scope_slice_path_nested(void **state)
{
        (void) state;
        char buf[300];
        assert_int_equal(scope_slice_path("machine.slice", buf, sizeof buf), 0);
        assert_string_equal(buf, "/machine.slice");
        assert_int_equal(scope_slice_path("a-b-c.slice", buf, sizeof buf), 0);
        assert_string_equal(buf, "/a.slice/a-b.slice/a-b-c.slice");
        assert_int_equal(scope_slice_path("-.slice", buf, sizeof buf), 0);
        assert_string_equal(buf, "/");
}

static void test_scope_slice_path_refuses_bad(void **state)
{
        (void) state;
        char buf[300];
        assert_int_equal(scope_slice_path("machine.scope", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path("a--b.slice", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path("-a.slice", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path("a-.slice", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path("a/b.slice", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path(".slice", buf, sizeof buf), -EINVAL);
        assert_int_equal(scope_slice_path(NULL, buf, sizeof buf), -EINVAL);
        char small[10];
        assert_int_equal(scope_slice_path("a-b-c.slice", small, sizeof small), -EINVAL);
}

static void test_monitor_parse_oom_kills_v2_and_v1(void **state)
{
        (void) state;
        assert_int_equal(monitor_parse_oom_kills("low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n"), 2);
        /* v1: oom_kill_disable comes first and must not be taken for it. */
        assert_int_equal(monitor_parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"), 5);
        assert_int_equal(monitor_parse_oom_kills("oom_kill_disable 1\nunder_oom 0\n"), 0);
        assert_int_equal(monitor_parse_oom_kills(""), 0);
}

static void test_state_read_exit_oom_kills(void **state)
{
        (void) state;
        char dir[] = "/tmp/bt-scope-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        const char *rec = "status=137\ncode=killed\nsignal=9\nrealtime_usec=5\noom_kills=1\n";
        assert_int_equal(write_file_atomic(dfd, "exit", rec, strlen(rec), 0600), 0);
        int status = 0;
        uint64_t when = 0, oom = 0;
        assert_int_equal(state_read_exit(dir, &status, &when, &oom), 0);
        assert_int_equal(status, 137);
        assert_int_equal(when, 5);
        assert_int_equal(oom, 1);
        /* A record of an older monitor has no count: 0. */
        const char *old = "status=0\ncode=exited\nsignal=0\nrealtime_usec=5\n";
        assert_int_equal(write_file_atomic(dfd, "exit", old, strlen(old), 0600), 0);
        oom = 9;
        assert_int_equal(state_read_exit(dir, &status, NULL, &oom), 0);
        assert_int_equal(oom, 0);
        assert_int_equal(unlinkat(dfd, "exit", 0), 0);
        close(dfd);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scope_unit_name_plain),
                cmocka_unit_test(test_scope_unit_name_refuses_bad),
                cmocka_unit_test(test_scope_slice_path_nested),
                cmocka_unit_test(test_scope_slice_path_refuses_bad),
                cmocka_unit_test(test_monitor_parse_oom_kills_v2_and_v1),
                cmocka_unit_test(test_state_read_exit_oom_kills),
        };
        return cmocka_run_group_tests_name("scope", tests, NULL, NULL);
}
