/* berthctl's verbs on containers' writable layers: snapshot (ls, rm),
 * restore, clone, export and import. berthd takes every copy of a layer
 * (it freezes a running container for the instant of the copy, and holds
 * its starts meanwhile: lib/supervise_snapshot.c); berthctl stops and
 * starts through berthd, and does the slow parts that need no container
 * (the archive, moving the copies into place) itself, in its own process. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "backup.h"
#include "berthctl.h"
#include "config.h"
#include "criu.h"
#include "diag.h"
#include "snapshot.h"
#include "template.h"

#define STOP_WAIT_USEC (15ULL * 60 * 1000000ULL)

static json_object *name_param(const char *name)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        return p;
}

static int keep_obj(json_object *p, void *userdata)
{
        json_object **ret = userdata;
        if (p) {
                json_object_put(*ret);
                *ret = json_object_get(p);
        }
        return 0;
}

/* berthd's view of container name (Inspect): a new object, or NULL with
 * the error printed. */
static json_object *inspect(const char *name)
{
        json_object *o = NULL;
        if (call("io.berth.Container.Inspect", name_param(name), false, keep_obj, &o) != 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static const char *definition_template(json_object *o)
{
        json_object *d, *t;
        if (!json_object_object_get_ex(o, "definition", &d) || !json_object_object_get_ex(d, "template", &t) ||
            !json_object_is_type(t, json_type_string))
                return NULL;
        return json_object_get_string(t);
}

static void human_size(uint64_t b, char *buf, size_t size)
{
        static const char *const units[] = { "B", "K", "M", "G", "T" };
        double v = (double) b;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 "B", b);
        else
                snprintf(buf, size, "%.1f%s", v, units[u]);
}

static void format_time(uint64_t usec, char *buf, size_t size)
{
        time_t t = (time_t) (usec / 1000000ULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* A call on a container's layer (Snapshot, Restore), answered when berthd's
 * worker is done; tried again while another snapshot of the container (a
 * scheduled one) is under way. The last reply into *ret. 0, or 1 with the
 * error printed. */
static int call_layer(const char *method, json_object *params, json_object **ret)
{
        int r = -EREMOTEIO;
        char *error = NULL;
        json_object *ep = NULL, *o = NULL;
        /* A streaming call waits for ever once sent (the copy may take
         * long); --timeout bounds whether berthd answers at all. */
        struct daemon_dirs dd;
        r = daemon_dirs(&dd);
        if (r == -ETIMEDOUT) {
                uint64_t t = CONTROL_TIMEOUT_USEC;
                char buf[64];
                (void) call_timeout(&t);
                fail("berthctl: berthd at %s did not answer within %s (see --timeout)", ctl_socket(),
                     format_duration(t, buf, sizeof buf));
                json_object_put(params);
                return 1;
        }
        for (int i = 0; i < 600; i++) {
                free(error);
                json_object_put(ep);
                error = NULL;
                ep = NULL;
                r = call_raw(method, params, true, keep_obj, &o, &error, &ep);
                if (r != -EREMOTEIO || !error || !streq(error, "io.berth.LayerBusy"))
                        break;
                (void) nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
        }
        json_object_put(params);
        json_object *v;
        if (r == -EREMOTEIO) {
                if (error && streq(error, "io.berth.NoSuchContainer") && ep && json_object_object_get_ex(ep, "name", &v))
                        fail("berthctl: no container '%s'", json_object_get_string(v));
                else if (ep && json_object_object_get_ex(ep, "reason", &v))
                        fail("berthctl: %s: %s", error, json_object_get_string(v));
                else
                        fail("berthctl: %s", error ? error : "error");
        }
        free(error);
        json_object_put(ep);
        if (r < 0) {
                json_object_put(o);
                return 1;
        }
        *ret = o;
        return 0;
}

/* Asks berthd for snapshot tag of name (internal: a temporary one of
 * berthctl's); the snapshot's description into *ret when not NULL. */
static int take_snapshot(const char *name, const char *tag, bool internal, json_object **ret)
{
        json_object *p = name_param(name);
        if (tag)
                json_object_object_add(p, "tag", json_object_new_string(tag));
        if (internal)
                json_object_object_add(p, "internal", json_object_new_boolean(true));
        json_object *o = NULL;
        int r = call_layer("io.berth.Container.Snapshot", p, &o);
        if (r == 0 && !o) {
                fail("berthctl: berthd ended the snapshot without a word");
                r = 1;
        }
        if (r == 0 && ret)
                *ret = o;
        else
                json_object_put(o);
        return r;
}

/* The state directory: --state-dir, else berthd's. */
static int need_dirs(struct daemon_dirs *dd, const struct ctl_args *a)
{
        int r = daemon_dirs(dd);
        if (r == -ETIMEDOUT) {
                uint64_t t = CONTROL_TIMEOUT_USEC;
                char buf[64];
                (void) call_timeout(&t);
                fail("berthctl: berthd at %s did not answer within %s (see --timeout)", ctl_socket(),
                     format_duration(t, buf, sizeof buf));
                return -1;
        }
        if (r < 0) {
                fail("berthctl %s: cannot talk to berthd at %s: %s (it takes the copies)", a->verb, ctl_socket(),
                     strerror(-r));
                return -1;
        }
        if (a->state)
                snprintf(dd->state, sizeof dd->state, "%s", a->state);
        if (a->conf)
                snprintf(dd->conf, sizeof dd->conf, "%s", a->conf);
        return 0;
}

/* ---- snapshot, snapshot ls, snapshot rm ------------------------------------------------------- */

static int snapshot_ls(struct ctl_args *a, const char *name)
{
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        json_object *o = inspect(name);
        if (!o)
                return 1;
        json_object_put(o);
        struct snapshot_info *v;
        size_t n;
        int r = snapshot_list(dd.state, name, &v, &n);
        if (r < 0) {
                fail("berthctl snapshot ls: cannot read the snapshots of '%s': %s", name, strerror(-r));
                return 1;
        }
        if (json_enabled()) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++) {
                        json_object *s = json_object_new_object();
                        json_object_object_add(s, "tag", json_object_new_string(v[i].tag));
                        json_object_object_add(s, "time_usec", json_object_new_uint64(v[i].time_usec));
                        json_object_object_add(s, "size", json_object_new_uint64(v[i].size));
                        json_object_object_add(s, "files", json_object_new_uint64(v[i].files));
                        json_object_object_add(s, "method", json_object_new_string(v[i].method));
                        json_object_object_add(s, "kind", json_object_new_string(snapshot_kind_to_string(v[i].kind)));
                        json_object_object_add(s, "template", json_object_new_string(v[i].template_name));
                        json_object_array_add(arr, s);
                }
                json_object *doc = json_object_new_object();
                json_object_object_add(doc, "snapshots", arr);
                print_json(doc);
                json_object_put(doc);
        } else {
                printf("%-24s %-20s %9s %-8s %s\n", "TAG", "TIME", "SIZE", "METHOD", "KIND");
                for (size_t i = 0; i < n; i++) {
                        char t[32], s[32];
                        format_time(v[i].time_usec, t, sizeof t);
                        human_size(v[i].size, s, sizeof s);
                        printf("%-24s %-20s %9s %-8s %s\n", v[i].tag, t, s, v[i].method,
                               snapshot_kind_to_string(v[i].kind));
                }
        }
        free(v);
        return 0;
}

static int snapshot_rm(struct ctl_args *a, const char *name, const char *tag)
{
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        if (!snapshot_tag_valid(tag, false)) {
                fail("berthctl snapshot rm: '%s' is not a snapshot tag", tag);
                return 1;
        }
        int r = snapshot_remove(dd.state, name, tag);
        if (r == -ENOENT) {
                fail("berthctl snapshot rm: container '%s' has no snapshot '%s' (see berthctl snapshot ls %s)", name,
                     tag, name);
                return 1;
        }
        if (r < 0) {
                fail("berthctl snapshot rm: cannot remove snapshot '%s' of '%s': %s", tag, name, strerror(-r));
                return 1;
        }
        printf("removed snapshot '%s' of '%s'\n", tag, name);
        return 0;
}

int verb_snapshot(struct ctl_args *a)
{
        if (streq(a->argv[0], "ls") && a->argc == 2)
                return snapshot_ls(a, a->argv[1]);
        if (streq(a->argv[0], "rm") && a->argc == 3)
                return snapshot_rm(a, a->argv[1], a->argv[2]);
        if (a->argc > 2) {
                fail("berthctl snapshot: expected NAME [TAG], ls NAME or rm NAME TAG");
                return 2;
        }
        const char *tag = a->argc == 2 ? a->argv[1] : NULL;
        if (tag && !snapshot_tag_valid(tag, false)) {
                fail("berthctl snapshot: '%s' is not a snapshot tag (letters, digits, '.', '_', '-'; at most %d; not "
                     "beginning with '.')", tag, SNAPSHOT_TAG_MAX);
                return 1;
        }
        json_object *o = NULL;
        if (take_snapshot(a->argv[0], tag, false, &o) != 0)
                return 1;
        if (json_enabled())
                print_json(o);
        else {
                char s[32];
                human_size((uint64_t) jint(o, "size"), s, sizeof s);
                printf("snapshot '%s' of '%s': %" PRId64 " files, %s, method %s%s\n", jstr(o, "tag"), a->argv[0],
                       jint(o, "files"), s, jstr(o, "method"),
                       json_object_get_boolean(json_object_object_get(o, "frozen")) ? " (frozen for the copy)" : "");
        }
        json_object_put(o);
        return 0;
}

/* ---- checkpoint ------------------------------------------------------------------------------ */

int verb_checkpoint(struct ctl_args *a)
{
        const char *tag = a->argc == 2 ? a->argv[1] : NULL;
        if (tag && !snapshot_tag_valid(tag, false)) {
                fail("berthctl checkpoint: '%s' is not a checkpoint tag (letters, digits, '.', '_', '-'; at most %d; "
                     "not beginning with '.')", tag, SNAPSHOT_TAG_MAX);
                return 1;
        }
        json_object *p = name_param(a->argv[0]);
        if (tag)
                json_object_object_add(p, "tag", json_object_new_string(tag));
        if (a->leave_running)
                json_object_object_add(p, "leave_running", json_object_new_boolean(true));
        json_object *o = NULL;
        if (call_layer("io.berth.Container.Checkpoint", p, &o) != 0)
                return 1;
        if (!o) {
                fail("berthctl: berthd ended the checkpoint without a word");
                return 1;
        }
        if (json_enabled())
                print_json(o);
        else {
                char s[32];
                human_size((uint64_t) jint(o, "size"), s, sizeof s);
                printf("checkpoint '%s' of '%s': processes and layer (%" PRId64 " files, %s, method %s)%s\n",
                       jstr(o, "tag"), a->argv[0], jint(o, "files"), s, jstr(o, "method"),
                       a->leave_running ? "; still running" : "; stopped");
        }
        json_object_put(o);
        return 0;
}

static bool state_is_up(const char *s)
{
        return streq(s, "running") || streq(s, "starting") || streq(s, "frozen") || streq(s, "waiting") ||
               streq(s, "backoff") || streq(s, "stopping");
}

/* The outcome of the latest restore from a checkpoint in o's events: 1
 * failed (why: the event's detail), 0 not known yet. */
static int restore_outcome(json_object *o, const char **why)
{
        json_object *ev;
        int failed = 0;
        if (!json_object_object_get_ex(o, "events", &ev))
                return 0;
        for (size_t i = 0; i < json_object_array_length(ev); i++) {
                json_object *e = json_object_array_get_idx(ev, i);
                const char *name = jstr(e, "event"), *detail = jstr(e, "detail");
                if (streq(name, "start") && strncmp(detail, "from checkpoint", 15) == 0)
                        failed = 0;
                else if (streq(name, "start-failed") || streq(name, "exited")) {
                        failed = 1;
                        *why = detail;
                }
        }
        return failed;
}

/* start --from-checkpoint TAG NAME: berthd restores it in place of a
 * start; waits until it runs (or the restore failed: berthd's reason). */
int start_from_checkpoint(struct ctl_args *a)
{
        if (a->argc != 1) {
                fail("berthctl start: --from-checkpoint restores one container");
                return 2;
        }
        const char *name = a->argv[0], *tag = a->from_checkpoint;
        if (!snapshot_tag_valid(tag, false)) {
                fail("berthctl start: --from-checkpoint: '%s' is not a checkpoint tag", tag);
                return 1;
        }
        json_object *p = json_object_new_object(), *arr = json_object_new_array();
        json_object_array_add(arr, json_object_new_string(name));
        json_object_object_add(p, "names", arr);
        json_object_object_add(p, "from_checkpoint", json_object_new_string(tag));
        json_object *o = NULL;
        if (call_layer("io.berth.Container.Start", p, &o) != 0)
                return 1;
        json_object_put(o);
        /* the restore runs in berthd's spawner: wait for its outcome */
        for (int i = 0; i < 1200; i++) {
                (void) nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
                o = inspect(name);
                if (!o)
                        return 1;
                const char *st = jstr(o, "state");
                const char *why = "";
                /* A failed restore, even if the restart policy started it
                 * cold since (then it runs, but not from the checkpoint). */
                if (restore_outcome(o, &why)) {
                        if (state_is_up(st))
                                fail("berthctl start: '%s' was not restored from checkpoint '%s': %s (berthd "
                                     "started it afresh since, per its restart policy: %s)",
                                     name, tag, why, st);
                        else
                                fail("berthctl start: '%s' was not restored from checkpoint '%s': %s", name, tag,
                                     why);
                        json_object_put(o);
                        return 1;
                }
                if (streq(st, "running")) {
                        if (json_enabled())
                                print_json(o);
                        else
                                printf("'%s' restored from checkpoint '%s': running, pid %" PRId64 "\n", name, tag,
                                       jint(o, "pid"));
                        json_object_put(o);
                        return 0;
                }
                json_object_put(o);
        }
        fail("berthctl start: '%s' is not running 120 s after its restore from '%s' began", name, tag);
        return 1;
}

/* ---- restore ------------------------------------------------------------------------------------ */


/* Polls berthd until name is down: 0, or 1 with the error printed. */
static int wait_down(const char *name)
{
        for (uint64_t waited = 0; waited < STOP_WAIT_USEC; waited += 100000) {
                json_object *o = inspect(name);
                if (!o)
                        return 1;
                bool up = state_is_up(jstr(o, "state"));
                json_object_put(o);
                if (!up)
                        return 0;
                (void) nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
        fail("berthctl restore: '%s' did not stop", name);
        return 1;
}

static int start_again(const char *name)
{
        json_object *p = json_object_new_object();
        json_object *arr = json_object_new_array();
        json_object_array_add(arr, json_object_new_string(name));
        json_object_object_add(p, "names", arr);
        return call("io.berth.Container.Start", p, false, NULL, NULL);
}

int verb_restore(struct ctl_args *a)
{
        const char *name = a->argv[0], *tag = a->argv[1];
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        if (!snapshot_tag_valid(tag, false)) {
                fail("berthctl restore: '%s' is not a snapshot tag", tag);
                return 1;
        }
        json_object *o = inspect(name);
        if (!o)
                return 1;
        /* Everything that can be checked before the container is touched. */
        _cleanup_free_ char *sdir = snapshot_tag_dir(dd.state, name, tag);
        struct snapshot_info info;
        const char *tmpl = definition_template(o);
        int r = 0;
        if (!sdir || snapshot_info_read(sdir, &info) < 0) {
                fail("berthctl restore: container '%s' has no snapshot '%s' (see berthctl snapshot ls %s)", name, tag,
                     name);
                r = 1;
        } else if (!tmpl || !streq(tmpl, info.template_name)) {
                fail("berthctl restore: snapshot '%s' was made over template '%s', container '%s' now uses %s%s%s: not "
                     "restored", tag, info.template_name, name, tmpl ? "template '" : "no template", tmpl ? tmpl : "",
                     tmpl ? "'" : "");
                r = 1;
        } else {
                char id[65];
                int q = snapshot_template_identity(dd.state, tmpl, id);
                if (q < 0) {
                        fail("berthctl restore: template '%s': %s", tmpl, strerror(-q));
                        r = 1;
                } else if (info.template_id[0] && !streq(id, info.template_id)) {
                        fail("berthctl restore: snapshot '%s' was made over another build of template '%s': not "
                             "restored", tag, tmpl);
                        r = 1;
                }
        }
        bool was_up = state_is_up(jstr(o, "state"));
        json_object_put(o);
        if (r)
                return r;
        if (was_up) {
                json_object *p = json_object_new_object();
                json_object *arr = json_object_new_array();
                json_object_array_add(arr, json_object_new_string(name));
                json_object_object_add(p, "names", arr);
                if (call("io.berth.Container.Stop", p, false, NULL, NULL) != 0 || wait_down(name) != 0)
                        return 1;
        }
        json_object *p = name_param(name);
        json_object_object_add(p, "tag", json_object_new_string(tag));
        json_object *res = NULL;
        r = call_layer("io.berth.Container.Restore", p, &res);
        json_object_put(res);
        if (r == 0)
                printf("restored '%s' from snapshot '%s'; the layer it replaced is snapshot '%s'\n", name, tag,
                       SNAPSHOT_PRE_RESTORE);
        /* Up again as it was, restored or not. */
        if (was_up) {
                int q = start_again(name);
                if (q == 0)
                        printf("started '%s' again\n", name);
                r = r ? r : q;
        }
        return r;
}

/* ---- clone -------------------------------------------------------------------------------------- */

/* Whether name is taken: declared in conf (or a file NAME.conf there), known
 * to berthd, or with data in state. Prints why and returns true. */
static bool name_taken(const char *verb, const char *name, const struct daemon_dirs *dd)
{
        struct spec_set files = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dd->conf, &files, &d);
        const struct spec_container *f = r >= 0 ? spec_set_find_container(&files, name) : NULL;
        bool taken = false;
        if (f) {
                fail("berthctl %s: container '%s' exists: declared in %s:%d", verb, name, f->file ? f->file : "?",
                     f->line);
                taken = true;
        }
        spec_set_done(&files);
        diag_done(&d);
        if (taken)
                return true;
        _cleanup_free_ char *file = strdup_printf("%s/%s.conf", dd->conf, name);
        _cleanup_free_ char *cdir = state_container_dir(dd->state, name);
        _cleanup_free_ char *sdir = snapshot_container_dir(dd->state, name);
        char dir[4096];
        if (file && access(file, F_OK) == 0)
                fail("berthctl %s: container '%s' exists: %s is there", verb, name, file);
        else if (daemon_container_dir(name, dir) == 0 && dir[0])
                fail("berthctl %s: container '%s' exists: berthd knows it (berthctl ls --all)", verb, name);
        else if (cdir && access(cdir, F_OK) == 0)
                fail("berthctl %s: container '%s' exists: it has data in %s (berthctl destroy %s)", verb, name, cdir,
                     name);
        else if (sdir && access(sdir, F_OK) == 0 && rmdir(sdir) < 0)
                fail("berthctl %s: container '%s' has snapshots in %s: remove them first", verb, name, sdir);
        else
                return false;
        return true;
}

static int read_text(const char *path, char **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len;
        return fd < 0 ? -errno : read_file_fd(fd, 16 << 20, ret, &len);
}

/* Writes text as DIR/NAME.conf, never over a file: 0 or -errno. */
static int write_definition(const char *conf, const char *name, const char *text, char **ret_path)
{
        _cleanup_free_ char *path = strdup_printf("%s/%s.conf", conf, name);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0) {
                int r = errno ? -errno : -EIO;
                (void) unlink(path);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static void temp_tag(char buf[static SNAPSHOT_TAG_MAX + 1], const char *what)
{
        snprintf(buf, SNAPSHOT_TAG_MAX + 1, ".%s-%d-%ld", what, (int) getpid(), (long) time(NULL));
}

int verb_clone(struct ctl_args *a)
{
        const char *src = a->argv[0], *dst = a->argv[1];
        struct daemon_dirs dd;
        if (!name_is_valid(dst)) {
                fail("berthctl clone: '%s' is not a container name", dst);
                return 1;
        }
        if (need_dirs(&dd, a) < 0)
                return 1;
        json_object *o = inspect(src);
        if (!o)
                return 1;
        _cleanup_free_ char *file = strdup(jstr(o, "file"));
        bool templated = definition_template(o) != NULL;
        json_object_put(o);
        if (!file || !*file) {
                fail("berthctl clone: container '%s' is not declared (orphaned): nothing to clone its definition from",
                     src);
                return 1;
        }
        if (!templated) {
                fail("berthctl clone: container '%s' runs on a rootfs, not a template: it has no writable layer of "
                     "berth's", src);
                return 1;
        }
        if (name_taken("clone", dst, &dd))
                return 1;
        _cleanup_free_ char *text = NULL, *def = NULL, *written = NULL;
        int r = read_text(file, &text);
        if (r < 0) {
                fail("berthctl clone: cannot read %s: %s", file, strerror(-r));
                return 1;
        }
        r = backup_definition_rewrite(text, src, dst, true, &def);
        if (r < 0) {
                fail("berthctl clone: %s declares no container '%s' any more: reload first", file, src);
                return 1;
        }
        char tag[SNAPSHOT_TAG_MAX + 1];
        temp_tag(tag, "clone");
        if (take_snapshot(src, tag, true, NULL) != 0)
                return 1;
        _cleanup_free_ char *sdir = snapshot_tag_dir(dd.state, src, tag);
        _cleanup_free_ char *from = strdup_printf("%s/upper", sdir ? sdir : "");
        _cleanup_free_ char *cdir = state_container_dir(dd.state, dst);
        _cleanup_free_ char *to = strdup_printf("%s/upper", cdir ? cdir : "");
        int ret = 1;
        if (!sdir || !from || !cdir || !to)
                fail("berthctl clone: out of memory");
        else if (mkdir_p(cdir, 0700) < 0)
                fail("berthctl clone: cannot create %s: %m", cdir);
        else if (rename(from, to) < 0) {
                fail("berthctl clone: cannot move the copy into %s: %m", to);
                (void) rm_rf(cdir);
        } else if ((r = write_definition(dd.conf, dst, def, &written)) < 0) {
                fail("berthctl clone: cannot write %s/%s.conf: %s", dd.conf, dst, strerror(-r));
                (void) rm_rf(cdir);
        } else
                ret = 0;
        if (sdir)
                (void) rm_rf(sdir);
        if (ret == 0)
                printf("cloned '%s' as '%s': %s written (no static address, no published ports); not started: "
                       "berthctl plan shows it, berthctl reload creates it\n", src, dst, written);
        return ret;
}

/* ---- export ------------------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && streq(s + l - k, suffix);
}

/* Writes the archive of container name (over template tmpl) to fd, from a
 * temporary snapshot berthd takes; with_snapshots: its snapshots too.
 * 0, -ECANCELED (the snapshot failed: said already) or -errno with e set. */
static int export_fd(const struct daemon_dirs *dd, const char *name, const char *tmpl, int fd, bool with_snapshots,
                     bool zstd, struct error *e)
{
        char tag[SNAPSHOT_TAG_MAX + 1];
        temp_tag(tag, "export");
        if (take_snapshot(name, tag, true, NULL) != 0)
                return -ECANCELED;
        _cleanup_free_ char *sdir = snapshot_tag_dir(dd->state, name, tag);
        struct snapshot_info info = { 0 };
        (void) snapshot_info_read(sdir ? sdir : "", &info);
        struct backup_source src = { .name = name, .layer_dir = sdir, .template_name = tmpl,
                                     .template_id = info.template_id };
        struct snapshot_info *v = NULL;
        size_t n = 0;
        if (with_snapshots && snapshot_list(dd->state, name, &v, &n) >= 0)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *d = snapshot_tag_dir(dd->state, name, v[i].tag);
                        if (!d || strv_push(&src.snapshot_tags, v[i].tag) < 0 || strv_push(&src.snapshot_dirs, d) < 0)
                                break;
                }
        free(v);
        int r = backup_export(&src, fd, zstd, e);
        strv_free(src.snapshot_tags);
        strv_free(src.snapshot_dirs);
        if (sdir)
                (void) rm_rf(sdir);
        return r;
}

int verb_export(struct ctl_args *a)
{
        const char *name = a->argv[0];
        if (!a->output) {
                fail("berthctl export: expected -o FILE (or -o - for standard output)");
                return 2;
        }
        bool to_stdout = streq(a->output, "-");
        if (to_stdout && isatty(STDOUT_FILENO)) {
                fail("berthctl export: standard output is a terminal: redirect it, or give -o FILE");
                return 1;
        }
        if (a->live) {
                /* where CRIU cannot work, at once: CRIU's own reason */
                struct error ce = { 0 };
                if (criu_check(&ce) < 0) {
                        fail("berthctl migrate: --live: %s", ce.msg);
                        return 1;
                }
        }
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        json_object *o = inspect(name);
        if (!o)
                return 1;
        _cleanup_free_ char *tmpl = definition_template(o) ? strdup(definition_template(o)) : NULL;
        json_object_put(o);
        if (!tmpl) {
                fail("berthctl export: container '%s' is not declared over a template: it has no writable layer of "
                     "berth's", name);
                return 1;
        }
        /* An existing FILE that is not a regular file (a device, a fifo) is
         * written in place: FILE.partial renamed over it would replace it. */
        struct stat ost;
        bool in_place = !to_stdout && stat(a->output, &ost) == 0 && !S_ISREG(ost.st_mode) && !S_ISDIR(ost.st_mode);
        _cleanup_free_ char *partial = to_stdout || in_place ? NULL : strdup_printf("%s.partial", a->output);
        _cleanup_close_ int fd = -1;
        if (in_place) {
                fd = open(a->output, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        fail("berthctl export: cannot open %s: %m", a->output);
                        return 1;
                }
        } else if (!to_stdout) {
                fd = partial ? open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
                if (fd < 0) {
                        fail("berthctl export: cannot create %s: %m", partial ? partial : a->output);
                        return 1;
                }
        }
        struct error e = { 0 };
        int r = export_fd(&dd, name, tmpl, to_stdout ? STDOUT_FILENO : fd, a->with_snapshots,
                          !to_stdout && ends_with(a->output, ".zst"), &e);
        if (r == -ECANCELED) {
                if (partial)
                        (void) unlink(partial);
                return 1;
        }
        if (r >= 0 && partial && (fsync(fd) < 0 || rename(partial, a->output) < 0))
                r = error_set(&e, -errno, "cannot write %s", a->output);
        if (r < 0) {
                if (partial)
                        (void) unlink(partial);
                fail("berthctl export: %s", e.msg);
                return 1;
        }
        if (!to_stdout)
                fprintf(stderr, "exported '%s' to %s\n", name, a->output);
        return 0;
}

static int import_restore(const struct daemon_dirs *dd, const char *name, const char *written);
static int import_stage(const struct ctl_args *a, const struct daemon_dirs *dd);
static int import_restore_live(const struct daemon_dirs *dd, const char *name, const char *written, const char *id,
                               const char *tag);
static bool migration_id_ok(const char *id);

/* ---- import ------------------------------------------------------------------------------------- */

/* Moves the staged import into place as container name: its layer, its
 * snapshots, its definition (last: berthd sees nothing of it before).
 * Undoes what it did on failure. */
static int place_import(const struct daemon_dirs *dd, const char *stage, const struct backup_manifest *m,
                        const char *name, const char *def, char **written)
{
        _cleanup_free_ char *cdir = state_container_dir(dd->state, name);
        _cleanup_free_ char *from = strdup_printf("%s/container/upper", stage);
        _cleanup_free_ char *to = strdup_printf("%s/upper", cdir ? cdir : "");
        _cleanup_free_ char *top = strdup_printf("%s/" SNAPSHOT_DIR, dd->state);
        _cleanup_free_ char *sdir = snapshot_container_dir(dd->state, name);
        if (!cdir || !from || !to || !top || !sdir) {
                fail("berthctl import: out of memory");
                return -ENOMEM;
        }
        if (mkdir_p(cdir, 0700) < 0 || rename(from, to) < 0) {
                fail("berthctl import: cannot move the layer into %s: %m", to);
                goto undo;
        }
        if (m->snapshot_tags && mkdir_p(sdir, 0700) < 0) {
                fail("berthctl import: cannot create %s: %m", sdir);
                goto undo;
        }
        for (size_t i = 0; m->snapshot_tags && m->snapshot_tags[i]; i++) {
                _cleanup_free_ char *sf = strdup_printf("%s/snapshots/%s", stage, m->snapshot_tags[i]);
                _cleanup_free_ char *st = strdup_printf("%s/%s", sdir, m->snapshot_tags[i]);
                if (!sf || !st || rename(sf, st) < 0) {
                        fail("berthctl import: cannot move snapshot '%s' into %s: %m", m->snapshot_tags[i], sdir);
                        goto undo;
                }
        }
        int r = write_definition(dd->conf, name, def, written);
        if (r < 0) {
                fail("berthctl import: cannot write %s/%s.conf: %s", dd->conf, name, strerror(-r));
                goto undo;
        }
        return 0;
undo:
        (void) rm_rf(cdir);
        if (m->snapshot_tags)
                (void) rm_rf(sdir);
        return -EIO;
}

int verb_import(struct ctl_args *a)
{
        const char *file = a->argv[0];
        if (a->new_name && !name_is_valid(a->new_name)) {
                fail("berthctl import: --name: '%s' is not a container name", a->new_name);
                return 1;
        }
        if (a->stage && !migration_id_ok(a->stage)) {
                fail("berthctl import: --stage: '%s' is not a migration id (1 to 32 lower-case letters and digits)",
                     a->stage);
                return 2;
        }
        if (a->abort_stage && !a->stage) {
                fail("berthctl import: --abort goes with --stage ID");
                return 2;
        }
        if (a->stage && a->new_name) {
                fail("berthctl import: --stage imports a migrated container under its own name: no --name");
                return 2;
        }
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        if (a->stage && (a->abort_stage || !a->restore))
                return import_stage(a, &dd);
        if (a->new_name && name_taken("import", a->new_name, &dd))
                return 1;
        bool from_stdin = streq(file, "-");
        _cleanup_close_ int fd = from_stdin ? -1 : open(file, O_RDONLY | O_CLOEXEC);
        if (!from_stdin && fd < 0) {
                fail("berthctl import: cannot open %s: %m", file);
                return 1;
        }
        _cleanup_free_ char *top = strdup_printf("%s/" SNAPSHOT_DIR, dd.state);
        _cleanup_free_ char *stage = strdup_printf("%s/" SNAPSHOT_DIR "/.import-%d", dd.state, (int) getpid());
        if (!top || !stage || mkdir_p(top, 0700) < 0) {
                fail("berthctl import: cannot create %s: %m", top ? top : dd.state);
                return 1;
        }
        (void) rm_rf(stage);
        if (mkdir(stage, 0700) < 0) {
                fail("berthctl import: cannot create %s: %m", stage);
                return 1;
        }
        struct backup_manifest m = { 0 };
        struct error e = { 0 };
        _cleanup_free_ char *text = NULL, *def = NULL, *defpath = NULL, *written = NULL, *tpath = NULL;
        int ret = 1;
        const char *name = NULL;
        if (backup_import(from_stdin ? STDIN_FILENO : fd, stage, &m, &e) < 0) {
                fail("berthctl import: %s: %s; nothing was imported", from_stdin ? "standard input" : file, e.msg);
                goto out;
        }
        name = a->new_name ? a->new_name : m.name;
        if (!a->new_name && name_taken("import", name, &dd))
                goto out;
        char id[65];
        int r = template_lookup(dd.state, m.template_name, &tpath);
        if (r < 0) {
                fail("berthctl import: container '%s' needs template '%s', which is not built or imported in %s "
                     "(berthctl template build %s, or template import); nothing was imported",
                     m.name, m.template_name, dd.state, m.template_name);
                goto out;
        }
        r = snapshot_template_identity(dd.state, m.template_name, id);
        if (r < 0 || !streq(id, m.template_id)) {
                fail("berthctl import: template '%s' here is not the one '%s' was made over (identity %.12s, here "
                     "%.12s): its files would differ; nothing was imported", m.template_name, m.name, m.template_id,
                     r < 0 ? "unreadable" : id);
                goto out;
        }
        char live_tag[SNAPSHOT_TAG_MAX + 1] = "";
        if (a->stage) {
                snprintf(live_tag, sizeof live_tag, "live-%s", a->stage);
                if (!m.snapshot_tags || !m.snapshot_tags[0] || m.snapshot_tags[1] ||
                    !streq(m.snapshot_tags[0], live_tag)) {
                        fail("berthctl import: --stage %s: the archive is not the last dump of that migration (one "
                             "checkpoint '%s'); nothing was imported", a->stage, live_tag);
                        goto out;
                }
        }
        defpath = strdup_printf("%s/container/definition.conf", stage);
        if (!defpath || read_text(defpath, &text) < 0 ||
            backup_definition_rewrite(text, m.name, name, !streq(name, m.name), &def) < 0) {
                fail("berthctl import: the archive holds no definition of container '%s'; nothing was imported",
                     m.name);
                goto out;
        }
        if (place_import(&dd, stage, &m, name, def, &written) < 0)
                goto out;
        if (a->restore) {
                printf("imported '%s'%s%s%s: %s written\n", name, streq(name, m.name) ? "" : " (from '",
                       streq(name, m.name) ? "" : m.name, streq(name, m.name) ? "" : "')", written);
                ret = a->stage ? import_restore_live(&dd, name, written, a->stage, live_tag)
                               : import_restore(&dd, name, written);
                goto out;
        }
        printf("imported '%s'%s%s%s: %s written; not started: berthctl plan shows it, berthctl reload creates it\n",
               name, streq(name, m.name) ? "" : " (from '", streq(name, m.name) ? "" : m.name,
               streq(name, m.name) ? "" : "')", written);
        ret = 0;
out:
        (void) rm_rf(stage);
        backup_manifest_done(&m);
        return ret;
}

/* ---- import --restore and migrate ---------------------------------------------------------------- */

static json_object *names_param(const char *name)
{
        json_object *p = json_object_new_object(), *arr = json_object_new_array();
        json_object_array_add(arr, json_object_new_string(name));
        json_object_object_add(p, "names", arr);
        return p;
}

static int reload_quiet(void)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "wait", json_object_new_boolean(1));
        return call("io.berth.Manager.Reload", p, false, NULL, NULL);
}

/* Waits (at most timeout_s) until name runs: 0; 1 with the error printed
 * when it stopped with start-failed or exited after since_usec. */
static int wait_running(const char *verb, const char *name, int timeout_s)
{
        for (int i = 0; i < timeout_s * 10; i++) {
                json_object *o = inspect(name);
                if (o) {
                        const char *st = jstr(o, "state");
                        bool up = streq(st, "running");
                        bool down = streq(st, "failed") || (streq(st, "stopped") && jstr(o, "error")[0]);
                        if (down)
                                fail("berthctl %s: '%s' did not start: %s", verb, name, jstr(o, "error"));
                        json_object_put(o);
                        if (up)
                                return 0;
                        if (down)
                                return 1;
                }
                (void) nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
        fail("berthctl %s: '%s' is not running after %d s", verb, name, timeout_s);
        return 1;
}

/* import --restore, once the container's files and definition are in
 * place: the definition applied (reload), the container started and
 * running. On failure, what the import put here is taken back. */
static int import_restore(const struct daemon_dirs *dd, const char *name, const char *written)
{
        if (reload_quiet() == 0 && call("io.berth.Container.Start", names_param(name), false, NULL, NULL) == 0 &&
            wait_running("import", name, 120) == 0) {
                printf("'%s' is running\n", name);
                return 0;
        }
        /* take it back: no definition, no data, no snapshots */
        (void) unlink(written);
        (void) reload_quiet();
        (void) call_quiet("io.berth.Container.Destroy", name_param(name), NULL, NULL);
        _cleanup_free_ char *sdir = snapshot_container_dir(dd->state, name);
        if (sdir)
                (void) rm_rf(sdir);
        fail("berthctl import: '%s' removed again: it did not run here", name);
        return 1;
}

/* Whether the definition file holds container name's block and nothing
 * else (comments and blank space aside). */
static bool file_holds_only(const char *file, const char *name)
{
        _cleanup_free_ char *text = NULL, *block = NULL;
        if (read_text(file, &text) < 0 || backup_definition_rewrite(text, name, name, false, &block) < 0)
                return false;
        char *v[2] = { text, block };
        for (int k = 0; k < 2; k++) {
                /* drop comments and white space */
                char *w = v[k];
                bool line_start = true;
                for (char *q = v[k]; *q; q++) {
                        if (line_start && *q == '#') {
                                while (*q && *q != '\n')
                                        q++;
                                if (!*q)
                                        break;
                        }
                        line_start = *q == '\n' || (line_start && (*q == ' ' || *q == '\t'));
                        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
                                *w++ = *q;
                }
                *w = 0;
        }
        return streq(text, block);
}

static int migrate_live(struct ctl_args *a, const struct daemon_dirs *dd, const char *name, const char *tmpl,
                        const char *file, pid_t pid);

int verb_migrate(struct ctl_args *a)
{
        const char *name = a->argv[0];
        _cleanup_free_ char *sdir = NULL;
        if (!a->to || !*a->to) {
                fail("berthctl migrate: expected --to HOST");
                return 2;
        }
        if (a->live) {
                /* where CRIU cannot work, at once: CRIU's own reason */
                struct error ce = { 0 };
                if (criu_check(&ce) < 0) {
                        fail("berthctl migrate: --live: %s", ce.msg);
                        return 1;
                }
        }
        struct daemon_dirs dd;
        if (need_dirs(&dd, a) < 0)
                return 1;
        json_object *o = inspect(name);
        if (!o)
                return 1;
        _cleanup_free_ char *tmpl = definition_template(o) ? strdup(definition_template(o)) : NULL;
        _cleanup_free_ char *file = jstr(o, "file")[0] ? strdup(jstr(o, "file")) : NULL;
        bool was_up = state_is_up(jstr(o, "state"));
        pid_t init_pid = (pid_t) jint(o, "pid");
        json_object_put(o);
        if (!tmpl) {
                fail("berthctl migrate: container '%s' is not declared over a template: it has no writable layer of "
                     "berth's to move", name);
                return 1;
        }
        if (!file || !file_holds_only(file, name)) {
                fail("berthctl migrate: the definition file %s holds more than container '%s': move it to a file of "
                     "its own first (the file moves with it)", file ? file : "?", name);
                return 1;
        }
        if (a->live) {
                if (!was_up) {
                        fail("berthctl migrate: --live moves a running container's processes; '%s' is not running "
                             "(migrate it without --live)", name);
                        return 1;
                }
                return migrate_live(a, &dd, name, tmpl, file, init_pid);
        }
        /* 1. stopped here: the copy is the last state */
        if (was_up) {
                if (call("io.berth.Container.Stop", names_param(name), false, NULL, NULL) != 0 || wait_down(name) != 0)
                        return 1;
        }
        /* 2. the archive into the transport: ssh HOST berthctl import --restore -, or CMD ... */
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                fail("berthctl migrate: cannot create a pipe: %m");
                goto restart;
        }
        pid_t pid = fork();
        if (pid < 0) {
                fail("berthctl migrate: cannot fork: %m");
                close(p[0]);
                close(p[1]);
                goto restart;
        }
        if (pid == 0) {
                if (dup2(p[0], STDIN_FILENO) < 0)
                        _exit(127);
                if (a->via) {
                        _cleanup_free_ char *cmd = strdup_printf("%s \"$@\"", a->via);
                        execl("/bin/sh", "sh", "-c", cmd ? cmd : "false", "sh", "berthctl", "import", "--restore", "-",
                              (char *) NULL);
                } else
                        execlp("ssh", "ssh", "--", a->to, "berthctl", "import", "--restore", "-", (char *) NULL);
                fprintf(stderr, "berthctl migrate: cannot execute %s: %m\n", a->via ? "/bin/sh" : "ssh");
                _exit(127);
        }
        close(p[0]);
        /* a transport that ends early must not kill us with SIGPIPE */
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        (void) sigaction(SIGPIPE, &ign, &old);
        struct error e = { 0 };
        int r = export_fd(&dd, name, tmpl, p[1], true, false, &e);
        close(p[1]);
        (void) sigaction(SIGPIPE, &old, NULL);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        bool moved = r >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!moved) {
                if (r < 0 && r != -ECANCELED)
                        fail("berthctl migrate: export of '%s': %s", name, e.msg);
                fail("berthctl migrate: '%s' was not moved to %s (the import there %s); it stays here", name, a->to,
                     WIFEXITED(st) ? (WEXITSTATUS(st) == 0 ? "succeeded, the export did not"
                                                           : "failed: see its message above")
                                   : "was killed");
                goto restart;
        }
        /* 3. it runs there: nothing of it stays here */
        if (unlink(file) < 0) {
                fail("berthctl migrate: '%s' runs on %s, but %s could not be removed here: %m", name, a->to, file);
                return 1;
        }
        r = reload_quiet();
        if (r == 0)
                r = call("io.berth.Container.Destroy", name_param(name), false, NULL, NULL);
        sdir = snapshot_container_dir(dd.state, name);
        if (sdir)
                (void) rm_rf(sdir);
        if (r != 0) {
                fail("berthctl migrate: '%s' runs on %s; its definition is removed here, but its data could not be "
                     "(berthctl destroy %s)", name, a->to, name);
                return 1;
        }
        printf("migrated '%s' to %s: running there; its definition %s and its data removed here\n", name, a->to, file);
        return 0;
restart:
        if (was_up)
                (void) start_again(name);
        return 1;
}

/* ---- live migration (migrate --live; import --stage) ------------------------------------------- */

#define LIVE_ROUNDS_MAX 4
#define LIVE_SMALL_ROUND (4u << 20) /* a round that copied less: the processes' memory settled */

static bool migration_id_ok(const char *id)
{
        size_t n = strlen(id);
        if (n == 0 || n > 32)
                return false;
        for (const char *q = id; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
                        return false;
        return true;
}

static uint64_t mono_usec(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t) t.tv_sec * 1000000 + (uint64_t) t.tv_nsec / 1000;
}

/* Runs the transport (ssh HOST berthctl ARGS..., or sh -c 'VIA "$@"' with
 * berthctl ARGS...) with produce writing its standard input (NULL: an
 * empty one). 0 when both succeeded; else 1, the producer's error in e
 * (e->msg empty when it was the transport that failed: it printed why). */
static int transport(const struct ctl_args *a, const char *const *args, int (*produce)(int, void *, struct error *),
                     void *ud, struct error *e)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(e, -errno, "cannot create a pipe"), 1;
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return error_set(e, -errno, "cannot fork"), 1;
        }
        if (pid == 0) {
                if (dup2(p[0], STDIN_FILENO) < 0)
                        _exit(127);
                const char *argv[16];
                size_t n = 0;
                _cleanup_free_ char *cmd = a->via ? strdup_printf("%s \"$@\"", a->via) : NULL;
                if (a->via) {
                        argv[n++] = "sh";
                        argv[n++] = "-c";
                        argv[n++] = cmd ? cmd : "false";
                        argv[n++] = "sh";
                } else {
                        argv[n++] = "ssh";
                        argv[n++] = "--";
                        argv[n++] = a->to;
                }
                argv[n++] = "berthctl";
                for (size_t i = 0; args[i] && n < ELEMENTSOF(argv) - 1; i++)
                        argv[n++] = args[i];
                argv[n] = NULL;
                if (a->via)
                        execv("/bin/sh", (char **) argv);
                else
                        execvp("ssh", (char **) argv);
                fprintf(stderr, "berthctl migrate: cannot execute %s: %m\n", a->via ? "/bin/sh" : "ssh");
                _exit(127);
        }
        close(p[0]);
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        (void) sigaction(SIGPIPE, &ign, &old);
        int r = produce ? produce(p[1], ud, e) : 0;
        close(p[1]);
        (void) sigaction(SIGPIPE, &old, NULL);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (r >= 0 && !ok)
                e->msg[0] = 0;
        return r >= 0 && ok ? 0 : 1;
}

struct round_src {
        const char *dir, *prefix;
};

static int produce_round(int fd, void *ud, struct error *e)
{
        const struct round_src *s = ud;
        return backup_dir_export(s->dir, s->prefix, fd, e);
}

static int produce_final(int fd, void *ud, struct error *e)
{
        return backup_export(ud, fd, false, e);
}

/* The bytes of memory pages in a directory of CRIU images. */
static uint64_t pages_size(const char *dir)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        uint64_t sum = 0;
        if (!d)
                return 0;
        dfd = -1;
        struct dirent *de;
        struct stat st;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "pages-", 6) == 0 && fstatat(dirfd(d), de->d_name, &st, 0) == 0)
                        sum += (uint64_t) st.st_size;
        closedir(d);
        return sum;
}

static void abort_target(const struct ctl_args *a, const char *id)
{
        struct error e = { 0 };
        const char *args[] = { "import", "--stage", id, "--abort", "-", NULL };
        if (transport(a, args, NULL, NULL, &e) != 0)
                fprintf(stderr, "berthctl migrate: warning: the staging of migration %s on %s may be left there "
                        "(berthctl import --stage %s --abort - there removes it)\n", id, a->to, id);
}

/* Copies file name of directory from into directory to (an absent one is
 * no error). */
static int copy_record(const char *from, const char *to, const char *name)
{
        _cleanup_close_ int f = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int t = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (f < 0 || t < 0)
                return -errno;
        int r = read_file_at(f, name, 1 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : write_file_atomic(t, name, text, len, 0600);
}

/* migrate --live, for a running container over a template whose file holds
 * only it (verb_migrate checked). */
static int migrate_live(struct ctl_args *a, const struct daemon_dirs *dd, const char *name, const char *tmpl,
                        const char *file, pid_t pid)
{
        struct error e = { 0 };
        if (criu_restorable(pid, &e) < 0) {
                fail("berthctl migrate: '%s' cannot move live: %s", name, e.msg);
                return 1;
        }
        char id[17];
        uint64_t rnd = mono_usec() ^ ((uint64_t) getpid() << 40);
        _cleanup_close_ int ur = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (ur >= 0)
                (void) !read(ur, &rnd, sizeof rnd);
        snprintf(id, sizeof id, "%016" PRIx64, rnd);
        char tag[SNAPSHOT_TAG_MAX + 1], dot[32];
        snprintf(tag, sizeof tag, "live-%s", id);
        snprintf(dot, sizeof dot, ".live-%s", id);
        _cleanup_free_ char *sdir = snapshot_container_dir(dd->state, name);
        _cleanup_free_ char *stage = sdir ? strdup_printf("%s/%s", sdir, dot) : NULL;
        _cleanup_free_ char *tdir = NULL, *empty = NULL, *eupper = NULL;
        if (!stage || mkdir_p(stage, 0700) < 0) {
                fail("berthctl migrate: cannot create %s: %m", stage ? stage : "?");
                return 1;
        }
        /* 1. rounds of pre-dumps while it runs, each sent to the target's staging */
        int rounds = 0;
        uint64_t last = UINT64_MAX, sent = 0;
        while (rounds < LIVE_ROUNDS_MAX) {
                char pre[24], prev[24];
                snprintf(pre, sizeof pre, "pre-%d", rounds + 1);
                snprintf(prev, sizeof prev, "../pre-%d", rounds);
                _cleanup_free_ char *dir = strdup_printf("%s/%s", stage, pre);
                if (!dir || mkdir(dir, 0700) < 0) {
                        fail("berthctl migrate: cannot create %s: %m", dir ? dir : "?");
                        goto fail_running;
                }
                struct criu_dump_params dp = { .pid = pid, .images_dir = dir, .pre_dump = true,
                                               .prev_images_dir = rounds ? prev : NULL };
                if (criu_dump(&dp, &e) < 0) {
                        fail("berthctl migrate: '%s' not moved: %s", name, e.msg);
                        goto fail_running;
                }
                uint64_t pages = pages_size(dir);
                struct round_src rs = { dir, pre };
                const char *args[] = { "import", "--stage", id, "-", NULL };
                if (transport(a, args, produce_round, &rs, &e) != 0) {
                        fail("berthctl migrate: '%s' not moved: pre-dump %s could not be sent to %s%s%s", name, pre,
                             a->to, e.msg[0] ? ": " : " (the import there failed: see its message above)", e.msg);
                        goto fail_running;
                }
                rounds++;
                sent += pages;
                printf("pre-dump %d of '%s': %" PRIu64 " KiB of memory sent\n", rounds, name, pages / 1024);
                (void) fflush(stdout);
                if (pages < LIVE_SMALL_ROUND || pages * 2 > last)
                        break; /* little changed, or it does not shrink: the final dump now */
                last = pages;
        }
        /* 2. freeze, last dump (the pages changed since the last round), layer */
        uint64_t t0 = mono_usec();
        json_object *p = name_param(name);
        char parent[48];
        snprintf(parent, sizeof parent, "%s/pre-%d", dot, rounds);
        json_object_object_add(p, "tag", json_object_new_string(tag));
        json_object_object_add(p, "parent", json_object_new_string(parent));
        json_object *o = NULL;
        if (call_layer("io.berth.Container.Checkpoint", p, &o) != 0) {
                json_object_put(o);
                fail("berthctl migrate: '%s' not moved: its last dump failed", name);
                goto fail_running;
        }
        json_object_put(o);
        /* 3. the last dump and the layer to the target, which restores it */
        tdir = snapshot_tag_dir(dd->state, name, tag);
        struct snapshot_info info = { 0 };
        (void) snapshot_info_read(tdir ? tdir : "", &info);
        /* The layer travels once, as the checkpoint's: the archive's own layer
         * is an empty one (its records alone), which the restore there
         * replaces with the checkpoint's. */
        empty = strdup_printf("%s/layer", stage);
        eupper = strdup_printf("%s/layer/upper", stage);
        if (!tdir || !empty || !eupper || mkdir_p(eupper, 0755) < 0 || copy_record(tdir, empty, "info") < 0 ||
            copy_record(tdir, empty, "definition.conf") < 0) {
                fail("berthctl migrate: cannot prepare %s: %m", empty ? empty : "the archive's layer");
                e.msg[0] = 'x';
        }
        char *tags[] = { tag, NULL }, *dirs[] = { tdir, NULL };
        struct backup_source src = { .name = name, .layer_dir = empty, .template_name = tmpl,
                                     .template_id = info.template_id, .snapshot_tags = tags, .snapshot_dirs = dirs };
        const char *args[] = { "import", "--restore", "--stage", id, "-", NULL };
        if (e.msg[0] || transport(a, args, produce_final, &src, &e) != 0) {
                fail("berthctl migrate: '%s' was not moved to %s live (%s%s); it is restored here", name, a->to,
                     e.msg[0] ? "the last dump's transfer: " : "the restore there failed: see its message above",
                     e.msg);
                abort_target(a, id);
                (void) wait_down(name); /* CRIU ended its processes: stopped before it is restored */
                struct ctl_args b = { .argc = 1, .argv = (char *[]){ (char *) name, NULL }, .from_checkpoint = tag };
                if (start_from_checkpoint(&b) != 0) {
                        fail("berthctl migrate: '%s' could not be restored here from checkpoint '%s': started afresh",
                             name, tag);
                        (void) start_again(name);
                        return 1; /* its checkpoint stays, for a look */
                }
                (void) snapshot_remove(dd->state, name, tag);
                (void) rm_rf(stage);
                return 1;
        }
        uint64_t t1 = mono_usec();
        /* 4. it runs there: nothing of it stays here */
        (void) wait_down(name);
        if (unlink(file) < 0) {
                fail("berthctl migrate: '%s' runs on %s, but %s could not be removed here: %m", name, a->to, file);
                return 1;
        }
        int r = reload_quiet();
        if (r == 0)
                r = call("io.berth.Container.Destroy", name_param(name), false, NULL, NULL);
        (void) rm_rf(sdir);
        if (r != 0) {
                fail("berthctl migrate: '%s' runs on %s; its definition is removed here, but its data could not be "
                     "(berthctl destroy %s)", name, a->to, name);
                return 1;
        }
        printf("migrated '%s' to %s live: %d pre-dump%s (%" PRIu64 " KiB), downtime %" PRIu64
               " ms; its definition %s and its data removed here\n",
               name, a->to, rounds, rounds == 1 ? "" : "s", sent / 1024, (t1 - t0 + 500) / 1000, file);
        return 0;
fail_running:
        abort_target(a, id);
        (void) rm_rf(stage);
        /* a failed last dump's images (berthd keeps them for a look): this tag is never tried again */
        _cleanup_free_ char *failed = sdir ? strdup_printf("%s/.criu-%s", sdir, tag) : NULL;
        if (failed)
                (void) rm_rf(failed);
        return 1;
}

/* import --stage ID [--abort] -: a round of live migration ID into
 * STATE/snapshots/.live-ID, or that staging removed. */
static int import_stage(const struct ctl_args *a, const struct daemon_dirs *dd)
{
        _cleanup_free_ char *dir = strdup_printf("%s/" SNAPSHOT_DIR "/.live-%s", dd->state, a->stage);
        if (!dir) {
                fail("berthctl import: out of memory");
                return 1;
        }
        if (a->abort_stage) {
                int r = rm_rf(dir);
                if (r < 0 && r != -ENOENT) {
                        fail("berthctl import: cannot remove %s: %s", dir, strerror(-r));
                        return 1;
                }
                printf("migration %s: its staging here removed\n", a->stage);
                return 0;
        }
        if (!streq(a->argv[0], "-")) {
                fail("berthctl import: --stage reads its round from standard input (-), not %s", a->argv[0]);
                return 2;
        }
        if (mkdir_p(dir, 0700) < 0) {
                fail("berthctl import: cannot create %s: %m", dir);
                return 1;
        }
        char prefix[64];
        struct error e = { 0 };
        if (backup_dir_import(STDIN_FILENO, dir, prefix, sizeof prefix, &e) < 0) {
                fail("berthctl import: --stage %s: standard input: %s; the staging is removed", a->stage, e.msg);
                (void) rm_rf(dir);
                return 1;
        }
        printf("migration %s: %s staged\n", a->stage, prefix);
        return 0;
}

/* import --restore --stage ID, once the container's files and definition
 * are in place: the staged pre-dumps beside its checkpoint, the definition
 * applied without starting it, the container restored from its checkpoint
 * and running; then the images are removed. On failure, what the import
 * put here is taken back. */
static int import_restore_live(const struct daemon_dirs *dd, const char *name, const char *written, const char *id,
                               const char *tag)
{
        _cleanup_free_ char *sdir = snapshot_container_dir(dd->state, name);
        _cleanup_free_ char *from = strdup_printf("%s/" SNAPSHOT_DIR "/.live-%s", dd->state, id);
        _cleanup_free_ char *to = sdir ? strdup_printf("%s/.live-%s", sdir, id) : NULL;
        if (!from || !to || (rename(from, to) < 0 && errno != ENOENT)) {
                fail("berthctl import: cannot move the staged pre-dumps of migration %s into %s: %m", id,
                     sdir ? sdir : "?");
                goto undo;
        }
        json_object *p = json_object_new_object(), *hold = json_object_new_array();
        json_object_object_add(p, "wait", json_object_new_boolean(1));
        json_object_array_add(hold, json_object_new_string(name));
        json_object_object_add(p, "hold", hold);
        if (call("io.berth.Manager.Reload", p, false, NULL, NULL) != 0)
                goto undo;
        struct ctl_args b = { .argc = 1, .argv = (char *[]){ (char *) name, NULL }, .from_checkpoint = tag };
        if (start_from_checkpoint(&b) != 0)
                goto undo;
        (void) snapshot_remove(dd->state, name, tag);
        /* the restore kept the layer it replaced, the archive's empty one */
        (void) snapshot_remove(dd->state, name, SNAPSHOT_PRE_RESTORE);
        (void) rm_rf(to);
        printf("'%s' is running\n", name);
        return 0;
undo:
        (void) unlink(written);
        (void) reload_quiet();
        (void) call_quiet("io.berth.Container.Destroy", name_param(name), NULL, NULL);
        if (sdir)
                (void) rm_rf(sdir);
        if (from)
                (void) rm_rf(from);
        fail("berthctl import: '%s' removed again: it was not restored here", name);
        return 1;
}
