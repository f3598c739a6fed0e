/*
 * evalmetrics.h - how good a probability is, measured on held-out rows, and
 * the calibrations fitted from them.
 *
 * Every function takes n predictions p[i] in [0, 1] (or margins, for the
 * fits) with labels y[i] (0 or 1); every row counts once.
 *   ROC-AUC     the probability that a random positive ranks above a random
 *               negative, ties counting one half (computed from ranks).
 *   PR-AUC      average precision: the mean of the precision at each
 *               positive, in order of decreasing p (ties as one block).
 *   Brier       mean of (p - y)^2.
 *   log loss    mean of -(y log p + (1 - y) log (1 - p)), p clamped to
 *               [1e-15, 1 - 1e-15].
 *   lift        rows sorted by p descending and cut into 10 deciles (as equal
 *               as n allows); each decile's rate of positives over the
 *               overall rate, with its count and its rate.
 *   calibration 10 bins of equal width over p; each bin's count, mean p and
 *               rate of positives.
 * A set with no positive or no negative has no AUC: the functions return NaN
 * there (and the report says so) rather than a number that means nothing.
 *
 * Errors: a NaN prediction or margin is BT_EINVAL, as is (for eval_report)
 * a prediction outside [0, 1], an empty set or one class only for Platt,
 * and an empty set or max_points 0 for isotonic; BT_ETOOBIG when the arena
 * runs out.
 *
 * Pure; the functions that sort allocate in the caller's arena.
 */
#ifndef BT_CORE_EVALMETRICS_H
#define BT_CORE_EVALMETRICS_H

#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define EVAL_BINS 10

struct eval_bin {
    size_t count;
    size_t positives;
    double mean_p; /* mean prediction of the bin's rows */
    double rate;   /* positives / count (0 when empty) */
    double lift;   /* deciles: rate / overall rate */
};

struct eval_report {
    size_t n, positives;
    double base_rate;
    double roc_auc, pr_auc, brier, log_loss;
    struct eval_bin deciles[EVAL_BINS];     /* by predicted rank, highest first */
    struct eval_bin calibration[EVAL_BINS]; /* by predicted value, [0, 0.1) first */
};

bt_err eval_roc_auc(const double *p, const uint8_t *y, size_t n, struct arena *a,
                    double *out) BT_MUST_USE;
bt_err eval_pr_auc(const double *p, const uint8_t *y, size_t n, struct arena *a,
                   double *out) BT_MUST_USE;
double eval_brier(const double *p, const uint8_t *y, size_t n);
double eval_log_loss(const double *p, const uint8_t *y, size_t n);

/* All of the above at once. */
bt_err eval_report(const double *p, const uint8_t *y, size_t n, struct arena *a,
                   struct eval_report *out) BT_MUST_USE;

/* The report as JSON: {"n","positives","base_rate","roc_auc","pr_auc","brier",
 * "log_loss","deciles":[{"decile","count","rate","lift","mean_p"}],
 * "calibration":[{"from","to","count","mean_p","rate"}]}; NaN as null. */
json_t *eval_report_to_json(const struct eval_report *r);

/* Platt scaling: a, b minimising the log loss of logistic(a * m + b) over
 * the rows (Newton's method with Platt's smoothed targets). */
bt_err eval_fit_platt(const double *margin, const uint8_t *y, size_t n, double *a,
                      double *b) BT_MUST_USE;

/* Isotonic regression (pool adjacent violators) of y on the margin: at most
 * max_points points, margins ascending, p non-decreasing, into the arena. */
bt_err eval_fit_isotonic(const double *margin, const uint8_t *y, size_t n, size_t max_points,
                         struct arena *a, double **margins, double **ps,
                         size_t *n_points) BT_MUST_USE;

#endif
