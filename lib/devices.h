/* Owns the host devices a container is given (device blocks): each one
 * resolved to its host node and number, the refusal of the disk that holds
 * the host's root file system, and the device cgroup rule each adds. Only
 * looks (stat, /sys, /proc/self/mountinfo): mounts.c binds the nodes,
 * cgroup.c applies the rules. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "diag.h"
#include "error.h"
#include "mounts.h"
#include "spec.h"

struct devices_prepared {
        struct mounts_node nodes[SPEC_DEVICES_MAX];
        struct cgroup_device_rule rules[SPEC_DEVICES_MAX];
        size_t n;
};

/* The host node of d and its number: d->host as is (a character or block
 * device), or for "c 10:229" the node /sys/dev/char/10:229 names
 * (DEVNAME), checked to be that device. 0 or -errno with e saying why. */
int devices_resolve(const struct spec_device *d, char *host, size_t size, char *ret_type, uint32_t *ret_major,
                    uint32_t *ret_minor, struct error *e);

/* 1 when block device major:minor is the disk holding the host's / (or a
 * partition of it, or a disk under the device-mapper/md device holding
 * it), 0 when not, -errno when / cannot be traced. */
int devices_is_host_disk(uint32_t major, uint32_t minor);

/* Everything c's device blocks need at start: nodes to bind and cgroup
 * rules. A host disk without allow-host-disks is refused. 0 or -errno
 * with e set ("device '/dev/vda': ..."). */
int devices_prepare(const struct spec_container *c, struct devices_prepared *ret, struct error *e);

/* berthctl check: a FILE:LINE error for each device block that does not
 * resolve on this host, or is a host disk without allow-host-disks. */
void devices_preflight(const struct spec_container *c, struct diag *d);

/* "rw" → CGROUP_DEV_READ | CGROUP_DEV_WRITE. */
unsigned devices_access_bits(const char *access);
