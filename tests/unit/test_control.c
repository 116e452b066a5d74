/* Unit tests for control.c's pure half: framing and parsing what a peer
 * sends (the same functions tests/fuzz/fuzz_control.c fuzzes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

static void test_control_frame_len_cases(void **state)
{
        (void) state;
        static const char two[] = "{\"method\":\"a\"}\0{\"method\":\"b\"}";
        assert_int_equal(control_frame_len(two, sizeof two - 1), 15);
        assert_int_equal(control_frame_len(two + 15, sizeof two - 1 - 15), 0); /* not complete yet */
        assert_int_equal(control_frame_len("", 0), 0);

        char *big = malloc(CONTROL_MESSAGE_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', CONTROL_MESSAGE_MAX + 2);
        assert_int_equal(control_frame_len(big, CONTROL_MESSAGE_MAX), 0);
        assert_int_equal(control_frame_len(big, CONTROL_MESSAGE_MAX + 1), -EMSGSIZE);
        big[CONTROL_MESSAGE_MAX - 1] = 0; /* exactly the limit, NUL included */
        assert_int_equal(control_frame_len(big, CONTROL_MESSAGE_MAX + 2), CONTROL_MESSAGE_MAX);
        big[CONTROL_MESSAGE_MAX - 1] = ' ';
        big[CONTROL_MESSAGE_MAX] = 0;
        assert_int_equal(control_frame_len(big, CONTROL_MESSAGE_MAX + 2), -EMSGSIZE);
        free(big);
}

static int parse(const char *msg, struct control_request *req, const char **reason)
{
        return control_request_parse(msg, strlen(msg), req, reason);
}

static void test_control_request_parse_valid(void **state)
{
        (void) state;
        struct control_request req;
        const char *reason = NULL;
        assert_int_equal(parse("{\"method\":\"io.berth.Container.Start\",\"parameters\":{\"name\":\"web\"},\"more\":true}",
                               &req, &reason),
                         0);
        assert_string_equal(req.method, "io.berth.Container.Start");
        assert_non_null(req.params);
        assert_true(req.more);
        control_request_done(&req);
        assert_null(req.root);

        assert_int_equal(parse("{\"method\":\"io.berth.Manager.Status\"}", &req, &reason), 0);
        assert_null(req.params);
        assert_false(req.more);
        control_request_done(&req);
}

static void test_control_request_parse_invalid(void **state)
{
        (void) state;
        static const char *const bad[] = {
                "", "{", "[]", "\"method\"", "{\"method\":1}", "{\"parameters\":{}}", "{\"method\":\"x\"",
                "{\"method\":null}",
        };
        struct control_request req;
        const char *reason;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                reason = NULL;
                assert_int_equal(parse(bad[i], &req, &reason), -EBADMSG);
                assert_string_equal(reason, "expected a JSON object with a string \"method\"");
                assert_null(req.root);
        }
        assert_int_equal(parse("{\"method\":\"x\",\"parameters\":[1]}", &req, &reason), -EBADMSG);
        assert_string_equal(reason, "\"parameters\" must be an object");
        assert_null(req.root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_control_frame_len_cases),
                cmocka_unit_test(test_control_request_parse_valid),
                cmocka_unit_test(test_control_request_parse_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
