/*
 * store_models.h - predictive models in the store, and the history they are
 * trained on.
 *
 * Part of the store module (store.h holds the connection and transactions).
 * Times are ms since the epoch.
 *
 * Table (schema v11):
 *   models  one row per trained model: a unique version ("pm-" + the
 *           training time and a short hash), its kind ("trees", "additive"
 *           or "blend"), the target it predicts ("converted" ...), the
 *           training and held-out ranges and row counts, the model itself
 *           (core/predict.h's JSON), its quality report (JSON: the held-out
 *           metrics of the model, the rules-only score and the logistic
 *           regression), and whether it is the active one. At most one row
 *           is active (a partial unique index): activating one deactivates
 *           the other in the same transaction.
 */
#ifndef BT_STORE_MODELS_H
#define BT_STORE_MODELS_H

#include "core/score.h"
#include "store/store.h"

#define STORE_MODEL_VERSION_MAX 64

struct store_model {
    int64_t id;
    const char *version;
    const char *kind;
    const char *target;
    int64_t created_at;
    int64_t trained_from, trained_until; /* 0: open */
    int64_t test_from, test_until;       /* the held-out period; 0: none */
    int64_t n_train, n_test;
    const char *model;   /* JSON (core/predict.h); NULL in lists */
    const char *metrics; /* JSON object */
    bool active;
    int64_t activated_at; /* 0: never */
};

/* Inserts m (its id is set). BT_ECONFLICT when the version exists. The row
 * is inserted inactive whatever m->active says. */
bt_err store_model_insert(struct store_conn *c, struct store_model *m,
                          struct bt_error *err) BT_MUST_USE;
/* BT_ENOTFOUND when there is no such model. */
bt_err store_model_get(struct store_conn *c, int64_t id, struct arena *a, struct store_model *out,
                       struct bt_error *err) BT_MUST_USE;
bt_err store_model_get_by_version(struct store_conn *c, const char *version, struct arena *a,
                                  struct store_model *out, struct bt_error *err) BT_MUST_USE;
/* The active model; BT_ENOTFOUND when none is active. */
bt_err store_model_active(struct store_conn *c, struct arena *a, struct store_model *out,
                          struct bt_error *err) BT_MUST_USE;
/* Every model, newest first, without the model JSON (model is NULL). */
bt_err store_model_list(struct store_conn *c, struct arena *a, struct store_model **out,
                        size_t *count, struct bt_error *err) BT_MUST_USE;
/* Makes model `id` the active one (and no other); BT_ENOTFOUND when absent.
 * Call inside a transaction. */
bt_err store_model_activate(struct store_conn *c, int64_t id, int64_t now,
                            struct bt_error *err) BT_MUST_USE;
/* No model active (the rules-only score). */
bt_err store_model_deactivate(struct store_conn *c, struct bt_error *err) BT_MUST_USE;

/*
 * The history models learn from: every lead created in [since, until) (0:
 * open) whose label for `target` is known, in order of qualification time,
 * each as it was when it qualified:
 *   qualified_at  lead_funnel.mql_at, else the lead's created_at (imported
 *                 history that never passed through qualification);
 *   label         target "converted": 1 when the lead reached won, 0 when it
 *                 reached lost or disqualified; target "sql": 1 when it
 *                 reached sql (or opportunity or won), 0 when it was lost,
 *                 disqualified or rejected without reaching sql. Leads still
 *                 open are not labelled and not given;
 *   outcome_at    when the label became known;
 *   acts          only the activities that occurred at or before
 *                 qualified_at (no feature may use what was known later).
 * The row and everything it points to live in `scratch`, which is reset
 * between rows: copy what must outlive the call. fn returning an error
 * stops the walk with that error.
 */
struct store_history_row {
    struct lead lead;
    int64_t qualified_at;
    int64_t outcome_at;
    int label; /* 0 or 1 */
    bool has_value;
    double value; /* the won deal's value, when known */
    const struct activity *acts;
    size_t n_acts;
};

typedef bt_err (*store_history_fn)(void *cls, const struct store_history_row *row,
                                   struct bt_error *err);

bt_err store_history_each(struct store_conn *c, const char *target, int64_t since, int64_t until,
                          struct arena *scratch, store_history_fn fn, void *cls,
                          struct bt_error *err) BT_MUST_USE;

#endif
