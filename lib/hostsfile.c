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
        return rewrite_in_place(fd, text, old_len);
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

int hostsfile_link(int dirfd, const char *network, const char *etc_dir)
{
        char fname[300];
        int r = file_name(network, fname);
        if (r < 0)
                return r;
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
}
