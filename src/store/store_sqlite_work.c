/*
 * store_sqlite_work.c - shared work on SQLite: claims with a lease and the
 * next due times the timers ask for (store.h, "Shared work").
 *
 * A claim is one row of `claims` keyed by (kind, key). Taking it is a single
 * upsert that only overwrites a row whose lease has run out or that the same
 * holder owns; whether the statement changed a row says whether the claim
 * was got. SQLite writes under one database lock (BEGIN IMMEDIATE), so two
 * claims never race here; the same statement is what a server database
 * serialises on the row.
 */
#include "store/store_sqlite_internal.h"

enum { WS_CLAIM = SQLITE__SLOTS_WORK, WS_CLAIM_RELEASE, WS_NEXT_RESCORE, WS_END };
_Static_assert(WS_END <= SQLITE__SLOTS, "work statements fit their slots");

static const char *const sql[WS_END - SQLITE__SLOTS_WORK] = {
    [WS_CLAIM - SQLITE__SLOTS_WORK] =
        "INSERT INTO claims (kind, key, holder, expires_at) VALUES (?1, ?2, ?3, ?4 + ?5) "
        "ON CONFLICT (kind, key) DO UPDATE SET holder = excluded.holder, "
        "expires_at = excluded.expires_at "
        "WHERE claims.holder = excluded.holder OR claims.expires_at <= ?4",
    [WS_CLAIM_RELEASE - SQLITE__SLOTS_WORK] =
        "DELETE FROM claims WHERE kind = ?1 AND key = ?2 AND holder = ?3",
    [WS_NEXT_RESCORE - SQLITE__SLOTS_WORK] =
        "SELECT min(rescore_at) FROM leads WHERE rescore_at IS NOT NULL",
};

static sqlite3_stmt *st(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_WORK], err);
}

static bt_err sqw_claim(struct store_conn *c, const char *kind, const char *key, const char *holder,
                        int64_t now, int64_t lease_ms, bool *got, struct bt_error *err)
{
    if (sqlite3_get_autocommit(sqlite__handle(c)))
        BT_BUG("store_claim outside a transaction");
    sqlite3_stmt *s = st(c, WS_CLAIM, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, holder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, lease_ms);
    bt_err e = sqlite__step_done(c, s, "claiming work", err);
    *got = !e && sqlite3_changes(sqlite__handle(c)) == 1;
    return e;
}

static bt_err sqw_claim_release(struct store_conn *c, const char *kind, const char *key,
                                const char *holder, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, WS_CLAIM_RELEASE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, holder, -1, SQLITE_STATIC);
    return sqlite__step_done(c, s, "releasing a claim", err);
}

static bt_err sqw_next_rescore(struct store_conn *c, int64_t *at, struct bt_error *err)
{
    *at = 0;
    sqlite3_stmt *s = st(c, WS_NEXT_RESCORE, err);
    if (!s)
        return BT_ESTORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *at = sqlite3_column_int64(s, 0);
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? BT_OK
                   : sqlite__error(c, err, "finding the next rescoring");
    sqlite3_reset(s);
    return e;
}

const struct store_work_ops store__sqlite_work_ops = {
    .claim = sqw_claim,
    .claim_release = sqw_claim_release,
    .next_rescore = sqw_next_rescore,
};
