/* berthctl: the operator's command line. Argument handling only; the work
 * is done in libberth. */
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "config.h"
#include "control.h"
#include "parse.h"
#include "log.h"
#include "runtime.h"
#include "security.h"
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

static void print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

#define CHECK_USAGE "usage: berthctl check [-c|--conf-dir DIR] [--json]"

static int verb_check(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *dir = DEFAULT_CONF_DIR;
        bool json = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        dir = optarg;
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
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dir, &set, &d);
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

/* Copies between the caller's terminal and the container's pty, forwards
 * signals to the container's init, until the init exits. */
static int foreground_loop(struct runtime_container *rc, int sfd)
{
        bool tty = rc->pty_master >= 0;
        struct termios saved;
        bool raw = false;
        if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(rc->pty_master, TIOCSWINSZ, &ws);
        }
        int status = -1;
        bool stdin_open = tty;
        while (status < 0) {
                struct pollfd pf[4] = {
                        { .fd = rc->pidfd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = tty ? rc->pty_master : -1, .events = POLLIN },
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
                                                (void) ioctl(rc->pty_master, TIOCSWINSZ, &ws);
                                } else if (si.ssi_signo != SIGCHLD)
                                        (void) runtime_signal(rc, (int) si.ssi_signo);
                        }
                }
                if (tty && (pf[2].revents & (POLLIN | POLLHUP))) {
                        char buf[4096];
                        ssize_t k = read(rc->pty_master, buf, sizeof buf);
                        if (k > 0)
                                (void) !write(STDOUT_FILENO, buf, (size_t) k);
                }
                if (stdin_open && (pf[3].revents & (POLLIN | POLLHUP))) {
                        char buf[4096];
                        ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
                        if (k > 0)
                                (void) !write(rc->pty_master, buf, (size_t) k);
                        else
                                stdin_open = false;
                }
                if (pf[0].revents & POLLIN) {
                        int st;
                        if (waitpid(rc->pid, &st, WNOHANG) == rc->pid)
                                status = spawn_exit_status(st);
                }
        }
        if (tty) { /* drain what the container wrote last */
                char buf[4096];
                ssize_t k;
                (void) fcntl(rc->pty_master, F_SETFL, O_NONBLOCK);
                while ((k = read(rc->pty_master, buf, sizeof buf)) > 0)
                        (void) !write(STDOUT_FILENO, buf, (size_t) k);
        }
        if (raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return status < 0 ? SPAWN_EXIT_SETUP : status;
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
        const char *dir = DEFAULT_CONF_DIR, *state = DEFAULT_STATE_DIR, *run = DEFAULT_RUN_DIR;
        int tty = -1, c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:th", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        dir = optarg;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case 'R':
                        run = optarg;
                        break;
                case 't':
                        tty = 1;
                        break;
                case 'T':
                        tty = 0;
                        break;
                case 'h':
                        printf("usage: berthctl run [-c DIR] [--state-dir DIR] [-t|--no-tty] NAME [-- CMD ARGS...]\n");
                        return 0;
                default:
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "berthctl run: expected a container NAME\n");
                return 2;
        }
        const char *name = argv[optind++];
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        char **cmd = optind < argc ? argv + optind : NULL;
        if (geteuid() != 0) {
                fprintf(stderr, "berthctl run: must run as root\n");
                return SPAWN_EXIT_SETUP;
        }
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
        if (spec->disk_quota)
                fprintf(stderr, "berthctl: warning: container '%s': disk-quota is not enforced by this version\n", name);

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
        char err[1024];
        int r = runtime_start(&set, spec, &o, &rc, &exit_code, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "berthctl: %s\n", err);
                spec_set_done(&set);
                if (sfd >= 0)
                        close(sfd);
                return exit_code;
        }
        int status = foreground_loop(rc, sfd);
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

static const char *opt_socket;
static bool opt_json;

/* Common options of daemon verbs: --socket PATH, --json. Returns the index
 * of the first argument, or -1 after printing usage. */
static int daemon_opts(int argc, char **argv, const char *usage_line)
{
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        opt_socket = optarg;
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
        const char *path = opt_socket ? opt_socket : socket_path();
        int r = control_call(path, method, params, more, cb, userdata, &error, &ep);
        json_object_put(params);
        if (r == -EREMOTEIO) {
                json_object *errs, *reason, *name;
                if (error && streq(error, "io.berth.InvalidDefinitions") && ep &&
                    json_object_object_get_ex(ep, "errors", &errs)) {
                        for (size_t i = 0; i < json_object_array_length(errs); i++)
                                fprintf(stderr, "%s\n", json_object_get_string(json_object_array_get_idx(errs, i)));
                        fprintf(stderr, "berthctl: refused: %zu error%s in the definitions; nothing was changed\n",
                                json_object_array_length(errs), json_object_array_length(errs) == 1 ? "" : "s");
                } else if (error && streq(error, "io.berth.NoSuchContainer") && ep &&
                           json_object_object_get_ex(ep, "name", &name))
                        fprintf(stderr, "berthctl: no container '%s'\n", json_object_get_string(name));
                else if (ep && json_object_object_get_ex(ep, "reason", &reason))
                        fprintf(stderr, "berthctl: %s: %s\n", error, json_object_get_string(reason));
                else
                        fprintf(stderr, "berthctl: %s\n", error ? error : "error");
                free(error);
                json_object_put(ep);
                return 1;
        }
        free(error);
        json_object_put(ep);
        if (r < 0) {
                fprintf(stderr, "berthctl: cannot talk to berthd at %s: %s\n", path, strerror(-r));
                return 1;
        }
        return 0;
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
        return 0;
}

static int verb_plan(int argc, char **argv)
{
        int i = daemon_opts(argc, argv, "plan [--json] [--socket PATH]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        return call("io.berth.Manager.Plan", NULL, false, print_plan, NULL);
}

static int verb_reload(int argc, char **argv)
{
        int i = daemon_opts(argc, argv, "reload [--json] [--socket PATH]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        json_object *p = json_object_new_object();
        json_object_object_add(p, "wait", json_object_new_boolean(1));
        return call("io.berth.Manager.Reload", p, false, print_plan, NULL);
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

static bool opt_names;

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
                        printf("%s\n", jstr(json_object_array_get_idx(arr, i), "name"));
                return 0;
        }
        printf("%-20s %-9s %-8s %-7s %-15s %-8s %s\n", "NAME", "STATE", "HEALTH", "PID", "ADDRESS", "RESTARTS", "UPTIME");
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *c = json_object_array_get_idx(arr, i);
                char up[32] = "-", pid[16] = "-";
                if (streq(jstr(c, "state"), "running")) {
                        fmt_uptime((uint64_t) jint(c, "uptime_sec"), up, sizeof up);
                        snprintf(pid, sizeof pid, "%lld", (long long) jint(c, "pid"));
                }
                printf("%-20s %-9s %-8s %-7s %-15s %-8lld %s%s%s\n", jstr(c, "name"), jstr(c, "state"), jstr(c, "health"), pid,
                       *jstr(c, "address") ? jstr(c, "address") : "-", (long long) jint(c, "restarts"), up,
                       *jstr(c, "error") ? "  " : "", jstr(c, "error"));
        }
        return 0;
}

static int verb_ls(int argc, char **argv)
{
        /* --names: one name a line, for shell completion */
        for (int k = 1; k < argc; k++)
                if (streq(argv[k], "--names")) {
                        opt_names = true;
                        for (int j = k; j < argc - 1; j++)
                                argv[j] = argv[j + 1];
                        argc--;
                        break;
                }
        int i = daemon_opts(argc, argv, "ls [--json] [--names] [--socket PATH]");
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

static int verb_inspect(int argc, char **argv)
{
        int i = daemon_opts(argc, argv, "inspect [--socket PATH] NAME");
        if (i < 0)
                return i == -2 ? 0 : 2;
        if (i != argc - 1) {
                fprintf(stderr, "berthctl inspect: expected one container NAME\n");
                return 2;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(argv[i]));
        return call("io.berth.Container.Inspect", p, false, print_obj, NULL);
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
        return call(method, p, false, NULL, NULL);
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
        int i = daemon_opts(argc, argv, "events [--json] [--socket PATH] [NAME]");
        if (i < 0)
                return i == -2 ? 0 : 2;
        struct events_filter f = { .name = i < argc ? argv[i] : NULL };
        return call("io.berth.Manager.Events", NULL, true, print_event, &f);
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
        const char *path = opt_socket ? opt_socket : socket_path();
        int r = control_call(path, "io.berth.Manager.Events", NULL, true, print_event, &f, &error, NULL);
        free(error);
        if (f.done)
                return f.status;
        fprintf(stderr, "berthctl wait: lost berthd: %s\n", strerror(-r));
        return 1;
}

static int got_dir(json_object *p, void *userdata)
{
        snprintf(userdata, 4096, "%s", jstr(p, "dir"));
        return 0;
}

static int verb_logs(int argc, char **argv)
{
        bool follow = false;
        long lines = -1;
        int k = 1;
        for (; k < argc; k++) {
                if (streq(argv[k], "-f") || streq(argv[k], "--follow"))
                        follow = true;
                else if ((streq(argv[k], "-n") || streq(argv[k], "--lines")) && k + 1 < argc)
                        lines = strtol(argv[++k], NULL, 10);
                else if (streq(argv[k], "--state-dir") && k + 1 < argc)
                        setenv("BERTH_STATE_DIR", argv[++k], 1);
                else if (streq(argv[k], "-h") || streq(argv[k], "--help")) {
                        printf("usage: berthctl logs [-f] [-n N] [--state-dir DIR] NAME\n");
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
        (void) control_call(opt_socket ? opt_socket : socket_path(), "io.berth.Container.Inspect", p, false, got_dir, dir,
                            &error, NULL);
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
        if (what && streq(what, "list") && rest == 0) {
                char **names = NULL;
                r = template_list(state, &names);
                if (r < 0) {
                        fprintf(stderr, "berthctl template list: %s\n", strerror(-r));
                        return 1;
                }
                for (size_t i = 0; names && names[i]; i++)
                        printf("%s\n", names[i]);
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
        if (what && streq(what, "import") && rest == 2) {
                if (!name_is_valid(args[0])) {
                        fprintf(stderr, "berthctl template import: '%s' is not a valid name ([a-z0-9][a-z0-9_.-]{0,62})\n",
                                args[0]);
                        return 2;
                }
                r = template_import(state, args[0], args[1]);
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
                printf("usage: berthctl template [--state-dir DIR] list | build NAME | import NAME FILE|DIR | remove NAME\n");
                return 0;
        }
        fprintf(stderr, "usage: berthctl template [--state-dir DIR] list | build NAME | import NAME FILE|DIR | remove NAME\n");
        return 2;
}

static const struct verb verbs[] = {
        { "check", verb_check, "check [-c DIR] [--json]      validate the definitions in DIR" },
        { "run", verb_run, "run [-c DIR] [-t] NAME [-- CMD...]  run a container in the foreground" },
        { "plan", verb_plan, "plan [--json]                what a reload would do, and why" },
        { "reload", verb_reload, "reload [--json]              apply the definitions; waits until done" },
        { "ls", verb_ls, "ls [--json] [--names]        containers: state, pid, address, restarts, uptime" },
        { "inspect", verb_inspect, "inspect NAME                 one container as JSON" },
        { "start", verb_start, "start NAME...                start containers (and clear failed)" },
        { "stop", verb_stop, "stop NAME...                 stop containers; they stay stopped" },
        { "restart", verb_restart, "restart NAME...              stop and start containers" },
        { "kill", verb_kill, "kill [-s SIGNAL] NAME...     signal a container's init" },
        { "logs", verb_logs, "logs [-f] [-n N] NAME        a container's output" },
        { "events", verb_events, "events [--json] [NAME]       the live event stream" },
        { "template", verb_template, "template list|build|import|remove  the cached root file systems" },
        { "wait", verb_wait, "wait NAME                    until the container exits; its status" },
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
        /* Whatever starts a container runs from a sealed copy of this binary,
         * so that nothing inside can ever write to the host's (CVE-2019-5736). */
        if (streq(argv[1], "run") && !security_exe_is_sealed_copy()) {
                int fd;
                if (security_exe_sealed_memfd(&fd) == 0) {
                        extern char **environ;
                        fexecve(fd, argv, environ);
                        close(fd);
                }
                fprintf(stderr, "berthctl: cannot re-execute from a sealed copy: %m\n");
                return SPAWN_EXIT_SETUP;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "berthctl: unknown verb '%s' (see berthctl --help)\n", argv[1]);
        return 2;
}
