/*
 * store_reports.h - the rows reports are computed from (report/reports.h
 * turns them into figures). Read-only; run on a reader connection.
 *
 * Each call selects one time window [since, until) in ms since the epoch
 * and streams its rows to a callback, or returns small grouped counts, so
 * that a year of a million leads never sits in memory as rows: the caller
 * keeps only what it aggregates. Tables (schema v8): assignments, decisions,
 * holds, and lead_funnel (one row per lead with the first time it reached
 * each stage, kept by triggers).
 */
#ifndef BT_STORE_REPORTS_H
#define BT_STORE_REPORTS_H

#include "store/store.h"

struct store_report_filter {
    int64_t since, until; /* [since, until) in ms */
    /* a JSON array of rep ids the rows must belong to, or NULL for any rep */
    const char *reps_json;
    const char *pool;   /* NULL: any */
    const char *source; /* the lead's source; NULL: any */
    /* What store_report_assignments must fill beyond the assignment's own
     * columns (each costs a lookup per row): STORE_REPORT_LEAD for source
     * and lead_created_at, STORE_REPORT_STEPS for escalated and reminded. */
    unsigned want;
};
#define STORE_REPORT_LEAD  1u
#define STORE_REPORT_STEPS 2u

/* One assignment with its lead's intake time and source (NULL and 0
 * unless f->want has STORE_REPORT_LEAD); the strings are valid during the
 * callback only. Times 0: not (yet). */
struct store_report_assignment {
    int64_t id, lead_id, attempt;
    const char *rep_id, *pool_id, *rule, *policy, *status, *close_reason, *source;
    int64_t lead_created_at, assigned_at, accepted_at, contacted_at, closed_at, breached_at;
    int64_t reminders_sent;
    /* for breached rows only: an assignment.escalated event for it, an
     * assignment.reminded event of the breach */
    bool escalated, reminded;
};
/* Non-zero stops the walk (and the call returns BT_OK). */
typedef int (*store_report_assignment_fn)(void *cls, const struct store_report_assignment *row);

/* Every assignment made in the window (by assigned_at), in assigned_at order. */
bt_err store_report_assignments(struct store_conn *c, const struct store_report_filter *f,
                                store_report_assignment_fn fn, void *cls,
                                struct bt_error *err) BT_MUST_USE;

/* A lead's way through the funnel (lead_funnel); 0: never reached. */
struct store_report_funnel {
    int64_t lead_id;
    const char *source, *stage; /* the lead's source and current stage; during the callback */
    int64_t created_at, mql_at, assigned_at, accepted_at, sql_at, opportunity_at, won_at, lost_at;
    int64_t contacted_at; /* the first contact of any of its assignments */
};
typedef int (*store_report_funnel_fn)(void *cls, const struct store_report_funnel *row);

/* Every lead created in the window (by intake time), oldest first; the rep
 * filter applies to the lead's current owner, the pool filter not at all. */
bt_err store_report_funnel(struct store_conn *c, const struct store_report_filter *f,
                           store_report_funnel_fn fn, void *cls, struct bt_error *err) BT_MUST_USE;

/* Routing decisions in the window grouped by result, rule, pool and rep. */
struct store_report_decision_group {
    const char *result, *rule, *pool_id, *rep_id; /* NULL when not set */
    int64_t count;
};
bt_err store_report_decisions(struct store_conn *c, const struct store_report_filter *f,
                              struct arena *a, struct store_report_decision_group **out,
                              size_t *count, struct bt_error *err) BT_MUST_USE;

/* The hold queue now (holds are current state, not history): per reason,
 * how many and since when the oldest. */
struct store_report_hold_group {
    const char *reason;
    int64_t count, oldest_since;
};
bt_err store_report_holds(struct store_conn *c, struct arena *a,
                          struct store_report_hold_group **out, size_t *count,
                          struct bt_error *err) BT_MUST_USE;

/* The `limit` leads held longest (oldest since first). */
struct store_report_held {
    int64_t lead_id, since;
    const char *reason, *source;
    double score;
};
bt_err store_report_held_longest(struct store_conn *c, unsigned limit, struct arena *a,
                                 struct store_report_held **out, size_t *count,
                                 struct bt_error *err) BT_MUST_USE;

#endif
