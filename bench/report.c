/*
 * bench/report.c - how fast the reports of issue 13 answer over a year of
 * a million leads (report/reports.h on SQLite).
 *
 *   build/bench/report [DB [LEADS]]   (default /tmp/baton-report-bench.db, 1000000)
 *
 * Fills DB (when it does not hold LEADS leads yet) with a year of history
 * in bulk SQL: leads from five sources spread evenly over 2026, 90% of them
 * qualified, routed by six rules to four pools of ten reps; assignments
 * with their SLA policy, accept and contact times (seconds to hours),
 * breaches, escalation events, rejections with reasons and second attempts
 * for expired and rejected leads; decisions, holds, and each lead's funnel
 * row (lead_funnel, which triggers keep in the daemon from the lead's
 * events; its times are set directly here, as the history has no events).
 * The daily summaries of schema v10 (assignment_days, speed_days,
 * funnel_days, decision_days, ...) are written by their own triggers as
 * these rows go in, as in the daemon. Then runs every report over the
 * whole year, and with filters, each three times, and prints the best and
 * worst wall time.
 */
#include "report/reports.h"
#include "store/store.h"
#include "util/timeutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define YEAR_START 1767225600000LL /* 2026-01-01T00:00:00Z */
#define YEAR_MS    31536000000LL

/* h: a lead's pseudo-random bucket 0..999, from its id */
#define H "((i * 2654435761) % 1000)"

static const char *const fill[] = {
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) "
    "INSERT INTO leads (id, email, source, stage, owner, created_at, updated_at) "
    "SELECT i, 'lead' || i || '@example.com', "
    "  CASE i % 5 WHEN 0 THEN 'web' WHEN 1 THEN 'webinar' WHEN 2 THEN 'csv' WHEN 3 THEN "
    "  'partner' ELSE 'ads' END, "
    "  CASE WHEN " H " < 100 THEN 'new' WHEN " H " < 150 THEN 'mql' WHEN " H " < 250 THEN "
    "  'assigned' WHEN " H " < 450 THEN 'accepted' WHEN " H " < 700 THEN 'sql' WHEN " H
    " < 850 THEN 'opportunity' WHEN " H " < 930 THEN 'won' ELSE 'lost' END, "
    "  CASE WHEN " H " >= 150 THEN 'rep-' || printf('%02d', i % 40) END, "
    "  ?2 + i * (?3 / ?1), ?2 + i * (?3 / ?1) FROM n",
    /* decisions: every qualified lead */
    "INSERT INTO decisions (lead_id, result, rep_id, pool_id, rule, config_version, record, at) "
    "SELECT id, CASE WHEN " H " < 150 THEN 'held' ELSE 'assigned' END, owner, "
    "  'pool-' || (i % 4), 'rule-' || (i % 6), 'bench', '{}', created_at + (i * 31) % 120000 "
    "FROM (SELECT id, id AS i, owner, created_at FROM leads) WHERE " H " >= 100",
    "INSERT INTO holds (lead_id, reason, score, since) "
    "SELECT id, CASE id % 3 WHEN 0 THEN 'no_eligible_rep' WHEN 1 THEN 'out_of_hours' ELSE "
    "  'awaiting_routing' END, id % 100, updated_at FROM leads WHERE stage = 'mql'",
    /* first attempts; expired (h < 200) and rejected (250 .. 280) get a second */
    "INSERT INTO assignments (lead_id, rep_id, pool_id, rule, attempt, status, policy, clock, "
    "  assigned_at, accepted_at, contacted_at, closed_at, breached_at, close_reason, "
    "  reminders_sent) "
    "SELECT i, CASE WHEN h < 200 OR (h >= 250 AND h < 280) THEN 'rep-' || printf('%02d', "
    "  (i + 1) % 40) ELSE 'rep-' || printf('%02d', i % 40) END, 'pool-' || (i % 4), "
    "  'rule-' || (i % 6), 1, "
    "  CASE WHEN h < 200 THEN 'expired' WHEN h < 250 THEN 'pending' WHEN h < 280 THEN 'rejected' "
    "  WHEN h < 300 THEN 'accepted' ELSE 'contacted' END, "
    "  CASE i % 3 WHEN 0 THEN 'enterprise' ELSE 'standard' END, 'wall', a, "
    "  CASE WHEN h >= 280 THEN a + acc END, CASE WHEN h >= 300 THEN a + acc + con END, "
    "  CASE WHEN h < 200 THEN a + 1800000 WHEN h >= 250 AND h < 280 THEN a + acc / 2 END, "
    "  CASE WHEN h < 200 OR (h >= 280 AND acc > 1800000) THEN a + 1800000 END, "
    "  CASE WHEN h < 200 THEN 'expired' WHEN h >= 250 AND h < 280 THEN "
    "    CASE i % 4 WHEN 0 THEN 'not_my_territory' WHEN 1 THEN 'bad_data' WHEN 2 THEN "
    "    'existing_customer' ELSE 'too_busy' END END, "
    "  CASE WHEN acc > 900000 THEN 1 ELSE 0 END "
    "FROM (SELECT id AS i, ((id * 2654435761) % 1000) AS h, created_at + (id * 31) % 120000 AS a, "
    "  (id * 7919) % 5400000 AS acc, (id * 104729) % 7200000 AS con FROM leads) WHERE h >= 150",
    "INSERT INTO assignments (lead_id, rep_id, pool_id, rule, attempt, status, policy, clock, "
    "  assigned_at, accepted_at, contacted_at) "
    "SELECT lead_id, 'rep-' || printf('%02d', lead_id % 40), pool_id, rule, 2, 'contacted', "
    "  policy, clock, closed_at + 5000, closed_at + 65000, closed_at + 665000 "
    "FROM assignments WHERE status IN ('expired', 'rejected')",
    /* the escalations of half the breaches */
    "INSERT INTO lead_events (lead_id, type, actor, data, at) "
    "SELECT lead_id, 'assignment.escalated', 'system', json_object('assignment', id, "
    "  'deadline', 'accept'), breached_at FROM assignments "
    "WHERE breached_at IS NOT NULL AND lead_id % 2 = 0",
    /* the funnel rows the triggers would have written */
    "UPDATE lead_funnel SET "
    "  mql_at = CASE WHEN h >= 100 THEN created_at + 60000 END, "
    "  assigned_at = CASE WHEN h >= 150 THEN created_at + (lead_id * 31) % 120000 END, "
    "  accepted_at = CASE WHEN h >= 250 THEN created_at + 120000 + (lead_id * 7919) % 5400000 END, "
    "  sql_at = CASE WHEN h >= 450 THEN created_at + 86400000 * (1 + lead_id % 5) END, "
    "  opportunity_at = CASE WHEN h >= 700 THEN created_at + 86400000 * (6 + lead_id % 20) END, "
    "  won_at = CASE WHEN h >= 850 AND h < 930 THEN created_at + 86400000 * (30 + lead_id % 60) "
    "  END, "
    "  lost_at = CASE WHEN h >= 930 THEN created_at + 86400000 * (30 + lead_id % 60) END, "
    "  contacted_at = CASE WHEN h >= 300 THEN created_at + 4000000 END "
    "FROM (SELECT id, " H " AS h FROM (SELECT id, id AS i FROM leads)) AS x "
    "WHERE x.id = lead_funnel.lead_id",
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int64_t count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static int do_fill(const char *path, int64_t leads)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    if (count(db, "SELECT count(*) FROM leads") == leads) {
        sqlite3_close(db);
        return 0;
    }
    fprintf(stderr, "filling %s with %lld leads over 2026 ...\n", path, (long long)leads);
    double t0 = now_ms();
    sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN", NULL, NULL, NULL);
    for (size_t k = 0; k < sizeof(fill) / sizeof(fill[0]); k++) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, fill[k], -1, &s, NULL) != SQLITE_OK) {
            fprintf(stderr, "fill %zu: %s\n", k, sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_bind_int64(s, 1, leads);
        sqlite3_bind_int64(s, 2, YEAR_START);
        sqlite3_bind_int64(s, 3, YEAR_MS);
        if (sqlite3_step(s) != SQLITE_DONE) {
            fprintf(stderr, "fill %zu: %s\n", k, sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_finalize(s);
    }
    sqlite3_exec(db, "COMMIT; ANALYZE", NULL, NULL, NULL);
    fprintf(stderr, "filled in %.1f s: %lld leads, %lld assignments, %lld decisions, %lld holds\n",
            (now_ms() - t0) / 1000, (long long)count(db, "SELECT count(*) FROM leads"),
            (long long)count(db, "SELECT count(*) FROM assignments"),
            (long long)count(db, "SELECT count(*) FROM decisions"),
            (long long)count(db, "SELECT count(*) FROM holds"));
    sqlite3_close(db);
    return 0;
}

static void run(struct store_conn *c, const char *label, const struct reports_query *q)
{
    double best = 1e18, worst = 0;
    size_t bytes = 0;
    for (int k = 0; k < 3; k++) {
        struct bt_error err = BT_ERROR_INIT;
        json_t *out;
        double t0 = now_ms();
        if (reports_run(c, NULL, q, NULL, NULL, &out, &err)) {
            printf("%-38s failed: %s\n", label, err.message);
            return;
        }
        double t = now_ms() - t0;
        char *text = json_dumps(out, JSON_COMPACT);
        bytes = strlen(text);
        free(text);
        json_decref(out);
        best = t < best ? t : best;
        worst = t > worst ? t : worst;
    }
    printf("%-38s %8.0f ms best %8.0f ms worst  %7zu bytes of JSON\n", label, best, worst, bytes);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/baton-report-bench.db";
    int64_t leads = argc > 2 ? atoll(argv[2]) : 1000000;
    struct store *st;
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    if (store_open(path, &opts, &st, &err) || store_conn_open(st, &c, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    if (do_fill(path, leads)) {
        fprintf(stderr, "cannot fill %s\n", path);
        return 1;
    }
    printf("reports over %lld leads in 2026 (%s), no configuration\n", (long long)leads, path);
    static const char *const names[] = {"speed-to-lead", "sla",        "acceptance",
                                        "funnel",        "dark-leads", "routing"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        struct reports_query q = {
            .name = names[k], .since = YEAR_START, .until = YEAR_START + YEAR_MS};
        char label[64];
        snprintf(label, sizeof(label), "%s, the year", names[k]);
        run(c, label, &q);
    }
    struct reports_query q = {.name = "speed-to-lead",
                              .since = YEAR_START + YEAR_MS / 12 * 10,
                              .until = YEAR_START + YEAR_MS};
    run(c, "speed-to-lead, the last two months", &q);
    /* a window that ends mid-day on both sides: edges read row by row */
    q = (struct reports_query){.name = "speed-to-lead",
                               .since = YEAR_START + 3600000 * 13,
                               .until = YEAR_START + YEAR_MS - 3600000 * 5};
    run(c, "speed-to-lead, the year less 18 h", &q);
    q.name = "sla";
    run(c, "sla, the year less 18 h", &q);
    q.name = "funnel";
    run(c, "funnel, the year less 18 h", &q);
    q = (struct reports_query){.name = "speed-to-lead",
                               .since = YEAR_START,
                               .until = YEAR_START + YEAR_MS,
                               .rep = "rep-07"};
    run(c, "speed-to-lead, one rep, the year", &q);
    q = (struct reports_query){
        .name = "sla", .since = YEAR_START, .until = YEAR_START + YEAR_MS, .source = "web"};
    run(c, "sla, one source, the year", &q);
    q = (struct reports_query){
        .name = "routing", .since = YEAR_START, .until = YEAR_START + YEAR_MS, .pool = "pool-2"};
    run(c, "routing, one pool, the year", &q);
    /* each filter on the reports it applies to (a team is a list of reps) */
    static const struct {
        const char *name, *label, *rep, *pool, *source;
    } filtered[] = {
        {"speed-to-lead", "speed-to-lead, one source, the year", NULL, NULL, "web"},
        {"speed-to-lead", "speed-to-lead, one pool, the year", NULL, "pool-1", NULL},
        {"sla", "sla, one rep, the year", "rep-07", NULL, NULL},
        {"acceptance", "acceptance, one pool, the year", NULL, "pool-3", NULL},
        {"funnel", "funnel, one source, the year", NULL, NULL, "partner"},
        {"dark-leads", "dark-leads, one rep, the year", "rep-11", NULL, NULL},
        {"routing", "routing, one source, the year", NULL, NULL, "ads"},
        {"routing", "routing, one rep and pool, the year", "rep-02", "pool-2", NULL},
    };
    for (size_t k = 0; k < sizeof(filtered) / sizeof(filtered[0]); k++) {
        q = (struct reports_query){.name = filtered[k].name,
                                   .since = YEAR_START,
                                   .until = YEAR_START + YEAR_MS,
                                   .rep = filtered[k].rep,
                                   .pool = filtered[k].pool,
                                   .source = filtered[k].source};
        run(c, filtered[k].label, &q);
    }
    store_conn_close(c);
    store_close(st);
    return 0;
}
