/* Owns the hardening of a container's processes: capabilities, no_new_privs,
 * the seccomp filter, user-namespace id maps and the sealed runtime copy.
 * Never forks and never logs; *_apply() never allocates (safe after clone()). */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

/* Capabilities granted to a container before caps_add/caps_drop: Docker's
 * and crun's default (chown, dac_override, fowner, fsetid, kill, setgid,
 * setuid, setpcap, net_bind_service, net_raw, sys_chroot, mknod,
 * audit_write, setfcap). */
extern const uint64_t security_caps_default;

#define SECURITY_CAP_BIT(cap) (UINT64_C(1) << (cap))

/* Capability sets of a container process (bit n = capability n). The
 * inheritable and ambient sets are always empty (CVE-2022-29162). */
struct security_caps {
        uint64_t bounding;
        uint64_t permitted;
        uint64_t effective;
        uint64_t inheritable; /* always 0 */
        int last_cap;         /* the running kernel's highest capability */
};

/* Pure: the sets for (default - drop) + add, limited to caps 0..last_cap.
 * Adds apply after drops, as in Docker, so drop = all with add = one
 * capability leaves exactly that one. */
void security_caps_compute(uint64_t add, uint64_t drop, int last_cap, struct security_caps *out);

/* Parent side: reads /proc/sys/kernel/cap_last_cap and computes the sets
 * for container c. -errno when the kernel value cannot be read. */
int security_caps_prepare(const struct spec_container *c, struct security_caps *out);

/* Child side, while still uid 0 with full capabilities (needs CAP_SETPCAP):
 * drops every capability outside the bounding set from the bounding set,
 * clears the ambient set, then capset(effective, permitted, inheritable 0).
 * Raw syscalls only. 0 or -errno. */
int security_caps_apply(const struct security_caps *caps);

/* Child side, after security_caps_apply(), to run as uid/gid with the given
 * supplementary groups (n_groups may be 0 → no supplementary groups).
 * Keeps the bounding set. For uid 0 the effective and permitted sets stay
 * as computed; for any other uid they are cleared (as Docker does since
 * 20.10.14: a non-root process holds capabilities only in its bounding set,
 * so only file capabilities of an executable could raise them, which
 * no_new_privs then forbids). Raw syscalls only. 0 or -errno. */
int security_set_ids(const struct security_caps *caps, uid_t uid, gid_t gid, const gid_t *groups,
                     size_t n_groups);

/* prctl(PR_SET_NO_NEW_PRIVS, 1). Always applied, before the seccomp filter. */
int security_no_new_privs(void);

/* A prebuilt classic-BPF seccomp program. enabled false = "unconfined":
 * apply is a no-op and the caller warns the operator. */
struct security_seccomp {
        bool enabled;
        struct sock_filter *filter; /* owned */
        unsigned short len;         /* instructions */
};

/* Pure on top of libseccomp: the default profile for a container whose
 * bounding set is caps (see security.c for the rules). Default action
 * EPERM, architectures x86-64, x86 (i386) and x32. 0 or -errno. */
int security_seccomp_build_default(uint64_t caps, struct security_seccomp *out);

/* Pure on top of libseccomp: when ctx (a scmp_filter_ctx) filters the i386
 * ABI, makes socketcall() fail with ENOSYS there, whatever rules the
 * context has for it. socketcall() passes the socket calls' arguments in
 * memory, where seccomp cannot look, and libseccomp turns every rule for
 * socket() (conditions and all) into an unconditional socketcall(SYS_SOCKET)
 * rule on i386; the direct i386 socket syscalls (Linux 4.3) are filtered
 * like x86-64's. 0 when the context has no i386 ABI. */
int security_seccomp_refuse_socketcall(void *ctx);

/* Pure: exports a libseccomp filter (ctx is a scmp_filter_ctx) as the
 * program in out (enabled, owned by out). -E2BIG when it is longer than
 * BPF_MAXINSNS. For builders of other profiles (seccomp_profile.c). */
int security_seccomp_export(void *ctx, struct security_seccomp *out);

/* Parent side: the program for container c (computes its capabilities).
 * SECCOMP_DEFAULT → the default profile; SECCOMP_UNCONFINED → enabled
 * false; SECCOMP_PROFILE → -EOPNOTSUPP: profile files are compiled by
 * seccomp_profile.h, which runtime_seccomp_prepare() calls. */
int security_seccomp_prepare(const struct spec_container *c, struct security_seccomp *out);

/* Child side, last step before execve() (after no_new_privs, after the
 * uid change): seccomp(SECCOMP_SET_MODE_FILTER) with the program, falling
 * back to prctl(PR_SET_SECCOMP) on kernels without seccomp(2). */
int security_seccomp_apply(const struct security_seccomp *s);

/* Changes whenever the code that builds the default filter is rebuilt, so
 * a cache of built programs keyed by it never serves a stale one. */
const char *security_seccomp_revision(void);

/* Frees the program; the struct can be prepared again. NULL-safe. */
void security_seccomp_done(struct security_seccomp *s);

/* Parent side, after the child entered its user namespace: writes
 * "0 host_uid count" to /proc/PID/uid_map and "0 host_gid count" to
 * /proc/PID/gid_map (through procfs fds checked with fstatfs). The parent
 * is privileged in the parent namespace, so /proc/PID/setgroups stays
 * "allow": the container's root may call setgroups() within its mapped
 * range, which is what images with supplementary groups need. 0 or -errno. */
int security_idmap_write(pid_t child, uid_t host_uid, gid_t host_gid, uint32_t count);

/* CVE-2019-5736: copies the regular file open at src into a memfd named
 * name and seals it (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE).
 * The fd (O_CLOEXEC, owned by the caller) is berth-init, the only program
 * of berth a container's processes ever are (a start, exec and health
 * probes), so a container writing to /proc/PID/exe can never reach a host
 * binary. 0 or -errno. */
int security_sealed_memfd(int src, const char *name, int *ret_fd);

