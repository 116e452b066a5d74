#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

#define JOURNAL_OLD JOURNAL_FILE ".1"

static int open_current(struct journal *j)
{
        j->fd = openat(j->dirfd, JOURNAL_FILE, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (j->fd < 0)
                return -errno;
        struct stat st;
        j->size = fstat(j->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
        /* A line a crash cut off ends here, so the next one is whole. */
        char last = '\n';
        if (j->size > 0 && pread(j->fd, &last, 1, (off_t) j->size - 1) == 1 && last != '\n' &&
            write(j->fd, "\n", 1) == 1)
                j->size++;
        return 0;
}

int journal_open(struct journal *j, const char *state_dir)
{
        *j = (struct journal){ .dirfd = -1, .fd = -1 };
        j->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (j->dirfd < 0)
                return -errno;
        int r = open_current(j);
        if (r < 0)
                journal_close(j);
        return r;
}

void journal_close(struct journal *j)
{
        if (j->fd >= 0)
                close(j->fd);
        if (j->dirfd >= 0)
                close(j->dirfd);
        *j = (struct journal){ .dirfd = -1, .fd = -1 };
}

int journal_append(struct journal *j, const char *line, size_t len)
{
        if (j->dirfd < 0)
                return -EBADF;
        if (j->fd >= 0 && j->size > 0 && j->size + len + 1 > JOURNAL_MAX_SIZE) {
                close(j->fd);
                j->fd = -1;
                if (renameat(j->dirfd, JOURNAL_FILE, j->dirfd, JOURNAL_OLD) < 0)
                        return -errno;
        }
        if (j->fd < 0) {
                int r = open_current(j);
                if (r < 0)
                        return r;
        }
        struct iovec iov[2] = { { (void *) line, len }, { "\n", 1 } };
        ssize_t k = writev(j->fd, iov, 2);
        if (k < 0)
                return -errno;
        j->size += (uint64_t) k;
        if ((size_t) k != len + 1) {
                /* Cut short (a full disk): end the line so the next is whole. */
                if (write(j->fd, "\n", 1) == 1)
                        j->size++;
                return -ENOSPC;
        }
        return 0;
}

static int foreach_file(int dirfd, const char *name, int (*cb)(const char *line, void *userdata), void *userdata)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(dirfd, name, 2 * JOURNAL_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *p = text, *end = text + len; p < end;) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        break; /* a line being written, or cut by a crash */
                *nl = 0;
                if (nl > p && (r = cb(p, userdata)) != 0)
                        return r;
                p = nl + 1;
        }
        return 0;
}

int journal_foreach(struct journal *j, int (*cb)(const char *line, void *userdata), void *userdata)
{
        if (j->dirfd < 0)
                return -EBADF;
        int r = foreach_file(j->dirfd, JOURNAL_OLD, cb, userdata);
        return r != 0 ? r : foreach_file(j->dirfd, JOURNAL_FILE, cb, userdata);
}
