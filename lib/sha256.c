/* SHA-256 over libcrypto (see sha256.h), loaded on the first digest. */

#include "sha256.h"

#include <errno.h>
#include <stdio.h>

#include "dl_crypto.h"

int sha256_init(struct sha256 *h)
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(c);
                h->ctx = NULL;
                return -ENOMEM;
        }
        h->ctx = c;
        return 0;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
        if (h->ctx && len)
                (void) EVP_DigestUpdate(h->ctx, data, len);
}

static void to_hex(const unsigned char *md, unsigned n, char out[65])
{
        for (unsigned i = 0; i < n && i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
        out[64] = 0;
}

void sha256_final_hex(struct sha256 *h, char out[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        out[0] = 0;
        if (h->ctx && EVP_DigestFinal_ex(h->ctx, md, &n) == 1)
                to_hex(md, n, out);
        sha256_done(h);
}

void sha256_done(struct sha256 *h)
{
        EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
}

int sha256_hex_of(const void *data, size_t len, char out[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        out[0] = 0;
        if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        to_hex(md, n, out);
        return 0;
}
