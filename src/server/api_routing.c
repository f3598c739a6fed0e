/*
 * api_routing.c - reps, pools, the hold queue and decision records over HTTP.
 *
 *   GET    /v1/reps                       every rep with its state now
 *   GET    /v1/reps/{id}                  one rep, with its time off
 *   PUT    /v1/reps/{id}/status           {"status", "reason"?, "until"?}
 *   POST   /v1/reps/{id}/time-off         {"from", "to", "reason"?}
 *   DELETE /v1/reps/{id}/time-off/{n}
 *   GET    /v1/pools, /v1/pools/{id}      members, eligibility now, strategy state
 *   GET    /v1/holds                      the hold queue, in the order it drains
 *   GET    /v1/leads/{id}/decision        the lead's latest routing decision
 *   GET    /v1/leads/{id}/exclusions      reps routing never offers the lead again
 *   POST   /v1/leads/{id}/exclusions      {"rep", "reason"?, "reroute"?} (admin)
 *
 * A rep key may read and change only its own rep (status, time off) and read
 * decisions of its own leads; everything else needs an admin key.
 */
#include "core/routing_json.h"
#include "engine/engine.h"
#include "server/http.h"
#include "store/store_routing.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define NEXT_START_LIMIT_MS (21LL * 24 * 60 * 60 * 1000) /* how far "next working" looks */
#define REASON_MAX          1000

static json_t *time_or_null(int64_t ms)
{
    return ms ? time_to_json(ms) : json_null();
}

static json_t *strings_json(const char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

/* The hours of a rep without hours: every minute of every day. */
static const struct weekly_hours around_the_clock = {
    {1, 1, 1, 1, 1, 1, 1},
    {{{0, 1440}}, {{0, 1440}}, {{0, 1440}}, {{0, 1440}}, {{0, 1440}}, {{0, 1440}}, {{0, 1440}}},
};

/*
 * The rep of the path, or a reply: a rep key naming any rep but its own is
 * a 403, whether that rep exists or not (a 404 for unknown ids would let a
 * rep key list the others' ids); an unknown rep is a 404 for everyone else.
 */
static long path_rep(struct request *r)
{
    if (r->role == ROLE_REP && (!r->key.rep_id || strcmp(r->key.rep_id, r->name) != 0)) {
        reply_error(r, 403, "forbidden", "id", "a rep key may only act for its own rep");
        return -1;
    }
    long i = routing_find_rep(&r->cfg->routing, r->name);
    if (i < 0) {
        reply_error(r, 404, "not_found", "id", "no such rep: %.128s", r->name);
        return -1;
    }
    return i;
}

static json_t *time_off_json(const struct store_time_off *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "from", time_to_json(t->from));
    json_object_set_new(o, "to", time_to_json(t->to));
    json_object_set_new(o, "reason", text_to_json(t->reason));
    json_object_set_new(o, "created_by", json_string(t->actor ? t->actor : "system"));
    return o;
}

/* A rep's configuration and state at `now`; with_time_off adds the list. */
static bool rep_json(struct request *r, struct store_conn *c, size_t index, int64_t now,
                     bool with_time_off, json_t **out)
{
    const struct config *cfg = r->cfg;
    const struct config_rep *cr = config_rep_of(cfg, index);
    const struct routing_rep *rep = cr->routing;
    struct rep_runtime rt;
    struct bt_error err = BT_ERROR_INIT;
    if (store_rep_runtime_get(c, rep->id, now, &r->arena, &rt, &err)) {
        reply_bt_error(r, &err);
        return false;
    }
    struct route_requirements req = {.check_hours = true};
    enum eligibility el = routing_eligibility(rep, &rt, &req, now);
    bool status_over = rt.status != REP_AVAILABLE && rt.status_until && rt.status_until <= now;
    enum rep_status status = status_over ? REP_AVAILABLE : rt.status;
    enum workhours_reason why;
    const struct weekly_hours *hours = rep->has_hours ? &rep->hours : &around_the_clock;
    bool working = workhours_is_working(hours, rep->tz, &rep->holidays, &rt.time_off, now, &why);
    int64_t next = working ? now
                           : workhours_next_start(hours, rep->tz, &rep->holidays, &rt.time_off, now,
                                                  NEXT_START_LIMIT_MS);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(rep->id));
    json_object_set_new(o, "name", text_to_json(cr->name));
    json_object_set_new(o, "email", text_to_json(cr->email));
    json_object_set_new(o, "team", text_to_json(rep->team));
    json_object_set_new(o, "manager", text_to_json(cr->manager));
    json_object_set_new(o, "timezone", json_string(rep->tz->name));
    json_object_set_new(o, "active", json_boolean(rep->active));
    json_object_set_new(o, "status", json_string(rep_status_name(status)));
    json_object_set_new(o, "status_reason",
                        !status_over && rt.status_reason ? json_string(rt.status_reason)
                                                         : json_null());
    json_object_set_new(o, "status_until",
                        status_over ? json_null() : time_or_null(rt.status_until));
    json_object_set_new(o, "working_now", json_boolean(working));
    json_object_set_new(o, "not_working_because",
                        working ? json_null() : json_string(workhours_reason_name(why)));
    json_object_set_new(o, "next_working_at", time_or_null(next));
    json_object_set_new(o, "eligible_now", json_boolean(el == ELIGIBLE));
    json_object_set_new(o, "ineligible_because",
                        el == ELIGIBLE ? json_null() : json_string(eligibility_name(el)));
    json_object_set_new(o, "open", json_integer(rt.open));
    json_object_set_new(o, "capacity", routing_limit_json(rep->capacity));
    json_object_set_new(o, "today", json_integer(routing_day_count(rep, &rt, now)));
    json_object_set_new(o, "daily_cap", routing_limit_json(rep->daily_cap));
    json_object_set_new(o, "this_week", json_integer(routing_week_count(rep, &rt, now)));
    json_object_set_new(o, "weekly_cap", routing_limit_json(rep->weekly_cap));
    json_object_set_new(o, "weight", json_real(rep->weight));
    json_object_set_new(o, "languages", strings_json(rep->languages, rep->n_languages));
    json_object_set_new(o, "skills", strings_json(rep->skills, rep->n_skills));
    json_object_set_new(o, "territories", strings_json(rep->territories, rep->n_territories));
    json_t *pools = json_array();
    for (size_t p = 0; p < cfg->routing.n_pools; p++)
        for (size_t m = 0; m < cfg->routing.pools[p].n_members; m++)
            if (cfg->routing.pools[p].members[m] == index)
                json_array_append_new(pools, json_string(cfg->routing.pools[p].id));
    json_object_set_new(o, "pools", pools);
    if (with_time_off) {
        struct store_time_off *spans;
        size_t n;
        if (store_time_off_list(c, rep->id, now, &r->arena, &spans, &n, &err)) {
            json_decref(o);
            reply_bt_error(r, &err);
            return false;
        }
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, time_off_json(&spans[i]));
        json_object_set_new(o, "time_off", list);
    }
    *out = o;
    return true;
}

typedef bool (*render_fn)(struct request *r, struct store_conn *c, size_t index, int64_t now,
                          json_t **out);

/* Replies {"<key>": [render(0), ..., render(n - 1)]} from one reader. */
static void reply_all(struct request *r, size_t n, render_fn render, const char *key)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    int64_t now = clock_now(r->ctx->clock);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one;
        if (!render(r, c, i, now, &one)) {
            json_decref(items);
            store_reader_release(r->ctx->store, c);
            return;
        }
        json_array_append_new(items, one);
    }
    store_reader_release(r->ctx->store, c);
    reply_json(r, 200, json_pack("{s:o}", key, items));
}

static bool rep_summary_json(struct request *r, struct store_conn *c, size_t index, int64_t now,
                             json_t **out)
{
    return rep_json(r, c, index, now, false, out);
}

void api_rep_list(struct request *r)
{
    reply_all(r, r->cfg->n_reps, rep_summary_json, "reps");
}

void api_rep_get(struct request *r)
{
    long i = path_rep(r);
    if (i < 0)
        return;
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    json_t *one;
    bool ok = rep_json(r, c, (size_t)i, clock_now(r->ctx->clock), true, &one);
    store_reader_release(r->ctx->store, c);
    if (ok)
        reply_json(r, 200, one);
}

static json_t *parse_object(struct request *r)
{
    json_t *o = request_json(r);
    if (!o)
        return NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        reply_error(r, 422, "invalid", NULL, "the body must be a JSON object");
        return NULL;
    }
    return o;
}

static bool get_time(json_t *v, int64_t *out)
{
    return json_is_string(v) && time_parse_rfc3339(json_string_value(v), out);
}

static bool get_reason(struct request *r, json_t *v, const char **out)
{
    if (json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (!s || !utf8_valid(s, strlen(s)) || utf8_length(s) > REASON_MAX || text_has_control(s))
        return false;
    *out = arena_strdup(&r->arena, s);
    return true;
}

/* After a write: the rep as it is now, plus how many held leads it took. */
static void reply_rep(struct request *r, size_t index, unsigned status, size_t assigned,
                      json_t *extra)
{
    struct store_conn *c;
    if (!request_reader(r, &c)) {
        json_decref(extra);
        return;
    }
    json_t *one;
    bool ok = rep_json(r, c, index, clock_now(r->ctx->clock), true, &one);
    store_reader_release(r->ctx->store, c);
    if (!ok) {
        json_decref(extra);
        return;
    }
    json_object_set_new(one, "assigned_from_hold", json_integer((json_int_t)assigned));
    if (extra)
        json_object_set_new(one, "time_off_added", extra);
    reply_json(r, status, one);
}

void api_rep_status(struct request *r)
{
    long i = path_rep(r);
    if (i < 0)
        return;
    json_t *o = parse_object(r);
    if (!o)
        return;
    struct rep_status_command cmd = {
        .cfg = r->cfg, .rep_id = r->cfg->routing.reps[i].id, .actor = request_actor(r)};
    const char *bad = NULL, *why = NULL, *key;
    bool has_status = false;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (!strcmp(key, "status")) {
            has_status = true;
            if (!rep_status_parse(json_string_value(v), &cmd.status)) {
                bad = key;
                why = "status must be available, away or offline";
            }
        } else if (!strcmp(key, "reason")) {
            if (!get_reason(r, v, &cmd.reason)) {
                bad = key;
                why = "reason must be text of at most 1000 characters";
            }
        } else if (!strcmp(key, "until")) {
            if (!json_is_null(v) && !get_time(v, &cmd.until)) {
                bad = key;
                why = "until must be an RFC 3339 time such as 2026-12-01T09:00:00Z";
            } else if (!json_is_null(v) && cmd.until <= clock_now(r->ctx->clock)) {
                bad = key;
                why = "until must be in the future";
            }
        } else {
            bad = key;
            why = arena_printf(&r->arena,
                               "unknown field '%.64s'; a status has status, reason and until", key);
        }
    }
    if (bad) /* the key belongs to the JSON object freed here */
        bad = arena_strdup(&r->arena, bad);
    json_decref(o);
    if (!bad && !has_status) {
        bad = "status";
        why = "status is required: available, away or offline";
    }
    if (!bad && cmd.until && cmd.status == REP_AVAILABLE) {
        bad = "until";
        why = "until applies to away and offline (the status ends then)";
    }
    if (bad) {
        reply_error(r, 422, "invalid", bad, "%s", why);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    if (engine_set_rep_status(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_rep(r, (size_t)i, 200, cmd.assigned, NULL);
}

void api_rep_time_off_add(struct request *r)
{
    long i = path_rep(r);
    if (i < 0)
        return;
    json_t *o = parse_object(r);
    if (!o)
        return;
    struct time_off_command cmd = {
        .cfg = r->cfg, .rep_id = r->cfg->routing.reps[i].id, .actor = request_actor(r)};
    const char *bad = NULL, *why = NULL, *key;
    bool has_from = false, has_to = false;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (!strcmp(key, "from") || !strcmp(key, "to")) {
            bool from = key[0] == 'f';
            if (!get_time(v, from ? &cmd.from : &cmd.to)) {
                bad = key;
                why = arena_printf(&r->arena,
                                   "%s must be an RFC 3339 time such as 2026-12-01T09:00:00Z", key);
            }
            (from ? &has_from : &has_to)[0] = true;
        } else if (!strcmp(key, "reason")) {
            if (!get_reason(r, v, &cmd.reason)) {
                bad = key;
                why = "reason must be text of at most 1000 characters";
            }
        } else {
            bad = key;
            why = arena_printf(&r->arena, "unknown field '%.64s'; time off has from, to and reason",
                               key);
        }
    }
    if (bad) /* the key belongs to the JSON object freed here */
        bad = arena_strdup(&r->arena, bad);
    json_decref(o);
    if (!bad && (!has_from || !has_to)) {
        bad = has_from ? "to" : "from";
        why = "time off needs from and to";
    }
    if (!bad && cmd.to <= cmd.from) {
        bad = "to";
        why = "to must be after from";
    }
    if (bad) {
        reply_error(r, 422, "invalid", bad, "%s", why);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    if (engine_time_off(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    struct store_time_off t = {
        .id = cmd.id, .from = cmd.from, .to = cmd.to, .reason = cmd.reason, .actor = cmd.actor};
    reply_rep(r, (size_t)i, 201, cmd.assigned, time_off_json(&t));
}

void api_rep_time_off_delete(struct request *r)
{
    long i = path_rep(r);
    if (i < 0)
        return;
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such time off: ids are positive integers");
        return;
    }
    struct time_off_command cmd = {.cfg = r->cfg,
                                   .rep_id = r->cfg->routing.reps[i].id,
                                   .remove = true,
                                   .id = r->id,
                                   .actor = request_actor(r)};
    struct bt_error err = BT_ERROR_INIT;
    if (engine_time_off(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_rep(r, (size_t)i, 200, cmd.assigned, NULL);
}

/* ---- pools ---- */

static bool pool_json(struct request *r, struct store_conn *c, size_t index, int64_t now,
                      json_t **out)
{
    const struct routing_config *rc = &r->cfg->routing;
    const struct routing_pool *p = &rc->pools[index];
    struct bt_error err = BT_ERROR_INIT;
    const char *text;
    if (store_pool_state_get(c, p->id, &r->arena, &text, &err)) {
        reply_bt_error(r, &err);
        return false;
    }
    json_error_t jerr;
    json_t *state = text ? json_loads(text, 0, &jerr) : NULL;
    struct pool_state st = POOL_STATE_INIT;
    if (state && pool_state_from_json(state, &r->arena, &st, &err)) {
        st = (struct pool_state)POOL_STATE_INIT;
        err = (struct bt_error)BT_ERROR_INIT;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "name", text_to_json(p->name));
    json_object_set_new(o, "strategy", json_string(strategy_name(p->strategy)));
    if (p->strategy == STRATEGY_FAIR_SHARE) {
        json_object_set_new(o, "window", json_string(pool_window_name(p->window)));
        json_object_set_new(o, "absence", json_string(absence_policy_name(p->absence)));
        json_object_set_new(o, "window_start", time_to_json(routing_window_start(p, now)));
    }
    json_object_set_new(o, "out_of_hours", json_boolean(p->out_of_hours));
    json_object_set_new(o, "match_territory", json_boolean(p->match_territory));
    json_object_set_new(o, "decisions", json_integer((json_int_t)st.decisions));
    json_object_set_new(o, "last_rep", text_to_json(st.last_rep_id));
    json_object_set_new(o, "updated_at", time_or_null(st.updated_at));
    bool state_current = st.strategy == p->strategy;
    json_object_set_new(o, "state_current", json_boolean(state_current || !text));
    json_t *members = json_array();
    struct route_requirements req = {.check_hours = !p->out_of_hours};
    for (size_t m = 0; m < p->n_members; m++) {
        const struct routing_rep *rep = &rc->reps[p->members[m]];
        struct rep_runtime rt;
        if (store_rep_runtime_get(c, rep->id, now, &r->arena, &rt, &err)) {
            json_decref(o);
            json_decref(members);
            json_decref(state);
            reply_bt_error(r, &err);
            return false;
        }
        enum eligibility el = routing_eligibility(rep, &rt, &req, now);
        json_t *mo = json_object();
        json_object_set_new(mo, "rep", json_string(rep->id));
        json_object_set_new(mo, "eligible_now", json_boolean(el == ELIGIBLE));
        json_object_set_new(mo, "ineligible_because",
                            el == ELIGIBLE ? json_null() : json_string(eligibility_name(el)));
        json_object_set_new(mo, "weight", json_real(rep->weight));
        json_object_set_new(mo, "open", json_integer(rt.open));
        json_object_set_new(mo, "capacity", routing_limit_json(rep->capacity));
        json_object_set_new(mo, "today", json_integer(routing_day_count(rep, &rt, now)));
        const struct pool_state_entry *en = NULL;
        for (size_t k = 0; k < st.n_entries && !en; k++)
            if (!strcmp(st.entries[k].rep_id, rep->id))
                en = &st.entries[k];
        json_object_set_new(mo, "assigned", json_integer(en ? (json_int_t)en->assigned : 0));
        if (p->strategy == STRATEGY_WEIGHTED)
            json_object_set_new(mo, "pointer",
                                en ? json_real((double)en->pointer / (double)STRATEGY_POINTER_SCALE)
                                   : json_null());
        if (p->strategy == STRATEGY_FAIR_SHARE)
            json_object_set_new(mo, "credit",
                                en ? json_real((double)en->credit / STRATEGY_WEIGHT_UNIT)
                                   : json_real(0));
        json_array_append_new(members, mo);
    }
    json_object_set_new(o, "members", members);
    json_object_set_new(o, "state", state ? state : json_null());
    *out = o;
    return true;
}

void api_pool_list(struct request *r)
{
    reply_all(r, r->cfg->routing.n_pools, pool_json, "pools");
}

void api_pool_get(struct request *r)
{
    long i = routing_find_pool(&r->cfg->routing, r->name);
    if (i < 0) {
        reply_error(r, 404, "not_found", "id", "no such pool: %.128s", r->name);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    json_t *one;
    bool ok = pool_json(r, c, (size_t)i, clock_now(r->ctx->clock), &one);
    store_reader_release(r->ctx->store, c);
    if (ok)
        reply_json(r, 200, one);
}

/* ---- the hold queue and decisions ---- */

struct hold_query {
    int64_t limit;
    const char *bad, *why;
};

static int hold_arg(void *cls, const char *k, const char *v)
{
    struct hold_query *q = cls;
    q->bad = k;
    if (!strcmp(k, "limit")) {
        q->why = "must be a whole number from 1 to 1000";
        return !parse_count(v, 1, STORE_LIST_MAX, &q->limit);
    }
    q->why = "is not a parameter of this endpoint (limit)";
    return 1;
}

void api_hold_list(struct request *r)
{
    struct hold_query q = {.limit = 100};
    if (request_query_each(r, hold_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%.64s' %s", q.bad, q.why);
        return;
    }
    int64_t limit = q.limit;
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_hold *holds;
    size_t n;
    int64_t count = 0;
    struct bt_error err = BT_ERROR_INIT;
    if (store_hold_list(c, (unsigned)limit, NULL, &r->arena, &holds, &n, &err) ||
        store_hold_count(c, &count, &err)) {
        store_reader_release(r->ctx->store, c);
        reply_bt_error(r, &err);
        return;
    }
    store_reader_release(r->ctx->store, c);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct store_hold *h = &holds[i];
        json_t *o = json_object();
        json_object_set_new(o, "lead", json_integer(h->lead_id));
        json_object_set_new(o, "reason", json_string(h->reason));
        json_object_set_new(o, "rule", text_to_json(h->rule));
        json_object_set_new(o, "pool", text_to_json(h->pool_id));
        json_object_set_new(o, "rep", text_to_json(h->rep_id));
        json_object_set_new(o, "score", json_real(h->score));
        json_object_set_new(o, "since", time_to_json(h->since));
        json_array_append_new(list, o);
    }
    reply_json(r, 200, json_pack("{s:o, s:I}", "held", list, "count", (json_int_t)count));
}

/* The record of decision `d` in full (*out): a compact record
 * (core/routing_json.h) gets back what its configuration says, from the
 * configuration in use when it is that version, else from what the store
 * kept of that version. A record that cannot be completed (its version not
 * kept, or not a context) is served compact, with "expanded": false and
 * why; a store that cannot be read is an error. */
static bt_err decision_full(struct request *r, struct store_conn *c, const struct store_decision *d,
                            json_t **out, struct bt_error *err)
{
    json_t *rec = json_loads(d->record, 0, NULL);
    *out = rec ? rec : json_object(); /* not JSON: "has no record" */
    if (!*out)
        return bt_fail(err, BT_ETOOBIG, NULL, "decision record: out of memory");
    if (!rec || !json_is_true(json_object_get(rec, "compact")))
        return BT_OK;
    struct bt_error why = BT_ERROR_INIT;
    const char *text = r->cfg->record_context;
    size_t len = r->cfg->record_context_len;
    bt_err e = BT_OK;
    if (!d->config_version)
        e = bt_fail(&why, BT_ENOTFOUND, NULL, "the decision names no configuration version");
    else if (strcmp(d->config_version, r->cfg->version))
        e = store_config_version_get(c, d->config_version, &r->arena, &text, &len, &why);
    if (e && e != BT_ENOTFOUND) {
        *err = why;
        json_decref(rec);
        *out = NULL;
        return e;
    }
    json_t *context = e ? NULL : json_loadb(text, len, 0, NULL);
    if (!e && !context)
        e = bt_fail(&why, BT_EINVAL, NULL, "the kept configuration version is not JSON");
    if (!e)
        e = route_record_expand(context, rec, &why);
    json_decref(context);
    if (e) {
        json_object_set_new(rec, "expanded", json_false());
        json_object_set_new(rec, "expand_error", json_string(why.message));
    }
    return BT_OK;
}

void api_lead_decision(struct request *r)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    if (!request_lead(r, c, &lead)) {
        store_reader_release(r->ctx->store, c);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    struct store_decision d;
    bt_err rc = store_decision_latest(c, r->id, &r->arena, &d, &err);
    json_t *full = NULL;
    if (!rc)
        rc = decision_full(r, c, &d, &full, &err);
    store_reader_release(r->ctx->store, c);
    if (rc == BT_ENOTFOUND) {
        reply_error(r, 404, "not_found", NULL,
                    "lead %lld has not been routed (it has not qualified, or routing is off)",
                    (long long)r->id);
        return;
    }
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    if (json_object_size(full) == 0) {
        json_decref(full);
        reply_error(r, 500, "internal", NULL, "decision %lld has no record", (long long)d.id);
        return;
    }
    /* the decision's id in front */
    json_t *out = json_pack("{s:I}", "id", (json_int_t)d.id);
    json_object_update(out, full);
    json_decref(full);
    reply_json(r, 200, out);
}

/* ---- exclusions ---- */

static json_t *exclusions_json(const struct store_exclusion *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "rep", x[i].rep_id, "reason",
                                           x[i].reason, "at", time_to_json(x[i].at)));
    return a;
}

/* The lead's exclusions on a reader; NULL with the reply set. */
static json_t *read_exclusions(struct request *r, struct store_conn *c, int64_t lead_id)
{
    struct store_exclusion *x;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    if (store_exclusion_list(c, lead_id, &r->arena, &x, &n, &err)) {
        reply_bt_error(r, &err);
        return NULL;
    }
    return exclusions_json(x, n);
}

void api_lead_exclusions(struct request *r)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    json_t *list = request_lead(r, c, &lead) ? read_exclusions(r, c, lead.id) : NULL;
    store_reader_release(r->ctx->store, c);
    if (list)
        reply_json(r, 200, json_pack("{s:I, s:o}", "lead", (json_int_t)lead.id, "data", list));
}

void api_lead_exclude(struct request *r)
{
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such lead: ids are positive integers");
        return;
    }
    json_t *o = parse_object(r);
    if (!o)
        return;
    struct exclusion_command cmd = {.cfg = r->cfg, .lead_id = r->id, .actor = request_actor(r)};
    const char *bad = NULL, *why = NULL, *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (!strcmp(key, "rep")) {
            long i =
                json_is_string(v) ? routing_find_rep(&r->cfg->routing, json_string_value(v)) : -1;
            if (i < 0) {
                bad = key;
                why = json_is_string(v)
                          ? arena_printf(&r->arena, "no such rep: %.128s", json_string_value(v))
                          : "rep must be the id of a rep";
            } else {
                cmd.rep_id = r->cfg->routing.reps[i].id;
            }
        } else if (!strcmp(key, "reason")) {
            if (!get_reason(r, v, &cmd.reason)) {
                bad = key;
                why = "reason must be text of at most 1000 characters";
            }
        } else if (!strcmp(key, "reroute")) {
            if (!json_is_boolean(v)) {
                bad = key;
                why = "reroute must be true or false";
            }
            cmd.reroute = json_is_true(v);
        } else {
            bad = key;
            why = arena_printf(
                &r->arena, "unknown field '%.64s'; an exclusion has rep, reason and reroute", key);
        }
    }
    if (bad) /* the key belongs to the JSON object freed here */
        bad = arena_strdup(&r->arena, bad);
    json_decref(o);
    if (!bad && !cmd.rep_id) {
        bad = "rep";
        why = "rep is required: the id of the rep who may not get this lead";
    }
    if (bad) {
        reply_error(r, 422, "invalid", bad, "%s", why);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    if (engine_exclude_rep(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    json_t *list = read_exclusions(r, c, cmd.lead_id);
    store_reader_release(r->ctx->store, c);
    if (!list)
        return;
    reply_json(r, 201,
               json_pack("{s:o, s:b, s:o}", "lead", lead_to_json(&cmd.result), "rerouted",
                         cmd.rerouted, "exclusions", list));
}
