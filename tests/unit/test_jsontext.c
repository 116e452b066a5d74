/* Unit tests for jsontext.c: jt_pretty() prints what json-c prints with
 * JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, byte for byte
 * (berthctl ls --json relies on it), refuses what is outside its subset,
 * and the writer's text parses back to what was written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "jsontext.h"

/* jt_pretty's output for text, or NULL when it refused it. */
static char *pretty(const char *text)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        struct jt t = jt_init(text, strlen(text));
        int r = jt_pretty(&t, f);
        /* the check alone agrees with the print */
        struct jt t2 = jt_init(text, strlen(text));
        assert_int_equal(jt_pretty(&t2, NULL), r);
        fclose(f);
        if (r < 0 || !jt_at_end(&t)) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void same_as_jsonc(const char *text)
{
        enum json_tokener_error err;
        json_object *o = json_tokener_parse_verbose(text, &err); /* "null" is NULL */
        if (err != json_tokener_success)
                fail_msg("json-c: %s: %s", json_tokener_error_desc(err), text);
        char *mine = pretty(text);
        if (!mine)
                fail_msg("refused: %s", text);
        const char *theirs = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (strcmp(mine, theirs) != 0)
                fail_msg("for %s\nmine:\n%s\njson-c:\n%s", text, mine, theirs);
        free(mine);
        json_object_put(o);
}

static void test_jsontext_pretty_like_jsonc(void **state)
{
        (void) state;
        static const char *const docs[] = {
                "{}", "[]", "{\"a\":[]}", "{\"a\":{}}", "[[],{},[[]]]", "0", "-5", "\"x\"", "true", "null",
                "{\"a\":1,\"b\":\"two\",\"c\":[1,2,{\"d\":null,\"e\":false}],\"f\":{\"g\":{\"h\":[true]}}}",
                " { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } } ",
                "{\"s\":\"a\\/b\\\"c\\\\d\\b\\f\\n\\r\\t\"}",
                "{\"u\":\"\\u0001\\u001f\\u007f\\u0000x\\u00e9\\u20ac\\u0041\\u002f\\u0022\\u005c\\u0008\"}",
                "{\"raw\":\"caf\xc3\xa9 \xff\xfe /slash\"}",
                "{\"big\":999999999999999999,\"neg\":-999999999999999999,\"z\":0}",
                "{\"containers\":[{\"name\":\"web-1\",\"state\":\"running\",\"orphaned\":false,\"health\":\"-\","
                "\"pid\":4242,\"address\":\"198.18.0.2\",\"address6\":\"\",\"restarts\":0,\"uptime_sec\":61,"
                "\"last_status\":-1,\"error\":\"\",\"declared\":true}]}",
        };
        for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
                same_as_jsonc(docs[i]);
}

/* Random documents of the subset against json-c. */
static void gen(char *buf, size_t *len, size_t cap, int depth, unsigned *seed)
{
#define ADD(s) do { const char *s_ = (s); size_t n_ = strlen(s_); assert_true(*len + n_ < cap); memcpy(buf + *len, s_, n_); *len += n_; } while (0)
        int k = depth > 4 ? rand_r(seed) % 5 : rand_r(seed) % 7;
        char tmp[64];
        switch (k) {
        case 0: ADD(rand_r(seed) % 2 ? "true" : "null"); break;
        case 1: snprintf(tmp, sizeof tmp, "%d", rand_r(seed) % 2000 - 1000); ADD(tmp); break;
        case 2: ADD("false"); break;
        case 3:
        case 4: {
                static const char *const pieces[] = { "a", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0003", "\\u00fc",
                                                      "/", " ", "\xc3\xa4", "\\u0000", "\\r", "\\b", "\\f", "Z" };
                ADD("\"");
                for (int i = rand_r(seed) % 6; i > 0; i--)
                        ADD(pieces[rand_r(seed) % 16]);
                ADD("\"");
                break;
        }
        case 5: {
                ADD("[");
                for (int i = 0, n = rand_r(seed) % 4; i < n; i++) {
                        if (i)
                                ADD(",");
                        gen(buf, len, cap, depth + 1, seed);
                }
                ADD("]");
                break;
        }
        default: {
                ADD("{");
                for (int i = 0, n = rand_r(seed) % 4; i < n; i++) {
                        snprintf(tmp, sizeof tmp, "%s\"k%d\":", i ? "," : "", i);
                        ADD(tmp);
                        gen(buf, len, cap, depth + 1, seed);
                }
                ADD("}");
        }
        }
#undef ADD
}

static void test_jsontext_pretty_random_like_jsonc(void **state)
{
        (void) state;
        unsigned seed = 22;
        for (int i = 0; i < 2000; i++) {
                char buf[65536];
                size_t len = 0;
                gen(buf, &len, sizeof buf, 0, &seed);
                buf[len] = 0;
                same_as_jsonc(buf);
        }
}

static void test_jsontext_refuses_outside_subset(void **state)
{
        (void) state;
        static const char *const docs[] = {
                "1.5", "1e3", "-0", "01", "1234567890123456789", "\"\\ud83d\\ude00\"", "{\"a\\u0062\":1}",
                "{\"a\":1,\"a\":2}", "\"tab\there\"", "[1,]", "{\"a\":1,}", "[1 2]", "nul", "truex", "'s'", "",
                "{\"a\":1", "[", "\"open", "{1:2}", "/* c */ 1",
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        };
        for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
                char *p = pretty(docs[i]);
                if (p)
                        fail_msg("accepted: %s", docs[i]);
        }
}

static void test_jsontext_reader_walks_members(void **state)
{
        (void) state;
        const char *text = "{\"name\":\"a\\/b\",\"pid\":-12,\"ok\":true,\"skip\":[{\"x\":null}],\"s\":null}";
        struct jt t = jt_init(text, strlen(text));
        bool first = true;
        const char *k;
        size_t kn;
        char buf[16];
        int64_t v;
        assert_int_equal(jt_enter(&t, '{'), 0);
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 1);
        assert_true(kn == 4 && memcmp(k, "name", 4) == 0);
        assert_int_equal(jt_peek(&t), JT_STRING);
        assert_int_equal(jt_string(&t, buf, sizeof buf), 0);
        assert_string_equal(buf, "a/b");
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 1);
        assert_int_equal(jt_int(&t, &v), 0);
        assert_int_equal(v, -12);
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 1);
        assert_int_equal(jt_peek(&t), JT_TRUE);
        assert_int_equal(jt_skip(&t), 0);
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 1);
        assert_int_equal(jt_skip(&t), 0);
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 1);
        assert_int_equal(jt_peek(&t), JT_NULL);
        assert_int_equal(jt_skip(&t), 0);
        assert_int_equal(jt_object_next(&t, &first, &k, &kn), 0);
        assert_true(jt_at_end(&t));
        /* too long for the buffer */
        struct jt t2 = jt_init("\"0123456789abcdef\"", 18);
        assert_int_equal(jt_string(&t2, buf, sizeof buf), -EINVAL);
}

static void test_jsontext_writer_parses_back(void **state)
{
        (void) state;
        struct jbuf b = { 0 };
        jbuf_lit(&b, "{");
        jbuf_key(&b, true, "s");
        jbuf_str(&b, "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
        jbuf_key(&b, false, "n");
        jbuf_str(&b, NULL);
        jbuf_key(&b, false, "i");
        jbuf_int(&b, INT64_MIN + 1);
        jbuf_key(&b, false, "u");
        jbuf_uint(&b, UINT64_MAX);
        jbuf_key(&b, false, "t");
        jbuf_bool(&b, true);
        jbuf_lit(&b, "}");
        assert_false(b.oom);
        json_object *o = json_tokener_parse(b.p), *v;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "s", &v));
        assert_string_equal(json_object_get_string(v), "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
        assert_true(json_object_object_get_ex(o, "n", &v) && v == NULL);
        assert_true(json_object_object_get_ex(o, "i", &v));
        assert_true(json_object_get_int64(v) == INT64_MIN + 1);
        assert_true(json_object_object_get_ex(o, "u", &v));
        assert_true(json_object_get_uint64(v) == UINT64_MAX);
        assert_true(json_object_object_get_ex(o, "t", &v) && json_object_get_boolean(v));
        json_object_put(o);
        /* a string in the subset: the reader gives it back */
        struct jbuf s = { 0 };
        jbuf_str(&s, "a\x01/\"z");
        struct jt t = jt_init(s.p, s.len);
        char out[16];
        assert_int_equal(jt_string(&t, out, sizeof out), 0);
        assert_string_equal(out, "a\x01/\"z");
        jbuf_done(&s);
        jbuf_done(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jsontext_pretty_like_jsonc),
                cmocka_unit_test(test_jsontext_pretty_random_like_jsonc),
                cmocka_unit_test(test_jsontext_refuses_outside_subset),
                cmocka_unit_test(test_jsontext_reader_walks_members),
                cmocka_unit_test(test_jsontext_writer_parses_back),
        };
        return cmocka_run_group_tests_name("jsontext", tests, NULL, NULL);
}
