/*
 * decide.h - one lead's whole decision: the pipeline every caller runs.
 *
 *   normalised lead + its activities + the state it needs + now
 *     -> account match -> score -> qualification -> routing decision + record
 *
 * Pure, like the rest of core/: the state comes in through the lazy
 * callbacks of core/routing.h (a rep's runtime, a pool's stored state) plus
 * one for the lead's exclusions, each called at most once per rep, pool or
 * decision and only when routing asks; time is an argument. The daemon's
 * engine (state from the store, on the writer), `baton score` and `baton
 * route` (state from a file, or none) and the coming `baton simulate` all call
 * decide_lead(), so what the dry runs print is what the daemon does.
 *
 * What decide_lead() does, in order:
 *   1. Account: with an index, the lead is matched to its account before
 *      scoring (rules may test `account` and `owner`); lead->account_id and
 *      lead->account_match_json are set to the match (the JSON text is made
 *      once, here). Without an index the lead keeps the account it has, and
 *      its owner as the stored match names it.
 *   2. Score: fit and engagement points, grade and reasons into lead->score,
 *      with the time of the next rescoring (decay, or rules that read times
 *      such as activity.demo_request.last_days: re-checked hourly).
 *   3. Qualification: what lifecycle_qualify() says at the lead's stage;
 *      lead->attr[LEAD_STAGE] is set to the resulting stage.
 *   4. Routing (when asked, see enum decide_route): route_decide() with the
 *      same rule slots the scoring filled (only `stage` is refreshed after
 *      qualification). A pool state the strategy refuses is started afresh
 *      and the decision taken again; the record says so.
 *   5. The decision record in its final form: route_decision_json() plus
 *        "lead": ID (when lead->id is set), "config_version", "at" (RFC 3339),
 *        "account": {"id", "owner", "match"} (when the lead has one),
 *        "pool_state_reset": true and "discarded_pool_states": {POOL: STATE}
 *        (when a stored state was refused or unreadable),
 *        "forced": true and "stage" (routed at a stage other than mql),
 *        "sla": {"policy", "clock", "accept_within_seconds", "accept_by"}
 *        (assigned, under an SLA policy: the first whose `when` holds for
 *        the lead as routed; accept_by on the policy's clock for the rep;
 *        the engine replaces it with {"policy", "clock",
 *        "accept_within_seconds", "carried_over": true} when the attempt
 *        keeps the policy of the one before).
 *      It is stored as it is and served as it is; nothing rewrites it.
 *
 * Nothing is written anywhere: the caller applies the result (the engine
 * writes the lead, the events, the assignment or the hold).
 */
#ifndef BT_CORE_DECIDE_H
#define BT_CORE_DECIDE_H

#include "core/account_match.h"
#include "core/lead.h"
#include "core/lifecycle.h"
#include "core/predict.h"
#include "core/routing.h"
#include "core/skill.h"
#include "core/score.h"
#include "core/sla.h"
#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* How a record is written as text wherever it is stored or shown (reals to
 * 12 significant digits, as the API shows every number). */
#define DECIDE_RECORD_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

/* What of a configuration the pipeline reads. */
struct decide_model {
    const struct score_model *scoring;         /* never NULL */
    const struct qualification *qualification; /* over scoring->lead_syms */
    const struct routing_config *routing;      /* n_rules == 0: routing is off */
    const struct sla_config *sla;              /* NULL or no policies: no clocks */
    const char *version;                       /* the configuration's, for the record */
    /* The predictive score (the daemon's active model), or NULL: rules only.
     * With it every scored lead gets p(convert) and its factors: fit,
     * qualification and routing rules read p as `predicted`, the reasons
     * gain the factors (kind "predicted") and round(p * predictive_points)
     * is added to the total (clamped like the rest). */
    const struct predict_model *predictive;
    const struct predict_reader *predictive_reader; /* for predictive, or NULL */
    const char *predictive_version;                 /* the model's version, for the reasons */
    double predictive_points;                       /* 0: p is not added to the total */
};

enum decide_route {
    DECIDE_ROUTE_NEVER,  /* account, score and qualification only (`baton score`) */
    DECIDE_ROUTE_IF_MQL, /* route when the lead is mql after qualification */
    DECIDE_ROUTE_ALWAYS, /* route whatever qualification says, reading as mql (re-routing a
                            lead taken back, `baton route --force`) */
};

/* The state routing reads. Each callback is called at most once per rep or
 * pool and decision, and only when the decision needs it. */
struct decide_state {
    /* A rep's runtime state (NULL *out: a fresh rep). */
    bt_err (*rep_runtime)(void *ctx, size_t rep, const struct rep_runtime **out,
                          struct bt_error *err);
    /* A pool's stored state (NULL *out: a pool that never decided). A caller
     * that has a stored state it cannot read sets *out NULL and *discarded to
     * what it has (a new reference, kept in the record); else leaves
     * *discarded alone. */
    bt_err (*pool_state)(void *ctx, size_t pool, const struct pool_state **out, json_t **discarded,
                         struct bt_error *err);
    /* Reps that may not get this lead (NULL callback: none). */
    bt_err (*excluded)(void *ctx, const char *const **ids, size_t *n, struct bt_error *err);
    void *ctx;
};

/* Per-thread scratch space for one model: scoring and rule scratch, the
 * zone cache of routing. Free it before the model it was made for. */
struct decide_scratch;
struct decide_scratch *decide_scratch_new(const struct decide_model *m);
void decide_scratch_free(struct decide_scratch *s); /* NULL does nothing */

struct decide_input {
    const struct decide_model *model;
    struct lead *lead; /* in and out: account, score and stage are set here */
    const struct activity *acts;
    size_t n_acts;
    const struct account_index *accounts; /* NULL: the lead keeps its account */
    enum decide_route route;
    struct decide_state state; /* needed when routing; callbacks may be NULL otherwise */
    int64_t now;
    struct decide_scratch *scratch; /* made for model; NULL: made and freed here */
    /* A pool state the strategy refuses is an error (BT_EINVAL, the state is
     * the caller's input: `baton route --state`) instead of being started
     * afresh. */
    bool strict_state;
    /* best_match pools: the skill table of pool i of model->routing (NULL
     * entries, or NULL: no history; every estimate is then 0). */
    const struct skill_table *const *skill;
    /* The record as it is stored (route_decision_json_compact: what the
     * configuration says left out, config_version naming it); false: the
     * full record (baton route, and a routing model that is not the
     * configuration's own, such as a one-rule re-route). */
    bool compact_record;
};

struct decide_result {
    /* 1. the account */
    bool account_changed;       /* another account than before, or none where there was one */
    bool account_match_changed; /* how it matched changed (true when account_changed) */
    const char *previous_account;
    const char *account_owner; /* the account's owner, or NULL */
    json_t *account_match;     /* how it matched, or NULL (owned by the result) */

    /* 2. the score (also in lead->score) */
    struct score_result *score; /* in the arena */
    bool score_changed;         /* total, grade, reasons or rescore time differ from before */

    /* 3. qualification */
    enum lead_stage from; /* the stage before */
    enum lead_stage stage;
    struct lifecycle_decision qualification;

    /* 4. routing */
    bool routed; /* route_decide() ran */
    bool forced; /* routed at a stage other than mql (DECIDE_ROUTE_ALWAYS) */
    struct route_decision route;
    bool pool_state_reset;
    char refused_why[BT_ERROR_MESSAGE_MAX]; /* why a pool state was refused, or "" */
    /* ROUTE_ASSIGNED: the rep's counts with this assignment, for its local
     * day and week (routing_rep_periods). */
    int64_t day_start, day_count, week_start, week_count;
    /* ROUTE_ASSIGNED: the SLA policy the assignment gets (index into
     * model->sla->policies; -1: none) and when it must be accepted on the
     * policy's clock for the chosen rep (0: no policy, or unreachable). */
    long sla_policy;
    int64_t accept_by;
    /* ROUTE_HELD: what the hold queue keeps (rep_id: a rep target's rep). */
    const char *hold_reason, *hold_rule, *hold_pool, *hold_rep;
    /* ROUTE_HELD: what may route the lead differently without the lead or
     * the configuration changing, as hold-queue wake targets: "pool:ID" for
     * every pool whose members were all ineligible (the one that held the
     * lead and each one that fell through to the next rule), "rep:ID" for
     * every rep target (rep, account or lead owner) that was ineligible,
     * and "any" when an owner target found no owner or no account (one
     * may be set later). None: only a change of the lead or of the
     * configuration can help (a hold rule, no rule matched). The engine
     * marks "any" instead for a lead re-routed through a rule of its own. */
    const char **hold_wakes;
    size_t n_hold_wakes;

    /* 5. the record (owned by the result; NULL when not routed) */
    json_t *record;
};

/*
 * Runs the pipeline. BT_OK with *out filled (release it with
 * decide_result_release), or BT_ETOOBIG when the lead is too large for the
 * arena, or an error from a state callback. A pool state the strategy
 * refuses is not an error (see 4. above).
 */
bt_err decide_lead(const struct decide_input *in, struct arena *arena, struct decide_result *out,
                   struct bt_error *err) BT_MUST_USE;

/* Drops the JSON the result owns; the rest lives in the arena. */
void decide_result_release(struct decide_result *r);

/* The record's "account": {"id", "owner", "match"}, or NULL when the lead
 * has no account (a new reference). */
json_t *decide_account_json(const struct lead *lead, const struct decide_result *r);

/* The stage a lead's attribute names (new when unset or unknown). */
enum lead_stage decide_stage_of(const struct lead *lead);

#endif
