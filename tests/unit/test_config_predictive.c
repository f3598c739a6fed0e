/*
 * test_config_predictive.c - the `predictive` section: its defaults, every
 * key read back, `predicted` usable in fit rules, and the FILE:LINE:COL of
 * each kind of error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config *load_ok(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_OK)
        fail_msg("expected success, got %s: %s", bt_strerror(rc), err.message);
    assert_non_null(cfg);
    return cfg;
}

static void expect_error(const char *yaml, const char *prefix, const char *part)
{
    struct config *cfg = (struct config *)1;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_ECONFIG)
        fail_msg("expected an error \"%s\" for:\n%s", part, yaml);
    assert_null(cfg);
    if (strncmp(err.message, prefix, strlen(prefix)) != 0)
        fail_msg("expected prefix \"%s\", got \"%s\"", prefix, err.message);
    if (part && !strstr(err.message, part))
        fail_msg("expected \"%s\" in \"%s\"", part, err.message);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config *cfg = load_ok("version: 1\n");
    const struct config_predictive *p = &cfg->predictive;
    assert_true(p->enabled);
    assert_string_equal(p->target, "converted");
    assert_int_equal(p->min_labelled, 1000);
    assert_int_equal(p->min_per_class, 100);
    assert_int_equal(p->retrain_every_ms, 0);
    assert_true(p->points == 0);
    assert_int_equal(p->n_exclude_fields, 0);
    config_unref(cfg);
}

static void test_every_key(void **state)
{
    (void)state;
    struct config *cfg = load_ok("version: 1\n"
                                 "predictive:\n"
                                 "  enabled: false\n"
                                 "  target: sql\n"
                                 "  min_labelled: 500\n"
                                 "  min_per_class: 50\n"
                                 "  retrain_every: 7d\n"
                                 "  points: 30\n"
                                 "  exclude_fields: [won_reason, fields.closed_value]\n");
    const struct config_predictive *p = &cfg->predictive;
    assert_false(p->enabled);
    assert_string_equal(p->target, "sql");
    assert_int_equal(p->min_labelled, 500);
    assert_int_equal(p->min_per_class, 50);
    assert_int_equal(p->retrain_every_ms, 7 * 24 * 3600 * 1000LL);
    assert_true(p->points == 30);
    assert_int_equal(p->n_exclude_fields, 2);
    assert_string_equal(p->exclude_fields[0], "won_reason");
    assert_string_equal(p->exclude_fields[1], "closed_value");
    config_unref(cfg);

    cfg = load_ok("version: 1\npredictive: {retrain_every: off, points: 12.5}\n");
    assert_int_equal(cfg->predictive.retrain_every_ms, 0);
    assert_true(cfg->predictive.points == 12.5);
    config_unref(cfg);
}

static void test_predicted_in_rules(void **state)
{
    (void)state;
    struct config *cfg = load_ok("version: 1\n"
                                 "scoring:\n"
                                 "  fit:\n"
                                 "    - {name: likely, when: \"predicted >= 0.4\", points: 10}\n"
                                 "qualification:\n"
                                 "  mql_when: \"predicted >= 0.7 or score >= 80\"\n");
    config_unref(cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("version: 1\npredictive: 3\n", "t.yaml:2:13: ", "predictive");
    expect_error("version: 1\npredictive:\n  colour: red\n", "t.yaml:3:3: ", "colour");
    expect_error("version: 1\npredictive:\n  target: revenue\n",
                 "t.yaml:3:11: ", "expected converted or sql");
    expect_error("version: 1\npredictive:\n  enabled: maybe\n",
                 "t.yaml:3:12: ", "predictive.enabled");
    expect_error("version: 1\npredictive:\n  min_labelled: 0\n",
                 "t.yaml:3:17: ", "predictive.min_labelled");
    expect_error("version: 1\npredictive:\n  min_per_class: -5\n",
                 "t.yaml:3:18: ", "predictive.min_per_class");
    expect_error("version: 1\npredictive:\n  min_labelled: 100\n  min_per_class: 80\n",
                 "t.yaml:4:18: ", "min_labelled of at least 160");
    expect_error("version: 1\npredictive:\n  retrain_every: 500ms\n",
                 "t.yaml:3:18: ", "predictive.retrain_every");
    expect_error("version: 1\npredictive:\n  retrain_every: weekly\n",
                 "t.yaml:3:18: ", "predictive.retrain_every");
    expect_error("version: 1\npredictive:\n  points: 5000\n", "t.yaml:3:11: ", "from 0 to 1000");
    expect_error("version: 1\npredictive:\n  points: -1\n", "t.yaml:3:11: ", "from 0 to 1000");
    expect_error("version: 1\npredictive:\n  exclude_fields: [ok, \"a.b\"]\n",
                 "t.yaml:3:24: ", "exclude_fields[1]");
    expect_error("version: 1\npredictive:\n  exclude_fields: oops\n",
                 "t.yaml:3:19: ", "exclude_fields");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_predicted_in_rules),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
