/* Unit tests that man/berth.conf.5.scd matches the key table (keys.h), which
 * is what the parser reads: every row is documented under its block with
 * the row's default and an example, every documented key is a row, and the
 * page's full example parses without errors. Run from the repository root.
 *
 * The page marks keys like this (scdoc):
 *     ## container.limits - resource limits      <- block heading, first word = block path
 *     *memory* = SIZE                            <- key line: *KEY* = or *KEY* +=
 *     <TAB>...
 *     <TAB>Default: unlimited.
 *     <TAB>Example: memory = 256M                 <- starts with the key itself
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <fcntl.h>

#include "config.h"
#include "keys.h"
#include "util.h"

#define PAGE "man/berth.conf.5.scd"

struct doc_key {
        char *block; /* "container.limits"; "" outside a block heading */
        char *key;   /* "memory" */
        int line;
        bool has_default, has_example, example_names_key;
        char *default_text; /* after "Default: ", without scdoc's '*' */
};

struct doc {
        char *text;
        struct doc_key *keys;
        size_t n_keys;
        char **headings; /* first word of every "## " heading */
        char *example;   /* the first ``` block after "# EXAMPLE" */
};

static char *first_word(const char *s)
{
        size_t n = strcspn(s, " \t");
        return strndup(s, n);
}

/* "*memory* = ...", "*subnet6* = ..." or "*env* += ...": the key, or NULL. */
static char *key_of_line(const char *l)
{
        if (l[0] != '*')
                return NULL;
        const char *e = strchr(l + 1, '*');
        if (!e || e == l + 1)
                return NULL;
        for (const char *p = l + 1; p < e; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return NULL;
        if (strncmp(e + 1, " = ", 3) != 0 && strncmp(e + 1, " += ", 4) != 0)
                return NULL;
        return strndup(l + 1, (size_t) (e - l - 1));
}

static void doc_load(struct doc *d)
{
        *d = (struct doc){ 0 };
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, PAGE, 1 << 20, &d->text, &len);
        if (r < 0)
                fail_msg("cannot read %s (tests run from the repository root): %s", PAGE, strerror(-r));
        d->headings = calloc(1, sizeof(char *));
        assert_non_null(d->headings);

        _cleanup_free_ char *block = strdup("");
        bool fence = false, in_example = false;
        size_t example_start = 0;
        int lineno = 0;
        struct doc_key *cur = NULL;
        for (char *l = d->text; l && *l;) {
                char *nl = strchr(l, '\n');
                size_t ll = nl ? (size_t) (nl - l) : strlen(l);
                _cleanup_free_ char *line = strndup(l, ll);
                assert_non_null(line);
                lineno++;
                size_t here = (size_t) (l - d->text);
                l = nl ? nl + 1 : NULL;

                if (strncmp(line, "```", 3) == 0 || strncmp(line, "\t```", 4) == 0) {
                        fence = !fence;
                        if (fence && in_example && !d->example)
                                example_start = here + ll + 1;
                        else if (!fence && in_example && !d->example)
                                d->example = strndup(d->text + example_start, here - example_start);
                        continue;
                }
                if (fence)
                        continue;
                if (strncmp(line, "# ", 2) == 0) {
                        in_example = streq(line, "# EXAMPLE");
                        free(block);
                        block = strdup("");
                        cur = NULL;
                        continue;
                }
                if (strncmp(line, "## ", 3) == 0) {
                        free(block);
                        block = first_word(line + 3);
                        assert_int_equal(strv_push(&d->headings, block), 0);
                        cur = NULL;
                        continue;
                }
                char *key = key_of_line(line);
                if (key) {
                        struct doc_key *n = realloc(d->keys, (d->n_keys + 1) * sizeof *n);
                        assert_non_null(n);
                        d->keys = n;
                        cur = &d->keys[d->n_keys++];
                        *cur = (struct doc_key){ .block = strdup(block), .key = key, .line = lineno };
                        continue;
                }
                if (!cur || line[0] != '\t')
                        continue;
                const char *dflt = strstr(line, "Default:");
                if (dflt) {
                        cur->has_default = true;
                        dflt += strlen("Default:");
                        dflt += strspn(dflt, " ");
                        free(cur->default_text);
                        cur->default_text = calloc(1, strlen(dflt) + 1);
                        assert_non_null(cur->default_text);
                        for (size_t o = 0; *dflt; dflt++)
                                if (*dflt != '*')
                                        cur->default_text[o++] = *dflt;
                }
                const char *ex = strstr(line, "Example: ");
                if (ex) {
                        cur->has_example = true;
                        size_t kl = strlen(cur->key);
                        ex += strlen("Example: ");
                        if (strncmp(ex, cur->key, kl) == 0 &&
                            (strncmp(ex + kl, " = ", 3) == 0 || strncmp(ex + kl, " += ", 4) == 0))
                                cur->example_names_key = true;
                }
        }
}

static void doc_done(struct doc *d)
{
        for (size_t i = 0; i < d->n_keys; i++) {
                free(d->keys[i].block);
                free(d->keys[i].key);
                free(d->keys[i].default_text);
        }
        free(d->keys);
        strv_free(d->headings);
        free(d->example);
        free(d->text);
}

static const struct doc_key *doc_find(const struct doc *d, const char *block, const char *key)
{
        for (size_t i = 0; i < d->n_keys; i++)
                if (streq(d->keys[i].block, block) && streq(d->keys[i].key, key))
                        return &d->keys[i];
        return NULL;
}

/* Every row of the table: a block has its "## BLOCK" heading; a key is
 * documented under its block, and the page's default begins with the
 * row's (the page may say more: "0 (root in the container)."). */
static void test_keys_every_row_documented(void **state)
{
        (void) state;
        struct doc d;
        doc_load(&d);
        size_t n = 0;
        const struct key_def *t = keys_table(&n);
        assert_true(n > 50);
        int missing = 0;
        char path[128];
        for (const struct key_def *k = t; k->name; k++) {
                key_path(k, path, sizeof path);
                if (k->type == KEY_BLOCK) {
                        if (!strv_contains(d.headings, path)) {
                                print_error("%s: block '%s' has no '## %s ...' heading\n", PAGE, path, path);
                                missing++;
                        }
                        continue;
                }
                const struct doc_key *dk = doc_find(&d, k->block, k->name);
                if (!dk) {
                        print_error("%s: key '%s' is not documented as '*%s* = ...' under '## %s'\n", PAGE, path,
                                    k->name, k->block);
                        missing++;
                        continue;
                }
                if (!k->def || !k->doc || !k->doc[0]) {
                        print_error("keys.c: row '%s' has no default or no doc line\n", path);
                        missing++;
                } else if (!dk->default_text || strncmp(dk->default_text, k->def, strlen(k->def)) != 0) {
                        print_error("%s:%d: %s: 'Default: %s' does not begin with the table's '%s'\n", PAGE,
                                    dk->line, path, dk->default_text ? dk->default_text : "", k->def);
                        missing++;
                }
        }
        /* config_keys() is the table, so the parser accepts exactly these. */
        _cleanup_strv_free_ char **keys = config_keys();
        assert_non_null(keys);
        assert_int_equal(strv_length(keys), n);
        doc_done(&d);
        assert_int_equal(missing, 0);
}

static void test_documented_keys_exist(void **state)
{
        (void) state;
        struct doc d;
        doc_load(&d);
        assert_true(d.n_keys > 50);
        int unknown = 0;
        for (size_t i = 0; i < d.n_keys; i++) {
                const struct key_def *k = keys_find(d.keys[i].block, d.keys[i].key);
                if (!k || k->type == KEY_BLOCK) {
                        print_error("%s:%d: '%s.%s' is documented but the key table has no such key\n", PAGE,
                                    d.keys[i].line, d.keys[i].block, d.keys[i].key);
                        unknown++;
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(d.keys[j].block, d.keys[i].block) && streq(d.keys[j].key, d.keys[i].key)) {
                                print_error("%s:%d: '%s.%s' is documented twice\n", PAGE, d.keys[i].line,
                                            d.keys[i].block, d.keys[i].key);
                                unknown++;
                        }
        }
        doc_done(&d);
        assert_int_equal(unknown, 0);
}

static void test_documented_keys_have_default_and_example(void **state)
{
        (void) state;
        struct doc d;
        doc_load(&d);
        int bad = 0;
        for (size_t i = 0; i < d.n_keys; i++) {
                const struct doc_key *k = &d.keys[i];
                if (!k->has_default)
                        print_error("%s:%d: %s.%s: no 'Default:'\n", PAGE, k->line, k->block, k->key);
                if (!k->has_example)
                        print_error("%s:%d: %s.%s: no 'Example:'\n", PAGE, k->line, k->block, k->key);
                else if (!k->example_names_key)
                        print_error("%s:%d: %s.%s: the example does not start with '%s ='\n", PAGE, k->line,
                                    k->block, k->key, k->key);
                bad += !k->has_default || !k->has_example || !k->example_names_key;
        }
        doc_done(&d);
        assert_int_equal(bad, 0);
}

static void test_example_parses(void **state)
{
        (void) state;
        struct doc d;
        doc_load(&d);
        assert_non_null(d.example);
        struct spec_set set = { 0 };
        struct diag dg = { 0 };
        assert_int_equal(config_parse_buffer("EXAMPLE", d.example, strlen(d.example), &set, &dg), 0);
        config_validate(&set, &dg);
        for (size_t i = 0; i < dg.n; i++) {
                char buf[1024];
                print_error("%s EXAMPLE: %s\n", PAGE, diag_format(&dg.entries[i], buf, sizeof buf));
        }
        assert_int_equal(dg.n + dg.dropped, 0);
        assert_true(set.n_containers >= 2);
        assert_true(set.n_networks >= 1);
        spec_set_done(&set);
        diag_done(&dg);
        doc_done(&d);
}

/* The parser's own errors must be caught by the same check the example
 * relies on: a page whose example had a mistake would fail. */
static void test_example_check_catches_mistakes(void **state)
{
        (void) state;
        static const char bad[] = "container x {\n  template = \"busybox\"\n  limits { memory = 12Q }\n}\n";
        struct spec_set set = { 0 };
        struct diag dg = { 0 };
        assert_int_equal(config_parse_buffer("EXAMPLE", bad, strlen(bad), &set, &dg), 0);
        config_validate(&set, &dg);
        assert_int_equal(dg.n, 1);
        assert_int_equal(dg.entries[0].line, 3);
        spec_set_done(&set);
        diag_done(&dg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys_every_row_documented),
                cmocka_unit_test(test_documented_keys_exist),
                cmocka_unit_test(test_documented_keys_have_default_and_example),
                cmocka_unit_test(test_example_parses),
                cmocka_unit_test(test_example_check_catches_mistakes),
        };
        return cmocka_run_group_tests_name("docs", tests, NULL, NULL);
}
