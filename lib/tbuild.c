#include "tbuild.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#include "image.h"
#include "sha256.h"
#include "state.h"
#include "template.h"
#include "util.h"

#define BUILD_FORMAT "berth-template-build/1"
#define PARENT_DEPTH_MAX 16
#define COPY_ENTRIES_MAX 100000

/* ---- key checks ------------------------------------------------------------------- */

static bool is_base(const char *from)
{
        return streq(from, "debian") || streq(from, "busybox");
}

const char *tbuild_from_check(const char *from)
{
        if (image_source_is_image(from))
                return image_source_check(from);
        if (is_base(from) || name_is_valid(from))
                return NULL;
        return "'%s' is neither \"debian\", \"busybox\", a template's name nor an image (oci-archive:FILE, "
               "oci:DIR[:TAG], docker-archive:FILE)";
}

const char *tbuild_suite_check(const char *suite)
{
        for (const char *p = suite; *p; p++)
                if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p) && *p != '-')
                        return "'%s' is not a Debian suite (e.g. bookworm, trixie, stable)";
        return *suite ? NULL : "'%s' is not a Debian suite (e.g. bookworm, trixie, stable)";
}

const char *tbuild_mirror_check(const char *mirror)
{
        if (strncmp(mirror, "http://", 7) != 0 && strncmp(mirror, "https://", 8) != 0)
                return "'%s' is not a mirror URL (http://HOST/debian)";
        for (const char *p = mirror; *p; p++)
                if (isspace((unsigned char) *p) || !isprint((unsigned char) *p))
                        return "'%s' is not a mirror URL (http://HOST/debian)";
        return NULL;
}

/* Debian policy 5.6.1: [a-z0-9][a-z0-9+.-]+, then =VERSION if pinned. */
const char *tbuild_package_check(const char *pkg)
{
        static const char *const msg =
                "'%s' is not a Debian package name ([a-z0-9][a-z0-9+.-]+, optionally =VERSION)";
        size_t n = 0;
        for (; pkg[n] && pkg[n] != '='; n++) {
                char ch = pkg[n];
                if (!(islower((unsigned char) ch) || isdigit((unsigned char) ch) ||
                      (n > 0 && (ch == '+' || ch == '.' || ch == '-'))))
                        return msg;
        }
        if (n < 2)
                return msg;
        if (pkg[n] == '=') {
                const char *v = pkg + n + 1;
                if (!isdigit((unsigned char) *v))
                        return msg;
                for (; *v; v++)
                        if (!isalnum((unsigned char) *v) && !strchr(".+~:-", *v))
                                return msg;
        }
        return NULL;
}

bool tbuild_is_declarative(const struct spec_template *t)
{
        return t && t->from && !image_source_is_image(t->from);
}

/* ---- cross-checks -------------------------------------------------------------------- */

static bool path_canonical(const char *p)
{
        if (!p || p[0] != '/' || strstr(p, "//") || (strlen(p) > 1 && p[strlen(p) - 1] == '/'))
                return false;
        for (const char *c = p; c; c = strchr(c + 1, '/')) {
                const char *s = c + 1;
                size_t n = strcspn(s, "/");
                if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
        }
        return true;
}

/* The base a chain of parents ends on: "debian", "busybox", an image's
 * from, or NULL for a cycle or an unknown parent. */
static const struct spec_template *chain_root(const struct spec_set *set, const struct spec_template *t)
{
        for (int depth = 0; t && depth <= PARENT_DEPTH_MAX; depth++) {
                if (!tbuild_is_declarative(t) || is_base(t->from))
                        return t;
                t = spec_set_find_template(set, t->from);
        }
        return NULL;
}

size_t tbuild_check(const struct spec_set *set, struct diag *d)
{
        size_t before = d->n + d->dropped;
        for (size_t i = 0; i < set->n_templates; i++) {
                const struct spec_template *t = set->templates[i];
                if (!t->from || tbuild_from_check(t->from))
                        continue; /* reported by the parser */
                if (!tbuild_is_declarative(t)) {
                        int line = t->line_packages ? t->line_packages
                                   : t->line_run    ? t->line_run
                                   : t->n_copies    ? t->copies[0].line
                                   : t->line_suite  ? t->line_suite
                                                    : t->line_mirror;
                        if (line)
                                diag_add(d, t->file, line,
                                         "template '%s': an image (%s) is used as it is; to add packages, copies "
                                         "or a run command, declare a template with from = \"%s\"",
                                         t->name, t->from, t->name);
                        continue;
                }
                if (!is_base(t->from)) {
                        /* follow the parents: a cycle comes back to t */
                        const struct spec_template *p = spec_set_find_template(set, t->from);
                        if (!p)
                                diag_add(d, t->file, t->line_from,
                                         "from: no template '%s' is declared (use \"debian\", \"busybox\", a "
                                         "declared template or an image source)", t->from);
                        for (int depth = 0; p && depth <= PARENT_DEPTH_MAX; depth++) {
                                if (p == t) {
                                        diag_add(d, t->file, t->line_from,
                                                 "from: template '%s' is its own parent (a cycle through '%s')",
                                                 t->name, t->from);
                                        break;
                                }
                                if (!tbuild_is_declarative(p) || is_base(p->from))
                                        break;
                                p = spec_set_find_template(set, p->from);
                                if (depth == PARENT_DEPTH_MAX)
                                        diag_add(d, t->file, t->line_from,
                                                 "from: more than %d templates below '%s'", PARENT_DEPTH_MAX,
                                                 t->name);
                        }
                }
                if (!streq(t->from, "debian") && (t->line_suite || t->line_mirror))
                        diag_add(d, t->file, t->line_suite ? t->line_suite : t->line_mirror,
                                 "template '%s': suite and mirror are for from = \"debian\" (a template over "
                                 "another one uses its parent's)", t->name);
                const struct spec_template *root = chain_root(set, t);
                if (t->packages && root && streq(root->from, "busybox"))
                        diag_add(d, t->file, t->line_packages,
                                 "packages: template '%s' is built on busybox, which has no apt (use from = "
                                 "\"debian\" or a template built on it)", t->name);
                for (size_t k = 0; k < t->n_copies; k++) {
                        const struct spec_template_copy *c = &t->copies[k];
                        struct stat st;
                        if (c->source && !path_canonical(c->source))
                                diag_add(d, t->file, c->line_source,
                                         "copy.source: '%s' must be a canonical absolute path", c->source);
                        else if (c->source && stat(c->source, &st) < 0)
                                diag_add(d, t->file, c->line_source, "copy.source: '%s': %s", c->source,
                                         strerror(errno));
                        else if (c->source && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                                diag_add(d, t->file, c->line_source,
                                         "copy.source: '%s' is neither a file nor a directory", c->source);
                        if (c->target && (!path_canonical(c->target) || streq(c->target, "/")))
                                diag_add(d, t->file, c->line_target,
                                         "copy.target: '%s' must be a canonical absolute path below /", c->target);
                }
                if (t->run && t->run[0] && t->run[0][0] != '/' && strchr(t->run[0], '/'))
                        diag_add(d, t->file, t->line_run,
                                 "run: '%s' must be an absolute path or a command name", t->run[0]);
        }
        return d->n + d->dropped - before;
}

/* ---- the host's apt configuration -------------------------------------------------- */

static bool suite_is_main(const char *s)
{
        return !strstr(s, "-security") && !strstr(s, "-updates") && !strstr(s, "-backports") &&
               !strstr(s, "/updates");
}

/* The first "deb" stanza of a deb822 .sources file with a main suite. */
static bool from_deb822(const char *text, char **mirror, char **suite)
{
        const char *p = text;
        while (*p) {
                /* one stanza: lines up to an empty line */
                char uris[512] = "", suites[512] = "", types[128] = "deb";
                bool enabled = true;
                while (*p && *p != '\n') {
                        size_t n = strcspn(p, "\n");
                        char line[1024];
                        snprintf(line, sizeof line, "%.*s", (int) (n < sizeof line ? n : sizeof line - 1), p);
                        char *colon = strchr(line, ':');
                        if (line[0] != '#' && colon) {
                                *colon = 0;
                                char *v = colon + 1;
                                while (*v == ' ' || *v == '\t')
                                        v++;
                                if (strcasecmp(line, "URIs") == 0)
                                        snprintf(uris, sizeof uris, "%s", v);
                                else if (strcasecmp(line, "Suites") == 0)
                                        snprintf(suites, sizeof suites, "%s", v);
                                else if (strcasecmp(line, "Types") == 0)
                                        snprintf(types, sizeof types, "%s", v);
                                else if (strcasecmp(line, "Enabled") == 0)
                                        enabled = strncasecmp(v, "no", 2) != 0;
                        }
                        p += n + (p[n] == '\n');
                }
                while (*p == '\n')
                        p++;
                char *save = NULL, *tok;
                bool deb = false;
                for (tok = strtok_r(types, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
                        deb |= streq(tok, "deb");
                if (!enabled || !deb || !uris[0] || !suites[0])
                        continue;
                char *uri = strtok_r(uris, " \t", &save);
                for (tok = strtok_r(suites, " \t", &save); tok && uri; tok = strtok_r(NULL, " \t", &save))
                        if (suite_is_main(tok)) {
                                *mirror = strdup(uri);
                                *suite = strdup(tok);
                                return true;
                        }
        }
        return false;
}

/* The first "deb URI SUITE ..." line (options in [ ] skipped) with a main suite. */
static bool from_one_line(const char *text, char **mirror, char **suite)
{
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                char line[1024];
                snprintf(line, sizeof line, "%.*s", (int) (n < sizeof line ? n : sizeof line - 1), p);
                p += n + (p[n] == '\n');
                char *save = NULL, *w = strtok_r(line, " \t", &save);
                if (!w || !streq(w, "deb"))
                        continue;
                w = strtok_r(NULL, " \t", &save);
                if (w && w[0] == '[')
                        while (w && !strchr(w, ']'))
                                w = strtok_r(NULL, " \t", &save);
                if (w && w[0] == '[') /* "[opt]" in one word */
                        w = strtok_r(NULL, " \t", &save);
                else if (w && strchr(w, ']'))
                        w = strtok_r(NULL, " \t", &save);
                char *s = w ? strtok_r(NULL, " \t", &save) : NULL;
                if (w && s && suite_is_main(s)) {
                        *mirror = strdup(w);
                        *suite = strdup(s);
                        return true;
                }
        }
        return false;
}

static bool apt_file(const char *path, bool deb822, char **mirror, char **suite)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (fd < 0 || read_file_fd(fd, 1 << 20, &text, &len) < 0)
                return false;
        return deb822 ? from_deb822(text, mirror, suite) : from_one_line(text, mirror, suite);
}

/* The Debian mirror and suite this host's apt uses ($BERTH_APT_DIR instead
 * of /etc/apt for tests): 0, or -ENOENT. */
static int host_apt(char **mirror, char **suite)
{
        const char *dir = getenv("BERTH_APT_DIR");
        if (!dir || !*dir)
                dir = "/etc/apt";
        *mirror = *suite = NULL;
        _cleanup_free_ char *pat = strdup_printf("%s/sources.list.d/*.sources", dir);
        _cleanup_free_ char *list = strdup_printf("%s/sources.list", dir);
        _cleanup_free_ char *pat2 = strdup_printf("%s/sources.list.d/*.list", dir);
        if (!pat || !list || !pat2)
                return -ENOMEM;
        glob_t g = { 0 };
        bool found = false;
        if (glob(pat, 0, NULL, &g) == 0)
                for (size_t i = 0; !found && i < g.gl_pathc; i++)
                        found = apt_file(g.gl_pathv[i], true, mirror, suite);
        globfree(&g);
        if (!found)
                found = apt_file(list, false, mirror, suite);
        if (!found && glob(pat2, 0, NULL, &g) == 0) {
                for (size_t i = 0; !found && i < g.gl_pathc; i++)
                        found = apt_file(g.gl_pathv[i], false, mirror, suite);
                globfree(&g);
        }
        if (!found)
                return -ENOENT;
        if (!*mirror || !*suite) {
                free(*mirror);
                free(*suite);
                return -ENOMEM;
        }
        return 0;
}

/* ---- copy sources: digests and copies ------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Names in the directory fd, sorted (a strv). */
static char **dir_names(int fd)
{
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return NULL;
        }
        char **v = calloc(1, sizeof(char *));
        struct dirent *de;
        while (v && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && strv_push(&v, de->d_name) < 0)
                        v = strv_free(v);
        closedir(d);
        if (v)
                qsort(v, strv_length(v), sizeof(char *), cmp_str);
        return v;
}

struct walk {
        struct sha256 *h; /* hashing: every entry's path, type, mode, content */
        struct error *e;
        const char *source;
        size_t entries;
};

static int copy_data(int in, int out)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, (size_t) (n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        off += w;
                }
        }
}

static mode_t keep_mode(mode_t m)
{
        return m & 07777 & ~(mode_t) (S_ISUID | S_ISGID);
}

/* One entry name of the directory sfd (lstat: never followed, except the
 * top source, top = true) to the directory dfd (-1: hash only). */
static int walk_entry(struct walk *w, int sfd, const char *name, int dfd, const char *dname, const char *rel,
                      bool top)
{
        struct stat st;
        if (fstatat(sfd, name, &st, top ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(w->e, -errno, "copy: %s/%s", w->source, rel);
        if (++w->entries > COPY_ENTRIES_MAX)
                return error_set_msg(w->e, -E2BIG, "copy: %s has more than %d entries", w->source,
                                     COPY_ENTRIES_MAX);
        char head[PATH_MAX + 64];
        int hn = snprintf(head, sizeof head, "%s%c%o%c", rel, 0, (unsigned) (st.st_mode & 0177777), 0);
        if (w->h)
                sha256_update(w->h, head, (size_t) hn);
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sfd, name, target, sizeof target - 1);
                if (n < 0)
                        return error_set(w->e, -errno, "copy: %s/%s", w->source, rel);
                target[n] = 0;
                if (w->h)
                        sha256_update(w->h, target, (size_t) n + 1);
                if (dfd >= 0) {
                        (void) unlinkat(dfd, dname, 0);
                        if (symlinkat(target, dfd, dname) < 0 || fchownat(dfd, dname, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
                                return error_set(w->e, -errno, "copy: cannot make the link %s", rel);
                }
                return 0;
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
                if (in < 0)
                        return error_set(w->e, -errno, "copy: %s/%s", w->source, rel);
                if (w->h) {
                        char buf[65536];
                        ssize_t n;
                        while ((n = read(in, buf, sizeof buf)) > 0)
                                sha256_update(w->h, buf, (size_t) n);
                        if (n < 0)
                                return error_set(w->e, -errno, "copy: reading %s/%s", w->source, rel);
                }
                if (dfd < 0)
                        return 0;
                struct stat dst;
                if (fstatat(dfd, dname, &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(dst.st_mode)) {
                        if (S_ISDIR(dst.st_mode))
                                return error_set(w->e, -EISDIR, "copy: %s is a directory in the template", rel);
                        (void) unlinkat(dfd, dname, 0);
                }
                _cleanup_close_ int out = openat(dfd, dname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                int r = out < 0 ? -errno : copy_data(in, out);
                if (r >= 0 && (fchown(out, 0, 0) < 0 || fchmod(out, keep_mode(st.st_mode)) < 0))
                        r = -errno;
                if (r < 0)
                        return error_set(w->e, r, "copy: cannot write %s in the template", rel);
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return error_set(w->e, -EINVAL, "copy: %s/%s is neither a file, a directory nor a link", w->source,
                                 rel);
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
        if (in < 0)
                return error_set(w->e, -errno, "copy: %s/%s", w->source, rel);
        _cleanup_close_ int out = -1;
        if (dfd >= 0) {
                if (mkdirat(dfd, dname, 0755) < 0 && errno != EEXIST)
                        return error_set(w->e, -errno, "copy: cannot make %s in the template", rel);
                out = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (out < 0 || fchown(out, 0, 0) < 0 || fchmod(out, keep_mode(st.st_mode)) < 0)
                        return error_set(w->e, -errno, "copy: %s in the template is not a directory", rel);
        }
        _cleanup_(strv_freep) char **names = dir_names(in);
        if (!names)
                return error_set(w->e, -errno ? -errno : -ENOMEM, "copy: cannot list %s/%s", w->source, rel);
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *sub = strdup_printf("%s/%s", rel, names[i]);
                if (!sub)
                        return error_code(w->e, -ENOMEM);
                int r = walk_entry(w, in, names[i], out, names[i], sub, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The digest of a copy block: its paths and the source's content. */
static int copy_digest(const struct spec_template_copy *c, struct sha256 *h, struct error *e)
{
        struct walk w = { .h = h, .e = e, .source = c->source };
        sha256_update(h, c->source, strlen(c->source) + 1);
        sha256_update(h, c->target, strlen(c->target) + 1);
        return walk_entry(&w, AT_FDCWD, c->source, -1, NULL, ".", true);
}

/* ---- what to build --------------------------------------------------------------------- */

static int digest_strv(char *const *v, char out[65])
{
        struct sha256 h;
        if (sha256_init(&h) < 0)
                return -ENOMEM;
        for (size_t i = 0; v && v[i]; i++)
                sha256_update(&h, v[i], strlen(v[i]) + 1);
        sha256_final_hex(&h, out);
        return 0;
}

/* The base of a from = "debian" template: suite and mirror resolved. */
static int debian_base(const struct spec_template *t, char **mirror, char **suite, struct error *e)
{
        _cleanup_free_ char *hm = NULL, *hs = NULL;
        if (!t->mirror || !t->suite) {
                int r = host_apt(&hm, &hs);
                if (r < 0)
                        return error_set(e, r, "template '%s': no Debian mirror in /etc/apt/sources.list.d or "
                                               "/etc/apt/sources.list (set mirror and suite)", t->name);
        }
        *mirror = strdup(t->mirror ? t->mirror : hm);
        *suite = strdup(t->suite ? t->suite : hs);
        if (!*mirror || !*suite)
                return error_code(e, -ENOMEM);
        return 0;
}

static int want_depth(const struct spec_set *set, const char *name, struct tbuild_want *w, struct error *e,
                      int depth)
{
        const struct spec_template *t = spec_set_find_template(set, name);
        if (!t || !tbuild_is_declarative(t))
                return error_set(e, -ENOENT, "no declarative template '%s'", name);
        if (depth > PARENT_DEPTH_MAX)
                return error_set(e, -ELOOP, "template '%s': its parents form a cycle", name);
        *w = (struct tbuild_want){ 0 };
        _cleanup_free_ char *base_text = NULL;
        if (streq(t->from, "debian")) {
                _cleanup_free_ char *mirror = NULL, *suite = NULL;
                int r = debian_base(t, &mirror, &suite, e);
                if (r < 0)
                        return r;
                base_text = strdup_printf("debian\n%s\n%s\nminbase", suite, mirror);
        } else if (streq(t->from, "busybox"))
                base_text = strdup("busybox");
        else {
                const struct spec_template *p = spec_set_find_template(set, t->from);
                if (!p)
                        return error_set(e, -ENOENT, "template '%s': no template '%s'", name, t->from);
                if (tbuild_is_declarative(p)) {
                        struct tbuild_want pw;
                        int r = want_depth(set, p->name, &pw, e, depth + 1);
                        if (r < 0)
                                return r;
                        base_text = strdup_printf("template\n%s", pw.hash);
                        snprintf(w->parent, sizeof w->parent, "%s", p->name);
                } else
                        base_text = strdup_printf("image\n%s", p->from);
        }
        if (!base_text || sha256_hex_of(base_text, strlen(base_text), w->base) < 0 ||
            digest_strv(t->packages, w->packages) < 0 || digest_strv(t->run, w->run) < 0)
                return error_code(e, -ENOMEM);
        struct sha256 h;
        if (sha256_init(&h) < 0)
                return error_code(e, -ENOMEM);
        for (size_t i = 0; i < t->n_copies; i++) {
                int r = copy_digest(&t->copies[i], &h, e);
                if (r < 0) {
                        sha256_done(&h);
                        return error_wrap(e, "template '%s' (%s:%d)", name, t->file, t->copies[i].line);
                }
        }
        sha256_final_hex(&h, w->copy);
        _cleanup_free_ char *all = strdup_printf(BUILD_FORMAT "\n%s\n%s\n%s\n%s\n", w->base, w->packages, w->copy,
                                                 w->run);
        if (!all || sha256_hex_of(all, strlen(all), w->hash) < 0)
                return error_code(e, -ENOMEM);
        return 0;
}

int tbuild_want(const struct spec_set *set, const char *name, struct tbuild_want *w, struct error *e)
{
        return want_depth(set, name, w, e, 0);
}

static char *images_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_IMAGES, state_dir);
}

/* The "build" object of name's record, parsed (NULL: none). */
static struct json_object *read_build(const char *state_dir, const char *name)
{
        _cleanup_free_ char *dir = images_dir(state_dir);
        _cleanup_close_ int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (dfd < 0 || read_file_at(dfd, name, IMAGE_JSON_MAX, &text, &len) < 0)
                return NULL;
        struct json_object *o = json_tokener_parse(text), *b = NULL;
        if (o && json_object_object_get_ex(o, "build", &b) && json_object_is_type(b, json_type_object))
                b = json_object_get(b);
        else
                b = NULL;
        json_object_put(o);
        return b;
}

static const char *jstr(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : "";
}

int tbuild_current(const char *state_dir, const char *name, const struct tbuild_want *w, char *reason,
                   size_t size)
{
        struct json_object *b = read_build(state_dir, name);
        if (!b) {
                snprintf(reason, size, "not built yet");
                return 0;
        }
        if (streq(jstr(b, "hash"), w->hash)) {
                json_object_put(b);
                reason[0] = 0;
                return 1;
        }
        struct strbuf s = { 0 };
        if (!streq(jstr(b, "base"), w->base)) {
                if (w->parent[0])
                        strbuf_printf(&s, "parent '%s' changed", w->parent);
                else
                        strbuf_printf(&s, "from changed");
        }
        if (!streq(jstr(b, "packages"), w->packages))
                strbuf_printf(&s, "%spackages changed", s.p ? ", " : "");
        if (!streq(jstr(b, "copy"), w->copy))
                strbuf_printf(&s, "%scopy changed", s.p ? ", " : "");
        if (!streq(jstr(b, "run"), w->run))
                strbuf_printf(&s, "%srun changed", s.p ? ", " : "");
        snprintf(reason, size, "%s", s.p ? s.p : "definition changed");
        free(s.p);
        json_object_put(b);
        return 0;
}

/* ---- building ------------------------------------------------------------------------- */

char *tbuild_log_path(const char *state_dir, const char *name)
{
        return strdup_printf("%s/" STATE_TBUILD "/%s.log", state_dir, name);
}

void tbuild_remove_leftovers(const char *state_dir)
{
        _cleanup_free_ char *dir = strdup_printf("%s/" STATE_TBUILD, state_dir);
        DIR *d = dir ? opendir(dir) : NULL;
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

struct build {
        const char *state_dir;
        const char *name;
        int log;
        struct error *e;
        char *tmp;    /* STATE/tbuild/.tmp-NAME.PID */
        char *merged; /* tmp/root: the build root */
};

static void logf_(struct build *b, const char *fmt, ...) _printf_(2, 3);
static void logf_(struct build *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void) vdprintf(b->log, fmt, ap);
        va_end(ap);
}

/* The last line of the log that says what went wrong: apt's "E: ..." if
 * there is one, else the last non-empty line. */
static void log_last_error(int log, char *out, size_t size)
{
        out[0] = 0;
        off_t end = lseek(log, 0, SEEK_END);
        if (end <= 0)
                return;
        char buf[8192];
        off_t from = end > (off_t) sizeof buf - 1 ? end - (off_t) sizeof buf + 1 : 0;
        ssize_t n = pread(log, buf, sizeof buf - 1, from);
        if (n <= 0)
                return;
        buf[n] = 0;
        char *last = NULL, *last_e = NULL, *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, "E: ", 3) == 0)
                        last_e = l;
                if (*l && strncmp(l, "+ ", 2) != 0)
                        last = l;
        }
        snprintf(out, size, "%s", last_e ? last_e : last ? last : "");
}

static void argv_text(char *const *argv, char *buf, size_t size)
{
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; argv[i] && off + 1 < size; i++)
                off += (size_t) snprintf(buf + off, size - off, "%s%s", i ? " " : "", argv[i]);
}

/* Runs argv with stdout and stderr to the log: on the host (root NULL) or
 * in the build root (chroot, a PID namespace of its own with /proc: every
 * process a step leaves behind dies with it; the host's network). */
static int run_step(struct build *b, const char *root, char *const argv[], char *const env[], const char *what)
{
        char cmd[512];
        argv_text(argv, cmd, sizeof cmd);
        logf_(b, "+ %s\n", cmd);
        pid_t self = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return error_set(b->e, -errno, "cannot fork");
        if (pid == 0) {
                /* the step dies with the build (and the build with berthd) */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self)
                        _exit(127);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, 0) < 0 || dup2(b->log, 1) < 0 || dup2(b->log, 2) < 0)
                        _exit(127);
                (void) close_range(3, ~0U, 0); /* nothing of berthd's reaches a step */
                if (root) {
                        if (unshare(CLONE_NEWPID) < 0) {
                                dprintf(2, "berth: unshare(CLONE_NEWPID): %s\n", strerror(errno));
                                _exit(127);
                        }
                        pid_t init = fork();
                        if (init < 0)
                                _exit(127);
                        if (init == 0) /* PID 1 of its namespace: getppid() says 0 */
                                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        if (init > 0) {
                                int st;
                                while (waitpid(init, &st, 0) < 0)
                                        if (errno != EINTR)
                                                _exit(127);
                                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                        }
                        char proc[PATH_MAX];
                        snprintf(proc, sizeof proc, "%s/proc", root);
                        (void) mkdir(proc, 0555);
                        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                                dprintf(2, "berth: cannot mount /proc in the build root: %s\n", strerror(errno));
                        if (chroot(root) < 0 || chdir("/") < 0) {
                                dprintf(2, "berth: chroot %s: %s\n", root, strerror(errno));
                                _exit(127);
                        }
                }
                (void) clearenv();
                for (size_t i = 0; env && env[i]; i++)
                        (void) putenv(env[i]);
                execvp(argv[0], argv);
                dprintf(2, "berth: cannot execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return error_set(b->e, -errno, "waitpid");
        if (root) {
                char proc[PATH_MAX];
                snprintf(proc, sizeof proc, "%s/proc", root);
                (void) umount2(proc, MNT_DETACH);
        }
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == 0)
                return 0;
        char last[300];
        log_last_error(b->log, last, sizeof last);
        logf_(b, "berth: %s failed: exit status %d\n", what, code);
        return error_set_msg(b->e, -EIO, "%s failed (%s: exit status %d)%s%s", what, cmd, code,
                             last[0] ? ": " : "", last);
}

/* Device nodes go (but overlayfs whiteouts, 0:0 character devices, when
 * whiteouts), setuid/setgid bits and file capabilities are cleared: what
 * template.c does to a built or imported template. */
static int clean_tree(int dfd, const char *rel, bool whiteouts, struct error *e, int depth)
{
        if (depth > 256)
                return error_set(e, -ELOOP, "%s: too deep", rel);
        _cleanup_(strv_freep) char **names = dir_names(dfd);
        if (!names)
                return error_set(e, -ENOMEM, "cannot list %s", rel);
        for (size_t i = 0; names[i]; i++) {
                struct stat st;
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set(e, -errno, "%s/%s", rel, names[i]);
                if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        if (whiteouts && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                                continue;
                        if (unlinkat(dfd, names[i], 0) < 0)
                                return error_set(e, -errno, "cannot remove the device node %s/%s", rel, names[i]);
                } else if (S_ISREG(st.st_mode)) {
                        if (st.st_mode & (S_ISUID | S_ISGID) &&
                            fchmodat(dfd, names[i], keep_mode(st.st_mode), 0) < 0)
                                return error_set(e, -errno, "cannot chmod %s/%s", rel, names[i]);
                        char p[PATH_MAX];
                        snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, names[i]);
                        (void) lremovexattr(p, "security.capability");
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_free_ char *srel = strdup_printf("%s/%s", rel, names[i]);
                        if (sub < 0 || !srel)
                                return error_set(e, sub < 0 ? -errno : -ENOMEM, "%s/%s", rel, names[i]);
                        int r = clean_tree(sub, srel, whiteouts, e, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int clean_dir(const char *dir, bool whiteouts, struct error *e)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(e, -errno, "cannot open %s", dir);
        return clean_tree(fd, dir, whiteouts, e, 0);
}

static char *layer_path(const char *state_dir, const char *hex)
{
        return strdup_printf("%s/" STATE_LAYERS "/sha256/%s", state_dir, hex);
}

/* Moves the finished tree dir into the layer store as hex (under the
 * store's lock); a layer already there (the same build, renamed before a
 * crash, or another template with the same definition) is kept. */
static int store_layer(struct build *b, const char *dir, const char *hex)
{
        _cleanup_free_ char *final = layer_path(b->state_dir, hex);
        _cleanup_free_ char *store = strdup_printf("%s/" STATE_LAYERS "/sha256", b->state_dir);
        if (!final || !store)
                return error_code(b->e, -ENOMEM);
        int r = mkdir_p(store, 0700);
        if (r < 0)
                return error_set(b->e, r, "cannot create %s", store);
        struct stat st;
        if (lstat(final, &st) == 0 && S_ISDIR(st.st_mode))
                return 0;
        if (chmod(dir, 0755) < 0)
                return error_set(b->e, -errno, "cannot chmod %s", dir);
        _cleanup_close_ int sfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd >= 0)
                (void) syncfs(sfd);
        if (rename(dir, final) < 0)
                return error_set(b->e, -errno, "cannot move the layer into %s", final);
        return 0;
}

static const char *base_script(const char *from)
{
        return streq(from, "debian") ? "debian.sh" : "busybox.sh";
}

/* The base layer (debootstrap or busybox), made once per base: its
 * digest "sha256:HEX" into ret. */
static int ensure_base(struct build *b, const struct spec_template *t, const char *base_hex, char **ret)
{
        _cleanup_free_ char *final = layer_path(b->state_dir, base_hex);
        if (!final)
                return error_code(b->e, -ENOMEM);
        *ret = strdup_printf("sha256:%s", base_hex);
        if (!*ret)
                return error_code(b->e, -ENOMEM);
        struct stat st;
        if (lstat(final, &st) == 0 && S_ISDIR(st.st_mode)) {
                logf_(b, "berth: base layer %s (%s) is in the store\n", base_hex, t->from);
                return 0;
        }
        _cleanup_free_ char *scripts = template_scripts_dir();
        _cleanup_free_ char *script = scripts ? strdup_printf("%s/%s", scripts, base_script(t->from)) : NULL;
        _cleanup_free_ char *dir = strdup_printf("%s/base", b->tmp);
        if (!script || !dir)
                return error_code(b->e, -ENOMEM);
        if (access(script, R_OK) < 0)
                return error_set(b->e, -errno, "no base script %s", script);
        if (mkdir(dir, 0755) < 0)
                return error_set(b->e, -errno, "cannot create %s", dir);
        logf_(b, "berth: making the %s base layer\n", t->from);
        int r;
        if (streq(t->from, "debian")) {
                _cleanup_free_ char *mirror = NULL, *suite = NULL;
                r = debian_base(t, &mirror, &suite, b->e);
                if (r < 0)
                        return r;
                _cleanup_free_ char *env_mirror = strdup_printf("DEBIAN_MIRROR=%s", mirror);
                if (!env_mirror)
                        return error_code(b->e, -ENOMEM);
                char *argv[] = { "/bin/sh", script, dir, suite, NULL };
                char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", env_mirror,
                                "LC_ALL=C", NULL };
                r = run_step(b, NULL, argv, env, "debootstrap");
        } else {
                char *argv[] = { "/bin/sh", script, dir, NULL };
                char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
                                NULL };
                r = run_step(b, NULL, argv, env, "the busybox base");
        }
        if (r >= 0)
                r = clean_dir(dir, false, b->e);
        if (r >= 0)
                r = store_layer(b, dir, base_hex);
        return r;
}

/* Mounts what a step needs in the build root: /dev (a tmpfs with the
 * host's null, zero, full, random, urandom, tty bound in) and the host's
 * resolv.conf over the root's (made for the build when there is none:
 * *made_resolv, removed after). */
static int mount_root_extras(struct build *b, bool *made_resolv)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/dev", b->merged);
        (void) mkdir(p, 0755);
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
                return error_set(b->e, -errno, "cannot mount /dev in the build root");
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                char host[64];
                snprintf(host, sizeof host, "/dev/%s", nodes[i]);
                snprintf(p, sizeof p, "%s/dev/%s", b->merged, nodes[i]);
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
                if (fd >= 0)
                        close(fd);
                if (mount(host, p, NULL, MS_BIND, NULL) < 0)
                        return error_set(b->e, -errno, "cannot bind %s in the build root", host);
        }
        snprintf(p, sizeof p, "%s/dev/shm", b->merged);
        (void) mkdir(p, 01777);
        snprintf(p, sizeof p, "%s/dev/fd", b->merged);
        if (symlink("/proc/self/fd", p) < 0 && errno != EEXIST)
                logf_(b, "berth: cannot link /dev/fd in the build root: %s\n", strerror(errno));
        /* resolv.conf: the root's own, unless it is a link (resolved in the root: leave it) */
        snprintf(p, sizeof p, "%s/etc", b->merged);
        _cleanup_close_ int etc = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (etc < 0)
                return 0;
        struct stat st;
        if (fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int fd = openat(etc, "resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0)
                        return 0;
                close(fd);
                *made_resolv = true;
        } else if (!S_ISREG(st.st_mode))
                return 0;
        snprintf(p, sizeof p, "%s/etc/resolv.conf", b->merged);
        if (mount("/etc/resolv.conf", p, NULL, MS_BIND, NULL) < 0)
                logf_(b, "berth: cannot bind the host's resolv.conf in the build root: %s\n", strerror(errno));
        return 0;
}

static void umount_root_extras(struct build *b, bool made_resolv)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/etc/resolv.conf", b->merged);
        (void) umount2(p, MNT_DETACH);
        if (made_resolv)
                (void) unlink(p);
        snprintf(p, sizeof p, "%s/dev", b->merged);
        (void) umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW);
}

static char *const step_env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "HOME=/root", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "TERM=dumb",
                                   NULL };

static int install_packages(struct build *b, const struct spec_template *t)
{
        /* no service starts during the build (invoke-rc.d asks policy-rc.d) */
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/usr/sbin/policy-rc.d", b->merged);
        static const char policy[] = "#!/bin/sh\n# berth: no services start in a template build\nexit 101\n";
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
        bool made_policy = fd >= 0;
        if (fd >= 0) {
                (void) !write(fd, policy, sizeof policy - 1);
                close(fd);
        }
        char *update[] = { "apt-get", "-q", "update", NULL };
        int r = run_step(b, b->merged, update, step_env, "apt-get update");
        if (r >= 0) {
                size_t n = strv_length(t->packages);
                _cleanup_free_ char **argv = calloc(n + 8, sizeof(char *));
                if (!argv)
                        r = error_code(b->e, -ENOMEM);
                else {
                        size_t k = 0;
                        argv[k++] = "apt-get";
                        argv[k++] = "-q";
                        argv[k++] = "-y";
                        argv[k++] = "--no-install-recommends";
                        argv[k++] = "install";
                        argv[k++] = "--";
                        for (size_t i = 0; i < n; i++)
                                argv[k++] = t->packages[i];
                        r = run_step(b, b->merged, argv, step_env, "apt-get install");
                }
        }
        if (r >= 0) {
                char *clean[] = { "/bin/sh", "-c",
                                  "apt-get clean && rm -rf /var/lib/apt/lists/*_* /var/cache/apt/*.bin", NULL };
                r = run_step(b, b->merged, clean, step_env, "apt-get clean");
        }
        if (made_policy)
                (void) unlink(p);
        return r;
}

/* Copies c's source into the build root: the target's directories are
 * resolved inside the root (openat2 RESOLVE_IN_ROOT: a link in the root
 * never leads out of it) and made when missing. */
static int copy_in(struct build *b, const struct spec_template *t, const struct spec_template_copy *c)
{
        logf_(b, "+ copy %s %s\n", c->source, c->target);
        _cleanup_close_ int root = open(b->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return error_set(b->e, -errno, "cannot open the build root");
        _cleanup_free_ char *parent = strdup(c->target);
        if (!parent)
                return error_code(b->e, -ENOMEM);
        char *slash = strrchr(parent, '/');
        const char *base = c->target + (slash - parent) + 1;
        *slash = 0;
        _cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return error_set(b->e, -errno, "cannot open the build root");
        /* each directory of the target's parent in turn, made when missing */
        char prefix[PATH_MAX] = "";
        char *save = NULL;
        for (char *comp = strtok_r(parent, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                size_t n = strlen(prefix);
                snprintf(prefix + n, sizeof prefix - n, "%s%s", n ? "/" : "", comp);
                struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
                int fd = (int) syscall(SYS_openat2, root, prefix, &how, sizeof how);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST)
                                return error_set(b->e, -errno, "copy: cannot make /%s in the template", prefix);
                        fd = (int) syscall(SYS_openat2, root, prefix, &how, sizeof how);
                }
                if (fd < 0)
                        return error_set(b->e, -errno, "copy: /%s in the template", prefix);
                close(dir);
                dir = fd;
        }
        struct walk w = { .e = b->e, .source = c->source };
        int r = walk_entry(&w, AT_FDCWD, c->source, dir, base, c->target, true);
        if (r < 0)
                return error_wrap(b->e, "template '%s' (%s:%d)", t->name, t->file, c->line);
        return 0;
}

static int write_record(struct build *b, const struct spec_template *t, const struct tbuild_want *w,
                        char *const *layers, usec_t took)
{
        struct json_object *o = json_object_new_object(), *ls = json_object_new_array(),
                           *bo = json_object_new_object();
        if (!o || !ls || !bo) {
                json_object_put(o);
                json_object_put(ls);
                json_object_put(bo);
                return error_code(b->e, -ENOMEM);
        }
        _cleanup_free_ char *source = strdup_printf("build:%s", w->hash);
        json_object_object_add(o, "name", json_object_new_string(t->name));
        json_object_object_add(o, "source", json_object_new_string(source ? source : ""));
        for (size_t i = 0; layers[i]; i++)
                json_object_array_add(ls, json_object_new_string(layers[i]));
        json_object_object_add(o, "layers", ls);
        json_object_object_add(o, "ExposedPorts", json_object_new_array());
        json_object_object_add(o, "unpacked-bytes", json_object_new_int64(0));
        json_object_object_add(o, "special-files", json_object_new_string("dropped"));
        json_object_object_add(o, "devices-dropped", json_object_new_int(0));
        json_object_object_add(bo, "hash", json_object_new_string(w->hash));
        json_object_object_add(bo, "from", json_object_new_string(t->from));
        json_object_object_add(bo, "base", json_object_new_string(w->base));
        json_object_object_add(bo, "packages", json_object_new_string(w->packages));
        json_object_object_add(bo, "copy", json_object_new_string(w->copy));
        json_object_object_add(bo, "run", json_object_new_string(w->run));
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_object_object_add(bo, "built-usec",
                               json_object_new_int64((int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
        json_object_object_add(bo, "build-usec", json_object_new_int64((int64_t) took));
        json_object_object_add(o, "build", bo);
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        _cleanup_free_ char *dir = images_dir(b->state_dir);
        int r = dir ? mkdir_p(dir, 0700) : -ENOMEM;
        _cleanup_close_ int dfd = r >= 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (r >= 0 && dfd < 0)
                r = -errno;
        if (r >= 0)
                r = write_file_atomic(dfd, t->name, text, strlen(text), 0600);
        json_object_put(o);
        if (r < 0)
                return error_set(b->e, r, "cannot write the record of template '%s' in %s", t->name, dir);
        return 0;
}

static usec_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * 1000000 + (usec_t) ts.tv_nsec / 1000;
}

static int build_in(struct build *b, const struct spec_set *set, const struct spec_template *t,
                    const struct tbuild_want *w)
{
        usec_t t0 = mono_usec();
        _cleanup_(strv_freep) char **layers = calloc(1, sizeof(char *));
        if (!layers)
                return error_code(b->e, -ENOMEM);
        /* The layers below: the base's, or the parent's record. */
        if (is_base(t->from)) {
                _cleanup_free_ char *base = NULL;
                int r = ensure_base(b, t, w->base, &base);
                if (r < 0 || strv_push(&layers, base) < 0)
                        return r < 0 ? r : error_code(b->e, -ENOMEM);
        } else {
                const struct spec_template *p = spec_set_find_template(set, t->from);
                if (!p)
                        return error_set(b->e, -ENOENT, "no template '%s'", t->from);
                if (tbuild_is_declarative(p)) {
                        struct tbuild_want pw;
                        char why[128];
                        int r = tbuild_want(set, p->name, &pw, b->e);
                        if (r < 0)
                                return r;
                        if (tbuild_current(b->state_dir, p->name, &pw, why, sizeof why) <= 0)
                                return error_set_msg(b->e, -EAGAIN, "its parent '%s' is not built (%s)", p->name, why);
                } else {
                        logf_(b, "berth: importing the image of '%s' (%s)\n", p->name, p->from);
                        int r = image_ensure(b->state_dir, p->name, p->from, b->e);
                        if (r < 0)
                                return r;
                }
                _cleanup_(image_info_freep) struct image_info *pi = NULL;
                int r = image_read(b->state_dir, p->name, &pi);
                if (r < 0)
                        return error_set(b->e, r, "cannot read the record of its parent '%s'", p->name);
                strv_free(layers);
                layers = strv_copy(pi->layers);
                if (!layers)
                        return error_code(b->e, -ENOMEM);
        }
        if (strv_length(layers) + 1 > IMAGE_LAYERS_MAX)
                return error_set(b->e, -E2BIG, "more than %d layers", IMAGE_LAYERS_MAX);
        /* The overlay: the layers below, top first; the new layer as upper. */
        _cleanup_free_ char *upper = strdup_printf("%s/layer", b->tmp);
        _cleanup_free_ char *work = strdup_printf("%s/work", b->tmp);
        struct strbuf opts = { 0 };
        strbuf_printf(&opts, "lowerdir=");
        for (size_t k = strv_length(layers); k-- > 0;) {
                _cleanup_free_ char *lp = layer_path(b->state_dir, layers[k] + strlen("sha256:"));
                strbuf_printf(&opts, "%s%s", lp, k ? ":" : "");
        }
        strbuf_printf(&opts, ",upperdir=%s,workdir=%s", upper, work);
        if (!upper || !work || opts.error || !opts.p) {
                free(opts.p);
                return error_code(b->e, -ENOMEM);
        }
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(b->merged, 0755) < 0) {
                free(opts.p);
                return error_set(b->e, -errno, "cannot create the build directories in %s", b->tmp);
        }
        int r = mount("overlay", b->merged, "overlay", 0, opts.p);
        free(opts.p);
        if (r < 0)
                return error_set(b->e, -errno, "cannot mount the build root (overlayfs over %zu layers)",
                                 strv_length(layers));
        bool made_resolv = false;
        r = mount_root_extras(b, &made_resolv);
        if (r >= 0 && t->packages)
                r = install_packages(b, t);
        for (size_t i = 0; r >= 0 && i < t->n_copies; i++)
                r = copy_in(b, t, &t->copies[i]);
        if (r >= 0 && t->run)
                r = run_step(b, b->merged, t->run, step_env, "run");
        umount_root_extras(b, made_resolv);
        if (umount2(b->merged, MNT_DETACH) < 0 && r >= 0)
                r = error_set(b->e, -errno, "cannot unmount the build root");
        if (r < 0)
                return r;
        r = clean_dir(upper, true, b->e);
        if (r < 0)
                return r;
        _cleanup_free_ char *own = strdup_printf("sha256:%s", w->hash);
        if (!own || strv_push(&layers, own) < 0)
                return error_code(b->e, -ENOMEM);
        /* Into place: the layer first, then the record that names it. */
        _cleanup_free_ char *store = strdup_printf("%s/" STATE_LAYERS, b->state_dir);
        _cleanup_close_ int lock = store ? lock_dir(store) : -ENOMEM;
        if (lock < 0)
                return error_set(b->e, lock, "cannot lock the layer store %s", store ? store : "");
        r = store_layer(b, upper, w->hash);
        if (r >= 0)
                r = write_record(b, t, w, layers, mono_usec() - t0);
        return r;
}

int tbuild_build(const char *state_dir, const struct spec_set *set, const char *name, int log_fd,
                 struct error *e)
{
        const struct spec_template *t = spec_set_find_template(set, name);
        if (!t || !tbuild_is_declarative(t))
                return error_set(e, -ENOENT, "no declarative template '%s'", name);
        struct tbuild_want w;
        int r = tbuild_want(set, name, &w, e);
        if (r < 0)
                return r;
        struct build b = { .state_dir = state_dir, .name = name, .log = log_fd, .e = e };
        _cleanup_free_ char *dir = strdup_printf("%s/" STATE_TBUILD, state_dir);
        b.tmp = strdup_printf("%s/" STATE_TBUILD "/.tmp-%s.%d", state_dir, name, (int) getpid());
        b.merged = strdup_printf("%s/root", b.tmp ? b.tmp : "");
        if (!dir || !b.tmp || !b.merged) {
                r = error_code(e, -ENOMEM);
                goto out;
        }
        logf_(&b, "berth: building template '%s' (%s:%d) from %s, definition %.16s\n", name, t->file, t->line,
              t->from, w.hash);
        /* The mounts of the build are this process's own. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                r = error_set(e, -errno, "cannot make a mount namespace for the build");
                goto out;
        }
        r = mkdir_p(dir, 0700);
        if (r >= 0) {
                (void) rm_rf(b.tmp);
                if (mkdir(b.tmp, 0700) < 0)
                        r = -errno;
        }
        if (r < 0) {
                r = error_set(e, r, "cannot create %s", b.tmp);
                goto out;
        }
        r = build_in(&b, set, t, &w);
out:
        if (b.tmp) {
                if (b.merged)
                        (void) umount2(b.merged, MNT_DETACH);
                (void) rm_rf(b.tmp);
        }
        if (r < 0)
                logf_(&b, "berth: the build of template '%s' failed: %s\n", name, error_message(e));
        else
                logf_(&b, "berth: template '%s' built (definition %.16s)\n", name, w.hash);
        free(b.tmp);
        free(b.merged);
        return r;
}
