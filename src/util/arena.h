/*
 * arena.h - bump allocation for one request or one engine command.
 *
 * Everything a request allocates through its arena is freed at once by
 * arena_release(); no handler frees individual strings. Memory is taken in
 * blocks; the first block is sized by the caller. An arena has a maximum
 * total size so that hostile input cannot make a request grow without bound:
 * an allocation past the maximum returns NULL (the only failure), which the
 * callers treat as "input too large".
 *
 *   struct arena a = ARENA_INIT;
 *   char *s = arena_strdup(&a, "x");
 *   arena_release(&a);            // frees everything; `a` may be reused
 */
#ifndef BT_ARENA_H
#define BT_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;
    size_t used;  /* bytes handed out, over all blocks */
    size_t limit; /* 0 means the default (64 MiB) */
};

#define ARENA_INIT                                                                                 \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Returns zeroed memory aligned for any type, or NULL past the limit. */
void *arena_alloc(struct arena *a, size_t size);
/* The same without zeroing, for arrays the caller fills before reading. */
void *arena_alloc_raw(struct arena *a, size_t size);
/* Copies; NULL in gives NULL out. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `items` (an arena array of n items of `size` bytes, with room for *cap)
 * with room for one more: itself, or a copy twice as large (*cap updated);
 * NULL when the arena is full. */
void *arena_room_for_one(struct arena *a, void *items, size_t n, size_t *cap, size_t size);
/* Frees every block; the arena is empty and reusable afterwards. */
void arena_release(struct arena *a);

#endif
