#include "state.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void copy_field(char *dst, size_t size, const char *v)
{
        snprintf(dst, size, "%s", v);
}

int state_read(const char *dir, struct state_record *r)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        int q = read_file_at(dfd, "state", 4096, &text, NULL);
        if (q < 0)
                return q;
        *r = (struct state_record){ 0 };
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                const char *k = line, *v = eq + 1;
                unsigned long long u = strtoull(v, NULL, 10);
                if (streq(k, "monitor_pid"))
                        r->monitor_pid = (pid_t) u;
                else if (streq(k, "monitor_start"))
                        r->monitor_start = u;
                else if (streq(k, "init_pid"))
                        r->init_pid = (pid_t) u;
                else if (streq(k, "init_start"))
                        r->init_start = u;
                else if (streq(k, "boot_id"))
                        copy_field(r->boot_id, sizeof r->boot_id, v);
                else if (streq(k, "started_realtime_usec"))
                        r->started_realtime_usec = u;
                else if (streq(k, "restarts"))
                        r->restarts = (uint32_t) u;
                else if (streq(k, "restart_hash"))
                        copy_field(r->restart_hash, sizeof r->restart_hash, v);
                else if (streq(k, "live_hash"))
                        copy_field(r->live_hash, sizeof r->live_hash, v);
                else if (streq(k, "supervise_hash"))
                        copy_field(r->supervise_hash, sizeof r->supervise_hash, v);
                else if (streq(k, "address"))
                        copy_field(r->address, sizeof r->address, v);
        }
        return r->monitor_pid > 0 ? 0 : -EBADMSG;
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
