/* Unit tests for escape_terminal() (util.c): what `berthctl logs` lets
 * through to a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"

/* Escapes in (final), returns the text in a static buffer. */
static const char *esc(const char *in, size_t n)
{
        static char out[4096];
        size_t olen;
        assert_true(4 * n < sizeof out);
        assert_int_equal(escape_terminal(in, n, true, out, &olen), n);
        out[olen] = 0;
        return out;
}
#define ESC(s) esc(s, sizeof(s) - 1)

static void test_escape_terminal_text_newline_tab_kept(void **state)
{
        (void) state;
        assert_string_equal(ESC("hello\tworld\n"), "hello\tworld\n");
        assert_string_equal(ESC(""), "");
}

static void test_escape_terminal_osc_title_and_clipboard(void **state)
{
        (void) state;
        assert_string_equal(ESC("\033]0;pwned\007"), "\\x1b]0;pwned\\x07");
        assert_string_equal(ESC("\033]52;c;cHduZWQ=\007"), "\\x1b]52;c;cHduZWQ=\\x07");
        assert_string_equal(ESC("\033[2J\r\b\177"), "\\x1b[2J\\x0d\\x08\\x7f");
}

static void test_escape_terminal_nul_escaped(void **state)
{
        (void) state;
        assert_string_equal(esc("a\0b", 3), "a\\x00b");
}

static void test_escape_terminal_utf8_kept(void **state)
{
        (void) state;
        /* é, €, 😀, U+00A0 (the first code point after C1) */
        assert_string_equal(ESC("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0"),
                            "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
}

static void test_escape_terminal_c1_and_invalid_escaped(void **state)
{
        (void) state;
        /* U+009B (CSI) encoded, a raw 0x9b, overlong '/', a surrogate, > U+10FFFF */
        assert_string_equal(ESC("\xc2\x9b"), "\\xc2\\x9b");
        assert_string_equal(ESC("\x9b[2J"), "\\x9b[2J");
        assert_string_equal(ESC("\xc0\xaf"), "\\xc0\\xaf");
        assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
        assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
        /* a truncated sequence at the very end */
        assert_string_equal(ESC("a\xe2\x82"), "a\\xe2\\x82");
}

static void test_escape_terminal_split_sequence_waits(void **state)
{
        (void) state;
        char out[64];
        size_t olen;
        /* Not final: the incomplete € stays for the next call. */
        assert_int_equal(escape_terminal("x\xe2\x82", 3, false, out, &olen), 1);
        assert_int_equal(olen, 1);
        assert_int_equal(escape_terminal("\xe2\x82\xac", 3, false, out, &olen), 3);
        assert_memory_equal(out, "\xe2\x82\xac", 3);
        /* An invalid byte never waits. */
        assert_int_equal(escape_terminal("\xff", 1, false, out, &olen), 1);
        assert_memory_equal(out, "\\xff", 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_terminal_text_newline_tab_kept),
                cmocka_unit_test(test_escape_terminal_osc_title_and_clipboard),
                cmocka_unit_test(test_escape_terminal_nul_escaped),
                cmocka_unit_test(test_escape_terminal_utf8_kept),
                cmocka_unit_test(test_escape_terminal_c1_and_invalid_escaped),
                cmocka_unit_test(test_escape_terminal_split_sequence_waits),
        };
        return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
