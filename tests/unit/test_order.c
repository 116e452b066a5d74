/* Unit tests for order.c: topological start order, tie-breaks, totality. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "order.h"

static char *A_B[] = {(char *) "b", NULL};
static char *A_A[] = {(char *) "a", NULL};
static char *A_C[] = {(char *) "c", NULL};
static char *A_GHOST[] = {(char *) "ghost", NULL};

static void check(const struct order_item *items, size_t n, const size_t *expect)
{
        size_t got[16];
        assert_true(n <= 16);
        assert_int_equal(order_sort(items, n, got), 0);
        for (size_t i = 0; i < n; i++)
                if (got[i] != expect[i])
                        fail_msg("position %zu: expected %s, got %s", i, items[expect[i]].name,
                                 items[got[i]].name);
}

static void test_order_sort_dependency_beats_start_order(void **state)
{
        (void) state;
        /* a starts after b although its start-order is lower. */
        struct order_item it[] = {{"a", 1, A_B, NULL}, {"b", 9, NULL, NULL}};
        check(it, 2, (size_t[]){1, 0});
}

static void test_order_sort_requires_is_an_edge(void **state)
{
        (void) state;
        struct order_item it[] = {{"a", 0, NULL, A_B}, {"b", 0, NULL, NULL}};
        check(it, 2, (size_t[]){1, 0});
}

static void test_order_sort_start_order_then_name(void **state)
{
        (void) state;
        struct order_item it[] = {{"d", 5, NULL, NULL},
                                  {"c", -1, NULL, NULL},
                                  {"b", 5, NULL, NULL},
                                  {"a", 7, NULL, NULL}};
        check(it, 4, (size_t[]){1, 2, 0, 3});
}

static void test_order_sort_ready_item_waits_its_turn(void **state)
{
        (void) state;
        /* After b (order 1) is out, c (order 2) goes before a (order 3),
         * which only became ready when b started. */
        struct order_item it[] = {{"a", 3, A_B, NULL}, {"b", 1, NULL, NULL}, {"c", 2, NULL, NULL}};
        check(it, 3, (size_t[]){1, 2, 0});
}

static void test_order_sort_missing_and_self_ignored(void **state)
{
        (void) state;
        struct order_item it[] = {{"a", 0, A_GHOST, A_A}, {"b", 0, NULL, NULL}};
        check(it, 2, (size_t[]){0, 1});
}

static void test_order_sort_cycle_broken_at_lowest(void **state)
{
        (void) state;
        /* a → b → c → a, and d after c: never loops, every item once. */
        static char *D_C[] = {(char *) "c", NULL};
        struct order_item it[] = {
                {"a", 0, A_C, NULL}, {"b", 0, A_A, NULL}, {"c", 0, A_B, NULL}, {"d", 0, D_C, NULL}};
        check(it, 4, (size_t[]){0, 1, 2, 3});
}

static void test_order_sort_duplicate_names(void **state)
{
        (void) state;
        struct order_item it[] = {{"x", 0, A_A, NULL}, {"a", 0, NULL, NULL}, {"a", 0, NULL, NULL}};
        size_t got[3];
        assert_int_equal(order_sort(it, 3, got), 0);
        bool seen[3] = {false};
        for (size_t i = 0; i < 3; i++)
                seen[got[i]] = true;
        assert_true(seen[0] && seen[1] && seen[2]);
        assert_int_equal(got[0], 1); /* the first "a" */
}

static void test_order_sort_empty(void **state)
{
        (void) state;
        assert_int_equal(order_sort(NULL, 0, NULL), 0);
}

static void test_order_containers_from_definitions(void **state)
{
        (void) state;
        const char *t = "container web { template = 'busybox' start-order = 1 after = { 'db' } }\n"
                        "container db { template = 'busybox' start-order = 5 }\n"
                        "container log { template = 'busybox' start-order = 3 }\n";
        struct spec_set set = {0};
        struct diag d = {0};
        assert_int_equal(config_parse_buffer("t.conf", t, strlen(t), &set, &d), 0);
        config_validate(&set, &d);
        assert_int_equal(d.n, 0);
        size_t *idx = NULL;
        assert_int_equal(order_containers(&set, &idx), 0);
        assert_string_equal(set.containers[idx[0]]->name, "log");
        assert_string_equal(set.containers[idx[1]]->name, "db");
        assert_string_equal(set.containers[idx[2]]->name, "web");
        free(idx);
        spec_set_done(&set);
        diag_done(&d);
}

/* ---- start and stop decisions ---------------------------------------------- */

#define SEC 1000000ULL
#define TMO (60 * SEC)

static struct order_unit U(const char *name, int32_t so, char *const *after, char *const *requires,
                           enum order_state st)
{
        return (struct order_unit){.name = name,
                                   .start_order = so,
                                   .after = after,
                                   .requires = requires,
                                   .state = st,
                                   .alive = st == ORDER_STARTING || st == ORDER_UP,
                                   .start_timeout = TMO};
}

static void decide(const struct order_unit *u, size_t n, uint64_t now, struct order_decision *d)
{
        assert_int_equal(order_decide_starts(u, n, now, d), 0);
}

static void test_order_decide_starts_lowest_group_first(void **state)
{
        (void) state;
        /* The scenario: 10, 20 (after the 10) and 30, all pending. */
        struct order_unit u[] = {U("a", 10, NULL, NULL, ORDER_PENDING), U("b", 20, A_A, NULL, ORDER_PENDING),
                                 U("c", 30, NULL, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[0].verdict, ORDER_START);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].reason, ORDER_REASON_DEPENDENCY);
        assert_int_equal(d[1].blocker, 0);
        assert_int_equal(d[2].verdict, ORDER_WAIT);
        assert_int_equal(d[2].reason, ORDER_REASON_GROUP);
        assert_int_equal(d[2].blocker, 0); /* the first holder of the earlier groups */
}

static void test_order_decide_starts_group_waits_for_previous_to_run(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 10, NULL, NULL, ORDER_STARTING), U("b", 20, A_A, NULL, ORDER_PENDING),
                                 U("c", 30, NULL, NULL, ORDER_PENDING)};
        u[0].launched = 5 * SEC;
        struct order_decision d[3];
        decide(u, 3, 6 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].wake, 5 * SEC + TMO); /* re-decided at a's start-timeout */
        assert_int_equal(d[2].verdict, ORDER_WAIT);
        assert_int_equal(d[2].wake, 0); /* pending b holds it too, until b changes */
        u[0].state = ORDER_UP;
        decide(u, 3, 7 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_START);
        assert_int_equal(d[2].verdict, ORDER_WAIT); /* b, of group 20, is not running yet */
        assert_int_equal(d[2].blocker, 1);
        u[1].state = ORDER_STARTING;
        u[1].launched = 7 * SEC;
        decide(u, 3, 7 * SEC, d);
        assert_int_equal(d[2].verdict, ORDER_WAIT);
        u[1].state = ORDER_UP;
        decide(u, 3, 8 * SEC, d);
        assert_int_equal(d[2].verdict, ORDER_START);
}

static void test_order_decide_starts_chain_by_start_order_alone(void **state)
{
        (void) state;
        /* Names in reverse: the start-order, not the name, decides. */
        struct order_unit u[] = {U("a", 3, NULL, NULL, ORDER_PENDING), U("b", 2, NULL, NULL, ORDER_PENDING),
                                 U("c", 1, NULL, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[2].verdict, ORDER_START);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[0].verdict, ORDER_WAIT);
        u[2].state = ORDER_UP;
        decide(u, 3, 0, d);
        assert_int_equal(d[1].verdict, ORDER_START);
        assert_int_equal(d[0].verdict, ORDER_WAIT);
}

static void test_order_decide_starts_group_in_parallel(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 5, NULL, NULL, ORDER_PENDING), U("b", 5, NULL, NULL, ORDER_PENDING),
                                 U("c", 5, A_A, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[0].verdict, ORDER_START);
        assert_int_equal(d[1].verdict, ORDER_START);
        assert_int_equal(d[2].verdict, ORDER_WAIT); /* within a group, after orders */
        assert_int_equal(d[2].reason, ORDER_REASON_DEPENDENCY);
}

static void test_order_decide_starts_health_then_timeout(void **state)
{
        (void) state;
        /* a runs but is not healthy yet (STARTING): b of the next group waits
         * until a's start-timeout, then goes on; a is reported timed out. */
        struct order_unit u[] = {U("a", 1, NULL, NULL, ORDER_STARTING), U("b", 2, NULL, NULL, ORDER_PENDING)};
        u[0].launched = 10 * SEC;
        struct order_decision d[2];
        decide(u, 2, 10 * SEC + TMO - 1, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_false(d[0].timed_out);
        decide(u, 2, 10 * SEC + TMO, d);
        assert_true(d[0].timed_out);
        assert_int_equal(d[1].verdict, ORDER_START);
}

static void test_order_decide_starts_failed_member_does_not_hold(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 1, NULL, NULL, ORDER_FAILED), U("x", 1, NULL, NULL, ORDER_UP),
                                 U("b", 2, NULL, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[2].verdict, ORDER_START);
        /* Nor does an idle one (not autostarted), nor one in back-off. */
        u[0].state = ORDER_IDLE;
        decide(u, 3, 0, d);
        assert_int_equal(d[2].verdict, ORDER_START);
        u[0].state = ORDER_BACKOFF;
        decide(u, 3, 0, d);
        assert_int_equal(d[2].verdict, ORDER_START);
}

static void test_order_decide_starts_fail_in_same_pass_releases_group(void **state)
{
        (void) state;
        /* a requires a stopped container: it fails now, and group 2 need
         * not wait for it. */
        static char *R_OFF[] = {(char *) "off", NULL};
        struct order_unit u[] = {U("a", 1, NULL, R_OFF, ORDER_PENDING), U("off", 0, NULL, NULL, ORDER_IDLE),
                                 U("b", 2, NULL, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[0].verdict, ORDER_FAIL);
        assert_int_equal(d[0].reason, ORDER_REASON_REQUIRED_STOPPED);
        assert_int_equal(d[0].blocker, 1);
        assert_int_equal(d[2].verdict, ORDER_START);
}

static void test_order_decide_starts_effective_group(void **state)
{
        (void) state;
        /* start-order reversed against after: a dependency never waits for
         * its dependant's group (no deadlock), the chain goes a, b, c. */
        struct order_unit u[] = {U("a", 30, NULL, NULL, ORDER_PENDING), U("b", 20, A_A, NULL, ORDER_PENDING),
                                 U("c", 10, A_B, NULL, ORDER_PENDING), U("z", 25, NULL, NULL, ORDER_PENDING)};
        int32_t g[4];
        assert_int_equal(order_groups(u, 4, g), 0);
        assert_int_equal(g[0], 30);
        assert_int_equal(g[1], 30);
        assert_int_equal(g[2], 30);
        assert_int_equal(g[3], 25);
        struct order_decision d[4];
        decide(u, 4, 0, d);
        assert_int_equal(d[3].verdict, ORDER_START);
        assert_int_equal(d[0].verdict, ORDER_WAIT);
        assert_int_equal(d[0].reason, ORDER_REASON_GROUP);
        u[3].state = ORDER_UP;
        decide(u, 4, 0, d);
        assert_int_equal(d[0].verdict, ORDER_START);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[2].verdict, ORDER_WAIT);
}

static void test_order_decide_starts_delay_counts_from_turn(void **state)
{
        (void) state;
        /* The regression: b (after a, start-delay 1s) starts 1s after a runs,
         * not at its start-timeout. */
        struct order_unit u[] = {U("a", 10, NULL, NULL, ORDER_PENDING), U("b", 20, A_A, NULL, ORDER_PENDING),
                                 U("c", 30, NULL, NULL, ORDER_PENDING)};
        for (size_t i = 0; i < 3; i++)
                u[i].start_delay = SEC;
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[0].verdict, ORDER_DELAY);
        assert_int_equal(d[0].delay_until, SEC);
        assert_int_equal(d[0].wake, SEC);
        assert_int_equal(d[1].delay_until, 0);
        assert_int_equal(d[2].verdict, ORDER_WAIT); /* a pending a holds group 30 */
        u[0].delay_until = d[0].delay_until;
        decide(u, 3, SEC, d);
        assert_int_equal(d[0].verdict, ORDER_START);
        u[0].state = ORDER_UP;
        decide(u, 3, 2 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_DELAY);
        assert_int_equal(d[1].delay_until, 3 * SEC);
        assert_int_equal(d[2].verdict, ORDER_WAIT); /* b's delay still holds group 30 */
        u[1].delay_until = d[1].delay_until;
        decide(u, 3, 3 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_START);
}

static void test_order_decide_starts_delay_reset_when_turn_lost(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_STARTING), U("b", 0, A_A, NULL, ORDER_PENDING)};
        u[1].delay_until = 5 * SEC; /* a was up, then restarted */
        u[0].launched = 4 * SEC;
        struct order_decision d[2];
        decide(u, 2, 4 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].delay_until, 0);
}

static void test_order_decide_starts_zero_delay_starts_now(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_PENDING)};
        struct order_decision d[1];
        decide(u, 1, 77, d);
        assert_int_equal(d[0].verdict, ORDER_START);
}

static void test_order_decide_starts_requires_vs_after_on_failure(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_FAILED), U("r", 0, NULL, A_A, ORDER_PENDING),
                                 U("f", 0, A_A, NULL, ORDER_PENDING)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        assert_int_equal(d[1].verdict, ORDER_FAIL);
        assert_int_equal(d[1].reason, ORDER_REASON_REQUIRED_FAILED);
        assert_int_equal(d[1].blocker, 0);
        assert_int_equal(d[2].verdict, ORDER_START); /* after only orders */
        u[0].state = ORDER_IDLE;
        decide(u, 3, 0, d);
        assert_int_equal(d[1].verdict, ORDER_FAIL);
        assert_int_equal(d[1].reason, ORDER_REASON_REQUIRED_STOPPED);
        assert_int_equal(d[2].verdict, ORDER_START);
}

static void test_order_decide_starts_required_timeout(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_STARTING), U("r", 0, NULL, A_A, ORDER_PENDING),
                                 U("f", 0, A_A, NULL, ORDER_PENDING)};
        u[0].launched = SEC;
        struct order_decision d[3];
        decide(u, 3, SEC + TMO, d);
        assert_int_equal(d[1].verdict, ORDER_FAIL);
        assert_int_equal(d[1].reason, ORDER_REASON_REQUIRED_TIMEOUT);
        assert_int_equal(d[2].verdict, ORDER_START);
}

static void test_order_decide_starts_backoff_dependency_times_out(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_BACKOFF), U("b", 0, A_A, NULL, ORDER_PENDING)};
        u[1].since = SEC;
        struct order_decision d[2];
        decide(u, 2, 2 * SEC, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].wake, SEC + TMO);
        decide(u, 2, SEC + TMO, d);
        assert_int_equal(d[1].verdict, ORDER_FAIL);
        assert_int_equal(d[1].reason, ORDER_REASON_TIMEOUT);
}

static void test_order_decide_starts_waits_for_stopping_dependency(void **state)
{
        (void) state;
        /* The reload of a and b (after a) together: b, restarted first, must
         * not start again while a still runs its old definition. */
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_UP), U("b", 0, A_A, NULL, ORDER_PENDING)};
        u[0].stop_pending = u[0].stopping = true;
        struct order_decision d[2];
        decide(u, 2, 0, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].reason, ORDER_REASON_STOPPING);
        assert_int_equal(d[1].wake, 0);
        /* A stopping container of an earlier group holds the later ones too. */
        struct order_unit v[] = {U("a", 0, NULL, NULL, ORDER_UP), U("b", 1, NULL, NULL, ORDER_PENDING)};
        v[0].stopping = true;
        decide(v, 2, 0, d);
        assert_int_equal(d[1].verdict, ORDER_WAIT);
        assert_int_equal(d[1].reason, ORDER_REASON_GROUP);
}

static void test_order_decide_starts_not_pending_is_none(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_UP), U("b", 0, NULL, NULL, ORDER_IDLE),
                                 U("c", 0, NULL, NULL, ORDER_FAILED)};
        struct order_decision d[3];
        decide(u, 3, 0, d);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(d[i].verdict, ORDER_NONE);
        assert_int_equal(order_decide_starts(NULL, 0, 0, NULL), 0);
}

static void stopping_all(struct order_unit *u, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (u[i].alive)
                        u[i].stop_pending = u[i].stopping = true;
}

static void test_order_decide_stops_reverse_groups(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 10, NULL, NULL, ORDER_UP), U("b", 20, A_A, NULL, ORDER_UP),
                                 U("c", 30, NULL, NULL, ORDER_UP), U("d", 30, NULL, NULL, ORDER_UP)};
        stopping_all(u, 4);
        bool s[4];
        assert_int_equal(order_decide_stops(u, 4, s), 0);
        assert_false(s[0]);
        assert_false(s[1]);
        assert_true(s[2]);
        assert_true(s[3]); /* a group stops in parallel */
        /* c signalled, still alive: b still waits. */
        u[2].stop_pending = u[3].stop_pending = false;
        assert_int_equal(order_decide_stops(u, 4, s), 0);
        assert_false(s[1]);
        u[2].alive = u[3].alive = false;
        u[2].stopping = u[3].stopping = false;
        assert_int_equal(order_decide_stops(u, 4, s), 0);
        assert_false(s[0]);
        assert_true(s[1]);
        u[1].alive = u[1].stopping = u[1].stop_pending = false;
        assert_int_equal(order_decide_stops(u, 4, s), 0);
        assert_true(s[0]);
}

static void test_order_decide_stops_dependant_first_in_group(void **state)
{
        (void) state;
        /* The reload of a and b (after a): b stops first. */
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_UP), U("b", 0, A_A, NULL, ORDER_UP),
                                 U("x", 0, NULL, NULL, ORDER_UP)};
        stopping_all(u, 3);
        bool s[3];
        assert_int_equal(order_decide_stops(u, 3, s), 0);
        assert_false(s[0]);
        assert_true(s[1]);
        assert_true(s[2]);
}

static void test_order_decide_stops_running_dependant_not_stopping(void **state)
{
        (void) state;
        /* Stopping only a: b, which only comes after it and is not being
         * stopped, does not hold it (the stop verb stops requirers itself). */
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_UP), U("b", 5, A_A, NULL, ORDER_UP)};
        u[0].stop_pending = u[0].stopping = true;
        bool s[2];
        assert_int_equal(order_decide_stops(u, 2, s), 0);
        assert_true(s[0]);
        assert_false(s[1]);
        assert_int_equal(order_decide_stops(NULL, 0, NULL), 0);
}

/* One graph, kept while the states change (as berthd's scheduler keeps it):
 * the same decisions as building it every time, at every step of a start
 * and of a stop. */
static void test_perf22_order_graph_reused_across_states(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 10, NULL, NULL, ORDER_PENDING), U("b", 20, A_A, NULL, ORDER_PENDING),
                                 U("c", 30, NULL, A_B, ORDER_PENDING), U("d", 0, NULL, NULL, ORDER_PENDING)};
        struct order_graph *g = NULL;
        assert_int_equal(order_graph_new(u, 4, &g), 0);
        assert_int_equal(order_graph_size(g), 4);
        enum order_state steps[][4] = {
                {ORDER_PENDING, ORDER_PENDING, ORDER_PENDING, ORDER_PENDING},
                {ORDER_STARTING, ORDER_PENDING, ORDER_PENDING, ORDER_UP},
                {ORDER_UP, ORDER_PENDING, ORDER_PENDING, ORDER_UP},
                {ORDER_UP, ORDER_UP, ORDER_PENDING, ORDER_UP},
                {ORDER_UP, ORDER_FAILED, ORDER_PENDING, ORDER_UP},
        };
        for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
                for (size_t i = 0; i < 4; i++)
                        u[i].state = steps[s][i];
                struct order_decision fresh[4], kept[4];
                assert_int_equal(order_decide_starts(u, 4, 0, fresh), 0);
                assert_int_equal(order_decide_starts_with(g, u, 4, 0, kept), 0);
                for (size_t i = 0; i < 4; i++) {
                        assert_int_equal(kept[i].verdict, fresh[i].verdict);
                        assert_int_equal(kept[i].reason, fresh[i].reason);
                        assert_int_equal(kept[i].blocker, fresh[i].blocker);
                }
        }
        /* The last step: b failed, so c (requires b) fails. */
        struct order_decision d[4];
        assert_int_equal(order_decide_starts_with(g, u, 4, 0, d), 0);
        assert_int_equal(d[2].verdict, ORDER_FAIL);
        assert_int_equal(d[2].reason, ORDER_REASON_REQUIRED_FAILED);
        /* Stops, reversed, with the same graph. */
        for (size_t i = 0; i < 4; i++) {
                u[i].state = ORDER_UP;
                u[i].stop_pending = u[i].stopping = u[i].alive = true;
        }
        bool held[4], fresh_s[4], kept_s[4];
        for (int step = 0; step < 4; step++) {
                assert_int_equal(order_decide_stops(u, 4, fresh_s), 0);
                assert_int_equal(order_decide_stops_with(g, u, 4, held, kept_s), 0);
                size_t stopped = 0;
                for (size_t i = 0; i < 4; i++) {
                        assert_int_equal(kept_s[i], fresh_s[i]);
                        if (kept_s[i]) {
                                u[i].stop_pending = u[i].stopping = u[i].alive = false;
                                stopped++;
                        }
                }
                assert_true(stopped > 0 || step == 3);
        }
        assert_true(order_graph_free(g) == NULL);
}

/* A graph of another size is refused rather than read out of bounds. */
static void test_perf22_order_graph_size_mismatch(void **state)
{
        (void) state;
        struct order_unit u[] = {U("a", 0, NULL, NULL, ORDER_PENDING), U("b", 0, NULL, NULL, ORDER_PENDING)};
        struct order_graph *g = NULL;
        assert_int_equal(order_graph_new(u, 1, &g), 0);
        struct order_decision d[2];
        bool held[2], s[2];
        assert_int_equal(order_decide_starts_with(g, u, 2, 0, d), -EINVAL);
        assert_int_equal(order_decide_stops_with(g, u, 2, held, s), -EINVAL);
        assert_int_equal(order_decide_starts_with(NULL, u, 2, 0, d), -EINVAL);
        order_graph_free(g);
        assert_null(order_graph_free(NULL));
}

static void test_order_mark_required_transitive(void **state)
{
        (void) state;
        /* app requires db, db requires disk; app after log (not required). */
        static char *R_DB[] = {(char *) "db", NULL};
        static char *R_DISK[] = {(char *) "disk", NULL};
        static char *A_LOG[] = {(char *) "log", NULL};
        struct order_unit u[] = {U("app", 0, A_LOG, R_DB, ORDER_IDLE), U("db", 0, NULL, R_DISK, ORDER_IDLE),
                                 U("disk", 0, NULL, NULL, ORDER_IDLE), U("log", 0, NULL, NULL, ORDER_IDLE)};
        bool m[4] = {false};
        assert_int_equal(order_mark_required(u, 4, 0, m), 3);
        assert_true(m[0] && m[1] && m[2]);
        assert_false(m[3]);
        assert_int_equal(order_mark_required(u, 4, 0, m), 0); /* nothing anew */
        bool r[4] = {false};
        assert_int_equal(order_mark_requirers(u, 4, 2, r), 3);
        assert_true(r[0] && r[1] && r[2]);
        assert_false(r[3]);
        bool l[4] = {false};
        assert_int_equal(order_mark_requirers(u, 4, 3, l), 1); /* after is no requirement */
        assert_true(l[3]);
        assert_false(l[0]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_order_sort_dependency_beats_start_order),
                cmocka_unit_test(test_order_sort_requires_is_an_edge),
                cmocka_unit_test(test_order_sort_start_order_then_name),
                cmocka_unit_test(test_order_sort_ready_item_waits_its_turn),
                cmocka_unit_test(test_order_sort_missing_and_self_ignored),
                cmocka_unit_test(test_order_sort_cycle_broken_at_lowest),
                cmocka_unit_test(test_order_sort_duplicate_names),
                cmocka_unit_test(test_order_sort_empty),
                cmocka_unit_test(test_order_containers_from_definitions),
                cmocka_unit_test(test_order_decide_starts_lowest_group_first),
                cmocka_unit_test(test_order_decide_starts_group_waits_for_previous_to_run),
                cmocka_unit_test(test_order_decide_starts_chain_by_start_order_alone),
                cmocka_unit_test(test_order_decide_starts_group_in_parallel),
                cmocka_unit_test(test_order_decide_starts_health_then_timeout),
                cmocka_unit_test(test_order_decide_starts_failed_member_does_not_hold),
                cmocka_unit_test(test_order_decide_starts_fail_in_same_pass_releases_group),
                cmocka_unit_test(test_order_decide_starts_effective_group),
                cmocka_unit_test(test_order_decide_starts_delay_counts_from_turn),
                cmocka_unit_test(test_order_decide_starts_delay_reset_when_turn_lost),
                cmocka_unit_test(test_order_decide_starts_zero_delay_starts_now),
                cmocka_unit_test(test_order_decide_starts_requires_vs_after_on_failure),
                cmocka_unit_test(test_order_decide_starts_required_timeout),
                cmocka_unit_test(test_order_decide_starts_backoff_dependency_times_out),
                cmocka_unit_test(test_order_decide_starts_waits_for_stopping_dependency),
                cmocka_unit_test(test_order_decide_starts_not_pending_is_none),
                cmocka_unit_test(test_order_decide_stops_reverse_groups),
                cmocka_unit_test(test_order_decide_stops_dependant_first_in_group),
                cmocka_unit_test(test_order_decide_stops_running_dependant_not_stopping),
                cmocka_unit_test(test_order_mark_required_transitive),
                cmocka_unit_test(test_perf22_order_graph_reused_across_states),
                cmocka_unit_test(test_perf22_order_graph_size_mismatch),
        };
        return cmocka_run_group_tests_name("order", tests, NULL, NULL);
}
