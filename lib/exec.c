#include "exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
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
#include "mounts.h"
#include "runtime.h"
#include "security.h"
#include "settings.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Everything the intermediate needs, prepared by the caller before fork:
 * from fork to execve nothing is allocated. */
struct exec_child {
        int sock;
        int init_pidfd;
        int init_exe_fd; /* a sealed copy of berth-init */
        int ns_flags;
        bool userns;
        bool tty;
        int stdio[3];
        bool home_from_user; /* HOME follows the user's passwd entry */
        const char *user;
        const char *workdir;
        char **join_argv; /* berth-init join SOCK UID GID TTY -- ARGV: the three numbers filled in */
        char sockbuf[16], uidbuf[16], gidbuf[16];
        char **envp;
        struct security_caps caps;
        struct security_seccomp seccomp;
        int cg_tasks[CGROUP_JOIN_MAX]; /* v1: files to move ourselves into the cgroup */
        size_t n_cg_tasks;
};

/* ---- the intermediate: no allocation ------------------------------------------ */

static void child_stdio(const struct exec_child *c)
{
        if (c->tty) {
                /* A pty of the container's own devpts, never the host's
                 * (CVE-2017-5226 class); the master goes to the caller. The
                 * workload's process takes the slave as its terminal. */
                int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot allocate a pty in the container");
                char name[64];
                if (ptsname_r(master, name, sizeof name) != 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "ptsname");
                int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
                if (slave < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot open %s", name);
                struct spawn_msg m = { .type = SPAWN_MSG_PTY };
                int r = send_with_fd(c->sock, &m, sizeof m, master);
                if (r < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, r, "cannot pass the pty");
                close(master);
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "dup2");
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
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot set up fd %d", fd);
        }
        for (int fd = 0; fd < 3; fd++)
                if (dup2(tmp[fd], fd) < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "dup2");
}

/* Closes every fd but 0-2 and keep[0..1] (really, not on exec: the
 * caller's fds must be gone before anything of the container can see the
 * process). */
static int close_all_but(int a, int b)
{
        int lo = a < b ? a : b, hi = a < b ? b : a;
        if (lo > 3 && syscall(SYS_close_range, 3U, (unsigned) lo - 1, 0U) < 0)
                return -errno;
        if (hi > lo + 1 && syscall(SYS_close_range, (unsigned) lo + 1, (unsigned) hi - 1, 0U) < 0)
                return -errno;
        if (syscall(SYS_close_range, (unsigned) hi + 1, ~0U, 0U) < 0)
                return -errno;
        return 0;
}

/* Forked by the caller. Joins the container's namespaces, prepares and
 * confines itself completely (terminal, user lookup, working directory,
 * capabilities, no_new_privs, seccomp, every other fd closed), and only
 * then executes berth-init's join mode, which clones the workload's
 * process into the PID namespace. This process itself never enters that
 * namespace, so the container can neither see nor ptrace it while it
 * holds host privileges, host fds or berthd's memory (the
 * runc/LXC-attach class of race, without an LSM). */
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
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        struct spawn_msg m;
        if (recv(c->sock, &m, sizeof m, 0) != (ssize_t) sizeof m || m.type != SPAWN_MSG_GO)
                _exit(SPAWN_EXIT_SETUP); /* the caller gave up and knows why */
        /* Into the container's cgroup (v2 and fallback: the caller moved
         * us; v1: we move ourselves, which skips the global lock and its
         * RCU grace period that moving another process takes): joining its
         * cgroup namespace then makes that our root, as for its init. */
        if (c->n_cg_tasks > 0) {
                int r = cgroup_join_self(c->cg_tasks, c->n_cg_tasks);
                if (r < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, r, "cannot join the container's cgroup");
                for (size_t i = 0; i < c->n_cg_tasks; i++)
                        close(c->cg_tasks[i]);
        }
        if (setns(c->init_pidfd, c->ns_flags) < 0)
                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot join the container's namespaces");
        close(c->init_pidfd);
        if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno, "cannot become root in the user namespace");
        child_stdio(c);

        char home[512] = "";
        uid_t uid = 0;
        gid_t gid = 0;
        if (c->user) {
                int r = spawn_resolve_user(c->user, &uid, &gid, home, sizeof home);
                if (r == -ESRCH)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, 0,
                                         "user '%.*s' is not in the container's /etc/passwd (a regular file)",
                                         (int) strcspn(c->user, ":"), c->user);
                if (r < 0)
                        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, 0,
                                         "group '%s' is not in the container's /etc/group (a regular file)",
                                         strchr(c->user, ':') ? strchr(c->user, ':') + 1 : "");
        }
        struct error werr;
        if (spawn_enter_workdir(c->workdir, &werr) < 0)
                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, 0, "%s", werr.msg);
        char home_env[520];
        if (c->home_from_user && home[0]) {
                snprintf(home_env, sizeof home_env, "HOME=%s", home);
                for (size_t i = 0; c->envp[i]; i++)
                        if (strncmp(c->envp[i], "HOME=", 5) == 0)
                                c->envp[i] = home_env;
        }
        snprintf(c->sockbuf, sizeof c->sockbuf, "%d", c->sock);
        snprintf(c->uidbuf, sizeof c->uidbuf, "%u", (unsigned) uid);
        snprintf(c->gidbuf, sizeof c->gidbuf, "%u", (unsigned) gid);
        /* Our copy of the caller's array: never freed here, we exec or exit. */
        c->join_argv[2] = c->sockbuf;
        c->join_argv[3] = c->uidbuf;
        c->join_argv[4] = c->gidbuf;

        /* Only 0-2, the socket (which berth-init reports on) and berth-init
         * itself (close-on-exec) stay. */
        int r = close_all_but(c->sock, c->init_exe_fd);
        if (r >= 0 && fcntl(c->sock, F_SETFD, 0) < 0)
                r = -errno;
        if (r < 0)
                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, r, "cannot close the caller's fds");
        r = security_caps_apply(&c->caps);
        if (r >= 0)
                r = security_no_new_privs();
        if (r >= 0)
                r = security_seccomp_apply(&c->seccomp);
        if (r < 0)
                spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, r, "cannot confine the process");
        syscall(SYS_execveat, c->init_exe_fd, "", c->join_argv, c->envp, AT_EMPTY_PATH);
        spawn_child_fail(c->sock, SPAWN_EXIT_SETUP, errno,
                         "cannot execute berth-init (does the container's seccomp profile allow execveat?)");
}

/* ---- parent -------------------------------------------------------------------- */

/* A set-up failure on the caller's side: e set as error_set() does. The
 * codes that mean "the command" (ENOENT: 127, EACCES: 126) are the
 * child's only: here they become EIO (125). */
static int setup_failed(struct error *e, int r, const char *fmt, ...) _printf_(3, 4);
static int setup_failed(struct error *e, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void) error_setv(e, r, fmt, ap);
        va_end(ap);
        if (r == -ENOENT || r == -EACCES || r >= 0)
                e->code = EIO;
        return -e->code;
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

struct exec_session {
        int sock;
        int epfd;
        pid_t child; /* the intermediate */
        int child_pidfd;
        pid_t workload;
        int pty;
        bool eof, child_done, tty;
        int child_status;
        int result; /* < 0 once an error is known */
        void (*reap_later)(void *userdata, pid_t pid);
        void *reap_userdata;
        struct error err;
        char *name;
};

/* A killed child: reaped now, or, when it does not go within a few ms and
 * the caller can reap later, handed over (never a wait without bound on
 * berthd's loop: a process in a frozen cgroup dies only when thawed). */
static void reap_killed(struct exec_session *s, pid_t pid)
{
        if (!s->reap_later)
                return reap(pid);
        for (int i = 0; i < 20; i++) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r != 0 && !(r < 0 && errno == EINTR))
                        return; /* reaped, or not ours any more */
                struct timespec ts = { 0, 250 * 1000 };
                nanosleep(&ts, NULL);
        }
        s->reap_later(s->reap_userdata, pid);
}

struct exec_session *exec_session_free(struct exec_session *s)
{
        if (!s)
                return NULL;
        /* Not taken: whatever runs goes. SIGKILL ends a stopped or
         * sleeping process, so the waits are short. */
        if (s->workload > 0) {
                (void) kill(s->workload, SIGKILL);
                reap_killed(s, s->workload);
        }
        if (s->child > 0 && !s->child_done) {
                (void) kill(s->child, SIGKILL);
                reap_killed(s, s->child);
        }
        if (s->pty >= 0)
                close(s->pty);
        if (s->sock >= 0)
                close(s->sock);
        if (s->child_pidfd >= 0)
                close(s->child_pidfd);
        if (s->epfd >= 0)
                close(s->epfd);
        free(s->name);
        free(s);
        return NULL;
}

int exec_session_fd(const struct exec_session *s)
{
        return s->epfd;
}

/* One message; only the intermediate may name the workload or hand over
 * the pty: the workload's process holds the same socket until it exec's,
 * and the container could make it say anything (SCM_CREDENTIALS tell the
 * sender, and a container cannot forge a pid it cannot see). 1: a message,
 * 0: nothing now, -1: EOF. */
static int session_recv(struct exec_session *s)
{
        struct spawn_msg m;
        union {
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        ssize_t k = recvmsg(s->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (k == 0)
                return -1;
        pid_t sender = -1;
        int fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                        continue;
                if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
                        struct ucred cr;
                        memcpy(&cr, CMSG_DATA(c), sizeof cr);
                        sender = cr.pid;
                } else if (c->cmsg_type == SCM_RIGHTS) {
                        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < n; i++) {
                                int f;
                                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                                if (fd < 0)
                                        fd = f;
                                else
                                        close(f);
                        }
                }
        }
        bool trusted = sender == s->child;
        if (k == (ssize_t) sizeof m) {
                m.text[sizeof m.text - 1] = 0;
                if (m.type == SPAWN_MSG_PID && trusted && s->workload <= 0 && m.code > 0)
                        s->workload = (pid_t) m.code;
                else if (m.type == SPAWN_MSG_PTY && trusted && fd >= 0 && s->pty < 0 && s->tty)
                        s->pty = TAKE_FD(fd);
                else if (m.type == SPAWN_MSG_ERROR && s->result >= 0) {
                        (void) error_set_msg(&s->err, -EINVAL, "%s", m.text);
                        s->result = m.code == SPAWN_EXIT_NOTFOUND ? -ENOENT
                                    : m.code == SPAWN_EXIT_NOEXEC ? -EACCES
                                                                  : -EINVAL;
                }
        }
        if (fd >= 0)
                close(fd);
        return 1;
}

int exec_session_step(struct exec_session *s, struct error *e)
{
        for (int i = 0; i < 16 && !s->eof; i++) {
                int k = session_recv(s);
                if (k == 0)
                        break;
                if (k < 0) {
                        s->eof = true;
                        (void) epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->sock, NULL);
                }
        }
        if (!s->child_done) {
                siginfo_t si = { 0 };
                if (waitid(P_PIDFD, (id_t) s->child_pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
                        s->child_done = true;
                        s->child_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                        (void) epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->child_pidfd, NULL);
                }
        }
        /* EOF: the intermediate is gone and the workload exec'd or failed
         * (the socket is close-on-exec in it). */
        if (!s->eof || !s->child_done)
                return 0;
        int r = s->result;
        if (r >= 0 && (s->workload <= 0 || s->child_status != 0))
                r = setup_failed(&s->err, -ECHILD, "cannot enter container '%s'", s->name);
        if (r >= 0 && s->tty && s->pty < 0)
                r = setup_failed(&s->err, -EPROTO, "no pty from the container");
        if (r < 0) {
                *e = s->err;
                s->result = r;
                return r;
        }
        return 1;
}

void exec_session_take(struct exec_session *s, pid_t *ret_pid, int *ret_pidfd, int *ret_pty)
{
        /* Our child (CLONE_PARENT), not reaped until we wait: the pid is ours. */
        *ret_pid = s->workload;
        *ret_pidfd = (int) syscall(SYS_pidfd_open, s->workload, 0);
        if (ret_pty)
                *ret_pty = TAKE_FD(s->pty);
        s->workload = -1;
}

int exec_session_start(const struct exec_target *t, char *const argv[], char *const envp[],
                       const struct exec_opts *o, struct exec_session **ret, struct error *e)
{
        const struct spec_container *spec = t->spec;
        *ret = NULL;
        if (!argv || !argv[0] || !argv[0][0])
                return setup_failed(e, -EINVAL, "no command");

        _cleanup_close_ int initfd = -1;
        if (state_pidfd_verified(t->init_pid, t->init_start, &initfd) < 0)
                return setup_failed(e, -ESRCH, "container '%s' is not running", t->name);

        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        int r = cgroup_open_manager_of(t->init_pid, t->name, &m);
        if (r >= 0)
                r = cgroup_open_existing(m, t->name, &cg);
        if (r < 0)
                return setup_failed(e, r, "container '%s': cannot open its cgroup", t->name);
        /* Our child would stop in it as soon as attached. */
        if (cgroup_is_frozen(cg) > 0) {
                return error_set_msg(e, -EBUSY, "container '%s' is frozen", t->name);
        }

        struct exec_child c = {
                .init_pidfd = initfd,
                .init_exe_fd = -1,
                .ns_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP,
                .tty = o->tty,
                .stdio = { o->stdio[0], o->stdio[1], o->stdio[2] },
                .user = o->user ? o->user : spec->user,
                .workdir = o->workdir ? o->workdir : (spec->workdir ? spec->workdir : "/"),
        };
        /* setns() into the user namespace we are already in is EINVAL. */
        if (!same_ns(t->init_pid, "user")) {
                c.ns_flags |= CLONE_NEWUSER;
                c.userns = true;
        }
        /* The confinement the container was started with, never the file's. */
        if (!t->state_dir)
                return setup_failed(e, -EINVAL, "container '%s': no state directory", t->name);
        _cleanup_free_ char *dir = state_container_dir(t->state_dir, t->name);
        if (!dir)
                return setup_failed(e, -ENOMEM, "container '%s'", t->name);
        r = state_read_confinement(dir, &c.caps, &c.seccomp);
        if (r < 0)
                return setup_failed(e, r == -ENOENT ? -ESRCH : r,
                                    "container '%s': cannot read the confinement it was started with (%s/confinement; "
                                    "a container started by an older berth needs a restart)",
                                    t->name, dir);

        _cleanup_strv_free_ char **env = envp ? strv_copy(envp)
                                              : runtime_build_env(spec, spec->hostname ? spec->hostname : spec->name,
                                                                  o->tty);
        _cleanup_strv_free_ char **join_argv = NULL;
        if (!env) {
                r = setup_failed(e, -ENOMEM, "environment");
                goto fail_seccomp;
        }
        c.home_from_user = !envp && !env_has(spec->env, "HOME") && !env_has(spec->env_file_env, "HOME") &&
                           !env_has(o->env, "HOME");
        r = env_merge(&env, o->env);
        if (r < 0) {
                r = setup_failed(e, r, "environment: entries must be K=V");
                goto fail_seccomp;
        }
        if (strv_length(env) > SPEC_ENV_MAX) {
                r = setup_failed(e, -E2BIG, "environment: more than %d entries", SPEC_ENV_MAX);
                goto fail_seccomp;
        }
        c.envp = env;
        /* berth-init join SOCK UID GID TTY -- ARGV: the numbers are written
         * into c's buffers by the intermediate. */
        char *head[] = { "berth-init", "join", "S", "U", "G", o->tty ? "1" : "0", "--", NULL };
        join_argv = strv_copy(head);
        for (size_t i = 0; join_argv && argv[i]; i++)
                if (strv_push(&join_argv, argv[i]) < 0)
                        join_argv = strv_free(join_argv);
        if (!join_argv) {
                r = setup_failed(e, -ENOMEM, "command");
                goto fail_seccomp;
        }
        c.join_argv = join_argv;
        if (t->init_exe && *t->init_exe >= 0) {
                c.init_exe_fd = fcntl(*t->init_exe, F_DUPFD_CLOEXEC, 3);
                r = c.init_exe_fd < 0 ? setup_failed(e, -errno, "cannot use the shared copy of berth-init") : 0;
        } else
                r = runtime_init_exe(&c.init_exe_fd, e);
        if (r < 0)
                goto fail_seccomp;

        /* Where the backend hands join files (v1), the intermediate moves
         * itself; otherwise (v2: a fork cannot clone into) we attach it. */
        struct cgroup_placement place = CGROUP_PLACEMENT_INIT;
        if (cgroup_place(cg, &place) >= 0 && place.n_join_fds > 0) {
                memcpy(c.cg_tasks, place.join_fds, place.n_join_fds * sizeof(int));
                c.n_cg_tasks = place.n_join_fds;
                place.n_join_fds = 0; /* ours now */
        }
        cgroup_placement_done(&place);

        struct exec_session *s = calloc(1, sizeof *s);
        if (!s || !(s->name = strdup(t->name))) {
                free(s);
                r = setup_failed(e, -ENOMEM, "container '%s'", t->name);
                goto fail_exe;
        }
        s->sock = s->child_pidfd = s->pty = -1;
        s->tty = o->tty;
        s->reap_later = t->reap_later;
        s->reap_userdata = t->reap_userdata;
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        int sv[2] = { -1, -1 };
        int one = 1;
        if (s->epfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
            setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                r = setup_failed(e, -errno, "socketpair");
                if (sv[0] >= 0) {
                        close(sv[0]);
                        close(sv[1]);
                }
                exec_session_free(s);
                goto fail_exe;
        }
        s->sock = sv[0];
        pid_t child = fork();
        if (child < 0) {
                r = setup_failed(e, -errno, "fork");
                close(sv[1]);
                exec_session_free(s);
                goto fail_exe;
        }
        if (child == 0) {
                close(sv[0]);
                c.sock = sv[1];
                intermediate_main(&c);
        }
        close(sv[1]);
        s->child = child;
        security_seccomp_done(&c.seccomp);
        close(c.init_exe_fd);
        bool moved_itself = c.n_cg_tasks > 0;
        for (size_t i = 0; i < c.n_cg_tasks; i++)
                close(c.cg_tasks[i]);
        c.n_cg_tasks = 0;
        /* Not reaped before we wait for it: the pidfd is of our child. */
        s->child_pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        struct epoll_event ev = { .events = EPOLLIN };
        if (s->child_pidfd < 0) {
                r = setup_failed(e, -errno, "pidfd_open");
                exec_session_free(s);
                return r;
        }
        ev.data.fd = s->sock;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sock, &ev) < 0) {
                r = setup_failed(e, -errno, "epoll");
                exec_session_free(s);
                return r;
        }
        ev.data.fd = s->child_pidfd;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->child_pidfd, &ev) < 0) {
                r = setup_failed(e, -errno, "epoll");
                exec_session_free(s);
                return r;
        }
        /* Into the container's cgroup before it joins the cgroup namespace. */
        r = moved_itself ? 0 : cgroup_attach(cg, child);
        if (r < 0) {
                r = setup_failed(e, r, "container '%s': cannot join its cgroup", t->name);
                exec_session_free(s);
                return r;
        }
        /* The container's resource limits (rlimits), as its init has them. */
        r = settings_copy_rlimits(t->init_pid, child, e);
        if (r < 0) {
                (void) error_wrap(e, "container '%s'", t->name);
                exec_session_free(s);
                return r;
        }
        struct spawn_msg go = { .type = SPAWN_MSG_GO };
        if (send(s->sock, &go, sizeof go, MSG_NOSIGNAL) < 0) {
                r = setup_failed(e, -errno, "cannot start the process");
                exec_session_free(s);
                return r;
        }
        *ret = s;
        return 0;

fail_exe:
        for (size_t i = 0; i < c.n_cg_tasks; i++)
                close(c.cg_tasks[i]);
        close(c.init_exe_fd);
fail_seccomp:
        security_seccomp_done(&c.seccomp);
        return r;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int exec_spawn(const struct exec_target *t, char *const argv[], char *const envp[], const struct exec_opts *o,
               pid_t *ret_pid, int *ret_pidfd, struct error *e)
{
        *ret_pid = -1;
        *ret_pidfd = -1;
        if (o->tty && o->ret_pty_master)
                *o->ret_pty_master = -1;
        struct exec_session *s = NULL;
        int r = exec_session_start(t, argv, envp, o, &s, e);
        if (r < 0)
                return r;
        int64_t deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : EXEC_SETUP_TIMEOUT_MS);
        for (;;) {
                r = exec_session_step(s, e);
                if (r != 0)
                        break;
                int64_t left = deadline - now_ms();
                if (left <= 0) {
                        r = setup_failed(e, -ETIMEDOUT, "container '%s': the process did not start within %u ms", t->name,
                                         o->timeout_ms ? o->timeout_ms : EXEC_SETUP_TIMEOUT_MS);
                        break;
                }
                struct pollfd pf[2] = { { .fd = exec_session_fd(s), .events = POLLIN },
                                        { .fd = o->signal_fd ? *o->signal_fd : -1, .events = POLLIN } };
                if (poll(pf, 2, (int) (left < 1000 ? left : 1000)) < 0 && errno != EINTR) {
                        r = setup_failed(e, -errno, "poll");
                        break;
                }
                if (pf[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(pf[1].fd, &si, sizeof si) == (ssize_t) sizeof si &&
                            (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP ||
                             si.ssi_signo == SIGQUIT)) {
                                r = setup_failed(e, -EINTR, "interrupted (%s) before the process started",
                                                 strsignal((int) si.ssi_signo));
                                break;
                        }
                }
        }
        if (r > 0) {
                exec_session_take(s, ret_pid, ret_pidfd, o->tty ? o->ret_pty_master : NULL);
                r = 0;
        }
        exec_session_free(s);
        return r;
}
