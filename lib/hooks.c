#include "hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

static usec_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * SPEC_USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static _Noreturn void hook_child(const struct spec_hook *h, const struct hook_env *env, int out)
{
        char name[128], pid[32], dir[4200], kind[32];
        char *envp[6];
        size_t n = 0;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++)
                (void) signal(s, SIG_DFL);
        (void) setpgid(0, 0); /* killed as a group at the timeout */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* its runner gone: nobody keeps its time */
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(127);
        snprintf(name, sizeof name, "BERTH_CONTAINER=%s", env->name);
        snprintf(dir, sizeof dir, "BERTH_STATE_DIR=%s", env->state_dir);
        snprintf(kind, sizeof kind, "BERTH_HOOK=%s", hook_kind_to_string(env->kind));
        envp[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
        envp[n++] = name;
        envp[n++] = dir;
        envp[n++] = kind;
        if (env->pid > 0) {
                snprintf(pid, sizeof pid, "BERTH_PID=%d", (int) env->pid);
                envp[n++] = pid;
        }
        envp[n] = NULL;
        execve(h->command[0], h->command, envp);
        fprintf(stderr, "cannot execute %s: %s\n", h->command[0], strerror(errno));
        _exit(127);
}

/* The output as one line: control characters become spaces, trailing
 * space dropped. */
static void one_line(char *s)
{
        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20)
                        *p = ' ';
        for (size_t l = strlen(s); l > 0 && s[l - 1] == ' '; l--)
                s[l - 1] = 0;
}

int hooks_run(const struct spec_hook *h, const struct hook_env *env, struct error *e)
{
        const char *what = hook_kind_to_string(env->kind);
        int p[2];
        if (!h->command || !h->command[0])
                return 0;
        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(e, -errno, "hook %s: cannot create a pipe", what);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return error_set(e, r, "hook %s: cannot fork", what);
        }
        if (pid == 0) {
                close(p[0]);
                hook_child(h, env, p[1]);
        }
        (void) setpgid(pid, pid); /* either of us may be first */
        close(p[1]);
        _cleanup_close_ int out = p[0];
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        char buf[HOOK_OUTPUT_MAX + 1];
        size_t len = 0;
        bool eof = false, exited = false, timed_out = false;
        usec_t deadline = now_usec() + h->timeout;
        while (!exited || !eof) {
                struct pollfd fds[2] = { { .fd = eof ? -1 : out, .events = POLLIN },
                                         { .fd = exited ? -1 : pidfd, .events = POLLIN } };
                usec_t now = now_usec();
                if (now >= deadline) {
                        timed_out = !exited;
                        break;
                }
                int k = poll(fds, 2, (int) ((deadline - now + 999) / 1000));
                if (k < 0 && errno != EINTR)
                        break;
                if (k <= 0)
                        continue;
                if (fds[0].revents) {
                        char tmp[4096];
                        ssize_t n = read(out, tmp, sizeof tmp);
                        if (n <= 0 && !(n < 0 && errno == EINTR))
                                eof = true;
                        for (ssize_t i = 0; n > 0 && i < n && len < HOOK_OUTPUT_MAX; i++)
                                buf[len++] = tmp[i];
                }
                if (fds[1].revents)
                        exited = true;
                if (pidfd < 0)
                        exited = eof; /* no pidfd: the end of its output has to do */
        }
        if (!exited || timed_out)
                (void) kill(-pid, SIGKILL); /* the hook and what it started */
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        buf[len] = 0;
        one_line(buf);
        const char *sep = buf[0] ? ": " : "";
        if (timed_out) {
                char d[32];
                return error_set_msg(e, -ETIMEDOUT, "hook %s: killed after its timeout of %s%s%s", what,
                                     format_duration(h->timeout, d, sizeof d), sep, buf);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return error_set_msg(e, -EPROTO, "hook %s: '%s' exited with status %d%s%s", what, h->command[0],
                                     WEXITSTATUS(status), sep, buf);
        return error_set_msg(e, -EPROTO, "hook %s: '%s' killed by signal %d%s%s", what, h->command[0],
                             WTERMSIG(status), sep, buf);
}
