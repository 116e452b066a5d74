#include "nameidx.h"

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
