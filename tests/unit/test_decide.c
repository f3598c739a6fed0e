/*
 * test_decide.c - core/decide: the whole pipeline of one lead through
 * configurations loaded from YAML text, as the daemon and the dry runs run
 * it: account match, score, qualification, routing (never, when mql,
 * always) and the record in its final form; the state callbacks (each rep
 * and pool asked for once, exclusions, away reps), a pool state the
 * strategy refuses (started afresh, or an error with strict_state), a state
 * the caller could not read, the counts after an assignment and the fields
 * a hold keeps.
 *
 * A `struct harness` holds the configuration, one arena for every run of a
 * test (the lead's strings from one run are read by the next), the lead,
 * its activities and a `struct fake` serving reps' runtimes, pools' states
 * and exclusions through the callbacks of struct decide_state, counting the
 * calls. Times are in 2026: 2026-11-24 is a Tuesday.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "config/config.h"
#include "core/account_match.h"
#include "core/decide.h"
#include "core/routing.h"
#include "core/routing_json.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define NOW_TEXT "2026-11-24T09:00:00.000Z"

#define MAX_REPS  8
#define MAX_POOLS 4

/* ---- configurations ------------------------------------------------------------------------ */

/* Fit: 50 for an enterprise, 20 for a VP; 30 per demo request; mql from 60.
 * ana (Berlin) and ben (New York) share the round_robin pool main; cem (UTC)
 * is the vip rep and alone in spare. */
static const char base_yaml[] = "version: 1\n"
                                "scoring:\n"
                                "  fit:\n"
                                "    - name: Enterprise\n"
                                "      when: employees >= 1000\n"
                                "      points: 50\n"
                                "    - name: Senior\n"
                                "      when: title contains \"vp\"\n"
                                "      points: 20\n"
                                "  engagement:\n"
                                "    - name: Demo\n"
                                "      activity: demo_request\n"
                                "      points: 30\n"
                                "qualification:\n"
                                "  mql_when: score >= 60\n"
                                "  disqualify_when: email.domain == \"rival.example\"\n"
                                "reps:\n"
                                "  - id: ana\n"
                                "    timezone: Europe/Berlin\n"
                                "  - id: ben\n"
                                "    timezone: America/New_York\n"
                                "  - id: cem\n"
                                "pools:\n"
                                "  - id: main\n"
                                "    strategy: round_robin\n"
                                "    members: [ana, ben]\n"
                                "  - id: spare\n"
                                "    strategy: weighted\n"
                                "    members: [cem]\n"
                                "routing:\n"
                                "  rules:\n"
                                "    - name: spam\n"
                                "      when: email.domain == \"spam.example\"\n"
                                "      to: hold\n"
                                "    - name: vip\n"
                                "      when: email.domain == \"vip.example\"\n"
                                "      to: rep:cem\n"
                                "    - name: direct\n"
                                "      when: email.domain == \"direct.example\"\n"
                                "      to: rep:ana\n"
                                "      fallback: next_rule\n"
                                "    - name: qualified\n"
                                "      when: stage == \"mql\"\n"
                                "      to: pool:main\n"
                                "    - name: default\n"
                                "      to: pool:spare\n";

/* Every lead is an mql (no scoring: score 0); one fair_share pool. */
static const char fair_yaml[] = "version: 1\n"
                                "qualification:\n"
                                "  mql_when: score >= 0\n"
                                "reps:\n"
                                "  - id: ana\n"
                                "  - id: ben\n"
                                "pools:\n"
                                "  - id: other\n"
                                "    strategy: round_robin\n"
                                "    members: [ben]\n"
                                "  - id: fair\n"
                                "    strategy: fair_share\n"
                                "    members: [ana, ben]\n"
                                "routing:\n"
                                "  rules:\n"
                                "    - name: all\n"
                                "      to: pool:fair\n";

/* A lead of a known account scores 40 and qualifies; the account's owner
 * gets it, and waits for it when away. */
static const char account_yaml[] = "version: 1\n"
                                   "scoring:\n"
                                   "  fit:\n"
                                   "    - name: Known account\n"
                                   "      when: account exists\n"
                                   "      points: 40\n"
                                   "qualification:\n"
                                   "  mql_when: score >= 40\n"
                                   "reps:\n"
                                   "  - id: ana\n"
                                   "  - id: ben\n"
                                   "pools:\n"
                                   "  - id: main\n"
                                   "    strategy: round_robin\n"
                                   "    members: [ana, ben]\n"
                                   "routing:\n"
                                   "  rules:\n"
                                   "    - name: named\n"
                                   "      when: account exists\n"
                                   "      to: account_owner\n"
                                   "      fallback: hold\n"
                                   "    - name: default\n"
                                   "      to: pool:main\n";

/* Qualification reads a value that changes with time alone. */
static const char time_rules_yaml[] = "version: 1\n"
                                      "qualification:\n"
                                      "  fast_track_when: activity.demo_request.last_days < 7\n";

/* Scoring and qualification without a routing section. */
static const char routing_off_yaml[] = "version: 1\n"
                                       "qualification:\n"
                                       "  mql_when: score >= 0\n";

static struct config *load(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err) != BT_OK)
        fail_msg("config: %s", err.message);
    assert_non_null(cfg);
    return cfg;
}

/* ---- the state the callbacks serve --------------------------------------------------------- */

struct fake {
    struct rep_runtime rt[MAX_REPS];
    bool has_rt[MAX_REPS];
    const struct pool_state *state[MAX_POOLS];
    const char *unreadable[MAX_POOLS]; /* reported through *discarded */
    const char *const *excluded;
    size_t n_excluded;
    bt_err fail_rep, fail_pool; /* the callbacks fail with these */
    int rep_calls[MAX_REPS], pool_calls[MAX_POOLS], excluded_calls;
};

static bt_err rep_cb(void *ctx, size_t rep, const struct rep_runtime **out, struct bt_error *err)
{
    struct fake *f = ctx;
    assert_true(rep < MAX_REPS);
    f->rep_calls[rep]++;
    if (f->fail_rep)
        return bt_fail(err, f->fail_rep, NULL, "injected rep failure");
    *out = f->has_rt[rep] ? &f->rt[rep] : NULL;
    return BT_OK;
}

static bt_err pool_cb(void *ctx, size_t pool, const struct pool_state **out, json_t **discarded,
                      struct bt_error *err)
{
    struct fake *f = ctx;
    assert_true(pool < MAX_POOLS);
    f->pool_calls[pool]++;
    if (f->unreadable[pool]) {
        *out = NULL;
        *discarded = json_string(f->unreadable[pool]);
    } else {
        *out = f->state[pool];
    }
    if (f->fail_pool)
        return bt_fail(err, f->fail_pool, NULL, "injected pool failure");
    return BT_OK;
}

static bt_err excluded_cb(void *ctx, const char *const **ids, size_t *n, struct bt_error *err)
{
    struct fake *f = ctx;
    f->excluded_calls++;
    *ids = f->excluded;
    *n = f->n_excluded;
    return BT_OK;
}

static void set_status(struct fake *f, size_t rep, enum rep_status status)
{
    f->rt[rep] = (struct rep_runtime)REP_RUNTIME_INIT;
    f->rt[rep].status = status;
    f->has_rt[rep] = true;
}

static void reset_calls(struct fake *f)
{
    memset(f->rep_calls, 0, sizeof(f->rep_calls));
    memset(f->pool_calls, 0, sizeof(f->pool_calls));
    f->excluded_calls = 0;
}

/* ---- the harness --------------------------------------------------------------------------- */

struct harness {
    struct config *cfg;
    struct arena arena; /* every run of the test: the lead's strings live here */
    struct lead lead;
    struct activity acts[4];
    size_t n_acts;
    const struct account_index *accounts;
    enum decide_route route;
    bool strict;
    bool no_callbacks;
    bool compact; /* the record as the engine stores it */
    int64_t now;
    struct decide_scratch *scratch; /* NULL: decide_lead makes its own */
    struct fake fake;
    struct decide_result r;
    struct bt_error err;
};

static struct harness *harness_new(const char *yaml)
{
    struct harness *h = xcalloc(1, sizeof(*h));
    h->cfg = load(yaml);
    h->now = T(NOW_TEXT);
    h->route = DECIDE_ROUTE_IF_MQL;
    return h;
}

static void harness_free(struct harness *h)
{
    decide_result_release(&h->r);
    decide_scratch_free(h->scratch);
    arena_release(&h->arena);
    config_unref(h->cfg);
    free(h);
}

/* A normalised lead at stage new: local@domain, a title and a head count
 * (-1: unknown). */
static void set_lead(struct harness *h, const char *local, const char *domain, const char *title,
                     int64_t employees)
{
    struct lead *l = &h->lead;
    memset(l, 0, sizeof(*l));
    l->attr[LEAD_EMAIL] = arena_printf(&h->arena, "%s@%s", local, domain);
    l->attr[LEAD_EMAIL_DOMAIN] = domain;
    l->attr[LEAD_TITLE] = title;
    l->employees = employees;
    l->fields_json = "{}";
    l->created_at = l->updated_at = h->now - DAY_MS;
    h->n_acts = 0;
}

/* An enterprise VP: fit 70, an mql. */
static void big_lead(struct harness *h, const char *domain)
{
    set_lead(h, "jane", domain, "VP Sales", 5000);
}

/* A small company's engineer: fit 0, stays new. */
static void small_lead(struct harness *h, const char *domain)
{
    set_lead(h, "joe", domain, "Engineer", 20);
}

static void add_activity(struct harness *h, const char *type, int64_t at)
{
    assert_true(h->n_acts < sizeof(h->acts) / sizeof(h->acts[0]));
    h->acts[h->n_acts] = (struct activity){.id = (int64_t)h->n_acts + 1,
                                           .lead_id = h->lead.id,
                                           .type = type,
                                           .occurred_at = at,
                                           .properties_json = "{}"};
    h->n_acts++;
}

/* Runs decide_lead() on the harness's lead (releasing the previous result). */
static bt_err try_run(struct harness *h)
{
    decide_result_release(&h->r);
    h->err = (struct bt_error)BT_ERROR_INIT;
    struct decide_input in = {
        .model = &h->cfg->decide,
        .lead = &h->lead,
        .acts = h->acts,
        .n_acts = h->n_acts,
        .accounts = h->accounts,
        .route = h->route,
        .now = h->now,
        .scratch = h->scratch,
        .strict_state = h->strict,
        .compact_record = h->compact,
    };
    if (!h->no_callbacks)
        in.state = (struct decide_state){
            .rep_runtime = rep_cb, .pool_state = pool_cb, .excluded = excluded_cb, .ctx = &h->fake};
    return decide_lead(&in, &h->arena, &h->r, &h->err);
}

static struct decide_result *run(struct harness *h)
{
    bt_err e = try_run(h);
    if (e != BT_OK)
        fail_msg("decide_lead: %s: %s", bt_strerror(e), h->err.message);
    return &h->r;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

#define assert_json_string(o, key, expected)                                                       \
    assert_json_string_at((o), (key), (expected), __FILE__, __LINE__)

/* expected NULL: the key holds null. */
static void assert_json_string_at(const json_t *o, const char *key, const char *expected,
                                  const char *file, int line)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        print_error("no key \"%s\"\n", key);
        _fail(file, line);
    }
    if (!expected) {
        if (json_is_null(v))
            return;
        print_error("\"%s\" is not null\n", key);
        _fail(file, line);
    }
    if (!json_is_string(v) || strcmp(json_string_value(v), expected) != 0) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        print_error("\"%s\": got %s, expected \"%s\"\n", key, s ? s : "?", expected);
        free(s);
        _fail(file, line);
    }
}

static bool has_key(const json_t *o, const char *key)
{
    return json_object_get(o, key) != NULL;
}

/* The candidate entry of rep `id` in a record. */
static const json_t *candidate_of(const json_t *record, const char *id)
{
    const json_t *cands = json_object_get(record, "candidates");
    assert_true(json_is_array(cands));
    size_t i;
    const json_t *c;
    json_array_foreach(cands, i, c)
    {
        const json_t *rep = json_object_get(c, "rep");
        if (json_is_string(rep) && !strcmp(json_string_value(rep), id))
            return c;
    }
    fail_msg("no candidate %s", id);
    return NULL;
}

/* ---- 2. and 3. score and qualification without routing --------------------------------------- */

static void test_route_never_scores_and_qualifies(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    h->route = DECIDE_ROUTE_NEVER;
    big_lead(h, "big.example");
    struct decide_result *r = run(h);

    assert_non_null(r->score);
    assert_true(r->score->fit == 70);
    assert_true(r->score->engagement == 0);
    assert_true(r->score->total == 70);
    assert_string_equal(r->score->grade, "A4");
    assert_int_equal(r->score->n_reasons, 2);
    assert_true(h->lead.score.scored);
    assert_true(h->lead.score.total == 70);
    assert_string_equal(h->lead.score.grade, "A4");
    assert_true(h->lead.score.scored_at == h->now);
    assert_true(h->lead.score.rescore_at == 0); /* no decay, no rule on time */
    assert_non_null(strstr(h->lead.score.reasons_json, "\"Enterprise\""));
    assert_non_null(strstr(h->lead.score.reasons_json, "\"Senior\""));
    assert_true(r->score_changed);

    assert_int_equal(r->from, STAGE_NEW);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_true(r->qualification.change);
    assert_int_equal(r->qualification.to, STAGE_MQL);
    assert_string_equal(r->qualification.reason, "mql_when matched");
    assert_string_equal(h->lead.attr[LEAD_STAGE], "mql");

    assert_false(r->routed);
    assert_false(r->forced);
    assert_null(r->record);
    for (size_t i = 0; i < MAX_REPS; i++)
        assert_int_equal(h->fake.rep_calls[i], 0);
    for (size_t i = 0; i < MAX_POOLS; i++)
        assert_int_equal(h->fake.pool_calls[i], 0);
    assert_int_equal(h->fake.excluded_calls, 0);

    /* Again on the same lead, the same activities and the same now: nothing
     * changed, and the mql stays an mql. */
    r = run(h);
    assert_false(r->score_changed);
    assert_true(r->score->total == 70);
    assert_int_equal(r->from, STAGE_MQL);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_false(r->qualification.change);
    assert_string_equal(h->lead.attr[LEAD_STAGE], "mql");

    /* A demo request later: the score changes. */
    add_activity(h, "demo_request", h->now - HOUR_MS);
    r = run(h);
    assert_true(r->score_changed);
    assert_true(r->score->engagement == 30);
    assert_true(r->score->total == 100);
    assert_string_equal(h->lead.score.grade, "A2");

    /* A lead that does not qualify stays new; one of a rival is disqualified. */
    small_lead(h, "small.example");
    r = run(h);
    assert_true(r->score->total == 0);
    assert_string_equal(r->score->grade, "D4");
    assert_int_equal(r->from, STAGE_NEW);
    assert_int_equal(r->stage, STAGE_NEW);
    assert_false(r->qualification.change);
    assert_string_equal(h->lead.attr[LEAD_STAGE], "new");
    big_lead(h, "rival.example");
    r = run(h);
    assert_int_equal(r->stage, STAGE_DISQUALIFIED);
    assert_string_equal(r->qualification.reason, "disqualify_when matched");
    assert_string_equal(h->lead.attr[LEAD_STAGE], "disqualified");
    harness_free(h);
}

static void test_rules_on_time_are_rechecked_hourly(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(time_rules_yaml);
    h->route = DECIDE_ROUTE_NEVER;
    small_lead(h, "small.example");
    add_activity(h, "demo_request", h->now - 2 * DAY_MS);
    struct decide_result *r = run(h);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_string_equal(r->qualification.reason, "fast_track_when matched");
    assert_true(h->lead.score.rescore_at == h->now + HOUR_MS);

    /* Without activities nothing changes with time. */
    small_lead(h, "small.example");
    r = run(h);
    assert_int_equal(r->stage, STAGE_NEW);
    assert_true(h->lead.score.rescore_at == 0);
    harness_free(h);
}

/* ---- 4. routing when mql --------------------------------------------------------------------- */

static void test_route_if_mql(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    h->scratch = decide_scratch_new(&h->cfg->decide);
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_true(r->routed);
    assert_false(r->forced);
    assert_int_equal(r->route.result, ROUTE_ASSIGNED);
    assert_string_equal(r->route.rep_id, "ana"); /* round_robin, fresh: the first member */
    assert_int_equal(r->route.rep, 0);
    /* `when: stage == "mql"` holds for a lead that was new before qualification */
    assert_int_equal(r->from, STAGE_NEW);
    assert_int_equal(r->route.rule, 3);
    assert_string_equal(h->cfg->routing.rules[r->route.rule].name, "qualified");
    assert_non_null(r->record);
    assert_json_string(r->record, "rule", "qualified");
    assert_json_string(r->record, "pool", "main");
    assert_null(r->hold_reason);
    assert_null(r->hold_pool);
    assert_null(r->hold_rep);
    assert_null(r->hold_rule);

    /* A lead that does not qualify is not routed and nothing is asked. */
    reset_calls(&h->fake);
    small_lead(h, "small.example");
    r = run(h);
    assert_int_equal(r->stage, STAGE_NEW);
    assert_false(r->routed);
    assert_null(r->record);
    assert_int_equal(h->fake.rep_calls[0] + h->fake.rep_calls[1] + h->fake.rep_calls[2], 0);
    assert_int_equal(h->fake.pool_calls[0] + h->fake.pool_calls[1], 0);
    assert_int_equal(h->fake.excluded_calls, 0);

    /* Nor is a disqualified one. */
    big_lead(h, "rival.example");
    r = run(h);
    assert_int_equal(r->stage, STAGE_DISQUALIFIED);
    assert_false(r->routed);
    assert_null(r->record);
    harness_free(h);
}

static void test_routing_off(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(routing_off_yaml);
    small_lead(h, "small.example");
    struct decide_result *r = run(h);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_false(r->routed);
    assert_null(r->record);
    h->route = DECIDE_ROUTE_ALWAYS;
    r = run(h);
    assert_false(r->routed);
    assert_null(r->record);
    harness_free(h);
}

/* ---- 5. the record ------------------------------------------------------------------------- */

static void test_record_final_form(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    big_lead(h, "big.example");
    h->lead.id = 42;
    struct decide_result *r = run(h);
    const json_t *rec = r->record;
    assert_non_null(rec);
    assert_json_string(rec, "result", "assigned");
    assert_json_string(rec, "rep", "ana");
    assert_json_string(rec, "pool", "main");
    assert_json_string(rec, "rule", "qualified");
    assert_json_string(rec, "hold_reason", NULL);
    assert_json_string(rec, "summary", "rule qualified -> pool main: round_robin chose ana");
    assert_string_equal(r->route.summary, "rule qualified -> pool main: round_robin chose ana");
    assert_true(json_is_array(json_object_get(rec, "rules")));
    assert_int_equal(json_array_size(json_object_get(rec, "rules")), 4); /* spam .. qualified */
    assert_true(json_is_array(json_object_get(rec, "candidates")));
    assert_int_equal(json_array_size(json_object_get(rec, "candidates")), 2);
    assert_true(json_is_object(json_object_get(rec, "strategy")));
    assert_json_string(rec, "config_version", h->cfg->version);
    assert_int_equal(strlen(h->cfg->version), 16);
    assert_json_string(rec, "at", NOW_TEXT);
    assert_true(json_is_integer(json_object_get(rec, "lead")));
    assert_int_equal(json_integer_value(json_object_get(rec, "lead")), 42);
    /* no account, nothing reset, not forced */
    assert_false(has_key(rec, "account"));
    assert_false(has_key(rec, "pool_state_reset"));
    assert_false(has_key(rec, "discarded_pool_states"));
    assert_false(has_key(rec, "forced"));
    assert_false(has_key(rec, "stage"));
    assert_false(r->pool_state_reset);
    assert_string_equal(r->refused_why, "");

    /* The record as it is stored: text that reads back the same. */
    char *text = json_dumps(rec, DECIDE_RECORD_JSON_FLAGS);
    assert_non_null(text);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, rec));
    json_decref(back);
    free(text);

    /* A lead not yet stored has no "lead"; "at" follows now to the ms. */
    big_lead(h, "big.example");
    h->now = T("2026-11-24T09:00:01.234Z");
    r = run(h);
    assert_false(has_key(r->record, "lead"));
    assert_json_string(r->record, "at", "2026-11-24T09:00:01.234Z");
    harness_free(h);
}

/* Issue 10, item 2: the record as stored leaves out what the configuration
 * says, and route_record_expand() with that configuration gives back the
 * full record exactly, for every kind of decision here (assigned by a
 * pool, held by a hold rule, a rep target, a rep target falling through,
 * the default rule); with another configuration it refuses and changes
 * nothing. */
static void test_compact_record_expands_to_the_full_one(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    static const char *const domains[] = {"big.example", "spam.example", "vip.example",
                                          "direct.example", "other.example"};
    size_t full_bytes = 0, compact_bytes = 0;
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        big_lead(h, domains[i]);
        h->compact = false;
        json_t *full = json_incref(run(h)->record);
        big_lead(h, domains[i]);
        h->compact = true;
        json_t *rec = json_incref(run(h)->record);
        assert_true(json_is_true(json_object_get(rec, "compact")));
        char *a = json_dumps(full, DECIDE_RECORD_JSON_FLAGS), *b = json_dumps(rec, 0);
        full_bytes += strlen(a);
        compact_bytes += strlen(b);
        free(a);
        free(b);
        struct bt_error err = BT_ERROR_INIT;
        json_t *context = route_record_context(&h->cfg->routing);
        /* as the store keeps it: text */
        char *kept = json_dumps(context, JSON_COMPACT);
        json_decref(context);
        context = json_loads(kept, 0, NULL);
        free(kept);
        assert_int_equal(route_record_expand(context, rec, &err), BT_OK);
        /* the same text, key order included, as the API serves it */
        char *x = json_dumps(rec, DECIDE_RECORD_JSON_FLAGS);
        char *y = json_dumps(full, DECIDE_RECORD_JSON_FLAGS);
        if (strcmp(x, y))
            fail_msg("%s: expanded %s\nfull %s", domains[i], x, y);
        free(x);
        /* a full record (never compact) is left as it is */
        assert_int_equal(route_record_expand(context, full, &err), BT_OK);
        x = json_dumps(full, DECIDE_RECORD_JSON_FLAGS);
        assert_string_equal(x, y);
        free(x);
        free(y);
        json_decref(context);
        json_decref(rec);
        json_decref(full);
    }
    printf("# records: %zu bytes full, %zu compact\n", full_bytes, compact_bytes);
    assert_true(compact_bytes < full_bytes);

    /* another configuration (the rules renamed): refused, unchanged */
    big_lead(h, "big.example");
    h->compact = true;
    json_t *rec = json_deep_copy(run(h)->record);
    json_t *copy = json_deep_copy(rec);
    struct config *other = load("version: 1\nreps: [{id: ana}, {id: ben}]\n"
                                "pools: [{id: main, strategy: round_robin, members: [ana, ben]}]\n"
                                "routing: {rules: [{name: x, when: 'score > 1', to: 'pool:main'}, "
                                "{name: y, when: 'score > 2', to: 'pool:main'}, "
                                "{name: z, when: 'score > 3', to: 'pool:main'}, "
                                "{name: w, to: 'pool:main'}]}\n");
    struct bt_error err = BT_ERROR_INIT;
    json_t *context = route_record_context(&other->routing);
    assert_int_equal(route_record_expand(context, rec, &err), BT_EINVAL);
    assert_true(json_equal(rec, copy));
    json_decref(context);
    /* nor a context that is not one */
    context = json_pack("{s:[], s:{}}", "rules", "reps");
    assert_int_equal(route_record_expand(context, rec, &err), BT_EINVAL);
    json_decref(context);
    context = json_string("x");
    assert_int_equal(route_record_expand(context, rec, &err), BT_EINVAL);
    json_decref(context);
    assert_true(json_equal(rec, copy));
    json_decref(rec);
    json_decref(copy);
    config_unref(other);
    harness_free(h);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

static void test_callbacks_once_per_rep_and_pool(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    /* ana is asked for by rule direct, then as a member of main; ben as a
     * member and again for the counts after the assignment. */
    big_lead(h, "direct.example");
    set_status(&h->fake, 0, REP_AWAY);
    struct decide_result *r = run(h);
    assert_true(r->routed);
    assert_string_equal(r->route.rep_id, "ben");
    assert_json_string(r->record, "rule", "qualified");
    assert_int_equal(h->fake.rep_calls[0], 1);
    assert_int_equal(h->fake.rep_calls[1], 1);
    assert_int_equal(h->fake.rep_calls[2], 0); /* cem: not needed */
    assert_int_equal(h->fake.pool_calls[0], 1);
    assert_int_equal(h->fake.pool_calls[1], 0);
    assert_int_equal(h->fake.excluded_calls, 1);
    const json_t *rules = json_object_get(r->record, "rules");
    assert_json_string(json_array_get(rules, 2), "step", "unavailable");
    assert_json_string(json_array_get(rules, 2), "eligibility", "away");

    /* The vip goes to cem: neither the pools nor the other reps are asked. */
    reset_calls(&h->fake);
    big_lead(h, "vip.example");
    r = run(h);
    assert_string_equal(r->route.rep_id, "cem");
    assert_int_equal(h->fake.rep_calls[0], 0);
    assert_int_equal(h->fake.rep_calls[1], 0);
    assert_int_equal(h->fake.rep_calls[2], 1);
    assert_int_equal(h->fake.pool_calls[0] + h->fake.pool_calls[1], 0);

    /* Without callbacks every rep and pool is fresh. */
    h->no_callbacks = true;
    big_lead(h, "big.example");
    r = run(h);
    assert_string_equal(r->route.rep_id, "ana");
    harness_free(h);
}

static void test_callback_errors(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    big_lead(h, "big.example");
    h->fake.fail_rep = BT_ESTORE;
    assert_int_equal(try_run(h), BT_ESTORE);
    assert_string_equal(h->err.message, "injected rep failure");
    assert_false(h->r.routed);
    assert_null(h->r.record);
    h->fake.fail_rep = BT_OK;

    /* A failing pool callback that had set *discarded leaks nothing. */
    big_lead(h, "big.example");
    h->fake.fail_pool = BT_EIO;
    h->fake.unreadable[0] = "{broken";
    assert_int_equal(try_run(h), BT_EIO);
    assert_string_equal(h->err.message, "injected pool failure");
    assert_null(h->r.record);
    harness_free(h);
}

static void test_excluded_rep(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    static const char *const no_ana[] = {"ana"};
    h->fake.excluded = no_ana;
    h->fake.n_excluded = 1;
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_int_equal(h->fake.excluded_calls, 1);
    assert_string_equal(r->route.rep_id, "ben");
    assert_int_equal(r->route.candidates[0].eligibility, INELIGIBLE_EXCLUDED);
    const json_t *ana = candidate_of(r->record, "ana");
    assert_json_string(ana, "reason", "excluded");
    assert_false(json_is_true(json_object_get(ana, "eligible")));
    assert_json_string(candidate_of(r->record, "ben"), "reason", "eligible");

    /* Both excluded: held in main. */
    static const char *const nobody[] = {"ana", "ben"};
    h->fake.excluded = nobody;
    h->fake.n_excluded = 2;
    big_lead(h, "big.example");
    r = run(h);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "no_eligible_member");
    harness_free(h);
}

static void test_away_rep_makes_the_pool_pick_another(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    set_status(&h->fake, 0, REP_AWAY);
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_int_equal(r->route.result, ROUTE_ASSIGNED);
    assert_string_equal(r->route.rep_id, "ben");
    assert_json_string(candidate_of(r->record, "ana"), "reason", "away");
    assert_json_string(r->record, "rep", "ben");

    /* Away until a time that has passed: available again. */
    h->fake.rt[0].status_until = h->now - 1;
    big_lead(h, "big.example");
    r = run(h);
    assert_string_equal(r->route.rep_id, "ana");

    /* Offline: ben again. */
    set_status(&h->fake, 0, REP_OFFLINE);
    big_lead(h, "big.example");
    r = run(h);
    assert_string_equal(r->route.rep_id, "ben");
    assert_json_string(candidate_of(r->record, "ana"), "reason", "offline");
    harness_free(h);
}

/* ---- pool states refused or unreadable ----------------------------------------------------- */

/* A fair_share state that lists ana twice, as pool_state_from_json reads it. */
static const struct pool_state *repeated_rep_state(struct arena *a)
{
    static const char text[] =
        "{\"strategy\": \"fair_share\", \"last_rep\": null, \"window_start\": 0,"
        " \"updated_at\": 0, \"decisions\": 2, \"members\": ["
        "{\"rep\": \"ana\", \"pointer\": 0, \"credit\": 0, \"assigned\": 1},"
        "{\"rep\": \"ana\", \"pointer\": 0, \"credit\": 0, \"assigned\": 1}]}";
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    struct pool_state *st = arena_alloc(a, sizeof(*st));
    struct bt_error err = BT_ERROR_INIT;
    if (pool_state_from_json(j, a, st, &err) != BT_OK)
        fail_msg("pool state: %s", err.message);
    json_decref(j);
    assert_int_equal(st->strategy, STRATEGY_FAIR_SHARE);
    assert_int_equal(st->n_entries, 2);
    return st;
}

static void test_refused_pool_state_is_started_afresh(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(fair_yaml);
    long fair = routing_find_pool(&h->cfg->routing, "fair");
    assert_int_equal(fair, 1);
    h->fake.state[fair] = repeated_rep_state(&h->arena);
    small_lead(h, "any.example");
    h->lead.id = 7;
    struct decide_result *r = run(h);
    assert_true(r->routed);
    assert_int_equal(r->route.result, ROUTE_ASSIGNED);
    assert_string_equal(r->route.rep_id, "ana"); /* fresh: equal deficits, config order */
    assert_true(r->pool_state_reset);
    assert_true(r->refused_why[0] != '\0');
    assert_non_null(strstr(r->refused_why, "ana"));
    assert_string_equal(h->err.message, ""); /* the refusal is not the caller's error */

    /* the state was asked for once; each rep once */
    assert_int_equal(h->fake.pool_calls[fair], 1);
    assert_int_equal(h->fake.pool_calls[0], 0);
    assert_int_equal(h->fake.rep_calls[0], 1);
    assert_int_equal(h->fake.rep_calls[1], 1);

    const json_t *rec = r->record;
    assert_true(json_is_true(json_object_get(rec, "pool_state_reset")));
    const json_t *discarded = json_object_get(rec, "discarded_pool_states");
    assert_true(json_is_object(discarded));
    assert_int_equal(json_object_size(discarded), 1);
    const json_t *was = json_object_get(discarded, "fair");
    assert_true(json_is_object(was));
    json_t *expected = pool_state_to_json(h->fake.state[fair]);
    assert_true(json_equal(was, expected));
    json_decref(expected);
    /* the strategy decided from a fresh state */
    const json_t *before = json_object_get(json_object_get(rec, "strategy"), "before");
    assert_json_string(before, "strategy", "unset");
    assert_int_equal(json_integer_value(json_object_get(rec, "lead")), 7);

    /* strict: the caller's state is an error */
    h->strict = true;
    reset_calls(&h->fake);
    small_lead(h, "any.example");
    assert_int_equal(try_run(h), BT_EINVAL);
    assert_true(h->err.message[0] != '\0');
    assert_non_null(strstr(h->err.message, "ana"));
    assert_false(h->r.routed);
    assert_null(h->r.record);
    assert_int_equal(h->fake.pool_calls[fair], 1);
    harness_free(h);
}

static void test_unreadable_pool_state_is_kept_in_the_record(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    h->fake.unreadable[0] = "{\"strategy\": \"round_rob";
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_int_equal(r->route.result, ROUTE_ASSIGNED);
    assert_string_equal(r->route.rep_id, "ana");
    assert_true(r->pool_state_reset);
    assert_string_equal(r->refused_why, "");
    const json_t *rec = r->record;
    assert_true(json_is_true(json_object_get(rec, "pool_state_reset")));
    const json_t *discarded = json_object_get(rec, "discarded_pool_states");
    assert_true(json_is_object(discarded));
    assert_int_equal(json_object_size(discarded), 1);
    assert_json_string(discarded, "main", "{\"strategy\": \"round_rob");
    assert_int_equal(h->fake.pool_calls[0], 1);
    harness_free(h);
}

/* ---- routing whatever qualification says --------------------------------------------------- */

static void test_route_always_forces(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    h->route = DECIDE_ROUTE_ALWAYS;
    small_lead(h, "small.example");
    struct decide_result *r = run(h);
    assert_int_equal(r->from, STAGE_NEW);
    assert_int_equal(r->stage, STAGE_NEW);
    assert_string_equal(h->lead.attr[LEAD_STAGE], "new");
    assert_true(r->routed);
    assert_true(r->forced);
    assert_int_equal(r->route.result, ROUTE_ASSIGNED);
    assert_string_equal(r->route.rep_id, "ana");
    /* the rules read the lead as mql */
    assert_json_string(r->record, "rule", "qualified");
    assert_true(json_is_true(json_object_get(r->record, "forced")));
    assert_json_string(r->record, "stage", "new");

    /* a disqualified lead says so */
    big_lead(h, "rival.example");
    r = run(h);
    assert_true(r->forced);
    assert_json_string(r->record, "stage", "disqualified");

    /* an mql is not forced */
    big_lead(h, "big.example");
    r = run(h);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_false(r->forced);
    assert_false(has_key(r->record, "forced"));
    assert_false(has_key(r->record, "stage"));
    harness_free(h);
}

/* ---- after an assignment ------------------------------------------------------------------- */

static void test_counts_after_assignment(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    const struct routing_rep *ana = &h->cfg->routing.reps[0];
    assert_string_equal(ana->id, "ana");
    int64_t day, week;
    routing_rep_periods(ana, h->now, &day, &week);
    /* Tuesday 10:00 in Berlin: the day from Tuesday 00:00, the week from
     * Monday 00:00, both CET (UTC+1) */
    assert_true(day == T("2026-11-23T23:00:00.000Z"));
    assert_true(week == T("2026-11-22T23:00:00.000Z"));

    /* counts of the current day and week go on */
    struct rep_runtime *rt = &h->fake.rt[0];
    set_status(&h->fake, 0, REP_AVAILABLE);
    rt->day_start = day, rt->day_count = 3, rt->week_start = week, rt->week_count = 7;
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_string_equal(r->route.rep_id, "ana");
    assert_true(r->day_start == day);
    assert_true(r->week_start == week);
    assert_int_equal(r->day_count, 4);
    assert_int_equal(r->week_count, 8);

    /* yesterday's count starts again, the week's goes on */
    rt->day_start = day - DAY_MS;
    big_lead(h, "big.example");
    r = run(h);
    assert_int_equal(r->day_count, 1);
    assert_int_equal(r->week_count, 8);

    /* last week's too */
    rt->week_start = week - 7 * DAY_MS;
    big_lead(h, "big.example");
    r = run(h);
    assert_true(r->day_start == day);
    assert_true(r->week_start == week);
    assert_int_equal(r->day_count, 1);
    assert_int_equal(r->week_count, 1);

    /* a fresh rep */
    h->fake.has_rt[0] = false;
    big_lead(h, "big.example");
    r = run(h);
    assert_int_equal(r->day_count, 1);
    assert_int_equal(r->week_count, 1);

    /* ben's periods are in New York: 04:00 on Tuesday there (EST, UTC-5) */
    set_status(&h->fake, 0, REP_AWAY);
    set_status(&h->fake, 1, REP_AVAILABLE);
    routing_rep_periods(&h->cfg->routing.reps[1], h->now, &day, &week);
    assert_true(day == T("2026-11-24T05:00:00.000Z"));
    assert_true(week == T("2026-11-23T05:00:00.000Z"));
    h->fake.rt[1].day_start = day, h->fake.rt[1].day_count = 9;
    h->fake.rt[1].week_start = week, h->fake.rt[1].week_count = 10;
    big_lead(h, "big.example");
    r = run(h);
    assert_string_equal(r->route.rep_id, "ben");
    assert_true(r->day_start == day);
    assert_int_equal(r->day_count, 10);
    assert_int_equal(r->week_count, 11);
    harness_free(h);
}

/* ---- holds --------------------------------------------------------------------------------- */

static void test_hold_fields(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);

    /* a pool with nobody eligible */
    set_status(&h->fake, 0, REP_AWAY);
    set_status(&h->fake, 1, REP_OFFLINE);
    big_lead(h, "big.example");
    struct decide_result *r = run(h);
    assert_true(r->routed);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "no_eligible_member");
    assert_string_equal(r->hold_rule, "qualified");
    assert_string_equal(r->hold_pool, "main");
    assert_null(r->hold_rep);
    assert_json_string(r->record, "result", "held");
    assert_json_string(r->record, "rep", NULL);
    assert_json_string(r->record, "hold_reason", "no_eligible_member");
    assert_true(r->day_count == 0 && r->week_count == 0);

    /* a rep target whose rep is offline */
    set_status(&h->fake, 2, REP_OFFLINE);
    big_lead(h, "vip.example");
    r = run(h);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "rep_unavailable");
    assert_string_equal(r->hold_rule, "vip");
    assert_null(r->hold_pool);
    assert_string_equal(r->hold_rep, "cem");
    assert_json_string(r->record, "pool", NULL);

    /* a hold rule */
    big_lead(h, "spam.example");
    r = run(h);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "rule");
    assert_string_equal(r->hold_rule, "spam");
    assert_null(r->hold_pool);
    assert_null(r->hold_rep);

    harness_free(h);

    /* a pool of one that is away: still a pool's hold, not a rep's */
    h = harness_new("version: 1\n"
                    "reps:\n"
                    "  - id: cem\n"
                    "pools:\n"
                    "  - id: solo\n"
                    "    strategy: weighted\n"
                    "    members: [cem]\n"
                    "routing:\n"
                    "  rules:\n"
                    "    - to: pool:solo\n");
    h->route = DECIDE_ROUTE_ALWAYS;
    set_status(&h->fake, 0, REP_AWAY);
    small_lead(h, "small.example");
    r = run(h);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "no_eligible_member");
    assert_string_equal(r->hold_rule, "rule-1");
    assert_string_equal(r->hold_pool, "solo");
    assert_null(r->hold_rep);
    harness_free(h);
}

/* ---- 1. accounts --------------------------------------------------------------------------- */

static struct account_index *acme_index(const char *owner)
{
    static const char *const domains[] = {"acme.example"};
    struct account acc = {.id = "acme",
                          .name = "Acme",
                          .domains = domains,
                          .n_domains = 1,
                          .country = "DE",
                          .owner = owner};
    struct account_index *index = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (account_index_new(&acc, 1, NULL, &index, &err) != BT_OK)
        fail_msg("account index: %s", err.message);
    return index;
}

static void test_account_matching(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(account_yaml);
    struct account_index *index = acme_index("ben");
    h->accounts = index;
    small_lead(h, "acme.example");
    h->lead.id = 5;
    struct decide_result *r = run(h);
    assert_true(r->account_changed);
    assert_true(r->account_match_changed);
    assert_null(r->previous_account);
    assert_string_equal(h->lead.account_id, "acme");
    assert_non_null(h->lead.account_match_json);
    assert_non_null(strstr(h->lead.account_match_json, "\"domain\""));
    assert_string_equal(r->account_owner, "ben");
    assert_non_null(r->account_match);
    assert_json_string(r->account_match, "kind", "domain");
    /* scoring saw the account; routing its owner */
    assert_true(r->score->total == 40);
    assert_int_equal(r->stage, STAGE_MQL);
    assert_true(r->routed);
    assert_string_equal(r->route.rep_id, "ben");
    assert_json_string(r->record, "rule", "named");
    const json_t *acc = json_object_get(r->record, "account");
    assert_true(json_is_object(acc));
    assert_json_string(acc, "id", "acme");
    assert_json_string(acc, "owner", "ben");
    const json_t *match = json_object_get(acc, "match");
    assert_true(json_is_object(match));
    assert_json_string(match, "kind", "domain");
    assert_json_string(match, "via", "email_domain");
    assert_json_string(match, "key", "acme.example");

    /* decide_account_json is the same object */
    json_t *again = decide_account_json(&h->lead, r);
    assert_true(json_equal(again, acc));
    json_decref(again);

    /* the same index again: nothing changed */
    r = run(h);
    assert_false(r->account_changed);
    assert_false(r->account_match_changed);
    assert_string_equal(r->previous_account, "acme");
    assert_string_equal(h->lead.account_id, "acme");
    assert_string_equal(r->account_owner, "ben");

    /* without an index the lead keeps its account and how it matched */
    h->accounts = NULL;
    r = run(h);
    assert_false(r->account_changed);
    assert_false(r->account_match_changed);
    assert_string_equal(h->lead.account_id, "acme");
    assert_true(r->score->total == 40);
    assert_non_null(r->account_match);
    assert_json_string(r->account_match, "kind", "domain");
    acc = json_object_get(r->record, "account");
    assert_true(json_is_object(acc));
    assert_json_string(acc, "id", "acme");
    assert_json_string(json_object_get(acc, "match"), "kind", "domain");

    /* an index where it matches nothing: the account is gone */
    struct account_index *empty = NULL;
    assert_int_equal(account_index_new(NULL, 0, NULL, &empty, NULL), BT_OK);
    h->accounts = empty;
    r = run(h);
    assert_true(r->account_changed);
    assert_true(r->account_match_changed);
    assert_string_equal(r->previous_account, "acme");
    assert_null(h->lead.account_id);
    assert_null(h->lead.account_match_json);
    assert_null(r->account_owner);
    assert_true(r->score->total == 0);
    assert_int_equal(r->stage, STAGE_NEW); /* mql_when no longer holds */
    assert_false(r->routed);

    /* a lead of another company has no "account" in its record */
    h->route = DECIDE_ROUTE_ALWAYS;
    small_lead(h, "other.example");
    r = run(h);
    assert_false(r->account_changed);
    assert_null(h->lead.account_id);
    assert_true(r->routed);
    assert_false(has_key(r->record, "account"));
    assert_json_string(r->record, "rule", "default");

    account_index_free(empty);
    account_index_free(index);
    harness_free(h);
}

static void test_account_owner_away_holds_for_the_owner(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(account_yaml);
    struct account_index *index = acme_index("ben");
    h->accounts = index;
    set_status(&h->fake, 1, REP_AWAY);
    small_lead(h, "acme.example");
    struct decide_result *r = run(h);
    assert_int_equal(r->route.result, ROUTE_HELD);
    assert_string_equal(r->hold_reason, "rep_unavailable");
    assert_string_equal(r->hold_rule, "named");
    assert_null(r->hold_pool);
    /* the lead waits for one rep (docs/api.md, GET /v1/holds) */
    assert_string_equal(r->hold_rep, "ben");
    account_index_free(index);

    /* an account without an owner: the rule does not match */
    index = acme_index(NULL);
    h->accounts = index;
    small_lead(h, "acme.example");
    r = run(h);
    assert_string_equal(h->lead.account_id, "acme");
    assert_null(r->account_owner);
    assert_string_equal(r->route.rep_id, "ana");
    assert_json_string(r->record, "rule", "default");
    const json_t *acc = json_object_get(r->record, "account");
    assert_json_string(acc, "owner", NULL);
    account_index_free(index);
    harness_free(h);
}

/* ---- regressions: callbacks that fail, no error struct, no index ----------------------------- */

/* A BT_EINVAL from a state callback is the callback's error, not a refused
 * pool state: it is returned, and no callback is asked twice. */
static void test_callback_einval_is_not_a_refused_state(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    h->fake.fail_pool = BT_EINVAL;
    big_lead(h, "big.example");
    assert_int_equal(try_run(h), BT_EINVAL);
    assert_false(h->r.routed);
    assert_null(h->r.record);
    assert_int_equal(h->fake.pool_calls[0], 1);
    harness_free(h);

    h = harness_new(base_yaml);
    h->fake.fail_rep = BT_EINVAL;
    big_lead(h, "big.example");
    assert_int_equal(try_run(h), BT_EINVAL);
    assert_int_equal(h->fake.rep_calls[0], 1);
    assert_string_equal(h->err.message, "injected rep failure");
    harness_free(h);
}

/* The error struct is optional, even when a refused state is retried. */
static void test_refused_state_without_an_error_struct(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(fair_yaml);
    h->fake.state[1] = repeated_rep_state(&h->arena);
    small_lead(h, "any.example");
    struct decide_input in = {.model = &h->cfg->decide,
                              .lead = &h->lead,
                              .route = DECIDE_ROUTE_IF_MQL,
                              .now = h->now,
                              .state = {rep_cb, pool_cb, excluded_cb, &h->fake}};
    assert_int_equal(decide_lead(&in, &h->arena, &h->r, NULL), BT_OK);
    assert_true(h->r.routed && h->r.pool_state_reset);
    harness_free(h);
}

/* Without an index the lead keeps its account and that account's owner, as
 * the stored match names it: the owner's rule still routes to the owner. */
static void test_no_index_keeps_the_accounts_owner(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(account_yaml);
    struct account_index *index = acme_index("ben");
    h->accounts = index;
    small_lead(h, "acme.example");
    assert_string_equal(run(h)->route.rep_id, "ben");
    h->accounts = NULL;
    struct decide_result *r = run(h);
    assert_string_equal(h->lead.account_id, "acme");
    assert_string_equal(r->account_owner, "ben");
    assert_string_equal(r->route.rep_id, "ben");
    assert_json_string(json_object_get(r->record, "account"), "owner", "ben");
    account_index_free(index);
    harness_free(h);
}

/* ---- limits -------------------------------------------------------------------------------- */

static void test_arena_too_small(void **unused)
{
    (void)unused;
    struct harness *h = harness_new(base_yaml);
    big_lead(h, "big.example");
    struct arena small = {.limit = 256};
    struct decide_input in = {
        .model = &h->cfg->decide,
        .lead = &h->lead,
        .route = DECIDE_ROUTE_IF_MQL,
        .now = h->now,
    };
    struct decide_result r;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(decide_lead(&in, &small, &r, &err), BT_ETOOBIG);
    assert_null(r.record);
    assert_null(r.account_match);
    assert_true(err.message[0] != '\0');
    arena_release(&small);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_never_scores_and_qualifies),
        cmocka_unit_test(test_rules_on_time_are_rechecked_hourly),
        cmocka_unit_test(test_route_if_mql),
        cmocka_unit_test(test_routing_off),
        cmocka_unit_test(test_record_final_form),
        cmocka_unit_test(test_compact_record_expands_to_the_full_one),
        cmocka_unit_test(test_callbacks_once_per_rep_and_pool),
        cmocka_unit_test(test_callback_errors),
        cmocka_unit_test(test_excluded_rep),
        cmocka_unit_test(test_away_rep_makes_the_pool_pick_another),
        cmocka_unit_test(test_refused_pool_state_is_started_afresh),
        cmocka_unit_test(test_unreadable_pool_state_is_kept_in_the_record),
        cmocka_unit_test(test_route_always_forces),
        cmocka_unit_test(test_counts_after_assignment),
        cmocka_unit_test(test_hold_fields),
        cmocka_unit_test(test_account_matching),
        cmocka_unit_test(test_account_owner_away_holds_for_the_owner),
        cmocka_unit_test(test_callback_einval_is_not_a_refused_state),
        cmocka_unit_test(test_refused_state_without_an_error_struct),
        cmocka_unit_test(test_no_index_keeps_the_accounts_owner),
        cmocka_unit_test(test_arena_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
