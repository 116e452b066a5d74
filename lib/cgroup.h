/* Owns the cgroups of containers: <own cgroup>/berth/<name> in every hierarchy,
 * their limits, device policy, freezing, killing and statistics, on cgroup v1
 * and v2. This is the dispatcher: the backend (cgroup_v1.c, cgroup_v2.c, one
 * ops table each, cgroup_backend.h) is chosen once when a manager is opened;
 * nothing outside the backends depends on which it is. Never forks, never
 * logs, never writes to a cgroup outside its own subtree.
 *
 * Layout and the v2 no-internal-process rule:
 *   v2: the base B is the process's own cgroup, or its parent when the own
 *       cgroup is named "supervisor" (systemd DelegateSubgroup=supervisor, or
 *       after cgroup_manager_claim()). Containers live in B/berth/<name>;
 *       B/berth has the controllers enabled in its subtree_control. B itself
 *       needs them enabled too, which the kernel allows only when B holds no
 *       processes (or is the root): berthd therefore runs with Delegate=yes
 *       and either DelegateSubgroup=supervisor, or calls cgroup_manager_claim()
 *       at start-up, which moves every process of B into B/supervisor (B is
 *       delegated: all its processes are berthd's service) and enables the
 *       controllers in B. Tools (berthctl stats) never claim.
 *   v1: B is the own cgroup in each controller hierarchy mounted from
 *       /proc/self/mountinfo; containers live in B/berth/<name> per hierarchy.
 *       Named hierarchies (name=systemd) are left alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct cgroup_manager;
struct cgroup;

/* Detects the cgroup layout: cgroup2 at /sys/fs/cgroup → v2, otherwise the v1
 * controller mounts (a hybrid host with an empty unified hierarchy is v1).
 * Reads only. -ENOMEDIUM when no usable cgroup file system is mounted. */
int cgroup_open_manager(struct cgroup_manager **ret);
struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m);
/* The manager whose base holds container name, as seen from process pid
 * (a process inside it): for tools that act on a container another process
 * started. Never claims. */
int cgroup_open_manager_of(pid_t pid, const char *name, struct cgroup_manager **ret);
/* cgroup_open_manager_of() for many containers in a row: *cache (NULL at
 * first, the caller frees it) is kept while PID's B is the one it was made
 * for, else replaced; so a run over containers of one berthd reads the
 * mount table once. 0 (kept), 1 (replaced) or -errno (*cache unchanged). */
int cgroup_manager_of_cached(pid_t pid, const char *name, struct cgroup_manager **cache);
/* cgroup_is_frozen() of B/berth/<name> without opening the cgroup: one
 * read of the freezer's file. 0 when it or the freezer does not exist. */
int cgroup_name_is_frozen(const struct cgroup_manager *m, const char *name);
static inline void cgroup_manager_freep(struct cgroup_manager **m)
{
        cgroup_manager_free(*m);
}
/* 1 or 2: for choices about the host (systemd scopes need v2). Acting on a
 * cgroup never needs it: the manager dispatches to its backend. */
int cgroup_manager_version(const struct cgroup_manager *m);
/* Controllers berth uses that this host lacks, comma separated ("cpuset, io"),
 * or "" when none: the caller logs it once. Valid while m lives. */
const char *cgroup_manager_missing(const struct cgroup_manager *m);
/* Absolute directory of the base cgroup B (v2), or of the memory (else first)
 * hierarchy's base (v1). Valid while m lives. */
const char *cgroup_manager_base(const struct cgroup_manager *m);
/* v2 only (no-op on v1): takes over the delegated own cgroup as described
 * above. Call once, from berthd only. */
int cgroup_manager_claim(struct cgroup_manager *m);

/* Creates B/berth/<name> in every hierarchy. -EEXIST when it already exists
 * (adopt it with cgroup_open_existing or remove it), -EBUSY on v2 when B holds
 * processes and was not claimed, -EINVAL for a bad name. */
/* The cgroups m creates from now on are marked as owner's (the xattr
 * CGROUP_OWNER_XATTR on the directory), and cgroup_prepare never takes over
 * a leftover another owner marked: two berthds whose containers share a
 * base cgroup never kill each other's. */
void cgroup_manager_set_owner(struct cgroup_manager *m, const char *owner);
#define CGROUP_OWNER_XATTR "trusted.berth.owner"
/* 0 when cg is m's owner's, unmarked (made before owners, or the file
 * system keeps no xattrs) or m has no owner; -EPERM when another owner
 * marked it. */
int cgroup_owned(const struct cgroup *cg);
int cgroup_create(struct cgroup_manager *m, const char *name, struct cgroup **ret);
/* Opens an existing B/berth/<name>; -ENOENT when it does not exist. */
int cgroup_open_existing(struct cgroup_manager *m, const char *name, struct cgroup **ret);
/* Frees the handle only; the cgroup stays. NULL-safe, returns NULL. */
struct cgroup *cgroup_free(struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **cg)
{
        cgroup_free(*cg);
}
const char *cgroup_name(const struct cgroup *cg);
/* Directory of the cgroup (v2), or of its memory (else first) hierarchy (v1). */
const char *cgroup_path(const struct cgroup *cg);

/* Applies every limit (0 = unlimited / kernel default). All or nothing: on a
 * kernel refusal the values written so far are restored, e (may be NULL)
 * receives "limits.<key>: <reason>" and the -errno is returned. Returns 1
 * when some key is not supported by this host and was skipped (e's
 * message says which, its code stays 0; the caller logs it as a
 * warning), 0 otherwise. */
int cgroup_apply_limits(struct cgroup *cg, const struct spec_limits *l, struct error *e);
/* One more device the container may use (device blocks, lib/devices.h). */
#define CGROUP_DEV_MKNOD 1u /* the bits of BPF_DEVCG_ACC_* */
#define CGROUP_DEV_READ 2u
#define CGROUP_DEV_WRITE 4u
#define CGROUP_DEVICES_MAX 64
struct cgroup_device_rule {
        char type; /* 'c' or 'b' */
        uint32_t major, minor;
        unsigned access; /* CGROUP_DEV_* */
};
/* Denies every device except null, zero, full, random, urandom, tty, console,
 * ptmx and pts, and the n extra rules (v1 devices.deny/allow, v2 a
 * BPF_CGROUP_DEVICE program). On v2 a cgroup that already has a device
 * program keeps it. -E2BIG for more than CGROUP_DEVICES_MAX rules. */
int cgroup_apply_devices(struct cgroup *cg, const struct cgroup_device_rule *extra, size_t n);

/* Moves pid (all its threads) into the cgroup in every hierarchy. */
int cgroup_attach(struct cgroup *cg, pid_t pid);

/* How a process about to be born gets into its cgroup, as cgroup_prepare()
 * hands it to the code that clones it. Which of the two a backend uses is
 * its own business; callers pass both on:
 *   clone_into_fd: a cgroup directory fd for clone3's CLONE_INTO_CGROUP
 *       (borrowed from the cgroup: valid while it lives), or -1;
 *   join_fds: files the new process writes "0" to, itself, with
 *       cgroup_join_self() (owned by the placement). A thread that moves
 *       itself skips the global lock a move of another process takes,
 *       whose RCU grace period costs 0.5-10 ms per start; the opener's
 *       credentials are what the kernel checks. */
#define CGROUP_JOIN_MAX 8 /* at most one per v1 hierarchy berth uses */
struct cgroup_placement {
        int clone_into_fd;
        int join_fds[CGROUP_JOIN_MAX];
        size_t n_join_fds;
};
#define CGROUP_PLACEMENT_INIT {.clone_into_fd = -1, .n_join_fds = 0}
/* Closes the join fds still owned; the placement is empty afterwards. */
void cgroup_placement_done(struct cgroup_placement *p);

/* true when the process must be born into its cgroup: then cgroup_prepare()
 * has to run before the clone. Otherwise it may run while the new process
 * sets itself up (in parallel), and the process joins afterwards. */
bool cgroup_manager_places_at_clone(const struct cgroup_manager *m);

/* Makes the cgroup of container name ready for its first process:
 * B/berth/<name>, claiming the base first when the backend refuses to
 * create below a base that holds processes (cgroup_manager_claim), and
 * replacing a leftover of the same name (its processes killed, awaited at
 * most 2 s, removed); then limits and device rules, then the placement.
 * On failure e says what failed, without the container's name, and
 * nothing made here is left (the cgroup is removed again). *ret_cg is owned
 * by the caller; remove it with cgroup_remove() when the container ends. */
int cgroup_prepare(struct cgroup_manager *m, const char *name, const struct spec_limits *l,
                   const struct cgroup_device_rule *devices, size_t n_devices, struct cgroup **ret_cg,
                   struct cgroup_placement *ret_place, struct error *e);
/* The placement of an existing cgroup, for one more process (berthctl exec,
 * health probes): the same as cgroup_prepare() hands a container's first. */
int cgroup_place(struct cgroup *cg, struct cgroup_placement *ret_place);
/* Writes "0" (the calling thread) to each fd. No allocation: usable
 * between clone and exec. 0 or -errno. */
int cgroup_join_self(const int *fds, size_t n);

/* Freeze / thaw and wait (at most 5 s) until the kernel reports it done;
 * -ETIMEDOUT otherwise, -EOPNOTSUPP without a freezer. */
int cgroup_freeze(struct cgroup *cg);
int cgroup_thaw(struct cgroup *cg);
/* 1 when the cgroup is frozen (or being frozen), 0 when thawed or without
 * a freezer. A process moved into a frozen cgroup stops at once. */
int cgroup_is_frozen(struct cgroup *cg);
/* Sends sig to every process of the cgroup and its descendants: v2
 * cgroup.kill for SIGKILL, otherwise freeze, signal every pid, thaw, so a
 * forking process cannot escape. Does not wait for them to exit. */
int cgroup_kill_all(struct cgroup *cg, int sig);

/* 1 when no process is left in the cgroup or below it, 0 otherwise. */
int cgroup_is_empty(struct cgroup *cg);
/* Waits until empty: 0, or -ETIMEDOUT after timeout microseconds. */
int cgroup_wait_empty(struct cgroup *cg, usec_t timeout);

#define CGROUP_STAT_UNKNOWN UINT64_MAX
/* Every field is CGROUP_STAT_UNKNOWN when the host does not provide it. */
struct cgroup_stats {
        uint64_t memory_current, memory_peak; /* bytes */
        uint64_t memory_limit, pids_limit;    /* UNKNOWN also when there is none */
        uint64_t cpu_usage_ns;
        uint64_t pids_current;
        uint64_t io_read_bytes, io_write_bytes;
        uint64_t oom_kills;
};
int cgroup_stats(struct cgroup *cg, struct cgroup_stats *ret);
/* Pids of the cgroup and its descendants; *ret is malloc()ed (may be NULL
 * when *n is 0). */
int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *n);

/* Removes B/berth/<name> (and cgroups the container made below it) in every
 * hierarchy, then B/berth when it became empty. Never anything else. -EBUSY
 * while processes remain. The handle stays valid for cgroup_free only. */
int cgroup_remove(struct cgroup *cg);
