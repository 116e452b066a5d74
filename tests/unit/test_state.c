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

static char *slurp(const char *dir, const char *name)
{
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "re");
        if (!f)
                return NULL;
        static char buf[4096];
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        buf[k] = 0;
        fclose(f);
        return buf;
}

static const char *link_of(const char *st)
{
        static char t[256];
        char p[4400];
        snprintf(p, sizeof p, "%s/last-good", st);
        ssize_t k = readlink(p, t, sizeof t - 1);
        if (k < 0)
                return "";
        t[k] = 0;
        return t;
}

#define DEF(n, t) { n, t, sizeof(t) - 1 }

static bool same_inode(const char *st, const char *a, const char *b)
{
        char pa[4400], pb[4400];
        struct stat x, y;
        snprintf(pa, sizeof pa, "%s/%s", st, a);
        snprintf(pb, sizeof pb, "%s/%s", st, b);
        return stat(pa, &x) == 0 && stat(pb, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The last-good copy: two generations behind a link, only changed files
 * written, a save that would change nothing skipped, an older berthd's
 * plain directory taken over. */
static void test_perf22_last_good(void **state)
{
        (void) state;
        char root[] = "/tmp/perf22-state-XXXXXX", st[4096], p[4300], cmd[8500];
        assert_non_null(mkdtemp(root));
        snprintf(st, sizeof st, "%s/state", root);
        assert_int_equal(mkdir(st, 0700), 0);
        struct state_last_good *c = NULL;
        struct state_def v1[] = { DEF("b.conf", "container b {}\n"), DEF("a.conf", "container a {}\n") };
        assert_int_equal(state_last_good_save(st, v1, 2, 1 << 20, &c), 1);
        assert_string_equal(link_of(st), "last-good.a");
        snprintf(p, sizeof p, "%s/last-good", st);
        assert_string_equal(slurp(p, "a.conf"), "container a {}\n");
        assert_string_equal(slurp(p, "b.conf"), "container b {}\n");
        assert_int_equal(state_last_good_save(st, v1, 2, 1 << 20, &c), 0); /* the same: nothing */
        assert_string_equal(link_of(st), "last-good.a");

        struct state_def v2[] = { DEF("a.conf", "container a {}\n"), DEF("b.conf", "container b { }\n") };
        assert_int_equal(state_last_good_save(st, v2, 2, 1 << 20, &c), 1);
        assert_string_equal(link_of(st), "last-good.b");
        assert_string_equal(slurp(p, "b.conf"), "container b { }\n");
        snprintf(p, sizeof p, "%s/last-good.a", st);
        assert_string_equal(slurp(p, "b.conf"), "container b {}\n"); /* the previous set, whole */
        /* The generation filled for the first time links the unchanged file from the one in use. */
        assert_true(same_inode(st, "last-good.a/a.conf", "last-good.b/a.conf"));
        assert_false(same_inode(st, "last-good.a/b.conf", "last-good.b/b.conf"));

        /* One gone, one new; a leftover temporary in the stale generation. */
        snprintf(cmd, sizeof cmd, "%s/last-good.a/.#a.conf.999", st);
        put(st, "last-good.a/.#a.conf.999", "half\n");
        struct state_def v3[] = { DEF("b.conf", "container b { }\n"), DEF("c.conf", "container c {}\n") };
        assert_int_equal(state_last_good_save(st, v3, 2, 1 << 20, &c), 1);
        assert_string_equal(link_of(st), "last-good.a");
        snprintf(p, sizeof p, "%s/last-good", st);
        assert_null(slurp(p, "a.conf"));
        assert_null(slurp(p, ".#a.conf.999"));
        assert_string_equal(slurp(p, "b.conf"), "container b { }\n");
        assert_string_equal(slurp(p, "c.conf"), "container c {}\n");
        /* b.conf linked from the generation that was in use, which stays whole. */
        assert_true(same_inode(st, "last-good.a/b.conf", "last-good.b/b.conf"));
        snprintf(p, sizeof p, "%s/last-good.b", st);
        assert_string_equal(slurp(p, "a.conf"), "container a {}\n");
        assert_string_equal(slurp(p, "b.conf"), "container b { }\n");
        snprintf(p, sizeof p, "%s/last-good", st);
        state_last_good_free(c);

        /* A new berthd: reads what the link names; the same set is skipped,
         * a changed one goes to the other generation, read first. */
        c = NULL;
        assert_int_equal(state_last_good_save(st, v3, 2, 1 << 20, &c), 0);
        struct state_def v4[] = { DEF("c.conf", "container c {}\n") };
        assert_int_equal(state_last_good_save(st, v4, 1, 1 << 20, &c), 1);
        assert_string_equal(link_of(st), "last-good.b");
        assert_null(slurp(p, "a.conf"));
        assert_null(slurp(p, "b.conf"));
        assert_string_equal(slurp(p, "c.conf"), "container c {}\n");
        struct state_def dup[] = { DEF("c.conf", "x\n"), DEF("c.conf", "y\n") };
        assert_int_equal(state_last_good_save(st, dup, 2, 1 << 20, &c), -EINVAL);
        state_last_good_free(c);

        /* An older berthd's plain directory. */
        snprintf(cmd, sizeof cmd, "rm -rf '%s'/last-good* && mkdir '%s/last-good'", st, st);
        assert_int_equal(system(cmd), 0);
        put(p, "old.conf", "container old {}\n");
        c = NULL;
        assert_int_equal(state_last_good_save(st, v1, 2, 1 << 20, &c), 1);
        assert_string_equal(link_of(st), "last-good.a");
        assert_null(slurp(p, "old.conf"));
        assert_string_equal(slurp(p, "a.conf"), "container a {}\n");
        snprintf(cmd, sizeof cmd, "%s/last-good.tmp", st);
        assert_int_equal(access(cmd, F_OK), -1);
        state_last_good_free(c);
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
                cmocka_unit_test(test_perf22_last_good),
                cmocka_unit_test(test_state_intent_round_trip),
                cmocka_unit_test(test_state_intent_no_status_round_trip),
                cmocka_unit_test(test_state_intent_every_truncation_refused),
                cmocka_unit_test(test_state_intent_bad_values_refused),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
