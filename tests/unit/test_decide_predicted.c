/*
 * test_decide_predicted.c - the predictive score in the pipeline (core/decide.h
 * with a struct predict_model): p is known to fit rules and qualification as
 * `predicted`, mapped to points in the total (clamped), its factors among
 * the reasons; without a model `predicted` is missing and the score is the
 * rules' alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/decide.h"
#include "core/predict.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char yaml[] = "version: 1\n"
                           "scoring:\n"
                           "  range: [0, 100]\n"
                           "  fit:\n"
                           "    - {name: Likely buyer, when: \"predicted >= 0.5\", points: 95}\n"
                           "qualification:\n"
                           "  mql_when: \"predicted >= 0.9\"\n";

/* employees < 100: -1, else +1 (one tree); base b. */
static const char model_text[] =
    "{\"format\": \"baton-predict-1\","
    " \"features\": [{\"source\": \"employees\", \"kind\": \"numeric\"}],"
    " \"base\": %s,"
    " \"trees\": [{\"nodes\": [[0, 100.0, 1, 2, 2, 0.0, 10.0], [-1, null, -1, -1, -1, -1.0, 5.0],"
    " [-1, null, -1, -1, -1, 1.0, 5.0]]}],"
    " \"terms\": [], \"calibration\": {\"kind\": \"none\"}}";

struct harness {
    struct config *cfg;
    struct arena model_arena;
    struct predict_model pm;
    struct decide_model model;
    struct arena arena;
    struct lead lead;
    struct decide_result r;
};

static void load_model(struct harness *h, const char *base)
{
    char text[1024];
    snprintf(text, sizeof(text), model_text, base);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    struct bt_error err = BT_ERROR_INIT;
    if (predict_model_from_json(j, &h->model_arena, &h->pm, &err))
        fail_msg("model: %s", err.message);
    json_decref(j);
}

static struct harness *harness_new(bool with_model, double points)
{
    struct harness *h = calloc(1, sizeof(*h));
    struct bt_error err = BT_ERROR_INIT;
    if (config_load_string("t.yaml", yaml, strlen(yaml), &h->cfg, &err))
        fail_msg("config: %s", err.message);
    h->model = h->cfg->decide;
    if (with_model) {
        load_model(h, "0");
        h->model.predictive = &h->pm;
        h->model.predictive_version = "pm-test";
        h->model.predictive_points = points;
    }
    return h;
}

static void harness_free(struct harness *h)
{
    decide_result_release(&h->r);
    arena_release(&h->arena);
    arena_release(&h->model_arena);
    config_unref(h->cfg);
    free(h);
}

static void run(struct harness *h, int64_t employees)
{
    decide_result_release(&h->r);
    memset(&h->r, 0, sizeof(h->r));
    memset(&h->lead, 0, sizeof(h->lead));
    h->lead.attr[LEAD_EMAIL] = "jane@example.com";
    h->lead.attr[LEAD_STAGE] = "new";
    h->lead.employees = employees;
    h->lead.fields_json = "{}";
    struct decide_input in = {
        .model = &h->model, .lead = &h->lead, .route = DECIDE_ROUTE_NEVER, .now = 1000000};
    struct bt_error err = BT_ERROR_INIT;
    if (decide_lead(&in, &h->arena, &h->r, &err))
        fail_msg("decide: %s", err.message);
}

static const struct score_reason *find_reason(const struct score_result *s, const char *kind,
                                              const char *group)
{
    for (size_t i = 0; i < s->n_reasons; i++)
        if (!strcmp(s->reasons[i].kind, kind) &&
            (!group || (s->reasons[i].group && !strcmp(s->reasons[i].group, group))))
            return &s->reasons[i];
    return NULL;
}

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void test_predicted_in_rules_and_points(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(true, 10);
    run(h, 500); /* margin 1: p = 0.731 */
    const struct score_result *s = h->r.score;
    assert_true(s->has_predicted);
    assert_true(fabs(s->predicted - logistic(1.0)) < 1e-9);
    assert_true(s->fit == 95);
    /* 95 + round(0.731 * 10) = 102, clamped to the range */
    assert_true(s->total == 100);
    const struct score_reason *m = find_reason(s, "predicted", "model");
    assert_non_null(m);
    assert_string_equal(m->rule, "pm-test");
    assert_true(m->counted == 7);
    assert_true(fabs(m->after_decay - logistic(1.0)) < 1e-9);
    const struct score_reason *f = find_reason(s, "predicted", "positive");
    assert_non_null(f);
    assert_string_equal(f->rule, "employees");
    assert_true(fabs(f->points - 1.0) < 1e-6);
    assert_null(find_reason(s, "predicted", "negative"));
    assert_int_equal(h->r.stage, STAGE_NEW); /* 0.731 < 0.9 */
    assert_non_null(strstr(h->lead.score.reasons_json, "\"probability\":0.731"));

    run(h, 10); /* margin -1: p = 0.269 */
    s = h->r.score;
    assert_true(s->fit == 0);
    assert_true(s->total == 3);
    assert_non_null(find_reason(s, "predicted", "negative"));
    assert_null(find_reason(s, "fit", NULL));
    harness_free(h);
}

static void test_qualification_reads_predicted(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(true, 0);
    arena_release(&h->model_arena);
    load_model(h, "2"); /* margin 3: p = 0.953 */
    h->model.predictive = &h->pm;
    run(h, 500);
    assert_int_equal(h->r.stage, STAGE_MQL);
    assert_true(h->r.score->total == 95); /* points 0: nothing added */
    assert_true(find_reason(h->r.score, "predicted", "model")->counted == 0);
    harness_free(h);
}

static void test_without_a_model(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(false, 10);
    run(h, 500);
    assert_false(h->r.score->has_predicted);
    assert_true(h->r.score->total == 0); /* predicted is missing: the rule does not hold */
    assert_null(find_reason(h->r.score, "predicted", NULL));
    assert_null(strstr(h->lead.score.reasons_json, "predicted"));
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predicted_in_rules_and_points),
        cmocka_unit_test(test_qualification_reads_predicted),
        cmocka_unit_test(test_without_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
