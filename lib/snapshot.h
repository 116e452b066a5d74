/* Owns the snapshots of containers' writable layers, in STATE/snapshots/
 * NAME/TAG/ (the layer's copy, the definition text and the records it ran
 * with, an info file), and the copying of a layer: a reflink per file where
 * the file system can, a plain copy otherwise. Freezes a cgroup it is handed
 * for the instant of a copy; never talks to berthd, never forks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cgroup;

/* STATE/snapshots/NAME/TAG/ holds:
 *   upper/           the copy of STATE/containers/NAME/upper
 *   definition.conf  the definition file the container ran with (as last applied)
 *   state, intent    its records at the time, when it had them
 *   info             tag, time, size, method, kind, template and its identity
 *   criu/            a checkpoint's CRIU images and dump.log (kind checkpoint)
 * Names beginning with '.' are work in progress (or berthctl's temporary
 * snapshots for export and clone) and are never listed. */
#define SNAPSHOT_DIR "snapshots"
#define SNAPSHOT_TAG_MAX 64
#define SNAPSHOT_PRE_RESTORE "pre-restore"
#define SNAPSHOT_MAX 1024 /* snapshots of one container */

/* [A-Za-z0-9._-]{1,64}, not beginning with '.'. internal: a leading '.'
 * is allowed (temporary snapshots). */
bool snapshot_tag_valid(const char *tag, bool internal);
/* The default tag, a UTC timestamp ("20261203T031500Z"). */
void snapshot_default_tag(char buf[static SNAPSHOT_TAG_MAX + 1], const char *prefix);

char *snapshot_container_dir(const char *state_dir, const char *name); /* STATE/snapshots/NAME */
char *snapshot_tag_dir(const char *state_dir, const char *name, const char *tag);

enum snapshot_kind {
        SNAPSHOT_MANUAL,
        SNAPSHOT_SCHEDULED,
        SNAPSHOT_AUTO_PRE_RESTORE,
        SNAPSHOT_CHECKPOINT, /* with CRIU images of the processes in criu/ (berthctl checkpoint) */
};
const char *snapshot_kind_to_string(enum snapshot_kind k);

struct snapshot_info {
        char tag[SNAPSHOT_TAG_MAX + 1];
        uint64_t time_usec; /* CLOCK_REALTIME */
        uint64_t size;      /* bytes of regular files in the layer */
        uint64_t files;
        char method[16];    /* reflink, copy, mixed (some of each), none (an empty layer) */
        enum snapshot_kind kind;
        bool frozen;        /* the container ran and was frozen for the copy */
        char name[256];     /* the container's */
        char template_name[256];
        char template_id[65]; /* snapshot_template_identity() */
};
int snapshot_info_read(const char *dir, struct snapshot_info *i);
int snapshot_info_write(const char *dir, const struct snapshot_info *i);

/* Copies the directory tree src (a directory fd) into the new directory
 * dst (a path; it must not exist): modes, owners, times, extended
 * attributes (overlayfs' opaque directories), hard links, device nodes
 * (overlayfs' whiteouts), symbolic links. Each regular file is a reflink
 * (FICLONE) where the file system allows, else copied (copy_file_range).
 * Adds to the counters. 0 or -errno with e set. */
struct snapshot_copy_stats {
        uint64_t files, bytes, reflinked, copied;
};
int snapshot_copy_tree(int src_dfd, const char *dst, struct snapshot_copy_stats *st, struct error *e);
const char *snapshot_copy_method(const struct snapshot_copy_stats *st);

/* The identity of template name in STATE/templates: sha256 (hex) over its
 * tree, in name order: each entry's path, type, mode, owner and content (a
 * file's bytes, a link's target); times are left out, so the same template
 * built on two machines has one identity. Cached in the template's
 * metadata directory, keyed by the tree's inode and change time. */
int snapshot_template_identity(const char *state_dir, const char *name, char out[static 65]);

/* Takes snapshot tag of container name: the layer copied (with cg frozen
 * for the copy when not NULL), definition_file copied beside it. Made
 * aside (.tmp-TAG) and renamed into place: a failure leaves nothing.
 * -EEXIST when the tag exists. keep_scheduled > 0: afterwards, the oldest
 * scheduled snapshots beyond that many are removed. */
struct snapshot_request {
        const char *state_dir;
        const char *name;
        const char *tag;
        enum snapshot_kind kind;
        const char *definition_file; /* may be NULL */
        const char *template_name;
        struct cgroup *freeze; /* may be NULL */
        uint32_t keep_scheduled;
};
int snapshot_take(const struct snapshot_request *rq, struct snapshot_info *ret, struct error *e);

/* The snapshots of container name, oldest first (a new array). */
int snapshot_list(const char *state_dir, const char *name, struct snapshot_info **ret, size_t *n);
/* Removes one: -ENOENT when there is none of that tag. */
int snapshot_remove(const char *state_dir, const char *name, const char *tag);
/* Removes the scheduled snapshots beyond the newest keep. */
int snapshot_prune(const char *state_dir, const char *name, uint32_t keep);

/* Replaces the writable layer of the stopped container name by a copy of
 * snapshot tag; the layer it replaces becomes snapshot "pre-restore" (the
 * one of the previous restore goes). Refused (-EMEDIUMTYPE, e says which)
 * when the snapshot was made over another template or another build of it.
 * The caller makes sure nothing runs the container. */
int snapshot_restore(const char *state_dir, const char *name, const char *tag, const char *template_name,
                     const char *definition_file, struct error *e);

/* Size of the regular files under the directory fd dfd. */
int snapshot_tree_size(int dfd, uint64_t *bytes, uint64_t *files);
