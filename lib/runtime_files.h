/* The files of a container that runtime.c writes before it starts (see
 * runtime_files.c). runtime_build_env and runtime_seccomp_prepare, also
 * defined there, are declared in runtime.h. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "image.h"
#include "spec.h"

/* The overlayfs lowerdir of c's template (*ret_lower). An image: the one a
 * template block declares (imported from its source now unless it was,
 * image_ensure) or one imported by hand; its layers top first, and its
 * config into *ret_img (the defaults of c's command, environment, working
 * directory and user). Else a template script's tree (built now unless it
 * was) or an imported one; *ret_img stays NULL. 0, or -errno with e set
 * ("template 'app' (FILE:LINE): image 'app' (...): layer sha256:...:
 * digest mismatch ...").
 * *ret_lock: the template store's lock (tstore_lock), held from the
 * resolution on: the caller closes it once it recorded the use
 * (tstore_note_use), so that no template remove or prune runs between. */
int runtime_template_root(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                          char **ret_lower, struct image_info **ret_img, int *ret_lock, struct error *e);

/* The health check of c when its definition has no health block and its
 * template is an image whose config has a Healthcheck: Test ["CMD", ARG...]
 * runs ARG..., ["CMD-SHELL", "LINE"] runs /bin/sh -c LINE; Interval,
 * Timeout, StartPeriod (nanoseconds) and Retries where the image sets them
 * (kept within the health keys' limits), else the keys' defaults;
 * on-failure restart. 1 with *out filled (out->command is the caller's),
 * 0 when there is none (no image, no Healthcheck, Test ["NONE"] or an
 * unknown form, or the definition has its own block). */
int runtime_image_health(const char *state_dir, const struct spec_container *c, struct spec_health *out);

/* The signal that stops c: its stop-signal when its definition sets one,
 * else its image's StopSignal (when it is one berth knows), else the
 * default. *source (may be NULL): "definition", "image" or "default". */
int runtime_stop_signal(const char *state_dir, const struct spec_container *c, const char **source);

/* The command of c: override (berthctl run's), else c's command, else the
 * image's Entrypoint + Cmd, else /bin/sh. Where it came from goes to
 * *source ("run", "definition", "image", "default") when not NULL. */
char **runtime_command(char *const *override, const struct spec_container *c, const struct image_info *img,
                       const char **source);

/* Replaces DIR/NAME with TEXT (0644), atomically. 0 or -errno. */
int runtime_write_text(const char *dir, const char *name, const char *text);

/* /etc/hosts (unless hosts_linked: its network's shared file), hostname and
 * resolv.conf of container c into the directory etc. 0 or -errno. */
int runtime_write_etc(const struct spec_container *c, const char *hostname, const struct spec_network *net,
                      bool hosts_linked, const char *etc);
