/* Owns running one more process inside a running container (berthctl exec,
 * health probes): joins the namespaces of its init through a verified
 * pidfd, its cgroup, and the container's confinement, then execs. Never
 * logs; errors come back in a struct error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"


struct exec_spawner;

struct exec_target {
        const char *name;                  /* the container (its cgroup is berth/NAME) */
        pid_t init_pid;                    /* its init, from the state record */
        uint64_t init_start;               /* /proc starttime of the init, checked */
        const struct spec_container *spec; /* user, workdir, env, caps, seccomp */
        const char *state_dir;             /* its record: the confinement it was started with */
        const int *init_exe;               /* a shared runtime_init_exe() copy, or NULL: one per call */
        /* Optional: a child killed by exec_session_free() that has not exited
         * a few ms later (a frozen cgroup, a dying PID namespace) is handed to
         * this instead of waited for: berthd's event loop reaps it then. */
        void (*reap_later)(void *userdata, pid_t pid);
        void *reap_userdata;
        /* Optional (berthd's probes): health probes run in this spawner
         * (exec_spawner_run, below), not in the caller. */
        struct exec_spawner *spawner;
};

struct exec_opts {
        bool tty;              /* a pty from the container's devpts; master into *ret_pty_master */
        int *ret_pty_master;   /* with tty */
        const char *user;      /* "uid[:gid]" or a name, overrides the spec's user */
        const char *workdir;   /* overrides the spec's workdir */
        char *const *env;      /* K=V added to (or replacing in) the environment */
        int stdio[3];          /* the process's 0, 1, 2 without tty (-1: an empty pipe / closed) */
        unsigned timeout_ms;   /* exec_spawn: set-up deadline; 0 = EXEC_SETUP_TIMEOUT_MS */
        const int *signal_fd;  /* exec_spawn: a signalfd; SIGINT, SIGTERM, SIGHUP or SIGQUIT read
                                * from it during the set-up cancel it (-EINTR). Optional. */
};

#define EXEC_SETUP_TIMEOUT_MS 10000

/* The set-up of one process, driven without blocking (health probes on
 * berthd's event loop): nothing the container does (stopping the process,
 * a FIFO for /etc/passwd) can make the caller wait. The process is
 * prepared and confined outside the container's PID namespace; only a
 * confined process with no host fd enters it (see exec.c). */
struct exec_session;

/* Forks and starts the set-up; never waits on the container. 0 and *ret,
 * or -errno with e set (as exec_spawn). */
int exec_session_start(const struct exec_target *t, char *const argv[], char *const envp[],
                       const struct exec_opts *o, struct exec_session **ret, struct error *e);
/* An fd that becomes readable when exec_session_step() has work. */
int exec_session_fd(const struct exec_session *s);
/* Non-blocking. 0: still setting up; 1: the workload exec'd (take it);
 * -errno with e set: it failed (as exec_spawn). */
int exec_session_step(struct exec_session *s, struct error *e);
/* After step returned 1: the workload (the caller's child, leading its own
 * session), a pidfd (-1 without pidfd_open) and with tty the pty master. */
void exec_session_take(struct exec_session *s, pid_t *ret_pid, int *ret_pidfd, int *ret_pty);
/* Kills and reaps whatever was not taken (or hands it to t->reap_later).
 * NULL-safe, returns NULL. */
struct exec_session *exec_session_free(struct exec_session *s);

/* exec_session_* to the end, waiting at most o->timeout_ms.
 * Starts argv inside container t (PATH search inside the container). envp
 * NULL → the container's environment (runtime_build_env) plus o->env.
 * The process leads a session and process group of its own, is a child of
 * the caller (waitid/waitpid on it), and *ret_pidfd (may be -1 on kernels
 * without pidfd_open) is owned by the caller. Returns once it exec'd: 0, or
 * -errno with e set (exec_exit_code() maps it to 125/126/127):
 *   -ESRCH   the container is not running (init gone or recycled pid)
 *   -EBUSY   the container is frozen (125)
 *   -ENOENT  the command does not exist in the container (127)
 *   -EACCES  the command cannot be executed (126)
 *   -EINVAL  setup inside the container failed (125, e says where)
 *   -ETIMEDOUT, -EINTR  the deadline passed, or a signal on o->signal_fd. */
int exec_spawn(const struct exec_target *t, char *const argv[], char *const envp[], const struct exec_opts *o,
               pid_t *ret_pid, int *ret_pidfd, struct error *e);

/* The exit code a shell tool reports for an exec_spawn() failure. */
int exec_exit_code(int r);

/* The spawner: a small long-lived child of the caller (berthd forks it
 * early, while it is small) that runs health probes' commands to their
 * end: the host's side of the set-up (verified pidfd, cgroup,
 * confinement, rlimits), the intermediate and the workload as its own
 * children, their wait, the kill of what the probe left in its group, the
 * reaping; the caller's loop neither forks, nor waits, nor reaps. It also
 * makes sockets in a container's network namespace (tcp/http probes)
 * without a process. Set-ups one at a time; nothing it does waits on a
 * container. init_exe_fd: the berth-init copy it executes (it keeps a dup). */
int exec_spawner_new(int init_exe_fd, const char *state_dir, struct exec_spawner **ret);
/* Closes its socket (it exits), reaps it. NULL-safe, returns NULL. */
struct exec_spawner *exec_spawner_free(struct exec_spawner *sp);
/* Watch for EPOLLIN: the spawner's end. */
int exec_spawner_fd(const struct exec_spawner *sp);
/* Notices its end. Non-blocking. */
void exec_spawner_handle(struct exec_spawner *sp);
/* The spawner is gone (or refused a request): free it, make another. */
bool exec_spawner_dead(const struct exec_spawner *sp);
/* Runs argv in container t (as exec_spawn, environment: the container's
 * plus o->env; no tty) to its end in the spawner; its stdio are o->stdio.
 * *ret_fd (owned by the caller) becomes readable when the answer is in:
 * then exec_spawner_run_result(). Closing *ret_fd before cancels the
 * run: the spawner kills its processes and reaps them. 0, or -errno with
 * e set. */
int exec_spawner_run(struct exec_spawner *sp, const struct exec_target *t, char *const argv[],
                     const struct exec_opts *o, int *ret_fd, struct error *e);
/* 0: not yet; 1: the command ran, *ret_status its exit status (0-255,
 * 128 + a signal); -errno with e set: it did not run (exec_spawn's codes:
 * -ENOENT not found, -EACCES not executable, others the set-up). */
int exec_spawner_run_result(int fd, int *ret_status, struct error *e);
/* Kills process group pgid (and pidfd's process) and, bounded, the
 * members of container NAME's cgroup (init_pid's base) that left the
 * group but not the session. cache: a kept manager or NULL; *cache_gen
 * is bumped when it was replaced (may be NULL). */
struct cgroup_manager;
void exec_kill_group(pid_t pgid, int pidfd, pid_t init_pid, const char *name, struct cgroup_manager **cache,
                     unsigned *cache_gen);
/* Asks for a TCP socket (SOCK_NONBLOCK | SOCK_CLOEXEC) made in the network
 * namespace of the init (pid, start verified). *ret_fd: readable once the
 * answer is in (owned by the caller); then exec_spawner_socket_take(). */
int exec_spawner_socket_request(struct exec_spawner *sp, pid_t init_pid, uint64_t init_start, int *ret_fd);
/* 0 and *ret_sock; -EAGAIN: not yet; -ESRCH: the container is not
 * running; other -errno: it failed. */
int exec_spawner_socket_take(int fd, int *ret_sock);
