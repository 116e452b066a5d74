/* Benchmark driver: median time of net_container_setup (veth + move into the
 * netns + address + lo up + default route) over N fresh network namespaces
 * on a bridge made by net_bridge_ensure. Prints the median in microseconds.
 *   net_setup N */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

static int cmp(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 100;
        if (n < 1 || n > 10000)
                return 2;
        struct spec_network net = { .name = "btnbench", .bridge = "btnbenchbr", .prefix = 24 };
        inet_pton(AF_INET, "198.19.253.0", &net.subnet);
        inet_pton(AF_INET, "198.19.253.1", &net.gateway);
        int r = net_bridge_ensure(&net);
        if (r < 0) {
                fprintf(stderr, "bridge: %s\n", strerror(-r));
                return 1;
        }
        double *t = calloc((size_t) n, sizeof *t);
        int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        for (int i = 0; i < n && r == 0; i++) {
                if (unshare(CLONE_NEWNET) < 0)
                        return 1;
                int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (setns(self, CLONE_NEWNET) < 0)
                        return 1;
                struct in_addr a = { .s_addr = htonl(ntohl(net.subnet.s_addr) + 2 + (uint32_t) (i % 200)) };
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = net_container_setup("btnbench-c", ns, &net, a);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                t[i] = (double) (t1.tv_sec - t0.tv_sec) * 1e6 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e3;
                (void) net_container_teardown("btnbench-c");
                close(ns);
        }
        (void) net_bridge_remove(net.bridge);
        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return 1;
        }
        qsort(t, (size_t) n, sizeof *t, cmp);
        printf("%.0f\n", t[n / 2]);
        free(t);
        return 0;
}
