/*
 * decide.c - the decision pipeline (see decide.h): account, score,
 * qualification, routing and the record, in that order, for one lead.
 *
 * It owns the two things every caller used to redo: the rule slots (filled
 * once per lead; routing reads the very slots scoring filled, with `stage`
 * refreshed after qualification) and the state cache of a decision (each
 * rep's runtime and each pool's state asked for once, a refused pool state
 * replaced by a fresh one and the decision taken again). The record is built
 * here once, in the form it is stored and served in.
 */
#include "core/decide.h"
#include "core/normalize.h"
#include "core/routing_json.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rules on activity.TYPE.last_days / first_days or age_days change as time
 * passes without any decay: such leads are re-checked this often while they
 * have an activity younger than TIME_RULES_HORIZON_MS. */
#define TIME_RULES_RECHECK_MS (60 * 60 * 1000)
#define TIME_RULES_HORIZON_MS (400LL * 24 * 60 * 60 * 1000)
#define RESCORE_MIN_DELAY_MS  60000 /* never spin on a lead */

struct decide_scratch {
    struct score_scratch *score;
    struct rule_scratch *rules;
    struct route_cache *routes;
    bool time_rules; /* a compiled rule reads a value that changes with time alone */
    int stage_slot;  /* the slot of `stage` in the lead symbols, or -1 */
};

static bool path_ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && !strcmp(path + n - k, suffix);
}

static bool uses_time_rules(const struct score_model *m)
{
    for (size_t i = 0; i < rule_symtab_count(m->lead_syms); i++) {
        const char *p = rule_symtab_path(m->lead_syms, i);
        if (path_ends_with(p, ".last_days") || path_ends_with(p, ".first_days"))
            return true;
    }
    return rule_symtab_find(m->activity_syms, "age_days") >= 0;
}

struct decide_scratch *decide_scratch_new(const struct decide_model *m)
{
    struct decide_scratch *s = xcalloc(1, sizeof(*s));
    s->score = score_scratch_new(m->scoring);
    s->rules = rule_scratch_new();
    s->routes = route_cache_new();
    s->time_rules = uses_time_rules(m->scoring);
    s->stage_slot = rule_symtab_find(m->scoring->lead_syms, "stage");
    return s;
}

void decide_scratch_free(struct decide_scratch *s)
{
    if (!s)
        return;
    score_scratch_free(s->score);
    rule_scratch_free(s->rules);
    route_cache_free(s->routes);
    free(s);
}

void decide_result_release(struct decide_result *r)
{
    json_decref(r->account_match);
    json_decref(r->record);
    r->account_match = r->record = NULL;
}

enum lead_stage decide_stage_of(const struct lead *lead)
{
    enum lead_stage s;
    return lead->attr[LEAD_STAGE] && stage_parse(lead->attr[LEAD_STAGE], &s) ? s : STAGE_NEW;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *dump(struct arena *a, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    const char *copy = s ? arena_strdup(a, s) : NULL;
    free(s);
    return copy;
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

static double round4(double x)
{
    return round(x * 10000.0) / 10000.0;
}

static json_t *reasons_json(const struct score_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_reasons; i++) {
        const struct score_reason *x = &r->reasons[i];
        if (!strcmp(x->kind, "predicted") && x->group) {
            json_t *p =
                !strcmp(x->group, "model")
                    ? json_pack("{s:s, s:s, s:s, s:f, s:f, s:f}", "rule", x->rule, "kind", x->kind,
                                "factor", "model", "probability", round4(x->after_decay), "points",
                                round2(x->points), "counted", round2(x->counted))
                    : json_pack("{s:s, s:s, s:s, s:f, s:f}", "rule", x->rule, "kind", x->kind,
                                "factor", x->group, "contribution", round4(x->points), "counted",
                                0.0);
            json_array_append_new(arr, p);
            continue;
        }
        json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:I}", "rule", x->rule, "kind", x->kind,
                              "points", round2(x->points), "after_decay", round2(x->after_decay),
                              "counted", round2(x->counted), "matches", (json_int_t)x->matches);
        if (x->group)
            json_object_set_new(o, "group", json_string(x->group));
        json_array_append_new(arr, o);
    }
    return arr;
}

static int64_t newest_at(const struct activity *acts, size_t n)
{
    int64_t newest = 0;
    for (size_t i = 0; i < n; i++)
        if (acts[i].occurred_at > newest)
            newest = acts[i].occurred_at;
    return newest;
}

/* ---- 1. the account ---- */

static bt_err match_account(const struct decide_input *in, struct arena *arena,
                            struct decide_result *out)
{
    struct lead *lead = in->lead;
    out->previous_account = lead->account_id;
    if (!in->accounts) {
        /* The lead keeps what it has; the record shows how it matched. */
        if (lead->account_id && lead->account_match_json) {
            json_error_t jerr;
            out->account_match = json_loads(lead->account_match_json, 0, &jerr);
            const char *owner = json_string_value(json_object_get(out->account_match, "owner"));
            if (owner && !(out->account_owner = arena_strdup(arena, owner)))
                return BT_ETOOBIG;
        }
        return BT_OK;
    }
    struct account_match m;
    account_match_lead(in->accounts, lead, &m);
    const char *id = m.match.account_id;
    const char *text = NULL;
    if (id) {
        out->account_match = account_match_json(&m);
        if (!(text = dump(arena, out->account_match)))
            return BT_ETOOBIG;
        if (m.match.owner && !(out->account_owner = arena_strdup(arena, m.match.owner)))
            return BT_ETOOBIG;
    }
    out->account_changed = !same(id, lead->account_id);
    out->account_match_changed = out->account_changed || !same(text, lead->account_match_json);
    if (out->account_match_changed) {
        lead->account_id = id ? arena_strdup(arena, id) : NULL;
        if (id && !lead->account_id)
            return BT_ETOOBIG;
        lead->account_match_json = text;
    }
    return BT_OK;
}

/* ---- 2. and 3. score and qualification ---- */

/* The lead's predictive score, with its facts as of now. */
static bt_err predict(const struct decide_model *model, const struct lead *lead,
                      const struct activity_fact *facts, size_t n_facts, int64_t now,
                      struct arena *arena, struct predict_result **out)
{
    size_t n = model->predictive->n_features;
    float *x = arena_alloc_raw(arena, (n ? n : 1) * sizeof(*x));
    double *contrib = arena_alloc_raw(arena, (n ? n : 1) * sizeof(*contrib));
    struct predict_result *r = arena_alloc(arena, sizeof(*r));
    if (!x || !contrib || !r)
        return BT_ETOOBIG;
    bt_err e = model->predictive_reader ? predict_reader_lead(model->predictive_reader, lead, facts,
                                                              n_facts, now, arena, x, contrib, r)
                                        : predict_lead(model->predictive, lead, facts, n_facts, now,
                                                       arena, x, contrib, r);
    if (e)
        return BT_ETOOBIG; /* a checked model reads only lead paths: the arena ran out */
    *out = r;
    return BT_OK;
}

/* A reason of kind "predicted": group "model" (after_decay holds p) or the
 * factor's side, "positive" or "negative" (points hold the contribution). */
static void add_reason(struct score_result *r, const char *rule, const char *group, double points,
                       double after_decay, double counted)
{
    if (r->n_reasons < SCORE_MAX_REASONS)
        r->reasons[r->n_reasons++] =
            (struct score_reason){rule, "predicted", group, points, after_decay, counted, 1};
}

/*
 * The prediction in the score: round(p * points) added to the total (a
 * reason named after the model, its points the configured maximum), then
 * the factors as reasons that count 0, their points the contribution in
 * log-odds (positive first, then negative, largest first). The grade stays
 * the rules' own.
 */
static void add_predicted(const struct decide_model *model, const struct score_model *sm,
                          const struct predict_result *p, struct score_result *res)
{
    double points = 0;
    if (model->predictive_points > 0) {
        points = round(p->probability * model->predictive_points);
        double total = res->total + points;
        res->total = total < sm->min_total   ? sm->min_total
                     : total > sm->max_total ? sm->max_total
                                             : total;
    }
    add_reason(res, model->predictive_version ? model->predictive_version : "predicted", "model",
               model->predictive_points, p->probability, points);
    for (size_t i = 0; i < p->n_positive; i++)
        add_reason(res, p->positive[i].feature, "positive", p->positive[i].contribution,
                   p->positive[i].contribution, 0);
    for (size_t i = 0; i < p->n_negative; i++)
        add_reason(res, p->negative[i].feature, "negative", p->negative[i].contribution,
                   p->negative[i].contribution, 0);
}

static bt_err score_and_qualify(const struct decide_input *in, struct decide_scratch *s,
                                struct arena *arena, struct rule_value *slots,
                                struct decide_result *out)
{
    const struct decide_model *model = in->model;
    const struct score_model *sm = model->scoring;
    struct lead *lead = in->lead;
    struct score_result *res = arena_alloc_raw(arena, sizeof(*res));
    struct activity_fact *facts;
    size_t n_facts;
    if (!res || score_activity_facts(in->acts, in->n_acts, arena, &facts, &n_facts))
        return BT_ETOOBIG;
    struct predict_result *pred = NULL;
    if (model->predictive) {
        bt_err e = predict(model, lead, facts, n_facts, in->now, arena, &pred);
        if (e)
            return e;
    }
    if (score_lead_predicted(sm, lead, in->acts, in->n_acts, pred ? pred->probability : NAN,
                             in->now, s->score, arena, res))
        return BT_ETOOBIG;
    if (pred)
        add_predicted(model, sm, pred, res);
    if (score_fill_lead(sm->lead_syms, lead, facts, n_facts, res, in->now, arena, slots))
        return BT_ETOOBIG;
    out->score = res;

    struct lead_score before = lead->score;
    struct lead_score *sc = &lead->score;
    json_t *reasons = reasons_json(res);
    const char *reasons_text = dump(arena, reasons);
    json_decref(reasons);
    if (!reasons_text)
        return BT_ETOOBIG;
    sc->scored = true;
    sc->total = res->total;
    sc->fit = res->fit;
    sc->engagement = res->engagement;
    memcpy(sc->grade, res->grade, sizeof(sc->grade));
    sc->reasons_json = reasons_text;
    sc->scored_at = in->now;
    sc->rescore_at = res->next_change_at;
    if (s->time_rules && in->n_acts > 0 &&
        newest_at(in->acts, in->n_acts) > in->now - TIME_RULES_HORIZON_MS &&
        (!sc->rescore_at || sc->rescore_at > in->now + TIME_RULES_RECHECK_MS))
        sc->rescore_at = in->now + TIME_RULES_RECHECK_MS;
    if (sc->rescore_at && sc->rescore_at <= in->now)
        sc->rescore_at = in->now + RESCORE_MIN_DELAY_MS;
    out->score_changed =
        !(before.scored && before.total == sc->total && before.rescore_at == sc->rescore_at &&
          !strcmp(before.grade, sc->grade) && before.reasons_json &&
          !strcmp(before.reasons_json, sc->reasons_json));

    out->from = decide_stage_of(lead);
    lifecycle_qualify(model->qualification, out->from, slots, s->rules, &out->qualification);
    out->stage = out->qualification.change ? out->qualification.to : out->from;
    lead->attr[LEAD_STAGE] = stage_name(out->stage);
    return BT_OK;
}

/* ---- 4. routing ---- */

/* The decision's view of the caller's state: each rep and pool asked for
 * once; after a refused pool state, every pool fresh. */
struct state_cache {
    const struct decide_state *state;
    const struct routing_config *rc;
    const struct rep_runtime **reps;
    const struct pool_state **pools;
    bool fresh_pools;
    bool failed;                            /* a callback failed: its error is the decision's */
    bool reset;                             /* a stored pool state was refused or unreadable */
    json_t *discarded;                      /* those states, by pool id (NULL: none) */
    const struct skill_table *const *skill; /* best_match, per pool */
    const struct lead *lead;
    long seg_pool; /* the pool whose segment key is in seg, or -1 */
    char seg[SKILL_SEGMENT_MAX];
};

/* best_match: the rep's estimate for this lead in the pool, from the pool's
 * table and the lead's segment key under the pool's segment fields. A lead
 * whose key cannot be made (too long) counts as having no segment. */
static void cached_estimate(void *p, size_t pool, size_t rep, struct skill_estimate *out)
{
    struct state_cache *c = p;
    memset(out, 0, sizeof(*out));
    const struct skill_table *t = c->skill ? c->skill[pool] : NULL;
    if (!t)
        return;
    const struct routing_pool *rp = &c->rc->pools[pool];
    if (c->seg_pool != (long)pool) {
        if (skill_lead_segment(c->lead, rp->segments, rp->n_segments, c->seg, NULL))
            c->seg[0] = '\0';
        c->seg_pool = (long)pool;
    }
    skill_estimate(t, c->rc->reps[rep].id, c->seg, out);
}

static const struct rep_runtime fresh_rep = REP_RUNTIME_INIT;
static const struct pool_state fresh_pool = POOL_STATE_INIT;

static bt_err cached_rep(void *p, size_t rep, const struct rep_runtime **out, struct bt_error *err)
{
    struct state_cache *c = p;
    if (!c->reps[rep]) {
        const struct rep_runtime *rt = NULL;
        if (c->state->rep_runtime) {
            bt_err e = c->state->rep_runtime(c->state->ctx, rep, &rt, err);
            if (e) {
                c->failed = true;
                return e;
            }
        }
        c->reps[rep] = rt ? rt : &fresh_rep;
    }
    *out = c->reps[rep];
    return BT_OK;
}

static void note_discarded(struct state_cache *c, size_t pool, json_t *what)
{
    if (!c->discarded)
        c->discarded = json_object();
    json_object_set_new(c->discarded, c->rc->pools[pool].id, what);
    c->reset = true;
}

static bt_err cached_pool(void *p, size_t pool, const struct pool_state **out, struct bt_error *err)
{
    struct state_cache *c = p;
    if (!c->pools[pool]) {
        const struct pool_state *st = NULL;
        if (!c->fresh_pools && c->state->pool_state) {
            json_t *discarded = NULL;
            bt_err e = c->state->pool_state(c->state->ctx, pool, &st, &discarded, err);
            if (e) {
                c->failed = true;
                json_decref(discarded);
                return e;
            }
            if (discarded)
                note_discarded(c, pool, discarded);
        }
        c->pools[pool] = st ? st : &fresh_pool;
    }
    *out = c->pools[pool];
    return BT_OK;
}

json_t *decide_account_json(const struct lead *lead, const struct decide_result *r)
{
    if (!lead->account_id)
        return NULL;
    json_t *acc = json_object();
    json_object_set_new(acc, "id", json_string(lead->account_id));
    json_object_set_new(acc, "owner",
                        r->account_owner ? json_string(r->account_owner) : json_null());
    json_object_set_new(acc, "match",
                        r->account_match ? json_incref(r->account_match) : json_null());
    return acc;
}

static json_t *record_json(const struct decide_input *in, const struct state_cache *c,
                           const struct decide_result *r)
{
    const struct lead *lead = in->lead;
    json_t *rec = in->compact_record ? route_decision_json_compact(c->rc, &r->route)
                                     : route_decision_json(c->rc, &r->route);
    if (!rec)
        return NULL;
    if (c->reset) {
        json_object_set_new(rec, "pool_state_reset", json_true());
        if (c->discarded)
            json_object_set_new(rec, "discarded_pool_states", json_incref(c->discarded));
    }
    if (lead->id)
        json_object_set_new(rec, "lead", json_integer(lead->id));
    json_object_set_new(rec, "config_version", json_string(in->model->version));
    char at[RFC3339_MAX];
    time_format_rfc3339(in->now, at);
    json_object_set_new(rec, "at", json_string(at));
    if (lead->account_id)
        json_object_set_new(rec, "account", decide_account_json(lead, r));
    if (r->forced) {
        json_object_set_new(rec, "forced", json_true());
        json_object_set_new(rec, "stage", json_string(stage_name(r->stage)));
    }
    if (r->sla_policy >= 0) {
        const struct sla_policy *p = &in->model->sla->policies[r->sla_policy];
        char by[RFC3339_MAX];
        if (r->accept_by)
            time_format_rfc3339(r->accept_by, by);
        json_object_set_new(rec, "sla",
                            json_pack("{s:s, s:s, s:I, s:s?}", "policy", p->name, "clock",
                                      sla_clock_name(p->clock), "accept_within_seconds",
                                      (json_int_t)(p->accept_within_ms / 1000), "accept_by",
                                      r->accept_by ? by : NULL));
    }
    return rec;
}

/* The hold-queue wake targets of a held decision (decide.h), from the
 * rules' trace: each target that was tried and had nobody eligible. */
static bt_err hold_wakes(const struct routing_config *rc, const struct route_decision *d,
                         struct arena *arena, struct decide_result *out, struct bt_error *err)
{
    out->hold_wakes = NULL;
    out->n_hold_wakes = 0;
    const char **w = arena_alloc(arena, (d->n_trace + 1) * sizeof(*w));
    if (!w)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    size_t n = 0;
    bool any = false;
    for (size_t i = 0; i < d->n_trace; i++) {
        const struct route_trace *t = &d->trace[i];
        const struct routing_rule *r = &rc->rules[t->rule];
        const char *target;
        if (t->step == ROUTE_STEP_NO_OWNER || t->step == ROUTE_STEP_NO_ACCOUNT) {
            any = true;
            continue;
        }
        if (t->step != ROUTE_STEP_UNAVAILABLE && t->step != ROUTE_STEP_HELD)
            continue;
        if (r->target == ROUTE_TO_POOL)
            target = arena_printf(arena, "pool:%s", rc->pools[r->index].id);
        else if (r->target != ROUTE_TO_HOLD && t->rep >= 0)
            target = arena_printf(arena, "rep:%s", rc->reps[t->rep].id);
        else
            continue; /* a hold rule: nothing but a change of the lead or the config */
        if (!target)
            return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(w[j], target) == 0;
        if (!seen)
            w[n++] = target;
    }
    if (any)
        w[n++] = "any";
    out->hold_wakes = w;
    out->n_hold_wakes = n;
    return BT_OK;
}

static bt_err route(const struct decide_input *in, struct decide_scratch *s, struct arena *arena,
                    struct rule_value *slots, struct decide_result *out, struct bt_error *err)
{
    const struct routing_config *rc = in->model->routing;
    struct lead *lead = in->lead;
    /* The rules read the lead as mql: the stage it is routed at. */
    if (s->stage_slot >= 0)
        rule_value_string(&slots[s->stage_slot], "mql", "mql", 3);
    out->forced = out->stage != STAGE_MQL;

    struct state_cache c = {
        .state = &in->state,
        .rc = rc,
        .reps = arena_alloc(arena, (rc->n_reps ? rc->n_reps : 1) * sizeof(*c.reps)),
        .pools = arena_alloc(arena, (rc->n_pools ? rc->n_pools : 1) * sizeof(*c.pools)),
    };
    if (!c.reps || !c.pools)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    const char *const *excluded = NULL;
    size_t n_excluded = 0;
    bt_err e;
    if (in->state.excluded && (e = in->state.excluded(in->state.ctx, &excluded, &n_excluded, err)))
        return e;
    c.skill = in->skill;
    c.lead = lead;
    c.seg_pool = -1;
    struct route_input ri = {
        .estimate = in->skill ? cached_estimate : NULL,
        .cfg = rc,
        .slots = slots,
        .scratch = s->rules,
        .lead_owner = lead->attr[LEAD_OWNER],
        .account_id = lead->account_id,
        .account_owner = out->account_owner,
        .country = lead->attr[LEAD_COUNTRY],
        .region = normalize_region(lead->attr[LEAD_COUNTRY]),
        .excluded = excluded,
        .n_excluded = n_excluded,
        .rep_runtime = cached_rep,
        .pool_state = cached_pool,
        .ctx = &c,
        .now = in->now,
        .cache = s->routes,
    };
    struct route_decision *d = &out->route;
    e = route_decide(&ri, arena, d, err);
    if (e == BT_EINVAL && !c.failed && !c.fresh_pools && !in->strict_state) {
        /* A pool state the strategy refuses (a repeated rep, a window from
         * the future after the clock was set back): routing must not stop
         * for it. Start the pools of this decision afresh, say so in the
         * record, and decide again. */
        snprintf(out->refused_why, sizeof(out->refused_why), "%s", err->message);
        *err = (struct bt_error)BT_ERROR_INIT;
        for (size_t p = 0; p < rc->n_pools; p++)
            if (c.pools[p] && c.pools[p]->strategy != STRATEGY_UNSET)
                note_discarded(&c, p, pool_state_to_json(c.pools[p]));
        memset(c.pools, 0, (rc->n_pools ? rc->n_pools : 1) * sizeof(*c.pools));
        c.fresh_pools = c.reset = true;
        e = route_decide(&ri, arena, d, err);
    }
    if (e) {
        json_decref(c.discarded);
        return e;
    }
    out->routed = true;
    out->pool_state_reset = c.reset;
    if (d->result == ROUTE_ASSIGNED) {
        const struct routing_rep *rep = &rc->reps[d->rep];
        const struct rep_runtime *rt;
        if ((e = cached_rep(&c, (size_t)d->rep, &rt, err))) {
            json_decref(c.discarded);
            return e;
        }
        routing_rep_periods(rep, in->now, &out->day_start, &out->week_start);
        const struct sla_config *sla = in->model->sla;
        out->sla_policy = sla_policy_select(sla, slots, s->rules);
        if (out->sla_policy >= 0) {
            struct sla_schedule sched;
            sla_schedule_of(rep, &sched);
            out->accept_by =
                sla_accept_point(&sla->policies[out->sla_policy], &sched, in->now, 1.0);
        }
        out->day_count = (rt->day_start == out->day_start ? rt->day_count : 0) + 1;
        out->week_count = (rt->week_start == out->week_start ? rt->week_count : 0) + 1;
    } else {
        out->hold_reason = d->hold_reason ? d->hold_reason : "no_rule";
        out->hold_rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL;
        out->hold_pool = d->pool >= 0 ? rc->pools[d->pool].id : NULL;
        out->hold_rep =
            d->pool < 0 && d->n_candidates == 1 ? rc->reps[d->candidates[0].rep].id : NULL;
        if ((e = hold_wakes(rc, d, arena, out, err))) {
            json_decref(c.discarded);
            return e;
        }
    }
    out->record = record_json(in, &c, out);
    json_decref(c.discarded);
    if (!out->record)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    return BT_OK;
}

bt_err decide_lead(const struct decide_input *in, struct arena *arena, struct decide_result *out,
                   struct bt_error *err)
{
    struct bt_error local = BT_ERROR_INIT;
    if (!err)
        err = &local; /* the retry after a refused state reads the message */
    memset(out, 0, sizeof(*out));
    out->sla_policy = -1;
    const struct decide_model *model = in->model;
    struct decide_scratch *own = in->scratch ? NULL : decide_scratch_new(model);
    struct decide_scratch *s = in->scratch ? in->scratch : own;
    size_t n_slots = rule_symtab_count(model->scoring->lead_syms);
    struct rule_value *slots = arena_alloc(arena, sizeof(*slots) * (n_slots ? n_slots : 1));
    bt_err e = BT_OK;
    if (!slots || match_account(in, arena, out) || score_and_qualify(in, s, arena, slots, out)) {
        e = bt_fail(err, BT_ETOOBIG, NULL, "the lead is too large to score");
        goto done;
    }
    bool wanted = in->route == DECIDE_ROUTE_ALWAYS ||
                  (in->route == DECIDE_ROUTE_IF_MQL && out->stage == STAGE_MQL);
    if (wanted && model->routing && model->routing->n_rules > 0)
        e = route(in, s, arena, slots, out, err);
done:
    if (e)
        decide_result_release(out);
    decide_scratch_free(own);
    return e;
}
