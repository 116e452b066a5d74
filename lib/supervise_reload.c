/* Definitions into action: planning (lib/plan.h), applying a plan (networks,
 * starts, stops, live updates, orphans), reload with its guards (invalid
 * files, vanished definitions), last known good, startup with re-adoption of
 * what a previous berthd left running, and shutdown. */

#include "supervise_internal.h"
#include "hostsfile.h"
#include "nameidx.h"

/* ---- networks ---------------------------------------------------------------------------- */

static void networks_apply(struct manager *m, const struct plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (!a->network)
                        continue;
                const struct spec_network *n = a->desired != PLAN_NO_INDEX ? m->set.networks[a->desired] : NULL;
                switch (a->kind) {
                case PLAN_NETWORK_CREATE:
                case PLAN_NETWORK_UPDATE:
                case PLAN_NETWORK_RECREATE:
                        if (a->kind == PLAN_NETWORK_RECREATE && n)
                                (void) net_bridge_remove(n->bridge, m->net_owner);
                        if (n) {
                                int r = net_bridge_ensure(n, m->net_owner);
                                if (r == -EEXIST)
                                        emit(m, n->name, "network-failed", "bridge '%s' exists and was not created by berth",
                                             n->bridge);
                                else if (r == -EBUSY)
                                        emit(m, n->name, "network-failed",
                                             "bridge '%s' belongs to another berthd (another state directory)", n->bridge);
                                else if (r < 0)
                                        emit(m, n->name, "network-failed", "cannot set up bridge '%s': %s", n->bridge,
                                             strerror(-r));
                                else
                                        emit(m, n->name, plan_kind_to_string(a->kind), "%s", a->reason);
                        }
                        break;
                default:
                        break;
                }
        }
}

/* Bridges berth made for networks no file declares any more, once no
 * container of ours uses them. */
static void networks_collect(struct manager *m)
{
        char **ours = NULL;
        if (net_bridge_list_ours(m->net_owner, &ours) < 0)
                return;
        for (size_t i = 0; ours && ours[i]; i++) {
                bool wanted = false;
                for (size_t k = 0; k < m->set.n_networks; k++)
                        wanted |= streq(m->set.networks[k]->bridge, ours[i]);
                if (!wanted)
                        (void) net_bridge_remove(ours[i], m->net_owner);
        }
        strv_free(ours);
}

/* ---- reload ------------------------------------------------------------------------------- */

static struct plan_actual *actual_states(struct manager *m)
{
        struct plan_actual *a = calloc(m->n_units + 1, sizeof *a);
        if (!a)
                return NULL;
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                static const enum plan_state map[] = { PLAN_STATE_STOPPED, PLAN_STATE_STARTING, PLAN_STATE_RUNNING,
                                                       PLAN_STATE_STOPPING, PLAN_STATE_BACKOFF, PLAN_STATE_FAILED };
                a[i] = (struct plan_actual){ .name = u->name,
                                             .state = map[u->state],
                                             .stopped_by_operator = u->operator_stopped && !u->orphaned,
                                             .orphaned = u->orphaned,
                                             .spec = u->known_spec ? u->spec : NULL };
                memcpy(a[i].restart_hash, u->rh, SPEC_HASH_LEN);
                memcpy(a[i].live_hash, u->lh, SPEC_HASH_LEN);
                memcpy(a[i].supervise_hash, u->sh, SPEC_HASH_LEN);
        }
        return a;
}

static struct plan_network_actual *network_states(struct manager *m)
{
        struct plan_network_actual *a = calloc(m->n_networks_up + 1, sizeof *a);
        for (size_t i = 0; a && i < m->n_networks_up; i++)
                plan_network_actual_from_spec(m->networks_up[i], &a[i]);
        return a;
}

static json_object *diag_json(const struct diag *d)
{
        json_object *errs = json_object_new_array();
        char buf[2048];
        for (size_t i = 0; i < d->n; i++)
                json_object_array_add(errs, json_object_new_string(diag_format(&d->entries[i], buf, sizeof buf)));
        return errs;
}

int manager_load_conf(struct manager *m, struct spec_set *set, struct diag *d)
{
        if (!m->conf_cache)
                m->conf_cache = config_cache_new();
        return config_load_dir_cached(m->o.conf_dir, set, d, m->conf_cache);
}

/* Loads the directory and plans against what runs. On invalid files:
 * -EINVAL and *ret_errors holds them. */
int make_plan(struct manager *m, struct spec_set *ret_set, struct plan *ret_plan, json_object **ret_errors)
{
        struct diag d = { 0 };
        int r = manager_load_conf(m, ret_set, &d);
        /* A published port a host process holds refuses the reload whole. */
        if (r >= 0 && manager_net_check(ret_set, &d) > 0)
                r = -EINVAL;
        if (r < 0) {
                *ret_errors = diag_json(&d);
                diag_done(&d);
                spec_set_done(ret_set);
                return -EINVAL;
        }
        diag_done(&d);
        _cleanup_free_ struct plan_actual *act = actual_states(m);
        _cleanup_free_ struct plan_network_actual *nets = network_states(m);
        if (!act || !nets) {
                spec_set_done(ret_set);
                return -ENOMEM;
        }
        r = plan_compute(ret_set, act, m->n_units, nets, m->n_networks_up, ret_plan);
        if (r < 0)
                spec_set_done(ret_set);
        return r;
}

/* Keeps a copy of the definition files just applied (state.h): the bytes
 * that were parsed into m->set, so files edited meanwhile never make an
 * invalid "last good" set. Only the files that changed are written. */
void save_last_good(struct manager *m)
{
        _cleanup_free_ struct state_def *defs = calloc(m->set.n_sources + 1, sizeof *defs);
        if (!defs) {
                log_warning("cannot keep a copy of the definitions: %s", strerror(ENOMEM));
                return;
        }
        for (size_t i = 0; i < m->set.n_sources; i++)
                defs[i] = (struct state_def){ m->set.sources[i].name, m->set.sources[i].text, m->set.sources[i].len };
        int r = state_last_good_save(m->o.state_dir, defs, m->set.n_sources, CONFIG_FILE_MAX, &m->last_good);
        if (r < 0)
                log_warning("cannot keep a copy of the definitions in %s/%s: %s", m->o.state_dir, STATE_LAST_GOOD,
                            strerror(-r));
        m->on_last_good = false;
        m->vanished = 0;
}

/* True (and why) when p would stop so many running containers because
 * their definitions vanished that it needs reload --force (plan.h). */
bool reload_needs_force(struct manager *m, const struct plan *p, char *why, size_t size)
{
        _cleanup_free_ struct plan_actual *act = actual_states(m);
        size_t stopping = 0, running = 0;
        if (!act || !plan_needs_force(p, act, m->n_units, &stopping, &running))
                return false;
        snprintf(why, size,
                 "the definitions of %zu of the %zu running containers are gone from %s (a file system not "
                 "mounted?); nothing was changed; reload --force stops them (their data is kept)",
                 stopping, running, m->o.conf_dir);
        return true;
}

static void keep_networks(struct manager *m)
{
        for (size_t i = 0; i < m->n_networks_up; i++)
                spec_network_free(m->networks_up[i]);
        free(m->networks_up);
        m->networks_up = calloc(m->set.n_networks + 1, sizeof *m->networks_up);
        m->n_networks_up = 0;
        for (size_t i = 0; m->networks_up && i < m->set.n_networks; i++) {
                const struct spec_network *n = m->set.networks[i];
                struct spec_network *c = NULL;
                if (spec_network_new(n->name, n->file, n->line, &c) < 0)
                        break;
                free(c->bridge);
                c->bridge = strdup(n->bridge);
                c->subnet = n->subnet;
                c->prefix = n->prefix;
                c->gateway = n->gateway;
                c->nat = n->nat;
                c->mtu = n->mtu;
                c->v6 = n->v6;
                c->subnet6 = n->subnet6;
                c->gateway6 = n->gateway6;
                c->prefix6 = n->prefix6;
                m->networks_up[m->n_networks_up++] = c;
        }
}

/* Its definition is gone: stop it (never restarted: as if the operator
 * stopped it) and keep its directory, until `berthctl destroy` or until a
 * definition of that name returns (unit_set_spec). */
static void unit_orphan(struct unit *u)
{
        if (u->orphaned)
                return;
        u->orphaned = true;
        u->operator_stopped = true;
        u->restart_after_stop = false;
        emit(u->m, u->name, "orphaned", "definition gone; data kept (berthctl destroy deletes it)");
        unit_request_stop(u);
}

/* A container the plan leaves alone (PLAN_NONE: its three hashes equal),
 * declared at the same file and line, keeps the spec object its unit
 * points to: it moves from the old set into the new one, and the new copy
 * is freed. So a reload of one change among 1,000 writes into none of the
 * other units (after a fork each first write to a page is a fault) and
 * hashes none of them again. */
static void keep_unchanged_specs(struct manager *m, struct spec_set *old, const struct plan *p)
{
        bool moved = false;
        for (size_t i = 0; i < m->set.n_containers; i++)
                m->set.containers[i]->reload_kept = false;
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (a->network || a->kind != PLAN_NONE || a->desired == PLAN_NO_INDEX ||
                    a->desired >= m->set.n_containers)
                        continue;
                struct unit *u = unit_find(m, a->name);
                struct spec_container *c = m->set.containers[a->desired];
                if (!u || !u->spec || !u->known_spec || u->owned_spec || u->orphaned || !streq(u->spec->name, c->name) ||
                    u->spec->line != c->line || !streq_ptr(u->spec->file, c->file))
                        continue;
                size_t k = old->by_name && old->n_by_name == old->n_containers
                                   ? nameidx_find(old->by_name, old->n_by_name, u->spec->name)
                                   : NAMEIDX_NONE;
                if (k == NAMEIDX_NONE || old->containers[k] != u->spec)
                        for (k = 0; k < old->n_containers && old->containers[k] != u->spec; k++)
                                ;
                if (k >= old->n_containers)
                        continue;
                old->containers[k] = c; /* freed with the old set */
                m->set.containers[a->desired] = (struct spec_container *) u->spec;
                m->set.containers[a->desired]->reload_kept = true;
                moved = true;
        }
        /* The index borrows the names of the containers it was built on. */
        if (moved && spec_set_index(&m->set) < 0) {
                free(m->set.by_name);
                m->set.by_name = NULL;
                m->set.n_by_name = 0;
        }
}

/* Takes the new set and acts on the plan. The spec of a container whose
 * definition is gone stays alive in its unit (owned_spec) while it is
 * orphaned, for its stop settings. */
static bool reload_holds(struct manager *m, const char *name)
{
        for (size_t i = 0; m->reload_hold && i < json_object_array_length(m->reload_hold); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(m->reload_hold, i)), name))
                        return true;
        return false;
}

void apply_plan(struct manager *m, struct spec_set *next, const struct plan *p)
{
        /* Units whose definition disappears keep a private copy of nothing:
         * they only need their name and stop settings, taken from the old set
         * before it is freed. */
        crash_point(m, "reload-planned");
        struct spec_set old = m->set;
        m->set = *next;
        *next = (struct spec_set){ 0 };
        keep_unchanged_specs(m, &old, p);
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                const struct spec_container *c = spec_set_find_container(&m->set, u->name);
                if (c)
                        continue;
                /* Move the old spec into the unit so that stop settings survive. */
                for (size_t k = 0; k < old.n_containers; k++)
                        if (old.containers[k] && streq(old.containers[k]->name, u->name)) {
                                spec_container_free(u->owned_spec);
                                u->owned_spec = old.containers[k];
                                old.containers[k] = NULL;
                                u->spec = u->owned_spec;
                        }
        }
        networks_apply(m, p);
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (a->network)
                        continue;
                struct unit *u = unit_find(m, a->name);
                const struct spec_container *c = a->desired != PLAN_NO_INDEX ? m->set.containers[a->desired] : NULL;
                char line[1024];
                if (a->kind != PLAN_NONE)
                        emit(m, a->name, "plan", "%s", plan_action_format(a, line, sizeof line));
                switch (a->kind) {
                case PLAN_CREATE_START:
                case PLAN_CREATE:
                        if (!u)
                                u = unit_add(m, a->name);
                        if (!u)
                                break;
                        unit_set_spec(u, c);
                        if (a->kind == PLAN_CREATE_START && !reload_holds(m, a->name))
                                unit_request_start(u);
                        break;
                case PLAN_START:
                        if (u) {
                                unit_set_spec(u, c);
                                unit_request_start(u);
                        }
                        break;
                case PLAN_STOP_ORPHAN:
                case PLAN_ORPHAN:
                        if (u)
                                unit_orphan(u);
                        break;
                case PLAN_RESTART:
                        if (!u)
                                break;
                        unit_set_spec(u, c);
                        if (u->state == U_RUNNING || u->state == U_STARTING) {
                                u->restart_after_stop = true;
                                unit_request_stop(u);
                        } else
                                unit_request_start(u);
                        break;
                case PLAN_UPDATE_LIVE:
                        if (!u)
                                break;
                        if (u->state == U_RUNNING && c) {
                                struct error err = { 0 };
                                int r = runtime_update_limits(c, u->init_pid, &err);
                                if (r < 0) {
                                        /* The kernel kept the old limits: keep the old hash too, so
                                         * that the next reload tries again. */
                                        emit(m, u->name, "update-failed", "%s", error_message(&err));
                                        u->spec = c;
                                        break;
                                }
                                if (r > 0)
                                        emit(m, u->name, "update-partial", "%s", err.msg);
                        }
                        unit_set_spec(u, c);
                        break;
                case PLAN_NONE:
                        /* Kept by keep_unchanged_specs(): nothing to do. */
                        if (u && u->spec != c)
                                unit_set_spec(u, c);
                        break;
                case PLAN_UPDATE_SETTINGS:
                        if (u)
                                unit_set_spec(u, c);
                        break;
                default:
                        break;
                }
        }
        /* Every unit must point into the new set (or own its spec). */
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (u->owned_spec)
                        continue;
                const struct spec_container *c = spec_set_find_container(&m->set, u->name);
                /* An unchanged definition kept its spec and its health check as it runs. */
                if (u->spec == c && c && c->reload_kept)
                        continue;
                u->spec = c;
                health_follow_spec(u);
        }
        manager_order_changed(m); /* specs were swapped above without unit_set_spec */
        spec_set_done(&old);
        keep_networks(m);
        networks_collect(m);
        nat_sync(m);
        crash_point(m, "reload-applied");
        manager_templates_sync(m);
        manager_dispatch_soon(m);
}

int manager_reload(struct manager *m)
{
        char buf[64];
        snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) now_mono(m));
        (void) sd_notify(false, buf);
        struct spec_set next = { 0 };
        struct plan p = { 0 };
        json_object *errs = NULL;
        int r = make_plan(m, &next, &p, &errs);
        if (r < 0) {
                size_t n = errs ? json_object_array_length(errs) : 0;
                for (size_t i = 0; i < n; i++)
                        log_error("%s", json_object_get_string(json_object_array_get_idx(errs, i)));
                m->definition_errors = n;
                (void) sd_notifyf(false, "READY=1\nSTATUS=reload refused: %zu error%s in %s", n, n == 1 ? "" : "s",
                                  m->o.conf_dir);
                emit(m, NULL, "reload-refused", "%zu errors", n);
                json_object_put(errs);
                return r;
        }
        char why[1024];
        if (reload_needs_force(m, &p, why, sizeof why)) {
                log_error("reload refused: %s", why);
                (void) sd_notifyf(false, "READY=1\nSTATUS=reload refused: definitions of running containers gone");
                emit(m, NULL, "reload-refused", "%s", why);
                plan_done(&p);
                spec_set_done(&next);
                return -EBUSY;
        }
        apply_plan(m, &next, &p);
        m->definition_errors = 0;
        save_last_good(m);
        emit(m, NULL, "reloaded", "%zu change%s", plan_count_changes(&p), plan_count_changes(&p) == 1 ? "" : "s");
        plan_done(&p);
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        return 0;
}

/* ---- startup and re-adoption ----------------------------------------------------------------- */

/* A container left by a previous berthd: take it back if its monitor is
 * the same process (pid + start time + boot), else collect its exit. A
 * record that does not parse, or names processes that are gone while the
 * container's monitor still runs, is never a reason to kill or restart:
 * the monitor is found by its argv (state_find_monitor) and the container
 * re-adopted; its record is written again. */
void adopt(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = unit_dir(m, name);
        struct state_record rec, found;
        if (!dir)
                return;
        int q = state_read(dir, &rec);
        if ((q == -ENOENT || q == -ENOTDIR || q == -ELOOP) && !state_dir_locked(dir)) {
                /* No record and nothing holds it: a container that does not
                 * run. An exit file left by a cleanup a crash cut short is
                 * stale (its status is in the intent). */
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd >= 0)
                        (void) unlinkat(dfd, "exit", 0);
                return;
        }
        /* Held, with no record: a spawner of a berthd that died while it
         * built the container; it records the container before it becomes
         * its monitor. Wait for that (bounded: a start takes milliseconds),
         * rather than take the container for stopped and start it twice. */
        for (unsigned i = 0; q < 0 && i < 200 && state_dir_locked(dir) && state_find_monitor(dir, &found) < 0; i++) {
                (void) usleep(25 * 1000);
                q = state_read(dir, &rec);
        }
        const char *boot = m->boot_id;
        int pidfd = -1;
        bool alive = q >= 0 && streq(boot, rec.boot_id) &&
                     state_pidfd_verified(rec.monitor_pid, rec.monitor_start, &pidfd) == 0;
        bool refound = false;
        if (!alive && state_find_monitor(dir, &found) == 0 &&
            state_pidfd_verified(found.monitor_pid, found.monitor_start, &pidfd) == 0) {
                if (q < 0)
                        log_warning("container '%s': state record %s/state is unreadable (%s); its monitor runs "
                                    "(pid %d): re-adopted",
                                    name, dir, strerror(-q), (int) found.monitor_pid);
                else
                        log_warning("container '%s': state record %s/state names monitor %d, which is gone; "
                                    "its monitor runs as pid %d: re-adopted",
                                    name, dir, (int) rec.monitor_pid, (int) found.monitor_pid);
                if (q >= 0) { /* keep what the record knows beyond the pids */
                        memcpy(found.restart_hash, rec.restart_hash, SPEC_HASH_LEN);
                        memcpy(found.live_hash, rec.live_hash, SPEC_HASH_LEN);
                        memcpy(found.supervise_hash, rec.supervise_hash, SPEC_HASH_LEN);
                        memcpy(found.address, rec.address, sizeof found.address);
                        found.restarts = rec.restarts;
                        found.started_realtime_usec = rec.started_realtime_usec;
                }
                rec = found;
                alive = refound = true;
        } else if (q < 0) {
                /* Nothing of it runs: whatever the record said is over. */
                log_warning("container '%s': state record %s/state is unreadable (%s) and no monitor of it "
                            "runs: treated as stopped",
                            name, dir, strerror(-q));
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd >= 0)
                        (void) unlinkat(dfd, "state", 0);
                return;
        }
        struct unit *u = unit_find(m, name);
        bool declared = u && u->spec;
        if (!u && !(u = unit_add(m, name))) {
                if (pidfd >= 0)
                        close(pidfd);
                return;
        }
        u->monitor_pid = rec.monitor_pid;
        u->monitor_start = rec.monitor_start;
        u->init_pid = rec.init_pid;
        u->init_start = rec.init_start;
        u->restarts = rec.restarts;
        u->started_realtime = rec.started_realtime_usec;
        if (refound && !rec.restart_hash[0] && u->spec) {
                /* What it runs is not known: assume the definition in force
                 * rather than restart a healthy container on a guess. */
                spec_container_hash_restart(u->spec, rec.restart_hash);
                spec_container_hash_live(u->spec, rec.live_hash);
                spec_container_hash_supervise(u->spec, rec.supervise_hash);
        }
        if (refound && !rec.address[0] && u->spec) {
                char a[INET_ADDRSTRLEN];
                if (runtime_recorded_address(m->o.state_dir, u->spec, a) == 0)
                        snprintf(rec.address, sizeof rec.address, "%s", a);
        }
        snprintf(u->address, sizeof u->address, "%s", rec.address);
        memcpy(u->rh, rec.restart_hash, SPEC_HASH_LEN);
        memcpy(u->lh, rec.live_hash, SPEC_HASH_LEN);
        memcpy(u->sh, rec.supervise_hash, SPEC_HASH_LEN);
        u->known_spec = false; /* hashes only: the spec it runs with is unknown */
        if (!alive) {
                /* It ended while no berthd watched: its exit is on disk. A
                 * stop that was under way is finished by it. */
                u->state = u->phase == STATE_PHASE_STOPPING ? U_STOPPING : U_RUNNING;
                emit(m, name, "adopted", "had exited while berthd was down");
                monitor_gone(u);
                return;
        }
        if (refound) {
                if (!rec.started_realtime_usec)
                        rec.started_realtime_usec = u->started_realtime = now_realtime();
                if (state_write(dir, &rec, true) < 0)
                        log_warning("container '%s': cannot write its state record again", name);
        }
        u->monitor_pidfd = pidfd;
        if (state_pidfd_verified(rec.init_pid, rec.init_start, &u->init_pidfd) < 0) {
                /* The record's init is not the monitor's child (an edited or
                 * damaged record): the monitor says which is. */
                u->init_pidfd = -1;
                if (unit_refind_init(u) >= 0) {
                        rec.init_pid = u->init_pid;
                        rec.init_start = u->init_start;
                        log_warning("container '%s': state record %s/state names an init that is not its "
                                    "monitor's child: corrected",
                                    name, dir);
                        if (state_write(dir, &rec, true) < 0)
                                log_warning("container '%s': cannot write its state record again", name);
                }
        }
        u->state = U_RUNNING;
        u->started_mono = now_mono(m);
        u->launched_mono = u->started_mono;
        if (sd_event_add_io(m->event, &u->monitor_src, pidfd, EPOLLIN, on_monitor_pidfd, u) < 0)
                log_error("%s: cannot watch its monitor", name);
        health_begin(u);
        emit(m, name, "adopted", "pid %d%s%s", (int) rec.init_pid, declared ? "" : " (no longer declared)",
             refound ? " (state record did not match: monitor found by its command line)" : "");
        /* Still registered if berthd died, gone if machined restarted: asked again. */
        unit_machine_register(u);
}

/* What a previous berthd meant to do with NAME (its intent record, state.h),
 * into its unit, before its container is re-adopted. Phase, back-off, failure
 * and restart budget belong to one boot; an operator's stop outlives a
 * reboot only for restart = "unless-stopped". */
static void intent_load(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = unit_dir(m, name);
        struct state_intent in;
        if (!dir)
                return;
        int q = state_read_intent(dir, &in);
        if (q == -ENOENT || q == -ENOTDIR)
                return;
        if (q < 0) {
                log_warning("container '%s': intent record %s/intent is unreadable (%s): ignored; what runs and the "
                            "definitions decide",
                            name, dir, strerror(-q));
                return;
        }
        struct unit *u = unit_find(m, name);
        if (!u && !(u = unit_add(m, name)))
                return;
        char boot[40] = "";
        (void) state_boot_id(boot);
        bool same_boot = streq(boot, in.boot_id);
        bool unless = u->spec && u->spec->restart == RESTART_UNLESS_STOPPED;
        u->restarts = in.restarts;
        u->last_status = in.last_status;
        snprintf(u->last_error, sizeof u->last_error, "%s", in.last_error);
        u->operator_stopped = in.operator_stopped && (same_boot || unless);
        if (!same_boot)
                return;
        u->phase = in.phase;
        u->restart_after_stop = in.restart_after_stop;
        u->consecutive = in.consecutive;
        u->n_restart_times = in.n_restart_times < RESTARTS_KEPT ? in.n_restart_times : RESTARTS_KEPT;
        for (size_t i = 0; i < u->n_restart_times; i++)
                u->restart_times[i] = in.restart_times[in.n_restart_times - u->n_restart_times + i];
        u->backoff_until_rt = in.backoff_until_usec;
}

/* A declared container that does not run: what its intent says, else
 * autostart. */
static void intent_resume(struct unit *u)
{
        struct manager *m = u->m;
        char d[32];
        switch (u->phase) {
        case STATE_PHASE_ENDED:
                /* Its exit was seen, its records removed, its policy not applied. */
                emit(m, u->name, "adopted", "had exited (status %d, from its intent record)", u->last_status);
                u->state = U_RUNNING;
                unit_exit_seen(u, u->last_status);
                return;
        case STATE_PHASE_BACKOFF: {
                uint64_t now = now_realtime();
                usec_t delay = u->backoff_until_rt > now ? u->backoff_until_rt - now : 0;
                u->state = U_BACKOFF;
                emit(m, u->name, "restarting", "in %s (the back-off a previous berthd began)",
                     format_duration(delay, d, sizeof d));
                set_timer(u, delay, on_pending_timer);
                return;
        }
        case STATE_PHASE_FAILED:
                u->state = U_FAILED;
                emit(m, u->name, "failed", "%s (before berthd restarted)", u->last_error[0] ? u->last_error : "failed");
                return;
        case STATE_PHASE_EXITED:
                return; /* its restart policy left it stopped */
        default:
                break;
        }
        if (u->operator_stopped)
                return;
        if (u->phase == STATE_PHASE_STARTING || u->phase == STATE_PHASE_RUNNING || u->restart_after_stop ||
            u->spec->autostart) {
                u->restart_after_stop = false;
                unit_request_start(u);
        }
}

/* Whether the container in NAME's directory runs (its record's monitor,
 * or one found by its command line): what a start must not stop by
 * accident. */
static bool container_runs(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = unit_dir(m, name);
        struct state_record rec;
        const char *boot = m->boot_id;
        int fd = -1;
        if (!dir)
                return false;
        int q = state_read(dir, &rec);
        if ((q == -ENOENT || q == -ENOTDIR || q == -ELOOP) && !state_dir_locked(dir))
                return false; /* as adopt() sees it (and no /proc scan per stopped container) */
        if (q >= 0 && streq(rec.boot_id, boot) && state_pidfd_verified(rec.monitor_pid, rec.monitor_start, &fd) >= 0) {
                close(fd);
                return true;
        }
        return state_find_monitor(dir, &rec) >= 0;
}

/* A start whose definitions would stop most of what runs (an empty
 * definition directory: its file system not mounted yet) runs the last
 * valid definitions instead, as a reload would refuse without --force. */
static void startup_guard_vanished(struct manager *m)
{
        size_t running = 0, gone = 0;
        DIR *dp = opendir(m->containers_dir);
        if (!dp)
                return;
        struct dirent *de;
        while ((de = readdir(dp)))
                if (name_is_valid(de->d_name) && container_runs(m, de->d_name)) {
                        running++;
                        if (!spec_set_find_container(&m->set, de->d_name))
                                gone++;
                }
        closedir(dp);
        if (!plan_vanish_needs_force(gone, running))
                return;
        _cleanup_free_ char *good = state_definitions_dir(m->o.state_dir);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = good && access(good, F_OK) == 0 ? config_load_dir(good, &set, &d) : -ENOENT;
        diag_done(&d);
        if (r < 0) {
                spec_set_done(&set);
                log_warning("the definitions of %zu of the %zu running containers are gone from %s, and there is "
                            "no last valid copy: they are stopped (their data is kept)",
                            gone, running, m->o.conf_dir);
                return;
        }
        spec_set_done(&m->set);
        m->set = set;
        m->on_last_good = true;
        m->vanished = gone;
        log_error("the definitions of %zu of the %zu running containers are gone from %s (a file system not "
                  "mounted?): running the last valid ones (%s); berthctl reload --force applies the directory",
                  gone, running, m->o.conf_dir, good);
        emit(m, NULL, "definitions-vanished", "%zu of %zu running containers: running the last valid definitions",
             gone, running);
}

int manager_startup(struct manager *m)
{
        /* On cgroup v2 berthd's own cgroup must hold no process for its
         * containers to get controllers (Delegate=yes gives it to us). */
        struct cgroup_manager *cgm = NULL;
        if (cgroup_open_manager(&cgm) >= 0) {
                if (*cgroup_manager_missing(cgm))
                        log_warning("cgroup controllers missing on this host: %s; their limits are not enforced",
                                    cgroup_manager_missing(cgm));
                /* With systemd scopes our own cgroup stays a plain leaf, so that
                 * systemd can put a restarted berthd back into it. */
                int q = m->o.scope_slice ? 0 : cgroup_manager_claim(cgm);
                if (q < 0)
                        log_warning("cannot take over cgroup %s: %s; containers may get no limits",
                                    cgroup_manager_base(cgm), strerror(-q));
                cgroup_manager_free(cgm);
        }
        struct diag d = { 0 };
        int r = manager_load_conf(m, &m->set, &d);
        if (r < 0) {
                char buf[2048];
                for (size_t i = 0; i < d.n; i++)
                        log_error("%s", diag_format(&d.entries[i], buf, sizeof buf));
                m->definition_errors = d.n + d.dropped;
                diag_done(&d);
                spec_set_done(&m->set);
                /* Whatever runs stays supervised: with the set last applied. */
                _cleanup_free_ char *good = state_definitions_dir(m->o.state_dir);
                struct diag gd = { 0 };
                if (!good || access(good, F_OK) < 0 || config_load_dir(good, &m->set, &gd) < 0) {
                        diag_done(&gd);
                        spec_set_done(&m->set);
                        (void) sd_notifyf(false, "STATUS=invalid definitions: %zu errors in %s", m->definition_errors,
                                          m->o.conf_dir);
                        log_error("no last valid set of definitions to run with (%s): giving up", good ? good : "?");
                        return -EINVAL;
                }
                diag_done(&gd);
                m->on_last_good = true;
                log_error("%zu error%s in the definitions in %s: running the last valid ones (%s) until a reload "
                          "finds them fixed",
                          m->definition_errors, m->definition_errors == 1 ? "" : "s", m->o.conf_dir, good);
                emit(m, NULL, "definitions-invalid", "%zu error%s in %s: running the last valid definitions",
                     m->definition_errors, m->definition_errors == 1 ? "" : "s", m->o.conf_dir);
        } else {
                diag_done(&d);
                startup_guard_vanished(m);
        }
        for (size_t i = 0; i < m->set.n_containers; i++) {
                struct unit *u = unit_add(m, m->set.containers[i]->name);
                if (!u)
                        return -ENOMEM;
                unit_set_spec(u, m->set.containers[i]);
        }
        /* Re-adopt what a previous berthd left running. */
        DIR *dp = opendir(m->containers_dir);
        if (dp) {
                struct dirent *de;
                while ((de = readdir(dp))) {
                        if (!name_is_valid(de->d_name))
                                continue;
                        intent_load(m, de->d_name);
                        adopt(m, de->d_name);
                        struct stat st;
                        if (unit_find(m, de->d_name) || fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                continue;
                        /* Data of a container no file declares: kept, listed as orphaned. */
                        struct unit *u = unit_add(m, de->d_name);
                        if (u)
                                unit_orphan(u);
                }
                closedir(dp);
        }
        /* The own hosts files of containers on several networks, as their
         * networks' files are now (a berthd killed between the two). */
        hostsfile_resync(m->o.state_dir);
        crash_point(m, "adopted");
        /* Adopted containers run with the hashes on disk: a reload-style plan
         * decides what to do with them; then start what autostarts. */
        for (size_t i = 0; i < m->set.n_networks; i++) {
                int q = net_bridge_ensure(m->set.networks[i], m->net_owner);
                if (q < 0)
                        emit(m, m->set.networks[i]->name, "network-failed", "%s",
                             q == -EEXIST ? "bridge exists and was not created by berth" : strerror(-q));
        }
        keep_networks(m);
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (!u->spec) { /* adopted, but no file declares it any more */
                        unit_orphan(u);
                        continue;
                }
                char rh[SPEC_HASH_LEN];
                spec_container_hash_restart(u->spec, rh);
                if (u->state == U_RUNNING && (u->phase == STATE_PHASE_STOPPING || u->operator_stopped)) {
                        /* A stop a previous berthd was asked for: finished, not undone. */
                        emit(m, u->name, "stop", "finishing the stop asked of the previous berthd");
                        unit_set_spec(u, u->spec);
                        unit_request_stop(u);
                } else if (u->state == U_RUNNING && !streq(rh, u->rh)) {
                        emit(m, u->name, "plan", "restart: definition changed while berthd was down");
                        unit_set_spec(u, u->spec);
                        u->restart_after_stop = true;
                        unit_request_stop(u);
                } else if (u->state == U_RUNNING) {
                        /* Limits are reconciled with what runs, never with the
                         * record's hash: the file may have changed while no
                         * berthd watched, or a reload died before it applied
                         * them. The writes are idempotent. */
                        char lh[SPEC_HASH_LEN];
                        struct error err = { 0 };
                        spec_container_hash_live(u->spec, lh);
                        int q = u->init_pid > 0 ? runtime_update_limits(u->spec, u->init_pid, &err) : 0;
                        if (q < 0)
                                emit(m, u->name, "update-failed", "limits: %s", error_message(&err));
                        else if (!streq(lh, u->lh))
                                emit(m, u->name, "update", "limits applied: the definition changed while berthd was down");
                        unit_set_spec(u, u->spec);
                } else if (u->state == U_STOPPED)
                        intent_resume(u);
        }
        manager_stateful_recover(m);
        if (!m->on_last_good)
                save_last_good(m);
        nat_sync(m);
        manager_templates_sync(m);
        manager_dispatch_soon(m);
        return 0;
}

void manager_shutdown(struct manager *m)
{
        if (m->shutting_down)
                return;
        m->shutting_down = true;
        (void) sd_notify(false, "STOPPING=1");
        emit(m, NULL, "stopping", "all containers, in reverse order");
        for (size_t i = 0; i < m->n_units; i++)
                unit_request_stop(m->units[i]);
        manager_dispatch_soon(m);
}
