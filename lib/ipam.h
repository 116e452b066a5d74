/* Owns address allocation on berth's networks: one file per network,
 * "<container> <address>" per line, in a state directory. Sticky per
 * container until released. Never touches links or the kernel. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

#define IPAM_MAX_ENTRIES 65536
#define IPAM_FILE_MAX (4u << 20)

struct ipam_entry {
        char name[SPEC_NAME_MAX + 1];
        struct in_addr address;
};

struct ipam_table {
        struct ipam_entry *entries;
        size_t n;
};

/* The pure part, unit-tested. */
int ipam_table_parse(const char *text, struct ipam_table *ret); /* -EINVAL on a bad line */
int ipam_table_format(const struct ipam_table *t, char **ret);  /* caller frees */
void ipam_table_done(struct ipam_table *t);
/* Gives container an address on n and records it in t. want NULL = auto:
 * the container's recorded address if still usable, else the lowest free
 * host address (not network, broadcast, gateway, another container's, nor
 * one of reserved[], the static addresses declared on the network).
 * want given: that address, -EINVAL if unusable on n, -EADDRINUSE if another
 * container holds it. -ENOSPC when the subnet is exhausted.
 * *ret_changed tells whether t differs from before. */
int ipam_table_assign(struct ipam_table *t, const struct spec_network *n, const char *container,
                      const struct in_addr *want, const struct in_addr *reserved, size_t n_reserved,
                      struct in_addr *ret, bool *ret_changed);
/* Forgets container's address. true when it had one. */
bool ipam_table_release(struct ipam_table *t, const char *container);

/* The same on the file "<network>.ipam" in the directory dirfd (root-only,
 * created by the caller), under an exclusive flock of the directory and
 * replaced atomically. */
int ipam_assign(int dirfd, const struct spec_network *n, const char *container,
                const struct in_addr *want, const struct in_addr *reserved, size_t n_reserved,
                struct in_addr *ret);
int ipam_release(int dirfd, const char *network, const char *container);
