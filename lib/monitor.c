#include "monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "logfmt.h"
#include "monitor_view.h"
#include "util.h"

#define LOG_NAME "console.log"

int monitor_rotate(int dirfd, const char *name, uint32_t keep)
{
        char from[300], to[300];
        if (keep <= 1)
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        for (uint32_t i = keep - 1; i >= 1; i--) {
                snprintf(to, sizeof to, "%s.%u", name, i);
                if (i == 1)
                        snprintf(from, sizeof from, "%s", name);
                else
                        snprintf(from, sizeof from, "%s.%u", name, i - 1);
                if (renameat(dirfd, from, dirfd, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

static int open_log(int dirfd, off_t *size)
{
        int fd = openat(dirfd, LOG_NAME, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        struct stat st;
        *size = fstat(fd, &st) == 0 ? st.st_size : 0;
        return fd;
}

/* The log's writer: what a full disk made it drop is counted, and said in
 * the log (a record of its own) as soon as there is room again. Records
 * are written whole or not at all (a write cut by a full disk is
 * truncated back to the last whole record), so no line is ever merged
 * with another. */
struct log_writer {
        int fd;
        off_t size;
        bool at_line_start; /* the last byte written was a newline (or none yet) */
        uint64_t dropped_bytes, dropped_lines; /* not yet said in the log */
        uint64_t total_dropped_lines;
        char *out; /* the records made from one read, before they are written */
        size_t out_len, out_cap;
};

/* One of the container's output streams, and the line it has begun. */
struct log_stream {
        int fd; /* -1: at its end */
        enum logfmt_stream s;
        bool crlf; /* a terminal's output: a line's \r before its \n is not kept */
        char line[LOGFMT_RECORD_MAX];
        size_t len;
        uint64_t start_usec; /* when the line's first byte was read */
};

/* A line not ended within this long is written as a part (P record), so
 * that a prompt without a newline still shows. */
#define HOLD_USEC 100000ULL

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* Writes all of buf, or, when the file system refuses the rest, keeps
 * only whole lines of it (the cut one is truncated away) and returns how
 * much was kept. */
static size_t write_some(struct log_writer *w, const char *buf, size_t len)
{
        off_t start = w->size;
        size_t done = 0;
        while (done < len) {
                ssize_t k = write(w->fd, buf + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                done += (size_t) k;
        }
        if (done < len && done > 0) {
                const char *nl = memrchr(buf, '\n', done);
                size_t keep = nl ? (size_t) (nl - buf) + 1 : 0;
                if (ftruncate(w->fd, start + (off_t) keep) == 0)
                        done = keep;
        }
        if (done > 0) {
                w->size = start + (off_t) done;
                w->at_line_start = buf[done - 1] == '\n';
        }
        return done;
}

static void drop(struct log_writer *w, const char *buf, size_t len)
{
        size_t lines = logfmt_count_lines(buf, len);
        w->dropped_bytes += len;
        w->dropped_lines += lines;
        w->total_dropped_lines += lines;
}

static void log_append(struct log_writer *w, const char *buf, size_t len)
{
        if (w->fd < 0)
                return drop(w, buf, len);
        if (!w->at_line_start && write_some(w, "\n", 1) < 1) /* an older log's cut line */
                return drop(w, buf, len);
        if (w->dropped_bytes > 0) {
                char note[LOGFMT_PREFIX_MAX + 160];
                size_t n = logfmt_prefix(note, now_usec(), LOGFMT_BERTH, false);
                int k = snprintf(note + n, sizeof note - n, "[berth-monitor: %llu lines (%llu bytes) dropped: %s]\n",
                                 (unsigned long long) w->dropped_lines, (unsigned long long) w->dropped_bytes,
                                 "the log's file system was full");
                n += (size_t) k;
                if (write_some(w, note, n) < n)
                        return drop(w, buf, len);
                w->dropped_bytes = w->dropped_lines = 0;
        }
        size_t k = write_some(w, buf, len);
        if (k < len) {
                /* A full disk must not stop the container: drop the rest. */
                drop(w, buf + k, len - k);
        }
}

/* Adds one record of st's line to w->out. */
static void emit(struct log_writer *w, struct log_stream *st, bool partial)
{
        size_t need = LOGFMT_PREFIX_MAX + st->len + 1;
        if (w->out_len + need > w->out_cap) {
                size_t cap = (w->out_cap ? w->out_cap * 2 : 65536) + need;
                char *o = realloc(w->out, cap);
                if (!o) { /* counted as dropped */
                        w->dropped_bytes += st->len + 1;
                        w->dropped_lines += partial ? 0 : 1;
                        w->total_dropped_lines += partial ? 0 : 1;
                        st->len = 0;
                        return;
                }
                w->out = o;
                w->out_cap = cap;
        }
        w->out_len += logfmt_prefix(w->out + w->out_len, st->start_usec, st->s, partial);
        memcpy(w->out + w->out_len, st->line, st->len);
        w->out_len += st->len;
        w->out[w->out_len++] = '\n';
        st->len = 0;
}

/* Writes the records made so far, rotating at max_size. */
static void flush_out(const struct monitor_params *p, int dirfd, struct log_writer *w)
{
        if (w->out_len == 0)
                return;
        if (w->fd >= 0 && p->log_max_size && (uint64_t) w->size + w->out_len > p->log_max_size && w->size > 0) {
                close(w->fd);
                (void) monitor_rotate(dirfd, LOG_NAME, p->log_max_files);
                w->fd = open_log(dirfd, &w->size);
                w->at_line_start = true;
        }
        log_append(w, w->out, w->out_len);
        w->out_len = 0;
}

/* Cuts bytes read from st into records: one per line, a part when the
 * line outgrows a record. */
static void take(struct log_writer *w, struct log_stream *st, const char *q, size_t n, uint64_t now)
{
        const char *end = q + n;
        while (q < end) {
                if (st->len == 0)
                        st->start_usec = now;
                const char *nl = memchr(q, '\n', (size_t) (end - q));
                size_t want = nl ? (size_t) (nl - q) : (size_t) (end - q);
                size_t room = sizeof st->line - st->len;
                if (want > room || (want == room && !nl)) {
                        memcpy(st->line + st->len, q, room);
                        st->len += room;
                        q += room;
                        emit(w, st, true);
                        continue;
                }
                memcpy(st->line + st->len, q, want);
                st->len += want;
                q += want;
                if (nl) {
                        if (st->crlf && st->len > 0 && st->line[st->len - 1] == '\r')
                                st->len--;
                        emit(w, st, false);
                        q++;
                }
        }
}

/* Appends what st's pipe has to the log. Returns the bytes read, 0 at
 * EOF (the line begun is ended), -EAGAIN when there is nothing now. */
static ssize_t drain(const struct monitor_params *p, int dirfd, struct log_writer *w, struct log_stream *st,
                     struct monitor_viewers *vw)
{
        char buf[65536];
        ssize_t k = read(st->fd, buf, sizeof buf);
        if (k > 0)
                monitor_viewers_output(vw, st->s == LOGFMT_STDERR ? CONSOLE_ERR : CONSOLE_OUT, buf, (size_t) k);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return -EAGAIN;
        if (k <= 0) {
                if (st->len > 0)
                        emit(w, st, false);
                flush_out(p, dirfd, w);
                return 0;
        }
        take(w, st, buf, (size_t) k, now_usec());
        flush_out(p, dirfd, w);
        return k;
}

/* Writes the lines begun longer than HOLD_USEC ago as parts; returns the
 * poll timeout (ms) until the next one is due, -1 for none. */
static int flush_held(const struct monitor_params *p, int dirfd, struct log_writer *w, struct log_stream *sts,
                      size_t n)
{
        uint64_t now = now_usec();
        int timeout = -1;
        for (size_t i = 0; i < n; i++) {
                if (sts[i].len == 0)
                        continue;
                if (now >= sts[i].start_usec + HOLD_USEC) {
                        emit(w, &sts[i], true);
                        continue;
                }
                int ms = (int) ((sts[i].start_usec + HOLD_USEC - now) / 1000) + 1;
                if (timeout < 0 || ms < timeout)
                        timeout = ms;
        }
        flush_out(p, dirfd, w);
        return timeout;
}

uint64_t monitor_parse_oom_kills(const char *text)
{
        for (const char *line = text; line && *line;) {
                if (strncmp(line, "oom_kill ", 9) == 0)
                        return strtoull(line + 9, NULL, 10);
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return 0;
}

static uint64_t cgroup_oom_kills(int cgfd)
{
        static const char *const files[] = { "memory.events", "memory.oom_control" };
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                _cleanup_free_ char *text = NULL;
                if (read_file_at(cgfd, files[i], 65536, &text, NULL) == 0)
                        return monitor_parse_oom_kills(text);
        }
        return 0;
}

/* The exit record's room, taken when the container starts: a file system
 * that filled up meanwhile can still take its status. */
#define EXIT_RESERVE 4096
#define EXIT_TMP "exit.new"

static int reserve_exit(int dirfd)
{
        int fd = openat(dirfd, EXIT_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        int r = posix_fallocate(fd, 0, EXIT_RESERVE);
        if (r != 0 && r != EOPNOTSUPP && r != EINVAL) {
                close(fd);
                (void) unlinkat(dirfd, EXIT_TMP, 0);
                return -r;
        }
        return fd;
}

/* Into the reserved room (no new blocks), then renamed over "exit". */
static int write_exit(int dirfd, int fd, const char *text, size_t n)
{
        if (fd < 0)
                return write_file_atomic(dirfd, "exit", text, n, 0600);
        if (pwrite(fd, text, n, 0) != (ssize_t) n || ftruncate(fd, (off_t) n) < 0 || fsync(fd) < 0) {
                int r = -errno;
                close(fd);
                return r ? r : -EIO;
        }
        close(fd);
        if (renameat(dirfd, EXIT_TMP, dirfd, "exit") < 0)
                return -errno;
        (void) fsync(dirfd);
        return 0;
}

int monitor_run(const struct monitor_params *p)
{
        _cleanup_close_ int dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dirfd < 0)
                return -errno;
        int exitfd = reserve_exit(dirfd); /* < 0: written the ordinary way at the end */
        struct log_writer w = { .at_line_start = true };
        w.fd = open_log(dirfd, &w.size);
        if (w.fd >= 0 && w.size > 0) {
                char last;
                w.at_line_start = pread(w.fd, &last, 1, w.size - 1) != 1 || last == '\n';
        }
        /* stdout and stderr on pipes of their own; an older spawner's
         * single pipe is read as stdout. */
        struct log_stream *sts = calloc(2, sizeof *sts);
        if (!sts)
                return -ENOMEM;
        sts[0] = (struct log_stream){ .fd = p->log_fd, .s = LOGFMT_STDOUT, .crlf = p->console };
        sts[1].fd = p->err_fd;
        sts[1].s = LOGFMT_STDERR;
        for (size_t i = 0; i < 2; i++)
                if (sts[i].fd >= 0)
                        (void) fcntl(sts[i].fd, F_SETFL, O_NONBLOCK);
        /* Viewers (berthctl console, attach): one static set, its few KB
         * touched only when somebody connects or types. */
        static struct monitor_viewers vw;
        (void) signal(SIGPIPE, SIG_IGN); /* a stdin pipe the container closed */
        int r = monitor_viewers_open(&vw, dirfd, p->console ? p->log_fd : -1, p->stdin_fd);
        if (r < 0)
                fprintf(stderr, "berth-monitor: %s: no console socket: %s\n", p->dir, strerror(-r));
        siginfo_t si = { 0 };
        for (;;) {
                int held = flush_held(p, dirfd, &w, sts, 2);
                int timeout = p->pidfd >= 0 ? -1 : 1000;
                if (held >= 0 && (timeout < 0 || held < timeout))
                        timeout = held;
                struct pollfd pf[3 + 2 + MONITOR_VIEWERS_MAX] = { { .fd = p->pidfd, .events = POLLIN },
                                                                  { .fd = sts[0].fd, .events = POLLIN },
                                                                  { .fd = sts[1].fd, .events = POLLIN } };
                size_t nv = monitor_viewers_pollfds(&vw, pf + 3, ELEMENTSOF(pf) - 3);
                r = poll(pf, 3 + nv, timeout);
                if (r < 0 && errno != EINTR)
                        break;
                if (r > 0)
                        monitor_viewers_handle(&vw, pf + 3, nv);
                for (size_t i = 0; i < 2; i++)
                        if (sts[i].fd >= 0 && (pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
                                /* A bounded share each: a flood on one stream
                                 * must not leave the other's pipe full. */
                                ssize_t k = 1;
                                for (int n = 0; n < 16 && (k = drain(p, dirfd, &w, &sts[i], &vw)) > 0; n++)
                                        ;
                                if (k == 0)
                                        sts[i].fd = -1;
                        }
                if (p->pidfd < 0 || (pf[0].revents & POLLIN)) {
                        if (waitid(P_PID, (id_t) p->pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == p->pid)
                                break;
                        if (errno == ECHILD)
                                break;
                }
        }
        /* Every writer died with the container's PID namespace: drain the rest. */
        for (size_t i = 0; i < 2; i++) {
                if (sts[i].fd < 0)
                        continue;
                (void) fcntl(sts[i].fd, F_SETFL, 0);
                struct pollfd pf = { .fd = sts[i].fd, .events = POLLIN };
                while (poll(&pf, 1, 1000) > 0 && drain(p, dirfd, &w, &sts[i], &vw) > 0)
                        ;
                if (sts[i].len > 0)
                        emit(&w, &sts[i], false);
                flush_out(p, dirfd, &w);
        }
        free(sts);
        free(w.out);
        if (w.fd >= 0) {
                if (w.dropped_bytes > 0)
                        log_append(&w, "", 0); /* the count, if there is room now */
                close(w.fd);
        }
        uint64_t oom = 0;
        if (p->cgroup_fd >= 0) {
                oom = cgroup_oom_kills(p->cgroup_fd);
                /* The PID namespace died with the init; this is for a
                 * process that joined the cgroup from outside it. */
                _cleanup_close_ int kfd = openat(p->cgroup_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
                if (kfd >= 0)
                        (void) !write(kfd, "1", 1);
        }
        int status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        monitor_viewers_close(&vw, status);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char text[320];
        int n = snprintf(text, sizeof text,
                         "status=%d\ncode=%s\nsignal=%d\nrealtime_usec=%llu\noom_kills=%llu\nlog_dropped_lines=%llu\n",
                         status, si.si_code == CLD_EXITED ? "exited" : "killed",
                         si.si_code == CLD_EXITED ? 0 : si.si_status,
                         (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000,
                         (unsigned long long) oom, (unsigned long long) w.total_dropped_lines);
        return write_exit(dirfd, exitfd, text, (size_t) n);
}
