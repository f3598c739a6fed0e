/*
 * engine_handoff.c - assignments after the decision: the SLA clock each one
 * gets, what reps and managers do with them, and what the timers do when a
 * deadline passes. On the writer, like every change (engine.h).
 *
 * An assignment carries its policy's terms as JSON (core/sla.h,
 * sla_policy_terms), so that a running clock keeps the policy it started
 * with whatever a reload changes; its next deadline and what is due then
 * (next_due, next_kind) are stored with it, and the timers' SLA source
 * asks the store for the earliest. Processing a deadline rewrites next_due
 * in the same transaction as its effects: a crash before the commit leaves
 * the deadline due (it fires after the restart), one after it leaves it
 * done, so every deadline fires exactly once. With several nodes the
 * sweep is claimed (engine__claim_sweep) like the decay and hold sweeps,
 * and the rows it changes are serialised by the database.
 *
 * Events (the lead's audit trail; the delivery issue sends them):
 *   assignment.accepted   {"assignment", "attempt", "rep", "policy", "accept_by",
 *                          "seconds_to_accept", "contact_by"}
 *   assignment.rejected   {..., "reason", "action", "note"}
 *   assignment.contacted  {..., "seconds_to_contact", "speed_to_lead": {"system_seconds",
 *                          "accept_seconds", "contact_seconds"}}
 *   assignment.reminded   {..., "reminder", "of", "fraction", "clock", "seconds_left"}
 *   assignment.breached   {..., "accept_by", "clock", "on_breach"} (the clock ran out)
 *   assignment.escalated  {..., "manager", "deadline": "accept" | "contact"}
 *   assignment.expired    {..., "accept_by", "exclude", "next": REP | "hold" | ...}
 *   assignment.reassigned {..., "to", "by"}
 *   assignment.withdrawn  {...}
 *   assignment.contact_breached {..., "contact_by"}
 *   lead.recycled         {"rep", "reason", "note"} (back to marketing)
 */
#include "config/config.h"
#include "engine/engine_internal.h"
#include "store/store_routing.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define SLA_SWEEP_NAME "sla"
#define SLA_RETRY_MS   60000 /* a deadline whose processing failed is tried again */

static const char *const action_names[] = {"accept", "reject", "contacted", "reassign", "withdraw"};

const char *assignment_action_name(enum assignment_action a)
{
    return (size_t)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

static const char *rfc3339(struct arena *a, int64_t ms)
{
    char buf[RFC3339_MAX];
    time_format_rfc3339(ms, buf);
    return arena_strdup(a, buf);
}

/* The rep's schedule for the clock; a rep no longer in the configuration
 * keeps a wall clock (there are no hours to count). */
static enum sla_clock schedule_for(const struct config *cfg, const char *rep_id,
                                   enum sla_clock clock, struct sla_schedule *s)
{
    long i = routing_find_rep(&cfg->routing, rep_id);
    memset(s, 0, sizeof(*s));
    if (i < 0)
        return SLA_CLOCK_WALL;
    sla_schedule_of(&cfg->routing.reps[i], s);
    return clock;
}

/* The terms of an assignment; false when it has none (no clock). */
static bool terms_of(const struct config *cfg, const struct store_assignment *a, json_t **holder,
                     struct sla_policy *p)
{
    *holder = NULL;
    if (!a->terms)
        return false;
    json_error_t jerr;
    *holder = json_loads(a->terms, 0, &jerr);
    if (!sla_policy_from_terms(*holder, &cfg->routing, p)) {
        log_error("handoff: assignment %lld has unreadable SLA terms; its clock stops",
                  (long long)a->id);
        json_decref(*holder);
        *holder = NULL;
        return false;
    }
    return true;
}

/* Sets next_due and next_kind from the assignment's state and terms. */
static void schedule(const struct config *cfg, struct store_assignment *a,
                     const struct sla_policy *p)
{
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    if (!p || a->closed_at)
        return;
    struct sla_schedule s;
    enum sla_clock clock = schedule_for(cfg, a->rep_id, p->clock, &s);
    struct sla_policy q = *p;
    q.clock = clock;
    bool pending = !strcmp(a->status, ASSIGNMENT_PENDING) || !strcmp(a->status, ASSIGNMENT_OFFERED);
    if (pending && !a->breached_at) {
        if ((size_t)a->reminders_sent < q.n_reminders) {
            int64_t at = sla_accept_point(&q, &s, a->assigned_at, q.reminders[a->reminders_sent]);
            if (at && (!a->accept_by || at < a->accept_by)) {
                a->next_due = at;
                a->next_kind = ASSIGNMENT_DUE_REMIND;
                return;
            }
        }
        if (a->accept_by) {
            a->next_due = a->accept_by;
            a->next_kind = ASSIGNMENT_DUE_ACCEPT;
        }
    } else if (!strcmp(a->status, ASSIGNMENT_ACCEPTED) && a->contact_by && !a->contacted_at) {
        a->next_due = a->contact_by;
        a->next_kind = ASSIGNMENT_DUE_CONTACT;
    }
}

/* Stores the assignment and tells the timers of its next deadline. */
static bt_err save(struct engine__ctx *ctx, const struct store_assignment *a, struct bt_error *err)
{
    bt_err e = store_assignment_update(ctx->conn, a, err);
    if (!e && a->next_due)
        engine__deadline(ctx, ENGINE_DEADLINE_SLA, a->next_due);
    return e;
}

bt_err engine__assignment_open(struct engine__ctx *ctx, const struct config *cfg,
                               const struct lead *lead, const struct decide_result *r,
                               int64_t decision_id, const char *o_terms, struct arena *arena,
                               struct store_assignment *out, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const struct route_decision *d = &r->route;
    int64_t attempts;
    bt_err e = store_assignment_attempts(ctx->conn, lead->id, &attempts, err);
    if (e)
        return e;
    *out = (struct store_assignment){
        .lead_id = lead->id,
        .rep_id = d->rep_id,
        .pool_id = d->pool >= 0 ? rc->pools[d->pool].id : NULL,
        .rule = d->rule >= 0 ? rc->rules[d->rule].name : NULL,
        .decision_id = decision_id,
        .attempt = attempts + 1,
        .status = ASSIGNMENT_PENDING,
        .assigned_at = ctx->now,
    };
    json_t *terms = NULL;
    if (o_terms) {
        json_error_t jerr;
        terms = json_loads(o_terms, 0, &jerr);
    } else if (r->sla_policy >= 0) {
        terms = sla_policy_terms(&cfg->sla.policies[r->sla_policy], rc);
    }
    struct sla_policy p;
    bool has = terms && sla_policy_from_terms(terms, rc, &p);
    if (has) {
        out->policy = arena_strdup(arena, p.name);
        out->clock = sla_clock_name(p.clock);
        out->terms = engine__dump(arena, json_incref(terms));
        struct sla_schedule s;
        p.clock = schedule_for(cfg, out->rep_id, p.clock, &s);
        out->accept_by =
            o_terms || !r->accept_by ? sla_accept_point(&p, &s, ctx->now, 1.0) : r->accept_by;
        schedule(cfg, out, &p);
    }
    json_decref(terms);
    const struct routing_pool *pool = d->pool >= 0 ? &rc->pools[d->pool] : NULL;
    bool broadcast = pool && pool->offer == POOL_OFFER_BROADCAST && pool->offer_to > 1;
    if (broadcast)
        out->status = ASSIGNMENT_OFFERED;
    if ((e = store_assignment_insert(ctx->conn, out, err)))
        return e;
    if (out->next_due)
        engine__deadline(ctx, ENGINE_DEADLINE_SLA, out->next_due);
    if (!broadcast)
        return BT_OK;
    /* The group is named by its first offer, which also carries the
     * group's clock; the other offers go to the next eligible members
     * after the chosen one, in the pool's order. */
    out->offer_group = out->id;
    if ((e = store_assignment_update(ctx->conn, out, err)))
        return e;
    size_t start = 0;
    for (size_t i = 0; i < d->n_candidates; i++)
        if ((long)d->candidates[i].rep == d->rep)
            start = i;
    unsigned offered = 1;
    for (size_t k = 1; k < d->n_candidates && offered < pool->offer_to; k++) {
        const struct route_candidate *c = &d->candidates[(start + k) % d->n_candidates];
        if (c->eligibility != ELIGIBLE || (long)c->rep == d->rep)
            continue;
        struct store_assignment o = *out;
        o.id = 0;
        o.rep_id = rc->reps[c->rep].id;
        o.next_due = 0;
        o.next_kind = ASSIGNMENT_DUE_NONE;
        if (o.accept_by) {
            /* each on the clock of its own rep, for what it shows */
            struct sla_policy p2;
            json_t *t2 = NULL;
            if (terms_of(cfg, &o, &t2, &p2)) {
                struct sla_schedule s2;
                p2.clock = schedule_for(cfg, o.rep_id, p2.clock, &s2);
                o.accept_by = sla_accept_point(&p2, &s2, ctx->now, 1.0);
            }
            json_decref(t2);
        }
        if ((e = store_assignment_insert(ctx->conn, &o, err)))
            return e;
        offered++;
    }
    return BT_OK;
}

/* Closes the open offers of a broadcast group but `except`, as `status`,
 * saying where the lead went. */
static bt_err close_offers(struct engine__ctx *ctx, int64_t group, int64_t except,
                           const char *status, const char *actor, const char *reason,
                           const char *successor, struct arena *arena, json_t *closed,
                           struct bt_error *err)
{
    struct store_assignment *rows;
    size_t n;
    bt_err e = store_assignment_offers(ctx->conn, group, arena, &rows, &n, err);
    for (size_t i = 0; !e && i < n; i++) {
        if (rows[i].id == except)
            continue;
        rows[i].status = status;
        rows[i].closed_at = ctx->now;
        rows[i].closed_by = actor ? actor : "system";
        rows[i].close_reason = reason;
        rows[i].successor = successor;
        rows[i].next_due = 0;
        rows[i].next_kind = ASSIGNMENT_DUE_NONE;
        if (closed)
            json_array_append_new(closed, json_string(rows[i].rep_id));
        e = store_assignment_update(ctx->conn, &rows[i], err);
    }
    return e;
}

bt_err engine__assignment_close_live(struct engine__ctx *ctx, int64_t lead_id, const char *status,
                                     const char *actor, const char *reason, struct arena *arena,
                                     struct bt_error *err)
{
    bool found;
    struct store_assignment a;
    bt_err e = store_assignment_live(ctx->conn, lead_id, arena, &found, &a, err);
    if (e)
        return e;
    if (!found) {
        /* a broadcast not taken yet: its open offers */
        struct store_assignment *rows;
        size_t n;
        if ((e = store_assignment_list_lead(ctx->conn, lead_id, 0, STORE_LIST_MAX, arena, &rows, &n,
                                            err)))
            return e;
        for (size_t i = n; i-- > 0;)
            if (rows[i].offer_group && !rows[i].closed_at)
                return close_offers(ctx, rows[i].offer_group, 0,
                                    status ? status : ASSIGNMENT_WITHDRAWN, actor, reason, NULL,
                                    arena, NULL, err);
        return BT_OK;
    }
    if (status)
        a.status = status;
    a.closed_at = ctx->now;
    a.closed_by = actor ? actor : "system";
    a.close_reason = reason;
    a.next_due = 0;
    a.next_kind = ASSIGNMENT_DUE_NONE;
    return store_assignment_update(ctx->conn, &a, err);
}

/* Where a lead went after its assignment closed: the rep of its new live
 * assignment, "hold" when it waits in the queue, else its stage. */
static bt_err successor_of(struct engine__ctx *ctx, const struct lead *lead, struct arena *arena,
                           const char **out, struct bt_error *err)
{
    bool found;
    struct store_assignment next;
    bt_err e = store_assignment_live(ctx->conn, lead->id, arena, &found, &next, err);
    if (e)
        return e;
    if (found) {
        *out = next.rep_id;
        return BT_OK;
    }
    bool held;
    if ((e = store_hold_get(ctx->conn, lead->id, arena, &held, NULL, err)))
        return e;
    *out = held ? "hold" : stage_name(decide_stage_of(lead));
    return BT_OK;
}

/* The common data of assignment.* events. */
static json_t *event_data(const struct store_assignment *a)
{
    json_t *d = json_pack("{s:s}", "rep", a->rep_id);
    engine__assignment_fields(d, a); /* assignment, attempt, policy, accept_by */
    return d;
}

/* "expired at 2026-12-01T10:05:00.000Z and was reassigned to luca.romano" */
static const char *what_happened(struct arena *arena, const struct store_assignment *a)
{
    const char *next = "";
    if (a->successor && !strcmp(a->successor, "hold"))
        next = "; the lead waits in the hold queue";
    else if (a->successor && !strcmp(a->successor, "offered"))
        next = "; the lead is still offered to the others";
    else if (a->successor &&
             (!strcmp(a->successor, "recycled") || !strcmp(a->successor, "disqualified") ||
              !strcmp(a->successor, "mql") || !strcmp(a->successor, "new")))
        next = arena_printf(arena, "; the lead is %s", a->successor);
    else if (a->successor)
        next = arena_printf(arena, " and the lead was reassigned to %s", a->successor);
    if (!strcmp(a->status, ASSIGNMENT_ACCEPTED) || !strcmp(a->status, ASSIGNMENT_CONTACTED)) {
        if (a->closed_at)
            return arena_printf(arena, "was accepted at %s and is closed (%s)",
                                rfc3339(arena, a->accepted_at),
                                a->close_reason ? a->close_reason : "closed");
        if (a->contacted_at)
            return arena_printf(arena, "was accepted at %s and the lead contacted at %s",
                                rfc3339(arena, a->accepted_at), rfc3339(arena, a->contacted_at));
        return arena_printf(arena, "was accepted at %s", rfc3339(arena, a->accepted_at));
    }
    if (!a->closed_at)
        return arena_printf(arena, "is %s", a->status);
    return arena_printf(
        arena, "%s at %s%s%s%s",
        !strcmp(a->status, ASSIGNMENT_REASSIGNED) ? "was taken back"
                                                  : arena_printf(arena, "was %s", a->status),
        rfc3339(arena, a->closed_at),
        a->close_reason ? arena_printf(arena, " (%s)", a->close_reason) : "", next, "");
}

static bool is_status(const struct store_assignment *a, const char *s)
{
    return !strcmp(a->status, s);
}

static bool is_open(const struct store_assignment *a)
{
    return !a->closed_at &&
           (is_status(a, ASSIGNMENT_PENDING) || is_status(a, ASSIGNMENT_OFFERED) ||
            is_status(a, ASSIGNMENT_ACCEPTED) || is_status(a, ASSIGNMENT_CONTACTED));
}

/* Takes the lead from its rep into `to` (recycled or disqualified): no
 * owner, out of the hold queue, lead.stage_changed and, for recycled,
 * lead.recycled for marketing. */
static bt_err send_back(struct engine__ctx *ctx, struct lead *lead, enum lead_stage to,
                        const char *via, const char *actor, const char *reason, const char *note,
                        struct arena *arena, struct bt_error *err)
{
    enum lead_stage from = decide_stage_of(lead);
    const char *rep = lead->attr[LEAD_OWNER];
    json_t *data = engine__stage_data(from, to, via);
    if (rep)
        json_object_set_new(data, "rep", json_string(rep));
    lead->attr[LEAD_STAGE] = stage_name(to);
    lead->attr[LEAD_OWNER] = NULL;
    lead->updated_at = ctx->now;
    bt_err e = store_lead_update(ctx->conn, lead, err);
    if (e) {
        json_decref(data);
        return e;
    }
    if ((e = engine__event(ctx, arena, lead->id, "lead.stage_changed", actor, reason, data, err)) ||
        (e = store_hold_remove(ctx->conn, lead->id, err)))
        return e;
    if (to != STAGE_RECYCLED)
        return BT_OK;
    json_t *rec = json_pack("{s:s?, s:s?, s:s?, s:s}", "rep", rep, "reason", reason, "note", note,
                            "via", via);
    return engine__event(ctx, arena, lead->id, "lead.recycled", actor, reason, rec, err);
}

static bt_err load(struct engine__ctx *ctx, int64_t id, struct arena *arena,
                   struct store_assignment *a, struct lead *lead, struct bt_error *err)
{
    bt_err e = store_assignment_get(ctx->conn, id, arena, a, err);
    if (e)
        return e;
    if ((e = store_lead_get(ctx->conn, a->lead_id, arena, lead, err)) == BT_ENOTFOUND)
        BT_BUG("assignment %lld of a lead that is gone", (long long)id);
    return e;
}

static bt_err refuse_moved_on(struct arena *arena, const struct store_assignment *a,
                              enum assignment_action action, struct bt_error *err)
{
    return bt_fail(err, BT_ECONFLICT, "status", "assignment %lld cannot be %s: it %s",
                   (long long)a->id,
                   action == ASSIGNMENT_ACT_ACCEPT      ? "accepted"
                   : action == ASSIGNMENT_ACT_REJECT    ? "rejected"
                   : action == ASSIGNMENT_ACT_CONTACTED ? "marked contacted"
                   : action == ASSIGNMENT_ACT_REASSIGN  ? "reassigned"
                                                        : "withdrawn",
                   what_happened(arena, a));
}

/* A broadcast's rep counts the lead in its day and week when it takes it
 * (routing counted nobody when it offered). */
static bt_err count_for(struct engine__ctx *ctx, const struct config *cfg, const char *rep_id,
                        struct arena *arena, struct bt_error *err)
{
    long i = routing_find_rep(&cfg->routing, rep_id);
    if (i < 0)
        return BT_OK;
    const struct routing_rep *rep = &cfg->routing.reps[i];
    struct rep_runtime rt;
    bt_err e = store_rep_runtime_get(ctx->conn, rep_id, ctx->now, arena, &rt, err);
    if (e)
        return e;
    int64_t day, week;
    routing_rep_periods(rep, ctx->now, &day, &week);
    return store_rep_counts_set(ctx->conn, rep_id, day, routing_day_count(rep, &rt, ctx->now) + 1,
                                week, routing_week_count(rep, &rt, ctx->now) + 1, ctx->now, err);
}

static bt_err accept(struct engine__ctx *ctx, struct assignment_command *cmd, struct arena *arena,
                     struct bt_error *err)
{
    struct store_assignment *a = &cmd->result;
    struct lead *lead = &cmd->lead;
    bool offer = is_status(a, ASSIGNMENT_OFFERED);
    if ((!is_status(a, ASSIGNMENT_PENDING) && !offer) || a->closed_at)
        return refuse_moved_on(arena, a, cmd->action, err);
    a->status = ASSIGNMENT_ACCEPTED;
    a->accepted_at = ctx->now;
    json_t *others = NULL;
    if (offer) {
        /* The first to accept a broadcast owns the lead: the other offers
         * are withdrawn in this transaction (the writer runs one accept at
         * a time, so a second accept finds its offer withdrawn). */
        others = json_array();
        bt_err e = close_offers(ctx, a->offer_group, a->id, ASSIGNMENT_WITHDRAWN, "system",
                                arena_printf(arena, "taken by %s", a->rep_id), a->rep_id, arena,
                                others, err);
        if (!e)
            e = count_for(ctx, cmd->cfg, a->rep_id, arena, err);
        if (e) {
            json_decref(others);
            return e;
        }
        lead->attr[LEAD_OWNER] = a->rep_id;
    }
    json_t *holder;
    struct sla_policy p;
    bool has = terms_of(cmd->cfg, a, &holder, &p);
    if (has && p.contact_within_ms > 0) {
        struct sla_schedule s;
        enum sla_clock clock = schedule_for(cmd->cfg, a->rep_id, p.clock, &s);
        a->contact_by = sla_deadline(clock, &s, ctx->now, p.contact_within_ms);
    }
    schedule(cmd->cfg, a, has ? &p : NULL);
    json_decref(holder);
    enum lead_stage from = decide_stage_of(lead);
    lead->attr[LEAD_STAGE] = stage_name(STAGE_ACCEPTED);
    lead->updated_at = ctx->now;
    json_t *data = event_data(a);
    json_object_set_new(data, "seconds_to_accept",
                        json_integer((ctx->now - a->assigned_at) / 1000));
    json_object_set_new(data, "contact_by",
                        a->contact_by ? json_string(rfc3339(arena, a->contact_by)) : json_null());
    if (others)
        json_object_set_new(data, "withdrawn_offers", others);
    bt_err e;
    if ((e = save(ctx, a, err)) || (e = store_lead_update(ctx->conn, lead, err))) {
        json_decref(data);
        return e;
    }
    if ((e = engine__event(ctx, arena, lead->id, "lead.stage_changed", cmd->actor, NULL,
                           engine__stage_data(from, STAGE_ACCEPTED, "accept"), err)))
        return e;
    return engine__event(ctx, arena, lead->id, "assignment.accepted", cmd->actor, NULL, data, err);
}

static bt_err contacted(struct engine__ctx *ctx, struct assignment_command *cmd,
                        struct arena *arena, struct bt_error *err)
{
    struct store_assignment *a = &cmd->result;
    if (!is_status(a, ASSIGNMENT_ACCEPTED) || a->closed_at) {
        if (is_status(a, ASSIGNMENT_PENDING) && !a->closed_at)
            return bt_fail(err, BT_ECONFLICT, "status",
                           "assignment %lld is pending: accept it before recording a contact",
                           (long long)a->id);
        return refuse_moved_on(arena, a, cmd->action, err);
    }
    a->status = ASSIGNMENT_CONTACTED;
    a->contacted_at = ctx->now;
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    json_t *data = event_data(a);
    json_object_set_new(data, "seconds_to_contact",
                        json_integer((ctx->now - a->accepted_at) / 1000));
    json_object_set_new(
        data, "speed_to_lead",
        json_pack("{s:I, s:I, s:I}", "system_seconds",
                  (json_int_t)((a->assigned_at - cmd->lead.created_at) / 1000), "accept_seconds",
                  (json_int_t)((a->accepted_at - a->assigned_at) / 1000), "contact_seconds",
                  (json_int_t)((a->contacted_at - a->accepted_at) / 1000)));
    bt_err e = save(ctx, a, err);
    if (e) {
        json_decref(data);
        return e;
    }
    return engine__event(ctx, arena, a->lead_id, "assignment.contacted", cmd->actor, NULL, data,
                         err);
}

static bt_err reject(struct engine__ctx *ctx, struct assignment_command *cmd, struct arena *arena,
                     struct bt_error *err)
{
    struct store_assignment *a = &cmd->result;
    struct lead *lead = &cmd->lead;
    const struct config *cfg = cmd->cfg;
    if (!is_open(a) || is_status(a, ASSIGNMENT_CONTACTED) ||
        (cmd->require_pending && is_status(a, ASSIGNMENT_ACCEPTED)))
        return refuse_moved_on(arena, a, cmd->action, err);
    const struct sla_reject_reason *why = sla_reject_reason_find(&cfg->sla, cmd->reason);
    if (!why)
        return bt_fail(err, BT_EINVAL, "reason",
                       "reason must be one of the configured reject reasons (GET "
                       "/v1/reject-reasons lists them)");
    long ri = routing_find_rep(&cfg->routing, a->rep_id);
    if (cmd->as_rep && !strcmp(cmd->as_rep, a->rep_id) && cfg->sla.rejections_per_day && ri >= 0) {
        int64_t day, week, n;
        routing_rep_periods(&cfg->routing.reps[ri], ctx->now, &day, &week);
        bt_err e = store_rep_rejections_since(ctx->conn, a->rep_id, day, &n, err);
        if (e)
            return e;
        if (n >= cfg->sla.rejections_per_day)
            return bt_fail(err, BT_EFORBIDDEN, "reason",
                           "%s has rejected %lld leads today, the daily limit: a manager or an "
                           "admin must reject this one",
                           a->rep_id, (long long)n);
    }
    bool offer = is_status(a, ASSIGNMENT_OFFERED);
    struct store_assignment clock = *a; /* the group's clock, when this offer carries it */
    a->status = ASSIGNMENT_REJECTED;
    a->closed_at = ctx->now;
    /* by the rep (its key: rep:ID, its link: link:ID, both counted towards
     * its daily limit), its manager (rep:ID) or an admin (key:N) */
    a->closed_by = cmd->actor && !strncmp(cmd->actor, "link:", 5) ? cmd->actor
                   : cmd->as_rep ? arena_printf(arena, "rep:%s", cmd->as_rep)
                                 : cmd->actor;
    a->close_reason = why->id;
    a->note = cmd->note;
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    struct store_assignment *open_offers = NULL;
    size_t n_open = 0;
    if (offer) {
        bt_err e =
            store_assignment_offers(ctx->conn, a->offer_group, arena, &open_offers, &n_open, err);
        if (e)
            return e;
        for (size_t i = 0; i < n_open; i++)
            if (open_offers[i].id == a->id)
                open_offers[i] = open_offers[--n_open];
    }
    json_t *data = event_data(a);
    json_object_set_new(data, "reason", json_string(why->id));
    json_object_set_new(data, "action", json_string(sla_reject_action_name(why->action)));
    json_object_set_new(data, "note", cmd->note ? json_string(cmd->note) : json_null());
    bt_err e;
    if ((e = store_assignment_update(ctx->conn, a, err)) ||
        (e = store_exclusion_add(ctx->conn, lead->id, a->rep_id,
                                 arena_printf(arena, "rejected: %s", why->id), ctx->now, err))) {
        json_decref(data);
        return e;
    }
    if ((e = engine__event(ctx, arena, lead->id, "assignment.rejected", cmd->actor, why->id, data,
                           err)))
        return e;
    if (n_open > 0) {
        /* Others still hold the offer: the lead waits for them; the group's
         * clock moves to one of them when this offer carried it. */
        a->successor = "offered";
        if (clock.next_due) {
            open_offers[0].next_due = clock.next_due;
            open_offers[0].next_kind = clock.next_kind;
            open_offers[0].reminders_sent = clock.reminders_sent;
            e = store_assignment_update(ctx->conn, &open_offers[0], err);
        }
        return e ? e : store_assignment_update(ctx->conn, a, err);
    }
    if (why->action == SLA_REJECT_REROUTE)
        e = engine__reroute(ctx, cfg, lead, "rejected", cmd->actor, why->id, NULL, arena, err);
    else
        e = send_back(ctx, lead,
                      why->action == SLA_REJECT_RECYCLE ? STAGE_RECYCLED : STAGE_DISQUALIFIED,
                      "rejected", cmd->actor, why->id, cmd->note, arena, err);
    if (!e)
        e = successor_of(ctx, lead, arena, &a->successor, err);
    if (!e)
        e = store_assignment_update(ctx->conn, a, err);
    if (!e)
        e = engine__drain_after_change(ctx, cfg, a->rep_id, arena, NULL, err);
    return e;
}

/* A manager's reassignment to one rep: the lead goes to `to` without a
 * routing decision (recorded as such), with the terms the attempt had. */
static bt_err assign_to(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                        const char *to, const char *terms, const char *actor, const char *reason,
                        struct arena *arena, struct bt_error *err)
{
    long i = routing_find_rep(&cfg->routing, to);
    struct routing_rule rule = {
        .name = "reassigned",
        .target = ROUTE_TO_REP,
        .index = (size_t)i,
        .fallback = ROUTE_FALLBACK_HOLD,
    };
    /* Through routing with one rule naming the rep: the record says why,
     * and a rep who cannot take it now (away, at capacity) is a hold with
     * its reason rather than an overloaded rep. */
    struct engine__lead_opts o = {.only_rule = &rule, .terms = terms};
    return engine__reroute(ctx, cfg, lead, "reassigned", actor, reason, &o, arena, err);
}

static bt_err reassign(struct engine__ctx *ctx, struct assignment_command *cmd, struct arena *arena,
                       struct bt_error *err)
{
    struct store_assignment *a = &cmd->result;
    struct lead *lead = &cmd->lead;
    const struct config *cfg = cmd->cfg;
    if (!is_open(a))
        return refuse_moved_on(arena, a, cmd->action, err);
    if (cmd->to_rep && routing_find_rep(&cfg->routing, cmd->to_rep) < 0)
        return bt_fail(err, BT_EINVAL, "to", "no such rep: %.128s", cmd->to_rep);
    bool withdraw = cmd->action == ASSIGNMENT_ACT_WITHDRAW;
    a->status = withdraw ? ASSIGNMENT_WITHDRAWN : ASSIGNMENT_REASSIGNED;
    a->closed_at = ctx->now;
    a->closed_by = cmd->actor;
    a->close_reason = cmd->reason ? cmd->reason : withdraw ? "withdrawn" : "reassigned";
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    const char *terms = a->terms;
    bt_err e = store_assignment_update(ctx->conn, a, err);
    if (e)
        return e;
    if (withdraw && a->offer_group)
        e = close_offers(ctx, a->offer_group, a->id, ASSIGNMENT_WITHDRAWN, cmd->actor,
                         a->close_reason, "recycled", arena, NULL, err);
    if (e)
        return e;
    if (withdraw)
        e = send_back(ctx, lead, STAGE_RECYCLED, "withdrawn", cmd->actor, a->close_reason, NULL,
                      arena, err);
    else if (cmd->to_rep)
        e = assign_to(ctx, cfg, lead, cmd->to_rep, terms, cmd->actor, a->close_reason, arena, err);
    else
        e = engine__reroute(ctx, cfg, lead, "reassigned", cmd->actor, a->close_reason, NULL, arena,
                            err);
    if (!e)
        e = successor_of(ctx, lead, arena, &a->successor, err);
    if (!e)
        e = store_assignment_update(ctx->conn, a, err);
    if (e)
        return e;
    json_t *data = event_data(a);
    json_object_set_new(data, withdraw ? "next" : "to", json_string(a->successor));
    if ((e = engine__event(ctx, arena, lead->id,
                           withdraw ? "assignment.withdrawn" : "assignment.reassigned", cmd->actor,
                           a->close_reason, data, err)))
        return e;
    return engine__drain_after_change(ctx, cfg, a->rep_id, arena, NULL, err);
}

bt_err engine__apply_assignment(struct engine__ctx *ctx, struct assignment_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    struct store_assignment *a = &cmd->result;
    bt_err e = load(ctx, cmd->id, arena, a, &cmd->lead, err);
    if (e)
        return e;
    if (cmd->as_rep && strcmp(cmd->as_rep, a->rep_id) != 0) {
        /* A manager reassigns, withdraws and rejects (past a rep's daily
         * limit) for the reps it manages; accepting is the rep's own. */
        bool manager_action = cmd->action == ASSIGNMENT_ACT_REASSIGN ||
                              cmd->action == ASSIGNMENT_ACT_WITHDRAW ||
                              cmd->action == ASSIGNMENT_ACT_REJECT;
        if (!manager_action || !config_manages(cmd->cfg, cmd->as_rep, a->rep_id))
            return bt_fail(
                err, BT_EFORBIDDEN, "id",
                "assignment %lld is not yours: a rep may act only on its own "
                "assignments%s",
                (long long)a->id,
                manager_action
                    ? " (or, to reassign, withdraw or reject, those of the reps it manages)"
                    : "");
    }
    if (cmd->as_rep && !strcmp(cmd->as_rep, a->rep_id) &&
        (cmd->action == ASSIGNMENT_ACT_REASSIGN || cmd->action == ASSIGNMENT_ACT_WITHDRAW))
        return bt_fail(err, BT_EFORBIDDEN, "id",
                       "a rep cannot reassign or withdraw its own assignment: reject it, or ask "
                       "its manager");
    switch (cmd->action) {
    case ASSIGNMENT_ACT_ACCEPT:
        return accept(ctx, cmd, arena, err);
    case ASSIGNMENT_ACT_CONTACTED:
        return contacted(ctx, cmd, arena, err);
    case ASSIGNMENT_ACT_REJECT:
        return reject(ctx, cmd, arena, err);
    case ASSIGNMENT_ACT_REASSIGN:
    case ASSIGNMENT_ACT_WITHDRAW:
        return reassign(ctx, cmd, arena, err);
    }
    BT_BUG("unknown assignment action %d", (int)cmd->action);
}

bt_err engine_assignment_act(struct engine *e, struct assignment_command *cmd, struct arena *arena,
                             struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__ASSIGNMENT, .arena = arena, .u.assignment = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine__assignment_outcome(struct engine__ctx *ctx, int64_t lead_id, enum lead_stage to,
                                  const char *actor, struct arena *arena, struct bt_error *err)
{
    bool found;
    struct store_assignment a;
    bt_err e = store_assignment_live(ctx->conn, lead_id, arena, &found, &a, err);
    if (e)
        return e;
    if (!found) /* a broadcast not taken: its offers end with the lead */
        return to == STAGE_WON || to == STAGE_LOST || to == STAGE_DISQUALIFIED
                   ? engine__assignment_close_live(ctx, lead_id, ASSIGNMENT_WITHDRAWN, actor,
                                                   stage_name(to), arena, err)
                   : BT_OK;
    if (is_status(&a, ASSIGNMENT_ACCEPTED) && to != STAGE_DISQUALIFIED) {
        /* The CRM's progress is the first contact when none was recorded. */
        a.status = ASSIGNMENT_CONTACTED;
        a.contacted_at = ctx->now;
        a.next_due = 0;
        a.next_kind = ASSIGNMENT_DUE_NONE;
    }
    if (to == STAGE_WON || to == STAGE_LOST || to == STAGE_DISQUALIFIED) {
        a.closed_at = ctx->now;
        a.closed_by = actor ? actor : "system";
        a.close_reason = arena_printf(arena, "the lead is %s", stage_name(to));
        a.next_due = 0;
        a.next_kind = ASSIGNMENT_DUE_NONE;
    }
    return store_assignment_update(ctx->conn, &a, err);
}

/* ---- deadlines ---- */

static bt_err remind(struct engine__ctx *ctx, const struct config *cfg, struct store_assignment *a,
                     const struct sla_policy *p, struct arena *arena, struct bt_error *err)
{
    json_t *data = event_data(a);
    size_t k = (size_t)a->reminders_sent;
    json_object_set_new(data, "reminder", json_integer((json_int_t)k + 1));
    json_object_set_new(data, "of", json_integer((json_int_t)p->n_reminders));
    json_object_set_new(data, "fraction", json_real(p->reminders[k]));
    json_object_set_new(data, "clock", json_string(sla_clock_name(p->clock)));
    json_object_set_new(data, "due_at", json_string(rfc3339(arena, a->next_due)));
    json_object_set_new(
        data, "seconds_left",
        json_integer(a->accept_by > ctx->now ? (a->accept_by - ctx->now) / 1000 : 0));
    a->reminders_sent++;
    schedule(cfg, a, p);
    bt_err e = save(ctx, a, err);
    if (e) {
        json_decref(data);
        return e;
    }
    return engine__event(ctx, arena, a->lead_id, "assignment.reminded", "system", NULL, data, err);
}

static bt_err escalate(struct engine__ctx *ctx, const struct config *cfg,
                       const struct store_assignment *a, const char *deadline, struct arena *arena,
                       struct bt_error *err)
{
    const char *manager = config_rep_manager(cfg, a->rep_id);
    json_t *data = event_data(a);
    json_object_set_new(data, "manager", manager ? json_string(manager) : json_null());
    json_object_set_new(data, "deadline", json_string(deadline));
    return engine__event(ctx, arena, a->lead_id, "assignment.escalated", "system",
                         manager ? NULL : "the rep has no manager", data, err);
}

/* A rep that let `run` assignments expire in a row is set away. */
static bt_err maybe_away(struct engine__ctx *ctx, const struct config *cfg, const char *rep_id,
                         unsigned after, struct arena *arena, struct bt_error *err)
{
    if (!after || routing_find_rep(&cfg->routing, rep_id) < 0)
        return BT_OK;
    int64_t run;
    bt_err e = store_rep_expired_run(ctx->conn, rep_id, &run, err);
    if (e || run < (int64_t)after)
        return e;
    struct rep_runtime rt;
    if ((e = store_rep_runtime_get(ctx->conn, rep_id, ctx->now, arena, &rt, err)))
        return e;
    if (rt.status != REP_AVAILABLE && (!rt.status_until || rt.status_until > ctx->now))
        return BT_OK;
    const char *reason =
        arena_printf(arena, "missed %lld acceptance deadlines in a row", (long long)run);
    if ((e = store_rep_status_set(ctx->conn, rep_id, REP_AWAY, reason, 0, ctx->now, err)))
        return e;
    return engine__rep_event(ctx, arena, rep_id, "rep.status_changed", "system", reason,
                             json_pack("{s:s, s:s}", "from", rep_status_name(rt.status), "to",
                                       rep_status_name(REP_AWAY)),
                             err);
}

/* Excludes the last `n` assignees of the lead (the one that expired first). */
static bt_err exclude_last(struct engine__ctx *ctx, int64_t lead_id, unsigned n,
                           struct arena *arena, json_t *excluded, struct bt_error *err)
{
    if (!n)
        return BT_OK;
    struct store_assignment *rows;
    size_t count;
    bt_err e = store_assignment_list_lead(ctx->conn, lead_id, 0, STORE_LIST_MAX, arena, &rows,
                                          &count, err);
    for (size_t i = count, done = 0; !e && i-- > 0 && done < n;) { /* newest first */
        bool seen = false;
        for (size_t j = 0; j < json_array_size(excluded); j++)
            seen |= !strcmp(json_string_value(json_array_get(excluded, j)), rows[i].rep_id);
        if (seen)
            continue;
        json_array_append_new(excluded, json_string(rows[i].rep_id));
        done++;
        e = store_exclusion_add(ctx->conn, lead_id, rows[i].rep_id, "expired", ctx->now, err);
    }
    return e;
}

/* A breach of policy p's deadline, for the metrics once the group commits
 * (policy names come from the configuration: a bounded set). */
static void count_breach(struct engine__ctx *ctx, const struct sla_policy *p,
                         enum metrics_sla_deadline which)
{
    unsigned slot = metrics_label_slot(&metrics.sla_policies, p->name ? p->name : "unnamed");
    ctx->tally.breaches[slot][which]++;
}

static bt_err breach(struct engine__ctx *ctx, const struct config *cfg, struct store_assignment *a,
                     const struct sla_policy *p, struct arena *arena, struct bt_error *err)
{
    bool reassign_it = false;
    a->breached_at = ctx->now;
    count_breach(ctx, p, METRICS_SLA_ACCEPT);
    bt_err e = BT_OK;
    json_t *steps = json_array();
    for (size_t i = 0; i < p->n_on_breach; i++)
        json_array_append_new(steps, json_string(sla_breach_action_name(p->on_breach[i])));
    json_t *data = event_data(a);
    json_object_set_new(data, "clock", json_string(sla_clock_name(p->clock)));
    json_object_set_new(data, "accept_within_seconds", json_integer(p->accept_within_ms / 1000));
    json_object_set_new(data, "on_breach", steps);
    if ((e = engine__event(ctx, arena, a->lead_id, "assignment.breached", "system", NULL, data,
                           err)))
        return e;
    for (size_t i = 0; !e && i < p->n_on_breach; i++) {
        switch (p->on_breach[i]) {
        case SLA_BREACH_REMIND: {
            json_t *d = event_data(a);
            json_object_set_new(d, "breach", json_true());
            e = engine__event(ctx, arena, a->lead_id, "assignment.reminded", "system", NULL, d,
                              err);
            break;
        }
        case SLA_BREACH_NOTIFY_MANAGER:
            e = escalate(ctx, cfg, a, "accept", arena, err);
            break;
        case SLA_BREACH_REASSIGN:
            reassign_it = true;
            break;
        }
    }
    if (e)
        return e;
    if (!reassign_it) {
        /* Only flagged: the rep may still accept; no deadline is left. */
        schedule(cfg, a, p);
        return save(ctx, a, err);
    }
    struct lead lead;
    if ((e = store_lead_get(ctx->conn, a->lead_id, arena, &lead, err)))
        return e;
    a->status = ASSIGNMENT_EXPIRED;
    a->closed_at = ctx->now;
    a->closed_by = "system";
    a->close_reason = "expired";
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    if ((e = store_assignment_update(ctx->conn, a, err)))
        return e;
    json_t *excluded = json_array();
    if (a->offer_group) {
        /* A broadcast nobody took: every offer expires, and every rep it
         * was offered to is excluded. */
        json_t *reps = json_array();
        e = close_offers(ctx, a->offer_group, a->id, ASSIGNMENT_EXPIRED, "system", "expired", NULL,
                         arena, reps, err);
        json_array_append_new(excluded, json_string(a->rep_id));
        for (size_t i = 0; !e && i < json_array_size(reps); i++) {
            const char *rep = json_string_value(json_array_get(reps, i));
            json_array_append_new(excluded, json_string(rep));
            e = store_exclusion_add(ctx->conn, lead.id, rep, "expired", ctx->now, err);
        }
        if (!e)
            e = store_exclusion_add(ctx->conn, lead.id, a->rep_id, "expired", ctx->now, err);
        json_decref(reps);
        if (e) {
            json_decref(excluded);
            return e;
        }
    }
    if ((e = exclude_last(ctx, lead.id, a->offer_group ? 0 : p->exclude_last, arena, excluded,
                          err)) ||
        (e = maybe_away(ctx, cfg, a->rep_id, p->away_after_breaches, arena, err))) {
        json_decref(excluded);
        return e;
    }
    struct engine__lead_opts o = {.terms = a->terms};
    struct routing_rule rule = {.name = "after_max_attempts", .fallback = ROUTE_FALLBACK_HOLD};
    bool last = a->attempt >= (int64_t)p->max_attempts;
    const char *manager = config_rep_manager(cfg, a->rep_id);
    if (last) {
        o.only_rule = &rule;
        switch (p->after_max_attempts) {
        case SLA_FALLBACK_POOL:
            rule.target = ROUTE_TO_POOL;
            rule.index = p->fallback_index;
            break;
        case SLA_FALLBACK_REP:
            rule.target = ROUTE_TO_REP;
            rule.index = p->fallback_index;
            break;
        case SLA_FALLBACK_MANAGER:
            if (manager && routing_find_rep(&cfg->routing, manager) >= 0) {
                rule.target = ROUTE_TO_REP;
                rule.index = (size_t)routing_find_rep(&cfg->routing, manager);
            } else {
                rule.target = ROUTE_TO_HOLD;
            }
            break;
        case SLA_FALLBACK_HOLD:
            rule.target = ROUTE_TO_HOLD;
            break;
        }
    }
    if ((e = engine__reroute(ctx, cfg, &lead, "expired", "system", "the SLA expired", &o, arena,
                             err)) ||
        (e = successor_of(ctx, &lead, arena, &a->successor, err)) ||
        (e = store_assignment_update(ctx->conn, a, err))) {
        json_decref(excluded);
        return e;
    }
    data = event_data(a);
    json_object_set_new(data, "exclude", excluded);
    json_object_set_new(data, "next", json_string(a->successor));
    json_object_set_new(data, "max_attempts_reached", json_boolean(last));
    if (last)
        json_object_set_new(data, "after_max_attempts",
                            json_string(sla_fallback_name(p->after_max_attempts)));
    return engine__event(ctx, arena, a->lead_id, "assignment.expired", "system",
                         arena_printf(arena, "not accepted by %s", rfc3339(arena, a->accept_by)),
                         data, err);
}

static bt_err contact_breach(struct engine__ctx *ctx, const struct config *cfg,
                             struct store_assignment *a, const struct sla_policy *p,
                             struct arena *arena, struct bt_error *err)
{
    a->next_due = 0;
    a->next_kind = ASSIGNMENT_DUE_NONE;
    count_breach(ctx, p, METRICS_SLA_CONTACT);
    bt_err e = save(ctx, a, err);
    if (e)
        return e;
    json_t *data = event_data(a);
    json_object_set_new(data, "contact_by", json_string(rfc3339(arena, a->contact_by)));
    if ((e = engine__event(ctx, arena, a->lead_id, "assignment.contact_breached", "system", NULL,
                           data, err)))
        return e;
    for (size_t i = 0; i < p->n_on_breach; i++)
        if (p->on_breach[i] == SLA_BREACH_NOTIFY_MANAGER)
            return escalate(ctx, cfg, a, "contact", arena, err);
    return BT_OK;
}

/* One due assignment. A deadline that is no longer due (changed since the
 * list was read) is left alone. */
static bt_err run_due(struct engine__ctx *ctx, const struct config *cfg, int64_t id,
                      struct arena *arena, struct bt_error *err)
{
    struct store_assignment a;
    bt_err e = store_assignment_get(ctx->conn, id, arena, &a, err);
    if (e || !a.next_due || a.next_due > ctx->now)
        return e;
    json_t *holder;
    struct sla_policy p;
    if (!terms_of(cfg, &a, &holder, &p)) {
        a.next_due = 0;
        return store_assignment_update(ctx->conn, &a, err);
    }
    struct sla_schedule s;
    p.clock = schedule_for(cfg, a.rep_id, p.clock, &s);
    switch (a.next_kind) {
    case ASSIGNMENT_DUE_REMIND:
        /* Late (after a restart): a reminder after the deadline is moot. */
        if (a.accept_by && a.accept_by <= ctx->now) {
            a.reminders_sent = (int64_t)p.n_reminders;
            e = breach(ctx, cfg, &a, &p, arena, err);
        } else {
            e = remind(ctx, cfg, &a, &p, arena, err);
        }
        break;
    case ASSIGNMENT_DUE_ACCEPT:
        e = breach(ctx, cfg, &a, &p, arena, err);
        break;
    case ASSIGNMENT_DUE_CONTACT:
        e = contact_breach(ctx, cfg, &a, &p, arena, err);
        break;
    default:
        a.next_due = 0;
        e = store_assignment_update(ctx->conn, &a, err);
    }
    json_decref(holder);
    return e;
}

bt_err engine__apply_sla_due(struct engine__ctx *ctx, struct engine__sla_due *cmd,
                             struct arena *arena, struct bt_error *err)
{
    bool got;
    bt_err e = engine__claim_sweep(ctx, SLA_SWEEP_NAME, &got, err);
    if (e)
        return e;
    if (!got) {
        cmd->next_due = ctx->now + ENGINE_SWEEP_RETRY_MS;
        return BT_OK;
    }
    struct store_assignment *due;
    size_t n;
    if ((e = store_assignment_due(ctx->conn, ctx->now, cmd->limit, arena, &due, &n, err)))
        return e;
    /* Each in its own savepoint and arena, like the decay sweep: memory is
     * bounded by one assignment's work, and one that fails is undone alone,
     * logged and tried again later instead of failing the batch for ever. */
    for (size_t i = 0; i < n; i++) {
        struct arena one = ARENA_INIT;
        struct bt_error aerr = BT_ERROR_INIT;
        if ((e = store_savepoint(ctx->conn, err)))
            return e;
        bt_err rc = run_due(ctx, cmd->cfg, due[i].id, &one, &aerr);
        arena_release(&one);
        if (rc) {
            store_savepoint_rollback(ctx->conn);
            log_error("handoff: assignment %lld: its deadline could not be processed (%s); "
                      "trying again in a minute",
                      (long long)due[i].id, aerr.message);
        }
        if ((e = store_savepoint_release(ctx->conn, err)))
            return e;
        if (rc) {
            struct arena one2 = ARENA_INIT;
            struct store_assignment a;
            e = store_assignment_get(ctx->conn, due[i].id, &one2, &a, err);
            if (!e) {
                a.next_due = ctx->now + SLA_RETRY_MS;
                e = save(ctx, &a, err);
            }
            arena_release(&one2);
            if (e)
                return e;
        }
    }
    cmd->ran = n;
    if (!e)
        e = store_assignment_next_due(ctx->conn, &cmd->next_due, err);
    if (!e)
        e = engine__release_sweep(ctx, SLA_SWEEP_NAME, err);
    return e;
}

bt_err engine_sla_due(struct engine *e, const struct config *cfg, unsigned limit, size_t *ran,
                      int64_t *next_due, struct bt_error *err)
{
    struct arena arena = ARENA_INIT;
    struct engine__sla_due cmd = {.cfg = cfg, .limit = limit ? limit : 100};
    struct engine__command c = {.kind = ENGINE__SLA_DUE, .arena = &arena, .u.sla_due = &cmd};
    bt_err rc = engine__submit(e, &c, err);
    arena_release(&arena);
    if (ran)
        *ran = cmd.ran;
    if (next_due)
        *next_due = cmd.next_due;
    return rc;
}
