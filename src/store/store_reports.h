/*
 * store_reports.h - the rows reports are computed from (report/reports.h
 * turns them into figures). Read-only; run on a reader connection.
 *
 * Each call selects one time window [since, until) in ms since the epoch
 * and streams its rows to a callback, or returns small grouped counts, so
 * that a year of a million leads never sits in memory as rows: the caller
 * keeps only what it aggregates. Tables (schema v8): assignments (with
 * their lead's intake time and source, and a covering index), decisions,
 * holds, and lead_funnel (one row per lead with the first time it reached
 * each stage, kept by triggers); (schema v10) assignment_days and
 * rejection_days, the counts of assignments per UTC day, rep, pool, policy
 * and source, kept by triggers, which the counting reports read for the
 * whole days of a window.
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
    /* store_report_assignments: also read each assignment's steps (not in
     * the covering index: a lookup per row, for short windows) */
    bool steps;
};

#define STORE_REPORT_DAY_MS 86400000LL

/* One assignment with its lead's intake time and source (as they were
 * when it was made); the strings are valid during the callback only.
 * Times 0: not (yet). */
struct store_report_assignment {
    int64_t id, lead_id, attempt;
    const char *rep_id, *pool_id, *rule, *policy, *status, *close_reason, *source;
    int64_t lead_created_at, assigned_at, accepted_at, contacted_at, closed_at, breached_at;
    int64_t reminders_sent;
    unsigned steps; /* with f->steps: STORE_STEP_* of its breach */
};
#define STORE_STEP_ESCALATED 1u /* an assignment.escalated event */
#define STORE_STEP_REMINDED  2u /* an assignment.reminded event with "breach": true */
/* Non-zero stops the walk (and the call returns BT_OK). */
typedef int (*store_report_assignment_fn)(void *cls, const struct store_report_assignment *row);

/* Every assignment made in the window (by assigned_at), in assigned_at order. */
bt_err store_report_assignments(struct store_conn *c, const struct store_report_filter *f,
                                store_report_assignment_fn fn, void *cls,
                                struct bt_error *err) BT_MUST_USE;

/* The classes an assignment is counted in (count_into() in
 * report/reports.c; docs/metrics.md, "sla" and "acceptance"). */
enum store_report_count {
    STORE_COUNT_OFFERED,        /* every assignment */
    STORE_COUNT_WITH_SLA,       /* with a policy */
    STORE_COUNT_MET,            /* with a policy, accepted, not breached */
    STORE_COUNT_BREACHED,       /* with a policy, breached_at set */
    STORE_COUNT_OPEN,           /* with a policy, not breached, still waiting */
    STORE_COUNT_REMINDED,       /* breached, and the breach sent a reminder */
    STORE_COUNT_ESCALATED,      /* breached, and escalated */
    STORE_COUNT_BREACH_EXPIRED, /* breached, and expired */
    STORE_COUNT_ACCEPTED,       /* accepted at some point */
    STORE_COUNT_REJECTED,       /* never accepted, and: rejected */
    STORE_COUNT_EXPIRED,        /* ... expired */
    STORE_COUNT_REASSIGNED,     /* ... reassigned */
    STORE_COUNT_WITHDRAWN,      /* ... withdrawn */
    STORE_COUNT_PENDING,        /* ... pending or offered */
    STORE_COUNT_NOT_WITHDRAWN,  /* any status but withdrawn (fairness) */
    STORE_COUNT_CLASSES
};

/* The counts of one day's assignments of one rep, pool, policy and
 * source ("" for none); strings valid during the callback only. */
struct store_report_assignment_day {
    const char *rep_id, *pool_id, *policy, *source;
    int64_t count[STORE_COUNT_CLASSES];
};
typedef int (*store_report_assignment_day_fn)(void *cls,
                                              const struct store_report_assignment_day *row);

/* The counts of the assignments made in the whole UTC days inside the
 * window: from f->since rounded up to a day to f->until rounded down
 * (nothing when no whole day fits); the caller reads the rest of the
 * window with store_report_assignments(). Groups with no assignment left
 * are skipped. */
bt_err store_report_assignment_days(struct store_conn *c, const struct store_report_filter *f,
                                    store_report_assignment_day_fn fn, void *cls,
                                    struct bt_error *err) BT_MUST_USE;

/* One day's assignments of one rep, pool, policy and source ("" for
 * none), and the durations measured among them (docs/metrics.md,
 * "speed-to-lead"): [0] intake to assigned, [1] assigned to accepted,
 * [2] accepted to contacted, in ms, in no order. Valid during the callback
 * only. */
#define STORE_SPEED_MEASURES 3
struct store_report_speed_day {
    const char *rep_id, *pool_id, *policy, *source;
    int64_t count;
    const int64_t *values[STORE_SPEED_MEASURES];
    size_t n_values[STORE_SPEED_MEASURES];
};
typedef int (*store_report_speed_day_fn)(void *cls, const struct store_report_speed_day *row);

/* The durations of the assignments made in the whole UTC days inside the
 * window (speed_days, schema v10), as store_report_assignment_days. */
bt_err store_report_speed_days(struct store_conn *c, const struct store_report_filter *f,
                               store_report_speed_day_fn fn, void *cls,
                               struct bt_error *err) BT_MUST_USE;

/* The same days' rejections (never accepted, status rejected) per rep and
 * reason ("" for none). */
typedef int (*store_report_rejection_fn)(void *cls, const char *rep_id, const char *reason,
                                         int64_t count);
bt_err store_report_rejection_days(struct store_conn *c, const struct store_report_filter *f,
                                   store_report_rejection_fn fn, void *cls,
                                   struct bt_error *err) BT_MUST_USE;

/* A lead's way through the funnel (lead_funnel); 0: never reached. */
struct store_report_funnel {
    int64_t lead_id;
    const char *source, *stage; /* the lead's source and current stage; during the callback */
    int64_t created_at, mql_at, assigned_at, accepted_at, sql_at, opportunity_at, won_at, lost_at;
    int64_t contacted_at; /* the first contact of any of its assignments */
};
typedef int (*store_report_funnel_fn)(void *cls, const struct store_report_funnel *row);

/* Every lead created in the window (by intake time), oldest first (ties
 * by id); the rep
 * filter applies to the lead's current owner, the pool filter not at all. */
bt_err store_report_funnel(struct store_conn *c, const struct store_report_filter *f,
                           store_report_funnel_fn fn, void *cls, struct bt_error *err) BT_MUST_USE;

/* The counts of one day's leads (by intake) of one source and owner now
 * ("" for none): how many reached each stage of the funnel or past it,
 * and the dark leads (docs/metrics.md, "funnel", "dark-leads"). */
enum store_report_funnel_count {
    STORE_FUNNEL_LEADS, /* reached new: every lead */
    STORE_FUNNEL_MQL,   /* ... and each later stage, in funnel order */
    STORE_FUNNEL_ASSIGNED,
    STORE_FUNNEL_ACCEPTED,
    STORE_FUNNEL_SQL,
    STORE_FUNNEL_OPPORTUNITY,
    STORE_FUNNEL_WON,
    STORE_FUNNEL_QUALIFIED,       /* mql or past it */
    STORE_FUNNEL_NEVER_ACCEPTED,  /* qualified, not disqualified, never accepted */
    STORE_FUNNEL_NEVER_CONTACTED, /* qualified, not disqualified, never contacted */
    STORE_FUNNEL_COUNTS
};
/* values[k - 1]: the times from stage k - 1 to stage k (k = mql .. won),
 * values[6]: from intake to won; ms, in no order. Valid during the
 * callback only. */
#define STORE_FUNNEL_TIMES 7
struct store_report_funnel_day {
    const char *source, *owner;
    int64_t count[STORE_FUNNEL_COUNTS];
    const int64_t *values[STORE_FUNNEL_TIMES];
    size_t n_values[STORE_FUNNEL_TIMES];
};
typedef int (*store_report_funnel_day_fn)(void *cls, const struct store_report_funnel_day *row);

/* The leads that came in during the whole UTC days inside the window
 * (funnel_days, schema v10), as store_report_assignment_days; filters as
 * for store_report_funnel(). */
bt_err store_report_funnel_days(struct store_conn *c, const struct store_report_filter *f,
                                store_report_funnel_day_fn fn, void *cls,
                                struct bt_error *err) BT_MUST_USE;

/* The `limit` oldest dark leads of the window (filters as for
 * store_report_funnel()): never contacted, or (contacted false) never
 * accepted; qualified and not disqualified. */
bt_err store_report_dark_leads(struct store_conn *c, const struct store_report_filter *f,
                               bool contacted, unsigned limit, store_report_funnel_fn fn, void *cls,
                               struct bt_error *err) BT_MUST_USE;

/* One routing decision: its result, rule, pool and rep (NULL when not
 * set), valid during the callback only. */
struct store_report_decision {
    const char *result, *rule, *pool_id, *rep_id;
};
typedef int (*store_report_decision_fn)(void *cls, const struct store_report_decision *row);

/* Every routing decision made in the window (by its time). Grouping is
 * the caller's: a hash table over a stream beats the database's sort of
 * a year of decisions by far. */
bt_err store_report_decisions(struct store_conn *c, const struct store_report_filter *f,
                              store_report_decision_fn fn, void *cls,
                              struct bt_error *err) BT_MUST_USE;

/* The decisions of one day with one result, rule, pool and rep ("" for
 * none), and how many; strings valid during the callback only. */
struct store_report_decision_day {
    const char *result, *rule, *pool_id, *rep_id;
    int64_t count;
};
typedef int (*store_report_decision_day_fn)(void *cls, const struct store_report_decision_day *row);

/* The decisions made in the whole UTC days inside the window (as
 * store_report_assignment_days; decision_days, schema v10), the source
 * filter on the lead's source now as for store_report_decisions(). */
bt_err store_report_decision_days(struct store_conn *c, const struct store_report_filter *f,
                                  store_report_decision_day_fn fn, void *cls,
                                  struct bt_error *err) BT_MUST_USE;

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
