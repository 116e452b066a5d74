/* A container's resolv.conf from the host's. Docker, podman and LXD do the
 * same dance: the stub of systemd-resolved (127.0.0.53 in /etc/resolv.conf)
 * is replaced by resolved's own upstream list, and loopback servers, which
 * in the container's network namespace would be the container itself, are
 * never copied. */
#include "resolv.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

typedef bool (*nameserver_fn)(const char *addr, void *userdata);

/* Calls fn for each "nameserver ADDR" line of text until it returns false.
 * The number of nameserver lines. */
static unsigned each_nameserver(const char *text, nameserver_fn fn, void *userdata)
{
        unsigned n = 0;
        for (const char *p = text ? text : ""; *p;) {
                const char *nl = strchrnul(p, '\n');
                size_t len = (size_t) (nl - p);
                char line[256], addr[INET6_ADDRSTRLEN + 1];
                if (len < sizeof line) {
                        memcpy(line, p, len);
                        line[len] = 0;
                        if (sscanf(line, " nameserver %46s", addr) == 1) {
                                n++;
                                if (fn && !fn(addr, userdata))
                                        break;
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        return n;
}

static bool is_loopback(const char *s)
{
        struct in_addr a4;
        struct in6_addr a6;
        if (inet_pton(AF_INET, s, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, s, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6);
        return false;
}

static bool all_stub(const char *addr, void *userdata)
{
        bool *ok = userdata;
        *ok = *ok && streq(addr, RESOLV_RESOLVED_STUB);
        return *ok;
}

bool resolv_is_resolved_stub(const char *text)
{
        bool ok = true;
        return each_nameserver(text, all_stub, &ok) > 0 && ok;
}

struct loopback_scan {
        bool reachable;     /* a server that is not on loopback */
        bool have_v4;
        struct in_addr first_v4;
};

static bool scan_loopback(const char *addr, void *userdata)
{
        struct loopback_scan *x = userdata;
        struct in_addr a;
        if (!is_loopback(addr))
                x->reachable = true;
        else if (!x->have_v4 && inet_pton(AF_INET, addr, &a) == 1) {
                x->have_v4 = true;
                x->first_v4 = a;
        }
        return true;
}

bool resolv_loopback_only(const char *text, struct in_addr *ret)
{
        struct loopback_scan x = { 0 };
        (void) each_nameserver(text, scan_loopback, &x);
        if (x.reachable || !x.have_v4)
                return false;
        *ret = x.first_v4;
        return true;
}

static int finish(struct strbuf *b, char **ret)
{
        if (!b->error && !b->p)
                strbuf_printf(b, "%s", "");
        if (b->error) {
                free(b->p);
                return b->error;
        }
        *ret = b->p;
        return 0;
}

int resolv_container_text(char *const *dns, const char *host_text, const struct in_addr *gateway, char **ret)
{
        struct strbuf b = { 0 };
        if (dns && dns[0]) {
                for (char *const *d = dns; *d; d++) {
                        struct in_addr a4;
                        struct in6_addr a6;
                        if (inet_pton(AF_INET, *d, &a4) != 1 && inet_pton(AF_INET6, *d, &a6) != 1) {
                                free(b.p);
                                return -EINVAL;
                        }
                        strbuf_printf(&b, "nameserver %s\n", *d);
                }
                return finish(&b, ret);
        }
        struct in_addr upstream;
        bool forward = gateway && resolv_loopback_only(host_text, &upstream);
        bool placed = false;
        for (const char *p = host_text ? host_text : ""; *p;) {
                const char *nl = strchrnul(p, '\n');
                int len = (int) (nl - p);
                char line[256], addr[INET6_ADDRSTRLEN + 1];
                bool skip = false;
                if (len < (int) sizeof line) {
                        memcpy(line, p, (size_t) len);
                        line[len] = 0;
                        if (sscanf(line, " nameserver %46s", addr) == 1 && is_loopback(addr)) {
                                skip = true;
                                /* The gateway takes the first loopback server's place. */
                                if (forward && !placed) {
                                        char g[INET_ADDRSTRLEN];
                                        strbuf_printf(&b, "nameserver %s\n",
                                                      inet_ntop(AF_INET, gateway, g, sizeof g));
                                        placed = true;
                                }
                        }
                }
                if (!skip)
                        strbuf_printf(&b, "%.*s\n", len, p);
                p = *nl ? nl + 1 : nl;
        }
        return finish(&b, ret);
}

/* The whole file at path, following symlinks (/etc/resolv.conf usually is
 * one); "" when it does not exist. */
static int read_config(const char *path, char **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return read_file_fd(fd, RESOLV_FILE_MAX, ret, NULL);
}

int resolv_host_text(char **ret)
{
        const char *path = getenv(RESOLV_ENV);
        if (!path || !*path)
                path = RESOLV_DEFAULT_PATH;
        _cleanup_free_ char *text = NULL;
        int r = read_config(path, &text);
        if (r < 0)
                return r;
        if (resolv_is_resolved_stub(text)) {
                _cleanup_free_ char *upstream = NULL;
                if (read_config(RESOLV_RESOLVED_UPSTREAM, &upstream) >= 0 && each_nameserver(upstream, NULL, NULL) > 0) {
                        *ret = TAKE_PTR(upstream);
                        return 0;
                }
        }
        *ret = TAKE_PTR(text);
        return 0;
}
