/* Shared between cgroup.c and its two backends; not for other modules. */
#pragma once

#include "cgroup.h"

/* Controllers berth uses, as bits. v1 hierarchies carry one or several;
 * v2 uses CPU, CPUSET, IO (= blkio), MEMORY, PIDS. */
enum { CG_CPU, CG_CPUACCT, CG_CPUSET, CG_MEMORY, CG_DEVICES, CG_FREEZER, CG_BLKIO, CG_PIDS, CG_N };
extern const char *const cgroup_controller_names[CG_N];

#define CG_V2_WANTED                                                                               \
        ((1u << CG_CPU) | (1u << CG_CPUSET) | (1u << CG_BLKIO) | (1u << CG_MEMORY) |               \
         (1u << CG_PIDS))

struct cgroup_manager {
        int version;
        unsigned available; /* CG_* bits */
        char missing[128];
        /* v2 */
        char *own;  /* absolute directory of the own cgroup */
        char *base; /* B */
        bool base_is_root;
        /* v1: directory of B per controller (NULL when not mounted). */
        char *v1_base[CG_N];
        /* /proc/<pid>/cgroup text to use instead of our own (opening the
         * manager of a container started by another process). */
        const char *proc_text;
};

struct cgroup {
        struct cgroup_manager *m;
        char *name;
        /* v2 */
        char *path;
        int fd;
        /* v1: directory fd and path per controller (-1 / NULL when absent). */
        int v1_fd[CG_N];
        char *v1_path[CG_N];
};

/* Small file helpers for cgroupfs (everything O_CLOEXEC, -errno). */
int cgroup_write_at(int dfd, const char *file, const char *value);
int cgroup_read_at(int dfd, const char *file, char **ret);        /* up to 1 MiB */
int cgroup_read_u64_at(int dfd, const char *file, uint64_t *ret); /* "max" → UINT64_MAX */
bool cgroup_file_exists_at(int dfd, const char *file);

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

/* Appends the pids of cgroup.procs of dfd and of every cgroup below it. */
int cgroup_collect_pids(int dfd, pid_t **pids, size_t *n, size_t *cap, int depth);
/* Removes the directory name in dfd and every cgroup below it (rmdir only). */
int cgroup_rmdir_tree(int dfd, const char *name, int depth);
/* Opens "name" relative to the directory path base, creating it when mk. */
int cgroup_open_dir(const char *base, const char *name, bool mk, int *ret_fd, char **ret_path);

void cgroup_set_err(char *err, size_t errlen, const char *key, int r);

/* Backends. */
int cgroup_v1_open(struct cgroup_manager *m);
int cgroup_v1_create(struct cgroup *cg, bool mk);
int cgroup_v1_apply_limits(struct cgroup *cg, const struct spec_limits *l, char *err,
                           size_t errlen);
int cgroup_v1_apply_devices(struct cgroup *cg);
int cgroup_v1_attach(struct cgroup *cg, pid_t pid);
int cgroup_v1_open_tasks(struct cgroup *cg, int *fds, size_t max, size_t *ret_n);
int cgroup_v1_set_frozen(struct cgroup *cg, bool frozen);
int cgroup_v1_is_empty(struct cgroup *cg);
int cgroup_v1_stats(struct cgroup *cg, struct cgroup_stats *st);
int cgroup_v1_remove(struct cgroup *cg);

int cgroup_v2_open(struct cgroup_manager *m);
int cgroup_v2_claim(struct cgroup_manager *m);
int cgroup_v2_create(struct cgroup *cg, bool mk);
int cgroup_v2_apply_limits(struct cgroup *cg, const struct spec_limits *l, char *err,
                           size_t errlen);
int cgroup_v2_apply_devices(struct cgroup *cg);
int cgroup_v2_set_frozen(struct cgroup *cg, bool frozen);
int cgroup_v2_is_empty(struct cgroup *cg);
int cgroup_v2_wait_empty(struct cgroup *cg, usec_t timeout);
int cgroup_v2_kill(struct cgroup *cg);
int cgroup_v2_stats(struct cgroup *cg, struct cgroup_stats *st);
int cgroup_v2_remove(struct cgroup *cg);

/* Monotonic clock in microseconds. */
usec_t cgroup_now(void);
