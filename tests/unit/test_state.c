/* Unit tests for state.c's record parser: a record is whole or it is
 * nothing (an empty or truncated file never reads as zeros). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "state.h"

#define GOOD                                                                                       \
        "monitor_pid=4242\nmonitor_start=123456\ninit_pid=4243\ninit_start=123460\n"              \
        "boot_id=0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11\nstarted_realtime_usec=1700000000000000\n"  \
        "restarts=2\nrestart_hash=0123456789abcdef\nlive_hash=fedcba9876543210\n"                 \
        "supervise_hash=00112233445566ff\naddress=10.88.0.5\n"

static int parse(const char *text)
{
        struct state_record r;
        return state_parse(text, strlen(text), &r);
}

static void test_state_parse_whole_record(void **state)
{
        (void) state;
        struct state_record r;
        assert_int_equal(state_parse(GOOD, strlen(GOOD), &r), 0);
        assert_int_equal(r.monitor_pid, 4242);
        assert_int_equal(r.init_pid, 4243);
        assert_int_equal(r.init_start, 123460);
        assert_int_equal(r.restarts, 2);
        assert_string_equal(r.boot_id, "0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11");
        assert_string_equal(r.restart_hash, "0123456789abcdef");
        assert_string_equal(r.address, "10.88.0.5");
}

static void test_state_parse_empty_address_ok(void **state)
{
        (void) state;
        char text[1024];
        snprintf(text, sizeof text, "%.*saddress=\n", (int) (strlen(GOOD) - strlen("address=10.88.0.5\n")), GOOD);
        assert_int_equal(parse(text), 0);
}

static void test_state_parse_empty_refused(void **state)
{
        (void) state;
        assert_int_equal(parse(""), -EBADMSG);
        assert_int_equal(parse("\n"), -EBADMSG);
}

static void test_state_parse_every_truncation_refused(void **state)
{
        (void) state;
        char text[1024];
        for (size_t n = 0; n < strlen(GOOD); n++) {
                memcpy(text, GOOD, n);
                struct state_record r;
                if (state_parse(text, n, &r) == 0)
                        fail_msg("a record cut after %zu bytes parsed", n);
        }
}

static void test_state_parse_bad_values_refused(void **state)
{
        (void) state;
        const char *bad[][2] = {
                { "monitor_pid=4242", "monitor_pid=0" },
                { "monitor_pid=4242", "monitor_pid=42x" },
                { "init_pid=4243", "init_pid=" },
                { "restart_hash=0123456789abcdef", "restart_hash=0123" },
                { "address=10.88.0.5", "address=10.88.0" },
                { "boot_id=0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11", "boot_id=0f4b8a52" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char text[1024];
                const char *at = strstr(GOOD, bad[i][0]);
                assert_non_null(at);
                snprintf(text, sizeof text, "%.*s%s%s", (int) (at - GOOD), GOOD, bad[i][1], at + strlen(bad[i][0]));
                if (parse(text) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i][1]);
        }
}

static void test_state_parse_duplicate_key_refused(void **state)
{
        (void) state;
        char text[1024];
        snprintf(text, sizeof text, "%smonitor_pid=99\n", GOOD);
        assert_int_equal(parse(text), -EBADMSG);
}

static void test_state_parse_unknown_key_ignored(void **state)
{
        (void) state;
        char text[1024];
        snprintf(text, sizeof text, "%sfuture_key=1\n", GOOD);
        assert_int_equal(parse(text), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The last-good copy is skipped only when it holds the very same files. */
static void test_perf22_state_definitions_same(void **state)
{
        (void) state;
        char root[] = "/tmp/perf22-state-XXXXXX", conf[4200], st[4200], cmd[8500];
        assert_non_null(mkdtemp(root));
        snprintf(conf, sizeof conf, "%s/conf", root);
        snprintf(st, sizeof st, "%s/state", root);
        assert_int_equal(mkdir(conf, 0700), 0);
        assert_int_equal(mkdir(st, 0700), 0);
        put(conf, "a.conf", "container a {}\n");
        put(conf, "b.conf", "container b {}\n");
        put(conf, "notes.txt", "not a definition\n");
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 0); /* no copy yet */
        char *stage = NULL;
        assert_int_equal(state_definitions_stage(st, conf, 100, 1 << 20, &stage), 0);
        free(stage);
        assert_int_equal(state_definitions_commit(st), 0);
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 1);
        assert_int_equal(state_definitions_same(st, conf, 1, 1 << 20), 0); /* more than max */
        put(conf, "b.conf", "container b { }\n"); /* same length, other bytes */
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 0);
        put(conf, "b.conf", "container b {}\n");
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 1);
        put(conf, "c.conf", "container c {}\n"); /* one more */
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 0);
        snprintf(cmd, sizeof cmd, "%s/c.conf", conf);
        assert_int_equal(unlink(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s/a.conf", conf);
        assert_int_equal(unlink(cmd), 0); /* one fewer */
        assert_int_equal(state_definitions_same(st, conf, 100, 1 << 20), 0);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

/* ---- intent records ---------------------------------------------------------------------- */

static void write_read_intent(const struct state_intent *in, struct state_intent *out, char *text, size_t size)
{
        char dir[] = "/tmp/test_state_intent.XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_int_equal(state_write_intent(dir, in), 0);
        assert_int_equal(state_read_intent(dir, out), 0);
        char path[128];
        snprintf(path, sizeof path, "%s/intent", dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        size_t n = fread(text, 1, size - 1, f);
        text[n] = 0;
        fclose(f);
        unlink(path);
        rmdir(dir);
}

static void test_state_intent_round_trip(void **state)
{
        (void) state;
        struct state_intent in = { .boot_id = "0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11",
                                   .phase = STATE_PHASE_BACKOFF,
                                   .operator_stopped = true,
                                   .last_status = 143,
                                   .backoff_until_usec = 1700000000123456ULL,
                                   .restarts = 7,
                                   .consecutive = 3,
                                   .restart_times = { 11, 22, 33 },
                                   .n_restart_times = 3,
                                   .last_error = "line one\nline two" },
                            out;
        char text[4096];
        write_read_intent(&in, &out, text, sizeof text);
        assert_int_equal(out.phase, STATE_PHASE_BACKOFF);
        assert_true(out.operator_stopped);
        assert_false(out.restart_after_stop);
        assert_int_equal(out.last_status, 143);
        assert_int_equal(out.backoff_until_usec, 1700000000123456ULL);
        assert_int_equal(out.restarts, 7);
        assert_int_equal(out.consecutive, 3);
        assert_int_equal(out.n_restart_times, 3);
        assert_int_equal(out.restart_times[2], 33);
        assert_string_equal(out.boot_id, in.boot_id);
        assert_string_equal(out.last_error, "line one line two"); /* one line */
}

static void test_state_intent_no_status_round_trip(void **state)
{
        (void) state;
        struct state_intent in = { .boot_id = "0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11", .last_status = -1 }, out;
        char text[4096];
        write_read_intent(&in, &out, text, sizeof text);
        assert_int_equal(out.last_status, -1);
        assert_int_equal(out.phase, STATE_PHASE_STOPPED);
        assert_int_equal(out.n_restart_times, 0);
}

static void test_state_intent_every_truncation_refused(void **state)
{
        (void) state;
        struct state_intent in = { .boot_id = "0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11",
                                   .phase = STATE_PHASE_STOPPING,
                                   .restart_times = { 5 },
                                   .n_restart_times = 1 },
                            out;
        char text[4096];
        write_read_intent(&in, &out, text, sizeof text);
        size_t len = strlen(text);
        assert_int_equal(state_parse_intent(text, len, &out), 0);
        for (size_t cut = 0; cut < len; cut++)
                assert_int_equal(state_parse_intent(text, cut, &out), -EBADMSG);
}

static void test_state_intent_bad_values_refused(void **state)
{
        (void) state;
        static const char *const bad[] = { "phase=sleeping\n", "operator_stopped=2\n", "last_status=-7\n",
                                           "restart_times=1,,2\n", "restart_times=1,\n", "restarts=x\n" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char text[512];
                snprintf(text, sizeof text,
                         "berth-intent 1\nboot_id=0f4b8a52-3c1e-4d7e-9a39-0e3b7cbb1a11\nphase=stopped\n%send=1\n",
                         bad[i]);
                struct state_intent out;
                assert_int_equal(state_parse_intent(text, strlen(text), &out), -EBADMSG);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_parse_whole_record),
                cmocka_unit_test(test_state_parse_empty_address_ok),
                cmocka_unit_test(test_state_parse_empty_refused),
                cmocka_unit_test(test_state_parse_every_truncation_refused),
                cmocka_unit_test(test_state_parse_bad_values_refused),
                cmocka_unit_test(test_state_parse_duplicate_key_refused),
                cmocka_unit_test(test_state_parse_unknown_key_ignored),
                cmocka_unit_test(test_perf22_state_definitions_same),
                cmocka_unit_test(test_state_intent_round_trip),
                cmocka_unit_test(test_state_intent_no_status_round_trip),
                cmocka_unit_test(test_state_intent_every_truncation_refused),
                cmocka_unit_test(test_state_intent_bad_values_refused),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
