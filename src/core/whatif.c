/*
 * whatif.c - the comparison and tally of core/whatif.h.
 *
 * Small by design: the replay itself is the daemon's own pipeline
 * (core/decide.h, run by cli_simulate_replay.c); this file only says what
 * differs between two outcomes of the same lead and adds it up. Rep loads
 * and hold reasons are kept in short arrays searched linearly: a
 * configuration has tens of reps and a handful of hold reasons, and the
 * tally is touched twice per lead.
 */
#include "core/whatif.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rep_load {
    char *id;
    double weight; /* 0: not listed */
    uint64_t count[2];
};

struct counter {
    char *key;
    uint64_t n[2];
};

struct counters {
    struct counter *items;
    size_t n, cap;
};

struct whatif {
    size_t limit;
    uint64_t replayed, differing;
    uint64_t changed[WHATIF_CHANGES];
    uint64_t qualified_changed;
    double score_sum, score_abs_sum, score_max_abs;
    int64_t score_max_lead;
    json_t *leads;
    struct rep_load *reps;
    size_t n_reps, cap_reps;
    uint64_t assigned[2];
    struct counters holds, versions;
    uint64_t held[2];
};

static const char *const change_names[WHATIF_CHANGES] = {
    "score", "grade", "stage", "pool", "owner", "sla_policy", "hold",
};

const char *whatif_change_name(unsigned i)
{
    return i < WHATIF_CHANGES ? change_names[i] : "?";
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool held(const struct whatif_outcome *o)
{
    return o->result && !strcmp(o->result, "held");
}

static bool assigned(const struct whatif_outcome *o)
{
    return o->result && !strcmp(o->result, "assigned");
}

unsigned whatif_compare(const struct whatif_outcome *before, const struct whatif_outcome *after)
{
    unsigned c = 0;
    if (before->scored != after->scored ||
        (before->scored && fabs(before->score - after->score) > WHATIF_SCORE_EPSILON))
        c |= WHATIF_SCORE;
    if (!same(before->grade, after->grade))
        c |= WHATIF_GRADE;
    if (before->qualified != after->qualified || !same(before->stage, after->stage))
        c |= WHATIF_STAGE;
    if (!same(before->pool, after->pool))
        c |= WHATIF_POOL;
    if (!same(assigned(before) ? before->owner : NULL, assigned(after) ? after->owner : NULL))
        c |= WHATIF_OWNER;
    if (!same(before->sla_policy, after->sla_policy))
        c |= WHATIF_SLA;
    if (held(before) != held(after) ||
        (held(before) && !same(before->hold_reason, after->hold_reason)))
        c |= WHATIF_HOLD;
    return c;
}

static struct rep_load *rep_find(struct whatif *w, const char *id)
{
    for (size_t i = 0; i < w->n_reps; i++)
        if (!strcmp(w->reps[i].id, id))
            return &w->reps[i];
    if (w->n_reps == w->cap_reps) {
        w->cap_reps = w->cap_reps ? 2 * w->cap_reps : 16;
        w->reps = xrealloc(w->reps, w->cap_reps * sizeof(*w->reps));
    }
    struct rep_load *r = &w->reps[w->n_reps++];
    *r = (struct rep_load){.id = xstrdup(id)};
    return r;
}

static void count(struct counters *cs, const char *key, int side)
{
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->items[i].key, key)) {
            cs->items[i].n[side]++;
            return;
        }
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 8;
        cs->items = xrealloc(cs->items, cs->cap * sizeof(*cs->items));
    }
    cs->items[cs->n++] = (struct counter){.key = xstrdup(key), .n = {side == 0, side == 1}};
}

static void counters_release(struct counters *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        free(cs->items[i].key);
    free(cs->items);
}

struct whatif *whatif_new(const struct whatif_options *o)
{
    struct whatif *w = xcalloc(1, sizeof(*w));
    w->limit = o->limit;
    w->leads = json_array();
    for (size_t i = 0; i < o->n_reps; i++) {
        struct rep_load *r = rep_find(w, o->reps[i]);
        double weight = o->weights ? o->weights[i] : 1.0;
        r->weight = weight > 0 ? weight : 0;
    }
    return w;
}

void whatif_free(struct whatif *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_reps; i++)
        free(w->reps[i].id);
    free(w->reps);
    counters_release(&w->holds);
    counters_release(&w->versions);
    json_decref(w->leads);
    free(w);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *whatif_outcome_json(const struct whatif_outcome *o)
{
    json_t *j = json_object();
    json_object_set_new(j, "score", o->scored ? json_real(o->score) : json_null());
    json_object_set_new(j, "grade", str_or_null(o->grade));
    json_object_set_new(j, "stage", str_or_null(o->stage));
    json_object_set_new(j, "qualified", json_boolean(o->qualified));
    json_object_set_new(j, "result", str_or_null(o->result));
    json_object_set_new(j, "pool", str_or_null(o->pool));
    json_object_set_new(j, "owner", str_or_null(assigned(o) ? o->owner : NULL));
    json_object_set_new(j, "rule", str_or_null(o->rule));
    json_object_set_new(j, "sla_policy", str_or_null(o->sla_policy));
    json_object_set_new(j, "hold_reason", str_or_null(held(o) ? o->hold_reason : NULL));
    json_object_set_new(j, "summary", str_or_null(o->summary));
    return j;
}

static void tally(struct whatif *w, const struct whatif_outcome *o, int side)
{
    if (assigned(o) && o->owner) {
        rep_find(w, o->owner)->count[side]++;
        w->assigned[side]++;
    }
    if (held(o)) {
        count(&w->holds, o->hold_reason ? o->hold_reason : "unknown", side);
        w->held[side]++;
    }
    if (o->config_version)
        count(&w->versions, o->config_version, side);
}

unsigned whatif_add(struct whatif *w, int64_t lead_id, int64_t at,
                    const struct whatif_outcome *before, const struct whatif_outcome *after)
{
    unsigned c = whatif_compare(before, after);
    w->replayed++;
    tally(w, before, 0);
    tally(w, after, 1);
    double delta = (after->scored ? after->score : 0) - (before->scored ? before->score : 0);
    w->score_sum += delta;
    w->score_abs_sum += fabs(delta);
    if (fabs(delta) > w->score_max_abs) {
        w->score_max_abs = fabs(delta);
        w->score_max_lead = lead_id;
    }
    if (before->qualified != after->qualified)
        w->qualified_changed++;
    if (!c)
        return 0;
    w->differing++;
    json_t *names = json_array();
    for (unsigned i = 0; i < WHATIF_CHANGES; i++)
        if (c & (1u << i)) {
            w->changed[i]++;
            json_array_append_new(names, json_string(change_names[i]));
        }
    if (json_array_size(w->leads) < w->limit) {
        char when[RFC3339_MAX];
        time_format_rfc3339(at, when);
        json_array_append_new(w->leads, json_pack("{s:I, s:s, s:o, s:o, s:o}", "lead",
                                                  (json_int_t)lead_id, "at", when, "changed", names,
                                                  "before", whatif_outcome_json(before), "after",
                                                  whatif_outcome_json(after)));
    } else {
        json_decref(names);
    }
    return c;
}

uint64_t whatif_replayed(const struct whatif *w)
{
    return w->replayed;
}

uint64_t whatif_differing(const struct whatif *w)
{
    return w->differing;
}

static json_t *load_json(const struct whatif *w, int side)
{
    double total_weight = 0;
    for (size_t i = 0; i < w->n_reps; i++)
        total_weight += w->reps[i].weight;
    uint64_t n = w->assigned[side];
    json_t *reps = json_array();
    double max_dev = -1;
    for (size_t i = 0; i < w->n_reps; i++) {
        const struct rep_load *r = &w->reps[i];
        if (r->weight <= 0 && r->count[0] == 0 && r->count[1] == 0)
            continue;
        double share = n ? (double)r->count[side] / (double)n : 0;
        double fair = total_weight > 0 ? r->weight / total_weight : 0;
        json_t *dev = json_null();
        if (fair > 0 && n) {
            double d = share / fair - 1;
            dev = json_real(d);
            if (fabs(d) > max_dev)
                max_dev = fabs(d);
        }
        json_array_append_new(reps, json_pack("{s:s, s:I, s:f, s:f, s:o}", "rep", r->id, "count",
                                              (json_int_t)r->count[side], "share", share,
                                              "fair_share", fair, "deviation", dev));
    }
    return json_pack("{s:I, s:o, s:o}", "assigned", (json_int_t)n, "max_deviation",
                     max_dev >= 0 ? json_real(max_dev) : json_null(), "reps", reps);
}

static json_t *counters_json(const struct counters *cs, int side)
{
    json_t *o = json_object();
    for (size_t i = 0; i < cs->n; i++)
        if (cs->items[i].n[side])
            json_object_set_new(o, cs->items[i].key,
                                json_integer((json_int_t)cs->items[i].n[side]));
    return o;
}

json_t *whatif_report(const struct whatif *w)
{
    json_t *changed = json_object();
    for (unsigned i = 0; i < WHATIF_CHANGES; i++)
        json_object_set_new(changed, change_names[i], json_integer((json_int_t)w->changed[i]));
    json_object_set_new(changed, "qualified", json_integer((json_int_t)w->qualified_changed));
    double n = w->replayed ? (double)w->replayed : 1;
    json_t *score = json_pack("{s:f, s:f, s:f, s:o}", "mean", w->score_sum / n, "mean_abs",
                              w->score_abs_sum / n, "max_abs", w->score_max_abs, "max_lead",
                              w->score_max_abs > 0 ? json_integer(w->score_max_lead) : json_null());
    json_t *holds =
        json_pack("{s:{s:I, s:o}, s:{s:I, s:o}}", "before", "total", (json_int_t)w->held[0],
                  "reasons", counters_json(&w->holds, 0), "after", "total", (json_int_t)w->held[1],
                  "reasons", counters_json(&w->holds, 1));
    json_t *versions = json_pack("{s:o, s:o}", "before", counters_json(&w->versions, 0), "after",
                                 counters_json(&w->versions, 1));
    return json_pack("{s:I, s:I, s:o, s:o, s:O, s:{s:o, s:o}, s:o, s:o}", "replayed",
                     (json_int_t)w->replayed, "differing", (json_int_t)w->differing, "changed",
                     changed, "score_change", score, "leads", w->leads, "load", "before",
                     load_json(w, 0), "after", load_json(w, 1), "holds", holds, "config_versions",
                     versions);
}
