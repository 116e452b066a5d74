/* SHA-256 through libcrypto's EVP interface: the one digest library berth
 * links (images' blobs and layers, snapshots' identities, export
 * manifests). A struct sha256 holds its context from sha256_init() until
 * sha256_final_hex() or sha256_done() (the cleanup for early returns). */
#pragma once

#include <stddef.h>

struct sha256 {
        void *ctx; /* EVP_MD_CTX */
};

/* 0, or -ENOMEM (then h holds nothing). */
int sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* The digest as 64 lowercase hex digits and a NUL into out; releases h. */
void sha256_final_hex(struct sha256 *h, char out[65]);
/* Releases h if it still holds a context. */
void sha256_done(struct sha256 *h);
/* One string's digest, as sha256_final_hex; 0 or -ENOMEM. */
int sha256_hex_of(const void *data, size_t len, char out[65]);
