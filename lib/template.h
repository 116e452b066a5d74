/* Owns the cache of template root file systems under <state>/templates:
 * building one from a script in templates/, importing one from a tarball
 * or a directory, listing and removing. A built template is only ever
 * read (it is an overlayfs lower layer); it is never modified in place. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Where the template scripts live: $BERTH_TEMPLATES, else the installed
 * data directory, else templates/ beside the build directory of the
 * running binary (a source checkout). Returns a new string or NULL. */
char *template_scripts_dir(void);

/* Path of the built template name (a new string) if it is in the cache:
 * 0; -ENOENT when not built yet. */
int template_lookup(const char *state_dir, const char *name, char **ret_path);

/* Builds template name from its script unless it is cached, then returns
 * its path. Concurrent callers wait on a lock; a half-built tree is never
 * visible (built aside, then renamed). -ENOENT: no such template script.
 * Script output goes to stderr. */
int template_ensure(const char *state_dir, const char *name, char **ret_path);

/* Metadata of each template: <state>/templates/.meta/NAME ("origin=import"
 * or "build", "special-files=dropped" or "kept"). */
#define TEMPLATE_META_DIR ".meta"

/* Imports a tarball (any compression tar understands) or a directory as
 * template name. Device nodes are removed and setuid/setgid bits and file
 * capabilities cleared unless keep_special; the choice is recorded in the
 * template's metadata. Built templates are cleaned the same way. -EEXIST
 * when it exists; -EIO when tar or cp failed. */
int template_import(const char *state_dir, const char *name, const char *source, bool keep_special);

enum template_special {
        TEMPLATE_SPECIAL_UNKNOWN, /* no metadata: made before berth recorded it */
        TEMPLATE_SPECIAL_DROPPED,
        TEMPLATE_SPECIAL_KEPT,
};
/* What the template's metadata says about its device nodes and setuid files. */
enum template_special template_special_files(const char *state_dir, const char *name);

int template_remove(const char *state_dir, const char *name);

/* Names of the cached templates (a strv, sorted). */
int template_list(const char *state_dir, char ***ret);
