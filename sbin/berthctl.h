/* berthctl's shared parts: the verb and option tables (berthctl.c) that
 * drive parsing, --help and the man-page conformance test, the talk to
 * berthd (berthctl-daemon.c), and the errors of --json. Each family of
 * verbs lives in its own file and sees only this header and libberth. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "parse.h"
#include "spec.h"
#include "state.h"
#include "util.h"

#define DEFAULT_CONF_DIR "/etc/containers.d"
#define DEFAULT_STATE_DIR "/var/lib/berth"
#define DEFAULT_RUN_DIR "/run/berth"

/* Every option any verb takes; a verb lists those it accepts (struct
 * ctl_verb.options). The option table in berthctl.c gives each its
 * spelling, argument and help line. */
enum ctl_opt {
        OPT_HELP,
        OPT_CONF_DIR,
        OPT_STATE_DIR,
        OPT_SOCKET,
        OPT_TIMEOUT,      /* how long berthd gets to answer */
        OPT_STOP_TIMEOUT, /* stop, restart: SIGKILL after this */
        OPT_JSON,
        OPT_TTY,
        OPT_NO_TTY,
        OPT_USER,
        OPT_ENV,
        OPT_WORKDIR,
        OPT_SIGNAL,
        OPT_FOLLOW,
        OPT_LINES,
        OPT_RAW,
        OPT_NAMES,
        OPT_ALL,
        OPT_FORCE,
        OPT_SINCE,
        OPT_KEEP_SPECIAL,
        OPT_UNTIL,
        OPT_TIMESTAMPS,
        OPT_STDOUT,
        OPT_STDERR,
        OPT_STREAM,
        OPT_WATCH,
        OPT_COUNT,
        OPT_OUTPUT,         /* export -o FILE */
        OPT_WITH_SNAPSHOTS, /* export --with-snapshots */
        OPT_NAME,           /* import --name NEW */
        OPT_ESCAPE,         /* console --escape C */
        OPT_LEAVE_RUNNING,  /* checkpoint --leave-running */
        OPT_FROM_CHECKPOINT, /* start --from-checkpoint TAG */
        OPT_RESTORE,        /* import --restore */
        OPT_TO,             /* migrate --to HOST */
        OPT_VIA,            /* migrate --via CMD */
        OPT_LIVE,           /* migrate --live */
        OPT_STAGE,          /* import --stage ID */
        OPT_ABORT,          /* import --stage ID --abort */
        _OPT_MAX,
};
#define O(x) (UINT64_C(1) << (x))

/* What the options of one invocation said; operands in argv[0..argc). */
struct ctl_args {
        const char *verb;
        const char *conf, *state, *user, *workdir, *signal;
        int tty; /* -1: neither --tty nor --no-tty */
        char **env; /* --env KEY=VALUE, in order */
        bool json, follow, raw, names, all, force, keep_special;
        bool timestamps, only_stdout, only_stderr;
        const char *stream; /* --stream */
        bool with_snapshots, leave_running;
        const char *output, *new_name; /* export -o, import --name */
        const char *escape;            /* console --escape */
        const char *from_checkpoint;   /* start --from-checkpoint */
        const char *to, *via;          /* migrate --to, --via */
        bool restore;                  /* import --restore */
        bool live;                     /* migrate --live */
        const char *stage;             /* import --stage ID */
        bool abort_stage;              /* import --abort */
        long lines; /* -1: all */
        usec_t stop_timeout;
        uint64_t since_usec, until_usec; /* --since, --until: CLOCK_REALTIME; 0: not given */
        usec_t watch;  /* --watch: the interval; 0: not given */
        long count;    /* --count: -1: not given */
        bool have_stop_timeout;
        int argc;
        char **argv;
};

enum {
        CTL_NEEDS_ROOT = 1 << 0,   /* refused before it starts unless euid 0 */
        CTL_NEEDS_DAEMON = 1 << 1, /* only talks to berthd: --socket, --timeout */
        CTL_ASKS_DAEMON = 1 << 2,  /* asks berthd where things are when it answers: --socket, --timeout */
        CTL_TEMPLATES = 1 << 3,    /* may build templates: finds the scripts */
        CTL_COMMAND = 1 << 4,      /* NAME [--] COMMAND...: options only before NAME */
};

struct ctl_verb {
        const char *name;
        int (*run)(struct ctl_args *a);
        uint64_t options; /* O(OPT_...) | ...; --help always, --socket and --timeout by flags */
        unsigned flags;
        int min_args, max_args; /* operands; max -1: any number */
        const char *operands;   /* for the usage line */
        const char *summary;
};

/* Errors: on standard error, and into the --json document. */
void fail(const char *fmt, ...) _printf_(1, 2);
/* Prints the verb's one --json document. */
void json_mark_printed(void);
void print_json(json_object *o);
/* The errors fail() collected so far (NULL: none); the caller does not own them. */
json_object *json_errors_get(void);
bool json_enabled(void);

/* berthctl-daemon.c: talking to berthd. */
const char *ctl_socket(void);
void ctl_set_socket(const char *path);
void ctl_set_timeout(const char *duration);
int call_timeout(uint64_t *ret);
int call_raw(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata,
             char **error, json_object **error_params);
int call(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata);
/* One call, without a word when berthd does not answer: 0 or -errno. */
int call_quiet(const char *method, json_object *params, control_reply_cb cb, void *userdata);
const char *jstr(json_object *o, const char *k);
int64_t jint(json_object *o, const char *k);

struct daemon_dirs {
        char conf[4096];
        char state[4096];
};
/* Where the berthd on the socket reads definitions and keeps state;
 * -errno when none answers. */
int daemon_dirs(struct daemon_dirs *d);
/* conf and state as given, else the berthd's, else the defaults. */
void resolve_dirs(const char **conf, const char **state);
/* The state directory of container NAME, from berthd ("" when it does not answer). */
int daemon_container_dir(const char *name, char dir[static 4096]);
/* How berthd runs container name (inspect's "idmap", its --default-idmap
 * included): answered when berthd knows it; idmap when in a user
 * namespace; its range (count 0: not chosen yet, an auto one never
 * started). 0, or -errno (no berthd, no such container). */
struct daemon_idmap {
        bool answered, idmap, is_auto, is_default; /* is_default: from berthd --default-idmap */
        uint32_t start, count;
};
int daemon_container_idmap(const char *name, struct daemon_idmap *ret);
/* Names of the containers berthd lists as running or frozen; *ret is a strv. */
int daemon_running_names(char ***ret);

/* berthctl-session.c: a running container found by name. */
struct found {
        char dir[4096];
        char state_dir[4096];
        struct state_record rec;
};
int find_container(const char *verb, const char *name, const char *state_dir, struct found *f);
/* The same without a word: 0 when it runs. */
int find_container_quiet(const char *name, const char *state_dir, struct found *f);

/* The verbs, by family. */
int verb_check(struct ctl_args *a);
int verb_plan(struct ctl_args *a);
int verb_reload(struct ctl_args *a);
int verb_ls(struct ctl_args *a);
int verb_inspect(struct ctl_args *a);
int verb_start(struct ctl_args *a);
int verb_stop(struct ctl_args *a);
int verb_restart(struct ctl_args *a);
int verb_destroy(struct ctl_args *a);
int verb_kill(struct ctl_args *a);
int verb_wait(struct ctl_args *a);
int verb_run(struct ctl_args *a);
int verb_exec(struct ctl_args *a);
int verb_health(struct ctl_args *a);
int verb_stats(struct ctl_args *a);
int verb_cp(struct ctl_args *a);
int verb_top(struct ctl_args *a);
int verb_freeze(struct ctl_args *a);
int verb_unfreeze(struct ctl_args *a);
int verb_logs(struct ctl_args *a);
int verb_events(struct ctl_args *a);
int verb_template(struct ctl_args *a);
/* berthctl-tbuild.c: template logs NAME */
int template_logs_verb(const char *state, const char *name);
int verb_snapshot(struct ctl_args *a);
int verb_restore(struct ctl_args *a);
int verb_clone(struct ctl_args *a);
int verb_export(struct ctl_args *a);
int verb_import(struct ctl_args *a);
int verb_console(struct ctl_args *a);
int verb_attach(struct ctl_args *a);
int verb_checkpoint(struct ctl_args *a);
int start_from_checkpoint(struct ctl_args *a);
int verb_migrate(struct ctl_args *a);
