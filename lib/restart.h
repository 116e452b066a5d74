/* What happens when a container's process exits: restarted after a back-off,
 * failed because it restarted too often, or left down. Pure computation on
 * the restart policy (berth.conf(5): restart, restart-delay,
 * restart-max-delay, restart-limit, restart-window): no syscalls, no
 * logging, no I/O, so every case is unit-tested (tests/unit/test_restart.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

struct restart_input {
        enum restart_policy policy;
        bool failure;        /* exited with a non-zero status, or stopped for health */
        bool health_restart; /* health on-failure = restart: restart whatever the policy */
        uint64_t now;        /* monotonic usec */
        uint64_t ran;        /* how long it ran (0: never started) */
        uint64_t delay, max_delay, window;
        uint32_t limit;      /* 0: no limit */
        uint32_t consecutive;        /* back-offs in a row so far */
        const uint64_t *times;       /* when earlier restarts happened (monotonic usec) */
        size_t n_times;
};

enum restart_verdict {
        RESTART_VERDICT_NONE,    /* the policy does not restart it */
        RESTART_VERDICT_LIMIT,   /* restart-limit restarts within restart-window: failed */
        RESTART_VERDICT_BACKOFF, /* restart after delay */
};

struct restart_decision {
        enum restart_verdict verdict;
        uint64_t delay;          /* BACKOFF: how long to wait */
        uint32_t consecutive;    /* the new count of back-offs in a row */
        size_t in_window;        /* restarts within the window (LIMIT reports it) */
};

/* The delay doubles with each consecutive restart, from delay up to
 * max_delay; a container that ran for a whole window has proved itself and
 * starts over at delay. */
void restart_decide(const struct restart_input *in, struct restart_decision *ret);
