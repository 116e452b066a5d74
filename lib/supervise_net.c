/* The supervisor's side of networking that is not planning: healing the
 * bridges it manages, and its running containers' veths, when someone else
 * deletes one (lib/netwatch.h tells, lib/net.h acts), and the host-port
 * check a reload must pass. */

#include "supervise_internal.h"

#include "hostports.h"
#include "preflight.h"
#include "netwatch.h"

/* Makes n's bridge again and puts every running container of n back on it,
 * then restores the bridge's NAT settings (route_localnet) with the table. */
static void network_heal(struct manager *m, const struct spec_network *n)
{
        const char *bridge = net_bridge_name(n);
        int r = net_bridge_ensure(n, m->net_owner);
        if (r < 0) {
                emit(m, n->name, "network-failed", "bridge '%s' was deleted and cannot be made again: %s", bridge,
                     r == -EEXIST ? "its name is taken by a link that is not berth's" : strerror(-r));
                log_error("network '%s': bridge '%s' was deleted and cannot be made again: %s", n->name, bridge,
                          strerror(-r));
                return;
        }
        size_t ok = 0, failed = 0;
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (u->state != U_RUNNING || !u->spec || u->spec->net_mode != NET_BRIDGE)
                        continue;
                bool primary = streq_ptr(u->spec->network, n->name), extra = false;
                for (size_t k = 0; k < u->spec->n_attach && !extra; k++)
                        extra = streq(u->spec->attach[k].network, n->name);
                if (!primary && !extra)
                        continue;
                r = primary ? net_container_reattach(u->name, m->net_owner, n)
                            : net_container_attach_reattach(u->name, m->net_owner, n);
                if (r < 0) {
                        failed++;
                        emit(m, u->name, "network-failed", "cannot re-attach to bridge '%s': %s", bridge, strerror(-r));
                } else
                        ok++;
        }
        nat_sync(m);
        emit(m, n->name, "network-healed", "bridge '%s' was deleted by someone else: made again, %zu container%s "
             "re-attached%s", bridge, ok, ok == 1 ? "" : "s", failed ? ", some failed" : "");
        log_warning("network '%s': bridge '%s' was deleted by someone else: made again, %zu container%s re-attached",
                    n->name, bridge, ok, ok == 1 ? "" : "s");
}

static const struct spec_network *network_up(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n_networks_up; i++)
                if (streq(m->networks_up[i]->name, name))
                        return m->networks_up[i];
        return NULL;
}

/* A running container's host veth was deleted (with it, its eth0 or ethN):
 * a new pair into its network namespace, with the same address and MAC, for
 * each of its interfaces whose veth is missing. Nothing when the container
 * is ending (its namespace is gone: that is what deleted the veth) or is
 * not ours to plumb. */
static void container_heal(struct manager *m, struct unit *u)
{
        if (u->state != U_RUNNING || !u->spec || u->spec->net_mode != NET_BRIDGE || !u->address[0] ||
            unit_init_pidfd(u) < 0)
                return;
        const struct spec_network *n = network_up(m, u->spec->network);
        struct in_addr a;
        if (!n || inet_pton(AF_INET, u->address, &a) != 1)
                return;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) u->init_pid);
        _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        /* Its init still runs after the open: the namespace is its own. */
        if (nsfd < 0 || syscall(SYS_pidfd_send_signal, u->init_pidfd, 0, NULL, 0) < 0)
                return;
        char ifname[IFNAMSIZ];
        if (net_container_veth(u->name, m->net_owner, ifname) == -ENODEV) {
                int r = net_container_setup(u->name, m->net_owner, nsfd, n, a);
                if (r < 0 || net_container_veth(u->name, m->net_owner, ifname) < 0)
                        net_veth_name(u->name, ifname);
                if (r < 0)
                        emit(m, u->name, "network-failed", "its veth '%s' was deleted and cannot be made again: %s",
                             ifname, strerror(-r));
                else {
                        emit(m, u->name, "network-healed", "its veth '%s' was deleted by someone else: made again "
                             "on '%s'", ifname, net_bridge_name(n));
                        log_warning("container '%s': its veth '%s' was deleted by someone else: made again", u->name,
                                    ifname);
                }
        }
        for (size_t i = 0; i < u->spec->n_attach; i++) {
                const struct spec_attach *at = &u->spec->attach[i];
                const struct spec_network *an = network_up(m, at->network);
                char buf[INET_ADDRSTRLEN];
                if (!an || net_container_attach_veth(u->name, m->net_owner, at->network, ifname) != -ENODEV ||
                    runtime_recorded_address_on(m->o.state_dir, at->network, u->name, buf) < 0 ||
                    inet_pton(AF_INET, buf, &a) != 1)
                        continue;
                int r = net_container_attach(u->name, m->net_owner, nsfd, (unsigned) i + 1, an, a);
                if (r < 0)
                        emit(m, u->name, "network-failed", "its veth '%s' (eth%zu on '%s') was deleted and cannot "
                             "be made again: %s", ifname, i + 1, at->network, strerror(-r));
                else {
                        emit(m, u->name, "network-healed", "its veth '%s' (eth%zu) was deleted by someone else: "
                             "made again on '%s'", ifname, i + 1, net_bridge_name(an));
                        log_warning("container '%s': its veth '%s' was deleted by someone else: made again",
                                    u->name, ifname);
                }
        }
}

static void on_link_lost(enum netwatch_lost what, const char *name, const char *ifname, void *userdata)
{
        (void) ifname;
        struct manager *m = userdata;
        /* Our own removals (shutdown, reload) are not in networks_up by the
         * time their message is read. */
        if (m->shutting_down)
                return;
        if (what == NETWATCH_VETH) {
                /* netwatch told only of our veths (by their alias); a new
                 * one of the same container may be there already. */
                struct unit *u = unit_find(m, name);
                if (u)
                        container_heal(m, u); /* whichever of its veths is missing */
                return;
        }
        for (size_t i = 0; i < m->n_networks_up; i++) {
                const struct spec_network *n = m->networks_up[i];
                if (what == NETWATCH_BRIDGE ? streq(n->name, name) : if_nametoindex(net_bridge_name(n)) == 0)
                        network_heal(m, n);
        }
}

int manager_net_watch(struct manager *m)
{
        return netwatch_new(m->event, m->net_owner, on_link_lost, m, &m->netwatch);
}

size_t manager_net_check(const struct spec_set *set, struct diag *d)
{
        size_t n = hostports_check(set, d);
        return n + preflight_host_interfaces(set, d);
}
