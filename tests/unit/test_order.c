/* Unit tests for order.c: topological start order, tie-breaks, totality. */
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
        };
        return cmocka_run_group_tests_name("order", tests, NULL, NULL);
}
