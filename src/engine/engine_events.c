/*
 * engine_events.c - every event the engine records, with its data, in one
 * place.
 *
 * Events are the audit trail (GET /v1/leads/{id}/events) and, with delivery,
 * what webhooks and messages are made of; so their shapes live here, built
 * as jansson objects from the command's own values and serialised once, when
 * they are appended. Nothing upstream hands the engine event data as text.
 *
 * Lead events:
 *   lead.created         {"via", "key_name", "warnings"}  (intake), {"via": "activity"}
 *   lead.merged          the same plus "changes": [{"field", "from", "to"}]
 *   lead.account_matched {"from", "to", "match"}
 *   lead.stage_changed   {"from", "to", "via": "qualification" | "routing" | "outcome" |
 *                         VIA, "rule"?, "score"?, "grade"?, "value"?, "currency"?}
 *   lead.assigned        {"rep", "pool", "rule", "decision", "assignment", "attempt",
 *                         "policy", "accept_by", "previous_owner"?,
 *                         "offer": "broadcast" and "offered_to": [REP, ...] (a broadcast pool)}
 *   lead.held            {"reason", "rule", "pool", "decision"}
 *   lead.excluded        {"rep"}
 * Rep events: rep.status_changed {"from", "to", "until"?},
 *   rep.time_off_added {"id", "from", "to"}, rep.time_off_removed {"id"}.
 */
#include "config/config.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *engine__dump(struct arena *a, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    const char *copy = arena_strdup(a, s ? s : "null");
    free(s);
    return copy;
}

bt_err engine__event(struct engine__ctx *ctx, struct arena *arena, int64_t lead_id,
                     const char *type, const char *actor, const char *reason, json_t *data,
                     struct bt_error *err)
{
    /* The data outlives its dump when a channel may want it. */
    bool deliver = data && ctx->cfg && ctx->cfg->delivery.n_channels;
    if (deliver)
        json_incref(data);
    struct lead_event ev = {
        .lead_id = lead_id,
        .type = type,
        .actor = actor ? actor : "system",
        .reason = reason,
        .data_json = data ? engine__dump(arena, data) : "{}",
        .at = ctx->now,
    };
    bt_err e = store_event_append(ctx->conn, &ev, err);
    if (!e && deliver)
        e = engine__outbox_event(ctx, arena, &ev, data, err);
    if (deliver)
        json_decref(data);
    return e;
}

bt_err engine__rep_event(struct engine__ctx *ctx, struct arena *arena, const char *rep_id,
                         const char *type, const char *actor, const char *reason, json_t *data,
                         struct bt_error *err)
{
    return store_rep_event_append(ctx->conn, rep_id, type, actor, reason, engine__dump(arena, data),
                                  ctx->now, err);
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

json_t *engine__stage_data(enum lead_stage from, enum lead_stage to, const char *via)
{
    return json_pack("{s:s, s:s, s:s}", "from", stage_name(from), "to", stage_name(to), "via", via);
}

bt_err engine__event_qualified(struct engine__ctx *ctx, struct arena *arena,
                               const struct lead *lead, const struct decide_result *r,
                               const char *actor, struct bt_error *err)
{
    json_t *o = engine__stage_data(r->from, r->stage, "qualification");
    if (r->qualification.rule)
        json_object_set_new(o, "rule", json_string(r->qualification.rule));
    if (lead->score.scored) {
        json_object_set_new(o, "score", json_real(round2(lead->score.total)));
        json_object_set_new(o, "grade", json_string(lead->score.grade));
    }
    return engine__event(ctx, arena, lead->id, "lead.stage_changed", actor, r->qualification.reason,
                         o, err);
}

json_t *engine__intake_data(const struct ingest_command *cmd, const struct lead_merge_result *merge)
{
    json_t *data = json_object();
    if (cmd && cmd->via) {
        json_object_set_new(data, "via", json_string(cmd->via));
        json_object_set_new(data, "key_name", json_string(cmd->key_name ? cmd->key_name : ""));
        json_t *warnings = json_array();
        for (size_t i = 0; cmd->warnings && i < cmd->warnings->count; i++)
            json_array_append_new(warnings,
                                  json_pack("{s:s, s:s}", "field", cmd->warnings->warnings[i].field,
                                            "message", cmd->warnings->warnings[i].message));
        json_object_set_new(data, "warnings", warnings);
    }
    if (merge) {
        json_t *changes = json_array();
        for (size_t i = 0; i < merge->n_changes; i++) {
            const struct lead_change *ch = &merge->changes[i];
            json_array_append_new(changes, json_pack("{s:s, s:s?, s:s?}", "field", ch->field,
                                                     "from", ch->before, "to", ch->after));
        }
        json_object_set_new(data, "changes", changes);
    }
    return data;
}

bt_err engine__event_account(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                             const struct decide_result *r, const char *actor, struct bt_error *err)
{
    json_t *data = json_object();
    json_object_set_new(data, "from",
                        r->previous_account ? json_string(r->previous_account) : json_null());
    json_object_set_new(data, "to", lead->account_id ? json_string(lead->account_id) : json_null());
    if (r->account_match)
        json_object_set_new(data, "match", json_incref(r->account_match));
    return engine__event(ctx, arena, lead->id, "lead.account_matched", actor, NULL, data, err);
}

bt_err engine__event_assigned(struct engine__ctx *ctx, struct arena *arena,
                              const struct config *cfg, const struct lead *lead,
                              const struct decide_result *r, int64_t decision_id,
                              const struct store_assignment *a, enum lead_stage from,
                              const char *previous_owner, const char *actor, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const struct route_decision *d = &r->route;
    const char *pool = d->pool >= 0 ? rc->pools[d->pool].id : NULL;
    const char *rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL;
    json_t *stage = engine__stage_data(from, STAGE_ASSIGNED, "routing");
    if (rule)
        json_object_set_new(stage, "rule", json_string(rule));
    json_t *data = json_object();
    json_object_set_new(data, "rep", json_string(d->rep_id));
    json_object_set_new(data, "pool", pool ? json_string(pool) : json_null());
    json_object_set_new(data, "rule", rule ? json_string(rule) : json_null());
    json_object_set_new(data, "decision", json_integer(decision_id));
    engine__assignment_fields(data, a);
    if (a->offer_group) {
        struct store_assignment *offers;
        size_t n;
        bt_err e = store_assignment_offers(ctx->conn, a->offer_group, arena, &offers, &n, err);
        if (e) {
            json_decref(data);
            json_decref(stage);
            return e;
        }
        json_t *to = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(to, json_string(offers[i].rep_id));
        json_object_set_new(data, "offer", json_string("broadcast"));
        json_object_set_new(data, "offered_to", to);
    }
    if (previous_owner && strcmp(previous_owner, d->rep_id) != 0)
        json_object_set_new(data, "previous_owner", json_string(previous_owner));
    bt_err e =
        engine__event(ctx, arena, lead->id, "lead.stage_changed", actor, d->summary, stage, err);
    if (e) {
        json_decref(data);
        return e;
    }
    /* The follow-up first, so that the messages of lead.assigned can
     * point at it. */
    if ((e = engine__task_for(ctx, arena, lead, a, err))) {
        json_decref(data);
        return e;
    }
    return engine__event(ctx, arena, lead->id, "lead.assigned", actor, d->summary, data, err);
}

bt_err engine__event_held(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                          const struct decide_result *r, int64_t decision_id, const char *actor,
                          struct bt_error *err)
{
    json_t *data = json_object();
    json_object_set_new(data, "reason", json_string(r->hold_reason));
    json_object_set_new(data, "rule", r->hold_rule ? json_string(r->hold_rule) : json_null());
    json_object_set_new(data, "pool", r->hold_pool ? json_string(r->hold_pool) : json_null());
    json_object_set_new(data, "decision", json_integer(decision_id));
    return engine__event(ctx, arena, lead->id, "lead.held", actor, r->route.summary, data, err);
}

void engine__assignment_fields(json_t *data, const struct store_assignment *a)
{
    json_object_set_new(data, "assignment", json_integer(a->id));
    json_object_set_new(data, "attempt", json_integer(a->attempt));
    json_object_set_new(data, "policy", a->policy ? json_string(a->policy) : json_null());
    char at[RFC3339_MAX];
    if (a->accept_by)
        time_format_rfc3339(a->accept_by, at);
    json_object_set_new(data, "accept_by", a->accept_by ? json_string(at) : json_null());
}
