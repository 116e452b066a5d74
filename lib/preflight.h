/* Owns the checks of what valid definitions refer to on this host: that
 * each template exists (built, imported or buildable from a script), each
 * rootfs is a directory, and no published port is held by a host socket
 * (hostports.h). Only looks (stat, access, /proc); never builds, never
 * changes anything. */
#pragma once

#include "diag.h"
#include "spec.h"

/* Adds a FILE:LINE error to d for every container of set whose template is
 * neither in state_dir/templates nor a script NAME.sh in scripts_dir, or
 * whose rootfs is not a directory, or that publishes a port a host socket
 * holds. state_dir may be absent (then only the
 * scripts count); scripts_dir NULL means template_scripts_dir(). Returns
 * the number of errors added. */
size_t preflight_check(const struct spec_set *set, const char *state_dir, const char *scripts_dir, struct diag *d);
/* The host interfaces definitions name, in this network namespace: an
 * operator's bridge (network.bridge, or a titled network block on a
 * bridge no file declares) exists and is a bridge that is not a berth
 * network's; a macvlan/ipvlan parent exists. FILE:LINE errors; their
 * number. For check and reload (a start refuses the same with its reason:
 * at boot an interface may come up after berthd). */
size_t preflight_host_interfaces(const struct spec_set *set, struct diag *d);
