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
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/syscall.h>

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

/* Live: with BERTH_QUOTA_DIR naming a directory on a file system with
 * project quotas (test_quota.sh sets it in its VM), the real thing;
 * skipped elsewhere. Each test gets a fresh containers directory there
 * holding web/upper and web/work. The writes run without an effective
 * CAP_SYS_RESOURCE, which would let them past the limit (as a container
 * runs). */
struct live {
        char *dir;
        int dfd;
};

static void drop_sys_resource(void)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        assert_int_equal(syscall(SYS_capget, &hdr, data), 0);
        data[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective &= ~CAP_TO_MASK(CAP_SYS_RESOURCE);
        assert_int_equal(syscall(SYS_capset, &hdr, data), 0);
}

static int live_setup(void **state)
{
        const char *base = getenv("BERTH_QUOTA_DIR");
        if (!base || !*base) {
                *state = NULL;
                return 0;
        }
        struct live *l = calloc(1, sizeof *l);
        assert_non_null(l);
        l->dir = strdup_printf("%s/btquota-live.XXXXXX", base);
        assert_non_null(l->dir);
        l->dfd = mk_containers(l->dir);
        write_record(l->dfd, "web", NULL);
        assert_int_equal(mkdirat(l->dfd, "web/upper", 0755), 0);
        assert_int_equal(mkdirat(l->dfd, "web/work", 0755), 0);
        drop_sys_resource();
        *state = l;
        return 0;
}

static int live_teardown(void **state)
{
        struct live *l = *state;
        if (!l)
                return 0;
        (void) quota_container_release(l->dfd, "web");
        close(l->dfd);
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", l->dir);
        int r = cmd ? system(cmd) : -1;
        free(l->dir);
        free(l);
        return r == 0 ? 0 : -1;
}

static int live_fd(void **state)
{
        struct live *l = *state;
        if (!l)
                skip();
        assert_int_equal(quota_supported(l->dfd), 1);
        return l->dfd;
}

/* Writes up to mib MiB to containers/web/upper/PATH: the bytes written
 * (stopping at the first error, whose errno goes to *ret_errno). */
static uint64_t fill(int dfd, const char *path, unsigned mib, int *ret_errno)
{
        _cleanup_free_ char *p = strdup_printf("web/upper/%s", path);
        _cleanup_close_ int fd = openat(dfd, p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        static char buf[65536];
        uint64_t done = 0;
        *ret_errno = 0;
        for (unsigned i = 0; i < mib * 16; i++) {
                ssize_t n = write(fd, buf, sizeof buf);
                if (n < 0) {
                        *ret_errno = errno;
                        break;
                }
                done += (uint64_t) n;
        }
        if (*ret_errno == 0 && fsync(fd) < 0)
                *ret_errno = errno;
        return done;
}

static uint32_t projid_of(int dfd, const char *path)
{
        _cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct fsxattr fa;
        assert_int_equal(ioctl(fd, FS_IOC_FSGETXATTR, &fa), 0);
        return fa.fsx_projid;
}

static void test_quota_container_apply_live_labels_existing_tree(void **state)
{
        int dfd = live_fd(state);
        /* Files from before the quota (a restart after adding disk-quota). */
        assert_int_equal(mkdirat(dfd, "web/upper/a", 0755), 0);
        assert_int_equal(mkdirat(dfd, "web/upper/a/b", 0755), 0);
        assert_int_equal(symlinkat("/nowhere", dfd, "web/upper/a/link"), 0);
        int e;
        assert_int_equal(fill(dfd, "a/b/old", 3, &e), 3ULL << 20);
        assert_int_equal(quota_container_apply(dfd, "web", 8ULL << 20), 0);
        uint32_t id;
        assert_int_equal(quota_project_get(dfd, "web", &id), 0);
        assert_int_equal(projid_of(dfd, "web/upper"), id);
        assert_int_equal(projid_of(dfd, "web/work"), id);
        assert_int_equal(projid_of(dfd, "web/upper/a/b"), id);
        assert_int_equal(projid_of(dfd, "web/upper/a/b/old"), id);
        uint64_t used = 0;
        assert_int_equal(quota_usage(dfd, id, &used), 0);
        assert_true(used >= 3ULL << 20);
        /* The old 3 MiB count: only about 5 more fit. */
        uint64_t more = fill(dfd, "new", 8, &e);
        assert_true(e == EDQUOT || e == ENOSPC); /* xfs: ENOSPC for projects */
        assert_true(more >= 4ULL << 20);
        assert_true(more <= 5ULL << 20);
}

static void test_quota_container_apply_live_new_limit(void **state)
{
        int dfd = live_fd(state);
        int e;
        assert_int_equal(quota_container_apply(dfd, "web", 2ULL << 20), 0);
        assert_true(fill(dfd, "f", 4, &e) <= 2ULL << 20);
        assert_true(e == EDQUOT || e == ENOSPC); /* xfs: ENOSPC for projects */
        assert_int_equal(quota_container_apply(dfd, "web", 16ULL << 20), 0);
        assert_int_equal(fill(dfd, "g", 8, &e), 8ULL << 20);
        assert_int_equal(e, 0);
}

static void test_quota_container_release_live_lifts_limit(void **state)
{
        int dfd = live_fd(state);
        int e;
        assert_int_equal(quota_container_apply(dfd, "web", 1ULL << 20), 0);
        assert_int_equal(quota_container_release(dfd, "web"), 0);
        assert_int_equal(fill(dfd, "f", 4, &e), 4ULL << 20);
        assert_int_equal(e, 0);
        /* disk-quota removed from the definition: a start with 0 lifts it too. */
        assert_int_equal(quota_container_apply(dfd, "web", 1ULL << 20), 0);
        assert_int_equal(quota_container_apply(dfd, "web", 0), 0);
        assert_int_equal(fill(dfd, "g", 4, &e), 4ULL << 20);
        assert_int_equal(e, 0);
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
                cmocka_unit_test_setup_teardown(test_quota_container_apply_live_labels_existing_tree, live_setup, live_teardown),
                cmocka_unit_test_setup_teardown(test_quota_container_apply_live_new_limit, live_setup, live_teardown),
                cmocka_unit_test_setup_teardown(test_quota_container_release_live_lifts_limit, live_setup, live_teardown),
        };
        return cmocka_run_group_tests_name("quota", tests, NULL, NULL);
}
