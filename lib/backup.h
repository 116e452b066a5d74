/* Owns berth's export archives: a tar stream (zstd-compressed on request)
 * of a container's writable layer, its definition and, optionally, its
 * snapshots, closed by a manifest with the sha256 of every member and the
 * template's identity; and reading one back into a staging directory,
 * refusing one that is truncated or whose members do not match the
 * manifest. Also rewrites a definition's text for a new name. Never talks
 * to berthd; libarchive does the tar and compression. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define BACKUP_FORMAT "berth-export"
#define BACKUP_VERSION 1
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_MEMBERS_MAX (4 * 1024 * 1024)

/* The archive's layout:
 *   container/{upper/..., definition.conf, info}   the layer and its records
 *   snapshots/TAG/{upper/..., definition.conf, info, criu/...}   criu/: a checkpoint's images
 *   manifest.json                                   last */
struct backup_source {
        const char *name;
        const char *layer_dir;  /* a snapshot directory (snapshot.h) of the layer now */
        const char *template_name;
        const char *template_id;
        char **snapshot_tags;   /* with their directories below, or NULL */
        char **snapshot_dirs;
};
/* Writes the archive to fd (not closed); zstd compresses it. */
int backup_export(const struct backup_source *src, int fd, bool zstd, struct error *e);

/* A directory of plain files and symbolic links (CRIU's images: a live
 * migration's pre-dump rounds) as a tar stream of PREFIX/NAME members, to
 * fd (not closed). */
int backup_dir_export(const char *dir, const char *prefix, int fd, struct error *e);
/* Reads such a stream into dest (which exists): its one PREFIX directory
 * is created there; prefix (size bytes) gets its name. Refuses any other
 * member (-EBADMSG), an empty or truncated stream. */
int backup_dir_import(int fd, const char *dest, char *prefix, size_t size, struct error *e);

struct backup_manifest {
        char *name;
        char *template_name;
        char *template_id;
        char **snapshot_tags;
        size_t members;
};
void backup_manifest_done(struct backup_manifest *m);
/* Reads an archive from fd into the existing, empty directory stage
 * (container/, snapshots/TAG/) and checks every member against the
 * manifest: -EBADMSG with e saying which member, what is missing or that
 * the archive ends early. The caller removes stage on failure. */
int backup_import(int fd, const char *stage, struct backup_manifest *ret, struct error *e);

/* The block of container old_name in the definition text, alone, renamed
 * new_name; with drop_identity, its static address and published ports
 * left out (a second container beside the first must not claim them).
 * *ret is a new string. -ENOENT when the text declares no such container. */
int backup_definition_rewrite(const char *text, const char *old_name, const char *new_name, bool drop_identity,
                              char **ret);
