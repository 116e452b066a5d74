#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int log_max_level = LOG_INFO;
static const char *log_ident = "berth";
static int log_journal = -1; /* -1: when stderr is the journal ($JOURNAL_STREAM) */

void log_set_level(int level)
{
        log_max_level = level;
}

int log_get_level(void)
{
        return log_max_level;
}

void log_set_ident(const char *ident)
{
        log_ident = ident;
}

void log_set_journal(bool journal)
{
        log_journal = journal;
}

int log_level_from_string(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } t[] = { { "err", LOG_ERR },     { "error", LOG_ERR },   { "warning", LOG_WARNING },
                  { "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG } };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(s, t[i].name))
                        return t[i].level;
        return -EINVAL;
}

int log_internal(int level, int error, const char *fmt, ...)
{
        int saved = errno;
        if (error < 0)
                error = -error;
        if (level <= log_max_level) {
                /* %m refers to the error we were handed, not whatever errno is now. */
                errno = error;
                char buf[2048];
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                if (log_journal > 0 || (log_journal < 0 && getenv("JOURNAL_STREAM")))
                        fprintf(stderr, "<%d>%s\n", level, buf);
                else
                        fprintf(stderr, "%s: %s\n", log_ident, buf);
        }
        errno = saved;
        return -error;
}
