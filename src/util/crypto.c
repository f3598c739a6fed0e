/*
 * crypto.c - thin wrappers over libcrypto so that no other module includes
 * OpenSSL headers.
 */
#include "util/crypto.h"
#include "util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
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

void crypto_hmac_sha256_parts(const void *key, size_t keylen, const struct crypto_slice *parts,
                              size_t nparts, uint8_t out[CRYPTO_HMAC_SHA256_LEN])
{
    static const unsigned char empty[1];
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (!ctx || !EVP_MAC_init(ctx, keylen ? key : empty, keylen, params))
        bt_die("HMAC-SHA256 failed");
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            bt_die("HMAC-SHA256 failed");
    }
    size_t outlen = 0;
    if (!EVP_MAC_final(ctx, out, &outlen, CRYPTO_HMAC_SHA256_LEN) ||
        outlen != CRYPTO_HMAC_SHA256_LEN)
        bt_die("HMAC-SHA256 failed");
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

size_t crypto_base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
    if (n > CRYPTO_BASE64_INPUT_MAX || outsz < CRYPTO_BASE64_LEN(n) + 1)
        BT_BUG("base64 of %zu bytes into %zu", n, outsz);
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    /* EVP_EncodeBlock writes the padded text and a NUL, no line breaks. */
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (len < 0 || (size_t)len != CRYPTO_BASE64_LEN(n))
        bt_die("base64 encoding failed");
    return (size_t)len;
}

/* The value of a base64 digit, or -1 ('=' included). */
static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bt_err crypto_base64_decode(const char *text, size_t len, uint8_t *out, size_t outsz,
                            size_t *outlen, struct bt_error *err)
{
    *outlen = 0;
    if (len > CRYPTO_BASE64_INPUT_MAX)
        return bt_fail(err, BT_ETOOBIG, NULL, "base64 text of %zu characters is too long", len);
    if (len % 4)
        return bt_fail(err, BT_EPARSE, NULL, "not base64: %zu characters, not a multiple of 4",
                       len);
    if (len == 0)
        return BT_OK;
    const unsigned char *t = (const unsigned char *)text;
    size_t pad = t[len - 1] == '=' ? (t[len - 2] == '=' ? 2 : 1) : 0;
    size_t n = len / 4 * 3 - pad;
    if (n > outsz)
        return bt_fail(err, BT_ETOOBIG, NULL, "base64 text decodes to %zu bytes, more than %zu", n,
                       outsz);
    /*
     * EVP_DecodeBlock is lenient where we are not: it skips leading and
     * trailing whitespace, ignores the unused bits, and counts padding as
     * zero bytes. So every character is checked here first, and the last
     * quantum is decoded into a scratch buffer, so that the pad bytes it
     * writes never touch out.
     */
    for (size_t i = 0; i < len - pad; i++) {
        if (base64_value(t[i]) < 0)
            return bt_fail(err, BT_EPARSE, NULL, "not base64: byte 0x%02x at offset %zu", t[i], i);
    }
    int last = base64_value(t[len - pad - 1]);
    if ((pad == 1 && (last & 3)) || (pad == 2 && (last & 15)))
        return bt_fail(err, BT_EPARSE, NULL, "not base64: bits set after the last byte");
    if (len > 4 && EVP_DecodeBlock(out, t, (int)(len - 4)) != (int)((len - 4) / 4 * 3))
        return bt_fail(err, BT_EPARSE, NULL, "not base64");
    unsigned char tail[3];
    if (EVP_DecodeBlock(tail, t + len - 4, 4) != 3)
        return bt_fail(err, BT_EPARSE, NULL, "not base64");
    memcpy(out + (len - 4) / 4 * 3, tail, 3 - pad);
    *outlen = n;
    return BT_OK;
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
