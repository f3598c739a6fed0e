/*
 * engine_outbox.c - the messages Baton owes, written with the change that
 * caused them, and the commands that move them on (engine.h, Delivery).
 *
 * engine__outbox_event() runs after every event a command records: each
 * channel of the command's configuration that subscribes to the event's
 * type and whose `when` holds for the lead gets one outbox row, in the same
 * transaction, carrying the message context (core/delivery.h) built once
 * per event and shared by the channels. Rendering (templates, MIME, Slack
 * blocks, signatures) happens when the row is sent, in deliver/, from that
 * context, so that a retry sends the same message.
 *
 * The delivery worker's claims and reports, an admin's retry, replay,
 * enable and disable, and the completion of a task are commands like any
 * other: one writer, in order, durable when they return.
 */
#include "config/config.h"
#include "core/rule.h"
#include "core/score.h"
#include "core/meeting.h"
#include "core/workhours.h"
#include "engine/engine_internal.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the message context ---- */

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char buf[RFC3339_MAX];
    time_format_rfc3339(ms, buf);
    return json_string(buf);
}

/* "2026-12-01 10:35 Europe/Berlin": an instant on the rep's wall clock. */
static json_t *local_time(const struct config_rep *rep, int64_t ms)
{
    if (ms <= 0)
        return json_null();
    const struct tz_table *tz = rep && rep->routing ? rep->routing->tz : NULL;
    int64_t local = ms + (tz ? tz_offset_at(tz, ms) : 0);
    char buf[RFC3339_MAX];
    time_format_rfc3339(local, buf); /* "2026-12-01T10:35:00.000Z" */
    char out[RFC3339_MAX + TZ_NAME_MAX + 8];
    snprintf(out, sizeof(out), "%.10s %.5s %s", buf, buf + 11, tz ? tz->name : "UTC");
    return json_string(out);
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

static json_t *lead_context(const struct lead *l)
{
    const char *first = l->attr[LEAD_FIRST_NAME], *last = l->attr[LEAD_LAST_NAME];
    char name[512];
    if (first && last)
        snprintf(name, sizeof(name), "%s %s", first, last);
    else
        snprintf(name, sizeof(name), "%s",
                 first                 ? first
                 : last                ? last
                 : l->attr[LEAD_EMAIL] ? l->attr[LEAD_EMAIL]
                                       : "");
    json_error_t jerr;
    json_t *fields = json_loads(l->fields_json ? l->fields_json : "{}", 0, &jerr);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(l->id));
    json_object_set_new(o, "email", text_or_null(l->attr[LEAD_EMAIL]));
    json_object_set_new(o, "first_name", text_or_null(first));
    json_object_set_new(o, "last_name", text_or_null(last));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "company", text_or_null(l->attr[LEAD_COMPANY]));
    json_object_set_new(o, "title", text_or_null(l->attr[LEAD_TITLE]));
    json_object_set_new(o, "phone", text_or_null(l->attr[LEAD_PHONE]));
    json_object_set_new(o, "country", text_or_null(l->attr[LEAD_COUNTRY]));
    json_object_set_new(o, "source", text_or_null(l->attr[LEAD_SOURCE]));
    json_object_set_new(o, "stage", text_or_null(l->attr[LEAD_STAGE]));
    json_object_set_new(o, "owner", text_or_null(l->attr[LEAD_OWNER]));
    json_object_set_new(o, "created_at", time_or_null(l->created_at));
    json_object_set_new(o, "fields", json_is_object(fields) ? fields : json_object());
    if (!json_is_object(fields))
        json_decref(fields);
    return o;
}

/* The score with its reasons as a template reads them: {text, points},
 * the rules that counted, largest first as scoring lists them. */
static json_t *score_context(const struct lead *l)
{
    const struct lead_score *s = &l->score;
    if (!s->scored)
        return json_null();
    json_t *reasons = json_array();
    json_error_t jerr;
    json_t *stored = json_loads(s->reasons_json ? s->reasons_json : "[]", 0, &jerr);
    size_t i;
    json_t *r;
    json_array_foreach(stored, i, r)
    {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        double counted = json_number_value(json_object_get(r, "counted"));
        if (!rule || counted == 0)
            continue;
        json_array_append_new(reasons,
                              json_pack("{s:s, s:f}", "text", rule, "points", round2(counted)));
    }
    json_decref(stored);
    return json_pack("{s:f, s:f, s:f, s:s, s:o}", "total", round2(s->total), "fit", round2(s->fit),
                     "engagement", round2(s->engagement), "grade", s->grade, "reasons", reasons);
}

static json_t *rep_context(const struct config_rep *rep)
{
    const char *tz = rep->routing && rep->routing->tz ? rep->routing->tz->name : rep->timezone;
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "id", rep->id, "name",
                     text_or_null(rep->name ? rep->name : rep->id), "email",
                     text_or_null(rep->email), "phone", text_or_null(rep->phone), "timezone",
                     text_or_null(tz), "team", text_or_null(rep->team));
}

/* What one event's messages are made of, built on first need. */
struct event_context {
    bool built;
    json_t *ctx; /* the message context */
    bool has_lead;
    struct lead lead;
    const struct config_rep *rep;     /* the event's rep, or NULL */
    const struct config_rep *manager; /* that rep's manager, or NULL */
    bool filled;                      /* slots filled for `when` */
    struct rule_value *slots;
};

static bt_err build_context(struct engine__ctx *ctx, struct arena *arena,
                            const struct lead_event *ev, json_t *data, struct event_context *ec,
                            struct bt_error *err)
{
    const struct config *cfg = ctx->cfg;
    ec->built = true;
    json_t *o = json_object();
    ec->ctx = o;
    char at[RFC3339_MAX];
    time_format_rfc3339(ev->at, at);
    json_object_set_new(o, "event",
                        json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)ev->id, "type",
                                  ev->type, "at", at, "actor", ev->actor ? ev->actor : "system",
                                  "reason", text_or_null(ev->reason)));
    json_object_set(o, "data", data);
    if (ev->lead_id) {
        bt_err e = store_lead_get(ctx->conn, ev->lead_id, arena, &ec->lead, err);
        if (e)
            return e;
        ec->has_lead = true;
        json_object_set_new(o, "lead", lead_context(&ec->lead));
        json_object_set_new(o, "score", score_context(&ec->lead));
    }
    /* The rep: the event's own ("rep"), else its assignment's. */
    const char *rep_id = json_string_value(json_object_get(data, "rep"));
    json_t *aid = json_object_get(data, "assignment");
    if (json_is_integer(aid)) {
        struct store_assignment a;
        bt_err e = store_assignment_get(ctx->conn, json_integer_value(aid), arena, &a, err);
        if (e && e != BT_ENOTFOUND)
            return e;
        if (!e) {
            if (!rep_id)
                rep_id = a.rep_id;
            const struct config_rep *rep = config_find_rep(cfg, a.rep_id);
            json_object_set_new(
                o, "assignment",
                json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)a.id,
                          "attempt", (json_int_t)a.attempt, "policy", text_or_null(a.policy),
                          "pool", text_or_null(a.pool_id), "rule", text_or_null(a.rule), "why",
                          text_or_null(ev->reason), "accept_by", time_or_null(a.accept_by),
                          "accept_by_local", local_time(rep, a.accept_by), "contact_by",
                          time_or_null(a.contact_by)));
            json_object_set_new(o, "_link",
                                json_pack("{s:I, s:s, s:I, s:I}", "assignment", (json_int_t)a.id,
                                          "rep", a.rep_id, "accept_by", (json_int_t)a.accept_by,
                                          "assigned_at", (json_int_t)a.assigned_at));
            if (a.close_reason && strcmp(ev->type, "assignment.rejected") == 0) {
                const struct sla_reject_reason *rr =
                    sla_reject_reason_find(&cfg->sla, a.close_reason);
                json_object_set_new(o, "rejection",
                                    json_pack("{s:s, s:o, s:o}", "reason", a.close_reason, "label",
                                              text_or_null(rr ? rr->label : NULL), "note",
                                              text_or_null(a.note)));
            }
        }
    }
    if (json_is_integer(aid) && ctx->meeting.assignment_id == json_integer_value(aid)) {
        const struct config_rep *mrep = rep_id ? config_find_rep(cfg, rep_id) : NULL;
        json_object_set_new(o, "meeting",
                            json_pack("{s:o, s:o, s:o, s:o}", "start",
                                      time_or_null(ctx->meeting.start), "end",
                                      time_or_null(ctx->meeting.end), "start_local",
                                      local_time(mrep, ctx->meeting.start), "end_local",
                                      local_time(mrep, ctx->meeting.end)));
        json_object_set_new(o, "_meeting",
                            json_pack("{s:I, s:I, s:I}", "task", (json_int_t)ctx->meeting.task_id,
                                      "start", (json_int_t)ctx->meeting.start, "end",
                                      (json_int_t)ctx->meeting.end));
    }
    if (rep_id && (ec->rep = config_find_rep(cfg, rep_id))) {
        json_object_set_new(o, "rep", rep_context(ec->rep));
        const char *m = config_rep_manager(cfg, rep_id);
        if (m && (ec->manager = config_find_rep(cfg, m)))
            json_object_set_new(o, "manager",
                                json_pack("{s:s, s:o, s:o}", "id", ec->manager->id, "name",
                                          text_or_null(ec->manager->name), "email",
                                          text_or_null(ec->manager->email)));
    }
    return BT_OK;
}

/* Whether the channel's `when` holds for the event's lead (an event
 * without a lead passes only a channel without `when`). */
static bt_err when_holds(struct engine__ctx *ctx, struct arena *arena,
                         const struct config_channel *ch, struct event_context *ec, bool *holds,
                         struct bt_error *err)
{
    *holds = true;
    if (!ch->when)
        return BT_OK;
    if (!ec->has_lead) {
        *holds = false;
        return BT_OK;
    }
    const struct rule_symtab *syms = ctx->cfg->scoring->lead_syms;
    if (!ec->filled) {
        ec->slots = arena_alloc(arena, (rule_symtab_count(syms) + 1) * sizeof(*ec->slots));
        if (!ec->slots)
            return bt_fail(err, BT_ETOOBIG, NULL, "out of memory for a channel's condition");
        struct score_result sr = {.fit = ec->lead.score.fit,
                                  .engagement = ec->lead.score.engagement,
                                  .total = ec->lead.score.total};
        memcpy(sr.grade, ec->lead.score.grade, sizeof(sr.grade));
        bt_err e = score_fill_lead(syms, &ec->lead, NULL, 0, ec->lead.score.scored ? &sr : NULL,
                                   ctx->now, arena, ec->slots);
        if (e)
            return bt_fail(err, e, NULL, "evaluating channel %s: %s", ch->id, err->message);
        ec->filled = true;
    }
    *holds = rule_eval(ch->when, ec->slots, ctx->rules);
    return BT_OK;
}

/* A lead that asked not to be mailed: a custom field opt_out or
 * unsubscribed that is true. */
static bool opted_out(const struct event_context *ec)
{
    json_t *f = json_object_get(json_object_get(ec->ctx, "lead"), "fields");
    return json_is_true(json_object_get(f, "opt_out")) ||
           json_is_true(json_object_get(f, "unsubscribed"));
}

/*
 * Who the channel's message is for: *to the address or number (NULL for
 * the HTTP channels), or *why it cannot be sent (the row is then written
 * dead, so that the gap is visible), or *skip (a prospect who opted out:
 * nothing is owed).
 */
static void recipient_of(const struct config *cfg, const struct config_channel *ch,
                         const struct event_context *ec, const char **to, const char **why,
                         bool *skip)
{
    *to = *why = NULL;
    *skip = false;
    if (ch->type != DELIVERY_EMAIL && ch->type != DELIVERY_SMS)
        return;
    bool sms = ch->type == DELIVERY_SMS;
    switch (ch->to) {
    case DELIVERY_TO_REP:
    case DELIVERY_TO_MANAGER: {
        const struct config_rep *r = ch->to == DELIVERY_TO_REP ? ec->rep : ec->manager;
        if (!r) {
            *why = ch->to == DELIVERY_TO_REP ? "the event names no rep" : "the rep has no manager";
            /* An event without a rep (lead.created) is simply not for this
             * channel: nothing is owed. */
            *skip = ch->to == DELIVERY_TO_REP || !ec->rep;
            return;
        }
        *to = sms ? r->phone : r->email;
        if (!*to)
            *why = sms ? "the rep has no phone number" : "the rep has no email address";
        return;
    }
    case DELIVERY_TO_PROSPECT:
        if (!ec->has_lead || (!sms && opted_out(ec))) {
            *skip = true;
            return;
        }
        *to = ec->lead.attr[sms ? LEAD_PHONE : LEAD_EMAIL];
        if (!*to)
            *why = sms ? "the lead has no phone number" : "the lead has no email address";
        return;
    case DELIVERY_TO_MARKETING:
        *to = cfg->delivery.marketing;
        return;
    case DELIVERY_TO_ADDRESS:
        *to = ch->to_address;
        return;
    }
}

/* The types an event is delivered as: its own and, for a stage change, the
 * milestone it is (lead.mql, lead.outcome). */
static const char *alias_of(const struct lead_event *ev, json_t *data)
{
    if (strcmp(ev->type, "lead.stage_changed") != 0)
        return NULL;
    const char *to = json_string_value(json_object_get(data, "to"));
    const char *via = json_string_value(json_object_get(data, "via"));
    if (via && strcmp(via, "outcome") == 0)
        return "lead.outcome";
    if (to && strcmp(to, "mql") == 0)
        return "lead.mql";
    return NULL;
}

static const char *matched_type(const struct config_channel *ch, const char *type,
                                const char *alias)
{
    for (size_t i = 0; i < ch->n_events; i++) {
        if (alias && delivery_event_matches(ch->events[i], alias))
            return alias;
        if (delivery_event_matches(ch->events[i], type))
            return type;
    }
    return NULL;
}

static void new_uid(char out[OUTBOX_UID_MAX])
{
    crypto_random_token("msg_", 13, out, OUTBOX_UID_MAX);
}

/* The channel's breaker as stored (no row: active). */
static bt_err channel_state(struct engine__ctx *ctx, struct arena *arena, const char *id,
                            struct store_delivery_channel *out, struct bt_error *err)
{
    bool found;
    bt_err e = store_delivery_channel_get(ctx->conn, id, arena, out, &found, err);
    if (!e && !found) {
        memset(out, 0, sizeof(*out));
        out->id = id;
    }
    return e;
}

static bt_err insert_row(struct engine__ctx *ctx, struct arena *arena,
                         const struct config_channel *ch, const struct lead_event *ev,
                         const char *type, json_t *context, const char *to, const char *why,
                         struct bt_error *err)
{
    struct store_delivery_channel state;
    bt_err e = channel_state(ctx, arena, ch->id, &state, err);
    if (e)
        return e;
    char uid[OUTBOX_UID_MAX];
    new_uid(uid);
    json_object_set_new(context, "id", json_string(uid));
    json_object_set_new(context, "type", json_string(type));
    struct store_outbox_row row = {
        .uid = uid,
        .channel = ch->id,
        .event_type = type,
        .event_id = ev ? ev->id : 0,
        .lead_id = ev ? ev->lead_id : 0,
        .recipient = to,
        .status = OUTBOX_PENDING,
        .next_attempt_at = ctx->now,
        .created_at = ctx->now,
    };
    if (why) {
        row.status = OUTBOX_DEAD;
        row.next_attempt_at = 0;
    } else if (state.breaker.state == DELIVERY_CHANNEL_DISABLED) {
        row.status = OUTBOX_HELD; /* kept until an admin enables the channel */
        row.next_attempt_at = 0;
    }
    char *payload = json_dumps(context, JSON_COMPACT);
    row.payload = arena_strdup(arena, payload ? payload : "{}");
    free(payload);
    if ((e = store_outbox_insert(ctx->conn, &row, err)))
        return e;
    if (why) {
        /* The reason a row could never go, as its only attempt. */
        struct store_delivery_attempt a = {
            .at = ctx->now, .verdict = "undeliverable", .error = why};
        bool applied;
        /* Never claimed: recorded as the holder "" (no lease). */
        e = store_outbox_record(ctx->conn, row.id, "", &a, OUTBOX_DEAD, 0, &applied, err);
        log_warn("delivery: %s message for %s is undeliverable: %s", ch->id, type, why);
        metrics_inc(&metrics.deliveries_undeliverable);
        return e;
    }
    if (row.next_attempt_at)
        ctx->outbox_due = true;
    return BT_OK;
}

bt_err engine__outbox_event(struct engine__ctx *ctx, struct arena *arena,
                            const struct lead_event *ev, json_t *data, struct bt_error *err)
{
    const struct config *cfg = ctx->cfg;
    if (!cfg || !cfg->delivery.n_channels)
        return BT_OK;
    const char *alias = alias_of(ev, data);
    struct event_context ec = {0};
    bt_err e = BT_OK;
    for (size_t i = 0; i < cfg->delivery.n_channels && !e; i++) {
        const struct config_channel *ch = &cfg->delivery.channels[i];
        const char *type = matched_type(ch, ev->type, alias);
        if (!type)
            continue;
        if (!ec.built && (e = build_context(ctx, arena, ev, data, &ec, err)))
            break;
        bool holds;
        if ((e = when_holds(ctx, arena, ch, &ec, &holds, err)) || !holds)
            continue;
        const char *to, *why;
        bool skip;
        recipient_of(cfg, ch, &ec, &to, &why, &skip);
        if (skip)
            continue;
        json_t *copy = json_deep_copy(ec.ctx);
        e = insert_row(ctx, arena, ch, ev, type, copy, to, why, err);
        json_decref(copy);
    }
    json_decref(ec.ctx);
    return e;
}

/* An announcement that is about no lead (a channel paused, resumed,
 * disabled): to every other channel subscribing to it. */
static bt_err announce(struct engine__ctx *ctx, struct arena *arena, const char *type,
                       const char *channel, const char *reason, struct bt_error *err)
{
    const struct config *cfg = ctx->cfg;
    if (!cfg)
        return BT_OK;
    char at[RFC3339_MAX];
    time_format_rfc3339(ctx->now, at);
    for (size_t i = 0; i < cfg->delivery.n_channels; i++) {
        const struct config_channel *ch = &cfg->delivery.channels[i];
        if (strcmp(ch->id, channel) == 0 || !matched_type(ch, type, NULL) || ch->when)
            continue;
        const char *to, *why;
        bool skip;
        struct event_context none = {0};
        recipient_of(cfg, ch, &none, &to, &why, &skip);
        if (skip)
            continue;
        json_t *o = json_pack("{s:{s:n, s:s, s:s, s:s, s:o}, s:{s:s, s:o}}", "event", "id", "type",
                              type, "at", at, "actor", "system", "reason", text_or_null(reason),
                              "data", "channel", channel, "reason", text_or_null(reason));
        bt_err e = insert_row(ctx, arena, ch, NULL, type, o, to, why, err);
        json_decref(o);
        if (e)
            return e;
    }
    return BT_OK;
}

/* ---- the worker's commands ---- */

bt_err engine__apply_outbox_claim(struct engine__ctx *ctx, struct engine__outbox_claim *cmd,
                                  struct arena *arena, struct bt_error *err)
{
    for (size_t i = 0; i < cmd->n; i++) {
        struct outbox_claim *c = &cmd->claims[i];
        c->rows = NULL;
        c->n = 0;
        if (!c->limit)
            continue;
        bt_err e = store_outbox_claim(ctx->conn, c->channel, ctx->node_id, ctx->now, cmd->lease_ms,
                                      c->limit, arena, &c->rows, &c->n, err);
        if (e)
            return e;
    }
    return BT_OK;
}

static double random01(void)
{
    return (double)(crypto_random_u64() >> 11) / 9007199254740992.0; /* 2^53 */
}

/* The breaker of one channel after this report's attempts at it. */
static bt_err move_breaker(struct engine__ctx *ctx, struct arena *arena, const char *channel,
                           enum delivery_verdict v, const char *error, struct bt_error *err)
{
    struct store_delivery_channel st;
    bt_err e = channel_state(ctx, arena, channel, &st, err);
    if (e)
        return e;
    struct delivery_breaker before = st.breaker;
    struct delivery_breaker_policy p =
        ctx->cfg ? ctx->cfg->delivery.breaker : DELIVERY_BREAKER_DEFAULT;
    bool changed;
    delivery_breaker_record(&st.breaker, &p, v, ctx->now, &changed);
    if (!changed && before.failures == st.breaker.failures &&
        before.next_probe_at == st.breaker.next_probe_at)
        return BT_OK;
    if (changed) {
        st.changed_at = ctx->now;
        st.reason = error;
    }
    if ((e = store_delivery_channel_put(ctx->conn, &st, err)) || !changed)
        return e;
    const char *type = NULL;
    switch (st.breaker.state) {
    case DELIVERY_CHANNEL_PAUSED:
        type = "delivery.channel_paused";
        log_warn("delivery: channel %s paused after %lld failures in a row (%s); its messages "
                 "wait and a probe goes out every %lld s",
                 channel, (long long)st.breaker.failures, error ? error : "no answer",
                 (long long)(p.probe_every_ms / 1000));
        break;
    case DELIVERY_CHANNEL_DISABLED: {
        type = "delivery.channel_disabled";
        int64_t held;
        if ((e = store_outbox_hold_channel(ctx->conn, channel, &held, err)))
            return e;
        log_warn("delivery: channel %s disabled: its receiver answered 410 Gone; %lld waiting "
                 "message%s held (POST /v1/deliveries/channels/%s/enable sends them)",
                 channel, (long long)held, held == 1 ? "" : "s", channel);
        break;
    }
    case DELIVERY_CHANNEL_ACTIVE:
        type = "delivery.channel_resumed";
        log_info("delivery: channel %s delivers again", channel);
        break;
    }
    metrics_inc(&metrics.delivery_channel_changes);
    return announce(ctx, arena, type, channel, error, err);
}

bt_err engine__apply_outbox_report(struct engine__ctx *ctx, struct engine__outbox_report *cmd,
                                   struct arena *arena, struct bt_error *err)
{
    const struct config_delivery *d = ctx->cfg ? &ctx->cfg->delivery : NULL;
    const int64_t *schedule = d && d->n_schedule ? d->schedule_ms : delivery_default_schedule_ms;
    size_t n_schedule = d && d->n_schedule ? d->n_schedule : delivery_default_schedule_len;
    for (size_t i = 0; i < cmd->n; i++) {
        struct outbox_result *r = &cmd->results[i];
        r->next_attempt_at = 0;
        switch (r->verdict) {
        case DELIVERY_DELIVERED:
            r->status = OUTBOX_DELIVERED;
            break;
        case DELIVERY_PERMANENT:
            r->status = OUTBOX_DEAD;
            break;
        case DELIVERY_GONE:
            r->status = OUTBOX_HELD;
            break;
        case DELIVERY_RETRY:
            /* Counted from when the attempt ended, not from when its
             * outcome reached the writer. */
            r->status = delivery_next_attempt(schedule, n_schedule, r->attempts + 1,
                                              r->attempt.at + r->attempt.latency_ms, random01(),
                                              r->retry_after_ms, &r->next_attempt_at)
                            ? OUTBOX_FAILED
                            : OUTBOX_DEAD;
            break;
        }
        r->attempt.verdict = delivery_verdict_name(r->verdict);
        bt_err e = store_outbox_record(ctx->conn, r->id, ctx->node_id, &r->attempt, r->status,
                                       r->next_attempt_at, &r->applied, err);
        if (e)
            return e;
        if (!r->applied)
            continue;
        if (strcmp(r->status, OUTBOX_DEAD) == 0)
            log_warn("delivery: message %lld on %s is dead after %lld attempt%s: %s",
                     (long long)r->id, r->channel, (long long)(r->attempts + 1),
                     r->attempts ? "s" : "", r->attempt.error ? r->attempt.error : "refused");
        if ((e = move_breaker(ctx, arena, r->channel, r->verdict, r->attempt.error, err)))
            return e;
    }
    return BT_OK;
}

static bool channel_known(const struct config *cfg, const char *id)
{
    for (size_t i = 0; cfg && i < cfg->delivery.n_channels; i++)
        if (strcmp(cfg->delivery.channels[i].id, id) == 0)
            return true;
    return false;
}

bt_err engine__apply_outbox_admin(struct engine__ctx *ctx, struct outbox_admin_command *cmd,
                                  struct arena *arena, struct bt_error *err)
{
    cmd->count = 0;
    bt_err e;
    if (cmd->action != OUTBOX_ADMIN_RETRY && cmd->channel && !channel_known(cmd->cfg, cmd->channel))
        return bt_fail(err, BT_EINVAL, "channel", "no such channel in the configuration: %s",
                       cmd->channel);
    switch (cmd->action) {
    case OUTBOX_ADMIN_RETRY: {
        bool found, changed;
        if ((e = store_outbox_retry(ctx->conn, cmd->id, ctx->now, &found, &changed, err)))
            return e;
        if (!found)
            return bt_fail(err, BT_ENOTFOUND, "id", "no such delivery: %lld", (long long)cmd->id);
        if (!changed)
            return bt_fail(err, BT_ECONFLICT, "id", "delivery %lld was delivered; nothing to retry",
                           (long long)cmd->id);
        cmd->count = 1;
        if ((e = store_outbox_get(ctx->conn, cmd->id, arena, &cmd->row, err)))
            return e;
        break;
    }
    case OUTBOX_ADMIN_REPLAY:
        if ((e = store_outbox_replay(ctx->conn, cmd->since, cmd->until, cmd->channel,
                                     cmd->statuses ? cmd->statuses : "dead,held", ctx->now,
                                     &cmd->count, err)))
            return e;
        break;
    case OUTBOX_ADMIN_ENABLE:
    case OUTBOX_ADMIN_DISABLE: {
        if (!cmd->channel)
            return bt_fail(err, BT_EINVAL, "channel", "name the channel");
        struct store_delivery_channel st;
        if ((e = channel_state(ctx, arena, cmd->channel, &st, err)))
            return e;
        bool enable = cmd->action == OUTBOX_ADMIN_ENABLE;
        st.breaker = (struct delivery_breaker){.state = enable ? DELIVERY_CHANNEL_ACTIVE
                                                               : DELIVERY_CHANNEL_DISABLED};
        st.changed_at = ctx->now;
        st.reason = arena_printf(arena, "%s by %s", enable ? "enabled" : "disabled",
                                 cmd->actor ? cmd->actor : "an admin");
        if ((e = store_delivery_channel_put(ctx->conn, &st, err)))
            return e;
        e = enable ? store_outbox_replay(ctx->conn, 0, INT64_MAX, cmd->channel, OUTBOX_HELD,
                                         ctx->now, &cmd->count, err)
                   : store_outbox_hold_channel(ctx->conn, cmd->channel, &cmd->count, err);
        if (e)
            return e;
        log_info("delivery: channel %s %s by %s (%lld message%s %s)", cmd->channel,
                 enable ? "enabled" : "disabled", cmd->actor ? cmd->actor : "an admin",
                 (long long)cmd->count, cmd->count == 1 ? "" : "s", enable ? "due" : "held");
        break;
    }
    }
    if (cmd->count && cmd->action != OUTBOX_ADMIN_DISABLE)
        ctx->outbox_due = true;
    return BT_OK;
}

/* ---- tasks ---- */

/* Whether some email channel attaches a meeting proposal. */
static bool wants_invite(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->delivery.n_channels; i++)
        if (cfg->delivery.channels[i].invite)
            return true;
    return false;
}

#define MEETING_LEAD_MS                                                                            \
    (60 * 60 * 1000LL) /* a proposal starts an hour from now at the earliest                       \
                        */
#define MEETING_STEP_MS    (30 * 60 * 1000LL)
#define MEETING_HORIZON_MS (14 * 24 * 60 * 60 * 1000LL)
#define MEETING_BUSY       256

/*
 * A call slot in the rep's next working hours that none of its other
 * proposals overlaps (core/meeting.h), kept as a "meeting" task so that
 * the next proposal avoids it; ctx->meeting carries it to the messages of
 * the lead.assigned that follows. No slot within two weeks: no proposal.
 */
static bt_err propose_meeting(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                              const struct store_assignment *a, const char *who,
                              const char *company, struct bt_error *err)
{
    const struct config *cfg = ctx->cfg;
    const struct config_rep *rep = config_find_rep(cfg, a->rep_id);
    if (!rep || !rep->routing)
        return BT_OK;
    int64_t(*busy)[2] = arena_alloc(arena, MEETING_BUSY * sizeof(*busy));
    size_t n_busy = 0;
    if (!busy)
        return bt_fail(err, BT_ETOOBIG, NULL, "out of memory for meeting slots");
    bt_err e =
        store_task_meetings(ctx->conn, a->rep_id, ctx->now, MEETING_BUSY, busy, &n_busy, err);
    if (e)
        return e;
    struct meeting_interval *iv = arena_alloc(arena, (n_busy + 1) * sizeof(*iv));
    for (size_t i = 0; i < n_busy; i++)
        iv[i] = (struct meeting_interval){busy[i][0], busy[i][1]};
    const struct routing_rep *rr = rep->routing;
    uint64_t minutes = cfg->delivery.meeting_minutes ? cfg->delivery.meeting_minutes : 30;
    struct meeting_request req = {
        .hours = rr->has_hours ? &rr->hours : NULL,
        .tz = rr->tz,
        .holidays = &rr->holidays,
        .now_ms = ctx->now,
        .earliest_ms = ctx->now + MEETING_LEAD_MS,
        .step_ms = MEETING_STEP_MS,
        .duration_ms = (int64_t)minutes * 60 * 1000,
        .horizon_ms = MEETING_HORIZON_MS,
        .busy = iv,
        .n_busy = n_busy,
    };
    struct meeting_interval slot;
    struct bt_error why = BT_ERROR_INIT;
    if (meeting_find_slot(&req, &slot, &why)) {
        log_info("delivery: no meeting slot for %s within 14 days: %s", a->rep_id, why.message);
        return BT_OK;
    }
    struct store_task t = {
        .lead_id = lead->id,
        .assignment_id = a->id,
        .rep_id = a->rep_id,
        .kind = "meeting",
        .title = arena_printf(arena, "Call with %s%s%s%s", who, company ? " (" : "",
                              company ? company : "", company ? ")" : ""),
        .due_at = slot.start_ms,
        .starts_at = slot.start_ms,
        .ends_at = slot.end_ms,
        .created_at = ctx->now,
    };
    if ((e = store_task_insert(ctx->conn, &t, err)))
        return e;
    ctx->meeting.assignment_id = a->id;
    ctx->meeting.task_id = t.id;
    ctx->meeting.start = slot.start_ms;
    ctx->meeting.end = slot.end_ms;
    return BT_OK;
}

bt_err engine__task_for(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                        const struct store_assignment *a, struct bt_error *err)
{
    const struct config *cfg = ctx->cfg;
    if (!cfg || (!a->accept_by && !cfg->delivery.n_channels) ||
        strcmp(a->status, ASSIGNMENT_PENDING) != 0)
        return BT_OK;
    const char *first = lead->attr[LEAD_FIRST_NAME], *last = lead->attr[LEAD_LAST_NAME];
    const char *who = first || last            ? arena_printf(arena, "%s%s%s", first ? first : "",
                                                   first && last ? " " : "", last ? last : "")
                      : lead->attr[LEAD_EMAIL] ? lead->attr[LEAD_EMAIL]
                                               : "the lead";
    const char *company = lead->attr[LEAD_COMPANY];
    const char *title = arena_printf(arena, "Call %s%s%s%s", who, company ? " (" : "",
                                     company ? company : "", company ? ")" : "");
    if (a->accept_by) {
        json_t *when = local_time(config_find_rep(cfg, a->rep_id), a->accept_by);
        /* "before 10:35" on the rep's clock: the local time's hh:mm */
        const char *w = json_string_value(when);
        title = arena_printf(arena, "%s before %.5s (%s)", title, w + 11, w + 17);
        json_decref(when);
    }
    struct store_task t = {
        .lead_id = lead->id,
        .assignment_id = a->id,
        .rep_id = a->rep_id,
        .kind = "contact",
        .title = title,
        .due_at = a->accept_by,
        .created_at = ctx->now,
    };
    bt_err e = store_task_insert(ctx->conn, &t, err);
    if (e || !wants_invite(cfg))
        return e;
    return propose_meeting(ctx, arena, lead, a, who, company, err);
}

bt_err engine__apply_task_done(struct engine__ctx *ctx, struct task_done_command *cmd,
                               struct arena *arena, struct bt_error *err)
{
    struct store_task t;
    bt_err e = store_task_get(ctx->conn, cmd->id, arena, &t, err);
    if (e)
        return e;
    if (cmd->as_rep && strcmp(cmd->as_rep, t.rep_id) != 0)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such task: %lld", (long long)cmd->id);
    if (t.done_at)
        return bt_fail(err, BT_ECONFLICT, "id", "task %lld is done already (%s)",
                       (long long)cmd->id, t.done_by ? t.done_by : "done");
    cmd->contacted = false;
    if (strcmp(t.kind, "contact") == 0 && t.assignment_id) {
        struct store_assignment a;
        if ((e = store_assignment_get(ctx->conn, t.assignment_id, arena, &a, err)))
            return e;
        /* Calling the lead is the first contact; a rep who calls before
         * pressing Accept has accepted it. */
        bool pending = strcmp(a.status, ASSIGNMENT_PENDING) == 0;
        if (pending || strcmp(a.status, ASSIGNMENT_ACCEPTED) == 0) {
            for (int step = pending ? 0 : 1; step < 2; step++) {
                struct assignment_command ac = {
                    .cfg = cmd->cfg,
                    .id = a.id,
                    .action = step == 0 ? ASSIGNMENT_ACT_ACCEPT : ASSIGNMENT_ACT_CONTACTED,
                    .as_rep = a.rep_id,
                    .actor = cmd->actor,
                    .reason = "task done",
                };
                if ((e = engine__apply_assignment(ctx, &ac, arena, err)))
                    return e;
            }
            cmd->contacted = true;
        }
    }
    /* The contact itself may have completed it (the tasks_contacted trigger). */
    if ((e = store_task_get(ctx->conn, cmd->id, arena, &cmd->result, err)))
        return e;
    if (!cmd->result.done_at) {
        if ((e = store_task_done(ctx->conn, cmd->id, ctx->now, cmd->actor, err)))
            return e;
        e = store_task_get(ctx->conn, cmd->id, arena, &cmd->result, err);
    }
    return e;
}

/* ---- submitters ---- */

bt_err engine_outbox_claim(struct engine *e, struct outbox_claim *claims, size_t n,
                           int64_t lease_ms, struct arena *arena, struct bt_error *err)
{
    struct engine__outbox_claim cmd = {.claims = claims, .n = n, .lease_ms = lease_ms};
    struct engine__command c = {
        .kind = ENGINE__OUTBOX_CLAIM, .arena = arena, .u.outbox_claim = &cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_outbox_report(struct engine *e, const struct config *cfg, struct outbox_result *r,
                            size_t n, struct arena *arena, struct bt_error *err)
{
    struct engine__outbox_report cmd = {.cfg = cfg, .results = r, .n = n};
    struct engine__command c = {
        .kind = ENGINE__OUTBOX_REPORT, .arena = arena, .u.outbox_report = &cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_outbox_admin(struct engine *e, struct outbox_admin_command *cmd, struct arena *arena,
                           struct bt_error *err)
{
    struct engine__command c = {
        .kind = ENGINE__OUTBOX_ADMIN, .arena = arena, .u.outbox_admin = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_task_done(struct engine *e, struct task_done_command *cmd, struct arena *arena,
                        struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__TASK_DONE, .arena = arena, .u.task_done = cmd};
    return engine__submit(e, &c, err);
}
