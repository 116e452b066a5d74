#include "tstore.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashpoint.h"
#include "image.h"
#include "state.h"
#include "template.h"
#include "util.h"

/* ---- paths and small helpers ----------------------------------------------------------------- */

static char *layers_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_LAYERS "/sha256", state_dir);
}

static char *templates_dir(const char *state_dir)
{
        return strdup_printf("%s/templates", state_dir);
}

static bool hex64(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == 64;
}

static uint64_t walk_bytes;
static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void) path;
        (void) ftw;
        if (type == FTW_F && (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)))
                walk_bytes += (uint64_t) st->st_size;
        else if (type == FTW_SL)
                walk_bytes += (uint64_t) st->st_size;
        return 0;
}

/* The apparent size of the files below path (no symlink followed, no
 * mount crossed). */
static uint64_t tree_bytes(const char *path)
{
        walk_bytes = 0;
        (void) nftw(path, walk_one, 32, FTW_PHYS | FTW_MOUNT);
        return walk_bytes;
}

static uint64_t layer_bytes(const char *state_dir, const char *diff_id)
{
        _cleanup_free_ char *dir = layers_dir(state_dir);
        _cleanup_free_ char *p = dir && strncmp(diff_id, "sha256:", 7) == 0 ? strdup_printf("%s/%s", dir, diff_id + 7)
                                                                           : NULL;
        return p ? tree_bytes(p) : 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct tstore_entry *) a)->name, ((const struct tstore_entry *) b)->name);
}

/* ---- who uses what ---------------------------------------------------------------------------- */

int tstore_note_use(const char *container_dir, const char *name, char *const *layers, bool durable)
{
        struct strbuf b = { 0 };
        strbuf_printf(&b, "%s\n", name);
        for (size_t i = 0; layers && layers[i]; i++)
                strbuf_printf(&b, "%s\n", layers[i]);
        if (b.error || !b.p) {
                free(b.p);
                return b.error ? b.error : -ENOMEM;
        }
        _cleanup_close_ int dfd = open(container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        int r = dfd < 0 ? -errno
                 : durable ? write_file_atomic(dfd, TSTORE_USE_FILE, b.p, b.len, 0600)
                           : write_file_replace(dfd, TSTORE_USE_FILE, b.p, b.len, 0600);
        free(b.p);
        return r;
}

/* One live container's use: its name, its template, its layers. */
struct use {
        char *container;
        char *template_name;
        char **layers;
};

static void uses_free(struct use *u, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(u[i].container);
                free(u[i].template_name);
                strv_free(u[i].layers);
        }
        free(u);
}

/* The containers alive (their directory locked) with a use file. */
static int live_uses(const char *state_dir, struct use **ret, size_t *ret_n)
{
        *ret = NULL;
        *ret_n = 0;
        _cleanup_free_ char *cdir = state_containers_dir(state_dir);
        if (!cdir)
                return -ENOMEM;
        DIR *d = opendir(cdir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct use *v = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !name_is_valid(de->d_name))
                        continue;
                _cleanup_free_ char *dir = strdup_printf("%s/%s", cdir, de->d_name);
                if (!dir) {
                        r = -ENOMEM;
                        break;
                }
                if (!state_dir_locked(dir))
                        continue;
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                _cleanup_free_ char *text = NULL;
                size_t len;
                if (dfd < 0 || read_file_at(dfd, TSTORE_USE_FILE, 64 * 1024, &text, &len) < 0)
                        continue;
                struct use *nv = realloc(v, (n + 1) * sizeof *v);
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                struct use *u = &v[n++];
                *u = (struct use){ .container = strdup(de->d_name), .layers = calloc(1, sizeof(char *)) };
                char *save = NULL;
                for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        if (!u->template_name)
                                u->template_name = strdup(line);
                        else if (u->layers)
                                (void) strv_push(&u->layers, line);
                }
                if (!u->container || !u->template_name || !u->layers) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (r < 0) {
                uses_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Containers whose definition names template name, and template blocks
 * layered on it ("template X"); whether a template block declares it. */
static void definition_users(const struct spec_set *defs, const char *name, char ***users, bool *declared)
{
        *declared = false;
        if (!defs)
                return;
        for (size_t i = 0; i < defs->n_containers; i++)
                if (streq_ptr(defs->containers[i]->template_name, name))
                        (void) strv_push(users, defs->containers[i]->name);
        for (size_t i = 0; i < defs->n_templates; i++) {
                const struct spec_template *t = defs->templates[i];
                if (streq(t->name, name))
                        *declared = true;
                else if (streq_ptr(t->from, name)) {
                        _cleanup_free_ char *s = strdup_printf("template %s", t->name);
                        if (s)
                                (void) strv_push(users, s);
                }
        }
}

/* ---- list ------------------------------------------------------------------------------------ */

void tstore_entries_free(struct tstore_entry *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].name);
                free(v[i].source);
                strv_free(v[i].layers);
                strv_free(v[i].definitions);
                strv_free(v[i].running);
        }
        free(v);
}

static uint64_t mtime_usec(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return 0;
        return (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000;
}

static const char *tree_origin(const char *state_dir, const char *name)
{
        _cleanup_free_ char *p = strdup_printf("%s/templates/" TEMPLATE_META_DIR "/%s", state_dir, name);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (!p || read_file_at(AT_FDCWD, p, 4096, &text, &len) < 0)
                return "built";
        return strstr(text, "origin=import") ? "imported" : "built";
}

int tstore_list(const char *state_dir, const struct spec_set *defs, struct tstore_entry **ret, size_t *ret_n)
{
        _cleanup_strv_free_ char **trees = NULL, **images = NULL;
        int r = template_list(state_dir, &trees);
        if (r >= 0)
                r = image_list(state_dir, &images);
        if (r < 0)
                return r;
        struct use *uses = NULL;
        size_t n_uses = 0;
        r = live_uses(state_dir, &uses, &n_uses);
        if (r < 0)
                return r;
        size_t cap = strv_length(trees) + strv_length(images), n = 0;
        struct tstore_entry *v = calloc(cap + 1, sizeof *v);
        if (!v) {
                uses_free(uses, n_uses);
                return -ENOMEM;
        }
        _cleanup_free_ char *tdir = templates_dir(state_dir);
        _cleanup_free_ char *idir = strdup_printf("%s/" STATE_IMAGES, state_dir);
        for (size_t i = 0; trees[i]; i++) {
                struct tstore_entry *t = &v[n++];
                _cleanup_free_ char *p = strdup_printf("%s/%s", tdir, trees[i]);
                _cleanup_free_ char *meta = strdup_printf("%s/" TEMPLATE_META_DIR "/%s", tdir, trees[i]);
                t->name = strdup(trees[i]);
                t->kind = tree_origin(state_dir, trees[i]);
                t->bytes = p ? tree_bytes(p) : 0;
                t->time_usec = meta ? mtime_usec(meta) : 0;
                if (!t->time_usec && p)
                        t->time_usec = mtime_usec(p);
                t->special = (int) template_special_files(state_dir, trees[i]);
        }
        for (size_t i = 0; images[i]; i++) {
                _cleanup_(image_info_freep) struct image_info *info = NULL;
                if (image_read(state_dir, images[i], &info) < 0 || strv_contains(trees, images[i]))
                        continue;
                struct tstore_entry *t = &v[n++];
                _cleanup_free_ char *rec = strdup_printf("%s/%s", idir, images[i]);
                t->name = strdup(images[i]);
                t->kind = "image";
                t->source = strdup(info->source);
                t->layers = strv_copy(info->layers);
                t->time_usec = rec ? mtime_usec(rec) : 0;
                t->special = TEMPLATE_SPECIAL_DROPPED;
                t->devices_dropped = info->devices_dropped;
                t->setuid_cleared = info->setuid_cleared;
        }
        /* Layer sizes and how many templates use each. */
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; v[i].layers && v[i].layers[k]; k++) {
                        uint64_t b = layer_bytes(state_dir, v[i].layers[k]);
                        bool shared = false;
                        for (size_t j = 0; j < n && !shared; j++)
                                shared = j != i && strv_contains(v[j].layers, v[i].layers[k]);
                        v[i].bytes += b;
                        if (shared)
                                v[i].shared_bytes += b;
                }
        for (size_t i = 0; i < n; i++) {
                struct tstore_entry *t = &v[i];
                t->definitions = calloc(1, sizeof(char *));
                t->running = calloc(1, sizeof(char *));
                if (!t->name || !t->definitions || !t->running) {
                        r = -ENOMEM;
                        break;
                }
                definition_users(defs, t->name, &t->definitions, &t->declared);
                for (size_t k = 0; k < n_uses; k++)
                        if (streq(uses[k].template_name, t->name))
                                (void) strv_push(&t->running, uses[k].container);
                qsort(t->definitions, strv_length(t->definitions), sizeof(char *), cmp_str);
                qsort(t->running, strv_length(t->running), sizeof(char *), cmp_str);
        }
        uses_free(uses, n_uses);
        if (r < 0) {
                tstore_entries_free(v, n);
                return r;
        }
        qsort(v, n, sizeof *v, cmp_entry);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- locks and recovery ---------------------------------------------------------------------- */

int tstore_lock(const char *state_dir)
{
        _cleanup_free_ char *dir = strdup_printf("%s/" STATE_LAYERS, state_dir);
        return dir ? lock_dir(dir) : -ENOMEM;
}

/* Takes dir/.lock without waiting: the fd, -EWOULDBLOCK, or -errno. */
static int try_lock_dir(const char *dir)
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
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static bool has_prefix(const char *s, const char *const *prefixes)
{
        for (size_t i = 0; prefixes[i]; i++)
                if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

/* Removes the entries of dir named with one of prefixes. */
static int remove_prefixed(const char *dir, const char *const *prefixes)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (has_prefix(de->d_name, prefixes)) {
                        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, de->d_name);
                        if (p && rm_rf(p) >= 0)
                                n++;
                }
        closedir(d);
        return n;
}

/* Under both locks. */
static int recover_locked(const char *state_dir)
{
        static const char *const layer_junk[] = { ".tmp-", ".trash-", NULL };
        static const char *const tree_junk[] = { ".build-", ".remove-", ".trash-", NULL };
        _cleanup_free_ char *ldir = layers_dir(state_dir);
        _cleanup_free_ char *tdir = templates_dir(state_dir);
        if (!ldir || !tdir)
                return -ENOMEM;
        int n = remove_prefixed(ldir, layer_junk) + remove_prefixed(tdir, tree_junk);
        /* Metadata written before its tree was renamed into place. */
        _cleanup_free_ char *mdir = strdup_printf("%s/" TEMPLATE_META_DIR, tdir);
        DIR *d = mdir ? opendir(mdir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char *path = NULL;
                if (template_lookup(state_dir, de->d_name, &path) == -ENOENT) {
                        _cleanup_free_ char *p = strdup_printf("%s/%s", mdir, de->d_name);
                        if (p && unlink(p) == 0)
                                n++;
                }
                free(path);
        }
        if (d)
                closedir(d);
        return n;
}

int tstore_recover(const char *state_dir)
{
        _cleanup_free_ char *l = strdup_printf("%s/" STATE_LAYERS, state_dir);
        _cleanup_free_ char *t = templates_dir(state_dir);
        if (!l || !t)
                return -ENOMEM;
        struct stat st;
        if (lstat(l, &st) < 0 && lstat(t, &st) < 0)
                return 0; /* no store yet */
        _cleanup_close_ int ll = try_lock_dir(l);
        if (ll < 0)
                return ll == -EWOULDBLOCK ? 0 : ll;
        _cleanup_close_ int tl = try_lock_dir(t);
        if (tl < 0)
                return tl == -EWOULDBLOCK ? 0 : tl;
        return recover_locked(state_dir);
}

/* ---- remove, prune --------------------------------------------------------------------------- */

void tstore_report_done(struct tstore_report *r)
{
        strv_free(r->templates);
        strv_free(r->layers);
        *r = (struct tstore_report){ 0 };
}

static int report_add(char ***v, const char *s)
{
        if (!*v && !(*v = calloc(1, sizeof(char *))))
                return -ENOMEM;
        return strv_push(v, s);
}

/* Moves path to a trash name in the same directory (a crash after it
 * leaves a tree the next recovery deletes, never a half-deleted one under
 * its name), then deletes it. */
static int trash(const char *dir, const char *name, const char *point)
{
        _cleanup_free_ char *from = strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *to = strdup_printf("%s/.trash-%s.%d", dir, name, (int) getpid());
        if (!from || !to)
                return -ENOMEM;
        if (rename(from, to) < 0)
                return -errno;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        crashpoint_env(point);
        return rm_rf(to);
}

/* Deletes every layer no image record and no live container names. */
static int collect_layers(const char *state_dir, struct tstore_report *rep, struct error *e)
{
        _cleanup_free_ char *ldir = layers_dir(state_dir);
        if (!ldir)
                return error_code(e, -ENOMEM);
        _cleanup_strv_free_ char **keep = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **images = NULL;
        if (!keep)
                return error_code(e, -ENOMEM);
        int r = image_list(state_dir, &images);
        if (r < 0)
                return error_set(e, r, "cannot list the images in %s", state_dir);
        for (size_t i = 0; images[i]; i++) {
                _cleanup_(image_info_freep) struct image_info *info = NULL;
                r = image_read(state_dir, images[i], &info);
                if (r < 0) /* an unreadable record: keep every layer rather than guess */
                        return error_set(e, r, "image record '%s' is unreadable: no layer removed", images[i]);
                for (size_t k = 0; info->layers[k]; k++)
                        (void) strv_push(&keep, info->layers[k]);
        }
        struct use *uses = NULL;
        size_t n_uses = 0;
        r = live_uses(state_dir, &uses, &n_uses);
        if (r < 0)
                return error_set(e, r, "cannot read the containers in %s", state_dir);
        for (size_t i = 0; i < n_uses; i++)
                for (size_t k = 0; uses[i].layers[k]; k++)
                        (void) strv_push(&keep, uses[i].layers[k]);
        uses_free(uses, n_uses);
        DIR *d = opendir(ldir);
        if (!d)
                return errno == ENOENT ? 0 : error_set(e, -errno, "cannot open %s", ldir);
        _cleanup_strv_free_ char **victims = calloc(1, sizeof(char *));
        struct dirent *de;
        while (victims && (de = readdir(d))) {
                if (!hex64(de->d_name))
                        continue;
                _cleanup_free_ char *id = strdup_printf("sha256:%s", de->d_name);
                if (id && !strv_contains(keep, id))
                        (void) strv_push(&victims, de->d_name);
        }
        closedir(d);
        if (!victims)
                return error_code(e, -ENOMEM);
        for (size_t i = 0; victims[i]; i++) {
                _cleanup_free_ char *p = strdup_printf("%s/%s", ldir, victims[i]);
                _cleanup_free_ char *id = strdup_printf("sha256:%s", victims[i]);
                if (!p || !id)
                        return error_code(e, -ENOMEM);
                uint64_t b = tree_bytes(p);
                r = trash(ldir, victims[i], "remove-layer-trashed");
                if (r < 0)
                        return error_set(e, r, "cannot remove layer %s", id);
                rep->bytes += b;
                (void) report_add(&rep->layers, id);
        }
        return 0;
}

/* Removes template name, known unused; both locks held. */
static int remove_one(const char *state_dir, const char *name, struct tstore_report *rep, struct error *e)
{
        _cleanup_free_ char *tdir = templates_dir(state_dir);
        _cleanup_free_ char *rec = strdup_printf("%s/" STATE_IMAGES "/%s", state_dir, name);
        if (!tdir || !rec)
                return error_code(e, -ENOMEM);
        char *path = NULL;
        int r = template_lookup(state_dir, name, &path);
        if (r == 0) {
                uint64_t b = tree_bytes(path);
                free(path);
                r = trash(tdir, name, "remove-template-trashed");
                if (r < 0)
                        return error_set(e, r, "cannot remove template '%s'", name);
                _cleanup_free_ char *meta = strdup_printf("%s/" TEMPLATE_META_DIR "/%s", tdir, name);
                if (meta)
                        (void) unlink(meta);
                rep->bytes += b;
        } else if (unlink(rec) == 0) {
                _cleanup_free_ char *idir = strdup_printf("%s/" STATE_IMAGES, state_dir);
                _cleanup_close_ int dfd = idir ? open(idir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                if (dfd >= 0)
                        (void) fsync(dfd);
                crashpoint_env("remove-record-unlinked");
        } else if (errno == ENOENT) {
                (void) error_set(e, 0, "no template '%s'", name);
                return -ENOENT;
        }
        else
                return error_set(e, -errno, "cannot remove %s", rec);
        return report_add(&rep->templates, name) < 0 ? error_code(e, -ENOMEM) : 0;
}

/* Takes both locks (layers, then templates: the order of every taker)
 * and cleans what a crash left. */
static int lock_both(const char *state_dir, int *ll, int *tl, struct error *e)
{
        _cleanup_free_ char *t = templates_dir(state_dir);
        if (!t)
                return error_code(e, -ENOMEM);
        *ll = tstore_lock(state_dir);
        if (*ll < 0)
                return error_set(e, *ll, "cannot lock the layer store in %s", state_dir);
        *tl = lock_dir(t);
        if (*tl < 0) {
                close(*ll);
                *ll = -1;
                return error_set(e, *tl, "cannot lock %s", t);
        }
        (void) recover_locked(state_dir);
        return 0;
}

static void users_message(struct error *e, const char *name, char *const *defs, char *const *running)
{
        struct strbuf b = { 0 };
        if (running && running[0]) {
                strbuf_printf(&b, "running:");
                for (size_t i = 0; running[i]; i++)
                        strbuf_printf(&b, " %s", running[i]);
        }
        if (defs && defs[0]) {
                strbuf_printf(&b, "%sdefinitions:", b.len ? "; " : "");
                for (size_t i = 0; defs[i]; i++)
                        strbuf_printf(&b, " %s", defs[i]);
        }
        (void) error_set(e, 0, "template '%s' is in use (%s): not removed", name, b.p ? b.p : "?");
        free(b.p);
}

int tstore_remove(const char *state_dir, const struct spec_set *defs, const char *name, struct tstore_report *rep,
                  struct error *e)
{
        if (!name_is_valid(name))
                return error_set(e, -EINVAL, "'%s' is not a valid template name", name);
        _cleanup_close_ int ll = -1, tl = -1;
        int r = lock_both(state_dir, &ll, &tl, e);
        if (r < 0)
                return r;
        struct tstore_entry *v = NULL;
        size_t n = 0;
        r = tstore_list(state_dir, defs, &v, &n);
        if (r < 0)
                return error_set(e, r, "cannot list the templates in %s", state_dir);
        struct tstore_entry *t = NULL;
        for (size_t i = 0; i < n && !t; i++)
                if (streq(v[i].name, name))
                        t = &v[i];
        if (!t) {
                (void) error_set(e, 0, "no template '%s'", name);
                r = -ENOENT;
        }
        else if (t->definitions[0] || t->running[0]) {
                users_message(e, name, t->definitions, t->running);
                r = -EBUSY;
        } else
                r = remove_one(state_dir, name, rep, e);
        tstore_entries_free(v, n);
        if (r >= 0)
                r = collect_layers(state_dir, rep, e);
        return r;
}

int tstore_prune(const char *state_dir, const struct spec_set *defs, struct tstore_report *rep, struct error *e)
{
        _cleanup_close_ int ll = -1, tl = -1;
        int r = lock_both(state_dir, &ll, &tl, e);
        if (r < 0)
                return r;
        struct tstore_entry *v = NULL;
        size_t n = 0;
        r = tstore_list(state_dir, defs, &v, &n);
        if (r < 0)
                return error_set(e, r, "cannot list the templates in %s", state_dir);
        for (size_t i = 0; i < n && r >= 0; i++)
                if (!v[i].declared && !v[i].definitions[0] && !v[i].running[0])
                        r = remove_one(state_dir, v[i].name, rep, e);
        tstore_entries_free(v, n);
        if (r >= 0)
                r = collect_layers(state_dir, rep, e);
        return r;
}
