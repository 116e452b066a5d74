/* Small helpers shared by every module: cleanup attributes, string and
 * array utilities, and the few file and socket primitives every module
 * needs (atomic writes, bounded reads, fd passing, mkdir -p, rm -rf).
 * Owns no state; never logs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Defines NAME(type *p), which calls func(*p) unless it is NULL: the
 * cleanup function for a library's own destructor, as systemd's
 * DEFINE_TRIVIAL_CLEANUP_FUNC. Use: _cleanup_(NAME) type x = NULL; */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func, name) \
        static inline void name(type *p)              \
        {                                             \
                if (*p)                               \
                        func(*p);                     \
        }

#define TAKE_PTR(p)                        \
        ({                                 \
                __typeof__(p) _tp_ = (p);  \
                (p) = NULL;                \
                _tp_;                      \
        })
#define TAKE_FD(fd)                 \
        ({                          \
                int _tf_ = (fd);    \
                (fd) = -1;          \
                _tf_;               \
        })

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* 64-bit FNV-1a, chainable: fnv1a64(FNV1A64_INIT, ...) then fold more in.
 * For cache keys and change detection, never for security. */
#define FNV1A64_INIT 0xcbf29ce484222325ULL
static inline uint64_t fnv1a64(uint64_t h, const void *data, size_t len)
{
        for (const unsigned char *p = data; len > 0; p++, len--)
                h = (h ^ *p) * 0x100000001b3ULL;
        return h;
}

/* NULL-terminated string vectors ("strv"), owned with their strings. */
char **strv_free(char **v);
size_t strv_length(char *const *v);
int strv_push(char ***v, const char *s); /* copies s */
char **strv_copy(char *const *v);
bool strv_contains(char *const *v, const char *s);
bool strv_equal(char *const *a, char *const *b);
static inline void strv_freep(char ***v)
{
        strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

char *strdup_printf(const char *fmt, ...) _printf_(1, 2);

/* A growing string; an allocation failure is remembered in error and
 * makes every later append a no-op. p is the caller's to free. */
struct strbuf {
        char *p;
        size_t len, cap;
        int error;
};
void strbuf_printf(struct strbuf *b, const char *fmt, ...) _printf_(2, 3);

/* Makes a container's output safe for a terminal: C0 controls but newline
 * and tab, DEL, C1 controls (U+0080..U+009F) and bytes that are not valid
 * UTF-8 become \xNN text; valid UTF-8 is kept. out must hold 4 * n bytes;
 * *out_len gets what was written. Returns the input bytes consumed: all,
 * except (unless final) an incomplete UTF-8 sequence at the end, which
 * the caller passes again with what follows. */
size_t escape_terminal(const char *in, size_t n, bool final, char *out, size_t *out_len);

/* Names of containers and networks are path components, hostnames and
 * interface-name suffixes at once: [a-z0-9][a-z0-9_.-]{0,62}. */
bool name_is_valid(const char *s);

/* p is the calling process's / under any name: "/", "/usr/..", a symlink
 * to it, a bind mount of it (same st_dev and st_ino). False when p cannot
 * be looked up. */
bool path_is_host_root(const char *p);

/* Atomic file replacement in a directory: write to a temp file, fsync,
 * rename over the target, fsync the directory. 0 or -errno. */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* The same without fsync: for files regenerated at every start, which a
 * crash may lose but never leaves half-written. */
int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* Reads a whole small file (at most max bytes) into a NUL-terminated
 * buffer. -EFBIG when larger. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
/* The same for an open file (which stays open). */
int read_file_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* The directory of the running program (from /proc/self/exe), into buf.
 * -ENOENT when it names none (a sealed memfd copy), -ENAMETOOLONG, -errno. */
int exe_dir(char *buf, size_t n);

#define UTIL_MAX_FDS 16
/* One message with up to UTIL_MAX_FDS descriptors (SCM_RIGHTS). The
 * receiver gets them close-on-exec; 1 with *ret_n set, 0 at EOF, -EBADMSG
 * for a short message or more descriptors than max (none kept). */
int send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n);
int recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *ret_n);
/* The same with at most one fd. send: fd < 0 = none; no allocation (safe
 * in a child between clone and exec). recv: *ret_fd = the fd or -1. */
int send_with_fd(int sock, const void *buf, size_t len, int fd);
int recv_with_fd(int sock, void *buf, size_t len, int *ret_fd);

/* mkdir -p with the given mode for missing components. */
int mkdir_p(const char *path, mode_t mode);
/* Makes dir (0700) if missing and takes dir/.lock exclusively, waiting:
 * the lock's fd (close to release), or -errno. */
int lock_dir(const char *dir);
/* rm -rf that never crosses into another file system and never follows
 * symlinks. */
int rm_rf(const char *path);
int rm_rf_below(int dfd, const char *name); /* rm_rf() of name below the directory dfd */
