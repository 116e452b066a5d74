/* berthctl: the operator's command line. This file holds main(), the verb
 * table and the option table: one parser and one --help for every verb,
 * both made from the tables, so that what a verb accepts is what it says it
 * accepts. The verbs live by family in berthctl-*.c (see berthctl.h); the
 * work is done in libberth and by berthd. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "berthctl.h"
#include "log.h"
#include "spawn_msg.h"
#include "template.h"

/* ---- errors and --json ------------------------------------------------------------------ */

/* --json: whatever happens, standard output gets one JSON document. The
 * errors a verb reports with fail() are kept; a verb that ends without
 * printing its document gets {"ok": false, "errors": [...]} printed by main(). */
static bool opt_json;
static bool json_printed;
static json_object *json_errors;

bool json_enabled(void)
{
        return opt_json;
}

json_object *json_errors_get(void)
{
        return json_errors;
}

/* A verb printed its document itself (ls from the reply's text). */
void json_mark_printed(void)
{
        json_printed = true;
}

void print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_printed = true;
}

/* One error for the JSON document: "FILE:LINE: message" is split into its
 * parts, anything else is a message alone. */
static void json_error_add(const char *text)
{
        if (!json_errors)
                json_errors = json_object_new_array();
        json_object *e = json_object_new_object();
        const char *c1 = strchr(text, ':');
        char *end = NULL;
        long line = c1 ? strtol(c1 + 1, &end, 10) : 0;
        if (c1 && c1 > text && end && end > c1 + 1 && end[0] == ':' && end[1] == ' ' && line > 0) {
                json_object_object_add(e, "file", json_object_new_string_len(text, (int) (c1 - text)));
                json_object_object_add(e, "line", json_object_new_int((int) line));
                json_object_object_add(e, "message", json_object_new_string(end + 2));
        } else
                json_object_object_add(e, "message", json_object_new_string(text));
        json_object_array_add(json_errors, e);
}

void fail(const char *fmt, ...)
{
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s\n", buf);
        if (opt_json)
                json_error_add(buf);
}

/* The document of a --json verb that printed none: its errors. */
static void json_finish(int status)
{
        if (!opt_json || json_printed || status == 0)
                goto out;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "errors", json_errors ? json_errors : json_object_new_array());
        json_errors = NULL;
        print_json(o);
        json_object_put(o);
out:
        json_object_put(json_errors);
        json_errors = NULL;
}

/* ---- the option table ------------------------------------------------------------------- */

struct ctl_option {
        const char *name; /* --name */
        char short_name;  /* -x, or 0 */
        const char *arg;  /* the argument's name, or NULL for a flag */
        const char *help;
        bool optional;    /* the argument may be left out: --name[=ARG] */
};

static const struct ctl_option options[_OPT_MAX] = {
        [OPT_HELP] = { "help", 'h', NULL, "print this help and exit" },
        [OPT_CONF_DIR] = { "conf-dir", 'c', "DIR", "read the definitions in DIR (default: berthd's, else /etc/containers.d)" },
        [OPT_STATE_DIR] = { "state-dir", 0, "DIR", "the state directory (default: berthd's, else /var/lib/berth)" },
        [OPT_SOCKET] = { "socket", 0, "PATH", "talk to the berthd at PATH (default: $BERTH_SOCKET, else /run/berth/control.sock)" },
        [OPT_TIMEOUT] = { "timeout", 0, "DURATION", "how long berthd gets to answer (default: $BERTH_TIMEOUT, else 30s; 0: for ever)" },
        [OPT_STOP_TIMEOUT] = { "timeout", 't', "DURATION", "SIGKILL after DURATION instead of the stop timeout of the definition" },
        [OPT_JSON] = { "json", 0, NULL, "print one JSON document" },
        [OPT_TTY] = { "tty", 't', NULL, "give the command a terminal" },
        [OPT_NO_TTY] = { "no-tty", 0, NULL, "never give the command a terminal" },
        [OPT_USER] = { "user", 'u', "USER", "run the command as USER (a name in the container, or UID[:GID])" },
        [OPT_ENV] = { "env", 'e', "KEY=VALUE", "set a variable for the command (repeatable)" },
        [OPT_WORKDIR] = { "workdir", 'w', "DIR", "run the command in DIR" },
        [OPT_SIGNAL] = { "signal", 's', "SIGNAL", "the signal to send, a name or a number (default: SIGTERM)" },
        [OPT_FOLLOW] = { "follow", 'f', NULL, "keep printing new output until interrupted" },
        [OPT_LINES] = { "lines", 'n', "N", "print only the last N lines (events: the last N events)" },
        [OPT_RAW] = { "raw", 0, NULL, "logs: do not escape control characters on a terminal; stats: raw numbers" },
        [OPT_NAMES] = { "names", 0, NULL, "print only the names, one per line" },
        [OPT_ALL] = { "all", 0, NULL, "ls: also list orphaned containers; logs: the logs of every container" },
        [OPT_FORCE] = { "force", 0, NULL, "apply a reload that stops most running containers" },
        [OPT_SINCE] = { "since", 0, "TIME", "only what came after TIME: a duration before now (10m, 2h, 1d) or a time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\")" },
        [OPT_UNTIL] = { "until", 0, "TIME", "only what came before TIME (as --since)" },
        [OPT_TIMESTAMPS] = { "timestamps", 't', NULL, "show each line's time (UTC, microseconds) and stream" },
        [OPT_STDOUT] = { "stdout", 0, NULL, "only the lines the container wrote to its standard output" },
        [OPT_STDERR] = { "stderr", 0, NULL, "only the lines the container wrote to its standard error" },
        [OPT_STREAM] = { "stream", 0, "STREAM", "only the lines of STREAM: stdout, stderr or all (default)" },
        [OPT_WATCH] = { "watch", 0, "SECONDS", "refresh every SECONDS (default 2) until interrupted", true },
        [OPT_COUNT] = { "count", 0, "N", "with --watch: stop after N refreshes" },
        [OPT_KEEP_SPECIAL] = { "keep-special", 0, NULL, "import: keep device nodes and setuid/setgid bits" },
        [OPT_OUTPUT] = { "output", 'o', "FILE", "write the archive to FILE (.zst: zstd-compressed; -: standard output)" },
        [OPT_WITH_SNAPSHOTS] = { "with-snapshots", 0, NULL, "also the container's snapshots" },
        [OPT_NAME] = { "name", 0, "NEW", "import the container as NEW (without its static address and ports)" },
        [OPT_ESCAPE] = { "escape", 0, "C", "detach with Ctrl-C then q instead of Ctrl-] then q (a letter, or ^X)" },
        [OPT_FROM_CHECKPOINT] = { "from-checkpoint", 0, "TAG", "restore the container's processes from checkpoint TAG (CRIU) instead of starting it" },
        [OPT_RESTORE] = { "restore", 0, NULL, "import: then apply the definition, start the container and wait until it runs" },
        [OPT_TO] = { "to", 0, "HOST", "migrate: the host to move the container to, reached with ssh" },
        [OPT_VIA] = { "via", 0, "CMD", "migrate: the shell command prefix that reaches the target's berthctl, instead of ssh HOST" },
        [OPT_LIVE] = { "live", 0, NULL, "migrate: move the running processes with CRIU (pre-dumps while it runs, then a short freeze)" },
        [OPT_STAGE] = { "stage", 0, "ID", "import: a round of live migration ID (its pre-dump images; with --restore its last dump)" },
        [OPT_ABORT] = { "abort", 0, NULL, "import --stage ID: remove what migration ID staged here" },
        [OPT_LEAVE_RUNNING] = { "leave-running", 0, NULL, "checkpoint: the container goes on running (else it stops)" },
};

/* ---- the verb table ----------------------------------------------------------------------- */

#define DAEMON CTL_NEEDS_DAEMON
static const struct ctl_verb verbs[] = {
        { "check", verb_check, O(OPT_CONF_DIR) | O(OPT_STATE_DIR) | O(OPT_JSON), CTL_ASKS_DAEMON, 0, 0, "",
          "validate the definitions" },
        { "run", verb_run, O(OPT_CONF_DIR) | O(OPT_STATE_DIR) | O(OPT_TTY) | O(OPT_NO_TTY),
          CTL_NEEDS_ROOT | CTL_TEMPLATES | CTL_COMMAND, 1, -1, "NAME [-- COMMAND [ARG...]]",
          "run a container in the foreground, without berthd" },
        { "plan", verb_plan, O(OPT_JSON), DAEMON, 0, 0, "", "what a reload would do, and why" },
        { "reload", verb_reload, O(OPT_JSON) | O(OPT_FORCE), DAEMON, 0, 0, "",
          "apply the definitions; waits until done" },
        { "ls", verb_ls, O(OPT_JSON) | O(OPT_NAMES) | O(OPT_ALL), DAEMON, 0, 0, "",
          "containers: state, health, pid, address, restarts, uptime" },
        { "inspect", verb_inspect, O(OPT_JSON), DAEMON, 1, 1, "NAME", "one container as JSON" },
        { "start", verb_start, O(OPT_JSON) | O(OPT_FROM_CHECKPOINT), DAEMON, 1, -1, "NAME... | --from-checkpoint TAG NAME",
          "start containers (and what they require)" },
        { "stop", verb_stop, O(OPT_JSON) | O(OPT_STOP_TIMEOUT), DAEMON, 1, -1, "NAME...",
          "stop containers (and what requires them); they stay stopped" },
        { "restart", verb_restart, O(OPT_JSON) | O(OPT_STOP_TIMEOUT), DAEMON, 1, -1, "NAME...",
          "stop and start containers" },
        { "destroy", verb_destroy, 0, DAEMON, 1, 1, "NAME", "delete an orphaned container's data" },
        { "kill", verb_kill, O(OPT_SIGNAL), DAEMON, 1, -1, "NAME...", "signal the main process of containers" },
        { "logs", verb_logs,
          O(OPT_FOLLOW) | O(OPT_LINES) | O(OPT_RAW) | O(OPT_STATE_DIR) | O(OPT_TIMESTAMPS) | O(OPT_SINCE) |
                  O(OPT_UNTIL) | O(OPT_STDOUT) | O(OPT_STDERR) | O(OPT_STREAM) | O(OPT_ALL),
          CTL_ASKS_DAEMON, 0, -1, "NAME... | --all", "containers' output, merged by time" },
        { "events", verb_events, O(OPT_JSON) | O(OPT_SINCE) | O(OPT_LINES), DAEMON, 0, 1, "[NAME]", "the live event stream" },
        { "template", verb_template, O(OPT_STATE_DIR) | O(OPT_CONF_DIR) | O(OPT_KEEP_SPECIAL) | O(OPT_JSON),
          CTL_TEMPLATES | CTL_ASKS_DAEMON, 1, 3,
          "list | build NAME | import [--keep-special] NAME DIR|FILE|IMAGE | remove NAME | prune | logs NAME",
          "the cached template root file systems: size, layers, users; remove and prune free the layers; a declarative template's build log" },
        { "wait", verb_wait, 0, DAEMON, 1, 1, "NAME", "until the container exits; its status" },
        { "exec", verb_exec,
          O(OPT_TTY) | O(OPT_USER) | O(OPT_ENV) | O(OPT_WORKDIR) | O(OPT_CONF_DIR) | O(OPT_STATE_DIR),
          CTL_NEEDS_ROOT | CTL_ASKS_DAEMON | CTL_COMMAND, 2, -1, "NAME -- COMMAND [ARG...]",
          "run a command in a running container" },
        { "freeze", verb_freeze, O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 1, -1, "NAME...",
          "stop every process of containers" },
        { "unfreeze", verb_unfreeze, O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 1, -1, "NAME...",
          "let frozen containers run again" },
        { "stats", verb_stats, O(OPT_JSON) | O(OPT_STATE_DIR) | O(OPT_RAW) | O(OPT_WATCH) | O(OPT_COUNT),
          CTL_ASKS_DAEMON, 0, -1, "[NAME...]",
          "cpu %, memory and its limit, pids, block and network io (default: every running container)" },
        { "cp", verb_cp, O(OPT_CONF_DIR) | O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 2, 2,
          "NAME:PATH DEST | SRC NAME:PATH", "copy files and directories out of or into a container" },
        { "top", verb_top, O(OPT_STATE_DIR), CTL_ASKS_DAEMON, 1, 1, "NAME", "the container's processes" },
        { "snapshot", verb_snapshot, O(OPT_JSON), CTL_NEEDS_ROOT | DAEMON, 1, 3, "NAME [TAG] | ls NAME | rm NAME TAG",
          "take, list or remove snapshots of a container's writable layer" },
        { "restore", verb_restore, 0, CTL_NEEDS_ROOT | DAEMON, 2, 2, "NAME TAG",
          "stop a container, put a snapshot's layer in place, start it again" },
        { "checkpoint", verb_checkpoint, O(OPT_JSON) | O(OPT_LEAVE_RUNNING), CTL_NEEDS_ROOT | DAEMON, 1, 2,
          "NAME [TAG]", "save a running container's processes (CRIU) and its layer; it stops unless --leave-running" },
        { "clone", verb_clone, 0, CTL_NEEDS_ROOT | DAEMON, 2, 2, "SRC DST",
          "a new container from a copy of another's layer and definition" },
        { "export", verb_export, O(OPT_OUTPUT) | O(OPT_WITH_SNAPSHOTS), CTL_NEEDS_ROOT | DAEMON, 1, 1, "NAME -o FILE|-",
          "a container's layer and definition as one archive" },
        { "import", verb_import, O(OPT_NAME) | O(OPT_RESTORE) | O(OPT_STAGE) | O(OPT_ABORT), CTL_NEEDS_ROOT | DAEMON, 1, 1,
          "FILE|-",
          "a container from an archive of export" },
        { "console", verb_console, O(OPT_ESCAPE) | O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 1, 1, "NAME",
          "the terminal of a container with console = true; Ctrl-] q detaches" },
        { "attach", verb_attach, O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 1, 1, "NAME",
          "follow a container's output, and feed its stdin (stdin = true); Ctrl-C detaches" },
        { "migrate", verb_migrate, O(OPT_TO) | O(OPT_VIA) | O(OPT_LIVE), CTL_NEEDS_ROOT | DAEMON, 1, 1,
          "NAME --to HOST [--via CMD] [--live]",
          "move a container to another host's berthd: stop, export, import there, start (--live: CRIU, running); then "
          "remove it here" },
        { "health", verb_health, O(OPT_CONF_DIR) | O(OPT_STATE_DIR), CTL_NEEDS_ROOT | CTL_ASKS_DAEMON, 1, 1,
          "NAME", "run the container's health probe once" },
};

/* The options VERB accepts: its own, --help, and --socket and --timeout
 * when it talks to berthd. */
static uint64_t verb_options(const struct ctl_verb *v)
{
        uint64_t o = v->options | O(OPT_HELP);
        if (v->flags & (CTL_NEEDS_DAEMON | CTL_ASKS_DAEMON))
                o |= O(OPT_SOCKET) | (o & O(OPT_STOP_TIMEOUT) ? 0 : O(OPT_TIMEOUT));
        return o;
}

static void verb_usage(const struct ctl_verb *v, FILE *f)
{
        fprintf(f, "usage: berthctl %s [OPTIONS]%s%s\n", v->name, *v->operands ? " " : "", v->operands);
}

static void verb_help(const struct ctl_verb *v, FILE *f)
{
        verb_usage(v, f);
        fprintf(f, "%s.\n", v->summary);
        if (v->flags & CTL_NEEDS_ROOT)
                fprintf(f, "Must run as root.\n");
        fprintf(f, "\noptions:\n");
        uint64_t o = verb_options(v);
        for (int i = 0; i < _OPT_MAX; i++) {
                if (!(o & O(i)))
                        continue;
                const struct ctl_option *p = &options[i];
                char left[64];
                char argpart[32];
                snprintf(argpart, sizeof argpart, "%s%s%s", !p->arg ? "" : p->optional ? "[=" : " ",
                         p->arg ? p->arg : "", p->arg && p->optional ? "]" : "");
                if (p->short_name)
                        snprintf(left, sizeof left, "-%c, --%s%s", p->short_name, p->name, argpart);
                else
                        snprintf(left, sizeof left, "    --%s%s", p->name, argpart);
                fprintf(f, "  %-28s %s\n", left, p->help);
        }
}

static void usage(FILE *f)
{
        fprintf(f, "usage: berthctl VERB [OPTIONS] [ARGS]\n"
                   "       berthctl help [VERB]\n"
                   "       berthctl --help | --version\n\nverbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nberthctl VERB --help lists the options of VERB.\n");
}

static const struct ctl_verb *verb_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(name, verbs[i].name))
                        return &verbs[i];
        return NULL;
}

static uint64_t realtime_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* ---- the one parser ------------------------------------------------------------------------ */

/* Parses argv (argv[0] is the verb) by the verb's options into *a.
 * Returns -1 when the verb goes on, else the exit status: 0 after --help,
 * 2 for a usage error. */
static int parse_args(const struct ctl_verb *v, int argc, char **argv, struct ctl_args *a)
{
        *a = (struct ctl_args){ .verb = v->name, .tty = -1, .lines = -1, .count = -1 };
        uint64_t allowed = verb_options(v);
        struct option lopts[_OPT_MAX + 1];
        char shortopts[2 * _OPT_MAX + 2], *s = shortopts;
        size_t n = 0;
        /* Options stop at NAME for a verb with a command; anywhere else
         * they may follow the operands. */
        if (v->flags & CTL_COMMAND)
                *s++ = '+';
        *s++ = ':';
        for (int i = 0; i < _OPT_MAX; i++) {
                if (!(allowed & O(i)))
                        continue;
                const struct ctl_option *p = &options[i];
                lopts[n++] = (struct option){ p->name,
                                              !p->arg ? no_argument : p->optional ? optional_argument : required_argument,
                                              NULL, 256 + i };
                if (p->short_name) {
                        *s++ = p->short_name;
                        if (p->arg)
                                *s++ = ':';
                }
        }
        lopts[n] = (struct option){ 0 };
        *s = 0;
        const char *verb = v->name;
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) >= 0) {
                int id = -1;
                if (c >= 256)
                        id = c - 256;
                else
                        for (int i = 0; i < _OPT_MAX; i++)
                                if ((allowed & O(i)) && options[i].short_name == c)
                                        id = i;
                if (c == '?' || c == ':' || id < 0) {
                        const char *what = argv[optind - 1];
                        if (c == ':')
                                fprintf(stderr, "berthctl %s: option '%s' needs an argument\n", verb, what);
                        else
                                fprintf(stderr, "berthctl %s: unknown option '%s' (see berthctl %s --help)\n", verb,
                                        optopt ? (char[]){ '-', (char) optopt, 0 } : what, verb);
                        verb_usage(v, stderr);
                        return 2;
                }
                uint64_t t;
                switch (id) {
                case OPT_HELP:
                        verb_help(v, stdout);
                        return 0;
                case OPT_CONF_DIR:
                        a->conf = optarg;
                        break;
                case OPT_STATE_DIR:
                        a->state = optarg;
                        break;
                case OPT_SOCKET:
                        ctl_set_socket(optarg);
                        break;
                case OPT_TIMEOUT:
                        ctl_set_timeout(optarg);
                        if (call_timeout(&t) < 0)
                                return 2;
                        break;
                case OPT_STOP_TIMEOUT:
                        if (parse_duration(optarg, &a->stop_timeout) < 0) {
                                fprintf(stderr, "berthctl %s: --timeout: '%s' is not a duration (e.g. 10s, 500ms)\n",
                                        verb, optarg);
                                return 2;
                        }
                        a->have_stop_timeout = true;
                        break;
                case OPT_JSON:
                        a->json = opt_json = true;
                        break;
                case OPT_TTY:
                        a->tty = 1;
                        break;
                case OPT_NO_TTY:
                        a->tty = 0;
                        break;
                case OPT_USER:
                        a->user = optarg;
                        break;
                case OPT_ENV:
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                fprintf(stderr, "berthctl %s: --env '%s': expected KEY=VALUE\n", verb, optarg);
                                return 2;
                        }
                        if (strv_push(&a->env, optarg) < 0) {
                                fprintf(stderr, "berthctl %s: out of memory\n", verb);
                                return 1;
                        }
                        break;
                case OPT_WORKDIR:
                        a->workdir = optarg;
                        break;
                case OPT_SIGNAL: {
                        int signo;
                        if (parse_signal(optarg, &signo) < 0) {
                                fprintf(stderr, "berthctl %s: '%s' is not a signal (e.g. SIGTERM, KILL, 9)\n", verb,
                                        optarg);
                                return 2;
                        }
                        a->signal = optarg;
                        break;
                }
                case OPT_FOLLOW:
                        a->follow = true;
                        break;
                case OPT_LINES: {
                        char *end;
                        errno = 0;
                        a->lines = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || a->lines < 0) {
                                fprintf(stderr, "berthctl %s: --lines: '%s' is not a number of lines\n", verb, optarg);
                                return 2;
                        }
                        break;
                }
                case OPT_RAW:
                        a->raw = true;
                        break;
                case OPT_NAMES:
                        a->names = true;
                        break;
                case OPT_ALL:
                        a->all = true;
                        break;
                case OPT_FORCE:
                        a->force = true;
                        break;
                case OPT_SINCE:
                case OPT_UNTIL: {
                        uint64_t *when = id == OPT_SINCE ? &a->since_usec : &a->until_usec;
                        if (parse_time_point(optarg, realtime_now(), when) < 0 || *when == 0) {
                                fprintf(stderr,
                                        "berthctl %s: --%s: '%s' is neither a duration (10m, 2h, 1d) nor a time "
                                        "(2026-12-03T02:53:05Z, \"2026-12-03 02:53:05\")\n",
                                        verb, options[id].name, optarg);
                                return 2;
                        }
                        break;
                }
                case OPT_TIMESTAMPS:
                        a->timestamps = true;
                        break;
                case OPT_STDOUT:
                        a->only_stdout = true;
                        break;
                case OPT_STDERR:
                        a->only_stderr = true;
                        break;
                case OPT_STREAM:
                        a->stream = optarg;
                        break;
                case OPT_WATCH: {
                        /* --watch=SECONDS, or --watch SECONDS when what follows is a number */
                        const char *w = optarg;
                        if (!w && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9' &&
                            parse_duration(argv[optind], &a->watch) == 0)
                                w = argv[optind++];
                        if (!w)
                                a->watch = 2 * SPEC_USEC_PER_SEC;
                        else if (parse_duration(w, &a->watch) < 0 || a->watch < 100 * SPEC_USEC_PER_MSEC) {
                                fprintf(stderr, "berthctl %s: --watch: '%s' is not an interval of 100ms or more (e.g. 2, 500ms)\n",
                                        verb, w);
                                return 2;
                        }
                        break;
                }
                case OPT_COUNT: {
                        char *end;
                        errno = 0;
                        a->count = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || a->count < 1) {
                                fprintf(stderr, "berthctl %s: --count: '%s' is not a number of 1 or more\n", verb, optarg);
                                return 2;
                        }
                        break;
                }
                case OPT_KEEP_SPECIAL:
                        a->keep_special = true;
                        break;
                case OPT_OUTPUT:
                        a->output = optarg;
                        break;
                case OPT_WITH_SNAPSHOTS:
                        a->with_snapshots = true;
                        break;
                case OPT_NAME:
                        a->new_name = optarg;
                        break;
                case OPT_ESCAPE:
                        a->escape = optarg;
                        break;
                case OPT_FROM_CHECKPOINT:
                        a->from_checkpoint = optarg;
                        break;
                case OPT_RESTORE:
                        a->restore = true;
                        break;
                case OPT_TO:
                        a->to = optarg;
                        break;
                case OPT_VIA:
                        a->via = optarg;
                        break;
                case OPT_LEAVE_RUNNING:
                        a->leave_running = true;
                        break;
                case OPT_LIVE:
                        a->live = true;
                        break;
                case OPT_STAGE:
                        a->stage = optarg;
                        break;
                case OPT_ABORT:
                        a->abort_stage = true;
                        break;
                }
        }
        a->argc = argc - optind;
        a->argv = argv + optind;
        /* NAME -- COMMAND: the -- is a separator, not an operand. */
        if ((v->flags & CTL_COMMAND) && a->argc >= 2 && streq(a->argv[1], "--")) {
                a->argv[1] = a->argv[0];
                a->argv++;
                a->argc--;
        }
        if (a->argc < v->min_args || (v->max_args >= 0 && a->argc > v->max_args)) {
                if (a->argc > 0 && v->max_args >= 0 && a->argc > v->max_args)
                        fprintf(stderr, "berthctl %s: unexpected argument '%s'\n", verb, a->argv[v->max_args]);
                else
                        fprintf(stderr, "berthctl %s: expected %s\n", verb, *v->operands ? v->operands : "no arguments");
                verb_usage(v, stderr);
                return 2;
        }
        return -1;
}

int main(int argc, char **argv)
{
        log_set_ident("berthctl");
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || (streq(argv[1], "help") && argc == 2)) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("berthctl %s\n", BERTH_VERSION);
                return 0;
        }
        if (streq(argv[1], "help")) {
                const struct ctl_verb *v = verb_find(argv[2]);
                if (!v || argc > 3) {
                        fprintf(stderr, "berthctl help: unknown verb '%s' (see berthctl --help)\n", argv[2]);
                        return 2;
                }
                verb_help(v, stdout);
                return 0;
        }
        const struct ctl_verb *v = verb_find(argv[1]);
        if (!v) {
                fprintf(stderr, "berthctl: unknown verb '%s' (see berthctl --help)\n", argv[1]);
                return 2;
        }
        struct ctl_args a;
        int r = parse_args(v, argc - 1, argv + 1, &a);
        if (r >= 0) {
                a.env = strv_free(a.env);
                return r;
        }
        if ((v->flags & CTL_NEEDS_ROOT) && geteuid() != 0) {
                fail("berthctl %s: must run as root", v->name);
                r = v->flags & CTL_COMMAND ? SPAWN_EXIT_SETUP : 1;
        } else {
                /* The template scripts next to the installed program, unless the
                 * environment names others. */
                if ((v->flags & CTL_TEMPLATES) && !getenv("BERTH_TEMPLATES")) {
                        _cleanup_free_ char *t = template_scripts_dir();
                        if (t)
                                (void) setenv("BERTH_TEMPLATES", t, 1);
                }
                r = v->run(&a);
        }
        json_finish(r);
        a.env = strv_free(a.env);
        return r;
}
