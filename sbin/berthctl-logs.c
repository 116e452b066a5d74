/* berthctl's verbs that follow what containers say and do: logs (a
 * container's output, escaped on a terminal), events (berthd's stream) and
 * wait (the stream until one container exits). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "berthctl.h"

/* ---- events and wait ---------------------------------------------------------------------- */

struct events_filter {
        bool json;
        const char *name;    /* only this container's */
        const char *until;   /* stop at this event (wait) */
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
        if (f->json) {
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

int verb_events(struct ctl_args *a)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
        struct events_filter f = { .json = a->json,
                                   .name = a->argc > 0 ? a->argv[0] : NULL,
                                   .since_usec = a->since ? now - a->since : 0 };
        /* --since or -n replay berthd's journal on disk, which holds the
         * events of earlier berthds too. */
        json_object *p = NULL;
        if (a->since || a->lines >= 0) {
                if (a->lines == 0 || a->lines > 100000) {
                        fprintf(stderr, "berthctl events: -n expects a number of events from 1 to 100000\n");
                        return 2;
                }
                p = json_object_new_object();
                json_object_object_add(p, "since_usec", json_object_new_uint64(f.since_usec));
                if (a->lines > 0)
                        json_object_object_add(p, "last", json_object_new_uint64((uint64_t) a->lines));
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

int verb_wait(struct ctl_args *a)
{
        const char *name = a->argv[0];
        struct wait_info w = { .last_status = -1 };
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        if (call("io.berth.Container.Inspect", p, false, got_state, &w))
                return 1;
        /* Not running: it has exited already (or never ran): its last status. */
        if (!streq(w.state, "running") && !streq(w.state, "starting") && !streq(w.state, "stopping") &&
            !streq(w.state, "frozen"))
                return w.last_status >= 0 ? w.last_status : 0;
        /* The events stream opens with the daemon's backlog, which may hold
         * older exits of this container: the exit we wait for is newer than
         * every exit Inspect listed. */
        struct events_filter f = { .name = name, .until = "exited", .after_usec = w.last_exit_usec };
        char *error = NULL;
        int r = call_raw("io.berth.Manager.Events", NULL, true, print_event, &f, &error, NULL);
        free(error);
        if (f.done)
                return f.status;
        if (r >= 0 || r == -EREMOTEIO)
                fprintf(stderr, "berthctl wait: lost berthd: %s\n", strerror(r >= 0 ? ECONNRESET : -r));
        return 1;
}

/* ---- logs ---------------------------------------------------------------------------------- */

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

int verb_logs(struct ctl_args *a)
{
        const char *name = a->argv[0];
        if (!name_is_valid(name)) {
                fprintf(stderr, "berthctl logs: '%s' is not a container name\n", name);
                return 2;
        }
        /* The daemon knows where its containers live; without one, the
         * state directory (--state-dir, else the default). */
        char dir[4096];
        if (!a->state)
                (void) daemon_container_dir(name, dir);
        else
                dir[0] = 0;
        const char *state = a->state ? a->state : DEFAULT_STATE_DIR;
        _cleanup_free_ char *path = dir[0] ? strdup_printf("%s/console.log", dir)
                                           : strdup_printf("%s/containers/%s/console.log", state, name);
        if (!path)
                return 1;
        if (access(path, R_OK) < 0) {
                fprintf(stderr, "berthctl logs: no log for '%s' (%s)\n", name, path);
                return 1;
        }
        /* tail does lines, follow-by-name across rotation and inotify well. */
        char nbuf[32];
        snprintf(nbuf, sizeof nbuf, "%ld", a->lines < 0 ? 1000000000L : a->lines);
        char *targv[] = { "tail", "-n", nbuf, a->follow ? "-F" : "--", a->follow ? "--" : path,
                          a->follow ? path : NULL, NULL };
        /* On a terminal the output is escaped (a container must not drive
         * the operator's terminal); into a pipe or file, and with --raw, it
         * is passed on byte for byte, as it was written. */
        fflush(stdout);
        if (!a->raw && isatty(STDOUT_FILENO))
                return tail_escaped(targv);
        execvp("tail", targv);
        fprintf(stderr, "berthctl logs: cannot run tail: %m\n");
        return 1;
}
