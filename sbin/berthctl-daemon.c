/* berthctl's verbs that are requests to berthd (plan, reload, ls, inspect,
 * start, stop, restart, destroy, kill, wait) and check, with the one way
 * berthctl talks to berthd: the socket, the timeout, the daemon's errors. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "berthctl.h"
#include "jsontext.h"
#include "config.h"
#include "preflight.h"

/* --socket PATH of the verbs that take it */
static const char *opt_socket;
/* --timeout DURATION of the verbs that take it; else $BERTH_TIMEOUT */
static const char *opt_timeout;

void ctl_set_socket(const char *path)
{
        opt_socket = path;
}

void ctl_set_timeout(const char *duration)
{
        opt_timeout = duration;
}

const char *ctl_socket(void)
{
        if (opt_socket)
                return opt_socket;
        const char *s = getenv("BERTH_SOCKET");
        return s && *s ? s : DEFAULT_RUN_DIR "/control.sock";
}

/* How long berthd gets to answer: --timeout, $BERTH_TIMEOUT, else 30 s; 0
 * waits for ever. An invalid value is an error (2), not a silent default. */
int call_timeout(uint64_t *ret)
{
        const char *t = opt_timeout ? opt_timeout : getenv("BERTH_TIMEOUT");
        usec_t u;
        if (!t || !*t) {
                *ret = CONTROL_TIMEOUT_USEC;
                return 0;
        }
        if (parse_duration(t, &u) < 0) {
                fprintf(stderr, "berthctl: %s: '%s' is not a duration (e.g. 10s, 500ms, 0 for none)\n",
                        opt_timeout ? "--timeout" : "BERTH_TIMEOUT", t);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

int call_quiet(const char *method, json_object *params, control_reply_cb cb, void *userdata)
{
        uint64_t timeout = CONTROL_TIMEOUT_USEC;
        (void) call_timeout(&timeout);
        char *error = NULL;
        int r = control_call(ctl_socket(), method, params, false, timeout, cb, userdata, &error, NULL);
        free(error);
        json_object_put(params);
        return r < 0 ? r : 0;
}

static int got_dirs(json_object *p, void *userdata)
{
        struct daemon_dirs *d = userdata;
        json_object *c, *s;
        if (!json_object_object_get_ex(p, "conf_dir", &c) || !json_object_object_get_ex(p, "state_dir", &s))
                return -EPROTO;
        snprintf(d->conf, sizeof d->conf, "%s", json_object_get_string(c));
        snprintf(d->state, sizeof d->state, "%s", json_object_get_string(s));
        return 0;
}

int daemon_dirs(struct daemon_dirs *d)
{
        *d = (struct daemon_dirs){ 0 };
        int r = call_quiet("io.berth.Manager.Status", NULL, got_dirs, d);
        if (r >= 0 && (!d->conf[0] || !d->state[0]))
                r = -EPROTO;
        return r < 0 ? r : 0;
}

void resolve_dirs(const char **conf, const char **state)
{
        static struct daemon_dirs dd;
        bool have_daemon = ((conf && !*conf) || (state && !*state)) && daemon_dirs(&dd) == 0;
        if (conf && !*conf)
                *conf = have_daemon ? dd.conf : DEFAULT_CONF_DIR;
        if (state && !*state)
                *state = have_daemon ? dd.state : DEFAULT_STATE_DIR;
}

static int got_dir(json_object *p, void *userdata)
{
        snprintf(userdata, 4096, "%s", jstr(p, "dir"));
        return 0;
}

int daemon_container_dir(const char *name, char dir[static 4096])
{
        dir[0] = 0;
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        return call_quiet("io.berth.Container.Inspect", p, got_dir, dir);
}

static int got_idmap(json_object *p, void *userdata)
{
        struct daemon_idmap *m = userdata;
        json_object *o, *v, *n;
        m->answered = true;
        if (!json_object_object_get_ex(p, "idmap", &o) || !json_object_is_type(o, json_type_object))
                return 0;
        m->idmap = true;
        m->is_auto = json_object_object_get_ex(o, "auto", &v) && json_object_get_boolean(v);
        m->is_default = json_object_object_get_ex(o, "default", &v) && json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "host_uid", &v) && json_object_is_type(v, json_type_int) &&
            json_object_object_get_ex(o, "count", &n) && json_object_is_type(n, json_type_int)) {
                int64_t s = json_object_get_int64(v), c = json_object_get_int64(n);
                if (s > 0 && c > 0 && s + c <= 4294967295LL) {
                        m->start = (uint32_t) s;
                        m->count = (uint32_t) c;
                }
        }
        return 0;
}

int daemon_container_idmap(const char *name, struct daemon_idmap *ret)
{
        *ret = (struct daemon_idmap){ 0 };
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        int r = call_quiet("io.berth.Container.Inspect", p, got_idmap, ret);
        return r < 0 ? r : 0;
}

static int got_running(json_object *p, void *userdata)
{
        char ***names = userdata;
        json_object *arr;
        if (!json_object_object_get_ex(p, "containers", &arr) || !json_object_is_type(arr, json_type_array))
                return -EPROTO;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *c = json_object_array_get_idx(arr, i);
                if ((streq(jstr(c, "state"), "running") || streq(jstr(c, "state"), "frozen")) &&
                    strv_push(names, jstr(c, "name")) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int daemon_running_names(char ***ret)
{
        *ret = NULL;
        char *error = NULL;
        int r = call_raw("io.berth.Container.List", NULL, false, got_running, ret, &error, NULL);
        free(error);
        if (r == -EREMOTEIO)
                r = -EPROTO;
        if (r < 0)
                *ret = strv_free(*ret);
        return r < 0 ? r : 0;
}

/* control_call() with the timeout; prints what went wrong at the socket
 * (not berthd's errors) and returns -errno, or the call's result. */
static int call_raw_text(const char *method, json_object *params, bool more, control_text_cb text_cb,
                         control_reply_cb cb, void *userdata, char **error, json_object **error_params)
{
        const char *path = ctl_socket();
        uint64_t timeout;
        if (call_timeout(&timeout) < 0)
                return -EINVAL;
        int r = control_call_text(path, method, params, more, timeout, text_cb, cb, userdata, error, error_params);
        char buf[64];
        if (r == -ETIMEDOUT)
                fail("berthctl: berthd at %s did not answer within %s (see --timeout)", path,
                     format_duration(timeout, buf, sizeof buf));
        else if (r < 0 && r != -EREMOTEIO)
                fail("berthctl: cannot talk to berthd at %s: %s", path, strerror(-r));
        return r;
}

int call_raw(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata, char **error,
             json_object **error_params)
{
        return call_raw_text(method, params, more, NULL, cb, userdata, error, error_params);
}

/* call() with each reply's text offered to text_cb first (control_call_text). */
static int call_text(const char *method, json_object *params, bool more, control_text_cb text_cb, control_reply_cb cb,
                     void *userdata)
{
        char *error = NULL;
        json_object *ep = NULL;
        int r = call_raw_text(method, params, more, text_cb, cb, userdata, &error, &ep);
        json_object_put(params);
        if (r == -EREMOTEIO) {
                json_object *errs, *reason, *name;
                if (error && streq(error, "io.berth.InvalidDefinitions") && ep &&
                    json_object_object_get_ex(ep, "errors", &errs)) {
                        for (size_t i = 0; i < json_object_array_length(errs); i++)
                                fail("%s", json_object_get_string(json_object_array_get_idx(errs, i)));
                        fprintf(stderr, "berthctl: refused: %zu error%s in the definitions; nothing was changed\n",
                                json_object_array_length(errs), json_object_array_length(errs) == 1 ? "" : "s");
                } else if (error && streq(error, "io.berth.NoSuchContainer") && ep &&
                           json_object_object_get_ex(ep, "name", &name))
                        fail("berthctl: no container '%s'", json_object_get_string(name));
                else if (ep && json_object_object_get_ex(ep, "reason", &reason))
                        fail("berthctl: %s: %s", error, json_object_get_string(reason));
                else
                        fail("berthctl: %s", error ? error : "error");
                free(error);
                json_object_put(ep);
                return 1;
        }
        free(error);
        json_object_put(ep);
        return r < 0 ? 1 : 0;
}

/* One call; replies to cb. Prints the daemon's error and returns 1. */
int call(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata)
{
        return call_text(method, params, more, NULL, cb, userdata);
}

/* A member as a string; "" when it is missing or null (global events have
 * "name": null). */
const char *jstr(json_object *o, const char *k)
{
        json_object *v;
        const char *s = json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
        return s ? s : "";
}

int64_t jint(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

/* ---- check -------------------------------------------------------------------------------- */

int verb_check(struct ctl_args *a)
{
        /* The directories of the berthd on the socket, when one answers;
         * else the defaults. */
        const char *dir = a->conf, *state = a->state;
        resolve_dirs(&dir, &state);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dir, &set, &d);
        /* Valid files can still name what is not there: a template that is
         * neither built nor buildable, a rootfs that is no directory. */
        if (r == 0 && preflight_check(&set, state, NULL, &d) > 0) {
                diag_sort(&d);
                r = -EINVAL;
        }
        if (a->json) {
                json_object *o = json_object_new_object(), *errs = json_object_new_array();
                json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
                json_object_object_add(o, "containers", json_object_new_int64((int64_t) set.n_containers));
                json_object_object_add(o, "networks", json_object_new_int64((int64_t) set.n_networks));
                for (size_t i = 0; i < d.n; i++) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "file", d.entries[i].file ? json_object_new_string(d.entries[i].file) : NULL);
                        json_object_object_add(e, "line", json_object_new_int(d.entries[i].line));
                        json_object_object_add(e, "message", json_object_new_string(d.entries[i].message));
                        json_object_array_add(errs, e);
                }
                json_object_object_add(o, "errors", errs);
                if (d.dropped)
                        json_object_object_add(o, "errors_not_shown", json_object_new_int64((int64_t) d.dropped));
                print_json(o);
                json_object_put(o);
        } else if (r == 0) {
                printf("ok: %zu container%s, %zu network%s\n", set.n_containers, set.n_containers == 1 ? "" : "s",
                       set.n_networks, set.n_networks == 1 ? "" : "s");
        } else {
                char buf[2048];
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "%s\n", diag_format(&d.entries[i], buf, sizeof buf));
                if (d.dropped)
                        fprintf(stderr, "... and %zu more errors\n", d.dropped);
                fprintf(stderr, "%zu error%s in %s\n", d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s", dir);
        }
        spec_set_done(&set);
        diag_done(&d);
        return r == 0 ? 0 : 1;
}

/* ---- plan and reload ----------------------------------------------------------------------- */

static int print_plan(json_object *p, void *userdata)
{
        (void) userdata;
        if (json_enabled()) {
                print_json(p);
                return 0;
        }
        json_object *acts;
        if (!json_object_object_get_ex(p, "actions", &acts))
                return 0; /* the final "done" of a reload --wait */
        size_t shown = 0;
        for (size_t i = 0; i < json_object_array_length(acts); i++) {
                json_object *a = json_object_array_get_idx(acts, i);
                if (streq(jstr(a, "action"), "none"))
                        continue;
                printf("%-16s %-20s %s\n", jstr(a, "action"), jstr(a, "name"), jstr(a, "reason"));
                shown++;
        }
        json_object *tpls;
        for (size_t i = 0; json_object_object_get_ex(p, "templates", &tpls) && i < json_object_array_length(tpls); i++) {
                json_object *t = json_object_array_get_idx(tpls, i), *cs;
                printf("%s template %s (%s)\n", jstr(t, "action"), jstr(t, "template"), jstr(t, "reason"));
                for (size_t k = 0; json_object_object_get_ex(t, "containers", &cs) && k < json_object_array_length(cs); k++) {
                        json_object *c = json_object_array_get_idx(cs, k);
                        printf("  then %-11s %-20s %s\n", jstr(c, "action"), jstr(c, "name"), jstr(c, "reason"));
                }
                shown++;
        }
        if (!shown)
                printf("nothing to do: everything matches the definitions\n");
        json_object *fn;
        if (json_object_object_get_ex(p, "force_needed", &fn))
                printf("note: a reload is refused: %s\n", json_object_get_string(fn));
        return 0;
}

int verb_plan(struct ctl_args *a)
{
        (void) a;
        return call("io.berth.Manager.Plan", NULL, false, print_plan, NULL);
}

/* A reload's replies: the plan, then (once every start and stop is done)
 * {"failed": [{name, error}]}; or both in one reply. With --json they make
 * one document, printed by verb_reload. */
struct reload_result {
        json_object *doc;
        size_t n_failed;
};

static int print_reload(json_object *p, void *userdata)
{
        struct reload_result *res = userdata;
        json_object *failed;
        if (json_object_object_get_ex(p, "actions", NULL)) {
                if (json_enabled()) {
                        json_object_put(res->doc);
                        res->doc = json_object_get(p);
                } else
                        (void) print_plan(p, NULL);
        }
        if (!json_object_object_get_ex(p, "failed", &failed) || !json_object_is_type(failed, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(failed); i++) {
                json_object *f = json_object_array_get_idx(failed, i);
                fprintf(stderr, "berthctl reload: container '%s' failed: %s\n", jstr(f, "name"), jstr(f, "error"));
                res->n_failed++;
        }
        if (json_enabled() && res->doc && res->doc != p)
                json_object_object_add(res->doc, "failed", json_object_get(failed));
        return 0;
}

int verb_reload(struct ctl_args *a)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "wait", json_object_new_boolean(1));
        if (a->force)
                json_object_object_add(p, "force", json_object_new_boolean(1));
        struct reload_result res = { 0 };
        int r = call("io.berth.Manager.Reload", p, false, print_reload, &res);
        if (r == 0 && res.n_failed)
                fprintf(stderr, "berthctl reload: %zu container%s failed to start or update\n", res.n_failed,
                        res.n_failed == 1 ? "" : "s");
        if (a->json && res.doc) {
                json_object_object_add(res.doc, "ok", json_object_new_boolean(r == 0 && !res.n_failed));
                if (json_errors_get()) /* the connection was lost after the plan */
                        json_object_object_add(res.doc, "errors", json_object_get(json_errors_get()));
                print_json(res.doc);
        }
        json_object_put(res.doc);
        return r != 0 || res.n_failed ? 1 : 0;
}

/* ---- ls and inspect -------------------------------------------------------------------------- */

static void fmt_uptime(uint64_t s, char *buf, size_t n)
{
        if (s >= 86400)
                snprintf(buf, n, "%llud%lluh", (unsigned long long) s / 86400, (unsigned long long) (s % 86400) / 3600);
        else if (s >= 3600)
                snprintf(buf, n, "%lluh%llum", (unsigned long long) s / 3600, (unsigned long long) (s % 3600) / 60);
        else if (s >= 60)
                snprintf(buf, n, "%llum%llus", (unsigned long long) s / 60, (unsigned long long) s % 60);
        else
                snprintf(buf, n, "%llus", (unsigned long long) s);
}

/* One row of ls: the members it shows, from json-c's objects or from the
 * reply's text (ls_text). Strings are "" when missing or null, numbers 0. */
struct ls_row {
        const char *name, *state, *waiting_for, *health, *address, *error;
        int64_t pid, restarts, uptime;
        bool orphaned; /* present and true */
};

/* Without --all, ls shows the declared containers only (and those still
 * stopping whose definition just went). */
static bool ls_shown(const struct ctl_args *a, const struct ls_row *c)
{
        return a->all || !c->orphaned || !streq(c->state, "orphaned");
}

static void ls_header(const struct ctl_args *a)
{
        if (!a->names)
                printf("%-20s %-9s %-8s %-7s %-15s %-8s %s\n", "NAME", "STATE", "HEALTH", "PID", "ADDRESS", "RESTARTS",
                       "UPTIME");
}

static void ls_print_row(const struct ctl_args *a, const struct ls_row *c)
{
        char up[32] = "-", pid[16] = "-";
        if (!ls_shown(a, c))
                return;
        if (a->names) {
                printf("%s\n", c->name);
                return;
        }
        if (streq(c->state, "running") || streq(c->state, "frozen")) {
                fmt_uptime((uint64_t) c->uptime, up, sizeof up);
                snprintf(pid, sizeof pid, "%lld", (long long) c->pid);
        }
        char state[96];
        if (*c->waiting_for)
                snprintf(state, sizeof state, "%s (for %s)", c->state, c->waiting_for);
        else
                snprintf(state, sizeof state, "%s", c->state);
        printf("%-20s %-9s %-8s %-7s %-15s %-8lld %s%s%s\n", c->name, state, c->health, pid,
               *c->address ? c->address : "-", (long long) c->restarts, up, *c->error ? "  " : "", c->error);
}

static int print_ls(json_object *p, void *userdata)
{
        const struct ctl_args *a = userdata;
        json_object *arr, *v;
        if (a->json) {
                print_json(p);
                return 0;
        }
        if (!json_object_object_get_ex(p, "containers", &arr))
                return 0;
        ls_header(a);
        if (!json_object_is_type(arr, json_type_array)) /* json-c's array calls would abort */
                return 0;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *c = json_object_array_get_idx(arr, i);
                struct ls_row row = {
                        .name = jstr(c, "name"), .state = jstr(c, "state"), .waiting_for = jstr(c, "waiting_for"),
                        .health = jstr(c, "health"), .address = jstr(c, "address"), .error = jstr(c, "error"),
                        .pid = jint(c, "pid"), .restarts = jint(c, "restarts"), .uptime = jint(c, "uptime_sec"),
                        .orphaned = json_object_object_get_ex(c, "orphaned", &v) && json_object_get_boolean(v),
                };
                ls_print_row(a, &row);
        }
        return 0;
}

/* ls without json-c's objects (issue 22: at 1,000 containers json-c's
 * object per container, a hash table each, and the pages they take were
 * most of berthctl's time). The reply's text is walked twice: once to
 * check that it is in the subset jsontext.h reads and holds what the rows
 * need, with the types print_ls would see, then to print; anything else
 * (an error, another daemon's reply) returns 0 and goes to json-c and
 * print_ls, so the output is the same either way. */
enum { LS_NAME, LS_STATE, LS_WAITING_FOR, LS_HEALTH, LS_ADDRESS, LS_ERROR, LS_STRINGS };
static const char *const ls_string_keys[LS_STRINGS] = { "name", "state", "waiting_for", "health", "address", "error" };

static bool key_is(const char *k, size_t n, const char *want)
{
        return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* One container object into row (its strings in bufs). */
static int ls_text_row(struct jt *t, struct ls_row *row, char bufs[LS_STRINGS][1024])
{
        const char **strs[LS_STRINGS] = { &row->name, &row->state, &row->waiting_for,
                                          &row->health, &row->address, &row->error };
        int64_t *nums[3] = { &row->pid, &row->restarts, &row->uptime };
        unsigned seen = 0;
        bool first = true;
        const char *k;
        size_t n;
        int r;
        *row = (struct ls_row){ .name = "", .state = "", .waiting_for = "", .health = "", .address = "", .error = "" };
        if (jt_peek(t) != JT_OBJECT || jt_enter(t, '{') < 0)
                return -EINVAL;
        while ((r = jt_object_next(t, &first, &k, &n)) > 0) {
                int kind = jt_peek(t), field = -1;
                for (int i = 0; i < LS_STRINGS && field < 0; i++)
                        if (key_is(k, n, ls_string_keys[i]))
                                field = i;
                int numi = key_is(k, n, "pid") ? 0 : key_is(k, n, "restarts") ? 1 : key_is(k, n, "uptime_sec") ? 2 : -1;
                int64_t *num = numi >= 0 ? nums[numi] : NULL;
                int bit = field >= 0 ? field : numi >= 0 ? LS_STRINGS + numi : -1;
                if (bit < 0 && key_is(k, n, "orphaned"))
                        bit = LS_STRINGS + 3;
                if (bit < 0) {
                        if (jt_skip(t) < 0)
                                return -EINVAL;
                        continue;
                }
                if (seen & (1u << bit)) /* json-c would keep the last */
                        return -EINVAL;
                seen |= 1u << bit;
                if (kind == JT_NULL) /* "" and 0, as jstr() and jint() make of null */
                        r = jt_skip(t);
                else if (field >= 0 && kind == JT_STRING) {
                        r = jt_string(t, bufs[field], sizeof bufs[field]);
                        *strs[field] = bufs[field];
                } else if (num && kind == JT_INT)
                        r = jt_int(t, num);
                else if (bit == LS_STRINGS + 3 && (kind == JT_TRUE || kind == JT_FALSE)) {
                        row->orphaned = kind == JT_TRUE;
                        r = jt_skip(t);
                } else
                        return -EINVAL; /* another type: what json-c makes of it is its business */
                if (r < 0)
                        return -EINVAL;
        }
        return r;
}

/* The rows of a reply's parameters; print: print them (else check only). */
static int ls_text_rows(const struct ctl_args *a, struct jt t, bool print)
{
        static char bufs[LS_STRINGS][1024];
        bool first = true, found = false;
        const char *k;
        size_t n;
        int r;
        if (jt_peek(&t) != JT_OBJECT || jt_enter(&t, '{') < 0)
                return -EINVAL;
        while ((r = jt_object_next(&t, &first, &k, &n)) > 0) {
                if (!key_is(k, n, "containers")) {
                        if (jt_skip(&t) < 0)
                                return -EINVAL;
                        continue;
                }
                if (found || jt_peek(&t) != JT_ARRAY || jt_enter(&t, '[') < 0)
                        return -EINVAL;
                found = true;
                if (print)
                        ls_header(a);
                bool efirst = true;
                while ((r = jt_array_next(&t, &efirst)) > 0) {
                        struct ls_row row;
                        if (ls_text_row(&t, &row, bufs) < 0)
                                return -EINVAL;
                        if (print)
                                ls_print_row(a, &row);
                }
                if (r < 0)
                        return r;
        }
        return r < 0 || !found ? -EINVAL : 0;
}

static int ls_text(const char *msg, size_t len, void *userdata)
{
        static const char prefix[] = "{\"parameters\":";
        const struct ctl_args *a = userdata;
        if (len < sizeof prefix || memcmp(msg, prefix, sizeof prefix - 1) != 0)
                return 0;
        struct jt t = jt_init(msg + sizeof prefix - 1, len - (sizeof prefix - 1)), params = t;
        /* The parameters, then the reply's end: nothing after them ("continues"). */
        if (jt_skip(&t) < 0 || jt_expect(&t, '}') < 0 || !jt_at_end(&t))
                return 0;
        struct jt check = params;
        if (a->json ? jt_pretty(&check, NULL) < 0 : ls_text_rows(a, params, false) < 0)
                return 0;
        /* One buffer for all of it: a few writes, not one per row. */
        static char out[65536];
        (void) setvbuf(stdout, out, _IOFBF, sizeof out);
        if (a->json) {
                (void) jt_pretty(&params, stdout);
                putchar('\n');
                json_mark_printed();
        } else
                (void) ls_text_rows(a, params, true);
        return 1;
}

int verb_ls(struct ctl_args *a)
{
        /* BERTH_LS_JSONC=1 (tests): json-c's objects only, the output to compare with. */
        const char *e = getenv("BERTH_LS_JSONC");
        return call_text("io.berth.Container.List", NULL, false, e && streq(e, "1") ? NULL : ls_text, print_ls, a);
}

static int print_obj(json_object *p, void *userdata)
{
        (void) userdata;
        print_json(p);
        return 0;
}

static json_object *name_params(const char *name)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        return p;
}

static json_object *names_params(const struct ctl_args *a)
{
        json_object *p = json_object_new_object(), *arr = json_object_new_array();
        for (int i = 0; i < a->argc; i++)
                json_object_array_add(arr, json_object_new_string(a->argv[i]));
        json_object_object_add(p, "names", arr);
        return p;
}

int verb_inspect(struct ctl_args *a)
{
        return call("io.berth.Container.Inspect", name_params(a->argv[0]), false, print_obj, NULL);
}

int verb_destroy(struct ctl_args *a)
{
        return call("io.berth.Container.Destroy", name_params(a->argv[0]), false, NULL, NULL);
}

/* ---- start, stop, restart, kill ------------------------------------------------------------- */

/* One line per thing berthd did, in order. */
static int print_actions(json_object *p, void *userdata)
{
        (void) userdata;
        json_object *acts;
        if (json_enabled()) {
                print_json(p);
                return 0;
        }
        if (!p || !json_object_object_get_ex(p, "actions", &acts))
                return 0;
        for (size_t i = 0; i < json_object_array_length(acts); i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(acts, i)));
        return 0;
}

static int names_verb(struct ctl_args *a, const char *method)
{
        json_object *p = names_params(a);
        if (a->have_stop_timeout)
                json_object_object_add(p, "stop_timeout_usec", json_object_new_uint64(a->stop_timeout));
        return call(method, p, false, print_actions, NULL);
}

int verb_start(struct ctl_args *a)
{
        if (a->from_checkpoint)
                return start_from_checkpoint(a);
        return names_verb(a, "io.berth.Container.Start");
}

int verb_stop(struct ctl_args *a)
{
        return names_verb(a, "io.berth.Container.Stop");
}

int verb_restart(struct ctl_args *a)
{
        return names_verb(a, "io.berth.Container.Restart");
}

int verb_kill(struct ctl_args *a)
{
        json_object *p = names_params(a);
        json_object_object_add(p, "signal", json_object_new_string(a->signal ? a->signal : "SIGTERM"));
        return call("io.berth.Container.Kill", p, false, NULL, NULL);
}
