/*
 * store_sqlite_routing.c - the SQLite side of store_routing.h.
 */
#include "store/store_sqlite_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    RS_RUNTIME_STATE = SQLITE__SLOTS_ROUTING,
    RS_RUNTIME_TIME_OFF,
    RS_STATUS_SET,
    RS_COUNTS_SET,
    RS_TIME_OFF_ADD,
    RS_TIME_OFF_DELETE,
    RS_TIME_OFF_LIST,
    RS_TIME_OFF_FIND,
    RS_REP_EVENT,
    RS_NEXT_CHANGE,
    RS_REPS_FREED,
    RS_POOL_GET,
    RS_POOL_PUT,
    RS_DECISION_INSERT,
    RS_DECISION_LATEST,
    RS_CONFIG_PUT,
    RS_CONFIG_GET,
    RS_HOLD_PUT,
    RS_HOLD_REMOVE,
    RS_HOLD_LIST,
    RS_HOLD_COUNT,
    RS_HOLD_GET,
    RS_HOLD_SUMMARY,
    RS_HOLD_WAKES_CLEAR,
    RS_HOLD_WAKE_ADD,
    RS_HOLD_LIST_WOKEN,
    RS_HOLD_LIST_WAKEABLE,
    RS_EXCLUSION_ADD,
    RS_EXCLUSION_LIST,
    RS_LEAD_ACCOUNT,
    RS_END
};
_Static_assert(RS_END <= SQLITE__SLOTS, "routing statements fit their slots");

#define TIME_OFF_MAX 1000

/* A page of the hold queue after the cursor (?2 score, ?3 since, ?4 lead;
 * from the top: ?2 = +infinity). `score <= ?2` first, so that the page
 * starts where the cursor is in holds_order instead of walking the index
 * from the top on every page. */
#define HOLD_AFTER "score <= ?2 AND (score < ?2 OR since > ?3 OR (since = ?3 AND lead_id > ?4))"

static const char *const sql[] = {
    /* one row whether or not the rep has state: its state, its open
     * assignments, and whether any time off is still to come */
    [RS_RUNTIME_STATE - SQLITE__SLOTS_ROUTING] =
        "SELECT s.status, s.status_reason, s.status_until, s.day_start, s.day_count, "
        "s.week_start, s.week_count, (SELECT open FROM rep_open WHERE rep_id = ?1), "
        "EXISTS (SELECT 1 FROM rep_time_off WHERE rep_id = ?1 AND to_at > ?2) "
        "FROM (SELECT 1) LEFT JOIN rep_state AS s ON s.rep_id = ?1",
    [RS_RUNTIME_TIME_OFF - SQLITE__SLOTS_ROUTING] =
        "SELECT from_at, to_at FROM rep_time_off WHERE rep_id = ?1 AND to_at > ?2 "
        "ORDER BY from_at LIMIT 1000",
    [RS_STATUS_SET - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO rep_state (rep_id, status, status_reason, status_until, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (rep_id) DO UPDATE SET status = ?2, "
        "status_reason = ?3, status_until = ?4, updated_at = ?5",
    [RS_COUNTS_SET - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO rep_state (rep_id, day_start, day_count, week_start, week_count, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (rep_id) DO UPDATE SET "
        "day_start = ?2, day_count = ?3, week_start = ?4, week_count = ?5, updated_at = ?6",
    [RS_TIME_OFF_ADD - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO rep_time_off (rep_id, from_at, to_at, reason, actor, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [RS_TIME_OFF_DELETE - SQLITE__SLOTS_ROUTING] =
        "DELETE FROM rep_time_off WHERE rep_id = ?1 AND id = ?2",
    [RS_TIME_OFF_LIST - SQLITE__SLOTS_ROUTING] =
        "SELECT id, rep_id, from_at, to_at, reason, actor, created_at FROM rep_time_off "
        "WHERE rep_id = ?1 AND to_at > ?2 ORDER BY from_at, id LIMIT 1000",
    [RS_TIME_OFF_FIND - SQLITE__SLOTS_ROUTING] =
        "SELECT id FROM rep_time_off WHERE rep_id = ?1 AND from_at = ?2 AND to_at = ?3 "
        "ORDER BY id LIMIT 1",
    [RS_REP_EVENT - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO rep_events (rep_id, type, actor, reason, data, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [RS_NEXT_CHANGE - SQLITE__SLOTS_ROUTING] =
        "SELECT min(t) FROM (SELECT min(status_until) AS t FROM rep_state WHERE status_until > ?1 "
        "UNION ALL SELECT min(to_at) FROM rep_time_off WHERE to_at > ?1 "
        "UNION ALL SELECT min(from_at) FROM rep_time_off WHERE from_at > ?1)",
    [RS_REPS_FREED - SQLITE__SLOTS_ROUTING] =
        "SELECT rep_id FROM rep_state WHERE status_until > ?1 AND status_until <= ?2 "
        "UNION SELECT rep_id FROM rep_time_off WHERE to_at > ?1 AND to_at <= ?2 "
        "ORDER BY 1 LIMIT 10000",
    [RS_POOL_GET - SQLITE__SLOTS_ROUTING] = "SELECT state FROM pool_state WHERE pool_id = ?1",
    [RS_POOL_PUT - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO pool_state (pool_id, state, updated_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (pool_id) DO UPDATE SET state = ?2, updated_at = ?3",
    [RS_DECISION_INSERT - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO decisions (lead_id, result, rep_id, pool_id, rule, config_version, record, "
        "at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [RS_DECISION_LATEST - SQLITE__SLOTS_ROUTING] =
        "SELECT id, lead_id, result, rep_id, pool_id, rule, config_version, record, at "
        "FROM decisions WHERE lead_id = ?1 ORDER BY id DESC LIMIT 1",
    [RS_CONFIG_PUT - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO config_versions (version, context, first_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (version) DO NOTHING",
    [RS_CONFIG_GET - SQLITE__SLOTS_ROUTING] =
        "SELECT context FROM config_versions WHERE version = ?1",
    [RS_HOLD_PUT - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO holds (lead_id, reason, rule, pool_id, rep_id, score, since, decision_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (lead_id) DO UPDATE SET "
        "reason = ?2, rule = ?3, pool_id = ?4, rep_id = ?5, score = ?6, decision_id = ?8",
    [RS_HOLD_REMOVE - SQLITE__SLOTS_ROUTING] = "DELETE FROM holds WHERE lead_id = ?1",
    [RS_HOLD_LIST - SQLITE__SLOTS_ROUTING] =
        "SELECT lead_id, reason, rule, pool_id, rep_id, score, since, decision_id FROM holds "
        "WHERE " HOLD_AFTER " ORDER BY score DESC, since, lead_id LIMIT ?1",
    [RS_HOLD_COUNT - SQLITE__SLOTS_ROUTING] = "SELECT count(*) FROM holds",
    [RS_HOLD_SUMMARY - SQLITE__SLOTS_ROUTING] =
        "SELECT count(*), coalesce(min(since), 0) FROM holds",
    [RS_HOLD_WAKES_CLEAR - SQLITE__SLOTS_ROUTING] = "DELETE FROM hold_wakes WHERE lead_id = ?1",
    [RS_HOLD_WAKE_ADD - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO hold_wakes (target, lead_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    /* ?5: the targets as a JSON array of strings, one statement for any
     * number of them */
    [RS_HOLD_LIST_WOKEN - SQLITE__SLOTS_ROUTING] =
        "SELECT lead_id, reason, rule, pool_id, rep_id, score, since, decision_id FROM holds "
        "WHERE lead_id IN (SELECT lead_id FROM hold_wakes "
        "                  WHERE target IN (SELECT value FROM json_each(?5))) "
        "AND " HOLD_AFTER " ORDER BY score DESC, since, lead_id LIMIT ?1",
    [RS_HOLD_LIST_WAKEABLE - SQLITE__SLOTS_ROUTING] =
        "SELECT lead_id, reason, rule, pool_id, rep_id, score, since, decision_id FROM holds "
        "WHERE EXISTS (SELECT 1 FROM hold_wakes w WHERE w.lead_id = holds.lead_id) "
        "AND " HOLD_AFTER " ORDER BY score DESC, since, lead_id LIMIT ?1",
    [RS_HOLD_GET - SQLITE__SLOTS_ROUTING] =
        "SELECT lead_id, reason, rule, pool_id, rep_id, score, since, decision_id, "
        "(SELECT group_concat(target, ' ') FROM (SELECT target FROM hold_wakes "
        "  WHERE lead_id = ?1 ORDER BY target)) FROM holds WHERE lead_id = ?1",
    [RS_EXCLUSION_ADD - SQLITE__SLOTS_ROUTING] =
        "INSERT INTO lead_exclusions (lead_id, rep_id, reason, at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (lead_id, rep_id) DO UPDATE SET reason = ?3, at = ?4",
    [RS_EXCLUSION_LIST - SQLITE__SLOTS_ROUTING] =
        "SELECT rep_id, reason, at FROM lead_exclusions WHERE lead_id = ?1 ORDER BY rep_id "
        "LIMIT 1000",
    [RS_LEAD_ACCOUNT - SQLITE__SLOTS_ROUTING] =
        "UPDATE leads SET account_id = ?2, account_match = ?3 WHERE id = ?1",
};

static sqlite3_stmt *st(struct store_conn *c, int id, struct bt_error *err)
{
    return sqlite__stmt(c, (unsigned)id, sql[id - SQLITE__SLOTS_ROUTING], err);
}

/* Runs a statement that returns at most one row; *row says whether it did.
 * The caller reads the row and resets the statement. */
static bt_err step_row(struct store_conn *c, sqlite3_stmt *s, const char *what, bool *row,
                       struct bt_error *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *row = true;
        return BT_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return BT_OK;
    bt_err e = sqlite__error(c, err, what);
    sqlite3_reset(s);
    return e;
}

static bt_err sqr_rep_runtime_get(struct store_conn *c, const char *rep_id, int64_t now,
                                  struct arena *a, struct rep_runtime *out, struct bt_error *err)
{
    *out = (struct rep_runtime)REP_RUNTIME_INIT;
    sqlite3_stmt *s = st(c, RS_RUNTIME_STATE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    bool row;
    bt_err e = step_row(c, s, "reading rep state", &row, err);
    if (e)
        return e;
    bool time_off = false;
    if (row) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        if (!status || !rep_status_parse(status, &out->status))
            out->status = REP_AVAILABLE;
        out->status_reason = sqlite__col_text(s, 1, a);
        out->status_until = sqlite3_column_int64(s, 2);
        out->day_start = sqlite3_column_int64(s, 3);
        out->day_count = sqlite3_column_int64(s, 4);
        out->week_start = sqlite3_column_int64(s, 5);
        out->week_count = sqlite3_column_int64(s, 6);
        out->open = sqlite3_column_int64(s, 7);
        time_off = sqlite3_column_int(s, 8) != 0;
    }
    sqlite3_reset(s);
    if (!time_off)
        return BT_OK;

    s = st(c, RS_RUNTIME_TIME_OFF, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    struct time_off_span *spans = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!(spans = arena_room_for_one(a, spans, n, &cap, sizeof(*spans)))) {
            sqlite3_reset(s);
            return bt_fail(err, BT_ETOOBIG, NULL, "reading time off: out of memory");
        }
        spans[n].from_ms = sqlite3_column_int64(s, 0);
        spans[n].to_ms = sqlite3_column_int64(s, 1);
        n++;
    }
    e = rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "reading time off");
    sqlite3_reset(s);
    out->time_off.spans = spans;
    out->time_off.count = n;
    return e;
}

static bt_err sqr_rep_status_set(struct store_conn *c, const char *rep_id, enum rep_status status,
                                 const char *reason, int64_t until, int64_t now,
                                 struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_STATUS_SET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, rep_status_name(status), -1, SQLITE_STATIC);
    sqlite__bind_text(s, 3, reason);
    sqlite__bind_positive(s, 4, until);
    sqlite3_bind_int64(s, 5, now);
    return sqlite__step_done(c, s, "setting rep status", err);
}

static bt_err sqr_rep_counts_set(struct store_conn *c, const char *rep_id, int64_t day_start,
                                 int64_t day_count, int64_t week_start, int64_t week_count,
                                 int64_t now, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_COUNTS_SET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, day_start);
    sqlite3_bind_int64(s, 3, day_count);
    sqlite3_bind_int64(s, 4, week_start);
    sqlite3_bind_int64(s, 5, week_count);
    sqlite3_bind_int64(s, 6, now);
    return sqlite__step_done(c, s, "counting assignments", err);
}

static bt_err sqr_time_off_add(struct store_conn *c, struct store_time_off *t, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_TIME_OFF_ADD, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, t->rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, t->from);
    sqlite3_bind_int64(s, 3, t->to);
    sqlite__bind_text(s, 4, t->reason);
    sqlite__bind_text(s, 5, t->actor ? t->actor : "system");
    sqlite3_bind_int64(s, 6, t->created_at);
    bt_err e = sqlite__step_done(c, s, "adding time off", err);
    if (!e)
        t->id = sqlite3_last_insert_rowid(sqlite__handle(c));
    return e;
}

static bt_err sqr_time_off_delete(struct store_conn *c, const char *rep_id, int64_t id,
                                  struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_TIME_OFF_DELETE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, id);
    bt_err e = sqlite__step_done(c, s, "deleting time off", err);
    if (!e && sqlite3_changes(sqlite__handle(c)) == 0)
        return bt_fail(err, BT_ENOTFOUND, "id", "rep %s has no time off %lld", rep_id,
                       (long long)id);
    return e;
}

static bt_err sqr_time_off_find(struct store_conn *c, const char *rep_id, int64_t from, int64_t to,
                                int64_t *id, struct bt_error *err)
{
    *id = 0;
    sqlite3_stmt *s = st(c, RS_TIME_OFF_FIND, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 3, to);
    bool row;
    bt_err e = step_row(c, s, "looking up time off", &row, err);
    if (e)
        return e;
    if (row)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_time_off_list(struct store_conn *c, const char *rep_id, int64_t after,
                                struct arena *a, struct store_time_off **out, size_t *count,
                                struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st(c, RS_TIME_OFF_LIST, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, after);
    struct store_time_off *items = arena_alloc(a, TIME_OFF_MAX * sizeof(*items));
    if (!items) {
        sqlite3_reset(s);
        return bt_fail(err, BT_ETOOBIG, NULL, "listing time off: out of memory");
    }
    int rc;
    size_t n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < TIME_OFF_MAX) {
        struct store_time_off *t = &items[n++];
        t->id = sqlite3_column_int64(s, 0);
        t->rep_id = sqlite__col_text(s, 1, a);
        t->from = sqlite3_column_int64(s, 2);
        t->to = sqlite3_column_int64(s, 3);
        t->reason = sqlite__col_text(s, 4, a);
        t->actor = sqlite__col_text(s, 5, a);
        t->created_at = sqlite3_column_int64(s, 6);
    }
    bt_err e =
        rc == SQLITE_DONE || rc == SQLITE_ROW ? BT_OK : sqlite__error(c, err, "listing time off");
    sqlite3_reset(s);
    *out = items;
    *count = n;
    return e;
}

static bt_err sqr_rep_event_append(struct store_conn *c, const char *rep_id, const char *type,
                                   const char *actor, const char *reason, const char *data_json,
                                   int64_t at, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_REP_EVENT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, actor ? actor : "system", -1, SQLITE_STATIC);
    sqlite__bind_text(s, 4, reason);
    sqlite3_bind_text(s, 5, data_json ? data_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, at);
    return sqlite__step_done(c, s, "recording rep event", err);
}

static bt_err sqr_reps_freed(struct store_conn *c, int64_t from, int64_t to, struct arena *a,
                             const char ***ids, size_t *count, struct bt_error *err)
{
    *ids = NULL;
    *count = 0;
    sqlite3_stmt *s = st(c, RS_REPS_FREED, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    size_t n = 0, cap = 16;
    const char **out = arena_alloc(a, cap * sizeof(*out));
    int rc = SQLITE_ROW;
    while (out && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            const char **more = arena_alloc(a, 2 * cap * sizeof(*more));
            if (more)
                memcpy(more, out, n * sizeof(*out));
            out = more;
            cap *= 2;
        }
        if (out)
            out[n++] = sqlite__col_text(s, 0, a);
    }
    bt_err e = !out                ? bt_fail(err, BT_ETOOBIG, NULL, "listing reps: out of memory")
               : rc == SQLITE_DONE ? BT_OK
                                   : sqlite__error(c, err, "listing the reps freed");
    sqlite3_reset(s);
    *ids = out;
    *count = out ? n : 0;
    return e;
}

static bt_err sqr_rep_next_change(struct store_conn *c, int64_t now, int64_t *out,
                                  struct bt_error *err)
{
    *out = 0;
    sqlite3_stmt *s = st(c, RS_NEXT_CHANGE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, now);
    bool row;
    bt_err e = step_row(c, s, "finding the next rep change", &row, err);
    if (e)
        return e;
    if (row && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_pool_state_get(struct store_conn *c, const char *pool_id, struct arena *a,
                                 const char **json, struct bt_error *err)
{
    *json = NULL;
    sqlite3_stmt *s = st(c, RS_POOL_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, pool_id, -1, SQLITE_STATIC);
    bool row;
    bt_err e = step_row(c, s, "reading pool state", &row, err);
    if (e)
        return e;
    if (row)
        *json = sqlite__col_text(s, 0, a);
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_pool_state_put(struct store_conn *c, const char *pool_id, const char *json,
                                 int64_t now, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_POOL_PUT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, pool_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return sqlite__step_done(c, s, "writing pool state", err);
}

static bt_err sqr_decision_insert(struct store_conn *c, struct store_decision *d,
                                  struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_DECISION_INSERT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, d->lead_id);
    sqlite3_bind_text(s, 2, d->result, -1, SQLITE_STATIC);
    sqlite__bind_text(s, 3, d->rep_id);
    sqlite__bind_text(s, 4, d->pool_id);
    sqlite__bind_text(s, 5, d->rule);
    sqlite3_bind_text(s, 6, d->config_version ? d->config_version : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, d->record, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, d->at);
    bt_err e = sqlite__step_done(c, s, "recording decision", err);
    if (!e)
        d->id = sqlite3_last_insert_rowid(sqlite__handle(c));
    return e;
}

static bt_err sqr_decision_latest(struct store_conn *c, int64_t lead_id, struct arena *a,
                                  struct store_decision *out, struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *s = st(c, RS_DECISION_LATEST, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    bool row;
    bt_err e = step_row(c, s, "reading decision", &row, err);
    if (e)
        return e;
    if (!row)
        return bt_fail(err, BT_ENOTFOUND, NULL, "lead %lld has no routing decision",
                       (long long)lead_id);
    out->id = sqlite3_column_int64(s, 0);
    out->lead_id = sqlite3_column_int64(s, 1);
    out->result = sqlite__col_text(s, 2, a);
    out->rep_id = sqlite__col_text(s, 3, a);
    out->pool_id = sqlite__col_text(s, 4, a);
    out->rule = sqlite__col_text(s, 5, a);
    out->config_version = sqlite__col_text(s, 6, a);
    out->record = sqlite__col_text(s, 7, a);
    out->at = sqlite3_column_int64(s, 8);
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_config_version_put(struct store_conn *c, const char *version, const char *text,
                                     size_t len, int64_t at, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_CONFIG_PUT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, version, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, text ? text : "", (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    return sqlite__step_done(c, s, "keeping the configuration version", err);
}

static bt_err sqr_config_version_get(struct store_conn *c, const char *version, struct arena *a,
                                     const char **text, size_t *len, struct bt_error *err)
{
    *text = NULL;
    *len = 0;
    sqlite3_stmt *s = st(c, RS_CONFIG_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, version, -1, SQLITE_STATIC);
    bool row;
    bt_err e = step_row(c, s, "reading a configuration version", &row, err);
    if (e)
        return e;
    if (row) {
        *text = sqlite__col_text(s, 0, a);
        *len = (size_t)sqlite3_column_bytes(s, 0);
    }
    sqlite3_reset(s);
    if (!row)
        return bt_fail(err, BT_ENOTFOUND, NULL, "configuration version %s is not kept", version);
    if (!*text)
        return bt_fail(err, BT_ETOOBIG, NULL, "reading a configuration version: out of memory");
    return BT_OK;
}

static bt_err sqr_hold_put(struct store_conn *c, const struct store_hold *h, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_HOLD_PUT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, h->lead_id);
    sqlite3_bind_text(s, 2, h->reason, -1, SQLITE_STATIC);
    sqlite__bind_text(s, 3, h->rule);
    sqlite__bind_text(s, 4, h->pool_id);
    sqlite__bind_text(s, 5, h->rep_id);
    sqlite3_bind_double(s, 6, h->score);
    sqlite3_bind_int64(s, 7, h->since);
    sqlite__bind_positive(s, 8, h->decision_id);
    bt_err e = sqlite__step_done(c, s, "holding lead", err);
    if (e || !(s = st(c, RS_HOLD_WAKES_CLEAR, err)))
        return e ? e : BT_ESTORE;
    sqlite3_bind_int64(s, 1, h->lead_id);
    if ((e = sqlite__step_done(c, s, "holding lead", err)))
        return e;
    for (size_t i = 0; i < h->n_wakes; i++) {
        if (!(s = st(c, RS_HOLD_WAKE_ADD, err)))
            return BT_ESTORE;
        sqlite3_bind_text(s, 1, h->wakes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, h->lead_id);
        if ((e = sqlite__step_done(c, s, "holding lead", err)))
            return e;
    }
    return BT_OK;
}

static bt_err sqr_hold_remove(struct store_conn *c, int64_t lead_id, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_HOLD_REMOVE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    return sqlite__step_done(c, s, "releasing held lead", err);
}

static void read_hold(sqlite3_stmt *s, struct arena *a, struct store_hold *h)
{
    h->lead_id = sqlite3_column_int64(s, 0);
    h->reason = sqlite__col_text(s, 1, a);
    h->rule = sqlite__col_text(s, 2, a);
    h->pool_id = sqlite__col_text(s, 3, a);
    h->rep_id = sqlite__col_text(s, 4, a);
    h->score = sqlite3_column_double(s, 5);
    h->since = sqlite3_column_int64(s, 6);
    h->decision_id = sqlite3_column_int64(s, 7);
}

/* Steps a hold list statement whose ?1..?4 are limit and cursor. */
static bt_err hold_page(struct store_conn *c, sqlite3_stmt *s, unsigned limit,
                        const struct store_hold *after, struct arena *a, struct store_hold **out,
                        size_t *count, struct bt_error *err)
{
    sqlite3_bind_int64(s, 1, limit);
    if (after) {
        sqlite3_bind_double(s, 2, after->score);
        sqlite3_bind_int64(s, 3, after->since);
        sqlite3_bind_int64(s, 4, after->lead_id);
    } else {
        sqlite3_bind_double(s, 2, INFINITY);
        sqlite3_bind_int64(s, 3, 0);
        sqlite3_bind_int64(s, 4, 0);
    }
    struct store_hold *items = arena_alloc(a, limit * sizeof(*items));
    if (!items) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return bt_fail(err, BT_ETOOBIG, NULL, "listing held leads: out of memory");
    }
    int rc;
    size_t n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit)
        read_hold(s, a, &items[n++]);
    bt_err e =
        rc == SQLITE_DONE || rc == SQLITE_ROW ? BT_OK : sqlite__error(c, err, "listing held leads");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    *out = items;
    *count = n;
    return e;
}

static bt_err sqr_hold_list(struct store_conn *c, unsigned limit, const struct store_hold *after,
                            struct arena *a, struct store_hold **out, size_t *count,
                            struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    if (limit < 1 || limit > STORE_LIST_MAX)
        limit = STORE_LIST_MAX;
    sqlite3_stmt *s = st(c, RS_HOLD_LIST, err);
    if (!s)
        return BT_ESTORE;
    return hold_page(c, s, limit, after, a, out, count, err);
}

static bt_err sqr_hold_list_woken(struct store_conn *c, const char *const *wakes, size_t n_wakes,
                                  unsigned limit, const struct store_hold *after, struct arena *a,
                                  struct store_hold **out, size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    if (limit < 1 || limit > STORE_LIST_MAX)
        limit = STORE_LIST_MAX;
    sqlite3_stmt *s = st(c, n_wakes ? RS_HOLD_LIST_WOKEN : RS_HOLD_LIST_WAKEABLE, err);
    if (!s)
        return BT_ESTORE;
    char *targets = NULL;
    if (n_wakes) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n_wakes && arr; i++)
            if (json_array_append_new(arr, json_string(wakes[i])))
                json_decref(arr), arr = NULL;
        targets = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
        json_decref(arr);
        if (!targets)
            return bt_fail(err, BT_EINVAL, NULL, "listing held leads: a wake target is not text");
        sqlite3_bind_text(s, 5, targets, -1, SQLITE_TRANSIENT);
        free(targets);
    }
    return hold_page(c, s, limit, after, a, out, count, err);
}

static bt_err sqr_hold_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_HOLD_COUNT, err);
    if (!s)
        return BT_ESTORE;
    bool row;
    bt_err e = step_row(c, s, "counting held leads", &row, err);
    if (e)
        return e;
    *count = row ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_hold_summary(struct store_conn *c, int64_t *count, int64_t *oldest_since,
                               struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_HOLD_SUMMARY, err);
    if (!s)
        return BT_ESTORE;
    bool row;
    bt_err e = step_row(c, s, "summing up the hold queue", &row, err);
    if (e)
        return e;
    *count = row ? sqlite3_column_int64(s, 0) : 0;
    *oldest_since = row ? sqlite3_column_int64(s, 1) : 0;
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_hold_get(struct store_conn *c, int64_t lead_id, struct arena *a, bool *held,
                           struct store_hold *h, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_HOLD_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    bool row;
    bt_err e = step_row(c, s, "reading held lead", &row, err);
    if (e)
        return e;
    *held = row;
    if (row && h) {
        read_hold(s, a, h);
        h->wake_list = sqlite__col_text(s, 8, a);
    }
    sqlite3_reset(s);
    return BT_OK;
}

static bt_err sqr_exclusion_add(struct store_conn *c, int64_t lead_id, const char *rep_id,
                                const char *reason, int64_t at, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_EXCLUSION_ADD, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    sqlite3_bind_text(s, 2, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, at);
    return sqlite__step_done(c, s, "excluding rep", err);
}

static bt_err sqr_exclusion_list(struct store_conn *c, int64_t lead_id, struct arena *a,
                                 struct store_exclusion **out, size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st(c, RS_EXCLUSION_LIST, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    struct store_exclusion *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!(list = arena_room_for_one(a, list, n, &cap, sizeof(*list)))) {
            sqlite3_reset(s);
            return bt_fail(err, BT_ETOOBIG, NULL, "listing exclusions: out of memory");
        }
        list[n++] = (struct store_exclusion){sqlite__col_text(s, 0, a), sqlite__col_text(s, 1, a),
                                             sqlite3_column_int64(s, 2)};
    }
    bt_err e = rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "listing exclusions");
    sqlite3_reset(s);
    *out = list;
    *count = n;
    return e;
}

static bt_err sqr_lead_set_account(struct store_conn *c, int64_t lead_id, const char *account_id,
                                   const char *match_json, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, RS_LEAD_ACCOUNT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    sqlite__bind_text(s, 2, account_id);
    sqlite__bind_text(s, 3, match_json);
    return sqlite__step_done(c, s, "setting the lead's account", err);
}

const struct store_routing_ops store__sqlite_routing_ops = {
    .rep_runtime_get = sqr_rep_runtime_get,
    .rep_status_set = sqr_rep_status_set,
    .rep_counts_set = sqr_rep_counts_set,
    .time_off_add = sqr_time_off_add,
    .time_off_delete = sqr_time_off_delete,
    .time_off_find = sqr_time_off_find,
    .time_off_list = sqr_time_off_list,
    .rep_event_append = sqr_rep_event_append,
    .reps_freed = sqr_reps_freed,
    .rep_next_change = sqr_rep_next_change,
    .pool_state_get = sqr_pool_state_get,
    .pool_state_put = sqr_pool_state_put,
    .decision_insert = sqr_decision_insert,
    .decision_latest = sqr_decision_latest,
    .config_version_put = sqr_config_version_put,
    .config_version_get = sqr_config_version_get,
    .hold_put = sqr_hold_put,
    .hold_remove = sqr_hold_remove,
    .hold_list = sqr_hold_list,
    .hold_list_woken = sqr_hold_list_woken,
    .hold_count = sqr_hold_count,
    .hold_get = sqr_hold_get,
    .hold_summary = sqr_hold_summary,
    .exclusion_add = sqr_exclusion_add,
    .exclusion_list = sqr_exclusion_list,
    .lead_set_account = sqr_lead_set_account,
};
