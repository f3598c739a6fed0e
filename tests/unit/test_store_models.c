/*
 * test_store_models.c - the models table (store_models.h) on a real SQLite
 * file: a round trip of every column, lists newest first without the model
 * JSON, a duplicate version refused, unknown ids and versions not found,
 * and at most one active model: activating one deactivates the other, and
 * deactivating leaves none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "storefix.h"

#include "store/store.h"
#include "store/store_models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "store-models");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static int64_t add(struct fixture *f, const char *version, int64_t created_at)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_model m = {
        .version = version,
        .kind = "trees",
        .target = "converted",
        .created_at = created_at,
        .trained_from = 1000,
        .trained_until = 2000,
        .test_from = 2000,
        .test_until = 3000,
        .n_train = 800,
        .n_test = 200,
        .model = "{\"trees\":[]}",
        .metrics = "{\"test\":{}}",
        .active = true, /* ignored: rows go in inactive */
    };
    assert_int_equal(store_model_insert(f->c, &m, &err), BT_OK);
    assert_true(m.id > 0);
    assert_false(m.active);
    return m.id;
}

static void activate(struct fixture *f, int64_t id, int64_t now, bt_err want)
{
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    assert_int_equal(store_model_activate(f->c, id, now, &err), want);
    assert_int_equal(store_commit(f->c, &err), BT_OK);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    int64_t id = add(f, "pm-1", 5000);
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model m;
    assert_int_equal(store_model_get(f->c, id, &a, &m, &err), BT_OK);
    assert_int_equal(m.id, id);
    assert_string_equal(m.version, "pm-1");
    assert_string_equal(m.kind, "trees");
    assert_string_equal(m.target, "converted");
    assert_int_equal(m.created_at, 5000);
    assert_int_equal(m.trained_from, 1000);
    assert_int_equal(m.trained_until, 2000);
    assert_int_equal(m.test_from, 2000);
    assert_int_equal(m.test_until, 3000);
    assert_int_equal(m.n_train, 800);
    assert_int_equal(m.n_test, 200);
    assert_string_equal(m.model, "{\"trees\":[]}");
    assert_string_equal(m.metrics, "{\"test\":{}}");
    assert_false(m.active);
    assert_int_equal(m.activated_at, 0);

    struct store_model by;
    assert_int_equal(store_model_get_by_version(f->c, "pm-1", &a, &by, &err), BT_OK);
    assert_int_equal(by.id, id);
    assert_string_equal(by.model, m.model);
    arena_release(&a);
}

static void test_open_ranges_and_default_metrics(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_model m = {
        .version = "pm-open", .kind = "additive", .target = "sql", .created_at = 7, .model = "{}"};
    assert_int_equal(store_model_insert(f->c, &m, &err), BT_OK);
    struct arena a = ARENA_INIT;
    struct store_model got;
    assert_int_equal(store_model_get(f->c, m.id, &a, &got, &err), BT_OK);
    assert_int_equal(got.trained_from, 0);
    assert_int_equal(got.test_until, 0);
    assert_string_equal(got.metrics, "{}");
    assert_string_equal(got.target, "sql");
    arena_release(&a);
}

static void test_duplicate_version(void **state)
{
    struct fixture *f = *state;
    add(f, "pm-dup", 1);
    struct bt_error err = BT_ERROR_INIT;
    struct store_model m = {.version = "pm-dup",
                            .kind = "trees",
                            .target = "converted",
                            .created_at = 2,
                            .model = "{}"};
    assert_int_equal(store_model_insert(f->c, &m, &err), BT_ECONFLICT);
    assert_non_null(strstr(err.message, "pm-dup"));
    struct arena a = ARENA_INIT;
    struct store_model *list;
    size_t n;
    assert_int_equal(store_model_list(f->c, &a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    arena_release(&a);
}

static void test_bad_version(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    char longv[STORE_MODEL_VERSION_MAX + 2];
    memset(longv, 'v', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    struct store_model m = {
        .version = longv, .kind = "trees", .target = "converted", .created_at = 2, .model = "{}"};
    assert_int_equal(store_model_insert(f->c, &m, &err), BT_EINVAL);
    m.version = "";
    assert_int_equal(store_model_insert(f->c, &m, &err), BT_EINVAL);
}

static void test_not_found(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model m;
    assert_int_equal(store_model_get(f->c, 42, &a, &m, &err), BT_ENOTFOUND);
    assert_non_null(strstr(err.message, "42"));
    assert_int_equal(store_model_get_by_version(f->c, "pm-none", &a, &m, &err), BT_ENOTFOUND);
    assert_int_equal(store_model_active(f->c, &a, &m, &err), BT_ENOTFOUND);
    activate(f, 42, 10, BT_ENOTFOUND);
    arena_release(&a);
}

static void test_list_newest_first(void **state)
{
    struct fixture *f = *state;
    int64_t old = add(f, "pm-old", 100);
    int64_t mid = add(f, "pm-mid", 200);
    int64_t new = add(f, "pm-new", 300);
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model *list;
    size_t n;
    assert_int_equal(store_model_list(f->c, &a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, new);
    assert_int_equal(list[1].id, mid);
    assert_int_equal(list[2].id, old);
    assert_string_equal(list[2].version, "pm-old");
    assert_null(list[0].model);
    assert_string_equal(list[0].metrics, "{\"test\":{}}");
    arena_release(&a);
}

static void test_list_many(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 40; i++) {
        char v[32];
        snprintf(v, sizeof(v), "pm-%02d", i);
        add(f, v, 1000 + i);
    }
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model *list;
    size_t n;
    assert_int_equal(store_model_list(f->c, &a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 40);
    assert_string_equal(list[0].version, "pm-39");
    assert_string_equal(list[39].version, "pm-00");
    arena_release(&a);
}

static int64_t active_id(struct fixture *f)
{
    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model m;
    bt_err e = store_model_active(f->c, &a, &m, &err);
    int64_t id = e == BT_OK ? m.id : 0;
    if (e == BT_OK)
        assert_string_equal(m.model, "{\"trees\":[]}");
    else
        assert_int_equal(e, BT_ENOTFOUND);
    arena_release(&a);
    return id;
}

static void test_activate_deactivates_the_other(void **state)
{
    struct fixture *f = *state;
    int64_t one = add(f, "pm-one", 1);
    int64_t two = add(f, "pm-two", 2);
    assert_int_equal(active_id(f), 0);

    activate(f, one, 50, BT_OK);
    assert_int_equal(active_id(f), one);

    activate(f, two, 60, BT_OK);
    assert_int_equal(active_id(f), two);

    struct bt_error err = BT_ERROR_INIT;
    struct arena a = ARENA_INIT;
    struct store_model m;
    assert_int_equal(store_model_get(f->c, one, &a, &m, &err), BT_OK);
    assert_false(m.active);
    assert_int_equal(m.activated_at, 50); /* when it was last made active */
    assert_int_equal(store_model_get(f->c, two, &a, &m, &err), BT_OK);
    assert_true(m.active);
    assert_int_equal(m.activated_at, 60);

    /* Activating the active one again changes nothing. */
    activate(f, two, 70, BT_OK);
    assert_int_equal(store_model_get(f->c, two, &a, &m, &err), BT_OK);
    assert_true(m.active);
    assert_int_equal(m.activated_at, 60);

    /* An unknown id leaves the active one active. */
    activate(f, 999, 80, BT_ENOTFOUND);
    assert_int_equal(active_id(f), two);

    struct store_model *list;
    size_t n, actives = 0;
    assert_int_equal(store_model_list(f->c, &a, &list, &n, &err), BT_OK);
    for (size_t i = 0; i < n; i++)
        actives += list[i].active;
    assert_int_equal(actives, 1);

    assert_int_equal(store_model_deactivate(f->c, &err), BT_OK);
    assert_int_equal(active_id(f), 0);
    assert_int_equal(store_model_deactivate(f->c, &err), BT_OK); /* none: still fine */
    arena_release(&a);
}

static void test_survives_reopen(void **state)
{
    struct fixture *f = *state;
    int64_t id = add(f, "pm-keep", 1);
    activate(f, id, 5, BT_OK);
    store_conn_close(f->c);
    store_close(f->st);
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    assert_int_equal(store_open(f->path, &opts, &f->st, &err), BT_OK);
    assert_int_equal(store_conn_open(f->st, &f->c, &err), BT_OK);
    assert_int_equal(active_id(f), id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_ranges_and_default_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activate_deactivates_the_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
