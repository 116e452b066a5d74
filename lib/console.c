#include "console.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t) (p[0] | p[1] << 8);
}

static void put64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

size_t console_encode(uint8_t *buf, enum console_type t, const void *data, size_t len)
{
        if (len > CONSOLE_DATA_MAX || t <= 0 || t >= _CONSOLE_TYPE_MAX)
                return 0;
        buf[0] = (uint8_t) t;
        buf[1] = 0;
        put16(buf + 2, (uint16_t) len);
        if (len)
                memcpy(buf + CONSOLE_HDR, data, len);
        return CONSOLE_HDR + len;
}

size_t console_encode_hello(uint8_t *buf, uint8_t flags)
{
        uint8_t d[2] = { CONSOLE_VERSION, flags };
        return console_encode(buf, CONSOLE_HELLO, d, sizeof d);
}

size_t console_encode_winsz(uint8_t *buf, uint16_t rows, uint16_t cols)
{
        uint8_t d[4];
        put16(d, rows);
        put16(d + 2, cols);
        return console_encode(buf, CONSOLE_WINSZ, d, sizeof d);
}

size_t console_encode_dropped(uint8_t *buf, uint64_t bytes)
{
        uint8_t d[8];
        put64(d, bytes);
        return console_encode(buf, CONSOLE_DROPPED, d, sizeof d);
}

size_t console_encode_exit(uint8_t *buf, int32_t status)
{
        uint8_t d[4];
        put16(d, (uint16_t) ((uint32_t) status & 0xffff));
        put16(d + 2, (uint16_t) ((uint32_t) status >> 16));
        return console_encode(buf, CONSOLE_EXIT, d, sizeof d);
}

int console_decode(const uint8_t *buf, size_t n, struct console_frame *ret)
{
        if (n < CONSOLE_HDR || buf[1] != 0)
                return -EBADMSG;
        size_t len = get16(buf + 2);
        if (len > CONSOLE_DATA_MAX || n != CONSOLE_HDR + len || buf[0] == 0 || buf[0] >= _CONSOLE_TYPE_MAX)
                return -EBADMSG;
        struct console_frame f = { .type = (enum console_type) buf[0], .data = buf + CONSOLE_HDR, .len = len };
        const uint8_t *d = f.data;
        switch (f.type) {
        case CONSOLE_HELLO:
                if (len != 2)
                        return -EBADMSG;
                f.version = d[0];
                f.flags = d[1];
                break;
        case CONSOLE_WINSZ:
                if (len != 4)
                        return -EBADMSG;
                f.rows = get16(d);
                f.cols = get16(d + 2);
                break;
        case CONSOLE_DROPPED:
                if (len != 8)
                        return -EBADMSG;
                f.dropped = get64(d);
                break;
        case CONSOLE_EXIT:
                if (len != 4)
                        return -EBADMSG;
                f.status = (int32_t) ((uint32_t) get16(d) | (uint32_t) get16(d + 2) << 16);
                break;
        default:
                break;
        }
        *ret = f;
        return 0;
}

size_t console_escape_filter(struct console_escape *e, uint8_t *buf, size_t n, int *detach)
{
        /* Worst case one byte more than n (a pending ESC before the first
         * byte): work from a copy. */
        uint8_t in[CONSOLE_DATA_MAX];
        if (n > sizeof in - 1)
                n = sizeof in - 1;
        memcpy(in, buf, n);
        size_t out = 0;
        *detach = 0;
        for (size_t i = 0; i < n; i++) {
                uint8_t c = in[i];
                if (e->pending) {
                        e->pending = 0;
                        if (c == 'q' || c == 'Q') {
                                *detach = 1;
                                return out;
                        }
                        buf[out++] = e->esc;
                        if (c == e->esc)
                                continue; /* ESC ESC: one ESC */
                        buf[out++] = c;
                        continue;
                }
                if (c == e->esc) {
                        e->pending = 1;
                        continue;
                }
                buf[out++] = c;
        }
        return out;
}

int console_parse_escape(const char *s, uint8_t *ret)
{
        if (!s)
                return -EINVAL;
        bool caret = s[0] == '^' && s[1] && !s[2];
        if (caret)
                s++;
        else if (!s[0] || s[1] || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return -EINVAL; /* alone, only a letter */
        unsigned char c = (unsigned char) s[0];
        if (c >= 'a' && c <= 'z')
                c = (unsigned char) (c - 'a' + 'A');
        if (c < '@' || c > '_')
                return -EINVAL;
        *ret = (uint8_t) (c - '@');
        return 0;
}
