#include "mounts.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "settings.h"
#include "spec.h"
#include "util.h"

static int openat2_in_root(int rootfd, const char *path, int flags, uint64_t resolve)
{
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

int mounts_open_in_root(int rootfd, const char *path, int flags, bool create_dirs)
{
        while (*path == '/')
                path++;
        if (!*path)
                return openat2_in_root(rootfd, ".", flags, 0);
        if (create_dirs) {
                /* mkdir -p, one component at a time, each resolved in the root. */
                char buf[4096];
                size_t n = strlen(path);
                if (n >= sizeof buf)
                        return -ENAMETOOLONG;
                memcpy(buf, path, n + 1);
                for (char *p = buf;; p++) {
                        if (*p != '/' && *p != 0)
                                continue;
                        char saved = *p;
                        *p = 0;
                        char *slash = strrchr(buf, '/');
                        int dfd = slash ? ({
                                *slash = 0;
                                int f = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY, 0);
                                *slash = '/';
                                f;
                        })
                                        : openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0);
                        if (dfd < 0)
                                return dfd;
                        int r = mkdirat(dfd, slash ? slash + 1 : buf, 0755);
                        int e = errno;
                        close(dfd);
                        if (r < 0 && e != EEXIST)
                                return -e;
                        *p = saved;
                        if (!saved)
                                break;
                }
        }
        return openat2_in_root(rootfd, path, flags, 0);
}

int mounts_ensure_file_in_root(int rootfd, const char *path)
{
        int fd = mounts_open_in_root(rootfd, path, O_PATH, false);
        if (fd >= 0 || fd != -ENOENT)
                return fd;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        int dfd = mounts_open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY, true);
        if (dfd < 0)
                return dfd;
        int f = openat(dfd, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        int e = errno;
        close(dfd);
        if (f < 0 && e != EEXIST)
                return -e;
        if (f >= 0)
                close(f);
        return mounts_open_in_root(rootfd, path, O_PATH, false);
}

static int move_onto(int mfd, int target)
{
        if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* A fresh file system instance (proc, sysfs, tmpfs, ...) mounted on target. */
static int mount_fs(const char *fstype, const char *const *opts, unsigned attrs, int target)
{
        _cleanup_close_ int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        for (size_t i = 0; opts && opts[i]; i += 2)
                if (fsconfig(fs, opts[i + 1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opts[i], opts[i + 1], 0) < 0)
                        return -errno;
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        _cleanup_close_ int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (m < 0)
                return -errno;
        return move_onto(m, target);
}

/* A bind mount of source (an fd or a path) onto target, optionally read-only. */
static int bind_onto(int src_dfd, const char *src, int target, bool recursive, unsigned attrs)
{
        _cleanup_close_ int t = open_tree(src_dfd, src,
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                                                  (*src ? 0 : AT_EMPTY_PATH));
        if (t < 0)
                return -errno;
        if (attrs) {
                struct mount_attr a = { .attr_set = attrs };
                if (mount_setattr(t, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                        return -errno;
        }
        return move_onto(t, target);
}

/* The root's /proc, /sys and /dev must be real directories: a symlink
 * there would redirect our mounts (CVE-2019-16884 and friends). */
static int check_dir(int rootfd, const char *name, struct error *e)
{
        struct stat st;
        if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return error_set(e, -errno, "rootfs: cannot inspect /%s", name);
                if (mkdirat(rootfd, name, 0755) < 0)
                        return error_set(e, -errno, "rootfs: cannot create /%s", name);
                return 0;
        }
        if (S_ISLNK(st.st_mode))
                return error_set(e, -ELOOP, "rootfs: /%s is a symlink, refusing to mount over it", name);
        if (!S_ISDIR(st.st_mode))
                return error_set(e, -ENOTDIR, "rootfs: /%s is not a directory", name);
        return 0;
}

static int setup_dev(int rootfd, const struct mounts_plan *p, struct error *e)
{
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        _cleanup_close_ int dev = openat2_in_root(rootfd, "dev", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
        if (dev < 0)
                return error_set(e, dev, "rootfs: cannot open /dev");
        const char *tmpfs_opts[] = { "mode", "0755", "size", "4m", NULL };
        /* nodev: the nodes below are bind mounts of the host's, each with its
         * own flags; a node the container makes here itself opens nothing. */
        int r = mount_fs("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV, dev);
        if (r < 0)
                return error_set(e, r, "cannot mount tmpfs on /dev");
        _cleanup_close_ int d = openat2_in_root(rootfd, "dev", O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
        if (d < 0)
                return error_set(e, d, "cannot open the new /dev");
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                int f = openat(d, nodes[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
                if (f < 0)
                        return error_set(e, -errno, "cannot create /dev/%s", nodes[i]);
                close(f);
                _cleanup_close_ int t = openat(d, nodes[i], O_PATH | O_CLOEXEC | O_NOFOLLOW);
                char src[32];
                snprintf(src, sizeof src, "/dev/%s", nodes[i]);
                r = t < 0 ? -errno : bind_onto(AT_FDCWD, src, t, false, 0);
                if (r < 0)
                        return error_set(e, r, "cannot bind %s", src);
        }
        static const char *const links[][2] = {
                { "fd", "/proc/self/fd" },         { "stdin", "/proc/self/fd/0" },
                { "stdout", "/proc/self/fd/1" },   { "stderr", "/proc/self/fd/2" },
                { "ptmx", "pts/ptmx" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], d, links[i][0]) < 0)
                        return error_set(e, -errno, "cannot create /dev/%s", links[i][0]);
        const char *dirs[] = { "pts", "shm", "mqueue" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdirat(d, dirs[i], 0755) < 0)
                        return error_set(e, -errno, "cannot create /dev/%s", dirs[i]);

        _cleanup_close_ int pts = openat(d, "pts", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        const char *pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666", "mode", "0620",
                                   p->userns ? NULL : "gid", "5", NULL };
        r = pts < 0 ? -errno : mount_fs("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, pts);
        if (r < 0)
                return error_set(e, r, "cannot mount devpts on /dev/pts");
        _cleanup_close_ int shm = openat(d, "shm", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        const char *shm_opts[] = { "mode", "1777", "size", "64m", NULL };
        r = shm < 0 ? -errno
                    : mount_fs("tmpfs", shm_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, shm);
        if (r < 0)
                return error_set(e, r, "cannot mount tmpfs on /dev/shm");
        _cleanup_close_ int mq = openat(d, "mqueue", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        r = mq < 0 ? -errno : mount_fs("mqueue", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, mq);
        if (r < 0)
                return error_set(e, r, "cannot mount mqueue on /dev/mqueue");
        for (size_t i = 0; i < p->n_nodes; i++) {
                /* A bind of the host's node, like the ones above: the
                 * device cgroup decides what opening it may do. */
                const struct mounts_node *nd = &p->nodes[i];
                _cleanup_close_ int t = mounts_ensure_file_in_root(rootfd, nd->path);
                r = t < 0 ? t : bind_onto(AT_FDCWD, nd->host, t, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
                if (r < 0)
                        return error_set(e, r, "device '%s' on '%s'", nd->host, nd->path);
        }
        if (p->init_file) {
                /* berthd's read-only copy of berth-init; the fd taken here,
                 * before any declared mount could cover /dev, is what the
                 * init is executed from. berthd made its superblock
                 * read-only (runtime_init_share): no bind of it writes,
                 * not even one remounted read-write. */
                const char *name = p->init_target + strlen("/dev/");
                int f = openat(d, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0500);
                if (f < 0)
                        return error_set(e, -errno, "cannot create %s", p->init_target);
                close(f);
                _cleanup_close_ int t = openat(d, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                r = t < 0 ? -errno
                          : bind_onto(AT_FDCWD, p->init_file, t, false,
                                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
                if (r < 0)
                        return error_set(e, r, "cannot bind %s on %s", p->init_file, p->init_target);
                int x = openat(d, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                struct statfs sfs;
                struct stat xst;
                if (x < 0 || fstatfs(x, &sfs) < 0 || fstat(x, &xst) < 0) {
                        r = -errno;
                        if (x >= 0)
                                close(x);
                        return error_set(e, r, "cannot open %s", p->init_target);
                }
                if (!(sfs.f_flags & ST_RDONLY) || sfs.f_type != TMPFS_MAGIC || !S_ISREG(xst.st_mode) ||
                    xst.st_uid != 0) {
                        close(x);
                        return error_set(e, -EROFS, "%s is not a root-owned file on a read-only tmpfs",
                                         p->init_file);
                }
                *p->init_fd = x;
        }
        if (p->console_fd >= 0) {
                int f = openat(d, "console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
                if (f < 0)
                        return error_set(e, -errno, "cannot create /dev/console");
                close(f);
                _cleanup_close_ int t = openat(d, "console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
                r = t < 0 ? -errno : bind_onto(p->console_fd, "", t, false, 0);
                if (r < 0)
                        return error_set(e, r, "cannot bind the console");
        }
        return 0;
}

static int setup_declared(int rootfd, const struct mounts_plan *p, struct error *e)
{
        size_t handed = 0;
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct spec_mount *m = &p->mounts[i];
                unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->read_only ? MOUNT_ATTR_RDONLY : 0);
                int t, r;
                if (m->type == MOUNT_TMPFS) {
                        t = mounts_open_in_root(rootfd, m->target, O_PATH | O_DIRECTORY, true);
                        if (t < 0)
                                return error_set(e, t, "mount '%s': target '%s'", m->name, m->target);
                        char size[32];
                        snprintf(size, sizeof size, "%llu", (unsigned long long) (m->size ? m->size : 64ULL << 20));
                        const char *o[] = { "mode", "1777", "size", size, NULL };
                        r = mount_fs("tmpfs", o, attrs, t);
                } else if (p->from_parent) {
                        /* Made by the parent: we may not even reach the source. */
                        struct stat st;
                        int fd = handed < p->n_bind_fds ? p->bind_fds[handed++] : -1;
                        if (fd < 0 || fstat(fd, &st) < 0)
                                return error_set(e, fd < 0 ? -EBADF : -errno, "mount '%s': source '%s'", m->name,
                                                 m->source);
                        t = S_ISDIR(st.st_mode) ? mounts_open_in_root(rootfd, m->target, O_PATH | O_DIRECTORY, true)
                                                : mounts_ensure_file_in_root(rootfd, m->target);
                        if (t < 0)
                                return error_set(e, t, "mount '%s': target '%s'", m->name, m->target);
                        r = move_onto(fd, t);
                } else {
                        struct stat st;
                        if (stat(m->source, &st) < 0)
                                return error_set(e, -errno, "mount '%s': source '%s'", m->name, m->source);
                        t = S_ISDIR(st.st_mode) ? mounts_open_in_root(rootfd, m->target, O_PATH | O_DIRECTORY, true)
                                                : mounts_ensure_file_in_root(rootfd, m->target);
                        if (t < 0)
                                return error_set(e, t, "mount '%s': target '%s'", m->name, m->target);
                        r = bind_onto(AT_FDCWD, m->source, t, true, attrs);
                }
                close(t);
                if (r < 0)
                        return error_set(e, r, "mount '%s' on '%s'", m->name, m->target);
        }
        return 0;
}

const char *const mounts_etc_files[MOUNTS_ETC_FILES] = { "hosts", "resolv.conf", "hostname" };
/* read-only-root: a private tmpfs on /tmp and /run, unless a declared
 * mount is there, before the declared mounts (which may go below them). */
static int setup_writable_dirs(int rootfd, const struct mounts_plan *p, struct error *e)
{
        static const char *const dirs[] = { "/tmp", "/run" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                bool declared = false;
                for (size_t k = 0; k < p->n_mounts; k++)
                        declared |= streq(p->mounts[k].target, dirs[i]);
                if (declared)
                        continue;
                int t = mounts_open_in_root(rootfd, dirs[i], O_PATH | O_DIRECTORY, true);
                if (t < 0)
                        return error_set(e, t, "read-only-root: cannot prepare %s", dirs[i]);
                const char *o[] = { "mode", i == 0 ? "1777" : "0755", "size", "67108864", NULL };
                int r = mount_fs("tmpfs", o, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, t);
                close(t);
                if (r < 0)
                        return error_set(e, r, "read-only-root: cannot mount a tmpfs on %s", dirs[i]);
        }
        return 0;
}

static int setup_etc(int rootfd, const struct mounts_plan *p, struct error *e)
{
        const char *const *files = mounts_etc_files;
        struct stat st;
        if (!p->etc_dir || fstatat(rootfd, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0; /* a root without /etc gets none */
        for (size_t i = 0; i < MOUNTS_ETC_FILES; i++) {
                char src[4096], dst[64];
                snprintf(src, sizeof src, "%s/%s", p->etc_dir, files[i]);
                snprintf(dst, sizeof dst, "/etc/%s", files[i]);
                if (p->from_parent) {
                        /* Made by the parent, with its flags (and id mapping). */
                        if (p->etc_fds[i] < 0)
                                continue;
                        int t = mounts_ensure_file_in_root(rootfd, dst);
                        int r = t < 0 ? t : move_onto(p->etc_fds[i], t);
                        if (t >= 0)
                                close(t);
                        if (r < 0)
                                return error_set(e, r, "cannot bind %s", dst);
                        continue;
                }
                struct stat sst;
                if (stat(src, &sst) < 0)
                        continue;
                int t = mounts_ensure_file_in_root(rootfd, dst);
                if (t < 0)
                        return error_set(e, t, "cannot prepare %s", dst);
                /* A file with other links is shared (the hosts file of a
                 * network, hostsfile.h): no container may write it for the others. */
                unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                 (sst.st_nlink > 1 ? MOUNT_ATTR_RDONLY : 0);
                int r = bind_onto(AT_FDCWD, src, t, false, attrs);
                close(t);
                if (r < 0)
                        return error_set(e, r, "cannot bind %s", dst);
        }
        return 0;
}

/* After pivot_root: the masks, and read-only re-binds of /proc's writable
 * corners. A masked directory gets a fresh, empty, read-only tmpfs of its
 * own; a masked file a read-only, nodev bind of the container's /dev/null
 * (the host's node, bound by setup_dev: never the image's own), so that
 * opening it fails and writing to it too. Every mask's source is thus a
 * mount in the container's own tree, which CRIU can dump and restore
 * (a bind from a detached file system cannot be). Targets are opened
 * relative to a procfs fd we checked. */
static int mask_dir(int target)
{
        const char *o[] = { "size", "4k", "mode", "0555", "nr_inodes", "8", NULL };
        return mount_fs("tmpfs", o, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                        target);
}

static int setup_masks(struct error *e)
{
        static const char *const proc_masked[] = { "acpi", "asound", "kcore", "keys", "latency_stats",
                                                   "timer_list", "timer_stats", "sched_debug", "scsi" };
        static const char *const proc_ro[] = { "bus", "fs", "irq", "sys", "sysrq-trigger" };
        _cleanup_close_ int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct statfs sfs;
        if (proc < 0 || fstatfs(proc, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return error_set(e, -EINVAL, "the container's /proc is not procfs");
        /* The null device we bound there, nothing a declared mount put over it. */
        _cleanup_close_ int null = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct stat nst;
        if (null < 0 || fstat(null, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3))
                return error_set(e, -EINVAL, "the container's /dev/null is not the null device");

        for (size_t i = 0; i < ELEMENTSOF(proc_masked); i++) {
                _cleanup_close_ int t = openat(proc, proc_masked[i], O_PATH | O_CLOEXEC | O_NOFOLLOW);
                if (t < 0)
                        continue; /* not in this kernel */
                struct stat st;
                if (fstat(t, &st) < 0)
                        return error_set(e, -errno, "cannot inspect /proc/%s", proc_masked[i]);
                int r = S_ISDIR(st.st_mode) ? mask_dir(t)
                                            : bind_onto(null, "", t, false,
                                                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                                MOUNT_ATTR_NOEXEC);
                if (r < 0)
                        return error_set(e, r, "cannot mask /proc/%s", proc_masked[i]);
        }
        _cleanup_close_ int fw = open("/sys/firmware", O_PATH | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY);
        if (fw >= 0) {
                int r = mask_dir(fw);
                if (r < 0)
                        return error_set(e, r, "cannot mask /sys/firmware");
        }
        for (size_t i = 0; i < ELEMENTSOF(proc_ro); i++) {
                _cleanup_close_ int t = openat(proc, proc_ro[i], O_PATH | O_CLOEXEC | O_NOFOLLOW);
                if (t < 0)
                        continue;
                int r = bind_onto(t, "", t, true,
                                  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
                if (r < 0)
                        return error_set(e, r, "cannot make /proc/%s read-only", proc_ro[i]);
        }
        return 0;
}

int mounts_setup(const struct mounts_plan *p, struct error *e)
{
        int r;
        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return error_set(e, -errno, "cannot make the mount namespace private");
        _cleanup_close_ int rootfd = -1;
        if (p->from_parent) {
                /* Over "/" of our own mount namespace, the one place we can
                 * reach (the container's directory is root-only on the
                 * host): absolute paths still resolve in the old root until
                 * the pivot below. */
                if (p->root_fd < 0 || move_mount(p->root_fd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return error_set(e, p->root_fd < 0 ? -EBADF : -errno, "cannot attach the root");
                rootfd = openat(p->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else if (p->overlay_opts) {
                if (mount("overlay", p->merged, "overlay", MS_NODEV, p->overlay_opts) < 0)
                        return error_set(e, -errno, "cannot mount the overlay root");
        } else {
                if (mount(p->rootfs_dir, p->merged, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return error_set(e, -errno, "cannot bind rootfs '%s'", p->rootfs_dir);
                /* What was bound, not what the name meant at the last check. */
                if (path_is_host_root(p->merged))
                        return error_set(e, -EPERM, "rootfs '%s' is the host's root directory", p->rootfs_dir);
                /* nodev like the overlay root: device nodes in the directory open nothing. */
                struct mount_attr nodev = { .attr_set = MOUNT_ATTR_NODEV };
                if (mount_setattr(AT_FDCWD, p->merged, AT_RECURSIVE, &nodev, sizeof nodev) < 0)
                        return error_set(e, -errno, "cannot make rootfs '%s' nodev", p->rootfs_dir);
        }
        if (!p->from_parent)
                rootfd = open(p->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(e, -errno, "cannot open the root");
        if ((r = check_dir(rootfd, "proc", e)) < 0 || (r = check_dir(rootfd, "sys", e)) < 0 ||
            (r = check_dir(rootfd, "dev", e)) < 0)
                return r;

        _cleanup_close_ int proc = openat2_in_root(rootfd, "proc", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
        r = proc < 0 ? proc : mount_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, proc);
        if (r < 0)
                return error_set(e, r, "cannot mount /proc");
        if (p->sysctl) {
                /* Before the masks make /proc/sys read-only; the container's
                 * network and IPC namespaces are ours already. */
                /* proc is the directory under the mount: open the mount. */
                _cleanup_close_ int pfd = openat2_in_root(rootfd, "proc", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
                struct statfs pfs;
                if (pfd < 0 || fstatfs(pfd, &pfs) < 0 || pfs.f_type != PROC_SUPER_MAGIC)
                        return error_set(e, -errno, "cannot open /proc");
                if ((r = settings_apply_sysctl(pfd, p->sysctl, e)) < 0)
                        return r;
        }
        _cleanup_close_ int sys = openat2_in_root(rootfd, "sys", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
        r = sys < 0 ? sys
                    : mount_fs("sysfs", NULL,
                               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, sys);
        /* A user namespace may mount sysfs only with a network namespace
         * of its own: with the host's network, a read-only copy of /sys. */
        if (r == -EPERM && p->userns)
                r = bind_onto(AT_FDCWD, "/sys", sys, true,
                              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (r < 0)
                return error_set(e, r, "cannot mount /sys");
        if ((r = setup_dev(rootfd, p, e)) < 0)
                return r;
        if ((r = setup_etc(rootfd, p, e)) < 0)
                return r;
        if (p->read_only_root && (r = setup_writable_dirs(rootfd, p, e)) < 0)
                return r;
        if ((r = setup_declared(rootfd, p, e)) < 0)
                return r;
        if (p->read_only_root) {
                /* The root's own mount only: what is mounted on it keeps its flags. */
                struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                        return error_set(e, -errno, "read-only-root: cannot make the root read-only");
        }

        if (fchdir(rootfd) < 0)
                return error_set(e, -errno, "cannot enter the root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return error_set(e, -errno, "pivot_root failed");
        if (umount2(".", MNT_DETACH) < 0)
                return error_set(e, -errno, "cannot detach the old root");
        if (chdir("/") < 0)
                return error_set(e, -errno, "cannot chdir to /");
        return setup_masks(e);
}
