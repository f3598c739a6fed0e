/*
 * engine_score.c - the commands that change what a lead has done or become:
 * recording activities, recording CRM outcomes, and rescoring leads whose
 * decay is due. Each touched lead goes through the lead path
 * (engine_lead.c: decide, write, route); this file finds the leads and
 * records the facts.
 */
#include "config/config.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"
#include "util/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESCORE_RETRY_MS (60 * 60 * 1000)

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
        (rc = engine__event(ctx, arena, out->id, "lead.created", cmd->actor, NULL,
                            json_pack("{s:s}", "via", "activity"), err)))
        return rc;
    it->created_lead = true;
    return BT_OK;
}

bt_err engine__apply_activities(struct engine__ctx *ctx, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    cmd->leads = arena_alloc(arena, sizeof(*cmd->leads) * (cmd->n_items ? cmd->n_items : 1));
    cmd->n_leads = 0;
    cmd->n_skipped = 0;
    if (!cmd->leads)
        return bt_fail(err, BT_ETOOBIG, NULL, "request too large");
    for (size_t i = 0; i < cmd->n_items; i++) {
        struct activity_item *it = &cmd->items[i];
        it->skipped = false;
        size_t k;
        for (k = 0; k < cmd->n_leads; k++)
            if ((it->lead_id && cmd->leads[k].id == it->lead_id) ||
                (!it->lead_id && it->email && cmd->leads[k].attr[LEAD_EMAIL] &&
                 !strcmp(cmd->leads[k].attr[LEAD_EMAIL], it->email)))
                break;
        bt_err rc;
        if (k == cmd->n_leads) {
            rc = item_lead(ctx, cmd, i, arena, &cmd->leads[k], err);
            if (rc == BT_ENOTFOUND && !it->lead_id && cmd->skip_missing) {
                it->skipped = true;
                cmd->n_skipped++;
                continue;
            }
            if (rc)
                return rc;
            cmd->n_leads++;
        }
        it->result_lead_id = cmd->leads[k].id;
        it->act.lead_id = cmd->leads[k].id;
        if ((rc = store_activity_insert(ctx->conn, &it->act, ctx->now, err)))
            return rc;
    }
    struct engine__lead_opts o = {.actor = cmd->actor, .route = DECIDE_ROUTE_IF_MQL};
    for (size_t k = 0; k < cmd->n_leads; k++) {
        bt_err rc = engine__lead_run(ctx, cmd->cfg, &cmd->leads[k], &o, arena, err);
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
    const char *owner = lead->attr[LEAD_OWNER]; /* whose open assignment may close */
    cmd->from = decide_stage_of(lead);
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
    if ((rc = store_lead_update(ctx->conn, lead, err)) ||
        (rc = store_outcome_insert(ctx->conn, &o, err)))
        return rc;
    json_t *data = engine__stage_data(cmd->from, cmd->to, "outcome");
    if (cmd->has_value)
        json_object_set_new(data, "value", json_real(cmd->value));
    if (cmd->currency)
        json_object_set_new(data, "currency", json_string(cmd->currency));
    if ((rc = engine__event(ctx, arena, lead->id, "lead.stage_changed", o.actor, cmd->reason, data,
                            err)))
        return rc;
    /* a held lead that is closed leaves the queue */
    if (cmd->from == STAGE_MQL && (rc = store_hold_remove(ctx->conn, lead->id, err)))
        return rc;
    /* the assignment: contacted (the CRM's progress), closed with the lead */
    if ((rc = engine__assignment_outcome(ctx, lead->id, cmd->to, o.actor, arena, err)))
        return rc;
    /* an open assignment closed: its rep may have room for a held lead */
    if (cmd->cfg && (cmd->from == STAGE_ASSIGNED || cmd->from == STAGE_ACCEPTED))
        return engine__drain_after_change(ctx, cmd->cfg, owner, arena, NULL, err);
    return BT_OK;
}

/*
 * Each due lead is rescored in its own savepoint and arena: a lead that
 * cannot be scored (too much data for the arena, say) is logged and put off
 * for an hour instead of failing the sweep, which would otherwise meet the
 * same lead first on every run and rescore nobody again. The sweep is
 * claimed for its transaction (engine__claim_sweep): with several nodes,
 * one sweeps while the others wait a moment.
 */
bt_err engine__apply_rescore_due(struct engine__ctx *ctx, struct engine__rescore_due *cmd,
                                 struct arena *arena, struct bt_error *err)
{
    bool got;
    bt_err rc = engine__claim_sweep(ctx, "decay", &got, err);
    if (rc)
        return rc;
    if (!got) {
        cmd->next_due = ctx->now + ENGINE_SWEEP_RETRY_MS;
        return BT_OK;
    }
    int64_t *ids;
    size_t n;
    if ((rc = store_lead_rescore_due(ctx->conn, ctx->now, cmd->limit, arena, &ids, &n, err)))
        return rc;
    struct engine__lead_opts o = {.actor = "system", .route = DECIDE_ROUTE_IF_MQL};
    for (size_t i = 0; i < n; i++) {
        struct arena one = ARENA_INIT;
        struct lead lead;
        struct bt_error lerr = BT_ERROR_INIT;
        if ((rc = store_savepoint(ctx->conn, err)))
            return rc;
        rc = store_lead_get(ctx->conn, ids[i], &one, &lead, &lerr);
        if (!rc)
            rc = engine__lead_run(ctx, cmd->cfg, &lead, &o, &one, &lerr);
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
    if ((rc = store_lead_next_rescore(ctx->conn, &cmd->next_due, err)))
        return rc;
    return engine__release_sweep(ctx, "decay", err);
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
                          size_t *rescored, int64_t *next_due, struct bt_error *err)
{
    struct arena arena = ARENA_INIT;
    struct engine__rescore_due due = {.cfg = cfg, .limit = limit};
    struct engine__command c = {
        .kind = ENGINE__RESCORE_DUE, .arena = &arena, .u.rescore_due = &due};
    bt_err rc = engine__submit(e, &c, err);
    arena_release(&arena);
    *rescored = due.rescored;
    if (next_due)
        *next_due = due.next_due;
    return rc;
}
