/* syscall_probe: run inside a container, it tries every syscall the
 * default seccomp profile must block and prints one line per attempt,
 * then the process's hardening state. Static, no libberth.
 *
 * Output (one item per line, easy to grep):
 *   NAME ERRNO            64-bit ABI, e.g. "keyctl EPERM", "clone3 ENOSYS"
 *   i386:NAME ERRNO       the same call through int $0x80 (the i386 ABI,
 *                         which needs no multilib to test)
 *   i386-abi unavailable (...)   int $0x80 faults: no i386: lines follow
 *   x32:NAME ERRNO        through the x32 ABI (ENOSYS without a filter on
 *                         kernels built without CONFIG_X86_X32_ABI)
 *   tiocsti_fd0 ERRNO     TIOCSTI on stdin
 *   CapInh: ... CapPrm: ... CapEff: ... CapBnd: ... CapAmb: ...
 *   NoNewPrivs: N  Seccomp: N      copied from /proc/self/status
 *   fd N TARGET           every open fd (except the one listing them)
 * ERRNO is OK when the call succeeded. Arguments are chosen so that a call
 * that is not blocked fails harmlessly (bad flags, NULL pointers, paths
 * that do not exist); calls that would change the probe's own state when
 * allowed (unshare, clone with namespace flags) run in a forked child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define SOCK_STREAM_ 1
#define AF_INET_ 2
#define X32_BIT 0x40000000L

static const char *errno_name(int e)
{
        static const struct {
                int e;
                const char *n;
        } t[] = {
                { 0, "OK" },          { EPERM, "EPERM" },       { ENOENT, "ENOENT" },
                { ESRCH, "ESRCH" },   { EINTR, "EINTR" },       { EIO, "EIO" },
                { E2BIG, "E2BIG" },   { EBADF, "EBADF" },       { ECHILD, "ECHILD" },
                { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },     { EACCES, "EACCES" },
                { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },       { EEXIST, "EEXIST" },
                { ENODEV, "ENODEV" }, { ENOTDIR, "ENOTDIR" },   { EINVAL, "EINVAL" },
                { ENOTTY, "ENOTTY" }, { ENOSPC, "ENOSPC" },     { EROFS, "EROFS" },
                { ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },     { EOPNOTSUPP, "EOPNOTSUPP" },
                { EAFNOSUPPORT, "EAFNOSUPPORT" },               { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
                { ENOKEY, "ENOKEY" }, { ENOTSUP, "ENOTSUP" },   { EBADMSG, "EBADMSG" },
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
                if (t[i].e == e)
                        return t[i].n;
        static char buf[16];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
}

static void report(const char *prefix, const char *name, long r, int err)
{
        printf("%s%s %s\n", prefix, name, errno_name(r < 0 ? err : 0));
}

/* 64-bit: returns like syscall(2). fd results are closed. */
#define TRY64(name, ...)                                   \
        do {                                               \
                errno = 0;                                 \
                long _r = syscall(__VA_ARGS__);            \
                int _e = errno;                            \
                report("", name, _r, _e);                  \
        } while (0)
#define TRY64_FD(name, ...)                                \
        do {                                               \
                errno = 0;                                 \
                long _r = syscall(__VA_ARGS__);            \
                int _e = errno;                            \
                if (_r >= 0)                               \
                        close((int) _r);                   \
                report("", name, _r, _e);                  \
        } while (0)

/* i386 ABI through int $0x80: the kernel sees AUDIT_ARCH_I386. Pointers
 * must fit in 32 bits: this static, non-PIE program keeps its data below
 * 4 GiB. r8-r11 are zeroed by the kernel on return. */
static long sys32(long nr, long a, long b, long c, long d, long e)
{
        long r;
        __asm__ volatile("int $0x80"
                         : "=a"(r)
                         : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                         : "memory", "r8", "r9", "r10", "r11", "cc");
        return r;
}

static void try32(const char *name, long nr, long a, long b, long c, long d, long e)
{
        long r = sys32(nr, a, b, c, d, e);
        if (r >= 0 && (nr == 374 || nr == 359))
                close((int) r);
        report("i386:", name, r < 0 && r > -4096 ? -1 : r, r < 0 && r > -4096 ? (int) -r : 0);
}

/* socketcall(SYS_SOCKET, {family, SOCK_STREAM, 0}) through int $0x80. The
 * argument block must lie below 4 GiB: MAP_32BIT. */
static void socketcall32(const char *name, long family)
{
        unsigned int *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                                  -1, 0);
        if (args == MAP_FAILED) {
                printf("i386:%s mmap-%s\n", name, errno_name(errno));
                return;
        }
        args[0] = (unsigned int) family;
        args[1] = SOCK_STREAM_;
        args[2] = 0;
        long r = sys32(102, 1 /* SYS_SOCKET */, (long) args, 0, 0, 0);
        if (r >= 0)
                close((int) r);
        report("i386:", name, r < 0 && r > -4096 ? -1 : r, r < 0 && r > -4096 ? (int) -r : 0);
        munmap(args, 4096);
}

/* Whether int $0x80 works at all: a kernel without IA32 emulation (or
 * with it disabled, ia32_emulation=0) kills the caller with SIGSEGV.
 * Tried in a forked child. */
static bool have_i386_abi(void)
{
        fflush(stdout);
        pid_t p = fork();
        if (p < 0)
                return false;
        if (p == 0)
                _exit(sys32(20 /* getpid */, 0, 0, 0, 0, 0) > 0 ? 0 : 1);
        int status;
        if (waitpid(p, &status, 0) != p)
                return false;
        if (WIFSIGNALED(status))
                printf("i386-abi unavailable (int $0x80 killed by signal %d)\n", WTERMSIG(status));
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void try_x32(const char *name, long nr, long a, long b)
{
        errno = 0;
        long r = syscall(X32_BIT | nr, a, b, 0L, 0L, 0L);
        report("x32:", name, r, errno);
}

/* Runs fn in a forked child (for calls that would change the probe's own
 * namespaces when allowed); the child prints the line. */
static void in_child(void (*fn)(void))
{
        fflush(stdout);
        pid_t p = fork();
        if (p < 0) {
                printf("fork %s\n", errno_name(errno));
                return;
        }
        if (p == 0) {
                fn();
                fflush(stdout);
                _exit(0);
        }
        (void) waitpid(p, NULL, 0);
}

static void probe_unshare(void)
{
        TRY64("unshare", SYS_unshare, (long) CLONE_NEWUSER);
}

static void probe_unshare_ns(void)
{
        TRY64("unshare_mount", SYS_unshare, (long) CLONE_NEWNS);
}

static void probe_clone_ns(void)
{
        fflush(stdout);
        errno = 0;
        long r = syscall(SYS_clone, (long) (CLONE_NEWUSER | SIGCHLD), 0L, NULL, NULL, 0L);
        if (r == 0)
                _exit(0);
        int e = errno;
        if (r > 0)
                (void) waitpid((pid_t) r, NULL, 0);
        report("", "clone_newuser", r, e);
}

static void probe_clone_plain(void)
{
        fflush(stdout);
        errno = 0;
        long r = syscall(SYS_clone, (long) SIGCHLD, 0L, NULL, NULL, 0L);
        if (r == 0)
                _exit(0);
        int e = errno;
        if (r > 0)
                (void) waitpid((pid_t) r, NULL, 0);
        report("", "clone_plain", r, e);
}

static void probe_unshare32(void)
{
        try32("unshare", 310, CLONE_NEWUSER, 0, 0, 0, 0);
}

static void probe_clone32_ns(void)
{
        fflush(stdout);
        long r = sys32(120, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0)
                _exit(0);
        if (r > 0)
                (void) waitpid((pid_t) r, NULL, 0);
        report("i386:", "clone_newuser", r < 0 ? -1 : r, r < 0 ? (int) -r : 0);
}

static const char nopath[] = "/nonexistent-berth-probe";
static char tiocsti_char = 'x';

static void probe64(void)
{
        TRY64("keyctl", SYS_keyctl, -1L, 0L, 0L, 0L, 0L);
        TRY64("add_key", SYS_add_key, NULL, NULL, NULL, 0L, 0L);
        TRY64("request_key", SYS_request_key, NULL, NULL, NULL, 0L);
        TRY64_FD("bpf", SYS_bpf, -1L, NULL, 0L);
        TRY64_FD("perf_event_open", SYS_perf_event_open, NULL, 0L, -1L, -1L, 0L);
        TRY64_FD("userfaultfd", SYS_userfaultfd, (long) (O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
        TRY64("kexec_load", SYS_kexec_load, 0L, 0L, NULL, 0xdead0000L);
        TRY64("kexec_file_load", SYS_kexec_file_load, -1L, -1L, 0L, NULL, 0xdead0000L);
        TRY64("init_module", SYS_init_module, NULL, 0L, NULL);
        TRY64("finit_module", SYS_finit_module, -1L, "", 0L);
        TRY64("delete_module", SYS_delete_module, NULL, 0L);
        TRY64("acct", SYS_acct, nopath);
        TRY64("quotactl", SYS_quotactl, 0L, NULL, 0L, NULL);
        TRY64("swapon", SYS_swapon, nopath, 0L);
        TRY64("swapoff", SYS_swapoff, nopath);
        TRY64("reboot", SYS_reboot, 0L, 0L, 0L, NULL);
        TRY64("clock_settime", SYS_clock_settime, 0L /* CLOCK_REALTIME */, NULL);
        TRY64("settimeofday", SYS_settimeofday, NULL, NULL);
        TRY64("iopl", SYS_iopl, 99L);
        TRY64("ioperm", SYS_ioperm, 0L, 0L, 1L);
        TRY64_FD("open_by_handle_at", SYS_open_by_handle_at, -1L, NULL, 0L);
        TRY64("lookup_dcookie", SYS_lookup_dcookie, 0L, NULL, 0L);
        TRY64("mount", SYS_mount, "none", nopath, "tmpfs", 0L, NULL);
        TRY64("umount2", SYS_umount2, nopath, 0L);
        TRY64("pivot_root", SYS_pivot_root, nopath, nopath);
        TRY64("setns", SYS_setns, -1L, 0L);
        in_child(probe_unshare);
        in_child(probe_unshare_ns);
        in_child(probe_clone_ns);
        in_child(probe_clone_plain);
        TRY64("clone3", SYS_clone3, NULL, 0L);
        TRY64_FD("socket_vsock", SYS_socket, (long) AF_VSOCK, (long) (SOCK_STREAM_ | O_CLOEXEC), 0L);
        TRY64_FD("socket_vsock_hibits", SYS_socket, (long) AF_VSOCK | (1L << 32),
                 (long) (SOCK_STREAM_ | O_CLOEXEC), 0L);
        TRY64_FD("io_uring_setup", SYS_io_uring_setup, 1L, NULL);
        TRY64("personality_bad", SYS_personality, 0x0040000L /* ADDR_NO_RANDOMIZE */);
        TRY64("personality_query", SYS_personality, 0xffffffffL);
        TRY64("getpid", SYS_getpid);
}

static void probe32(void)
{
        try32("keyctl", 288, -1, 0, 0, 0, 0);
        try32("add_key", 286, 0, 0, 0, 0, 0);
        try32("request_key", 287, 0, 0, 0, 0, 0);
        try32("bpf", 357, -1, 0, 0, 0, 0);
        try32("perf_event_open", 336, 0, 0, -1, -1, 0);
        try32("userfaultfd", 374, O_CLOEXEC | 1, 0, 0, 0, 0);
        try32("kexec_load", 283, 0, 0, 0, 0xdead0000L, 0);
        try32("init_module", 128, 0, 0, 0, 0, 0);
        try32("finit_module", 350, -1, (long) "", 0, 0, 0);
        try32("delete_module", 129, 0, 0, 0, 0, 0);
        try32("acct", 51, (long) nopath, 0, 0, 0, 0);
        try32("quotactl", 131, 0, 0, 0, 0, 0);
        try32("swapon", 87, (long) nopath, 0, 0, 0, 0);
        try32("swapoff", 115, (long) nopath, 0, 0, 0, 0);
        try32("reboot", 88, 0, 0, 0, 0, 0);
        try32("clock_settime", 264, 0, 0, 0, 0, 0);
        try32("settimeofday", 79, 0, 0, 0, 0, 0);
        try32("iopl", 110, 99, 0, 0, 0, 0);
        try32("ioperm", 101, 0, 0, 1, 0, 0);
        try32("open_by_handle_at", 342, -1, 0, 0, 0, 0);
        try32("mount", 21, (long) "none", (long) nopath, (long) "tmpfs", 0, 0);
        try32("umount2", 52, (long) nopath, 0, 0, 0, 0);
        try32("pivot_root", 217, (long) nopath, (long) nopath, 0, 0, 0);
        try32("setns", 346, -1, 0, 0, 0, 0);
        in_child(probe_unshare32);
        in_child(probe_clone32_ns);
        try32("clone3", 435, 0, 0, 0, 0, 0);
        /* The i386 socket paths: the direct socket() (Linux 4.3) is
         * filtered by family like the 64-bit one, and must still create an
         * ordinary socket; socketcall() passes its arguments in memory,
         * where seccomp cannot look, so it must be refused altogether. */
        try32("socket_vsock", 359, AF_VSOCK, SOCK_STREAM_, 0, 0, 0);
        try32("socket_inet", 359, AF_INET_, SOCK_STREAM_, 0, 0, 0);
        socketcall32("socketcall_vsock", AF_VSOCK);
        socketcall32("socketcall_inet", AF_INET_);
        try32("ioctl_tiocsti", 54, 0, TIOCSTI, (long) &tiocsti_char, 0, 0);
        try32("io_uring_setup", 425, 1, 0, 0, 0, 0);
        try32("personality_bad", 136, 0x0040000, 0, 0, 0, 0);
        try32("getpid", 20, 0, 0, 0, 0, 0);
}

static void probe_x32(void)
{
        try_x32("keyctl", 250, -1, 0);
        try_x32("unshare", 272, CLONE_NEWUSER, 0);
        try_x32("getpid", 39, 0, 0);
}

static void print_status(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        if (!f) {
                printf("status %s\n", errno_name(errno));
                return;
        }
        char line[512];
        static const char *const keys[] = { "Uid:",    "Gid:",    "Groups:",     "CapInh:",  "CapPrm:",
                                            "CapEff:", "CapBnd:", "CapAmb:",     "NoNewPrivs:", "Seccomp:" };
        while (fgets(line, sizeof line, f))
                for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                        if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
                                /* "CapInh:\t0000" → "CapInh: 0000" */
                                char *v = line + strlen(keys[i]);
                                v += strspn(v, " \t");
                                printf("%s %s", keys[i], v);
                        }
        fclose(f);
}

static void print_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                printf("fds %s\n", errno_name(errno));
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd == dirfd(d))
                        continue;
                char target[512];
                ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                target[n < 0 ? 0 : n] = 0;
                printf("fd %d %s\n", fd, target);
        }
        closedir(d);
}

int main(int argc, char **argv)
{
        (void) argc;
        (void) argv;
        setvbuf(stdout, NULL, _IOLBF, 0);
        print_status();
        print_fds();
        errno = 0;
        int r = ioctl(0, TIOCSTI, &tiocsti_char);
        printf("tiocsti_fd0 %s\n", errno_name(r < 0 ? errno : 0));
        errno = 0;
        r = (int) syscall(SYS_ioctl, 0L, (long) (TIOCSTI | (1UL << 32)), &tiocsti_char);
        printf("tiocsti_hibits_fd0 %s\n", errno_name(r < 0 ? errno : 0));
        probe64();
        if (have_i386_abi())
                probe32();
        probe_x32();
        return 0;
}
