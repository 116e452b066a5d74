/* Owns berthd's watch on its links: a NETLINK_ROUTE socket subscribed to
 * link changes, in the daemon's sd-event loop, that reports each bridge of
 * its owner, and each container veth, that was deleted. Never changes a
 * link itself; never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

struct netwatch;

enum netwatch_lost {
        NETWATCH_BRIDGE,  /* name: the network of a bridge "berth:<network>@<owner>" */
        NETWATCH_VETH,    /* name: the container of a host veth "berth-veth:<container>" */
        NETWATCH_OVERRUN, /* the kernel dropped messages: any of them may be gone; name NULL */
};

/* Called for a deleted bridge of the owner the watch was made for (net.h's
 * alias), a deleted container veth, or lost messages. ifname is the link's
 * name (NULL for NETWATCH_OVERRUN). */
typedef void (*netwatch_lost_fn)(enum netwatch_lost what, const char *name, const char *ifname, void *userdata);

/* Starts watching in event for bridges of owner. *ret is freed with
 * netwatch_free(). */
int netwatch_new(sd_event *event, const char *owner, netwatch_lost_fn fn, void *userdata, struct netwatch **ret);
struct netwatch *netwatch_free(struct netwatch *w);

/* Pure: the network of a bridge alias "berth:<network>@<owner>" of this
 * owner, into buf; false for any other alias (another owner's, a legacy
 * "berth:<network>", not berth's). */
bool netwatch_alias_network(const char *alias, const char *owner, char *buf, size_t n);
