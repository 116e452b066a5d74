/* Registers running containers with systemd-machined (machinectl list,
 * machinectl status, systemctl status of their scopes): RegisterMachine-
 * WithNetwork with the container's init as leader, so machined takes the
 * scope the leader already runs in (berth's berth-NAME.scope) and never
 * makes one of its own; UnregisterMachine when it ends. Calls are
 * asynchronous on berthd's sd-event loop, never waited for; the system bus
 * is opened at the first call (a berthctl run or exec never opens it).
 * Where no machined answers, nothing is registered (debug log only). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct machine_bus;

struct machine_info {
        const char *name;    /* the container's: a machine name must be a valid host name */
        const char *id;      /* 32 hex digits (state_container_id), or NULL */
        pid_t leader;        /* the container's init */
        const char *root;    /* its root directory as seen from the host */
        const int *ifindex;  /* host-side network interfaces */
        size_t n_ifindex;
};

/* Nothing is opened yet. NULL when out of memory. */
struct machine_bus *machine_bus_new(sd_event *e);
struct machine_bus *machine_bus_free(struct machine_bus *b);

/* Asks machined to register mi (a machine of class "container", service
 * "berth"); an already registered one (a restarted berthd) is left as is.
 * The outcome is logged when it arrives. 0, or -errno when the call could
 * not be sent (no system bus: then no later call tries again). */
int machine_register(struct machine_bus *b, const struct machine_info *mi);

/* Asks machined to forget NAME (its processes are not touched). */
int machine_unregister(struct machine_bus *b, const char *name);

/* True when name is one machined accepts (systemd's hostname_is_valid:
 * dot-separated labels of letters, digits and '-', at most 64). Pure. */
bool machine_name_is_valid(const char *name);
