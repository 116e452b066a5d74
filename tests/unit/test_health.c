/* Unit tests for the pure part of health.c: the verdict over a sequence of
 * probe results, with retries and the start period. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

#define SEC SPEC_USEC_PER_SEC

static struct spec_health H(uint32_t retries, usec_t start_period)
{
        return (struct spec_health){ .enabled = true, .tcp_port = 80, .interval = 5 * SEC, .timeout = SEC,
                                     .retries = retries, .start_period = start_period };
}

static struct health_result R(bool ok, const char *text)
{
        struct health_result r = { .ok = ok, .exit_status = ok ? 0 : 1 };
        snprintf(r.output, sizeof r.output, "%s", text);
        return r;
}

static health_transition_t rec(struct health_state *s, const struct spec_health *h, usec_t t, bool ok)
{
        struct health_result r = R(ok, ok ? "ok" : "fail");
        return health_record(s, h, t, &r);
}

static void test_health_state_reset_starting(void **state)
{
        (void) state;
        struct health_state s;
        memset(&s, 0x5a, sizeof s);
        health_state_reset(&s);
        assert_int_equal(s.status, HEALTH_STARTING);
        assert_int_equal(s.failures, 0);
        assert_true(s.in_start_period);
        assert_int_equal(s.n_results, 0);
        assert_null(health_state_result(&s, 0));
}

static void test_health_record_first_success_healthy(void **state)
{
        (void) state;
        struct spec_health h = H(3, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, true), HEALTH_TRANSITION_HEALTHY);
        assert_int_equal(s.status, HEALTH_HEALTHY);
        assert_false(s.in_start_period);
        /* A second success changes nothing. */
        assert_int_equal(rec(&s, &h, 2 * SEC, true), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_HEALTHY);
}

static void test_health_record_retries_needed(void **state)
{
        (void) state;
        struct spec_health h = H(3, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, true), HEALTH_TRANSITION_HEALTHY);
        assert_int_equal(rec(&s, &h, 2 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(rec(&s, &h, 3 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_HEALTHY);
        assert_int_equal(s.failures, 2);
        assert_int_equal(rec(&s, &h, 4 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
        assert_int_equal(s.status, HEALTH_UNHEALTHY);
        /* Further failures do not repeat the transition. */
        assert_int_equal(rec(&s, &h, 5 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.failures, 4);
}

static void test_health_record_success_resets_failures(void **state)
{
        (void) state;
        struct spec_health h = H(3, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(rec(&s, &h, 2 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(rec(&s, &h, 3 * SEC, true), HEALTH_TRANSITION_HEALTHY);
        assert_int_equal(s.failures, 0);
        assert_int_equal(rec(&s, &h, 4 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(rec(&s, &h, 5 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_HEALTHY);
        assert_int_equal(rec(&s, &h, 6 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
}

static void test_health_record_starting_to_unhealthy(void **state)
{
        (void) state;
        struct spec_health h = H(2, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_STARTING);
        assert_int_equal(rec(&s, &h, 2 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
        assert_int_equal(s.status, HEALTH_UNHEALTHY);
}

static void test_health_record_unhealthy_recovers(void **state)
{
        (void) state;
        struct spec_health h = H(1, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
        assert_int_equal(rec(&s, &h, 2 * SEC, true), HEALTH_TRANSITION_HEALTHY);
        assert_int_equal(s.status, HEALTH_HEALTHY);
        assert_int_equal(s.failures, 0);
}

static void test_health_record_retries_zero_counts_as_one(void **state)
{
        (void) state;
        struct spec_health h = H(0, 0);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
}

static void test_health_record_start_period_failures_ignored(void **state)
{
        (void) state;
        struct spec_health h = H(1, 10 * SEC);
        struct health_state s;
        health_state_reset(&s);
        for (int i = 1; i < 10; i++)
                assert_int_equal(rec(&s, &h, (usec_t) i * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_STARTING);
        assert_int_equal(s.failures, 0);
        assert_true(s.in_start_period);
        /* Recorded all the same. */
        assert_int_equal(s.n_results, 9);
}

static void test_health_record_start_period_ends_at_deadline(void **state)
{
        (void) state;
        struct spec_health h = H(2, 10 * SEC);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 9 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.failures, 0);
        /* At exactly start_period the failures count. */
        assert_int_equal(rec(&s, &h, 10 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_false(s.in_start_period);
        assert_int_equal(s.failures, 1);
        assert_int_equal(rec(&s, &h, 11 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
}

static void test_health_record_start_period_ended_by_success(void **state)
{
        (void) state;
        struct spec_health h = H(1, 60 * SEC);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(rec(&s, &h, 2 * SEC, true), HEALTH_TRANSITION_HEALTHY);
        assert_false(s.in_start_period);
        /* Still inside the period's time, but it ended: this failure counts. */
        assert_int_equal(rec(&s, &h, 3 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
}

static void test_health_record_reset_restarts_period(void **state)
{
        (void) state;
        struct spec_health h = H(1, 10 * SEC);
        struct health_state s;
        health_state_reset(&s);
        assert_int_equal(rec(&s, &h, 20 * SEC, false), HEALTH_TRANSITION_UNHEALTHY);
        health_state_reset(&s);
        assert_int_equal(s.status, HEALTH_STARTING);
        assert_int_equal(rec(&s, &h, 1 * SEC, false), HEALTH_TRANSITION_NONE);
        assert_int_equal(s.status, HEALTH_STARTING);
}

static void test_health_state_result_ring(void **state)
{
        (void) state;
        struct spec_health h = H(100, 0);
        struct health_state s;
        health_state_reset(&s);
        for (int i = 0; i < 7; i++) {
                char t[16];
                snprintf(t, sizeof t, "r%d", i);
                struct health_result r = R(false, t);
                (void) health_record(&s, &h, SEC, &r);
        }
        assert_int_equal(s.n_results, 7);
        assert_string_equal(health_state_result(&s, 0)->output, "r6");
        assert_string_equal(health_state_result(&s, 1)->output, "r5");
        assert_string_equal(health_state_result(&s, 4)->output, "r2");
        assert_null(health_state_result(&s, 5));
}

static void test_health_state_result_fewer_than_ring(void **state)
{
        (void) state;
        struct spec_health h = H(3, 0);
        struct health_state s;
        health_state_reset(&s);
        struct health_result r = R(true, "only");
        (void) health_record(&s, &h, SEC, &r);
        assert_string_equal(health_state_result(&s, 0)->output, "only");
        assert_null(health_state_result(&s, 1));
}

static void test_health_status_to_string_all(void **state)
{
        (void) state;
        assert_string_equal(health_status_to_string(HEALTH_STARTING), "starting");
        assert_string_equal(health_status_to_string(HEALTH_HEALTHY), "healthy");
        assert_string_equal(health_status_to_string(HEALTH_UNHEALTHY), "unhealthy");
}

/* Every sequence of 8 results against a reference model of the rules. */
static void test_health_record_exhaustive_sequences(void **state)
{
        (void) state;
        for (uint32_t retries = 1; retries <= 4; retries++)
                for (usec_t period = 0; period <= 4 * SEC; period += 2 * SEC)
                        for (unsigned bits = 0; bits < 256; bits++) {
                                struct spec_health h = H(retries, period);
                                struct health_state s;
                                health_state_reset(&s);
                                int status = HEALTH_STARTING;
                                uint32_t fails = 0;
                                bool in_period = true;
                                for (int i = 0; i < 8; i++) {
                                        bool ok = bits & (1u << i);
                                        usec_t t = (usec_t) i * SEC;
                                        int want = HEALTH_TRANSITION_NONE;
                                        if (ok) {
                                                fails = 0;
                                                in_period = false;
                                                if (status != HEALTH_HEALTHY)
                                                        want = HEALTH_TRANSITION_HEALTHY;
                                                status = HEALTH_HEALTHY;
                                        } else if (!(in_period && t < period)) {
                                                in_period = false;
                                                fails++;
                                                if (fails >= retries && status != HEALTH_UNHEALTHY) {
                                                        want = HEALTH_TRANSITION_UNHEALTHY;
                                                        status = HEALTH_UNHEALTHY;
                                                }
                                        }
                                        assert_int_equal(rec(&s, &h, t, ok), want);
                                        assert_int_equal(s.status, status);
                                        assert_int_equal(s.failures, fails);
                                }
                        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_health_state_reset_starting),
                cmocka_unit_test(test_health_record_first_success_healthy),
                cmocka_unit_test(test_health_record_retries_needed),
                cmocka_unit_test(test_health_record_success_resets_failures),
                cmocka_unit_test(test_health_record_starting_to_unhealthy),
                cmocka_unit_test(test_health_record_unhealthy_recovers),
                cmocka_unit_test(test_health_record_retries_zero_counts_as_one),
                cmocka_unit_test(test_health_record_start_period_failures_ignored),
                cmocka_unit_test(test_health_record_start_period_ends_at_deadline),
                cmocka_unit_test(test_health_record_start_period_ended_by_success),
                cmocka_unit_test(test_health_record_reset_restarts_period),
                cmocka_unit_test(test_health_state_result_ring),
                cmocka_unit_test(test_health_state_result_fewer_than_ring),
                cmocka_unit_test(test_health_status_to_string_all),
                cmocka_unit_test(test_health_record_exhaustive_sequences),
        };
        return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
