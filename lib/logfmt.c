#include "logfmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const stream_names[] = { "stdout", "stderr", "berth", "-" };

const char *logfmt_stream_name(enum logfmt_stream s)
{
        return (unsigned) s <= LOGFMT_NONE ? stream_names[s] : "-";
}

size_t logfmt_prefix(char *buf, uint64_t realtime_usec, enum logfmt_stream s, bool partial)
{
        time_t t = (time_t) (realtime_usec / 1000000);
        struct tm tm;
        char tmp[LOGFMT_PREFIX_MAX + 16];
        if (!gmtime_r(&t, &tm))
                memset(&tm, 0, sizeof tm);
        int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ %s %c ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (unsigned) (realtime_usec % 1000000), logfmt_stream_name(s), partial ? 'P' : 'F');
        size_t k = n < 0 ? 0 : (size_t) n > LOGFMT_PREFIX_MAX ? LOGFMT_PREFIX_MAX : (size_t) n;
        memcpy(buf, tmp, k);
        return k;
}

static bool digits(const char *p, size_t n, unsigned *ret)
{
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (p[i] - '0');
        }
        *ret = v;
        return true;
}

void logfmt_parse(const char *line, size_t len, struct logfmt_line *ret)
{
        *ret = (struct logfmt_line){ .stream = LOGFMT_NONE, .text = line, .len = len };
        /* 2026-12-03T02:53:05.123456Z: 27 characters */
        unsigned Y, M, D, h, m, s, us;
        if (len < 27 + 1 + 5 + 3 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[13] != ':' ||
            line[16] != ':' || line[19] != '.' || line[26] != 'Z' || line[27] != ' ')
                return;
        if (!digits(line, 4, &Y) || !digits(line + 5, 2, &M) || !digits(line + 8, 2, &D) ||
            !digits(line + 11, 2, &h) || !digits(line + 14, 2, &m) || !digits(line + 17, 2, &s) ||
            !digits(line + 20, 6, &us) || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
                return;
        const char *p = line + 28, *end = line + len;
        enum logfmt_stream st = LOGFMT_NONE;
        for (int i = 0; i < LOGFMT_NONE; i++) {
                size_t k = strlen(stream_names[i]);
                if ((size_t) (end - p) >= k + 3 && memcmp(p, stream_names[i], k) == 0 && p[k] == ' ') {
                        st = (enum logfmt_stream) i;
                        p += k + 1;
                        break;
                }
        }
        if (st == LOGFMT_NONE || (p[0] != 'F' && p[0] != 'P') || p[1] != ' ')
                return;
        struct tm tm = { .tm_year = (int) Y - 1900, .tm_mon = (int) M - 1, .tm_mday = (int) D,
                         .tm_hour = (int) h, .tm_min = (int) m, .tm_sec = (int) s };
        time_t t = timegm(&tm);
        if (t < 0)
                return;
        ret->usec = (uint64_t) t * 1000000 + us;
        ret->stream = st;
        ret->partial = p[0] == 'P';
        ret->text = p + 2;
        ret->len = (size_t) (end - (p + 2));
}

size_t logfmt_count_lines(const char *buf, size_t len)
{
        size_t k = 0;
        const char *p = buf, *end = buf + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                struct logfmt_line l;
                logfmt_parse(p, n, &l);
                if (!l.partial)
                        k++;
                p += n + 1;
        }
        return k;
}
