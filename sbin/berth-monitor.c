/* berth-monitor: holds one container after berthd let go of it (see
 * lib/monitor.h). Started by berthd's spawner through exec, so that the
 * container's init is its child; statically linked and tiny. Its
 * parameters come as one WIRE_MONITOR message (lib/wire.h) on WIREFD; DIR
 * and PID in its argv name it for ps and for a restarted berthd, which
 * finds its containers' monitors by them (state_find_monitor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "monitor.h"
#include "util.h"
#include "wire.h"

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
        /* berth-monitor DIR PID WIREFD */
        if (argc != 4) {
                fprintf(stderr, "usage: berth-monitor DIR PID WIREFD (started by berthd)\n");
                return 2;
        }
        (void) prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0);
        int wfd = (int) num(argv[3]);
        struct wire_msg m;
        int r = wire_read(wfd, &m);
        (void) close(wfd);
        if (r < 0 || m.type != WIRE_MONITOR || !streq(m.text, argv[1]) || m.pid != (int32_t) num(argv[2])) {
                fprintf(stderr, "berth-monitor: %s: no valid parameters on fd %d\n", argv[1], wfd);
                return 2;
        }
        struct monitor_params p = {
                .dir = m.text,
                .pid = (pid_t) m.pid,
                .pidfd = m.pidfd,
                .log_fd = m.log_fd,
                .err_fd = m.err_fd,
                .log_max_size = m.log_max_size,
                .log_max_files = m.log_max_files,
                .cgroup_fd = m.cgroup_fd,
                .console = (m.flags & WIRE_F_CONSOLE) != 0,
                .stdin_fd = m.stdin_fd,
        };
        r = monitor_run(&p);
        if (r < 0) {
                fprintf(stderr, "berth-monitor: %s: %s\n", p.dir, strerror(-r));
                return 1;
        }
        return 0;
}
