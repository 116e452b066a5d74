/* The interface every cgroup backend implements (cgroup_v1.c, cgroup_v2.c),
 * one table chosen once when a manager is opened, as crun's
 * libcrun_cgroup_manager. For cgroup.c, the backends and their tests; a
 * backend includes this and cgroup_util.h, never calls into cgroup.c. */
#pragma once

#include "cgroup.h"
#include "cgroup_util.h"

/* The generic part of a manager and of a cgroup. A backend's own structs
 * begin with these (first member), and its ops cast back to them; sizes in
 * the ops table tell cgroup.c how much to allocate. */
struct cgroup_manager {
        const struct cgroup_backend_ops *ops;
        unsigned available; /* CG_* bits the host provides */
        char missing[128];
        char *of_text; /* cgroup_open_manager_of(): the /proc/PID/cgroup text it was made from */
        char owner[32]; /* cgroup_manager_set_owner(); "" none */
};

struct cgroup {
        struct cgroup_manager *m;
        char *name;
};

/* Where a manager reads the host from; NULL fields mean the real thing.
 * Tests point them at a fake cgroupfs tree. */
struct cgroup_sources {
        const char *root;       /* the cgroup2 mount (v2): /sys/fs/cgroup */
        const char *proc_text;  /* /proc/self/cgroup text */
        const char *mountinfo;  /* /proc/self/mountinfo text (v1) */
};

struct cgroup_backend_ops {
        int version; /* what cgroup_manager_version() reports */
        size_t manager_size, cgroup_size;
        unsigned wanted; /* CG_* bits berth uses with this backend */
        /* How the host names controller c ("io" for CG_BLKIO on v2). */
        const char *(*controller_name)(int c);
        /* true: a new process is born into its cgroup (clone-into);
         * false: it joins through fds opened for it. */
        bool places_at_clone;

        /* Manager: fill the backend's part (and m->available) from src;
         * release it. */
        int (*open)(struct cgroup_manager *m, const struct cgroup_sources *src);
        void (*done)(struct cgroup_manager *m);
        const char *(*base)(const struct cgroup_manager *m);
        int (*claim)(struct cgroup_manager *m); /* NULL: nothing to claim */

        /* Cgroup: open B/berth/<cg->name>, creating it when mk; release. */
        int (*create)(struct cgroup *cg, bool mk);
        /* Whether B/berth/<name> is frozen (as is_frozen), opening only the
         * freezer's file: 0 when it or the freezer does not exist. */
        int (*name_is_frozen)(const struct cgroup_manager *m, const char *name);
        void (*cgroup_done)(struct cgroup *cg);
        const char *(*path)(const struct cgroup *cg);
        /* Directory holding controller c's files, or NULL. */
        const char *(*controller_path)(const struct cgroup *cg, int c);
        int (*apply_limits)(struct cgroup *cg, const struct spec_limits *l, struct error *e);
        int (*apply_devices)(struct cgroup *cg, const struct cgroup_device_rule *extra, size_t n);
        int (*attach)(struct cgroup *cg, pid_t pid);
        /* Fills p for a process about to be born (see cgroup_placement). */
        int (*place)(struct cgroup *cg, struct cgroup_placement *p);
        int (*set_frozen)(struct cgroup *cg, bool frozen);
        int (*is_frozen)(struct cgroup *cg);
        /* SIGKILL to the whole subtree at once; NULL or -ENOENT: not here. */
        int (*kill)(struct cgroup *cg);
        int (*is_empty)(struct cgroup *cg);
        /* NULL: cgroup.c polls is_empty. */
        int (*wait_empty)(struct cgroup *cg, usec_t timeout);
        /* Fills the fields the host provides (the rest stay UNKNOWN). */
        int (*stats)(struct cgroup *cg, struct cgroup_stats *st);
        /* A directory whose cgroup.procs tree lists every process. */
        int (*procs_fd)(struct cgroup *cg);
        int (*remove)(struct cgroup *cg);
};

extern const struct cgroup_backend_ops cgroup_v1_ops;
extern const struct cgroup_backend_ops cgroup_v2_ops;

/* Opens a manager with the given backend, reading the host from src. */
int cgroup_open_manager_with(const struct cgroup_backend_ops *ops, const struct cgroup_sources *src,
                             struct cgroup_manager **ret);
/* Directory of controller c of cg (tests), or NULL. */
const char *cgroup_controller_path(const struct cgroup *cg, int c);

/* cgroup_v2.c's BPF_CGROUP_DEVICE program (exposed for its unit test):
 * the default nodes and the extra rules, into p (max instructions).
 * Returns the instruction count, 0 when max is too small. */
struct bpf_insn;
size_t cgroup_v2_device_program(struct bpf_insn *p, size_t max, const struct cgroup_device_rule *extra,
                                size_t n_extra);
