#include "state.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

int state_write(const char *dir, const struct state_record *r, bool durable)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        char text[1024];
        int n = snprintf(text, sizeof text,
                         "monitor_pid=%d\nmonitor_start=%llu\ninit_pid=%d\ninit_start=%llu\nboot_id=%s\n"
                         "started_realtime_usec=%llu\nrestarts=%u\nrestart_hash=%s\nlive_hash=%s\nsupervise_hash=%s\n"
                         "address=%s\n",
                         (int) r->monitor_pid, (unsigned long long) r->monitor_start, (int) r->init_pid,
                         (unsigned long long) r->init_start, r->boot_id,
                         (unsigned long long) r->started_realtime_usec, r->restarts, r->restart_hash, r->live_hash,
                         r->supervise_hash, r->address);
        return durable ? write_file_atomic(dfd, "state", text, (size_t) n, 0600)
                       : write_file_replace(dfd, "state", text, (size_t) n, 0600);
}

#define CONFINEMENT_MAGIC "berth-confinement 1\n"

int state_write_confinement(const char *dir, const struct security_caps *caps, const struct security_seccomp *s)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        unsigned len = s->enabled ? s->len : 0;
        char head[256];
        int k = snprintf(head, sizeof head, CONFINEMENT_MAGIC "bounding=%llx\npermitted=%llx\neffective=%llx\nlast_cap=%d\n"
                         "seccomp=%s\ninstructions=%u\n\n",
                         (unsigned long long) caps->bounding, (unsigned long long) caps->permitted,
                         (unsigned long long) caps->effective, caps->last_cap, s->enabled ? "filter" : "unconfined", len);
        size_t size = (size_t) k + len * sizeof(struct sock_filter);
        _cleanup_free_ char *buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, head, (size_t) k);
        if (len)
                memcpy(buf + k, s->filter, len * sizeof(struct sock_filter));
        return write_file_replace(dfd, "confinement", buf, size, 0600);
}

int state_read_confinement(const char *dir, struct security_caps *caps, struct security_seccomp *s)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r = read_file_at(dfd, "confinement", 4096 + BPF_MAXINSNS * sizeof(struct sock_filter), &buf, &size);
        if (r < 0)
                return r;
        char *end = memmem(buf, size, "\n\n", 2);
        if (size < strlen(CONFINEMENT_MAGIC) || memcmp(buf, CONFINEMENT_MAGIC, strlen(CONFINEMENT_MAGIC)) != 0 || !end)
                return -EBADMSG;
        *end = 0;
        unsigned long long b, p, e;
        int last;
        char mode[16];
        unsigned len;
        if (sscanf(buf + strlen(CONFINEMENT_MAGIC),
                   "bounding=%llx\npermitted=%llx\neffective=%llx\nlast_cap=%d\nseccomp=%15[a-z]\ninstructions=%u", &b, &p,
                   &e, &last, mode, &len) != 6 ||
            last < 0 || last > 63 || len > BPF_MAXINSNS)
                return -EBADMSG;
        bool enabled = streq(mode, "filter");
        if ((!enabled && !streq(mode, "unconfined")) || (enabled && len == 0) ||
            size - (size_t) (end + 2 - buf) != len * sizeof(struct sock_filter))
                return -EBADMSG;
        *caps = (struct security_caps){ .bounding = b, .permitted = p, .effective = e, .last_cap = last };
        *s = (struct security_seccomp){ .enabled = enabled, .len = (unsigned short) len };
        if (enabled) {
                s->filter = malloc(len * sizeof(struct sock_filter));
                if (!s->filter)
                        return -ENOMEM;
                memcpy(s->filter, end + 2, len * sizeof(struct sock_filter));
        }
        return 0;
}

/* A record is what state_write() wrote, whole: every key once, each value
 * well-formed, the text ending in a newline. Anything else (an empty file
 * after a crash of the machine, a truncated one) is -EBADMSG, never a
 * record with zeros in it. */
static int parse_number(const char *v, unsigned long long max, unsigned long long *ret)
{
        if (*v < '0' || *v > '9')
                return -EBADMSG;
        char *e;
        errno = 0;
        unsigned long long u = strtoull(v, &e, 10);
        if (errno != 0 || *e != 0 || u > max)
                return -EBADMSG;
        *ret = u;
        return 0;
}

static int parse_text(const char *v, size_t want_len, char *dst, size_t size)
{
        size_t l = strlen(v);
        if (l >= size || (want_len != SIZE_MAX && l != want_len))
                return -EBADMSG;
        memcpy(dst, v, l + 1);
        return 0;
}

int state_parse(const char *text, size_t len, struct state_record *r)
{
        enum { K_MPID, K_MSTART, K_IPID, K_ISTART, K_BOOT, K_RT, K_RESTARTS, K_RH, K_LH, K_SH, K_ADDR, _K_MAX };
        static const char *const keys[_K_MAX] = { "monitor_pid",  "monitor_start", "init_pid",  "init_start",
                                                  "boot_id",      "started_realtime_usec",     "restarts",
                                                  "restart_hash", "live_hash",     "supervise_hash", "address" };
        *r = (struct state_record){ 0 };
        if (len == 0 || text[len - 1] != '\n' || memchr(text, 0, len))
                return -EBADMSG;
        _cleanup_free_ char *buf = strndup(text, len);
        if (!buf)
                return -ENOMEM;
        unsigned seen = 0;
        for (char *line = buf, *next; *line; line = next) {
                next = strchr(line, '\n');
                *next++ = 0;
                char *eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                const char *v = eq + 1;
                int k = 0;
                while (k < _K_MAX && !streq(line, keys[k]))
                        k++;
                if (k == _K_MAX)
                        continue; /* a newer berthd's key */
                if (seen & (1u << k))
                        return -EBADMSG;
                seen |= 1u << k;
                unsigned long long u = 0;
                int q = 0;
                switch (k) {
                case K_MPID:
                case K_IPID:
                        q = parse_number(v, INT32_MAX, &u);
                        if (q == 0 && u <= 1)
                                q = -EBADMSG;
                        if (k == K_MPID)
                                r->monitor_pid = (pid_t) u;
                        else
                                r->init_pid = (pid_t) u;
                        break;
                case K_MSTART:
                        q = parse_number(v, UINT64_MAX, &u);
                        r->monitor_start = u;
                        break;
                case K_ISTART:
                        q = parse_number(v, UINT64_MAX, &u);
                        r->init_start = u;
                        break;
                case K_RT:
                        q = parse_number(v, UINT64_MAX, &u);
                        r->started_realtime_usec = u;
                        break;
                case K_RESTARTS:
                        q = parse_number(v, UINT32_MAX, &u);
                        r->restarts = (uint32_t) u;
                        break;
                case K_BOOT:
                        q = parse_text(v, 36, r->boot_id, sizeof r->boot_id);
                        break;
                case K_RH:
                        q = parse_text(v, SPEC_HASH_LEN - 1, r->restart_hash, sizeof r->restart_hash);
                        break;
                case K_LH:
                        q = parse_text(v, SPEC_HASH_LEN - 1, r->live_hash, sizeof r->live_hash);
                        break;
                case K_SH:
                        q = parse_text(v, SPEC_HASH_LEN - 1, r->supervise_hash, sizeof r->supervise_hash);
                        break;
                case K_ADDR: {
                        struct in_addr a;
                        q = parse_text(v, SIZE_MAX, r->address, sizeof r->address);
                        if (q == 0 && *v && inet_pton(AF_INET, v, &a) != 1)
                                q = -EBADMSG;
                        break;
                }
                }
                if (q < 0)
                        return q;
        }
        return seen == (1u << _K_MAX) - 1 ? 0 : -EBADMSG;
}

/* DIR/FILE (at most max bytes, never through a symlink) into *text. */
static int read_record(const char *dir, const char *file, size_t max, char **text, size_t *len)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        return read_file_at(dfd, file, max, text, len);
}

int state_read(const char *dir, struct state_record *r)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int q = read_record(dir, "state", 4096, &text, &len);
        if (q < 0)
                return q;
        return state_parse(text, len, r);
}

/* argv of /proc/PID/cmdline, NUL-separated: the n-th argument or NULL. */
static const char *cmdline_arg(const char *buf, size_t len, unsigned n)
{
        size_t off = 0;
        for (unsigned i = 0; i < n; i++) {
                const char *z = memchr(buf + off, 0, len - off);
                if (!z)
                        return NULL;
                off = (size_t) (z - buf) + 1;
                if (off >= len)
                        return NULL;
        }
        return memchr(buf + off, 0, len - off) ? buf + off : NULL;
}

static bool same_file(const char *a, const char *b)
{
        struct stat x, y;
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static pid_t proc_ppid(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_free_ char *text = NULL;
        if (read_file_at(AT_FDCWD, path, 4096, &text, NULL) < 0)
                return 0;
        char *p = strrchr(text, ')');
        int ppid = 0;
        char st;
        if (!p || sscanf(p + 1, " %c %d", &st, &ppid) != 2)
                return 0;
        return (pid_t) ppid;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int state_find_monitor(const char *dir, struct state_record *r)
{
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        if (!proc)
                return -errno;
        struct dirent *de;
        while ((de = readdir(proc))) {
                char *e;
                long pid = strtol(de->d_name, &e, 10);
                if (*e || pid <= 1)
                        continue;
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
                _cleanup_free_ char *cmd = NULL;
                size_t len = 0;
                if (read_file_at(AT_FDCWD, path, 16384, &cmd, &len) < 0 || len == 0)
                        continue;
                const char *a0 = cmdline_arg(cmd, len, 0), *a1 = cmdline_arg(cmd, len, 1),
                           *a2 = cmdline_arg(cmd, len, 2);
                if (!a0 || !a1 || !a2 || !streq(a0, "berth-monitor") || !same_file(a1, dir))
                        continue;
                /* Anything can set its argv: a monitor lives in our PID
                 * namespace, where no container process does (and the
                 * binary may have been replaced by an upgrade since). */
                snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
                if (!same_file(path, "/proc/self/ns/pid"))
                        continue;
                unsigned long long init = 0;
                if (parse_number(a2, INT32_MAX, &init) < 0 || init <= 1 || proc_ppid((pid_t) init) != (pid_t) pid)
                        continue;
                struct state_record f = { .monitor_pid = (pid_t) pid, .init_pid = (pid_t) init };
                if (state_proc_starttime(f.monitor_pid, &f.monitor_start) < 0 ||
                    state_proc_starttime(f.init_pid, &f.init_start) < 0 || state_boot_id(f.boot_id) < 0)
                        continue;
                *r = f;
                return 0;
        }
        return -ESRCH;
}

bool state_dir_locked(const char *dir)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return false;
        _cleanup_close_ int fd = openat(dfd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* The files config_load_dir() reads: *.conf, not hidden, not a backup. */
static bool is_definition_file(const char *n)
{
        size_t l = strlen(n);
        return n[0] != '.' && n[0] != '#' && l > 5 && streq(n + l - 5, ".conf");
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The definition files of the directory dfd, sorted; NULL when out of
 * memory, unreadable or more than max. */
static char **definition_names(int dfd, size_t max, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *dp = fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3));
        if (!dp)
                return NULL;
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(dp))) {
                if (!is_definition_file(de->d_name))
                        continue;
                char **nv = n < max ? realloc(v, (n + 2) * sizeof *v) : NULL;
                if (!nv || !(nv[n] = strdup(de->d_name))) {
                        v = nv ? nv : v;
                        if (v)
                                v[n] = NULL;
                        strv_free(v);
                        return NULL;
                }
                v = nv;
                v[++n] = NULL;
        }
        if (!v && !(v = calloc(1, sizeof *v)))
                return NULL;
        qsort(v, n, sizeof *v, cmp_str);
        *ret_n = n;
        return v;
}

/* One generation directory's files, sorted by name; known once read (or
 * written) since this berthd started. */
struct lg_dir {
        bool known;
        size_t n;
        char **names;
        char **texts;
        size_t *lens;
};

struct state_last_good {
        int cur; /* the generation STATE/last-good names: 0, 1, or -1 (none, or an older plain directory) */
        bool cur_known;
        struct lg_dir d[2];
};

static const char *const lg_gen[2] = { STATE_LAST_GOOD ".a", STATE_LAST_GOOD ".b" };
#define LG_TMP STATE_LAST_GOOD ".tmp"

static void lg_dir_clear(struct lg_dir *d)
{
        for (size_t i = 0; i < d->n; i++) {
                free(d->names[i]);
                free(d->texts[i]);
        }
        free(d->names);
        free(d->texts);
        free(d->lens);
        *d = (struct lg_dir){ 0 };
}

void state_last_good_free(struct state_last_good *c)
{
        if (!c)
                return;
        lg_dir_clear(&c->d[0]);
        lg_dir_clear(&c->d[1]);
        free(c);
}

static int lg_dir_add(struct lg_dir *d, const char *name, const char *text, size_t len)
{
        char **nn = realloc(d->names, (d->n + 1) * sizeof *nn);
        if (nn)
                d->names = nn;
        char **nt = nn ? realloc(d->texts, (d->n + 1) * sizeof *nt) : NULL;
        if (nt)
                d->texts = nt;
        size_t *nl = nt ? realloc(d->lens, (d->n + 1) * sizeof *nl) : NULL;
        if (nl)
                d->lens = nl;
        char *n = nl ? strdup(name) : NULL;
        char *t = n ? malloc(len + 1) : NULL;
        if (!t) {
                free(n);
                return -ENOMEM;
        }
        memcpy(t, text, len);
        t[len] = 0;
        d->names[d->n] = n;
        d->texts[d->n] = t;
        d->lens[d->n++] = len;
        return 0;
}

/* The index of name in d (sorted), or -1. */
static ssize_t lg_dir_find(const struct lg_dir *d, const char *name)
{
        size_t lo = 0, hi = d->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(d->names[mid], name);
                if (c == 0)
                        return (ssize_t) mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

/* What generation directory gen holds (none: empty). */
static int lg_dir_read(int sfd, const char *name, size_t max_size, struct lg_dir *out)
{
        lg_dir_clear(out);
        _cleanup_close_ int dfd = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0) {
                if (errno != ENOENT)
                        return -errno;
                out->known = true;
                return 0;
        }
        size_t n = 0;
        _cleanup_(strv_freep) char **names = definition_names(dfd, SIZE_MAX / 2, &n);
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_file_at(dfd, names[i], max_size, &text, &len);
                if (r == -EFBIG || r == -EINVAL || r == -ELOOP)
                        continue; /* not ours: never equal to a definition, overwritten or removed */
                if (r < 0 || (r = lg_dir_add(out, names[i], text, len)) < 0) {
                        lg_dir_clear(out);
                        return r;
                }
        }
        out->known = true;
        return 0;
}

/* Which generation STATE/last-good names (-1: none, or a plain directory). */
static int lg_current(int sfd)
{
        char target[64];
        ssize_t k = readlinkat(sfd, STATE_LAST_GOOD, target, sizeof target - 1);
        if (k < 0)
                return -1;
        target[k] = 0;
        for (int i = 0; i < 2; i++)
                if (streq(target, lg_gen[i]))
                        return i;
        return -1;
}

/* Whether d holds def's file with def's bytes. */
static bool lg_dir_holds(const struct lg_dir *d, const struct state_def *def)
{
        ssize_t k = lg_dir_find(d, def->name);
        return k >= 0 && d->lens[k] == def->len && memcmp(d->texts[k], def->text, def->len) == 0;
}

static bool lg_same(const struct lg_dir *d, const struct state_def *defs, size_t n)
{
        if (!d->known || d->n != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!lg_dir_holds(d, &defs[i]))
                        return false;
        }
        return true;
}

/* name of dir from, linked into dfd (replacing what dfd has by that name:
 * dfd is not the generation in use). 0, or -errno. */
static int lg_link(int from, int dfd, const char *name)
{
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return linkat(from, name, dfd, name, 0) < 0 ? -errno : 0;
}

/* Brings generation directory t to defs, writing only what differs; its
 * files and the directory itself are on disk when it returns 0. A file the
 * generation in use (cur, its directory cur_dfd) holds with the same bytes
 * is linked from there, not written: the first save after berthd starts
 * brings a generation it never saw to the whole set, and N writes and a
 * syncfs were most of a reload's time at 1,000 definitions. No file of a
 * generation is ever written in place (each is replaced by rename), so the
 * two can share inodes; the linked ones are on disk already. */
static int lg_fill(int sfd, struct lg_dir *t, const char *tname, const struct state_def *defs, size_t n,
                   const struct lg_dir *cur, int cur_dfd)
{
        if (mkdirat(sfd, tname, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int dfd = openat(sfd, tname, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        struct lg_dir next = { 0 };
        bool *differs = calloc(n + 1, sizeof *differs);
        if (!differs)
                return -ENOMEM;
        bool *linkable = calloc(n + 1, sizeof *linkable);
        if (!linkable) {
                free(differs);
                return -ENOMEM;
        }
        size_t written = 0;
        for (size_t i = 0; i < n; i++) {
                differs[i] = !lg_dir_holds(t, &defs[i]);
                linkable[i] = differs[i] && cur && cur_dfd >= 0 && lg_dir_holds(cur, &defs[i]);
                written += differs[i] && !linkable[i];
        }
        /* A reload changes a few files: each synced alone. Many (the first
         * save, a new directory): written, then the file system synced once. */
        bool each = written <= 16;
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (linkable[i] && lg_link(cur_dfd, dfd, defs[i].name) < 0) {
                        linkable[i] = false; /* a file system without hard links: written */
                        if (each && ++written > 16)
                                each = false; /* synced by syncfs below */
                }
                if (differs[i] && !linkable[i])
                        r = each ? write_file_atomic(dfd, defs[i].name, defs[i].text, defs[i].len, 0600)
                                 : write_file_replace(dfd, defs[i].name, defs[i].text, defs[i].len, 0600);
                if (r >= 0)
                        r = lg_dir_add(&next, defs[i].name, defs[i].text, defs[i].len);
        }
        /* Files of the set it held that are gone now, and leftovers of an
         * interrupted save (".#NAME.PID" temporaries). */
        _cleanup_(closedirp) DIR *dp = r >= 0 ? fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3)) : NULL;
        if (r >= 0 && !dp)
                r = -errno;
        struct dirent *de;
        while (r >= 0 && (de = readdir(dp))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (lg_dir_find(&next, de->d_name) < 0)
                        r = rm_rf_below(dfd, de->d_name);
        }
        free(differs);
        free(linkable);
        if (r >= 0 && !each && syncfs(dfd) < 0)
                r = -errno;
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        lg_dir_clear(t);
        if (r < 0) {
                lg_dir_clear(&next); /* unknown now: read again at the next save */
                return r;
        }
        *t = next;
        t->known = true;
        return 0;
}

static int cmp_def(const void *a, const void *b)
{
        return strcmp(((const struct state_def *) a)->name, ((const struct state_def *) b)->name);
}

int state_last_good_save(const char *state_dir, const struct state_def *defs, size_t n, size_t max_size,
                         struct state_last_good **cache)
{
        if (!*cache) {
                *cache = calloc(1, sizeof **cache);
                if (!*cache)
                        return -ENOMEM;
                (*cache)->cur = -1;
        }
        struct state_last_good *c = *cache;
        /* By name, as the generation directories are kept (bisected). */
        _cleanup_free_ struct state_def *sorted = calloc(n + 1, sizeof *sorted);
        if (!sorted)
                return -ENOMEM;
        if (n)
                memcpy(sorted, defs, n * sizeof *defs);
        qsort(sorted, n, sizeof *sorted, cmp_def);
        for (size_t i = 1; i < n; i++)
                if (streq(sorted[i - 1].name, sorted[i].name))
                        return -EINVAL;
        defs = sorted;
        _cleanup_close_ int sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        int r;
        if (!c->cur_known) {
                c->cur = lg_current(sfd);
                c->cur_known = true;
        }
        if (c->cur >= 0 && !c->d[c->cur].known && (r = lg_dir_read(sfd, lg_gen[c->cur], max_size, &c->d[c->cur])) < 0)
                return r;
        if (c->cur >= 0 && lg_same(&c->d[c->cur], defs, n))
                return 0;
        int t = c->cur == 0 ? 1 : 0;
        if (!c->d[t].known && (r = lg_dir_read(sfd, lg_gen[t], max_size, &c->d[t])) < 0)
                return r;
        _cleanup_close_ int cur_dfd = c->cur >= 0 ? openat(sfd, lg_gen[c->cur], O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                                                      O_NOFOLLOW)
                                                 : -1;
        r = lg_fill(sfd, &c->d[t], lg_gen[t], defs, n, c->cur >= 0 ? &c->d[c->cur] : NULL, cur_dfd);
        if (r < 0)
                return r;
        /* The switch: a new link renamed over the old one (or, the first
         * time after an older berthd, exchanged with its plain directory). */
        (void) unlinkat(sfd, LG_TMP, 0);
        if (symlinkat(lg_gen[t], sfd, LG_TMP) < 0) {
                if (errno != EEXIST || (r = rm_rf_below(sfd, LG_TMP)) < 0 || symlinkat(lg_gen[t], sfd, LG_TMP) < 0)
                        return r < 0 ? r : -errno;
        }
        struct stat st;
        bool plain = fstatat(sfd, STATE_LAST_GOOD, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        if (plain ? renameat2(sfd, LG_TMP, sfd, STATE_LAST_GOOD, RENAME_EXCHANGE) < 0
                  : renameat(sfd, LG_TMP, sfd, STATE_LAST_GOOD) < 0)
                return -errno;
        if (fsync(sfd) < 0)
                return -errno;
        c->cur = t;
        if (plain)
                (void) rm_rf_below(sfd, LG_TMP); /* the older berthd's directory */
        return 1;
}

char *state_definitions_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_LAST_GOOD, state_dir);
}

int state_proc_starttime(pid_t pid, uint64_t *ret)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_free_ char *text = NULL;
        if (read_file_at(AT_FDCWD, path, 4096, &text, NULL) < 0)
                return -ESRCH;
        /* The command name may hold spaces and parentheses: skip past the last ')'. */
        char *p = strrchr(text, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        *ret = strtoull(p + 1, NULL, 10);
        return 0;
}

int state_boot_id(char buf[40])
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 128, &text, NULL);
        if (r < 0)
                return r;
        snprintf(buf, 40, "%.36s", text);
        return 0;
}

static bool id_is_valid(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == 32;
}

int state_container_id(const char *dir, bool create, char id[33])
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, "id", 128, &text, NULL);
        if (r >= 0) {
                text[strcspn(text, "\n")] = 0;
                if (id_is_valid(text)) {
                        memcpy(id, text, 33);
                        return 0;
                }
        } else if (r != -ENOENT)
                return r;
        if (!create)
                return -ENOENT;
        unsigned char b[16];
        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -errno;
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(id + 2 * i, 3, "%02x", b[i]);
        char line[34];
        snprintf(line, sizeof line, "%s\n", id);
        return write_file_atomic(dfd, "id", line, 33, 0644);
}

bool state_log_journald(const char *dir)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *text = NULL;
        return dfd >= 0 && read_file_at(dfd, "log-driver", 64, &text, NULL) >= 0 &&
               strncmp(text, "journald", 8) == 0;
}

int state_pidfd_verified(pid_t pid, uint64_t start, int *ret)
{
        if (pid <= 1)
                return -ESRCH;
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -errno;
        uint64_t now;
        if (state_proc_starttime(pid, &now) < 0 || now != start) {
                close(fd);
                return -ESRCH;
        }
        *ret = fd;
        return 0;
}

int state_read_exit(const char *dir, int *status, uint64_t *realtime_usec, uint64_t *oom_kills)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dfd, "exit", 1024, &text, NULL);
        if (r < 0)
                return r;
        char *s = strstr(text, "status=");
        if (!s)
                return -EBADMSG;
        *status = atoi(s + 7);
        char *t = strstr(text, "realtime_usec=");
        if (realtime_usec)
                *realtime_usec = t ? strtoull(t + 14, NULL, 10) : 0;
        char *o = strstr(text, "oom_kills=");
        if (oom_kills)
                *oom_kills = o ? strtoull(o + 10, NULL, 10) : 0;
        return 0;
}

/* ---- intent ------------------------------------------------------------------------------ */

#define INTENT_MAGIC "berth-intent 1\n"

static const char *const phase_names[_STATE_PHASE_MAX] = {
        [STATE_PHASE_STOPPED] = "stopped", [STATE_PHASE_STARTING] = "starting", [STATE_PHASE_RUNNING] = "running",
        [STATE_PHASE_STOPPING] = "stopping", [STATE_PHASE_ENDED] = "ended",     [STATE_PHASE_EXITED] = "exited",
        [STATE_PHASE_BACKOFF] = "backoff",   [STATE_PHASE_FAILED] = "failed",
};

const char *state_phase_to_string(enum state_phase p)
{
        return p < _STATE_PHASE_MAX ? phase_names[p] : "?";
}

int state_write_intent(const char *dir, const struct state_intent *i)
{
        return state_write_intent_mode(dir, i, true);
}

int state_write_intent_mode(const char *dir, const struct state_intent *i, bool durable)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        char err[sizeof i->last_error];
        snprintf(err, sizeof err, "%s", i->last_error);
        for (char *p = err; *p; p++)
                if (*p == '\n' || (unsigned char) *p < 0x20)
                        *p = ' ';
        char times[STATE_RESTART_TIMES_MAX * 21 + 1] = "";
        size_t off = 0;
        for (size_t k = 0; k < i->n_restart_times && k < STATE_RESTART_TIMES_MAX; k++)
                off += (size_t) snprintf(times + off, sizeof times - off, "%s%llu", k ? "," : "",
                                         (unsigned long long) i->restart_times[k]);
        char text[2048];
        int n = snprintf(text, sizeof text,
                         INTENT_MAGIC "boot_id=%s\nphase=%s\noperator_stopped=%d\nrestart_after_stop=%d\n"
                                      "last_status=%d\nlast_oom=%d\nbackoff_until_usec=%llu\nrestarts=%u\n"
                                      "consecutive=%u\nrestart_times=%s\nlast_error=%s\nend=1\n",
                         i->boot_id, state_phase_to_string(i->phase), i->operator_stopped, i->restart_after_stop,
                         i->last_status, i->last_oom, (unsigned long long) i->backoff_until_usec, i->restarts,
                         i->consecutive, times, err);
        if (n < 0 || (size_t) n >= sizeof text)
                return -E2BIG;
        return durable ? write_file_atomic(dfd, "intent", text, (size_t) n, 0600)
                       : write_file_replace(dfd, "intent", text, (size_t) n, 0600);
}

static int parse_bool(const char *v, bool *ret)
{
        if (!streq(v, "0") && !streq(v, "1"))
                return -EBADMSG;
        *ret = v[0] == '1';
        return 0;
}

int state_parse_intent(const char *text, size_t len, struct state_intent *i)
{
        *i = (struct state_intent){ .last_status = -1 };
        size_t ml = strlen(INTENT_MAGIC);
        if (len < ml || memcmp(text, INTENT_MAGIC, ml) != 0 || text[len - 1] != '\n' || memchr(text, 0, len))
                return -EBADMSG;
        _cleanup_free_ char *buf = strndup(text + ml, len - ml);
        if (!buf)
                return -ENOMEM;
        bool end = false, have_boot = false, have_phase = false;
        for (char *line = buf, *next; *line; line = next) {
                next = strchr(line, '\n');
                *next++ = 0;
                char *eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                const char *v = eq + 1;
                unsigned long long u = 0;
                int q = 0;
                if (streq(line, "boot_id")) {
                        q = parse_text(v, 36, i->boot_id, sizeof i->boot_id);
                        have_boot = true;
                } else if (streq(line, "phase")) {
                        q = -EBADMSG;
                        for (int p = 0; p < _STATE_PHASE_MAX; p++)
                                if (streq(v, phase_names[p])) {
                                        i->phase = (enum state_phase) p;
                                        q = 0;
                                }
                        have_phase = true;
                } else if (streq(line, "operator_stopped"))
                        q = parse_bool(v, &i->operator_stopped);
                else if (streq(line, "restart_after_stop"))
                        q = parse_bool(v, &i->restart_after_stop);
                else if (streq(line, "last_oom"))
                        q = parse_bool(v, &i->last_oom);
                else if (streq(line, "last_status")) {
                        if (streq(v, "-1"))
                                i->last_status = -1;
                        else if ((q = parse_number(v, 255 + 128, &u)) == 0)
                                i->last_status = (int) u;
                } else if (streq(line, "backoff_until_usec")) {
                        q = parse_number(v, UINT64_MAX, &u);
                        i->backoff_until_usec = u;
                } else if (streq(line, "restarts")) {
                        q = parse_number(v, UINT32_MAX, &u);
                        i->restarts = (uint32_t) u;
                } else if (streq(line, "consecutive")) {
                        q = parse_number(v, UINT32_MAX, &u);
                        i->consecutive = (uint32_t) u;
                } else if (streq(line, "restart_times")) {
                        i->n_restart_times = 0;
                        for (const char *p = v; *p && q == 0;) {
                                char num[24];
                                size_t l = strcspn(p, ",");
                                if (l == 0 || l >= sizeof num || i->n_restart_times == STATE_RESTART_TIMES_MAX) {
                                        q = -EBADMSG;
                                        break;
                                }
                                memcpy(num, p, l);
                                num[l] = 0;
                                q = parse_number(num, UINT64_MAX, &u);
                                i->restart_times[i->n_restart_times++] = u;
                                p += l;
                                if (*p == ',' && !*++p)
                                        q = -EBADMSG;
                        }
                } else if (streq(line, "last_error"))
                        snprintf(i->last_error, sizeof i->last_error, "%s", v);
                else if (streq(line, "end"))
                        end = streq(v, "1");
                /* else: a newer berthd's key */
                if (q < 0)
                        return q;
        }
        return end && have_boot && have_phase ? 0 : -EBADMSG;
}

int state_read_intent(const char *dir, struct state_intent *i)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int q = read_record(dir, "intent", 8192, &text, &len);
        if (q < 0)
                return q;
        return state_parse_intent(text, len, i);
}
char *state_containers_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_CONTAINERS, state_dir);
}

char *state_networks_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_NETWORKS, state_dir);
}

char *state_idmap_dir(const char *state_dir)
{
        return strdup_printf("%s/" STATE_IDMAP, state_dir);
}

char *state_container_dir(const char *state_dir, const char *name)
{
        return strdup_printf("%s/" STATE_CONTAINERS "/%s", state_dir, name);
}

char *state_container_file(const char *state_dir, const char *name, const char *file)
{
        return strdup_printf("%s/" STATE_CONTAINERS "/%s/%s", state_dir, name, file);
}

int state_container_dir_buf(const char *state_dir, const char *name, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/" STATE_CONTAINERS "/%s", state_dir, name);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}
