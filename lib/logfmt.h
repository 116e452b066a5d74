/* Owns the text format of a container's log (console.log): one record a
 * line, "TIME STREAM FLAG TEXT", as CRI runtimes write it:
 *   2026-12-03T02:53:05.123456Z stdout F hello
 * TIME is CLOCK_REALTIME in UTC with microseconds (when the monitor read
 * the line's first byte); STREAM is stdout, stderr, or berth (the
 * monitor's own notes, such as dropped lines); FLAG is F for a whole line
 * and P for a part that continues in the next record of the same stream
 * (a line longer than LOGFMT_RECORD_MAX, or one not ended for a while).
 * A line that does not parse so (a log written before this format) is a
 * line of its own without time or stream. Pure C on libc only:
 * berth-monitor links it statically. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum logfmt_stream {
        LOGFMT_STDOUT,
        LOGFMT_STDERR,
        LOGFMT_BERTH,
        LOGFMT_NONE, /* a line of an older log: no time, no stream */
};

/* A record's text is at most this long; a longer line is cut into parts. */
#define LOGFMT_RECORD_MAX 16384
/* The prefix's length, "TIME STREAM F ", at most. */
#define LOGFMT_PREFIX_MAX 40

/* Writes the prefix of a record into buf (LOGFMT_PREFIX_MAX bytes, not
 * terminated); returns its length. */
size_t logfmt_prefix(char *buf, uint64_t realtime_usec, enum logfmt_stream s, bool partial);

struct logfmt_line {
        uint64_t usec; /* 0 for LOGFMT_NONE */
        enum logfmt_stream stream;
        bool partial;
        const char *text; /* into the parsed line; not terminated */
        size_t len;
};

/* Parses one line of a log (without its newline). Never fails: what is not
 * a record is a LOGFMT_NONE line. */
void logfmt_parse(const char *line, size_t len, struct logfmt_line *ret);

/* "stdout", "stderr", "berth", "-". */
const char *logfmt_stream_name(enum logfmt_stream s);

/* Counts the whole lines (F records, and lines of an older log) in buf,
 * which holds whole records. */
size_t logfmt_count_lines(const char *buf, size_t len);
