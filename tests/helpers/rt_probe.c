/* Probe run inside a container by tests/integration/test_security_runtime.sh:
 * tries calls a confined container must not be able to make and prints one
 * line per attempt, "NAME OK" or "NAME ERRNO-NAME" (EPERM, ENOSYS, ...).
 *   rt_probe keyctl | keyctl32 | unshare_user | mount DIR | tiocsti |
 *            tiocsti_high | mknod_blk PATH MAJOR MINOR | ids | exe_rdonly
 * (exe_rdonly also prints "exe_id DEV:INO" of what it opened.)
 *   rt_probe race PATH TARGET COUNT   (on the host: a symlink-swap racer)
 * Static: it must work in any root file system. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r, int err)
{
        if (r >= 0)
                printf("%s OK\n", name);
        else {
                const char *e = strerrorname_np(err);
                printf("%s %s\n", name, e ? e : "E?");
        }
}

/* keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) through the
 * i386 entry point (syscall 288 there): seccomp must cover that ABI too. */
static long keyctl32(void)
{
#if defined(__x86_64__)
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(288L), "b"(0L), "c"(-3L), "d"(0L) : "memory");
        return ret;
#else
        return -ENOSYS;
#endif
}

/* Runs fn in a child so that a success changes nothing in the probe. */
static void in_child(const char *name, int (*fn)(void))
{
        pid_t p = fork();
        if (p < 0) {
                report(name, -1, errno);
                return;
        }
        if (p == 0)
                _exit(fn() < 0 ? errno : 0);
        int st;
        if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st)) {
                printf("%s CRASHED\n", name);
                return;
        }
        report(name, WEXITSTATUS(st) ? -1 : 0, WEXITSTATUS(st));
}

static int do_unshare_user(void)
{
        return unshare(CLONE_NEWUSER);
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 1; i < argc; i++) {
                const char *t = argv[i];
                long r;
                if (!strcmp(t, "keyctl")) {
                        r = syscall(SYS_keyctl, 0L, -3L, 0L);
                        report(t, r, errno);
                } else if (!strcmp(t, "keyctl32")) {
                        /* In a child: a kernel without the i386 ABI (no IA32
                         * emulation) kills the caller of int $0x80 with SIGSEGV. */
                        int pfd[2];
                        pid_t p = pipe(pfd) < 0 ? -1 : fork();
                        if (p == 0) {
                                long v = keyctl32();
                                _exit(write(pfd[1], &v, sizeof v) == (ssize_t) sizeof v ? 0 : 1);
                        }
                        int st = 0;
                        long v = 0;
                        if (p > 0) {
                                close(pfd[1]);
                                if (waitpid(p, &st, 0) == p && WIFSIGNALED(st))
                                        printf("%s UNAVAILABLE (int $0x80 killed by signal %d)\n", t, WTERMSIG(st));
                                else if (read(pfd[0], &v, sizeof v) == (ssize_t) sizeof v)
                                        report(t, v < 0 && v > -4096 ? -1 : 0, (int) -v);
                                else
                                        printf("%s CRASHED\n", t);
                                close(pfd[0]);
                        } else
                                report(t, -1, errno);
                } else if (!strcmp(t, "unshare_user")) {
                        in_child(t, do_unshare_user);
                } else if (!strcmp(t, "mount") && i + 1 < argc) {
                        const char *dir = argv[++i];
                        (void) mkdir(dir, 0755);
                        r = mount("btprobe", dir, "tmpfs", 0, "size=4k");
                        report(t, r, errno);
                        if (r == 0)
                                (void) umount(dir);
                } else if (!strcmp(t, "tiocsti")) {
                        char c = '\n';
                        r = ioctl(0, TIOCSTI, &c);
                        report(t, r, errno);
                } else if (!strcmp(t, "tiocsti_high")) {
                        char c = '\n';
                        r = syscall(SYS_ioctl, 0L, (1UL << 32) | TIOCSTI, &c);
                        report(t, r, errno);
                } else if (!strcmp(t, "mknod_blk") && i + 3 < argc) {
                        const char *path = argv[i + 1];
                        dev_t d = makedev((unsigned) atoi(argv[i + 2]), (unsigned) atoi(argv[i + 3]));
                        i += 3;
                        r = mknod(path, S_IFBLK | 0600, d);
                        report("mknod_blk", r, errno);
                        if (r == 0) {
                                int fd = open(path, O_RDONLY | O_CLOEXEC);
                                report("open_blk", fd, errno);
                                if (fd >= 0)
                                        close(fd);
                                (void) unlink(path);
                        }
                } else if (!strcmp(t, "ids")) {
                        uid_t ru, eu, su;
                        gid_t rg, eg, sg;
                        getresuid(&ru, &eu, &su);
                        getresgid(&rg, &eg, &sg);
                        printf("uid %u %u %u gid %u %u %u\n", ru, eu, su, rg, eg, sg);
                } else if (!strcmp(t, "exe_rdonly")) {
                        int fd = open("/proc/1/exe", O_RDONLY | O_CLOEXEC);
                        report(t, fd, errno);
                        struct stat st;
                        if (fd >= 0 && fstat(fd, &st) == 0)
                                printf("exe_id %ju:%ju\n", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
                        if (fd >= 0)
                                close(fd);
                } else if (!strcmp(t, "race") && i + 3 < argc) {
                        /* On the host: swaps PATH between a directory and a
                         * symlink to TARGET, COUNT times, as fast as it can. */
                        const char *path = argv[i + 1], *target = argv[i + 2];
                        long count = atol(argv[i + 3]);
                        i += 3;
                        char aside[4200];
                        for (long k = 0; k < count; k++) {
                                if (unlink(path) < 0 && rmdir(path) < 0 && errno == ENOTEMPTY) {
                                        snprintf(aside, sizeof aside, "%s.aside.%ld", path, k);
                                        (void) rename(path, aside);
                                }
                                if (k % 2)
                                        (void) symlink(target, path);
                                else
                                        (void) mkdir(path, 0755);
                        }
                        printf("race %ld\n", count);
                } else {
                        fprintf(stderr, "rt_probe: unknown test '%s'\n", t);
                        return 2;
                }
        }
        return 0;
}
