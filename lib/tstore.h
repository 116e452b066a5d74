/* Owns the lifecycle of the template store as a whole: what each template
 * (a built or imported tree under STATE/templates, or an image record
 * under STATE/images over layers in STATE/layers/sha256) weighs, who uses
 * it, removing one with the layers no other template references, pruning
 * what no definition references, and cleaning what a crash left.
 *
 * Who uses a template: the container definitions that name it (a spec set
 * the caller loaded) and the containers alive on it, found by their
 * STATE/containers/NAME/template-use file (written by the start while it
 * holds the store lock, before the container's directory lock is taken
 * over by its monitor) whose directory lock is held. Every change to the
 * store happens under the store lock that a start takes while it resolves
 * its template, so a removal never races a start: a start that resolved
 * first is a user, one that resolves after sees the template gone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

#define TSTORE_USE_FILE "template-use"

struct tstore_entry {
        char *name;
        const char *kind;      /* "built", "imported" or "image" */
        char *source;          /* an image's source; NULL for a tree */
        char **layers;         /* an image's diff ids, base first; NULL for a tree */
        uint64_t bytes;        /* the apparent size of its files (all layers) */
        uint64_t shared_bytes; /* of its layers used by another template too */
        uint64_t time_usec;    /* when it was built or imported (CLOCK_REALTIME) */
        int special;           /* enum template_special */
        unsigned devices_dropped, setuid_cleared; /* by an image's import */
        bool declared;         /* a template block in the definitions names it */
        char **definitions;    /* containers whose definition names it */
        char **running;        /* containers alive on it */
};

void tstore_entries_free(struct tstore_entry *v, size_t n);

/* Every template of state_dir, sorted by name; defs may be NULL. */
int tstore_list(const char *state_dir, const struct spec_set *defs, struct tstore_entry **ret, size_t *ret_n);

/* What a remove or prune did. */
struct tstore_report {
        char **templates;  /* removed */
        char **layers;     /* removed diff ids */
        uint64_t bytes;    /* freed (apparent size) */
};
void tstore_report_done(struct tstore_report *r);

/* Removes template name unless something uses it (-EBUSY, e names the
 * users), then every layer no image record and no live container
 * references. -ENOENT: no such template. */
int tstore_remove(const char *state_dir, const struct spec_set *defs, const char *name, struct tstore_report *rep,
                  struct error *e);

/* Removes every template that no container definition (nor template block)
 * names and no live container uses, then every unreferenced layer. */
int tstore_prune(const char *state_dir, const struct spec_set *defs, struct tstore_report *rep, struct error *e);

/* Removes what a crash left (temporary and trash trees, metadata of no
 * template) when the store is not locked by someone else; berthd calls it
 * at start. Returns how many were removed. */
int tstore_recover(const char *state_dir);

/* The store lock a start holds while it resolves its template and until
 * it recorded its use: an fd, or -errno. */
int tstore_lock(const char *state_dir);

/* Records in container_dir that its container runs on template name over
 * layers (NULL for a tree). durable: file and directory are fsync'd, for
 * berthd's containers; a foreground run skips the syncs as its state
 * record does (state_write): the record counts only while the run holds
 * its directory lock, which a crash of the machine ends either way. */
int tstore_note_use(const char *container_dir, const char *name, char *const *layers, bool durable);
