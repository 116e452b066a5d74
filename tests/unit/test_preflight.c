/* Unit tests for preflight.c: templates and rootfs as the host has them.
 * Works in a temporary directory of its own; needs no root. */
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

#include "preflight.h"
#include "util.h"

static char tmp[] = "/tmp/test_preflight.XXXXXX";
static char scripts[300], state[300];

static int setup(void **s)
{
        (void) s;
        if (!mkdtemp(tmp))
                return -1;
        snprintf(scripts, sizeof scripts, "%s/scripts", tmp);
        snprintf(state, sizeof state, "%s/state", tmp);
        char p[400];
        snprintf(p, sizeof p, "%s/state/templates/imported", tmp);
        if (mkdir(scripts, 0755) < 0 || mkdir(state, 0755) < 0 || mkdir_p(p, 0755) < 0)
                return -1;
        snprintf(p, sizeof p, "%s/builtin.sh", scripts);
        FILE *f = fopen(p, "we");
        if (!f)
                return -1;
        fclose(f);
        snprintf(p, sizeof p, "%s/afile", tmp);
        f = fopen(p, "we");
        if (!f)
                return -1;
        fclose(f);
        return 0;
}

static int teardown(void **s)
{
        (void) s;
        return rm_rf(tmp);
}

/* A set of one container with template t or rootfs r (one of them). */
static void one(struct spec_set *set, const char *t, const char *r)
{
        struct spec_container *c = NULL;
        assert_int_equal(spec_container_new("c", "c.conf", 1, &c), 0);
        c->template_name = t ? strdup(t) : NULL;
        c->line_template = 2;
        c->rootfs = r ? strdup(r) : NULL;
        c->line_rootfs = 3;
        *set = (struct spec_set){ 0 };
        set->containers = calloc(2, sizeof *set->containers);
        assert_non_null(set->containers);
        set->containers[0] = c;
        set->n_containers = 1;
}

static size_t errors_for(const char *t, const char *r, const char *state_dir, struct diag *d)
{
        struct spec_set set;
        one(&set, t, r);
        size_t n = preflight_check(&set, state_dir, scripts, d);
        spec_set_done(&set);
        return n;
}

static void test_preflight_check_builtin_template_passes(void **s)
{
        (void) s;
        struct diag d = { 0 };
        assert_int_equal(errors_for("builtin", NULL, state, &d), 0);
        assert_int_equal(errors_for("builtin", NULL, NULL, &d), 0);
        diag_done(&d);
}

static void test_preflight_check_imported_template_passes(void **s)
{
        (void) s;
        struct diag d = { 0 };
        assert_int_equal(errors_for("imported", NULL, state, &d), 0);
        diag_done(&d);
}

static void test_preflight_check_missing_template_at_its_line(void **s)
{
        (void) s;
        struct diag d = { 0 };
        assert_int_equal(errors_for("nosuch", NULL, state, &d), 1);
        assert_string_equal(d.entries[0].file, "c.conf");
        assert_int_equal(d.entries[0].line, 2);
        assert_non_null(strstr(d.entries[0].message, "no template 'nosuch'"));
        /* imported elsewhere than the state directory checked: missing */
        assert_int_equal(errors_for("imported", NULL, NULL, &d), 1);
        diag_done(&d);
}

static void test_preflight_check_rootfs(void **s)
{
        (void) s;
        struct diag d = { 0 };
        char p[400];
        assert_int_equal(errors_for(NULL, tmp, state, &d), 0);
        snprintf(p, sizeof p, "%s/afile", tmp);
        assert_int_equal(errors_for(NULL, p, state, &d), 1);
        assert_int_equal(d.entries[0].line, 3);
        assert_non_null(strstr(d.entries[0].message, "is not a directory"));
        snprintf(p, sizeof p, "%s/nothere", tmp);
        assert_int_equal(errors_for(NULL, p, state, &d), 1);
        assert_non_null(strstr(d.entries[1].message, "does not exist"));
        diag_done(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_preflight_check_builtin_template_passes),
                cmocka_unit_test(test_preflight_check_imported_template_passes),
                cmocka_unit_test(test_preflight_check_missing_template_at_its_line),
                cmocka_unit_test(test_preflight_check_rootfs),
        };
        return cmocka_run_group_tests_name("preflight", tests, setup, teardown);
}
