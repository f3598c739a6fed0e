/*
 * skill.c - rep x segment conversion estimates with empirical-Bayes
 * shrinkage (see skill.h for the model).
 *
 * The rows are folded into cells (rep, segment): outcomes, wins, won values.
 * Reps and segments are interned through two small open-addressing tables;
 * cells are found through a third keyed by the pair of indices. Everything
 * the estimates need (margins, the global rate, the strength k) is computed
 * once when the table is built; skill_estimate() only looks up and computes
 * the posterior, its interval by bisection on the regularised incomplete
 * beta function.
 */
#include "core/skill.h"

#include "core/lead.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRENGTH_MIN 1.0
#define STRENGTH_MAX 1000.0

struct names {
    char **s;
    uint32_t *slot; /* index + 1, 0 empty */
    size_t n, cap, mask;
};

struct margin {
    int64_t n, wins, valued; /* valued: wins with a value */
    double value_sum;
};

struct cell {
    uint32_t rep, seg;
    struct margin m;
};

struct cellmap {
    struct cell *cells;
    uint32_t *cell_slot; /* index + 1 */
    size_t n_cells, cap_cells, cell_mask;
};

#define PARTS_MAX 8 /* fields of a segment key decomposed */

enum { GROUP_BASE, GROUP_REP, GROUP_PART, GROUP_SPLIT, GROUPS };

struct skill_table {
    struct names reps, segs, parts;
    struct margin *rep_m, *seg_m;
    double *seg_value;
    struct cellmap full;  /* rep x segment */
    struct cellmap split; /* rep x part ("name=value") */
    uint8_t *n_parts;     /* per segment: its parts (0 for the key "") */
    uint32_t (*seg_parts)[PARTS_MAX];
    uint32_t (*cell_split)[PARTS_MAX]; /* per full cell: its split cells */
    unsigned max_parts;
    double b0, *rep_eff, *part_eff, *split_eff; /* the additive model, log-odds */
    double var[4];                              /* per group of effects */
    double b0_pv, *rep_pv, *part_pv, *split_pv; /* each effect's posterior variance */
    struct margin all;
    double global, global_value, k;
    bool fixed;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h ^ (h >> 29);
}

static uint64_t hash_pair(uint32_t a, uint32_t b)
{
    uint64_t h = ((uint64_t)a << 32 | b) * UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 31);
}

static void names_free(struct names *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
}

static long names_find(const struct names *t, const char *s)
{
    if (!t->mask)
        return -1;
    for (size_t i = hash_str(s) & t->mask;; i = (i + 1) & t->mask) {
        if (!t->slot[i])
            return -1;
        if (strcmp(t->s[t->slot[i] - 1], s) == 0)
            return (long)t->slot[i] - 1;
    }
}

static void names_rehash(struct names *t, size_t slots)
{
    free(t->slot);
    t->slot = xcalloc(slots, sizeof(*t->slot));
    t->mask = slots - 1;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = hash_str(t->s[k]) & t->mask;
        while (t->slot[i])
            i = (i + 1) & t->mask;
        t->slot[i] = (uint32_t)(k + 1);
    }
}

static uint32_t names_add(struct names *t, const char *s)
{
    long f = names_find(t, s);
    if (f >= 0)
        return (uint32_t)f;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->s = xrealloc(t->s, t->cap * sizeof(*t->s));
    }
    t->s[t->n++] = xstrdup(s);
    if (2 * t->n > t->mask)
        names_rehash(t, t->mask ? 2 * (t->mask + 1) : 64);
    else {
        size_t i = hash_str(s) & t->mask;
        while (t->slot[i])
            i = (i + 1) & t->mask;
        t->slot[i] = (uint32_t)t->n;
    }
    return (uint32_t)(t->n - 1);
}

static long cell_find(const struct cellmap *t, uint32_t rep, uint32_t seg)
{
    if (!t->cell_mask)
        return -1;
    for (size_t i = hash_pair(rep, seg) & t->cell_mask;; i = (i + 1) & t->cell_mask) {
        uint32_t k = t->cell_slot[i];
        if (!k)
            return -1;
        if (t->cells[k - 1].rep == rep && t->cells[k - 1].seg == seg)
            return (long)k - 1;
    }
}

static void cells_rehash(struct cellmap *t, size_t slots)
{
    free(t->cell_slot);
    t->cell_slot = xcalloc(slots, sizeof(*t->cell_slot));
    t->cell_mask = slots - 1;
    for (size_t k = 0; k < t->n_cells; k++) {
        size_t i = hash_pair(t->cells[k].rep, t->cells[k].seg) & t->cell_mask;
        while (t->cell_slot[i])
            i = (i + 1) & t->cell_mask;
        t->cell_slot[i] = (uint32_t)(k + 1);
    }
}

static struct cell *cell_add(struct cellmap *t, uint32_t rep, uint32_t seg)
{
    long f = cell_find(t, rep, seg);
    if (f >= 0)
        return &t->cells[f];
    if (t->n_cells == t->cap_cells) {
        t->cap_cells = t->cap_cells ? 2 * t->cap_cells : 64;
        t->cells = xrealloc(t->cells, t->cap_cells * sizeof(*t->cells));
    }
    struct cell *c = &t->cells[t->n_cells++];
    memset(c, 0, sizeof(*c));
    c->rep = rep;
    c->seg = seg;
    if (2 * t->n_cells > t->cell_mask)
        cells_rehash(t, t->cell_mask ? 2 * (t->cell_mask + 1) : 128);
    else {
        size_t i = hash_pair(rep, seg) & t->cell_mask;
        while (t->cell_slot[i])
            i = (i + 1) & t->cell_mask;
        t->cell_slot[i] = (uint32_t)t->n_cells;
    }
    return c;
}

void skill_table_free(struct skill_table *t)
{
    if (!t)
        return;
    names_free(&t->reps);
    names_free(&t->segs);
    free(t->rep_m);
    free(t->seg_m);
    free(t->seg_value);
    names_free(&t->parts);
    free(t->rep_eff);
    free(t->part_eff);
    free(t->cell_split);
    free(t->full.cells);
    free(t->full.cell_slot);
    free(t->split.cells);
    free(t->split.cell_slot);
    free(t->n_parts);
    free(t->seg_parts);
    free(t->split_eff);
    free(t->rep_pv);
    free(t->part_pv);
    free(t->split_pv);
    free(t);
}

static double clamp_rate(double p)
{
    return p < 0.001 ? 0.001 : p > 0.999 ? 0.999 : p;
}

static double logistic(double x)
{
    return 1 / (1 + exp(-x));
}

/* prior(r, s): the additive log-odds model. A segment not in the table
 * still gets its known parts' effects (its key is split on the fly). `*pv`
 * gets the log-odds' posterior variance: the sum of the effects' own
 * (the diagonal approximation, as in the fit; an effect never fitted
 * contributes its group's variance, since it is unknown, not 0). */
static double eta_of(const struct skill_table *t, long rep, const long *parts, unsigned np,
                     double *pv)
{
    double x = t->b0 + (rep >= 0 ? t->rep_eff[rep] : 0);
    double v = t->b0_pv + (rep >= 0 ? t->rep_pv[rep] : t->var[GROUP_REP]);
    for (unsigned i = 0; i < np; i++) {
        if (parts[i] < 0) {
            v += t->var[GROUP_PART] + t->var[GROUP_SPLIT];
            continue;
        }
        x += t->part_eff[parts[i]];
        v += t->part_pv[parts[i]];
        long c = rep >= 0 ? cell_find(&t->split, (uint32_t)rep, (uint32_t)parts[i]) : -1;
        if (c >= 0) {
            x += t->split_eff[c];
            v += t->split_pv[c];
        } else {
            v += t->var[GROUP_SPLIT];
        }
    }
    *pv = v;
    return x;
}

static double seg_eta(const struct skill_table *t, long rep, long seg, double *pv)
{
    long parts[PARTS_MAX];
    unsigned np = seg >= 0 ? t->n_parts[seg] : 0;
    for (unsigned i = 0; i < np; i++)
        parts[i] = (long)t->seg_parts[seg][i];
    return eta_of(t, rep, parts, np, pv);
}

/* The parts ("name=value") of a key, looked up (-1: unknown). */
static unsigned key_parts(const struct skill_table *t, const char *key, long *out)
{
    char buf[SKILL_SEGMENT_MAX];
    snprintf(buf, sizeof(buf), "%s", key);
    unsigned n = 0;
    for (char *save = NULL, *part = strtok_r(buf, "|", &save); part && n < PARTS_MAX;
         part = strtok_r(NULL, "|", &save))
        out[n++] = names_find(&t->parts, part);
    return n;
}

/*
 * Method of moments: with cell rates x_i = wins_i / n_i scattered around
 * their priors m_i, E[sum n_i (x_i - m_i)^2] ~= tau2 (N - C) + sum m_i (1 -
 * m_i), where tau2 is the variance of the true rates around the priors and
 * C the number of cells. The prior of strength k has variance m (1 - m) /
 * (k + 1), so k = mean(m (1 - m)) / tau2 - 1.
 */
static double moments_strength(const struct skill_table *t)
{
    double s = 0, binom = 0, mm = 0, nn = 0;
    size_t c = 0;
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *x = &t->full.cells[i];
        if (x->m.n < 1)
            continue;
        double pv;
        double m = clamp_rate(logistic(seg_eta(t, (long)x->rep, (long)x->seg, &pv)));
        double rate = (double)x->m.wins / (double)x->m.n;
        s += (double)x->m.n * (rate - m) * (rate - m);
        binom += m * (1 - m);
        mm += (double)x->m.n * m * (1 - m);
        nn += (double)x->m.n;
        c++;
    }
    if (c < 2 || nn <= (double)c)
        return STRENGTH_MAX;
    double tau2 = (s - binom) / (nn - (double)c);
    if (!(tau2 > 0))
        return STRENGTH_MAX;
    double k = (mm / nn) / tau2 - 1;
    return k < STRENGTH_MIN ? STRENGTH_MIN : k > STRENGTH_MAX ? STRENGTH_MAX : k;
}

/* Splits every segment key into its parts and folds the full cells into
 * rep x part cells. */
static void split_parts(struct skill_table *t)
{
    t->n_parts = xcalloc(t->segs.n + 1, sizeof(*t->n_parts));
    t->seg_parts = xcalloc(t->segs.n + 1, sizeof(*t->seg_parts));
    t->max_parts = 0;
    for (size_t g = 0; g < t->segs.n; g++) {
        char buf[SKILL_SEGMENT_MAX];
        snprintf(buf, sizeof(buf), "%s", t->segs.s[g]);
        unsigned n = 0;
        for (char *save = NULL, *part = strtok_r(buf, "|", &save); part && n < PARTS_MAX;
             part = strtok_r(NULL, "|", &save))
            t->seg_parts[g][n++] = names_add(&t->parts, part);
        t->n_parts[g] = (uint8_t)n;
        if (n > t->max_parts)
            t->max_parts = n;
    }
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *c = &t->full.cells[i];
        struct margin m = c->m;
        uint32_t rep = c->rep, seg = c->seg;
        for (unsigned j = 0; j < t->n_parts[seg]; j++) {
            struct cell *x = cell_add(&t->split, rep, t->seg_parts[seg][j]);
            x->m.n += m.n;
            x->m.wins += m.wins;
        }
    }
    t->rep_eff = xcalloc(t->reps.n + 1, sizeof(*t->rep_eff));
    t->part_eff = xcalloc(t->parts.n + 1, sizeof(*t->part_eff));
    t->split_eff = xcalloc(t->split.n_cells + 1, sizeof(*t->split_eff));
    /* each full cell's split cells, for the fit */
    t->cell_split = xcalloc(t->full.n_cells + 1, sizeof(*t->cell_split));
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *c = &t->full.cells[i];
        for (unsigned j = 0; j < t->n_parts[c->seg]; j++)
            t->cell_split[i][j] = (uint32_t)cell_find(&t->split, c->rep, t->seg_parts[c->seg][j]);
    }
}

/* The fitted log-odds of full cell i. */
static double cell_eta(const struct skill_table *t, size_t i)
{
    const struct cell *c = &t->full.cells[i];
    double x = t->b0 + t->rep_eff[c->rep];
    for (unsigned j = 0; j < t->n_parts[c->seg]; j++)
        x += t->part_eff[t->seg_parts[c->seg][j]] + t->split_eff[t->cell_split[i][j]];
    return x;
}

/* A group's coefficients, their count and their posterior variances. */
static size_t group_n(const struct skill_table *t, int group)
{
    return group == GROUP_BASE   ? 1
           : group == GROUP_REP  ? t->reps.n
           : group == GROUP_PART ? t->parts.n
                                 : t->split.n_cells;
}

static double *group_beta(struct skill_table *t, int group)
{
    return group == GROUP_BASE   ? &t->b0
           : group == GROUP_REP  ? t->rep_eff
           : group == GROUP_PART ? t->part_eff
                                 : t->split_eff;
}

static double *group_pv(struct skill_table *t, int group)
{
    return group == GROUP_BASE   ? &t->b0_pv
           : group == GROUP_REP  ? t->rep_pv
           : group == GROUP_PART ? t->part_pv
                                 : t->split_pv;
}

/* One Newton step for every coefficient of a group at once (the gradient and
 * the diagonal of the Hessian of the penalised log-likelihood). The
 * coefficients of a part or split group overlap in a cell (one per field),
 * so their data curvature is scaled by the parts per key, which keeps the
 * step from overshooting. Returns the largest step; `h` gets the unscaled
 * data curvature per coefficient (`g` the gradient). */
static double group_step(struct skill_table *t, int group, double var, double *g, double *h)
{
    size_t n = group_n(t, group);
    double *beta = group_beta(t, group);
    memset(g, 0, n * sizeof(*g));
    memset(h, 0, n * sizeof(*h));
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *c = &t->full.cells[i];
        double mu = logistic(cell_eta(t, i));
        double gi = (double)c->m.wins - (double)c->m.n * mu, hi = (double)c->m.n * mu * (1 - mu);
        if (group == GROUP_BASE) {
            g[0] += gi;
            h[0] += hi;
        } else if (group == GROUP_REP) {
            g[c->rep] += gi;
            h[c->rep] += hi;
        } else {
            for (unsigned j = 0; j < t->n_parts[c->seg]; j++) {
                size_t k = group == GROUP_PART ? t->seg_parts[c->seg][j] : t->cell_split[i][j];
                g[k] += gi;
                h[k] += hi;
            }
        }
    }
    double scale = group >= GROUP_PART && t->max_parts > 1 ? (double)t->max_parts : 1;
    double biggest = 0;
    for (size_t k = 0; k < n; k++) {
        double pen = group == GROUP_BASE ? 0 : 1 / var;
        double den = scale * h[k] + pen;
        if (!(den > 0))
            continue;
        double step = (g[k] - pen * beta[k]) / den;
        step = step > 1 ? 1 : step < -1 ? -1 : step;
        beta[k] += step;
        if (fabs(step) > biggest)
            biggest = fabs(step);
    }
    return biggest;
}

#define VAR_MIN 1e-4
#define VAR_MAX 4.0

/*
 * The additive model: logit p(r, s) = b0 + rep_r + sum over the key's parts
 * v of (part_v + split_rv), each group of effects Gaussian around 0 with its
 * own variance. The effects are the posterior modes (penalised logistic
 * regression on the cells); the variances are estimated from the data by
 * EM with the diagonal approximation of the posterior variance: var = mean
 * of (beta^2 + 1 / curvature). A group whose effects are noise gets a small
 * variance and its effects shrink to 0; a real spread of skill keeps its
 * size.
 */
static void fit_additive(struct skill_table *t)
{
    size_t most = t->reps.n;
    if (t->parts.n > most)
        most = t->parts.n;
    if (t->split.n_cells > most)
        most = t->split.n_cells;
    double *g = xcalloc(most + 1, sizeof(*g)), *h = xcalloc(most + 1, sizeof(*h));
    double g0 = t->global > 0 && t->global < 1 ? t->global : 0.5;
    t->b0 = log(g0 / (1 - g0));
    t->var[GROUP_REP] = t->var[GROUP_PART] = t->var[GROUP_SPLIT] = 0.1;
    for (int outer = 0; outer < 12; outer++) {
        for (int sweep = 0; sweep < 40; sweep++) {
            double biggest = 0;
            for (int grp = 0; grp < GROUPS; grp++) {
                double s = group_step(t, grp, t->var[grp], g, h);
                if (s > biggest)
                    biggest = s;
            }
            if (biggest < 1e-6)
                break;
        }
        for (int grp = GROUP_REP; grp < GROUPS; grp++) {
            size_t n = group_n(t, grp);
            const double *beta = group_beta(t, grp);
            if (!n)
                continue;
            /* the curvature at the mode (one more, small, step) */
            (void)group_step(t, grp, t->var[grp], g, h);
            double sum = 0;
            for (size_t k = 0; k < n; k++)
                sum += beta[k] * beta[k] + 1 / (h[k] + 1 / t->var[grp]);
            double v = sum / (double)n;
            t->var[grp] = v < VAR_MIN ? VAR_MIN : v > VAR_MAX ? VAR_MAX : v;
        }
    }
    for (int sweep = 0; sweep < 40; sweep++) {
        double biggest = 0;
        for (int grp = 0; grp < GROUPS; grp++) {
            double s = group_step(t, grp, t->var[grp], g, h);
            if (s > biggest)
                biggest = s;
        }
        if (biggest < 1e-7)
            break;
    }
    /* Each effect's posterior variance at the mode: 1 / (data curvature +
     * prior precision), the diagonal approximation the EM uses. */
    t->rep_pv = xcalloc(t->reps.n + 1, sizeof(double));
    t->part_pv = xcalloc(t->parts.n + 1, sizeof(double));
    t->split_pv = xcalloc(t->split.n_cells + 1, sizeof(double));
    for (int grp = 0; grp < GROUPS; grp++) {
        size_t n = group_n(t, grp);
        double *pv = group_pv(t, grp);
        (void)group_step(t, grp, t->var[grp], g, h);
        for (size_t k = 0; k < n; k++) {
            double prec = h[k] + (grp == GROUP_BASE ? 0 : 1 / t->var[grp]);
            pv[k] = prec > 0 ? 1 / prec : VAR_MAX;
        }
    }
    free(g);
    free(h);
}

/* Margins, the global rates, the additive model and k from the cells. */
static void finish(struct skill_table *t, double strength)
{
    t->rep_m = xcalloc(t->reps.n + 1, sizeof(*t->rep_m));
    t->seg_m = xcalloc(t->segs.n + 1, sizeof(*t->seg_m));
    t->seg_value = xcalloc(t->segs.n + 1, sizeof(*t->seg_value));
    memset(&t->all, 0, sizeof(t->all));
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *c = &t->full.cells[i];
        struct margin *ms[3] = {&t->rep_m[c->rep], &t->seg_m[c->seg], &t->all};
        for (int j = 0; j < 3; j++) {
            ms[j]->n += c->m.n;
            ms[j]->wins += c->m.wins;
            ms[j]->valued += c->m.valued;
            ms[j]->value_sum += c->m.value_sum;
        }
    }
    split_parts(t);
    t->global = t->all.n ? (double)t->all.wins / (double)t->all.n : 0.5;
    t->global_value = t->all.valued ? t->all.value_sum / (double)t->all.valued : 0;
    t->fixed = strength > 0;
    fit_additive(t);
    double k = t->fixed ? strength : moments_strength(t);
    t->k = k;
    for (size_t i = 0; i < t->segs.n; i++)
        t->seg_value[i] = t->all.valued ? (t->seg_m[i].value_sum + k * t->global_value) /
                                              ((double)t->seg_m[i].valued + k)
                                        : 0;
}

static bt_err check_strength(const struct skill_options *opts, struct bt_error *err)
{
    if (opts && opts->strength != 0 &&
        !(opts->strength >= STRENGTH_MIN && opts->strength <= STRENGTH_MAX))
        return bt_fail(err, BT_EINVAL, "strength", "skill strength %g is outside %g to %g",
                       opts->strength, STRENGTH_MIN, STRENGTH_MAX);
    return BT_OK;
}

static bt_err check_names(const char *rep, const char *seg, size_t i, struct bt_error *err)
{
    if (!rep || !*rep || strnlen(rep, SKILL_SEGMENT_MAX) >= SKILL_SEGMENT_MAX)
        return bt_fail(err, BT_EINVAL, "rep_id", "outcome %zu: rep id must be 1 to %d bytes", i + 1,
                       SKILL_SEGMENT_MAX - 1);
    if (!seg || strnlen(seg, SKILL_SEGMENT_MAX) >= SKILL_SEGMENT_MAX)
        return bt_fail(err, BT_ETOOBIG, "segment", "outcome %zu: segment key over %d bytes", i + 1,
                       SKILL_SEGMENT_MAX - 1);
    return BT_OK;
}

bt_err skill_table_build(const struct skill_outcome *rows, size_t n,
                         const struct skill_options *opts, struct skill_table **out,
                         struct bt_error *err)
{
    if (!out || (n && !rows))
        BT_BUG("skill_table_build: NULL argument");
    *out = NULL;
    if (n > SKILL_ROWS_MAX)
        return bt_fail(err, BT_ETOOBIG, "rows", "%zu outcomes, at most %d", n, SKILL_ROWS_MAX);
    bt_err rc = check_strength(opts, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = check_names(rows[i].rep_id, rows[i].segment, i, err)))
            return rc;
        if (!isfinite(rows[i].value) || rows[i].value < 0)
            return bt_fail(err, BT_EINVAL, "value", "outcome %zu: value must be 0 or more", i + 1);
    }
    struct skill_table *t = xcalloc(1, sizeof(*t));
    for (size_t i = 0; i < n; i++) {
        uint32_t r = names_add(&t->reps, rows[i].rep_id);
        uint32_t s = names_add(&t->segs, rows[i].segment);
        struct cell *c = cell_add(&t->full, r, s);
        c->m.n++;
        if (rows[i].won) {
            c->m.wins++;
            if (rows[i].value > 0) {
                c->m.valued++;
                c->m.value_sum += rows[i].value;
            }
        }
    }
    finish(t, opts ? opts->strength : 0);
    *out = t;
    return BT_OK;
}

/* --- the posterior interval ------------------------------------------------ */

void skill_estimate(const struct skill_table *t, const char *rep_id, const char *segment,
                    struct skill_estimate *out)
{
    if (!t || !out)
        BT_BUG("skill_estimate: NULL argument");
    long r = rep_id ? names_find(&t->reps, rep_id) : -1;
    long s = segment ? names_find(&t->segs, segment) : -1;
    double pv, eta;
    if (s >= 0) {
        eta = seg_eta(t, r, s, &pv);
    } else {
        long parts[PARTS_MAX];
        unsigned np = segment ? key_parts(t, segment, parts) : 0;
        eta = eta_of(t, r, parts, np, &pv);
    }
    double prior = clamp_rate(logistic(eta));
    long c = r >= 0 && s >= 0 ? cell_find(&t->full, (uint32_t)r, (uint32_t)s) : -1;
    int64_t n = c >= 0 ? t->full.cells[c].m.n : 0, wins = c >= 0 ? t->full.cells[c].m.wins : 0;
    double a = (double)wins + t->k * prior, b = (double)(n - wins) + t->k * (1 - prior);
    double p = a / (a + b);
    /* The spread, in log-odds: before the cell's own outcomes, the prior's
     * uncertainty (the fit's posterior variance) and the cell's departure
     * from it (a Beta of strength k around m has log-odds variance about
     * 1 / ((k + 1) m (1 - m))); the cell's n outcomes then add n p (1 - p)
     * of precision. */
    double before = pv + 1 / ((t->k + 1) * prior * (1 - prior));
    double sd = sqrt(1 / (1 / before + (double)n * p * (1 - p)));
    double lp = log(p / (1 - p));
    out->p = p;
    out->sd = sd;
    out->prior = prior;
    out->n = n;
    out->wins = wins;
    out->low = logistic(lp - 1.6449 * sd);
    out->high = logistic(lp + 1.6449 * sd);
    out->value = s >= 0 ? t->seg_value[s] : t->global_value;
}

double skill_strength(const struct skill_table *t)
{
    return t->k;
}

double skill_global_rate(const struct skill_table *t)
{
    return t->global;
}

size_t skill_outcomes(const struct skill_table *t)
{
    return (size_t)t->all.n;
}

bt_err skill_segment_key(const char *const *names, const char *const *values, size_t n, char *out,
                         struct bt_error *err)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i];
        if (!v || !*v || !names[i])
            continue;
        size_t nl = strlen(names[i]), vl = strlen(v);
        size_t need = (len ? 1 : 0) + nl + 1 + vl;
        if (len + need >= SKILL_SEGMENT_MAX) {
            out[0] = '\0';
            return bt_fail(err, BT_ETOOBIG, names[i], "the segment key is over %d bytes",
                           SKILL_SEGMENT_MAX - 1);
        }
        if (len)
            out[len++] = '|';
        memcpy(out + len, names[i], nl);
        len += nl;
        out[len++] = '=';
        for (size_t j = 0; j < vl; j++) {
            char ch = v[j];
            /* '|' and '=' would make keys ambiguous */
            out[len++] = ch == '|' || ch == '=' ? '_' : (char)tolower((unsigned char)ch);
        }
        out[len] = '\0';
    }
    return BT_OK;
}

/* --- JSON ------------------------------------------------------------------ */

json_t *skill_table_to_json(const struct skill_table *t)
{
    json_t *cells = json_array();
    for (size_t i = 0; i < t->full.n_cells; i++) {
        const struct cell *c = &t->full.cells[i];
        json_array_append_new(cells,
                              json_pack("[s s I I I f]", t->reps.s[c->rep], t->segs.s[c->seg],
                                        (json_int_t)c->m.n, (json_int_t)c->m.wins,
                                        (json_int_t)c->m.valued, c->m.value_sum));
    }
    return json_pack("{s:i s:f s:b s:f s:I s:o}", "version", 1, "strength", t->k, "fixed", t->fixed,
                     "global_rate", t->global, "outcomes", (json_int_t)t->all.n, "cells", cells);
}

bt_err skill_table_from_json(const json_t *j, struct skill_table **out, struct bt_error *err)
{
    if (!out)
        BT_BUG("skill_table_from_json: NULL argument");
    *out = NULL;
    json_t *cells = json_object_get(j, "cells");
    json_t *k = json_object_get(j, "strength");
    json_t *fixed = json_object_get(j, "fixed");
    if (!json_is_object(j) || !json_is_array(cells) || !json_is_number(k))
        return bt_fail(err, BT_EINVAL, "skill", "a skill table needs strength and cells");
    double strength = json_number_value(k);
    if (json_is_true(fixed) && !(strength >= STRENGTH_MIN && strength <= STRENGTH_MAX))
        return bt_fail(err, BT_EINVAL, "strength", "skill strength out of range");
    if (json_array_size(cells) > SKILL_ROWS_MAX)
        return bt_fail(err, BT_ETOOBIG, "cells", "too many skill cells");
    struct skill_table *t = xcalloc(1, sizeof(*t));
    size_t i;
    json_t *c;
    json_array_foreach(cells, i, c)
    {
        json_t *rep = json_array_get(c, 0), *seg = json_array_get(c, 1);
        json_t *nn = json_array_get(c, 2), *w = json_array_get(c, 3);
        json_t *vd = json_array_get(c, 4), *vs = json_array_get(c, 5);
        bt_err rc;
        if (!json_is_array(c) || json_array_size(c) != 6 || !json_is_string(rep) ||
            !json_is_string(seg) || !json_is_integer(nn) || !json_is_integer(w) ||
            !json_is_integer(vd) || !json_is_number(vs)) {
            skill_table_free(t);
            return bt_fail(err, BT_EINVAL, "cells", "skill cell %zu is malformed", i + 1);
        }
        if ((rc = check_names(json_string_value(rep), json_string_value(seg), i, err))) {
            skill_table_free(t);
            return rc;
        }
        json_int_t n = json_integer_value(nn), wins = json_integer_value(w),
                   valued = json_integer_value(vd);
        double sum = json_number_value(vs);
        if (n < 0 || n > SKILL_ROWS_MAX || wins < 0 || wins > n || valued < 0 || valued > wins ||
            !isfinite(sum) || sum < 0) {
            skill_table_free(t);
            return bt_fail(err, BT_EINVAL, "cells", "skill cell %zu has impossible counts", i + 1);
        }
        uint32_t r = names_add(&t->reps, json_string_value(rep));
        uint32_t s = names_add(&t->segs, json_string_value(seg));
        struct cell *x = cell_add(&t->full, r, s);
        if (x->m.n) {
            skill_table_free(t);
            return bt_fail(err, BT_EINVAL, "cells", "skill cell %zu is repeated", i + 1);
        }
        x->m = (struct margin){n, wins, valued, sum};
    }
    finish(t, json_is_true(fixed) ? strength : 0);
    *out = t;
    return BT_OK;
}

/* --- segments of stored leads ---------------------------------------------- */

bool skill_segment_path_valid(const char *path)
{
    if (!path)
        return false;
    if (strncmp(path, "fields.", 7) == 0) {
        size_t n = strlen(path + 7);
        return n >= 1 && n <= LEAD_FIELD_KEY_MAX;
    }
    return lead_attr_find(path) >= 0;
}

#define SEGMENT_FIELDS_MAX 8

bt_err skill_lead_segment(const struct lead *l, const char *const *paths, size_t n, char *out,
                          struct bt_error *err)
{
    if (n > SEGMENT_FIELDS_MAX)
        return bt_fail(err, BT_EINVAL, "segments", "at most %d segment fields", SEGMENT_FIELDS_MAX);
    const char *values[SEGMENT_FIELDS_MAX] = {0};
    char num[SEGMENT_FIELDS_MAX][32];
    json_t *fields = NULL;
    bt_err rc = BT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *p = paths[i];
        if (p && strncmp(p, "fields.", 7) == 0 && skill_segment_path_valid(p)) {
            if (!fields && l->fields_json)
                fields = json_loads(l->fields_json, 0, NULL);
            json_t *v = json_object_get(fields, p + 7);
            if (json_is_string(v)) {
                values[i] = json_string_value(v);
            } else if (json_is_integer(v)) {
                snprintf(num[i], sizeof(num[i]), "%lld", (long long)json_integer_value(v));
                values[i] = num[i];
            } else if (json_is_real(v)) {
                snprintf(num[i], sizeof(num[i]), "%g", json_real_value(v));
                values[i] = num[i];
            } else if (json_is_boolean(v)) {
                values[i] = json_is_true(v) ? "true" : "false";
            }
            continue;
        }
        int a = p ? lead_attr_find(p) : -1;
        if (a < 0)
            rc = bt_fail(err, BT_EINVAL, "segments", "'%s' is not a lead attribute or fields.NAME",
                         p ? p : "(null)");
        else
            values[i] = l->attr[a];
    }
    if (!rc)
        rc = skill_segment_key(paths, values, n, out, err);
    json_decref(fields);
    return rc;
}
