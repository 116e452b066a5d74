/* The cross-check phase of reading definitions (config.c's helper): what
 * no single definition can say wrong on its own. Duplicate names,
 * dependencies and their cycles, networks, addresses, published ports, and
 * the seccomp profile files the set names. Reads those files; nothing else. */
#pragma once

#include "diag.h"
#include "spec.h"

/* Every check but the profiles'; names in unparsed (containers of files
 * that did not parse) are not reported as missing dependencies. Indexes
 * the set by name (spec_set_index). */
void config_check_set(struct spec_set *set, char *const *unparsed, struct diag *d);

/* Reads and checks every seccomp profile the set names, each file once,
 * reporting a bad one at every "seccomp =" line naming it, and records each
 * container's profile digest. 0 or -ENOMEM. */
int config_check_seccomp_profiles(struct spec_set *set, struct diag *d);
