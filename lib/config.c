#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <confuse.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "keys.h"
#include "parse.h"
#include "seccomp_profile.h"
#include "util.h"

/*
 * Every leaf value is stored as a struct cval: its text exactly as written
 * and the line it was written on. libconfuse's own typed values carry no
 * line, and every error we report after parsing must name one.
 */
struct cval {
        char *text;
        int line;
};

static int cval_parse(cfg_t *cfg, _unused_ cfg_opt_t *opt, const char *value, void *result)
{
        struct cval *v = calloc(1, sizeof *v);
        if (!v)
                return -1;
        v->text = strdup(value);
        if (!v->text) {
                free(v);
                return -1;
        }
        v->line = cfg->line;
        *(void **) result = v;
        return 0;
}

static void cval_free(void *p)
{
        struct cval *v = p;
        if (v)
                free(v->text);
        free(v);
}

/* ---- the schema, from the key table ------------------------------------- */

struct schema {
        cfg_opt_t *opts; /* every block's options, each block's contiguous and ended */
        size_t n, size;
};

static void schema_done(struct schema *sc)
{
        free(sc->opts);
}

/* Lays out the options of block path (its rows, then CFG_END), then each
 * sub-block's. Returns the block's first option. */
static cfg_opt_t *schema_block(struct schema *sc, const char *path)
{
        char sub[64];
        size_t first = sc->n;
        for (const struct key_def *k = keys_table(NULL); k->name; k++) {
                if (!streq(k->block, path))
                        continue;
                assert(sc->n < sc->size);
                if (k->type == KEY_BLOCK)
                        sc->opts[sc->n++] = (cfg_opt_t) CFG_SEC(k->name, NULL,
                                                                (k->flags & KEYF_MULTI) ? CFGF_MULTI | CFGF_TITLE
                                                                                        : CFGF_NONE);
                else if (k->flags & KEYF_LIST)
                        sc->opts[sc->n++] = (cfg_opt_t) CFG_PTR_LIST_CB(k->name, NULL, CFGF_NODEFAULT, cval_parse,
                                                                        cval_free);
                else
                        sc->opts[sc->n++] = (cfg_opt_t) CFG_PTR_CB(k->name, NULL, CFGF_NODEFAULT, cval_parse,
                                                                   cval_free);
        }
        assert(sc->n < sc->size);
        sc->opts[sc->n++] = (cfg_opt_t) CFG_END();
        for (size_t i = first; sc->opts[i].name; i++)
                if (sc->opts[i].type == CFGT_SEC) {
                        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", sc->opts[i].name);
                        sc->opts[i].subopts = schema_block(sc, sub);
                }
        return &sc->opts[first];
}

/* The libconfuse schema of the whole language: one option per key. */
static int schema_build(struct schema *sc)
{
        size_t rows = 0;
        const struct key_def *t = keys_table(&rows);
        size_t blocks = 1;
        for (size_t i = 0; i < rows; i++)
                blocks += t[i].type == KEY_BLOCK;
        *sc = (struct schema){ .size = rows + blocks };
        sc->opts = calloc(sc->size, sizeof *sc->opts);
        if (!sc->opts)
                return -ENOMEM;
        (void) schema_block(sc, "");
        return 0;
}

/* ---- the pre-scan -------------------------------------------------------
 * libconfuse 3.3 miscounts lines after comments and records only where a
 * section ends. So before it sees the text we blank out comments (keeping
 * newlines) and record where each section opens. */

#define SCAN_DEPTH_MAX 16
#define SCAN_OPTS_MAX 32 /* keys and blocks in one section of the schema */

struct tok {
        int kind; /* 'w' word, 's' string, or the punctuation character, '+' for += */
        size_t start, len;
        int line;
};

struct sec_rec {
        char name[16];
        char *title;
        int line;
        int depth;
        int parent; /* index in the record list, -1 at top level */
};

struct scan {
        struct sec_rec *recs;
        size_t n;
};

static void scan_done(struct scan *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->recs[i].title);
        free(s->recs);
}

static int scan_add(struct scan *s, const char *buf, const struct tok *name, const struct tok *title,
                    int depth, int parent)
{
        if ((s->n & (s->n - 1)) == 0) { /* 0, 1, 2, 4, ...: double, so a long file stays linear */
                struct sec_rec *n = realloc(s->recs, (s->n ? 2 * s->n : 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                s->recs = n;
        }
        struct sec_rec *r = &s->recs[s->n];
        *r = (struct sec_rec){ .line = name->line, .depth = depth, .parent = parent };
        snprintf(r->name, sizeof r->name, "%.*s", (int) name->len, buf + name->start);
        if (title) {
                size_t st = title->start, ln = title->len;
                if (title->kind == 's' && ln >= 2) { /* strip the quotes */
                        st++;
                        ln -= 2;
                }
                r->title = strndup(buf + st, ln);
                if (!r->title)
                        return -ENOMEM;
        }
        s->n++;
        return 0;
}

static bool is_word_char(char c)
{
        return c && !isspace((unsigned char) c) && !strchr("{}(),=+\"'#", c);
}

static const cfg_opt_t *opt_find(const cfg_opt_t *opts, const char *buf, const struct tok *t)
{
        for (const cfg_opt_t *o = opts; o && o->name; o++)
                if (strlen(o->name) == t->len && memcmp(o->name, buf + t->start, t->len) == 0)
                        return o;
        return NULL;
}

static void blank(char *buf, size_t from, size_t to)
{
        for (size_t i = from; i < to; i++)
                if (buf[i] != '\n')
                        buf[i] = ' ';
}

struct frame {
        char kind;             /* 'S' section, 'L' list */
        int rec;               /* the section's record, or -1 */
        const cfg_opt_t *opts; /* the section's keys; NULL inside an unknown section */
        ssize_t blank_from;    /* >= 0: blank through the closing brace */
        int line;              /* of the opening brace */
        int set_at[SCAN_OPTS_MAX]; /* where each single-valued key was first set */
};

/* A single-valued key or a single block given again in the same section:
 * libconfuse would silently keep the last one. */
static void check_set_twice(struct frame *f, const struct scan *s, const cfg_opt_t *o, const struct tok *key,
                            struct diag *d, const char *file)
{
        size_t i = (size_t) (o - f->opts);
        if (i >= SCAN_OPTS_MAX || (o->flags & (CFGF_LIST | CFGF_MULTI)))
                return;
        if (!f->set_at[i]) {
                f->set_at[i] = key->line;
                return;
        }
        const struct sec_rec *r = f->rec >= 0 ? &s->recs[f->rec] : NULL;
        bool nested = r && r->depth > 0;
        diag_add(d, file, key->line, "%s%s%s: set twice (first at line %d)", nested ? r->name : "",
                 nested ? "." : "", o->name, f->set_at[i]);
}

/*
 * Blanks comments in buf in place (keeping newlines, so lines stay right),
 * records where sections open, and checks every key against the schema:
 * an unknown key or block, or a list where one value belongs, is reported
 * and blanked out, so libconfuse (which stops at the first unknown key)
 * goes on and every such mistake is reported in one pass.
 */
static int prescan(char *buf, size_t len, const cfg_opt_t *top_opts, struct scan *s, struct diag *d,
                   const char *file)
{
        struct tok prev[3] = { 0 }; /* the last three tokens, prev[2] newest */
        struct frame stack[SCAN_DEPTH_MAX + 1];
        int sp = 0, line = 1, sec_depth = 0;
        size_t too_deep = 0; /* braces opened beyond SCAN_DEPTH_MAX */
        bool env_reported = false;
        ssize_t skip_value_from = -1; /* blank the next value from here */

        for (size_t i = 0; i < len;) {
                char c = buf[i];
                if (c == '\n') {
                        line++;
                        i++;
                        continue;
                }
                if (isspace((unsigned char) c)) {
                        i++;
                        continue;
                }
                if (c == '#' || (c == '/' && i + 1 < len && buf[i + 1] == '/')) {
                        while (i < len && buf[i] != '\n')
                                buf[i++] = ' ';
                        continue;
                }
                if (c == '/' && i + 1 < len && buf[i + 1] == '*') {
                        while (i < len && !(buf[i] == '*' && i + 1 < len && buf[i + 1] == '/')) {
                                if (buf[i] == '\n')
                                        line++;
                                else
                                        buf[i] = ' ';
                                i++;
                        }
                        if (i < len) {
                                buf[i++] = ' ';
                                buf[i++] = ' ';
                        }
                        continue;
                }
                struct tok t = { .start = i, .line = line };
                bool env_here = false;
                if (c == '"' || c == '\'') {
                        size_t j = i + 1;
                        while (j < len && buf[j] != c) {
                                if (buf[j] == '\\' && j + 1 < len) {
                                        if (buf[j + 1] == '\n')
                                                line++;
                                        j += 2;
                                        continue;
                                }
                                if (c == '"' && buf[j] == '$' && j + 1 < len && buf[j + 1] == '{') {
                                        if (!env_reported)
                                                diag_add(d, file, line,
                                                         "'${' would expand an environment variable: write '\\${' "
                                                         "or use single quotes");
                                        env_reported = env_here = true;
                                        buf[j] = '_'; /* reported: no expansion, whatever the environment */
                                }
                                if (buf[j] == '\n')
                                        line++;
                                j++;
                        }
                        t.kind = 's';
                        t.len = (j < len ? j + 1 : j) - i;
                        i += t.len;
                } else if (c == '+' && i + 1 < len && buf[i + 1] == '=') {
                        t.kind = '+';
                        t.len = 2;
                        i += 2;
                } else if (strchr("{}(),=+", c)) {
                        t.kind = c;
                        t.len = 1;
                        i++;
                } else {
                        size_t j = i;
                        while (j < len && is_word_char(buf[j])) {
                                if (buf[j] == '$' && j + 1 < len && buf[j + 1] == '{') {
                                        if (!env_reported)
                                                diag_add(d, file, line,
                                                         "'${' would expand an environment variable: quote the "
                                                         "value with single quotes");
                                        env_reported = env_here = true;
                                        /* Reported: make "${NAME}" one plain word, so neither the
                                         * scan nor libconfuse takes its braces for a block. */
                                        buf[j] = buf[j + 1] = '_';
                                        for (size_t k = j + 2; k < len && buf[k] != '\n'; k++)
                                                if (buf[k] == '}') {
                                                        buf[k] = '_';
                                                        break;
                                                }
                                }
                                j++;
                        }
                        if (j == i)
                                j++; /* a stray byte: let libconfuse complain about it */
                        t.kind = 'w';
                        t.len = j - i;
                        i = j;
                }

                bool in_section = sp == 0 || stack[sp - 1].kind == 'S';
                if (env_here && in_section && prev[2].kind == '=' && prev[1].kind == 'w') {
                        /* KEY = "${...}": reported; drop the whole setting rather than
                         * let the expanded (or mangled) value raise a second error. */
                        blank(buf, prev[1].start, t.start + t.len);
                        skip_value_from = -1;
                        goto next;
                }
                const cfg_opt_t *cur = sp == 0 ? top_opts : stack[sp - 1].opts;
                /* The enclosing section's record, by index: scan_add() moves the records. */
                int what = sp > 0 ? stack[sp - 1].rec : -1;
                bool checking = in_section && (sp == 0 || cur);

                if ((t.kind == '=' || t.kind == '+') && checking && prev[2].kind == 'w') {
                        const cfg_opt_t *o = opt_find(cur, buf, &prev[2]);
                        int kl = (int) prev[2].len;
                        const char *kp = buf + prev[2].start;
                        if (o && o->type != CFGT_SEC && t.kind == '=' && sp > 0)
                                check_set_twice(&stack[sp - 1], s, o, &prev[2], d, file);
                        if (!o || o->type == CFGT_SEC) {
                                if (o)
                                        diag_add(d, file, prev[2].line, "%.*s: is a block: write %.*s { ... }", kl, kp,
                                                 kl, kp);
                                else if (what >= 0)
                                        diag_add(d, file, prev[2].line, "unknown key '%.*s' in %s", kl, kp,
                                                 s->recs[what].name);
                                else
                                        diag_add(d, file, prev[2].line,
                                                 "unknown key '%.*s' (expected container NAME { } or network NAME { })",
                                                 kl, kp);
                                skip_value_from = (ssize_t) prev[2].start;
                        }
                } else if (skip_value_from >= 0 && t.kind != '{') {
                        /* The value of a key we dropped: a single word or string. */
                        blank(buf, (size_t) skip_value_from, t.start + t.len);
                        skip_value_from = -1;
                        goto next;
                }

                if (t.kind == '{') {
                        bool list = prev[2].kind == '=' || prev[2].kind == '+';
                        if (sp >= SCAN_DEPTH_MAX) {
                                too_deep++; /* libconfuse will refuse this nesting */
                                goto next;
                        }
                        struct frame f = { .kind = list ? 'L' : 'S', .rec = -1, .blank_from = -1, .line = t.line };
                        if (list) {
                                if (skip_value_from >= 0) {
                                        f.blank_from = skip_value_from;
                                        skip_value_from = -1;
                                } else if (checking && prev[1].kind == 'w') {
                                        const cfg_opt_t *o = opt_find(cur, buf, &prev[1]);
                                        if (o && o->type != CFGT_SEC && !(o->flags & CFGF_LIST)) {
                                                diag_add(d, file, prev[1].line,
                                                         "%.*s: takes one value, not a list", (int) prev[1].len,
                                                         buf + prev[1].start);
                                                f.blank_from = (ssize_t) prev[1].start;
                                        }
                                }
                        } else {
                                const struct tok *name = NULL, *title = NULL;
                                if ((prev[2].kind == 'w' || prev[2].kind == 's') && prev[1].kind == 'w' &&
                                    prev[0].kind != '=' && prev[0].kind != '+') {
                                        name = &prev[1];
                                        title = &prev[2];
                                } else if (prev[2].kind == 'w')
                                        name = &prev[2];
                                if (name) {
                                        int parent = -1;
                                        for (int k = sp - 1; k >= 0; k--)
                                                if (stack[k].kind == 'S') {
                                                        parent = stack[k].rec;
                                                        break;
                                                }
                                        if (scan_add(s, buf, name, title, sec_depth, parent) < 0)
                                                return -ENOMEM;
                                        f.rec = (int) s->n - 1;
                                        if (checking) {
                                                const cfg_opt_t *o = opt_find(cur, buf, name);
                                                int nl = (int) name->len;
                                                const char *np = buf + name->start;
                                                if (o && o->type == CFGT_SEC) {
                                                        f.opts = o->subopts;
                                                        if (sp > 0)
                                                                check_set_twice(&stack[sp - 1], s, o, name, d, file);
                                                }
                                                else {
                                                        if (o)
                                                                diag_add(d, file, name->line,
                                                                         "%.*s: is a key, not a block: write %.*s = VALUE",
                                                                         nl, np, nl, np);
                                                        else if (what >= 0)
                                                                diag_add(d, file, name->line,
                                                                         "unknown block '%.*s' in %s", nl, np,
                                                                         s->recs[what].name);
                                                        else
                                                                diag_add(d, file, name->line,
                                                                         "unknown block '%.*s' (expected container or network)",
                                                                         nl, np);
                                                        f.blank_from = (ssize_t) name->start;
                                                }
                                        }
                                }
                                sec_depth++;
                        }
                        stack[sp++] = f;
                } else if (t.kind == '}' && too_deep > 0) {
                        too_deep--;
                } else if (t.kind == '}' && sp > 0) {
                        struct frame *f = &stack[--sp];
                        if (f->kind == 'S')
                                sec_depth--;
                        if (f->blank_from >= 0)
                                blank(buf, (size_t) f->blank_from, t.start + 1);
                }
        next:
                prev[0] = prev[1];
                prev[1] = prev[2];
                prev[2] = t;
        }
        /* libconfuse accepts a file that ends inside a block. */
        if (sp > 0 || too_deep > 0)
                diag_add(d, file, sp > 0 ? stack[0].line : line, "'{' is never closed (missing '}' at the end of the file)");
        return 0;
}

/* Records are in file order, and a section's blocks follow it up to the
 * next top-level record: searching from where the caller expects the record
 * keeps reading a file with many thousands of sections linear. */
static const struct sec_rec *scan_find(const struct scan *s, size_t from, int parent, const char *name,
                                       const char *title)
{
        for (size_t k = 0; k < s->n; k++) {
                const struct sec_rec *r = &s->recs[(from + k) % s->n];
                if (r->parent == parent && streq(r->name, name) && streq_ptr(r->title, title))
                        return r;
        }
        return NULL;
}

static const struct sec_rec *scan_find_child(const struct scan *s, int parent, const char *name, const char *title)
{
        for (size_t i = (size_t) parent + 1; parent >= 0 && i < s->n && s->recs[i].depth > 0; i++) {
                const struct sec_rec *r = &s->recs[i];
                if (r->parent == parent && streq(r->name, name) && streq_ptr(r->title, title))
                        return r;
        }
        return NULL;
}

static int cmp_rec_ptr(const void *a, const void *b)
{
        const struct sec_rec *x = *(const struct sec_rec *const *) a, *y = *(const struct sec_rec *const *) b;
        int r = strcmp(x->name, y->name);
        if (r == 0 && (!x->title || !y->title))
                r = (x->title != NULL) - (y->title != NULL);
        else if (r == 0)
                r = strcmp(x->title, y->title);
        return r ? r : (x > y) - (x < y); /* then in file order */
}

/* ---- reading values ------------------------------------------------------ */

struct ctx {
        const char *file;
        struct diag *d;
        const char *prefix; /* "limits." etc., for messages */
        size_t next_rec;    /* where the next top-level record is expected */
        int r;              /* -ENOMEM once an allocation failed: nothing read is trusted */
};

/* Sections that repeat the name and title of an earlier one, which
 * libconfuse would merge: top-level ones (parent < 0), or the mounts of the
 * section whose record is parent. Sorted, so thousands of sections cost
 * n log n. */
static void report_declared_twice(struct ctx *x, const struct scan *s, int parent)
{
        size_t from = parent < 0 ? 0 : (size_t) parent + 1, n = 0;
        _cleanup_free_ const struct sec_rec **v = calloc(s->n + 1, sizeof *v);
        if (!v)
                return;
        for (size_t i = from; i < s->n; i++) {
                const struct sec_rec *r = &s->recs[i];
                if (parent < 0 && r->depth == 0)
                        v[n++] = r;
                else if (parent >= 0 && r->depth == 0)
                        break; /* past this section's blocks */
                else if (parent >= 0 && r->parent == parent && streq(r->name, "mount"))
                        v[n++] = r;
        }
        qsort(v, n, sizeof *v, cmp_rec_ptr);
        for (size_t i = 1, first = 0; i < n; i++) {
                if (!streq(v[i]->name, v[first]->name) || !streq_ptr(v[i]->title, v[first]->title)) {
                        first = i;
                        continue;
                }
                const char *title = v[i]->title ? v[i]->title : "";
                if (parent < 0)
                        diag_add(x->d, x->file, v[i]->line, "%s '%s' declared twice (first at %s:%d)", v[i]->name,
                                 title, x->file, v[first]->line);
                else
                        diag_add(x->d, x->file, v[i]->line, "mount '%s' declared twice (first at line %d)", title,
                                 v[first]->line);
        }
}

#define err(x, line, ...) diag_add((x)->d, (x)->file, (line), __VA_ARGS__)

/* The value of a single-valued key, or NULL when not set. */
static const struct cval *get(cfg_t *sec, const char *key)
{
        if (!sec)
                return NULL;
        return cfg_getptr(sec, key);
}

static int line_of(cfg_t *sec, const char *key)
{
        if (!sec || cfg_size(sec, key) == 0)
                return 0;
        const struct cval *v = cfg_getnptr(sec, key, 0);
        return v ? v->line : 0;
}

static void oom(struct ctx *x)
{
        x->r = -ENOMEM;
}

/* A list into a strv; entries must be non-empty. Returns the first line. */
static int get_strv(struct ctx *x, cfg_t *sec, const char *key, const char *prefix, char ***out)
{
        unsigned n = sec ? cfg_size(sec, key) : 0;
        int first = 0;
        if (n == 0)
                return 0;
        char **v = calloc(1, sizeof(char *));
        if (!v) {
                oom(x);
                return 0;
        }
        for (unsigned i = 0; i < n; i++) {
                const struct cval *e = cfg_getnptr(sec, key, i);
                if (!e)
                        continue;
                if (!first)
                        first = e->line;
                if (i >= SPEC_LIST_MAX) {
                        err(x, e->line, "%s%s: more than %d entries", prefix, key, SPEC_LIST_MAX);
                        break;
                }
                if (!e->text[0]) {
                        err(x, e->line, "%s%s: entry %u is empty", prefix, key, i + 1);
                        continue;
                }
                if (strv_push(&v, e->text) < 0) {
                        oom(x);
                        break;
                }
        }
        strv_free(*out);
        *out = v;
        return first;
}

/* "limits." for a key of container.limits: how messages name the key. */
static const char *key_prefix(const struct key_def *k)
{
        const char *b = k->block;
        if (strncmp(b, "container.", strlen("container.")) == 0)
                return b + strlen("container.");
        return "";
}

/* Reads key k of section sec into spec with the table's parser and check.
 * Returns the line it was set on, 0 when it is not set or its value is
 * wrong (reported). An allocation failure is an error of the whole read
 * (x->r), never "not set": a dropped user = line would run as root. */
static int read_key(struct ctx *x, cfg_t *sec, const struct key_def *k, void *spec)
{
        char prefix[32], msg[256];
        snprintf(prefix, sizeof prefix, "%s%s", key_prefix(k), key_prefix(k)[0] ? "." : "");
        int line = 0;
        if (k->type == KEY_STRV) {
                char ***field = (char ***) ((char *) spec + k->offset);
                line = get_strv(x, sec, k->name, prefix, field);
                for (size_t i = 0; line && k->check && *field && (*field)[i]; i++) {
                        const char *bad = k->check((*field)[i]);
                        if (bad) {
                                snprintf(msg, sizeof msg, bad, (*field)[i]);
                                err(x, line, "%s%s: %s", prefix, k->name, msg);
                        }
                }
        } else {
                const struct cval *v = get(sec, k->name);
                if (!v)
                        return 0;
                int r = key_parse(k, v->text, spec, msg, sizeof msg);
                if (r == -ENOMEM) {
                        oom(x);
                        return 0;
                }
                if (r < 0)
                        err(x, v->line, "%s%s: %s", prefix, k->name, msg);
                /* A string is set once stored, even when its check failed (reported). */
                if (r >= 0 || (k->type == KEY_STR && v->text[0]))
                        line = v->line;
        }
        if (line && k->line_offset)
                *(int *) ((char *) spec + k->line_offset) = line;
        return line;
}

/* Every key of block that is read on its own (not by its block's reader). */
static void read_keys(struct ctx *x, cfg_t *sec, const char *block, void *spec)
{
        for (const struct key_def *k = keys_table(NULL); k->name; k++)
                if (streq(k->block, block) && k->type != KEY_BLOCK && k->type != KEY_CUSTOM &&
                    !(k->flags & KEYF_BY_BLOCK))
                        (void) read_key(x, sec, k, spec);
}

static int read_one(struct ctx *x, cfg_t *sec, const char *block, const char *name, void *spec)
{
        const struct key_def *k = keys_find(block, name);
        assert(k);
        return read_key(x, sec, k, spec);
}

#define CANONICAL_HINT "must be a canonical absolute path (no . or .. components, no //, no trailing /)"

static uint64_t caps_from_list(struct ctx *x, cfg_t *sec, const char *key, bool *all)
{
        uint64_t mask = 0;
        unsigned n = cfg_size(sec, key);
        for (unsigned i = 0; i < n; i++) {
                const struct cval *v = cfg_getnptr(sec, key, i);
                int cap;
                if (strcasecmp(v->text, "all") == 0) {
                        *all = true;
                        mask |= capability_last() >= 63 ? ~0ULL : (1ULL << (capability_last() + 1)) - 1;
                        continue;
                }
                if (parse_capability(v->text, &cap) < 0) {
                        err(x, v->line, "capabilities.%s: '%s' is not a capability (e.g. net_admin, sys_ptrace, all)",
                            key, v->text);
                        continue;
                }
                mask |= 1ULL << cap;
        }
        return mask;
}

static void read_network_block(struct ctx *x, cfg_t *net, struct spec_container *c)
{
        int mode_line = read_one(x, net, "container.network", "mode", c);
        bool has_mode = mode_line > 0;
        if (!has_mode)
                c->net_mode = NET_NONE;
        int bridge_line = read_one(x, net, "container.network", "bridge", c);
        bool has_bridge = bridge_line > 0;
        if (has_bridge && !name_is_valid(c->network))
                err(x, bridge_line, "network.bridge: '%s' is not a network name", c->network);
        if (!has_mode && has_bridge)
                c->net_mode = NET_BRIDGE;
        if (c->net_mode == NET_BRIDGE && !has_bridge && has_mode)
                err(x, mode_line, "network.mode: 'bridge' needs bridge = NETWORK");
        if (c->net_mode != NET_BRIDGE && has_bridge)
                err(x, bridge_line, "network.bridge: not allowed with mode '%s'", net_mode_to_string(c->net_mode));

        const struct cval *a = get(net, "address");
        if (a) {
                c->line_address = a->line;
                if (c->net_mode != NET_BRIDGE)
                        err(x, a->line, "network.address: only for a container on a bridge network");
                else if (streq(a->text, "auto"))
                        c->address_auto = true;
                else {
                        char buf[32];
                        snprintf(buf, sizeof buf, "%s", a->text);
                        char *slash = strchr(buf, '/');
                        if (slash)
                                *slash = 0; /* the prefix is checked against the network later */
                        if (parse_ipv4(buf, &c->address) < 0) {
                                err(x, a->line, "network.address: '%s' is not an IPv4 address (or auto)", a->text);
                                c->address_auto = true; /* reported: keep the set checks off 0.0.0.0 */
                        }
                }
        } else if (c->net_mode == NET_BRIDGE)
                c->address_auto = true;

        unsigned np = net ? cfg_size(net, "publish") : 0;
        if (np > 0) {
                c->line_publish = line_of(net, "publish");
                if (c->net_mode != NET_BRIDGE)
                        err(x, c->line_publish, "network.publish: only for a container on a bridge network");
                c->publish = calloc(np, sizeof *c->publish);
                if (!c->publish)
                        oom(x);
                for (unsigned i = 0; c->publish && i < np && i < SPEC_LIST_MAX; i++) {
                        const struct cval *v = cfg_getnptr(net, "publish", i);
                        if (parse_publish(v->text, &c->publish[c->n_publish]) < 0) {
                                err(x, v->line,
                                    "network.publish: '%s' is not a port mapping (use HOST:CONTAINER[/tcp|/udp] "
                                    "or ADDRESS:HOST:CONTAINER)",
                                    v->text);
                                continue;
                        }
                        c->n_publish++;
                }
        }
        unsigned nd = net ? cfg_size(net, "dns") : 0;
        for (unsigned i = 0; i < nd; i++) {
                const struct cval *v = cfg_getnptr(net, "dns", i);
                struct in_addr a4;
                if (parse_ipv4(v->text, &a4) < 0)
                        err(x, v->line, "network.dns: '%s' is not an IPv4 address", v->text);
                else if (i >= SPEC_DNS_MAX)
                        err(x, v->line, "network.dns: at most %d nameservers", SPEC_DNS_MAX);
                else if (strv_push(&c->dns, v->text) < 0)
                        oom(x);
        }
}

static void read_limits(struct ctx *x, cfg_t *l, struct spec_container *c)
{
        read_keys(x, l, "container.limits", c);
        int64_t swap = c->limits.memory_swap;
        if (swap > 0 && !c->limits.memory) {
                err(x, line_of(l, "memory-swap"), "limits.memory-swap: needs limits.memory");
                c->limits.memory_swap = 0;
        } else if (swap > 0 && (uint64_t) swap < c->limits.memory) {
                err(x, line_of(l, "memory-swap"),
                    "limits.memory-swap: '%s' is below memory (it counts memory plus swap)",
                    get(l, "memory-swap")->text);
                c->limits.memory_swap = 0;
        }
}

static void read_mounts(struct ctx *x, cfg_t *s, const struct scan *scan, int rec, struct spec_container *c)
{
        unsigned n = cfg_size(s, "mount");
        if (n == 0)
                return;
        c->mounts = calloc(n, sizeof *c->mounts);
        if (!c->mounts) {
                oom(x);
                return;
        }
        for (unsigned i = 0; i < n && i < SPEC_LIST_MAX; i++) {
                cfg_t *m = cfg_getnsec(s, "mount", i);
                const char *title = cfg_title(m);
                const struct sec_rec *r = scan_find_child(scan, rec, "mount", title);
                int line = r ? r->line : c->line;
                struct spec_mount *sm = &c->mounts[c->n_mounts++];
                sm->line = line;
                sm->name = strdup(title ? title : "");
                if (!sm->name)
                        oom(x);
                if (!title || !name_is_valid(title))
                        err(x, line, "mount: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]{0,62})",
                            title ? title : "");
                bool has_type = read_one(x, m, "container.mount", "type", sm) > 0;
                int sline = read_one(x, m, "container.mount", "source", sm);
                int tline = read_one(x, m, "container.mount", "target", sm);
                bool has_source = sline > 0, has_target = tline > 0;
                (void) read_one(x, m, "container.mount", "read-only", sm);
                bool has_size = read_one(x, m, "container.mount", "size", sm) > 0;
                if (!has_type)
                        sm->type = has_source || !has_size ? MOUNT_BIND : MOUNT_TMPFS;
                if (!has_target)
                        err(x, line, "mount '%s': target is required", sm->name);
                else if (!path_is_clean_absolute(sm->target))
                        err(x, tline, "mount.target: '%s' must be an absolute path without . or .. components",
                            sm->target);
                else if (streq(sm->target, "/") || sm->target[strspn(sm->target, "/")] == 0)
                        err(x, tline, "mount.target: cannot mount over the container's /");
                bool type_invalid = !has_type && line_of(m, "type"); /* reported; its fields unknown */
                if (sm->type == MOUNT_BIND && !type_invalid) {
                        if (!has_source)
                                err(x, line, "mount '%s': a bind mount needs source", sm->name);
                        else if (sm->source[0] != '/')
                                err(x, sline, "mount.source: '%s' must be an absolute path", sm->source);
                        else if (!path_is_canonical_absolute(sm->source))
                                err(x, sline, "mount.source: '%s' " CANONICAL_HINT, sm->source);
                        if (has_size)
                                err(x, line_of(m, "size"), "mount.size: only for type tmpfs");
                } else if (has_source)
                        err(x, sline, "mount.source: not allowed for type tmpfs");
        }
        /* Two mounts with the same name in one container: libconfuse merges
         * them, so look at what the pre-scan saw. */
        if (rec >= 0)
                report_declared_twice(x, scan, rec);
}

static void read_health(struct ctx *x, cfg_t *h, const struct sec_rec *r, struct spec_container *c)
{
        struct spec_health *sh = &c->health;
        if (!r)
                return;
        sh->enabled = true;
        sh->line = r->line;
        read_keys(x, h, "container.health", c);
        int hline = line_of(h, "http");
        if (sh->http_path && !sh->tcp_port)
                err(x, hline, "health.http: needs tcp = PORT");
        if (!sh->command && !line_of(h, "tcp"))
                err(x, r->line, "health: needs command = { ... } or tcp = PORT");
        if (sh->command && sh->tcp_port)
                err(x, r->line, "health: set command or tcp, not both");
        if (sh->interval < sh->timeout) {
                char a1[32], a2[32];
                err(x, line_of(h, "interval") ? line_of(h, "interval") : r->line,
                    "health: interval %s is shorter than timeout %s",
                    format_duration(sh->interval, a1, sizeof a1), format_duration(sh->timeout, a2, sizeof a2));
        }
}

static void read_idmap(struct ctx *x, cfg_t *s, struct spec_container *c)
{
        const struct cval *v = get(s, "idmap");
        if (!v)
                return;
        c->line_idmap = v->line;
        /* HOSTID:COUNT — container ids 0..COUNT-1 map to HOSTID.. for uids and gids. */
        char buf[64];
        snprintf(buf, sizeof buf, "%s", v->text);
        char *colon = strchr(buf, ':');
        uint32_t host, count;
        if (!colon) {
                err(x, v->line, "idmap: '%s' is not HOSTID:COUNT (e.g. 100000:65536)", v->text);
                return;
        }
        *colon = 0;
        if (parse_uint32(buf, 1, 4294967294U, &host) < 0 || parse_uint32(colon + 1, 1, 4294967294U, &count) < 0) {
                err(x, v->line, "idmap: '%s' is not HOSTID:COUNT with HOSTID > 0 (e.g. 100000:65536)", v->text);
                return;
        }
        if ((uint64_t) host + count > 4294967295ULL) {
                err(x, v->line, "idmap: '%s' runs past the last id", v->text);
                return;
        }
        c->idmap = true;
        c->idmap_host_uid = c->idmap_host_gid = host;
        c->idmap_count = count;
}

static struct spec_container *read_container(struct ctx *x, cfg_t *s, const struct scan *scan)
{
        const char *title = cfg_title(s);
        const struct sec_rec *rec = scan_find(scan, x->next_rec, -1, "container", title);
        if (rec)
                x->next_rec = (size_t) (rec - scan->recs) + 1;
        int line = rec ? rec->line : 1, rec_idx = rec ? (int) (rec - scan->recs) : -2;
        struct spec_container *c = NULL;

        if (spec_container_new(title ? title : "", x->file, line, &c) < 0)
                return NULL;
        if (!title || !name_is_valid(title))
                err(x, line, "container name '%s' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})", title ? title : "");

        /* Every key read on its own, by the table; then what the table
         * cannot say: keys that depend on each other. */
        read_keys(x, s, "container", c);
        bool has_t = c->template_name, has_r = c->rootfs;
        if (has_t && has_r)
                err(x, c->line_rootfs, "set template or rootfs, not both (template at line %d)", c->line_template);
        else if (!has_t && !has_r)
                err(x, line, "container '%s': needs template = NAME or rootfs = PATH", c->name);
        if (has_r && c->rootfs[0] != '/')
                err(x, c->line_rootfs, "rootfs: '%s' must be an absolute path", c->rootfs);
        else if (has_r && !path_is_canonical_absolute(c->rootfs))
                err(x, c->line_rootfs, "rootfs: '%s' " CANONICAL_HINT, c->rootfs);
        else if (has_r && path_is_host_root(c->rootfs))
                err(x, c->line_rootfs,
                    "rootfs: '%s' is the host's root directory (a container needs a root of its own)", c->rootfs);
        int cl = line_of(s, "command");
        if (cl && c->command && strv_length(c->command) == 0)
                err(x, cl, "command: must name a program");
        if (c->restart_max_delay < c->restart_delay)
                err(x, line_of(s, "restart-max-delay") ? line_of(s, "restart-max-delay") : line_of(s, "restart-delay"),
                    "restart-max-delay: shorter than restart-delay");

        const struct cval *sc = get(s, "seccomp");
        if (sc) {
                if (streq(sc->text, "default"))
                        c->seccomp = SECCOMP_DEFAULT;
                else if (streq(sc->text, "unconfined"))
                        c->seccomp = SECCOMP_UNCONFINED;
                else if (sc->text[0] == '/') {
                        c->seccomp = SECCOMP_PROFILE;
                        c->seccomp_profile = strdup(sc->text);
                        if (!c->seccomp_profile)
                                oom(x);
                        c->line_seccomp = sc->line;
                } else
                        err(x, sc->line, "seccomp: '%s' is not valid (use default, unconfined, or an absolute path)",
                            sc->text);
        }
        read_idmap(x, s, c);

        read_network_block(x, cfg_getsec(s, "network"), c);
        read_limits(x, cfg_getsec(s, "limits"), c);
        read_mounts(x, s, scan, rec_idx, c);
        cfg_t *caps = cfg_getsec(s, "capabilities");
        if (caps) {
                bool add_all = false, drop_all = false;
                c->caps_add = caps_from_list(x, caps, "add", &add_all);
                c->caps_drop = caps_from_list(x, caps, "drop", &drop_all);
                /* drop = all with add = one is how one grants exactly one. */
                if (!drop_all && !add_all && (c->caps_add & c->caps_drop))
                        err(x, line_of(caps, "drop"), "capabilities: a capability is both added and dropped");
        }
        read_health(x, cfg_getsec(s, "health"), scan_find_child(scan, rec_idx, "health", NULL), c);
        read_keys(x, cfg_getsec(s, "log"), "container.log", c);
        return c;
}

static struct spec_network *read_network(struct ctx *x, cfg_t *s, const struct scan *scan)
{
        const char *title = cfg_title(s);
        const struct sec_rec *rec = scan_find(scan, x->next_rec, -1, "network", title);
        if (rec)
                x->next_rec = (size_t) (rec - scan->recs) + 1;
        int line = rec ? rec->line : 1;
        struct spec_network *n = NULL;
        if (spec_network_new(title ? title : "", x->file, line, &n) < 0)
                return NULL;
        if (!title || !name_is_valid(title))
                err(x, line, "network name '%s' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})", title ? title : "");
        const struct cval *sub = get(s, "subnet");
        if (!sub)
                err(x, line, "network '%s': subnet is required (e.g. subnet = \"198.18.0.0/24\")", n->name);
        else if (parse_cidr(sub->text, &n->subnet, &n->prefix) < 0)
                err(x, sub->line, "subnet: '%s' is not an IPv4 CIDR (e.g. 198.18.0.0/24)", sub->text);
        else if (n->prefix < 8 || n->prefix > 30)
                err(x, sub->line, "subnet: prefix /%u is out of range (/8../30)", n->prefix);
        else {
                uint32_t mask = n->prefix ? ~0U << (32 - n->prefix) : 0;
                uint32_t a = in_addr_host(n->subnet);
                if (a & ~mask) {
                        struct in_addr fixed = { .s_addr = htonl(a & mask) };
                        char buf[INET_ADDRSTRLEN];
                        err(x, sub->line, "subnet: '%s' has host bits set (did you mean %s/%u?)", sub->text,
                            inet_ntop(AF_INET, &fixed, buf, sizeof buf), n->prefix);
                }
                n->subnet.s_addr = htonl(a & mask);
                n->gateway.s_addr = htonl((a & mask) + 1);
        }
        const struct cval *gw = get(s, "gateway");
        if (gw && read_one(x, s, "network", "gateway", n) && sub && n->prefix >= 8 && n->prefix <= 30) {
                uint32_t mask = ~0U << (32 - n->prefix), g = in_addr_host(n->gateway), net = in_addr_host(n->subnet);
                if ((g & mask) != net)
                        err(x, gw->line, "gateway: '%s' is outside subnet '%s'", gw->text, sub->text);
                else if (g == net || g == (net | ~mask))
                        err(x, gw->line, "gateway: '%s' is the subnet's network or broadcast address", gw->text);
        }
        read_keys(x, s, "network", n);
        int bl = read_one(x, s, "network", "bridge", n);
        bool name_reported = !bl && !name_is_valid(n->name); /* the bridge is the name */
        if (!name_reported && (strlen(n->bridge) > 15 || !name_is_valid(n->bridge)))
                err(x, bl ? bl : line,
                    "bridge: '%s' is not a usable interface name (at most 15 characters of [a-z0-9_.-])",
                    n->bridge);
        return n;
}

/* libconfuse reports through a callback without a user pointer: the diag
 * of the parse in progress is reached through this thread-local, set only
 * for the duration of cfg_parse_buf(). */
static _Thread_local struct ctx *confuse_ctx;

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        if (!confuse_ctx)
                return;
        const char *section = cfg && cfg->name && !streq(cfg->name, "root") ? cfg->name : NULL;
        char opt[128];
        if (sscanf(msg, "no such option '%127[^']'", opt) == 1) {
                if (section)
                        err(confuse_ctx, cfg->line, "unknown key '%s' in %s", opt, section);
                else
                        err(confuse_ctx, cfg->line, "unknown key '%s' (expected container NAME { } or network NAME { })",
                            opt);
                return;
        }
        err(confuse_ctx, cfg ? cfg->line : 0, "%s", msg);
}

/* libconfuse looks up each titled section among the earlier ones of its
 * kind (quadratic: 30,000 sections in a 1 MB file take a minute under
 * ASan), so bound the sections of a file before it sees them. */
static bool scan_too_large(struct ctx *x, const struct scan *s)
{
        size_t top = 0;
        _cleanup_free_ size_t *children = calloc(s->n + 1, sizeof(size_t));
        if (!children)
                return true;
        for (size_t i = 0; i < s->n; i++) {
                const struct sec_rec *r = &s->recs[i];
                if (r->depth == 0 && ++top > CONFIG_CONTAINERS_MAX) {
                        err(x, r->line, "more than %d containers and networks in one file", CONFIG_CONTAINERS_MAX);
                        return true;
                }
                if (r->parent >= 0 && ++children[r->parent] > SPEC_LIST_MAX) {
                        err(x, r->line, "more than %d blocks in one %s", SPEC_LIST_MAX, s->recs[r->parent].name);
                        return true;
                }
        }
        return false;
}

static int append_ptr(void ***arr, size_t *n, void *p)
{
        void **a = *arr;
        if ((*n & (*n - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */
                a = realloc(*arr, (*n ? 2 * *n : 1) * sizeof(void *));
                if (!a)
                        return -ENOMEM;
                *arr = a;
        }
        a[(*n)++] = p;
        return 0;
}

/* Parses one file. When libconfuse cannot parse it, the container names
 * the pre-scan saw go to *unparsed (when given), so that references to
 * them are not reported as dangling on top of the syntax error. */
static int parse_buffer(const char *filename, const char *text, size_t len, struct spec_set *set,
                        struct diag *d, char ***unparsed)
{
        struct ctx x = { .file = filename, .d = d, .prefix = "" };
        int line = 1;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char) text[i];
                if (ch == '\n')
                        line++;
                else if (ch < 0x20 && ch != '\t' && ch != '\r') {
                        err(&x, line, "binary data (byte 0x%02x): not a definition file", ch);
                        return 0;
                }
        }
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, text, len);
        buf[len] = 0;

        struct schema schema;
        if (schema_build(&schema) < 0)
                return -ENOMEM;
        struct scan scan = { 0 };
        size_t errors_before = d->n + d->dropped;
        const cfg_opt_t *top = schema.opts;
        int r = prescan(buf, len, top, &scan, d, filename);
        if (r < 0 || scan_too_large(&x, &scan))
                goto out;
        /* Same title twice in a file: libconfuse would merge the two. */
        report_declared_twice(&x, &scan, -1);

        cfg_t *cfg = cfg_init((cfg_opt_t *) top, CFGF_NONE);
        if (!cfg) {
                r = -ENOMEM;
                goto out;
        }
        cfg_set_error_function(cfg, confuse_error);
        confuse_ctx = &x;
        int pr = cfg_parse_buf(cfg, buf);
        confuse_ctx = NULL;
        if (pr != CFG_SUCCESS) {
                if (d->n + d->dropped == errors_before)
                        err(&x, 0, "cannot parse this file");
                for (size_t i = 0; unparsed && i < scan.n && r >= 0; i++)
                        if (scan.recs[i].depth == 0 && streq(scan.recs[i].name, "container") && scan.recs[i].title)
                                r = strv_push(unparsed, scan.recs[i].title);
                cfg_free(cfg);
                goto out;
        }
        for (unsigned i = 0; i < cfg_size(cfg, "container"); i++) {
                struct spec_container *c = read_container(&x, cfg_getnsec(cfg, "container", i), &scan);
                if (!c || append_ptr((void ***) &set->containers, &set->n_containers, c) < 0) {
                        spec_container_free(c);
                        r = -ENOMEM;
                        break;
                }
        }
        for (unsigned i = 0; r >= 0 && i < cfg_size(cfg, "network"); i++) {
                struct spec_network *n = read_network(&x, cfg_getnsec(cfg, "network", i), &scan);
                if (!n || append_ptr((void ***) &set->networks, &set->n_networks, n) < 0) {
                        spec_network_free(n);
                        r = -ENOMEM;
                        break;
                }
        }
        cfg_free(cfg);
out:
        scan_done(&scan);
        schema_done(&schema);
        if (r >= 0 && x.r < 0)
                r = x.r; /* an allocation failed while reading: the set is not whole */
        return r < 0 ? r : 0;
}

int config_parse_buffer(const char *filename, const char *text, size_t len, struct spec_set *set,
                        struct diag *d)
{
        return parse_buffer(filename, text, len, set, d, NULL);
}

/* ---- whole-set checks ------------------------------------------------------ */

static void check_cycles(struct spec_set *set, const struct nameidx *ix, struct diag *d)
{
        size_t n = set->n_containers;
        /* Iterative DFS over after ∪ requires: 0 white, 1 on stack, 2 done. */
        _cleanup_free_ uint8_t *color = calloc(n + 1, 1);
        _cleanup_free_ size_t *stack = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ size_t *edge = calloc(n + 1, sizeof(size_t));
        if (!color || !stack || !edge)
                return;
        for (size_t root = 0; root < n; root++) {
                if (color[root])
                        continue;
                size_t sp = 0;
                stack[sp++] = root;
                edge[root] = 0;
                color[root] = 1;
                while (sp > 0) {
                        size_t u = stack[sp - 1];
                        const struct spec_container *c = set->containers[u];
                        size_t na = strv_length(c->after), nr = strv_length(c->requires);
                        if (edge[u] >= na + nr) {
                                color[u] = 2;
                                sp--;
                                continue;
                        }
                        size_t e = edge[u]++;
                        const char *dep = e < na ? c->after[e] : c->requires[e - na];
                        size_t v = nameidx_find(ix, n, dep);
                        if (v == NAMEIDX_NONE || v == u)
                                continue; /* unknown, or itself: reported by check_set() */
                        if (color[v] == 0) {
                                color[v] = 1;
                                edge[v] = 0;
                                stack[sp++] = (size_t) v;
                        } else if (color[v] == 1) {
                                char path[1024] = "";
                                size_t k = 0;
                                while (stack[k] != (size_t) v)
                                        k++;
                                for (size_t j = k; j < sp; j++) {
                                        size_t l = strlen(path);
                                        snprintf(path + l, sizeof path - l, "%s → ", set->containers[stack[j]]->name);
                                }
                                size_t l = strlen(path);
                                snprintf(path + l, sizeof path - l, "%s", set->containers[v]->name);
                                const struct spec_container *cv = set->containers[v];
                                diag_add(d, cv->file, cv->line_after ? cv->line_after : (cv->line_requires ? cv->line_requires : cv->line),
                                         "dependency cycle: %s", path);
                        }
                }
        }
}

struct addr_use {
        uint32_t addr;
        size_t idx;
};

static int cmp_addr_use(const void *a, const void *b)
{
        const struct addr_use *x = a, *y = b;
        if (x->addr != y->addr)
                return x->addr < y->addr ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_net_start(const void *a, const void *b)
{
        const struct spec_network *x = *(struct spec_network *const *) a, *y = *(struct spec_network *const *) b;
        uint32_t p = in_addr_host(x->subnet), q = in_addr_host(y->subnet);
        return p < q ? -1 : p > q;
}

static void check_networks(struct spec_set *set, struct diag *d)
{
        size_t n = set->n_networks;
        if (n == 0)
                return;
        _cleanup_free_ struct spec_network **sorted = calloc(n, sizeof *sorted);
        if (!sorted)
                return;
        memcpy(sorted, set->networks, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_net_start);
        /* Overlap: after sorting by start, a subnet overlaps an earlier one iff it
         * starts before the furthest end seen so far. */
        uint64_t max_end = 0;
        const struct spec_network *max_net = NULL;
        for (size_t i = 0; i < n; i++) {
                const struct spec_network *x = sorted[i];
                if (x->prefix < 8 || x->prefix > 30)
                        continue;
                uint64_t start = in_addr_host(x->subnet), end = start + (1ULL << (32 - x->prefix));
                if (max_net && start < max_end && !streq(x->name, max_net->name)) { /* same name: reported */
                        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
                        diag_add(d, x->file, x->line, "network '%s': subnet %s/%u overlaps network '%s' (%s/%u at %s:%d)",
                                 x->name, inet_ntop(AF_INET, &x->subnet, a, sizeof a), x->prefix, max_net->name,
                                 inet_ntop(AF_INET, &max_net->subnet, b, sizeof b), max_net->prefix, max_net->file,
                                 max_net->line);
                }
                if (end > max_end) {
                        max_end = end;
                        max_net = x;
                }
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n && j < i + 64; j++) /* names are short; bounded */
                        if (streq(set->networks[i]->bridge, set->networks[j]->bridge) &&
                            !streq(set->networks[i]->name, set->networks[j]->name))
                                diag_add(d, set->networks[j]->file, set->networks[j]->line,
                                         "network '%s': bridge '%s' is already used by network '%s' (%s:%d)",
                                         set->networks[j]->name, set->networks[j]->bridge, set->networks[i]->name,
                                         set->networks[i]->file, set->networks[i]->line);
}

static void check_addresses(struct spec_set *set, struct diag *d)
{
        size_t n = set->n_containers;
        _cleanup_free_ struct addr_use *uses = calloc(n + 1, sizeof *uses);
        _cleanup_free_ size_t *count = calloc(set->n_networks + 1, sizeof(size_t));
        size_t nu = 0;
        if (!uses || !count)
                return;
        for (size_t i = 0; i < n; i++) {
                struct spec_container *c = set->containers[i];
                if (c->net_mode != NET_BRIDGE || !c->network)
                        continue;
                struct spec_network *net = NULL;
                size_t ni = 0;
                for (; ni < set->n_networks; ni++)
                        if (streq(set->networks[ni]->name, c->network)) {
                                net = set->networks[ni];
                                break;
                        }
                if (!net) {
                        diag_add(d, c->file, c->line_network ? c->line_network : c->line,
                                 "network.bridge: network '%s' is not declared by any file", c->network);
                        continue;
                }
                count[ni]++;
                if (c->address_auto || net->prefix < 8 || net->prefix > 30)
                        continue;
                uint32_t mask = ~0U << (32 - net->prefix), a = in_addr_host(c->address),
                         sub = in_addr_host(net->subnet);
                char buf[INET_ADDRSTRLEN], sbuf[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &c->address, buf, sizeof buf);
                inet_ntop(AF_INET, &net->subnet, sbuf, sizeof sbuf);
                if ((a & mask) != sub)
                        diag_add(d, c->file, c->line_address, "network.address: %s is outside network '%s' (%s/%u)",
                                 buf, net->name, sbuf, net->prefix);
                else if (a == sub || a == (sub | ~mask))
                        diag_add(d, c->file, c->line_address,
                                 "network.address: %s is the network or broadcast address of '%s'", buf, net->name);
                else if (a == in_addr_host(net->gateway))
                        diag_add(d, c->file, c->line_address, "network.address: %s is the gateway of '%s'", buf,
                                 net->name);
                else
                        uses[nu++] = (struct addr_use){ a, i };
        }
        qsort(uses, nu, sizeof *uses, cmp_addr_use);
        for (size_t i = 1; i < nu; i++)
                if (uses[i].addr == uses[i - 1].addr) {
                        const struct spec_container *a = set->containers[uses[i - 1].idx],
                                                    *b = set->containers[uses[i].idx];
                        char buf[INET_ADDRSTRLEN];
                        inet_ntop(AF_INET, &b->address, buf, sizeof buf);
                        diag_add(d, b->file, b->line_address,
                                 "network.address: %s is already used by container '%s' (%s:%d)", buf, a->name,
                                 a->file, a->line_address);
                }
        for (size_t ni = 0; ni < set->n_networks; ni++) {
                const struct spec_network *net = set->networks[ni];
                if (net->prefix < 8 || net->prefix > 30)
                        continue;
                uint64_t capacity = (1ULL << (32 - net->prefix)) - 3;
                if (count[ni] > capacity)
                        diag_add(d, net->file, net->line,
                                 "network '%s': %zu containers but only %llu free addresses in /%u", net->name,
                                 count[ni], (unsigned long long) capacity, net->prefix);
        }
}

struct pub_use {
        uint32_t proto_port; /* proto << 16 | host port */
        uint32_t addr;       /* host order, 0 = every address */
        size_t order;        /* declaration order */
        const struct spec_container *c;
};

static int cmp_pub_use(const void *a, const void *b)
{
        const struct pub_use *x = a, *y = b;
        if (x->proto_port != y->proto_port)
                return x->proto_port < y->proto_port ? -1 : 1;
        if (x->addr != y->addr)
                return x->addr < y->addr ? -1 : 1;
        return (x->order > y->order) - (x->order < y->order);
}

static void report_publish(struct diag *d, const struct pub_use *u, const struct pub_use *first)
{
        diag_add(d, u->c->file, u->c->line_publish,
                 "network.publish: host port %u/%s is already published by container '%s' (%s:%d)",
                 u->proto_port & 0xffff, u->proto_port >> 16 == PROTO_TCP ? "tcp" : "udp", first->c->name,
                 first->c->file, first->c->line_publish);
}

static void check_publish(struct spec_set *set, struct diag *d)
{
        /* Host ports: (proto, port) may be used once per host address, and
         * not at all beside a wildcard. Sorted by (proto, port, address), so
         * every use is checked in n log n; each later use is reported once,
         * against the first it collides with. */
        size_t total = 0, n = 0;
        for (size_t i = 0; i < set->n_containers; i++)
                total += set->containers[i]->n_publish;
        _cleanup_free_ struct pub_use *u = calloc(total + 1, sizeof *u);
        if (!u)
                return;
        for (size_t i = 0; i < set->n_containers; i++)
                for (size_t p = 0; p < set->containers[i]->n_publish; p++) {
                        const struct publish *x = &set->containers[i]->publish[p];
                        u[n] = (struct pub_use){ (uint32_t) x->proto << 16 | x->host_port, in_addr_host(x->host_addr),
                                                 n, set->containers[i] };
                        n++;
                }
        qsort(u, n, sizeof *u, cmp_pub_use);
        for (size_t g = 0, end; g < n; g = end) {
                size_t earliest = g, run = g; /* the group's first declared use; the current address's first */
                for (end = g; end < n && u[end].proto_port == u[g].proto_port; end++)
                        if (u[end].order < u[earliest].order)
                                earliest = end;
                bool wildcard = u[g].addr == 0; /* sorted first in its group */
                for (size_t k = g; k < end; k++) {
                        if (u[k].addr != u[run].addr)
                                run = k;
                        if (run != k)
                                report_publish(d, &u[k], &u[run]); /* same address */
                        else if (u[k].addr == 0 && earliest != k)
                                report_publish(d, &u[k], &u[earliest]); /* a wildcard after any use */
                        else if (u[k].addr != 0 && wildcard && u[g].order < u[k].order)
                                report_publish(d, &u[k], &u[g]); /* an address after a wildcard */
                }
        }
}

static void check_set(struct spec_set *set, char *const *unparsed, struct diag *d)
{
        size_t n = set->n_containers;
        if (spec_set_index(set) < 0) {
                diag_add(d, NULL, 0, "out of memory while checking the definitions");
                return;
        }
        const struct nameidx *ix = set->by_name;
        for (size_t i = 1; i < n; i++)
                if (streq(ix[i].name, ix[i - 1].name)) {
                        const struct spec_container *a = set->containers[ix[i - 1].idx], *b = set->containers[ix[i].idx];
                        diag_add(d, b->file, b->line, "container '%s' declared twice (first at %s:%d)", b->name, a->file,
                                 a->line);
                }
        for (size_t i = 0; i < set->n_networks; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(set->networks[i]->name, set->networks[j]->name)) {
                                diag_add(d, set->networks[i]->file, set->networks[i]->line,
                                         "network '%s' declared twice (first at %s:%d)", set->networks[i]->name,
                                         set->networks[j]->file, set->networks[j]->line);
                                break;
                        }
        for (size_t i = 0; i < n; i++) {
                const struct spec_container *c = set->containers[i];
                for (int which = 0; which < 2; which++) {
                        char *const *deps = which == 0 ? c->after : c->requires;
                        const char *key = which == 0 ? "after" : "requires";
                        int line = which == 0 ? c->line_after : c->line_requires;
                        for (size_t k = 0; deps && deps[k]; k++) {
                                if (streq(deps[k], c->name))
                                        diag_add(d, c->file, line, "%s: container '%s' cannot depend on itself", key,
                                                 c->name);
                                else if (nameidx_find(ix, n, deps[k]) == NAMEIDX_NONE && !strv_contains(unparsed, deps[k]))
                                        diag_add(d, c->file, line, "%s: '%s' names no container", key, deps[k]);
                        }
                }
        }
        check_cycles(set, ix, d);
        check_networks(set, d);
        check_addresses(set, d);
        check_publish(set, d);
}

void config_validate(struct spec_set *set, struct diag *d)
{
        check_set(set, NULL, d);
}

static int cmp_profile_user(const void *a, const void *b)
{
        const struct spec_container *x = *(const struct spec_container *const *) a,
                                    *y = *(const struct spec_container *const *) b;
        return strcmp(x->seccomp_profile, y->seccomp_profile);
}

/* Reads and checks every seccomp profile file the set names, each file
 * once, and reports a bad one at every "seccomp =" line naming it. Only
 * the document is checked here; what libseccomp makes of it for a
 * container's capabilities is known at start. */
static int check_seccomp_profiles(struct spec_set *set, struct diag *d)
{
        _cleanup_free_ struct spec_container **users = calloc(set->n_containers + 1, sizeof *users);
        if (!users)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < set->n_containers; i++)
                if (set->containers[i]->seccomp == SECCOMP_PROFILE && set->containers[i]->seccomp_profile)
                        users[n++] = set->containers[i];
        qsort(users, n, sizeof *users, cmp_profile_user);
        char perr[SECCOMP_PROFILE_ERROR_MAX];
        int r = 0;
        uint64_t digest = 0;
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || !streq(users[i]->seccomp_profile, users[i - 1]->seccomp_profile)) {
                        _cleanup_(seccomp_profile_freep) struct seccomp_profile *p = NULL;
                        _cleanup_free_ char *text = NULL;
                        size_t len = 0;
                        r = seccomp_profile_read(users[i]->seccomp_profile, &text, &len, perr, sizeof perr);
                        if (r >= 0)
                                r = seccomp_profile_parse(users[i]->seccomp_profile, text, len, &p, perr, sizeof perr);
                        if (r == -ENOMEM)
                                return r;
                        /* An edited profile restarts its containers on reload. */
                        digest = r < 0 ? 0 : fnv1a64(FNV1A64_INIT, text, len);
                }
                users[i]->seccomp_profile_digest = digest;
                if (r < 0)
                        diag_add(d, users[i]->file, users[i]->line_seccomp, "seccomp: %s", perr);
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool conf_name_wanted(const char *n)
{
        size_t l = strlen(n);
        return n[0] != '.' && n[0] != '#' && l > 5 && streq(n + l - 5, ".conf");
}

int config_load_dir(const char *dir, struct spec_set *set, struct diag *d)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int r = -errno;
                diag_add(d, dir, 0, "cannot open definition directory: %s", strerror(-r));
                return r;
        }
        int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *dp = dup >= 0 ? fdopendir(dup) : NULL;
        if (!dp) {
                int r = -errno;
                if (dup >= 0)
                        close(dup);
                diag_add(d, dir, 0, "cannot read definition directory: %s", strerror(-r));
                return r;
        }
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(dp))) {
                if (!conf_name_wanted(de->d_name))
                        continue;
                if (nn >= CONFIG_FILES_MAX) {
                        diag_add(d, dir, 0, "more than %d definition files", CONFIG_FILES_MAX);
                        r = -E2BIG;
                        break;
                }
                char *c = strdup(de->d_name);
                if (!c || append_ptr((void ***) &names, &nn, c) < 0) {
                        free(c);
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(dp);
        if (nn)
                qsort(names, nn, sizeof *names, cmp_str);

        char **unparsed = NULL;
        for (size_t i = 0; r >= 0 && i < nn; i++) {
                _cleanup_free_ char *path = strdup_printf("%s/%s", streq(dir, "/") ? "" : dir, names[i]);
                struct stat st;
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                if (fstatat(dfd, names[i], &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue; /* a dangling link or a directory named *.conf */
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int q = read_file_at(dfd, names[i], CONFIG_FILE_MAX, &text, &len);
                if (q == -ELOOP) { /* a symlink: follow it, the operator put it there */
                        _cleanup_close_ int fd = openat(dfd, names[i], O_RDONLY | O_CLOEXEC);
                        q = fd < 0 ? -errno : read_file_fd(fd, CONFIG_FILE_MAX, &text, &len);
                }
                if (q == -EFBIG) {
                        diag_add(d, path, 0, "file is larger than %d bytes", CONFIG_FILE_MAX);
                        continue;
                }
                if (q < 0) {
                        diag_add(d, path, 0, "cannot read: %s", strerror(-q));
                        continue;
                }
                r = parse_buffer(path, text, len, set, d, &unparsed);
                if (set->n_containers > CONFIG_CONTAINERS_MAX) {
                        diag_add(d, dir, 0, "more than %d containers", CONFIG_CONTAINERS_MAX);
                        r = -E2BIG;
                }
        }
        for (size_t i = 0; i < nn; i++)
                free(names[i]);
        free(names);
        if (r >= 0)
                check_set(set, unparsed, d);
        if (r >= 0)
                r = check_seccomp_profiles(set, d);
        strv_free(unparsed);
        if (r < 0)
                return r;
        diag_sort(d);
        return d->n || d->dropped ? -EINVAL : 0;
}

char **config_keys(void)
{
        char **v = calloc(1, sizeof(char *));
        char path[128];
        for (const struct key_def *k = keys_table(NULL); v && k->name; k++)
                if (strv_push(&v, key_path(k, path, sizeof path)) < 0)
                        return strv_free(v);
        return v;
}
