/* Owns sending a container's lines to the systemd journal: one datagram
 * per line over journald's native protocol (systemd.io/JOURNAL_NATIVE_
 * PROTOCOL) on a non-blocking socket, so that a slow or absent journald
 * makes the caller drop a line, never wait. Plain C on libc only:
 * berth-monitor links it statically (libsystemd's sd_journal_send() is a
 * shared library, and its socket blocks when journald's queue is full). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* journald's socket; $BERTH_JOURNAL_SOCKET replaces it (tests). */
#define LOGJOURNAL_SOCKET "/run/systemd/journal/socket"

/* The socket to use: $BERTH_JOURNAL_SOCKET when set, else LOGJOURNAL_SOCKET. */
const char *logjournal_socket_path(void);

/* A non-blocking datagram socket connected to path: the fd, or -errno
 * (-ENOENT: no socket there; -ECONNREFUSED: nobody reads it). */
int logjournal_connect(const char *path);

/* The fields every entry of one container carries. */
struct logjournal_ident {
        const char *name; /* CONTAINER_NAME=, SYSLOG_IDENTIFIER= */
        const char *id;   /* 32 hex digits: CONTAINER_ID= (the first 12), CONTAINER_ID_FULL= */
};

/* Sends one entry: MESSAGE=text (len bytes, no newline in it), PRIORITY=,
 * the ident's fields and, for a part of a longer line,
 * CONTAINER_PARTIAL_MESSAGE=true. Never blocks: 0, -EAGAIN when journald
 * has no room now, -errno when it is gone (-ECONNREFUSED, -ENOTCONN, ...). */
int logjournal_send(int fd, const struct logjournal_ident *ident, int priority, bool partial, const char *text,
                    size_t len);
