/* The supervisor's core: the manager's lifetime, its units, events, the
 * status line for systemd, and the scheduler. Every change of a unit asks
 * for the scheduler with manager_dispatch_soon(); it runs once per event
 * loop iteration from a deferred sd-event source (as systemd's run queue),
 * never from inside the handler that changed something, so no transition
 * runs re-entrantly inside another. The other concerns live beside it:
 * supervise_unit.c (a unit's state machine), supervise_health.c (health
 * probes), supervise_reload.c (plans, reload, startup and re-adoption),
 * supervise_control.c (the control methods). */

#include "supervise_internal.h"

const char *const unit_state_names[] = { "stopped", "starting", "running", "stopping", "backoff", "failed" };

const char *const unit_shown_state_names[] = { "stopped",  "starting", "running", "stopping", "backoff",
                                               "failed",   "waiting",  "frozen",  "orphaned", NULL };

const char *unit_shown_state(struct unit *u)
{
        bool orphan_idle = u->orphaned && (u->state == U_STOPPED || u->state == U_FAILED);
        bool waiting = u->pending_start && u->waiting_for[0] &&
                       (u->state == U_STOPPED || u->state == U_FAILED || u->state == U_BACKOFF);
        return orphan_idle                               ? "orphaned"
               : waiting                                 ? "waiting"
               : u->state == U_RUNNING && unit_frozen(u) ? "frozen"
                                                         : unit_state_names[u->state];
}

/* ---- crash points (tests only) ---------------------------------------------------- */

void crash_point(struct manager *m, const char *name)
{
        if (!crashpoint_hit(&m->o.crash, name))
                return;
        log_error("crash point '%s' reached (BERTH_CRASH_AT): dying as kill -9 would", name);
        (void) kill(getpid(), SIGKILL);
        _exit(137);
}

/* ---- events ------------------------------------------------------------------ */

uint64_t now_realtime(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

usec_t now_mono(struct manager *m)
{
        uint64_t t = 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

json_object *event_json(const struct event_rec *e)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "time_usec", json_object_new_uint64(e->realtime_usec));
        json_object_object_add(o, "name", e->name ? json_object_new_string(e->name) : NULL);
        json_object_object_add(o, "event", json_object_new_string(e->event));
        json_object_object_add(o, "detail", json_object_new_string(e->detail ? e->detail : ""));
        return o;
}

static void send_event(struct control_conn *c, void *data)
{
        (void) control_reply(c, event_json(data), true);
}

void emit(struct manager *m, const char *name, const char *event, const char *fmt, ...)
{
        char detail[512] = "";
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(detail, sizeof detail, fmt, ap);
                va_end(ap);
        }
        size_t slot = (m->events_head + m->n_events) % EVENTS_KEPT;
        if (m->n_events == EVENTS_KEPT) {
                struct event_rec *old = &m->events[m->events_head];
                free(old->name);
                free(old->event);
                free(old->detail);
                slot = m->events_head;
                m->events_head = (m->events_head + 1) % EVENTS_KEPT;
        } else
                m->n_events++;
        struct event_rec *e = &m->events[slot];
        *e = (struct event_rec){ .realtime_usec = now_realtime(),
                                 .name = name ? strdup(name) : NULL,
                                 .event = strdup(event),
                                 .detail = strdup(detail) };
        m->events_seq++;
        /* Every reload path, signal or call, tells its outcome here. */
        if (!name && streq(event, "reloaded"))
                m->reloads_applied++;
        else if (!name && streq(event, "reload-refused"))
                m->reloads_refused++;
        json_object *j = event_json(e);
        const char *line = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        (void) journal_append(&m->journal, line, strlen(line));
        json_object_put(j);
        log_info("%s%s%s%s%s", name ? name : "", name ? ": " : "", event, detail[0] ? ": " : "", detail);
        if (m->control)
                control_server_foreach(m->control, TAG_EVENTS, send_event, e);
}

/* ---- bookkeeping -------------------------------------------------------------- */

struct unit *unit_find(struct manager *m, const char *name)
{
        size_t i = nameidx_find(m->units_by_name, m->n_units, name);
        return i == NAMEIDX_NONE ? NULL : m->units[i];
}

struct unit *unit_add(struct manager *m, const char *name)
{
        struct unit **nu = realloc(m->units, (m->n_units + 1) * sizeof *nu);
        if (!nu)
                return NULL;
        m->units = nu;
        struct unit *u = calloc(1, sizeof *u);
        size_t n_index = m->n_units;
        if (!u || !(u->name = strdup(name)) ||
            nameidx_insert(&m->units_by_name, &n_index, u->name, m->n_units) < 0) {
                if (u)
                        free(u->name);
                free(u);
                return NULL;
        }
        u->m = m;
        u->monitor_pidfd = u->init_pidfd = u->status_fd = u->hook_fd = -1;
        u->last_status = -1;
        m->units[m->n_units++] = u;
        manager_order_changed(m);
        return u;
}

void health_stop(struct unit *u)
{
        u->probe_src = sd_event_source_disable_unref(u->probe_src);
        u->probe_timeout = sd_event_source_disable_unref(u->probe_timeout);
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        u->probe = health_probe_free(u->probe);
}

static void unit_free(struct unit *u)
{
        health_stop(u);
        unit_layer_free(u);
        sd_event_source_disable_unref(u->monitor_src);
        sd_event_source_disable_unref(u->status_src);
        sd_event_source_disable_unref(u->timer);
        sd_event_source_disable_unref(u->stateful_timer);
        if (u->monitor_pidfd >= 0)
                close(u->monitor_pidfd);
        if (u->init_pidfd >= 0)
                close(u->init_pidfd);
        if (u->status_fd >= 0)
                close(u->status_fd);
        sd_event_source_disable_unref(u->hook_src);
        if (u->hook_fd >= 0)
                close(u->hook_fd);
        spec_container_free(u->owned_spec);
        strv_free(u->image_health.command);
        free(u->restore_tag);
        free(u->name);
        free(u);
}

void unit_forget(struct manager *m, struct unit *u)
{
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i] == u) {
                        size_t n_index = m->n_units;
                        nameidx_remove(m->units_by_name, &n_index, i);
                        memmove(&m->units[i], &m->units[i + 1], (m->n_units - i - 1) * sizeof *m->units);
                        m->n_units--;
                        break;
                }
        manager_order_changed(m);
        unit_free(u);
}

char *unit_dir(struct manager *m, const char *name)
{
        return strdup_printf("%s/%s", m->containers_dir, name);
}

void unit_set_spec(struct unit *u, const struct spec_container *c)
{
        if (c && u->owned_spec && c != u->owned_spec) {
                /* Declared again: the copy of the gone definition goes. */
                spec_container_free(u->owned_spec);
                u->owned_spec = NULL;
        }
        if (c && u->orphaned) {
                u->orphaned = false;
                u->operator_stopped = false;
                /* Back while its stop is under way: it starts again after. */
                if (u->state == U_STOPPING && c->autostart)
                        u->restart_after_stop = true;
        }
        if (u->spec != c)
                manager_order_changed(u->m);
        u->spec = c;
        if (c) {
                spec_container_hash_restart(c, u->rh);
                spec_container_hash_live(c, u->lh);
                spec_container_hash_supervise(c, u->sh);
                u->known_spec = true;
        }
}

void set_timer(struct unit *u, usec_t delay, sd_event_time_handler_t cb)
{
        u->timer = sd_event_source_disable_unref(u->timer);
        if (sd_event_add_time_relative(u->m->event, &u->timer, CLOCK_MONOTONIC, delay, 10 * 1000, cb, u) < 0)
                log_error("%s: cannot arm a timer", u->name);
}

void notify_status(struct manager *m)
{
        unsigned running = 0, failed = 0, starting = 0, stopping = 0, unhealthy = 0;
        for (size_t i = 0; i < m->n_units; i++) {
                if (m->units[i]->state == U_RUNNING && m->units[i]->health.status == HEALTH_UNHEALTHY)
                        unhealthy++;
                switch (m->units[i]->state) {
                case U_RUNNING:
                        running++;
                        break;
                case U_FAILED:
                        failed++;
                        break;
                case U_STARTING:
                case U_BACKOFF:
                        starting++;
                        break;
                case U_STOPPING:
                        stopping++;
                        break;
                default:
                        break;
                }
        }
        char defs[300] = "";
        if (m->vanished && m->on_last_good)
                snprintf(defs, sizeof defs, "; definitions of %zu running containers gone from %s: running the last "
                         "valid ones (reload --force applies the directory)", m->vanished, m->o.conf_dir);
        else if (m->definition_errors)
                snprintf(defs, sizeof defs, "; %zu error%s in %s%s", m->definition_errors,
                         m->definition_errors == 1 ? "" : "s", m->o.conf_dir,
                         m->on_last_good ? ": running the last valid definitions" : ": not applied");
        (void) sd_notifyf(false, "STATUS=%u running, %u failed, %u unhealthy%s%s", running, failed, unhealthy,
                          m->shutting_down ? ", shutting down" : "", defs);
        (void) starting;
        (void) stopping;
}

/* ---- NAT: one table for every bridged container that runs ---------------------- */

/* libnftables waits for its netlink socket with select(), and glibc aborts
 * berthd ("bit out of range 0 - FD_SETSIZE on fd_set") when that socket's
 * fd is 1024 or more: with 500 running containers (two pidfds each) it was.
 * berthd holds a few low fds on /dev/null from its start and lets them go
 * for the length of each nftables call, so that its sockets get fds below
 * FD_SETSIZE however many containers run. */
static void low_fds_take(struct manager *m)
{
        for (size_t i = 0; i < ELEMENTSOF(m->low_fds); i++)
                if (m->low_fds[i] < 0)
                        m->low_fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void low_fds_release(struct manager *m)
{
        for (size_t i = 0; i < ELEMENTSOF(m->low_fds); i++)
                if (m->low_fds[i] >= 0) {
                        close(m->low_fds[i]);
                        m->low_fds[i] = -1;
                }
}

static int nat_call(struct manager *m, bool apply, const struct nat_target *t, size_t nt, struct error *err)
{
        /* Nothing to remove: no nftables transaction (every reload and every
         * start made one, NAT or not). The first call of a berthd removes
         * whatever a previous one left. */
        if (!apply && m->nat_clean)
                return 0;
        low_fds_release(m);
        int r = apply ? nat_apply(m->nat_table, m->set.networks, m->set.n_networks, t, nt, err)
                      : nat_remove(m->nat_table, err);
        low_fds_take(m);
        m->nat_clean = !apply && r >= 0;
        return r;
}

void nat_sync(struct manager *m)
{
        size_t nn = 0;
        /* Any network: the table guards the bridges' route_localnet and
         * forwards DNS to a loopback name server of the host (nat.c). */
        bool any = m->set.n_networks > 0;
        _cleanup_free_ struct nat_target *t = calloc(m->n_units + 1, sizeof *t);
        if (!t)
                return;
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                struct in_addr a;
                if (u->state != U_RUNNING || !u->spec || u->spec->n_publish == 0 || !u->address[0] ||
                    inet_pton(AF_INET, u->address, &a) != 1)
                        continue;
                t[nn] = (struct nat_target){ .name = u->name, .address = a, .publish = u->spec->publish,
                                             .n_publish = u->spec->n_publish };
                const struct spec_network *n = u->spec->network ? spec_set_find_network(&m->set, u->spec->network) : NULL;
                if (n && n->v6) {
                        t[nn].v6 = true;
                        net_address6(n, a, &t[nn].address6);
                }
                nn++;
                any = true;
        }
        struct error err = { 0 };
        int r = nat_call(m, any, t, nn, &err);
        if (r < 0)
                log_error("nftables: %s", error_message(&err));
}


/* ---- the scheduler ---------------------------------------------------------------------- */

bool manager_busy(struct manager *m)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (u->pending_start && u->template_wait)
                        continue; /* a template build may take minutes: not a reload's business */
                if (u->pending_start || u->pending_stop || u->state == U_STARTING || u->state == U_STOPPING ||
                    u->restart_after_stop)
                        return true;
        }
        return false;
}

/* The containers a reload changed (a "plan" event) whose start or live
 * update then failed, from the events emitted since seq: [{name, error}].
 * Events that fell out of the ring are not seen. */
json_object *reload_failures(struct manager *m, uint64_t seq)
{
        json_object *arr = json_object_new_array();
        uint64_t since = m->events_seq - seq;
        size_t n = since < m->n_events ? (size_t) since : m->n_events;
        const struct event_rec *ev[EVENTS_KEPT];
        for (size_t i = 0; i < n; i++)
                ev[i] = &m->events[(m->events_head + m->n_events - n + i) % EVENTS_KEPT];
        for (size_t i = 0; i < n; i++) {
                const struct event_rec *e = ev[i];
                if (!e->name || (!streq(e->event, "start-failed") && !streq(e->event, "update-failed") &&
                                 !streq(e->event, "failed")))
                        continue;
                bool planned = false, seen = false;
                for (size_t k = 0; k < n; k++)
                        if (ev[k]->name && streq(ev[k]->name, e->name)) {
                                planned = planned || (k < i && streq(ev[k]->event, "plan"));
                                seen = seen || (k < i && (streq(ev[k]->event, "start-failed") ||
                                                          streq(ev[k]->event, "update-failed") ||
                                                          streq(ev[k]->event, "failed")));
                        }
                if (!planned || seen)
                        continue;
                json_object *f = json_object_new_object();
                json_object_object_add(f, "name", json_object_new_string(e->name));
                json_object_object_add(f, "error", json_object_new_string(e->detail ? e->detail : ""));
                json_object_array_add(arr, f);
        }
        return arr;
}

static void finish_reload(struct control_conn *c, void *data)
{
        struct manager *m = data;
        void *seq = NULL;
        (void) control_conn_tag(c, &seq);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "failed", reload_failures(m, (uint64_t) (uintptr_t) seq));
        (void) control_reply(c, p, false);
        control_conn_set_tag(c, 0, NULL);
}

/* What order.c needs to know of every unit, in m->units order. */
struct order_unit *order_view(struct manager *m)
{
        struct order_unit *v = calloc(m->n_units + 1, sizeof *v);
        if (!v)
                return NULL;
        for (size_t i = 0; i < m->n_units; i++) {
                const struct unit *u = m->units[i];
                const struct spec_container *c = u->spec;
                enum order_state st = ORDER_IDLE;
                if (u->pending_start)
                        st = ORDER_PENDING;
                else
                        switch (u->state) {
                        case U_STARTING:
                                st = ORDER_STARTING;
                                break;
                        case U_RUNNING:
                                /* Running counts once healthy, for a container with a health check. */
                                st = c && unit_health(u)->enabled && u->health.status != HEALTH_HEALTHY ? ORDER_STARTING
                                                                                                   : ORDER_UP;
                                break;
                        case U_STOPPING:
                                st = ORDER_UP;
                                break;
                        case U_BACKOFF:
                                st = ORDER_BACKOFF;
                                break;
                        case U_FAILED:
                                st = ORDER_FAILED;
                                break;
                        case U_STOPPED:
                                break;
                        }
                v[i] = (struct order_unit){
                        .name = u->name,
                        .start_order = c ? c->start_order : 0,
                        .after = c ? c->after : NULL,
                        .requires = c ? c->requires : NULL,
                        .state = st,
                        .stop_pending = u->pending_stop,
                        .stopping = u->pending_stop || u->state == U_STOPPING,
                        .alive = u->state == U_STARTING || u->state == U_RUNNING || u->state == U_STOPPING,
                        .since = u->pending_since,
                        .launched = u->launched_mono,
                        .start_timeout = c ? c->start_timeout : 60 * SPEC_USEC_PER_SEC,
                        .start_delay = c ? c->start_delay : 0,
                        .delay_until = u->delay_until,
                };
        }
        return v;
}

static void set_timer_at(struct unit *u, usec_t when, sd_event_time_handler_t cb)
{
        usec_t now = now_mono(u->m);
        if (when == 0)
                u->timer = sd_event_source_disable_unref(u->timer);
        else
                set_timer(u, when > now ? when - now : 0, cb);
}

static void fail_pending(struct manager *m, struct unit *u, const struct order_decision *d)
{
        const char *dep = d->blocker < m->n_units ? m->units[d->blocker]->name : "?";
        char b[32];
        u->pending_start = false;
        u->delay_until = 0;
        u->timer = sd_event_source_disable_unref(u->timer);
        u->state = U_FAILED;
        switch (d->reason) {
        case ORDER_REASON_REQUIRED_FAILED:
                snprintf(u->last_error, sizeof u->last_error, "requires '%s', which failed", dep);
                break;
        case ORDER_REASON_REQUIRED_STOPPED:
                snprintf(u->last_error, sizeof u->last_error, "requires '%s', which is stopped", dep);
                break;
        case ORDER_REASON_REQUIRED_TIMEOUT:
                snprintf(u->last_error, sizeof u->last_error,
                         "requires '%s', which did not become running within its start-timeout", dep);
                break;
        default:
                snprintf(u->last_error, sizeof u->last_error, "dependency '%s' not running within start-timeout %s",
                         dep, u->spec ? format_duration(u->spec->start_timeout, b, sizeof b) : "?");
                break;
        }
        emit(m, u->name, "failed", "%s", u->last_error);
}

void manager_order_changed(struct manager *m)
{
        m->order_graph = order_graph_free(m->order_graph);
}

/* The dependency graph of view (m->units), built again only after
 * manager_order_changed(): sorting 1,000 names on every dispatch cost more
 * than the rest of it. NULL when out of memory. */
static const struct order_graph *order_graph(struct manager *m, const struct order_unit *view)
{
        if (m->order_graph && order_graph_size(m->order_graph) != m->n_units)
                manager_order_changed(m); /* a change that did not say so: never decide on a stale graph */
        if (!m->order_graph && order_graph_new(view, m->n_units, &m->order_graph) < 0)
                m->order_graph = NULL;
        return m->order_graph;
}

/* Starts whose spawner has not reported yet (building the container). */
static size_t spawners_running(struct manager *m)
{
        size_t k = 0;
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->state == U_STARTING && m->units[i]->status_fd >= 0)
                        k++;
        return k;
}

/* Starts what order_decide_starts() lets start, at most max_spawners
 * building at a time (the rest stay pending: a spawner's report dispatches
 * again), arms a timer for what waits on time, fails what cannot start;
 * then signals the stops that order_decide_stops() lets go. */
static void dispatch(struct manager *m)
{
        size_t n = m->n_units;
        _cleanup_free_ struct order_unit *view = order_view(m);
        _cleanup_free_ struct order_decision *dec = calloc(n + 1, sizeof *dec);
        _cleanup_free_ char **to_start = calloc(n + 1, sizeof *to_start);
        size_t n_start = 0;
        const struct order_graph *g = view ? order_graph(m, view) : NULL;
        if (!view || !dec || !to_start || !g || order_decide_starts_with(g, view, n, now_mono(m), dec) < 0) {
                log_error("out of memory deciding starts and stops");
                return;
        }
        size_t room = m->max_spawners, busy = spawners_running(m);
        room = busy < room ? room - busy : 0;
        for (size_t i = 0; i < n; i++) {
                struct unit *u = m->units[i];
                const struct order_decision *d = &dec[i];
                /* Reported once per start, and never for a container that was
                 * healthy and turned unhealthy later (health reports that). */
                if (d->timed_out && !u->timeout_reported &&
                    (u->state == U_STARTING || u->health.status == HEALTH_STARTING)) {
                        char b[32];
                        u->timeout_reported = true;
                        emit(m, u->name, "start-timeout", "not %s within start-timeout %s; the next ones go on",
                             u->state == U_RUNNING ? "healthy" : "running",
                             u->spec ? format_duration(u->spec->start_timeout, b, sizeof b) : "?");
                }
                if (!u->pending_start || m->shutting_down)
                        continue;
                u->delay_until = d->delay_until;
                u->waiting_for[0] = 0;
                if (d->verdict == ORDER_WAIT && d->blocker < n)
                        snprintf(u->waiting_for, sizeof u->waiting_for, "%s", m->units[d->blocker]->name);
                switch (d->verdict) {
                case ORDER_WAIT:
                case ORDER_DELAY:
                        set_timer_at(u, d->wake, on_pending_timer);
                        break;
                case ORDER_FAIL:
                        fail_pending(m, u, d);
                        break;
                case ORDER_START:
                        u->timer = sd_event_source_disable_unref(u->timer);
                        if (manager_template_wait(m, u))
                                break; /* its template's first build: dispatched again when it ends */
                        if (n_start < room)
                                to_start[n_start++] = u->name;
                        break;
                case ORDER_NONE:
                        break;
                }
        }
        /* A start can change the unit list (a failure that forgets an orphan):
         * find each by name. */
        _cleanup_(strv_freep) char **names = calloc(n_start + 1, sizeof *names);
        for (size_t k = 0; names && k < n_start; k++)
                if (!(names[k] = strdup(to_start[k])))
                        break;
        for (size_t k = 0; names && names[k]; k++) {
                struct unit *u = unit_find(m, names[k]);
                if (u && u->pending_start && !m->shutting_down && !u->layer_pid)
                        unit_start_now(u);
        }
        /* Stops, in reverse: each once nothing stopping still waits on it. */
        n = m->n_units;
        _cleanup_free_ struct order_unit *sview = order_view(m);
        _cleanup_free_ bool *stop = calloc(n + 1, sizeof *stop);
        _cleanup_free_ bool *held = calloc(n + 1, sizeof *held);
        g = sview ? order_graph(m, sview) : NULL;
        if (g && stop && held && order_decide_stops_with(g, sview, n, held, stop) >= 0)
                for (size_t i = 0; i < n; i++)
                        if (stop[i] && m->units[i]->pending_stop)
                                unit_stop_now(m->units[i]);
        notify_status(m);
        if (!m->ready && !manager_busy(m)) {
                m->ready = true;
                (void) sd_notify(false, "READY=1");
                emit(m, NULL, "ready", NULL);
        }
        if (m->control && !manager_busy(m))
                control_server_foreach(m->control, TAG_RELOAD, finish_reload, m);
        if (m->shutting_down) {
                bool all_down = true;
                for (size_t i = 0; i < m->n_units; i++)
                        if (m->units[i]->monitor_pid || m->units[i]->state == U_STOPPING ||
                            m->units[i]->state == U_STARTING || m->units[i]->layer_pid)
                                all_down = false;
                if (all_down) {
                        /* Everything down: what berth made on the host goes too. */
                        (void) nat_call(m, false, NULL, 0, NULL);
                        for (size_t i = 0; i < m->n_networks_up; i++)
                                (void) net_bridge_remove(m->networks_up[i]->bridge, m->net_owner);
                        (void) sd_event_exit(m->event, 0);
                }
        }
}

static int on_dispatch(sd_event_source *s, void *userdata)
{
        (void) s;
        dispatch(userdata);
        return 0;
}

void manager_dispatch_soon(struct manager *m)
{
        if (m->dispatch_src && sd_event_source_set_enabled(m->dispatch_src, SD_EVENT_ONESHOT) >= 0)
                return;
        /* Only without a source (out of memory at manager_new): at once. */
        dispatch(m);
}


/* ---- lifetime ----------------------------------------------------------------------------------- */

int manager_new(sd_event *e, const struct manager_options *o, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->o = *o;
        /* machined takes the leader's unit for the machine's: only a
         * container in a scope of its own may be registered. */
        if (o->scope_slice && !(m->machines = machine_bus_new(e))) {
                sd_event_unref(m->event);
                free(m);
                return -ENOMEM;
        }
        /* Spawners build containers in parallel. Most of a build waits
         * (RCU grace periods of umount and cgroup moves, the disk), so
         * several per CPU pay; a bound keeps 1,000 autostarts from being
         * 1,000 forks of berthd at once (bench/README.md). */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        m->max_spawners = o->max_spawners ? o->max_spawners : (size_t) (cpus > 0 ? cpus : 1) * 8;
        manager_metrics_init(m);
        (void) state_boot_id(m->boot_id);
        for (size_t i = 0; i < ELEMENTSOF(m->low_fds); i++)
                m->low_fds[i] = -1;
        low_fds_take(m);
        m->journal = (struct journal){ .dirfd = -1, .fd = -1 };
        m->containers_dir = state_containers_dir(o->state_dir);
        /* A private berthd (tests, make run) keeps its NAT rules in a table of
         * its own, so that two instances never rebuild each other's. */
        if (streq(o->run_dir, "/run/berth"))
                snprintf(m->nat_table, sizeof m->nat_table, "berth");
        else {
                uint32_t h = 2166136261u;
                for (const char *q = o->run_dir; *q; q++)
                        h = (h ^ (unsigned char) *q) * 16777619u;
                snprintf(m->nat_table, sizeof m->nat_table, "berth_%08x", h);
        }
        _cleanup_free_ char *sock = strdup_printf("%s/control.sock", o->run_dir);
        int r = !m->containers_dir || !sock ? -ENOMEM : 0;
        if (r == 0 && (r = mkdir_p(m->containers_dir, 0700)) == 0 && (r = mkdir_p(o->run_dir, 0700)) == 0) {
                (void) chmod(o->run_dir, 0700);
                (void) chmod(o->state_dir, 0700);
                net_owner_id(o->state_dir, m->net_owner); /* the canonical path, now that it exists */
                int q = journal_open(&m->journal, o->state_dir);
                if (q < 0)
                        log_warning("cannot open the event journal %s/%s: %s; events are kept in memory only",
                                    o->state_dir, JOURNAL_FILE, strerror(-q));
                r = control_server_new(e, sock, on_call, m, &m->control);
        }
        if (r == 0) {
                int q = manager_net_watch(m);
                if (q < 0)
                        log_warning("cannot watch berth's bridges over netlink: %s; a deleted bridge is not made again",
                                    strerror(-q));
        }
        /* The scheduler runs after the handlers of one loop iteration, below
         * their priority, so that a batch of exits is decided once. */
        if (r == 0 && (r = sd_event_add_defer(e, &m->dispatch_src, on_dispatch, m)) == 0 &&
            (r = sd_event_source_set_priority(m->dispatch_src, SD_EVENT_PRIORITY_NORMAL + 10)) == 0)
                r = sd_event_source_set_enabled(m->dispatch_src, SD_EVENT_OFF);
        if (r == 0)
                r = manager_snapshot_schedule(m);
        /* Now, while berthd is small: each probe's clone copies the
         * spawner's page tables, not berthd's. */
        if (r == 0)
                (void) manager_spawner(m);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        m->metrics = metrics_server_free(m->metrics);
        m->dispatch_src = sd_event_source_disable_unref(m->dispatch_src);
        m->snapshot_timer = sd_event_source_disable_unref(m->snapshot_timer);
        manager_templates_free(m);
        journal_close(&m->journal);
        m->netwatch = netwatch_free(m->netwatch);
        m->machines = machine_bus_free(m->machines);
        m->order_graph = order_graph_free(m->order_graph);
        m->cgroup_cache = cgroup_manager_free(m->cgroup_cache);
        manager_spawner_free(m);
        state_last_good_free(m->last_good);
        m->last_good = NULL;
        low_fds_release(m);
        control_server_free(m->control);
        for (size_t i = 0; i < m->n_units; i++)
                unit_free(m->units[i]);
        free(m->units);
        free(m->units_by_name);
        for (size_t i = 0; i < m->n_events; i++) {
                struct event_rec *e = &m->events[(m->events_head + i) % EVENTS_KEPT];
                free(e->name);
                free(e->event);
                free(e->detail);
        }
        for (size_t i = 0; i < m->n_networks_up; i++)
                spec_network_free(m->networks_up[i]);
        free(m->networks_up);
        spec_set_done(&m->set);
        config_cache_free(m->conf_cache);
        free(m->containers_dir);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}
