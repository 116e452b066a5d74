/* berthctl's verbs on the cgroups of running containers: stats, top,
 * freeze, unfreeze. The container is found through berthd when it answers
 * (else in --state-dir), its cgroup through its init. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berthctl.h"
#include "cgroup.h"

/* The cgroup of a running container. */
struct running {
        const char *name;
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

static void fmt_stat(uint64_t v, char *buf, size_t n)
{
        if (v == CGROUP_STAT_UNKNOWN)
                snprintf(buf, n, "-");
        else
                snprintf(buf, n, "%llu", (unsigned long long) v);
}

static void json_stat(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, v == CGROUP_STAT_UNKNOWN ? NULL : json_object_new_uint64(v));
}

static json_object *stats_json(const char *name, const struct cgroup_stats *st)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_stat(o, "memory_current", st->memory_current);
        json_stat(o, "memory_peak", st->memory_peak);
        json_stat(o, "cpu_usage_ns", st->cpu_usage_ns);
        json_stat(o, "pids", st->pids_current);
        json_stat(o, "io_read_bytes", st->io_read_bytes);
        json_stat(o, "io_write_bytes", st->io_write_bytes);
        json_stat(o, "oom_kills", st->oom_kills);
        return o;
}

static void stats_line(const char *name, const struct cgroup_stats *st)
{
        char v[7][32];
        fmt_stat(st->memory_current, v[0], sizeof v[0]);
        fmt_stat(st->memory_peak, v[1], sizeof v[1]);
        fmt_stat(st->cpu_usage_ns, v[2], sizeof v[2]);
        fmt_stat(st->pids_current, v[3], sizeof v[3]);
        fmt_stat(st->io_read_bytes, v[4], sizeof v[4]);
        fmt_stat(st->io_write_bytes, v[5], sizeof v[5]);
        fmt_stat(st->oom_kills, v[6], sizeof v[6]);
        printf("%-20s %-12s %-12s %-16s %-6s %-12s %-12s %s\n", name, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}

/* The named containers, or with none every running one berthd lists.
 * With --json one NAME gives its object, else a list of them. */
int verb_stats(struct ctl_args *a)
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
        struct running *rs;
        if (open_all(a, names, n, &rs)) {
                strv_free(all);
                return 1;
        }
        json_object *arr = json_object_new_array();
        if (!a->json)
                printf("%-20s %-12s %-12s %-16s %-6s %-12s %-12s %s\n", "NAME", "MEM", "MEM-PEAK", "CPU-NS", "PIDS",
                       "IO-READ", "IO-WRITE", "OOM-KILLS");
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                struct cgroup_stats st;
                int r = cgroup_stats(rs[i].cg, &st);
                if (r < 0) {
                        fail("berthctl stats: container '%s': %s", rs[i].name, strerror(-r));
                        ret = 1;
                        continue;
                }
                if (a->json)
                        json_object_array_add(arr, stats_json(rs[i].name, &st));
                else
                        stats_line(rs[i].name, &st);
        }
        if (a->json && ret == 0) {
                bool one = a->argc == 1;
                print_json(one ? json_object_array_get_idx(arr, 0) : arr);
        }
        json_object_put(arr);
        close_all(rs, n);
        strv_free(all);
        return ret;
}

/* ---- top ------------------------------------------------------------------------------------- */

/* One process: its pid in the container (the last NSpid), uid, CPU time
 * (user and system) and command line, from /proc. Returns false when it
 * is gone meanwhile. */
static bool top_line(pid_t pid)
{
        char path[64];
        _cleanup_free_ char *cmdline = NULL, *status = NULL, *stat = NULL;
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
        const char *uid = "?", *cpid = "?";
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        if (read_file_at(AT_FDCWD, path, 65536, &status, NULL) == 0) {
                char *u = strstr(status, "\nUid:\t"), *ns = strstr(status, "\nNSpid:\t");
                if (ns) { /* NSpid: host ... innermost */
                        ns += 8;
                        ns[strcspn(ns, "\n")] = 0;
                        char *last = strrchr(ns, '\t');
                        cpid = last ? last + 1 : ns;
                }
                if (u) {
                        u += 6;
                        u[strcspn(u, "\t\n")] = 0;
                        uid = u;
                }
        }
        char cpu[32] = "?";
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_file_at(AT_FDCWD, path, 4096, &stat, NULL) == 0) {
                /* fields after the command (which may hold spaces and ')'):
                 * state is the 3rd, utime the 14th, stime the 15th */
                char *p = strrchr(stat, ')');
                unsigned long long ut, st;
                if (p && sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) == 2) {
                        long hz = sysconf(_SC_CLK_TCK);
                        unsigned long long s = (ut + st) / (unsigned long long) (hz > 0 ? hz : 100);
                        snprintf(cpu, sizeof cpu, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
                }
        }
        if (len == 0) { /* a kernel thread or a zombie: its name */
                free(cmdline);
                cmdline = NULL;
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                if (read_file_at(AT_FDCWD, path, 256, &cmdline, NULL) == 0)
                        cmdline[strcspn(cmdline, "\n")] = 0;
        }
        printf("%-8d %-8s %-8s %-10s %s\n", (int) pid, cpid, uid, cpu, cmdline ? cmdline : "?");
        return true;
}

int verb_top(struct ctl_args *a)
{
        struct running rn;
        if (open_running("top", a->argv[0], a->state ? a->state : DEFAULT_STATE_DIR, &rn) < 0)
                return 1;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cgroup_pids(rn.cg, &pids, &n);
        if (r < 0) {
                fail("berthctl top: container '%s': %s", rn.name, strerror(-r));
                running_done(&rn);
                return 1;
        }
        printf("%-8s %-8s %-8s %-10s %s\n", "PID", "CT-PID", "UID", "TIME", "COMMAND");
        for (size_t i = 0; i < n; i++)
                (void) top_line(pids[i]);
        running_done(&rn);
        return 0;
}
