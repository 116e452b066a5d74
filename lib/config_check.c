#include "config_check.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "config.h"
#include "nameidx.h"
#include "parse.h"
#include "seccomp_profile.h"
#include "tbuild.h"
#include "util.h"

static void check_cycles(struct spec_set *set, const struct nameidx *ix, struct diag *d)
{
        size_t n = set->n_containers;
        /* Iterative DFS over after ∪ requires: 0 white, 1 on stack, 2 done. */
        _cleanup_free_ uint8_t *color = calloc(n + 1, 1);
        _cleanup_free_ size_t *stack = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ size_t *edge = calloc(n + 1, sizeof(size_t));
        if (!color || !stack || !edge)
                return;
        for (size_t root = 0; root < n; root++) {
                if (color[root])
                        continue;
                size_t sp = 0;
                stack[sp++] = root;
                edge[root] = 0;
                color[root] = 1;
                while (sp > 0) {
                        size_t u = stack[sp - 1];
                        const struct spec_container *c = set->containers[u];
                        size_t na = strv_length(c->after), nr = strv_length(c->requires);
                        if (edge[u] >= na + nr) {
                                color[u] = 2;
                                sp--;
                                continue;
                        }
                        size_t e = edge[u]++;
                        const char *dep = e < na ? c->after[e] : c->requires[e - na];
                        size_t v = nameidx_find(ix, n, dep);
                        if (v == NAMEIDX_NONE || v == u)
                                continue; /* unknown, or itself: reported by check_set() */
                        if (color[v] == 0) {
                                color[v] = 1;
                                edge[v] = 0;
                                stack[sp++] = (size_t) v;
                        } else if (color[v] == 1) {
                                char path[1024] = "";
                                size_t k = 0;
                                while (stack[k] != (size_t) v)
                                        k++;
                                for (size_t j = k; j < sp; j++) {
                                        size_t l = strlen(path);
                                        snprintf(path + l, sizeof path - l, "%s → ", set->containers[stack[j]]->name);
                                }
                                size_t l = strlen(path);
                                snprintf(path + l, sizeof path - l, "%s", set->containers[v]->name);
                                const struct spec_container *cv = set->containers[v];
                                diag_add(d, cv->file, cv->line_after ? cv->line_after : (cv->line_requires ? cv->line_requires : cv->line),
                                         "dependency cycle: %s", path);
                        }
                }
        }
}

struct addr_use {
        uint32_t addr;
        size_t idx;
        int line; /* of the address */
};

static int cmp_addr_use(const void *a, const void *b)
{
        const struct addr_use *x = a, *y = b;
        if (x->addr != y->addr)
                return x->addr < y->addr ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_net_start(const void *a, const void *b)
{
        const struct spec_network *x = *(struct spec_network *const *) a, *y = *(struct spec_network *const *) b;
        uint32_t p = in_addr_host(x->subnet), q = in_addr_host(y->subnet);
        return p < q ? -1 : p > q;
}

static void check_networks(struct spec_set *set, struct diag *d)
{
        size_t n = set->n_networks;
        if (n == 0)
                return;
        _cleanup_free_ struct spec_network **sorted = calloc(n, sizeof *sorted);
        if (!sorted)
                return;
        memcpy(sorted, set->networks, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_net_start);
        /* Overlap: after sorting by start, a subnet overlaps an earlier one iff it
         * starts before the furthest end seen so far. */
        uint64_t max_end = 0;
        const struct spec_network *max_net = NULL;
        for (size_t i = 0; i < n; i++) {
                const struct spec_network *x = sorted[i];
                if (x->prefix < 8 || x->prefix > 30)
                        continue;
                uint64_t start = in_addr_host(x->subnet), end = start + (1ULL << (32 - x->prefix));
                if (max_net && start < max_end && !streq(x->name, max_net->name)) { /* same name: reported */
                        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
                        diag_add(d, x->file, x->line, "network '%s': subnet %s/%u overlaps network '%s' (%s/%u at %s:%d)",
                                 x->name, inet_ntop(AF_INET, &x->subnet, a, sizeof a), x->prefix, max_net->name,
                                 inet_ntop(AF_INET, &max_net->subnet, b, sizeof b), max_net->prefix, max_net->file,
                                 max_net->line);
                }
                if (end > max_end) {
                        max_end = end;
                        max_net = x;
                }
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n && j < i + 64; j++) /* names are short; bounded */
                        if (streq(set->networks[i]->bridge, set->networks[j]->bridge) &&
                            !streq(set->networks[i]->name, set->networks[j]->name))
                                diag_add(d, set->networks[j]->file, set->networks[j]->line,
                                         "network '%s': bridge '%s' is already used by network '%s' (%s:%d)",
                                         set->networks[j]->name, set->networks[j]->bridge, set->networks[i]->name,
                                         set->networks[i]->file, set->networks[i]->line);
}

/* A fixed address of c on berth's network net (key names it in messages):
 * true when it is one a container may have. */
static bool check_static_address(const struct spec_container *c, const char *key, int line,
                                 const struct spec_network *net, struct in_addr address, struct diag *d)
{
        if (net->prefix < 8 || net->prefix > 30)
                return false;
        uint32_t mask = ~0U << (32 - net->prefix), a = in_addr_host(address), sub = in_addr_host(net->subnet);
        char buf[INET_ADDRSTRLEN], sbuf[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &address, buf, sizeof buf);
        inet_ntop(AF_INET, &net->subnet, sbuf, sizeof sbuf);
        if ((a & mask) != sub)
                diag_add(d, c->file, line, "%s: %s is outside network '%s' (%s/%u)", key, buf, net->name, sbuf,
                         net->prefix);
        else if (a == sub || a == (sub | ~mask))
                diag_add(d, c->file, line, "%s: %s is the network or broadcast address of '%s'", key, buf, net->name);
        else if (a == in_addr_host(net->gateway))
                diag_add(d, c->file, line, "%s: %s is the gateway of '%s'", key, buf, net->name);
        else
                return true;
        return false;
}

static void check_addresses(struct spec_set *set, struct diag *d)
{
        size_t n = set->n_containers;
        _cleanup_free_ struct addr_use *uses = calloc(n * (1 + SPEC_ATTACH_MAX) + 1, sizeof *uses);
        _cleanup_free_ size_t *count = calloc(set->n_networks + 1, sizeof(size_t));
        size_t nu = 0;
        if (!uses || !count)
                return;
        for (size_t i = 0; i < n; i++) {
                struct spec_container *c = set->containers[i];
                if (c->net_mode != NET_BRIDGE || !c->network)
                        continue;
                struct spec_network *net = NULL;
                size_t ni = 0;
                for (; ni < set->n_networks; ni++)
                        if (streq(set->networks[ni]->name, c->network)) {
                                net = set->networks[ni];
                                break;
                        }
                if (!net) {
                        /* A bridge berth does not manage: the operator's (br0). */
                        int l = c->line_network ? c->line_network : c->line;
                        if (!c->address_dhcp && !c->address_prefix)
                                diag_add(d, c->file, l,
                                         "network.bridge: network '%s' is not declared by any file (for a host "
                                         "bridge berth does not manage, give address = \"A.B.C.D/N\" or \"dhcp\")",
                                         c->network);
                        else if (strlen(c->network) > 15)
                                diag_add(d, c->file, l, "network.bridge: '%s' is not an interface name (at most 15 "
                                         "characters)", c->network);
                        else if (c->n_publish)
                                diag_add(d, c->file, c->line_publish,
                                         "network.publish: only on a network berth manages ('%s' is a host bridge)",
                                         c->network);
                        if (c->n_attach)
                                diag_add(d, c->file, c->attach[0].line, "network '%s': extra networks only beside "
                                         "a network berth manages ('%s' is a host bridge)", c->attach[0].network,
                                         c->network);
                        continue;
                }
                for (size_t j = 0; j < c->n_publish; j++)
                        if (c->publish[j].host6 && !net->v6) {
                                char a6[INET6_ADDRSTRLEN];
                                diag_add(d, c->file, c->line_publish,
                                         "network.publish: [%s] is an IPv6 address but network '%s' has no subnet6",
                                         publish_host_text(&c->publish[j], a6, sizeof a6), net->name);
                                break;
                        }
                /* On berth's network, A.B.C.D/N is A.B.C.D when N is the
                 * network's (and hashes as it always did). */
                if (c->address_prefix == net->prefix)
                        c->address_prefix = 0;
                if (c->address_dhcp || c->address_prefix)
                        diag_add(d, c->file, c->line_address,
                                 "network.address: %s on berth's network '%s' (its addresses are auto or A.B.C.D, "
                                 "its prefix /%u)", c->address_dhcp ? "dhcp is not used" : "another prefix",
                                 net->name, net->prefix);
                if (c->gateway_text)
                        diag_add(d, c->file, c->line_gateway,
                                 "network.gateway: not on berth's network '%s' (its gateway is the network's)",
                                 net->name);
                count[ni]++;
                if (!c->address_auto && check_static_address(c, "network.address", c->line_address, net, c->address, d))
                        uses[nu++] = (struct addr_use){ in_addr_host(c->address), i, c->line_address };
                for (size_t k = 0; k < c->n_attach; k++) {
                        struct spec_attach *at = &c->attach[k];
                        size_t nj = 0;
                        while (nj < set->n_networks && !streq(set->networks[nj]->name, at->network))
                                nj++;
                        bool vlan = at->mode == NET_MACVLAN || at->mode == NET_IPVLAN;
                        if (vlan) {
                                /* Named by its parent: a host interface, never a berth network's bridge. */
                                if (nj < set->n_networks)
                                        diag_add(d, c->file, at->line, "network '%s': mode '%s' names its parent "
                                                 "interface, and '%s' is a network berth manages (use it without "
                                                 "mode, or name a host interface)", at->network,
                                                 net_mode_to_string(at->mode), at->network);
                                continue;
                        }
                        if (nj == set->n_networks) {
                                if (!at->address_prefix && !at->address_dhcp)
                                        diag_add(d, c->file, at->line, "network '%s': not declared by any file (an "
                                                 "extra network is berth's, network %s { subnet = ... }; for a host "
                                                 "bridge give address = \"A.B.C.D/N\" or \"dhcp\")", at->network,
                                                 at->network);
                                continue; /* a host bridge: the operator's, no IPAM */
                        }
                        /* On berth's network, A.B.C.D/N is A.B.C.D when N is the network's. */
                        if (at->address_prefix == set->networks[nj]->prefix)
                                at->address_prefix = 0;
                        if (at->address_dhcp || at->address_prefix) {
                                diag_add(d, c->file, at->line_address,
                                         "network '%s'.address: %s on berth's network '%s' (its addresses are auto "
                                         "or A.B.C.D, its prefix /%u)", at->network,
                                         at->address_dhcp ? "dhcp is not used" : "another prefix", at->network,
                                         set->networks[nj]->prefix);
                                continue;
                        }
                        count[nj]++;
                        char key[SPEC_NAME_MAX + 32];
                        snprintf(key, sizeof key, "network '%s'.address", at->network);
                        if (!at->address_auto &&
                            check_static_address(c, key, at->line_address, set->networks[nj], at->address, d))
                                uses[nu++] = (struct addr_use){ in_addr_host(at->address), i, at->line_address };
                }
        }
        qsort(uses, nu, sizeof *uses, cmp_addr_use);
        for (size_t i = 1; i < nu; i++)
                if (uses[i].addr == uses[i - 1].addr) {
                        const struct spec_container *a = set->containers[uses[i - 1].idx],
                                                    *b = set->containers[uses[i].idx];
                        char buf[INET_ADDRSTRLEN];
                        struct in_addr ba = { htonl(uses[i].addr) };
                        inet_ntop(AF_INET, &ba, buf, sizeof buf);
                        diag_add(d, b->file, uses[i].line,
                                 "network.address: %s is already used by container '%s' (%s:%d)", buf, a->name,
                                 a->file, uses[i - 1].line);
                }
        for (size_t ni = 0; ni < set->n_networks; ni++) {
                const struct spec_network *net = set->networks[ni];
                if (net->prefix < 8 || net->prefix > 30)
                        continue;
                uint64_t capacity = (1ULL << (32 - net->prefix)) - 3;
                if (count[ni] > capacity)
                        diag_add(d, net->file, net->line,
                                 "network '%s': %zu containers but only %llu free addresses in /%u", net->name,
                                 count[ni], (unsigned long long) capacity, net->prefix);
        }
}

struct pub_use {
        uint32_t proto_port; /* proto << 16 | host port */
        uint8_t addr[17];    /* family (0 = every address, 4, 6), then the address */
        size_t order;        /* declaration order */
        const struct spec_container *c;
};

static void pub_addr(const struct publish *p, uint8_t key[17])
{
        memset(key, 0, 17);
        if (p->host6) {
                key[0] = 6;
                memcpy(key + 1, &p->host_addr6, 16);
        } else if (p->host_addr.s_addr != INADDR_ANY) {
                key[0] = 4;
                memcpy(key + 1, &p->host_addr, 4);
        }
}

static int cmp_pub_use(const void *a, const void *b)
{
        const struct pub_use *x = a, *y = b;
        if (x->proto_port != y->proto_port)
                return x->proto_port < y->proto_port ? -1 : 1;
        int c = memcmp(x->addr, y->addr, sizeof x->addr);
        if (c)
                return c;
        return (x->order > y->order) - (x->order < y->order);
}

static void report_publish(struct diag *d, const struct pub_use *u, const struct pub_use *first)
{
        diag_add(d, u->c->file, u->c->line_publish,
                 "network.publish: host port %u/%s is already published by container '%s' (%s:%d)",
                 u->proto_port & 0xffff, u->proto_port >> 16 == PROTO_TCP ? "tcp" : "udp", first->c->name,
                 first->c->file, first->c->line_publish);
}

static void check_publish(struct spec_set *set, struct diag *d)
{
        /* Host ports: (proto, port) may be used once per host address, and
         * not at all beside a wildcard. Sorted by (proto, port, address), so
         * every use is checked in n log n; each later use is reported once,
         * against the first it collides with. */
        size_t total = 0, n = 0;
        for (size_t i = 0; i < set->n_containers; i++)
                total += set->containers[i]->n_publish;
        _cleanup_free_ struct pub_use *u = calloc(total + 1, sizeof *u);
        if (!u)
                return;
        for (size_t i = 0; i < set->n_containers; i++)
                for (size_t p = 0; p < set->containers[i]->n_publish; p++) {
                        const struct publish *x = &set->containers[i]->publish[p];
                        u[n] = (struct pub_use){ .proto_port = (uint32_t) x->proto << 16 | x->host_port, .order = n,
                                                 .c = set->containers[i] };
                        pub_addr(x, u[n].addr);
                        n++;
                }
        qsort(u, n, sizeof *u, cmp_pub_use);
        for (size_t g = 0, end; g < n; g = end) {
                size_t earliest = g, run = g; /* the group's first declared use; the current address's first */
                for (end = g; end < n && u[end].proto_port == u[g].proto_port; end++)
                        if (u[end].order < u[earliest].order)
                                earliest = end;
                bool wildcard = u[g].addr[0] == 0; /* sorted first in its group */
                for (size_t k = g; k < end; k++) {
                        if (memcmp(u[k].addr, u[run].addr, sizeof u[k].addr) != 0)
                                run = k;
                        if (run != k)
                                report_publish(d, &u[k], &u[run]); /* same address */
                        else if (u[k].addr[0] == 0 && earliest != k)
                                report_publish(d, &u[k], &u[earliest]); /* a wildcard after any use */
                        else if (u[k].addr[0] != 0 && wildcard && u[g].order < u[k].order)
                                report_publish(d, &u[k], &u[g]); /* an address after a wildcard */
                }
        }
}

void config_check_set(struct spec_set *set, char *const *unparsed, struct diag *d)
{
        size_t n = set->n_containers;
        if (spec_set_index(set) < 0) {
                diag_add(d, NULL, 0, "out of memory while checking the definitions");
                return;
        }
        const struct nameidx *ix = set->by_name;
        for (size_t i = 1; i < n; i++)
                if (streq(ix[i].name, ix[i - 1].name)) {
                        const struct spec_container *a = set->containers[ix[i - 1].idx], *b = set->containers[ix[i].idx];
                        diag_add(d, b->file, b->line, "container '%s' declared twice (first at %s:%d)", b->name, a->file,
                                 a->line);
                }
        for (size_t i = 0; i < set->n_networks; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(set->networks[i]->name, set->networks[j]->name)) {
                                diag_add(d, set->networks[i]->file, set->networks[i]->line,
                                         "network '%s' declared twice (first at %s:%d)", set->networks[i]->name,
                                         set->networks[j]->file, set->networks[j]->line);
                                break;
                        }
        for (size_t i = 0; i < set->n_templates; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(set->templates[i]->name, set->templates[j]->name)) {
                                diag_add(d, set->templates[i]->file, set->templates[i]->line,
                                         "template '%s' declared twice (first at %s:%d)", set->templates[i]->name,
                                         set->templates[j]->file, set->templates[j]->line);
                                break;
                        }
        (void) tbuild_check(set, d);
        for (size_t i = 0; i < n; i++) {
                const struct spec_container *c = set->containers[i];
                if (c->console && c->stdin_open)
                        diag_add(d, c->file, c->line_stdin,
                                 "stdin: container '%s' has console = true: the console is its input already", c->name);
                for (int which = 0; which < 2; which++) {
                        char *const *deps = which == 0 ? c->after : c->requires;
                        const char *key = which == 0 ? "after" : "requires";
                        int line = which == 0 ? c->line_after : c->line_requires;
                        for (size_t k = 0; deps && deps[k]; k++) {
                                if (streq(deps[k], c->name))
                                        diag_add(d, c->file, line, "%s: container '%s' cannot depend on itself", key,
                                                 c->name);
                                else if (nameidx_find(ix, n, deps[k]) == NAMEIDX_NONE && !strv_contains(unparsed, deps[k]))
                                        diag_add(d, c->file, line, "%s: '%s' names no container", key, deps[k]);
                        }
                }
        }
        check_cycles(set, ix, d);
        check_networks(set, d);
        check_addresses(set, d);
        check_publish(set, d);
}

void config_validate(struct spec_set *set, struct diag *d)
{
        config_check_set(set, NULL, d);
}

static int cmp_profile_user(const void *a, const void *b)
{
        const struct spec_container *x = *(const struct spec_container *const *) a,
                                    *y = *(const struct spec_container *const *) b;
        return strcmp(x->seccomp_profile, y->seccomp_profile);
}

/* Reads and checks every seccomp profile file the set names, each file
 * once, and reports a bad one at every "seccomp =" line naming it. Only
 * the document is checked here; what libseccomp makes of it for a
 * container's capabilities is known at start. */
int config_check_seccomp_profiles(struct spec_set *set, struct diag *d)
{
        _cleanup_free_ struct spec_container **users = calloc(set->n_containers + 1, sizeof *users);
        if (!users)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < set->n_containers; i++)
                if (set->containers[i]->seccomp == SECCOMP_PROFILE && set->containers[i]->seccomp_profile)
                        users[n++] = set->containers[i];
        qsort(users, n, sizeof *users, cmp_profile_user);
        char perr[SECCOMP_PROFILE_ERROR_MAX];
        int r = 0;
        uint64_t digest = 0;
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || !streq(users[i]->seccomp_profile, users[i - 1]->seccomp_profile)) {
                        _cleanup_(seccomp_profile_freep) struct seccomp_profile *p = NULL;
                        _cleanup_free_ char *text = NULL;
                        size_t len = 0;
                        r = seccomp_profile_read(users[i]->seccomp_profile, &text, &len, perr, sizeof perr);
                        if (r >= 0)
                                r = seccomp_profile_parse(users[i]->seccomp_profile, text, len, &p, perr, sizeof perr);
                        if (r == -ENOMEM)
                                return r;
                        /* An edited profile restarts its containers on reload. */
                        digest = r < 0 ? 0 : fnv1a64(FNV1A64_INIT, text, len);
                }
                users[i]->seccomp_profile_digest = digest;
                if (r < 0)
                        diag_add(d, users[i]->file, users[i]->line_seccomp, "seccomp: %s", perr);
        }
        return 0;
}
