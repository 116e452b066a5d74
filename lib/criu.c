#include "criu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CRIU_OUTPUT_MAX (64 * 1024)
#define CRIU_TIMEOUT_MS (600 * 1000)

const char *criu_program(void)
{
        const char *p = getenv("BERTH_CRIU");
        return p && *p ? p : "criu";
}

/* Runs criu with argv (argv[0] is replaced by criu_program()), its output
 * collected into out (NUL-terminated, the first CRIU_OUTPUT_MAX bytes).
 * Returns the exit status (>= 0), 127 when it cannot be executed, or
 * -errno. */
static int run_criu(char **argv, char **out)
{
        *out = NULL;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        argv[0] = (char *) criu_program();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                dprintf(2, "Error (berth): cannot execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(p[1]);
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                if (spent >= CRIU_TIMEOUT_MS || poll(&pfd, 1, (int) (CRIU_TIMEOUT_MS - spent)) == 0) {
                        (void) kill(pid, SIGKILL);
                        break;
                }
                char chunk[4096];
                ssize_t n = read(p[0], chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (buf && len + (size_t) n + 1 > cap && len + (size_t) n < CRIU_OUTPUT_MAX) {
                        cap = (len + (size_t) n + 1) * 2;
                        char *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                        } else
                                buf = nb;
                }
                if (buf && len + (size_t) n + 1 <= cap) {
                        memcpy(buf + len, chunk, (size_t) n);
                        len += (size_t) n;
                }
        }
        close(p[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR) {
                        free(buf);
                        return -errno;
                }
        if (buf)
                buf[len] = 0;
        *out = buf;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void criu_reason(const char *text, char *out, size_t size)
{
        size_t o = 0;
        out[0] = 0;
        const char *last = NULL;
        size_t last_len = 0;
        for (const char *l = text ? text : ""; *l;) {
                const char *end = strchr(l, '\n');
                size_t n = end ? (size_t) (end - l) : strlen(l);
                /* "(00.012345) Error (criu/x.c:12): message" or "Error (...): message" */
                const char *err = memmem(l, n, "Error (", 7);
                const char *msg = err ? memmem(err, n - (size_t) (err - l), "): ", 3) : NULL;
                if (msg) {
                        msg += 3;
                        size_t m = n - (size_t) (msg - l);
                        if (o && o + 2 < size) {
                                memcpy(out + o, "; ", 2);
                                o += 2;
                        }
                        if (o + 1 < size) {
                                size_t k = m < size - o - 1 ? m : size - o - 1;
                                memcpy(out + o, msg, k);
                                o += k;
                                out[o] = 0;
                        }
                } else if (n) {
                        last = l;
                        last_len = n;
                }
                l += n + (end ? 1 : 0);
        }
        if (!o && last)
                snprintf(out, size, "%.*s", (int) last_len, last);
}

int criu_check(struct error *e)
{
        char *argv[] = { NULL, "check", NULL };
        _cleanup_free_ char *out = NULL;
        int r = run_criu(argv, &out);
        if (r < 0)
                return error_set(e, r, "cannot run %s check", criu_program());
        if (r == 0)
                return 0;
        char why[800];
        criu_reason(out, why, sizeof why);
        if (r == 127)
                return error_set_msg(e, -ENOENT, "CRIU is not available: %s (the Debian package criu)", why);
        return error_set_msg(e, -EOPNOTSUPP, "CRIU cannot checkpoint on this host: criu check: %s", why);
}

/* One process of the tree (and, recursively, its children's): -EOPNOTSUPP
 * with e set when its program is a memory file. depth bounds the walk. */
static int restorable_one(pid_t pid, pid_t init, int depth, struct error *e)
{
        char path[64], exe[300];
        snprintf(path, sizeof path, "/proc/%d/exe", (int) pid);
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        if (n > 0) {
                exe[n] = 0;
                if (strncmp(exe, "/memfd:", 7) == 0) {
                        if (pid == init)
                                return error_set_msg(
                                        e, -EOPNOTSUPP,
                                        "its init (pid %d) runs from a memory file (%s), which CRIU cannot restore as "
                                        "a program: berth's own init does in a container with capability sys_admin "
                                        "or idmap, or started without berthd's read-only copy of berth-init; set "
                                        "init = false in its definition to checkpoint it",
                                        (int) pid, exe);
                        return error_set_msg(e, -EOPNOTSUPP,
                                             "its process %d runs from a memory file (%s), which CRIU cannot restore "
                                             "as a program",
                                             (int) pid, exe);
                }
        }
        if (depth > 64)
                return 0;
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
        FILE *f = fopen(path, "re");
        int child, r = 0;
        while (f && r == 0 && fscanf(f, "%d", &child) == 1)
                r = restorable_one(child, init, depth + 1, e);
        if (f)
                fclose(f);
        return r;
}

int criu_restorable(pid_t pid, struct error *e)
{
        return restorable_one(pid, pid, 0, e);
}

/* What fd i of the tree's output is: the init's, or, when the init holds
 * none (berth's own init closes 0-2), its first child's that has it (the
 * workload's). 0, or -ENOENT. */
static int stdio_target(pid_t pid, int i, char *buf, size_t size)
{
        char link[64];
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int) pid, i);
        ssize_t n = readlink(link, buf, size - 1);
        snprintf(link, sizeof link, "/proc/%d/task/%d/children", (int) pid, (int) pid);
        FILE *f = n < 0 ? fopen(link, "re") : NULL;
        int child;
        while (n < 0 && f && fscanf(f, "%d", &child) == 1) {
                snprintf(link, sizeof link, "/proc/%d/fd/%d", child, i);
                n = readlink(link, buf, size - 1);
        }
        if (f)
                fclose(f);
        if (n < 0)
                return -ENOENT;
        buf[n] = 0;
        return 0;
}

int criu_dump(const struct criu_dump_params *p, struct error *e)
{
        char pid[16], ns[64], log[] = "dump.log";
        snprintf(pid, sizeof pid, "%d", (int) p->pid);
        struct stat st;
        char nspath[64];
        snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int) p->pid);
        if (stat(nspath, &st) < 0)
                return error_set(e, -errno, "cannot read the network namespace of pid %d", (int) p->pid);
        snprintf(ns, sizeof ns, "net[%lu]:berth-net", (unsigned long) st.st_ino);
        /* The pipes the init writes to (its log): replaced by new ones at restore. */
        _cleanup_free_ char *rec = strdup_printf("%s/berth-stdio", p->images_dir);
        FILE *f = rec ? fopen(rec, "we") : NULL;
        if (!f)
                return error_set(e, -errno, "cannot write %s", rec ? rec : "berth-stdio");
        for (int i = 0; i < 3; i++) {
                char target[256];
                if (stdio_target(p->pid, i, target, sizeof target) == 0)
                        fprintf(f, "%d %s\n", i, target);
        }
        if (fclose(f) != 0)
                return error_set(e, -EIO, "cannot write %s", rec);
        char *argv[32] = { NULL, "dump", "-t", pid, "-D", (char *) p->images_dir, "-o", log, "-v4",
                           "--external", ns, "--tcp-established", "--file-locks", "--ext-unix-sk",
                           "--manage-cgroups=ignore", "--ext-mount-map", "auto", "--enable-external-sharing",
                           "--enable-external-masters", "--network-lock", "nftables", "--skip-in-flight" };
        size_t n = 22;
        if (p->cgroup) {
                argv[n++] = "--freeze-cgroup";
                argv[n++] = (char *) p->cgroup;
        }
        if (p->leave_running)
                argv[n++] = "--leave-running";
        argv[n] = NULL;
        _cleanup_free_ char *out = NULL;
        int r = run_criu(argv, &out);
        if (r < 0)
                return error_set(e, r, "cannot run %s dump", criu_program());
        if (r == 0)
                return 0;
        _cleanup_free_ char *logtext = NULL;
        _cleanup_close_ int dfd = open(p->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t len;
        if (dfd >= 0)
                (void) read_file_at(dfd, log, 1 << 20, &logtext, &len);
        char why[800];
        criu_reason(logtext ? logtext : out, why, sizeof why);
        return error_set_msg(e, -EIO, "criu dump failed (exit %d): %s (log: %s/%s)", r, why, p->images_dir, log);
}

_Noreturn void criu_restore_exec(const struct criu_restore_params *p)
{
        /* Fixed fd numbers for what criu inherits; everything else closes on exec. */
        enum { FD_NET = 20, FD_STDIO = 21 };
        char *argv[48] = { (char *) criu_program(), "restore", "-D", (char *) p->images_dir, "-o", "restore.log",
                           "-v4", "--restore-detached", "--restore-sibling", "--root", (char *) p->root,
                           "--pidfile", (char *) p->pidfile, "--tcp-established", "--file-locks", "--ext-unix-sk",
                           "--manage-cgroups=ignore", "--ext-mount-map", "auto", "--enable-external-sharing",
                           "--enable-external-masters", "--network-lock", "nftables" };
        size_t n = 23;
        static char inherit[4][320];
        if (p->netns_fd >= 0) {
                if (dup2(p->netns_fd, FD_NET) < 0)
                        _exit(126);
                snprintf(inherit[0], sizeof inherit[0], "fd[%d]:berth-net", FD_NET);
                argv[n++] = "--inherit-fd";
                argv[n++] = inherit[0];
        }
        _cleanup_free_ char *rec = strdup_printf("%s/berth-stdio", p->images_dir);
        FILE *f = rec ? fopen(rec, "re") : NULL;
        char line[320];
        while (f && fgets(line, sizeof line, f)) {
                int i;
                char target[280];
                if (sscanf(line, "%d %279s", &i, target) != 2 || i < 0 || i > 2 || p->stdio[i] < 0 ||
                    strncmp(target, "pipe:[", 6) != 0)
                        continue;
                if (dup2(p->stdio[i], FD_STDIO + i) < 0)
                        _exit(126);
                snprintf(inherit[1 + i], sizeof inherit[1 + i], "fd[%d]:%s", FD_STDIO + i, target);
                argv[n++] = "--inherit-fd";
                argv[n++] = inherit[1 + i];
        }
        argv[n] = NULL;
        execvp(argv[0], argv);
        dprintf(2, "Error (berth): cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

int criu_restore_failed(const char *images_dir, int status, struct error *e)
{
        _cleanup_free_ char *logtext = NULL;
        _cleanup_close_ int dfd = open(images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t len;
        if (dfd >= 0)
                (void) read_file_at(dfd, "restore.log", 1 << 20, &logtext, &len);
        char why[800];
        criu_reason(logtext ? logtext : "", why, sizeof why);
        return error_set_msg(e, -EIO, "criu restore failed (exit %d): %s (log: %s/restore.log)", status,
                             why[0] ? why : "no log", images_dir);
}
