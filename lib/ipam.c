/* Address allocation: a small table per network, loaded, changed and
 * written back atomically for each request. */
#include "ipam.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>

#include "util.h"

void ipam_table_done(struct ipam_table *t)
{
        free(t->entries);
        t->entries = NULL;
        t->n = 0;
}

static int table_add(struct ipam_table *t, const char *name, struct in_addr a)
{
        if (t->n >= IPAM_MAX_ENTRIES)
                return -E2BIG;
        if (strlen(name) > SPEC_NAME_MAX)
                return -EINVAL;
        struct ipam_entry *e = realloc(t->entries, (t->n + 1) * sizeof *e);
        if (!e)
                return -ENOMEM;
        t->entries = e;
        e = &t->entries[t->n++];
        memset(e, 0, sizeof *e);
        strcpy(e->name, name);
        e->address = a;
        return 0;
}

static struct ipam_entry *table_find(const struct ipam_table *t, const char *name)
{
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->entries[i].name, name))
                        return &t->entries[i];
        return NULL;
}

int ipam_table_parse(const char *text, struct ipam_table *ret)
{
        struct ipam_table t = { 0 };
        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');
                size_t len = (size_t) (nl - p);
                char line[160], name[SPEC_NAME_MAX + 2], addr[INET_ADDRSTRLEN + 1], extra[2];
                int r = -EINVAL;
                if (len < sizeof line) {
                        memcpy(line, p, len);
                        line[len] = 0;
                        int k = sscanf(line, "%64s %16s %1s", name, addr, extra);
                        struct in_addr a;
                        if (k <= 0 || line[strspn(line, " \t")] == '#')
                                r = 0;
                        else if (k == 2 && name_is_valid(name) && inet_pton(AF_INET, addr, &a) == 1 &&
                                 !table_find(&t, name))
                                r = table_add(&t, name, a);
                }
                if (r < 0) {
                        ipam_table_done(&t);
                        return r;
                }
                p = *nl ? nl + 1 : nl;
        }
        *ret = t;
        return 0;
}

int ipam_table_format(const struct ipam_table *t, char **ret)
{
        size_t cap = 64 + t->n * (SPEC_NAME_MAX + INET_ADDRSTRLEN + 2), len = 0;
        char *s = malloc(cap);
        if (!s)
                return -ENOMEM;
        len += (size_t) snprintf(s, cap, "# berth address allocations: container address\n");
        for (size_t i = 0; i < t->n; i++) {
                char a[INET_ADDRSTRLEN];
                len += (size_t) snprintf(s + len, cap - len, "%s %s\n", t->entries[i].name,
                                         inet_ntop(AF_INET, &t->entries[i].address, a, sizeof a));
        }
        *ret = s;
        return 0;
}

static uint32_t host_order(struct in_addr a)
{
        return ntohl(a.s_addr);
}

/* A host address of n other than the gateway. */
static bool usable(const struct spec_network *n, uint32_t a)
{
        uint32_t mask = ~0U << (32 - n->prefix), net = host_order(n->subnet) & mask;
        return (a & mask) == net && a != net && a != (net | ~mask) && a != host_order(n->gateway);
}

static bool is_reserved(uint32_t a, const struct in_addr *reserved, size_t n_reserved)
{
        for (size_t i = 0; i < n_reserved; i++)
                if (host_order(reserved[i]) == a)
                        return true;
        return false;
}

static const struct ipam_entry *holder(const struct ipam_table *t, uint32_t a)
{
        for (size_t i = 0; i < t->n; i++)
                if (host_order(t->entries[i].address) == a)
                        return &t->entries[i];
        return NULL;
}

int ipam_table_assign(struct ipam_table *t, const struct spec_network *n, const char *container,
                      const struct in_addr *want, const struct in_addr *reserved, size_t n_reserved,
                      struct in_addr *ret, bool *ret_changed)
{
        if (n->prefix < 8 || n->prefix > 30 || !name_is_valid(container))
                return -EINVAL;
        struct ipam_entry *mine = table_find(t, container);
        uint32_t pick;
        if (want) {
                pick = host_order(*want);
                if (!usable(n, pick))
                        return -EINVAL;
                const struct ipam_entry *h = holder(t, pick);
                if (h && h != mine)
                        return -EADDRINUSE;
        } else if (mine && usable(n, host_order(mine->address)) &&
                   !is_reserved(host_order(mine->address), reserved, n_reserved)) {
                pick = host_order(mine->address);
        } else {
                uint32_t mask = ~0U << (32 - n->prefix), net = host_order(n->subnet) & mask;
                uint32_t size = ~mask + 1;
                /* One bit per address of the subnet: every check is O(1). */
                _cleanup_free_ uint8_t *taken = calloc(size / 8 + 1, 1);
                if (!taken)
                        return -ENOMEM;
                for (size_t i = 0; i < t->n; i++) {
                        uint32_t a = host_order(t->entries[i].address);
                        if ((a & mask) == net && &t->entries[i] != mine)
                                taken[(a - net) / 8] |= (uint8_t) (1u << ((a - net) % 8));
                }
                for (size_t i = 0; i < n_reserved; i++) {
                        uint32_t a = host_order(reserved[i]);
                        if ((a & mask) == net)
                                taken[(a - net) / 8] |= (uint8_t) (1u << ((a - net) % 8));
                }
                pick = 0;
                for (uint32_t off = 1; off < size - 1; off++)
                        if (!(taken[off / 8] & (1u << (off % 8))) && usable(n, net + off)) {
                                pick = net + off;
                                break;
                        }
                if (!pick)
                        return -ENOSPC;
        }
        struct in_addr a = { .s_addr = htonl(pick) };
        bool changed = !mine || mine->address.s_addr != a.s_addr;
        if (mine)
                mine->address = a;
        else {
                int r = table_add(t, container, a);
                if (r < 0)
                        return r;
        }
        *ret = a;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

bool ipam_table_release(struct ipam_table *t, const char *container)
{
        struct ipam_entry *e = table_find(t, container);
        if (!e)
                return false;
        size_t i = (size_t) (e - t->entries);
        memmove(e, e + 1, (t->n - i - 1) * sizeof *e);
        t->n--;
        return true;
}

static void ipam_table_donep(struct ipam_table *t)
{
        ipam_table_done(t);
}

static int file_name(const char *network, char buf[SPEC_NAME_MAX + 8])
{
        if (!name_is_valid(network))
                return -EINVAL;
        (void) snprintf(buf, SPEC_NAME_MAX + 8, "%s.ipam", network);
        return 0;
}

/* Locks dirfd (released when the returned fd closes) and loads the table. */
static int load_locked(int dirfd, const char *fname, struct ipam_table *t, int *ret_lock)
{
        int lock = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0)
                return -errno;
        if (flock(lock, LOCK_EX) < 0) {
                int r = -errno;
                (void) close(lock);
                return r;
        }
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dirfd, fname, IPAM_FILE_MAX, &text, NULL);
        if (r == -ENOENT)
                r = ipam_table_parse("", t);
        else if (r >= 0)
                r = ipam_table_parse(text, t);
        if (r < 0) {
                (void) close(lock);
                return r;
        }
        *ret_lock = lock;
        return 0;
}

static int save(int dirfd, const char *fname, const struct ipam_table *t)
{
        _cleanup_free_ char *text = NULL;
        int r = ipam_table_format(t, &text);
        if (r < 0)
                return r;
        return write_file_atomic(dirfd, fname, text, strlen(text), 0600);
}

int ipam_assign(int dirfd, const struct spec_network *n, const char *container,
                const struct in_addr *want, const struct in_addr *reserved, size_t n_reserved,
                struct in_addr *ret)
{
        char fname[SPEC_NAME_MAX + 8];
        int r = file_name(n->name, fname);
        if (r < 0)
                return r;
        _cleanup_(ipam_table_donep) struct ipam_table t = { 0 };
        _cleanup_close_ int lock = -1;
        r = load_locked(dirfd, fname, &t, &lock);
        if (r < 0)
                return r;
        bool changed = false;
        r = ipam_table_assign(&t, n, container, want, reserved, n_reserved, ret, &changed);
        if (r < 0)
                return r;
        return changed ? save(dirfd, fname, &t) : 0;
}

int ipam_release(int dirfd, const char *network, const char *container)
{
        char fname[SPEC_NAME_MAX + 8];
        int r = file_name(network, fname);
        if (r < 0)
                return r;
        _cleanup_(ipam_table_donep) struct ipam_table t = { 0 };
        _cleanup_close_ int lock = -1;
        r = load_locked(dirfd, fname, &t, &lock);
        if (r < 0)
                return r;
        if (!ipam_table_release(&t, container))
                return 0;
        return save(dirfd, fname, &t);
}
