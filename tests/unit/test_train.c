/*
 * test_train.c - the trainer (ml/train.h) on synthetic history with a known
 * signal: too little history is BT_EINVAL naming the numbers, the model
 * found the signal on the held-out period, its stored JSON reads back into
 * a model giving the same probabilities, and the metrics name the parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400000LL

/* Deterministic: converts when score > 0.55, with 10% of labels flipped. */
static void build(struct dataset *ds, size_t n)
{
    uint64_t s = 42;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(s >> 11) / 9007199254740992.0;
        const char *plan = (i % 3 == 0) ? "pro" : "free";
        double score = u * 0.7 + (plan[0] == 'p' ? 0.3 : 0.0);
        int label = score > 0.55;
        if (v < 0.1)
            label = !label;
        char fields[128];
        snprintf(fields, sizeof(fields), "{\"usage\":%.4f,\"plan\":\"%s\"}", u, plan);
        struct lead l;
        memset(&l, 0, sizeof(l));
        l.id = (int64_t)i + 1;
        l.employees = -1;
        l.fields_json = fields;
        l.created_at = (int64_t)i * 3600000;
        struct bt_error err = BT_ERROR_INIT;
        assert_int_equal(dataset_add(ds, &l, l.created_at, label, NULL, 0, &err), BT_OK);
    }
}

static void test_too_little_history(void **state)
{
    (void)state;
    struct dataset ds;
    dataset_init(&ds);
    build(&ds, 500);
    struct train_options o = TRAIN_OPTIONS_INIT;
    struct arena a = ARENA_INIT;
    struct train_result r;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(train_dataset(&ds, &o, &a, &r, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "too little history"));
    assert_non_null(strstr(err.message, "400 labelled"));
    assert_non_null(strstr(err.message, "1000"));
    arena_release(&a);
    dataset_release(&ds);
}

static void test_learns_the_signal(void **state)
{
    (void)state;
    struct dataset ds;
    dataset_init(&ds);
    build(&ds, 3000);
    struct train_options o = TRAIN_OPTIONS_INIT;
    o.threads = 1;
    o.now = 1767225600000; /* 2026-01-01 */
    struct arena a = ARENA_INIT;
    struct train_result r;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(train_dataset(&ds, &o, &a, &r, &err), BT_OK);
    assert_true(r.test_auc > 0.85);
    assert_int_equal(r.model.n_train, 2400);
    assert_int_equal(r.model.n_test, 600);
    assert_int_equal(strncmp(r.model.version, "pm-20260101T000000-", 19), 0);
    assert_int_equal(r.model.test_from, 2400 * 3600000LL);

    /* the stored JSON is a model the daemon can load */
    json_t *j = json_loads(r.model.model, 0, NULL);
    assert_non_null(j);
    struct predict_model m;
    assert_int_equal(predict_model_from_json(j, &a, &m, &err), BT_OK);
    json_decref(j);
    float x[16];
    assert_true(m.n_features <= 16);
    struct dataset one = ds;
    one.rows += 2999;
    one.n = 1;
    assert_int_equal(dataset_matrix(&one, m.features, m.n_features, x, &err), BT_OK);
    double p = predict_probability(&m, predict_margin(&m, x));
    assert_true(p >= 0 && p <= 1);

    json_t *metrics = json_loads(r.model.metrics, 0, NULL);
    json_t *test = json_object_get(metrics, "test");
    assert_non_null(json_object_get(test, "model"));
    assert_non_null(json_object_get(test, "logistic"));
    assert_non_null(json_object_get(test, "xgboost"));
    assert_true(json_is_number(json_object_get(json_object_get(metrics, "training"), "seconds")));
    json_decref(metrics);
    arena_release(&a);
    dataset_release(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_too_little_history),
        cmocka_unit_test(test_learns_the_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
