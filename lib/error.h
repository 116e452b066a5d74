/* Owns the one way an error travels up: an errno code and a message in a
 * fixed buffer, set where the failure happens and wrapped with context by
 * each frame that knows more ("container 'web': mount /srv: ..."). Never
 * allocates: usable between clone and exec, in a forked child, and copied
 * by value onto a socket or a pipe. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ERROR_MSG_MAX 480

struct error {
        int code;                 /* positive errno; 0: no error */
        char msg[ERROR_MSG_MAX];  /* NUL-terminated, truncated when longer */
};

/* Every function takes e NULL (a caller that wants the code only) and
 * then returns the code alone. */

/* Sets e to the message from fmt, followed by ": strerror(-r)" when r < 0.
 * The code is -r, or EINVAL when r >= 0 (a failure with no errno of its
 * own). Returns -code, so that `return error_set(e, r, ...)` fails. */
int error_set(struct error *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int error_setv(struct error *e, int r, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Puts "context: " in front of e's message (or of strerror(code) when it
 * has none); keeps the code (EINVAL when e was not set). Returns -code. */
int error_wrap(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same with the message fmt alone, whatever r is: for a message that
 * already says why, or a lower layer's text ("%s"). */
int error_set_msg(struct error *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets code only: the message is strerror's until a frame wraps it. */
int error_code(struct error *e, int r);

static inline bool error_is_set(const struct error *e)
{
        return e->code != 0;
}

/* The message, or strerror(code) when only a code was set; "" when unset. */
const char *error_message(const struct error *e);

/* strerror's text without locale or allocation ("error N" when unknown). */
const char *error_strerror(int r);
