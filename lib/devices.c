#include "devices.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

unsigned devices_access_bits(const char *access)
{
        unsigned bits = 0;
        for (const char *p = access ? access : "rwm"; *p; p++)
                bits |= *p == 'r' ? CGROUP_DEV_READ : *p == 'w' ? CGROUP_DEV_WRITE : *p == 'm' ? CGROUP_DEV_MKNOD : 0;
        return bits;
}

/* DEVNAME= of /sys/dev/{char,block}/MAJ:MIN/uevent, as "/dev/NAME". */
static int node_of_number(char type, uint32_t major, uint32_t minor, char *host, size_t size)
{
        char p[96];
        snprintf(p, sizeof p, "/sys/dev/%s/%u:%u/uevent", type == 'b' ? "block" : "char", major, minor);
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, p, 8192, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (strncmp(line, "DEVNAME=", 8) == 0 && line[8] && !strstr(line, "..")) {
                        snprintf(host, size, "/dev/%s", line + 8);
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENODEV;
}

int devices_resolve(const struct spec_device *d, char *host, size_t size, char *ret_type, uint32_t *ret_major,
                    uint32_t *ret_minor, struct error *e)
{
        struct stat st;
        if (d->host)
                snprintf(host, size, "%s", d->host);
        else {
                int r = node_of_number(d->type, d->major, d->minor, host, size);
                if (r < 0)
                        return error_set_msg(e, r, "the host has no node for %c %u:%u", d->type, d->major, d->minor);
        }
        if (stat(host, &st) < 0)
                return error_set(e, -errno, "host node '%s'", host);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_set(e, -ENODEV, "'%s' is not a device node", host);
        char type = S_ISBLK(st.st_mode) ? 'b' : 'c';
        uint32_t major = major(st.st_rdev), minor = minor(st.st_rdev);
        if (!d->host && (type != d->type || major != d->major || minor != d->minor))
                return error_set(e, -ENODEV, "'%s' is %c %u:%u, not %s", host, type, major, minor, d->name);
        *ret_type = type;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* The /sys/devices directory of block device major:minor, canonical. */
static int block_sysdir(uint32_t major, uint32_t minor, char buf[PATH_MAX])
{
        char p[64];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u", major, minor);
        return realpath(p, buf) ? 0 : -errno;
}

/* The whole disk of a block device's sysfs directory: its parent when it
 * is a partition. */
static void whole_disk(char dir[PATH_MAX])
{
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/partition", dir);
        if (access(p, F_OK) == 0) {
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir)
                        *slash = 0;
        }
}

/* The block device / is mounted from: st_dev, or for file systems with an
 * anonymous st_dev (btrfs, overlay) the source mountinfo names. */
static int root_block_device(uint32_t *major, uint32_t *minor)
{
        struct stat st;
        if (stat("/", &st) < 0)
                return -errno;
        if (major(st.st_dev) != 0) {
                *major = major(st.st_dev);
                *minor = minor(st.st_dev);
                return 0;
        }
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char mnt[PATH_MAX], src[PATH_MAX];
                const char *sep = strstr(line, " - ");
                if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && streq(mnt, "/") &&
                    sscanf(sep + 3, "%*s %4095s", src) == 1 && src[0] == '/' && stat(src, &st) == 0 &&
                    S_ISBLK(st.st_mode)) {
                        *major = major(st.st_rdev);
                        *minor = minor(st.st_rdev);
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENODEV;
}

/* Whether disk (a whole disk's sysfs directory) is dir's disk, or a disk
 * below dir through slaves/ (device mapper, md), depth-bounded. */
static bool disk_under(const char *dir, const char *disk, int depth)
{
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%s", dir);
        whole_disk(d);
        if (streq(d, disk))
                return true;
        if (depth <= 0)
                return false;
        char slaves[PATH_MAX + 16];
        snprintf(slaves, sizeof slaves, "%s/slaves", d);
        _cleanup_close_ int fd = open(slaves, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *dp = dup >= 0 ? fdopendir(dup) : NULL;
        if (!dp) {
                if (dup >= 0)
                        close(dup);
                return false;
        }
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(dp))) {
                if (de->d_name[0] == '.')
                        continue;
                char p[PATH_MAX * 2], real[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", slaves, de->d_name);
                if (realpath(p, real))
                        found = disk_under(real, disk, depth - 1);
        }
        closedir(dp);
        return found;
}

int devices_is_host_disk(uint32_t major, uint32_t minor)
{
        uint32_t rmaj = 0, rmin = 0;
        char root[PATH_MAX], dev[PATH_MAX];
        int r = root_block_device(&rmaj, &rmin);
        if (r < 0)
                return r == -ENODEV ? 0 : r; /* / on no block device (tmpfs, NFS): no disk to guard */
        r = block_sysdir(rmaj, rmin, root);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (block_sysdir(major, minor, dev) < 0)
                return 0; /* no such block device: the node check reports it */
        whole_disk(dev);
        return disk_under(root, dev, 4);
}

int devices_prepare(const struct spec_container *c, struct devices_prepared *ret, struct error *e)
{
        ret->n = 0;
        for (size_t i = 0; i < c->n_devices && i < SPEC_DEVICES_MAX; i++) {
                const struct spec_device *d = &c->devices[i];
                struct mounts_node *nd = &ret->nodes[ret->n];
                struct cgroup_device_rule *rule = &ret->rules[ret->n];
                int r = devices_resolve(d, nd->host, sizeof nd->host, &rule->type, &rule->major, &rule->minor, e);
                if (r >= 0 && rule->type == 'b' && !c->allow_host_disks && devices_is_host_disk(rule->major, rule->minor) != 0)
                        r = error_set(e, -EPERM,
                                      "'%s' is (on) the disk holding the host's root file system "
                                      "(allow-host-disks = true allows it)",
                                      nd->host);
                if (r < 0)
                        return error_wrap(e, "device '%s'", d->name);
                snprintf(nd->path, sizeof nd->path, "%s", d->path);
                rule->access = devices_access_bits(d->access);
                ret->n++;
        }
        return 0;
}

void devices_preflight(const struct spec_container *c, struct diag *d)
{
        for (size_t i = 0; i < c->n_devices; i++) {
                const struct spec_device *dv = &c->devices[i];
                char host[128], type;
                uint32_t major, minor;
                struct error e = { 0 };
                if (!dv->path || !dv->access)
                        continue; /* reported by the reader */
                int r = devices_resolve(dv, host, sizeof host, &type, &major, &minor, &e);
                if (r < 0) {
                        diag_add(d, c->file, dv->line, "device '%s': %s", dv->name, error_message(&e));
                        continue;
                }
                if (type == 'b' && !c->allow_host_disks && devices_is_host_disk(major, minor) != 0)
                        diag_add(d, c->file, dv->line,
                                 "device '%s': '%s' (b %u:%u) is (on) the disk holding the host's root file system; "
                                 "allow-host-disks = true allows it",
                                 dv->name, host, major, minor);
        }
}
