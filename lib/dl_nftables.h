/* libnftables, loaded where NAT or published ports are set up (dynlib.h). */
#pragma once

#include <nftables/libnftables.h>

#include "dynlib.h"

#define DL_NFTABLES_SYMS(X)        \
        X(nft_ctx_new)             \
        X(nft_ctx_free)            \
        X(nft_ctx_buffer_output)   \
        X(nft_ctx_buffer_error)    \
        X(nft_ctx_get_error_buffer) \
        X(nft_run_cmd_from_buffer)

DYNLIB_DECLARE(nftables, DL_NFTABLES_SYMS)

#ifndef DYNLIB_IMPL
#define nft_ctx_new(...) DYNLIB_CTOR(nftables, nft_ctx_new, NULL, __VA_ARGS__)
#define nft_ctx_free(...) DYNLIB_FREE(nftables, nft_ctx_free, (void) 0, __VA_ARGS__)
#define nft_ctx_buffer_output DYNLIB_CALL(nftables, nft_ctx_buffer_output)
#define nft_ctx_buffer_error DYNLIB_CALL(nftables, nft_ctx_buffer_error)
#define nft_ctx_get_error_buffer DYNLIB_CALL(nftables, nft_ctx_get_error_buffer)
#define nft_run_cmd_from_buffer DYNLIB_CALL(nftables, nft_run_cmd_from_buffer)
#endif
