/* berthctl's verbs on the cgroups of running containers: stats, top,
 * freeze, unfreeze. The container is found through berthd when it answers
 * (else in --state-dir), its cgroup through its init. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berthctl.h"
#include "cgroup.h"
#include "net.h"

/* The cgroup of a running container. */
struct running {
        const char *name;
        pid_t init_pid;
        struct cgroup_manager *m;
        struct cgroup *cg;
};

static void running_done(struct running *r)
{
        r->cg = cgroup_free(r->cg);
        r->m = cgroup_manager_free(r->m);
}

static int open_running(const char *verb, const char *name, const char *state, struct running *ret)
{
        *ret = (struct running){ .name = name };
        struct found f;
        int r = find_container(verb, name, state, &f);
        if (r < 0)
                return r;
        ret->init_pid = f.rec.init_pid;
        r = cgroup_open_manager_of(f.rec.init_pid, name, &ret->m);
        if (r >= 0)
                r = cgroup_open_existing(ret->m, name, &ret->cg);
        if (r < 0) {
                fail("berthctl %s: container '%s': cannot open its cgroup: %s", verb, name, strerror(-r));
                running_done(ret);
        }
        return r;
}

/* Every named container, or none: 0 with *ret (n entries), or 1 after
 * saying which one is not running. */
static int open_all(const struct ctl_args *a, char **names, size_t n, struct running **ret)
{
        const char *state = a->state ? a->state : DEFAULT_STATE_DIR;
        struct running *rs = calloc(n ? n : 1, sizeof *rs);
        if (!rs) {
                fail("berthctl %s: out of memory", a->verb);
                return 1;
        }
        for (size_t i = 0; i < n; i++)
                if (open_running(a->verb, names[i], state, &rs[i]) < 0) {
                        for (size_t k = 0; k < i; k++)
                                running_done(&rs[k]);
                        free(rs);
                        return 1;
                }
        *ret = rs;
        return 0;
}

static void close_all(struct running *rs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                running_done(&rs[i]);
        free(rs);
}

/* ---- freeze, unfreeze ------------------------------------------------------------------------ */

static int freeze_verb(struct ctl_args *a, bool freeze)
{
        struct running *rs;
        size_t n = (size_t) a->argc;
        if (open_all(a, a->argv, n, &rs))
                return 1;
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                int r = freeze ? cgroup_freeze(rs[i].cg) : cgroup_thaw(rs[i].cg);
                if (r < 0) {
                        fail("berthctl %s: container '%s': %s", a->verb, rs[i].name,
                             r == -EOPNOTSUPP ? "this host has no cgroup freezer" : strerror(-r));
                        ret = 1;
                }
        }
        close_all(rs, n);
        return ret;
}

int verb_freeze(struct ctl_args *a)
{
        return freeze_verb(a, true);
}

int verb_unfreeze(struct ctl_args *a)
{
        return freeze_verb(a, false);
}

/* ---- stats ----------------------------------------------------------------------------------- */

/* One look at a container: its cgroup's numbers and its network's. */
struct sample {
        struct cgroup_stats st;
        uint64_t net_rx, net_tx; /* CGROUP_STAT_UNKNOWN: the host's network, or unknown */
        uint64_t mono_ns;
        double cpu_percent; /* over the interval before; < 0: not known */
};

static uint64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* Unknown for a container on the host's network. */
static void net_bytes(pid_t pid, uint64_t *rx, uint64_t *tx)
{
        if (net_pid_bytes(pid, rx, tx) < 0)
                *rx = *tx = CGROUP_STAT_UNKNOWN;
}

static int take_sample(const struct running *rn, struct sample *s)
{
        int r = cgroup_stats(rn->cg, &s->st);
        if (r < 0)
                return r;
        net_bytes(rn->init_pid, &s->net_rx, &s->net_tx);
        s->mono_ns = mono_ns();
        s->cpu_percent = -1;
        return 0;
}

/* 100% is one CPU busy for the whole interval, as docker stats counts. */
static void cpu_over(const struct sample *before, struct sample *now)
{
        if (before->st.cpu_usage_ns == CGROUP_STAT_UNKNOWN || now->st.cpu_usage_ns == CGROUP_STAT_UNKNOWN ||
            now->mono_ns <= before->mono_ns)
                return;
        uint64_t used = now->st.cpu_usage_ns >= before->st.cpu_usage_ns ? now->st.cpu_usage_ns - before->st.cpu_usage_ns : 0;
        now->cpu_percent = 100.0 * (double) used / (double) (now->mono_ns - before->mono_ns);
}

/* 1023B, 1.5KiB, 12.3MiB, 2GiB: three significant digits at most. */
static const char *human(uint64_t v, char *buf, size_t n)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        if (v == CGROUP_STAT_UNKNOWN)
                return snprintf(buf, n, "-"), buf;
        double d = (double) v;
        size_t u = 0;
        while (d >= 1024 && u + 1 < ELEMENTSOF(units)) {
                d /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%lluB", (unsigned long long) v);
        else
                snprintf(buf, n, d < 10 ? "%.2f%s" : d < 100 ? "%.1f%s" : "%.0f%s", d, units[u]);
        return buf;
}

static const char *raw(uint64_t v, char *buf, size_t n)
{
        if (v == CGROUP_STAT_UNKNOWN)
                snprintf(buf, n, "-");
        else
                snprintf(buf, n, "%llu", (unsigned long long) v);
        return buf;
}

static void json_stat(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, v == CGROUP_STAT_UNKNOWN ? NULL : json_object_new_uint64(v));
}

static json_object *stats_json(const char *name, const struct sample *s)
{
        const struct cgroup_stats *st = &s->st;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "cpu_percent",
                               s->cpu_percent < 0 ? NULL : json_object_new_double(s->cpu_percent));
        json_stat(o, "cpu_usage_ns", st->cpu_usage_ns);
        json_stat(o, "memory_current", st->memory_current);
        json_stat(o, "memory_limit", st->memory_limit);
        json_stat(o, "memory_peak", st->memory_peak);
        json_stat(o, "pids", st->pids_current);
        json_stat(o, "pids_limit", st->pids_limit);
        json_stat(o, "io_read_bytes", st->io_read_bytes);
        json_stat(o, "io_write_bytes", st->io_write_bytes);
        json_stat(o, "net_rx_bytes", s->net_rx);
        json_stat(o, "net_tx_bytes", s->net_tx);
        json_stat(o, "oom_kills", st->oom_kills);
        return o;
}

#define RAW_FMT "%-*s %-8s %-12s %-12s %-12s %-16s %-6s %-10s %-12s %-12s %-12s %-12s %s\n"
#define HUMAN_FMT "%-*s %-8s %-22s %-7s %-6s %-22s %-22s %s\n"

static void stats_header(bool raw_numbers, int w)
{
        if (raw_numbers)
                printf(RAW_FMT, w, "NAME", "CPU%", "MEM", "MEM-LIMIT", "MEM-PEAK", "CPU-NS", "PIDS", "PIDS-LIMIT",
                       "IO-READ", "IO-WRITE", "NET-RX", "NET-TX", "OOM-KILLS");
        else
                printf(HUMAN_FMT, w, "NAME", "CPU%", "MEM / LIMIT", "MEM%", "PIDS", "BLOCK I/O (R / W)",
                       "NET I/O (RX / TX)", "OOM-KILLS");
}

static void stats_line(const char *name, const struct sample *s, bool raw_numbers, int w)
{
        const struct cgroup_stats *st = &s->st;
        char cpu[16], v[12][32];
        if (s->cpu_percent < 0)
                snprintf(cpu, sizeof cpu, "-");
        else
                snprintf(cpu, sizeof cpu, "%.2f%s", s->cpu_percent, raw_numbers ? "" : "%");
        if (raw_numbers) {
                printf(RAW_FMT, w, name, cpu, raw(st->memory_current, v[0], 32), raw(st->memory_limit, v[1], 32),
                       raw(st->memory_peak, v[2], 32), raw(st->cpu_usage_ns, v[3], 32), raw(st->pids_current, v[4], 32),
                       raw(st->pids_limit, v[5], 32), raw(st->io_read_bytes, v[6], 32), raw(st->io_write_bytes, v[7], 32),
                       raw(s->net_rx, v[8], 32), raw(s->net_tx, v[9], 32), raw(st->oom_kills, v[10], 32));
                return;
        }
        char mem[64], pct[16], io[64], net[64];
        snprintf(mem, sizeof mem, "%s / %s", human(st->memory_current, v[0], 32),
                 st->memory_limit == CGROUP_STAT_UNKNOWN ? "no limit" : human(st->memory_limit, v[1], 32));
        if (st->memory_limit != CGROUP_STAT_UNKNOWN && st->memory_limit > 0 && st->memory_current != CGROUP_STAT_UNKNOWN)
                snprintf(pct, sizeof pct, "%.2f%%", 100.0 * (double) st->memory_current / (double) st->memory_limit);
        else
                snprintf(pct, sizeof pct, "-");
        snprintf(io, sizeof io, "%s / %s", human(st->io_read_bytes, v[2], 32), human(st->io_write_bytes, v[3], 32));
        if (s->net_rx == CGROUP_STAT_UNKNOWN)
                snprintf(net, sizeof net, "- (host network)");
        else
                snprintf(net, sizeof net, "%s / %s", human(s->net_rx, v[4], 32), human(s->net_tx, v[5], 32));
        printf(HUMAN_FMT, w, name, cpu, mem, pct, raw(st->pids_current, v[6], 32), io, net,
               raw(st->oom_kills, v[7], 32));
}

static volatile sig_atomic_t stats_stop;
static void on_stats_signal(int sig)
{
        (void) sig;
        stats_stop = 1;
}

/* Sleeps usec unless interrupted by Ctrl-C. */
static void stats_sleep(usec_t usec)
{
        uint64_t end = mono_ns() + usec * 1000;
        while (!stats_stop) {
                uint64_t now = mono_ns();
                if (now >= end)
                        break;
                uint64_t left = end - now;
                struct timespec ts = { .tv_sec = (time_t) (left / 1000000000ULL), .tv_nsec = (long) (left % 1000000000ULL) };
                (void) nanosleep(&ts, NULL);
        }
}

/* One round: the containers open, a first sample, the interval, a
 * second one (CPU % over the interval), the table or JSON. With no NAME,
 * the containers berthd lists as running at this round (one that stopped
 * meanwhile is left out); a NAME that does not run is an error. */
static int stats_round(struct ctl_args *a, usec_t interval, bool clear)
{
        char **names = a->argv, **all = NULL;
        size_t n = (size_t) a->argc;
        if (n == 0) {
                if (daemon_running_names(&all) < 0) {
                        fail("berthctl stats: without a NAME, berthd must list the running containers");
                        return 1;
                }
                names = all;
                n = strv_length(all);
        }
        struct running *rs = calloc(n ? n : 1, sizeof *rs);
        struct sample *s0 = calloc(n ? n : 1, sizeof *s0), *s1 = calloc(n ? n : 1, sizeof *s1);
        bool *ok = calloc(n ? n : 1, sizeof *ok);
        int ret = 0;
        if (!rs || !s0 || !s1 || !ok) {
                fail("berthctl stats: out of memory");
                ret = 1;
                goto out;
        }
        const char *state = a->state ? a->state : DEFAULT_STATE_DIR;
        for (size_t i = 0; i < n; i++) {
                if (a->argc == 0) { /* listed by berthd: it may have stopped since */
                        struct found f;
                        if (find_container_quiet(names[i], state, &f) < 0)
                                continue;
                }
                if (open_running(a->verb, names[i], state, &rs[i]) < 0) {
                        ret = 1;
                        goto out;
                }
                ok[i] = true;
        }
        for (size_t i = 0; i < n; i++)
                if (ok[i] && take_sample(&rs[i], &s0[i]) < 0)
                        ok[i] = false;
        stats_sleep(interval);
        for (size_t i = 0; i < n; i++) {
                if (!ok[i])
                        continue;
                int r = take_sample(&rs[i], &s1[i]);
                if (r < 0) {
                        if (a->argc > 0) {
                                fail("berthctl stats: container '%s': %s", rs[i].name, strerror(-r));
                                ret = 1;
                        }
                        ok[i] = false;
                        continue;
                }
                cpu_over(&s0[i], &s1[i]);
        }
        if (a->json) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        if (ok[i])
                                json_object_array_add(arr, stats_json(rs[i].name, &s1[i]));
                if (ret == 0) {
                        json_object *doc = a->argc == 1 && !a->watch ? json_object_array_get_idx(arr, 0) : arr;
                        if (a->watch) {
                                puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
                                fflush(stdout);
                        } else if (doc)
                                print_json(doc);
                }
                json_object_put(arr);
        } else {
                int w = 4;
                for (size_t i = 0; i < n; i++)
                        if (ok[i] && (int) strlen(names[i]) > w)
                                w = (int) strlen(names[i]);
                if (clear)
                        fputs("\033[H\033[2J", stdout);
                stats_header(a->raw, w);
                for (size_t i = 0; i < n; i++)
                        if (ok[i])
                                stats_line(rs[i].name, &s1[i], a->raw, w);
                fflush(stdout);
        }
out:
        for (size_t i = 0; rs && i < n; i++)
                running_done(&rs[i]);
        free(rs);
        free(s0);
        free(s1);
        free(ok);
        strv_free(all);
        return ret;
}

/* The named containers, or with none every running one berthd lists.
 * Once, over one second; with --watch every SECONDS until Ctrl-C (or
 * --count rounds). With --json one NAME gives its object, else a list of
 * them (with --watch: one list a line, a round a line). */
int verb_stats(struct ctl_args *a)
{
        if (a->count >= 0 && !a->watch) {
                fail("berthctl stats: --count needs --watch");
                return 2;
        }
        if (!a->watch)
                return stats_round(a, SPEC_USEC_PER_SEC, false);
        struct sigaction sa = { .sa_handler = on_stats_signal };
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        bool clear = !a->json && isatty(STDOUT_FILENO);
        for (long round = 0; !stats_stop && (a->count < 0 || round < a->count); round++) {
                if (!clear && !a->json && round > 0)
                        putchar('\n');
                int r = stats_round(a, a->watch, clear);
                if (r)
                        return r;
        }
        return 0;
}

/* ---- top ------------------------------------------------------------------------------------- */

/* The uid inside the user namespace whose map (/proc/PID/uid_map, read
 * from ours: "INSIDE OUTSIDE COUNT" lines) holds host uid; -1 when it is
 * not mapped. */
static long uid_inside(pid_t pid, unsigned long host)
{
        char path[64];
        _cleanup_free_ char *map = NULL;
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        if (read_file_at(AT_FDCWD, path, 65536, &map, NULL) < 0)
                return -1;
        for (char *line = map; line && *line;) {
                unsigned long in, out, count;
                if (sscanf(line, "%lu %lu %lu", &in, &out, &count) == 3 && host >= out && host - out < count)
                        return (long) (in + (host - out));
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
        }
        return -1;
}

/* One process: host pid, pid in the container's PID namespace (the last
 * NSpid; "-" for a process of the cgroup outside that namespace), uid on
 * the host and in the container, state, CPU time (user and system) and
 * command line, from /proc. Returns false when it is gone meanwhile. */
static bool top_line(pid_t pid, const struct stat *ct_pidns)
{
        char path[64];
        _cleanup_free_ char *cmdline = NULL, *status = NULL, *pstat = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        if (read_file_at(AT_FDCWD, path, 4096, &cmdline, &len) < 0)
                return false;
        for (size_t k = 0; k + 1 < len; k++)
                if (cmdline[k] == 0)
                        cmdline[k] = ' ';
        for (size_t k = 0; k < len; k++) /* a container's text on our terminal */
                if ((unsigned char) cmdline[k] < 0x20 && cmdline[k] != 0)
                        cmdline[k] = '?';
        const char *uid = "?", *cpid = "-";
        char ctuid[32] = "?";
        struct stat ns;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) pid);
        bool in_ct = stat(path, &ns) == 0 && ns.st_ino == ct_pidns->st_ino && ns.st_dev == ct_pidns->st_dev;
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        if (read_file_at(AT_FDCWD, path, 65536, &status, NULL) == 0) {
                char *u = strstr(status, "\nUid:\t"), *nsp = strstr(status, "\nNSpid:\t");
                if (nsp && in_ct) { /* NSpid: host ... innermost */
                        nsp += 8;
                        nsp[strcspn(nsp, "\n")] = 0;
                        char *last = strrchr(nsp, '\t');
                        cpid = last ? last + 1 : nsp;
                }
                if (u) {
                        u += 6;
                        u[strcspn(u, "\t\n")] = 0;
                        uid = u;
                        long in = uid_inside(pid, strtoul(u, NULL, 10));
                        if (in >= 0)
                                snprintf(ctuid, sizeof ctuid, "%ld", in);
                        else
                                snprintf(ctuid, sizeof ctuid, "-");
                }
        }
        char cpu[32] = "?", state[2] = "?";
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_file_at(AT_FDCWD, path, 4096, &pstat, NULL) == 0) {
                /* fields after the command (which may hold spaces and ')'):
                 * state is the 3rd, utime the 14th, stime the 15th */
                char *p = strrchr(pstat, ')');
                unsigned long long ut, st;
                char c;
                if (p && sscanf(p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &c, &ut, &st) == 3) {
                        long hz = sysconf(_SC_CLK_TCK);
                        unsigned long long sec = (ut + st) / (unsigned long long) (hz > 0 ? hz : 100);
                        snprintf(cpu, sizeof cpu, "%llu:%02llu:%02llu", sec / 3600, sec / 60 % 60, sec % 60);
                        state[0] = c;
                }
        }
        if (len == 0) { /* a kernel thread or a zombie: its name */
                free(cmdline);
                cmdline = NULL;
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                if (read_file_at(AT_FDCWD, path, 256, &cmdline, NULL) == 0)
                        cmdline[strcspn(cmdline, "\n")] = 0;
        }
        printf("%-8d %-8s %-8s %-8s %-5s %-10s %s\n", (int) pid, cpid, uid, ctuid, state, cpu, cmdline ? cmdline : "?");
        return true;
}

int verb_top(struct ctl_args *a)
{
        struct running rn;
        if (open_running("top", a->argv[0], a->state ? a->state : DEFAULT_STATE_DIR, &rn) < 0)
                return 1;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        char path[64];
        struct stat ct_pidns;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) rn.init_pid);
        int r = stat(path, &ct_pidns) < 0 ? -errno : cgroup_pids(rn.cg, &pids, &n);
        if (r < 0) {
                fail("berthctl top: container '%s': %s", rn.name, strerror(-r));
                running_done(&rn);
                return 1;
        }
        printf("%-8s %-8s %-8s %-8s %-5s %-10s %s\n", "PID", "CT-PID", "UID", "CT-UID", "STATE", "TIME", "COMMAND");
        for (size_t i = 0; i < n; i++)
                (void) top_line(pids[i], &ct_pidns);
        running_done(&rn);
        return 0;
}
