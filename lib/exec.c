#include "exec.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "config.h"
#include "mounts.h"
#include "runtime.h"
#include "security.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum { MSG_GO = 1, MSG_ERROR, MSG_PTY, MSG_PID };

struct exec_msg {
        int32_t type;
        int32_t code;  /* MSG_ERROR: the exit code the child uses */
        int32_t pid;   /* MSG_PID: the workload, in our PID namespace */
        char text[EXEC_ERROR_MAX - 48];
};

/* Everything the children need, prepared by the parent before fork: from
 * fork to execve nothing is allocated. */
struct exec_child {
        int sock;
        int init_pidfd;
        int ns_flags;
        bool userns;
        bool tty;
        int stdio[3];
        bool home_from_user; /* HOME follows the user's passwd entry */
        const char *user;
        const char *workdir;
        char *const *argv;
        char **envp;
        struct security_caps caps;
        struct security_seccomp seccomp;
};

/* ---- children: no allocation ------------------------------------------------ */

static _Noreturn void child_fail(int sock, int code, int err, const char *fmt, ...) _printf_(4, 5);
static _Noreturn void child_fail(int sock, int code, int err, const char *fmt, ...)
{
        struct exec_msg m = { .type = MSG_ERROR, .code = code };
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(m.text, sizeof m.text, fmt, ap);
        va_end(ap);
        if (err && k >= 0 && (size_t) k < sizeof m.text)
                snprintf(m.text + k, sizeof m.text - (size_t) k, ": %s", strerror(err < 0 ? -err : err));
        (void) send(sock, &m, sizeof m, MSG_NOSIGNAL);
        _exit(code);
}

static void child_stdio(const struct exec_child *c)
{
        if (c->tty) {
                /* A pty of the container's own devpts, never the host's
                 * (CVE-2017-5226 class); the master goes to the caller. */
                int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot allocate a pty in the container");
                char name[64];
                if (ptsname_r(master, name, sizeof name) != 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "ptsname");
                int slave = open(name, O_RDWR | O_CLOEXEC);
                if (slave < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot open %s", name);
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot take the pty as terminal");
                struct exec_msg m = { .type = MSG_PTY };
                int r = send_with_fd(c->sock, &m, sizeof m, master);
                if (r < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, r, "cannot pass the pty");
                close(master);
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "dup2");
                if (slave > 2)
                        close(slave);
                return;
        }
        /* Above 2 first, so that any mapping of the caller's fds works. */
        int tmp[3];
        for (int fd = 0; fd < 3; fd++) {
                tmp[fd] = c->stdio[fd] >= 0 ? fcntl(c->stdio[fd], F_DUPFD_CLOEXEC, 3)
                                            : open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                if (tmp[fd] < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot set up fd %d", fd);
        }
        for (int fd = 0; fd < 3; fd++)
                if (dup2(tmp[fd], fd) < 0)
                        child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "dup2");
}

static void child_chdir(int sock, const char *workdir)
{
        char err[400];
        if (spawn_enter_workdir(workdir, err, sizeof err) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", err);
}

/* Inside every namespace, a child of the caller: becomes the workload. */
static _Noreturn void workload_main(const struct exec_child *c)
{
        int sock = c->sock;
        /* Own session and process group: a probe's whole tree is killed as one. */
        if (setsid() < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "setsid");
        child_stdio(c);

        char home[512] = "";
        uid_t uid = 0;
        gid_t gid = 0;
        if (c->user) {
                int r = spawn_resolve_user(c->user, &uid, &gid, home, sizeof home);
                if (r == -ESRCH)
                        child_fail(sock, SPAWN_EXIT_SETUP, 0, "user '%.*s' is not in the container's /etc/passwd",
                                   (int) strcspn(c->user, ":"), c->user);
                if (r < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, 0, "group '%s' is not in the container's /etc/group",
                                   strchr(c->user, ':') ? strchr(c->user, ':') + 1 : "");
        }
        child_chdir(sock, c->workdir);
        char home_env[520];
        if (c->home_from_user && home[0]) {
                snprintf(home_env, sizeof home_env, "HOME=%s", home);
                for (size_t i = 0; c->envp[i]; i++)
                        if (strncmp(c->envp[i], "HOME=", 5) == 0)
                                c->envp[i] = home_env;
        }

        int r = security_caps_apply(&c->caps);
        gid_t groups[1] = { gid };
        if (r >= 0)
                r = security_set_ids(&c->caps, uid, gid, groups, 1);
        if (r >= 0)
                r = security_no_new_privs();
        if (r >= 0)
                r = security_seccomp_apply(&c->seccomp);
        if (r < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot confine the process");
        /* Only 0-2 survive the exec (CVE-2016-9962 class). */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "close_range");

        const char *path = NULL;
        for (size_t i = 0; c->envp[i]; i++)
                if (strncmp(c->envp[i], "PATH=", 5) == 0)
                        path = c->envp[i] + 5;
        const char *cmd = c->argv[0];
        if (strchr(cmd, '/'))
                execve(cmd, c->argv, c->envp);
        else {
                int saved = ENOENT;
                for (const char *s = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
                     *s;) {
                        const char *e = strchrnul(s, ':');
                        char full[4096];
                        snprintf(full, sizeof full, "%.*s/%s", (int) (e - s), s, cmd);
                        execve(full, c->argv, c->envp);
                        if (errno != ENOENT && errno != ENOTDIR)
                                saved = errno;
                        s = *e ? e + 1 : e;
                }
                errno = saved;
        }
        int e = errno;
        child_fail(sock, e == ENOENT || e == ENOTDIR ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC, e,
                   "cannot execute '%s' in the container", cmd);
}

/* Forked by the caller: enters the namespaces, then forks the workload as
 * the caller's child (CLONE_PARENT), so that it is really inside the PID
 * namespace and the caller can wait for it. */
static _Noreturn void intermediate_main(struct exec_child *c)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Ignored signals would survive the exec. */
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) sigaction(s, &dfl, NULL);
        /* Nothing in the container may open or ptrace us before the exec. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        struct exec_msg m;
        if (recv(c->sock, &m, sizeof m, 0) != (ssize_t) sizeof m || m.type != MSG_GO)
                _exit(SPAWN_EXIT_SETUP); /* the caller gave up and knows why */
        /* The caller moved us into the container's cgroup: joining its
         * cgroup namespace now makes that our root, as for its init. */
        if (setns(c->init_pidfd, c->ns_flags) < 0)
                child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot join the container's namespaces");
        close(c->init_pidfd);
        if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot become root in the user namespace");
        pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) CLONE_PARENT, NULL, NULL, NULL, NULL);
        if (pid < 0)
                child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot fork inside the container");
        if (pid == 0)
                workload_main(c);
        struct exec_msg pm = { .type = MSG_PID, .pid = pid };
        if (send_with_fd(c->sock, &pm, sizeof pm, -1) < 0) {
                (void) kill(pid, SIGKILL);
                _exit(SPAWN_EXIT_SETUP);
        }
        _exit(0);
}

/* ---- parent -------------------------------------------------------------------- */

static int failf(char *err, size_t n, int r, const char *fmt, ...) _printf_(4, 5);
static int failf(char *err, size_t n, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(err, n, fmt, ap);
        va_end(ap);
        if (r < 0 && k >= 0 && (size_t) k < n)
                snprintf(err + k, n - (size_t) k, ": %s", strerror(-r));
        /* The codes that mean "the command" are reserved for the child's. */
        if (r == -ENOENT || r == -EACCES || r >= 0)
                return -EIO;
        return r;
}

int exec_exit_code(int r)
{
        if (r == -ENOENT)
                return SPAWN_EXIT_NOTFOUND;
        if (r == -EACCES)
                return SPAWN_EXIT_NOEXEC;
        return SPAWN_EXIT_SETUP;
}

static bool same_ns(pid_t pid, const char *ns)
{
        char path[64];
        struct stat a, b;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns);
        if (stat(path, &a) < 0)
                return true;
        snprintf(path, sizeof path, "/proc/self/ns/%s", ns);
        if (stat(path, &b) < 0)
                return true;
        return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void reap(pid_t pid)
{
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* Adds or replaces K=V entries. */
static int env_merge(char ***env, char *const *add)
{
        for (size_t i = 0; add && add[i]; i++) {
                if (!strchr(add[i], '='))
                        return -EINVAL;
                size_t klen = strcspn(add[i], "=") + 1;
                size_t j = 0;
                for (; (*env)[j]; j++)
                        if (strncmp((*env)[j], add[i], klen) == 0)
                                break;
                if ((*env)[j]) {
                        char *dup = strdup(add[i]);
                        if (!dup)
                                return -ENOMEM;
                        free((*env)[j]);
                        (*env)[j] = dup;
                } else if (strv_push(env, add[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool env_has(char *const *env, const char *key)
{
        size_t l = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, l) == 0 && env[i][l] == '=')
                        return true;
        return false;
}

int exec_spawn(const struct exec_target *t, char *const argv[], char *const envp[], const struct exec_opts *o,
               pid_t *ret_pid, int *ret_pidfd, char *err, size_t n)
{
        const struct spec_container *spec = t->spec;
        *ret_pid = -1;
        *ret_pidfd = -1;
        if (o->tty && o->ret_pty_master)
                *o->ret_pty_master = -1;
        if (!argv || !argv[0] || !argv[0][0])
                return failf(err, n, -EINVAL, "no command");

        _cleanup_close_ int initfd = -1;
        if (state_pidfd_verified(t->init_pid, t->init_start, &initfd) < 0)
                return failf(err, n, -ESRCH, "container '%s' is not running", t->name);

        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        int r = cgroup_open_manager_of(t->init_pid, t->name, &m);
        if (r >= 0)
                r = cgroup_open_existing(m, t->name, &cg);
        if (r < 0)
                return failf(err, n, r, "container '%s': cannot open its cgroup", t->name);
        /* Our child would stop in it as soon as attached, and we would wait
         * for it for as long as the container stays frozen. */
        if (cgroup_is_frozen(cg) > 0) {
                snprintf(err, n, "container '%s' is frozen", t->name);
                return -EBUSY;
        }

        struct exec_child c = {
                .init_pidfd = initfd,
                .ns_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP,
                .tty = o->tty,
                .stdio = { o->stdio[0], o->stdio[1], o->stdio[2] },
                .user = o->user ? o->user : spec->user,
                .workdir = o->workdir ? o->workdir : (spec->workdir ? spec->workdir : "/"),
                .argv = argv,
        };
        /* setns() into the user namespace we are already in is EINVAL. */
        if (!same_ns(t->init_pid, "user")) {
                c.ns_flags |= CLONE_NEWUSER;
                c.userns = true;
        }
        r = security_caps_prepare(spec, &c.caps);
        if (r < 0)
                return failf(err, n, r, "cannot read the kernel's capabilities");
        r = runtime_seccomp_prepare(t->state_dir, spec, &c.caps, &c.seccomp, err, n);
        if (r < 0)
                return r;

        _cleanup_strv_free_ char **env = envp ? strv_copy(envp)
                                              : runtime_build_env(spec, spec->hostname ? spec->hostname : spec->name,
                                                                  o->tty);
        if (!env) {
                security_seccomp_done(&c.seccomp);
                return failf(err, n, -ENOMEM, "environment");
        }
        c.home_from_user = !envp && !env_has(spec->env, "HOME") && !env_has(o->env, "HOME");
        r = env_merge(&env, o->env);
        if (r < 0) {
                security_seccomp_done(&c.seccomp);
                return failf(err, n, r, "environment: entries must be K=V");
        }
        if (strv_length(env) > CONFIG_ENV_MAX) {
                security_seccomp_done(&c.seccomp);
                return failf(err, n, -E2BIG, "environment: more than %d entries", CONFIG_ENV_MAX);
        }
        c.envp = env;

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = -errno;
                security_seccomp_done(&c.seccomp);
                return failf(err, n, r, "socketpair");
        }
        pid_t child = fork();
        if (child < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                security_seccomp_done(&c.seccomp);
                return failf(err, n, r, "fork");
        }
        if (child == 0) {
                close(sv[0]);
                c.sock = sv[1];
                intermediate_main(&c);
        }
        close(sv[1]);
        int sock = sv[0];
        security_seccomp_done(&c.seccomp);

        /* Into the container's cgroup before it joins the cgroup namespace. */
        r = cgroup_attach(cg, child);
        if (r < 0)
                r = failf(err, n, r, "container '%s': cannot join its cgroup", t->name);
        else {
                struct exec_msg go = { .type = MSG_GO };
                if (send(sock, &go, sizeof go, MSG_NOSIGNAL) < 0)
                        r = failf(err, n, -errno, "cannot start the process");
        }
        pid_t workload = -1;
        int pty = -1;
        /* Until the workload exec'd (or failed) and the intermediate exited,
         * messages come: its pid, the pty, an error. EOF: it is running. */
        while (r >= 0) {
                struct exec_msg msg;
                int fd = -1;
                int k = recv_with_fd(sock, &msg, sizeof msg, &fd);
                if (k <= 0) {
                        if (k < 0)
                                r = failf(err, n, k, "sync");
                        break;
                }
                msg.text[sizeof msg.text - 1] = 0;
                if (msg.type == MSG_PID)
                        workload = msg.pid;
                else if (msg.type == MSG_PTY && fd >= 0) {
                        if (pty >= 0)
                                close(pty);
                        pty = TAKE_FD(fd);
                } else if (msg.type == MSG_ERROR) {
                        snprintf(err, n, "%s", msg.text);
                        r = msg.code == SPAWN_EXIT_NOTFOUND ? -ENOENT
                            : msg.code == SPAWN_EXIT_NOEXEC ? -EACCES
                                                            : -EINVAL;
                }
                if (fd >= 0)
                        close(fd);
        }
        close(sock);
        if (r < 0)
                (void) kill(child, SIGKILL);
        int st = 0;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        if (r >= 0 && (workload <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
                r = failf(err, n, -ECHILD, "cannot enter container '%s'", t->name);
        if (r >= 0 && o->tty && pty < 0)
                r = failf(err, n, -EPROTO, "no pty from the container");
        if (r < 0) {
                if (workload > 0) {
                        (void) kill(workload, SIGKILL);
                        reap(workload);
                }
                if (pty >= 0)
                        close(pty);
                return r;
        }
        /* Our child (CLONE_PARENT), not reaped until we wait: the pid is ours. */
        int pidfd = (int) syscall(SYS_pidfd_open, workload, 0);
        *ret_pid = workload;
        *ret_pidfd = pidfd;
        if (o->tty && o->ret_pty_master)
                *o->ret_pty_master = pty;
        else if (pty >= 0)
                close(pty);
        return 0;
}
