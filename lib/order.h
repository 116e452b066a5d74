/* The order in which containers start (and, reversed, stop): topological
 * over `after` ∪ `requires`, ties broken by start-order, then name.
 * Pure computation: no syscalls, no logging, no I/O. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* One node of the dependency graph. after/requires are NULL-terminated
 * name lists (either may be NULL); a NULL name sorts as "". */
struct order_item {
        const char *name;
        int32_t start_order;
        char *const *after;
        char *const *requires;
};

/* Fills ret_idx[0..n) with a permutation of 0..n-1 such that every item
 * comes after each item it names in after/requires. Among items that are
 * ready at the same time the lowest (start_order, name, index) goes first,
 * so the result is fully determined by the input.
 *
 * Total on any input: a dependency naming no item, or naming the item
 * itself, is ignored; a cycle (which config validation rejects) is broken
 * at its lowest (start_order, name) member instead of looping. When two
 * items share a name, a dependency on that name means the one with the
 * lower index. Returns 0 or -ENOMEM. */
int order_sort(const struct order_item *items, size_t n, size_t *ret_idx);

/* order_sort() over set->containers: *ret_idx (malloc'ed, caller frees)
 * holds set->n_containers indexes into set->containers in start order.
 * Stop in reverse. Returns 0 or -ENOMEM. */
int order_containers(const struct spec_set *set, size_t **ret_idx);
