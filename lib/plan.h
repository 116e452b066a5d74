/* Reconciliation as a pure function: (desired specs, actual states) → an
 * ordered list of actions, each with a human reason. Never performs a
 * syscall, never logs, never does I/O; the caller applies the list.
 *
 * The list, in the order it must be applied:
 *   1. for every container no file declares any more, in reverse start
 *      order (dependants stop before what they depend on): stop when it
 *      runs, orphan when it does not, nothing when it is orphaned already.
 *      Its data (writable layer, logs) is never deleted by a plan: only
 *      `berthctl destroy` deletes an orphan's;
 *   2. every declared network, by name: network-create, network-update
 *      (MTU, NAT: changed in place), network-recreate (bridge, subnet,
 *      gateway: torn down and built again), or none;
 *   3. every declared container exactly once, in start order (topological
 *      over after ∪ requires, then start-order, then name — see order.h);
 *   4. network-remove for every network no file declares any more, after
 *      the containers on it are gone.
 *
 * What a container's action means (apply always adopts the desired spec
 * for a container it does not remove):
 *   create-start     new definition with autostart = true
 *   create           new definition with autostart = false: prepare, do not start
 *   start            not running, autostart = true, not stopped by the operator
 *                    (any changes in the reason are simply started with)
 *   restart          stop whatever runs, apply the new definition, start. Chosen
 *                    when a running container's restart set changed (the reason
 *                    names the fields), when it requires a container that restarts
 *                    ("requires db, which restarts") or sits on a network that is
 *                    recreated ("network lan0 changed: subnet"), and when a failed
 *                    container's definition changed (a definition change clears
 *                    failed). Restart wins over update-live and update-settings;
 *                    the reason lists every change.
 *   update-live      running, only limits (and maybe settings) changed: apply the
 *                    limits to the cgroup in place ("memory 256M → 512M")
 *   update-settings  adopt the new definition without touching any process: a
 *                    running container whose supervise set changed (restart
 *                    policy, health, ordering, stop settings), or a container that
 *                    is not running and will not be started by this reload
 *   stop             its definition is gone: stop it, keep its data; it is
 *                    orphaned ("definition gone; data kept")
 *   orphan           its definition is gone and it does not run: keep its data
 *   none             nothing to do; the reason says why (unchanged, stopped by
 *                    the operator, failed, autostart = false, orphaned)
 *
 * An orphaned container whose definition returns is planned like any
 * stopped one (adopted again with its data: start when autostart).
 *
 * Decisions on containers that are not running:
 *   - stopped by the operator: reload never starts it, changed or not; a
 *     changed definition becomes update-settings and applies at the next
 *     `berthctl start`. A file edit is not a request to start.
 *   - failed: changed → restart; unchanged → none (it stays failed until the
 *     operator starts it or its definition changes).
 *   - otherwise stopped: autostart → start; changed → update-settings; else none.
 *
 * Change detection compares the desired spec's hashes (spec.h) with the
 * hashes the container runs with; the spec it runs with, when known, only
 * serves to name the fields in the reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

struct json_object;

/* The supervisor's view of a container, as far as the plan needs it. */
enum plan_state {
        PLAN_STATE_STOPPED, /* not running (never started, exited, stopped) */
        PLAN_STATE_STARTING,
        PLAN_STATE_RUNNING, /* includes healthy and unhealthy */
        PLAN_STATE_STOPPING,
        PLAN_STATE_BACKOFF, /* exited, waiting to be restarted */
        PLAN_STATE_FAILED,  /* gave up restarting */
        _PLAN_STATE_MAX,
};

struct plan_actual {
        const char *name;
        enum plan_state state;
        bool stopped_by_operator;
        bool orphaned; /* its definition went earlier; its data is kept */
        char restart_hash[SPEC_HASH_LEN];
        char live_hash[SPEC_HASH_LEN];
        char supervise_hash[SPEC_HASH_LEN];
        /* The spec it runs with, or NULL when unknown (e.g. re-adopted from
         * state on disk): then reasons say "definition" instead of field
         * names, and a removed container stops in name order only. */
        const struct spec_container *spec;
};

struct plan_network_actual {
        const char *name;
        char hash[SPEC_HASH_LEN];
        const struct spec_network *spec; /* or NULL: a changed network is recreated */
};

enum plan_kind {
        PLAN_NONE,
        PLAN_CREATE_START,
        PLAN_CREATE,
        PLAN_START,
        PLAN_STOP_ORPHAN,
        PLAN_RESTART,
        PLAN_UPDATE_LIVE,
        PLAN_UPDATE_SETTINGS,
        PLAN_NETWORK_CREATE,
        PLAN_NETWORK_UPDATE,
        PLAN_NETWORK_RECREATE,
        PLAN_NETWORK_REMOVE,
        PLAN_ORPHAN,
        _PLAN_KIND_MAX,
};

#define PLAN_NO_INDEX SIZE_MAX

struct plan_action {
        enum plan_kind kind;
        bool network; /* about a network (PLAN_NETWORK_* or PLAN_NONE) */
        char *name;
        char *reason;
        /* Index into desired->containers (or ->networks when network), and
         * into the actual array given to plan_compute() (containers or
         * networks); PLAN_NO_INDEX where there is none. */
        size_t desired;
        size_t actual;
};

struct plan {
        struct plan_action *actions;
        size_t n;
};

/* Computes the plan. desired should be a validated set (config_validate),
 * but any input is handled without crashing or looping: a dependency that
 * names no container is ignored, a cycle is broken, actual entries with a
 * NULL name are ignored, and an actual name listed twice is planned once.
 * Same input → the same list, byte for byte. O((n + edges) log n); most
 * of the time goes into hashing the desired specs (about 5 ms for 1,000
 * definitions, bench/plan.sh). On success *ret owns the
 * actions (free with plan_done()). Returns 0 or -ENOMEM (*ret is then
 * empty). */
int plan_compute(const struct spec_set *desired, const struct plan_actual *actual, size_t n_actual,
                 const struct plan_network_actual *nets, size_t n_nets, struct plan *ret);
void plan_done(struct plan *p);

/* Fills a plan_actual for a container running exactly spec (hashes and
 * spec pointer; name borrowed from spec). */
void plan_actual_from_spec(const struct spec_container *spec, enum plan_state state,
                           struct plan_actual *ret);
void plan_network_actual_from_spec(const struct spec_network *spec,
                                   struct plan_network_actual *ret);

/* A plan that stops, because their definitions are gone, more than half
 * of the running containers (starting, running, back-off), or all of them,
 * looks like a definition directory that is not there (a file system not
 * mounted) more than like an edit: true, and the caller applies it only
 * when the operator insists (reload --force). *ret_stopping and
 * *ret_running (may be NULL) get the counts. */
bool plan_needs_force(const struct plan *p, const struct plan_actual *actual, size_t n_actual,
                      size_t *ret_stopping, size_t *ret_running);

/* The rule itself: stopping of running containers would stop because
 * their definitions vanished. */
bool plan_vanish_needs_force(size_t stopping, size_t running);

/* Actions that change something (every kind but none). */
size_t plan_count_changes(const struct plan *p);

/* "create-start", "restart", "network-recreate", ...; "?" when out of range. */
const char *plan_kind_to_string(enum plan_kind k);
const char *plan_state_to_string(enum plan_state s);

/* One line for `berthctl plan`: "restart           web: changed: command". */
const char *plan_action_format(const struct plan_action *a, char *buf, size_t size);

/* {"actions": [{"action": "restart", "type": "container", "name": "web",
 *               "reason": "changed: command"}, ...], "changes": 1}
 * A new reference the caller puts, or NULL on allocation failure. */
struct json_object *plan_to_json(const struct plan *p);
