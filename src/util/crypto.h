/*
 * crypto.h - the few cryptographic primitives Baton needs, from OpenSSL's
 * libcrypto: SHA-256 (API key hashes, config versions, request fingerprints)
 * and random tokens (API keys) and numbers (hash seeds).
 */
#ifndef BT_CRYPTO_H
#define BT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

/* Writes 64 lower-case hex digits and a NUL into out (65 bytes). */
void crypto_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* Writes `prefix` followed by `nbytes` random bytes as lower-case hex into
 * out (size outsz); dies if the system's random source fails. */
void crypto_random_token(const char *prefix, size_t nbytes, char *out, size_t outsz);

/* 64 random bits; dies if the system's random source fails. */
uint64_t crypto_random_u64(void);

#endif
