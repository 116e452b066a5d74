#include "monitor.h"

#include <fcntl.h>
#include <poll.h>
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

/* Appends what the pipe has to the log, rotating at max_size. Returns the
 * bytes read, 0 at EOF. */
static ssize_t drain(const struct monitor_params *p, int dirfd, int *log, off_t *size)
{
        char buf[65536];
        ssize_t k = read(p->log_fd, buf, sizeof buf);
        if (k <= 0)
                return k < 0 && (errno == EAGAIN || errno == EINTR) ? -EAGAIN : 0;
        if (*log >= 0 && p->log_max_size && (uint64_t) *size + (uint64_t) k > p->log_max_size && *size > 0) {
                close(*log);
                (void) monitor_rotate(dirfd, LOG_NAME, p->log_max_files);
                *log = open_log(dirfd, size);
        }
        if (*log >= 0) {
                const char *q = buf;
                size_t left = (size_t) k;
                while (left > 0) {
                        ssize_t w = write(*log, q, left);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                break; /* a full disk must not stop the container: drop */
                        }
                        q += w;
                        left -= (size_t) w;
                        *size += w;
                }
        }
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

int monitor_run(const struct monitor_params *p)
{
        _cleanup_close_ int dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dirfd < 0)
                return -errno;
        off_t size = 0;
        int log = open_log(dirfd, &size);
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
                        while ((k = drain(p, dirfd, &log, &size)) > 0)
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
                while (poll(&pf, 1, 1000) > 0 && drain(p, dirfd, &log, &size) > 0)
                        ;
        }
        if (log >= 0)
                close(log);
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
        char text[256];
        int n = snprintf(text, sizeof text, "status=%d\ncode=%s\nsignal=%d\nrealtime_usec=%llu\noom_kills=%llu\n",
                         status, si.si_code == CLD_EXITED ? "exited" : "killed",
                         si.si_code == CLD_EXITED ? 0 : si.si_status,
                         (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000,
                         (unsigned long long) oom);
        return write_file_atomic(dirfd, "exit", text, (size_t) n, 0600);
}
