#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
{
        if (d->n >= DIAG_MAX) {
                d->dropped++;
                return;
        }
        struct diag_entry *n = realloc(d->entries, (d->n + 1) * sizeof *n);
        if (!n) {
                d->dropped++;
                return;
        }
        d->entries = n;
        va_list ap;
        char *msg = NULL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        char *f = file ? strdup(file) : NULL;
        if (!msg || (file && !f)) {
                free(msg);
                free(f);
                d->dropped++;
                return;
        }
        d->entries[d->n++] = (struct diag_entry){ .file = f, .line = line, .message = msg };
}

void diag_done(struct diag *d)
{
        for (size_t i = 0; i < d->n; i++) {
                free(d->entries[i].file);
                free(d->entries[i].message);
        }
        free(d->entries);
        *d = (struct diag){ 0 };
}

static int cmp_entry(const void *a, const void *b)
{
        const struct diag_entry *x = a, *y = b;
        int r = strcmp(x->file ? x->file : "", y->file ? y->file : "");
        if (r)
                return r;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return 0;
}

void diag_sort(struct diag *d)
{
        /* Insertion sort keeps equal keys in discovery order (qsort would not). */
        for (size_t i = 1; i < d->n; i++) {
                struct diag_entry e = d->entries[i];
                size_t j = i;
                while (j > 0 && cmp_entry(&d->entries[j - 1], &e) > 0) {
                        d->entries[j] = d->entries[j - 1];
                        j--;
                }
                d->entries[j] = e;
        }
}

const char *diag_format(const struct diag_entry *e, char *buf, size_t size)
{
        if (e->file && e->line > 0)
                snprintf(buf, size, "%s:%d: %s", e->file, e->line, e->message);
        else if (e->file)
                snprintf(buf, size, "%s: %s", e->file, e->message);
        else
                snprintf(buf, size, "%s", e->message);
        return buf;
}
