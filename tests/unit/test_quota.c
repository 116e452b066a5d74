/* Unit tests for quota.c: project ids (derivation, collisions, the
 * recorded file), block conversion, and what needs no quota-enabled file
 * system (detection on a plain one, lifting a limit that was never set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "quota.h"
#include "util.h"

static void test_quota_project_from_name_stable_in_range(void **state)
{
        (void) state;
        const char *names[] = { "a", "web", "db", "web-1", "web-2", "x.y_z", "0" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                uint32_t id = quota_project_from_name(names[i]);
                assert_true(id >= QUOTA_PROJECT_MIN);
                assert_true(id <= QUOTA_PROJECT_MAX);
                assert_int_equal(id, quota_project_from_name(names[i]));
        }
        /* FNV-1a of "web" is 0x0fd9bc91; the range holds 2^31 - 1 ids. */
        assert_int_equal(quota_project_from_name("web"), 2413411473U);
}

static void test_quota_project_from_name_distinct(void **state)
{
        (void) state;
        char a[32], b[32];
        for (int i = 0; i < 200; i++) {
                snprintf(a, sizeof a, "c%d", i);
                for (int j = i + 1; j < 200; j++) {
                        snprintf(b, sizeof b, "c%d", j);
                        assert_int_not_equal(quota_project_from_name(a), quota_project_from_name(b));
                }
        }
}

static void test_quota_project_pick_free_hash(void **state)
{
        (void) state;
        uint32_t used[] = { QUOTA_PROJECT_MIN, QUOTA_PROJECT_MIN + 1 };
        assert_int_equal(quota_project_pick("web", used, ELEMENTSOF(used)), quota_project_from_name("web"));
        assert_int_equal(quota_project_pick("web", NULL, 0), quota_project_from_name("web"));
}

static void test_quota_project_pick_collision_takes_next(void **state)
{
        (void) state;
        uint32_t h = quota_project_from_name("web");
        uint32_t used[] = { h, h + 1, h + 3 };
        assert_int_equal(quota_project_pick("web", used, ELEMENTSOF(used)), h + 2);
}

static void test_quota_project_pick_wraps_at_max(void **state)
{
        (void) state;
        /* A name whose id lies within 4096 of the top, and every id from
         * it to the top taken: the next is the bottom of the range. */
        char name[32] = "";
        uint32_t h = 0;
        for (unsigned i = 0; i < 100000000U; i++) {
                snprintf(name, sizeof name, "n%u", i);
                h = quota_project_from_name(name);
                if (QUOTA_PROJECT_MAX - h < 4096)
                        break;
        }
        assert_true(QUOTA_PROJECT_MAX - h < 4096);
        size_t n = (size_t) (QUOTA_PROJECT_MAX - h) + 1;
        uint32_t *used = calloc(n, sizeof *used);
        assert_non_null(used);
        for (size_t i = 0; i < n; i++)
                used[i] = h + (uint32_t) i;
        assert_int_equal(quota_project_pick(name, used, n), QUOTA_PROJECT_MIN);
        free(used);
}

static void test_quota_bytes_to_blocks_rounds_up(void **state)
{
        (void) state;
        assert_int_equal(quota_bytes_to_blocks(0), 0);
        assert_int_equal(quota_bytes_to_blocks(1), 1);
        assert_int_equal(quota_bytes_to_blocks(1024), 1);
        assert_int_equal(quota_bytes_to_blocks(1025), 2);
        assert_int_equal(quota_bytes_to_blocks(8ULL << 20), 8192);
        assert_int_equal(quota_bytes_to_blocks(2ULL << 40), 2ULL << 30);
}

static void test_quota_project_parse_valid_and_invalid(void **state)
{
        (void) state;
        uint32_t id = 0;
        assert_int_equal(quota_project_parse("2147483648\n", &id), 0);
        assert_int_equal(id, QUOTA_PROJECT_MIN);
        assert_int_equal(quota_project_parse("4294967294", &id), 0);
        assert_int_equal(id, QUOTA_PROJECT_MAX);
        assert_int_equal(quota_project_parse("4294967295", &id), -EINVAL);
        assert_int_equal(quota_project_parse("99999999999999999999", &id), -EINVAL);
        assert_int_equal(quota_project_parse("2147483647", &id), -EINVAL);
        assert_int_equal(quota_project_parse("", &id), -EINVAL);
        assert_int_equal(quota_project_parse("-2147483648", &id), -EINVAL);
        assert_int_equal(quota_project_parse("2147483648x", &id), -EINVAL);
        assert_int_equal(quota_project_parse("2147483648\n\n", &id), -EINVAL);
}

/* A temporary containers directory with sub directories. */
static int mk_containers(char *tmpl)
{
        assert_non_null(mkdtemp(tmpl));
        int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void write_record(int dfd, const char *name, const char *text)
{
        assert_int_equal(mkdirat(dfd, name, 0700), 0);
        _cleanup_close_ int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(cfd >= 0);
        if (text)
                assert_int_equal(write_file_atomic(cfd, QUOTA_PROJECT_FILE, text, strlen(text), 0600), 0);
}

static void test_quota_project_get_records_and_avoids_siblings(void **state)
{
        (void) state;
        char dir[] = "/tmp/btquota-unit.XXXXXX";
        _cleanup_close_ int dfd = mk_containers(dir);
        char sib[32];
        snprintf(sib, sizeof sib, "%u\n", quota_project_from_name("web"));
        write_record(dfd, "other", sib); /* a sibling holds web's hash */
        write_record(dfd, "web", NULL);
        uint32_t id = 0, again = 0;
        assert_int_equal(quota_project_get(dfd, "web", &id), 0);
        assert_int_equal(id, quota_project_from_name("web") == QUOTA_PROJECT_MAX ? QUOTA_PROJECT_MIN
                                                                                  : quota_project_from_name("web") + 1);
        /* Recorded: the same id again even once the sibling is gone. */
        _cleanup_free_ char *rec = strdup_printf("%s/other/%s", dir, QUOTA_PROJECT_FILE);
        assert_int_equal(unlink(rec), 0);
        assert_int_equal(quota_project_get(dfd, "web", &again), 0);
        assert_int_equal(again, id);
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_quota_project_get_missing_dir(void **state)
{
        (void) state;
        char dir[] = "/tmp/btquota-unit.XXXXXX";
        _cleanup_close_ int dfd = mk_containers(dir);
        uint32_t id;
        assert_int_equal(quota_project_get(dfd, "nope", &id), -ENOENT);
        assert_int_equal(rmdir(dir), 0);
}

static void test_quota_container_release_without_record(void **state)
{
        (void) state;
        char dir[] = "/tmp/btquota-unit.XXXXXX";
        _cleanup_close_ int dfd = mk_containers(dir);
        write_record(dfd, "web", NULL);
        assert_int_equal(quota_container_release(dfd, "web"), 0);
        assert_int_equal(quota_container_release(dfd, "gone"), 0);
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* /proc has no quota operations at all: not supported, and applying a
 * quota there says so (the error runtime_start turns into its message). */
static void test_quota_supported_proc_is_not(void **state)
{
        (void) state;
        _cleanup_close_ int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(quota_supported(fd), 0);
}

static void test_quota_container_apply_unsupported(void **state)
{
        (void) state;
        /* /dev/shm is a tmpfs: without quota options it has no project
         * quotas on any kernel berth supports. */
        char dir[] = "/dev/shm/btquota-unit.XXXXXX";
        _cleanup_close_ int dfd = mk_containers(dir);
        write_record(dfd, "web", NULL);
        assert_int_equal(quota_container_apply(dfd, "web", 8ULL << 20), -EOPNOTSUPP);
        /* Nothing was recorded. */
        _cleanup_free_ char *rec = strdup_printf("%s/web/%s", dir, QUOTA_PROJECT_FILE);
        assert_int_equal(access(rec, F_OK), -1);
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quota_project_from_name_stable_in_range),
                cmocka_unit_test(test_quota_project_from_name_distinct),
                cmocka_unit_test(test_quota_project_pick_free_hash),
                cmocka_unit_test(test_quota_project_pick_collision_takes_next),
                cmocka_unit_test(test_quota_project_pick_wraps_at_max),
                cmocka_unit_test(test_quota_bytes_to_blocks_rounds_up),
                cmocka_unit_test(test_quota_project_parse_valid_and_invalid),
                cmocka_unit_test(test_quota_project_get_records_and_avoids_siblings),
                cmocka_unit_test(test_quota_project_get_missing_dir),
                cmocka_unit_test(test_quota_container_release_without_record),
                cmocka_unit_test(test_quota_supported_proc_is_not),
                cmocka_unit_test(test_quota_container_apply_unsupported),
        };
        return cmocka_run_group_tests_name("quota", tests, NULL, NULL);
}
