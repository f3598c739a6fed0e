/*
 * test_store_history.c - the history models learn from (store_models.h's
 * store_history_each) on a real SQLite file: labels for both targets from
 * the funnel the events leave, leads still open left out, the order of
 * qualification, activities cut at the qualification time (nothing known
 * later), the range, the won value, and a callback that stops the walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "storefix.h"

#include "core/lead.h"
#include "store/store.h"
#include "store/store_models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "store-history");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static int64_t add_lead(struct fixture *f, const char *email, int64_t created_at)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead l;
    memset(&l, 0, sizeof(l));
    l.attr[LEAD_EMAIL] = email;
    l.attr[LEAD_STAGE] = "new";
    l.employees = -1;
    l.fields_json = "{}";
    l.created_at = l.updated_at = created_at;
    assert_int_equal(store_lead_insert(f->c, &l, &err), BT_OK);
    return l.id;
}

/* Moves the lead to `stage` at `at`: the event the engine writes, and the row. */
static void move(struct fixture *f, int64_t id, const char *stage, int64_t at)
{
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct lead l;
    assert_int_equal(store_lead_get(f->c, id, &a, &l, &err), BT_OK);
    char data[128];
    snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\"}", l.attr[LEAD_STAGE], stage);
    struct lead_event ev = {.lead_id = id,
                            .type = "lead.stage_changed",
                            .actor = "system",
                            .data_json = data,
                            .at = at};
    assert_int_equal(store_event_append(f->c, &ev, &err), BT_OK);
    l.attr[LEAD_STAGE] = stage;
    l.updated_at = at;
    assert_int_equal(store_lead_update(f->c, &l, &err), BT_OK);
    arena_release(&a);
}

static void add_activity(struct fixture *f, int64_t lead, const char *type, int64_t at)
{
    struct bt_error err = BT_ERROR_INIT;
    struct activity act = {
        .lead_id = lead, .type = type, .occurred_at = at, .properties_json = "{}"};
    assert_int_equal(store_activity_insert(f->c, &act, at, &err), BT_OK);
}

struct seen {
    size_t n;
    int64_t ids[16];
    int labels[16];
    int64_t qualified_at[16], outcome_at[16];
    size_t n_acts[16];
    int64_t newest_act[16];
    bool has_value[16];
    double value[16];
    size_t stop_after; /* 0: never */
};

static bt_err collect(void *cls, const struct store_history_row *row, struct bt_error *err)
{
    struct seen *s = cls;
    if (s->n >= 16)
        return bt_fail(err, BT_EINVAL, NULL, "too many rows");
    size_t i = s->n++;
    s->ids[i] = row->lead.id;
    s->labels[i] = row->label;
    s->qualified_at[i] = row->qualified_at;
    s->outcome_at[i] = row->outcome_at;
    s->n_acts[i] = row->n_acts;
    s->newest_act[i] = 0;
    for (size_t k = 0; k < row->n_acts; k++) {
        assert_true(row->acts[k].occurred_at <= row->qualified_at);
        assert_int_equal(row->acts[k].lead_id, row->lead.id);
        if (row->acts[k].occurred_at > s->newest_act[i])
            s->newest_act[i] = row->acts[k].occurred_at;
    }
    s->has_value[i] = row->has_value;
    s->value[i] = row->value;
    assert_non_null(row->lead.attr[LEAD_EMAIL]);
    if (s->stop_after && s->n == s->stop_after)
        return bt_fail(err, BT_ECONFLICT, NULL, "stopped");
    return BT_OK;
}

/* won (qualified late), lost, disqualified, open, sql then lost, recycled */
static void history(struct fixture *f, int64_t *ids)
{
    struct bt_error err = BT_ERROR_INIT;
    ids[0] = add_lead(f, "won@acme.example", 1000);
    add_activity(f, ids[0], "page_view", 1500);
    add_activity(f, ids[0], "demo_request", 4000); /* after qualifying: not a feature */
    move(f, ids[0], "mql", 3000);
    move(f, ids[0], "won", 9000);
    struct lead_outcome o = {.lead_id = ids[0],
                             .stage = "won",
                             .has_value = true,
                             .value = 1234.5,
                             .actor = "crm",
                             .at = 9000};
    assert_int_equal(store_outcome_insert(f->c, &o, &err), BT_OK);
    ids[1] = add_lead(f, "lost@acme.example", 2000); /* imported: never mql, qualified = created */
    add_activity(f, ids[1], "page_view", 2000);
    move(f, ids[1], "lost", 8000);
    ids[2] = add_lead(f, "dq@acme.example", 2500);
    move(f, ids[2], "disqualified", 2600);
    ids[3] = add_lead(f, "open@acme.example", 2700);
    move(f, ids[3], "mql", 2800);
    ids[4] = add_lead(f, "sql@acme.example", 500);
    move(f, ids[4], "mql", 600);
    move(f, ids[4], "sql", 700);
    move(f, ids[4], "lost", 7000);
    ids[5] = add_lead(f, "recycled@acme.example", 100);
    move(f, ids[5], "mql", 200);
    move(f, ids[5], "recycled", 300);
}

static void test_converted_labels_and_order(void **state)
{
    struct fixture *f = *state;
    int64_t ids[6];
    history(f, ids);
    struct bt_error err = BT_ERROR_INIT;
    struct arena scratch = ARENA_INIT;
    struct seen s = {0};
    assert_int_equal(store_history_each(f->c, "converted", 0, 0, &scratch, collect, &s, &err),
                     BT_OK);
    /* in qualification order: sql-then-lost (600), lost (2000), dq (2500), won (3000);
     * the open lead and the recycled one have no label for "converted" */
    assert_int_equal(s.n, 4);
    assert_int_equal(s.ids[0], ids[4]);
    assert_int_equal(s.labels[0], 0);
    assert_int_equal(s.outcome_at[0], 7000);
    assert_int_equal(s.ids[1], ids[1]);
    assert_int_equal(s.qualified_at[1], 2000);
    assert_int_equal(s.n_acts[1], 1); /* at the qualification instant: known */
    assert_int_equal(s.ids[2], ids[2]);
    assert_int_equal(s.labels[2], 0);
    assert_int_equal(s.outcome_at[2], 2600);
    assert_int_equal(s.ids[3], ids[0]);
    assert_int_equal(s.labels[3], 1);
    assert_int_equal(s.qualified_at[3], 3000);
    assert_int_equal(s.outcome_at[3], 9000);
    assert_int_equal(s.n_acts[3], 1); /* the demo request came after qualifying */
    assert_int_equal(s.newest_act[3], 1500);
    assert_true(s.has_value[3]);
    assert_true(s.value[3] == 1234.5);
    assert_false(s.has_value[0]);
}

static void test_sql_target(void **state)
{
    struct fixture *f = *state;
    int64_t ids[6];
    history(f, ids);
    struct bt_error err = BT_ERROR_INIT;
    struct arena scratch = ARENA_INIT;
    struct seen s = {0};
    assert_int_equal(store_history_each(f->c, "sql", 0, 0, &scratch, collect, &s, &err), BT_OK);
    /* recycled (200), sql (600), lost (2000), dq (2500), won (3000) */
    assert_int_equal(s.n, 5);
    assert_int_equal(s.ids[0], ids[5]);
    assert_int_equal(s.labels[0], 0);
    assert_int_equal(s.ids[1], ids[4]);
    assert_int_equal(s.labels[1], 1);
    assert_int_equal(s.outcome_at[1], 700);
    assert_int_equal(s.ids[4], ids[0]);
    assert_int_equal(s.labels[4], 1);
    assert_int_equal(s.outcome_at[4], 9000); /* won without passing sql: won counts */
}

static void test_range_errors_and_stop(void **state)
{
    struct fixture *f = *state;
    int64_t ids[6];
    history(f, ids);
    struct bt_error err = BT_ERROR_INIT;
    struct arena scratch = ARENA_INIT;
    struct seen s = {0};
    /* created in [1000, 2500): the won lead (1000) and the lost one (2000) */
    assert_int_equal(store_history_each(f->c, "converted", 1000, 2500, &scratch, collect, &s, &err),
                     BT_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], ids[1]);
    assert_int_equal(s.ids[1], ids[0]);

    struct seen t = {.stop_after = 1};
    assert_int_equal(store_history_each(f->c, "converted", 0, 0, &scratch, collect, &t, &err),
                     BT_ECONFLICT);
    assert_int_equal(t.n, 1);
    assert_string_equal(err.message, "stopped");

    struct seen u = {0};
    assert_int_equal(store_history_each(f->c, "revenue", 0, 0, &scratch, collect, &u, &err),
                     BT_EINVAL);
    assert_int_equal(u.n, 0);
    assert_non_null(strstr(err.message, "unknown target"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_converted_labels_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_errors_and_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
