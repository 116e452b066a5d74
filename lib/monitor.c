#include "monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

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
 * the log (one line of its own) as soon as there is room again; a line cut
 * by a failed write is ended first, so no line is ever merged with the next. */
struct log_writer {
        int fd;
        off_t size;
        bool at_line_start; /* the last byte written was a newline (or none yet) */
        uint64_t dropped_bytes, dropped_lines; /* not yet said in the log */
        uint64_t total_dropped_lines;
};

static size_t count_lines(const char *p, size_t n)
{
        size_t k = 0;
        for (const char *e = p + n; (p = memchr(p, '\n', (size_t) (e - p))); p++)
                k++;
        return k;
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
        size_t lines = count_lines(buf, len);
        w->dropped_bytes += len;
        w->dropped_lines += lines;
        w->total_dropped_lines += lines;
}

static void log_append(struct log_writer *w, const char *buf, size_t len)
{
        if (w->fd < 0)
                return drop(w, buf, len);
        if (w->dropped_bytes > 0) {
                char note[160];
                int n = snprintf(note, sizeof note, "%s[berth-monitor: %llu lines (%llu bytes) dropped: %s]\n",
                                 w->at_line_start ? "" : "\n", (unsigned long long) w->dropped_lines,
                                 (unsigned long long) w->dropped_bytes, "the log's file system was full");
                size_t k = write_some(w, note, (size_t) n);
                if (k < (size_t) n) {
                        if (k > 0 && !w->at_line_start)
                                (void) write_some(w, "\n", 1);
                        return drop(w, buf, len);
                }
                w->dropped_bytes = w->dropped_lines = 0;
        }
        size_t k = write_some(w, buf, len);
        if (k < len) {
                /* A full disk must not stop the container: drop the rest,
                 * and end the cut line when there is room again. */
                drop(w, buf + k, len - k);
        }
}

/* Appends what the pipe has to the log, rotating at max_size. Returns the
 * bytes read, 0 at EOF. */
static ssize_t drain(const struct monitor_params *p, int dirfd, struct log_writer *w)
{
        char buf[65536];
        ssize_t k = read(p->log_fd, buf, sizeof buf);
        if (k <= 0)
                return k < 0 && (errno == EAGAIN || errno == EINTR) ? -EAGAIN : 0;
        if (w->fd >= 0 && p->log_max_size && (uint64_t) w->size + (uint64_t) k > p->log_max_size && w->size > 0) {
                close(w->fd);
                (void) monitor_rotate(dirfd, LOG_NAME, p->log_max_files);
                w->fd = open_log(dirfd, &w->size);
                w->at_line_start = true;
        }
        log_append(w, buf, (size_t) k);
        return k;
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
        bool pipe_open = p->log_fd >= 0;
        if (pipe_open)
                (void) fcntl(p->log_fd, F_SETFL, O_NONBLOCK);
        siginfo_t si = { 0 };
        for (;;) {
                struct pollfd pf[2] = { { .fd = p->pidfd, .events = POLLIN },
                                        { .fd = pipe_open ? p->log_fd : -1, .events = POLLIN } };
                int r = poll(pf, 2, p->pidfd >= 0 ? -1 : 1000);
                if (r < 0 && errno != EINTR)
                        break;
                if (pipe_open && (pf[1].revents & (POLLIN | POLLHUP))) {
                        ssize_t k;
                        while ((k = drain(p, dirfd, &w)) > 0)
                                ;
                        if (k == 0)
                                pipe_open = false;
                }
                if (p->pidfd < 0 || (pf[0].revents & POLLIN)) {
                        if (waitid(P_PID, (id_t) p->pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == p->pid)
                                break;
                        if (errno == ECHILD)
                                break;
                }
        }
        /* Every writer died with the container's PID namespace: drain the rest. */
        if (pipe_open) {
                (void) fcntl(p->log_fd, F_SETFL, 0);
                struct pollfd pf = { .fd = p->log_fd, .events = POLLIN };
                while (poll(&pf, 1, 1000) > 0 && drain(p, dirfd, &w) > 0)
                        ;
        }
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
