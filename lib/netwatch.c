/* Plain rtnetlink (RTMGRP_LINK) rather than a libnl cache manager: we need
 * only RTM_DELLINK of bridges, which carry their IFLA_IFALIAS, and one fd
 * in sd-event, with no cache to keep in step. */
#include "netwatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net.h"
#include "util.h"

struct netwatch {
        int fd;
        sd_event_source *src;
        char owner[NET_OWNER_MAX];
        netwatch_lost_fn fn;
        void *userdata;
};

bool netwatch_alias_network(const char *alias, const char *owner, char *buf, size_t n)
{
        size_t pl = strlen(NET_BRIDGE_ALIAS_PREFIX);
        if (!alias || strncmp(alias, NET_BRIDGE_ALIAS_PREFIX, pl) != 0)
                return false;
        const char *net = alias + pl, *at = strrchr(net, '@');
        if (!at || at == net || !streq(at + 1, owner) || (size_t) (at - net) >= n)
                return false;
        memcpy(buf, net, (size_t) (at - net));
        buf[at - net] = 0;
        return name_is_valid(buf);
}

/* The string of attribute a, or NULL when it is not NUL-terminated. */
static const char *attr_str(const struct rtattr *a)
{
        size_t len = RTA_PAYLOAD(a);
        const char *s = RTA_DATA(a);
        return len > 0 && s[len - 1] == 0 ? s : NULL;
}

/* IFLA_INFO_KIND of IFLA_LINKINFO, or "". */
static const char *linkinfo_kind(const struct rtattr *info)
{
        int len = (int) RTA_PAYLOAD(info);
        for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_INFO_KIND) {
                        const char *k = attr_str(a);
                        return k ? k : "";
                }
        return "";
}

static void handle_dellink(struct netwatch *w, const struct nlmsghdr *h)
{
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                return;
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        int len = (int) (h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
        const char *name = NULL, *alias = NULL, *kind = "";
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                switch (a->rta_type) {
                case IFLA_IFNAME:
                        name = attr_str(a);
                        break;
                case IFLA_IFALIAS:
                        alias = attr_str(a);
                        break;
                case IFLA_LINKINFO:
                        kind = linkinfo_kind(a);
                        break;
                }
        char network[256];
        size_t vl = strlen(NET_VETH_ALIAS_PREFIX);
        if (!name || !alias)
                return;
        if (streq(kind, "bridge") && netwatch_alias_network(alias, w->owner, network, sizeof network))
                w->fn(NETWATCH_BRIDGE, network, name, w->userdata);
        else if (streq(kind, "veth") && strncmp(alias, NET_VETH_ALIAS_PREFIX, vl) == 0) {
                /* "<container>@<owner>" (eth0) or "<container>/<network>@<owner>"
                 * (an extra interface): ours only; without "@": from before
                 * owners, taken as ours. */
                char container[256];
                const char *at = strrchr(alias + vl, '@');
                size_t cl = at ? (size_t) (at - alias - vl) : strlen(alias + vl);
                if (cl >= sizeof container || (at && !streq(at + 1, w->owner)))
                        return;
                memcpy(container, alias + vl, cl);
                container[cl] = 0;
                char *slash = strchr(container, '/');
                if (slash)
                        *slash = 0;
                if (name_is_valid(container))
                        w->fn(NETWATCH_VETH, container, name, w->userdata);
        }
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) revents;
        struct netwatch *w = userdata;
        /* At most 64 reads per wake-up: a storm of link changes cannot
         * starve the rest of the loop (the fd stays readable). */
        for (int i = 0; i < 64; i++) {
                _Alignas(struct nlmsghdr) char buf[16384];
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) { /* messages were lost: any bridge may be gone */
                                w->fn(NETWATCH_OVERRUN, NULL, NULL, w->userdata);
                                continue;
                        }
                        return 0; /* EAGAIN */
                }
                int len = (int) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) buf; NLMSG_OK(h, (unsigned) len);
                     h = NLMSG_NEXT(h, len))
                        if (h->nlmsg_type == RTM_DELLINK)
                                handle_dellink(w, h);
        }
        return 0;
}

int netwatch_new(sd_event *event, const char *owner, netwatch_lost_fn fn, void *userdata, struct netwatch **ret)
{
        struct netwatch *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        snprintf(w->owner, sizeof w->owner, "%s", owner);
        w->fn = fn;
        w->userdata = userdata;
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (w->fd < 0) {
                int r = -errno;
                free(w);
                return r;
        }
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        int rcvbuf = 1 << 20;
        (void) setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (bind(w->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                netwatch_free(w);
                return r;
        }
        int r = sd_event_add_io(event, &w->src, w->fd, EPOLLIN, on_netlink, w);
        if (r < 0) {
                netwatch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

struct netwatch *netwatch_free(struct netwatch *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->src);
        if (w->fd >= 0)
                close(w->fd);
        free(w);
        return NULL;
}
