/*
 * dataset.h - the history a model learns from, as features known when each
 * lead qualified.
 *
 * dataset_load() walks store_history_each() and keeps, per labelled lead, a
 * copy of the lead, its qualification time, its label and the activity
 * facts of the activities at or before the qualification time (the walk
 * already cuts them; the copy cuts again, so a later activity can never
 * reach a feature). dataset_spec() derives the feature specification from
 * the first rows (the training period only): lead attributes, custom fields
 * (numeric when every present value is a number, else one indicator per
 * value seen at least min_count times) and engagement aggregates
 * (activity.TYPE.count, activity.TYPE.last_days). dataset_matrix() builds
 * the feature matrix with core/predict.h's predict_features(): the same
 * code the daemon scores with, so training and serving cannot disagree.
 *
 * Leakage: dataset_spec_check() refuses every source
 * predict_feature_source_allowed() refuses (stage, owner, score ...) and
 * every source the caller excludes (fields that record the outcome).
 */
#ifndef BT_ML_DATASET_H
#define BT_ML_DATASET_H

#include "core/predict.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define DATASET_ROWS_MAX       5000000
#define DATASET_EXCLUDE_MAX    64
#define DATASET_CATEGORIES_MAX 64 /* indicators of one source */

struct dataset_row {
    struct lead lead;
    int64_t qualified_at;
    int label;
    const struct activity_fact *facts;
    size_t n_facts;
    const struct activity *acts; /* those at or before qualified_at (copies) */
    size_t n_acts;
};

/* Rows in qualification order; everything they point to lives in arena. */
struct dataset {
    struct arena arena;
    struct dataset_row *rows;
    size_t n, cap;
    size_t positives;
};

void dataset_init(struct dataset *ds);
void dataset_release(struct dataset *ds);

/* Appends the lead as a row (copied), with the facts of its activities at
 * or before qualified_at only. */
bt_err dataset_add(struct dataset *ds, const struct lead *lead, int64_t qualified_at, int label,
                   const struct activity *acts, size_t n_acts, struct bt_error *err) BT_MUST_USE;

/* Every labelled lead created in [since, until) (0: open) for `target`. */
bt_err dataset_load(struct store_conn *c, const char *target, int64_t since, int64_t until,
                    struct dataset *ds, struct bt_error *err) BT_MUST_USE;

struct dataset_spec_options {
    size_t min_count;           /* a category needs this many rows; 0: 20 */
    const char *const *exclude; /* sources never used, e.g. "fields.converted" */
    size_t n_exclude;
};

/* BT_EINVAL naming the first feature a model may not read. */
bt_err dataset_spec_check(const struct predict_feature *f, size_t n,
                          const struct dataset_spec_options *o, struct bt_error *err) BT_MUST_USE;

/* The feature specification from rows [0, n_rows), into the arena. */
bt_err dataset_spec(const struct dataset *ds, size_t n_rows, const struct dataset_spec_options *o,
                    struct arena *a, struct predict_feature **out, size_t *n_out,
                    struct bt_error *err) BT_MUST_USE;

/* The ds->n x n_features matrix (row-major, NaN missing) into x. */
bt_err dataset_matrix(const struct dataset *ds, const struct predict_feature *f, size_t n_features,
                      float *x, struct bt_error *err) BT_MUST_USE;

#endif
