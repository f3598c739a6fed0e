/*
 * evalmetrics.c - ROC-AUC, average precision, Brier, log loss, lift by
 * decile and calibration bins on held-out rows, and the Platt and isotonic
 * calibrations fitted on them.
 *
 * The ranking metrics sort an index array (in the caller's arena) by the
 * prediction and treat equal predictions as one block, so that the figures
 * do not depend on the order of tied rows - the same convention as
 * scikit-learn's roc_auc_score and average_precision_score, against which
 * the unit tests check them.
 */
#include "core/evalmetrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct keyed {
    double key;
    size_t index;
};

/* Ascending by key, then by index: a total order, so the sort is stable. */
static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key < y->key)
        return -1;
    if (x->key > y->key)
        return 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bt_err sorted(const double *v, size_t n, bool descending, struct arena *a,
                     struct keyed **out)
{
    struct keyed *k = arena_alloc_raw(a, (n ? n : 1) * sizeof(*k));
    if (!k)
        return BT_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            return BT_EINVAL;
        k[i] = (struct keyed){descending ? -v[i] : v[i], i};
    }
    qsort(k, n, sizeof(*k), cmp_keyed);
    *out = k;
    return BT_OK;
}

bt_err eval_roc_auc(const double *p, const uint8_t *y, size_t n, struct arena *a, double *out)
{
    *out = NAN;
    struct keyed *k;
    bt_err rc = sorted(p, n, false, a, &k);
    if (rc)
        return rc;
    double rank_sum = 0; /* ranks of the positives, 1-based, ties averaged */
    size_t pos = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && k[j].key == k[i].key)
            j++;
        double rank = (double)(i + 1 + j) / 2.0; /* mean of i+1 .. j */
        for (size_t t = i; t < j; t++)
            if (y[k[t].index]) {
                rank_sum += rank;
                pos++;
            }
        i = j;
    }
    size_t neg = n - pos;
    if (pos == 0 || neg == 0)
        return BT_OK;
    *out = (rank_sum - (double)pos * ((double)pos + 1) / 2.0) / ((double)pos * (double)neg);
    return BT_OK;
}

bt_err eval_pr_auc(const double *p, const uint8_t *y, size_t n, struct arena *a, double *out)
{
    *out = NAN;
    struct keyed *k;
    bt_err rc = sorted(p, n, true, a, &k);
    if (rc)
        return rc;
    size_t total_pos = 0;
    for (size_t i = 0; i < n; i++)
        total_pos += y[i] != 0;
    if (total_pos == 0 || total_pos == n)
        return BT_OK;
    double ap = 0;
    size_t tp = 0, seen = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, block_pos = 0;
        while (j < n && k[j].key == k[i].key) {
            block_pos += y[k[j].index] != 0;
            j++;
        }
        tp += block_pos;
        seen = j;
        if (block_pos)
            ap += ((double)block_pos / (double)total_pos) * ((double)tp / (double)seen);
        i = j;
    }
    *out = ap;
    return BT_OK;
}

double eval_brier(const double *p, const uint8_t *y, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - (y[i] ? 1.0 : 0.0);
        s += d * d;
    }
    return s / (double)n;
}

double eval_log_loss(const double *p, const uint8_t *y, size_t n)
{
    if (n == 0)
        return NAN;
    const double eps = 1e-15;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i] < eps ? eps : p[i] > 1 - eps ? 1 - eps : p[i];
        s -= y[i] ? log(q) : log(1 - q);
    }
    return s / (double)n;
}

static void finish_bin(struct eval_bin *b, double p_sum, double base_rate)
{
    b->mean_p = b->count ? p_sum / (double)b->count : 0;
    b->rate = b->count ? (double)b->positives / (double)b->count : 0;
    b->lift = base_rate > 0 ? b->rate / base_rate : 0;
}

bt_err eval_report(const double *p, const uint8_t *y, size_t n, struct arena *a,
                   struct eval_report *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return BT_EINVAL;
        out->positives += y[i] != 0;
    }
    out->base_rate = n ? (double)out->positives / (double)n : 0;
    bt_err rc = eval_roc_auc(p, y, n, a, &out->roc_auc);
    if (!rc)
        rc = eval_pr_auc(p, y, n, a, &out->pr_auc);
    if (rc)
        return rc;
    out->brier = eval_brier(p, y, n);
    out->log_loss = eval_log_loss(p, y, n);

    struct keyed *k;
    rc = sorted(p, n, true, a, &k);
    if (rc)
        return rc;
    for (size_t d = 0; d < EVAL_BINS; d++) {
        size_t from = d * n / EVAL_BINS, to = (d + 1) * n / EVAL_BINS;
        struct eval_bin *b = &out->deciles[d];
        double sum = 0;
        for (size_t i = from; i < to; i++) {
            sum += p[k[i].index];
            b->positives += y[k[i].index] != 0;
        }
        b->count = to - from;
        finish_bin(b, sum, out->base_rate);
    }
    double sums[EVAL_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t bin = (size_t)(p[i] * EVAL_BINS);
        if (bin >= EVAL_BINS)
            bin = EVAL_BINS - 1;
        out->calibration[bin].count++;
        out->calibration[bin].positives += y[i] != 0;
        sums[bin] += p[i];
    }
    for (size_t b = 0; b < EVAL_BINS; b++)
        finish_bin(&out->calibration[b], sums[b], out->base_rate);
    return BT_OK;
}

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *eval_report_to_json(const struct eval_report *r)
{
    json_t *deciles = json_array(), *cal = json_array();
    for (int d = 0; d < EVAL_BINS; d++) {
        const struct eval_bin *b = &r->deciles[d];
        json_array_append_new(deciles,
                              json_pack("{s:i, s:I, s:o, s:o, s:o}", "decile", d + 1, "count",
                                        (json_int_t)b->count, "rate", real_or_null(b->rate), "lift",
                                        real_or_null(b->lift), "mean_p", real_or_null(b->mean_p)));
        b = &r->calibration[d];
        json_array_append_new(cal,
                              json_pack("{s:f, s:f, s:I, s:o, s:o}", "from", d / 10.0, "to",
                                        (d + 1) / 10.0, "count", (json_int_t)b->count, "mean_p",
                                        real_or_null(b->mean_p), "rate", real_or_null(b->rate)));
    }
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)r->n,
                     "positives", (json_int_t)r->positives, "base_rate", real_or_null(r->base_rate),
                     "roc_auc", real_or_null(r->roc_auc), "pr_auc", real_or_null(r->pr_auc),
                     "brier", real_or_null(r->brier), "log_loss", real_or_null(r->log_loss),
                     "deciles", deciles, "calibration", cal);
}

/*
 * Platt's method as Lin, Lin and Weng restated it: Newton's method with a
 * backtracking line search on the log loss of logistic(a * m + b) against
 * the smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2), with the
 * log-sum-exp written so that large margins do not overflow.
 */
/* sum of t log(1 + e^-z) + (1 - t) log(1 + e^z), z = A m + B, t the smoothed
 * target: written so that a large |z| does not overflow. */
static double platt_loss(const double *margin, const uint8_t *y, size_t n, double hi, double lo,
                         double A, double B)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double t = y[i] ? hi : lo, z = A * margin[i] + B;
        double l1 = z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z)); /* log(1 + e^-z) */
        s += t * l1 + (1 - t) * (l1 + z);
    }
    return s;
}

bt_err eval_fit_platt(const double *margin, const uint8_t *y, size_t n, double *a, double *b)
{
    *a = 1;
    *b = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(margin[i]))
            return BT_EINVAL;
        pos += y[i] != 0;
    }
    if (n == 0 || pos == 0 || pos == n)
        return BT_EINVAL;
    double hi = ((double)pos + 1) / ((double)pos + 2), lo = 1 / ((double)(n - pos) + 2);
    double A = 1, B = 0, f = platt_loss(margin, y, n, hi, lo, A, B);
    for (int it = 0; it < 100; it++) {
        double g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h21 = 0;
        for (size_t i = 0; i < n; i++) {
            double t = y[i] ? hi : lo, z = A * margin[i] + B;
            double p = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
            double d = p - t, w = p * (1 - p);
            g1 += margin[i] * d;
            g2 += d;
            h11 += margin[i] * margin[i] * w;
            h22 += w;
            h21 += margin[i] * w;
        }
        if (fabs(g1) < 1e-9 * (double)n && fabs(g2) < 1e-9 * (double)n)
            break;
        double det = h11 * h22 - h21 * h21;
        if (!(det > 0))
            break;
        double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB, step = 1;
        bool moved = false;
        while (step >= 1e-10) {
            double nf = platt_loss(margin, y, n, hi, lo, A + step * dA, B + step * dB);
            if (nf < f + 1e-4 * step * gd) {
                A += step * dA;
                B += step * dB;
                f = nf;
                moved = true;
                break;
            }
            step /= 2;
        }
        if (!moved)
            break;
    }
    if (!isfinite(A) || !isfinite(B))
        return BT_EINVAL;
    *a = A;
    *b = B;
    return BT_OK;
}

struct block {
    double sum_y, weight, sum_m;
};

bt_err eval_fit_isotonic(const double *margin, const uint8_t *y, size_t n, size_t max_points,
                         struct arena *a, double **margins, double **ps, size_t *n_points)
{
    *margins = *ps = NULL;
    *n_points = 0;
    if (n == 0 || max_points == 0)
        return BT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(margin[i]))
            return BT_EINVAL;
    struct keyed *k;
    bt_err rc = sorted(margin, n, false, a, &k);
    if (rc)
        return rc;
    struct block *st = arena_alloc_raw(a, n * sizeof(*st));
    if (!st)
        return BT_ETOOBIG;
    size_t top = 0;
    for (size_t i = 0; i < n;) {
        /* Rows with the same margin are one block from the start. */
        struct block b = {0, 0, 0};
        size_t j = i;
        while (j < n && k[j].key == k[i].key) {
            b.sum_y += y[k[j].index] ? 1 : 0;
            b.weight += 1;
            b.sum_m += k[j].key;
            j++;
        }
        i = j;
        /* Pool adjacent violators: merge while the previous mean is higher. */
        while (top > 0 && st[top - 1].sum_y / st[top - 1].weight >= b.sum_y / b.weight) {
            b.sum_y += st[top - 1].sum_y;
            b.weight += st[top - 1].weight;
            b.sum_m += st[top - 1].sum_m;
            top--;
        }
        st[top++] = b;
    }
    /* At most max_points: merge the adjacent pair of least weight. Merging
     * neighbours of a non-decreasing sequence keeps it non-decreasing. */
    while (top > max_points) {
        size_t best = 0;
        double best_w = INFINITY;
        for (size_t i = 0; i + 1 < top; i++) {
            double w = st[i].weight + st[i + 1].weight;
            if (w < best_w) {
                best_w = w;
                best = i;
            }
        }
        st[best].sum_y += st[best + 1].sum_y;
        st[best].weight += st[best + 1].weight;
        st[best].sum_m += st[best + 1].sum_m;
        memmove(&st[best + 1], &st[best + 2], (top - best - 2) * sizeof(*st));
        top--;
    }
    double *m_out = arena_alloc_raw(a, top * sizeof(double));
    double *p_out = arena_alloc_raw(a, top * sizeof(double));
    if (!m_out || !p_out)
        return BT_ETOOBIG;
    size_t count = 0;
    for (size_t i = 0; i < top; i++) {
        double m = st[i].sum_m / st[i].weight, p = st[i].sum_y / st[i].weight;
        if (count > 0 && !(m > m_out[count - 1])) {
            /* Rounding made two block means equal: keep the later (higher) p. */
            p_out[count - 1] = p;
            continue;
        }
        m_out[count] = m;
        p_out[count] = p;
        count++;
    }
    *margins = m_out;
    *ps = p_out;
    *n_points = count;
    return BT_OK;
}
