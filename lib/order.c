#include "order.h"

#include "nameidx.h"
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

        _cleanup_free_ struct nameidx *by_name = calloc(n, sizeof *by_name);
        _cleanup_free_ struct key *by_rank = calloc(n, sizeof *by_rank);
        _cleanup_free_ size_t *rank = calloc(n, sizeof *rank);
        _cleanup_free_ size_t *indeg = calloc(n, sizeof *indeg);
        _cleanup_free_ size_t *first = calloc(n + 1, sizeof *first); /* CSR offsets of out-edges */
        _cleanup_free_ size_t *heap = calloc(n, sizeof *heap);
        _cleanup_free_ unsigned char *queued = calloc(n, 1);
        if (!by_name || !by_rank || !rank || !indeg || !first || !heap || !queued)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                by_name[i] = (struct nameidx){nm(items[i].name), i};
                by_rank[i] = (struct key){nm(items[i].name), items[i].start_order, i};
        }
        nameidx_sort(by_name, n);
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
                                size_t dep = nameidx_find(by_name, n, v[k]);
                                if (dep == NAMEIDX_NONE || dep == i)
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

/* ---- start and stop decisions ------------------------------------------------ */

static struct nameidx *units_by_name(const struct order_unit *u, size_t n)
{
        struct nameidx *k = calloc(n + 1, sizeof *k);
        if (!k)
                return NULL;
        for (size_t i = 0; i < n; i++)
                k[i] = (struct nameidx){nm(u[i].name), i};
        nameidx_sort(k, n);
        return k;
}

/* The unit that name means for unit i, or -1 (none, or i itself). */
static ssize_t dep_of(const struct nameidx *by_name, size_t n, size_t i, const char *name)
{
        size_t d = nameidx_find(by_name, n, nm(name));
        return d == NAMEIDX_NONE || d == i ? -1 : (ssize_t) d;
}

int order_groups(const struct order_unit *u, size_t n, int32_t *ret_group)
{
        if (n == 0)
                return 0;
        _cleanup_free_ struct order_item *items = calloc(n, sizeof *items);
        _cleanup_free_ size_t *topo = calloc(n, sizeof *topo);
        _cleanup_free_ struct nameidx *by_name = units_by_name(u, n);
        if (!items || !topo || !by_name)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                items[i] =
                        (struct order_item){u[i].name, u[i].start_order, u[i].after, u[i].requires};
                ret_group[i] = u[i].start_order;
        }
        int r = order_sort(items, n, topo);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                size_t i = topo[k];
                for (int list = 0; list < 2; list++)
                        for (char *const *v = list ? u[i].requires : u[i].after; v && *v; v++) {
                                ssize_t d = dep_of(by_name, n, i, *v);
                                if (d >= 0 && ret_group[d] > ret_group[i])
                                        ret_group[i] = ret_group[d];
                        }
        }
        return 0;
}

static bool timed_out(const struct order_unit *u, uint64_t now)
{
        return u->state == ORDER_STARTING && now - u->launched >= u->start_timeout &&
               now >= u->launched;
}

/* Whether a unit of an earlier group still holds the later ones back, and
 * until when (0: until it changes). */
static bool holds_group(const struct order_unit *u, uint64_t now, uint64_t *wake)
{
        *wake = 0;
        if (u->stopping || u->state == ORDER_PENDING)
                return true;
        if (u->state == ORDER_STARTING && !timed_out(u, now)) {
                *wake = u->launched + u->start_timeout;
                return true;
        }
        return false;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
        if (a == 0)
                return b;
        if (b == 0)
                return a;
        return a < b ? a : b;
}

static int cmp_group(const void *a, const void *b)
{
        const struct key *x = a, *y = b;
        if (x->start_order != y->start_order)
                return x->start_order < y->start_order ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The explicit dependencies of pending unit i: fills d with WAIT or FAIL,
 * or leaves it alone when they let it start. */
static void decide_dependencies(const struct order_unit *u, size_t n, const struct nameidx *by_name,
                                size_t i, uint64_t now, struct order_decision *d)
{
        const struct order_unit *me = &u[i];
        for (int list = 0; list < 2; list++)
                for (char *const *v = list ? me->requires : me->after; v && *v; v++) {
                        ssize_t j = dep_of(by_name, n, i, *v);
                        if (j < 0)
                                continue;
                        const struct order_unit *dep = &u[j];
                        bool req = list == 1;
                        enum order_reason fail = ORDER_REASON_NONE, wait = ORDER_REASON_NONE;
                        uint64_t wake = 0;
                        if (dep->stopping)
                                wait = ORDER_REASON_STOPPING;
                        else
                                switch (dep->state) {
                                case ORDER_UP:
                                        break;
                                case ORDER_FAILED:
                                        if (req)
                                                fail = ORDER_REASON_REQUIRED_FAILED;
                                        break;
                                case ORDER_IDLE:
                                        if (req)
                                                fail = ORDER_REASON_REQUIRED_STOPPED;
                                        break;
                                case ORDER_PENDING:
                                        wait = ORDER_REASON_DEPENDENCY;
                                        break;
                                case ORDER_STARTING:
                                        if (!timed_out(dep, now)) {
                                                wait = ORDER_REASON_DEPENDENCY;
                                                wake = dep->launched + dep->start_timeout;
                                        } else if (req)
                                                fail = ORDER_REASON_REQUIRED_TIMEOUT;
                                        break;
                                case ORDER_BACKOFF:
                                        if (now - me->since >= me->start_timeout &&
                                            now >= me->since)
                                                fail = ORDER_REASON_TIMEOUT;
                                        else {
                                                wait = ORDER_REASON_DEPENDENCY;
                                                wake = me->since + me->start_timeout;
                                        }
                                        break;
                                }
                        if (fail != ORDER_REASON_NONE) {
                                d->verdict = ORDER_FAIL;
                                d->reason = fail;
                                d->blocker = (size_t) j;
                                d->wake = 0;
                                return;
                        }
                        if (wait == ORDER_REASON_NONE)
                                continue;
                        if (d->verdict != ORDER_WAIT) {
                                d->verdict = ORDER_WAIT;
                                d->reason = wait;
                                d->blocker = (size_t) j;
                                d->wake = wake;
                        } else
                                d->wake = earliest(d->wake, wake);
                }
}

int order_decide_starts(const struct order_unit *u, size_t n, uint64_t now,
                        struct order_decision *ret)
{
        if (n == 0)
                return 0;
        _cleanup_free_ int32_t *group = calloc(n, sizeof *group);
        _cleanup_free_ struct nameidx *by_name = units_by_name(u, n);
        _cleanup_free_ struct key *by_group = calloc(n, sizeof *by_group);
        if (!group || !by_name || !by_group)
                return -ENOMEM;
        int r = order_groups(u, n, group);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ret[i] = (struct order_decision){.verdict = ORDER_NONE,
                                                 .blocker = SIZE_MAX,
                                                 .delay_until = u[i].delay_until,
                                                 .timed_out = timed_out(&u[i], now)};
                by_group[i] = (struct key){nm(u[i].name), group[i], i};
        }
        qsort(by_group, n, sizeof *by_group, cmp_group);

        /* Walk the groups upwards, carrying the first unit of the earlier
         * groups that holds the later ones back. */
        size_t holder = SIZE_MAX;
        uint64_t holder_wake = 0;
        for (size_t k = 0; k < n;) {
                size_t end = k;
                while (end < n && by_group[end].start_order == by_group[k].start_order)
                        end++;
                for (size_t q = k; q < end; q++) {
                        size_t i = by_group[q].idx;
                        if (u[i].state != ORDER_PENDING)
                                continue;
                        struct order_decision *d = &ret[i];
                        decide_dependencies(u, n, by_name, i, now, d);
                        if (d->verdict == ORDER_NONE && holder != SIZE_MAX) {
                                d->verdict = ORDER_WAIT;
                                d->reason = ORDER_REASON_GROUP;
                                d->blocker = holder;
                                d->wake = holder_wake;
                        }
                        if (d->verdict != ORDER_NONE) {
                                d->delay_until = 0; /* its turn is gone (or never came) */
                                continue;
                        }
                        if (d->delay_until == 0)
                                d->delay_until = now + u[i].start_delay;
                        if (u[i].start_delay == 0 || now >= d->delay_until)
                                d->verdict = ORDER_START;
                        else {
                                d->verdict = ORDER_DELAY;
                                d->wake = d->delay_until;
                        }
                }
                for (size_t q = k; q < end; q++) {
                        size_t i = by_group[q].idx;
                        uint64_t w;
                        if (ret[i].verdict == ORDER_FAIL || !holds_group(&u[i], now, &w))
                                continue;
                        if (holder == SIZE_MAX) {
                                holder = i;
                                holder_wake = w;
                        } else if (w == 0 || holder_wake == 0)
                                holder_wake = 0; /* someone holds until it changes */
                        else if (w < holder_wake)
                                holder_wake = w;
                }
                k = end;
        }
        return 0;
}

int order_decide_stops(const struct order_unit *u, size_t n, bool *ret_stop)
{
        if (n == 0)
                return 0;
        _cleanup_free_ int32_t *group = calloc(n, sizeof *group);
        _cleanup_free_ struct nameidx *by_name = units_by_name(u, n);
        _cleanup_free_ bool *held = calloc(n, sizeof *held);
        if (!group || !by_name || !held)
                return -ENOMEM;
        int r = order_groups(u, n, group);
        if (r < 0)
                return r;
        /* What a stopping, alive unit comes after must wait for it; so must
         * every unit of an earlier group. */
        bool any = false;
        int32_t top = INT32_MIN;
        for (size_t j = 0; j < n; j++) {
                if (!u[j].stopping || !u[j].alive)
                        continue;
                if (!any || group[j] > top)
                        top = group[j];
                any = true;
                for (int list = 0; list < 2; list++)
                        for (char *const *v = list ? u[j].requires : u[j].after; v && *v; v++) {
                                ssize_t d = dep_of(by_name, n, j, *v);
                                if (d >= 0)
                                        held[d] = true;
                        }
        }
        for (size_t i = 0; i < n; i++)
                ret_stop[i] = u[i].stop_pending && !held[i] && !(any && group[i] < top);
        return 0;
}

size_t order_mark_required(const struct order_unit *u, size_t n, size_t idx, bool *mark)
{
        _cleanup_free_ struct nameidx *by_name = units_by_name(u, n);
        _cleanup_free_ size_t *stack = calloc(n + 1, sizeof *stack);
        if (!by_name || !stack || idx >= n)
                return 0;
        size_t len = 0, marked = 0;
        if (!mark[idx]) {
                mark[idx] = true;
                marked++;
        }
        stack[len++] = idx;
        while (len > 0) {
                size_t i = stack[--len];
                for (char *const *v = u[i].requires; v && *v; v++) {
                        ssize_t d = dep_of(by_name, n, i, *v);
                        if (d < 0 || mark[d])
                                continue;
                        mark[d] = true;
                        marked++;
                        stack[len++] = (size_t) d;
                }
        }
        return marked;
}

size_t order_mark_requirers(const struct order_unit *u, size_t n, size_t idx, bool *mark)
{
        _cleanup_free_ struct nameidx *by_name = units_by_name(u, n);
        if (!by_name || idx >= n)
                return 0;
        size_t marked = 0;
        if (!mark[idx]) {
                mark[idx] = true;
                marked++;
        }
        /* A fixed point: at most n rounds, each marking at least one. */
        for (bool changed = true; changed;) {
                changed = false;
                for (size_t j = 0; j < n; j++) {
                        if (mark[j])
                                continue;
                        for (char *const *v = u[j].requires; v && *v; v++) {
                                ssize_t d = dep_of(by_name, n, j, *v);
                                if (d >= 0 && mark[d]) {
                                        mark[j] = true;
                                        marked++;
                                        changed = true;
                                        break;
                                }
                        }
                }
        }
        return marked;
}
