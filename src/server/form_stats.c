/*
 * form_stats.c - per-form counters (form_stats.h): a fixed array searched
 * linearly under one mutex; a few hundred forms at most, a few requests a
 * second each.
 */
#include "server/form_stats.h"
#include "util/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FORM_ID_MAX 64

struct form_stats_entry {
    char id[FORM_ID_MAX + 1];
    uint64_t counts[FORM_STAT_COUNT];
};

struct form_stats {
    pthread_mutex_t lock;
    size_t n;
    struct form_stats_entry entries[FORM_STATS_MAX];
};

const char *form_stat_name(enum form_stat s)
{
    static const char *const names[FORM_STAT_COUNT] = {
        "accepted",        "invalid",      "rate_limited", "honeypot",     "no_token",
        "malformed_token", "forged_token", "too_fast",     "expired_token"};
    return s < FORM_STAT_COUNT ? names[s] : "unknown";
}

struct form_stats *form_stats_new(void)
{
    struct form_stats *fs = xcalloc(1, sizeof(*fs));
    pthread_mutex_init(&fs->lock, NULL);
    return fs;
}

void form_stats_free(struct form_stats *fs)
{
    if (!fs)
        return;
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

static struct form_stats_entry *find(struct form_stats *fs, const char *id, bool add)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->entries[i].id, id))
            return &fs->entries[i];
    if (!add || fs->n == FORM_STATS_MAX || strlen(id) > FORM_ID_MAX)
        return NULL;
    struct form_stats_entry *e = &fs->entries[fs->n++];
    strcpy(e->id, id);
    return e;
}

void form_stats_add(struct form_stats *fs, const char *id, enum form_stat s)
{
    pthread_mutex_lock(&fs->lock);
    struct form_stats_entry *e = find(fs, id, true);
    if (e && s < FORM_STAT_COUNT)
        e->counts[s]++;
    pthread_mutex_unlock(&fs->lock);
}

void form_stats_get(struct form_stats *fs, const char *id, uint64_t out[FORM_STAT_COUNT])
{
    pthread_mutex_lock(&fs->lock);
    struct form_stats_entry *e = find(fs, id, false);
    for (int i = 0; i < FORM_STAT_COUNT; i++)
        out[i] = e ? e->counts[i] : 0;
    pthread_mutex_unlock(&fs->lock);
}
