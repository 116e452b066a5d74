/* berthctl: the operator's command line. Argument handling only; the work
 * is done in libberth. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "config.h"
#include "cgroup.h"
#include "control.h"
#include "exec.h"
#include "health.h"
#include "parse.h"
#include "preflight.h"
#include "log.h"
#include "runtime.h"
#include "scope.h"
#include "security.h"
#include "state.h"
#include "template.h"
#include "util.h"

#define DEFAULT_CONF_DIR "/etc/containers.d"
#define DEFAULT_STATE_DIR "/var/lib/berth"
#define DEFAULT_RUN_DIR "/run/berth"

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage;
};

/* --socket PATH of the verbs that take it */
static const char *opt_socket;
/* --timeout DURATION of the verbs that take it; else $BERTH_TIMEOUT */
static const char *opt_timeout;

/* --json: whatever happens, standard output gets one JSON document. The
 * errors a verb reports with fail() are kept; a verb that ends without
 * printing its document gets {"ok": false, "errors": [...]} printed by main(). */
static bool opt_json;
static bool json_printed;
static json_object *json_errors;

static void print_json(json_object *o)
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

/* An error: on standard error, and into the --json document. */
static void fail(const char *fmt, ...) _printf_(1, 2);
static void fail(const char *fmt, ...)
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

struct daemon_dirs {
        char conf[4096];
        char state[4096];
};
static int daemon_dirs(struct daemon_dirs *d);

#define CHECK_USAGE "usage: berthctl check [-c|--conf-dir DIR] [--state-dir DIR] [--socket PATH] [--json]"

static int verb_check(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 'S' },
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *dir = NULL, *state = NULL;
        bool json = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        dir = optarg;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case 's':
                        opt_socket = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("%s\n", CHECK_USAGE);
                        return 0;
                default:
                        fprintf(stderr, "%s\n", CHECK_USAGE);
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "berthctl check: unexpected argument '%s'\n%s\n", argv[optind], CHECK_USAGE);
                return 2;
        }
        /* The directories of the berthd on the socket, when one answers;
         * else the defaults. */
        struct daemon_dirs dd;
        bool have_daemon = (!dir || !state) && daemon_dirs(&dd) == 0;
        if (!dir)
                dir = have_daemon ? dd.conf : DEFAULT_CONF_DIR;
        if (!state)
                state = have_daemon ? dd.state : DEFAULT_STATE_DIR;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dir, &set, &d);
        /* Valid files can still name what is not there: a template that is
         * neither built nor buildable, a rootfs that is no directory. */
        if (r == 0 && preflight_check(&set, state, NULL, &d) > 0) {
                diag_sort(&d);
                r = -EINVAL;
        }
        opt_json = json;
        if (json) {
                json_object *o = json_object_new_object(), *errs = json_object_new_array();
                json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
                json_object_object_add(o, "containers", json_object_new_int64((int64_t) set.n_containers));
                json_object_object_add(o, "networks", json_object_new_int64((int64_t) set.n_networks));
                for (size_t i = 0; i < d.n; i++) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "file", d.entries[i].file ? json_object_new_string(d.entries[i].file) : NULL);
                        json_object_object_add(e, "line", json_object_new_int(d.entries[i].line));
                        json_object_object_add(e, "message", json_object_new_string(d.entries[i].message));
                        json_object_array_add(errs, e);
                }
                json_object_object_add(o, "errors", errs);
                if (d.dropped)
                        json_object_object_add(o, "errors_not_shown", json_object_new_int64((int64_t) d.dropped));
                print_json(o);
                json_object_put(o);
        } else if (r == 0) {
                printf("ok: %zu container%s, %zu network%s\n", set.n_containers, set.n_containers == 1 ? "" : "s",
                       set.n_networks, set.n_networks == 1 ? "" : "s");
        } else {
                char buf[2048];
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "%s\n", diag_format(&d.entries[i], buf, sizeof buf));
                if (d.dropped)
                        fprintf(stderr, "... and %zu more errors\n", d.dropped);
                fprintf(stderr, "%zu error%s in %s\n", d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s", dir);
        }
        spec_set_done(&set);
        diag_done(&d);
        return r == 0 ? 0 : 1;
}

/* Loads and validates the whole directory: a container only runs from a
 * valid set, so that `run` and berthd agree on what is valid. */
static int load_set(const char *dir, struct spec_set *set)
{
        struct diag d = { 0 };
        int r = config_load_dir(dir, set, &d);
        if (r < 0) {
                char buf[2048];
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "%s\n", diag_format(&d.entries[i], buf, sizeof buf));
                fprintf(stderr, "berthctl: %zu error%s in %s\n", d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s", dir);
        }
        diag_done(&d);
        return r;
}

static void signal_process(pid_t pid, int pidfd, int sig)
{
        if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                (void) kill(pid, sig);
}

/* Copies between the caller's terminal and the process's pty, forwards
 * signals to the process (a container's init, an exec'd command), until
 * it exits; returns its status shell style. The second SIGINT or SIGTERM
 * is not forwarded: the process is killed and berthctl leaves at once (the
 * operator insists, and a process may ignore or never see the first). */
static int proxy_loop(pid_t pid, int pidfd, int pty_master, int sfd)
{
        bool tty = pty_master >= 0;
        struct termios saved;
        bool raw = false;
        if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(pty_master, TIOCSWINSZ, &ws);
        }
        int status = -1;
        unsigned interrupts = 0;
        bool stdin_open = tty;
        while (status < 0) {
                struct pollfd pf[4] = {
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = tty ? pty_master : -1, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                if (poll(pf, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                                if (si.ssi_signo == SIGWINCH && tty) {
                                        struct winsize ws;
                                        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                                (void) ioctl(pty_master, TIOCSWINSZ, &ws);
                                } else if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) &&
                                           ++interrupts >= 2) {
                                        signal_process(pid, pidfd, SIGKILL);
                                        status = 128 + (int) si.ssi_signo;
                                        break;
                                } else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGPIPE)
                                        signal_process(pid, pidfd, (int) si.ssi_signo);
                        }
                }
                if (tty && (pf[2].revents & (POLLIN | POLLHUP))) {
                        char buf[4096];
                        ssize_t k = read(pty_master, buf, sizeof buf);
                        if (k > 0)
                                (void) !write(STDOUT_FILENO, buf, (size_t) k);
                }
                if (stdin_open && (pf[3].revents & (POLLIN | POLLHUP))) {
                        char buf[4096];
                        ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
                        if (k > 0)
                                (void) !write(pty_master, buf, (size_t) k);
                        else
                                stdin_open = false;
                }
                if ((pf[0].revents & POLLIN) || pidfd < 0) {
                        int st;
                        if (waitpid(pid, &st, WNOHANG) == pid)
                                status = spawn_exit_status(st);
                }
        }
        if (tty) { /* drain what the container wrote last */
                char buf[4096];
                ssize_t k;
                (void) fcntl(pty_master, F_SETFL, O_NONBLOCK);
                while ((k = read(pty_master, buf, sizeof buf)) > 0)
                        (void) !write(STDOUT_FILENO, buf, (size_t) k);
        }
        if (raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return status < 0 ? SPAWN_EXIT_SETUP : status;
}

/* On cgroup v2 under systemd a foreground run gets a scope of its own, as
 * `systemd-run --scope` would: its cgroup then never claims (moves the
 * processes of) the caller's session cgroup. Elsewhere: nothing to do. */
static int run_enter_scope(const char *name)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *cgm = NULL;
        if (cgroup_open_manager(&cgm) < 0 || cgroup_manager_version(cgm) != 2 || !scope_available())
                return 0;
        char unit[300], desc[300];
        struct error err = { 0 };
        if (scope_unit_name("berth-run", name, unit, sizeof unit) < 0) {
                fprintf(stderr, "berthctl run: container '%s': no systemd unit name fits it\n", name);
                return -EINVAL;
        }
        snprintf(desc, sizeof desc, "berthctl run %s", name);
        struct scope_params p = { .unit = unit, .slice = "machine.slice", .description = desc,
                                  .timeout_usec = 60 * SPEC_USEC_PER_SEC };
        int r = scope_enter(&p, &err);
        if (r < 0)
                fprintf(stderr, "berthctl run: container '%s': %s\n", name, error_message(&err));
        return r;
}

/* The command line of run and exec: berthctl VERB [OPTIONS] NAME [--] [CMD...]. */
struct run_args {
        const char *conf, *state, *run, *user, *workdir;
        int tty; /* -1: neither -t nor --no-tty */
        char **env; /* -e KEY=VALUE, in order */
        const char *name;
        char **cmd; /* NULL: none given */
};

static void run_args_done(struct run_args *a)
{
        a->env = strv_free(a->env);
}

/* Parses argv for VERB with its own option table (each verb accepts only
 * the options in opts/shortopts), then checks for root. Returns -1 when the
 * verb goes on with *a, else the exit code: 0 after --help, 2 for a usage
 * error, SPAWN_EXIT_SETUP when not root or out of memory. */
static int parse_run_args(const char *verb, const struct option *opts, const char *shortopts,
                          const char *usage, bool need_cmd, int argc, char **argv,
                          struct run_args *a)
{
        /* conf and state stay NULL unless given: exec asks berthd first. */
        *a = (struct run_args){ .run = DEFAULT_RUN_DIR, .tty = -1 };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        a->conf = optarg;
                        break;
                case 'S':
                        a->state = optarg;
                        break;
                case 'R':
                        a->run = optarg;
                        break;
                case 't':
                        a->tty = 1;
                        break;
                case 'T':
                        a->tty = 0;
                        break;
                case 'u':
                        a->user = optarg;
                        break;
                case 'e':
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                fprintf(stderr, "berthctl %s: -e '%s': expected KEY=VALUE\n", verb,
                                        optarg);
                                return 2;
                        }
                        if (strv_push(&a->env, optarg) < 0)
                                return SPAWN_EXIT_SETUP;
                        break;
                case 'w':
                        a->workdir = optarg;
                        break;
                case 's':
                        opt_socket = optarg;
                        break;
                case 'h':
                        printf("usage: berthctl %s %s\n", verb, usage);
                        return 0;
                default:
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "berthctl %s: expected a container NAME\n", verb);
                return 2;
        }
        a->name = argv[optind++];
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        if (need_cmd && optind >= argc) {
                fprintf(stderr, "berthctl %s: expected a command after the NAME\n", verb);
                return 2;
        }
        a->cmd = optind < argc ? argv + optind : NULL;
        if (geteuid() != 0) {
                fprintf(stderr, "berthctl %s: must run as root\n", verb);
                return SPAWN_EXIT_SETUP;
        }
        return -1;
}

static int verb_run(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 'S' },
                { "run-dir", required_argument, NULL, 'R' },
                { "tty", no_argument, NULL, 't' },
                { "no-tty", no_argument, NULL, 'T' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(run_args_done) struct run_args a = { 0 };
        int ex = parse_run_args("run", opts, "+c:th",
                                "[-c DIR] [--state-dir DIR] [-t|--no-tty] NAME [-- CMD ARGS...]",
                                false, argc, argv, &a);
        if (ex >= 0)
                return ex;
        /* Without berthd: its own defaults, never a daemon's directories. */
        const char *dir = a.conf ? a.conf : DEFAULT_CONF_DIR, *state = a.state ? a.state : DEFAULT_STATE_DIR;
        const char *run = a.run, *name = a.name;
        char **cmd = a.cmd;
        int tty = a.tty;
        struct spec_set set = { 0 };
        if (load_set(dir, &set) < 0) {
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }
        const struct spec_container *spec = spec_set_find_container(&set, name);
        if (!spec) {
                fprintf(stderr, "berthctl run: no container '%s' in %s\n", name, dir);
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }
        if (tty < 0)
                tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

        if (run_enter_scope(name) < 0) {
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }

        /* Signals are taken through a signalfd and forwarded to the init. */
        sigset_t mask;
        sigemptyset(&mask);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                sigaddset(&mask, fwd[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        struct runtime_opts o = {
                .state_dir = state,
                .run_dir = run,
                .command = cmd,
                .tty = tty,
                .foreground = true,
                .ephemeral = true,
                .stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO },
        };
        struct runtime_container *rc = NULL;
        int exit_code;
        struct error err = { 0 };
        int r = runtime_start(&set, spec, &o, &rc, &exit_code, &err);
        if (r < 0) {
                fprintf(stderr, "berthctl: %s\n", error_message(&err));
                spec_set_done(&set);
                if (sfd >= 0)
                        close(sfd);
                return exit_code;
        }
        int status = proxy_loop(rc->pid, rc->pidfd, rc->pty_master, sfd);
        runtime_destroy(rc);
        spec_set_done(&set);
        if (sfd >= 0)
                close(sfd);
        return status;
}

/* ---- verbs that talk to berthd ------------------------------------------------------- */

static const char *socket_path(void)
{
        const char *s = getenv("BERTH_SOCKET");
        return s && *s ? s : DEFAULT_RUN_DIR "/control.sock";
}

/* How long berthd gets to answer: --timeout, $BERTH_TIMEOUT, else 30 s; 0
 * waits for ever. An invalid value is an error (2), not a silent default. */
static int call_timeout(uint64_t *ret)
{
        const char *t = opt_timeout ? opt_timeout : getenv("BERTH_TIMEOUT");
        usec_t u;
        if (!t || !*t) {
                *ret = CONTROL_TIMEOUT_USEC;
                return 0;
        }
        if (parse_duration(t, &u) < 0) {
                fprintf(stderr, "berthctl: %s: '%s' is not a duration (e.g. 10s, 500ms, 0 for none)\n",
                        opt_timeout ? "--timeout" : "BERTH_TIMEOUT", t);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

static int got_dirs(json_object *p, void *userdata)
{
        struct daemon_dirs *d = userdata;
        json_object *c, *s;
        if (!json_object_object_get_ex(p, "conf_dir", &c) || !json_object_object_get_ex(p, "state_dir", &s))
                return -EPROTO;
        snprintf(d->conf, sizeof d->conf, "%s", json_object_get_string(c));
        snprintf(d->state, sizeof d->state, "%s", json_object_get_string(s));
        return 0;
}

/* Where the berthd on the socket reads its definitions and keeps its
 * state (io.berth.Manager.Status), without a word when none answers:
 * 0, or -errno and the caller's defaults apply. */
static int daemon_dirs(struct daemon_dirs *d)
{
        *d = (struct daemon_dirs){ 0 };
        uint64_t timeout = CONTROL_TIMEOUT_USEC;
        (void) call_timeout(&timeout);
        char *error = NULL;
        int r = control_call(opt_socket ? opt_socket : socket_path(), "io.berth.Manager.Status", NULL, false, timeout,
                             got_dirs, d, &error, NULL);
        free(error);
        if (r >= 0 && (!d->conf[0] || !d->state[0]))
                r = -EPROTO;
        return r < 0 ? r : 0;
}

/* control_call() with the timeout; prints what went wrong at the socket
 * (not berthd's errors) and returns -errno, or the call's result. */
static int call_raw(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata,
                    char **error, json_object **error_params)
{
        const char *path = opt_socket ? opt_socket : socket_path();
        uint64_t timeout;
        if (call_timeout(&timeout) < 0)
                return -EINVAL;
        int r = control_call(path, method, params, more, timeout, cb, userdata, error, error_params);
        char buf[64];
        if (r == -ETIMEDOUT)
                fail("berthctl: berthd at %s did not answer within %s (see --timeout)", path,
                     format_duration(timeout, buf, sizeof buf));
        else if (r < 0 && r != -EREMOTEIO)
                fail("berthctl: cannot talk to berthd at %s: %s", path, strerror(-r));
        return r;
}

/* Common options of daemon verbs: --socket PATH, --json. Returns the index
 * of the first argument, or -1 after printing usage. */
static int daemon_opts(int argc, char **argv, const char *usage_line)
{
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        uint64_t t;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        opt_socket = optarg;
                        break;
                case 't':
                        opt_timeout = optarg;
                        if (call_timeout(&t) < 0)
                                return -1;
                        break;
                case 'j':
                        opt_json = true;
                        break;
                case 'h':
                        printf("usage: berthctl %s\n", usage_line);
                        return -2;
                default:
                        return -1;
                }
        return optind;
}

/* One call; replies to cb. Prints the daemon's error and returns 1. */
static int call(const char *method, json_object *params, bool more, control_reply_cb cb, void *userdata)
{
        char *error = NULL;
        json_object *ep = NULL;
        int r = call_raw(method, params, more, cb, userdata, &error, &ep);
        json_object_put(params);
        if (r == -EREMOTEIO) {
                json_object *errs, *reason, *name;
                if (error && streq(error, "io.berth.InvalidDefinitions") && ep &&
                    json_object_object_get_ex(ep, "errors", &errs)) {
                        for (size_t i = 0; i < json_object_array_length(errs); i++)
                                fail("%s", json_object_get_string(json_object_array_get_idx(errs, i)));
                        fprintf(stderr, "berthctl: refused: %zu error%s in the definitions; nothing was changed\n",
                                json_object_array_length(errs), json_object_array_length(errs) == 1 ? "" : "s");
                } else if (error && streq(error, "io.berth.NoSuchContainer") && ep &&
                           json_object_object_get_ex(ep, "name", &name))
                        fail("berthctl: no container '%s'", json_object_get_string(name));
                else if (ep && json_object_object_get_ex(ep, "reason", &reason))
                        fail("berthctl: %s: %s", error, json_object_get_string(reason));
                else
                        fail("berthctl: %s", error ? error : "error");
                free(error);
                json_object_put(ep);
                return 1;
        }
        free(error);
        json_object_put(ep);
        return r < 0 ? 1 : 0;
}

static int print_plan(json_object *p, void *userdata)
{
        (void) userdata;
        if (opt_json) {
                print_json(p);
                return 0;
        }
        json_object *acts;
        if (!json_object_object_get_ex(p, "actions", &acts))
                return 0; /* the final "done" of a reload --wait */
        size_t shown = 0;
        for (size_t i = 0; i < json_object_array_length(acts); i++) {
                json_object *a = json_object_array_get_idx(acts, i), *k, *n, *r;
                json_object_object_get_ex(a, "action", &k);
                json_object_object_get_ex(a, "name", &n);
                json_object_object_get_ex(a, "reason", &r);
                if (streq(json_object_get_string(k), "none"))
                        continue;
                printf("%-16s %-20s %s\n", json_object_get_string(k), json_object_get_string(n), json_object_get_string(r));
                shown++;
        }
        if (!shown)
                printf("nothing to do: everything matches the definitions\n");
        json_object *fn;
        if (json_object_object_get_ex(p, "force_needed", &fn))
                printf("note: a reload is refused: %s\n", json_object_get_string(fn));
        return 0;
}

/* Takes a flag without argument out of argv (before getopt sees it). */
static bool take_flag(int *argc, char **argv, const char *flag)
{
        for (int k = 1; k < *argc; k++)
                if (streq(argv[k], "--")) /* operands from here on */
                        return false;
                else if (streq(argv[k], flag)) {
                        for (int j = k; j < *argc - 1; j++)
                                argv[j] = argv[j + 1];
                        (*argc)--;
                        return true;
                }
        return false;
}

static int verb_plan(int argc, char **argv)
{
        int i = daemon_opts(argc, argv, "plan [--json] [--socket PATH]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        return call("io.berth.Manager.Plan", NULL, false, print_plan, NULL);
}

/* A reload's replies: the plan, then (once every start and stop is done)
 * {"failed": [{name, error}]}; or both in one reply. With --json they make
 * one document, printed by verb_reload. */
static const char *jstr(json_object *o, const char *k);

struct reload_result {
        json_object *doc;
        size_t n_failed;
};

static int print_reload(json_object *p, void *userdata)
{
        struct reload_result *res = userdata;
        json_object *failed;
        if (json_object_object_get_ex(p, "actions", NULL)) {
                if (opt_json) {
                        json_object_put(res->doc);
                        res->doc = json_object_get(p);
                } else
                        (void) print_plan(p, NULL);
        }
        if (!json_object_object_get_ex(p, "failed", &failed) || !json_object_is_type(failed, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(failed); i++) {
                json_object *f = json_object_array_get_idx(failed, i);
                fprintf(stderr, "berthctl reload: container '%s' failed: %s\n", jstr(f, "name"), jstr(f, "error"));
                res->n_failed++;
        }
        if (opt_json && res->doc && res->doc != p)
                json_object_object_add(res->doc, "failed", json_object_get(failed));
        return 0;
}

static int verb_reload(int argc, char **argv)
{
        bool force = take_flag(&argc, argv, "--force");
        int i = daemon_opts(argc, argv, "reload [--json] [--force] [--socket PATH]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        json_object *p = json_object_new_object();
        json_object_object_add(p, "wait", json_object_new_boolean(1));
        if (force)
                json_object_object_add(p, "force", json_object_new_boolean(1));
        struct reload_result res = { 0 };
        int r = call("io.berth.Manager.Reload", p, false, print_reload, &res);
        if (r == 0 && res.n_failed)
                fprintf(stderr, "berthctl reload: %zu container%s failed to start or update\n", res.n_failed,
                        res.n_failed == 1 ? "" : "s");
        if (opt_json && res.doc) {
                json_object_object_add(res.doc, "ok", json_object_new_boolean(r == 0 && !res.n_failed));
                if (json_errors) /* the connection was lost after the plan */
                        json_object_object_add(res.doc, "errors", json_object_get(json_errors));
                print_json(res.doc);
        }
        json_object_put(res.doc);
        return r != 0 || res.n_failed ? 1 : 0;
}

static void fmt_uptime(uint64_t s, char *buf, size_t n)
{
        if (s >= 86400)
                snprintf(buf, n, "%llud%lluh", (unsigned long long) s / 86400, (unsigned long long) (s % 86400) / 3600);
        else if (s >= 3600)
                snprintf(buf, n, "%lluh%llum", (unsigned long long) s / 3600, (unsigned long long) (s % 3600) / 60);
        else if (s >= 60)
                snprintf(buf, n, "%llum%llus", (unsigned long long) s / 60, (unsigned long long) s % 60);
        else
                snprintf(buf, n, "%llus", (unsigned long long) s);
}

/* A member as a string; "" when it is missing or null (global events have
 * "name": null). */
static const char *jstr(json_object *o, const char *k)
{
        json_object *v;
        const char *s = json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
        return s ? s : "";
}

static int64_t jint(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static bool opt_names, opt_all;

/* Without --all, ls shows the declared containers only (and those still
 * stopping whose definition just went). */
static bool ls_shown(json_object *c)
{
        json_object *v;
        if (opt_all || !json_object_object_get_ex(c, "orphaned", &v) || !json_object_get_boolean(v))
                return true;
        return !streq(jstr(c, "state"), "orphaned");
}

static int print_ls(json_object *p, void *userdata)
{
        (void) userdata;
        json_object *arr;
        if (opt_json) {
                print_json(p);
                return 0;
        }
        if (!json_object_object_get_ex(p, "containers", &arr))
                return 0;
        if (opt_names) {
                for (size_t i = 0; i < json_object_array_length(arr); i++)
                        if (ls_shown(json_object_array_get_idx(arr, i)))
                                printf("%s\n", jstr(json_object_array_get_idx(arr, i), "name"));
                return 0;
        }
        printf("%-20s %-9s %-8s %-7s %-15s %-8s %s\n", "NAME", "STATE", "HEALTH", "PID", "ADDRESS", "RESTARTS", "UPTIME");
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *c = json_object_array_get_idx(arr, i);
                char up[32] = "-", pid[16] = "-";
                if (!ls_shown(c))
                        continue;
                if (streq(jstr(c, "state"), "running") || streq(jstr(c, "state"), "frozen")) {
                        fmt_uptime((uint64_t) jint(c, "uptime_sec"), up, sizeof up);
                        snprintf(pid, sizeof pid, "%lld", (long long) jint(c, "pid"));
                }
                char state[96];
                if (*jstr(c, "waiting_for"))
                        snprintf(state, sizeof state, "%s (for %s)", jstr(c, "state"), jstr(c, "waiting_for"));
                else
                        snprintf(state, sizeof state, "%s", jstr(c, "state"));
                printf("%-20s %-9s %-8s %-7s %-15s %-8lld %s%s%s\n", jstr(c, "name"), state, jstr(c, "health"), pid,
                       *jstr(c, "address") ? jstr(c, "address") : "-", (long long) jint(c, "restarts"), up,
                       *jstr(c, "error") ? "  " : "", jstr(c, "error"));
        }
        return 0;
}

static int verb_ls(int argc, char **argv)
{
        /* --names: one name a line, for shell completion */
        opt_names = take_flag(&argc, argv, "--names");
        opt_all = take_flag(&argc, argv, "--all");
        int i = daemon_opts(argc, argv, "ls [--json] [--names] [--all] [--socket PATH]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        return call("io.berth.Container.List", NULL, false, print_ls, NULL);
}

static int print_obj(json_object *p, void *userdata)
{
        (void) userdata;
        print_json(p);
        return 0;
}

/* A daemon verb on exactly one container: {"name": NAME} to method. */
static int name_verb(int argc, char **argv, const char *method, const char *usage_line, control_reply_cb print)
{
        int i = daemon_opts(argc, argv, usage_line);
        if (i < 0)
                return i == -2 ? 0 : 2;
        if (i != argc - 1) {
                fprintf(stderr, "berthctl %s: expected one container NAME\n", argv[0]);
                return 2;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(argv[i]));
        return call(method, p, false, print, NULL);
}

static int verb_inspect(int argc, char **argv)
{
        return name_verb(argc, argv, "io.berth.Container.Inspect", "inspect [--socket PATH] NAME", print_obj);
}

/* start/stop/restart: one line per thing berthd did, in order. */
static int print_actions(json_object *p, void *userdata)
{
        (void) userdata;
        json_object *acts;
        if (opt_json) {
                print_json(p);
                return 0;
        }
        if (!p || !json_object_object_get_ex(p, "actions", &acts))
                return 0;
        for (size_t i = 0; i < json_object_array_length(acts); i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(acts, i)));
        return 0;
}

static int names_verb(int argc, char **argv, const char *method, const char *usage_line)
{
        int i = daemon_opts(argc, argv, usage_line);
        if (i < 0)
                return i == -2 ? 0 : 2;
        if (i >= argc) {
                fprintf(stderr, "berthctl %s: expected at least one container NAME\n", argv[0]);
                return 2;
        }
        json_object *p = json_object_new_object(), *arr = json_object_new_array();
        for (; i < argc; i++)
                json_object_array_add(arr, json_object_new_string(argv[i]));
        json_object_object_add(p, "names", arr);
        return call(method, p, false, print_actions, NULL);
}

static int verb_start(int argc, char **argv)
{
        return names_verb(argc, argv, "io.berth.Container.Start", "start [--socket PATH] NAME...");
}

static int verb_stop(int argc, char **argv)
{
        return names_verb(argc, argv, "io.berth.Container.Stop", "stop [--socket PATH] NAME...");
}

static int verb_restart(int argc, char **argv)
{
        return names_verb(argc, argv, "io.berth.Container.Restart", "restart [--socket PATH] NAME...");
}

static int verb_destroy(int argc, char **argv)
{
        return name_verb(argc, argv, "io.berth.Container.Destroy", "destroy [--socket PATH] NAME", NULL);
}

static int verb_kill(int argc, char **argv)
{
        const char *sig = "SIGTERM";
        for (int k = 1; k < argc - 1; k++)
                if (streq(argv[k], "-s") || streq(argv[k], "--signal")) {
                        sig = argv[k + 1];
                        for (int j = k; j < argc - 2; j++)
                                argv[j] = argv[j + 2];
                        argc -= 2;
                        break;
                }
        int i = daemon_opts(argc, argv, "kill [-s SIGNAL] [--socket PATH] NAME...");
        if (i < 0)
                return i == -2 ? 0 : 2;
        if (i >= argc) {
                fprintf(stderr, "berthctl kill: expected at least one container NAME\n");
                return 2;
        }
        int signo;
        if (parse_signal(sig, &signo) < 0) {
                fprintf(stderr, "berthctl kill: '%s' is not a signal (e.g. SIGTERM, KILL, 9)\n", sig);
                return 2;
        }
        json_object *p = json_object_new_object(), *arr = json_object_new_array();
        for (; i < argc; i++)
                json_object_array_add(arr, json_object_new_string(argv[i]));
        json_object_object_add(p, "names", arr);
        json_object_object_add(p, "signal", json_object_new_string(sig));
        return call("io.berth.Container.Kill", p, false, NULL, NULL);
}

struct events_filter {
        const char *name;   /* only this container's */
        const char *until;  /* stop at this event (wait) */
        uint64_t after_usec; /* with until: events up to this time are old news */
        uint64_t since_usec; /* events: older ones are not shown */
        int status;
        bool done;
};

static int print_event(json_object *p, void *userdata)
{
        struct events_filter *f = userdata;
        if (!json_object_object_get_ex(p, "event", NULL))
                return 0;
        if (f->name && !streq(jstr(p, "name"), f->name))
                return 0;
        if (f->since_usec && (uint64_t) jint(p, "time_usec") < f->since_usec)
                return 0;
        if (f->until) {
                if ((uint64_t) jint(p, "time_usec") <= f->after_usec)
                        return 0;
                if (streq(jstr(p, "event"), f->until) || streq(jstr(p, "event"), "removed")) {
                        const char *d = jstr(p, "detail");
                        f->status = strncmp(d, "status ", 7) == 0 ? atoi(d + 7) : 0;
                        f->done = true;
                        return -ECANCELED;
                }
                return 0;
        }
        if (opt_json) {
                puts(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
        } else {
                time_t t = (time_t) (jint(p, "time_usec") / 1000000);
                struct tm tm;
                char ts[32];
                strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
                printf("%s %s%s%s%s%s\n", ts, jstr(p, "name"), *jstr(p, "name") ? ": " : "", jstr(p, "event"),
                       *jstr(p, "detail") ? ": " : "", jstr(p, "detail"));
        }
        fflush(stdout);
        return 0;
}

static int verb_events(int argc, char **argv)
{
        /* --since DURATION: only events of the last DURATION (and what comes);
         * -n N: the last N recorded. Either replays berthd's journal on disk,
         * which holds the events of earlier berthds too. */
        usec_t since = 0;
        unsigned long last = 0;
        for (int k = 1; k < argc;) {
                bool is_since = streq(argv[k], "--since"), is_n = streq(argv[k], "-n");
                if (!is_since && !is_n) {
                        k++;
                        continue;
                }
                char *e = NULL;
                if (is_since && (k + 1 >= argc || parse_duration(argv[k + 1], &since) < 0 || since == 0)) {
                        fprintf(stderr, "berthctl events: --since expects a duration (e.g. 10m, 1h)\n");
                        return 2;
                }
                if (is_n && (k + 1 >= argc || (last = strtoul(argv[k + 1], &e, 10)) == 0 || *e || last > 100000)) {
                        fprintf(stderr, "berthctl events: -n expects a number of events from 1 to 100000\n");
                        return 2;
                }
                for (int j = k; j < argc - 2; j++)
                        argv[j] = argv[j + 2];
                argc -= 2;
        }
        int i = daemon_opts(argc, argv, "events [--json] [--since DURATION] [-n N] [--socket PATH] [NAME]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
        struct events_filter f = { .name = i < argc ? argv[i] : NULL, .since_usec = since ? now - since : 0 };
        json_object *p = NULL;
        if (since || last) {
                p = json_object_new_object();
                json_object_object_add(p, "since_usec", json_object_new_uint64(f.since_usec));
                if (last)
                        json_object_object_add(p, "last", json_object_new_uint64(last));
        }
        return call("io.berth.Manager.Events", p, true, print_event, &f);
}

struct wait_info {
        char state[32];
        int last_status;
        uint64_t last_exit_usec; /* the newest exit the daemon still lists */
};

static int got_state(json_object *p, void *userdata)
{
        struct wait_info *w = userdata;
        json_object *evs;
        snprintf(w->state, sizeof w->state, "%s", jstr(p, "state"));
        w->last_status = json_object_object_get_ex(p, "last_status", NULL) ? (int) jint(p, "last_status") : -1;
        if (json_object_object_get_ex(p, "events", &evs) && json_object_is_type(evs, json_type_array))
                for (size_t i = 0; i < json_object_array_length(evs); i++) {
                        json_object *e = json_object_array_get_idx(evs, i);
                        uint64_t t = (uint64_t) jint(e, "time_usec");
                        if ((streq(jstr(e, "event"), "exited") || streq(jstr(e, "event"), "removed")) &&
                            t > w->last_exit_usec)
                                w->last_exit_usec = t;
                }
        return 0;
}

static int verb_wait(int argc, char **argv)
{
        int i = daemon_opts(argc, argv, "wait [--socket PATH] NAME");
        if (i < 0)
                return i == -2 ? 0 : 2;
        if (i != argc - 1) {
                fprintf(stderr, "berthctl wait: expected one container NAME\n");
                return 2;
        }
        struct wait_info w = { .last_status = -1 };
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(argv[i]));
        if (call("io.berth.Container.Inspect", p, false, got_state, &w))
                return 1;
        /* Not running: it has exited already (or never ran): its last status. */
        if (!streq(w.state, "running") && !streq(w.state, "starting") && !streq(w.state, "stopping"))
                return w.last_status >= 0 ? w.last_status : 0;
        /* The events stream opens with the daemon's backlog, which may hold
         * older exits of this container: the exit we wait for is newer than
         * every exit Inspect listed. */
        struct events_filter f = { .name = argv[i], .until = "exited", .after_usec = w.last_exit_usec };
        char *error = NULL;
        int r = call_raw("io.berth.Manager.Events", NULL, true, print_event, &f, &error, NULL);
        free(error);
        if (f.done)
                return f.status;
        if (r >= 0 || r == -EREMOTEIO)
                fprintf(stderr, "berthctl wait: lost berthd: %s\n", strerror(r >= 0 ? ECONNRESET : -r));
        return 1;
}

static int got_dir(json_object *p, void *userdata)
{
        snprintf(userdata, 4096, "%s", jstr(p, "dir"));
        return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Runs tail with its output through escape_terminal() to our standard
 * output (a terminal): a container's escape sequences (window title,
 * clipboard writes, cursor movement) are shown, never acted on. */
static int tail_escaped(char **targv)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                fprintf(stderr, "berthctl logs: cannot make a pipe: %m\n");
                return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "berthctl logs: cannot fork: %m\n");
                close(p[0]);
                close(p[1]);
                return 1;
        }
        if (pid == 0) {
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execvp("tail", targv);
                fprintf(stderr, "berthctl logs: cannot run tail: %m\n");
                _exit(127);
        }
        close(p[1]);
        char in[16384], out[4 * sizeof in];
        size_t have = 0;
        for (;;) {
                ssize_t k = read(p[0], in + have, sizeof in - have);
                if (k < 0 && errno == EINTR)
                        continue;
                bool eof = k <= 0;
                size_t n = have + (k > 0 ? (size_t) k : 0), olen;
                size_t used = escape_terminal(in, n, eof, out, &olen);
                if (write_all(STDOUT_FILENO, out, olen) < 0) {
                        (void) kill(pid, SIGTERM);
                        break;
                }
                memmove(in, in + used, n - used);
                have = n - used;
                if (eof)
                        break;
        }
        close(p[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return 1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int verb_logs(int argc, char **argv)
{
        bool follow = false, raw = false;
        long lines = -1;
        int k = 1;
        for (; k < argc; k++) {
                if (streq(argv[k], "-f") || streq(argv[k], "--follow"))
                        follow = true;
                else if (streq(argv[k], "--raw"))
                        raw = true;
                else if ((streq(argv[k], "-n") || streq(argv[k], "--lines")) && k + 1 < argc)
                        lines = strtol(argv[++k], NULL, 10);
                else if (streq(argv[k], "--state-dir") && k + 1 < argc)
                        setenv("BERTH_STATE_DIR", argv[++k], 1);
                else if (streq(argv[k], "-h") || streq(argv[k], "--help")) {
                        printf("usage: berthctl logs [-f] [-n N] [--raw] [--state-dir DIR] NAME\n");
                        return 0;
                } else
                        break;
        }
        if (k != argc - 1 || !name_is_valid(argv[k])) {
                fprintf(stderr, "berthctl logs: expected one container NAME\n");
                return 2;
        }
        /* The daemon knows where its containers live; without one, the state dir. */
        char dir[4096] = "";
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(argv[k]));
        char *error = NULL;
        uint64_t timeout = CONTROL_TIMEOUT_USEC;
        (void) call_timeout(&timeout);
        (void) control_call(opt_socket ? opt_socket : socket_path(), "io.berth.Container.Inspect", p, false, timeout,
                            got_dir, dir, &error, NULL);
        json_object_put(p);
        free(error);
        const char *state = getenv("BERTH_STATE_DIR") ? getenv("BERTH_STATE_DIR") : DEFAULT_STATE_DIR;
        _cleanup_free_ char *path = dir[0] ? strdup_printf("%s/console.log", dir)
                                           : strdup_printf("%s/containers/%s/console.log", state, argv[k]);
        if (!path)
                return 1;
        /* tail does lines, follow-by-name across rotation and inotify well. */
        char nbuf[32];
        snprintf(nbuf, sizeof nbuf, "%ld", lines < 0 ? 1000000000L : lines);
        if (access(path, R_OK) < 0) {
                fprintf(stderr, "berthctl logs: no log for '%s' (%s)\n", argv[k], path);
                return 1;
        }
        char *targv[] = { "tail", "-n", nbuf, follow ? "-F" : NULL, follow ? "--" : "--", path, NULL };
        if (!follow) {
                targv[3] = "--";
                targv[4] = path;
                targv[5] = NULL;
        }
        /* On a terminal the output is escaped (a container must not drive
         * the operator's terminal); into a pipe or file, and with --raw, it
         * is passed on byte for byte, as it was written. */
        if (!raw && isatty(STDOUT_FILENO))
                return tail_escaped(targv);
        execvp("tail", targv);
        fprintf(stderr, "berthctl logs: cannot run tail: %m\n");
        return 1;
}

static int verb_template(int argc, char **argv)
{
        const char *state = getenv("BERTH_STATE_DIR") ? getenv("BERTH_STATE_DIR") : DEFAULT_STATE_DIR;
        int k = 1;
        for (; k < argc - 1 && strncmp(argv[k], "-", 1) == 0; k++)
                if (streq(argv[k], "--state-dir"))
                        state = argv[++k];
        const char *what = k < argc ? argv[k] : NULL;
        int rest = argc - k - 1;
        char **args = argv + k + 1;
        int r;
        if (what && (streq(what, "list") || streq(what, "ls")) && rest == 0) {
                char **names = NULL;
                r = template_list(state, &names);
                if (r < 0) {
                        fprintf(stderr, "berthctl template list: %s\n", strerror(-r));
                        return 1;
                }
                /* NAME and what its import did with device nodes and
                 * setuid/setgid files: dropped, kept (--keep-special) or
                 * unknown (made before berth recorded it). */
                static const char *const special[] = {
                        [TEMPLATE_SPECIAL_UNKNOWN] = "unknown",
                        [TEMPLATE_SPECIAL_DROPPED] = "dropped",
                        [TEMPLATE_SPECIAL_KEPT] = "kept",
                };
                for (size_t i = 0; names && names[i]; i++)
                        printf("%s\t%s\n", names[i], special[template_special_files(state, names[i])]);
                strv_free(names);
                return 0;
        }
        if (what && streq(what, "build") && rest == 1) {
                char *path = NULL;
                r = template_ensure(state, args[0], &path);
                if (r == -ENOENT)
                        fprintf(stderr, "berthctl template build: no template script '%s.sh'\n", args[0]);
                else if (r < 0)
                        fprintf(stderr, "berthctl template build: '%s': %s\n", args[0], strerror(-r));
                else
                        printf("%s\n", path);
                free(path);
                return r < 0 ? 1 : 0;
        }
        bool keep_special = false;
        if (what && streq(what, "import") && rest == 3 && streq(args[0], "--keep-special")) {
                keep_special = true;
                args++;
                rest--;
        }
        if (what && streq(what, "import") && rest == 2) {
                if (!name_is_valid(args[0])) {
                        fprintf(stderr, "berthctl template import: '%s' is not a valid name ([a-z0-9][a-z0-9_.-]{0,62})\n",
                                args[0]);
                        return 2;
                }
                r = template_import(state, args[0], args[1], keep_special);
                if (r == -EEXIST)
                        fprintf(stderr, "berthctl template import: template '%s' exists (remove it first)\n", args[0]);
                else if (r == -EIO)
                        fprintf(stderr, "berthctl template import: cannot unpack '%s'\n", args[1]);
                else if (r < 0)
                        fprintf(stderr, "berthctl template import: '%s': %s\n", args[1], strerror(-r));
                return r < 0 ? 1 : 0;
        }
        if (what && streq(what, "remove") && rest == 1) {
                r = template_remove(state, args[0]);
                if (r == -ENOENT)
                        fprintf(stderr, "berthctl template remove: no template '%s'\n", args[0]);
                else if (r < 0)
                        fprintf(stderr, "berthctl template remove: '%s': %s\n", args[0], strerror(-r));
                return r < 0 ? 1 : 0;
        }
        if (what && (streq(what, "-h") || streq(what, "--help"))) {
                printf("usage: berthctl template [--state-dir DIR] list | build NAME | import [--keep-special] NAME FILE|DIR | remove NAME\n");
                return 0;
        }
        fprintf(stderr, "usage: berthctl template [--state-dir DIR] list | build NAME | import [--keep-special] NAME FILE|DIR | remove NAME\n");
        return 2;
}


/* ---- verbs on one running container, daemon or foreground ----------------------------- */

/* A running container found by name: its directory (from berthd when it
 * answers, else <state>/containers/NAME), its state record, and the state
 * directory it lives in. */
struct found {
        char dir[4096];
        char state_dir[4096];
        struct state_record rec;
};

static int find_container(const char *verb, const char *name, const char *state_dir, struct found *f)
{
        if (!name_is_valid(name)) {
                fail("berthctl %s: '%s' is not a container name", verb, name);
                return -EINVAL;
        }
        *f = (struct found){ 0 };
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        char *error = NULL;
        uint64_t timeout = CONTROL_TIMEOUT_USEC;
        (void) call_timeout(&timeout);
        (void) control_call(opt_socket ? opt_socket : socket_path(), "io.berth.Container.Inspect", p, false, timeout,
                            got_dir, f->dir, &error, NULL);
        json_object_put(p);
        free(error);
        size_t suffix = strlen("/containers/") + strlen(name);
        if (f->dir[0] && strlen(f->dir) > suffix) {
                snprintf(f->state_dir, sizeof f->state_dir, "%.*s", (int) (strlen(f->dir) - suffix), f->dir);
        } else {
                snprintf(f->state_dir, sizeof f->state_dir, "%s", state_dir);
                snprintf(f->dir, sizeof f->dir, "%s/containers/%s", state_dir, name);
        }
        int r = state_read(f->dir, &f->rec);
        if (r < 0) {
                fail("berthctl %s: container '%s' is not running (no state record in %s)", verb, name, f->dir);
                return r;
        }
        _cleanup_close_ int fd = -1;
        if (state_pidfd_verified(f->rec.init_pid, f->rec.init_start, &fd) < 0) {
                fail("berthctl %s: container '%s' is not running", verb, name);
                return -ESRCH;
        }
        return 0;
}

/* The definition of a running container, from the configuration directory. */
static int find_spec(const char *verb, const char *conf, const char *name, const struct found *f,
                     struct spec_set *set, const struct spec_container **ret)
{
        if (load_set(conf, set) < 0)
                return -EINVAL;
        const struct spec_container *c = spec_set_find_container(set, name);
        if (!c) {
                fprintf(stderr, "berthctl %s: no container '%s' in %s\n", verb, name, conf);
                return -ENOENT;
        }
        char h[SPEC_HASH_LEN];
        spec_container_hash_restart(c, h);
        if (f->rec.restart_hash[0] && !streq(h, f->rec.restart_hash))
                fprintf(stderr, "berthctl %s: warning: the definition of '%s' changed since it started; using the one in %s\n",
                        verb, name, conf);
        *ret = c;
        return 0;
}

static int verb_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "tty", no_argument, NULL, 't' },
                { "user", required_argument, NULL, 'u' },
                { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "conf-dir", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 'S' },
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(run_args_done) struct run_args a = { 0 };
        int ex = parse_run_args("exec", opts, "+tu:e:w:c:h",
                                "[-t] [-u USER] [-e K=V]... [-w DIR] [-c DIR] [--state-dir DIR] "
                                "NAME -- CMD...",
                                true, argc, argv, &a);
        if (ex >= 0)
                return ex;
        struct daemon_dirs dd;
        bool have_daemon = (!a.conf || !a.state) && daemon_dirs(&dd) == 0;
        const char *conf = a.conf ? a.conf : have_daemon ? dd.conf : DEFAULT_CONF_DIR;
        const char *state = a.state ? a.state : have_daemon ? dd.state : DEFAULT_STATE_DIR;
        const char *name = a.name;
        char **cmd = a.cmd;
        struct found f;
        if (find_container("exec", name, state, &f) < 0)
                return SPAWN_EXIT_SETUP;
        struct spec_set set = { 0 };
        const struct spec_container *spec = NULL;
        if (find_spec("exec", conf, name, &f, &set, &spec) < 0) {
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }

        sigset_t mask;
        sigemptyset(&mask);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                sigaddset(&mask, fwd[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        struct exec_target t = { .name = name, .init_pid = f.rec.init_pid, .init_start = f.rec.init_start,
                                 .spec = spec, .state_dir = f.state_dir };
        int pty = -1;
        struct exec_opts o = { .tty = a.tty > 0, .ret_pty_master = &pty, .user = a.user, .signal_fd = &sfd,
                               .workdir = a.workdir, .env = a.env,
                               .stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO } };
        pid_t pid;
        int pidfd;
        struct error err = { 0 };
        int r = exec_spawn(&t, cmd, NULL, &o, &pid, &pidfd, &err);
        spec_set_done(&set);
        if (r < 0) {
                fprintf(stderr, "berthctl exec: %s\n", error_message(&err));
                return exec_exit_code(r);
        }
        int status = proxy_loop(pid, pidfd, pty, sfd);
        if (pidfd >= 0)
                close(pidfd);
        if (pty >= 0)
                close(pty);
        return status;
}

/* The cgroup of a running container, through its init. */
static int open_cgroup(const char *verb, int argc, char **argv, bool *json, struct cgroup_manager **m,
                       struct cgroup **cg, const char **ret_name)
{
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, 'S' },
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state = DEFAULT_STATE_DIR;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0)
                switch (c) {
                case 'S':
                        state = optarg;
                        break;
                case 's':
                        opt_socket = optarg;
                        break;
                case 'j':
                        if (!json)
                                return -EINVAL;
                        *json = true;
                        opt_json = true;
                        break;
                case 'h':
                        printf("usage: berthctl %s%s [--state-dir DIR] NAME\n", verb, json ? " [--json]" : "");
                        return 1;
                default:
                        return -EINVAL;
                }
        if (optind != argc - 1) {
                fail("berthctl %s: expected one container NAME", verb);
                return -EINVAL;
        }
        const char *name = argv[optind];
        struct found f;
        int r = find_container(verb, name, state, &f);
        if (r < 0)
                return -ESRCH;
        r = cgroup_open_manager_of(f.rec.init_pid, name, m);
        if (r >= 0)
                r = cgroup_open_existing(*m, name, cg);
        if (r < 0) {
                fail("berthctl %s: container '%s': cannot open its cgroup: %s", verb, name, strerror(-r));
                return -ESRCH;
        }
        *ret_name = name;
        return 0;
}

static int freeze_verb(int argc, char **argv, bool freeze)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        const char *name;
        int r = open_cgroup(argv[0], argc, argv, NULL, &m, &cg, &name);
        if (r != 0)
                return r > 0 ? 0 : r == -EINVAL ? 2 : 1;
        r = freeze ? cgroup_freeze(cg) : cgroup_thaw(cg);
        if (r < 0) {
                fprintf(stderr, "berthctl %s: container '%s': %s\n", argv[0], name,
                        r == -EOPNOTSUPP ? "this host has no cgroup freezer" : strerror(-r));
                return 1;
        }
        return 0;
}

static int verb_freeze(int argc, char **argv)
{
        return freeze_verb(argc, argv, true);
}

static int verb_unfreeze(int argc, char **argv)
{
        return freeze_verb(argc, argv, false);
}

static void fmt_stat(uint64_t v, char *buf, size_t n)
{
        if (v == CGROUP_STAT_UNKNOWN)
                snprintf(buf, n, "-");
        else
                snprintf(buf, n, "%llu", (unsigned long long) v);
}

static void json_stat(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, v == CGROUP_STAT_UNKNOWN ? NULL : json_object_new_uint64(v));
}

static int verb_stats(int argc, char **argv)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        const char *name;
        bool json = false;
        int r = open_cgroup("stats", argc, argv, &json, &m, &cg, &name);
        if (r != 0)
                return r > 0 ? 0 : r == -EINVAL ? 2 : 1;
        struct cgroup_stats st;
        r = cgroup_stats(cg, &st);
        if (r < 0) {
                fail("berthctl stats: container '%s': %s", name, strerror(-r));
                return 1;
        }
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(name));
                json_stat(o, "memory_current", st.memory_current);
                json_stat(o, "memory_peak", st.memory_peak);
                json_stat(o, "cpu_usage_ns", st.cpu_usage_ns);
                json_stat(o, "pids", st.pids_current);
                json_stat(o, "io_read_bytes", st.io_read_bytes);
                json_stat(o, "io_write_bytes", st.io_write_bytes);
                json_stat(o, "oom_kills", st.oom_kills);
                print_json(o);
                json_object_put(o);
                return 0;
        }
        char v[7][32];
        fmt_stat(st.memory_current, v[0], sizeof v[0]);
        fmt_stat(st.memory_peak, v[1], sizeof v[1]);
        fmt_stat(st.cpu_usage_ns, v[2], sizeof v[2]);
        fmt_stat(st.pids_current, v[3], sizeof v[3]);
        fmt_stat(st.io_read_bytes, v[4], sizeof v[4]);
        fmt_stat(st.io_write_bytes, v[5], sizeof v[5]);
        fmt_stat(st.oom_kills, v[6], sizeof v[6]);
        printf("%-20s %-12s %-12s %-16s %-6s %-12s %-12s %s\n", "NAME", "MEM", "MEM-PEAK", "CPU-NS", "PIDS", "IO-READ",
               "IO-WRITE", "OOM-KILLS");
        printf("%-20s %-12s %-12s %-16s %-6s %-12s %-12s %s\n", name, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        return 0;
}

static int verb_top(int argc, char **argv)
{
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        const char *name;
        int r = open_cgroup("top", argc, argv, NULL, &m, &cg, &name);
        if (r != 0)
                return r > 0 ? 0 : r == -EINVAL ? 2 : 1;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        r = cgroup_pids(cg, &pids, &n);
        if (r < 0) {
                fprintf(stderr, "berthctl top: container '%s': %s\n", name, strerror(-r));
                return 1;
        }
        printf("%-8s %-8s %s\n", "PID", "UID", "COMMAND");
        for (size_t i = 0; i < n; i++) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pids[i]);
                _cleanup_free_ char *cmdline = NULL, *status = NULL;
                size_t len = 0;
                if (read_file_at(AT_FDCWD, path, 4096, &cmdline, &len) < 0)
                        continue; /* gone meanwhile */
                for (size_t k = 0; k + 1 < len; k++)
                        if (cmdline[k] == 0)
                                cmdline[k] = ' ';
                for (size_t k = 0; k < len; k++) /* a container's text on our terminal */
                        if ((unsigned char) cmdline[k] < 0x20 && cmdline[k] != 0)
                                cmdline[k] = '?';
                snprintf(path, sizeof path, "/proc/%d/status", (int) pids[i]);
                const char *uid = "?";
                if (read_file_at(AT_FDCWD, path, 65536, &status, NULL) == 0) {
                        char *u = strstr(status, "\nUid:\t");
                        if (u) {
                                u += 6;
                                u[strcspn(u, "\t\n")] = 0;
                                uid = u;
                        }
                }
                if (len == 0) { /* a kernel thread or a zombie: its name */
                        free(cmdline);
                        cmdline = NULL;
                        snprintf(path, sizeof path, "/proc/%d/comm", (int) pids[i]);
                        if (read_file_at(AT_FDCWD, path, 256, &cmdline, NULL) == 0)
                                cmdline[strcspn(cmdline, "\n")] = 0;
                }
                printf("%-8d %-8s %s\n", (int) pids[i], uid, cmdline ? cmdline : "?");
        }
        return 0;
}

static int verb_health(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 'S' },
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *conf = NULL, *state = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        conf = optarg;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case 's':
                        opt_socket = optarg;
                        break;
                case 'h':
                        printf("usage: berthctl health [-c DIR] [--state-dir DIR] NAME\n");
                        return 0;
                default:
                        return 2;
                }
        if (optind != argc - 1) {
                fprintf(stderr, "berthctl health: expected one container NAME\n");
                return 2;
        }
        const char *name = argv[optind];
        if (geteuid() != 0) {
                fprintf(stderr, "berthctl health: must run as root\n");
                return 2;
        }
        struct daemon_dirs dd;
        bool have_daemon = (!conf || !state) && daemon_dirs(&dd) == 0;
        if (!conf)
                conf = have_daemon ? dd.conf : DEFAULT_CONF_DIR;
        if (!state)
                state = have_daemon ? dd.state : DEFAULT_STATE_DIR;
        struct found f;
        if (find_container("health", name, state, &f) < 0)
                return 2;
        struct spec_set set = { 0 };
        const struct spec_container *spec = NULL;
        if (find_spec("health", conf, name, &f, &set, &spec) < 0) {
                spec_set_done(&set);
                return 2;
        }
        if (!spec->health.enabled) {
                fprintf(stderr, "berthctl health: container '%s' has no health check\n", name);
                spec_set_done(&set);
                return 2;
        }
        struct health_target t = {
                .exec = { .name = name, .init_pid = f.rec.init_pid, .init_start = f.rec.init_start, .spec = spec,
                          .state_dir = f.state_dir },
        };
        if (f.rec.address[0])
                (void) inet_pton(AF_INET, f.rec.address, &t.address);
        _cleanup_(health_probe_freep) struct health_probe *p = NULL;
        int r = health_probe_start(&t, &spec->health, &p);
        if (r < 0) {
                fprintf(stderr, "berthctl health: cannot start the probe: %s\n", strerror(-r));
                spec_set_done(&set);
                return 2;
        }
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        usec_t timeout = spec->health.timeout;
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                usec_t el = (usec_t) (now.tv_sec - t0.tv_sec) * SPEC_USEC_PER_SEC +
                            (usec_t) ((now.tv_nsec - t0.tv_nsec) / 1000);
                if (el >= timeout) {
                        health_probe_kill(p);
                        break;
                }
                struct pollfd pf = { .fd = health_probe_fd(p), .events = POLLIN };
                int k = poll(&pf, 1, (int) ((timeout - el + 999) / 1000));
                if (k < 0 && errno != EINTR)
                        break;
                if (k > 0 && health_probe_handle(p, pf.revents) > 0)
                        break;
        }
        struct health_result res;
        if (health_probe_result(p, &res) < 0) {
                health_probe_kill(p);
                (void) health_probe_result(p, &res);
        }
        const char *kind = spec->health.command ? "command" : spec->health.http_path ? "http" : "tcp";
        printf("%s: %s probe %s in %llu ms", name, kind, res.ok ? "passed" : "failed",
               (unsigned long long) (res.duration / 1000));
        if (res.exit_status >= 0)
                printf(", exit status %d", res.exit_status);
        printf("\n");
        if (res.output[0])
                printf("%s%s", res.output, res.output[strlen(res.output) - 1] == '\n' ? "" : "\n");
        spec_set_done(&set);
        return res.ok ? 0 : 1;
}

static const struct verb verbs[] = {
        { "check", verb_check, "check [-c DIR] [--json]      validate the definitions in DIR" },
        { "run", verb_run, "run [-c DIR] [-t] NAME [-- CMD...]  run a container in the foreground" },
        { "plan", verb_plan, "plan [--json]                what a reload would do, and why" },
        { "reload", verb_reload, "reload [--json] [--force]    apply the definitions; waits until done" },
        { "ls", verb_ls, "ls [--json] [--names] [--all]  containers: state, pid, address, restarts, uptime" },
        { "inspect", verb_inspect, "inspect NAME                 one container as JSON" },
        { "start", verb_start, "start NAME...                start containers (and clear failed)" },
        { "stop", verb_stop, "stop NAME...                 stop containers; they stay stopped" },
        { "restart", verb_restart, "restart NAME...              stop and start containers" },
        { "destroy", verb_destroy, "destroy NAME                 delete an orphaned container's data" },
        { "kill", verb_kill, "kill [-s SIGNAL] NAME...     signal a container's init" },
        { "logs", verb_logs, "logs [-f] [-n N] [--raw] NAME  a container's output" },
        { "events", verb_events, "events [--json] [--since D] [-n N] [NAME]  the event stream" },
        { "template", verb_template, "template list|build|import|remove  the cached root file systems" },
        { "wait", verb_wait, "wait NAME                    until the container exits; its status" },
        { "exec", verb_exec, "exec [-t] [-u USER] [-e K=V] NAME -- CMD...  run a command in a running container" },
        { "freeze", verb_freeze, "freeze NAME                  stop every process of a container" },
        { "unfreeze", verb_unfreeze, "unfreeze NAME                let a frozen container run again" },
        { "stats", verb_stats, "stats [--json] NAME          memory, cpu, pids, io, oom kills" },
        { "top", verb_top, "top NAME                     the container's processes" },
        { "health", verb_health, "health [-c DIR] NAME         run the container's health probe once" },
};

static void usage(FILE *f)
{
        fprintf(f, "usage: berthctl VERB [OPTIONS] [ARGS]\n\nverbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n", verbs[i].usage);
}

int main(int argc, char **argv)
{
        log_set_ident("berthctl");
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("berthctl %s\n", BERTH_VERSION);
                return 0;
        }
        if (streq(argv[1], "run") && !getenv("BERTH_TEMPLATES")) {
                _cleanup_free_ char *t = template_scripts_dir();
                if (t)
                        setenv("BERTH_TEMPLATES", t, 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        int r = verbs[i].fn(argc - 1, argv + 1);
                        json_finish(r);
                        return r;
                }
        fprintf(stderr, "berthctl: unknown verb '%s' (see berthctl --help)\n", argv[1]);
        return 2;
}
