/* Shared helpers of the cgroup backends: controller names, pure conversions
 * and parsers, small cgroupfs file helpers (everything O_CLOEXEC, -errno).
 * Knows no backend and no manager; never logs, never forks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Controllers berth uses, as bits. v1 hierarchies carry one or several;
 * v2 uses CPU, CPUSET, IO (= blkio), MEMORY, PIDS. */
enum { CG_CPU, CG_CPUACCT, CG_CPUSET, CG_MEMORY, CG_DEVICES, CG_FREEZER, CG_BLKIO, CG_PIDS, CG_N };
extern const char *const cgroup_controller_names[CG_N];

/* Pure conversions and parsers. */
uint64_t cgroup_weight_to_shares(uint32_t weight); /* 1..10000 → 2..262144 */
uint32_t cgroup_io_weight_to_v1(uint32_t weight);  /* 1..10000 → 10..1000 */
uint32_t cgroup_io_weight_to_bfq(uint32_t weight); /* 1..10000 → 1..1000 */
uint64_t cgroup_cpus_to_quota(uint32_t cpus_milli, uint64_t period_us);
/* Finds the path of a hierarchy in /proc/self/cgroup text: controller "" is
 * the v2 line "0::", otherwise the v1 line listing that controller.
 * *ret is malloc()ed. -ENOENT when absent. */
int cgroup_parse_proc_cgroup(const char *text, const char *controller, char **ret);
/* Value of "key N" in a flat keyed file (cpu.stat, memory.events,
 * memory.oom_control). -ENOENT when absent. */
int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret);
/* Sums read and written bytes from v2 io.stat ("8:0 rbytes=N wbytes=N ...") */
int cgroup_parse_io_stat(const char *text, uint64_t *rbytes, uint64_t *wbytes);
/* ... and from v1 blkio.*io_service_bytes* ("8:0 Read N" lines). */
int cgroup_parse_blkio_bytes(const char *text, uint64_t *rbytes, uint64_t *wbytes);

/* Small file helpers for cgroupfs. */
int cgroup_write_at(int dfd, const char *file, const char *value);
int cgroup_read_at(int dfd, const char *file, char **ret);        /* up to 1 MiB */
int cgroup_read_u64_at(int dfd, const char *file, uint64_t *ret); /* "max" → UINT64_MAX */
bool cgroup_file_exists_at(int dfd, const char *file);
/* The first SIZE-1 bytes of DIR/NAME/FILE (NUL-terminated), read through
 * *dfd: an O_PATH fd of DIR opened on first use (*dfd 0: not yet; the fd
 * is kept as fd + 1 so that a zeroed struct means "not opened") and again
 * when DIR was replaced. For a value read of many cgroups in a row (ls):
 * one short path walk instead of the whole one. -ENOENT when absent. */
int cgroup_read_small_below(int *dfd, const char *dir, const char *name, const char *file, char *buf, size_t size);
void cgroup_below_close(int *dfd);

/* Journal of writes made by one apply call, for rolling back on failure. */
struct cgroup_undo {
        struct {
                int dfd;
                const char *file;
                char old[256];
        } e[24];
        size_t n;
};
/* Remembers the current value of file, then writes value. */
int cgroup_undo_write(struct cgroup_undo *u, int dfd, const char *file, const char *value);
void cgroup_undo_rollback(struct cgroup_undo *u);

/* io-max of l into the controller directory dfd (v2: io.max; v1: the
 * four blkio.throttle.*_device files): the device, resolved now to its
 * major:minor, gets l's limits, every other device none. A host without
 * the files is a note. 0, or -errno with e set (writes journaled in u). */
int cgroup_apply_io_max(struct cgroup_undo *u, int dfd, bool v2, const struct spec_limits *l, struct error *e,
                        int *notes);

/* Appends the pids of cgroup.procs of dfd and of every cgroup below it. */
int cgroup_collect_pids(int dfd, pid_t **pids, size_t *n, size_t *cap, int depth);
/* Removes the directory name in dfd and every cgroup below it (rmdir only). */
int cgroup_rmdir_tree(int dfd, const char *name, int depth);
/* Opens "name" relative to the directory path base, creating it when mk. */
int cgroup_open_dir(const char *base, const char *name, bool mk, int *ret_fd, char **ret_path);

/* Monotonic clock in microseconds. */
usec_t cgroup_now(void);

/* A limit a backend skipped: appends "limits.KEY: WHAT" to e's message
 * ("; " between notes; e may be NULL), leaves its code 0 (a note is no
 * failure) and counts it in *notes. */
void cgroup_add_note(struct error *e, int *notes, const char *key, const char *what);

/* "c 10:229 rw": the v1 devices.allow line of a device rule (cgroup.h). */
struct cgroup_device_rule;
const char *cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t size);
