/*
 * ratelimit.c - keyed rate limits in a fixed table (see ratelimit.h).
 *
 * The table is an array of entries allocated once, a hash index of chains
 * through it, and a list from the most to the least recently used entry;
 * links are entry indices plus one, so that 0 ends a chain or the list and
 * the whole table is two allocations. A lookup walks one chain, which the
 * seeded hash keeps short and the fixed size keeps bounded whatever keys
 * arrive.
 *
 * Each entry holds its key's theoretical arrival time (GCRA): the instant
 * at which its bucket would be full again, as whole milliseconds plus a
 * fraction in units of 1/count ms. A request at `now` is allowed when that
 * time is at most (burst - 1) emission intervals ahead of now, and then
 * moves it one interval (period_ms / count) on. Counting in units of
 * 1/count ms makes the interval a whole number (period_ms), so no rounding
 * ever gives or takes a request.
 */
#include "util/ratelimit.h"
#include "util/hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t tat_ms;    /* theoretical arrival time: tat_ms + tat_frac / count ms */
    uint32_t tat_frac; /* < count */
    uint32_t chain;    /* the next entry in this hash chain, + 1; 0: the end */
    uint32_t newer;    /* towards the most recently used, + 1; 0: this is it */
    uint32_t older;    /* towards the least recently used, + 1; 0: this is it */
    uint64_t hash;
    uint8_t key_len;
    uint8_t key[RATELIMIT_KEY_MAX];
};

struct ratelimit {
    pthread_mutex_t lock;
    uint64_t seed;
    size_t capacity, used;
    size_t n_heads; /* a power of two */
    uint32_t *heads;
    struct entry *entries;
    uint32_t newest, oldest; /* + 1; 0: empty */
};

struct ratelimit *ratelimit_new(size_t capacity, uint64_t seed)
{
    if (capacity == 0 || capacity > RATELIMIT_CAPACITY_MAX)
        BT_BUG("ratelimit_new: capacity %zu out of range", capacity);
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    if (pthread_mutex_init(&rl->lock, NULL) != 0)
        bt_die("cannot create a mutex");
    rl->seed = seed;
    rl->capacity = capacity;
    rl->n_heads = 1;
    while (rl->n_heads < capacity)
        rl->n_heads <<= 1;
    rl->heads = xcalloc(rl->n_heads, sizeof(*rl->heads));
    rl->entries = xcalloc(capacity, sizeof(*rl->entries));
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->heads);
    free(rl->entries);
    free(rl);
}

/* FNV-1a over the seed and the key, then a finaliser that spreads every bit
 * into the low bits the index uses. */
static uint64_t key_hash(uint64_t seed, const uint8_t *key, size_t len)
{
    uint64_t h = HASH_FNV1A_INIT;
    for (int i = 0; i < 8; i++)
        h = hash_fnv1a_step(h, (seed >> (8 * i)) & 0xff);
    for (size_t i = 0; i < len; i++)
        h = hash_fnv1a_step(h, key[i]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static struct entry *at(struct ratelimit *rl, uint32_t link)
{
    return &rl->entries[link - 1];
}

static void lru_unlink(struct ratelimit *rl, uint32_t link)
{
    struct entry *e = at(rl, link);
    if (e->newer)
        at(rl, e->newer)->older = e->older;
    else
        rl->newest = e->older;
    if (e->older)
        at(rl, e->older)->newer = e->newer;
    else
        rl->oldest = e->newer;
    e->newer = e->older = 0;
}

static void lru_push_newest(struct ratelimit *rl, uint32_t link)
{
    struct entry *e = at(rl, link);
    e->newer = 0;
    e->older = rl->newest;
    if (rl->newest)
        at(rl, rl->newest)->newer = link;
    rl->newest = link;
    if (!rl->oldest)
        rl->oldest = link;
}

static void chain_unlink(struct ratelimit *rl, uint32_t link)
{
    uint32_t *p = &rl->heads[at(rl, link)->hash & (rl->n_heads - 1)];
    while (*p != link) {
        if (!*p)
            BT_BUG("ratelimit: an entry missing from its chain");
        p = &at(rl, *p)->chain;
    }
    *p = at(rl, link)->chain;
}

/* The entry of `key`, made (with a full bucket) when it is not tracked. */
static uint32_t find_or_add(struct ratelimit *rl, const uint8_t *key, size_t len, int64_t now_ms)
{
    uint64_t h = key_hash(rl->seed, key, len);
    uint32_t *head = &rl->heads[h & (rl->n_heads - 1)];
    for (uint32_t link = *head; link; link = at(rl, link)->chain) {
        struct entry *e = at(rl, link);
        if (e->hash == h && e->key_len == len && !memcmp(e->key, key, len))
            return link;
    }
    uint32_t link;
    if (rl->used < rl->capacity) {
        link = (uint32_t)++rl->used;
    } else {
        link = rl->oldest;
        chain_unlink(rl, link);
        lru_unlink(rl, link);
    }
    struct entry *e = at(rl, link);
    memset(e, 0, sizeof(*e));
    e->tat_ms = now_ms;
    e->hash = h;
    e->key_len = (uint8_t)len;
    memcpy(e->key, key, len);
    e->chain = *head;
    *head = link;
    lru_push_newest(rl, link);
    return link;
}

static void describe_period(uint32_t period_ms, char *buf, size_t size)
{
    if (period_ms == 1000)
        snprintf(buf, size, "second");
    else if (period_ms == 60000)
        snprintf(buf, size, "minute");
    else if (period_ms == 3600000)
        snprintf(buf, size, "hour");
    else if (period_ms == 86400000)
        snprintf(buf, size, "day");
    else if (period_ms % 1000 == 0)
        snprintf(buf, size, "%u s", period_ms / 1000);
    else
        snprintf(buf, size, "%u ms", period_ms);
}

bt_err ratelimit_take(struct ratelimit *rl, const struct ratelimit_rate *rate, const void *key,
                      size_t key_len, int64_t now_ms, int64_t *retry_after_ms, struct bt_error *err)
{
    if (rate->count == 0)
        return BT_OK;
    if (rate->count > RATELIMIT_COUNT_MAX || rate->burst == 0 ||
        rate->burst > RATELIMIT_COUNT_MAX || rate->period_ms < RATELIMIT_PERIOD_MIN ||
        rate->period_ms > RATELIMIT_PERIOD_MAX)
        BT_BUG("ratelimit_take: rate %u/%u ms burst %u out of range", rate->count, rate->period_ms,
               rate->burst);
    if (key_len == 0 || key_len > RATELIMIT_KEY_MAX)
        BT_BUG("ratelimit_take: a key of %zu bytes", key_len);

    /* In units of 1/count ms: the interval between requests is period_ms,
     * and a key may be (burst - 1) intervals ahead of now. Every product
     * below stays under RATELIMIT_COUNT_MAX * RATELIMIT_PERIOD_MAX * 3. */
    const int64_t count = rate->count;
    const int64_t interval = rate->period_ms;
    const int64_t tolerance = (int64_t)(rate->burst - 1) * interval;
    /* the most a key's time may be ahead of now under this rate, in ms */
    const int64_t max_ahead_ms = (int64_t)rate->burst * interval / count + 1;

    pthread_mutex_lock(&rl->lock);
    uint32_t link = find_or_add(rl, key, key_len, now_ms);
    struct entry *e = at(rl, link);
    if (rl->newest != link) {
        lru_unlink(rl, link);
        lru_push_newest(rl, link);
    }
    if (e->tat_ms < now_ms) { /* the bucket is full */
        e->tat_ms = now_ms;
        e->tat_frac = 0;
    }
    /* Set under another rate (a reload), or the clock went back: keep the
     * key's time within what this rate allows. */
    if (e->tat_ms - now_ms > max_ahead_ms) {
        e->tat_ms = now_ms + max_ahead_ms;
        e->tat_frac = 0;
    }
    if (e->tat_frac >= count)
        e->tat_frac = (uint32_t)(count - 1);
    int64_t ahead = (e->tat_ms - now_ms) * count + e->tat_frac;
    bt_err rc = BT_OK;
    if (ahead > tolerance) {
        int64_t wait_ms = (ahead - tolerance + count - 1) / count;
        if (retry_after_ms)
            *retry_after_ms = wait_ms;
        char period[32];
        describe_period(rate->period_ms, period, sizeof(period));
        rc = bt_fail(err, BT_ERATELIMIT, NULL,
                     "too many requests: at most %u per %s (%u at once); retry in %lld s",
                     rate->count, period, rate->burst, (long long)((wait_ms + 999) / 1000));
    } else {
        int64_t frac = (int64_t)e->tat_frac + interval;
        e->tat_ms += frac / count;
        e->tat_frac = (uint32_t)(frac % count);
    }
    pthread_mutex_unlock(&rl->lock);
    return rc;
}

size_t ratelimit_tracked(struct ratelimit *rl)
{
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->used;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
