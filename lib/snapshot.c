/* Snapshots of writable layers (lib/snapshot.h). */
#include "sha256.h"
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "state.h"
#include "template.h"
#include "util.h"

#define INFO_MAX 4096
#define DEPTH_MAX 256

bool snapshot_tag_valid(const char *tag, bool internal)
{
        size_t n = tag ? strlen(tag) : 0;
        if (n == 0 || n > SNAPSHOT_TAG_MAX || (tag[0] == '.' && !internal) || streq(tag, ".") || streq(tag, ".."))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = tag[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

void snapshot_default_tag(char buf[static SNAPSHOT_TAG_MAX + 1], const char *prefix)
{
        struct timespec ts;
        struct tm tm;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        (void) gmtime_r(&ts.tv_sec, &tm);
        char t[32];
        strftime(t, sizeof t, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(buf, SNAPSHOT_TAG_MAX + 1, "%s%s", prefix ? prefix : "", t);
}

char *snapshot_container_dir(const char *state_dir, const char *name)
{
        return strdup_printf("%s/" SNAPSHOT_DIR "/%s", state_dir, name);
}

char *snapshot_tag_dir(const char *state_dir, const char *name, const char *tag)
{
        return strdup_printf("%s/" SNAPSHOT_DIR "/%s/%s", state_dir, name, tag);
}

static const char *const kind_names[] = {
        [SNAPSHOT_MANUAL] = "manual",
        [SNAPSHOT_SCHEDULED] = "scheduled",
        [SNAPSHOT_AUTO_PRE_RESTORE] = "pre-restore",
        [SNAPSHOT_CHECKPOINT] = "checkpoint",
};

const char *snapshot_kind_to_string(enum snapshot_kind k)
{
        return k <= SNAPSHOT_CHECKPOINT ? kind_names[k] : "?";
}

/* ---- info ------------------------------------------------------------------------------------ */

int snapshot_info_write(const char *dir, const struct snapshot_info *i)
{
        char buf[INFO_MAX];
        int n = snprintf(buf, sizeof buf,
                         "tag=%s\ntime_usec=%" PRIu64 "\nsize=%" PRIu64 "\nfiles=%" PRIu64
                         "\nmethod=%s\nkind=%s\nfrozen=%d\nname=%s\ntemplate=%s\ntemplate_id=%s\n",
                         i->tag, i->time_usec, i->size, i->files, i->method, snapshot_kind_to_string(i->kind),
                         i->frozen, i->name, i->template_name, i->template_id);
        if (n < 0 || (size_t) n >= sizeof buf)
                return -ENAMETOOLONG;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        return write_file_atomic(dfd, "info", buf, (size_t) n, 0600);
}

static void copy_field(char *dst, size_t size, const char *v, size_t len)
{
        snprintf(dst, size, "%.*s", (int) len, v);
}

int snapshot_info_read(const char *dir, struct snapshot_info *i)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_at(dfd, "info", INFO_MAX, &text, &len);
        if (r < 0)
                return r;
        *i = (struct snapshot_info){ 0 };
        bool have_tag = false;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                size_t ll = next ? (size_t) (next - line) : strlen(line);
                if (next)
                        next++;
                char *eq = memchr(line, '=', ll);
                if (!eq)
                        return -EBADMSG;
                size_t kl = (size_t) (eq - line), vl = ll - kl - 1;
                const char *v = eq + 1;
#define KEY(k) (kl == strlen(k) && strncmp(line, k, kl) == 0)
                if (KEY("tag")) {
                        copy_field(i->tag, sizeof i->tag, v, vl);
                        have_tag = true;
                } else if (KEY("time_usec"))
                        i->time_usec = strtoull(v, NULL, 10);
                else if (KEY("size"))
                        i->size = strtoull(v, NULL, 10);
                else if (KEY("files"))
                        i->files = strtoull(v, NULL, 10);
                else if (KEY("method"))
                        copy_field(i->method, sizeof i->method, v, vl);
                else if (KEY("kind")) {
                        for (int k = 0; k <= SNAPSHOT_CHECKPOINT; k++)
                                if (vl == strlen(kind_names[k]) && strncmp(v, kind_names[k], vl) == 0)
                                        i->kind = (enum snapshot_kind) k;
                } else if (KEY("frozen"))
                        i->frozen = *v == '1';
                else if (KEY("name"))
                        copy_field(i->name, sizeof i->name, v, vl);
                else if (KEY("template"))
                        copy_field(i->template_name, sizeof i->template_name, v, vl);
                else if (KEY("template_id"))
                        copy_field(i->template_id, sizeof i->template_id, v, vl);
#undef KEY
        }
        return have_tag ? 0 : -EBADMSG;
}

/* ---- copying a tree ---------------------------------------------------------------------------- */

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the copy's root */
};

struct copier {
        int dst_root; /* the new directory */
        struct snapshot_copy_stats *st;
        struct error *e;
        struct link_seen *links;
        size_t n_links;
};

static int copy_xattrs(int sfd, int dfd, const char *what, struct error *e)
{
        char names[8192];
        ssize_t n = flistxattr(sfd, names, sizeof names);
        if (n < 0)
                return errno == ENOTSUP ? 0 : error_set(e, -errno, "cannot list the attributes of %s", what);
        for (ssize_t k = 0; k < n; k += (ssize_t) strlen(names + k) + 1) {
                char val[65536];
                ssize_t vl = fgetxattr(sfd, names + k, val, sizeof val);
                if (vl < 0)
                        return error_set(e, -errno, "cannot read attribute %s of %s", names + k, what);
                if (fsetxattr(dfd, names + k, val, (size_t) vl, 0) < 0)
                        return error_set(e, -errno, "cannot set attribute %s on the copy of %s", names + k, what);
        }
        return 0;
}

static int copy_data(int sfd, int dfd, uint64_t size, struct snapshot_copy_stats *st)
{
        if (size > 0 && ioctl(dfd, FICLONE, sfd) == 0) {
                st->reflinked++;
                return 0;
        }
        uint64_t left = size;
        while (left > 0) {
                ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, left > (1u << 30) ? (1u << 30) : left, 0);
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
                        break;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break; /* the file shrank */
                left -= (uint64_t) n;
        }
        if (left > 0 && left == size) {
                char buf[65536];
                for (;;) {
                        ssize_t n = read(sfd, buf, sizeof buf);
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                break;
                        for (ssize_t off = 0; off < n;) {
                                ssize_t w = write(dfd, buf + off, (size_t) (n - off));
                                if (w < 0)
                                        return -errno;
                                off += w;
                        }
                }
        }
        st->copied++;
        return 0;
}

static int copy_entry(struct copier *cp, int sdir, int ddir, const char *name, const char *rel, int depth);

static int copy_dir_contents(struct copier *cp, int sfd, int dfd, const char *rel, int depth)
{
        if (depth > DEPTH_MAX)
                return error_set(cp->e, -ELOOP, "%s: nested too deep", rel);
        int fd2 = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        if (fd2 < 0)
                return error_set(cp->e, -errno, "cannot read %s", rel);
        DIR *d = fdopendir(fd2);
        if (!d) {
                close(fd2);
                return error_set(cp->e, -errno, "cannot read %s", rel);
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = strdup_printf("%s/%s", rel, de->d_name);
                r = sub ? copy_entry(cp, sfd, dfd, de->d_name, sub, depth + 1) : error_code(cp->e, -ENOMEM);
        }
        if (r >= 0 && errno)
                r = error_set(cp->e, -errno, "cannot read %s", rel);
        closedir(d);
        return r;
}

static int finish_meta(int fd, const struct stat *st, const char *what, struct error *e)
{
        if (fchown(fd, st->st_uid, st->st_gid) < 0)
                return error_set(e, -errno, "cannot set the owner of the copy of %s", what);
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return error_set(e, -errno, "cannot set the mode of the copy of %s", what);
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (futimens(fd, ts) < 0)
                return error_set(e, -errno, "cannot set the times of the copy of %s", what);
        return 0;
}

static int copy_entry(struct copier *cp, int sdir, int ddir, const char *name, const char *rel, int depth)
{
        struct stat st;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(cp->e, -errno, "cannot stat %s", rel);
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < cp->n_links; i++)
                        if (cp->links[i].dev == st.st_dev && cp->links[i].ino == st.st_ino) {
                                if (linkat(cp->dst_root, cp->links[i].path, ddir, name, 0) < 0)
                                        return error_set(cp->e, -errno, "cannot link %s", rel);
                                return 0;
                        }
                struct link_seen *l = realloc(cp->links, (cp->n_links + 1) * sizeof *l);
                if (!l)
                        return error_code(cp->e, -ENOMEM);
                cp->links = l;
                /* rel begins with "." (the root): the path under the copy's root */
                l[cp->n_links] = (struct link_seen){ st.st_dev, st.st_ino, strdup(rel + 2) };
                if (!l[cp->n_links].path)
                        return error_code(cp->e, -ENOMEM);
                cp->n_links++;
        }
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(ddir, name, 0700) < 0)
                        return error_set(cp->e, -errno, "cannot create the copy of %s", rel);
                _cleanup_close_ int sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0 || dfd < 0)
                        return error_set(cp->e, -errno, "cannot open %s", rel);
                int r = copy_dir_contents(cp, sfd, dfd, rel, depth);
                if (r < 0)
                        return r;
                r = copy_xattrs(sfd, dfd, rel, cp->e);
                return r < 0 ? r : finish_meta(dfd, &st, rel, cp->e);
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (sfd < 0)
                        return error_set(cp->e, -errno, "cannot open %s", rel);
                _cleanup_close_ int dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                                 0600);
                if (dfd < 0)
                        return error_set(cp->e, -errno, "cannot create the copy of %s", rel);
                int r = copy_data(sfd, dfd, (uint64_t) st.st_size, cp->st);
                if (r < 0)
                        return error_set(cp->e, r, "cannot copy %s", rel);
                cp->st->files++;
                cp->st->bytes += (uint64_t) st.st_size;
                r = copy_xattrs(sfd, dfd, rel, cp->e);
                return r < 0 ? r : finish_meta(dfd, &st, rel, cp->e);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
                if (n < 0)
                        return error_set(cp->e, -errno, "cannot read the link %s", rel);
                target[n] = 0;
                if (symlinkat(target, ddir, name) < 0)
                        return error_set(cp->e, -errno, "cannot create the link %s", rel);
                if (fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set(cp->e, -errno, "cannot set the owner of the link %s", rel);
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                (void) utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        /* devices (overlayfs' whiteouts are 0:0 character devices), fifos, sockets */
        if (mknodat(ddir, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0)
                return error_set(cp->e, -errno, "cannot create the copy of %s", rel);
        if (fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(cp->e, -errno, "cannot set the owner of the copy of %s", rel);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        (void) utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

int snapshot_copy_tree(int src_dfd, const char *dst, struct snapshot_copy_stats *st, struct error *e)
{
        struct stat sst;
        if (fstat(src_dfd, &sst) < 0)
                return error_set(e, -errno, "cannot stat the layer");
        if (mkdir(dst, 0700) < 0)
                return error_set(e, -errno, "cannot create %s", dst);
        _cleanup_close_ int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return error_set(e, -errno, "cannot open %s", dst);
        struct copier cp = { .dst_root = dfd, .st = st, .e = e };
        int r = copy_dir_contents(&cp, src_dfd, dfd, ".", 0);
        if (r >= 0)
                r = copy_xattrs(src_dfd, dfd, "the layer", e);
        if (r >= 0)
                r = finish_meta(dfd, &sst, "the layer", e);
        for (size_t i = 0; i < cp.n_links; i++)
                free(cp.links[i].path);
        free(cp.links);
        if (r >= 0 && syncfs(dfd) < 0)
                r = error_set(e, -errno, "cannot sync %s", dst);
        return r;
}

const char *snapshot_copy_method(const struct snapshot_copy_stats *st)
{
        if (st->reflinked && st->copied)
                return "mixed";
        if (st->reflinked)
                return "reflink";
        return st->copied ? "copy" : "none";
}

int snapshot_tree_size(int dfd, uint64_t *bytes, uint64_t *files)
{
        int fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                return -errno;
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode)) {
                        *bytes += (uint64_t) st.st_size;
                        (*files)++;
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                r = snapshot_tree_size(sub, bytes, files);
                }
        }
        closedir(d);
        return r;
}

/* ---- the template's identity ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void hash_str(struct sha256 *h, const char *s)
{
        sha256_update(h, s, strlen(s) + 1);
}

static int identity_walk(struct sha256 *h, int dfd, const char *rel, int depth)
{
        if (depth > DEPTH_MAX)
                return -ELOOP;
        int fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                return -errno;
        }
        char **names = NULL;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && strv_push(&names, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
        closedir(d);
        size_t n = strv_length(names);
        if (n)
                qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct stat st;
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                char head[128];
                snprintf(head, sizeof head, "%o %u %u %" PRIu64, (unsigned) st.st_mode, (unsigned) st.st_uid,
                         (unsigned) st.st_gid, S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? (uint64_t) st.st_rdev : 0);
                hash_str(h, rel);
                hash_str(h, names[i]);
                hash_str(h, head);
                if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                        if (fd < 0) {
                                r = -errno;
                                break;
                        }
                        char buf[65536];
                        ssize_t k;
                        while ((k = read(fd, buf, sizeof buf)) > 0)
                                sha256_update(h, buf, (size_t) k);
                        if (k < 0)
                                r = -errno;
                } else if (S_ISLNK(st.st_mode)) {
                        char t[PATH_MAX + 1];
                        ssize_t k = readlinkat(dfd, names[i], t, sizeof t - 1);
                        if (k < 0) {
                                r = -errno;
                                break;
                        }
                        t[k] = 0;
                        hash_str(h, t);
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_free_ char *subrel = strdup_printf("%s/%s", rel, names[i]);
                        r = sub < 0 ? -errno : !subrel ? -ENOMEM : identity_walk(h, sub, subrel, depth + 1);
                }
        }
        strv_free(names);
        return r;
}

int snapshot_template_identity(const char *state_dir, const char *name, char out[static 65])
{
        _cleanup_free_ char *path = NULL;
        int r = template_lookup(state_dir, name, &path);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (dfd < 0 || fstat(dfd, &st) < 0)
                return -errno;
        /* The cache: "INO CTIME_SEC CTIME_NSEC HASH" */
        _cleanup_free_ char *meta = strdup_printf("%s/templates/" TEMPLATE_META_DIR, state_dir);
        _cleanup_free_ char *cname = strdup_printf("%s.identity", name);
        if (!meta || !cname)
                return -ENOMEM;
        char key[96];
        snprintf(key, sizeof key, "%" PRIu64 " %" PRId64 " %ld ", (uint64_t) st.st_ino, (int64_t) st.st_ctim.tv_sec,
                 st.st_ctim.tv_nsec);
        _cleanup_close_ int mfd = open(meta, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (mfd >= 0) {
                _cleanup_free_ char *cached = NULL;
                size_t len;
                if (read_file_at(mfd, cname, 256, &cached, &len) >= 0 && strncmp(cached, key, strlen(key)) == 0 &&
                    strlen(cached + strlen(key)) >= 64) {
                        snprintf(out, 65, "%.64s", cached + strlen(key));
                        return 0;
                }
        }
        _cleanup_(sha256_done) struct sha256 h = { 0 };
        r = sha256_init(&h);
        if (r < 0)
                return r;
        r = identity_walk(&h, dfd, ".", 0);
        if (r < 0)
                return r;
        sha256_final_hex(&h, out);
        if (mfd >= 0) {
                char line[192];
                int n = snprintf(line, sizeof line, "%s%s\n", key, out);
                (void) write_file_replace(mfd, cname, line, (size_t) n, 0600);
        }
        return 0;
}

/* ---- taking, listing, removing ------------------------------------------------------------------ */

static int copy_small_file(const char *src, int ddir, const char *name)
{
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_fd(fd, 16 << 20, &text, &len);
        return r < 0 ? r : write_file_replace(ddir, name, text, len, 0600);
}

/* The definition the container ran with: berthd's copy of what it last
 * applied (STATE/last-good/FILE), else the file itself. */
static int copy_definition(const char *state_dir, const char *file, int ddir)
{
        if (!file)
                return 0;
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        _cleanup_free_ char *lg = strdup_printf("%s/" STATE_LAST_GOOD "/%s", state_dir, base);
        if (!lg)
                return -ENOMEM;
        int r = copy_small_file(lg, ddir, "definition.conf");
        if (r == -ENOENT)
                r = copy_small_file(file, ddir, "definition.conf");
        return r;
}

/* STATE/snapshots/NAME made when missing: 0 or -errno. */
static int make_container_dir(const char *state_dir, const char *name, char **ret)
{
        _cleanup_free_ char *top = strdup_printf("%s/" SNAPSHOT_DIR, state_dir);
        _cleanup_free_ char *dir = snapshot_container_dir(state_dir, name);
        if (!top || !dir)
                return -ENOMEM;
        if (mkdir(top, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        *ret = TAKE_PTR(dir);
        return 0;
}

/* The snapshot's content into the new directory stage: records,
 * definition, the layer (frozen around the copy). */
static int fill_snapshot(const struct snapshot_request *rq, const char *stage, struct snapshot_info *info,
                         struct error *e)
{
        _cleanup_free_ char *cdir = state_container_dir(rq->state_dir, rq->name);
        _cleanup_free_ char *record = strdup_printf("%s/state", cdir ? cdir : "");
        _cleanup_free_ char *dst = strdup_printf("%s/upper", stage);
        if (!cdir || !record || !dst)
                return error_code(e, -ENOMEM);
        _cleanup_close_ int sfd = open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sfd < 0)
                return error_set(e, -errno, "container '%s' has no data in %s", rq->name, cdir);
        _cleanup_close_ int ufd = openat(sfd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd < 0)
                return error_set(e, errno == ENOENT ? 0 : -errno,
                                 "container '%s' has no writable layer yet (%s/upper): start it once first", rq->name,
                                 cdir);
        _cleanup_close_ int stfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (stfd < 0)
                return error_set(e, -errno, "cannot open %s", stage);
        int r = copy_definition(rq->state_dir, rq->definition_file, stfd);
        if (r < 0)
                return error_set(e, r, "cannot copy its definition %s", rq->definition_file);
        (void) copy_small_file(record, stfd, "state");
        if (rq->template_name) {
                r = snapshot_template_identity(rq->state_dir, rq->template_name, info->template_id);
                if (r < 0)
                        return error_set(e, r, "template '%s'", rq->template_name);
        }
        struct snapshot_copy_stats cs = { 0 };
        if (rq->freeze) {
                r = cgroup_freeze(rq->freeze);
                if (r < 0)
                        return error_set(e, r, "cannot freeze container '%s'", rq->name);
                info->frozen = true;
        }
        r = snapshot_copy_tree(ufd, dst, &cs, e);
        if (rq->freeze) {
                int q = cgroup_thaw(rq->freeze);
                if (q < 0 && r >= 0)
                        r = error_set(e, q, "cannot thaw container '%s'", rq->name);
        }
        if (r < 0)
                return r;
        info->size = cs.bytes;
        info->files = cs.files;
        snprintf(info->method, sizeof info->method, "%s", snapshot_copy_method(&cs));
        return 0;
}

int snapshot_take(const struct snapshot_request *rq, struct snapshot_info *ret, struct error *e)
{
        if (!snapshot_tag_valid(rq->tag, true))
                return error_set(e, 0, "'%s' is not a snapshot tag (letters, digits, '.', '_', '-'; at most %d)",
                                 rq->tag, SNAPSHOT_TAG_MAX);
        _cleanup_free_ char *dir = NULL;
        int r = make_container_dir(rq->state_dir, rq->name, &dir);
        if (r < 0)
                return error_set(e, r, "cannot create the snapshot directory of '%s'", rq->name);
        _cleanup_free_ char *final = strdup_printf("%s/%s", dir, rq->tag);
        _cleanup_free_ char *stage = strdup_printf("%s/.tmp-%s", dir, rq->tag);
        if (!final || !stage)
                return error_code(e, -ENOMEM);
        if (access(final, F_OK) == 0)
                return error_set(e, -EEXIST, "container '%s' has a snapshot '%s'", rq->name, rq->tag);
        (void) rm_rf(stage);
        if (mkdir(stage, 0700) < 0)
                return error_set(e, -errno, "cannot create %s", stage);
        struct snapshot_info info = { .kind = rq->kind };
        snprintf(info.tag, sizeof info.tag, "%s", rq->tag);
        snprintf(info.name, sizeof info.name, "%s", rq->name);
        snprintf(info.template_name, sizeof info.template_name, "%s", rq->template_name ? rq->template_name : "");
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        info.time_usec = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
        r = fill_snapshot(rq, stage, &info, e);
        if (r >= 0 && (r = snapshot_info_write(stage, &info)) < 0)
                error_set(e, r, "cannot write %s/info", stage);
        if (r >= 0 && renameat2(AT_FDCWD, stage, AT_FDCWD, final, RENAME_NOREPLACE) < 0)
                r = error_set(e, -errno, "cannot rename %s", stage);
        if (r < 0) {
                (void) rm_rf(stage);
                return r;
        }
        if (rq->keep_scheduled > 0)
                (void) snapshot_prune(rq->state_dir, rq->name, rq->keep_scheduled);
        if (ret)
                *ret = info;
        return 0;
}

static int cmp_info(const void *a, const void *b)
{
        const struct snapshot_info *x = a, *y = b;
        if (x->time_usec != y->time_usec)
                return x->time_usec < y->time_usec ? -1 : 1;
        return strcmp(x->tag, y->tag);
}

int snapshot_list(const char *state_dir, const char *name, struct snapshot_info **ret, size_t *n)
{
        *ret = NULL;
        *n = 0;
        _cleanup_free_ char *dir = snapshot_container_dir(state_dir, name);
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct snapshot_info *v = NULL;
        size_t k = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && k < SNAPSHOT_MAX) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = strdup_printf("%s/%s", dir, de->d_name);
                struct snapshot_info i;
                if (!sub || snapshot_info_read(sub, &i) < 0)
                        continue;
                snprintf(i.tag, sizeof i.tag, "%.64s", de->d_name);
                struct snapshot_info *nv = realloc(v, (k + 1) * sizeof *nv);
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[k++] = i;
        }
        closedir(d);
        if (r < 0) {
                free(v);
                return r;
        }
        if (k)
                qsort(v, k, sizeof *v, cmp_info);
        *ret = v;
        *n = k;
        return 0;
}

int snapshot_remove(const char *state_dir, const char *name, const char *tag)
{
        if (!snapshot_tag_valid(tag, true))
                return -EINVAL;
        _cleanup_free_ char *dir = snapshot_container_dir(state_dir, name);
        _cleanup_free_ char *p = snapshot_tag_dir(state_dir, name, tag);
        _cleanup_free_ char *gone = strdup_printf("%s/.rm-%s", dir ? dir : "", tag);
        if (!dir || !p || !gone)
                return -ENOMEM;
        /* Out of sight first: a removal cut short leaves no half snapshot listed. */
        (void) rm_rf(gone);
        if (rename(p, gone) < 0)
                return -errno;
        return rm_rf(gone);
}

int snapshot_prune(const char *state_dir, const char *name, uint32_t keep)
{
        struct snapshot_info *v;
        size_t n, sched = 0;
        int r = snapshot_list(state_dir, name, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                sched += v[i].kind == SNAPSHOT_SCHEDULED;
        for (size_t i = 0; i < n && sched > keep; i++)
                if (v[i].kind == SNAPSHOT_SCHEDULED) {
                        (void) snapshot_remove(state_dir, name, v[i].tag);
                        sched--;
                }
        free(v);
        return 0;
}

/* ---- restoring ------------------------------------------------------------------------------ */

int snapshot_restore(const char *state_dir, const char *name, const char *tag, const char *template_name,
                     const char *definition_file, struct error *e)
{
        if (!snapshot_tag_valid(tag, false))
                return error_set(e, 0, "'%s' is not a snapshot tag", tag);
        _cleanup_free_ char *sdir = snapshot_tag_dir(state_dir, name, tag);
        _cleanup_free_ char *cdir = state_container_dir(state_dir, name);
        _cleanup_free_ char *dir = NULL;
        if (!sdir || !cdir)
                return error_code(e, -ENOMEM);
        struct snapshot_info info;
        int r = snapshot_info_read(sdir, &info);
        if (r == -ENOENT)
                return error_set(e, -ENOENT, "container '%s' has no snapshot '%s' (see berthctl snapshot ls %s)", name,
                                 tag, name);
        if (r < 0)
                return error_set(e, r, "snapshot '%s' of '%s' is damaged (%s/info)", tag, name, sdir);
        if (!template_name || !streq(info.template_name, template_name))
                return error_set(e, -EMEDIUMTYPE,
                                 "snapshot '%s' was made over template '%s', container '%s' now uses %s%s%s: not restored",
                                 tag, info.template_name, name, template_name ? "template '" : "no template",
                                 template_name ?: "", template_name ? "'" : "");
        char id[65];
        r = snapshot_template_identity(state_dir, template_name, id);
        if (r < 0)
                return error_set(e, r, "template '%s'", template_name);
        if (info.template_id[0] && !streq(id, info.template_id))
                return error_set(e, -EMEDIUMTYPE,
                                 "snapshot '%s' was made over another build of template '%s' (identity %.12s, now "
                                 "%.12s): not restored", tag, template_name, info.template_id, id);
        r = make_container_dir(state_dir, name, &dir);
        if (r < 0)
                return error_set(e, r, "cannot create the snapshot directory of '%s'", name);
        if (mkdir_p(cdir, 0700) < 0)
                return error_set(e, -errno, "cannot create %s", cdir);
        _cleanup_free_ char *src = strdup_printf("%s/upper", sdir);
        _cleanup_free_ char *fresh = strdup_printf("%s/.upper-restore", cdir);
        _cleanup_free_ char *upper = strdup_printf("%s/upper", cdir);
        _cleanup_free_ char *work = strdup_printf("%s/work", cdir);
        _cleanup_free_ char *pre = strdup_printf("%s/.tmp-" SNAPSHOT_PRE_RESTORE, dir);
        _cleanup_free_ char *pre_upper = strdup_printf("%s/.tmp-" SNAPSHOT_PRE_RESTORE "/upper", dir);
        _cleanup_free_ char *pre_final = strdup_printf("%s/" SNAPSHOT_PRE_RESTORE, dir);
        if (!src || !fresh || !upper || !work || !pre || !pre_upper || !pre_final)
                return error_code(e, -ENOMEM);
        _cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW), pfd = -1;
        if (sfd < 0)
                return error_set(e, -errno, "snapshot '%s' of '%s' has no layer", tag, name);
        (void) rm_rf(fresh);
        struct snapshot_copy_stats cs = { 0 };
        r = snapshot_copy_tree(sfd, fresh, &cs, e);
        if (r < 0) {
                (void) rm_rf(fresh);
                return error_wrap(e, "cannot copy snapshot '%s'", tag);
        }
        /* The layer in place becomes pre-restore. */
        (void) rm_rf(pre);
        if (mkdir(pre, 0700) < 0) {
                r = error_set(e, -errno, "cannot create %s", pre);
                goto out_fresh;
        }
        struct snapshot_info pi = { .kind = SNAPSHOT_AUTO_PRE_RESTORE };
        snprintf(pi.tag, sizeof pi.tag, SNAPSHOT_PRE_RESTORE);
        snprintf(pi.name, sizeof pi.name, "%s", name);
        snprintf(pi.template_name, sizeof pi.template_name, "%.255s", template_name);
        memcpy(pi.template_id, id, sizeof pi.template_id);
        snprintf(pi.method, sizeof pi.method, "rename");
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        pi.time_usec = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
        pfd = open(pre, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pfd >= 0)
                (void) copy_definition(state_dir, definition_file, pfd);
        bool had_upper = access(upper, F_OK) == 0;
        if (had_upper) {
                _cleanup_close_ int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (ufd >= 0)
                        (void) snapshot_tree_size(ufd, &pi.size, &pi.files);
                if (rename(upper, pre_upper) < 0) {
                        r = error_set(e, -errno, "cannot move %s aside", upper);
                        goto out_pre;
                }
        } else if (mkdir(pre_upper, 0755) < 0) {
                r = error_set(e, -errno, "cannot create %s", pre_upper);
                goto out_pre;
        }
        if (rename(fresh, upper) < 0) {
                r = error_set(e, -errno, "cannot move the restored layer into %s", upper);
                if (had_upper)
                        (void) rename(pre_upper, upper);
                goto out_pre;
        }
        /* overlayfs' work directory belongs to the layer it worked for */
        (void) rm_rf(work);
        (void) snapshot_info_write(pre, &pi);
        (void) snapshot_remove(state_dir, name, SNAPSHOT_PRE_RESTORE);
        if (rename(pre, pre_final) < 0)
                (void) rm_rf(pre);
        return 0;
out_pre:
        (void) rm_rf(pre);
out_fresh:
        (void) rm_rf(fresh);
        return r;
}
