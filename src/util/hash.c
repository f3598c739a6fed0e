/*
 * hash.c - FNV-1a (see hash.h).
 */
#include "util/hash.h"

uint64_t hash_fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = HASH_FNV1A_INIT;
    for (size_t i = 0; i < len; i++)
        h = hash_fnv1a_step(h, p[i]);
    return h;
}

uint64_t hash_fnv1a_text(const char *s)
{
    uint64_t h = HASH_FNV1A_INIT;
    for (; *s; s++)
        h = hash_fnv1a_step(h, (unsigned char)*s);
    return h;
}
