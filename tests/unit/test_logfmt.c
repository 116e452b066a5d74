/* Unit tests for logfmt.c, the text format of a container's log: a
 * record's prefix round-trips, an older log's line stays a line of its
 * own, whole lines are counted, parts are not. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "logfmt.h"

static void test_logfmt_round_trip(void **state)
{
        (void) state;
        char buf[LOGFMT_PREFIX_MAX + 32];
        uint64_t t = 1764730385123456ULL;
        size_t n = logfmt_prefix(buf, t, LOGFMT_STDERR, false);
        assert_string_equal((memcpy(buf + n, "hi", 3), buf), "2025-12-03T02:53:05.123456Z stderr F hi");
        struct logfmt_line l;
        logfmt_parse(buf, strlen(buf), &l);
        assert_int_equal(l.stream, LOGFMT_STDERR);
        assert_true(l.usec == t);
        assert_false(l.partial);
        assert_int_equal(l.len, 2);
        assert_memory_equal(l.text, "hi", 2);
        n = logfmt_prefix(buf, t, LOGFMT_STDOUT, true);
        logfmt_parse(buf, n, &l);
        assert_int_equal(l.stream, LOGFMT_STDOUT);
        assert_true(l.partial);
        assert_int_equal(l.len, 0);
}

static void test_logfmt_older_lines(void **state)
{
        (void) state;
        static const char *const old[] = { "hello", "", "2025-12-03T02:53:05.123456Z", "2025-12-03T02:53:05.123456Z other F x",
                                           "2025-12-03T02:53:05.123456Z stdout X x", "2025-12-03 02:53:05.123456Z stdout F x" };
        for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
                struct logfmt_line l;
                logfmt_parse(old[i], strlen(old[i]), &l);
                assert_int_equal(l.stream, LOGFMT_NONE);
                assert_true(l.usec == 0);
                assert_int_equal(l.len, strlen(old[i]));
        }
}

static void test_logfmt_count_lines(void **state)
{
        (void) state;
        const char *b = "2025-12-03T02:53:05.000001Z stdout P ab\n"
                        "2025-12-03T02:53:05.000002Z stdout F c\n"
                        "an old line\n"
                        "2025-12-03T02:53:05.000003Z berth F [note]\n";
        assert_int_equal(logfmt_count_lines(b, strlen(b)), 3);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_logfmt_round_trip),
                cmocka_unit_test(test_logfmt_older_lines),
                cmocka_unit_test(test_logfmt_count_lines),
        };
        return cmocka_run_group_tests_name("logfmt", tests, NULL, NULL);
}
