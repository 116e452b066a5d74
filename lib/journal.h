/* Owns berthd's event journal on disk: STATE/events.log, one JSON object a
 * line, moved to events.log.1 when it reaches JOURNAL_MAX_SIZE, so events
 * outlive the berthd that emitted them (berthctl events --since). Appends
 * without fsync (a crash may lose the last lines, never merge two). Knows
 * nothing of what an event means. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_FILE "events.log"
#define JOURNAL_MAX_SIZE (1024 * 1024)

struct journal {
        int dirfd; /* -1: closed (appends are dropped) */
        int fd;
        uint64_t size;
};

/* 0 or -errno; on failure j is closed (usable, drops everything). */
int journal_open(struct journal *j, const char *state_dir);
void journal_close(struct journal *j);
/* Appends line (no newline in it) and a newline; rotates first when the
 * file would pass JOURNAL_MAX_SIZE. 0 or -errno. */
int journal_append(struct journal *j, const char *line, size_t len);
/* Calls cb with each whole line, oldest first (events.log.1, then
 * events.log); a non-zero return of cb stops. 0 or -errno. */
int journal_foreach(struct journal *j, int (*cb)(const char *line, void *userdata), void *userdata);
