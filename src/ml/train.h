/*
 * train.h - trains the predictive model on the company's own history and
 * measures it on a held-out period.
 *
 * The recipe (every choice on a time-ordered validation split inside the
 * training period, never on the held-out rows):
 *   1. split by qualification time: the last test_fraction of the labelled
 *      leads (or those qualified from test_from) are held out; the last
 *      VALID_FRACTION of the rest is the validation split;
 *   2. a regularised logistic regression (liblinear, L2) over binned
 *      features: numbers cut at TRAIN_BINS quantiles of the training rows,
 *      every bin and "missing" one indicator, one indicator per category
 *      value, the intercept in effect unpenalised; its C chosen on
 *      validation. Exactly an additive model (predict.h terms);
 *   3. gradient-boosted trees (XGBoost, binary:logistic) boosted from the
 *      additive model's margins (base_margin: they learn what the terms
 *      miss) with early stopping on the validation split; a plain XGBoost
 *      is trained the same way as a baseline for the report only;
 *   4. how much of the trees to add (margin = terms + (1 - blend) x trees;
 *      blend 1: the additive model only, tried first so ties keep it)
 *      chosen on validation;
 *   5. both refitted on the whole training period with the chosen settings
 *      (the latest history matters most when the market drifts), the trees
 *      from the refitted terms' margins, Platt-calibrated on validation;
 *   6. the flat trees checked equal to XGBoost's own margins (1e-6) and the
 *      model, the plain logistic regression (one-hot, standardised) and the
 *      trees alone (and, with options.rules, the rules score) evaluated on
 *      the held-out period.
 * Too little history (min_labelled rows or min_per_class of either class in
 * the training period) is BT_EINVAL naming the numbers.
 */
#ifndef BT_ML_TRAIN_H
#define BT_ML_TRAIN_H

#include "core/score.h"
#include "ml/dataset.h"
#include "store/store_models.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRAIN_BINS 10

typedef void (*train_progress_fn)(void *cls, const char *stage, double fraction);

struct train_options {
    const char *target;   /* "converted" (default) or "sql" */
    int64_t since, until; /* created_at range; 0: open */
    double test_fraction; /* 0: 0.2 */
    int64_t test_from;    /* when set, held out = qualified at or after */
    size_t min_labelled;  /* 0: 1000 */
    size_t min_per_class; /* 0: 100 */
    const char *const *exclude;
    size_t n_exclude;
    int threads; /* 0: 2 */
    uint64_t seed;
    int64_t now; /* ms: the model's creation time and version */
    train_progress_fn progress;
    void *progress_cls;
    /* The configuration's rules score, evaluated next to the model on the
     * held-out period (the score at qualification over the activities known
     * then, mapped to 0..1 by Platt scaling on the validation split);
     * NULL: "rules" is null in the report. */
    const struct score_model *rules;
};

#define TRAIN_OPTIONS_INIT                                                                         \
    {                                                                                              \
        "converted", 0, 0, 0.2, 0, 1000, 100, NULL, 0, 2, 1, 0, NULL, NULL, NULL                   \
    }

struct train_result {
    struct store_model model; /* ready for store_model_insert(); strings in arena */
    double test_auc, logistic_auc, xgboost_auc;
    double blend; /* weight of the additive part */
    double seconds;
};

/* Trains from the store's history; result strings live in `arena`. */
bt_err train_run(struct store_conn *c, const struct train_options *o, struct arena *arena,
                 struct train_result *out, struct bt_error *err) BT_MUST_USE;

/* The same on a dataset already loaded (tests, bench). */
bt_err train_dataset(const struct dataset *ds, const struct train_options *o, struct arena *arena,
                     struct train_result *out, struct bt_error *err) BT_MUST_USE;

#endif
