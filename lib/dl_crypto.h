/* libcrypto's SHA-256, loaded where a digest is taken (dynlib.h). */
#pragma once

#include <openssl/evp.h>

#include "dynlib.h"

#define DL_CRYPTO_SYMS(X)     \
        X(EVP_Digest)         \
        X(EVP_DigestFinal_ex) \
        X(EVP_DigestInit_ex)  \
        X(EVP_DigestUpdate)   \
        X(EVP_MD_CTX_free)    \
        X(EVP_MD_CTX_new)     \
        X(EVP_sha256)

DYNLIB_DECLARE(crypto, DL_CRYPTO_SYMS)

#ifndef DYNLIB_IMPL
#define EVP_Digest(...) DYNLIB_CTOR(crypto, EVP_Digest, 0, __VA_ARGS__)
#define EVP_DigestFinal_ex DYNLIB_CALL(crypto, EVP_DigestFinal_ex)
#define EVP_DigestInit_ex DYNLIB_CALL(crypto, EVP_DigestInit_ex)
#define EVP_DigestUpdate DYNLIB_CALL(crypto, EVP_DigestUpdate)
#define EVP_MD_CTX_free(...) DYNLIB_FREE(crypto, EVP_MD_CTX_free, (void) 0, __VA_ARGS__)
#define EVP_MD_CTX_new(...) DYNLIB_CTOR(crypto, EVP_MD_CTX_new, NULL, __VA_ARGS__)
#define EVP_sha256(...) DYNLIB_CTOR(crypto, EVP_sha256, NULL, __VA_ARGS__)
#endif
