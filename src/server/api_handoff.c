/*
 * api_handoff.c - assignments over HTTP: a lead's history, a rep's inbox,
 * a manager's view of what is about to breach, and the actions on one
 * assignment (docs/handoff.md, docs/api.md "Handoff").
 *
 * Who sees what: an admin key every assignment; a rep key its own and those
 * of the reps it manages (its own `manager`, or its team's), another's
 * being answered as not found; acting on another rep's assignment is a 403
 * from the engine. Every change goes through engine_assignment_act().
 */
#include "engine/engine.h"
#include "server/http.h"
#include "store/store_handoff.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX        1000 /* characters of a rejection note */
#define REASON_MAX      1000 /* characters of a manager's reason */
#define BREACHING_MAX_S (90LL * 24 * 3600)

/* The clock's deadline now running: accept_by while pending, contact_by
 * while accepted and not contacted; 0 when none. */
static int64_t running_deadline(const struct store_assignment *a, const char **kind)
{
    *kind = NULL;
    if (a->closed_at)
        return 0;
    if ((!strcmp(a->status, ASSIGNMENT_PENDING) || !strcmp(a->status, ASSIGNMENT_OFFERED)) &&
        a->accept_by) {
        *kind = "accept";
        return a->accept_by;
    }
    if (!strcmp(a->status, ASSIGNMENT_ACCEPTED) && a->contact_by) {
        *kind = "contact";
        return a->contact_by;
    }
    return 0;
}

static json_t *maybe_time(int64_t ms)
{
    return ms ? time_to_json(ms) : json_null();
}

static json_t *assignment_json(const struct store_assignment *a, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "lead", json_integer(a->lead_id));
    json_object_set_new(o, "rep", json_string(a->rep_id));
    json_object_set_new(o, "attempt", json_integer(a->attempt));
    json_object_set_new(o, "status", json_string(a->status));
    json_object_set_new(o, "pool", text_to_json(a->pool_id));
    json_object_set_new(o, "rule", text_to_json(a->rule));
    json_object_set_new(o, "decision", a->decision_id ? json_integer(a->decision_id) : json_null());
    json_object_set_new(o, "policy", text_to_json(a->policy));
    json_object_set_new(o, "clock", text_to_json(a->clock));
    json_object_set_new(o, "assigned_at", time_to_json(a->assigned_at));
    json_object_set_new(o, "accept_by", maybe_time(a->accept_by));
    json_object_set_new(o, "accepted_at", maybe_time(a->accepted_at));
    json_object_set_new(o, "contact_by", maybe_time(a->contact_by));
    json_object_set_new(o, "contacted_at", maybe_time(a->contacted_at));
    json_object_set_new(o, "breached_at", maybe_time(a->breached_at));
    json_object_set_new(o, "closed_at", maybe_time(a->closed_at));
    json_object_set_new(o, "closed_by", text_to_json(a->closed_by));
    json_object_set_new(o, "close_reason", text_to_json(a->close_reason));
    json_object_set_new(o, "note", text_to_json(a->note));
    json_object_set_new(o, "next", text_to_json(a->successor));
    json_object_set_new(o, "reminders_sent", json_integer(a->reminders_sent));
    const char *kind;
    int64_t due = running_deadline(a, &kind);
    json_object_set_new(o, "deadline", text_to_json(kind));
    /* Wall seconds to the running deadline; negative once it has passed. */
    json_object_set_new(o, "time_left_seconds",
                        due ? json_integer((due - now) / 1000 - ((due - now) % 1000 < 0))
                            : json_null());
    return o;
}

static json_t *item(const void *rows, size_t i, int64_t now)
{
    return assignment_json(&((const struct store_assignment *)rows)[i], now);
}

/* reply_page's callbacks have no context: the list's `now` is kept here
 * for the one reply being built on this thread. */
static _Thread_local int64_t page_now;

static json_t *page_item(const void *rows, size_t i)
{
    return item(rows, i, page_now);
}

/* Cursors: "ID" for lists newest first, "ACCEPT_BY_MS:ID" for the urgency
 * order of open ones (accept_by 0: none). */
static json_t *id_cursor(const void *rows, size_t i)
{
    char cur[48];
    snprintf(cur, sizeof(cur), "%lld", (long long)((const struct store_assignment *)rows)[i].id);
    return json_string(cur);
}

static json_t *urgency_cursor(const void *rows, size_t i)
{
    const struct store_assignment *a = &((const struct store_assignment *)rows)[i];
    char cur[48];
    snprintf(cur, sizeof(cur), "%lld:%lld", (long long)a->accept_by, (long long)a->id);
    return json_string(cur);
}

static bool parse_cursor(const char *v, bool urgency, int64_t *accept_by, int64_t *id)
{
    if (!urgency)
        return parse_count(v, 1, INT64_MAX, id);
    const char *colon = strchr(v, ':');
    if (!colon || colon - v > 18)
        return false;
    char head[20];
    memcpy(head, v, (size_t)(colon - v));
    head[colon - v] = '\0';
    return parse_count(head, 0, INT64_MAX, accept_by) && parse_count(colon + 1, 1, INT64_MAX, id);
}

/* "10m", "2h", "90s", "1d", or a number of seconds. */
static bool parse_duration_s(const char *v, int64_t *out)
{
    char *end;
    if (!*v || *v < '0' || *v > '9' || strlen(v) > 12)
        return false;
    long long n = strtoll(v, &end, 10);
    long long unit = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    if (*end || n < 0 || n > BREACHING_MAX_S / unit)
        return false;
    *out = n * unit;
    return true;
}

static bool is_status_name(const char *s)
{
    static const char *const names[] = {
        ASSIGNMENT_PENDING,    ASSIGNMENT_OFFERED,   ASSIGNMENT_ACCEPTED,
        ASSIGNMENT_CONTACTED,  ASSIGNMENT_REJECTED,  ASSIGNMENT_EXPIRED,
        ASSIGNMENT_REASSIGNED, ASSIGNMENT_WITHDRAWN, "open"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(names[i], s))
            return true;
    return false;
}

struct list_query {
    struct request *r;
    struct store_assignment_filter f;
    int64_t limit;
    const char *cursor;
    const char *team;
    bool lead_list; /* /v1/leads/{id}/assignments: limit and cursor only */
    bool rep_list;  /* /v1/reps/{name}/assignments: no rep or team */
    const char *bad, *why;
};

static int list_arg(void *cls, const char *k, const char *v)
{
    struct list_query *q = cls;
    q->bad = k;
    if (!utf8_valid(v, strlen(v)) || text_has_control(v)) {
        q->why = "is not valid text";
        return 1;
    }
    if (!strcmp(k, "limit")) {
        q->why = "must be an integer from 1 to 500";
        return !parse_count(v, 1, PAGE_MAX_LIMIT, &q->limit);
    }
    if (!strcmp(k, "cursor")) {
        q->cursor = v;
        return 0;
    }
    if (!q->lead_list && !strcmp(k, "status")) {
        q->why = "must be one of pending, offered, accepted, contacted, rejected, expired, "
                 "reassigned, withdrawn or open";
        if (!is_status_name(v))
            return 1;
        q->f.status = v;
        return 0;
    }
    if (!q->lead_list && !strcmp(k, "breaching_within")) {
        int64_t s;
        q->why = "must be a duration such as 10m, 2h or 600 (seconds), at most 90 days";
        if (!parse_duration_s(v, &s))
            return 1;
        q->f.due_before = (int64_t)s * 1000; /* made absolute by the caller */
        return 0;
    }
    if (!q->lead_list && !q->rep_list && !strcmp(k, "rep")) {
        q->why = "must be the id of a rep";
        if (routing_find_rep(&q->r->cfg->routing, v) < 0)
            return 1;
        q->f.rep_id = v;
        return 0;
    }
    if (!q->lead_list && !q->rep_list && !strcmp(k, "team")) {
        q->team = v;
        return 0;
    }
    q->why = q->lead_list  ? "is not a parameter of this endpoint (limit, cursor)"
             : q->rep_list ? "is not a parameter of this endpoint (status, breaching_within, "
                             "limit, cursor)"
                           : "is not a parameter of this endpoint (status, rep, team, "
                             "breaching_within, limit, cursor)";
    return 1;
}

static bool urgency_order(const struct store_assignment_filter *f)
{
    return f->status && (!strcmp(f->status, "open") || !strcmp(f->status, ASSIGNMENT_PENDING) ||
                         !strcmp(f->status, ASSIGNMENT_OFFERED));
}

/* Reads the query; false with the reply set. */
static bool read_query(struct request *r, struct list_query *q)
{
    q->r = r;
    q->limit = PAGE_DEFAULT_LIMIT;
    if (request_query_each(r, list_arg, q)) {
        reply_error(r, 400, "invalid", q->bad, "query parameter '%.64s' %s", q->bad, q->why);
        return false;
    }
    if (q->f.due_before) {
        q->f.due_before += clock_now(r->ctx->clock);
        if (!q->f.status)
            q->f.status = ASSIGNMENT_PENDING;
    }
    if (q->cursor && !parse_cursor(q->cursor, !q->lead_list && urgency_order(&q->f),
                                   &q->f.after_accept_by, &q->f.after_id)) {
        reply_error(r, 400, "invalid", "cursor",
                    "query parameter 'cursor' is not a cursor this "
                    "server gave out for this list");
        return false;
    }
    q->f.limit = (unsigned)q->limit + 1;
    return true;
}

static void reply_list(struct request *r, const struct list_query *q)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_assignment *rows;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_assignment_list(c, &q->f, &r->arena, &rows, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    page_now = clock_now(r->ctx->clock);
    reply_page(r, rows, n, (size_t)q->limit, page_item,
               urgency_order(&q->f) ? urgency_cursor : id_cursor);
}

void api_assignment_list(struct request *r)
{
    struct list_query q = {0};
    if (!read_query(r, &q))
        return;
    const struct config *cfg = r->cfg;
    if (q.f.rep_id && !request_sees_rep(r, q.f.rep_id)) {
        reply_error(r, 403, "forbidden", "rep",
                    "a rep key sees only its own assignments and those of the reps it manages");
        return;
    }
    const char **ids = NULL;
    size_t n_ids = 0;
    if (q.team) {
        bool known = false;
        for (size_t i = 0; i < cfg->n_teams; i++)
            known |= !strcmp(cfg->teams[i].id, q.team);
        if (!known) {
            reply_error(r, 400, "invalid", "team", "query parameter 'team' names no team");
            return;
        }
    }
    if (q.team || r->role == ROLE_REP) {
        /* The reps of the team and/or the ones a rep key may see. */
        ids = arena_alloc_raw(&r->arena, (cfg->n_reps ? cfg->n_reps : 1) * sizeof(*ids));
        if (!ids) {
            reply_error(r, 500, "internal", NULL, "out of memory");
            return;
        }
        for (size_t i = 0; i < cfg->n_reps; i++) {
            const struct config_rep *rep = &cfg->reps[i];
            if (q.team && (!rep->team || strcmp(rep->team, q.team) != 0))
                continue;
            if (!request_sees_rep(r, rep->id))
                continue;
            ids[n_ids++] = rep->id;
        }
        if (!n_ids) {
            page_now = 0;
            reply_page(r, NULL, 0, (size_t)q.limit, page_item, id_cursor);
            return;
        }
        q.f.rep_ids = ids;
        q.f.n_rep_ids = n_ids;
    }
    reply_list(r, &q);
}

void api_rep_assignments(struct request *r)
{
    if (r->role == ROLE_REP && !request_sees_rep(r, r->name)) {
        reply_error(r, 403, "forbidden", "id",
                    "a rep key sees only its own assignments and those of the reps it manages");
        return;
    }
    if (routing_find_rep(&r->cfg->routing, r->name) < 0) {
        reply_error(r, 404, "not_found", "id", "no such rep: %.128s", r->name);
        return;
    }
    struct list_query q = {.rep_list = true};
    if (!read_query(r, &q))
        return;
    q.f.rep_id = r->name;
    reply_list(r, &q);
}

void api_lead_assignments(struct request *r)
{
    struct list_query q = {.lead_list = true};
    if (!read_query(r, &q))
        return;
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    if (!request_lead(r, c, &lead)) {
        store_reader_release(r->ctx->store, c);
        return;
    }
    struct store_assignment *rows;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc =
        store_assignment_list_lead(c, r->id, q.f.after_id, q.f.limit, &r->arena, &rows, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    page_now = clock_now(r->ctx->clock);
    /* oldest first: the cursor is the last id, and the store reads after it */
    reply_page(r, rows, n, (size_t)q.limit, page_item, id_cursor);
}

/* The assignment of the path as the caller may see it; false with a reply. */
static bool path_assignment(struct request *r, struct store_assignment *a)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such assignment: ids are positive integers");
        return false;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return false;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_assignment_get(c, r->id, &r->arena, a, &err);
    store_reader_release(r->ctx->store, c);
    if (!rc && !request_sees_rep(r, a->rep_id))
        rc = bt_fail(&err, BT_ENOTFOUND, "id", "no such assignment: %lld", (long long)r->id);
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    return true;
}

void api_assignment_get(struct request *r)
{
    struct store_assignment a;
    if (!path_assignment(r, &a))
        return;
    json_t *out = assignment_json(&a, clock_now(r->ctx->clock));
    /* The one-click link is the rep's credential for this assignment: for
     * the rep itself and admins (a manager acts through the API). */
    const char *link = NULL;
    struct store_conn *c;
    bool own = r->role != ROLE_REP || !strcmp(r->key.rep_id, a.rep_id);
    if (own && r->cfg->public_url && !a.closed_at && request_reader(r, &c)) {
        link = api_link_make(r, c, &a);
        store_reader_release(r->ctx->store, c);
    } else if (own && r->cfg->public_url && !a.closed_at) {
        json_decref(out);
        return; /* request_reader replied */
    }
    json_object_set_new(out, "link", text_to_json(link));
    reply_json(r, 200, out);
}

static bool get_text(struct request *r, json_t *v, size_t max, const char **out)
{
    if (json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (!s || !utf8_valid(s, strlen(s)) || utf8_length(s) > max || text_has_control(s))
        return false;
    *out = arena_strdup(&r->arena, s);
    return true;
}

/* The body of an action: which fields each action takes. */
static bool read_action(struct request *r, struct assignment_command *cmd)
{
    bool reject = cmd->action == ASSIGNMENT_ACT_REJECT;
    bool manager = cmd->action == ASSIGNMENT_ACT_REASSIGN || cmd->action == ASSIGNMENT_ACT_WITHDRAW;
    const char *fields = reject ? "reason and note"
                         : manager
                             ? (cmd->action == ASSIGNMENT_ACT_REASSIGN ? "to and reason" : "reason")
                             : "no fields";
    if (!r->body_len) {
        if (reject) {
            reply_error(r, 422, "invalid", "reason",
                        "reason is required: one of the configured reject reasons");
            return false;
        }
        return true;
    }
    json_t *o = request_json(r);
    if (!o)
        return false;
    if (!json_is_object(o)) {
        json_decref(o);
        reply_error(r, 422, "invalid", NULL, "the body must be a JSON object");
        return false;
    }
    const char *bad = NULL, *why = NULL, *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (reject && !strcmp(key, "reason")) {
            if (!json_is_string(v) || !get_text(r, v, 64, &cmd->reason))
                bad = key, why = "reason must be the id of a reject reason";
        } else if (reject && !strcmp(key, "note")) {
            if (!get_text(r, v, NOTE_MAX, &cmd->note))
                bad = key, why = "note must be text of at most 1000 characters";
        } else if (manager && !strcmp(key, "reason")) {
            if (!get_text(r, v, REASON_MAX, &cmd->reason))
                bad = key, why = "reason must be text of at most 1000 characters";
        } else if (cmd->action == ASSIGNMENT_ACT_REASSIGN && !strcmp(key, "to")) {
            if (!json_is_null(v) && (!json_is_string(v) ||
                                     routing_find_rep(&r->cfg->routing, json_string_value(v)) < 0))
                bad = key,
                why = json_is_string(v)
                          ? arena_printf(&r->arena, "no such rep: %.128s", json_string_value(v))
                          : "to must be the id of a rep, or null to route again";
            else if (json_is_string(v))
                cmd->to_rep = arena_strdup(&r->arena, json_string_value(v));
        } else {
            bad = key;
            why = arena_printf(&r->arena, "unknown field '%.64s'; %s takes %s", key,
                               assignment_action_name(cmd->action), fields);
        }
    }
    if (bad)
        bad = arena_strdup(&r->arena, bad);
    json_decref(o);
    if (!bad && reject && !cmd->reason)
        bad = "reason", why = "reason is required: one of the configured reject reasons";
    if (bad) {
        reply_error(r, 422, "invalid", bad, "%s", why);
        return false;
    }
    return true;
}

static void act(struct request *r, enum assignment_action action)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such assignment: ids are positive integers");
        return;
    }
    struct assignment_command cmd = {
        .cfg = r->cfg,
        .id = r->id,
        .action = action,
        .as_rep = r->role == ROLE_REP ? r->key.rep_id : NULL,
        .actor = request_actor(r),
    };
    if (r->role == ROLE_REP && !r->key.rep_id) {
        reply_error(r, 403, "forbidden", NULL, "this rep key names no rep");
        return;
    }
    if (!read_action(r, &cmd))
        return;
    struct bt_error err = BT_ERROR_INIT;
    if (engine_assignment_act(r->ctx->engine, &cmd, &r->arena, &err)) {
        if (err.code == BT_ENOTFOUND && !err.field[0])
            snprintf(err.field, sizeof(err.field), "id");
        reply_bt_error(r, &err);
        return;
    }
    json_t *out = assignment_json(&cmd.result, clock_now(r->ctx->clock));
    json_object_set_new(out, "lead_stage",
                        json_string(cmd.lead.attr[LEAD_STAGE] ? cmd.lead.attr[LEAD_STAGE] : "new"));
    reply_json(r, 200, out);
}

void api_assignment_accept(struct request *r)
{
    act(r, ASSIGNMENT_ACT_ACCEPT);
}

void api_assignment_reject(struct request *r)
{
    act(r, ASSIGNMENT_ACT_REJECT);
}

void api_assignment_contacted(struct request *r)
{
    act(r, ASSIGNMENT_ACT_CONTACTED);
}

void api_assignment_reassign(struct request *r)
{
    act(r, ASSIGNMENT_ACT_REASSIGN);
}

void api_assignment_withdraw(struct request *r)
{
    act(r, ASSIGNMENT_ACT_WITHDRAW);
}

void api_reject_reasons(struct request *r)
{
    const struct sla_config *sla = &r->cfg->sla;
    const struct sla_reject_reason *list =
        sla->n_reject_reasons ? sla->reject_reasons : sla_default_reject_reasons;
    size_t n = sla->n_reject_reasons ? sla->n_reject_reasons : sla_n_default_reject_reasons;
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, json_pack("{s:s, s:s, s:s}", "id", list[i].id, "label",
                                              list[i].label ? list[i].label : list[i].id, "action",
                                              sla_reject_action_name(list[i].action)));
    reply_json(r, 200,
               json_pack("{s:o, s:I}", "data", data, "rejections_per_day",
                         (json_int_t)sla->rejections_per_day));
}
