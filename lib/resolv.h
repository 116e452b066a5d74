/* Owns the choice of a container's name servers: which file holds the
 * host's real upstream servers (following systemd-resolved's stub), and the
 * text of the container's /etc/resolv.conf made from it. Only reads; never
 * logs. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>

/* The host's resolver configuration: $BERTH_RESOLV_CONF when set, else
 * /etc/resolv.conf. */
#define RESOLV_DEFAULT_PATH "/etc/resolv.conf"
#define RESOLV_ENV "BERTH_RESOLV_CONF"
/* systemd-resolved's list of the upstream servers it uses itself. */
#define RESOLV_RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"
#define RESOLV_RESOLVED_STUB "127.0.0.53"
#define RESOLV_FILE_MAX 65536

/* Pure: text has nameservers and every one is systemd-resolved's stub
 * (127.0.0.53): the host's real servers are in RESOLV_RESOLVED_UPSTREAM. */
bool resolv_is_resolved_stub(const char *text);

/* Pure: the first IPv4 loopback nameserver of text when text has no
 * nameserver a container can reach (all are on loopback): *ret, true. */
bool resolv_loopback_only(const char *text, struct in_addr *ret);

/* Pure: a container's resolv.conf. dns (NULL-terminated, may be NULL):
 * one nameserver line each (IPv4/IPv6 literals, else -EINVAL), nothing
 * else. Otherwise host_text (may be NULL) without its loopback
 * nameservers, which inside the container would mean the container itself;
 * when that leaves none and gateway is given (the container is on a
 * bridge) and host_text had an IPv4 loopback one, "nameserver <gateway>",
 * which berth's nftables table forwards to that server
 * (resolv_loopback_only, nat.h). Caller frees *ret. */
int resolv_container_text(char *const *dns, const char *host_text, const struct in_addr *gateway, char **ret);

/* The text of the host's resolver configuration as containers should see
 * it: the file of RESOLV_ENV or RESOLV_DEFAULT_PATH (symlinks followed), or
 * RESOLV_RESOLVED_UPSTREAM instead when the former points at the stub.
 * Missing files give "". Caller frees *ret. */
int resolv_host_text(char **ret);
