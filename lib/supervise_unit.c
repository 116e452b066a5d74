/* A unit's state machine: start (spawner -> monitor), running, stop with
 * its timeout and escalation, exit with the restart policy and back-off.
 * Transitions only change the unit and ask for the scheduler
 * (manager_dispatch_soon); what starts or stops next is decided there. */

#include "supervise_internal.h"
#include "hooks.h"
#include "logjournal.h"
#include "restart.h"
#include "runtime_files.h"
#include "snapshot.h"

/* ---- intent -------------------------------------------------------------------------- */

static enum state_phase phase_of(const struct unit *u)
{
        if (u->pending_start)
                return STATE_PHASE_STARTING;
        switch (u->state) {
        case U_STARTING:
                return STATE_PHASE_STARTING;
        case U_RUNNING:
                return STATE_PHASE_RUNNING;
        case U_STOPPING:
                return STATE_PHASE_STOPPING;
        case U_BACKOFF:
                return STATE_PHASE_BACKOFF;
        case U_FAILED:
                return STATE_PHASE_FAILED;
        case U_STOPPED:
                break;
        }
        return u->phase == STATE_PHASE_EXITED || u->phase == STATE_PHASE_ENDED ? u->phase : STATE_PHASE_STOPPED;
}

void unit_save_intent_phase(struct unit *u, enum state_phase phase)
{
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        if (!dir)
                return;
        /* Before its first start the directory may not exist: a start makes
         * it, and nothing else needs remembering for what never ran. */
        if (phase == STATE_PHASE_STARTING) {
                if (mkdir(dir, 0700) == 0)
                        u->intent_synced = false; /* a new directory: nothing of it is on disk yet */
                else if (errno != EEXIST)
                        return;
        }
        struct state_intent i = { .phase = phase,
                                  .operator_stopped = u->operator_stopped && !u->orphaned,
                                  .restart_after_stop = u->restart_after_stop,
                                  .last_status = u->last_status,
                                  .last_oom = u->exit_oom,
                                  .backoff_until_usec = phase == STATE_PHASE_BACKOFF ? u->backoff_until_rt : 0,
                                  .restarts = u->restarts,
                                  .consecutive = u->consecutive };
        if (u->m->boot_id[0])
                snprintf(i.boot_id, sizeof i.boot_id, "%s", u->m->boot_id);
        else
                (void) state_boot_id(i.boot_id);
        size_t n = u->n_restart_times < STATE_RESTART_TIMES_MAX ? u->n_restart_times : STATE_RESTART_TIMES_MAX;
        memcpy(i.restart_times, u->restart_times + (u->n_restart_times - n), n * sizeof(uint64_t));
        i.n_restart_times = n;
        snprintf(i.last_error, sizeof i.last_error, "%.255s", u->last_error);
        u->phase = phase;
        /* While berthd shuts down, a record is not synced (1,000 stops
         * would wait for 3,000 fsyncs in turn): a crash of berthd keeps
         * what it wrote (the page cache), and after a power loss the record
         * from before the shutdown leads to the same start at boot.
         * Nor is one synced whose fields a berthd of another boot reads
         * (intent_load: operator_stopped, restarts, last_status, last_error;
         * the phase and the rest count only within the boot, where the page
         * cache holds them) are those of the last synced one: a start's
         * "running" after its "starting" is no fsync on the loop. */
        uint64_t h = fnv1a64(FNV1A64_INIT, &i.operator_stopped, sizeof i.operator_stopped);
        h = fnv1a64(h, &i.restarts, sizeof i.restarts);
        h = fnv1a64(h, &i.last_status, sizeof i.last_status);
        h = fnv1a64(h, i.last_error, strlen(i.last_error));
        h = fnv1a64(h, i.boot_id, strlen(i.boot_id));
        bool durable = !u->m->shutting_down && !(u->intent_synced && u->intent_synced_hash == h);
        int r = state_write_intent_mode(dir, &i, durable);
        if (r < 0)
                u->intent_synced = false;
        else if (durable) {
                u->intent_synced = true;
                u->intent_synced_hash = h;
        }
        if (r < 0 && r != -ENOENT)
                log_warning("container '%s': cannot record its intent in %s/intent (%s); a restarted berthd may not "
                            "follow it",
                            u->name, dir, strerror(-r));
}

void unit_save_intent(struct unit *u)
{
        unit_save_intent_phase(u, phase_of(u));
}

/* ---- starting --------------------------------------------------------------------- */

/* The spawner's start, read as it arrives: one whole wire message
 * (lib/wire.h), then EOF. */
static void on_started(struct unit *u, const struct wire_msg *w)
{
        u->init_pid = w->pid;
        u->init_start = w->start;
        snprintf(u->address, sizeof u->address, "%s", w->address);
        int pr = state_pidfd_verified(w->pid, w->start, &u->init_pidfd);
        if (pr < 0) {
                u->init_pidfd = -1;
                log_warning("%s: no pidfd for its init yet (%s); retried when it is signalled", u->name, strerror(-pr));
        }
        u->state = U_RUNNING;
        u->stateful_restore = false;
        u->stateful_tried = false;
        u->started_mono = now_mono(u->m);
        u->started_realtime = now_realtime();
        if (u->launched_mono && u->started_mono >= u->launched_mono)
                metrics_histogram_observe(&u->m->start_seconds,
                                          (double) (u->started_mono - u->launched_mono) / 1e6);
        u->last_error[0] = 0;
        struct state_record rec = { .monitor_pid = u->monitor_pid,
                                    .monitor_start = u->monitor_start,
                                    .init_pid = w->pid,
                                    .init_start = w->start,
                                    .started_realtime_usec = u->started_realtime,
                                    .restarts = u->restarts };
        (void) state_boot_id(rec.boot_id);
        memcpy(rec.restart_hash, u->rh, SPEC_HASH_LEN);
        memcpy(rec.live_hash, u->lh, SPEC_HASH_LEN);
        memcpy(rec.supervise_hash, u->sh, SPEC_HASH_LEN);
        snprintf(rec.address, sizeof rec.address, "%s", u->address);
        /* The spawner wrote the same record (pids, start times, hashes,
         * address) with fsync before it reported: this one, on the loop,
         * is not synced again (a crash of berthd keeps it, the page cache;
         * after a power loss the spawner's is there). */
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        if (dir && state_write(dir, &rec, false) < 0)
                log_warning("%s: cannot record its state; a restarted berthd will not re-adopt it", u->name);
        crash_point(u->m, "record-written");
        unit_save_intent(u);
        crash_point(u->m, "running");
        u->timer = sd_event_source_disable_unref(u->timer);
        health_begin(u);
        emit(u->m, u->name, "started", "pid %d%s%s", (int) w->pid, u->address[0] ? " address " : "", u->address);
        unit_machine_register(u);
        if (u->spec && u->spec->n_publish)
                nat_sync(u->m);
}

static int on_status(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) revents;
        struct unit *u = userdata;
        ssize_t k = read(fd, u->status_buf + u->status_len, sizeof u->status_buf - u->status_len);
        if (k > 0) {
                u->status_len += (size_t) k;
                if (u->status_len < sizeof u->status_buf)
                        return 0;
                struct wire_msg w;
                if (wire_parse(u->status_buf, u->status_len, &w) < 0)
                        log_warning("%s: its spawner sent a message that is not berth's, ignoring", u->name);
                else if (w.type == WIRE_STARTED)
                        on_started(u, &w);
                else if (w.type == WIRE_FAILED)
                        snprintf(u->last_error, sizeof u->last_error, "%.*s", (int) sizeof u->last_error - 1, w.text);
        }
        u->status_src = sd_event_source_disable_unref(u->status_src);
        close(u->status_fd);
        u->status_fd = -1;
        manager_dispatch_soon(u->m);
        return 0;
}

/* ---- systemd-machined ---------------------------------------------------------------- */

/* Only with systemd scopes (m->machines): machined makes the leader's
 * unit the machine's, and below berthd's own cgroup that would be
 * berthd.service (machinectl terminate would stop berthd). The leader is
 * the container's init, so machined takes berth-NAME.scope as it is and
 * makes no scope of its own. */
void unit_machine_register(struct unit *u)
{
        struct manager *m = u->m;
        if (!m->machines || u->init_pid <= 0)
                return;
        if (!machine_name_is_valid(u->name)) {
                log_debug("%s: not registered with systemd-machined: not a valid machine (host) name", u->name);
                return;
        }
        _cleanup_free_ char *dir = unit_dir(m, u->name);
        char id[33], root[64], veth[IFNAMSIZ];
        bool have_id = dir && state_container_id(dir, false, id) == 0;
        /* A template's root is an overlay in the container's own mount
         * namespace: the host sees it through the init. */
        snprintf(root, sizeof root, "/proc/%d/root", (int) u->init_pid);
        int ifindex[1];
        size_t n_if = 0;
        if (net_container_veth(u->name, m->net_owner, veth) == 0 && (ifindex[0] = (int) if_nametoindex(veth)) > 0)
                n_if = 1;
        struct machine_info mi = { .name = u->name,
                                   .id = have_id ? id : NULL,
                                   .leader = u->init_pid,
                                   .root = u->spec && u->spec->rootfs ? u->spec->rootfs : root,
                                   .ifindex = ifindex,
                                   .n_ifindex = n_if };
        if (machine_register(m->machines, &mi) >= 0)
                u->machine_registered = true;
}

void unit_machine_unregister(struct unit *u)
{
        if (!u->machine_registered)
                return;
        u->machine_registered = false;
        (void) machine_unregister(u->m->machines, u->name);
}

/* ---- hooks ------------------------------------------------------------------------- */

static int on_hook_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void) s;
        struct unit *u = userdata;
        char msg[HOOK_OUTPUT_MAX + 256] = "";
        ssize_t n = u->hook_fd >= 0 ? read(u->hook_fd, msg, sizeof msg - 1) : -1;
        if (n > 0)
                msg[n] = 0;
        if (si->si_code == CLD_EXITED && si->si_status == 0)
                emit(u->m, u->name, "hook", "post-stop ran");
        else
                emit(u->m, u->name, "hook-failed", "%s", n > 0 ? msg : "hook post-stop: its runner failed");
        u->hook_src = sd_event_source_disable_unref(u->hook_src);
        if (u->hook_fd >= 0)
                close(u->hook_fd);
        u->hook_fd = -1;
        return 0;
}

/* post-stop runs in a child of berthd, watched from the loop: hooks_run
 * waits for the hook and its timeout there, never here. Its failure is an
 * event only. */
static void unit_run_post_stop(struct unit *u, pid_t init_pid)
{
        const struct spec_container *c = u->spec;
        if (!c || !c->hooks[HOOK_POST_STOP].command)
                return;
        if (u->hook_src) {
                emit(u->m, u->name, "hook-failed", "hook post-stop: the previous one still runs; not run again");
                return;
        }
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        int p[2];
        if (!dir || pipe2(p, O_CLOEXEC) < 0) {
                emit(u->m, u->name, "hook-failed", "hook post-stop: cannot run it (out of memory or fds)");
                return;
        }
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                struct error e = { 0 };
                struct hook_env he = { .name = c->name, .pid = init_pid, .state_dir = dir, .kind = HOOK_POST_STOP };
                int r = hooks_run(&c->hooks[HOOK_POST_STOP], &he, &e);
                if (r < 0)
                        (void) !write(p[1], e.msg, strlen(e.msg));
                _exit(r < 0 ? 1 : 0);
        }
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                emit(u->m, u->name, "hook-failed", "hook post-stop: cannot fork");
                return;
        }
        u->hook_fd = p[0];
        if (sd_event_add_child(u->m->event, &u->hook_src, pid, WEXITED, on_hook_child, u) < 0)
                log_error("%s: cannot watch its post-stop hook", u->name);
        else
                (void) sd_event_source_set_child_process_own(u->hook_src, false); /* a shutdown lets it finish */
}

/* The order matters to a crash at any step: the status goes into the
 * intent first (durably); then the state record goes (a berthd that finds
 * it collects the exit again, from the exit file still there); then the
 * exit file (a berthd that finds neither reads the status from the intent,
 * and applies the restart policy a crash left undone). Removing the exit
 * file first turned a real 143 into -1 "monitor lost". */
void unit_exit_seen(struct unit *u, int status)
{
        struct manager *m = u->m;
        u->last_status = status;
        unit_save_intent_phase(u, STATE_PHASE_ENDED);
        crash_point(m, "exit-recorded");
        _cleanup_free_ char *dir = unit_dir(m, u->name);
        _cleanup_close_ int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (dfd >= 0) {
                (void) unlinkat(dfd, "state", 0);
                crash_point(m, "cleanup-state-unlinked");
                (void) unlinkat(dfd, "exit", 0);
                crash_point(m, "cleanup-exit-unlinked");
        }
        u->monitor_src = sd_event_source_disable_unref(u->monitor_src);
        if (u->monitor_pidfd >= 0)
                close(u->monitor_pidfd);
        u->monitor_pidfd = -1;
        if (u->init_pidfd >= 0)
                close(u->init_pidfd);
        u->init_pidfd = -1;
        u->monitor_pid = 0;
        pid_t init_pid = u->init_pid;
        unit_exited(u, status, NULL);
        unit_run_post_stop(u, init_pid);
}

void monitor_gone(struct unit *u)
{
        int status = -1;
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        uint64_t oom = 0;
        if (dir && state_read_exit(dir, &status, NULL, &oom) < 0)
                status = -1;
        u->exit_oom = oom > 0;
        u->oom_kills_before += oom;
        unit_exit_seen(u, status);
}

static int on_monitor_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void) s;
        struct unit *u = userdata;
        /* A spawner that never became a monitor reports its exit code only. */
        if (u->state == U_STARTING && u->init_pid == 0) {
                u->monitor_src = sd_event_source_disable_unref(u->monitor_src);
                u->monitor_pid = 0;
                if (u->status_fd >= 0) /* read the reason if it is still in the pipe */
                        on_status(u->status_src, u->status_fd, EPOLLIN, u);
                /* Its directory is held: by the start of a berthd that died
                 * after it forked (crash point spawner-forked), whose
                 * container runs or is about to. That one is adopted. */
                _cleanup_free_ char *dir = unit_dir(u->m, u->name);
                if (u->init_pid == 0 && dir && state_dir_locked(dir)) {
                        u->state = U_STOPPED;
                        adopt(u->m, u->name);
                        if (u->state == U_RUNNING) {
                                u->last_error[0] = 0;
                                unit_save_intent(u);
                                manager_dispatch_soon(u->m);
                                return 0;
                        }
                        u->state = U_STARTING;
                }
                unit_exited(u, si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status,
                            u->last_error[0] ? u->last_error : "setup failed");
                return 0;
        }
        monitor_gone(u);
        return 0;
}

int on_monitor_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) fd;
        (void) revents;
        monitor_gone(userdata);
        return 0;
}


/* Dependants follow (requires, like systemd's PartOf): stopped now, and
 * started again once u is ready again. */
void stop_requirers(struct manager *m, struct unit *u, const char *why)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *d = m->units[i];
                if (d != u && d->spec && strv_contains(d->spec->requires, u->name) &&
                    (d->state == U_RUNNING || d->state == U_STARTING)) {
                        emit(m, d->name, "stop", "requires '%s', which %s", u->name, why);
                        d->restart_after_stop = true;
                        unit_request_stop(d);
                }
        }
}


/* In the spawner: reports why the start failed (WIRE_FAILED) and exits
 * with code. */
static _Noreturn void spawner_fail(int fd, int code, const char *fmt, ...) _printf_(3, 4);
static _Noreturn void spawner_fail(int fd, int code, const char *fmt, ...)
{
        struct wire_msg w;
        wire_init(&w, WIRE_FAILED);
        w.exit_code = code;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(w.text, sizeof w.text, fmt, ap);
        va_end(ap);
        (void) wire_write(fd, &w);
        _exit(code);
}

/* Makes sure the default seccomp program for c's capabilities is in the
 * state directory's cache before the spawners read it: without, every
 * spawner of an autostart compiles it (libseccomp, ~3.5 ms of CPU each at
 * 100 containers) until one has written it. Once per capability set and
 * berthd; a failure is left to the spawner to report. */
static void seccomp_warm(struct manager *m, const struct spec_container *c)
{
        if (c->seccomp != SECCOMP_DEFAULT)
                return;
        for (size_t i = 0; i < m->n_seccomp_warm; i++)
                if (m->seccomp_warm[i][0] == c->caps_add && m->seccomp_warm[i][1] == c->caps_drop)
                        return;
        struct security_caps caps;
        struct security_seccomp s = { 0 };
        struct error e = { 0 };
        if (security_caps_prepare(c, &caps) < 0 || runtime_seccomp_prepare(m->o.state_dir, c, &caps, &s, &e) < 0)
                return;
        security_seccomp_done(&s);
        if (m->n_seccomp_warm < ELEMENTSOF(m->seccomp_warm)) {
                m->seccomp_warm[m->n_seccomp_warm][0] = c->caps_add;
                m->seccomp_warm[m->n_seccomp_warm][1] = c->caps_drop;
                m->n_seccomp_warm++;
        }
}

/* Forks the spawner: it builds the container (runtime_start), reports
 * WIRE_STARTED or WIRE_FAILED on a pipe, and on success becomes the
 * container's monitor by exec (its parameters a WIRE_MONITOR message on
 * another pipe), so that the container's init is the monitor's child and
 * outlives berthd. */
void unit_start_now(struct unit *u)
{
        struct manager *m = u->m;
        const struct spec_container *c = u->spec;
        int sp[2];
        /* Starting before anything can fail: a failure is a failed start, never
         * a pending one that the scheduler would retry at once (looping
         * forever when berthd is out of fds). */
        u->pending_start = false;
        /* before the state changes: a pending stateful checkpoint may become this start's restore */
        unit_stateful_pick(u);
        u->delay_until = 0;
        u->launched_mono = now_mono(m);
        u->timeout_reported = false;
        u->state = U_STARTING;
        u->init_pid = 0;
        u->address[0] = 0;
        u->status_len = 0;
        u->last_error[0] = 0;
        unit_save_intent_phase(u, STATE_PHASE_STARTING);
        crash_point(m, "start-requested");
        seccomp_warm(m, c);
        if (pipe2(sp, O_CLOEXEC) < 0) {
                unit_exited(u, 125, "cannot create a pipe");
                return;
        }
        pid_t pid = fork();
        if (pid < 0) {
                close(sp[0]);
                close(sp[1]);
                unit_exited(u, 125, "cannot fork");
                return;
        }
        if (pid == 0) {
                close(sp[0]);
                /* berthd raised its own open-file limit; containers get the usual one. */
                if (m->o.nofile_soft) {
                        struct rlimit rl;
                        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                                rl.rlim_cur = m->o.nofile_soft;
                                (void) setrlimit(RLIMIT_NOFILE, &rl);
                        }
                }
                int lp[2], ep[2]; /* stdout, stderr: the monitor tells them apart */
                int ip[2] = { -1, -1 }; /* stdin = true: the monitor holds the write end */
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (pipe2(lp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 || null < 0)
                        spawner_fail(sp[1], 125, "cannot create the log pipes");
                if (c->stdin_open && pipe2(ip, O_CLOEXEC) < 0)
                        spawner_fail(sp[1], 125, "cannot create the stdin pipe");
                /* The journald driver needs a journald: refused before
                 * anything is made. */
                bool journald = c->log_driver == LOG_DRIVER_JOURNALD ||
                                (c->log_driver == LOG_DRIVER_DEFAULT && m->o.log_journald);
                const char *jsock = journald ? logjournal_socket_path() : NULL;
                if (journald) {
                        int jfd = logjournal_connect(jsock);
                        if (jfd == -ENOENT || jfd == -ECONNREFUSED)
                                spawner_fail(sp[1], 125,
                                             "container '%s': journald is not running (%s %s); use log { driver = "
                                             "\"file\" }",
                                             c->name, jfd == -ENOENT ? "no" : "nobody reads", jsock);
                        if (jfd < 0)
                                spawner_fail(sp[1], 125, "container '%s': cannot reach journald at %s: %s", c->name,
                                             jsock, strerror(-jfd));
                        close(jfd);
                }
                /* Before the scope: nothing the hook leaves behind lands in it. */
                _cleanup_free_ char *cdir = unit_dir(m, c->name);
                struct hook_env he = { .name = c->name, .state_dir = cdir ? cdir : "", .kind = HOOK_PRE_START };
                struct error he_err = { 0 };
                if (hooks_run(&c->hooks[HOOK_PRE_START], &he, &he_err) < 0)
                        spawner_fail(sp[1], 125, "container '%s': %s", c->name, error_message(&he_err));
                if (m->o.scope_slice) {
                        char unit[300], desc[300];
                        struct error serr = { 0 };
                        snprintf(desc, sizeof desc, "berth container %s", c->name);
                        struct scope_params scp = { .unit = unit, .slice = m->o.scope_slice, .description = desc,
                                                   .before = m->o.scope_before,
                                                   .timeout_usec = 60 * SPEC_USEC_PER_SEC };
                        if (scope_unit_name("berth", c->name, unit, sizeof unit) < 0)
                                spawner_fail(sp[1], 125, "container '%s': no systemd unit name fits it", c->name);
                        if (scope_enter(&scp, &serr) < 0)
                                spawner_fail(sp[1], 125, "container '%s': %s", c->name, error_message(&serr));
                }
                /* start --from-checkpoint: the checkpoint's layer in place, then its images restored */
                _cleanup_free_ char *images = NULL;
                if (u->restore_tag) {
                        struct error re = { 0 };
                        if (snapshot_restore(m->o.state_dir, c->name, u->restore_tag, c->template_name, c->file,
                                             &re) < 0)
                                spawner_fail(sp[1], 125, "container '%s': checkpoint '%s': %s", c->name,
                                             u->restore_tag, error_message(&re));
                        _cleanup_free_ char *d = snapshot_tag_dir(m->o.state_dir, c->name, u->restore_tag);
                        images = d ? strdup_printf("%s/criu", d) : NULL;
                        if (!images)
                                spawner_fail(sp[1], 125, "container '%s': out of memory", c->name);
                }
                struct runtime_opts o = { .state_dir = m->o.state_dir,
                                          .run_dir = m->o.run_dir,
                                          .init_exe = &m->o.init_exe_fd,
                                          .init_file = m->o.init_file,
                                          .tty = c->console, /* a pty of its devpts; the monitor holds the master */
                                          .restore_images = images,
                                          .stdio = { ip[0] >= 0 ? ip[0] : null, lp[1], ep[1] } };
                struct runtime_container *rc = NULL;
                int code;
                struct error e = { 0 };
                if (runtime_start(&m->set, c, &o, &rc, &code, &e) < 0) {
                        for (char *q = e.msg; *q; q++)
                                if (*q == '\n')
                                        *q = ' ';
                        spawner_fail(sp[1], code, "%s", e.msg);
                }
                if (u->stateful_restore)
                        /* restored: never again (its record first, then the checkpoint) */
                        unit_stateful_drop(m, c->name, u->restore_tag);
                he.kind = HOOK_POST_START;
                he.pid = rc->pid;
                if (hooks_run(&c->hooks[HOOK_POST_START], &he, &he_err) < 0) {
                        /* The start fails: nothing of it is left. */
                        (void) kill(rc->pid, SIGKILL);
                        (void) waitpid(rc->pid, NULL, 0);
                        runtime_destroy(rc);
                        spawner_fail(sp[1], 125, "container '%s': %s", c->name, error_message(&he_err));
                }
                struct wire_msg started;
                wire_init(&started, WIRE_STARTED);
                started.pid = (int32_t) rc->pid;
                (void) state_proc_starttime(rc->pid, &started.start);
                struct in_addr a = runtime_address(rc);
                if (a.s_addr)
                        inet_ntop(AF_INET, &a, started.address, sizeof started.address);
                close(lp[1]);
                close(ep[1]);
                close(null);
                if (ip[0] >= 0)
                        close(ip[0]);
                if (c->console && rc->pty_master < 0) {
                        (void) kill(rc->pid, SIGKILL);
                        spawner_fail(sp[1], 125, "container '%s': no pty from the container", c->name);
                }
                if (c->console) { /* the terminal is its output: no pipes */
                        close(lp[0]);
                        close(ep[0]);
                        lp[0] = rc->pty_master;
                        ep[0] = -1;
                }
                /* The monitor inherits the container's pidfd, its output, its lock
                 * and its cgroup. */
                const char *cgp = runtime_cgroup_path(rc);
                int cgfd = cgp ? open(cgp, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                /* Its parameters, on a pipe it reads once (the message fits
                 * in the pipe's buffer: written before the exec). */
                struct wire_msg mon;
                wire_init(&mon, WIRE_MONITOR);
                mon.pid = (int32_t) rc->pid;
                mon.pidfd = rc->pidfd;
                mon.log_fd = lp[0];
                mon.err_fd = ep[0];
                mon.cgroup_fd = cgfd;
                mon.stdin_fd = ip[1];
                mon.flags = c->console ? WIRE_F_CONSOLE : 0;
                mon.log_max_size = c->log_max_size;
                mon.log_max_files = c->log_max_files;
                snprintf(mon.text, sizeof mon.text, "%s", rc->dir);
                /* The id names it in the journal and to machined; berthctl
                 * logs reads log-driver to know where its lines are. */
                char cid[33];
                int ir = state_container_id(rc->dir, true, cid);
                if (journald) {
                        if (ir < 0) {
                                (void) kill(rc->pid, SIGKILL);
                                spawner_fail(sp[1], 125, "container '%s': cannot make its id in %s: %s", c->name,
                                             rc->dir, strerror(-ir));
                        }
                        snprintf(mon.journal_socket, sizeof mon.journal_socket, "%s", jsock);
                        snprintf(mon.name, sizeof mon.name, "%s", c->name);
                        memcpy(mon.id, cid, sizeof mon.id);
                }
                {
                        _cleanup_close_ int dfd = open(rc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        const char *d = journald ? "journald\n" : "file\n";
                        if (dfd >= 0)
                                (void) write_file_replace(dfd, "log-driver", d, strlen(d), 0644);
                }
                int wp[2];
                if (pipe2(wp, O_CLOEXEC) < 0 || wire_write(wp[1], &mon) < 0) {
                        (void) kill(rc->pid, SIGKILL);
                        spawner_fail(sp[1], 125, "container '%s': cannot hand it to its monitor", c->name);
                }
                close(wp[1]);
                int keep[] = { rc->pidfd, lp[0], ep[0], rc->lock_fd, cgfd, wp[0], ip[1] };
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        if (keep[i] >= 0)
                                (void) fcntl(keep[i], F_SETFD, 0);
                char pidbuf[16], wirebuf[16];
                snprintf(pidbuf, sizeof pidbuf, "%d", (int) rc->pid);
                snprintf(wirebuf, sizeof wirebuf, "%d", wp[0]);
                /* Recorded before it is reported: a berthd that dies now is
                 * followed by one that finds this container (the monitor
                 * keeps this pid and start time across the exec). */
                struct state_record rec = { .monitor_pid = getpid(),
                                            .init_pid = rc->pid,
                                            .init_start = started.start,
                                            .started_realtime_usec = now_realtime(),
                                            .restarts = u->restarts };
                (void) state_proc_starttime(rec.monitor_pid, &rec.monitor_start);
                (void) state_boot_id(rec.boot_id);
                memcpy(rec.restart_hash, u->rh, SPEC_HASH_LEN);
                memcpy(rec.live_hash, u->lh, SPEC_HASH_LEN);
                memcpy(rec.supervise_hash, u->sh, SPEC_HASH_LEN);
                snprintf(rec.address, sizeof rec.address, "%s", started.address);
                (void) state_write(rc->dir, &rec, true);
                (void) wire_write(sp[1], &started);
                close(sp[1]);
                char *argv[] = { "berth-monitor", rc->dir, pidbuf, wirebuf, NULL };
                char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                execve(m->o.monitor_path, argv, envp);
                /* No monitor: the container cannot be held; take it down. */
                (void) kill(rc->pid, SIGKILL);
                _exit(125);
        }
        close(sp[1]);
        free(u->restore_tag); /* a restore is tried once: a later start is a cold one */
        u->restore_tag = NULL;
        u->status_fd = sp[0];
        u->monitor_pid = pid;
        (void) state_proc_starttime(pid, &u->monitor_start);
        if (sd_event_add_io(m->event, &u->status_src, sp[0], EPOLLIN, on_status, u) < 0 ||
            sd_event_add_child(m->event, &u->monitor_src, pid, WEXITED, on_monitor_child, u) < 0)
                log_error("%s: cannot watch its start", u->name);
        (void) sd_event_source_set_child_process_own(u->monitor_src, false);
        crash_point(m, "spawner-forked");
}

int on_pending_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state == U_BACKOFF) {
                u->state = U_STOPPED;
                u->pending_start = true;
                u->pending_since = now_mono(u->m);
                u->delay_until = u->pending_since; /* the back-off was the delay */
        }
        manager_dispatch_soon(u->m);
        return 0;
}

/* Asks for a start: it happens once every dependency is running. */
void unit_request_start(struct unit *u)
{
        if (!u->spec || u->state == U_RUNNING || u->state == U_STARTING)
                return;
        if (u->state == U_STOPPING) {
                u->restart_after_stop = true;
                return;
        }
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state == U_FAILED || u->state == U_BACKOFF)
                u->state = U_STOPPED;
        u->operator_stopped = false;
        u->pending_start = true;
        u->delay_until = 0;
        u->pending_since = now_mono(u->m);
}

/* ---- stopping ---------------------------------------------------------------------- */

/* The init's pidfd, opened again (verified by start time) if opening it
 * failed when the container started (e.g. berthd was out of fds then). */
int unit_init_pidfd(struct unit *u)
{
        if (u->init_pidfd < 0 && u->init_pid > 0 && u->init_start > 0 &&
            state_pidfd_verified(u->init_pid, u->init_start, &u->init_pidfd) < 0)
                u->init_pidfd = -1;
        return u->init_pidfd;
}

/* The init as its monitor knows it (its child, state_find_monitor), when
 * the recorded one does not verify (an edited or stale record). */
int unit_refind_init(struct unit *u)
{
        _cleanup_free_ char *dir = unit_dir(u->m, u->name);
        struct state_record f;
        int fd = -1;
        if (!dir || state_find_monitor(dir, &f) < 0 || state_pidfd_verified(f.init_pid, f.init_start, &fd) < 0)
                return -ESRCH;
        if (u->monitor_pid && f.monitor_pid != u->monitor_pid) {
                close(fd);
                return -ESRCH;
        }
        if (u->init_pidfd >= 0)
                close(u->init_pidfd);
        log_warning("container '%s': its init is pid %d (the record said %d)", u->name, (int) f.init_pid,
                    (int) u->init_pid);
        u->init_pid = f.init_pid;
        u->init_start = f.init_start;
        u->init_pidfd = fd;
        return fd;
}

/* SIGKILL to every process of the container's cgroup: found through its
 * monitor's cgroup (a cgroup below berthd's base), else below berthd's;
 * never a cgroup another berthd marked (its container of the same name). */
static int unit_kill_cgroup(struct unit *u)
{
        struct cgroup_manager *cm = NULL;
        struct cgroup *cg = NULL;
        int r = -ESRCH;
        if (u->init_pid > 0 && cgroup_open_manager_of(u->init_pid, u->name, &cm) >= 0) {
                cgroup_manager_set_owner(cm, u->m->net_owner);
                r = cgroup_open_existing(cm, u->name, &cg);
        }
        if (r < 0) {
                cgroup_manager_free(cm);
                cm = NULL;
                r = cgroup_open_manager(&cm);
                if (r >= 0) {
                        cgroup_manager_set_owner(cm, u->m->net_owner);
                        r = cgroup_open_existing(cm, u->name, &cg);
                }
        }
        if (r >= 0)
                r = cgroup_owned(cg);
        if (r >= 0)
                r = cgroup_kill_all(cg, SIGKILL);
        cgroup_free(cg);
        cgroup_manager_free(cm);
        return r;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        struct unit *u = userdata;
        u->timer = sd_event_source_disable_unref(u->timer);
        if (u->state != U_STOPPING)
                return 0;
        char buf[64];
        emit(u->m, u->name, "killing", "did not stop within %s", format_duration(u->stopping_timeout, buf, sizeof buf));
        /* The init is PID 1 of the container's PID namespace: SIGKILL takes
         * all. Whatever the record said, the stop ends: an init that cannot
         * be verified is looked up through its monitor, and the cgroup is
         * killed in any case; this repeats until the monitor reports. */
        bool sent = unit_init_pidfd(u) >= 0 &&
                    syscall(SYS_pidfd_send_signal, u->init_pidfd, SIGKILL, NULL, 0) == 0;
        if (!sent)
                sent = unit_refind_init(u) >= 0 &&
                       syscall(SYS_pidfd_send_signal, u->init_pidfd, SIGKILL, NULL, 0) == 0;
        int k = unit_kill_cgroup(u);
        if (!sent && k < 0)
                log_warning("container '%s': neither its init nor its cgroup could be killed (%s); trying again",
                            u->name, strerror(-k));
        set_timer(u, SPEC_USEC_PER_SEC, on_stop_timeout);
        crash_point(u->m, "stop-killed");
        return 0;
}

void unit_stop_now(struct unit *u)
{
        u->pending_stop = false;
        u->pending_start = false;
        if (u->state == U_BACKOFF || (u->state == U_STOPPED && !u->monitor_pid)) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = U_STOPPED;
                return;
        }
        if (u->state != U_RUNNING && u->state != U_STARTING)
                return;
        if (u->m->shutting_down && unit_stateful_begin(u))
                return; /* checkpointed instead: CRIU ends it (or the stop follows when it cannot) */
        int sig = u->spec ? runtime_stop_signal(u->m->o.state_dir, u->spec, NULL) : SIGTERM;
        u->state = U_STOPPING;
        u->stopping_timeout = u->stop_timeout_set ? u->stop_timeout_once
                              : u->spec                ? u->spec->stop_timeout
                                                       : 10 * SPEC_USEC_PER_SEC;
        u->stop_timeout_set = false;
        unit_save_intent(u);
        crash_point(u->m, "stop-requested");
        if (unit_init_pidfd(u) >= 0)
                (void) syscall(SYS_pidfd_send_signal, u->init_pidfd, sig, NULL, 0);
        set_timer(u, u->stopping_timeout, on_stop_timeout);
        crash_point(u->m, "stop-signalled");
}

/* A stop that waits until nothing that depends on u still runs. */
void unit_request_stop(struct unit *u)
{
        u->pending_start = false;
        if (u->state == U_FAILED || (u->state == U_STOPPED && !u->monitor_pid)) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = u->state == U_FAILED ? U_FAILED : U_STOPPED;
                return;
        }
        if (u->state == U_BACKOFF) {
                u->timer = sd_event_source_disable_unref(u->timer);
                u->state = U_STOPPED;
                return;
        }
        if (u->state == U_RUNNING || u->state == U_STARTING)
                u->pending_stop = true;
}

/* ---- exits and restart policy -------------------------------------------------------- */

void unit_exited(struct unit *u, int status, const char *why)
{
        struct manager *m = u->m;
        enum unit_state was = u->state;
        bool had_address = u->address[0];
        bool health_stopped = u->health_failed_stop;
        unit_machine_unregister(u);
        health_stop(u);
        health_state_reset(&u->health);
        u->health_failed_stop = false;
        u->timer = sd_event_source_disable_unref(u->timer);
        /* The monitor decided whether the OOM killer struck (its exit record):
         * in a systemd scope the cgroup is gone once it left. */
        runtime_cleanup(m->o.state_dir, u->name);
        bool oom = u->exit_oom;
        u->exit_oom = false;
        u->last_status = status;
        u->init_pid = 0;
        if (why && why != u->last_error)
                snprintf(u->last_error, sizeof u->last_error, "%s", why);
        usec_t ran = u->started_mono ? now_mono(m) - u->started_mono : 0;
        u->started_mono = 0;
        u->state = U_STOPPED;
        if (had_address && u->spec && u->spec->n_publish)
                nat_sync(m);

        if (was == U_STARTING && why)
                emit(m, u->name, "start-failed", "%s (exit %d)", why, status);
        else {
                if (oom) {
                        snprintf(u->last_error, sizeof u->last_error, "killed by the OOM killer (limits.memory)");
                        emit(m, u->name, "oom", "the OOM killer killed a process of the container");
                }
                emit(m, u->name, "exited", "status %d%s", status, status < 0 ? " (unknown: monitor lost)" : "");
        }

        if (was == U_STARTING && u->stateful_restore) {
                /* The restore of its stateful checkpoint failed: a cold start
                 * instead, once (the record is gone, the checkpoint kept). */
                u->stateful_restore = false;
                unit_stateful_drop(m, u->name, NULL);
                if (!m->shutting_down && !u->operator_stopped && u->spec) {
                        emit(m, u->name, "stateful-restore-failed", "%s: starting it cold",
                             why ? why : "the restore failed");
                        unit_request_start(u);
                        unit_save_intent(u);
                        crash_point(m, "exit-handled");
                        manager_dispatch_soon(m);
                        return;
                }
        }
        if (was == U_RUNNING && unit_stateful_orphan_exit(u)) {
                unit_request_start(u);
                unit_save_intent(u);
                crash_point(m, "exit-handled");
                manager_dispatch_soon(m);
                return;
        }
        if (u->restart_after_stop || (was == U_STOPPING && !m->shutting_down && !u->operator_stopped &&
                                      u->pending_start)) {
                u->restart_after_stop = false;
                unit_request_start(u);
                unit_save_intent(u);
                crash_point(m, "exit-handled");
                manager_dispatch_soon(m);
                return;
        }
        if (health_stopped && u->spec && unit_health(u)->on_failure == HEALTH_ACTION_STOP) {
                u->state = U_FAILED;
                snprintf(u->last_error, sizeof u->last_error, "stopped: unhealthy (health on-failure = stop)");
                emit(m, u->name, "failed", "%s", u->last_error);
                unit_save_intent(u);
                crash_point(m, "failed-recorded");
                manager_dispatch_soon(m);
                return;
        }
        if ((!health_stopped && was == U_STOPPING) || m->shutting_down || u->operator_stopped || !u->spec) {
                unit_save_intent_phase(u, STATE_PHASE_STOPPED);
                crash_point(m, "exit-handled");
                manager_dispatch_soon(m);
                return;
        }
        const struct spec_container *c = u->spec;
        bool failure = status != 0 || health_stopped;
        stop_requirers(m, u, "exited");
        /* health on-failure = restart asks for a restart whatever the
         * restart policy (the default restart = "no" included); the
         * policy's back-off and limit still apply. */
        usec_t now = now_mono(m);
        struct restart_decision rd;
        restart_decide(&(struct restart_input) { .policy = c->restart,
                                                 .failure = failure,
                                                 .health_restart = health_stopped,
                                                 .now = now,
                                                 .ran = ran,
                                                 .delay = c->restart_delay,
                                                 .max_delay = c->restart_max_delay,
                                                 .window = c->restart_window,
                                                 .limit = c->restart_limit,
                                                 .consecutive = u->consecutive,
                                                 .times = u->restart_times,
                                                 .n_times = u->n_restart_times },
                       &rd);
        u->consecutive = rd.consecutive;
        if (rd.verdict == RESTART_VERDICT_NONE) {
                if (failure && was == U_STARTING) {
                        u->state = U_FAILED;
                        emit(m, u->name, "failed", "%s", u->last_error[0] ? u->last_error : "could not start");
                        unit_save_intent(u);
                        crash_point(m, "failed-recorded");
                } else {
                        /* Its policy leaves it stopped: so does a restarted berthd. */
                        unit_save_intent_phase(u, STATE_PHASE_EXITED);
                        crash_point(m, "exit-handled");
                }
                manager_dispatch_soon(m);
                return;
        }
        if (rd.verdict == RESTART_VERDICT_LIMIT) {
                u->state = U_FAILED;
                emit(m, u->name, "failed", "%zu restarts within %llus (restart-limit %u)", rd.in_window,
                     (unsigned long long) (c->restart_window / SPEC_USEC_PER_SEC), c->restart_limit);
                unit_save_intent(u);
                crash_point(m, "failed-recorded");
                manager_dispatch_soon(m);
                return;
        }
        if (u->n_restart_times == RESTARTS_KEPT) {
                memmove(u->restart_times, u->restart_times + 1, (RESTARTS_KEPT - 1) * sizeof(usec_t));
                u->n_restart_times--;
        }
        u->restart_times[u->n_restart_times++] = now;
        usec_t delay = rd.delay;
        u->restarts++;
        u->state = U_BACKOFF;
        char d[32];
        emit(m, u->name, "restarting", "in %s (restart %u, exit status %d)", format_duration(delay, d, sizeof d),
             u->restarts, status);
        u->backoff_until_rt = now_realtime() + delay;
        unit_save_intent(u);
        crash_point(m, "backoff-recorded");
        set_timer(u, delay, on_pending_timer);
        manager_dispatch_soon(m);
}
