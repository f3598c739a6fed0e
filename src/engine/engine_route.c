/*
 * engine_route.c - routing as commands: a qualified lead is assigned or held,
 * reps' status and time off change, and held leads are tried again.
 *
 * The decision is the core's (core/routing.h); this file loads what it needs
 * (each rep's runtime state and each pool's state, only when the decision
 * asks for them), calls route_decide(), and writes the outcome in the
 * command's transaction: the lead, its events, the decision record, the
 * assignment, the pool's new state, the rep's counts, the hold queue. Being
 * on the single writer is what makes pool state race-free: two leads for one
 * pool are decided one after the other, each seeing the state the previous
 * one wrote.
 */
#include "config/config.h"
#include "core/account_match.h"
#include "core/normalize.h"
#include "core/routing_json.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"
#include "util/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_AFTER_CHANGE 1000 /* held leads tried after a rep becomes available */

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- state the decision asks for ---- */

struct loader {
    struct engine__ctx *ctx;
    const struct config *cfg;
    struct arena *arena;
    struct rep_runtime **reps;
    struct pool_state **pools;
    bool fresh_pools;  /* ignore stored pool state (it was refused) */
    bool state_reset;  /* a stored pool state was unreadable or refused */
    json_t *discarded; /* those states, by pool id, for the record (NULL: none) */
};

static bt_err load_rep(void *p, size_t rep, const struct rep_runtime **out, struct bt_error *err)
{
    struct loader *l = p;
    if (!l->reps[rep]) {
        struct rep_runtime *rt = arena_alloc(l->arena, sizeof(*rt));
        if (!rt)
            return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
        bt_err e = store_rep_runtime_get(l->ctx->conn, l->cfg->routing.reps[rep].id, l->ctx->now,
                                         l->arena, rt, err);
        if (e)
            return e;
        l->reps[rep] = rt;
    }
    *out = l->reps[rep];
    return BT_OK;
}

static bt_err load_pool(void *p, size_t pool, const struct pool_state **out, struct bt_error *err)
{
    struct loader *l = p;
    if (!l->pools[pool]) {
        const char *id = l->cfg->routing.pools[pool].id;
        const char *text;
        bt_err e = store_pool_state_get(l->ctx->conn, id, l->arena, &text, err);
        if (e)
            return e;
        struct pool_state *st = arena_alloc(l->arena, sizeof(*st));
        if (!st)
            return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
        *st = (struct pool_state)POOL_STATE_INIT;
        if (text && !l->fresh_pools) {
            json_error_t jerr;
            json_t *j = json_loads(text, 0, &jerr);
            e = pool_state_from_json(j, l->arena, st, err);
            json_decref(j);
            if (e) {
                /* Never silently: the decision flags the restart. */
                log_error("routing: pool %s has a corrupt state (%s); starting it afresh", id,
                          err->message);
                *st = (struct pool_state)POOL_STATE_INIT;
                *err = (struct bt_error)BT_ERROR_INIT;
                l->state_reset = true;
                if (!l->discarded)
                    l->discarded = json_object();
                json_object_set_new(l->discarded, id, json_string(text));
            }
        }
        l->pools[pool] = st;
    }
    *out = l->pools[pool];
    return BT_OK;
}

/* ---- the account ---- */

bt_err engine__match_account(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                             const char *actor, struct arena *arena, const char **owner,
                             struct bt_error *err)
{
    *owner = NULL;
    const struct account_index *index = NULL;
    bt_err e = engine__account_index(ctx, cfg, &index, err);
    if (e && e != BT_ESTORE) {
        /* Accounts that cannot be indexed (logged by engine_accounts.c) must
         * not stop intake: the lead goes on without an account. */
        *err = (struct bt_error)BT_ERROR_INIT;
        return BT_OK;
    }
    if (e)
        return e;
    if (!index)
        return BT_OK;
    struct account_match m;
    account_match_lead(index, lead, &m);
    const char *id = m.match.account_id;
    *owner = m.match.owner ? arena_strdup(arena, m.match.owner) : NULL;
    const char *mj = id ? engine__dump(arena, account_match_json(&m)) : NULL;
    if (same(id, lead->account_id) && same(mj, lead->account_match_json))
        return BT_OK;
    const char *before = lead->account_id;
    lead->account_id = id ? arena_strdup(arena, id) : NULL;
    lead->account_match_json = mj;
    if ((e = store_lead_set_account(ctx->conn, lead->id, lead->account_id, mj, err)))
        return e;
    if (same(before, lead->account_id))
        return BT_OK; /* only how it matched changed */
    json_t *data = json_object();
    json_object_set_new(data, "from", before ? json_string(before) : json_null());
    json_object_set_new(data, "to", id ? json_string(lead->account_id) : json_null());
    if (mj) {
        json_error_t jerr;
        json_object_set_new(data, "match", json_loads(mj, 0, &jerr));
    }
    return engine__event(ctx, lead->id, "lead.account_matched", actor, NULL,
                         engine__dump(arena, data), err);
}

/* ---- writing the outcome ---- */

static const char *stage_data(struct arena *a, const char *from, const char *to,
                              const struct route_decision *d, const struct routing_config *rc)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "via", "routing");
    if (d->rule >= 0)
        json_object_set_new(o, "rule", json_string(rc->rules[d->rule].name));
    return engine__dump(a, o);
}

static bt_err write_assignment(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                               const struct route_decision *d, struct loader *l, const char *record,
                               const char *actor, struct arena *arena, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const char *pool_id = d->pool >= 0 ? rc->pools[d->pool].id : NULL;
    const char *rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL;
    struct store_decision sd = {
        .lead_id = lead->id,
        .result = "assigned",
        .rep_id = d->rep_id,
        .pool_id = pool_id,
        .rule = rule,
        .config_version = cfg->version,
        .record = record,
        .at = ctx->now,
    };
    bt_err e = store_decision_insert(ctx->conn, &sd, err);
    if (e)
        return e;
    const char *from = lead->attr[LEAD_STAGE] ? lead->attr[LEAD_STAGE] : "mql";
    const char *previous_owner = lead->attr[LEAD_OWNER];
    lead->attr[LEAD_STAGE] = stage_name(STAGE_ASSIGNED);
    lead->attr[LEAD_OWNER] = arena_strdup(arena, d->rep_id);
    lead->updated_at = ctx->now;
    json_t *data = json_object();
    json_object_set_new(data, "rep", json_string(d->rep_id));
    json_object_set_new(data, "pool", pool_id ? json_string(pool_id) : json_null());
    json_object_set_new(data, "rule", rule ? json_string(rule) : json_null());
    json_object_set_new(data, "decision", json_integer(sd.id));
    if (previous_owner && strcmp(previous_owner, d->rep_id) != 0)
        json_object_set_new(data, "previous_owner", json_string(previous_owner));
    if ((e = store_lead_update(ctx->conn, lead, err)) ||
        (e = engine__event(ctx, lead->id, "lead.stage_changed", actor, d->summary,
                           stage_data(arena, from, "assigned", d, rc), err)) ||
        (e = engine__event(ctx, lead->id, "lead.assigned", actor, d->summary,
                           engine__dump(arena, data), err)) ||
        (e = store_assignment_insert(ctx->conn, lead->id, d->rep_id, pool_id, rule, sd.id, ctx->now,
                                     err)) ||
        (e = store_hold_remove(ctx->conn, lead->id, err)))
        return e;
    if (d->has_strategy) {
        json_t *st = pool_state_to_json(&d->strategy.after);
        if ((e = store_pool_state_put(ctx->conn, pool_id, engine__dump(arena, st), ctx->now, err)))
            return e;
    }
    /* the rep's counts for its current day and week, one more */
    const struct routing_rep *rep = &rc->reps[d->rep];
    const struct rep_runtime *rt;
    if ((e = load_rep(l, (size_t)d->rep, &rt, err)))
        return e;
    int64_t day, week;
    routing_rep_periods(rep, ctx->now, &day, &week);
    int64_t day_count = (rt->day_start == day ? rt->day_count : 0) + 1;
    int64_t week_count = (rt->week_start == week ? rt->week_count : 0) + 1;
    return store_rep_counts_set(ctx->conn, rep->id, day, day_count, week, week_count, ctx->now,
                                err);
}

static bt_err write_hold(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                         const struct route_decision *d, const char *record, const char *actor,
                         struct arena *arena, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    struct store_hold h = {
        .lead_id = lead->id,
        .reason = d->hold_reason ? d->hold_reason : "no_rule",
        .rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL,
        .pool_id = d->pool >= 0 ? rc->pools[d->pool].id : NULL,
        .rep_id = d->pool < 0 && d->n_candidates == 1 ? rc->reps[d->candidates[0].rep].id : NULL,
        .score = lead->score.scored ? lead->score.total : 0,
        .since = ctx->now,
    };
    bool held;
    struct store_hold old;
    bt_err e = store_hold_get(ctx->conn, lead->id, arena, &held, &old, err);
    if (e)
        return e;
    bool again = held && same(old.reason, h.reason) && same(old.rule, h.rule) &&
                 same(old.pool_id, h.pool_id) && same(old.rep_id, h.rep_id);
    /* A retry that changed nothing writes nothing (the timer tries every
     * held lead each minute). */
    if (again && ctx->retrying && ctx->score_unchanged)
        return BT_OK;
    if ((e = store_lead_update(ctx->conn, lead, err))) /* its new score */
        return e;
    /* Held again for the same reason: only the score moves (no new record). */
    if (again) {
        h.decision_id = old.decision_id;
        return store_hold_put(ctx->conn, &h, err);
    }
    struct store_decision sd = {
        .lead_id = lead->id,
        .result = "held",
        .pool_id = h.pool_id,
        .rule = h.rule,
        .config_version = cfg->version,
        .record = record,
        .at = ctx->now,
    };
    if ((e = store_decision_insert(ctx->conn, &sd, err)))
        return e;
    h.decision_id = sd.id;
    json_t *data = json_object();
    json_object_set_new(data, "reason", json_string(h.reason));
    json_object_set_new(data, "rule", h.rule ? json_string(h.rule) : json_null());
    json_object_set_new(data, "pool", h.pool_id ? json_string(h.pool_id) : json_null());
    json_object_set_new(data, "decision", json_integer(sd.id));
    if ((e = store_hold_put(ctx->conn, &h, err)))
        return e;
    return engine__event(ctx, lead->id, "lead.held", actor, d->summary, engine__dump(arena, data),
                         err);
}

static bt_err route(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                    const struct rule_value *slots, const char *account_owner, const char *actor,
                    struct arena *arena, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    struct loader l = {
        .ctx = ctx,
        .cfg = cfg,
        .arena = arena,
        .reps = arena_alloc(arena, (rc->n_reps ? rc->n_reps : 1) * sizeof(*l.reps)),
        .pools = arena_alloc(arena, (rc->n_pools ? rc->n_pools : 1) * sizeof(*l.pools)),
    };
    if (!l.reps || !l.pools)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    memset(l.reps, 0, (rc->n_reps ? rc->n_reps : 1) * sizeof(*l.reps));
    memset(l.pools, 0, (rc->n_pools ? rc->n_pools : 1) * sizeof(*l.pools));
    const char **excluded;
    size_t n_excluded;
    bt_err e = store_exclusion_list(ctx->conn, lead->id, arena, &excluded, &n_excluded, err);
    if (e)
        return e;
    bool reset_pools = false;
    struct route_input in = {
        .cfg = rc,
        .slots = slots,
        .scratch = engine__rule_scratch(ctx),
        .lead_owner = lead->attr[LEAD_OWNER],
        .account_id = lead->account_id,
        .account_owner = account_owner,
        .country = lead->attr[LEAD_COUNTRY],
        .region = normalize_region(lead->attr[LEAD_COUNTRY]),
        .excluded = excluded,
        .n_excluded = n_excluded,
        .rep_runtime = load_rep,
        .pool_state = load_pool,
        .ctx = &l,
        .now = ctx->now,
        .cache = engine__route_cache(ctx, cfg),
    };
    struct route_decision d;
retry:
    e = route_decide(&in, arena, &d, err);
    if (e == BT_EINVAL && !reset_pools) {
        /* A pool state the strategy refuses (a repeated rep, a window from
         * the future after the clock was set back): routing must not stop
         * for it. Start the pools of this decision afresh, say so in the
         * record and the log, and decide again. */
        log_error("routing: lead %lld: %s; deciding again with fresh pool state",
                  (long long)lead->id, err->message);
        *err = (struct bt_error)BT_ERROR_INIT;
        for (size_t p = 0; p < rc->n_pools; p++) {
            if (!l.pools[p] || l.pools[p]->strategy == STRATEGY_UNSET)
                continue;
            if (!l.discarded)
                l.discarded = json_object();
            json_object_set_new(l.discarded, rc->pools[p].id, pool_state_to_json(l.pools[p]));
        }
        memset(l.pools, 0, (rc->n_pools ? rc->n_pools : 1) * sizeof(*l.pools));
        l.fresh_pools = l.state_reset = true;
        reset_pools = true;
        goto retry;
    }
    if (e) {
        json_decref(l.discarded);
        return e;
    }
    json_t *rec = route_decision_json(rc, &d);
    if (l.state_reset) {
        json_object_set_new(rec, "pool_state_reset", json_true());
        if (l.discarded)
            json_object_set_new(rec, "discarded_pool_states", l.discarded);
    } else {
        json_decref(l.discarded);
    }
    json_object_set_new(rec, "lead", json_integer(lead->id));
    json_object_set_new(rec, "config_version", json_string(cfg->version));
    json_object_set_new(rec, "at", json_integer(ctx->now));
    if (lead->account_id) {
        json_t *acc = json_object();
        json_object_set_new(acc, "id", json_string(lead->account_id));
        json_object_set_new(acc, "owner", account_owner ? json_string(account_owner) : json_null());
        json_error_t jerr;
        if (lead->account_match_json)
            json_object_set_new(acc, "match", json_loads(lead->account_match_json, 0, &jerr));
        json_object_set_new(rec, "account", acc);
    }
    const char *record = engine__dump(arena, rec);
    if (d.result == ROUTE_ASSIGNED)
        return write_assignment(ctx, cfg, lead, &d, &l, record, actor, arena, err);
    return write_hold(ctx, cfg, lead, &d, record, actor, arena, err);
}

static bool is_mql(const struct lead *lead)
{
    return lead->attr[LEAD_STAGE] && strcmp(lead->attr[LEAD_STAGE], "mql") == 0;
}

bt_err engine__route_after_score(struct engine__ctx *ctx, const struct config *cfg,
                                 struct lead *lead, const struct activity *acts, size_t n_acts,
                                 const struct score_result *res, const char *account_owner,
                                 const char *actor, struct arena *arena, struct bt_error *err)
{
    if (!is_mql(lead))
        return store_hold_remove(ctx->conn, lead->id, err);
    if (cfg->routing.n_rules == 0) {
        /* Routing is off: the lead waits in the hold queue, so that it is
         * routed as soon as a reload brings rules. */
        struct store_hold h = {
            .lead_id = lead->id,
            .reason = "routing_off",
            .score = lead->score.scored ? lead->score.total : 0,
            .since = ctx->now,
        };
        return store_hold_put(ctx->conn, &h, err);
    }
    const struct score_model *model = cfg->scoring;
    size_t n_slots = rule_symtab_count(model->lead_syms);
    struct rule_value *slots = arena_alloc(arena, sizeof(*slots) * (n_slots ? n_slots : 1));
    struct activity_fact *facts;
    size_t n_facts;
    if (!slots || score_activity_facts(acts, n_acts, arena, &facts, &n_facts) ||
        score_fill_lead(model->lead_syms, lead, facts, n_facts, res, ctx->now, arena, slots))
        return bt_fail(err, BT_ETOOBIG, NULL, "the lead is too large to route");
    return route(ctx, cfg, lead, slots, account_owner, actor, arena, err);
}

bool engine__will_route(const struct config *cfg, const struct lead *lead)
{
    return cfg->routing.n_rules > 0 && is_mql(lead);
}

/* ---- held leads ---- */

/* Tries up to `limit` held leads in queue order, after *cursor when it is
 * set, each in its own savepoint (a lead that cannot be routed is logged and
 * left held); *cursor (may be NULL) moves to the last lead listed. */
static bt_err drain(struct engine__ctx *ctx, const struct config *cfg, unsigned limit,
                    struct engine_hold_cursor *cursor, size_t *tried, size_t *assigned,
                    struct arena *arena, struct bt_error *err)
{
    *tried = *assigned = 0;
    if (cfg->routing.n_rules == 0)
        return BT_OK;
    struct store_hold *holds, after;
    if (cursor && cursor->set)
        after = (struct store_hold){
            .score = cursor->score, .since = cursor->since, .lead_id = cursor->lead_id};
    size_t n;
    bt_err e = store_hold_list(ctx->conn, limit, cursor && cursor->set ? &after : NULL, arena,
                               &holds, &n, err);
    if (e)
        return e;
    for (size_t i = 0; i < n; i++) {
        struct arena one = ARENA_INIT;
        struct lead lead;
        struct bt_error lerr = BT_ERROR_INIT;
        if ((e = store_savepoint(ctx->conn, err)))
            return e;
        bt_err rc = store_lead_get(ctx->conn, holds[i].lead_id, &one, &lead, &lerr);
        if (rc == BT_ENOTFOUND)
            rc = store_hold_remove(ctx->conn, holds[i].lead_id, &lerr);
        else if (!rc) {
            ctx->retrying = true;
            rc = engine__rescore(ctx, cfg, &lead, "system", &one, &lerr);
            ctx->retrying = false;
        }
        if (rc) {
            store_savepoint_rollback(ctx->conn);
            log_error("routing: cannot route held lead %lld: %s", (long long)holds[i].lead_id,
                      lerr.message);
        } else if (lead.attr[LEAD_STAGE] && strcmp(lead.attr[LEAD_STAGE], "assigned") == 0) {
            (*assigned)++;
        }
        arena_release(&one);
        if ((e = store_savepoint_release(ctx->conn, err)))
            return e;
        (*tried)++;
    }
    if (cursor && n > 0)
        *cursor = (struct engine_hold_cursor){.set = true,
                                              .score = holds[n - 1].score,
                                              .since = holds[n - 1].since,
                                              .lead_id = holds[n - 1].lead_id};
    return BT_OK;
}

bt_err engine__drain_after_change(struct engine__ctx *ctx, const struct config *cfg,
                                  struct arena *arena, size_t *assigned, struct bt_error *err)
{
    size_t tried, n;
    bt_err e = drain(ctx, cfg, DRAIN_AFTER_CHANGE, NULL, &tried, &n, arena, err);
    if (assigned)
        *assigned = n;
    return e;
}

bt_err engine__apply_drain(struct engine__ctx *ctx, struct engine__drain *cmd, struct arena *arena,
                           struct bt_error *err)
{
    bt_err e =
        drain(ctx, cmd->cfg, cmd->limit, &cmd->cursor, &cmd->tried, &cmd->assigned, arena, err);
    if (e)
        return e;
    return store_rep_next_change(ctx->conn, ctx->now, &cmd->next_change, err);
}

bt_err engine_drain_holds(struct engine *e, const struct config *cfg, unsigned limit,
                          struct engine_hold_cursor *cursor, size_t *tried, size_t *assigned,
                          int64_t *next_change, struct bt_error *err)
{
    struct arena arena = ARENA_INIT;
    struct engine__drain d = {.cfg = cfg, .limit = limit};
    if (cursor)
        d.cursor = *cursor;
    struct engine__command c = {.kind = ENGINE__DRAIN_HOLDS, .arena = &arena, .u.drain = &d};
    bt_err rc = engine__submit(e, &c, err);
    arena_release(&arena);
    if (cursor && !rc)
        *cursor = d.cursor;
    if (tried)
        *tried = d.tried;
    if (assigned)
        *assigned = d.assigned;
    if (next_change)
        *next_change = d.next_change;
    return rc;
}

/* ---- reps ---- */

static bt_err known_rep(const struct config *cfg, const char *rep_id, struct bt_error *err)
{
    if (routing_find_rep(&cfg->routing, rep_id) < 0)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such rep: %s", rep_id);
    return BT_OK;
}

bt_err engine__apply_rep_status(struct engine__ctx *ctx, struct rep_status_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    bt_err e = known_rep(cmd->cfg, cmd->rep_id, err);
    if (e)
        return e;
    if (cmd->until && cmd->until <= ctx->now)
        return bt_fail(err, BT_EINVAL, "until", "until must be in the future");
    struct rep_runtime before;
    if ((e = store_rep_runtime_get(ctx->conn, cmd->rep_id, ctx->now, arena, &before, err)))
        return e;
    json_t *data = json_pack("{s:s, s:s}", "from", rep_status_name(before.status), "to",
                             rep_status_name(cmd->status));
    if (cmd->until)
        json_object_set_new(data, "until", json_integer(cmd->until));
    if (cmd->until)
        engine__wake_holds_at(ctx, cmd->until);
    if ((e = store_rep_status_set(ctx->conn, cmd->rep_id, cmd->status, cmd->reason, cmd->until,
                                  ctx->now, err)) ||
        (e = store_rep_event_append(ctx->conn, cmd->rep_id, "rep.status_changed", cmd->actor,
                                    cmd->reason, engine__dump(arena, data), ctx->now, err)))
        return e;
    if (cmd->status != REP_AVAILABLE)
        return BT_OK;
    return engine__drain_after_change(ctx, cmd->cfg, arena, &cmd->assigned, err);
}

bt_err engine__apply_time_off(struct engine__ctx *ctx, struct time_off_command *cmd,
                              struct arena *arena, struct bt_error *err)
{
    bt_err e = known_rep(cmd->cfg, cmd->rep_id, err);
    if (e)
        return e;
    json_t *data;
    const char *type;
    if (cmd->remove) {
        if ((e = store_time_off_delete(ctx->conn, cmd->rep_id, cmd->id, err)))
            return e;
        type = "rep.time_off_removed";
        data = json_pack("{s:I}", "id", (json_int_t)cmd->id);
    } else {
        if (cmd->to <= cmd->from)
            return bt_fail(err, BT_EINVAL, "to", "time off must end after it starts");
        struct store_time_off t = {
            .rep_id = cmd->rep_id,
            .from = cmd->from,
            .to = cmd->to,
            .reason = cmd->reason,
            .actor = cmd->actor,
            .created_at = ctx->now,
        };
        if ((e = store_time_off_add(ctx->conn, &t, err)))
            return e;
        engine__wake_holds_at(ctx, t.to);
        cmd->id = t.id;
        type = "rep.time_off_added";
        data = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)t.id, "from", (json_int_t)t.from,
                         "to", (json_int_t)t.to);
    }
    if ((e = store_rep_event_append(ctx->conn, cmd->rep_id, type, cmd->actor, cmd->reason,
                                    engine__dump(arena, data), ctx->now, err)))
        return e;
    return engine__drain_after_change(ctx, cmd->cfg, arena, &cmd->assigned, err);
}

bt_err engine_set_rep_status(struct engine *e, struct rep_status_command *cmd, struct arena *arena,
                             struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__REP_STATUS, .arena = arena, .u.rep_status = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_time_off(struct engine *e, struct time_off_command *cmd, struct arena *arena,
                       struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__TIME_OFF, .arena = arena, .u.time_off = cmd};
    return engine__submit(e, &c, err);
}
