/*
 * test_retrain.c - background retraining (ml/retrain.h) on a temporary
 * database: the thread trains after a short interval, stores and activates
 * the model and calls back; a run with too little history activates
 * nothing; stopping returns promptly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "storefix.h"

#include "ml/retrain.h"
#include "store/store_models.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "retrain");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* n labelled leads: converted when usage > 0.5 (a signal to learn). */
static void history(struct fixture *f, int n)
{
    struct bt_error err = BT_ERROR_INIT;
    for (int i = 0; i < n; i++) {
        char email[64], fields[64], data[64];
        double usage = (double)((i * 37) % 100) / 100.0;
        int won = usage > 0.5;
        snprintf(email, sizeof(email), "l%d@example.com", i);
        snprintf(fields, sizeof(fields), "{\"usage\":%.2f}", usage);
        struct lead l;
        memset(&l, 0, sizeof(l));
        l.attr[LEAD_EMAIL] = email;
        l.attr[LEAD_STAGE] = "new";
        l.employees = -1;
        l.fields_json = fields;
        l.created_at = l.updated_at = 1000000000000 + (int64_t)i * 60000;
        assert_int_equal(store_lead_insert(f->c, &l, &err), BT_OK);
        snprintf(data, sizeof(data), "{\"from\":\"new\",\"to\":\"%s\"}", won ? "won" : "lost");
        struct lead_event ev = {.lead_id = l.id,
                                .type = "lead.stage_changed",
                                .actor = "system",
                                .data_json = data,
                                .at = l.created_at + 1000};
        assert_int_equal(store_event_append(f->c, &ev, &err), BT_OK);
    }
}

static atomic_int activations, errors;

static void on_activate(void *cls, int64_t id)
{
    (void)cls;
    (void)id;
    atomic_fetch_add(&activations, 1);
}

static void on_error(void *cls, const struct bt_error *err)
{
    (void)cls;
    (void)err;
    atomic_fetch_add(&errors, 1);
}

static void test_too_little_activates_nothing(void **state)
{
    struct fixture *f = *state;
    history(f, 100);
    struct train_options o = TRAIN_OPTIONS_INIT;
    bool activated = true;
    int64_t id = -1;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(retrain_once(f->c, &o, &activated, &id, &err), BT_EINVAL);
    assert_false(activated);
    struct arena a = ARENA_INIT;
    struct store_model m;
    assert_int_equal(store_model_active(f->c, &a, &m, &err), BT_ENOTFOUND);
    arena_release(&a);
}

static void test_thread_trains_and_activates(void **state)
{
    struct fixture *f = *state;
    history(f, 600);
    struct retrain_options o = {0};
    o.interval_ms = 50;
    o.train = (struct train_options)TRAIN_OPTIONS_INIT;
    o.train.min_labelled = 200;
    o.train.min_per_class = 50;
    o.train.threads = 1;
    o.on_activate = on_activate;
    o.on_error = on_error;
    atomic_store(&activations, 0);
    struct retrain *r;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(retrain_start(f->st, &o, &r, &err), BT_OK);
    for (int i = 0; i < 600 && atomic_load(&activations) == 0; i++)
        usleep(50000);
    retrain_stop(r);
    assert_true(atomic_load(&activations) >= 1);
    assert_int_equal(atomic_load(&errors), 0);
    struct arena a = ARENA_INIT;
    struct store_model m;
    assert_int_equal(store_model_active(f->c, &a, &m, &err), BT_OK);
    assert_string_equal(m.target, "converted");
    assert_int_equal(m.n_train + m.n_test, 600);
    arena_release(&a);
}

static void test_stop_is_prompt(void **state)
{
    struct fixture *f = *state;
    struct retrain_options o = {0};
    o.interval_ms = 3600000;
    o.train = (struct train_options)TRAIN_OPTIONS_INIT;
    struct retrain *r;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(retrain_start(f->st, &o, &r, &err), BT_OK);
    retrain_stop(r); /* returns without waiting an hour */
    o.interval_ms = 0;
    assert_int_equal(retrain_start(f->st, &o, &r, &err), BT_EINVAL);
    retrain_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_too_little_activates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_trains_and_activates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_is_prompt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
