/*
 * test_intake_parse.c - JSON and form bodies to lead input: every accepted
 * shape, and every refusal with the field it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/intake_parse.h"

#include <stdio.h>
#include <string.h>

static struct arena a;

static bt_err json(const char *body, struct lead_input *in, struct bt_error *err)
{
    return intake_parse_json(body, strlen(body), &a, in, err);
}

static bt_err form(const char *body, struct lead_input *in, struct form_controls *ctl,
                   struct bt_error *err)
{
    return intake_parse_form(body, strlen(body), &a, in, ctl, err);
}

static void test_json_accepts(void **state)
{
    (void)state;
    struct lead_input in;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(json("{\"email\":\" Jane@X.com \",\"company\":\"M\\u00fcller AG\","
                          "\"employees\":1200,\"phone\":null,"
                          "\"fields\":{\"b\":\"1\",\"a\":2,\"c\":true,\"d\":null}}",
                          &in, &err),
                     BT_OK);
    assert_string_equal(in.attr[LEAD_EMAIL], " Jane@X.com "); /* not trimmed here */
    assert_string_equal(in.attr[LEAD_COMPANY], "M\xc3\xbcller AG");
    assert_null(in.attr[LEAD_PHONE]);
    assert_string_equal(in.employees, "1200");
    assert_string_equal(in.fields_json, "{\"a\":2,\"b\":\"1\",\"c\":true,\"d\":null}");
    assert_int_equal(json("{\"employees\":\"1k-5k\",\"phone\":\"+1 555 0100\"}", &in, &err), BT_OK);
    assert_string_equal(in.employees, "1k-5k");
    assert_null(in.fields_json);
    assert_int_equal(json("{}", &in, &err), BT_OK); /* requirements are normalize's job */
}

/* A JSON number of employees that is not whole is rounded to the nearest
 * (halves away from zero), and normalisation says so in a warning; whole
 * numbers, reals such as 1e3 included, pass without one. */
static void check_employees_number(const char *number, int64_t want, const char *want_warning)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"email\":\"a@b.com\",\"employees\":%s}", number);
    struct lead_input in;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(json(body, &in, &err), BT_OK);
    struct lead l;
    struct normalize_report r;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, &err), BT_OK);
    if (l.employees != want)
        fail_msg("%s: employees %lld, want %lld", number, (long long)l.employees, (long long)want);
    if (!want_warning) {
        if (r.count != 0)
            fail_msg("%s: unexpected warning \"%s\"", number, r.warnings[0].message);
        assert_null(in.employees_sent);
        return;
    }
    assert_int_equal(r.count, 1);
    assert_string_equal(r.warnings[0].field, "employees");
    assert_string_equal(r.warnings[0].message, want_warning);
}

static void test_json_employees_not_whole(void **state)
{
    (void)state;
    check_employees_number("1.5", 2, "1.5 is not a whole number of employees; rounded to 2");
    check_employees_number("2.5", 3, "2.5 is not a whole number of employees; rounded to 3");
    check_employees_number("1200.4", 1200,
                           "1200.4 is not a whole number of employees; rounded to 1200");
    check_employees_number("0.4", -1, "could not read a number of employees from \"0.4\"");
    check_employees_number("-1.5", -1, "could not read a number of employees from \"-1.5\"");
    check_employees_number("1200", 1200, NULL);
    check_employees_number("1200.0", 1200, NULL);
    check_employees_number("1e3", 1000, NULL);
}

static void test_json_refuses(void **state)
{
    (void)state;
    struct lead_input in;
    struct bt_error err = BT_ERROR_INIT;
    static const struct {
        const char *body;
        bt_err code;
        const char *field;
    } cases[] = {
        {"{\"email\":", BT_EPARSE, ""},
        {"", BT_EPARSE, ""},
        {"[1,2]", BT_EINVAL, ""},
        {"\"x\"", BT_EINVAL, ""},
        {"5", BT_EINVAL, ""},
        {"null", BT_EINVAL, ""},
        {"{\"email\":5}", BT_EINVAL, "email"},
        {"{\"company\":[\"a\"]}", BT_EINVAL, "company"},
        {"{\"emial\":\"a@b.com\"}", BT_EINVAL, "emial"},
        {"{\"employees\":true}", BT_EINVAL, "employees"},
        {"{\"fields\":[1]}", BT_EINVAL, "fields"},
        {"{\"fields\":{\"x\":{\"y\":1}}}", BT_EINVAL, "fields"},
        {"{\"fields\":{\"x\":[1]}}", BT_EINVAL, "fields"},
        {"{\"fields\":{\"\":1}}", BT_EINVAL, "fields"},
        {"{\"email\":\"a\\u0001b@x.com\"}", BT_EINVAL, "email"},
        {"{\"email\":\"a\\u0000b@x.com\"}", BT_EPARSE, ""},
        {"{\"email\":\"a\xff@x.com\"}", BT_EPARSE, ""},
        {"{\"email\":\"a@x.com\",\"email\":\"b@x.com\"}", BT_EPARSE, ""},
        {"{\"email_domain\":\"x.com\"}", BT_EINVAL, "email_domain"}, /* derived: not input */
        {"{\"stage\":\"won\"}", BT_EINVAL, "stage"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = (struct bt_error)BT_ERROR_INIT;
        bt_err rc = json(cases[i].body, &in, &err);
        if (rc != cases[i].code || strcmp(err.field, cases[i].field) != 0)
            fail_msg("case %zu (%s): got %d field '%s' (%s)", i, cases[i].body, rc, err.field,
                     err.message);
        assert_true(strlen(err.message) > 0);
    }
    /* too many custom fields */
    char big[4096] = "{\"fields\":{";
    for (int i = 0; i < LEAD_FIELDS_MAX_KEYS + 1; i++) {
        char kv[32];
        snprintf(kv, sizeof(kv), "%s\"k%d\":1", i ? "," : "", i);
        strcat(big, kv);
    }
    strcat(big, "}}");
    assert_int_equal(json(big, &in, &err), BT_EINVAL);
    assert_string_equal(err.field, "fields");
}

static void test_form(void **state)
{
    (void)state;
    struct lead_input in;
    struct form_controls ctl;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(form("email=jane%40x.com&first_name=Jos%C3%A9+Mar%C3%ADa&fields%5Bbudget%5D="
                          "10k&fields.size=L&how_heard=podcast&_redirect=https%3A%2F%2Fexample.com"
                          "%2Fthanks&_hp=&employees=51-200&&company=A&company=B",
                          &in, &ctl, &err),
                     BT_OK);
    assert_string_equal(in.attr[LEAD_EMAIL], "jane@x.com");
    assert_string_equal(in.attr[LEAD_FIRST_NAME], "Jos\xc3\xa9 Mar\xc3\xad"
                                                  "a");
    assert_string_equal(in.attr[LEAD_COMPANY], "B"); /* last wins */
    assert_string_equal(in.employees, "51-200");
    assert_string_equal(ctl.redirect, "https://example.com/thanks");
    assert_string_equal(in.fields_json,
                        "{\"budget\":\"10k\",\"how_heard\":\"podcast\",\"size\":\"L\"}");

    assert_int_equal(form("", &in, &ctl, &err), BT_OK);
    assert_null(in.attr[LEAD_EMAIL]);
    assert_int_equal(form("email", &in, &ctl, &err), BT_OK); /* a name without a value */
    assert_null(in.fields_json);

    static const char *const bad[] = {
        "email=%FF",   "email=a%", "email=a%4",       "email=%zz",
        "email=a%00b", "%C3=1",    "email=%ED%A0%80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (form(bad[i], &in, &ctl, &err) != BT_EPARSE)
            fail_msg("form '%s' should be refused", bad[i]);
    }
    assert_int_equal(form("company=a%01b", &in, &ctl, &err), BT_EINVAL);
    assert_string_equal(err.field, "company");

    assert_string_equal(intake_form_decode(&a, "a+b%20c", 7), "a b c");
    assert_string_equal(intake_form_decode(&a, "%e2%82%AC", 9), "\xe2\x82\xac");
    assert_null(intake_form_decode(&a, "%", 1));
}

static int cleanup(void **state)
{
    (void)state;
    arena_release(&a);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_json_accepts, cleanup),
        cmocka_unit_test_teardown(test_json_employees_not_whole, cleanup),
        cmocka_unit_test_teardown(test_json_refuses, cleanup),
        cmocka_unit_test_teardown(test_form, cleanup),
    };
    return cmocka_run_group_tests_name("intake_parse", tests, NULL, NULL);
}
