/*
 * test_routing.c - core/routing: eligibility and the reason reported (one
 * test per reason, then their precedence), local days, weeks and fair_share
 * windows across daylight saving time in real zones, the rules with their
 * targets and fallbacks, pool decisions through the strategies with the pool
 * state fed back, and the JSON of decisions and pool states
 * (core/routing_json).
 *
 * A `struct world` holds a routing configuration built by hand (reps with
 * zone tables from ICU, pools, rules compiled over score_lead_schema), the
 * reps' runtimes and the pools' persisted states, and serves them to
 * route_decide() through the callbacks as the engine does: after a pool
 * decides, its `after` state is deep-copied into memory the world owns (the
 * decision's arena is released before the next decision) and becomes the
 * next decision's input.
 *
 * Expected instants are written out by hand from the 2026 rules: Berlin
 * springs forward on 2026-03-29 at 01:00 UTC and falls back on 2026-10-25 at
 * 01:00 UTC; New York on 2026-03-08 at 07:00 UTC and 2026-11-01 at 06:00 UTC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/lead.h"
#include "core/normalize.h"
#include "core/routing.h"
#include "core/routing_json.h"
#include "core/score.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- time and zones ------------------------------------------------------------------------ */

static struct tz_table *berlin, *new_york, *utc;

static int zones_setup(void **unused)
{
    (void)unused;
    berlin = zone("Europe/Berlin");
    new_york = zone("America/New_York");
    utc = zone("UTC");
    return 0;
}

static int zones_teardown(void **unused)
{
    (void)unused;
    tz_table_free(berlin);
    tz_table_free(new_york);
    tz_table_free(utc);
    return 0;
}

/* ---- reps ---------------------------------------------------------------------------------- */

static void add_hours(struct weekly_hours *h, int first_day, int last_day, unsigned start,
                      unsigned end)
{
    for (int d = first_day; d <= last_day; d++) {
        struct bt_error e = BT_ERROR_INIT;
        if (workhours_add_interval(h, (enum weekday)d, start, end, &e) != BT_OK)
            fail_msg("add_interval: %s", e.message);
    }
}

/* An active rep with no limits, no lists, working around the clock. */
static struct routing_rep plain_rep(const char *id, const struct tz_table *tz)
{
    return (struct routing_rep){.id = id,
                                .active = true,
                                .tz = tz,
                                .has_hours = false,
                                .hours = WEEKLY_HOURS_INIT,
                                .weight = 1,
                                .capacity = ROUTING_UNLIMITED,
                                .daily_cap = ROUTING_UNLIMITED,
                                .weekly_cap = ROUTING_UNLIMITED};
}

/* The same, working Monday to Friday 09:00-17:00 on its own wall clock. */
static struct routing_rep office_rep(const char *id, const struct tz_table *tz)
{
    struct routing_rep r = plain_rep(id, tz);
    r.has_hours = true;
    add_hours(&r.hours, WEEKDAY_MONDAY, WEEKDAY_FRIDAY, 9 * 60, 17 * 60);
    return r;
}

static const struct route_requirements any_lead = {.check_hours = true};

#define assert_eligibility(rep, rt, req, now, expected)                                            \
    assert_eligibility_at((rep), (rt), (req), (now), (expected), __FILE__, __LINE__)

static void assert_eligibility_at(const struct routing_rep *rep, const struct rep_runtime *rt,
                                  const struct route_requirements *req, int64_t now,
                                  enum eligibility expected, const char *file, int line)
{
    enum eligibility got = routing_eligibility(rep, rt, req, now);
    if (got == expected)
        return;
    char b[RFC3339_MAX];
    time_format_rfc3339(now, b);
    print_error("%s at %s (%s): %s, expected %s\n", rep->id, b, rep->tz->name,
                eligibility_name(got), eligibility_name(expected));
    _fail(file, line);
}

/* ---- the world: a configuration, runtimes and pool states ---------------------------------- */

#define MAX_REPS    8
#define MAX_POOLS   4
#define MAX_RULES   12
#define MAX_MEMBERS 8

struct world {
    struct routing_rep reps[MAX_REPS];
    struct rep_runtime rt[MAX_REPS];
    bool has_rt[MAX_REPS];
    struct routing_pool pools[MAX_POOLS];
    size_t members[MAX_POOLS][MAX_MEMBERS];
    struct routing_rule rules[MAX_RULES];
    struct rule *when[MAX_RULES];
    struct routing_config cfg;
    struct rule_symtab *syms;
    struct rule_value *slots; /* allocated once every rule is compiled */
    struct rule_scratch *scratch;
    struct arena text; /* lead strings and their lower-cased copies */
    /* The persisted pool states, owned here. The state before the current one
     * is kept until the next decision: the last decision's `before` is it. */
    struct pool_state state[MAX_POOLS];
    bool has_state[MAX_POOLS];
    struct arena state_mem[MAX_POOLS], old_state_mem[MAX_POOLS];
    bool feed_back; /* persist `after` (default true) */
    struct route_input in;
    struct arena arena; /* the last decision lives here */
    struct route_decision d;
    struct bt_error err;
    bt_err fail_runtime, fail_state; /* the callbacks fail with these */
    int runtime_calls, state_calls;
};

static bt_err runtime_cb(void *ctx, size_t rep, const struct rep_runtime **out,
                         struct bt_error *err)
{
    struct world *w = ctx;
    w->runtime_calls++;
    assert_true(rep < w->cfg.n_reps);
    if (w->fail_runtime)
        return bt_fail(err, w->fail_runtime, NULL, "injected runtime failure");
    *out = w->has_rt[rep] ? &w->rt[rep] : NULL;
    return BT_OK;
}

static bt_err state_cb(void *ctx, size_t pool, const struct pool_state **out, struct bt_error *err)
{
    struct world *w = ctx;
    w->state_calls++;
    assert_true(pool < w->cfg.n_pools);
    if (w->fail_state)
        return bt_fail(err, w->fail_state, NULL, "injected pool state failure");
    *out = w->has_state[pool] ? &w->state[pool] : NULL;
    return BT_OK;
}

static struct world *world_new(void)
{
    struct world *w = xcalloc(1, sizeof(*w));
    w->syms = rule_symtab_new(&score_lead_schema);
    w->scratch = rule_scratch_new();
    w->feed_back = true;
    w->cfg = (struct routing_config){w->reps, 0, w->pools, 0, w->rules, 0, NULL};
    w->in = (struct route_input){.cfg = &w->cfg,
                                 .scratch = w->scratch,
                                 .rep_runtime = runtime_cb,
                                 .pool_state = state_cb,
                                 .ctx = w,
                                 .now = T("2026-06-10T08:00:00Z")}; /* a Wednesday */
    return w;
}

static void world_free(struct world *w)
{
    for (size_t i = 0; i < w->cfg.n_rules; i++)
        rule_free(w->when[i]);
    rule_symtab_free(w->syms);
    rule_scratch_free(w->scratch);
    free(w->slots);
    arena_release(&w->text);
    arena_release(&w->arena);
    for (size_t p = 0; p < MAX_POOLS; p++) {
        arena_release(&w->state_mem[p]);
        arena_release(&w->old_state_mem[p]);
    }
    free(w);
}

static size_t add_rep(struct world *w, struct routing_rep rep)
{
    assert_true(w->cfg.n_reps < MAX_REPS);
    w->reps[w->cfg.n_reps] = rep;
    w->rt[w->cfg.n_reps] = (struct rep_runtime)REP_RUNTIME_INIT;
    return w->cfg.n_reps++;
}

static size_t rep_of(struct world *w, const char *id)
{
    long i = routing_find_rep(&w->cfg, id);
    if (i < 0)
        fail_msg("no rep %s", id);
    return (size_t)i;
}

/* The runtime of a rep, which the callback serves from now on. */
static struct rep_runtime *rt_of(struct world *w, const char *id)
{
    size_t i = rep_of(w, id);
    w->has_rt[i] = true;
    return &w->rt[i];
}

/* A pool of the reps whose ids start with the letters of `members` ("abc"),
 * in that order; UTC, week window, no_catch_up. */
static struct routing_pool *add_pool(struct world *w, const char *id, enum strategy_kind strategy,
                                     const char *members)
{
    assert_true(w->cfg.n_pools < MAX_POOLS);
    size_t p = w->cfg.n_pools++;
    size_t n = strlen(members);
    assert_true(n <= MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < w->cfg.n_reps && w->reps[k].id[0] != members[i])
            k++;
        if (k == w->cfg.n_reps)
            fail_msg("no rep starting with %c", members[i]);
        w->members[p][i] = k;
    }
    w->pools[p] = (struct routing_pool){.id = id,
                                        .name = id,
                                        .strategy = strategy,
                                        .absence = ABSENCE_NO_CATCH_UP,
                                        .window = POOL_WINDOW_WEEK,
                                        .tz = utc,
                                        .members = w->members[p],
                                        .n_members = n};
    return &w->pools[p];
}

/* A rule; `target_id` names the pool or rep of pool and rep targets. */
static struct routing_rule *add_rule(struct world *w, const char *name, const char *when,
                                     enum route_target target, const char *target_id,
                                     enum route_fallback fallback)
{
    assert_null(w->slots); /* every rule is compiled before the first lead */
    assert_true(w->cfg.n_rules < MAX_RULES);
    size_t i = w->cfg.n_rules;
    struct rule *r = NULL;
    if (when) {
        struct rule_error e;
        if (rule_compile(w->syms, when, strlen(when), &r, &e) != BT_OK)
            fail_msg("cannot compile '%s': %s at %zu", when, e.message, e.offset);
    }
    size_t index = 0;
    if (target == ROUTE_TO_POOL) {
        long p = routing_find_pool(&w->cfg, target_id);
        if (p < 0)
            fail_msg("no pool %s", target_id);
        index = (size_t)p;
    } else if (target == ROUTE_TO_REP) {
        index = rep_of(w, target_id);
    }
    w->when[i] = r;
    w->rules[i] = (struct routing_rule){
        .name = name, .when = r, .target = target, .index = index, .fallback = fallback};
    w->cfg.n_rules++;
    return &w->rules[i];
}

static struct rule_value *slots_of(struct world *w)
{
    if (!w->slots) {
        size_t n = rule_symtab_count(w->syms);
        w->slots = xcalloc(n ? n : 1, sizeof(*w->slots));
        w->in.slots = w->slots;
    }
    return w->slots;
}

/* Sets a slot that some rule reads (no rule reads it: nothing to set). */
static void set_text(struct world *w, const char *path, const char *text)
{
    struct rule_value *slots = slots_of(w);
    int i = rule_symtab_find(w->syms, path);
    if (i < 0)
        return;
    char *lower = arena_strdup(&w->text, text);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    rule_value_string(&slots[i], text, lower, strlen(text));
}

static void set_number(struct world *w, const char *path, double n)
{
    struct rule_value *slots = slots_of(w);
    int i = rule_symtab_find(w->syms, path);
    if (i >= 0)
        rule_value_number(&slots[i], n);
}

/* A lead with just a country (NULL: none), as slots and territory input. */
static void set_country(struct world *w, const char *country)
{
    struct rule_value *slots = slots_of(w);
    memset(slots, 0, rule_symtab_count(w->syms) * sizeof(*slots));
    if (country)
        set_text(w, "country", country);
    const char *region = normalize_region(country);
    if (region)
        set_text(w, "region", region);
    w->in.country = country;
    w->in.region = region;
}

/* The lead's slots from a struct lead, as the engine fills them. */
static void set_lead(struct world *w, const struct lead *lead, const struct score_result *scores)
{
    struct rule_value *slots = slots_of(w);
    if (score_fill_lead(w->syms, lead, NULL, 0, scores, w->in.now, &w->text, slots) != BT_OK)
        fail_msg("score_fill_lead failed");
    w->in.country = lead->attr[LEAD_COUNTRY];
    w->in.region = normalize_region(lead->attr[LEAD_COUNTRY]);
}

/* Copies a state into memory of its own (ids too), as the store would. */
static void persist(struct world *w, size_t p, const struct pool_state *s)
{
    struct arena mem = ARENA_INIT;
    struct pool_state copy = *s;
    copy.last_rep_id = arena_strdup(&mem, s->last_rep_id);
    copy.entries = NULL;
    if (s->n_entries > 0) {
        copy.entries = arena_alloc(&mem, s->n_entries * sizeof(*copy.entries));
        for (size_t i = 0; i < s->n_entries; i++) {
            copy.entries[i] = s->entries[i];
            copy.entries[i].rep_id = arena_strdup(&mem, s->entries[i].rep_id);
        }
    }
    arena_release(&w->old_state_mem[p]);
    w->old_state_mem[p] = w->state_mem[p];
    w->state_mem[p] = mem;
    w->state[p] = copy;
    w->has_state[p] = true;
}

/* Decides the current lead at in.now; the decision is w->d until the next. */
static bt_err try_decide(struct world *w)
{
    slots_of(w);
    arena_release(&w->arena);
    w->err = (struct bt_error)BT_ERROR_INIT;
    bt_err rc = route_decide(&w->in, &w->arena, &w->d, &w->err);
    if (rc == BT_OK && w->feed_back && w->d.has_strategy && w->d.pool >= 0)
        persist(w, (size_t)w->d.pool, &w->d.strategy.after);
    return rc;
}

static const struct route_decision *decide(struct world *w)
{
    bt_err rc = try_decide(w);
    if (rc != BT_OK)
        fail_msg("route_decide: %s: %s", bt_strerror(rc), w->err.message);
    const struct route_decision *d = &w->d;
    /* invariants of every decision */
    assert_true(d->n_trace >= 1 && d->n_trace <= w->cfg.n_rules);
    for (size_t i = 0; i < d->n_trace; i++)
        assert_int_equal(d->trace[i].rule, i);
    if (d->result == ROUTE_ASSIGNED) {
        assert_true(d->rep >= 0);
        assert_string_equal(d->rep_id, w->reps[d->rep].id);
        assert_true(d->rule >= 0);
        assert_int_equal(d->trace[d->n_trace - 1].step, ROUTE_STEP_ASSIGNED);
    } else {
        assert_int_equal(d->rep, -1);
        assert_null(d->rep_id);
        assert_non_null(d->hold_reason);
    }
    return d;
}

/* Decides `leads` leads a second apart: the first letters of the reps
 * chosen, '-' for a hold. */
static const char *run(struct world *w, int leads, char *buf)
{
    for (int i = 0; i < leads; i++) {
        const struct route_decision *d = decide(w);
        buf[i] = d->result == ROUTE_ASSIGNED ? d->rep_id[0] : '-';
        w->in.now += 1000;
    }
    buf[leads] = '\0';
    return buf;
}

#define EXPECT_RUN(w, seq)                                                                         \
    do {                                                                                           \
        char buf_[256];                                                                            \
        assert_string_equal(run((w), (int)strlen(seq), buf_), (seq));                              \
    } while (0)

static const struct route_candidate *candidate_of(const struct route_decision *d, struct world *w,
                                                  const char *id)
{
    size_t rep = rep_of(w, id);
    for (size_t i = 0; i < d->n_candidates; i++)
        if (d->candidates[i].rep == rep)
            return &d->candidates[i];
    fail_msg("%s is not a candidate", id);
    return NULL;
}

#define assert_candidate(w, id, expected)                                                          \
    assert_string_equal(eligibility_name(candidate_of(&(w)->d, (w), (id))->eligibility),           \
                        eligibility_name(expected))

#define assert_step(d, i, expected)                                                                \
    assert_string_equal(route_step_name((d)->trace[i].step), route_step_name(expected))

/* Four reps working around the clock: ana and ben in Berlin, cem in New
 * York, dora in UTC. */
static struct world *team(void)
{
    struct world *w = world_new();
    add_rep(w, plain_rep("ana", berlin));
    add_rep(w, plain_rep("ben", berlin));
    add_rep(w, plain_rep("cem", new_york));
    add_rep(w, plain_rep("dora", utc));
    return w;
}

/* ---- names --------------------------------------------------------------------------------- */

static void test_names(void **unused)
{
    (void)unused;
    static const char *const reasons[] = {
        "eligible",    "inactive", "excluded",      "offline",   "away",
        "time_off",    "holiday",  "outside_hours", "daily_cap", "weekly_cap",
        "at_capacity", "language", "skill",         "territory",
    };
    assert_int_equal(COUNT_OF(reasons), ELIGIBILITY_COUNT);
    for (int i = 0; i < ELIGIBILITY_COUNT; i++)
        assert_string_equal(eligibility_name((enum eligibility)i), reasons[i]);
    assert_string_equal(eligibility_name(ELIGIBILITY_COUNT), "unknown");

    static const char *const steps[] = {"not_matched", "no_owner", "no_account", "unknown_rep",
                                        "unavailable", "assigned", "held"};
    for (int i = 0; i < (int)COUNT_OF(steps); i++)
        assert_string_equal(route_step_name((enum route_step)i), steps[i]);

    assert_string_equal(route_target_name(ROUTE_TO_POOL), "pool");
    assert_string_equal(route_target_name(ROUTE_TO_REP), "rep");
    assert_string_equal(route_target_name(ROUTE_TO_ACCOUNT_OWNER), "account_owner");
    assert_string_equal(route_target_name(ROUTE_TO_LEAD_OWNER), "lead_owner");
    assert_string_equal(route_target_name(ROUTE_TO_HOLD), "hold");
    assert_string_equal(route_fallback_name(ROUTE_FALLBACK_HOLD), "hold");
    assert_string_equal(route_fallback_name(ROUTE_FALLBACK_NEXT_RULE), "next_rule");

    static const char *const windows[] = {"day", "week", "month"};
    for (int i = 0; i < 3; i++) {
        enum pool_window wnd = POOL_WINDOW_MONTH;
        assert_string_equal(pool_window_name((enum pool_window)i), windows[i]);
        assert_true(pool_window_parse(windows[i], &wnd));
        assert_int_equal(wnd, i);
    }
    enum pool_window wnd = POOL_WINDOW_DAY;
    assert_false(pool_window_parse("Week", &wnd));
    assert_false(pool_window_parse("fortnight", &wnd));
    assert_false(pool_window_parse(NULL, &wnd));
    assert_int_equal(wnd, POOL_WINDOW_DAY); /* untouched */

    static const char *const statuses[] = {"available", "away", "offline"};
    for (int i = 0; i < 3; i++) {
        enum rep_status s = REP_OFFLINE;
        assert_string_equal(rep_status_name((enum rep_status)i), statuses[i]);
        assert_true(rep_status_parse(statuses[i], &s));
        assert_int_equal(s, i);
    }
    enum rep_status s = REP_AWAY;
    assert_false(rep_status_parse("busy", &s));
    assert_false(rep_status_parse("", &s));
    assert_int_equal(s, REP_AWAY);

    struct world *w = team();
    add_pool(w, "emea", STRATEGY_ROUND_ROBIN, "ab");
    assert_int_equal(routing_find_rep(&w->cfg, "cem"), 2);
    assert_int_equal(routing_find_rep(&w->cfg, "Cem"), -1);
    assert_int_equal(routing_find_rep(&w->cfg, NULL), -1);
    assert_int_equal(routing_find_pool(&w->cfg, "emea"), 0);
    assert_int_equal(routing_find_pool(&w->cfg, "apac"), -1);
    assert_int_equal(routing_find_pool(&w->cfg, NULL), -1);
    world_free(w);
}

/* ---- eligibility, one reason at a time ------------------------------------------------------- */

/* Wednesday 2026-06-10, 10:00 in Berlin (CEST): inside office hours. */
#define WED_10_BERLIN "2026-06-10T08:00:00Z"

static void test_eligible_baseline(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    struct rep_runtime rt = REP_RUNTIME_INIT;
    int64_t now = T(WED_10_BERLIN);
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    assert_eligibility(&rep, NULL, &any_lead, now, ELIGIBLE); /* NULL runtime: a fresh rep */
}

static void test_inactive(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    rep.active = false;
    assert_eligibility(&rep, NULL, &any_lead, T(WED_10_BERLIN), INELIGIBLE_INACTIVE);
    /* even where nothing else is asked */
    struct route_requirements none = {.check_hours = false};
    assert_eligibility(&rep, NULL, &none, T(WED_10_BERLIN), INELIGIBLE_INACTIVE);
}

static void test_excluded(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    static const char *const excluded[] = {"ben", "ana"};
    struct route_requirements req = {.check_hours = true, .excluded = excluded, .n_excluded = 2};
    assert_eligibility(&rep, NULL, &req, T(WED_10_BERLIN), INELIGIBLE_EXCLUDED);
    req.n_excluded = 1; /* only ben */
    assert_eligibility(&rep, NULL, &req, T(WED_10_BERLIN), ELIGIBLE);
    static const char *const similar[] = {"anastasia", "an", "ANA"};
    req = (struct route_requirements){.check_hours = true, .excluded = similar, .n_excluded = 3};
    assert_eligibility(&rep, NULL, &req, T(WED_10_BERLIN), ELIGIBLE); /* exact ids only */
}

static void test_offline(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.status = REP_OFFLINE;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_OFFLINE);
    rt.status_until = now + MIN_MS;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_OFFLINE);
    rt.status_until = now - MIN_MS;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
}

static void test_away(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.status = REP_AWAY;
    rt.status_reason = "lunch";
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AWAY); /* until 0: no end */
    rt.status_until = now + 1;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AWAY);
}

static void test_away_until_past_is_available(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.status = REP_AWAY;
    rt.status_until = now - HOUR_MS;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    rt.status_until = now; /* the status ends at `until` */
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    rt.status_until = now + 1;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AWAY);
    /* available with an `until` is available */
    rt.status = REP_AVAILABLE;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
}

static void test_time_off(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct time_off_span spans[] = {{now - DAY_MS, now - HOUR_MS}, {now - MIN_MS, now + HOUR_MS}};
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.time_off = (struct time_off){spans, 2};
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_TIME_OFF);
    assert_eligibility(&rep, &rt, &any_lead, now + HOUR_MS - 1, INELIGIBLE_TIME_OFF);
    assert_eligibility(&rep, &rt, &any_lead, now + HOUR_MS, ELIGIBLE); /* [from, to) */
    assert_eligibility(&rep, &rt, &any_lead, now - MIN_MS - 1, ELIGIBLE);
    /* time off counts in out_of_hours pools too */
    struct route_requirements anytime = {.check_hours = false};
    assert_eligibility(&rep, &rt, &anytime, now, INELIGIBLE_TIME_OFF);
}

static void test_holiday_in_rep_zone(void **unused)
{
    (void)unused;
    /* 2026-07-03 is a holiday for both; reps work around the clock */
    static const struct holiday_date dates[] = {{2026, 7, 3}};
    struct routing_rep in_berlin = plain_rep("ana", berlin);
    struct routing_rep in_new_york = plain_rep("cem", new_york);
    in_berlin.holidays = in_new_york.holidays = (struct holidays){dates, 1};
    /* 22:30 UTC on the 3rd: 00:30 on the 4th in Berlin, 18:30 on the 3rd in New York */
    int64_t late = T("2026-07-03T22:30:00Z");
    assert_eligibility(&in_berlin, NULL, &any_lead, late, ELIGIBLE);
    assert_eligibility(&in_new_york, NULL, &any_lead, late, INELIGIBLE_HOLIDAY);
    /* 01:00 UTC on the 3rd: 03:00 on the 3rd in Berlin, 21:00 on the 2nd in New York */
    int64_t early = T("2026-07-03T01:00:00Z");
    assert_eligibility(&in_berlin, NULL, &any_lead, early, INELIGIBLE_HOLIDAY);
    assert_eligibility(&in_new_york, NULL, &any_lead, early, ELIGIBLE);
    /* the whole local day, midnight to midnight */
    assert_eligibility(&in_berlin, NULL, &any_lead, T("2026-07-02T21:59:59Z"), ELIGIBLE);
    assert_eligibility(&in_berlin, NULL, &any_lead, T("2026-07-02T22:00:00Z"), INELIGIBLE_HOLIDAY);
    assert_eligibility(&in_new_york, NULL, &any_lead, T("2026-07-04T03:59:59Z"),
                       INELIGIBLE_HOLIDAY);
    assert_eligibility(&in_new_york, NULL, &any_lead, T("2026-07-04T04:00:00Z"), ELIGIBLE);
}

static void test_outside_hours(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    /* Wednesday 2026-06-10, CEST (UTC+2) */
    assert_eligibility(&rep, NULL, &any_lead, T("2026-06-10T06:59:59Z"), INELIGIBLE_OUTSIDE_HOURS);
    assert_eligibility(&rep, NULL, &any_lead, T("2026-06-10T07:00:00Z"), ELIGIBLE);
    assert_eligibility(&rep, NULL, &any_lead, T("2026-06-10T14:59:59Z"), ELIGIBLE);
    assert_eligibility(&rep, NULL, &any_lead, T("2026-06-10T15:00:00Z"), INELIGIBLE_OUTSIDE_HOURS);
    /* Saturday at 10:00 */
    assert_eligibility(&rep, NULL, &any_lead, T("2026-06-13T08:00:00Z"), INELIGIBLE_OUTSIDE_HOURS);
    /* an out_of_hours pool does not check hours */
    struct route_requirements anytime = {.check_hours = false};
    assert_eligibility(&rep, NULL, &anytime, T("2026-06-13T08:00:00Z"), ELIGIBLE);
    assert_eligibility(&rep, NULL, &anytime, T("2026-06-10T23:00:00Z"), ELIGIBLE);
    /* a rep without hours works around the clock */
    struct routing_rep always = plain_rep("ben", berlin);
    assert_eligibility(&always, NULL, &any_lead, T("2026-06-14T01:00:00Z"), ELIGIBLE);
    /* has_hours false wins over whatever the hours say */
    always.hours = rep.hours;
    assert_eligibility(&always, NULL, &any_lead, T("2026-06-14T01:00:00Z"), ELIGIBLE);
    /* hours configured but empty: never working */
    struct routing_rep never = plain_rep("cem", berlin);
    never.has_hours = true;
    assert_eligibility(&never, NULL, &any_lead, T(WED_10_BERLIN), INELIGIBLE_OUTSIDE_HOURS);
}

/* out_of_hours pools skip the weekly hours, not holidays. */
static void test_holiday_in_out_of_hours_pool(void **unused)
{
    (void)unused;
    static const struct holiday_date dates[] = {{2026, 6, 10}};
    struct routing_rep rep = office_rep("ana", berlin);
    rep.holidays = (struct holidays){dates, 1};
    struct route_requirements anytime = {.check_hours = false};
    assert_eligibility(&rep, NULL, &any_lead, T(WED_10_BERLIN), INELIGIBLE_HOLIDAY);
    assert_eligibility(&rep, NULL, &anytime, T(WED_10_BERLIN), INELIGIBLE_HOLIDAY);
}

static void test_daily_cap(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("cem", new_york);
    rep.daily_cap = 3;
    /* Wednesday 2026-06-10 11:00 EDT */
    int64_t now = T("2026-06-10T15:00:00Z");
    int64_t day, week;
    routing_rep_periods(&rep, now, &day, &week);
    assert_instant(day, T("2026-06-10T04:00:00Z"));
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.day_start = day;
    rt.day_count = 2;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    assert_int_equal(routing_day_count(&rep, &rt, now), 2);
    rt.day_count = 3;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_DAILY_CAP);
    /* counts from an earlier local day read as 0 */
    rt.day_start = day - DAY_MS;
    rt.day_count = 50;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    assert_int_equal(routing_day_count(&rep, &rt, now), 0);
    /* the day is the rep's local day: 23:30 EDT is still the 10th */
    rt.day_start = day;
    rt.day_count = 3;
    rep.has_hours = false;
    assert_eligibility(&rep, &rt, &any_lead, T("2026-06-11T03:30:00Z"), INELIGIBLE_DAILY_CAP);
    assert_eligibility(&rep, &rt, &any_lead, T("2026-06-11T04:00:00Z"), ELIGIBLE);
    /* cap 0: never; unlimited: whatever the count */
    rep.daily_cap = 0;
    rt.day_count = 0;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_DAILY_CAP);
    rep.daily_cap = ROUTING_UNLIMITED;
    rt.day_count = 1000000;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
}

static void test_weekly_cap(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    rep.weekly_cap = 10;
    int64_t now = T(WED_10_BERLIN);
    int64_t day, week;
    routing_rep_periods(&rep, now, &day, &week);
    assert_instant(week, T("2026-06-07T22:00:00Z")); /* Monday 2026-06-08 00:00 CEST */
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rt.week_start = week;
    rt.week_count = 9;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    assert_int_equal(routing_week_count(&rep, &rt, now), 9);
    rt.week_count = 10;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_WEEKLY_CAP);
    /* the count of last week reads as 0 */
    rt.week_start = week - 7 * DAY_MS;
    rt.week_count = 99;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    assert_int_equal(routing_week_count(&rep, &rt, now), 0);
    /* a day count of an earlier day does not hide the week's */
    rep.daily_cap = 5;
    rt.week_start = week;
    rt.week_count = 10;
    rt.day_start = day - DAY_MS;
    rt.day_count = 5;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_WEEKLY_CAP);
    /* next Monday 00:00 local starts a new week */
    rep.has_hours = false;
    assert_eligibility(&rep, &rt, &any_lead, T("2026-06-14T21:59:59Z"), INELIGIBLE_WEEKLY_CAP);
    assert_eligibility(&rep, &rt, &any_lead, T("2026-06-14T22:00:00Z"), ELIGIBLE);
}

static void test_at_capacity(void **unused)
{
    (void)unused;
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct rep_runtime rt = REP_RUNTIME_INIT;
    rep.capacity = 3;
    rt.open = 2;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
    rt.open = 3;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AT_CAPACITY);
    rt.open = 7; /* over capacity after a change of config */
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AT_CAPACITY);
    rep.capacity = 0;
    rt.open = 0;
    assert_eligibility(&rep, &rt, &any_lead, now, INELIGIBLE_AT_CAPACITY);
    rep.capacity = ROUTING_UNLIMITED;
    rt.open = 1000000;
    assert_eligibility(&rep, &rt, &any_lead, now, ELIGIBLE);
}

static void test_language(void **unused)
{
    (void)unused;
    static const char *const speaks[] = {"de", "en"};
    static const char *const de[] = {"de"}, *const de_en[] = {"en", "de"},
                             *const de_fr[] = {"de", "fr"};
    struct routing_rep rep = office_rep("ana", berlin);
    rep.languages = speaks;
    rep.n_languages = 2;
    int64_t now = T(WED_10_BERLIN);
    struct route_requirements req = {.check_hours = true, .languages = de, .n_languages = 1};
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    req.languages = de_en;
    req.n_languages = 2;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    req.languages = de_fr; /* every one listed */
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_LANGUAGE);
    rep.n_languages = 0;
    req.languages = de;
    req.n_languages = 1;
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_LANGUAGE);
    req.n_languages = 0; /* nothing asked */
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
}

static void test_skill(void **unused)
{
    (void)unused;
    static const char *const has[] = {"enterprise", "healthcare"};
    static const char *const ent[] = {"enterprise"}, *const ent_fin[] = {"enterprise", "finance"};
    static const char *const en[] = {"en"};
    struct routing_rep rep = office_rep("ana", berlin);
    rep.skills = has;
    rep.n_skills = 2;
    int64_t now = T(WED_10_BERLIN);
    struct route_requirements req = {.check_hours = true, .skills = ent, .n_skills = 1};
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    req.skills = ent_fin;
    req.n_skills = 2;
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_SKILL);
    /* a language is not a skill */
    req = (struct route_requirements){.check_hours = true, .skills = en, .n_skills = 1};
    rep.languages = en;
    rep.n_languages = 1;
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_SKILL);
}

static void test_territory(void **unused)
{
    (void)unused;
    static const char *const dach[] = {"DE", "AT", "CH"}, *const emea[] = {"EMEA"},
                             *const na_us[] = {"NA"};
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t now = T(WED_10_BERLIN);
    struct route_requirements req = {
        .check_hours = true, .match_territory = true, .country = "DE", .region = "EMEA"};
    rep.territories = dach;
    rep.n_territories = 3;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE); /* by country */
    req.country = "FR";
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_TERRITORY);
    rep.territories = emea;
    rep.n_territories = 1;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE); /* by region */
    req.country = "US";
    req.region = "NA";
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_TERRITORY);
    rep.territories = na_us;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    /* "NA" is North America: a lead from Namibia (country NA, region EMEA)
     * is not covered by it */
    req.country = "NA";
    req.region = "EMEA";
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_TERRITORY);
    /* a lead without a country matches no territory list */
    req.country = req.region = NULL;
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_TERRITORY);
    /* a rep without territories covers all, even a lead without a country */
    rep.n_territories = 0;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    req.country = "JP";
    req.region = "APAC";
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
    /* pools that do not match territories ignore the lists */
    rep.territories = dach;
    rep.n_territories = 3;
    assert_eligibility(&rep, NULL, &req, now, INELIGIBLE_TERRITORY);
    req.match_territory = false;
    assert_eligibility(&rep, NULL, &req, now, ELIGIBLE);
}

/* Every reason at once, removed one at a time in the documented order. */
static void test_precedence(void **unused)
{
    (void)unused;
    static const char *const en[] = {"en"}, *const de_en[] = {"de", "en"};
    static const char *const ent[] = {"enterprise"};
    static const char *const fr[] = {"FR"}, *const fr_de[] = {"FR", "DE"};
    static const char *const excluded[] = {"ana"};
    static const struct holiday_date dates[] = {{2026, 6, 10}};
    struct routing_rep rep = office_rep("ana", berlin);
    int64_t evening = T("2026-06-10T17:00:00Z"), morning = T(WED_10_BERLIN); /* 19:00, 10:00 */
    int64_t day, week;
    routing_rep_periods(&rep, evening, &day, &week);
    struct time_off_span off[] = {{evening - HOUR_MS, evening + HOUR_MS}};
    rep.active = false;
    rep.holidays = (struct holidays){dates, 1};
    rep.daily_cap = 2;
    rep.weekly_cap = 5;
    rep.capacity = 3;
    rep.languages = en;
    rep.n_languages = 1;
    rep.territories = fr;
    rep.n_territories = 1;
    struct rep_runtime rt = {.status = REP_OFFLINE,
                             .time_off = {off, 1},
                             .open = 3,
                             .day_start = day,
                             .day_count = 2,
                             .week_start = week,
                             .week_count = 5};
    static const char *const de[] = {"de"};
    struct route_requirements req = {.check_hours = true,
                                     .languages = de,
                                     .n_languages = 1,
                                     .skills = ent,
                                     .n_skills = 1,
                                     .match_territory = true,
                                     .country = "DE",
                                     .region = "EMEA",
                                     .excluded = excluded,
                                     .n_excluded = 1};
    int64_t now = evening;

    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_INACTIVE);
    rep.active = true;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_EXCLUDED);
    req.n_excluded = 0;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_OFFLINE);
    rt.status = REP_AWAY;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_AWAY);
    rt.status = REP_AVAILABLE;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_TIME_OFF);
    rt.time_off.count = 0;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_HOLIDAY);
    rep.holidays.count = 0;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_OUTSIDE_HOURS);
    now = morning; /* same local day, same week */
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_DAILY_CAP);
    rt.day_count = 1;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_WEEKLY_CAP);
    rt.week_count = 4;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_AT_CAPACITY);
    rt.open = 2;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_LANGUAGE);
    rep.languages = de_en;
    rep.n_languages = 2;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_SKILL);
    rep.skills = ent;
    rep.n_skills = 1;
    assert_eligibility(&rep, &rt, &req, now, INELIGIBLE_TERRITORY);
    rep.territories = fr_de;
    rep.n_territories = 2;
    assert_eligibility(&rep, &rt, &req, now, ELIGIBLE);
}

/* ---- working hours, days and weeks across daylight saving time ----------------------------- */

/* A rep working 09:00-17:00 every day, Sundays included (the changes fall on Sundays). */
static struct routing_rep daily_rep(const char *id, const struct tz_table *tz)
{
    struct routing_rep r = plain_rep(id, tz);
    r.has_hours = true;
    add_hours(&r.hours, WEEKDAY_MONDAY, WEEKDAY_SUNDAY, 9 * 60, 17 * 60);
    return r;
}

#define EXPECT_IN(rep, when) assert_eligibility((rep), NULL, &any_lead, T(when), ELIGIBLE)
#define EXPECT_OUT(rep, when)                                                                      \
    assert_eligibility((rep), NULL, &any_lead, T(when), INELIGIBLE_OUTSIDE_HOURS)

static void test_hours_across_dst_berlin(void **unused)
{
    (void)unused;
    struct routing_rep r = daily_rep("ana", berlin);
    /* Saturday 2026-03-28, CET (UTC+1) */
    EXPECT_IN(&r, "2026-03-28T08:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-03-28T07:30:00Z"); /* 08:30 */
    EXPECT_IN(&r, "2026-03-28T15:59:00Z");  /* 16:59 */
    EXPECT_OUT(&r, "2026-03-28T16:00:00Z"); /* 17:00 */
    /* Sunday 2026-03-29, clocks forward at 01:00 UTC: CEST (UTC+2) from then */
    EXPECT_IN(&r, "2026-03-29T07:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-03-29T06:30:00Z"); /* 08:30 */
    EXPECT_IN(&r, "2026-03-29T14:59:00Z");  /* 16:59 */
    EXPECT_OUT(&r, "2026-03-29T15:00:00Z"); /* 17:00 */
    /* Monday 2026-03-30 */
    EXPECT_IN(&r, "2026-03-30T07:30:00Z");
    EXPECT_OUT(&r, "2026-03-30T06:30:00Z");
    /* Saturday 2026-10-24, CEST */
    EXPECT_IN(&r, "2026-10-24T07:30:00Z");
    EXPECT_OUT(&r, "2026-10-24T06:30:00Z");
    /* Sunday 2026-10-25, clocks back at 01:00 UTC: CET from then */
    EXPECT_IN(&r, "2026-10-25T08:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-10-25T07:30:00Z"); /* 08:30: the instant was 09:30 the day before */
    EXPECT_IN(&r, "2026-10-25T15:59:00Z");
    EXPECT_OUT(&r, "2026-10-25T16:00:00Z");
    /* Monday 2026-10-26 */
    EXPECT_IN(&r, "2026-10-26T08:30:00Z");
    EXPECT_OUT(&r, "2026-10-26T07:30:00Z");

    /* A night shift 02:00-03:00 on Sundays: skipped on 2026-03-29, twice on 2026-10-25. */
    struct routing_rep night = plain_rep("ben", berlin);
    night.has_hours = true;
    add_hours(&night.hours, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, 2 * 60, 3 * 60);
    EXPECT_OUT(&night, "2026-03-29T00:59:59Z"); /* 01:59:59 CET */
    EXPECT_OUT(&night, "2026-03-29T01:00:00Z"); /* 03:00 CEST */
    EXPECT_IN(&night, "2026-10-25T00:30:00Z");  /* 02:30 CEST */
    EXPECT_IN(&night, "2026-10-25T01:30:00Z");  /* 02:30 CET */
    EXPECT_OUT(&night, "2026-10-25T02:00:00Z"); /* 03:00 CET */
}

static void test_hours_across_dst_new_york(void **unused)
{
    (void)unused;
    struct routing_rep r = daily_rep("cem", new_york);
    /* Saturday 2026-03-07, EST (UTC-5) */
    EXPECT_IN(&r, "2026-03-07T14:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-03-07T13:30:00Z"); /* 08:30 */
    /* Sunday 2026-03-08, clocks forward at 07:00 UTC: EDT (UTC-4) */
    EXPECT_IN(&r, "2026-03-08T13:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-03-08T12:30:00Z"); /* 08:30 */
    EXPECT_IN(&r, "2026-03-08T20:59:00Z");  /* 16:59 */
    EXPECT_OUT(&r, "2026-03-08T21:00:00Z"); /* 17:00 */
    /* Saturday 2026-10-31, EDT */
    EXPECT_IN(&r, "2026-10-31T13:30:00Z");
    EXPECT_OUT(&r, "2026-10-31T12:30:00Z");
    /* Sunday 2026-11-01, clocks back at 06:00 UTC: EST */
    EXPECT_IN(&r, "2026-11-01T14:30:00Z");  /* 09:30 */
    EXPECT_OUT(&r, "2026-11-01T13:30:00Z"); /* 08:30 */
    EXPECT_IN(&r, "2026-11-01T21:59:00Z");  /* 16:59 */
    EXPECT_OUT(&r, "2026-11-01T22:00:00Z"); /* 17:00 */
    /* Monday 2026-11-02 */
    EXPECT_IN(&r, "2026-11-02T14:30:00Z");
    EXPECT_OUT(&r, "2026-11-02T13:30:00Z");
}

static void expect_periods(const struct routing_rep *rep, const char *now, const char *day,
                           const char *week)
{
    int64_t d = 0, w = 0;
    routing_rep_periods(rep, T(now), &d, &w);
    assert_instant(d, T(day));
    assert_instant(w, T(week));
    /* either output may be skipped */
    int64_t only = 0;
    routing_rep_periods(rep, T(now), &only, NULL);
    assert_instant(only, T(day));
    routing_rep_periods(rep, T(now), NULL, &only);
    assert_instant(only, T(week));
}

static void test_periods_on_dst_days(void **unused)
{
    (void)unused;
    struct routing_rep b = plain_rep("ana", berlin), n = plain_rep("cem", new_york);
    /* Berlin, spring: the 29th starts in CET, the 30th (a Monday) in CEST */
    expect_periods(&b, "2026-03-29T12:00:00Z", "2026-03-28T23:00:00Z", "2026-03-22T23:00:00Z");
    expect_periods(&b, "2026-03-28T23:00:00Z", "2026-03-28T23:00:00Z", "2026-03-22T23:00:00Z");
    expect_periods(&b, "2026-03-28T22:59:59Z", "2026-03-27T23:00:00Z", "2026-03-22T23:00:00Z");
    expect_periods(&b, "2026-03-29T21:59:59Z", "2026-03-28T23:00:00Z", "2026-03-22T23:00:00Z");
    expect_periods(&b, "2026-03-29T22:00:00Z", "2026-03-29T22:00:00Z", "2026-03-29T22:00:00Z");
    expect_periods(&b, "2026-04-01T10:00:00Z", "2026-03-31T22:00:00Z", "2026-03-29T22:00:00Z");
    /* Berlin, autumn: the 25th starts in CEST and lasts 25 hours */
    expect_periods(&b, "2026-10-25T12:00:00Z", "2026-10-24T22:00:00Z", "2026-10-18T22:00:00Z");
    expect_periods(&b, "2026-10-25T00:30:00Z", "2026-10-24T22:00:00Z", "2026-10-18T22:00:00Z");
    expect_periods(&b, "2026-10-25T01:30:00Z", "2026-10-24T22:00:00Z", "2026-10-18T22:00:00Z");
    expect_periods(&b, "2026-10-25T22:59:59Z", "2026-10-24T22:00:00Z", "2026-10-18T22:00:00Z");
    expect_periods(&b, "2026-10-25T23:30:00Z", "2026-10-25T23:00:00Z", "2026-10-25T23:00:00Z");
    /* New York, spring */
    expect_periods(&n, "2026-03-08T12:00:00Z", "2026-03-08T05:00:00Z", "2026-03-02T05:00:00Z");
    expect_periods(&n, "2026-03-08T04:59:59Z", "2026-03-07T05:00:00Z", "2026-03-02T05:00:00Z");
    expect_periods(&n, "2026-03-09T04:30:00Z", "2026-03-09T04:00:00Z", "2026-03-09T04:00:00Z");
    /* New York, autumn: 01:30 happens twice on the 1st, both in the same day */
    expect_periods(&n, "2026-11-01T12:00:00Z", "2026-11-01T04:00:00Z", "2026-10-26T04:00:00Z");
    expect_periods(&n, "2026-11-01T05:30:00Z", "2026-11-01T04:00:00Z", "2026-10-26T04:00:00Z");
    expect_periods(&n, "2026-11-01T06:30:00Z", "2026-11-01T04:00:00Z", "2026-10-26T04:00:00Z");
    expect_periods(&n, "2026-11-02T04:59:59Z", "2026-11-01T04:00:00Z", "2026-10-26T04:00:00Z");
    expect_periods(&n, "2026-11-02T05:30:00Z", "2026-11-02T05:00:00Z", "2026-11-02T05:00:00Z");
}

/*
 * Every 20 minutes of 2026 in zones with unusual changes: the day starts at
 * the first instant of the local date, the week at the first instant of the
 * Monday, and the counts switch exactly there. America/Santiago skips local
 * midnight when its clocks go forward (the day starts at 01:00), and
 * Australia/Lord_Howe changes by 30 minutes.
 */
static void test_periods_brute_force(void **unused)
{
    (void)unused;
    struct tz_table *santiago = zone("America/Santiago"), *lord_howe = zone("Australia/Lord_Howe");
    const struct tz_table *zones[] = {berlin, new_york, santiago, lord_howe, utc};
    for (size_t z = 0; z < COUNT_OF(zones); z++) {
        struct routing_rep rep = plain_rep("x", zones[z]);
        for (int64_t t = T("2026-01-01T00:00:00Z"); t < T("2027-01-01T00:00:00Z");
             t += 20 * MIN_MS) {
            int64_t day, week;
            routing_rep_periods(&rep, t, &day, &week);
            struct tz_local_time now_l, day_l, before_day, week_l, before_week;
            tz_local(zones[z], t, &now_l);
            tz_local(zones[z], day, &day_l);
            tz_local(zones[z], day - 1, &before_day);
            tz_local(zones[z], week, &week_l);
            tz_local(zones[z], week - 1, &before_week);
            if (!(day <= t && day_l.local_days == now_l.local_days &&
                  before_day.local_days == now_l.local_days - 1 && week <= day &&
                  week_l.weekday == WEEKDAY_MONDAY &&
                  week_l.local_days == now_l.local_days - now_l.weekday &&
                  before_week.local_days == week_l.local_days - 1)) {
                char b[RFC3339_MAX];
                time_format_rfc3339(t, b);
                fail_msg("%s at %s: bad periods", zones[z]->name, b);
            }
            /* the counts read as stored within the period, as 0 outside it */
            struct rep_runtime rt = REP_RUNTIME_INIT;
            rt.day_start = day;
            rt.day_count = 4;
            rt.week_start = week;
            rt.week_count = 9;
            assert_int_equal(routing_day_count(&rep, &rt, t), 4);
            assert_int_equal(routing_week_count(&rep, &rt, t), 9);
            assert_int_equal(routing_day_count(&rep, &rt, day - 1), 0);
            assert_int_equal(routing_week_count(&rep, &rt, week - 1), 0);
        }
    }
    tz_table_free(santiago);
    tz_table_free(lord_howe);
}

static int64_t window_of(const struct tz_table *tz, enum pool_window wnd, const char *now)
{
    struct routing_pool pool = {
        .id = "p", .strategy = STRATEGY_FAIR_SHARE, .window = wnd, .tz = tz};
    return routing_window_start(&pool, T(now));
}

static void test_window_start(void **unused)
{
    (void)unused;
    /* Berlin on the day the clocks go forward */
    assert_instant(window_of(berlin, POOL_WINDOW_DAY, "2026-03-29T12:00:00Z"),
                   T("2026-03-28T23:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_WEEK, "2026-03-29T12:00:00Z"),
                   T("2026-03-22T23:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_MONTH, "2026-03-29T12:00:00Z"),
                   T("2026-02-28T23:00:00Z")); /* March 1st 00:00 CET */
    /* April begins in CEST, on the 31st of March in UTC */
    assert_instant(window_of(berlin, POOL_WINDOW_MONTH, "2026-03-31T22:30:00Z"),
                   T("2026-03-31T22:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_MONTH, "2026-03-31T21:59:59Z"),
                   T("2026-02-28T23:00:00Z"));
    /* Berlin on the day the clocks go back */
    assert_instant(window_of(berlin, POOL_WINDOW_DAY, "2026-10-25T12:00:00Z"),
                   T("2026-10-24T22:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_WEEK, "2026-10-25T12:00:00Z"),
                   T("2026-10-18T22:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_MONTH, "2026-10-25T12:00:00Z"),
                   T("2026-09-30T22:00:00Z"));
    assert_instant(window_of(berlin, POOL_WINDOW_MONTH, "2026-11-15T12:00:00Z"),
                   T("2026-10-31T23:00:00Z")); /* November begins in CET */
    /* New York: late on Halloween local time is November in UTC */
    assert_instant(window_of(new_york, POOL_WINDOW_DAY, "2026-11-01T03:00:00Z"),
                   T("2026-10-31T04:00:00Z"));
    assert_instant(window_of(new_york, POOL_WINDOW_WEEK, "2026-11-01T03:00:00Z"),
                   T("2026-10-26T04:00:00Z"));
    assert_instant(window_of(new_york, POOL_WINDOW_MONTH, "2026-11-01T03:00:00Z"),
                   T("2026-10-01T04:00:00Z"));
    assert_instant(window_of(new_york, POOL_WINDOW_DAY, "2026-11-01T12:00:00Z"),
                   T("2026-11-01T04:00:00Z"));
    assert_instant(window_of(new_york, POOL_WINDOW_MONTH, "2026-11-01T12:00:00Z"),
                   T("2026-11-01T04:00:00Z")); /* EDT midnight: the change is at 02:00 */
    assert_instant(window_of(new_york, POOL_WINDOW_WEEK, "2026-03-08T12:00:00Z"),
                   T("2026-03-02T05:00:00Z"));
    assert_instant(window_of(new_york, POOL_WINDOW_DAY, "2026-03-08T12:00:00Z"),
                   T("2026-03-08T05:00:00Z"));
    /* UTC, and the pool's zone rather than UTC decides */
    assert_instant(window_of(utc, POOL_WINDOW_DAY, "2026-11-01T03:00:00Z"),
                   T("2026-11-01T00:00:00Z"));
    assert_instant(window_of(utc, POOL_WINDOW_WEEK, "2026-11-01T03:00:00Z"),
                   T("2026-10-26T00:00:00Z"));
    assert_instant(window_of(utc, POOL_WINDOW_MONTH, "2026-11-01T03:00:00Z"),
                   T("2026-11-01T00:00:00Z"));
    /* a window never starts after now */
    assert_instant(window_of(berlin, POOL_WINDOW_DAY, "2026-03-28T23:00:00Z"),
                   T("2026-03-28T23:00:00Z"));
}

/* Reps of three zones in one pool: each is judged on its own clock. */
static void test_pool_members_in_several_zones(void **unused)
{
    (void)unused;
    struct world *w = world_new();
    add_rep(w, office_rep("ana", berlin));
    add_rep(w, office_rep("cem", new_york));
    add_rep(w, office_rep("ben", berlin));
    add_rep(w, office_rep("dora", utc));
    add_pool(w, "all", STRATEGY_ROUND_ROBIN, "acbd");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "all", ROUTE_FALLBACK_HOLD);
    /* daily counts: current for cem (NY day), stale for ana (yesterday in Berlin) */
    int64_t day, week;
    w->in.now = T("2026-06-10T08:00:00Z"); /* Berlin 10:00, NY 04:00, UTC 08:00 */
    routing_rep_periods(&w->reps[rep_of(w, "cem")], w->in.now, &day, &week);
    rt_of(w, "cem")->day_start = day;
    rt_of(w, "cem")->day_count = 2;
    rt_of(w, "cem")->week_start = week;
    rt_of(w, "cem")->week_count = 7;
    routing_rep_periods(&w->reps[rep_of(w, "ana")], w->in.now, &day, &week);
    rt_of(w, "ana")->day_start = day - DAY_MS;
    rt_of(w, "ana")->day_count = 5;
    rt_of(w, "ana")->week_start = week;
    rt_of(w, "ana")->week_count = 6;

    const struct route_decision *d = decide(w);
    assert_int_equal(d->n_candidates, 4);
    assert_candidate(w, "ana", ELIGIBLE);
    assert_candidate(w, "cem", INELIGIBLE_OUTSIDE_HOURS);
    assert_candidate(w, "ben", ELIGIBLE);
    assert_candidate(w, "dora", INELIGIBLE_OUTSIDE_HOURS);
    assert_int_equal(candidate_of(d, w, "cem")->day_count, 2);
    assert_int_equal(candidate_of(d, w, "cem")->week_count, 7);
    assert_int_equal(candidate_of(d, w, "ana")->day_count, 0);
    assert_int_equal(candidate_of(d, w, "ana")->week_count, 6);

    w->in.now = T("2026-06-10T15:30:00Z"); /* Berlin 17:30, NY 11:30, UTC 15:30 */
    d = decide(w);
    assert_candidate(w, "ana", INELIGIBLE_OUTSIDE_HOURS);
    assert_candidate(w, "cem", ELIGIBLE);
    assert_candidate(w, "ben", INELIGIBLE_OUTSIDE_HOURS);
    assert_candidate(w, "dora", ELIGIBLE);
    assert_int_equal(candidate_of(d, w, "cem")->day_count, 2);

    w->in.now = T("2026-06-10T20:00:00Z"); /* Berlin 22:00, NY 16:00, UTC 20:00 */
    d = decide(w);
    assert_string_equal(d->rep_id, "cem");
    assert_candidate(w, "dora", INELIGIBLE_OUTSIDE_HOURS);
    world_free(w);
}

/* ---- rules --------------------------------------------------------------------------------- */

static void test_first_match_wins(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_rule(w, "de-ana", "country == \"DE\"", ROUTE_TO_REP, "ana", ROUTE_FALLBACK_HOLD);
    add_rule(w, "de-ben", "country in [\"DE\", \"AT\"]", ROUTE_TO_REP, "ben", ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_HOLD, NULL, ROUTE_FALLBACK_HOLD);

    set_country(w, "DE");
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "ana");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->pool, -1);
    assert_int_equal(d->n_trace, 1);
    assert_step(d, 0, ROUTE_STEP_ASSIGNED);
    assert_int_equal(d->trace[0].rep, (long)rep_of(w, "ana"));
    assert_int_equal(d->trace[0].eligibility, ELIGIBLE);
    assert_false(d->has_strategy);
    assert_int_equal(d->n_candidates, 1);
    assert_string_equal(d->summary, "rule de-ana -> rep ana: assigned to ana");

    set_country(w, "AT");
    d = decide(w);
    assert_string_equal(d->rep_id, "ben");
    assert_int_equal(d->rule, 1);
    assert_int_equal(d->n_trace, 2);
    assert_step(d, 0, ROUTE_STEP_NOT_MATCHED);
    assert_int_equal(d->trace[0].rep, -1);
    assert_step(d, 1, ROUTE_STEP_ASSIGNED);

    /* "de" matches "DE": string comparisons ignore case */
    set_country(w, "de");
    assert_string_equal(decide(w)->rep_id, "ana");

    /* a lead without a country matches neither: a missing value never matches */
    set_country(w, NULL);
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_int_equal(d->rule, 2);
    assert_string_equal(d->hold_reason, "rule");
    assert_int_equal(d->n_trace, 3);
    assert_step(d, 2, ROUTE_STEP_HELD);
    assert_int_equal(d->n_candidates, 0);
    assert_string_equal(d->summary, "rule default -> hold queue");
    world_free(w);
}

static void test_rule_without_when_matches(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "everyone", STRATEGY_ROUND_ROBIN, "abcd");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "everyone", ROUTE_FALLBACK_HOLD);
    set_country(w, NULL); /* every slot missing */
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "ana");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->pool, 0);
    assert_true(d->has_strategy);
    assert_string_equal(d->summary, "rule all -> pool everyone: round_robin chose ana");
    world_free(w);
}

static void test_target_hold(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "everyone", STRATEGY_ROUND_ROBIN, "abcd");
    add_rule(w, "students", "title contains \"student\"", ROUTE_TO_HOLD, NULL, ROUTE_FALLBACK_HOLD);
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "everyone", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    set_text(w, "title", "PhD Student");
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "rule");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->pool, -1);
    assert_false(d->has_strategy);
    assert_int_equal(d->n_trace, 1);
    assert_step(d, 0, ROUTE_STEP_HELD);
    assert_int_equal(w->runtime_calls, 0); /* nobody's state was needed */
    assert_int_equal(w->state_calls, 0);
    set_text(w, "title", "CTO");
    assert_int_equal(decide(w)->result, ROUTE_ASSIGNED);
    world_free(w);
}

static void test_target_rep(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "everyone", STRATEGY_ROUND_ROBIN, "abd");
    struct routing_rule *vip =
        add_rule(w, "vip", "score >= 90", ROUTE_TO_REP, "cem", ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_POOL, "everyone", ROUTE_FALLBACK_HOLD);
    set_country(w, "US");
    set_number(w, "score", 95);

    /* eligible: assigned */
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "cem");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->n_candidates, 1);
    assert_int_equal(d->candidates[0].rep, rep_of(w, "cem"));
    assert_int_equal(d->candidates[0].eligibility, ELIGIBLE);

    /* ineligible with fallback hold: held, rep_unavailable */
    rt_of(w, "cem")->status = REP_AWAY;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "rep_unavailable");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->n_trace, 1);
    assert_step(d, 0, ROUTE_STEP_HELD);
    assert_int_equal(d->trace[0].rep, (long)rep_of(w, "cem"));
    assert_int_equal(d->trace[0].eligibility, INELIGIBLE_AWAY);
    assert_int_equal(d->n_candidates, 1);
    assert_int_equal(d->candidates[0].eligibility, INELIGIBLE_AWAY);
    assert_string_equal(d->summary, "rule vip -> rep cem: cem is not eligible (away): held");

    /* ineligible with fallback next_rule: the next rule decides */
    vip->fallback = ROUTE_FALLBACK_NEXT_RULE;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "ana");
    assert_int_equal(d->rule, 1);
    assert_int_equal(d->n_trace, 2);
    assert_step(d, 0, ROUTE_STEP_UNAVAILABLE);
    assert_int_equal(d->trace[0].rep, (long)rep_of(w, "cem"));
    assert_int_equal(d->trace[0].eligibility, INELIGIBLE_AWAY);
    assert_int_equal(d->n_candidates, 3); /* the pool's, not cem's */

    /* a lead that does not match goes on */
    rt_of(w, "cem")->status = REP_AVAILABLE;
    set_number(w, "score", 89.5);
    d = decide(w);
    assert_int_equal(d->rule, 1);
    assert_step(d, 0, ROUTE_STEP_NOT_MATCHED);
    world_free(w);
}

static void test_account_owner(void **unused)
{
    (void)unused;
    struct world *w = team();
    struct routing_rule *owner =
        add_rule(w, "owner", NULL, ROUTE_TO_ACCOUNT_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "default", NULL, ROUTE_TO_REP, "dora", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");

    /* no account: the rule does not match */
    w->in.account_owner = "ben"; /* ignored without an account */
    const struct route_decision *d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_int_equal(d->rule, 1);
    assert_step(d, 0, ROUTE_STEP_NO_ACCOUNT);
    assert_int_equal(d->trace[0].rep, -1);

    /* an account without an owner */
    w->in.account_id = "acc-17";
    w->in.account_owner = NULL;
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_step(d, 0, ROUTE_STEP_NO_OWNER);
    w->in.account_owner = "";
    assert_step(decide(w), 0, ROUTE_STEP_NO_OWNER);

    /* an owner who is not a configured rep */
    w->in.account_owner = "former.employee";
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_step(d, 0, ROUTE_STEP_UNKNOWN_REP);
    assert_int_equal(d->trace[0].rep, -1);

    /* the owner, eligible */
    w->in.account_owner = "ben";
    d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "ben");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->n_trace, 1);
    assert_step(d, 0, ROUTE_STEP_ASSIGNED);
    assert_int_equal(d->trace[0].rep, (long)rep_of(w, "ben"));
    assert_string_equal(d->summary, "rule owner -> account_owner: assigned to ben");

    /* the owner away, fallback next_rule: falls through */
    rt_of(w, "ben")->status = REP_AWAY;
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_int_equal(d->rule, 1);
    assert_step(d, 0, ROUTE_STEP_UNAVAILABLE);
    assert_int_equal(d->trace[0].rep, (long)rep_of(w, "ben"));
    assert_int_equal(d->trace[0].eligibility, INELIGIBLE_AWAY);

    /* the owner away, fallback hold: waits for the owner */
    owner->fallback = ROUTE_FALLBACK_HOLD;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "rep_unavailable");
    assert_int_equal(d->rule, 0);
    assert_step(d, 0, ROUTE_STEP_HELD);
    assert_int_equal(d->n_candidates, 1);
    assert_int_equal(d->candidates[0].rep, rep_of(w, "ben"));
    assert_int_equal(d->candidates[0].eligibility, INELIGIBLE_AWAY);
    assert_string_equal(d->summary,
                        "rule owner -> account_owner: ben is not eligible (away): held");

    /* an owner who rejected this lead is not given it back */
    owner->fallback = ROUTE_FALLBACK_NEXT_RULE;
    rt_of(w, "ben")->status = REP_AVAILABLE;
    static const char *const rejected[] = {"ben"};
    w->in.excluded = rejected;
    w->in.n_excluded = 1;
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_int_equal(d->trace[0].eligibility, INELIGIBLE_EXCLUDED);
    world_free(w);
}

static void test_lead_owner(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_rule(w, "returning", NULL, ROUTE_TO_LEAD_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "default", NULL, ROUTE_TO_REP, "dora", ROUTE_FALLBACK_HOLD);
    set_country(w, "US");

    w->in.lead_owner = "cem";
    w->in.account_id = NULL; /* no account needed */
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "cem");
    assert_int_equal(d->rule, 0);
    assert_step(d, 0, ROUTE_STEP_ASSIGNED);
    assert_string_equal(d->summary, "rule returning -> lead_owner: assigned to cem");

    w->in.lead_owner = NULL; /* a lead that never had an owner */
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_step(d, 0, ROUTE_STEP_NO_OWNER);

    w->in.lead_owner = "nobody";
    assert_step(decide(w), 0, ROUTE_STEP_UNKNOWN_REP);

    w->in.lead_owner = "cem";
    w->reps[rep_of(w, "cem")].active = false; /* left the team */
    d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_step(d, 0, ROUTE_STEP_UNAVAILABLE);
    assert_int_equal(d->trace[0].eligibility, INELIGIBLE_INACTIVE);
    world_free(w);
}

static void test_pool_without_eligible_member(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "emea", STRATEGY_ROUND_ROBIN, "ab");
    add_pool(w, "world", STRATEGY_ROUND_ROBIN, "cd");
    struct routing_rule *emea =
        add_rule(w, "emea", "region == \"EMEA\"", ROUTE_TO_POOL, "emea", ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_POOL, "world", ROUTE_FALLBACK_HOLD);
    set_country(w, "FR");
    rt_of(w, "ana")->status = REP_AWAY;
    rt_of(w, "ben")->status = REP_OFFLINE;

    /* an earlier state, to see that a hold leaves it as it was */
    rt_of(w, "ana")->status = REP_AVAILABLE;
    assert_string_equal(decide(w)->rep_id, "ana");
    rt_of(w, "ana")->status = REP_AWAY;
    uint64_t decisions = w->state[0].decisions;

    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "no_eligible_member");
    assert_int_equal(d->rule, 0);
    assert_int_equal(d->pool, 0);
    assert_step(d, 0, ROUTE_STEP_HELD);
    assert_int_equal(d->n_candidates, 2);
    assert_candidate(w, "ana", INELIGIBLE_AWAY);
    assert_candidate(w, "ben", INELIGIBLE_OFFLINE);
    assert_true(d->has_strategy);
    assert_int_equal(d->strategy.chosen, -1);
    assert_int_equal(d->strategy.after.decisions, decisions);
    assert_string_equal(d->strategy.after.last_rep_id, "ana");
    assert_string_equal(d->summary, "rule emea -> pool emea: no eligible member: held");

    /* next_rule: the next rule decides, and the pool's state is not touched */
    emea->fallback = ROUTE_FALLBACK_NEXT_RULE;
    int state_calls = w->state_calls;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "cem");
    assert_int_equal(d->rule, 1);
    assert_int_equal(d->pool, 1);
    assert_step(d, 0, ROUTE_STEP_UNAVAILABLE);
    assert_int_equal(d->trace[0].rep, -1);
    assert_step(d, 1, ROUTE_STEP_ASSIGNED);
    assert_int_equal(d->n_candidates, 2); /* the world pool's */
    assert_int_equal(w->state_calls, state_calls + 1);
    assert_int_equal(w->state[0].decisions, decisions);

    /* a pool without members */
    w->pools[0].n_members = 0;
    emea->fallback = ROUTE_FALLBACK_HOLD;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "no_eligible_member");
    assert_int_equal(d->n_candidates, 0);
    world_free(w);
}

static void test_no_rule_places_the_lead(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "emea", STRATEGY_ROUND_ROBIN, "ab");
    add_rule(w, "returning", NULL, ROUTE_TO_LEAD_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "emea", NULL, ROUTE_TO_POOL, "emea", ROUTE_FALLBACK_NEXT_RULE);
    set_country(w, "DE");
    rt_of(w, "ana")->status = REP_OFFLINE;
    rt_of(w, "ben")->status = REP_OFFLINE;
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "no_rule");
    assert_int_equal(d->rule, -1);
    assert_int_equal(d->pool, -1);
    assert_int_equal(d->n_trace, 2);
    assert_step(d, 0, ROUTE_STEP_NO_OWNER);
    assert_step(d, 1, ROUTE_STEP_UNAVAILABLE);
    assert_false(d->has_strategy);
    assert_int_equal(d->n_candidates, 0);
    assert_string_equal(d->summary, "no rule placed the lead: held");

    /* no rules at all is the caller's mistake */
    w->cfg.n_rules = 0;
    assert_int_equal(try_decide(w), BT_EINVAL);
    assert_true(strlen(w->err.message) > 0);
    w->cfg.n_rules = 2;
    world_free(w);
}

/* The trace: every rule tried, in order, with what happened there. The lead
 * comes through score_fill_lead as the engine fills it. */
static void test_trace(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "dach", STRATEGY_ROUND_ROBIN, "ab");
    add_pool(w, "emea", STRATEGY_FAIR_SHARE, "ad");
    add_rule(w, "returning", NULL, ROUTE_TO_LEAD_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "key-accounts", NULL, ROUTE_TO_ACCOUNT_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "vip", "score >= 90 and grade starts_with \"A\"", ROUTE_TO_REP, "cem",
             ROUTE_FALLBACK_HOLD);
    add_rule(w, "german", "country in [\"DE\", \"AT\", \"CH\"] and employees >= 200", ROUTE_TO_POOL,
             "dach", ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "emea", "region == \"EMEA\" and industry != \"education\"", ROUTE_TO_POOL, "emea",
             ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_HOLD, NULL, ROUTE_FALLBACK_HOLD);

    struct lead lead = {.employees = 450, .fields_json = "{}"};
    lead.attr[LEAD_COUNTRY] = "AT";
    lead.attr[LEAD_INDUSTRY] = "Software";
    lead.attr[LEAD_EMAIL] = "eva@example.at";
    struct score_result *scores = xcalloc(1, sizeof(*scores));
    scores->total = 72;
    scores->fit = 50;
    scores->engagement = 22;
    snprintf(scores->grade, sizeof(scores->grade), "B2");
    set_lead(w, &lead, scores);
    rt_of(w, "ana")->status = REP_AWAY;
    rt_of(w, "ben")->status = REP_AWAY;

    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_ASSIGNED);
    assert_string_equal(d->rep_id, "dora");
    assert_int_equal(d->rule, 4);
    assert_int_equal(d->pool, 1);
    assert_int_equal(d->n_trace, 5);
    assert_step(d, 0, ROUTE_STEP_NO_OWNER);
    assert_step(d, 1, ROUTE_STEP_NO_ACCOUNT);
    assert_step(d, 2, ROUTE_STEP_NOT_MATCHED);
    assert_step(d, 3, ROUTE_STEP_UNAVAILABLE);
    assert_step(d, 4, ROUTE_STEP_ASSIGNED);
    for (size_t i = 0; i < d->n_trace; i++)
        assert_int_equal(d->trace[i].rep, -1); /* no single rep was the target */
    assert_candidate(w, "ana", INELIGIBLE_AWAY);
    assert_candidate(w, "dora", ELIGIBLE);
    assert_string_equal(d->summary, "rule emea -> pool emea: fair_share chose dora");

    /* the same lead, scored higher and in education: the VIP rule */
    scores->total = 93;
    snprintf(scores->grade, sizeof(scores->grade), "A1");
    lead.attr[LEAD_INDUSTRY] = "Education";
    set_lead(w, &lead, scores);
    d = decide(w);
    assert_string_equal(d->rep_id, "cem");
    assert_int_equal(d->n_trace, 3);
    /* and without scores (missing values never match): not VIP, not EMEA */
    set_lead(w, &lead, NULL);
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_int_equal(d->rule, 5);
    assert_int_equal(d->n_trace, 6);
    assert_step(d, 2, ROUTE_STEP_NOT_MATCHED);
    assert_step(d, 3, ROUTE_STEP_UNAVAILABLE);
    assert_step(d, 4, ROUTE_STEP_NOT_MATCHED);
    assert_step(d, 5, ROUTE_STEP_HELD);
    free(scores);
    world_free(w);
}

static void test_rule_languages_and_skills(void **unused)
{
    (void)unused;
    static const char *const en[] = {"en"}, *const de_en[] = {"de", "en"}, *const de[] = {"de"};
    static const char *const enterprise[] = {"enterprise"};
    struct world *w = team();
    w->reps[0].languages = en; /* ana */
    w->reps[0].n_languages = 1;
    w->reps[1].languages = de_en; /* ben */
    w->reps[1].n_languages = 2;
    w->reps[2].languages = de; /* cem */
    w->reps[2].n_languages = 1;
    w->reps[3].languages = de_en; /* dora */
    w->reps[3].n_languages = 2;
    w->reps[3].skills = enterprise;
    w->reps[3].n_skills = 1;
    add_pool(w, "support", STRATEGY_ROUND_ROBIN, "abcd");
    struct routing_rule *german = add_rule(w, "german-enterprise", "country == \"DE\"",
                                           ROUTE_TO_POOL, "support", ROUTE_FALLBACK_HOLD);
    german->languages = de;
    german->n_languages = 1;
    german->skills = enterprise;
    german->n_skills = 1;
    struct routing_rule *direct =
        add_rule(w, "direct", "country == \"CH\"", ROUTE_TO_REP, "ana", ROUTE_FALLBACK_HOLD);
    direct->languages = de;
    direct->n_languages = 1;
    struct routing_rule *both =
        add_rule(w, "bilingual", NULL, ROUTE_TO_POOL, "support", ROUTE_FALLBACK_HOLD);
    both->languages = de_en;
    both->n_languages = 2;

    set_country(w, "DE");
    const struct route_decision *d = decide(w);
    assert_string_equal(d->rep_id, "dora");
    assert_candidate(w, "ana", INELIGIBLE_LANGUAGE);
    assert_candidate(w, "ben", INELIGIBLE_SKILL);
    assert_candidate(w, "cem", INELIGIBLE_SKILL);
    assert_candidate(w, "dora", ELIGIBLE);

    set_country(w, "CH");
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_string_equal(d->hold_reason, "rep_unavailable");
    assert_int_equal(d->trace[1].eligibility, INELIGIBLE_LANGUAGE);

    set_country(w, "FR");
    d = decide(w);
    assert_candidate(w, "ana", INELIGIBLE_LANGUAGE);
    assert_candidate(w, "ben", ELIGIBLE);
    assert_candidate(w, "cem", INELIGIBLE_LANGUAGE);
    assert_candidate(w, "dora", ELIGIBLE);
    world_free(w);
}

/* Pool settings reach eligibility: out_of_hours, match_territory, the lead's exclusions. */
static void test_pool_settings(void **unused)
{
    (void)unused;
    static const char *const dach[] = {"DE", "AT", "CH"}, *const emea[] = {"EMEA"},
                             *const na[] = {"NA"};
    struct world *w = world_new();
    add_rep(w, office_rep("ana", berlin));
    add_rep(w, plain_rep("ben", berlin));
    add_rep(w, plain_rep("cem", new_york));
    add_rep(w, plain_rep("dora", utc));
    w->reps[0].territories = dach;
    w->reps[0].n_territories = 3;
    w->reps[1].territories = emea;
    w->reps[1].n_territories = 1;
    w->reps[2].territories = na;
    w->reps[2].n_territories = 1;
    struct routing_pool *night = add_pool(w, "night", STRATEGY_ROUND_ROBIN, "a");
    night->out_of_hours = true;
    struct routing_pool *terr = add_pool(w, "territories", STRATEGY_ROUND_ROBIN, "abcd");
    terr->match_territory = true;
    add_rule(w, "direct", "source == \"direct\"", ROUTE_TO_REP, "ana", ROUTE_FALLBACK_HOLD);
    add_rule(w, "night", "source == \"night\"", ROUTE_TO_POOL, "night", ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_POOL, "territories", ROUTE_FALLBACK_HOLD);
    w->in.now = T("2026-06-13T20:00:00Z"); /* Saturday evening */

    set_country(w, "FR");
    set_text(w, "source", "direct");
    const struct route_decision *d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_int_equal(d->candidates[0].eligibility, INELIGIBLE_OUTSIDE_HOURS);
    set_text(w, "source", "night");
    d = decide(w);
    assert_string_equal(d->rep_id, "ana"); /* the same rep, through the out_of_hours pool */

    w->in.now = T(WED_10_BERLIN); /* ana works now */
    set_text(w, "source", "web");
    d = decide(w);
    assert_candidate(w, "ana", INELIGIBLE_TERRITORY);
    assert_candidate(w, "ben", ELIGIBLE);
    assert_candidate(w, "cem", INELIGIBLE_TERRITORY);
    assert_candidate(w, "dora", ELIGIBLE);
    assert_string_equal(d->rep_id, "ben");

    set_country(w, "CA"); /* region NA */
    set_text(w, "source", "web");
    decide(w);
    assert_candidate(w, "ana", INELIGIBLE_TERRITORY);
    assert_candidate(w, "ben", INELIGIBLE_TERRITORY);
    assert_candidate(w, "cem", ELIGIBLE);

    static const char *const excluded[] = {"cem", "dora"};
    w->in.excluded = excluded;
    w->in.n_excluded = 2;
    d = decide(w);
    assert_int_equal(d->result, ROUTE_HELD);
    assert_candidate(w, "cem", INELIGIBLE_EXCLUDED);
    assert_candidate(w, "dora", INELIGIBLE_EXCLUDED);

    terr->match_territory = false;
    w->in.n_excluded = 0;
    decide(w);
    assert_candidate(w, "ana", ELIGIBLE);
    assert_candidate(w, "ben", ELIGIBLE);
    w->in.now = T("2026-06-13T20:00:00Z");
    decide(w);
    assert_candidate(w, "ana", INELIGIBLE_OUTSIDE_HOURS);
    world_free(w);
}

/* Callback failures, a full arena and a corrupt pool state are errors, not decisions. */
static void test_errors(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "emea", STRATEGY_WEIGHTED, "ab");
    add_rule(w, "owner", NULL, ROUTE_TO_ACCOUNT_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "emea", NULL, ROUTE_TO_POOL, "emea", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");

    w->fail_runtime = BT_ESTORE;
    assert_int_equal(try_decide(w), BT_ESTORE);
    assert_string_equal(w->err.message, "injected runtime failure");
    w->in.account_id = "acc-1";
    w->in.account_owner = "cem";
    assert_int_equal(try_decide(w), BT_ESTORE); /* from the owner rule too */
    w->fail_runtime = BT_OK;

    w->fail_state = BT_EIO;
    assert_int_equal(try_decide(w), BT_OK); /* cem decides: no pool state needed */
    w->in.account_id = NULL;
    assert_int_equal(try_decide(w), BT_EIO);
    w->fail_state = BT_OK;

    /* a corrupt state: the same rep twice */
    struct pool_state_entry twice[] = {{"ana", 0, 0, 1}, {"ana", 0, 0, 1}};
    w->state[0] = (struct pool_state){.strategy = STRATEGY_WEIGHTED,
                                      .updated_at = w->in.now - 1000,
                                      .decisions = 2,
                                      .entries = twice,
                                      .n_entries = 2};
    w->has_state[0] = true;
    assert_int_equal(try_decide(w), BT_EINVAL);
    w->has_state[0] = false;

    /* an arena too small for the decision */
    w->arena.limit = 64;
    assert_int_equal(try_decide(w), BT_ETOOBIG);
    w->arena.limit = 0;

    /* without callbacks every rep and pool is fresh */
    w->in.rep_runtime = NULL;
    w->in.pool_state = NULL;
    assert_string_equal(decide(w)->rep_id, "ana");
    world_free(w);
}

/* ---- pool decisions through the strategies ------------------------------------------------- */

static void test_round_robin_fed_back(void **unused)
{
    (void)unused;
    struct world *w = team();
    add_pool(w, "p", STRATEGY_ROUND_ROBIN, "abc");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    EXPECT_RUN(w, "abcabc");
    assert_int_equal(w->state[0].strategy, STRATEGY_ROUND_ROBIN);
    assert_string_equal(w->state[0].last_rep_id, "cem");
    assert_int_equal(w->state[0].decisions, 6);
    /* `before` of the last decision is the state the one before wrote */
    assert_string_equal(w->d.strategy.before.last_rep_id, "ben");
    /* a member away is skipped and takes its turn again on return */
    rt_of(w, "ben")->status = REP_AWAY;
    EXPECT_RUN(w, "acac");
    rt_of(w, "ben")->status = REP_AVAILABLE;
    EXPECT_RUN(w, "abc");
    /* without the state fed back, every lead starts the rotation afresh */
    w->feed_back = false;
    w->has_state[0] = false;
    EXPECT_RUN(w, "aaa");
    world_free(w);
}

static void expect_shares(enum strategy_kind kind, const double *weights, int leads,
                          const int *want)
{
    struct world *w = team();
    for (int i = 0; i < 3; i++)
        w->reps[i].weight = weights[i];
    struct routing_pool *p = add_pool(w, "p", kind, "abc");
    p->absence = ABSENCE_CATCH_UP;
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    int got[3] = {0};
    for (int i = 0; i < leads; i++) {
        const struct route_decision *d = decide(w);
        assert_int_equal(d->result, ROUTE_ASSIGNED);
        got[d->rep]++;
        w->in.now += 1000; /* 600 to 3000 s: one window */
    }
    for (int i = 0; i < 3; i++) {
        if (got[i] != want[i])
            fail_msg("%s: %s got %d of %d leads, expected %d", strategy_name(kind), w->reps[i].id,
                     got[i], leads, want[i]);
        for (size_t k = 0; k < w->state[0].n_entries; k++)
            if (strcmp(w->state[0].entries[k].rep_id, w->reps[i].id) == 0)
                assert_int_equal(w->state[0].entries[k].assigned, want[i]);
    }
    assert_int_equal(w->state[0].decisions, leads);
    world_free(w);
}

static void test_equal_shares(void **unused)
{
    (void)unused;
    static const double equal[] = {1, 1, 1};
    static const int thousand[] = {1000, 1000, 1000};
    expect_shares(STRATEGY_ROUND_ROBIN, equal, 3000, thousand);
    expect_shares(STRATEGY_WEIGHTED, equal, 3000, thousand);
    expect_shares(STRATEGY_FAIR_SHARE, equal, 3000, thousand);
}

static void test_weighted_shares(void **unused)
{
    (void)unused;
    static const double w321[] = {3, 2, 1};
    static const int want[] = {300, 200, 100};
    expect_shares(STRATEGY_WEIGHTED, w321, 600, want);
    expect_shares(STRATEGY_FAIR_SHARE, w321, 600, want);
    static const double halves[] = {1.5, 1, 0.5};
    expect_shares(STRATEGY_WEIGHTED, halves, 600, want);
}

/* A member away for six leads, then back: catch_up makes up the missed share
 * at once, no_catch_up goes on level with the others. */
static void test_fair_share_absence(void **unused)
{
    (void)unused;
    for (int policy = 0; policy < 2; policy++) {
        struct world *w = team();
        struct routing_pool *p = add_pool(w, "p", STRATEGY_FAIR_SHARE, "abc");
        p->absence = policy == 0 ? ABSENCE_CATCH_UP : ABSENCE_NO_CATCH_UP;
        add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
        set_country(w, "DE");
        EXPECT_RUN(w, "abc");
        rt_of(w, "ana")->status = REP_AWAY;
        EXPECT_RUN(w, "bcbcbc");
        assert_candidate(w, "ana", INELIGIBLE_AWAY);
        assert_int_equal(w->d.strategy.notes[0].verdict, STRATEGY_INELIGIBLE);
        assert_int_equal(w->d.strategy.notes[0].ineligible_reason, INELIGIBLE_AWAY);
        rt_of(w, "ana")->status = REP_AVAILABLE;
        if (p->absence == ABSENCE_CATCH_UP)
            EXPECT_RUN(w, "aaaabcabc");
        else
            EXPECT_RUN(w, "abcabcabc");
        world_free(w);
    }
}

/* fair_share starts a new window at midnight in the pool's zone. */
static void test_fair_share_window_in_pool_zone(void **unused)
{
    (void)unused;
    struct world *w = team();
    struct routing_pool *p = add_pool(w, "p", STRATEGY_FAIR_SHARE, "ab");
    p->window = POOL_WINDOW_DAY;
    p->tz = berlin;
    p->absence = ABSENCE_CATCH_UP;
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    w->in.now = T("2026-10-24T21:00:00Z"); /* 23:00 CEST */
    rt_of(w, "ben")->status = REP_AWAY;
    EXPECT_RUN(w, "aaaa"); /* ben is owed 2 */
    assert_instant(w->state[0].window_start, T("2026-10-23T22:00:00Z"));
    rt_of(w, "ben")->status = REP_AVAILABLE;
    w->in.now = T("2026-10-24T21:59:59Z");
    EXPECT_RUN(w, "b"); /* still owed */
    assert_int_equal(w->d.strategy.flags & STRATEGY_WINDOW_ROLLED, 0);
    w->in.now = T("2026-10-24T22:00:00Z"); /* midnight in Berlin: a new day, 25 hours long */
    EXPECT_RUN(w, "a");                    /* the debt is gone: config order */
    assert_true(w->d.strategy.flags & STRATEGY_WINDOW_ROLLED);
    assert_instant(w->state[0].window_start, T("2026-10-24T22:00:00Z"));
    w->in.now = T("2026-10-25T22:59:59Z");
    EXPECT_RUN(w, "b");
    assert_int_equal(w->d.strategy.flags & STRATEGY_WINDOW_ROLLED, 0);
    w->in.now = T("2026-10-25T23:00:00Z");
    EXPECT_RUN(w, "a");
    assert_true(w->d.strategy.flags & STRATEGY_WINDOW_ROLLED);
    world_free(w);
}

/* load_balanced reads open counts and capacities from the runtimes and the config. */
static void test_load_balanced_from_runtime(void **unused)
{
    (void)unused;
    struct world *w = team();
    for (int i = 0; i < 3; i++)
        w->reps[i].capacity = 10;
    add_pool(w, "p", STRATEGY_LOAD_BALANCED, "abc");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    rt_of(w, "ana")->open = 5;
    rt_of(w, "ben")->open = 2;
    rt_of(w, "cem")->open = 7;
    assert_string_equal(decide(w)->rep_id, "ben");
    rt_of(w, "ben")->open = 10; /* full: at capacity, not chosen */
    assert_string_equal(decide(w)->rep_id, "ana");
    assert_candidate(w, "ben", INELIGIBLE_AT_CAPACITY);
    /* same load: fewer assignments today wins (the rep's local day) */
    rt_of(w, "cem")->open = 5;
    int64_t day;
    routing_rep_periods(&w->reps[0], w->in.now, &day, NULL);
    rt_of(w, "ana")->day_start = day;
    rt_of(w, "ana")->day_count = 4;
    routing_rep_periods(&w->reps[2], w->in.now, &day, NULL);
    rt_of(w, "cem")->day_start = day;
    rt_of(w, "cem")->day_count = 1;
    assert_string_equal(decide(w)->rep_id, "cem");
    world_free(w);
}

/*
 * Changing a fair_share pool's window from week to month (or its zone) in
 * the configuration leaves a persisted state whose window starts after the
 * new window's start, written before now: a new window (window_rolled), not
 * "the clock went back".
 */
static void test_fair_share_window_change(void **unused)
{
    (void)unused;
    struct world *w = team();
    struct routing_pool *p = add_pool(w, "p", STRATEGY_FAIR_SHARE, "ab");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    w->in.now = T("2026-06-17T08:00:00Z"); /* week window starts Monday 2026-06-15 */
    EXPECT_RUN(w, "ab");
    p->window = POOL_WINDOW_MONTH; /* a reload: the window starts 2026-06-01 */
    bt_err rc = try_decide(w);
    struct bt_error err = w->err;
    world_free(w); /* before failing: the suite runs under LeakSanitizer */
    if (rc != BT_OK)
        fail_msg("after a change of window: %s: %s", bt_strerror(rc), err.message);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void expect_same_pool_state(const struct pool_state *a, const struct pool_state *b)
{
    assert_int_equal(a->strategy, b->strategy);
    if (a->last_rep_id || b->last_rep_id) {
        assert_non_null(a->last_rep_id);
        assert_non_null(b->last_rep_id);
        assert_string_equal(a->last_rep_id, b->last_rep_id);
    }
    assert_true(a->window_start == b->window_start);
    assert_true(a->updated_at == b->updated_at);
    assert_true(a->decisions == b->decisions);
    assert_int_equal(a->n_entries, b->n_entries);
    for (size_t i = 0; i < a->n_entries; i++) {
        assert_string_equal(a->entries[i].rep_id, b->entries[i].rep_id);
        assert_true(a->entries[i].pointer == b->entries[i].pointer);
        assert_true(a->entries[i].credit == b->entries[i].credit);
        assert_true(a->entries[i].assigned == b->entries[i].assigned);
    }
}

/* To JSON, to text, back to JSON and to a state: the same state, the same JSON. */
static void round_trip(const struct pool_state *s)
{
    json_t *j = pool_state_to_json(s);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    if (!back)
        fail_msg("%s: %s", text, jerr.text);
    struct arena a = ARENA_INIT;
    struct pool_state read;
    struct bt_error err = BT_ERROR_INIT;
    if (pool_state_from_json(back, &a, &read, &err) != BT_OK)
        fail_msg("%s: %s", text, err.message);
    expect_same_pool_state(s, &read);
    json_t *again = pool_state_to_json(&read);
    assert_true(json_equal(j, again));
    json_decref(again);
    json_decref(back);
    json_decref(j);
    free(text);
    arena_release(&a);
}

static void test_pool_state_round_trip(void **unused)
{
    (void)unused;
    struct pool_state fresh = POOL_STATE_INIT;
    round_trip(&fresh);

    struct pool_state_entry entries[] = {
        {"ana", INT64_MAX, INT64_MIN, (uint64_t)INT64_MAX},
        {"ben", STRATEGY_POINTER_MAX, -STRATEGY_POINTER_MAX, 0},
        {"cem", 0, -1, 1},
        {"dora.o'neil \"d\" \\ é", 1, INT64_MAX, 12345678901234LL},
    };
    struct pool_state s = {.strategy = STRATEGY_WEIGHTED,
                           .last_rep_id = "ben",
                           .window_start = T("2026-06-08T00:00:00Z"),
                           .updated_at = T("2026-06-10T08:00:00.123Z"),
                           .decisions = (uint64_t)INT64_MAX,
                           .entries = entries,
                           .n_entries = COUNT_OF(entries)};
    for (int k = STRATEGY_ROUND_ROBIN; k <= STRATEGY_FAIR_SHARE; k++) {
        s.strategy = (enum strategy_kind)k;
        round_trip(&s);
    }
    s.window_start = INT64_MIN;
    s.updated_at = INT64_MAX;
    s.last_rep_id = NULL;
    s.decisions = 0;
    round_trip(&s);

    /* the JSON itself: exact integers, null for no last rep */
    json_t *j = pool_state_to_json(&s);
    assert_string_equal(json_string_value(json_object_get(j, "strategy")), "fair_share");
    assert_true(json_is_null(json_object_get(j, "last_rep")));
    json_t *m0 = json_array_get(json_object_get(j, "members"), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "rep")), "ana");
    assert_true(json_integer_value(json_object_get(m0, "pointer")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(m0, "credit")) == INT64_MIN);
    json_decref(j);

    /* a state the strategies wrote round-trips too */
    struct world *w = team();
    add_pool(w, "p", STRATEGY_FAIR_SHARE, "abc");
    add_rule(w, "all", NULL, ROUTE_TO_POOL, "p", ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    w->reps[0].weight = 2.5;
    EXPECT_RUN(w, "abac");
    round_trip(&w->d.strategy.after);
    round_trip(&w->d.strategy.before);
    world_free(w);
}

static void test_pool_state_malformed(void **unused)
{
    (void)unused;
#define STATE(strategy, last, rest)                                                                \
    "{\"strategy\":" strategy ",\"last_rep\":" last ",\"window_start\":0,\"updated_at\":1,"        \
    "\"decisions\":2" rest "}"
#define GOOD_MEMBERS ",\"members\":[{\"rep\":\"ana\",\"pointer\":0,\"credit\":0,\"assigned\":2}]"
    static const char *const bad[] = {
        "[]",
        "null",
        "\"weighted\"",
        "{}",
        STATE("5", "null", GOOD_MEMBERS),
        STATE("\"zigzag\"", "null", GOOD_MEMBERS),
        STATE("\"Weighted\"", "null", GOOD_MEMBERS),
        STATE("\"weighted\"", "7", GOOD_MEMBERS),
        STATE("\"weighted\"", "[\"ana\"]", GOOD_MEMBERS),
        STATE("\"weighted\"", "null", ""),                  /* no members */
        STATE("\"weighted\"", "null", ",\"members\":{}"),   /* not an array */
        STATE("\"weighted\"", "null", ",\"members\":[5]"),  /* not an object */
        STATE("\"weighted\"", "null", ",\"members\":[{}]"), /* no rep */
        STATE("\"weighted\"", "null",
              ",\"members\":[{\"rep\":1,\"pointer\":0,\"credit\":0,"
              "\"assigned\":0}]"),
        STATE("\"weighted\"", "null",
              ",\"members\":[{\"rep\":\"ana\",\"pointer\":1.5,"
              "\"credit\":0,\"assigned\":0}]"),
        STATE("\"weighted\"", "null",
              ",\"members\":[{\"rep\":\"ana\",\"pointer\":0,"
              "\"credit\":\"0\",\"assigned\":0}]"),
        STATE("\"weighted\"", "null",
              ",\"members\":[{\"rep\":\"ana\",\"pointer\":0,"
              "\"credit\":0}]"),
        STATE("\"weighted\"", "null",
              ",\"members\":[{\"rep\":\"ana\",\"pointer\":0,"
              "\"credit\":0,\"assigned\":-3}]"),
        "{\"strategy\":\"weighted\",\"last_rep\":null,\"window_start\":\"0\",\"updated_at\":1,"
        "\"decisions\":2" GOOD_MEMBERS "}",
        "{\"strategy\":\"weighted\",\"last_rep\":null,\"window_start\":0,\"updated_at\":1.0,"
        "\"decisions\":2" GOOD_MEMBERS "}",
        "{\"strategy\":\"weighted\",\"last_rep\":null,\"window_start\":0,\"updated_at\":1,"
        "\"decisions\":-1" GOOD_MEMBERS "}",
        "{\"strategy\":\"weighted\",\"last_rep\":null,\"window_start\":0,\"updated_at\":"
        "1" GOOD_MEMBERS "}",
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        json_error_t jerr;
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, &jerr);
        if (!j)
            fail_msg("test JSON %zu does not parse: %s", i, jerr.text);
        struct arena a = ARENA_INIT;
        struct pool_state s;
        struct bt_error err = BT_ERROR_INIT;
        bt_err rc = pool_state_from_json(j, &a, &s, &err);
        if (rc != BT_EINVAL)
            fail_msg("accepted (%s): %s", bt_strerror(rc), bad[i]);
        assert_true(strlen(err.message) > 0);
        json_decref(j);
        arena_release(&a);
    }
    /* the well-formed one, with and without last_rep, is read */
    static const char *const good[] = {
        STATE("\"weighted\"", "null", GOOD_MEMBERS),
        STATE("\"round_robin\"", "\"ana\"", GOOD_MEMBERS),
        "{\"strategy\":\"unset\",\"window_start\":0,\"updated_at\":0,\"decisions\":0,"
        "\"members\":[]}",
    };
    for (size_t i = 0; i < COUNT_OF(good); i++) {
        json_error_t jerr;
        json_t *j = json_loads(good[i], 0, &jerr);
        assert_non_null(j);
        struct arena a = ARENA_INIT;
        struct pool_state s;
        struct bt_error err = BT_ERROR_INIT;
        if (pool_state_from_json(j, &a, &s, &err) != BT_OK)
            fail_msg("%s: %s", good[i], err.message);
        json_decref(j);
        arena_release(&a);
    }
    /* more members than a pool may have */
    json_t *j = json_object();
    json_object_set_new(j, "strategy", json_string("weighted"));
    json_object_set_new(j, "window_start", json_integer(0));
    json_object_set_new(j, "updated_at", json_integer(0));
    json_object_set_new(j, "decisions", json_integer(0));
    json_t *members = json_array();
    for (int i = 0; i <= STRATEGY_MEMBERS_MAX; i++) {
        char id[16];
        snprintf(id, sizeof(id), "rep%d", i);
        json_array_append_new(members, json_pack("{s:s, s:i, s:i, s:i}", "rep", id, "pointer", 0,
                                                 "credit", 0, "assigned", 0));
    }
    json_object_set_new(j, "members", members);
    struct arena a = ARENA_INIT;
    struct pool_state s;
    assert_int_equal(pool_state_from_json(j, &a, &s, NULL), BT_EINVAL);
    json_decref(j);
    arena_release(&a);
#undef STATE
#undef GOOD_MEMBERS
}

static void expect_keys(const json_t *o, const char *const *keys, size_t n)
{
    assert_true(json_is_object(o));
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(o, keys[i]))
            fail_msg("no key %s", keys[i]);
}

static void test_decision_json(void **unused)
{
    (void)unused;
    struct world *w = team();
    w->reps[0].capacity = 15;
    w->reps[0].daily_cap = 5;
    w->reps[1].capacity = 0; /* load_balanced: "full" */
    struct routing_pool *p = add_pool(w, "emea", STRATEGY_FAIR_SHARE, "ab");
    p->window = POOL_WINDOW_WEEK;
    add_pool(w, "lb", STRATEGY_LOAD_BALANCED, "ab");
    add_rule(w, "returning", NULL, ROUTE_TO_LEAD_OWNER, NULL, ROUTE_FALLBACK_NEXT_RULE);
    add_rule(w, "vip", "score >= 90", ROUTE_TO_REP, "cem", ROUTE_FALLBACK_HOLD);
    add_rule(w, "load", "source == \"lb\"", ROUTE_TO_POOL, "lb", ROUTE_FALLBACK_HOLD);
    add_rule(w, "german", "country == \"DE\"", ROUTE_TO_POOL, "emea", ROUTE_FALLBACK_HOLD);
    add_rule(w, "default", NULL, ROUTE_TO_HOLD, NULL, ROUTE_FALLBACK_HOLD);
    set_country(w, "DE");
    int64_t day;
    routing_rep_periods(&w->reps[0], w->in.now, &day, NULL);
    rt_of(w, "ana")->open = 3;
    rt_of(w, "ana")->day_start = day;
    rt_of(w, "ana")->day_count = 1;
    rt_of(w, "ben")->status = REP_AWAY;

    /* a pool decided */
    const struct route_decision *d = decide(w);
    json_t *j = route_decision_json(&w->cfg, d);
    static const char *const top[] = {"result",  "rep",   "pool",       "rule",    "hold_reason",
                                      "summary", "rules", "candidates", "strategy"};
    expect_keys(j, top, COUNT_OF(top));
    assert_string_equal(json_string_value(json_object_get(j, "result")), "assigned");
    assert_string_equal(json_string_value(json_object_get(j, "rep")), "ana");
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "emea");
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "german");
    assert_true(json_is_null(json_object_get(j, "hold_reason")));
    assert_string_equal(json_string_value(json_object_get(j, "summary")),
                        "rule german -> pool emea: fair_share chose ana");
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), 4);
    static const char *const rule_keys[] = {"rule", "target", "when", "matched", "step"};
    static const char *const names[] = {"returning", "vip", "load", "german"};
    static const char *const targets[] = {"lead_owner", "rep:cem", "pool:lb", "pool:emea"};
    static const char *const steps[] = {"no_owner", "not_matched", "not_matched", "assigned"};
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(rules, i);
        expect_keys(r, rule_keys, COUNT_OF(rule_keys));
        assert_string_equal(json_string_value(json_object_get(r, "rule")), names[i]);
        assert_string_equal(json_string_value(json_object_get(r, "target")), targets[i]);
        assert_string_equal(json_string_value(json_object_get(r, "step")), steps[i]);
        assert_int_equal(json_is_true(json_object_get(r, "matched")), i == 0 || i == 3);
        assert_null(json_object_get(r, "rep")); /* no single rep tried */
    }
    assert_true(json_is_null(json_object_get(json_array_get(rules, 0), "when")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 3), "when")),
                        "country == \"DE\"");
    json_t *cands = json_object_get(j, "candidates");
    assert_int_equal(json_array_size(cands), 2);
    static const char *const cand_keys[] = {"rep",        "eligible", "reason",    "open",
                                            "capacity",   "today",    "daily_cap", "this_week",
                                            "weekly_cap", "weight",   "verdict",   "value"};
    json_t *ana = json_array_get(cands, 0), *ben = json_array_get(cands, 1);
    expect_keys(ana, cand_keys, COUNT_OF(cand_keys));
    expect_keys(ben, cand_keys, COUNT_OF(cand_keys));
    assert_string_equal(json_string_value(json_object_get(ana, "rep")), "ana");
    assert_true(json_is_true(json_object_get(ana, "eligible")));
    assert_string_equal(json_string_value(json_object_get(ana, "reason")), "eligible");
    assert_int_equal(json_integer_value(json_object_get(ana, "open")), 3);
    assert_int_equal(json_integer_value(json_object_get(ana, "capacity")), 15);
    assert_int_equal(json_integer_value(json_object_get(ana, "today")), 1);
    assert_int_equal(json_integer_value(json_object_get(ana, "daily_cap")), 5);
    assert_int_equal(json_integer_value(json_object_get(ana, "this_week")), 0);
    assert_true(json_is_null(json_object_get(ana, "weekly_cap"))); /* unlimited */
    assert_string_equal(json_string_value(json_object_get(ana, "verdict")), "chosen");
    assert_true(json_is_false(json_object_get(ben, "eligible")));
    assert_string_equal(json_string_value(json_object_get(ben, "reason")), "away");
    assert_string_equal(json_string_value(json_object_get(ben, "verdict")), "ineligible");
    assert_true(json_is_true(json_object_get(ana, "joined"))); /* a fresh pool */
    json_t *st = json_object_get(j, "strategy");
    static const char *const st_keys[] = {"name",   "window", "absence", "flags",
                                          "before", "after",  "removed"};
    expect_keys(st, st_keys, COUNT_OF(st_keys));
    assert_string_equal(json_string_value(json_object_get(st, "name")), "fair_share");
    assert_string_equal(json_string_value(json_object_get(st, "window")), "week");
    assert_string_equal(json_string_value(json_object_get(st, "absence")), "no_catch_up");
    /* before and after read back as the states the decision had */
    struct arena a = ARENA_INIT;
    struct pool_state before, after;
    assert_int_equal(pool_state_from_json(json_object_get(st, "before"), &a, &before, NULL), BT_OK);
    assert_int_equal(pool_state_from_json(json_object_get(st, "after"), &a, &after, NULL), BT_OK);
    expect_same_pool_state(&before, &d->strategy.before);
    expect_same_pool_state(&after, &d->strategy.after);
    assert_int_equal(after.decisions, 1);
    arena_release(&a);
    json_decref(j);

    /* the second decision's before is the first's after; under no_catch_up
     * ben's absence counted as his share received, so config order decides */
    rt_of(w, "ben")->status = REP_AVAILABLE;
    d = decide(w);
    j = route_decision_json(&w->cfg, d);
    assert_string_equal(json_string_value(json_object_get(j, "rep")), "ana");
    st = json_object_get(j, "strategy");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "before"), "decisions")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "after"), "decisions")),
                     2);
    json_decref(j);

    /* a rep target, held: no pool, no strategy, the rep in the rule's entry */
    set_number(w, "score", 95);
    rt_of(w, "cem")->status = REP_OFFLINE;
    d = decide(w);
    j = route_decision_json(&w->cfg, d);
    assert_string_equal(json_string_value(json_object_get(j, "result")), "held");
    assert_true(json_is_null(json_object_get(j, "rep")));
    assert_true(json_is_null(json_object_get(j, "pool")));
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "vip");
    assert_string_equal(json_string_value(json_object_get(j, "hold_reason")), "rep_unavailable");
    assert_null(json_object_get(j, "strategy"));
    json_t *vip = json_array_get(json_object_get(j, "rules"), 1);
    assert_string_equal(json_string_value(json_object_get(vip, "step")), "held");
    assert_string_equal(json_string_value(json_object_get(vip, "rep")), "cem");
    assert_string_equal(json_string_value(json_object_get(vip, "eligibility")), "offline");
    assert_string_equal(json_string_value(json_object_get(vip, "when")), "score >= 90");
    cands = json_object_get(j, "candidates");
    assert_int_equal(json_array_size(cands), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cands, 0), "reason")),
                        "offline");
    assert_null(json_object_get(json_array_get(cands, 0), "verdict")); /* no strategy */
    json_decref(j);

    /* capacity 0 in a load_balanced pool: the value is "full", not a number */
    set_number(w, "score", 10);
    set_text(w, "source", "lb");
    d = decide(w);
    j = route_decision_json(&w->cfg, d);
    assert_string_equal(json_string_value(json_object_get(j, "rep")), "ana");
    ben = json_array_get(json_object_get(j, "candidates"), 1);
    assert_string_equal(json_string_value(json_object_get(ben, "reason")), "at_capacity");
    assert_string_equal(json_string_value(json_object_get(ben, "value")), "full");
    assert_null(json_object_get(json_object_get(j, "strategy"), "window")); /* fair_share only */
    json_decref(j);

    /* held by a rule, and by no rule */
    set_text(w, "source", "web");
    set_country(w, "FR");
    d = decide(w);
    j = route_decision_json(&w->cfg, d);
    assert_string_equal(json_string_value(json_object_get(j, "hold_reason")), "rule");
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "default");
    assert_int_equal(json_array_size(json_object_get(j, "candidates")), 0);
    json_decref(j);
    w->cfg.n_rules = 4; /* without the default */
    d = decide(w);
    j = route_decision_json(&w->cfg, d);
    assert_string_equal(json_string_value(json_object_get(j, "hold_reason")), "no_rule");
    assert_true(json_is_null(json_object_get(j, "rule")));
    assert_string_equal(json_string_value(json_object_get(j, "summary")),
                        "no rule placed the lead: held");
    json_decref(j);
    w->cfg.n_rules = 5;
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_eligible_baseline),
        cmocka_unit_test(test_inactive),
        cmocka_unit_test(test_excluded),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_away),
        cmocka_unit_test(test_away_until_past_is_available),
        cmocka_unit_test(test_time_off),
        cmocka_unit_test(test_holiday_in_rep_zone),
        cmocka_unit_test(test_outside_hours),
        cmocka_unit_test(test_holiday_in_out_of_hours_pool),
        cmocka_unit_test(test_daily_cap),
        cmocka_unit_test(test_weekly_cap),
        cmocka_unit_test(test_at_capacity),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_skill),
        cmocka_unit_test(test_territory),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_hours_across_dst_berlin),
        cmocka_unit_test(test_hours_across_dst_new_york),
        cmocka_unit_test(test_periods_on_dst_days),
        cmocka_unit_test(test_periods_brute_force),
        cmocka_unit_test(test_window_start),
        cmocka_unit_test(test_pool_members_in_several_zones),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_rule_without_when_matches),
        cmocka_unit_test(test_target_hold),
        cmocka_unit_test(test_target_rep),
        cmocka_unit_test(test_account_owner),
        cmocka_unit_test(test_lead_owner),
        cmocka_unit_test(test_pool_without_eligible_member),
        cmocka_unit_test(test_no_rule_places_the_lead),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_rule_languages_and_skills),
        cmocka_unit_test(test_pool_settings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_robin_fed_back),
        cmocka_unit_test(test_equal_shares),
        cmocka_unit_test(test_weighted_shares),
        cmocka_unit_test(test_fair_share_absence),
        cmocka_unit_test(test_fair_share_window_in_pool_zone),
        cmocka_unit_test(test_load_balanced_from_runtime),
        cmocka_unit_test(test_fair_share_window_change),
        cmocka_unit_test(test_pool_state_round_trip),
        cmocka_unit_test(test_pool_state_malformed),
        cmocka_unit_test(test_decision_json),
    };
    return cmocka_run_group_tests(tests, zones_setup, zones_teardown);
}
