/* The order in which containers start (and, reversed, stop): topological
 * over `after` ∪ `requires`, ties broken by start-order, then name.
 * Pure computation: no syscalls, no logging, no I/O. */
#pragma once

#include <stddef.h>
#include <stdbool.h>
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

/* ---- start and stop decisions ------------------------------------------------
 *
 * Containers start in groups of equal start-order, lowest first, like
 * lxc.start.order: a container's group is the highest start-order among
 * itself and everything it (transitively) comes after, so that a dependency
 * never waits for its own dependant. A group starts once every container of
 * the groups before it is settled: running (healthy, with a health check),
 * failed, stopped with no start pending, or past its start-timeout. Within
 * a group containers start at once unless after/requires order them; then
 * start-delay delays that container only. Stops are the exact reverse. */

enum order_state {
        ORDER_IDLE,     /* stopped, no start pending */
        ORDER_FAILED,   /* failed (a requires on it fails) */
        ORDER_PENDING,  /* asked to start: waiting for its turn or its start-delay */
        ORDER_STARTING, /* being started, or running and not yet healthy */
        ORDER_UP,       /* running, and healthy when it has a health check */
        ORDER_BACKOFF,  /* exited, waiting to be restarted */
};

/* What the scheduler knows of one container. Times are monotonic usec. */
struct order_unit {
        const char *name;
        int32_t start_order;
        char *const *after;
        char *const *requires;
        enum order_state state;
        bool stop_pending; /* asked to stop, not yet signalled */
        bool stopping;     /* stop_pending, or signalled and not yet exited */
        bool alive;        /* a process runs (starting, running or stopping) */
        uint64_t since;    /* PENDING/BACKOFF: when the start was asked for */
        uint64_t launched; /* STARTING: when it was launched */
        uint64_t start_timeout;
        uint64_t start_delay;
        uint64_t delay_until; /* PENDING: 0 until its turn comes, then when its delay ends */
};

enum order_verdict {
        ORDER_NONE,  /* not pending: nothing to decide */
        ORDER_WAIT,  /* not its turn: blocker holds it (wake: re-decide then, 0: on change) */
        ORDER_DELAY, /* its turn came: start at delay_until (also wake) */
        ORDER_START, /* start it now */
        ORDER_FAIL,  /* it cannot start: see reason and blocker */
};

enum order_reason {
        ORDER_REASON_NONE,
        ORDER_REASON_GROUP,            /* WAIT: an earlier group is not settled */
        ORDER_REASON_DEPENDENCY,       /* WAIT: an after/requires is not up yet */
        ORDER_REASON_STOPPING,         /* WAIT: an after/requires is being stopped */
        ORDER_REASON_REQUIRED_FAILED,  /* FAIL: a required container failed */
        ORDER_REASON_REQUIRED_STOPPED, /* FAIL: a required container is stopped, no start pending */
        ORDER_REASON_REQUIRED_TIMEOUT, /* FAIL: a required container passed its start-timeout */
        ORDER_REASON_TIMEOUT,          /* FAIL: a dependency in back-off did not come up within
                                        * this container's start-timeout */
};

struct order_decision {
        enum order_verdict verdict;
        enum order_reason reason;
        size_t blocker;       /* index of the container waited for / failed on, or SIZE_MAX */
        uint64_t wake;        /* WAIT/DELAY: when to decide again; 0: when something changes */
        uint64_t delay_until; /* the new order_unit.delay_until */
        bool timed_out;       /* STARTING and past its start-timeout */
};

/* The group of each unit (see above) into ret_group[0..n). Returns 0 or -ENOMEM. */
int order_groups(const struct order_unit *u, size_t n, int32_t *ret_group);

/* What the decisions need of the dependency graph alone (names,
 * start_order, after, requires): each unit's group, the units by name and
 * by group. Building it sorts (O(n log n) string compares); a caller that
 * decides often (berthd's scheduler, once per loop iteration) keeps it
 * until a unit is added or removed or one of those fields changes, and
 * passes units in the same order with the same name strings alive. */
struct order_graph;
int order_graph_new(const struct order_unit *u, size_t n, struct order_graph **ret);
struct order_graph *order_graph_free(struct order_graph *g);
size_t order_graph_size(const struct order_graph *g);

/* Decides, at time now, for every unit: ret[i] for units[i]. Pure. Returns
 * 0 or -ENOMEM. */
int order_decide_starts(const struct order_unit *u, size_t n, uint64_t now,
                        struct order_decision *ret);
/* The same with a graph built from units with the same names, order and
 * dependencies (g's size must be n: -EINVAL otherwise). Allocates nothing. */
int order_decide_starts_with(const struct order_graph *g, const struct order_unit *u, size_t n, uint64_t now,
                             struct order_decision *ret);

/* Which stop_pending units may be signalled now: those that no other
 * stopping, alive unit still waits on, that is none that comes after them
 * (after/requires) and none of a later group. ret_stop[i] for units[i].
 * Returns 0 or -ENOMEM. */
int order_decide_stops(const struct order_unit *u, size_t n, bool *ret_stop);
/* The same with a graph (as order_decide_starts_with). held[] is n
 * entries of scratch space. */
int order_decide_stops_with(const struct order_graph *g, const struct order_unit *u, size_t n, bool *held,
                            bool *ret_stop);

/* Marks in mark[] (n entries, not cleared) the unit idx and every unit it
 * requires, transitively (requires = true), or every unit that requires
 * it, transitively (requires = false). Returns how many it marked anew. */
size_t order_mark_required(const struct order_unit *u, size_t n, size_t idx, bool *mark);
size_t order_mark_requirers(const struct order_unit *u, size_t n, size_t idx, bool *mark);
