/* Owns container health checks: the pure verdict (retries, start period)
 * over probe results, and the probes themselves (a command run inside the
 * container through exec, a TCP connect, an HTTP GET), each non-blocking
 * behind one fd. Never logs and never decides what to do about a verdict. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "exec.h"
#include "spec.h"

#define HEALTH_LAST_N 5
#define HEALTH_OUTPUT_MAX 4096        /* a command probe's output kept */
#define HEALTH_RESULT_OUTPUT_MAX 512  /* first lines of it in a result */

struct health_result {
        bool ok;
        int exit_status;            /* command: shell style (128+N if signalled); -1 otherwise */
        usec_t duration;            /* start to verdict */
        uint64_t started_realtime;  /* usec since the epoch */
        char output[HEALTH_RESULT_OUTPUT_MAX]; /* first lines of output, or the error */
};

typedef enum health_status {
        HEALTH_STARTING,
        HEALTH_HEALTHY,
        HEALTH_UNHEALTHY,
} health_status_t;

typedef enum health_transition {
        HEALTH_TRANSITION_NONE,
        HEALTH_TRANSITION_HEALTHY,   /* became healthy */
        HEALTH_TRANSITION_UNHEALTHY, /* became unhealthy: act on spec_health.on_failure */
} health_transition_t;

struct health_state {
        health_status_t status;
        uint32_t failures;     /* consecutive failures that counted */
        bool in_start_period;  /* until the first success or the period's end */
        struct health_result last[HEALTH_LAST_N]; /* ring buffer */
        uint32_t n_results;    /* results recorded since the reset */
};

/* ---- pure ---------------------------------------------------------------------- */

/* For a (re)started container: starting, no failures, in its start period. */
void health_state_reset(struct health_state *s);

/* Records one result, since_start after the container started. Failures
 * inside the start period do not count; the first success (or the period's
 * end) ends it. retries consecutive counted failures → unhealthy (retries
 * 0 counts as 1); one success → healthy. Returns the transition, if any. */
health_transition_t health_record(struct health_state *s, const struct spec_health *h, usec_t since_start,
                                  const struct health_result *r);

/* The i-th newest result (0 = the last one), or NULL. */
const struct health_result *health_state_result(const struct health_state *s, uint32_t i);

const char *health_status_to_string(health_status_t s); /* "starting", "healthy", "unhealthy" */

/* ---- probes ---------------------------------------------------------------------- */

struct health_target {
        struct exec_target exec;  /* the container: name, init pid + start, spec;
                                   * exec.spawner (optional): command probes are set
                                   * up there, and sockets in the container's network
                                   * namespace are made there, not by a fork of ours */
        struct in_addr address;   /* a bridged container's address, else INADDR_ANY */
        /* Optional: a cgroup manager kept between probes
         * (cgroup_manager_of_cached), for the look for a probe's leftovers
         * after it ends; NULL: opened per probe. */
        struct cgroup_manager **cgroup_cache;
        unsigned *cgroup_cache_gen; /* with cgroup_cache: bumped when it is replaced */
};

struct health_probe;

/* Starts one probe of h against t (command: exec_spawn with output into a
 * pipe; tcp/http: a non-blocking connect, from the host to the bridged
 * address or to 127.0.0.1 through a socket made in the container's network
 * namespace for network none, the host's loopback for network host).
 * A probe that cannot even start (command not found in the container,
 * container gone) is a started probe that is already done and failed;
 * only allocation failure is an error (-ENOMEM). */
int health_probe_start(const struct health_target *t, const struct spec_health *h, struct health_probe **ret);

/* The one fd to watch for EPOLLIN (an epoll fd; owned by the probe). */
int health_probe_fd(const struct health_probe *p);

/* Call when health_probe_fd() is readable: 1 when the verdict is in, 0 to
 * keep waiting. */
int health_probe_handle(struct health_probe *p, uint32_t revents);

/* Timeout: kills the probe's whole process group (it runs in the
 * container's cgroup and PID namespace), reaps it, and checks that no
 * process of the group is left in the container's cgroup; the result
 * becomes a failure "timed out". */
void health_probe_kill(struct health_probe *p);

/* -EBUSY while not done; otherwise 0 and the result. */
int health_probe_result(const struct health_probe *p, struct health_result *out);

/* Kills the probe if still running and frees it. NULL-safe, returns NULL. */
struct health_probe *health_probe_free(struct health_probe *p);
static inline void health_probe_freep(struct health_probe **p)
{
        health_probe_free(*p);
}
