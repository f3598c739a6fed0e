/*
 * store_sqlite_internal.h - shared by the files of the SQLite backend only.
 *
 * store_sqlite.c holds the connection, the migrations and the lead, event,
 * key and activity statements. Other tables live in files of their own
 * (store_sqlite_accounts.c, store_sqlite_routing.c, store_sqlite_work.c,
 * store_sqlite_handoff.c) and reach their
 * statements through sqlite__stmt(): each file owns a range of slots
 * (SQLITE__SLOTS_*), a statement is prepared on first use and kept for the
 * connection's life, and comes back reset with its bindings cleared.
 */
#ifndef BT_STORE_SQLITE_INTERNAL_H
#define BT_STORE_SQLITE_INTERNAL_H

#include "store/store_backend.h"

#include <sqlite3.h>

/* Statement slots per file. */
#define SQLITE__SLOTS_ACCOUNTS 0   /* 0 .. 15 */
#define SQLITE__SLOTS_ROUTING  16  /* 16 .. 63 */
#define SQLITE__SLOTS_WORK     64  /* 64 .. 79 */
#define SQLITE__SLOTS_HANDOFF  80  /* 80 .. 111 */
#define SQLITE__SLOTS_REPORTS  112 /* 112 .. 143 */
#define SQLITE__SLOTS_OUTBOX   144 /* 144 .. 175 */
#define SQLITE__SLOTS_MODELS   176 /* 176 .. 191 */
#define SQLITE__SLOTS_IMPORT   192 /* 192 .. 207 */
#define SQLITE__SLOTS_REPLAY   208 /* 208 .. 223 */
#define SQLITE__SLOTS          224

/* The statement of `slot`, prepared from `sql` on first use; NULL with the
 * error in *err when it cannot be prepared. */
sqlite3_stmt *sqlite__stmt(struct store_conn *c, unsigned slot, const char *sql,
                           struct bt_error *err);
sqlite3 *sqlite__handle(struct store_conn *c);
/* BT_ECONFLICT for a unique or primary-key violation, else BT_ESTORE. */
bt_err sqlite__error(struct store_conn *c, struct bt_error *err, const char *what);
/* Binds a string, or NULL for NULL (SQLITE_STATIC: keep it alive until the step). */
void sqlite__bind_text(sqlite3_stmt *st, int i, const char *s);
/* Binds v, or NULL when v <= 0. */
void sqlite__bind_positive(sqlite3_stmt *st, int i, int64_t v);
/* A copy of column i in the arena, or NULL. */
const char *sqlite__col_text(sqlite3_stmt *st, int i, struct arena *a);
/* Runs a statement expected to produce no rows, then resets it. */
bt_err sqlite__step_done(struct store_conn *c, sqlite3_stmt *st, const char *what,
                         struct bt_error *err);

#endif
