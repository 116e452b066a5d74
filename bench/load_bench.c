/* Times what berthd does with its definition directory on a reload of one
 * change: config_load_dir() without and with the parse cache (config.h),
 * each followed by plan_compute() against the set before. N files of one
 * container each (the shape of bench/scale.sh), one file edited before
 * every round; the two loads alternate, so both see the same machine.
 *   load_bench DIR [N] [RUNS]   (DIR: an empty directory it fills)
 * LOAD_BENCH_CACHE_ONLY=1: the cached loads only (for a profile of them).
 * prints min / median / max milliseconds of each. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int put(const char *dir, size_t i, unsigned version)
{
        char path[4096];
        snprintf(path, sizeof path, "%s/c%05zu.conf", dir, i);
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "container c%05zu {\n    template = \"busybox\"\n    command = { \"/bin/sleep\", \"%u\" }\n"
                "    autostart = true\n    network { mode = \"none\" }\n}\n",
                i, 1000 + version);
        return fclose(f) == 0 ? 0 : -errno;
}

static void report(const char *what, double *ms, size_t runs)
{
        qsort(ms, runs, sizeof *ms, cmp_double);
        printf("%-22s min %8.3f ms, median %8.3f ms, max %8.3f ms over %zu runs\n", what, ms[0], ms[runs / 2],
               ms[runs - 1], runs);
}

/* Loads dir (through cache when given), then plans against *before. */
static int load_and_plan(const char *dir, struct config_cache *cache, const struct spec_set *before,
                         struct spec_set *ret, double *load_ms, double *plan_ms)
{
        struct diag d = { 0 };
        double t0 = now_ms();
        int r = config_load_dir_cached(dir, ret, &d, cache);
        double t1 = now_ms();
        diag_done(&d);
        if (r < 0)
                return r;
        size_t n = before->n_containers;
        struct plan_actual *act = calloc(n + 1, sizeof *act);
        if (!act)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                plan_actual_from_spec(before->containers[i], PLAN_STATE_RUNNING, &act[i]);
        struct plan p;
        double t2 = now_ms();
        r = plan_compute(ret, act, n, NULL, 0, &p);
        double t3 = now_ms();
        free(act);
        if (r < 0)
                return r;
        if (plan_count_changes(&p) != 1)
                r = -EINVAL;
        plan_done(&p);
        *load_ms = t1 - t0;
        *plan_ms = t3 - t2;
        return r;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: load_bench DIR [N>0] [RUNS>0]\n");
                return 2;
        }
        const char *dir = argv[1];
        size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
        size_t runs = argc > 3 ? strtoul(argv[3], NULL, 10) : 31;
        if (n == 0 || runs == 0) {
                fprintf(stderr, "usage: load_bench DIR [N>0] [RUNS>0]\n");
                return 2;
        }
        for (size_t i = 0; i < n; i++)
                if (put(dir, i, 0) < 0) {
                        fprintf(stderr, "load_bench: cannot write in %s\n", dir);
                        return 1;
                }
        struct config_cache *cache = config_cache_new();
        double *lf = calloc(runs, sizeof *lf), *lc = calloc(runs, sizeof *lc), *pf = calloc(runs, sizeof *pf),
               *pc = calloc(runs, sizeof *pc);
        struct spec_set before = { 0 };
        struct diag d = { 0 };
        if (!cache || !lf || !lc || !pf || !pc || config_load_dir_cached(dir, &before, &d, cache) < 0) {
                fprintf(stderr, "load_bench: the first load failed\n");
                return 1;
        }
        diag_done(&d);
        size_t parsed = 0, reused = 0;
        bool only_cache = getenv("LOAD_BENCH_CACHE_ONLY");
        for (size_t r = 0; r < runs; r++) {
                /* One file edited, as an operator would before `berthctl reload`. */
                if (put(dir, (r * 7919) % n, (unsigned) r + 1) < 0)
                        return 1;
                struct spec_set a = { 0 }, b = { 0 };
                /* Alternate which goes first. */
                int q;
                if (only_cache)
                        q = load_and_plan(dir, cache, &before, &b, &lc[r], &pc[r]) < 0;
                else if (r % 2 == 0)
                        q = load_and_plan(dir, NULL, &before, &a, &lf[r], &pf[r]) < 0 ||
                            load_and_plan(dir, cache, &before, &b, &lc[r], &pc[r]) < 0;
                else
                        q = load_and_plan(dir, cache, &before, &b, &lc[r], &pc[r]) < 0 ||
                            load_and_plan(dir, NULL, &before, &a, &lf[r], &pf[r]) < 0;
                if (q) {
                        fprintf(stderr, "load_bench: a load failed or planned more than one change\n");
                        return 1;
                }
                config_cache_stats(cache, &parsed, &reused);
                spec_set_done(&before);
                before = b;
                spec_set_done(&a);
        }
        printf("%zu definition files, one edited per round; the cache's last load: %zu parsed, %zu reused\n", n,
               parsed, reused);
        if (!only_cache)
                report("load, no cache", lf, runs);
        report("load, cache", lc, runs);
        if (!only_cache)
                report("plan after no cache", pf, runs);
        report("plan after cache", pc, runs);
        spec_set_done(&before);
        config_cache_free(cache);
        free(lf);
        free(lc);
        free(pf);
        free(pc);
        return 0;
}
