/* Parsers and formatters for the value syntaxes of the definition
 * language: sizes, durations, CPU counts, signals, addresses, port
 * mappings. Pure functions: no I/O, no logging. Each returns 0 or -EINVAL
 * (-ERANGE when well-formed but too large). */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

int parse_size(const char *s, uint64_t *ret);         /* 512, 512k, 256M, 1G, 2T (powers of 1024) */
int parse_duration(const char *s, usec_t *ret);       /* 500ms, 10s, 5m, 1h, 1d; bare number = s */
/* A point in time, as microseconds since the epoch (CLOCK_REALTIME): a
 * duration before now_usec ("10m", "2h", "1d"), or an absolute time:
 * RFC 3339 ("2026-12-03T02:53:05Z", "...05.5+01:00"; without a zone,
 * local time) or "YYYY-MM-DD HH:MM[:SS]" (local) or "YYYY-MM-DD" (local
 * midnight). -EINVAL when it is neither. */
int parse_time_point(const char *s, uint64_t now_usec, uint64_t *ret);
int parse_cpus(const char *s, uint32_t *ret_milli);   /* 1, 1.5, 0.25 (three decimals at most) */
int parse_uint32(const char *s, uint32_t min, uint32_t max, uint32_t *ret);
int parse_int32(const char *s, int32_t *ret);
int parse_bool(const char *s, bool *ret);
int parse_signal(const char *s, int *ret);            /* SIGTERM, TERM, 15 */
int parse_ipv4(const char *s, struct in_addr *ret);
int parse_cidr(const char *s, struct in_addr *ret_addr, uint8_t *ret_prefix);
int parse_publish(const char *s, struct publish *ret); /* [ADDR:|[V6]:]HOST:CONTAINER[/tcp|/udp] */
/* The host address of p as text: "" (every address), A.B.C.D or V6. */
const char *publish_host_text(const struct publish *p, char *buf, size_t size);
int parse_cpuset(const char *s);                      /* "0-3,5": syntax only */
int parse_capability(const char *s, int *ret);        /* "net_admin", "CAP_NET_ADMIN" */

/* Checks of a value's form (true = well-formed). */
bool path_is_clean_absolute(const char *p);     /* absolute, no . or .. component */
bool path_is_canonical_absolute(const char *p); /* "/" or "/a/b": no empty, . or .. component, no trailing / */
bool env_is_valid(const char *e);               /* NAME=VALUE */
bool hostname_is_valid(const char *h);          /* labels of [A-Za-z0-9-] */
bool user_is_valid(const char *u);              /* uid[:gid] or name[:group] */

/* Formatting for messages and CLI output. */
const char *format_size(uint64_t bytes, char *buf, size_t size);   /* 256M */
const char *format_duration(usec_t u, char *buf, size_t size);     /* 1m30s, 500ms */
const char *signal_to_string(int sig);                              /* "SIGTERM" */
const char *capability_to_string(int cap, char *buf, size_t size);  /* "net_admin" */
int capability_last(void); /* highest capability number libcap knows */

static inline uint32_t in_addr_host(struct in_addr a)
{
        return ntohl(a.s_addr);
}
