/* berth-monitor: holds one container after berthd let go of it (see
 * lib/monitor.h). Started by berthd's spawner through exec, so that the
 * container's init is its child; statically linked and tiny. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "monitor.h"
#include "util.h"

static long num(const char *s)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (!*s || *end) {
                fprintf(stderr, "berth-monitor: '%s' is not a number\n", s);
                exit(2);
        }
        return v;
}

int main(int argc, char **argv)
{
        /* berth-monitor DIR PID PIDFD LOGFD MAXSIZE MAXFILES [CGROUPFD] */
        if (argc != 7 && argc != 8) {
                fprintf(stderr,
                        "usage: berth-monitor DIR PID PIDFD LOGFD MAXSIZE MAXFILES [CGROUPFD] (started by berthd)\n");
                return 2;
        }
        (void) prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0);
        struct monitor_params p = {
                .dir = argv[1],
                .pid = (pid_t) num(argv[2]),
                .pidfd = (int) num(argv[3]),
                .log_fd = (int) num(argv[4]),
                .log_max_size = (uint64_t) num(argv[5]),
                .log_max_files = (uint32_t) num(argv[6]),
                .cgroup_fd = argc > 7 ? (int) num(argv[7]) : -1,
        };
        int r = monitor_run(&p);
        if (r < 0) {
                fprintf(stderr, "berth-monitor: %s: %s\n", p.dir, strerror(-r));
                return 1;
        }
        return 0;
}
