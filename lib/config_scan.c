#include "config_scan.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>

#include "config.h"
#include "keys.h"
#include "util.h"

/* ---- values: text and line ------------------------------------------------ */

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

void schema_done(struct schema *sc)
{
        free(sc->opts);
}

/* The options of every KEYF_FREEFORM block: none (the pre-scan takes its
 * settings out), and the pointer marks the block as freeform. */
static cfg_opt_t freeform_opts[] = { CFG_END() };

bool schema_is_freeform(const cfg_opt_t *o)
{
        return o && o->type == CFGT_SEC && o->subopts == freeform_opts;
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
                                                                (k->flags & KEYF_MULTI)    ? CFGF_MULTI | CFGF_TITLE
                                                                : (k->flags & KEYF_REPEAT) ? CFGF_MULTI
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
                        const struct key_def *k = keys_find(path, sc->opts[i].name);
                        sc->opts[i].subopts = k && (k->flags & KEYF_FREEFORM) ? freeform_opts : schema_block(sc, sub);
                }
        return &sc->opts[first];
}

/* The libconfuse schema of the whole language: one option per key. */
int schema_build(struct schema *sc)
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
#define SCAN_OPTS_MAX 64 /* keys and blocks in one section of the schema */

struct tok {
        int kind; /* 'w' word, 's' string, or the punctuation character, '+' for += */
        size_t start, len;
        int line;
};

void scan_done(struct scan *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->recs[i].title);
        free(s->recs);
        for (size_t i = 0; i < s->n_entries; i++) {
                free(s->entries[i].key);
                free(s->entries[i].value);
        }
        free(s->entries);
}

/* A freeform block's KEY = VALUE (tokens key and value of buf). */
static int scan_add_entry(struct scan *s, const char *buf, int rec, const struct tok *key, const struct tok *value)
{
        if ((s->n_entries & (s->n_entries - 1)) == 0) {
                struct scan_entry *n = realloc(s->entries, (s->n_entries ? 2 * s->n_entries : 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                s->entries = n;
        }
        struct scan_entry *e = &s->entries[s->n_entries];
        *e = (struct scan_entry){ .rec = rec, .line = key->line };
        e->key = strndup(buf + key->start, key->len);
        size_t st = value->start, ln = value->len;
        if (value->kind == 's' && ln >= 2) {
                st++;
                ln -= 2;
        }
        e->value = malloc(ln + 1);
        if (!e->key || !e->value) {
                free(e->key);
                free(e->value);
                return -ENOMEM;
        }
        size_t o = 0;
        for (size_t i = 0; i < ln; i++) {
                if (value->kind == 's' && buf[st + i] == '\\' && i + 1 < ln)
                        i++;
                e->value[o++] = buf[st + i];
        }
        e->value[o] = 0;
        s->n_entries++;
        return 0;
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
        bool freeform;         /* a KEYF_FREEFORM block: its settings go to the scan's entries */
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

/* ---- the tokenizer -------------------------------------------------------- */

struct lexer {
        char *buf;
        size_t len, i;
        int line;
        bool env_reported; /* '${' is reported once per file */
        struct diag *d;
        const char *file;
};

/* The next token into *t, or false at the end of the text. Blanks comments
 * in place. A '${' (which libconfuse would expand from berthd's environment)
 * is reported and defused; *env_here says the token had one. */
static bool lex_next(struct lexer *lx, struct tok *t, bool *env_here)
{
        char *buf = lx->buf;
        size_t len = lx->len, i = lx->i;
        *env_here = false;
        for (;;) {
                if (i >= len) {
                        lx->i = i;
                        return false;
                }
                char c = buf[i];
                if (c == '\n') {
                        lx->line++;
                        i++;
                } else if (isspace((unsigned char) c)) {
                        i++;
                } else if (c == '#' || (c == '/' && i + 1 < len && buf[i + 1] == '/')) {
                        while (i < len && buf[i] != '\n')
                                buf[i++] = ' ';
                } else if (c == '/' && i + 1 < len && buf[i + 1] == '*') {
                        while (i < len && !(buf[i] == '*' && i + 1 < len && buf[i + 1] == '/')) {
                                if (buf[i] == '\n')
                                        lx->line++;
                                else
                                        buf[i] = ' ';
                                i++;
                        }
                        if (i < len) {
                                buf[i++] = ' ';
                                buf[i++] = ' ';
                        }
                } else
                        break;
        }
        char c = buf[i];
        *t = (struct tok){ .start = i, .line = lx->line };
        if (c == '"' || c == '\'') {
                size_t j = i + 1;
                while (j < len && buf[j] != c) {
                        if (buf[j] == '\\' && j + 1 < len) {
                                if (buf[j + 1] == '\n')
                                        lx->line++;
                                j += 2;
                                continue;
                        }
                        if (c == '"' && buf[j] == '$' && j + 1 < len && buf[j + 1] == '{') {
                                if (!lx->env_reported)
                                        diag_add(lx->d, lx->file, lx->line,
                                                 "'${' would expand an environment variable: write '\\${' "
                                                 "or use single quotes");
                                lx->env_reported = *env_here = true;
                                buf[j] = '_'; /* reported: no expansion, whatever the environment */
                        }
                        if (buf[j] == '\n')
                                lx->line++;
                        j++;
                }
                t->kind = 's';
                t->len = (j < len ? j + 1 : j) - i;
        } else if (c == '+' && i + 1 < len && buf[i + 1] == '=') {
                t->kind = '+';
                t->len = 2;
        } else if (strchr("{}(),=+", c)) {
                t->kind = c;
                t->len = 1;
        } else {
                size_t j = i;
                while (j < len && is_word_char(buf[j])) {
                        if (buf[j] == '$' && j + 1 < len && buf[j + 1] == '{') {
                                if (!lx->env_reported)
                                        diag_add(lx->d, lx->file, lx->line,
                                                 "'${' would expand an environment variable: quote the "
                                                 "value with single quotes");
                                lx->env_reported = *env_here = true;
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
                t->kind = 'w';
                t->len = j - i;
        }
        lx->i = i + t->len;
        return true;
}

/* ---- the schema check ----------------------------------------------------- */

struct checker {
        char *buf;
        const cfg_opt_t *top_opts;
        struct scan *s;
        struct diag *d;
        const char *file;
        struct tok prev[3]; /* the last three tokens, prev[2] newest */
        struct frame stack[SCAN_DEPTH_MAX + 1];
        int sp, sec_depth;
        size_t too_deep;         /* braces opened beyond SCAN_DEPTH_MAX */
        ssize_t skip_value_from; /* blank the next value from here */
        struct tok free_key;     /* in a freeform block: the key whose value comes next */
        bool free_pending;
};

/* An '=' or '+=' after a word: the word must be a key of the section. */
static void check_assignment(struct checker *ck, const struct tok *t, const cfg_opt_t *cur, int what)
{
        const struct tok *key = &ck->prev[2];
        const cfg_opt_t *o = opt_find(cur, ck->buf, key);
        int kl = (int) key->len;
        const char *kp = ck->buf + key->start;
        if (o && o->type != CFGT_SEC && t->kind == '=' && ck->sp > 0)
                check_set_twice(&ck->stack[ck->sp - 1], ck->s, o, key, ck->d, ck->file);
        if (o && o->type != CFGT_SEC)
                return;
        if (o)
                diag_add(ck->d, ck->file, key->line, "%.*s: is a block: write %.*s { ... }", kl, kp, kl, kp);
        else if (what >= 0)
                diag_add(ck->d, ck->file, key->line, "unknown key '%.*s' in %s", kl, kp, ck->s->recs[what].name);
        else
                diag_add(ck->d, ck->file, key->line,
                         "unknown key '%.*s' (expected container NAME { }, network NAME { } or template NAME { })", kl, kp);
        ck->skip_value_from = (ssize_t) key->start;
}

/* A '{': a list after '=' (the key must take one), or a block, whose
 * record is kept and whose name must be a block of the section. */
static int open_brace(struct checker *ck, const struct tok *t, const cfg_opt_t *cur, int what, bool checking)
{
        const struct tok *prev = ck->prev;
        bool list = prev[2].kind == '=' || prev[2].kind == '+';
        if (ck->sp >= SCAN_DEPTH_MAX) {
                ck->too_deep++; /* libconfuse will refuse this nesting */
                return 0;
        }
        struct frame f = { .kind = list ? 'L' : 'S', .rec = -1, .blank_from = -1, .line = t->line };
        if (list) {
                if (ck->skip_value_from >= 0) {
                        f.blank_from = ck->skip_value_from;
                        ck->skip_value_from = -1;
                } else if (checking && prev[1].kind == 'w') {
                        const cfg_opt_t *o = opt_find(cur, ck->buf, &prev[1]);
                        if (o && o->type != CFGT_SEC && !(o->flags & CFGF_LIST)) {
                                diag_add(ck->d, ck->file, prev[1].line, "%.*s: takes one value, not a list",
                                         (int) prev[1].len, ck->buf + prev[1].start);
                                f.blank_from = (ssize_t) prev[1].start;
                        }
                }
                ck->stack[ck->sp++] = f;
                return 0;
        }
        const struct tok *name = NULL, *title = NULL;
        if ((prev[2].kind == 'w' || prev[2].kind == 's') && prev[1].kind == 'w' && prev[0].kind != '=' &&
            prev[0].kind != '+') {
                name = &prev[1];
                title = &prev[2];
        } else if (prev[2].kind == 'w')
                name = &prev[2];
        if (name) {
                int parent = -1;
                for (int k = ck->sp - 1; k >= 0; k--)
                        if (ck->stack[k].kind == 'S') {
                                parent = ck->stack[k].rec;
                                break;
                        }
                if (scan_add(ck->s, ck->buf, name, title, ck->sec_depth, parent) < 0)
                        return -ENOMEM;
                f.rec = (int) ck->s->n - 1;
                if (checking) {
                        const cfg_opt_t *o = opt_find(cur, ck->buf, name);
                        int nl = (int) name->len;
                        const char *np = ck->buf + name->start;
                        if (o && o->type == CFGT_SEC && title && what >= 0 && ck->s->recs[what].depth == 0 &&
                            streq(ck->s->recs[what].name, "container") && streq(o->name, "network")) {
                                /* network NAME { address = ... } in a container: an extra
                                 * interface (config.c reads it from the entries). libconfuse
                                 * cannot have a block both titled and untitled, so it never
                                 * sees this one. */
                                f.freeform = true;
                                f.blank_from = (ssize_t) name->start;
                        } else if (o && o->type == CFGT_SEC) {
                                f.opts = o->subopts;
                                f.freeform = schema_is_freeform(o);
                                if (ck->sp > 0)
                                        check_set_twice(&ck->stack[ck->sp - 1], ck->s, o, name, ck->d, ck->file);
                        } else {
                                if (o)
                                        diag_add(ck->d, ck->file, name->line,
                                                 "%.*s: is a key, not a block: write %.*s = VALUE", nl, np, nl, np);
                                else if (what >= 0)
                                        diag_add(ck->d, ck->file, name->line, "unknown block '%.*s' in %s", nl, np,
                                                 ck->s->recs[what].name);
                                else
                                        diag_add(ck->d, ck->file, name->line,
                                                 "unknown block '%.*s' (expected container, network or template)", nl, np);
                                f.blank_from = (ssize_t) name->start;
                        }
                }
        }
        ck->sec_depth++;
        ck->stack[ck->sp++] = f;
        return 0;
}

/* One token against the schema: the section it is in, and what it closes. */
static int check_token(struct checker *ck, const struct tok *t, bool env_here)
{
        const struct tok *prev = ck->prev;
        int sp = ck->sp;
        bool in_section = sp == 0 || ck->stack[sp - 1].kind == 'S';
        if (env_here && in_section && prev[2].kind == '=' && prev[1].kind == 'w') {
                /* KEY = "${...}": reported; drop the whole setting rather than
                 * let the expanded (or mangled) value raise a second error. */
                blank(ck->buf, prev[1].start, t->start + t->len);
                ck->skip_value_from = -1;
                ck->free_pending = false; /* also in a freeform block: nothing recorded */
                return 0;
        }
        if (sp > 0 && ck->stack[sp - 1].freeform) {
                /* KEY = VALUE with any KEY: recorded, and blanked for libconfuse. */
                if (ck->free_pending) {
                        ck->free_pending = false;
                        if (t->kind == 'w' || t->kind == 's') {
                                int r = scan_add_entry(ck->s, ck->buf, ck->stack[sp - 1].rec, &ck->free_key, t);
                                blank(ck->buf, ck->free_key.start, t->start + t->len);
                                return r;
                        }
                        diag_add(ck->d, ck->file, ck->free_key.line, "%s.%.*s: takes one value",
                                 ck->s->recs[ck->stack[sp - 1].rec].name, (int) ck->free_key.len,
                                 ck->buf + ck->free_key.start);
                        if (t->kind == '{')
                                ck->skip_value_from = (ssize_t) ck->free_key.start; /* the list goes too */
                        else
                                blank(ck->buf, ck->free_key.start, t->start);
                } else if (t->kind == '=' && prev[2].kind == 'w') {
                        ck->free_key = prev[2];
                        ck->free_pending = true;
                        return 0;
                }
        }
        const cfg_opt_t *cur = sp == 0 ? ck->top_opts : ck->stack[sp - 1].opts;
        /* The enclosing section's record, by index: scan_add() moves the records. */
        int what = sp > 0 ? ck->stack[sp - 1].rec : -1;
        bool checking = in_section && (sp == 0 || cur);

        if ((t->kind == '=' || t->kind == '+') && checking && prev[2].kind == 'w') {
                check_assignment(ck, t, cur, what);
        } else if (ck->skip_value_from >= 0 && t->kind != '{') {
                /* The value of a key we dropped: a single word or string. */
                blank(ck->buf, (size_t) ck->skip_value_from, t->start + t->len);
                ck->skip_value_from = -1;
                return 0;
        }
        if (t->kind == '{')
                return open_brace(ck, t, cur, what, checking);
        if (t->kind == '}' && ck->too_deep > 0) {
                ck->too_deep--;
        } else if (t->kind == '}' && ck->sp > 0) {
                struct frame *f = &ck->stack[--ck->sp];
                if (f->kind == 'S')
                        ck->sec_depth--;
                if (f->blank_from >= 0)
                        blank(ck->buf, (size_t) f->blank_from, t->start + 1);
        }
        return 0;
}

int scan_text(char *buf, size_t len, const cfg_opt_t *top_opts, struct scan *s, struct diag *d, const char *file)
{
        struct lexer lx = { .buf = buf, .len = len, .line = 1, .d = d, .file = file };
        _cleanup_free_ struct checker *ck = calloc(1, sizeof *ck);
        if (!ck)
                return -ENOMEM;
        *ck = (struct checker){ .buf = buf, .top_opts = top_opts, .s = s, .d = d, .file = file, .skip_value_from = -1 };
        struct tok t;
        bool env_here;
        while (lex_next(&lx, &t, &env_here)) {
                int r = check_token(ck, &t, env_here);
                if (r < 0)
                        return r;
                ck->prev[0] = ck->prev[1];
                ck->prev[1] = ck->prev[2];
                ck->prev[2] = t;
        }
        /* libconfuse accepts a file that ends inside a block. */
        if (ck->sp > 0 || ck->too_deep > 0)
                diag_add(d, file, ck->sp > 0 ? ck->stack[0].line : lx.line,
                         "'{' is never closed (missing '}' at the end of the file)");
        return 0;
}

/* Records are in file order, and a section's blocks follow it up to the
 * next top-level record: searching from where the caller expects the record
 * keeps reading a file with many thousands of sections linear. */
const struct sec_rec *scan_find(const struct scan *s, size_t from, int parent, const char *name,
                                       const char *title)
{
        for (size_t k = 0; k < s->n; k++) {
                const struct sec_rec *r = &s->recs[(from + k) % s->n];
                if (r->parent == parent && streq(r->name, name) && streq_ptr(r->title, title))
                        return r;
        }
        return NULL;
}

const struct sec_rec *scan_find_child(const struct scan *s, int parent, const char *name, const char *title)
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

/* Sections that repeat the name and title of an earlier one, which
 * libconfuse would merge: top-level ones (parent < 0), or the mounts of the
 * section whose record is parent. Sorted, so thousands of sections cost
 * n log n. */
int scan_report_declared_twice(const struct scan *s, int parent, struct diag *d, const char *file)
{
        size_t from = parent < 0 ? 0 : (size_t) parent + 1, n = 0, end = s->n;
        if (parent >= 0) /* this section's blocks only: called once per container */
                for (end = from; end < s->n && s->recs[end].depth > 0; end++)
                        ;
        if (end == from)
                return 0;
        _cleanup_free_ const struct sec_rec **v = calloc(end - from + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = from; i < end; i++) {
                const struct sec_rec *r = &s->recs[i];
                if (parent < 0 && r->depth == 0)
                        v[n++] = r;
                else if (parent >= 0 && r->depth == 0)
                        break; /* past this section's blocks */
                else if (parent >= 0 && r->parent == parent &&
                         (streq(r->name, "mount") || streq(r->name, "device") || streq(r->name, "secret") ||
                          streq(r->name, "hook")))
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
                        diag_add(d, file, v[i]->line, "%s '%s' declared twice (first at %s:%d)", v[i]->name,
                                 title, file, v[first]->line);
                else
                        diag_add(d, file, v[i]->line, "%s '%s' declared twice (first at line %d)", v[i]->name,
                                 title, v[first]->line);
        }
        return 0;
}

/* libconfuse looks up each titled section among the earlier ones of its
 * kind (quadratic: 30,000 sections in a 1 MB file take a minute under
 * ASan), so bound the sections of a file before it sees them. */
int scan_check_size(const struct scan *s, struct diag *d, const char *file)
{
        size_t top = 0;
        _cleanup_free_ size_t *children = calloc(s->n + 1, sizeof(size_t));
        if (!children)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                const struct sec_rec *r = &s->recs[i];
                if (r->depth == 0 && ++top > CONFIG_CONTAINERS_MAX) {
                        diag_add(d, file, r->line, "more than %d containers and networks in one file", CONFIG_CONTAINERS_MAX);
                        return 1;
                }
                if (r->parent >= 0 && ++children[r->parent] > SPEC_LIST_MAX) {
                        diag_add(d, file, r->line, "more than %d blocks in one %s", SPEC_LIST_MAX, s->recs[r->parent].name);
                        return 1;
                }
        }
        return 0;
}
