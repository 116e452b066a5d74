/* lib/sha256: FIPS 180-2 test vectors, streaming in pieces equals one shot,
 * and a released context is safe to release again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void test_sha256_vectors(void **state)
{
        (void) state;
        char out[65];
        assert_int_equal(sha256_hex_of("abc", 3, out), 0);
        assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(sha256_hex_of("", 0, out), 0);
        assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_streaming(void **state)
{
        (void) state;
        const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        struct sha256 h = { 0 };
        assert_int_equal(sha256_init(&h), 0);
        size_t len = strlen(msg);
        for (size_t i = 0; i < len; i += 5)
                sha256_update(&h, msg + i, len - i < 5 ? len - i : 5);
        char out[65];
        sha256_final_hex(&h, out);
        assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assert_null(h.ctx);
        sha256_done(&h); /* released twice: harmless */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256_vectors),
                cmocka_unit_test(test_sha256_streaming),
        };
        return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
