/* Owns what makes a container with idmap unprivileged on the host: its id
 * range (a fixed one, or one from the pool for idmap = "auto", kept in
 * STATE/idmap/ranges), and how its root file system is presented to that
 * range: an idmapped mount of the shared template under an overlay the
 * privileged side mounts (Linux 5.12 for idmapped mounts, 5.19 for
 * overlayfs over them), or, where the kernel or the file system cannot, a
 * one-time shifted copy of the template per range (STATE/idmap/copies).
 * Runs in the privileged parent only, never in a container's child. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct spawn_handoff;
struct spec_container;
struct spec_mount;
struct spec_set;

#define IDMAP_AUTO_COUNT 65536U
#define IDMAP_POOL_DEFAULT_START 1000000000U
#define IDMAP_POOL_DEFAULT_COUNT 1000000000U
#define IDMAP_SUBUID_USER "berth"
#define IDMAP_RANGES_MAX (1024 * 1024) /* bytes of STATE/idmap/ranges */

struct idmap_pool {
        uint32_t start, count;
};

/* "START:COUNT", START >= 1, COUNT >= 65536, ending below 2^32-1: 0 or -EINVAL. */
int idmap_pool_parse(const char *text, struct idmap_pool *p);

/* The pool idmap = "auto" draws from: $BERTH_IDMAP_POOL (berthd's
 * --idmap-pool sets it), else the first line for user "berth" in
 * /etc/subuid, else IDMAP_POOL_DEFAULT_*. -EINVAL when the variable or the
 * subuid line does not parse (what says so in *ret_source). */
int idmap_pool_get(struct idmap_pool *p, const char **ret_source);

/* The 65536 ids container name holds in the pool: its recorded block, else
 * the lowest free one that overlaps no other container's block and none of
 * the n_reserved fixed ranges ([i][0] start, [i][1] count) of other
 * definitions; recorded under STATE/idmap/ranges (flock, atomic rewrite).
 * 0, -ENOSPC (pool full) or -errno. */
int idmap_range_assign(const char *state_dir, const char *name, const struct idmap_pool *pool,
                       const uint32_t (*reserved)[2], size_t n_reserved, uint32_t *ret_start);
/* Frees name's block (berthctl destroy). 0 (also when it had none) or -errno. */
int idmap_range_release(const char *state_dir, const char *name);
/* Name's recorded block: 0, -ENOENT or -errno. */
int idmap_range_lookup(const char *state_dir, const char *name, uint32_t *ret_start);

enum idmap_method {
        IDMAP_METHOD_IDMAPPED_MOUNT,
        IDMAP_METHOD_SHIFTED_COPY,
};
const char *idmap_method_to_string(enum idmap_method m);

/* What a start used, in the container's directory (DIR/idmap), for
 * berthctl inspect: "range=START:COUNT\nmethod=...\n". */
int idmap_record_write(const char *dir, uint32_t start, uint32_t count, enum idmap_method m);
int idmap_record_read(const char *dir, uint32_t *start, uint32_t *count, char *method, size_t method_size);

/* A detached bind mount of path (recursive when asked) seen through the
 * id mapping of the user namespace userns_fd, with attrs (MOUNT_ATTR_*).
 * -EINVAL/-EOPNOTSUPP/-EPERM when the kernel or the file system cannot
 * idmap it. userns_fd -1: a plain bind with attrs. Returns the mount fd
 * in *ret. */
int idmap_mount_tree(int dfd, const char *path, int userns_fd, bool recursive, unsigned attrs, int *ret);

/* A file of the container's own (its /etc/hosts, resolv.conf, hostname
 * under the container's directory, dfd) as a detached bind mount for a
 * container in a user namespace: idmapped when idmapped (root's file is
 * the container root's), else handed to the range's root (root_id). A
 * shared file (more than one link: a network's hosts file) is read-only
 * and keeps its owner. nosuid, nodev, noexec. */
int idmap_file_mount(int dfd, const char *name, int userns_fd, bool idmapped, uint32_t root_id, int *ret);

struct idmap_root {
        const char *state_dir;
        const char *template_name; /* with lower */
        const char *lower;         /* the template's tree, or NULL with rootfs */
        const char *rootfs;        /* rootfs = DIR: an idmapped bind of it */
        const char *upper, *work;  /* owned by the range's root */
        const char *scratch;       /* an empty root-only directory (a lower attached briefly on old kernels) */
        bool volatile_upper;
        uint32_t start, count;
        bool force_copy;           /* $BERTH_IDMAP_METHOD=shifted-copy */
};

/* In the privileged parent, once the child's user namespace has its maps:
 * the container's root as a detached mount (*ret_fd) for the child to
 * attach: an overlay of upper over the idmapped template, or over the
 * range's shifted copy when the kernel refuses that (made once, kept);
 * with rootfs, an idmapped bind (no fallback: refused with a clear error).
 * *ret_method says which. 0 or -errno with e set. */
int idmap_root_mount(const struct idmap_root *r, int userns_fd, int *ret_fd, enum idmap_method *ret_method,
                     struct error *e);

/* The first host id of c's range: its definition's, or (idmap = "auto")
 * its block of the pool, assigned at its first start, avoiding the fixed
 * ranges of set's other definitions. 0 or -errno with e set. */
int idmap_resolve_range(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                        uint32_t *ret_start, struct error *e);

/* Spawn's SPAWN_PHASE_CREATED for a container with idmap (spawn.h): the
 * root (idmap_root_mount), the files of etc_dir (idmap_file_mount) and
 * the bind mounts of mounts (the host's ids as they are, or idmapped with
 * mount.idmap) as detached mounts in h, for the child of pid; what was
 * used recorded in record_dir (idmap_record_write). 0 or -errno with e
 * set and nothing in h. */
int idmap_handoff(const struct idmap_root *r, const char *etc_dir, const char *record_dir,
                  const struct spec_mount *mounts, size_t n_mounts, pid_t pid, struct spawn_handoff *h,
                  struct error *e);

/* $BERTH_IDMAP_METHOD: "shifted-copy" forces the copy (tests, and hosts
 * whose idmapped mounts misbehave), else auto. */
bool idmap_force_copy(void);

/* The first host id of c's range: its definition's, or (idmap = "auto")
 * its block of the pool, assigned at its first start, avoiding the fixed
 * ranges of set's other definitions. 0 or -errno with e set. */
int idmap_resolve_range(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                        uint32_t *ret_start, struct error *e);

/* Spawn's SPAWN_PHASE_CREATED for a container with idmap (spawn.h): the
 * root (idmap_root_mount), the files of etc_dir (idmap_file_mount) and
 * the bind mounts of mounts (the host's ids as they are, or idmapped with
 * mount.idmap) as detached mounts in h, for the child of pid; what was
 * used recorded in record_dir (idmap_record_write). 0 or -errno with e
 * set and nothing in h. */
int idmap_handoff(const struct idmap_root *r, const char *etc_dir, const char *record_dir,
                  const struct spec_mount *mounts, size_t n_mounts, pid_t pid, struct spawn_handoff *h,
                  struct error *e);
