/* The files of a container that runtime.c writes before it starts (see
 * runtime_files.c). runtime_build_env and runtime_seccomp_prepare, also
 * defined there, are declared in runtime.h. */
#pragma once

#include <stdbool.h>

#include "spec.h"

/* Replaces DIR/NAME with TEXT (0644), atomically. 0 or -errno. */
int runtime_write_text(const char *dir, const char *name, const char *text);

/* /etc/hosts (unless hosts_linked: its network's shared file), hostname and
 * resolv.conf of container c into the directory etc. 0 or -errno. */
int runtime_write_etc(const struct spec_container *c, const char *hostname, const struct spec_network *net,
                      bool hosts_linked, const char *etc);
