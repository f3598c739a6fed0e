/*
 * test_xgb_model.c - an XGBoost booster trained in-process (100 trees of
 * depth 4 on synthetic rows with missing values) converted into Baton's
 * flat trees: the walk gives XGBoost's own margin within 1e-6 on every row,
 * the probability is XGBoost's, explain's bias + contributions add up to the
 * margin, the JSON round trip keeps every prediction, and boosters that do
 * not fit are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/predict.h"
#include "ml/xgb_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 2000
#define COLS 6

static float xs[ROWS * COLS];
static float labels[ROWS];

static uint64_t rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const struct predict_feature features[COLS] = {
    {"employees", PREDICT_NUMERIC, NULL},
    {"fields.budget", PREDICT_NUMERIC, NULL},
    {"activity.web_visit.count", PREDICT_NUMERIC, NULL},
    {"industry", PREDICT_CATEGORY, "software"},
    {"industry", PREDICT_CATEGORY, "retail"},
    {"fields.age", PREDICT_NUMERIC, NULL},
};

static void make_data(void)
{
    for (size_t i = 0; i < ROWS; i++) {
        float *x = &xs[i * COLS];
        x[0] = (float)floor(uniform() * 5000);
        x[1] = (float)(uniform() * 100000);
        x[2] = (float)floor(uniform() * 10);
        double ind = uniform();
        x[3] = ind < 0.4 ? 1.0f : 0.0f;
        x[4] = ind >= 0.4 && ind < 0.7 ? 1.0f : 0.0f;
        x[5] = (float)(18 + uniform() * 60);
        for (size_t c = 0; c < COLS; c++)
            if (uniform() < 0.15)
                x[c] = NAN;
        double z = -1 + (isnan(x[0]) ? 0 : x[0] / 2000.0) + (isnan(x[2]) ? -0.5 : 0.3 * x[2]) +
                   (x[3] == 1 ? 1 : 0) - (x[4] == 1 ? 0.7 : 0) + 2 * (uniform() - 0.5);
        labels[i] = uniform() < 1 / (1 + exp(-z + 1.5)) ? 1.0f : 0.0f;
    }
}

static BoosterHandle train(int trees, int depth)
{
    DMatrixHandle d;
    BoosterHandle b;
    assert_int_equal(XGDMatrixCreateFromMat(xs, ROWS, COLS, NAN, &d), 0);
    assert_int_equal(XGDMatrixSetFloatInfo(d, "label", labels, ROWS), 0);
    assert_int_equal(XGBoosterCreate(&d, 1, &b), 0);
    char depth_text[16];
    snprintf(depth_text, sizeof(depth_text), "%d", depth);
    assert_int_equal(XGBoosterSetParam(b, "objective", "binary:logistic"), 0);
    assert_int_equal(XGBoosterSetParam(b, "max_depth", depth_text), 0);
    assert_int_equal(XGBoosterSetParam(b, "eta", "0.1"), 0);
    assert_int_equal(XGBoosterSetParam(b, "nthread", "1"), 0);
    assert_int_equal(XGBoosterSetParam(b, "tree_method", "hist"), 0);
    for (int i = 0; i < trees; i++)
        assert_int_equal(XGBoosterUpdateOneIter(b, i, d), 0);
    XGDMatrixFree(d);
    return b;
}

static void test_margins_equal_xgboost(void **state)
{
    (void)state;
    make_data();
    BoosterHandle b = train(100, 4);
    struct arena arena = ARENA_INIT;
    struct predict_model m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(xgb_model_convert(b, features, COLS, &arena, &m, &err), BT_OK);
    assert_int_equal(m.n_trees, 100);
    assert_true(m.n_nodes > 100);
    static double margins[ROWS];
    assert_int_equal(xgb_model_predict_margins(b, xs, ROWS, COLS, margins, &err), BT_OK);

    /* XGBoost's probabilities, to compare predict_probability with. */
    DMatrixHandle d;
    bst_ulong len;
    const float *probs;
    assert_int_equal(XGDMatrixCreateFromMat(xs, ROWS, COLS, NAN, &d), 0);
    assert_int_equal(XGBoosterPredict(b, d, 0, 0, 0, &len, &probs), 0);
    assert_int_equal(len, ROWS);

    double worst = 0, spread = 0;
    double contrib[COLS];
    for (size_t i = 0; i < ROWS; i++) {
        const float *x = &xs[i * COLS];
        double mine = predict_margin(&m, x);
        double diff = fabs(mine - margins[i]);
        if (diff > worst)
            worst = diff;
        spread += fabs(margins[i] - margins[0]);
        assert_true(fabs(predict_probability(&m, mine) - probs[i]) < 1e-6);
        double bias;
        predict_explain(&m, x, contrib, &bias);
        double sum = bias;
        for (size_t c = 0; c < COLS; c++)
            sum += contrib[c];
        assert_true(fabs(sum - mine) < 1e-5);
    }
    printf("largest |baton - xgboost| margin difference: %.3g\n", worst);
    /* The fast walk (prepared by the conversion) and the plain walk agree
     * bit for bit, contributions included. */
    assert_non_null(m.fast);
    struct predict_model plain = m;
    plain.fast = NULL;
    double contrib2[COLS];
    for (size_t i = 0; i < ROWS; i++) {
        const float *x = &xs[i * COLS];
        assert_true(predict_margin(&plain, x) == predict_margin(&m, x));
        double b1, b2;
        predict_explain(&m, x, contrib, &b1);
        predict_explain(&plain, x, contrib2, &b2);
        assert_true(b1 == b2);
        assert_memory_equal(contrib, contrib2, sizeof(contrib));
    }
    assert_true(worst < 1e-6);
    assert_true(spread > 0.1 * ROWS); /* the model is not a constant */
    XGDMatrixFree(d);

    /* Through JSON and back: the same margins. */
    json_t *j = predict_model_to_json(&m);
    struct predict_model back;
    assert_int_equal(predict_model_from_json(j, &arena, &back, &err), BT_OK);
    for (size_t i = 0; i < ROWS; i++)
        assert_true(predict_margin(&back, &xs[i * COLS]) == predict_margin(&m, &xs[i * COLS]));
    json_decref(j);
    arena_release(&arena);
    XGBoosterFree(b);
}

/* The "source" that names only a category's first value still reads the
 * category; a split on a column beyond the features given is refused. */
static void test_too_few_features_refused(void **state)
{
    (void)state;
    make_data();
    BoosterHandle b = train(20, 3);
    struct arena arena = ARENA_INIT;
    struct predict_model m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(xgb_model_convert(b, features, 1, &arena, &m, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "features given"));
    arena_release(&arena);
    XGBoosterFree(b);
}

static void test_wrong_objective_refused(void **state)
{
    (void)state;
    make_data();
    DMatrixHandle d;
    BoosterHandle b;
    assert_int_equal(XGDMatrixCreateFromMat(xs, ROWS, COLS, NAN, &d), 0);
    assert_int_equal(XGDMatrixSetFloatInfo(d, "label", labels, ROWS), 0);
    assert_int_equal(XGBoosterCreate(&d, 1, &b), 0);
    assert_int_equal(XGBoosterSetParam(b, "objective", "reg:squarederror"), 0);
    assert_int_equal(XGBoosterSetParam(b, "nthread", "1"), 0);
    assert_int_equal(XGBoosterUpdateOneIter(b, 0, d), 0);
    struct arena arena = ARENA_INIT;
    struct predict_model m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(xgb_model_convert(b, features, COLS, &arena, &m, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "binary:logistic"));
    arena_release(&arena);
    XGBoosterFree(b);
    XGDMatrixFree(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_margins_equal_xgboost),
        cmocka_unit_test(test_too_few_features_refused),
        cmocka_unit_test(test_wrong_objective_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
