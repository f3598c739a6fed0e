/*
 * test_dataset.c - features as of qualification (ml/dataset.h): an activity
 * after the qualification time changes nothing, the outcome and the owner
 * are refused as sources, excluded fields are refused and never derived,
 * and the spec derives numbers, categories and activity aggregates from the
 * training rows only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400000LL

static void add(struct dataset *ds, int64_t id, const char *fields, int label,
                const struct activity *acts, size_t n_acts)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead l;
    memset(&l, 0, sizeof(l));
    l.id = id;
    l.attr[LEAD_STAGE] = label ? "won" : "lost";
    l.attr[LEAD_OWNER] = "rep-1";
    l.attr[LEAD_INDUSTRY] = id % 2 ? "SaaS" : "Retail";
    l.employees = 10 * id;
    l.fields_json = fields;
    l.created_at = 100 * DAY + id * DAY;
    assert_int_equal(dataset_add(ds, &l, l.created_at + DAY, label, acts, n_acts, &err), BT_OK);
}

static size_t find(const struct predict_feature *f, size_t n, const char *source,
                   const char *category)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].source, source) &&
            (category ? f[i].category && !strcmp(f[i].category, category) : !f[i].category))
            return i;
    return (size_t)-1;
}

static void test_later_activity_changes_nothing(void **state)
{
    (void)state;
    struct dataset a, b;
    dataset_init(&a);
    dataset_init(&b);
    int64_t q = 100 * DAY + 2 * DAY; /* lead 1 qualifies then */
    struct activity before[] = {{1, 1, "email_open", q - 3 * DAY, "{}"}};
    struct activity both[] = {{1, 1, "email_open", q - 3 * DAY, "{}"},
                              {2, 1, "email_open", q + DAY, "{}"},
                              {3, 1, "meeting", q + 2 * DAY, "{}"}};
    for (int i = 0; i < 30; i++) {
        add(&a, 1, "{\"plan\":\"pro\"}", 1, before, 1);
        add(&b, 1, "{\"plan\":\"pro\"}", 1, both, 3);
    }
    struct arena ar = ARENA_INIT;
    struct predict_feature *fa, *fb;
    size_t na, nb;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(dataset_spec(&a, a.n, NULL, &ar, &fa, &na, &err), BT_OK);
    assert_int_equal(dataset_spec(&b, b.n, NULL, &ar, &fb, &nb, &err), BT_OK);
    assert_int_equal(na, nb); /* no "meeting" feature from the later activity */
    assert_int_equal(find(fb, nb, "activity.meeting.count", NULL), (size_t)-1);
    size_t ic = find(fa, na, "activity.email_open.count", NULL);
    size_t il = find(fa, na, "activity.email_open.last_days", NULL);
    assert_true(ic != (size_t)-1 && il != (size_t)-1);
    float xa[2 * 64], xb[2 * 64];
    assert_true(na <= 64);
    struct dataset one_a = a, one_b = b;
    one_a.n = one_b.n = 1;
    assert_int_equal(dataset_matrix(&one_a, fa, na, xa, &err), BT_OK);
    assert_int_equal(dataset_matrix(&one_b, fa, na, xb, &err), BT_OK);
    assert_memory_equal(xa, xb, na * sizeof(float));
    assert_true(xa[ic] == 1.0f);
    assert_true(fabsf(xa[il] - 3.0f) < 1e-6f);
    /* the activities kept for the rules score: only the one known then,
     * copied (the caller's array may go) */
    assert_int_equal(b.rows[0].n_acts, 1);
    assert_int_equal(b.rows[0].acts[0].id, 1);
    assert_string_equal(b.rows[0].acts[0].type, "email_open");
    assert_true(b.rows[0].acts[0].type != both[0].type);
    arena_release(&ar);
    dataset_release(&a);
    dataset_release(&b);
}

static void test_outcome_sources_refused(void **state)
{
    (void)state;
    struct bt_error err = BT_ERROR_INIT;
    struct predict_feature stage = {"stage", PREDICT_CATEGORY, "won"};
    assert_int_equal(dataset_spec_check(&stage, 1, NULL, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "stage"));
    struct predict_feature owner = {"owner", PREDICT_CATEGORY, "rep-1"};
    assert_int_equal(dataset_spec_check(&owner, 1, NULL, &err), BT_EINVAL);
    struct predict_feature ok = {"fields.plan", PREDICT_CATEGORY, "pro"};
    assert_int_equal(dataset_spec_check(&ok, 1, NULL, &err), BT_OK);
    const char *ex[] = {"fields.plan"};
    struct dataset_spec_options o = {0, ex, 1};
    assert_int_equal(dataset_spec_check(&ok, 1, &o, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "excluded"));
}

static void test_spec_from_training_rows(void **state)
{
    (void)state;
    struct dataset ds;
    dataset_init(&ds);
    char fields[128];
    for (int i = 0; i < 100; i++) {
        snprintf(fields, sizeof(fields),
                 "{\"age\":%d,\"plan\":\"%s\",\"outcome\":\"%s\",\"rare\":\"%s\"}", 20 + i % 40,
                 i % 2 ? "Pro" : "free", i % 3 ? "yes" : "no", i == 5 ? "once" : "x");
        add(&ds, i + 1, fields, i % 3 != 0, NULL, 0);
    }
    /* a value only in the last rows (the held-out period) */
    add(&ds, 200, "{\"age\":30,\"plan\":\"enterprise\"}", 1, NULL, 0);
    const char *ex[] = {"fields.outcome"};
    struct dataset_spec_options o = {20, ex, 1};
    struct arena ar = ARENA_INIT;
    struct predict_feature *f;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(dataset_spec(&ds, 100, &o, &ar, &f, &n, &err), BT_OK);
    size_t age = find(f, n, "fields.age", NULL);
    assert_true(age != (size_t)-1);
    assert_int_equal(f[age].kind, PREDICT_NUMERIC);
    assert_true(find(f, n, "fields.plan", "pro") != (size_t)-1); /* lower-cased */
    assert_true(find(f, n, "fields.plan", "free") != (size_t)-1);
    assert_int_equal(find(f, n, "fields.plan", "enterprise"), (size_t)-1);
    assert_int_equal(find(f, n, "fields.rare", "once"), (size_t)-1); /* under min_count */
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(f[i].source, "fields.outcome");
        assert_string_not_equal(f[i].source, "stage");
        assert_string_not_equal(f[i].source, "owner");
    }
    assert_true(find(f, n, "industry", "saas") != (size_t)-1);
    assert_true(find(f, n, "employees", NULL) != (size_t)-1);
    float *x = calloc(ds.n * n, sizeof(float));
    assert_int_equal(dataset_matrix(&ds, f, n, x, &err), BT_OK);
    assert_true(x[0 * n + age] == 20.0f);
    assert_true(x[100 * n + find(f, n, "fields.plan", "pro")] == 0.0f);
    free(x);
    arena_release(&ar);
    dataset_release(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_later_activity_changes_nothing),
        cmocka_unit_test(test_outcome_sources_refused),
        cmocka_unit_test(test_spec_from_training_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
