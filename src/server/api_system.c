/*
 * api_system.c - /healthz (the process answers), /readyz (it can serve:
 * the database answers and the server is not shutting down; with the
 * configuration it serves and the outcome of its last reload), the API's
 * description, and the manual clock. The first three need no key, so that
 * load balancers, orchestrators and API tools can reach them.
 */
#include "server/http.h"
#include "server/openapi.h"
#include "deliver/deliver.h"
#include "engine/engine.h"
#include "store/store.h"
#include "timers/deadlines.h"
#include "timers/timers.h"

void api_health(struct request *r)
{
    reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /v1/openapi.json - the description of this API (docs/openapi.yaml,
 * built in), with no key, for viewers and client generators. */
void api_openapi(struct request *r)
{
    struct bt_error err = BT_ERROR_INIT;
    const char *text = openapi_json(&err);
    if (!text) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json_text(r, 200, text);
}

void api_ready(struct request *r)
{
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_reader_acquire(r->ctx->store, &c, &err);
    if (!rc) {
        rc = store_ping(c, &err);
        store_reader_release(r->ctx->store, c);
    }
    if (rc) {
        reply_error(r, 503, "unavailable", NULL, "the database does not answer: %s", err.message);
        return;
    }
    /* The snapshot in use now, not the request's: read with the last
     * reload, so that the two always agree. */
    struct config *cur;
    json_t *last = config_holder_last_reload(r->ctx->config, &cur);
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:i, s:o}", "status", "ready", "config_version", cur->version,
                         "schema_version", STORE_SCHEMA_VERSION, "last_reload",
                         last ? last : json_null()));
    config_unref(cur);
}

/* A bound kept from the first version: every deadline on the way runs before
 * the reply, so a century already takes minutes. */
#define ADVANCE_MAX_S 3.2e9

/*
 * POST /v1/admin/clock {"now": "2026-12-01T09:00:00Z"} or {"advance_seconds": 86400}
 * - only when the daemon runs with --manual-clock (tests, simulation). Time
 * never moves backwards. Every deadline that falls due on the way (score
 * decay, the hold queue's wake-ups, ...) is processed at its own time, in
 * order, before the reply, so the caller sees the state at the new time.
 * The clock stops at TIME_MAX_MS (9999-12-31T23:59:59.999Z), the last
 * instant Baton can write.
 */
void api_admin_clock(struct request *r)
{
    struct clock *clk = r->ctx->clock;
    if (clk == clock_real()) {
        reply_error(r, 409, "conflict", NULL,
                    "the server runs on the real clock; start it with --manual-clock to set "
                    "the time");
        return;
    }
    json_t *o = request_json(r);
    if (!o)
        return;
    int64_t now = clock_now(clk), next = now;
    const char *field = NULL, *why = NULL;
    char last[RFC3339_MAX];
    time_format_rfc3339(TIME_MAX_MS, last);
    json_t *v;
    if (!json_is_object(o) || json_object_size(o) != 1) {
        why = "send {\"now\": \"RFC 3339 time\"} or {\"advance_seconds\": N}";
    } else if ((v = json_object_get(o, "now"))) {
        field = "now";
        if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), &next))
            why = arena_printf(&r->arena,
                               "now must be an RFC 3339 time such as 2026-12-01T09:00:00Z, at "
                               "most %s",
                               last);
        else if (next < now)
            why = "the clock never moves backwards";
    } else if ((v = json_object_get(o, "advance_seconds"))) {
        field = "advance_seconds";
        double secs = json_number_value(v);
        if (!json_is_number(v))
            why = "advance_seconds must be a number of seconds";
        else if (secs < 0)
            why = "advance_seconds must be 0 or more";
        else if (secs >= ADVANCE_MAX_S)
            why = "advance_seconds must be less than 3200000000 (about a century)";
        else if (secs > (double)(TIME_MAX_MS - now) / 1000.0)
            why = arena_printf(&r->arena, "the clock cannot go past %s", last);
        else
            next = now + (int64_t)(secs * 1000.0);
    } else {
        why = "send {\"now\": \"RFC 3339 time\"} or {\"advance_seconds\": N}";
    }
    json_decref(o);
    if (why) {
        reply_error(r, 422, "invalid", field, "%s", why);
        return;
    }
    size_t ran, done[TIMERS_MAX_SOURCES];
    timers_run_due(r->ctx->timers, next, &ran, done);
    if (r->ctx->deliver) /* retries that fell due go out now */
        deliver_poke(r->ctx->deliver);
    const struct deadlines *d = r->ctx->deadlines;
    reply_json(r, 200,
               json_pack("{s:o, s:I, s:I, s:I, s:I}", "now", time_to_json(clock_now(clk)),
                         "rescored", (json_int_t)done[deadlines_decay_id(d)], "holds_tried",
                         (json_int_t)done[deadlines_holds_id(d)], "assignments_due",
                         (json_int_t)done[deadlines_sla_id(d)], "deadlines_run", (json_int_t)ran));
}
