/*
 * report.h - the arithmetic of reports: percentiles, shares within a time,
 * rates, and the share of a pool's leads each member should get.
 *
 * Pure like the rest of core/: the figures come in as arrays and counts,
 * nothing here reads the store, a clock or allocates. report/reports.c
 * gathers the values (store_reports.h) and calls these.
 */
#ifndef BT_CORE_REPORT_H
#define BT_CORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The summary of a set of durations (ms). Percentiles are nearest-rank:
 * p(q) is the smallest value with at least q of the values at or below it,
 * so each is one of the values. */
struct report_durations {
    size_t count;
    int64_t p50, p90, p95, max; /* 0 when count is 0 */
    /* how many are at or under 5 minutes, 30 minutes, 1 hour */
    size_t within_5m, within_30m, within_1h;
};

/*
 * Summarises v[0 .. n-1] into *out; reorders v (selection, not a sort:
 * linear time on average, so a million values take milliseconds).
 */
void report_durations_of(int64_t *v, size_t n, struct report_durations *out);

/* The value of nearest rank q (0 < q <= 1) in v[0 .. n-1], n > 0; reorders v. */
int64_t report_percentile(int64_t *v, size_t n, double q);

/* num / den, or a negative number when den is 0 (no rate: shown as null). */
double report_rate(int64_t num, int64_t den);

/*
 * The share of a pool's leads each member should get: weight / sum of the
 * weights of the members that count. `counts[i]` false leaves member i out
 * (an absent rep under an absence policy that does not owe it its leads);
 * its share is 0. Shares sum to 1 unless no member counts (all 0).
 * `equal` gives every counting member the same share (round robin).
 */
void report_expected_shares(const double *weights, const bool *counts, size_t n, bool equal,
                            double *shares);

#endif
