/* Owns declarative templates: template NAME { from = "debian" | "busybox" |
 * "OTHER-TEMPLATE", suite, mirror, packages, copy { source target }, run }.
 * Checks a definition's template blocks (FILE:LINE: cycles, unknown parents,
 * copy sources, package names), computes the hash a build is cached by (its
 * definition, the content of its copy sources and its parent's hash), and
 * builds one: a base layer made by templates/debian.sh or busybox.sh (shared
 * by every template over the same base), then the template's own layer, an
 * overlayfs upper directory over its parent's layers in which packages are
 * installed, files copied and the run command executed in a build container
 * (chroot, own mount and PID namespaces, the host's network). The result is
 * an image record (image.h: STATE/images/NAME, layers in
 * STATE/layers/sha256/), so a container starts on it as on an OCI image.
 * Builds happen aside, in STATE/tbuild/.tmp-NAME.PID, and are renamed into
 * place: a failed or interrupted build leaves the previous one as it was.
 * Blocking: berthd runs tbuild_build() in a forked worker
 * (lib/supervise_tbuild.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "error.h"
#include "spec.h"

#define STATE_TBUILD "tbuild"

/* The key checks of template.from, .suite, .mirror and one entry of
 * .packages (keys.c): NULL, or a message about '%s'. */
const char *tbuild_from_check(const char *from);
const char *tbuild_suite_check(const char *suite);
const char *tbuild_mirror_check(const char *mirror);
const char *tbuild_package_check(const char *pkg);

/* Whether t is built by berthd (from a base or another template) rather
 * than imported from an image. */
bool tbuild_is_declarative(const struct spec_template *t);

/* The cross-checks of the set's template blocks, as FILE:LINE diagnostics:
 * an unknown or cyclic parent, packages over busybox, a copy source that
 * is missing or neither a file nor a directory, a bad target, build keys
 * on an image template. Returns how many were added. */
size_t tbuild_check(const struct spec_set *set, struct diag *d);

/* What template name of set should be built from: hash (64 hex digits) and
 * the why of a rebuild. */
struct tbuild_want {
        char hash[65];
        char base[65], packages[65], copy[65], run[65]; /* the parts' digests */
        char parent[64];   /* a declared parent template's name, or "" */
};
int tbuild_want(const struct spec_set *set, const char *name, struct tbuild_want *w, struct error *e);

/* Whether the build of name in state_dir is the one w asks for: 1; 0 with
 * reason ("not built yet", "packages changed", "parent 'base' changed")
 * when it must be built again; -errno. */
int tbuild_current(const char *state_dir, const char *name, const struct tbuild_want *w, char *reason,
                   size_t size);

/* Builds template name of set (its parent must be built), writing what
 * it does and the output of every step to log_fd. 0, or -errno with e
 * saying why (for a failing step: its command, exit status and last
 * error line). Nothing of a failed build is left. */
int tbuild_build(const char *state_dir, const struct spec_set *set, const char *name, int log_fd,
                 struct error *e);

/* STATE/tbuild/NAME.log: the log of the last build of name (a new string). */
char *tbuild_log_path(const char *state_dir, const char *name);
/* Removes what interrupted builds left in STATE/tbuild (no build may be
 * running). */
void tbuild_remove_leftovers(const char *state_dir);
