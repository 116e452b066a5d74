/* Owns the viewers of one container, inside its monitor: the socket
 * <dir>/console.sock (lib/console.h's protocol), the viewers connected to
 * it (berthctl console, berthctl attach; at most MONITOR_VIEWERS_MAX), the
 * output sent to each, and their input, written to the container's
 * terminal (a pty master) or the write end of its stdin pipe.
 *
 * Never blocks and never lets a viewer hold the container: every send is
 * non-blocking, one frame whole or not at all; a viewer whose socket is
 * full misses that output (counted, and told in a DROPPED frame once it
 * takes frames again) and is disconnected when it took nothing for
 * MONITOR_VIEWER_STUCK_USEC. Input the container does not take at once
 * waits in one buffer of CONSOLE_DATA_MAX bytes, and no viewer is read
 * until it is written: a stuck terminal holds the viewers' input back in
 * their own socket buffers, not in the monitor. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"

#define MONITOR_VIEWERS_MAX 16
#define MONITOR_VIEWER_STUCK_USEC (30ULL * 1000000ULL)

struct monitor_viewer {
        int fd;
        uint64_t dropped;     /* bytes of output it missed, not yet told */
        uint64_t stuck_since; /* CLOCK_MONOTONIC µs of the first send it refused since the last it took; 0: none */
};

struct monitor_viewers {
        int listen_fd;  /* -1: no socket (viewers are then simply not served) */
        int dirfd;      /* the container's directory, where the socket is */
        int input_fd;   /* the pty master, or the stdin pipe's write end, or -1 */
        uint8_t flags;  /* CONSOLE_F_* as said in HELLO */
        size_t n;
        struct monitor_viewer v[MONITOR_VIEWERS_MAX];
        uint8_t pending[CONSOLE_DATA_MAX]; /* input not taken yet */
        size_t pending_off, pending_len;
};

/* Binds <dirfd>/console.sock (0600). tty_fd: the console's pty master, or
 * -1; stdin_fd: the write end of the container's stdin, or -1. 0, or
 * -errno (then no viewer is served; the container runs on). */
int monitor_viewers_open(struct monitor_viewers *vw, int dirfd, int tty_fd, int stdin_fd);

/* Fills pf[0..max) with what to wait for; returns how many. */
size_t monitor_viewers_pollfds(const struct monitor_viewers *vw, struct pollfd *pf, size_t max);

/* Handles what poll() reported in pf[0..n) (as filled above). */
void monitor_viewers_handle(struct monitor_viewers *vw, const struct pollfd *pf, size_t n);

/* Sends the container's output (type CONSOLE_OUT or CONSOLE_ERR) to every viewer. */
void monitor_viewers_output(struct monitor_viewers *vw, enum console_type t, const char *buf, size_t len);

/* The container ended with status: tells every viewer, disconnects them,
 * removes the socket. */
void monitor_viewers_close(struct monitor_viewers *vw, int status);
