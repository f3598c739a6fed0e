/*
 * test_report.c - the arithmetic of reports (core/report.c): nearest-rank
 * percentiles by selection held to a sort on random, sorted, reversed and
 * repetitive inputs, shares within 5 / 30 / 60 minutes, rates, and the
 * expected shares of a pool's members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank by definition: the ceil(q n)-th smallest. */
static int64_t by_sort(const int64_t *v, size_t n, double q)
{
    int64_t *s = malloc(n * sizeof(*s));
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp64);
    size_t k = (size_t)ceil(q * (double)n);
    if (k < 1)
        k = 1;
    int64_t r = s[k - 1];
    free(s);
    return r;
}

static void check_against_sort(int64_t *v, size_t n)
{
    struct report_durations d;
    int64_t *copy = malloc(n * sizeof(*copy));
    memcpy(copy, v, n * sizeof(*copy));
    int64_t p50 = by_sort(v, n, 0.5), p90 = by_sort(v, n, 0.9), p95 = by_sort(v, n, 0.95),
            max = by_sort(v, n, 1.0);
    report_durations_of(copy, n, &d);
    assert_int_equal(d.count, n);
    assert_int_equal(d.p50, p50);
    assert_int_equal(d.p90, p90);
    assert_int_equal(d.p95, p95);
    assert_int_equal(d.max, max);
    memcpy(copy, v, n * sizeof(*copy));
    assert_int_equal(report_percentile(copy, n, 0.9), p90);
    free(copy);
}

static void test_percentiles_match_a_sort(void **state)
{
    (void)state;
    srand(42);
    size_t sizes[] = {1, 2, 3, 4, 5, 7, 10, 19, 20, 21, 100, 101, 999, 10000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s];
        int64_t *v = malloc(n * sizeof(*v));
        for (int shape = 0; shape < 5; shape++) {
            for (size_t i = 0; i < n; i++) {
                switch (shape) {
                case 0:
                    v[i] = rand() % 1000000;
                    break;
                case 1:
                    v[i] = (int64_t)i;
                    break;
                case 2:
                    v[i] = (int64_t)(n - i);
                    break;
                case 3:
                    v[i] = rand() % 3;
                    break;
                default:
                    v[i] = 7;
                    break;
                }
            }
            check_against_sort(v, n);
        }
        free(v);
    }
}

static void test_small_cases(void **state)
{
    (void)state;
    /* ten values 1..10: p50 is the 5th, p90 the 9th, p95 the 10th */
    int64_t v[] = {10, 3, 5, 1, 9, 2, 8, 4, 7, 6};
    struct report_durations d;
    report_durations_of(v, 10, &d);
    assert_int_equal(d.p50, 5);
    assert_int_equal(d.p90, 9);
    assert_int_equal(d.p95, 10);
    assert_int_equal(d.max, 10);
    report_durations_of(v, 0, &d);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.p50, 0);
    assert_int_equal(d.max, 0);
}

static void test_within(void **state)
{
    (void)state;
    const int64_t m = 60000;
    /* at the bounds count as inside */
    int64_t v[] = {0, 5 * m, 5 * m + 1, 30 * m, 31 * m, 60 * m, 61 * m, 1000 * m};
    struct report_durations d;
    report_durations_of(v, 8, &d);
    assert_int_equal(d.within_5m, 2);
    assert_int_equal(d.within_30m, 4);
    assert_int_equal(d.within_1h, 6);
    assert_int_equal(d.max, 1000 * m);
}

static void test_rate(void **state)
{
    (void)state;
    assert_true(report_rate(1, 0) < 0);
    assert_true(fabs(report_rate(1, 4) - 0.25) < 1e-12);
    assert_true(fabs(report_rate(0, 4)) < 1e-12);
}

static void test_expected_shares(void **state)
{
    (void)state;
    double w[] = {1, 3, 4};
    double s[3];
    report_expected_shares(w, NULL, 3, false, s);
    assert_true(fabs(s[0] - 0.125) < 1e-12 && fabs(s[1] - 0.375) < 1e-12 &&
                fabs(s[2] - 0.5) < 1e-12);
    report_expected_shares(w, NULL, 3, true, s);
    assert_true(fabs(s[0] - 1.0 / 3) < 1e-12 && fabs(s[2] - 1.0 / 3) < 1e-12);
    bool in[] = {true, false, true};
    report_expected_shares(w, in, 3, false, s);
    assert_true(fabs(s[0] - 0.2) < 1e-12 && s[1] == 0 && fabs(s[2] - 0.8) < 1e-12);
    bool none[] = {false, false, false};
    report_expected_shares(w, none, 3, false, s);
    assert_true(s[0] == 0 && s[1] == 0 && s[2] == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_match_a_sort),
        cmocka_unit_test(test_small_cases),
        cmocka_unit_test(test_within),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_expected_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
