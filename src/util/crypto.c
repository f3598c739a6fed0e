/*
 * crypto.c - thin wrappers over libcrypto so that no other module includes
 * OpenSSL headers.
 */
#include "util/crypto.h"
#include "util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        bt_die("SHA-256 failed");
    hex(md, 32, out);
}

void crypto_random_token(const char *prefix, size_t nbytes, char *out, size_t outsz)
{
    unsigned char buf[64];
    size_t plen = strlen(prefix);
    if (nbytes > sizeof(buf) || plen + 2 * nbytes + 1 > outsz)
        BT_BUG("token buffer too small");
    if (RAND_bytes(buf, (int)nbytes) != 1)
        bt_die("the system's random source failed");
    memcpy(out, prefix, plen);
    hex(buf, nbytes, out + plen);
}

uint64_t crypto_random_u64(void)
{
    uint64_t v;
    if (RAND_bytes((unsigned char *)&v, (int)sizeof(v)) != 1)
        bt_die("the system's random source failed");
    return v;
}
