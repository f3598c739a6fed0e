/*
 * timers.c - the tick thread. It sleeps on a condition variable so that
 * timers_stop() wakes it at once instead of waiting out the tick.
 */
#include "timers/timers.h"
#include "config/config.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESCORE_BATCH 500
#define HOLD_BATCH    1000
#define MINUTE_MS     60000

struct timers {
    struct engine *engine;
    struct config_holder *config;
    struct clock *clock;
    /* the hold queue (timer thread only) */
    char drained_version[sizeof(((struct config *)0)->version)]; /* of the config last walked */
    int64_t drained_minute;
    int64_t next_change;                   /* 0: none known */
    bool hold_walking;                     /* a walk down the queue is under way, */
    struct engine_hold_cursor hold_cursor; /* and has got this far */
    bool hold_restart;                     /* something changed: walk again from the top */
    unsigned tick_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

static void tick(struct timers *t)
{
    struct config *cfg = config_holder_get(t->config);
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    do {
        if (engine_rescore_due(t->engine, cfg, RESCORE_BATCH, &n, &err)) {
            if (err.code != BT_EBUSY)
                log_error("timers: rescoring failed: %s", err.message);
            break;
        }
    } while (n == RESCORE_BATCH);
    int64_t now = clock_now(t->clock);
    if (strcmp(cfg->version, t->drained_version) != 0 || now / MINUTE_MS != t->drained_minute ||
        (t->next_change && now >= t->next_change) || engine_hold_wake_due(t->engine, now))
        t->hold_restart = true;
    if (!t->hold_walking && t->hold_restart) {
        /* something changed: a new walk from the top of the queue */
        t->hold_cursor = (struct engine_hold_cursor){0};
        t->hold_walking = true;
        t->hold_restart = false;
        memcpy(t->drained_version, cfg->version, sizeof(t->drained_version));
        t->drained_minute = now / MINUTE_MS;
    }
    if (t->hold_walking) {
        size_t tried = 0;
        if (engine_drain_holds(t->engine, cfg, HOLD_BATCH, &t->hold_cursor, &tried, NULL,
                               &t->next_change, &err)) {
            if (err.code != BT_EBUSY)
                log_error("timers: routing held leads failed: %s", err.message);
        } else if (tried < HOLD_BATCH) {
            t->hold_walking = false; /* the whole queue was tried */
        }
    }
    config_unref(cfg);
}

static void *timers_main(void *arg)
{
    struct timers *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += t->tick_ms / 1000;
        ts.tv_nsec += (long)(t->tick_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        if (t->stopping)
            break;
        pthread_mutex_unlock(&t->lock);
        tick(t);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

bt_err timers_start(struct engine *engine, struct config_holder *config, struct clock *clock,
                    unsigned tick_ms, struct timers **out, struct bt_error *err)
{
    struct timers *t = xcalloc(1, sizeof(*t));
    t->engine = engine;
    t->config = config;
    t->clock = clock;
    t->drained_minute = -1;
    t->tick_ms = tick_ms ? tick_ms : 1000;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t attr; /* ticks follow the monotonic clock: setting the time moves nothing */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&t->thread, NULL, timers_main, t) != 0) {
        free(t);
        return bt_fail(err, BT_EIO, NULL, "cannot start the timer thread");
    }
    *out = t;
    return BT_OK;
}

void timers_stop(struct timers *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}
