/*
 * store_sqlite_models.c - the models table on SQLite (store_models.h).
 *
 * At most one row is active: the partial unique index models_active makes a
 * second active row a constraint error, so activation clears the old row
 * before it sets the new one, both in the caller's transaction. Lists leave
 * the model JSON out (it can be megabytes of trees); get and active read it.
 */
#include "store/store_models.h"
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <string.h>

#define META_COLS                                                                                  \
    "id, version, kind, target, created_at, trained_from, trained_until, test_from, test_until, "  \
    "n_train, n_test, metrics, active, activated_at"
#define COLS META_COLS ", model"

enum {
    MS_INSERT = SQLITE__SLOTS_MODELS,
    MS_GET,
    MS_GET_BY_VERSION,
    MS_ACTIVE,
    MS_LIST,
    MS_CLEAR,
    MS_SET,
    MS_EXISTS,
    MS_END
};
/* 184 .. 191 belong to the history walk. */
_Static_assert(MS_END <= SQLITE__SLOTS_MODELS + 8, "model statements fit their slots");

static const char *const sql[MS_END - SQLITE__SLOTS_MODELS] = {
    [MS_INSERT - SQLITE__SLOTS_MODELS] =
        "INSERT INTO models (version, kind, target, created_at, trained_from, trained_until, "
        "test_from, test_until, n_train, n_test, model, metrics, active) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, coalesce(?12, '{}'), 0)",
    [MS_GET - SQLITE__SLOTS_MODELS] = "SELECT " COLS " FROM models WHERE id = ?1",
    [MS_GET_BY_VERSION - SQLITE__SLOTS_MODELS] = "SELECT " COLS " FROM models WHERE version = ?1",
    [MS_ACTIVE - SQLITE__SLOTS_MODELS] = "SELECT " COLS " FROM models WHERE active = 1",
    [MS_LIST - SQLITE__SLOTS_MODELS] =
        "SELECT " META_COLS " FROM models ORDER BY created_at DESC, id DESC",
    [MS_CLEAR - SQLITE__SLOTS_MODELS] = "UPDATE models SET active = 0 WHERE active = 1",
    [MS_SET - SQLITE__SLOTS_MODELS] =
        "UPDATE models SET active = 1, activated_at = ?2 WHERE id = ?1",
    [MS_EXISTS - SQLITE__SLOTS_MODELS] = "SELECT active FROM models WHERE id = ?1",
};

static sqlite3_stmt *st(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_MODELS], err);
}

/* The columns of META_COLS (and the model when with_model). */
static void read_row(sqlite3_stmt *s, struct arena *a, bool with_model, struct store_model *m)
{
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(s, 0);
    m->version = sqlite__col_text(s, 1, a);
    m->kind = sqlite__col_text(s, 2, a);
    m->target = sqlite__col_text(s, 3, a);
    m->created_at = sqlite3_column_int64(s, 4);
    m->trained_from = sqlite3_column_int64(s, 5);
    m->trained_until = sqlite3_column_int64(s, 6);
    m->test_from = sqlite3_column_int64(s, 7);
    m->test_until = sqlite3_column_int64(s, 8);
    m->n_train = sqlite3_column_int64(s, 9);
    m->n_test = sqlite3_column_int64(s, 10);
    m->metrics = sqlite__col_text(s, 11, a);
    m->active = sqlite3_column_int64(s, 12) != 0;
    m->activated_at = sqlite3_column_int64(s, 13);
    if (with_model)
        m->model = sqlite__col_text(s, 14, a);
}

/* True when every text column read came back (the arena can run out). */
static bool row_complete(const struct store_model *m, bool with_model)
{
    return m->version && m->kind && m->target && m->metrics && (!with_model || m->model);
}

static bt_err sm_insert(struct store_conn *c, struct store_model *m, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_INSERT, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, m->version);
    sqlite__bind_text(s, 2, m->kind);
    sqlite__bind_text(s, 3, m->target);
    sqlite3_bind_int64(s, 4, m->created_at);
    sqlite__bind_positive(s, 5, m->trained_from);
    sqlite__bind_positive(s, 6, m->trained_until);
    sqlite__bind_positive(s, 7, m->test_from);
    sqlite__bind_positive(s, 8, m->test_until);
    sqlite3_bind_int64(s, 9, m->n_train);
    sqlite3_bind_int64(s, 10, m->n_test);
    sqlite__bind_text(s, 11, m->model);
    sqlite__bind_text(s, 12, m->metrics);
    bt_err e = sqlite__step_done(c, s, "storing a model", err);
    if (e == BT_ECONFLICT)
        return bt_fail(err, BT_ECONFLICT, "version", "a model with version '%s' exists",
                       m->version);
    if (!e) {
        m->id = sqlite3_last_insert_rowid(sqlite__handle(c));
        m->active = false;
        m->activated_at = 0;
    }
    return e;
}

/* One row of s (bound) into *out, with the model; BT_ENOTFOUND naming
 * `which` when there is none. Resets s. */
static bt_err read_one(struct store_conn *c, sqlite3_stmt *s, struct arena *a,
                       struct store_model *out, const char *which, struct bt_error *err)
{
    int rc = sqlite3_step(s);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW) {
        read_row(s, a, true, out);
        if (!row_complete(out, true))
            e = bt_fail(err, BT_ETOOBIG, NULL, "reading %s: out of memory", which);
    } else if (rc == SQLITE_DONE) {
        e = bt_fail(err, BT_ENOTFOUND, NULL, "no %s", which);
    } else {
        e = sqlite__error(c, err, "reading a model");
    }
    sqlite3_reset(s);
    return e;
}

static bt_err sm_get(struct store_conn *c, int64_t id, struct arena *a, struct store_model *out,
                     struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    char which[48];
    snprintf(which, sizeof(which), "model %lld", (long long)id);
    return read_one(c, s, a, out, which, err);
}

static bt_err sm_get_by_version(struct store_conn *c, const char *version, struct arena *a,
                                struct store_model *out, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_GET_BY_VERSION, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, version);
    char which[STORE_MODEL_VERSION_MAX + 32];
    snprintf(which, sizeof(which), "model with version '%.*s'", STORE_MODEL_VERSION_MAX, version);
    return read_one(c, s, a, out, which, err);
}

static bt_err sm_active(struct store_conn *c, struct arena *a, struct store_model *out,
                        struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_ACTIVE, err);
    if (!s)
        return BT_ESTORE;
    return read_one(c, s, a, out, "active model", err);
}

static bt_err sm_list(struct store_conn *c, struct arena *a, struct store_model **out,
                      size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st(c, MS_LIST, err);
    if (!s)
        return BT_ESTORE;
    size_t room = 8, n = 0;
    struct store_model *rows = arena_alloc_raw(a, room * sizeof(*rows));
    int rc = SQLITE_DONE;
    bool short_of_memory = !rows;
    while (!short_of_memory && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == room) {
            struct store_model *bigger = arena_alloc_raw(a, 2 * room * sizeof(*rows));
            if (!bigger) {
                short_of_memory = true;
                break;
            }
            memcpy(bigger, rows, n * sizeof(*rows));
            rows = bigger;
            room *= 2;
        }
        read_row(s, a, false, &rows[n]);
        if (!row_complete(&rows[n], false)) {
            short_of_memory = true;
            break;
        }
        n++;
    }
    bt_err e = BT_OK;
    if (short_of_memory)
        e = bt_fail(err, BT_ETOOBIG, NULL, "listing models: out of memory");
    else if (rc != SQLITE_DONE)
        e = sqlite__error(c, err, "listing models");
    sqlite3_reset(s);
    if (e)
        return e;
    *out = rows;
    *count = n;
    return BT_OK;
}

static bt_err sm_activate(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_EXISTS, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    bool already = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) != 0;
    bt_err e = rc == SQLITE_ROW ? BT_OK
               : rc == SQLITE_DONE
                   ? bt_fail(err, BT_ENOTFOUND, NULL, "no model %lld", (long long)id)
                   : sqlite__error(c, err, "reading a model");
    sqlite3_reset(s);
    if (e || already) /* the active one stays active, since its first activation */
        return e;
    if (!(s = st(c, MS_CLEAR, err)))
        return BT_ESTORE;
    if ((e = sqlite__step_done(c, s, "deactivating the active model", err)))
        return e;
    if (!(s = st(c, MS_SET, err)))
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    return sqlite__step_done(c, s, "activating a model", err);
}

static bt_err sm_deactivate(struct store_conn *c, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, MS_CLEAR, err);
    if (!s)
        return BT_ESTORE;
    return sqlite__step_done(c, s, "deactivating the active model", err);
}

const struct store_model_ops store__sqlite_model_ops = {
    .insert = sm_insert,
    .get = sm_get,
    .get_by_version = sm_get_by_version,
    .active = sm_active,
    .list = sm_list,
    .activate = sm_activate,
    .deactivate = sm_deactivate,
};
