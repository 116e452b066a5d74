/* Unit tests for parse.c: every value syntax of the definition language,
 * valid and invalid, with its boundaries (too large → -ERANGE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/capability.h>

#include "parse.h"
#include "util.h"

static void test_parse_size_valid(void **state)
{
        (void) state;
        uint64_t v;
        static const struct {
                const char *s;
                uint64_t v;
        } ok[] = {
                { "0", 0 },
                { "512", 512 },
                { "512b", 512 },
                { "4k", 4096 },
                { "4K", 4096 },
                { "256M", 256ULL << 20 },
                { "256m", 256ULL << 20 },
                { "2G", 2ULL << 30 },
                { "2g", 2ULL << 30 },
                { "3T", 3ULL << 40 },
                { "3t", 3ULL << 40 },
                { "18446744073709551615", UINT64_MAX },
                { "16777215T", 16777215ULL << 40 },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                assert_int_equal(parse_size(ok[i].s, &v), 0);
                assert_int_equal(v, ok[i].v);
        }
}

static void test_parse_size_invalid(void **state)
{
        (void) state;
        uint64_t v = 77;
        static const char *const bad[] = { "", "M", "1.5G", "-1", " 1", "1 ", "1KB", "1Ki", "12Q", "0x10", "1e3", "G1" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_size(bad[i], &v), -EINVAL);
        assert_int_equal(v, 77); /* untouched on error */
}

static void test_parse_size_overflow(void **state)
{
        (void) state;
        uint64_t v;
        assert_int_equal(parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_size("99999999999999999999999", &v), -ERANGE);
        assert_int_equal(parse_size("16777216T", &v), -ERANGE);
        assert_int_equal(parse_size("17179869184G", &v), -ERANGE);
}

static void test_parse_duration_valid(void **state)
{
        (void) state;
        usec_t u;
        static const struct {
                const char *s;
                usec_t u;
        } ok[] = {
                { "0", 0 },
                { "10", 10 * SPEC_USEC_PER_SEC },
                { "1us", 1 },
                { "500ms", 500 * SPEC_USEC_PER_MSEC },
                { "10s", 10 * SPEC_USEC_PER_SEC },
                { "5m", 300 * SPEC_USEC_PER_SEC },
                { "5min", 300 * SPEC_USEC_PER_SEC },
                { "1h", 3600 * SPEC_USEC_PER_SEC },
                { "1d", 86400 * SPEC_USEC_PER_SEC },
                { "3650d", 3650ULL * 86400 * SPEC_USEC_PER_SEC },
                { "87600h", 3650ULL * 86400 * SPEC_USEC_PER_SEC },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                assert_int_equal(parse_duration(ok[i].s, &u), 0);
                assert_int_equal(u, ok[i].u);
        }
}

static void test_parse_duration_invalid(void **state)
{
        (void) state;
        usec_t u;
        static const char *const bad[] = { "", "s", "1.5s", "-1s", "5x", "1 s", "1sec", "1hour", "1w", "ms" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_duration(bad[i], &u), -EINVAL);
}

static void test_parse_duration_too_long(void **state)
{
        (void) state;
        usec_t u;
        assert_int_equal(parse_duration("3651d", &u), -ERANGE);
        assert_int_equal(parse_duration("87601h", &u), -ERANGE);
        assert_int_equal(parse_duration("315360000000001us", &u), -ERANGE);
        assert_int_equal(parse_duration("99999999999999999999", &u), -ERANGE);
}

static void test_parse_time_point(void **state)
{
        (void) state;
        uint64_t t, now = 1764730385000000ULL; /* 2025-12-03T02:53:05Z */
        assert_int_equal(parse_time_point("10m", now, &t), 0);
        assert_true(t == now - 600000000ULL);
        assert_int_equal(parse_time_point("1d", now, &t), 0);
        assert_true(t == now - 86400000000ULL);
        assert_int_equal(parse_time_point("2025-12-03T02:53:05Z", now, &t), 0);
        assert_true(t == 1764730385000000ULL);
        assert_int_equal(parse_time_point("2025-12-03T02:53:05.25Z", now, &t), 0);
        assert_true(t == 1764730385250000ULL);
        assert_int_equal(parse_time_point("2025-12-03T03:53:05+01:00", now, &t), 0);
        assert_true(t == 1764730385000000ULL);
        assert_int_equal(parse_time_point("2025-12-03 02:53:05", now, &t), 0);
        assert_int_equal(parse_time_point("2025-12-03", now, &t), 0);
        static const char *const bad[] = { "", "yesterday", "10 minutes", "2025-12-03T", "2025-12-03 25:00:00",
                                           "2025-12-03T02:53:05X", "2025-13-03", "2025-12-03T02:53:05+1",
                                           "-5m", "2025/12/03" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(parse_time_point(bad[i], now, &t), -EINVAL);
}

static void test_parse_cpus_valid(void **state)
{
        (void) state;
        uint32_t m;
        static const struct {
                const char *s;
                uint32_t m;
        } ok[] = {
                { "1", 1000 }, { "1.5", 1500 }, { "0.25", 250 }, { "0.001", 1 },
                { "2.250", 2250 }, { "4096", 4096000 }, { "4096.000", 4096000 },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                assert_int_equal(parse_cpus(ok[i].s, &m), 0);
                assert_int_equal(m, ok[i].m);
        }
}

static void test_parse_cpus_invalid(void **state)
{
        (void) state;
        uint32_t m;
        static const char *const bad[] = { "", ".5", "1.", "1.2345", "-1", "1,5", "one", "1.5 ", "0x1" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_cpus(bad[i], &m), -EINVAL);
}

static void test_parse_cpus_out_of_range(void **state)
{
        (void) state;
        uint32_t m;
        assert_int_equal(parse_cpus("0", &m), -ERANGE);
        assert_int_equal(parse_cpus("0.000", &m), -ERANGE);
        assert_int_equal(parse_cpus("4097", &m), -ERANGE);
}

static void test_parse_cpus_fraction_above_max(void **state)
{
        (void) state;
        uint32_t m = 7;
        assert_int_equal(parse_cpus("4096.001", &m), -ERANGE);
        assert_int_equal(parse_cpus("4096.999", &m), -ERANGE);
        assert_int_equal(m, 7);
}

static void test_parse_cpus_overflow(void **state)
{
        (void) state;
        uint32_t m;
        assert_int_equal(parse_cpus("99999999999999999999", &m), -ERANGE);
        assert_int_equal(parse_cpus("99999999999999999999.5", &m), -ERANGE);
}

static void test_parse_uint32_boundaries(void **state)
{
        (void) state;
        uint32_t v;
        assert_int_equal(parse_uint32("4294967295", 0, UINT32_MAX, &v), 0);
        assert_int_equal(v, UINT32_MAX);
        assert_int_equal(parse_uint32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
        assert_int_equal(parse_uint32("99999999999999999999", 0, UINT32_MAX, &v), -ERANGE);
        assert_int_equal(parse_uint32("5", 5, 10, &v), 0);
        assert_int_equal(parse_uint32("10", 5, 10, &v), 0);
        assert_int_equal(parse_uint32("4", 5, 10, &v), -ERANGE);
        assert_int_equal(parse_uint32("11", 5, 10, &v), -ERANGE);
        assert_int_equal(parse_uint32("", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_uint32("+1", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_uint32("1x", 0, 10, &v), -EINVAL);
}

static void test_parse_int32_boundaries(void **state)
{
        (void) state;
        int32_t v;
        assert_int_equal(parse_int32("2147483647", &v), 0);
        assert_int_equal(v, INT32_MAX);
        assert_int_equal(parse_int32("-2147483648", &v), 0);
        assert_int_equal(v, INT32_MIN);
        assert_int_equal(parse_int32("-0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_int32("2147483648", &v), -ERANGE);
        assert_int_equal(parse_int32("-2147483649", &v), -ERANGE);
        assert_int_equal(parse_int32("-", &v), -EINVAL);
        assert_int_equal(parse_int32("+1", &v), -EINVAL);
        assert_int_equal(parse_int32("--1", &v), -EINVAL);
}

static void test_parse_bool_words(void **state)
{
        (void) state;
        bool b;
        static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(parse_bool(yes[i], &b), 0);
                assert_true(b);
                assert_int_equal(parse_bool(no[i], &b), 0);
                assert_false(b);
        }
        assert_int_equal(parse_bool("1", &b), -EINVAL);
        assert_int_equal(parse_bool("TRUE", &b), -EINVAL);
        assert_int_equal(parse_bool("", &b), -EINVAL);
}

static void test_parse_signal_valid(void **state)
{
        (void) state;
        int s;
        assert_int_equal(parse_signal("SIGTERM", &s), 0);
        assert_int_equal(s, SIGTERM);
        assert_int_equal(parse_signal("TERM", &s), 0);
        assert_int_equal(s, SIGTERM);
        assert_int_equal(parse_signal("SIGWINCH", &s), 0);
        assert_int_equal(s, SIGWINCH);
        assert_int_equal(parse_signal("KILL", &s), 0);
        assert_int_equal(s, SIGKILL);
        assert_int_equal(parse_signal("9", &s), 0);
        assert_int_equal(s, 9);
        assert_int_equal(parse_signal("1", &s), 0);
        assert_int_equal(parse_signal("64", &s), 0);
        assert_int_equal(s, 64);
        assert_string_equal(signal_to_string(SIGTERM), "SIGTERM");
        assert_string_equal(signal_to_string(SIGPWR), "SIGPWR");
        assert_string_equal(signal_to_string(40), "signal");
}

static void test_parse_signal_invalid(void **state)
{
        (void) state;
        int s;
        static const char *const bad[] = { "", "0", "65", "99999999999999999999", "sigterm", "SIG", "SIGFOO",
                                           "SIGSIGTERM", "TERM ", "-15", "SIGRTMIN" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_signal(bad[i], &s), -EINVAL);
}

static void test_parse_ipv4_valid_and_invalid(void **state)
{
        (void) state;
        struct in_addr a;
        assert_int_equal(parse_ipv4("198.18.0.1", &a), 0);
        assert_int_equal(ntohl(a.s_addr), 0xc6120001);
        assert_int_equal(parse_ipv4("0.0.0.0", &a), 0);
        assert_int_equal(parse_ipv4("255.255.255.255", &a), 0);
        static const char *const bad[] = { "", "198.18.0", "198.18.0.256", "198.18.0.1.2", " 198.18.0.1",
                                           "198.18.0.1/24", "::1", "localhost", "0x7f.0.0.1" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_ipv4(bad[i], &a), -EINVAL);
}

static void test_parse_cidr_valid(void **state)
{
        (void) state;
        struct in_addr a;
        uint8_t p;
        char buf[INET_ADDRSTRLEN];
        assert_int_equal(parse_cidr("198.18.0.0/24", &a, &p), 0);
        assert_string_equal(inet_ntop(AF_INET, &a, buf, sizeof buf), "198.18.0.0");
        assert_int_equal(p, 24);
        assert_int_equal(parse_cidr("198.18.0.0/0", &a, &p), 0);
        assert_int_equal(p, 0);
        assert_int_equal(parse_cidr("198.18.0.1/32", &a, &p), 0);
        assert_int_equal(p, 32);
        /* Host bits are the caller's business (config says "did you mean"). */
        assert_int_equal(parse_cidr("198.18.0.1/24", &a, &p), 0);
        assert_string_equal(inet_ntop(AF_INET, &a, buf, sizeof buf), "198.18.0.1");
}

static void test_parse_cidr_invalid(void **state)
{
        (void) state;
        struct in_addr a;
        uint8_t p;
        static const char *const bad[] = { "",
                                           "198.18.0.0",
                                           "198.18.0.0/",
                                           "198.18.0.0/33",
                                           "198.18.0.0/-1",
                                           "198.18.0.0/2x",
                                           "/24",
                                           "198.18.0/24",
                                           "198.18.0.0/24/8",
                                           "1.2.3.4.5/8",
                                           "198.18.0.0/99999999999999999999",
                                           "111111111111111111111111111111111/8" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_cidr(bad[i], &a, &p), -EINVAL);
}

static void test_parse_publish_valid(void **state)
{
        (void) state;
        struct publish p;
        assert_int_equal(parse_publish("8080:80", &p), 0);
        assert_int_equal(p.host_addr.s_addr, htonl(INADDR_ANY));
        assert_int_equal(p.host_port, 8080);
        assert_int_equal(p.container_port, 80);
        assert_int_equal(p.proto, PROTO_TCP);
        assert_int_equal(parse_publish("53:53/udp", &p), 0);
        assert_int_equal(p.proto, PROTO_UDP);
        assert_int_equal(parse_publish("443:443/tcp", &p), 0);
        assert_int_equal(p.proto, PROTO_TCP);
        assert_int_equal(parse_publish("127.0.0.1:5353:53/udp", &p), 0);
        assert_int_equal(ntohl(p.host_addr.s_addr), 0x7f000001);
        assert_int_equal(p.host_port, 5353);
        assert_int_equal(p.container_port, 53);
        assert_int_equal(parse_publish("1:1", &p), 0);
        assert_int_equal(parse_publish("65535:65535", &p), 0);
        assert_int_equal(p.host_port, 65535);
}

static void test_parse_publish_invalid(void **state)
{
        (void) state;
        struct publish p = { .host_port = 7 };
        static const char *const bad[] = {
                "", "80", ":80", "80:", "0:80", "80:0", "65536:80", "80:65536", "80:80/sctp", "80:80/", "80:80/TCP",
                "a:80:80", "1.2.3.4:5:6:7", "1.2.3.4:80", "80-81:80", "http:80",
                "1111111111111111111111111111111111111111111111111111111111111111:1",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_publish(bad[i], &p), -EINVAL);
        assert_int_equal(p.host_port, 7);
}

static void test_parse_cpuset_valid_and_invalid(void **state)
{
        (void) state;
        static const char *const ok[] = { "0", "3", "0-3", "3-3", "0-1,3", "0,2,4-7", "4095", "0-4095" };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                assert_int_equal(parse_cpuset(ok[i]), 0);
        static const char *const bad[] = { "", "4096", "0-4096", "3-1", "0,", ",0", "1-", "-1", "0--1", "0,,1",
                                           "a", "0 1", "0-1-2", "99999999999999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_cpuset(bad[i]), -EINVAL);
}

static void test_parse_capability_valid(void **state)
{
        (void) state;
        int c;
        char buf[64];
        assert_int_equal(parse_capability("net_admin", &c), 0);
        assert_int_equal(c, CAP_NET_ADMIN);
        assert_int_equal(parse_capability("CAP_NET_ADMIN", &c), 0);
        assert_int_equal(c, CAP_NET_ADMIN);
        assert_int_equal(parse_capability("Cap_Chown", &c), 0);
        assert_int_equal(c, CAP_CHOWN);
        assert_int_equal(parse_capability("sys_ptrace", &c), 0);
        assert_int_equal(c, CAP_SYS_PTRACE);
        assert_int_equal(parse_capability("SETPCAP", &c), 0);
        assert_int_equal(c, CAP_SETPCAP);
        assert_string_equal(capability_to_string(CAP_NET_ADMIN, buf, sizeof buf), "net_admin");
        assert_true(capability_last() >= CAP_AUDIT_READ);
        assert_true(capability_last() < 64);
}

static void test_parse_capability_invalid(void **state)
{
        (void) state;
        int c;
        static const char *const bad[] = { "", "cap_", "all", "net_fly", "cap_cap_chown", "40", "9",
                                           "net admin",
                                           "a_very_long_capability_name_that_does_not_exist_anywhere_at_all" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_capability(bad[i], &c), -EINVAL);
}

static void test_parse_capability_trailing_junk(void **state)
{
        (void) state;
        /* libcap's cap_from_name() stops at the first non-name byte. */
        int c;
        static const char *const bad[] = { "cap_net_admin ", "net_admin\t", "net_admin junk", "net_admin,chown",
                                           "chown+ep", "chown=", "chown\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_capability(bad[i], &c), -EINVAL);
}

static void test_format_size_units(void **state)
{
        (void) state;
        char buf[32];
        assert_string_equal(format_size(0, buf, sizeof buf), "0");
        assert_string_equal(format_size(1000, buf, sizeof buf), "1000");
        assert_string_equal(format_size(4096, buf, sizeof buf), "4k");
        assert_string_equal(format_size(256ULL << 20, buf, sizeof buf), "256M");
        assert_string_equal(format_size(1536ULL << 20, buf, sizeof buf), "1536M");
        assert_string_equal(format_size(2ULL << 40, buf, sizeof buf), "2T");
        assert_string_equal(format_size(2048ULL << 40, buf, sizeof buf), "2048T");
        assert_string_equal(format_size(UINT64_MAX, buf, sizeof buf), "18446744073709551615");
}

static void test_format_duration_units(void **state)
{
        (void) state;
        char buf[32];
        assert_string_equal(format_duration(0, buf, sizeof buf), "0");
        assert_string_equal(format_duration(500 * SPEC_USEC_PER_MSEC, buf, sizeof buf), "500ms");
        assert_string_equal(format_duration(1500 * SPEC_USEC_PER_MSEC, buf, sizeof buf), "1500ms");
        assert_string_equal(format_duration(5 * SPEC_USEC_PER_SEC, buf, sizeof buf), "5s");
        assert_string_equal(format_duration(90 * SPEC_USEC_PER_SEC, buf, sizeof buf), "1m30s");
        assert_string_equal(format_duration(120 * SPEC_USEC_PER_SEC, buf, sizeof buf), "2m");
        assert_string_equal(format_duration(7200 * SPEC_USEC_PER_SEC, buf, sizeof buf), "2h");
}

static void test_format_duration_microseconds(void **state)
{
        (void) state;
        char buf[32];
        usec_t u;
        assert_string_equal(format_duration(1, buf, sizeof buf), "1us");
        assert_string_equal(format_duration(1500, buf, sizeof buf), "1500us");
        assert_int_equal(parse_duration(format_duration(1500, buf, sizeof buf), &u), 0);
        assert_int_equal(u, 1500);
}

/* Every value that formats must parse back to itself. */
static void test_format_parse_round_trip(void **state)
{
        (void) state;
        static const uint64_t sizes[] = { 0, 1, 4096, 1ULL << 20, 3ULL << 30, 5ULL << 40, 12345 };
        char buf[64];
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint64_t v;
                assert_int_equal(parse_size(format_size(sizes[i], buf, sizeof buf), &v), 0);
                assert_int_equal(v, sizes[i]);
        }
        static const usec_t durs[] = { 0, 10 * SPEC_USEC_PER_MSEC, 1500 * SPEC_USEC_PER_MSEC, 60 * SPEC_USEC_PER_SEC,
                                       3600 * SPEC_USEC_PER_SEC, 86400 * SPEC_USEC_PER_SEC };
        for (size_t i = 0; i < ELEMENTSOF(durs); i++) {
                usec_t u;
                const char *s = format_duration(durs[i], buf, sizeof buf);
                if (strchr(s, 'm') && strchr(s, 's') && !strstr(s, "ms"))
                        continue; /* "1m30s" is for reading only */
                assert_int_equal(parse_duration(s, &u), 0);
                assert_int_equal(u, durs[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size_valid),
                cmocka_unit_test(test_parse_size_invalid),
                cmocka_unit_test(test_parse_size_overflow),
                cmocka_unit_test(test_parse_duration_valid),
                cmocka_unit_test(test_parse_duration_invalid),
                cmocka_unit_test(test_parse_duration_too_long),
                cmocka_unit_test(test_parse_cpus_valid),
                cmocka_unit_test(test_parse_cpus_invalid),
                cmocka_unit_test(test_parse_cpus_out_of_range),
                cmocka_unit_test(test_parse_cpus_fraction_above_max),
                cmocka_unit_test(test_parse_cpus_overflow),
                cmocka_unit_test(test_parse_uint32_boundaries),
                cmocka_unit_test(test_parse_int32_boundaries),
                cmocka_unit_test(test_parse_bool_words),
                cmocka_unit_test(test_parse_signal_valid),
                cmocka_unit_test(test_parse_signal_invalid),
                cmocka_unit_test(test_parse_ipv4_valid_and_invalid),
                cmocka_unit_test(test_parse_cidr_valid),
                cmocka_unit_test(test_parse_cidr_invalid),
                cmocka_unit_test(test_parse_publish_valid),
                cmocka_unit_test(test_parse_publish_invalid),
                cmocka_unit_test(test_parse_cpuset_valid_and_invalid),
                cmocka_unit_test(test_parse_capability_valid),
                cmocka_unit_test(test_parse_capability_invalid),
                cmocka_unit_test(test_parse_capability_trailing_junk),
                cmocka_unit_test(test_format_size_units),
                cmocka_unit_test(test_format_duration_units),
                cmocka_unit_test(test_format_duration_microseconds),
                cmocka_unit_test(test_format_parse_round_trip),
                cmocka_unit_test(test_parse_time_point),
        };
        return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
