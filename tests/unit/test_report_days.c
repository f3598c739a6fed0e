/*
 * test_report_days.c - the daily counts of assignments (schema v10:
 * assignment_days, rejection_days, report_steps) against the rows they
 * summarise. Assignments are written as the engine writes them (insert,
 * then updates of status, acceptance, contact, breach and close; escalation
 * and reminder events), across several days; every counting report must
 * then give the same document from the daily counts (and the rows of the
 * partial days at the edges) as from every row (reports_query.raw), over
 * whole days, odd windows and each filter. So must routing, from the daily
 * counts of decisions (decision_days), also after a lead's source changed.
 * The same after a migration from v9 fills the counts from the rows
 * already stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "config/config.h"
#include "report/reports.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_reports.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY   86400000LL
#define D0    1772323200000LL /* 2026-03-01T00:00:00Z */
#define N     420             /* assignments, over five days */
#define HOUR  3600000LL
#define MIN30 1800000LL

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct store_conn *c;
    sqlite3 *db; /* the writes, as the engine's connection makes them */
};

static int open_store(struct fixture *f)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    if (store_open(f->path, &opts, &f->st, &err) || store_conn_open(f->st, &f->c, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return sqlite3_open(f->path, &f->db) == SQLITE_OK ? 0 : -1;
}

static void close_store(struct fixture *f)
{
    sqlite3_close(f->db);
    store_conn_close(f->c);
    store_close(f->st);
    f->db = NULL;
    f->c = NULL;
    f->st = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, "report-days"))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (open_store(f))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_store(f);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

static void exec(sqlite3 *db, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        fail();
    }
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static const char *const reps[] = {"ana", "ben", "cy", "dee"};
static const char *const sources[] = {"'web'", "'csv'", "NULL"};
static const char *const pools[] = {"'inbound'", "'partners'", "NULL"};
static const char *const policies[] = {"'standard'", "'enterprise'", "NULL"};
static const char *const reasons[] = {"'bad_data'", "'too_busy'", "NULL"};

/* N leads and assignments over five days, each taken through the writes
 * the engine makes for one course of a handoff. */
static void write_history(sqlite3 *db)
{
    exec(db, "BEGIN");
    for (int i = 1; i <= N; i++) {
        int64_t at = D0 + (int64_t)i * (5 * DAY / N) + (i * 7919) % HOUR;
        exec(db,
             "INSERT INTO leads (id, email, source, stage, created_at, updated_at) "
             "VALUES (%d, 'l%d@acme.example', %s, 'assigned', %lld, %lld)",
             i, i, sources[i % 3], (long long)(at - 60000 - i), (long long)at);
        /* the engine inserts pending (or offered, for a broadcast) */
        exec(db,
             "INSERT INTO assignments (id, lead_id, rep_id, pool_id, rule, attempt, status, "
             "policy, clock, assigned_at, accept_by) VALUES (%d, %d, '%s', %s, 'r1', %d, '%s', "
             "%s, 'wall', %lld, %lld)",
             i, i, reps[(i / 3) % 4], pools[i % 5 % 3], 1 + (i % 13 == 0),
             i % 9 == 0 ? "offered" : "pending", policies[i % 7 % 3], (long long)at,
             (long long)(at + MIN30));
        /* its routing decision, and for some a second one (held, then routed) */
        exec(db,
             "INSERT INTO decisions (lead_id, result, rep_id, pool_id, rule, config_version, "
             "record, at) VALUES (%d, '%s', %s, %s, %s, 'v1', '{}', %lld)",
             i,
             i % 6 == 0    ? "held"
             : i % 17 == 0 ? "offered"
                           : "assigned",
             i % 6 == 0 ? "NULL"
             : i % 2    ? "'ana'"
                        : "'ben'",
             pools[i % 5 % 3], i % 4 ? "'r1'" : "NULL", (long long)(at - 1000));
        if (i % 6 == 0)
            exec(db,
                 "INSERT INTO decisions (lead_id, result, rep_id, pool_id, rule, config_version, "
                 "record, at) VALUES (%d, 'assigned', 'cy', 'inbound', 'r2', 'v1', '{}', %lld)",
                 i, (long long)(at + 6 * HOUR));
        long long a = (long long)at;
        switch (i % 8) {
        case 0: /* accepted */
            exec(db, "UPDATE assignments SET status = 'accepted', accepted_at = %lld WHERE id = %d",
                 a + 60000 * (i % 50), i);
            break;
        case 1: /* accepted, then contacted */
            exec(db, "UPDATE assignments SET status = 'accepted', accepted_at = %lld WHERE id = %d",
                 a + 1000 * i, i);
            exec(db,
                 "UPDATE assignments SET status = 'contacted', contacted_at = %lld WHERE id = %d",
                 a + 2000 * i, i);
            break;
        case 2: /* rejected, with a reason or none */
            exec(db,
                 "UPDATE assignments SET status = 'rejected', closed_at = %lld, close_reason = %s "
                 "WHERE id = %d",
                 a + 5000, reasons[i % 3], i);
            break;
        case 3: /* breached: reminded (and escalated), then expired */
            exec(db, "UPDATE assignments SET breached_at = %lld WHERE id = %d", a + MIN30, i);
            exec(db,
                 "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (%d, "
                 "'assignment.reminded', 'system', '{\"assignment\":%d,\"breach\":true}', %lld)",
                 i, i, a + MIN30);
            if (i % 2)
                exec(db,
                     "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (%d, "
                     "'assignment.escalated', 'system', '{\"assignment\":%d}', %lld), (%d, "
                     "'assignment.escalated', 'system', '{\"assignment\":%d}', %lld)",
                     i, i, a + MIN30 + 1, i, i, a + MIN30 + 2);
            exec(db,
                 "UPDATE assignments SET status = 'expired', closed_at = %lld, close_reason = "
                 "'expired' WHERE id = %d",
                 a + 2 * MIN30, i);
            break;
        case 4: /* a reminder before the deadline (no breach), then withdrawn */
            exec(db,
                 "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (%d, "
                 "'assignment.reminded', 'system', '{\"assignment\":%d}', %lld)",
                 i, i, a + 60000);
            exec(db, "UPDATE assignments SET status = 'withdrawn', closed_at = %lld WHERE id = %d",
                 a + 90000, i);
            break;
        case 5: /* breached, accepted late, then reassigned by a manager */
            exec(db, "UPDATE assignments SET breached_at = %lld WHERE id = %d", a + MIN30, i);
            exec(db, "UPDATE assignments SET status = 'accepted', accepted_at = %lld WHERE id = %d",
                 a + 2 * MIN30, i);
            exec(db,
                 "UPDATE assignments SET status = 'reassigned', closed_at = %lld, close_reason = "
                 "'manager' WHERE id = %d",
                 a + 3 * MIN30, i);
            break;
        case 6: /* breached and still waiting; escalated */
            exec(db, "UPDATE assignments SET breached_at = %lld WHERE id = %d", a + MIN30, i);
            exec(db,
                 "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (%d, "
                 "'assignment.escalated', 'system', '{\"assignment\":%d}', %lld)",
                 i, i, a + MIN30);
            break;
        default: /* still pending; reminders_sent and next_due change nothing */
            exec(db, "UPDATE assignments SET reminders_sent = 1, next_due = %lld WHERE id = %d",
                 a + MIN30, i);
            break;
        }
    }
    /* the leads' way through the funnel (lead_funnel, from their events) */
    for (int i = 1; i <= N; i++) {
        long long at = (long long)(D0 + (int64_t)i * (5 * DAY / N) + (i * 7919) % HOUR);
        static const char *const ev =
            "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (%d, '%s', "
            "'system', '%s', %lld)";
        if (i % 11 == 0)
            continue; /* never qualified */
        exec(db, ev, i, "lead.stage_changed", "{\"from\":\"new\",\"to\":\"mql\"}", at - 30000 + i);
        if (i % 10 != 3)
            exec(db, ev, i, "lead.stage_changed", "{\"from\":\"mql\",\"to\":\"assigned\"}", at);
        if (i % 8 == 0 || i % 8 == 1 || i % 8 == 5)
            exec(db, ev, i, "lead.stage_changed", "{\"from\":\"assigned\",\"to\":\"accepted\"}",
                 at + 1000 * i);
        if (i % 8 == 1 || i % 12 == 4)
            exec(db, ev, i, "assignment.contacted", "{}", at + 2000 * i);
        if (i % 16 == 1 || i % 10 == 3)
            exec(db, ev, i, "lead.stage_changed", "{\"to\":\"sql\"}", at + DAY + i);
        if (i % 32 == 1)
            exec(db, ev, i, "lead.stage_changed", "{\"to\":\"won\"}", at + 9 * DAY - i);
        if (i % 32 == 17)
            exec(db, ev, i, "lead.stage_changed", "{\"to\":\"won\"}", at - DAY);
        exec(db, "UPDATE leads SET owner = '%s', stage = '%s' WHERE id = %d", reps[(i / 3) % 4],
             i % 8 == 2 && i % 3 == 0 ? "disqualified" : "assigned", i);
    }
    /* a reassigned lead: closed and a second attempt */
    exec(db, "UPDATE assignments SET status = 'reassigned', closed_at = %lld WHERE id = 7",
         (long long)(D0 + DAY));
    exec(db,
         "INSERT INTO assignments (id, lead_id, rep_id, pool_id, attempt, status, policy, "
         "assigned_at) VALUES (%d, 7, 'ben', 'inbound', 2, 'pending', 'standard', %lld)",
         N + 1, (long long)(D0 + DAY + 1000));
    /* an assignment removed altogether */
    exec(db,
         "INSERT INTO assignments (id, lead_id, rep_id, pool_id, attempt, status, policy, "
         "assigned_at) VALUES (%d, 8, 'zed', 'inbound', 2, 'offered', 'standard', %lld)",
         N + 2, (long long)(D0 + 2 * DAY + 1000));
    exec(db, "DELETE FROM assignments WHERE id = %d", N + 2);
    /* leads whose source changed after they were routed */
    exec(db, "UPDATE leads SET source = 'partner' WHERE id %% 10 = 0");
    exec(db, "UPDATE leads SET source = NULL WHERE id %% 10 = 1");
    exec(db, "COMMIT");
}

/* The reps and pools of the history, for fairness, teams and the team filter. */
static const char config_yaml[] = "version: 1\n"
                                  "teams:\n"
                                  "  - {id: emea}\n"
                                  "  - {id: apac}\n"
                                  "reps:\n"
                                  "  - {id: ana, team: emea}\n"
                                  "  - {id: ben, team: emea, weight: 2}\n"
                                  "  - {id: cy, team: apac}\n"
                                  "  - {id: dee, team: apac, active: false}\n"
                                  "pools:\n"
                                  "  - {id: inbound, strategy: weighted, members: [ana, ben, cy]}\n"
                                  "  - {id: partners, strategy: round_robin, members: [cy, dee]}\n"
                                  "routing:\n"
                                  "  rules:\n"
                                  "    - {name: everyone, to: 'pool:inbound'}\n";

static struct config *test_config(void)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load_string("t.yaml", config_yaml, strlen(config_yaml), &cfg, &err))
        fprintf(stderr, "%s\n", err.message);
    assert_non_null(cfg);
    return cfg;
}

static char *report_with(struct fixture *f, const struct config *cfg, const char *name,
                         int64_t since, int64_t until, const char *team, const char *rep,
                         const char *pool, const char *source, bool raw)
{
    struct reports_query q = {.name = name,
                              .since = since,
                              .until = until,
                              .team = team,
                              .rep = rep,
                              .pool = pool,
                              .source = source,
                              .raw = raw};
    struct bt_error err = BT_ERROR_INIT;
    json_t *out = NULL;
    bt_err e = reports_run(f->c, cfg, &q, NULL, NULL, &out, &err);
    if (e)
        fprintf(stderr, "%s: %s\n", name, err.message);
    assert_int_equal(e, BT_OK);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(out);
    return text;
}

static char *report_text(struct fixture *f, const char *name, int64_t since, int64_t until,
                         const char *rep, const char *pool, const char *source, bool raw)
{
    return report_with(f, NULL, name, since, until, NULL, rep, pool, source, raw);
}

static int count_day(void *cls, const struct store_report_assignment_day *d)
{
    *(int64_t *)cls += d->count[STORE_COUNT_OFFERED];
    return 0;
}

/* Every counting report, several windows and filters: daily counts and
 * rows agree; and the daily counts were read. */
static void check_reports(struct fixture *f)
{
    static const char *const names[] = {"speed-to-lead", "sla",    "acceptance",
                                        "routing",       "funnel", "dark-leads"};
    const int64_t windows[][2] = {
        {D0, D0 + 6 * DAY},                       /* whole days */
        {D0 + 3 * HOUR, D0 + 4 * DAY + 5 * HOUR}, /* partial days at both edges */
        {D0 + DAY + 1, D0 + 2 * DAY - 1},         /* no whole day */
        {D0 - 30 * DAY, D0 + 30 * DAY},
    };
    const char *filters[][3] = {
        {NULL, NULL, NULL},  {"ana", NULL, NULL},     {NULL, "inbound", NULL},
        {NULL, NULL, "web"}, {NULL, NULL, "partner"}, {"cy", "partners", "csv"},
    };
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
        for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
            for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
                char *days = report_text(f, names[n], windows[w][0], windows[w][1], filters[k][0],
                                         filters[k][1], filters[k][2], false);
                char *rows = report_text(f, names[n], windows[w][0], windows[w][1], filters[k][0],
                                         filters[k][1], filters[k][2], true);
                if (strcmp(days, rows))
                    fprintf(stderr, "%s, window %zu, filter %zu:\n days %s\n rows %s\n", names[n],
                            w, k, days, rows);
                assert_string_equal(days, rows);
                free(days);
                free(rows);
            }
    /* with the configuration: teams, fairness, the team filter */
    struct config *cfg = test_config();
    static const char *const with_cfg[] = {"fairness", "speed-to-lead", "sla", "acceptance"};
    const char *teams[] = {NULL, "emea", "apac"};
    for (size_t n = 0; n < sizeof(with_cfg) / sizeof(with_cfg[0]); n++)
        for (size_t w = 0; w < 2; w++)
            for (size_t t = 0; t < 3; t++)
                for (int p = 0; p < 2; p++) {
                    const char *pool = p ? "inbound" : NULL;
                    char *days = report_with(f, cfg, with_cfg[n], windows[w][0], windows[w][1],
                                             teams[t], NULL, pool, NULL, false);
                    char *rows = report_with(f, cfg, with_cfg[n], windows[w][0], windows[w][1],
                                             teams[t], NULL, pool, NULL, true);
                    if (strcmp(days, rows))
                        fprintf(stderr, "%s, window %zu, team %zu:\n days %s\n rows %s\n",
                                with_cfg[n], w, t, days, rows);
                    assert_string_equal(days, rows);
                    free(days);
                    free(rows);
                }
    char *fair = report_with(f, cfg, "fairness", D0, D0 + 6 * DAY, NULL, NULL, NULL, NULL, false);
    assert_non_null(strstr(fair, "\"leads\":"));
    free(fair);
    config_unref(cfg);

    struct store_report_filter rf = {.since = D0, .until = D0 + 6 * DAY};
    struct bt_error err = BT_ERROR_INIT;
    int64_t offered = 0;
    assert_int_equal(store_report_assignment_days(f->c, &rf, count_day, &offered, &err), BT_OK);
    assert_int_equal(offered, N + 1); /* the deleted one taken out again */
    /* the breaches' steps: each class as the rows have them */
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM assignments WHERE report_steps = 3"),
                     query_int(f->db, "SELECT count(*) FROM assignments WHERE id % 8 = 3"));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM assignments WHERE report_steps = 1"),
                     query_int(f->db, "SELECT count(*) FROM assignments WHERE id % 8 = 6"));
    assert_int_equal(query_int(f->db, "SELECT sum(escalated) FROM assignment_days"),
                     query_int(f->db, "SELECT count(*) FROM assignments WHERE breached_at IS NOT "
                                      "NULL AND policy IS NOT NULL AND report_steps & 1"));
    /* every assignment by status (/metrics), open or closed */
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM (SELECT status, count(*) FROM "
                                      "assignments GROUP BY 1 EXCEPT SELECT status, n FROM "
                                      "assignment_status_counts WHERE n <> 0)"),
                     0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM (SELECT status, n FROM "
                                      "assignment_status_counts WHERE n <> 0 EXCEPT SELECT "
                                      "status, count(*) FROM assignments GROUP BY 1)"),
                     0);
    int64_t by_status[ASSIGNMENT_STATUSES], total = 0;
    assert_int_equal(store_assignment_status_counts(f->c, by_status, &err), BT_OK);
    for (size_t i = 0; i < ASSIGNMENT_STATUSES; i++)
        total += by_status[i];
    assert_int_equal(total, N + 1);
    assert_int_equal(by_status[6], query_int(f->db, "SELECT count(*) FROM assignments "
                                                    "WHERE status = 'reassigned'"));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM assignments WHERE id % 8 = 4 AND "
                                      "report_steps <> 0"),
                     0);
}

static void test_days_match_rows(void **state)
{
    struct fixture *f = *state;
    write_history(f->db);
    check_reports(f);
    /* the figures themselves, over the whole days */
    char *text = report_text(f, "acceptance", D0, D0 + 6 * DAY, NULL, NULL, NULL, false);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *s = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "offered")), N + 1);
    assert_int_equal(
        json_integer_value(json_object_get(s, "rejected")),
        query_int(f->db, "SELECT count(*) FROM assignments WHERE status = 'rejected'"));
    assert_true(json_integer_value(json_object_get(s, "rejected")) > 40);
    json_decref(doc);
    free(text);
    /* the funnel and the dark leads have something to count */
    text = report_text(f, "dark-leads", D0, D0 + 6 * DAY, NULL, NULL, NULL, false);
    doc = json_loads(text, 0, NULL);
    s = json_object_get(doc, "summary");
    assert_true(json_integer_value(json_object_get(s, "never_accepted")) > 10);
    assert_true(json_integer_value(json_object_get(s, "never_contacted")) > 10);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(doc, "tables"), 0), "rows")),
        20);
    json_decref(doc);
    free(text);
    text = report_text(f, "funnel", D0, D0 + 6 * DAY, NULL, NULL, NULL, false);
    doc = json_loads(text, 0, NULL);
    s = json_object_get(doc, "summary");
    assert_true(json_integer_value(json_object_get(s, "won")) > 5);
    assert_true(json_is_real(json_object_get(s, "median_cycle_s")));
    json_decref(doc);
    free(text);
}

/* A v9 file with history: the migration fills the counts from the rows. */
static void test_migration_to_v10(void **state)
{
    struct fixture *f = *state;
    write_history(f->db);
    close_store(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    exec(db, "DROP TABLE config_versions; DROP TRIGGER holds_wakes_gone; DROP TABLE hold_wakes; "
             "DROP TABLE models; DROP TRIGGER assignment_days_insert; DROP TRIGGER "
             "assignment_days_update; "
             "DROP TRIGGER assignment_days_delete; DROP TRIGGER assignment_steps; "
             "DROP TABLE assignment_days; DROP TABLE rejection_days; "
             "DROP TABLE assignment_status_counts; DROP TRIGGER assignments_lead; "
             "CREATE TRIGGER assignments_lead AFTER INSERT ON assignments BEGIN "
             "  UPDATE assignments SET "
             "    lead_created_at = (SELECT created_at FROM leads WHERE leads.id = NEW.lead_id), "
             "    source = (SELECT source FROM leads WHERE leads.id = NEW.lead_id) "
             "  WHERE id = NEW.id; "
             "END; "
             "DROP TRIGGER funnel_days_insert; DROP TRIGGER funnel_days_update; "
             "DROP TRIGGER funnel_days_delete; DROP TABLE funnel_days; "
             "DROP TRIGGER speed_days_insert; DROP TRIGGER speed_days_update; "
             "DROP TRIGGER speed_days_delete; DROP TABLE speed_days; "
             "DROP TRIGGER decision_days_insert; DROP TRIGGER decision_days_delete; "
             "DROP TRIGGER decision_days_source; DROP TABLE decision_days; "
             "ALTER TABLE assignments DROP COLUMN report_steps; "
             "CREATE INDEX lead_events_steps ON lead_events (at) "
             "  WHERE type IN ('assignment.escalated', 'assignment.reminded'); "
             "PRAGMA user_version = 9");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_store(f), 0);
    assert_int_equal(query_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    check_reports(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_days_match_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_to_v10, setup, teardown),
    };
    return cmocka_run_group_tests_name("report_days", tests, NULL, NULL);
}
