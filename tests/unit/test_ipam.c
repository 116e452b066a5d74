/* Unit tests for ipam.c: allocation order, stickiness, reservations,
 * exhaustion, the file format, and persistence in a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>

#include "ipam.h"
#include "util.h"

static struct spec_network mknet(const char *subnet, uint8_t prefix, const char *gw)
{
        struct spec_network n = { .name = "lan0", .prefix = prefix };
        inet_pton(AF_INET, subnet, &n.subnet);
        inet_pton(AF_INET, gw, &n.gateway);
        return n;
}

static struct in_addr A(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static void test_ipam_table_assign_lowest_free(void **state)
{
        (void) state;
        struct spec_network n = mknet("198.18.0.0", 24, "198.18.0.1");
        struct ipam_table t = { 0 };
        struct in_addr a;
        bool changed;
        assert_int_equal(ipam_table_assign(&t, &n, "a", NULL, NULL, 0, &a, &changed), 0);
        assert_int_equal(a.s_addr, A("198.18.0.2").s_addr);
        assert_true(changed);
        assert_int_equal(ipam_table_assign(&t, &n, "b", NULL, NULL, 0, &a, NULL), 0);
        assert_int_equal(a.s_addr, A("198.18.0.3").s_addr);
        assert_true(ipam_table_release(&t, "a"));
        assert_int_equal(ipam_table_assign(&t, &n, "c", NULL, NULL, 0, &a, NULL), 0);
        assert_int_equal(a.s_addr, A("198.18.0.2").s_addr);
        ipam_table_done(&t);
}

static void test_ipam_table_assign_skips_gateway_and_reserved(void **state)
{
        (void) state;
        struct spec_network n = mknet("198.18.0.0", 24, "198.18.0.2");
        struct in_addr reserved[] = { A("198.18.0.1"), A("198.18.0.3") };
        struct ipam_table t = { 0 };
        struct in_addr a;
        assert_int_equal(ipam_table_assign(&t, &n, "a", NULL, reserved, 2, &a, NULL), 0);
        assert_int_equal(a.s_addr, A("198.18.0.4").s_addr);
        ipam_table_done(&t);
}

static void test_ipam_table_assign_sticky(void **state)
{
        (void) state;
        struct spec_network n = mknet("198.18.0.0", 24, "198.18.0.1");
        struct ipam_table t = { 0 };
        struct in_addr a, b;
        bool changed = true;
        assert_int_equal(ipam_table_assign(&t, &n, "x", NULL, NULL, 0, &a, NULL), 0);
        assert_int_equal(ipam_table_assign(&t, &n, "y", NULL, NULL, 0, &b, NULL), 0);
        assert_int_equal(ipam_table_assign(&t, &n, "y", NULL, NULL, 0, &b, &changed), 0);
        assert_false(changed);
        assert_int_equal(b.s_addr, A("198.18.0.3").s_addr);
        ipam_table_done(&t);
}

static void test_ipam_table_assign_static(void **state)
{
        (void) state;
        struct spec_network n = mknet("198.18.0.0", 24, "198.18.0.1");
        struct ipam_table t = { 0 };
        struct in_addr a, w = A("198.18.0.50");
        assert_int_equal(ipam_table_assign(&t, &n, "s", &w, NULL, 0, &a, NULL), 0);
        assert_int_equal(a.s_addr, w.s_addr);
        assert_int_equal(ipam_table_assign(&t, &n, "other", &w, NULL, 0, &a, NULL), -EADDRINUSE);
        struct in_addr bad[] = { A("198.18.0.0"), A("198.18.0.255"), A("198.18.0.1"), A("198.18.1.5") };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(ipam_table_assign(&t, &n, "z", &bad[i], NULL, 0, &a, NULL), -EINVAL);
        ipam_table_done(&t);
}

static void test_ipam_table_assign_exhausted(void **state)
{
        (void) state;
        struct spec_network n = mknet("198.18.0.0", 30, "198.18.0.1"); /* hosts .1 .2 */
        struct ipam_table t = { 0 };
        struct in_addr a;
        assert_int_equal(ipam_table_assign(&t, &n, "a", NULL, NULL, 0, &a, NULL), 0);
        assert_int_equal(a.s_addr, A("198.18.0.2").s_addr);
        assert_int_equal(ipam_table_assign(&t, &n, "b", NULL, NULL, 0, &a, NULL), -ENOSPC);
        ipam_table_done(&t);
}

static void test_ipam_table_parse_roundtrip(void **state)
{
        (void) state;
        struct ipam_table t = { 0 };
        assert_int_equal(ipam_table_parse("# c\nweb 198.18.0.2\n\ndb 198.18.0.3\n", &t), 0);
        assert_int_equal(t.n, 2);
        char *text = NULL;
        assert_int_equal(ipam_table_format(&t, &text), 0);
        assert_non_null(strstr(text, "web 198.18.0.2\ndb 198.18.0.3\n"));
        ipam_table_done(&t);
        assert_int_equal(ipam_table_parse(text, &t), 0);
        assert_int_equal(t.n, 2);
        free(text);
        ipam_table_done(&t);
}

static void test_ipam_table_parse_rejects_garbage(void **state)
{
        (void) state;
        struct ipam_table t = { 0 };
        assert_int_equal(ipam_table_parse("web 198.18.0.2 extra\n", &t), -EINVAL);
        assert_int_equal(ipam_table_parse("../x 198.18.0.2\n", &t), -EINVAL);
        assert_int_equal(ipam_table_parse("web 300.1.1.1\n", &t), -EINVAL);
        assert_int_equal(ipam_table_parse("web 198.18.0.2\nweb 198.18.0.3\n", &t), -EINVAL);
}

static void test_ipam_assign_persists(void **state)
{
        (void) state;
        char dir[] = "/tmp/test_ipam.XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct spec_network n = mknet("198.18.0.0", 24, "198.18.0.1");
        struct in_addr a, b, c;
        assert_int_equal(ipam_assign(fd, &n, "one", NULL, NULL, 0, &a), 0);
        assert_int_equal(ipam_assign(fd, &n, "two", NULL, NULL, 0, &b), 0);
        assert_int_equal(ipam_assign(fd, &n, "one", NULL, NULL, 0, &c), 0);
        assert_int_equal(a.s_addr, c.s_addr);
        char *text = NULL;
        assert_int_equal(read_file_at(fd, "lan0.ipam", 4096, &text, NULL), 0);
        assert_non_null(strstr(text, "one 198.18.0.2\ntwo 198.18.0.3\n"));
        free(text);
        assert_int_equal(ipam_release(fd, "lan0", "one"), 0);
        assert_int_equal(ipam_release(fd, "lan0", "one"), 0);
        assert_int_equal(ipam_assign(fd, &n, "three", NULL, NULL, 0, &c), 0);
        assert_int_equal(c.s_addr, a.s_addr);
        close(fd);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ipam_table_assign_lowest_free),
                cmocka_unit_test(test_ipam_table_assign_skips_gateway_and_reserved),
                cmocka_unit_test(test_ipam_table_assign_sticky),
                cmocka_unit_test(test_ipam_table_assign_static),
                cmocka_unit_test(test_ipam_table_assign_exhausted),
                cmocka_unit_test(test_ipam_table_parse_roundtrip),
                cmocka_unit_test(test_ipam_table_parse_rejects_garbage),
                cmocka_unit_test(test_ipam_assign_persists),
        };
        return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
