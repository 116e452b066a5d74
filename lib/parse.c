#include "parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <time.h>

#include "util.h"

/* Leading decimal digits of s into *v; returns the rest or NULL on overflow
 * or no digits. */
static const char *scan_u64(const char *s, uint64_t *v)
{
        uint64_t n = 0;
        const char *p = s;
        if (!isdigit((unsigned char) *p))
                return NULL;
        for (; isdigit((unsigned char) *p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (n > (UINT64_MAX - d) / 10)
                        return NULL;
                n = n * 10 + d;
        }
        *v = n;
        return p;
}

int parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "", 1 },        { "b", 1 },         { "k", 1ULL << 10 }, { "K", 1ULL << 10 },
                { "M", 1ULL << 20 }, { "m", 1ULL << 20 }, { "G", 1ULL << 30 }, { "g", 1ULL << 30 },
                { "T", 1ULL << 40 }, { "t", 1ULL << 40 },
        };
        uint64_t n;
        const char *rest = scan_u64(s, &n);
        if (!rest)
                return *s && isdigit((unsigned char) *s) ? -ERANGE : -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(rest, units[i].suffix)) {
                        if (n > UINT64_MAX / units[i].factor)
                                return -ERANGE;
                        *ret = n * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration(const char *s, usec_t *ret)
{
        static const struct {
                const char *suffix;
                usec_t factor;
        } units[] = {
                { "", SPEC_USEC_PER_SEC },      { "us", 1 },
                { "ms", SPEC_USEC_PER_MSEC },   { "s", SPEC_USEC_PER_SEC },
                { "m", 60 * SPEC_USEC_PER_SEC }, { "min", 60 * SPEC_USEC_PER_SEC },
                { "h", 3600 * SPEC_USEC_PER_SEC }, { "d", 86400 * SPEC_USEC_PER_SEC },
        };
        uint64_t n;
        const char *rest = scan_u64(s, &n);
        if (!rest)
                return *s && isdigit((unsigned char) *s) ? -ERANGE : -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(rest, units[i].suffix)) {
                        /* Bound at ten years: anything longer is a typo. */
                        if (n > (3650ULL * 86400 * SPEC_USEC_PER_SEC) / units[i].factor)
                                return -ERANGE;
                        *ret = n * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

int parse_time_point(const char *s, uint64_t now_usec, uint64_t *ret)
{
        usec_t d;
        if (parse_duration(s, &d) == 0) {
                *ret = d >= now_usec ? 0 : now_usec - d;
                return 0;
        }
        struct tm tm = { 0 };
        const char *p = strptime(s, "%Y-%m-%d", &tm);
        if (!p || !isdigit((unsigned char) s[0]) || p - s != 10)
                return -EINVAL;
        uint64_t frac = 0;
        bool utc = false;
        long offset = 0; /* seconds east of UTC */
        tm.tm_isdst = -1;
        if (*p == 'T' || *p == 't' || *p == ' ') {
                const char *q = strptime(p + 1, "%H:%M", &tm);
                if (!q || q - (p + 1) != 5)
                        return -EINVAL;
                p = q;
                if (*p == ':') {
                        q = strptime(p + 1, "%S", &tm);
                        if (!q || q - (p + 1) != 2)
                                return -EINVAL;
                        p = q;
                        if (*p == '.' || *p == ',') {
                                p++;
                                int digits = 0;
                                for (; isdigit((unsigned char) *p); p++, digits++)
                                        if (digits < 6)
                                                frac = frac * 10 + (uint64_t) (*p - '0');
                                if (digits == 0)
                                        return -EINVAL;
                                for (; digits < 6; digits++)
                                        frac *= 10;
                        }
                }
                if (*p == 'Z' || *p == 'z') {
                        utc = true;
                        p++;
                } else if (*p == '+' || *p == '-') {
                        int sign = *p == '-' ? -1 : 1;
                        if (!isdigit((unsigned char) p[1]) || !isdigit((unsigned char) p[2]) || p[3] != ':' ||
                            !isdigit((unsigned char) p[4]) || !isdigit((unsigned char) p[5]))
                                return -EINVAL;
                        int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
                        if (hh > 23 || mm > 59)
                                return -EINVAL;
                        offset = sign * (hh * 3600L + mm * 60L);
                        utc = true;
                        p += 6;
                }
        }
        if (*p)
                return -EINVAL;
        time_t t;
        if (utc) {
                tm.tm_isdst = 0;
                t = timegm(&tm);
                if (t != (time_t) -1)
                        t -= offset;
        } else
                t = mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000ULL + frac;
        return 0;
}

int parse_cpus(const char *s, uint32_t *ret_milli)
{
        uint64_t whole, frac = 0;
        const char *p = scan_u64(s, &whole);
        if (!p)
                return isdigit((unsigned char) *s) ? -ERANGE : -EINVAL; /* digits but no number: overflow */
        if (*p == '.') {
                const char *f = p + 1;
                int digits = 0;
                while (isdigit((unsigned char) *f)) {
                        if (++digits > 3)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*f - '0');
                        f++;
                }
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 3; digits++)
                        frac *= 10;
                p = f;
        }
        if (*p)
                return -EINVAL;
        if (whole > 4096)
                return -ERANGE;
        uint64_t m = whole * 1000 + frac;
        if (m == 0 || m > 4096000) /* 4096.001 passed the check on the whole part */
                return -ERANGE;
        *ret_milli = (uint32_t) m;
        return 0;
}

int parse_uint32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
        uint64_t n;
        const char *rest = scan_u64(s, &n);
        if (!rest)
                return *s && isdigit((unsigned char) *s) ? -ERANGE : -EINVAL;
        if (*rest)
                return -EINVAL;
        if (n < min || n > max)
                return -ERANGE;
        *ret = (uint32_t) n;
        return 0;
}

int parse_int32(const char *s, int32_t *ret)
{
        bool neg = *s == '-';
        uint64_t n;
        const char *rest = scan_u64(s + neg, &n);
        if (!rest || *rest)
                return -EINVAL;
        if (n > (uint64_t) INT32_MAX + neg)
                return -ERANGE;
        *ret = neg ? (int32_t) -(int64_t) n : (int32_t) n;
        return 0;
}

int parse_bool(const char *s, bool *ret)
{
        if (streq(s, "true") || streq(s, "yes") || streq(s, "on")) {
                *ret = true;
                return 0;
        }
        if (streq(s, "false") || streq(s, "no") || streq(s, "off")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "PWR", SIGPWR },
        { "WINCH", SIGWINCH }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "ALRM", SIGALRM },
};

int parse_signal(const char *s, int *ret)
{
        if (isdigit((unsigned char) *s)) {
                uint32_t n;
                if (parse_uint32(s, 1, 64, &n) < 0)
                        return -EINVAL;
                *ret = (int) n;
                return 0;
        }
        const char *n = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (streq(n, signals[i].name)) {
                        *ret = signals[i].sig;
                        return 0;
                }
        return -EINVAL;
}

const char *signal_to_string(int sig)
{
        static const char *const full[] = {
                [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
                [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGUSR2] = "SIGUSR2",
                [SIGTERM] = "SIGTERM", [SIGPWR] = "SIGPWR",   [SIGWINCH] = "SIGWINCH",
                [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGALRM] = "SIGALRM",
        };
        if (sig > 0 && (size_t) sig < ELEMENTSOF(full) && full[sig])
                return full[sig];
        return "signal";
}

int parse_ipv4(const char *s, struct in_addr *ret)
{
        /* inet_pton accepts only dotted quads with no leading junk. */
        if (inet_pton(AF_INET, s, ret) != 1)
                return -EINVAL;
        return 0;
}

int parse_cidr(const char *s, struct in_addr *ret_addr, uint8_t *ret_prefix)
{
        char buf[32];
        const char *slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, (size_t) (slash - s));
        buf[slash - s] = 0;
        uint32_t prefix;
        if (parse_ipv4(buf, ret_addr) < 0 || parse_uint32(slash + 1, 0, 32, &prefix) < 0)
                return -EINVAL;
        *ret_prefix = (uint8_t) prefix;
        return 0;
}

static int parse_port(const char *s, uint16_t *ret)
{
        uint32_t n;
        int r = parse_uint32(s, 1, 65535, &n);
        if (r < 0)
                return r;
        *ret = (uint16_t) n;
        return 0;
}

int parse_publish(const char *s, struct publish *ret)
{
        char buf[64];
        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        struct publish p = { .proto = PROTO_TCP };
        p.host_addr.s_addr = htonl(INADDR_ANY);
        char *proto = strchr(buf, '/');
        if (proto) {
                *proto++ = 0;
                if (streq(proto, "tcp"))
                        p.proto = PROTO_TCP;
                else if (streq(proto, "udp"))
                        p.proto = PROTO_UDP;
                else
                        return -EINVAL;
        }
        char *parts[3];
        int n = 0;
        char *cur = buf;
        if (buf[0] == '[') {
                /* [V6]:HOST:CONTAINER, as Docker writes it */
                char *close = strchr(buf, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                *close = 0;
                if (inet_pton(AF_INET6, buf + 1, &p.host_addr6) != 1)
                        return -EINVAL;
                p.host6 = 1;
                parts[n++] = buf + 1;
                cur = close + 2;
        }
        for (;;) {
                if (n == 3)
                        return -EINVAL;
                parts[n++] = cur;
                char *c = strchr(cur, ':');
                if (!c)
                        break;
                *c = 0;
                cur = c + 1;
        }
        if (n == 1 || (p.host6 && n != 3))
                return -EINVAL;
        if (n == 3 && !p.host6 && parse_ipv4(parts[0], &p.host_addr) < 0)
                return -EINVAL;
        if (parse_port(parts[n - 2], &p.host_port) < 0 || parse_port(parts[n - 1], &p.container_port) < 0)
                return -EINVAL;
        *ret = p;
        return 0;
}

const char *publish_host_text(const struct publish *p, char *buf, size_t size)
{
        if (size == 0)
                return buf;
        buf[0] = 0;
        if (p->host6)
                (void) inet_ntop(AF_INET6, &p->host_addr6, buf, size);
        else if (p->host_addr.s_addr != INADDR_ANY)
                (void) inet_ntop(AF_INET, &p->host_addr, buf, size);
        return buf;
}

int parse_cpuset(const char *s)
{
        const char *p = s;
        if (!*p)
                return -EINVAL;
        for (;;) {
                uint64_t a, b;
                p = scan_u64(p, &a);
                if (!p || a > 4095)
                        return -EINVAL;
                if (*p == '-') {
                        p = scan_u64(p + 1, &b);
                        if (!p || b > 4095 || b < a)
                                return -EINVAL;
                }
                if (*p == 0)
                        return 0;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
}

int capability_last(void)
{
        /* libcap knows the names up to CAP_LAST_CAP of its build. */
        return CAP_LAST_CAP;
}

int parse_capability(const char *s, int *ret)
{
        char buf[64];
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof buf - 4)
                return -EINVAL;
        const char *name = strncasecmp(s, "cap_", 4) == 0 ? s + 4 : s;
        snprintf(buf, sizeof buf, "cap_%s", name);
        for (char *p = buf; *p; p++) {
                *p = (char) tolower((unsigned char) *p);
                /* cap_from_name() stops at the first byte not in a name: "chown junk" */
                if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p) && *p != '_')
                        return -EINVAL;
        }
        cap_value_t v;
        if (cap_from_name(buf, &v) < 0 || v > CAP_LAST_CAP)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

const char *capability_to_string(int cap, char *buf, size_t size)
{
        char *n = cap_to_name((cap_value_t) cap);
        if (!n) {
                snprintf(buf, size, "%d", cap);
                return buf;
        }
        snprintf(buf, size, "%s", strncmp(n, "cap_", 4) == 0 ? n + 4 : n);
        cap_free(n);
        return buf;
}

const char *format_size(uint64_t b, char *buf, size_t size)
{
        static const char units[] = "kMGT";
        int u = -1;
        while (b >= 1024 && b % 1024 == 0 && u < 3) {
                b /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, size, "%llu", (unsigned long long) b);
        else
                snprintf(buf, size, "%llu%c", (unsigned long long) b, units[u]);
        return buf;
}

const char *format_duration(usec_t u, char *buf, size_t size)
{
        if (u == 0)
                snprintf(buf, size, "0");
        else if (u % SPEC_USEC_PER_MSEC != 0) /* "1us", not "0ms" */
                snprintf(buf, size, "%lluus", (unsigned long long) u);
        else if (u % SPEC_USEC_PER_SEC != 0)
                snprintf(buf, size, "%llums", (unsigned long long) (u / SPEC_USEC_PER_MSEC));
        else {
                unsigned long long s = u / SPEC_USEC_PER_SEC;
                if (s >= 3600 && s % 3600 == 0)
                        snprintf(buf, size, "%lluh", s / 3600);
                else if (s >= 60 && s % 60 == 0)
                        snprintf(buf, size, "%llum", s / 60);
                else if (s >= 60)
                        snprintf(buf, size, "%llum%llus", s / 60, s % 60);
                else
                        snprintf(buf, size, "%llus", s);
        }
        return buf;
}

/* ---- checks of a value's form ---- */

bool path_is_clean_absolute(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                const char *e = strchrnul(s, '/');
                if ((e - s == 2 && s[0] == '.' && s[1] == '.') || (e - s == 1 && s[0] == '.'))
                        return false;
                s = e;
        }
        return true;
}

/* "/", or "/a/b": no empty, . or .. component and no trailing slash, so
 * the text names the file the operator reads in it (a mount source that
 * climbs into /etc with .. does not look like /etc). */
bool path_is_canonical_absolute(const char *p)
{
        if (p[0] != '/')
                return false;
        if (p[1] == 0)
                return true;
        for (const char *s = p + 1;; s++) {
                const char *e = strchrnul(s, '/');
                size_t len = (size_t) (e - s);
                bool dot = len == 1 && s[0] == '.', dotdot = len == 2 && s[0] == '.' && s[1] == '.';
                if (len == 0 || dot || dotdot)
                        return false;
                if (!*e)
                        return true;
                s = e;
        }
}


bool env_is_valid(const char *e)
{
        if (!(isalpha((unsigned char) e[0]) || e[0] == '_'))
                return false;
        for (const char *p = e + 1; *p; p++) {
                if (*p == '=')
                        return true;
                if (!(isalnum((unsigned char) *p) || *p == '_'))
                        return false;
        }
        return false;
}

bool hostname_is_valid(const char *h)
{
        size_t n = strlen(h), label = 0;
        if (n == 0 || n > 64)
                return false;
        for (const char *p = h; *p; p++) {
                if (*p == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!(isalnum((unsigned char) *p) || *p == '-'))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0;
}

bool user_is_valid(const char *u)
{
        /* uid[:gid], or name[:group] to be resolved inside the rootfs */
        const char *colon = strchr(u, ':');
        for (int part = 0; part < 2; part++) {
                const char *s = part == 0 ? u : (colon ? colon + 1 : NULL);
                if (!s)
                        break;
                size_t n = part == 0 && colon ? (size_t) (colon - u) : strlen(s);
                if (n == 0 || n > 32)
                        return false;
                bool digits = true;
                for (size_t i = 0; i < n; i++)
                        if (!isdigit((unsigned char) s[i]))
                                digits = false;
                if (digits) {
                        char buf[40];
                        uint32_t id;
                        snprintf(buf, sizeof buf, "%.*s", (int) n, s);
                        if (parse_uint32(buf, 0, 4294967294U, &id) < 0)
                                return false;
                        continue;
                }
                if (!(islower((unsigned char) s[0]) || s[0] == '_'))
                        return false;
                for (size_t i = 1; i < n; i++)
                        if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '_' ||
                              s[i] == '-' || s[i] == '.'))
                                return false;
        }
        return !colon || !strchr(colon + 1, ':');
}
