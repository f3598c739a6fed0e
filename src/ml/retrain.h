/*
 * retrain.h - background retraining (predictive.retrain_every).
 *
 * A thread of its own, off the writer, with its own store connection: every
 * `interval_ms` it trains (ml/train.h) on the history, stores the model and
 * activates it when it is not worse than the active one on the same
 * held-out period (its held-out ROC-AUC at least the active model's; any
 * model is better than none), then calls `on_activate` so the daemon
 * reloads it. A failed run (too little history ...) is logged through
 * `on_error` and retried at the next interval.
 */
#ifndef BT_ML_RETRAIN_H
#define BT_ML_RETRAIN_H

#include "ml/train.h"
#include "store/store.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdint.h>

struct retrain;

struct retrain_options {
    int64_t interval_ms;
    struct train_options train; /* its now is set at each run */
    void (*on_activate)(void *cls, int64_t model_id);
    void (*on_error)(void *cls, const struct bt_error *err);
    void *cls;
};

/*
 * One run on `c` now: trains, stores, activates when not worse. *activated
 * tells whether it did; *model_id is the stored model's id.
 */
bt_err retrain_once(struct store_conn *c, const struct train_options *o, bool *activated,
                    int64_t *model_id, struct bt_error *err) BT_MUST_USE;

/* Starts the thread; the first run is one interval after the start. */
bt_err retrain_start(struct store *st, const struct retrain_options *o, struct retrain **out,
                     struct bt_error *err) BT_MUST_USE;
/* Stops it (waits for a run in progress to end) and frees it; NULL: nothing. */
void retrain_stop(struct retrain *r);

#endif
