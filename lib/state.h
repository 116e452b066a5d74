/* Owns the run-time record of each container on disk (<state>/containers/
 * NAME/state, beside its exit record and confinement), written atomically so that a berthd that crashed at any
 * moment can be followed by one that re-adopts every container. A process
 * is identified by pid + start time + boot id, never by a bare pid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "security.h"
#include "spec.h"

/* The layout of the state directory (STATE, berthd's --state-dir):
 *   STATE/containers/NAME/   one per container: state, exit, confinement,
 *                            console.log, its writable layer, its lock,
 *                            id, log-driver, log-dropped
 *   STATE/networks/          the networks' address allocations
 *   STATE/idmap/             ranges: the id block of each idmap = "auto"
 *                            container; copies/: shifted template copies
 *                            (idmap.h); NAME/idmap says what a start used
 *   STATE/last-good/         the definitions last applied (below)
 *   STATE/layers/sha256/DIFFID/  one unpacked image layer (an overlayfs
 *                            lower directory), shared by every image that has
 *                            it; .tmp-* beside them are imports under way
 *   STATE/images/NAME        an imported image: its layers and config (image.c)
 *   STATE/tbuild/NAME.log    the last build of a declarative template; .tmp-*
 *                            beside them are builds under way (tbuild.h)
 * Spelled out here only; everyone else asks these functions. */
#define STATE_CONTAINERS "containers"
#define STATE_NETWORKS "networks"
#define STATE_IDMAP "idmap"
#define STATE_LAYERS "layers"
#define STATE_IMAGES "images"
/* STATE/containers, STATE/networks, STATE/containers/NAME and
 * STATE/containers/NAME/FILE: new strings, NULL when out of memory. */
char *state_containers_dir(const char *state_dir);
char *state_networks_dir(const char *state_dir);
char *state_idmap_dir(const char *state_dir); /* STATE/idmap */
char *state_container_dir(const char *state_dir, const char *name);
char *state_container_file(const char *state_dir, const char *name, const char *file);
/* STATE/containers/NAME into buf: 0, or -ENAMETOOLONG. */
int state_container_dir_buf(const char *state_dir, const char *name, char *buf, size_t size);

struct state_record {
        pid_t monitor_pid;
        uint64_t monitor_start; /* /proc/PID/stat starttime, clock ticks since boot */
        pid_t init_pid;
        uint64_t init_start;
        char boot_id[40];
        uint64_t started_realtime_usec;
        uint32_t restarts;
        char restart_hash[SPEC_HASH_LEN], live_hash[SPEC_HASH_LEN], supervise_hash[SPEC_HASH_LEN];
        char address[16]; /* dotted quad or empty */
};

/* What berthd means to do with a container, in DIR/intent: written durably
 * (temp file, fsync, rename, directory fsync) *before* the action it
 * announces, so that a berthd that died at any step is followed by one
 * that finishes or undoes it. Phases: */
enum state_phase {
        STATE_PHASE_STOPPED,  /* not running, nothing pending (autostart decides) */
        STATE_PHASE_STARTING, /* a start was asked for; the container may not run yet */
        STATE_PHASE_RUNNING,
        STATE_PHASE_STOPPING, /* a stop was asked for: a new berthd finishes it */
        STATE_PHASE_ENDED,    /* its exit was seen (last_status), its restart policy not yet applied */
        STATE_PHASE_EXITED,   /* ended on its own; its policy left it stopped (this boot) */
        STATE_PHASE_BACKOFF,  /* to be started again at backoff_until_usec (CLOCK_REALTIME) */
        STATE_PHASE_FAILED,
        _STATE_PHASE_MAX,
};
#define STATE_RESTART_TIMES_MAX 64

struct state_intent {
        char boot_id[40];          /* the boot the phase and the budget belong to */
        enum state_phase phase;
        bool operator_stopped;     /* berthctl stop (or an orphan): never started by autostart */
        bool restart_after_stop;   /* the stop under way is a restart */
        int last_status;           /* shell style; -1: none known */
        bool last_oom;
        uint64_t backoff_until_usec;
        uint32_t restarts, consecutive;
        uint64_t restart_times[STATE_RESTART_TIMES_MAX]; /* CLOCK_MONOTONIC usec: this boot only */
        size_t n_restart_times;
        char last_error[256];      /* one line */
};

const char *state_phase_to_string(enum state_phase p);
int state_write_intent(const char *dir, const struct state_intent *i);
/* -ENOENT without one; -EBADMSG for one that is not whole (then nothing of
 * it is used: a berthd acts on what runs and on the definitions). */
int state_read_intent(const char *dir, struct state_intent *i);
int state_parse_intent(const char *text, size_t len, struct state_intent *i);

/* Writes DIR/state atomically (a rename). durable: file and directory are
 * fsync'd too, for berthd's records, which must survive a crash of the
 * machine; a foreground run's record names a process that dies with its
 * berthctl, so it skips the syncs (0.7-1 ms idle, several under I/O load):
 * after a crash the boot id marks it stale either way. */
int state_write(const char *dir, const struct state_record *r, bool durable);
/* -EBADMSG for a record that is not whole (empty, truncated, a field that
 * does not parse): such a record says nothing, and is never a reason to
 * kill or restart anything. */
int state_read(const char *dir, struct state_record *r);
int state_parse(const char *text, size_t len, struct state_record *r);

/* The running monitor of the container in dir, found without its record:
 * the process in our PID namespace (no container process is) whose argv
 * is "berth-monitor DIR INIT_PID ..." with DIR the same directory, and
 * whose child is INIT_PID. Fills pids, start times and boot id (no hashes, no
 * address). 0, or -ESRCH when none runs. */
int state_find_monitor(const char *dir, struct state_record *r);

/* Whether something holds the lock of the container directory dir (its
 * monitor does as long as the container runs): cheap, no /proc scan. */
bool state_dir_locked(const char *dir);

/* "Last known good": the definition files berthd last applied, which a
 * berthd that starts with invalid definitions runs with. STATE/last-good
 * is a symbolic link to one of two generation directories, last-good.a and
 * last-good.b. A save brings the other one to the new set, writing only
 * the files that differ from what it held and removing the ones gone,
 * syncs it, and renames a new link over STATE/last-good: at every instant
 * the link names a whole set that was applied. The bytes saved are the
 * bytes config_load_dir() parsed (spec_set.sources): nothing is read again
 * from a directory an operator may be editing. An older berthd's plain
 * last-good/ directory is exchanged for the link at the first save.
 * *cache (NULL at first; state_last_good_free) keeps what the two
 * directories hold between saves: 1 written, 0 it held that set already,
 * -errno. */
#define STATE_LAST_GOOD "last-good"
struct state_def {
        const char *name; /* a file name in the definition directory */
        const char *text;
        size_t len;
};
struct state_last_good;
int state_last_good_save(const char *state_dir, const struct state_def *defs, size_t n, size_t max_size,
                         struct state_last_good **cache);
void state_last_good_free(struct state_last_good *c);
char *state_definitions_dir(const char *state_dir); /* STATE/last-good, a new string */

/* Field 22 of /proc/PID/stat. -ESRCH when the process is gone. */
int state_proc_starttime(pid_t pid, uint64_t *ret);
int state_boot_id(char buf[40]);

/* The container's id, DIR/id: 32 lowercase hex digits (128 random bits),
 * made at its first start and kept until its directory is removed
 * (berthctl destroy). The journal's CONTAINER_ID, machined's machine id.
 * create: make it when missing. 0, -ENOENT (missing, !create) or -errno. */
int state_container_id(const char *dir, bool create, char id[33]);

/* What DIR/log-driver says the container's current (or last) start used:
 * "journald" or "file" (also when the file is missing: older starts). */
bool state_log_journald(const char *dir);

/* A pidfd for pid if it is still the process that started at start:
 * opened first, checked after, so a recycled pid can never slip between. */
int state_pidfd_verified(pid_t pid, uint64_t start, int *ret);

/* The exit the monitor recorded: 0 and status (shell style), -ENOENT if none.
 * realtime_usec and oom_kills (OOM kills the monitor saw in the container's
 * cgroup) may be NULL; absent fields read 0. */
int state_read_exit(const char *dir, int *status, uint64_t *realtime_usec, uint64_t *oom_kills);

/* The confinement a container's processes were started with, in
 * DIR/confinement: its capability sets and the exact seccomp program its
 * init applied (none for "unconfined"). berthctl exec and health probes
 * apply this record, never a definition edited since (which takes effect
 * at the next start). Written before the container starts. 0 or -errno;
 * read: -EBADMSG for a record that is not one, the program owned by s. */
int state_write_confinement(const char *dir, const struct security_caps *caps, const struct security_seccomp *s);
int state_read_confinement(const char *dir, struct security_caps *caps, struct security_seccomp *s);
