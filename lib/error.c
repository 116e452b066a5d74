#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *error_strerror(int r)
{
        if (r < 0)
                r = -r;
        const char *s = strerrordesc_np(r);
        return s ? s : "unknown error";
}

int error_setv(struct error *e, int r, const char *fmt, va_list ap)
{
        if (!e)
                return r < 0 ? r : -EINVAL;
        e->code = r < 0 ? -r : EINVAL;
        int k = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        if (k < 0)
                e->msg[0] = 0, k = 0;
        if (r < 0 && (size_t) k < sizeof e->msg)
                snprintf(e->msg + k, sizeof e->msg - (size_t) k, "%s%s", k ? ": " : "", error_strerror(r));
        return -e->code;
}

int error_set(struct error *e, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int ret = error_setv(e, r, fmt, ap);
        va_end(ap);
        return ret;
}

int error_set_msg(struct error *e, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void) error_setv(e, 0, fmt, ap);
        va_end(ap);
        if (!e)
                return r < 0 ? r : -EINVAL;
        e->code = r < 0 ? -r : EINVAL;
        return -e->code;
}

int error_code(struct error *e, int r)
{
        if (!e)
                return r < 0 ? r : -EINVAL;
        e->code = r < 0 ? -r : EINVAL;
        e->msg[0] = 0;
        return -e->code;
}

int error_wrap(struct error *e, const char *fmt, ...)
{
        if (!e)
                return -EINVAL;
        if (!e->code)
                e->code = EINVAL;
        if (!e->msg[0])
                snprintf(e->msg, sizeof e->msg, "%s", error_strerror(e->code));
        char prefix[ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
        va_end(ap);
        if (k <= 0)
                return -e->code;
        size_t plen = strlen(prefix);
        memcpy(prefix + plen, ": ", 2);
        plen += 2;
        if (plen >= sizeof e->msg)
                plen = sizeof e->msg - 1;
        /* The context goes first; what no longer fits is cut at the end. */
        size_t mlen = strnlen(e->msg, sizeof e->msg - 1);
        if (plen + mlen > sizeof e->msg - 1)
                mlen = sizeof e->msg - 1 - plen;
        memmove(e->msg + plen, e->msg, mlen);
        memcpy(e->msg, prefix, plen);
        e->msg[plen + mlen] = 0;
        return -e->code;
}

const char *error_message(const struct error *e)
{
        if (!e->code && !e->msg[0])
                return "";
        return e->msg[0] ? e->msg : error_strerror(e->code);
}
