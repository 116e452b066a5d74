/* Owns berth's bridges, container veth pairs, their addresses and routes (over
 * netlink with libnl-route-3) and their IPv6 RA settings (accept_ra 0).
 * Never runs `ip`,
 * never touches nftables, never logs. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

/* A bridge is berth's when its IFLA_IFALIAS is "berth:<network>@<owner>":
 * owner names the berthd (or foreground run) that made it, from its state
 * directory (net_owner_id), and no berth ever changes or removes a bridge of
 * another owner. "berth:<network>" (berth before owners) is adopted by the
 * first owner that declares that network and never removed otherwise. */
#define NET_BRIDGE_ALIAS_PREFIX "berth:"
#define NET_OWNER_MAX 17

/* The owner id of the berth whose state directory is state_dir: 16 hex
 * digits of FNV-1a of its canonical path. */
void net_owner_id(const char *state_dir, char ret[NET_OWNER_MAX]);
/* A container's host-side veth carries "berth-veth:<container name>@<owner>"
 * (without "@<owner>": made by a berthd from before owners, taken as ours). */
#define NET_VETH_ALIAS_PREFIX "berth-veth:"
/* The container side of the pair, inside the container's netns. */
#define NET_CONTAINER_IFNAME "eth0"

/* A container's IPv6 address on a dual-stack network n: n's subnet6 with
 * the host number of its IPv4 address a (198.18.4.10/24 on 2001:db8:4::/64
 * is 2001:db8:4::a): IPAM of one family serves both, persisted as ever. */
void net_address6(const struct spec_network *n, struct in_addr a, struct in6_addr *ret);

/* The bridge interface of a network: n->bridge, or the network's name. */
const char *net_bridge_name(const struct spec_network *n);

/* Creates n's bridge for owner if missing (MTU, gateway/prefix, up, alias)
 * or updates owner's in place (MTU, alias, the only IPv4 address =
 * gateway/prefix, up), accept_ra 0 either way.
 * -EEXIST: a link of that name exists and is not a bridge of owner's.
 * -EBUSY: it is a berth bridge of another owner (another berthd's). */
int net_bridge_ensure(const struct spec_network *n, const char *owner);
/* Removes the bridge named bridge if owner made it. 0 when absent,
 * -EEXIST when it exists and is not owner's (left alone). */
int net_bridge_remove(const char *bridge, const char *owner);
/* The names of every bridge owner made (strv, caller frees). */
int net_bridge_list_ours(const char *owner, char ***ret);

/* The host-side veth name of a container: "vb-<name>" when it fits in 15
 * characters, else "vb-<first 6>-<5 hex digits of a stable hash of name>". */
void net_veth_name(const char *container, char ret[IFNAMSIZ]);
/* The name used instead when that one is taken by another berthd's (or
 * anyone's) link: "vx<13 hex digits of a hash of owner and name>". */
void net_veth_name_alt(const char *container, const char *owner, char ret[IFNAMSIZ]);
/* The name of owner's existing host veth of container (either name): 0,
 * -ENODEV when there is none. */
int net_container_veth(const char *container, const char *owner, char ifname[IFNAMSIZ]);

/* Connects the container whose network namespace is netns_fd (an fd of
 * /proc/PID/ns/net) to network n with address/prefix: a veth pair whose host
 * side (net_veth_name) is enslaved to the bridge and up, whose peer is eth0
 * inside with the address, up, with lo up and a default route via the
 * gateway. Router advertisements are refused (accept_ra 0) by the host veth
 * and, inside, by eth0, all and default. On failure nothing of it is left.
 * A stale host veth of the same container (owner's by alias) is replaced;
 * when its name is another's link, net_veth_name_alt's is used; -EEXIST
 * when both are taken. -ENODEV if the
 * bridge is missing or not ours (n->external: not a bridge, or a berth's).
 * address 0 (dhcp): eth0 up without address or route. */
int net_container_setup(const char *container, const char *owner, int netns_fd, const struct spec_network *n,
                        struct in_addr address);
/* Puts the container's host veth (ours by its alias) back on n's bridge
 * (ours), up, with hairpin: after someone deleted the bridge and berthd
 * made it again. -ENODEV when owner's veth or the bridge is missing. */
int net_container_reattach(const char *container, const char *owner, const struct spec_network *n);
/* Removes owner's host veths of the container, eth0's and every extra
 * interface's (their peers go with them); never another berthd's of the
 * same name. 0 when already gone. */
int net_container_teardown(const char *container, const char *owner);

/* Extra interfaces (network NAME { } in a container): eth1, eth2, ... on
 * berth's networks, beside eth0. Each is a veth pair whose host side is
 * net_attach_veth_name's, "vn<13 hex digits of a hash of owner, container
 * and network>", with the alias "berth-veth:<container>/<network>@<owner>"
 * (never taken for eth0's by an older berth: '/' is in no name). */
void net_attach_veth_name(const char *container, const char *owner, const char *network, char ret[IFNAMSIZ]);
/* As net_container_setup, for the extra interface eth<index> (index >= 1)
 * on network n: its address and the route to n's subnet, no default route.
 * -ENODEV when the bridge is missing or not berth's (n->external, a host
 * bridge: not a bridge, or a berth's). */
int net_container_attach(const char *container, const char *owner, int netns_fd, unsigned index,
                         const struct spec_network *n, struct in_addr address);
/* As net_container_reattach, for the container's extra interface on n. */
int net_container_attach_reattach(const char *container, const char *owner, const struct spec_network *n);
/* The host veth of the container's extra interface on network: 0 and its
 * name, -ENODEV when there is none of owner's. */
int net_container_attach_veth(const char *container, const char *owner, const char *network, char ifname[IFNAMSIZ]);
/* The names of owner's host veths of the container's extra interfaces
 * (strv, NULL when none; caller frees). */
int net_container_extra_veths(const char *container, const char *owner, char ***ret);
/* Gives the container whose network namespace is netns_fd an eth0 that is
 * a macvlan (mode bridge) or ipvlan (mode l2) child of the host interface
 * parent, with address/n->prefix and a default route via n->gateway (none
 * when 0; no address at all when address is 0: the container's own DHCP
 * client configures it). Nothing on the host side to tear down: the link
 * lives and dies with the namespace. -ENODEV when parent is missing. */
int net_container_vlan(const char *container, net_mode_t mode, const char *parent, int netns_fd,
                       const struct spec_network *n, struct in_addr address);
/* The same as the extra interface eth<index> (index >= 1): no default
 * route; a dhcp child's MAC from container and parent. */
int net_container_vlan_attach(const char *container, net_mode_t mode, const char *parent, int netns_fd,
                              unsigned index, const struct spec_network *n, struct in_addr address);
/* Brings lo up inside netns_fd (containers with network mode none), with
 * accept_ra 0 for all and default there. */
int net_loopback_up(int netns_fd);

/* The bytes received and sent on every interface but lo of the network
 * namespace of pid, from /proc/PID/net/dev. -ENODATA when pid is on the
 * host's network (its traffic is the host's); -errno when it is gone. */
int net_pid_bytes(pid_t pid, uint64_t *rx, uint64_t *tx);
