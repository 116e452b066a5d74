/* Owns the birth of one container: clone with its namespaces, the
 * parent↔child synchronisation, the child's setup sequence (mounts,
 * hostname, user, confinement) and the exec of the workload, with berth's
 * minimal init as PID 1 when asked. It knows nothing of cgroups, networks
 * or security policy: the caller hands those in as prepared data and
 * hooks. Errors in the child reach the parent as a message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mounts.h"
#include "spec.h"

#include "spawn_msg.h"
#include "util.h"

#define SPAWN_MAX_FDS UTIL_MAX_FDS

struct spawn_params {
        const struct spec_container *spec;
        struct mounts_plan mounts;
        char *const *argv;   /* the workload's command */
        char *const *envp;   /* its environment (HOME is fixed up for the user) */
        const char *hostname;
        bool tty;            /* give the workload a pty from the container's devpts */
        int stdio[3];        /* the workload's 0, 1, 2 when !tty */
        int cgroup_fd;       /* a cgroup dirfd for clone3's CLONE_INTO_CGROUP, or -1 */
        bool userns;
        bool kill_on_parent_death; /* foreground runs: the container dies with us */
        /* A sealed memfd copy of berth-init (sbin/berth-init.c): the child
         * replaces itself with it as the container's init, and the workload's
         * process with it just before the workload's exec, so that no process
         * in the container is the caller's binary once container code runs
         * (CVE-2019-5736). Close-on-exec; the caller keeps and closes it. */
        int init_exe_fd;

        /* Parent side, once the child exists and before it goes on: write
         * id maps, plumb its network. */
        int (*parent_hook)(void *userdata, pid_t pid, char *err, size_t errlen);
        /* Parent side, right after the child was told to go on, while it
         * builds its mounts: work that must be done before the child leaves
         * its set-up (creates its cgroup namespace, confines itself, runs
         * the workload), such as making its v1 cgroups and its network. The
         * child waits for it between the two. It may hand the child up to
         * SPAWN_MAX_FDS descriptors (set *n_fds; spawn closes them after
         * sending): the child passes them to join_hook, then closes them.
         * On failure it leaves *n_fds 0. Optional: without it, no wait. */
        int (*going_hook)(void *userdata, pid_t pid, int *fds, size_t *n_fds, char *err, size_t errlen);
        /* Parent side, after going_hook, while the child finishes its
         * set-up (confinement, exec) on another CPU: work that must be done
         * before spawn_container() returns but need not precede the child's
         * set-up. A failure fails the start. Optional. */
        int (*started_hook)(void *userdata, pid_t pid, char *err, size_t errlen);
        /* Child side, last step before execve (and in init after it forked
         * the workload): capabilities, the switch to uid/gid, no_new_privs,
         * seccomp — in that order. Must not allocate. */
        int (*confine_hook)(const void *data, uid_t uid, gid_t gid);
        /* Child side, in a workload forked by an init that confine_hook
         * already confined: only the switch to uid/gid. */
        int (*ids_hook)(const void *data, uid_t uid, gid_t gid);
        /* Child side, right after the going_hook's word, before it creates
         * its cgroup namespace: takes the descriptors the going_hook handed
         * (the caller's placement: e.g. files through which the child moves
         * itself into its cgroup). Must not allocate. Optional. */
        int (*join_hook)(const void *data, const int *fds, size_t n_fds);
        void *userdata;
        const void *confine_data;
};

struct spawn_result {
        pid_t pid;       /* the container's PID 1, in our namespace */
        int pidfd;       /* owns the child; -1 if the kernel has no CLONE_PIDFD */
        int pty_master;  /* with tty: the master side, else -1 */
        int exit_code;   /* on failure: 125/126/127 */
        char error[SPAWN_ERROR_MAX + 32];
};

/* Starts the container; returns once the workload has exec'd (0) or setup
 * failed (-errno, result->error and result->exit_code set; the child has
 * been reaped). On success the caller owns pid/pidfd/pty_master. */
int spawn_container(const struct spawn_params *p, struct spawn_result *result);

/* Resolves "uid[:gid]" or "name[:group]" in the current root's /etc/passwd
 * and /etc/group (numeric ids need no entry). No allocation: usable
 * between fork and exec. 0, -ESRCH (user unknown), -ENXIO (group unknown). */
int spawn_resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid, char *home, size_t homelen);

/* In a container's child after pivot_root/setns: chdir to workdir resolved
 * inside the root without magic links, refusing a cwd outside it. No
 * allocation. 0, or -errno with the reason in err. */
int spawn_enter_workdir(const char *workdir, char *err, size_t errlen);

/* Exit status as a shell reports it: code, or 128+signal. */
int spawn_exit_status(int wait_status);
