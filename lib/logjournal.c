#include "logjournal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

const char *logjournal_socket_path(void)
{
        const char *p = getenv("BERTH_JOURNAL_SOCKET");
        return p && *p ? p : LOGJOURNAL_SOCKET;
}

int logjournal_connect(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Room for bursts: as sd-journal does, a large send buffer (root may
         * exceed wmem_max). */
        int sz = 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int logjournal_send(int fd, const struct logjournal_ident *ident, int priority, bool partial, const char *text,
                    size_t len)
{
        char head[512];
        /* "KEY=VALUE\n" lines; MESSAGE last, its text never holds a newline
         * (the caller cut the output at them). */
        int n = snprintf(head, sizeof head,
                         "PRIORITY=%d\nSYSLOG_IDENTIFIER=%s\nCONTAINER_NAME=%s\nCONTAINER_ID=%.12s\n"
                         "CONTAINER_ID_FULL=%s\n%sMESSAGE=",
                         priority, ident->name, ident->name, ident->id, ident->id,
                         partial ? "CONTAINER_PARTIAL_MESSAGE=true\n" : "");
        if (n < 0 || (size_t) n >= sizeof head)
                return -EINVAL;
        const char *nl = memchr(text, '\n', len);
        if (nl)
                len = (size_t) (nl - text);
        struct iovec iov[3] = { { head, (size_t) n }, { (void *) text, len }, { "\n", 1 } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
        for (;;) {
                ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k >= 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
}
