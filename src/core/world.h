/*
 * world.h - a world with known answers, for comparing routing strategies.
 *
 * A world is reps with hidden per-segment skill and a stream of leads whose
 * segment fields are drawn from given shares. The hidden conversion rate of
 * rep r on a lead of segment values (v_1 .. v_F) is
 *
 *   p = logistic(logit(base) + rep_r + sum_f (seg_{f,v_f} + match_{r,f,v_f}))
 *
 * with rep_r ~ N(0, rep_spread), seg ~ N(0, segment_spread / sqrt(F)) and
 * match ~ N(0, match_spread / sqrt(F)), all drawn reproducibly from the
 * seed: a rep may excel at software whatever the company's size. First a
 * warm-up period of history: leads routed round robin, outcomes drawn from
 * the hidden rates; that history is what best_match learns from (core/skill.h,
 * refreshed every `refresh_every` test leads with the outcomes so far, as the
 * daemon refreshes its table). Then the test period: the same lead stream
 * routed by round_robin, load_balanced, fair_share, best_match and the
 * oracle (best_match's rule with the true p), each through
 * core/strategy.h's strategy_decide, the daemon's code. Outcomes use common
 * random numbers (lead j converts for a strategy when u_j < p of the rep it
 * chose), so the strategies are compared on the same luck. Reps are away now
 * and then (each lead, each rep is away with probability `absence`, in
 * spells); a lead with nobody present is a hold. load_balanced sees as open
 * the rep's leads among the last `open_leads` leads.
 *
 * Pure: no I/O, no clock; the same spec and seed give the same result.
 */
#ifndef BT_CORE_WORLD_H
#define BT_CORE_WORLD_H

#include "util/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WORLD_REPS_MAX   100
#define WORLD_FIELDS_MAX 4
#define WORLD_VALUES_MAX 20
#define WORLD_LEADS_MAX  2000000
#define WORLD_STRATEGIES 5

struct world_field {
    char *name;
    size_t n_values;
    char *values[WORLD_VALUES_MAX];
    double shares[WORLD_VALUES_MAX]; /* normalised to sum 1 */
};

struct world_spec {
    size_t n_reps;
    char *rep_ids[WORLD_REPS_MAX];
    double weights[WORLD_REPS_MAX];
    size_t n_fields;
    struct world_field fields[WORLD_FIELDS_MAX];
    double base;           /* mean conversion rate, (0, 1) */
    double rep_spread;     /* log-odds sd of the reps' overall level */
    double segment_spread; /* log-odds sd of the segments' effect */
    double match_spread;   /* log-odds sd of rep x segment value skill */
    int64_t warmup, test;  /* leads */
    int64_t refresh_every; /* best_match relearns every this many test leads; 0: never */
    int64_t open_leads;    /* load_balanced: a lead stays open this many leads */
    double absence;        /* probability a rep is away, per lead */
    double tolerance;      /* fairness bound of best_match and the oracle */
    uint64_t seed;
};

/*
 * The spec from its JSON form (the YAML file, converted):
 *   seed: N
 *   reps: 8 | [{id: ana, weight: 1}, ...]
 *   segments: {industry: {software: 0.4, ...}, employees_band: {...}}
 *   skill: {base: 0.12, rep_spread: 0.2, segment_spread: 0.5, match_spread: 0.5}
 *   warmup: 6000      test: 20000      refresh_every: 1000
 *   absence: 0.05     open_leads: 40   tolerance: 0.2
 * BT_EINVAL with the field for anything missing or out of range. Free with
 * world_spec_free.
 */
bt_err world_spec_from_json(const json_t *j, struct world_spec *out,
                            struct bt_error *err) BT_MUST_USE;
void world_spec_free(struct world_spec *s);

enum world_strategy {
    WORLD_ROUND_ROBIN,
    WORLD_LOAD_BALANCED,
    WORLD_FAIR_SHARE,
    WORLD_BEST_MATCH,
    WORLD_ORACLE,
};
const char *world_strategy_name(enum world_strategy s);

struct world_outcome {
    int64_t leads, holds;
    int64_t conversions;  /* drawn with the common random numbers */
    double expected;      /* sum of the true p of the chosen reps: the noise-free figure */
    double max_share_dev; /* max over reps of |assigned / entitled - 1| */
    int64_t assigned[WORLD_REPS_MAX];
    double entitled[WORLD_REPS_MAX]; /* the rep's fair count over the leads it was present for */
};

struct world_result {
    struct world_outcome s[WORLD_STRATEGIES];
    int64_t history;       /* warm-up outcomes */
    double skill_strength; /* k of the last skill table */
    double capture;        /* best_match's share of the oracle's lift over round robin */
    double capture_expected;
};

bt_err world_run(const struct world_spec *spec, struct world_result *out,
                 struct bt_error *err) BT_MUST_USE;

json_t *world_result_to_json(const struct world_spec *spec, const struct world_result *r);

#endif
