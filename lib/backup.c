/* Export archives (lib/backup.h). */
#include "sha256.h"
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl_archive.h"
#include "snapshot.h"
#include "util.h"

#define DEPTH_MAX 256
#define MANIFEST_MAX (256u << 20)

/* ---- members and their digests ------------------------------------------------------------------ */

struct member {
        char *path;
        char type[12]; /* file dir symlink hardlink char block fifo socket */
        unsigned mode, uid, gid;
        uint64_t size;
        char digest[65]; /* file: sha256 of the bytes; symlink, hardlink: of the target */
};

struct members {
        struct member *v;
        size_t n, size;
};

static void members_done(struct members *ms)
{
        for (size_t i = 0; i < ms->n; i++)
                free(ms->v[i].path);
        free(ms->v);
        *ms = (struct members){ 0 };
}

static struct member *members_add(struct members *ms, const char *path)
{
        if (ms->n >= BACKUP_MEMBERS_MAX)
                return NULL;
        if (ms->n == ms->size) {
                size_t ns = ms->size ? ms->size * 2 : 256;
                struct member *nv = realloc(ms->v, ns * sizeof *nv);
                if (!nv)
                        return NULL;
                ms->v = nv;
                ms->size = ns;
        }
        struct member *m = &ms->v[ms->n];
        *m = (struct member){ .path = strdup(path) };
        if (!m->path)
                return NULL;
        ms->n++;
        return m;
}

static void digest_str(const char *s, char out[65])
{
        (void) sha256_hex_of(s, strlen(s), out); /* "" on failure: a mismatch, never a false match */
}

static const char *type_of(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG:
                return "file";
        case S_IFDIR:
                return "dir";
        case S_IFLNK:
                return "symlink";
        case S_IFCHR:
                return "char";
        case S_IFBLK:
                return "block";
        case S_IFIFO:
                return "fifo";
        default:
                return "socket";
        }
}

static json_object *member_json(const struct member *m)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(m->path));
        json_object_object_add(o, "type", json_object_new_string(m->type));
        json_object_object_add(o, "mode", json_object_new_int((int) m->mode));
        json_object_object_add(o, "uid", json_object_new_int64(m->uid));
        json_object_object_add(o, "gid", json_object_new_int64(m->gid));
        json_object_object_add(o, "size", json_object_new_uint64(m->size));
        if (m->digest[0])
                json_object_object_add(o, "sha256", json_object_new_string(m->digest));
        return o;
}

/* ---- writing ------------------------------------------------------------------------------------ */

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct writer {
        struct archive *a, *disk;
        struct members ms;
        struct link_seen *links;
        size_t n_links;
        struct error *e;
};

static int arch_fail(struct writer *w, const char *what)
{
        return error_set(w->e, 0, "%s: %s", what, archive_error_string(w->a) ?: "archive error");
}

static int write_entry(struct writer *w, int dirfd, const char *name, const char *apath, int depth);

static int write_dir(struct writer *w, int dfd, const char *apath, int depth)
{
        if (depth > DEPTH_MAX)
                return error_set(w->e, -ELOOP, "%s: nested too deep", apath);
        int fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                return error_set(w->e, -errno, "cannot read %s", apath);
        }
        char **names = NULL;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && strv_push(&names, de->d_name) < 0) {
                        r = error_code(w->e, -ENOMEM);
                        break;
                }
        closedir(d);
        size_t n = strv_length(names);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *sub = strdup_printf("%s/%s", apath, names[i]);
                r = sub ? write_entry(w, dfd, names[i], sub, depth + 1) : error_code(w->e, -ENOMEM);
        }
        strv_free(names);
        return r;
}

static int write_entry(struct writer *w, int dirfd, const char *name, const char *apath, int depth)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(w->e, -errno, "cannot stat %s", apath);
        _cleanup_close_ int fd = -1;
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return error_set(w->e, -errno, "cannot open %s", apath);
        }
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return error_code(w->e, -ENOMEM);
        _cleanup_free_ char *full = NULL;
        archive_entry_copy_sourcepath(ae, apath);
        int r = 0;
        /* libarchive reads the attributes (owner, mode, times, xattrs) from
         * the fd; for a link or a device, from the path */
        if (fd < 0) {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
                char dpath[PATH_MAX];
                ssize_t l = readlink(proc, dpath, sizeof dpath - 1);
                if (l < 0) {
                        archive_entry_free(ae);
                        return error_set(w->e, -errno, "cannot find %s", apath);
                }
                dpath[l] = 0;
                full = strdup_printf("%s/%s", dpath, name);
                if (!full) {
                        archive_entry_free(ae);
                        return error_code(w->e, -ENOMEM);
                }
                archive_entry_copy_sourcepath(ae, full);
        }
        if (archive_read_disk_entry_from_file(w->disk, ae, fd, &st) != ARCHIVE_OK) {
                r = error_set(w->e, 0, "cannot read the attributes of %s: %s", apath,
                              archive_error_string(w->disk) ?: "?");
                goto out;
        }
        archive_entry_copy_pathname(ae, apath);
        archive_entry_set_uname(ae, NULL);
        archive_entry_set_gname(ae, NULL);
        struct member *m = members_add(&w->ms, apath);
        if (!m) {
                r = error_set(w->e, -ENOMEM, "too many members");
                goto out;
        }
        snprintf(m->type, sizeof m->type, "%s", type_of(st.st_mode));
        m->mode = st.st_mode & 07777;
        m->uid = st.st_uid;
        m->gid = st.st_gid;
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < w->n_links; i++)
                        if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
                                archive_entry_copy_hardlink(ae, w->links[i].path);
                                archive_entry_set_size(ae, 0);
                                snprintf(m->type, sizeof m->type, "hardlink");
                                digest_str(w->links[i].path, m->digest);
                                if (archive_write_header(w->a, ae) != ARCHIVE_OK)
                                        r = arch_fail(w, apath);
                                goto out;
                        }
                struct link_seen *nl = realloc(w->links, (w->n_links + 1) * sizeof *nl);
                if (!nl) {
                        r = error_code(w->e, -ENOMEM);
                        goto out;
                }
                w->links = nl;
                nl[w->n_links] = (struct link_seen){ st.st_dev, st.st_ino, strdup(apath) };
                if (!nl[w->n_links].path) {
                        r = error_code(w->e, -ENOMEM);
                        goto out;
                }
                w->n_links++;
        }
        if (S_ISLNK(st.st_mode))
                digest_str(archive_entry_symlink(ae) ?: "", m->digest);
        if (archive_write_header(w->a, ae) != ARCHIVE_OK) {
                r = arch_fail(w, apath);
                goto out;
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_(sha256_done) struct sha256 h = { 0 };
                if (sha256_init(&h) < 0) {
                        r = error_set(w->e, -ENOMEM, "cannot digest %s", apath);
                        goto out;
                }
                char buf[65536];
                uint64_t left = (uint64_t) st.st_size;
                while (left > 0) {
                        ssize_t k = read(fd, buf, left < sizeof buf ? left : sizeof buf);
                        if (k < 0) {
                                r = error_set(w->e, -errno, "cannot read %s", apath);
                                goto out;
                        }
                        if (k == 0) {
                                r = error_set(w->e, 0, "%s shrank while it was archived", apath);
                                goto out;
                        }
                        sha256_update(&h, buf, (size_t) k);
                        if (archive_write_data(w->a, buf, (size_t) k) != k) {
                                r = arch_fail(w, apath);
                                goto out;
                        }
                        left -= (uint64_t) k;
                }
                sha256_final_hex(&h, m->digest);
                m->size = (uint64_t) st.st_size;
        }
        archive_entry_free(ae);
        ae = NULL;
        if (S_ISDIR(st.st_mode))
                r = write_dir(w, fd, apath, depth);
out:
        archive_entry_free(ae);
        return r;
}

/* One snapshot directory as PREFIX/{upper/..., definition.conf, info}, and
 * a checkpoint's CRIU images (criu/) with with_criu. */
static int write_snapshot_dir(struct writer *w, const char *dir, const char *prefix, bool with_criu)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return error_set(w->e, -errno, "cannot open %s", dir);
        static const char *const parts[] = { "info", "definition.conf", "upper", "criu" };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (i == 3 && !with_criu)
                        break;
                if (faccessat(dfd, parts[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (i == 1 || i == 3)
                                continue; /* a container with no definition file recorded; a layer snapshot */
                        return error_set(w->e, -errno, "%s/%s", dir, parts[i]);
                }
                _cleanup_free_ char *ap = strdup_printf("%s/%s", prefix, parts[i]);
                int r = ap ? write_entry(w, dfd, parts[i], ap, 0) : error_code(w->e, -ENOMEM);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_manifest(struct writer *w, const struct backup_source *src)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "format", json_object_new_string(BACKUP_FORMAT));
        json_object_object_add(o, "version", json_object_new_int(BACKUP_VERSION));
        json_object_object_add(o, "name", json_object_new_string(src->name));
        json_object_object_add(o, "template", json_object_new_string(src->template_name));
        json_object_object_add(o, "template_sha256", json_object_new_string(src->template_id));
        json_object *tags = json_object_new_array();
        for (size_t i = 0; src->snapshot_tags && src->snapshot_tags[i]; i++)
                json_object_array_add(tags, json_object_new_string(src->snapshot_tags[i]));
        json_object_object_add(o, "snapshots", tags);
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < w->ms.n; i++)
                json_object_array_add(arr, member_json(&w->ms.v[i]));
        json_object_object_add(o, "members", arr);
        size_t len;
        const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        int r = 0;
        struct archive_entry *ae = archive_entry_new();
        if (!ae || !text) {
                r = error_code(w->e, -ENOMEM);
                goto out;
        }
        archive_entry_set_pathname(ae, BACKUP_MANIFEST);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0600);
        archive_entry_set_size(ae, (la_int64_t) len);
        archive_entry_set_mtime(ae, time(NULL), 0);
        if (archive_write_header(w->a, ae) != ARCHIVE_OK || archive_write_data(w->a, text, len) != (la_ssize_t) len)
                r = arch_fail(w, BACKUP_MANIFEST);
out:
        archive_entry_free(ae);
        json_object_put(o);
        return r;
}

/* Frees what an export's writer holds. After a header could not be
 * written (a reader gone, a full disk) libarchive's state is fatal, and
 * archive_write_free() then skips the close, the one place that frees its
 * output block (32 bytes of state and a 10 KiB buffer: libarchive 3.6):
 * closed here first, whatever the state (a close after a close, or of a
 * fatal archive, is allowed and only fails again on the dead output). */
static void writer_done(struct writer *w)
{
        if (w->a) {
                (void) archive_write_close(w->a);
                archive_write_free(w->a);
        }
        if (w->disk)
                archive_read_free(w->disk);
        members_done(&w->ms);
        for (size_t i = 0; i < w->n_links; i++)
                free(w->links[i].path);
        free(w->links);
}

int backup_export(const struct backup_source *src, int fd, bool zstd, struct error *e)
{
        struct writer w = { .a = archive_write_new(), .disk = archive_read_disk_new(), .e = e };
        int r = 0;
        if (!w.a || !w.disk) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        /* numeric owners only: names mean other users on another host */
        (void) archive_read_disk_set_behavior(w.disk, 0);
        if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
            (zstd && archive_write_add_filter_zstd(w.a) != ARCHIVE_OK) ||
            archive_write_open_fd(w.a, fd) != ARCHIVE_OK) {
                r = arch_fail(&w, zstd ? "cannot write a zstd-compressed tar archive" : "cannot write a tar archive");
                goto out;
        }
        r = write_snapshot_dir(&w, src->layer_dir, "container", false);
        for (size_t i = 0; r >= 0 && src->snapshot_tags && src->snapshot_tags[i]; i++) {
                _cleanup_free_ char *prefix = strdup_printf("snapshots/%s", src->snapshot_tags[i]);
                r = prefix ? write_snapshot_dir(&w, src->snapshot_dirs[i], prefix, true) : error_code(e, -ENOMEM);
        }
        if (r >= 0)
                r = write_manifest(&w, src);
        if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
                r = arch_fail(&w, "cannot finish the archive");
out:
        writer_done(&w);
        return r;
}

int backup_dir_export(const char *dir, const char *prefix, int fd, struct error *e)
{
        struct writer w = { .a = archive_write_new(), .disk = archive_read_disk_new(), .e = e };
        _cleanup_free_ char *parent = strdup(dir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        _cleanup_close_ int pfd = -1;
        int r = 0;
        if (!w.a || !w.disk || !slash) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        *slash = 0;
        pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0) {
                r = error_set(e, -errno, "cannot open %s", parent);
                goto out;
        }
        (void) archive_read_disk_set_behavior(w.disk, 0);
        if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK || archive_write_open_fd(w.a, fd) != ARCHIVE_OK) {
                r = arch_fail(&w, "cannot write a tar archive");
                goto out;
        }
        r = write_entry(&w, pfd, slash + 1, prefix, 0);
        if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
                r = arch_fail(&w, "cannot finish the archive");
out:
        writer_done(&w);
        return r;
}

/* A member name of backup_dir_import: PREFIX or PREFIX/NAME, both plain
 * names (no '/', not beginning with '.'). */
static bool flat_member_ok(const char *p, char *prefix, size_t size)
{
        const char *slash = strchr(p, '/');
        size_t pl = slash ? (size_t) (slash - p) : strlen(p);
        if (pl == 0 || pl >= size || p[0] == '.' || (slash && (!slash[1] || slash[1] == '.' || strchr(slash + 1, '/'))))
                return false;
        if (prefix[0] && (strlen(prefix) != pl || strncmp(prefix, p, pl) != 0))
                return false;
        memcpy(prefix, p, pl);
        prefix[pl] = 0;
        return true;
}

/* The start both imports share: a tar reader on fd (any compression when
 * compressed), a writer to disk that keeps owners, modes and times (and
 * extended attributes when full) and refuses "..", symbolic links on the
 * way and absolute names; the working directory dir (the one before in
 * *ret_cwd, to go back to). */
static int extract_open(struct archive *a, struct archive *w, int fd, const char *dir, bool full, int *ret_cwd,
                        struct error *e)
{
        if (full)
                (void) archive_read_support_filter_all(a);
        (void) archive_read_support_format_tar(a);
        (void) archive_write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                         (full ? ARCHIVE_EXTRACT_XATTR : 0) |
                                                         ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                         ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                         ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        *ret_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*ret_cwd < 0 || chdir(dir) < 0)
                return error_set(e, -errno, "cannot enter %s", dir);
        if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
                return error_set(e, -EBADMSG, "not an archive: %s", archive_error_string(a) ?: "?");
        return 0;
}

/* The next member: 1 (in *ret), 0 at the archive's end, < 0 with e set. */
static int extract_next(struct archive *a, struct archive_entry **ret, struct error *e)
{
        int k = archive_read_next_header(a, ret);
        if (k == ARCHIVE_EOF)
                return 0;
        if (k != ARCHIVE_OK && k != ARCHIVE_WARN)
                return error_set(e, -EBADMSG, "the archive is truncated or damaged: %s",
                                 archive_error_string(a) ?: "?");
        return 1;
}

int backup_dir_import(int fd, const char *dest, char *prefix, size_t size, struct error *e)
{
        struct archive *a = archive_read_new(), *w = archive_write_disk_new();
        int r = 0, cwd = -1;
        bool any = false;
        prefix[0] = 0;
        if (!a || !w) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        if ((r = extract_open(a, w, fd, dest, false, &cwd, e)) < 0)
                goto out;
        for (;;) {
                struct archive_entry *ae;
                if ((r = extract_next(a, &ae, e)) < 0)
                        goto out;
                if (r == 0)
                        break;
                char path[PATH_MAX];
                const char *raw = archive_entry_pathname(ae);
                size_t pl = raw ? strlen(raw) : 0;
                if (!pl || pl >= sizeof path) {
                        r = error_set(e, -EBADMSG, "a member without a name, or with a long one");
                        goto out;
                }
                memcpy(path, raw, pl + 1);
                while (pl > 1 && path[pl - 1] == '/')
                        path[--pl] = 0;
                mode_t mode = archive_entry_mode(ae);
                bool top = !strchr(path, '/');
                if (!flat_member_ok(path, prefix, size) || archive_entry_hardlink(ae) ||
                    (top ? !S_ISDIR(mode) : !(S_ISREG(mode) || S_ISLNK(mode)))) {
                        r = error_set(e, -EBADMSG, "member '%s' is not one of a directory of images", path);
                        goto out;
                }
                any = true;
                archive_entry_set_uname(ae, NULL);
                archive_entry_set_gname(ae, NULL);
                if (archive_write_header(w, ae) != ARCHIVE_OK) {
                        r = error_set(e, -EIO, "cannot create %s: %s", path, archive_error_string(w) ?: "?");
                        goto out;
                }
                if (S_ISREG(mode))
                        for (;;) {
                                const void *buf;
                                size_t len;
                                la_int64_t off;
                                int q = archive_read_data_block(a, &buf, &len, &off);
                                if (q == ARCHIVE_EOF)
                                        break;
                                if (q != ARCHIVE_OK) {
                                        r = error_set(e, -EBADMSG, "the archive is truncated or damaged in '%s': %s",
                                                      path, archive_error_string(a) ?: "?");
                                        goto out;
                                }
                                if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK) {
                                        r = error_set(e, -EIO, "cannot write %s: %s", path,
                                                      archive_error_string(w) ?: "?");
                                        goto out;
                                }
                        }
                if (archive_write_finish_entry(w) != ARCHIVE_OK) {
                        r = error_set(e, -EIO, "cannot finish %s: %s", path, archive_error_string(w) ?: "?");
                        goto out;
                }
        }
        if (!any) {
                r = error_set(e, -EBADMSG, "the archive is empty");
                goto out;
        }
        if (archive_write_close(w) != ARCHIVE_OK)
                r = error_set(e, -EIO, "cannot finish the extraction: %s", archive_error_string(w) ?: "?");
out:
        if (cwd >= 0) {
                if (fchdir(cwd) < 0 && r >= 0)
                        r = error_set(e, -errno, "cannot return to the working directory");
                close(cwd);
        }
        if (a)
                archive_read_free(a);
        if (w)
                archive_write_free(w);
        return r;
}

/* ---- reading ------------------------------------------------------------------------------------ */

void backup_manifest_done(struct backup_manifest *m)
{
        free(m->name);
        free(m->template_name);
        free(m->template_id);
        strv_free(m->snapshot_tags);
        *m = (struct backup_manifest){ 0 };
}

/* container/... or snapshots/TAG/... with no empty, "." or ".." part. */
static bool member_path_ok(const char *p)
{
        const char *rest;
        if (strncmp(p, "container", 9) == 0 && (p[9] == 0 || p[9] == '/'))
                rest = p + 9;
        else if (strncmp(p, "snapshots/", 10) == 0) {
                const char *slash = strchr(p + 10, '/');
                size_t tl = slash ? (size_t) (slash - (p + 10)) : strlen(p + 10);
                char tag[SNAPSHOT_TAG_MAX + 1];
                if (tl == 0 || tl > SNAPSHOT_TAG_MAX)
                        return false;
                memcpy(tag, p + 10, tl);
                tag[tl] = 0;
                if (!snapshot_tag_valid(tag, false))
                        return false;
                rest = p + 10 + tl;
        } else
                return false;
        while (*rest == '/') {
                rest++;
                const char *end = strchrnul(rest, '/');
                size_t l = (size_t) (end - rest);
                if (l == 0 || (l == 1 && rest[0] == '.') || (l == 2 && rest[0] == '.' && rest[1] == '.'))
                        return false;
                rest = end;
        }
        return *rest == 0;
}

static int cmp_member(const void *a, const void *b)
{
        return strcmp(((const struct member *) a)->path, ((const struct member *) b)->path);
}

static int check_manifest(const char *text, size_t len, struct members *got, struct backup_manifest *ret,
                          struct error *e)
{
        json_tokener *tok = json_tokener_new_ex(64);
        json_object *o = tok ? json_tokener_parse_ex(tok, text, (int) len) : NULL;
        if (tok)
                json_tokener_free(tok);
        json_object *v, *arr;
        int r = 0;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "format", &v) ||
            !streq(json_object_get_string(v), BACKUP_FORMAT) || !json_object_object_get_ex(o, "version", &v) ||
            json_object_get_int(v) != BACKUP_VERSION || !json_object_object_get_ex(o, "members", &arr) ||
            !json_object_is_type(arr, json_type_array)) {
                r = error_set(e, -EBADMSG, "the manifest is not one of a berth export (format %s %d)", BACKUP_FORMAT,
                              BACKUP_VERSION);
                goto out;
        }
#define STR(k) (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL)
        const char *name = STR("name"), *tmpl = STR("template"), *tid = STR("template_sha256");
#undef STR
        if (!name || !name_is_valid(name) || !tmpl || !tid) {
                r = error_set(e, -EBADMSG, "the manifest names no valid container, template or template identity");
                goto out;
        }
        size_t n = json_object_array_length(arr);
        if (n != got->n) {
                r = error_set(e, -EBADMSG, "the manifest lists %zu members, the archive holds %zu: it is truncated or "
                              "was altered", n, got->n);
                goto out;
        }
        qsort(got->v, got->n, sizeof *got->v, cmp_member);
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(arr, i), *f;
                const char *path = json_object_object_get_ex(m, "path", &f) ? json_object_get_string(f) : NULL;
                struct member key = { .path = (char *) (path ? path : "") };
                struct member *g = bsearch(&key, got->v, got->n, sizeof *got->v, cmp_member);
                if (!g) {
                        r = error_set(e, -EBADMSG, "member '%s' of the manifest is not in the archive",
                                      path ? path : "?");
                        goto out;
                }
#define MSTR(k) (json_object_object_get_ex(m, k, &f) ? json_object_get_string(f) : "")
#define MNUM(k) (json_object_object_get_ex(m, k, &f) ? (uint64_t) json_object_get_int64(f) : UINT64_MAX)
                if (!streq(MSTR("type"), g->type) || MNUM("mode") != g->mode || MNUM("uid") != g->uid ||
                    MNUM("gid") != g->gid || MNUM("size") != g->size || !streq(MSTR("sha256"), g->digest)) {
                        r = error_set(e, -EBADMSG, "member '%s' does not match the manifest's checksum or "
                                      "attributes: the archive was altered or damaged", g->path);
                        goto out;
                }
#undef MSTR
#undef MNUM
        }
        ret->name = strdup(name);
        ret->template_name = strdup(tmpl);
        ret->template_id = strdup(tid);
        ret->members = n;
        if (json_object_object_get_ex(o, "snapshots", &arr) && json_object_is_type(arr, json_type_array))
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
                        if (!t || !snapshot_tag_valid(t, false)) {
                                r = error_set(e, -EBADMSG, "the manifest lists an invalid snapshot tag");
                                goto out;
                        }
                        if (strv_push(&ret->snapshot_tags, t) < 0) {
                                r = error_code(e, -ENOMEM);
                                goto out;
                        }
                }
        if (!ret->name || !ret->template_name || !ret->template_id)
                r = error_code(e, -ENOMEM);
out:
        json_object_put(o);
        return r;
}

int backup_import(int fd, const char *stage, struct backup_manifest *ret, struct error *e)
{
        *ret = (struct backup_manifest){ 0 };
        struct archive *a = archive_read_new(), *w = archive_write_disk_new();
        struct members got = { 0 };
        char *manifest = NULL;
        size_t manifest_len = 0;
        int r = 0, cwd = -1;
        if (!a || !w) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        /* Members are extracted by their own (checked, relative) names from
         * inside stage: libarchive refuses absolute paths, and a symbolic
         * link on the way, itself. */
        if ((r = extract_open(a, w, fd, stage, true, &cwd, e)) < 0)
                goto out;
        for (;;) {
                struct archive_entry *ae;
                if ((r = extract_next(a, &ae, e)) < 0)
                        goto out;
                if (r == 0)
                        break;
                const char *raw = archive_entry_pathname(ae);
                if (!raw || !*raw) {
                        r = error_set(e, -EBADMSG, "a member without a name");
                        goto out;
                }
                /* tar writes a directory's name with a trailing '/' */
                char path[PATH_MAX];
                size_t pl = strlen(raw);
                if (pl >= sizeof path) {
                        r = error_set(e, -EBADMSG, "a member's name is too long");
                        goto out;
                }
                memcpy(path, raw, pl + 1);
                while (pl > 1 && path[pl - 1] == '/')
                        path[--pl] = 0;
                if (streq(path, BACKUP_MANIFEST)) {
                        la_int64_t sz = archive_entry_size(ae);
                        if (manifest || archive_entry_filetype(ae) != AE_IFREG || sz <= 0 ||
                            (uint64_t) sz > MANIFEST_MAX) {
                                r = error_set(e, -EBADMSG, "a second or invalid %s", BACKUP_MANIFEST);
                                goto out;
                        }
                        manifest = malloc((size_t) sz + 1);
                        if (!manifest) {
                                r = error_code(e, -ENOMEM);
                                goto out;
                        }
                        la_ssize_t got_n = archive_read_data(a, manifest, (size_t) sz);
                        if (got_n != sz) {
                                r = error_set(e, -EBADMSG, "the archive is truncated in its manifest");
                                goto out;
                        }
                        manifest[sz] = 0;
                        manifest_len = (size_t) sz;
                        continue;
                }
                if (!member_path_ok(path)) {
                        r = error_set(e, -EBADMSG, "member '%s' is not one of a berth export", path);
                        goto out;
                }
                struct member *m = members_add(&got, path);
                if (!m) {
                        r = error_set(e, -ENOMEM, "too many members");
                        goto out;
                }
                mode_t mode = archive_entry_mode(ae);
                const char *hl = archive_entry_hardlink(ae);
                snprintf(m->type, sizeof m->type, "%s", hl ? "hardlink" : type_of(mode));
                m->mode = mode & 07777;
                m->uid = (unsigned) archive_entry_uid(ae);
                m->gid = (unsigned) archive_entry_gid(ae);
                if (hl) {
                        if (!member_path_ok(hl)) {
                                r = error_set(e, -EBADMSG, "member '%s' links outside the export", path);
                                goto out;
                        }
                        digest_str(hl, m->digest);
                } else if (S_ISLNK(mode))
                        digest_str(archive_entry_symlink(ae) ?: "", m->digest);
                archive_entry_set_uname(ae, NULL);
                archive_entry_set_gname(ae, NULL);
                if (archive_write_header(w, ae) != ARCHIVE_OK) {
                        r = error_set(e, -EIO, "cannot create %s: %s", path, archive_error_string(w) ?: "?");
                        goto out;
                }
                if (S_ISREG(mode) && !hl) {
                        _cleanup_(sha256_done) struct sha256 h = { 0 };
                        if (sha256_init(&h) < 0) {
                                r = error_set(e, -ENOMEM, "cannot digest %s", path);
                                goto out;
                        }
                        const void *buf;
                        size_t len;
                        la_int64_t off;
                        for (;;) {
                                int q = archive_read_data_block(a, &buf, &len, &off);
                                if (q == ARCHIVE_EOF)
                                        break;
                                if (q != ARCHIVE_OK) {
                                        r = error_set(e, -EBADMSG, "the archive is truncated or damaged in '%s': %s",
                                                      path, archive_error_string(a) ?: "?");
                                        goto out;
                                }
                                sha256_update(&h, buf, len);
                                m->size += len;
                                if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK) {
                                        r = error_set(e, -EIO, "cannot write %s: %s", path,
                                                      archive_error_string(w) ?: "?");
                                        goto out;
                                }
                        }
                        sha256_final_hex(&h, m->digest);
                }
                if (archive_write_finish_entry(w) != ARCHIVE_OK) {
                        r = error_set(e, -EIO, "cannot finish %s: %s", path, archive_error_string(w) ?: "?");
                        goto out;
                }
        }
        if (!manifest) {
                r = error_set(e, -EBADMSG, "the archive has no %s: it is truncated or not a berth export",
                              BACKUP_MANIFEST);
                goto out;
        }
        if (archive_write_close(w) != ARCHIVE_OK) {
                r = error_set(e, -EIO, "cannot finish the extraction: %s", archive_error_string(w) ?: "?");
                goto out;
        }
        r = check_manifest(manifest, manifest_len, &got, ret, e);
out:
        if (cwd >= 0) {
                if (fchdir(cwd) < 0 && r >= 0)
                        r = error_set(e, -errno, "cannot return to the working directory");
                close(cwd);
        }
        if (r < 0)
                backup_manifest_done(ret);
        free(manifest);
        members_done(&got);
        if (a)
                archive_read_free(a);
        if (w)
                archive_write_free(w);
        return r;
}

/* ---- the definition's text --------------------------------------------------------------------- */

/* Skips white space and comments from p; returns where a token begins. */
static const char *skip_space(const char *p)
{
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                        p++;
                if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
                        p = strchrnul(p, '\n');
                        continue;
                }
                if (p[0] == '/' && p[1] == '*') {
                        const char *end = strstr(p + 2, "*/");
                        p = end ? end + 2 : p + strlen(p);
                        continue;
                }
                return p;
        }
}

/* The end of the token at p: a quoted string, a brace, '=' or a word. */
static const char *token_end(const char *p)
{
        if (*p == '"' || *p == '\'') {
                char q = *p++;
                while (*p && *p != q) {
                        if (*p == '\\' && q == '"' && p[1])
                                p++;
                        p++;
                }
                return *p ? p + 1 : p;
        }
        if (*p == '{' || *p == '}' || *p == '=' || *p == ',')
                return p + 1;
        if (*p == '+' && p[1] == '=')
                return p + 2;
        while (*p && !strchr(" \t\r\n{}=,#\"'", *p) && !(p[0] == '/' && (p[1] == '/' || p[1] == '*')) &&
               !(p[0] == '+' && p[1] == '='))
                p++;
        return p;
}

static bool token_is(const char *p, const char *end, const char *word)
{
        size_t l = (size_t) (end - p);
        if (l >= 2 && (*p == '"' || *p == '\'')) {
                p++;
                l -= 2;
        }
        return l == strlen(word) && strncmp(p, word, l) == 0;
}

int backup_definition_rewrite(const char *text, const char *old_name, const char *new_name, bool drop_identity,
                              char **ret)
{
        /* find: container OLD { at depth 0 */
        int depth = 0;
        const char *p = skip_space(text), *body = NULL;
        while (*p) {
                const char *e = token_end(p);
                if (e == p)
                        e = p + 1;
                if (*p == '{')
                        depth++;
                else if (*p == '}')
                        depth--;
                else if (depth == 0 && token_is(p, e, "container")) {
                        const char *n = skip_space(e), *ne = token_end(n);
                        const char *b = skip_space(ne);
                        if (ne > n && token_is(n, ne, old_name) && *b == '{') {
                                body = b + 1;
                                break;
                        }
                }
                p = skip_space(e);
        }
        if (!body)
                return -ENOENT;
        struct strbuf out = { 0 };
        strbuf_printf(&out, "container %s {", new_name);
        depth = 1;
        const char *copied = body; /* text up to here is in out */
        p = body;
        char prev = 0; /* the last token: '=' (also for += and ','), else 'x': a key comes after a value or a brace */
        while (*p && depth > 0) {
                const char *s = skip_space(p);
                if (!*s)
                        break;
                const char *e = token_end(s);
                if (e == s)
                        e = s + 1;
                if (*s == '{')
                        depth++;
                else if (*s == '}') {
                        depth--;
                        if (depth == 0) {
                                strbuf_printf(&out, "%.*s}\n", (int) (s - copied), copied);
                                copied = e;
                                break;
                        }
                }
                bool key_pos = prev != '=';
                if (drop_identity && key_pos && (token_is(s, e, "address") || token_is(s, e, "publish"))) {
                        const char *q = skip_space(e);
                        if (*q == '=' || (q[0] == '+' && q[1] == '=')) {
                                /* drop "key = value" or "key = { ... }" */
                                q = skip_space(token_end(q));
                                const char *ve = token_end(q);
                                if (*q == '{') {
                                        int d = 1;
                                        ve = q + 1;
                                        while (*ve && d > 0) {
                                                const char *t = skip_space(ve);
                                                if (!*t) {
                                                        ve = t;
                                                        break;
                                                }
                                                const char *te = token_end(t);
                                                if (te == t)
                                                        te = t + 1;
                                                d += *t == '{' ? 1 : *t == '}' ? -1 : 0;
                                                ve = te;
                                        }
                                }
                                strbuf_printf(&out, "%.*s", (int) (s - copied), copied);
                                copied = ve;
                                p = ve;
                                prev = 0;
                                continue;
                        }
                }
                prev = *s == '=' || *s == ',' || (s[0] == '+' && s[1] == '=') ? '=' : 'x';
                p = e;
        }
        if (depth != 0 || out.error) {
                free(out.p);
                return out.error ? -ENOMEM : -EINVAL;
        }
        *ret = out.p;
        return 0;
}
