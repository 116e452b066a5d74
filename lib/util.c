#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

char **strv_free(char **v)
{
        if (!v)
                return NULL;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
        return NULL;
}

size_t strv_length(char *const *v)
{
        size_t n = 0;
        if (v)
                while (v[n])
                        n++;
        return n;
}

int strv_push(char ***v, const char *s)
{
        size_t n = strv_length(*v);
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(c);
                return -ENOMEM;
        }
        nv[n] = c;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

char **strv_copy(char *const *v)
{
        char **r = calloc(strv_length(v) + 1, sizeof(char *));
        if (!r)
                return NULL;
        for (size_t i = 0; v && v[i]; i++) {
                r[i] = strdup(v[i]);
                if (!r[i])
                        return strv_free(r);
        }
        return r;
}

bool strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

bool strv_equal(char *const *a, char *const *b)
{
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

char *strdup_printf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
        if (b->error)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->error = -EINVAL;
                        return;
                }
                if (b->p && b->len + (size_t) n < b->cap) {
                        b->len += (size_t) n;
                        return;
                }
                size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t) n;
                char *np = realloc(b->p, cap);
                if (!np) {
                        b->error = -ENOMEM;
                        return;
                }
                b->p = np;
                b->cap = cap;
        }
}

bool path_is_host_root(const char *p)
{
        struct stat a, root;
        if (stat(p, &a) < 0 || stat("/", &root) < 0)
                return false;
        return a.st_dev == root.st_dev && a.st_ino == root.st_ino;
}

bool name_is_valid(const char *s)
{
        size_t n;
        if (!s || !*s)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (n = 1; s[n]; n++) {
                char c = s[n];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                      c == '-'))
                        return false;
        }
        return n <= 63;
}

static int write_file_renamed(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync)
{
        char tmp[256];
        if (snprintf(tmp, sizeof tmp, ".#%s.%d", name, (int) getpid()) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        const char *p = data;
        size_t left = len;
        while (left > 0) {
                ssize_t w = write(fd, p, left);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void) close(fd);
                        (void) unlinkat(dirfd, tmp, 0);
                        return r;
                }
                p += w;
                left -= (size_t) w;
        }
        if ((sync && fsync(fd) < 0) || close(fd) < 0) {
                int r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                int r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (sync)
                (void) fsync(dirfd);
        return 0;
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
        return write_file_renamed(dirfd, name, data, len, mode, true);
}

int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
        return write_file_renamed(dirfd, name, data, len, mode, false);
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return read_file_fd(fd, max, ret, ret_len);
}

int read_file_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((size_t) st.st_size > max)
                return -EFBIG;
        /* procfs and sysfs files report size 0: read them in chunks anyway. */
        size_t cap = st.st_size > 0 ? (size_t) st.st_size + 1 : 4096, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max) {
                        free(buf);
                        return -EFBIG;
                }
                if (len == cap) {
                        char *nb = realloc(buf, cap * 2 + 1);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap *= 2;
                }
        }
        buf[len] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int lock_dir(const char *dir)
{
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        _cleanup_free_ char *lock = strdup_printf("%s/.lock", dir);
        if (!lock)
                return -ENOMEM;
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int mkdir_p(const char *path, mode_t mode)
{
        char buf[4096];
        size_t n = strlen(path);
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, path, n + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EXDEV; /* a mount point: never descend */
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name, dev);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int rm_rf_below(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(dfd, name, st.st_dev);
}

int exe_dir(char *buf, size_t n)
{
        if (n < 2)
                return -ENAMETOOLONG;
        ssize_t k = readlink("/proc/self/exe", buf, n - 1);
        if (k < 0)
                return -errno;
        if ((size_t) k >= n - 1)
                return -ENAMETOOLONG;
        buf[k] = 0;
        char *slash = strrchr(buf, '/');
        if (buf[0] != '/' || !slash)
                return -ENOENT;
        *(slash == buf ? slash + 1 : slash) = 0;
        return 0;
}

int send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
        char cbuf[CMSG_SPACE(sizeof(int) * UTIL_MAX_FDS)] = { 0 };
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n > UTIL_MAX_FDS)
                return -E2BIG;
        if (n > 0) {
                mh.msg_control = cbuf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
        return send_with_fds(sock, buf, len, &fd, fd >= 0 ? 1 : 0);
}

int recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *ret_n)
{
        char cbuf[CMSG_SPACE(sizeof(int) * UTIL_MAX_FDS)];
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t k;
        *ret_n = 0;
        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if (k == 0)
                return 0;
        size_t n = 0;
        bool excess = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < m; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n < max)
                                fds[n++] = fd;
                        else {
                                close(fd);
                                excess = true;
                        }
                }
        }
        if ((size_t) k != len || excess || (mh.msg_flags & MSG_CTRUNC)) {
                for (size_t i = 0; i < n; i++)
                        close(fds[i]);
                return -EBADMSG;
        }
        *ret_n = n;
        return 1;
}

int recv_with_fd(int sock, void *buf, size_t len, int *ret_fd)
{
        size_t n;
        int fd = -1;
        int r = recv_with_fds(sock, buf, len, &fd, 1, &n);
        if (r > 0)
                *ret_fd = n ? fd : -1;
        return r;
}

/* Length of the valid UTF-8 sequence at in (1..4), 0 when it is not one,
 * -1 when it may become one with more bytes. */
static int utf8_sequence(const unsigned char *in, size_t n)
{
        unsigned char b = in[0];
        int len;
        unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
        if (b >= 0xc2 && b <= 0xdf)
                len = 2;
        else if (b >= 0xe0 && b <= 0xef) {
                len = 3;
                if (b == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (b == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
                len = 4;
                if (b == 0xf0)
                        lo = 0x90; /* overlong */
                else if (b == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else
                return 0;
        for (int i = 1; i < len; i++) {
                if ((size_t) i >= n)
                        return -1;
                unsigned char c = in[i];
                if (i == 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf)
                        return 0;
        }
        return len;
}

size_t escape_terminal(const char *in, size_t n, bool final, char *out, size_t *out_len)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *u = (const unsigned char *) in;
        size_t i = 0, o = 0;
        while (i < n) {
                unsigned char b = u[i];
                size_t take = 1; /* bytes of input to copy or escape */
                bool escape;
                if (b < 0x80)
                        escape = (b < 0x20 && b != '\n' && b != '\t') || b == 0x7f;
                else {
                        int len = utf8_sequence(u + i, n - i);
                        if (len < 0 && !final)
                                break;
                        if (len > 0)
                                take = (size_t) len;
                        /* U+0080..U+009F are C1 controls (CSI is U+009B) */
                        escape = len <= 0 || (b == 0xc2 && u[i + 1] <= 0x9f);
                }
                for (size_t k = 0; k < take; k++) {
                        if (escape) {
                                out[o++] = '\\';
                                out[o++] = 'x';
                                out[o++] = hex[u[i + k] >> 4];
                                out[o++] = hex[u[i + k] & 15];
                        } else
                                out[o++] = (char) u[i + k];
                }
                i += take;
        }
        *out_len = o;
        return i;
}
