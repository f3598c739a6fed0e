/*
 * timers.h - deadlines that move leads without anyone asking.
 *
 * The timers run deadline sources. A source is a kind of work that falls due
 * with time (score decay, the hold queue, and next the SLA deadlines of
 * assignments): it knows when it is next due, and does what is due when it
 * is run. The timers keep, per source, that next due time in a min-heap, and
 * run the nearest when it comes:
 *
 *   - on the real clock a thread sleeps until the nearest due time (at most
 *     a minute, so that a clock set forward is noticed);
 *   - timers_poke() moves a source earlier when something makes it due
 *     sooner (a command set a rescore time, a status `until`, a reload) and
 *     wakes the thread;
 *   - timers_run_due() runs, in order of due time, every source due up to a
 *     given instant. With a manual clock (tests, simulation) it moves the
 *     clock to each due time before running that source, so that every
 *     deadline is processed at its own time, in order: POST /v1/admin/clock
 *     calls it before it answers.
 *
 * Only one runner runs sources at a time (the thread or a timers_run_due()
 * caller); a source's run() is called with no timers lock held, so it may
 * block on the engine and may poke.
 *
 * The daemon's sources are made by deadlines_start() (timers/deadlines.h).
 */
#ifndef BT_TIMERS_H
#define BT_TIMERS_H

#include "util/err.h"
#include "util/timeutil.h"

#include <stddef.h>
#include <stdint.h>

struct timers;

struct timer_source {
    const char *name; /* for the log */
    /*
     * Does the work due at `now` and sets *next: when the source is next due
     * (0: not until it is poked; <= now: at once again, e.g. a batch of work
     * remains) and *done: how many items it processed. An error is logged and
     * the source is tried again a second later.
     */
    bt_err (*run)(void *ctx, int64_t now, int64_t *next, size_t *done, struct bt_error *err);
    void *ctx;
};

#define TIMERS_MAX_SOURCES 8

/* Timers on `clock` (real or manual); no thread yet. */
struct timers *timers_new(struct clock *clock);
/* Stops the thread if started and frees. timers_free(NULL) does nothing. */
void timers_free(struct timers *t);

/* Registers a source (copied), first due at `first_due` (0: when poked);
 * returns its id. At most TIMERS_MAX_SOURCES; before timers_start(). */
int timers_add(struct timers *t, const struct timer_source *src, int64_t first_due);

/* The source is due at `at` if that is earlier than it was (thread-safe). */
void timers_poke(struct timers *t, int id, int64_t at);

/* The nearest due time of any source, 0 when none is due ever. */
int64_t timers_next_due(struct timers *t);

/*
 * Runs every source due at or before `until`, earliest first (a source that
 * is due again before `until` runs again, in order; one that fails is not
 * run again in this call, and is due a second after its failure). With a
 * manual clock the clock is moved to each due time first, and to `until`
 * at the end. *ran
 * (may be NULL) counts the runs, *done_by (may be NULL, TIMERS_MAX_SOURCES
 * entries, zeroed here) what each source processed.
 */
void timers_run_due(struct timers *t, int64_t until, size_t *ran, size_t *done_by);

/* Starts the thread that runs due sources on the clock. */
bt_err timers_start(struct timers *t, struct bt_error *err) BT_MUST_USE;

#endif
