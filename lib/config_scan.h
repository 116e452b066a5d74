/* The syntax phase of reading definitions (config.c's helper, not a public
 * module): the libconfuse schema built from the key table, the values it
 * stores (text + line), and the pre-scan that blanks comments, records where
 * every section opens and checks each key against the schema before
 * libconfuse sees the text. Never touches a spec. */
#pragma once

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* Every leaf value: its text exactly as written and the line it was
 * written on (libconfuse's typed values carry no line). */
struct cval {
        char *text;
        int line;
};

struct schema {
        cfg_opt_t *opts; /* every block's options, each block's contiguous and ended */
        size_t n, size;
};

/* The libconfuse schema of the whole language: one option per row of the
 * key table. 0 or -ENOMEM; schema_done() frees it. */
int schema_build(struct schema *sc);
void schema_done(struct schema *sc);

/* Where a section (block) opens, as the pre-scan saw it. */
struct sec_rec {
        char name[16];
        char *title;
        int line;
        int depth;
        int parent; /* index in the record list, -1 at top level */
};

/* A setting of a block whose keys are any names (KEYF_FREEFORM: sysctl,
 * rlimits): the pre-scan takes it out of the text libconfuse sees. */
struct scan_entry {
        int rec; /* the block's record */
        char *key, *value; /* value unquoted */
        int line;
};

struct scan {
        struct sec_rec *recs; /* in file order */
        size_t n;
        struct scan_entry *entries;
        size_t n_entries;
};

void scan_done(struct scan *s);

/* Whether o (an option of the schema) is a block of KEYF_FREEFORM. */
bool schema_is_freeform(const cfg_opt_t *o);

/* Blanks comments in buf in place (keeping newlines, so lines stay right),
 * records where sections open, and checks every key against the schema
 * (top_opts): an unknown key or block, a list where one value belongs, a
 * key set twice is reported and blanked out, so that libconfuse (which
 * stops at the first unknown key) goes on and every mistake is reported in
 * one pass. 0 or -ENOMEM. */
int scan_text(char *buf, size_t len, const cfg_opt_t *top_opts, struct scan *s, struct diag *d, const char *file);

/* The record of the section parent (-1: top level) called name with title
 * (NULL: untitled), searching from index from; NULL if none. */
const struct sec_rec *scan_find(const struct scan *s, size_t from, int parent, const char *name, const char *title);
/* The same among the blocks of record parent. */
const struct sec_rec *scan_find_child(const struct scan *s, int parent, const char *name, const char *title);

/* Reports sections that repeat the name and title of an earlier one (which
 * libconfuse would merge): top-level ones (parent < 0), or the mounts of
 * record parent. 0 or -ENOMEM. */
int scan_report_declared_twice(const struct scan *s, int parent, struct diag *d, const char *file);

/* 1 (reported) when the file has more sections than libconfuse should be
 * given (it looks each titled one up among the earlier ones: quadratic),
 * 0 when not, -ENOMEM. */
int scan_check_size(const struct scan *s, struct diag *d, const char *file);
