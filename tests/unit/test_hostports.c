/* Unit tests for hostports.c: /proc/net/{tcp,udp}{,6} parsing and which
 * host sockets a published port would shadow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "hostports.h"

#define TCP_HEAD "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

static void test_hostports_parse_keeps_listeners(void **state)
{
        (void) state;
        const char *tcp = TCP_HEAD
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0\n"
                "   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0 100 0 0 10 0\n";
        struct hostport *l = NULL;
        size_t n = 0;
        assert_int_equal(hostports_parse(tcp, AF_INET, PROTO_TCP, &l, &n), 0);
        assert_int_equal(n, 1); /* the established one is no listener */
        assert_int_equal(l[0].port, 8080);
        assert_int_equal(l[0].inode, 1001);
        struct in_addr a;
        memcpy(&a, l[0].addr, 4);
        assert_int_equal(ntohl(a.s_addr), 0x7f000001);
        const char *udp6 = "  sl  local_address                         remote_address                        st\n"
                "  5: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2002 2 0 0\n";
        assert_int_equal(hostports_parse(udp6, AF_INET6, PROTO_UDP, &l, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(l[1].port, 53);
        assert_int_equal(l[1].family, AF_INET6);
        assert_int_equal(hostports_parse(TCP_HEAD "   0: nonsense\n", AF_INET, PROTO_TCP, &l, &n), -EINVAL);
        free(l);
}

static void test_hostports_conflicts_by_address(void **state)
{
        (void) state;
        struct hostport any4 = { .proto = PROTO_TCP, .family = AF_INET, .port = 8080 };
        struct hostport lo4 = any4, any6 = { .proto = PROTO_TCP, .family = AF_INET6, .port = 8080 }, v6 = any6,
                        mapped = any6;
        inet_pton(AF_INET, "127.0.0.1", lo4.addr);
        inet_pton(AF_INET6, "2001:db8::1", v6.addr);
        inet_pton(AF_INET6, "::ffff:198.18.0.1", mapped.addr);
        struct publish wild = { .host_port = 8080, .container_port = 80, .proto = PROTO_TCP }, at = wild;
        inet_pton(AF_INET, "198.18.0.1", &at.host_addr);
        assert_true(hostports_conflicts(&any4, &wild, false));
        assert_true(hostports_conflicts(&any4, &at, false));
        assert_true(hostports_conflicts(&lo4, &wild, false)); /* the wildcard DNATs 127.0.0.1 too */
        assert_false(hostports_conflicts(&lo4, &at, false));
        assert_true(hostports_conflicts(&any6, &at, false));
        assert_false(hostports_conflicts(&v6, &wild, false));
        assert_true(hostports_conflicts(&mapped, &at, false));
        struct publish other = wild, udp = wild;
        other.host_port = 8081;
        udp.proto = PROTO_UDP;
        assert_false(hostports_conflicts(&any4, &other, false));
        assert_false(hostports_conflicts(&any4, &udp, false));
}

/* IPv6 publishing: "[V6]:H:C" takes IPv6 only; a wildcard publish takes a
 * socket on one IPv6 address only when the container has IPv6. */
static void test_hostports_conflicts_v6(void **state)
{
        (void) state;
        struct hostport any4 = { .proto = PROTO_TCP, .family = AF_INET, .port = 8080 };
        struct hostport any6 = { .proto = PROTO_TCP, .family = AF_INET6, .port = 8080 }, v6 = any6, v6b = any6,
                        mapped = any6;
        inet_pton(AF_INET6, "2001:db8::1", v6.addr);
        inet_pton(AF_INET6, "2001:db8::2", v6b.addr);
        inet_pton(AF_INET6, "::ffff:198.18.0.1", mapped.addr);
        struct publish wild = { .host_port = 8080, .container_port = 80, .proto = PROTO_TCP }, at6 = wild;
        at6.host6 = 1;
        inet_pton(AF_INET6, "2001:db8::1", &at6.host_addr6);
        assert_false(hostports_conflicts(&any4, &at6, true)); /* an IPv4 socket is not IPv6 traffic */
        assert_true(hostports_conflicts(&any6, &at6, true));
        assert_true(hostports_conflicts(&v6, &at6, true));
        assert_false(hostports_conflicts(&v6b, &at6, true));
        assert_false(hostports_conflicts(&mapped, &at6, true));
        assert_true(hostports_conflicts(&v6, &wild, true)); /* dual stack: the wildcard DNATs it */
        assert_false(hostports_conflicts(&v6, &wild, false));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostports_parse_keeps_listeners),
                cmocka_unit_test(test_hostports_conflicts_by_address),
                cmocka_unit_test(test_hostports_conflicts_v6),
        };
        return cmocka_run_group_tests_name("hostports", tests, NULL, NULL);
}
