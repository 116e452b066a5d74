/* Owns hook commands (hook blocks): runs one on the host, with the
 * container's name, pid and state directory in its environment (as LXC's
 * hooks), its output collected, and kills it (its whole process group) at
 * its timeout. It blocks its caller until the hook has ended: berthd calls
 * it only off its event loop, in the spawner (pre-start, post-start) or in
 * a child it watches with sd_event_add_child (post-stop). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

#define HOOK_OUTPUT_MAX 1024 /* bytes of output kept for the message */

struct hook_env {
        const char *name;      /* BERTH_CONTAINER */
        pid_t pid;             /* BERTH_PID; 0: not set (pre-start) */
        const char *state_dir; /* BERTH_STATE_DIR: the container's directory */
        hook_kind_t kind;      /* BERTH_HOOK */
};

/* Runs h->command with stdin /dev/null, stdout and stderr on a pipe,
 * PATH=/usr/sbin:/usr/bin:/sbin:/bin and env. 0 when it exited 0;
 * -ETIMEDOUT (killed after h->timeout), -EPROTO (non-zero exit or a
 * signal), -errno (cannot run it): e says so with its output
 * ("hook pre-start: exited with status 3: no database"). */
int hooks_run(const struct spec_hook *h, const struct hook_env *env, struct error *e);
