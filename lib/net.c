/* Bridges, veth pairs, addresses and routes over rtnetlink (libnl-route-3).
 * Work inside a container's netns goes through a netlink socket created
 * after setns() into it and before setns() back: the socket stays bound to
 * the namespace it was created in, so no child and no thread is needed.
 * The same goes for /proc/sys/net, which shows the writer's namespace. */
#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <linux/magic.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free, nl_sock_freep)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put, link_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put, addr_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put, nladdr_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put, route_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free, cache_freep)
#define _cleanup_sock_ _cleanup_(nl_sock_freep)
#define _cleanup_link_ _cleanup_(link_putp)

/* libnl returns -NLE_*; callers of this module get -errno. */
static int nlerr(int e)
{
        switch (e < 0 ? -e : e) {
        case 0:
                return 0;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_NODEV:
        case NLE_OBJ_NOTFOUND:
                return -ENODEV;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_PERM:
        case NLE_NOACCESS:
                return -EPERM;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
                return -EINVAL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        default:
                return -EIO;
        }
}

static int nl_open(struct nl_sock **ret)
{
        struct nl_sock *s = nl_socket_alloc();
        if (!s)
                return -ENOMEM;
        int r = nl_connect(s, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(s);
                return nlerr(r);
        }
        /* nl_connect does not set close-on-exec. */
        if (fcntl(nl_socket_get_fd(s), F_SETFD, FD_CLOEXEC) < 0) {
                r = -errno;
                nl_socket_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* A netlink socket bound to the network namespace netns_fd. */
static int nl_open_in(int netns_fd, struct nl_sock **ret)
{
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        int r = nl_open(ret);
        /* Returning to our own namespace cannot fail short of a broken
         * kernel; carrying on in the container's netns would be far worse. */
        if (setns(self, CLONE_NEWNET) < 0)
                abort();
        return r;
}

/* accept_ra = 0 for ifname ("all", "default" or a link) in the caller's
 * network namespace (/proc/sys/net follows the writer's netns), through a
 * procfs fd we checked. berth configures no IPv6: a router advertisement a
 * container sends (it has CAP_NET_RAW) must not give the host or its
 * neighbours addresses or routes (CVE-2020-13401). No conf directory means
 * no IPv6 on that link (ipv6.disable=1, MTU below 1280): nothing to do. */
/* Writes text (2 bytes) to path, which must be on a file system of type
 * magic (procfs, sysfs: never a look-alike a container mounted). */
static int write_kernel_knob(const char *path, long magic, const char *text)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return -errno;
        if (sf.f_type != magic)
                return -EXDEV;
        if (write(fd, text, 2) != 2)
                return -errno;
        return 0;
}

static int ipv6_ra_off(const char *ifname)
{
        char path[80];
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", ifname);
        int r = write_kernel_knob(path, PROC_SUPER_MAGIC, "0\n");
        return r == -ENOENT ? 0 : r;
}

/* ipv6_ra_off() for each of ifnames (NULL-terminated) inside netns_fd. */
static int ipv6_ra_off_in(int netns_fd, const char *const *ifnames)
{
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        int r = 0;
        for (; *ifnames && r >= 0; ifnames++)
                r = ipv6_ra_off(*ifnames);
        /* As in nl_open_in: never carry on in the container's netns. */
        if (setns(self, CLONE_NEWNET) < 0)
                abort();
        return r;
}

/* hairpin_mode on the bridge port ifname (host netns, sysfs): with
 * br_netfilter loaded, a container's connection to its own published port
 * through the host is DNATed at the bridge and must leave by the port it
 * came in by (Docker sets the same when its userland proxy is off). */
static int bridge_port_hairpin(const char *ifname)
{
        char path[96];
        snprintf(path, sizeof path, "/sys/class/net/%s/brport/hairpin_mode", ifname);
        return write_kernel_knob(path, SYSFS_MAGIC, "1\n");
}

static const char *link_kind(struct rtnl_link *l)
{
        const char *k = rtnl_link_get_type(l);
        return k ? k : "";
}

static bool alias_is(struct rtnl_link *l, const char *prefix, const char *name)
{
        const char *a = rtnl_link_get_ifalias(l);
        size_t pl = strlen(prefix);
        if (!a || strncmp(a, prefix, pl) != 0)
                return false;
        return !name || streq(a + pl, name);
}

/* Any berth's bridge (a container may join the bridge of its network
 * whoever made it). */
static bool link_is_our_bridge(struct rtnl_link *l)
{
        return streq(link_kind(l), "bridge") && alias_is(l, NET_BRIDGE_ALIAS_PREFIX, NULL);
}

/* A bridge owner made: "berth:<any network>@owner". */
static bool bridge_owned_by(struct rtnl_link *l, const char *owner)
{
        if (!link_is_our_bridge(l))
                return false;
        const char *a = rtnl_link_get_ifalias(l), *at = strrchr(a, '@');
        return at && streq(at + 1, owner);
}

void net_owner_id(const char *state_dir, char ret[NET_OWNER_MAX])
{
        char buf[PATH_MAX];
        const char *p = realpath(state_dir, buf) ? buf : state_dir;
        snprintf(ret, NET_OWNER_MAX, "%016llx",
                 (unsigned long long) fnv1a64(FNV1A64_INIT, p, strlen(p)));
}

/* 0 and *ret, -ENODEV when absent, other -errno. */
static int link_get(struct nl_sock *s, const char *name, struct rtnl_link **ret)
{
        return nlerr(rtnl_link_get_kernel(s, 0, name, ret));
}

static int link_set_up(struct nl_sock *s, struct rtnl_link *l)
{
        if (rtnl_link_get_flags(l) & IFF_UP)
                return 0;
        _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_flags(change, IFF_UP);
        return nlerr(rtnl_link_change(s, l, change, 0));
}

static int nladdr_v4(struct in_addr a, int prefix, struct nl_addr **ret)
{
        struct nl_addr *x = nl_addr_build(AF_INET, &a, sizeof a);
        if (!x)
                return -ENOMEM;
        nl_addr_set_prefixlen(x, prefix);
        *ret = x;
        return 0;
}

static int addr_add(struct nl_sock *s, int ifindex, struct in_addr a, int prefix)
{
        _cleanup_(addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_(nladdr_putp) struct nl_addr *local = NULL;
        if (!ra)
                return -ENOMEM;
        int r = nladdr_v4(a, prefix, &local);
        if (r < 0)
                return r;
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, AF_INET);
        r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return nlerr(r);
        rtnl_addr_set_prefixlen(ra, prefix);
        return nlerr(rtnl_addr_add(s, ra, 0));
}

/* a/prefix (IPv6) on ifindex, without duplicate address detection: the
 * address is usable at once (berth hands out each one once per network). */
static int addr_add6(struct nl_sock *s, int ifindex, const struct in6_addr *a, int prefix)
{
        _cleanup_(addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_(nladdr_putp) struct nl_addr *local = nl_addr_build(AF_INET6, a, sizeof *a);
        if (!ra || !local)
                return -ENOMEM;
        nl_addr_set_prefixlen(local, prefix);
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, AF_INET6);
        int r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return nlerr(r);
        rtnl_addr_set_prefixlen(ra, prefix);
        rtnl_addr_set_flags(ra, IFA_F_NODAD);
        r = nlerr(rtnl_addr_add(s, ra, NLM_F_REPLACE));
        return r == -EEXIST ? 0 : r;
}

static int route_add_default6(struct nl_sock *s, int ifindex, const struct in6_addr *gateway)
{
        _cleanup_(route_putp) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nladdr_putp) struct nl_addr *dst = nl_addr_build(AF_INET6, &in6addr_any, sizeof in6addr_any);
        _cleanup_(nladdr_putp) struct nl_addr *gw = nl_addr_build(AF_INET6, gateway, sizeof *gateway);
        if (!rt || !dst || !gw)
                return -ENOMEM;
        nl_addr_set_prefixlen(dst, 0);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!nh)
                return -ENOMEM;
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(rt, nh);
        rtnl_route_set_family(rt, AF_INET6);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        int r = rtnl_route_set_dst(rt, dst);
        if (r < 0)
                return nlerr(r);
        return nlerr(rtnl_route_add(s, rt, NLM_F_EXCL));
}

void net_address6(const struct spec_network *n, struct in_addr a, struct in6_addr *ret)
{
        uint32_t host = ntohl(a.s_addr) & (n->prefix >= 32 ? 0 : ~0U >> n->prefix);
        *ret = n->subnet6;
        for (int i = 0; i < 4; i++)
                ret->s6_addr[15 - i] |= (uint8_t) (host >> (8 * i));
}

const char *net_bridge_name(const struct spec_network *n)
{
        return n->bridge && n->bridge[0] ? n->bridge : n->name;
}

struct addr_sync {
        struct nl_sock *sock;
        int ifindex;
        struct in_addr want;
        int prefix;
        bool present;
        int error;
};

static void addr_sync_one(struct nl_object *o, void *data)
{
        struct addr_sync *x = data;
        struct rtnl_addr *a = (struct rtnl_addr *) o;
        if (rtnl_addr_get_ifindex(a) != x->ifindex || rtnl_addr_get_family(a) != AF_INET)
                return;
        struct nl_addr *local = rtnl_addr_get_local(a);
        if (local && nl_addr_get_len(local) == sizeof(struct in_addr) &&
            memcmp(nl_addr_get_binary_addr(local), &x->want, sizeof x->want) == 0 &&
            rtnl_addr_get_prefixlen(a) == x->prefix) {
                x->present = true;
                return;
        }
        int r = nlerr(rtnl_addr_delete(x->sock, a, 0));
        if (r < 0 && x->error == 0)
                x->error = r;
}

/* Makes gateway/prefix the only IPv4 address of ifindex. */
static int bridge_sync_address(struct nl_sock *s, int ifindex, const struct spec_network *n)
{
        _cleanup_(cache_freep) struct nl_cache *cache = NULL;
        int r = nlerr(rtnl_addr_alloc_cache(s, &cache));
        if (r < 0)
                return r;
        struct addr_sync x = { .sock = s, .ifindex = ifindex, .want = n->gateway, .prefix = n->prefix };
        nl_cache_foreach(cache, addr_sync_one, &x);
        if (x.error < 0)
                return x.error;
        if (x.present)
                return 0;
        return addr_add(s, ifindex, n->gateway, n->prefix);
}

int net_bridge_ensure(const struct spec_network *n, const char *owner)
{
        const char *name = net_bridge_name(n);
        if (strlen(name) >= IFNAMSIZ)
                return -EINVAL;
        _cleanup_free_ char *alias = strdup_printf(NET_BRIDGE_ALIAS_PREFIX "%s@%s", n->name, owner);
        _cleanup_free_ char *legacy = strdup_printf(NET_BRIDGE_ALIAS_PREFIX "%s", n->name);
        if (!alias || !legacy)
                return -ENOMEM;
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;

        _cleanup_link_ struct rtnl_link *cur = NULL, *change = NULL;
        r = link_get(s, name, &cur);
        bool created = false;
        if (r == -ENODEV) {
                _cleanup_link_ struct rtnl_link *br = rtnl_link_bridge_alloc();
                if (!br)
                        return -ENOMEM;
                rtnl_link_set_name(br, name);
                if (n->mtu)
                        rtnl_link_set_mtu(br, n->mtu);
                r = nlerr(rtnl_link_add(s, br, NLM_F_CREATE | NLM_F_EXCL));
                if (r < 0)
                        return r;
                created = true;
                r = link_get(s, name, &cur);
                if (r < 0)
                        goto out_delete;
        } else if (r < 0)
                return r;
        else if (!link_is_our_bridge(cur))
                return -EEXIST;
        else if (!alias_is(cur, "", alias) && !alias_is(cur, "", legacy))
                return -EBUSY; /* another berthd's */

        /* Before it is up (and every time: bridges of older berths). */
        r = ipv6_ra_off(name);
        if (r < 0)
                goto out_delete;
        /* The kernel ignores IFLA_IFALIAS when creating a link: set it (and
         * whatever else differs) with one change request. */
        change = rtnl_link_alloc();
        if (!change) {
                r = -ENOMEM;
                goto out_delete;
        }
        bool changed = false;
        if (!alias_is(cur, "", alias)) {
                rtnl_link_set_ifalias(change, alias);
                changed = true;
        }
        if (n->mtu && rtnl_link_get_mtu(cur) != n->mtu) {
                rtnl_link_set_mtu(change, n->mtu);
                changed = true;
        }
        if (!(rtnl_link_get_flags(cur) & IFF_UP)) {
                rtnl_link_set_flags(change, IFF_UP);
                changed = true;
        }
        if (changed) {
                r = nlerr(rtnl_link_change(s, cur, change, 0));
                if (r < 0)
                        goto out_delete;
        }
        r = bridge_sync_address(s, rtnl_link_get_ifindex(cur), n);
        if (r >= 0 && n->v6)
                r = addr_add6(s, rtnl_link_get_ifindex(cur), &n->gateway6, n->prefix6);
        if (r < 0)
                goto out_delete;
        return 0;

out_delete:
        if (created) {
                _cleanup_link_ struct rtnl_link *del = rtnl_link_alloc();
                if (del) {
                        rtnl_link_set_name(del, name);
                        (void) rtnl_link_delete(s, del);
                }
        }
        return r;
}

int net_bridge_remove(const char *bridge, const char *owner)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *cur = NULL;
        r = link_get(s, bridge, &cur);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        if (!bridge_owned_by(cur, owner))
                return -EEXIST;
        r = nlerr(rtnl_link_delete(s, cur));
        return r == -ENODEV ? 0 : r;
}

struct list_ours {
        const char *owner;
        char **names;
        int error;
};

static void list_ours_one(struct nl_object *o, void *data)
{
        struct list_ours *x = data;
        struct rtnl_link *l = (struct rtnl_link *) o;
        if (x->error == 0 && bridge_owned_by(l, x->owner) && rtnl_link_get_name(l))
                x->error = strv_push(&x->names, rtnl_link_get_name(l));
}

int net_bridge_list_ours(const char *owner, char ***ret)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_(cache_freep) struct nl_cache *cache = NULL;
        r = nlerr(rtnl_link_alloc_cache(s, AF_UNSPEC, &cache));
        if (r < 0)
                return r;
        struct list_ours x = { .owner = owner };
        nl_cache_foreach(cache, list_ours_one, &x);
        if (x.error < 0) {
                strv_free(x.names);
                return x.error;
        }
        if (!x.names) {
                x.names = calloc(1, sizeof(char *));
                if (!x.names)
                        return -ENOMEM;
        }
        *ret = x.names;
        return 0;
}

void net_veth_name(const char *container, char ret[IFNAMSIZ])
{
        size_t len = strlen(container);
        if (len <= IFNAMSIZ - 1 - 3) {
                (void) snprintf(ret, IFNAMSIZ, "vb-%s", container);
                return;
        }
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *) container; *p; p++)
                h = (h ^ *p) * 16777619u;
        (void) snprintf(ret, IFNAMSIZ, "vb-%.6s-%05x", container, (unsigned) (h & 0xfffff));
}

void net_veth_name_alt(const char *container, const char *owner, char ret[IFNAMSIZ])
{
        uint64_t h = fnv1a64(FNV1A64_INIT, owner, strlen(owner));
        h = fnv1a64(h, "/", 1);
        h = fnv1a64(h, container, strlen(container));
        (void) snprintf(ret, IFNAMSIZ, "vx%013llx", (unsigned long long) (h & 0xfffffffffffffull));
}

void net_attach_veth_name(const char *container, const char *owner, const char *network, char ret[IFNAMSIZ])
{
        uint64_t h = fnv1a64(FNV1A64_INIT, owner, strlen(owner));
        h = fnv1a64(h, "/", 1);
        h = fnv1a64(h, container, strlen(container));
        h = fnv1a64(h, "/", 1);
        h = fnv1a64(h, network, strlen(network));
        (void) snprintf(ret, IFNAMSIZ, "vn%013llx", (unsigned long long) (h & 0xfffffffffffffull));
}

/* The host veth of container made by owner: alias
 * "berth-veth:<container>@<owner>"; one without "@" was made before
 * owners were recorded (a single berthd) and counts as ours. */
static bool veth_is_ours(struct rtnl_link *l, const char *container, const char *owner)
{
        /* container may be "NAME/NETWORK": an extra interface's key. */
        const char *a = rtnl_link_get_ifalias(l);
        size_t pl = strlen(NET_VETH_ALIAS_PREFIX), cl = strlen(container);
        if (!streq(link_kind(l), "veth") || !a || strncmp(a, NET_VETH_ALIAS_PREFIX, pl) != 0 ||
            strncmp(a + pl, container, cl) != 0)
                return false;
        a += pl + cl;
        return *a == 0 || (*a == '@' && streq(a + 1, owner));
}

/* Deletes the host veth named ifname when it is container's of owner's.
 * 0 when absent or deleted, -EEXIST when it is someone else's. */
static int veth_remove_ours(struct nl_sock *s, const char *ifname, const char *container, const char *owner)
{
        _cleanup_link_ struct rtnl_link *cur = NULL;
        int r = link_get(s, ifname, &cur);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        if (!veth_is_ours(cur, container, owner))
                return -EEXIST;
        r = nlerr(rtnl_link_delete(s, cur));
        return r == -ENODEV ? 0 : r;
}

/* The existing host veth of container of owner's, under either of its
 * names: 0 and *ret (and its name in ifname), -ENODEV when there is none. */
static int veth_find_ours(struct nl_sock *s, const char *container, const char *owner, char ifname[IFNAMSIZ],
                          struct rtnl_link **ret)
{
        char names[2][IFNAMSIZ];
        net_veth_name(container, names[0]);
        net_veth_name_alt(container, owner, names[1]);
        for (int i = 0; i < 2; i++) {
                _cleanup_link_ struct rtnl_link *l = NULL;
                int r = link_get(s, names[i], &l);
                if (r == -ENODEV)
                        continue;
                if (r < 0)
                        return r;
                if (!veth_is_ours(l, container, owner))
                        continue;
                memcpy(ifname, names[i], IFNAMSIZ);
                if (ret)
                        *ret = TAKE_PTR(l);
                return 0;
        }
        return -ENODEV;
}

int net_container_veth(const char *container, const char *owner, char ifname[IFNAMSIZ])
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        return veth_find_ours(s, container, owner, ifname, NULL);
}

/* eth0's MAC is 02:62:<IPv4 address>, locally administered and stable:
 * a container restarted with the same address keeps its MAC, so its peers'
 * ARP entries stay right (a random MAC would blackhole them for ~30 s).
 * Without an address (dhcp) 02:63:<hash of seed>, as stable, so the LAN's
 * DHCP server hands it the same lease again. */
static int container_lladdr(struct in_addr address, const char *seed, struct nl_addr **ret)
{
        uint8_t mac[6] = { 0x02, 0x62 };
        if (address.s_addr)
                memcpy(mac + 2, &address.s_addr, 4);
        else {
                uint64_t h = fnv1a64(FNV1A64_INIT, seed, strlen(seed));
                mac[1] = 0x63;
                memcpy(mac + 2, &h, 4);
        }
        *ret = nl_addr_build(AF_LLC, mac, sizeof mac);
        return *ret ? 0 : -ENOMEM;
}

static int veth_create(struct nl_sock *s, const char *ifname, const char *peer_name, int master, int netns_fd,
                       uint32_t mtu, struct in_addr address)
{
        _cleanup_(nladdr_putp) struct nl_addr *lladdr = NULL;
        int r = container_lladdr(address, ifname, &lladdr);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
        if (!veth)
                return -ENOMEM;
        _cleanup_link_ struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        if (!peer)
                return -ENOMEM;
        rtnl_link_set_name(veth, ifname);
        rtnl_link_set_master(veth, master);
        rtnl_link_set_flags(veth, IFF_UP);
        /* The peer is born inside the container's netns, already named. */
        rtnl_link_set_name(peer, peer_name);
        rtnl_link_set_ns_fd(peer, netns_fd);
        rtnl_link_set_addr(peer, lladdr);
        if (mtu) {
                rtnl_link_set_mtu(veth, mtu);
                rtnl_link_set_mtu(peer, mtu);
        }
        return nlerr(rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL));
}

static int route_add_default(struct nl_sock *s, int ifindex, struct in_addr gateway)
{
        _cleanup_(route_putp) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nladdr_putp) struct nl_addr *dst = NULL, *gw = NULL;
        if (!rt)
                return -ENOMEM;
        struct in_addr any = { 0 };
        int r = nladdr_v4(any, 0, &dst);
        if (r < 0)
                return r;
        r = nladdr_v4(gateway, 32, &gw);
        if (r < 0)
                return r;
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!nh)
                return -ENOMEM;
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(rt, nh); /* rt owns nh from here */
        rtnl_route_set_family(rt, AF_INET);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        r = rtnl_route_set_dst(rt, dst);
        if (r < 0)
                return nlerr(r);
        return nlerr(rtnl_route_add(s, rt, NLM_F_EXCL));
}

/* Inside the container's netns: lo and ifname up, address, and (primary:
 * eth0) the default route. No address (dhcp: the container's own client),
 * no gateway: neither. An extra interface: up, its addresses, no default
 * route (its subnet's route comes with the address). */
static int container_configure_if(int netns_fd, const char *ifname, bool primary, const struct spec_network *n,
                                  struct in_addr address)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open_in(netns_fd, &s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *lo = NULL, *eth = NULL;
        r = link_get(s, "lo", &lo);
        if (r < 0)
                return r;
        r = link_set_up(s, lo);
        if (r < 0)
                return r;
        r = link_get(s, ifname, &eth);
        if (r < 0)
                return r;
        r = link_set_up(s, eth);
        if (r < 0)
                return r;
        int ifindex = rtnl_link_get_ifindex(eth);
        if (!address.s_addr)
                return 0;
        r = addr_add(s, ifindex, address, n->prefix);
        if (r >= 0 && primary && n->gateway.s_addr)
                r = route_add_default(s, ifindex, n->gateway);
        if (r < 0 || !n->v6)
                return r;
        struct in6_addr a6;
        net_address6(n, address, &a6);
        r = addr_add6(s, ifindex, &a6, n->prefix6);
        if (r < 0 || !primary)
                return r;
        return route_add_default6(s, ifindex, &n->gateway6);
}

/* A bridge no berth made (no berth alias): the operator's br0. */
static bool link_is_foreign_bridge(struct rtnl_link *l)
{
        const char *a = rtnl_link_get_ifalias(l);
        return streq(link_kind(l), "bridge") && !(a && strncmp(a, NET_BRIDGE_ALIAS_PREFIX, strlen(NET_BRIDGE_ALIAS_PREFIX)) == 0);
}

/* A macvlan/ipvlan child of parent named ifname in netns_fd, configured
 * (primary: eth0, with lo and the default route); seed makes a dhcp
 * child's MAC. */
static int vlan_make(const char *seed, net_mode_t mode, const char *parent, int netns_fd, const char *ifname,
                     bool primary, const struct spec_network *n, struct in_addr address)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *p = NULL;
        r = link_get(s, parent, &p);
        if (r < 0)
                return r;
        r = ipv6_ra_off_in(netns_fd, (const char *const[]){ "all", "default", NULL });
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *l = mode == NET_MACVLAN ? rtnl_link_macvlan_alloc() : rtnl_link_ipvlan_alloc();
        if (!l)
                return -ENOMEM;
        if (mode == NET_MACVLAN) {
                /* Children of one parent reach each other; each has its own
                 * MAC, stable as on a bridge. */
                r = rtnl_link_macvlan_set_mode(l, MACVLAN_MODE_BRIDGE);
                if (r >= 0) {
                        _cleanup_(nladdr_putp) struct nl_addr *lladdr = NULL;
                        r = container_lladdr(address, seed, &lladdr);
                        if (r >= 0)
                                rtnl_link_set_addr(l, lladdr);
                }
        } else
                r = rtnl_link_ipvlan_set_mode(l, IPVLAN_MODE_L2); /* the parent's MAC, one L2 segment */
        if (r < 0)
                return nlerr(r);
        /* Born in the container's namespace under its final name. */
        rtnl_link_set_link(l, rtnl_link_get_ifindex(p));
        rtnl_link_set_name(l, ifname);
        rtnl_link_set_ns_fd(l, netns_fd);
        if (n->mtu)
                rtnl_link_set_mtu(l, n->mtu);
        r = nlerr(rtnl_link_add(s, l, NLM_F_CREATE | NLM_F_EXCL));
        if (r < 0)
                return r;
        r = ipv6_ra_off_in(netns_fd, (const char *const[]){ ifname, NULL });
        if (r < 0)
                return r;
        /* On failure the link stays in the container's namespace, which
         * dies with the failed start. */
        return container_configure_if(netns_fd, ifname, primary, n, address);
}

int net_container_vlan(const char *container, net_mode_t mode, const char *parent, int netns_fd,
                       const struct spec_network *n, struct in_addr address)
{
        return vlan_make(container, mode, parent, netns_fd, NET_CONTAINER_IFNAME, true, n, address);
}

int net_container_vlan_attach(const char *container, net_mode_t mode, const char *parent, int netns_fd,
                              unsigned index, const struct spec_network *n, struct in_addr address)
{
        char ifname[IFNAMSIZ];
        if (index == 0 || index > 99)
                return -EINVAL;
        snprintf(ifname, sizeof ifname, "eth%u", index);
        _cleanup_free_ char *seed = strdup_printf("%s/%s", container, parent);
        if (!seed)
                return -ENOMEM;
        return vlan_make(seed, mode, parent, netns_fd, ifname, false, n, address);
}

/* A veth pair onto n's bridge: its host side named names[0] (else
 * names[1], when n_names is 2 and the first is another's), alias
 * NET_VETH_ALIAS_PREFIX key@owner; its peer ifname inside netns_fd,
 * configured (primary: with lo and the default routes). */
static int plumb(const char *key, const char *owner, int netns_fd, const struct spec_network *n,
                 struct in_addr address, char names[][IFNAMSIZ], int n_names, const char *peer, bool primary)
{
        char *ifname = names[0];
        _cleanup_free_ char *alias = strdup_printf(NET_VETH_ALIAS_PREFIX "%s@%s", key, owner);
        if (!alias)
                return -ENOMEM;
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *br = NULL;
        r = link_get(s, net_bridge_name(n), &br);
        if (r < 0)
                return r;
        if (n->external ? !link_is_foreign_bridge(br) : !link_is_our_bridge(br))
                return -ENODEV;
        /* Before eth0 exists: it is born with the netns' default, 0. */
        r = ipv6_ra_off_in(netns_fd, (const char *const[]){ "all", "default", NULL });
        if (r < 0)
                return r;

        /* Its usual name, else (taken by another berthd's container of the
         * same name, or by anyone) the name of this owner's alone. */
        for (int i = 0; i < n_names; i++) {
                ifname = names[i];
                r = veth_create(s, ifname, peer, rtnl_link_get_ifindex(br), netns_fd, n->mtu, address);
                if (r == -EEXIST) {
                        /* A leftover of this container (its netns still alive). */
                        r = veth_remove_ours(s, ifname, key, owner);
                        if (r == 0)
                                r = veth_create(s, ifname, peer, rtnl_link_get_ifindex(br), netns_fd, n->mtu,
                                                address);
                }
                if (r != -EEXIST)
                        break;
        }
        if (r < 0)
                return r;

        /* The kernel ignores IFLA_IFALIAS on creation; libnl changes a link
         * by ifindex only. */
        _cleanup_link_ struct rtnl_link *host = NULL, *change = rtnl_link_alloc();
        if (!change) {
                r = -ENOMEM;
                goto out_delete;
        }
        r = link_get(s, ifname, &host);
        if (r < 0)
                goto out_delete;
        rtnl_link_set_ifalias(change, alias);
        r = nlerr(rtnl_link_change(s, host, change, 0));
        if (r < 0)
                goto out_delete;
        r = ipv6_ra_off(ifname);
        if (r < 0)
                goto out_delete;
        r = bridge_port_hairpin(ifname);
        if (r < 0)
                goto out_delete;
        r = ipv6_ra_off_in(netns_fd, (const char *const[]){ peer, NULL });
        if (r < 0)
                goto out_delete;
        r = container_configure_if(netns_fd, peer, primary, n, address);
        if (r < 0)
                goto out_delete;
        return 0;

out_delete:
        if (host)
                (void) rtnl_link_delete(s, host);
        else {
                _cleanup_link_ struct rtnl_link *del = rtnl_link_alloc();
                if (del) {
                        rtnl_link_set_name(del, ifname);
                        (void) rtnl_link_delete(s, del);
                }
        }
        return r;
}

int net_container_setup(const char *container, const char *owner, int netns_fd, const struct spec_network *n,
                        struct in_addr address)
{
        char names[2][IFNAMSIZ];
        net_veth_name(container, names[0]);
        net_veth_name_alt(container, owner, names[1]);
        return plumb(container, owner, netns_fd, n, address, names, 2, NET_CONTAINER_IFNAME, true);
}

/* "NAME/NETWORK": the alias key of an extra interface's host veth. */
static char *attach_key(const char *container, const char *network)
{
        return strdup_printf("%s/%s", container, network);
}

int net_container_attach(const char *container, const char *owner, int netns_fd, unsigned index,
                         const struct spec_network *n, struct in_addr address)
{
        char names[1][IFNAMSIZ], peer[IFNAMSIZ];
        if (index == 0 || index > 99)
                return -EINVAL;
        net_attach_veth_name(container, owner, n->name, names[0]);
        snprintf(peer, sizeof peer, "eth%u", index);
        _cleanup_free_ char *key = attach_key(container, n->name);
        if (!key)
                return -ENOMEM;
        return plumb(key, owner, netns_fd, n, address, names, 1, peer, false);
}

/* Puts the host veth of key (ours, found under one of names) back on n's
 * bridge, up, with hairpin. */
static int reattach(const char *key, const char *owner, const struct spec_network *n, char names[][IFNAMSIZ],
                    int n_names)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *br = NULL, *veth = NULL;
        r = link_get(s, net_bridge_name(n), &br);
        if (r < 0)
                return r;
        if (!link_is_our_bridge(br))
                return -ENODEV;
        const char *ifname = NULL;
        for (int i = 0; i < n_names && !ifname; i++) {
                _cleanup_link_ struct rtnl_link *l = NULL;
                r = link_get(s, names[i], &l);
                if (r == -ENODEV)
                        continue;
                if (r < 0)
                        return r;
                if (veth_is_ours(l, key, owner)) {
                        ifname = names[i];
                        veth = TAKE_PTR(l);
                }
        }
        if (!ifname)
                return -ENODEV;
        if (rtnl_link_get_master(veth) != rtnl_link_get_ifindex(br)) {
                r = nlerr(rtnl_link_enslave(s, br, veth));
                if (r < 0)
                        return r;
        }
        r = link_set_up(s, veth);
        if (r < 0)
                return r;
        return bridge_port_hairpin(ifname);
}

int net_container_reattach(const char *container, const char *owner, const struct spec_network *n)
{
        char names[2][IFNAMSIZ];
        net_veth_name(container, names[0]);
        net_veth_name_alt(container, owner, names[1]);
        return reattach(container, owner, n, names, 2);
}

int net_container_attach_reattach(const char *container, const char *owner, const struct spec_network *n)
{
        char names[1][IFNAMSIZ];
        net_attach_veth_name(container, owner, n->name, names[0]);
        _cleanup_free_ char *key = attach_key(container, n->name);
        if (!key)
                return -ENOMEM;
        return reattach(key, owner, n, names, 1);
}

int net_container_attach_veth(const char *container, const char *owner, const char *network, char ifname[IFNAMSIZ])
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_free_ char *key = attach_key(container, network);
        if (!key)
                return -ENOMEM;
        net_attach_veth_name(container, owner, network, ifname);
        _cleanup_link_ struct rtnl_link *l = NULL;
        r = link_get(s, ifname, &l);
        if (r < 0)
                return r;
        return veth_is_ours(l, key, owner) ? 0 : -ENODEV;
}

struct extra_veths {
        const char *container, *owner;
        char **names;
        int error;
};

/* An extra interface's host veth of container, owner's: alias
 * "berth-veth:<container>/<network>@<owner>". */
static void extra_veths_one(struct nl_object *o, void *data)
{
        struct extra_veths *x = data;
        struct rtnl_link *l = (struct rtnl_link *) o;
        const char *a = rtnl_link_get_ifalias(l), *name = rtnl_link_get_name(l);
        size_t pl = strlen(NET_VETH_ALIAS_PREFIX), cl = strlen(x->container);
        if (x->error || !a || !name || !streq(link_kind(l), "veth") || strncmp(a, NET_VETH_ALIAS_PREFIX, pl) != 0 ||
            strncmp(a + pl, x->container, cl) != 0 || a[pl + cl] != '/')
                return;
        const char *at = strrchr(a, '@');
        if (at && streq(at + 1, x->owner))
                x->error = strv_push(&x->names, name);
}

int net_container_extra_veths(const char *container, const char *owner, char ***ret)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_(cache_freep) struct nl_cache *cache = NULL;
        r = nlerr(rtnl_link_alloc_cache(s, AF_UNSPEC, &cache));
        if (r < 0)
                return r;
        struct extra_veths x = { .container = container, .owner = owner };
        nl_cache_foreach(cache, extra_veths_one, &x);
        if (x.error < 0) {
                strv_free(x.names);
                return x.error;
        }
        *ret = x.names; /* NULL: none */
        return 0;
}

int net_container_teardown(const char *container, const char *owner)
{
        char ifname[IFNAMSIZ];
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = nl_open(&s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *veth = NULL;
        r = veth_find_ours(s, container, owner, ifname, &veth);
        if (r == 0) {
                r = nlerr(rtnl_link_delete(s, veth));
                if (r == -ENODEV)
                        r = 0;
        } else if (r == -ENODEV)
                r = 0;
        /* Its extra interfaces (network NAME { }), by their aliases. */
        char **extra = NULL;
        int q = net_container_extra_veths(container, owner, &extra);
        for (size_t i = 0; q >= 0 && extra && extra[i]; i++) {
                _cleanup_link_ struct rtnl_link *l = NULL;
                int k = link_get(s, extra[i], &l);
                if (k >= 0)
                        k = nlerr(rtnl_link_delete(s, l));
                if (k < 0 && k != -ENODEV && r >= 0)
                        r = k;
        }
        strv_free(extra);
        return r < 0 ? r : q < 0 ? q : 0;
}

int net_loopback_up(int netns_fd)
{
        _cleanup_sock_ struct nl_sock *s = NULL;
        int r = ipv6_ra_off_in(netns_fd, (const char *const[]){ "all", "default", NULL });
        if (r < 0)
                return r;
        r = nl_open_in(netns_fd, &s);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *lo = NULL;
        r = link_get(s, "lo", &lo);
        if (r < 0)
                return r;
        return link_set_up(s, lo);
}

int net_pid_bytes(pid_t pid, uint64_t *rx, uint64_t *tx)
{
        char path[64];
        struct stat ours, theirs;
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        if (stat("/proc/self/ns/net", &ours) < 0 || stat(path, &theirs) < 0)
                return -errno;
        if (ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev)
                return -ENODATA;
        snprintf(path, sizeof path, "/proc/%d/net/dev", (int) pid);
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL);
        if (r < 0)
                return r;
        uint64_t rb = 0, tb = 0;
        /* "  eth0: RXBYTES packets errs drop fifo frame compressed multicast TXBYTES ..." */
        for (char *line = text; line && *line;) {
                char *colon = strchr(line, ':'), *nl = strchr(line, '\n');
                if (colon && (!nl || colon < nl)) {
                        char ifname[64];
                        unsigned long long v[9];
                        if (sscanf(line, " %63[^:]:%llu %llu %llu %llu %llu %llu %llu %llu %llu", ifname, &v[0], &v[1],
                                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 10 &&
                            !streq(ifname, "lo")) {
                                rb += v[0];
                                tb += v[8];
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        *rx = rb;
        *tx = tb;
        return 0;
}
