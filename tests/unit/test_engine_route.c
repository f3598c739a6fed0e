/*
 * test_engine_route.c - the engine's routing half on a real SQLite file,
 * driven through the public engine API and read back with a reader
 * connection: assignment in the intake command with its decision record and
 * events, the hold queue (held, the quiet retry, drained by a rep coming
 * back, walked with a cursor), a corrupt pool state, exclusions with
 * re-routing, and the deadlines the engine hands to its hook.
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
#include "store/store_routing.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_MS 1795253400000LL /* 2026-11-21T09:30:00Z */
#define HOUR_MS  3600000LL

/* What the deadline hook was told, per kind (the hook runs on the writer). */
struct deadlines {
    pthread_mutex_t lock;
    int calls[ENGINE_DEADLINE_COUNT];
    int64_t at[ENGINE_DEADLINE_COUNT];
};

struct fixture {
    char dir[TMPDIR_MAX];
    struct store *st;
    struct engine *eng;
    struct clock clock;
    struct store_conn *reader;
    struct arena a;
    struct config *cfg;
    struct deadlines dl;
};

/* Three reps in one round_robin pool; demo requests fast-track to mql;
 * demo_request activities score with a half-life (so scores decay). */
#define ROUTING_YAML(RULE)                                                                         \
    "version: 1\n"                                                                                 \
    "scoring:\n"                                                                                   \
    "  engagement:\n"                                                                              \
    "    - {name: Demo, activity: demo_request, points: 30, half_life: 1d}\n"                      \
    "qualification:\n"                                                                             \
    "  fast_track_when: source == \"demo\"\n"                                                      \
    "reps:\n"                                                                                      \
    "  - {id: ana, name: Ana}\n"                                                                   \
    "  - {id: ben, name: Ben}\n"                                                                   \
    "  - {id: cy, name: Cy}\n"                                                                     \
    "pools:\n"                                                                                     \
    "  - {id: inbound, strategy: round_robin, members: [ana, ben, cy]}\n"                          \
    "routing:\n"                                                                                   \
    "  rules:\n"                                                                                   \
    "    - {name: " RULE ", to: 'pool:inbound'}\n"

static struct config *load_config(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err) != BT_OK) {
        fprintf(stderr, "%s\n", err.message);
        fail();
    }
    return cfg;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, "engine-route"))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    clock_manual_init(&f->clock, START_MS);
    pthread_mutex_init(&f->dl.lock, NULL);
    struct bt_error err = BT_ERROR_INIT;
    struct engine_options opts = {.group_commit_max = 8};
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.create = true;
    if (store_open(path, &sopts, &f->st, &err) ||
        engine_start(f->st, &f->clock, &opts, &f->eng, &err) ||
        store_reader_acquire(f->st, &f->reader, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    static const char yaml[] = ROUTING_YAML("everyone");
    if (config_load_string("t.yaml", yaml, strlen(yaml), &f->cfg, &err)) {
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
    store_reader_release(f->st, f->reader);
    store_close(f->st);
    config_unref(f->cfg);
    arena_release(&f->a);
    pthread_mutex_destroy(&f->dl.lock);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

/* ---- helpers ---- */

static void on_deadline(void *ctx, enum engine_deadline kind, int64_t at)
{
    struct deadlines *d = ctx;
    pthread_mutex_lock(&d->lock);
    d->calls[kind]++;
    d->at[kind] = at;
    pthread_mutex_unlock(&d->lock);
}

/* How often the hook was told of `kind` since the last take, and the last
 * instant; resets both. */
static int take_deadline(struct deadlines *d, enum engine_deadline kind, int64_t *at)
{
    pthread_mutex_lock(&d->lock);
    int n = d->calls[kind];
    if (at)
        *at = d->at[kind];
    d->calls[kind] = 0;
    d->at[kind] = 0;
    pthread_mutex_unlock(&d->lock);
    return n;
}

static struct ingest_command lead_cmd(const struct config *cfg, const char *email,
                                      const char *source)
{
    struct ingest_command c = {0};
    c.cfg = cfg;
    c.lead.attr[LEAD_EMAIL] = email;
    c.lead.attr[LEAD_EMAIL_DOMAIN] = strchr(email, '@') + 1;
    c.lead.attr[LEAD_SOURCE] = source;
    c.lead.employees = -1;
    c.lead.fields_json = "{}";
    c.actor = "key:1";
    c.fingerprint = email;
    return c;
}

/* Ingests a new lead and returns it as the command's result. */
static struct lead ingest(struct fixture *f, const struct config *cfg, const char *email,
                          const char *source)
{
    struct bt_error err = BT_ERROR_INIT;
    struct ingest_command c = lead_cmd(cfg, email, source);
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    assert_int_equal(c.outcome, INGEST_CREATED);
    return c.result;
}

static struct lead get_lead(struct fixture *f, int64_t id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead l;
    assert_int_equal(store_lead_get(f->reader, id, &f->a, &l, &err), BT_OK);
    return l;
}

static struct lead_event *events(struct fixture *f, int64_t lead_id, size_t *n)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead_event *evs;
    assert_int_equal(store_event_list(f->reader, lead_id, 0, 500, &f->a, &evs, n, &err), BT_OK);
    return evs;
}

static size_t count_type(const struct lead_event *evs, size_t n, const char *type)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(evs[i].type, type) == 0;
    return k;
}

static struct store_decision decision(struct fixture *f, int64_t lead_id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_decision d;
    assert_int_equal(store_decision_latest(f->reader, lead_id, &f->a, &d, &err), BT_OK);
    return d;
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        fprintf(stderr, "not JSON (%s): %s\n", jerr.text, text);
        fail();
    }
    return j;
}

/* The string member `key` of the JSON object text, or NULL (in the arena). */
static const char *json_text_field(struct fixture *f, const char *text, const char *key)
{
    json_t *j = parse(text);
    const char *s = json_string_value(json_object_get(j, key));
    const char *copy = s ? arena_strdup(&f->a, s) : NULL;
    json_decref(j);
    return copy;
}

static void assert_stage_changed(struct fixture *f, const struct lead_event *ev, const char *from,
                                 const char *to, const char *via)
{
    assert_string_equal(ev->type, "lead.stage_changed");
    assert_string_equal(json_text_field(f, ev->data_json, "from"), from);
    assert_string_equal(json_text_field(f, ev->data_json, "to"), to);
    assert_string_equal(json_text_field(f, ev->data_json, "via"), via);
}

static size_t set_status(struct fixture *f, const struct config *cfg, const char *rep,
                         enum rep_status status, int64_t until)
{
    struct bt_error err = BT_ERROR_INIT;
    struct rep_status_command c = {
        .cfg = cfg, .rep_id = rep, .status = status, .until = until, .actor = "key:1"};
    assert_int_equal(engine_set_rep_status(f->eng, &c, &f->a, &err), BT_OK);
    return c.assigned;
}

static int64_t hold_count(struct fixture *f)
{
    struct bt_error err = BT_ERROR_INIT;
    int64_t n;
    assert_int_equal(store_hold_count(f->reader, &n, &err), BT_OK);
    return n;
}

static void everyone_away(struct fixture *f)
{
    static const char *const reps[] = {"ana", "ben", "cy"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(set_status(f, f->cfg, reps[i], REP_AWAY, 0), 0);
}

static void record_demo(struct fixture *f, const struct config *cfg, int64_t lead_id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct activity_item item = {.lead_id = lead_id,
                                 .act = {.type = "demo_request",
                                         .occurred_at = clock_now(&f->clock),
                                         .properties_json = "{}"}};
    struct activities_command ac = {.cfg = cfg, .items = &item, .n_items = 1, .actor = "key:1"};
    assert_int_equal(engine_record_activities(f->eng, &ac, &f->a, &err), BT_OK);
    assert_int_equal(ac.n_leads, 1);
}

/* ---- tests ---- */

static void test_qualified_lead_is_assigned_in_the_same_command(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;

    struct lead l = ingest(f, f->cfg, "buyer1@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_STAGE], "assigned");
    assert_string_equal(l.attr[LEAD_OWNER], "ana"); /* round robin starts at the first rep */
    struct lead stored = get_lead(f, l.id);
    assert_string_equal(stored.attr[LEAD_STAGE], "assigned");
    assert_string_equal(stored.attr[LEAD_OWNER], "ana");
    assert_int_equal(hold_count(f), 0);

    /* the decision row and its record, in final form */
    struct store_decision d = decision(f, l.id);
    assert_string_equal(d.result, "assigned");
    assert_string_equal(d.rep_id, "ana");
    assert_string_equal(d.pool_id, "inbound");
    assert_string_equal(d.rule, "everyone");
    assert_string_equal(d.config_version, f->cfg->version);
    assert_int_equal(d.at, START_MS);
    json_t *rec = parse(d.record);
    char at[RFC3339_MAX];
    time_format_rfc3339(START_MS, at);
    assert_true(json_is_string(json_object_get(rec, "at")));
    assert_string_equal(json_string_value(json_object_get(rec, "at")), at);
    assert_string_equal(json_string_value(json_object_get(rec, "config_version")), f->cfg->version);
    assert_string_equal(json_string_value(json_object_get(rec, "result")), "assigned");
    assert_string_equal(json_string_value(json_object_get(rec, "rep")), "ana");
    assert_int_equal(json_integer_value(json_object_get(rec, "lead")), l.id);
    assert_null(json_object_get(rec, "pool_state_reset"));
    json_decref(rec);

    /* events: created, new -> mql, mql -> assigned, assigned */
    size_t n;
    struct lead_event *evs = events(f, l.id, &n);
    assert_int_equal(n, 4);
    assert_string_equal(evs[0].type, "lead.created");
    assert_stage_changed(f, &evs[1], "new", "mql", "qualification");
    assert_stage_changed(f, &evs[2], "mql", "assigned", "routing");
    assert_string_equal(evs[3].type, "lead.assigned");
    json_t *data = parse(evs[3].data_json);
    assert_string_equal(json_string_value(json_object_get(data, "rep")), "ana");
    assert_string_equal(json_string_value(json_object_get(data, "pool")), "inbound");
    assert_string_equal(json_string_value(json_object_get(data, "rule")), "everyone");
    assert_int_equal(json_integer_value(json_object_get(data, "decision")), d.id);
    assert_null(json_object_get(data, "previous_owner"));
    json_decref(data);

    /* the pool's state moved on with it */
    const char *ps;
    assert_int_equal(store_pool_state_get(f->reader, "inbound", &f->a, &ps, &err), BT_OK);
    assert_non_null(ps);
    assert_string_equal(json_text_field(f, ps, "last_rep"), "ana");

    /* the next ones go round */
    assert_string_equal(ingest(f, f->cfg, "buyer2@acme.example", "demo").attr[LEAD_OWNER], "ben");
    assert_string_equal(ingest(f, f->cfg, "buyer3@acme.example", "demo").attr[LEAD_OWNER], "cy");
    assert_string_equal(ingest(f, f->cfg, "buyer4@acme.example", "demo").attr[LEAD_OWNER], "ana");

    /* a lead that does not qualify is not routed: no decision, no hold */
    struct lead cold = ingest(f, f->cfg, "someone@acme.example", "web");
    assert_string_equal(cold.attr[LEAD_STAGE], "new");
    assert_null(cold.attr[LEAD_OWNER]);
    struct store_decision none;
    assert_int_equal(store_decision_latest(f->reader, cold.id, &f->a, &none, &err), BT_ENOTFOUND);
    assert_int_equal(hold_count(f), 0);
}

static void test_everyone_away_holds_then_a_rep_back_drains(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    everyone_away(f);

    struct lead l = ingest(f, f->cfg, "buyer@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_STAGE], "mql");
    assert_null(l.attr[LEAD_OWNER]);
    assert_int_equal(hold_count(f), 1);
    struct store_hold *holds;
    size_t nh;
    assert_int_equal(store_hold_list(f->reader, 10, NULL, &f->a, &holds, &nh, &err), BT_OK);
    assert_int_equal(nh, 1);
    assert_int_equal(holds[0].lead_id, l.id);
    assert_string_equal(holds[0].reason, "no_eligible_member");
    assert_string_equal(holds[0].pool_id, "inbound");
    assert_string_equal(holds[0].rule, "everyone");

    struct store_decision d = decision(f, l.id);
    assert_string_equal(d.result, "held");
    assert_null(d.rep_id);
    assert_int_equal(holds[0].decision_id, d.id);
    assert_string_equal(json_text_field(f, d.record, "hold_reason"), "no_eligible_member");

    size_t n;
    struct lead_event *evs = events(f, l.id, &n);
    assert_int_equal(n, 3);
    assert_stage_changed(f, &evs[1], "new", "mql", "qualification");
    assert_string_equal(evs[2].type, "lead.held");
    assert_string_equal(json_text_field(f, evs[2].data_json, "reason"), "no_eligible_member");
    struct lead before = get_lead(f, l.id);

    /* the timer's retry a minute later, with everyone still away, writes
     * nothing: the same decision, no event, the lead untouched */
    clock_manual_set(&f->clock, START_MS + 60000);
    size_t tried = 99, assigned = 99;
    int64_t next_change = -1;
    assert_int_equal(
        engine_drain_holds(f->eng, f->cfg, 100, NULL, &tried, &assigned, &next_change, &err),
        BT_OK);
    assert_int_equal(tried, 1);
    assert_int_equal(assigned, 0);
    assert_int_equal(next_change, 0); /* no until, no time off */
    assert_int_equal(decision(f, l.id).id, d.id);
    events(f, l.id, &n);
    assert_int_equal(n, 3);
    struct lead after = get_lead(f, l.id);
    assert_int_equal(after.updated_at, before.updated_at);
    assert_int_equal(after.score.scored_at, before.score.scored_at);
    assert_int_equal(hold_count(f), 1);

    /* a rep back: the queue drains in that same command */
    assert_int_equal(set_status(f, f->cfg, "ben", REP_AVAILABLE, 0), 1);
    after = get_lead(f, l.id);
    assert_string_equal(after.attr[LEAD_STAGE], "assigned");
    assert_string_equal(after.attr[LEAD_OWNER], "ben");
    assert_int_equal(hold_count(f), 0);
    struct store_decision d2 = decision(f, l.id);
    assert_true(d2.id > d.id);
    assert_string_equal(d2.result, "assigned");
    assert_string_equal(d2.rep_id, "ben");
    evs = events(f, l.id, &n);
    assert_int_equal(n, 5);
    assert_stage_changed(f, &evs[3], "mql", "assigned", "routing");
    assert_string_equal(evs[4].type, "lead.assigned");
    assert_string_equal(evs[4].actor, "system");

    /* nothing held: another rep back assigns nothing */
    assert_int_equal(set_status(f, f->cfg, "cy", REP_AVAILABLE, 0), 0);
}

/* Two pools: leads from Germany go to emea (cy), the rest to inbound (ana,
 * ben); spam is held by a hold rule; everyone is away. */
static const char two_pools_yaml[] =
    "version: 1\n"
    "qualification:\n"
    "  fast_track_when: source == \"demo\" or source == \"spam\"\n"
    "reps:\n"
    "  - {id: ana, name: Ana}\n"
    "  - {id: ben, name: Ben}\n"
    "  - {id: cy, name: Cy}\n"
    "pools:\n"
    "  - {id: inbound, strategy: round_robin, members: [ana, ben]}\n"
    "  - {id: emea, strategy: round_robin, members: [cy]}\n"
    "routing:\n"
    "  rules:\n"
    "    - {name: spam, when: 'source == \"spam\"', to: hold}\n"
    "    - {name: germany, when: 'country == \"DE\"', to: 'pool:emea'}\n"
    "    - {name: everyone, to: 'pool:inbound'}\n";

#define MANY_HELD 1005 /* more than a rep's change tries */

/* A rep back tries the held leads it may help, not the top of the queue:
 * with more than 1,000 leads held for inbound ahead of them, the two held
 * for emea are assigned the moment cy is back. The timer's walk skips the
 * lead held by the hold rule (no rep's change can help it); a walk over
 * every held lead, as after a reload, tries it. */
static void test_a_rep_back_tries_the_leads_it_can_help(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg = load_config(two_pools_yaml);
    static const char *const reps[] = {"ana", "ben", "cy"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(set_status(f, cfg, reps[i], REP_AWAY, 0), 0);
    for (int i = 0; i < MANY_HELD; i++) {
        char email[64];
        snprintf(email, sizeof(email), "in%d@acme.example", i);
        ingest(f, cfg, email, "demo");
    }
    clock_manual_set(&f->clock, START_MS + 1000);
    int64_t de[2];
    for (int i = 0; i < 2; i++) {
        char email[64];
        snprintf(email, sizeof(email), "de%d@acme.example", i);
        struct ingest_command c = lead_cmd(cfg, email, "demo");
        c.lead.attr[LEAD_COUNTRY] = "DE";
        assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
        de[i] = c.result.id;
    }
    int64_t spam = ingest(f, cfg, "spam@acme.example", "spam").id;
    assert_int_equal(hold_count(f), MANY_HELD + 3);

    const char *emea[] = {"pool:emea"};
    struct store_hold *h;
    size_t n;
    assert_int_equal(store_hold_list_woken(f->reader, emea, 1, 10, NULL, &f->a, &h, &n, &err),
                     BT_OK);
    assert_int_equal(n, 2);

    assert_int_equal(set_status(f, cfg, "cy", REP_AVAILABLE, 0), 2);
    for (int i = 0; i < 2; i++) {
        struct lead l = get_lead(f, de[i]);
        assert_string_equal(l.attr[LEAD_STAGE], "assigned");
        assert_string_equal(l.attr[LEAD_OWNER], "cy");
    }
    assert_int_equal(hold_count(f), MANY_HELD + 1);

    /* the timer's walk: the inbound leads, not the spam */
    clock_manual_set(&f->clock, START_MS + 60000);
    struct engine_hold_cursor cursor = {0};
    size_t tried, all = 0;
    do {
        assert_int_equal(engine_drain_holds(f->eng, cfg, 1000, &cursor, &tried, NULL, NULL, &err),
                         BT_OK);
        all += tried;
        assert_false(cursor.every);
    } while (tried == 1000);
    assert_int_equal(all, MANY_HELD);
    /* every held lead: the spam too */
    cursor = (struct engine_hold_cursor){.every = true};
    all = 0;
    do {
        assert_int_equal(engine_drain_holds(f->eng, cfg, 1000, &cursor, &tried, NULL, NULL, &err),
                         BT_OK);
        all += tried;
        assert_true(cursor.every);
    } while (tried == 1000);
    assert_int_equal(all, MANY_HELD + 1);
    assert_string_equal(get_lead(f, spam).attr[LEAD_STAGE], "mql");
    config_unref(cfg);
}

/* A timer walk limited to a window tries only the leads of the reps that
 * may have become eligible in it: cy's `until` ends inside the second
 * window, so that walk tries (and assigns) the two emea leads and not the
 * inbound ones; the first window, before it, tries nothing. */
static void test_a_timer_walk_tries_the_reps_that_changed(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg = load_config(two_pools_yaml);
    int64_t until = START_MS + HOUR_MS;
    assert_int_equal(set_status(f, cfg, "ana", REP_AWAY, 0), 0);
    assert_int_equal(set_status(f, cfg, "ben", REP_AWAY, 0), 0);
    assert_int_equal(set_status(f, cfg, "cy", REP_AWAY, until), 0);
    for (int i = 0; i < 5; i++) {
        char email[64];
        snprintf(email, sizeof(email), "w%d@acme.example", i);
        struct ingest_command c = lead_cmd(cfg, email, "demo");
        c.lead.attr[LEAD_COUNTRY] = i < 2 ? "DE" : "US";
        assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    }
    assert_int_equal(hold_count(f), 5);
    size_t tried = 99, assigned = 99;
    clock_manual_set(&f->clock, START_MS + 30 * 60000);
    struct engine_hold_cursor before = {.changed_from = START_MS,
                                        .changed_to = START_MS + 30 * 60000};
    assert_int_equal(engine_drain_holds(f->eng, cfg, 1000, &before, &tried, &assigned, NULL, &err),
                     BT_OK);
    assert_int_equal(tried, 0);
    clock_manual_set(&f->clock, until + 60000);
    struct engine_hold_cursor after = {.changed_from = START_MS + 30 * 60000,
                                       .changed_to = until + 60000};
    assert_int_equal(engine_drain_holds(f->eng, cfg, 1000, &after, &tried, &assigned, NULL, &err),
                     BT_OK);
    assert_int_equal(tried, 2);
    assert_int_equal(assigned, 2);
    assert_int_equal(hold_count(f), 3);
    config_unref(cfg);
}

/* A lead that fell through one pool (fallback: next_rule) and is held in the
 * next waits for both: cy (emea, the pool it fell through) coming back
 * assigns it, ahead of the default pool it is held in. */
static void test_a_fall_through_pool_wakes_the_lead(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    static const char yaml[] =
        "version: 1\n"
        "qualification:\n"
        "  fast_track_when: source == \"demo\"\n"
        "reps:\n"
        "  - {id: ana, name: Ana}\n"
        "  - {id: cy, name: Cy}\n"
        "pools:\n"
        "  - {id: inbound, strategy: round_robin, members: [ana]}\n"
        "  - {id: emea, strategy: round_robin, members: [cy]}\n"
        "routing:\n"
        "  rules:\n"
        "    - {name: germany, when: 'country == \"DE\"', to: 'pool:emea', fallback: next_rule}\n"
        "    - {name: everyone, to: 'pool:inbound'}\n";
    struct config *cfg = load_config(yaml);
    assert_int_equal(set_status(f, cfg, "ana", REP_AWAY, 0), 0);
    assert_int_equal(set_status(f, cfg, "cy", REP_AWAY, 0), 0);
    struct ingest_command c = lead_cmd(cfg, "de@acme.example", "demo");
    c.lead.attr[LEAD_COUNTRY] = "DE";
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    struct store_hold *h;
    size_t n;
    assert_int_equal(store_hold_list(f->reader, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].pool_id, "inbound"); /* held where it ended */
    const char *emea[] = {"pool:emea"};
    assert_int_equal(store_hold_list_woken(f->reader, emea, 1, 10, NULL, &f->a, &h, &n, &err),
                     BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(set_status(f, cfg, "cy", REP_AVAILABLE, 0), 1);
    struct lead l = get_lead(f, c.result.id);
    assert_string_equal(l.attr[LEAD_OWNER], "cy");
    config_unref(cfg);
}

/* A midnight that resets the caps of 300 reps at once is more than one
 * list of wake targets takes: the walk tries every lead with a target
 * instead of failing. */
static void test_a_window_with_hundreds_of_reps(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    size_t cap = 64 * 1024, len = 0;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    len += (size_t)snprintf(yaml + len, cap - len,
                            "version: 1\nqualification:\n  fast_track_when: source == \"demo\"\n"
                            "reps:\n");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(yaml + len, cap - len,
                                "  - {id: r%d, name: R%d, daily_cap: 5, timezone: UTC}\n", i, i);
    len += (size_t)snprintf(yaml + len, cap - len,
                            "pools:\n  - {id: all, strategy: round_robin, members: [");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "%sr%d", i ? ", " : "", i);
    len += (size_t)snprintf(yaml + len, cap - len,
                            "]}\nrouting:\n  rules:\n    - {name: all, to: 'pool:all'}\n");
    struct config *cfg = load_config(yaml);
    free(yaml);
    for (int i = 0; i < 300; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        assert_int_equal(set_status(f, cfg, id, REP_AWAY, 0), 0);
    }
    ingest(f, cfg, "one@acme.example", "demo");
    /* a span over UTC midnight: every rep's daily cap resets in it */
    int64_t midnight = (START_MS / 86400000 + 1) * 86400000;
    clock_manual_set(&f->clock, midnight + 1000);
    struct engine_hold_cursor cursor = {.changed_from = midnight - 1000,
                                        .changed_to = midnight + 1000};
    size_t tried = 0;
    assert_int_equal(engine_drain_holds(f->eng, cfg, 1000, &cursor, &tried, NULL, NULL, &err),
                     BT_OK);
    assert_int_equal(tried, 1);
    config_unref(cfg);
}

#define WALK 5

static void test_drain_walks_the_queue_with_the_cursor(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    everyone_away(f);
    int64_t ids[WALK];
    for (int i = 0; i < WALK; i++) {
        char email[64];
        snprintf(email, sizeof(email), "held%d@acme.example", i);
        clock_manual_set(&f->clock, START_MS + 1000 * i);
        ids[i] = ingest(f, f->cfg, email, "demo").id;
    }
    assert_int_equal(hold_count(f), WALK);
    /* queue order: equal scores, so the longest waiting first */
    struct store_hold *holds;
    size_t nh;
    assert_int_equal(store_hold_list(f->reader, 10, NULL, &f->a, &holds, &nh, &err), BT_OK);
    assert_int_equal(nh, WALK);
    for (int i = 0; i < WALK; i++)
        assert_int_equal(holds[i].lead_id, ids[i]);

    /* Each call routes with a configuration whose rule has another name, so
     * every lead tried is held again under a new rule: a new decision naming
     * the call, and a lead.held event. A lead tried twice would have three. */
    static const char yaml1[] = ROUTING_YAML("walk-1");
    static const char yaml2[] = ROUTING_YAML("walk-2");
    static const char yaml3[] = ROUTING_YAML("walk-3");
    struct config *cfgs[] = {load_config(yaml1), load_config(yaml2), load_config(yaml3)};
    static const char *const rule_of[WALK] = {"walk-1", "walk-1", "walk-2", "walk-2", "walk-3"};
    static const size_t tried_by[] = {2, 2, 1};
    static const int last_of[] = {1, 3, 4};

    struct engine_hold_cursor cursor = {0};
    clock_manual_set(&f->clock, START_MS + 60000);
    for (int call = 0; call < 3; call++) {
        size_t tried, assigned;
        assert_int_equal(
            engine_drain_holds(f->eng, cfgs[call], 2, &cursor, &tried, &assigned, NULL, &err),
            BT_OK);
        assert_int_equal(tried, tried_by[call]);
        assert_int_equal(assigned, 0);
        assert_true(cursor.set);
        assert_int_equal(cursor.lead_id, ids[last_of[call]]);
    }
    /* the walk is done */
    size_t tried = 99;
    assert_int_equal(engine_drain_holds(f->eng, cfgs[0], 2, &cursor, &tried, NULL, NULL, &err),
                     BT_OK);
    assert_int_equal(tried, 0);

    for (int i = 0; i < WALK; i++) {
        struct store_decision d = decision(f, ids[i]);
        assert_string_equal(d.result, "held");
        assert_string_equal(d.rule, rule_of[i]);
        size_t n;
        struct lead_event *evs = events(f, ids[i], &n);
        assert_int_equal(count_type(evs, n, "lead.held"), 2);
    }
    assert_int_equal(hold_count(f), WALK);
    for (int i = 0; i < 3; i++)
        config_unref(cfgs[i]);
}

static void corrupt_pool_state(struct fixture *f, const char *text)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_conn *c;
    assert_int_equal(store_conn_open(f->st, &c, &err), BT_OK);
    assert_int_equal(store_begin(c, &err), BT_OK);
    assert_int_equal(store_pool_state_put(c, "inbound", text, clock_now(&f->clock), &err), BT_OK);
    assert_int_equal(store_commit(c, &err), BT_OK);
    store_conn_close(c);
}

static void test_a_corrupt_pool_state_does_not_stop_routing(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    assert_string_equal(ingest(f, f->cfg, "first@acme.example", "demo").attr[LEAD_OWNER], "ana");

    /* not JSON at all: kept in the record as the text it was */
    corrupt_pool_state(f, "not json at all");
    struct lead l = ingest(f, f->cfg, "second@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_STAGE], "assigned");
    assert_non_null(l.attr[LEAD_OWNER]);
    json_t *rec = parse(decision(f, l.id).record);
    assert_true(json_is_true(json_object_get(rec, "pool_state_reset")));
    json_t *discarded = json_object_get(json_object_get(rec, "discarded_pool_states"), "inbound");
    assert_true(json_is_string(discarded));
    assert_string_equal(json_string_value(discarded), "not json at all");
    json_decref(rec);
    /* the pool has a readable state again */
    const char *ps;
    assert_int_equal(store_pool_state_get(f->reader, "inbound", &f->a, &ps, &err), BT_OK);
    json_t *st = parse(ps);
    assert_string_equal(json_string_value(json_object_get(st, "strategy")), "round_robin");
    assert_int_equal(json_integer_value(json_object_get(st, "decisions")), 1);
    json_decref(st);

    /* JSON the strategy refuses (a member twice): kept as the object */
    corrupt_pool_state(f, "{\"strategy\": \"round_robin\", \"last_rep\": null, "
                          "\"window_start\": 0, \"updated_at\": 0, \"decisions\": 2, "
                          "\"members\": [{\"rep\": \"ana\", \"pointer\": 0, \"credit\": 0, "
                          "\"assigned\": 1}, {\"rep\": \"ana\", \"pointer\": 0, \"credit\": 0, "
                          "\"assigned\": 1}]}");
    l = ingest(f, f->cfg, "third@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_STAGE], "assigned");
    rec = parse(decision(f, l.id).record);
    assert_true(json_is_true(json_object_get(rec, "pool_state_reset")));
    discarded = json_object_get(json_object_get(rec, "discarded_pool_states"), "inbound");
    assert_true(json_is_object(discarded));
    assert_int_equal(json_integer_value(json_object_get(discarded, "decisions")), 2);
    assert_int_equal(json_array_size(json_object_get(discarded, "members")), 2);
    json_decref(rec);

    /* and the one after that decides from a good state, without a reset */
    l = ingest(f, f->cfg, "fourth@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_STAGE], "assigned");
    rec = parse(decision(f, l.id).record);
    assert_null(json_object_get(rec, "pool_state_reset"));
    assert_null(json_object_get(rec, "discarded_pool_states"));
    json_decref(rec);
}

static struct exclusion_command exclusion(const struct config *cfg, int64_t lead_id,
                                          const char *rep, bool reroute)
{
    return (struct exclusion_command){.cfg = cfg,
                                      .lead_id = lead_id,
                                      .rep_id = rep,
                                      .reason = "rejected",
                                      .reroute = reroute,
                                      .actor = "key:1"};
}

static void test_exclusions_and_reroute(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct lead l = ingest(f, f->cfg, "buyer@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_OWNER], "ana");
    size_t n0;
    events(f, l.id, &n0);

    /* a rep that does not own the lead: excluded, nothing else moves */
    struct exclusion_command x = exclusion(f->cfg, l.id, "ben", true);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_OK);
    assert_false(x.rerouted);
    assert_string_equal(x.result.attr[LEAD_STAGE], "assigned");
    assert_string_equal(x.result.attr[LEAD_OWNER], "ana");
    size_t n;
    struct lead_event *evs = events(f, l.id, &n);
    assert_int_equal(n, n0 + 1);
    assert_string_equal(evs[n0].type, "lead.excluded");
    assert_string_equal(evs[n0].reason, "rejected");
    assert_string_equal(json_text_field(f, evs[n0].data_json, "rep"), "ben");

    /* the owner, with reroute: taken back and routed to anyone but ana and
     * ben, in the same command */
    x = exclusion(f->cfg, l.id, "ana", true);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_OK);
    assert_true(x.rerouted);
    assert_string_equal(x.result.attr[LEAD_STAGE], "assigned");
    assert_string_equal(x.result.attr[LEAD_OWNER], "cy");
    struct lead stored = get_lead(f, l.id);
    assert_string_equal(stored.attr[LEAD_OWNER], "cy");
    assert_string_equal(stored.attr[LEAD_STAGE], "assigned");
    evs = events(f, l.id, &n);
    assert_int_equal(n, n0 + 5);
    assert_string_equal(evs[n0 + 1].type, "lead.excluded");
    assert_string_equal(json_text_field(f, evs[n0 + 1].data_json, "rep"), "ana");
    assert_stage_changed(f, &evs[n0 + 2], "assigned", "mql", "exclusion");
    assert_string_equal(json_text_field(f, evs[n0 + 2].data_json, "rep"), "ana");
    assert_stage_changed(f, &evs[n0 + 3], "mql", "assigned", "routing");
    assert_string_equal(evs[n0 + 4].type, "lead.assigned");
    assert_string_equal(json_text_field(f, evs[n0 + 4].data_json, "rep"), "cy");
    /* taken back first: the new owner follows no previous one */
    assert_null(json_text_field(f, evs[n0 + 4].data_json, "previous_owner"));
    struct store_decision d = decision(f, l.id);
    assert_string_equal(d.rep_id, "cy");
    /* the open assignment moved with it */
    struct rep_runtime rt;
    assert_int_equal(
        store_rep_runtime_get(f->reader, "ana", clock_now(&f->clock), &f->a, &rt, &err), BT_OK);
    assert_int_equal(rt.open, 0);
    assert_int_equal(store_rep_runtime_get(f->reader, "cy", clock_now(&f->clock), &f->a, &rt, &err),
                     BT_OK);
    assert_int_equal(rt.open, 1);

    struct store_exclusion *list;
    size_t nx;
    assert_int_equal(store_exclusion_list(f->reader, l.id, &f->a, &list, &nx, &err), BT_OK);
    assert_int_equal(nx, 2);
    assert_string_equal(list[0].rep_id, "ana");
    assert_string_equal(list[1].rep_id, "ben");
    assert_string_equal(list[0].reason, "rejected");

    /* cy excluded too: nobody is left for this lead, it is held ... */
    x = exclusion(f->cfg, l.id, "cy", true);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_OK);
    assert_true(x.rerouted);
    assert_string_equal(x.result.attr[LEAD_STAGE], "mql");
    assert_null(x.result.attr[LEAD_OWNER]); /* taken from cy, nobody's while held */
    assert_int_equal(hold_count(f), 1);
    d = decision(f, l.id);
    assert_string_equal(d.result, "held");
    json_t *rec = parse(d.record);
    json_t *cands = json_object_get(rec, "candidates");
    assert_int_equal(json_array_size(cands), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(cands, i), "reason")),
                            "excluded");
    json_decref(rec);

    /* ... and stays held whatever the reps do: the excluded are never chosen */
    size_t tried, assigned;
    assert_int_equal(engine_drain_holds(f->eng, f->cfg, 10, NULL, &tried, &assigned, NULL, &err),
                     BT_OK);
    assert_int_equal(tried, 1);
    assert_int_equal(assigned, 0);
    assert_int_equal(set_status(f, f->cfg, "ana", REP_AVAILABLE, 0), 0);
    stored = get_lead(f, l.id);
    assert_string_equal(stored.attr[LEAD_STAGE], "mql");
    assert_int_equal(hold_count(f), 1);

    /* exclusions are per lead: another lead still goes round */
    struct lead other = ingest(f, f->cfg, "other@acme.example", "demo");
    assert_string_equal(other.attr[LEAD_STAGE], "assigned");
    const char *owner = other.attr[LEAD_OWNER];
    assert_non_null(owner);

    /* without reroute the owner keeps the lead (but will not get it again) */
    x = exclusion(f->cfg, other.id, owner, false);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_OK);
    assert_false(x.rerouted);
    stored = get_lead(f, other.id);
    assert_string_equal(stored.attr[LEAD_STAGE], "assigned");
    assert_string_equal(stored.attr[LEAD_OWNER], owner);

    /* unknown lead or rep */
    x = exclusion(f->cfg, 424242, "ana", true);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_ENOTFOUND);
    assert_string_equal(err.field, "id");
    err = (struct bt_error)BT_ERROR_INIT;
    x = exclusion(f->cfg, l.id, "nobody", true);
    assert_int_equal(engine_exclude_rep(f->eng, &x, &f->a, &err), BT_ENOTFOUND);
    assert_string_equal(err.field, "id");
    assert_int_equal(store_exclusion_list(f->reader, l.id, &f->a, &list, &nx, &err), BT_OK);
    assert_int_equal(nx, 3);
}

static void test_deadline_hook(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    engine_set_deadline_hook(f->eng, on_deadline, &f->dl);
    int64_t at;

    /* a lead without activities: nothing decays, no deadline */
    struct lead l = ingest(f, f->cfg, "buyer@acme.example", "web");
    assert_int_equal(get_lead(f, l.id).score.rescore_at, 0);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_DECAY, NULL), 0);

    /* an activity with a half-life: the decay sweep is due at rescore_at */
    record_demo(f, f->cfg, l.id);
    int64_t rescore_at = get_lead(f, l.id).score.rescore_at;
    assert_true(rescore_at > clock_now(&f->clock));
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_DECAY, &at), 1);
    assert_int_equal(at, rescore_at);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, NULL), 0);

    /* an ingest (a merge) of that lead, an hour later: its new rescore_at */
    clock_manual_set(&f->clock, START_MS + HOUR_MS);
    struct ingest_command c = lead_cmd(f->cfg, "buyer@acme.example", "web");
    c.lead.attr[LEAD_TITLE] = "CTO";
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    assert_int_equal(c.outcome, INGEST_MERGED);
    rescore_at = get_lead(f, l.id).score.rescore_at;
    assert_true(rescore_at > clock_now(&f->clock));
    assert_int_equal(c.result.score.rescore_at, rescore_at);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_DECAY, &at), 1);
    assert_int_equal(at, rescore_at);

    /* a status with an until: the hold queue is due then */
    int64_t until = clock_now(&f->clock) + 2 * HOUR_MS;
    assert_int_equal(set_status(f, f->cfg, "ana", REP_AWAY, until), 0);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, &at), 1);
    assert_int_equal(at, until);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_DECAY, NULL), 0);

    /* a status without one asks for nothing */
    assert_int_equal(set_status(f, f->cfg, "ben", REP_AWAY, 0), 0);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, NULL), 0);

    /* an until that is not in the future is refused, and asks for nothing */
    struct rep_status_command rs = {.cfg = f->cfg,
                                    .rep_id = "cy",
                                    .status = REP_AWAY,
                                    .until = clock_now(&f->clock),
                                    .actor = "key:1"};
    assert_int_equal(engine_set_rep_status(f->eng, &rs, &f->a, &err), BT_EINVAL);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, NULL), 0);

    /* time off: the queue is due when it ends */
    struct time_off_command to = {.cfg = f->cfg,
                                  .rep_id = "cy",
                                  .from = clock_now(&f->clock) + HOUR_MS,
                                  .to = clock_now(&f->clock) + 3 * HOUR_MS,
                                  .actor = "key:1"};
    assert_int_equal(engine_time_off(f->eng, &to, &f->a, &err), BT_OK);
    assert_true(to.id > 0);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, &at), 1);
    assert_int_equal(at, to.to);

    /* the drain reports the next of these boundaries */
    int64_t next_change;
    assert_int_equal(engine_drain_holds(f->eng, f->cfg, 10, NULL, NULL, NULL, &next_change, &err),
                     BT_OK);
    assert_int_equal(next_change, to.from);

    engine_set_deadline_hook(f->eng, NULL, NULL);
    assert_int_equal(set_status(f, f->cfg, "ana", REP_AWAY, until + HOUR_MS), 0);
    assert_int_equal(take_deadline(&f->dl, ENGINE_DEADLINE_HOLDS, NULL), 0);
}

static void test_rescore_due_reports_the_earliest_rescore(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    size_t n = 99;
    int64_t next_due = -1;
    assert_int_equal(engine_rescore_due(f->eng, f->cfg, 100, &n, &next_due, &err), BT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(next_due, 0);

    struct lead a = ingest(f, f->cfg, "a@acme.example", "web");
    struct lead b = ingest(f, f->cfg, "b@acme.example", "web");
    struct lead c = ingest(f, f->cfg, "c@acme.example", "web"); /* never decays */
    record_demo(f, f->cfg, a.id);
    clock_manual_set(&f->clock, START_MS + 10 * 60000);
    record_demo(f, f->cfg, b.id);
    int64_t ra = get_lead(f, a.id).score.rescore_at;
    int64_t rb = get_lead(f, b.id).score.rescore_at;
    assert_int_equal(get_lead(f, c.id).score.rescore_at, 0);
    assert_true(ra > clock_now(&f->clock));
    assert_true(rb > clock_now(&f->clock));
    int64_t earliest = ra < rb ? ra : rb;

    /* nothing due yet: next_due is the earliest rescore_at */
    assert_int_equal(engine_rescore_due(f->eng, f->cfg, 100, &n, &next_due, &err), BT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(next_due, earliest);
    int64_t at;
    assert_int_equal(store_lead_next_rescore(f->reader, &at, &err), BT_OK);
    assert_int_equal(at, earliest);

    /* at that instant the lead is rescored; next_due is the new earliest */
    clock_manual_set(&f->clock, earliest);
    assert_int_equal(engine_rescore_due(f->eng, f->cfg, 100, &n, &next_due, &err), BT_OK);
    assert_int_equal(n, 1);
    ra = get_lead(f, a.id).score.rescore_at;
    rb = get_lead(f, b.id).score.rescore_at;
    assert_true(ra > earliest && rb > earliest);
    assert_int_equal(next_due, ra < rb ? ra : rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qualified_lead_is_assigned_in_the_same_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_everyone_away_holds_then_a_rep_back_drains, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_rep_back_tries_the_leads_it_can_help, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_timer_walk_tries_the_reps_that_changed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_fall_through_pool_wakes_the_lead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_window_with_hundreds_of_reps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_walks_the_queue_with_the_cursor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_corrupt_pool_state_does_not_stop_routing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exclusions_and_reroute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescore_due_reports_the_earliest_rescore, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("engine_route", tests, NULL, NULL);
}
