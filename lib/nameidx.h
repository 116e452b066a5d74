/* Owns the sorted name index: (name, position) pairs sorted by name, then
 * position, looked up by bisection. What config, plan, order and spec use to
 * find things by name in n log n. Pure: no I/O. */
#pragma once

#include <stddef.h>

#define NAMEIDX_NONE ((size_t) -1)

struct nameidx {
        const char *name; /* borrowed; never NULL (callers map NULL to "") */
        size_t idx;       /* the position in the caller's array */
};

/* Sorts by name, then position: entries of one name are adjacent, in
 * their original order (so duplicates are found by comparing neighbours). */
void nameidx_sort(struct nameidx *ix, size_t n);

/* The lowest position of an entry called name, or NAMEIDX_NONE. */
size_t nameidx_find(const struct nameidx *ix, size_t n, const char *name);

/* A kept index: an entry (name, idx) added at its sorted place, one removed
 * with the positions above it moved down by one (as when the caller removes
 * element idx from its array). 0 or -ENOMEM. */
int nameidx_insert(struct nameidx **ix, size_t *n, const char *name, size_t idx);
void nameidx_remove(struct nameidx *ix, size_t *n, size_t idx);
