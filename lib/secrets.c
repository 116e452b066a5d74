#include "secrets.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SECRETS_DIR "/dev/.berth-secrets"

static int check_source(const char *path, int fd, uint64_t *size)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > SPEC_SECRET_SIZE_MAX)
                return -EFBIG;
        (void) path;
        *size = (uint64_t) st.st_size;
        return 0;
}

static const char *source_problem(int r)
{
        return r == -EINVAL ? "is not a regular file" : r == -EFBIG ? "is larger than 1M" : strerror(-r);
}

int secrets_open(const struct spec_container *c, struct secrets_prepared *ret, struct error *e)
{
        ret->n = 0;
        for (size_t i = 0; i < c->n_secrets && i < SPEC_SECRETS_MAX; i++) {
                const struct spec_secret *s = &c->secrets[i];
                int fd = open(s->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                int r = fd < 0 ? -errno : 0;
                struct mounts_secret *m = &ret->items[ret->n];
                if (r >= 0)
                        r = check_source(s->source, fd, &m->size);
                if (r < 0) {
                        if (fd >= 0)
                                close(fd);
                        secrets_close(ret);
                        if (r == -EINVAL || r == -EFBIG)
                                return error_set_msg(e, r, "secret '%s': source '%s' %s", s->name, s->source,
                                                 source_problem(r));
                        return error_set(e, r, "secret '%s': source '%s'", s->name, s->source);
                }
                m->fd = fd;
                m->name = s->name;
                m->target = s->target;
                ret->n++;
        }
        return 0;
}

void secrets_close(struct secrets_prepared *s)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->items[i].fd >= 0)
                        (void) close(s->items[i].fd);
        s->n = 0;
}

static int copy_into(int dir, const struct mounts_secret *s, uid_t uid, gid_t gid)
{
        int out = openat(dir, s->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0400);
        if (out < 0)
                return -errno;
        char buf[4096];
        off_t off = 0;
        int r = 0;
        for (;;) {
                ssize_t k = pread(s->fd, buf, sizeof buf, off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : 0;
                        break;
                }
                if ((uint64_t) (off + k) > SPEC_SECRET_SIZE_MAX) {
                        r = -EFBIG; /* grew since it was checked */
                        break;
                }
                for (ssize_t w = 0; w < k;) {
                        ssize_t n = write(out, buf + w, (size_t) (k - w));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        w += n;
                }
                if (r < 0)
                        break;
                off += k;
        }
        explicit_bzero(buf, sizeof buf);
        if (r >= 0 && (fchown(out, uid, gid) < 0 || fchmod(out, 0400) < 0))
                r = -errno;
        close(out);
        return r;
}

static int bind_secret(int dir, const struct mounts_secret *s, int rootfd)
{
        _cleanup_close_ int t = mounts_ensure_file_in_root(rootfd, s->target);
        if (t < 0)
                return t;
        _cleanup_close_ int m = open_tree(dir, s->name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (m < 0)
                return -errno;
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                            MOUNT_ATTR_NOEXEC };
        if (mount_setattr(m, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
                return -errno;
        if (move_mount(m, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int secrets_install(const struct mounts_secret *s, size_t n, uid_t uid, gid_t gid, struct error *e)
{
        if (n == 0)
                return 0;
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += (s[i].size + 4095) / 4096 * 4096 + 4096;
        char size[32];
        snprintf(size, sizeof size, "%llu", (unsigned long long) total + 65536);
        int r = 0;
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return error_set(e, -errno, "cannot create the secrets' file system");
        _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return error_set(e, -errno, "cannot mount the secrets' file system");
        for (size_t i = 0; i < n; i++) {
                r = copy_into(mnt, &s[i], uid, gid);
                (void) close(s[i].fd);
                if (r < 0) {
                        for (size_t j = i + 1; j < n; j++)
                                (void) close(s[j].fd);
                        return error_set(e, r, "secret '%s': cannot copy it", s[i].name);
                }
        }
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                return error_set(e, -errno, "cannot make the secrets' file system read-only");
        /* As the masks (mounts.c): older kernels clone only attached mounts. */
        if (mkdir(SECRETS_DIR, 0700) < 0 || move_mount(mnt, "", AT_FDCWD, SECRETS_DIR, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return error_set(e, -errno, "cannot attach the secrets' file system");
        _cleanup_close_ int dir = open(SECRETS_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = dir < 0 || rootfd < 0 ? -errno : 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = bind_secret(dir, &s[i], rootfd);
                if (r < 0)
                        (void) error_set(e, r, "secret '%s' on '%s'", s[i].name, s[i].target);
        }
        (void) umount2(SECRETS_DIR, MNT_DETACH);
        (void) rmdir(SECRETS_DIR);
        if (r < 0 && !e->msg[0])
                (void) error_set(e, r, "cannot open the secrets' file system");
        return r;
}

void secrets_preflight(const struct spec_container *c, struct diag *d)
{
        for (size_t i = 0; i < c->n_secrets; i++) {
                const struct spec_secret *s = &c->secrets[i];
                if (!s->source)
                        continue; /* reported by the reader */
                _cleanup_close_ int fd = open(s->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                uint64_t size;
                int r = fd < 0 ? -errno : check_source(s->source, fd, &size);
                if (r == -ENOENT)
                        diag_add(d, c->file, s->line_source, "secret.source: '%s' does not exist", s->source);
                else if (r < 0)
                        diag_add(d, c->file, s->line_source, "secret.source: '%s' %s", s->source, source_problem(r));
        }
}
