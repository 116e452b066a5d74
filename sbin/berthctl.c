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

#include "config.h"
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
                        printf("usage: berthctl check [-c|--conf-dir DIR] [--json]\n");
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "berthctl check: unexpected argument '%s'\n", argv[optind]);
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

static const struct verb verbs[] = {
        { "check", verb_check, "check [-c DIR] [--json]      validate the definitions in DIR" },
        { "run", verb_run, "run [-c DIR] [-t] NAME [-- CMD...]  run a container in the foreground" },
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
