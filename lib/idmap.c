#include "idmap.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mounts.h"
#include "spawn.h"
#include "spec.h"
#include "state.h"
#include "util.h"

#define IDMAP_DIR STATE_IDMAP
#define RANGES_FILE "ranges"
#define COPIES_DIR "copies"

int idmap_pool_parse(const char *text, struct idmap_pool *p)
{
        char *end = NULL;
        if (!text || !*text || *text == '-')
                return -EINVAL;
        errno = 0;
        unsigned long long s = strtoull(text, &end, 10);
        if (errno || end == text || *end != ':' || end[1] == '-')
                return -EINVAL;
        const char *c = end + 1;
        unsigned long long n = strtoull(c, &end, 10);
        if (errno || end == c || *end)
                return -EINVAL;
        if (s < 1 || n < IDMAP_AUTO_COUNT || s + n > 4294967295ULL)
                return -EINVAL;
        p->start = (uint32_t) s;
        p->count = (uint32_t) n;
        return 0;
}

/* /etc/subuid: "name:start:count" lines. 1 found, 0 none, -EINVAL unreadable line for berth. */
static int pool_from_subuid(struct idmap_pool *p)
{
        _cleanup_free_ char *text = NULL;
        const char *path = getenv("BERTH_SUBUID");
        if (!path || !*path)
                path = "/etc/subuid";
        if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
                return 0;
        size_t ul = strlen(IDMAP_SUBUID_USER);
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncmp(line, IDMAP_SUBUID_USER, ul) == 0 && line[ul] == ':')
                        return idmap_pool_parse(line + ul + 1, p) < 0 ? -EINVAL : 1;
                line = next;
        }
        return 0;
}

int idmap_pool_get(struct idmap_pool *p, const char **ret_source)
{
        const char *env = getenv("BERTH_IDMAP_POOL");
        if (env && *env) {
                *ret_source = "--idmap-pool";
                return idmap_pool_parse(env, p);
        }
        *ret_source = "/etc/subuid (user " IDMAP_SUBUID_USER ")";
        int r = pool_from_subuid(p);
        if (r != 0)
                return r < 0 ? r : 0;
        *ret_source = "the default pool";
        p->start = IDMAP_POOL_DEFAULT_START;
        p->count = IDMAP_POOL_DEFAULT_COUNT;
        return 0;
}

/* STATE/idmap, made root-only; an fd to it, locked when lock. */
static int open_idmap_dir(const char *state_dir, bool create, int *ret)
{
        _cleanup_free_ char *dir = state_idmap_dir(state_dir);
        if (!dir)
                return -ENOMEM;
        if (create) {
                int r = mkdir_p(dir, 0700);
                if (r < 0)
                        return r;
        }
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

struct range_entry {
        char name[256];
        uint32_t start;
};

/* "NAME START" lines; a line that does not parse is dropped (and with it
 * nothing but the block it held). */
static int ranges_read(int dfd, struct range_entry **ret, size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, RANGES_FILE, IDMAP_RANGES_MAX, &text, NULL);
        *ret = NULL;
        *ret_n = 0;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        size_t n = 0, cap = 0;
        struct range_entry *v = NULL;
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char name[256];
                unsigned long s;
                if (sscanf(line, "%255s %lu", name, &s) == 2 && name_is_valid(name) && s > 0 && s < UINT32_MAX) {
                        if (n == cap) {
                                cap = cap ? cap * 2 : 16;
                                struct range_entry *nv = realloc(v, cap * sizeof *v);
                                if (!nv) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                        }
                        snprintf(v[n].name, sizeof v[n].name, "%s", name);
                        v[n].start = (uint32_t) s;
                        n++;
                }
                line = next;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The start of name's block among v: 0, or -ENOENT. */
static int ranges_find(const struct range_entry *v, size_t n, const char *name, uint32_t *ret_start)
{
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, name)) {
                        *ret_start = v[i].start;
                        return 0;
                }
        return -ENOENT;
}

static int ranges_write(int dfd, const struct range_entry *v, size_t n)
{
        struct strbuf b = { 0 };
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&b, "%s %u\n", v[i].name, v[i].start);
        if (b.error) {
                free(b.p);
                return b.error < 0 ? b.error : -ENOMEM;
        }
        int r = write_file_atomic(dfd, RANGES_FILE, b.p ? b.p : "", b.len, 0600);
        free(b.p);
        return r;
}

static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
        return a < b + bn && b < a + an;
}

int idmap_range_assign(const char *state_dir, const char *name, const struct idmap_pool *pool,
                       const uint32_t (*reserved)[2], size_t n_reserved, uint32_t *ret_start)
{
        _cleanup_close_ int dfd = -1;
        int r = open_idmap_dir(state_dir, true, &dfd);
        if (r < 0)
                return r;
        _cleanup_free_ struct range_entry *v = NULL;
        size_t n = 0;
        r = ranges_read(dfd, &v, &n);
        if (r < 0)
                return r;
        if (ranges_find(v, n, name, ret_start) == 0)
                return 0;
        /* Lowest free block: a candidate that overlaps something moves past it. */
        uint64_t end = (uint64_t) pool->start + pool->count;
        uint64_t cand = pool->start;
        for (bool moved = true; moved && cand + IDMAP_AUTO_COUNT <= end;) {
                moved = false;
                for (size_t i = 0; i < n && !moved; i++)
                        if (overlaps(cand, IDMAP_AUTO_COUNT, v[i].start, IDMAP_AUTO_COUNT)) {
                                cand = (uint64_t) v[i].start + IDMAP_AUTO_COUNT;
                                moved = true;
                        }
                for (size_t i = 0; i < n_reserved && !moved; i++)
                        if (overlaps(cand, IDMAP_AUTO_COUNT, reserved[i][0], reserved[i][1])) {
                                cand = (uint64_t) reserved[i][0] + reserved[i][1];
                                moved = true;
                        }
        }
        if (cand + IDMAP_AUTO_COUNT > end)
                return -ENOSPC;
        struct range_entry *nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv)
                return -ENOMEM;
        v = nv;
        snprintf(v[n].name, sizeof v[n].name, "%s", name);
        v[n].start = (uint32_t) cand;
        r = ranges_write(dfd, v, n + 1);
        if (r < 0)
                return r;
        *ret_start = (uint32_t) cand;
        return 0;
}

int idmap_range_release(const char *state_dir, const char *name)
{
        _cleanup_close_ int dfd = -1;
        int r = open_idmap_dir(state_dir, false, &dfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        _cleanup_free_ struct range_entry *v = NULL;
        size_t n = 0, k = 0;
        r = ranges_read(dfd, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!streq(v[i].name, name))
                        v[k++] = v[i];
        return k == n ? 0 : ranges_write(dfd, v, k);
}

int idmap_range_lookup(const char *state_dir, const char *name, uint32_t *ret_start)
{
        _cleanup_close_ int dfd = -1;
        int r = open_idmap_dir(state_dir, false, &dfd);
        if (r < 0)
                return r;
        _cleanup_free_ struct range_entry *v = NULL;
        size_t n = 0;
        r = ranges_read(dfd, &v, &n);
        if (r < 0)
                return r;
        return ranges_find(v, n, name, ret_start);
}

const char *idmap_method_to_string(enum idmap_method m)
{
        return m == IDMAP_METHOD_SHIFTED_COPY ? "shifted-copy" : "idmapped-mount";
}

int idmap_record_write(const char *dir, uint32_t start, uint32_t count, enum idmap_method m)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        char buf[128];
        int l = snprintf(buf, sizeof buf, "range=%u:%u\nmethod=%s\n", start, count, idmap_method_to_string(m));
        return write_file_replace(dfd, "idmap", buf, (size_t) l, 0600);
}

int idmap_record_read(const char *dir, uint32_t *start, uint32_t *count, char *method, size_t method_size)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, "idmap", 4096, &text, NULL);
        if (r < 0)
                return r;
        unsigned s, c;
        char m[32];
        if (sscanf(text, "range=%u:%u\nmethod=%31s", &s, &c, m) != 3)
                return -EBADMSG;
        *start = s;
        *count = c;
        snprintf(method, method_size, "%s", m);
        return 0;
}

bool idmap_force_copy(void)
{
        const char *m = getenv("BERTH_IDMAP_METHOD");
        return m && streq(m, "shifted-copy");
}

int idmap_mount_tree(int dfd, const char *path, int userns_fd, bool recursive, unsigned attrs, int *ret)
{
        _cleanup_close_ int t = open_tree(dfd, path,
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                                                  (*path ? 0 : AT_EMPTY_PATH));
        if (t < 0)
                return -errno;
        struct mount_attr a = { .attr_set = (userns_fd >= 0 ? MOUNT_ATTR_IDMAP : 0) | attrs,
                                .userns_fd = userns_fd >= 0 ? (uint64_t) userns_fd : 0 };
        if (mount_setattr(t, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                return -errno;
        *ret = TAKE_FD(t);
        return 0;
}

int idmap_file_mount(int dfd, const char *name, int userns_fd, bool idmapped, uint32_t root_id, int *ret)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         (st.st_nlink > 1 ? MOUNT_ATTR_RDONLY : 0);
        if (idmapped && idmap_mount_tree(dfd, name, userns_fd, false, attrs, ret) >= 0)
                return 0;
        if (st.st_nlink == 1 && fchownat(dfd, name, root_id, root_id, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        _cleanup_close_ int t = open_tree(dfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        struct mount_attr a = { .attr_set = attrs };
        if (t < 0 || mount_setattr(t, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
                return -errno;
        *ret = TAKE_FD(t);
        return 0;
}

/* The overlay, made and mounted here (detached), never inside the user
 * namespace. lower_fd >= 0: the layer as a detached mount ("lowerdir+",
 * Linux 6.13; -EINVAL before), else lower_path. */
static int overlay_mount(int lower_fd, const char *lower_path, const struct idmap_root *r, int *ret)
{
        _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        int k = lower_fd >= 0 ? fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lower_fd)
                              : fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower_path, 0);
        if (k < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", r->upper, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "workdir", r->work, 0) < 0)
                return -errno;
        if (r->volatile_upper && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (m < 0)
                return -errno;
        *ret = m;
        return 0;
}

/* Overlay over the idmapped template: the layer passed as a detached
 * mount, or (kernels 5.19 to 6.12) attached for a moment on scratch. */
static int root_idmapped(const struct idmap_root *r, int userns_fd, int *ret)
{
        _cleanup_close_ int lower = -1;
        int k = idmap_mount_tree(AT_FDCWD, r->lower, userns_fd, false, 0, &lower);
        if (k < 0)
                return k;
        k = overlay_mount(lower, NULL, r, ret);
        if (k != -EINVAL)
                return k;
        if (move_mount(lower, "", AT_FDCWD, r->scratch, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        k = overlay_mount(-1, r->scratch, r, ret);
        (void) umount2(r->scratch, MNT_DETACH);
        return k;
}

static int run_cp(const char *src, const char *dst)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        (void) dup2(null, STDIN_FILENO);
                        (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                }
                char *argv[] = { "cp", "-a", "--", (char *) src, (char *) dst, NULL };
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static uint32_t shift(uint32_t id, uint32_t start, uint32_t count)
{
        /* Ids the range does not cover stay unmapped (nobody inside). */
        return id < count ? start + id : id;
}

/* Shifts the owner of everything below dfd (and dfd itself), keeping the
 * mode bits chown clears (setuid, setgid). */
static int shift_tree(int dfd, uint32_t start, uint32_t count, unsigned depth)
{
        struct stat st;
        if (depth > 256)
                return -ELOOP;
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (fchown(dfd, shift(st.st_uid, start, count), shift(st.st_gid, start, count)) < 0 ||
            fchmod(dfd, st.st_mode & 07777) < 0)
                return -errno;
        int d2 = dup(dfd);
        DIR *dp = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!dp) {
                if (d2 >= 0)
                        close(d2);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(dp))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        r = sub < 0 ? -errno : shift_tree(sub, start, count, depth + 1);
                        if (sub >= 0)
                                close(sub);
                        continue;
                }
                if (fchownat(dfd, de->d_name, shift(st.st_uid, start, count), shift(st.st_gid, start, count),
                             AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                else if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) &&
                         fchmodat(dfd, de->d_name, st.st_mode & 07777, 0) < 0)
                        r = -errno;
        }
        closedir(dp);
        return r;
}

/* STATE/idmap/copies/TEMPLATE@START-COUNT (no colon: overlayfs splits
 * lowerdir there), made once per range from the
 * template (and again when the template was rebuilt since: its directory's
 * device, inode and change time are kept beside the copy). */
static int shifted_copy(const struct idmap_root *r, char **ret_path, struct error *e)
{
        _cleanup_close_ int dfd = -1;
        int k = open_idmap_dir(r->state_dir, true, &dfd); /* the lock serialises builders */
        if (k < 0)
                return error_set(e, k, "cannot open %s/" IDMAP_DIR, r->state_dir);
        if (mkdirat(dfd, COPIES_DIR, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "cannot create %s/" IDMAP_DIR "/" COPIES_DIR, r->state_dir);
        struct stat st;
        if (stat(r->lower, &st) < 0)
                return error_set(e, -errno, "template '%s'", r->template_name);
        char stamp[128];
        snprintf(stamp, sizeof stamp, "%llu %llu %lld.%09ld\n", (unsigned long long) st.st_dev,
                 (unsigned long long) st.st_ino, (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        _cleanup_free_ char *base = strdup_printf("%s/" IDMAP_DIR "/" COPIES_DIR "/%s@%u-%u", r->state_dir,
                                                  r->template_name, r->start, r->count);
        _cleanup_free_ char *stampfile = base ? strdup_printf("%s.source", base) : NULL;
        _cleanup_free_ char *tmp = base ? strdup_printf("%s.new", base) : NULL;
        if (!base || !stampfile || !tmp)
                return error_code(e, -ENOMEM);
        _cleanup_free_ char *have = NULL;
        if (read_file_at(AT_FDCWD, stampfile, sizeof stamp, &have, NULL) >= 0 && streq(have, stamp) &&
            access(base, F_OK) == 0) {
                *ret_path = TAKE_PTR(base);
                return 0;
        }
        (void) rm_rf(tmp);
        (void) rm_rf(base);
        (void) unlink(stampfile);
        k = run_cp(r->lower, tmp);
        if (k < 0) {
                (void) rm_rf(tmp);
                return error_set(e, k, "cannot copy template '%s' to %s", r->template_name, tmp);
        }
        _cleanup_close_ int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        k = tfd < 0 ? -errno : shift_tree(tfd, r->start, r->count, 0);
        if (k >= 0 && rename(tmp, base) < 0)
                k = -errno;
        if (k < 0) {
                (void) rm_rf(tmp);
                return error_set(e, k, "cannot shift the copy of template '%s' to ids %u:%u", r->template_name,
                                 r->start, r->count);
        }
        _cleanup_close_ int sd = open(stampfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (sd < 0 || write(sd, stamp, strlen(stamp)) != (ssize_t) strlen(stamp))
                return error_set(e, -errno, "cannot write %s", stampfile);
        *ret_path = TAKE_PTR(base);
        return 0;
}

int idmap_root_mount(const struct idmap_root *r, int userns_fd, int *ret_fd, enum idmap_method *ret_method,
                     struct error *e)
{
        int k;
        *ret_method = IDMAP_METHOD_IDMAPPED_MOUNT;
        if (r->rootfs) {
                k = idmap_mount_tree(AT_FDCWD, r->rootfs, userns_fd, true, MOUNT_ATTR_NODEV, ret_fd);
                if (k < 0)
                        return error_set(e, k,
                                         "cannot idmap rootfs '%s' (its file system or this kernel has no "
                                         "idmapped mounts; use a template)",
                                         r->rootfs);
                return 0;
        }
        if (!r->force_copy) {
                k = root_idmapped(r, userns_fd, ret_fd);
                if (k >= 0)
                        return 0;
                /* Anything but "cannot" is an error of its own. */
                if (k != -EINVAL && k != -EOPNOTSUPP && k != -ENOSYS && k != -EPERM && k != -ENOTSUP)
                        return error_set(e, k, "cannot mount the overlay root over the idmapped template");
        }
        _cleanup_free_ char *copy = NULL;
        k = shifted_copy(r, &copy, e);
        if (k < 0)
                return k;
        k = overlay_mount(-1, copy, r, ret_fd);
        if (k < 0)
                return error_set(e, k, "cannot mount the overlay root over %s", copy);
        *ret_method = IDMAP_METHOD_SHIFTED_COPY;
        return 0;
}

int idmap_resolve_range(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                        uint32_t *ret_start, struct error *e)
{
        uint32_t start = c->idmap_host_uid;
        int r;
        if (c->idmap_auto) {
                struct idmap_pool pool;
                const char *source = NULL;
                r = idmap_pool_get(&pool, &source);
                if (r < 0)
                        return error_set(e, 0, "idmap: the pool in %s is not START:COUNT with COUNT >= 65536",
                                         source);
                _cleanup_free_ uint32_t(*reserved)[2] = calloc(set->n_containers + 1, sizeof *reserved);
                size_t nr = 0;
                if (!reserved)
                        return error_code(e, -ENOMEM);
                for (size_t i = 0; i < set->n_containers; i++) {
                        const struct spec_container *x = set->containers[i];
                        if (x != c && x->idmap && !x->idmap_auto) {
                                reserved[nr][0] = x->idmap_host_uid;
                                reserved[nr++][1] = x->idmap_count;
                        }
                }
                r = idmap_range_assign(state_dir, c->name, &pool, (const uint32_t(*)[2]) reserved, nr, &start);
                if (r == -ENOSPC)
                        return error_set(e, 0, "idmap: no free block of 65536 ids left in %s (%u:%u)", source,
                                         pool.start, pool.count);
                if (r < 0)
                        return error_set(e, r, "idmap: cannot assign a range from %s", source);
        }
        *ret_start = start;
        return 0;
}

int idmap_handoff(const struct idmap_root *rt, const char *etc_dir, const char *record_dir,
                  const struct spec_mount *mounts, size_t n_mounts, pid_t pid, struct spawn_handoff *h,
                  struct error *e)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
        _cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
        if (userns < 0)
                return error_set(e, -errno, "cannot open the container's user namespace");
        enum idmap_method method;
        int root = -1;
        int r = idmap_root_mount(rt, userns, &root, &method, e);
        if (r < 0)
                return r;
        h->fds[h->n_fds++] = root;
        _cleanup_close_ int etcfd = open(etc_dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (etcfd < 0)
                r = error_set(e, -errno, "cannot open %s", etc_dir);
        for (size_t i = 0; r >= 0 && i < MOUNTS_ETC_FILES; i++) {
                int fd = -1;
                r = idmap_file_mount(etcfd, mounts_etc_files[i], userns, method == IDMAP_METHOD_IDMAPPED_MOUNT,
                                     rt->start, &fd);
                if (r == -ENOENT) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        (void) error_set(e, r, "cannot prepare /etc/%s", mounts_etc_files[i]);
                else {
                        h->fds[h->n_fds++] = fd;
                        h->flags |= 1 << i;
                }
        }
        /* Bind mounts: the host's ids as they are (a root-only file stays
         * unreadable), or idmapped where the definition asks. */
        for (size_t i = 0; r >= 0 && i < n_mounts; i++) {
                const struct spec_mount *m = &mounts[i];
                if (m->type != MOUNT_BIND)
                        continue;
                if (h->n_fds >= SPAWN_MAX_FDS) {
                        r = error_set(e, -E2BIG, "idmap: at most %d bind mounts", MOUNTS_BINDS_HANDED);
                        break;
                }
                unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->read_only ? MOUNT_ATTR_RDONLY : 0);
                int fd = -1;
                r = idmap_mount_tree(AT_FDCWD, m->source, m->idmap ? userns : -1, true, attrs, &fd);
                if (r < 0 && m->idmap && (r == -EINVAL || r == -EOPNOTSUPP || r == -EPERM))
                        (void) error_set(e, r, "mount '%s': the file system of '%s' cannot be idmapped", m->name,
                                         m->source);
                else if (r < 0)
                        (void) error_set(e, r, "mount '%s': source '%s'", m->name, m->source);
                else
                        h->fds[h->n_fds++] = fd;
        }
        if (r >= 0) {
                r = idmap_record_write(record_dir, rt->start, rt->count, method);
                if (r < 0)
                        (void) error_set(e, r, "cannot record its id mapping");
        }
        if (r < 0) {
                for (size_t i = 0; i < h->n_fds; i++)
                        close(h->fds[i]);
                h->n_fds = 0;
                h->flags = 0;
        }
        return r;
}
