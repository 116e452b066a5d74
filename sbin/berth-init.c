/* berth-init: the only berth code that runs inside a container once it is
 * built. The set-up child (lib/spawn.c) prepares everything in berthctl's
 * or berthd's code, then replaces itself with this small static program,
 * executed from a sealed memfd copy, and so does the workload's process
 * just before the workload's own exec. No process of the container ever
 * runs, or is, the host's berthctl or berthd binary while container code
 * can reach it through /proc/PID/exe (CVE-2019-5736), and the one that
 * stays resident as PID 1 is small.
 *
 *   berth-init init PID READYFD
 *       PID 1: forwards every signal to the workload PID, reaps every
 *       orphan, and exits with the workload's status (128+signal when it
 *       was killed). Started with every signal blocked. Closes READYFD
 *       once it is named, non-dumpable and has its handlers: the workload
 *       waits for that.
 *   berth-init exec SOCKFD WAITFD -- ARGV...
 *       The workload's process: waits for EOF on WAITFD (the init has
 *       been replaced; -1: no wait), then executes ARGV (PATH search in
 *       the environment's PATH). A failure is reported on SOCKFD as a
 *       struct spawn_msg and ends the process with 126 or 127.
 *   berth-init join SOCKFD UID GID TTY -- ARGV...
 *       berthctl exec and health probes (lib/exec.c): run by a process
 *       that has joined a running container's namespaces and confined
 *       itself (capabilities, no_new_privs, seccomp, every other fd
 *       closed) but is not in its PID namespace. Clones the workload's
 *       process into it as a sibling (CLONE_PARENT: a child of the
 *       caller), reports its pid on SOCKFD and exits. That process leads a
 *       session (TTY 1: fd 0 becomes its controlling terminal), switches to
 *       UID:GID (supplementary groups: GID) and executes ARGV as the exec
 *       mode does. So the only process a container can see or ptrace is
 *       already confined, holds no host fd and has no memory of berthd's.
 *
 * Linked static from this file alone; not meant to be run by hand. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn_msg.h"

static int exit_status(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

static long num(const char *s)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (!*s || *end || errno)
                return -2;
        return v;
}

static void noop_handler(int sig)
{
        (void) sig;
}

static _Noreturn void init_loop(pid_t workload, int readyfd)
{
        /* The mask was inherited fully blocked: a signal sent before the
         * loop waits is queued, never lost. Handlers, so that the kernel
         * does not drop a signal a namespace init leaves at SIG_DFL. */
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        struct sigaction sa = { .sa_handler = noop_handler };
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) sigaction(s, &sa, NULL);
        close(readyfd);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0 && errno == EINTR)
                        continue;
                if (sig < 0) {
                        /* A seccomp profile that denies rt_sigtimedwait: no
                         * forwarding then, but still reap until the workload
                         * ends (never spin). */
                        for (;;) {
                                int st;
                                pid_t p = waitpid(-1, &st, 0);
                                if (p == workload)
                                        _exit(exit_status(st));
                                if (p < 0 && errno != EINTR)
                                        _exit(SPAWN_EXIT_SETUP);
                        }
                }
                if (sig == SIGCHLD) {
                        int st;
                        pid_t p;
                        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                                if (p == workload)
                                        _exit(exit_status(st));
                        continue;
                }
                (void) kill(workload, sig);
        }
}

static _Noreturn void fail(int sock, int code, int err, const char *cmd)
{
        struct spawn_msg m = { .type = SPAWN_MSG_ERROR, .code = code };
        snprintf(m.text, sizeof m.text, "cannot execute '%s': %s", cmd, strerror(err));
        if (sock >= 0)
                (void) send(sock, &m, sizeof m, MSG_NOSIGNAL);
        _exit(code);
}

static _Noreturn void exec_workload(int sock, int waitfd, char **argv)
{
        if (waitfd >= 0) {
                char c;
                while (read(waitfd, &c, 1) < 0 && errno == EINTR)
                        ;
                close(waitfd);
        }
        /* The sync socket reaches the parent until the workload runs. */
        if (sock >= 0 && fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
                fail(sock, SPAWN_EXIT_SETUP, errno, argv[0]);
        extern char **environ;
        const char *cmd = argv[0];
        if (strchr(cmd, '/')) {
                execve(cmd, argv, environ);
                fail(sock, errno == ENOENT || errno == ENOTDIR ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC, errno,
                     cmd);
        }
        const char *path = getenv("PATH");
        int saved = ENOENT;
        for (const char *s = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; *s;) {
                const char *e = strchrnul(s, ':');
                char full[4096];
                snprintf(full, sizeof full, "%.*s/%s", (int) (e - s), s, cmd);
                execve(full, argv, environ);
                if (errno != ENOENT && errno != ENOTDIR)
                        saved = errno;
                s = *e ? e + 1 : e;
        }
        fail(sock, saved == ENOENT ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC, saved, cmd);
}

/* The workload's process of an exec: ids, then the workload. Raw
 * syscalls, as lib/security.c's security_set_ids(): keep the capabilities
 * across the switch for root only. */
static _Noreturn void join_workload(int sock, long uid, long gid, bool tty, char **argv)
{
        if (setsid() < 0)
                fail(sock, SPAWN_EXIT_SETUP, errno, "setsid");
        if (tty && ioctl(0, TIOCSCTTY, 0) < 0)
                fail(sock, SPAWN_EXIT_SETUP, errno, "the pty as controlling terminal");
        gid_t groups[1] = { (gid_t) gid };
        if (syscall(SYS_setgroups, 1, groups) < 0 || syscall(SYS_setresgid, gid, gid, gid) < 0 ||
            syscall(SYS_setresuid, uid, uid, uid) < 0)
                fail(sock, SPAWN_EXIT_SETUP, errno, "the switch to the user");
        if (uid != 0) {
                /* setresuid() cleared the effective set; the permitted set
                 * goes too (no_new_privs keeps file capabilities out). */
                struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
                struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
                if (syscall(SYS_capset, &hdr, data) < 0)
                        fail(sock, SPAWN_EXIT_SETUP, errno, "capset");
        }
        exec_workload(sock, -1, argv);
}

static _Noreturn void join(int sock, long uid, long gid, bool tty, char **argv)
{
        /* Inherits our exit signal (SIGCHLD), goes to our parent. */
        long pid = syscall(SYS_clone, (unsigned long) CLONE_PARENT, NULL, NULL, NULL, NULL);
        if (pid < 0)
                fail(sock, SPAWN_EXIT_SETUP, errno, "clone into the container");
        if (pid == 0)
                join_workload(sock, uid, gid, tty, argv);
        struct spawn_msg m = { .type = SPAWN_MSG_PID, .code = (int32_t) pid };
        if (send(sock, &m, sizeof m, MSG_NOSIGNAL) != (ssize_t) sizeof m) {
                (void) kill((pid_t) pid, SIGKILL);
                _exit(SPAWN_EXIT_SETUP);
        }
        _exit(0);
}

int main(int argc, char **argv)
{
        /* Nothing in the container may open or ptrace the init. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (argc == 4 && strcmp(argv[1], "init") == 0) {
                long pid = num(argv[2]), readyfd = num(argv[3]);
                if (pid > 0 && readyfd >= 0) {
                        (void) prctl(PR_SET_NAME, "berth-init", 0, 0, 0);
                        init_loop((pid_t) pid, (int) readyfd);
                }
        } else if (argc >= 6 && strcmp(argv[1], "exec") == 0 && strcmp(argv[4], "--") == 0) {
                long sock = num(argv[2]), waitfd = num(argv[3]);
                if (sock >= -1 && waitfd >= -1)
                        exec_workload((int) sock, (int) waitfd, argv + 5);
        } else if (argc >= 8 && strcmp(argv[1], "join") == 0 && strcmp(argv[6], "--") == 0) {
                long sock = num(argv[2]), uid = num(argv[3]), gid = num(argv[4]), tty = num(argv[5]);
                if (sock >= 0 && uid >= 0 && gid >= 0 && (tty == 0 || tty == 1))
                        join((int) sock, uid, gid, tty == 1, argv + 7);
        }
        fprintf(stderr, "usage: berth-init init PID READYFD | berth-init exec SOCKFD WAITFD -- CMD [ARG...]\n"
                        "       berth-init join SOCKFD UID GID TTY -- CMD [ARG...]\n"
                        "(started by berthctl and berthd inside a container, not by hand)\n");
        return 2;
}
