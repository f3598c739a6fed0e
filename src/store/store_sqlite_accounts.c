/*
 * store_sqlite_accounts.c - the SQLite side of the accounts section of
 * store.h: the accounts table (schema v3) and the accounts version in
 * store_meta (schema v4).
 *
 * Domains are kept as a JSON array in one column: an account's domains are
 * always read and written together, and the only lookup by domain happens in
 * the engine's in-memory index, not in SQL. An upsert reads the row's times
 * first, so that it can tell created from updated from unchanged and return
 * the times as stored; the UPDATE only writes when a column differs, so
 * importing the same file twice writes nothing the second time and leaves
 * the version, and so the engine's index, alone.
 */
#include "store/store_sqlite_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum {
    AS_TIMES = SQLITE__SLOTS_ACCOUNTS,
    AS_INSERT,
    AS_UPDATE,
    AS_GET,
    AS_LIST,
    AS_EACH,
    AS_COUNT,
    AS_VERSION,
    AS_VERSION_BUMP,
    AS_END
};
_Static_assert(AS_END <= SQLITE__SLOTS_ACCOUNTS + 16, "account statements fit their slots");

#define ACCOUNT_COLUMNS "id, name, domains, website, country, owner, fields, created_at, updated_at"

static const char *const sql[] = {
    [AS_TIMES - SQLITE__SLOTS_ACCOUNTS] = "SELECT created_at, updated_at FROM accounts "
                                          "WHERE id = ?1",
    [AS_INSERT - SQLITE__SLOTS_ACCOUNTS] = "INSERT INTO accounts (" ACCOUNT_COLUMNS ") "
                                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    [AS_UPDATE - SQLITE__SLOTS_ACCOUNTS] =
        "UPDATE accounts SET name = ?2, domains = ?3, website = ?4, country = ?5, owner = ?6, "
        "fields = ?7, updated_at = ?8 WHERE id = ?1 AND (name IS NOT ?2 OR domains IS NOT ?3 "
        "OR website IS NOT ?4 OR country IS NOT ?5 OR owner IS NOT ?6 OR fields IS NOT ?7)",
    [AS_GET - SQLITE__SLOTS_ACCOUNTS] = "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?1",
    [AS_LIST - SQLITE__SLOTS_ACCOUNTS] = "SELECT " ACCOUNT_COLUMNS " FROM accounts "
                                         "WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
    [AS_EACH - SQLITE__SLOTS_ACCOUNTS] = "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY id",
    [AS_COUNT - SQLITE__SLOTS_ACCOUNTS] = "SELECT count(*) FROM accounts",
    [AS_VERSION - SQLITE__SLOTS_ACCOUNTS] = "SELECT value FROM store_meta "
                                            "WHERE key = 'accounts_version'",
    [AS_VERSION_BUMP - SQLITE__SLOTS_ACCOUNTS] = "UPDATE store_meta SET value = random() "
                                                 "WHERE key = 'accounts_version'",
};

static sqlite3_stmt *stmt(struct store_conn *c, int slot, struct bt_error *err)
{
    return sqlite__stmt(c, (unsigned)slot, sql[slot - SQLITE__SLOTS_ACCOUNTS], err);
}

/* The domains as a compact JSON array (malloc'd), or NULL when it cannot be
 * encoded (not UTF-8). */
static char *domains_json(const struct store_account *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n_domains; i++) {
        json_t *s = json_string(a->domains[i]);
        if (!s) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, s);
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

/* Reads the row of a statement that selects ACCOUNT_COLUMNS. */
static bt_err read_account(sqlite3_stmt *st, struct arena *a, struct store_account *out,
                           struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite__col_text(st, 0, a);
    out->name = sqlite__col_text(st, 1, a);
    out->website = sqlite__col_text(st, 3, a);
    out->country = sqlite__col_text(st, 4, a);
    out->owner = sqlite__col_text(st, 5, a);
    out->fields_json = sqlite__col_text(st, 6, a);
    out->created_at = sqlite3_column_int64(st, 7);
    out->updated_at = sqlite3_column_int64(st, 8);
    if (!out->id || (!out->fields_json && sqlite3_column_type(st, 6) != SQLITE_NULL))
        return bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    const char *text = (const char *)sqlite3_column_text(st, 2);
    json_error_t jerr;
    json_t *arr = text ? json_loads(text, 0, &jerr) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return bt_fail(err, BT_ESTORE, NULL, "account %s: its domains are not a JSON array",
                       out->id);
    }
    size_t n = json_array_size(arr);
    bt_err e = BT_OK;
    if (n) {
        out->domains = arena_alloc(a, sizeof(*out->domains) * n);
        if (!out->domains)
            e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
        for (size_t i = 0; !e && i < n; i++) {
            const char *d = json_string_value(json_array_get(arr, i));
            if (!d)
                e = bt_fail(err, BT_ESTORE, NULL, "account %s: a domain is not a string", out->id);
            else if (!(out->domains[out->n_domains++] = arena_strdup(a, d)))
                e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
        }
    }
    json_decref(arr);
    return e;
}

/* Writes one account; sets its times and *outcome. */
static bt_err upsert_one(struct store_conn *c, struct store_account *acc, int64_t now,
                         enum store_account_outcome *outcome, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, AS_TIMES, err);
    if (!st)
        return BT_ESTORE;
    sqlite__bind_text(st, 1, acc->id);
    int rc = sqlite3_step(st);
    bool exists = rc == SQLITE_ROW;
    if (exists) {
        acc->created_at = sqlite3_column_int64(st, 0);
        acc->updated_at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite__error(c, err, "reading account");

    char *domains = domains_json(acc);
    if (!domains)
        return bt_fail(err, BT_EINVAL, "domains", "account %s: domains are not valid UTF-8",
                       acc->id);
    st = stmt(c, exists ? AS_UPDATE : AS_INSERT, err);
    bt_err e = BT_ESTORE;
    if (st) {
        sqlite__bind_text(st, 1, acc->id);
        sqlite__bind_text(st, 2, acc->name);
        sqlite__bind_text(st, 3, domains);
        sqlite__bind_text(st, 4, acc->website);
        sqlite__bind_text(st, 5, acc->country);
        sqlite__bind_text(st, 6, acc->owner);
        sqlite__bind_text(st, 7, acc->fields_json ? acc->fields_json : "{}");
        sqlite3_bind_int64(st, 8, now);
        e = sqlite__step_done(c, st, exists ? "updating account" : "inserting account", err);
    }
    free(domains);
    if (e)
        return e;
    if (!exists) {
        acc->created_at = acc->updated_at = now;
        *outcome = STORE_ACCOUNT_CREATED;
    } else if (sqlite3_changes(sqlite__handle(c)) > 0) {
        acc->updated_at = now;
        *outcome = STORE_ACCOUNT_UPDATED;
    } else {
        *outcome = STORE_ACCOUNT_UNCHANGED;
    }
    return BT_OK;
}

static bt_err sq_upsert(struct store_conn *c, struct store_account *accounts, size_t n, int64_t now,
                        enum store_account_outcome *outcomes, struct bt_error *err)
{
    bool written = false;
    for (size_t i = 0; i < n; i++) {
        enum store_account_outcome o;
        bt_err e = upsert_one(c, &accounts[i], now, &o, err);
        if (e)
            return e;
        if (outcomes)
            outcomes[i] = o;
        written = written || o != STORE_ACCOUNT_UNCHANGED;
    }
    if (!written)
        return BT_OK;
    sqlite3_stmt *st = stmt(c, AS_VERSION_BUMP, err);
    if (!st)
        return BT_ESTORE;
    bt_err e = sqlite__step_done(c, st, "changing the accounts version", err);
    if (!e && sqlite3_changes(sqlite__handle(c)) != 1)
        e = bt_fail(err, BT_ESTORE, NULL, "the accounts version is missing from store_meta");
    return e;
}

static bt_err sq_get(struct store_conn *c, const char *id, struct arena *a,
                     struct store_account *out, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, AS_GET, err);
    if (!st)
        return BT_ESTORE;
    sqlite__bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    bt_err e;
    if (rc == SQLITE_ROW)
        e = read_account(st, a, out, err);
    else if (rc == SQLITE_DONE)
        e = bt_fail(err, BT_ENOTFOUND, "id", "no such account: %.128s", id);
    else
        e = sqlite__error(c, err, "reading account");
    sqlite3_reset(st);
    return e;
}

static bt_err sq_list(struct store_conn *c, const char *after, unsigned limit, struct arena *a,
                      struct store_account **out, size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = stmt(c, AS_LIST, err);
    if (!st)
        return BT_ESTORE;
    sqlite__bind_text(st, 1, after);
    sqlite3_bind_int(st, 2, (int)limit);
    struct store_account *list = arena_alloc(a, sizeof(*list) * limit);
    if (!list) {
        sqlite3_reset(st);
        return bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    }
    size_t n = 0;
    int rc;
    bt_err e = BT_OK;
    while (!e && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        e = read_account(st, a, &list[n++], err);
    if (!e && n < limit && rc != SQLITE_DONE)
        e = sqlite__error(c, err, "listing accounts");
    sqlite3_reset(st);
    *out = list;
    *count = e ? 0 : n;
    return e;
}

static bt_err sq_each(struct store_conn *c, store_account_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, AS_EACH, err);
    if (!st)
        return BT_ESTORE;
    struct arena a = ARENA_INIT;
    int rc;
    bt_err e = BT_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_account acc;
        e = read_account(st, &a, &acc, err);
        if (!e)
            e = fn(cls, &acc, err);
        arena_release(&a);
    }
    if (!e && rc != SQLITE_DONE)
        e = sqlite__error(c, err, "reading accounts");
    sqlite3_reset(st);
    return e;
}

static bt_err single_int(struct store_conn *c, int slot, const char *what, int64_t *out,
                         struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, slot, err);
    if (!st)
        return BT_ESTORE;
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        e = bt_fail(err, BT_ESTORE, NULL, "%s: no row", what);
    else
        e = sqlite__error(c, err, what);
    sqlite3_reset(st);
    return e;
}

static bt_err sq_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    return single_int(c, AS_COUNT, "counting accounts", count, err);
}

static bt_err sq_version(struct store_conn *c, int64_t *version, struct bt_error *err)
{
    return single_int(c, AS_VERSION, "reading the accounts version", version, err);
}

const struct store_account_ops store__sqlite_account_ops = {
    .upsert = sq_upsert,
    .get = sq_get,
    .list = sq_list,
    .each = sq_each,
    .count = sq_count,
    .version = sq_version,
};
