/*
 * world.c - the generated world and the strategy race (see world.h).
 *
 * Randomness is one splitmix64 stream per purpose (skills, leads, presence,
 * outcomes), each seeded from the spec's seed, so that changing the length
 * of the test period does not change the hidden skills. Every strategy sees
 * the very same leads, presence and outcome draws.
 */
#include "core/world.h"

#include "core/skill.h"
#include "core/strategy.h"
#include "util/arena.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMBOS_MAX 10000

static const char *const strategy_names[WORLD_STRATEGIES] = {"round_robin", "load_balanced",
                                                             "fair_share", "best_match", "oracle"};

const char *world_strategy_name(enum world_strategy s)
{
    return (unsigned)s < WORLD_STRATEGIES ? strategy_names[s] : "unknown";
}

/* --- randomness ------------------------------------------------------------ */

static uint64_t next_u64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform(uint64_t *x)
{
    return (double)(next_u64(x) >> 11) / 9007199254740992.0;
}

static double normal(uint64_t *x)
{
    double u = uniform(x), v = uniform(x);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static size_t pick(uint64_t *x, const double *shares, size_t n)
{
    double u = uniform(x), acc = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        acc += shares[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

/* --- the spec -------------------------------------------------------------- */

void world_spec_free(struct world_spec *s)
{
    for (size_t i = 0; i < s->n_reps; i++)
        free(s->rep_ids[i]);
    for (size_t f = 0; f < s->n_fields; f++) {
        free(s->fields[f].name);
        for (size_t v = 0; v < s->fields[f].n_values; v++)
            free(s->fields[f].values[v]);
    }
    memset(s, 0, sizeof(*s));
}

static bt_err get_number(const json_t *o, const char *key, double lo, double hi, double def,
                         double *out, struct bt_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        *out = def;
        return BT_OK;
    }
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return bt_fail(err, BT_EINVAL, key, "%s must be a number from %g to %g", key, lo, hi);
    *out = json_number_value(v);
    return BT_OK;
}

static bt_err get_count(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t def,
                        int64_t *out, struct bt_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        *out = def;
        return BT_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bt_fail(err, BT_EINVAL, key, "%s must be a whole number from %lld to %lld", key,
                       (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return BT_OK;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 && !strpbrk(s, "|=");
}

static bt_err parse_reps(const json_t *reps, struct world_spec *s, struct bt_error *err)
{
    if (json_is_integer(reps)) {
        json_int_t n = json_integer_value(reps);
        if (n < 2 || n > WORLD_REPS_MAX)
            return bt_fail(err, BT_EINVAL, "reps", "reps: 2 to %d", WORLD_REPS_MAX);
        for (json_int_t i = 0; i < n; i++) {
            char id[16];
            snprintf(id, sizeof(id), "rep%02d", (int)i + 1);
            s->rep_ids[i] = xstrdup(id);
            s->weights[i] = 1;
            s->n_reps++;
        }
        return BT_OK;
    }
    if (!json_is_array(reps) || json_array_size(reps) < 2 || json_array_size(reps) > WORLD_REPS_MAX)
        return bt_fail(err, BT_EINVAL, "reps",
                       "reps: a count, or a list of 2 to %d reps ({id, weight})", WORLD_REPS_MAX);
    size_t i;
    const json_t *r;
    json_array_foreach(reps, i, r)
    {
        const json_t *id = json_is_object(r) ? json_object_get(r, "id") : r;
        if (!json_is_string(id) || !good_name(json_string_value(id)))
            return bt_fail(err, BT_EINVAL, "reps", "reps[%zu]: an id of 1 to 64 characters", i);
        for (size_t k = 0; k < s->n_reps; k++)
            if (strcmp(s->rep_ids[k], json_string_value(id)) == 0)
                return bt_fail(err, BT_EINVAL, "reps", "reps[%zu]: %s is listed twice", i,
                               json_string_value(id));
        double w = 1;
        if (json_is_object(r)) {
            bt_err rc =
                get_number(r, "weight", STRATEGY_WEIGHT_MIN, STRATEGY_WEIGHT_MAX, 1, &w, err);
            if (rc)
                return rc;
        }
        s->rep_ids[s->n_reps] = xstrdup(json_string_value(id));
        s->weights[s->n_reps++] = w;
    }
    return BT_OK;
}

static bt_err parse_segments(const json_t *segs, struct world_spec *s, struct bt_error *err)
{
    if (!json_is_object(segs) || json_object_size(segs) < 1 ||
        json_object_size(segs) > WORLD_FIELDS_MAX)
        return bt_fail(err, BT_EINVAL, "segments",
                       "segments: 1 to %d fields, each a map of value: share", WORLD_FIELDS_MAX);
    const char *name;
    const json_t *vals;
    size_t combos = 1;
    json_object_foreach((json_t *)segs, name, vals)
    {
        if (!good_name(name))
            return bt_fail(err, BT_EINVAL, "segments", "segments: a bad field name");
        if (!json_is_object(vals) || json_object_size(vals) < 1 ||
            json_object_size(vals) > WORLD_VALUES_MAX)
            return bt_fail(err, BT_EINVAL, "segments", "segments.%s: 1 to %d values with shares",
                           name, WORLD_VALUES_MAX);
        struct world_field *f = &s->fields[s->n_fields++];
        f->name = xstrdup(name);
        const char *v;
        const json_t *share;
        double sum = 0;
        json_object_foreach((json_t *)vals, v, share)
        {
            if (!good_name(v) || !json_is_number(share) || !(json_number_value(share) > 0) ||
                json_number_value(share) > 1e6)
                return bt_fail(err, BT_EINVAL, "segments",
                               "segments.%s: each value needs a share > 0", name);
            f->values[f->n_values] = xstrdup(v);
            f->shares[f->n_values++] = json_number_value(share);
            sum += json_number_value(share);
        }
        for (size_t k = 0; k < f->n_values; k++)
            f->shares[k] /= sum;
        combos *= f->n_values;
    }
    if (combos > COMBOS_MAX)
        return bt_fail(err, BT_EINVAL, "segments", "segments: %zu combinations, at most %d", combos,
                       COMBOS_MAX);
    return BT_OK;
}

bt_err world_spec_from_json(const json_t *j, struct world_spec *s, struct bt_error *err)
{
    memset(s, 0, sizeof(*s));
    if (!json_is_object(j))
        return bt_fail(err, BT_EINVAL, NULL, "a world is a mapping (reps, segments, skill, ...)");
    static const char *const known[] = {"seed",       "reps",     "segments",      "skill",
                                        "warmup",     "test",     "refresh_every", "absence",
                                        "open_leads", "tolerance"};
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        bool ok = false;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            ok |= strcmp(key, known[k]) == 0;
        if (!ok)
            return bt_fail(err, BT_EINVAL, key, "unknown key '%s' in the world", key);
    }
    const json_t *skill = json_object_get(j, "skill");
    if (skill && !json_is_object(skill))
        return bt_fail(err, BT_EINVAL, "skill",
                       "skill: a map of base, rep_spread, segment_spread, match_spread");
    json_t *none = skill ? NULL : json_object(); /* no skill: every default */
    if (!skill)
        skill = none;
    int64_t seed = 1;
    bt_err rc;
    if ((rc = get_count(j, "seed", 0, INT64_MAX, 1, &seed, err)) ||
        (rc = get_count(j, "warmup", 0, WORLD_LEADS_MAX, 5000, &s->warmup, err)) ||
        (rc = get_count(j, "test", 1, WORLD_LEADS_MAX, 20000, &s->test, err)) ||
        (rc = get_count(j, "refresh_every", 0, WORLD_LEADS_MAX, 1000, &s->refresh_every, err)) ||
        (rc = get_count(j, "open_leads", 1, 100000, 40, &s->open_leads, err)) ||
        (rc = get_number(j, "absence", 0, 0.9, 0.05, &s->absence, err)) ||
        (rc = get_number(j, "tolerance", 0, 10, 0.2, &s->tolerance, err)) ||
        (rc = get_number(skill, "base", 0.001, 0.999, 0.12, &s->base, err)) ||
        (rc = get_number(skill, "rep_spread", 0, 3, 0.2, &s->rep_spread, err)) ||
        (rc = get_number(skill, "segment_spread", 0, 3, 0.5, &s->segment_spread, err)) ||
        (rc = get_number(skill, "match_spread", 0, 3, 0.5, &s->match_spread, err))) {
        json_decref(none);
        goto fail;
    }
    json_decref(none);
    s->seed = (uint64_t)seed;
    const json_t *reps = json_object_get(j, "reps");
    const json_t *segs = json_object_get(j, "segments");
    if (!reps) {
        rc = bt_fail(err, BT_EINVAL, "reps", "the world needs reps");
        goto fail;
    }
    if (!segs) {
        rc = bt_fail(err, BT_EINVAL, "segments", "the world needs segments");
        goto fail;
    }
    if ((rc = parse_reps(reps, s, err)) || (rc = parse_segments(segs, s, err)))
        goto fail;
    return BT_OK;
fail:
    world_spec_free(s);
    return rc;
}

/* --- the race -------------------------------------------------------------- */

struct lead {
    uint32_t combo;
    double u; /* the outcome draw */
};

struct world {
    const struct world_spec *spec;
    size_t n_combos;
    double *p;  /* [rep * n_combos + combo]: the hidden rates */
    char **key; /* [combo]: the segment key */
    struct lead *leads;
    uint8_t *present; /* [lead * n_reps + rep] */
    int64_t n_leads;
};

static double logit(double p)
{
    return log(p / (1 - p));
}

static double logistic(double x)
{
    return 1 / (1 + exp(-x));
}

static void combo_values(const struct world_spec *s, size_t combo, size_t *idx)
{
    for (size_t f = s->n_fields; f-- > 0;) {
        idx[f] = combo % s->fields[f].n_values;
        combo /= s->fields[f].n_values;
    }
}

static bt_err build(struct world *w, const struct world_spec *s, struct bt_error *err)
{
    memset(w, 0, sizeof(*w));
    w->spec = s;
    w->n_combos = 1;
    for (size_t f = 0; f < s->n_fields; f++)
        w->n_combos *= s->fields[f].n_values;
    uint64_t rs = s->seed * 4 + 1, ls = s->seed * 4 + 2, ps = s->seed * 4 + 3;
    double rep[WORLD_REPS_MAX];
    double seg[WORLD_FIELDS_MAX][WORLD_VALUES_MAX];
    double match[WORLD_REPS_MAX][WORLD_FIELDS_MAX][WORLD_VALUES_MAX];
    double per_field = sqrt((double)s->n_fields);
    for (size_t f = 0; f < s->n_fields; f++)
        for (size_t v = 0; v < s->fields[f].n_values; v++)
            seg[f][v] = normal(&rs) * s->segment_spread / per_field;
    for (size_t r = 0; r < s->n_reps; r++) {
        rep[r] = normal(&rs) * s->rep_spread;
        for (size_t f = 0; f < s->n_fields; f++)
            for (size_t v = 0; v < s->fields[f].n_values; v++)
                match[r][f][v] = normal(&rs) * s->match_spread / per_field;
    }
    w->p = xmalloc(s->n_reps * w->n_combos * sizeof(*w->p));
    w->key = xcalloc(w->n_combos, sizeof(*w->key));
    double combo_share[COMBOS_MAX];
    for (size_t c = 0; c < w->n_combos; c++) {
        size_t idx[WORLD_FIELDS_MAX];
        combo_values(s, c, idx);
        const char *names[WORLD_FIELDS_MAX], *values[WORLD_FIELDS_MAX];
        combo_share[c] = 1;
        for (size_t f = 0; f < s->n_fields; f++) {
            names[f] = s->fields[f].name;
            values[f] = s->fields[f].values[idx[f]];
            combo_share[c] *= s->fields[f].shares[idx[f]];
        }
        char key[SKILL_SEGMENT_MAX];
        bt_err rc = skill_segment_key(names, values, s->n_fields, key, err);
        if (rc)
            return rc;
        w->key[c] = xstrdup(key);
        for (size_t r = 0; r < s->n_reps; r++) {
            double x = logit(s->base) + rep[r];
            for (size_t f = 0; f < s->n_fields; f++)
                x += seg[f][idx[f]] + match[r][f][idx[f]];
            w->p[r * w->n_combos + c] = logistic(x);
        }
    }
    w->n_leads = s->warmup + s->test;
    w->leads = xmalloc((size_t)w->n_leads * sizeof(*w->leads));
    w->present = xmalloc((size_t)w->n_leads * s->n_reps);
    /* spells of absence: away -> back with 1/10 per lead; present -> away so
     * that the long-run share away is `absence` */
    double back = 0.1, leave = s->absence >= 1 ? 1 : back * s->absence / (1 - s->absence);
    uint8_t now[WORLD_REPS_MAX];
    for (size_t r = 0; r < s->n_reps; r++)
        now[r] = uniform(&ps) >= s->absence;
    for (int64_t i = 0; i < w->n_leads; i++) {
        w->leads[i].combo = (uint32_t)pick(&ls, combo_share, w->n_combos);
        w->leads[i].u = uniform(&ls);
        for (size_t r = 0; r < s->n_reps; r++) {
            double t = uniform(&ps);
            now[r] = now[r] ? t >= leave : t < back;
            w->present[(size_t)i * s->n_reps + r] = now[r];
        }
    }
    return BT_OK;
}

static void world_free(struct world *w)
{
    for (size_t c = 0; c < w->n_combos; c++)
        free(w->key ? w->key[c] : NULL);
    free(w->key);
    free(w->p);
    free(w->leads);
    free(w->present);
}

/* A pool as the engine keeps it: the state copied out of the arena. */
struct racer {
    enum strategy_kind kind;
    struct pool_state state;
    struct pool_state_entry entries[WORLD_REPS_MAX];
    const char *last;
    struct arena arena;
};

static bt_err decide(struct racer *rc, struct pool_member *m, size_t n, int64_t now,
                     double tolerance, int *chosen, struct bt_error *err)
{
    arena_release(&rc->arena);
    struct strategy_input in = {.strategy = rc->kind,
                                .absence = ABSENCE_NO_CATCH_UP,
                                .members = m,
                                .n_members = n,
                                .state = &rc->state,
                                .now = now,
                                .window_start = 0,
                                .members_distinct = true,
                                .tolerance = tolerance};
    struct strategy_decision d;
    bt_err e = strategy_decide(&in, &rc->arena, &d, err);
    if (e)
        return e;
    *chosen = d.chosen;
    if (d.chosen >= 0) {
        memcpy(rc->entries, d.after.entries, d.after.n_entries * sizeof(*rc->entries));
        rc->state = d.after;
        rc->state.entries = rc->entries;
    }
    return BT_OK;
}

struct history {
    struct skill_outcome *rows;
    size_t n, cap;
};

static void history_add(struct history *h, const char *rep, const char *seg, bool won)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 4096;
        h->rows = xrealloc(h->rows, h->cap * sizeof(*h->rows));
    }
    h->rows[h->n++] = (struct skill_outcome){rep, seg, won, 0};
}

/* best_match's estimates from a table: p per (rep, combo), filled lazily. */
struct estimates {
    struct skill_table *t;
    double *p;
    uint8_t *known;
};

static bt_err relearn(struct estimates *e, const struct history *h, size_t cells,
                      struct bt_error *err)
{
    skill_table_free(e->t);
    e->t = NULL;
    memset(e->known, 0, cells);
    return skill_table_build(h->rows, h->n, NULL, &e->t, err);
}

static bt_err race(const struct world *w, struct racer *racers, struct history *h,
                   struct world_result *out, struct bt_error *err)
{
    const struct world_spec *s = w->spec;
    size_t nr = s->n_reps, cells = nr * w->n_combos;
    struct pool_member m[WORLD_REPS_MAX];
    for (size_t r = 0; r < nr; r++)
        m[r] = (struct pool_member){
            .rep_id = s->rep_ids[r], .weight = s->weights[r], .capacity = STRATEGY_UNLIMITED};
    struct estimates est = {NULL, xmalloc(cells * sizeof(double)), xcalloc(cells, 1)};
    int64_t *recent = xcalloc((size_t)WORLD_STRATEGIES * (size_t)w->n_leads, sizeof(int64_t));
    bt_err rc = relearn(&est, h, cells, err);
    if (rc)
        goto done;
    out->history = (int64_t)h->n;
    for (int64_t i = s->warmup; i < w->n_leads; i++) {
        const struct lead *ld = &w->leads[i];
        const uint8_t *pres = &w->present[(size_t)i * nr];
        int64_t j = i - s->warmup;
        if (s->refresh_every && j > 0 && j % s->refresh_every == 0 &&
            (rc = relearn(&est, h, cells, err)))
            goto done;
        double wsum = 0;
        for (size_t r = 0; r < nr; r++)
            wsum += pres[r] ? s->weights[r] : 0;
        for (int k = 0; k < WORLD_STRATEGIES; k++) {
            struct world_outcome *o = &out->s[k];
            int64_t *chosen_at = &recent[(size_t)k * (size_t)w->n_leads];
            o->leads++;
            for (size_t r = 0; r < nr; r++) {
                m[r].eligible = pres[r];
                m[r].ineligible_reason = pres[r] ? 0 : 1;
                if (pres[r])
                    o->entitled[r] += s->weights[r] / wsum;
                m[r].open = 0;
                size_t cell = r * w->n_combos + ld->combo;
                if (k == WORLD_ORACLE) {
                    m[r].expected = w->p[cell];
                } else if (k == WORLD_BEST_MATCH) {
                    if (!est.known[cell]) {
                        struct skill_estimate e;
                        skill_estimate(est.t, s->rep_ids[r], w->key[ld->combo], &e);
                        est.p[cell] = e.p;
                        est.known[cell] = 1;
                    }
                    m[r].expected = est.p[cell];
                } else {
                    m[r].expected = 0;
                }
            }
            if (k == WORLD_LOAD_BALANCED) {
                /* open: the rep's leads among the last open_leads */
                for (int64_t b = i - s->open_leads; b < i; b++)
                    if (b >= s->warmup && chosen_at[b] >= 0)
                        m[chosen_at[b]].open++;
            }
            int chosen;
            static const enum strategy_kind kinds[WORLD_STRATEGIES] = {
                STRATEGY_ROUND_ROBIN, STRATEGY_LOAD_BALANCED, STRATEGY_FAIR_SHARE,
                STRATEGY_BEST_MATCH, STRATEGY_BEST_MATCH};
            racers[k].kind = kinds[k];
            if ((rc = decide(&racers[k], m, nr, i * 1000 + 1, s->tolerance, &chosen, err)))
                goto done;
            chosen_at[i] = chosen;
            if (chosen < 0) {
                o->holds++;
                continue;
            }
            double p = w->p[(size_t)chosen * w->n_combos + ld->combo];
            bool won = ld->u < p;
            o->assigned[chosen]++;
            o->expected += p;
            o->conversions += won;
            if (k == WORLD_BEST_MATCH)
                history_add(h, s->rep_ids[chosen], w->key[ld->combo], won);
        }
    }
    for (int k = 0; k < WORLD_STRATEGIES; k++) {
        struct world_outcome *o = &out->s[k];
        for (size_t r = 0; r < nr; r++) {
            double dev = o->entitled[r] > 0 ? fabs((double)o->assigned[r] / o->entitled[r] - 1) : 0;
            if (dev > o->max_share_dev)
                o->max_share_dev = dev;
        }
    }
    out->skill_strength = skill_strength(est.t);
    const struct world_outcome *rr = &out->s[WORLD_ROUND_ROBIN], *bm = &out->s[WORLD_BEST_MATCH],
                               * or = &out->s[WORLD_ORACLE];
    double lift = (double)(or->conversions - rr->conversions);
    out->capture = lift != 0 ? (double)(bm->conversions - rr->conversions) / lift : 0;
    double lift_e = or->expected - rr->expected;
    out->capture_expected = lift_e != 0 ? (bm->expected - rr->expected) / lift_e : 0;
done:
    skill_table_free(est.t);
    free(est.p);
    free(est.known);
    free(recent);
    return rc;
}

bt_err world_run(const struct world_spec *s, struct world_result *out, struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    struct world w;
    bt_err rc = build(&w, s, err);
    struct racer *racers = xcalloc(WORLD_STRATEGIES + 1, sizeof(*racers));
    struct history h = {0};
    if (rc)
        goto done;
    /* the warm-up: round robin, outcomes from the hidden rates */
    struct racer *warm = &racers[WORLD_STRATEGIES];
    warm->kind = STRATEGY_ROUND_ROBIN;
    uint64_t os = s->seed * 4 + 4;
    struct pool_member m[WORLD_REPS_MAX];
    for (size_t r = 0; r < s->n_reps; r++)
        m[r] = (struct pool_member){
            .rep_id = s->rep_ids[r], .weight = s->weights[r], .capacity = STRATEGY_UNLIMITED};
    for (int64_t i = 0; i < s->warmup; i++) {
        for (size_t r = 0; r < s->n_reps; r++)
            m[r].eligible = w.present[(size_t)i * s->n_reps + r];
        int chosen;
        if ((rc = decide(warm, m, s->n_reps, i * 1000 + 1, s->tolerance, &chosen, err)))
            goto done;
        if (chosen < 0)
            continue;
        double p = w.p[(size_t)chosen * w.n_combos + w.leads[i].combo];
        history_add(&h, s->rep_ids[chosen], w.key[w.leads[i].combo], uniform(&os) < p);
    }
    rc = race(&w, racers, &h, out, err);
done:
    for (int k = 0; k <= WORLD_STRATEGIES; k++)
        arena_release(&racers[k].arena);
    free(racers);
    free(h.rows);
    world_free(&w);
    return rc;
}

json_t *world_result_to_json(const struct world_spec *s, const struct world_result *r)
{
    json_t *strategies = json_array();
    const struct world_outcome *rr = &r->s[WORLD_ROUND_ROBIN];
    for (int k = 0; k < WORLD_STRATEGIES; k++) {
        const struct world_outcome *o = &r->s[k];
        json_t *reps = json_object();
        for (size_t i = 0; i < s->n_reps; i++)
            json_object_set_new(reps, s->rep_ids[i],
                                json_pack("{s:I s:f}", "assigned", (json_int_t)o->assigned[i],
                                          "fair", o->entitled[i]));
        double lift = rr->conversions ? (double)o->conversions / (double)rr->conversions - 1 : 0;
        json_array_append_new(
            strategies,
            json_pack("{s:s s:I s:I s:I s:f s:f s:f s:f s:o}", "strategy",
                      world_strategy_name((enum world_strategy)k), "leads", (json_int_t)o->leads,
                      "conversions", (json_int_t)o->conversions, "holds", (json_int_t)o->holds,
                      "expected_conversions", o->expected, "conversion_rate",
                      o->leads - o->holds ? (double)o->conversions / (double)(o->leads - o->holds)
                                          : 0,
                      "lift_over_round_robin", lift, "max_share_deviation", o->max_share_dev,
                      "reps", reps));
    }
    return json_pack("{s:I s:I s:I s:f s:f s:f s:f s:o}", "seed", (json_int_t)s->seed, "history",
                     (json_int_t)r->history, "test_leads", (json_int_t)s->test, "tolerance",
                     s->tolerance, "skill_strength", r->skill_strength, "capture", r->capture,
                     "capture_expected", r->capture_expected, "strategies", strategies);
}
