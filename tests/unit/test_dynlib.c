/* lib/dynlib: a library loaded on first use. A missing library or symbol
 * gives an error naming the library, its Debian package and what needs it;
 * a constructor then fails as the function would, a release function does
 * nothing; the real tables (nftables, crypto) load and work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dl_crypto.h"
#include "dl_nftables.h"
#include "dynlib.h"

/* Two tables of this test's own: a library that does not exist, and one
 * (libc) without the symbol asked for. */
int berth_dynlib_test_new(void);
void berth_dynlib_test_free(int x);
#define MISSING_SYMS(X) X(berth_dynlib_test_new) X(berth_dynlib_test_free)
#define NOSYM_SYMS(X) X(berth_dynlib_test_new)
DYNLIB_DECLARE(missing, MISSING_SYMS)
DYNLIB_DECLARE(nosym, NOSYM_SYMS)
DYNLIB_DEFINE(missing, "libberth-dynlib-test-missing.so.9", "berth-test-pkg", "the dynlib test", MISSING_SYMS)
DYNLIB_DEFINE(nosym, "libc.so.6", "libc6", "the dynlib test", NOSYM_SYMS)

static void test_dynlib_missing_library(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_int_equal(dl_missing_load(&e), -ELIBACC);
        assert_int_equal(e.code, ELIBACC);
        assert_non_null(strstr(e.msg, "cannot load libberth-dynlib-test-missing.so.9 (package berth-test-pkg), "
                                      "which the dynlib test needs: "));
        assert_false(dl_missing_loaded());
        /* the redirects: a constructor fails, a release does nothing */
        assert_int_equal(DYNLIB_CTOR(missing, berth_dynlib_test_new, -ELIBACC, ), -ELIBACC);
        DYNLIB_FREE(missing, berth_dynlib_test_free, (void) 0, 1);
        assert_false(dl_missing_loaded());
}

static void test_dynlib_missing_symbol(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_int_equal(dl_nosym_load(&e), -ELIBBAD);
        assert_non_null(strstr(e.msg, "cannot load libc.so.6 (package libc6), which the dynlib test needs: "
                                      "symbol berth_dynlib_test_new: "));
        assert_false(dl_nosym_loaded());
}

static void test_dynlib_real(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_int_equal(dl_nftables_load(&e), 0);
        assert_true(dl_nftables_loaded());
        assert_int_equal(dl_nftables_load(&e), 0); /* again: nothing to do */
        /* an implicit load through a constructor */
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        assert_int_equal(EVP_Digest("abc", 3, md, &n, EVP_sha256(), NULL), 1);
        assert_true(dl_crypto_loaded());
        assert_int_equal(n, 32);
        assert_int_equal(md[0], 0xba);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dynlib_missing_library),
                cmocka_unit_test(test_dynlib_missing_symbol),
                cmocka_unit_test(test_dynlib_real),
        };
        return cmocka_run_group_tests_name("dynlib", tests, NULL, NULL);
}
