/*
 * api_system.c - /healthz (the process answers) and /readyz (it can serve:
 * the database answers and the server is not shutting down; with the
 * configuration it serves and the outcome of its last reload). Neither needs
 * a key, so that load balancers and orchestrators can probe them.
 */
#include "server/http.h"
#include "engine/engine.h"
#include "store/store.h"
#include "timers/deadlines.h"
#include "timers/timers.h"

void api_health(struct request *r)
{
    reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
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
    json_t *last = config_holder_last_reload(r->ctx->config);
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:i, s:o}", "status", "ready", "config_version",
                         r->cfg->version, "schema_version", STORE_SCHEMA_VERSION, "last_reload",
                         last ? last : json_null()));
}

/*
 * POST /v1/admin/clock {"now": "2026-12-01T09:00:00Z"} or {"advance_seconds": 86400}
 * - only when the daemon runs with --manual-clock (tests, simulation). Time
 * never moves backwards. Every deadline that falls due on the way (score
 * decay, the hold queue's wake-ups, ...) is processed at its own time, in
 * order, before the reply, so the caller sees the state at the new time.
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
    json_t *v;
    bool ok = json_is_object(o) && json_object_size(o) == 1;
    if (ok && (v = json_object_get(o, "now")))
        ok = json_is_string(v) && time_parse_rfc3339(json_string_value(v), &next);
    else if (ok && (v = json_object_get(o, "advance_seconds")))
        ok = json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 3.2e9 &&
             (next = now + (int64_t)(json_number_value(v) * 1000.0), true);
    else
        ok = false;
    json_decref(o);
    if (!ok) {
        reply_error(r, 422, "invalid", NULL,
                    "send {\"now\": \"RFC 3339 time\"} or {\"advance_seconds\": N}");
        return;
    }
    if (next < now) {
        reply_error(r, 422, "invalid", "now", "the clock never moves backwards");
        return;
    }
    size_t ran, done[TIMERS_MAX_SOURCES];
    timers_run_due(r->ctx->timers, next, &ran, done);
    const struct deadlines *d = r->ctx->deadlines;
    reply_json(r, 200,
               json_pack("{s:o, s:I, s:I, s:I}", "now", time_to_json(clock_now(clk)), "rescored",
                         (json_int_t)done[deadlines_decay_id(d)], "holds_tried",
                         (json_int_t)done[deadlines_holds_id(d)], "deadlines_run",
                         (json_int_t)ran));
}
