/* berthd's metrics (--metrics-listen): the document GET /metrics answers,
 * in the Prometheus text format (metrics.h), written from the manager's
 * state and each running container's cgroup and network counters. Runs on
 * the event loop, at most once per METRICS_SERVER_MIN_AGE: only small
 * reads of kernel files (cgroup, /proc/PID/net/dev), none of which a
 * container can make wait. */

#include "supervise_internal.h"

/* Start latency: launch to the spawner's report, in seconds. */
static const double start_bounds[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

void manager_metrics_init(struct manager *m)
{
        metrics_histogram_init(&m->start_seconds, start_bounds, ELEMENTSOF(start_bounds));
}

struct sample {
        struct unit *u;
        const char *state; /* unit_shown_state() */
        bool measured;     /* st, rx, tx read from a running container */
        struct cgroup_stats st;
        uint64_t rx, tx; /* CGROUP_STAT_UNKNOWN: the host's network */
};

static void measure(struct sample *s)
{
        struct unit *u = s->u;
        if ((u->state != U_RUNNING && u->state != U_STOPPING) || u->init_pid <= 0)
                return;
        struct cgroup_manager *cm = unit_cgroup_manager(u);
        if (!cm)
                return;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        if (cgroup_open_existing(cm, u->name, &cg) < 0 || cgroup_stats(cg, &s->st) < 0)
                return;
        if (net_pid_bytes(u->init_pid, &s->rx, &s->tx) < 0)
                s->rx = s->tx = CGROUP_STAT_UNKNOWN;
        s->measured = true;
}

/* One family of per-container numbers: a sample for each container whose
 * value is known. */
typedef uint64_t (*sample_value_t)(const struct sample *s);

static void per_container(struct strbuf *b, const struct sample *ss, size_t n, const char *name,
                          enum metrics_type type, const char *help, sample_value_t value)
{
        metrics_family(b, name, type, help);
        for (size_t i = 0; i < n; i++) {
                uint64_t v = value(&ss[i]);
                if (v == CGROUP_STAT_UNKNOWN)
                        continue;
                struct metrics_label l[] = { { "name", ss[i].u->name } };
                metrics_u64(b, name, l, 1, v);
        }
}

#define STAT(field) (s->measured ? s->st.field : CGROUP_STAT_UNKNOWN)
static uint64_t v_restarts(const struct sample *s)
{
        return s->u->restarts;
}
static uint64_t v_memory(const struct sample *s)
{
        return STAT(memory_current);
}
static uint64_t v_memory_limit(const struct sample *s)
{
        return STAT(memory_limit);
}
static uint64_t v_pids(const struct sample *s)
{
        return STAT(pids_current);
}
static uint64_t v_pids_limit(const struct sample *s)
{
        return STAT(pids_limit);
}
static uint64_t v_read(const struct sample *s)
{
        return STAT(io_read_bytes);
}
static uint64_t v_written(const struct sample *s)
{
        return STAT(io_write_bytes);
}
static uint64_t v_rx(const struct sample *s)
{
        return s->measured ? s->rx : CGROUP_STAT_UNKNOWN;
}
static uint64_t v_tx(const struct sample *s)
{
        return s->measured ? s->tx : CGROUP_STAT_UNKNOWN;
}
static uint64_t v_oom(const struct sample *s)
{
        uint64_t now = STAT(oom_kills);
        return s->u->oom_kills_before + (now == CGROUP_STAT_UNKNOWN ? 0 : now);
}
#undef STAT

static void render(void *userdata, struct strbuf *b)
{
        struct manager *m = userdata;
        size_t n = m->n_units;
        _cleanup_free_ struct sample *ss = calloc(n ? n : 1, sizeof *ss);
        if (!ss) {
                b->error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                ss[i] = (struct sample){ .u = m->units[i], .state = unit_shown_state(m->units[i]) };
                measure(&ss[i]);
        }

        metrics_family(b, "berth_build_info", METRICS_GAUGE, "berthd's version (always 1).");
        metrics_u64(b, "berth_build_info", (struct metrics_label[]){ { "version", BERTH_VERSION } }, 1, 1);

        metrics_family(b, "berth_containers", METRICS_GAUGE, "Containers berthd knows, by state.");
        for (size_t k = 0; unit_shown_state_names[k]; k++) {
                uint64_t count = 0;
                for (size_t i = 0; i < n; i++)
                        count += streq(ss[i].state, unit_shown_state_names[k]);
                struct metrics_label l[] = { { "state", unit_shown_state_names[k] } };
                metrics_u64(b, "berth_containers", l, 1, count);
        }

        metrics_family(b, "berth_reloads_total", METRICS_COUNTER,
                       "Reloads of the definitions since berthd started, applied or refused.");
        metrics_u64(b, "berth_reloads_total", (struct metrics_label[]){ { "result", "applied" } }, 1,
                    m->reloads_applied);
        metrics_u64(b, "berth_reloads_total", (struct metrics_label[]){ { "result", "refused" } }, 1,
                    m->reloads_refused);

        metrics_family(b, "berth_events_total", METRICS_COUNTER,
                       "Events (berthctl events) emitted since berthd started.");
        metrics_u64(b, "berth_events_total", NULL, 0, m->events_seq);

        metrics_family(b, "berth_start_duration_seconds", METRICS_HISTOGRAM,
                       "Time from a start's launch to its container running (the spawner's report).");
        metrics_histogram_write(b, "berth_start_duration_seconds", NULL, 0, &m->start_seconds);

        metrics_family(b, "berth_container_state", METRICS_GAUGE,
                       "1 for the state the container is in (as berthctl ls shows it), 0 for the others.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; unit_shown_state_names[k]; k++) {
                        struct metrics_label l[] = { { "name", ss[i].u->name }, { "state", unit_shown_state_names[k] } };
                        metrics_u64(b, "berth_container_state", l, 2, streq(ss[i].state, unit_shown_state_names[k]));
                }

        per_container(b, ss, n, "berth_container_restarts_total", METRICS_COUNTER,
                      "Restarts by the restart policy (kept across berthd restarts, as berthctl ls shows them).", v_restarts);

        metrics_family(b, "berth_container_health_status", METRICS_GAUGE,
                       "1 for the health status of a running container with a health check, 0 for the others.");
        static const health_status_t hs[] = { HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };
        for (size_t i = 0; i < n; i++) {
                struct unit *u = ss[i].u;
                if (!u->spec || !u->spec->health.enabled || u->state != U_RUNNING)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(hs); k++) {
                        struct metrics_label l[] = { { "name", u->name }, { "status", health_status_to_string(hs[k]) } };
                        metrics_u64(b, "berth_container_health_status", l, 2, u->health.status == hs[k]);
                }
        }

        metrics_family(b, "berth_container_start_time_seconds", METRICS_GAUGE,
                       "When the running container started, seconds since the epoch.");
        for (size_t i = 0; i < n; i++) {
                struct unit *u = ss[i].u;
                if (u->state != U_RUNNING || !u->started_realtime)
                        continue;
                struct metrics_label l[] = { { "name", u->name } };
                metrics_double(b, "berth_container_start_time_seconds", l, 1, (double) u->started_realtime / 1e6);
        }

        metrics_family(b, "berth_container_cpu_seconds_total", METRICS_COUNTER,
                       "CPU time used by the running container's processes (its cgroup).");
        for (size_t i = 0; i < n; i++) {
                if (!ss[i].measured || ss[i].st.cpu_usage_ns == CGROUP_STAT_UNKNOWN)
                        continue;
                struct metrics_label l[] = { { "name", ss[i].u->name } };
                metrics_double(b, "berth_container_cpu_seconds_total", l, 1, (double) ss[i].st.cpu_usage_ns / 1e9);
        }

        per_container(b, ss, n, "berth_container_memory_bytes", METRICS_GAUGE,
                      "Memory the running container's cgroup uses.", v_memory);
        per_container(b, ss, n, "berth_container_memory_limit_bytes", METRICS_GAUGE,
                      "The memory limit of a running container that has one.", v_memory_limit);
        per_container(b, ss, n, "berth_container_pids", METRICS_GAUGE, "Processes (tasks) of the running container.",
                      v_pids);
        per_container(b, ss, n, "berth_container_pids_limit", METRICS_GAUGE,
                      "The pids limit of a running container that has one.", v_pids_limit);
        per_container(b, ss, n, "berth_container_block_read_bytes_total", METRICS_COUNTER,
                      "Bytes the running container read from block devices.", v_read);
        per_container(b, ss, n, "berth_container_block_written_bytes_total", METRICS_COUNTER,
                      "Bytes the running container wrote to block devices.", v_written);
        per_container(b, ss, n, "berth_container_network_receive_bytes_total", METRICS_COUNTER,
                      "Bytes received on the running container's interfaces but lo (not for the host's network).",
                      v_rx);
        per_container(b, ss, n, "berth_container_network_transmit_bytes_total", METRICS_COUNTER,
                      "Bytes sent on the running container's interfaces but lo (not for the host's network).", v_tx);
        per_container(b, ss, n, "berth_container_oom_kills_total", METRICS_COUNTER,
                      "Processes of the container the OOM killer ended, since berthd started or adopted it.", v_oom);
}

int manager_metrics_serve(struct manager *m, int listen_fd, struct error *e)
{
        return metrics_server_new(m->event, listen_fd, render, m, &m->metrics, e);
}
