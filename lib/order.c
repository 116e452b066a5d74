#include "order.h"

#include "util.h"

struct key {
        const char *name;
        int32_t start_order;
        size_t idx;
};

static const char *nm(const char *s)
{
        return s ? s : "";
}

static int cmp_by_name(const void *a, const void *b)
{
        const struct key *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        if (r)
                return r;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_by_rank(const void *a, const void *b)
{
        const struct key *x = a, *y = b;
        if (x->start_order != y->start_order)
                return x->start_order < y->start_order ? -1 : 1;
        return cmp_by_name(a, b);
}

/* The lowest index among the items called name, or -1. */
static ssize_t lookup(const struct key *by_name, size_t n, const char *name)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(by_name[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < n && streq(by_name[lo].name, name))
                return (ssize_t) by_name[lo].idx;
        return -1;
}

/* A binary min-heap of ranks (smaller rank = starts first). */
static void heap_push(size_t *heap, size_t *len, size_t v)
{
        size_t i = (*len)++;
        heap[i] = v;
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (heap[p] <= heap[i])
                        break;
                size_t t = heap[p];
                heap[p] = heap[i];
                heap[i] = t;
                i = p;
        }
}

static size_t heap_pop(size_t *heap, size_t *len)
{
        size_t top = heap[0];
        heap[0] = heap[--(*len)];
        size_t i = 0;
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < *len && heap[l] < heap[m])
                        m = l;
                if (r < *len && heap[r] < heap[m])
                        m = r;
                if (m == i)
                        break;
                size_t t = heap[m];
                heap[m] = heap[i];
                heap[i] = t;
                i = m;
        }
        return top;
}

int order_sort(const struct order_item *items, size_t n, size_t *ret_idx)
{
        if (n == 0)
                return 0;

        _cleanup_free_ struct key *by_name = calloc(n, sizeof *by_name);
        _cleanup_free_ struct key *by_rank = calloc(n, sizeof *by_rank);
        _cleanup_free_ size_t *rank = calloc(n, sizeof *rank);
        _cleanup_free_ size_t *indeg = calloc(n, sizeof *indeg);
        _cleanup_free_ size_t *first = calloc(n + 1, sizeof *first); /* CSR offsets of out-edges */
        _cleanup_free_ size_t *heap = calloc(n, sizeof *heap);
        _cleanup_free_ unsigned char *queued = calloc(n, 1);
        if (!by_name || !by_rank || !rank || !indeg || !first || !heap || !queued)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++)
                by_name[i] = by_rank[i] = (struct key){nm(items[i].name), items[i].start_order, i};
        qsort(by_name, n, sizeof *by_name, cmp_by_name);
        qsort(by_rank, n, sizeof *by_rank, cmp_by_rank);
        for (size_t r = 0; r < n; r++)
                rank[by_rank[r].idx] = r;

        /* Resolve every dependency once into dep → dependant pairs, then lay
         * the out-edges out in compressed rows (first[u]..first[u+1]). */
        size_t max_edges = 0;
        for (size_t i = 0; i < n; i++)
                max_edges += strv_length(items[i].after) + strv_length(items[i].requires);
        _cleanup_free_ size_t *pairs = calloc(2 * max_edges + 2, sizeof *pairs);
        if (!pairs)
                return -ENOMEM;
        size_t n_edges = 0;
        for (size_t i = 0; i < n; i++)
                for (int list = 0; list < 2; list++) {
                        char *const *v = list ? items[i].requires : items[i].after;
                        for (size_t k = 0; v && v[k]; k++) {
                                ssize_t dep = lookup(by_name, n, v[k]);
                                if (dep < 0 || (size_t) dep == i)
                                        continue;
                                pairs[2 * n_edges] = (size_t) dep;
                                pairs[2 * n_edges + 1] = i;
                                n_edges++;
                                first[dep + 1]++;
                                indeg[i]++;
                        }
                }
        for (size_t i = 0; i < n; i++)
                first[i + 1] += first[i];
        _cleanup_free_ size_t *edges = calloc(n_edges + 1, sizeof *edges);
        _cleanup_free_ size_t *fill = calloc(n, sizeof *fill);
        if (!edges || !fill)
                return -ENOMEM;
        for (size_t e = 0; e < n_edges; e++) {
                size_t dep = pairs[2 * e];
                edges[first[dep] + fill[dep]++] = pairs[2 * e + 1];
        }

        size_t len = 0, out = 0, cursor = 0;
        for (size_t i = 0; i < n; i++)
                if (indeg[i] == 0) {
                        queued[i] = 1;
                        heap_push(heap, &len, rank[i]);
                }
        while (out < n) {
                if (len == 0) {
                        /* Only cycles are left: release the lowest-ranked waiting item. */
                        while (queued[by_rank[cursor].idx])
                                cursor++;
                        queued[by_rank[cursor].idx] = 1;
                        heap_push(heap, &len, cursor);
                }
                size_t u = by_rank[heap_pop(heap, &len)].idx;
                ret_idx[out++] = u;
                for (size_t e = first[u]; e < first[u + 1]; e++) {
                        size_t v = edges[e];
                        if (--indeg[v] == 0 && !queued[v]) {
                                queued[v] = 1;
                                heap_push(heap, &len, rank[v]);
                        }
                }
        }
        return 0;
}

int order_containers(const struct spec_set *set, size_t **ret_idx)
{
        size_t n = set->n_containers;
        _cleanup_free_ struct order_item *items = calloc(n + 1, sizeof *items);
        _cleanup_free_ size_t *idx = calloc(n + 1, sizeof *idx);
        if (!items || !idx)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct spec_container *c = set->containers[i];
                items[i] = (struct order_item){c->name, c->start_order, c->after, c->requires};
        }
        int r = order_sort(items, n, idx);
        if (r < 0)
                return r;
        *ret_idx = TAKE_PTR(idx);
        return 0;
}
