/*
 * store_replay.h - the stored history `baton simulate` replays: every lead
 * created in a range, oldest first, with its activities and its first
 * routing decision.
 *
 * Part of the store module (store.h holds the connection). Read-only: the
 * walk runs inside one read transaction, so it sees one snapshot of the
 * file even while `baton serve` writes to it (open the store with
 * store_options.read_only to make sure nothing is ever written). Times are
 * ms since the epoch.
 *
 * SQLite only for now: on another backend the walk is BT_EUNSUPPORTED.
 */
#ifndef BT_STORE_REPLAY_H
#define BT_STORE_REPLAY_H

#include "core/lead.h"
#include "core/score.h" /* struct activity */
#include "store/store.h"
#include "store/store_routing.h"

#include <stdbool.h>
#include <stdint.h>

/* Activities per lead the walk reads at most (the newest ones), as the
 * daemon scores with. */
#define STORE_REPLAY_ACTIVITIES_MAX 1000

struct store_replay_lead {
    struct lead lead;            /* as stored now: its latest score, stage and owner */
    const struct activity *acts; /* every activity, newest first */
    size_t n_acts;
    /* The lead's first routing decision (the one intake made), if any,
     * without its record (decision.record is NULL), and what the replay
     * compares from that record: its "sla"."policy", "hold_reason" and
     * "summary" (NULL when absent). */
    bool decided;
    struct store_decision decision;
    const char *sla_policy, *hold_reason, *summary;
};

/* Called per lead; everything in `row` lives in the walk's scratch arena,
 * reset between rows. An error stops the walk with that error. */
typedef bt_err (*store_replay_fn)(void *cls, const struct store_replay_lead *row,
                                  struct bt_error *err);

/*
 * Walks the leads created in [since, until) (0: open), in created order
 * (ties by id), at most `limit` of them (0: all). *count is set to the
 * number of leads given to fn. BT_ESTORE on a database error.
 */
bt_err store_replay_each(struct store_conn *c, int64_t since, int64_t until, uint64_t limit,
                         store_replay_fn fn, void *cls, uint64_t *count,
                         struct bt_error *err) BT_MUST_USE;

/* How many leads were created in [since, until) (for a progress figure). */
bt_err store_replay_count(struct store_conn *c, int64_t since, int64_t until, int64_t *count,
                          struct bt_error *err) BT_MUST_USE;

#endif
