#include "image.h"

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>

#include "crashpoint.h"
#include "dl_archive.h"
#include "dl_crypto.h"
#include "state.h"
#include "util.h"

enum image_kind { KIND_OCI_ARCHIVE, KIND_OCI_DIR, KIND_DOCKER_ARCHIVE };

static const struct {
        const char *prefix;
        enum image_kind kind;
} prefixes[] = {
        { "oci-archive:", KIND_OCI_ARCHIVE },
        { "oci:", KIND_OCI_DIR },
        { "docker-archive:", KIND_DOCKER_ARCHIVE },
};

static int source_kind(const char *from, const char **rest)
{
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncmp(from, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0) {
                        *rest = from + strlen(prefixes[i].prefix);
                        return (int) prefixes[i].kind;
                }
        return -EINVAL;
}

bool image_source_is_image(const char *from)
{
        const char *rest;
        return from && source_kind(from, &rest) >= 0;
}

const char *image_source_check(const char *from)
{
        const char *rest;
        if (source_kind(from, &rest) < 0)
                return "'%s' is not an image source (use oci-archive:PATH, oci:DIR[:TAG] or docker-archive:PATH)";
        if (rest[0] != '/')
                return "'%s': the path must be absolute";
        return NULL;
}

/* Splits "PATH[:TAG]" (a tag after the last '/'). */
static int split_source(const char *rest, char **path, char **tag)
{
        const char *slash = strrchr(rest, '/');
        const char *colon = strrchr(slash ? slash : rest, ':');
        *path = colon ? strndup(rest, (size_t) (colon - rest)) : strdup(rest);
        *tag = colon && colon[1] ? strdup(colon + 1) : NULL;
        return *path && (!colon || !colon[1] || *tag) ? 0 : -ENOMEM;
}

struct image_info *image_info_free(struct image_info *i)
{
        if (!i)
                return NULL;
        free(i->name);
        free(i->source);
        strv_free(i->layers);
        strv_free(i->entrypoint);
        strv_free(i->cmd);
        strv_free(i->env);
        free(i->workdir);
        free(i->user);
        free(i->stop_signal);
        strv_free(i->exposed_ports);
        strv_free(i->dropped);
        strv_free(i->health_test);
        free(i);
        return NULL;
}

/* ---- paths ---------------------------------------------------------- */

static char *layers_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_LAYERS "/sha256", state_dir);
}

static char *images_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_IMAGES, state_dir);
}

static bool hex64(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == 64;
}

/* "sha256:HEX" → HEX, or NULL for another algorithm or a malformed digest. */
static const char *digest_hex(const char *digest)
{
        if (!digest || strncmp(digest, "sha256:", 7) != 0 || !hex64(digest + 7))
                return NULL;
        return digest + 7;
}

static int openat2_in_root(int root, const char *path, int flags);

/* ---- digests (libcrypto) --------------------------------------------- */

static void hex_of(const unsigned char *md, char out[65])
{
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int sha256_file(int dirfd, const char *path, char out[65], uint64_t *size)
{
        _cleanup_close_ int fd = openat2_in_root(dirfd, path, O_RDONLY | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        _cleanup_free_ char *buf = malloc(1 << 16);
        uint64_t total = 0;
        int r = buf ? 0 : -ENOMEM;
        while (r >= 0) {
                ssize_t n = read(fd, buf, 1 << 16);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                total += (uint64_t) n;
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        }
        unsigned char md[32];
        unsigned len = 0;
        if (r >= 0 && EVP_DigestFinal_ex(ctx, md, &len) != 1)
                r = -EIO;
        EVP_MD_CTX_free(ctx);
        if (r < 0)
                return r;
        hex_of(md, out);
        if (size)
                *size = total;
        return 0;
}

/* ---- entry paths ---------------------------------------------------- */

/* The path of an archive entry relative to the root it is unpacked into,
 * or NULL when it is absolute or has a ".." component (a path escaping
 * the root). "./a/b" → "a/b"; "." and "./" → "". */
static const char *entry_path_ok(const char *p)
{
        if (!p || p[0] == '/')
                return NULL;
        while (p[0] == '.' && p[1] == '/')
                for (p += 2; *p == '/'; p++)
                        ;
        if (streq(p, "."))
                return "";
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return NULL;
                c += n;
                while (*c == '/')
                        c++;
        }
        return p;
}

static int openat2_in_root(int root, const char *path, int flags)
{
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int) syscall(SYS_openat2, root, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* Opens directory rel below root, making missing components (0755), and
 * never through a symlink: -ENOTDIR / -ELOOP for one. */
static int open_dir_below(int root, const char *rel)
{
        int fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        char comp[NAME_MAX + 1];
        for (const char *c = rel; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || n > NAME_MAX) {
                        c += n ? n : 1;
                        if (n > NAME_MAX) {
                                close(fd);
                                return -ENAMETOOLONG;
                        }
                        continue;
                }
                memcpy(comp, c, n);
                comp[n] = 0;
                c += n;
                if (streq(comp, ".")) {
                        continue;
                }
                if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int r = -errno;
                close(fd);
                if (next < 0)
                        return r;
                fd = next;
        }
        return fd;
}

/* ---- unpacking ------------------------------------------------------ */

struct unpack {
        const char *what;          /* "layer sha256:..." or "archive", for messages */
        bool layer;                /* whiteouts, special files and lower checks apply */
        int root;                  /* the directory being filled */
        const int *lowers;         /* the image's layers below this one, top first (fds) */
        size_t n_lowers;
        unsigned devices_dropped;
        unsigned setuid_cleared;
        char **dropped;            /* "LAYER: PATH: what was done" (at most IMAGE_DROPPED_MAX) */
        uint64_t bytes;
        /* The decompressed stream's digest (diff id). */
        struct archive *raw;
        EVP_MD_CTX *md;
        char buf[1 << 16];
};

/* Whether rel exists in the layers below (the first that has it, or a
 * whiteout of it, decides). */
static bool exists_below(const struct unpack *u, const char *rel)
{
        for (size_t i = 0; i < u->n_lowers; i++) {
                _cleanup_close_ int fd = openat2_in_root(u->lowers[i], rel, O_PATH | O_NOFOLLOW);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0)
                        continue;
                return !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        }
        return false;
}

/* An OCI whiteout entry (basename ".wh.NAME" or ".wh..wh..opq") as an
 * overlayfs one: a 0:0 character device NAME, or the opaque xattr on the
 * directory. */
static int apply_whiteout(struct unpack *u, const char *rel, struct error *e)
{
        const char *slash = strrchr(rel, '/');
        const char *base = slash ? slash + 1 : rel;
        _cleanup_free_ char *parent = slash ? strndup(rel, (size_t) (slash - rel)) : strdup("");
        if (!parent)
                return error_code(e, -ENOMEM);
        _cleanup_close_ int dfd = open_dir_below(u->root, parent);
        if (dfd < 0)
                return error_set(e, dfd, "%s: whiteout '%s': its directory", u->what, rel);
        if (streq(base, ".wh..wh..opq")) {
                if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return error_set(e, -errno, "%s: opaque directory '%s'", u->what, parent);
                return 0;
        }
        const char *victim = base + 4;
        if (!*victim || streq(victim, ".") || streq(victim, ".."))
                return error_set(e, 0, "%s: whiteout '%s' names no file", u->what, rel);
        _cleanup_free_ char *victim_rel = slash ? strdup_printf("%s/%s", parent, victim) : strdup(victim);
        if (!victim_rel)
                return error_code(e, -ENOMEM);
        if (!exists_below(u, victim_rel))
                return error_set(e, 0, "%s: whiteout for a missing file '%s' (no layer below has it)", u->what,
                                 victim_rel);
        (void) unlinkat(dfd, victim, 0);
        if (mknodat(dfd, victim, S_IFCHR | 0000, makedev(0, 0)) < 0)
                return error_set(e, -errno, "%s: whiteout '%s'", u->what, victim_rel);
        return 0;
}

/* What the import neutralised, for the record and for stderr (an image
 * for an idmapped container, or any other, never brings a device node or
 * a setuid file into the store). */
static void note_dropped(struct unpack *u, const char *rel, const char *what)
{
        if (!u->layer)
                return;
        fprintf(stderr, "berth: %s: '%s': %s\n", u->what, rel, what);
        if (strv_length(u->dropped) >= IMAGE_DROPPED_MAX)
                return;
        const char *layer = strstr(u->what, "layer ");
        _cleanup_free_ char *s = strdup_printf("%s: %s: %s", layer ? layer + 6 : u->what, rel, what);
        if (s && (u->dropped || (u->dropped = calloc(1, sizeof(char *)))))
                (void) strv_push(&u->dropped, s);
}

static la_ssize_t raw_read(struct archive *a, void *data, const void **buf)
{
        (void) a;
        struct unpack *u = data;
        la_ssize_t n = archive_read_data(u->raw, u->buf, sizeof u->buf);
        if (n > 0)
                EVP_DigestUpdate(u->md, u->buf, (size_t) n);
        *buf = u->buf;
        return n;
}

/* Unpacks the tar stream of reader a into u->root (the process's working
 * directory, so that libarchive's secure-path checks are relative to it). */
static int unpack_entries(struct unpack *u, struct archive *a, struct error *e)
{
        struct archive *w = archive_write_disk_new();
        if (!w)
                return error_code(e, -ENOMEM);
        int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
        if (u->layer)
                flags |= ARCHIVE_EXTRACT_OWNER;
        archive_write_disk_set_options(w, flags);
        int r = 0;
        struct archive_entry *ent;
        for (;;) {
                int h = archive_read_next_header(a, &ent);
                if (h == ARCHIVE_EOF)
                        break;
                if (h < ARCHIVE_WARN) {
                        r = error_set(e, 0, "%s: not a readable tar archive: %s", u->what, archive_error_string(a));
                        break;
                }
                const char *name = archive_entry_pathname(ent);
                const char *rel = entry_path_ok(name);
                if (!rel) {
                        r = error_set(e, 0, "%s: path '%s' escapes the root (absolute or '..')", u->what,
                                      name ? name : "(none)");
                        break;
                }
                const char *link = archive_entry_hardlink(ent);
                if (link && (!entry_path_ok(link) || !*entry_path_ok(link))) {
                        r = error_set(e, 0, "%s: hard link '%s' to '%s' outside the root", u->what, rel, link);
                        break;
                }
                if (!*rel) {
                        (void) archive_read_data_skip(a);
                        continue;
                }
                mode_t type = archive_entry_filetype(ent);
                const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
                if (!u->layer && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
                        r = error_set(e, 0, "%s: '%s' is not a file, directory or symlink", u->what, rel);
                        break;
                }
                if (u->layer && strncmp(base, ".wh.", 4) == 0) {
                        r = apply_whiteout(u, rel, e);
                        if (r < 0)
                                break;
                        (void) archive_read_data_skip(a);
                        continue;
                }
                if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK) {
                        u->devices_dropped++;
                        note_dropped(u, rel, type == AE_IFSOCK ? "socket dropped" : "device node dropped");
                        (void) archive_read_data_skip(a);
                        continue;
                }
                archive_entry_set_pathname(ent, rel);
                if (link)
                        archive_entry_set_hardlink(ent, entry_path_ok(link));
                if (type == AE_IFREG && (archive_entry_perm(ent) & (S_ISUID | S_ISGID))) {
                        u->setuid_cleared++;
                        note_dropped(u, rel, "setuid/setgid bit cleared");
                }
                archive_entry_set_perm(ent, archive_entry_perm(ent) & ~(mode_t) (S_ISUID | S_ISGID));
                archive_entry_xattr_clear(ent);
                if (type == AE_IFREG && !link)
                        u->bytes += (uint64_t) archive_entry_size(ent);
                int wr = archive_write_header(w, ent);
                if (wr < ARCHIVE_WARN) {
                        r = error_set(e, 0, "%s: cannot unpack '%s': %s", u->what, rel, archive_error_string(w));
                        break;
                }
                if (archive_entry_size(ent) > 0 && !link) {
                        const void *buf;
                        size_t size;
                        la_int64_t off;
                        int dr;
                        while ((dr = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
                                if (archive_write_data_block(w, buf, size, off) < ARCHIVE_WARN) {
                                        dr = ARCHIVE_FATAL;
                                        break;
                                }
                        if (dr != ARCHIVE_EOF) {
                                r = error_set(e, 0, "%s: cannot unpack '%s': %s", u->what, rel,
                                              archive_error_string(a) ? archive_error_string(a)
                                                                      : archive_error_string(w));
                                break;
                        }
                }
                if (archive_write_finish_entry(w) < ARCHIVE_WARN) {
                        r = error_set(e, 0, "%s: cannot unpack '%s': %s", u->what, rel, archive_error_string(w));
                        break;
                }
        }
        /* Directory times and modes are set here (libarchive defers them). */
        if (archive_write_close(w) < ARCHIVE_WARN && r >= 0)
                r = error_set(e, 0, "%s: %s", u->what, archive_error_string(w));
        archive_write_free(w);
        return r;
}

/* Unpacks archive file src (any compression libarchive knows) into the
 * empty directory dest. For a layer, the decompressed stream's sha256 must
 * be want_diff (hex). The working directory is dest while it runs. */
static int unpack_file(struct unpack *u, int src_fd, const char *src, const char *dest, const char *want_diff,
                       struct error *e)
{
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cwd < 0 || root < 0)
                return error_set(e, -errno, "%s: cannot open %s", u->what, dest);
        u->root = root;
        struct archive *raw = archive_read_new(), *a = archive_read_new();
        u->md = EVP_MD_CTX_new();
        int r = 0;
        if (!raw || !a || !u->md || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        archive_read_support_filter_all(raw);
        archive_read_support_format_raw(raw);
        archive_read_support_format_tar(a);
        struct archive_entry *ent;
        if (archive_read_open_fd(raw, src_fd, 1 << 16) != ARCHIVE_OK ||
            archive_read_next_header(raw, &ent) != ARCHIVE_OK) {
                r = error_set(e, 0, "%s: cannot read %s: %s", u->what, src, archive_error_string(raw));
                goto out;
        }
        u->raw = raw;
        if (archive_read_open(a, u, NULL, raw_read, NULL) != ARCHIVE_OK) {
                r = error_set(e, 0, "%s: not a readable tar archive: %s", u->what, archive_error_string(a));
                goto out;
        }
        if (fchdir(root) < 0) {
                r = error_set(e, -errno, "%s: cannot enter %s", u->what, dest);
                goto out;
        }
        r = unpack_entries(u, a, e);
        if (fchdir(cwd) < 0 && r >= 0)
                r = error_set(e, -errno, "cannot return to the working directory");
        if (r < 0)
                goto out;
        /* The rest of the stream (tar's end blocks, padding) counts too. */
        la_ssize_t n;
        while ((n = archive_read_data(raw, u->buf, sizeof u->buf)) > 0)
                EVP_DigestUpdate(u->md, u->buf, (size_t) n);
        if (n < 0) {
                r = error_set(e, 0, "%s: corrupted: %s", u->what, archive_error_string(raw));
                goto out;
        }
        if (want_diff) {
                unsigned char md[32];
                unsigned len;
                char got[65];
                EVP_DigestFinal_ex(u->md, md, &len);
                hex_of(md, got);
                if (!streq(got, want_diff))
                        r = error_set(e, 0, "%s: digest mismatch: the content is sha256:%s", u->what, got);
        }
out:
        if (a)
                archive_read_free(a);
        if (raw)
                archive_read_free(raw);
        EVP_MD_CTX_free(u->md);
        u->md = NULL;
        return r;
}

/* ---- manifests ------------------------------------------------------ */

static int read_json(int dirfd, const char *path, const char *what, struct json_object **ret, struct error *e)
{
        _cleanup_close_ int fd = openat2_in_root(dirfd, path, O_RDONLY | O_NOFOLLOW);
        if (fd < 0)
                return error_set(e, fd, "%s: cannot open %s", what, path);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_fd(fd, IMAGE_JSON_MAX, &text, &len);
        if (r < 0)
                return error_set(e, r, "%s: cannot read %s", what, path);
        struct json_object *o = json_tokener_parse(text);
        if (!o || (!json_object_is_type(o, json_type_object) && !json_object_is_type(o, json_type_array))) {
                json_object_put(o);
                return error_set(e, 0, "%s: %s is not JSON", what, path);
        }
        *ret = o;
        return 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *key, json_type type)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

/* A blob of an OCI layout, verified against its descriptor: blobs/sha256/HEX. */
static int verify_blob(int layout, struct json_object *desc, const char *what, char **ret_path, struct error *e)
{
        const char *digest = jstr(desc, "digest");
        const char *hex = digest_hex(digest);
        if (!hex)
                return error_set(e, 0, "%s: digest '%s' is not sha256:HEX", what, digest ? digest : "(none)");
        _cleanup_free_ char *path = strdup_printf("blobs/sha256/%s", hex);
        if (!path)
                return error_code(e, -ENOMEM);
        char got[65];
        uint64_t size = 0;
        int r = sha256_file(layout, path, got, &size);
        if (r < 0)
                return error_set(e, r, "%s: blob %s", what, digest);
        if (!streq(got, hex))
                return error_set(e, 0, "%s: digest mismatch: blob %s has sha256:%s", what, digest, got);
        struct json_object *sz = jget(desc, "size", json_type_int);
        if (sz && (uint64_t) json_object_get_int64(sz) != size)
                return error_set(e, 0, "%s: blob %s is %llu bytes, its descriptor says %lld", what, digest,
                                 (unsigned long long) size, (long long) json_object_get_int64(sz));
        *ret_path = TAKE_PTR(path);
        return 0;
}

static const char *goarch(void)
{
        struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        if (streq(u.machine, "x86_64"))
                return "amd64";
        if (streq(u.machine, "aarch64"))
                return "arm64";
        if (streq(u.machine, "i686") || streq(u.machine, "i386"))
                return "386";
        return "amd64";
}

/* The parts of an image whatever its format: the config and the layer
 * files (paths below the layout, base first) with their diff ids. */
struct parts {
        struct json_object *config;
        char **layer_paths;
        char **diff_ids;
};

static void parts_done(struct parts *p)
{
        json_object_put(p->config);
        strv_free(p->layer_paths);
        strv_free(p->diff_ids);
}

static int config_diff_ids(struct parts *p, const char *what, struct error *e)
{
        struct json_object *ids = jget(jget(p->config, "rootfs", json_type_object), "diff_ids", json_type_array);
        if (!ids)
                return error_set(e, 0, "%s: the config has no rootfs.diff_ids", what);
        size_t n = json_object_array_length(ids);
        if (n > IMAGE_LAYERS_MAX)
                return error_set(e, 0, "%s: %zu layers (at most %d)", what, n, IMAGE_LAYERS_MAX);
        p->diff_ids = calloc(1, sizeof(char *));
        for (size_t i = 0; p->diff_ids && i < n; i++) {
                const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
                if (!digest_hex(d))
                        return error_set(e, 0, "%s: diff id '%s' is not sha256:HEX", what, d ? d : "(none)");
                if (strv_push(&p->diff_ids, d) < 0)
                        return error_code(e, -ENOMEM);
        }
        return p->diff_ids ? 0 : error_code(e, -ENOMEM);
}

static int read_oci(int layout, const char *tag, const char *what, struct parts *p, struct error *e)
{
        struct json_object *index = NULL;
        _cleanup_free_ char *cpath = NULL;
        int r = read_json(layout, "index.json", what, &index, e);
        if (r < 0)
                return r;
        struct json_object *mans = jget(index, "manifests", json_type_array);
        struct json_object *pick = NULL;
        size_t n = mans ? json_object_array_length(mans) : 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *d = json_object_array_get_idx(mans, i);
                const char *ref = jstr(jget(d, "annotations", json_type_object), "org.opencontainers.image.ref.name");
                if (tag ? streq_ptr(ref, tag) : n == 1)
                        pick = d;
        }
        if (!pick) {
                r = error_set(e, 0, tag ? "%s: no image tagged '%s' in index.json" :
                                          "%s: index.json names %s%zu images (name one with :TAG)",
                              what, tag ? tag : "", n);
                goto out;
        }
        struct json_object *man = NULL;
        for (int depth = 0; depth < 2; depth++) {
                _cleanup_free_ char *path = NULL;
                r = verify_blob(layout, pick, what, &path, e);
                if (r < 0)
                        goto out;
                json_object_put(man);
                man = NULL;
                r = read_json(layout, path, what, &man, e);
                if (r < 0)
                        goto out;
                struct json_object *list = jget(man, "manifests", json_type_array);
                if (!list)
                        break;
                /* An image index: the entry for this machine. */
                pick = NULL;
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        struct json_object *d = json_object_array_get_idx(list, i);
                        struct json_object *pl = jget(d, "platform", json_type_object);
                        if (streq_ptr(jstr(pl, "os"), "linux") && streq_ptr(jstr(pl, "architecture"), goarch()))
                                pick = d;
                }
                if (!pick) {
                        r = error_set(e, 0, "%s: no image for linux/%s in the index", what, goarch());
                        goto out_man;
                }
        }
        r = verify_blob(layout, jget(man, "config", json_type_object), what, &cpath, e);
        if (r < 0)
                goto out_man;
        r = read_json(layout, cpath, what, &p->config, e);
        if (r < 0)
                goto out_man;
        r = config_diff_ids(p, what, e);
        if (r < 0)
                goto out_man;
        struct json_object *layers = jget(man, "layers", json_type_array);
        size_t nl = layers ? json_object_array_length(layers) : 0;
        if (nl != strv_length(p->diff_ids)) {
                r = error_set(e, 0, "%s: %zu layers in the manifest, %zu diff ids in the config", what, nl,
                              strv_length(p->diff_ids));
                goto out_man;
        }
        p->layer_paths = calloc(1, sizeof(char *));
        for (size_t i = 0; p->layer_paths && i < nl; i++) {
                _cleanup_free_ char *lw = strdup_printf("%s: layer %s", what, p->diff_ids[i]);
                _cleanup_free_ char *path = NULL;
                r = verify_blob(layout, json_object_array_get_idx(layers, i), lw ? lw : what, &path, e);
                if (r < 0)
                        goto out_man;
                if (strv_push(&p->layer_paths, path) < 0)
                        break;
        }
        if (!p->layer_paths || strv_length(p->layer_paths) != nl)
                r = error_code(e, -ENOMEM);
out_man:
        json_object_put(man);
out:
        json_object_put(index);
        return r;
}

static int read_docker(int root, const char *tag, const char *what, struct parts *p, struct error *e)
{
        struct json_object *list = NULL;
        int r = read_json(root, "manifest.json", what, &list, e);
        if (r < 0)
                return r;
        struct json_object *pick = NULL;
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *m = json_object_array_get_idx(list, i);
                struct json_object *tags = jget(m, "RepoTags", json_type_array);
                bool match = !tag && n == 1;
                for (size_t j = 0; tag && tags && j < json_object_array_length(tags); j++) {
                        const char *t = json_object_get_string(json_object_array_get_idx(tags, j));
                        const char *c = t ? strrchr(t, ':') : NULL;
                        match |= streq_ptr(t, tag) || (c && streq(c + 1, tag));
                }
                if (match)
                        pick = m;
        }
        if (!pick) {
                r = error_set(e, 0, tag ? "%s: no image tagged '%s' in manifest.json" :
                                          "%s: manifest.json names %s%zu images (name one with :TAG)",
                              what, tag ? tag : "", n);
                goto out;
        }
        const char *cpath = jstr(pick, "Config");
        const char *crel = entry_path_ok(cpath);
        if (!crel || !*crel) {
                r = error_set(e, 0, "%s: Config '%s' is not a path in the archive", what, cpath ? cpath : "(none)");
                goto out;
        }
        /* The config's file is named by its digest (HEX.json or blobs/sha256/HEX). */
        const char *b = strrchr(crel, '/') ? strrchr(crel, '/') + 1 : crel;
        char want[65] = "", got[65];
        if (strlen(b) >= 64)
                snprintf(want, sizeof want, "%.64s", b);
        if (hex64(want)) {
                r = sha256_file(root, crel, got, NULL);
                if (r < 0) {
                        r = error_set(e, r, "%s: config %s", what, crel);
                        goto out;
                }
                if (!streq(got, want)) {
                        r = error_set(e, 0, "%s: digest mismatch: config %s has sha256:%s", what, crel, got);
                        goto out;
                }
        }
        r = read_json(root, crel, what, &p->config, e);
        if (r < 0)
                goto out;
        r = config_diff_ids(p, what, e);
        if (r < 0)
                goto out;
        struct json_object *layers = jget(pick, "Layers", json_type_array);
        size_t nl = layers ? json_object_array_length(layers) : 0;
        if (nl != strv_length(p->diff_ids)) {
                r = error_set(e, 0, "%s: %zu layers in manifest.json, %zu diff ids in the config", what, nl,
                              strv_length(p->diff_ids));
                goto out;
        }
        p->layer_paths = calloc(1, sizeof(char *));
        for (size_t i = 0; p->layer_paths && i < nl; i++) {
                const char *l = json_object_get_string(json_object_array_get_idx(layers, i));
                const char *lrel = entry_path_ok(l);
                if (!lrel || !*lrel) {
                        r = error_set(e, 0, "%s: layer '%s' is not a path in the archive", what, l ? l : "(none)");
                        goto out;
                }
                if (strv_push(&p->layer_paths, lrel) < 0)
                        break;
        }
        if (!p->layer_paths || strv_length(p->layer_paths) != nl)
                r = error_code(e, -ENOMEM);
        /* Each layer's digest is its diff id: checked while it is unpacked. */
out:
        json_object_put(list);
        return r;
}

/* ---- the record ----------------------------------------------------- */

/* What an import did, over its layers. */
struct import_totals {
        uint64_t bytes;
        unsigned devices_dropped, setuid_cleared;
        char **dropped;
};


static struct json_object *jstrv(struct json_object *cfg, const char *key)
{
        struct json_object *v = jget(cfg, key, json_type_array);
        return v ? json_object_get(v) : NULL;
}

static char *record_text(const char *name, const char *from, struct parts *p, const struct import_totals *tot)
{
        struct json_object *o = json_object_new_object(), *layers = json_object_new_array();
        if (!o || !layers) {
                json_object_put(o);
                json_object_put(layers);
                return NULL;
        }
        struct json_object *cfg = jget(p->config, "config", json_type_object);
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "source", json_object_new_string(from));
        for (size_t i = 0; p->diff_ids[i]; i++)
                json_object_array_add(layers, json_object_new_string(p->diff_ids[i]));
        json_object_object_add(o, "layers", layers);
        const char *strv_keys[] = { "Entrypoint", "Cmd", "Env" };
        for (size_t i = 0; i < ELEMENTSOF(strv_keys); i++) {
                struct json_object *v = jstrv(cfg, strv_keys[i]);
                if (v)
                        json_object_object_add(o, strv_keys[i], v);
        }
        const char *str_keys[] = { "WorkingDir", "User", "StopSignal" };
        for (size_t i = 0; i < ELEMENTSOF(str_keys); i++) {
                const char *v = jstr(cfg, str_keys[i]);
                if (v && *v)
                        json_object_object_add(o, str_keys[i], json_object_new_string(v));
        }
        struct json_object *ports = jget(cfg, "ExposedPorts", json_type_object), *pl = json_object_new_array();
        if (ports && pl) {
                json_object_object_foreach(ports, k, v)
                {
                        (void) v;
                        json_object_array_add(pl, json_object_new_string(k));
                }
        }
        json_object_object_add(o, "ExposedPorts", pl);
        /* What this import unpacked: 0 when every layer was in the store. */
        json_object_object_add(o, "unpacked-bytes", json_object_new_int64((int64_t) tot->bytes));
        json_object_object_add(o, "special-files", json_object_new_string("dropped"));
        json_object_object_add(o, "devices-dropped", json_object_new_int((int) tot->devices_dropped));
        json_object_object_add(o, "setuid-cleared", json_object_new_int((int) tot->setuid_cleared));
        struct json_object *dl = json_object_new_array();
        for (size_t i = 0; dl && tot->dropped && tot->dropped[i]; i++)
                json_object_array_add(dl, json_object_new_string(tot->dropped[i]));
        json_object_object_add(o, "dropped", dl);
        /* Healthcheck as the config has it (durations in nanoseconds). */
        struct json_object *hc = jget(cfg, "Healthcheck", json_type_object);
        if (hc)
                json_object_object_add(o, "Healthcheck", json_object_get(hc));
        char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        json_object_put(o);
        return text;
}

static char **strv_of(struct json_object *o, const char *key)
{
        struct json_object *a = jget(o, key, json_type_array);
        if (!a)
                return NULL;
        char **v = calloc(1, sizeof(char *));
        for (size_t i = 0; v && i < json_object_array_length(a); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(a, i));
                if (s && strv_push(&v, s) < 0)
                        return strv_free(v);
        }
        return v;
}

static char *str_of(struct json_object *o, const char *key)
{
        const char *s = jstr(o, key);
        return s ? strdup(s) : NULL;
}

/* A Healthcheck duration (nanoseconds) in microseconds; 0 when unset or
 * not a positive number. */
static uint64_t ns_usec(struct json_object *hc, const char *key)
{
        struct json_object *v = jget(hc, key, json_type_int);
        int64_t ns = v ? json_object_get_int64(v) : 0;
        return ns > 0 ? (uint64_t) ns / 1000 : 0;
}

int image_read(const char *state_dir, const char *name, struct image_info **ret)
{
        if (!name_is_valid(name))
                return -EINVAL;
        _cleanup_free_ char *dir = images_dir(state_dir);
        if (!dir)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? -ENOENT : -errno;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_at(dfd, name, IMAGE_JSON_MAX, &text, &len);
        if (r < 0)
                return r;
        struct json_object *o = json_tokener_parse(text);
        struct image_info *i = calloc(1, sizeof *i);
        if (!o || !i) {
                json_object_put(o);
                free(i);
                return o ? -ENOMEM : -EBADMSG;
        }
        i->name = strdup(name);
        i->source = str_of(o, "source");
        i->layers = strv_of(o, "layers");
        i->entrypoint = strv_of(o, "Entrypoint");
        i->cmd = strv_of(o, "Cmd");
        i->env = strv_of(o, "Env");
        i->workdir = str_of(o, "WorkingDir");
        i->user = str_of(o, "User");
        i->stop_signal = str_of(o, "StopSignal");
        i->exposed_ports = strv_of(o, "ExposedPorts");
        struct json_object *b = jget(o, "unpacked-bytes", json_type_int);
        i->bytes = b ? (uint64_t) json_object_get_int64(b) : 0;
        struct json_object *dd = jget(o, "devices-dropped", json_type_int);
        i->devices_dropped = dd ? (unsigned) json_object_get_int(dd) : 0;
        struct json_object *sc = jget(o, "setuid-cleared", json_type_int);
        i->setuid_cleared = sc ? (unsigned) json_object_get_int(sc) : 0;
        i->dropped = strv_of(o, "dropped");
        struct json_object *hc = jget(o, "Healthcheck", json_type_object);
        if (hc) {
                i->health_test = strv_of(hc, "Test");
                i->health_interval = ns_usec(hc, "Interval");
                i->health_timeout = ns_usec(hc, "Timeout");
                i->health_start_period = ns_usec(hc, "StartPeriod");
                struct json_object *re = jget(hc, "Retries", json_type_int);
                i->health_retries = re && json_object_get_int64(re) > 0 && json_object_get_int64(re) < 1000000
                                            ? (unsigned) json_object_get_int64(re)
                                            : 0;
        }
        json_object_put(o);
        if (!i->name || !i->source || !i->layers) {
                image_info_free(i);
                return -EBADMSG;
        }
        for (size_t k = 0; i->layers[k]; k++)
                if (!digest_hex(i->layers[k])) {
                        image_info_free(i);
                        return -EBADMSG;
                }
        *ret = i;
        return 0;
}

int image_lowerdir(const char *state_dir, const struct image_info *i, char **ret)
{
        _cleanup_free_ char *dir = layers_dir(state_dir);
        if (!dir)
                return -ENOMEM;
        if (strchr(dir, ':') || strchr(dir, ','))
                return -EINVAL; /* overlayfs would split the option there */
        struct strbuf b = { 0 };
        size_t n = strv_length(i->layers);
        if (n == 0)
                return -EBADMSG;
        for (size_t k = n; k-- > 0;) {
                _cleanup_free_ char *p = strdup_printf("%s/%s", dir, digest_hex(i->layers[k]));
                struct stat st;
                if (!p) {
                        free(b.p);
                        return -ENOMEM;
                }
                if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        free(b.p);
                        return -ENOENT;
                }
                strbuf_printf(&b, "%s%s", k == n - 1 ? "" : ":", p);
        }
        if (b.error || !b.p) {
                free(b.p);
                return b.error ? b.error : -ENOMEM;
        }
        *ret = b.p;
        return 0;
}

/* ---- import --------------------------------------------------------- */

static int lock_store(const char *state_dir)
{
        _cleanup_free_ char *dir = strdup_printf("%s/" STATE_LAYERS, state_dir);
        return dir ? lock_dir(dir) : -ENOMEM;
}

/* What a berthd that died in an import left: the temporary trees beside
 * the store (we hold the store's lock, so none is in use). */
static void remove_leftovers(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, ".tmp-", 5) == 0) {
                        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, de->d_name);
                        if (p)
                                (void) rm_rf(p);
                }
        closedir(d);
}

/* Unpacks the layer at src into the store unless diff id is there: 1
 * when it unpacked it, 0 when it was there. */
static int store_layer(const char *store, int layout, const char *src, const char *diff_id, const int *lowers,
                       size_t n_lowers, const char *image, struct import_totals *tot, struct error *e)
{
        const char *hex = digest_hex(diff_id);
        _cleanup_free_ char *final = strdup_printf("%s/%s", store, hex);
        _cleanup_free_ char *tmp = strdup_printf("%s/.tmp-%s.%d", store, hex, (int) getpid());
        if (!final || !tmp)
                return error_code(e, -ENOMEM);
        struct stat st;
        if (lstat(final, &st) == 0 && S_ISDIR(st.st_mode))
                return 0;
        char what[NAME_MAX + 128];
        snprintf(what, sizeof what, "image '%s': layer %s", image, diff_id);
        /* Symlinks in the layout resolve inside it. */
        _cleanup_close_ int fd = openat2_in_root(layout, src, O_RDONLY);
        if (fd < 0)
                return error_set(e, fd, "%s: cannot open %s", what, src);
        if (mkdir(tmp, 0755) < 0)
                return error_set(e, -errno, "cannot create %s", tmp);
        struct unpack *u = calloc(1, sizeof *u);
        if (!u) {
                (void) rm_rf(tmp);
                return error_code(e, -ENOMEM);
        }
        u->what = what;
        u->layer = true;
        u->lowers = lowers;
        u->n_lowers = n_lowers;
        int r = unpack_file(u, fd, src, tmp, hex, e);
        tot->bytes += u->bytes;
        tot->devices_dropped += u->devices_dropped;
        tot->setuid_cleared += u->setuid_cleared;
        for (size_t k = 0; u->dropped && u->dropped[k] && strv_length(tot->dropped) < IMAGE_DROPPED_MAX; k++)
                if (tot->dropped || (tot->dropped = calloc(1, sizeof(char *))))
                        (void) strv_push(&tot->dropped, u->dropped[k]);
        strv_free(u->dropped);
        free(u);
        if (r >= 0 && chmod(tmp, 0755) < 0)
                r = error_set(e, -errno, "cannot chmod %s", tmp);
        if (r >= 0) {
                /* The tree on disk before its name says it is whole. */
                _cleanup_close_ int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (tfd >= 0)
                        (void) syncfs(tfd);
                crashpoint_env("import-layer-unpacked");
        }
        if (r >= 0 && rename(tmp, final) < 0)
                r = error_set(e, -errno, "cannot rename %s into place", tmp);
        if (r >= 0)
                crashpoint_env("import-layer-placed");
        if (r < 0)
                (void) rm_rf(tmp);
        return r < 0 ? r : 1;
}

static int import_locked(const char *state_dir, const char *name, const char *from, bool replace,
                         struct error *e)
{
        const char *rest;
        int kind = source_kind(from, &rest);
        if (kind < 0)
                return error_set(e, 0, "'%s' is not an image source (use oci-archive:PATH, oci:DIR[:TAG] or "
                                       "docker-archive:PATH)", from);
        _cleanup_free_ char *path = NULL, *tag = NULL;
        if (split_source(rest, &path, &tag) < 0)
                return error_code(e, -ENOMEM);
        _cleanup_free_ char *store = layers_dir(state_dir);
        _cleanup_free_ char *idir = images_dir(state_dir);
        if (!store || !idir)
                return error_code(e, -ENOMEM);
        int r = mkdir_p(store, 0700);
        if (r >= 0)
                r = mkdir_p(idir, 0700);
        if (r < 0)
                return error_set(e, r, "cannot create %s", store);
        remove_leftovers(store);
        struct stat st;
        _cleanup_free_ char *rec = strdup_printf("%s/%s", idir, name);
        if (!rec)
                return error_code(e, -ENOMEM);
        if (!replace && lstat(rec, &st) == 0)
                return -EEXIST;

        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "image '%s' (%s)", name, from);
        /* An archive is unpacked beside the store first (files and
         * directories only, every path checked), then read as a layout. */
        _cleanup_free_ char *outer = NULL, *text = NULL;
        _cleanup_close_ int layout = -1, sfd = -1, ifd = -1;
        struct parts p = { 0 };
        struct import_totals tot = { 0 }; /* before the first goto out */
        size_t added[IMAGE_LAYERS_MAX], n_added = 0; /* layers this import put in the store */
        if (kind == KIND_OCI_DIR) {
                layout = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (layout < 0)
                        return error_set(e, -errno, "%s: cannot open the layout", what);
        } else {
                if (stat(path, &st) < 0)
                        return error_set(e, -errno, "%s", what);
                if (!S_ISREG(st.st_mode))
                        return error_set(e, 0, "%s: not a file", what);
                outer = strdup_printf("%s/.tmp-archive.%d", store, (int) getpid());
                if (!outer)
                        return error_code(e, -ENOMEM);
                if (mkdir(outer, 0700) < 0)
                        return error_set(e, -errno, "cannot create %s", outer);
                struct unpack *u = calloc(1, sizeof *u);
                if (!u) {
                        r = error_code(e, -ENOMEM);
                        goto out;
                }
                u->what = what;
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? error_set(e, -errno, "%s", what) : unpack_file(u, fd, path, outer, NULL, e);
                free(u);
                if (r < 0)
                        goto out;
                layout = open(outer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (layout < 0) {
                        r = error_set(e, -errno, "cannot open %s", outer);
                        goto out;
                }
        }
        r = kind == KIND_DOCKER_ARCHIVE ? read_docker(layout, tag, what, &p, e) : read_oci(layout, tag, what, &p, e);
        if (r < 0)
                goto out;
        size_t n = strv_length(p.diff_ids);
        for (size_t i = 0; i < n; i++) {
                /* The layers below, top first, for the whiteouts' check. */
                int lowers[IMAGE_LAYERS_MAX];
                size_t nl = 0;
                for (size_t k = 0; k < i; k++) {
                        _cleanup_free_ char *lp = strdup_printf("%s/%s", store, digest_hex(p.diff_ids[i - 1 - k]));
                        int fd = lp ? open(lp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
                        if (fd >= 0)
                                lowers[nl++] = fd;
                }
                r = store_layer(store, layout, p.layer_paths[i], p.diff_ids[i], lowers, nl, name, &tot, e);
                for (size_t k = 0; k < nl; k++)
                        close(lowers[k]);
                if (r > 0)
                        added[n_added++] = i;
                if (r < 0)
                        goto out;
        }
        /* The layers are on disk before a record names them. */
        sfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd >= 0)
                (void) syncfs(sfd);
        text = record_text(name, from, &p, &tot);
        ifd = open(idir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (!text)
                r = error_code(e, -ENOMEM);
        else if (ifd < 0)
                r = error_set(e, -errno, "cannot open %s", idir);
        else {
                r = write_file_atomic(ifd, name, text, strlen(text), 0600);
                if (r < 0)
                        r = error_set(e, r, "cannot write %s", rec);
        }
out:
        /* A failed import takes back the layers it added: no record names them. */
        for (size_t k = 0; r < 0 && k < n_added; k++) {
                _cleanup_free_ char *lp = strdup_printf("%s/%s", store, digest_hex(p.diff_ids[added[k]]));
                if (lp)
                        (void) rm_rf(lp);
        }
        parts_done(&p);
        strv_free(tot.dropped);
        if (outer)
                (void) rm_rf(outer);
        return r;
}

int image_import(const char *state_dir, const char *name, const char *from, struct error *e)
{
        if (!name_is_valid(name))
                return error_set(e, -EINVAL, "'%s' is not a valid template name", name);
        _cleanup_close_ int lock = lock_store(state_dir);
        if (lock < 0)
                return error_set(e, lock, "cannot lock the layer store in %s", state_dir);
        return import_locked(state_dir, name, from, false, e);
}

int image_ensure_locked(const char *state_dir, const char *name, const char *from, struct error *e)
{
        _cleanup_(image_info_freep) struct image_info *i = NULL;
        if (image_read(state_dir, name, &i) == 0 && streq(i->source, from))
                return 0;
        return import_locked(state_dir, name, from, true, e);
}

int image_ensure(const char *state_dir, const char *name, const char *from, struct error *e)
{
        _cleanup_(image_info_freep) struct image_info *i = NULL;
        if (image_read(state_dir, name, &i) == 0 && streq(i->source, from))
                return 0;
        _cleanup_close_ int lock = lock_store(state_dir);
        if (lock < 0)
                return error_set(e, lock, "cannot lock the layer store in %s", state_dir);
        /* Imported meanwhile by another start? */
        image_info_free(i);
        i = NULL;
        if (image_read(state_dir, name, &i) == 0 && streq(i->source, from))
                return 0;
        return import_locked(state_dir, name, from, true, e);
}

int image_remove(const char *state_dir, const char *name)
{
        if (!name_is_valid(name))
                return -EINVAL;
        _cleanup_free_ char *p = strdup_printf("%s/" STATE_IMAGES "/%s", state_dir, name);
        if (!p)
                return -ENOMEM;
        return unlink(p) < 0 ? -errno : 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int image_list(const char *state_dir, char ***ret)
{
        _cleanup_free_ char *dir = images_dir(state_dir);
        char **v = calloc(1, sizeof(char *));
        if (!dir || !v) {
                free(v);
                return -ENOMEM;
        }
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && de->d_type == DT_REG && name_is_valid(de->d_name))
                                (void) strv_push(&v, de->d_name);
                closedir(d);
        }
        qsort(v, strv_length(v), sizeof(char *), cmp_str);
        *ret = v;
        return 0;
}

unsigned image_layer_users(const char *state_dir, const char *diff_id)
{
        char **names = NULL;
        unsigned n = 0;
        if (image_list(state_dir, &names) < 0)
                return 0;
        for (size_t i = 0; names[i]; i++) {
                struct image_info *info = NULL;
                if (image_read(state_dir, names[i], &info) == 0 && strv_contains(info->layers, diff_id))
                        n++;
                image_info_free(info);
        }
        strv_free(names);
        return n;
}
