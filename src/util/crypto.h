/*
 * crypto.h - the few cryptographic primitives Baton needs, from OpenSSL's
 * libcrypto: SHA-256 (API key hashes, config versions, request fingerprints),
 * HMAC-SHA256 and a constant-time comparison (signed action links), and
 * random tokens (API keys) and numbers (hash seeds).
 */
#ifndef BT_CRYPTO_H
#define BT_CRYPTO_H

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

/*
 * True when a[0..n) and b[0..n) are the same bytes. The time it takes
 * depends on n only, never on where the buffers differ: compare MACs and
 * other secrets with it, never with memcmp. n itself is not hidden, so
 * check that a received value has the expected length first.
 */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Writes `prefix` followed by `nbytes` random bytes as lower-case hex into
 * out (size outsz); dies if the system's random source fails. */
void crypto_random_token(const char *prefix, size_t nbytes, char *out, size_t outsz);

/* n random bytes into out; dies if the system's random source fails. */
void crypto_random_bytes(void *out, size_t n);

/* 64 random bits; dies if the system's random source fails. */
uint64_t crypto_random_u64(void);

#endif
