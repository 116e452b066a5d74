/* Owns the small protocol between a container's monitor and its viewers
 * (berthctl console, berthctl attach) on the monitor's socket
 * <state>/containers/NAME/console.sock (SOCK_SEQPACKET, mode 0600: root
 * only). One frame per message: a 4-byte header (type, a zero byte, the
 * payload's length, little endian) and at most CONSOLE_DATA_MAX bytes of
 * payload. The monitor sends HELLO first, then OUT/ERR as the container
 * writes, DROPPED when this viewer was too slow to take some output, and
 * EXIT when the container ended; a viewer sends IN (bytes for the
 * container's terminal or stdin) and WINSZ. Plain C on libc only:
 * berth-monitor links it statically. No allocation. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_SOCKET "console.sock"
#define CONSOLE_VERSION 1
#define CONSOLE_HDR 4
#define CONSOLE_DATA_MAX 4096
#define CONSOLE_FRAME_MAX (CONSOLE_HDR + CONSOLE_DATA_MAX)

enum console_type {
        CONSOLE_HELLO = 1, /* monitor → viewer: version, flags */
        CONSOLE_OUT,       /* monitor → viewer: the terminal's output, or stdout */
        CONSOLE_ERR,       /* monitor → viewer: stderr (no console) */
        CONSOLE_DROPPED,   /* monitor → viewer: u64 bytes this viewer missed */
        CONSOLE_EXIT,      /* monitor → viewer: i32 status, shell style */
        CONSOLE_IN,        /* viewer → monitor: input */
        CONSOLE_WINSZ,     /* viewer → monitor: u16 rows, u16 columns */
        _CONSOLE_TYPE_MAX,
};

enum {
        CONSOLE_F_TTY = 1 << 0,   /* HELLO: the container has a console (a pty) */
        CONSOLE_F_STDIN = 1 << 1, /* HELLO: IN goes to its stdin (stdin = true) */
};

/* One decoded frame; data points into the buffer it was decoded from. */
struct console_frame {
        enum console_type type;
        const uint8_t *data;
        size_t len;
        /* HELLO */
        uint8_t version, flags;
        /* WINSZ */
        uint16_t rows, cols;
        /* DROPPED */
        uint64_t dropped;
        /* EXIT */
        int32_t status;
};

/* Encodes a frame of type t carrying len bytes of data into buf (room for
 * CONSOLE_FRAME_MAX); returns its size, or 0 when len is too long. */
size_t console_encode(uint8_t *buf, enum console_type t, const void *data, size_t len);
size_t console_encode_hello(uint8_t *buf, uint8_t flags);
size_t console_encode_winsz(uint8_t *buf, uint16_t rows, uint16_t cols);
size_t console_encode_dropped(uint8_t *buf, uint64_t bytes);
size_t console_encode_exit(uint8_t *buf, int32_t status);

/* Decodes one whole message of n bytes: 0, or -EBADMSG when it is short,
 * its length is not the message's, its type unknown, or a fixed-size
 * payload (HELLO, WINSZ, DROPPED, EXIT) has the wrong size. */
int console_decode(const uint8_t *buf, size_t n, struct console_frame *ret);

/* The escape sequence of `berthctl console`: ESC then q detaches, ESC
 * twice sends one ESC, ESC then anything else sends both. Fed the bytes
 * typed, it rewrites them in place into what goes to the container. */
struct console_escape {
        uint8_t esc;  /* the prefix, e.g. 0x1d (Ctrl-]) */
        int pending;  /* the prefix was the last byte seen */
};
/* Filters buf[0..n) (n <= CONSOLE_DATA_MAX - 1: one byte may be added):
 * returns how many bytes of buf now go to the container, and sets *detach
 * when the sequence ESC q was typed (what came before it is kept). */
size_t console_escape_filter(struct console_escape *e, uint8_t *buf, size_t n, int *detach);

/* Parses --escape: "^X" (X a letter or one of @[\]^_) or a letter X alone
 * means Ctrl-X ("^]" is the default). 0, or -EINVAL. */
int console_parse_escape(const char *s, uint8_t *ret);
