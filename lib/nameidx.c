#include "nameidx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_nameidx(const void *a, const void *b)
{
        const struct nameidx *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        if (r)
                return r;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void nameidx_sort(struct nameidx *ix, size_t n)
{
        if (n > 0)
                qsort(ix, n, sizeof *ix, cmp_nameidx);
}

size_t nameidx_find(const struct nameidx *ix, size_t n, const char *name)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ix[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && strcmp(ix[lo].name, name) == 0 ? ix[lo].idx : NAMEIDX_NONE;
}

/* The position where (name, idx) belongs. */
static size_t nameidx_place(const struct nameidx *ix, size_t n, const char *name, size_t idx)
{
        size_t lo = 0, hi = n;
        const struct nameidx key = { name, idx };
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_nameidx(&ix[mid], &key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int nameidx_insert(struct nameidx **ix, size_t *n, const char *name, size_t idx)
{
        struct nameidx *a = realloc(*ix, (*n + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        *ix = a;
        size_t p = nameidx_place(a, *n, name, idx);
        memmove(&a[p + 1], &a[p], (*n - p) * sizeof *a);
        a[p] = (struct nameidx){ name, idx };
        (*n)++;
        return 0;
}

void nameidx_remove(struct nameidx *ix, size_t *n, size_t idx)
{
        size_t out = 0;
        for (size_t i = 0; i < *n; i++) {
                if (ix[i].idx == idx)
                        continue;
                ix[out] = ix[i];
                if (ix[out].idx > idx)
                        ix[out].idx--;
                out++;
        }
        *n = out;
}
