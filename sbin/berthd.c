/* berthd: the supervisor daemon. Argument handling and the event loop's
 * signals only; the work is lib/supervise.c's. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "cgroup.h"
#include "config.h"
#include "idmap.h"
#include "log.h"
#include "metrics_server.h"
#include "runtime.h"
#include "scope.h"
#include "security.h"
#include "template.h"
#include "tstore.h"
#include "supervise.h"
#include "util.h"

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void) s;
        (void) si;
        manager_shutdown(userdata);
        return 0;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void) s;
        (void) si;
        (void) manager_reload(userdata);
        return 0;
}

/* SIGUSR2 (systemd's RestartKillSignal=): leave at once, containers and
 * their monitors keep running for the next berthd to re-adopt. */
static int on_detach(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void) si;
        (void) userdata;
        log_info("detaching: the containers keep running");
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: berthd [-c|--conf-dir DIR] [--state-dir DIR] [--run-dir DIR] [--foreground]\n"
                   "              [--cgroup-manager auto|systemd|cgroupfs] [--parallel-starts N]\n"
                   "              [--idmap-pool START:COUNT] [--default-idmap auto|HOSTID:COUNT|none]\n"
                   "              [--log-driver file|journald] [--metrics-listen ADDRESS:PORT]\n"
                   "              [--stateful-stop]\n"
                   "              [--log-level error|warning|notice|info|debug]\n"
                   "       berthd -h|--help | --version\n");
}

/* berth-monitor and berth-init live beside berthd. */
static void find_helper(const char *env, const char *name)
{
        if (getenv(env))
                return;
        char dir[PATH_MAX], path[PATH_MAX + 64];
        if (exe_dir(dir, sizeof dir) < 0)
                return;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, X_OK) == 0)
                setenv(env, path, 1);
}

/* Where containers' cgroups go. "systemd": a transient scope each (cgroup
 * v2 with systemd as the service manager), so that berthd's own cgroup
 * stays a leaf systemd can restart it in. "cgroupfs": below berthd's own
 * cgroup (v1 hosts, hosts without systemd). "auto": systemd when it can. */
static int choose_cgroup_manager(const char *want, struct manager_options *o, char **own_unit)
{
        if (streq(want, "cgroupfs"))
                return 0;
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *cgm = NULL;
        bool v2 = cgroup_open_manager(&cgm) >= 0 && cgroup_manager_version(cgm) == 2;
        bool sd = v2 && scope_available();
        if (!sd) {
                if (streq(want, "systemd")) {
                        log_error("--cgroup-manager=systemd needs cgroup v2 and systemd as the service manager "
                                  "(this host has %s)", v2 ? "no systemd answering on D-Bus" : "cgroup v1");
                        return -EOPNOTSUPP;
                }
                return 0;
        }
        o->scope_slice = "machine.slice";
        char *unit = NULL;
        size_t ul = 0;
        if (sd_pid_get_unit(0, &unit) >= 0 && (ul = strlen(unit)) > 8 && streq(unit + ul - 8, ".service"))
                o->scope_before = *own_unit = unit;
        else
                free(unit);
        log_info("containers get systemd scopes in %s%s%s", o->scope_slice, o->scope_before ? ", stopped after " : "",
                 o->scope_before ? o->scope_before : "");
        return 0;
}

/* *path, when relative, becomes CWD/path (kept in *buf). -errno. */
static int absolute_dir(const char **path, char **buf)
{
        if (!*path || (*path)[0] == '/')
                return 0;
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        *buf = strdup_printf("%s/%s", cwd, *path);
        if (!*buf) {
                errno = ENOMEM;
                return -ENOMEM;
        }
        *path = *buf;
        return 0;
}

static void init_unsharep(char **p)
{
        if (*p)
                runtime_init_unshare(*p);
        free(*p);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' }, { "state-dir", required_argument, NULL, 'S' },
                { "run-dir", required_argument, NULL, 'R' },  { "foreground", no_argument, NULL, 'f' },
                { "log-level", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },        { "cgroup-manager", required_argument, NULL, 'G' },
                { "parallel-starts", required_argument, NULL, 'P' },
                { "idmap-pool", required_argument, NULL, 'I' },
                { "default-idmap", required_argument, NULL, 'U' },
                { "log-driver", required_argument, NULL, 'D' },
                { "metrics-listen", required_argument, NULL, 'M' },
                { "stateful-stop", no_argument, NULL, 'T' },
                {},
        };
        struct manager_options o = {
                .conf_dir = "/etc/containers.d",
                .state_dir = "/var/lib/berth",
                .run_dir = "/run/berth",
                .init_exe_fd = -1,
        };
        const char *cgroup_manager = "auto";
        const char *metrics_addr = NULL;
        int c;
        log_set_ident("berthd");
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        o.conf_dir = optarg;
                        break;
                case 'S':
                        o.state_dir = optarg;
                        break;
                case 'R':
                        o.run_dir = optarg;
                        break;
                case 'G':
                        if (!streq(optarg, "auto") && !streq(optarg, "systemd") && !streq(optarg, "cgroupfs")) {
                                fprintf(stderr, "berthd: --cgroup-manager: '%s' is not auto, systemd or cgroupfs\n",
                                        optarg);
                                return 2;
                        }
                        cgroup_manager = optarg;
                        break;
                case 'P': {
                        char *end = NULL;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || !end || *end || end == optarg || optarg[0] == '-' || v < 1 || v > 1024) {
                                fprintf(stderr, "berthd: --parallel-starts: '%s' is not a number from 1 to 1024\n",
                                        optarg);
                                return 2;
                        }
                        o.max_spawners = (unsigned) v;
                        break;
                }
                case 'I': {
                        /* The spawners (runtime_start) read it from the environment. */
                        struct idmap_pool pool;
                        if (idmap_pool_parse(optarg, &pool) < 0) {
                                fprintf(stderr,
                                        "berthd: --idmap-pool: '%s' is not START:COUNT (START at least 1, COUNT at "
                                        "least 65536, ending below 4294967295)\n",
                                        optarg);
                                return 2;
                        }
                        setenv("BERTH_IDMAP_POOL", optarg, 1);
                        break;
                }
                case 'U': {
                        /* config_load_dir reads it, here and in the spawners. */
                        struct spec_container probe = { 0 };
                        char msg[160];
                        if (config_idmap_parse(optarg, &probe, msg, sizeof msg) < 0) {
                                fprintf(stderr, "berthd: --default-idmap: %s\n", msg);
                                return 2;
                        }
                        setenv(CONFIG_DEFAULT_IDMAP_ENV, optarg, 1);
                        break;
                }
                case 'T':
                        /* containers without a stateful-stop key are checkpointed at shutdown */
                        o.stateful_stop = true;
                        break;
                case 'D':
                        if (!streq(optarg, "file") && !streq(optarg, "journald")) {
                                fprintf(stderr, "berthd: --log-driver: '%s' is not file or journald\n", optarg);
                                return 2;
                        }
                        o.log_journald = streq(optarg, "journald");
                        break;
                case 'M': {
                        struct sockaddr_storage ss;
                        socklen_t len;
                        struct error merr = { 0 };
                        if (metrics_listen_parse(optarg, &ss, &len, &merr) < 0) {
                                fprintf(stderr, "berthd: --metrics-listen: %s\n", error_message(&merr));
                                return 2;
                        }
                        metrics_addr = optarg;
                        break;
                }
                case 'f': /* berthd never forks away: systemd and make run both want that */
                        log_set_journal(false);
                        break;
                case 'l': {
                        int l = log_level_from_string(optarg);
                        if (l < 0) {
                                fprintf(stderr, "berthd: --log-level: '%s' is not error, warning, notice, info or debug\n",
                                        optarg);
                                return 2;
                        }
                        log_set_level(l);
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("berthd %s\n", BERTH_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "berthd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "berthd: must run as root\n");
                return 1;
        }
        /* Test-only crash points (docs/design.md): read once, and never
         * passed on to a spawner, monitor or container. Only whoever sets
         * root's daemon environment can set it, who can kill berthd anyway. */
        char cerr[256];
        if (crashpoint_parse(getenv("BERTH_CRASH_AT"), &o.crash, cerr, sizeof cerr) < 0) {
                fprintf(stderr, "berthd: %s\n", cerr);
                return 1;
        }
        (void) unsetenv("BERTH_CRASH_AT");
        /* Relative directories would mean something else to the monitors
         * and spawners, which start elsewhere: made absolute once, here. */
        _cleanup_free_ char *abs_conf = NULL, *abs_state = NULL, *abs_run = NULL;
        if (absolute_dir(&o.conf_dir, &abs_conf) < 0 || absolute_dir(&o.state_dir, &abs_state) < 0 ||
            absolute_dir(&o.run_dir, &abs_run) < 0) {
                fprintf(stderr, "berthd: cannot make the directories absolute: %s\n", strerror(errno));
                return 1;
        }
        find_helper("BERTH_MONITOR", "berth-monitor");
        find_helper("BERTH_INIT", "berth-init");
        /* The template scripts beside a source build, found through /proc/self/exe. */
        if (!getenv("BERTH_TEMPLATES")) {
                _cleanup_free_ char *t = template_scripts_dir();
                if (t)
                        setenv("BERTH_TEMPLATES", t, 1);
        }
        /* Two fds per running container (monitor pidfd, init pidfd) and one
         * per client: take the whole hard limit, not the soft 1024 default. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                o.nofile_soft = rl.rlim_cur; /* what containers get */
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        /* Taken before anything else is set up: a port in use stops berthd
         * with nothing changed. */
        _cleanup_close_ int metrics_fd = -1;
        if (metrics_addr) {
                struct error merr = { 0 };
                if (metrics_listen(metrics_addr, &metrics_fd, &merr) < 0) {
                        log_error("--metrics-listen: %s", error_message(&merr));
                        return 1;
                }
        }
        _cleanup_free_ char *own_unit = NULL;
        if (choose_cgroup_manager(cgroup_manager, &o, &own_unit) < 0)
                return 1;
        const char *mon = getenv("BERTH_MONITOR");
        o.monitor_path = mon ? mon : BERTH_SBINDIR "/berth-monitor";
        umask(0022);
        /* One sealed copy of berth-init for every container: its pages are
         * shared, not one private copy per container. */
        struct error ierr = { 0 };
        _cleanup_close_ int init_exe = -1;
        if (runtime_init_exe(&init_exe, &ierr) < 0) {
                log_error("%s", error_message(&ierr));
                return 1;
        }
        o.init_exe_fd = init_exe;
        /* And one read-only file of it that the containers' inits run
         * from, which CRIU can restore (runtime.h); without it they run
         * from the memfd and cannot be checkpointed. */
        _cleanup_(init_unsharep) char *init_file = NULL;
        if (runtime_init_share(o.run_dir, &init_file, &ierr) < 0) {
                log_warning("%s; containers with init = true run from a memory copy of berth-init and cannot be "
                            "checkpointed", error_message(&ierr));
                init_file = NULL;
        }
        o.init_file = init_file;

        sd_event *e = NULL;
        struct manager *m = NULL;
        int r = sd_event_default(&e);
        if (r < 0)
                return log_error_errno(r, "cannot create the event loop: %m"), 1;
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR2);
        sigaddset(&ss, SIGCHLD);
        sigaddset(&ss, SIGPIPE);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        r = manager_new(e, &o, &m);
        if (r < 0) {
                log_error_errno(r, "cannot set up in %s and %s: %m", o.state_dir, o.run_dir);
                sd_event_unref(e);
                return 1;
        }
        /* What a crash left in the template store (an interrupted import
         * or remove); skipped when a berthctl holds the store right now. */
        r = tstore_recover(o.state_dir);
        if (r > 0)
                log_info("template store: removed %d leftovers of an interrupted import or remove", r);
        if (metrics_fd >= 0) {
                struct error merr = { 0 };
                r = manager_metrics_serve(m, TAKE_FD(metrics_fd), &merr);
                if (r < 0) {
                        log_error("--metrics-listen: %s", error_message(&merr));
                        manager_free(m);
                        sd_event_unref(e);
                        return 1;
                }
                log_info("metrics on http://%s/metrics", metrics_addr);
        }
        (void) sd_event_add_signal(e, NULL, SIGTERM, on_term, m);
        (void) sd_event_add_signal(e, NULL, SIGINT, on_term, m);
        (void) sd_event_add_signal(e, NULL, SIGHUP, on_hup, m);
        (void) sd_event_add_signal(e, NULL, SIGUSR2, on_detach, NULL);
        (void) sd_event_set_watchdog(e, true);
        log_info("berthd %s: definitions in %s, state in %s, control socket in %s", BERTH_VERSION, o.conf_dir,
                 o.state_dir, o.run_dir);
        r = manager_startup(m);
        if (r < 0) {
                log_error("refusing to start: the definitions in %s are invalid", o.conf_dir);
                manager_free(m);
                sd_event_unref(e);
                return 1;
        }
        r = sd_event_loop(e);
        manager_free(m);
        sd_event_unref(e);
        log_info("berthd stopped");
        return r < 0 ? 1 : 0;
}
