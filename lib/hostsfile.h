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

/* A container on several networks has a hosts file of its own,
 * hosts.d/NAME in the networks directory: the entries of each of its
 * networks' files in its order (eth0's network first), a name given once,
 * by the first line that has it (so the bare NAME of a peer on two of them
 * is its address on the first; NAME.NETWORK each network's). Its header
 * names the networks; every change of one of their files rewrites it in
 * place (same inode, as for the network files). */
#define HOSTSFILE_OWN_DIR "hosts.d"
#define HOSTSFILE_NETS_MAX 16

/* Pure: the text of name's own hosts file on nets[0..n) (n >= 1), from
 * their files' texts (texts[i] NULL: empty). -EINVAL for a name that is not
 * valid, n out of range. Caller frees *ret. */
int hostsfile_own_text(const char *name, const char *const *nets, const char *const *texts, size_t n, char **ret);
/* The networks an own hosts file's header names (at most max, in order);
 * -EINVAL when text is not one. */
int hostsfile_own_networks(const char *text, char nets[][64], size_t max, size_t *n);

/* Makes (or brings up to date, in place) name's own hosts file on nets,
 * under the directory's flock. */
int hostsfile_own_set(int dirfd, const char *name, const char *const *nets, size_t n);
/* Makes etc_dir/hosts a hard link of name's own hosts file. -EXDEV as
 * hostsfile_link. */
int hostsfile_own_link(int dirfd, const char *name, const char *etc_dir);
/* Removes name's own hosts file (0 when there is none). */
int hostsfile_own_remove(int dirfd, const char *name);
/* Rewrites every own hosts file of state_dir/networks from the network
 * files as they are now (berthd's start: a crash between a network file's
 * rewrite and its dependents' leaves them behind). */
void hostsfile_resync(const char *state_dir);

/* Removes name's line from every *.hosts file of state_dir/networks, and
 * its own hosts file. */
void hostsfile_forget(const char *state_dir, const char *name);
