/* Owns secrets (secret blocks): their sources opened at start, copied in the
 * container's setup child into a private tmpfs with mode 0400 owned by the
 * container's user, and bound read-only on their targets. The content is
 * never written to the writable layer, the state directory or a log, and
 * never leaves this module but into that tmpfs. */
#pragma once

#include <sys/types.h>

#include "diag.h"
#include "error.h"
#include "mounts.h"
#include "spec.h"

struct secrets_prepared {
        struct mounts_secret items[SPEC_SECRETS_MAX];
        size_t n;
};

/* Opens each source of c (a regular file of at most SPEC_SECRET_SIZE_MAX
 * bytes). 0 or -errno with e set ("secret 'db': source '...': ..."); on
 * failure nothing stays open. */
int secrets_open(const struct spec_container *c, struct secrets_prepared *ret, struct error *e);
void secrets_close(struct secrets_prepared *s);

/* In the setup child, after pivot_root: one tmpfs, a file per secret
 * (0400, uid:gid), made read-only, each bound on its target (created in
 * the root when missing: an empty file). Closes the sources. Never
 * allocates. 0 or -errno with e set. */
int secrets_install(const struct mounts_secret *s, size_t n, uid_t uid, gid_t gid, struct error *e);

/* berthctl check: a FILE:LINE error for each source that is missing, not
 * a regular file or too large. */
void secrets_preflight(const struct spec_container *c, struct diag *d);
