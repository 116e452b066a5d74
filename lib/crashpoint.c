#include "crashpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keep in the order of docs/design.md's table. */
const char *const crashpoint_names[] = {
        "start-requested",        /* intent "starting" written, before the spawner is forked */
        "spawner-forked",         /* the spawner runs, nothing recorded of it yet */
        "record-written",         /* the spawner reported: state record written */
        "running",                /* intent "running" written */
        "stop-requested",         /* intent "stopping" written, no signal sent yet */
        "stop-signalled",         /* stop-signal sent to the init */
        "stop-killed",            /* stop-timeout passed: SIGKILL sent */
        "exit-recorded",          /* the monitor's exit read and kept in the intent */
        "cleanup-state-unlinked", /* the state record removed, the exit file not yet */
        "cleanup-exit-unlinked",  /* both removed, the restart policy not yet applied */
        "backoff-recorded",       /* intent "backoff" with its deadline written */
        "failed-recorded",        /* intent "failed" written */
        "exit-handled",           /* intent after an exit the policy leaves stopped written */
        "operator-stop-recorded", /* an operator's stop written, before it is acted on */
        "reload-planned",         /* a reload's plan made, nothing applied */
        "reload-applied",         /* a reload's plan applied, last-good not yet saved */
        "adopted",                /* a new berthd re-adopted what runs, nothing started */
        /* The template store's writer (berthctl template, BERTH_CRASH_AT read by crashpoint_env). */
        "import-layer-unpacked",   /* a layer unpacked into its .tmp- tree, not renamed */
        "import-layer-placed",     /* a layer renamed into the store, no record names it yet */
        "import-tree-built",       /* a built or imported tree complete in its .build- dir */
        "remove-record-unlinked",  /* an image's record removed, its layers not yet */
        "remove-layer-trashed",    /* a layer renamed to .trash-, not yet deleted */
        "remove-template-trashed", /* a template tree renamed to .trash-, not yet deleted */
        NULL,
};

static bool known(const char *name)
{
        for (size_t i = 0; crashpoint_names[i]; i++)
                if (strcmp(crashpoint_names[i], name) == 0)
                        return true;
        return false;
}

int crashpoint_parse(const char *spec, struct crashpoint *cp, char *err, size_t size)
{
        *cp = (struct crashpoint){ 0 };
        if (!spec || !*spec)
                return 0;
        const char *colon = strchr(spec, ':');
        size_t len = colon ? (size_t) (colon - spec) : strlen(spec);
        unsigned long count = 1;
        if (colon) {
                char *e;
                errno = 0;
                count = strtoul(colon + 1, &e, 10);
                if (colon[1] < '0' || colon[1] > '9' || *e || errno || count < 1 || count > 1000000) {
                        snprintf(err, size, "BERTH_CRASH_AT: '%s': the count after ':' must be 1 to 1000000", spec);
                        return -EINVAL;
                }
        }
        if (len == 0 || len >= sizeof cp->name) {
                snprintf(err, size, "BERTH_CRASH_AT: '%s' is not a crash point (NAME[:COUNT])", spec);
                return -EINVAL;
        }
        memcpy(cp->name, spec, len);
        cp->name[len] = 0;
        if (!known(cp->name)) {
                snprintf(err, size, "BERTH_CRASH_AT: unknown crash point '%s' (docs/design.md lists them)", cp->name);
                *cp = (struct crashpoint){ 0 };
                return -EINVAL;
        }
        cp->remaining = (unsigned) count;
        return 0;
}

bool crashpoint_hit(struct crashpoint *cp, const char *name)
{
        if (!cp->name[0] || strcmp(cp->name, name) != 0 || cp->remaining == 0)
                return false;
        return --cp->remaining == 0;
}

void crashpoint_env(const char *name)
{
        static struct crashpoint cp;
        static bool parsed;
        if (!parsed) {
                char err[256];
                parsed = true;
                if (crashpoint_parse(getenv("BERTH_CRASH_AT"), &cp, err, sizeof err) < 0)
                        fprintf(stderr, "%s\n", err);
        }
        if (crashpoint_hit(&cp, name))
                (void) kill(getpid(), SIGKILL);
}
