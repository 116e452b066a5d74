/* libarchive, loaded where an image or a backup is read or written (dynlib.h). */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"

#define DL_ARCHIVE_SYMS(X)                         \
        X(archive_entry_copy_hardlink)             \
        X(archive_entry_copy_pathname)             \
        X(archive_entry_copy_sourcepath)           \
        X(archive_entry_filetype)                  \
        X(archive_entry_free)                      \
        X(archive_entry_gid)                       \
        X(archive_entry_hardlink)                  \
        X(archive_entry_mode)                      \
        X(archive_entry_new)                       \
        X(archive_entry_pathname)                  \
        X(archive_entry_perm)                      \
        X(archive_entry_set_filetype)              \
        X(archive_entry_set_gname)                 \
        X(archive_entry_set_hardlink)              \
        X(archive_entry_set_mtime)                 \
        X(archive_entry_set_pathname)              \
        X(archive_entry_set_perm)                  \
        X(archive_entry_set_size)                  \
        X(archive_entry_set_uname)                 \
        X(archive_entry_size)                      \
        X(archive_entry_symlink)                   \
        X(archive_entry_uid)                       \
        X(archive_entry_xattr_clear)               \
        X(archive_error_string)                    \
        X(archive_read_data)                       \
        X(archive_read_data_block)                 \
        X(archive_read_data_skip)                  \
        X(archive_read_disk_entry_from_file)       \
        X(archive_read_disk_new)                   \
        X(archive_read_disk_set_behavior)          \
        X(archive_read_free)                       \
        X(archive_read_new)                        \
        X(archive_read_next_header)                \
        X(archive_read_open)                       \
        X(archive_read_open_fd)                    \
        X(archive_read_support_filter_all)         \
        X(archive_read_support_format_raw)         \
        X(archive_read_support_format_tar)         \
        X(archive_write_add_filter_zstd)           \
        X(archive_write_close)                     \
        X(archive_write_data)                      \
        X(archive_write_data_block)                \
        X(archive_write_disk_new)                  \
        X(archive_write_disk_set_options)          \
        X(archive_write_finish_entry)              \
        X(archive_write_free)                      \
        X(archive_write_header)                    \
        X(archive_write_new)                       \
        X(archive_write_open_fd)                   \
        X(archive_write_set_format_pax_restricted)

DYNLIB_DECLARE(archive, DL_ARCHIVE_SYMS)

#ifndef DYNLIB_IMPL
#define archive_entry_copy_hardlink DYNLIB_CALL(archive, archive_entry_copy_hardlink)
#define archive_entry_copy_pathname DYNLIB_CALL(archive, archive_entry_copy_pathname)
#define archive_entry_copy_sourcepath DYNLIB_CALL(archive, archive_entry_copy_sourcepath)
#define archive_entry_filetype DYNLIB_CALL(archive, archive_entry_filetype)
#define archive_entry_free(...) DYNLIB_FREE(archive, archive_entry_free, (void) 0, __VA_ARGS__)
#define archive_entry_gid DYNLIB_CALL(archive, archive_entry_gid)
#define archive_entry_hardlink DYNLIB_CALL(archive, archive_entry_hardlink)
#define archive_entry_mode DYNLIB_CALL(archive, archive_entry_mode)
#define archive_entry_new(...) DYNLIB_CTOR(archive, archive_entry_new, NULL, __VA_ARGS__)
#define archive_entry_pathname DYNLIB_CALL(archive, archive_entry_pathname)
#define archive_entry_perm DYNLIB_CALL(archive, archive_entry_perm)
#define archive_entry_set_filetype DYNLIB_CALL(archive, archive_entry_set_filetype)
#define archive_entry_set_gname DYNLIB_CALL(archive, archive_entry_set_gname)
#define archive_entry_set_hardlink DYNLIB_CALL(archive, archive_entry_set_hardlink)
#define archive_entry_set_mtime DYNLIB_CALL(archive, archive_entry_set_mtime)
#define archive_entry_set_pathname DYNLIB_CALL(archive, archive_entry_set_pathname)
#define archive_entry_set_perm DYNLIB_CALL(archive, archive_entry_set_perm)
#define archive_entry_set_size DYNLIB_CALL(archive, archive_entry_set_size)
#define archive_entry_set_uname DYNLIB_CALL(archive, archive_entry_set_uname)
#define archive_entry_size DYNLIB_CALL(archive, archive_entry_size)
#define archive_entry_symlink DYNLIB_CALL(archive, archive_entry_symlink)
#define archive_entry_uid DYNLIB_CALL(archive, archive_entry_uid)
#define archive_entry_xattr_clear DYNLIB_CALL(archive, archive_entry_xattr_clear)
#define archive_error_string DYNLIB_CALL(archive, archive_error_string)
#define archive_read_data DYNLIB_CALL(archive, archive_read_data)
#define archive_read_data_block DYNLIB_CALL(archive, archive_read_data_block)
#define archive_read_data_skip DYNLIB_CALL(archive, archive_read_data_skip)
#define archive_read_disk_entry_from_file DYNLIB_CALL(archive, archive_read_disk_entry_from_file)
#define archive_read_disk_new(...) DYNLIB_CTOR(archive, archive_read_disk_new, NULL, __VA_ARGS__)
#define archive_read_disk_set_behavior DYNLIB_CALL(archive, archive_read_disk_set_behavior)
#define archive_read_free(...) DYNLIB_FREE(archive, archive_read_free, ARCHIVE_OK, __VA_ARGS__)
#define archive_read_new(...) DYNLIB_CTOR(archive, archive_read_new, NULL, __VA_ARGS__)
#define archive_read_next_header DYNLIB_CALL(archive, archive_read_next_header)
#define archive_read_open DYNLIB_CALL(archive, archive_read_open)
#define archive_read_open_fd DYNLIB_CALL(archive, archive_read_open_fd)
#define archive_read_support_filter_all DYNLIB_CALL(archive, archive_read_support_filter_all)
#define archive_read_support_format_raw DYNLIB_CALL(archive, archive_read_support_format_raw)
#define archive_read_support_format_tar DYNLIB_CALL(archive, archive_read_support_format_tar)
#define archive_write_add_filter_zstd DYNLIB_CALL(archive, archive_write_add_filter_zstd)
#define archive_write_close DYNLIB_CALL(archive, archive_write_close)
#define archive_write_data DYNLIB_CALL(archive, archive_write_data)
#define archive_write_data_block DYNLIB_CALL(archive, archive_write_data_block)
#define archive_write_disk_new(...) DYNLIB_CTOR(archive, archive_write_disk_new, NULL, __VA_ARGS__)
#define archive_write_disk_set_options DYNLIB_CALL(archive, archive_write_disk_set_options)
#define archive_write_finish_entry DYNLIB_CALL(archive, archive_write_finish_entry)
#define archive_write_free(...) DYNLIB_FREE(archive, archive_write_free, ARCHIVE_OK, __VA_ARGS__)
#define archive_write_header DYNLIB_CALL(archive, archive_write_header)
#define archive_write_new(...) DYNLIB_CTOR(archive, archive_write_new, NULL, __VA_ARGS__)
#define archive_write_open_fd DYNLIB_CALL(archive, archive_write_open_fd)
#define archive_write_set_format_pax_restricted DYNLIB_CALL(archive, archive_write_set_format_pax_restricted)
#endif
