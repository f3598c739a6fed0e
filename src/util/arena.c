/*
 * arena.c - a list of blocks, newest first; allocation bumps an offset in the
 * newest block and starts a new one (at least twice the last) when it is full.
 */
#include "util/arena.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_DEFAULT_LIMIT (64u * 1024 * 1024)
#define ARENA_FIRST_BLOCK   4096
#define ARENA_ALIGN         16

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t offset;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void *arena_alloc_raw(struct arena *a, size_t size)
{
    size_t limit = a->limit ? a->limit : ARENA_DEFAULT_LIMIT;
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (rounded < size || rounded > limit || a->used + rounded > limit)
        return NULL;
    struct arena_block *b = a->head;
    if (!b || b->size - b->offset < rounded) {
        size_t want = b ? b->size * 2 : ARENA_FIRST_BLOCK;
        while (want < rounded)
            want *= 2;
        b = xmalloc(sizeof(*b) + want);
        b->next = a->head;
        b->size = want;
        b->offset = 0;
        a->head = b;
    }
    void *p = b->data + b->offset;
    b->offset += rounded;
    a->used += rounded;
    return p;
}

void *arena_alloc(struct arena *a, size_t size)
{
    void *p = arena_alloc_raw(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_release(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *arena_room_for_one(struct arena *a, void *items, size_t n, size_t *cap, size_t size)
{
    if (items && n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *grown = arena_alloc_raw(a, ncap * size);
    if (grown && n)
        memcpy(grown, items, n * size);
    if (grown)
        *cap = ncap;
    return grown;
}
