/*
 * train.c - the trainer (see train.h for the recipe).
 *
 * Built around one dense float matrix of the features as of qualification
 * (dataset_matrix, the daemon's own feature code); the binned design for
 * liblinear and the DMatrix for XGBoost are views of it. The final model is
 * one predict_model: the terms, the trees (boosted from the terms' margins)
 * scaled by (1 - blend), and Platt scaling fitted on the validation split.
 */
#include "ml/train.h"

#include "core/evalmetrics.h"
#include "ml/lr_fit.h"
#include "ml/xgb_model.h"
#include "util/crypto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xgboost/c_api.h>

#define VALID_FRACTION 0.2
#define XGB_ROUNDS_MAX 1000
#define XGB_PATIENCE   50

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct train_options *o, const char *stage, double f)
{
    if (o->progress)
        o->progress(o->progress_cls, stage, f);
}

static double logistic(double m)
{
    return 1.0 / (1.0 + exp(-m));
}

/* ---- the binned design ---- */

struct binning {
    size_t nf;
    size_t *n_edges;
    double **edges;
    size_t *col0; /* first column of feature i (0-based); bins then missing */
    size_t n_cols;
};

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static void binning_free(struct binning *b)
{
    if (b->edges)
        for (size_t i = 0; i < b->nf; i++)
            free(b->edges[i]);
    free(b->edges);
    free(b->n_edges);
    free(b->col0);
    memset(b, 0, sizeof(*b));
}

/* Edges at the quantiles of each numeric feature over rows [0, rows). */
static void binning_fit(struct binning *b, const struct predict_feature *f, size_t nf,
                        const float *x, size_t rows)
{
    b->nf = nf;
    b->n_edges = xcalloc(nf, sizeof(size_t));
    b->edges = xcalloc(nf, sizeof(double *));
    b->col0 = xcalloc(nf, sizeof(size_t));
    float *v = xcalloc(rows, sizeof(float));
    size_t col = 0;
    for (size_t j = 0; j < nf; j++) {
        b->edges[j] = xcalloc(TRAIN_BINS + 1, sizeof(double));
        if (f[j].kind == PREDICT_CATEGORY) {
            b->edges[j][0] = 0.5;
            b->n_edges[j] = 1;
        } else {
            size_t n = 0;
            for (size_t r = 0; r < rows; r++)
                if (!isnan(x[r * nf + j]))
                    v[n++] = x[r * nf + j];
            qsort(v, n, sizeof(float), compare_float);
            size_t ne = 0;
            for (size_t k = 1; n && k < TRAIN_BINS; k++) {
                double e = v[(n * k) / TRAIN_BINS];
                /* an edge at the minimum makes an empty bin */
                if (e > v[0] && (ne == 0 || e > b->edges[j][ne - 1]))
                    b->edges[j][ne++] = e;
            }
            b->n_edges[j] = ne;
        }
        b->col0[j] = col;
        col += b->n_edges[j] + 2;
    }
    b->n_cols = col;
    free(v);
}

static size_t binning_column(const struct binning *b, size_t j, float value)
{
    if (isnan(value))
        return b->col0[j] + b->n_edges[j] + 1;
    size_t k = 0;
    double d = value;
    while (k < b->n_edges[j] && d >= b->edges[j][k])
        k++;
    return b->col0[j] + k;
}

static size_t *binned_columns(const struct binning *b, const float *x, size_t from, size_t to)
{
    size_t *cols = xcalloc((to - from) * b->nf, sizeof(size_t));
    for (size_t r = from; r < to; r++)
        for (size_t j = 0; j < b->nf; j++)
            cols[(r - from) * b->nf + j] = binning_column(b, j, x[r * b->nf + j]);
    return cols;
}

/*
 * The values of the binned design: 1, except a category's "absent" column
 * (0, so liblinear skips it and its weight stays 0): one indicator per
 * category value, as in a plain one-hot design, rather than two columns
 * that would regularise an absent value like a present one.
 */
static double *binned_values(const struct binning *b, const struct predict_feature *f,
                             const size_t *cols, size_t rows)
{
    double *v = xcalloc(rows * b->nf, sizeof(double));
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < b->nf; j++)
            v[r * b->nf + j] =
                f[j].kind == PREDICT_CATEGORY && cols[r * b->nf + j] == b->col0[j] ? 0.0 : 1.0;
    return v;
}

static double binned_margin(const struct binning *b, const double *w, const float *xrow)
{
    double m = w[b->n_cols];
    for (size_t j = 0; j < b->nf; j++)
        m += w[binning_column(b, j, xrow[j])];
    return m;
}

/* The plain baseline: standardised numbers (missing as the mean), categories 0/1. */
struct standard {
    double *mean, *sd;
};

static void standard_fit(struct standard *s, const float *x, size_t nf, size_t rows)
{
    s->mean = xcalloc(nf, sizeof(double));
    s->sd = xcalloc(nf, sizeof(double));
    for (size_t j = 0; j < nf; j++) {
        double sum = 0, sq = 0;
        size_t n = 0;
        for (size_t r = 0; r < rows; r++) {
            float v = x[r * nf + j];
            if (!isnan(v)) {
                sum += v;
                sq += (double)v * v;
                n++;
            }
        }
        s->mean[j] = n ? sum / (double)n : 0;
        double var = n ? sq / (double)n - s->mean[j] * s->mean[j] : 0;
        s->sd[j] = var > 1e-12 ? sqrt(var) : 1;
    }
}

static double standard_value(const struct standard *s, size_t j, float v)
{
    return isnan(v) ? 0.0 : ((double)v - s->mean[j]) / s->sd[j];
}

/* ---- XGBoost ---- */

static bt_err xgb_check(int rc, struct bt_error *err)
{
    if (rc != 0)
        return bt_fail(err, BT_EIO, NULL, "xgboost: %s", XGBGetLastError());
    return BT_OK;
}

static bt_err xgb_matrix(const float *x, const int *y, const float *base_margin, size_t rows,
                         size_t nf, DMatrixHandle *out, struct bt_error *err)
{
    bt_err rc = xgb_check(XGDMatrixCreateFromMat(x, rows, nf, NAN, out), err);
    if (rc)
        return rc;
    float *labels = xcalloc(rows, sizeof(float));
    for (size_t r = 0; r < rows; r++)
        labels[r] = (float)y[r];
    rc = xgb_check(XGDMatrixSetFloatInfo(*out, "label", labels, rows), err);
    free(labels);
    if (!rc && base_margin)
        rc = xgb_check(XGDMatrixSetFloatInfo(*out, "base_margin", base_margin, rows), err);
    return rc;
}

/*
 * Trains on `dtrain`; with `dvalid`, stops XGB_PATIENCE rounds after the
 * best validation AUC and reports that round count in *best; without it,
 * trains exactly *best rounds.
 */
static bt_err xgb_train(DMatrixHandle dtrain, DMatrixHandle dvalid, const struct train_options *o,
                        BoosterHandle *out, int *best, struct bt_error *err)
{
    DMatrixHandle mats[2] = {dtrain, dvalid};
    BoosterHandle b;
    bt_err rc = xgb_check(XGBoosterCreate(mats, dvalid ? 2 : 1, &b), err);
    if (rc)
        return rc;
    char seed[32], threads[16];
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)(o->seed % 1000000007ull));
    snprintf(threads, sizeof(threads), "%d", o->threads > 0 ? o->threads : 2);
    const char *params[][2] = {
        {"objective", "binary:logistic"},
        {"booster", "gbtree"},
        {"eta", "0.05"},
        {"max_depth", "4"},
        {"min_child_weight", "5"},
        {"subsample", "0.8"},
        {"colsample_bytree", "0.8"},
        {"lambda", "1"},
        {"base_score", "0.5"},
        {"eval_metric", "auc"},
        {"tree_method", "hist"},
        {"seed", seed},
        {"nthread", threads},
    };
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && !rc; i++)
        rc = xgb_check(XGBoosterSetParam(b, params[i][0], params[i][1]), err);
    int rounds = dvalid ? XGB_ROUNDS_MAX : *best;
    double best_auc = -1;
    int best_round = 1;
    for (int i = 0; i < rounds && !rc; i++) {
        rc = xgb_check(XGBoosterUpdateOneIter(b, i, dtrain), err);
        if (rc || !dvalid)
            continue;
        const char *names[1] = {"valid"};
        const char *res;
        rc = xgb_check(XGBoosterEvalOneIter(b, i, &mats[1], names, 1, &res), err);
        if (rc)
            break;
        const char *colon = strrchr(res, ':');
        double auc = colon ? strtod(colon + 1, NULL) : 0;
        if (auc > best_auc + 1e-6) {
            best_auc = auc;
            best_round = i + 1;
        } else if (i + 1 - best_round >= XGB_PATIENCE) {
            break;
        }
    }
    if (rc) {
        XGBoosterFree(b);
        return rc;
    }
    if (dvalid)
        *best = best_round;
    *out = b;
    return BT_OK;
}

/* Keeps only the first `rounds` trees (the booster trained a few more). */
static bt_err xgb_slice(BoosterHandle b, int rounds, BoosterHandle *out, struct bt_error *err)
{
    return xgb_check(XGBoosterSlice(b, 0, rounds, 1, out), err);
}

/* ---- assembling ---- */

static double best_auc_of(const double *m, const uint8_t *y, size_t n)
{
    struct arena a = ARENA_INIT;
    double auc = NAN;
    double *p = xcalloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        p[i] = logistic(m[i]);
    if (eval_roc_auc(p, y, n, &a, &auc))
        auc = NAN;
    free(p);
    arena_release(&a);
    return auc;
}

/* Six hex digits of the model's text mixed with a random salt: two trainings
 * of the same history in the same second store two models, not a conflict. */
static void hex6(const char *s, char out[7])
{
    uint64_t h = 1469598103934665603ull ^ crypto_random_u64();
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    snprintf(out, 7, "%06llx", (unsigned long long)(h & 0xffffff));
}

static json_t *eval_json(const double *p, const uint8_t *y, size_t n, struct eval_report *rep,
                         bt_err *rc, struct bt_error *err)
{
    struct arena a = ARENA_INIT;
    *rc = eval_report(p, y, n, &a, rep);
    arena_release(&a);
    if (*rc) {
        bt_fail(err, *rc, NULL, "evaluating the model");
        return NULL;
    }
    return eval_report_to_json(rep);
}

/* ---- the rules score ---- */

/* The rules' total of rows [from, to) at qualification into out. */
static bt_err rules_totals(const struct score_model *m, const struct dataset *ds, size_t from,
                           size_t to, double *out, struct bt_error *err)
{
    struct score_scratch *scratch = score_scratch_new(m);
    struct score_result *res = xcalloc(1, sizeof(*res));
    bt_err rc = BT_OK;
    for (size_t r = from; r < to && !rc; r++) {
        const struct dataset_row *row = &ds->rows[r];
        struct arena a = ARENA_INIT;
        rc = score_lead(m, &row->lead, row->acts, row->n_acts, row->qualified_at, scratch, &a, res);
        out[r - from] = res->total;
        arena_release(&a);
        if (rc)
            bt_fail(err, rc, NULL, "the rules score of lead %lld", (long long)row->lead.id);
    }
    free(res);
    score_scratch_free(scratch);
    return rc;
}

/* "rules" of the report: the totals Platt-mapped on validation, then tested. */
static json_t *rules_json(const struct score_model *m, const struct dataset *ds, size_t n_fit,
                          size_t n_train, const uint8_t *y8, bt_err *rc, struct bt_error *err)
{
    size_t n = ds->n;
    double *s = xcalloc(n - n_fit, sizeof(double));
    json_t *out = NULL;
    double pa = 0, pb = 0;
    struct eval_report rep;
    if ((*rc = rules_totals(m, ds, n_fit, n, s, err)))
        goto done;
    /* standardised first: Platt's Newton steps start at a = 1, which on raw
     * points (0 or 30, say) saturates and stalls */
    size_t nv = n_train - n_fit;
    double mu = 0, var = 0;
    for (size_t r = 0; r < nv; r++)
        mu += s[r];
    mu /= (double)nv;
    for (size_t r = 0; r < nv; r++)
        var += (s[r] - mu) * (s[r] - mu);
    double sd = var > 1e-12 * (double)nv ? sqrt(var / (double)nv) : 1.0;
    for (size_t r = 0; r < n - n_fit; r++)
        s[r] = (s[r] - mu) / sd;
    if ((*rc = eval_fit_platt(s, y8 + n_fit, nv, &pa, &pb))) {
        bt_fail(err, *rc, NULL, "mapping the rules score to a probability");
        goto done;
    }
    double *p = s + (n_train - n_fit);
    for (size_t r = 0; r < n - n_train; r++)
        p[r] = logistic(pa * p[r] + pb);
    out = eval_json(p, y8 + n_train, n - n_train, &rep, rc, err);
done:
    free(s);
    return out;
}

bt_err train_dataset(const struct dataset *ds, const struct train_options *o, struct arena *arena,
                     struct train_result *out, struct bt_error *err)
{
    double t0 = now_seconds();
    memset(out, 0, sizeof(*out));
    size_t n = ds->n;
    size_t n_test;
    if (o->test_from) {
        n_test = 0;
        while (n_test < n && ds->rows[n - 1 - n_test].qualified_at >= o->test_from)
            n_test++;
    } else {
        double frac = o->test_fraction > 0 ? o->test_fraction : 0.2;
        if (frac >= 0.9)
            return bt_fail(err, BT_EINVAL, "test_fraction",
                           "the held-out fraction must be below 0.9");
        n_test = (size_t)((double)n * frac + 0.5);
    }
    size_t n_train = n - n_test;
    size_t pos = 0;
    for (size_t r = 0; r < n_train; r++)
        pos += (size_t)ds->rows[r].label;
    size_t neg = n_train - pos;
    size_t min_l = o->min_labelled ? o->min_labelled : 1000;
    size_t min_c = o->min_per_class ? o->min_per_class : 100;
    if (n_train < min_l || pos < min_c || neg < min_c)
        return bt_fail(err, BT_EINVAL, "history",
                       "too little history to train: %zu labelled leads in the training period "
                       "(%zu converted, %zu not); at least %zu labelled and %zu of each class are "
                       "needed (the rules-only score stays)",
                       n_train, pos, neg, min_l, min_c);
    if (n_test < 20)
        return bt_fail(err, BT_EINVAL, "history",
                       "too few held-out leads to measure the model: %zu (at least 20)", n_test);
    size_t n_fit = (size_t)((double)n_train * (1.0 - VALID_FRACTION));
    size_t n_valid = n_train - n_fit;

    progress(o, "features", 0.0);
    struct dataset_spec_options so = {0, o->exclude, o->n_exclude};
    struct predict_feature *features;
    size_t nf;
    bt_err rc = dataset_spec(ds, n_train, &so, arena, &features, &nf, err);
    if (rc)
        return rc;
    float *x = malloc(n * nf * sizeof(float));
    int *y = xcalloc(n, sizeof(int));
    uint8_t *y8 = xcalloc(n, 1);
    if (!x)
        bt_die("out of memory");
    for (size_t r = 0; r < n; r++)
        y8[r] = (uint8_t)(y[r] = ds->rows[r].label);
    rc = dataset_matrix(ds, features, nf, x, err);
    double *vm_lr = xcalloc(n_valid, sizeof(double));
    double *vm_xgb = xcalloc(n_valid, sizeof(double));
    double *vm = xcalloc(n_valid, sizeof(double));
    double *tp = xcalloc(n_test, sizeof(double));
    double *w_final = NULL, *w = NULL;
    struct binning bins = {0};
    BoosterHandle bv = NULL, bf = NULL, bfull = NULL, bplain = NULL;
    float *bm_fit = NULL;
    DMatrixHandle dfit = NULL, dvalid = NULL, dtrain = NULL;
    json_t *metrics = NULL;
    struct standard st = {0};
    if (rc)
        goto done;

    /* 2. binned logistic regression, C on validation */
    progress(o, "logistic regression", 0.1);
    binning_fit(&bins, features, nf, x, n_fit);
    size_t *cols = binned_columns(&bins, x, 0, n_fit);
    double *vals = binned_values(&bins, features, cols, n_fit);
    static const double Cs[] = {0.01, 0.1, 1.0};
    double best_C = 1.0, best_auc = -1;
    double *w_fit = NULL;
    for (size_t k = 0; k < sizeof(Cs) / sizeof(Cs[0]); k++) {
        double *wk = lr_fit_l2(cols, vals, nf, bins.n_cols, y, n_fit, Cs[k]);
        for (size_t r = 0; r < n_valid; r++)
            vm[r] = binned_margin(&bins, wk, x + (n_fit + r) * nf);
        double auc = best_auc_of(vm, y8 + n_fit, n_valid);
        if (auc > best_auc) {
            best_auc = auc;
            best_C = Cs[k];
            memcpy(vm_lr, vm, n_valid * sizeof(double));
            free(w_fit);
            w_fit = wk;
            wk = NULL;
        }
        free(wk);
    }
    /* the additive margins the trees start from */
    bm_fit = xcalloc(n_train, sizeof(float));
    for (size_t r = 0; r < n_fit; r++)
        bm_fit[r] = (float)binned_margin(&bins, w_fit, x + r * nf);
    for (size_t r = 0; r < n_valid; r++)
        bm_fit[n_fit + r] = (float)vm_lr[r];
    free(w_fit);
    free(cols);
    free(vals);

    /* 3. trees with early stopping on validation: the plain baseline, and
     * the trees boosted from the additive margins (they learn what the
     * additive model misses: interactions, not its main effects again) */
    progress(o, "gradient-boosted trees", 0.3);
    int rounds = 0, plain_rounds = 0;
    if ((rc = xgb_matrix(x, y, NULL, n_fit, nf, &dfit, err)) ||
        (rc = xgb_matrix(x + n_fit * nf, y + n_fit, NULL, n_valid, nf, &dvalid, err)) ||
        (rc = xgb_train(dfit, dvalid, o, &bfull, &plain_rounds, err)))
        goto done;
    XGBoosterFree(bfull);
    XGDMatrixFree(dfit);
    XGDMatrixFree(dvalid);
    bfull = NULL;
    dfit = dvalid = NULL;
    if ((rc = xgb_matrix(x, y, bm_fit, n_fit, nf, &dfit, err)) ||
        (rc = xgb_matrix(x + n_fit * nf, y + n_fit, bm_fit + n_fit, n_valid, nf, &dvalid, err)) ||
        (rc = xgb_train(dfit, dvalid, o, &bfull, &rounds, err)) ||
        (rc = xgb_slice(bfull, rounds, &bv, err)) ||
        (rc = xgb_model_predict_margins(bv, x + n_fit * nf, n_valid, nf, vm_xgb, err)))
        goto done;

    /* 4. how much of the trees to add, on validation (blend 1: none) */
    double blend = 1.0, blend_auc = -1;
    for (int k = 10; k >= 0; k--) {
        double a = k / 10.0;
        for (size_t r = 0; r < n_valid; r++)
            vm[r] = vm_lr[r] + (1 - a) * vm_xgb[r];
        double auc = best_auc_of(vm, y8 + n_fit, n_valid);
        if (auc > blend_auc + 1e-9) {
            blend_auc = auc;
            blend = a;
        }
    }
    for (size_t r = 0; r < n_valid; r++)
        vm[r] = vm_lr[r] + (1 - blend) * vm_xgb[r];
    double pa = 1, pb = 0;
    if ((rc = eval_fit_platt(vm, y8 + n_fit, n_valid, &pa, &pb))) {
        bt_fail(err, rc, NULL, "calibrating on the validation split");
        goto done;
    }

    /* 5. refit on the whole training period */
    progress(o, "refit", 0.6);
    binning_free(&bins);
    binning_fit(&bins, features, nf, x, n_train);
    cols = binned_columns(&bins, x, 0, n_train);
    vals = binned_values(&bins, features, cols, n_train);
    w_final = lr_fit_l2(cols, vals, nf, bins.n_cols, y, n_train, best_C);
    free(cols);
    free(vals);
    for (size_t r = 0; r < n_train; r++)
        bm_fit[r] = (float)binned_margin(&bins, w_final, x + r * nf);
    if ((rc = xgb_matrix(x, y, bm_fit, n_train, nf, &dtrain, err)) ||
        (rc = xgb_train(dtrain, NULL, o, &bf, &rounds, err)))
        goto done;
    XGDMatrixFree(dtrain);
    dtrain = NULL;
    if ((rc = xgb_matrix(x, y, NULL, n_train, nf, &dtrain, err)) ||
        (rc = xgb_train(dtrain, NULL, o, &bplain, &plain_rounds, err)))
        goto done;
    struct predict_model tm;
    if ((rc = xgb_model_convert(bf, features, nf, arena, &tm, err)))
        goto done;
    /* the flat walk equals XGBoost (validation rows) */
    for (size_t r = 0; r < n_valid; r++)
        vm[r] = 0;
    if ((rc = xgb_model_predict_margins(bf, x + n_fit * nf, n_valid, nf, vm, err)))
        goto done;
    for (size_t r = 0; r < n_valid; r++) {
        double d = predict_margin(&tm, x + (n_fit + r) * nf) - vm[r];
        if (fabs(d) > 1e-6) {
            rc = bt_fail(err, BT_EINVAL, NULL,
                         "the flat trees differ from XGBoost by %g on validation row %zu", d, r);
            goto done;
        }
    }

    /* the final model: scaled trees + scaled terms + Platt */
    struct predict_model fm;
    memset(&fm, 0, sizeof(fm));
    fm.n_features = nf;
    fm.features = features;
    fm.base = w_final[bins.n_cols];
    if (blend < 1.0) {
        struct predict_node *nodes = arena_alloc(arena, tm.n_nodes * sizeof(*nodes) + 1);
        for (size_t i = 0; i < tm.n_nodes; i++) {
            nodes[i] = tm.nodes[i];
            nodes[i].value *= (1 - blend);
        }
        fm.base += (1 - blend) * tm.base;
        fm.n_trees = tm.n_trees;
        fm.roots = tm.roots;
        fm.n_nodes = tm.n_nodes;
        fm.nodes = nodes;
    }
    {
        struct predict_term *terms = arena_alloc(arena, nf * sizeof(*terms));
        for (size_t j = 0; j < nf; j++) {
            size_t ne = bins.n_edges[j];
            double *edges = arena_alloc(arena, (ne + 1) * sizeof(double));
            double *weights = arena_alloc(arena, (ne + 1) * sizeof(double));
            memcpy(edges, bins.edges[j], ne * sizeof(double));
            for (size_t k = 0; k <= ne; k++)
                weights[k] = w_final[bins.col0[j] + k];
            double mean = 0;
            for (size_t r = 0; r < n_train; r++)
                mean += w_final[binning_column(&bins, j, x[r * nf + j])];
            terms[j] = (struct predict_term){(int32_t)j,
                                             ne,
                                             edges,
                                             weights,
                                             w_final[bins.col0[j] + ne + 1],
                                             mean / (double)n_train};
        }
        fm.n_terms = nf;
        fm.terms = terms;
    }
    fm.calibration.kind = PREDICT_CALIBRATION_PLATT;
    fm.calibration.a = pa;
    fm.calibration.b = pb;
    if ((rc = predict_model_check(&fm, err)))
        goto done;

    /* 6. the held-out period */
    progress(o, "evaluation", 0.9);
    const float *xt = x + n_train * nf;
    const uint8_t *yt = y8 + n_train;
    struct eval_report rep;
    metrics = json_object();
    json_t *test = json_object();
    json_object_set_new(metrics, "test", test);
    for (size_t r = 0; r < n_test; r++)
        tp[r] = predict_probability(&fm, predict_margin(&fm, xt + r * nf));
    json_t *e = eval_json(tp, yt, n_test, &rep, &rc, err);
    if (rc)
        goto done;
    out->test_auc = rep.roc_auc;
    json_object_set_new(test, "model", e);

    double *xm = xcalloc(n_test, sizeof(double));
    rc = xgb_model_predict_margins(bplain, xt, n_test, nf, xm, err);
    for (size_t r = 0; r < n_test && !rc; r++)
        tp[r] = logistic(xm[r]);
    free(xm);
    if (rc)
        goto done;
    e = eval_json(tp, yt, n_test, &rep, &rc, err);
    if (rc)
        goto done;
    out->xgboost_auc = rep.roc_auc;
    json_object_set_new(test, "xgboost", e);

    for (size_t r = 0; r < n_test; r++)
        tp[r] = logistic(binned_margin(&bins, w_final, xt + r * nf));
    e = eval_json(tp, yt, n_test, &rep, &rc, err);
    if (rc)
        goto done;
    json_object_set_new(test, "additive", e);

    standard_fit(&st, x, nf, n_train);
    {
        size_t *ci = xcalloc(n_train * nf, sizeof(size_t));
        double *cv = xcalloc(n_train * nf, sizeof(double));
        for (size_t r = 0; r < n_train; r++)
            for (size_t j = 0; j < nf; j++) {
                ci[r * nf + j] = j;
                cv[r * nf + j] = standard_value(&st, j, x[r * nf + j]);
            }
        w = lr_fit_l2(ci, cv, nf, nf, y, n_train, 1.0);
        free(ci);
        free(cv);
        for (size_t r = 0; r < n_test; r++) {
            double m = w[nf];
            for (size_t j = 0; j < nf; j++)
                m += w[j] * standard_value(&st, j, xt[r * nf + j]);
            tp[r] = logistic(m);
        }
    }
    e = eval_json(tp, yt, n_test, &rep, &rc, err);
    if (rc)
        goto done;
    out->logistic_auc = rep.roc_auc;
    json_object_set_new(test, "logistic", e);
    if (o->rules) {
        e = rules_json(o->rules, ds, n_fit, n_train, y8, &rc, err);
        if (rc)
            goto done;
        json_object_set_new(test, "rules", e);
    } else {
        json_object_set_new(test, "rules", json_null());
    }

    json_t *valid = json_object();
    json_object_set_new(valid, "rows", json_integer((json_int_t)n_valid));
    json_object_set_new(valid, "roc_auc_logistic_binned", json_real(best_auc));
    json_object_set_new(valid, "roc_auc_blend", json_real(blend_auc));
    json_object_set_new(valid, "blend", json_real(blend));
    json_object_set_new(valid, "C", json_real(best_C));
    json_object_set_new(valid, "xgboost_rounds", json_integer(rounds));
    json_object_set_new(valid, "xgboost_plain_rounds", json_integer(plain_rounds));
    json_object_set_new(metrics, "validation", valid);
    out->seconds = now_seconds() - t0;
    json_t *tr = json_object();
    json_object_set_new(tr, "seconds", json_real(out->seconds));
    json_object_set_new(tr, "rows", json_integer((json_int_t)n_train));
    json_object_set_new(tr, "features", json_integer((json_int_t)nf));
    json_object_set_new(tr, "trees", json_integer((json_int_t)fm.n_trees));
    json_object_set_new(
        tr, "recipe",
        json_string("binned (deciles) L2 logistic regression + XGBoost boosted from its margins "
                    "(depth 4, eta 0.05, early stopping), the trees' share and Platt scaling "
                    "chosen on a time-ordered validation split"));
    json_object_set_new(metrics, "training", tr);

    json_t *mj = predict_model_to_json(&fm);
    char *ms = json_dumps(mj, JSON_COMPACT);
    json_decref(mj);
    char *xs = json_dumps(metrics, JSON_COMPACT);
    char h[7];
    hex6(ms, h);
    time_t secs = (time_t)(o->now / 1000);
    struct tm tmv;
    gmtime_r(&secs, &tmv);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tmv);
    struct store_model *sm = &out->model;
    sm->version = arena_printf(arena, "pm-%s-%s", stamp, h);
    sm->kind = blend >= 1.0 ? "additive" : "blend";
    sm->target = arena_strdup(arena, o->target ? o->target : "converted");
    sm->created_at = o->now;
    sm->trained_from = ds->rows[0].qualified_at;
    sm->trained_until = ds->rows[n_train - 1].qualified_at;
    sm->test_from = ds->rows[n_train].qualified_at;
    sm->test_until = ds->rows[n - 1].qualified_at;
    sm->n_train = (int64_t)n_train;
    sm->n_test = (int64_t)n_test;
    sm->model = arena_strdup(arena, ms);
    sm->metrics = arena_strdup(arena, xs);
    free(ms);
    free(xs);
    out->blend = blend;
    progress(o, "done", 1.0);

done:
    json_decref(metrics);
    if (bv)
        XGBoosterFree(bv);
    if (bf)
        XGBoosterFree(bf);
    if (bfull)
        XGBoosterFree(bfull);
    if (bplain)
        XGBoosterFree(bplain);
    free(bm_fit);
    if (dfit)
        XGDMatrixFree(dfit);
    if (dvalid)
        XGDMatrixFree(dvalid);
    if (dtrain)
        XGDMatrixFree(dtrain);
    binning_free(&bins);
    free(st.mean);
    free(st.sd);
    free(w);
    free(w_final);
    free(x);
    free(y);
    free(y8);
    free(vm_lr);
    free(vm_xgb);
    free(vm);
    free(tp);
    return rc;
}

bt_err train_run(struct store_conn *c, const struct train_options *o, struct arena *arena,
                 struct train_result *out, struct bt_error *err)
{
    struct dataset ds;
    dataset_init(&ds);
    progress(o, "history", 0.0);
    bt_err rc = dataset_load(c, o->target ? o->target : "converted", o->since, o->until, &ds, err);
    if (!rc)
        rc = train_dataset(&ds, o, arena, out, err);
    dataset_release(&ds);
    return rc;
}
