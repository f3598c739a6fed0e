/*
 * crypto.c - thin wrappers over libcrypto so that no other module includes
 * OpenSSL headers.
 */
#include "util/crypto.h"
#include "util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <limits.h>
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

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[CRYPTO_HMAC_SHA256_LEN])
{
    /* HMAC() takes the key length as an int, and is not promised to accept
     * NULL for an empty key or message: give it a real byte instead. */
    static const unsigned char empty[1];
    if (keylen > INT_MAX)
        BT_BUG("HMAC key of %zu bytes", keylen);
    unsigned int outlen = 0;
    if (!HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen, len ? data : empty, len, out,
              &outlen) ||
        outlen != CRYPTO_HMAC_SHA256_LEN)
        bt_die("HMAC-SHA256 failed");
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
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

void crypto_random_bytes(void *out, size_t n)
{
    if (n > INT32_MAX || RAND_bytes(out, (int)n) != 1)
        bt_die("the system's random source failed");
}

uint64_t crypto_random_u64(void)
{
    uint64_t v;
    if (RAND_bytes((unsigned char *)&v, (int)sizeof(v)) != 1)
        bt_die("the system's random source failed");
    return v;
}
