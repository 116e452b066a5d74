/* Owns the container settings of issue 18a beside the limits: sysctl,
 * rlimits, env-file, io-max's device, read-only-root. Pure checks and
 * parsers for config.c, the load-time reads (env file, device node), and
 * the small appliers spawn and mounts call. Never reads a definition file,
 * never forks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "error.h"
#include "spec.h"

#define SETTINGS_SYSCTL_VALUE_MAX 256
#define SETTINGS_ENV_FILE_MAX (1 << 20)

/* Whether sysctl name may be set for a container with network mode mode:
 * NULL, or a message about '%s' (the name) for diag. Only namespaced ones
 * (as runc): net.* (with a network namespace of its own: not mode host),
 * kernel.shm{all,max,mni,_rmid_forced}, kernel.msg{max,mnb,mni}, kernel.sem,
 * fs.mqueue.*, kernel.domainname. */
const char *settings_sysctl_check_name(const char *name, net_mode_t mode);
/* NULL or a message about '%s' (the value). */
const char *settings_sysctl_check_value(const char *value);

/* RLIMIT_* of a name ("nofile", "core"), or -1. */
int settings_rlimit_from_name(const char *name);
const char *settings_rlimit_to_name(int resource);
/* "4096", "unlimited", "1024:4096", "0:unlimited" into soft, hard
 * (SPEC_RLIM_INFINITY = unlimited); a single value sets both. 0, or
 * -EINVAL with a message about the value in msg. */
int settings_rlimit_parse(int resource, const char *text, uint64_t *soft, uint64_t *hard, char *msg, size_t size);

/* Parses an env file's text: NAME=VALUE lines, blank lines and lines
 * starting with '#' skipped, the value taken as is (no quotes removed).
 * Each bad line is reported as path:LINE (what: prefixes the message).
 * 0 with *ret (possibly empty, never NULL), or -ENOMEM. */
int settings_env_file_parse(const char *path, const char *what, const char *text, size_t len, char ***ret,
                            struct diag *d);

/* Reads every env-file the set names (its entries and a digest into the
 * spec, so a changed content restarts the container) and checks every
 * io-max device is a block device; reported at the key's line. 0 or
 * -ENOMEM. */
int settings_check_set(struct spec_set *set, struct diag *d);

/* The major:minor of the block device node path, a partition's disk's
 * (throttling applies to whole disks). 0, -ENOENT, -ENOTBLK, -errno. */
int settings_block_device(const char *path, unsigned *ret_major, unsigned *ret_minor);

/* In the container's setup child, /proc of the new root open as procfd:
 * writes each "name=value". No allocation. 0 or -errno with e set. */
int settings_apply_sysctl(int procfd, char *const *sysctl, struct error *e);

/* In the parent, before the child runs anything: the limits of pid (and
 * so of everything it starts). 0 or -errno with e set. */
int settings_apply_rlimits(pid_t pid, const struct spec_rlimit *l, size_t n, struct error *e);
/* Every resource limit of from onto to (a process joining from's
 * container: exec sessions, health probes). 0 or -errno with e set. */
int settings_copy_rlimits(pid_t from, pid_t to, struct error *e);
