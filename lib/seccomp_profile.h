/* Owns seccomp profile files in Docker's / OCI's JSON format: reads one,
 * checks it, and compiles it with libseccomp into a struct security_seccomp.
 * Never logs and never applies a filter (security.c does). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "security.h"

#define SECCOMP_PROFILE_FILE_MAX (1024 * 1024) /* bytes */
#define SECCOMP_PROFILE_RULES_MAX 1024         /* entries in "syscalls" */
#define SECCOMP_PROFILE_NAMES_MAX 8192         /* syscall names over all entries */
#define SECCOMP_PROFILE_ARGS_MAX 6             /* "args" of one entry (one per syscall argument) */
#define SECCOMP_PROFILE_ERROR_MAX 512          /* a buffer that holds any error message */

struct seccomp_profile;

/* What a profile is compiled for: the container's capability set (bit n =
 * capability n; "includes"/"excludes" "caps" are checked against it) and
 * the kernel version ("includes" "minKernel"). The filter is always for
 * the machine berth runs on: its architecture picks the "archMap" entry
 * and is what "includes"/"excludes" "arches" match. */
struct seccomp_profile_target {
        uint64_t caps;
        unsigned kernel_major, kernel_minor;
};

/* Parses and checks a profile. text need not be NUL-terminated; source
 * names it in messages. On failure err holds "SOURCE: JSON.PATH: what"
 * ("/etc/berth/strict.json: syscalls[3].action: 'SCMP_ACT_FOO' is not a
 * seccomp action") and the result is -EINVAL (a mistake in the document),
 * -E2BIG (a limit above) or -ENOMEM. *ret is the caller's to free. */
int seccomp_profile_parse(const char *source, const char *text, size_t len, struct seccomp_profile **ret,
                          char *err, size_t n);

/* Reads the file path (following symlinks: the operator named it; at most
 * SECCOMP_PROFILE_FILE_MAX bytes) into a NUL-terminated buffer owned by
 * the caller. -errno with "PATH:
 * cannot open: ..." in err; -E2BIG when too large; -EINVAL for a
 * directory, FIFO or device. */
int seccomp_profile_read(const char *path, char **ret, size_t *ret_len, char *err, size_t n);

/* seccomp_profile_read() + seccomp_profile_parse(). */
int seccomp_profile_load(const char *path, struct seccomp_profile **ret, char *err, size_t n);

/* The target for caps on this machine (kernel version from uname(2)). */
void seccomp_profile_target_native(uint64_t caps, struct seccomp_profile_target *ret);

/* Compiles p for t into out (enabled, the classic-BPF program owned by out;
 * free it with security_seccomp_done()). Syscall names libseccomp does not
 * know are skipped, as Docker does. On failure out is untouched and err
 * says what ("SOURCE: syscalls[4]: 'socket': conflicts with an earlier
 * rule"): -EINVAL for a rule libseccomp refuses, -E2BIG when the program
 * exceeds the kernel's BPF_MAXINSNS, -ENOMEM. */
int seccomp_profile_compile(const struct seccomp_profile *p, const struct seccomp_profile_target *t,
                            struct security_seccomp *out, char *err, size_t n);

struct seccomp_profile *seccomp_profile_free(struct seccomp_profile *p);
static inline void seccomp_profile_freep(struct seccomp_profile **p)
{
        seccomp_profile_free(*p);
}
