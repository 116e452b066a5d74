/* libsystemd's sd-bus (transient scopes) and sd-journal (berthctl logs of
 * journald containers), loaded where first used; berthd links libsystemd
 * anyway, for sd-event, and gets its copy (dynlib.h). */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include <errno.h>
#include "dynlib.h"

#define DL_SYSTEMD_SYMS(X)                \
        X(sd_booted)                      \
        X(sd_bus_call)                    \
        X(sd_bus_error_free)              \
        X(sd_bus_error_has_name)          \
        X(sd_bus_flush_close_unref)       \
        X(sd_bus_get_property_string)     \
        X(sd_bus_match_signal)            \
        X(sd_bus_message_append)          \
        X(sd_bus_message_close_container) \
        X(sd_bus_message_new_method_call) \
        X(sd_bus_message_open_container)  \
        X(sd_bus_message_read)            \
        X(sd_bus_message_unref)           \
        X(sd_bus_new)                     \
        X(sd_bus_open_system)             \
        X(sd_bus_process)                 \
        X(sd_bus_set_address)             \
        X(sd_bus_slot_unref)              \
        X(sd_bus_start)                   \
        X(sd_bus_unref)                   \
        X(sd_bus_wait)                    \
        X(sd_journal_add_match)           \
        X(sd_journal_close)               \
        X(sd_journal_get_cursor)          \
        X(sd_journal_get_data)            \
        X(sd_journal_get_fd)              \
        X(sd_journal_get_realtime_usec)   \
        X(sd_journal_next)                \
        X(sd_journal_open)                \
        X(sd_journal_previous)            \
        X(sd_journal_process)             \
        X(sd_journal_seek_cursor)         \
        X(sd_journal_seek_head)           \
        X(sd_journal_seek_realtime_usec)  \
        X(sd_journal_seek_tail)

DYNLIB_DECLARE(systemd, DL_SYSTEMD_SYMS)

#ifndef DYNLIB_IMPL
#define sd_booted(...) DYNLIB_CTOR(systemd, sd_booted, -ELIBACC, __VA_ARGS__)
#define sd_bus_call DYNLIB_CALL(systemd, sd_bus_call)
#define sd_bus_error_free(...) DYNLIB_FREE(systemd, sd_bus_error_free, (void) 0, __VA_ARGS__)
#define sd_bus_error_has_name DYNLIB_CALL(systemd, sd_bus_error_has_name)
#define sd_bus_flush_close_unref(...) DYNLIB_FREE(systemd, sd_bus_flush_close_unref, NULL, __VA_ARGS__)
#define sd_bus_get_property_string DYNLIB_CALL(systemd, sd_bus_get_property_string)
#define sd_bus_match_signal DYNLIB_CALL(systemd, sd_bus_match_signal)
#define sd_bus_message_append DYNLIB_CALL(systemd, sd_bus_message_append)
#define sd_bus_message_close_container DYNLIB_CALL(systemd, sd_bus_message_close_container)
#define sd_bus_message_new_method_call DYNLIB_CALL(systemd, sd_bus_message_new_method_call)
#define sd_bus_message_open_container DYNLIB_CALL(systemd, sd_bus_message_open_container)
#define sd_bus_message_read DYNLIB_CALL(systemd, sd_bus_message_read)
#define sd_bus_message_unref(...) DYNLIB_FREE(systemd, sd_bus_message_unref, NULL, __VA_ARGS__)
#define sd_bus_new(...) DYNLIB_CTOR(systemd, sd_bus_new, -ELIBACC, __VA_ARGS__)
#define sd_bus_open_system(...) DYNLIB_CTOR(systemd, sd_bus_open_system, -ELIBACC, __VA_ARGS__)
#define sd_bus_process DYNLIB_CALL(systemd, sd_bus_process)
#define sd_bus_set_address DYNLIB_CALL(systemd, sd_bus_set_address)
#define sd_bus_slot_unref(...) DYNLIB_FREE(systemd, sd_bus_slot_unref, NULL, __VA_ARGS__)
#define sd_bus_start DYNLIB_CALL(systemd, sd_bus_start)
#define sd_bus_unref(...) DYNLIB_FREE(systemd, sd_bus_unref, NULL, __VA_ARGS__)
#define sd_bus_wait DYNLIB_CALL(systemd, sd_bus_wait)
#define sd_journal_add_match DYNLIB_CALL(systemd, sd_journal_add_match)
#define sd_journal_close(...) DYNLIB_FREE(systemd, sd_journal_close, (void) 0, __VA_ARGS__)
#define sd_journal_get_cursor DYNLIB_CALL(systemd, sd_journal_get_cursor)
#define sd_journal_get_data DYNLIB_CALL(systemd, sd_journal_get_data)
#define sd_journal_get_fd DYNLIB_CALL(systemd, sd_journal_get_fd)
#define sd_journal_get_realtime_usec DYNLIB_CALL(systemd, sd_journal_get_realtime_usec)
#define sd_journal_next DYNLIB_CALL(systemd, sd_journal_next)
#define sd_journal_open(...) DYNLIB_CTOR(systemd, sd_journal_open, -ELIBACC, __VA_ARGS__)
#define sd_journal_previous DYNLIB_CALL(systemd, sd_journal_previous)
#define sd_journal_process DYNLIB_CALL(systemd, sd_journal_process)
#define sd_journal_seek_cursor DYNLIB_CALL(systemd, sd_journal_seek_cursor)
#define sd_journal_seek_head DYNLIB_CALL(systemd, sd_journal_seek_head)
#define sd_journal_seek_realtime_usec DYNLIB_CALL(systemd, sd_journal_seek_realtime_usec)
#define sd_journal_seek_tail DYNLIB_CALL(systemd, sd_journal_seek_tail)

/* sd-bus.h's sd_bus_message_unrefp calls the real symbol, which berthctl
 * does not link. */
static inline void dl_sd_bus_message_unrefp(sd_bus_message **m)
{
        if (*m)
                sd_bus_message_unref(*m);
}
#define sd_bus_message_unrefp dl_sd_bus_message_unrefp
#endif
