/* Declarative templates in berthd (lib/tbuild.h builds them): which
 * template blocks need a build (their definition's hash against the
 * record on disk), one *build worker* at a time, a fork of berthd that
 * runs tbuild_build() and reports on a pipe, so the event loop never
 * waits for debootstrap or apt; a template's parent is built before it.
 * While a template has never been built, the containers on it wait
 * (dispatch holds their start: "waiting (for template NAME)"); when a
 * build is ready, the running containers on it restart in their declared
 * order, unless update = "manual". A failed build leaves the previous one
 * (and what runs on it) as it was. */

#include "supervise_internal.h"
#include <sys/prctl.h>

#include "image.h"
#include "tbuild.h"

enum tb_status {
        TB_CURRENT,  /* the record is this definition's build */
        TB_QUEUED,   /* waits for the worker (or its parent) */
        TB_BUILDING, /* the worker builds it */
        TB_FAILED,   /* the last build of this definition failed (not tried again until it changes) */
};

struct tb_entry {
        char name[64];
        char hash[65];
        enum tb_status status;
        bool have_build; /* a record of some build exists: containers can start on it */
        char reason[160];
        char error[ERROR_MSG_MAX];
};

struct tbuilds {
        struct tb_entry *v;
        size_t n;
        pid_t pid; /* the worker, 0 none */
        int fd;
        sd_event_source *src;
        char building[64];
        char building_hash[65];
        bool cancelled;
        usec_t started;
};

static struct tb_entry *entry_find(struct tbuilds *tb, const char *name)
{
        for (size_t i = 0; tb && i < tb->n; i++)
                if (streq(tb->v[i].name, name))
                        return &tb->v[i];
        return NULL;
}

static bool record_exists(struct manager *m, const char *name)
{
        _cleanup_(image_info_freep) struct image_info *i = NULL;
        return image_read(m->o.state_dir, name, &i) == 0 && strncmp(i->source, "build:", 6) == 0;
}

static void start_next(struct manager *m);

static void worker_kill(struct tbuilds *tb)
{
        if (tb->pid > 0) {
                (void) kill(-tb->pid, SIGKILL);
                (void) kill(tb->pid, SIGKILL);
        }
}

/* The containers on template name that run on its previous build restart
 * (in their order: the scheduler stops and starts them), unless
 * update = "manual". */
static void restart_users(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n_units; i++) {
                struct unit *u = m->units[i];
                if (!u->spec || !streq_ptr(u->spec->template_name, name) ||
                    (u->state != U_RUNNING && u->state != U_STARTING) || u->restart_after_stop)
                        continue;
                if (u->spec->update == UPDATE_MANUAL) {
                        emit(m, u->name, "template-update-held",
                             "template '%s' was rebuilt; update = \"manual\": it moves onto it at berthctl restart",
                             name);
                        continue;
                }
                emit(m, u->name, "plan", "restart: template '%s' rebuilt", name);
                u->restart_after_stop = true;
                unit_request_stop(u);
        }
}

struct tb_report {
        struct error e;
};

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct manager *m = userdata;
        struct tbuilds *tb = m->tbuilds;
        (void) s;
        struct tb_report rep = { 0 };
        ssize_t n = read(tb->fd, &rep, sizeof rep);
        bool whole = n == (ssize_t) sizeof rep && si->si_code == CLD_EXITED;
        tb->src = sd_event_source_disable_unref(tb->src);
        close(tb->fd);
        tb->fd = -1;
        tb->pid = 0;
        struct tb_entry *en = entry_find(tb, tb->building);
        bool same = en && streq(en->hash, tb->building_hash);
        bool ok = whole && si->si_status == 0 && !error_is_set(&rep.e);
        char took[32];
        format_duration(now_mono(m) - tb->started, took, sizeof took);
        if (tb->cancelled || !same) {
                emit(m, tb->building, "template-build-cancelled", "its definition changed during the build");
        } else if (ok) {
                en->status = TB_CURRENT;
                en->have_build = true;
                en->error[0] = 0;
                emit(m, en->name, "template-built", "in %s (%s)", took, en->reason);
                restart_users(m, en->name);
        } else {
                en->status = TB_FAILED;
                en->have_build = record_exists(m, en->name);
                snprintf(en->error, sizeof en->error, "%s",
                         whole ? rep.e.msg : "the build worker ended without a report");
                emit(m, en->name, "template-build-failed", "%s; %s (berthctl template logs %s)", en->error,
                     en->have_build ? "the previous build stays in use" : "no build to start its containers on",
                     en->name);
        }
        tb->building[0] = 0;
        tb->cancelled = false;
        start_next(m);
        manager_dispatch_soon(m);
        return 0;
}

static void worker_child(struct manager *m, int fd, const char *name, pid_t parent)
{
        /* A build outlives no berthd: the next one removes what it left. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) setpgid(0, 0);
        struct tb_report rep = { 0 };
        _cleanup_free_ char *dir = strdup_printf("%s/" STATE_TBUILD, m->o.state_dir);
        _cleanup_free_ char *path = tbuild_log_path(m->o.state_dir, name);
        int log = -1;
        if (dir && path && mkdir_p(dir, 0700) >= 0)
                log = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (log < 0)
                (void) error_set(&rep.e, -errno, "cannot open the build log %s", path ? path : "?");
        else
                (void) tbuild_build(m->o.state_dir, &m->set, name, log, &rep.e);
        (void) !write(fd, &rep, sizeof rep);
        _exit(error_is_set(&rep.e) ? 1 : 0);
}

/* The first queued template whose parent is built: a worker for it. A
 * template over a failed parent fails too. */
static void start_next(struct manager *m)
{
        struct tbuilds *tb = m->tbuilds;
        if (!tb || tb->pid > 0 || m->shutting_down)
                return;
        for (bool again = true; again;) {
                again = false;
                for (size_t i = 0; i < tb->n; i++) {
                        struct tb_entry *en = &tb->v[i];
                        if (en->status != TB_QUEUED)
                                continue;
                        const struct spec_template *t = spec_set_find_template(&m->set, en->name);
                        const struct tb_entry *pe = t ? entry_find(tb, t->from) : NULL;
                        if (pe && pe->status == TB_FAILED) {
                                en->status = TB_FAILED;
                                en->have_build = record_exists(m, en->name);
                                snprintf(en->error, sizeof en->error, "its parent '%s' did not build", pe->name);
                                emit(m, en->name, "template-build-failed", "%s", en->error);
                                again = true;
                                continue;
                        }
                        if (pe && pe->status != TB_CURRENT)
                                continue;
                        int p[2];
                        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                                return;
                        pid_t self = getpid();
                        pid_t pid = fork();
                        if (pid < 0) {
                                close(p[0]);
                                close(p[1]);
                                return;
                        }
                        if (pid == 0) {
                                close(p[0]);
                                worker_child(m, p[1], en->name, self);
                        }
                        close(p[1]);
                        (void) setpgid(pid, pid);
                        if (sd_event_add_child(m->event, &tb->src, pid, WEXITED, on_worker_exit, m) < 0) {
                                (void) kill(pid, SIGKILL);
                                (void) waitpid(pid, NULL, 0);
                                close(p[0]);
                                return;
                        }
                        tb->pid = pid;
                        tb->fd = p[0];
                        tb->started = now_mono(m);
                        tb->cancelled = false;
                        snprintf(tb->building, sizeof tb->building, "%s", en->name);
                        snprintf(tb->building_hash, sizeof tb->building_hash, "%s", en->hash);
                        en->status = TB_BUILDING;
                        emit(m, en->name, "template-build", "%s; log: berthctl template logs %s", en->reason,
                             en->name);
                        return;
                }
        }
}

void manager_templates_sync(struct manager *m)
{
        if (!m->tbuilds) {
                m->tbuilds = calloc(1, sizeof *m->tbuilds);
                if (!m->tbuilds)
                        return;
                m->tbuilds->fd = -1;
                tbuild_remove_leftovers(m->o.state_dir); /* no worker yet: what a dead berthd left */
        }
        struct tbuilds *tb = m->tbuilds;
        struct tb_entry *v = calloc(m->set.n_templates + 1, sizeof *v);
        if (!v)
                return;
        size_t n = 0;
        for (size_t i = 0; i < m->set.n_templates; i++) {
                const struct spec_template *t = m->set.templates[i];
                if (!tbuild_is_declarative(t) || entry_find(&(struct tbuilds){ .v = v, .n = n }, t->name))
                        continue;
                struct tb_entry *en = &v[n++];
                snprintf(en->name, sizeof en->name, "%s", t->name);
                struct tbuild_want w;
                struct error e = { 0 };
                const struct tb_entry *old = entry_find(tb, t->name);
                if (tbuild_want(&m->set, t->name, &w, &e) < 0) {
                        en->status = TB_FAILED;
                        en->have_build = record_exists(m, t->name);
                        snprintf(en->error, sizeof en->error, "%s", error_message(&e));
                        if (!old || !streq(old->error, en->error))
                                emit(m, t->name, "template-build-failed", "%s", en->error);
                        continue;
                }
                snprintf(en->hash, sizeof en->hash, "%s", w.hash);
                int cur = tbuild_current(m->o.state_dir, t->name, &w, en->reason, sizeof en->reason);
                en->have_build = cur > 0 || record_exists(m, t->name);
                if (cur > 0)
                        en->status = TB_CURRENT;
                else if (old && streq(old->hash, w.hash) && (old->status == TB_BUILDING || old->status == TB_FAILED)) {
                        en->status = old->status; /* under way, or failed as it is: not again */
                        snprintf(en->error, sizeof en->error, "%s", old->error);
                } else
                        en->status = TB_QUEUED;
        }
        free(tb->v);
        tb->v = v;
        tb->n = n;
        /* a build of a definition that changed (or is gone) is of no use */
        if (tb->pid > 0) {
                const struct tb_entry *en = entry_find(tb, tb->building);
                if (!en || !streq(en->hash, tb->building_hash) || en->status != TB_BUILDING) {
                        tb->cancelled = true;
                        worker_kill(tb);
                        /* its exit starts the next */
                        return;
                }
        }
        start_next(m);
}

bool manager_template_wait(struct manager *m, struct unit *u)
{
        u->template_wait = false;
        if (!u->spec || !u->spec->template_name)
                return false;
        const struct tb_entry *en = entry_find(m->tbuilds, u->spec->template_name);
        if (!en || en->have_build)
                return false;
        u->template_wait = true;
        snprintf(u->waiting_for, sizeof u->waiting_for, "template %s%s", en->name,
                 en->status == TB_FAILED ? ", whose build failed" : "");
        return true;
}

json_object *manager_templates_plan(struct manager *m, const struct spec_set *next)
{
        json_object *arr = json_object_new_array();
        for (size_t i = 0; arr && i < next->n_templates; i++) {
                const struct spec_template *t = next->templates[i];
                if (!tbuild_is_declarative(t))
                        continue;
                struct tbuild_want w;
                struct error e = { 0 };
                char reason[160];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "template", json_object_new_string(t->name));
                if (tbuild_want(next, t->name, &w, &e) < 0) {
                        json_object_object_add(o, "action", json_object_new_string("fail"));
                        json_object_object_add(o, "reason", json_object_new_string(error_message(&e)));
                        json_object_array_add(arr, o);
                        continue;
                }
                if (tbuild_current(m->o.state_dir, t->name, &w, reason, sizeof reason) > 0) {
                        json_object_put(o);
                        continue;
                }
                const struct tb_entry *en = entry_find(m->tbuilds, t->name);
                if (en && streq(en->hash, w.hash) && en->status == TB_BUILDING)
                        snprintf(reason + strlen(reason), sizeof reason - strlen(reason), "; building now");
                else if (en && streq(en->hash, w.hash) && en->status == TB_FAILED)
                        snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
                                 "; this definition failed to build: not tried again until it changes");
                json_object_object_add(o, "action", json_object_new_string("rebuild"));
                json_object_object_add(o, "reason", json_object_new_string(reason));
                json_object *cs = json_object_new_array();
                for (size_t k = 0; k < next->n_containers; k++) {
                        const struct spec_container *c = next->containers[k];
                        if (!streq_ptr(c->template_name, t->name))
                                continue;
                        struct unit *u = unit_find(m, c->name);
                        bool up = u && (u->state == U_RUNNING || u->state == U_STARTING);
                        json_object *co = json_object_new_object();
                        json_object_object_add(co, "name", json_object_new_string(c->name));
                        json_object_object_add(co, "action",
                                               json_object_new_string(!up                            ? "start"
                                                                      : c->update == UPDATE_MANUAL ? "hold"
                                                                                                   : "restart"));
                        json_object_object_add(
                                co, "reason",
                                json_object_new_string(!up ? "starts on the new build"
                                                       : c->update == UPDATE_MANUAL
                                                               ? "update = \"manual\": keeps the old build until berthctl restart"
                                                               : "keeps running on the old build until the new one is ready"));
                        json_object_array_add(cs, co);
                }
                json_object_object_add(o, "containers", cs);
                json_object_array_add(arr, o);
        }
        return arr;
}

json_object *manager_template_json(struct manager *m, const char *name)
{
        const struct tb_entry *en = entry_find(m->tbuilds, name);
        if (!en)
                return NULL;
        static const char *const names[] = { "built", "queued", "building", "failed" };
        json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string(names[en->status]));
        json_object_object_add(o, "hash", json_object_new_string(en->hash));
        if (en->status != TB_CURRENT && en->reason[0])
                json_object_object_add(o, "reason", json_object_new_string(en->reason));
        if (en->error[0])
                json_object_object_add(o, "error", json_object_new_string(en->error));
        return o;
}

void manager_templates_free(struct manager *m)
{
        struct tbuilds *tb = m->tbuilds;
        if (!tb)
                return;
        if (tb->pid > 0) {
                worker_kill(tb);
                (void) waitpid(tb->pid, NULL, 0);
        }
        tb->src = sd_event_source_disable_unref(tb->src);
        if (tb->fd >= 0)
                close(tb->fd);
        free(tb->v);
        free(tb);
        m->tbuilds = NULL;
}
