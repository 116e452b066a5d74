#include "exec.h"

#include <fcntl.h>
#include <limits.h>
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
#include "image.h"
#include "state.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Everything the intermediate needs, prepared by the caller before fork:
 * from fork to execve nothing is allocated. */
struct exec_child {
        int sock;
        int go_fd; /* started by the spawner: GO arrives here (a pipe), not on sock; else -1 */
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
        if (c->go_fd >= 0) {
                char go;
                ssize_t k;
                do
                        k = read(c->go_fd, &go, 1);
                while (k < 0 && errno == EINTR);
                if (k != 1)
                        _exit(SPAWN_EXIT_SETUP); /* the spawner gave up, or berthd did */
                close(c->go_fd);
        } else if (recv(c->sock, &m, sizeof m, 0) != (ssize_t) sizeof m || m.type != SPAWN_MSG_GO)
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

/* Messages of the spawner (struct spawn_msg's layout, types of their own),
 * on the reply socket of one request: EXEC_MSG_EXITED, the probe's exit
 * status (code: 0-255, 128 + a signal); EXEC_MSG_FAILED, a set-up that
 * failed (code: an errno, text: why); SPAWN_MSG_ERROR as berth-init sent
 * it (the command could not be executed); EXEC_MSG_SOCKET, the socket of
 * a socket request (or code: an errno). */
enum { EXEC_MSG_EXITED = 100, EXEC_MSG_FAILED, EXEC_MSG_SOCKET };

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

static int session_recv(struct exec_session *s);

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
 * sender, and a container cannot forge a pid it cannot see). 1: a
 * message, 0: nothing now, -1: EOF. */
/* One message of an intermediate (or of its workload before the exec),
 * without waiting: its length (0 at EOF), or -1 with errno; the sender's
 * pid (SCM_CREDENTIALS, -1 if none) and the first fd passed (the others
 * are closed; -1 if none; closed too when ret_fd is NULL). */
static ssize_t recv_spawn_msg(int sock, struct spawn_msg *m, pid_t *ret_sender, int *ret_fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        *ret_sender = -1;
        if (ret_fd)
                *ret_fd = -1;
        ssize_t k = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k <= 0)
                return k;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                        continue;
                if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
                        struct ucred cr;
                        memcpy(&cr, CMSG_DATA(c), sizeof cr);
                        *ret_sender = cr.pid;
                } else if (c->cmsg_type == SCM_RIGHTS) {
                        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < n; i++) {
                                int f;
                                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                                if (ret_fd && *ret_fd < 0)
                                        *ret_fd = f;
                                else
                                        close(f);
                        }
                }
        }
        if (k == (ssize_t) sizeof *m)
                m->text[sizeof m->text - 1] = 0;
        return k;
}

static int session_recv(struct exec_session *s)
{
        struct spawn_msg m;
        pid_t sender;
        int fd;
        ssize_t k = recv_spawn_msg(s->sock, &m, &sender, &fd);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (k == 0)
                return -1;
        bool trusted = s->child > 0 && sender == s->child;
        if (k == (ssize_t) sizeof m) {
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
        if (!s->child_done && s->child_pidfd >= 0) {
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

/* ---- set-up shared by the caller and the spawner ----------------------------- */

/* The host's side: the verified init, the container's cgroup (not frozen),
 * the namespaces to join, the confinement it was started with. cache:
 * a manager kept between calls (the spawner's), or NULL (one per call).
 * On success c->init_pidfd, c->ns_flags, c->userns, c->caps, c->seccomp
 * are set and *ret_cg is the cgroup (and *ret_m the manager when not
 * cached); on failure nothing is left to free. */
static int host_prepare(const char *name, pid_t init_pid, uint64_t init_start, const char *state_dir,
                        struct cgroup_manager **cache, struct exec_child *c, struct cgroup_manager **ret_m,
                        struct cgroup **ret_cg, struct error *e)
{
        _cleanup_close_ int initfd = -1;
        if (state_pidfd_verified(init_pid, init_start, &initfd) < 0)
                return setup_failed(e, -ESRCH, "container '%s' is not running", name);

        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        int r = cache ? cgroup_manager_of_cached(init_pid, name, cache) : cgroup_open_manager_of(init_pid, name, &m);
        if (r >= 0)
                r = cgroup_open_existing(cache ? *cache : m, name, &cg);
        if (r < 0)
                return setup_failed(e, r, "container '%s': cannot open its cgroup", name);
        /* Our child would stop in it as soon as attached. */
        if (cgroup_is_frozen(cg) > 0)
                return error_set_msg(e, -EBUSY, "container '%s' is frozen", name);
        c->ns_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
        /* setns() into the user namespace we are already in is EINVAL. */
        c->userns = !same_ns(init_pid, "user");
        if (c->userns)
                c->ns_flags |= CLONE_NEWUSER;
        /* The confinement the container was started with, never the file's. */
        if (!state_dir)
                return setup_failed(e, -EINVAL, "container '%s': no state directory", name);
        char dir[PATH_MAX];
        if (state_container_dir_buf(state_dir, name, dir, sizeof dir) < 0)
                return setup_failed(e, -ENAMETOOLONG, "container '%s'", name);
        r = state_read_confinement(dir, &c->caps, &c->seccomp);
        if (r < 0)
                return setup_failed(e, r == -ENOENT ? -ESRCH : r,
                                    "container '%s': cannot read the confinement it was started with (%s/confinement; "
                                    "a container started by an older berth needs a restart)",
                                    name, dir);
        c->init_pidfd = TAKE_FD(initfd);
        *ret_m = TAKE_PTR(m);
        *ret_cg = TAKE_PTR(cg);
        return 0;
}

/* Where the backend hands join files (v1), the intermediate moves itself
 * (true); otherwise (v2: a fork cannot clone into) the caller attaches it. */
static bool place_child(struct cgroup *cg, struct exec_child *c)
{
        struct cgroup_placement place = CGROUP_PLACEMENT_INIT;
        if (cgroup_place(cg, &place) >= 0 && place.n_join_fds > 0) {
                memcpy(c->cg_tasks, place.join_fds, place.n_join_fds * sizeof(int));
                c->n_cg_tasks = place.n_join_fds;
                place.n_join_fds = 0; /* ours now */
        }
        cgroup_placement_done(&place);
        return c->n_cg_tasks > 0;
}

static void child_done_parent(struct exec_child *c)
{
        for (size_t i = 0; i < c->n_cg_tasks; i++)
                close(c->cg_tasks[i]);
        c->n_cg_tasks = 0;
        if (c->init_exe_fd >= 0)
                close(c->init_exe_fd);
        c->init_exe_fd = -1;
        if (c->init_pidfd >= 0)
                close(c->init_pidfd);
        c->init_pidfd = -1;
        security_seccomp_done(&c->seccomp);
}

/* The process's side: user, working directory (an image's apply as at
 * start) and environment. *ret_env is owned by the caller. */
static int process_prepare(const struct exec_target *t, char *const envp[], const struct exec_opts *o,
                           struct exec_child *c, char ***ret_env, struct image_info **ret_img, struct error *e)
{
        const struct spec_container *spec = t->spec;
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        if (spec->template_name && t->state_dir)
                (void) image_read(t->state_dir, spec->template_name, &img);
        const char *img_user = img ? img->user : NULL, *img_workdir = img ? img->workdir : NULL;
        c->tty = o->tty;
        for (int i = 0; i < 3; i++)
                c->stdio[i] = o->stdio[i];
        c->user = o->user ? o->user : spec->user ? spec->user : img_user;
        c->workdir = o->workdir ? o->workdir : spec->workdir ? spec->workdir : img_workdir ? img_workdir : "/";
        _cleanup_strv_free_ char **env = envp ? strv_copy(envp)
                                              : runtime_build_env(spec, spec->hostname ? spec->hostname : spec->name,
                                                                  o->tty, img ? img->env : NULL);
        if (!env)
                return setup_failed(e, -ENOMEM, "environment");
        c->home_from_user = !envp && !env_has(spec->env, "HOME") && !env_has(spec->env_file_env, "HOME") &&
                            !env_has(o->env, "HOME");
        int r = env_merge(&env, o->env);
        if (r < 0)
                return setup_failed(e, r, "environment: entries must be K=V");
        if (strv_length(env) > SPEC_ENV_MAX)
                return setup_failed(e, -E2BIG, "environment: more than %d entries", SPEC_ENV_MAX);
        c->envp = env;
        *ret_env = TAKE_PTR(env);
        *ret_img = TAKE_PTR(img); /* c's strings may point into it */
        return 0;
}

/* berth-init join SOCK UID GID TTY -- ARGV: the numbers are written into
 * c's buffers by the intermediate. */
static char **join_argv_new(bool tty, char *const argv[])
{
        char *head[] = { "berth-init", "join", "S", "U", "G", tty ? "1" : "0", "--", NULL };
        char **join_argv = strv_copy(head);
        for (size_t i = 0; join_argv && argv[i]; i++)
                if (strv_push(&join_argv, argv[i]) < 0)
                        join_argv = strv_free(join_argv);
        return join_argv;
}

static struct exec_session *session_new(const struct exec_target *t, bool tty, int sv[2], struct error *e)
{
        struct exec_session *s = calloc(1, sizeof *s);
        if (!s || !(s->name = strdup(t->name))) {
                free(s);
                (void) setup_failed(e, -ENOMEM, "container '%s'", t->name);
                return NULL;
        }
        s->sock = s->child_pidfd = s->pty = -1;
        s->child = -1;
        s->tty = tty;
        s->reap_later = t->reap_later;
        s->reap_userdata = t->reap_userdata;
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        sv[0] = sv[1] = -1;
        int one = 1;
        if (s->epfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
            setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                (void) setup_failed(e, -errno, "socketpair");
                if (sv[0] >= 0) {
                        close(sv[0]);
                        close(sv[1]);
                }
                sv[0] = sv[1] = -1;
                return exec_session_free(s);
        }
        s->sock = sv[0];
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = s->sock };
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sock, &ev) < 0) {
                (void) setup_failed(e, -errno, "epoll");
                close(sv[1]);
                sv[1] = -1;
                return exec_session_free(s);
        }
        return s;
}

int exec_session_start(const struct exec_target *t, char *const argv[], char *const envp[],
                       const struct exec_opts *o, struct exec_session **ret, struct error *e)
{
        *ret = NULL;
        if (!argv || !argv[0] || !argv[0][0])
                return setup_failed(e, -EINVAL, "no command");

        struct exec_child c = { .init_pidfd = -1, .init_exe_fd = -1, .go_fd = -1 };
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        int r = host_prepare(t->name, t->init_pid, t->init_start, t->state_dir, NULL, &c, &m, &cg, e);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        _cleanup_strv_free_ char **join_argv = NULL;
        r = process_prepare(t, envp, o, &c, &env, &img, e);
        if (r < 0)
                goto fail;
        if (!(join_argv = join_argv_new(o->tty, argv))) {
                r = setup_failed(e, -ENOMEM, "command");
                goto fail;
        }
        c.join_argv = join_argv;
        if (t->init_exe && *t->init_exe >= 0) {
                c.init_exe_fd = fcntl(*t->init_exe, F_DUPFD_CLOEXEC, 3);
                r = c.init_exe_fd < 0 ? setup_failed(e, -errno, "cannot use the shared copy of berth-init") : 0;
        } else
                r = runtime_init_exe(&c.init_exe_fd, e);
        if (r < 0)
                goto fail;
        bool moved_itself = place_child(cg, &c);

        int sv[2];
        struct exec_session *s = session_new(t, o->tty, sv, e);
        if (!s) {
                r = -e->code;
                goto fail;
        }
        pid_t child = fork();
        if (child < 0) {
                r = setup_failed(e, -errno, "fork");
                close(sv[1]);
                exec_session_free(s);
                goto fail;
        }
        if (child == 0) {
                close(sv[0]);
                c.sock = sv[1];
                intermediate_main(&c);
        }
        close(sv[1]);
        s->child = child;
        child_done_parent(&c);
        /* Not reaped before we wait for it: the pidfd is of our child. */
        s->child_pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = s->child_pidfd };
        if (s->child_pidfd < 0) {
                r = setup_failed(e, -errno, "pidfd_open");
                exec_session_free(s);
                return r;
        }
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

fail:
        child_done_parent(&c);
        return r;
}

/* ---- the group of a process ------------------------------------------------------ */

/* Pids in the container's cgroup whose process group or session is pgid
 * (other than pgid itself): what a probe left that left its group. */
static size_t group_members(pid_t init_pid, const char *name, struct cgroup_manager **cache, unsigned *cache_gen,
                            pid_t pgid, pid_t *out, size_t max)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, found = 0;
        if (!name)
                return 0;
        /* A kept manager: the mount table is read again only when the
         * container's cgroup base differs from the last one. */
        int r = cache ? cgroup_manager_of_cached(init_pid, name, cache) : cgroup_open_manager_of(init_pid, name, &m);
        if (r > 0 && cache_gen)
                (*cache_gen)++; /* replaced: the owner's per-container checks are stale */
        if (r < 0 || cgroup_open_existing(cache ? *cache : m, name, &cg) < 0 || cgroup_pids(cg, &pids, &n) < 0)
                return 0;
        for (size_t i = 0; i < n && found < max; i++) {
                char path[64], buf[512];
                snprintf(path, sizeof path, "/proc/%d/stat", (int) pids[i]);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
                if (k <= 0)
                        continue;
                buf[k] = 0;
                const char *rp = strrchr(buf, ')');
                int pg = 0, sid = 0;
                char state;
                int ppid;
                if (rp && sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pg, &sid) == 4 && pids[i] != pgid &&
                    (pg == (int) pgid || sid == (int) pgid))
                        out[found++] = pids[i];
        }
        return found;
}

void exec_kill_group(pid_t pgid, int pidfd, pid_t init_pid, const char *name, struct cgroup_manager **cache,
                     unsigned *cache_gen)
{
        if (pgid <= 0)
                return;
        (void) kill(-pgid, SIGKILL);
        if (pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        /* Members that left the group but not the session, or that the
         * kill raced with a fork: found through the cgroup, bounded. */
        for (int round = 0; round < 100; round++) {
                pid_t left[256];
                size_t n = group_members(init_pid, name, cache, cache_gen, pgid, left, ELEMENTSOF(left));
                if (n == 0)
                        break;
                for (size_t i = 0; i < n; i++)
                        (void) kill(left[i], SIGKILL);
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

/* ---- the spawner ---------------------------------------------------------------- */

/* A small process berthd forks early (while it is small) that runs its
 * health probes' commands to their end, so that berthd's event loop
 * neither forks (copying its page tables, at 1,000 containers ~25 MB),
 * nor does the host's set-up (pidfd, cgroup, confinement, rlimits), nor
 * waits for, kills or reaps any process of a probe. The intermediate is
 * its child, and so (berth-init's CLONE_PARENT) is the workload: it reaps
 * every process it made, whatever becomes of the probe, and answers with
 * one message: the exit status, or why the command did not run. The
 * probe's output goes to berthd's pipe directly. berthd cancels a probe
 * (timeout, a reload, its container's stop) by closing its end of the
 * reply socket: the spawner kills what runs and reaps it. Set-ups are
 * made one at a time; nothing it does waits on a container. */

#define SPAWNER_REQ_MAX (128 * 1024)
#define SPAWNER_MAGIC 0x62727370u /* "brsp" */
#define SPAWNER_RUNS_MAX 1024

enum { SPAWNER_EXEC = 1, SPAWNER_SOCKET };
enum { SPAWNER_F_HOME = 2, SPAWNER_F_USER = 4 };

struct spawner_req {
        uint32_t magic;
        uint32_t type;
        int32_t init_pid;
        uint32_t flags;
        uint64_t init_start;
        uint32_t n_argv, n_env;
        uint32_t stdio_mask; /* which of 0-2 came as fds (after the reply socket) */
        uint32_t len;        /* of the strings that follow: name, user, workdir, argv..., env... */
};

struct exec_spawner {
        pid_t pid;
        int pidfd;
        int sock;
        bool dead;
};

/* One command probe in the spawner, from its set-up to its last reaped
 * process. */
struct spawner_run {
        bool used;
        uint32_t gen; /* in its epoll data: an event of the slot's last run is not this one's */
        bool cancelled; /* berthd closed its end: nothing is reported */
        int reply;      /* berthd's socket of this probe */
        int isock;      /* the intermediate's messages (the workload's until it exec'd) */
        pid_t ipid;     /* the intermediate, our child */
        int ipidfd;
        bool idone;
        int istatus;
        pid_t wpid; /* the workload, our child through berth-init's CLONE_PARENT */
        int wpidfd;
        bool wdone;
        int wstatus;
        bool has_err;
        struct spawn_msg err; /* SPAWN_MSG_ERROR: why the command did not run */
        pid_t init_pid;
        char name[256];
};

struct spawner {
        int sock; /* to berthd */
        int epfd;
        int init_exe;
        int own_netns;
        const char *state_dir;
        struct cgroup_manager *cache;
        int sigfd; /* SIGCHLD */
        uint32_t gen;
        bool sweep; /* a child exited that may be nobody's run: reap it */
        struct spawner_run runs[SPAWNER_RUNS_MAX];
};

/* epoll data: the run's generation, its index and which of its fds. */
enum { EV_REPLY, EV_ISOCK, EV_IPIDFD, EV_WPIDFD };
#define EV_MAIN UINT64_MAX
#define EV_SIGCHLD (UINT64_MAX - 1)
#define EV(r, i, kind) (((uint64_t) (r)->gen << 32) | ((uint64_t) (i) << 2) | (kind))
#define EV_IDX(d) ((size_t) (((d) & 0xffffffffu) >> 2))
#define EV_GEN(d) ((uint32_t) ((d) >> 32))

static void spawner_reply(int sock, int type, int code, int fd, const char *text)
{
        struct spawn_msg m = { .type = type, .code = code };
        snprintf(m.text, sizeof m.text, "%s", text ? text : "");
        (void) send_with_fd(sock, &m, sizeof m, fd);
}

static int sp_watch(struct spawner *sp, int fd, uint32_t events, uint64_t data)
{
        struct epoll_event ev = { .events = events, .data.u64 = data };
        return epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void sp_unwatch(struct spawner *sp, int *fd)
{
        if (*fd < 0)
                return;
        (void) epoll_ctl(sp->epfd, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
}

static bool run_tracks(const struct spawner *sp, pid_t pid)
{
        for (size_t i = 0; i < SPAWNER_RUNS_MAX; i++) {
                const struct spawner_run *r = &sp->runs[i];
                if (r->used && ((r->ipid == pid && !r->idone) || (r->wpid == pid && !r->wdone)))
                        return true;
        }
        return false;
}

/* A workload that its intermediate cloned but could not name (killed
 * between the two, or its report failed) is our child too: reaped here,
 * once no intermediate that might still name a zombie is alive. Our runs'
 * own processes are reaped by their events (a status to report). */
static void spawner_sweep(struct spawner *sp)
{
        for (size_t i = 0; i < SPAWNER_RUNS_MAX; i++)
                if (sp->runs[i].used && !sp->runs[i].idone)
                        return;
        sp->sweep = false;
        for (int i = 0; i < 256; i++) {
                siginfo_t si = { 0 };
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid <= 0)
                        return;
                if (run_tracks(sp, si.si_pid)) {
                        sp->sweep = true; /* its own event reaps it; look again later */
                        return;
                }
                (void) waitpid(si.si_pid, NULL, WNOHANG);
        }
}

static void run_free(struct spawner *sp, struct spawner_run *r)
{
        sp_unwatch(sp, &r->reply);
        sp_unwatch(sp, &r->isock);
        sp_unwatch(sp, &r->ipidfd);
        sp_unwatch(sp, &r->wpidfd);
        *r = (struct spawner_run){ .reply = -1, .isock = -1, .ipidfd = -1, .wpidfd = -1 };
}

static int exit_status(const siginfo_t *si)
{
        return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

/* Reads what the intermediate (or the workload before its exec) said.
 * Only the intermediate may name the workload (SCM_CREDENTIALS). */
static void run_read(struct spawner *sp, struct spawner_run *r)
{
        for (int i = 0; i < 16 && r->isock >= 0; i++) {
                struct spawn_msg m;
                pid_t sender;
                ssize_t k = recv_spawn_msg(r->isock, &m, &sender, NULL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {
                        sp_unwatch(sp, &r->isock);
                        return;
                }
                if (k != (ssize_t) sizeof m)
                        continue;
                if (m.type == SPAWN_MSG_PID && sender == r->ipid && r->wpid <= 0 && m.code > 0) {
                        r->wpid = (pid_t) m.code;
                        /* Not reaped before we wait: the pid is our child's. */
                        r->wpidfd = (int) syscall(SYS_pidfd_open, r->wpid, 0);
                        if (r->wpidfd < 0 || sp_watch(sp, r->wpidfd, EPOLLIN, EV(r, r - sp->runs, EV_WPIDFD)) < 0) {
                                /* cannot watch it: it goes now, the sweep reaps it */
                                (void) kill(r->wpid, SIGKILL);
                                if (r->wpidfd >= 0)
                                        close(r->wpidfd);
                                r->wpidfd = -1;
                                r->wdone = true;
                                r->wstatus = SPAWN_EXIT_SETUP;
                                sp->sweep = true;
                        }
                        if (r->cancelled)
                                exec_kill_group(r->wpid, r->wpidfd, r->init_pid, r->name, &sp->cache, NULL);
                } else if (m.type == SPAWN_MSG_ERROR && !r->has_err) {
                        r->err = m;
                        r->has_err = true;
                }
        }
}

/* Everything of the run was reaped: the answer, then the slot is free. */
static void run_maybe_done(struct spawner *sp, struct spawner_run *r)
{
        if (!r->idone || (r->wpid > 0 && !r->wdone))
                return;
        run_read(sp, r); /* what the intermediate said before it exited */
        if (!r->cancelled) {
                if (r->has_err)
                        spawner_reply(r->reply, SPAWN_MSG_ERROR, r->err.code, -1, r->err.text);
                else if (r->wpid > 0)
                        spawner_reply(r->reply, EXEC_MSG_EXITED, r->wstatus, -1, NULL);
                else {
                        char text[300];
                        snprintf(text, sizeof text, "cannot enter container '%s' (exit status %d)", r->name,
                                 r->istatus);
                        spawner_reply(r->reply, EXEC_MSG_FAILED, EIO, -1, text);
                }
        }
        run_free(sp, r);
}

static void run_cancel(struct spawner *sp, struct spawner_run *r)
{
        r->cancelled = true;
        sp_unwatch(sp, &r->reply);
        if (!r->idone && r->ipidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, r->ipidfd, SIGKILL, NULL, 0);
        if (r->wpid > 0 && !r->wdone)
                exec_kill_group(r->wpid, r->wpidfd, r->init_pid, r->name, &sp->cache, NULL);
}

static void run_event(struct spawner *sp, struct spawner_run *r, int kind)
{
        siginfo_t si = { 0 };
        switch (kind) {
        case EV_REPLY:
                run_cancel(sp, r);
                break;
        case EV_ISOCK:
                run_read(sp, r);
                break;
        case EV_IPIDFD:
                if (waitid(P_PIDFD, (id_t) r->ipidfd, &si, WEXITED | WNOHANG) < 0 || !si.si_pid)
                        return;
                r->idone = true;
                r->istatus = exit_status(&si);
                sp_unwatch(sp, &r->ipidfd);
                run_read(sp, r);
                break;
        case EV_WPIDFD:
                if (waitid(P_PIDFD, (id_t) r->wpidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || !si.si_pid)
                        return;
                r->wstatus = exit_status(&si);
                /* Whatever the probe started in the background goes with it;
                 * the zombie leader still holds the group's id meanwhile. */
                exec_kill_group(r->wpid, -1, r->init_pid, r->name, &sp->cache, NULL);
                (void) waitid(P_PIDFD, (id_t) r->wpidfd, &si, WEXITED | WNOHANG);
                r->wdone = true;
                sp_unwatch(sp, &r->wpidfd);
                break;
        }
        run_maybe_done(sp, r);
}

/* Strings: count NUL-terminated ones from *p within end. */
static const char *next_str(const char **p, const char *end)
{
        const char *s = *p;
        const char *z = s < end ? memchr(s, 0, (size_t) (end - s)) : NULL;
        if (!z)
                return NULL;
        *p = z + 1;
        return s;
}

/* The set-up of one probe's command; *reply is taken (kept by the run, or
 * answered and closed). */
static void spawner_exec(struct spawner *sp, const struct spawner_req *q, const char *strs, int *reply,
                         const int stdio[3])
{
        const char *p = strs, *end = strs + q->len;
        const char *name = next_str(&p, end), *user = next_str(&p, end), *workdir = next_str(&p, end);
        _cleanup_free_ char **argv = calloc(q->n_argv + 1, sizeof(char *));
        _cleanup_free_ char **env = calloc(q->n_env + 1, sizeof(char *));
        struct error e = { 0 };
        if (!name || !user || !workdir || !argv || !env || q->n_argv == 0 || strlen(name) >= sizeof sp->runs[0].name)
                return spawner_reply(*reply, EXEC_MSG_FAILED, EPROTO, -1, "the probe spawner: a malformed request");
        for (uint32_t i = 0; i < q->n_argv; i++)
                if (!(argv[i] = (char *) next_str(&p, end)))
                        return spawner_reply(*reply, EXEC_MSG_FAILED, EPROTO, -1,
                                             "the probe spawner: a malformed request");
        for (uint32_t i = 0; i < q->n_env; i++)
                if (!(env[i] = (char *) next_str(&p, end)))
                        return spawner_reply(*reply, EXEC_MSG_FAILED, EPROTO, -1,
                                             "the probe spawner: a malformed request");
        struct spawner_run *r = NULL;
        for (size_t i = 0; i < SPAWNER_RUNS_MAX && !r; i++)
                if (!sp->runs[i].used)
                        r = &sp->runs[i];
        if (!r)
                return spawner_reply(*reply, EXEC_MSG_FAILED, EAGAIN, -1,
                                     "the probe spawner: too many probes running at once");

        struct exec_child c = {
                .init_pidfd = -1,
                .init_exe_fd = -1,
                .go_fd = -1,
                .stdio = { stdio[0], stdio[1], stdio[2] },
                .home_from_user = q->flags & SPAWNER_F_HOME,
                .user = q->flags & SPAWNER_F_USER ? user : NULL,
                .workdir = workdir,
                .envp = env,
        };
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL; /* stays NULL: cached */
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        _cleanup_strv_free_ char **join_argv = NULL;
        int go[2] = { -1, -1 }, isv[2] = { -1, -1 }, one = 1, pidfd = -1;
        int rr = host_prepare(name, q->init_pid, q->init_start, sp->state_dir, &sp->cache, &c, &m, &cg, &e);
        if (rr < 0)
                goto fail;
        if (!(join_argv = join_argv_new(false, argv))) {
                rr = setup_failed(&e, -ENOMEM, "command");
                goto fail;
        }
        c.join_argv = join_argv;
        c.init_exe_fd = fcntl(sp->init_exe, F_DUPFD_CLOEXEC, 3);
        if (c.init_exe_fd < 0) {
                rr = setup_failed(&e, -errno, "cannot use the shared copy of berth-init");
                goto fail;
        }
        bool moved_itself = place_child(cg, &c);
        if (pipe2(go, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, isv) < 0 ||
            setsockopt(isv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                rr = setup_failed(&e, -errno, "pipe");
                goto fail;
        }
        pid_t child = (pid_t) syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
        if (child < 0) {
                rr = setup_failed(&e, -errno, "clone");
                goto fail;
        }
        if (child == 0) {
                close(go[1]);
                close(isv[0]);
                c.go_fd = go[0];
                c.sock = isv[1];
                intermediate_main(&c);
        }
        close(go[0]);
        close(isv[1]);
        child_done_parent(&c);
        *r = (struct spawner_run){ .used = true, .reply = *reply, .isock = isv[0], .ipid = child, .ipidfd = pidfd,
                                   .wpid = -1, .wpidfd = -1, .init_pid = q->init_pid, .gen = ++sp->gen };
        *reply = -1;
        snprintf(r->name, sizeof r->name, "%s", name);
        size_t idx = (size_t) (r - sp->runs);
        rr = moved_itself ? 0 : cgroup_attach(cg, child);
        if (rr < 0)
                rr = setup_failed(&e, rr, "container '%s': cannot join its cgroup", name);
        else if ((rr = settings_copy_rlimits(q->init_pid, child, &e)) < 0)
                (void) error_wrap(&e, "container '%s'", name);
        else if ((rr = sp_watch(sp, r->reply, 0, EV(r, idx, EV_REPLY))) < 0 ||
                 (rr = sp_watch(sp, r->isock, EPOLLIN, EV(r, idx, EV_ISOCK))) < 0 ||
                 (rr = sp_watch(sp, r->ipidfd, EPOLLIN, EV(r, idx, EV_IPIDFD))) < 0)
                rr = setup_failed(&e, rr, "epoll");
        if (rr < 0) {
                /* Not started: killed and reaped here (it waits for GO). */
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void) waitpid(child, NULL, 0);
                spawner_reply(r->reply, EXEC_MSG_FAILED, e.code ? e.code : EIO, -1, e.msg);
                close(go[1]);
                run_free(sp, r);
                return;
        }
        (void) !write(go[1], "g", 1);
        close(go[1]);
        return;

fail:
        child_done_parent(&c);
        for (int i = 0; i < 2; i++) {
                if (go[i] >= 0)
                        close(go[i]);
                if (isv[i] >= 0)
                        close(isv[i]);
        }
        spawner_reply(*reply, EXEC_MSG_FAILED, e.code ? e.code : EIO, -1, e.msg);
}

/* A TCP socket in the network namespace of the container's init: joined
 * and left again, no process made. */
static void spawner_socket(int own_netns, const struct spawner_req *q, int reply)
{
        _cleanup_close_ int initfd = -1;
        if (state_pidfd_verified(q->init_pid, q->init_start, &initfd) < 0)
                return spawner_reply(reply, EXEC_MSG_SOCKET, ESRCH, -1, NULL);
        if (setns(initfd, CLONE_NEWNET) < 0)
                return spawner_reply(reply, EXEC_MSG_SOCKET, errno, -1, NULL);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int err = s < 0 ? errno : 0;
        if (setns(own_netns, CLONE_NEWNET) < 0)
                _exit(1); /* never make anything in the wrong namespace: berthd starts another */
        spawner_reply(reply, EXEC_MSG_SOCKET, err, s, NULL);
        if (s >= 0)
                close(s);
}

/* One request from berthd. */
static void spawner_request(struct spawner *sp, char *buf, size_t bufsize)
{
        int fds[4];
        size_t n = 0;
        char cbuf[CMSG_SPACE(sizeof(int) * 8)];
        struct iovec iov = { .iov_base = buf, .iov_len = bufsize };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t k = recvmsg(sp->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (k <= 0)
                _exit(k == 0 ? 0 : 1); /* berthd is gone (or closed us): PDEATHSIG kills what runs */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int f;
                                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                                if (n < ELEMENTSOF(fds))
                                        fds[n++] = f;
                                else
                                        close(f);
                        }
        struct spawner_req q;
        bool ok = (size_t) k >= sizeof q;
        if (ok)
                memcpy(&q, buf, sizeof q);
        ok = ok && q.magic == SPAWNER_MAGIC && q.len == (size_t) k - sizeof q && n >= 1;
        int stdio[3] = { -1, -1, -1 };
        size_t next = 1;
        for (int i = 0; ok && i < 3; i++)
                if (q.stdio_mask & (1u << i)) {
                        if (next >= n)
                                ok = false;
                        else
                                stdio[i] = fds[next++];
                }
        if (ok && q.type == SPAWNER_EXEC)
                spawner_exec(sp, &q, buf + sizeof q, &fds[0], stdio);
        else if (ok && q.type == SPAWNER_SOCKET)
                spawner_socket(sp->own_netns, &q, fds[0]);
        else if (n >= 1)
                spawner_reply(fds[0], EXEC_MSG_FAILED, EPROTO, -1, "the probe spawner: a malformed request");
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

static _Noreturn void spawner_main(int sock, int init_exe, const char *state_dir)
{
        static char buf[sizeof(struct spawner_req) + SPAWNER_REQ_MAX];
        static struct spawner sp;
        sp = (struct spawner){ .sock = sock, .init_exe = init_exe, .state_dir = state_dir };
        for (size_t i = 0; i < SPAWNER_RUNS_MAX; i++)
                sp.runs[i] = (struct spawner_run){ .reply = -1, .isock = -1, .ipidfd = -1, .wpidfd = -1 };
        sp.own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        sp.epfd = epoll_create1(EPOLL_CLOEXEC);
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        /* The intermediates set their own mask (empty) before they exec. */
        if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
                _exit(1);
        sp.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sp.own_netns < 0 || sp.epfd < 0 || sp.sigfd < 0 || sp_watch(&sp, sock, EPOLLIN, EV_MAIN) < 0 ||
            sp_watch(&sp, sp.sigfd, EPOLLIN, EV_SIGCHLD) < 0)
                _exit(1);
        for (;;) {
                struct epoll_event evs[32];
                int n = epoll_wait(sp.epfd, evs, ELEMENTSOF(evs), sp.sweep ? 1000 : -1);
                if (n < 0 && errno != EINTR)
                        _exit(1);
                for (int i = 0; i < n; i++) {
                        uint64_t d = evs[i].data.u64;
                        if (d == EV_MAIN) {
                                spawner_request(&sp, buf, sizeof buf);
                                continue;
                        }
                        if (d == EV_SIGCHLD) {
                                struct signalfd_siginfo si;
                                while (read(sp.sigfd, &si, sizeof si) == (ssize_t) sizeof si)
                                        ;
                                sp.sweep = true;
                                continue;
                        }
                        size_t idx = EV_IDX(d);
                        if (idx < SPAWNER_RUNS_MAX && sp.runs[idx].used && sp.runs[idx].gen == EV_GEN(d))
                                run_event(&sp, &sp.runs[idx], (int) (d & 3));
                }
                if (sp.sweep)
                        spawner_sweep(&sp);
        }
}

int exec_spawner_new(int init_exe_fd, const char *state_dir, struct exec_spawner **ret)
{
        struct exec_spawner *sp = calloc(1, sizeof *sp);
        if (!sp)
                return -ENOMEM;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                int r = -errno;
                free(sp);
                return r;
        }
        int one = 1, size = 4 * SPAWNER_REQ_MAX;
        (void) setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        (void) setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                free(sp);
                return r;
        }
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (getppid() != parent)
                        _exit(0);
                (void) prctl(PR_SET_NAME, "berthd-probes", 0, 0, 0);
                /* Only its socket and berth-init's copy: at 3 and 4. */
                int a = fcntl(sv[1], F_DUPFD_CLOEXEC, 10), b = fcntl(init_exe_fd, F_DUPFD_CLOEXEC, 10);
                if (a < 0 || b < 0 || dup3(a, 3, O_CLOEXEC) < 0 || dup3(b, 4, O_CLOEXEC) < 0 ||
                    syscall(SYS_close_range, 5U, ~0U, 0U) < 0)
                        _exit(1);
                spawner_main(3, 4, state_dir);
        }
        close(sv[1]);
        sp->pid = pid;
        sp->sock = sv[0];
        sp->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        *ret = sp;
        return 0;
}

struct exec_spawner *exec_spawner_free(struct exec_spawner *sp)
{
        if (!sp)
                return NULL;
        if (sp->sock >= 0)
                close(sp->sock); /* it exits on EOF */
        if (sp->pid > 0) {
                if (sp->pidfd >= 0) {
                        struct pollfd pf = { .fd = sp->pidfd, .events = POLLIN };
                        if (poll(&pf, 1, 100) <= 0)
                                (void) syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL, 0);
                }
                reap(sp->pid);
        }
        if (sp->pidfd >= 0)
                close(sp->pidfd);
        free(sp);
        return NULL;
}

int exec_spawner_fd(const struct exec_spawner *sp)
{
        return sp->sock;
}

bool exec_spawner_dead(const struct exec_spawner *sp)
{
        return sp->dead;
}

void exec_spawner_handle(struct exec_spawner *sp)
{
        /* It sends nothing on its own socket: readable means its end. */
        char c;
        ssize_t k = recv(sp->sock, &c, sizeof c, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                sp->dead = true;
}

/* One request: the header, the strings, and the fds (the reply socket
 * first). -EPIPE etc. when the spawner is gone (marked dead). */
static int spawner_send(struct exec_spawner *sp, const struct spawner_req *q, const char *strs, const int *fds,
                        size_t n)
{
        if (sp->dead)
                return -EPIPE;
        char cbuf[CMSG_SPACE(sizeof(int) * 4)] = { 0 };
        struct iovec iov[2] = { { .iov_base = (void *) q, .iov_len = sizeof *q },
                                { .iov_base = (void *) strs, .iov_len = q->len } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                             .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        /* Never waits: a spawner that does not take requests fails the probe. */
        if (sendmsg(sp->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                int r = -errno;
                if (r != -EAGAIN)
                        sp->dead = true;
                return r;
        }
        return 0;
}

static int strs_add(char **buf, size_t *len, const char *s)
{
        size_t l = strlen(s) + 1;
        if (*len + l > SPAWNER_REQ_MAX)
                return -E2BIG;
        char *n = realloc(*buf, *len + l);
        if (!n)
                return -ENOMEM;
        memcpy(n + *len, s, l);
        *buf = n;
        *len += l;
        return 0;
}

/* Probe i's command in the spawner: the request, and the socket its
 * answer comes on. */
int exec_spawner_run(struct exec_spawner *sp, const struct exec_target *t, char *const argv[],
                     const struct exec_opts *o, int *ret_fd, struct error *e)
{
        *ret_fd = -1;
        if (!argv || !argv[0] || !argv[0][0])
                return setup_failed(e, -EINVAL, "no command");
        if (o->tty)
                return setup_failed(e, -EINVAL, "the probe spawner makes no pty");
        struct exec_child c = { .init_pidfd = -1, .init_exe_fd = -1, .go_fd = -1 };
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        int r = process_prepare(t, NULL, o, &c, &env, &img, e);
        if (r < 0)
                return r;
        struct spawner_req q = {
                .magic = SPAWNER_MAGIC,
                .type = SPAWNER_EXEC,
                .init_pid = t->init_pid,
                .init_start = t->init_start,
                .flags = (c.home_from_user ? SPAWNER_F_HOME : 0) | (c.user ? SPAWNER_F_USER : 0),
        };
        _cleanup_free_ char *strs = NULL;
        size_t len = 0;
        r = strs_add(&strs, &len, t->name);
        if (r >= 0)
                r = strs_add(&strs, &len, c.user ? c.user : "");
        if (r >= 0)
                r = strs_add(&strs, &len, c.workdir);
        for (size_t i = 0; r >= 0 && argv[i]; i++, q.n_argv++)
                r = strs_add(&strs, &len, argv[i]);
        for (size_t i = 0; r >= 0 && env[i]; i++, q.n_env++)
                r = strs_add(&strs, &len, env[i]);
        if (r < 0)
                return setup_failed(e, r, "container '%s': the command and environment are too large", t->name);
        q.len = (uint32_t) len;

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
                return setup_failed(e, -errno, "socketpair");
        int fds[4] = { sv[1] };
        size_t n = 1;
        for (int i = 0; i < 3; i++)
                if (o->stdio[i] >= 0) {
                        q.stdio_mask |= 1u << i;
                        fds[n++] = o->stdio[i];
                }
        r = spawner_send(sp, &q, strs, fds, n);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                return setup_failed(e, r, "the probe spawner does not take requests");
        }
        *ret_fd = sv[0];
        return 0;
}

int exec_spawner_run_result(int fd, int *ret_status, struct error *e)
{
        struct spawn_msg m;
        ssize_t k = recv(fd, &m, sizeof m, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k != (ssize_t) sizeof m)
                return setup_failed(e, k < 0 ? -errno : -EPROTO, "the probe spawner went away");
        m.text[sizeof m.text - 1] = 0;
        switch (m.type) {
        case EXEC_MSG_EXITED:
                *ret_status = m.code;
                return 1;
        case SPAWN_MSG_ERROR: /* berth-init's: the command, or the set-up inside */
                (void) error_set_msg(e, -EINVAL, "%s", m.text);
                e->code = m.code == SPAWN_EXIT_NOTFOUND ? ENOENT : m.code == SPAWN_EXIT_NOEXEC ? EACCES : EINVAL;
                return -e->code;
        case EXEC_MSG_FAILED:
                (void) error_set_msg(e, m.code > 0 ? -m.code : -EIO, "%s", m.text);
                return -e->code;
        default:
                return setup_failed(e, -EPROTO, "the probe spawner: an unknown answer");
        }
}

int exec_spawner_socket_request(struct exec_spawner *sp, pid_t init_pid, uint64_t init_start, int *ret_fd)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
                return -errno;
        struct spawner_req q = { .magic = SPAWNER_MAGIC, .type = SPAWNER_SOCKET, .init_pid = init_pid,
                                 .init_start = init_start };
        int r = spawner_send(sp, &q, "", &sv[1], 1);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                return r;
        }
        *ret_fd = sv[0];
        return 0;
}

int exec_spawner_socket_take(int fd, int *ret_sock)
{
        struct spawn_msg m;
        int s = -1;
        int r = recv_with_fd(fd, &m, sizeof m, &s);
        if (r == -EAGAIN || r == -EINTR)
                return -EAGAIN;
        if (r <= 0 || m.type != EXEC_MSG_SOCKET) {
                if (s >= 0)
                        close(s);
                return r < 0 ? r : -EPROTO; /* EOF: the spawner went before it answered */
        }
        if (m.code != 0 || s < 0) {
                if (s >= 0)
                        close(s);
                return m.code > 0 ? -m.code : -EPROTO;
        }
        *ret_sock = s;
        return 0;
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
