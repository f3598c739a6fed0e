/*
 * lr_fit.h - an L2-regularised logistic regression fitted with liblinear.
 *
 * Its own file because liblinear's <linear.h> declares a global
 * predict_probability() that clashes with core/predict.h's: nothing that
 * includes predict.h may include linear.h.
 */
#ifndef BT_ML_LR_FIT_H
#define BT_ML_LR_FIT_H

#include <stddef.h>

/*
 * Fits on `rows` rows, each with per_row nonzero entries: column cols[r *
 * per_row + j] (0-based, < n_cols) with value vals[...] (NULL: all 1; zeros
 * are skipped), labels y (0/1), cost C. Returns n_cols + 1 weights for
 * class 1 (the last is the intercept), malloc'd: the caller frees.
 */
double *lr_fit_l2(const size_t *cols, const double *vals, size_t per_row, size_t n_cols,
                  const int *y, size_t rows, double C);

#endif
