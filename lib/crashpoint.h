/* Owns berthd's crash points: named places at every durable step of start,
 * stop, restart, cleanup and reload where a test makes berthd die as a
 * kill -9 would (BERTH_CRASH_AT=NAME[:COUNT], the COUNT-th time, default 1).
 * Inert unless that variable is set; it only decides, the caller dies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CRASHPOINT_NAME_MAX 32

struct crashpoint {
        char name[CRASHPOINT_NAME_MAX]; /* empty: inert */
        unsigned remaining;             /* passes left before the crash */
};

/* Parses spec ("NAME" or "NAME:COUNT", COUNT 1..1000000) into cp. NULL or
 * empty: inert. -EINVAL for an unknown name or a bad count (err says which). */
int crashpoint_parse(const char *spec, struct crashpoint *cp, char *err, size_t size);

/* Whether passing point name now must crash (counts the passes). */
bool crashpoint_hit(struct crashpoint *cp, const char *name);

/* The known points, NULL-terminated (docs/design.md has the table). */
extern const char *const crashpoint_names[];

/* For a process that is not berthd (berthctl writing the template store):
 * dies with SIGKILL when BERTH_CRASH_AT (read at the first call) names
 * point name and its count is reached. berthd removes the variable from
 * its environment, so its spawners never die here. */
void crashpoint_env(const char *name);
