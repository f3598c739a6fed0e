/*
 * hash.h - FNV-1a, the one non-cryptographic hash of Baton: hash tables of
 * names (account matching, the import's owner counts) and derived account
 * ids (core/account_csv.h), whose text must stay the same from release to
 * release. 64-bit, byte by byte, or one wider unit (a code point) at a time.
 */
#ifndef BT_HASH_H
#define BT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT  0xcbf29ce484222325ULL
#define HASH_FNV1A_PRIME 0x100000001b3ULL

/* One step: folds `unit` (a byte, or a code point) into `h`. */
static inline uint64_t hash_fnv1a_step(uint64_t h, uint64_t unit)
{
    return (h ^ unit) * HASH_FNV1A_PRIME;
}

/* FNV-1a of data[0..len). */
uint64_t hash_fnv1a(const void *data, size_t len);

/* FNV-1a of a NUL-terminated string. */
uint64_t hash_fnv1a_text(const char *s);

#endif
