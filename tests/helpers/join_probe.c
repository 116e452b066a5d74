/* join_probe: runs inside a container and attacks the processes berth
 * brings into it (berthctl exec, health probes), as a red team would.
 * Static, libc only.
 *
 *   join_probe seize SECONDS
 *       Needs CAP_SYS_PTRACE. Watches the PID namespace's last pid and
 *       PTRACE_SEIZEs every new process as soon as it exists, stops it
 *       (PTRACE_INTERRUPT) and reports what it holds, one line each:
 *         seized PID capeff=HEX nnp=N seccomp=N fds=LIST
 *       and "PRIV ..." for a process with more than this container's own
 *       confinement: a capability outside our bounding set, no_new_privs
 *       or seccomp off, or an fd other than 0-2 and sockets. Ends with
 *       "seized N, privileged M".
 *   join_probe stop SECONDS
 *       SIGSTOPs every new process as soon as it exists (any user can do
 *       this to its own container's processes). Prints "stopped N".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long last_pid(void)
{
        char buf[32];
        int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k <= 0)
                return -1;
        buf[k] = 0;
        return strtol(buf, NULL, 10);
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int status_field(pid_t pid, const char *key, char *out, size_t n)
{
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k <= 0)
                return -1;
        buf[k] = 0;
        size_t kl = strlen(key);
        for (char *l = buf; l && *l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                if (strncmp(l, key, kl) == 0 && l[kl] == ':') {
                        const char *v = l + kl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        snprintf(out, n, "%s", v);
                        return 0;
                }
                l = nl ? nl + 1 : NULL;
        }
        return -1;
}

/* The fds of pid other than 0-2 and sockets, as "N:target,..."; counts them. */
static int foreign_fds(pid_t pid, char *out, size_t n)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
        DIR *d = opendir(path);
        out[0] = 0;
        if (!d)
                return 0;
        int count = 0;
        size_t len = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                int fd = atoi(e->d_name);
                char link[300], target[256];
                snprintf(link, sizeof link, "/proc/%d/fd/%s", (int) pid, e->d_name);
                ssize_t k = readlink(link, target, sizeof target - 1);
                if (k < 0)
                        continue;
                target[k] = 0;
                if (fd <= 2 || strncmp(target, "socket:", 7) == 0)
                        continue;
                count++;
                if (len < n)
                        len += (size_t) snprintf(out + len, n - len, "%s%d:%s", len ? "," : "", fd, target);
        }
        closedir(d);
        return count;
}

static uint64_t own_bounding(void)
{
        char v[64];
        if (status_field(getpid(), "CapBnd", v, sizeof v) < 0)
                return 0;
        return strtoull(v, NULL, 16);
}

static int seize(double seconds)
{
        uint64_t bnd = own_bounding();
        double end = now() + seconds;
        int seized = 0, priv = 0;
        long next = last_pid() + 1;
        while (now() < end) {
                long last = last_pid();
                if (last >= next + 64 || last < next - 64) /* wrapped or fell behind */
                        next = last + 1;
                for (long p = next; p <= last + 1; p++) {
                        if (p == getpid() || ptrace(PTRACE_SEIZE, (pid_t) p, 0, 0) < 0)
                                continue;
                        (void) ptrace(PTRACE_INTERRUPT, (pid_t) p, 0, 0);
                        int st;
                        (void) waitpid((pid_t) p, &st, __WALL);
                        char capeff[64] = "?", nnp[16] = "?", sec[16] = "?", fds[512];
                        /* Gone before it stopped (a fast probe): nothing to judge. */
                        if (status_field((pid_t) p, "CapEff", capeff, sizeof capeff) < 0 ||
                            status_field((pid_t) p, "NoNewPrivs", nnp, sizeof nnp) < 0 ||
                            status_field((pid_t) p, "Seccomp", sec, sizeof sec) < 0) {
                                (void) ptrace(PTRACE_DETACH, (pid_t) p, 0, 0);
                                if (p >= next)
                                        next = p + 1;
                                continue;
                        }
                        int nf = foreign_fds((pid_t) p, fds, sizeof fds);
                        uint64_t eff = strtoull(capeff, NULL, 16);
                        bool bad = (eff & ~bnd) != 0 || strcmp(nnp, "1") != 0 || strcmp(sec, "2") != 0 || nf > 0;
                        printf("%sseized %ld capeff=%s nnp=%s seccomp=%s fds=%s\n", bad ? "PRIV " : "", p, capeff,
                               nnp, sec, fds);
                        fflush(stdout);
                        seized++;
                        priv += bad;
                        (void) ptrace(PTRACE_DETACH, (pid_t) p, 0, 0);
                        if (p >= next)
                                next = p + 1;
                }
        }
        printf("seized %d, privileged %d\n", seized, priv);
        return 0;
}

static int stop_new(double seconds)
{
        double end = now() + seconds;
        int stopped = 0;
        long next = last_pid() + 1;
        while (now() < end) {
                long last = last_pid();
                for (long p = next; p <= last + 1; p++)
                        if (p != getpid() && kill((pid_t) p, SIGSTOP) == 0) {
                                stopped++;
                                next = p + 1;
                        }
                if (last >= next + 64 || last < next - 64)
                        next = last + 1;
        }
        printf("stopped %d\n", stopped);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "seize") == 0)
                return seize(atof(argv[2]));
        if (argc == 3 && strcmp(argv[1], "stop") == 0)
                return stop_new(atof(argv[2]));
        fprintf(stderr, "usage: join_probe seize|stop SECONDS\n");
        return 2;
}
