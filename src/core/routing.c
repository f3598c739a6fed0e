/*
 * routing.c - routing rules, eligibility and the decision (see routing.h).
 */
#include "core/routing.h"

#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "unknown";
}

static bool parse_name(const char *const *names, size_t n, const char *s, unsigned *out)
{
    if (!s)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = (unsigned)i;
            return true;
        }
    }
    return false;
}

static const char *const window_names[] = {"day", "week", "month"};
static const char *const target_names[] = {"pool", "rep", "account_owner", "lead_owner", "hold"};
static const char *const fallback_names[] = {"hold", "next_rule"};
static const char *const status_names[] = {"available", "away", "offline"};
static const char *const eligibility_names[] = {
    "eligible",      "inactive",  "excluded",   "offline",     "away",     "time_off", "holiday",
    "outside_hours", "daily_cap", "weekly_cap", "at_capacity", "language", "skill",    "territory",
};
_Static_assert(COUNT_OF(eligibility_names) == ELIGIBILITY_COUNT, "a name per eligibility");
static const char *const step_names[] = {"not_matched", "no_owner", "no_account", "unknown_rep",
                                         "unavailable", "assigned", "held"};

const char *pool_window_name(enum pool_window w)
{
    return name_of(window_names, COUNT_OF(window_names), w);
}

bool pool_window_parse(const char *name, enum pool_window *out)
{
    unsigned i;
    if (!parse_name(window_names, COUNT_OF(window_names), name, &i))
        return false;
    *out = (enum pool_window)i;
    return true;
}

static const char *const offer_names[] = {"direct", "broadcast"};

const char *pool_offer_name(enum pool_offer o)
{
    return name_of(offer_names, COUNT_OF(offer_names), o);
}

bool pool_offer_parse(const char *name, enum pool_offer *out)
{
    unsigned i;
    if (!parse_name(offer_names, COUNT_OF(offer_names), name, &i))
        return false;
    *out = (enum pool_offer)i;
    return true;
}

const char *route_target_name(enum route_target t)
{
    return name_of(target_names, COUNT_OF(target_names), t);
}

const char *route_fallback_name(enum route_fallback f)
{
    return name_of(fallback_names, COUNT_OF(fallback_names), f);
}

const char *rep_status_name(enum rep_status s)
{
    return name_of(status_names, COUNT_OF(status_names), s);
}

bool rep_status_parse(const char *name, enum rep_status *out)
{
    unsigned i;
    if (!parse_name(status_names, COUNT_OF(status_names), name, &i))
        return false;
    *out = (enum rep_status)i;
    return true;
}

const char *eligibility_name(enum eligibility e)
{
    return name_of(eligibility_names, COUNT_OF(eligibility_names), e);
}

const char *route_step_name(enum route_step s)
{
    return name_of(step_names, COUNT_OF(step_names), s);
}

bool route_step_parse(const char *name, enum route_step *out)
{
    for (size_t i = 0; name && i < COUNT_OF(step_names); i++)
        if (!strcmp(step_names[i], name)) {
            *out = (enum route_step)i;
            return true;
        }
    return false;
}

long routing_find_rep(const struct routing_config *cfg, const char *id)
{
    if (!id)
        return -1;
    if (cfg->reps_by_id) {
        size_t lo = 0, hi = cfg->n_reps;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(cfg->reps[cfg->reps_by_id[mid]].id, id);
            if (c == 0)
                return (long)cfg->reps_by_id[mid];
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
    for (size_t i = 0; i < cfg->n_reps; i++)
        if (strcmp(cfg->reps[i].id, id) == 0)
            return (long)i;
    return -1;
}

void routing_sort_reps(const struct routing_rep *reps, size_t n, uint32_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    /* insertion sort: configurations hold hundreds of reps, loaded once */
    for (size_t i = 1; i < n; i++) {
        uint32_t v = order[i];
        size_t j = i;
        while (j > 0 && strcmp(reps[order[j - 1]].id, reps[v].id) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

long routing_find_pool(const struct routing_config *cfg, const char *id)
{
    if (!id)
        return -1;
    for (size_t i = 0; i < cfg->n_pools; i++)
        if (strcmp(cfg->pools[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* ---- periods ---- */

static int64_t local_midnight(const struct tz_table *tz, int64_t local_days)
{
    int64_t y;
    unsigned m, d;
    time_civil_from_days(local_days, &y, &m, &d);
    return tz_utc_of_local(tz, y, m, d, 0, TZ_EARLIER);
}

/*
 * Local midnight `days_back` days before the local day of `now`. Most of the
 * time the offset did not change since a day before that midnight, and it is
 * simply `now` minus the local time elapsed; otherwise (a change of offset in
 * between: a skipped or repeated midnight, a daylight saving day) the exact
 * calendar conversion decides.
 */
static int64_t midnight_before(const struct tz_table *tz, const struct tz_local_time *lt,
                               int64_t now, unsigned days_back)
{
    int64_t since = (int64_t)lt->minute_of_day * 60000 + lt->ms_of_minute +
                    (int64_t)days_back * WORKHOURS_DAY_MS;
    int64_t guess = now - since;
    if (tz_segment_of(tz, guess - WORKHOURS_DAY_MS) == tz_segment_of(tz, now))
        return guess;
    return local_midnight(tz, lt->local_days - (int64_t)days_back);
}

static void periods_of(const struct tz_table *tz, const struct tz_local_time *lt, int64_t now,
                       int64_t *day, int64_t *week)
{
    if (day)
        *day = midnight_before(tz, lt, now, 0);
    if (week)
        *week = midnight_before(tz, lt, now, lt->weekday);
}

void routing_rep_periods(const struct routing_rep *rep, int64_t now, int64_t *day_start,
                         int64_t *week_start)
{
    struct tz_local_time lt;
    tz_local(rep->tz, now, &lt);
    periods_of(rep->tz, &lt, now, day_start, week_start);
}

int64_t routing_day_count(const struct routing_rep *rep, const struct rep_runtime *rt, int64_t now)
{
    int64_t day;
    routing_rep_periods(rep, now, &day, NULL);
    return rt->day_start == day ? rt->day_count : 0;
}

int64_t routing_week_count(const struct routing_rep *rep, const struct rep_runtime *rt, int64_t now)
{
    int64_t week;
    routing_rep_periods(rep, now, NULL, &week);
    return rt->week_start == week ? rt->week_count : 0;
}

/* The first start of a working interval after `now` on the rep's wall
 * clock, within a week, or 0. A start in the hour repeated when the clocks
 * go back happens twice (at each offset, as workhours.h works it). Holidays
 * are not skipped: a start on a holiday is one more look at the queue,
 * never a missed one. */
static int64_t next_interval_start(const struct routing_rep *rep, const struct tz_local_time *lt,
                                   int64_t now)
{
    for (unsigned d = 0; d <= WEEKDAY_COUNT; d++) {
        unsigned weekday = (lt->weekday + d) % WEEKDAY_COUNT;
        int64_t y;
        unsigned m, day;
        time_civil_from_days(lt->local_days + (int64_t)d, &y, &m, &day);
        int64_t best = 0;
        for (unsigned i = 0; i < rep->hours.count[weekday]; i++) {
            unsigned minute = rep->hours.intervals[weekday][i].start_minute;
            int64_t at = tz_utc_of_local(rep->tz, y, m, day, minute, TZ_EARLIER);
            if (at <= now)
                at = tz_utc_of_local(rep->tz, y, m, day, minute, TZ_LATER);
            if (at > now && (!best || at < best))
                best = at;
        }
        if (best) /* every start of a later local day comes after this one's */
            return best;
    }
    return 0;
}

/* The next change of the zone's offset after `now` at which the rep starts
 * working although no interval starts (the clocks go back into one), or 0. */
static int64_t next_offset_resume(const struct routing_rep *rep, int64_t now)
{
    size_t seg = tz_segment_of(rep->tz, now);
    if (seg + 1 >= rep->tz->count)
        return 0;
    int64_t t = rep->tz->transits[seg + 1].utc_ms_from;
    if (t <= now || t - now > 8 * WORKHOURS_DAY_MS)
        return 0;
    bool before = workhours_is_working(&rep->hours, rep->tz, NULL, NULL, t - 1, NULL);
    bool after = workhours_is_working(&rep->hours, rep->tz, NULL, NULL, t, NULL);
    return !before && after ? t : 0;
}

/* The rep's own next boundary after `now` (routing_next_boundary), 0: none. */
static int64_t rep_next_boundary(const struct routing_rep *rep, int64_t now)
{
    if (!rep->active)
        return 0;
    struct tz_local_time lt;
    tz_local(rep->tz, now, &lt);
    int64_t at = 0;
    if (rep->has_hours) {
        at = next_interval_start(rep, &lt, now);
        int64_t change = next_offset_resume(rep, now);
        if (change > now && (!at || change < at))
            at = change;
    }
    /* holidays end, daily caps reset (and weekly ones, on Mondays) at midnight */
    if (rep->holidays.count > 0 || rep->daily_cap != ROUTING_UNLIMITED ||
        rep->weekly_cap != ROUTING_UNLIMITED) {
        int64_t midnight = local_midnight(rep->tz, lt.local_days + 1);
        if (midnight > now && (!at || midnight < at))
            at = midnight;
    }
    return at;
}

int64_t routing_next_boundary(const struct routing_config *cfg, int64_t now)
{
    int64_t next = 0;
    for (size_t i = 0; i < cfg->n_reps; i++) {
        int64_t at = rep_next_boundary(&cfg->reps[i], now);
        if (at && (!next || at < next))
            next = at;
    }
    return next;
}

size_t routing_reps_changed(const struct routing_config *cfg, int64_t from, int64_t to, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_reps && to > from; i++) {
        int64_t at = rep_next_boundary(&cfg->reps[i], from);
        if (at && at <= to)
            out[n++] = i;
    }
    return n;
}

int64_t routing_window_start(const struct routing_pool *pool, int64_t now)
{
    struct tz_local_time lt;
    tz_local(pool->tz, now, &lt);
    switch (pool->window) {
    case POOL_WINDOW_DAY:
        return local_midnight(pool->tz, lt.local_days);
    case POOL_WINDOW_WEEK:
        return local_midnight(pool->tz, lt.local_days - (int64_t)lt.weekday);
    case POOL_WINDOW_MONTH:
        return tz_utc_of_local(pool->tz, lt.year, lt.month, 1, 0, TZ_EARLIER);
    }
    return local_midnight(pool->tz, lt.local_days);
}

/* ---- eligibility ---- */

static bool has_all(const char *const *have, size_t n_have, const char *const *want, size_t n_want)
{
    for (size_t i = 0; i < n_want; i++) {
        bool found = false;
        for (size_t j = 0; j < n_have && !found; j++)
            found = strcmp(have[j], want[i]) == 0;
        if (!found)
            return false;
    }
    return true;
}

static bool covers(const struct routing_rep *rep, const char *country, const char *region)
{
    if (rep->n_territories == 0)
        return true; /* a rep without territories covers every one */
    for (size_t i = 0; i < rep->n_territories; i++) {
        const char *t = rep->territories[i];
        /* Territories are two-letter countries or the regions NA, LATAM,
         * APAC and EMEA; "NA" is North America, never Namibia (whose code
         * it shares): a territory that names a region matches regions. */
        bool is_region = t[0] && t[1] && (t[2] || (t[0] == 'N' && t[1] == 'A'));
        if (is_region ? region && !strcmp(t, region) : country && !strcmp(t, country))
            return true;
    }
    return false;
}

/* A rep's local time at `now`, converted once per zone: pools often mix the
 * zones of a region (Berlin, Vienna, Zurich, Berlin, ...). A small table
 * indexed by the zone table's address; a collision replaces the entry. */
#define ZONES_CACHED_BITS 7
#define ZONES_CACHED      (1u << ZONES_CACHED_BITS)

struct local_time {
    const struct tz_table *tz; /* NULL: empty */
    struct tz_local_time lt;
    int64_t day_start, week_start;
};

struct local_cache {
    struct local_time zones[ZONES_CACHED];
};

static void local_cache_clear(struct local_cache *c)
{
    for (unsigned i = 0; i < ZONES_CACHED; i++)
        c->zones[i].tz = NULL;
}

static const struct local_time *local_of(struct local_cache *c, const struct tz_table *tz,
                                         int64_t now)
{
    /* Fibonacci hashing of the table's address: allocations are regularly
     * spaced, so their low bits alone collide */
    uint64_t h = (uint64_t)(uintptr_t)tz * UINT64_C(0x9E3779B97F4A7C15);
    struct local_time *z = &c->zones[h >> (64 - ZONES_CACHED_BITS)];
    if (z->tz != tz) {
        z->tz = tz;
        tz_local(tz, now, &z->lt);
        periods_of(tz, &z->lt, now, &z->day_start, &z->week_start);
    }
    return z;
}

static enum eligibility eligibility_at(const struct routing_rep *rep, const struct rep_runtime *rt,
                                       const struct route_requirements *req, int64_t now,
                                       struct local_cache *cache)
{
    if (!rep->active)
        return INELIGIBLE_INACTIVE;
    for (size_t i = 0; i < req->n_excluded; i++)
        if (strcmp(req->excluded[i], rep->id) == 0)
            return INELIGIBLE_EXCLUDED;
    if (rt->status != REP_AVAILABLE && (rt->status_until == 0 || rt->status_until > now))
        return rt->status == REP_OFFLINE ? INELIGIBLE_OFFLINE : INELIGIBLE_AWAY;
    const struct local_time *lc = local_of(cache, rep->tz, now);
    enum workhours_reason why;
    if (req->check_hours) {
        workhours_is_working_local(rep->has_hours ? &rep->hours : NULL, &lc->lt, &rep->holidays,
                                   &rt->time_off, now, &why);
    } else {
        workhours_is_working_local(NULL, &lc->lt, &rep->holidays, &rt->time_off, now, &why);
    }
    if (why == WORKHOURS_TIME_OFF)
        return INELIGIBLE_TIME_OFF;
    if (why == WORKHOURS_HOLIDAY)
        return INELIGIBLE_HOLIDAY;
    if (why == WORKHOURS_OUTSIDE_HOURS)
        return INELIGIBLE_OUTSIDE_HOURS;
    if (rep->daily_cap >= 0 &&
        (rt->day_start == lc->day_start ? rt->day_count : 0) >= rep->daily_cap)
        return INELIGIBLE_DAILY_CAP;
    if (rep->weekly_cap >= 0 &&
        (rt->week_start == lc->week_start ? rt->week_count : 0) >= rep->weekly_cap)
        return INELIGIBLE_WEEKLY_CAP;
    if (rep->capacity >= 0 && rt->open >= rep->capacity)
        return INELIGIBLE_AT_CAPACITY;
    if (!has_all(rep->languages, rep->n_languages, req->languages, req->n_languages))
        return INELIGIBLE_LANGUAGE;
    if (!has_all(rep->skills, rep->n_skills, req->skills, req->n_skills))
        return INELIGIBLE_SKILL;
    if (req->match_territory && !covers(rep, req->country, req->region))
        return INELIGIBLE_TERRITORY;
    return ELIGIBLE;
}

enum eligibility routing_eligibility(const struct routing_rep *rep, const struct rep_runtime *rt,
                                     const struct route_requirements *req, int64_t now)
{
    static const struct rep_runtime fresh = REP_RUNTIME_INIT;
    struct local_cache cache;
    local_cache_clear(&cache);
    return eligibility_at(rep, rt ? rt : &fresh, req, now, &cache);
}

/* ---- the decision ---- */

struct route_cache {
    int64_t minute; /* of the instants the zones were converted at */
    struct local_cache zones;
};

struct route_cache *route_cache_new(void)
{
    struct route_cache *c = xcalloc(1, sizeof(*c));
    c->minute = INT64_MIN;
    return c;
}

void route_cache_free(struct route_cache *c)
{
    free(c);
}

struct decider {
    const struct route_input *in;
    struct arena *arena;
    struct bt_error *err;
    struct local_cache *cache;
};

static bt_err runtime_of(struct decider *d, size_t rep, const struct rep_runtime **out)
{
    static const struct rep_runtime fresh = REP_RUNTIME_INIT;
    const struct rep_runtime *rt = NULL;
    if (d->in->rep_runtime) {
        bt_err e = d->in->rep_runtime(d->in->ctx, rep, &rt, d->err);
        if (e)
            return e;
    }
    *out = rt ? rt : &fresh;
    return BT_OK;
}

static void requirements_of(const struct route_input *in, const struct routing_rule *r,
                            const struct routing_pool *pool, struct route_requirements *req)
{
    *req = (struct route_requirements){
        .check_hours = pool ? !pool->out_of_hours : true,
        .languages = r->languages,
        .n_languages = r->n_languages,
        .skills = r->skills,
        .n_skills = r->n_skills,
        .match_territory = pool ? pool->match_territory : false,
        .country = in->country,
        .region = in->region,
        .excluded = in->excluded,
        .n_excluded = in->n_excluded,
    };
}

static bt_err candidate(struct decider *d, size_t rep, const struct route_requirements *req,
                        struct route_candidate *out, const struct rep_runtime **rt_out)
{
    const struct routing_rep *r = &d->in->cfg->reps[rep];
    const struct rep_runtime *rt;
    bt_err e = runtime_of(d, rep, &rt);
    if (e)
        return e;
    out->rep = rep;
    out->eligibility = eligibility_at(r, rt, req, d->in->now, d->cache);
    const struct local_time *lc = local_of(d->cache, r->tz, d->in->now);
    out->open = rt->open;
    out->day_count = rt->day_start == lc->day_start ? rt->day_count : 0;
    out->week_count = rt->week_start == lc->week_start ? rt->week_count : 0;
    if (rt_out)
        *rt_out = rt;
    return BT_OK;
}

/* An array the caller fills before reading it (not zeroed). */
static void *alloc_n(struct decider *d, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *p = arena_alloc_raw(d->arena, n * size);
    if (!p)
        bt_fail(d->err, BT_ETOOBIG, NULL, "routing: out of scratch memory");
    return p;
}

/* Ineligible because away from work (what catch_up makes up for), rather
 * than for a reason of the lead or of the rep's load. */
static bool absent(enum eligibility e)
{
    return e == INELIGIBLE_OFFLINE || e == INELIGIBLE_AWAY || e == INELIGIBLE_TIME_OFF ||
           e == INELIGIBLE_HOLIDAY || e == INELIGIBLE_OUTSIDE_HOURS;
}

/* A single rep as the target (rep:, account_owner, lead_owner). */
static bt_err decide_rep(struct decider *d, size_t rule_index, long rep, struct route_trace *t,
                         struct route_decision *out, bool *decided)
{
    const struct routing_rule *r = &d->in->cfg->rules[rule_index];
    struct route_requirements req;
    requirements_of(d->in, r, NULL, &req);
    struct route_candidate c;
    bt_err e = candidate(d, (size_t)rep, &req, &c, NULL);
    if (e)
        return e;
    t->rep = rep;
    t->eligibility = c.eligibility;
    if (c.eligibility != ELIGIBLE && r->fallback == ROUTE_FALLBACK_NEXT_RULE) {
        t->step = ROUTE_STEP_UNAVAILABLE;
        return BT_OK;
    }
    *decided = true;
    out->rule = (long)rule_index;
    out->candidates = alloc_n(d, 1, sizeof(c));
    if (!out->candidates)
        return BT_ETOOBIG;
    out->candidates[0] = c;
    out->n_candidates = 1;
    if (c.eligibility == ELIGIBLE) {
        t->step = ROUTE_STEP_ASSIGNED;
        out->result = ROUTE_ASSIGNED;
        out->rep = rep;
        out->rep_id = d->in->cfg->reps[rep].id;
    } else {
        t->step = ROUTE_STEP_HELD;
        out->result = ROUTE_HELD;
        out->hold_reason = "rep_unavailable";
    }
    return BT_OK;
}

static bt_err decide_pool(struct decider *d, size_t rule_index, struct route_trace *t,
                          struct route_decision *out, bool *decided)
{
    const struct route_input *in = d->in;
    const struct routing_rule *r = &in->cfg->rules[rule_index];
    const struct routing_pool *pool = &in->cfg->pools[r->index];
    struct route_requirements req;
    requirements_of(in, r, pool, &req);
    size_t n = pool->n_members;
    struct route_candidate *cands = alloc_n(d, n, sizeof(*cands));
    struct pool_member *members = alloc_n(d, n, sizeof(*members));
    if (n > 0 && (!cands || !members))
        return BT_ETOOBIG;
    size_t n_eligible = 0;
    for (size_t i = 0; i < n; i++) {
        size_t rep = pool->members[i];
        const struct rep_runtime *rt;
        bt_err e = candidate(d, rep, &req, &cands[i], &rt);
        if (e)
            return e;
        const struct routing_rep *rr = &in->cfg->reps[rep];
        members[i] = (struct pool_member){
            .rep_id = rr->id,
            .weight = rr->weight,
            .capacity = rr->capacity < 0 ? STRATEGY_UNLIMITED : rr->capacity,
            .open = rt->open < 0 ? 0 : rt->open,
            .recent = cands[i].day_count,
            .eligible = cands[i].eligibility == ELIGIBLE,
            .ineligible_reason = (int)cands[i].eligibility,
            .not_entitled = !absent(cands[i].eligibility),
        };
        if (members[i].eligible)
            n_eligible++;
        if (pool->strategy == STRATEGY_BEST_MATCH && in->estimate) {
            struct skill_estimate est = {0};
            in->estimate(in->ctx, r->index, rep, &est);
            double x = pool->objective == POOL_OBJECTIVE_VALUE ? est.p * est.value : est.p;
            members[i].expected = isfinite(x) && x > 0 ? x : 0;
            members[i].low = est.low;
            members[i].high = est.high;
            members[i].n = est.n;
        }
    }
    if (n_eligible == 0 && r->fallback == ROUTE_FALLBACK_NEXT_RULE) {
        t->step = ROUTE_STEP_UNAVAILABLE;
        return BT_OK;
    }
    const struct pool_state *state = NULL;
    if (in->pool_state) {
        bt_err e = in->pool_state(in->ctx, r->index, &state, d->err);
        if (e)
            return e;
    }
    bool windowed = pool->strategy == STRATEGY_FAIR_SHARE || pool->strategy == STRATEGY_BEST_MATCH;
    int64_t window_start = windowed ? routing_window_start(pool, in->now) : in->now;
    struct pool_state moved;
    if (state && windowed && state->strategy == pool->strategy &&
        state->window_start > window_start && state->updated_at <= in->now) {
        /* The state is from a window that starts later than the current one,
         * yet was written before now: the pool's window or zone changed in
         * the configuration (the clock did not go back). A new window. */
        moved = *state;
        moved.window_start = window_start - 1;
        state = &moved;
    }
    struct strategy_input si = {
        .strategy = pool->strategy,
        .members_distinct = true, /* the configuration refuses a repeated member */
        .absence = pool->absence,
        .members = members,
        .n_members = n,
        .state = state,
        .now = in->now,
        .window_start = window_start,
        .tolerance = pool->tolerance,
    };
    bt_err e = strategy_decide(&si, d->arena, &out->strategy, d->err);
    if (e)
        return e;
    *decided = true;
    out->has_strategy = true;
    out->rule = (long)rule_index;
    out->pool = (long)r->index;
    out->candidates = cands;
    out->n_candidates = n;
    if (out->strategy.chosen >= 0) {
        t->step = ROUTE_STEP_ASSIGNED;
        out->result = ROUTE_ASSIGNED;
        out->rep = (long)pool->members[out->strategy.chosen];
        out->rep_id = in->cfg->reps[out->rep].id;
    } else {
        t->step = ROUTE_STEP_HELD;
        out->result = ROUTE_HELD;
        out->hold_reason = "no_eligible_member";
    }
    return BT_OK;
}

/* Appends strings to a fixed buffer, cutting what does not fit (cheaper
 * than snprintf on every decision). */
struct text_out {
    char *p, *end;
};

static void put(struct text_out *t, const char *s)
{
    while (*s && t->p < t->end)
        *t->p++ = *s++;
}

static void summarise(const struct routing_config *cfg, struct route_decision *out)
{
    struct text_out t = {out->summary, out->summary + sizeof(out->summary) - 1};
    if (out->rule < 0) {
        put(&t, "no rule placed the lead: held");
        *t.p = '\0';
        return;
    }
    const struct routing_rule *r = &cfg->rules[out->rule];
    put(&t, "rule ");
    put(&t, r->name);
    put(&t, " -> ");
    if (r->target == ROUTE_TO_POOL) {
        put(&t, "pool ");
        put(&t, cfg->pools[r->index].id);
    } else if (r->target == ROUTE_TO_REP) {
        put(&t, "rep ");
        put(&t, cfg->reps[r->index].id);
    } else {
        put(&t, r->target == ROUTE_TO_HOLD ? "hold queue" : route_target_name(r->target));
    }
    if (out->result == ROUTE_ASSIGNED && out->has_strategy) {
        put(&t, ": ");
        put(&t, strategy_name(cfg->pools[out->pool].strategy));
        put(&t, " chose ");
        put(&t, out->rep_id);
    } else if (out->result == ROUTE_ASSIGNED) {
        put(&t, ": assigned to ");
        put(&t, out->rep_id);
    } else if (r->target == ROUTE_TO_HOLD) {
        /* "rule spam -> hold queue" says it all */
    } else if (out->n_candidates == 1) {
        put(&t, ": ");
        put(&t, cfg->reps[out->candidates[0].rep].id);
        put(&t, " is not eligible (");
        put(&t, eligibility_name(out->candidates[0].eligibility));
        put(&t, "): held");
    } else {
        put(&t, ": no eligible member: held");
    }
    *t.p = '\0';
}

bt_err route_decide(const struct route_input *in, struct arena *arena, struct route_decision *out,
                    struct bt_error *err)
{
    const struct routing_config *cfg = in->cfg;
    memset(out, 0, sizeof(*out));
    out->rule = out->rep = out->pool = -1;
    out->result = ROUTE_HELD;
    if (cfg->n_rules == 0)
        return bt_fail(err, BT_EINVAL, NULL, "routing: no rules configured");
    struct decider d = {.in = in, .arena = arena, .err = err};
    struct local_cache own;
    if (in->cache) {
        /* local times hold for the whole minute: shifts, days and weeks
         * change on minute boundaries (time off and `until` use `now`) */
        int64_t minute = in->now >= 0 ? in->now / 60000 : (in->now - 59999) / 60000;
        if (in->cache->minute != minute) {
            in->cache->minute = minute;
            local_cache_clear(&in->cache->zones);
        }
        d.cache = &in->cache->zones;
    } else {
        local_cache_clear(&own);
        d.cache = &own;
    }
    out->trace = alloc_n(&d, cfg->n_rules, sizeof(*out->trace));
    if (!out->trace)
        return BT_ETOOBIG;
    bool decided = false;
    for (size_t i = 0; i < cfg->n_rules && !decided; i++) {
        const struct routing_rule *r = &cfg->rules[i];
        struct route_trace *t = &out->trace[out->n_trace++];
        *t = (struct route_trace){.rule = i, .step = ROUTE_STEP_NOT_MATCHED, .rep = -1};
        if (r->when && !rule_eval(r->when, in->slots, in->scratch))
            continue;
        bt_err e = BT_OK;
        long rep;
        switch (r->target) {
        case ROUTE_TO_HOLD:
            t->step = ROUTE_STEP_HELD;
            out->rule = (long)i;
            out->hold_reason = "rule";
            decided = true;
            break;
        case ROUTE_TO_POOL:
            e = decide_pool(&d, i, t, out, &decided);
            break;
        case ROUTE_TO_REP:
            e = decide_rep(&d, i, (long)r->index, t, out, &decided);
            break;
        case ROUTE_TO_ACCOUNT_OWNER:
        case ROUTE_TO_LEAD_OWNER: {
            const char *owner =
                r->target == ROUTE_TO_LEAD_OWNER ? in->lead_owner : in->account_owner;
            if (r->target == ROUTE_TO_ACCOUNT_OWNER && !in->account_id) {
                t->step = ROUTE_STEP_NO_ACCOUNT;
                break;
            }
            if (!owner || !*owner) {
                t->step = ROUTE_STEP_NO_OWNER;
                break;
            }
            rep = routing_find_rep(cfg, owner);
            if (rep < 0) {
                t->step = ROUTE_STEP_UNKNOWN_REP;
                break;
            }
            e = decide_rep(&d, i, rep, t, out, &decided);
            break;
        }
        }
        if (e)
            return e;
    }
    if (!decided)
        out->hold_reason = "no_rule";
    summarise(cfg, out);
    return BT_OK;
}
