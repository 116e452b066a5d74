/* Unit tests for resolv.c: a container's resolv.conf from the host's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resolv.h"

static void test_resolv_container_text_dns_only(void **state)
{
        (void) state;
        char *s = NULL;
        char *dns[] = { "198.18.0.53", "2001:db8::1", NULL };
        assert_int_equal(resolv_container_text(dns, "nameserver 198.18.9.9\n", NULL, &s), 0);
        assert_string_equal(s, "nameserver 198.18.0.53\nnameserver 2001:db8::1\n");
        free(s);
        char *bad[] = { "1.2.3.4\nnameserver 6.6.6.6", NULL };
        assert_int_equal(resolv_container_text(bad, NULL, NULL, &s), -EINVAL);
}

static void test_resolv_container_text_drops_loopback(void **state)
{
        (void) state;
        char *s = NULL;
        assert_int_equal(resolv_container_text(NULL, "search lan\nnameserver 127.0.0.53\nnameserver ::1\n"
                                                     "nameserver 198.18.0.9\noptions edns0\n", NULL, &s), 0);
        assert_string_equal(s, "search lan\nnameserver 198.18.0.9\noptions edns0\n");
        free(s);
        /* A reachable server beside a loopback one: no forwarding. */
        struct in_addr gw;
        inet_pton(AF_INET, "198.18.0.1", &gw);
        assert_int_equal(resolv_container_text(NULL, "nameserver 127.0.0.1\nnameserver 198.18.0.9\n", &gw, &s), 0);
        assert_string_equal(s, "nameserver 198.18.0.9\n");
        free(s);
        assert_int_equal(resolv_container_text(NULL, NULL, NULL, &s), 0);
        assert_string_equal(s, "");
        free(s);
}

static void test_resolv_container_text_loopback_only_uses_gateway(void **state)
{
        (void) state;
        char *s = NULL;
        struct in_addr gw;
        inet_pton(AF_INET, "198.18.0.1", &gw);
        assert_int_equal(resolv_container_text(NULL, "nameserver 127.0.0.1\nnameserver 127.0.0.2\nsearch x\n", &gw, &s),
                         0);
        assert_string_equal(s, "nameserver 198.18.0.1\nsearch x\n");
        free(s);
        /* Not on a bridge (mode none): nothing to forward through. */
        assert_int_equal(resolv_container_text(NULL, "nameserver 127.0.0.1\n", NULL, &s), 0);
        assert_string_equal(s, "");
        free(s);
}

static void test_resolv_loopback_only(void **state)
{
        (void) state;
        struct in_addr a;
        assert_true(resolv_loopback_only("nameserver ::1\nnameserver 127.77.0.53\n", &a));
        assert_int_equal(ntohl(a.s_addr), 0x7f4d0035);
        assert_false(resolv_loopback_only("nameserver 127.0.0.1\nnameserver 198.18.0.9\n", &a));
        assert_false(resolv_loopback_only("nameserver ::1\n", &a));
        assert_false(resolv_loopback_only("", &a));
}

static void test_resolv_is_resolved_stub(void **state)
{
        (void) state;
        assert_true(resolv_is_resolved_stub("# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"));
        assert_false(resolv_is_resolved_stub("nameserver 127.0.0.53\nnameserver 198.18.0.9\n"));
        assert_false(resolv_is_resolved_stub("nameserver 127.0.0.1\n"));
        assert_false(resolv_is_resolved_stub(""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolv_container_text_dns_only),
                cmocka_unit_test(test_resolv_container_text_drops_loopback),
                cmocka_unit_test(test_resolv_container_text_loopback_only_uses_gateway),
                cmocka_unit_test(test_resolv_loopback_only),
                cmocka_unit_test(test_resolv_is_resolved_stub),
        };
        return cmocka_run_group_tests_name("resolv", tests, NULL, NULL);
}
