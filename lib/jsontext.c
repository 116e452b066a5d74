#include "jsontext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *p = realloc(b->p, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = 0;
}

void jbuf_lit(struct jbuf *b, const char *s)
{
        jbuf_raw(b, s, strlen(s));
}

/* c as JSON writes it in a string (json-c's escaping, no '/' escaped):
 * into e, its length. */
static size_t escape_char(unsigned char c, char e[6])
{
        static const char hex[] = "0123456789abcdef";
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; return 2;
        case '\\': e[1] = '\\'; return 2;
        case '\b': e[1] = 'b'; return 2;
        case '\f': e[1] = 'f'; return 2;
        case '\n': e[1] = 'n'; return 2;
        case '\r': e[1] = 'r'; return 2;
        case '\t': e[1] = 't'; return 2;
        default:
                if (c >= 0x20) {
                        e[0] = (char) c;
                        return 1;
                }
                memcpy(e + 1, "u00", 3);
                e[4] = hex[c >> 4];
                e[5] = hex[c & 0xf];
                return 6;
        }
}

void jbuf_str(struct jbuf *b, const char *s)
{
        if (!s) {
                jbuf_raw(b, "null", 4);
                return;
        }
        jbuf_raw(b, "\"", 1);
        for (const char *run = s;; s++) {
                unsigned char c = (unsigned char) *s;
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                jbuf_raw(b, run, (size_t) (s - run));
                run = s + 1;
                if (!c)
                        break;
                char e[6];
                size_t n = escape_char(c, e);
                jbuf_raw(b, e, n);
        }
        jbuf_raw(b, "\"", 1);
}

void jbuf_key(struct jbuf *b, bool first, const char *key)
{
        if (!first)
                jbuf_raw(b, ",", 1);
        jbuf_str(b, key);
        jbuf_raw(b, ":", 1);
}

void jbuf_int(struct jbuf *b, int64_t v)
{
        char s[24];
        int n = snprintf(s, sizeof s, "%" PRId64, v);
        jbuf_raw(b, s, (size_t) n);
}

void jbuf_uint(struct jbuf *b, uint64_t v)
{
        char s[24];
        int n = snprintf(s, sizeof s, "%" PRIu64, v);
        jbuf_raw(b, s, (size_t) n);
}

void jbuf_bool(struct jbuf *b, bool v)
{
        jbuf_lit(b, v ? "true" : "false");
}

void jbuf_done(struct jbuf *b)
{
        free(b->p);
        *b = (struct jbuf){ 0 };
}

/* ---- reader ---- */

static void ws(struct jt *t)
{
        while (t->p < t->end && (*t->p == ' ' || *t->p == '\n' || *t->p == '\t' || *t->p == '\r'))
                t->p++;
}

bool jt_at_end(struct jt *t)
{
        ws(t);
        return t->p == t->end;
}

int jt_expect(struct jt *t, char c)
{
        ws(t);
        if (t->p == t->end || *t->p != c)
                return -EINVAL;
        t->p++;
        return 0;
}

int jt_peek(struct jt *t)
{
        ws(t);
        if (t->p == t->end)
                return -EINVAL;
        switch (*t->p) {
        case 'n': return JT_NULL;
        case 'f': return JT_FALSE;
        case 't': return JT_TRUE;
        case '"': return JT_STRING;
        case '{': return JT_OBJECT;
        case '[': return JT_ARRAY;
        default: return *t->p == '-' || (*t->p >= '0' && *t->p <= '9') ? JT_INT : -EINVAL;
        }
}

static int word(struct jt *t, const char *w, size_t n)
{
        if ((size_t) (t->end - t->p) < n || memcmp(t->p, w, n) != 0)
                return -EINVAL;
        t->p += n;
        /* "nullx" is no literal */
        if (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') || (*t->p >= '0' && *t->p <= '9')))
                return -EINVAL;
        return 0;
}

/* An integer as json-c prints one: "0" or [-][1-9][0-9]{0,17}; start and
 * length in the text. */
static int int_text(struct jt *t, const char **s, size_t *n)
{
        ws(t);
        const char *p = t->p;
        if (p < t->end && *p == '-')
                p++;
        const char *d = p;
        while (p < t->end && *p >= '0' && *p <= '9')
                p++;
        size_t digits = (size_t) (p - d);
        if (digits == 0 || digits > 18 || (d[0] == '0' && (digits > 1 || d != t->p)))
                return -EINVAL;
        if (p < t->end && (*p == '.' || *p == 'e' || *p == 'E'))
                return -EINVAL;
        *s = t->p;
        *n = (size_t) (p - t->p);
        t->p = p;
        return 0;
}

int jt_int(struct jt *t, int64_t *ret)
{
        const char *s;
        size_t n;
        int r = int_text(t, &s, &n);
        if (r < 0)
                return r;
        bool neg = *s == '-';
        int64_t v = 0;
        for (size_t i = neg; i < n; i++)
                v = v * 10 + (s[i] - '0');
        *ret = neg ? -v : v;
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One string's contents, decoded piece by piece: emit(piece, n, ctx) for
 * each run of bytes as they are (raw) or decoded from an escape. */
typedef int (*piece_fn)(const char *s, size_t n, bool raw, void *ctx);

static int string_walk(struct jt *t, piece_fn emit, void *ctx)
{
        ws(t);
        if (t->p == t->end || *t->p != '"')
                return -EINVAL;
        const char *p = t->p + 1, *run = p;
        for (;;) {
                if (p == t->end)
                        return -EINVAL;
                unsigned char c = (unsigned char) *p;
                if (c >= 0x20 && c != '"' && c != '\\') {
                        p++;
                        continue;
                }
                if (c < 0x20)
                        return -EINVAL;
                if (p > run && emit(run, (size_t) (p - run), true, ctx) < 0)
                        return -EINVAL;
                if (c == '"')
                        break;
                /* an escape */
                if (p + 1 >= t->end)
                        return -EINVAL;
                char d[4];
                size_t dn = 1;
                switch (p[1]) {
                case '"': d[0] = '"'; break;
                case '\\': d[0] = '\\'; break;
                case '/': d[0] = '/'; break;
                case 'b': d[0] = '\b'; break;
                case 'f': d[0] = '\f'; break;
                case 'n': d[0] = '\n'; break;
                case 'r': d[0] = '\r'; break;
                case 't': d[0] = '\t'; break;
                case 'u': {
                        if (t->end - p < 6)
                                return -EINVAL;
                        unsigned cp = 0;
                        for (int i = 2; i < 6; i++) {
                                int h = hexval(p[i]);
                                if (h < 0)
                                        return -EINVAL;
                                cp = cp << 4 | (unsigned) h;
                        }
                        if (cp >= 0xd800 && cp <= 0xdfff)
                                return -EINVAL;
                        if (cp < 0x80)
                                d[0] = (char) cp;
                        else if (cp < 0x800) {
                                d[0] = (char) (0xc0 | cp >> 6);
                                d[1] = (char) (0x80 | (cp & 0x3f));
                                dn = 2;
                        } else {
                                d[0] = (char) (0xe0 | cp >> 12);
                                d[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                                d[2] = (char) (0x80 | (cp & 0x3f));
                                dn = 3;
                        }
                        p += 4;
                        break;
                }
                default: return -EINVAL;
                }
                if (emit(d, dn, false, ctx) < 0)
                        return -EINVAL;
                p += 2;
                run = p;
        }
        t->p = p + 1;
        return 0;
}

struct into {
        char *buf;
        size_t size, len;
};

static int into_buf(const char *s, size_t n, bool raw, void *ctx)
{
        (void) raw;
        struct into *b = ctx;
        if (b->len + n + 1 > b->size)
                return -EINVAL;
        memcpy(b->buf + b->len, s, n);
        b->len += n;
        return 0;
}

int jt_string(struct jt *t, char *buf, size_t size)
{
        struct into b = { .buf = buf, .size = size };
        int r = string_walk(t, into_buf, &b);
        if (r < 0)
                return r;
        buf[b.len] = 0;
        return 0;
}

static int nothing(const char *s, size_t n, bool raw, void *ctx)
{
        (void) s;
        (void) n;
        (void) raw;
        (void) ctx;
        return 0;
}

int jt_enter(struct jt *t, char open)
{
        if (t->depth >= JT_DEPTH)
                return -EINVAL;
        int r = jt_expect(t, open);
        if (r == 0)
                t->depth++;
        return r;
}

/* A key: a string without escapes. */
static int key_text(struct jt *t, const char **key, size_t *klen)
{
        ws(t);
        if (t->p == t->end || *t->p != '"')
                return -EINVAL;
        const char *k = t->p + 1, *p = k;
        while (p < t->end && *p != '"' && *p != '\\' && (unsigned char) *p >= 0x20)
                p++;
        if (p == t->end || *p != '"')
                return -EINVAL;
        *key = k;
        *klen = (size_t) (p - k);
        t->p = p + 1;
        return jt_expect(t, ':');
}

static int next_item(struct jt *t, bool *first, char close)
{
        ws(t);
        if (t->p == t->end)
                return -EINVAL;
        if (*t->p == close) {
                t->p++;
                t->depth--;
                return 0;
        }
        if (!*first && jt_expect(t, ',') < 0)
                return -EINVAL;
        *first = false;
        return 1;
}

int jt_object_next(struct jt *t, bool *first, const char **key, size_t *klen)
{
        int r = next_item(t, first, '}');
        if (r <= 0)
                return r;
        r = key_text(t, key, klen);
        return r < 0 ? r : 1;
}

int jt_array_next(struct jt *t, bool *first)
{
        return next_item(t, first, ']');
}

/* ---- skipping and printing: one walk, output optional ---- */

struct pp {
        FILE *out;
        bool failed;
};

static void put(struct pp *o, const char *s, size_t n)
{
        if (o->out && n && fwrite(s, 1, n, o->out) != n)
                o->failed = true;
}

static void indent(struct pp *o, int level)
{
        static const char spaces[] = "                                                                    ";
        size_t n = 2 * (size_t) level;
        while (n > 0) {
                size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
                put(o, spaces, k);
                n -= k;
        }
}

/* json-c's escaping with JSON_C_TO_STRING_NOSLASHESCAPE. */
static int escaped(const char *s, size_t n, bool raw, void *ctx)
{
        struct pp *o = ctx;
        if (raw) { /* no '"', '\\' or control characters: as they are */
                put(o, s, n);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                char e[6];
                put(o, e, escape_char((unsigned char) s[i], e));
        }
        return 0;
}

/* The end of an object or array whose members ended with r. */
static int close_nested(struct pp *o, int r, int level, const char *end)
{
        if (r < 0)
                return r;
        put(o, "\n", 1);
        indent(o, level);
        put(o, end, 1);
        return 0;
}

static int value(struct jt *t, struct pp *o, int level)
{
        int kind = jt_peek(t), r;
        bool first = true;
        const char *s;
        size_t n;
        switch (kind) {
        case JT_NULL:
        case JT_FALSE:
        case JT_TRUE:
                s = kind == JT_NULL ? "null" : kind == JT_FALSE ? "false" : "true";
                n = strlen(s);
                if (word(t, s, n) < 0)
                        return -EINVAL;
                put(o, s, n);
                return 0;
        case JT_INT:
                if (int_text(t, &s, &n) < 0)
                        return -EINVAL;
                put(o, s, n);
                return 0;
        case JT_STRING:
                put(o, "\"", 1);
                if (string_walk(t, o->out ? escaped : nothing, o) < 0)
                        return -EINVAL;
                put(o, "\"", 1);
                return 0;
        case JT_OBJECT: {
                struct {
                        const char *k;
                        size_t n;
                } keys[JT_KEYS];
                size_t nk = 0;
                if (jt_enter(t, '{') < 0)
                        return -EINVAL;
                put(o, "{", 1);
                while ((r = jt_object_next(t, &first, &s, &n)) > 0) {
                        if (nk == JT_KEYS)
                                return -EINVAL;
                        for (size_t i = 0; i < nk; i++)
                                if (keys[i].n == n && memcmp(keys[i].k, s, n) == 0)
                                        return -EINVAL; /* json-c keeps the last: not ours to mimic */
                        keys[nk].k = s;
                        keys[nk++].n = n;
                        put(o, nk > 1 ? ",\n" : "\n", nk > 1 ? 2 : 1);
                        indent(o, level + 1);
                        put(o, "\"", 1);
                        put(o, s, n);
                        put(o, "\":", 2);
                        if (value(t, o, level + 1) < 0)
                                return -EINVAL;
                }
                return close_nested(o, r, level, "}");
        }
        case JT_ARRAY: {
                if (jt_enter(t, '[') < 0)
                        return -EINVAL;
                put(o, "[", 1);
                size_t ne = 0;
                while ((r = jt_array_next(t, &first)) > 0) {
                        put(o, ne > 0 ? ",\n" : "\n", ne > 0 ? 2 : 1);
                        ne++;
                        indent(o, level + 1);
                        if (value(t, o, level + 1) < 0)
                                return -EINVAL;
                }
                return close_nested(o, r, level, "]");
        }
        default: return -EINVAL;
        }
}

int jt_skip(struct jt *t)
{
        struct pp o = { 0 };
        return value(t, &o, 0);
}

int jt_pretty(struct jt *t, FILE *out)
{
        struct pp o = { .out = out };
        int r = value(t, &o, 0);
        if (r < 0)
                return r;
        return o.failed ? -EIO : 0;
}
