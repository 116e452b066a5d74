/* Unit tests for crashpoint.c: which specs are accepted, and that a point
 * fires exactly at the COUNT-th pass and never for another name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crashpoint.h"

static void test_crashpoint_parse_inert(void **state)
{
        (void) state;
        struct crashpoint cp;
        char err[256];
        assert_int_equal(crashpoint_parse(NULL, &cp, err, sizeof err), 0);
        assert_false(crashpoint_hit(&cp, "running"));
        assert_int_equal(crashpoint_parse("", &cp, err, sizeof err), 0);
        assert_false(crashpoint_hit(&cp, "running"));
}

static void test_crashpoint_parse_unknown_refused(void **state)
{
        (void) state;
        struct crashpoint cp;
        char err[256] = "";
        assert_int_equal(crashpoint_parse("runing", &cp, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "'runing'"));
        static const char *const bad[] = { "running:", "running:0", "running:x", "running:-1", ":3",
                                           "running:10000001" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(crashpoint_parse(bad[i], &cp, err, sizeof err), -EINVAL);
}

static void test_crashpoint_hit_first_pass(void **state)
{
        (void) state;
        struct crashpoint cp;
        char err[256];
        assert_int_equal(crashpoint_parse("stop-signalled", &cp, err, sizeof err), 0);
        assert_false(crashpoint_hit(&cp, "stop-requested"));
        assert_true(crashpoint_hit(&cp, "stop-signalled"));
}

static void test_crashpoint_hit_count(void **state)
{
        (void) state;
        struct crashpoint cp;
        char err[256];
        assert_int_equal(crashpoint_parse("exit-recorded:3", &cp, err, sizeof err), 0);
        assert_false(crashpoint_hit(&cp, "exit-recorded"));
        assert_false(crashpoint_hit(&cp, "running"));
        assert_false(crashpoint_hit(&cp, "exit-recorded"));
        assert_true(crashpoint_hit(&cp, "exit-recorded"));
        assert_false(crashpoint_hit(&cp, "exit-recorded")); /* once */
}

static void test_crashpoint_every_name_parses(void **state)
{
        (void) state;
        size_t n = 0;
        for (; crashpoint_names[n]; n++) {
                struct crashpoint cp;
                char err[256];
                assert_int_equal(crashpoint_parse(crashpoint_names[n], &cp, err, sizeof err), 0);
                assert_true(crashpoint_hit(&cp, crashpoint_names[n]));
        }
        assert_true(n >= 15);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crashpoint_parse_inert),
                cmocka_unit_test(test_crashpoint_parse_unknown_refused),
                cmocka_unit_test(test_crashpoint_hit_first_pass),
                cmocka_unit_test(test_crashpoint_hit_count),
                cmocka_unit_test(test_crashpoint_every_name_parses),
        };
        return cmocka_run_group_tests_name("crashpoint", tests, NULL, NULL);
}
