/* Docker refuses a published port the host already uses ("address already
 * in use") because its proxy binds it; berth forwards with DNAT and binds
 * nothing, so a host service on the port would be silently shadowed for
 * every client but those on loopback. The check reads what `ss -lntup`
 * reads. */
#include "hostports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/* One 8-digit hex group of /proc/net/tcp: a u32 printed in host order,
 * i.e. the address bytes as they are in memory. */
static bool hex_word(const char *s, uint8_t out[4])
{
        char buf[9];
        memcpy(buf, s, 8);
        buf[8] = 0;
        char *end;
        unsigned long v = strtoul(buf, &end, 16);
        if (*end)
                return false;
        uint32_t w = (uint32_t) v;
        memcpy(out, &w, 4);
        return true;
}

/* "ADDRHEX:PORTHEX" into s's address and port. */
static bool parse_endpoint(const char *tok, int family, uint8_t addr[16], uint16_t *port)
{
        size_t alen = family == AF_INET ? 8 : 32;
        if (strlen(tok) != alen + 5 || tok[alen] != ':')
                return false;
        for (size_t i = 0; i < alen / 8; i++)
                if (!hex_word(tok + 8 * i, addr + 4 * i))
                        return false;
        char *end;
        unsigned long p = strtoul(tok + alen + 1, &end, 16);
        if (*end || p > 65535)
                return false;
        *port = (uint16_t) p;
        return true;
}

int hostports_parse(const char *text, int family, publish_proto_t proto, struct hostport **list, size_t *n)
{
        const char *p = strchr(text, '\n'); /* the header */
        size_t count = 0;
        while (p && *++p && count < HOSTPORTS_MAX) {
                const char *nl = strchrnul(p, '\n');
                char line[512], local[64], remote[64];
                unsigned st;
                unsigned long long inode;
                size_t len = (size_t) (nl - p);
                if (len >= sizeof line)
                        return -EINVAL;
                memcpy(line, p, len);
                line[len] = 0;
                p = *nl ? nl : NULL;
                if (len == 0)
                        continue;
                /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
                if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %llu", local, remote, &st, &inode) != 4)
                        return -EINVAL;
                struct hostport s = { .proto = proto, .family = family, .inode = inode };
                uint8_t raddr[16] = { 0 }, zero[16] = { 0 };
                uint16_t rport;
                if (!parse_endpoint(local, family, s.addr, &s.port) || !parse_endpoint(remote, family, raddr, &rport))
                        return -EINVAL;
                count++;
                /* TCP_LISTEN; UDP: bound and not connected (TCP_CLOSE, no peer). */
                if (proto == PROTO_TCP ? st != 0x0A
                                       : st != 0x07 || rport != 0 || memcmp(raddr, zero, family == AF_INET ? 4 : 16))
                        continue;
                struct hostport *x = realloc(*list, (*n + 1) * sizeof *x);
                if (!x)
                        return -ENOMEM;
                *list = x;
                x[(*n)++] = s;
        }
        return 0;
}

bool hostports_conflicts(const struct hostport *s, const struct publish *p, bool dual)
{
        if (s->proto != p->proto || s->port != p->host_port)
                return false;
        static const uint8_t zero[16] = { 0 };
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        const uint8_t *v4 = NULL;
        if (s->family == AF_INET) {
                if (p->host6)
                        return false; /* an IPv6 publish DNATs IPv6 only */
                if (memcmp(s->addr, zero, 4) == 0)
                        return true;
                v4 = s->addr;
        } else {
                if (memcmp(s->addr, zero, 16) == 0) /* [::], dual-stack unless v6only */
                        return true;
                if (memcmp(s->addr, mapped, 12) == 0) {
                        if (p->host6)
                                return false;
                        v4 = s->addr + 12;
                }
        }
        if (!v4) {
                /* A socket on one IPv6 address: taken by an IPv6 publish on it,
                 * or by a wildcard one when the container has IPv6. */
                if (p->host6)
                        return memcmp(s->addr, &p->host_addr6, 16) == 0;
                return dual && p->host_addr.s_addr == INADDR_ANY;
        }
        /* A wildcard publish takes every local address, the socket's too. */
        return p->host_addr.s_addr == INADDR_ANY || memcmp(v4, &p->host_addr.s_addr, 4) == 0;
}

/* Does /proc/PID/fd hold socket:[inode]? */
static bool pid_holds(int procfd, const char *pid, const char *want)
{
        char path[64];
        snprintf(path, sizeof path, "%.20s/fd", pid);
        int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return false;
        }
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                char target[64];
                ssize_t l = readlinkat(fd, de->d_name, target, sizeof target - 1);
                if (l <= 0)
                        continue;
                target[l] = 0;
                found = streq(target, want);
        }
        closedir(d);
        return found;
}

void hostports_owner(uint64_t inode, char *buf, size_t n)
{
        snprintf(buf, n, "a process of another namespace or the kernel");
        char want[48];
        snprintf(want, sizeof want, "socket:[%" PRIu64 "]", inode);
        int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return;
        int dfd = dup(procfd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                close(procfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9' || !pid_holds(procfd, de->d_name, want))
                        continue;
                char path[64], comm[64] = "?";
                snprintf(path, sizeof path, "%.20s/comm", de->d_name);
                _cleanup_free_ char *text = NULL;
                if (read_file_at(procfd, path, 4096, &text, NULL) >= 0)
                        snprintf(comm, sizeof comm, "%.*s", (int) strcspn(text, "\n"), text);
                snprintf(buf, n, "'%s' (pid %s)", comm, de->d_name);
                break;
        }
        closedir(d);
        close(procfd);
}

static const char *describe(const struct hostport *s, char *buf, size_t n)
{
        char a[INET6_ADDRSTRLEN];
        inet_ntop(s->family, s->addr, a, sizeof a);
        snprintf(buf, n, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, (unsigned) s->port);
        return buf;
}

size_t hostports_check(const struct spec_set *set, struct diag *d)
{
        static const struct {
                const char *path;
                int family;
                publish_proto_t proto;
        } files[] = {
                { "/proc/net/tcp", AF_INET, PROTO_TCP },
                { "/proc/net/tcp6", AF_INET6, PROTO_TCP },
                { "/proc/net/udp", AF_INET, PROTO_UDP },
                { "/proc/net/udp6", AF_INET6, PROTO_UDP },
        };
        bool any = false;
        for (size_t i = 0; i < set->n_containers; i++)
                any = any || set->containers[i]->n_publish > 0;
        if (!any)
                return 0;
        _cleanup_free_ struct hostport *socks = NULL;
        size_t ns = 0, before = d->n + d->dropped;
        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                _cleanup_free_ char *text = NULL;
                /* No IPv6 (ipv6.disable=1): no tcp6/udp6. */
                if (read_file_at(AT_FDCWD, files[f].path, 64u << 20, &text, NULL) < 0)
                        continue;
                (void) hostports_parse(text, files[f].family, files[f].proto, &socks, &ns);
        }
        for (size_t i = 0; i < set->n_containers; i++) {
                const struct spec_container *c = set->containers[i];
                bool dual = false; /* on a dual-stack network: a wildcard publish is IPv6 too */
                for (size_t ni = 0; c->n_publish && ni < set->n_networks; ni++)
                        if (c->network && streq(set->networks[ni]->name, c->network))
                                dual = set->networks[ni]->v6;
                for (size_t j = 0; j < c->n_publish; j++)
                        for (size_t k = 0; k < ns; k++) {
                                if (!hostports_conflicts(&socks[k], &c->publish[j], dual))
                                        continue;
                                char owner[128], where[80];
                                hostports_owner(socks[k].inode, owner, sizeof owner);
                                diag_add(d, c->file, c->line_publish,
                                         "network.publish: host port %u/%s is in use on this host: %s %s on %s",
                                         (unsigned) c->publish[j].host_port,
                                         c->publish[j].proto == PROTO_UDP ? "udp" : "tcp", owner,
                                         socks[k].proto == PROTO_UDP ? "is bound" : "listens",
                                         describe(&socks[k], where, sizeof where));
                                break;
                        }
        }
        return d->n + d->dropped - before;
}
