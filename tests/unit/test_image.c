/* Unit tests for image.c: source forms, importing docker-archives the test
 * writes itself (libarchive, libcrypto), the record, the lowerdir, and a
 * refused layer leaving nothing. Works in a temporary directory of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "image.h"
#include "util.h"

static char tmp[] = "/tmp/test_image.XXXXXX";
static char state[300];

static int setup(void **s)
{
        (void) s;
        if (!mkdtemp(tmp))
                return -1;
        snprintf(state, sizeof state, "%s/state", tmp);
        return 0;
}

static int teardown(void **s)
{
        (void) s;
        return rm_rf(tmp);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
        unsigned char md[32];
        unsigned n = 0;
        EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct member {
        const char *name;
        const char *data; /* NULL: a directory */
        size_t len;
};

/* A tar of members into a malloc'd buffer. */
static char *tar_of(const struct member *m, size_t n, size_t *len)
{
        size_t cap = 1 << 20;
        char *buf = calloc(1, cap);
        assert_non_null(buf);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, m[i].name);
                archive_entry_set_filetype(e, m[i].data ? AE_IFREG : AE_IFDIR);
                archive_entry_set_perm(e, m[i].data ? 0644 : 0755);
                archive_entry_set_size(e, m[i].data ? (la_int64_t) m[i].len : 0);
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (m[i].data)
                        archive_write_data(a, m[i].data, m[i].len);
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        return buf;
}

/* Writes tmp/NAME.tar: a docker-archive of one base layer (file "a") and
 * a top layer with the given members. */
static void docker_archive(const char *name, const struct member *top, size_t n_top)
{
        const struct member base[] = { { "a", "a\n", 2 }, { "d", NULL, 0 } };
        size_t l1, l2;
        _cleanup_free_ char *t1 = tar_of(base, 2, &l1);
        _cleanup_free_ char *t2 = tar_of(top, n_top, &l2);
        char h1[65], h2[65], hc[65];
        sha256_hex(t1, l1, h1);
        sha256_hex(t2, l2, h2);
        _cleanup_free_ char *cfg = strdup_printf(
                "{\"config\":{\"Cmd\":[\"/bin/true\"],\"Env\":[\"A=1\"],\"WorkingDir\":\"/d\"},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\",\"sha256:%s\"]}}",
                h1, h2);
        sha256_hex(cfg, strlen(cfg), hc);
        _cleanup_free_ char *n1 = strdup_printf("%s.tar", h1), *n2 = strdup_printf("%s.tar", h2);
        _cleanup_free_ char *nc = strdup_printf("%s.json", hc);
        _cleanup_free_ char *man = strdup_printf("[{\"Config\":\"%s\",\"RepoTags\":[\"t:latest\"],"
                                                 "\"Layers\":[\"%s\",\"%s\"]}]",
                                                 nc, n1, n2);
        const struct member outer[] = {
                { n1, t1, l1 }, { n2, t2, l2 }, { nc, cfg, strlen(cfg) }, { "manifest.json", man, strlen(man) },
        };
        size_t len;
        _cleanup_free_ char *all = tar_of(outer, 4, &len);
        _cleanup_free_ char *path = strdup_printf("%s/%s.tar", tmp, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(all, 1, len, f), len);
        fclose(f);
}

static size_t store_entries(void)
{
        _cleanup_free_ char *cmd = strdup_printf("ls -A %s/layers/sha256 2>/dev/null | wc -l", state);
        FILE *p = popen(cmd, "re");
        size_t n = 99;
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%zu", &n), 1);
        pclose(p);
        return n;
}

static void test_image_source_check_forms(void **s)
{
        (void) s;
        assert_null(image_source_check("oci-archive:/srv/a.tar"));
        assert_null(image_source_check("oci:/srv/layout:v1"));
        assert_null(image_source_check("docker-archive:/srv/d.tar"));
        assert_non_null(image_source_check("/srv/a.tar"));
        assert_non_null(image_source_check("docker://alpine"));
        assert_non_null(image_source_check("oci:relative/dir"));
        assert_true(image_source_is_image("oci:/x"));
        assert_false(image_source_is_image("/x.tar"));
}

static void test_image_import_docker_archive(void **s)
{
        (void) s;
        const struct member top[] = { { "b", "b\n", 2 } };
        docker_archive("good", top, 1);
        _cleanup_free_ char *from = strdup_printf("docker-archive:%s/good.tar", tmp);
        struct error e = { 0 };
        assert_int_equal(image_import(state, "good", from, &e), 0);
        assert_int_equal(store_entries(), 2);
        struct image_info *i = NULL;
        assert_int_equal(image_read(state, "good", &i), 0);
        assert_int_equal(strv_length(i->layers), 2);
        assert_string_equal(i->cmd[0], "/bin/true");
        assert_string_equal(i->env[0], "A=1");
        assert_string_equal(i->workdir, "/d");
        _cleanup_free_ char *lower = NULL;
        assert_int_equal(image_lowerdir(state, i, &lower), 0);
        /* top first */
        _cleanup_free_ char *want = strdup_printf("%s/layers/sha256/%s:%s/layers/sha256/%s", state, i->layers[1] + 7,
                                                  state, i->layers[0] + 7);
        assert_string_equal(lower, want);
        image_info_free(i);
        /* Again under another name: nothing new in the store. */
        assert_int_equal(image_import(state, "again", from, &e), 0);
        assert_int_equal(store_entries(), 2);
        assert_int_equal(image_layer_users(state, "sha256:0000"), 0);
        assert_int_equal(image_import(state, "good", from, &e), -EEXIST);
}

static void test_image_import_refuses_escaping_path(void **s)
{
        (void) s;
        const struct member top[] = { { "../escape", "x\n", 2 } };
        docker_archive("evil", top, 1);
        size_t before = store_entries();
        _cleanup_free_ char *from = strdup_printf("docker-archive:%s/evil.tar", tmp);
        struct error e = { 0 };
        assert_true(image_import(state, "evil", from, &e) < 0);
        assert_non_null(strstr(error_message(&e), "image 'evil': layer sha256:"));
        assert_non_null(strstr(error_message(&e), "'../escape' escapes the root"));
        assert_int_equal(store_entries(), before);
        struct image_info *i = NULL;
        assert_int_equal(image_read(state, "evil", &i), -ENOENT);
}

static void test_image_import_refuses_corrupt(void **s)
{
        (void) s;
        _cleanup_free_ char *path = strdup_printf("%s/junk.tar", tmp);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs("this is no tar archive at all\n", f);
        fclose(f);
        _cleanup_free_ char *from = strdup_printf("docker-archive:%s", path);
        struct error e = { 0 };
        assert_true(image_import(state, "junk", from, &e) < 0);
        assert_non_null(strstr(error_message(&e), "image 'junk'"));
        struct image_info *i = NULL;
        assert_int_equal(image_read(state, "junk", &i), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_image_source_check_forms),
                cmocka_unit_test(test_image_import_docker_archive),
                cmocka_unit_test(test_image_import_refuses_escaping_path),
                cmocka_unit_test(test_image_import_refuses_corrupt),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
