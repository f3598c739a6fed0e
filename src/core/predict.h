/*
 * predict.h - the predictive score: p(convert) for a lead, with the factors
 * that moved it, from a model trained on the company's own history.
 *
 * A model is a margin (log-odds) made of two additive parts and a
 * calibration:
 *
 *   margin = base + sum over trees of the leaf reached
 *                 + sum over terms of the term's step at the feature's value
 *   p      = calibration(margin)
 *
 * - Trees are gradient-boosted trees as XGBoost trains them, in Baton's own
 *   flat form: a node sends x[feature] < threshold (compared in float, as
 *   XGBoost does) to `yes`, otherwise to `no`, and a missing value (NaN) to
 *   `missing`. The base and the leaves are summed in float in tree order,
 *   as XGBoost sums them, so walking them here gives XGBoost's own margin
 *   within 1e-6; the trainer checks that on its validation rows before
 *   storing a model.
 * - Terms are a generalised additive model: each term is a step function of
 *   one feature (ascending edges; value v falls in bin i when
 *   edges[i-1] <= v < edges[i]; NaN has its own weight). It is what the
 *   regularised logistic regression over binned features becomes, so a
 *   linear model explains itself the same way as the trees. A trainer that
 *   blends the two scales leaf values and term weights by the blend weights:
 *   the blend is still one margin.
 * - Calibration maps the margin to a probability: Platt (p = 1 / (1 +
 *   exp(-(a * margin + b)))) or isotonic (a non-decreasing step table over
 *   the margin, fitted on held-out rows, linearly interpolated between
 *   points, clamped at the ends).
 *
 * Features are numbers read from the lead the way rules read it (the lead
 * paths of score.h: attributes, fields.NAME, activity.TYPE.count,
 * activity.TYPE.last_days ...). A numeric feature is the path's number (a
 * boolean is 0 or 1; a string that parses as a number is that number); a
 * category feature is 1 when the path's lower-cased string equals
 * `category`, 0 when it is another value, and missing (NaN) when the path
 * is missing. A missing number is NaN.
 *
 * Leakage: a model may only read what was known when the lead qualified.
 * predict_feature_source_allowed() refuses the paths known only later (stage,
 * owner, score, fit, engagement, grade, account owner ...); the trainer
 * builds activity facts only from activities up to the lead's qualification
 * time, and refuses fields the configuration names as outcomes.
 *
 * Contributions: predict_explain() splits the margin into one part per
 * feature (for trees, the path's changes of the node's expected value are
 * credited to the feature split on - XGBoost's "approximate" contributions;
 * for terms, the step's weight less the term's mean over the training rows),
 * so that bias + sum(contributions) == margin (summed in double, so equal
 * to the margin within float rounding: 1e-5 for 5,000 trees).
 *
 * Pure: no I/O, no clock. A model is immutable once built and shared by
 * threads; prediction allocates nothing.
 *
 * JSON form (predict_model_to_json / predict_model_from_json):
 *   {"format": "baton-predict-1",
 *    "features": [{"source": "fields.job", "kind": "category", "category": "admin."},
 *                 {"source": "employees", "kind": "numeric"}, ...],
 *    "base": -1.2,
 *    "trees": [{"nodes": [[feature, threshold, yes, no, missing, value, cover],
 *                         [-1, null, -1, -1, -1, value, cover], ...]}, ...],
 *    "terms": [{"feature": 3, "edges": [..], "weights": [..], "missing_weight": w,
 *               "mean": m}, ...],
 *    "calibration": {"kind": "none"} | {"kind": "platt", "a": a, "b": b}
 *                 | {"kind": "isotonic", "margin": [..], "p": [..]}}
 * A tree's first node is its root; yes/no/missing index the tree's own
 * nodes (in memory they are absolute in the model's node array) and must
 * come after their parent, so every walk ends. A leaf is
 * [-1, null, -1, -1, -1, value, cover]. Every key is required.
 */
#ifndef BT_CORE_PREDICT_H
#define BT_CORE_PREDICT_H

#include "core/lead.h"
#include "core/score.h"
#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREDICT_FEATURES_MAX    4096
#define PREDICT_TREES_MAX       5000
#define PREDICT_NODES_MAX       (1u << 22) /* nodes of all trees together */
#define PREDICT_EDGES_MAX       256        /* edges of one term */
#define PREDICT_CALIBRATION_MAX 1024       /* points of an isotonic table */
#define PREDICT_NAME_MAX        200        /* bytes of a feature's source or category */

enum predict_feature_kind {
    PREDICT_NUMERIC,  /* the path's number */
    PREDICT_CATEGORY, /* 1 when the path's lower-cased text equals `category` */
};

struct predict_feature {
    const char *source; /* a lead path (score.h), e.g. "fields.job", "employees" */
    enum predict_feature_kind kind;
    const char *category; /* PREDICT_CATEGORY: the value, lower-cased; else NULL */
};

/* One node of a tree. A leaf has feature -1 and its value in `value`. */
struct predict_node {
    int32_t feature;          /* index into features, or -1 for a leaf */
    float threshold;          /* x < threshold goes to yes */
    int32_t yes, no, missing; /* node indices, absolute in the model's node array */
    double value; /* leaf: its value; inner node: the cover-weighted mean of its leaves */
    double cover; /* the training weight (hessian sum) that reached the node */
};

/* One term of the additive part: a step function of one feature. */
struct predict_term {
    int32_t feature;
    size_t n_edges;
    const double *edges;   /* n_edges, ascending */
    const double *weights; /* n_edges + 1 bins */
    double missing_weight; /* when the feature is NaN */
    double mean;           /* mean weight over the training rows (for contributions) */
};

enum predict_calibration_kind {
    PREDICT_CALIBRATION_NONE,     /* p = logistic(margin) */
    PREDICT_CALIBRATION_PLATT,    /* p = logistic(a * margin + b) */
    PREDICT_CALIBRATION_ISOTONIC, /* p from the table */
};

struct predict_calibration {
    enum predict_calibration_kind kind;
    double a, b;     /* Platt */
    size_t n_points; /* isotonic: points (margin ascending, p non-decreasing) */
    const double *margin;
    const double *p;
};

struct predict_model {
    size_t n_features;
    const struct predict_feature *features;
    double base; /* margin before any tree or term */
    size_t n_trees;
    const uint32_t *roots; /* n_trees node indices */
    size_t n_nodes;
    const struct predict_node *nodes;
    size_t n_terms;
    const struct predict_term *terms;
    struct predict_calibration calibration;
    /* The trees prepared for a fast walk by predict_model_prepare(), or NULL:
     * predict_margin() and predict_explain() then walk `nodes` directly, with
     * the same results. */
    const struct predict_fast *fast;
};

/*
 * Prepares a checked model's trees for a fast walk (a compact copy of the
 * nodes in `arena`, leaves looping to themselves so that every tree is
 * walked a fixed number of steps without a branch per node, several trees
 * at once). Call it last, once the model is complete: the copy does not
 * follow later changes. predict_model_from_json() and the XGBoost
 * conversion call it; a model it cannot speed up (a tree deeper than 32, a
 * missing branch that is neither yes nor no) keeps fast NULL and still
 * predicts. BT_ETOOBIG when the arena is full.
 */
struct predict_fast;
bt_err predict_model_prepare(struct predict_model *m, struct arena *arena) BT_MUST_USE;

/* False for a path a model may not read (known only after qualification, or
 * not a lead path at all); `why` names the reason. */
bool predict_feature_source_allowed(const char *source, const char **why);

/*
 * Checks a model built in memory (by the trainer or the JSON reader): indices
 * in range, every tree acyclic and reaching leaves within its node range,
 * edges ascending, calibration well formed, every source allowed, bounds
 * above. BT_EINVAL with the first problem in err.
 */
bt_err predict_model_check(const struct predict_model *m, struct bt_error *err) BT_MUST_USE;

/*
 * The model as JSON (for the store and `baton model show`), and back. The
 * reader is strict (unknown keys, wrong types, out-of-range values and
 * everything predict_model_check() refuses are BT_EINVAL with a message) and
 * builds the model in `arena`, which must outlive it. Numbers are written so
 * that a round trip gives the same doubles (17 significant digits).
 */
json_t *predict_model_to_json(const struct predict_model *m);
bt_err predict_model_from_json(const json_t *j, struct arena *arena, struct predict_model *out,
                               struct bt_error *err) BT_MUST_USE;

/*
 * The feature vector of a lead (m->n_features floats into x) from its
 * attributes and its activity facts as of `at` (the caller passes facts of
 * the activities up to `at` only; days are counted to `at`). The arena is
 * scratch for lower-casing and reading fields.
 */
bt_err predict_features(const struct predict_model *m, const struct lead *lead,
                        const struct activity_fact *facts, size_t n_facts, int64_t at,
                        struct arena *arena, float *x) BT_MUST_USE;

/* The margin of a feature vector, and the calibrated probability in [0, 1]. */
double predict_margin(const struct predict_model *m, const float *x);
double predict_probability(const struct predict_model *m, double margin);

/*
 * The margin split per feature: contributions[i] for feature i (n_features
 * doubles, zeroed first) and *bias, with *bias + sum == the margin.
 */
void predict_explain(const struct predict_model *m, const float *x, double *contributions,
                     double *bias);

#define PREDICT_FACTORS_MAX 5

/* One factor of a prediction, for the score's reasons: a feature and how far
 * it moved the margin (positive: towards conversion). */
struct predict_factor {
    const char *feature; /* e.g. "fields.poutcome=success" or "employees" (in the arena) */
    double contribution; /* in log-odds */
    double value;        /* the feature's value (NaN: missing) */
};

struct predict_result {
    double probability; /* calibrated, 0..1 */
    double margin;
    size_t n_positive, n_negative;
    struct predict_factor positive[PREDICT_FACTORS_MAX]; /* largest first */
    struct predict_factor negative[PREDICT_FACTORS_MAX]; /* most negative first */
};

/*
 * Everything for one lead: features, probability, and the top positive and
 * negative factors (contributions of the same source are summed, so that a
 * category's indicators count as one factor named "source=value" after the
 * lead's value). `x` and `contrib` are caller scratch of n_features each.
 */
bt_err predict_lead(const struct predict_model *m, const struct lead *lead,
                    const struct activity_fact *facts, size_t n_facts, int64_t at,
                    struct arena *arena, float *x, double *contrib,
                    struct predict_result *out) BT_MUST_USE;

/*
 * A prepared reader of one model's features: the model's sources bound to
 * slots once, so that reading a lead costs one score_fill_lead() and no
 * setup (predict_features() and predict_lead() build one per call). It
 * borrows the model, which must outlive it; it is immutable once made and
 * may be shared by threads. BT_EINVAL when a source is not a lead path
 * (a checked model has none).
 */
struct predict_reader;
bt_err predict_reader_new(const struct predict_model *m, struct predict_reader **out,
                          struct bt_error *err) BT_MUST_USE;
void predict_reader_free(struct predict_reader *r);
/* predict_features() and predict_lead() through a prepared reader. */
bt_err predict_reader_features(const struct predict_reader *r, const struct lead *lead,
                               const struct activity_fact *facts, size_t n_facts, int64_t at,
                               struct arena *arena, float *x) BT_MUST_USE;
bt_err predict_reader_lead(const struct predict_reader *r, const struct lead *lead,
                           const struct activity_fact *facts, size_t n_facts, int64_t at,
                           struct arena *arena, float *x, double *contrib,
                           struct predict_result *out) BT_MUST_USE;

#endif
