/* Owns one container's life on this host from its spec: root file system
 * (template overlay or directory), its directory under the state dir, its
 * cgroup, its network, its confinement, then spawn; and the removal of all
 * of it afterwards. Used by `berthctl run` in the foreground and by the
 * per-container monitor under berthd. Logs nothing: errors come back in a
 * struct error for the caller to show. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "security.h"
#include "spawn.h"
#include "spec.h"

struct runtime_opts {
        const char *state_dir; /* /var/lib/berth */
        const char *run_dir;   /* /run/berth */
        char *const *command;  /* overrides the spec's command when set */
        bool tty;
        bool foreground;       /* the container dies with the caller */
        bool ephemeral;        /* remove the upper layer when done (berthctl run) */
        int stdio[3];
        const int *init_exe;   /* a shared runtime_init_exe() copy, or NULL: one per start */
        /* berthd's read-only copy of berth-init (runtime_init_share), or
         * NULL: an init = true container's init runs from its bind at
         * RUNTIME_INIT_TARGET (checkpointable), else from init_exe. */
        const char *init_file;
        const char *restore_images; /* start from a checkpoint: its CRIU images (criu.h), else NULL */
};

struct runtime_container {
        char *name;
        char *dir;      /* <state>/containers/NAME */
        int lock_fd;    /* held while the container exists */
        pid_t pid;
        int pidfd;
        int pty_master;
        bool ephemeral;
        struct runtime_internal *in; /* cgroup, network, security data */
};

/* Where berth-init is: $BERTH_INIT, else beside the running program (the
 * build tree), else the compiled-in SBINDIR. */
const char *runtime_init_path(void);

/* A sealed memfd copy of berth-init (security_sealed_memfd): what a
 * container's processes become. One copy serves any number of containers
 * (berthd makes one at start): its pages are then shared page cache, and
 * the seals keep every container from writing to it (CVE-2019-5736).
 * 0 or -errno with e set. */
int runtime_init_exe(int *ret, struct error *e);

/* berthd's one copy of berth-init that containers' inits run from, a
 * file CRIU can restore as a program (a memfd it cannot): RUN_DIR/init, a
 * small tmpfs whose superblock is read-only once the binary is written,
 * mounted private. Each container gets a read-only bind of the file at
 * RUNTIME_INIT_TARGET in its /dev. An earlier copy there is detached
 * first. *ret: the file's path (freed by the caller). */
#define RUNTIME_INIT_NAME "berth-init"
#define RUNTIME_INIT_TARGET "/dev/.berth-init"
int runtime_init_share(const char *run_dir, char **ret, struct error *e);
/* Unmounts it (berthd's exit): running containers keep their binds. */
void runtime_init_unshare(const char *file);

/* Creates and starts the container. On failure e says why in one line
 * ("container 'web': mount 'data': source '/srv': ..."), *exit_code is
 * 125/126/127, and nothing is left behind. */
int runtime_start(const struct spec_set *set, const struct spec_container *c, const struct runtime_opts *o,
                  struct runtime_container **ret, int *exit_code, struct error *e);

/* After the container's init has exited: kill what is left in its cgroup,
 * remove cgroup, network, mounts and (when ephemeral) its directory. */
void runtime_destroy(struct runtime_container *rc);

/* The container's cgroup directory (v2, or v1's memory hierarchy), or NULL. */
const char *runtime_cgroup_path(const struct runtime_container *rc);

/* berthd, after a container's init exited (or was found dead): removes
 * what lives outside the container's namespaces — its host veth, its
 * cgroup. Keeps its directory and address. Whether the OOM killer struck
 * is the monitor's to say (monitor.h), not this. */
void runtime_cleanup(const char *state_dir, const char *name);

/* Applies c's limits to the running cgroup of its init init_pid: 0, 1
 * (something skipped: e's message says what, its code is 0) or -errno (e
 * says why; the old limits stay). */
int runtime_update_limits(const struct spec_container *c, pid_t init_pid, struct error *e);

/* berthctl destroy: the directory of a container no definition names any
 * more (writable layer, logs, records), its project quota and its address
 * on any network. -EBUSY when something holds its lock (it runs). 0 or -errno. */
int runtime_delete_data(const char *state_dir, const char *name);

/* The address c holds on its network as recorded in STATE/networks (for a
 * container re-adopted without its state record). 0, -ENOENT or -errno. */
int runtime_recorded_address(const char *state_dir, const struct spec_container *c, char buf[INET_ADDRSTRLEN]);
/* The same for the container name on network (its eth0's or an extra
 * interface's). */
int runtime_recorded_address_on(const char *state_dir, const char *network, const char *name,
                                char buf[INET_ADDRSTRLEN]);

/* The address a bridged container got (after runtime_start), or INADDR_ANY. */
struct in_addr runtime_address(const struct runtime_container *rc);

/* Signals the container's init through its pidfd. */
int runtime_signal(struct runtime_container *rc, int sig);

/* The environment a container's processes start with: PATH, HOME,
 * HOSTNAME, container=berth, TERM with a tty, then its image's Env (NULL:
 * none), then the definition's env (each replacing earlier entries of the
 * same name). NULL on allocation failure. */
char **runtime_build_env(const struct spec_container *c, const char *hostname, bool tty, char *const *image_env);

/* The seccomp program for c with capabilities caps: the default profile
 * or c's profile file, cached in <state_dir>/cache (state_dir NULL: built
 * every time). A profile file is compiled only when its content is what
 * was validated at load (c->seccomp_profile_digest). On failure e says why
 * ("seccomp: /etc/berth/strict.json: syscalls[3].action: ..."), without
 * the container's name. */
int runtime_seccomp_prepare(const char *state_dir, const struct spec_container *c, const struct security_caps *caps,
                            struct security_seccomp *out, struct error *e);
