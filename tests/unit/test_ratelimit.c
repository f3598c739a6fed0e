/*
 * test_ratelimit.c - keyed rate limits: bursts and refills to the
 * millisecond, no request lost or gained to rounding (checked against a
 * token bucket in exact arithmetic over random traffic), keys kept apart,
 * a fixed table that forgets its least recently used key first, threads,
 * a rate changed by a reload and a clock that goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/ratelimit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool take(struct ratelimit *rl, const struct ratelimit_rate *rate, const char *key,
                 int64_t now, int64_t *retry)
{
    struct bt_error err = BT_ERROR_INIT;
    int64_t r = -1;
    bt_err rc = ratelimit_take(rl, rate, key, strlen(key), now, &r, &err);
    if (rc == BT_OK)
        return true;
    assert_int_equal(rc, BT_ERATELIMIT);
    assert_int_equal(err.code, BT_ERATELIMIT);
    assert_non_null(strstr(err.message, "retry in"));
    assert_true(r >= 1);
    if (retry)
        *retry = r;
    return false;
}

static void test_burst_then_steady_rate(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(16, 1);
    const struct ratelimit_rate rate = {.count = 2, .period_ms = 1000, .burst = 5};
    int64_t t = 1795000000000;
    for (int i = 0; i < 5; i++)
        assert_true(take(rl, &rate, "a", t, NULL));
    int64_t retry = 0;
    assert_false(take(rl, &rate, "a", t, &retry));
    assert_int_equal(retry, 500); /* one interval: 1000 ms / 2 */
    assert_false(take(rl, &rate, "a", t + 499, &retry));
    assert_int_equal(retry, 1);
    assert_true(take(rl, &rate, "a", t + 500, NULL));
    assert_false(take(rl, &rate, "a", t + 500, &retry));
    assert_int_equal(retry, 500);
    /* refused requests count nothing: still one per 500 ms */
    for (int64_t ms = 501; ms < 1000; ms += 7)
        assert_false(take(rl, &rate, "a", t + ms, NULL));
    assert_true(take(rl, &rate, "a", t + 1000, NULL));
    /* quiet for long enough: the whole burst again, not more */
    t += 60000;
    for (int i = 0; i < 5; i++)
        assert_true(take(rl, &rate, "a", t, NULL));
    assert_false(take(rl, &rate, "a", t, NULL));
    ratelimit_free(rl);
}

static void test_slow_rate_loses_nothing_to_rounding(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(4, 2);
    /* one an hour, asked every second: exactly on the hour, never before */
    const struct ratelimit_rate hourly = {.count = 1, .period_ms = 3600000, .burst = 1};
    int64_t t = 0;
    assert_true(take(rl, &hourly, "k", t, NULL));
    int allowed = 0;
    for (int64_t s = 1; s <= 3 * 3600; s++)
        if (take(rl, &hourly, "k", t + s * 1000, NULL)) {
            assert_int_equal(s % 3600, 0);
            allowed++;
        }
    assert_int_equal(allowed, 3);
    /* 3 per 1000 ms, asked every ms: intervals of 333.33 ms that do not
     * drift to 334 (after the first two, the n-th is allowed at
     * ceil((n - 1) * 1000 / 3) ms: 301 in 100 s) */
    const struct ratelimit_rate thirds = {.count = 3, .period_ms = 1000, .burst = 2};
    int n = 0;
    for (int64_t ms = 0; ms < 100000; ms++)
        n += take(rl, &thirds, "t", 5000000 + ms, NULL);
    assert_int_equal(n, 301);
    ratelimit_free(rl);
}

/* A token bucket in exact arithmetic (tokens in units of 1/period_ms). */
struct model {
    int64_t tokens, last;
};

static bool model_take(struct model *m, const struct ratelimit_rate *r, int64_t now)
{
    int64_t full = (int64_t)r->burst * r->period_ms;
    if (now > m->last) {
        int64_t add = (now - m->last) * r->count;
        m->tokens = m->tokens + add > full ? full : m->tokens + add;
        m->last = now;
    }
    if (m->tokens < r->period_ms)
        return false;
    m->tokens -= r->period_ms;
    return true;
}

static void test_against_a_token_bucket(void **state)
{
    (void)state;
    const struct ratelimit_rate rates[] = {
        {1, 1000, 1},     {7, 1000, 3}, {20, 1000, 100},
        {600, 60000, 50}, {5, 3000, 2}, {1000, 1000, 1},
    };
    srand(12345);
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct ratelimit *rl = ratelimit_new(1, 3);
        struct model m = {(int64_t)rates[i].burst * rates[i].period_ms, 0};
        int64_t t = 0, interval = rates[i].period_ms / rates[i].count;
        int allowed = 0;
        for (int k = 0; k < 20000; k++) {
            /* faster than the rate, with pauses of up to two bursts' worth */
            t += rand() % (4 * rates[i].burst) == 0 ? rand() % (2 * rates[i].burst * interval + 1)
                                                    : rand() % (interval / 2 + 1);
            bool want = model_take(&m, &rates[i], t);
            int64_t retry = 0;
            bool got = take(rl, &rates[i], "x", t, &retry);
            if (got != want)
                fail_msg("rate %zu, request %d at %lld: model %d, limiter %d", i, k, (long long)t,
                         want, got);
            allowed += got;
            if (!got) {
                /* the retry time is exact: refused just before, allowed then */
                struct model probe = m;
                assert_false(model_take(&probe, &rates[i], t + retry - 1));
                probe = m;
                assert_true(model_take(&probe, &rates[i], t + retry));
            }
        }
        /* both answers were given many times */
        assert_true(allowed > 100 && allowed < 19900);
        ratelimit_free(rl);
    }
}

static void test_keys_are_apart(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(64, 4);
    const struct ratelimit_rate rate = {.count = 1, .period_ms = 1000, .burst = 2};
    char key[16];
    for (int k = 0; k < 50; k++) {
        snprintf(key, sizeof(key), "key-%d", k);
        assert_true(take(rl, &rate, key, 0, NULL));
        assert_true(take(rl, &rate, key, 0, NULL));
        assert_false(take(rl, &rate, key, 0, NULL));
    }
    assert_int_equal(ratelimit_tracked(rl), 50);
    /* keys are compared whole: a prefix or binary bytes are other keys */
    uint8_t a[RATELIMIT_KEY_MAX] = {0}, b[RATELIMIT_KEY_MAX] = {0};
    b[RATELIMIT_KEY_MAX - 1] = 1;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(ratelimit_take(rl, &rate, a, sizeof(a), 0, NULL, &err), BT_OK);
    assert_int_equal(ratelimit_take(rl, &rate, a, sizeof(a), 0, NULL, &err), BT_OK);
    assert_int_equal(ratelimit_take(rl, &rate, a, sizeof(a), 0, NULL, NULL), BT_ERATELIMIT);
    assert_int_equal(ratelimit_take(rl, &rate, b, sizeof(b), 0, NULL, &err), BT_OK);
    assert_int_equal(ratelimit_take(rl, &rate, a, 5, 0, NULL, &err), BT_OK);
    ratelimit_free(rl);
}

static void test_fixed_table_forgets_least_recently_used(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(4, 5);
    const struct ratelimit_rate rate = {.count = 1, .period_ms = 3600000, .burst = 1};
    assert_true(take(rl, &rate, "A", 0, NULL));
    assert_true(take(rl, &rate, "B", 1, NULL));
    assert_true(take(rl, &rate, "C", 2, NULL));
    assert_false(take(rl, &rate, "A", 3, NULL)); /* A is used again: the newest */
    assert_true(take(rl, &rate, "D", 4, NULL));
    assert_true(take(rl, &rate, "E", 5, NULL)); /* full: B goes */
    assert_int_equal(ratelimit_tracked(rl), 4);
    assert_false(take(rl, &rate, "A", 6, NULL)); /* A kept its state */
    assert_true(take(rl, &rate, "B", 7, NULL));  /* B forgotten: a full bucket; C goes */
    assert_false(take(rl, &rate, "D", 8, NULL));
    assert_false(take(rl, &rate, "E", 9, NULL));
    assert_true(take(rl, &rate, "C", 10, NULL));
    /* a flood of new keys never grows the table; afterwards the oldest are gone */
    char key[24];
    for (int k = 0; k < 100000; k++) {
        snprintf(key, sizeof(key), "flood-%d", k);
        assert_true(take(rl, &rate, key, 11, NULL));
    }
    assert_int_equal(ratelimit_tracked(rl), 4);
    assert_true(take(rl, &rate, "A", 12, NULL));
    /* the last keys of the flood are still tracked */
    assert_false(take(rl, &rate, "flood-99999", 13, NULL));
    ratelimit_free(rl);

    /* a table of one entry */
    rl = ratelimit_new(1, 6);
    assert_true(take(rl, &rate, "x", 0, NULL));
    assert_false(take(rl, &rate, "x", 0, NULL));
    assert_true(take(rl, &rate, "y", 0, NULL));
    assert_true(take(rl, &rate, "x", 0, NULL));
    ratelimit_free(rl);
}

struct worker {
    struct ratelimit *rl;
    const struct ratelimit_rate *rate;
    int allowed;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 2000; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k%d", i % 3);
        w->allowed += ratelimit_take(w->rl, w->rate, key, strlen(key), 1000, NULL, NULL) == BT_OK;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(2, 7); /* three keys, two entries: evictions too */
    const struct ratelimit_rate rate = {.count = 10, .period_ms = 1000, .burst = 100};
    struct worker w[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){rl, &rate, 0};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    /* at least one burst, and never more than the requests */
    assert_true(total >= 100 && total <= 16000);
    assert_int_equal(ratelimit_tracked(rl), 2);
    ratelimit_free(rl);

    /* one key, one table: exactly one burst among all threads */
    rl = ratelimit_new(8, 8);
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){rl, &rate, 0};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 3 * 100);
    ratelimit_free(rl);
}

static void test_rate_changed_and_clock_back(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(4, 9);
    const struct ratelimit_rate wide = {.count = 10, .period_ms = 1000, .burst = 10};
    const struct ratelimit_rate narrow = {.count = 1, .period_ms = 1000, .burst = 2};
    for (int i = 0; i < 10; i++)
        assert_true(take(rl, &wide, "k", 0, NULL));
    /* a reload narrows the rate: the key's use so far counts as one of
     * the two it may now send at once */
    int64_t retry = 0;
    assert_true(take(rl, &narrow, "k", 0, NULL));
    assert_false(take(rl, &narrow, "k", 0, &retry));
    assert_int_equal(retry, 1000);
    assert_true(take(rl, &narrow, "k", 1000, NULL));
    /* a key far ahead under the old rate waits at most what the new one
     * allows (a burst's worth), not the old rate's hour */
    const struct ratelimit_rate hourly = {.count = 1, .period_ms = 3600000, .burst = 1};
    assert_true(take(rl, &hourly, "h", 0, NULL));
    assert_false(take(rl, &narrow, "h", 1, &retry));
    assert_true(retry <= 2001);
    /* the clock goes back an hour: nothing is refilled, nothing breaks */
    assert_false(take(rl, &narrow, "k", 1000 - 3600000, &retry));
    assert_true(retry >= 1 && retry <= 2001);
    /* a count of 0 is no limit, and tracks nothing */
    struct ratelimit *none = ratelimit_new(1, 10);
    const struct ratelimit_rate off = {0};
    for (int i = 0; i < 1000; i++)
        assert_true(take(none, &off, "k", 0, NULL));
    assert_int_equal(ratelimit_tracked(none), 0);
    ratelimit_free(none);
    ratelimit_free(rl);
    ratelimit_free(NULL);
}

static void test_extreme_rates(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(4, 11);
    const struct ratelimit_rate fastest = {RATELIMIT_COUNT_MAX, RATELIMIT_PERIOD_MIN,
                                           RATELIMIT_COUNT_MAX};
    const struct ratelimit_rate slowest = {1, RATELIMIT_PERIOD_MAX, RATELIMIT_COUNT_MAX};
    int64_t t = 253402300799000; /* 9999-12-31T23:59:59Z */
    for (int i = 0; i < RATELIMIT_COUNT_MAX; i++)
        assert_true(take(rl, &fastest, "f", t, NULL));
    int64_t retry = 0;
    assert_false(take(rl, &fastest, "f", t, &retry));
    assert_int_equal(retry, 1);
    for (int i = 0; i < 1000; i++)
        assert_true(take(rl, &slowest, "s", t, NULL));
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_steady_rate),
        cmocka_unit_test(test_slow_rate_loses_nothing_to_rounding),
        cmocka_unit_test(test_against_a_token_bucket),
        cmocka_unit_test(test_keys_are_apart),
        cmocka_unit_test(test_fixed_table_forgets_least_recently_used),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_rate_changed_and_clock_back),
        cmocka_unit_test(test_extreme_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
