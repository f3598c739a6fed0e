/*
 * timers.c - deadline sources in a min-heap, one runner at a time.
 *
 * The heap holds the sources that are due at some time, keyed by (due, id)
 * so that ties run in registration order; each source knows its slot in
 * the heap, so a poke that moves it earlier is a sift-up, not a search. The
 * thread sleeps on a condition variable on the monotonic clock: a poke or
 * timers_free() wakes it at once, and setting the system time moves no
 * sleep.
 */
#include "timers/timers.h"
#include "util/log.h"
#include "util/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_AFTER_ERROR_MS 1000
#define MAX_SLEEP_MS         60000 /* real clock: look again at least this often */
#define MANUAL_SLEEP_MS      1000  /* manual clock: time moves only by run_due; look for pokes */

struct source {
    struct timer_source src;
    int64_t due;    /* 0: not in the heap */
    int64_t set_at; /* when `due` was set: a time already past then is due "now" */
    int slot;       /* index in heap, -1 when not in it */
};

struct timers {
    struct clock *clock;
    struct source sources[TIMERS_MAX_SOURCES];
    int n_sources;
    int heap[TIMERS_MAX_SOURCES]; /* source ids; heap order by (due, id) */
    int n_heap;

    pthread_mutex_t lock;    /* the heap and due times */
    pthread_mutex_t running; /* one runner at a time */
    pthread_cond_t wake;
    pthread_t thread;
    bool started, stopping;
};

/* ---- the heap (under lock) ---- */

static bool before(const struct timers *t, int a, int b)
{
    const struct source *x = &t->sources[a], *y = &t->sources[b];
    return x->due < y->due || (x->due == y->due && a < b);
}

static void place(struct timers *t, int slot, int id)
{
    t->heap[slot] = id;
    t->sources[id].slot = slot;
}

static void sift_up(struct timers *t, int slot)
{
    int id = t->heap[slot];
    while (slot > 0) {
        int parent = (slot - 1) / 2;
        if (!before(t, id, t->heap[parent]))
            break;
        place(t, slot, t->heap[parent]);
        slot = parent;
    }
    place(t, slot, id);
}

static void sift_down(struct timers *t, int slot)
{
    int id = t->heap[slot];
    for (;;) {
        int child = 2 * slot + 1;
        if (child >= t->n_heap)
            break;
        if (child + 1 < t->n_heap && before(t, t->heap[child + 1], t->heap[child]))
            child++;
        if (!before(t, t->heap[child], id))
            break;
        place(t, slot, t->heap[child]);
        slot = child;
    }
    place(t, slot, id);
}

static void heap_remove(struct timers *t, int id)
{
    int slot = t->sources[id].slot;
    if (slot < 0)
        return;
    t->sources[id].slot = -1;
    t->sources[id].due = 0;
    int last = t->heap[--t->n_heap];
    if (last == id)
        return;
    place(t, slot, last);
    sift_down(t, slot);
    sift_up(t, t->sources[last].slot);
}

/* Sets the source's due time (0: out of the heap). */
static void set_due(struct timers *t, int id, int64_t due)
{
    struct source *s = &t->sources[id];
    if (due <= 0) {
        heap_remove(t, id);
        return;
    }
    s->set_at = clock_now(t->clock);
    if (s->slot < 0) {
        s->due = due;
        place(t, t->n_heap++, id);
        sift_up(t, s->slot);
        return;
    }
    bool earlier = due < s->due;
    s->due = due;
    if (earlier)
        sift_up(t, s->slot);
    else
        sift_down(t, s->slot);
}

/* ---- the API ---- */

struct timers *timers_new(struct clock *clock)
{
    struct timers *t = xcalloc(1, sizeof(*t));
    t->clock = clock;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->running, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    return t;
}

int timers_add(struct timers *t, const struct timer_source *src, int64_t first_due)
{
    if (t->n_sources == TIMERS_MAX_SOURCES || t->started)
        BT_BUG("timers_add: too many sources, or added after start");
    int id = t->n_sources++;
    t->sources[id] = (struct source){.src = *src, .due = 0, .slot = -1};
    pthread_mutex_lock(&t->lock);
    set_due(t, id, first_due);
    pthread_mutex_unlock(&t->lock);
    return id;
}

void timers_poke(struct timers *t, int id, int64_t at)
{
    if (id < 0 || id >= t->n_sources || at <= 0)
        return;
    pthread_mutex_lock(&t->lock);
    struct source *s = &t->sources[id];
    if (s->due == 0 || at < s->due) {
        set_due(t, id, at);
        pthread_cond_signal(&t->wake);
    }
    pthread_mutex_unlock(&t->lock);
}

int64_t timers_next_due(struct timers *t)
{
    pthread_mutex_lock(&t->lock);
    int64_t due = t->n_heap ? t->sources[t->heap[0]].due : 0;
    pthread_mutex_unlock(&t->lock);
    return due;
}

/* Takes the earliest source due at or before `until` out of the heap;
 * -1 when none. */
static int take_due(struct timers *t, int64_t until, int64_t *due)
{
    pthread_mutex_lock(&t->lock);
    int id = -1;
    if (t->n_heap && t->sources[t->heap[0]].due <= until) {
        id = t->heap[0];
        *due = t->sources[id].due;
        heap_remove(t, id);
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}

static bool manual(const struct timers *t)
{
    return t->clock != clock_real();
}

/* Runs source `id`, which was due at `due`, at `now` and puts it back at
 * the time it names (a poke that came while it ran wins when it is
 * earlier). *failed (may be NULL) says whether the run failed (it is then
 * due again a second later). On the real clock, how late it ran goes to
 * the metrics (a manual clock runs everything at its due time). */
static size_t run_one(struct timers *t, int id, int64_t due, int64_t now, bool *failed)
{
    struct source *s = &t->sources[id];
    if (!manual(t)) {
        unsigned slot = metrics_label_slot(&metrics.timer_sources, s->src.name);
        int64_t meant = due > s->set_at ? due : s->set_at;
        metrics_observe(&metrics.timer_lateness[slot], (now - meant) * 1000000);
    }
    int64_t next = 0;
    size_t done = 0;
    struct bt_error err = BT_ERROR_INIT;
    bool bad = s->src.run(s->src.ctx, now, &next, &done, &err) != BT_OK;
    if (bad) {
        if (err.code != BT_EBUSY)
            log_error("timers: %s failed: %s", s->src.name, err.message);
        next = now + RETRY_AFTER_ERROR_MS;
    }
    if (failed)
        *failed = bad;
    pthread_mutex_lock(&t->lock);
    if (next > 0 && (s->due == 0 || next < s->due))
        set_due(t, id, next);
    pthread_mutex_unlock(&t->lock);
    return done;
}

void timers_run_due(struct timers *t, int64_t until, size_t *ran, size_t *done_by)
{
    if (ran)
        *ran = 0;
    if (done_by)
        memset(done_by, 0, TIMERS_MAX_SOURCES * sizeof(*done_by));
    pthread_mutex_lock(&t->running);
    /* A source that fails is not run again in this call (it would be, every
     * simulated second, up to `until`): it waits, out of the heap, and goes
     * back at its retry time at the end. */
    int64_t parked[TIMERS_MAX_SOURCES] = {0};
    int64_t due;
    int id;
    while ((id = take_due(t, until, &due)) >= 0) {
        if (manual(t))
            clock_manual_advance_to(t->clock, due);
        bool failed;
        size_t done = run_one(t, id, due, clock_now(t->clock), &failed);
        if (ran)
            (*ran)++;
        if (done_by)
            done_by[id] += done;
        if (failed) {
            pthread_mutex_lock(&t->lock);
            parked[id] = t->sources[id].due;
            heap_remove(t, id);
            pthread_mutex_unlock(&t->lock);
        }
    }
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < t->n_sources; i++)
        if (parked[i] && (t->sources[i].due == 0 || parked[i] < t->sources[i].due))
            set_due(t, i, parked[i]);
    pthread_mutex_unlock(&t->lock);
    if (manual(t))
        clock_manual_advance_to(t->clock, until);
    pthread_mutex_unlock(&t->running);
}

static void *timers_main(void *arg)
{
    struct timers *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        int64_t now = clock_now(t->clock);
        int64_t due = t->n_heap ? t->sources[t->heap[0]].due : 0;
        if (due && due <= now) {
            pthread_mutex_unlock(&t->lock);
            /* Run what is due now, one source at a time, and look again. */
            pthread_mutex_lock(&t->running);
            int64_t when;
            int id = take_due(t, clock_now(t->clock), &when);
            if (id >= 0)
                run_one(t, id, when, clock_now(t->clock), NULL);
            pthread_mutex_unlock(&t->running);
            pthread_mutex_lock(&t->lock);
            continue;
        }
        int64_t sleep_ms = manual(t) ? MANUAL_SLEEP_MS : MAX_SLEEP_MS;
        if (due && !manual(t) && due - now < sleep_ms)
            sleep_ms = due - now;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += sleep_ms / 1000;
        ts.tv_nsec += (long)(sleep_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

bt_err timers_start(struct timers *t, struct bt_error *err)
{
    if (pthread_create(&t->thread, NULL, timers_main, t) != 0)
        return bt_fail(err, BT_EIO, NULL, "cannot start the timer thread");
    t->started = true;
    return BT_OK;
}

void timers_free(struct timers *t)
{
    if (!t)
        return;
    if (t->started) {
        pthread_mutex_lock(&t->lock);
        t->stopping = true;
        pthread_cond_signal(&t->wake);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
    }
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->running);
    pthread_cond_destroy(&t->wake);
    free(t);
}
