/*
 * test_store_work.c - shared work in the SQLite store on real files: claims
 * with a lease (free, held by another, renewed, expired, released, rolled
 * back), the next rescoring the decay sweep asks for, and the migration to
 * schema 6 (decision records with an integer "at" rewritten to RFC 3339,
 * the claims table created).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_routing.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct store_conn *c;     /* one node */
    struct store_conn *other; /* another node on the same file */
    struct arena a;
};

static int open_all(struct fixture *f)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    if (store_open(f->path, &opts, &f->st, &err) || store_conn_open(f->st, &f->c, &err) ||
        store_conn_open(f->st, &f->other, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return 0;
}

static void close_all(struct fixture *f)
{
    store_conn_close(f->c);
    store_conn_close(f->other);
    store_close(f->st);
    f->c = f->other = NULL;
    f->st = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, "store-work"))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (open_all(f))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_all(f);
    arena_release(&f->a);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

/* One claim in a transaction of its own on connection c. */
static bool claim(struct store_conn *c, const char *key, const char *holder, int64_t now,
                  int64_t lease_ms)
{
    struct bt_error err = BT_ERROR_INIT;
    bool got = true; /* store_claim must set it */
    assert_int_equal(store_begin(c, &err), BT_OK);
    assert_int_equal(store_claim(c, "sweep", key, holder, now, lease_ms, &got, &err), BT_OK);
    assert_int_equal(store_commit(c, &err), BT_OK);
    return got;
}

static void release(struct store_conn *c, const char *key, const char *holder)
{
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_begin(c, &err), BT_OK);
    assert_int_equal(store_claim_release(c, "sweep", key, holder, &err), BT_OK);
    assert_int_equal(store_commit(c, &err), BT_OK);
}

static void test_claim_lease(void **state)
{
    struct fixture *f = *state;

    /* free: got, until 1000 + 500 */
    assert_true(claim(f->c, "decay", "node-a", 1000, 500));
    /* another holder while the lease runs: not got, from either connection */
    assert_false(claim(f->other, "decay", "node-b", 1001, 500));
    assert_false(claim(f->other, "decay", "node-b", 1499, 500));
    assert_false(claim(f->c, "decay", "node-b", 1499, 500));
    /* the same holder: got, and the lease is renewed to 1200 + 500 */
    assert_true(claim(f->c, "decay", "node-a", 1200, 500));
    assert_false(claim(f->other, "decay", "node-b", 1500, 500)); /* would have expired */
    assert_false(claim(f->other, "decay", "node-b", 1699, 500));
    /* another holder at expiry: got (now node-b's, until 2200) */
    assert_true(claim(f->other, "decay", "node-b", 1700, 500));
    assert_false(claim(f->c, "decay", "node-a", 1701, 500));

    /* other work is claimed independently */
    assert_true(claim(f->c, "holds", "node-a", 1701, 500));
    assert_false(claim(f->other, "holds", "node-b", 1702, 500));

    /* released by a non-holder: nothing happens */
    release(f->c, "decay", "node-a");
    assert_false(claim(f->c, "decay", "node-a", 1800, 500));
    /* by the holder: free at once, long before its lease ends */
    release(f->other, "decay", "node-b");
    assert_true(claim(f->c, "decay", "node-a", 1800, 500));
    /* releasing what nobody holds is not an error */
    release(f->c, "nothing", "node-a");

    /* after expiry, long after: got */
    assert_true(claim(f->other, "holds", "node-b", 1000000, 500));
}

static void test_claim_rolled_back_is_not_held(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    bool got = false;
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    assert_int_equal(store_claim(f->c, "sweep", "decay", "node-a", 1000, 60000, &got, &err), BT_OK);
    assert_true(got);
    /* inside the transaction it is held (the same holder renews) */
    assert_int_equal(store_claim(f->c, "sweep", "decay", "node-a", 1001, 60000, &got, &err), BT_OK);
    assert_true(got);
    store_rollback(f->c);
    /* gone with the rollback: another node gets it within the lease */
    assert_true(claim(f->other, "decay", "node-b", 1002, 60000));

    /* a claim taken and released inside one transaction (as the sweeps
     * do) leaves nothing behind either */
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    assert_int_equal(store_claim(f->c, "sweep", "holds", "node-a", 2000, 60000, &got, &err), BT_OK);
    assert_true(got);
    assert_int_equal(store_claim_release(f->c, "sweep", "holds", "node-a", &err), BT_OK);
    assert_int_equal(store_commit(f->c, &err), BT_OK);
    assert_true(claim(f->other, "holds", "node-b", 2001, 60000));

    /* inside a savepoint rolled back: the claim goes with it */
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    assert_int_equal(store_savepoint(f->c, &err), BT_OK);
    assert_int_equal(store_claim(f->c, "sweep", "other", "node-a", 3000, 60000, &got, &err), BT_OK);
    assert_true(got);
    store_savepoint_rollback(f->c);
    assert_int_equal(store_savepoint_release(f->c, &err), BT_OK);
    assert_int_equal(store_commit(f->c, &err), BT_OK);
    assert_true(claim(f->other, "other", "node-b", 3001, 60000));
}

static struct lead make_lead(const char *email, bool scored, int64_t rescore_at)
{
    struct lead l = {0};
    l.attr[LEAD_EMAIL] = email;
    l.attr[LEAD_STAGE] = "new";
    l.employees = -1;
    l.fields_json = "{}";
    l.created_at = l.updated_at = 1000;
    if (scored) {
        l.score.scored = true;
        l.score.total = 10;
        snprintf(l.score.grade, sizeof(l.score.grade), "B2");
        l.score.reasons_json = "[]";
        l.score.scored_at = 1000;
        l.score.rescore_at = rescore_at;
    }
    return l;
}

static int64_t next_rescore(struct fixture *f)
{
    struct bt_error err = BT_ERROR_INIT;
    int64_t at = -1;
    assert_int_equal(store_lead_next_rescore(f->c, &at, &err), BT_OK);
    return at;
}

static void test_next_rescore(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(next_rescore(f), 0); /* no leads */

    struct lead unscored = make_lead("u@acme.example", false, 0);
    struct lead never = make_lead("n@acme.example", true, 0); /* scored, never decays */
    assert_int_equal(store_lead_insert(f->c, &unscored, &err), BT_OK);
    assert_int_equal(store_lead_insert(f->c, &never, &err), BT_OK);
    assert_int_equal(next_rescore(f), 0); /* leads, none due ever */

    struct lead later = make_lead("l@acme.example", true, 9000);
    struct lead sooner = make_lead("s@acme.example", true, 5000);
    struct lead latest = make_lead("x@acme.example", true, 12000);
    assert_int_equal(store_lead_insert(f->c, &later, &err), BT_OK);
    assert_int_equal(store_lead_insert(f->c, &sooner, &err), BT_OK);
    assert_int_equal(store_lead_insert(f->c, &latest, &err), BT_OK);
    assert_int_equal(next_rescore(f), 5000);

    /* moved by store_lead_set_rescore_at: sooner, later, never */
    assert_int_equal(store_lead_set_rescore_at(f->c, latest.id, 3000, &err), BT_OK);
    assert_int_equal(next_rescore(f), 3000);
    assert_int_equal(store_lead_set_rescore_at(f->c, latest.id, 0, &err), BT_OK);
    assert_int_equal(next_rescore(f), 5000);
    assert_int_equal(store_lead_set_rescore_at(f->c, sooner.id, 20000, &err), BT_OK);
    assert_int_equal(next_rescore(f), 9000);

    /* and by a rewrite of the lead */
    struct lead got;
    assert_int_equal(store_lead_get(f->c, later.id, &f->a, &got, &err), BT_OK);
    got.score.rescore_at = 0;
    assert_int_equal(store_lead_update(f->c, &got, &err), BT_OK);
    assert_int_equal(next_rescore(f), 20000);

    /* what the due sweep finds agrees */
    int64_t *ids;
    size_t n;
    assert_int_equal(store_lead_rescore_due(f->c, 19999, 10, &f->a, &ids, &n, &err), BT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_lead_rescore_due(f->c, 20000, 10, &f->a, &ids, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], sooner.id);
}

/* ---- the migration to schema 6 ---- */

#define OLD_AT 1795253400123LL

static void exec(sqlite3 *db, const char *sql)
{
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

static void insert_decision(sqlite3 *db, int64_t lead_id, const char *record, int64_t at)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO decisions (lead_id, result, config_version, "
                                        "record, at) VALUES (?1, 'held', 'v5cfg', ?2, ?3)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(s, 1, lead_id);
    sqlite3_bind_text(s, 2, record, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

static const char *latest_record(struct fixture *f, int64_t lead_id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_decision d;
    assert_int_equal(store_decision_latest(f->c, lead_id, &f->a, &d, &err), BT_OK);
    return d.record;
}

/* What schema v13 added, taken out again (a file as version 12 left it). */
static void undo_v13(sqlite3 *db)
{
    exec(db, "DROP TABLE config_versions");
}

/* What schema v12 added, taken out again (a file as version 11 left it). */
static void undo_v12(sqlite3 *db)
{
    exec(db, "DROP TRIGGER holds_wakes_gone; DROP TABLE hold_wakes");
}

/* What schema v11 added, taken out again (a file as version 10 left it). */
static void undo_v11(sqlite3 *db)
{
    exec(db, "DROP TABLE models");
}

/* What schema v10 added, taken out again (a file as version 9 left it). */
static void undo_v10(sqlite3 *db)
{
    exec(db, "DROP TRIGGER assignment_days_insert; DROP TRIGGER assignment_days_update; "
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
             "  WHERE type IN ('assignment.escalated', 'assignment.reminded')");
}

/* What schema v9 added, taken out again (a file as version 8 left it). */
static void undo_v9(sqlite3 *db)
{
    exec(db, "DROP TRIGGER tasks_contacted; DROP TRIGGER tasks_closed; "
             "DROP TABLE delivery_attempts; DROP TABLE outbox; DROP TABLE delivery_channels; "
             "DROP TABLE tasks");
}

/* What schema v8 added, taken out again (a file as version 7 left it). */
static void undo_v8(sqlite3 *db)
{
    exec(db, "DROP TRIGGER lead_funnel_insert; DROP TRIGGER lead_funnel_lead; "
             "DROP TRIGGER lead_funnel_stage; DROP TRIGGER lead_funnel_contact; "
             "DROP TABLE lead_funnel; DROP INDEX leads_created; "
             "DROP INDEX assignments_report; DROP INDEX decisions_at; "
             "DROP INDEX lead_events_steps; DROP TRIGGER assignments_lead; "
             "ALTER TABLE assignments DROP COLUMN lead_created_at; "
             "ALTER TABLE assignments DROP COLUMN source");
}

/* What schema v7 added, taken out again (a file as version 6 left it). */
static void undo_v7(sqlite3 *db)
{
    exec(db, "DROP INDEX assignments_live; DROP INDEX assignments_due; "
             "DROP INDEX assignments_open; DROP INDEX assignments_group; DROP INDEX "
             "assignments_urgency; DROP TABLE link_secrets");
    static const char *const cols[] = {"attempt",   "status",      "policy",         "clock",
                                       "accept_by", "contact_by",  "accepted_at",    "contacted_at",
                                       "closed_at", "breached_at", "closed_by",      "close_reason",
                                       "note",      "successor",   "reminders_sent", "next_due",
                                       "next_kind", "offer_group", "terms"};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "ALTER TABLE assignments DROP COLUMN %s", cols[i]);
        exec(db, sql);
    }
}

static void test_migration_to_v7(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    close_all(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    /* lead 1: assigned to ana (re-routed from bob before); lead 2: accepted
     * by cy; lead 3: ana's, since taken back (mql, no owner) */
    exec(db, "INSERT INTO leads (id, email, stage, owner, created_at, updated_at) VALUES "
             "(1, 'a@acme.example', 'assigned', 'ana', 1000, 1000), "
             "(2, 'b@acme.example', 'sql', 'cy', 1000, 1000), "
             "(3, 'c@acme.example', 'mql', NULL, 1000, 1000)");
    undo_v13(db);
    undo_v12(db);
    undo_v11(db);
    undo_v10(db);
    undo_v9(db);
    undo_v8(db);
    undo_v7(db);
    exec(db, "INSERT INTO assignments (lead_id, rep_id, assigned_at) VALUES "
             "(1, 'bob', 100), (1, 'ana', 200), (2, 'cy', 300), (3, 'ana', 400)");
    exec(db, "PRAGMA user_version = 6");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);

    struct store_assignment a;
    bool found;
    assert_int_equal(store_assignment_live(f->c, 1, &f->a, &found, &a, &err), BT_OK);
    assert_true(found);
    assert_string_equal(a.rep_id, "ana");
    assert_string_equal(a.status, "pending");
    assert_int_equal(a.attempt, 2);
    assert_int_equal(a.accept_by, 0);
    assert_int_equal(store_assignment_live(f->c, 2, &f->a, &found, &a, &err), BT_OK);
    assert_true(found);
    assert_string_equal(a.status, "accepted");
    assert_int_equal(store_assignment_live(f->c, 3, &f->a, &found, &a, &err), BT_OK);
    assert_false(found);
    assert_int_equal(store_assignment_get(f->c, 1, &f->a, &a, &err), BT_OK);
    assert_string_equal(a.status, "reassigned");
    assert_int_equal(a.closed_at, 100);
    assert_int_equal(a.attempt, 1);

    /* one live assignment per lead, by the database */
    assert_int_equal(store_begin(f->c, &err), BT_OK);
    struct store_assignment b = {
        .lead_id = 1, .rep_id = "cy", .attempt = 3, .status = "pending", .assigned_at = 500};
    assert_int_equal(store_assignment_insert(f->c, &b, &err), BT_ECONFLICT);
    b.status = "offered"; /* a broadcast offer is not live */
    assert_int_equal(store_assignment_insert(f->c, &b, &err), BT_OK);
    store_rollback(f->c);

    /* a link secret was made */
    uint8_t secret[LINK_SECRET_BYTES];
    uint32_t gen;
    assert_int_equal(store_link_secret_get(f->c, 0, &found, &gen, secret, &err), BT_OK);
    assert_true(found);
    assert_int_equal(gen, 1);
}

static void test_migration_to_v6(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    close_all(f); /* a fresh file at version 6, made into a version 5 file */

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(STORE_SCHEMA_VERSION, 13);
    exec(db, "INSERT INTO leads (id, email, stage, created_at, updated_at) "
             "VALUES (1, 'a@acme.example', 'mql', 1000, 1000), "
             "(2, 'b@acme.example', 'mql', 1000, 1000), "
             "(3, 'c@acme.example', 'mql', 1000, 1000)");
    /* a v5 record (integer "at"), one already in final form, one that is
     * not JSON: only the first is rewritten */
    insert_decision(db, 1, "{\"result\":\"held\",\"at\":1795253400123,\"lead\":1}", OLD_AT);
    insert_decision(db, 2, "{\"result\":\"held\",\"at\":\"2026-01-02T03:04:05.006Z\",\"lead\":2}",
                    OLD_AT);
    insert_decision(db, 3, "not json", OLD_AT);
    exec(db, "PRAGMA user_version = 5");
    exec(db, "DROP TABLE claims");
    undo_v13(db);
    undo_v12(db);
    undo_v11(db);
    undo_v10(db);
    undo_v9(db);
    undo_v8(db);
    undo_v7(db);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);

    assert_int_equal(open_all(f), 0);

    char expected[RFC3339_MAX];
    time_format_rfc3339(OLD_AT, expected);
    assert_string_equal(expected, "2026-11-21T09:30:00.123Z");
    json_error_t jerr;
    json_t *rec = json_loads(latest_record(f, 1), 0, &jerr);
    assert_non_null(rec);
    json_t *at = json_object_get(rec, "at");
    assert_true(json_is_string(at));
    assert_string_equal(json_string_value(at), expected);
    /* the rest of the record is kept */
    assert_string_equal(json_string_value(json_object_get(rec, "result")), "held");
    assert_int_equal(json_integer_value(json_object_get(rec, "lead")), 1);
    assert_int_equal(json_object_size(rec), 3);
    json_decref(rec);

    rec = json_loads(latest_record(f, 2), 0, &jerr);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "at")), "2026-01-02T03:04:05.006Z");
    json_decref(rec);
    assert_string_equal(latest_record(f, 3), "not json");

    /* the decision row itself is kept */
    struct store_decision d;
    assert_int_equal(store_decision_latest(f->c, 1, &f->a, &d, &err), BT_OK);
    assert_int_equal(d.at, OLD_AT);
    assert_string_equal(d.config_version, "v5cfg");
    assert_string_equal(d.result, "held");

    /* claims work again */
    assert_true(claim(f->c, "decay", "node-a", 1000, 500));
    assert_false(claim(f->other, "decay", "node-b", 1100, 500));
    assert_true(claim(f->other, "decay", "node-b", 1500, 500));

    /* and the file is at the latest version; opening it again migrates nothing */
    close_all(f);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "SELECT count(*) FROM claims"), 1);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);
    assert_false(claim(f->c, "decay", "node-a", 1600, 500)); /* node-b's, until 2000 */
}

/* v8 fills lead_funnel from the events already stored, and the triggers
 * keep it from then on: first times only, contact from assignment.contacted. */
static void test_migration_to_v8(void **state)
{
    struct fixture *f = *state;
    close_all(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    undo_v13(db);
    undo_v12(db);
    undo_v11(db);
    undo_v10(db);
    undo_v9(db);
    undo_v8(db);
    exec(db, "INSERT INTO leads (id, email, stage, source, created_at, updated_at) VALUES "
             "(1, 'a@acme.example', 'accepted', 'web', 1000, 1000), "
             "(2, 'b@acme.example', 'new', 'csv', 2000, 2000)");
    exec(db, "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES "
             "(1, 'lead.stage_changed', 'system', '{\"from\":\"new\",\"to\":\"mql\"}', 1100), "
             "(1, 'lead.stage_changed', 'system', '{\"from\":\"mql\",\"to\":\"assigned\"}', 1200), "
             "(1, 'lead.stage_changed', 'system', '{\"from\":\"assigned\",\"to\":\"mql\"}', 1300), "
             "(1, 'lead.stage_changed', 'system', '{\"from\":\"mql\",\"to\":\"assigned\"}', 1400)");
    exec(db, "PRAGMA user_version = 7");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);
    close_all(f);

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "SELECT count(*) FROM lead_funnel"), 2);
    assert_int_equal(query_int(db, "SELECT mql_at FROM lead_funnel WHERE lead_id = 1"), 1100);
    assert_int_equal(query_int(db, "SELECT assigned_at FROM lead_funnel WHERE lead_id = 1"), 1200);
    assert_int_equal(query_int(db, "SELECT count(*) FROM lead_funnel WHERE lead_id = 2 "
                                   "AND mql_at IS NULL AND source = 'csv'"),
                     1);
    /* the triggers: a new lead gets its row, later events fill first times only */
    exec(db, "INSERT INTO leads (id, email, stage, source, created_at, updated_at) VALUES "
             "(3, 'c@acme.example', 'new', 'api', 3000, 3000)");
    exec(db,
         "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES "
         "(1, 'lead.stage_changed', 'rep', '{\"from\":\"assigned\",\"to\":\"accepted\"}', 1500), "
         "(1, 'assignment.contacted', 'rep', '{}', 1600), "
         "(1, 'assignment.contacted', 'rep', '{}', 1700), "
         "(3, 'lead.stage_changed', 'system', '{\"from\":\"new\",\"to\":\"mql\"}', 3100)");
    exec(db, "UPDATE leads SET source = 'web' WHERE id = 3");
    exec(db, "INSERT INTO assignments (lead_id, rep_id, assigned_at) VALUES (3, 'ana', 3200)");
    assert_int_equal(query_int(db, "SELECT count(*) FROM assignments WHERE lead_id = 3 "
                                   "AND lead_created_at = 3000 AND source = 'web'"),
                     1);
    assert_int_equal(query_int(db, "SELECT accepted_at FROM lead_funnel WHERE lead_id = 1"), 1500);
    assert_int_equal(query_int(db, "SELECT contacted_at FROM lead_funnel WHERE lead_id = 1"), 1600);
    assert_int_equal(query_int(db, "SELECT assigned_at FROM lead_funnel WHERE lead_id = 1"), 1200);
    assert_int_equal(query_int(db, "SELECT count(*) FROM lead_funnel WHERE lead_id = 3 "
                                   "AND mql_at = 3100 AND created_at = 3000 AND source = 'web'"),
                     1);
    /* the lead's stage and owner now */
    assert_int_equal(query_int(db, "SELECT count(*) FROM lead_funnel WHERE lead_id = 1 "
                                   "AND stage = 'accepted' AND owner IS NULL"),
                     1);
    exec(db, "UPDATE leads SET stage = 'sql', owner = 'ana' WHERE id = 1");
    assert_int_equal(query_int(db, "SELECT count(*) FROM lead_funnel WHERE lead_id = 1 "
                                   "AND stage = 'sql' AND owner = 'ana'"),
                     1);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);
}

/* v12: the holds already queued get their wake targets from what they
 * name (their pool, their rep) and 'any', so that the timer and their
 * pool's or rep's changes keep trying them; a hold removed takes its
 * targets with it. */
static void test_migration_to_v12(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    close_all(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    exec(db, "INSERT INTO leads (id, email, stage, created_at, updated_at) VALUES "
             "(1, 'a@acme.example', 'mql', 1000, 1000), (2, 'b@acme.example', 'mql', 1000, 1000), "
             "(3, 'c@acme.example', 'mql', 1000, 1000)");
    exec(db, "INSERT INTO holds (lead_id, reason, pool_id, rep_id, score, since) VALUES "
             "(1, 'no_eligible_member', 'inbound', NULL, 30, 1000), "
             "(2, 'rep_unavailable', NULL, 'ana', 20, 1000), (3, 'rule', NULL, NULL, 10, 1000)");
    undo_v13(db);
    undo_v12(db);
    exec(db, "PRAGMA user_version = 11");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);

    struct store_hold *h;
    size_t n;
    const char *pool[] = {"pool:inbound"}, *rep[] = {"rep:ana"}, *other[] = {"pool:emea"};
    assert_int_equal(store_hold_list_woken(f->c, pool, 1, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].lead_id, 1);
    assert_int_equal(store_hold_list_woken(f->c, rep, 1, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].lead_id, 2);
    assert_int_equal(store_hold_list_woken(f->c, other, 1, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 0);
    /* every migrated hold stays in the timer's walks */
    assert_int_equal(store_hold_list_woken(f->c, NULL, 0, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 3);

    /* new wakes replace the old; a hold removed takes its wakes along */
    const char *w[] = {"pool:emea"};
    struct store_hold put = {.lead_id = 3,
                             .reason = "no_eligible_member",
                             .pool_id = "emea",
                             .score = 10,
                             .since = 2000,
                             .wakes = w,
                             .n_wakes = 1};
    assert_int_equal(store_hold_put(f->c, &put, &err), BT_OK);
    assert_int_equal(store_hold_list_woken(f->c, other, 1, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].lead_id, 3);
    put = (struct store_hold){.lead_id = 1, .reason = "rule", .score = 30, .since = 1000};
    assert_int_equal(store_hold_put(f->c, &put, &err), BT_OK); /* now nothing helps it */
    assert_int_equal(store_hold_remove(f->c, 2, &err), BT_OK);
    bool held;
    struct store_hold got;
    assert_int_equal(store_hold_get(f->c, 3, &f->a, &held, &got, &err), BT_OK);
    assert_true(held);
    assert_string_equal(got.wake_list, "pool:emea"); /* 'any' replaced */
    assert_int_equal(store_hold_get(f->c, 1, &f->a, &held, &got, &err), BT_OK);
    assert_null(got.wake_list);
    assert_int_equal(store_hold_list_woken(f->c, NULL, 0, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].lead_id, 3);
    assert_int_equal(store_hold_list(f->c, 10, NULL, &f->a, &h, &n, &err), BT_OK);
    assert_int_equal(n, 2); /* both still held */
    close_all(f);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM hold_wakes"), 1);
    /* the trigger took lead 2's targets with its hold */
    assert_int_equal(query_int(db, "SELECT count(*) FROM hold_wakes WHERE lead_id = 2"), 0);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(open_all(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_rolled_back_is_not_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_rescore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_to_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_to_v7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_to_v8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_to_v12, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_work", tests, NULL, NULL);
}
