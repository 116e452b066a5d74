#include "wire.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void wire_init(struct wire_msg *m, enum wire_type t)
{
        memset(m, 0, sizeof *m);
        m->magic = WIRE_MAGIC;
        m->version = WIRE_VERSION;
        m->type = (uint16_t) t;
        m->size = (uint32_t) sizeof *m;
        m->pidfd = m->log_fd = m->err_fd = m->cgroup_fd = m->stdin_fd = -1;
}

int wire_write(int fd, const struct wire_msg *m)
{
        const char *p = (const char *) m;
        size_t left = sizeof *m;
        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                left -= (size_t) k;
        }
        return 0;
}

static int terminated(const char *s, size_t n)
{
        return memchr(s, 0, n) != NULL;
}

int wire_parse(const void *buf, size_t len, struct wire_msg *ret)
{
        struct wire_msg m;
        if (len != sizeof m)
                return -EBADMSG;
        memcpy(&m, buf, sizeof m);
        if (m.magic != WIRE_MAGIC || m.version != WIRE_VERSION || m.size != sizeof m)
                return -EBADMSG;
        if (!terminated(m.address, sizeof m.address) || !terminated(m.text, sizeof m.text))
                return -EBADMSG;
        switch (m.type) {
        case WIRE_STARTED:
                if (m.pid <= 1)
                        return -EBADMSG;
                break;
        case WIRE_FAILED:
                if (m.exit_code < 1 || m.exit_code > 255)
                        return -EBADMSG;
                break;
        case WIRE_MONITOR:
                if (m.pid <= 1 || m.text[0] != '/' || m.log_fd < 0 || m.err_fd < -1 || m.pidfd < -1 || m.cgroup_fd < -1 ||
                    m.stdin_fd < -1 || (m.flags & ~(uint32_t) WIRE_F_CONSOLE) ||
                    ((m.flags & WIRE_F_CONSOLE) && m.err_fd >= 0))
                        return -EBADMSG;
                break;
        default:
                return -EBADMSG;
        }
        *ret = m;
        return 0;
}

int wire_read(int fd, struct wire_msg *ret)
{
        struct wire_msg buf;
        char *p = (char *) &buf;
        size_t got = 0;
        while (got < sizeof buf) {
                ssize_t k = read(fd, p + got, sizeof buf - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EBADMSG;
                got += (size_t) k;
        }
        return wire_parse(&buf, got, ret);
}
