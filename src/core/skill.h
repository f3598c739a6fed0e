/*
 * skill.h - how well each rep converts each kind of lead, estimated from
 * outcome history without mistaking luck for talent.
 *
 * The history is a list of closed outcomes: which rep worked the lead, the
 * lead's segment (a key made of the configured segment fields, e.g.
 * "industry=software|employees_band=51-200"), won or not, and the value.
 * Raw per-cell rates are noise for small cells (a rep with three deals, all
 * won, is not a genius), so every estimate is shrunk toward a prior from an
 * additive log-odds model fitted to all the outcomes (empirical Bayes):
 *
 *   logit prior(r, s) = b0 + rep_r + sum over the parts v of s of
 *                       (part_v + rep_r x part_v)
 *
 *   where the parts are the key's "name=value" pieces ("industry=software",
 *   "employees_band=51-200"): a rep good with software is so whatever the
 *   size, and the rep x part cells have far more outcomes than the full
 *   cells. Each group of effects (rep, part, rep x part) is Gaussian around
 *   0 with its own variance; the effects are the posterior modes (penalised
 *   logistic regression over the cells), the variances estimated from the
 *   data by EM (12 rounds, diagonal approximation of the posterior
 *   variance): a group that is noise shrinks to 0, a real spread keeps its
 *   size.
 *   estimate     p = (wins_rs + k * prior) / (n_rs + k)
 *   spread       sd^2 = 1 / (1 / (v + 1 / ((k + 1) m (1 - m))) + n_rs p (1 - p))
 *                in log-odds, m the prior, v its posterior variance from
 *                the fit (the sum of its effects' own, diagonal
 *                approximation): what is not known about the additive
 *                model, how far a cell may depart from it, and the cell's
 *                own outcomes
 *   interval     logistic(logit p +- 1.645 sd), the central 90 %
 *
 * k, the prior's strength in pseudo-outcomes (how much the full cell may
 * depart from the additive model), is estimated from the data by the method
 * of moments over the rep-segment cells (between-cell variance against the
 * binomial variance), clamped to [1, 1000], unless the options fix it. A rep
 * never seen gets no rep effects; a segment never seen gets the effects of
 * its known parts.
 * Values: the mean won value per segment, shrunk the same way toward the
 * global mean won value, for expected value = p * value.
 *
 * Pure: builds in memory from the caller's rows; the table is immutable and
 * may be shared by threads.
 */
#ifndef BT_CORE_SKILL_H
#define BT_CORE_SKILL_H

#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKILL_SEGMENT_MAX 512 /* bytes of a segment key */
#define SKILL_ROWS_MAX    50000000

struct skill_outcome {
    const char *rep_id;
    const char *segment; /* "" when the lead has none of the segment fields */
    bool won;
    double value; /* won value, 0 when unknown */
};

struct skill_options {
    double strength; /* k; 0: estimated from the data */
};

struct skill_table;

bt_err skill_table_build(const struct skill_outcome *rows, size_t n,
                         const struct skill_options *opts, struct skill_table **out,
                         struct bt_error *err) BT_MUST_USE;
void skill_table_free(struct skill_table *t);

struct skill_estimate {
    double p;         /* the shrunk conversion rate */
    double sd;        /* its uncertainty: standard deviation in log-odds */
    double low, high; /* its 90 % interval: logit(p) +- 1.645 sd */
    double prior;     /* prior(r, s) */
    int64_t n, wins;  /* the rep's own outcomes in the segment */
    double value;     /* expected won value in the segment (0 when values are unknown) */
};

void skill_estimate(const struct skill_table *t, const char *rep_id, const char *segment,
                    struct skill_estimate *out);

/* The strength used, the global rate, and the counts: for reports. */
double skill_strength(const struct skill_table *t);
double skill_global_rate(const struct skill_table *t);
size_t skill_outcomes(const struct skill_table *t);

/* The segment key of a lead from the values of the segment fields, in the
 * configured order: "name=value|name=value" (values lower-cased, missing
 * fields left out). `out` has SKILL_SEGMENT_MAX bytes; BT_ETOOBIG past it. */
bt_err skill_segment_key(const char *const *names, const char *const *values, size_t n, char *out,
                         struct bt_error *err) BT_MUST_USE;

/* The segment key of a stored lead: `paths` are lead attribute names
 * (industry, employees_band, country, ...) or fields.NAME (a custom field:
 * a string, number or boolean; other kinds count as missing). The names in
 * the key are the paths. Errors as skill_segment_key; BT_EINVAL for a path
 * that is neither (which the configuration refuses earlier). */
struct lead;
bt_err skill_lead_segment(const struct lead *l, const char *const *paths, size_t n, char *out,
                          struct bt_error *err) BT_MUST_USE;
/* Whether `path` can name a segment field (an attribute or fields.NAME). */
bool skill_segment_path_valid(const char *path);

/* The table as JSON (its rows' counts, for the store and reports), and back. */
json_t *skill_table_to_json(const struct skill_table *t);
bt_err skill_table_from_json(const json_t *j, struct skill_table **out,
                             struct bt_error *err) BT_MUST_USE;

#endif
