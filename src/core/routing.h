/*
 * routing.h - where a qualified lead goes, and why.
 *
 * Pure, like the rest of core/: the caller passes the routing configuration
 * (rules, pools, reps), the lead's rule slots, what is known of the lead's
 * owner and account, the reps' runtime state and the pools' persisted state
 * (both through callbacks, so that only what a decision needs is loaded), and
 * the time. route_decide() returns the decision and its whole explanation;
 * it reads no clock, does no I/O and writes only into the caller's arena.
 * The engine calls it on the single writer and stores the result in the same
 * transaction as the assignment; `baton route` calls it for a dry run.
 *
 * Rules are tried in order; the first that matches and can place the lead
 * decides:
 *
 *   when      a condition in the rule language over the lead (as in scoring
 *             rules, plus its scores); no `when` matches every lead.
 *   target    pool:ID        the pool's strategy picks an eligible member;
 *             rep:ID         the named rep;
 *             account_owner  the owner of the account the lead matched; a lead
 *                            without an account, or an account without an
 *                            owner, does not match the rule;
 *             lead_owner     a returning lead goes back to the rep who owned
 *                            it; a lead that never had an owner does not match;
 *             hold           the hold queue.
 *   fallback  what happens when the target has no eligible rep right now:
 *             next_rule      the next rule is tried (the default for
 *                            account_owner and lead_owner);
 *             hold           the lead waits in the hold queue until the
 *                            target can take it (the default for pool and rep).
 *   languages, skills  required of the rep, every one listed.
 *
 * When no rule places the lead (the last rule fell through), it is held.
 * The configuration requires a last rule without `when` (a default).
 *
 * Eligibility of a rep for a lead at `now`, checks in this order, the first
 * that fails is the reason reported:
 *   inactive        the rep is not active in the configuration
 *   excluded        the rep already rejected or let this lead expire
 *   offline, away   the rep's status (a status with `until` in the past
 *                   counts as available)
 *   time_off        inside a time-off span
 *   holiday         a holiday in the rep's time zone
 *   outside_hours   outside the rep's weekly hours (skipped for pools with
 *                   out_of_hours, which still respect holidays and time off;
 *                   a rep without hours works around the clock)
 *   daily_cap       assignments in the rep's local day reached daily_cap
 *   weekly_cap      assignments in the rep's local week (from Monday 00:00)
 *                   reached weekly_cap
 *   at_capacity     open assignments (stage assigned or accepted) reached
 *                   capacity
 *   language, skill a required language or skill is missing
 *   territory       the pool matches territories and the rep's list has
 *                   neither the lead's country nor its region
 * In a fair_share pool with catch_up, only the absences (offline, away,
 * time_off, holiday, outside_hours) earn a member its share of a lead it
 * could not take; a member ineligible for any other reason (the lead's
 * language or territory, its own caps or capacity) is not owed that lead.
 */
#ifndef BT_CORE_ROUTING_H
#define BT_CORE_ROUTING_H

#include "core/rule.h"
#include "core/skill.h"
#include "core/strategy.h"
#include "core/workhours.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/tzdb.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTING_UNLIMITED (-1) /* capacity and caps without a limit */

/* ---- configuration (built by config/, immutable) ---- */

/* One rep as routing sees it; config_rep i is routing_config.reps[i]. */
struct routing_rep {
    const char *id;
    const char *team; /* or NULL */
    bool active;
    const struct tz_table *tz; /* never NULL: UTC unless configured */
    bool has_hours;            /* false: no weekly hours configured, works around the clock */
    struct weekly_hours hours;
    struct holidays holidays;
    const char *const *languages; /* lower case */
    size_t n_languages;
    const char *const *skills; /* lower case */
    size_t n_skills;
    const char *const *territories; /* upper case: ISO alpha-2 countries or NA, LATAM, APAC, EMEA */
    size_t n_territories;
    double weight;      /* in [STRATEGY_WEIGHT_MIN, STRATEGY_WEIGHT_MAX] */
    int64_t capacity;   /* ROUTING_UNLIMITED or >= 0 */
    int64_t daily_cap;  /* ROUTING_UNLIMITED or >= 0 */
    int64_t weekly_cap; /* ROUTING_UNLIMITED or >= 0 */
};

enum pool_window { POOL_WINDOW_DAY, POOL_WINDOW_WEEK, POOL_WINDOW_MONTH };

/* "day", "week", "month". */
const char *pool_window_name(enum pool_window w);
bool pool_window_parse(const char *name, enum pool_window *out);

/* How a pool's lead is offered: to the one rep the strategy picks (direct),
 * or to the top offer_to eligible reps at once, the first to accept owning
 * it (broadcast). */
enum pool_offer { POOL_OFFER_DIRECT, POOL_OFFER_BROADCAST };

/* "direct", "broadcast". */
const char *pool_offer_name(enum pool_offer o);
bool pool_offer_parse(const char *name, enum pool_offer *out);

/* best_match: what "best" means: the expected conversion, or it times the
 * segment's expected won value. */
enum pool_objective { POOL_OBJECTIVE_CONVERSION, POOL_OBJECTIVE_VALUE };

#define ROUTING_SEGMENTS_MAX 8

struct routing_pool {
    const char *id;
    const char *name;
    enum strategy_kind strategy;
    enum absence_policy absence; /* fair_share, best_match; default no_catch_up */
    enum pool_window window;     /* fair_share, best_match; default week */
    const struct tz_table *tz;   /* where the window's days start; default UTC */
    bool out_of_hours;           /* members need not be inside working hours */
    bool match_territory;        /* members must cover the lead's country or region */
    enum pool_offer offer;       /* default direct */
    unsigned offer_to;           /* broadcast: offered to this many at once, 2 .. 20 (default 3) */
    const size_t *members;       /* indexes into routing_config.reps, in config order */
    size_t n_members;
    /* best_match (core/skill.h gives the estimates; the engine passes them) */
    double tolerance;              /* the fairness bound; default 0.2 */
    enum pool_objective objective; /* default conversion */
    const char *const *segments;   /* lead paths of the segment key, in order */
    size_t n_segments;             /* default industry, employees_band, country */
};

enum route_target {
    ROUTE_TO_POOL,
    ROUTE_TO_REP,
    ROUTE_TO_ACCOUNT_OWNER,
    ROUTE_TO_LEAD_OWNER,
    ROUTE_TO_HOLD,
};

enum route_fallback { ROUTE_FALLBACK_HOLD, ROUTE_FALLBACK_NEXT_RULE };

/* "pool", "rep", "account_owner", "lead_owner", "hold"; "hold", "next_rule". */
const char *route_target_name(enum route_target t);
const char *route_fallback_name(enum route_fallback f);

struct routing_rule {
    const char *name;        /* unique within the rules */
    const struct rule *when; /* NULL: every lead */
    enum route_target target;
    size_t index; /* ROUTE_TO_POOL: index into pools; ROUTE_TO_REP: into reps */
    enum route_fallback fallback;
    const char *const *languages; /* required, lower case */
    size_t n_languages;
    const char *const *skills; /* required, lower case */
    size_t n_skills;
};

struct routing_config {
    const struct routing_rep *reps;
    size_t n_reps;
    const struct routing_pool *pools;
    size_t n_pools;
    const struct routing_rule *rules; /* 0 rules: routing is off, leads stay mql */
    size_t n_rules;
    /* Optional: the indexes of reps sorted by id (routing_sort_reps), so
     * that owners are found by binary search; NULL: a linear search. */
    const uint32_t *reps_by_id;
};

/* Fills order[0..n) with the indexes of reps sorted by id. */
void routing_sort_reps(const struct routing_rep *reps, size_t n, uint32_t *order);

/* Index of the rep / pool with this id, or -1 (reps: binary search when
 * reps_by_id is set; pools: linear). */
long routing_find_rep(const struct routing_config *cfg, const char *id);
long routing_find_pool(const struct routing_config *cfg, const char *id);

/* ---- runtime state (from the store) ---- */

enum rep_status { REP_AVAILABLE, REP_AWAY, REP_OFFLINE };

/* "available", "away", "offline". */
const char *rep_status_name(enum rep_status s);
bool rep_status_parse(const char *name, enum rep_status *out);

struct rep_runtime {
    enum rep_status status;
    int64_t status_until; /* ms; 0: none. Past it the rep counts as available */
    const char *status_reason;
    struct time_off time_off;
    int64_t open;       /* open assignments: leads the rep owns at assigned or accepted */
    int64_t day_start;  /* the local day the count below is for (UTC ms of local midnight) */
    int64_t day_count;  /* assignments in that day */
    int64_t week_start; /* the local week (Monday 00:00) the count below is for */
    int64_t week_count;
};

/* A rep nobody has touched: available, nothing assigned. */
#define REP_RUNTIME_INIT                                                                           \
    {                                                                                              \
        REP_AVAILABLE, 0, NULL, {NULL, 0}, 0, 0, 0, 0, 0                                           \
    }

/* The UTC instants of local midnight today and of Monday 00:00 this week in
 * the rep's zone, at `now`: the periods daily and weekly caps count in. */
void routing_rep_periods(const struct routing_rep *rep, int64_t now, int64_t *day_start,
                         int64_t *week_start);

/* The runtime's counts as they stand at `now` (0 when they are for an earlier
 * period than the current one). */
int64_t routing_day_count(const struct routing_rep *rep, const struct rep_runtime *rt, int64_t now);
int64_t routing_week_count(const struct routing_rep *rep, const struct rep_runtime *rt,
                           int64_t now);

/*
 * The earliest instant after `now` at which some active rep's eligibility
 * may change by the passing of time alone: the start of one of its working
 * intervals on its own wall clock (twice, for a start in the hour repeated
 * when the clocks go back), a change of its zone's offset (the clocks may
 * go back into an interval), or its next local midnight when it has
 * holidays or a daily or weekly cap (a weekly cap resets at Monday's
 * midnight). 0 when no rep has such a time. Status `until` and time off are
 * runtime state and not included. Cost: a few zone conversions per rep.
 */
int64_t routing_next_boundary(const struct routing_config *cfg, int64_t now);
/* The reps (indexes, into `out`, which has room for cfg->n_reps) with such
 * an instant in (from, to]: those whose eligibility may have changed by
 * time alone in that span. Their count. */
size_t routing_reps_changed(const struct routing_config *cfg, int64_t from, int64_t to,
                            size_t *out);

/* The start of the pool's current fair_share window at `now` (midnight, Monday
 * 00:00 or the 1st, in the pool's zone). */
int64_t routing_window_start(const struct routing_pool *pool, int64_t now);

/* ---- eligibility ---- */

enum eligibility {
    ELIGIBLE,
    INELIGIBLE_INACTIVE,
    INELIGIBLE_EXCLUDED,
    INELIGIBLE_OFFLINE,
    INELIGIBLE_AWAY,
    INELIGIBLE_TIME_OFF,
    INELIGIBLE_HOLIDAY,
    INELIGIBLE_OUTSIDE_HOURS,
    INELIGIBLE_DAILY_CAP,
    INELIGIBLE_WEEKLY_CAP,
    INELIGIBLE_AT_CAPACITY,
    INELIGIBLE_LANGUAGE,
    INELIGIBLE_SKILL,
    INELIGIBLE_TERRITORY,
    ELIGIBILITY_COUNT
};

/* "eligible", "inactive", "excluded", "offline", "away", "time_off",
 * "holiday", "outside_hours", "daily_cap", "weekly_cap", "at_capacity",
 * "language", "skill", "territory". */
const char *eligibility_name(enum eligibility e);

/* What a lead asks of a rep, beyond the rep's own state. */
struct route_requirements {
    bool check_hours; /* false for out_of_hours pools */
    const char *const *languages;
    size_t n_languages;
    const char *const *skills;
    size_t n_skills;
    bool match_territory;
    const char *country;         /* the lead's alpha-2, or NULL */
    const char *region;          /* NA, LATAM, APAC, EMEA, or NULL */
    const char *const *excluded; /* rep ids */
    size_t n_excluded;
};

enum eligibility routing_eligibility(const struct routing_rep *rep, const struct rep_runtime *rt,
                                     const struct route_requirements *req, int64_t now);

/* ---- the decision ---- */

struct route_input {
    const struct routing_config *cfg;
    const struct rule_value *slots; /* the lead's slots over the symbol table the rules use */
    struct rule_scratch *scratch;
    const char *lead_owner;    /* the rep who owns or last owned the lead, or NULL */
    const char *account_id;    /* the matched account, or NULL */
    const char *account_owner; /* its owner, or NULL */
    const char *country;       /* the lead's, for territories; may be NULL */
    const char *region;
    const char *const *excluded; /* reps that may not get this lead */
    size_t n_excluded;
    /* The state of rep i (NULL *out: a fresh rep, REP_RUNTIME_INIT). */
    bt_err (*rep_runtime)(void *ctx, size_t rep, const struct rep_runtime **out,
                          struct bt_error *err);
    /* The persisted state of pool i (NULL *out: a fresh pool). */
    bt_err (*pool_state)(void *ctx, size_t pool, const struct pool_state **out,
                         struct bt_error *err);
    /* best_match pools: member rep's estimate for this lead in pool i
     * (core/skill.h; the caller builds the segment key from the pool's
     * segment paths). NULL: every member's estimate is 0, so best_match
     * decides by its fairness bound and config order alone. */
    void (*estimate)(void *ctx, size_t pool, size_t rep, struct skill_estimate *out);
    void *ctx;
    int64_t now;
    /* Optional (NULL: none): local times of the reps' zones kept from one
     * decision to the next within the same minute. One per thread; valid
     * while the tz tables it saw live (reset it, or make a new one, when the
     * configuration changes). */
    struct route_cache *cache;
};

struct route_cache;
struct route_cache *route_cache_new(void);
void route_cache_free(struct route_cache *c); /* NULL does nothing */

enum route_result {
    ROUTE_ASSIGNED, /* rep is set */
    ROUTE_HELD,     /* to the hold queue; hold_reason says why */
};

/* What happened at one rule. */
enum route_step {
    ROUTE_STEP_NOT_MATCHED, /* `when` was false */
    ROUTE_STEP_NO_OWNER, /* lead_owner: the lead never had one; account_owner: the account has none
                          */
    ROUTE_STEP_NO_ACCOUNT,  /* account_owner: the lead matched no account */
    ROUTE_STEP_UNKNOWN_REP, /* the owner is not a rep in the configuration */
    ROUTE_STEP_UNAVAILABLE, /* the target had nobody eligible; fell through to the next rule */
    ROUTE_STEP_ASSIGNED,    /* decided: assigned */
    ROUTE_STEP_HELD,        /* decided: held (target hold, or nobody eligible with fallback hold) */
};

/* "not_matched", "no_owner", "no_account", "unknown_rep", "unavailable",
 * "assigned", "held". */
const char *route_step_name(enum route_step s);
/* The step named `name` (route_step_name's); false for any other. */
bool route_step_parse(const char *name, enum route_step *out);

struct route_trace {
    size_t rule; /* index into cfg->rules */
    enum route_step step;
    long rep;                     /* rep, account_owner, lead_owner targets: the rep, or -1 */
    enum eligibility eligibility; /* of that rep */
};

struct route_candidate {
    size_t rep; /* index into cfg->reps */
    enum eligibility eligibility;
    /* what the runtime said, for the record */
    int64_t open, day_count, week_count;
};

struct route_decision {
    enum route_result result;
    long rule;          /* index of the deciding rule, -1 when none matched */
    long rep;           /* ROUTE_ASSIGNED: index into cfg->reps; else -1 */
    long pool;          /* when a pool was the target: its index; else -1 */
    const char *rep_id; /* cfg->reps[rep].id or NULL */
    const char
        *hold_reason; /* ROUTE_HELD: "no_eligible_member", "rep_unavailable", "rule", "no_rule" */
    struct route_trace *trace; /* every rule tried, in order */
    size_t n_trace;
    /* The candidates of the deciding rule's target (a pool's members, or the
     * one rep), with their eligibility; the strategy's notes when a pool
     * decided (n_candidates notes, same order). */
    struct route_candidate *candidates;
    size_t n_candidates;
    bool has_strategy;
    struct strategy_decision strategy; /* before / after / notes */
    char summary[320]; /* one line: "rule emea-de -> pool emea: fair_share chose luca.romano" */
};

/*
 * Decides. BT_OK with *out filled, or an error from a callback, BT_ETOOBIG
 * when the arena is full, BT_EINVAL from the strategy (a corrupt pool state).
 * A configuration with no rules gives BT_EINVAL (callers check n_rules first).
 */
bt_err route_decide(const struct route_input *in, struct arena *arena, struct route_decision *out,
                    struct bt_error *err) BT_MUST_USE;

#endif
