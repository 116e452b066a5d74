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

#include "cgroup.h"
#include "secrets.h"
#include "security.h"
#include "settings.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- child side: no allocation from here on ---------------------------- */

_Noreturn void spawn_child_fail(int sock, int code, int r, const char *fmt, ...)
{
        struct error e;
        va_list ap;
        va_start(ap, fmt);
        (void) error_setv(&e, r > 0 ? -r : r, fmt, ap);
        va_end(ap);
        struct spawn_msg m = { .type = SPAWN_MSG_ERROR, .code = code };
        snprintf(m.text, sizeof m.text, "%s", e.msg);
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
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, 0, "user '%.*s' is not in the container's /etc/passwd",
                                 (int) strcspn(user, ":"), user);
        if (r < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, 0, "group '%s' is not in the container's /etc/group",
                                 strchr(user, ':') ? strchr(user, ':') + 1 : "");
}

int spawn_enter_workdir(const char *workdir, struct error *e)
{
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = root < 0 ? -errno : mounts_open_in_root(root, workdir, O_PATH | O_DIRECTORY, false);
        if (root >= 0)
                close(root);
        if (fd < 0)
                return error_set(e, fd, "workdir '%s'", workdir);
        if (fchdir(fd) < 0) {
                int r = -errno;
                close(fd);
                return error_set(e, r, "cannot enter workdir '%s'", workdir);
        }
        close(fd);
        /* A directory outside the root reads as "(unreachable)..." (CVE-2024-21626). */
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
                return error_set_msg(e, -EXDEV, "workdir '%s' is outside the container", workdir);
        return 0;
}

static void child_chdir(int sock, const char *workdir)
{
        struct error e;
        if (spawn_enter_workdir(workdir, &e) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", e.msg);
}

/* Child side, last steps before execve (and in init after it forked the
 * workload): capabilities, the switch to uid/gid, no_new_privs, seccomp,
 * in that order. ids_only: the init already confined this process (the
 * workload inherits all but the ids). No allocation. */
static int confine(const struct spawn_params *p, bool ids_only, uid_t uid, gid_t gid)
{
        gid_t groups[1] = { gid };
        int r;
        if (!p->caps)
                return 0;
        if (ids_only)
                return security_set_ids(p->caps, uid, gid, groups, 1);
        if ((r = security_caps_apply(p->caps)) < 0)
                return r;
        if ((r = security_set_ids(p->caps, uid, gid, groups, 1)) < 0)
                return r;
        if ((r = security_no_new_privs()) < 0)
                return r;
        return p->seccomp ? security_seccomp_apply(p->seccomp) : 0;
}

/* Executes berth-init from fd (the sealed memfd, or the O_PATH fd of
 * berthd's read-only copy bound in /dev): execveat of it, or execve
 * through /proc when that fails (a seccomp profile without execveat in its
 * allow-list, whatever errno it answers with). Returns on failure. */
static void exec_init_fd(int fd, char **argv, char **envp)
{
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        execve(path, argv, envp);
}

static void exec_init(const struct spawn_params *p, char **argv, char **envp)
{
        exec_init_fd(p->init_exe_fd, argv, envp);
}

/* The workload's last steps in berth's code, then berth-init's exec mode,
 * which executes it (waiting for EOF on waitfd first, unless -1).
 * confined: the init already applied the confinement (the workload inherits
 * its capabilities, no_new_privs and seccomp filter): only switch ids. */
static void child_exec(const struct spawn_params *p, int sock, bool confined, char **exec_argv, char **envp,
                       int waitfd)
{
        char home[512] = "";
        uid_t uid = 0;
        gid_t gid = 0;
        if (p->user)
                child_resolve_user(sock, p->user, home, sizeof home, &uid, &gid);
        child_chdir(sock, p->workdir ? p->workdir : "/");

        /* HOME from the user's entry unless the definition set the
         * environment. envp has room for the caller's entries and one more. */
        char home_env[520];
        size_t n = 0;
        for (size_t i = 0; p->envp && p->envp[i]; i++) {
                if (home[0] && strncmp(p->envp[i], "HOME=", 5) == 0 && p->home_from_user)
                        continue;
                envp[n++] = p->envp[i];
        }
        if (home[0]) {
                bool have = false;
                for (size_t i = 0; i < n; i++)
                        have |= strncmp(envp[i], "HOME=", 5) == 0;
                if (!have) {
                        snprintf(home_env, sizeof home_env, "HOME=%s", home);
                        envp[n++] = home_env;
                }
        }
        envp[n] = NULL;

        int r = confine(p, confined, uid, gid);
        if (r < 0 && confined)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot switch to user %u:%u", uid, gid);
        if (r < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot confine the container");
        /* Only 0-2 survive the exec (CVE-2016-9962 class): everything else
         * is close-on-exec, except the sync socket, which berth-init keeps
         * until the workload's exec (its failure is reported there). */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "close_range");
        if (fcntl(sock, F_SETFD, 0) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "fcntl");
        if (waitfd >= 0 && fcntl(waitfd, F_SETFD, 0) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "fcntl");
        char sockbuf[16], waitbuf[16];
        snprintf(sockbuf, sizeof sockbuf, "%d", sock);
        snprintf(waitbuf, sizeof waitbuf, "%d", waitfd);
        exec_argv[2] = sockbuf;
        exec_argv[3] = waitbuf;
        exec_init(p, exec_argv, envp);
        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot execute berth-init");
}

static _Noreturn void child_main(const struct spawn_params *p, int sock, char **exec_argv, char **envp)
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
        int hfds[SPAWN_MAX_FDS];
        size_t nh = 0;
        int r = recv_with_fds(sock, &m, sizeof m, hfds, SPAWN_MAX_FDS, &nh);
        if (r <= 0 || m.type != SPAWN_MSG_GO)
                _exit(SPAWN_EXIT_SETUP); /* the parent gave up: it has the reason */
        if (p->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot become root in the user namespace");
        /* The mounts the parent made for us (a user namespace's root). */
        struct mounts_plan mp = p->mounts;
        int init_fd = -1; /* berthd's read-only copy, bound in /dev */
        mp.init_fd = &init_fd;
        if (!p->init)
                mp.init_file = NULL;
        mp.from_parent = nh > 0;
        mp.root_fd = nh > 0 ? hfds[0] : -1;
        size_t k = 1;
        for (size_t i = 0; i < MOUNTS_ETC_FILES; i++)
                mp.etc_fds[i] = (m.code & (1 << i)) && k < nh ? hfds[k++] : -1;
        for (mp.n_bind_fds = 0; k < nh && mp.n_bind_fds < MOUNTS_BINDS_HANDED;)
                mp.bind_fds[mp.n_bind_fds++] = hfds[k++];
        struct error merr;
        r = mounts_setup(&mp, &merr);
        if (r < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", merr.msg);
        if (p->mounts.n_secrets) { /* owned by the user, looked up in the new root */
                uid_t suid = 0;
                gid_t sgid = 0;
                char shome[512];
                if (p->user)
                        child_resolve_user(sock, p->user, shome, sizeof shome, &suid, &sgid);
                if (secrets_install(p->mounts.secrets, p->mounts.n_secrets, suid, sgid, &merr) < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, 0, "%s", merr.msg);
        }
        /* Meanwhile the parent ran its hook's going phase (v1 cgroups,
         * network): wait for its word, and move into the cgroup through
         * the files it handed. */
        if (p->going) {
                int fds[SPAWN_MAX_FDS];
                size_t nfds = 0;
                r = recv_with_fds(sock, &m, sizeof m, fds, SPAWN_MAX_FDS, &nfds);
                if (r <= 0 || m.type != SPAWN_MSG_GO)
                        _exit(SPAWN_EXIT_SETUP);
                r = nfds > 0 ? cgroup_join_self(fds, nfds) : 0;
                if (r < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot move into the container's cgroup");
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
        }
        /* In our cgroup now: make it our cgroup root. Nothing mounted above
         * is a cgroup file system, so the mounts do not depend on it. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot create the cgroup namespace");
        if (sethostname(p->hostname, strlen(p->hostname)) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot set the hostname");
        if (setsid() < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "setsid");

        int slave = -1;
        if (p->tty) {
                /* A pty of the container's own devpts, never the host's tty
                 * (CVE-2017-5226 class); the master goes to the parent. */
                int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot allocate a pty");
                char name[64];
                if (ptsname_r(master, name, sizeof name) != 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "ptsname");
                slave = open(name, O_RDWR | O_CLOEXEC);
                if (slave < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot open %s", name);
                int cf = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (cf >= 0)
                        close(cf);
                if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot bind /dev/console");
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot take the pty as terminal");
                struct spawn_msg pm = { .type = SPAWN_MSG_PTY };
                r = send_with_fd(sock, &pm, sizeof pm, master);
                if (r < 0)
                        spawn_child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot pass the pty");
                close(master);
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "dup2");
        } else
                for (int fd = 0; fd < 3; fd++)
                        if (p->stdio[fd] != fd && dup3(p->stdio[fd], fd, 0) < 0)
                                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "dup2");
        if (slave > 2)
                close(slave);

        if (!p->init)
                child_exec(p, sock, false, exec_argv, envp, -1); /* the workload is PID 1 */

        /* berth's init: every signal stays blocked (queued, never lost)
         * until berth-init waits for them. */
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        /* Confine once, here: the workload inherits capabilities, no_new_privs
         * and the seccomp filter (one filter to load and JIT, not two). */
        if ((r = confine(p, false, 0, 0)) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, r, "cannot confine the container");
        /* The workload waits, on this pipe's EOF, until this process has
         * become berth-init and is ready (named, non-dumpable, handlers):
         * no container code runs while PID 1 is still the caller's binary. */
        int wait_pipe[2];
        if (pipe2(wait_pipe, O_CLOEXEC) < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "pipe");
        pid_t w = fork();
        if (w < 0)
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, errno, "cannot fork the workload");
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
                child_exec(p, sock, true, exec_argv, envp, wait_pipe[0]);
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
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, e, "close_range");
        }
        if (fcntl(wait_pipe[1], F_SETFD, 0) < 0) {
                int e = errno;
                (void) kill(w, SIGKILL);
                spawn_child_fail(sock, SPAWN_EXIT_SETUP, e, "fcntl");
        }
        char pidbuf[16], readybuf[16];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int) w);
        snprintf(readybuf, sizeof readybuf, "%d", wait_pipe[1]);
        char *init_argv[] = { "berth-init", "init", pidbuf, readybuf, NULL };
        char *init_envp[] = { NULL };
        if (init_fd >= 0)
                exec_init_fd(init_fd, init_argv, init_envp);
        else
                exec_init(p, init_argv, init_envp);
        int e = errno;
        (void) kill(w, SIGKILL);
        spawn_child_fail(sock, SPAWN_EXIT_SETUP, e, "cannot execute berth-init");
}

/* ---- parent side -------------------------------------------------------- */

static pid_t do_clone(const struct spawn_params *p, int *pidfd)
{
        uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD;
        if (p->new_netns)
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
static void take_child_error(int sock, struct spawn_result *res, struct error *e)
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
                        (void) error_set_msg(e, -(e->code ? e->code : EINVAL), "%s", m.text);
                        res->exit_code = m.code;
                        return;
                }
        }
}

/* The caller's hook at phase, if any. */
static int run_hook(const struct spawn_params *p, enum spawn_phase phase, pid_t pid, struct spawn_handoff *h,
                    struct error *e)
{
        if (!p->hook)
                return 0;
        e->code = 0;
        e->msg[0] = 0;
        int r = p->hook(p->userdata, phase, pid, h, e);
        if (r < 0 && !error_is_set(e))
                (void) error_code(e, r);
        return r < 0 ? r : 0;
}

int spawn_container(const struct spawn_params *p, struct spawn_result *res, struct error *e)
{
        *res = (struct spawn_result){ .pid = -1, .pidfd = -1, .pty_master = -1, .exit_code = SPAWN_EXIT_SETUP };
        if (p->init_exe_fd < 0)
                return error_set(e, 0, "no berth-init to run the container with");
        /* berth-init exec SOCKFD WAITFD -- ARGV: the child fills in the two
         * numbers, and the environment in envbuf (it allocates nothing). */
        size_t argc = strv_length(p->argv), envc = strv_length(p->envp);
        _cleanup_free_ char **exec_argv = calloc(argc + 6, sizeof *exec_argv);
        _cleanup_free_ char **envbuf = calloc(envc + 2, sizeof *envbuf);
        if (!exec_argv || !envbuf)
                return error_code(e, -ENOMEM);
        exec_argv[0] = (char *) "berth-init";
        exec_argv[1] = (char *) "exec";
        exec_argv[4] = (char *) "--";
        memcpy(exec_argv + 5, p->argv, argc * sizeof *exec_argv);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set(e, -errno, "socketpair");
        int pidfd = -1;
        pid_t pid = do_clone(p, &pidfd);
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return error_set(e, r, "cannot create the container's namespaces");
        }
        if (pid == 0) {
                close(sv[0]);
                child_main(p, sv[1], exec_argv, envbuf);
        }
        close(sv[1]);
        int sock = sv[0];
        res->pid = pid;
        res->pidfd = pidfd;
        res->exit_code = 0;

        int r = 0;
        if (p->userns && p->idmap_count) {
                r = security_idmap_write(pid, p->idmap_uid, p->idmap_gid, p->idmap_count);
                if (r < 0)
                        (void) error_set(e, r, "cannot write the user namespace id maps");
        }
        if (r >= 0 && p->n_rlimits)
                r = settings_apply_rlimits(pid, p->rlimits, p->n_rlimits, e);
        if (r >= 0) {
                struct spawn_handoff h = { .n_fds = 0 };
                r = run_hook(p, SPAWN_PHASE_CREATED, pid, &h, e);
                struct spawn_msg go = { .type = SPAWN_MSG_GO, .code = h.flags };
                if (r >= 0 && (r = send_with_fds(sock, &go, sizeof go, h.fds, h.n_fds)) < 0)
                        (void) error_set(e, r, "cannot start the container");
                for (size_t i = 0; i < h.n_fds; i++)
                        close(h.fds[i]);
        }
        if (r >= 0 && p->going) {
                struct spawn_handoff h = { .n_fds = 0 };
                r = run_hook(p, SPAWN_PHASE_GOING, pid, &h, e);
                struct spawn_msg go = { .type = SPAWN_MSG_GO };
                if (r >= 0 && (r = send_with_fds(sock, &go, sizeof go, h.fds, h.n_fds)) < 0)
                        (void) error_set(e, r, "cannot start the container");
                for (size_t i = 0; i < h.n_fds; i++)
                        close(h.fds[i]);
        }
        if (r >= 0)
                r = run_hook(p, SPAWN_PHASE_STARTED, pid, NULL, e);
        if (r < 0)
                take_child_error(sock, res, e);
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
                        r = error_set_msg(e, -ECHILD, "the container's init exited during set-up");
                        break;
                }
                if (k <= 0) {
                        if (k < 0)
                                r = error_set(e, k, "sync");
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
                        r = error_set(e, 0, "%s", m.text);
                        res->exit_code = m.code;
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
