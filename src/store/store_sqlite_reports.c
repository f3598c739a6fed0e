/*
 * store_sqlite_reports.c - the rows of store_reports.h on SQLite.
 *
 * Every query selects its window on an index of the time it is keyed by
 * (assignments_report, lead_funnel_created, decisions_at: schema v8) and
 * is otherwise a single pass: assignments are read from a covering index
 * alone (their lead's source and intake time are copied in when they are
 * made), and the caller aggregates while the rows stream; the counting
 * reports read the whole days of a window from assignment_days and
 * rejection_days (schema v10) and only the edges row by row,
 * so a year of rows costs one scan and no memory per row here. Rep filters
 * come as one JSON array bound to json_each(), which keeps the statement
 * prepared once whatever the number of reps.
 */
#include "store/store_sqlite_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX 100000 /* grouped rows one call returns at most */

enum {
    PS_ASSIGNMENTS = SQLITE__SLOTS_REPORTS,
    PS_ASSIGNMENTS_STEPS, /* with report_steps, from the table */
    PS_ASSIGNMENT_DAYS,
    PS_REJECTION_DAYS,
    PS_DECISION_DAYS,
    PS_SPEED_DAYS,
    PS_FUNNEL_DAYS,
    PS_DARK,
    PS_FUNNEL,
    PS_DECISIONS,
    PS_HOLDS,
    PS_HELD_LONGEST,
    PS_END
};
_Static_assert(PS_END <= SQLITE__SLOTS_REPORTS + 32, "report statements fit their slots");
_Static_assert(PS_END <= SQLITE__SLOTS, "report statements fit the slots");

/* ?1 since, ?2 until, ?3 reps (JSON array), ?4 pool, ?5 source */
#define ASSIGNMENT_COLS                                                                            \
    "a.id, a.lead_id, a.attempt, a.rep_id, a.pool_id, a.rule, a.policy, a.status, "                \
    "a.close_reason, a.assigned_at, a.accepted_at, a.contacted_at, a.closed_at, a.breached_at, "   \
    "a.reminders_sent, a.source, a.lead_created_at"
#define FUNNEL_COLS                                                                                \
    "f.lead_id, f.source, f.stage, f.created_at, f.mql_at, f.assigned_at, f.accepted_at, "         \
    "f.sql_at, f.opportunity_at, f.won_at, f.lost_at, f.contacted_at"
static const char *const sql[PS_END - SQLITE__SLOTS_REPORTS] = {
    [PS_ASSIGNMENTS - SQLITE__SLOTS_REPORTS] =
        "SELECT " ASSIGNMENT_COLS " FROM assignments a INDEXED BY assignments_report "
        "WHERE a.assigned_at >= ?1 AND a.assigned_at < ?2 "
        "AND (?3 IS NULL OR a.rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR a.pool_id = ?4) AND (?5 IS NULL OR a.source = ?5) "
        "ORDER BY a.assigned_at",
    [PS_ASSIGNMENTS_STEPS - SQLITE__SLOTS_REPORTS] =
        "SELECT " ASSIGNMENT_COLS ", a.report_steps FROM assignments a "
        "INDEXED BY assignments_report "
        "WHERE a.assigned_at >= ?1 AND a.assigned_at < ?2 "
        "AND (?3 IS NULL OR a.rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR a.pool_id = ?4) AND (?5 IS NULL OR a.source = ?5) "
        "ORDER BY a.assigned_at",
    /* ?1, ?2: days */
    [PS_ASSIGNMENT_DAYS - SQLITE__SLOTS_REPORTS] =
        "SELECT rep_id, pool_id, policy, source, n, with_sla, met, breached, open, reminded, "
        "escalated, breach_expired, accepted, rejected, expired, reassigned, withdrawn, pending, "
        "not_withdrawn FROM assignment_days "
        "WHERE day >= ?1 AND day < ?2 AND n <> 0 "
        "AND (?3 IS NULL OR rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR pool_id = ?4) AND (?5 IS NULL OR source = ?5)",
    [PS_REJECTION_DAYS - SQLITE__SLOTS_REPORTS] =
        "SELECT rep_id, reason, n FROM rejection_days "
        "WHERE day >= ?1 AND day < ?2 AND n <> 0 "
        "AND (?3 IS NULL OR rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR pool_id = ?4) AND (?5 IS NULL OR source = ?5)",
    [PS_DECISION_DAYS - SQLITE__SLOTS_REPORTS] =
        "SELECT result, rule, pool_id, rep_id, n FROM decision_days "
        "WHERE day >= ?1 AND day < ?2 AND n <> 0 "
        "AND (?3 IS NULL OR rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR pool_id = ?4) AND (?5 IS NULL OR source = ?5)",
    [PS_SPEED_DAYS - SQLITE__SLOTS_REPORTS] =
        "SELECT rep_id, pool_id, policy, source, n, sys, acc, con FROM speed_days "
        "WHERE day >= ?1 AND day < ?2 AND n <> 0 "
        "AND (?3 IS NULL OR rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR pool_id = ?4) AND (?5 IS NULL OR source = ?5)",
    [PS_FUNNEL_DAYS - SQLITE__SLOTS_REPORTS] =
        "SELECT source, owner, n, mql, assigned, accepted, sql, opportunity, won, qualified, "
        "never_accepted, never_contacted, g1, g2, g3, g4, g5, g6, cycle FROM funnel_days "
        "WHERE day >= ?1 AND day < ?2 AND n <> 0 "
        "AND (?3 IS NULL OR owner IN (SELECT value FROM json_each(?3))) "
        "AND (?5 IS NULL OR source = ?5)",
    /* ?6: never contacted (1) or never accepted (0), ?7 limit; qualified is
     * any stage from mql on reached (funnel_row() in report/reports.c) */
    [PS_DARK - SQLITE__SLOTS_REPORTS] =
        "SELECT " FUNNEL_COLS " FROM lead_funnel f "
        "WHERE f.created_at >= ?1 AND f.created_at < ?2 "
        "AND (?3 IS NULL OR f.owner IN (SELECT value FROM json_each(?3))) "
        "AND (?5 IS NULL OR f.source = ?5) AND f.stage IS NOT 'disqualified' "
        "AND (coalesce(f.mql_at, 0) <> 0 OR coalesce(f.assigned_at, 0) <> 0 "
        "  OR coalesce(f.accepted_at, 0) <> 0 OR coalesce(f.sql_at, 0) <> 0 "
        "  OR coalesce(f.opportunity_at, 0) <> 0 OR coalesce(f.won_at, 0) <> 0) "
        "AND CASE WHEN ?6 THEN coalesce(f.contacted_at, 0) = 0 "
        "  ELSE coalesce(f.accepted_at, 0) = 0 AND coalesce(f.sql_at, 0) = 0 "
        "  AND coalesce(f.opportunity_at, 0) = 0 AND coalesce(f.won_at, 0) = 0 END "
        "ORDER BY f.created_at, f.lead_id LIMIT ?7",
    [PS_FUNNEL - SQLITE__SLOTS_REPORTS] =
        "SELECT " FUNNEL_COLS " FROM lead_funnel f "
        "WHERE f.created_at >= ?1 AND f.created_at < ?2 "
        "AND (?3 IS NULL OR f.owner IN (SELECT value FROM json_each(?3))) "
        "AND (?5 IS NULL OR f.source = ?5) ORDER BY f.created_at, f.lead_id",
    [PS_DECISIONS - SQLITE__SLOTS_REPORTS] =
        "SELECT result, rule, pool_id, rep_id FROM decisions "
        "WHERE at >= ?1 AND at < ?2 "
        "AND (?3 IS NULL OR rep_id IN (SELECT value FROM json_each(?3))) "
        "AND (?4 IS NULL OR pool_id = ?4) "
        "AND (?5 IS NULL OR (SELECT source FROM lead_funnel f WHERE f.lead_id = decisions.lead_id) "
        "  = ?5) "
        "ORDER BY at",
    [PS_HOLDS - SQLITE__SLOTS_REPORTS] =
        "SELECT reason, count(*), min(since) FROM holds GROUP BY reason ORDER BY count(*) DESC",
    [PS_HELD_LONGEST - SQLITE__SLOTS_REPORTS] =
        ("SELECT h.lead_id, h.since, h.reason, l.source, h.score FROM holds h "
         "JOIN leads l ON l.id = h.lead_id ORDER BY h.since, h.lead_id LIMIT ?1"),
};

static sqlite3_stmt *st(struct store_conn *c, unsigned slot, struct bt_error *err)
{
    return sqlite__stmt(c, slot, sql[slot - SQLITE__SLOTS_REPORTS], err);
}

static void bind_filter(sqlite3_stmt *s, const struct store_report_filter *f)
{
    sqlite3_bind_int64(s, 1, f->since);
    sqlite3_bind_int64(s, 2, f->until);
    sqlite__bind_text(s, 3, f->reps_json);
    sqlite__bind_text(s, 4, f->pool);
    sqlite__bind_text(s, 5, f->source);
}

static const char *text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static bt_err finish(struct store_conn *c, sqlite3_stmt *s, int rc, const char *what,
                     struct bt_error *err)
{
    bt_err e = rc == SQLITE_DONE || rc == SQLITE_ROW ? BT_OK : sqlite__error(c, err, what);
    sqlite3_reset(s);
    return e;
}

static bt_err sqp_assignments(struct store_conn *c, const struct store_report_filter *f,
                              store_report_assignment_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, f->steps ? PS_ASSIGNMENTS_STEPS : PS_ASSIGNMENTS, err);
    if (!s)
        return BT_ESTORE;
    bind_filter(s, f);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_assignment r = {
            .id = sqlite3_column_int64(s, 0),
            .lead_id = sqlite3_column_int64(s, 1),
            .attempt = sqlite3_column_int64(s, 2),
            .rep_id = text(s, 3),
            .pool_id = text(s, 4),
            .rule = text(s, 5),
            .policy = text(s, 6),
            .status = text(s, 7),
            .close_reason = text(s, 8),
            .assigned_at = sqlite3_column_int64(s, 9),
            .accepted_at = sqlite3_column_int64(s, 10),
            .contacted_at = sqlite3_column_int64(s, 11),
            .closed_at = sqlite3_column_int64(s, 12),
            .breached_at = sqlite3_column_int64(s, 13),
            .reminders_sent = sqlite3_column_int64(s, 14),
            .source = text(s, 15),
            .lead_created_at = sqlite3_column_int64(s, 16),
            .steps = f->steps ? (unsigned)sqlite3_column_int(s, 17) : 0,
        };
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading assignments for a report", err);
}

/* Binds the whole days of f's window; false when none fits. */
static bool bind_days(sqlite3_stmt *s, const struct store_report_filter *f)
{
    int64_t first = f->since >= 0 ? (f->since + STORE_REPORT_DAY_MS - 1) / STORE_REPORT_DAY_MS
                                  : -(-f->since / STORE_REPORT_DAY_MS);
    int64_t end = f->until >= 0 ? f->until / STORE_REPORT_DAY_MS
                                : -((-f->until + STORE_REPORT_DAY_MS - 1) / STORE_REPORT_DAY_MS);
    bind_filter(s, f);
    sqlite3_bind_int64(s, 1, first);
    sqlite3_bind_int64(s, 2, end);
    return first < end;
}

static bt_err sqp_assignment_days(struct store_conn *c, const struct store_report_filter *f,
                                  store_report_assignment_day_fn fn, void *cls,
                                  struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_ASSIGNMENT_DAYS, err);
    if (!s)
        return BT_ESTORE;
    if (!bind_days(s, f))
        return finish(c, s, SQLITE_DONE, "", err);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_assignment_day r = {
            text(s, 0), text(s, 1), text(s, 2), text(s, 3), {0}};
        for (int k = 0; k < STORE_COUNT_CLASSES; k++)
            r.count[k] = sqlite3_column_int64(s, 4 + k);
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading the days of assignments for a report", err);
}

static bt_err sqp_rejection_days(struct store_conn *c, const struct store_report_filter *f,
                                 store_report_rejection_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_REJECTION_DAYS, err);
    if (!s)
        return BT_ESTORE;
    if (!bind_days(s, f))
        return finish(c, s, SQLITE_DONE, "", err);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(cls, text(s, 0), text(s, 1), sqlite3_column_int64(s, 2)))
            break;
    return finish(c, s, rc, "reading the days of rejections for a report", err);
}

static bt_err sqp_decision_days(struct store_conn *c, const struct store_report_filter *f,
                                store_report_decision_day_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_DECISION_DAYS, err);
    if (!s)
        return BT_ESTORE;
    if (!bind_days(s, f))
        return finish(c, s, SQLITE_DONE, "", err);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_decision_day r = {text(s, 0), text(s, 1), text(s, 2), text(s, 3),
                                              sqlite3_column_int64(s, 4)};
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading the days of decisions for a report", err);
}

/* A list of durations as speed_days keeps it, ",v1,v2,...," (or ","),
 * into v; n in and out. */
static void parse_durations(const char *text, int64_t **v, size_t *cap, size_t *n)
{
    *n = 0;
    const char *p = text ? text : "";
    while (*p) {
        if (*p == ',') {
            p++;
            continue;
        }
        bool minus = *p == '-';
        p += minus;
        if (*p < '0' || *p > '9')
            break; /* not a number: the rest is ignored */
        int64_t x = 0;
        for (; *p >= '0' && *p <= '9' && x < INT64_MAX / 10 - 10; p++)
            x = x * 10 + (*p - '0');
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *v = xrealloc(*v, *cap * sizeof(**v));
        }
        (*v)[(*n)++] = minus ? -x : x;
    }
}

static bt_err sqp_speed_days(struct store_conn *c, const struct store_report_filter *f,
                             store_report_speed_day_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_SPEED_DAYS, err);
    if (!s)
        return BT_ESTORE;
    if (!bind_days(s, f))
        return finish(c, s, SQLITE_DONE, "", err);
    int64_t *v[STORE_SPEED_MEASURES] = {NULL};
    size_t cap[STORE_SPEED_MEASURES] = {0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_speed_day r = {
            text(s, 0), text(s, 1), text(s, 2), text(s, 3), sqlite3_column_int64(s, 4),
            {NULL},     {0}};
        for (int m = 0; m < STORE_SPEED_MEASURES; m++) {
            parse_durations(text(s, 5 + m), &v[m], &cap[m], &r.n_values[m]);
            r.values[m] = v[m];
        }
        if (fn(cls, &r))
            break;
    }
    for (int m = 0; m < STORE_SPEED_MEASURES; m++)
        free(v[m]);
    return finish(c, s, rc, "reading the days of speed-to-lead for a report", err);
}

static struct store_report_funnel funnel_of(sqlite3_stmt *s)
{
    return (struct store_report_funnel){
        .lead_id = sqlite3_column_int64(s, 0),
        .source = text(s, 1),
        .stage = text(s, 2),
        .created_at = sqlite3_column_int64(s, 3),
        .mql_at = sqlite3_column_int64(s, 4),
        .assigned_at = sqlite3_column_int64(s, 5),
        .accepted_at = sqlite3_column_int64(s, 6),
        .sql_at = sqlite3_column_int64(s, 7),
        .opportunity_at = sqlite3_column_int64(s, 8),
        .won_at = sqlite3_column_int64(s, 9),
        .lost_at = sqlite3_column_int64(s, 10),
        .contacted_at = sqlite3_column_int64(s, 11),
    };
}

static bt_err sqp_funnel(struct store_conn *c, const struct store_report_filter *f,
                         store_report_funnel_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_FUNNEL, err);
    if (!s)
        return BT_ESTORE;
    bind_filter(s, f);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_funnel r = funnel_of(s);
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading the funnel for a report", err);
}

static bt_err sqp_dark_leads(struct store_conn *c, const struct store_report_filter *f,
                             bool contacted, unsigned limit, store_report_funnel_fn fn, void *cls,
                             struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_DARK, err);
    if (!s)
        return BT_ESTORE;
    bind_filter(s, f);
    sqlite3_bind_int(s, 6, contacted);
    sqlite3_bind_int64(s, 7, limit);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_funnel r = funnel_of(s);
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading dark leads for a report", err);
}

static bt_err sqp_funnel_days(struct store_conn *c, const struct store_report_filter *f,
                              store_report_funnel_day_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_FUNNEL_DAYS, err);
    if (!s)
        return BT_ESTORE;
    if (!bind_days(s, f))
        return finish(c, s, SQLITE_DONE, "", err);
    int64_t *v[STORE_FUNNEL_TIMES] = {NULL};
    size_t cap[STORE_FUNNEL_TIMES] = {0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_funnel_day r = {.source = text(s, 0), .owner = text(s, 1)};
        for (int k = 0; k < STORE_FUNNEL_COUNTS; k++)
            r.count[k] = sqlite3_column_int64(s, 2 + k);
        for (int k = 0; k < STORE_FUNNEL_TIMES; k++) {
            parse_durations(text(s, 2 + STORE_FUNNEL_COUNTS + k), &v[k], &cap[k], &r.n_values[k]);
            r.values[k] = v[k];
        }
        if (fn(cls, &r))
            break;
    }
    for (int k = 0; k < STORE_FUNNEL_TIMES; k++)
        free(v[k]);
    return finish(c, s, rc, "reading the days of the funnel for a report", err);
}

static bt_err sqp_decisions(struct store_conn *c, const struct store_report_filter *f,
                            store_report_decision_fn fn, void *cls, struct bt_error *err)
{
    sqlite3_stmt *s = st(c, PS_DECISIONS, err);
    if (!s)
        return BT_ESTORE;
    bind_filter(s, f);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_report_decision r = {text(s, 0), text(s, 1), text(s, 2), text(s, 3)};
        if (fn(cls, &r))
            break;
    }
    return finish(c, s, rc, "reading decisions for a report", err);
}

static bt_err sqp_holds(struct store_conn *c, struct arena *a, struct store_report_hold_group **out,
                        size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st(c, PS_HOLDS, err);
    if (!s)
        return BT_ESTORE;
    size_t cap = 0, n = 0;
    struct store_report_hold_group *rows = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < GROUPS_MAX) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_report_hold_group *grown = arena_alloc_raw(a, ncap * sizeof(*grown));
            if (!grown) {
                sqlite3_reset(s);
                return bt_fail(err, BT_ETOOBIG, NULL, "routing report: out of memory");
            }
            if (n)
                memcpy(grown, rows, n * sizeof(*rows));
            rows = grown;
            cap = ncap;
        }
        rows[n].reason = sqlite__col_text(s, 0, a);
        rows[n].count = sqlite3_column_int64(s, 1);
        rows[n].oldest_since = sqlite3_column_int64(s, 2);
        n++;
    }
    *out = rows;
    *count = n;
    return finish(c, s, rc, "reading holds for a report", err);
}

static bt_err sqp_held_longest(struct store_conn *c, unsigned limit, struct arena *a,
                               struct store_report_held **out, size_t *count, struct bt_error *err)
{
    *out = NULL;
    *count = 0;
    if (limit < 1 || limit > STORE_LIST_MAX)
        limit = STORE_LIST_MAX;
    sqlite3_stmt *s = st(c, PS_HELD_LONGEST, err);
    if (!s)
        return BT_ESTORE;
    sqlite3_bind_int64(s, 1, limit);
    struct store_report_held *rows = arena_alloc(a, limit * sizeof(*rows));
    if (!rows) {
        sqlite3_reset(s);
        return bt_fail(err, BT_ETOOBIG, NULL, "reading held leads: out of memory");
    }
    int rc = SQLITE_DONE;
    size_t n = 0;
    while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rows[n].lead_id = sqlite3_column_int64(s, 0);
        rows[n].since = sqlite3_column_int64(s, 1);
        rows[n].reason = sqlite__col_text(s, 2, a);
        rows[n].source = sqlite__col_text(s, 3, a);
        rows[n].score = sqlite3_column_double(s, 4);
        n++;
    }
    if (n == limit)
        rc = SQLITE_DONE;
    *out = rows;
    *count = n;
    return finish(c, s, rc, "reading held leads for a report", err);
}

const struct store_report_ops store__sqlite_report_ops = {
    .assignments = sqp_assignments,
    .funnel = sqp_funnel,
    .assignment_days = sqp_assignment_days,
    .rejection_days = sqp_rejection_days,
    .decision_days = sqp_decision_days,
    .speed_days = sqp_speed_days,
    .funnel_days = sqp_funnel_days,
    .dark_leads = sqp_dark_leads,
    .decisions = sqp_decisions,
    .holds = sqp_holds,
    .held_longest = sqp_held_longest,
};
