/*
 * sqlite_peer.c - the peer of build/bench/engine (issue 10, item 1): what
 * raw SQLite does with Baton's own schema (made by the store's migrations,
 * triggers included) when one thread writes what an intake writes, in
 * transactions of the group size the engine reached, with the store's
 * pragmas; no engine, no threads handing commands over, no JSON.
 *
 *   build/bench/sqlite_peer [--group 16] [--seconds 5] [--sync full|normal]
 *                           [--autocheckpoint 1000] [--dir /tmp]
 *
 * --autocheckpoint is SQLite's wal_autocheckpoint (its default, 1000 pages:
 * the WAL restarts and its file is reused; 0: it grows, as Baton's does under
 * sustained load, docs/performance.md).
 *
 * Per lead, as an intake of a new lead without an idempotency key: the
 * dedupe read by e-mail, the insert of the lead (every column bound), the
 * lead.created event, and the update that writes the lead's score. Prints
 * leads/s and commits; `bench/run.sh` runs it after the engine bench with
 * the engine's average group and prints the engine's share of it.
 */
#include "store/store.h"
#include "util/timeutil.h"

#include "bench_db.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_peer: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        die(db, sql);
    return s;
}

static void done(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(db, what);
    sqlite3_reset(s);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"group", required_argument, NULL, 'g'},
                                         {"autocheckpoint", required_argument, NULL, 'a'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"sync", required_argument, NULL, 'y'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int group = 16, seconds = 5, autockpt = 1000, c;
    const char *dir = "/tmp", *sync = "full";
    while ((c = getopt_long(argc, argv, "g:a:s:y:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            autockpt = atoi(optarg);
            break;
        case 'g':
            group = atoi(optarg);
            break;
        case 's':
            seconds = atoi(optarg);
            break;
        case 'y':
            sync = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            fprintf(stderr, "usage: sqlite_peer [--group N] [--seconds S] [--sync full|normal] "
                            "[--autocheckpoint PAGES] [--dir DIR]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (group < 1 || group > 4096 || seconds < 1 || seconds > 3600 || autockpt < 0 ||
        (strcmp(sync, "full") && strcmp(sync, "normal"))) {
        fprintf(stderr, "sqlite_peer: --group 1..4096, --seconds 1..3600, --sync full|normal\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/bench-peer-%d.db", dir, (int)getpid());
    /* Baton's schema, by Baton's own migrations */
    struct store_options so = STORE_OPTIONS_INIT;
    so.create = true;
    struct store *st;
    struct bt_error err = BT_ERROR_INIT;
    if (store_open(path, &so, &st, &err)) {
        fprintf(stderr, "sqlite_peer: %s\n", err.message);
        return 1;
    }
    store_close(st);

    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(db, "open");
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON; "
             "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = %d;",
             strcmp(sync, "full") ? "NORMAL" : "FULL", autockpt);
    exec(db, pragmas);
    sqlite3_stmt *find = prepare(db, "SELECT id, stage, owner FROM leads WHERE email = ?1");
    sqlite3_stmt *ins = prepare(
        db, "INSERT INTO leads (external_id, email, first_name, last_name, company, title, "
            "phone, website, country, state, city, industry, source, email_domain, "
            "website_domain, country_input, employees_band, stage, owner, email_free, "
            "employees, fields, created_at, updated_at, score, fit, engagement, grade, "
            "score_reasons, scored_at, rescore_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
            "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
            "?26, ?27, ?28, ?29, ?30, ?31)");
    sqlite3_stmt *event = prepare(db, "INSERT INTO lead_events (lead_id, type, actor, reason, "
                                      "data, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_stmt *score = prepare(db, "UPDATE leads SET score = ?2, fit = ?3, engagement = ?4, "
                                      "grade = ?5, score_reasons = ?6, scored_at = ?7, "
                                      "rescore_at = ?8, updated_at = ?7 WHERE id = ?1");
    sqlite3_stmt *begin = prepare(db, "BEGIN IMMEDIATE");
    sqlite3_stmt *commit = prepare(db, "COMMIT");

    char email[96];
    long leads = 0, commits = 0;
    int64_t start = time_monotonic_ms(), deadline = start + (int64_t)seconds * 1000;
    while (time_monotonic_ms() < deadline) {
        done(db, begin, "begin");
        for (int g = 0; g < group; g++, leads++) {
            int64_t now = clock_now(clock_real());
            snprintf(email, sizeof(email), "user%ld@company%ld.com", leads, leads % 500);
            sqlite3_bind_text(find, 1, email, -1, SQLITE_STATIC);
            done(db, find, "dedupe");
            sqlite3_bind_null(ins, 1);
            sqlite3_bind_text(ins, 2, email, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, "Jane", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, "Doe", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 5, "Company GmbH", -1, SQLITE_STATIC);
            for (int k = 6; k <= 8; k++)
                sqlite3_bind_null(ins, k);
            sqlite3_bind_text(ins, 9, "DE", -1, SQLITE_STATIC);
            for (int k = 10; k <= 12; k++)
                sqlite3_bind_null(ins, k);
            sqlite3_bind_text(ins, 13, "webinar", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 14, strchr(email, '@') + 1, -1, SQLITE_STATIC);
            sqlite3_bind_null(ins, 15);
            sqlite3_bind_text(ins, 16, "DE", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 17, "51-200", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 18, "new", -1, SQLITE_STATIC);
            sqlite3_bind_null(ins, 19);
            sqlite3_bind_int(ins, 20, 0);
            sqlite3_bind_int(ins, 21, 125);
            sqlite3_bind_text(ins, 22, "{\"utm_campaign\":\"q4\"}", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 23, now);
            sqlite3_bind_int64(ins, 24, now);
            for (int k = 25; k <= 31; k++)
                sqlite3_bind_null(ins, k);
            done(db, ins, "insert lead");
            int64_t id = sqlite3_last_insert_rowid(db);
            sqlite3_bind_int64(event, 1, id);
            sqlite3_bind_text(event, 2, "lead.created", -1, SQLITE_STATIC);
            sqlite3_bind_text(event, 3, "key:1", -1, SQLITE_STATIC);
            sqlite3_bind_null(event, 4);
            sqlite3_bind_text(event, 5, "{\"via\":\"api\",\"fields\":[\"email\",\"first_name\"]}",
                              -1, SQLITE_STATIC);
            sqlite3_bind_int64(event, 6, now);
            done(db, event, "event");
            sqlite3_bind_int64(score, 1, id);
            sqlite3_bind_int(score, 2, 0);
            sqlite3_bind_int(score, 3, 0);
            sqlite3_bind_int(score, 4, 0);
            sqlite3_bind_text(score, 5, "D", -1, SQLITE_STATIC);
            sqlite3_bind_text(score, 6, "[]", -1, SQLITE_STATIC);
            sqlite3_bind_int64(score, 7, now);
            sqlite3_bind_null(score, 8);
            done(db, score, "score");
        }
        done(db, commit, "commit");
        commits++;
    }
    double elapsed = (double)(time_monotonic_ms() - start) / 1000.0;
    printf("sqlite_peer synchronous=%-6s group=%d leads=%ld commits=%ld throughput=%.0f/s\n", sync,
           group, leads, commits, (double)leads / elapsed);
    sqlite3_stmt *all[] = {find, ins, event, score, begin, commit};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(db);
    bench_remove_db(path);
    return 0;
}
