/*
 * api_deliver.c - the outbox and the reps' tasks over HTTP (docs/delivery.md,
 * docs/api.md "Delivery"): the messages Baton owes someone and every attempt
 * at sending them, an admin's retry and replay, the channels' breakers with
 * their enable and disable, and a rep's follow-up tasks.
 *
 * Reads go to the store on a pooled reader; every change goes through the
 * engine (engine_outbox_admin, engine_task_done) so that it commits with its
 * events and wakes the delivery worker. The outbox is an admin's: the
 * payloads name leads and reps. Tasks follow the assignments' rule: a rep key
 * sees its own and those of the reps it manages (another's list is a 403,
 * as for GET /v1/reps/{name}/assignments) and completes only its own
 * (another's task is a 404, from the engine).
 */
#include "engine/engine.h"
#include "server/http.h"
#include "store/store_outbox.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPTS_SHOWN 100 /* attempts in one delivery's detail */
#define CHANNEL_ID_MAX 64

static json_t *maybe_time(int64_t ms)
{
    return ms ? time_to_json(ms) : json_null();
}

static json_t *maybe_int(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *delivery_json(const struct store_outbox_row *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "uid", json_string(m->uid));
    json_object_set_new(o, "channel", json_string(m->channel));
    json_object_set_new(o, "event_type", json_string(m->event_type));
    json_object_set_new(o, "event_id", maybe_int(m->event_id));
    json_object_set_new(o, "lead", maybe_int(m->lead_id));
    json_object_set_new(o, "recipient", text_to_json(m->recipient));
    json_object_set_new(o, "status", json_string(m->status));
    json_object_set_new(o, "attempts", json_integer(m->attempts));
    json_object_set_new(o, "next_attempt_at", maybe_time(m->next_attempt_at));
    json_object_set_new(o, "created_at", time_to_json(m->created_at));
    json_object_set_new(o, "delivered_at", maybe_time(m->delivered_at));
    json_object_set_new(o, "last_status", maybe_int(m->last_status));
    json_object_set_new(o, "last_error", text_to_json(m->last_error));
    return o;
}

static json_t *attempt_json(const struct store_delivery_attempt *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "at", time_to_json(a->at));
    json_object_set_new(o, "latency_ms", json_integer(a->latency_ms));
    json_object_set_new(o, "status", maybe_int(a->status));
    json_object_set_new(o, "verdict", text_to_json(a->verdict));
    json_object_set_new(o, "error", text_to_json(a->error));
    /* The answer's first bytes may be cut inside a character or hold
     * control bytes: shown as text only when they are valid UTF-8. */
    const char *resp = a->response;
    json_object_set_new(o, "response",
                        resp && utf8_valid(resp, strlen(resp)) ? json_string(resp) : json_null());
    return o;
}

static json_t *page_item(const void *rows, size_t i)
{
    return delivery_json(&((const struct store_outbox_row *)rows)[i]);
}

static json_t *id_cursor(const void *rows, size_t i)
{
    char cur[24];
    snprintf(cur, sizeof(cur), "%lld", (long long)((const struct store_outbox_row *)rows)[i].id);
    return json_string(cur);
}

/* A channel id as the configuration spells them: [a-z0-9][a-z0-9_-]*. */
static bool channel_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > CHANNEL_ID_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

static const struct config_channel *config_channel(const struct config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->delivery.n_channels; i++)
        if (!strcmp(cfg->delivery.channels[i].id, id))
            return &cfg->delivery.channels[i];
    return NULL;
}

static bool is_outbox_status(const char *s)
{
    for (size_t i = 0; i < OUTBOX_STATUSES; i++)
        if (!strcmp(outbox_statuses[i], s))
            return true;
    return false;
}

/* ---- GET /v1/deliveries ---- */

struct delivery_query {
    struct store_outbox_filter f;
    int64_t limit;
    const char *bad, *why;
};

static int delivery_arg(void *cls, const char *k, const char *v)
{
    struct delivery_query *q = cls;
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
        q->why = "is not a cursor this server gave out for this list";
        return !parse_count(v, 1, INT64_MAX, &q->f.before);
    }
    if (!strcmp(k, "status")) {
        q->why = "must be one of pending, failed, delivered, dead or held";
        q->f.status = v;
        return !is_outbox_status(v);
    }
    if (!strcmp(k, "channel")) {
        /* any well-formed id: a channel gone from the configuration keeps
         * its messages (held) */
        q->why = "must be a channel id ([a-z0-9][a-z0-9_-]*, at most 64 characters)";
        q->f.channel = v;
        return !channel_id_valid(v);
    }
    if (!strcmp(k, "lead")) {
        q->why = "must be the id of a lead (a positive integer)";
        return !parse_count(v, 1, INT64_MAX, &q->f.lead_id);
    }
    q->why = "is not a parameter of this endpoint (status, channel, lead, limit, cursor)";
    return 1;
}

void api_delivery_list(struct request *r)
{
    struct delivery_query q = {.limit = PAGE_DEFAULT_LIMIT};
    if (request_query_each(r, delivery_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%.64s' %s", q.bad, q.why);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_outbox_row *rows;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_outbox_list(c, &q.f, (unsigned)q.limit + 1, &r->arena, &rows, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    reply_page(r, rows, n, (size_t)q.limit, page_item, id_cursor);
}

/* ---- GET /v1/deliveries/{id} ---- */

void api_delivery_get(struct request *r)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such delivery: ids are positive integers");
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_outbox_row m;
    struct store_delivery_attempt *attempts = NULL;
    size_t n = 0;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_outbox_get(c, r->id, &r->arena, &m, &err);
    if (!rc)
        rc = store_delivery_attempts(c, r->id, ATTEMPTS_SHOWN, &r->arena, &attempts, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    json_t *out = delivery_json(&m);
    json_t *payload = json_loads(m.payload, JSON_REJECT_DUPLICATES, NULL);
    json_object_set_new(out, "payload", json_is_object(payload) ? payload : json_null());
    if (payload && !json_is_object(payload))
        json_decref(payload);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, attempt_json(&attempts[i]));
    /* in the detail, `attempts` is the attempts themselves */
    json_object_set_new(out, "attempts", list);
    reply_json(r, 200, out);
}

/* ---- bodies ---- */

/* An action's body that takes no fields: none, or {}. False with a reply. */
static bool read_no_fields(struct request *r, const char *action)
{
    if (!r->body_len)
        return true;
    json_t *o = request_json(r);
    if (!o)
        return false;
    if (!json_is_object(o)) {
        json_decref(o);
        reply_error(r, 422, "invalid", NULL, "the body must be a JSON object");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        (void)v;
        char *bad = arena_strdup(&r->arena, key);
        json_decref(o);
        reply_error(r, 422, "invalid", bad, "unknown field '%.64s'; %s takes no fields", bad,
                    action);
        return false;
    }
    json_decref(o);
    return true;
}

/* ---- POST /v1/deliveries/{id}/retry ---- */

void api_delivery_retry(struct request *r)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such delivery: ids are positive integers");
        return;
    }
    if (!read_no_fields(r, "retry"))
        return;
    struct outbox_admin_command cmd = {
        .cfg = r->cfg,
        .action = OUTBOX_ADMIN_RETRY,
        .id = r->id,
        .actor = request_actor(r),
    };
    struct bt_error err = BT_ERROR_INIT;
    if (engine_outbox_admin(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200, delivery_json(&cmd.row));
}

/* ---- POST /v1/deliveries/replay ---- */

/* The statuses a replay may pick (a delivered message is never sent again). */
static const char *const replayable[] = {OUTBOX_DEAD, OUTBOX_HELD, OUTBOX_FAILED, OUTBOX_PENDING};
#define N_REPLAYABLE (sizeof(replayable) / sizeof(replayable[0]))

static bool read_time(json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    return s && strlen(s) <= 64 && time_parse_rfc3339(s, out);
}

/* The statuses list as "dead,held"; NULL (with *why set) when it is not a
 * non-empty list of replayable statuses. */
static const char *read_statuses(struct request *r, json_t *v, const char **why)
{
    *why = "statuses must be a non-empty list of dead, held, failed and pending";
    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > 16)
        return NULL;
    bool picked[N_REPLAYABLE] = {false};
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        const char *name = json_string_value(s);
        size_t k = 0;
        while (name && k < N_REPLAYABLE && strcmp(replayable[k], name) != 0)
            k++;
        if (!name || k == N_REPLAYABLE)
            return NULL;
        picked[k] = true;
    }
    const char *joined = NULL;
    for (size_t k = 0; k < N_REPLAYABLE; k++)
        if (picked[k])
            joined =
                joined ? arena_printf(&r->arena, "%s,%s", joined, replayable[k]) : replayable[k];
    return joined;
}

void api_delivery_replay(struct request *r)
{
    json_t *o = request_json(r);
    if (!o)
        return;
    if (!json_is_object(o)) {
        json_decref(o);
        reply_error(r, 422, "invalid", NULL, "the body must be a JSON object");
        return;
    }
    struct outbox_admin_command cmd = {
        .cfg = r->cfg, .action = OUTBOX_ADMIN_REPLAY, .actor = request_actor(r)};
    bool have_since = false, have_until = false;
    const char *bad = NULL, *why = NULL, *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (!strcmp(key, "since")) {
            if (!(have_since = read_time(v, &cmd.since)))
                bad = key, why = "since must be an RFC 3339 time (2026-11-24T09:00:00Z)";
        } else if (!strcmp(key, "until")) {
            if (!(have_until = read_time(v, &cmd.until)))
                bad = key, why = "until must be an RFC 3339 time (2026-11-24T10:00:00Z)";
        } else if (!strcmp(key, "channel")) {
            const char *s = json_string_value(v);
            if (json_is_null(v))
                continue;
            if (!s || !channel_id_valid(s))
                bad = key, why = "channel must be the id of a channel of the configuration";
            else if (!config_channel(r->cfg, s))
                bad = key, why = arena_printf(&r->arena, "no such channel: %s", s);
            else
                cmd.channel = arena_strdup(&r->arena, s);
        } else if (!strcmp(key, "statuses")) {
            if (!(cmd.statuses = read_statuses(r, v, &why)))
                bad = key;
        } else {
            bad = key;
            why = arena_printf(&r->arena,
                               "unknown field '%.64s'; replay takes since, until, channel and "
                               "statuses",
                               key);
        }
    }
    if (bad)
        bad = arena_strdup(&r->arena, bad);
    json_decref(o);
    if (!bad && !have_since)
        bad = "since", why = "since is required: the start of the span (RFC 3339)";
    if (!bad && !have_until)
        bad = "until", why = "until is required: the end of the span (RFC 3339)";
    if (!bad && cmd.since >= cmd.until)
        bad = "until", why = "until must be after since";
    if (bad) {
        reply_error(r, 422, "invalid", bad, "%s", why);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    if (engine_outbox_admin(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200, json_pack("{s:I}", "replayed", (json_int_t)cmd.count));
}

/* ---- GET /v1/deliveries/channels ---- */

static json_t *channel_json(const struct config_channel *ch,
                            const struct store_delivery_channel *st,
                            const int64_t counts[OUTBOX_STATUSES], int64_t oldest)
{
    struct delivery_breaker none = {.state = DELIVERY_CHANNEL_ACTIVE};
    const struct delivery_breaker *b = st ? &st->breaker : &none;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(ch->id));
    json_object_set_new(o, "type", json_string(delivery_channel_type_name(ch->type)));
    json_object_set_new(o, "state", json_string(delivery_channel_state_name(b->state)));
    json_object_set_new(o, "failures", json_integer(b->failures));
    json_object_set_new(o, "failing_since", maybe_time(b->failing_since));
    json_object_set_new(o, "next_probe_at", maybe_time(b->next_probe_at));
    json_object_set_new(o, "changed_at", maybe_time(st ? st->changed_at : 0));
    json_object_set_new(o, "reason", text_to_json(st ? st->reason : NULL));
    json_object_set_new(o, "counts",
                        json_pack("{s:I, s:I, s:I, s:I}", "pending", (json_int_t)counts[0],
                                  "failed", (json_int_t)counts[1], "dead", (json_int_t)counts[3],
                                  "held", (json_int_t)counts[4]));
    json_object_set_new(o, "oldest_waiting", maybe_time(oldest));
    return o;
}

static int no_query(void *cls, const char *key, const char *value)
{
    (void)value;
    *(const char **)cls = key;
    return 1;
}

void api_delivery_channels(struct request *r)
{
    const char *bad = NULL;
    if (request_query_each(r, no_query, &bad)) {
        reply_error(r, 400, "invalid", bad,
                    "query parameter '%.64s' is not known: this list takes none", bad);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_delivery_channel *stored = NULL;
    size_t n_stored = 0;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_delivery_channel_list(c, &r->arena, &stored, &n_stored, &err);
    const struct config_delivery *d = &r->cfg->delivery;
    json_t *data = json_array();
    for (size_t i = 0; !rc && i < d->n_channels; i++) {
        const struct config_channel *ch = &d->channels[i];
        int64_t counts[OUTBOX_STATUSES] = {0}, oldest = 0;
        rc = store_outbox_counts(c, ch->id, counts, &oldest, &err);
        const struct store_delivery_channel *st = NULL;
        for (size_t k = 0; k < n_stored && !st; k++)
            if (!strcmp(stored[k].id, ch->id))
                st = &stored[k];
        if (!rc)
            json_array_append_new(data, channel_json(ch, st, counts, oldest));
    }
    store_reader_release(r->ctx->store, c);
    if (rc) {
        json_decref(data);
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200, json_pack("{s:o}", "data", data));
}

/* ---- POST /v1/deliveries/channels/{name}/enable, /disable ---- */

static void channel_act(struct request *r, bool enable)
{
    const struct config_channel *ch = r->name[0] ? config_channel(r->cfg, r->name) : NULL;
    if (!ch) {
        reply_error(r, 404, "not_found", "id", "no such channel in the configuration: %.64s",
                    r->name);
        return;
    }
    if (!read_no_fields(r, enable ? "enable" : "disable"))
        return;
    struct outbox_admin_command cmd = {
        .cfg = r->cfg,
        .action = enable ? OUTBOX_ADMIN_ENABLE : OUTBOX_ADMIN_DISABLE,
        .channel = ch->id,
        .actor = request_actor(r),
    };
    struct bt_error err = BT_ERROR_INIT;
    if (engine_outbox_admin(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:I}", "channel", ch->id, "state",
                         delivery_channel_state_name(enable ? DELIVERY_CHANNEL_ACTIVE
                                                            : DELIVERY_CHANNEL_DISABLED),
                         "messages", (json_int_t)cmd.count));
}

void api_delivery_channel_enable(struct request *r)
{
    channel_act(r, true);
}

void api_delivery_channel_disable(struct request *r)
{
    channel_act(r, false);
}

/* ---- tasks ---- */

static json_t *task_json(const struct store_task *t, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "lead", json_integer(t->lead_id));
    json_object_set_new(o, "assignment", maybe_int(t->assignment_id));
    json_object_set_new(o, "rep", json_string(t->rep_id));
    json_object_set_new(o, "kind", json_string(t->kind));
    json_object_set_new(o, "title", json_string(t->title));
    json_object_set_new(o, "due_at", maybe_time(t->due_at));
    json_object_set_new(o, "overdue", json_boolean(!t->done_at && t->due_at && t->due_at < now));
    json_object_set_new(o, "starts_at", maybe_time(t->starts_at));
    json_object_set_new(o, "ends_at", maybe_time(t->ends_at));
    json_object_set_new(o, "created_at", time_to_json(t->created_at));
    json_object_set_new(o, "done_at", maybe_time(t->done_at));
    json_object_set_new(o, "done_by", text_to_json(t->done_by));
    return o;
}

struct task_query {
    bool done;
    int64_t limit, offset;
    const char *bad, *why;
};

/* Offsets past this are refused: a list of follow-ups is read from its
 * start, and OFFSET costs the rows it skips. */
#define TASK_OFFSET_MAX 100000

static int task_arg(void *cls, const char *k, const char *v)
{
    struct task_query *q = cls;
    q->bad = k;
    if (!strcmp(k, "limit")) {
        q->why = "must be an integer from 1 to 500";
        return !parse_count(v, 1, PAGE_MAX_LIMIT, &q->limit);
    }
    if (!strcmp(k, "offset")) {
        q->why = "must be an integer from 0 to 100000";
        return !parse_count(v, 0, TASK_OFFSET_MAX, &q->offset);
    }
    if (!strcmp(k, "status")) {
        q->why = "must be open or done";
        q->done = !strcmp(v, "done");
        return strcmp(v, "open") != 0 && !q->done;
    }
    q->why = "is not a parameter of this endpoint (status, limit, offset)";
    return 1;
}

void api_rep_tasks(struct request *r)
{
    if (r->role == ROLE_REP && !request_sees_rep(r, r->name)) {
        reply_error(r, 403, "forbidden", "id",
                    "a rep key sees only its own tasks and those of the reps it manages");
        return;
    }
    if (routing_find_rep(&r->cfg->routing, r->name) < 0) {
        reply_error(r, 404, "not_found", "id", "no such rep: %.128s", r->name);
        return;
    }
    struct task_query q = {.limit = PAGE_DEFAULT_LIMIT};
    if (request_query_each(r, task_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%.64s' %s", q.bad, q.why);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_task *rows;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_task_list(c, r->name, q.done, (unsigned)q.offset, (unsigned)q.limit + 1,
                                &r->arena, &rows, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    int64_t now = clock_now(r->ctx->clock);
    bool more = n > (size_t)q.limit;
    if (more)
        n = (size_t)q.limit;
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, task_json(&rows[i], now));
    reply_json(r, 200,
               json_pack("{s:o, s:o}", "data", data, "next_offset",
                         more ? json_integer(q.offset + q.limit) : json_null()));
}

void api_task_done(struct request *r)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such task: ids are positive integers");
        return;
    }
    if (r->role == ROLE_REP && !r->key.rep_id) {
        reply_error(r, 403, "forbidden", NULL, "this rep key names no rep");
        return;
    }
    if (!read_no_fields(r, "done"))
        return;
    struct task_done_command cmd = {
        .cfg = r->cfg,
        .id = r->id,
        .as_rep = r->role == ROLE_REP ? r->key.rep_id : NULL,
        .actor = request_actor(r),
    };
    struct bt_error err = BT_ERROR_INIT;
    if (engine_task_done(r->ctx->engine, &cmd, &r->arena, &err)) {
        if (err.code == BT_ENOTFOUND && !err.field[0])
            snprintf(err.field, sizeof(err.field), "id");
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200,
               json_pack("{s:o, s:b}", "task", task_json(&cmd.result, clock_now(r->ctx->clock)),
                         "contacted", cmd.contacted));
}
