/* Capabilities, no_new_privs, seccomp, id maps and the sealed runtime copy.
 * The *_prepare() functions run in the parent and may allocate; the
 * *_apply() functions run between clone() and execve() and use raw
 * syscalls only. */
#include "security.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "util.h"

const uint64_t security_caps_default =
        SECURITY_CAP_BIT(CAP_CHOWN) | SECURITY_CAP_BIT(CAP_DAC_OVERRIDE) | SECURITY_CAP_BIT(CAP_FOWNER) |
        SECURITY_CAP_BIT(CAP_FSETID) | SECURITY_CAP_BIT(CAP_KILL) | SECURITY_CAP_BIT(CAP_SETGID) |
        SECURITY_CAP_BIT(CAP_SETUID) | SECURITY_CAP_BIT(CAP_SETPCAP) | SECURITY_CAP_BIT(CAP_NET_BIND_SERVICE) |
        SECURITY_CAP_BIT(CAP_NET_RAW) | SECURITY_CAP_BIT(CAP_SYS_CHROOT) | SECURITY_CAP_BIT(CAP_MKNOD) |
        SECURITY_CAP_BIT(CAP_AUDIT_WRITE) | SECURITY_CAP_BIT(CAP_SETFCAP);

/* ---- capabilities ---- */

static uint64_t caps_all(int last_cap)
{
        if (last_cap >= 63)
                return ~UINT64_C(0);
        if (last_cap < 0)
                return 0;
        return (UINT64_C(1) << (last_cap + 1)) - 1;
}

void security_caps_compute(uint64_t add, uint64_t drop, int last_cap, struct security_caps *out)
{
        uint64_t set = ((security_caps_default & ~drop) | add) & caps_all(last_cap);
        *out = (struct security_caps){
                .bounding = set,
                .permitted = set,
                .effective = set,
                .inheritable = 0,
                .last_cap = last_cap,
        };
}

static int read_cap_last_cap(int *ret)
{
        /* procfs reports size 0, so read it directly rather than by size. */
        _cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        char buf[16];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\n' && *end != 0) || v < 0 || v > 63)
                return -EBADMSG;
        *ret = (int) v;
        return 0;
}

int security_caps_prepare(const struct spec_container *c, struct security_caps *out)
{
        int last = 0;
        int r = read_cap_last_cap(&last);
        if (r < 0)
                return r;
        security_caps_compute(c->caps_add, c->caps_drop, last, out);
        return 0;
}

static int caps_set(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
                { .effective = (uint32_t) effective,
                  .permitted = (uint32_t) permitted,
                  .inheritable = (uint32_t) inheritable },
                { .effective = (uint32_t) (effective >> 32),
                  .permitted = (uint32_t) (permitted >> 32),
                  .inheritable = (uint32_t) (inheritable >> 32) },
        };
        if (syscall(SYS_capset, &hdr, data) < 0)
                return -errno;
        return 0;
}

int security_caps_apply(const struct security_caps *caps)
{
        for (int cap = 0; cap <= caps->last_cap; cap++) {
                if (caps->bounding & SECURITY_CAP_BIT(cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        }
        /* EINVAL: a kernel without ambient capabilities has none to clear. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return caps_set(caps->effective & caps->bounding, caps->permitted & caps->bounding, 0);
}

int security_set_ids(const struct security_caps *caps, uid_t uid, gid_t gid, const gid_t *groups,
                     size_t n_groups)
{
        /* Raw syscalls: glibc's set*id() wrappers broadcast to all threads
         * of the parent's libc state, which is meaningless after clone(). */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return -errno;
        if (syscall(SYS_setgroups, n_groups, n_groups > 0 ? groups : NULL) < 0)
                return -errno;
        if (syscall(SYS_setresgid, gid, gid, gid) < 0)
                return -errno;
        if (syscall(SYS_setresuid, uid, uid, uid) < 0)
                return -errno;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return -errno;
        if (uid != 0)
                return caps_set(0, 0, 0);
        return caps_set(caps->effective & caps->bounding, caps->permitted & caps->bounding, 0);
}

int security_no_new_privs(void)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

/* ---- seccomp ---- */

/* The default profile follows Docker's (moby profiles/seccomp/default.json)
 * for x86: an allow-list with EPERM as the default action. Differences:
 * io_uring_* is not allowed (Docker dropped it in 25.0), ioctl(TIOCSTI) is
 * refused, pivot_root joins the CAP_SYS_ADMIN group. Names the installed
 * libseccomp does not know are skipped (they fall to EPERM). */
static const char *const seccomp_allow[] = {
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
        "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
        "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
        "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
        "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
        "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
        "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
        "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
        "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
        "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
        "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
        "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
        "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
        "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
        "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
        "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
        "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
        "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
        "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
        "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
        "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
        "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
        "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
        "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
        "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
        "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
        "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
        "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
        "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
        "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
        "waitid", "waitpid", "write", "writev",
        /* Docker: only on kernels >= 4.8, where seccomp cannot be bypassed
         * through ptrace. */
        "ptrace", "process_vm_readv", "process_vm_writev",
        /* x86-only entries of Docker's profile. */
        "arch_prctl", "modify_ldt",
};

/* Syscalls allowed only when the capability that governs them is in the
 * container's bounding set (Docker's "includes.caps" rules). */
struct seccomp_cap_group {
        int cap;
        const char *const *names;
};

static const char *const seccomp_sys_admin[] = {
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
        "pivot_root", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
        "syslog", "umount", "umount2", "unshare", NULL,
};
static const char *const seccomp_sys_boot[] = { "reboot", NULL };
static const char *const seccomp_sys_chroot[] = { "chroot", NULL };
static const char *const seccomp_sys_module[] = { "delete_module", "init_module", "finit_module", NULL };
static const char *const seccomp_sys_pacct[] = { "acct", NULL };
static const char *const seccomp_sys_ptrace[] = {
        "kcmp", "pidfd_getfd", "process_madvise", NULL,
};
static const char *const seccomp_sys_rawio[] = { "iopl", "ioperm", NULL };
static const char *const seccomp_sys_time[] = {
        "settimeofday", "stime", "clock_settime", "clock_settime64", NULL,
};
static const char *const seccomp_sys_tty_config[] = { "vhangup", NULL };
static const char *const seccomp_sys_nice[] = {
        "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", NULL,
};
static const char *const seccomp_syslog[] = { "syslog", NULL };
static const char *const seccomp_bpf[] = { "bpf", NULL };
static const char *const seccomp_perfmon[] = { "perf_event_open", NULL };
static const char *const seccomp_dac_read_search[] = { "open_by_handle_at", NULL };

static const struct seccomp_cap_group seccomp_cap_groups[] = {
        { CAP_SYS_ADMIN, seccomp_sys_admin },
        { CAP_SYS_BOOT, seccomp_sys_boot },
        { CAP_SYS_CHROOT, seccomp_sys_chroot },
        { CAP_SYS_MODULE, seccomp_sys_module },
        { CAP_SYS_PACCT, seccomp_sys_pacct },
        { CAP_SYS_PTRACE, seccomp_sys_ptrace },
        { CAP_SYS_RAWIO, seccomp_sys_rawio },
        { CAP_SYS_TIME, seccomp_sys_time },
        { CAP_SYS_TTY_CONFIG, seccomp_sys_tty_config },
        { CAP_SYS_NICE, seccomp_sys_nice },
        { CAP_SYSLOG, seccomp_syslog },
        { CAP_BPF, seccomp_bpf },
        { CAP_PERFMON, seccomp_perfmon },
        { CAP_DAC_READ_SEARCH, seccomp_dac_read_search },
};

/* clone() flags that create namespaces (Docker's 0x7E020000). */
#define SECURITY_CLONE_NS_FLAGS                                                                   \
        (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
         CLONE_NEWCGROUP)

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void seccomp_ctxp(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* Adds an unconditional rule; syscalls unknown to libseccomp or absent on
 * every architecture of the filter are skipped. */
static int rule_add_name(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0;
        int r = seccomp_rule_add(ctx, action, nr, 0);
        if (r == -EEXIST || r == -EDOM)
                return 0;
        return r;
}

/* Allows syscall nr unless the low 32 bits of argument arg equal value.
 * The kernel reads such arguments (ioctl's request, socket's family) as
 * 32-bit ints, so a plain 64-bit "!=" would let value | 1 << 32 through.
 * libseccomp refuses a rule whose action equals the default (EPERM), so
 * "low 32 bits != value" is written as "one of the low 32 bits differs":
 * one allow rule per bit, each a single masked compare. */
static int rule_allow_low32_ne(scmp_filter_ctx ctx, int nr, unsigned arg, uint32_t value)
{
        for (unsigned bit = 0; bit < 32; bit++) {
                uint64_t mask = UINT64_C(1) << bit;
                struct scmp_arg_cmp cmp = {
                        .arg = arg,
                        .op = SCMP_CMP_MASKED_EQ,
                        .datum_a = mask,
                        .datum_b = ~(uint64_t) value & mask,
                };
                int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int seccomp_rules_default(scmp_filter_ctx ctx, uint64_t caps)
{
        int r;

        for (size_t i = 0; i < ELEMENTSOF(seccomp_allow); i++) {
                r = rule_add_name(ctx, SCMP_ACT_ALLOW, seccomp_allow[i]);
                if (r < 0)
                        return r;
        }
        for (size_t g = 0; g < ELEMENTSOF(seccomp_cap_groups); g++) {
                if (!(caps & SECURITY_CAP_BIT(seccomp_cap_groups[g].cap)))
                        continue;
                for (const char *const *n = seccomp_cap_groups[g].names; *n; n++) {
                        r = rule_add_name(ctx, SCMP_ACT_ALLOW, *n);
                        if (r < 0)
                                return r;
                }
        }

        if (!(caps & SECURITY_CAP_BIT(CAP_SYS_ADMIN))) {
                /* clone() without namespace flags: fork, threads, vfork. */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, SECURITY_CLONE_NS_FLAGS, 0));
                if (r < 0)
                        return r;
                /* clone3 passes its flags in memory, where seccomp cannot
                 * look: ENOSYS makes libc fall back to clone(). */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
                if (r < 0)
                        return r;
        }

        /* socket() for every family but AF_VSOCK, whose host end no
         * namespace isolates; on i386 this filters the direct socket()
         * (Linux 4.3), and security_seccomp_refuse_socketcall() below
         * closes socketcall(). */
        r = rule_allow_low32_ne(ctx, SCMP_SYS(socket), 0, AF_VSOCK);
        if (r < 0)
                return r;

        /* personality(): only the values Docker allows (PER_LINUX,
         * PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query). */
        static const uint32_t personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(personas); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                                     SCMP_A0(SCMP_CMP_EQ, personas[i]));
                if (r < 0)
                        return r;
        }

        /* ioctl(): everything but TIOCSTI (CVE-2017-5226, CVE-2019-10063). */
        r = rule_allow_low32_ne(ctx, SCMP_SYS(ioctl), 1, (uint32_t) TIOCSTI);
        if (r < 0)
                return r;
        return security_seccomp_refuse_socketcall(ctx);
}

int security_seccomp_refuse_socketcall(void *ctx)
{
        if (seccomp_arch_exist(ctx, SCMP_ARCH_X86) != 0)
                return 0;
        /* Unconditional, so libseccomp drops the socketcall(SYS_x) allow
         * rules it derived from the socket syscalls' rules, whatever the
         * order they were added in. */
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(socketcall), 0);
}

/* libseccomp 2.5 has no seccomp_export_bpf_mem(): export into a memfd
 * and read the program back. */
static int seccomp_export(scmp_filter_ctx ctx, struct security_seccomp *out)
{
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;
        _cleanup_free_ struct sock_filter *filter = malloc(st.st_size);
        if (!filter)
                return -ENOMEM;
        ssize_t n = pread(fd, filter, st.st_size, 0);
        if (n < 0)
                return -errno;
        if (n != st.st_size)
                return -EIO;
        out->filter = TAKE_PTR(filter);
        out->len = (unsigned short) (st.st_size / sizeof(struct sock_filter));
        out->enabled = true;
        return 0;
}

int security_seccomp_export(void *ctx, struct security_seccomp *out)
{
        *out = (struct security_seccomp){ 0 };
        return seccomp_export(ctx, out);
}

int security_seccomp_build_default(uint64_t caps, struct security_seccomp *out)
{
        _cleanup_(seccomp_ctxp) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        /* The native arch (x86-64) is in the context already. */
        static const uint32_t arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
        for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
                int r = seccomp_arch_add(ctx, arches[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        /* A binary tree of syscall numbers instead of a linear list. */
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return r;
        r = seccomp_rules_default(ctx, caps);
        if (r < 0)
                return r;
        *out = (struct security_seccomp){ 0 };
        return seccomp_export(ctx, out);
}

int security_seccomp_prepare(const struct spec_container *c, struct security_seccomp *out)
{
        *out = (struct security_seccomp){ 0 };
        switch (c->seccomp) {
        case SECCOMP_UNCONFINED:
                return 0;
        case SECCOMP_PROFILE:
                return -EOPNOTSUPP;
        case SECCOMP_DEFAULT: {
                struct security_caps caps;
                int r = security_caps_prepare(c, &caps);
                if (r < 0)
                        return r;
                return security_seccomp_build_default(caps.bounding, out);
        }
        default:
                return -EINVAL;
        }
}

const char *security_seccomp_revision(void)
{
        return __DATE__ " " __TIME__;
}

int security_seccomp_apply(const struct security_seccomp *s)
{
        if (!s->enabled)
                return 0;
        struct sock_fprog prog = { .len = s->len, .filter = s->filter };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

void security_seccomp_done(struct security_seccomp *s)
{
        if (!s)
                return;
        free(s->filter);
        *s = (struct security_seccomp){ 0 };
}

/* ---- user namespace id maps ---- */

static int proc_write(pid_t pid, const char *file, const char *text)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return -EXDEV;
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int security_idmap_write(pid_t child, uid_t host_uid, gid_t host_gid, uint32_t count)
{
        if (child <= 0 || count == 0)
                return -EINVAL;
        char line[64];
        snprintf(line, sizeof line, "0 %u %u\n", (unsigned) host_uid, (unsigned) count);
        int r = proc_write(child, "uid_map", line);
        if (r < 0)
                return r;
        snprintf(line, sizeof line, "0 %u %u\n", (unsigned) host_gid, (unsigned) count);
        return proc_write(child, "gid_map", line);
}

/* ---- sealed copy of the runtime (CVE-2019-5736) ---- */

#define SECURITY_EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int security_sealed_memfd(int src, const char *name, int *ret_fd)
{
        struct stat st;
        if (fstat(src, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        off_t done = 0;
        while (done < st.st_size) {
                ssize_t n = sendfile(fd, src, NULL, (size_t) (st.st_size - done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO; /* the binary shrank under us */
                done += n;
        }
        if (fcntl(fd, F_ADD_SEALS, SECURITY_EXE_SEALS) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

