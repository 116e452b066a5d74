/* Unit tests for console.c, the frames between a container's monitor and
 * its viewers (encode, decode, every malformed message refused), the
 * escape sequence of berthctl console and --escape's parser; and for
 * monitor_view.c, the monitor's side, over real sockets in a temporary
 * directory: HELLO, input to the container's stdin pipe (held back, not
 * lost, when the pipe is full), output to a viewer whose socket is full
 * dropped and counted (never blocking), then said in a DROPPED frame. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "console.h"
#include "monitor_view.h"

static void test_console_round_trip(void **state)
{
        (void) state;
        uint8_t buf[CONSOLE_FRAME_MAX];
        struct console_frame f;
        size_t n = console_encode(buf, CONSOLE_OUT, "hello", 5);
        assert_int_equal(n, CONSOLE_HDR + 5);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.type, CONSOLE_OUT);
        assert_int_equal(f.len, 5);
        assert_memory_equal(f.data, "hello", 5);

        n = console_encode_hello(buf, CONSOLE_F_TTY);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.type, CONSOLE_HELLO);
        assert_int_equal(f.version, CONSOLE_VERSION);
        assert_int_equal(f.flags, CONSOLE_F_TTY);

        n = console_encode_winsz(buf, 33, 101);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.rows, 33);
        assert_int_equal(f.cols, 101);

        n = console_encode_dropped(buf, UINT64_C(0x123456789abcdef0));
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_true(f.dropped == UINT64_C(0x123456789abcdef0));

        n = console_encode_exit(buf, 137);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.status, 137);
        n = console_encode_exit(buf, -1);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.status, -1);

        /* the largest payload, and an empty one */
        static uint8_t big[CONSOLE_DATA_MAX];
        memset(big, 'x', sizeof big);
        n = console_encode(buf, CONSOLE_IN, big, sizeof big);
        assert_int_equal(n, CONSOLE_FRAME_MAX);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.len, CONSOLE_DATA_MAX);
        n = console_encode(buf, CONSOLE_IN, NULL, 0);
        assert_int_equal(console_decode(buf, n, &f), 0);
        assert_int_equal(f.len, 0);
}

static void test_console_refuses_garbage(void **state)
{
        (void) state;
        uint8_t buf[CONSOLE_FRAME_MAX + 8];
        struct console_frame f;
        static uint8_t big[CONSOLE_DATA_MAX + 1];
        assert_int_equal(console_encode(buf, CONSOLE_OUT, big, sizeof big), 0); /* too long to encode */
        assert_int_equal(console_encode(buf, 0, "x", 1), 0);
        assert_int_equal(console_encode(buf, _CONSOLE_TYPE_MAX, "x", 1), 0);

        size_t n = console_encode(buf, CONSOLE_OUT, "abc", 3);
        assert_int_equal(console_decode(buf, 0, &f), -EBADMSG);
        assert_int_equal(console_decode(buf, CONSOLE_HDR - 1, &f), -EBADMSG);
        assert_int_equal(console_decode(buf, n - 1, &f), -EBADMSG); /* cut */
        assert_int_equal(console_decode(buf, n + 1, &f), -EBADMSG); /* trailing byte */
        buf[1] = 1;
        assert_int_equal(console_decode(buf, n, &f), -EBADMSG); /* the reserved byte */
        buf[1] = 0;
        buf[0] = 0;
        assert_int_equal(console_decode(buf, n, &f), -EBADMSG);
        buf[0] = _CONSOLE_TYPE_MAX;
        assert_int_equal(console_decode(buf, n, &f), -EBADMSG);
        /* a length beyond the largest payload */
        buf[0] = CONSOLE_OUT;
        buf[2] = (uint8_t) ((CONSOLE_DATA_MAX + 1) & 0xff);
        buf[3] = (uint8_t) ((CONSOLE_DATA_MAX + 1) >> 8);
        assert_int_equal(console_decode(buf, CONSOLE_HDR + CONSOLE_DATA_MAX + 1, &f), -EBADMSG);
        /* fixed-size payloads of the wrong size */
        static const enum console_type fixed[] = { CONSOLE_HELLO, CONSOLE_WINSZ, CONSOLE_DROPPED, CONSOLE_EXIT };
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
                n = console_encode(buf, fixed[i], "123", 3);
                assert_int_equal(console_decode(buf, n, &f), -EBADMSG);
        }
}

static void test_console_escape(void **state)
{
        (void) state;
        struct console_escape e = { .esc = 0x1d };
        uint8_t b[CONSOLE_DATA_MAX];
        int detach;
        memcpy(b, "ls\r", 3);
        assert_int_equal(console_escape_filter(&e, b, 3, &detach), 3);
        assert_false(detach);
        /* ESC q: what came before goes, then detach */
        memcpy(b, "ab\x1dq", 4);
        assert_int_equal(console_escape_filter(&e, b, 4, &detach), 2);
        assert_true(detach);
        assert_memory_equal(b, "ab", 2);
        /* ESC ESC: one ESC */
        e.pending = 0;
        memcpy(b, "\x1d\x1dz", 3);
        assert_int_equal(console_escape_filter(&e, b, 3, &detach), 2);
        assert_false(detach);
        assert_memory_equal(b, "\x1dz", 2);
        /* ESC then another key: both; ESC at the end of one read, q at the start of the next */
        memcpy(b, "\x1dx\x1d", 3);
        assert_int_equal(console_escape_filter(&e, b, 3, &detach), 2);
        assert_memory_equal(b, "\x1dx", 2);
        assert_true(e.pending);
        b[0] = 'q';
        assert_int_equal(console_escape_filter(&e, b, 1, &detach), 0);
        assert_true(detach);
        /* a pending ESC before a full read: one byte more */
        e.pending = 1;
        memset(b, 'y', CONSOLE_DATA_MAX - 1);
        assert_int_equal(console_escape_filter(&e, b, CONSOLE_DATA_MAX - 1, &detach), CONSOLE_DATA_MAX);
        assert_int_equal(b[0], 0x1d);
        assert_int_equal(b[CONSOLE_DATA_MAX - 1], 'y');

        uint8_t c;
        assert_int_equal(console_parse_escape("^]", &c), 0);
        assert_int_equal(c, 0x1d);
        assert_int_equal(console_parse_escape("a", &c), 0);
        assert_int_equal(c, 1);
        assert_int_equal(console_parse_escape("^B", &c), 0);
        assert_int_equal(c, 2);
        assert_int_equal(console_parse_escape("", &c), -EINVAL);
        assert_int_equal(console_parse_escape("ab", &c), -EINVAL);
        assert_int_equal(console_parse_escape("^", &c), -EINVAL);
        assert_int_equal(console_parse_escape("1", &c), -EINVAL);
        assert_int_equal(console_parse_escape("^ab", &c), -EINVAL);
}

/* ---- the monitor's side ---------------------------------------------------------------------- */

struct fixture {
        char dir[64];
        int dirfd;
        int pipe[2]; /* the container's stdin */
        struct monitor_viewers vw;
};

static void poll_once(struct monitor_viewers *vw, int timeout)
{
        struct pollfd pf[2 + MONITOR_VIEWERS_MAX];
        size_t n = monitor_viewers_pollfds(vw, pf, 2 + MONITOR_VIEWERS_MAX);
        if (poll(pf, n, timeout) > 0)
                monitor_viewers_handle(vw, pf, n);
}

static int viewer_connect(struct fixture *fx)
{
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", fx->dir, CONSOLE_SOCKET);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        poll_once(&fx->vw, 1000); /* accepted, HELLO sent */
        return fd;
}

static struct console_frame recv_frame(int fd, uint8_t *buf)
{
        struct console_frame f;
        ssize_t k = recv(fd, buf, CONSOLE_FRAME_MAX, 0);
        assert_true(k > 0);
        assert_int_equal(console_decode(buf, (size_t) k, &f), 0);
        return f;
}

static void test_monitor_view(void **state)
{
        (void) state;
        struct fixture fx;
        snprintf(fx.dir, sizeof fx.dir, "/tmp/test_console.XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        fx.dirfd = open(fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fx.dirfd >= 0);
        assert_int_equal(pipe2(fx.pipe, O_CLOEXEC), 0);
        assert_int_equal(monitor_viewers_open(&fx.vw, fx.dirfd, -1, fx.pipe[1]), 0);

        uint8_t buf[CONSOLE_FRAME_MAX];
        int v = viewer_connect(&fx);
        assert_int_equal(fx.vw.n, 1);
        struct console_frame f = recv_frame(v, buf);
        assert_int_equal(f.type, CONSOLE_HELLO);
        assert_int_equal(f.flags, CONSOLE_F_STDIN);

        /* input reaches the stdin pipe */
        size_t n = console_encode(buf, CONSOLE_IN, "line\n", 5);
        assert_int_equal(send(v, buf, n, 0), (ssize_t) n);
        poll_once(&fx.vw, 1000);
        char got[8];
        assert_int_equal(read(fx.pipe[0], got, sizeof got), 5);
        assert_memory_equal(got, "line\n", 5);

        /* a full pipe: the input waits in the monitor, no viewer is read
         * meanwhile, and it arrives whole once the container reads */
        assert_true(fcntl(fx.pipe[1], F_SETPIPE_SZ, 4096) >= 4096);
        static uint8_t fill[65536];
        ssize_t filled = write(fx.pipe[1], fill, sizeof fill); /* non-blocking since open */
        assert_true(filled > 0);
        n = console_encode(buf, CONSOLE_IN, "after", 5);
        assert_int_equal(send(v, buf, n, 0), (ssize_t) n);
        poll_once(&fx.vw, 1000);
        assert_int_equal(fx.vw.pending_len, 5);
        struct pollfd pf[2 + MONITOR_VIEWERS_MAX];
        n = monitor_viewers_pollfds(&fx.vw, pf, 2 + MONITOR_VIEWERS_MAX);
        assert_int_equal(pf[1].fd, fx.pipe[1]);
        assert_int_equal(pf[2].events, 0);
        assert_int_equal(read(fx.pipe[0], fill, sizeof fill), filled);
        poll_once(&fx.vw, 1000);
        assert_int_equal(fx.vw.pending_len, 0);
        assert_int_equal(read(fx.pipe[0], got, sizeof got), 5);
        assert_memory_equal(got, "after", 5);

        /* output to a viewer that does not read: never blocks; what does
         * not fit is counted, and said before the next output it takes */
        int v2 = viewer_connect(&fx);
        assert_int_equal(fx.vw.n, 2);
        f = recv_frame(v2, buf);
        assert_int_equal(f.type, CONSOLE_HELLO);
        static char out[CONSOLE_DATA_MAX];
        memset(out, 'o', sizeof out);
        for (int i = 0; i < 400; i++)
                monitor_viewers_output(&fx.vw, CONSOLE_OUT, out, sizeof out);
        assert_int_equal(fx.vw.n, 2);
        uint64_t dropped = 0;
        for (size_t i = 0; i < fx.vw.n; i++)
                dropped += fx.vw.v[i].dropped;
        assert_true(dropped > 0);
        assert_true(dropped % sizeof out == 0);
        /* v reads everything that was sent, then gets DROPPED and the new output */
        size_t frames = 0;
        while (recv(v, buf, sizeof buf, MSG_DONTWAIT) > 0)
                frames++;
        assert_true(frames > 0);
        assert_int_equal((frames + fx.vw.v[0].dropped / sizeof out), 400);
        uint64_t d0 = fx.vw.v[0].dropped;
        monitor_viewers_output(&fx.vw, CONSOLE_ERR, "e", 1);
        f = recv_frame(v, buf);
        assert_int_equal(f.type, CONSOLE_DROPPED);
        assert_true(f.dropped == d0);
        f = recv_frame(v, buf);
        assert_int_equal(f.type, CONSOLE_ERR);
        assert_int_equal(f.len, 1);

        /* a viewer that hangs up is dropped; one that sends garbage too */
        close(v2);
        poll_once(&fx.vw, 1000);
        assert_int_equal(fx.vw.n, 1);
        assert_int_equal(send(v, "\x63\x00\x00\x00", 4, 0), 4);
        poll_once(&fx.vw, 1000);
        assert_int_equal(fx.vw.n, 0);
        assert_int_equal(recv(v, buf, sizeof buf, 0), 0);
        close(v);

        /* the end: EXIT to each viewer, the socket removed */
        v = viewer_connect(&fx);
        f = recv_frame(v, buf);
        assert_int_equal(f.type, CONSOLE_HELLO);
        monitor_viewers_close(&fx.vw, 3);
        f = recv_frame(v, buf);
        assert_int_equal(f.type, CONSOLE_EXIT);
        assert_int_equal(f.status, 3);
        assert_int_equal(faccessat(fx.dirfd, CONSOLE_SOCKET, F_OK, 0), -1);
        close(v);
        close(fx.pipe[0]);
        close(fx.pipe[1]);
        close(fx.dirfd);
        assert_int_equal(rmdir(fx.dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_console_round_trip),
                cmocka_unit_test(test_console_refuses_garbage),
                cmocka_unit_test(test_console_escape),
                cmocka_unit_test(test_monitor_view),
        };
        return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
