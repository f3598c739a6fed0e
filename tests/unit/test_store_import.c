/*
 * test_store_import.c - history written by store_import_lead and
 * store_import_activity (store_history_import.h) reads back like a lead that
 * lived through Baton: the funnel has its qualification and outcome, the
 * history walk of training labels it, and nothing was routed; and a second
 * import of the same rows writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "storefix.h"

#include "core/history_csv.h"
#include "store/store.h"
#include "store/store_history_import.h"
#include "store/store_models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "store-import");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

#define DAY 86400000LL

/* A CSV of three leads through the real parser, each imported. */
static const char csv[] = "external_id,email,created_at,qualified_at,stage,outcome_at,value\n"
                          "w1,w1@acme.com,2024-01-01,2024-01-03,won,2024-02-01,900\n"
                          "l1,l1@acme.com,2024-01-02,,lost,2024-01-20,\n"
                          "o1,o1@acme.com,2024-01-03,,,,\n";

struct importer {
    struct fixture *f;
    enum store_import_result results[8];
    size_t n;
};

static bt_err import_row(void *cls, const struct history_row *row, struct bt_error *err)
{
    struct importer *im = cls;
    assert_int_equal(row->rc, BT_OK);
    struct store_import_source src = {.name = "t", .file = "t.csv", .actor = "import:t"};
    assert_true(im->n < 8);
    return store_import_lead(im->f->c, &row->lead, &src, row->line, &im->f->a,
                             &im->results[im->n++], err);
}

static void import_all(struct fixture *f, struct importer *im)
{
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    struct bt_error err = BT_ERROR_INIT;
    memset(im, 0, sizeof(*im));
    im->f = f;
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    assert_int_equal(history_csv_parse(&map, NULL, csv, strlen(csv), import_row, im, &err), BT_OK);
    assert_int_equal(store_commit(f->c, &err), BT_OK);
    assert_int_equal(im->n, 3);
}

struct walk {
    int64_t id[4], qualified_at[4], outcome_at[4];
    int label[4];
    double value[4];
    size_t n;
};

static bt_err on_history(void *cls, const struct store_history_row *row, struct bt_error *err)
{
    (void)err;
    struct walk *w = cls;
    assert_true(w->n < 4);
    w->id[w->n] = row->lead.id;
    w->qualified_at[w->n] = row->qualified_at;
    w->outcome_at[w->n] = row->outcome_at;
    w->label[w->n] = row->label;
    w->value[w->n] = row->has_value ? row->value : -1;
    w->n++;
    return BT_OK;
}

static void test_imported_leads_read_like_history(void **state)
{
    struct fixture *f = *state;
    struct importer im;
    import_all(f, &im);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(im.results[i], STORE_IMPORT_CREATED);
    struct bt_error err = BT_ERROR_INIT;
    struct lead won;
    assert_int_equal(store_lead_find_by_external_id(f->c, "w1", &f->a, &won, &err), BT_OK);
    assert_string_equal(won.attr[LEAD_STAGE], "won");
    struct lead open;
    assert_int_equal(store_lead_find_by_external_id(f->c, "o1", &f->a, &open, &err), BT_OK);
    assert_string_equal(open.attr[LEAD_STAGE], "mql");

    /* training's walk: the won and the lost lead, labelled, in qualification order */
    struct walk w = {0};
    struct arena scratch = {0};
    assert_int_equal(store_history_each(f->c, "converted", 0, 0, &scratch, on_history, &w, &err),
                     BT_OK);
    arena_release(&scratch);
    assert_int_equal(w.n, 2);
    int64_t jan1 = 1704067200000LL;
    assert_int_equal(w.qualified_at[0], jan1 + 1 * DAY); /* l1: created (and qualified) Jan 2 */
    assert_int_equal(w.label[0], 0);
    assert_int_equal(w.outcome_at[0], jan1 + 19 * DAY);
    assert_int_equal(w.id[1], won.id);
    assert_int_equal(w.qualified_at[1], jan1 + 2 * DAY); /* its qualified_at, not created_at */
    assert_int_equal(w.label[1], 1);
    assert_int_equal(w.outcome_at[1], jan1 + 31 * DAY);
    assert_true(w.value[1] == 900);

    /* the events: imported, mql, won; no assignment event */
    struct lead_event *ev;
    size_t n;
    assert_int_equal(store_event_list(f->c, won.id, 0, 10, &f->a, &ev, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].type, "lead.imported");
    assert_int_equal(ev[0].at, jan1);
    assert_string_equal(ev[1].type, "lead.stage_changed");
    assert_non_null(strstr(ev[1].data_json, "\"to\":\"mql\""));
    assert_non_null(strstr(ev[2].data_json, "\"to\":\"won\""));
    assert_string_equal(ev[2].actor, "import:t");

    struct store_import_counts counts;
    assert_int_equal(store_import_count(f->c, "", &counts, &err), BT_OK);
    assert_int_equal(counts.leads, 3);
    assert_int_equal(counts.with_outcome, 2);
    assert_int_equal(counts.won, 1);

    /* again: unchanged, nothing written */
    import_all(f, &im);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(im.results[i], STORE_IMPORT_UNCHANGED);
    assert_int_equal(store_event_list(f->c, won.id, 0, 10, &f->a, &ev, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_import_count(f->c, "", &counts, &err), BT_OK);
    assert_int_equal(counts.leads, 3);
    assert_int_equal(counts.with_outcome, 2);
}

static void test_activities_are_not_doubled(void **state)
{
    struct fixture *f = *state;
    struct importer im;
    import_all(f, &im);
    struct bt_error err = BT_ERROR_INIT;
    int64_t id = 0;
    assert_int_equal(store_import_find_lead(f->c, NULL, "W1@Acme.com", &f->a, &id, &err), BT_OK);
    assert_true(id > 0);
    assert_int_equal(store_import_find_lead(f->c, "nobody", NULL, &f->a, &id, &err), BT_ENOTFOUND);
    assert_string_equal(err.field, "lead_external_id");
    struct history_activity act = {.lead_external_id = "w1",
                                   .type = "demo_request",
                                   .occurred_at = 5,
                                   .properties_json = "{}"};
    assert_int_equal(store_import_find_lead(f->c, "w1", NULL, &f->a, &id, &err), BT_OK);
    enum store_import_result r;
    assert_int_equal(store_import_activity(f->c, id, &act, 10, &r, &err), BT_OK);
    assert_int_equal(r, STORE_IMPORT_CREATED);
    assert_int_equal(store_import_activity(f->c, id, &act, 10, &r, &err), BT_OK);
    assert_int_equal(r, STORE_IMPORT_UNCHANGED);
    act.occurred_at = 6;
    assert_int_equal(store_import_activity(f->c, id, &act, 10, &r, &err), BT_OK);
    assert_int_equal(r, STORE_IMPORT_CREATED);
    struct activity *acts;
    size_t n;
    assert_int_equal(store_activity_list(f->c, id, 10, &f->a, &acts, &n, &err), BT_OK);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_imported_leads_read_like_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activities_are_not_doubled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
