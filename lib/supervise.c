#include "supervise.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "cgroup.h"
#include "config.h"
#include "control.h"
#include "health.h"
#include "log.h"
#include "nat.h"
#include "net.h"
#include "order.h"
#include "parse.h"
#include "plan.h"
#include "runtime.h"
#include "scope.h"
#include "state.h"
#include "util.h"

#define EVENTS_KEPT 256
#define TAG_EVENTS 1
#define TAG_WAIT 2
#define TAG_RELOAD 3
#define RESTARTS_KEPT 64

enum unit_state {
        U_STOPPED,
        U_STARTING,
        U_RUNNING,
        U_STOPPING,
        U_BACKOFF,
        U_FAILED,
};

static const char *const unit_state_names[] = { "stopped", "starting", "running", "stopping", "backoff", "failed" };

struct unit {
        struct manager *m;
        char *name;
        const struct spec_container *spec; /* in m->set; NULL: adopted, not declared */
        enum unit_state state;
        bool known_spec;          /* hashes below are of spec (not only from disk) */
        char rh[SPEC_HASH_LEN], lh[SPEC_HASH_LEN], sh[SPEC_HASH_LEN];
        bool operator_stopped;    /* a stop by the operator: never restarted, never a failure */
        bool orphaned;            /* its definition is gone: stopped, data kept until destroy */
        bool pending_start;       /* waiting for dependencies / start-delay */
        bool pending_stop;        /* waiting for dependants to stop first */
        bool restart_after_stop;
        usec_t pending_since;
        usec_t delay_until;       /* pending: 0 until its turn comes, then when start-delay ends */
        usec_t launched_mono;     /* when the last start began (start-timeout counts from it) */
        bool timeout_reported;    /* its start-timeout passed and was reported */

        pid_t monitor_pid;
        uint64_t monitor_start;
        int monitor_pidfd;
        sd_event_source *monitor_src;
        int status_fd;
        sd_event_source *status_src;
        char status_buf[600];
        size_t status_len;

        pid_t init_pid;
        uint64_t init_start;
        int init_pidfd;
        bool exit_oom; /* the monitor saw the OOM killer in the container's cgroup */
        char address[16];
        usec_t started_mono;
        uint64_t started_realtime;

        uint32_t restarts;            /* total, for ls */
        uint32_t consecutive;         /* for the back-off */
        usec_t restart_times[RESTARTS_KEPT];
        size_t n_restart_times;
        sd_event_source *timer;       /* back-off, start delay, stop timeout, start timeout */
        int last_status;              /* -1 none */
        char last_error[512];
        char waiting_for[64];     /* a pending start held by this container (order.c's blocker) */
        struct spec_container *owned_spec; /* a spec kept alive for a removed definition */

        /* Health: probes never overlap; a restart starts the verdict over. */
        struct health_state health;
        struct health_probe *probe;
        sd_event_source *probe_src, *probe_timeout, *health_timer;
        bool health_failed_stop;      /* stopped for health: counts as a failure */
};

struct event_rec {
        uint64_t realtime_usec;
        char *name;
        char *event;
        char *detail;
};

struct manager {
        sd_event *event;
        struct manager_options o;
        char *containers_dir;
        struct spec_set set;
        struct spec_network **networks_up; /* bridges we manage, as last applied */
        char net_owner[NET_OWNER_MAX];     /* marks our bridges (from the state directory) */
        size_t n_networks_up;
        struct unit **units;
        size_t n_units;
        struct control_server *control;
        bool shutting_down, ready;
        struct event_rec events[EVENTS_KEPT];
        size_t n_events, events_head;
        uint64_t events_seq;
        char nat_table[32]; /* "berth", or per run dir for a private instance */
        size_t definition_errors; /* in the directory's files, last time they were read */
        bool on_last_good;        /* running the last valid set (STATE/last-good), not the files */
        size_t vanished;          /* ... because the definitions of this many running containers vanished */
};

static void dispatch(struct manager *m);
static void health_begin(struct unit *u);
static void unit_start_now(struct unit *u);
static void unit_exited(struct unit *u, int status, const char *why);

/* ---- events ------------------------------------------------------------------ */

static uint64_t now_realtime(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static usec_t now_mono(struct manager *m)
{
        uint64_t t = 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

static json_object *event_json(const struct event_rec *e)
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

static void emit(struct manager *m, const char *name, const char *event, const char *fmt, ...) _printf_(4, 5);
static void emit(struct manager *m, const char *name, const char *event, const char *fmt, ...)
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
        log_info("%s%s%s%s%s", name ? name : "", name ? ": " : "", event, detail[0] ? ": " : "", detail);
        if (m->control)
                control_server_foreach(m->control, TAG_EVENTS, send_event, e);
}

/* ---- bookkeeping -------------------------------------------------------------- */

static struct unit *unit_find(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n_units; i++)
                if (streq(m->units[i]->name, name))
                        return m->units[i];
        return NULL;
}

static struct unit *unit_add(struct manager *m, const char *name)
{
        struct unit **nu = realloc(m->units, (m->n_units + 1) * sizeof *nu);
        if (!nu)
                return NULL;
        m->units = nu;
        struct unit *u = calloc(1, sizeof *u);
        if (!u || !(u->name = strdup(name))) {
                free(u);
                return NULL;
        }
        u->m = m;
        u->monitor_pidfd = u->init_pidfd = u->status_fd = -1;
        u->last_status = -1;
        m->units[m->n_units++] = u;
        return u;
}

static void health_stop(struct unit *u)
{
        u->probe_src = sd_event_source_disable_unref(u->probe_src);
        u->probe_timeout = sd_event_source_disable_unref(u->probe_timeout);
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        u->probe = health_probe_free(u->probe);
}

static void unit_free(struct unit *u)
{
        health_stop(u);
        sd_event_source_disable_unref(u->monitor_src);
        sd_event_source_disable_unref(u->status_src);
        sd_event_source_disable_unref(u->timer);
        if (u->monitor_pidfd >= 0)
                close(u->monitor_pidfd);
        if (u->init_pidfd >= 0)
                close(u->init_pidfd);
        if (u->status_fd >= 0)
                close(u->status_fd);
        spec_container_free(u->owned_spec);
        free(u->name);
        free(u);
}

static void unit_forget(struct manager *m, struct unit *u)
{
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i] == u) {
                        memmove(&m->units[i], &m->units[i + 1], (m->n_units - i - 1) * sizeof *m->units);
                        m->n_units--;
                        break;
                }
        unit_free(u);
}

static char *unit_dir(struct manager *m, const char *name)
{
        return strdup_printf("%s/%s", m->containers_dir, name);
}

static void unit_set_spec(struct unit *u, const struct spec_container *c)
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
        u->spec = c;
        if (c) {
                spec_container_hash_restart(c, u->rh);
                spec_container_hash_live(c, u->lh);
                spec_container_hash_supervise(c, u->sh);
                u->known_spec = true;
        }
}

static void set_timer(struct unit *u, usec_t delay, sd_event_time_handler_t cb)
{
        u->timer = sd_event_source_disable_unref(u->timer);
        if (sd_event_add_time_relative(u->m->event, &u->timer, CLOCK_MONOTONIC, delay, 10 * 1000, cb, u) < 0)
                log_error("%s: cannot arm a timer", u->name);
}

static void notify_status(struct manager *m)
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

static void nat_sync(struct manager *m)
{
        size_t nn = 0;
        bool any = false;
        for (size_t i = 0; i < m->set.n_networks; i++)
                any |= m->set.networks[i]->nat;
        _cleanup_free_ struct nat_target *t = calloc(m->n_units + 1, sizeof *t);
        if (!t)
                return;
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                struct in_addr a;
                if (u->state != U_RUNNING || !u->spec || u->spec->n_publish == 0 || !u->address[0] ||
                    inet_pton(AF_INET, u->address, &a) != 1)
                        continue;
                t[nn++] = (struct nat_target){ .name = u->name, .address = a, .publish = u->spec->publish,
                                               .n_publish = u->spec->n_publish };
                any = true;
        }
        _cleanup_free_ char *err = NULL;
        int r = any ? nat_apply(m->nat_table, m->set.networks, m->set.n_networks, t, nn, &err)
                    : nat_remove(m->nat_table, &err);
        if (r < 0)
                log_error("nftables: %s", err ? err : strerror(-r));
}

/* ---- starting --------------------------------------------------------------------- */

static int on_status(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) revents;
        struct unit *u = userdata;
        ssize_t k = read(fd, u->status_buf + u->status_len, sizeof u->status_buf - 1 - u->status_len);
        if (k > 0) {
                u->status_len += (size_t) k;
                u->status_buf[u->status_len] = 0;
                char *nl = strchr(u->status_buf, '\n');
                if (!nl)
                        return 0;
                *nl = 0;
                if (u->status_buf[0] == 'S') {
                        unsigned long long start = 0;
                        int pid = 0;
                        char addr[16] = "";
                        if (sscanf(u->status_buf, "S %d %llu %15s", &pid, &start, addr) >= 2) {
                                u->init_pid = pid;
                                u->init_start = start;
                                snprintf(u->address, sizeof u->address, "%s", streq(addr, "-") ? "" : addr);
                                int pr = state_pidfd_verified(pid, start, &u->init_pidfd);
                                if (pr < 0) {
                                        u->init_pidfd = -1;
                                        log_warning("%s: no pidfd for its init yet (%s); retried when it is signalled",
                                                    u->name, strerror(-pr));
                                }
                                u->state = U_RUNNING;
                                u->started_mono = now_mono(u->m);
                                u->started_realtime = now_realtime();
                                u->last_error[0] = 0;
                                struct state_record rec = { .monitor_pid = u->monitor_pid,
                                                            .monitor_start = u->monitor_start,
                                                            .init_pid = pid,
                                                            .init_start = start,
                                                            .started_realtime_usec = u->started_realtime,
                                                            .restarts = u->restarts };
                                (void) state_boot_id(rec.boot_id);
                                memcpy(rec.restart_hash, u->rh, SPEC_HASH_LEN);
                                memcpy(rec.live_hash, u->lh, SPEC_HASH_LEN);
                                memcpy(rec.supervise_hash, u->sh, SPEC_HASH_LEN);
                                snprintf(rec.address, sizeof rec.address, "%s", u->address);
                                _cleanup_free_ char *dir = unit_dir(u->m, u->name);
                                if (dir && state_write(dir, &rec, true) < 0)
                                        log_warning("%s: cannot record its state; a restarted berthd will not re-adopt it",
                                                    u->name);
                                u->timer = sd_event_source_disable_unref(u->timer);
                                health_begin(u);
                                emit(u->m, u->name, "started", "pid %d%s%s", pid, u->address[0] ? " address " : "",
                                     u->address);
                                if (u->spec && u->spec->n_publish)
                                        nat_sync(u->m);
                        }
                } else if (u->status_buf[0] == 'E') {
                        int code = 125;
                        char *text = u->status_buf + 1;
                        if (sscanf(text, " %d", &code) == 1) {
                                text = strchr(text + 1, ' ');
                                text = text ? text + 1 : "";
                        }
                        snprintf(u->last_error, sizeof u->last_error, "%s", text);
                }
        }
        u->status_src = sd_event_source_disable_unref(u->status_src);
        close(u->status_fd);
        u->status_fd = -1;
        dispatch(u->m);
        return 0;
}

static void monitor_gone(struct unit *u)
{
        int status = -1;
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        uint64_t oom = 0;
        if (dir && state_read_exit(dir, &status, NULL, &oom) < 0)
                status = -1;
        u->exit_oom = oom > 0;
        if (dir) {
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd >= 0) {
                        (void) unlinkat(dfd, "exit", 0);
                        (void) unlinkat(dfd, "state", 0);
                }
        }
        u->monitor_src = sd_event_source_disable_unref(u->monitor_src);
        if (u->monitor_pidfd >= 0)
                close(u->monitor_pidfd);
        u->monitor_pidfd = -1;
        if (u->init_pidfd >= 0)
                close(u->init_pidfd);
        u->init_pidfd = -1;
        u->monitor_pid = 0;
        unit_exited(u, status, NULL);
}

static int on_monitor_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void) s;
        struct unit *u = userdata;
        /* A spawner that never became a monitor reports its exit code only. */
        if (u->state == U_STARTING && u->init_pid == 0) {
                u->monitor_src = sd_event_source_disable_unref(u->monitor_src);
                u->monitor_pid = 0;
                if (u->status_fd >= 0) /* read the reason if it is still in the pipe */
                        on_status(u->status_src, u->status_fd, EPOLLIN, u);
                unit_exited(u, si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status,
                            u->last_error[0] ? u->last_error : "setup failed");
                return 0;
        }
        monitor_gone(u);
        return 0;
}

static int on_monitor_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) fd;
        (void) revents;
        monitor_gone(userdata);
        return 0;
}

static void health_schedule(struct unit *u, usec_t delay);
static void unit_request_stop(struct unit *u);
static void unit_stop_now(struct unit *u);

/* Dependants follow (requires, like systemd's PartOf): stopped now, and
 * started again once u is ready again. */
static void stop_requirers(struct manager *m, struct unit *u, const char *why)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *d = m->units[i];
                if (d != u && d->spec && strv_contains(d->spec->requires, u->name) &&
                    (d->state == U_RUNNING || d->state == U_STARTING)) {
                        emit(m, d->name, "stop", "requires '%s', which %s", u->name, why);
                        d->restart_after_stop = true;
                        unit_request_stop(d);
                }
        }
}

static void probe_done(struct unit *u)
{
        struct manager *m = u->m;
        struct health_result r;
        if (health_probe_result(u->probe, &r) < 0)
                return;
        health_stop(u);
        if (u->state != U_RUNNING || !u->spec)
                return;
        const struct spec_health *h = &u->spec->health;
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
                dispatch(m);
                return;
        }
        if (t == HEALTH_TRANSITION_HEALTHY)
                dispatch(m); /* dependants may wait for this */
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
        /* sd-event reaps it after this; the (floating, small) source stays
         * off until the loop is freed: this happens only for a kill that
         * did not take at once. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

/* A killed probe process (or its set-up) that did not exit at once: the
 * loop reaps it when it does, and never waits for it. */
static void reap_later(void *userdata, pid_t pid)
{
        struct manager *m = userdata;
        if (sd_event_add_child(m->event, NULL, pid, WEXITED, on_reaped, NULL) < 0)
                (void) waitpid(pid, NULL, WNOHANG);
}

/* A frozen container's probes are suspended (berthctl freeze): they could
 * not run, and a verdict on a container that is paused on purpose would
 * be a lie. */
static bool unit_frozen(struct unit *u)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *cm = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        return u->init_pid > 0 && cgroup_open_manager_of(u->init_pid, u->name, &cm) >= 0 &&
               cgroup_open_existing(cm, u->name, &cg) >= 0 && cgroup_is_frozen(cg) > 0;
}

static void health_probe_now(struct unit *u)
{
        struct manager *m = u->m;
        if (unit_frozen(u)) {
                health_schedule(u, u->spec->health.interval);
                return;
        }
        struct health_target t = { .exec = { .name = u->name,
                                             .init_pid = u->init_pid,
                                             .init_start = u->init_start,
                                             .spec = u->spec,
                                             .state_dir = m->o.state_dir,
                                             .init_exe = &m->o.init_exe_fd,
                                             .reap_later = reap_later,
                                             .reap_userdata = m } };
        if (u->address[0])
                (void) inet_pton(AF_INET, u->address, &t.address);
        if (health_probe_start(&t, &u->spec->health, &u->probe) < 0) {
                health_schedule(u, u->spec->health.interval);
                return;
        }
        struct health_result r;
        if (health_probe_result(u->probe, &r) == 0) { /* failed before it began */
                probe_done(u);
                return;
        }
        if (sd_event_add_io(m->event, &u->probe_src, health_probe_fd(u->probe), EPOLLIN, on_probe_io, u) < 0 ||
            sd_event_add_time_relative(m->event, &u->probe_timeout, CLOCK_MONOTONIC, u->spec->health.timeout, 1000,
                                       on_probe_timeout, u) < 0) {
                health_stop(u);
                health_schedule(u, u->spec->health.interval);
        }
}

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        if (u->state == U_RUNNING && u->spec && u->spec->health.enabled && !u->probe)
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

/* A (re)started container's health starts over, never carrying a stale
 * verdict into its dependants' gates. The first probe comes soon: within
 * a second, or the interval if shorter. */
static void health_begin(struct unit *u)
{
        health_stop(u);
        health_state_reset(&u->health);
        u->health_failed_stop = false;
        if (u->spec && u->spec->health.enabled)
                health_schedule(u, u->spec->health.interval < SPEC_USEC_PER_SEC ? u->spec->health.interval
                                                                                 : SPEC_USEC_PER_SEC);
}

/* After a reload changed a running container's settings: a health check
 * added is started, one removed is dropped with its verdict. A changed
 * check keeps its verdict; its new settings apply from the next probe. */
static void health_follow_spec(struct unit *u)
{
        if (u->state != U_RUNNING)
                return;
        bool want = u->spec && u->spec->health.enabled;
        bool active = u->probe || u->health_timer;
        if (want && !active)
                health_begin(u);
        else if (!want && (active || u->health.n_results)) {
                health_stop(u);
                health_state_reset(&u->health);
        }
}

/* Forks the spawner: it builds the container (runtime_start), reports
 * "S pid start address" or "E code reason" on a pipe, and on success
 * becomes the container's monitor by exec, so that the container's init
 * is the monitor's child and outlives berthd. */
static void unit_start_now(struct unit *u)
{
        struct manager *m = u->m;
        const struct spec_container *c = u->spec;
        int sp[2];
        /* Starting before anything can fail: a failure is a failed start, never
         * a pending one that dispatch() would retry at once (recursing until
         * the stack overflows when berthd is out of fds). */
        u->pending_start = false;
        u->delay_until = 0;
        u->launched_mono = now_mono(m);
        u->timeout_reported = false;
        u->state = U_STARTING;
        u->init_pid = 0;
        u->address[0] = 0;
        u->status_len = 0;
        u->last_error[0] = 0;
        if (pipe2(sp, O_CLOEXEC) < 0) {
                unit_exited(u, 125, "cannot create a pipe");
                return;
        }
        pid_t pid = fork();
        if (pid < 0) {
                close(sp[0]);
                close(sp[1]);
                unit_exited(u, 125, "cannot fork");
                return;
        }
        if (pid == 0) {
                close(sp[0]);
                /* berthd raised its own open-file limit; containers get the usual one. */
                if (m->o.nofile_soft) {
                        struct rlimit rl;
                        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                                rl.rlim_cur = m->o.nofile_soft;
                                (void) setrlimit(RLIMIT_NOFILE, &rl);
                        }
                }
                int lp[2];
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (pipe2(lp, O_CLOEXEC) < 0 || null < 0) {
                        dprintf(sp[1], "E 125 cannot create the log pipe\n");
                        _exit(125);
                }
                if (m->o.scope_slice) {
                        char unit[300], desc[300], serr[512];
                        snprintf(desc, sizeof desc, "berth container %s", c->name);
                        struct scope_params scp = { .unit = unit, .slice = m->o.scope_slice, .description = desc,
                                                   .before = m->o.scope_before,
                                                   .timeout_usec = 60 * SPEC_USEC_PER_SEC };
                        if (scope_unit_name("berth", c->name, unit, sizeof unit) < 0) {
                                dprintf(sp[1], "E 125 container '%s': no systemd unit name fits it\n", c->name);
                                _exit(125);
                        }
                        if (scope_enter(&scp, serr, sizeof serr) < 0) {
                                dprintf(sp[1], "E 125 container '%s': %s\n", c->name, serr);
                                _exit(125);
                        }
                }
                struct runtime_opts o = { .state_dir = m->o.state_dir,
                                          .run_dir = m->o.run_dir,
                                          .init_exe = &m->o.init_exe_fd,
                                          .stdio = { null, lp[1], lp[1] } };
                struct runtime_container *rc = NULL;
                int code;
                char err[1024];
                if (runtime_start(&m->set, c, &o, &rc, &code, err, sizeof err) < 0) {
                        for (char *q = err; *q; q++)
                                if (*q == '\n')
                                        *q = ' ';
                        dprintf(sp[1], "E %d %s\n", code, err);
                        _exit(code);
                }
                uint64_t start = 0;
                (void) state_proc_starttime(rc->pid, &start);
                char abuf[INET_ADDRSTRLEN] = "-";
                struct in_addr a = runtime_address(rc);
                if (a.s_addr)
                        inet_ntop(AF_INET, &a, abuf, sizeof abuf);
                close(lp[1]);
                close(null);
                /* The monitor inherits the container's pidfd, its output, its lock
                 * and its cgroup. */
                const char *cgp = runtime_cgroup_path(rc);
                int cgfd = cgp ? open(cgp, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                int keep[] = { rc->pidfd, lp[0], rc->lock_fd, cgfd };
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        if (keep[i] >= 0)
                                (void) fcntl(keep[i], F_SETFD, 0);
                char pidbuf[16], pidfdbuf[16], logbuf[16], sizebuf[32], filesbuf[16], cgbuf[16];
                snprintf(cgbuf, sizeof cgbuf, "%d", cgfd);
                snprintf(pidbuf, sizeof pidbuf, "%d", (int) rc->pid);
                snprintf(pidfdbuf, sizeof pidfdbuf, "%d", rc->pidfd);
                snprintf(logbuf, sizeof logbuf, "%d", lp[0]);
                snprintf(sizebuf, sizeof sizebuf, "%llu", (unsigned long long) c->log_max_size);
                snprintf(filesbuf, sizeof filesbuf, "%u", c->log_max_files);
                dprintf(sp[1], "S %d %llu %s\n", (int) rc->pid, (unsigned long long) start, abuf);
                close(sp[1]);
                char *argv[] = { "berth-monitor", rc->dir, pidbuf, pidfdbuf, logbuf, sizebuf, filesbuf, cgbuf, NULL };
                char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                execve(m->o.monitor_path, argv, envp);
                /* No monitor: the container cannot be held; take it down. */
                (void) kill(rc->pid, SIGKILL);
                _exit(125);
        }
        close(sp[1]);
        u->status_fd = sp[0];
        u->monitor_pid = pid;
        (void) state_proc_starttime(pid, &u->monitor_start);
        if (sd_event_add_io(m->event, &u->status_src, sp[0], EPOLLIN, on_status, u) < 0 ||
            sd_event_add_child(m->event, &u->monitor_src, pid, WEXITED, on_monitor_child, u) < 0)
                log_error("%s: cannot watch its start", u->name);
        (void) sd_event_source_set_child_process_own(u->monitor_src, false);
}

static int on_pending_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state == U_BACKOFF) {
                u->state = U_STOPPED;
                u->pending_start = true;
                u->pending_since = now_mono(u->m);
                u->delay_until = u->pending_since; /* the back-off was the delay */
        }
        dispatch(u->m);
        return 0;
}

/* Asks for a start: it happens once every dependency is running. */
static void unit_request_start(struct unit *u)
{
        if (!u->spec || u->state == U_RUNNING || u->state == U_STARTING)
                return;
        if (u->state == U_STOPPING) {
                u->restart_after_stop = true;
                return;
        }
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state == U_FAILED || u->state == U_BACKOFF)
                u->state = U_STOPPED;
        u->operator_stopped = false;
        u->pending_start = true;
        u->delay_until = 0;
        u->pending_since = now_mono(u->m);
}

/* ---- stopping ---------------------------------------------------------------------- */

/* The init's pidfd, opened again (verified by start time) if opening it
 * failed when the container started (e.g. berthd was out of fds then). */
static int unit_init_pidfd(struct unit *u)
{
        if (u->init_pidfd < 0 && u->init_pid > 0 && u->init_start > 0 &&
            state_pidfd_verified(u->init_pid, u->init_start, &u->init_pidfd) < 0)
                u->init_pidfd = -1;
        return u->init_pidfd;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state != U_STOPPING)
                return 0;
        emit(u->m, u->name, "killing", "did not stop within %llus", (unsigned long long) (u->spec ? u->spec->stop_timeout : 0) / SPEC_USEC_PER_SEC);
        /* The init is PID 1 of the container's PID namespace: SIGKILL takes all. */
        if (unit_init_pidfd(u) >= 0)
                (void) syscall(SYS_pidfd_send_signal, u->init_pidfd, SIGKILL, NULL, 0);
        else /* no pidfd yet: try again, or the stop (and a shutdown) never ends */
                set_timer(u, SPEC_USEC_PER_SEC, on_stop_timeout);
        return 0;
}

static void unit_stop_now(struct unit *u)
{
        u->pending_stop = false;
        u->pending_start = false;
        if (u->state == U_BACKOFF || (u->state == U_STOPPED && !u->monitor_pid)) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = U_STOPPED;
                return;
        }
        if (u->state != U_RUNNING && u->state != U_STARTING)
                return;
        int sig = u->spec ? u->spec->stop_signal : SIGTERM;
        u->state = U_STOPPING;
        if (unit_init_pidfd(u) >= 0)
                (void) syscall(SYS_pidfd_send_signal, u->init_pidfd, sig, NULL, 0);
        set_timer(u, u->spec ? u->spec->stop_timeout : 10 * SPEC_USEC_PER_SEC, on_stop_timeout);
}

/* A stop that waits until nothing that depends on u still runs. */
static void unit_request_stop(struct unit *u)
{
        u->pending_start = false;
        if (u->state == U_FAILED || (u->state == U_STOPPED && !u->monitor_pid)) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = u->state == U_FAILED ? U_FAILED : U_STOPPED;
                return;
        }
        if (u->state == U_BACKOFF) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = U_STOPPED;
                return;
        }
        if (u->state == U_RUNNING || u->state == U_STARTING)
                u->pending_stop = true;
}

/* ---- exits and restart policy -------------------------------------------------------- */

static void unit_exited(struct unit *u, int status, const char *why)
{
        struct manager *m = u->m;
        enum unit_state was = u->state;
        bool had_address = u->address[0];
        bool health_stopped = u->health_failed_stop;
        health_stop(u);
        health_state_reset(&u->health);
        u->health_failed_stop = false;
        u->timer = sd_event_source_disable_unref(u->timer);
        bool oom = runtime_cleanup(m->o.state_dir, u->name) || u->exit_oom;
        u->exit_oom = false;
        u->last_status = status;
        u->init_pid = 0;
        if (why && why != u->last_error)
                snprintf(u->last_error, sizeof u->last_error, "%s", why);
        usec_t ran = u->started_mono ? now_mono(m) - u->started_mono : 0;
        u->started_mono = 0;
        u->state = U_STOPPED;
        if (had_address && u->spec && u->spec->n_publish)
                nat_sync(m);

        if (was == U_STARTING && why)
                emit(m, u->name, "start-failed", "%s (exit %d)", why, status);
        else {
                if (oom) {
                        snprintf(u->last_error, sizeof u->last_error, "killed by the OOM killer (limits.memory)");
                        emit(m, u->name, "oom", "the OOM killer killed a process of the container");
                }
                emit(m, u->name, "exited", "status %d%s", status, status < 0 ? " (unknown: monitor lost)" : "");
        }

        if (u->restart_after_stop || (was == U_STOPPING && !m->shutting_down && !u->operator_stopped &&
                                      u->pending_start)) {
                u->restart_after_stop = false;
                unit_request_start(u);
                dispatch(m);
                return;
        }
        if (health_stopped && u->spec && u->spec->health.on_failure == HEALTH_ACTION_STOP) {
                u->state = U_FAILED;
                snprintf(u->last_error, sizeof u->last_error, "stopped: unhealthy (health on-failure = stop)");
                emit(m, u->name, "failed", "%s", u->last_error);
                dispatch(m);
                return;
        }
        if (!health_stopped && (was == U_STOPPING || m->shutting_down || u->operator_stopped || !u->spec)) {
                dispatch(m);
                return;
        }
        if (m->shutting_down || u->operator_stopped || !u->spec) {
                dispatch(m);
                return;
        }
        const struct spec_container *c = u->spec;
        bool failure = status != 0 || health_stopped;
        stop_requirers(m, u, "exited");
        /* health on-failure = restart asks for a restart whatever the
         * restart policy (the default restart = "no" included); the
         * policy's back-off and limit still apply. */
        bool restart = health_stopped || c->restart == RESTART_ALWAYS || c->restart == RESTART_UNLESS_STOPPED ||
                       (c->restart == RESTART_ON_FAILURE && failure);
        if (!restart) {
                if (failure && was == U_STARTING) {
                        u->state = U_FAILED;
                        emit(m, u->name, "failed", "%s", u->last_error[0] ? u->last_error : "could not start");
                }
                dispatch(m);
                return;
        }
        /* A container that ran for a restart window has proved itself. */
        if (ran >= c->restart_window)
                u->consecutive = 0;
        usec_t now = now_mono(m);
        size_t in_window = 0;
        for (size_t i = 0; i < u->n_restart_times; i++)
                if (now - u->restart_times[i] <= c->restart_window)
                        in_window++;
        if (c->restart_limit > 0 && in_window >= c->restart_limit) {
                u->state = U_FAILED;
                emit(m, u->name, "failed", "%zu restarts within %llus (restart-limit %u)", in_window,
                     (unsigned long long) (c->restart_window / SPEC_USEC_PER_SEC), c->restart_limit);
                dispatch(m);
                return;
        }
        if (u->n_restart_times == RESTARTS_KEPT) {
                memmove(u->restart_times, u->restart_times + 1, (RESTARTS_KEPT - 1) * sizeof(usec_t));
                u->n_restart_times--;
        }
        u->restart_times[u->n_restart_times++] = now;
        usec_t delay = c->restart_delay;
        for (uint32_t i = 0; i < u->consecutive && delay < c->restart_max_delay; i++)
                delay *= 2;
        if (delay > c->restart_max_delay)
                delay = c->restart_max_delay;
        u->consecutive++;
        u->restarts++;
        u->state = U_BACKOFF;
        char d[32];
        emit(m, u->name, "restarting", "in %s (restart %u, exit status %d)", format_duration(delay, d, sizeof d),
             u->restarts, status);
        set_timer(u, delay, on_pending_timer);
        dispatch(m);
}

/* ---- the scheduler ---------------------------------------------------------------------- */

static bool manager_busy(struct manager *m)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (u->pending_start || u->pending_stop || u->state == U_STARTING || u->state == U_STOPPING ||
                    u->restart_after_stop)
                        return true;
        }
        return false;
}

/* The containers a reload changed (a "plan" event) whose start or live
 * update then failed, from the events emitted since seq: [{name, error}].
 * Events that fell out of the ring are not seen. */
static json_object *reload_failures(struct manager *m, uint64_t seq)
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
static struct order_unit *order_view(struct manager *m)
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
                                st = c && c->health.enabled && u->health.status != HEALTH_HEALTHY ? ORDER_STARTING
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

/* Starts what order_decide_starts() lets start, arms a timer for what waits
 * on time, fails what cannot start; then signals the stops that
 * order_decide_stops() lets go. */
static void dispatch(struct manager *m)
{
        size_t n = m->n_units;
        _cleanup_free_ struct order_unit *view = order_view(m);
        _cleanup_free_ struct order_decision *dec = calloc(n + 1, sizeof *dec);
        _cleanup_free_ char **to_start = calloc(n + 1, sizeof *to_start);
        size_t n_start = 0;
        if (!view || !dec || !to_start || order_decide_starts(view, n, now_mono(m), dec) < 0) {
                log_error("out of memory deciding starts and stops");
                return;
        }
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
                        to_start[n_start++] = u->name;
                        break;
                case ORDER_NONE:
                        break;
                }
        }
        /* A start that fails at once calls dispatch() again: find each by name. */
        _cleanup_(strv_freep) char **names = calloc(n_start + 1, sizeof *names);
        for (size_t k = 0; names && k < n_start; k++)
                if (!(names[k] = strdup(to_start[k])))
                        break;
        for (size_t k = 0; names && names[k]; k++) {
                struct unit *u = unit_find(m, names[k]);
                if (u && u->pending_start && !m->shutting_down)
                        unit_start_now(u);
        }
        /* Stops, in reverse: each once nothing stopping still waits on it. */
        n = m->n_units;
        _cleanup_free_ struct order_unit *sview = order_view(m);
        _cleanup_free_ bool *stop = calloc(n + 1, sizeof *stop);
        if (sview && stop && order_decide_stops(sview, n, stop) >= 0)
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
                            m->units[i]->state == U_STARTING)
                                all_down = false;
                if (all_down) {
                        /* Everything down: what berth made on the host goes too. */
                        (void) nat_remove(m->nat_table, NULL);
                        for (size_t i = 0; i < m->n_networks_up; i++)
                                (void) net_bridge_remove(m->networks_up[i]->bridge, m->net_owner);
                        (void) sd_event_exit(m->event, 0);
                }
        }
}

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

/* Loads the directory and plans against what runs. On invalid files:
 * -EINVAL and *ret_errors holds them. */
static int make_plan(struct manager *m, struct spec_set *ret_set, struct plan *ret_plan, json_object **ret_errors)
{
        struct diag d = { 0 };
        int r = config_load_dir(m->o.conf_dir, ret_set, &d);
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

/* Keeps a copy of the definition files just applied (state.h), checked by
 * loading the copy: files edited meanwhile never make an invalid "last
 * good" set. */
static void save_last_good(struct manager *m)
{
        _cleanup_free_ char *stage = NULL;
        int r = state_definitions_stage(m->o.state_dir, m->o.conf_dir, CONFIG_FILES_MAX, CONFIG_FILE_MAX, &stage);
        if (r < 0) {
                log_warning("cannot keep a copy of the definitions in %s/%s: %s", m->o.state_dir, STATE_LAST_GOOD,
                            strerror(-r));
                return;
        }
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        r = config_load_dir(stage, &set, &d);
        spec_set_done(&set);
        diag_done(&d);
        if (r < 0) {
                log_warning("definitions in %s changed while they were applied; last valid copy not updated",
                            m->o.conf_dir);
                (void) rm_rf(stage);
                return;
        }
        r = state_definitions_commit(m->o.state_dir);
        if (r < 0)
                log_warning("cannot keep a copy of the definitions in %s/%s: %s", m->o.state_dir, STATE_LAST_GOOD,
                            strerror(-r));
        m->on_last_good = false;
        m->vanished = 0;
}

/* True (and why) when p would stop so many running containers because
 * their definitions vanished that it needs reload --force (plan.h). */
static bool reload_needs_force(struct manager *m, const struct plan *p, char *why, size_t size)
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

/* Takes the new set and acts on the plan. The spec of a container whose
 * definition is gone stays alive in its unit (owned_spec) while it is
 * orphaned, for its stop settings. */
static void apply_plan(struct manager *m, struct spec_set *next, const struct plan *p)
{
        /* Units whose definition disappears keep a private copy of nothing:
         * they only need their name and stop settings, taken from the old set
         * before it is freed. */
        struct spec_set old = m->set;
        m->set = *next;
        *next = (struct spec_set){ 0 };
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
                        if (a->kind == PLAN_CREATE_START)
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
                                char err[300] = "";
                                int r = runtime_update_limits(c, u->init_pid, err, sizeof err);
                                if (r < 0) {
                                        /* The kernel kept the old limits: keep the old hash too, so
                                         * that the next reload tries again. */
                                        emit(m, u->name, "update-failed", "%s", err);
                                        u->spec = c;
                                        break;
                                }
                                if (r > 0)
                                        emit(m, u->name, "update-partial", "%s", err);
                        }
                        unit_set_spec(u, c);
                        break;
                case PLAN_UPDATE_SETTINGS:
                case PLAN_NONE:
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
                u->spec = c;
                health_follow_spec(u);
        }
        spec_set_done(&old);
        keep_networks(m);
        networks_collect(m);
        nat_sync(m);
        dispatch(m);
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
static void adopt(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = unit_dir(m, name);
        struct state_record rec, found;
        if (!dir)
                return;
        int q = state_read(dir, &rec);
        if ((q == -ENOENT || q == -ENOTDIR || q == -ELOOP) && !state_dir_locked(dir))
                return; /* no record and nothing holds it: a container that does not run */
        char boot[40] = "";
        (void) state_boot_id(boot);
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
        bool declared = u != NULL;
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
                /* It ended while no berthd watched: its exit is on disk. */
                u->state = U_RUNNING;
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
        if (state_pidfd_verified(rec.init_pid, rec.init_start, &u->init_pidfd) < 0)
                u->init_pidfd = -1;
        u->state = U_RUNNING;
        u->started_mono = now_mono(m);
        u->launched_mono = u->started_mono;
        if (sd_event_add_io(m->event, &u->monitor_src, pidfd, EPOLLIN, on_monitor_pidfd, u) < 0)
                log_error("%s: cannot watch its monitor", name);
        health_begin(u);
        emit(m, name, "adopted", "pid %d%s%s", (int) rec.init_pid, declared ? "" : " (no longer declared)",
             refound ? " (state record did not match: monitor found by its command line)" : "");
}

/* Whether the container in NAME's directory runs (its record's monitor,
 * or one found by its command line): what a start must not stop by
 * accident. */
static bool container_runs(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = unit_dir(m, name);
        struct state_record rec;
        char boot[40] = "";
        int fd = -1;
        if (!dir)
                return false;
        (void) state_boot_id(boot);
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
        int r = config_load_dir(m->o.conf_dir, &m->set, &d);
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
                if (u->state == U_RUNNING && !streq(rh, u->rh)) {
                        emit(m, u->name, "plan", "restart: definition changed while berthd was down");
                        unit_set_spec(u, u->spec);
                        u->restart_after_stop = true;
                        unit_request_stop(u);
                } else if (u->state == U_RUNNING) {
                        /* Limits are reconciled with what runs, never with the
                         * record's hash: the file may have changed while no
                         * berthd watched, or a reload died before it applied
                         * them. The writes are idempotent. */
                        char lh[SPEC_HASH_LEN], err[512];
                        spec_container_hash_live(u->spec, lh);
                        int q = u->init_pid > 0 ? runtime_update_limits(u->spec, u->init_pid, err, sizeof err) : 0;
                        if (q < 0)
                                emit(m, u->name, "update-failed", "limits: %s", err);
                        else if (!streq(lh, u->lh))
                                emit(m, u->name, "update", "limits applied: the definition changed while berthd was down");
                        unit_set_spec(u, u->spec);
                } else if (u->spec->autostart && u->state == U_STOPPED)
                        unit_request_start(u);
        }
        if (!m->on_last_good)
                save_last_good(m);
        nat_sync(m);
        dispatch(m);
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
        dispatch(m);
}

/* ---- control methods ---------------------------------------------------------------------------- */

static json_object *unit_json(struct manager *m, struct unit *u, bool full)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(u->name));
        bool orphan_idle = u->orphaned && (u->state == U_STOPPED || u->state == U_FAILED);
        bool waiting = u->pending_start && u->waiting_for[0] && (u->state == U_STOPPED || u->state == U_FAILED ||
                                                                   u->state == U_BACKOFF);
        const char *state = orphan_idle ? "orphaned"
                            : waiting   ? "waiting"
                            : u->state == U_RUNNING && unit_frozen(u) ? "frozen"
                                                                       : unit_state_names[u->state];
        json_object_object_add(o, "state", json_object_new_string(state));
        if (waiting)
                json_object_object_add(o, "waiting_for", json_object_new_string(u->waiting_for));
        json_object_object_add(o, "orphaned", json_object_new_boolean(u->orphaned));
        json_object_object_add(o, "health", json_object_new_string(
                u->spec && u->spec->health.enabled && u->state == U_RUNNING ? health_status_to_string(u->health.status) : "-"));
        json_object_object_add(o, "pid", json_object_new_int(u->state == U_RUNNING || u->state == U_STOPPING ? u->init_pid : 0));
        json_object_object_add(o, "address", json_object_new_string(u->address));
        json_object_object_add(o, "restarts", json_object_new_int64(u->restarts));
        uint64_t up = u->state == U_RUNNING && u->started_realtime ? (now_realtime() - u->started_realtime) / 1000000ULL : 0;
        json_object_object_add(o, "uptime_sec", json_object_new_uint64(up));
        json_object_object_add(o, "last_status", json_object_new_int(u->last_status));
        json_object_object_add(o, "error", json_object_new_string(u->last_error));
        json_object_object_add(o, "declared", json_object_new_boolean(u->spec && !u->owned_spec));
        if (!full)
                return o;
        _cleanup_free_ char *dir = unit_dir(m, u->name);
        json_object_object_add(o, "dir", json_object_new_string(dir ? dir : ""));
        json_object_object_add(o, "init_start", json_object_new_uint64(u->init_start));
        json_object_object_add(o, "monitor_pid", json_object_new_int(u->monitor_pid));
        json_object_object_add(o, "operator_stopped", json_object_new_boolean(u->operator_stopped));
        json_object_object_add(o, "restart_hash", json_object_new_string(u->rh));
        json_object_object_add(o, "live_hash", json_object_new_string(u->lh));
        if (u->spec) {
                const struct spec_container *c = u->spec;
                json_object_object_add(o, "file", json_object_new_string(c->file));
                json_object_object_add(o, "line", json_object_new_int(c->line));
                json_object_object_add(o, "restart_policy", json_object_new_string(restart_policy_to_string(c->restart)));
                json_object_object_add(o, "autostart", json_object_new_boolean(c->autostart));
                json_object_object_add(o, "network_mode", json_object_new_string(net_mode_to_string(c->net_mode)));
                json_object *cmd = json_object_new_array();
                for (size_t i = 0; c->command && c->command[i]; i++)
                        json_object_array_add(cmd, json_object_new_string(c->command[i]));
                json_object_object_add(o, "command", cmd);
        }
        json_object *probes = json_object_new_array();
        for (uint32_t i = 0; i < HEALTH_LAST_N; i++) {
                const struct health_result *r = health_state_result(&u->health, i);
                if (!r)
                        break;
                json_object *pr = json_object_new_object();
                json_object_object_add(pr, "time_usec", json_object_new_uint64(r->started_realtime));
                json_object_object_add(pr, "duration_usec", json_object_new_uint64(r->duration));
                json_object_object_add(pr, "ok", json_object_new_boolean(r->ok));
                json_object_object_add(pr, "exit_status", json_object_new_int(r->exit_status));
                json_object_object_add(pr, "output", json_object_new_string(r->output));
                json_object_array_add(probes, pr);
        }
        json_object_object_add(o, "health_probes", probes);
        json_object *ev = json_object_new_array();
        for (size_t i = 0; i < m->n_events; i++) {
                const struct event_rec *e = &m->events[(m->events_head + i) % EVENTS_KEPT];
                if (e->name && streq(e->name, u->name))
                        json_object_array_add(ev, event_json(e));
        }
        json_object_object_add(o, "events", ev);
        return o;
}

static const char *param_string(json_object *params, const char *key)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static void reply_no_such(struct control_conn *c, const char *name)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name ? name : ""));
        (void) control_reply_error(c, "io.berth.NoSuchContainer", p);
}

static void reply_invalid(struct control_conn *c, const char *why)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, "org.varlink.service.InvalidParameter", p);
}

static void reply_refused(struct control_conn *c, const char *error, const char *why)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, error, p);
}

/* berthctl destroy NAME: deletes the data of an orphan, and only of one
 * that no definition names and that does not run. */
static void method_destroy(struct manager *m, struct control_conn *c, json_object *params)
{
        const char *name = param_string(params, "name");
        struct unit *u = name ? unit_find(m, name) : NULL;
        char why[700];
        if (!u) {
                reply_no_such(c, name);
                return;
        }
        if (u->spec && !u->owned_spec) {
                snprintf(why, sizeof why, "container '%s' is declared in %s:%d: remove its definition and reload first",
                         u->name, u->spec->file ? u->spec->file : "?", u->spec->line);
                reply_refused(c, "io.berth.ContainerDeclared", why);
                return;
        }
        /* A definition back in the directory but not reloaded yet counts:
         * the operator restored it to keep the data. */
        struct spec_set files = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(m->o.conf_dir, &files, &d);
        const struct spec_container *f = r >= 0 ? spec_set_find_container(&files, u->name) : NULL;
        if (r < 0)
                snprintf(why, sizeof why, "the definitions in %s cannot be read or are invalid: fix them first",
                         m->o.conf_dir);
        else if (f)
                snprintf(why, sizeof why, "container '%s' is declared in %s:%d (not reloaded yet): remove its "
                         "definition first", u->name, f->file ? f->file : "?", f->line);
        spec_set_done(&files);
        diag_done(&d);
        if (r < 0 || f) {
                reply_refused(c, "io.berth.ContainerDeclared", why);
                return;
        }
        if (u->state == U_RUNNING || u->state == U_STARTING || u->state == U_STOPPING || u->monitor_pid) {
                snprintf(why, sizeof why, "container '%s' is %s: destroy it once it has stopped", u->name,
                         unit_state_names[u->state]);
                reply_refused(c, "io.berth.ContainerRunning", why);
                return;
        }
        r = runtime_delete_data(m->o.state_dir, u->name);
        if (r == -EBUSY) {
                snprintf(why, sizeof why, "container '%s' is in use (a process holds its lock): not deleted", u->name);
                reply_refused(c, "io.berth.ContainerRunning", why);
                return;
        }
        if (r < 0) {
                snprintf(why, sizeof why, "cannot delete the data of container '%s': %s", u->name, strerror(-r));
                reply_refused(c, "io.berth.DestroyFailed", why);
                return;
        }
        emit(m, u->name, "destroyed", "its data is deleted");
        unit_forget(m, u);
        (void) control_reply(c, NULL, false);
}

/* Names from {"names": [...]} (or {"name": "x"}); all must exist. */
static bool collect_units(struct manager *m, struct control_conn *c, json_object *params, struct unit **out, size_t max,
                          size_t *n)
{
        json_object *arr;
        *n = 0;
        const char *one = param_string(params, "name");
        if (one) {
                out[(*n)++] = unit_find(m, one);
                if (!out[0]) {
                        reply_no_such(c, one);
                        return false;
                }
                return true;
        }
        if (!params || !json_object_object_get_ex(params, "names", &arr) || !json_object_is_type(arr, json_type_array) ||
            json_object_array_length(arr) == 0) {
                reply_invalid(c, "expected \"names\": [\"NAME\", ...]");
                return false;
        }
        for (size_t i = 0; i < json_object_array_length(arr) && *n < max; i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(arr, i));
                struct unit *u = name ? unit_find(m, name) : NULL;
                if (!u) {
                        reply_no_such(c, name);
                        return false;
                }
                out[(*n)++] = u;
        }
        return true;
}

static void method_plan(struct manager *m, struct control_conn *c, bool apply, json_object *params)
{
        struct spec_set next = { 0 };
        struct plan p = { 0 };
        json_object *errs = NULL;
        int r = make_plan(m, &next, &p, &errs);
        if (r == -EINVAL) {
                /* The reply takes errs with it: count them first. */
                size_t n = json_object_array_length(errs);
                json_object *ep = json_object_new_object();
                json_object_object_add(ep, "errors", errs);
                (void) control_reply_error(c, "io.berth.InvalidDefinitions", ep);
                if (apply) {
                        m->definition_errors = n;
                        (void) sd_notifyf(false, "STATUS=reload refused: %zu errors in %s", n, m->o.conf_dir);
                        emit(m, NULL, "reload-refused", "%zu errors", n);
                }
                return;
        }
        if (r < 0) {
                (void) control_reply_error(c, "io.berth.InternalError", NULL);
                return;
        }
        char why[1024];
        bool force_needed = reload_needs_force(m, &p, why, sizeof why);
        json_object *fv;
        bool force = params && json_object_object_get_ex(params, "force", &fv) && json_object_get_boolean(fv);
        if (apply && force_needed && !force) {
                reply_refused(c, "io.berth.ReloadRefused", why);
                emit(m, NULL, "reload-refused", "%s", why);
                plan_done(&p);
                spec_set_done(&next);
                return;
        }
        json_object *out = plan_to_json(&p);
        if (out && force_needed && !apply)
                json_object_object_add(out, "force_needed", json_object_new_string(why));
        if (apply) {
                char buf[64];
                snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) now_mono(m));
                (void) sd_notify(false, buf);
                uint64_t seq = m->events_seq;
                apply_plan(m, &next, &p);
                m->definition_errors = 0;
                save_last_good(m);
                emit(m, NULL, "reloaded", "%zu changes", plan_count_changes(&p));
                (void) sd_notify(false, "READY=1");
                json_object *w;
                bool wait = params && json_object_object_get_ex(params, "wait", &w) && json_object_get_boolean(w);
                if (wait && manager_busy(m)) {
                        /* The plan now; once every start and stop has finished,
                         * {"failed": [...]}: what did not start or update. */
                        (void) control_reply(c, out, true);
                        control_conn_set_tag(c, TAG_RELOAD, (void *) (uintptr_t) seq);
                        plan_done(&p);
                        return;
                }
                json_object_object_add(out, "failed", reload_failures(m, seq));
        } else
                spec_set_done(&next);
        plan_done(&p);
        (void) control_reply(c, out, false);
}

static void send_backlog(struct manager *m, struct control_conn *c)
{
        for (size_t i = 0; i < m->n_events; i++)
                (void) control_reply(c, event_json(&m->events[(m->events_head + i) % EVENTS_KEPT]), true);
}

static bool unit_alive(const struct unit *u)
{
        return u->state == U_STARTING || u->state == U_RUNNING || u->state == U_STOPPING;
}

static void add_action(json_object *acts, const char *fmt, ...) _printf_(2, 3);
static void add_action(json_object *acts, const char *fmt, ...)
{
        char line[600];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        json_object_array_add(acts, json_object_new_string(line));
}

/* Marks into acc what the named units require (requires = true) or what
 * requires them, and in via[i] the named unit that brought each in. */
static int mark_closure(struct manager *m, const struct order_unit *view, struct unit **units, size_t n, bool requires,
                        bool *acc, const char **via)
{
        size_t nu = m->n_units;
        _cleanup_free_ bool *tmp = calloc(nu + 1, sizeof *tmp);
        if (!tmp)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                size_t idx = 0;
                while (idx < nu && m->units[idx] != units[k])
                        idx++;
                memset(tmp, 0, nu * sizeof *tmp);
                if (requires)
                        (void) order_mark_required(view, nu, idx, tmp);
                else
                        (void) order_mark_requirers(view, nu, idx, tmp);
                for (size_t i = 0; i < nu; i++)
                        if (tmp[i] && !acc[i]) {
                                acc[i] = true;
                                via[i] = units[k]->name;
                        }
        }
        return 0;
}

/* start, stop and restart: start brings up what the named containers
 * require first; stop takes down what requires them first; restart does
 * both and brings the requirers back after them. The reply lists what was
 * done; what cannot be done is an error and changes nothing. */
static void method_verb(struct manager *m, struct control_conn *c, const char *method, struct unit **units, size_t n)
{
        bool start = streq(method, "io.berth.Container.Start"), stop = streq(method, "io.berth.Container.Stop");
        bool restart = !start && !stop;
        size_t nu = m->n_units;
        _cleanup_free_ struct order_unit *view = order_view(m);
        _cleanup_free_ bool *named = calloc(nu + 1, sizeof *named), *req = calloc(nu + 1, sizeof *req),
                            *dep = calloc(nu + 1, sizeof *dep);
        _cleanup_free_ const char **req_via = calloc(nu + 1, sizeof *req_via),
                                  **dep_via = calloc(nu + 1, sizeof *dep_via);
        if (!view || !named || !req || !dep || !req_via || !dep_via ||
            ((start || restart) && mark_closure(m, view, units, n, true, req, req_via) < 0) ||
            ((stop || restart) && mark_closure(m, view, units, n, false, dep, dep_via) < 0)) {
                (void) control_reply_error(c, "io.berth.InternalError", NULL);
                return;
        }
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < nu; i++)
                        if (m->units[i] == units[k])
                                named[i] = true;
        for (size_t i = 0; i < nu; i++) {
                const struct unit *u = m->units[i];
                if (req[i] && !named[i] && (!u->spec || u->owned_spec)) {
                        char why[600];
                        snprintf(why, sizeof why, "'%s' requires '%s', which is no longer declared", req_via[i],
                                 u->name);
                        reply_invalid(c, why);
                        return;
                }
        }
        json_object *acts = json_object_new_array();
        if (stop || restart) /* requirers first, so that the order of the list is the order of the stops */
                for (size_t i = 0; i < nu; i++) {
                        struct unit *u = m->units[i];
                        if (!dep[i] || named[i])
                                continue;
                        bool up = u->state == U_RUNNING || u->state == U_STARTING;
                        if (restart && up) {
                                emit(m, u->name, "stop", "requires '%s', which restarts", dep_via[i]);
                                u->restart_after_stop = true;
                                unit_request_stop(u);
                                add_action(acts, "restart '%s': it requires '%s'", u->name, dep_via[i]);
                        } else if (stop && (unit_alive(u) || u->pending_start || u->state == U_BACKOFF)) {
                                emit(m, u->name, "stop", "requires '%s', which is stopped by the operator",
                                     dep_via[i]);
                                u->operator_stopped = true;
                                u->restart_after_stop = false;
                                unit_request_stop(u);
                                add_action(acts, "stop '%s' first: it requires '%s'", u->name, dep_via[i]);
                        }
                }
        if (start || restart)
                for (size_t i = 0; i < nu; i++) {
                        struct unit *u = m->units[i];
                        if (!req[i] || named[i] || u->pending_start)
                                continue;
                        if (u->state == U_STOPPING || (u->pending_stop && unit_alive(u))) {
                                u->operator_stopped = false;
                                u->restart_after_stop = true;
                                add_action(acts, "start '%s' first, once it has stopped: '%s' requires it", u->name,
                                           req_via[i]);
                                continue;
                        }
                        if (unit_alive(u))
                                continue;
                        emit(m, u->name, "start", "required by '%s'", req_via[i]);
                        u->consecutive = 0;
                        u->n_restart_times = 0;
                        unit_request_start(u);
                        add_action(acts, "start '%s' first: '%s' requires it", u->name, req_via[i]);
                }
        for (size_t i = 0; i < nu; i++) {
                struct unit *u = m->units[i];
                if (!named[i])
                        continue;
                if (stop) {
                        bool was_down = !unit_alive(u) && !u->pending_start && u->state != U_BACKOFF;
                        u->operator_stopped = true;
                        u->restart_after_stop = false;
                        if (was_down) {
                                add_action(acts, "'%s' is already %s", u->name, unit_state_names[u->state]);
                                continue;
                        }
                        emit(m, u->name, "stop", "requested by the operator");
                        unit_request_stop(u);
                        add_action(acts, "stop '%s'", u->name);
                        continue;
                }
                u->consecutive = 0;
                u->n_restart_times = 0;
                u->operator_stopped = false;
                if (u->state == U_STOPPING || (u->pending_stop && unit_alive(u))) {
                        u->restart_after_stop = true;
                        add_action(acts, "start '%s' once it has stopped", u->name);
                } else if (restart && (u->state == U_RUNNING || u->state == U_STARTING)) {
                        u->restart_after_stop = true;
                        unit_request_stop(u);
                        add_action(acts, "restart '%s'", u->name);
                } else if (unit_alive(u)) {
                        add_action(acts, "'%s' is already %s", u->name, unit_state_names[u->state]);
                } else if (u->pending_start) {
                        add_action(acts, "'%s' is already waiting to start", u->name);
                } else {
                        unit_request_start(u);
                        add_action(acts, "start '%s'", u->name);
                }
        }
        dispatch(m);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "actions", acts);
        (void) control_reply(c, p, false);
}

static void on_call(void *userdata, struct control_conn *c, const char *method, json_object *params, bool more)
{
        struct manager *m = userdata;
        struct unit *units[256];
        size_t n = 0;
        if (streq(method, "io.berth.Container.List")) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < m->n_units; i++)
                        json_object_array_add(arr, unit_json(m, m->units[i], false));
                json_object *p = json_object_new_object();
                json_object_object_add(p, "containers", arr);
                (void) control_reply(c, p, false);
        } else if (streq(method, "io.berth.Container.Inspect")) {
                const char *name = param_string(params, "name");
                struct unit *u = name ? unit_find(m, name) : NULL;
                if (!u)
                        reply_no_such(c, name);
                else
                        (void) control_reply(c, unit_json(m, u, true), false);
        } else if (streq(method, "io.berth.Manager.Plan"))
                method_plan(m, c, false, params);
        else if (streq(method, "io.berth.Manager.Reload"))
                method_plan(m, c, true, params);
        else if (streq(method, "io.berth.Container.Destroy")) {
                if (m->shutting_down)
                        (void) control_reply_error(c, "io.berth.ShuttingDown", NULL);
                else
                        method_destroy(m, c, params);
        }
        else if (streq(method, "io.berth.Container.Start") || streq(method, "io.berth.Container.Stop") ||
                 streq(method, "io.berth.Container.Restart")) {
                if (m->shutting_down) {
                        (void) control_reply_error(c, "io.berth.ShuttingDown", NULL);
                        return;
                }
                if (!collect_units(m, c, params, units, ELEMENTSOF(units), &n))
                        return;
                for (size_t i = 0; i < n; i++) {
                        struct unit *u = units[i];
                        if (!u->spec || u->owned_spec) {
                                reply_no_such(c, u->name);
                                return;
                        }
                }
                method_verb(m, c, method, units, n);
        } else if (streq(method, "io.berth.Container.Kill")) {
                if (!collect_units(m, c, params, units, ELEMENTSOF(units), &n))
                        return;
                const char *s = param_string(params, "signal");
                int sig = SIGTERM;
                if (s && parse_signal(s, &sig) < 0) {
                        reply_invalid(c, "signal: not a signal name or number");
                        return;
                }
                /* All or nothing: a signal that cannot be sent is an error, never a silent no-op. */
                for (size_t i = 0; i < n; i++)
                        if (units[i]->state != U_RUNNING || unit_init_pidfd(units[i]) < 0) {
                                char why[600];
                                snprintf(why, sizeof why, "'%s' is %s: no process to signal; nothing was sent",
                                         units[i]->name, unit_state_names[units[i]->state]);
                                reply_invalid(c, why);
                                return;
                        }
                for (size_t i = 0; i < n; i++)
                        if (syscall(SYS_pidfd_send_signal, units[i]->init_pidfd, sig, NULL, 0) < 0) {
                                char why[600];
                                snprintf(why, sizeof why, "'%s': cannot send the signal: %s", units[i]->name,
                                         strerror(errno));
                                reply_invalid(c, why);
                                return;
                        }
                (void) control_reply(c, NULL, false);
        } else if (streq(method, "io.berth.Manager.Events")) {
                send_backlog(m, c);
                if (more)
                        control_conn_set_tag(c, TAG_EVENTS, NULL);
                else
                        (void) control_reply(c, NULL, false);
        } else if (streq(method, "io.berth.Manager.Status")) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "containers", json_object_new_int64((int64_t) m->n_units));
                json_object_object_add(p, "ready", json_object_new_boolean(m->ready));
                json_object_object_add(p, "conf_dir", json_object_new_string(m->o.conf_dir));
                json_object_object_add(p, "state_dir", json_object_new_string(m->o.state_dir));
                json_object_object_add(p, "definition_errors", json_object_new_int64((int64_t) m->definition_errors));
                json_object_object_add(p, "last_good", json_object_new_boolean(m->on_last_good));
                (void) control_reply(c, p, false);
        } else {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "method", json_object_new_string(method));
                (void) control_reply_error(c, "org.varlink.service.MethodNotFound", p);
        }
}

/* ---- lifetime ----------------------------------------------------------------------------------- */

int manager_new(sd_event *e, const struct manager_options *o, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->o = *o;
        m->containers_dir = strdup_printf("%s/containers", o->state_dir);
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
                r = control_server_new(e, sock, on_call, m, &m->control);
        }
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
        control_server_free(m->control);
        for (size_t i = 0; i < m->n_units; i++)
                unit_free(m->units[i]);
        free(m->units);
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
        free(m->containers_dir);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}
