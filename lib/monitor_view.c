#include "monitor_view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* The socket's address through the directory's fd: a state directory of
 * any length fits sun_path. */
static void socket_addr(int dirfd, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, CONSOLE_SOCKET);
}

int monitor_viewers_open(struct monitor_viewers *vw, int dirfd, int tty_fd, int stdin_fd)
{
        vw->listen_fd = -1;
        vw->dirfd = dirfd;
        vw->n = 0;
        vw->pending_off = vw->pending_len = 0;
        vw->input_fd = tty_fd >= 0 ? tty_fd : stdin_fd;
        vw->flags = (uint8_t) ((tty_fd >= 0 ? CONSOLE_F_TTY : 0) | (tty_fd < 0 && stdin_fd >= 0 ? CONSOLE_F_STDIN : 0));
        if (vw->input_fd >= 0)
                (void) fcntl(vw->input_fd, F_SETFL, fcntl(vw->input_fd, F_GETFL) | O_NONBLOCK);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct sockaddr_un sa;
        socket_addr(dirfd, &sa);
        (void) unlinkat(dirfd, CONSOLE_SOCKET, 0); /* a previous run's */
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 8) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        vw->listen_fd = fd;
        return 0;
}

size_t monitor_viewers_pollfds(const struct monitor_viewers *vw, struct pollfd *pf, size_t max)
{
        if (max < 2 + vw->n)
                return 0;
        pf[0] = (struct pollfd){ .fd = vw->listen_fd, .events = POLLIN };
        pf[1] = (struct pollfd){ .fd = vw->pending_len ? vw->input_fd : -1, .events = POLLOUT };
        /* With input pending, viewers are watched only for hang-ups. */
        for (size_t i = 0; i < vw->n; i++)
                pf[2 + i] = (struct pollfd){ .fd = vw->v[i].fd, .events = vw->pending_len ? 0 : POLLIN };
        return 2 + vw->n;
}

static void drop_viewer(struct monitor_viewers *vw, size_t i)
{
        close(vw->v[i].fd);
        vw->v[i] = vw->v[--vw->n];
}

/* Sends one frame whole, or not at all: 1 sent, 0 the socket is full, -1 gone. */
static int send_frame(int fd, const uint8_t *f, size_t n)
{
        ssize_t k = send(fd, f, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k == (ssize_t) n)
                return 1;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
                return 0;
        return -1;
}

/* Writes what input waits; the rest stays (the container did not take it). */
static void flush_input(struct monitor_viewers *vw)
{
        while (vw->pending_len > 0) {
                ssize_t k = write(vw->input_fd, vw->pending + vw->pending_off, vw->pending_len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) { /* the container closed its end: nobody reads it */
                        vw->pending_len = 0;
                        break;
                }
                vw->pending_off += (size_t) k;
                vw->pending_len -= (size_t) k;
        }
        vw->pending_off = 0;
}

/* One message from viewer i: 0, or -1 when it is to be dropped. */
static int read_viewer(struct monitor_viewers *vw, size_t i)
{
        uint8_t buf[CONSOLE_FRAME_MAX];
        ssize_t k = recv(vw->v[i].fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        struct console_frame f;
        if (k == 0 || (size_t) k > sizeof buf || console_decode(buf, (size_t) k, &f) < 0)
                return -1; /* gone, or not speaking the protocol */
        switch (f.type) {
        case CONSOLE_IN:
                if (vw->input_fd < 0 || f.len == 0)
                        return 0; /* a container without input: nothing to feed */
                memcpy(vw->pending, f.data, f.len);
                vw->pending_off = 0;
                vw->pending_len = f.len;
                flush_input(vw);
                return 0;
        case CONSOLE_WINSZ:
                if (vw->flags & CONSOLE_F_TTY) {
                        struct winsize ws = { .ws_row = f.rows, .ws_col = f.cols };
                        (void) ioctl(vw->input_fd, TIOCSWINSZ, &ws);
                }
                return 0;
        default:
                return -1;
        }
}

static void accept_viewer(struct monitor_viewers *vw)
{
        int fd = accept4(vw->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct ucred cr;
        socklen_t len = sizeof cr;
        /* The socket is root's (0600); a full house is closed on at once. */
        if (vw->n >= MONITOR_VIEWERS_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0) {
                close(fd);
                return;
        }
        uint8_t hello[CONSOLE_HDR + 2];
        size_t n = console_encode_hello(hello, vw->flags);
        if (send_frame(fd, hello, n) != 1) {
                close(fd);
                return;
        }
        vw->v[vw->n++] = (struct monitor_viewer){ .fd = fd };
}

void monitor_viewers_handle(struct monitor_viewers *vw, const struct pollfd *pf, size_t n)
{
        if (n < 2)
                return;
        if (pf[1].fd >= 0 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP)))
                flush_input(vw);
        for (size_t j = 2; j < n; j++) {
                if (!pf[j].revents)
                        continue;
                size_t i = 0;
                while (i < vw->n && vw->v[i].fd != pf[j].fd)
                        i++;
                if (i == vw->n)
                        continue;
                if (pf[j].revents & (POLLERR | POLLNVAL)) {
                        drop_viewer(vw, i);
                        continue;
                }
                /* Input first (it may end with the hang-up); none while input waits. */
                if (vw->pending_len == 0 && (pf[j].revents & (POLLIN | POLLHUP))) {
                        if (read_viewer(vw, i) < 0)
                                drop_viewer(vw, i);
                } else if (pf[j].revents & POLLHUP)
                        drop_viewer(vw, i);
        }
        if (pf[0].fd >= 0 && (pf[0].revents & POLLIN))
                accept_viewer(vw);
}

void monitor_viewers_output(struct monitor_viewers *vw, enum console_type t, const char *buf, size_t len)
{
        if (vw->n == 0)
                return;
        uint64_t now = mono_usec();
        uint8_t f[CONSOLE_FRAME_MAX];
        for (size_t i = 0; i < vw->n;) {
                struct monitor_viewer *v = &vw->v[i];
                int gone = 0;
                for (size_t off = 0; off < len && !gone;) {
                        size_t chunk = len - off < CONSOLE_DATA_MAX ? len - off : CONSOLE_DATA_MAX;
                        int r = 1;
                        if (v->dropped > 0) {
                                size_t dn = console_encode_dropped(f, v->dropped);
                                r = send_frame(v->fd, f, dn);
                                if (r == 1)
                                        v->dropped = 0;
                        }
                        if (r == 1)
                                r = send_frame(v->fd, f, console_encode(f, t, buf + off, chunk));
                        if (r < 0)
                                gone = 1;
                        else if (r == 0) {
                                v->dropped += chunk;
                                if (!v->stuck_since)
                                        v->stuck_since = now;
                                else if (now - v->stuck_since > MONITOR_VIEWER_STUCK_USEC)
                                        gone = 1;
                        } else
                                v->stuck_since = 0;
                        off += chunk;
                }
                if (gone)
                        drop_viewer(vw, i);
                else
                        i++;
        }
}

void monitor_viewers_close(struct monitor_viewers *vw, int status)
{
        uint8_t f[CONSOLE_HDR + 8];
        for (size_t i = 0; i < vw->n; i++) {
                if (vw->v[i].dropped > 0)
                        (void) send_frame(vw->v[i].fd, f, console_encode_dropped(f, vw->v[i].dropped));
                (void) send_frame(vw->v[i].fd, f, console_encode_exit(f, status));
                close(vw->v[i].fd);
        }
        vw->n = 0;
        if (vw->listen_fd >= 0) {
                close(vw->listen_fd);
                vw->listen_fd = -1;
                (void) unlinkat(vw->dirfd, CONSOLE_SOCKET, 0);
        }
}
