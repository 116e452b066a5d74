/* Unit tests for hooks.c: a hook's status, output, environment and timeout
 * (its process group killed). Runs /bin/sh; needs no root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks.h"
#include "util.h"

static int run(const char *script, usec_t timeout, pid_t pid, struct error *e)
{
        char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
        struct spec_hook h = { .command = argv, .timeout = timeout };
        struct hook_env env = { .name = "web", .pid = pid, .state_dir = "/var/lib/berth/containers/web",
                                .kind = HOOK_POST_START };
        *e = (struct error){ 0 };
        return hooks_run(&h, &env, e);
}

static void test_hooks_run_success(void **state)
{
        (void) state;
        struct error e;
        assert_int_equal(run("exit 0", SPEC_USEC_PER_SEC, 0, &e), 0);
}

static void test_hooks_run_failure_with_output(void **state)
{
        (void) state;
        struct error e;
        assert_int_equal(run("echo one; echo two >&2; exit 4", SPEC_USEC_PER_SEC, 0, &e), -EPROTO);
        assert_string_equal(e.msg, "hook post-start: '/bin/sh' exited with status 4: one two");
}

static void test_hooks_run_environment(void **state)
{
        (void) state;
        struct error e;
        assert_int_equal(run("echo \"$BERTH_HOOK $BERTH_CONTAINER $BERTH_PID $BERTH_STATE_DIR $PATH\"; exit 1",
                             SPEC_USEC_PER_SEC, 42, &e),
                         -EPROTO);
        assert_non_null(strstr(e.msg, ": post-start web 42 /var/lib/berth/containers/web /usr/sbin:/usr/bin:/sbin:/bin"));
        assert_int_equal(run("[ -z \"${BERTH_PID+set}\" ] || exit 1", SPEC_USEC_PER_SEC, 0, &e), 0);
}

static void test_hooks_run_timeout_kills_the_group(void **state)
{
        (void) state;
        struct error e;
        char marker[64];
        snprintf(marker, sizeof marker, "/tmp/test_hooks.%d", (int) getpid());
        char script[256];
        /* a child of the hook that would outlive it, and the hook itself, sleep */
        snprintf(script, sizeof script, "echo started; (sleep 3; touch %s) & sleep 30", marker);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(run(script, 300 * SPEC_USEC_PER_MSEC, 0, &e), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double took = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        assert_true(took < 10.0); /* far below the hook's 30 s, with room for a loaded machine */
        assert_string_equal(e.msg, "hook post-start: killed after its timeout of 300ms: started");
        sleep(4);
        assert_int_equal(access(marker, F_OK), -1); /* the background child was killed too */
}

static void test_hooks_run_no_program(void **state)
{
        (void) state;
        char *argv[] = { "/nonexistent/hook", NULL };
        struct spec_hook h = { .command = argv, .timeout = SPEC_USEC_PER_SEC };
        struct hook_env env = { .name = "web", .state_dir = "/x", .kind = HOOK_PRE_START };
        struct error e = { 0 };
        assert_int_equal(hooks_run(&h, &env, &e), -EPROTO);
        assert_non_null(strstr(e.msg, "hook pre-start: '/nonexistent/hook' exited with status 127: cannot execute"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hooks_run_success),
                cmocka_unit_test(test_hooks_run_failure_with_output),
                cmocka_unit_test(test_hooks_run_environment),
                cmocka_unit_test(test_hooks_run_timeout_kills_the_group),
                cmocka_unit_test(test_hooks_run_no_program),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
