/*
 * lr_fit.c - liblinear behind a small interface (see lr_fit.h for why it is
 * apart). The intercept is an explicit column of value LR_BIAS_VALUE:
 * liblinear 2.30 regularises it like any weight, and the large value makes
 * the penalty on the intercept (weight x value) LR_BIAS_VALUE^2 times
 * smaller, so it is in effect unpenalised (as in most references). The
 * solver's tolerance is tighter than liblinear's default: the fit is small.
 */
#include "ml/lr_fit.h"

#include "util/err.h"

#include <linear.h>
#include <stdlib.h>
#include <string.h>

#define LR_BIAS_VALUE 10.0
#define LR_EPS        0.0001

static void silent(const char *s)
{
    (void)s;
}

/*
 * Fits an L2 logistic regression on `rows` rows whose nonzero columns are
 * given by cols (row-major, per_row each, 0-based, value `vals` or 1) and
 * returns n_cols + 1 weights (the last is the intercept) for class 1.
 */
double *lr_fit_l2(const size_t *cols, const double *vals, size_t per_row, size_t n_cols,
                  const int *y, size_t rows, double C)
{
    struct feature_node *nodes = xcalloc(rows * (per_row + 2), sizeof(*nodes));
    struct feature_node **xs = xcalloc(rows, sizeof(*xs));
    double *ys = xcalloc(rows, sizeof(double));
    for (size_t r = 0; r < rows; r++) {
        struct feature_node *n = nodes + r * (per_row + 2);
        xs[r] = n;
        size_t k = 0;
        for (size_t j = 0; j < per_row; j++) {
            double v = vals ? vals[r * per_row + j] : 1.0;
            if (v == 0.0)
                continue;
            n[k].index = (int)cols[r * per_row + j] + 1;
            n[k].value = v;
            k++;
        }
        n[k].index = (int)n_cols + 1; /* the bias column */
        n[k].value = LR_BIAS_VALUE;
        n[k + 1].index = -1;
        ys[r] = y[r] ? 1.0 : -1.0;
    }
    struct problem prob = {(int)rows, (int)n_cols + 1, ys, xs, -1.0};
    struct parameter param;
    memset(&param, 0, sizeof(param));
    param.solver_type = L2R_LR;
    param.eps = LR_EPS;
    param.C = C;
    set_print_string_function(silent);
    struct model *m = train(&prob, &param);
    double *w = xcalloc(n_cols + 1, sizeof(double));
    double sign = m->label[0] == 1 ? 1.0 : -1.0;
    for (size_t j = 0; j < n_cols; j++)
        w[j] = sign * m->w[j];
    w[n_cols] = sign * m->w[n_cols] * LR_BIAS_VALUE;
    free_and_destroy_model(&m);
    free(nodes);
    free(xs);
    free(ys);
    return w;
}
