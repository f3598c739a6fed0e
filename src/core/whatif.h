/*
 * whatif.h - what a candidate configuration would have changed: the
 * comparison and the tally behind `baton simulate --db --config`.
 *
 * The caller replays each stored lead through the decision pipeline
 * (core/decide.h) and describes both sides the same way, as a struct
 * whatif_outcome: "before" is what was stored (or what a baseline
 * configuration decides in the same replay), "after" what the candidate
 * decides. whatif_add() compares the two, counts what differs, keeps the
 * first `limit` differing leads with both sides, and tallies each rep's load
 * and the hold queue on both sides; whatif_report() gives it all as one
 * JSON document (the shape is in docs/simulate.md).
 *
 * Pure: no I/O, no clock. Every string given to whatif_add() is copied, so
 * the caller may free its row right after the call.
 */
#ifndef BT_CORE_WHATIF_H
#define BT_CORE_WHATIF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One side of one lead. NULL strings are "none". */
struct whatif_outcome {
    bool scored;
    double score;
    const char *grade;
    const char *stage;  /* the stage the decision left it at: "new", "mql", "assigned", ... */
    bool qualified;     /* reached mql (whether or not it was then routed) */
    const char *result; /* "assigned", "held", or NULL: not routed */
    const char *pool;   /* the pool the deciding rule targeted */
    const char *owner;  /* the rep it was assigned to */
    const char *rule;   /* the deciding routing rule */
    const char *sla_policy;
    const char *hold_reason; /* result "held": why */
    const char *summary;     /* the decision's one-line summary */
    const char *config_version;
};

/* What differs, as bits (whatif_compare). */
enum whatif_change {
    WHATIF_SCORE = 1u << 0, /* total by more than the epsilon */
    WHATIF_GRADE = 1u << 1,
    WHATIF_STAGE = 1u << 2, /* includes qualified or not */
    WHATIF_POOL = 1u << 3,
    WHATIF_OWNER = 1u << 4,
    WHATIF_SLA = 1u << 5,  /* the SLA policy */
    WHATIF_HOLD = 1u << 6, /* held or not, or held for another reason */
};
#define WHATIF_CHANGES 7

/* The name of change bit i (0 .. WHATIF_CHANGES-1): "score", "grade", ... */
const char *whatif_change_name(unsigned i);

/* Scores closer than this count as equal (they are stored to 12 digits). */
#define WHATIF_SCORE_EPSILON 1e-9

/* The bits of what differs between the two sides (0: nothing). */
unsigned whatif_compare(const struct whatif_outcome *before, const struct whatif_outcome *after);

/* The reps whose load is tallied and their weights: the fair share of rep i
 * is weights[i] / sum(weights). Reps met in outcomes but not listed are
 * tallied too, with a fair share of 0. */
struct whatif_options {
    size_t limit; /* differing leads kept with both sides */
    const char *const *reps;
    const double *weights; /* NULL: all 1 */
    size_t n_reps;
};

struct whatif;
struct whatif *whatif_new(const struct whatif_options *o);
void whatif_free(struct whatif *w); /* NULL does nothing */

/* Adds one replayed lead (`at`: the time it was decided, ms). Returns the
 * change bits. */
unsigned whatif_add(struct whatif *w, int64_t lead_id, int64_t at,
                    const struct whatif_outcome *before, const struct whatif_outcome *after);

/* The number of leads added, and of those that differ in anything. */
uint64_t whatif_replayed(const struct whatif *w);
uint64_t whatif_differing(const struct whatif *w);

/*
 * The report, a new reference:
 *   {"replayed": N, "differing": N,
 *    "changed": {"score": N, "grade": N, "stage": N, "qualified": N, "pool": N,
 *                "owner": N, "sla_policy": N, "hold": N},
 *    "score_change": {"mean": X, "mean_abs": X, "max_abs": X, "max_lead": ID|null},
 *    "leads": [{"lead": ID, "at": TIME, "changed": ["score", ...],
 *               "before": OUTCOME, "after": OUTCOME}, ...],   (the first `limit`)
 *    "load": {"before": LOAD, "after": LOAD},
 *    "holds": {"before": {"total": N, "reasons": {REASON: N}}, "after": ...},
 *    "config_versions": {"before": {VERSION: N}, "after": {VERSION: N}}}
 * LOAD = {"assigned": N, "max_deviation": X|null,
 *         "reps": [{"rep", "count", "share", "fair_share", "deviation"}]}
 * where share = count / assigned, deviation = share / fair_share - 1 (null
 * for a fair share of 0) and max_deviation the largest |deviation|.
 * OUTCOME = {"score", "grade", "stage", "qualified", "result", "pool", "owner",
 *            "rule", "sla_policy", "hold_reason", "summary"}.
 */
json_t *whatif_report(const struct whatif *w);

/* One side as the report shows it (a new reference). */
json_t *whatif_outcome_json(const struct whatif_outcome *o);

#endif
