#include "quota.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>

#include "util.h"

/* quotactl_fd(2), Linux 5.14; the number is the same on every
 * architecture (the unified table from 424 on). glibc has no wrapper. */
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

/* How deep quota_label walks; a deeper tree is refused rather than
 * labelled in part. */
#define QUOTA_MAX_DEPTH 256U
/* How many sibling records quota_project_get reads. */
#define QUOTA_MAX_SIBLINGS 65536U

/* linux/quota.h's QCMD shifts an int: Q_SETQUOTA's high bit overflows. */
#define QUOTA_CMD(cmd, type) (((unsigned) (cmd) << SUBCMDSHIFT) | ((unsigned) (type) & SUBCMDMASK))

static int quotactl_fd(int fd, unsigned cmd, uint32_t id, void *addr)
{
        if (syscall(SYS_quotactl_fd, fd, cmd, id, addr) < 0)
                return -errno;
        return 0;
}

uint32_t quota_project_from_name(const char *name)
{
        uint32_t h = 2166136261U; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
                h = (h ^ *p) * 16777619U;
        return QUOTA_PROJECT_MIN + h % (QUOTA_PROJECT_MAX - QUOTA_PROJECT_MIN + 1);
}

static bool id_in(uint32_t id, const uint32_t *used, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (used[i] == id)
                        return true;
        return false;
}

uint32_t quota_project_pick(const char *name, const uint32_t *used, size_t n_used)
{
        uint32_t id = quota_project_from_name(name);
        /* n_used + 1 candidates hold at least one free id. */
        for (size_t i = 0; i <= n_used; i++) {
                if (!id_in(id, used, n_used))
                        return id;
                id = id == QUOTA_PROJECT_MAX ? QUOTA_PROJECT_MIN : id + 1;
        }
        return 0;
}

uint64_t quota_bytes_to_blocks(uint64_t bytes)
{
        return bytes / QIF_DQBLKSIZE + (bytes % QIF_DQBLKSIZE != 0);
}

int quota_project_parse(const char *text, uint32_t *ret)
{
        uint64_t v = 0;
        const char *p = text;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > QUOTA_PROJECT_MAX)
                        return -EINVAL;
        }
        if (*p == '\n')
                p++;
        if (*p != '\0' || v < QUOTA_PROJECT_MIN)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int quota_supported(int fd)
{
        struct fs_quota_statv st = { .qs_version = FS_QSTATV_VERSION1 };
        int r = quotactl_fd(fd, QUOTA_CMD(Q_XGETQSTATV, PRJQUOTA), 0, &st);
        /* ENOSYS: no quotactl_fd, or a file system without quota
         * operations; ESRCH/EINVAL/ENOTSUP: none for this type. */
        if (r == -ENOSYS || r == -ESRCH || r == -EINVAL || r == -EOPNOTSUPP || r == -ENOTTY)
                return 0;
        if (r < 0)
                return r;
        return (st.qs_flags & (FS_QUOTA_PDQ_ACCT | FS_QUOTA_PDQ_ENFD)) == (FS_QUOTA_PDQ_ACCT | FS_QUOTA_PDQ_ENFD);
}

/* 1 when the label changed, 0 when it was right already, -errno. */
static int set_project(int fd, uint32_t projid, bool dir)
{
        struct fsxattr fa;
        if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        uint32_t want = dir ? fa.fsx_xflags | FS_XFLAG_PROJINHERIT : fa.fsx_xflags;
        if (fa.fsx_projid == projid && fa.fsx_xflags == want)
                return 0;
        fa.fsx_projid = projid;
        fa.fsx_xflags = want;
        if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
                return -errno;
        return 1;
}

static bool is_labelled(int fd, uint32_t projid)
{
        struct fsxattr fa;
        return ioctl(fd, FS_IOC_FSGETXATTR, &fa) == 0 && fa.fsx_projid == projid &&
               (fa.fsx_xflags & FS_XFLAG_PROJINHERIT);
}

/* Children first, the directory itself last: a labelled directory means
 * its whole tree is, even after a walk that was cut short. Symlinks,
 * devices, sockets and fifos (and overlay's whiteouts) hold no blocks
 * and cannot be opened for the ioctl: they are left as they are. */
static int label_tree(int dfd, uint32_t projid, dev_t dev, unsigned depth)
{
        if (depth > QUOTA_MAX_DEPTH)
                return -ELOOP;
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
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
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = errno == ENOENT ? 0 : -errno;
                        continue;
                }
                if (st.st_dev != dev || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
                        continue;
                _cleanup_close_ int cfd =
                        openat(dirfd(d), de->d_name,
                               O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
                                       (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (cfd < 0) {
                        r = errno == ENOENT ? 0 : -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode))
                        r = label_tree(cfd, projid, dev, depth + 1);
                else
                        r = set_project(cfd, projid, false);
        }
        if (r >= 0 && errno != 0 && !de)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        return set_project(dfd, projid, true);
}

int quota_label(int dirfd, uint32_t projid)
{
        if (is_labelled(dirfd, projid))
                return 0;
        struct stat st;
        if (fstat(dirfd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        int r = label_tree(dirfd, projid, st.st_dev, 0);
        return r < 0 ? r : 0;
}

int quota_set_limit(int fd, uint32_t projid, uint64_t bytes)
{
        struct if_dqblk dq = {
                .dqb_bhardlimit = quota_bytes_to_blocks(bytes),
                .dqb_valid = QIF_BLIMITS,
        };
        return quotactl_fd(fd, QUOTA_CMD(Q_SETQUOTA, PRJQUOTA), projid, &dq);
}

int quota_usage(int fd, uint32_t projid, uint64_t *ret_bytes)
{
        struct if_dqblk dq = { 0 };
        int r = quotactl_fd(fd, QUOTA_CMD(Q_GETQUOTA, PRJQUOTA), projid, &dq);
        if (r < 0)
                return r;
        *ret_bytes = dq.dqb_curspace;
        return 0;
}

static int read_project(int dfd, const char *path, uint32_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, path, 32, &text, NULL);
        if (r < 0)
                return r;
        return quota_project_parse(text, ret);
}

int quota_project_get(int containers_dfd, const char *name, uint32_t *ret)
{
        _cleanup_close_ int cfd = openat(containers_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cfd < 0)
                return -errno;
        int r = read_project(cfd, QUOTA_PROJECT_FILE, ret);
        if (r != -ENOENT && r != -EINVAL)
                return r;

        /* New (or unreadable) record: take the name's hash unless a
         * sibling holds it, so two containers never share a limit. */
        int fd = fcntl(containers_dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        _cleanup_free_ uint32_t *used = NULL;
        size_t n_used = 0, cap = 0;
        struct dirent *de;
        r = 0;
        while ((de = readdir(d)) && n_used < QUOTA_MAX_SIBLINGS) {
                if (de->d_name[0] == '.' || streq(de->d_name, name) || !name_is_valid(de->d_name))
                        continue;
                _cleanup_close_ int sfd =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                uint32_t id;
                if (sfd < 0 || read_project(sfd, QUOTA_PROJECT_FILE, &id) < 0)
                        continue;
                if (n_used == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        uint32_t *nu = reallocarray(used, ncap, sizeof *used);
                        if (!nu) {
                                r = -ENOMEM;
                                break;
                        }
                        used = nu;
                        cap = ncap;
                }
                used[n_used++] = id;
        }
        closedir(d);
        if (r < 0)
                return r;
        uint32_t id = quota_project_pick(name, used, n_used);
        if (id == 0)
                return -ENOSPC;
        char text[16];
        int k = snprintf(text, sizeof text, "%" PRIu32 "\n", id);
        r = write_file_atomic(cfd, QUOTA_PROJECT_FILE, text, (size_t) k, 0600);
        if (r < 0)
                return r;
        *ret = id;
        return 0;
}

int quota_container_apply(int containers_dfd, const char *name, uint64_t bytes)
{
        if (bytes == 0)
                return quota_container_release(containers_dfd, name);
        int r = quota_supported(containers_dfd);
        if (r < 0)
                return r;
        if (r == 0)
                return -EOPNOTSUPP;
        uint32_t projid;
        r = quota_project_get(containers_dfd, name, &projid);
        if (r < 0)
                return r;
        _cleanup_close_ int cfd = openat(containers_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cfd < 0)
                return -errno;
        _cleanup_close_ int ufd = openat(cfd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int wfd = openat(cfd, "work", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd < 0 || wfd < 0)
                return -errno;
        if (!is_labelled(ufd, projid) || !is_labelled(wfd, projid)) {
                /* Moving existing files into the project counts their
                 * blocks against its limit: lift it while labelling. */
                if ((r = quota_set_limit(ufd, projid, 0)) < 0 || (r = quota_label(ufd, projid)) < 0 ||
                    (r = quota_label(wfd, projid)) < 0)
                        return r;
        }
        return quota_set_limit(ufd, projid, bytes);
}

int quota_container_release(int containers_dfd, const char *name)
{
        _cleanup_close_ int cfd = openat(containers_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cfd < 0)
                return errno == ENOENT ? 0 : -errno;
        uint32_t projid;
        int r = read_project(cfd, QUOTA_PROJECT_FILE, &projid);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return quota_set_limit(cfd, projid, 0);
}
