/* JSON as text, without json-c's objects (issue 22: `berthctl ls` of
 * 1,000 containers, where json-c's object per container, a hash table
 * each, and the pages they take were most of the time).
 *
 * The writer appends JSON to a growing buffer (berthd's ls reply). Strings
 * are escaped as json-c escapes them (control characters as \u00xx), '/'
 * is left alone.
 *
 * The reader walks the text a peer sent: a pull scanner, and a printer of
 * one value in exactly the form json-c prints it with
 * JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE. It takes the
 * subset of JSON json-c writes (no numbers with a fraction or exponent,
 * integers of at most 18 digits, no \u escape of a surrogate, raw control
 * characters nowhere, object keys without escapes, at most JT_DEPTH levels
 * and JT_KEYS members per object, no repeated key): anything else is
 * -EINVAL, and the caller hands the text to json-c instead. Pure: no I/O
 * but the FILE given to jt_pretty. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- writer ---- */

struct jbuf {
        char *p; /* NUL-terminated while len > 0 */
        size_t len, cap;
        bool oom; /* an append failed: the text is incomplete */
};

void jbuf_raw(struct jbuf *b, const char *s, size_t n);
void jbuf_lit(struct jbuf *b, const char *s);
/* A string, quoted and escaped; NULL is null. */
void jbuf_str(struct jbuf *b, const char *s);
/* ,"key": (no comma when first) */
void jbuf_key(struct jbuf *b, bool first, const char *key);
void jbuf_int(struct jbuf *b, int64_t v);
void jbuf_uint(struct jbuf *b, uint64_t v);
void jbuf_bool(struct jbuf *b, bool v);
void jbuf_done(struct jbuf *b);

/* ---- reader ---- */

#define JT_DEPTH 30
#define JT_KEYS 64

struct jt {
        const char *p, *end;
        int depth;
};

enum jt_kind { JT_NULL, JT_FALSE, JT_TRUE, JT_INT, JT_STRING, JT_OBJECT, JT_ARRAY };

static inline struct jt jt_init(const char *s, size_t n)
{
        return (struct jt){ .p = s, .end = s + n };
}

/* The kind of the next value (whitespace skipped), or -EINVAL. */
int jt_peek(struct jt *t);
/* Skips one value, checking it is in the subset. */
int jt_skip(struct jt *t);
int jt_int(struct jt *t, int64_t *ret);
/* A string, decoded into buf (NUL-terminated); -EINVAL when it does not
 * fit in size bytes. */
int jt_string(struct jt *t, char *buf, size_t size);
/* Objects: jt_object_next() after '{' is consumed by jt_enter(): 1 with
 * *key and *klen set and the value next, 0 at the end (the '}' consumed).
 * Arrays likewise with jt_array_next(). */
int jt_enter(struct jt *t, char open);
int jt_object_next(struct jt *t, bool *first, const char **key, size_t *klen);
int jt_array_next(struct jt *t, bool *first);
/* Whitespace, then c, consumed. */
int jt_expect(struct jt *t, char c);
/* True when only whitespace is left. */
bool jt_at_end(struct jt *t);
/* Prints one value as json-c's pretty printer does, at nesting level 0;
 * out NULL: checks only. 0, -EINVAL (not in the subset), or -EIO. */
int jt_pretty(struct jt *t, FILE *out);
