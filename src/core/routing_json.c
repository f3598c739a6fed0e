/*
 * routing_json.c - routing decisions and pool state as JSON (see routing_json.h).
 */
#include "core/routing_json.h"

#include <math.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *routing_limit_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static const char *target_text(const struct routing_config *cfg, const struct routing_rule *r,
                               char *buf, size_t size)
{
    if (r->target == ROUTE_TO_POOL)
        snprintf(buf, size, "pool:%s", cfg->pools[r->index].id);
    else if (r->target == ROUTE_TO_REP)
        snprintf(buf, size, "rep:%s", cfg->reps[r->index].id);
    else
        snprintf(buf, size, "%s", route_target_name(r->target));
    return buf;
}

static json_t *strategy_json(const struct strategy_decision *s, const struct routing_pool *pool)
{
    json_t *flags = json_array();
    if (s->flags & STRATEGY_RESTARTED)
        json_array_append_new(flags, json_string("restarted"));
    if (s->flags & STRATEGY_WINDOW_ROLLED)
        json_array_append_new(flags, json_string("window_rolled"));
    if (s->flags & STRATEGY_REBASED)
        json_array_append_new(flags, json_string("rebased"));
    json_t *removed = json_array();
    for (size_t i = 0; i < s->n_removed; i++)
        json_array_append_new(removed, json_string(s->removed[i]));
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(strategy_name(pool->strategy)));
    if (pool->strategy == STRATEGY_FAIR_SHARE || pool->strategy == STRATEGY_BEST_MATCH) {
        json_object_set_new(o, "window", json_string(pool_window_name(pool->window)));
        json_object_set_new(o, "absence", json_string(absence_policy_name(pool->absence)));
    }
    if (pool->strategy == STRATEGY_BEST_MATCH) {
        json_object_set_new(o, "tolerance", json_real(pool->tolerance));
        json_object_set_new(
            o, "objective",
            json_string(pool->objective == POOL_OBJECTIVE_VALUE ? "value" : "conversion"));
        json_t *segs = json_array();
        for (size_t i = 0; i < pool->n_segments; i++)
            json_array_append_new(segs, json_string(pool->segments[i]));
        json_object_set_new(o, "segments", segs);
        json_object_set_new(o, "reason",
                            s->chosen >= 0 ? json_string(best_match_reason_name(s->best_reason))
                                           : json_null());
        char why[200];
        const char *winner = s->rep_id;
        switch (s->best_reason) {
        case BEST_HIGHEST:
            snprintf(why, sizeof(why), "%s: highest expected %s within its bound", winner,
                     pool->objective == POOL_OBJECTIVE_VALUE ? "value" : "conversion");
            break;
        case BEST_NEXT_BEST:
            snprintf(why, sizeof(why), "bound: %s is at its fair share + %.0f%%; next best %s",
                     s->passed_over >= 0 ? s->notes[s->passed_over].rep_id : "?",
                     100 * pool->tolerance, winner);
            break;
        case BEST_BEHIND_SHARE:
            snprintf(why, sizeof(why), "%s is behind its fair share - %.0f%%: it gets the lead",
                     winner, 100 * pool->tolerance);
            break;
        case BEST_ALL_AT_BOUND:
            snprintf(why, sizeof(why),
                     "every eligible member is at its bound: %s has the largest deficit", winner);
            break;
        case BEST_NONE:
            snprintf(why, sizeof(why), "no eligible member");
            break;
        }
        json_object_set_new(o, "why", json_string(why));
    }
    json_object_set_new(o, "flags", flags);
    json_object_set_new(o, "before", pool_state_to_json(&s->before));
    json_object_set_new(o, "after", pool_state_to_json(&s->after));
    json_object_set_new(o, "removed", removed);
    return o;
}

/* One rule of the trace, as the full record shows it. */
static json_t *trace_entry(const char *name, const char *target, const char *when,
                           enum route_step step, const char *rep, const char *eligibility)
{
    json_t *tr = json_object();
    json_object_set_new(tr, "rule", json_string(name));
    json_object_set_new(tr, "target", json_string(target));
    json_object_set_new(tr, "when", str_or_null(when));
    json_object_set_new(tr, "matched", json_boolean(step != ROUTE_STEP_NOT_MATCHED));
    json_object_set_new(tr, "step", json_string(route_step_name(step)));
    if (rep) {
        json_object_set_new(tr, "rep", json_string(rep));
        json_object_set_new(tr, "eligibility", json_string(eligibility));
    }
    return tr;
}

static json_t *trace_json(const struct routing_config *cfg, const struct routing_rule *r,
                          enum route_step step, const char *rep, const char *eligibility)
{
    char buf[200];
    return trace_entry(r->name, target_text(cfg, r, buf, sizeof(buf)),
                       r->when ? rule_text(r->when) : NULL, step, rep, eligibility);
}

/* A candidate's limits and weight (new references), after "open". */
static void limits_json(json_t *co, json_t *capacity, json_t *today, json_t *daily_cap,
                        json_t *this_week, json_t *weekly_cap, json_t *weight)
{
    json_object_set_new(co, "capacity", capacity);
    json_object_set_new(co, "today", today);
    json_object_set_new(co, "daily_cap", daily_cap);
    json_object_set_new(co, "this_week", this_week);
    json_object_set_new(co, "weekly_cap", weekly_cap);
    json_object_set_new(co, "weight", weight);
}

static void rep_limits_json(json_t *co, const struct routing_rep *rep, json_t *today,
                            json_t *this_week)
{
    limits_json(co, routing_limit_json(rep->capacity), today, routing_limit_json(rep->daily_cap),
                this_week, routing_limit_json(rep->weekly_cap), json_real(rep->weight));
}

static json_t *decision_json(const struct routing_config *cfg, const struct route_decision *d,
                             bool compact)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const struct routing_rule *rule = d->rule >= 0 ? &cfg->rules[d->rule] : NULL;
    json_object_set_new(o, "result",
                        json_string(d->result == ROUTE_ASSIGNED ? "assigned" : "held"));
    json_object_set_new(o, "rep", str_or_null(d->rep_id));
    json_object_set_new(o, "pool", str_or_null(d->pool >= 0 ? cfg->pools[d->pool].id : NULL));
    json_object_set_new(o, "rule", str_or_null(rule ? rule->name : NULL));
    json_object_set_new(o, "hold_reason",
                        str_or_null(d->result == ROUTE_HELD ? d->hold_reason : NULL));
    json_object_set_new(o, "summary", json_string(d->summary));

    json_t *rules = json_array();
    for (size_t i = 0; i < d->n_trace; i++) {
        const struct route_trace *t = &d->trace[i];
        const struct routing_rule *r = &cfg->rules[t->rule];
        const char *rep = t->rep >= 0 ? cfg->reps[t->rep].id : NULL;
        const char *elig = t->rep >= 0 ? eligibility_name(t->eligibility) : NULL;
        if (!compact) {
            json_array_append_new(rules, trace_json(cfg, r, t->step, rep, elig));
            continue;
        }
        /* compact: what the configuration says is left out, and the rules
         * that did not match are only counted (they are those of the first
         * rules_tried with no entry) */
        if (t->step == ROUTE_STEP_NOT_MATCHED)
            continue;
        json_t *tr = json_pack("{s:I, s:s, s:s}", "i", (json_int_t)t->rule, "rule", r->name, "step",
                               route_step_name(t->step));
        if (tr && rep) {
            json_object_set_new(tr, "rep", json_string(rep));
            json_object_set_new(tr, "eligibility", json_string(elig));
        }
        json_array_append_new(rules, tr);
    }
    json_object_set_new(o, "rules", rules);
    if (compact) {
        json_object_set_new(o, "compact", json_true());
        json_object_set_new(o, "rules_tried", json_integer((json_int_t)d->n_trace));
    }

    json_t *cands = json_array();
    for (size_t i = 0; i < d->n_candidates; i++) {
        const struct route_candidate *c = &d->candidates[i];
        const struct routing_rep *rep = &cfg->reps[c->rep];
        json_t *co = json_object();
        json_object_set_new(co, "rep", json_string(rep->id));
        json_object_set_new(co, "eligible", json_boolean(c->eligibility == ELIGIBLE));
        json_object_set_new(co, "reason", json_string(eligibility_name(c->eligibility)));
        json_object_set_new(co, "open", json_integer((json_int_t)c->open));
        if (compact) {
            json_object_set_new(co, "today", json_integer((json_int_t)c->day_count));
            json_object_set_new(co, "this_week", json_integer((json_int_t)c->week_count));
        } else {
            rep_limits_json(co, rep, json_integer((json_int_t)c->day_count),
                            json_integer((json_int_t)c->week_count));
        }
        if (d->has_strategy && i < d->strategy.n_notes) {
            const struct strategy_note *n = &d->strategy.notes[i];
            json_object_set_new(co, "verdict", json_string(strategy_verdict_name(n->verdict)));
            /* load_balanced reports capacity 0 as an infinite load: say so in words */
            json_object_set_new(co, "value",
                                isfinite(n->value) ? json_real(n->value) : json_string("full"));
            if (n->joined)
                json_object_set_new(co, "joined", json_true());
            if (d->strategy.after.strategy == STRATEGY_BEST_MATCH ||
                (d->pool >= 0 && cfg->pools[d->pool].strategy == STRATEGY_BEST_MATCH)) {
                json_object_set_new(co, "estimate", json_real(n->value));
                json_object_set_new(co, "interval", json_pack("[f f]", n->low, n->high));
                json_object_set_new(co, "n", json_integer((json_int_t)n->n));
                json_object_set_new(co, "share", json_real(n->share));
                json_object_set_new(co, "assigned", json_integer((json_int_t)n->assigned));
                json_object_set_new(co, "bound", json_integer((json_int_t)n->bound));
            }
        }
        json_array_append_new(cands, co);
    }
    json_object_set_new(o, "candidates", cands);
    if (d->has_strategy && d->pool >= 0)
        json_object_set_new(o, "strategy", strategy_json(&d->strategy, &cfg->pools[d->pool]));
    return o;
}

json_t *route_decision_json(const struct routing_config *cfg, const struct route_decision *d)
{
    return decision_json(cfg, d, false);
}

json_t *route_decision_json_compact(const struct routing_config *cfg,
                                    const struct route_decision *d)
{
    return decision_json(cfg, d, true);
}

static bt_err expand_fail(struct bt_error *err, const char *what)
{
    return bt_fail(err, BT_EINVAL, NULL, "a compact decision record %s", what);
}

json_t *route_record_context(const struct routing_config *cfg)
{
    json_t *rules = json_array(), *reps = json_object();
    char buf[200];
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct routing_rule *r = &cfg->rules[i];
        json_array_append_new(rules,
                              json_pack("[s, s, o]", r->name, target_text(cfg, r, buf, sizeof(buf)),
                                        str_or_null(r->when ? rule_text(r->when) : NULL)));
    }
    for (size_t i = 0; i < cfg->n_reps; i++) {
        const struct routing_rep *rep = &cfg->reps[i];
        json_object_set_new(reps, rep->id,
                            json_pack("[o, o, o, f]", routing_limit_json(rep->capacity),
                                      routing_limit_json(rep->daily_cap),
                                      routing_limit_json(rep->weekly_cap), rep->weight));
    }
    return json_pack("{s:o, s:o}", "rules", rules, "reps", reps);
}

/* Copies the members of `from` into a new object in its order, with the
 * candidate's limits (`lim`: the context's [capacity, daily_cap,
 * weekly_cap, weight]) in their place after "open". */
static json_t *expand_candidate(const json_t *from, const json_t *lim)
{
    json_t *co = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)from, key, v)
    {
        if (!strcmp(key, "today") || !strcmp(key, "this_week"))
            continue;
        json_object_set(co, key, v);
        if (!strcmp(key, "open"))
            limits_json(co, json_incref(json_array_get(lim, 0)),
                        json_incref(json_object_get(from, "today")),
                        json_incref(json_array_get(lim, 1)),
                        json_incref(json_object_get(from, "this_week")),
                        json_incref(json_array_get(lim, 2)), json_incref(json_array_get(lim, 3)));
    }
    return co;
}

bt_err route_record_expand(const json_t *context, json_t *rec, struct bt_error *err)
{
    if (!json_is_true(json_object_get(rec, "compact")))
        return BT_OK;
    json_t *crules = json_object_get(context, "rules"), *creps = json_object_get(context, "reps");
    json_t *tried = json_object_get(rec, "rules_tried");
    json_t *stored = json_object_get(rec, "rules");
    json_t *cands = json_object_get(rec, "candidates");
    if (!json_is_array(crules) || !json_is_object(creps))
        return expand_fail(err, "has a configuration context without rules or reps");
    if (!json_is_integer(tried) || !json_is_array(stored) || !json_is_array(cands))
        return expand_fail(err, "lacks rules_tried, rules or candidates");
    json_int_t n = json_integer_value(tried);
    if (n < 0 || (size_t)n > json_array_size(crules))
        return expand_fail(err, "tried more rules than its configuration has");
    json_t *rules = json_array();
    size_t next = 0;
    for (json_int_t i = 0; i < n; i++) {
        json_t *cr = json_array_get(crules, (size_t)i);
        const char *name = json_string_value(json_array_get(cr, 0));
        const char *target = json_string_value(json_array_get(cr, 1));
        const char *when = json_string_value(json_array_get(cr, 2));
        json_t *e = json_array_get(stored, next);
        json_t *ei = json_object_get(e, "i");
        enum route_step st = ROUTE_STEP_NOT_MATCHED;
        const char *rep = NULL, *elig = NULL;
        if (e && json_is_integer(ei) && json_integer_value(ei) == i) {
            const char *ename = json_string_value(json_object_get(e, "rule"));
            const char *step = json_string_value(json_object_get(e, "step"));
            if (!name || !target || !ename || strcmp(ename, name) || !step ||
                !route_step_parse(step, &st)) {
                json_decref(rules);
                return expand_fail(err, "names a rule its configuration does not have there");
            }
            rep = json_string_value(json_object_get(e, "rep"));
            elig = json_string_value(json_object_get(e, "eligibility"));
            next++;
        } else if (!name || !target) {
            json_decref(rules);
            return expand_fail(err, "has a malformed configuration context");
        }
        json_array_append_new(rules, trace_entry(name, target, when, st, rep, elig));
    }
    if (next != json_array_size(stored)) {
        json_decref(rules);
        return expand_fail(err, "has rules past the ones it tried");
    }
    json_t *full = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cands, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "rep"));
        json_t *lim = id ? json_object_get(creps, id) : NULL;
        if (!json_is_array(lim) || json_array_size(lim) != 4) {
            json_decref(rules);
            json_decref(full);
            return expand_fail(err, "names a rep its configuration does not have");
        }
        json_array_append_new(full, expand_candidate(c, lim));
    }
    json_object_set_new(rec, "rules", rules);
    json_object_set_new(rec, "candidates", full);
    json_object_del(rec, "compact");
    json_object_del(rec, "rules_tried");
    return BT_OK;
}

json_t *account_match_json(const struct account_match *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(account_match_kind_name(m->match.kind)));
    json_object_set_new(o, "via", json_string(account_match_via_name(m->match.via)));
    json_object_set_new(o, "key", str_or_null(m->match.account_key));
    json_object_set_new(o, "score", json_real(m->match.score));
    json_object_set_new(o, "signals", json_string(account_signals_name(m->match.signals)));
    json_object_set_new(o, "owner", str_or_null(m->match.owner));
    json_object_set_new(o, "ambiguous", json_boolean(m->ambiguous));
    char text[400];
    account_match_describe(m, text, sizeof(text));
    json_object_set_new(o, "explanation", json_string(text));
    return o;
}

json_t *pool_state_to_json(const struct pool_state *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "strategy", json_string(strategy_name(s->strategy)));
    json_object_set_new(o, "last_rep", str_or_null(s->last_rep_id));
    json_object_set_new(o, "window_start", json_integer((json_int_t)s->window_start));
    json_object_set_new(o, "updated_at", json_integer((json_int_t)s->updated_at));
    json_object_set_new(o, "decisions", json_integer((json_int_t)s->decisions));
    json_t *members = json_array();
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct pool_state_entry *e = &s->entries[i];
        json_t *m = json_object();
        json_object_set_new(m, "rep", json_string(e->rep_id));
        json_object_set_new(m, "pointer", json_integer((json_int_t)e->pointer));
        json_object_set_new(m, "credit", json_integer((json_int_t)e->credit));
        json_object_set_new(m, "assigned", json_integer((json_int_t)e->assigned));
        json_array_append_new(members, m);
    }
    json_object_set_new(o, "members", members);
    return o;
}

static bt_err get_int(const json_t *o, const char *key, int64_t *out, struct bt_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return bt_fail(err, BT_EINVAL, key, "pool state: %s is not an integer", key);
    *out = (int64_t)json_integer_value(v);
    return BT_OK;
}

bt_err pool_state_from_json(const json_t *j, struct arena *a, struct pool_state *out,
                            struct bt_error *err)
{
    *out = (struct pool_state)POOL_STATE_INIT;
    if (!json_is_object(j))
        return bt_fail(err, BT_EINVAL, NULL, "pool state: not an object");
    const char *strategy = json_string_value(json_object_get(j, "strategy"));
    if (!strategy)
        return bt_fail(err, BT_EINVAL, "strategy", "pool state: no strategy");
    if (strcmp(strategy, "unset") != 0 && !strategy_parse(strategy, &out->strategy))
        return bt_fail(err, BT_EINVAL, "strategy", "pool state: unknown strategy");
    const json_t *last = json_object_get(j, "last_rep");
    if (json_is_string(last))
        out->last_rep_id = arena_strdup(a, json_string_value(last));
    else if (last && !json_is_null(last))
        return bt_fail(err, BT_EINVAL, "last_rep", "pool state: last_rep is not a string");
    int64_t decisions = 0;
    bt_err e;
    if ((e = get_int(j, "window_start", &out->window_start, err)) ||
        (e = get_int(j, "updated_at", &out->updated_at, err)) ||
        (e = get_int(j, "decisions", &decisions, err)))
        return e;
    if (decisions < 0)
        return bt_fail(err, BT_EINVAL, "decisions", "pool state: negative decisions");
    out->decisions = (uint64_t)decisions;
    const json_t *members = json_object_get(j, "members");
    if (!json_is_array(members))
        return bt_fail(err, BT_EINVAL, "members", "pool state: members is not an array");
    size_t n = json_array_size(members);
    if (n > STRATEGY_MEMBERS_MAX)
        return bt_fail(err, BT_EINVAL, "members", "pool state: too many members");
    if (n > 0) {
        out->entries = arena_alloc(a, n * sizeof(*out->entries));
        if (!out->entries)
            return bt_fail(err, BT_ETOOBIG, NULL, "pool state: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(members, i);
        struct pool_state_entry *en = &out->entries[i];
        const char *rep = json_string_value(json_object_get(m, "rep"));
        int64_t assigned = 0;
        if (!json_is_object(m) || !rep)
            return bt_fail(err, BT_EINVAL, "members", "pool state: member %zu has no rep", i);
        en->rep_id = arena_strdup(a, rep);
        if ((e = get_int(m, "pointer", &en->pointer, err)) ||
            (e = get_int(m, "credit", &en->credit, err)) ||
            (e = get_int(m, "assigned", &assigned, err)))
            return e;
        if (assigned < 0)
            return bt_fail(err, BT_EINVAL, "assigned", "pool state: negative assigned");
        en->assigned = (uint64_t)assigned;
    }
    out->n_entries = n;
    return BT_OK;
}
