/*
 * engine_lead.c - one lead through the pipeline, on the writer: the path
 * every command that changes a lead takes (intake, activities, decay, the
 * hold queue's retries, re-routing).
 *
 *   load    the lead's activities, the account index; when routing asks,
 *           reps' runtime, pools' state and the lead's exclusions
 *   decide  core/decide: account, score, qualification, routing decision and
 *           its record (pure; the same code as `baton score` and `baton route`)
 *   write   the lead: its account, score and stage
 *   route   assigned: decision, lead (stage, owner), assignment, pool state,
 *           rep counts; held: decision (unless held again for the same
 *           reason), hold row
 *   events  lead.account_matched, lead.stage_changed, lead.assigned, lead.held
 *   effects where outbox rows will be written, in the same transaction
 *
 * Being on the single writer is what makes pool state race-free: two leads
 * for one pool are decided one after the other, each seeing the state the
 * previous one wrote (docs/architecture.md: the writer model).
 */
#include "config/config.h"
#include "core/routing_json.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"
#include "util/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVITIES_PER_SCORE 1000 /* the newest ones; older ones have decayed or do not matter */

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- the writer's scratch, per configuration ---- */

struct engine__scorer {
    struct config *cfg; /* the config the scratch belongs to (a reference) */
    struct decide_scratch *scratch;
};

struct engine__scorer *engine__scorer_new(void)
{
    return xcalloc(1, sizeof(struct engine__scorer));
}

void engine__scorer_free(struct engine__scorer *s)
{
    if (!s)
        return;
    decide_scratch_free(s->scratch);
    config_unref(s->cfg);
    free(s);
}

/* The scratch for cfg, made anew when the configuration changes (it points
 * into the model and the zone tables of the config it was made for, which
 * the reference keeps alive). */
static struct decide_scratch *scratch_for(struct engine__ctx *ctx, const struct config *cfg)
{
    struct engine__scorer *s = ctx->scorer;
    if (s->cfg != cfg) {
        decide_scratch_free(s->scratch);
        config_unref(s->cfg);
        s->cfg = config_ref((struct config *)cfg);
        s->scratch = decide_scratch_new(&cfg->decide);
    }
    return s->scratch;
}

/* ---- state the decision asks for, from the store ---- */

struct loader {
    struct engine__ctx *ctx;
    const struct config *cfg;
    struct arena *arena;
    int64_t lead_id;
};

static bt_err load_rep(void *p, size_t rep, const struct rep_runtime **out, struct bt_error *err)
{
    struct loader *l = p;
    struct rep_runtime *rt = arena_alloc(l->arena, sizeof(*rt));
    if (!rt)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    bt_err e = store_rep_runtime_get(l->ctx->conn, l->cfg->routing.reps[rep].id, l->ctx->now,
                                     l->arena, rt, err);
    *out = rt;
    return e;
}

static bt_err load_pool(void *p, size_t pool, const struct pool_state **out, json_t **discarded,
                        struct bt_error *err)
{
    struct loader *l = p;
    const char *id = l->cfg->routing.pools[pool].id;
    const char *text;
    bt_err e = store_pool_state_get(l->ctx->conn, id, l->arena, &text, err);
    if (e || !text)
        return e;
    struct pool_state *st = arena_alloc(l->arena, sizeof(*st));
    if (!st)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    struct bt_error why = BT_ERROR_INIT;
    e = pool_state_from_json(j, l->arena, st, &why);
    json_decref(j);
    if (e) {
        /* Never silently: the record flags the restart. */
        log_error("routing: pool %s has a corrupt state (%s); starting it afresh", id, why.message);
        *discarded = json_string(text); /* NULL when the text is not even UTF-8: */
        if (!*discarded)
            *discarded =
                json_pack("{s:b, s:I}", "unreadable", 1, "bytes", (json_int_t)strlen(text));
        return BT_OK;
    }
    *out = st;
    return BT_OK;
}

static bt_err load_excluded(void *p, const char *const **ids, size_t *n, struct bt_error *err)
{
    struct loader *l = p;
    struct store_exclusion *list;
    bt_err e = store_exclusion_list(l->ctx->conn, l->lead_id, l->arena, &list, n, err);
    if (e)
        return e;
    const char **rep_ids = arena_alloc_raw(l->arena, (*n ? *n : 1) * sizeof(*rep_ids));
    if (!rep_ids)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    for (size_t i = 0; i < *n; i++)
        rep_ids[i] = list[i].rep_id;
    *ids = rep_ids;
    return BT_OK;
}

/* ---- writing the outcome ---- */

static bt_err write_decision(struct engine__ctx *ctx, const struct config *cfg,
                             const struct lead *lead, const struct decide_result *r,
                             struct arena *arena, int64_t *id, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const struct route_decision *d = &r->route;
    char *record = json_dumps(r->record, DECIDE_RECORD_JSON_FLAGS);
    if (!record)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: the record could not be written");
    struct store_decision sd = {
        .lead_id = lead->id,
        .result = d->result == ROUTE_ASSIGNED ? "assigned" : "held",
        .rep_id = d->rep_id,
        .pool_id = d->pool >= 0 ? rc->pools[d->pool].id : NULL,
        .rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL,
        .config_version = cfg->version,
        .record = record,
        .at = ctx->now,
    };
    /* A compact record names its configuration: the store keeps what the
     * record needs of that version (its rules and reps' limits, no
     * secrets), in the same transaction, once per version. */
    bt_err e = BT_OK;
    if (json_is_true(json_object_get(r->record, "compact")))
        e = store_config_version_put(ctx->conn, cfg->version, cfg->record_context,
                                     cfg->record_context_len, ctx->now, err);
    if (!e)
        e = store_decision_insert(ctx->conn, &sd, err);
    free(record);
    *id = sd.id;
    return e;
}

static bt_err write_assignment(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                               const struct decide_result *r, const struct engine__lead_opts *o,
                               struct arena *arena, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const struct route_decision *d = &r->route;
    const char *pool_id = d->pool >= 0 ? rc->pools[d->pool].id : NULL;
    if (o->terms && r->record) {
        /* The attempt keeps the policy it had (a reassignment, an expiry):
         * the record says so instead of the policy routing would pick. */
        json_error_t jerr;
        json_t *t = json_loads(o->terms, 0, &jerr);
        const char *name = json_string_value(json_object_get(t, "policy"));
        if (name)
            json_object_set_new(
                r->record, "sla",
                json_pack(
                    "{s:s, s:s?, s:I, s:b}", "policy", name, "clock",
                    json_string_value(json_object_get(t, "clock")), "accept_within_seconds",
                    (json_int_t)(json_integer_value(json_object_get(t, "accept_within_ms")) / 1000),
                    "carried_over", 1));
        json_decref(t);
    }
    int64_t decision_id;
    bt_err e = write_decision(ctx, cfg, lead, r, arena, &decision_id, err);
    if (e)
        return e;
    enum lead_stage from = decide_stage_of(lead);
    const char *previous_owner = lead->attr[LEAD_OWNER];
    /* A broadcast pool offers the lead to several reps: nobody owns it (or
     * counts it) until one of them accepts (engine_handoff.c). */
    bool broadcast = d->pool >= 0 && rc->pools[d->pool].offer == POOL_OFFER_BROADCAST &&
                     rc->pools[d->pool].offer_to > 1;
    lead->attr[LEAD_STAGE] = stage_name(STAGE_ASSIGNED);
    lead->attr[LEAD_OWNER] = broadcast ? NULL : arena_strdup(arena, d->rep_id);
    lead->updated_at = ctx->now;
    struct store_assignment a;
    if ((e = store_lead_update(ctx->conn, lead, err)) ||
        (e = engine__assignment_open(ctx, cfg, lead, r, decision_id, o->terms, arena, &a, err)) ||
        (e = engine__event_assigned(ctx, arena, cfg, lead, r, decision_id, &a, from, previous_owner,
                                    o->actor, err)) ||
        (e = store_hold_remove(ctx->conn, lead->id, err)))
        return e;
    if (d->has_strategy &&
        (e = store_pool_state_put(ctx->conn, pool_id,
                                  engine__dump(arena, pool_state_to_json(&d->strategy.after)),
                                  ctx->now, err)))
        return e;
    if (broadcast)
        return BT_OK;
    return store_rep_counts_set(ctx->conn, d->rep_id, r->day_start, r->day_count, r->week_start,
                                r->week_count, ctx->now, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the stored wake targets (store_hold's wake_list) are `w`. */
static bool same_wakes(const char *list, const char *const *w, size_t n, struct arena *arena)
{
    if (!n)
        return !list;
    const char **sorted = arena_alloc(arena, n * sizeof(*sorted));
    if (!sorted || !list)
        return false;
    memcpy(sorted, w, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(sorted[i]);
        if (strncmp(list, sorted[i], len) != 0 || (list[len] != ' ' && list[len] != '\0'))
            return false;
        list += len + (list[len] == ' ');
    }
    return *list == '\0';
}

/* A lead re-routed through one rule of its own (an SLA's reassignment, a
 * manager's) and held by it: the timer's walks try it with the configured
 * rules, whatever that one rule waited for. */
static const char *const rerouted_wakes[] = {"any"};

static bt_err write_hold(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                         const struct decide_result *r, const struct engine__lead_opts *o,
                         bool unchanged, struct arena *arena, struct bt_error *err)
{
    struct store_hold h = {
        .lead_id = lead->id,
        .reason = r->hold_reason,
        .rule = r->hold_rule,
        .pool_id = r->hold_pool,
        .rep_id = r->hold_rep,
        .score = lead->score.scored ? lead->score.total : 0,
        .since = ctx->now,
        .wakes = o->only_rule ? rerouted_wakes : r->hold_wakes,
        .n_wakes = o->only_rule ? 1 : r->n_hold_wakes,
    };
    bool held;
    struct store_hold old;
    bt_err e = store_hold_get(ctx->conn, lead->id, arena, &held, &old, err);
    if (e)
        return e;
    bool again = held && same(old.reason, h.reason) && same(old.rule, h.rule) &&
                 same(old.pool_id, h.pool_id) && same(old.rep_id, h.rep_id);
    /* A retry that changed nothing writes nothing (the timer tries held
     * leads again and again); new wake targets are written, though. */
    if (again && o->quiet_retry && unchanged &&
        same_wakes(old.wake_list, h.wakes, h.n_wakes, arena))
        return BT_OK;
    if ((e = store_lead_update(ctx->conn, lead, err))) /* its new score */
        return e;
    /* Held again for the same reason: only the score moves (no new record). */
    if (again) {
        h.decision_id = old.decision_id;
        if (!(e = store_hold_put(ctx->conn, &h, err)))
            ctx->tally.routed[METRICS_ROUTED_HELD]++;
        return e;
    }
    if ((e = write_decision(ctx, cfg, lead, r, arena, &h.decision_id, err)) ||
        (e = store_hold_put(ctx->conn, &h, err)) ||
        (e = engine__event_held(ctx, arena, lead, r, h.decision_id, o->actor, err)))
        return e;
    ctx->tally.routed[METRICS_ROUTED_HELD]++;
    return BT_OK;
}

/* Not routed: the lead is written as it is; a lead that left mql leaves the
 * hold queue, and one that is mql while routing is off waits in it (so that
 * it is routed as soon as a reload brings rules). */
static bt_err write_unrouted(struct engine__ctx *ctx, const struct config *cfg,
                             const struct lead *lead, const struct decide_result *r,
                             struct bt_error *err)
{
    bt_err e = store_lead_update(ctx->conn, lead, err);
    if (e)
        return e;
    if (r->stage != STAGE_MQL)
        return store_hold_remove(ctx->conn, lead->id, err);
    if (cfg->routing.n_rules > 0)
        return BT_OK;
    struct store_hold h = {
        .lead_id = lead->id,
        .reason = "routing_off",
        .score = lead->score.scored ? lead->score.total : 0,
        .since = ctx->now,
    };
    return store_hold_put(ctx->conn, &h, err);
}

bt_err engine__lead_run(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                        const struct engine__lead_opts *o, struct arena *arena,
                        struct bt_error *err)
{
    /* load */
    struct activity *acts;
    size_t n_acts;
    bt_err e =
        store_activity_list(ctx->conn, lead->id, ACTIVITIES_PER_SCORE, arena, &acts, &n_acts, err);
    if (e)
        return e;
    const struct account_index *index = NULL;
    e = engine__account_index(ctx, cfg, &index, err);
    if (e == BT_ESTORE)
        return e;
    if (e) {
        /* Accounts that cannot be indexed (logged by engine_accounts.c) must
         * not stop intake: the lead goes on with the account it has. */
        *err = (struct bt_error)BT_ERROR_INIT;
        index = NULL;
    }
    struct loader l = {.ctx = ctx, .cfg = cfg, .arena = arena, .lead_id = lead->id};
    /* One rule in place of the configuration's: the same model otherwise
     * (the zone cache of the scratch is keyed by the reps' tables). */
    struct routing_config one;
    struct decide_model model = cfg->decide;
    engine__predictive_use(ctx->predictive, cfg, &model);
    if (o->only_rule) {
        one = cfg->routing;
        one.rules = o->only_rule;
        one.n_rules = 1;
        model.routing = &one;
    }
    struct decide_input in = {
        .model = &model,
        .lead = lead,
        .acts = acts,
        .n_acts = n_acts,
        .accounts = index,
        .route = o->route,
        .state = {.rep_runtime = load_rep,
                  .pool_state = load_pool,
                  .excluded = load_excluded,
                  .ctx = &l},
        .now = ctx->now,
        .scratch = scratch_for(ctx, cfg),
        .skill = o->route != DECIDE_ROUTE_NEVER ? engine__skills_for(ctx, cfg) : NULL,
        .compact_record = !o->only_rule,
    };

    /* decide */
    struct decide_result r;
    if ((e = decide_lead(&in, arena, &r, err)))
        return e;
    if (r.refused_why[0])
        log_error("routing: lead %lld: %s; decided again with fresh pool state",
                  (long long)lead->id, r.refused_why);
    if (o->route == DECIDE_ROUTE_ALWAYS && r.stage != r.from) {
        /* A lead routed again stays where it was: what qualification
         * would do is in the record ("forced", "stage") only. */
        r.stage = r.from;
        lead->attr[LEAD_STAGE] = stage_name(r.from);
    }
    bool stage_moved = r.stage != r.from;

    /* write, route, events */
    if (r.account_match_changed &&
        (e = store_lead_set_account(ctx->conn, lead->id, lead->account_id, lead->account_match_json,
                                    err)))
        goto out;
    if (r.account_changed && (e = engine__event_account(ctx, arena, lead, &r, o->actor, err)))
        goto out;
    if (stage_moved) {
        lead->updated_at = ctx->now;
        if ((e = engine__event_qualified(ctx, arena, lead, &r, o->actor, err)))
            goto out;
    }
    if (!r.routed)
        e = write_unrouted(ctx, cfg, lead, &r, err);
    else if (r.route.result == ROUTE_ASSIGNED) {
        if (!(e = write_assignment(ctx, cfg, lead, &r, o, arena, err)))
            ctx->tally.routed[METRICS_ROUTED_ASSIGNED]++;
    } else
        e = write_hold(ctx, cfg, lead, &r, o, !r.score_changed && !stage_moved, arena, err);
    if (!e && (unsigned)r.stage < METRICS_STAGES)
        ctx->tally.stages[r.stage]++;
    /* effects: outbox rows go here, in this transaction (delivery) */
    if (!e && lead->score.rescore_at)
        engine__deadline(ctx, ENGINE_DEADLINE_DECAY, lead->score.rescore_at);
out:
    decide_result_release(&r);
    return e;
}

bt_err engine__reroute(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                       const char *via, const char *actor, const char *reason,
                       const struct engine__lead_opts *o, struct arena *arena, struct bt_error *err)
{
    enum lead_stage from = decide_stage_of(lead);
    if (from != STAGE_MQL && from != STAGE_ASSIGNED && from != STAGE_ACCEPTED)
        return bt_fail(err, BT_ECONFLICT, "stage",
                       "lead %lld is %s and cannot be routed again (only mql, assigned and "
                       "accepted leads can)",
                       (long long)lead->id, stage_name(from));
    bt_err e = engine__assignment_close_live(ctx, lead->id, ASSIGNMENT_REASSIGNED, actor,
                                             reason ? reason : via, arena, err);
    if (e)
        return e;
    if (from != STAGE_MQL) {
        /* Taken back: the rep no longer owns it (nor sees it). */
        json_t *data = engine__stage_data(from, STAGE_MQL, via);
        if (lead->attr[LEAD_OWNER])
            json_object_set_new(data, "rep", json_string(lead->attr[LEAD_OWNER]));
        lead->attr[LEAD_STAGE] = stage_name(STAGE_MQL);
        lead->attr[LEAD_OWNER] = NULL;
        lead->updated_at = ctx->now;
        if ((e = store_lead_update(ctx->conn, lead, err))) {
            json_decref(data);
            return e;
        }
        if ((e = engine__event(ctx, arena, lead->id, "lead.stage_changed", actor, reason, data,
                               err)))
            return e;
    }
    struct engine__lead_opts run = {.actor = actor, .route = DECIDE_ROUTE_ALWAYS};
    if (o) {
        run.only_rule = o->only_rule;
        run.terms = o->terms;
    }
    return engine__lead_run(ctx, cfg, lead, &run, arena, err);
}
