/*
 * test_evalmetrics.c - the held-out metrics against hand-computed values and
 * scikit-learn's (computed once with roc_auc_score, average_precision_score,
 * brier_score_loss, log_loss and IsotonicRegression, pasted as constants):
 * ties, sets without a class, deciles, calibration bins, Platt and isotonic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/evalmetrics.h"

#include <math.h>
#include <string.h>

static const double p10[] = {0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.9, 0.5, 0.5, 0.05};
static const uint8_t y10[] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0};

#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) < (eps))

static void test_against_sklearn(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    double auc, ap;
    assert_int_equal(eval_roc_auc(p10, y10, 10, &a, &auc), BT_OK);
    assert_int_equal(eval_pr_auc(p10, y10, 10, &a, &ap), BT_OK);
    assert_near(auc, 0.7916666666666666, 1e-12); /* 19 of 24 pairs, ties one half */
    assert_near(ap, 0.7095238095238094, 1e-12);
    assert_near(eval_brier(p10, y10, 10), 0.18250000000000002, 1e-12);
    assert_near(eval_log_loss(p10, y10, 10), 0.5264681450150281, 1e-12);
    arena_release(&a);
}

static void test_auc_by_hand(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    double auc, ap;
    /* Perfect ranking, reversed ranking, all tied. */
    const double p[] = {0.1, 0.2, 0.3, 0.4};
    const uint8_t up[] = {0, 0, 1, 1}, down[] = {1, 1, 0, 0};
    const double tied[] = {0.5, 0.5, 0.5, 0.5};
    assert_int_equal(eval_roc_auc(p, up, 4, &a, &auc), BT_OK);
    assert_near(auc, 1.0, 1e-12);
    assert_int_equal(eval_pr_auc(p, up, 4, &a, &ap), BT_OK);
    assert_near(ap, 1.0, 1e-12);
    assert_int_equal(eval_roc_auc(p, down, 4, &a, &auc), BT_OK);
    assert_near(auc, 0.0, 1e-12);
    /* down: positives at ranks 3 and 4 from the top: (1/3 + 2/4) / 2 */
    assert_int_equal(eval_pr_auc(p, down, 4, &a, &ap), BT_OK);
    assert_near(ap, (1.0 / 3 + 2.0 / 4) / 2, 1e-12);
    assert_int_equal(eval_roc_auc(tied, up, 4, &a, &auc), BT_OK);
    assert_near(auc, 0.5, 1e-12);
    /* One block: precision 2/4 at full recall. */
    assert_int_equal(eval_pr_auc(tied, up, 4, &a, &ap), BT_OK);
    assert_near(ap, 0.5, 1e-12);
    arena_release(&a);
}

static void test_one_class_is_nan(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    const double p[] = {0.1, 0.9, 0.4};
    const uint8_t none[] = {0, 0, 0}, all[] = {1, 1, 1};
    double v;
    assert_int_equal(eval_roc_auc(p, none, 3, &a, &v), BT_OK);
    assert_true(isnan(v));
    assert_int_equal(eval_roc_auc(p, all, 3, &a, &v), BT_OK);
    assert_true(isnan(v));
    assert_int_equal(eval_pr_auc(p, none, 3, &a, &v), BT_OK);
    assert_true(isnan(v));
    struct eval_report r;
    assert_int_equal(eval_report(p, none, 3, &a, &r), BT_OK);
    assert_true(isnan(r.roc_auc));
    json_t *j = eval_report_to_json(&r);
    assert_true(json_is_null(json_object_get(j, "roc_auc")));
    assert_int_equal(json_integer_value(json_object_get(j, "n")), 3);
    json_decref(j);
    /* A NaN prediction or one outside [0, 1] is refused. */
    const double bad[] = {0.1, NAN, 0.3};
    const double over[] = {0.1, 1.5, 0.3};
    assert_int_equal(eval_report(bad, all, 3, &a, &r), BT_EINVAL);
    assert_int_equal(eval_report(over, all, 3, &a, &r), BT_EINVAL);
    arena_release(&a);
}

static void test_deciles_and_calibration(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct eval_report r;
    assert_int_equal(eval_report(p10, y10, 10, &a, &r), BT_OK);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.positives, 4);
    assert_near(r.base_rate, 0.4, 1e-12);
    /* One row per decile, highest first: 0.9 (pos), 0.8 (pos, index 3 first) */
    assert_int_equal(r.deciles[0].count, 1);
    assert_int_equal(r.deciles[0].positives, 1);
    assert_near(r.deciles[0].lift, 2.5, 1e-12);
    assert_near(r.deciles[0].mean_p, 0.9, 1e-12);
    assert_int_equal(r.deciles[9].positives, 0);
    assert_near(r.deciles[9].mean_p, 0.05, 1e-12);
    size_t total = 0, pos = 0;
    for (int d = 0; d < EVAL_BINS; d++) {
        total += r.deciles[d].count;
        pos += r.deciles[d].positives;
    }
    assert_int_equal(total, 10);
    assert_int_equal(pos, 4);
    /* Calibration: [0.0,0.1): 0.05; [0.1,0.2): 0.1; [0.8,0.9): 0.8, 0.8; [0.9,1]: 0.9 */
    assert_int_equal(r.calibration[0].count, 1);
    assert_int_equal(r.calibration[1].count, 1);
    assert_int_equal(r.calibration[8].count, 2);
    assert_near(r.calibration[8].rate, 0.5, 1e-12);
    assert_int_equal(r.calibration[9].count, 1);
    assert_near(r.calibration[9].rate, 1.0, 1e-12);
    assert_int_equal(r.calibration[6].count, 0);
    /* Uneven n: deciles as equal as n allows. */
    double p23[23];
    uint8_t y23[23];
    for (int i = 0; i < 23; i++) {
        p23[i] = i / 23.0;
        y23[i] = i % 3 == 0;
    }
    assert_int_equal(eval_report(p23, y23, 23, &a, &r), BT_OK);
    for (int d = 0; d < EVAL_BINS; d++)
        assert_true(r.deciles[d].count == 2 || r.deciles[d].count == 3);
    arena_release(&a);
}

static void test_platt(void **state)
{
    (void)state;
    const double m[] = {-2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 1.5, 2.0, 0.7, -1.2};
    const uint8_t y[] = {0, 1, 0, 0, 1, 0, 1, 1, 1, 0};
    double a, b;
    assert_int_equal(eval_fit_platt(m, y, 10, &a, &b), BT_OK);
    /* scipy's BFGS on the same smoothed log loss */
    assert_near(a, 0.6764713848914142, 1e-6);
    assert_near(b, -0.05764100925372557, 1e-6);
    const uint8_t one_class[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(eval_fit_platt(m, one_class, 10, &a, &b), BT_EINVAL);
    /* Separable data stays finite (the smoothed targets bound the fit). */
    const double sep[] = {-3, -2, -1, 1, 2, 3};
    const uint8_t ysep[] = {0, 0, 0, 1, 1, 1};
    assert_int_equal(eval_fit_platt(sep, ysep, 6, &a, &b), BT_OK);
    assert_true(isfinite(a) && a > 0);
}

static void test_isotonic(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    const double m[] = {1.0, -2.0, -0.5, 0.0, 0.3, -1.0, 1.5, 2.0};
    const uint8_t y[] = {0, 0, 0, 0, 1, 1, 1, 1};
    double *ms, *ps;
    size_t n;
    assert_int_equal(eval_fit_isotonic(m, y, 8, 100, &ar, &ms, &ps, &n), BT_OK);
    /* sklearn: 0, 1/3 1/3 1/3, 1/2 1/2, 1 1 (sorted by margin) */
    assert_int_equal(n, 4);
    const double want_m[] = {-2.0, -0.5, 0.65, 1.75}, want_p[] = {0, 1.0 / 3, 0.5, 1};
    for (size_t i = 0; i < 4; i++) {
        assert_near(ms[i], want_m[i], 1e-12);
        assert_near(ps[i], want_p[i], 1e-12);
    }
    /* Reduced to two points: still ascending and non-decreasing. */
    assert_int_equal(eval_fit_isotonic(m, y, 8, 2, &ar, &ms, &ps, &n), BT_OK);
    assert_int_equal(n, 2);
    assert_true(ms[0] < ms[1] && ps[0] <= ps[1]);
    /* Equal margins are one block. */
    const double same[] = {0.5, 0.5, 0.5, 0.5};
    const uint8_t ys[] = {1, 0, 0, 1};
    assert_int_equal(eval_fit_isotonic(same, ys, 4, 10, &ar, &ms, &ps, &n), BT_OK);
    assert_int_equal(n, 1);
    assert_near(ps[0], 0.5, 1e-12);
    assert_int_equal(eval_fit_isotonic(same, ys, 0, 10, &ar, &ms, &ps, &n), BT_EINVAL);
    arena_release(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_sklearn),
        cmocka_unit_test(test_auc_by_hand),
        cmocka_unit_test(test_one_class_is_nan),
        cmocka_unit_test(test_deciles_and_calibration),
        cmocka_unit_test(test_platt),
        cmocka_unit_test(test_isotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
