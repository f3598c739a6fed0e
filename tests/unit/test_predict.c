/*
 * test_predict.c - the predictive model on small hand-built models whose
 * margins can be worked out on paper: the tree walk (x < threshold goes
 * yes, NaN goes missing, float comparison), terms' bins, the calibrations,
 * explain's contributions, predict_model_check's refusals, the JSON round
 * trip and the strict reader, the leakage guard on sources, and features
 * and factors read from a lead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/predict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) < (eps))

#define DAY 86400000LL
#define NOW 1700000000000LL

static const struct predict_feature features[] = {
    {"employees", PREDICT_NUMERIC, NULL},           /* 0 */
    {"industry", PREDICT_CATEGORY, "software"},     /* 1 */
    {"industry", PREDICT_CATEGORY, "retail"},       /* 2 */
    {"fields.budget", PREDICT_NUMERIC, NULL},       /* 3 */
    {"activity.demo.count", PREDICT_NUMERIC, NULL}, /* 4 */
};

/*
 * Tree 0 (nodes 0-4): employees < 100 ? (software < 0.5 ? -0.2 : 0.4) : 0.6,
 * missing employees -> yes. Tree 1 (nodes 5-7): budget < 5000 ? -0.1 : 0.3,
 * missing -> no.
 */
static struct predict_node nodes[] = {
    {0, 100.0f, 1, 4, 1, 0.1, 10}, {1, 0.5f, 2, 3, 3, 0.0, 6},  {-1, 0, -1, -1, -1, -0.2, 4},
    {-1, 0, -1, -1, -1, 0.4, 2},   {-1, 0, -1, -1, -1, 0.6, 4}, {3, 5000.0f, 6, 7, 7, 0.1, 10},
    {-1, 0, -1, -1, -1, -0.1, 5},  {-1, 0, -1, -1, -1, 0.3, 5},
};
static const uint32_t roots[] = {0, 5};
static const double edges[] = {1, 3};
static const double weights[] = {-0.5, 0.25, 1.0};
static struct predict_term terms[] = {{4, 2, edges, weights, -0.3, 0.0}};

static struct predict_model model(void)
{
    struct predict_model m = {0};
    m.n_features = 5;
    m.features = features;
    m.base = -1.0;
    m.n_trees = 2;
    m.roots = roots;
    m.n_nodes = 8;
    m.nodes = nodes;
    m.n_terms = 1;
    m.terms = terms;
    m.calibration.kind = PREDICT_CALIBRATION_NONE;
    return m;
}

static void test_walk_and_terms(void **state)
{
    (void)state;
    struct predict_model m = model();
    assert_int_equal(predict_model_check(&m, NULL), BT_OK);
    float x[5] = {50, 1, 0, 6000, 2};
    /* -1 + 0.4 + 0.3 + 0.25 */
    assert_near(predict_margin(&m, x), -0.05, 1e-6);
    x[0] = 100; /* not < 100: no */
    assert_near(predict_margin(&m, x), -1 + 0.6 + 0.3 + 0.25, 1e-6);
    x[0] = NAN; /* missing -> yes; software 1 -> 0.4 */
    x[3] = NAN; /* missing -> no */
    x[4] = 3;   /* edges[1] <= 3: the last bin */
    assert_near(predict_margin(&m, x), -1 + 0.4 + 0.3 + 1.0, 1e-6);
    x[4] = NAN;
    assert_near(predict_margin(&m, x), -1 + 0.4 + 0.3 - 0.3, 1e-6);
    x[4] = 0.5;
    assert_near(predict_margin(&m, x), -1 + 0.4 + 0.3 - 0.5, 1e-6);
    /* Float comparison: 99.99999999 is 100.0f. */
    float y[5] = {(float)99.99999999, 0, 0, 0, 1};
    assert_near(predict_margin(&m, y), -1 + 0.6 - 0.1 + 0.25, 1e-6);
}

/* The prepared (fast) walk gives the plain walk's margin and contributions
 * on a grid of values around every threshold, NaN included. */
static void test_fast_walk_equal(void **state)
{
    (void)state;
    struct predict_model plain = model(), fast = model();
    struct arena a = ARENA_INIT;
    assert_int_equal(predict_model_prepare(&fast, &a), BT_OK);
    assert_non_null(fast.fast);
    static const float v0[] = {NAN, 0, 99.99f, 100, 100.01f, 1e9f};
    static const float v1[] = {NAN, 0, 0.49f, 0.5f, 1};
    static const float v3[] = {NAN, -1, 4999.9f, 5000, 5001};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 5; j++)
            for (size_t k = 0; k < 5; k++) {
                float x[5] = {v0[i], v1[j], 0, v3[k], (float)k};
                assert_true(predict_margin(&fast, x) == predict_margin(&plain, x));
                double c1[5], c2[5], b1, b2;
                predict_explain(&fast, x, c1, &b1);
                predict_explain(&plain, x, c2, &b2);
                assert_true(b1 == b2);
                assert_memory_equal(c1, c2, sizeof(c1));
            }
    /* A missing branch that is neither yes nor no: no fast form, same answers. */
    struct predict_node odd[] = {{0, 1.0f, 1, 2, 3, 0, 3},
                                 {-1, 0, -1, -1, -1, 1, 1},
                                 {-1, 0, -1, -1, -1, 2, 1},
                                 {-1, 0, -1, -1, -1, 3, 1}};
    static const uint32_t one_root[] = {0};
    struct predict_model o = {0};
    o.n_features = 1;
    o.features = features;
    o.n_trees = 1;
    o.roots = one_root;
    o.n_nodes = 4;
    o.nodes = odd;
    assert_int_equal(predict_model_check(&o, NULL), BT_OK);
    assert_int_equal(predict_model_prepare(&o, &a), BT_OK);
    assert_null(o.fast);
    float nan_x[1] = {NAN};
    assert_near(predict_margin(&o, nan_x), 3, 1e-12);
    arena_release(&a);
}

/* A model without features (one leaf: a constant) predicts and explains
 * without touching any contribution. */
static void test_constant_model(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"format\":\"baton-predict-1\",\"features\":[],\"base\":-2,"
                           "\"trees\":[{\"nodes\":[[-1,null,-1,-1,-1,0.5,3]]}],\"terms\":[],"
                           "\"calibration\":{\"kind\":\"none\"}}",
                           0, NULL);
    assert_non_null(j);
    struct arena a = ARENA_INIT;
    struct predict_model m;
    assert_int_equal(predict_model_from_json(j, &a, &m, NULL), BT_OK);
    assert_non_null(m.fast);
    double guard[1] = {42}, bias;
    assert_near(predict_margin(&m, NULL), -1.5, 1e-12);
    predict_explain(&m, NULL, guard, &bias);
    assert_near(bias, -1.5, 1e-12);
    assert_true(guard[0] == 42);
    json_decref(j);
    arena_release(&a);
}

static void test_calibration(void **state)
{
    (void)state;
    struct predict_model m = model();
    assert_near(predict_probability(&m, 0), 0.5, 1e-12);
    assert_near(predict_probability(&m, -800), 0, 1e-12);
    m.calibration = (struct predict_calibration){PREDICT_CALIBRATION_PLATT, 2, 1, 0, NULL, NULL};
    assert_near(predict_probability(&m, 0.5), 1 / (1 + exp(-2.0)), 1e-12);
    static const double cm[] = {-1, 0, 2}, cp[] = {0.1, 0.2, 0.6};
    m.calibration = (struct predict_calibration){PREDICT_CALIBRATION_ISOTONIC, 0, 0, 3, cm, cp};
    assert_int_equal(predict_model_check(&m, NULL), BT_OK);
    assert_near(predict_probability(&m, -5), 0.1, 1e-12);
    assert_near(predict_probability(&m, -0.5), 0.15, 1e-12);
    assert_near(predict_probability(&m, 1), 0.4, 1e-12);
    assert_near(predict_probability(&m, 2), 0.6, 1e-12);
    assert_near(predict_probability(&m, 9), 0.6, 1e-12);
    static const double bad_p[] = {0.3, 0.2, 0.6};
    m.calibration.p = bad_p;
    assert_int_equal(predict_model_check(&m, NULL), BT_EINVAL);
}

static void test_explain_adds_up(void **state)
{
    (void)state;
    struct predict_model m = model();
    float x[5] = {50, 1, 0, 6000, 2};
    double c[5], bias;
    predict_explain(&m, x, c, &bias);
    /* bias: base + roots' values + term mean */
    assert_near(bias, -1 + 0.1 + 0.1 + 0.0, 1e-12);
    assert_near(c[0], 0.0 - 0.1, 1e-12); /* root 0.1 -> node 1 (0.0) */
    assert_near(c[1], 0.4 - 0.0, 1e-12);
    assert_near(c[2], 0, 1e-12);
    assert_near(c[3], 0.3 - 0.1, 1e-12);
    assert_near(c[4], 0.25, 1e-12);
    double sum = bias;
    for (int i = 0; i < 5; i++)
        sum += c[i];
    assert_near(sum, predict_margin(&m, x), 1e-6);
}

static void test_check_refuses(void **state)
{
    (void)state;
    struct bt_error err = BT_ERROR_INIT;
    struct predict_model m = model();
    struct predict_node bad[8];
    memcpy(bad, nodes, sizeof(bad));
    m.nodes = bad;
    bad[1].yes = 0; /* back to the root: a cycle */
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "later node"));
    memcpy(bad, nodes, sizeof(bad));
    bad[1].no = 6; /* into the next tree */
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
    memcpy(bad, nodes, sizeof(bad));
    bad[5].feature = 5; /* no such feature */
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
    memcpy(bad, nodes, sizeof(bad));
    bad[2].value = NAN;
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);

    m = model();
    static const double unsorted[] = {3, 1};
    struct predict_term t = terms[0];
    t.edges = unsorted;
    m.terms = &t;
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "ascending"));

    m = model();
    struct predict_feature f[5];
    memcpy(f, features, sizeof(f));
    f[3].source = "stage";
    m.features = f;
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "stage"));
    f[3].source = "fields.budget";
    f[1].category = "Software"; /* categories are lower-case */
    assert_int_equal(predict_model_check(&m, &err), BT_EINVAL);
}

static void test_sources_allowed(void **state)
{
    (void)state;
    const char *why;
    const char *ok[] = {"employees",
                        "industry",
                        "email.free",
                        "fields.job",
                        "activity.web_visit.count",
                        "activity.demo.last_days",
                        "country"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(predict_feature_source_allowed(ok[i], &why));
        assert_null(why);
    }
    const char *refused[] = {"stage",      "owner",   "score",       "fit",       "engagement",
                             "grade",      "account", "external_id", "predicted", "nonsense",
                             "activity.x", "",        "fields"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_false(predict_feature_source_allowed(refused[i], &why));
        assert_non_null(why);
    }
    assert_false(predict_feature_source_allowed("stage", &why));
    assert_non_null(strstr(why, "after qualification"));
}

static void test_json_round_trip(void **state)
{
    (void)state;
    struct predict_model m = model();
    static const double cm[] = {-1, 0, 2}, cp[] = {0.1, 0.2, 0.6};
    m.calibration = (struct predict_calibration){PREDICT_CALIBRATION_ISOTONIC, 0, 0, 3, cm, cp};
    json_t *j = predict_model_to_json(&m);
    char *text = json_dumps(j, JSON_COMPACT);
    struct arena a = ARENA_INIT;
    struct predict_model back;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(predict_model_from_json(j, &a, &back, &err), BT_OK);
    json_t *again = predict_model_to_json(&back);
    char *text2 = json_dumps(again, JSON_COMPACT);
    assert_string_equal(text, text2);
    float x[5] = {50, 1, 0, 6000, 2};
    assert_true(predict_margin(&back, x) == predict_margin(&m, x));
    assert_true(back.nodes[6].yes == -1 && back.nodes[5].yes == 6); /* absolute again */
    free(text);
    free(text2);
    json_decref(again);

    /* The reader is strict. */
    static const char *const bad[] = {
        "{\"format\":\"baton-predict-2\"}",
        "[]",
        "{\"format\":\"baton-predict-1\",\"features\":[],\"base\":0,\"trees\":[],\"terms\":[],"
        "\"calibration\":{\"kind\":\"none\"},\"extra\":1}",
        "{\"format\":\"baton-predict-1\",\"features\":[],\"base\":0,\"trees\":[],\"terms\":[],"
        "\"calibration\":{\"kind\":\"magic\"}}",
        "{\"format\":\"baton-predict-1\",\"features\":[{\"source\":\"employees\",\"kind\":"
        "\"numeric\"}],\"base\":0,\"trees\":[{\"nodes\":[[0,1.5,0,1,1,0,1],[-1,null,-1,-1,-1,1,"
        "1]]}],\"terms\":[],\"calibration\":{\"kind\":\"none\"}}",
        "{\"format\":\"baton-predict-1\",\"features\":[{\"source\":\"employees\",\"kind\":"
        "\"numeric\"}],\"base\":0,\"trees\":[{\"nodes\":[[0,1.5,1,2,1,0,1],[-1,null,-1,-1,-1,1,"
        "1]]}],\"terms\":[],\"calibration\":{\"kind\":\"none\"}}",
        "{\"format\":\"baton-predict-1\",\"features\":[{\"source\":\"grade\",\"kind\":"
        "\"numeric\"}],\"base\":0,\"trees\":[],\"terms\":[],\"calibration\":{\"kind\":\"none\"}}",
        "{\"format\":\"baton-predict-1\",\"features\":[],\"base\":\"0\",\"trees\":[],\"terms\":[],"
        "\"calibration\":{\"kind\":\"none\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_non_null(b);
        err = (struct bt_error)BT_ERROR_INIT;
        assert_int_equal(predict_model_from_json(b, &a, &back, &err), BT_EINVAL);
        assert_true(err.message[0] != '\0');
        json_decref(b);
    }
    json_decref(j);
    arena_release(&a);
}

static struct lead make_lead(void)
{
    struct lead l;
    memset(&l, 0, sizeof(l));
    l.attr[LEAD_INDUSTRY] = "Software";
    l.employees = 50;
    l.fields_json = "{\"budget\":\"6000\"}";
    return l;
}

static void test_features_from_lead(void **state)
{
    (void)state;
    struct predict_model m = model();
    struct arena a = ARENA_INIT;
    struct lead l = make_lead();
    struct activity_fact facts[] = {{"demo", 2, NOW - DAY, NOW - 3 * DAY}};
    float x[5];
    assert_int_equal(predict_features(&m, &l, facts, 1, NOW, &a, x), BT_OK);
    assert_true(x[0] == 50);
    assert_true(x[1] == 1); /* "Software" lower-cased equals "software" */
    assert_true(x[2] == 0);
    assert_true(x[3] == 6000); /* a string that is a number */
    assert_true(x[4] == 2);

    l.attr[LEAD_INDUSTRY] = NULL;
    l.employees = -1;
    l.fields_json = "{}";
    assert_int_equal(predict_features(&m, &l, NULL, 0, NOW, &a, x), BT_OK);
    assert_true(isnan(x[0]) && isnan(x[1]) && isnan(x[2]) && isnan(x[3]));
    assert_true(x[4] == 0 || isnan(x[4])); /* no demo activity */
    arena_release(&a);
}

static void test_factors(void **state)
{
    (void)state;
    struct predict_model m = model();
    struct predict_reader *r;
    assert_int_equal(predict_reader_new(&m, &r, NULL), BT_OK);
    struct arena a = ARENA_INIT;
    struct lead l = make_lead();
    struct activity_fact facts[] = {{"demo", 2, NOW - DAY, NOW - 3 * DAY}};
    float x[5];
    double c[5];
    struct predict_result res;
    assert_int_equal(predict_reader_lead(r, &l, facts, 1, NOW, &a, x, c, &res), BT_OK);
    assert_near(res.margin, -0.05, 1e-6);
    assert_near(res.probability, 1 / (1 + exp(0.05)), 1e-6);
    /* industry +0.4, budget +0.2, demo +0.25; employees -0.1 */
    assert_int_equal(res.n_positive, 3);
    assert_string_equal(res.positive[0].feature, "industry=software");
    assert_near(res.positive[0].contribution, 0.4, 1e-9);
    assert_string_equal(res.positive[1].feature, "activity.demo.count");
    assert_string_equal(res.positive[2].feature, "fields.budget");
    assert_near(res.positive[2].value, 6000, 1e-9);
    assert_int_equal(res.n_negative, 1);
    assert_string_equal(res.negative[0].feature, "employees");
    assert_near(res.negative[0].contribution, -0.1, 1e-9);

    /* A category the model does not know reads 0 for every indicator. */
    l.attr[LEAD_INDUSTRY] = "Mining";
    assert_int_equal(predict_reader_lead(r, &l, facts, 1, NOW, &a, x, c, &res), BT_OK);
    assert_true(x[1] == 0 && x[2] == 0);
    assert_int_equal(res.n_negative, 2);
    assert_string_equal(res.negative[0].feature, "industry=mining");
    assert_near(res.negative[0].contribution, -0.2, 1e-9);

    /* The one-call form agrees with the prepared reader. */
    struct predict_result res2;
    assert_int_equal(predict_lead(&m, &l, facts, 1, NOW, &a, x, c, &res2), BT_OK);
    assert_true(res2.margin == res.margin);
    predict_reader_free(r);
    predict_reader_free(NULL);
    arena_release(&a);
}

/* More factors than PREDICT_FACTORS_MAX: the largest are kept, in order. */
static void test_factor_limit(void **state)
{
    (void)state;
    enum { N = 12 };
    static struct predict_feature f[N];
    static char names[N][32];
    static double w[N][2];
    static const double e[] = {0.5};
    static struct predict_term t[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "fields.f%d", i);
        f[i] = (struct predict_feature){names[i], PREDICT_NUMERIC, NULL};
        w[i][0] = 0;
        w[i][1] = (i % 2 ? -1 : 1) * 0.1 * (i + 1);
        t[i] = (struct predict_term){i, 1, e, w[i], 0, 0};
    }
    struct predict_model m = {0};
    m.n_features = N;
    m.features = f;
    m.n_terms = N;
    m.terms = t;
    assert_int_equal(predict_model_check(&m, NULL), BT_OK);
    struct lead l;
    memset(&l, 0, sizeof(l));
    l.employees = -1;
    l.fields_json = "{\"f0\":1,\"f1\":1,\"f2\":1,\"f3\":1,\"f4\":1,\"f5\":1,\"f6\":1,\"f7\":1,"
                    "\"f8\":1,\"f9\":1,\"f10\":1,\"f11\":1}";
    struct arena a = ARENA_INIT;
    float x[N];
    double c[N];
    struct predict_result res;
    assert_int_equal(predict_lead(&m, &l, NULL, 0, NOW, &a, x, c, &res), BT_OK);
    assert_int_equal(res.n_positive, PREDICT_FACTORS_MAX);
    assert_string_equal(res.positive[0].feature, "fields.f10");
    assert_string_equal(res.positive[4].feature, "fields.f2");
    assert_int_equal(res.n_negative, PREDICT_FACTORS_MAX);
    assert_string_equal(res.negative[0].feature, "fields.f11");
    assert_string_equal(res.negative[4].feature, "fields.f3");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_and_terms),     cmocka_unit_test(test_fast_walk_equal),
        cmocka_unit_test(test_constant_model),     cmocka_unit_test(test_calibration),
        cmocka_unit_test(test_explain_adds_up),    cmocka_unit_test(test_check_refuses),
        cmocka_unit_test(test_sources_allowed),    cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_features_from_lead), cmocka_unit_test(test_factors),
        cmocka_unit_test(test_factor_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
