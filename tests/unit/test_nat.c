/* Unit tests for nat.c's pure ruleset generation (no root, no kernel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "nat.h"
#include "util.h"

static struct spec_network mknet(const char *name, const char *subnet, bool nat)
{
        struct spec_network n = { .name = (char *) name, .bridge = (char *) name, .prefix = 24, .nat = nat };
        inet_pton(AF_INET, subnet, &n.subnet);
        return n;
}

__attribute__((noinline)) static char *text_for(struct spec_network *const *nets, size_t nn, const struct nat_target *t, size_t nt)
{
        char *s = NULL;
        assert_int_equal(nat_ruleset_text("berth", nets, nn, t, nt, (struct in_addr) { INADDR_ANY }, &s), 0);
        return s;
}

static void test_nat_ruleset_text_replaces_table_atomically(void **state)
{
        (void) state;
        char *s = text_for(NULL, 0, NULL, 0);
        assert_true(strncmp(s, "add table inet berth\ndelete table inet berth\ntable inet berth {\n", 63) == 0);
        assert_non_null(strstr(s, "type nat hook prerouting priority dstnat;"));
        assert_non_null(strstr(s, "type nat hook output priority -100;"));
        assert_non_null(strstr(s, "type nat hook postrouting priority srcnat;"));
        assert_null(strstr(s, "masquerade"));
        assert_null(strstr(s, "dnat ip to"));
        free(s);
}

static void test_nat_ruleset_text_masquerades_nat_networks_only(void **state)
{
        (void) state;
        struct spec_network a = mknet("lan0", "198.18.0.0", true), b = mknet("lan1", "198.18.1.0", false);
        struct spec_network *nets[] = { &a, &b };
        char *s = text_for(nets, 2, NULL, 0);
        assert_non_null(strstr(s, "ip saddr 198.18.0.0/24 oifname != \"lan0\" masquerade\n"));
        assert_null(strstr(s, "oifname != \"lan1\""));
        assert_non_null(strstr(s, "ct status dnat ip saddr 198.18.1.0/24 oifname \"lan1\" masquerade\n"));
        assert_non_null(strstr(s, "iifname \"lan1\" accept\n"));
        free(s);
}

/* Dual stack: a wildcard publish DNATs IPv6 too (never ::1 from the host
 * itself), [V6]:H:C only IPv6, A.B.C.D:H:C only IPv4; hairpin for the
 * prefix; NAT66 only with nat6. */
static void test_nat_ruleset_text_ipv6(void **state)
{
        (void) state;
        struct spec_network a = mknet("lan0", "198.18.0.0", true), b = mknet("lan1", "198.18.1.0", false);
        a.v6 = b.v6 = true;
        a.prefix6 = b.prefix6 = 64;
        inet_pton(AF_INET6, "2001:db8:1::", &a.subnet6);
        inet_pton(AF_INET6, "2001:db8:2::", &b.subnet6);
        b.nat6 = true;
        struct spec_network *nets[] = { &a, &b };
        struct publish p[3] = {
                { .host_port = 8080, .container_port = 80, .proto = PROTO_TCP },
                { .host_port = 8443, .container_port = 443, .proto = PROTO_TCP, .host6 = 1 },
                { .host_port = 9000, .container_port = 90, .proto = PROTO_UDP },
        };
        inet_pton(AF_INET6, "2001:db8:ff::1", &p[1].host_addr6);
        inet_pton(AF_INET, "198.18.9.9", &p[2].host_addr);
        struct nat_target t = { .name = "web", .publish = p, .n_publish = 3, .v6 = true };
        inet_pton(AF_INET, "198.18.0.10", &t.address);
        inet_pton(AF_INET6, "2001:db8:1::a", &t.address6);
        char *s = text_for(nets, 2, &t, 1);
        assert_non_null(strstr(s, "meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 198.18.0.10:80\n"));
        assert_non_null(strstr(s, "meta nfproto ipv6 fib daddr type local tcp dport 8080 dnat ip6 to [2001:db8:1::a]:80\n"));
        assert_non_null(strstr(s, "meta nfproto ipv6 fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat ip6 to "
                                  "[2001:db8:1::a]:80\n"));
        assert_non_null(strstr(s, "meta nfproto ipv6 ip6 daddr 2001:db8:ff::1 tcp dport 8443 dnat ip6 to [2001:db8:1::a]:443\n"));
        assert_null(strstr(s, "dport 8443 dnat ip to"));
        assert_non_null(strstr(s, "ip daddr 198.18.9.9 udp dport 9000 dnat ip to 198.18.0.10:90\n"));
        assert_null(strstr(s, "dport 9000 dnat ip6"));
        assert_non_null(strstr(s, "ct status dnat ip6 saddr 2001:db8:1::/64 oifname \"lan0\" masquerade\n"));
        assert_null(strstr(s, "ip6 saddr 2001:db8:1::/64 oifname != \"lan0\""));
        assert_non_null(strstr(s, "ip6 saddr 2001:db8:2::/64 oifname != \"lan1\" masquerade\n"));
        free(s);
        /* The same container on an IPv4-only network: no IPv6 rule at all. */
        t.v6 = false;
        p[1].host6 = 0; /* (check refuses [V6] there) */
        a.v6 = b.v6 = false;
        s = text_for(nets, 2, &t, 1);
        assert_null(strstr(s, "ip6"));
        free(s);
}

static void test_nat_ruleset_text_publishes_ports(void **state)
{
        (void) state;
        struct publish p[2] = {
                { .host_port = 8080, .container_port = 80, .proto = PROTO_TCP },
                { .host_port = 5353, .container_port = 53, .proto = PROTO_UDP },
        };
        inet_pton(AF_INET, "198.18.5.1", &p[1].host_addr);
        struct nat_target t = { .name = "web", .publish = p, .n_publish = 2 };
        inet_pton(AF_INET, "198.18.0.2", &t.address);
        char *s = text_for(NULL, 0, &t, 1);
        /* prerouting and output each */
        const char *tcp = "meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 198.18.0.2:80\n";
        assert_non_null(strstr(s, tcp));
        /* 127.0.0.1 too (output chain): no exclusion of loopback any more. */
        assert_null(strstr(s, "!= 127.0.0.0/8"));
        char *output = strstr(s, "chain output");
        assert_non_null(output);
        assert_non_null(strstr(output, tcp));
        assert_non_null(strstr(s, "meta nfproto ipv4 ip daddr 198.18.5.1 udp dport 5353 dnat ip to 198.18.0.2:53\n"));
        free(s);
}

static void test_nat_ruleset_text_guards_route_localnet(void **state)
{
        (void) state;
        struct spec_network a = mknet("lan0", "198.18.0.0", false);
        inet_pton(AF_INET, "198.18.0.1", &a.gateway);
        struct spec_network *nets[] = { &a };
        char *s = text_for(nets, 1, NULL, 0);
        /* What a container sends to the host's loopback is dropped before routing. */
        assert_non_null(strstr(s, "type filter hook prerouting priority raw;"));
        assert_non_null(strstr(s, "iifname \"lan0\" ip daddr 127.0.0.0/8 drop\n"));
        /* A loopback source leaving by the bridge (host → 127.0.0.1:PORT) is masqueraded. */
        assert_non_null(strstr(s, "ip saddr 127.0.0.0/8 oifname \"lan0\" masquerade\n"));
        assert_null(strstr(s, "dport 53"));
        free(s);
}

static void test_nat_ruleset_text_forwards_dns_to_loopback_server(void **state)
{
        (void) state;
        struct spec_network a = mknet("lan0", "198.18.0.0", false);
        inet_pton(AF_INET, "198.18.0.1", &a.gateway);
        struct spec_network *nets[] = { &a };
        struct in_addr lo;
        inet_pton(AF_INET, "127.0.0.53", &lo);
        char *s = NULL;
        assert_int_equal(nat_ruleset_text("berth", nets, 1, NULL, 0, lo, &s), 0);
        assert_non_null(strstr(s, "iifname \"lan0\" ip daddr 198.18.0.1 udp dport 53 dnat ip to 127.0.0.53:53\n"));
        assert_non_null(strstr(s, "iifname \"lan0\" ip daddr 198.18.0.1 tcp dport 53 dnat ip to 127.0.0.53:53\n"));
        free(s);
}

static void test_nat_ruleset_text_rejects_bad_names(void **state)
{
        (void) state;
        char *s = NULL;
        struct spec_network a = mknet("lan0\" ; flush ruleset", "198.18.0.0", true);
        struct spec_network *nets[] = { &a };
        assert_int_equal(nat_ruleset_text("berth", nets, 1, NULL, 0, (struct in_addr) { INADDR_ANY }, &s), -EINVAL);
        assert_int_equal(nat_ruleset_text("a b", NULL, 0, NULL, 0, (struct in_addr) { INADDR_ANY }, &s), -EINVAL);
        assert_int_equal(nat_ruleset_text("bad-name", NULL, 0, NULL, 0, (struct in_addr) { INADDR_ANY }, &s), -EINVAL);
        assert_null(s);
}

/* A foreground run's table is berth_run_ + the container's name: longer than
 * an interface name may be (test_net_ra.sh's snra-c failed to start). */
static void test_nat_ruleset_text_long_table_name(void **state)
{
        (void) state;
        char *s = NULL;
        assert_int_equal(nat_ruleset_text("berth_run_a_rather_long_container_name", NULL, 0, NULL, 0,
                                          (struct in_addr) { INADDR_ANY }, &s),
                         0);
        assert_non_null(strstr(s, "table inet berth_run_a_rather_long_container_name {"));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nat_ruleset_text_replaces_table_atomically),
                cmocka_unit_test(test_nat_ruleset_text_masquerades_nat_networks_only),
                cmocka_unit_test(test_nat_ruleset_text_publishes_ports),
                cmocka_unit_test(test_nat_ruleset_text_ipv6),
                cmocka_unit_test(test_nat_ruleset_text_guards_route_localnet),
                cmocka_unit_test(test_nat_ruleset_text_forwards_dns_to_loopback_server),
                cmocka_unit_test(test_nat_ruleset_text_rejects_bad_names),
                cmocka_unit_test(test_nat_ruleset_text_long_table_name),
        };
        return cmocka_run_group_tests_name("nat", tests, NULL, NULL);
}
