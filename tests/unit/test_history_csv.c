/*
 * test_history_csv.c - history from CSV (core/history_csv.h) and the
 * mapping file (config/import_map.h): targets by name and by map, typed
 * fields, generated dates and ids, outcomes, stages renamed, activities,
 * and every error with the line (CSV) or line:column (map) it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/import_map.h"
#include "core/history_csv.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 16

struct seen {
    size_t line;
    bt_err rc;
    bool skipped;
    char message[BT_ERROR_MESSAGE_MAX];
    char field[BT_ERROR_FIELD_MAX];
    char external_id[128], email[128], company[128], owner[128], stage[32], outcome[32];
    char fields[512], employees_band[32];
    int64_t created_at, qualified_at, outcome_at, updated_at;
    bool has_value;
    double value;
    /* activities */
    char lead_key[128], type[64], properties[256];
    int64_t occurred_at;
};

struct collect {
    struct seen rows[ROWS_MAX];
    size_t n;
};

static void copy(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : "");
}

static bt_err on_row(void *cls, const struct history_row *row, struct bt_error *err)
{
    (void)err;
    struct collect *c = cls;
    assert_true(c->n < ROWS_MAX);
    struct seen *s = &c->rows[c->n++];
    memset(s, 0, sizeof(*s));
    s->line = row->line;
    s->rc = row->rc;
    s->skipped = row->skipped;
    copy(s->message, sizeof(s->message), row->err.message);
    copy(s->field, sizeof(s->field), row->err.field);
    if (row->rc || row->skipped)
        return BT_OK;
    const struct history_lead *h = &row->lead;
    copy(s->external_id, sizeof(s->external_id), h->lead.attr[LEAD_EXTERNAL_ID]);
    copy(s->email, sizeof(s->email), h->lead.attr[LEAD_EMAIL]);
    copy(s->company, sizeof(s->company), h->lead.attr[LEAD_COMPANY]);
    copy(s->owner, sizeof(s->owner), h->lead.attr[LEAD_OWNER]);
    copy(s->stage, sizeof(s->stage), h->lead.attr[LEAD_STAGE]);
    copy(s->outcome, sizeof(s->outcome), h->outcome_stage);
    copy(s->fields, sizeof(s->fields), h->lead.fields_json);
    copy(s->employees_band, sizeof(s->employees_band), h->lead.attr[LEAD_EMPLOYEES_BAND]);
    s->created_at = h->lead.created_at;
    s->updated_at = h->lead.updated_at;
    s->qualified_at = h->qualified_at;
    s->outcome_at = h->outcome_at;
    s->has_value = h->has_value;
    s->value = h->value;
    const struct history_activity *a = &row->activity;
    copy(s->lead_key, sizeof(s->lead_key),
         a->lead_external_id ? a->lead_external_id : a->lead_email);
    copy(s->type, sizeof(s->type), a->type);
    copy(s->properties, sizeof(s->properties), a->properties_json);
    s->occurred_at = a->occurred_at;
    return BT_OK;
}

static int64_t at(const char *s)
{
    int64_t ms;
    assert_true(history_parse_time(s, NULL, &ms));
    return ms;
}

static bt_err parse(const struct history_map *map, const char *text, struct collect *c,
                    struct bt_error *err)
{
    memset(c, 0, sizeof(*c));
    return history_csv_parse(map, NULL, text, strlen(text), on_row, c, err);
}

static bt_err load_map(const char *yaml, enum history_kind kind, struct arena *a,
                       struct history_map *map, struct bt_error *err)
{
    return import_map_parse("m.yaml", yaml, strlen(yaml), kind, a, map, err);
}

static void test_default_mapping_by_names(void **state)
{
    (void)state;
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    struct collect c;
    struct bt_error err = BT_ERROR_INIT;
    const char *csv = "External_ID,Email,Company,created_at,converted,outcome_at,value,Plan,"
                      "fields.size,employees\n"
                      "x1, Ann@Acme.COM ,Acme,2020-03-01,yes,2020-04-02T10:00:00Z,1200.5,gold,"
                      "big,1k-5k\n"
                      "x2,bob@beta.io,Beta,2020-03-02 09:30,no,,,,,\n";
    assert_int_equal(parse(&map, csv, &c, &err), BT_OK);
    assert_int_equal(c.n, 2);
    struct seen *s = &c.rows[0];
    if (s->rc)
        fail_msg("%s", s->message);
    assert_int_equal(s->line, 2);
    assert_string_equal(s->external_id, "x1");
    assert_string_equal(s->email, "ann@acme.com"); /* normalised like intake */
    assert_string_equal(s->company, "Acme");
    assert_string_equal(s->fields, "{\"Plan\":\"gold\",\"size\":\"big\"}");
    assert_string_equal(s->employees_band, "1001-5000");
    assert_int_equal(s->created_at, at("2020-03-01T00:00:00Z"));
    assert_int_equal(s->qualified_at, s->created_at);
    assert_string_equal(s->outcome, "won");
    assert_string_equal(s->stage, "won");
    assert_int_equal(s->outcome_at, at("2020-04-02T10:00:00Z"));
    assert_int_equal(s->updated_at, s->outcome_at);
    assert_true(s->has_value);
    assert_true(s->value == 1200.5);
    s = &c.rows[1];
    assert_int_equal(s->rc, BT_OK);
    assert_string_equal(s->outcome, "lost");
    assert_int_equal(s->created_at, at("2020-03-02T09:30:00Z"));
    /* no outcome date: the outcome is dated when the lead qualified */
    assert_int_equal(s->outcome_at, s->created_at);
    assert_false(s->has_value);
    assert_string_equal(s->fields, "{}");
}

static void test_map_generates_dates_ids_and_types(void **state)
{
    (void)state;
    struct arena a = {0};
    struct history_map map;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(load_map("delimiter: \";\"\n"
                              "name: bank\n"
                              "created_at: {start: \"2008-05-05\", step: 30m}\n"
                              "external_id: {row_number: \"uci-\"}\n"
                              "columns:\n"
                              "  y: converted\n"
                              "  duration: drop\n"
                              "  age: {field: age, type: number}\n"
                              "  ok: {type: boolean}\n",
                              HISTORY_LEADS, &a, &map, &err),
                     BT_OK);
    assert_string_equal(map.name, "bank");
    struct collect c;
    const char *csv = "\"age\";\"job\";\"duration\";\"ok\";\"y\"\r\n"
                      "56;\"housemaid\";261;yes;\"no\"\r\n"
                      "41.5;\"admin.\";99;0;\"yes\"\r\n";
    assert_int_equal(parse(&map, csv, &c, &err), BT_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.rows[0].rc, BT_OK);
    assert_string_equal(c.rows[0].external_id, "uci-1");
    assert_string_equal(c.rows[1].external_id, "uci-2");
    assert_int_equal(c.rows[0].created_at, at("2008-05-05T00:00:00Z"));
    assert_int_equal(c.rows[1].created_at, at("2008-05-05T00:30:00Z"));
    /* duration is dropped; age a number; ok a boolean; job a text field */
    assert_string_equal(c.rows[0].fields, "{\"age\":56,\"job\":\"housemaid\",\"ok\":true}");
    assert_string_equal(c.rows[1].fields, "{\"age\":41.5,\"job\":\"admin.\",\"ok\":false}");
    assert_string_equal(c.rows[0].outcome, "lost");
    assert_string_equal(c.rows[1].outcome, "won");
    arena_release(&a);
}

static void test_stages_owner_and_skipped_rows(void **state)
{
    (void)state;
    struct arena a = {0};
    struct history_map map;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(load_map("external_id: opportunity_id\n"
                              "created_at: {column: engage_date, missing: skip}\n"
                              "columns:\n"
                              "  sales_agent: owner\n"
                              "  deal_stage: stage\n"
                              "  close_date: outcome_at\n"
                              "  close_value: value\n"
                              "stages: {Won: won, Engaging: opportunity, Prospecting: open}\n",
                              HISTORY_LEADS, &a, &map, &err),
                     BT_OK);
    struct collect c;
    const char *csv = "opportunity_id,sales_agent,deal_stage,engage_date,close_date,close_value\n"
                      "A1,Moses Frase,Won,2016-10-20,2017-03-01,1054\n"
                      "A2,Darcel Schlecht,Engaging,2016-10-25,,\n"
                      "A3,Anna Snelling,Prospecting,,,\n"
                      "A4,Anna Snelling,Lost,2016-11-01,2016-12-01,0\n"
                      "A5,x,Pending,2016-11-01,,\n";
    assert_int_equal(parse(&map, csv, &c, &err), BT_OK);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.rows[0].owner, "moses-frase");
    assert_string_equal(c.rows[0].outcome, "won");
    assert_true(c.rows[0].value == 1054);
    assert_string_equal(c.rows[1].outcome, "opportunity");
    assert_true(c.rows[2].skipped);
    assert_string_equal(c.rows[3].outcome, "lost"); /* by its own name */
    assert_int_equal(c.rows[4].rc, BT_EINVAL);
    assert_string_equal(c.rows[4].field, "deal_stage");
    assert_non_null(strstr(c.rows[4].message, "line 6: deal_stage: 'Pending' is not a stage"));
    arena_release(&a);
}

static void test_row_errors(void **state)
{
    (void)state;
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    struct collect c;
    struct bt_error err = BT_ERROR_INIT;
    const char *csv = "external_id,email,created_at,converted,value,outcome_at\n"
                      "a,a@x.com,2020-02-30,yes,,\n"          /* 2: no such day */
                      "b,b@x.com,2020-01-01,maybe,,\n"        /* 3 */
                      "c,c@x.com,2020-01-01,no,12abc,\n"      /* 4 */
                      "d,not-an-email,2020-01-01,no,,\n"      /* 5 */
                      ",,2020-01-01,no,,\n"                   /* 6: no key */
                      "f,f@x.com,,no,,\n"                     /* 7: no date */
                      "g,g@x.com,2020-01-05,no,,2020-01-01\n" /* 8: outcome before */
                      "h,h@x.com,2020-01-01,no,,,extra\n"     /* 9 */
                      "i,\xff@x.com,2020-01-01,no,,\n"        /* 10 */
                      "j,j@x.com,2020-01-01,no,,\n";
    assert_int_equal(parse(&map, csv, &c, &err), BT_OK);
    assert_int_equal(c.n, 10);
    static const struct {
        size_t line;
        const char *field, *text;
    } want[] = {
        {2, "created_at", "'2020-02-30' is not a date"},
        {3, "converted", "'maybe' is not yes/no"},
        {4, "value", "'12abc' is not a number"},
        {5, "email", "email"},
        {6, "email", "needs an email, a phone or an external_id"},
        {7, "created_at", "missing"},
        {8, "outcome_at", "before the lead's created_at"},
        {9, "", "7 cells, but the header has 6 columns"},
        {10, "email", "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct seen *s = &c.rows[i];
        assert_int_equal(s->rc, BT_EINVAL);
        assert_int_equal(s->line, want[i].line);
        assert_string_equal(s->field, want[i].field);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "line %zu: ", want[i].line);
        assert_memory_equal(s->message, prefix, strlen(prefix));
        if (!strstr(s->message, want[i].text))
            fail_msg("line %zu: '%s' lacks '%s'", want[i].line, s->message, want[i].text);
    }
    assert_int_equal(c.rows[9].rc, BT_OK);
}

static void test_fatal_errors(void **state)
{
    (void)state;
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    struct collect c;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(parse(&map, "", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "the file is empty"));
    assert_int_equal(parse(&map, "email,converted\na@x.com,yes\n", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "no column gives the leads' created_at"));
    assert_int_equal(c.n, 0); /* nothing reached the callback */
    assert_int_equal(parse(&map, "email,Email,created_at\n", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "appears twice"));
    assert_int_equal(parse(&map, "email,created_at\n\"a@x.com,2020-01-01\n", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "never closed"));
    /* the map names a column the header lacks */
    struct arena a = {0};
    struct history_map m2;
    assert_int_equal(load_map("columns: {y: converted}\n", HISTORY_LEADS, &a, &m2, &err), BT_OK);
    assert_int_equal(parse(&m2, "email,created_at\na@x.com,2020-01-01\n", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "line 1: the map names column 'y'"));
    arena_release(&a);
}

static void test_date_format(void **state)
{
    (void)state;
    int64_t ms;
    assert_true(history_parse_time("02/03/2020 10:05", "%d/%m/%Y %H:%M", &ms));
    assert_int_equal(ms, at("2020-03-02T10:05:00Z"));
    assert_false(history_parse_time("2020-03-02", "%d/%m/%Y", &ms));
    assert_false(history_parse_time("31/04/2020", "%d/%m/%Y", &ms));
    assert_true(history_parse_time("2020-03-02T10:05:00+02:00", NULL, &ms));
    assert_int_equal(ms, at("2020-03-02T08:05:00Z"));
    int64_t step;
    assert_true(history_parse_step("30m", &step));
    assert_int_equal(step, 30 * 60000);
    assert_false(history_parse_step("0h", &step));
    assert_false(history_parse_step("1 h", &step));
    assert_false(history_parse_step("h", &step));
}

static void test_activities(void **state)
{
    (void)state;
    struct history_map map;
    history_map_init(&map, HISTORY_ACTIVITIES);
    struct collect c;
    struct bt_error err = BT_ERROR_INIT;
    const char *csv = "lead_external_id,type,occurred_at,page\n"
                      "x1,page_view,2020-03-01T10:00:00Z,/pricing\n"
                      "x1,Page View,2020-03-01,\n"
                      ",demo_request,2020-03-01,\n";
    assert_int_equal(parse(&map, csv, &c, &err), BT_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.rows[0].rc, BT_OK);
    assert_string_equal(c.rows[0].lead_key, "x1");
    assert_string_equal(c.rows[0].type, "page_view");
    assert_string_equal(c.rows[0].properties, "{\"page\":\"/pricing\"}");
    assert_int_equal(c.rows[0].occurred_at, at("2020-03-01T10:00:00Z"));
    assert_int_equal(c.rows[1].rc, BT_EINVAL);
    assert_non_null(strstr(c.rows[1].message, "is not an activity type"));
    assert_int_equal(c.rows[2].rc, BT_EINVAL);
    assert_non_null(strstr(c.rows[2].message, "names no lead"));
    /* an activity file needs a type and an occurred_at column */
    assert_int_equal(parse(&map, "lead_email,type\n", &c, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "occurred_at"));
}

static void test_convert_json_rows(void **state)
{
    (void)state;
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    struct arena a = {0};
    struct history_row row;
    const char *names[] = {"email", "created_at", "stage", "plan"};
    const char *values[] = {"z@x.com", "2021-01-01", "SQL", "pro"};
    assert_int_equal(history_convert(&map, NULL, names, values, 4, 1, &a, &row), BT_OK);
    assert_string_equal(row.lead.outcome_stage, "sql");
    assert_string_equal(row.lead.lead.fields_json, "{\"plan\":\"pro\"}");
    values[1] = "yesterday";
    assert_int_equal(history_convert(&map, NULL, names, values, 4, 3, &a, &row), BT_EINVAL);
    assert_non_null(strstr(row.err.message, "line 3: created_at: 'yesterday' is not a date"));
    arena_release(&a);
}

static void test_map_errors_name_line_and_column(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"columns:\n  y: conveted\n", "m.yaml:2:6: columns.y: 'conveted' is not a target"},
        {"delimiter: \";;\"\n", "m.yaml:1:13: delimiter: one character"},
        {"colums: {}\n", "m.yaml:1:1: 'colums' is not a key here"},
        {"created_at: {start: 2008-05-05, step: soon}\n",
         "m.yaml:1:39: created_at.step: 'soon' is not a duration"},
        {"created_at: {start: 2008-05-05}\n", "created_at: give a column, or both start and step"},
        {"columns:\n  a: {field: x, type: date}\n", "m.yaml:2:23: columns.a: type 'date'"},
        {"stages: {Won: wonn}\n", "m.yaml:1:15: stages.Won: 'wonn' is not won"},
        {"columns: [a, b]\n", "m.yaml:1:11: columns: expected a mapping"},
        {"date_format: \"%d/%q\"\n", "date_format"},
        {"columns:\n  a: drop\n  a: email\n", "m.yaml:3:3: duplicate key"},
        {"columns: {a: b\n", "m.yaml:"},
        {"name: \xff\n", "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a = {0};
        struct history_map map;
        struct bt_error err = BT_ERROR_INIT;
        bt_err rc = load_map(cases[i].yaml, HISTORY_LEADS, &a, &map, &err);
        if (rc != BT_ECONFIG || !strstr(err.message, cases[i].want))
            fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err.message, cases[i].want);
        arena_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mapping_by_names),
        cmocka_unit_test(test_map_generates_dates_ids_and_types),
        cmocka_unit_test(test_stages_owner_and_skipped_rows),
        cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_fatal_errors),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_activities),
        cmocka_unit_test(test_convert_json_rows),
        cmocka_unit_test(test_map_errors_name_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
