/* Snapshots and restores of containers' writable layers, for berthd
 * (lib/snapshot.h does the copying). The copy never runs in the event
 * loop: a *layer worker*, a fork of berthd, freezes the container's cgroup
 * (when it runs), copies, thaws and reports on a pipe; berthd only tracks
 * it, keeps the container from starting while it works, and answers the
 * caller when it ends. Scheduled snapshots (snapshot { every keep }) are
 * taken the same way, from one timer. */

#include "supervise_internal.h"
#include "criu.h"
#include "snapshot.h"

#define SCHEDULE_TICK_USEC (5ULL * 1000000ULL)
/* The bound of a checkpoint at shutdown (then the container is stopped
 * cold): well below berthd.service's TimeoutStopSec=10min. */
#define STATEFUL_TIMEOUT_USEC (120ULL * 1000000ULL)
#define STATEFUL_TIMEOUT_TEXT "2min"

struct layer_report {
        struct error e;
        struct snapshot_info info;
};

static json_object *info_json(const struct snapshot_info *i)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "tag", json_object_new_string(i->tag));
        json_object_object_add(o, "time_usec", json_object_new_uint64(i->time_usec));
        json_object_object_add(o, "size", json_object_new_uint64(i->size));
        json_object_object_add(o, "files", json_object_new_uint64(i->files));
        json_object_object_add(o, "method", json_object_new_string(i->method));
        json_object_object_add(o, "kind", json_object_new_string(snapshot_kind_to_string(i->kind)));
        json_object_object_add(o, "frozen", json_object_new_boolean(i->frozen));
        json_object_object_add(o, "template", json_object_new_string(i->template_name));
        return o;
}

static void layer_done(struct unit *u, const struct layer_report *rep, bool whole)
{
        struct manager *m = u->m;
        bool restore = u->layer_restore;
        u->layer_src = sd_event_source_disable_unref(u->layer_src);
        close(u->layer_fd);
        u->layer_fd = -1;
        u->layer_pid = 0;
        struct control_conn *c = u->layer_conn;
        u->layer_conn = NULL;
        bool ok = whole && !error_is_set(&rep->e);
        const char *why = !whole ? "the worker ended without a report" : rep->e.msg;
        bool checkpoint = u->layer_checkpoint;
        bool stateful = u->layer_stateful;
        if (u->stateful_timed_out)
                why = "not checkpointed within " STATEFUL_TIMEOUT_TEXT " (criu killed)";
        if (checkpoint && u->layer_checkpoint_stops && !ok && u->state == U_RUNNING)
                /* CRIU lets the processes go on when a dump fails: it still runs, supervised */
                u->operator_stopped = false;
        u->layer_checkpoint = u->layer_checkpoint_stops = u->layer_stateful = false;
        if (stateful) {
                _cleanup_free_ char *rec = unit_stateful_path(m, u->name);
                _cleanup_free_ char *pending = rec ? strdup_printf("%s-pending", rec) : NULL;
                if (pending)
                        (void) unlink(pending);
        }
        u->stateful_timed_out = false;
        if (stateful)
                u->stateful_timer = sd_event_source_disable_unref(u->stateful_timer);
        /* A worker that died between freeze and thaw leaves the container frozen. */
        if (!whole && u->layer_thaw && u->state == U_RUNNING && u->init_pid > 0) {
                _cleanup_(cgroup_manager_freep) struct cgroup_manager *cm = NULL;
                _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
                if (cgroup_open_manager_of(u->init_pid, u->name, &cm) >= 0 && cgroup_open_existing(cm, u->name, &cg) >= 0)
                        (void) cgroup_thaw(cg);
        }
        if (u->layer_scheduled && u->spec) {
                /* the next one counts from the end of this one (taken or not) */
                uint64_t every = u->spec->snapshot_every, at;
                u->snapshot_next = now_realtime() + every;
                if (m->snapshot_timer && sd_event_source_get_time(m->snapshot_timer, &at) >= 0 &&
                    now_mono(m) + every < at) {
                        (void) sd_event_source_set_time(m->snapshot_timer, now_mono(m) + every);
                        (void) sd_event_source_set_enabled(m->snapshot_timer, SD_EVENT_ONESHOT);
                }
        }
        const char *ev = restore ? "restored" : checkpoint ? "checkpoint" : "snapshot";
        if (ok && !(rep->info.tag[0] == '.'))
                emit(m, u->name, ev, "%s '%s' (%s, %" PRIu64 " bytes)",
                     restore ? "from snapshot" : "taken", rep->info.tag, rep->info.method, rep->info.size);
        else if (!ok && stateful)
                emit(m, u->name, "stateful-stop-failed", "%s: stopping it cold", why);
        else if (!ok)
                emit(m, u->name, restore ? "restore-failed" : checkpoint ? "checkpoint-failed" : "snapshot-failed", "%s",
                     why);
        if (stateful && ok)
                emit(m, u->name, "stateful-stop", "checkpoint '%s' taken: its next start restores it", rep->info.tag);
        if (stateful && !ok && u->state == U_STOPPING && u->init_pid > 0 && u->monitor_pid) {
                /* CRIU let the processes go on (or was killed): the stop it was to be */
                u->state = U_RUNNING;
                unit_stop_now(u);
        }
        if (c) {
                if (control_conn_is_open(c)) {
                        if (ok)
                                (void) control_reply(c, info_json(&rep->info), false);
                        else {
                                json_object *p = json_object_new_object();
                                json_object_object_add(p, "reason", json_object_new_string(why));
                                (void) control_reply_error(c, restore      ? "io.berth.RestoreFailed"
                                                              : checkpoint ? "io.berth.CheckpointFailed"
                                                                           : "io.berth.SnapshotFailed",
                                                           p);
                        }
                }
                control_conn_unref(c);
        }
        u->layer_restore = u->layer_scheduled = false;
        /* a start held while the layer was busy goes on */
        manager_dispatch_soon(m);
}

static int on_layer_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct unit *u = userdata;
        (void) s;
        struct layer_report rep = { 0 };
        ssize_t n = read(u->layer_fd, &rep, sizeof rep);
        bool whole = n == (ssize_t) sizeof rep && si->si_code == CLD_EXITED;
        layer_done(u, &rep, whole);
        return 0;
}

/* What a worker does, in the child; it reports once and exits. */
struct layer_job {
        bool restore;
        bool checkpoint, leave_running; /* CRIU images of the processes, then the layer */
        const char *parent;             /* checkpoint: after pre-dumps, the last one's directory (.live-ID/pre-N) */
        bool stateful;                  /* at shutdown: the record the next start restores */
        pid_t berthd;                   /* stateful: no record once berthd is gone */
        char restart_hash[SPEC_HASH_LEN];
        const char *tag;
        enum snapshot_kind kind;
        uint32_t keep;
        bool freeze;
};

/* A checkpoint, in the worker: criu check (CRIU's own reason when it
 * cannot work here: nothing was touched), the dump into .criu-TAG (CRIU
 * freezes the processes; without leave_running it kills them after), then
 * the layer's snapshot TAG (frozen by us when they go on), and the images
 * moved into it as TAG/criu. A failure leaves no snapshot and no images. */
static void checkpoint_child(struct unit *u, const struct layer_job *j, struct layer_report *rep)
{
        struct manager *m = u->m;
        const struct spec_container *c = u->spec;
        if (criu_check(&rep->e) < 0 || criu_restorable(u->init_pid, &rep->e) < 0) {
                (void) error_wrap(&rep->e, "container '%s' not checkpointed", u->name);
                return;
        }
        _cleanup_free_ char *dir = snapshot_container_dir(m->o.state_dir, u->name);
        _cleanup_free_ char *images = dir ? strdup_printf("%s/.criu-%s", dir, j->tag) : NULL;
        if (!images || mkdir_p(images, 0700) < 0) {
                (void) error_set(&rep->e, -errno, "container '%s': cannot create %s", u->name, images ? images : "?");
                return;
        }
        /* after a live migration's pre-dumps: only the pages changed since the last one */
        _cleanup_free_ char *prev = j->parent ? strdup_printf("../%s", j->parent) : NULL;
        struct criu_dump_params dp = { .pid = u->init_pid,
                                       .images_dir = images,
                                       .leave_running = j->leave_running,
                                       .track_mem = !!prev,
                                       .prev_images_dir = prev };
        if (criu_dump(&dp, &rep->e) < 0) {
                (void) error_wrap(&rep->e, "container '%s' not checkpointed", u->name);
                /* the images of a failed dump are kept for a look until the next try */
                return;
        }
        _cleanup_(cgroup_manager_freep) struct cgroup_manager *cm = NULL;
        _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
        if (j->leave_running && j->freeze &&
            (cgroup_open_manager_of(u->init_pid, u->name, &cm) < 0 || cgroup_open_existing(cm, u->name, &cg) < 0))
                cg = NULL; /* ended meanwhile: nothing to freeze */
        struct snapshot_request rq = { .state_dir = m->o.state_dir,
                                       .name = u->name,
                                       .tag = j->tag,
                                       .kind = SNAPSHOT_CHECKPOINT,
                                       .definition_file = c->file,
                                       .template_name = c->template_name,
                                       .freeze = cg };
        if (snapshot_take(&rq, &rep->info, &rep->e) < 0) {
                (void) rm_rf(images);
                return;
        }
        _cleanup_free_ char *final = strdup_printf("%s/%s/criu", dir, j->tag);
        if (!final || rename(images, final) < 0) {
                (void) error_set(&rep->e, -errno, "container '%s': cannot move its CRIU images into %s/%s", u->name,
                                 dir, j->tag);
                (void) snapshot_remove(m->o.state_dir, u->name, j->tag);
                (void) rm_rf(images);
                return;
        }
        /* CRIU's parent link was relative to .criu-TAG, one level up from TAG/criu */
        _cleanup_free_ char *link = prev ? strdup_printf("%s/parent", final) : NULL;
        _cleanup_free_ char *target = prev ? strdup_printf("../../%s", j->parent) : NULL;
        if (prev && (!link || !target || unlink(link) < 0 || symlink(target, link) < 0))
                (void) error_set(&rep->e, -errno, "container '%s': cannot link its checkpoint to the pre-dump %s",
                                 u->name, j->parent);
        if (!j->stateful)
                return;
        /* A berthd that died meanwhile may have a successor that started the
         * container cold already: the checkpoint stays, as a plain one. */
        if (getppid() != j->berthd) {
                (void) error_set(&rep->e, 0, "container '%s': berthd ended during its checkpoint: '%s' kept, not "
                                 "restored at the next start", u->name, j->tag);
                return;
        }
        char line[SNAPSHOT_TAG_MAX + SPEC_HASH_LEN + 4];
        snprintf(line, sizeof line, "%s %s\n", j->tag, j->restart_hash);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dfd < 0 ? -errno : write_file_atomic(dfd, ".stateful", line, strlen(line), 0600);
        if (r < 0)
                (void) error_set(&rep->e, r, "container '%s': cannot record its stateful checkpoint in %s/.stateful "
                                 "('%s' kept)", u->name, dir, j->tag);
}

/* Whether s names a live migration's pre-dump directory under a
 * container's snapshot directory: .live-ID/pre-N. */
static bool predump_name_ok(const char *s)
{
        if (!s || strncmp(s, ".live-", 6) != 0 || strlen(s) > 100 || strstr(s, ".."))
                return false;
        const char *slash = strchr(s, '/');
        if (!slash || strchr(slash + 1, '/') || strncmp(slash + 1, "pre-", 4) != 0)
                return false;
        for (const char *q = s + 1; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                      *q == '-' || *q == '_' || *q == '/'))
                        return false;
        return true;
}


static void layer_child(struct unit *u, int fd, const struct layer_job *j)
{
        struct manager *m = u->m;
        const struct spec_container *c = u->spec;
        struct layer_report rep = { 0 };
        if (j->restore) {
                int r = snapshot_restore(m->o.state_dir, u->name, j->tag, c->template_name, c->file, &rep.e);
                if (r >= 0) {
                        _cleanup_free_ char *d = snapshot_tag_dir(m->o.state_dir, u->name, j->tag);
                        if (d)
                                (void) snapshot_info_read(d, &rep.info);
                        snprintf(rep.info.tag, sizeof rep.info.tag, "%s", j->tag);
                }
        } else if (j->checkpoint)
                checkpoint_child(u, j, &rep);
        else {
                _cleanup_(cgroup_manager_freep) struct cgroup_manager *cm = NULL;
                _cleanup_(cgroup_freep) struct cgroup *cg = NULL;
                int r = 0;
                if (j->freeze && ((r = cgroup_open_manager_of(u->init_pid, u->name, &cm)) < 0 ||
                                  (r = cgroup_open_existing(cm, u->name, &cg)) < 0))
                        (void) error_set(&rep.e, r, "container '%s': cannot find its cgroup to freeze it", u->name);
                else {
                        struct snapshot_request rq = { .state_dir = m->o.state_dir,
                                                       .name = u->name,
                                                       .tag = j->tag,
                                                       .kind = j->kind,
                                                       .definition_file = c->file,
                                                       .template_name = c->template_name,
                                                       .freeze = cg,
                                                       .keep_scheduled = j->keep };
                        (void) snapshot_take(&rq, &rep.info, &rep.e);
                }
        }
        (void) !write(fd, &rep, sizeof rep);
        _exit(error_is_set(&rep.e) ? 1 : 0);
}

/* Forks the worker for u; c (may be NULL) gets the answer when it ends.
 * 0, or -errno with why filled. */
static int layer_start(struct unit *u, struct control_conn *c, const struct layer_job *j, char *why, size_t size)
{
        struct manager *m = u->m;
        int p[2];
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
                snprintf(why, size, "cannot create a pipe: %s", strerror(errno));
                return -errno;
        }
        bool running = u->state == U_RUNNING && u->init_pid > 0;
        bool freeze = running && !unit_frozen(u); /* one the operator froze stays frozen, untouched */
        struct layer_job job = *j;
        job.freeze = freeze;
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                snprintf(why, size, "cannot fork: %s", strerror(errno));
                return -errno;
        }
        if (pid == 0) {
                close(p[0]);
                if (job.stateful)
                        (void) setpgid(0, 0); /* its criu too: killed as one when out of time */
                layer_child(u, p[1], &job);
        }
        close(p[1]);
        if (sd_event_add_child(m->event, &u->layer_src, pid, WEXITED, on_layer_exit, u) < 0) {
                /* cannot watch it: wait for it here rather than lose it */
                (void) waitpid(pid, NULL, 0);
                close(p[0]);
                snprintf(why, size, "cannot watch the worker");
                return -EIO;
        }
        u->layer_pid = pid;
        u->layer_fd = p[0];
        u->layer_restore = j->restore;
        u->layer_scheduled = j->kind == SNAPSHOT_SCHEDULED && !j->restore;
        u->layer_thaw = freeze && !j->checkpoint;
        u->layer_checkpoint = j->checkpoint;
        u->layer_checkpoint_stops = j->checkpoint && !j->leave_running && !j->stateful;
        u->layer_stateful = j->stateful;
        if (u->layer_checkpoint_stops)
                u->operator_stopped = true; /* CRIU ends it: a stop, not a failure to restart from */
        if (c) {
                u->layer_conn = control_conn_ref(c);
                /* the copy may take long: the caller waits without idling out */
                (void) control_reply(c, NULL, true);
                control_conn_set_tag(c, TAG_LAYER, NULL);
        }
        return 0;
}

/* The checks shared by snapshot and restore: a declared container over a
 * template, nothing else working on its layer (*busy: the caller may try
 * again when that one is done: io.berth.LayerBusy). */
static bool layer_usable(struct unit *u, char *why, size_t size, bool *busy)
{
        *busy = false;
        if (!u->spec || u->owned_spec) {
                snprintf(why, size, "container '%s' is not declared (orphaned): its data is kept as it is", u->name);
                return false;
        }
        if (!u->spec->template_name) {
                snprintf(why, size, "container '%s' runs on rootfs '%s', not on a template: it has no writable layer "
                         "of berth's to copy", u->name, u->spec->rootfs ? u->spec->rootfs : "?");
                return false;
        }
        if (u->layer_pid) {
                snprintf(why, size, "container '%s': a %s is under way", u->name,
                         u->layer_restore ? "restore" : "snapshot");
                *busy = true;
                return false;
        }
        return true;
}

void method_snapshot(struct manager *m, struct control_conn *c, json_object *params)
{
        char why[700];
        json_object *v;
        const char *name = params && json_object_object_get_ex(params, "name", &v) ? json_object_get_string(v) : NULL;
        const char *tag = params && json_object_object_get_ex(params, "tag", &v) ? json_object_get_string(v) : NULL;
        bool internal = params && json_object_object_get_ex(params, "internal", &v) && json_object_get_boolean(v);
        struct unit *u = name ? unit_find(m, name) : NULL;
        json_object *p = json_object_new_object();
        if (!u) {
                json_object_object_add(p, "name", json_object_new_string(name ? name : ""));
                (void) control_reply_error(c, "io.berth.NoSuchContainer", p);
                return;
        }
        char deflt[SNAPSHOT_TAG_MAX + 1];
        if (!tag || !*tag) {
                snapshot_default_tag(deflt, NULL);
                tag = deflt;
        }
        if (!snapshot_tag_valid(tag, internal)) {
                snprintf(why, sizeof why, "'%.80s' is not a snapshot tag (letters, digits, '.', '_', '-', at most %d, "
                         "not beginning with '.')", tag, SNAPSHOT_TAG_MAX);
                json_object_object_add(p, "reason", json_object_new_string(why));
                (void) control_reply_error(c, "org.varlink.service.InvalidParameter", p);
                return;
        }
        _cleanup_free_ char *existing = snapshot_tag_dir(m->o.state_dir, u->name, tag);
        if (existing && access(existing, F_OK) == 0) {
                snprintf(why, sizeof why, "container '%s' has a snapshot '%s' already (berthctl snapshot rm %s %s)",
                         u->name, tag, u->name, tag);
                json_object_object_add(p, "reason", json_object_new_string(why));
                (void) control_reply_error(c, "io.berth.SnapshotExists", p);
                return;
        }
        bool busy = false;
        if (!layer_usable(u, why, sizeof why, &busy) ||
            layer_start(u, c, &(struct layer_job){ .tag = tag, .kind = SNAPSHOT_MANUAL }, why, sizeof why) < 0) {
                json_object_object_add(p, "reason", json_object_new_string(why));
                (void) control_reply_error(c, busy ? "io.berth.LayerBusy" : "io.berth.SnapshotFailed", p);
                return;
        }
        json_object_put(p);
}

void method_restore(struct manager *m, struct control_conn *c, json_object *params)
{
        char why[700];
        json_object *v;
        const char *name = params && json_object_object_get_ex(params, "name", &v) ? json_object_get_string(v) : NULL;
        const char *tag = params && json_object_object_get_ex(params, "tag", &v) ? json_object_get_string(v) : NULL;
        struct unit *u = name ? unit_find(m, name) : NULL;
        json_object *p = json_object_new_object();
        const char *err = "io.berth.RestoreFailed";
        if (!u) {
                json_object_object_add(p, "name", json_object_new_string(name ? name : ""));
                (void) control_reply_error(c, "io.berth.NoSuchContainer", p);
                return;
        }
        _cleanup_free_ char *sdir = tag && snapshot_tag_valid(tag, false) ? snapshot_tag_dir(m->o.state_dir, u->name, tag)
                                                                           : NULL;
        struct snapshot_info info;
        bool busy = false;
        if (!tag || !snapshot_tag_valid(tag, false)) {
                snprintf(why, sizeof why, "'%.80s' is not a snapshot tag", tag ? tag : "");
                err = "org.varlink.service.InvalidParameter";
        } else if (!sdir || snapshot_info_read(sdir, &info) < 0)
                snprintf(why, sizeof why, "container '%s' has no snapshot '%s' (see berthctl snapshot ls %s)", u->name,
                         tag, u->name);
        else if (!layer_usable(u, why, sizeof why, &busy))
                err = busy ? "io.berth.LayerBusy" : err;
        else if (u->state == U_RUNNING || u->state == U_STARTING || u->state == U_STOPPING || u->monitor_pid ||
                 u->pending_start) {
                snprintf(why, sizeof why, "container '%s' is %s: stop it first (berthctl restore does)", u->name,
                         u->pending_start ? "waiting to start" : unit_state_names[u->state]);
                err = "io.berth.ContainerRunning";
        } else if (!u->spec->template_name || !streq(info.template_name, u->spec->template_name))
                snprintf(why, sizeof why, "snapshot '%s' was made over template '%s', container '%s' now uses template "
                         "'%s': not restored", tag, info.template_name, u->name, u->spec->template_name);
        else if (layer_start(u, c, &(struct layer_job){ .restore = true, .tag = tag }, why, sizeof why) >= 0) {
                json_object_put(p);
                return;
        }
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, err, p);
}

void method_checkpoint(struct manager *m, struct control_conn *c, json_object *params)
{
        char why[700];
        json_object *v;
        const char *name = params && json_object_object_get_ex(params, "name", &v) ? json_object_get_string(v) : NULL;
        const char *tag = params && json_object_object_get_ex(params, "tag", &v) ? json_object_get_string(v) : NULL;
        bool leave = params && json_object_object_get_ex(params, "leave_running", &v) && json_object_get_boolean(v);
        const char *parent = params && json_object_object_get_ex(params, "parent", &v) ? json_object_get_string(v)
                                                                                        : NULL;
        struct unit *u = name ? unit_find(m, name) : NULL;
        json_object *p = json_object_new_object();
        const char *err = "io.berth.CheckpointFailed";
        if (!u) {
                json_object_object_add(p, "name", json_object_new_string(name ? name : ""));
                (void) control_reply_error(c, "io.berth.NoSuchContainer", p);
                return;
        }
        char deflt[SNAPSHOT_TAG_MAX + 1];
        if (!tag || !*tag) {
                snapshot_default_tag(deflt, "ckpt-");
                tag = deflt;
        }
        _cleanup_free_ char *existing = snapshot_tag_valid(tag, false) ? snapshot_tag_dir(m->o.state_dir, u->name, tag)
                                                                        : NULL;
        _cleanup_free_ char *sdir = snapshot_container_dir(m->o.state_dir, u->name);
        _cleanup_free_ char *pdir = parent && sdir ? strdup_printf("%s/%s", sdir, parent) : NULL;
        struct stat pst;
        bool busy = false;
        if (parent && (!predump_name_ok(parent) || !pdir || stat(pdir, &pst) < 0 || !S_ISDIR(pst.st_mode))) {
                snprintf(why, sizeof why, "'%.120s' is not a pre-dump of container '%s' (.live-ID/pre-N under %s)",
                         parent, u->name, sdir ? sdir : "its snapshot directory");
                err = "org.varlink.service.InvalidParameter";
        } else if (!snapshot_tag_valid(tag, false)) {
                snprintf(why, sizeof why, "'%.80s' is not a checkpoint tag (letters, digits, '.', '_', '-', at most %d, "
                         "not beginning with '.')", tag, SNAPSHOT_TAG_MAX);
                err = "org.varlink.service.InvalidParameter";
        } else if (existing && access(existing, F_OK) == 0) {
                snprintf(why, sizeof why, "container '%s' has a snapshot '%s' already (berthctl snapshot rm %s %s)",
                         u->name, tag, u->name, tag);
                err = "io.berth.SnapshotExists";
        } else if (!layer_usable(u, why, sizeof why, &busy))
                err = busy ? "io.berth.LayerBusy" : err;
        else if (u->state != U_RUNNING || u->init_pid <= 0)
                snprintf(why, sizeof why, "container '%s' is %s: only a running container has processes to checkpoint",
                         u->name, unit_state_names[u->state]);
        else if (unit_frozen(u))
                snprintf(why, sizeof why, "container '%s' is frozen (berthctl unfreeze %s): CRIU freezes it itself",
                         u->name, u->name);
        else if (layer_start(u, c, &(struct layer_job){ .checkpoint = true, .leave_running = leave, .parent = parent,
                                                 .tag = tag },
                             why, sizeof why) >= 0) {
                json_object_put(p);
                return;
        }
        json_object_object_add(p, "reason", json_object_new_string(why));
        (void) control_reply_error(c, err, p);
}

bool unit_set_restore(struct unit *u, const char *tag, char *why, size_t size)
{
        struct manager *m = u->m;
        struct snapshot_info info;
        bool busy;
        _cleanup_free_ char *dir = snapshot_tag_valid(tag, false) ? snapshot_tag_dir(m->o.state_dir, u->name, tag) : NULL;
        _cleanup_free_ char *images = dir ? strdup_printf("%s/criu/berth-stdio", dir) : NULL;
        if (!dir || snapshot_info_read(dir, &info) < 0) {
                snprintf(why, size, "container '%s' has no checkpoint '%.80s' (see berthctl snapshot ls %s)", u->name,
                         tag, u->name);
                return false;
        }
        if (info.kind != SNAPSHOT_CHECKPOINT || !images || access(images, F_OK) < 0) {
                snprintf(why, size, "snapshot '%s' of container '%s' is a layer snapshot, not a checkpoint (berthctl "
                         "restore %s %s puts its layer in place)", tag, u->name, u->name, tag);
                return false;
        }
        if (!layer_usable(u, why, size, &busy))
                return false;
        if (u->state == U_RUNNING || u->state == U_STARTING || u->state == U_STOPPING || u->monitor_pid ||
            u->pending_start) {
                snprintf(why, size, "container '%s' is %s: a checkpoint is restored in place of a start (stop it "
                         "first)", u->name, u->pending_start ? "waiting to start" : unit_state_names[u->state]);
                return false;
        }
        if (!streq(info.template_name, u->spec->template_name)) {
                snprintf(why, size, "checkpoint '%s' was made over template '%s', container '%s' now uses template "
                         "'%s': not restored", tag, info.template_name, u->name, u->spec->template_name);
                return false;
        }
        if (u->spec->idmap) {
                snprintf(why, size, "container '%s' has idmap: its checkpoint cannot be restored", u->name);
                return false;
        }
        free(u->restore_tag);
        u->restore_tag = strdup(tag);
        if (!u->restore_tag) {
                snprintf(why, size, "out of memory");
                return false;
        }
        return true;
}

/* ---- stateful stop ---------------------------------------------------------------------------- */

char *unit_stateful_path(struct manager *m, const char *name)
{
        _cleanup_free_ char *dir = snapshot_container_dir(m->o.state_dir, name);
        return dir ? strdup_printf("%s/.stateful", dir) : NULL;
}

void unit_stateful_drop(struct manager *m, const char *name, const char *tag)
{
        _cleanup_free_ char *p = unit_stateful_path(m, name);
        if (p && unlink(p) == 0) {
                char *slash = strrchr(p, '/');
                *slash = 0;
                _cleanup_close_ int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        if (tag)
                (void) snapshot_remove(m->o.state_dir, name, tag);
}

static int on_stateful_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct unit *u = userdata;
        (void) s;
        (void) usec;
        u->stateful_timer = sd_event_source_disable_unref(u->stateful_timer);
        if (!u->layer_pid || !u->layer_stateful)
                return 0;
        /* the worker and its criu: its report says why (layer_done) */
        u->stateful_timed_out = true;
        (void) kill(-u->layer_pid, SIGKILL);
        (void) kill(u->layer_pid, SIGKILL);
        return 0;
}

bool unit_stateful_begin(struct unit *u)
{
        struct manager *m = u->m;
        const struct spec_container *c = u->spec;
        if (!c || u->owned_spec || u->stateful_tried || u->state != U_RUNNING || u->init_pid <= 0)
                return false;
        if (!(c->line_stateful_stop ? c->stateful_stop : m->o.stateful_stop))
                return false;
        u->stateful_tried = true;
        char why[700], tag[SNAPSHOT_TAG_MAX + 1];
        bool busy;
        snapshot_default_tag(tag, "stateful-");
        _cleanup_free_ char *existing = snapshot_tag_dir(m->o.state_dir, u->name, tag);
        struct layer_job j = { .checkpoint = true, .stateful = true, .tag = tag, .berthd = getpid() };
        memcpy(j.restart_hash, u->rh, SPEC_HASH_LEN);
        if (c->idmap)
                snprintf(why, sizeof why, "container '%s' has idmap: a checkpoint of it cannot be restored", u->name);
        else if (unit_frozen(u))
                snprintf(why, sizeof why, "container '%s' is frozen (berthctl freeze): not checkpointed", u->name);
        else if (!layer_usable(u, why, sizeof why, &busy))
                ;
        else if (!existing || access(existing, F_OK) == 0)
                snprintf(why, sizeof why, "container '%s' has a snapshot '%s' already", u->name, tag);
        else {
                health_stop(u); /* no probe joins the tree CRIU dumps */
                /* Until the worker reports: a successor of a berthd that dies
                 * meanwhile knows the container's end was this checkpoint's. */
                _cleanup_free_ char *sdir = snapshot_container_dir(m->o.state_dir, u->name);
                if (sdir && mkdir_p(sdir, 0700) >= 0) {
                        _cleanup_close_ int dfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (dfd >= 0)
                                (void) write_file_atomic(dfd, ".stateful-pending", tag, strlen(tag), 0600);
                }
                if (layer_start(u, NULL, &j, why, sizeof why) >= 0) {
                        u->state = U_STOPPING;
                        /* A berthd that dies now leaves it running (the dump
                         * undone) or ended by the dump: its successor adopts
                         * or starts it as a running one, never finishes a stop. */
                        unit_save_intent_phase(u, STATE_PHASE_RUNNING);
                        emit(m, u->name, "stateful-stop", "checkpointing it as '%s' instead of stopping it", tag);
                        u->stateful_timer = sd_event_source_disable_unref(u->stateful_timer);
                        if (sd_event_add_time_relative(m->event, &u->stateful_timer, CLOCK_MONOTONIC,
                                                       STATEFUL_TIMEOUT_USEC, 0, on_stateful_timeout, u) < 0)
                                log_warning("container '%s': no bound for its checkpoint", u->name);
                        return true;
                }
                _cleanup_free_ char *pending = sdir ? strdup_printf("%s/.stateful-pending", sdir) : NULL;
                if (pending)
                        (void) unlink(pending);
        }
        emit(m, u->name, "stateful-stop-failed", "%s: stopping it cold", why);
        return false;
}

void manager_stateful_recover(struct manager *m)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                _cleanup_free_ char *rec = unit_stateful_path(m, u->name);
                _cleanup_free_ char *pending = rec ? strdup_printf("%s-pending", rec) : NULL;
                if (!pending || unlink(pending) < 0)
                        continue;
                /* Its berthd died during the checkpoint at shutdown. Running:
                 * the dump did not end it (adopted as it is). Ended by the dump
                 * without a record: the stop it stood for, so autostart decides. */
                if (!u->spec || u->owned_spec || u->pending_start || u->operator_stopped || access(rec, F_OK) == 0)
                        continue;
                if (u->state == U_RUNNING) {
                        /* Adopted: the orphaned dump may still end it (CRIU
                         * ends the tree after a dump; a frozen tree ends at
                         * its thaw), within the checkpoint's bound. */
                        u->stateful_orphan_until = now_mono(m) + STATEFUL_TIMEOUT_USEC;
                        continue;
                }
                if (u->state != U_STOPPED)
                        continue;
                emit(m, u->name, "stateful-stop-failed", "berthd ended during its checkpoint at shutdown: %s",
                     u->spec->autostart ? "starting it cold" : "stopped");
                if (u->spec->autostart)
                        unit_request_start(u);
        }
}

bool unit_stateful_orphan_exit(struct unit *u)
{
        struct manager *m = u->m;
        bool orphan = u->stateful_orphan_until && now_mono(m) <= u->stateful_orphan_until;
        u->stateful_orphan_until = 0;
        if (!orphan || m->shutting_down || u->operator_stopped || !u->spec || u->owned_spec)
                return false;
        emit(m, u->name, "stateful-stop-failed",
             "berthd ended during its checkpoint at shutdown, and the dump ended the container after its "
             "re-adoption: %s", u->spec->autostart ? "starting it cold" : "stopped");
        return u->spec->autostart;
}

void unit_stateful_pick(struct unit *u)
{
        struct manager *m = u->m;
        u->stateful_restore = false;
        _cleanup_free_ char *p = unit_stateful_path(m, u->name);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (!p || !u->spec || read_file_at(AT_FDCWD, p, 512, &text, &len) < 0)
                return;
        char why[700], rh[SPEC_HASH_LEN];
        /* "TAG HASH\n" */
        char *hash = strchr(text, ' '), *nl = hash ? strchr(hash, '\n') : NULL;
        const char *tag = text;
        if (hash)
                *hash++ = 0;
        if (nl)
                *nl = 0;
        if (!hash || !nl || !snapshot_tag_valid(tag, false)) {
                emit(m, u->name, "stateful-restore-failed", "%s is not a stateful checkpoint record: starting it cold",
                     p);
                unit_stateful_drop(m, u->name, NULL);
                return;
        }
        spec_container_hash_restart(u->spec, rh);
        if (u->restore_tag) {
                emit(m, u->name, "stateful-restore-failed", "started from checkpoint '%s' instead: its stateful "
                     "checkpoint '%s' is dropped", u->restore_tag, tag);
                unit_stateful_drop(m, u->name, tag);
                return;
        }
        if (!streq(hash, rh)) {
                emit(m, u->name, "stateful-restore-failed", "its definition changed since checkpoint '%s' (a restart "
                     "change): starting it cold", tag);
                unit_stateful_drop(m, u->name, tag);
                return;
        }
        if (!unit_set_restore(u, tag, why, sizeof why)) {
                emit(m, u->name, "stateful-restore-failed", "%s: starting it cold (checkpoint '%s' kept)", why, tag);
                unit_stateful_drop(m, u->name, NULL);
                return;
        }
        u->stateful_restore = true;
        emit(m, u->name, "stateful-restore", "restoring it from its checkpoint '%s'", tag);
}

/* ---- scheduled snapshots --------------------------------------------------------------------- */

/* When u's next scheduled snapshot is due (CLOCK_REALTIME usec): its
 * newest scheduled one + every, else every from now. */
static uint64_t schedule_next(struct manager *m, struct unit *u)
{
        uint64_t every = u->spec->snapshot_every;
        if (u->snapshot_next && u->snapshot_every_seen == every)
                return u->snapshot_next;
        u->snapshot_every_seen = every;
        uint64_t newest = 0;
        struct snapshot_info *v;
        size_t n;
        if (snapshot_list(m->o.state_dir, u->name, &v, &n) >= 0) {
                for (size_t i = 0; i < n; i++)
                        if (v[i].kind == SNAPSHOT_SCHEDULED && v[i].time_usec > newest)
                                newest = v[i].time_usec;
                free(v);
        }
        u->snapshot_next = newest ? newest + every : now_realtime() + every;
        return u->snapshot_next;
}

static int on_schedule(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        (void) s;
        (void) usec;
        uint64_t now = now_realtime(), wake = now + 60ULL * 1000000ULL;
        for (size_t i = 0; i < m->n_units && !m->shutting_down; i++) {
                struct unit *u = m->units[i];
                if (!u->spec || u->owned_spec || !u->spec->snapshot_every || !u->spec->template_name)
                        continue;
                uint64_t due = schedule_next(m, u);
                if (due <= now && !u->layer_pid) {
                        char why[700], tag[SNAPSHOT_TAG_MAX + 1];
                        _cleanup_free_ char *upper = strdup_printf("%s/%s/upper", m->containers_dir, u->name);
                        snapshot_default_tag(tag, "auto-");
                        _cleanup_free_ char *exists = snapshot_tag_dir(m->o.state_dir, u->name, tag);
                        if (!upper || access(upper, F_OK) < 0 || !exists || access(exists, F_OK) == 0)
                                /* never started (nothing to keep), or one this second already */
                                u->snapshot_next = now + u->spec->snapshot_every;
                        else if (layer_start(u, NULL,
                                             &(struct layer_job){ .tag = tag, .kind = SNAPSHOT_SCHEDULED,
                                                                  .keep = u->spec->snapshot_keep },
                                             why, sizeof why) < 0) {
                                emit(m, u->name, "snapshot-failed", "%s", why);
                                u->snapshot_next = now + u->spec->snapshot_every;
                        }
                        due = u->snapshot_next > now ? u->snapshot_next : now + SCHEDULE_TICK_USEC;
                }
                /* a reload may have changed `every`: look again within a few seconds */
                if (due < wake)
                        wake = due;
                if (now + SCHEDULE_TICK_USEC < wake)
                        wake = now + SCHEDULE_TICK_USEC;
        }
        (void) sd_event_source_set_time(m->snapshot_timer, now_mono(m) + (wake > now ? wake - now : 0));
        (void) sd_event_source_set_enabled(m->snapshot_timer, SD_EVENT_ONESHOT);
        return 0;
}

int manager_snapshot_schedule(struct manager *m)
{
        int r = sd_event_add_time_relative(m->event, &m->snapshot_timer, CLOCK_MONOTONIC, SCHEDULE_TICK_USEC,
                                           500 * 1000, on_schedule, m);
        return r < 0 ? r : 0;
}

void unit_layer_free(struct unit *u)
{
        if (u->layer_src) {
                u->layer_src = sd_event_source_disable_unref(u->layer_src);
                close(u->layer_fd);
        }
        if (u->layer_conn)
                control_conn_unref(u->layer_conn);
        u->layer_conn = NULL;
}
