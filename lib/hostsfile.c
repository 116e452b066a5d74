/* Why a hosts file and not a DNS server per network (libvirt's and LXD's
 * dnsmasq): docs/design.md, "Names on a network". */
#include "hostsfile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util.h"

#define HEADER_LOCALHOST "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

/* The first name of an entry line ("ADDRESS NAME ..."), into buf; false
 * for comments, blank lines and the localhost lines. */
static bool entry_name(const char *line, size_t len, char *buf, size_t n)
{
        char tmp[512], addr[64], first[256];
        if (len == 0 || len >= sizeof tmp || line[0] == '#')
                return false;
        memcpy(tmp, line, len);
        tmp[len] = 0;
        if (sscanf(tmp, "%63s %255s", addr, first) != 2 || streq(first, "localhost"))
                return false;
        snprintf(buf, n, "%s", first);
        return true;
}

int hostsfile_update_text(const char *old, const char *network, const char *name, const char *alias,
                          const struct in_addr *address, char **ret)
{
        if (!name_is_valid(network) || !name_is_valid(name) || (alias && !name_is_valid(alias)))
                return -EINVAL;
        struct strbuf b = { 0 };
        strbuf_printf(&b, HEADER_LOCALHOST);
        strbuf_printf(&b, "# berth: the containers on network %s, kept up to date by berth\n", network);
        for (const char *p = old ? old : ""; *p;) {
                const char *nl = strchrnul(p, '\n');
                size_t len = (size_t) (nl - p);
                char first[256];
                if (entry_name(p, len, first, sizeof first) && !streq(first, name))
                        strbuf_printf(&b, "%.*s\n", (int) len, p);
                p = *nl ? nl + 1 : nl;
        }
        if (address) {
                char a[INET_ADDRSTRLEN];
                strbuf_printf(&b, "%s\t%s %s.%s", inet_ntop(AF_INET, address, a, sizeof a), name, name, network);
                if (alias && !streq(alias, name))
                        strbuf_printf(&b, " %s", alias);
                strbuf_printf(&b, "\n");
        }
        if (b.error) {
                free(b.p);
                return b.error;
        }
        *ret = b.p;
        return 0;
}

static int file_name(const char *network, char buf[static 300])
{
        if (!name_is_valid(network))
                return -EINVAL;
        snprintf(buf, 300, "%s.hosts", network);
        return 0;
}

/* Writes text over fd from offset 0; padding keeps the length from
 * shrinking (the file is read concurrently). */
static int rewrite_in_place(int fd, const char *text, size_t old_len)
{
        size_t len = strlen(text);
        _cleanup_free_ char *buf = malloc(len > old_len ? len : old_len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, text, len);
        if (old_len > len)
                memset(buf + len, '\n', old_len - len);
        size_t total = len > old_len ? len : old_len, done = 0;
        while (done < total) {
                ssize_t n = pwrite(fd, buf + done, total - done, (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                done += (size_t) n;
        }
        return 0;
}

/* ---- own hosts files (containers on several networks) ---------------------------------- */

#define OWN_HEADER "# berth: container %s, networks:"

/* A set of names (open addressing, FNV-1a): what an own file gave already. */
struct name_set {
        const char **slot;
        size_t n, cap;
};

static bool name_set_add(struct name_set *s, const char *name, size_t len, bool *added)
{
        if ((s->n + 1) * 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                const char **v = calloc(cap, sizeof *v);
                if (!v)
                        return false;
                for (size_t i = 0; i < s->cap; i++)
                        if (s->slot[i]) {
                                const char *q = s->slot[i];
                                size_t l = strcspn(q, " \t\n");
                                size_t j = fnv1a64(FNV1A64_INIT, q, l) & (cap - 1);
                                while (v[j])
                                        j = (j + 1) & (cap - 1);
                                v[j] = q;
                        }
                free(s->slot);
                s->slot = v;
                s->cap = cap;
        }
        size_t j = fnv1a64(FNV1A64_INIT, name, len) & (s->cap - 1);
        for (; s->slot[j]; j = (j + 1) & (s->cap - 1)) {
                const char *q = s->slot[j];
                if (strcspn(q, " \t\n") == len && memcmp(q, name, len) == 0) {
                        *added = false;
                        return true;
                }
        }
        s->slot[j] = name; /* points into the text, which outlives the set */
        s->n++;
        *added = true;
        return true;
}

int hostsfile_own_text(const char *name, const char *const *nets, const char *const *texts, size_t n, char **ret)
{
        if (!name_is_valid(name) || n == 0 || n > HOSTSFILE_NETS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!name_is_valid(nets[i]) || strlen(nets[i]) >= 64)
                        return -EINVAL;
        struct strbuf b = { 0 };
        struct name_set seen = { 0 };
        int r = 0;
        strbuf_printf(&b, HEADER_LOCALHOST);
        strbuf_printf(&b, OWN_HEADER, name);
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&b, " %s", nets[i]);
        strbuf_printf(&b, "\n# (the containers on each, a name by its first line; kept up to date by berth)\n");
        for (size_t i = 0; i < n && r == 0; i++)
                for (const char *p = texts[i] ? texts[i] : ""; *p && r == 0;) {
                        const char *nl = strchrnul(p, '\n');
                        size_t len = (size_t) (nl - p);
                        char first[256];
                        if (entry_name(p, len, first, sizeof first)) {
                                /* ADDRESS then names: each name not given before. */
                                const char *q = p, *end = nl;
                                size_t al = strcspn(q, " \t\n");
                                bool any = false;
                                q += al;
                                while (q < end) {
                                        q += strspn(q, " \t");
                                        size_t tl = strcspn(q, " \t\n");
                                        if (!tl || q >= end)
                                                break;
                                        bool added;
                                        if (!name_set_add(&seen, q, tl, &added)) {
                                                r = -ENOMEM;
                                                break;
                                        }
                                        if (added) {
                                                if (!any)
                                                        strbuf_printf(&b, "%.*s\t", (int) al, p);
                                                strbuf_printf(&b, "%s%.*s", any ? " " : "", (int) tl, q);
                                                any = true;
                                        }
                                        q += tl;
                                }
                                if (any)
                                        strbuf_printf(&b, "\n");
                        }
                        p = *nl ? nl + 1 : nl;
                }
        free(seen.slot);
        if (r == 0)
                r = b.error;
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = b.p;
        return 0;
}

int hostsfile_own_networks(const char *text, char nets[][64], size_t max, size_t *n)
{
        *n = 0;
        for (const char *p = text; p && *p;) {
                const char *nl = strchrnul(p, '\n');
                if (strncmp(p, "# berth: container ", 19) == 0) {
                        const char *q = strstr(p, ", networks:");
                        if (!q || q > nl)
                                return -EINVAL;
                        q += strlen(", networks:");
                        while (q < nl) {
                                q += strspn(q, " ");
                                size_t tl = strcspn(q, " \n");
                                if (!tl || q >= nl)
                                        break;
                                if (*n >= max || tl >= 64)
                                        return -EINVAL;
                                memcpy(nets[*n], q, tl);
                                nets[*n][tl] = 0;
                                if (!name_is_valid(nets[*n]))
                                        return -EINVAL;
                                (*n)++;
                                q += tl;
                        }
                        return *n ? 0 : -EINVAL;
                }
                p = *nl ? nl + 1 : nl;
        }
        return -EINVAL;
}

static int own_path(const char *name, char buf[static 300])
{
        if (!name_is_valid(name))
                return -EINVAL;
        snprintf(buf, 300, HOSTSFILE_OWN_DIR "/%s", name);
        return 0;
}

/* Writes name's own file on nets from their files in dirfd (the lock is held). */
static int own_write_locked(int dirfd, const char *name, const char *const *nets, size_t n)
{
        char fname[300];
        int r = own_path(name, fname);
        if (r < 0)
                return r;
        if (n == 0 || n > HOSTSFILE_NETS_MAX)
                return -EINVAL;
        char *texts[HOSTSFILE_NETS_MAX] = { 0 };
        _cleanup_free_ char *text = NULL, *old = NULL;
        size_t old_len = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char nf[300];
                r = file_name(nets[i], nf);
                if (r >= 0) {
                        r = read_file_at(dirfd, nf, HOSTSFILE_MAX, &texts[i], NULL);
                        if (r == -ENOENT)
                                r = 0;
                }
        }
        if (r >= 0)
                r = hostsfile_own_text(name, nets, (const char *const *) texts, n, &text);
        for (size_t i = 0; i < n; i++)
                free(texts[i]);
        if (r < 0)
                return r;
        if (strlen(text) > HOSTSFILE_MAX)
                return -EFBIG;
        if (mkdirat(dirfd, HOSTSFILE_OWN_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int fd = openat(dirfd, fname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = read_file_fd(fd, HOSTSFILE_MAX, &old, &old_len);
        if (r < 0)
                return r;
        if (old_len == strlen(text) && memcmp(old, text, old_len) == 0)
                return 0;
        (void) fchmod(fd, 0644);
        return rewrite_in_place(fd, text, old_len);
}

/* Every own file that names network (every one when network is NULL),
 * written again from the network files. */
static void own_refresh_locked(int nfd, const char *network)
{
        _cleanup_close_ int d = openat(nfd, HOSTSFILE_OWN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *dp = d >= 0 ? fdopendir(d) : NULL;
        if (!dp)
                return;
        d = -1; /* dp owns it */
        struct dirent *de;
        while ((de = readdir(dp))) {
                if (!name_is_valid(de->d_name))
                        continue;
                _cleanup_free_ char *text = NULL;
                if (read_file_at(dirfd(dp), de->d_name, HOSTSFILE_MAX, &text, NULL) < 0)
                        continue;
                char nets[HOSTSFILE_NETS_MAX][64];
                size_t n = 0;
                if (hostsfile_own_networks(text, nets, HOSTSFILE_NETS_MAX, &n) < 0)
                        continue;
                bool on = !network;
                const char *v[HOSTSFILE_NETS_MAX];
                for (size_t i = 0; i < n; i++) {
                        v[i] = nets[i];
                        on = on || streq(nets[i], network);
                }
                if (on)
                        (void) own_write_locked(nfd, de->d_name, v, n);
        }
        closedir(dp);
}

static int lock_netdir(int dirfd, int *ret)
{
        int lock = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0)
                return -errno;
        if (flock(lock, LOCK_EX) < 0) {
                int r = -errno;
                close(lock);
                return r;
        }
        *ret = lock;
        return 0;
}

int hostsfile_own_set(int dirfd, const char *name, const char *const *nets, size_t n)
{
        _cleanup_close_ int lock = -1;
        int r = lock_netdir(dirfd, &lock);
        if (r < 0)
                return r;
        return own_write_locked(dirfd, name, nets, n);
}

int hostsfile_own_remove(int dirfd, const char *name)
{
        char fname[300];
        int r = own_path(name, fname);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = -1;
        r = lock_netdir(dirfd, &lock);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, fname, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

void hostsfile_resync(const char *state_dir)
{
        _cleanup_free_ char *nd = strdup_printf("%s/networks", state_dir);
        _cleanup_close_ int dfd = nd ? open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        _cleanup_close_ int lock = -1;
        if (dfd < 0 || lock_netdir(dfd, &lock) < 0)
                return;
        own_refresh_locked(dfd, NULL);
}

static int set_locked(int dirfd, const char *network, const char *name, const char *alias,
                      const struct in_addr *address)
{
        char fname[300];
        int r = file_name(network, fname);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(dirfd, fname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *old = NULL, *text = NULL;
        size_t old_len = 0;
        r = read_file_fd(fd, HOSTSFILE_MAX, &old, &old_len);
        if (r < 0)
                return r;
        r = hostsfile_update_text(old, network, name, alias, address, &text);
        if (r < 0)
                return r;
        if (strlen(text) > HOSTSFILE_MAX)
                return -EFBIG;
        if (old_len == strlen(text) && memcmp(old, text, old_len) == 0)
                return 0;
        /* Mode 0644 whatever the umask: containers read it as any user. */
        (void) fchmod(fd, 0644);
        r = rewrite_in_place(fd, text, old_len);
        if (r < 0)
                return r;
        own_refresh_locked(dirfd, network);
        return 0;
}

int hostsfile_set(int dirfd, const char *network, const char *name, const char *alias,
                  const struct in_addr *address)
{
        _cleanup_close_ int lock = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0)
                return -errno;
        if (flock(lock, LOCK_EX) < 0)
                return -errno;
        return set_locked(dirfd, network, name, alias, address);
}

static int link_into(int dirfd, const char *fname, const char *etc_dir)
{
        int r;
        _cleanup_close_ int etc = open(etc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (etc < 0)
                return -errno;
        (void) unlinkat(etc, "hosts.link", 0);
        if (linkat(dirfd, fname, etc, "hosts.link", 0) < 0)
                return -errno;
        if (renameat(etc, "hosts.link", etc, "hosts") < 0) {
                r = -errno;
                (void) unlinkat(etc, "hosts.link", 0);
                return r;
        }
        return 0;
}

int hostsfile_link(int dirfd, const char *network, const char *etc_dir)
{
        char fname[300];
        int r = file_name(network, fname);
        return r < 0 ? r : link_into(dirfd, fname, etc_dir);
}

int hostsfile_own_link(int dirfd, const char *name, const char *etc_dir)
{
        char fname[300];
        int r = own_path(name, fname);
        return r < 0 ? r : link_into(dirfd, fname, etc_dir);
}

void hostsfile_forget(const char *state_dir, const char *name)
{
        _cleanup_free_ char *nd = strdup_printf("%s/networks", state_dir);
        _cleanup_close_ int dfd = nd ? open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (dfd < 0)
                return;
        int fd2 = dup(dfd);
        DIR *dp = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!dp) {
                if (fd2 >= 0)
                        close(fd2);
                return;
        }
        struct dirent *de;
        while ((de = readdir(dp))) {
                size_t l = strlen(de->d_name);
                if (l <= 6 || de->d_name[0] == '.' || !streq(de->d_name + l - 6, ".hosts"))
                        continue;
                char net[256];
                snprintf(net, sizeof net, "%.*s", (int) (l - 6), de->d_name);
                if (name_is_valid(net))
                        (void) hostsfile_set(dfd, net, name, NULL, NULL);
        }
        closedir(dp);
        (void) hostsfile_own_remove(dfd, name);
}
