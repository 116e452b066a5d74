/* Owns the birth of one container: clone with its namespaces, the
 * parent↔child synchronisation, the child's setup sequence (mounts,
 * cgroup join, hostname, user, workdir, confinement) and the exec of the
 * workload, with berth's minimal init as PID 1 when asked. It reads no
 * definition: the caller hands in one self-contained spawn_params, with
 * its cgroup placement, id maps and confinement as prepared data, and does
 * its own parent-side work in one hook. Errors in the child reach the
 * parent as a message on the sync socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "mounts.h"
#include "spawn_msg.h"
#include "util.h"

#define SPAWN_MAX_FDS UTIL_MAX_FDS

struct security_caps;    /* security.h */
struct security_seccomp;

/* When the caller's hook runs, in the parent, always in this order. */
enum spawn_phase {
        /* The child exists (id maps written) and waits: plumb what it needs
         * before it builds its mounts. */
        SPAWN_PHASE_CREATED,
        /* The child builds its mounts; it waits before it creates its
         * cgroup namespace for the descriptors the hook hands it
         * (spawn_params.join_cgroup: files through which the child moves
         * itself into its cgroup, e.g. v1 tasks files). Only with
         * spawn_params.going. */
        SPAWN_PHASE_GOING,
        /* The child finishes its set-up (confinement, exec) on another
         * CPU: work that must be done before spawn_container() returns. */
        SPAWN_PHASE_STARTED,
};

/* What the hook hands the child at SPAWN_PHASE_GOING (spawn closes them
 * once sent). On failure the hook leaves n_fds 0. */
struct spawn_handoff {
        int fds[SPAWN_MAX_FDS];
        size_t n_fds;
};

struct spawn_params {
        struct mounts_plan mounts;
        char *const *argv;   /* the workload's command */
        char *const *envp;   /* its environment */
        const char *hostname;
        const char *user;    /* "uid[:gid]" or "name[:group]" in the container; NULL: root */
        const char *workdir; /* NULL: / */
        bool home_from_user; /* HOME from the user's passwd entry replaces envp's */
        bool init;           /* berth-init as PID 1, the workload its child */
        bool new_netns;      /* a network namespace of its own (else the host's) */
        bool tty;            /* give the workload a pty from the container's devpts */
        int stdio[3];        /* the workload's 0, 1, 2 when !tty */
        int cgroup_fd;       /* a cgroup dirfd for clone3's CLONE_INTO_CGROUP, or -1 */
        bool userns;         /* a user namespace with these id maps */
        uid_t idmap_uid;
        gid_t idmap_gid;
        uint32_t idmap_count;
        /* Set on the child by the parent before it runs anything of its
         * set-up: its init and workload inherit them. */
        const struct spec_rlimit *rlimits;
        size_t n_rlimits;
        bool kill_on_parent_death; /* foreground runs: the container dies with us */
        /* A sealed memfd copy of berth-init (sbin/berth-init.c): the child
         * replaces itself with it as the container's init, and the workload's
         * process with it just before the workload's exec, so that no process
         * in the container is the caller's binary once container code runs
         * (CVE-2019-5736). Close-on-exec; the caller keeps and closes it. */
        int init_exe_fd;
        /* Applied in the child as its last steps (in init before it forks
         * the workload): capabilities, the switch to the user, no_new_privs,
         * seccomp. The caller keeps them alive until spawn returns. */
        const struct security_caps *caps;
        const struct security_seccomp *seccomp;

        bool going; /* run SPAWN_PHASE_GOING (and the child waits for it) */
        /* The caller's parent-side work at each phase (optional). handoff
         * is non-NULL at SPAWN_PHASE_GOING only. 0 or -errno with e set;
         * a failure fails the start. */
        int (*hook)(void *userdata, enum spawn_phase phase, pid_t pid, struct spawn_handoff *handoff,
                    struct error *e);
        void *userdata;
};

struct spawn_result {
        pid_t pid;       /* the container's PID 1, in our namespace */
        int pidfd;       /* owns the child; -1 if the kernel has no CLONE_PIDFD */
        int pty_master;  /* with tty: the master side, else -1 */
        int exit_code;   /* on failure: 125/126/127 */
};

/* Starts the container; returns once the workload has exec'd (0) or setup
 * failed (-errno, e and result->exit_code set; the child has been reaped).
 * On success the caller owns pid/pidfd/pty_master. */
int spawn_container(const struct spawn_params *p, struct spawn_result *result, struct error *e);

/* Resolves "uid[:gid]" or "name[:group]" in the current root's /etc/passwd
 * and /etc/group (numeric ids need no entry). No allocation: usable
 * between fork and exec. 0, -ESRCH (user unknown), -ENXIO (group unknown). */
int spawn_resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid, char *home, size_t homelen);

/* In a container's child after pivot_root/setns: chdir to workdir resolved
 * inside the root without magic links, refusing a cwd outside it. No
 * allocation. 0, or -errno with the reason in e. */
int spawn_enter_workdir(const char *workdir, struct error *e);

/* In a child between clone and exec: reports e (exit code code) on the
 * sync socket sock as a SPAWN_MSG_ERROR and exits with code. The message
 * is fmt, then ": strerror(-r)" when r < 0. No allocation. */
_Noreturn void spawn_child_fail(int sock, int code, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Exit status as a shell reports it: code, or 128+signal. */
int spawn_exit_status(int wait_status);
