/* Health checks of running units: probes run as confined exec sessions
 * (lib/exec.h) driven by the event loop with their own timeout, never
 * overlapping; verdicts come from lib/health.h's pure health_record. */

#include "supervise_internal.h"
#include "runtime_files.h"

static void health_schedule(struct unit *u, usec_t delay);

static void probe_done(struct unit *u)
{
        struct manager *m = u->m;
        struct health_result r;
        if (health_probe_result(u->probe, &r) < 0)
                return;
        health_stop(u);
        if (u->state != U_RUNNING || !u->spec)
                return;
        const struct spec_health *h = unit_health(u);
        health_status_t before = u->health.status;
        usec_t since = u->started_mono ? now_mono(m) - u->started_mono : 0;
        health_transition_t t = health_record(&u->health, h, since, &r);
        if (t != HEALTH_TRANSITION_NONE) {
                if (r.ok)
                        emit(m, u->name, "health", "%s → %s", health_status_to_string(before),
                             health_status_to_string(u->health.status));
                else if (r.output[0])
                        emit(m, u->name, "health", "%s → %s: %s", health_status_to_string(before),
                             health_status_to_string(u->health.status), r.output);
                else
                        emit(m, u->name, "health", "%s → %s: exit status %d", health_status_to_string(before),
                             health_status_to_string(u->health.status), r.exit_status);
                notify_status(m);
        }
        if (t == HEALTH_TRANSITION_UNHEALTHY && h->on_failure != HEALTH_ACTION_NONE) {
                /* restart: through the restart policy's back-off and limits;
                 * stop: stopped and marked failed. */
                u->health_failed_stop = true;
                emit(m, u->name, "health-action", "%s", health_action_to_string(h->on_failure));
                stop_requirers(m, u, "is unhealthy");
                /* Not an orderly stop: dependants that only come "after" do
                 * not hold it up. */
                unit_stop_now(u);
                manager_dispatch_soon(m);
                return;
        }
        if (t == HEALTH_TRANSITION_HEALTHY)
                manager_dispatch_soon(m); /* dependants may wait for this */
        health_schedule(u, h->interval);
}

static int on_probe_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) fd;
        struct unit *u = userdata;
        if (health_probe_handle(u->probe, revents) > 0)
                probe_done(u);
        return 0;
}

static int on_probe_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        health_probe_kill(u->probe); /* the whole tree; the result is "timed out" */
        probe_done(u);
        return 0;
}

static int on_reaped(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void) si;
        (void) userdata;
        pid_t pid = 0;
        if (sd_event_source_get_child_pid(s, &pid) >= 0 && pid > 0)
                (void) waitpid(pid, NULL, WNOHANG);
        /* Freed, not left disabled: a source left behind keeps its pid in
         * sd-event's table of children, so that a later child given the
         * same pid (pid_max 32768 recycles within minutes) could not be
         * watched (sd_event_add_child: -EBUSY), stayed a zombie and held
         * its container's PID namespace, and so its stop, for ever.
         * Taking the loop's reference back drops the last one: sd-event
         * frees the source once this callback returns. */
        (void) sd_event_source_set_floating(s, false);
        return 0;
}

/* A child of ours to be reaped once it exits (a probe's leader, killed). */
static void reap_later(void *userdata, pid_t pid)
{
        struct manager *m = userdata;
        int r = sd_event_add_child(m->event, NULL, pid, WEXITED, on_reaped, NULL);
        if (r < 0) {
                log_warning_errno(r, "cannot watch process %d to reap it: %m", (int) pid);
                (void) waitpid(pid, NULL, WNOHANG);
        }
}

static int on_spawner_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) fd;
        (void) revents;
        struct manager *m = userdata;
        exec_spawner_handle(m->spawner);
        if (exec_spawner_dead(m->spawner))
                m->spawner_src = sd_event_source_disable_unref(m->spawner_src);
        return 0;
}

void manager_spawner_free(struct manager *m)
{
        m->spawner_src = sd_event_source_disable_unref(m->spawner_src);
        m->spawner = exec_spawner_free(m->spawner);
}

struct exec_spawner *manager_spawner(struct manager *m)
{
        if (m->spawner && !exec_spawner_dead(m->spawner))
                return m->spawner;
        if (m->spawner)
                log_warning("the probe spawner %s: starting another", "is gone");
        manager_spawner_free(m);
        int r = exec_spawner_new(m->o.init_exe_fd, m->o.state_dir, &m->spawner);
        if (r < 0) {
                log_warning_errno(r, "cannot start the probe spawner: %m; probes are set up by berthd itself");
                return NULL;
        }
        r = sd_event_add_io(m->event, &m->spawner_src, exec_spawner_fd(m->spawner), EPOLLIN, on_spawner_io, m);
        if (r < 0) {
                log_warning_errno(r, "cannot watch the probe spawner: %m; probes are set up by berthd itself");
                manager_spawner_free(m);
                return NULL;
        }
        return m->spawner;
}

/* A frozen container's probes are suspended (berthctl freeze): they could
 * not run, and a verdict on a container that is paused on purpose would
 * be a lie. */
struct cgroup_manager *unit_cgroup_manager(struct unit *u)
{
        struct manager *m = u->m;
        if (u->init_pid <= 0)
                return NULL;
        /* The cgroup base B of a running init does not change: its
         * /proc/PID/cgroup is read once per init, and again only when the
         * cached manager was replaced for another container's B. */
        if (!m->cgroup_cache || u->cg_checked_pid != u->init_pid || u->cg_checked_start != u->init_start ||
            u->cg_checked_gen != m->cgroup_cache_gen) {
                int r = cgroup_manager_of_cached(u->init_pid, u->name, &m->cgroup_cache);
                if (r < 0)
                        return NULL;
                if (r > 0)
                        m->cgroup_cache_gen++;
                u->cg_checked_pid = u->init_pid;
                u->cg_checked_start = u->init_start;
                u->cg_checked_gen = m->cgroup_cache_gen;
        }
        return m->cgroup_cache;
}

bool unit_frozen(struct unit *u)
{
        /* ls asks this of every running container: one short read of the
         * freezer's file through a kept directory fd (cgroup.h). */
        struct cgroup_manager *cm = unit_cgroup_manager(u);
        return cm && cgroup_name_is_frozen(cm, u->name) > 0;
}

static void health_probe_now(struct unit *u)
{
        struct manager *m = u->m;
        if (unit_frozen(u)) {
                health_schedule(u, unit_health(u)->interval);
                return;
        }
        struct health_target t = { .exec = { .name = u->name,
                                             .init_pid = u->init_pid,
                                             .init_start = u->init_start,
                                             .spec = u->spec,
                                             .state_dir = m->o.state_dir,
                                             .init_exe = &m->o.init_exe_fd,
                                             .reap_later = reap_later,
                                             .reap_userdata = m,
                                             .spawner = manager_spawner(m) },
                                    .cgroup_cache = &m->cgroup_cache,
                                    .cgroup_cache_gen = &m->cgroup_cache_gen };
        if (u->address[0])
                (void) inet_pton(AF_INET, u->address, &t.address);
        if (health_probe_start(&t, unit_health(u), &u->probe) < 0) {
                health_schedule(u, unit_health(u)->interval);
                return;
        }
        struct health_result r;
        if (health_probe_result(u->probe, &r) == 0) { /* failed before it began */
                probe_done(u);
                return;
        }
        if (sd_event_add_io(m->event, &u->probe_src, health_probe_fd(u->probe), EPOLLIN, on_probe_io, u) < 0 ||
            sd_event_add_time_relative(m->event, &u->probe_timeout, CLOCK_MONOTONIC, unit_health(u)->timeout, 1000,
                                       on_probe_timeout, u) < 0) {
                health_stop(u);
                health_schedule(u, unit_health(u)->interval);
        }
}

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        if (u->state == U_RUNNING && u->spec && unit_health(u)->enabled && !u->probe)
                health_probe_now(u);
        return 0;
}

static void health_schedule(struct unit *u, usec_t delay)
{
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        if (sd_event_add_time_relative(u->m->event, &u->health_timer, CLOCK_MONOTONIC, delay, 10 * 1000,
                                       on_health_timer, u) < 0)
                log_error("%s: cannot schedule its health check", u->name);
}

const struct spec_health *unit_health(const struct unit *u)
{
        static const struct spec_health none = { 0 };
        if (!u->spec)
                return &none;
        if (!u->spec->health.enabled && u->image_health.enabled)
                return &u->image_health;
        return &u->spec->health;
}

void unit_image_health_load(struct unit *u)
{
        strv_free(u->image_health.command);
        u->image_health = (struct spec_health){ 0 };
        if (u->spec)
                (void) runtime_image_health(u->m->o.state_dir, u->spec, &u->image_health);
}

/* A (re)started container's health starts over, never carrying a stale
 * verdict into its dependants' gates. The first probe comes soon: within
 * a second, or the interval if shorter. */
void health_begin(struct unit *u)
{
        health_stop(u);
        health_state_reset(&u->health);
        u->health_failed_stop = false;
        unit_image_health_load(u);
        if (u->spec && unit_health(u)->enabled)
                health_schedule(u, unit_health(u)->interval < SPEC_USEC_PER_SEC ? unit_health(u)->interval
                                                                                 : SPEC_USEC_PER_SEC);
}

/* After a reload changed a running container's settings: a health check
 * added is started, one removed is dropped with its verdict. A changed
 * check keeps its verdict; its new settings apply from the next probe. */
void health_follow_spec(struct unit *u)
{
        if (u->state != U_RUNNING)
                return;
        unit_image_health_load(u);
        bool want = u->spec && unit_health(u)->enabled;
        bool active = u->probe || u->health_timer;
        if (want && !active)
                health_begin(u);
        else if (!want && (active || u->health.n_results)) {
                health_stop(u);
                health_state_reset(&u->health);
        }
}
