/* Owns the watch over one running container after berthd let go of it:
 * waits for the container's init through its pidfd, drains the init's
 * stdout and stderr into a size-rotated log of time-stamped records
 * (lib/logfmt.h), and writes the exit status atomically. A full disk or a
 * slow file system never blocks the container: what cannot be written is
 * dropped, counted, and said in the log when there is room again.
 * Serves viewers (berthctl console, attach) on a socket of the container's
 * directory (lib/monitor_view.h): its output goes to them as it goes to
 * the log, their input to its terminal or stdin pipe.
 * Runs as the tiny berth-monitor program; links nothing but libc. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct monitor_params {
        const char *dir;      /* the container's runtime directory: exit, log */
        pid_t pid;            /* the container's init (our child) */
        int pidfd;            /* its pidfd, or -1 */
        int log_fd;           /* read end of the container's stdout (and stderr when err_fd < 0) */
        int err_fd;           /* read end of its stderr, or -1 */
        uint64_t log_max_size;
        uint32_t log_max_files;
        int cgroup_fd;        /* the container's cgroup directory (v2, or v1 memory), or -1 */
        bool console;         /* log_fd is the master of the container's terminal (console = true) */
        int stdin_fd;         /* write end of the container's stdin (stdin = true), or -1 */
};

/* Returns when the init has exited and its status is on disk: 0 or -errno.
 * With a cgroup_fd, stragglers in the cgroup are killed (v2 cgroup.kill)
 * and the OOM kills it saw are recorded in the exit record: this is the
 * one place that decides whether the OOM killer struck (berthd reads the
 * record), since a container in a systemd scope loses its cgroup as soon
 * as the monitor leaves it. */
int monitor_run(const struct monitor_params *p);

/* The value of "oom_kill N" in memory.events (v2) or memory.oom_control
 * (v1) text; 0 when absent. Pure. */
uint64_t monitor_parse_oom_kills(const char *text);

/* Rotates name → name.1 → ... → name.(keep-1) in dirfd. */
int monitor_rotate(int dirfd, const char *name, uint32_t keep);
