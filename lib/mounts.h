/* Owns the container's view of the file system, built inside its new mount
 * namespace by the setup child: the root (overlay over a template, or a
 * directory as is), /proc /sys /dev, declared mounts, pivot_root, masks.
 * Every target inside the root is reached through an fd resolved with
 * openat2(RESOLVE_IN_ROOT), never through a path string. Never allocates:
 * it runs between clone() and execve(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct spec_mount; /* spec.h: the declared mounts, as read */

/* The files of etc_dir bound over the root's /etc, in this order. */
#define MOUNTS_ETC_FILES 3
extern const char *const mounts_etc_files[MOUNTS_ETC_FILES];
/* At most this many bind mounts for a container in a user namespace (one
 * message: the root, the /etc files and these). */
#define MOUNTS_BINDS_HANDED 12
/* A host device node bound into the container's /dev (devices.h). */
struct mounts_node {
        char host[128]; /* the host's node */
        char path[128]; /* absolute, under /dev */
};

/* A secret's source, opened by the caller, copied into a private tmpfs
 * and bound read-only on target (secrets.h). */
struct mounts_secret {
        int fd;
        const char *name;
        const char *target;
        uint64_t size;
};

struct mounts_plan {
        const struct spec_mount *mounts; /* declared mounts, in order */
        size_t n_mounts;
        const char *merged;        /* the directory the root is mounted on */
        const char *overlay_opts;  /* "lowerdir=..,upperdir=..,workdir=.." or NULL */
        const char *rootfs_dir;    /* rootfs = PATH (no overlay), or NULL */
        const char *etc_dir;       /* host directory with hosts, resolv.conf, hostname */
        bool userns;
        int console_fd;            /* pty slave to bind on /dev/console, or -1 */
        /* In a user namespace the child can neither mount the overlay nor
         * reach the container's root-only directory: the privileged parent
         * made these as detached mounts and handed them over (the child
         * sets this from what it received): the root, attached over "/"
         * and pivoted into, and the /etc files (-1: none). */
        bool from_parent;
        int root_fd;
        int etc_fds[MOUNTS_ETC_FILES];
        int bind_fds[MOUNTS_BINDS_HANDED]; /* the bind mounts of mounts, in order */
        size_t n_bind_fds;
        bool read_only_root;       /* the root read-only; /tmp and /run private tmpfs */
        char *const *sysctl;       /* "name=value", written in the container's /proc/sys */
        const struct mounts_node *nodes; /* device blocks */
        size_t n_nodes;
        /* berth's init (runtime_init_share): bound read-only (exec
         * allowed, nosuid, nodev) on init_target in the new /dev, and
         * opened (O_PATH) into *init_fd, which the init is executed from.
         * NULL: none. */
        const char *init_file;
        const char *init_target;
        int *init_fd;
        const struct mounts_secret *secrets; /* installed after mounts_setup (secrets_install) */
        size_t n_secrets;
};

/* Builds the root and pivots into it. On failure e holds a one-line
 * reason for the operator; returns -errno. */
int mounts_setup(const struct mounts_plan *p, struct error *e);

/* Opens path inside the current root without following symlinks out of it
 * or through magic links (for workdir and similar). */
int mounts_open_in_root(int rootfd, const char *path, int flags, bool create_dirs);
/* Creates an empty file at path in the root (parents too) unless something
 * is there, and returns an O_PATH fd to it (a mount point for a file). */
int mounts_ensure_file_in_root(int rootfd, const char *path);
