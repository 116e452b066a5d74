/* berthctl's verbs that follow what containers say and do: logs (a
 * containers' output, by time and stream, escaped on a terminal), events (berthd's stream) and
 * wait (the stream until one container exits). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "berthctl.h"
#include "dl_systemd.h"
#include "logfmt.h"

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
        struct events_filter f = { .json = a->json,
                                   .name = a->argc > 0 ? a->argv[0] : NULL,
                                   .since_usec = a->since_usec };
        /* --since or -n replay berthd's journal on disk, which holds the
         * events of earlier berthds too. */
        json_object *p = NULL;
        if (a->since_usec || a->lines >= 0) {
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

/* A container's log is a series of files, console.log.N (the oldest) ..
 * console.log.1, console.log, of records (lib/logfmt.h). berthctl reads
 * them itself: parts are joined into their lines, lines are filtered by
 * time and stream, and the lines of several containers are merged by
 * time. -f polls the newest file and follows it across rotation. */

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

/* A growing buffer; oom once an allocation failed. */
struct lbuf {
        char *buf;
        size_t len, cap;
        bool oom;
};

static void lbuf_append(struct lbuf *b, const char *p, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = (b->cap ? b->cap * 2 : 256) + n;
                char *q = realloc(b->buf, cap);
                if (!q) {
                        b->oom = true;
                        return;
                }
                b->buf = q;
                b->cap = cap;
        }
        memcpy(b->buf + b->len, p, n);
        b->len += n;
        b->buf[b->len] = 0;
}

static void lbuf_printf(struct lbuf *b, const char *fmt, ...) _printf_(2, 3);
static void lbuf_printf(struct lbuf *b, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n > 0)
                lbuf_append(b, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(char *const *) x, *(char *const *) y);
}

struct log_entry {
        uint64_t key;  /* the time to sort by: the line's, else the last one before it */
        uint64_t usec; /* 0: a line of an older log, without a time */
        uint64_t seq;  /* its place in its container's log */
        enum logfmt_stream stream;
        size_t src;
        char *text;
        size_t len;
};

struct log_entries {
        struct log_entry *v;
        size_t n, cap;
};

struct log_src {
        const char *name;
        char *path; /* its console.log */
        int fd;     /* console.log, followed */
        ino_t ino;
        off_t off;
        struct lbuf carry;   /* the bytes after the last newline read */
        struct lbuf part[2]; /* stdout's, stderr's line begun in P records */
        uint64_t part_usec[2];
        uint64_t last_usec, seq;
        sd_journal *j; /* log { driver = "journald" }: its entries, not files */
};

struct logs_opts {
        bool ts, multi, escape, follow;
        bool want[LOGFMT_NONE + 1];
        uint64_t since, until; /* 0: none */
};

static int entries_add(struct log_entries *e, struct log_src *s, size_t src, uint64_t usec, enum logfmt_stream st,
                       const char *text, size_t len)
{
        if (e->n == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 1024;
                struct log_entry *v = realloc(e->v, cap * sizeof *v);
                if (!v)
                        return -ENOMEM;
                e->v = v;
                e->cap = cap;
        }
        char *t = malloc(len + 1);
        if (!t)
                return -ENOMEM;
        memcpy(t, text, len);
        t[len] = 0;
        if (usec)
                s->last_usec = usec;
        e->v[e->n++] = (struct log_entry){ .key = usec ? usec : s->last_usec, .usec = usec, .seq = s->seq++,
                                           .stream = st, .src = src, .text = t, .len = len };
        return 0;
}

static void entries_clear(struct log_entries *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i].text);
        e->n = 0;
}

/* One line of a file: a whole line, or a part kept until its line ends. */
static int take_line(struct log_entries *e, struct log_src *s, size_t src, const char *line, size_t len)
{
        struct logfmt_line l;
        logfmt_parse(line, len, &l);
        if (l.stream == LOGFMT_BERTH) {
                /* The monitor's note (dropped lines): a line begun before
                 * it lost its end. */
                for (int k = 0; k < 2; k++)
                        if (s->part[k].len > 0) {
                                int r = entries_add(e, s, src, s->part_usec[k], (enum logfmt_stream) k,
                                                    s->part[k].buf, s->part[k].len);
                                s->part[k].len = 0;
                                if (r < 0)
                                        return r;
                        }
        }
        if (l.stream == LOGFMT_STDOUT || l.stream == LOGFMT_STDERR) {
                struct lbuf *b = &s->part[l.stream];
                if (b->len == 0)
                        s->part_usec[l.stream] = l.usec;
                if (l.partial || b->len > 0) {
                        lbuf_append(b, l.text, l.len);
                        if (b->oom)
                                return -ENOMEM;
                        if (l.partial)
                                return 0;
                        int r = entries_add(e, s, src, s->part_usec[l.stream], l.stream, b->buf, b->len);
                        b->len = 0;
                        return r;
                }
        }
        return entries_add(e, s, src, l.usec, l.stream, l.text, l.len);
}

/* The whole lines of data (and of what src carried from before); the rest
 * is carried to the next read. */
static int take_data(struct log_entries *e, struct log_src *s, size_t src, const char *data, size_t n)
{
        lbuf_append(&s->carry, data, n);
        if (s->carry.oom)
                return -ENOMEM;
        const char *p = s->carry.buf, *end = s->carry.buf + s->carry.len;
        int r = 0;
        for (const char *nl; r >= 0 && p < end && (nl = memchr(p, '\n', (size_t) (end - p))); p = nl + 1)
                r = take_line(e, s, src, p, (size_t) (nl - p));
        size_t rest = (size_t) (end - p);
        memmove(s->carry.buf, p, rest);
        s->carry.len = rest;
        return r;
}

/* Reads fd from where it is to its end. */
static int read_to_end(struct log_entries *e, struct log_src *s, size_t src, int fd, off_t *off)
{
        char buf[65536];
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                if (off)
                        *off += k;
                int r = take_data(e, s, src, buf, (size_t) k);
                if (r < 0)
                        return r;
        }
}

/* The rotated files, oldest first, then console.log (left open in s->fd). */
static int read_history(struct log_entries *e, struct log_src *s, size_t src)
{
        for (int k = 100; k >= 1; k--) {
                _cleanup_free_ char *p = strdup_printf("%s.%d", s->path, k);
                if (!p)
                        return -ENOMEM;
                _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                int r = read_to_end(e, s, src, fd, NULL);
                if (r < 0)
                        return r;
                /* A file ends with a whole line (a cut one ends there). */
                if (s->carry.len > 0 && (r = take_data(e, s, src, "\n", 1)) < 0)
                        return r;
        }
        s->fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (s->fd < 0)
                return -errno;
        struct stat st;
        if (fstat(s->fd, &st) == 0)
                s->ino = st.st_ino;
        return read_to_end(e, s, src, s->fd, &s->off);
}

/* -f: what was added to console.log since; a rotated file is read to its
 * end, then the new console.log from its start. */
static int read_new(struct log_entries *e, struct log_src *s, size_t src)
{
        int r = read_to_end(e, s, src, s->fd, &s->off);
        if (r < 0)
                return r;
        struct stat st;
        if (stat(s->path, &st) < 0)
                return 0; /* between rotation's renames: next time */
        if (st.st_ino != s->ino) {
                int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return 0;
                r = read_to_end(e, s, src, s->fd, &s->off);
                if (s->carry.len > 0 && r >= 0)
                        r = take_data(e, s, src, "\n", 1);
                close(s->fd);
                s->fd = fd;
                s->ino = st.st_ino;
                s->off = 0;
                return r < 0 ? r : read_to_end(e, s, src, s->fd, &s->off);
        }
        if (st.st_size < s->off) { /* truncated */
                s->off = lseek(s->fd, 0, SEEK_SET);
                s->carry.len = 0;
                return read_to_end(e, s, src, s->fd, &s->off);
        }
        return 0;
}

/* ---- the journald driver: the same records, from the journal ---- */

/* The journal's entry where j stands, as a record of the file format (so
 * that parts are joined and notes placed as for files): -EAGAIN for an
 * entry that is not a container line. */
static int journal_record(sd_journal *j, struct lbuf *b, enum logfmt_stream *ret_stream, bool *ret_partial,
                          uint64_t *ret_usec)
{
        const void *d;
        size_t l;
        uint64_t usec;
        if (sd_journal_get_realtime_usec(j, &usec) < 0 || sd_journal_get_data(j, "MESSAGE", &d, &l) < 0)
                return -EAGAIN;
        enum logfmt_stream st = LOGFMT_BERTH;
        const void *pd;
        size_t pl;
        if (sd_journal_get_data(j, "PRIORITY", &pd, &pl) >= 0 && pl == 10)
                st = ((const char *) pd)[9] == '6' ? LOGFMT_STDOUT
                     : ((const char *) pd)[9] == '3' ? LOGFMT_STDERR
                                                     : LOGFMT_BERTH;
        bool partial = sd_journal_get_data(j, "CONTAINER_PARTIAL_MESSAGE", &pd, &pl) >= 0 &&
                       pl == strlen("CONTAINER_PARTIAL_MESSAGE=true") && st != LOGFMT_BERTH;
        char pre[LOGFMT_PREFIX_MAX];
        b->len = 0;
        lbuf_append(b, pre, logfmt_prefix(pre, usec, st, partial));
        /* "MESSAGE=TEXT"; a newline in it (not ours) would split the record */
        const char *text = (const char *) d + 8;
        size_t n = l - 8;
        const char *nl = memchr(text, '\n', n);
        lbuf_append(b, text, nl ? (size_t) (nl - text) : n);
        if (b->oom)
                return -ENOMEM;
        *ret_stream = st;
        *ret_partial = partial;
        *ret_usec = usec;
        return 0;
}

static int journal_take(struct log_entries *e, struct log_src *s, size_t src, struct lbuf *b)
{
        enum logfmt_stream st;
        bool partial;
        uint64_t usec;
        int r = journal_record(s->j, b, &st, &partial, &usec);
        if (r == -EAGAIN)
                return 0;
        return r < 0 ? r : take_line(e, s, src, b->buf, b->len);
}

/* Opens the journal on NAME's lines (written by berth-monitor: a Docker or
 * Podman container of the same name is not ours) and reads the history:
 * from --since on; else, with -n, the last lines (walked back from the
 * end); else all. The journal then stands at its end, for -f. */
static int journal_history(struct log_entries *e, struct log_src *s, size_t src, const struct logs_opts *o,
                           long last)
{
        _cleanup_free_ char *match = strdup_printf("CONTAINER_NAME=%s", s->name);
        if (!match)
                return -ENOMEM;
        int r = sd_journal_open(&s->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r >= 0)
                r = sd_journal_add_match(s->j, match, 0);
        if (r >= 0)
                r = sd_journal_add_match(s->j, "_COMM=berth-monitor", 0);
        if (r >= 0 && o->follow) /* inotify on the journal's files: -f sees them rotate */
                r = sd_journal_get_fd(s->j);
        if (r < 0)
                return r;
        struct lbuf b = { 0 };
        if (o->since || last < 0) {
                r = o->since ? sd_journal_seek_realtime_usec(s->j, o->since) : sd_journal_seek_head(s->j);
                while (r >= 0 && (r = sd_journal_next(s->j)) > 0) {
                        uint64_t usec;
                        if (o->until && sd_journal_get_realtime_usec(s->j, &usec) >= 0 && usec > o->until)
                                break;
                        r = journal_take(e, s, src, &b);
                }
                if (r >= 0) /* at the end, for -f */
                        r = sd_journal_seek_tail(s->j) < 0 || sd_journal_previous(s->j) < 0 ? -EIO : 0;
                free(b.buf);
                return r;
        }
        /* -n: back from the end until that many wanted lines (and the parts
         * before the earliest), then forward in order. */
        _cleanup_free_ char *cursor = NULL;
        char **recs = NULL;
        size_t nrec = 0, cap = 0;
        long found = 0;
        r = sd_journal_seek_tail(s->j);
        while (r >= 0 && (r = sd_journal_previous(s->j)) > 0) {
                enum logfmt_stream st;
                bool partial;
                uint64_t usec;
                int q = journal_record(s->j, &b, &st, &partial, &usec);
                if (!cursor)
                        (void) sd_journal_get_cursor(s->j, &cursor);
                if (q == -EAGAIN || (o->until && usec > o->until))
                        continue;
                if (q < 0) {
                        r = q;
                        break;
                }
                if (found >= last && !partial)
                        break;
                if (!partial && o->want[st])
                        found++;
                if (nrec == cap) {
                        cap = cap ? 2 * cap : 64;
                        char **v = realloc(recs, cap * sizeof *v);
                        if (!v) {
                                r = -ENOMEM;
                                break;
                        }
                        recs = v;
                }
                if (!(recs[nrec] = strndup(b.buf, b.len))) {
                        r = -ENOMEM;
                        break;
                }
                nrec++;
        }
        for (size_t i = nrec; i > 0; i--) {
                if (r >= 0)
                        r = take_line(e, s, src, recs[i - 1], strlen(recs[i - 1]));
                free(recs[i - 1]);
        }
        free(recs);
        free(b.buf);
        if (r < 0)
                return r;
        /* For -f: on the newest entry read, new ones come next. */
        if (cursor && sd_journal_seek_cursor(s->j, cursor) >= 0 && sd_journal_next(s->j) >= 0)
                return 0;
        return sd_journal_seek_tail(s->j) < 0 || sd_journal_previous(s->j) < 0 ? -EIO : 0;
}

/* -f: the entries added since. */
static int journal_new(struct log_entries *e, struct log_src *s, size_t src)
{
        struct lbuf b = { 0 };
        int r = sd_journal_process(s->j);
        while (r >= 0 && (r = sd_journal_next(s->j)) > 0)
                r = journal_take(e, s, src, &b);
        free(b.buf);
        return r < 0 ? r : 0;
}

static int cmp_entry(const void *x, const void *y)
{
        const struct log_entry *a = x, *b = y;
        if (a->key != b->key)
                return a->key < b->key ? -1 : 1;
        if (a->src != b->src)
                return a->src < b->src ? -1 : 1;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool entry_wanted(const struct logs_opts *o, const struct log_entry *x)
{
        if (!o->want[x->stream])
                return false;
        /* A line without a time (an older log) passes no time filter. */
        if ((o->since || o->until) && x->usec == 0)
                return false;
        return (!o->since || x->usec >= o->since) && (!o->until || x->usec <= o->until);
}

static int print_entry(const struct logs_opts *o, struct log_src *srcs, const struct log_entry *x, struct lbuf *b)
{
        b->len = 0;
        if (o->ts) {
                char pre[LOGFMT_PREFIX_MAX + 1];
                size_t n = x->usec ? logfmt_prefix(pre, x->usec, LOGFMT_STDOUT, false) : 0;
                /* "TIME " of the record's prefix; "-" without one */
                const char *sp = n ? memchr(pre, ' ', n) : NULL;
                if (sp)
                        lbuf_append(b, pre, (size_t) (sp - pre));
                else
                        lbuf_append(b, "-", 1);
                lbuf_append(b, " ", 1);
                if (o->multi)
                        lbuf_printf(b, "%s ", srcs[x->src].name);
                lbuf_printf(b, "%s ", logfmt_stream_name(x->stream));
        } else if (o->multi)
                lbuf_printf(b, "%s | ", srcs[x->src].name);
        if (o->escape) {
                _cleanup_free_ char *out = malloc(4 * x->len + 1);
                size_t olen = 0;
                if (!out)
                        return -ENOMEM;
                (void) escape_terminal(x->text, x->len, true, out, &olen);
                lbuf_append(b, out, olen);
        } else
                lbuf_append(b, x->text, x->len);
        lbuf_append(b, "\n", 1);
        if (b->oom)
                return -ENOMEM;
        return write_all(STDOUT_FILENO, b->buf, b->len);
}

/* Prints the wanted entries of e in time order; with last >= 0 only the
 * last that many. */
static int print_entries(const struct logs_opts *o, struct log_src *srcs, struct log_entries *e, long last)
{
        /* By time, also in one container's log: a line is stamped when its
         * first byte came, and a long one may end after a shorter line of
         * the other stream. */
        if (e->n > 0) /* qsort(NULL, 0) is undefined */
                qsort(e->v, e->n, sizeof *e->v, cmp_entry);
        size_t from = 0;
        if (last >= 0) {
                size_t k = 0;
                for (from = e->n; from > 0 && k < (size_t) last; from--)
                        if (entry_wanted(o, &e->v[from - 1]))
                                k++;
        }
        struct lbuf b = { 0 };
        int r = 0;
        for (size_t i = from; i < e->n && r >= 0; i++)
                if (entry_wanted(o, &e->v[i]))
                        r = print_entry(o, srcs, &e->v[i], &b);
        free(b.buf);
        entries_clear(e);
        return r;
}

/* The names of every container with a log in the state directory. */
static int all_with_logs(const char *state, char ***ret)
{
        _cleanup_free_ char *dir = state_containers_dir(state);
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d)) && r >= 0) {
                if (!name_is_valid(de->d_name))
                        continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s/console.log", dir, de->d_name);
                bool has = access(p, R_OK) == 0;
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                if (has || state_log_journald(p))
                        r = strv_push(ret, de->d_name);
        }
        closedir(d);
        if (r >= 0 && *ret) {
                size_t n = strv_length(*ret);
                qsort(*ret, n, sizeof **ret, cmp_str);
        }
        return r;
}

static volatile sig_atomic_t logs_stop;
static void on_logs_signal(int sig)
{
        (void) sig;
        logs_stop = 1;
}

int verb_logs(struct ctl_args *a)
{
        struct logs_opts o = { .ts = a->timestamps, .since = a->since_usec, .until = a->until_usec,
                               .follow = a->follow };
        if (a->stream) {
                if (streq(a->stream, "stdout"))
                        o.want[LOGFMT_STDOUT] = true;
                else if (streq(a->stream, "stderr"))
                        o.want[LOGFMT_STDERR] = true;
                else if (streq(a->stream, "all"))
                        o.want[LOGFMT_STDOUT] = o.want[LOGFMT_STDERR] = true;
                else {
                        fail("berthctl logs: --stream: '%s' is not a stream (stdout, stderr or all)", a->stream);
                        return 2;
                }
        }
        if (a->only_stdout)
                o.want[LOGFMT_STDOUT] = true;
        if (a->only_stderr)
                o.want[LOGFMT_STDERR] = true;
        if (!o.want[LOGFMT_STDOUT] && !o.want[LOGFMT_STDERR])
                o.want[LOGFMT_STDOUT] = o.want[LOGFMT_STDERR] = true;
        /* The monitor's notes, and older logs' lines, go with every choice. */
        o.want[LOGFMT_BERTH] = o.want[LOGFMT_NONE] = true;
        if (o.since && o.until && o.until < o.since) {
                fail("berthctl logs: --until is before --since: nothing can match");
                return 2;
        }
        if (a->all && a->argc > 0) {
                fail("berthctl logs: --all takes no NAME");
                return 2;
        }
        if (!a->all && a->argc == 0) {
                fail("berthctl logs: expected NAME... or --all");
                return 2;
        }
        for (int i = 0; i < a->argc; i++)
                if (!name_is_valid(a->argv[i])) {
                        fail("berthctl logs: '%s' is not a container name", a->argv[i]);
                        return 2;
                }
        _cleanup_strv_free_ char **all = NULL;
        char **names = a->argv;
        size_t n = (size_t) a->argc;
        const char *state = a->state;
        if (a->all) {
                resolve_dirs(NULL, &state);
                int r = all_with_logs(state, &all);
                if (r < 0) {
                        fail("berthctl logs: cannot list the containers in %s: %s", state, strerror(-r));
                        return 1;
                }
                if (!all) {
                        fail("berthctl logs: no container in %s has a log", state);
                        return 1;
                }
                names = all;
                n = strv_length(all);
        }
        o.multi = n > 1;
        o.escape = !a->raw && isatty(STDOUT_FILENO);
        struct log_src *srcs = calloc(n, sizeof *srcs);
        if (!srcs)
                return 1;
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                srcs[i].name = names[i];
                srcs[i].fd = -1;
                /* The daemon knows where its containers live; without one, the
                 * state directory (--state-dir, else the default). */
                char dir[4096] = "";
                if (!a->state && !a->all)
                        (void) daemon_container_dir(names[i], dir);
                const char *sd = state ? state : DEFAULT_STATE_DIR;
                srcs[i].path = dir[0] ? strdup_printf("%s/console.log", dir)
                                      : strdup_printf("%s/containers/%s/console.log", sd, names[i]);
                if (!srcs[i].path) {
                        ret = 1;
                        goto out;
                }
                /* log { driver = "journald" }: its start said so in DIR/log-driver */
                _cleanup_free_ char *cdir = strndup(srcs[i].path, strlen(srcs[i].path) - strlen("/console.log"));
                if (cdir && state_log_journald(cdir)) {
                        srcs[i].fd = -2; /* marks a journal source until it is opened */
                        continue;
                }
                if (access(srcs[i].path, R_OK) < 0) {
                        fail("berthctl logs: no log for '%s' (%s)", names[i], srcs[i].path);
                        ret = 1;
                        goto out;
                }
        }
        struct log_entries e = { 0 };
        for (size_t i = 0; i < n && ret == 0; i++) {
                if (srcs[i].fd == -2) {
                        srcs[i].fd = -1;
                        int r = journal_history(&e, &srcs[i], i, &o, a->lines);
                        if (r < 0) {
                                fail("berthctl logs: cannot read the journal for '%s': %s", names[i], strerror(-r));
                                ret = 1;
                        }
                        continue;
                }
                int r = read_history(&e, &srcs[i], i);
                if (r < 0) {
                        fail("berthctl logs: cannot read %s: %s", srcs[i].path, strerror(-r));
                        ret = 1;
                }
        }
        if (ret == 0 && print_entries(&o, srcs, &e, a->lines) < 0)
                ret = 1;
        if (ret == 0 && a->follow) {
                struct sigaction sa = { .sa_handler = on_logs_signal };
                (void) sigaction(SIGINT, &sa, NULL);
                (void) sigaction(SIGTERM, &sa, NULL);
                while (!logs_stop && (!o.until || realtime_usec() <= o.until)) {
                        (void) usleep(200000);
                        for (size_t i = 0; i < n; i++)
                                if (srcs[i].j) {
                                        int r = journal_new(&e, &srcs[i], i);
                                        if (r < 0) {
                                                fail("berthctl logs: cannot read the journal for '%s': %s",
                                                     srcs[i].name, strerror(-r));
                                                ret = 1;
                                        }
                                } else if (read_new(&e, &srcs[i], i) < 0) {
                                        fail("berthctl logs: cannot read %s: %m", srcs[i].path);
                                        ret = 1;
                                }
                        if (print_entries(&o, srcs, &e, -1) < 0 || ret)
                                break;
                }
                if (logs_stop)
                        ret = 0;
        }
        entries_clear(&e);
        free(e.v);
out:
        for (size_t i = 0; i < n; i++) {
                free(srcs[i].path);
                free(srcs[i].carry.buf);
                free(srcs[i].part[0].buf);
                free(srcs[i].part[1].buf);
                if (srcs[i].fd >= 0)
                        close(srcs[i].fd);
                if (srcs[i].j)
                        sd_journal_close(srcs[i].j);
        }
        free(srcs);
        return ret;
}
