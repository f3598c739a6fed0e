/*
 * store_sqlite_handoff.c - assignments and link secrets on SQLite
 * (store_handoff.h).
 *
 * Every assignment statement reads or writes the same column list (COLS,
 * read_row), so a field added to struct store_assignment is added in one
 * place. The live-assignment invariant is the partial unique index
 * assignments_live (schema v7); the timers' work is found through the
 * partial index assignments_due on next_due.
 */
#include "store/store_handoff.h"
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <string.h>

#define COLS                                                                                       \
    "id, lead_id, rep_id, pool_id, rule, decision_id, attempt, status, policy, clock, "            \
    "assigned_at, accept_by, contact_by, accepted_at, contacted_at, closed_at, breached_at, "      \
    "closed_by, close_reason, note, successor, reminders_sent, next_due, next_kind, offer_group, " \
    "terms"

#define OPEN_STATUSES "('pending', 'offered', 'accepted', 'contacted')"
/* The urgency order of open assignments: by accept_by, those without one
 * last. The very expression of the index assignments_urgency (schema v7),
 * so that a page of the most urgent reads the index instead of sorting. */
#define NO_DEADLINE "9000000000000000000"
#define URGENCY     "coalesce(accept_by, " NO_DEADLINE ")"

enum {
    HS_INSERT = SQLITE__SLOTS_HANDOFF,
    HS_UPDATE,
    HS_GET,
    HS_LIVE,
    HS_ATTEMPTS,
    HS_LIST_LEAD,
    HS_OFFERS,
    HS_DUE,
    HS_NEXT_DUE,
    HS_REJECTIONS,
    HS_OPEN_COUNTS,
    HS_STATUS_COUNTS,
    HS_EXPIRED_RUN,
    HS_SECRET_GET,
    HS_SECRET_NEWEST,
    HS_SECRET_ADD,
    HS_END
};
_Static_assert(HS_END <= SQLITE__SLOTS, "handoff statements fit their slots");

static const char *const sql[HS_END - SQLITE__SLOTS_HANDOFF] = {
    [HS_INSERT - SQLITE__SLOTS_HANDOFF] =
        "INSERT INTO assignments (lead_id, rep_id, pool_id, rule, decision_id, attempt, status, "
        "policy, clock, assigned_at, accept_by, contact_by, accepted_at, contacted_at, closed_at, "
        "breached_at, closed_by, close_reason, note, successor, reminders_sent, next_due, "
        "next_kind, offer_group, terms, lead_created_at, source) "
        "VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
        /* the lead's intake time and source as the reports read them, set
         * here so that no trigger updates the row just written (v10) */
        "(SELECT created_at FROM leads WHERE id = ?2), (SELECT source FROM leads WHERE id = ?2))",
    [HS_UPDATE - SQLITE__SLOTS_HANDOFF] =
        "UPDATE assignments SET pool_id = ?4, rule = ?5, attempt = ?7, status = ?8, policy = ?9, "
        "clock = ?10, accept_by = ?12, contact_by = ?13, accepted_at = ?14, contacted_at = ?15, "
        "closed_at = ?16, breached_at = ?17, closed_by = ?18, close_reason = ?19, note = ?20, "
        "successor = ?21, reminders_sent = ?22, next_due = ?23, next_kind = ?24, "
        "offer_group = ?25, terms = ?26 WHERE id = ?1",
    [HS_GET - SQLITE__SLOTS_HANDOFF] = "SELECT " COLS " FROM assignments WHERE id = ?1",
    [HS_LIVE - SQLITE__SLOTS_HANDOFF] = "SELECT " COLS " FROM assignments "
                                        "WHERE lead_id = ?1 AND closed_at IS NULL "
                                        "AND status <> 'offered'",
    [HS_ATTEMPTS - SQLITE__SLOTS_HANDOFF] =
        "SELECT count(DISTINCT coalesce(offer_group, id)) FROM assignments WHERE lead_id = ?1",
    [HS_LIST_LEAD - SQLITE__SLOTS_HANDOFF] = "SELECT " COLS " FROM assignments "
                                             "WHERE lead_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [HS_OFFERS - SQLITE__SLOTS_HANDOFF] = "SELECT " COLS " FROM assignments "
                                          "WHERE offer_group = ?1 AND status = 'offered' "
                                          "AND closed_at IS NULL ORDER BY id",
    [HS_DUE - SQLITE__SLOTS_HANDOFF] = "SELECT " COLS " FROM assignments "
                                       "WHERE next_due IS NOT NULL AND next_due <= ?1 "
                                       "ORDER BY next_due, id LIMIT ?2",
    [HS_NEXT_DUE - SQLITE__SLOTS_HANDOFF] =
        "SELECT min(next_due) FROM assignments WHERE next_due IS NOT NULL",
    [HS_STATUS_COUNTS - SQLITE__SLOTS_HANDOFF] = "SELECT status, n FROM assignment_status_counts",
    [HS_OPEN_COUNTS - SQLITE__SLOTS_HANDOFF] =
        "SELECT status, count(*) FROM assignments INDEXED BY assignments_open "
        "WHERE closed_at IS NULL GROUP BY status",
    [HS_REJECTIONS - SQLITE__SLOTS_HANDOFF] =
        "SELECT count(*) FROM assignments WHERE rep_id = ?1 AND status = 'rejected' "
        "AND closed_at >= ?2 AND closed_by IN (?3, ?4)",
    [HS_EXPIRED_RUN - SQLITE__SLOTS_HANDOFF] =
        "SELECT status FROM assignments WHERE rep_id = ?1 AND closed_at IS NOT NULL "
        "AND status IN ('expired', 'accepted', 'contacted', 'rejected') "
        "ORDER BY closed_at DESC, id DESC LIMIT 100",
    [HS_SECRET_GET - SQLITE__SLOTS_HANDOFF] =
        "SELECT generation, secret FROM link_secrets WHERE generation = ?1",
    [HS_SECRET_NEWEST - SQLITE__SLOTS_HANDOFF] =
        "SELECT generation, secret FROM link_secrets ORDER BY generation DESC LIMIT 1",
    [HS_SECRET_ADD - SQLITE__SLOTS_HANDOFF] =
        "INSERT INTO link_secrets (generation, secret, created_at) "
        "SELECT coalesce(max(generation), 0) + 1, ?1, ?2 FROM link_secrets RETURNING generation",
};

static sqlite3_stmt *st(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_HANDOFF], err);
}

static void bind_row(sqlite3_stmt *s, const struct store_assignment *a)
{
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_int64(s, 2, a->lead_id);
    sqlite__bind_text(s, 3, a->rep_id);
    sqlite__bind_text(s, 4, a->pool_id);
    sqlite__bind_text(s, 5, a->rule);
    sqlite__bind_positive(s, 6, a->decision_id);
    sqlite3_bind_int64(s, 7, a->attempt);
    sqlite__bind_text(s, 8, a->status);
    sqlite__bind_text(s, 9, a->policy);
    sqlite__bind_text(s, 10, a->clock);
    sqlite3_bind_int64(s, 11, a->assigned_at);
    sqlite__bind_positive(s, 12, a->accept_by);
    sqlite__bind_positive(s, 13, a->contact_by);
    sqlite__bind_positive(s, 14, a->accepted_at);
    sqlite__bind_positive(s, 15, a->contacted_at);
    sqlite__bind_positive(s, 16, a->closed_at);
    sqlite__bind_positive(s, 17, a->breached_at);
    sqlite__bind_text(s, 18, a->closed_by);
    sqlite__bind_text(s, 19, a->close_reason);
    sqlite__bind_text(s, 20, a->note);
    sqlite__bind_text(s, 21, a->successor);
    sqlite3_bind_int64(s, 22, a->reminders_sent);
    sqlite__bind_positive(s, 23, a->next_due);
    sqlite3_bind_int64(s, 24, a->next_due ? a->next_kind : 0);
    sqlite__bind_positive(s, 25, a->offer_group);
    sqlite__bind_text(s, 26, a->terms);
}

static void read_row(sqlite3_stmt *s, struct arena *ar, struct store_assignment *a)
{
    a->id = sqlite3_column_int64(s, 0);
    a->lead_id = sqlite3_column_int64(s, 1);
    a->rep_id = sqlite__col_text(s, 2, ar);
    a->pool_id = sqlite__col_text(s, 3, ar);
    a->rule = sqlite__col_text(s, 4, ar);
    a->decision_id = sqlite3_column_int64(s, 5);
    a->attempt = sqlite3_column_int64(s, 6);
    a->status = sqlite__col_text(s, 7, ar);
    a->policy = sqlite__col_text(s, 8, ar);
    a->clock = sqlite__col_text(s, 9, ar);
    a->assigned_at = sqlite3_column_int64(s, 10);
    a->accept_by = sqlite3_column_int64(s, 11);
    a->contact_by = sqlite3_column_int64(s, 12);
    a->accepted_at = sqlite3_column_int64(s, 13);
    a->contacted_at = sqlite3_column_int64(s, 14);
    a->closed_at = sqlite3_column_int64(s, 15);
    a->breached_at = sqlite3_column_int64(s, 16);
    a->closed_by = sqlite__col_text(s, 17, ar);
    a->close_reason = sqlite__col_text(s, 18, ar);
    a->note = sqlite__col_text(s, 19, ar);
    a->successor = sqlite__col_text(s, 20, ar);
    a->reminders_sent = sqlite3_column_int64(s, 21);
    a->next_due = sqlite3_column_int64(s, 22);
    a->next_kind = sqlite3_column_int64(s, 23);
    a->offer_group = sqlite3_column_int64(s, 24);
    a->terms = sqlite__col_text(s, 25, ar);
}

/* Steps s to the end, reading each row into a growing array in the arena;
 * resets s. */
static bt_err read_rows(struct store_conn *c, sqlite3_stmt *s, unsigned cap, struct arena *ar,
                        struct store_assignment **out, size_t *count, const char *what,
                        struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    /* Grown as rows come (most lists are a lead's one or two attempts), not
     * allocated for the limit up front. */
    size_t room = cap < 8 ? (cap ? cap : 1) : 8;
    struct store_assignment *rows = arena_alloc_raw(ar, room * sizeof(*rows));
    int rc;
    size_t n = 0;
    while (rows && (rc = sqlite3_step(s)) == SQLITE_ROW && n < cap) {
        if (n == room) {
            size_t more = room * 2 < cap ? room * 2 : cap;
            struct store_assignment *bigger = arena_alloc_raw(ar, more * sizeof(*rows));
            if (bigger)
                memcpy(bigger, rows, n * sizeof(*rows));
            rows = bigger;
            room = more;
            if (!rows)
                break;
        }
        read_row(s, ar, &rows[n++]);
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

static bt_err sqh_insert(struct store_conn *c, struct store_assignment *a, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_INSERT, err);
    if (!s)
        return BT_ESTORE;
    bind_row(s, a);
    bt_err e = sqlite__step_done(c, s, "recording assignment", err);
    if (!e)
        a->id = sqlite3_last_insert_rowid(sqlite__handle(c));
    return e;
}

static bt_err sqh_update(struct store_conn *c, const struct store_assignment *a,
                         struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_UPDATE, err);
    if (!s)
        return BT_ESTORE;
    bind_row(s, a);
    return sqlite__step_done(c, s, "updating assignment", err);
}

static bt_err get_one(struct store_conn *c, unsigned slot, int64_t key, struct arena *ar,
                      bool *found, struct store_assignment *out, struct bt_error *err)
{
    *found = false;
    sqlite3_stmt *s = st(c, slot, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_row(s, ar, out);
        *found = true;
    }
    bt_err e =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "reading assignment");
    sqlite3_reset(s);
    return e;
}

static bt_err sqh_get(struct store_conn *c, int64_t id, struct arena *ar,
                      struct store_assignment *out, struct bt_error *err)
{
    bool found;
    bt_err e = get_one(c, HS_GET, id, ar, &found, out, err);
    if (!e && !found)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such assignment: %lld", (long long)id);
    return e;
}

static bt_err sqh_live(struct store_conn *c, int64_t lead_id, struct arena *ar, bool *found,
                       struct store_assignment *out, struct bt_error *err)
{
    return get_one(c, HS_LIVE, lead_id, ar, found, out, err);
}

static bt_err count_of(struct store_conn *c, sqlite3_stmt *s, int64_t *count, const char *what,
                       struct bt_error *err)
{
    *count = 0;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(s, 0);
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, what);
    sqlite3_reset(s);
    return e;
}

static bt_err sqh_attempts(struct store_conn *c, int64_t lead_id, int64_t *count,
                           struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_ATTEMPTS, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    return count_of(c, s, count, "counting attempts", err);
}

static bt_err sqh_list_lead(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                            struct arena *ar, struct store_assignment **out, size_t *count,
                            struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_LIST_LEAD, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, lead_id);
    sqlite3_bind_int64(s, 2, after_id);
    sqlite3_bind_int64(s, 3, limit);
    return read_rows(c, s, limit, ar, out, count, "listing assignments", err);
}

/*
 * The filtered list is the one statement built at run time: its WHERE
 * clause depends on which filters are set (and on how many rep ids a team
 * has). Only placeholders are appended, never values; the statement is
 * prepared per call and finalised.
 */
static bt_err sqh_list(struct store_conn *c, const struct store_assignment_filter *f,
                       struct arena *ar, struct store_assignment **out, size_t *count,
                       struct bt_error *err)
{
    bool open = f->status && strcmp(f->status, "open") == 0;
    bool urgent = open || (f->status && (!strcmp(f->status, ASSIGNMENT_PENDING) ||
                                         !strcmp(f->status, ASSIGNMENT_OFFERED)));
    char q[4096];
    size_t n = (size_t)snprintf(q, sizeof(q), "SELECT " COLS " FROM assignments WHERE 1");
    if (f->rep_id)
        n += (size_t)snprintf(q + n, sizeof(q) - n, " AND rep_id = ?1");
    if (f->n_rep_ids) {
        if (f->n_rep_ids > 200)
            return bt_fail(err, BT_EINVAL, "team", "a team of more than 200 reps");
        n += (size_t)snprintf(q + n, sizeof(q) - n, " AND rep_id IN (");
        for (size_t i = 0; i < f->n_rep_ids; i++)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "%s?%zu", i ? ", " : "", 10 + i);
        n += (size_t)snprintf(q + n, sizeof(q) - n, ")");
    }
    if (open)
        n += (size_t)snprintf(q + n, sizeof(q) - n,
                              " AND status IN " OPEN_STATUSES " AND closed_at IS NULL");
    else if (f->status)
        n += (size_t)snprintf(q + n, sizeof(q) - n, " AND status = ?2%s",
                              urgent ? " AND closed_at IS NULL" : "");
    if (f->due_before)
        n += (size_t)snprintf(q + n, sizeof(q) - n, " AND " URGENCY " < ?3"); /* an index range */
    if (urgent) {
        if (f->after_id)
            n +=
                (size_t)snprintf(q + n, sizeof(q) - n,
                                 " AND (coalesce(accept_by, 9e18), id) > (coalesce(?5, 9e18), ?4)");
        n += (size_t)snprintf(q + n, sizeof(q) - n,
                              " ORDER BY coalesce(accept_by, 9e18), id LIMIT ?6");
    } else {
        if (f->after_id)
            n += (size_t)snprintf(q + n, sizeof(q) - n, " AND id < ?4");
        n += (size_t)snprintf(q + n, sizeof(q) - n, " ORDER BY id DESC LIMIT ?6");
    }
    if (n >= sizeof(q))
        return bt_fail(err, BT_EINVAL, NULL, "listing assignments: too many filters");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(sqlite__handle(c), q, -1, &s, NULL) != SQLITE_OK)
        return sqlite__error(c, err, "listing assignments");
    if (f->rep_id)
        sqlite3_bind_text(s, 1, f->rep_id, -1, SQLITE_STATIC);
    if (f->status && !open)
        sqlite3_bind_text(s, 2, f->status, -1, SQLITE_STATIC);
    if (f->due_before)
        sqlite3_bind_int64(s, 3, f->due_before);
    if (f->after_id) {
        sqlite3_bind_int64(s, 4, f->after_id);
        sqlite__bind_positive(s, 5, f->after_accept_by);
    }
    sqlite3_bind_int64(s, 6, f->limit);
    for (size_t i = 0; i < f->n_rep_ids; i++)
        sqlite3_bind_text(s, (int)(10 + i), f->rep_ids[i], -1, SQLITE_STATIC);
    bt_err e = read_rows(c, s, f->limit, ar, out, count, "listing assignments", err);
    sqlite3_finalize(s);
    return e;
}

static bt_err sqh_offers(struct store_conn *c, int64_t group, struct arena *ar,
                         struct store_assignment **out, size_t *count, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_OFFERS, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, group);
    return read_rows(c, s, 100, ar, out, count, "listing offers", err);
}

static bt_err sqh_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *ar,
                      struct store_assignment **out, size_t *count, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_DUE, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, limit);
    return read_rows(c, s, limit, ar, out, count, "finding due assignments", err);
}

static bt_err sqh_next_due(struct store_conn *c, int64_t *at, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_NEXT_DUE, err);
    if (!s)
        return BT_ESTORE;
    return count_of(c, s, at, "finding the next assignment deadline", err);
}

static bt_err sqh_rejections(struct store_conn *c, const char *rep_id, int64_t since,
                             int64_t *count, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_REJECTIONS, err);
    if (!s)
        return BT_ESTORE;
    char by_key[80], by_link[80];
    snprintf(by_key, sizeof(by_key), "rep:%s", rep_id);
    snprintf(by_link, sizeof(by_link), "link:%s", rep_id);
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, since);
    sqlite3_bind_text(s, 3, by_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, by_link, -1, SQLITE_TRANSIENT);
    return count_of(c, s, count, "counting rejections", err);
}

/* Status counts from a statement of (status, count) rows. */
static bt_err status_rows(struct store_conn *c, unsigned slot, int64_t counts[ASSIGNMENT_STATUSES],
                          struct bt_error *err)
{
    for (size_t i = 0; i < ASSIGNMENT_STATUSES; i++)
        counts[i] = 0;
    sqlite3_stmt *s = st(c, slot, err);
    if (!s)
        return BT_ESTORE;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        for (size_t i = 0; status && i < ASSIGNMENT_STATUSES; i++)
            if (!strcmp(status, assignment_statuses[i]))
                counts[i] += sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sqlite__error(c, err, "counting assignments by status");
    return BT_OK;
}

static bt_err sqh_open_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                              struct bt_error *err)
{
    return status_rows(c, HS_OPEN_COUNTS, counts, err);
}

static bt_err sqh_status_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                                struct bt_error *err)
{
    return status_rows(c, HS_STATUS_COUNTS, counts, err);
}

static bt_err sqh_expired_run(struct store_conn *c, const char *rep_id, int64_t *count,
                              struct bt_error *err)
{
    *count = 0;
    sqlite3_stmt *s = st(c, HS_EXPIRED_RUN, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_text(s, 1, rep_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *status = sqlite3_column_text(s, 0);
        if (!status || strcmp((const char *)status, ASSIGNMENT_EXPIRED) != 0)
            break;
        ++*count;
    }
    bt_err e =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sqlite__error(c, err, "counting breaches");
    sqlite3_reset(s);
    return e;
}

static bt_err sqh_secret_get(struct store_conn *c, uint32_t generation, bool *found,
                             uint32_t *generation_out, uint8_t secret[LINK_SECRET_BYTES],
                             struct bt_error *err)
{
    *found = false;
    sqlite3_stmt *s = st(c, generation ? HS_SECRET_GET : HS_SECRET_NEWEST, err);
    if (!s)
        return BT_ESTORE;
    if (generation)
        sqlite3_bind_int64(s, 1, generation);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 1) == LINK_SECRET_BYTES) {
        *generation_out = (uint32_t)sqlite3_column_int64(s, 0);
        memcpy(secret, sqlite3_column_blob(s, 1), LINK_SECRET_BYTES);
        *found = true;
    }
    bt_err e = rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? BT_OK
                   : sqlite__error(c, err, "reading the link secret");
    sqlite3_reset(s);
    return e;
}

static bt_err sqh_secret_add(struct store_conn *c, const uint8_t secret[LINK_SECRET_BYTES],
                             int64_t now, uint32_t *generation, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, HS_SECRET_ADD, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_blob(s, 1, secret, LINK_SECRET_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    int64_t g;
    bt_err e = count_of(c, s, &g, "adding a link secret", err);
    *generation = (uint32_t)g;
    return e;
}

const struct store_handoff_ops store__sqlite_handoff_ops = {
    .insert = sqh_insert,
    .update = sqh_update,
    .get = sqh_get,
    .live = sqh_live,
    .attempts = sqh_attempts,
    .list_lead = sqh_list_lead,
    .list = sqh_list,
    .offers = sqh_offers,
    .due = sqh_due,
    .next_due = sqh_next_due,
    .rejections = sqh_rejections,
    .open_counts = sqh_open_counts,
    .status_counts = sqh_status_counts,
    .expired_run = sqh_expired_run,
    .secret_get = sqh_secret_get,
    .secret_add = sqh_secret_add,
};
