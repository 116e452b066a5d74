/* Transient systemd scope units for containers on cgroup v2 hosts run by
 * systemd: asks the service manager over D-Bus to move the calling process
 * into a new delegated scope (machine.slice/berth-NAME.scope). Never logs,
 * never writes cgroup files itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct scope_params {
        const char *unit;        /* "berth-web.scope" (scope_unit_name) */
        const char *slice;       /* "machine.slice" */
        const char *description; /* "berth container web" */
        const char *before;      /* a unit the scope is ordered before (stopped after), or NULL */
        uint64_t timeout_usec;   /* how long to wait for systemd's job */
};

/* "<prefix>-<container>.scope" into buf; -EINVAL when it would not be a
 * valid unit name (too long, characters systemd refuses). Pure. */
int scope_unit_name(const char *prefix, const char *container, char *buf, size_t n);

/* The cgroup of slice (e.g. "a-b.slice" → "/a.slice/a-b.slice"), relative
 * to the cgroup2 mount, into buf. -EINVAL for a name that is not a slice.
 * Pure. */
int scope_slice_path(const char *slice, char *buf, size_t n);

/* True when the system manager is systemd and answers on the system bus. */
bool scope_available(void);

/* Starts the transient scope p->unit with Delegate=yes holding the calling
 * process and waits (at most p->timeout_usec) until systemd reports the
 * job done and the process is in the scope's cgroup. A scope of the same
 * name that failed earlier is reset first. On failure e says why
 * (systemd's own message where there is one). */
int scope_enter(const struct scope_params *p, struct error *e);
