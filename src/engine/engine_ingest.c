/*
 * engine_ingest.c - the ingest command: a normalised lead arrives and is
 * created, recognised as a repeat, or merged into the person's existing lead.
 *
 * Order of recognition: the Idempotency-Key (the client says "this is the
 * request I sent before"), then external_id (the source system's identity),
 * then the normalised email (the same person). Only the last changes data.
 */
#include "core/lead_merge.h"
#include "engine/engine_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *ingest_outcome_name(enum ingest_outcome o)
{
    switch (o) {
    case INGEST_CREATED:
        return "created";
    case INGEST_REPEATED:
        return "repeated";
    case INGEST_MERGED:
        return "merged";
    case INGEST_UNCHANGED:
        return "unchanged";
    }
    return "unknown";
}

bt_err engine_ingest(struct engine *e, struct ingest_command *cmd, struct arena *arena,
                     struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__INGEST, .arena = arena, .u.ingest = cmd};
    return engine__submit(e, &c, err);
}

static bt_err rescore(struct engine__ctx *ctx, struct ingest_command *cmd, struct arena *arena,
                      struct bt_error *err)
{
    if (!cmd->cfg)
        return BT_OK;
    struct engine__lead_opts o = {.actor = cmd->actor ? cmd->actor : "system",
                                  .route = DECIDE_ROUTE_IF_MQL};
    return engine__lead_run(ctx, cmd->cfg, &cmd->result, &o, arena, err);
}

static bt_err remember_key(struct store_conn *conn, const struct ingest_command *cmd,
                           int64_t lead_id, int64_t now, struct bt_error *err)
{
    if (!cmd->idempotency_key)
        return BT_OK;
    return store_idempotency_put(conn, cmd->idempotency_key, lead_id,
                                 cmd->fingerprint ? cmd->fingerprint : "", now, err);
}

bt_err engine__apply_ingest(struct engine__ctx *ctx, struct ingest_command *cmd,
                            struct arena *arena, struct bt_error *err)
{
    struct store_conn *conn = ctx->conn;
    int64_t now = ctx->now;
    const char *actor = cmd->actor ? cmd->actor : "system";
    const struct lead *in = &cmd->lead;
    bt_err rc;

    if (cmd->idempotency_key) {
        int64_t lead_id = 0;
        const char *fingerprint = NULL;
        rc = store_idempotency_get(conn, cmd->idempotency_key, arena, &lead_id, &fingerprint, err);
        if (rc == BT_OK) {
            if (cmd->fingerprint && strcmp(fingerprint, cmd->fingerprint) != 0)
                return bt_fail(err, BT_ECONFLICT, "Idempotency-Key",
                               "this Idempotency-Key was used for a different request");
            cmd->outcome = INGEST_REPEATED;
            return store_lead_get(conn, lead_id, arena, &cmd->result, err);
        }
        if (rc != BT_ENOTFOUND)
            return rc;
    }

    if (in->attr[LEAD_EXTERNAL_ID]) {
        rc = store_lead_find_by_external_id(conn, in->attr[LEAD_EXTERNAL_ID], arena, &cmd->result,
                                            err);
        if (rc == BT_OK) {
            cmd->outcome = INGEST_REPEATED;
            return remember_key(conn, cmd, cmd->result.id, now, err);
        }
        if (rc != BT_ENOTFOUND)
            return rc;
    }

    if (in->attr[LEAD_EMAIL]) {
        struct lead existing;
        rc = store_lead_find_by_email(conn, in->attr[LEAD_EMAIL], arena, &existing, err);
        if (rc == BT_OK) {
            struct lead_merge_result *m = arena_alloc(arena, sizeof(*m));
            if (!m)
                return bt_fail(err, BT_ETOOBIG, NULL, "request too large");
            if ((rc = lead_merge(&existing, in,
                                 cmd->fill_only ? LEAD_MERGE_FILL_ONLY : LEAD_MERGE_REPLACE, arena,
                                 m, err)))
                return rc;
            cmd->result = m->merged;
            if (m->n_changes == 0) {
                cmd->outcome = INGEST_UNCHANGED;
                return remember_key(conn, cmd, existing.id, now, err);
            }
            cmd->outcome = INGEST_MERGED;
            cmd->result.updated_at = now;
            if ((rc = store_lead_update(conn, &cmd->result, err)) ||
                (rc = engine__event(ctx, arena, existing.id, "lead.merged", actor, NULL,
                                    engine__intake_data(cmd, m), err)) ||
                (rc = rescore(ctx, cmd, arena, err)))
                return rc;
            return remember_key(conn, cmd, existing.id, now, err);
        }
        if (rc != BT_ENOTFOUND)
            return rc;
    }

    cmd->result = *in;
    cmd->result.id = 0;
    cmd->result.attr[LEAD_STAGE] = "new";
    cmd->result.attr[LEAD_OWNER] = NULL;
    cmd->result.created_at = now;
    cmd->result.updated_at = now;
    if (!cmd->result.fields_json)
        cmd->result.fields_json = "{}";
    cmd->outcome = INGEST_CREATED;
    if ((rc = store_lead_insert(conn, &cmd->result, err)) ||
        (rc = engine__event(ctx, arena, cmd->result.id, "lead.created", actor, NULL,
                            engine__intake_data(cmd, NULL), err)) ||
        (rc = rescore(ctx, cmd, arena, err)))
        return rc;
    return remember_key(conn, cmd, cmd->result.id, now, err);
}
