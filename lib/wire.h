/* Owns the one message format between berthd's spawner, berth-monitor
 * and berthd: a fixed-size, versioned record, written whole and checked
 * whole by the reader (magic, version, type, size, terminated strings,
 * numbers in range) before any field is used. The spawner reports the
 * start (WIRE_STARTED or WIRE_FAILED) to berthd on a pipe, and hands the
 * monitor its parameters (WIRE_MONITOR) on another. Plain C on libc only:
 * berth-monitor links it statically. No allocation. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x48545242u /* "BRTH" */
#define WIRE_VERSION 3
#define WIRE_TEXT_MAX 4096

enum wire_type {
        WIRE_STARTED = 1, /* pid, start, address: the container runs */
        WIRE_FAILED,      /* exit_code, text: why it did not start */
        WIRE_MONITOR,     /* text = the container's directory; pid, fds, log limits */
};

enum {
        WIRE_F_CONSOLE = 1u << 0,
};

struct wire_msg {
        uint32_t magic;
        uint16_t version;
        uint16_t type;
        uint32_t size;          /* sizeof(struct wire_msg) */
        int32_t pid;            /* STARTED, MONITOR: the container's init */
        uint64_t start;         /* STARTED: its start time (clock ticks since boot) */
        int32_t exit_code;      /* FAILED: 125/126/127 */
        int32_t pidfd;          /* MONITOR: the init's pidfd, or -1 */
        int32_t log_fd;         /* MONITOR: read end of the container's stdout */
        int32_t err_fd;         /* MONITOR: read end of its stderr, or -1 (then stdout has both) */
        int32_t cgroup_fd;      /* MONITOR: its cgroup directory, or -1 */
        int32_t stdin_fd;       /* MONITOR: write end of its stdin (stdin = true), or -1 */
        uint32_t flags;         /* MONITOR: WIRE_F_CONSOLE: log_fd is the master of its terminal */
        uint32_t log_max_files; /* MONITOR */
        uint64_t log_max_size;  /* MONITOR */
        char address[16];       /* STARTED: dotted quad, or "" */
        char text[WIRE_TEXT_MAX];
};

/* A message of type t with every other field zero (fds -1). */
void wire_init(struct wire_msg *m, enum wire_type t);

/* Writes m whole (retrying short writes and EINTR): 0 or -errno. */
int wire_write(int fd, const struct wire_msg *m);

/* Checks len bytes received as one message and copies them to *ret:
 * 0, or -EBADMSG when short, long, of another version or type, with an
 * unterminated string or an out-of-range number. */
int wire_parse(const void *buf, size_t len, struct wire_msg *ret);

/* Reads one whole message from a blocking fd: 0, -EBADMSG (short or
 * invalid, EOF included) or -errno. */
int wire_read(int fd, struct wire_msg *ret);
