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

/* Imports a tarball (any compression tar understands) or a directory as
 * template name. -EEXIST when it exists. */
int template_import(const char *state_dir, const char *name, const char *source);

int template_remove(const char *state_dir, const char *name);

/* Names of the cached templates (a strv, sorted). */
int template_list(const char *state_dir, char ***ret);
