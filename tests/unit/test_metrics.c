/* lib/metrics: the Prometheus text format: HELP/TYPE lines, label values
 * escaped (backslash, double quote, newline), HELP text escaped, metric
 * names checked, histograms cumulative with +Inf, _sum and _count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void test_metrics_family_help_type(void **state)
{
        (void) state;
        struct strbuf b = { 0 };
        metrics_family(&b, "berth_reloads_total", METRICS_COUNTER, "Reloads, applied\\refused\nby berthd");
        metrics_u64(&b, "berth_reloads_total", NULL, 0, 3);
        assert_int_equal(b.error, 0);
        assert_string_equal(b.p, "# HELP berth_reloads_total Reloads, applied\\\\refused\\nby berthd\n"
                                 "# TYPE berth_reloads_total counter\n"
                                 "berth_reloads_total 3\n");
        free(b.p);
}

static void test_metrics_u64_label_escaping(void **state)
{
        (void) state;
        struct strbuf b = { 0 };
        struct metrics_label l[] = { { "name", "a\\b\"c\nd" }, { "state", "running" } };
        metrics_u64(&b, "berth_container_state", l, 2, 1);
        assert_string_equal(b.p, "berth_container_state{name=\"a\\\\b\\\"c\\nd\",state=\"running\"} 1\n");
        free(b.p);
}

static void test_metrics_u64_plain_and_empty_label(void **state)
{
        (void) state;
        struct strbuf b = { 0 };
        struct metrics_label l[] = { { "name", "" } };
        metrics_u64(&b, "x", l, 1, 18446744073709551615ULL);
        assert_string_equal(b.p, "x{name=\"\"} 18446744073709551615\n");
        free(b.p);
}

static void test_metrics_double_values(void **state)
{
        (void) state;
        struct strbuf b = { 0 };
        metrics_double(&b, "a", NULL, 0, 1.5);
        metrics_double(&b, "b", NULL, 0, NAN);
        metrics_double(&b, "c", NULL, 0, INFINITY);
        metrics_double(&b, "d", NULL, 0, -INFINITY);
        metrics_double(&b, "e", NULL, 0, 0.1);
        assert_string_equal(b.p, "a 1.5\nb NaN\nc +Inf\nd -Inf\ne 0.10000000000000001\n");
        free(b.p);
}

static void test_metrics_name_is_valid(void **state)
{
        (void) state;
        assert_true(metrics_name_is_valid("berth_container_cpu_seconds_total"));
        assert_true(metrics_name_is_valid("_x:y"));
        assert_true(metrics_name_is_valid("A9"));
        assert_false(metrics_name_is_valid(""));
        assert_false(metrics_name_is_valid("9a"));
        assert_false(metrics_name_is_valid("a-b"));
        assert_false(metrics_name_is_valid("a b"));
        assert_false(metrics_name_is_valid(NULL));
}

static void test_metrics_histogram_write_cumulative(void **state)
{
        (void) state;
        static const double bounds[] = { 0.1, 1, 10 };
        struct metrics_histogram h;
        metrics_histogram_init(&h, bounds, 3);
        metrics_histogram_observe(&h, 0.05);
        metrics_histogram_observe(&h, 0.1); /* le is inclusive */
        metrics_histogram_observe(&h, 2);
        metrics_histogram_observe(&h, 100);
        struct strbuf b = { 0 };
        struct metrics_label l[] = { { "x", "y" } };
        metrics_histogram_write(&b, "lat_seconds", l, 1, &h);
        assert_string_equal(b.p, "lat_seconds_bucket{x=\"y\",le=\"0.1\"} 2\n"
                                 "lat_seconds_bucket{x=\"y\",le=\"1\"} 2\n"
                                 "lat_seconds_bucket{x=\"y\",le=\"10\"} 3\n"
                                 "lat_seconds_bucket{x=\"y\",le=\"+Inf\"} 4\n"
                                 "lat_seconds_sum{x=\"y\"} 102.15000000000001\n"
                                 "lat_seconds_count{x=\"y\"} 4\n");
        free(b.p);
}

static void test_metrics_histogram_write_empty(void **state)
{
        (void) state;
        static const double bounds[] = { 0.5 };
        struct metrics_histogram h;
        metrics_histogram_init(&h, bounds, 1);
        struct strbuf b = { 0 };
        metrics_histogram_write(&b, "h", NULL, 0, &h);
        assert_string_equal(b.p, "h_bucket{le=\"0.5\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
        free(b.p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metrics_family_help_type),
                cmocka_unit_test(test_metrics_u64_label_escaping),
                cmocka_unit_test(test_metrics_u64_plain_and_empty_label),
                cmocka_unit_test(test_metrics_double_values),
                cmocka_unit_test(test_metrics_name_is_valid),
                cmocka_unit_test(test_metrics_histogram_write_cumulative),
                cmocka_unit_test(test_metrics_histogram_write_empty),
        };
        return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
