/* Owns the watch over one running container after berthd let go of it:
 * waits for the container's init through its pidfd, drains the init's
 * output into a size-rotated log, and writes the exit status atomically.
 * Runs as the tiny berth-monitor program; links nothing but libc. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct monitor_params {
        const char *dir;      /* the container's runtime directory: exit, log */
        pid_t pid;            /* the container's init (our child) */
        int pidfd;            /* its pidfd, or -1 */
        int log_fd;           /* read end of the container's stdout/stderr */
        uint64_t log_max_size;
        uint32_t log_max_files;
};

/* Returns when the init has exited and its status is on disk: 0 or -errno. */
int monitor_run(const struct monitor_params *p);

/* Rotates name → name.1 → ... → name.(keep-1) in dirfd. */
int monitor_rotate(int dirfd, const char *name, uint32_t keep);
