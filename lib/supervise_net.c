/* The supervisor's side of networking that is not planning: healing the
 * bridges it manages when someone else deletes one (lib/netwatch.h tells,
 * lib/net.h acts), and the host-port check a reload must pass. */

#include "supervise_internal.h"

#include "hostports.h"
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
                if (u->state != U_RUNNING || !u->spec || u->spec->net_mode != NET_BRIDGE ||
                    !streq_ptr(u->spec->network, n->name))
                        continue;
                r = net_container_reattach(u->name, n);
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

static void on_bridge_lost(const char *network, const char *bridge, void *userdata)
{
        (void) bridge;
        struct manager *m = userdata;
        /* Our own removals (shutdown, reload) are not in networks_up by the
         * time their message is read. */
        if (m->shutting_down)
                return;
        for (size_t i = 0; i < m->n_networks_up; i++) {
                const struct spec_network *n = m->networks_up[i];
                if (network ? streq(n->name, network) : if_nametoindex(net_bridge_name(n)) == 0)
                        network_heal(m, n);
        }
}

int manager_net_watch(struct manager *m)
{
        return netwatch_new(m->event, m->net_owner, on_bridge_lost, m, &m->netwatch);
}

size_t manager_net_check(const struct spec_set *set, struct diag *d)
{
        return hostports_check(set, d);
}
