/*
 * api_system.c - /healthz (the process answers) and /readyz (it can serve:
 * the database answers and the server is not shutting down). Neither needs a
 * key, so that load balancers and orchestrators can probe them.
 */
#include "server/http.h"
#include "store/store.h"

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
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:i}", "status", "ready", "config_version", r->cfg->version,
                         "schema_version", STORE_SCHEMA_VERSION));
}
