/*
 * test_lead_merge.c - merging a returning person's data: what replaces, what
 * is kept, how derived attributes follow, and the list of changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/lead_merge.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

static struct arena a;

static struct lead existing_lead(void)
{
    struct lead l = {0};
    l.id = 7;
    l.attr[LEAD_EMAIL] = "jane@acme.com";
    l.attr[LEAD_EMAIL_DOMAIN] = "acme.com";
    l.attr[LEAD_EXTERNAL_ID] = "crm-1";
    l.attr[LEAD_TITLE] = "VP Sales";
    l.attr[LEAD_COMPANY] = "Acme";
    l.attr[LEAD_COUNTRY] = "DE";
    l.attr[LEAD_WEBSITE] = "acme.com";
    l.attr[LEAD_WEBSITE_DOMAIN] = "acme.com";
    l.attr[LEAD_STAGE] = "assigned";
    l.attr[LEAD_OWNER] = "alice";
    l.employees = 120;
    l.attr[LEAD_EMPLOYEES_BAND] = "51-200";
    l.fields_json = "{\"budget\":\"10k\",\"plan\":\"pro\"}";
    l.created_at = 1;
    l.updated_at = 1;
    return l;
}

static const struct lead_change *find(const struct lead_merge_result *m, const char *field)
{
    for (size_t i = 0; i < m->n_changes; i++)
        if (!strcmp(m->changes[i].field, field))
            return &m->changes[i];
    return NULL;
}

static void test_merge_replaces_and_keeps(void **state)
{
    (void)state;
    struct lead old = existing_lead();
    struct lead in = {0};
    in.attr[LEAD_EMAIL] = "jane@acme.com";
    in.attr[LEAD_EXTERNAL_ID] = "mkto-5"; /* external_id is kept once set */
    in.attr[LEAD_TITLE] = "CEO";
    in.attr[LEAD_COMPANY] = "Acme"; /* same: no change */
    in.attr[LEAD_WEBSITE] = "https://www.acme.io";
    in.attr[LEAD_WEBSITE_DOMAIN] = "acme.io";
    in.attr[LEAD_COUNTRY_INPUT] = "Atlantis"; /* unrecognised country replaces DE */
    in.attr[LEAD_STAGE] = "new";
    in.employees = 600;
    in.attr[LEAD_EMPLOYEES_BAND] = "501-1000";
    in.fields_json = "{\"plan\":\"enterprise\",\"seats\":40}";
    struct lead_merge_result m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_OK);

    assert_int_equal(m.merged.id, 7);
    assert_string_equal(m.merged.attr[LEAD_EXTERNAL_ID], "crm-1");
    assert_string_equal(m.merged.attr[LEAD_TITLE], "CEO");
    assert_string_equal(m.merged.attr[LEAD_STAGE], "assigned");
    assert_string_equal(m.merged.attr[LEAD_OWNER], "alice");
    assert_string_equal(m.merged.attr[LEAD_WEBSITE_DOMAIN], "acme.io");
    assert_null(m.merged.attr[LEAD_COUNTRY]);
    assert_string_equal(m.merged.attr[LEAD_COUNTRY_INPUT], "Atlantis");
    assert_int_equal(m.merged.employees, 600);
    assert_string_equal(m.merged.attr[LEAD_EMPLOYEES_BAND], "501-1000");
    assert_string_equal(m.merged.fields_json,
                        "{\"budget\":\"10k\",\"plan\":\"enterprise\",\"seats\":40}");

    const struct lead_change *ch = find(&m, "title");
    assert_non_null(ch);
    assert_string_equal(ch->before, "VP Sales");
    assert_string_equal(ch->after, "CEO");
    ch = find(&m, "country");
    assert_string_equal(ch->before, "DE");
    assert_null(ch->after);
    ch = find(&m, "employees");
    assert_string_equal(ch->before, "120");
    assert_string_equal(ch->after, "600");
    ch = find(&m, "fields.plan");
    assert_string_equal(ch->before, "\"pro\"");
    assert_string_equal(ch->after, "\"enterprise\"");
    ch = find(&m, "fields.seats");
    assert_null(ch->before);
    assert_string_equal(ch->after, "40");
    assert_null(find(&m, "company"));
    assert_null(find(&m, "external_id"));
    assert_null(find(&m, "fields.budget"));
    assert_int_equal(m.n_changes, 9); /* title website website_domain country country_input
                                         employees employees_band fields.plan fields.seats */
}

static void test_merge_nothing_new(void **state)
{
    (void)state;
    struct lead old = existing_lead();
    struct lead in = {0};
    in.attr[LEAD_EMAIL] = "jane@acme.com";
    in.attr[LEAD_TITLE] = "VP Sales";
    in.employees = -1;
    in.fields_json = "{\"budget\":\"10k\"}";
    struct lead_merge_result m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_OK);
    assert_int_equal(m.n_changes, 0);
    assert_string_equal(m.merged.fields_json, old.fields_json);
    assert_int_equal(m.merged.employees, 120);
}

static void test_merge_sets_missing_external_id_and_limits(void **state)
{
    (void)state;
    struct lead old = existing_lead();
    old.attr[LEAD_EXTERNAL_ID] = NULL;
    struct lead in = {0};
    in.attr[LEAD_EXTERNAL_ID] = "crm-2";
    in.employees = -1;
    struct lead_merge_result m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_OK);
    assert_string_equal(m.merged.attr[LEAD_EXTERNAL_ID], "crm-2");

    /* merging past the custom-field limit is refused */
    char fields[2048] = "{";
    for (int i = 0; i < LEAD_FIELDS_MAX_KEYS; i++) {
        char kv[32];
        snprintf(kv, sizeof(kv), "%s\"n%d\":1", i ? "," : "", i);
        strcat(fields, kv);
    }
    strcat(fields, "}");
    in.fields_json = fields;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_EINVAL);
    assert_string_equal(err.field, "fields");
}

static void test_fill_only_never_overwrites(void **state)
{
    (void)state;
    struct lead old = existing_lead();
    struct lead in = {0};
    in.attr[LEAD_EMAIL] = "jane@acme.com";
    in.attr[LEAD_TITLE] = "Intern";      /* known: kept */
    in.attr[LEAD_PHONE] = "+1 555 0100"; /* unknown: filled */
    in.attr[LEAD_COUNTRY] = "US";        /* known (DE): kept */
    in.employees = 5;                    /* known (120): kept */
    in.fields_json = "{\"plan\":\"free\",\"seats\":2}";
    struct lead_merge_result m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_string_equal(m.merged.attr[LEAD_TITLE], "VP Sales");
    assert_string_equal(m.merged.attr[LEAD_PHONE], "+1 555 0100");
    assert_string_equal(m.merged.attr[LEAD_COUNTRY], "DE");
    assert_int_equal(m.merged.employees, 120);
    assert_string_equal(m.merged.fields_json, "{\"budget\":\"10k\",\"plan\":\"pro\",\"seats\":2}");
    assert_int_equal(m.n_changes, 2); /* phone, fields.seats */
    assert_non_null(find(&m, "phone"));
    assert_non_null(find(&m, "fields.seats"));
}

static size_t n_keys(const char *fields_json)
{
    json_t *o = json_loads(fields_json, 0, NULL);
    assert_true(json_is_object(o));
    size_t n = json_object_size(o);
    json_decref(o);
    return n;
}

static void test_fill_only_leaves_out_what_does_not_fit(void **state)
{
    (void)state;
    /* a lead with 63 custom fields: one more fits, the rest is left out
     * rather than refused (a refusal would tell a public source that the
     * person exists) */
    char fields[4096] = "{", kv[64];
    for (int i = 0; i < LEAD_FIELDS_MAX_KEYS - 1; i++) {
        snprintf(kv, sizeof(kv), "%s\"n%d\":1", i ? "," : "", i);
        strcat(fields, kv);
    }
    strcat(fields, "}");
    struct lead old = existing_lead();
    old.fields_json = fields;
    struct lead in = {0};
    in.attr[LEAD_EMAIL] = "jane@acme.com";
    in.employees = -1;
    in.fields_json = "{\"x1\":1,\"x2\":2,\"n3\":5,\"x3\":3}";
    struct lead_merge_result m;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(n_keys(m.merged.fields_json), LEAD_FIELDS_MAX_KEYS);
    assert_int_equal(m.n_changes, 1);
    assert_non_null(find(&m, "fields.x1"));
    const char *full = m.merged.fields_json;
    /* replacing, the same merge is refused */
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_EINVAL);
    assert_string_equal(err.field, "fields");
    /* full: nothing changes */
    old.fields_json = full;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(m.n_changes, 0);
    assert_ptr_equal(m.merged.fields_json, old.fields_json);

    /* bytes: a lead with 15,000 bytes of fields takes a short value, not a
     * long one, in either order, and ends within the limit */
    static char big[16000], add[4000];
    snprintf(big, sizeof(big), "{\"notes\":\"%015000d\"}", 0);
    snprintf(add, sizeof(add), "{\"long\":\"%02000d\",\"short\":\"ok\"}", 0);
    old.fields_json = big;
    in.fields_json = add;
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(m.n_changes, 1);
    assert_non_null(find(&m, "fields.short"));
    assert_null(find(&m, "fields.long"));
    assert_int_equal(n_keys(m.merged.fields_json), 2);
    snprintf(add, sizeof(add), "{\"short\":\"ok\",\"long\":\"%02000d\"}", 0);
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(n_keys(m.merged.fields_json), 2);
    assert_non_null(find(&m, "fields.short"));
    assert_true(strlen(m.merged.fields_json) <= LEAD_FIELDS_MAX_BYTES);
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_REPLACE, &a, &m, &err), BT_EINVAL);
    /* exactly up to the limit: {"notes":"0...0"} plus ,"k":"..." to 16384 */
    size_t room = LEAD_FIELDS_MAX_BYTES - strlen(big) - strlen(",\"k\":\"\"");
    snprintf(add, sizeof(add), "{\"k\":\"%0*d\"}", (int)room, 0);
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(strlen(m.merged.fields_json), LEAD_FIELDS_MAX_BYTES);
    snprintf(add, sizeof(add), "{\"k\":\"%0*d\"}", (int)room + 1, 0);
    assert_int_equal(lead_merge(&old, &in, LEAD_MERGE_FILL_ONLY, &a, &m, &err), BT_OK);
    assert_int_equal(m.n_changes, 0);
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
        cmocka_unit_test_teardown(test_merge_replaces_and_keeps, cleanup),
        cmocka_unit_test_teardown(test_merge_nothing_new, cleanup),
        cmocka_unit_test_teardown(test_merge_sets_missing_external_id_and_limits, cleanup),
        cmocka_unit_test_teardown(test_fill_only_never_overwrites, cleanup),
        cmocka_unit_test_teardown(test_fill_only_leaves_out_what_does_not_fit, cleanup),
    };
    return cmocka_run_group_tests_name("lead_merge", tests, NULL, NULL);
}
