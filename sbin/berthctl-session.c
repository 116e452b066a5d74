/* berthctl's verbs that run a process and stay with it: run (a container in
 * the foreground, without berthd), exec (a command in a running container)
 * and health (its probe, once). run and exec share one session: the
 * signals berthctl receives go to the process, the terminal is proxied to
 * its pty, and its exit status is berthctl's. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "berthctl.h"
#include "cgroup.h"
#include "config.h"
#include "exec.h"
#include "health.h"
#include "runtime.h"
#include "scope.h"

/* ---- the session ---------------------------------------------------------------------------- */

/* Blocks the signals a session forwards and returns a signalfd for them
 * (-1 when none could be made: the process then gets no signals). */
static int session_signals(void)
{
        static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        sigset_t mask;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                sigaddset(&mask, fwd[i]);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        return signalfd(-1, &mask, SFD_CLOEXEC);
}

static void signal_process(pid_t pid, int pidfd, int sig)
{
        if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                (void) kill(pid, sig);
}

static void copy_winsize(int pty_master)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(pty_master, TIOCSWINSZ, &ws);
}

/* Copies between the caller's terminal and the process's pty, forwards
 * signals to the process (a container's init, an exec'd command), until
 * it exits; returns its status shell style. The second SIGINT or SIGTERM
 * is not forwarded: the process is killed and berthctl leaves at once (the
 * operator insists, and a process may ignore or never see the first). */
static int session_proxy(pid_t pid, int pidfd, int pty_master, int sfd)
{
        bool tty = pty_master >= 0;
        struct termios saved;
        bool raw = false;
        if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                copy_winsize(pty_master);
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
                struct signalfd_siginfo si;
                if ((pf[1].revents & POLLIN) && read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                        if (si.ssi_signo == SIGWINCH && tty)
                                copy_winsize(pty_master);
                        else if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) && ++interrupts >= 2) {
                                signal_process(pid, pidfd, SIGKILL);
                                status = 128 + (int) si.ssi_signo;
                                break;
                        } else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGPIPE)
                                signal_process(pid, pidfd, (int) si.ssi_signo);
                }
                char buf[4096];
                if (tty && (pf[2].revents & (POLLIN | POLLHUP))) {
                        ssize_t k = read(pty_master, buf, sizeof buf);
                        if (k > 0)
                                (void) !write(STDOUT_FILENO, buf, (size_t) k);
                }
                if (stdin_open && (pf[3].revents & (POLLIN | POLLHUP))) {
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

/* ---- definitions and running containers -------------------------------------------------------- */

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

static int find_container_full(const char *verb, const char *name, const char *state_dir, struct found *f,
                               bool quiet)
{
        if (!name_is_valid(name)) {
                if (!quiet)
                        fail("berthctl %s: '%s' is not a container name", verb, name);
                return -EINVAL;
        }
        *f = (struct found){ 0 };
        (void) daemon_container_dir(name, f->dir);
        size_t suffix = strlen("/containers/") + strlen(name);
        if (f->dir[0] && strlen(f->dir) > suffix) {
                snprintf(f->state_dir, sizeof f->state_dir, "%.*s", (int) (strlen(f->dir) - suffix), f->dir);
        } else {
                snprintf(f->state_dir, sizeof f->state_dir, "%s", state_dir);
                snprintf(f->dir, sizeof f->dir, "%s/containers/%s", state_dir, name);
        }
        int r = state_read(f->dir, &f->rec);
        if (r < 0) {
                if (!quiet)
                        fail("berthctl %s: container '%s' is not running (no state record in %s)", verb, name, f->dir);
                return r;
        }
        _cleanup_close_ int fd = -1;
        if (state_pidfd_verified(f->rec.init_pid, f->rec.init_start, &fd) < 0) {
                if (!quiet)
                        fail("berthctl %s: container '%s' is not running", verb, name);
                return -ESRCH;
        }
        return 0;
}

int find_container(const char *verb, const char *name, const char *state_dir, struct found *f)
{
        return find_container_full(verb, name, state_dir, f, false);
}

int find_container_quiet(const char *name, const char *state_dir, struct found *f)
{
        return find_container_full("", name, state_dir, f, true);
}

/* The definition of a running container, from the configuration directory. */
static int find_spec(const char *verb, const char *conf, const char *name, const struct found *f,
                     struct spec_set *set, const struct spec_container **ret)
{
        /* berthd's --default-idmap is part of what the container was started
         * with: without it here the definition would read as another one. */
        struct daemon_idmap dm;
        if (!getenv(CONFIG_DEFAULT_IDMAP_ENV) && daemon_container_idmap(name, &dm) == 0 && dm.answered && dm.idmap &&
            dm.is_default) {
                char v[32];
                if (dm.is_auto)
                        snprintf(v, sizeof v, "auto");
                else
                        snprintf(v, sizeof v, "%u:%u", dm.start, dm.count);
                if (dm.is_auto || dm.count > 0)
                        (void) setenv(CONFIG_DEFAULT_IDMAP_ENV, v, 1);
        }
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

/* ---- run ------------------------------------------------------------------------------------- */

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

int verb_run(struct ctl_args *a)
{
        /* Without berthd: its own defaults, never a daemon's directories. */
        const char *dir = a->conf ? a->conf : DEFAULT_CONF_DIR, *state = a->state ? a->state : DEFAULT_STATE_DIR;
        const char *name = a->argv[0];
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
        int tty = a->tty >= 0 ? a->tty : isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        if (run_enter_scope(name) < 0) {
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }
        _cleanup_close_ int sfd = session_signals();
        struct runtime_opts o = {
                .state_dir = state,
                .run_dir = DEFAULT_RUN_DIR,
                .command = a->argc > 1 ? a->argv + 1 : NULL,
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
                return exit_code;
        }
        int status = session_proxy(rc->pid, rc->pidfd, rc->pty_master, sfd);
        runtime_destroy(rc);
        spec_set_done(&set);
        return status;
}

/* ---- exec ------------------------------------------------------------------------------------ */

int verb_exec(struct ctl_args *a)
{
        const char *conf = a->conf, *state = a->state;
        resolve_dirs(&conf, &state);
        const char *name = a->argv[0];
        struct found f;
        if (find_container("exec", name, state, &f) < 0)
                return SPAWN_EXIT_SETUP;
        struct spec_set set = { 0 };
        const struct spec_container *spec = NULL;
        if (find_spec("exec", conf, name, &f, &set, &spec) < 0) {
                spec_set_done(&set);
                return SPAWN_EXIT_SETUP;
        }
        _cleanup_close_ int sfd = session_signals();
        struct exec_target t = { .name = name, .init_pid = f.rec.init_pid, .init_start = f.rec.init_start,
                                 .spec = spec, .state_dir = f.state_dir };
        int pty = -1;
        struct exec_opts o = { .tty = a->tty > 0, .ret_pty_master = &pty, .user = a->user, .signal_fd = &sfd,
                               .workdir = a->workdir, .env = a->env,
                               .stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO } };
        pid_t pid;
        int pidfd;
        struct error err = { 0 };
        int r = exec_spawn(&t, a->argv + 1, NULL, &o, &pid, &pidfd, &err);
        spec_set_done(&set);
        if (r < 0) {
                fprintf(stderr, "berthctl exec: %s\n", error_message(&err));
                return exec_exit_code(r);
        }
        int status = session_proxy(pid, pidfd, pty, sfd);
        if (pidfd >= 0)
                close(pidfd);
        if (pty >= 0)
                close(pty);
        return status;
}

/* ---- health ---------------------------------------------------------------------------------- */

/* Exit status: 0 passed, 1 failed, 2 when there is no probe to run (the
 * container does not run, has no health check, its definition is gone). */
int verb_health(struct ctl_args *a)
{
        const char *conf = a->conf, *state = a->state;
        resolve_dirs(&conf, &state);
        const char *name = a->argv[0];
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
