/* Owns berthd's watch on its bridges: a NETLINK_ROUTE socket subscribed to
 * link changes, in the daemon's sd-event loop, that reports each bridge of
 * its owner someone deleted. Never changes a link itself; never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

struct netwatch;

/* Called for a deleted bridge whose alias is "berth:<network>@<owner>"
 * (net.h) of the owner the watch was made for; network NULL when the
 * kernel dropped messages (the socket overran), so that any bridge may be
 * gone. */
typedef void (*netwatch_lost_fn)(const char *network, const char *bridge, void *userdata);

/* Starts watching in event for bridges of owner. *ret is freed with
 * netwatch_free(). */
int netwatch_new(sd_event *event, const char *owner, netwatch_lost_fn fn, void *userdata, struct netwatch **ret);
struct netwatch *netwatch_free(struct netwatch *w);

/* Pure: the network of a bridge alias "berth:<network>@<owner>" of this
 * owner, into buf; false for any other alias (another owner's, a legacy
 * "berth:<network>", not berth's). */
bool netwatch_alias_network(const char *alias, const char *owner, char *buf, size_t n);
