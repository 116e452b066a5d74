/* Owns OCI and Docker images used as templates: reading an image from an
 * archive or a layout on disk (oci-archive:, oci:, docker-archive:),
 * verifying every blob's sha256, unpacking each layer once into the layer
 * store (STATE/layers/sha256/DIFFID, shared by every image that has it) and
 * the image record (STATE/images/NAME) naming its layers and its config.
 * Never contacts a registry; never modifies a layer once it is in place. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* At most this many layers in one image (overlayfs stacks at most 500, and
 * the lowerdir option must fit in one page), this much in a manifest or
 * config, this much in an unpacked image (all layers). */
#define IMAGE_LAYERS_MAX 40
#define IMAGE_JSON_MAX (4u << 20)
/* At most this many neutralised files named in a record. */
#define IMAGE_DROPPED_MAX 32

/* Whether from names an image source: "oci-archive:PATH[:TAG]",
 * "oci:DIR[:TAG]" or "docker-archive:PATH[:TAG]". */
bool image_source_is_image(const char *from);
/* NULL when from is a well-formed image source, else a message about
 * '%s' (the value) for a definition's check. */
const char *image_source_check(const char *from);

/* What an image's config says, as defaults for a container. */
struct image_info {
        char *name;
        char *source;        /* as given to import */
        char **layers;       /* diff ids "sha256:HEX", base first */
        char **entrypoint;   /* NULL when not set */
        char **cmd;
        char **env;
        char *workdir;
        char *user;
        char *stop_signal;
        char **exposed_ports; /* "80/tcp" */
        uint64_t bytes;      /* what its import unpacked (0: every layer was in the store) */
        unsigned devices_dropped;
        unsigned setuid_cleared;
        char **dropped;      /* "sha256:LAYER: PATH: device node dropped", ... (NULL: none) */
        /* The config's Healthcheck: Test as given (["CMD", ...],
         * ["CMD-SHELL", "..."] or ["NONE"]; NULL when the image has none),
         * durations in microseconds and retries, 0 when not set. */
        char **health_test;
        uint64_t health_interval, health_timeout, health_start_period;
        unsigned health_retries;
};
struct image_info *image_info_free(struct image_info *i);
static inline void image_info_freep(struct image_info **i)
{
        image_info_free(*i);
}

/* Imports the image at from as template name: every blob's digest is
 * verified, each layer not yet in the store is unpacked beside it and
 * renamed into place, then the record is written (atomically, after the
 * layers are synced). Device nodes are dropped, setuid/setgid bits and
 * extended attributes (file capabilities) are not kept. OCI whiteouts
 * become overlayfs whiteouts. On failure e names the layer and why, and
 * nothing partial is left. -EEXIST: a record of that name exists. */
int image_import(const char *state_dir, const char *name, const char *from, struct error *e);

/* The record of name, importing from first when there is none or when it
 * was imported from another source. 0, or -errno with e set. */
int image_ensure(const char *state_dir, const char *name, const char *from, struct error *e);

/* image_ensure for a caller holding the store lock (tstore_lock). */
int image_ensure_locked(const char *state_dir, const char *name, const char *from, struct error *e);

/* The record of image name: 0, -ENOENT (no such image), -EBADMSG. */
int image_read(const char *state_dir, const char *name, struct image_info **ret);

/* The overlayfs lowerdir of the image: its layer directories, top first,
 * colon-separated (a new string). -ENOENT when a layer is missing. */
int image_lowerdir(const char *state_dir, const struct image_info *i, char **ret);

/* Removes the record (the layers stay: a running container may use them). */
int image_remove(const char *state_dir, const char *name);

/* Names of the imported images (a strv, sorted). */
int image_list(const char *state_dir, char ***ret);

/* How many records name layer diff_id (for `template ls`'s shared bytes). */
unsigned image_layer_users(const char *state_dir, const char *diff_id);
