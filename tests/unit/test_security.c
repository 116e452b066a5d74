/* Unit tests for security.c: capability sets, the seccomp program, and (as
 * root, in forked children) the applied state as the kernel reports it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "seccomp_bpf_run.h"
#include "security.h"
#include "spec.h"
#include "util.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int cap_last(void)
{
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        assert_non_null(f);
        int v = -1;
        assert_int_equal(fscanf(f, "%d", &v), 1);
        fclose(f);
        return v;
}

static void test_caps_compute_default(void **state)
{
        (void) state;
        struct security_caps c;
        security_caps_compute(0, 0, 40, &c);
        /* Docker's list, by number: chown 0, dac_override 1, fowner 3,
         * fsetid 4, kill 5, setgid 6, setuid 7, setpcap 8, net_bind_service
         * 10, net_raw 13, sys_chroot 18, mknod 27, audit_write 29, setfcap 31. */
        uint64_t expected = 0;
        static const int docker[] = { 0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31 };
        for (size_t i = 0; i < ELEMENTSOF(docker); i++)
                expected |= UINT64_C(1) << docker[i];
        assert_int_equal(security_caps_default, expected);
        assert_int_equal(c.bounding, expected);
        assert_int_equal(c.permitted, expected);
        assert_int_equal(c.effective, expected);
        assert_int_equal(c.inheritable, 0);
        assert_int_equal(c.last_cap, 40);
}

static void test_caps_compute_add(void **state)
{
        (void) state;
        struct security_caps c;
        security_caps_compute(SECURITY_CAP_BIT(CAP_NET_ADMIN) | SECURITY_CAP_BIT(CAP_SYS_PTRACE), 0, 40, &c);
        assert_int_equal(c.bounding,
                         security_caps_default | SECURITY_CAP_BIT(CAP_NET_ADMIN) | SECURITY_CAP_BIT(CAP_SYS_PTRACE));
        assert_int_equal(c.effective, c.bounding);
        assert_int_equal(c.inheritable, 0);
}

static void test_caps_compute_drop(void **state)
{
        (void) state;
        struct security_caps c;
        security_caps_compute(0, SECURITY_CAP_BIT(CAP_CHOWN) | SECURITY_CAP_BIT(CAP_NET_RAW), 40, &c);
        assert_int_equal(c.bounding,
                         security_caps_default & ~(SECURITY_CAP_BIT(CAP_CHOWN) | SECURITY_CAP_BIT(CAP_NET_RAW)));
        assert_false(c.bounding & SECURITY_CAP_BIT(CAP_NET_RAW));
        assert_true(c.bounding & SECURITY_CAP_BIT(CAP_KILL));
}

static void test_caps_compute_drop_all_add_one(void **state)
{
        (void) state;
        struct security_caps c;
        security_caps_compute(SECURITY_CAP_BIT(CAP_NET_BIND_SERVICE), ~UINT64_C(0), 40, &c);
        assert_int_equal(c.bounding, SECURITY_CAP_BIT(CAP_NET_BIND_SERVICE));
        assert_int_equal(c.permitted, SECURITY_CAP_BIT(CAP_NET_BIND_SERVICE));
}

static void test_caps_compute_limited_to_kernel(void **state)
{
        (void) state;
        struct security_caps c;
        /* "add = all" from the parser may name capabilities the running
         * kernel does not have: they must not reach capset(). */
        security_caps_compute(~UINT64_C(0), 0, 37, &c);
        assert_int_equal(c.bounding, (UINT64_C(1) << 38) - 1);
}

static void test_caps_prepare_reads_kernel(void **state)
{
        (void) state;
        struct spec_container *sc;
        assert_int_equal(spec_container_new("t", "t.conf", 1, &sc), 0);
        sc->caps_add = SECURITY_CAP_BIT(CAP_SYS_ADMIN);
        struct security_caps c;
        assert_int_equal(security_caps_prepare(sc, &c), 0);
        assert_int_equal(c.last_cap, cap_last());
        assert_int_equal(c.bounding, security_caps_default | SECURITY_CAP_BIT(CAP_SYS_ADMIN));
        spec_container_free(sc);
}

static void test_seccomp_build_default_size(void **state)
{
        (void) state;
        struct security_seccomp s;
        assert_int_equal(security_seccomp_build_default(security_caps_default, &s), 0);
        assert_true(s.enabled);
        assert_non_null(s.filter);
        /* Three architectures, ~330 syscalls as a tree: hundreds, and
         * far below the kernel's limit of 4096 instructions. */
        assert_in_range(s.len, 300, BPF_MAXINSNS);
        /* The program starts by loading seccomp_data.arch. */
        assert_int_equal(s.filter[0].code, BPF_LD | BPF_W | BPF_ABS);
        assert_int_equal(s.filter[0].k, offsetof(struct seccomp_data, arch));
        security_seccomp_done(&s);
        assert_null(s.filter);
        assert_false(s.enabled);
        security_seccomp_done(NULL);
}

static uint32_t run_socket(const struct security_seccomp *s, uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
        const uint64_t args[6] = { a0, a1, 0, 0, 0, 0 };
        return seccomp_bpf_run(s->filter, s->len, arch, nr, args);
}

/* The exported program, run for each ABI: socket() is filtered by family
 * on x86-64 and on i386's direct socket() (359); i386 socketcall() (102)
 * hides the family in memory and is refused outright, whatever call it
 * multiplexes (libseccomp would otherwise turn the socket() rules into an
 * unconditional socketcall(SYS_SOCKET) allow). */
static void test_seccomp_build_default_socket_families(void **state)
{
        (void) state;
        struct security_seccomp s;
        assert_int_equal(security_seccomp_build_default(security_caps_default, &s), 0);
        const uint32_t eperm = SECCOMP_RET_ERRNO_OF(EPERM), enosys = SECCOMP_RET_ERRNO_OF(ENOSYS);

        assert_int_equal(run_socket(&s, AUDIT_ARCH_X86_64, 39 /* getpid */, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_X86_64, 41, AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_X86_64, 41, AF_VSOCK, SOCK_STREAM), eperm);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_X86_64, 41, AF_VSOCK | UINT64_C(1) << 32, SOCK_STREAM), eperm);

        assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 20 /* getpid */, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 359, AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 359, AF_UNIX, SOCK_STREAM), SECCOMP_RET_ALLOW);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 359, AF_VSOCK, SOCK_STREAM), eperm);
        assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 362 /* connect */, 3, 0), SECCOMP_RET_ALLOW);
        for (uint64_t call = 1; call <= 20; call++) /* SYS_SOCKET .. SYS_SENDMMSG */
                assert_int_equal(run_socket(&s, AUDIT_ARCH_I386, 102, call, 0x1000), enosys);
        security_seccomp_done(&s);
}

/* The same, as the kernel runs it: int $0x80 from this (64-bit) process.
 * No root needed (no_new_privs). Skipped where int $0x80 faults. */
static long sys32(long nr, long a, long b, long c)
{
        long r;
        __asm__ volatile("int $0x80"
                         : "=a"(r)
                         : "a"(nr), "b"(a), "c"(b), "d"(c)
                         : "memory", "r8", "r9", "r10", "r11", "cc");
        return r;
}

static bool have_i386_abi(void)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* cmocka's handler would carry the fault on as a test failure
                 * inside this child: a fault must simply kill it. */
                signal(SIGSEGV, SIG_DFL);
                signal(SIGBUS, SIG_DFL);
                syscall(SYS_exit_group, sys32(20 /* getpid */, 0, 0, 0) > 0 ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_apply_default_i386_sockets_in_child(void **state)
{
        (void) state;
        if (!have_i386_abi())
                skip();
        struct security_seccomp s;
        assert_int_equal(security_seccomp_build_default(security_caps_default, &s), 0);
        /* socketcall's argument block must lie below 4 GiB. */
        unsigned int *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                                  -1, 0);
        assert_true(args != MAP_FAILED);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                long res[5] = { 1, 1, 1, 1, 1 };
                if (security_no_new_privs() == 0 && security_seccomp_apply(&s) == 0) {
                        args[0] = AF_INET, args[1] = SOCK_STREAM, args[2] = 0;
                        res[0] = sys32(102, 1 /* SYS_SOCKET */, (long) args, 0);
                        args[0] = AF_VSOCK;
                        res[1] = sys32(102, 1 /* SYS_SOCKET */, (long) args, 0);
                        res[2] = sys32(359, AF_VSOCK, SOCK_STREAM, 0);
                        res[3] = sys32(359, AF_INET, SOCK_STREAM, 0);
                        res[4] = sys32(359, AF_UNIX, SOCK_STREAM, 0);
                }
                if (write(p[1], res, sizeof res) != (ssize_t) sizeof res)
                        syscall(SYS_exit_group, 2);
                syscall(SYS_exit_group, 0);
        }
        close(p[1]);
        long res[5];
        assert_int_equal(read(p[0], res, sizeof res), sizeof res);
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        munmap(args, 4096);
        security_seccomp_done(&s);
        assert_int_equal(res[0], -ENOSYS); /* socketcall, even for AF_INET */
        assert_int_equal(res[1], -ENOSYS);
        assert_int_equal(res[2], -EPERM);  /* direct socket(AF_VSOCK) */
        assert_true(res[3] >= 0);          /* direct socket(AF_INET) works */
        assert_true(res[4] >= 0);
}

static void test_seccomp_prepare_modes(void **state)
{
        (void) state;
        struct spec_container *sc;
        assert_int_equal(spec_container_new("t", "t.conf", 1, &sc), 0);
        struct security_seccomp s;

        sc->seccomp = SECCOMP_UNCONFINED;
        assert_int_equal(security_seccomp_prepare(sc, &s), 0);
        assert_false(s.enabled);
        assert_int_equal(security_seccomp_apply(&s), 0); /* a no-op */

        sc->seccomp = SECCOMP_PROFILE;
        sc->seccomp_profile = strdup("/etc/berth/profile.json");
        assert_int_equal(security_seccomp_prepare(sc, &s), -EOPNOTSUPP);
        assert_false(s.enabled);

        sc->seccomp = SECCOMP_DEFAULT;
        assert_int_equal(security_seccomp_prepare(sc, &s), 0);
        assert_true(s.enabled);
        unsigned short len_default = s.len;
        security_seccomp_done(&s);

        /* CAP_SYS_ADMIN opens the namespace syscalls: a different program. */
        sc->caps_add = SECURITY_CAP_BIT(CAP_SYS_ADMIN);
        assert_int_equal(security_seccomp_prepare(sc, &s), 0);
        assert_int_not_equal(s.len, len_default);
        security_seccomp_done(&s);
        spec_container_free(sc);
}

/* ---- as root, in forked children ---- */

struct status_caps {
        uint64_t inh, prm, eff, bnd, amb;
        int nnp, seccomp;
        unsigned uid, gid;
        char groups[64];
};

static int status_read(struct status_caps *st)
{
        FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return -errno;
        char line[256];
        unsigned long long v;
        *st = (struct status_caps){ .nnp = -1, .seccomp = -1 };
        while (fgets(line, sizeof line, f)) {
                if (sscanf(line, "CapInh: %llx", &v) == 1)
                        st->inh = v;
                else if (sscanf(line, "CapPrm: %llx", &v) == 1)
                        st->prm = v;
                else if (sscanf(line, "CapEff: %llx", &v) == 1)
                        st->eff = v;
                else if (sscanf(line, "CapBnd: %llx", &v) == 1)
                        st->bnd = v;
                else if (sscanf(line, "CapAmb: %llx", &v) == 1)
                        st->amb = v;
                else if (sscanf(line, "NoNewPrivs: %d", &st->nnp) == 1)
                        ;
                else if (sscanf(line, "Seccomp: %d", &st->seccomp) == 1)
                        ;
                else if (sscanf(line, "Uid: %u", &st->uid) == 1)
                        ;
                else if (sscanf(line, "Gid: %u", &st->gid) == 1)
                        ;
                else if (strncmp(line, "Groups:", 7) == 0) {
                        const char *p = line + 7;
                        p += strspn(p, " \t");
                        snprintf(st->groups, sizeof st->groups, "%s", p);
                        st->groups[strcspn(st->groups, "\n")] = 0;
                        size_t n = strlen(st->groups);
                        while (n > 0 && st->groups[n - 1] == ' ')
                                st->groups[--n] = 0;
                }
        }
        fclose(f);
        return 0;
}

/* errno of a call: 0 when it succeeded. */
static int err_of(long r)
{
        return r < 0 ? errno : 0;
}

struct report {
        int setup; /* 0 or the negative errno of the failing step */
        int setup_step;
        struct status_caps st;
        int keyctl, add_key, request_key, bpf, perf, uffd, unshare_user, mount, clone3, vsock,
                vsock_hi, tiocsti, tiocsti_hi, ioctl_other, personality_bad, personality_ok, io_uring;
        int getpid, open_rw, exec_true; /* exec_true: wait status of /bin/true */
};

static int run_true(void)
{
        pid_t p = fork();
        if (p < 0)
                return -errno;
        if (p == 0) {
                char *argv[] = { (char *) "true", NULL };
                char *envp[] = { NULL };
                execve("/bin/true", argv, envp);
                _exit(127);
        }
        int status;
        if (waitpid(p, &status, 0) < 0)
                return -errno;
        return status;
}

static void probe_syscalls(struct report *rep)
{
        rep->keyctl = err_of(syscall(SYS_keyctl, -1L, 0L, 0L, 0L, 0L));
        rep->add_key = err_of(syscall(SYS_add_key, NULL, NULL, NULL, 0L, 0L));
        rep->request_key = err_of(syscall(SYS_request_key, NULL, NULL, NULL, 0L));
        rep->bpf = err_of(syscall(SYS_bpf, -1L, NULL, 0L));
        rep->perf = err_of(syscall(SYS_perf_event_open, NULL, 0L, -1L, -1L, 0L));
        long fd = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
        rep->uffd = err_of(fd);
        if (fd >= 0)
                close((int) fd);
        rep->unshare_user = err_of(unshare(CLONE_NEWUSER));
        rep->mount = err_of(mount("none", "/nonexistent-berth", "tmpfs", 0, NULL));
        rep->clone3 = err_of(syscall(SYS_clone3, NULL, 0L));
        fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        rep->vsock = err_of(fd);
        if (fd >= 0)
                close((int) fd);
        fd = syscall(SYS_socket, (long) AF_VSOCK | (1L << 32), (long) (SOCK_STREAM | SOCK_CLOEXEC), 0L);
        rep->vsock_hi = err_of(fd);
        if (fd >= 0)
                close((int) fd);
        rep->io_uring = err_of(syscall(SYS_io_uring_setup, 1L, NULL));

        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) {
                char c = 'x';
                rep->tiocsti = err_of(ioctl(p[0], TIOCSTI, &c));
                rep->tiocsti_hi = err_of(syscall(SYS_ioctl, (long) p[0], (long) (TIOCSTI | (1UL << 32)), &c));
                int n;
                rep->ioctl_other = err_of(ioctl(p[0], FIONREAD, &n));
                close(p[0]);
                close(p[1]);
        }
        rep->personality_bad = err_of(syscall(SYS_personality, 0x0040000L /* ADDR_NO_RANDOMIZE */));
        rep->personality_ok = err_of(syscall(SYS_personality, 0xffffffffL));

        rep->getpid = getpid() > 0 ? 0 : EINVAL;
        int f = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        char buf[16];
        if (f < 0)
                rep->open_rw = errno;
        else if (read(f, buf, sizeof buf) != (ssize_t) sizeof buf)
                rep->open_rw = EIO;
        else {
                int q[2];
                if (pipe2(q, O_CLOEXEC) < 0 || write(q[1], buf, 1) != 1)
                        rep->open_rw = errno ? errno : EIO;
                else {
                        close(q[0]);
                        close(q[1]);
                }
                close(f);
        }
        rep->exec_true = run_true();
}

#define STEP(n, expr)                          \
        do {                                   \
                int _r = (expr);               \
                if (_r < 0) {                  \
                        rep.setup = _r;        \
                        rep.setup_step = (n);  \
                        goto out;              \
                }                              \
        } while (0)

/* Forks a child that applies caps (and ids when uid >= 0), no_new_privs
 * and seccomp (when s != NULL), probes, and reports through a pipe. */
static void run_child(const struct security_caps *caps, const struct security_seccomp *s, int uid,
                      struct report *ret)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct report rep = { 0 };
                close(p[0]);
                STEP(1, security_caps_apply(caps));
                if (uid >= 0) {
                        static const gid_t groups[] = { 1000, 2000 };
                        STEP(2, security_set_ids(caps, (uid_t) uid, (gid_t) uid, groups, 2));
                }
                STEP(3, security_no_new_privs());
                if (s)
                        STEP(4, security_seccomp_apply(s));
                STEP(5, status_read(&rep.st));
                probe_syscalls(&rep);
        out:
                if (write(p[1], &rep, sizeof rep) != (ssize_t) sizeof rep)
                        _exit(2);
                _exit(0); /* no atexit handlers (and no LeakSanitizer) under the filter */
        }
        close(p[1]);
        ssize_t n = read(p[0], ret, sizeof *ret);
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(n, sizeof *ret);
        if (ret->setup != 0)
                print_error("child setup step %d failed: %s\n", ret->setup_step, strerror(-ret->setup));
        assert_int_equal(ret->setup, 0);
}

static void test_apply_default_in_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        struct spec_container *sc;
        assert_int_equal(spec_container_new("t", "t.conf", 1, &sc), 0);
        struct security_caps caps;
        struct security_seccomp s;
        assert_int_equal(security_caps_prepare(sc, &caps), 0);
        assert_int_equal(security_seccomp_prepare(sc, &s), 0);

        struct report r;
        run_child(&caps, &s, -1, &r);
        security_seccomp_done(&s);
        spec_container_free(sc);

        assert_int_equal(r.st.inh, 0);
        assert_int_equal(r.st.amb, 0);
        assert_int_equal(r.st.bnd, security_caps_default);
        assert_int_equal(r.st.eff, security_caps_default);
        assert_int_equal(r.st.prm, security_caps_default);
        assert_int_equal(r.st.nnp, 1);
        assert_int_equal(r.st.seccomp, SECCOMP_MODE_FILTER);

        assert_int_equal(r.keyctl, EPERM);
        assert_int_equal(r.add_key, EPERM);
        assert_int_equal(r.request_key, EPERM);
        assert_int_equal(r.bpf, EPERM);
        assert_int_equal(r.perf, EPERM);
        assert_int_equal(r.uffd, EPERM);
        assert_int_equal(r.unshare_user, EPERM);
        assert_int_equal(r.mount, EPERM);
        assert_int_equal(r.clone3, ENOSYS);
        assert_int_equal(r.vsock, EPERM);
        assert_int_equal(r.vsock_hi, EPERM);
        assert_int_equal(r.io_uring, EPERM);
        assert_int_equal(r.tiocsti, EPERM);
        assert_int_equal(r.tiocsti_hi, EPERM);
        assert_int_equal(r.ioctl_other, 0);
        assert_int_equal(r.personality_bad, EPERM);
        assert_int_equal(r.personality_ok, 0);
        assert_int_equal(r.getpid, 0);
        assert_int_equal(r.open_rw, 0);
        assert_true(r.exec_true >= 0 && WIFEXITED(r.exec_true) && WEXITSTATUS(r.exec_true) == 0);
}

static void test_apply_without_seccomp_in_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        /* The control for the test above: without the filter the same probes
         * get the kernel's own answers, so EPERM there came from seccomp. */
        struct security_caps caps;
        security_caps_compute(0, 0, cap_last(), &caps);
        struct report r;
        run_child(&caps, NULL, -1, &r);
        assert_int_equal(r.st.seccomp, 0);
        assert_int_equal(r.st.nnp, 1);
        assert_int_equal(r.keyctl, EOPNOTSUPP);
        assert_int_equal(r.clone3, EINVAL);
        assert_int_equal(r.unshare_user, 0);
        assert_int_equal(r.tiocsti, ENOTTY);
        assert_int_equal(r.tiocsti_hi, ENOTTY);
        assert_int_not_equal(r.vsock, EPERM);
}

static void test_apply_sys_admin_in_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        struct security_caps caps;
        struct security_seccomp s;
        security_caps_compute(SECURITY_CAP_BIT(CAP_SYS_ADMIN), 0, cap_last(), &caps);
        assert_int_equal(security_seccomp_build_default(caps.bounding, &s), 0);
        struct report r;
        run_child(&caps, &s, -1, &r);
        security_seccomp_done(&s);
        assert_int_equal(r.st.bnd, security_caps_default | SECURITY_CAP_BIT(CAP_SYS_ADMIN));
        assert_int_equal(r.st.seccomp, SECCOMP_MODE_FILTER);
        /* With CAP_SYS_ADMIN the namespace syscalls reach the kernel. */
        assert_int_equal(r.unshare_user, 0);
        assert_int_equal(r.clone3, EINVAL);
        assert_int_equal(r.mount, ENOENT);
        /* Never opened by a capability. */
        assert_int_equal(r.keyctl, EPERM);
        assert_int_equal(r.tiocsti, EPERM);
}

/* Runs tests/helpers/syscall_probe (built next to this test) under the
 * default hardening and checks every line it must print. */
static void test_probe_under_default_filter(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        char self[4096], probe[4200];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        assert_true(n > 0);
        self[n] = 0;
        *strrchr(self, '/') = 0;
        snprintf(probe, sizeof probe, "%s/helpers/syscall_probe", self);
        if (access(probe, X_OK) < 0)
                skip();

        struct spec_container *sc;
        assert_int_equal(spec_container_new("t", "t.conf", 1, &sc), 0);
        struct security_caps caps;
        struct security_seccomp s;
        assert_int_equal(security_caps_prepare(sc, &caps), 0);
        assert_int_equal(security_seccomp_prepare(sc, &s), 0);
        spec_container_free(sc);

        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(p[1], 1) < 0 || security_caps_apply(&caps) < 0 || security_no_new_privs() < 0 ||
                    security_seccomp_apply(&s) < 0)
                        _exit(3);
                char *argv[] = { probe, NULL };
                char *envp[] = { NULL };
                execve(probe, argv, envp);
                _exit(127);
        }
        security_seccomp_done(&s);
        close(p[1]);
        static char out[65536];
        size_t len = 0;
        for (;;) {
                ssize_t k = read(p[0], out + len, sizeof out - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t) k;
        }
        out[len] = 0;
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        char bnd[64];
        snprintf(bnd, sizeof bnd, "\nCapBnd: %016llx\n", (unsigned long long) security_caps_default);
        static const char *const want[] = {
                "\nCapInh: 0000000000000000\n", "\nCapAmb: 0000000000000000\n", "\nNoNewPrivs: 1\n",
                "\nSeccomp: 2\n", "\ntiocsti_fd0 EPERM\n", "\ntiocsti_hibits_fd0 EPERM\n",
                "\nclone_plain OK\n", "\nclone3 ENOSYS\n", "\ni386:clone3 ENOSYS\n",
                "\nsocket_vsock_hibits EPERM\n", "\npersonality_query OK\n", "\ngetpid OK\n",
                "\ni386:getpid OK\n", "\nx32:keyctl EPERM\n", "\nx32:unshare EPERM\n",
                "\ni386:socketcall_vsock ENOSYS\n", "\ni386:socketcall_inet ENOSYS\n", "\ni386:socket_inet OK\n",
        };
        static const char *const blocked[] = {
                "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
                "kexec_load", "init_module", "finit_module", "delete_module", "acct", "quotactl",
                "swapon", "swapoff", "reboot", "clock_settime", "settimeofday", "iopl", "ioperm",
                "open_by_handle_at", "mount", "umount2", "pivot_root", "setns", "unshare",
                "clone_newuser", "socket_vsock", "io_uring_setup", "personality_bad",
        };
        bool ok = strstr(out, bnd) != NULL;
        /* A kernel without the i386 ABI (no IA32 emulation) prints no i386:
         * lines: there is nothing of it to filter. */
        bool i386 = !strstr(out, "\ni386-abi unavailable");
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(out, want[i]) && (i386 || !strstr(want[i], "i386:"))) {
                        print_error("missing: %s", want[i] + 1);
                        ok = false;
                }
        for (size_t i = 0; i < ELEMENTSOF(blocked); i++) {
                char l64[96], l32[96];
                snprintf(l64, sizeof l64, "\n%s EPERM\n", blocked[i]);
                snprintf(l32, sizeof l32, "\ni386:%s EPERM\n", blocked[i]);
                if (!strstr(out, l64)) {
                        print_error("missing: %s", l64 + 1);
                        ok = false;
                }
                if (i386 && !strstr(out, l32)) {
                        print_error("missing: %s", l32 + 1);
                        ok = false;
                }
        }
        if (!ok)
                print_error("probe output:\n%s", out);
        assert_true(ok);
        assert_non_null(strstr(out, "\nkexec_file_load EPERM\n"));
        assert_non_null(strstr(out, "\nlookup_dcookie EPERM\n"));
}

static void test_set_ids_non_root_in_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        struct security_caps caps;
        security_caps_compute(0, 0, cap_last(), &caps);
        struct report r;
        run_child(&caps, NULL, 1000, &r);
        assert_int_equal(r.st.uid, 1000);
        assert_int_equal(r.st.gid, 1000);
        assert_string_equal(r.st.groups, "1000 2000");
        assert_int_equal(r.st.bnd, security_caps_default);
        assert_int_equal(r.st.eff, 0);
        assert_int_equal(r.st.prm, 0);
        assert_int_equal(r.st.inh, 0);
        assert_int_equal(r.st.amb, 0);
}

static void test_set_ids_root_keeps_caps_in_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        struct security_caps caps;
        security_caps_compute(0, SECURITY_CAP_BIT(CAP_CHOWN), cap_last(), &caps);
        struct report r;
        run_child(&caps, NULL, 0, &r);
        assert_int_equal(r.st.uid, 0);
        assert_string_equal(r.st.groups, "1000 2000");
        assert_int_equal(r.st.eff, security_caps_default & ~SECURITY_CAP_BIT(CAP_CHOWN));
        assert_int_equal(r.st.bnd, security_caps_default & ~SECURITY_CAP_BIT(CAP_CHOWN));
}

static void test_idmap_write_maps_child(void **state)
{
        (void) state;
        if (geteuid() != 0)
                skip();
        int go[2], back[2];
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(back, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c = 0, out[256] = { 0 };
                close(go[1]);
                close(back[0]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(3);
                if (write(back[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
                        _exit(4);
                unsigned a, b, n, ga, gb, gn;
                char sg[16] = "";
                FILE *f = fopen("/proc/self/uid_map", "re");
                if (!f || fscanf(f, "%u %u %u", &a, &b, &n) != 3)
                        _exit(5);
                fclose(f);
                f = fopen("/proc/self/gid_map", "re");
                if (!f || fscanf(f, "%u %u %u", &ga, &gb, &gn) != 3)
                        _exit(6);
                fclose(f);
                f = fopen("/proc/self/setgroups", "re");
                if (!f || fscanf(f, "%15s", sg) != 1)
                        _exit(7);
                fclose(f);
                snprintf(out, sizeof out, "%u %u %u %u %u %u %s %u", a, b, n, ga, gb, gn, sg,
                         (unsigned) getuid());
                if (write(back[1], out, strlen(out)) < 0)
                        _exit(8);
                _exit(0);
        }
        close(go[0]);
        close(back[1]);
        char c;
        assert_int_equal(read(back[0], &c, 1), 1);
        assert_int_equal(security_idmap_write(pid, 100000, 200000, 65536), 0);
        /* A second write is refused by the kernel: the maps are final. */
        assert_int_equal(security_idmap_write(pid, 0, 0, 1), -EPERM);
        assert_int_equal(write(go[1], "g", 1), 1);
        char out[256] = { 0 };
        ssize_t n = read(back[0], out, sizeof out - 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(go[1]);
        close(back[0]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(n > 0);
        /* Host uid 0 (the child's own) is outside the map: overflow uid. */
        assert_string_equal(out, "0 100000 65536 0 200000 65536 allow 65534");
}

static void test_idmap_write_rejects_bad_args(void **state)
{
        (void) state;
        assert_int_equal(security_idmap_write(0, 100000, 100000, 65536), -EINVAL);
        assert_int_equal(security_idmap_write(getpid(), 100000, 100000, 0), -EINVAL);
}

static void test_sealed_memfd_of_a_file(void **state)
{
        (void) state;
        char path[] = "/tmp/btsealXXXXXX";
        int src = mkstemp(path);
        assert_true(src >= 0);
        unlink(path);
        char data[100000];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (char) (i * 7);
        assert_int_equal(write(src, data, sizeof data), (ssize_t) sizeof data);
        assert_int_equal(lseek(src, 0, SEEK_SET), 0);
        int fd = -1;
        assert_int_equal(security_sealed_memfd(src, "berth-init", &fd), 0);
        char back[sizeof data + 1];
        assert_int_equal(pread(fd, back, sizeof back, 0), (ssize_t) sizeof data);
        assert_memory_equal(back, data, sizeof data);
        assert_int_equal(pwrite(fd, "x", 1, 0), -1);
        assert_int_equal(errno, EPERM);
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, target, sizeof target - 1);
        assert_true(k > 0);
        target[k] = 0;
        assert_string_equal(target, "/memfd:berth-init (deleted)");
        close(fd);
        close(src);

        /* Only a regular file: a directory or a pipe is refused. */
        int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(security_sealed_memfd(dir, "x", &fd), -EINVAL);
        close(dir);
}

int main(void)
{

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_caps_compute_default),
                cmocka_unit_test(test_caps_compute_add),
                cmocka_unit_test(test_caps_compute_drop),
                cmocka_unit_test(test_caps_compute_drop_all_add_one),
                cmocka_unit_test(test_caps_compute_limited_to_kernel),
                cmocka_unit_test(test_caps_prepare_reads_kernel),
                cmocka_unit_test(test_seccomp_build_default_size),
                cmocka_unit_test(test_seccomp_build_default_socket_families),
                cmocka_unit_test(test_seccomp_prepare_modes),
                cmocka_unit_test(test_apply_default_i386_sockets_in_child),
                cmocka_unit_test(test_apply_default_in_child),
                cmocka_unit_test(test_apply_without_seccomp_in_child),
                cmocka_unit_test(test_apply_sys_admin_in_child),
                cmocka_unit_test(test_probe_under_default_filter),
                cmocka_unit_test(test_set_ids_non_root_in_child),
                cmocka_unit_test(test_set_ids_root_keeps_caps_in_child),
                cmocka_unit_test(test_idmap_write_maps_child),
                cmocka_unit_test(test_idmap_write_rejects_bad_args),
                cmocka_unit_test(test_sealed_memfd_of_a_file),
        };
        return cmocka_run_group_tests_name("security", tests, NULL, NULL);
}
