/* Daemon and tool logging: leveled messages to stderr, with syslog
 * priority prefixes when stderr is the journal. Never exits. */
#pragma once

#include <errno.h>
#include <syslog.h>

#include "util.h"

void log_set_level(int level); /* LOG_ERR .. LOG_DEBUG */
int log_get_level(void);
int log_level_from_string(const char *s); /* -EINVAL when unknown */
void log_set_ident(const char *ident);
/* false: always "IDENT: message", also when stderr is the journal. */
void log_set_journal(bool journal);

/* Logs at priority; %m expands to strerror(-error) when error != 0.
 * Returns -abs(error) so callers can `return log_error_errno(r, ...)`. */
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
