/* Times plan_compute() on N definitions (default 1,000) of which one
 * changed: chains of `after` dependencies, a share of `requires`, every
 * container on one of a few networks — the shape of a large host.
 *   plan_bench [N] [RUNS]   prints min / median / max milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "plan.h"
#include "spec.h"
#include "util.h"

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int build(struct spec_set *set, size_t n, size_t changed)
{
        *set = (struct spec_set){0};
        set->containers = calloc(n + 1, sizeof *set->containers);
        set->networks = calloc(4, sizeof *set->networks);
        if (!set->containers || !set->networks)
                return -ENOMEM;
        for (size_t k = 0; k < 4; k++) {
                char name[16];
                snprintf(name, sizeof name, "lan%zu", k);
                struct spec_network *net;
                if (spec_network_new(name, "bench.conf", 1, &net) < 0)
                        return -ENOMEM;
                net->subnet.s_addr = htonl(0xC6120000u | (uint32_t) (k << 8)); /* 198.18.k.0 */
                net->prefix = 24;
                set->networks[set->n_networks++] = net;
        }
        for (size_t i = 0; i < n; i++) {
                char name[32], prev[32];
                snprintf(name, sizeof name, "c%05zu", i);
                struct spec_container *c;
                if (spec_container_new(name, "bench.conf", (int) i + 1, &c) < 0)
                        return -ENOMEM;
                set->containers[set->n_containers++] = c;
                c->template_name = strdup("busybox");
                c->autostart = true;
                c->start_order = (int32_t) (i % 13);
                c->net_mode = NET_BRIDGE;
                c->network = strdup(set->networks[i % 4]->name);
                c->address_auto = true;
                c->limits.memory = 256ULL << 20;
                if (!c->template_name || !c->network || strv_push(&c->command, "/bin/serve") < 0 ||
                    strv_push(&c->command, i == changed ? "--v2" : "--v1") < 0 ||
                    strv_push(&c->env, "MODE=prod") < 0)
                        return -ENOMEM;
                if (i % 10 != 0) {
                        snprintf(prev, sizeof prev, "c%05zu", i - 1);
                        if (strv_push(&c->after, prev) < 0 ||
                            (i % 3 == 0 && strv_push(&c->requires, prev) < 0))
                                return -ENOMEM;
                }
        }
        return 0;
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
        size_t runs = argc > 2 ? strtoul(argv[2], NULL, 10) : 51;
        if (n == 0 || runs == 0) {
                fprintf(stderr, "usage: plan_bench [N>0] [RUNS>0]\n");
                return 2;
        }
        struct spec_set old, new;
        if (build(&old, n, SIZE_MAX) < 0 || build(&new, n, n / 2) < 0) {
                fprintf(stderr, "plan_bench: out of memory\n");
                return 1;
        }
        struct plan_actual *act = calloc(n, sizeof *act);
        struct plan_network_actual nets[4];
        double *ms = calloc(runs, sizeof *ms);
        if (!act || !ms)
                return 1;
        for (size_t i = 0; i < n; i++)
                plan_actual_from_spec(old.containers[i], PLAN_STATE_RUNNING, &act[i]);
        for (size_t k = 0; k < old.n_networks; k++)
                plan_network_actual_from_spec(old.networks[k], &nets[k]);

        size_t changes = 0;
        for (size_t r = 0; r < runs; r++) {
                struct plan p;
                double t0 = now_ms();
                if (plan_compute(&new, act, n, nets, old.n_networks, &p) < 0) {
                        fprintf(stderr, "plan_bench: plan_compute failed\n");
                        return 1;
                }
                ms[r] = now_ms() - t0;
                changes = plan_count_changes(&p);
                plan_done(&p);
        }
        qsort(ms, runs, sizeof *ms, cmp_double);
        printf("plan_compute: %zu definitions, 1 changed -> %zu actions that change something\n", n,
               changes);
        printf("plan_compute: min %.3f ms, median %.3f ms, max %.3f ms over %zu runs\n", ms[0],
               ms[runs / 2], ms[runs - 1], runs);
        free(ms);
        free(act);
        spec_set_done(&old);
        spec_set_done(&new);
        return 0;
}
