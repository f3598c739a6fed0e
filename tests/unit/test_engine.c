/*
 * test_engine.c - the single writer on a real SQLite file: every ingest
 * outcome, the audit events it writes, and concurrent submitters (group
 * commit must neither lose nor duplicate a command).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "config/config.h"
#include "engine/engine.h"
#include "store/store.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[TMPDIR_MAX];
    struct store *st;
    struct engine *eng;
    struct clock clock;
    struct store_conn *reader;
    struct arena a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!tmpdir_make(f->dir, "engine"))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    clock_manual_init(&f->clock, 1795253400000LL);
    struct bt_error err = BT_ERROR_INIT;
    struct engine_options opts = {.group_commit_max = 8};
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.create = true;
    if (store_open(path, &sopts, &f->st, &err) ||
        engine_start(f->st, &f->clock, &opts, &f->eng, &err) ||
        store_conn_open(f->st, &f->reader, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    engine_stop(f->eng);
    store_conn_close(f->reader);
    store_close(f->st);
    arena_release(&f->a);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

static struct ingest_command cmd_for(const char *email, const char *external_id, const char *title)
{
    struct ingest_command c = {0};
    c.lead.attr[LEAD_EMAIL] = email;
    c.lead.attr[LEAD_EMAIL_DOMAIN] = email ? strchr(email, '@') + 1 : NULL;
    c.lead.attr[LEAD_EXTERNAL_ID] = external_id;
    c.lead.attr[LEAD_TITLE] = title;
    c.lead.employees = -1;
    c.lead.fields_json = "{}";
    c.actor = "key:1";
    c.fingerprint = title ? title : "";
    return c;
}

static size_t count_events(struct fixture *f, int64_t lead_id, const char **last_type)
{
    struct lead_event *evs;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_event_list(f->reader, lead_id, 0, 500, &f->a, &evs, &n, &err), BT_OK);
    if (last_type)
        *last_type = n ? evs[n - 1].type : NULL;
    return n;
}

static void test_create_repeat_merge(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    const char *type;

    struct ingest_command c1 = cmd_for("jane@acme.com", NULL, "VP Sales");
    c1.idempotency_key = "req-1";
    assert_int_equal(engine_ingest(f->eng, &c1, &f->a, &err), BT_OK);
    assert_int_equal(c1.outcome, INGEST_CREATED);
    int64_t id = c1.result.id;
    assert_true(id > 0);
    assert_string_equal(c1.result.attr[LEAD_STAGE], "new");
    assert_int_equal(c1.result.created_at, 1795253400000LL);
    assert_int_equal(count_events(f, id, &type), 1);
    assert_string_equal(type, "lead.created");

    /* the same Idempotency-Key and body: the same lead, nothing written */
    clock_manual_set(&f->clock, 1795253460000LL);
    struct ingest_command c2 = cmd_for("jane@acme.com", NULL, "VP Sales");
    c2.idempotency_key = "req-1";
    assert_int_equal(engine_ingest(f->eng, &c2, &f->a, &err), BT_OK);
    assert_int_equal(c2.outcome, INGEST_REPEATED);
    assert_int_equal(c2.result.id, id);
    assert_int_equal(c2.result.updated_at, 1795253400000LL);
    assert_int_equal(count_events(f, id, NULL), 1);

    /* the same key with another body is a conflict */
    struct ingest_command c3 = cmd_for("jane@acme.com", NULL, "CEO");
    c3.idempotency_key = "req-1";
    assert_int_equal(engine_ingest(f->eng, &c3, &f->a, &err), BT_ECONFLICT);
    assert_string_equal(err.field, "Idempotency-Key");

    /* the same email: merged, with the change in the event */
    struct ingest_command c4 = cmd_for("jane@acme.com", "crm-9", "CEO");
    assert_int_equal(engine_ingest(f->eng, &c4, &f->a, &err), BT_OK);
    assert_int_equal(c4.outcome, INGEST_MERGED);
    assert_int_equal(c4.result.id, id);
    assert_string_equal(c4.result.attr[LEAD_TITLE], "CEO");
    assert_string_equal(c4.result.attr[LEAD_EXTERNAL_ID], "crm-9"); /* was unset */
    assert_int_equal(c4.result.updated_at, 1795253460000LL);
    assert_int_equal(count_events(f, id, &type), 2);
    assert_string_equal(type, "lead.merged");

    /* nothing new: unchanged, no event */
    struct ingest_command c5 = cmd_for("jane@acme.com", NULL, "CEO");
    assert_int_equal(engine_ingest(f->eng, &c5, &f->a, &err), BT_OK);
    assert_int_equal(c5.outcome, INGEST_UNCHANGED);
    assert_int_equal(count_events(f, id, NULL), 2);

    /* a known external_id with another email: the known lead, nothing written */
    struct ingest_command c6 = cmd_for("other@acme.com", "crm-9", "Intern");
    assert_int_equal(engine_ingest(f->eng, &c6, &f->a, &err), BT_OK);
    assert_int_equal(c6.outcome, INGEST_REPEATED);
    assert_int_equal(c6.result.id, id);
    struct lead stored;
    assert_int_equal(store_lead_get(f->reader, id, &f->a, &stored, &err), BT_OK);
    assert_string_equal(stored.attr[LEAD_TITLE], "CEO");
    assert_int_equal(store_lead_find_by_email(f->reader, "other@acme.com", &f->a, &stored, &err),
                     BT_ENOTFOUND);

    /* a phone-only lead is created */
    struct ingest_command c7 = cmd_for(NULL, NULL, NULL);
    c7.lead.attr[LEAD_PHONE] = "+49 30 1234567";
    assert_int_equal(engine_ingest(f->eng, &c7, &f->a, &err), BT_OK);
    assert_int_equal(c7.outcome, INGEST_CREATED);
    assert_true(c7.result.id > id);
}

struct worker {
    struct engine *eng;
    int index;
    int created, merged, failed;
};

#define THREADS    8
#define PER_THREAD 200

/* Each worker creates its own leads and also keeps touching one shared
 * email, so that creates and merges interleave inside groups. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct arena a = ARENA_INIT;
    for (int i = 0; i < PER_THREAD; i++) {
        char email[64], title[32];
        struct bt_error err = BT_ERROR_INIT;
        if (i % 10 == 0) {
            snprintf(email, sizeof(email), "shared@acme.com");
            snprintf(title, sizeof(title), "t%d-%d", w->index, i);
        } else {
            snprintf(email, sizeof(email), "w%d-%d@acme.com", w->index, i);
            snprintf(title, sizeof(title), "x");
        }
        struct ingest_command c = cmd_for(email, NULL, title);
        if (engine_ingest(w->eng, &c, &a, &err) != BT_OK)
            w->failed++;
        else if (c.outcome == INGEST_CREATED)
            w->created++;
        else
            w->merged++;
        arena_release(&a);
    }
    return NULL;
}

static void test_concurrent_submitters(void **state)
{
    struct fixture *f = *state;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.eng = f->eng, .index = i};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int created = 0, merged = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        created += w[i].created;
        merged += w[i].merged;
        failed += w[i].failed;
    }
    assert_int_equal(failed, 0);
    /* 180 own leads per thread + the shared one, created exactly once */
    assert_int_equal(created, THREADS * (PER_THREAD - PER_THREAD / 10) + 1);
    assert_int_equal(merged, THREADS * PER_THREAD / 10 - 1);

    struct engine_stats stats;
    engine_get_stats(f->eng, &stats);
    assert_int_equal(stats.commands, THREADS * PER_THREAD);
    assert_int_equal(stats.sweeps, 0);
    assert_true(stats.commits <= stats.commands);
    assert_int_equal(stats.failed_commits, 0);

    /* everything acknowledged is readable by another connection */
    struct lead_filter flt = {.email_domain = "acme.com", .limit = 500};
    struct lead *leads;
    size_t n, total = 0;
    struct bt_error err = BT_ERROR_INIT;
    for (;;) {
        assert_int_equal(store_lead_list(f->reader, &flt, &f->a, &leads, &n, &err), BT_OK);
        total += n;
        if (n < flt.limit)
            break;
        flt.before_id = leads[n - 1].id;
    }
    assert_int_equal(total, (size_t)created);
    struct lead shared;
    assert_int_equal(store_lead_find_by_email(f->reader, "shared@acme.com", &f->a, &shared, &err),
                     BT_OK);
    assert_int_equal(count_events(f, shared.id, NULL), THREADS * PER_THREAD / 10);
}

static void test_stop_keeps_acknowledged_commands(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct ingest_command c = cmd_for("late@acme.com", NULL, NULL);
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    engine_stop(f->eng);
    f->eng = NULL;
    struct lead got;
    assert_int_equal(store_lead_find_by_email(f->reader, "late@acme.com", &f->a, &got, &err),
                     BT_OK);
}

static const char scoring_yaml[] =
    "version: 1\n"
    "scoring:\n"
    "  fit:\n"
    "    - {name: Big, when: \"employees >= 1000\", points: 40}\n"
    "  engagement:\n"
    "    - {name: Demo, activity: demo_request, points: 30, half_life: 1d}\n"
    "qualification:\n"
    "  mql_when: score >= 60\n"
    "  disqualify_when: email.domain == \"rival.com\"\n";

static void test_scoring_activities_outcome(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg;
    assert_int_equal(config_load_string("t.yaml", scoring_yaml, strlen(scoring_yaml), &cfg, &err),
                     BT_OK);
    const char *type;

    struct ingest_command c = cmd_for("cio@big.com", NULL, NULL);
    c.cfg = cfg;
    c.lead.employees = 5000;
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    int64_t id = c.result.id;
    assert_true(c.result.score.scored);
    assert_true(c.result.score.total == 40);
    assert_string_equal(c.result.attr[LEAD_STAGE], "new");

    /* a demo request: 40 + 30 = 70 -> mql, with an event */
    struct activity_item item = {.lead_id = id,
                                 .act = {.type = "demo_request",
                                         .occurred_at = clock_now(&f->clock),
                                         .properties_json = "{}"}};
    struct activities_command ac = {.cfg = cfg, .items = &item, .n_items = 1, .actor = "key:1"};
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_OK);
    assert_int_equal(ac.n_leads, 1);
    assert_true(ac.leads[0].score.total == 70);
    assert_string_equal(ac.leads[0].attr[LEAD_STAGE], "mql");
    assert_true(ac.leads[0].score.rescore_at > clock_now(&f->clock));
    assert_int_equal(count_events(f, id, &type), 2);
    assert_string_equal(type, "lead.stage_changed");

    /* a day later the demo counts 15: rescored by the due sweep, back to new */
    clock_manual_set(&f->clock, clock_now(&f->clock) + 86400000LL);
    struct engine_stats before, after;
    engine_get_stats(f->eng, &before);
    size_t n = 0;
    assert_int_equal(engine_rescore_due(f->eng, cfg, 100, &n, NULL, &err), BT_OK);
    assert_int_equal(n, 1);
    /* the timers' sweeps are counted apart from the clients' commands */
    assert_int_equal(engine_drain_holds(f->eng, cfg, 10, NULL, NULL, NULL, NULL, &err), BT_OK);
    engine_get_stats(f->eng, &after);
    assert_int_equal(after.commands, before.commands);
    assert_int_equal(after.sweeps, before.sweeps + 2);
    assert_int_equal(after.commits, before.commits + 2);
    struct lead got;
    assert_int_equal(store_lead_get(f->reader, id, &f->a, &got, &err), BT_OK);
    assert_true(fabs(got.score.total - 55) < 1e-9);
    assert_string_equal(got.attr[LEAD_STAGE], "new");
    assert_int_equal(count_events(f, id, NULL), 3);

    /* an unknown email is refused unless leads may be created */
    struct activity_item unknown = {.email = "who@x.com",
                                    .email_domain = "x.com",
                                    .act = {.type = "demo_request", .occurred_at = 1}};
    ac = (struct activities_command){.cfg = cfg, .items = &unknown, .n_items = 1};
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_ENOTFOUND);
    assert_string_equal(err.field, "activities[0].email");
    /* ...or skipped, for a public source: the known lead's activity is
     * recorded, the unknown email's is not, and no lead is made */
    struct activity_item mixed[3] = {
        {.email = "nobody@x.com", .act = {.type = "webinar", .occurred_at = 1}},
        {.email = "cio@big.com", .act = {.type = "webinar", .occurred_at = 1}},
        {.email = "nobody@x.com", .act = {.type = "webinar", .occurred_at = 2}},
    };
    ac =
        (struct activities_command){.cfg = cfg, .items = mixed, .n_items = 3, .skip_missing = true};
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_OK);
    assert_int_equal(ac.n_skipped, 2);
    assert_int_equal(ac.n_leads, 1);
    assert_int_equal(ac.leads[0].id, id);
    assert_true(mixed[0].skipped && !mixed[1].skipped && mixed[2].skipped);
    assert_int_equal(mixed[0].result_lead_id, 0);
    assert_int_equal(mixed[1].result_lead_id, id);
    struct lead none;
    assert_int_equal(store_lead_find_by_email(f->reader, "nobody@x.com", &f->a, &none, &err),
                     BT_ENOTFOUND);
    struct activity *acts;
    size_t n_acts;
    assert_int_equal(store_activity_list(f->reader, id, 10, &f->a, &acts, &n_acts, &err), BT_OK);
    assert_int_equal(n_acts, 2); /* the demo request and the webinar */
    /* only skipped items: nothing written, no error */
    ac = (struct activities_command){
        .cfg = cfg, .items = &unknown, .n_items = 1, .skip_missing = true};
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_OK);
    assert_int_equal(ac.n_skipped, 1);
    assert_int_equal(ac.n_leads, 0);
    ac.skip_missing = false;
    ac.create_missing = true;
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_OK);
    assert_true(unknown.created_lead);
    assert_string_equal(ac.leads[0].attr[LEAD_EMAIL], "who@x.com");
    /* the demo happened in 1970: decayed to nothing, the new lead stays new */
    assert_true(ac.leads[0].score.total < 1e-6);
    assert_string_equal(ac.leads[0].attr[LEAD_STAGE], "new");

    /* outcomes follow the lifecycle */
    struct outcome_command oc = {.cfg = cfg, .lead_id = id, .to = STAGE_WON};
    assert_int_equal(engine_record_outcome(f->eng, &oc, &f->a, &err), BT_ECONFLICT);
    assert_string_equal(err.field, "stage");
    oc.to = STAGE_DISQUALIFIED;
    assert_int_equal(engine_record_outcome(f->eng, &oc, &f->a, &err), BT_OK);
    assert_string_equal(oc.result.attr[LEAD_STAGE], "disqualified");
    oc.lead_id = 424242;
    assert_int_equal(engine_record_outcome(f->eng, &oc, &f->a, &err), BT_ENOTFOUND);
    config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_repeat_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_keeps_acknowledged_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scoring_activities_outcome, setup, teardown),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
