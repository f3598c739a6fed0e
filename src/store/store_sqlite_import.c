/*
 * store_sqlite_import.c - the SQLite side of store_history_import.h, with
 * its statements in slots SQLITE__SLOTS_IMPORT ... (prepared once per
 * connection, like every other statement of the store).
 *
 * Only SQLite implements it today; another backend will add these calls to
 * its operations table when it exists (store_backend.h).
 */
#include "store/store_history_import.h"
#include "store/store_sqlite_internal.h"

#include <string.h>

enum {
    ST_ACTIVITY_EXISTS = SQLITE__SLOTS_IMPORT,
    ST_COUNT,
};

static const char *const sql[] = {
    [ST_ACTIVITY_EXISTS - SQLITE__SLOTS_IMPORT] =
        "SELECT 1 FROM activities WHERE lead_id = ?1 AND occurred_at = ?3 AND type = ?2 LIMIT 1",
    [ST_COUNT - SQLITE__SLOTS_IMPORT] =
        "SELECT count(*), "
        "  count(CASE WHEN EXISTS (SELECT 1 FROM outcomes o WHERE o.lead_id = l.id) THEN 1 END), "
        "  count(CASE WHEN l.stage = 'won' THEN 1 END) "
        "FROM leads l WHERE ?1 = '' OR substr(l.external_id, 1, length(?1)) = ?1",
};

static sqlite3_stmt *statement(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    if (c->ops != &store__sqlite_ops)
        BT_BUG("store_history_import.h is implemented for SQLite only");
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_IMPORT], err);
}

bt_err store_import_activity_exists(struct store_conn *c, int64_t lead_id, const char *type,
                                    int64_t occurred_at, bool *exists, struct bt_error *err)
{
    sqlite3_stmt *st = statement(c, ST_ACTIVITY_EXISTS, err);
    if (!st)
        return BT_ESTORE;
    sqlite3_bind_int64(st, 1, lead_id);
    sqlite__bind_text(st, 2, type);
    sqlite3_bind_int64(st, 3, occurred_at);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? BT_OK
                   : sqlite__error(c, err, "looking for an imported activity");
    sqlite3_reset(st);
    return e;
}

bt_err store_import_count(struct store_conn *c, const char *prefix, struct store_import_counts *out,
                          struct bt_error *err)
{
    sqlite3_stmt *st = statement(c, ST_COUNT, err);
    if (!st)
        return BT_ESTORE;
    sqlite__bind_text(st, 1, prefix ? prefix : "");
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    memset(out, 0, sizeof(*out));
    if (rc == SQLITE_ROW) {
        out->leads = sqlite3_column_int64(st, 0);
        out->with_outcome = sqlite3_column_int64(st, 1);
        out->won = sqlite3_column_int64(st, 2);
    } else {
        e = sqlite__error(c, err, "counting imported leads");
    }
    sqlite3_reset(st);
    return e;
}
