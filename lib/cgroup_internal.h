/* Shared between cgroup.c and its two backends; not for other modules. */
#pragma once

#include "cgroup.h"
#include "cgroup_util.h"

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
