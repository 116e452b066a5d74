#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <confuse.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "idmap.h"
#include "config_check.h"
#include "config_scan.h"
#include "keys.h"
#include "parse.h"
#include "seccomp_profile.h"
#include "settings.h"
#include "util.h"

/* Reading: the text is scanned (config_scan.c), parsed by libconfuse with a
 * schema made from the key table, and each key read into the spec by its
 * row (keys.c); what no row can say (keys that depend on each other) is
 * checked here, what spans definitions in config_check.c. */

struct ctx {
        const char *file;
        struct diag *d;
        size_t next_rec;    /* where the next top-level record is expected */
        int r;              /* -ENOMEM once an allocation failed: nothing read is trusted */
};

#define err(x, line, ...) diag_add((x)->d, (x)->file, (line), __VA_ARGS__)

/* The value of a single-valued key, or NULL when not set. */
static const struct cval *get(cfg_t *sec, const char *key)
{
        if (!sec)
                return NULL;
        return cfg_getptr(sec, key);
}

static int line_of(cfg_t *sec, const char *key)
{
        if (!sec || cfg_size(sec, key) == 0)
                return 0;
        const struct cval *v = cfg_getnptr(sec, key, 0);
        return v ? v->line : 0;
}

static void oom(struct ctx *x)
{
        x->r = -ENOMEM;
}

/* A list into a strv; entries must be non-empty. Returns the first line. */
static int get_strv(struct ctx *x, cfg_t *sec, const char *key, const char *prefix, char ***out)
{
        unsigned n = sec ? cfg_size(sec, key) : 0;
        int first = 0;
        if (n == 0)
                return 0;
        char **v = calloc(1, sizeof(char *));
        if (!v) {
                oom(x);
                return 0;
        }
        for (unsigned i = 0; i < n; i++) {
                const struct cval *e = cfg_getnptr(sec, key, i);
                if (!e)
                        continue;
                if (!first)
                        first = e->line;
                if (i >= SPEC_LIST_MAX) {
                        err(x, e->line, "%s%s: more than %d entries", prefix, key, SPEC_LIST_MAX);
                        break;
                }
                if (!e->text[0]) {
                        err(x, e->line, "%s%s: entry %u is empty", prefix, key, i + 1);
                        continue;
                }
                if (strv_push(&v, e->text) < 0) {
                        oom(x);
                        break;
                }
        }
        strv_free(*out);
        *out = v;
        return first;
}

/* How messages name the key: "limits." for a key of container.limits. */
static void key_prefix(const struct key_def *k, char *buf, size_t size)
{
        const char *b = k->block;
        size_t skip = strlen("container.");
        if (strncmp(b, "container.", skip) == 0)
                snprintf(buf, size, "%s.", b + skip);
        else
                buf[0] = 0;
}

/* Reads key k of section sec into spec with the table's parser and check.
 * Returns the line it was set on, 0 when it is not set or its value is
 * wrong (reported). An allocation failure is an error of the whole read
 * (x->r), never "not set": a dropped user = line would run as root. */
static int read_key(struct ctx *x, cfg_t *sec, const struct key_def *k, void *spec)
{
        char prefix[32], msg[256];
        int line = 0;
        if (k->type == KEY_STRV) {
                char ***field = (char ***) ((char *) spec + k->offset);
                key_prefix(k, prefix, sizeof prefix);
                line = get_strv(x, sec, k->name, prefix, field);
                for (size_t i = 0; line && k->check && *field && (*field)[i]; i++) {
                        const char *bad = k->check((*field)[i]);
                        if (bad) {
                                snprintf(msg, sizeof msg, bad, (*field)[i]);
                                err(x, line, "%s%s: %s", prefix, k->name, msg);
                        }
                }
        } else {
                const struct cval *v = get(sec, k->name);
                if (!v)
                        return 0;
                int r = key_parse(k, v->text, spec, msg, sizeof msg);
                if (r == -ENOMEM) {
                        oom(x);
                        return 0;
                }
                if (r < 0) {
                        key_prefix(k, prefix, sizeof prefix);
                        err(x, v->line, "%s%s: %s", prefix, k->name, msg);
                }
                /* A string is set once stored, even when its check failed (reported). */
                if (r >= 0 || (k->type == KEY_STR && v->text[0]))
                        line = v->line;
        }
        if (line && k->line_offset)
                *(int *) ((char *) spec + k->line_offset) = line;
        return line;
}

/* Every key of block that is read on its own (not by its block's reader). */
static void read_keys(struct ctx *x, cfg_t *sec, const char *block, void *spec)
{
        for (const struct key_def *k = keys_table(NULL); k->name; k++)
                if (streq(k->block, block) && k->type != KEY_BLOCK && k->type != KEY_CUSTOM &&
                    !(k->flags & KEYF_BY_BLOCK))
                        (void) read_key(x, sec, k, spec);
}

static int read_one(struct ctx *x, cfg_t *sec, const char *block, const char *name, void *spec)
{
        const struct key_def *k = keys_find(block, name);
        assert(k);
        return read_key(x, sec, k, spec);
}

#define CANONICAL_HINT "must be a canonical absolute path (no . or .. components, no //, no trailing /)"

static uint64_t caps_from_list(struct ctx *x, cfg_t *sec, const char *key, bool *all)
{
        uint64_t mask = 0;
        unsigned n = cfg_size(sec, key);
        for (unsigned i = 0; i < n; i++) {
                const struct cval *v = cfg_getnptr(sec, key, i);
                int cap;
                if (strcasecmp(v->text, "all") == 0) {
                        *all = true;
                        mask |= capability_last() >= 63 ? ~0ULL : (1ULL << (capability_last() + 1)) - 1;
                        continue;
                }
                if (parse_capability(v->text, &cap) < 0) {
                        err(x, v->line, "capabilities.%s: '%s' is not a capability (e.g. net_admin, sys_ptrace, all)",
                            key, v->text);
                        continue;
                }
                mask |= 1ULL << cap;
        }
        return mask;
}

static void read_network_block(struct ctx *x, cfg_t *net, struct spec_container *c)
{
        int mode_line = read_one(x, net, "container.network", "mode", c);
        bool has_mode = mode_line > 0;
        if (!has_mode)
                c->net_mode = NET_NONE;
        int bridge_line = read_one(x, net, "container.network", "bridge", c);
        bool has_bridge = bridge_line > 0;
        if (has_bridge && !name_is_valid(c->network))
                err(x, bridge_line, "network.bridge: '%s' is not a network name", c->network);
        if (!has_mode && has_bridge)
                c->net_mode = NET_BRIDGE;
        if (c->net_mode == NET_BRIDGE && !has_bridge && has_mode)
                err(x, mode_line, "network.mode: 'bridge' needs bridge = NETWORK");
        if (c->net_mode != NET_BRIDGE && has_bridge)
                err(x, bridge_line, "network.bridge: not allowed with mode '%s'", net_mode_to_string(c->net_mode));
        bool vlan = c->net_mode == NET_MACVLAN || c->net_mode == NET_IPVLAN;
        int parent_line = read_one(x, net, "container.network", "parent", c);
        if (vlan && parent_line <= 0)
                err(x, mode_line, "network.mode: '%s' needs parent = INTERFACE (the host interface)",
                    net_mode_to_string(c->net_mode));
        else if (!vlan && parent_line > 0)
                err(x, parent_line, "network.parent: only for mode 'macvlan' or 'ipvlan'");
        else if (vlan && (strlen(c->parent) > 15 || !name_is_valid(c->parent)))
                err(x, parent_line, "network.parent: '%s' is not an interface name (at most 15 characters of "
                    "[a-z0-9_.-])", c->parent);

        const struct cval *a = get(net, "address");
        if (a) {
                c->line_address = a->line;
                if (c->net_mode != NET_BRIDGE && !vlan)
                        err(x, a->line, "network.address: only for a container on a bridge, macvlan or ipvlan network");
                else if (streq(a->text, "auto"))
                        c->address_auto = !vlan;
                else if (streq(a->text, "dhcp"))
                        c->address_dhcp = true; /* on berth's own networks: refused by config_check */
                else {
                        char buf[32];
                        snprintf(buf, sizeof buf, "%s", a->text);
                        char *slash = strchr(buf, '/');
                        unsigned prefix = 0;
                        if (slash) {
                                *slash = 0;
                                char *end = NULL;
                                errno = 0;
                                unsigned long v = strtoul(slash + 1, &end, 10);
                                if (errno || !end || *end || end == slash + 1 || v < 1 || v > 32)
                                        err(x, a->line, "network.address: '%s': the prefix is not 1 to 32", a->text);
                                else
                                        prefix = (unsigned) v;
                        }
                        if (parse_ipv4(buf, &c->address) < 0) {
                                err(x, a->line, "network.address: '%s' is not an IPv4 address (or auto)", a->text);
                                c->address_auto = !vlan; /* reported: keep the set checks off 0.0.0.0 */
                        } else
                                c->address_prefix = (uint8_t) prefix;
                }
                if (vlan && (c->address_auto || (!c->address_dhcp && !c->address_prefix)))
                        err(x, a->line, "network.address: mode '%s' needs A.B.C.D/N or dhcp (berth does not "
                            "own the network)", net_mode_to_string(c->net_mode));
        } else if (c->net_mode == NET_BRIDGE)
                c->address_auto = true;
        else if (vlan)
                err(x, mode_line, "network.mode: '%s' needs address = \"A.B.C.D/N\" or \"dhcp\"",
                    net_mode_to_string(c->net_mode));

        int gw_line = read_one(x, net, "container.network", "gateway", c);
        if (gw_line > 0) {
                if (c->net_mode != NET_BRIDGE && !vlan)
                        err(x, gw_line, "network.gateway: only for a bridge, macvlan or ipvlan network");
                else if (parse_ipv4(c->gateway_text, &c->gateway) < 0)
                        err(x, gw_line, "network.gateway: '%s' is not an IPv4 address", c->gateway_text);
                else if (!c->address_prefix)
                        err(x, gw_line, "network.gateway: needs address = \"A.B.C.D/N\" (a dhcp client "
                            "learns its gateway; on berth's networks it is the network's)");
                else {
                        uint32_t mask = c->address_prefix >= 32 ? ~0U : ~(~0U >> c->address_prefix);
                        if ((in_addr_host(c->gateway) & mask) != (in_addr_host(c->address) & mask))
                                err(x, gw_line, "network.gateway: %s is outside %s", c->gateway_text, a->text);
                }
        }

        unsigned np = net ? cfg_size(net, "publish") : 0;
        if (np > 0) {
                c->line_publish = line_of(net, "publish");
                if (c->net_mode != NET_BRIDGE)
                        err(x, c->line_publish, "network.publish: only for a container on a bridge network");
                c->publish = calloc(np, sizeof *c->publish);
                if (!c->publish)
                        oom(x);
                for (unsigned i = 0; c->publish && i < np && i < SPEC_LIST_MAX; i++) {
                        const struct cval *v = cfg_getnptr(net, "publish", i);
                        if (parse_publish(v->text, &c->publish[c->n_publish]) < 0) {
                                err(x, v->line,
                                    "network.publish: '%s' is not a port mapping (use HOST:CONTAINER[/tcp|/udp], "
                                    "ADDRESS:HOST:CONTAINER or [IPV6]:HOST:CONTAINER)",
                                    v->text);
                                continue;
                        }
                        if (c->publish[c->n_publish].host6 && IN6_IS_ADDR_LOOPBACK(&c->publish[c->n_publish].host_addr6)) {
                                err(x, v->line,
                                    "network.publish: '%s': [::1] cannot be published (IPv6 has no route_localnet, "
                                    "the kernel drops a loopback source leaving by a bridge); use 127.0.0.1 or "
                                    "one of the host's addresses", v->text);
                                continue;
                        }
                        c->n_publish++;
                }
        }
        unsigned nd = net ? cfg_size(net, "dns") : 0;
        for (unsigned i = 0; i < nd; i++) {
                const struct cval *v = cfg_getnptr(net, "dns", i);
                struct in_addr a4;
                if (parse_ipv4(v->text, &a4) < 0)
                        err(x, v->line, "network.dns: '%s' is not an IPv4 address", v->text);
                else if (i >= SPEC_DNS_MAX)
                        err(x, v->line, "network.dns: at most %d nameservers", SPEC_DNS_MAX);
                else if (strv_push(&c->dns, v->text) < 0)
                        oom(x);
        }
}

static void read_limits(struct ctx *x, cfg_t *l, struct spec_container *c)
{
        read_keys(x, l, "container.limits", c);
        int64_t swap = c->limits.memory_swap;
        if (swap > 0 && !c->limits.memory) {
                err(x, line_of(l, "memory-swap"), "limits.memory-swap: needs limits.memory");
                c->limits.memory_swap = 0;
        } else if (swap > 0 && (uint64_t) swap < c->limits.memory) {
                err(x, line_of(l, "memory-swap"),
                    "limits.memory-swap: '%s' is below memory (it counts memory plus swap)",
                    get(l, "memory-swap")->text);
                c->limits.memory_swap = 0;
        }
}

static void read_mounts(struct ctx *x, cfg_t *s, const struct scan *scan, int rec, struct spec_container *c)
{
        unsigned n = cfg_size(s, "mount");
        if (n == 0)
                return;
        c->mounts = calloc(n, sizeof *c->mounts);
        if (!c->mounts) {
                oom(x);
                return;
        }
        for (unsigned i = 0; i < n && i < SPEC_LIST_MAX; i++) {
                cfg_t *m = cfg_getnsec(s, "mount", i);
                const char *title = cfg_title(m);
                const struct sec_rec *r = scan_find_child(scan, rec, "mount", title);
                int line = r ? r->line : c->line;
                struct spec_mount *sm = &c->mounts[c->n_mounts++];
                sm->line = line;
                sm->name = strdup(title ? title : "");
                if (!sm->name)
                        oom(x);
                if (!title || !name_is_valid(title))
                        err(x, line, "mount: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]{0,62})",
                            title ? title : "");
                bool has_type = read_one(x, m, "container.mount", "type", sm) > 0;
                int sline = read_one(x, m, "container.mount", "source", sm);
                int tline = read_one(x, m, "container.mount", "target", sm);
                bool has_source = sline > 0, has_target = tline > 0;
                (void) read_one(x, m, "container.mount", "read-only", sm);
                (void) read_one(x, m, "container.mount", "idmap", sm);
                bool has_size = read_one(x, m, "container.mount", "size", sm) > 0;
                if (!has_type)
                        sm->type = has_source || !has_size ? MOUNT_BIND : MOUNT_TMPFS;
                if (!has_target)
                        err(x, line, "mount '%s': target is required", sm->name);
                else if (!path_is_clean_absolute(sm->target))
                        err(x, tline, "mount.target: '%s' must be an absolute path without . or .. components",
                            sm->target);
                else if (streq(sm->target, "/") || sm->target[strspn(sm->target, "/")] == 0)
                        err(x, tline, "mount.target: cannot mount over the container's /");
                bool type_invalid = !has_type && line_of(m, "type"); /* reported; its fields unknown */
                if (sm->type == MOUNT_BIND && !type_invalid) {
                        if (!has_source)
                                err(x, line, "mount '%s': a bind mount needs source", sm->name);
                        else if (sm->source[0] != '/')
                                err(x, sline, "mount.source: '%s' must be an absolute path", sm->source);
                        else if (!path_is_canonical_absolute(sm->source))
                                err(x, sline, "mount.source: '%s' " CANONICAL_HINT, sm->source);
                        if (has_size)
                                err(x, line_of(m, "size"), "mount.size: only for type tmpfs");
                } else if (has_source)
                        err(x, sline, "mount.source: not allowed for type tmpfs");
                if (sm->idmap && sm->type != MOUNT_BIND && !type_invalid)
                        err(x, line_of(m, "idmap"), "mount.idmap: only for bind mounts");
        }
}

/* ---- device, secret and hook blocks (titled sub-blocks like mount) ---- */

static const char *const dev_builtin[] = { "/dev/null", "/dev/zero", "/dev/full",   "/dev/random", "/dev/urandom",
                                           "/dev/tty",  "/dev/console", "/dev/ptmx", "/dev/fd",    "/dev/stdin",
                                           "/dev/stdout", "/dev/stderr", "/dev/pts", "/dev/shm",   "/dev/mqueue" };

static bool dev_path_taken(const char *p)
{
        for (size_t i = 0; i < ELEMENTSOF(dev_builtin); i++) {
                size_t l = strlen(dev_builtin[i]);
                if (strncmp(p, dev_builtin[i], l) == 0 && (p[l] == 0 || p[l] == '/'))
                        return true;
        }
        return false;
}

/* "c 10:229" or "b 8:0" */
static bool parse_dev_number(const char *t, struct spec_device *d)
{
        char type, colon, rest;
        unsigned maj, min;
        if (sscanf(t, "%c %u%c%u%c", &type, &maj, &colon, &min, &rest) != 4 || colon != ':' ||
            (type != 'c' && type != 'b') || t[1] != ' ' || !isdigit((unsigned char) t[2]) ||
            maj > 4095 || min > 1048575)
                return false;
        d->type = type;
        d->major = maj;
        d->minor = min;
        return true;
}

static void read_devices(struct ctx *x, cfg_t *s, const struct scan *scan, int rec, struct spec_container *c)
{
        unsigned n = cfg_size(s, "device");
        if (n == 0)
                return;
        c->devices = calloc(n, sizeof *c->devices);
        if (!c->devices) {
                oom(x);
                return;
        }
        for (unsigned i = 0; i < n && i < SPEC_DEVICES_MAX; i++) {
                cfg_t *b = cfg_getnsec(s, "device", i);
                const char *title = cfg_title(b);
                const struct sec_rec *r = scan_find_child(scan, rec, "device", title);
                struct spec_device *d = &c->devices[c->n_devices++];
                d->line = r ? r->line : c->line;
                d->name = strdup(title ? title : "");
                if (!d->name) {
                        oom(x);
                        continue;
                }
                bool ok = true;
                if (d->name[0] == '/') {
                        if (!path_is_canonical_absolute(d->name) || strncmp(d->name, "/dev/", 5) != 0 || !d->name[5]) {
                                err(x, d->line, "device: '%s' is not a host device node (a canonical path under /dev/)",
                                    d->name);
                                ok = false;
                        } else if (!(d->host = strdup(d->name)))
                                oom(x);
                } else if (!parse_dev_number(d->name, d)) {
                        err(x, d->line,
                            "device: '%s' is neither a host node (/dev/...) nor TYPE MAJOR:MINOR (e.g. \"c 10:229\")",
                            d->name);
                        ok = false;
                }
                d->line_path = read_one(x, b, "container.device", "path", d);
                (void) read_one(x, b, "container.device", "access", d);
                if (d->line_path) {
                        if (!path_is_canonical_absolute(d->path) || strncmp(d->path, "/dev/", 5) != 0 || !d->path[5])
                                err(x, d->line_path, "device.path: '%s' must be a canonical path under /dev/", d->path);
                        else if (dev_path_taken(d->path))
                                err(x, d->line_path, "device.path: '%s' is one of the nodes berth makes itself",
                                    d->path);
                } else if (ok && d->host) {
                        if (!(d->path = strdup(d->host)))
                                oom(x);
                        else if (dev_path_taken(d->path))
                                err(x, d->line, "device: '%s' is one of the nodes berth makes itself (set path)",
                                    d->path);
                } else if (ok)
                        err(x, d->line, "device '%s': a device given by number needs path = \"/dev/NAME\"", d->name);
                if (d->access) {
                        const char *a = d->access;
                        bool bad = strspn(a, "rwm") != strlen(a);
                        for (size_t j = 0; !bad && a[j]; j++)
                                bad = strchr(a + j + 1, a[j]) != NULL;
                        if (bad)
                                err(x, line_of(b, "access"), "device.access: '%s' is not a subset of rwm (e.g. rw)", a);
                } else if (!(d->access = strdup("rwm")))
                        oom(x);
                for (size_t j = 0; d->path && j + 1 < c->n_devices; j++)
                        if (streq_ptr(c->devices[j].path, d->path))
                                err(x, d->line_path ? d->line_path : d->line,
                                    "device: '%s' is also the path of the device at line %d", d->path,
                                    c->devices[j].line);
        }
        if (n > SPEC_DEVICES_MAX)
                err(x, c->line, "more than %d devices", SPEC_DEVICES_MAX);
}

static void read_secrets(struct ctx *x, cfg_t *s, const struct scan *scan, int rec, struct spec_container *c)
{
        unsigned n = cfg_size(s, "secret");
        if (n == 0)
                return;
        c->secrets = calloc(n, sizeof *c->secrets);
        if (!c->secrets) {
                oom(x);
                return;
        }
        for (unsigned i = 0; i < n && i < SPEC_SECRETS_MAX; i++) {
                cfg_t *b = cfg_getnsec(s, "secret", i);
                const char *title = cfg_title(b);
                const struct sec_rec *r = scan_find_child(scan, rec, "secret", title);
                struct spec_secret *sc = &c->secrets[c->n_secrets++];
                sc->line = r ? r->line : c->line;
                sc->name = strdup(title ? title : "");
                if (!sc->name) {
                        oom(x);
                        continue;
                }
                bool named = title && name_is_valid(title);
                if (!named)
                        err(x, sc->line, "secret: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]{0,62})", sc->name);
                sc->line_source = read_one(x, b, "container.secret", "source", sc);
                int tline = read_one(x, b, "container.secret", "target", sc);
                if (!sc->line_source && !line_of(b, "source"))
                        err(x, sc->line, "secret '%s': source is required", sc->name);
                else if (sc->source && !path_is_canonical_absolute(sc->source))
                        err(x, sc->line_source, "secret.source: '%s' " CANONICAL_HINT, sc->source);
                if (tline) {
                        if (!path_is_clean_absolute(sc->target) || sc->target[strspn(sc->target, "/")] == 0)
                                err(x, tline, "secret.target: '%s' must be an absolute path without . or .. components",
                                    sc->target);
                } else if (named && !(sc->target = strdup_printf("/run/secrets/%s", sc->name)))
                        oom(x);
                for (size_t j = 0; sc->target && j + 1 < c->n_secrets; j++)
                        if (streq_ptr(c->secrets[j].target, sc->target))
                                err(x, tline ? tline : sc->line, "secret: target '%s' is also the secret '%s''s",
                                    sc->target, c->secrets[j].name);
        }
        if (n > SPEC_SECRETS_MAX)
                err(x, c->line, "more than %d secrets", SPEC_SECRETS_MAX);
}

static void read_hooks(struct ctx *x, cfg_t *s, const struct scan *scan, int rec, struct spec_container *c)
{
        unsigned n = cfg_size(s, "hook");
        for (unsigned i = 0; i < n; i++) {
                cfg_t *b = cfg_getnsec(s, "hook", i);
                const char *title = cfg_title(b);
                const struct sec_rec *r = scan_find_child(scan, rec, "hook", title);
                int line = r ? r->line : c->line;
                int kind = -1;
                for (int k = 0; title && k < _HOOK_KIND_MAX; k++)
                        if (streq(title, hook_kind_to_string(k)))
                                kind = k;
                if (kind < 0) {
                        err(x, line, "hook: '%s' is not a hook (use pre-start, post-start or post-stop)",
                            title ? title : "");
                        continue;
                }
                struct spec_hook *h = &c->hooks[kind];
                h->line = line;
                h->timeout = 10 * SPEC_USEC_PER_SEC;
                (void) read_one(x, b, "container.hook", "timeout", h);
                int cl = read_one(x, b, "container.hook", "command", h);
                if (!cl)
                        err(x, line, "hook %s: command = { \"PROGRAM\", ... } is required", title);
                else if (strv_length(h->command) == 0)
                        err(x, cl, "hook.command: must name a program");
                else if (h->command[0][0] != '/')
                        err(x, cl, "hook.command: '%s' must be an absolute path (hooks run on the host, without a "
                                   "search path)",
                            h->command[0]);
        }
}

static void read_health(struct ctx *x, cfg_t *h, const struct sec_rec *r, struct spec_container *c)
{
        struct spec_health *sh = &c->health;
        if (!r)
                return;
        sh->enabled = true;
        sh->line = r->line;
        read_keys(x, h, "container.health", c);
        int hline = line_of(h, "http");
        if (sh->http_path && !sh->tcp_port)
                err(x, hline, "health.http: needs tcp = PORT");
        if (!sh->command && !line_of(h, "tcp"))
                err(x, r->line, "health: needs command = { ... } or tcp = PORT");
        if (sh->command && sh->tcp_port)
                err(x, r->line, "health: set command or tcp, not both");
        if (sh->interval < sh->timeout) {
                char a1[32], a2[32];
                err(x, line_of(h, "interval") ? line_of(h, "interval") : r->line,
                    "health: interval %s is shorter than timeout %s",
                    format_duration(sh->interval, a1, sizeof a1), format_duration(sh->timeout, a2, sizeof a2));
        }
}

int config_idmap_parse(const char *text, struct spec_container *c, char *msg, size_t size)
{
        c->idmap = c->idmap_auto = false;
        c->idmap_host_uid = c->idmap_host_gid = c->idmap_count = 0;
        if (streq(text, "none"))
                return 0;
        if (streq(text, "auto")) {
                c->idmap = c->idmap_auto = true;
                c->idmap_count = IDMAP_AUTO_COUNT;
                return 0;
        }
        /* HOSTID:COUNT — container ids 0..COUNT-1 map to HOSTID.. for uids and gids. */
        char buf[64];
        snprintf(buf, sizeof buf, "%s", text);
        char *colon = strchr(buf, ':');
        uint32_t host, count;
        if (!colon) {
                snprintf(msg, size, "'%s' is not HOSTID:COUNT, auto or none (e.g. 100000:65536)", text);
                return -EINVAL;
        }
        *colon = 0;
        if (parse_uint32(buf, 1, 4294967294U, &host) < 0 || parse_uint32(colon + 1, 1, 4294967294U, &count) < 0) {
                snprintf(msg, size, "'%s' is not HOSTID:COUNT with HOSTID > 0 (e.g. 100000:65536)", text);
                return -EINVAL;
        }
        if ((uint64_t) host + count > 4294967295ULL) {
                snprintf(msg, size, "'%s' runs past the last id", text);
                return -EINVAL;
        }
        c->idmap = true;
        c->idmap_host_uid = c->idmap_host_gid = host;
        c->idmap_count = count;
        return 0;
}

/* idmap = ..., or, when the definition sets none, $BERTH_DEFAULT_IDMAP
 * (berthd --default-idmap sets it for itself and its spawners). */
static void read_idmap(struct ctx *x, cfg_t *s, struct spec_container *c)
{
        const struct cval *v = get(s, "idmap");
        char msg[160];
        if (v) {
                c->line_idmap = v->line;
                if (config_idmap_parse(v->text, c, msg, sizeof msg) < 0)
                        err(x, v->line, "idmap: %s", msg);
                return;
        }
        const char *def = getenv(CONFIG_DEFAULT_IDMAP_ENV);
        if (!def || !*def)
                return;
        if (config_idmap_parse(def, c, msg, sizeof msg) < 0)
                err(x, c->line, "idmap: the default (--default-idmap, $" CONFIG_DEFAULT_IDMAP_ENV "): %s", msg);
        else
                c->idmap_default = c->idmap;
}

/* The settings of freeform block name (sysctl, rlimits) of the container
 * whose record is rec: the pre-scan's entries, in file order. */
static void freeform_entries(const struct scan *scan, int rec, const char *name, const struct scan_entry **first,
                             size_t *n)
{
        const struct sec_rec *b = rec >= 0 ? scan_find_child(scan, rec, name, NULL) : NULL;
        int bi = b ? (int) (b - scan->recs) : -1;
        *first = NULL;
        *n = 0;
        if (bi < 0)
                return;
        /* Entries are in file order, so by record: bisect to the block's run. */
        size_t lo = 0, hi = scan->n_entries;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (scan->entries[mid].rec < bi)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < scan->n_entries && scan->entries[i].rec == bi; i++) {
                if (!*first)
                        *first = &scan->entries[i];
                ++*n;
        }
}

static int entry_set_before(const struct scan_entry *first, const struct scan_entry *e)
{
        for (const struct scan_entry *p = first; p < e; p++)
                if (p->rec == e->rec && streq(p->key, e->key))
                        return p->line;
        return 0;
}

static void read_sysctl(struct ctx *x, const struct scan *scan, int rec, struct spec_container *c)
{
        const struct scan_entry *first, *e;
        size_t n;
        char msg[256];
        freeform_entries(scan, rec, "sysctl", &first, &n);
        if (n > SPEC_LIST_MAX) {
                err(x, first[SPEC_LIST_MAX].line, "sysctl: more than %d entries", SPEC_LIST_MAX);
                return;
        }
        for (e = first; n > 0; e++) {
                if (e->rec != first->rec)
                        continue;
                n--;
                const char *bad = settings_sysctl_check_name(e->key, c->net_mode);
                if (bad) {
                        snprintf(msg, sizeof msg, bad, e->key);
                        err(x, e->line, "sysctl: %s", msg);
                        continue;
                }
                if ((bad = settings_sysctl_check_value(e->value))) {
                        snprintf(msg, sizeof msg, bad, e->value);
                        err(x, e->line, "sysctl.%s: %s", e->key, msg);
                        continue;
                }
                int before = entry_set_before(first, e);
                if (before) {
                        err(x, e->line, "sysctl.%s: set twice (first at line %d)", e->key, before);
                        continue;
                }
                _cleanup_free_ char *kv = strdup_printf("%s=%s", e->key, e->value);
                if (!kv || strv_push(&c->sysctl, kv) < 0) {
                        oom(x);
                        return;
                }
        }
}

/* network NAME { address = ... } blocks of the container whose record is
 * rec: the pre-scan took them out of libconfuse's text into its entries.
 * Whether NAME is a declared network, and the address in it, is
 * config_check's. */
static void read_attachments(struct ctx *x, const struct scan *scan, int rec, struct spec_container *c)
{
        for (size_t i = rec >= 0 ? (size_t) rec + 1 : scan->n; i < scan->n && scan->recs[i].depth > 0; i++) {
                const struct sec_rec *b = &scan->recs[i];
                if (b->parent != rec || !b->title || !streq(b->name, "network"))
                        continue;
                if (!name_is_valid(b->title)) {
                        err(x, b->line, "network '%s': not a network name", b->title);
                        continue;
                }
                if (c->net_mode != NET_BRIDGE) {
                        err(x, b->line, "network '%s': an extra network needs the container on a berth network "
                            "(network { bridge = NETWORK }), not mode '%s'", b->title, net_mode_to_string(c->net_mode));
                        continue;
                }
                if (c->n_attach >= SPEC_ATTACH_MAX) {
                        err(x, b->line, "network '%s': more than %d extra networks", b->title, SPEC_ATTACH_MAX);
                        continue;
                }
                struct spec_attach a = { .address_auto = true, .mode = NET_BRIDGE, .line = b->line };
                bool twice = streq_ptr(c->network, b->title);
                for (size_t k = 0; k < c->n_attach && !twice; k++)
                        twice = streq(c->attach[k].network, b->title);
                if (twice) {
                        err(x, b->line, "network '%s': the container is on it already", b->title);
                        continue;
                }
                size_t lo = 0, hi = scan->n_entries; /* entries are by record: bisect to this block's */
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (scan->entries[mid].rec < (int) i)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                const char *address_text = NULL;
                size_t errors = x->d->n; /* one reported: left out, so the set's checks add nothing to it */
                for (size_t k = lo; k < scan->n_entries && scan->entries[k].rec == (int) i; k++) {
                        const struct scan_entry *e = &scan->entries[k];
                        if (streq(e->key, "mode")) {
                                if (a.line_mode)
                                        err(x, e->line, "network '%s'.mode: set twice (first at line %d)", b->title,
                                            a.line_mode);
                                else if (streq(e->value, "bridge") || streq(e->value, "macvlan") ||
                                         streq(e->value, "ipvlan")) {
                                        a.mode = streq(e->value, "bridge")    ? NET_BRIDGE
                                                 : streq(e->value, "macvlan") ? NET_MACVLAN
                                                                              : NET_IPVLAN;
                                        a.line_mode = e->line;
                                } else
                                        err(x, e->line, "network '%s'.mode: '%s' is not bridge, macvlan or ipvlan "
                                            "(an extra interface)", b->title, e->value);
                                continue;
                        }
                        if (!streq(e->key, "address")) {
                                err(x, e->line, "unknown key '%s' in network '%s' (only address and mode)", e->key,
                                    b->title);
                                continue;
                        }
                        if (a.line_address) {
                                err(x, e->line, "network '%s'.address: set twice (first at line %d)", b->title,
                                    a.line_address);
                                continue;
                        }
                        a.line_address = e->line;
                        address_text = e->value;
                        if (streq(e->value, "auto"))
                                continue;
                        a.address_auto = false;
                        if (streq(e->value, "dhcp")) {
                                a.address_dhcp = true;
                                continue;
                        }
                        char buf[32];
                        snprintf(buf, sizeof buf, "%s", e->value);
                        char *slash = strchr(buf, '/');
                        if (slash) {
                                *slash = 0;
                                char *end = NULL;
                                errno = 0;
                                unsigned long v = strtoul(slash + 1, &end, 10);
                                if (errno || !end || *end || end == slash + 1 || v < 1 || v > 32) {
                                        err(x, e->line, "network '%s'.address: '%s': the prefix is not 1 to 32",
                                            b->title, e->value);
                                        continue;
                                }
                                a.address_prefix = (uint8_t) v;
                        }
                        if (parse_ipv4(buf, &a.address) < 0)
                                err(x, e->line, "network '%s'.address: '%s' is not an IPv4 address (or auto)",
                                    b->title, e->value);
                }
                bool vlan = a.mode == NET_MACVLAN || a.mode == NET_IPVLAN;
                if (vlan && (!address_text || a.address_auto || (!a.address_dhcp && !a.address_prefix))) {
                        err(x, a.line_address ? a.line_address : a.line_mode,
                            "network '%s': mode '%s' needs address = \"A.B.C.D/N\" or \"dhcp\" (berth does not "
                            "own the network)", b->title, net_mode_to_string(a.mode));
                }
                if ((vlan || a.address_prefix || a.address_dhcp) && strlen(b->title) > 15)
                        err(x, b->line, "network '%s': not an interface name (at most 15 characters; the name of "
                            "an extra network berth does not own is its host interface)", b->title);
                if (x->d->n != errors)
                        continue;
                struct spec_attach *v = realloc(c->attach, (c->n_attach + 1) * sizeof *v);
                a.network = strdup(b->title);
                if (!v || !a.network) {
                        free(a.network);
                        if (v)
                                c->attach = v;
                        oom(x);
                        return;
                }
                c->attach = v;
                c->attach[c->n_attach++] = a;
        }
}

static void read_rlimits(struct ctx *x, const struct scan *scan, int rec, struct spec_container *c)
{
        const struct scan_entry *first, *e;
        size_t n;
        char msg[256];
        freeform_entries(scan, rec, "rlimits", &first, &n);
        if (n == 0)
                return;
        if (n > SPEC_LIST_MAX) {
                err(x, first[SPEC_LIST_MAX].line, "rlimits: more than %d entries", SPEC_LIST_MAX);
                return;
        }
        c->rlimits = calloc(n, sizeof *c->rlimits);
        if (!c->rlimits) {
                oom(x);
                return;
        }
        for (e = first; n > 0; e++) {
                if (e->rec != first->rec)
                        continue;
                n--;
                int res = settings_rlimit_from_name(e->key);
                if (res < 0) {
                        err(x, e->line,
                            "rlimits: '%s' is not a resource limit (use as, core, cpu, data, fsize, locks, memlock, "
                            "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)",
                            e->key);
                        continue;
                }
                int before = entry_set_before(first, e);
                if (before) {
                        err(x, e->line, "rlimits.%s: set twice (first at line %d)", e->key, before);
                        continue;
                }
                struct spec_rlimit *l = &c->rlimits[c->n_rlimits];
                if (settings_rlimit_parse(res, e->value, &l->soft, &l->hard, msg, sizeof msg) < 0) {
                        err(x, e->line, "rlimits.%s: %s", e->key, msg);
                        continue;
                }
                l->resource = res;
                c->n_rlimits++;
        }
        if (!c->n_rlimits) {
                free(c->rlimits);
                c->rlimits = NULL;
        }
}

static void read_io_max(struct ctx *x, cfg_t *io, const struct sec_rec *rec, struct spec_container *c)
{
        if (!io || !rec) /* libconfuse gives every single block, written or not */
                return;
        read_keys(x, io, "container.io-max", c);
        const struct spec_limits *l = &c->limits;
        bool any = false; /* written, even when wrong (reported) */
        for (const char *const *k = (const char *const[]){ "rbps", "wbps", "riops", "wiops", NULL }; *k; k++)
                any |= cfg_size(io, *k) > 0;
        if (!l->io_device && cfg_size(io, "device") == 0)
                err(x, rec->line, "io-max: needs device = \"/dev/...\" (the block device to throttle)");
        else if (!any && l->io_device)
                err(x, c->line_io_device, "io-max: set at least one of rbps, wbps, riops, wiops");
}

static struct spec_container *read_container(struct ctx *x, cfg_t *s, const struct scan *scan)
{
        const char *title = cfg_title(s);
        const struct sec_rec *rec = scan_find(scan, x->next_rec, -1, "container", title);
        if (rec)
                x->next_rec = (size_t) (rec - scan->recs) + 1;
        int line = rec ? rec->line : 1, rec_idx = rec ? (int) (rec - scan->recs) : -2;
        struct spec_container *c = NULL;

        if (spec_container_new(title ? title : "", x->file, line, &c) < 0)
                return NULL;
        if (!title || !name_is_valid(title))
                err(x, line, "container name '%s' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})", title ? title : "");

        /* Every key read on its own, by the table; then what the table
         * cannot say: keys that depend on each other. */
        read_keys(x, s, "container", c);
        bool has_t = c->template_name, has_r = c->rootfs;
        if (has_t && has_r)
                err(x, c->line_rootfs, "set template or rootfs, not both (template at line %d)", c->line_template);
        else if (!has_t && !has_r)
                err(x, line, "container '%s': needs template = NAME or rootfs = PATH", c->name);
        if (has_r && c->rootfs[0] != '/')
                err(x, c->line_rootfs, "rootfs: '%s' must be an absolute path", c->rootfs);
        else if (has_r && !path_is_canonical_absolute(c->rootfs))
                err(x, c->line_rootfs, "rootfs: '%s' " CANONICAL_HINT, c->rootfs);
        else if (has_r && path_is_host_root(c->rootfs))
                err(x, c->line_rootfs,
                    "rootfs: '%s' is the host's root directory (a container needs a root of its own)", c->rootfs);
        int cl = line_of(s, "command");
        if (cl && c->command && strv_length(c->command) == 0)
                err(x, cl, "command: must name a program");
        if (c->restart_max_delay < c->restart_delay)
                err(x, line_of(s, "restart-max-delay") ? line_of(s, "restart-max-delay") : line_of(s, "restart-delay"),
                    "restart-max-delay: shorter than restart-delay");

        const struct cval *sc = get(s, "seccomp");
        if (sc) {
                if (streq(sc->text, "default"))
                        c->seccomp = SECCOMP_DEFAULT;
                else if (streq(sc->text, "unconfined"))
                        c->seccomp = SECCOMP_UNCONFINED;
                else if (sc->text[0] == '/') {
                        c->seccomp = SECCOMP_PROFILE;
                        c->seccomp_profile = strdup(sc->text);
                        if (!c->seccomp_profile)
                                oom(x);
                        c->line_seccomp = sc->line;
                } else
                        err(x, sc->line, "seccomp: '%s' is not valid (use default, unconfined, or an absolute path)",
                            sc->text);
        }
        read_idmap(x, s, c);

        read_network_block(x, cfg_getsec(s, "network"), c);
        read_attachments(x, scan, rec_idx, c);
        read_limits(x, cfg_getsec(s, "limits"), c);
        read_sysctl(x, scan, rec_idx, c);
        read_rlimits(x, scan, rec_idx, c);
        read_io_max(x, cfg_getsec(s, "io-max"), scan_find_child(scan, rec_idx, "io-max", NULL), c);
        read_mounts(x, s, scan, rec_idx, c);
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].idmap && !c->idmap)
                        err(x, c->mounts[i].line, "mount.idmap: needs the container's idmap");
        /* Two mounts (devices, secrets, hooks) with the same title in one
         * container: libconfuse merges them, so look at what the pre-scan saw. */
        if (rec_idx >= 0 && scan_report_declared_twice(scan, rec_idx, x->d, x->file) < 0)
                oom(x);
        read_devices(x, s, scan, rec_idx, c);
        read_secrets(x, s, scan, rec_idx, c);
        read_hooks(x, s, scan, rec_idx, c);
        cfg_t *caps = cfg_getsec(s, "capabilities");
        if (caps) {
                bool add_all = false, drop_all = false;
                c->caps_add = caps_from_list(x, caps, "add", &add_all);
                c->caps_drop = caps_from_list(x, caps, "drop", &drop_all);
                /* drop = all with add = one is how one grants exactly one. */
                if (!drop_all && !add_all && (c->caps_add & c->caps_drop))
                        err(x, line_of(caps, "drop"), "capabilities: a capability is both added and dropped");
        }
        read_health(x, cfg_getsec(s, "health"), scan_find_child(scan, rec_idx, "health", NULL), c);
        read_keys(x, cfg_getsec(s, "log"), "container.log", c);
        read_keys(x, cfg_getsec(s, "snapshot"), "container.snapshot", c);
        return c;
}

static struct spec_network *read_network(struct ctx *x, cfg_t *s, const struct scan *scan)
{
        const char *title = cfg_title(s);
        const struct sec_rec *rec = scan_find(scan, x->next_rec, -1, "network", title);
        if (rec)
                x->next_rec = (size_t) (rec - scan->recs) + 1;
        int line = rec ? rec->line : 1;
        struct spec_network *n = NULL;
        if (spec_network_new(title ? title : "", x->file, line, &n) < 0)
                return NULL;
        if (!title || !name_is_valid(title))
                err(x, line, "network name '%s' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})", title ? title : "");
        const struct cval *sub = get(s, "subnet");
        if (!sub)
                err(x, line, "network '%s': subnet is required (e.g. subnet = \"198.18.0.0/24\")", n->name);
        else if (parse_cidr(sub->text, &n->subnet, &n->prefix) < 0)
                err(x, sub->line, "subnet: '%s' is not an IPv4 CIDR (e.g. 198.18.0.0/24)", sub->text);
        else if (n->prefix < 8 || n->prefix > 30)
                err(x, sub->line, "subnet: prefix /%u is out of range (/8../30)", n->prefix);
        else {
                uint32_t mask = n->prefix ? ~0U << (32 - n->prefix) : 0;
                uint32_t a = in_addr_host(n->subnet);
                if (a & ~mask) {
                        struct in_addr fixed = { .s_addr = htonl(a & mask) };
                        char buf[INET_ADDRSTRLEN];
                        err(x, sub->line, "subnet: '%s' has host bits set (did you mean %s/%u?)", sub->text,
                            inet_ntop(AF_INET, &fixed, buf, sizeof buf), n->prefix);
                }
                n->subnet.s_addr = htonl(a & mask);
                n->gateway.s_addr = htonl((a & mask) + 1);
        }
        const struct cval *gw = get(s, "gateway");
        if (gw && read_one(x, s, "network", "gateway", n) && sub && n->prefix >= 8 && n->prefix <= 30) {
                uint32_t mask = ~0U << (32 - n->prefix), g = in_addr_host(n->gateway), net = in_addr_host(n->subnet);
                if ((g & mask) != net)
                        err(x, gw->line, "gateway: '%s' is outside subnet '%s'", gw->text, sub->text);
                else if (g == net || g == (net | ~mask))
                        err(x, gw->line, "gateway: '%s' is the subnet's network or broadcast address", gw->text);
        }
        const struct cval *s6 = get(s, "subnet6");
        if (s6) {
                char buf[64];
                snprintf(buf, sizeof buf, "%s", s6->text);
                char *slash = strchr(buf, '/'), *end = NULL;
                unsigned long p6 = 0;
                if (slash) {
                        *slash = 0;
                        errno = 0;
                        p6 = strtoul(slash + 1, &end, 10);
                }
                if (!slash || errno || !end || *end || end == slash + 1 ||
                    inet_pton(AF_INET6, buf, &n->subnet6) != 1)
                        err(x, s6->line, "subnet6: '%s' is not an IPv6 prefix (e.g. 2001:db8:1::/64)", s6->text);
                else if (p6 < 8 || p6 > 120)
                        err(x, s6->line, "subnet6: prefix /%lu is out of range (/8../120)", p6);
                else if (sub && n->prefix >= 8 && n->prefix <= 30 && 128 - p6 < 32u - n->prefix)
                        err(x, s6->line, "subnet6: /%lu is too long for the addresses of subnet /%u (a "
                            "container's IPv6 address carries its IPv4 host number: at most /%u)", p6, n->prefix,
                            128 - (32 - n->prefix));
                else {
                        bool host_bits = false;
                        for (unsigned b = (unsigned) p6; b < 128; b++)
                                if (n->subnet6.s6_addr[b / 8] & (0x80 >> (b % 8)))
                                        host_bits = true;
                        if (host_bits)
                                err(x, s6->line, "subnet6: '%s' has host bits set", s6->text);
                        else {
                                n->v6 = true;
                                n->prefix6 = (uint8_t) p6;
                                n->gateway6 = n->subnet6;
                                n->gateway6.s6_addr[15] |= 1;
                        }
                }
        }
        read_keys(x, s, "network", n);
        const struct cval *n6 = get(s, "nat6");
        if (n6 && n->nat6 && !s6)
                err(x, n6->line, "nat6: network '%s' has no subnet6 (NAT66 masquerades its IPv6 prefix)", n->name);
        int bl = read_one(x, s, "network", "bridge", n);
        bool name_reported = !bl && !name_is_valid(n->name); /* the bridge is the name */
        if (!name_reported && (strlen(n->bridge) > 15 || !name_is_valid(n->bridge)))
                err(x, bl ? bl : line,
                    "bridge: '%s' is not a usable interface name (at most 15 characters of [a-z0-9_.-])",
                    n->bridge);
        return n;
}

static struct spec_template *read_template(struct ctx *x, cfg_t *s, const struct scan *scan)
{
        const char *title = cfg_title(s);
        const struct sec_rec *rec = scan_find(scan, 0, -1, "template", title);
        int line = rec ? rec->line : 1;
        struct spec_template *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->name = strdup(title ? title : "");
        t->file = strdup(x->file);
        t->line = line;
        if (!t->name || !t->file)
                return spec_template_free(t);
        if (!title || !name_is_valid(title))
                err(x, line, "template name '%s' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})", title ? title : "");
        read_keys(x, s, "template", t);
        if (!t->from)
                err(x, line, "template '%s': from is required (e.g. from = \"debian\" or \"oci-archive:/srv/images/app.tar\")",
                    t->name);
        /* copy { source target }, untitled and repeated: the pre-scan's
         * records of this block's copies, in order, give their lines. */
        unsigned n = cfg_size(s, "copy");
        int rec_idx = rec ? (int) (rec - scan->recs) : -1;
        size_t next = rec_idx >= 0 ? (size_t) rec_idx + 1 : scan->n;
        t->copies = n ? calloc(n, sizeof *t->copies) : NULL;
        if (n && !t->copies) {
                oom(x);
                return t;
        }
        for (unsigned i = 0; i < n; i++) {
                cfg_t *b = cfg_getnsec(s, "copy", i);
                struct spec_template_copy *cp = &t->copies[t->n_copies++];
                while (next < scan->n && scan->recs[next].depth > 0 &&
                       !(scan->recs[next].parent == rec_idx && streq(scan->recs[next].name, "copy")))
                        next++;
                cp->line = next < scan->n && scan->recs[next].depth > 0 ? scan->recs[next++].line : line;
                (void) read_one(x, b, "template.copy", "source", cp);
                (void) read_one(x, b, "template.copy", "target", cp);
                if (!cp->source)
                        err(x, cp->line, "copy: source is required (source = \"/host/path\")");
                if (!cp->target)
                        err(x, cp->line, "copy: target is required (target = \"/path/in/template\")");
        }
        return t;
}

/* libconfuse reports through a callback without a user pointer: the diag
 * of the parse in progress is reached through this thread-local, set only
 * for the duration of cfg_parse_buf(). */
static _Thread_local struct ctx *confuse_ctx;

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        if (!confuse_ctx)
                return;
        const char *section = cfg && cfg->name && !streq(cfg->name, "root") ? cfg->name : NULL;
        char opt[128];
        if (sscanf(msg, "no such option '%127[^']'", opt) == 1) {
                if (section)
                        err(confuse_ctx, cfg->line, "unknown key '%s' in %s", opt, section);
                else
                        err(confuse_ctx, cfg->line, "unknown key '%s' (expected container NAME { }, network NAME { } or template NAME { })",
                            opt);
                return;
        }
        err(confuse_ctx, cfg ? cfg->line : 0, "%s", msg);
}


static int append_ptr(void ***arr, size_t *n, void *p)
{
        void **a = *arr;
        if ((*n & (*n - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */
                a = realloc(*arr, (*n ? 2 * *n : 1) * sizeof(void *));
                if (!a)
                        return -ENOMEM;
                *arr = a;
        }
        a[(*n)++] = p;
        return 0;
}

/* Parses one file. When libconfuse cannot parse it, the container names
 * the pre-scan saw go to *unparsed (when given), so that references to
 * them are not reported as dangling on top of the syntax error. */
static int parse_buffer(const char *filename, const char *text, size_t len, struct spec_set *set,
                        struct diag *d, char ***unparsed, const struct schema *shared)
{
        struct ctx x = { .file = filename, .d = d };
        int line = 1;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char) text[i];
                if (ch == '\n')
                        line++;
                else if (ch < 0x20 && ch != '\t' && ch != '\r') {
                        err(&x, line, "binary data (byte 0x%02x): not a definition file", ch);
                        return 0;
                }
        }
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, text, len);
        buf[len] = 0;

        /* The schema of a directory's load is built once for all its files. */
        struct schema own = { 0 };
        if (!shared && schema_build(&own) < 0)
                return -ENOMEM;
        const struct schema *sc = shared ? shared : &own;
        struct scan scan = { 0 };
        size_t errors_before = d->n + d->dropped;
        const cfg_opt_t *top = sc->opts;
        int r = scan_text(buf, len, top, &scan, d, filename);
        if (r >= 0)
                r = scan_check_size(&scan, d, filename);
        if (r != 0)
                goto out; /* -ENOMEM, or too large (reported) */
        /* Same title twice in a file: libconfuse would merge the two. */
        r = scan_report_declared_twice(&scan, -1, d, filename);
        if (r < 0)
                goto out;

        cfg_t *cfg = cfg_init((cfg_opt_t *) top, CFGF_NONE);
        if (!cfg) {
                r = -ENOMEM;
                goto out;
        }
        cfg_set_error_function(cfg, confuse_error);
        confuse_ctx = &x;
        int pr = cfg_parse_buf(cfg, buf);
        confuse_ctx = NULL;
        if (pr != CFG_SUCCESS) {
                if (d->n + d->dropped == errors_before)
                        err(&x, 0, "cannot parse this file");
                for (size_t i = 0; unparsed && i < scan.n && r >= 0; i++)
                        if (scan.recs[i].depth == 0 && streq(scan.recs[i].name, "container") && scan.recs[i].title)
                                r = strv_push(unparsed, scan.recs[i].title);
                cfg_free(cfg);
                goto out;
        }
        for (unsigned i = 0; i < cfg_size(cfg, "container"); i++) {
                struct spec_container *c = read_container(&x, cfg_getnsec(cfg, "container", i), &scan);
                if (!c || append_ptr((void ***) &set->containers, &set->n_containers, c) < 0) {
                        spec_container_free(c);
                        r = -ENOMEM;
                        break;
                }
        }
        for (unsigned i = 0; r >= 0 && i < cfg_size(cfg, "network"); i++) {
                struct spec_network *n = read_network(&x, cfg_getnsec(cfg, "network", i), &scan);
                if (!n || append_ptr((void ***) &set->networks, &set->n_networks, n) < 0) {
                        spec_network_free(n);
                        r = -ENOMEM;
                        break;
                }
        }
        for (unsigned i = 0; r >= 0 && i < cfg_size(cfg, "template"); i++) {
                struct spec_template *t = read_template(&x, cfg_getnsec(cfg, "template", i), &scan);
                if (!t || append_ptr((void ***) &set->templates, &set->n_templates, t) < 0) {
                        spec_template_free(t);
                        r = -ENOMEM;
                        break;
                }
        }
        cfg_free(cfg);
out:
        scan_done(&scan);
        schema_done(&own);
        if (r >= 0 && x.r < 0)
                r = x.r; /* an allocation failed while reading: the set is not whole */
        return r < 0 ? r : 0;
}

int config_parse_buffer(const char *filename, const char *text, size_t len, struct spec_set *set,
                        struct diag *d)
{
        return parse_buffer(filename, text, len, set, d, NULL, NULL);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool conf_name_wanted(const char *n)
{
        size_t l = strlen(n);
        return n[0] != '.' && n[0] != '#' && l > 5 && streq(n + l - 5, ".conf");
}

/* The file's bytes, kept with the set (spec_set.sources). */
static int keep_source(struct spec_set *set, const char *name, char **text, size_t len)
{
        struct spec_source *v = realloc(set->sources, (set->n_sources + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        set->sources = v;
        char *n = strdup(name);
        if (!n)
                return -ENOMEM;
        v[set->n_sources++] = (struct spec_source){ .name = n, .text = *text, .len = len };
        *text = NULL;
        return 0;
}

/* ---- the parse cache --------------------------------------------------------------------------- */

struct cache_entry {
        char *name;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
        struct timespec seen; /* CLOCK_REALTIME before its bytes were read */
        char *text;
        size_t len;
        struct spec_container **containers;
        size_t n_containers;
        struct spec_network **networks;
        size_t n_networks;
        struct spec_template **templates;
        size_t n_templates;
};

struct config_cache {
        char *dir;
        char *idmap_env; /* $BERTH_DEFAULT_IDMAP when the entries were parsed; NULL = unset */
        struct cache_entry *entries; /* by name */
        size_t n;
        size_t parsed, reused; /* by the last load */
};

static void cache_entry_done(struct cache_entry *e)
{
        free(e->name);
        free(e->text);
        for (size_t i = 0; i < e->n_containers; i++)
                spec_container_free(e->containers[i]);
        free(e->containers);
        for (size_t i = 0; i < e->n_networks; i++)
                spec_network_free(e->networks[i]);
        free(e->networks);
        for (size_t i = 0; i < e->n_templates; i++)
                spec_template_free(e->templates[i]);
        free(e->templates);
        *e = (struct cache_entry){ 0 };
}

static void cache_flush(struct config_cache *c)
{
        for (size_t i = 0; i < c->n; i++)
                cache_entry_done(&c->entries[i]);
        free(c->entries);
        c->entries = NULL;
        c->n = 0;
        free(c->dir);
        c->dir = NULL;
        free(c->idmap_env);
        c->idmap_env = NULL;
}

struct config_cache *config_cache_new(void)
{
        return calloc(1, sizeof(struct config_cache));
}

struct config_cache *config_cache_free(struct config_cache *c)
{
        if (c) {
                cache_flush(c);
                free(c);
        }
        return NULL;
}

void config_cache_stats(const struct config_cache *c, size_t *ret_parsed, size_t *ret_reused)
{
        *ret_parsed = c ? c->parsed : 0;
        *ret_reused = c ? c->reused : 0;
}

static bool ts_eq(struct timespec a, struct timespec b)
{
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* A change of the file after it was read shows in its stat, unless it came
 * within the file system's timestamp granularity of the read: trusted only
 * for a file last changed well (2 s) before it was read. */
#define CACHE_RACY_SEC 2

static bool stat_trusted(const struct cache_entry *e, const struct stat *st)
{
        if (e->dev != st->st_dev || e->ino != st->st_ino || e->size != st->st_size ||
            !ts_eq(e->mtime, st->st_mtim) || !ts_eq(e->ctime, st->st_ctim))
                return false;
        const struct timespec *newest = st->st_mtim.tv_sec > st->st_ctim.tv_sec ? &st->st_mtim : &st->st_ctim;
        return newest->tv_sec + CACHE_RACY_SEC < e->seen.tv_sec;
}

/* The entry of name in the old cache (names sorted: a cursor walks forward). */
static struct cache_entry *cache_find(struct config_cache *c, size_t *cursor, const char *name)
{
        /* An entry moved into the new cache has no name left: passed. */
        while (c && *cursor < c->n && (!c->entries[*cursor].name || strcmp(c->entries[*cursor].name, name) < 0))
                (*cursor)++;
        if (c && *cursor < c->n && streq(c->entries[*cursor].name, name))
                return &c->entries[*cursor];
        return NULL;
}

/* Copies of what entry e holds, appended to set. 0, or -ENOMEM. */
static int cache_copy_out(const struct cache_entry *e, struct spec_set *set)
{
        for (size_t i = 0; i < e->n_containers; i++) {
                struct spec_container *c = spec_container_dup(e->containers[i]);
                if (!c || append_ptr((void ***) &set->containers, &set->n_containers, c) < 0) {
                        spec_container_free(c);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < e->n_networks; i++) {
                struct spec_network *n = spec_network_dup(e->networks[i]);
                if (!n || append_ptr((void ***) &set->networks, &set->n_networks, n) < 0) {
                        spec_network_free(n);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < e->n_templates; i++) {
                struct spec_template *t = spec_template_dup(e->templates[i]);
                if (!t || append_ptr((void ***) &set->templates, &set->n_templates, t) < 0) {
                        spec_template_free(t);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* Copies of what the parse just appended to set (from the given counts on)
 * into e. 0, or -ENOMEM. */
static int cache_copy_in(struct cache_entry *e, const struct spec_set *set, size_t nc, size_t nn, size_t nt)
{
        e->n_containers = set->n_containers - nc;
        e->n_networks = set->n_networks - nn;
        e->n_templates = set->n_templates - nt;
        e->containers = calloc(e->n_containers + 1, sizeof *e->containers);
        e->networks = calloc(e->n_networks + 1, sizeof *e->networks);
        e->templates = calloc(e->n_templates + 1, sizeof *e->templates);
        if (!e->containers || !e->networks || !e->templates)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_containers; i++)
                if (!(e->containers[i] = spec_container_dup(set->containers[nc + i])))
                        return -ENOMEM;
        for (size_t i = 0; i < e->n_networks; i++)
                if (!(e->networks[i] = spec_network_dup(set->networks[nn + i])))
                        return -ENOMEM;
        for (size_t i = 0; i < e->n_templates; i++)
                if (!(e->templates[i] = spec_template_dup(set->templates[nt + i])))
                        return -ENOMEM;
        return 0;
}

/* Reads file name of dfd (a symlink followed). 0, or -errno. */
static int read_conf(int dfd, const char *name, char **text, size_t *len)
{
        int q = read_file_at(dfd, name, CONFIG_FILE_MAX, text, len);
        if (q == -ELOOP) { /* a symlink: follow it, the operator put it there */
                _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
                q = fd < 0 ? -errno : read_file_fd(fd, CONFIG_FILE_MAX, text, len);
        }
        return q;
}

int config_load_dir(const char *dir, struct spec_set *set, struct diag *d)
{
        return config_load_dir_cached(dir, set, d, NULL);
}

int config_load_dir_cached(const char *dir, struct spec_set *set, struct diag *d, struct config_cache *cache)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int r = -errno;
                diag_add(d, dir, 0, "cannot open definition directory: %s", strerror(-r));
                return r;
        }
        int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *dp = dup >= 0 ? fdopendir(dup) : NULL;
        if (!dp) {
                int r = -errno;
                if (dup >= 0)
                        close(dup);
                diag_add(d, dir, 0, "cannot read definition directory: %s", strerror(-r));
                return r;
        }
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(dp))) {
                if (!conf_name_wanted(de->d_name))
                        continue;
                if (nn >= CONFIG_FILES_MAX) {
                        diag_add(d, dir, 0, "more than %d definition files", CONFIG_FILES_MAX);
                        r = -E2BIG;
                        break;
                }
                char *c = strdup(de->d_name);
                if (!c || append_ptr((void ***) &names, &nn, c) < 0) {
                        free(c);
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(dp);
        if (nn)
                qsort(names, nn, sizeof *names, cmp_str);

        /* The old entries stay usable only for the same directory and the
         * same default idmap (read_idmap). */
        const char *idmap_env = getenv(CONFIG_DEFAULT_IDMAP_ENV);
        if (cache && (!streq_ptr(cache->dir, dir) || !streq_ptr(cache->idmap_env, idmap_env)))
                cache_flush(cache);
        struct cache_entry *fresh = cache ? calloc(nn + 1, sizeof *fresh) : NULL;
        size_t n_fresh = 0, cursor = 0, parsed = 0, reused = 0;
        if (cache && !fresh)
                r = -ENOMEM;

        char **unparsed = NULL;
        struct schema schema = { 0 };
        bool schema_built = false;
        for (size_t i = 0; r >= 0 && i < nn; i++) {
                _cleanup_free_ char *path = strdup_printf("%s/%s", streq(dir, "/") ? "" : dir, names[i]);
                struct stat st;
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                if (fstatat(dfd, names[i], &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue; /* a dangling link or a directory named *.conf */
                struct cache_entry *old = cache_find(cache, &cursor, names[i]);
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                struct timespec seen;
                clock_gettime(CLOCK_REALTIME, &seen);
                bool same = old && stat_trusted(old, &st); /* then not even read */
                if (same) {
                        text = malloc(old->len + 1);
                        if (!text) {
                                r = -ENOMEM;
                                break;
                        }
                        memcpy(text, old->text, old->len + 1);
                        len = old->len;
                        seen = old->seen; /* still trusted on the same grounds */
                } else {
                        int q = read_conf(dfd, names[i], &text, &len);
                        if (q == -EFBIG) {
                                diag_add(d, path, 0, "file is larger than %d bytes", CONFIG_FILE_MAX);
                                continue;
                        }
                        if (q < 0) {
                                diag_add(d, path, 0, "cannot read: %s", strerror(-q));
                                continue;
                        }
                        same = old && old->len == len && memcmp(old->text, text, len) == 0;
                }
                struct cache_entry *e = NULL; /* this file's in the new cache */
                if (same) {
                        r = cache_copy_out(old, set);
                        reused++;
                        e = &fresh[n_fresh++]; /* the old entry moves into the new cache */
                        *e = *old;
                        *old = (struct cache_entry){ 0 };
                } else {
                        if (!schema_built && schema_build(&schema) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        schema_built = true;
                        size_t nc = set->n_containers, nnet = set->n_networks, nt = set->n_templates;
                        size_t errors_before = d->n + d->dropped, n_unparsed = strv_length(unparsed);
                        r = parse_buffer(path, text, len, set, d, &unparsed, &schema);
                        parsed++;
                        /* Kept only when clean: no message, nothing unparsed. */
                        if (r >= 0 && cache && d->n + d->dropped == errors_before &&
                            strv_length(unparsed) == n_unparsed) {
                                e = &fresh[n_fresh++];
                                r = cache_copy_in(e, set, nc, nnet, nt);
                                if (r >= 0 && !(e->name = strdup(names[i])))
                                        r = -ENOMEM;
                                if (r >= 0 && !(e->text = malloc(len + 1)))
                                        r = -ENOMEM;
                                if (r >= 0) {
                                        memcpy(e->text, text, len);
                                        e->text[len] = 0;
                                        e->len = len;
                                }
                        }
                }
                if (r >= 0 && e) {
                        e->dev = st.st_dev;
                        e->ino = st.st_ino;
                        e->size = st.st_size;
                        e->mtime = st.st_mtim;
                        e->ctime = st.st_ctim;
                        e->seen = seen;
                }
                if (r >= 0)
                        r = keep_source(set, names[i], &text, len);
                if (set->n_containers > CONFIG_CONTAINERS_MAX) {
                        diag_add(d, dir, 0, "more than %d containers", CONFIG_CONTAINERS_MAX);
                        r = -E2BIG;
                }
        }
        schema_done(&schema);
        for (size_t i = 0; i < nn; i++)
                free(names[i]);
        free(names);
        if (cache) {
                /* The new entries replace the old (those of files gone or changed are dropped). */
                char *keep_dir = cache->dir, *keep_env = cache->idmap_env;
                cache->dir = cache->idmap_env = NULL;
                cache_flush(cache);
                cache->dir = keep_dir ? keep_dir : strdup(dir);
                cache->idmap_env = keep_env ? keep_env : idmap_env ? strdup(idmap_env) : NULL;
                if (r >= 0 && (!cache->dir || (idmap_env && !cache->idmap_env))) {
                        for (size_t i = 0; i < n_fresh; i++)
                                cache_entry_done(&fresh[i]);
                        n_fresh = 0;
                }
                if (r < 0 && fresh) { /* a load that stopped half way keeps nothing */
                        for (size_t i = 0; i < n_fresh; i++)
                                cache_entry_done(&fresh[i]);
                        n_fresh = 0;
                }
                cache->entries = fresh;
                cache->n = n_fresh;
                cache->parsed = parsed;
                cache->reused = reused;
        }
        if (r >= 0)
                config_check_set(set, unparsed, d);
        if (r >= 0)
                r = config_check_seccomp_profiles(set, d);
        if (r >= 0)
                r = settings_check_set(set, d);
        strv_free(unparsed);
        if (r < 0)
                return r;
        diag_sort(d);
        return d->n || d->dropped ? -EINVAL : 0;
}

char **config_keys(void)
{
        char **v = calloc(1, sizeof(char *));
        char path[128];
        for (const struct key_def *k = keys_table(NULL); v && k->name; k++)
                if (strv_push(&v, key_path(k, path, sizeof path)) < 0)
                        return strv_free(v);
        return v;
}
