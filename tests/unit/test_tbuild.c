/* lib/tbuild: the key checks (package names, from), the host's apt
 * configuration (deb822 and one-line sources, security and updates suites
 * skipped; $BERTH_APT_DIR), and the build hash: what changes it (mirror,
 * packages, run, a copy source's content, the parent's definition) and
 * what does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "tbuild.h"
#include "util.h"

static char dir[64];

static void put(const char *rel, const char *text)
{
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void want_of(const char *text, const char *name, struct tbuild_want *w)
{
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        assert_int_equal(d.n, 0);
        struct error e = { 0 };
        int r = tbuild_want(&set, name, w, &e);
        if (r < 0)
                fail_msg("%s", error_message(&e));
        diag_done(&d);
        spec_set_done(&set);
}

static void test_tbuild_checks(void **state)
{
        (void) state;
        const char *good[] = { "nginx-light", "libc6", "g++", "python3.11", "nginx=1.22.1-9", "a0", NULL };
        const char *bad[] = { "Nginx", "-o", "a", "nginx light", "ngi_nx", "x=", "x=abc", "", NULL };
        for (size_t i = 0; good[i]; i++)
                if (tbuild_package_check(good[i]))
                        fail_msg("'%s' refused", good[i]);
        for (size_t i = 0; bad[i]; i++)
                if (!tbuild_package_check(bad[i]))
                        fail_msg("'%s' accepted", bad[i]);
        assert_null(tbuild_from_check("debian"));
        assert_null(tbuild_from_check("busybox"));
        assert_null(tbuild_from_check("my-base"));
        assert_null(tbuild_from_check("oci-archive:/srv/a.tar"));
        assert_non_null(tbuild_from_check("Not A Name"));
        assert_null(tbuild_mirror_check("http://deb.debian.org/debian"));
        assert_non_null(tbuild_mirror_check("ftp://x"));
        assert_null(tbuild_suite_check("bookworm"));
        assert_non_null(tbuild_suite_check("Bookworm"));
}

static const char deb_tpl[] = "template d { from = \"debian\" }\n";

static void test_tbuild_host_apt(void **state)
{
        (void) state;
        char sub[128];
        snprintf(sub, sizeof sub, "%s/sources.list.d", dir);
        assert_int_equal(mkdir_p(sub, 0755), 0);
        setenv("BERTH_APT_DIR", dir, 1);
        struct tbuild_want a, b, c, x;
        /* deb822: the security stanza first, then the main one */
        put("sources.list.d/debian.sources",
            "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\n"
            "Types: deb\nURIs: http://m1.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n");
        want_of(deb_tpl, "d", &a);
        want_of("template d { from = \"debian\" suite = \"bookworm\" mirror = \"http://m1.example/debian\" }\n", "d",
                &x);
        assert_string_equal(a.hash, x.hash); /* the host's is the explicit one's */
        put("sources.list.d/debian.sources",
            "Types: deb\nURIs: http://m2.example/debian\nSuites: bookworm\nComponents: main\n");
        want_of(deb_tpl, "d", &b);
        assert_string_not_equal(a.hash, b.hash); /* another mirror: another build */
        assert_string_not_equal(a.base, b.base);
        assert_string_equal(a.packages, b.packages);
        /* the one-line format, options in brackets */
        unlink(strcat(strcpy(sub, dir), "/sources.list.d/debian.sources"));
        put("sources.list", "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m1.example/debian bookworm main\n");
        want_of(deb_tpl, "d", &c);
        assert_string_equal(a.hash, c.hash);
        unsetenv("BERTH_APT_DIR");
}

static void test_tbuild_hash(void **state)
{
        (void) state;
        put("f", "one");
        char text[1024];
        struct tbuild_want a, b, c, d, e, p1, p2;
        const char *fmt = "template base { from = \"busybox\" run = { \"/bin/true\", \"%s\" }\n"
                          "  copy { source = \"%s/f\" target = \"/etc/f\" } }\n"
                          "template app { from = \"base\" run = { \"/bin/true\" } }\n";
        snprintf(text, sizeof text, fmt, "1", dir);
        want_of(text, "base", &a);
        want_of(text, "app", &p1);
        want_of(text, "base", &b);
        assert_string_equal(a.hash, b.hash); /* stable */
        assert_string_equal(p1.parent, "base");
        snprintf(text, sizeof text, fmt, "2", dir);
        want_of(text, "base", &c);
        want_of(text, "app", &p2);
        assert_string_not_equal(a.hash, c.hash);
        assert_string_not_equal(a.run, c.run);
        assert_string_equal(a.copy, c.copy);
        assert_string_not_equal(p1.hash, p2.hash); /* the parent changed */
        assert_string_equal(p1.run, p2.run);
        put("f", "two");
        snprintf(text, sizeof text, fmt, "1", dir);
        want_of(text, "base", &d);
        assert_string_not_equal(a.copy, d.copy); /* the source's content */
        chmod(strcat(strcpy(text, dir), "/f"), 0600);
        snprintf(text, sizeof text, fmt, "1", dir);
        want_of(text, "base", &e);
        assert_string_not_equal(d.copy, e.copy); /* its mode */
}

static void test_tbuild_check_diags(void **state)
{
        (void) state;
        const char *text = "template a { from = \"b\" }\ntemplate b { from = \"a\" }\n"
                           "template c { from = \"busybox\" packages = { \"curl\" } }\n"
                           "template i { from = \"oci-archive:/x.tar\" run = { \"/bin/true\" } }\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        assert_int_equal(tbuild_check(&set, &d), 4);
        char buf[512];
        assert_non_null(strstr(diag_format(&d.entries[0], buf, sizeof buf), "t.conf:1: from: template 'a' is its own parent"));
        assert_non_null(strstr(diag_format(&d.entries[2], buf, sizeof buf), "t.conf:3: packages: template 'c' is built on busybox"));
        assert_non_null(strstr(diag_format(&d.entries[3], buf, sizeof buf), "t.conf:4: template 'i': an image"));
        diag_done(&d);
        spec_set_done(&set);
}

static int setup(void **state)
{
        (void) state;
        snprintf(dir, sizeof dir, "/tmp/test_tbuild.XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        return rm_rf(dir) < 0 ? -1 : 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tbuild_checks),
                cmocka_unit_test(test_tbuild_host_apt),
                cmocka_unit_test(test_tbuild_hash),
                cmocka_unit_test(test_tbuild_check_diags),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
