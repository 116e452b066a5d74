/* Internal to the supervisor (lib/supervise*.c): the manager, its units and
 * the functions the files share. Nothing outside lib/supervise*.c includes it. */
#pragma once

#include "supervise.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include "cgroup.h"
#include "config.h"
#include "control.h"
#include "health.h"
#include "journal.h"
#include "log.h"
#include "machine.h"
#include "metrics.h"
#include "metrics_server.h"
#include "nat.h"
#include "net.h"
#include "netwatch.h"
#include "order.h"
#include "parse.h"
#include "plan.h"
#include "runtime.h"
#include "scope.h"
#include "state.h"
#include "util.h"
#include "wire.h"

#define EVENTS_KEPT 256
#define TAG_EVENTS 1
#define TAG_WAIT 2
#define TAG_RELOAD 3
#define TAG_LAYER 4 /* waits for a snapshot or restore (supervise_snapshot.c) */
#define RESTARTS_KEPT 64

enum unit_state {
        U_STOPPED,
        U_STARTING,
        U_RUNNING,
        U_STOPPING,
        U_BACKOFF,
        U_FAILED,
};

extern const char *const unit_state_names[];
/* What ls shows: a state name, or orphaned (stopped, its definition gone),
 * waiting (a pending start held by another container), frozen (running,
 * its cgroup frozen). unit_shown_state_names lists them all, NULL-ended. */
extern const char *const unit_shown_state_names[];

struct unit {
        struct manager *m;
        char *name;
        const struct spec_container *spec; /* in m->set; NULL: adopted, not declared */
        enum unit_state state;
        bool known_spec;          /* hashes below are of spec (not only from disk) */
        char rh[SPEC_HASH_LEN], lh[SPEC_HASH_LEN], sh[SPEC_HASH_LEN];
        bool operator_stopped;    /* a stop by the operator: never restarted, never a failure */
        bool orphaned;            /* its definition is gone: stopped, data kept until destroy */
        bool pending_start;       /* waiting for dependencies / start-delay */
        bool pending_stop;        /* waiting for dependants to stop first */
        bool restart_after_stop;
        usec_t pending_since;
        usec_t delay_until;       /* pending: 0 until its turn comes, then when start-delay ends */
        usec_t launched_mono;     /* when the last start began (start-timeout counts from it) */
        bool timeout_reported;    /* its start-timeout passed and was reported */

        pid_t monitor_pid;
        uint64_t monitor_start;
        int monitor_pidfd;
        sd_event_source *monitor_src;
        int status_fd;
        sd_event_source *status_src;
        char status_buf[sizeof(struct wire_msg)]; /* the spawner's report (lib/wire.h) */
        size_t status_len;

        pid_t init_pid;
        uint64_t init_start;
        int init_pidfd;
        /* The init whose cgroup base matched m->cgroup_cache (generation). */
        pid_t cg_checked_pid;
        uint64_t cg_checked_start;
        unsigned cg_checked_gen;
        bool exit_oom; /* the monitor saw the OOM killer in the container's cgroup */
        char address[16];
        usec_t started_mono;
        uint64_t started_realtime;

        uint32_t restarts;            /* total, for ls */
        uint32_t consecutive;         /* for the back-off */
        usec_t restart_times[RESTARTS_KEPT];
        bool stop_timeout_set;    /* stop/restart -t: the next stop's timeout is stop_timeout_once */
        usec_t stop_timeout_once;
        usec_t stopping_timeout;  /* the timeout of the stop under way */
        size_t n_restart_times;
        sd_event_source *timer;       /* back-off, start delay, stop timeout, start timeout */
        int last_status;              /* -1 none */
        char last_error[512];
        char waiting_for[128];    /* a pending start held by this container (order.c's blocker) */
        struct spec_container *owned_spec; /* a spec kept alive for a removed definition */

        /* Health: probes never overlap; a restart starts the verdict over. */
        struct health_state health;
        struct health_probe *probe;
        sd_event_source *probe_src, *probe_timeout, *health_timer;
        bool health_failed_stop;      /* stopped for health: counts as a failure */
        /* The image's Healthcheck as a health block, when the definition has
         * none (runtime_image_health, read again at every start). */
        struct spec_health image_health;
        bool machine_registered;      /* asked systemd-machined to register it (machine.h) */

        /* A snapshot or restore of its writable layer under way (supervise_snapshot.c):
         * the worker (its pipe and source), the caller waiting for it. No start meanwhile. */
        pid_t layer_pid;
        int layer_fd;
        sd_event_source *layer_src;
        struct control_conn *layer_conn;
        bool layer_restore, layer_scheduled, layer_thaw;
        bool layer_checkpoint;        /* a checkpoint (CRIU) */
        char *restore_tag;            /* the next start restores this checkpoint (start --from-checkpoint) */
        bool layer_checkpoint_stops;  /* ... without --leave-running: its end is a stop */
        /* stateful-stop (supervise_snapshot.c): the checkpoint at shutdown
         * was tried (once), the worker makes it, it ran out of time; the
         * start under way restores the stateful checkpoint. */
        bool stateful_tried, layer_stateful, stateful_timed_out;
        bool stateful_restore;
        /* Re-adopted while a berthd before us, killed during its checkpoint
         * at shutdown, left the dump running: until this (CLOCK_MONOTONIC),
         * an exit is the dump's end, not a failure, and starts it cold. */
        uint64_t stateful_orphan_until;
        sd_event_source *stateful_timer; /* the bound of the checkpoint at shutdown */
        uint64_t snapshot_next;       /* CLOCK_REALTIME: the next scheduled snapshot; 0 unknown */
        uint64_t snapshot_every_seen; /* the `every` snapshot_next was computed for */
        /* A post-stop hook under way (hooks.h): its runner, and the pipe
         * its failure message comes on. */
        sd_event_source *hook_src;
        int hook_fd;

        bool template_wait;           /* its start waits for the first build of its template (supervise_tbuild.c) */
        uint64_t oom_kills_before;    /* OOM kills in its earlier runs (their exit records), for metrics */
        enum state_phase phase;       /* as last written to its intent record */
        /* What of its intent a berthd of another boot reads (unit_save_intent_phase),
         * as last written with fsync: a write that changes none of it (the
         * phase of a start, starting then running) is not synced again. */
        uint64_t intent_synced_hash;
        bool intent_synced;
        uint64_t backoff_until_rt;    /* U_BACKOFF: when it starts again, CLOCK_REALTIME */
};

struct event_rec {
        uint64_t realtime_usec;
        char *name;
        char *event;
        char *detail;
};

struct manager {
        sd_event *event;
        /* during one reload's apply_plan: a JSON array of the new containers
         * it creates without starting them (Reload's "hold": an import that
         * restores one from its checkpoint next), or NULL */
        json_object *reload_hold;
        struct netwatch *netwatch; /* our bridges deleted by someone else */
        struct machine_bus *machines; /* systemd-machined; its bus opened at the first use */
        struct manager_options o;
        char *containers_dir;
        struct spec_set set;
        struct config_cache *conf_cache; /* the parses of o.conf_dir's files, between loads */
        struct spec_network **networks_up; /* bridges we manage, as last applied */
        char net_owner[NET_OWNER_MAX];     /* marks our bridges, veths, cgroups (from the state directory) */
        size_t n_networks_up;
        struct unit **units;
        size_t n_units;
        struct nameidx *units_by_name; /* units by name (nameidx.h), as many as units */
        struct control_server *control;
        sd_event_source *dispatch_src; /* deferred: manager_dispatch_soon() */
        sd_event_source *snapshot_timer; /* scheduled snapshots (supervise_snapshot.c) */
        /* The scheduler's dependency graph of m->units (order.h), kept
         * between dispatches; NULL after manager_order_changed(). */
        struct order_graph *order_graph;
        size_t max_spawners; /* starts whose spawner has not reported yet, at most */
        struct cgroup_manager *cgroup_cache; /* unit_cgroup_manager()'s (cgroup_manager_of_cached) */
        unsigned cgroup_cache_gen;           /* bumped when cgroup_cache is replaced */
        struct state_last_good *last_good;   /* what STATE/last-good's generations hold (state.h) */
        /* Sets up command probes and makes their sockets (exec.h), forked
         * early; another when it is gone (supervise_health.c). */
        struct exec_spawner *spawner;
        /* The default seccomp program's cache entry (runtime_files.c) is
         * there for these capability sets (caps_add, caps_drop): compiled
         * once by berthd, not by each of 100 spawners of a first boot. */
        uint64_t seccomp_warm[8][2];
        size_t n_seccomp_warm;
        sd_event_source *spawner_src;
        char boot_id[40];                    /* this boot's, read once ("" when unreadable) */
        int low_fds[8];                      /* kept free for libnftables: see nat_call() */
        bool nat_clean;                      /* our NAT table is known to be absent */
        bool shutting_down, ready;
        struct event_rec events[EVENTS_KEPT];
        size_t n_events, events_head;
        uint64_t events_seq;
        struct journal journal; /* the events on disk, across restarts */
        char nat_table[32]; /* "berth", or per run dir for a private instance */
        size_t definition_errors; /* in the directory's files, last time they were read */
        bool on_last_good;        /* running the last valid set (STATE/last-good), not the files */
        size_t vanished;          /* ... because the definitions of this many running containers vanished */
        struct tbuilds *tbuilds;  /* declarative templates and their build worker (supervise_tbuild.c) */
        /* --metrics-listen (supervise_metrics.c): the server, the counters
         * only it reports. */
        struct metrics_server *metrics;
        uint64_t reloads_applied, reloads_refused;
        struct metrics_histogram start_seconds; /* launch to the spawner's report */
};


/* supervise_control.c */
void on_call(void *userdata, struct control_conn *c, const char *method, json_object *params, bool more);

/* supervise.c */
const char *unit_shown_state(struct unit *u);
/* Dies as kill -9 would when BERTH_CRASH_AT names this point (crashpoint.h). */
void crash_point(struct manager *m, const char *name);
uint64_t now_realtime(void);
usec_t now_mono(struct manager *m);
json_object *event_json(const struct event_rec *e);
void emit(struct manager *m, const char *name, const char *event, const char *fmt, ...) _printf_(4, 5);
struct unit *unit_find(struct manager *m, const char *name);
struct unit *unit_add(struct manager *m, const char *name);
void health_stop(struct unit *u);
void unit_forget(struct manager *m, struct unit *u);
char *unit_dir(struct manager *m, const char *name);
void unit_set_spec(struct unit *u, const struct spec_container *c);
void set_timer(struct unit *u, usec_t delay, sd_event_time_handler_t cb);
void notify_status(struct manager *m);
void nat_sync(struct manager *m);
/* supervise_net.c: watching (and healing) our bridges; the host-port check
 * of definitions (hostports.h), FILE:LINE errors into d, their number. */
int manager_net_watch(struct manager *m);
size_t manager_net_check(const struct spec_set *set, struct diag *d);
bool manager_busy(struct manager *m);
json_object *reload_failures(struct manager *m, uint64_t seq);
struct order_unit *order_view(struct manager *m);
/* A unit was added or removed, or a unit's spec (names, start-order,
 * after, requires) may have changed: the scheduler rebuilds its graph. */
void manager_order_changed(struct manager *m);
/* The scheduler (start/stop decisions, READY=1, reload completion, the end
 * of shutdown), once, after the current event handlers. */
void manager_dispatch_soon(struct manager *m);

/* supervise_snapshot.c: the Snapshot and Restore methods, the schedule */
void method_snapshot(struct manager *m, struct control_conn *c, json_object *params);
void method_restore(struct manager *m, struct control_conn *c, json_object *params);
void method_checkpoint(struct manager *m, struct control_conn *c, json_object *params);
/* start --from-checkpoint TAG: whether u can be restored from it (why
 * not into why); on true, u's next start restores it. */
bool unit_set_restore(struct unit *u, const char *tag, char *why, size_t size);
int manager_snapshot_schedule(struct manager *m);
void unit_layer_free(struct unit *u);

/* supervise_tbuild.c: declarative templates (tbuild.h) built by a worker.
 * sync: after the set changed (startup, reload): what needs a build, the
 * worker started or cancelled. wait: whether u's start waits for the first
 * build of its template (sets u->waiting_for). */
void manager_templates_sync(struct manager *m);
bool manager_template_wait(struct manager *m, struct unit *u);
json_object *manager_templates_plan(struct manager *m, const struct spec_set *next);
json_object *manager_template_json(struct manager *m, const char *name);
void manager_templates_free(struct manager *m);

/* supervise_health.c */
bool unit_frozen(struct unit *u);
/* The cgroup manager of u's running container (m->cgroup_cache; NULL when
 * not running or unreadable). Owned by the manager. */
struct cgroup_manager *unit_cgroup_manager(struct unit *u);
void health_begin(struct unit *u);
/* The health check in force: the definition's block, else the image's. */
const struct spec_health *unit_health(const struct unit *u);
/* Reads the image's Healthcheck again (after a start or a reload). */
void unit_image_health_load(struct unit *u);
void health_follow_spec(struct unit *u);
/* The probes' spawner, made (again) when there is none or it is gone;
 * NULL when it cannot be made (probes then set up in berthd itself). */
struct exec_spawner *manager_spawner(struct manager *m);
void manager_spawner_free(struct manager *m);

/* supervise_reload.c */
/* config_load_dir of o.conf_dir through m->conf_cache (made at the first use;
 * without it, uncached). */
int manager_load_conf(struct manager *m, struct spec_set *set, struct diag *d);
int make_plan(struct manager *m, struct spec_set *ret_set, struct plan *ret_plan, json_object **ret_errors);
void save_last_good(struct manager *m);
bool reload_needs_force(struct manager *m, const struct plan *p, char *why, size_t size);
void apply_plan(struct manager *m, struct spec_set *next, const struct plan *p);
void adopt(struct manager *m, const char *name);

/* supervise_metrics.c: the start latency histogram's buckets */
void manager_metrics_init(struct manager *m);

/* supervise_unit.c */
/* Writes the unit's intent record (state.h) durably: the phase its state
 * says, or the one given. Before the action it announces. */
void unit_save_intent(struct unit *u);
void unit_save_intent_phase(struct unit *u, enum state_phase phase);
/* An exit seen (status, shell style; -1 unknown): kept in the intent, then
 * the records removed, then the restart policy applied. */
void unit_exit_seen(struct unit *u, int status);
/* Registers the running container with systemd-machined, or forgets it
 * (machine.h); only containers in a systemd scope of their own. */
void unit_machine_register(struct unit *u);
void unit_machine_unregister(struct unit *u);
void unit_exited(struct unit *u, int status, const char *why);
void monitor_gone(struct unit *u);
int on_monitor_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata);
void stop_requirers(struct manager *m, struct unit *u, const char *why);
void unit_start_now(struct unit *u);
/* stateful-stop, at berthd's shutdown: true when u's checkpoint began in
 * place of its stop (it is U_STOPPING until the worker ends); false when
 * it is stopped as usual (the reason emitted when it wanted one). */
bool unit_stateful_begin(struct unit *u);
/* At a start: the pending stateful checkpoint, if any, becomes the
 * restore of this start (u->restore_tag, u->stateful_restore), or is
 * dropped with the reason emitted (the start is cold). */
void unit_stateful_pick(struct unit *u);
/* At an exit of u: true when it was the end of an orphaned checkpoint at
 * shutdown (see stateful_orphan_until) and u is to be started cold. */
bool unit_stateful_orphan_exit(struct unit *u);
/* STATE/snapshots/NAME/.stateful: "TAG RESTART_HASH\n" of the checkpoint
 * the next start restores. */
char *unit_stateful_path(struct manager *m, const char *name);
/* Removes the record (durably); the checkpoint itself too when tag. */
void unit_stateful_drop(struct manager *m, const char *name, const char *tag);
/* At startup: the containers whose checkpoint at shutdown a dead berthd
 * began (STATE/snapshots/NAME/.stateful-pending): started cold when their
 * processes are gone, no record was made and they autostart. */
void manager_stateful_recover(struct manager *m);
int on_pending_timer(sd_event_source *s, uint64_t usec, void *userdata);
void unit_request_start(struct unit *u);
int unit_init_pidfd(struct unit *u);
int unit_refind_init(struct unit *u);
void unit_stop_now(struct unit *u);
void unit_request_stop(struct unit *u);
