/* berthctl's verbs that join a running container's own terminal or output
 * through its monitor (lib/monitor_view.h, protocol lib/console.h):
 * console (the pty of a container with console = true) and attach (the
 * output of any other, and its stdin with stdin = true). Leaving either
 * leaves the container running. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "berthctl.h"
#include "console.h"

/* ---- finding the container ------------------------------------------------------------------- */

struct inspected {
        char state[32];
        char dir[4096];
};

static int got_inspect(json_object *p, void *userdata)
{
        struct inspected *in = userdata;
        snprintf(in->state, sizeof in->state, "%s", jstr(p, "state"));
        snprintf(in->dir, sizeof in->dir, "%s", jstr(p, "dir"));
        return 0;
}

/* The directory of running container name: from berthd when it answers
 * (which knows whether the name exists at all), else from the state
 * directory's record. 0, or -errno after saying why. */
static int locate(const char *verb, const char *name, const char *state_opt, char dir[static 4096])
{
        if (!name_is_valid(name)) {
                fail("berthctl %s: '%s' is not a container name", verb, name);
                return -EINVAL;
        }
        struct inspected in = { 0 };
        json_object *params = json_object_new_object();
        json_object_object_add(params, "name", json_object_new_string(name));
        uint64_t timeout = CONTROL_TIMEOUT_USEC;
        (void) call_timeout(&timeout);
        char *error = NULL;
        int r = control_call(ctl_socket(), "io.berth.Container.Inspect", params, false, timeout, got_inspect, &in,
                             &error, NULL);
        json_object_put(params);
        bool no_such = r == -EREMOTEIO && error && streq(error, "io.berth.NoSuchContainer");
        free(error);
        if (no_such) {
                fail("berthctl %s: no container '%s'", verb, name);
                return -ENOENT;
        }
        if (r >= 0 && in.dir[0]) {
                if (!streq(in.state, "running") && !streq(in.state, "frozen")) {
                        fail("berthctl %s: container '%s' is not running (%s)", verb, name, in.state);
                        return -ESRCH;
                }
                snprintf(dir, 4096, "%s", in.dir);
                return 0;
        }
        /* No berthd: the state directory says. */
        const char *state = state_opt;
        resolve_dirs(NULL, &state);
        snprintf(dir, 4096, "%s/containers/%s", state, name);
        struct stat st;
        if (stat(dir, &st) < 0) {
                fail("berthctl %s: no container '%s' (berthd does not answer at %s, and %s does not exist)", verb,
                     name, ctl_socket(), dir);
                return -ENOENT;
        }
        struct state_record rec;
        _cleanup_close_ int pfd = -1;
        if (state_read(dir, &rec) < 0 || state_pidfd_verified(rec.init_pid, rec.init_start, &pfd) < 0) {
                fail("berthctl %s: container '%s' is not running", verb, name);
                return -ESRCH;
        }
        return 0;
}

/* Connects to the monitor's socket and reads its HELLO. Returns the
 * socket (non-blocking), or -errno after saying why. */
static int connect_monitor(const char *verb, const char *name, const char *dir, uint8_t *ret_flags)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int e = errno;
                fail("berthctl %s: %s: %s", verb, dir, strerror(e));
                return -e;
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                int e = errno;
                fail("berthctl %s: socket: %s", verb, strerror(e));
                return -e;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, CONSOLE_SOCKET);
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                if (e == ENOENT || e == ECONNREFUSED)
                        fail("berthctl %s: the monitor of '%s' serves no viewers (%s/%s: %s); a container started "
                             "by an older berth needs a restart",
                             verb, name, dir, CONSOLE_SOCKET, strerror(e));
                else
                        fail("berthctl %s: cannot reach the monitor of '%s' at %s/%s: %s", verb, name, dir,
                             CONSOLE_SOCKET, strerror(e));
                return -e;
        }
        /* The HELLO comes at once; a monitor that closes instead has its
         * MONITOR_VIEWERS_MAX viewers already. */
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        uint8_t buf[CONSOLE_FRAME_MAX];
        ssize_t k = poll(&pf, 1, 5000) > 0 ? recv(fd, buf, sizeof buf, MSG_DONTWAIT) : -1;
        struct console_frame f;
        if (k <= 0 || console_decode(buf, (size_t) k, &f) < 0 || f.type != CONSOLE_HELLO) {
                fail("berthctl %s: the monitor of '%s' did not accept this viewer (at most 16 at once)", verb, name);
                return -EPROTO;
        }
        if (f.version != CONSOLE_VERSION) {
                fail("berthctl %s: the monitor of '%s' speaks version %u of the console protocol, not %u; restart "
                     "the container",
                     verb, name, f.version, CONSOLE_VERSION);
                return -EPROTO;
        }
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        *ret_flags = f.flags;
        return TAKE_FD(fd);
}

/* ---- the session ------------------------------------------------------------------------------ */

struct viewer {
        const char *name;
        int sock;
        bool console;       /* raw terminal, escape sequence, window size */
        bool send_stdin;    /* local stdin goes to the container */
        struct console_escape esc;
        uint8_t out[CONSOLE_FRAME_MAX]; /* one frame not yet taken by the monitor */
        size_t out_len;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pf = { .fd = fd, .events = POLLOUT };
                        (void) poll(&pf, 1, -1);
                        continue;
                }
                if (k <= 0)
                        return -1;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* A note of berthctl's own, between the container's output: on a raw
 * terminal lines need their CR. */
static void note(const struct viewer *v, const char *fmt, ...) _printf_(2, 3);
static void note(const struct viewer *v, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s[berthctl: %s]%s", v->console ? "\r\n" : "", buf, v->console ? "\r\n" : "\n");
}

static void send_frame(struct viewer *v, size_t n)
{
        ssize_t k = send(v->sock, v->out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        v->out_len = k == (ssize_t) n ? 0 : n; /* else sent when the socket takes it */
}

static void send_winsz(struct viewer *v)
{
        struct winsize ws;
        if (v->out_len == 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                send_frame(v, console_encode_winsz(v->out, ws.ws_row, ws.ws_col));
}

enum { GO_ON = -1, DETACHED = -2 };

/* One message from the monitor: GO_ON, or the exit status of berthctl. */
static int from_monitor(struct viewer *v)
{
        uint8_t buf[CONSOLE_FRAME_MAX];
        ssize_t k = recv(v->sock, buf, sizeof buf, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return GO_ON;
        struct console_frame f;
        if (k <= 0 || console_decode(buf, (size_t) k, &f) < 0) {
                note(v, "the monitor of '%s' closed the connection", v->name);
                return 1;
        }
        switch (f.type) {
        case CONSOLE_OUT:
        case CONSOLE_ERR:
                if (write_all(f.type == CONSOLE_ERR ? STDERR_FILENO : STDOUT_FILENO, f.data, f.len) < 0)
                        return 1; /* our output is gone (a closed pipe) */
                return GO_ON;
        case CONSOLE_DROPPED:
                note(v, "%llu bytes of output dropped: this terminal did not keep up", (unsigned long long) f.dropped);
                return GO_ON;
        case CONSOLE_EXIT:
                note(v, "container '%s' exited with status %d", v->name, (int) f.status);
                return f.status >= 0 && f.status < 256 ? (int) f.status : 1;
        default:
                return GO_ON;
        }
}

/* What the local stdin has: GO_ON, or DETACHED (EOF, or the escape sequence). */
static int from_stdin(struct viewer *v)
{
        uint8_t buf[CONSOLE_DATA_MAX];
        ssize_t k = read(STDIN_FILENO, buf, sizeof buf - 1);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return GO_ON;
        if (k <= 0)
                return DETACHED;
        size_t n = (size_t) k;
        int detach = 0;
        if (v->console)
                n = console_escape_filter(&v->esc, buf, n, &detach);
        if (n > 0) {
                send_frame(v, console_encode(v->out, CONSOLE_IN, buf, n));
                if (detach && v->out_len) { /* what came before the escape, then leave */
                        struct pollfd pf = { .fd = v->sock, .events = POLLOUT };
                        if (poll(&pf, 1, 1000) > 0)
                                send_frame(v, v->out_len);
                }
        }
        return detach ? DETACHED : GO_ON;
}

static int session(struct viewer *v)
{
        static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
        sigset_t mask;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        (void) signal(SIGPIPE, SIG_IGN);
        struct termios saved;
        bool raw = false;
        if (v->console && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                send_winsz(v);
        }
        bool stdin_open = v->console || v->send_stdin;
        int status = GO_ON;
        while (status == GO_ON) {
                struct pollfd pf[3] = {
                        { .fd = v->sock, .events = POLLIN | (v->out_len ? POLLOUT : 0) },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = stdin_open && !v->out_len ? STDIN_FILENO : -1, .events = POLLIN },
                };
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        status = 1;
                        break;
                }
                struct signalfd_siginfo si;
                if ((pf[1].revents & POLLIN) && read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                        if (si.ssi_signo == SIGWINCH) {
                                if (raw)
                                        send_winsz(v);
                        } else
                                status = DETACHED;
                }
                if (status == GO_ON && (pf[0].revents & POLLOUT) && v->out_len)
                        send_frame(v, v->out_len);
                if (status == GO_ON && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        status = from_monitor(v);
                if (status == GO_ON && (pf[2].revents & (POLLIN | POLLHUP | POLLERR)))
                        status = from_stdin(v);
        }
        /* Every way out passes here: the terminal is the operator's again. */
        if (raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        if (status == DETACHED) {
                note(v, "detached from '%s'; it keeps running", v->name);
                status = 0;
        }
        return status;
}

/* ---- the verbs -------------------------------------------------------------------------------- */

int verb_console(struct ctl_args *a)
{
        const char *name = a->argv[0];
        uint8_t esc = 0x1d; /* Ctrl-] */
        if (a->escape && console_parse_escape(a->escape, &esc) < 0) {
                fail("berthctl console: --escape '%s': expected a letter or ^X (e.g. a, ^a, ^])", a->escape);
                return 2;
        }
        char dir[4096];
        if (locate("console", name, a->state, dir) < 0)
                return 1;
        uint8_t flags = 0;
        _cleanup_close_ int sock = connect_monitor("console", name, dir, &flags);
        if (sock < 0)
                return 1;
        if (!(flags & CONSOLE_F_TTY)) {
                fail("berthctl console: %s has no console; set console = true in its definition (then it restarts "
                     "at the next reload), or follow its output with berthctl attach %s",
                     name, name);
                return 1;
        }
        struct viewer v = { .name = name, .sock = sock, .console = true, .esc = { .esc = esc } };
        if (isatty(STDIN_FILENO))
                fprintf(stderr, "[berthctl: connected to the console of '%s'; detach with Ctrl-%c q]\n", name,
                        (char) (esc + '@'));
        return session(&v);
}

int verb_attach(struct ctl_args *a)
{
        const char *name = a->argv[0];
        char dir[4096];
        if (locate("attach", name, a->state, dir) < 0)
                return 1;
        uint8_t flags = 0;
        _cleanup_close_ int sock = connect_monitor("attach", name, dir, &flags);
        if (sock < 0)
                return 1;
        if (flags & CONSOLE_F_TTY) {
                fail("berthctl attach: %s has a console (console = true): use berthctl console %s", name, name);
                return 1;
        }
        struct viewer v = { .name = name, .sock = sock, .send_stdin = (flags & CONSOLE_F_STDIN) != 0 };
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "[berthctl: attached to '%s'%s; Ctrl-C detaches]\n", name,
                        v.send_stdin ? ", standard input goes to it" : "");
        return session(&v);
}
