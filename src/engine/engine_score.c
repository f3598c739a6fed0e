/*
 * engine_score.c - scoring and the lifecycle as commands: rescoring after a
 * change, recording activities, recording CRM outcomes, and rescoring leads
 * whose decay is due.
 *
 * The decisions are the core's (core/score, core/lifecycle); this file loads
 * what they need from the store, calls them, and writes the result with its
 * events. It runs on the writer thread only, so the scorer's scratch space
 * needs no lock; it follows the configuration the command brings and keeps a
 * reference to it, so a reload never frees a model in use.
 */
#include "config/config.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"
#include "util/log.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVITIES_PER_SCORE 1000 /* the newest ones; older ones have decayed or do not matter */
#define RESCORE_RETRY_MS     (60 * 60 * 1000)
/* Rules on activity.TYPE.last_days / first_days or age_days change as time
 * passes without any decay: such leads are re-checked this often while they
 * have an activity younger than TIME_RULES_HORIZON_MS. */
#define TIME_RULES_RECHECK_MS (60 * 60 * 1000)
#define TIME_RULES_HORIZON_MS (400LL * 24 * 60 * 60 * 1000)

struct engine__scorer {
    struct config *cfg; /* the config the scratch belongs to (a reference) */
    struct score_scratch *scratch;
    struct rule_scratch *rules;
    struct route_cache *routes; /* local times of cfg's zones (routing) */
};

struct engine__scorer *engine__scorer_new(void)
{
    struct engine__scorer *s = xcalloc(1, sizeof(*s));
    s->rules = rule_scratch_new();
    return s;
}

void engine__scorer_free(struct engine__scorer *s)
{
    if (!s)
        return;
    score_scratch_free(s->scratch);
    rule_scratch_free(s->rules);
    route_cache_free(s->routes);
    config_unref(s->cfg);
    free(s);
}

static struct score_scratch *scratch_for(struct engine__scorer *s, const struct config *cfg)
{
    if (s->cfg != cfg) {
        score_scratch_free(s->scratch);
        route_cache_free(s->routes); /* it points into the old zone tables */
        config_unref(s->cfg);
        s->cfg = config_ref((struct config *)cfg);
        s->scratch = score_scratch_new(cfg->scoring);
        s->routes = route_cache_new();
    }
    return s->scratch;
}

bt_err engine__event(struct engine__ctx *ctx, int64_t lead_id, const char *type, const char *actor,
                     const char *reason, const char *data_json, struct bt_error *err)
{
    struct lead_event ev = {
        .lead_id = lead_id,
        .type = type,
        .actor = actor ? actor : "system",
        .reason = reason,
        .data_json = data_json ? data_json : "{}",
        .at = ctx->now,
    };
    return store_event_append(ctx->conn, &ev, err);
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

const char *engine__dump(struct arena *a, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    const char *copy = arena_strdup(a, s ? s : "null");
    free(s);
    return copy;
}

static const char *reasons_json(struct arena *a, const struct score_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_reasons; i++) {
        const struct score_reason *x = &r->reasons[i];
        json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:I}", "rule", x->rule, "kind", x->kind,
                              "points", round2(x->points), "after_decay", round2(x->after_decay),
                              "counted", round2(x->counted), "matches", (json_int_t)x->matches);
        if (x->group)
            json_object_set_new(o, "group", json_string(x->group));
        json_array_append_new(arr, o);
    }
    return engine__dump(a, arr);
}

static const char *stage_event(struct arena *a, enum lead_stage from, enum lead_stage to,
                               const char *via, const struct lifecycle_decision *d,
                               const struct lead_score *score)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "from", stage_name(from), "to", stage_name(to), "via", via);
    if (d && d->rule)
        json_object_set_new(o, "rule", json_string(d->rule));
    if (score && score->scored) {
        json_object_set_new(o, "score", json_real(round2(score->total)));
        json_object_set_new(o, "grade", json_string(score->grade));
    }
    return engine__dump(a, o);
}

static enum lead_stage stage_of(const struct lead *lead)
{
    enum lead_stage s;
    return lead->attr[LEAD_STAGE] && stage_parse(lead->attr[LEAD_STAGE], &s) ? s : STAGE_NEW;
}

static bool path_ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && !strcmp(path + n - k, suffix);
}

/* Whether any compiled rule reads a value that changes with time alone. */
static bool uses_time_rules(const struct score_model *m)
{
    for (size_t i = 0; i < rule_symtab_count(m->lead_syms); i++) {
        const char *p = rule_symtab_path(m->lead_syms, i);
        if (path_ends_with(p, ".last_days") || path_ends_with(p, ".first_days"))
            return true;
    }
    return rule_symtab_find(m->activity_syms, "age_days") >= 0;
}

static int64_t newest_at(const struct activity *acts, size_t n)
{
    int64_t newest = 0;
    for (size_t i = 0; i < n; i++)
        if (acts[i].occurred_at > newest)
            newest = acts[i].occurred_at;
    return newest;
}

bt_err engine_evaluate(const struct config *cfg, struct lead *lead, const struct activity *acts,
                       size_t n_acts, int64_t now, struct score_scratch *scratch,
                       struct rule_scratch *rules, struct arena *arena, struct score_result *res,
                       struct lifecycle_decision *decision, struct bt_error *err)
{
    const struct score_model *model = cfg->scoring;
    struct score_scratch *own_scratch = NULL;
    struct rule_scratch *own_rules = NULL;
    if (!scratch)
        scratch = own_scratch = score_scratch_new(model);
    if (!rules)
        rules = own_rules = rule_scratch_new();
    struct activity_fact *facts;
    size_t n_facts;
    size_t n_slots = rule_symtab_count(model->lead_syms);
    struct rule_value *slots = arena_alloc(arena, sizeof(*slots) * (n_slots ? n_slots : 1));
    bt_err rc = BT_OK;
    if (!slots || score_lead(model, lead, acts, n_acts, now, scratch, arena, res) ||
        score_activity_facts(acts, n_acts, arena, &facts, &n_facts) ||
        score_fill_lead(model->lead_syms, lead, facts, n_facts, res, now, arena, slots)) {
        rc = bt_fail(err, BT_ETOOBIG, NULL, "the lead is too large to score");
        goto done;
    }
    struct lead_score *sc = &lead->score;
    sc->scored = true;
    sc->total = res->total;
    sc->fit = res->fit;
    sc->engagement = res->engagement;
    memcpy(sc->grade, res->grade, sizeof(sc->grade));
    sc->reasons_json = reasons_json(arena, res);
    sc->scored_at = now;
    sc->rescore_at = res->next_change_at;
    if (uses_time_rules(model) && n_acts > 0 &&
        newest_at(acts, n_acts) > now - TIME_RULES_HORIZON_MS &&
        (!sc->rescore_at || sc->rescore_at > now + TIME_RULES_RECHECK_MS))
        sc->rescore_at = now + TIME_RULES_RECHECK_MS;
    if (sc->rescore_at && sc->rescore_at <= now)
        sc->rescore_at = now + 60000; /* never spin on a lead */
    lifecycle_qualify(&cfg->qualification, stage_of(lead), slots, rules, decision);
done:
    score_scratch_free(own_scratch);
    rule_scratch_free(own_rules);
    return rc;
}

bt_err engine__rescore(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                       const char *actor, struct arena *arena, struct bt_error *err)
{
    struct activity *acts;
    size_t n_acts;
    bt_err rc =
        store_activity_list(ctx->conn, lead->id, ACTIVITIES_PER_SCORE, arena, &acts, &n_acts, err);
    if (rc)
        return rc;
    struct score_result *res = arena_alloc(arena, sizeof(*res));
    if (!res)
        return bt_fail(err, BT_ETOOBIG, NULL, "request too large");
    enum lead_stage from = stage_of(lead);
    const char *account_owner = NULL;
    if ((rc = engine__match_account(ctx, cfg, lead, actor, arena, &account_owner, err)))
        return rc;
    struct lifecycle_decision d;
    struct lead_score before = lead->score;
    if ((rc = engine_evaluate(cfg, lead, acts, n_acts, ctx->now, scratch_for(ctx->scorer, cfg),
                              ctx->scorer->rules, arena, res, &d, err)))
        return rc;
    /* what the hold queue's retry may skip writing (see engine__ctx) */
    const struct lead_score *sc = &lead->score;
    ctx->score_unchanged =
        before.scored && before.total == sc->total && before.rescore_at == sc->rescore_at &&
        !strcmp(before.grade, sc->grade) && before.reasons_json && sc->reasons_json &&
        !strcmp(before.reasons_json, sc->reasons_json) && !(d.change && d.to != from);
    if (d.change && d.to != from) {
        lead->attr[LEAD_STAGE] = stage_name(d.to);
        lead->updated_at = ctx->now;
        if ((rc = engine__event(ctx, lead->id, "lead.stage_changed", actor, d.reason,
                                stage_event(arena, from, d.to, "qualification", &d, &lead->score),
                                err)))
            return rc;
    }
    /* a lead about to be routed is written once, by the router */
    if (!engine__will_route(cfg, lead) && (rc = store_lead_update(ctx->conn, lead, err)))
        return rc;
    return engine__route_after_score(ctx, cfg, lead, acts, n_acts, res, account_owner, actor, arena,
                                     err);
}

struct rule_scratch *engine__rule_scratch(struct engine__ctx *ctx)
{
    return ctx->scorer->rules;
}

struct route_cache *engine__route_cache(struct engine__ctx *ctx, const struct config *cfg)
{
    scratch_for(ctx->scorer, cfg);
    return ctx->scorer->routes;
}

/* The lead an activity item names: by id, by email, or created from the email. */
static bt_err item_lead(struct engine__ctx *ctx, struct activities_command *cmd, size_t i,
                        struct arena *arena, struct lead *out, struct bt_error *err)
{
    struct activity_item *it = &cmd->items[i];
    bt_err rc;
    if (it->lead_id) {
        rc = store_lead_get(ctx->conn, it->lead_id, arena, out, err);
        if (rc == BT_ENOTFOUND)
            return bt_fail(err, BT_ENOTFOUND, "id", "no such lead: %lld", (long long)it->lead_id);
        return rc;
    }
    rc = store_lead_find_by_email(ctx->conn, it->email, arena, out, err);
    if (rc != BT_ENOTFOUND)
        return rc;
    char field[48];
    snprintf(field, sizeof(field), "activities[%zu].email", i);
    if (!cmd->create_missing)
        return bt_fail(err, BT_ENOTFOUND, field,
                       "no lead has the email %s (set intake.activities_create_leads to create "
                       "leads from activities)",
                       it->email);
    memset(out, 0, sizeof(*out));
    out->attr[LEAD_EMAIL] = it->email;
    out->attr[LEAD_EMAIL_DOMAIN] = it->email_domain;
    out->email_free = it->email_free;
    out->attr[LEAD_STAGE] = "new";
    out->employees = -1;
    out->fields_json = "{}";
    out->created_at = out->updated_at = ctx->now;
    if ((rc = store_lead_insert(ctx->conn, out, err)) ||
        (rc = engine__event(ctx, out->id, "lead.created", cmd->actor, NULL,
                            "{\"via\":\"activity\"}", err)))
        return rc;
    it->created_lead = true;
    return BT_OK;
}

bt_err engine__apply_activities(struct engine__ctx *ctx, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    cmd->leads = arena_alloc(arena, sizeof(*cmd->leads) * (cmd->n_items ? cmd->n_items : 1));
    cmd->n_leads = 0;
    if (!cmd->leads)
        return bt_fail(err, BT_ETOOBIG, NULL, "request too large");
    for (size_t i = 0; i < cmd->n_items; i++) {
        struct activity_item *it = &cmd->items[i];
        size_t k;
        for (k = 0; k < cmd->n_leads; k++)
            if ((it->lead_id && cmd->leads[k].id == it->lead_id) ||
                (!it->lead_id && it->email && cmd->leads[k].attr[LEAD_EMAIL] &&
                 !strcmp(cmd->leads[k].attr[LEAD_EMAIL], it->email)))
                break;
        bt_err rc;
        if (k == cmd->n_leads) {
            if ((rc = item_lead(ctx, cmd, i, arena, &cmd->leads[k], err)))
                return rc;
            cmd->n_leads++;
        }
        it->result_lead_id = cmd->leads[k].id;
        it->act.lead_id = cmd->leads[k].id;
        if ((rc = store_activity_insert(ctx->conn, &it->act, ctx->now, err)))
            return rc;
    }
    for (size_t k = 0; k < cmd->n_leads; k++) {
        bt_err rc = engine__rescore(ctx, cmd->cfg, &cmd->leads[k], cmd->actor, arena, err);
        if (rc)
            return rc;
    }
    return BT_OK;
}

bt_err engine__apply_outcome(struct engine__ctx *ctx, struct outcome_command *cmd,
                             struct arena *arena, struct bt_error *err)
{
    struct lead *lead = &cmd->result;
    bt_err rc = store_lead_get(ctx->conn, cmd->lead_id, arena, lead, err);
    if (rc == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such lead: %lld", (long long)cmd->lead_id);
    if (rc)
        return rc;
    cmd->from = stage_of(lead);
    if (!lifecycle_allowed(cmd->from, cmd->to)) {
        char allowed[160];
        return bt_fail(err, BT_ECONFLICT, "stage",
                       "lead %lld is %s and cannot move to %s; allowed from %s: %s",
                       (long long)lead->id, stage_name(cmd->from), stage_name(cmd->to),
                       stage_name(cmd->from),
                       lifecycle_next_text(cmd->from, allowed, sizeof(allowed)));
    }
    lead->attr[LEAD_STAGE] = stage_name(cmd->to);
    lead->updated_at = ctx->now;
    struct lead_outcome o = {
        .lead_id = lead->id,
        .stage = stage_name(cmd->to),
        .has_value = cmd->has_value,
        .value = cmd->value,
        .currency = cmd->currency,
        .reason = cmd->reason,
        .actor = cmd->actor ? cmd->actor : "system",
        .at = ctx->now,
    };
    json_t *data = json_pack("{s:s, s:s, s:s}", "from", stage_name(cmd->from), "to",
                             stage_name(cmd->to), "via", "outcome");
    if (cmd->has_value)
        json_object_set_new(data, "value", json_real(cmd->value));
    if (cmd->currency)
        json_object_set_new(data, "currency", json_string(cmd->currency));
    if ((rc = store_lead_update(ctx->conn, lead, err)) ||
        (rc = store_outcome_insert(ctx->conn, &o, err)) ||
        (rc = engine__event(ctx, lead->id, "lead.stage_changed", o.actor, cmd->reason,
                            engine__dump(arena, data), err)))
        return rc;
    /* a held lead that is closed leaves the queue */
    if (cmd->from == STAGE_MQL && (rc = store_hold_remove(ctx->conn, lead->id, err)))
        return rc;
    /* an open assignment closed: its rep may have room for a held lead */
    if (cmd->cfg && (cmd->from == STAGE_ASSIGNED || cmd->from == STAGE_ACCEPTED))
        return engine__drain_after_change(ctx, cmd->cfg, arena, NULL, err);
    return BT_OK;
}

/*
 * Each due lead is rescored in its own savepoint and arena: a lead that
 * cannot be scored (too much data for the arena, say) is logged and put off
 * for an hour instead of failing the sweep, which would otherwise meet the
 * same lead first on every tick and rescore nobody again.
 */
bt_err engine__apply_rescore_due(struct engine__ctx *ctx, struct engine__rescore_due *cmd,
                                 struct arena *arena, struct bt_error *err)
{
    int64_t *ids;
    size_t n;
    bt_err rc = store_lead_rescore_due(ctx->conn, ctx->now, cmd->limit, arena, &ids, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct arena one = ARENA_INIT;
        struct lead lead;
        struct bt_error lerr = BT_ERROR_INIT;
        if ((rc = store_savepoint(ctx->conn, err)))
            return rc;
        rc = store_lead_get(ctx->conn, ids[i], &one, &lead, &lerr);
        if (!rc)
            rc = engine__rescore(ctx, cmd->cfg, &lead, "system", &one, &lerr);
        arena_release(&one);
        if (rc) {
            store_savepoint_rollback(ctx->conn);
            log_error("engine: cannot rescore lead %lld (%s); trying again in an hour",
                      (long long)ids[i], lerr.message);
        }
        if ((rc = store_savepoint_release(ctx->conn, err)))
            return rc;
        if (lerr.code &&
            (rc = store_lead_set_rescore_at(ctx->conn, ids[i], ctx->now + RESCORE_RETRY_MS, err)))
            return rc;
    }
    cmd->rescored = n;
    return BT_OK;
}

bt_err engine_record_activities(struct engine *e, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__ACTIVITIES, .arena = arena, .u.activities = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_record_outcome(struct engine *e, struct outcome_command *cmd, struct arena *arena,
                             struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__OUTCOME, .arena = arena, .u.outcome = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_rescore_due(struct engine *e, const struct config *cfg, unsigned limit,
                          size_t *rescored, struct bt_error *err)
{
    struct arena arena = ARENA_INIT;
    struct engine__rescore_due due = {.cfg = cfg, .limit = limit};
    struct engine__command c = {
        .kind = ENGINE__RESCORE_DUE, .arena = &arena, .u.rescore_due = &due};
    bt_err rc = engine__submit(e, &c, err);
    arena_release(&arena);
    *rescored = due.rescored;
    return rc;
}
