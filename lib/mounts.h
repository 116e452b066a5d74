/* Owns the container's view of the file system, built inside its new mount
 * namespace by the setup child: the root (overlay over a template, or a
 * directory as is), /proc /sys /dev, declared mounts, pivot_root, masks.
 * Every target inside the root is reached through an fd resolved with
 * openat2(RESOLVE_IN_ROOT), never through a path string. Never allocates:
 * it runs between clone() and execve(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct spec_mount; /* spec.h: the declared mounts, as read */

struct mounts_plan {
        const struct spec_mount *mounts; /* declared mounts, in order */
        size_t n_mounts;
        const char *merged;        /* the directory the root is mounted on */
        const char *overlay_opts;  /* "lowerdir=..,upperdir=..,workdir=.." or NULL */
        const char *rootfs_dir;    /* rootfs = PATH (no overlay), or NULL */
        const char *etc_dir;       /* host directory with hosts, resolv.conf, hostname */
        bool userns;
        int console_fd;            /* pty slave to bind on /dev/console, or -1 */
        bool read_only_root;       /* the root read-only; /tmp and /run private tmpfs */
        char *const *sysctl;       /* "name=value", written in the container's /proc/sys */
};

/* Builds the root and pivots into it. On failure e holds a one-line
 * reason for the operator; returns -errno. */
int mounts_setup(const struct mounts_plan *p, struct error *e);

/* Opens path inside the current root without following symlinks out of it
 * or through magic links (for workdir and similar). */
int mounts_open_in_root(int rootfd, const char *path, int flags, bool create_dirs);
