/*
 * test_world.c - the simulated world: the spec's checks, reproducibility,
 * every lead accounted for, the oracle at the top on expected conversions,
 * and best_match within its fairness bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/world.h"

#include <math.h>
#include <string.h>

static const char small[] =
    "{\"seed\": 5, \"reps\": 4, \"segments\": {\"industry\": {\"a\": 0.5, \"b\": 0.3, \"c\": 0.2},"
    " \"size\": {\"s\": 1, \"l\": 1}}, \"skill\": {\"base\": 0.15, \"match_spread\": 1.0},"
    " \"warmup\": 3000, \"test\": 3000, \"refresh_every\": 500, \"absence\": 0.1}";

static void run(const char *text, struct world_spec *spec, struct world_result *r)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(world_spec_from_json(j, spec, &err), BT_OK);
    json_decref(j);
    assert_int_equal(world_run(spec, r, &err), BT_OK);
}

static void test_race(void **unused)
{
    (void)unused;
    struct world_spec spec;
    static struct world_result r, again;
    run(small, &spec, &r);
    assert_int_equal(spec.n_reps, 4);
    assert_true(fabs(spec.fields[1].shares[0] - 0.5) < 1e-12);
    for (int k = 0; k < WORLD_STRATEGIES; k++) {
        const struct world_outcome *o = &r.s[k];
        int64_t sum = o->holds;
        for (size_t i = 0; i < spec.n_reps; i++)
            sum += o->assigned[i];
        assert_int_equal(o->leads, 3000);
        assert_int_equal(sum, 3000);
        assert_true(o->expected <= r.s[WORLD_ORACLE].expected + 1e-9);
    }
    /* the same luck for all: holds (nobody present) are the same leads */
    assert_int_equal(r.s[WORLD_ROUND_ROBIN].holds, r.s[WORLD_BEST_MATCH].holds);
    assert_true(r.s[WORLD_BEST_MATCH].expected > r.s[WORLD_ROUND_ROBIN].expected);
    assert_true(r.s[WORLD_BEST_MATCH].max_share_dev <= 0.21);
    assert_true(r.capture_expected > 0.3 && r.capture_expected <= 1.05);
    assert_true(r.history > 2500 && r.history <= 3000); /* warm-up leads with someone present */
    struct world_spec spec2;
    run(small, &spec2, &again);
    assert_memory_equal(&r, &again, sizeof(r));
    json_t *j = world_result_to_json(&spec, &r);
    assert_int_equal(json_array_size(json_object_get(j, "strategies")), WORLD_STRATEGIES);
    json_decref(j);
    world_spec_free(&spec);
    world_spec_free(&spec2);
}

static void test_bad_specs(void **unused)
{
    (void)unused;
    static const char *const bad[][2] = {
        {"[]", NULL},
        {"{\"segments\": {\"i\": {\"a\": 1}}}", "reps"},
        {"{\"reps\": 1, \"segments\": {\"i\": {\"a\": 1}}}", "reps"},
        {"{\"reps\": 3}", "segments"},
        {"{\"reps\": 3, \"segments\": {\"i\": {\"a\": -1}}}", "segments"},
        {"{\"reps\": 3, \"segments\": {\"i\": {\"a\": 1}}, \"test\": 0}", "test"},
        {"{\"reps\": 3, \"segments\": {\"i\": {\"a\": 1}}, \"skill\": {\"base\": 1}}", "base"},
        {"{\"reps\": 3, \"segments\": {\"i\": {\"a\": 1}}, \"tolerance\": -0.5}", "tolerance"},
        {"{\"reps\": [\"x\", \"x\"], \"segments\": {\"i\": {\"a\": 1}}}", "reps"},
        {"{\"reps\": 3, \"segments\": {\"i\": {\"a\": 1}}, \"extra\": 1}", "extra"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i][0], 0, NULL);
        struct world_spec spec;
        struct bt_error err = BT_ERROR_INIT;
        assert_int_equal(world_spec_from_json(j, &spec, &err), BT_EINVAL);
        if (bad[i][1])
            assert_string_equal(err.field, bad[i][1]);
        assert_int_equal(spec.n_reps, 0);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race),
        cmocka_unit_test(test_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
