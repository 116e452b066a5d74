/* Unit tests for wire.c, the one message format between berthd's
 * spawner, berth-monitor and berthd: a round trip through a pipe, and
 * every malformed message refused whole. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire.h"

static void monitor_msg(struct wire_msg *m)
{
        wire_init(m, WIRE_MONITOR);
        m->pid = 4242;
        m->pidfd = 5;
        m->log_fd = 6;
        m->cgroup_fd = -1;
        m->log_max_size = 10 << 20;
        m->log_max_files = 3;
        snprintf(m->text, sizeof m->text, "/var/lib/berth/containers/web");
}

static void test_err_wire_round_trip_pipe(void **state)
{
        (void) state;
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct wire_msg m, got;
        monitor_msg(&m);
        assert_int_equal(wire_write(p[1], &m), 0);
        close(p[1]);
        assert_int_equal(wire_read(p[0], &got), 0);
        close(p[0]);
        assert_int_equal(got.type, WIRE_MONITOR);
        assert_int_equal(got.pid, 4242);
        assert_int_equal(got.pidfd, 5);
        assert_int_equal(got.log_fd, 6);
        assert_int_equal(got.cgroup_fd, -1);
        assert_int_equal(got.log_max_size, 10 << 20);
        assert_int_equal(got.log_max_files, 3);
        assert_string_equal(got.text, "/var/lib/berth/containers/web");
}

static void test_err_wire_round_trip_started_failed(void **state)
{
        (void) state;
        struct wire_msg m, got;
        wire_init(&m, WIRE_STARTED);
        m.pid = 77;
        m.start = 123456789;
        snprintf(m.address, sizeof m.address, "198.18.0.5");
        assert_int_equal(wire_parse(&m, sizeof m, &got), 0);
        assert_int_equal(got.pid, 77);
        assert_int_equal(got.start, 123456789);
        assert_string_equal(got.address, "198.18.0.5");

        wire_init(&m, WIRE_FAILED);
        m.exit_code = 125;
        snprintf(m.text, sizeof m.text, "container 'web': no template 'x'");
        assert_int_equal(wire_parse(&m, sizeof m, &got), 0);
        assert_int_equal(got.exit_code, 125);
        assert_string_equal(got.text, "container 'web': no template 'x'");
}

static void test_err_wire_rejects_truncated(void **state)
{
        (void) state;
        struct wire_msg m, got;
        monitor_msg(&m);
        assert_int_equal(wire_parse(&m, sizeof m - 1, &got), -EBADMSG);
        assert_int_equal(wire_parse(&m, 0, &got), -EBADMSG);
        /* Through a pipe: EOF before the whole message. */
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(write(p[1], &m, 100), 100);
        close(p[1]);
        assert_int_equal(wire_read(p[0], &got), -EBADMSG);
        close(p[0]);
        /* An old text status line is no message. */
        const char line[] = "S 4242 123 -\n";
        assert_int_equal(wire_parse(line, sizeof line, &got), -EBADMSG);
}

static void test_err_wire_rejects_garbage(void **state)
{
        (void) state;
        struct wire_msg m, got;
        unsigned char junk[sizeof m];
        for (size_t i = 0; i < sizeof junk; i++)
                junk[i] = (unsigned char) (i * 131 + 7);
        assert_int_equal(wire_parse(junk, sizeof junk, &got), -EBADMSG);

        monitor_msg(&m);
        m.magic ^= 1;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        monitor_msg(&m);
        m.version = WIRE_VERSION + 1;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        monitor_msg(&m);
        m.type = 99;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        monitor_msg(&m);
        memset(m.text, 'a', sizeof m.text); /* unterminated */
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        monitor_msg(&m);
        m.text[0] = 'x'; /* not an absolute directory */
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        monitor_msg(&m);
        m.log_fd = -1;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);

        wire_init(&m, WIRE_STARTED);
        m.pid = 1; /* never a container's init as seen from berthd */
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        wire_init(&m, WIRE_STARTED);
        m.pid = 50;
        memset(m.address, '1', sizeof m.address);
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);

        wire_init(&m, WIRE_FAILED);
        m.exit_code = 0;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
        m.exit_code = 256;
        assert_int_equal(wire_parse(&m, sizeof m, &got), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_err_wire_round_trip_pipe),
                cmocka_unit_test(test_err_wire_round_trip_started_failed),
                cmocka_unit_test(test_err_wire_rejects_truncated),
                cmocka_unit_test(test_err_wire_rejects_garbage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
