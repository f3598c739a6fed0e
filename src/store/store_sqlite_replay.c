/*
 * store_sqlite_replay.c - the rows of store_replay.h on SQLite.
 *
 * One read transaction around the whole walk: the leads' ids come from one
 * statement in created order (index leads_created when present), and for
 * each the lead, its activities and its first decision are read with the
 * statements the rest of the store uses, so a lead here is exactly the lead
 * the daemon would load. Nothing is written, so the walk works on a
 * connection opened read-only and beside a running daemon (WAL readers do
 * not block the writer).
 */
#include "store/store_replay.h"
#include "store/store_sqlite_internal.h"

#include <string.h>

enum {
    PS_REPLAY_LEADS = SQLITE__SLOTS_REPLAY,
    PS_REPLAY_FIRST_DECISION,
    PS_REPLAY_COUNT,
};

static bool is_sqlite(const struct store_conn *c)
{
    return c->ops == &store__sqlite_ops;
}

static bt_err first_decision(struct store_conn *c, int64_t lead_id, struct arena *a,
                             struct store_replay_lead *row, struct bt_error *err)
{
    sqlite3_stmt *s = sqlite__stmt(c, PS_REPLAY_FIRST_DECISION,
                                   "SELECT id, lead_id, result, rep_id, pool_id, rule, "
                                   "config_version, at, json_extract(record, '$.sla.policy'), "
                                   "json_extract(record, '$.hold_reason'), "
                                   "json_extract(record, '$.summary') FROM decisions "
                                   "WHERE lead_id = ?1 ORDER BY id LIMIT 1",
                                   err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    struct store_decision *out = &row->decision;
    memset(out, 0, sizeof(*out));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        row->decided = true;
        out->id = sqlite3_column_int64(s, 0);
        out->lead_id = sqlite3_column_int64(s, 1);
        out->result = sqlite__col_text(s, 2, a);
        out->rep_id = sqlite__col_text(s, 3, a);
        out->pool_id = sqlite__col_text(s, 4, a);
        out->rule = sqlite__col_text(s, 5, a);
        out->config_version = sqlite__col_text(s, 6, a);
        out->at = sqlite3_column_int64(s, 7);
        /* json_extract gives SQL NULL for a missing path, a text otherwise
         * (the three are strings where present) */
        row->sla_policy = sqlite__col_text(s, 8, a);
        row->hold_reason = sqlite__col_text(s, 9, a);
        row->summary = sqlite__col_text(s, 10, a);
    } else if (rc == SQLITE_DONE) {
        row->decided = false;
    } else {
        bt_err e = sqlite__error(c, err, "reading a lead's first decision");
        sqlite3_reset(s);
        return e;
    }
    sqlite3_reset(s);
    return BT_OK;
}

static void bind_range(sqlite3_stmt *s, int64_t since, int64_t until)
{
    sqlite3_bind_int64(s, 1, since > 0 ? since : INT64_MIN);
    sqlite3_bind_int64(s, 2, until > 0 ? until : INT64_MAX);
}

bt_err store_replay_count(struct store_conn *c, int64_t since, int64_t until, int64_t *count,
                          struct bt_error *err)
{
    if (!is_sqlite(c))
        return bt_fail(err, BT_EUNSUPPORTED, NULL, "replay reads SQLite databases only");
    sqlite3_stmt *s =
        sqlite__stmt(c, PS_REPLAY_COUNT,
                     "SELECT count(*) FROM leads WHERE created_at >= ?1 AND created_at < ?2", err);
    if (!s)
        return BT_ESTORE;
    bind_range(s, since, until);
    bt_err e = BT_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *count = sqlite3_column_int64(s, 0);
    else
        e = sqlite__error(c, err, "counting leads");
    sqlite3_reset(s);
    return e;
}

static bt_err exec(struct store_conn *c, const char *sql, struct bt_error *err)
{
    if (sqlite3_exec(sqlite__handle(c), sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqlite__error(c, err, sql);
    return BT_OK;
}

bt_err store_replay_each(struct store_conn *c, int64_t since, int64_t until, uint64_t limit,
                         store_replay_fn fn, void *cls, uint64_t *count, struct bt_error *err)
{
    *count = 0;
    if (!is_sqlite(c))
        return bt_fail(err, BT_EUNSUPPORTED, NULL, "replay reads SQLite databases only");
    sqlite3_stmt *s = sqlite__stmt(c, PS_REPLAY_LEADS,
                                   "SELECT id FROM leads WHERE created_at >= ?1 AND "
                                   "created_at < ?2 ORDER BY created_at, id LIMIT ?3",
                                   err);
    if (!s)
        return BT_ESTORE;
    bt_err e = exec(c, "BEGIN", err); /* deferred: a read snapshot, no lock on the writer */
    if (e)
        return e;
    bind_range(s, since, until);
    sqlite3_bind_int64(s, 3, limit > 0 && limit < (uint64_t)INT64_MAX ? (int64_t)limit : -1);
    struct arena scratch = ARENA_INIT;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        arena_release(&scratch);
        struct store_replay_lead row;
        memset(&row, 0, sizeof(row));
        struct activity *acts = NULL;
        if ((e = store_lead_get(c, id, &scratch, &row.lead, err)) ||
            (e = store_activity_list(c, id, STORE_REPLAY_ACTIVITIES_MAX, &scratch, &acts,
                                     &row.n_acts, err)) ||
            (e = first_decision(c, id, &scratch, &row, err)))
            break;
        row.acts = acts;
        if ((e = fn(cls, &row, err)))
            break;
        (*count)++;
    }
    if (!e && rc != SQLITE_DONE)
        e = sqlite__error(c, err, "walking the leads");
    sqlite3_reset(s);
    arena_release(&scratch);
    /* Nothing was written: ending the read transaction cannot lose anything. */
    if (sqlite3_exec(sqlite__handle(c), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(sqlite__handle(c), "ROLLBACK", NULL, NULL, NULL);
    return e;
}
