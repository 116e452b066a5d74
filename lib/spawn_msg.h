/* The parent↔child wire of a container's birth (lib/spawn.c), shared with
 * berth-init (sbin/berth-init.c), which reports a failed exec of the
 * workload on it. Plain C, no dependencies: berth-init is linked static
 * from its own source only. */
#pragma once

#include <stdint.h>

#define SPAWN_ERROR_MAX 480

/* Exit codes in the tradition of other runtimes. */
#define SPAWN_EXIT_SETUP 125
#define SPAWN_EXIT_NOEXEC 126
#define SPAWN_EXIT_NOTFOUND 127

/* SPAWN_MSG_PID (exec only): berth-init's join mode reports the pid of the
 * process it cloned into the container, in code. */
enum { SPAWN_MSG_GO = 1, SPAWN_MSG_ERROR, SPAWN_MSG_PTY, SPAWN_MSG_PID };

struct spawn_msg {
        int32_t type;
        int32_t code; /* SPAWN_MSG_ERROR: the exit code the child will use; SPAWN_MSG_PID: the pid */
        char text[SPAWN_ERROR_MAX];
};
