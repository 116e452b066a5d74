/* Unit tests for idmap.c's pool and ranges: the pool's text, the lowest
 * free block, reserved fixed ranges, persistence and release. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "idmap.h"
#include "util.h"

static void test_idmap_pool_parse_cases(void **state)
{
        (void) state;
        struct idmap_pool p;
        assert_int_equal(idmap_pool_parse("1000000000:1000000000", &p), 0);
        assert_int_equal(p.start, 1000000000U);
        assert_int_equal(p.count, 1000000000U);
        assert_int_equal(idmap_pool_parse("100000:65536", &p), 0);
        assert_int_equal(idmap_pool_parse("100000:65535", &p), -EINVAL); /* less than one block */
        assert_int_equal(idmap_pool_parse("0:65536", &p), -EINVAL);
        assert_int_equal(idmap_pool_parse("4294967000:65536", &p), -EINVAL);
        assert_int_equal(idmap_pool_parse("-1:65536", &p), -EINVAL);
        assert_int_equal(idmap_pool_parse("100000", &p), -EINVAL);
        assert_int_equal(idmap_pool_parse("100000:65536x", &p), -EINVAL);
        assert_int_equal(idmap_pool_parse("", &p), -EINVAL);
}

static void test_idmap_range_assign_disjoint_kept_released(void **state)
{
        (void) state;
        char dir[] = "/tmp/test_idmap.XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct idmap_pool pool = { .start = 1000000, .count = 4 * 65536 };
        const uint32_t reserved[1][2] = { { 1000000 + 65536, 10 } }; /* a fixed idmap of another definition */
        uint32_t a, b, c, again;
        assert_int_equal(idmap_range_assign(dir, "a", &pool, NULL, 0, &a), 0);
        assert_int_equal(a, 1000000U);
        assert_int_equal(idmap_range_assign(dir, "b", &pool, reserved, 1, &b), 0);
        assert_int_equal(b, 1000000U + 65536 + 10); /* past the reserved range */
        assert_int_equal(idmap_range_assign(dir, "a", &pool, NULL, 0, &again), 0);
        assert_int_equal(again, a); /* kept */
        assert_int_equal(idmap_range_lookup(dir, "b", &again), 0);
        assert_int_equal(again, b);
        assert_int_equal(idmap_range_lookup(dir, "nope", &again), -ENOENT);
        /* One block is left after b: c takes it, then the pool is full. */
        assert_int_equal(idmap_range_assign(dir, "c", &pool, reserved, 1, &c), 0);
        assert_int_equal(c, b + 65536);
        assert_int_equal(idmap_range_assign(dir, "d", &pool, reserved, 1, &again), -ENOSPC);
        /* Freed by release, taken again by the next. */
        assert_int_equal(idmap_range_release(dir, "a"), 0);
        assert_int_equal(idmap_range_lookup(dir, "a", &again), -ENOENT);
        assert_int_equal(idmap_range_assign(dir, "d", &pool, reserved, 1, &again), 0);
        assert_int_equal(again, a);
        assert_int_equal(idmap_range_release(dir, "never"), 0);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_idmap_record_round_trip(void **state)
{
        (void) state;
        char dir[] = "/tmp/test_idmap.XXXXXX";
        assert_non_null(mkdtemp(dir));
        uint32_t s, c;
        char m[32];
        assert_int_equal(idmap_record_read(dir, &s, &c, m, sizeof m), -ENOENT);
        assert_int_equal(idmap_record_write(dir, 100000, 65536, IDMAP_METHOD_SHIFTED_COPY), 0);
        assert_int_equal(idmap_record_read(dir, &s, &c, m, sizeof m), 0);
        assert_int_equal(s, 100000U);
        assert_int_equal(c, 65536U);
        assert_string_equal(m, "shifted-copy");
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_idmap_pool_parse_cases),
                cmocka_unit_test(test_idmap_range_assign_disjoint_kept_released),
                cmocka_unit_test(test_idmap_record_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
