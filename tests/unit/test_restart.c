/* Unit tests for restart.c: which exits restart, the doubling back-off with
 * its cap, the restart window that forgives, and restart-limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "restart.h"

#define S 1000000ULL

static struct restart_input base(enum restart_policy p, bool failure)
{
        return (struct restart_input) { .policy = p, .failure = failure, .now = 1000 * S, .ran = 1 * S,
                                        .delay = 1 * S, .max_delay = 30 * S, .window = 60 * S };
}

static void test_restart_policies(void **state)
{
        (void) state;
        static const struct {
                enum restart_policy p;
                bool failure, health, restarts;
        } cases[] = {
                { RESTART_NO, false, false, false },           { RESTART_NO, true, false, false },
                { RESTART_NO, true, true, true },              { RESTART_ON_FAILURE, false, false, false },
                { RESTART_ON_FAILURE, true, false, true },     { RESTART_ALWAYS, false, false, true },
                { RESTART_ALWAYS, true, false, true },         { RESTART_UNLESS_STOPPED, false, false, true },
                { RESTART_UNLESS_STOPPED, true, false, true }, { RESTART_ON_FAILURE, false, true, true },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct restart_input in = base(cases[i].p, cases[i].failure);
                in.health_restart = cases[i].health;
                struct restart_decision d;
                restart_decide(&in, &d);
                if ((d.verdict == RESTART_VERDICT_BACKOFF) != cases[i].restarts)
                        fail_msg("case %zu: policy %d failure %d health %d: verdict %d", i, cases[i].p,
                                 cases[i].failure, cases[i].health, d.verdict);
                if (!cases[i].restarts)
                        assert_int_equal(d.consecutive, in.consecutive);
        }
}

static void test_restart_backoff_doubles_to_the_cap(void **state)
{
        (void) state;
        static const uint64_t expect[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
        uint32_t consecutive = 0;
        for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
                struct restart_input in = base(RESTART_ALWAYS, true);
                in.consecutive = consecutive;
                struct restart_decision d;
                restart_decide(&in, &d);
                assert_int_equal(d.verdict, RESTART_VERDICT_BACKOFF);
                assert_int_equal(d.delay, expect[i] * S);
                assert_int_equal(d.consecutive, consecutive + 1);
                consecutive = d.consecutive;
        }
}

static void test_restart_window_forgives(void **state)
{
        (void) state;
        struct restart_input in = base(RESTART_ON_FAILURE, true);
        in.consecutive = 5;
        in.ran = 60 * S; /* a whole window */
        struct restart_decision d;
        restart_decide(&in, &d);
        assert_int_equal(d.verdict, RESTART_VERDICT_BACKOFF);
        assert_int_equal(d.delay, 1 * S);
        assert_int_equal(d.consecutive, 1);
        in.ran = 60 * S - 1; /* not quite */
        restart_decide(&in, &d);
        assert_int_equal(d.delay, 30 * S);
        assert_int_equal(d.consecutive, 6);
}

static void test_restart_limit_counts_only_the_window(void **state)
{
        (void) state;
        uint64_t times[] = { 900 * S, 939 * S, 940 * S, 990 * S, 999 * S };
        struct restart_input in = base(RESTART_ALWAYS, false);
        in.limit = 4;
        in.times = times;
        in.n_times = 5; /* 939 is 61 s ago: outside; 940 exactly 60 s: inside */
        struct restart_decision d;
        restart_decide(&in, &d);
        assert_int_equal(d.in_window, 3);
        assert_int_equal(d.verdict, RESTART_VERDICT_BACKOFF);
        in.limit = 3;
        restart_decide(&in, &d);
        assert_int_equal(d.verdict, RESTART_VERDICT_LIMIT);
        assert_int_equal(d.in_window, 3);
        in.limit = 0; /* no limit */
        in.n_times = 5;
        restart_decide(&in, &d);
        assert_int_equal(d.verdict, RESTART_VERDICT_BACKOFF);
        /* A policy that does not restart never reports the limit. */
        in = base(RESTART_ON_FAILURE, false);
        in.limit = 1;
        in.times = times;
        in.n_times = 5;
        restart_decide(&in, &d);
        assert_int_equal(d.verdict, RESTART_VERDICT_NONE);
}

static void test_restart_delay_zero_and_cap_below_delay(void **state)
{
        (void) state;
        struct restart_input in = base(RESTART_ALWAYS, false);
        in.delay = 0;
        in.consecutive = 10;
        struct restart_decision d;
        restart_decide(&in, &d);
        assert_int_equal(d.delay, 0);
        in = base(RESTART_ALWAYS, false);
        in.delay = 10 * S;
        in.max_delay = 5 * S; /* a cap below the first delay wins */
        restart_decide(&in, &d);
        assert_int_equal(d.delay, 5 * S);
        in.consecutive = UINT32_MAX - 1; /* no overflow, no endless loop */
        in.max_delay = UINT64_MAX;
        in.delay = 1;
        restart_decide(&in, &d);
        assert_true(d.delay >= 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_restart_policies),
                cmocka_unit_test(test_restart_backoff_doubles_to_the_cap),
                cmocka_unit_test(test_restart_window_forgives),
                cmocka_unit_test(test_restart_limit_counts_only_the_window),
                cmocka_unit_test(test_restart_delay_zero_and_cap_below_delay),
        };
        return cmocka_run_group_tests_name("restart", tests, NULL, NULL);
}
