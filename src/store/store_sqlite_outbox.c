/*
 * store_sqlite_outbox.c - the outbox, delivery attempts, destinations'
 * breakers and reps' tasks on SQLite (store_outbox.h).
 *
 * Every outbox statement reads the same column list (COLS, read_row). Due
 * work is the partial index outbox_due (channel, next_attempt_at): a claim
 * reads the earliest rows of one channel from it and moves their
 * next_attempt_at to the lease's end in the same statement, so two
 * connections can never claim one row (SQLite has one writer at a time;
 * PostgreSQL will do the same with FOR UPDATE SKIP LOCKED).
 */
#include "store/store_outbox.h"
#include "store/store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#define COLS                                                                                       \
    "id, uid, channel, event_type, event_id, lead_id, recipient, payload, status, attempts, "      \
    "next_attempt_at, lease_owner, created_at, delivered_at, last_status, last_error"

#define ATTEMPT_COLS "id, outbox_id, at, latency_ms, status, verdict, error, response, node"

#define TASK_COLS                                                                                  \
    "id, lead_id, assignment_id, rep_id, kind, title, due_at, starts_at, ends_at, created_at, "    \
    "done_at, done_by"

enum {
    OS_INSERT = SQLITE__SLOTS_OUTBOX,
    OS_GET,
    OS_CLAIM,
    OS_NEXT_DUE,
    OS_RECORD,
    OS_ATTEMPT_ADD,
    OS_ATTEMPTS,
    OS_LIST,
    OS_RETRY,
    OS_REPLAY,
    OS_HOLD,
    OS_COUNTS,
    OS_OLDEST,
    OS_CHANNEL_GET,
    OS_CHANNEL_PUT,
    OS_CHANNEL_LIST,
    OS_TASK_INSERT,
    OS_TASK_GET,
    OS_TASK_DONE,
    OS_TASK_OPEN,
    OS_TASK_DONE_LIST,
    OS_TASK_MEETINGS,
    OS_END
};
_Static_assert(OS_END <= SQLITE__SLOTS, "outbox statements fit their slots");

static const char *const sql[OS_END - SQLITE__SLOTS_OUTBOX] = {
    [OS_INSERT - SQLITE__SLOTS_OUTBOX] =
        "INSERT INTO outbox (uid, channel, event_type, event_id, lead_id, recipient, payload, "
        "status, attempts, next_attempt_at, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)",
    [OS_GET - SQLITE__SLOTS_OUTBOX] = "SELECT " COLS " FROM outbox WHERE id = ?1",
    [OS_CLAIM - SQLITE__SLOTS_OUTBOX] =
        "UPDATE outbox SET lease_owner = ?2, next_attempt_at = ?3 + ?4 "
        "WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_due "
        "  WHERE channel = ?1 AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?3 "
        "  ORDER BY next_attempt_at, id LIMIT ?5) "
        "RETURNING " COLS,
    [OS_NEXT_DUE - SQLITE__SLOTS_OUTBOX] =
        "SELECT min(next_attempt_at) FROM outbox INDEXED BY outbox_due "
        "WHERE channel = ?1 AND next_attempt_at IS NOT NULL",
    [OS_RECORD - SQLITE__SLOTS_OUTBOX] =
        "UPDATE outbox SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4, "
        "delivered_at = CASE WHEN ?3 = 'delivered' THEN ?5 ELSE delivered_at END, "
        "last_status = ?6, last_error = ?7, lease_owner = NULL "
        "WHERE id = ?1 AND coalesce(lease_owner, '') = ?2",
    [OS_ATTEMPT_ADD - SQLITE__SLOTS_OUTBOX] =
        "INSERT INTO delivery_attempts (outbox_id, at, latency_ms, status, verdict, error, "
        "response, node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [OS_ATTEMPTS - SQLITE__SLOTS_OUTBOX] = "SELECT " ATTEMPT_COLS " FROM delivery_attempts "
                                           "WHERE outbox_id = ?1 ORDER BY id LIMIT ?2",
    /* The filters are optional: each `?N IS NULL OR` arm is decided once per
     * statement, and the id range keeps the scan to one page. */
    [OS_LIST - SQLITE__SLOTS_OUTBOX] = "SELECT " COLS " FROM outbox "
                                       "WHERE id < ?4 AND (?1 IS NULL OR status = ?1) "
                                       "AND (?2 IS NULL OR channel = ?2) "
                                       "AND (?3 IS NULL OR lead_id = ?3) "
                                       "ORDER BY id DESC LIMIT ?5",
    [OS_RETRY - SQLITE__SLOTS_OUTBOX] =
        "UPDATE outbox SET status = CASE WHEN attempts > 0 THEN 'failed' ELSE 'pending' END, "
        "next_attempt_at = ?2, lease_owner = NULL WHERE id = ?1 AND status <> 'delivered'",
    [OS_REPLAY - SQLITE__SLOTS_OUTBOX] =
        "UPDATE outbox SET status = CASE WHEN attempts > 0 THEN 'failed' ELSE 'pending' END, "
        "next_attempt_at = ?5, lease_owner = NULL "
        "WHERE created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR channel = ?3) "
        "AND instr(',' || ?4 || ',', ',' || status || ',') > 0",
    [OS_HOLD - SQLITE__SLOTS_OUTBOX] =
        "UPDATE outbox SET status = 'held', next_attempt_at = NULL, lease_owner = NULL "
        "WHERE channel = ?1 AND status IN ('pending', 'failed')",
    [OS_COUNTS - SQLITE__SLOTS_OUTBOX] =
        "SELECT status, count(*) FROM outbox INDEXED BY outbox_status "
        "WHERE status IN ('pending', 'failed', 'dead', 'held') AND (?1 IS NULL OR channel = ?1) "
        "GROUP BY status",
    [OS_OLDEST - SQLITE__SLOTS_OUTBOX] =
        "SELECT min(created_at) FROM outbox INDEXED BY outbox_status "
        "WHERE status IN ('pending', 'failed') AND (?1 IS NULL OR channel = ?1)",
    [OS_CHANNEL_GET - SQLITE__SLOTS_OUTBOX] =
        "SELECT id, state, failing_since, failures, next_probe_at, changed_at, reason "
        "FROM delivery_channels WHERE id = ?1",
    [OS_CHANNEL_PUT - SQLITE__SLOTS_OUTBOX] =
        "INSERT INTO delivery_channels (id, state, failing_since, failures, next_probe_at, "
        "changed_at, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (id) DO UPDATE SET state = ?2, failing_since = ?3, failures = ?4, "
        "next_probe_at = ?5, changed_at = ?6, reason = ?7",
    [OS_CHANNEL_LIST - SQLITE__SLOTS_OUTBOX] =
        "SELECT id, state, failing_since, failures, next_probe_at, changed_at, reason "
        "FROM delivery_channels ORDER BY id",
    [OS_TASK_INSERT - SQLITE__SLOTS_OUTBOX] =
        "INSERT INTO tasks (lead_id, assignment_id, rep_id, kind, title, due_at, starts_at, "
        "ends_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [OS_TASK_GET - SQLITE__SLOTS_OUTBOX] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1",
    [OS_TASK_DONE - SQLITE__SLOTS_OUTBOX] =
        "UPDATE tasks SET done_at = ?2, done_by = ?3 WHERE id = ?1 AND done_at IS NULL",
    [OS_TASK_OPEN - SQLITE__SLOTS_OUTBOX] =
        "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_rep_open "
        "WHERE rep_id = ?1 AND done_at IS NULL "
        "ORDER BY rep_id, coalesce(due_at, 9000000000000000000), id LIMIT ?3 OFFSET ?2",
    [OS_TASK_DONE_LIST - SQLITE__SLOTS_OUTBOX] =
        "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_rep_done "
        "WHERE rep_id = ?1 AND done_at IS NOT NULL ORDER BY done_at DESC, id DESC "
        "LIMIT ?3 OFFSET ?2",
    [OS_TASK_MEETINGS - SQLITE__SLOTS_OUTBOX] =
        "SELECT starts_at, ends_at FROM tasks INDEXED BY tasks_meetings "
        "WHERE rep_id = ?1 AND starts_at IS NOT NULL AND ends_at > ?2 AND done_at IS NULL "
        "ORDER BY starts_at LIMIT ?3",
};

static sqlite3_stmt *st(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_OUTBOX], err);
}

static void read_row(sqlite3_stmt *s, struct arena *ar, struct store_outbox_row *r)
{
    r->id = sqlite3_column_int64(s, 0);
    r->uid = sqlite__col_text(s, 1, ar);
    r->channel = sqlite__col_text(s, 2, ar);
    r->event_type = sqlite__col_text(s, 3, ar);
    r->event_id = sqlite3_column_int64(s, 4);
    r->lead_id = sqlite3_column_int64(s, 5);
    r->recipient = sqlite__col_text(s, 6, ar);
    r->payload = sqlite__col_text(s, 7, ar);
    r->status = sqlite__col_text(s, 8, ar);
    r->attempts = sqlite3_column_int64(s, 9);
    r->next_attempt_at = sqlite3_column_int64(s, 10);
    r->lease_owner = sqlite__col_text(s, 11, ar);
    r->created_at = sqlite3_column_int64(s, 12);
    r->delivered_at = sqlite3_column_int64(s, 13);
    r->last_status = sqlite3_column_int64(s, 14);
    r->last_error = sqlite__col_text(s, 15, ar);
}

static void read_attempt(sqlite3_stmt *s, struct arena *ar, struct store_delivery_attempt *a)
{
    a->id = sqlite3_column_int64(s, 0);
    a->outbox_id = sqlite3_column_int64(s, 1);
    a->at = sqlite3_column_int64(s, 2);
    a->latency_ms = sqlite3_column_int64(s, 3);
    a->status = sqlite3_column_int64(s, 4);
    a->verdict = sqlite__col_text(s, 5, ar);
    a->error = sqlite__col_text(s, 6, ar);
    a->response = sqlite__col_text(s, 7, ar);
    a->node = sqlite__col_text(s, 8, ar);
}

static void read_task(sqlite3_stmt *s, struct arena *ar, struct store_task *t)
{
    t->id = sqlite3_column_int64(s, 0);
    t->lead_id = sqlite3_column_int64(s, 1);
    t->assignment_id = sqlite3_column_int64(s, 2);
    t->rep_id = sqlite__col_text(s, 3, ar);
    t->kind = sqlite__col_text(s, 4, ar);
    t->title = sqlite__col_text(s, 5, ar);
    t->due_at = sqlite3_column_int64(s, 6);
    t->starts_at = sqlite3_column_int64(s, 7);
    t->ends_at = sqlite3_column_int64(s, 8);
    t->created_at = sqlite3_column_int64(s, 9);
    t->done_at = sqlite3_column_int64(s, 10);
    t->done_by = sqlite__col_text(s, 11, ar);
}

static void read_channel(sqlite3_stmt *s, struct arena *ar, struct store_delivery_channel *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->id = sqlite__col_text(s, 0, ar);
    const char *state = (const char *)sqlite3_column_text(s, 1);
    if (!state || !delivery_channel_state_parse(state, &ch->breaker.state))
        ch->breaker.state = DELIVERY_CHANNEL_ACTIVE;
    ch->breaker.failing_since = sqlite3_column_int64(s, 2);
    ch->breaker.failures = sqlite3_column_int64(s, 3);
    ch->breaker.next_probe_at = sqlite3_column_int64(s, 4);
    ch->changed_at = sqlite3_column_int64(s, 5);
    ch->reason = sqlite__col_text(s, 6, ar);
}

/*
 * Steps s to the end (at most cap rows), reading each with `read` into an
 * array of `size`-byte elements in the arena; resets s.
 */
typedef void read_fn(sqlite3_stmt *s, struct arena *ar, void *out);

static bt_err read_all(struct store_conn *c, sqlite3_stmt *s, unsigned cap, size_t size,
                       read_fn *read, struct arena *ar, void **out, size_t *count, const char *what,
                       struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    size_t room = cap < 8 ? (cap ? cap : 1) : 8, n = 0;
    char *rows = arena_alloc_raw(ar, room * size);
    int rc = SQLITE_DONE;
    while (rows && n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == room) {
            size_t more = room * 2 < cap ? room * 2 : cap;
            char *bigger = arena_alloc_raw(ar, more * size);
            if (bigger)
                memcpy(bigger, rows, n * size);
            rows = bigger;
            room = more;
            if (!rows)
                break;
        }
        read(s, ar, rows + n * size);
        n++;
    }
    if (!rows) {
        sqlite3_reset(s);
        return bt_fail(err, BT_ETOOBIG, NULL, "%s: out of memory", what);
    }
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, what);
    sqlite3_reset(s);
    if (e)
        return e;
    *out = rows;
    *count = n;
    return BT_OK;
}

static void read_row_v(sqlite3_stmt *s, struct arena *ar, void *out)
{
    read_row(s, ar, out);
}

static void read_attempt_v(sqlite3_stmt *s, struct arena *ar, void *out)
{
    read_attempt(s, ar, out);
}

static void read_task_v(sqlite3_stmt *s, struct arena *ar, void *out)
{
    read_task(s, ar, out);
}

static void read_channel_v(sqlite3_stmt *s, struct arena *ar, void *out)
{
    read_channel(s, ar, out);
}

/* One row of a statement into *out; *found false when there is none. */
static bt_err read_one(struct store_conn *c, sqlite3_stmt *s, read_fn *read, struct arena *ar,
                       void *out, bool *found, const char *what, struct bt_error *err)
{
    *found = false;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read(s, ar, out);
        *found = true;
    }
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, what);
    sqlite3_reset(s);
    return e;
}

/* The single integer a statement answers (0 for NULL or no row). */
static bt_err read_int(struct store_conn *c, sqlite3_stmt *s, int64_t *out, const char *what,
                       struct bt_error *err)
{
    *out = 0;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, what);
    sqlite3_reset(s);
    return e;
}

static int changes(struct store_conn *c)
{
    return sqlite3_changes(sqlite__handle(c));
}

/* ---- the outbox ---- */

static bt_err so_insert(struct store_conn *c, struct store_outbox_row *r, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_INSERT, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, r->uid);
    sqlite__bind_text(s, 2, r->channel);
    sqlite__bind_text(s, 3, r->event_type);
    sqlite__bind_positive(s, 4, r->event_id);
    sqlite__bind_positive(s, 5, r->lead_id);
    sqlite__bind_text(s, 6, r->recipient);
    sqlite__bind_text(s, 7, r->payload);
    sqlite__bind_text(s, 8, r->status);
    sqlite__bind_positive(s, 9, r->next_attempt_at);
    sqlite3_bind_int64(s, 10, r->created_at);
    bt_err e = sqlite__step_done(c, s, "writing to the outbox", err);
    if (!e)
        r->id = sqlite3_last_insert_rowid(sqlite__handle(c));
    return e;
}

static bt_err so_get(struct store_conn *c, int64_t id, struct arena *ar,
                     struct store_outbox_row *out, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    bool found;
    bt_err e = read_one(c, s, read_row_v, ar, out, &found, "reading a delivery", err);
    if (!e && !found)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such delivery: %lld", (long long)id);
    return e;
}

static int by_id(const void *a, const void *b)
{
    const struct store_outbox_row *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static bt_err so_claim(struct store_conn *c, const char *channel, const char *node, int64_t now,
                       int64_t lease_ms, unsigned limit, struct arena *ar,
                       struct store_outbox_row **rows, size_t *n, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_CLAIM, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, channel);
    sqlite__bind_text(s, 2, node);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int64(s, 4, lease_ms);
    sqlite3_bind_int64(s, 5, limit);
    bt_err e = read_all(c, s, limit, sizeof(**rows), read_row_v, ar, (void **)rows, n,
                        "claiming deliveries", err);
    /* RETURNING gives the rows in no promised order; they go out oldest first. */
    if (!e && *n > 1)
        qsort(*rows, *n, sizeof(**rows), by_id);
    return e;
}

static bt_err so_next_due(struct store_conn *c, const char *channel, int64_t *at,
                          struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_NEXT_DUE, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, channel);
    return read_int(c, s, at, "reading the next delivery", err);
}

static bt_err so_record(struct store_conn *c, int64_t id, const char *node,
                        const struct store_delivery_attempt *a, const char *status,
                        int64_t next_attempt_at, bool *applied, struct bt_error *err)
{
    *applied = false;
    sqlite3_stmt *s = st(c, OS_ATTEMPT_ADD, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, a->at);
    sqlite3_bind_int64(s, 3, a->latency_ms);
    sqlite__bind_positive(s, 4, a->status);
    sqlite__bind_text(s, 5, a->verdict);
    sqlite__bind_text(s, 6, a->error);
    sqlite__bind_text(s, 7, a->response);
    sqlite__bind_text(s, 8, node);
    bt_err e = sqlite__step_done(c, s, "recording a delivery attempt", err);
    if (e)
        return e;
    if (!(s = st(c, OS_RECORD, err)))
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite__bind_text(s, 2, node);
    sqlite__bind_text(s, 3, status);
    sqlite__bind_positive(s, 4, next_attempt_at);
    sqlite3_bind_int64(s, 5, a->at + a->latency_ms);
    sqlite__bind_positive(s, 6, a->status);
    sqlite__bind_text(s, 7, a->error);
    if ((e = sqlite__step_done(c, s, "recording a delivery", err)))
        return e;
    *applied = changes(c) == 1;
    return BT_OK;
}

static bt_err so_attempts(struct store_conn *c, int64_t outbox_id, unsigned limit, struct arena *ar,
                          struct store_delivery_attempt **out, size_t *n, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_ATTEMPTS, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, outbox_id);
    sqlite3_bind_int64(s, 2, limit);
    return read_all(c, s, limit, sizeof(**out), read_attempt_v, ar, (void **)out, n,
                    "reading delivery attempts", err);
}

static bt_err so_list(struct store_conn *c, const struct store_outbox_filter *f, unsigned limit,
                      struct arena *ar, struct store_outbox_row **rows, size_t *n,
                      struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_LIST, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, f->status);
    sqlite__bind_text(s, 2, f->channel);
    sqlite__bind_positive(s, 3, f->lead_id);
    sqlite3_bind_int64(s, 4, f->before > 0 ? f->before : INT64_MAX);
    sqlite3_bind_int64(s, 5, limit);
    return read_all(c, s, limit, sizeof(**rows), read_row_v, ar, (void **)rows, n,
                    "listing deliveries", err);
}

static bt_err so_retry(struct store_conn *c, int64_t id, int64_t now, bool *found, bool *changed,
                       struct bt_error *err)
{
    *found = *changed = false;
    sqlite3_stmt *s = st(c, OS_GET, err);
    if (!s)
        return BT_ESTORE;
    struct arena scratch = ARENA_INIT;
    struct store_outbox_row row;
    sqlite3_bind_int64(s, 1, id);
    bt_err e = read_one(c, s, read_row_v, &scratch, &row, found, "reading a delivery", err);
    arena_release(&scratch);
    if (e || !*found)
        return e;
    if (!(s = st(c, OS_RETRY, err)))
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    if ((e = sqlite__step_done(c, s, "retrying a delivery", err)))
        return e;
    *changed = changes(c) == 1;
    return BT_OK;
}

static bt_err so_replay(struct store_conn *c, int64_t since, int64_t until, const char *channel,
                        const char *statuses, int64_t now, int64_t *count, struct bt_error *err)
{
    *count = 0;
    sqlite3_stmt *s = st(c, OS_REPLAY, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, since);
    sqlite3_bind_int64(s, 2, until);
    sqlite__bind_text(s, 3, channel);
    sqlite__bind_text(s, 4, statuses);
    sqlite3_bind_int64(s, 5, now);
    bt_err e = sqlite__step_done(c, s, "replaying deliveries", err);
    if (!e)
        *count = changes(c);
    return e;
}

static bt_err so_hold_channel(struct store_conn *c, const char *channel, int64_t *count,
                              struct bt_error *err)
{
    *count = 0;
    sqlite3_stmt *s = st(c, OS_HOLD, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, channel);
    bt_err e = sqlite__step_done(c, s, "holding a channel's deliveries", err);
    if (!e)
        *count = changes(c);
    return e;
}

static bt_err so_counts(struct store_conn *c, const char *channel, int64_t counts[OUTBOX_STATUSES],
                        int64_t *oldest, struct bt_error *err)
{
    for (int i = 0; i < OUTBOX_STATUSES; i++)
        counts[i] = 0;
    sqlite3_stmt *s = st(c, OS_COUNTS, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, channel);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        for (int i = 0; i < OUTBOX_STATUSES; i++)
            if (status && strcmp(status, outbox_statuses[i]) == 0)
                counts[i] = sqlite3_column_int64(s, 1);
    }
    bt_err e = rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "counting deliveries");
    sqlite3_reset(s);
    if (e || !oldest)
        return e;
    if (!(s = st(c, OS_OLDEST, err)))
        return BT_ESTORE;
    sqlite__bind_text(s, 1, channel);
    return read_int(c, s, oldest, "reading the oldest delivery", err);
}

static bt_err so_channel_get(struct store_conn *c, const char *id, struct arena *ar,
                             struct store_delivery_channel *out, bool *found, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_CHANNEL_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, id);
    return read_one(c, s, read_channel_v, ar, out, found, "reading a channel", err);
}

static bt_err so_channel_put(struct store_conn *c, const struct store_delivery_channel *ch,
                             struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_CHANNEL_PUT, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, ch->id);
    sqlite__bind_text(s, 2, delivery_channel_state_name(ch->breaker.state));
    sqlite__bind_positive(s, 3, ch->breaker.failing_since);
    sqlite3_bind_int64(s, 4, ch->breaker.failures);
    sqlite__bind_positive(s, 5, ch->breaker.next_probe_at);
    sqlite__bind_positive(s, 6, ch->changed_at);
    sqlite__bind_text(s, 7, ch->reason);
    return sqlite__step_done(c, s, "writing a channel", err);
}

static bt_err so_channel_list(struct store_conn *c, struct arena *ar,
                              struct store_delivery_channel **out, size_t *n, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_CHANNEL_LIST, err);
    if (!s)
        return BT_ESTORE;
    return read_all(c, s, 10000, sizeof(**out), read_channel_v, ar, (void **)out, n,
                    "listing channels", err);
}

/* ---- tasks ---- */

static bt_err so_task_insert(struct store_conn *c, struct store_task *t, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_TASK_INSERT, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, t->lead_id);
    sqlite__bind_positive(s, 2, t->assignment_id);
    sqlite__bind_text(s, 3, t->rep_id);
    sqlite__bind_text(s, 4, t->kind);
    sqlite__bind_text(s, 5, t->title);
    sqlite__bind_positive(s, 6, t->due_at);
    sqlite__bind_positive(s, 7, t->starts_at);
    sqlite__bind_positive(s, 8, t->ends_at);
    sqlite3_bind_int64(s, 9, t->created_at);
    bt_err e = sqlite__step_done(c, s, "writing a task", err);
    if (!e)
        t->id = sqlite3_last_insert_rowid(sqlite__handle(c));
    return e;
}

static bt_err so_task_get(struct store_conn *c, int64_t id, struct arena *ar,
                          struct store_task *out, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_TASK_GET, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    bool found;
    bt_err e = read_one(c, s, read_task_v, ar, out, &found, "reading a task", err);
    if (!e && !found)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such task: %lld", (long long)id);
    return e;
}

static bt_err so_task_done(struct store_conn *c, int64_t id, int64_t at, const char *by,
                           struct bt_error *err)
{
    sqlite3_stmt *s = st(c, OS_TASK_DONE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite__bind_text(s, 3, by);
    bt_err e = sqlite__step_done(c, s, "completing a task", err);
    if (e || changes(c) == 1)
        return e;
    struct arena scratch = ARENA_INIT;
    struct store_task t;
    e = so_task_get(c, id, &scratch, &t, err);
    arena_release(&scratch);
    return e ? e : bt_fail(err, BT_ECONFLICT, "id", "task %lld is done already", (long long)id);
}

static bt_err so_task_list(struct store_conn *c, const char *rep_id, bool done, unsigned offset,
                           unsigned limit, struct arena *ar, struct store_task **out, size_t *n,
                           struct bt_error *err)
{
    sqlite3_stmt *s = st(c, done ? OS_TASK_DONE_LIST : OS_TASK_OPEN, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, rep_id);
    sqlite3_bind_int64(s, 2, offset);
    sqlite3_bind_int64(s, 3, limit);
    return read_all(c, s, limit, sizeof(**out), read_task_v, ar, (void **)out, n, "listing tasks",
                    err);
}

static bt_err so_task_meetings(struct store_conn *c, const char *rep_id, int64_t from,
                               unsigned limit, int64_t (*out)[2], size_t *n, struct bt_error *err)
{
    *n = 0;
    sqlite3_stmt *s = st(c, OS_TASK_MEETINGS, err);
    if (!s)
        return BT_ESTORE;
    sqlite__bind_text(s, 1, rep_id);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 3, limit);
    int rc = SQLITE_DONE; /* limit 0: no step (gcc -O1 cannot see it) */
    while (*n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        out[*n][0] = sqlite3_column_int64(s, 0);
        out[*n][1] = sqlite3_column_int64(s, 1);
        (*n)++;
    }
    if (*n == limit)
        rc = SQLITE_DONE;
    bt_err e = rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "reading meetings");
    sqlite3_reset(s);
    return e;
}

const struct store_outbox_ops store__sqlite_outbox_ops = {
    .insert = so_insert,
    .get = so_get,
    .claim = so_claim,
    .next_due = so_next_due,
    .record = so_record,
    .attempts = so_attempts,
    .list = so_list,
    .retry = so_retry,
    .replay = so_replay,
    .hold_channel = so_hold_channel,
    .counts = so_counts,
    .channel_get = so_channel_get,
    .channel_put = so_channel_put,
    .channel_list = so_channel_list,
    .task_insert = so_task_insert,
    .task_get = so_task_get,
    .task_done = so_task_done,
    .task_list = so_task_list,
    .task_meetings = so_task_meetings,
};
