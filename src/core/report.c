/*
 * report.c - percentiles by selection and the other figures of report.h.
 *
 * Percentiles come from quickselect (Hoare partition, median-of-three
 * pivot) rather than a sort: the three percentiles and the maximum of a
 * million durations cost a few linear passes. Each selection narrows the
 * range for the next, largest rank last.
 */
#include "core/report.h"

#include <math.h>

#define MINUTE_MS (60 * 1000)

static void swap(int64_t *a, int64_t *b)
{
    int64_t t = *a;
    *a = *b;
    *b = t;
}

/* Puts the k-th smallest of v[lo .. hi] at v[k], smaller before, larger after. */
static void select_kth(int64_t *v, size_t lo, size_t hi, size_t k)
{
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        int64_t pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swap(&v[i], &v[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* v[lo .. j] <= pivot <= v[i .. hi], and i > j */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static size_t rank_of(size_t n, double q)
{
    double r = ceil(q * (double)n);
    size_t k = r < 1 ? 1 : (size_t)r;
    return (k > n ? n : k) - 1;
}

int64_t report_percentile(int64_t *v, size_t n, double q)
{
    size_t k = rank_of(n, q);
    select_kth(v, 0, n - 1, k);
    return v[k];
}

void report_durations_of(int64_t *v, size_t n, struct report_durations *out)
{
    *out = (struct report_durations){.count = n};
    if (!n)
        return;
    int64_t max = v[0];
    for (size_t i = 0; i < n; i++) {
        if (v[i] > max)
            max = v[i];
        out->within_5m += v[i] <= 5 * MINUTE_MS;
        out->within_30m += v[i] <= 30 * MINUTE_MS;
        out->within_1h += v[i] <= 60 * MINUTE_MS;
    }
    out->max = max;
    /* After selecting rank k, everything above k is >= v[k]: the next,
     * higher rank is selected in v[k .. n-1] only. */
    size_t k50 = rank_of(n, 0.50), k90 = rank_of(n, 0.90), k95 = rank_of(n, 0.95);
    select_kth(v, 0, n - 1, k50);
    out->p50 = v[k50];
    select_kth(v, k50, n - 1, k90);
    out->p90 = v[k90];
    select_kth(v, k90, n - 1, k95);
    out->p95 = v[k95];
}

double report_rate(int64_t num, int64_t den)
{
    return den > 0 ? (double)num / (double)den : -1.0;
}

void report_expected_shares(const double *weights, const bool *counts, size_t n, bool equal,
                            double *shares)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!counts || counts[i])
            sum += equal ? 1.0 : (weights[i] > 0 ? weights[i] : 0);
    for (size_t i = 0; i < n; i++) {
        bool in = !counts || counts[i];
        double w = equal ? 1.0 : (weights[i] > 0 ? weights[i] : 0);
        shares[i] = in && sum > 0 ? w / sum : 0;
    }
}
