/*
 * crypto.h - the few cryptographic primitives Baton needs, from OpenSSL's
 * libcrypto: SHA-256 (API key hashes, config versions, request fingerprints),
 * HMAC-SHA256 and a constant-time comparison (signed action links, webhook
 * signatures), standard base64 (webhook secrets and signatures, mail
 * headers), and random tokens (API keys) and numbers (hash seeds).
 */
#ifndef BT_CRYPTO_H
#define BT_CRYPTO_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN         64
#define CRYPTO_HMAC_SHA256_LEN 32

/* Writes 64 lower-case hex digits and a NUL into out (65 bytes). */
void crypto_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/*
 * HMAC-SHA256 (RFC 2104) of data[0..len) under key[0..keylen), into out.
 * Any key length works (a key longer than SHA-256's 64-byte block is hashed
 * first, as the RFC says); keylen 0 and len 0 are allowed, with NULL
 * pointers then. Dies if libcrypto fails (it does not for valid input).
 */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[CRYPTO_HMAC_SHA256_LEN]);

/* A piece of a message that is signed in pieces. */
struct crypto_slice {
    const void *data; /* may be NULL when len is 0 */
    size_t len;
};

/*
 * HMAC-SHA256 of the concatenation of parts[0..nparts) under key[0..keylen):
 * the same MAC as crypto_hmac_sha256() over one buffer holding them all,
 * without building that buffer (a webhook signs id, timestamp and body).
 * Dies if libcrypto fails.
 */
void crypto_hmac_sha256_parts(const void *key, size_t keylen, const struct crypto_slice *parts,
                              size_t nparts, uint8_t out[CRYPTO_HMAC_SHA256_LEN]);

/*
 * True when a[0..n) and b[0..n) are the same bytes. The time it takes
 * depends on n only, never on where the buffers differ: compare MACs and
 * other secrets with it, never with memcmp. n itself is not hidden, so
 * check that a received value has the expected length first.
 */
bool crypto_equal(const void *a, const void *b, size_t n);

/*
 * Standard base64 (RFC 4648 section 4: the alphabet with '+' and '/', '='
 * padding to a multiple of four characters).
 *
 * CRYPTO_BASE64_LEN(n) is the text length of n bytes, without the NUL;
 * CRYPTO_BASE64_DECODED_MAX(len) bounds the bytes that len characters can
 * decode to. Both are constant expressions, for sizing buffers.
 */
#define CRYPTO_BASE64_LEN(n)           (((n) + 2) / 3 * 4)
#define CRYPTO_BASE64_DECODED_MAX(len) ((len) / 4 * 3)
/* The most bytes one call encodes, and the most characters one call
 * decodes (libcrypto counts in int). */
#define CRYPTO_BASE64_INPUT_MAX (1u << 28)

/*
 * Writes the base64 of in[0..n) and a NUL into out, which the caller owns
 * and sizes: outsz >= CRYPTO_BASE64_LEN(n) + 1, and n at most
 * CRYPTO_BASE64_INPUT_MAX (less room or more input is a bug). Returns the
 * length written, CRYPTO_BASE64_LEN(n). in may be NULL when n is 0.
 */
size_t crypto_base64_encode(const void *in, size_t n, char *out, size_t outsz);

/*
 * Decodes text[0..len) (any bytes, not NUL-terminated) into out[0..outsz),
 * caller-owned, and sets *outlen to the bytes written. Strict: len is a
 * multiple of 4, every character is in the alphabet, '=' appears only as
 * the last one or two characters, the unused bits before the padding are
 * zero (so each byte string has one text), and nothing else - no
 * whitespace, no line breaks, no base64url. "" decodes to 0 bytes.
 * Returns BT_OK; BT_EPARSE for text that is not such base64 (*outlen is 0
 * and out may have been written); BT_ETOOBIG when len exceeds
 * CRYPTO_BASE64_INPUT_MAX or the decoded bytes would not fit in outsz
 * (checked before anything is written).
 */
BT_MUST_USE bt_err crypto_base64_decode(const char *text, size_t len, uint8_t *out, size_t outsz,
                                        size_t *outlen, struct bt_error *err);

/* Writes `prefix` followed by `nbytes` random bytes as lower-case hex into
 * out (size outsz); dies if the system's random source fails. */
void crypto_random_token(const char *prefix, size_t nbytes, char *out, size_t outsz);

/* n random bytes into out; dies if the system's random source fails. */
void crypto_random_bytes(void *out, size_t n);

/* 64 random bits; dies if the system's random source fails. */
uint64_t crypto_random_u64(void);

#endif
