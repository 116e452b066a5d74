/* Unit tests for error.c, the one error carrier: set, wrap, truncation
 * and its use in a forked child that sends it back by value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"

static void test_err_set_with_errno(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_false(error_is_set(&e));
        assert_string_equal(error_message(&e), "");
        assert_int_equal(error_set(&e, -ENOENT, "mount '%s'", "/srv"), -ENOENT);
        assert_true(error_is_set(&e));
        assert_int_equal(e.code, ENOENT);
        assert_string_equal(error_message(&e), "mount '/srv': No such file or directory");
}

static void test_err_set_without_errno(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_int_equal(error_set(&e, 0, "no template '%s'", "x"), -EINVAL);
        assert_int_equal(e.code, EINVAL);
        assert_string_equal(error_message(&e), "no template 'x'");
}

static void test_err_wrap_adds_context_once_per_frame(void **state)
{
        (void) state;
        struct error e = { 0 };
        error_set(&e, -EACCES, "source '%s'", "/srv");
        assert_int_equal(error_wrap(&e, "mount %s", "/srv"), -EACCES);
        assert_int_equal(error_wrap(&e, "container '%s'", "web"), -EACCES);
        assert_string_equal(error_message(&e), "container 'web': mount /srv: source '/srv': Permission denied");
}

static void test_err_wrap_code_only(void **state)
{
        (void) state;
        struct error e = { 0 };
        assert_int_equal(error_code(&e, -ENOMEM), -ENOMEM);
        assert_string_equal(error_message(&e), "Cannot allocate memory");
        error_wrap(&e, "container '%s'", "db");
        assert_string_equal(error_message(&e), "container 'db': Cannot allocate memory");
}

static void test_err_set_truncates(void **state)
{
        (void) state;
        struct error e = { 0 };
        char big[2 * ERROR_MSG_MAX];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        error_set(&e, -EIO, "%s", big);
        assert_int_equal(strlen(e.msg), ERROR_MSG_MAX - 1);
        assert_int_equal(e.code, EIO);
}

static void test_err_wrap_truncates_the_tail(void **state)
{
        (void) state;
        struct error e = { 0 };
        char big[ERROR_MSG_MAX];
        memset(big, 'b', sizeof big - 1);
        big[sizeof big - 1] = 0;
        error_set(&e, 0, "%s", big);
        error_wrap(&e, "container '%s'", "web");
        assert_int_equal(strlen(e.msg), ERROR_MSG_MAX - 1);
        assert_memory_equal(e.msg, "container 'web': bbb", 20);
        /* A context longer than the buffer is cut, and stays terminated. */
        char huge[2 * ERROR_MSG_MAX];
        memset(huge, 'c', sizeof huge - 1);
        huge[sizeof huge - 1] = 0;
        error_wrap(&e, "%s", huge);
        assert_int_equal(strlen(e.msg), ERROR_MSG_MAX - 1);
        assert_int_equal(e.msg[0], 'c');
}

/* The child fills the carrier without allocating and sends it by value:
 * the parent reads code and message intact. */
static void test_err_in_forked_child(void **state)
{
        (void) state;
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                struct error e = { 0 };
                error_set(&e, -ENOTDIR, "workdir '%s'", "/srv/x");
                error_wrap(&e, "container '%s'", "web");
                ssize_t k = write(p[1], &e, sizeof e);
                _exit(k == (ssize_t) sizeof e ? 0 : 1);
        }
        close(p[1]);
        struct error got;
        ssize_t k = read(p[0], &got, sizeof got);
        close(p[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_equal(k, (ssize_t) sizeof got);
        assert_int_equal(got.code, ENOTDIR);
        assert_string_equal(error_message(&got), "container 'web': workdir '/srv/x': Not a directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_err_set_with_errno),
                cmocka_unit_test(test_err_set_without_errno),
                cmocka_unit_test(test_err_wrap_adds_context_once_per_frame),
                cmocka_unit_test(test_err_wrap_code_only),
                cmocka_unit_test(test_err_set_truncates),
                cmocka_unit_test(test_err_wrap_truncates_the_tail),
                cmocka_unit_test(test_err_in_forked_child),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
