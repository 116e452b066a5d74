#include "spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- child side: no allocation from here on ---------------------------- */

static _Noreturn void child_fail(int sock, int code, int err, const char *fmt, ...) _printf_(4, 5);
static _Noreturn void child_fail(int sock, int code, int err, const char *fmt, ...)
{
        struct spawn_msg m = { .type = SPAWN_MSG_ERROR, .code = code };
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(m.text, sizeof m.text, fmt, ap);
        va_end(ap);
        if (err && k >= 0 && (size_t) k < sizeof m.text)
                snprintf(m.text + k, sizeof m.text - (size_t) k, ": %s", strerror(err < 0 ? -err : err));
        (void) send(sock, &m, sizeof m, MSG_NOSIGNAL);
        _exit(code);
}

/* Looks name (or a number) up in the root's /etc/passwd or /etc/group.
 * Fills id (and, for passwd, gid and home). 0, -ENOENT, -EINVAL. */
static int lookup_db(const char *file, const char *name, uint32_t *id, uint32_t *gid, char *home, size_t homelen)
{
        char buf[65536];
        /* The container owns this file: a FIFO or a device there must not
         * block us (O_NONBLOCK) or be read (only a regular file is). */
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 0)
                return -EIO;
        buf[n] = 0;
        bool numeric = name[0] && strspn(name, "0123456789") == strlen(name);
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *f[7] = { 0 };
                int nf = 0;
                for (char *p = line; nf < 7; nf++) {
                        f[nf] = p;
                        p = strchr(p, ':');
                        if (!p) {
                                nf++;
                                break;
                        }
                        *p++ = 0;
                }
                if (nf >= 3 && f[2][0]) {
                        bool match = numeric ? streq(f[2], name) : streq(f[0], name);
                        if (match) {
                                *id = (uint32_t) strtoul(f[2], NULL, 10);
                                if (gid && nf >= 4)
                                        *gid = (uint32_t) strtoul(f[3], NULL, 10);
                                if (home && nf >= 6)
                                        snprintf(home, homelen, "%s", f[5]);
                                return 0;
                        }
                }
                line = next;
        }
        return -ENOENT;
}

int spawn_resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid, char *home, size_t homelen)
{
        char u[64], g[64] = "";
        snprintf(u, sizeof u, "%s", user);
        char *colon = strchr(u, ':');
        if (colon) {
                snprintf(g, sizeof g, "%s", colon + 1);
                *colon = 0;
        }
        uint32_t uid = 0, gid = 0;
        bool u_numeric = strspn(u, "0123456789") == strlen(u);
        if (home && homelen)
                home[0] = 0;
        if (lookup_db("/etc/passwd", u, &uid, &gid, home, homelen) < 0) {
                if (!u_numeric)
                        return -ESRCH;
                uid = (uint32_t) strtoul(u, NULL, 10);
                gid = uid;
        }
        if (g[0] && lookup_db("/etc/group", g, &gid, NULL, NULL, 0) < 0) {
                if (strspn(g, "0123456789") != strlen(g))
                        return -ENXIO;
                gid = (uint32_t) strtoul(g, NULL, 10);
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

/* The switch itself is the confine hook's, after it dropped capabilities. */
static void child_resolve_user(int sock, const char *user, char *home, size_t homelen, uid_t *ret_uid,
                               gid_t *ret_gid)
{
        int r = spawn_resolve_user(user, ret_uid, ret_gid, home, homelen);
        if (r == -ESRCH)
                child_fail(sock, SPAWN_EXIT_SETUP, 0, "user '%.*s' is not in the container's /etc/passwd",
                           (int) strcspn(user, ":"), user);
        if (r < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, 0, "group '%s' is not in the container's /etc/group",
                           strchr(user, ':') ? strchr(user, ':') + 1 : "");
}

int spawn_enter_workdir(const char *workdir, char *err, size_t n)
{
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = root < 0 ? -errno : mounts_open_in_root(root, workdir, O_PATH | O_DIRECTORY, false);
        if (root >= 0)
                close(root);
        if (fd < 0) {
                snprintf(err, n, "workdir '%s': %s", workdir, strerror(-fd));
                return fd;
        }
        if (fchdir(fd) < 0) {
                int r = -errno;
                close(fd);
                snprintf(err, n, "cannot enter workdir '%s': %s", workdir, strerror(-r));
                return r;
        }
        close(fd);
        /* A directory outside the root reads as "(unreachable)..." (CVE-2024-21626). */
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/') {
                snprintf(err, n, "workdir '%s' is outside the container", workdir);
                return -EXDEV;
        }
        return 0;
}

static void child_chdir(int sock, const char *workdir)
{
        char err[SPAWN_ERROR_MAX - 32];
        if (spawn_enter_workdir(workdir, err, sizeof err) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", err);
}

/* Executes berth-init from its sealed copy: execveat of the memfd, or
 * execve through /proc when that fails (a seccomp profile without execveat
 * in its allow-list, whatever errno it answers with). Returns on failure. */
static void exec_init(const struct spawn_params *p, char **argv, char **envp)
{
        syscall(SYS_execveat, p->init_exe_fd, "", argv, envp, AT_EMPTY_PATH);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", p->init_exe_fd);
        execve(path, argv, envp);
}

/* The workload's last steps in berth's code, then berth-init's exec mode,
 * which executes it (waiting for EOF on waitfd first, unless -1).
 * confined: the init already applied the confinement (the workload inherits
 * its capabilities, no_new_privs and seccomp filter): only switch ids. */
static void child_exec(const struct spawn_params *p, int sock, bool confined, char **exec_argv, int waitfd)
{
        char home[512] = "";
        uid_t uid = 0;
        gid_t gid = 0;
        if (p->spec->user)
                child_resolve_user(sock, p->spec->user, home, sizeof home, &uid, &gid);
        child_chdir(sock, p->spec->workdir ? p->spec->workdir : "/");

        /* HOME from the user's entry unless the definition set it. */
        char *envp[SPEC_ENV_MAX + 1];
        char home_env[520];
        size_t n = 0;
        for (size_t i = 0; p->envp && p->envp[i] && n < SPEC_ENV_MAX; i++) {
                if (home[0] && strncmp(p->envp[i], "HOME=", 5) == 0 && !p->spec->env)
                        continue;
                envp[n++] = p->envp[i];
        }
        if (home[0] && n < SPEC_ENV_MAX) {
                bool have = false;
                for (size_t i = 0; i < n; i++)
                        have |= strncmp(envp[i], "HOME=", 5) == 0;
                if (!have) {
                        snprintf(home_env, sizeof home_env, "HOME=%s", home);
                        envp[n++] = home_env;
                }
        }
        envp[n] = NULL;

        if (confined && p->ids_hook) {
                int r = p->ids_hook(p->confine_data, uid, gid);
                if (r < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot switch to user %u:%u", uid, gid);
        } else if (!confined && p->confine_hook) {
                int r = p->confine_hook(p->confine_data, uid, gid);
                if (r < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot confine the container");
        }
        /* Only 0-2 survive the exec (CVE-2016-9962 class): everything else
         * is close-on-exec, except the sync socket, which berth-init keeps
         * until the workload's exec (its failure is reported there). */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "close_range");
        if (fcntl(sock, F_SETFD, 0) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "fcntl");
        if (waitfd >= 0 && fcntl(waitfd, F_SETFD, 0) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "fcntl");
        char sockbuf[16], waitbuf[16];
        snprintf(sockbuf, sizeof sockbuf, "%d", sock);
        snprintf(waitbuf, sizeof waitbuf, "%d", waitfd);
        exec_argv[2] = sockbuf;
        exec_argv[3] = waitbuf;
        exec_init(p, exec_argv, envp);
        child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot execute berth-init");
}

static _Noreturn void child_main(const struct spawn_params *p, int sock, char **exec_argv)
{
        struct spawn_msg m;
        /* The caller may have blocked signals for its signalfd: the
         * container starts with none blocked. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (p->kill_on_parent_death)
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* Nothing in the container may open or ptrace us before we exec. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        ssize_t k = recv(sock, &m, sizeof m, 0);
        if (k != (ssize_t) sizeof m || m.type != SPAWN_MSG_GO)
                _exit(SPAWN_EXIT_SETUP); /* the parent gave up: it has the reason */
        if (p->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot become root in the user namespace");
        char err[SPAWN_ERROR_MAX - 32];
        int r = mounts_setup(&p->mounts, err, sizeof err);
        if (r < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", err);
        /* Meanwhile the parent ran its going_hook (v1 cgroups, network):
         * wait for its word, and take what it handed (join the cgroup). */
        if (p->going_hook) {
                int fds[SPAWN_MAX_FDS];
                size_t nfds = 0;
                r = recv_with_fds(sock, &m, sizeof m, fds, SPAWN_MAX_FDS, &nfds);
                if (r <= 0 || m.type != SPAWN_MSG_GO)
                        _exit(SPAWN_EXIT_SETUP);
                r = p->join_hook ? p->join_hook(p->confine_data, fds, nfds) : 0;
                if (r < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot move into the container's cgroup");
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
        }
        /* In our cgroup now: make it our cgroup root. Nothing mounted above
         * is a cgroup file system, so the mounts do not depend on it. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot create the cgroup namespace");
        if (sethostname(p->hostname, strlen(p->hostname)) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot set the hostname");
        if (setsid() < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "setsid");

        int slave = -1;
        if (p->tty) {
                /* A pty of the container's own devpts, never the host's tty
                 * (CVE-2017-5226 class); the master goes to the parent. */
                int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot allocate a pty");
                char name[64];
                if (ptsname_r(master, name, sizeof name) != 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, errno, "ptsname");
                slave = open(name, O_RDWR | O_CLOEXEC);
                if (slave < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot open %s", name);
                int cf = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (cf >= 0)
                        close(cf);
                if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot bind /dev/console");
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot take the pty as terminal");
                struct spawn_msg pm = { .type = SPAWN_MSG_PTY };
                r = send_with_fd(sock, &pm, sizeof pm, master);
                if (r < 0)
                        child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot pass the pty");
                close(master);
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                child_fail(sock, SPAWN_EXIT_SETUP, errno, "dup2");
        } else
                for (int fd = 0; fd < 3; fd++)
                        if (p->stdio[fd] != fd && dup3(p->stdio[fd], fd, 0) < 0)
                                child_fail(sock, SPAWN_EXIT_SETUP, errno, "dup2");
        if (slave > 2)
                close(slave);

        if (!p->spec->init)
                child_exec(p, sock, false, exec_argv, -1); /* the workload is PID 1 */

        /* berth's init: every signal stays blocked (queued, never lost)
         * until berth-init waits for them. */
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        /* Confine once, here: the workload inherits capabilities, no_new_privs
         * and the seccomp filter (one filter to load and JIT, not two). */
        if (p->confine_hook && (r = p->confine_hook(p->confine_data, 0, 0)) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot confine the container");
        /* The workload waits, on this pipe's EOF, until this process has
         * become berth-init and is ready (named, non-dumpable, handlers):
         * no container code runs while PID 1 is still the caller's binary. */
        int wait_pipe[2];
        if (pipe2(wait_pipe, O_CLOEXEC) < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "pipe");
        pid_t w = fork();
        if (w < 0)
                child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot fork the workload");
        if (w == 0) {
                close(wait_pipe[1]);
                /* The workload leads its own process group on the terminal.
                 * Done while every signal is still blocked: from a background
                 * group, tcsetpgrp() would otherwise stop us with SIGTTOU. */
                if (setpgid(0, 0) == 0 && p->tty)
                        (void) tcsetpgrp(0, getpid());
                struct sigaction dfl = { .sa_handler = SIG_DFL };
                for (int s = 1; s < _NSIG; s++)
                        if (s != SIGKILL && s != SIGSTOP)
                                (void) sigaction(s, &dfl, NULL);
                sigprocmask(SIG_SETMASK, &none, NULL);
                child_exec(p, sock, true, exec_argv, wait_pipe[0]);
        }
        close(wait_pipe[0]);
        /* PID 1 holds neither the terminal nor the caller's pipes, nor any
         * fd its caller leaked without close-on-exec (a berthd or berthctl
         * started with a stray fd): only the ready pipe survives the exec. */
        for (int fd = 0; fd < 3; fd++)
                (void) close(fd);
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                int e = errno;
                (void) kill(w, SIGKILL);
                child_fail(sock, SPAWN_EXIT_SETUP, e, "close_range");
        }
        if (fcntl(wait_pipe[1], F_SETFD, 0) < 0) {
                int e = errno;
                (void) kill(w, SIGKILL);
                child_fail(sock, SPAWN_EXIT_SETUP, e, "fcntl");
        }
        char pidbuf[16], readybuf[16];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int) w);
        snprintf(readybuf, sizeof readybuf, "%d", wait_pipe[1]);
        char *init_argv[] = { "berth-init", "init", pidbuf, readybuf, NULL };
        char *init_envp[] = { NULL };
        exec_init(p, init_argv, init_envp);
        int e = errno;
        (void) kill(w, SIGKILL);
        child_fail(sock, SPAWN_EXIT_SETUP, e, "cannot execute berth-init");
}

/* ---- parent side -------------------------------------------------------- */

static pid_t do_clone(const struct spawn_params *p, int *pidfd)
{
        uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD;
        if (p->spec->net_mode != NET_HOST)
                flags |= CLONE_NEWNET;
        if (p->userns)
                flags |= CLONE_NEWUSER;
        struct clone_args a = {
                .flags = flags,
                .pidfd = (uint64_t) (uintptr_t) pidfd,
                .exit_signal = SIGCHLD,
        };
        if (p->cgroup_fd >= 0) {
                a.flags |= CLONE_INTO_CGROUP;
                a.cgroup = (uint64_t) p->cgroup_fd;
        }
        long r = syscall(SYS_clone3, &a, sizeof a);
        if (r >= 0 || errno != ENOSYS)
                return (pid_t) r;
        /* Kernels before 5.3: plain clone, no pidfd, no CLONE_INTO_CGROUP. */
        *pidfd = -1;
        return (pid_t) syscall(SYS_clone, (unsigned long) (flags & ~(uint64_t) CLONE_PIDFD) | SIGCHLD, NULL, NULL,
                               NULL, NULL);
}

int spawn_exit_status(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

static void reap(pid_t pid)
{
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* A hook failed or the child stopped listening: when the child gave up
 * first (its set-up failed, it exited, the hook then found it gone), its
 * message says why better than ours. Takes what is already queued only. */
static void take_child_error(int sock, struct spawn_result *res)
{
        for (int i = 0; i < 4; i++) {
                struct pollfd pfd = { .fd = sock, .events = POLLIN };
                if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
                        return;
                struct spawn_msg m;
                int fd = -1;
                int k = recv_with_fd(sock, &m, sizeof m, &fd);
                if (fd >= 0)
                        close(fd);
                if (k <= 0)
                        return;
                m.text[sizeof m.text - 1] = 0;
                if (m.type == SPAWN_MSG_ERROR) {
                        snprintf(res->error, sizeof res->error, "%s", m.text);
                        res->exit_code = m.code;
                        return;
                }
        }
}

int spawn_container(const struct spawn_params *p, struct spawn_result *res)
{
        *res = (struct spawn_result){ .pid = -1, .pidfd = -1, .pty_master = -1 };
        if (p->init_exe_fd < 0) {
                res->exit_code = SPAWN_EXIT_SETUP;
                snprintf(res->error, sizeof res->error, "no berth-init to run the container with");
                return -EINVAL;
        }
        /* berth-init exec SOCKFD WAITFD -- ARGV: the child fills in the two
         * numbers (it allocates nothing). */
        size_t argc = 0;
        while (p->argv[argc])
                argc++;
        _cleanup_free_ char **exec_argv = calloc(argc + 6, sizeof *exec_argv);
        if (!exec_argv) {
                res->exit_code = SPAWN_EXIT_SETUP;
                snprintf(res->error, sizeof res->error, "out of memory");
                return -ENOMEM;
        }
        exec_argv[0] = (char *) "berth-init";
        exec_argv[1] = (char *) "exec";
        exec_argv[4] = (char *) "--";
        memcpy(exec_argv + 5, p->argv, argc * sizeof *exec_argv);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                res->exit_code = SPAWN_EXIT_SETUP;
                snprintf(res->error, sizeof res->error, "socketpair: %s", strerror(errno));
                return -errno;
        }
        int pidfd = -1;
        pid_t pid = do_clone(p, &pidfd);
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                res->exit_code = SPAWN_EXIT_SETUP;
                snprintf(res->error, sizeof res->error, "cannot create the container's namespaces: %s", strerror(e));
                return -e;
        }
        if (pid == 0) {
                close(sv[0]);
                child_main(p, sv[1], exec_argv);
        }
        close(sv[1]);
        int sock = sv[0];
        res->pid = pid;
        res->pidfd = pidfd;

        int r = 0;
        if (p->parent_hook) {
                char err[SPAWN_ERROR_MAX];
                err[0] = 0;
                r = p->parent_hook(p->userdata, pid, err, sizeof err);
                if (r < 0)
                        snprintf(res->error, sizeof res->error, "%s", err[0] ? err : strerror(-r));
        }
        if (r >= 0) {
                struct spawn_msg go = { .type = SPAWN_MSG_GO };
                if (send(sock, &go, sizeof go, MSG_NOSIGNAL) < 0) {
                        r = -errno;
                        snprintf(res->error, sizeof res->error, "cannot start the container: %s", strerror(errno));
                }
        }
        if (r >= 0 && p->going_hook) {
                char err[SPAWN_ERROR_MAX];
                err[0] = 0;
                int fds[SPAWN_MAX_FDS];
                size_t nfds = 0;
                r = p->going_hook(p->userdata, pid, fds, &nfds, err, sizeof err);
                if (r < 0)
                        snprintf(res->error, sizeof res->error, "%s", err[0] ? err : strerror(-r));
                struct spawn_msg go = { .type = SPAWN_MSG_GO };
                if (r >= 0 && (r = send_with_fds(sock, &go, sizeof go, fds, nfds)) < 0)
                        snprintf(res->error, sizeof res->error, "cannot start the container: %s", strerror(-r));
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
        }
        if (r >= 0 && p->started_hook) {
                char err[SPAWN_ERROR_MAX];
                err[0] = 0;
                r = p->started_hook(p->userdata, pid, err, sizeof err);
                if (r < 0)
                        snprintf(res->error, sizeof res->error, "%s", err[0] ? err : strerror(-r));
        }
        if (r < 0)
                take_child_error(sock, res);
        /* Until every copy of the child's end is closed by exec, the child may
         * send a pty or an error. EOF means the workload is running. */
        bool reset = false;
        while (r >= 0) {
                struct spawn_msg m;
                int fd = -1;
                int k = recv_with_fd(sock, &m, sizeof m, &fd);
                /* The child closed its end with a message of ours unread:
                 * it never got past its wait, so it did not exec. What it
                 * sent before is still queued behind the reset (reported
                 * once): read on, and fail if it said nothing. */
                if (k == -ECONNRESET && !reset) {
                        reset = true;
                        continue;
                }
                if (k == 0 && reset) {
                        r = -ECHILD;
                        snprintf(res->error, sizeof res->error, "the container's init exited during set-up");
                        break;
                }
                if (k <= 0) {
                        if (k < 0) {
                                r = k;
                                snprintf(res->error, sizeof res->error, "sync: %s", strerror(-k));
                        }
                        break;
                }
                m.text[sizeof m.text - 1] = 0;
                if (m.type == SPAWN_MSG_PTY && fd >= 0) {
                        if (res->pty_master >= 0)
                                close(res->pty_master);
                        res->pty_master = fd;
                } else if (m.type == SPAWN_MSG_ERROR) {
                        if (fd >= 0)
                                close(fd);
                        snprintf(res->error, sizeof res->error, "%s", m.text);
                        res->exit_code = m.code;
                        r = -EINVAL;
                }
        }
        close(sock);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                reap(pid);
                if (pidfd >= 0)
                        close(pidfd);
                if (res->pty_master >= 0)
                        close(res->pty_master);
                res->pid = -1;
                res->pidfd = -1;
                res->pty_master = -1;
                if (!res->exit_code)
                        res->exit_code = SPAWN_EXIT_SETUP;
                return r;
        }
        return 0;
}
