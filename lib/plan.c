#include "plan.h"

#include <json-c/json.h>
#include <stdio.h>

#include "nameidx.h"
#include "order.h"
#include "util.h"

#define REASON_MAX 2048

static const char *nm(const char *s)
{
        return s ? s : "";
}

/* Appends s to buf (size > 0, NUL-terminated), truncating. */
static void append(char *buf, size_t size, const char *s)
{
        size_t n = strlen(buf), l = strlen(s);
        if (n + 1 >= size)
                return;
        if (l > size - n - 1)
                l = size - n - 1;
        memcpy(buf + n, s, l);
        buf[n + l] = 0;
}

/* Appends s to buf, after sep when buf is not empty. */
static void join(char *buf, size_t size, const char *sep, const char *s)
{
        if (buf[0])
                append(buf, size, sep);
        append(buf, size, s);
}

/* The lowest index of an entry called name, or PLAN_NO_INDEX. */
static size_t nidx_find(const struct nameidx *ix, size_t n, const char *name)
{
        size_t i = nameidx_find(ix, n, nm(name));
        return i == NAMEIDX_NONE ? PLAN_NO_INDEX : i;
}

/* ---- the plan being built ---- */

static bool state_is_active(const struct plan_actual *a)
{
        switch (a->state) {
        case PLAN_STATE_STARTING:
        case PLAN_STATE_RUNNING:
        case PLAN_STATE_BACKOFF:
                return true;
        case PLAN_STATE_STOPPING:
                return !a->stopped_by_operator;
        default:
                return false;
        }
}

struct decision {
        enum plan_kind kind;
        char *reason;
        size_t actual;
        bool active;
};

struct net_decision {
        enum plan_kind kind;
        char *reason;
        size_t actual;
        char *recreate_fields; /* for the reason of the containers on it */
};

static int push(struct plan *p, enum plan_kind kind, bool network, const char *name, char **reason,
                size_t desired, size_t actual)
{
        struct plan_action *a = &p->actions[p->n];
        *a = (struct plan_action){
                .kind = kind, .network = network, .desired = desired, .actual = actual};
        a->name = strdup(nm(name));
        if (!a->name)
                return -ENOMEM;
        a->reason = TAKE_PTR(*reason);
        p->n++;
        return 0;
}

/* What changed between the spec a container runs with and the desired one. */
static void describe_changes(const struct spec_container *want, const struct plan_actual *a,
                             bool rc, bool lc, bool sc, char *buf, size_t size)
{
        char t[REASON_MAX];
        buf[0] = 0;
        if (rc) {
                t[0] = 0;
                if (a->spec)
                        spec_container_diff_restart(a->spec, want, t, sizeof t);
                join(buf, size, "; ", "changed: ");
                append(buf, size, t[0] ? t : "definition");
        }
        if (lc) {
                t[0] = 0;
                if (a->spec)
                        spec_container_diff_live(a->spec, want, t, sizeof t);
                join(buf, size, "; ", t[0] ? t : "limits changed");
        }
        if (sc) {
                t[0] = 0;
                if (a->spec)
                        spec_container_diff_supervise(a->spec, want, t, sizeof t);
                join(buf, size, "; ", "settings: ");
                append(buf, size, t[0] ? t : "definition");
        }
}

static int decide_container(const struct spec_container *want, const struct plan_actual *a,
                            struct decision *d)
{
        char r[REASON_MAX];
        r[0] = 0; /* not = "": that would clear the whole buffer for every container */

        if (!a) {
                d->kind = want->autostart ? PLAN_CREATE_START : PLAN_CREATE;
                d->reason = strdup(want->autostart ? "new" : "new, autostart = false");
                return d->reason ? 0 : -ENOMEM;
        }

        char h[SPEC_HASH_LEN];
        spec_container_hash_restart(want, h);
        bool rc = !streq(h, a->restart_hash);
        spec_container_hash_live(want, h);
        bool lc = !streq(h, a->live_hash);
        spec_container_hash_supervise(want, h);
        bool sc = !streq(h, a->supervise_hash);
        bool changed = rc || lc || sc;
        char ch[REASON_MAX];
        describe_changes(want, a, rc, lc, sc, ch, sizeof ch);

        d->active = state_is_active(a);
        if (d->active) {
                d->kind = rc   ? PLAN_RESTART
                          : lc ? PLAN_UPDATE_LIVE
                          : sc ? PLAN_UPDATE_SETTINGS
                               : PLAN_NONE;
                join(r, sizeof r, "; ", changed ? ch : "unchanged");
        } else if (a->stopped_by_operator) {
                d->kind = changed ? PLAN_UPDATE_SETTINGS : PLAN_NONE;
                join(r, sizeof r, "; ",
                     changed ? "stopped by operator, stays stopped" : "stopped by operator");
                if (changed)
                        join(r, sizeof r, "; ", ch);
        } else if (a->state == PLAN_STATE_FAILED) {
                d->kind = changed ? PLAN_RESTART : PLAN_NONE;
                if (changed) {
                        join(r, sizeof r, "; ", ch);
                        join(r, sizeof r, "; ", "clears failed");
                } else
                        join(r, sizeof r, "; ", "failed, definition unchanged");
        } else if (want->autostart) {
                d->kind = PLAN_START;
                join(r, sizeof r, "; ", "autostart and not running");
                if (changed)
                        join(r, sizeof r, "; ", ch);
        } else {
                d->kind = changed ? PLAN_UPDATE_SETTINGS : PLAN_NONE;
                join(r, sizeof r, "; ", changed ? "not running" : "not running, autostart = false");
                if (changed)
                        join(r, sizeof r, "; ", ch);
        }
        d->reason = strdup(r);
        return d->reason ? 0 : -ENOMEM;
}

static int decide_network(const struct spec_network *want, const struct plan_network_actual *a,
                          struct net_decision *d)
{
        char r[REASON_MAX], t[REASON_MAX];
        r[0] = 0;

        if (!a) {
                d->kind = PLAN_NETWORK_CREATE;
                join(r, sizeof r, "; ", "new");
        } else {
                char h[SPEC_HASH_LEN];
                spec_network_hash(want, h);
                if (streq(h, a->hash)) {
                        d->kind = PLAN_NONE;
                        join(r, sizeof r, "; ", "unchanged");
                } else {
                        t[0] = 0;
                        if (a->spec)
                                spec_network_diff_recreate(a->spec, want, t, sizeof t);
                        char live[REASON_MAX] = "";
                        if (a->spec)
                                spec_network_diff_live(a->spec, want, live, sizeof live);
                        if (t[0] || !live[0]) {
                                /* Unknown differences are rebuilt: the safe choice. */
                                d->kind = PLAN_NETWORK_RECREATE;
                                d->recreate_fields = strdup(t[0] ? t : "definition");
                                if (!d->recreate_fields)
                                        return -ENOMEM;
                                join(r, sizeof r, "; ", "changed: ");
                                append(r, sizeof r, d->recreate_fields);
                                if (live[0])
                                        join(r, sizeof r, "; ", live);
                        } else {
                                d->kind = PLAN_NETWORK_UPDATE;
                                join(r, sizeof r, "; ", live);
                        }
                }
        }
        d->reason = strdup(r);
        return d->reason ? 0 : -ENOMEM;
}

/* A running container restarts along with what it requires and with the
 * network it sits on. Called in start order, so what it requires is decided. */
static int propagate(const struct spec_set *desired, size_t i, struct decision *dec,
                     const struct nameidx *cix, const struct nameidx *nix,
                     const struct net_decision *ndec)
{
        const struct spec_container *c = desired->containers[i];
        struct decision *d = &dec[i];
        char extra[REASON_MAX], names[REASON_MAX];
        extra[0] = names[0] = 0;
        size_t n_names = 0;

        if (!d->active)
                return 0;
        /* Its network, and each of its extra networks. */
        for (size_t k = 0; c->net_mode == NET_BRIDGE && c->network && k <= c->n_attach; k++) {
                const char *net = k == 0 ? c->network : c->attach[k - 1].network;
                size_t ni = nidx_find(nix, desired->n_networks, net);
                if (ni != PLAN_NO_INDEX && ndec[ni].kind == PLAN_NETWORK_RECREATE) {
                        join(extra, sizeof extra, "; ", "network ");
                        append(extra, sizeof extra, net);
                        append(extra, sizeof extra, " changed: ");
                        append(extra, sizeof extra, ndec[ni].recreate_fields);
                }
        }
        for (size_t k = 0; c->requires && c->requires[k]; k++) {
                size_t j = nidx_find(cix, desired->n_containers, c->requires[k]);
                if (j == PLAN_NO_INDEX || j == i || dec[j].kind != PLAN_RESTART)
                        continue;
                join(names, sizeof names, ", ", c->requires[k]);
                n_names++;
        }
        if (n_names > 0) {
                join(extra, sizeof extra, "; ", "requires ");
                append(extra, sizeof extra, names);
                append(extra, sizeof extra, n_names == 1 ? ", which restarts" : ", which restart");
        }
        if (!extra[0])
                return 0;

        char *r = d->kind == PLAN_NONE ? strdup(extra) : strdup_printf("%s; %s", d->reason, extra);
        if (!r)
                return -ENOMEM;
        free(d->reason);
        d->reason = r;
        d->kind = PLAN_RESTART;
        return 0;
}

struct work {
        struct nameidx *cix, *nix, *aix, *anix;
        struct decision *dec;
        struct net_decision *ndec;
        size_t n_dec, n_ndec;
        size_t *order;
        size_t *removed;
        struct order_item *ritems;
        size_t *rorder;
};

static void work_done(struct work *w)
{
        for (size_t i = 0; i < w->n_dec; i++)
                free(w->dec[i].reason);
        for (size_t i = 0; i < w->n_ndec; i++) {
                free(w->ndec[i].reason);
                free(w->ndec[i].recreate_fields);
        }
        free(w->cix);
        free(w->nix);
        free(w->aix);
        free(w->anix);
        free(w->dec);
        free(w->ndec);
        free(w->order);
        free(w->removed);
        free(w->ritems);
        free(w->rorder);
}

static int compute(const struct spec_set *desired, const struct plan_actual *actual,
                   size_t n_actual, const struct plan_network_actual *nets, size_t n_nets,
                   struct work *w, struct plan *p)
{
        size_t nc = desired->n_containers, nn = desired->n_networks;
        int r;

        /* Name indexes: desired containers and networks, actual containers and networks. */
        w->cix = calloc(nc + 1, sizeof *w->cix);
        w->nix = calloc(nn + 1, sizeof *w->nix);
        w->aix = calloc(n_actual + 1, sizeof *w->aix);
        w->anix = calloc(n_nets + 1, sizeof *w->anix);
        w->dec = calloc(nc + 1, sizeof *w->dec);
        w->ndec = calloc(nn + 1, sizeof *w->ndec);
        w->removed = calloc(n_actual + 1, sizeof *w->removed);
        if (!w->cix || !w->nix || !w->aix || !w->anix || !w->dec || !w->ndec || !w->removed)
                return -ENOMEM;
        w->n_dec = nc;
        w->n_ndec = nn;
        for (size_t i = 0; i < nc; i++)
                w->cix[i] = (struct nameidx){nm(desired->containers[i]->name), i};
        for (size_t i = 0; i < nn; i++)
                w->nix[i] = (struct nameidx){nm(desired->networks[i]->name), i};
        size_t na = 0, nna = 0;
        for (size_t i = 0; i < n_actual; i++)
                if (actual[i].name)
                        w->aix[na++] = (struct nameidx){actual[i].name, i};
        for (size_t i = 0; i < n_nets; i++)
                if (nets[i].name)
                        w->anix[nna++] = (struct nameidx){nets[i].name, i};
        nameidx_sort(w->cix, nc);
        nameidx_sort(w->nix, nn);
        nameidx_sort(w->aix, na);
        nameidx_sort(w->anix, nna);

        /* Networks first: their recreation restarts the containers on them. */
        for (size_t i = 0; i < nn; i++) {
                const struct spec_network *want = desired->networks[i];
                size_t ai = nidx_find(w->anix, nna, want->name);
                w->ndec[i].actual = ai;
                r = decide_network(want, ai == PLAN_NO_INDEX ? NULL : &nets[ai], &w->ndec[i]);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < nc; i++) {
                const struct spec_container *want = desired->containers[i];
                size_t ai = nidx_find(w->aix, na, want->name);
                w->dec[i].actual = ai;
                r = decide_container(want, ai == PLAN_NO_INDEX ? NULL : &actual[ai], &w->dec[i]);
                if (r < 0)
                        return r;
        }

        r = order_containers(desired, &w->order);
        if (r < 0)
                return r;
        for (size_t k = 0; k < nc; k++) {
                r = propagate(desired, w->order[k], w->dec, w->cix, w->nix, w->ndec);
                if (r < 0)
                        return r;
        }

        /* Containers no file declares: each name once, in reverse start order. */
        size_t n_removed = 0;
        for (size_t k = 0; k < na; k++) {
                if (k > 0 && streq(w->aix[k - 1].name, w->aix[k].name))
                        continue;
                if (nidx_find(w->cix, nc, w->aix[k].name) != PLAN_NO_INDEX)
                        continue;
                w->removed[n_removed++] = w->aix[k].idx;
        }
        w->ritems = calloc(n_removed + 1, sizeof *w->ritems);
        w->rorder = calloc(n_removed + 1, sizeof *w->rorder);
        if (!w->ritems || !w->rorder)
                return -ENOMEM;
        for (size_t k = 0; k < n_removed; k++) {
                const struct plan_actual *a = &actual[w->removed[k]];
                w->ritems[k] = (struct order_item){.name = a->name};
                if (a->spec) {
                        w->ritems[k].start_order = a->spec->start_order;
                        w->ritems[k].after = a->spec->after;
                        w->ritems[k].requires = a->spec->requires;
                }
        }
        r = order_sort(w->ritems, n_removed, w->rorder);
        if (r < 0)
                return r;

        p->actions = calloc(n_removed + nn + nc + nna + 1, sizeof *p->actions);
        if (!p->actions)
                return -ENOMEM;

        for (size_t k = n_removed; k > 0; k--) {
                size_t ai = w->removed[w->rorder[k - 1]];
                const struct plan_actual *a = &actual[ai];
                enum plan_kind kind = state_is_active(a) || a->state == PLAN_STATE_STOPPING ? PLAN_STOP_ORPHAN
                                      : a->orphaned                                           ? PLAN_NONE
                                                                                              : PLAN_ORPHAN;
                _cleanup_free_ char *reason = strdup(kind == PLAN_NONE ? "orphaned; data kept"
                                                                       : "definition gone; data kept");
                if (!reason)
                        return -ENOMEM;
                r = push(p, kind, false, a->name, &reason, PLAN_NO_INDEX, ai);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < nn; k++) {
                size_t i = w->nix[k].idx;
                r = push(p, w->ndec[i].kind, true, desired->networks[i]->name, &w->ndec[i].reason,
                         i, w->ndec[i].actual);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < nc; k++) {
                size_t i = w->order[k];
                r = push(p, w->dec[i].kind, false, desired->containers[i]->name, &w->dec[i].reason,
                         i, w->dec[i].actual);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < nna; k++) {
                if (k > 0 && streq(w->anix[k - 1].name, w->anix[k].name))
                        continue;
                if (nidx_find(w->nix, nn, w->anix[k].name) != PLAN_NO_INDEX)
                        continue;
                _cleanup_free_ char *reason = strdup("no definition declares it any more");
                if (!reason)
                        return -ENOMEM;
                r = push(p, PLAN_NETWORK_REMOVE, true, w->anix[k].name, &reason, PLAN_NO_INDEX,
                         w->anix[k].idx);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_compute(const struct spec_set *desired, const struct plan_actual *actual, size_t n_actual,
                 const struct plan_network_actual *nets, size_t n_nets, struct plan *ret)
{
        static const struct spec_set empty = {0};
        struct work w = {0};
        struct plan p = {0};

        *ret = (struct plan){0};
        if (!desired)
                desired = &empty;
        if (!actual)
                n_actual = 0;
        if (!nets)
                n_nets = 0;

        int r = compute(desired, actual, n_actual, nets, n_nets, &w, &p);
        work_done(&w);
        if (r < 0) {
                plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void plan_done(struct plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->actions[i].name);
                free(p->actions[i].reason);
        }
        free(p->actions);
        *p = (struct plan){0};
}

void plan_actual_from_spec(const struct spec_container *spec, enum plan_state state,
                           struct plan_actual *ret)
{
        *ret = (struct plan_actual){.name = spec->name, .state = state, .spec = spec};
        spec_container_hash_restart(spec, ret->restart_hash);
        spec_container_hash_live(spec, ret->live_hash);
        spec_container_hash_supervise(spec, ret->supervise_hash);
}

void plan_network_actual_from_spec(const struct spec_network *spec, struct plan_network_actual *ret)
{
        *ret = (struct plan_network_actual){.name = spec->name, .spec = spec};
        spec_network_hash(spec, ret->hash);
}

bool plan_needs_force(const struct plan *p, const struct plan_actual *actual, size_t n_actual,
                      size_t *ret_stopping, size_t *ret_running)
{
        size_t stopping = 0, running = 0;
        for (size_t i = 0; actual && i < n_actual; i++)
                if (actual[i].name && state_is_active(&actual[i]))
                        running++;
        for (size_t i = 0; p && i < p->n; i++)
                if (!p->actions[i].network && p->actions[i].kind == PLAN_STOP_ORPHAN &&
                    p->actions[i].actual < n_actual && state_is_active(&actual[p->actions[i].actual]))
                        stopping++;
        if (ret_stopping)
                *ret_stopping = stopping;
        if (ret_running)
                *ret_running = running;
        return plan_vanish_needs_force(stopping, running);
}

bool plan_vanish_needs_force(size_t stopping, size_t running)
{
        return stopping > 0 && (stopping >= running || stopping * 2 > running);
}

size_t plan_count_changes(const struct plan *p)
{
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                if (p->actions[i].kind != PLAN_NONE)
                        n++;
        return n;
}

const char *plan_kind_to_string(enum plan_kind k)
{
        static const char *const t[] = {
                [PLAN_NONE] = "none",
                [PLAN_CREATE_START] = "create-start",
                [PLAN_CREATE] = "create",
                [PLAN_START] = "start",
                [PLAN_STOP_ORPHAN] = "stop",
                [PLAN_RESTART] = "restart",
                [PLAN_UPDATE_LIVE] = "update-live",
                [PLAN_UPDATE_SETTINGS] = "update-settings",
                [PLAN_NETWORK_CREATE] = "network-create",
                [PLAN_NETWORK_UPDATE] = "network-update",
                [PLAN_NETWORK_RECREATE] = "network-recreate",
                [PLAN_NETWORK_REMOVE] = "network-remove",
                [PLAN_ORPHAN] = "orphan",
        };
        return (unsigned) k < ELEMENTSOF(t) && t[k] ? t[k] : "?";
}

const char *plan_state_to_string(enum plan_state s)
{
        static const char *const t[] = {
                [PLAN_STATE_STOPPED] = "stopped", [PLAN_STATE_STARTING] = "starting",
                [PLAN_STATE_RUNNING] = "running", [PLAN_STATE_STOPPING] = "stopping",
                [PLAN_STATE_BACKOFF] = "backoff", [PLAN_STATE_FAILED] = "failed",
        };
        return (unsigned) s < ELEMENTSOF(t) && t[s] ? t[s] : "?";
}

const char *plan_action_format(const struct plan_action *a, char *buf, size_t size)
{
        snprintf(buf, size, "%-16s %s%s: %s", plan_kind_to_string(a->kind),
                 a->network && a->kind == PLAN_NONE ? "network " : "", nm(a->name), nm(a->reason));
        return buf;
}

static int json_add_string(struct json_object *o, const char *key, const char *v)
{
        struct json_object *s = json_object_new_string(nm(v));
        if (!s)
                return -ENOMEM;
        if (json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

struct json_object *plan_to_json(const struct plan *p)
{
        struct json_object *root = json_object_new_object();
        struct json_object *arr = json_object_new_array();
        if (!root || !arr)
                goto fail;
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                struct json_object *o = json_object_new_object();
                if (!o)
                        goto fail;
                if (json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        goto fail;
                }
                if (json_add_string(o, "action", plan_kind_to_string(a->kind)) < 0 ||
                    json_add_string(o, "type", a->network ? "network" : "container") < 0 ||
                    json_add_string(o, "name", a->name) < 0 ||
                    json_add_string(o, "reason", a->reason) < 0)
                        goto fail;
        }
        if (json_object_object_add(root, "actions", arr) < 0)
                goto fail;
        arr = NULL;
        struct json_object *n = json_object_new_int64((int64_t) plan_count_changes(p));
        if (!n || json_object_object_add(root, "changes", n) < 0) {
                json_object_put(n);
                goto fail;
        }
        return root;
fail:
        json_object_put(arr);
        json_object_put(root);
        return NULL;
}
