/* A list of user-facing diagnostics ("FILE:LINE: message"), collected
 * while reading definitions so that every mistake is reported in one
 * pass. Owns its strings; does no I/O. */
#pragma once

#include <stddef.h>

#include "util.h"

#define DIAG_MAX 1000 /* more than this and the rest are counted, not kept */

struct diag_entry {
        char *file; /* may be NULL for errors about the directory itself */
        int line;   /* 0 = whole file */
        char *message;
};

struct diag {
        struct diag_entry *entries;
        size_t n;
        size_t dropped;
};

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...) _printf_(4, 5);
void diag_done(struct diag *d);
/* Sorted by file, then line, keeping the order of discovery otherwise. */
void diag_sort(struct diag *d);
/* "file:line: message" into buf. */
const char *diag_format(const struct diag_entry *e, char *buf, size_t size);
