#include "settings.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

/* ---- sysctl ---------------------------------------------------------------- */

/* What runc allows: the sysctls the kernel keeps per namespace. */
static const char *const sysctl_ipc[] = { "kernel.sem",     "kernel.shmall", "kernel.shmmax",
                                          "kernel.shmmni",  "kernel.shm_rmid_forced", "kernel.msgmax",
                                          "kernel.msgmnb",  "kernel.msgmni" };

static bool sysctl_name_is_wellformed(const char *name)
{
        /* Dotted components of [A-Za-z0-9_-]; never '/', '.' or '..' alone. */
        size_t len = 0;
        if (!name[0] || strlen(name) > 200)
                return false;
        for (const char *p = name; *p; p++) {
                if (*p == '.') {
                        if (len == 0)
                                return false;
                        len = 0;
                        continue;
                }
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
                        return false;
                len++;
        }
        return len > 0;
}

const char *settings_sysctl_check_name(const char *name, net_mode_t mode)
{
        if (!sysctl_name_is_wellformed(name))
                return "'%s' is not a sysctl name (e.g. net.ipv4.ip_forward)";
        if (strncmp(name, "net.", 4) == 0)
                return mode == NET_HOST ? "'%s' needs a network namespace of the container's own "
                                          "(network mode host shares the host's)"
                                        : NULL;
        if (strncmp(name, "fs.mqueue.", 10) == 0 || streq(name, "kernel.domainname"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(sysctl_ipc); i++)
                if (streq(name, sysctl_ipc[i]))
                        return NULL;
        if (streq(name, "kernel.hostname"))
                return "'%s': set hostname = instead";
        return "'%s' is not namespaced: it would change the host (allowed: net.*, kernel.shm*, kernel.msg*, "
               "kernel.sem, fs.mqueue.*, kernel.domainname)";
}

const char *settings_sysctl_check_value(const char *value)
{
        if (!value[0])
                return "'%s': the value is empty";
        if (strlen(value) >= SETTINGS_SYSCTL_VALUE_MAX)
                return "'%.40s...': the value is too long";
        for (const char *p = value; *p; p++)
                if (*p == '\n' || (unsigned char) *p < 0x20)
                        return "'%s': the value has a control character";
        return NULL;
}

int settings_apply_sysctl(int procfd, char *const *sysctl, struct error *e)
{
        for (size_t i = 0; sysctl && sysctl[i]; i++) {
                const char *eq = strchr(sysctl[i], '=');
                if (!eq)
                        continue;
                char path[256];
                size_t n = (size_t) (eq - sysctl[i]);
                if (n + 5 >= sizeof path)
                        return error_set(e, -ENAMETOOLONG, "sysctl '%.*s'", (int) n, sysctl[i]);
                memcpy(path, "sys/", 4);
                for (size_t k = 0; k < n; k++)
                        path[4 + k] = sysctl[i][k] == '.' ? '/' : sysctl[i][k];
                path[4 + n] = 0;
                struct open_how how = { .flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
                int fd = (int) syscall(SYS_openat2, procfd, path, &how, sizeof how);
                if (fd < 0)
                        return error_set(e, -errno, "sysctl '%.*s'", (int) n, sysctl[i]);
                size_t len = strlen(eq + 1);
                ssize_t w = write(fd, eq + 1, len);
                int err = w < 0 ? -errno : (size_t) w != len ? -EIO : 0;
                close(fd);
                if (err < 0)
                        return error_set(e, err, "sysctl '%.*s' = '%s'", (int) n, sysctl[i], eq + 1);
        }
        return 0;
}

/* ---- rlimits -------------------------------------------------------------- */

static const struct {
        const char *name;
        int resource;
        bool bytes; /* a size: 512k, 8M also accepted */
} rlimits[] = {
        { "as", RLIMIT_AS, true },          { "core", RLIMIT_CORE, true },
        { "cpu", RLIMIT_CPU, false },       { "data", RLIMIT_DATA, true },
        { "fsize", RLIMIT_FSIZE, true },    { "locks", RLIMIT_LOCKS, false },
        { "memlock", RLIMIT_MEMLOCK, true }, { "msgqueue", RLIMIT_MSGQUEUE, true },
        { "nice", RLIMIT_NICE, false },     { "nofile", RLIMIT_NOFILE, false },
        { "nproc", RLIMIT_NPROC, false },   { "rss", RLIMIT_RSS, true },
        { "rtprio", RLIMIT_RTPRIO, false }, { "rttime", RLIMIT_RTTIME, false },
        { "sigpending", RLIMIT_SIGPENDING, false }, { "stack", RLIMIT_STACK, true },
};

int settings_rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(rlimits); i++)
                if (streq(rlimits[i].name, name))
                        return rlimits[i].resource;
        return -1;
}

const char *settings_rlimit_to_name(int resource)
{
        for (size_t i = 0; i < ELEMENTSOF(rlimits); i++)
                if (rlimits[i].resource == resource)
                        return rlimits[i].name;
        return "?";
}

static int rlimit_value(bool bytes, const char *s, size_t len, uint64_t *ret)
{
        char buf[32];
        if (len == 0 || len >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        if (streq(buf, "unlimited") || streq(buf, "infinity")) {
                *ret = SPEC_RLIM_INFINITY;
                return 0;
        }
        if (!isdigit((unsigned char) buf[0]))
                return -EINVAL; /* also "-1": say unlimited */
        if (bytes)
                return parse_size(buf, ret) < 0 ? -EINVAL : 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || *end || v == ULLONG_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int settings_rlimit_parse(int resource, const char *text, uint64_t *soft, uint64_t *hard, char *msg, size_t size)
{
        bool bytes = false;
        for (size_t i = 0; i < ELEMENTSOF(rlimits); i++)
                if (rlimits[i].resource == resource)
                        bytes = rlimits[i].bytes;
        const char *colon = strchr(text, ':');
        size_t first = colon ? (size_t) (colon - text) : strlen(text);
        if (rlimit_value(bytes, text, first, soft) < 0 ||
            (colon && rlimit_value(bytes, colon + 1, strlen(colon + 1), hard) < 0)) {
                snprintf(msg, size, "'%s' is not a limit (use %s, unlimited, or SOFT:HARD like 1024:4096)", text,
                         bytes ? "a size like 8M" : "a number");
                return -EINVAL;
        }
        if (!colon)
                *hard = *soft;
        if (*soft > *hard) {
                snprintf(msg, size, "'%s': the soft limit is above the hard limit", text);
                return -EINVAL;
        }
        if (resource == RLIMIT_NICE && *hard != SPEC_RLIM_INFINITY && *hard > 40) {
                snprintf(msg, size, "'%s' is out of range (0..40)", text);
                return -EINVAL;
        }
        if (resource == RLIMIT_RTPRIO && *hard != SPEC_RLIM_INFINITY && *hard > 99) {
                snprintf(msg, size, "'%s' is out of range (0..99)", text);
                return -EINVAL;
        }
        return 0;
}

int settings_apply_rlimits(pid_t pid, const struct spec_rlimit *l, size_t n, struct error *e)
{
        for (size_t i = 0; i < n; i++) {
                struct rlimit rl = {
                        .rlim_cur = l[i].soft == SPEC_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t) l[i].soft,
                        .rlim_max = l[i].hard == SPEC_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t) l[i].hard,
                };
                if (prlimit(pid, (enum __rlimit_resource) l[i].resource, &rl, NULL) < 0)
                        return error_set(e, -errno, "rlimits.%s", settings_rlimit_to_name(l[i].resource));
        }
        return 0;
}

int settings_copy_rlimits(pid_t from, pid_t to, struct error *e)
{
        for (size_t i = 0; i < ELEMENTSOF(rlimits); i++) {
                struct rlimit rl;
                enum __rlimit_resource res = (enum __rlimit_resource) rlimits[i].resource;
                if (prlimit(from, res, NULL, &rl) < 0)
                        return error_set(e, -errno, "cannot read the limit %s of its init", rlimits[i].name);
                if (prlimit(to, res, &rl, NULL) < 0)
                        return error_set(e, -errno, "cannot set the limit %s", rlimits[i].name);
        }
        return 0;
}

/* ---- env-file -------------------------------------------------------------- */

int settings_env_file_parse(const char *path, const char *what, const char *text, size_t len, char ***ret,
                            struct diag *d)
{
        _cleanup_strv_free_ char **env = calloc(1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        size_t n = 0;
        int line = 0;
        for (size_t at = 0; at < len;) {
                const char *s = text + at;
                const char *nl = memchr(s, '\n', len - at);
                size_t l = nl ? (size_t) (nl - s) : len - at;
                at += l + 1;
                line++;
                while (l > 0 && (s[0] == ' ' || s[0] == '\t')) {
                        s++;
                        l--;
                }
                if (l > 0 && s[l - 1] == '\r')
                        l--;
                if (l == 0 || s[0] == '#')
                        continue;
                _cleanup_free_ char *e = strndup(s, l);
                if (!e)
                        return -ENOMEM;
                if (strlen(e) != l) {
                        diag_add(d, path, line, "%s: a NUL byte in the line", what);
                        continue;
                }
                if (!env_is_valid(e)) {
                        diag_add(d, path, line, "%s: '%s' is not NAME=VALUE", what, e);
                        continue;
                }
                if (++n > SPEC_LIST_MAX) {
                        diag_add(d, path, line, "%s: more than %d entries", what, SPEC_LIST_MAX);
                        break;
                }
                if (strv_push(&env, e) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int load_env_file(struct spec_container *c, struct diag *d)
{
        _cleanup_close_ int fd = open(c->env_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                diag_add(d, c->file, c->line_env_file, "env-file: cannot read '%s': %s", c->env_file, strerror(errno));
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                diag_add(d, c->file, c->line_env_file, "env-file: '%s' is not a regular file", c->env_file);
                return 0;
        }
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_fd(fd, SETTINGS_ENV_FILE_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG) {
                diag_add(d, c->file, c->line_env_file, "env-file: '%s' is larger than %d bytes", c->env_file,
                         SETTINGS_ENV_FILE_MAX);
                return 0;
        }
        if (r < 0) {
                diag_add(d, c->file, c->line_env_file, "env-file: cannot read '%s': %s", c->env_file, strerror(-r));
                return 0;
        }
        char what[128];
        snprintf(what, sizeof what, "env-file of container '%s'", c->name);
        strv_free(c->env_file_env);
        c->env_file_env = NULL;
        r = settings_env_file_parse(c->env_file, what, text, len, &c->env_file_env, d);
        if (r < 0)
                return r;
        /* A changed content restarts the container at reload. */
        c->env_file_digest = fnv1a64(FNV1A64_INIT, text, len) | 1;
        return 0;
}

/* ---- io-max ---------------------------------------------------------------- */

int settings_block_device(const char *path, unsigned *ret_major, unsigned *ret_minor)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
        char p[96];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/partition", ma, mi);
        if (access(p, F_OK) == 0) {
                /* A partition: its disk is the directory above it. */
                snprintf(p, sizeof p, "/sys/dev/block/%u:%u/../dev", ma, mi);
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_file_at(AT_FDCWD, p, 64, &text, &len);
                if (r == -ELOOP) { /* read_file_at refuses links: the path crosses one */
                        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
                        r = fd < 0 ? -errno : read_file_fd(fd, 64, &text, &len);
                }
                if (r >= 0 && sscanf(text, "%u:%u", &ma, &mi) != 2)
                        r = -EINVAL;
                if (r < 0)
                        return r;
        }
        *ret_major = ma;
        *ret_minor = mi;
        return 0;
}

int settings_check_set(struct spec_set *set, struct diag *d)
{
        for (size_t i = 0; i < set->n_containers; i++) {
                struct spec_container *c = set->containers[i];
                if (c->env_file) {
                        int r = load_env_file(c, d);
                        if (r < 0)
                                return r;
                }
                if (c->limits.io_device) {
                        unsigned ma, mi;
                        int r = settings_block_device(c->limits.io_device, &ma, &mi);
                        if (r == -ENOTBLK)
                                diag_add(d, c->file, c->line_io_device, "io-max.device: '%s' is not a block device",
                                         c->limits.io_device);
                        else if (r < 0)
                                diag_add(d, c->file, c->line_io_device, "io-max.device: '%s': %s",
                                         c->limits.io_device, strerror(-r));
                }
        }
        return 0;
}
