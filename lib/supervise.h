/* Owns berthd's state: the definitions in force, one unit per container
 * with its state machine (stopped, starting, running, stopping, backoff,
 * failed), dependency ordering, restart policies with back-off, reloads
 * through the planner, orderly shutdown, re-adoption after a crash, events
 * and the control methods. Runs on one sd-event loop; never blocks it. */
#pragma once

#include "crashpoint.h"
#include "error.h"
#include <stdbool.h>
#include <systemd/sd-event.h>

struct manager;

struct manager_options {
        const char *conf_dir;
        const char *state_dir;
        const char *run_dir;
        const char *monitor_path; /* the berth-monitor program */
        unsigned long nofile_soft; /* RLIMIT_NOFILE soft limit for containers; 0 = inherit */
        /* cgroup v2 under systemd: each container gets a transient scope in
         * this slice (lib/scope.h) instead of a cgroup below berthd's own,
         * ordered before scope_before (berthd's unit). NULL: below our own. */
        const char *scope_slice;
        const char *scope_before;
        /* A sealed copy of berth-init (runtime_init_exe) every start, exec and
         * probe shares, or -1. Owned by the caller. */
        int init_exe_fd;
        /* berthd's read-only file of berth-init (runtime_init_share) that
         * containers' inits run from, or NULL. */
        const char *init_file;
        /* berthd --log-driver journald: containers whose log { driver } is
         * "default" (or unset) send their output to the journal. */
        bool log_journald;
        /* berthd --stateful-stop: a container without a stateful-stop key
         * is checkpointed at shutdown and restored at its next start. */
        bool stateful_stop;
        /* How many containers may be built at once; 0: eight per CPU. */
        unsigned max_spawners;
        /* Where to die as kill -9 would (crashpoint.h), for the crash
         * tests; inert unless BERTH_CRASH_AT was set. */
        struct crashpoint crash;
};

int manager_new(sd_event *e, const struct manager_options *o, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* Loads the definitions, re-adopts what runs, starts what autostarts.
 * Invalid definitions at start: -EINVAL with the errors logged. */
int manager_startup(struct manager *m);

/* SIGHUP / ExecReload. 0, or -EINVAL (invalid definitions) or -EBUSY (it
 * would stop most running containers because their definitions are gone:
 * only `berthctl reload --force` does that) when refused, nothing changed. */
int manager_reload(struct manager *m);

/* SIGTERM: stop everything in reverse order, then leave the loop. */
void manager_shutdown(struct manager *m);

/* --metrics-listen: serves GET /metrics (Prometheus text format) on
 * listen_fd (metrics_listen(), taken over) from the manager's loop.
 * 0, or -errno with e set (berthd exits). */
int manager_metrics_serve(struct manager *m, int listen_fd, struct error *e);
