/*
 * ratelimit.h - rate limits for many keys (API keys, client addresses) in a
 * fixed amount of memory.
 *
 * Each key has a bucket of `burst` requests that refills at `count` per
 * `period_ms`: a key that was quiet for long enough may send `burst`
 * requests at once, then one per period_ms / count. The buckets are kept
 * as the generic cell rate algorithm does (one "theoretical arrival time"
 * per key, in integer arithmetic, so that a rate such as 1 per hour loses
 * nothing to rounding however often a key is refused).
 *
 * Memory is fixed when the table is made: `capacity` entries. A key not yet
 * tracked takes a free entry or, when none is left, the one used least
 * recently. An evicted key starts again with a full bucket, which is what it
 * would have had anyway unless the table was cycled through within the time
 * one bucket takes to refill: a stream of new keys (addresses) never grows
 * memory, it only makes the table forget its oldest keys sooner.
 *
 * The caller passes the time in (ms, from the server's clock), so tests and
 * the manual clock drive refills. Thread-safe: one mutex per table.
 */
#ifndef BT_RATELIMIT_H
#define BT_RATELIMIT_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX      24         /* bytes of a key */
#define RATELIMIT_COUNT_MAX    1000000    /* count and burst */
#define RATELIMIT_PERIOD_MIN   1000       /* ms */
#define RATELIMIT_PERIOD_MAX   86400000   /* ms: a day */
#define RATELIMIT_CAPACITY_MAX (1u << 24) /* entries of one table */

/* `count` requests per `period_ms`, up to `burst` at once; count == 0 means
 * no limit. A rate outside the bounds above is a bug (config validates). */
struct ratelimit_rate {
    uint32_t count;
    uint32_t period_ms;
    uint32_t burst;
};

struct ratelimit;

/* A table of `capacity` entries (1 .. RATELIMIT_CAPACITY_MAX); `seed` keys
 * the hash that places entries (pass random bytes, so that nobody can pick
 * keys that share a chain). Free it with ratelimit_free(). */
struct ratelimit *ratelimit_new(size_t capacity, uint64_t seed);
/* ratelimit_free(NULL) does nothing. */
void ratelimit_free(struct ratelimit *rl);

/*
 * Counts one request of `key` (key_len 1 .. RATELIMIT_KEY_MAX bytes) at
 * now_ms under `rate`. BT_OK: allowed. BT_ERATELIMIT: refused, nothing
 * counted; *retry_after_ms (when not NULL) is how long until a request of
 * this key would be allowed (at least 1), and err says so. A rate that
 * changes between calls (a reload) applies from the next call; time going
 * back (a real clock stepped) refills nothing.
 */
bt_err ratelimit_take(struct ratelimit *rl, const struct ratelimit_rate *rate, const void *key,
                      size_t key_len, int64_t now_ms, int64_t *retry_after_ms,
                      struct bt_error *err) BT_MUST_USE;

/* Keys tracked now (at most the capacity), for tests and metrics. */
size_t ratelimit_tracked(struct ratelimit *rl);

#endif
