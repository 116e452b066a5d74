/* Owns the view of the host's bound sockets (/proc/net/tcp, tcp6, udp,
 * udp6 of the caller's network namespace) and of who holds them
 * (/proc/PID/fd): the check that a published port does not shadow a host
 * service. Only reads; never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "spec.h"

#define HOSTPORTS_MAX 65536 /* sockets read per file */

struct hostport {
        publish_proto_t proto;
        int family;        /* AF_INET or AF_INET6 */
        uint8_t addr[16];  /* network order: 4 bytes for AF_INET */
        uint16_t port;
        uint64_t inode;
};

/* Pure: the listening TCP sockets, or unconnected bound UDP sockets, of one
 * /proc/net/{tcp,udp}{,6} text, appended to *list (caller frees). -EINVAL
 * for a line that is not one. */
int hostports_parse(const char *text, int family, publish_proto_t proto, struct hostport **list, size_t *n);

/* Pure: traffic p publishes would reach s's port instead (same protocol and
 * port, and s listens on every address, or on the address p names, or p
 * names none). */
bool hostports_conflicts(const struct hostport *s, const struct publish *p, bool dual);

/* "'COMM' (pid N)" of a process holding socket inode, else "a process of
 * another namespace or the kernel". */
void hostports_owner(uint64_t inode, char *buf, size_t n);

/* Adds a FILE:LINE error to d for every port of set that a host socket
 * holds, naming it and its owner. Returns the number added. */
size_t hostports_check(const struct spec_set *set, struct diag *d);
