/* Owns the per-network hosts file <state>/networks/NETWORK.hosts: one line
 * "ADDRESS NAME NAME.NETWORK [HOSTNAME]" per running container on the
 * network. Every container on the network has it as its /etc/hosts (a hard
 * link, bound read-only), and it is rewritten in place, so a name added or
 * removed is seen at once by every container. Never touches links. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>

#define HOSTSFILE_MAX (4u << 20)

/* Pure: old (may be NULL) with name's line replaced by one for address, or
 * removed when address is NULL; the localhost lines and a comment first.
 * alias (may be NULL, or equal to name) is the container's hostname.
 * -EINVAL for a name, alias or network that is not a valid name. Caller
 * frees *ret. */
int hostsfile_update_text(const char *old, const char *network, const char *name, const char *alias,
                          const struct in_addr *address, char **ret);

/* The same on the file NETWORK.hosts in the directory dirfd (created when
 * missing), under an exclusive flock of the directory, rewritten in place:
 * the same inode, so the bind mounts of it see the change. A shorter text
 * is padded with newlines rather than truncated, so a reader never sees a
 * cut line. */
int hostsfile_set(int dirfd, const char *network, const char *name, const char *alias,
                  const struct in_addr *address);

/* Makes etc_dir/hosts a hard link of dirfd's NETWORK.hosts (atomically,
 * replacing what was there). -EXDEV when they are on different file
 * systems. */
int hostsfile_link(int dirfd, const char *network, const char *etc_dir);

/* Removes name's line from every *.hosts file of state_dir/networks. */
void hostsfile_forget(const char *state_dir, const char *name);
