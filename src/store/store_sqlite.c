/*
 * store_sqlite.c - the SQLite backend: WAL mode, one connection per thread,
 * every statement prepared once per connection and bound by parameter.
 *
 * Schema versions are kept in PRAGMA user_version and applied in order by
 * migrate() inside one immediate transaction, so two processes opening the
 * same new file do not both migrate it. Lead columns are listed in the order
 * of enum lead_attr (see core/lead.h); LEAD_COLUMNS below must follow it.
 *
 * Checkpoints: by default SQLite copies the WAL back into the database inside
 * whichever commit crosses 1000 pages, and that commit (and every command
 * waiting on it) stalls for the copy and its fsync. With
 * background_checkpoint the commits only append to the WAL; a WAL hook tells
 * a checkpointer thread, on its own connection, when the WAL has grown, and
 * it copies passively (never blocking the writer or readers), in passes of
 * at most CHECKPOINT_PAGES new pages so that no single pass's fsync is
 * large. A background pass never copies what is committed while it runs,
 * so on its own the WAL would only grow under steady load: when a pass
 * leaves WAL_RESTART_PAGES or more, the writer's next commit copies the rest
 * from its WAL hook (passively, between its own transactions, so nothing is
 * appended meanwhile) and the next transaction restarts the WAL from the top.
 * Once the database has been idle for CHECKPOINT_IDLE_MS the checkpointer
 * truncates it
 * (wal_checkpoint(TRUNCATE), giving up at once if anybody holds a lock), and
 * journal_size_limit caps what a restarted WAL keeps on disk. Each pass's
 * duration, the truncations and the WAL's size are metrics.
 */
#include "store/store_sqlite_internal.h"
#include "util/metrics.h"
#include "util/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHECKPOINT_PAGES                                                                           \
    1000 /* WAL pages written since the last pass that wake the checkpointer                       \
          */
#define CHECKPOINT_IDLE_MS 1000       /* no commit for this long: truncate the WAL */
#define WAL_RESTART_PAGES  4096       /* a WAL this long after a pass: the writer finishes it */
#define WAL_SIZE_LIMIT     "16777216" /* bytes a restarted WAL keeps (journal_size_limit) */

struct sqlite_db {
    char *path;
    struct store_options opts;
    /* background checkpointer, when opts.background_checkpoint */
    bool checkpointer_running;
    pthread_t checkpointer;
    sqlite3 *checkpointer_db;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool wal_grown, stopping;
    bool wal_dirty;       /* a commit since the last truncation */
    int64_t last_commit;  /* metrics_now_ns() of the last commit seen by the hook */
    int last_pass_frames; /* the WAL's frames after the last pass */
    bool tail_due;        /* the WAL is long: the writer's next commit copies what is left */
};

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_PING,
    ST_LEAD_BY_ID,
    ST_LEAD_BY_EMAIL,
    ST_LEAD_BY_EXTERNAL_ID,
    ST_LEAD_INSERT,
    ST_LEAD_UPDATE,
    ST_LEAD_LIST,
    ST_LEAD_LIST_EMAIL,
    ST_LEAD_LIST_OWNER,
    ST_EVENT_APPEND,
    ST_EVENT_LIST,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_KEY_INSERT,
    ST_KEY_FIND,
    ST_KEY_LIST,
    ST_KEY_REVOKE,
    ST_KEY_COUNT,
    ST_ACTIVITY_INSERT,
    ST_ACTIVITY_LIST,
    ST_RESCORE_DUE,
    ST_RESCORE_SET,
    ST_OUTCOME_INSERT,
    ST_HISTORY,
    ST_HISTORY_ACTIVITIES,
    ST_COUNT
};

/* Column order: enum lead_attr, then the non-text columns. */
#define LEAD_COLUMNS                                                                               \
    "external_id, email, first_name, last_name, company, title, phone, website, country, state, "  \
    "city, industry, source, email_domain, website_domain, country_input, employees_band, "        \
    "stage, owner, email_free, employees, fields, created_at, updated_at, score, fit, "            \
    "engagement, grade, score_reasons, scored_at, rescore_at"
/* email_free, employees, fields, created_at, updated_at, and the 7 score columns */
#define LEAD_NONTEXT    12
#define LEAD_BIND_COUNT (LEAD_ATTR_COUNT + LEAD_NONTEXT)
_Static_assert(LEAD_ATTR_COUNT == 19, "LEAD_COLUMNS must list every lead attribute in order");
_Static_assert(LEAD_BIND_COUNT == 31, "lead statements bind 31 columns");

#define LEAD_SELECT "SELECT id, " LEAD_COLUMNS ", account_id, account_match FROM leads "
#define LEAD_LIST_REST                                                                             \
    "AND (?1 IS NULL OR email = ?1) AND (?2 IS NULL OR email_domain = ?2) "                        \
    "AND (?3 IS NULL OR company = ?3 COLLATE NOCASE) AND (?4 IS NULL OR stage = ?4) "              \
    "AND (?5 IS NULL OR owner = ?5) AND (?6 IS NULL OR source = ?6) "                              \
    "AND (?7 IS NULL OR country = ?7) AND (?8 IS NULL OR created_at > ?8) "                        \
    "AND (?9 IS NULL OR created_at < ?9) ORDER BY id DESC LIMIT ?11"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT command",
    [ST_RELEASE] = "RELEASE command",
    [ST_ROLLBACK_TO] = "ROLLBACK TO command",
    [ST_PING] = "SELECT 1",
    [ST_LEAD_BY_ID] = LEAD_SELECT "WHERE id = ?1",
    [ST_LEAD_BY_EMAIL] = LEAD_SELECT "WHERE email = ?1",
    [ST_LEAD_BY_EXTERNAL_ID] = LEAD_SELECT "WHERE external_id = ?1",
    [ST_LEAD_INSERT] = "INSERT INTO leads (" LEAD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                       "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
                       "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
    [ST_LEAD_UPDATE] =
        "UPDATE leads SET external_id = ?1, email = ?2, first_name = ?3, last_name = ?4, "
        "company = ?5, title = ?6, phone = ?7, website = ?8, country = ?9, state = ?10, "
        "city = ?11, industry = ?12, source = ?13, email_domain = ?14, website_domain = ?15, "
        "country_input = ?16, employees_band = ?17, stage = ?18, owner = ?19, email_free = ?20, "
        "employees = ?21, fields = ?22, created_at = ?23, updated_at = ?24, score = ?25, "
        "fit = ?26, engagement = ?27, grade = ?28, score_reasons = ?29, scored_at = ?30, "
        "rescore_at = ?31 WHERE id = ?32",
    /* The lead list in three variants, one per index that can lead it
     * (sq_lead_list picks): by email (unique), by owner (leads_owner: the
     * owner's rows in id order), and the rest, which walks the table from
     * the newest id down and stops at the page's end. An optional filter
     * written `?N IS NULL OR col = ?N` cannot lead an index, so the
     * leading one is a plain equality; the cursor is always bound (id < max
     * when there is none), so that it bounds the range. */
    [ST_LEAD_LIST] = LEAD_SELECT "WHERE id < ?10 " LEAD_LIST_REST,
    [ST_LEAD_LIST_EMAIL] = LEAD_SELECT "WHERE email = ?1 AND id < ?10 " LEAD_LIST_REST,
    [ST_LEAD_LIST_OWNER] = LEAD_SELECT "WHERE owner = ?5 AND id < ?10 " LEAD_LIST_REST,
    [ST_EVENT_APPEND] = "INSERT INTO lead_events (lead_id, type, actor, reason, data, at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_EVENT_LIST] = "SELECT id, lead_id, type, actor, reason, data, at FROM lead_events "
                      "WHERE lead_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_IDEM_GET] = "SELECT lead_id, fingerprint FROM idempotency_keys WHERE key = ?1",
    [ST_IDEM_PUT] = "INSERT INTO idempotency_keys (key, lead_id, fingerprint, created_at) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [ST_KEY_INSERT] = "INSERT INTO api_keys (name, role, rep_id, hash, prefix, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_KEY_FIND] = "SELECT id, name, role, rep_id, hash, prefix, created_at, revoked_at "
                    "FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL",
    [ST_KEY_LIST] = "SELECT id, name, role, rep_id, hash, prefix, created_at, revoked_at "
                    "FROM api_keys ORDER BY id",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
    [ST_KEY_COUNT] = "SELECT count(*) FROM api_keys",
    [ST_ACTIVITY_INSERT] = "INSERT INTO activities (lead_id, type, occurred_at, properties, "
                           "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ACTIVITY_LIST] = "SELECT id, lead_id, type, occurred_at, properties FROM activities "
                         "WHERE lead_id = ?1 ORDER BY occurred_at DESC, id DESC LIMIT ?2",
    [ST_RESCORE_DUE] = "SELECT id FROM leads WHERE rescore_at IS NOT NULL AND rescore_at <= ?1 "
                       "ORDER BY rescore_at LIMIT ?2",
    [ST_RESCORE_SET] = "UPDATE leads SET rescore_at = ?2 WHERE id = ?1",
    [ST_OUTCOME_INSERT] = "INSERT INTO outcomes (lead_id, stage, value, currency, reason, actor, "
                          "at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* The history models learn from (store_models.h): every lead of the
     * range with its funnel times and the value of its won outcome. */
    [ST_HISTORY] = "SELECT id, " LEAD_COLUMNS ", account_id, account_match, "
                   "coalesce(f_mql, created_at), f_sql, f_opportunity, f_won, f_lost, updated_at, "
                   "(SELECT o.value FROM outcomes o WHERE o.lead_id = leads.id AND o.stage = 'won' "
                   "AND o.value IS NOT NULL ORDER BY o.at DESC LIMIT 1) "
                   "FROM leads JOIN (SELECT lead_id, mql_at AS f_mql, sql_at AS f_sql, "
                   "opportunity_at AS f_opportunity, won_at AS f_won, lost_at AS f_lost "
                   "FROM lead_funnel) ON lead_id = id "
                   "WHERE created_at >= ?1 AND created_at < ?2 "
                   "ORDER BY coalesce(f_mql, created_at), id",
    [ST_HISTORY_ACTIVITIES] = "SELECT id, lead_id, type, occurred_at, properties FROM activities "
                              "WHERE lead_id = ?1 AND occurred_at <= ?2 "
                              "ORDER BY occurred_at DESC, id DESC LIMIT ?3",
};

struct sqlite_conn {
    struct store_conn base;
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    sqlite3_stmt *lazy[SQLITE__SLOTS]; /* see sqlite__stmt() */
};

/* clang-format off */
/* Schema v10: an assignment's counts in assignment_days, for a row R
 * (NEW, OLD or a table alias) and F applied to each ("" adds, "-"
 * subtracts, "sum" aggregates). The same classification as count_into()
 * in report/reports.c; the columns follow enum store_report_count. */
#define AD_KEY(R) \
    R ".assigned_at / 86400000, " R ".rep_id, coalesce(" R ".pool_id, ''), " \
    "coalesce(" R ".policy, ''), coalesce(" R ".source, '')"
#define AD_SLA(R)    "(" R ".policy IS NOT NULL)"
#define AD_BREACH(R) "(" R ".policy IS NOT NULL AND " R ".breached_at IS NOT NULL)"
#define AD_OK(R)     "(" R ".policy IS NOT NULL AND " R ".breached_at IS NULL)"
#define AD_NOTACC(R) "(" R ".accepted_at IS NULL)"
#define AD_WAITS(R)  "(" R ".status IN ('pending', 'offered'))"
#define AD_COUNTS(R, F) \
    F "(1), " \
    F AD_SLA(R) ", " \
    F "(" AD_OK(R) " AND " R ".accepted_at IS NOT NULL), " \
    F AD_BREACH(R) ", " \
    F "(" AD_OK(R) " AND " AD_NOTACC(R) " AND " AD_WAITS(R) "), " \
    F "(" AD_BREACH(R) " AND (" R ".report_steps & 2) <> 0), " \
    F "(" AD_BREACH(R) " AND (" R ".report_steps & 1) <> 0), " \
    F "(" AD_BREACH(R) " AND " R ".status = 'expired'), " \
    F "(" R ".accepted_at IS NOT NULL), " \
    F "(" AD_NOTACC(R) " AND " R ".status = 'rejected'), " \
    F "(" AD_NOTACC(R) " AND " R ".status = 'expired'), " \
    F "(" AD_NOTACC(R) " AND " R ".status = 'reassigned'), " \
    F "(" AD_NOTACC(R) " AND " R ".status = 'withdrawn'), " \
    F "(" AD_NOTACC(R) " AND " AD_WAITS(R) "), " \
    F "(" R ".status IS NOT 'withdrawn')"
#define AD_CONFLICT \
    " ON CONFLICT (day, rep_id, pool_id, policy, source) DO UPDATE SET n = n + excluded.n, " \
    "with_sla = with_sla + excluded.with_sla, met = met + excluded.met, " \
    "breached = breached + excluded.breached, open = open + excluded.open, " \
    "reminded = reminded + excluded.reminded, escalated = escalated + excluded.escalated, " \
    "breach_expired = breach_expired + excluded.breach_expired, " \
    "accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected, " \
    "expired = expired + excluded.expired, reassigned = reassigned + excluded.reassigned, " \
    "withdrawn = withdrawn + excluded.withdrawn, pending = pending + excluded.pending, " \
    "not_withdrawn = not_withdrawn + excluded.not_withdrawn;"
#define AD_ADD(R, F) \
    "INSERT INTO assignment_days VALUES (" AD_KEY(R) ", " AD_COUNTS(R, F) ")" AD_CONFLICT
/* an assignment's rejection in rejection_days, added (N 1) or taken out (N -1) */
#define AD_REJECTION(R, N) \
    "INSERT INTO rejection_days SELECT " AD_KEY(R) ", coalesce(" R ".close_reason, ''), " N \
    " WHERE " R ".status = 'rejected' AND " R ".accepted_at IS NULL " \
    "ON CONFLICT (day, rep_id, pool_id, policy, source, reason) DO UPDATE SET n = n + excluded.n;"
/* an assignment's three durations for speed_days (NULL: not measured;
 * speed_row() in report/reports.c measures the same), added to its row's
 * lists (",v1,v2,...,") or the first equal value taken out */
#define SP_SYS(R) \
    "(CASE WHEN " R ".attempt = 1 AND " R ".status IS NOT 'withdrawn' " \
    "AND coalesce(" R ".lead_created_at, 0) <> 0 " \
    "THEN max(" R ".assigned_at - " R ".lead_created_at, 0) END)"
#define SP_ACC(R) \
    "(CASE WHEN coalesce(" R ".accepted_at, 0) <> 0 " \
    "THEN max(" R ".accepted_at - " R ".assigned_at, 0) END)"
#define SP_CON(R) \
    "(CASE WHEN coalesce(" R ".contacted_at, 0) <> 0 AND coalesce(" R ".accepted_at, 0) <> 0 " \
    "THEN max(" R ".contacted_at - " R ".accepted_at, 0) END)"
#define SP_ONE(V) "',' || coalesce(" V " || ',', '')"
#define SP_ADD(R) \
    "INSERT INTO speed_days VALUES (" AD_KEY(R) ", 1, " SP_ONE(SP_SYS(R)) ", " \
    SP_ONE(SP_ACC(R)) ", " SP_ONE(SP_CON(R)) ") " \
    "ON CONFLICT (day, rep_id, pool_id, policy, source) DO UPDATE SET n = n + 1, " \
    "sys = sys || substr(excluded.sys, 2), acc = acc || substr(excluded.acc, 2), " \
    "con = con || substr(excluded.con, 2);"
#define SP_DEL(C, V) \
    "CASE WHEN " V " IS NULL OR instr(" C ", ',' || " V " || ',') = 0 THEN " C " " \
    "ELSE substr(" C ", 1, instr(" C ", ',' || " V " || ',')) " \
    "|| substr(" C ", instr(" C ", ',' || " V " || ',') + length(" V ") + 2) END"
#define SP_REMOVE(R) \
    "UPDATE speed_days SET n = n - 1, sys = " SP_DEL("sys", SP_SYS(R)) ", " \
    "acc = " SP_DEL("acc", SP_ACC(R)) ", con = " SP_DEL("con", SP_CON(R)) " " \
    "WHERE day = " R ".assigned_at / 86400000 AND rep_id = " R ".rep_id " \
    "AND pool_id = coalesce(" R ".pool_id, '') AND policy = coalesce(" R ".policy, '') " \
    "AND source = coalesce(" R ".source, '');"
/* a lead's funnel row (lead_funnel) in funnel_days: counts as in
 * funnel_row() in report/reports.c (the last stage reached, the dark
 * leads) and its times from each stage to the next and to won */
#define FN_SET(X) "(coalesce(" X ", 0) <> 0)"
#define FN_LAST(R) \
    "(CASE WHEN " FN_SET(R ".won_at") " THEN 6 WHEN " FN_SET(R ".opportunity_at") " THEN 5 " \
    "WHEN " FN_SET(R ".sql_at") " THEN 4 WHEN " FN_SET(R ".accepted_at") " THEN 3 " \
    "WHEN " FN_SET(R ".assigned_at") " THEN 2 WHEN " FN_SET(R ".mql_at") " THEN 1 ELSE 0 END)"
#define FN_KEY(R) \
    R ".created_at / 86400000, coalesce(" R ".source, ''), coalesce(" R ".owner, '')"
#define FN_LIT(R) "(" FN_LAST(R) " >= 1 AND " R ".stage IS NOT 'disqualified')"
#define FN_COUNTS(R, F) \
    F "(1), " F "(" FN_LAST(R) " >= 1), " F "(" FN_LAST(R) " >= 2), " \
    F "(" FN_LAST(R) " >= 3), " F "(" FN_LAST(R) " >= 4), " F "(" FN_LAST(R) " >= 5), " \
    F "(" FN_LAST(R) " >= 6), " F "(" FN_LAST(R) " >= 1), " \
    F "(" FN_LIT(R) " AND " FN_LAST(R) " < 3), " \
    F "(" FN_LIT(R) " AND NOT " FN_SET(R ".contacted_at") ")"
#define FN_GAP(R, A, B) \
    "(CASE WHEN " FN_SET(R "." B) " AND " FN_SET(R "." A) " AND " R "." B " >= " R "." A " " \
    "THEN " R "." B " - " R "." A " END)"
#define FN_G1(R) FN_GAP(R, "created_at", "mql_at")
#define FN_G2(R) FN_GAP(R, "mql_at", "assigned_at")
#define FN_G3(R) FN_GAP(R, "assigned_at", "accepted_at")
#define FN_G4(R) FN_GAP(R, "accepted_at", "sql_at")
#define FN_G5(R) FN_GAP(R, "sql_at", "opportunity_at")
#define FN_G6(R) FN_GAP(R, "opportunity_at", "won_at")
#define FN_CY(R) \
    "(CASE WHEN " FN_SET(R ".won_at") " AND " R ".won_at >= " R ".created_at " \
    "THEN " R ".won_at - " R ".created_at END)"
#define FN_ADD(R) \
    "INSERT INTO funnel_days VALUES (" FN_KEY(R) ", " FN_COUNTS(R, "") ", " \
    SP_ONE(FN_G1(R)) ", " SP_ONE(FN_G2(R)) ", " SP_ONE(FN_G3(R)) ", " SP_ONE(FN_G4(R)) ", " \
    SP_ONE(FN_G5(R)) ", " SP_ONE(FN_G6(R)) ", " SP_ONE(FN_CY(R)) ") " \
    "ON CONFLICT (day, source, owner) DO UPDATE SET n = n + excluded.n, " \
    "mql = mql + excluded.mql, assigned = assigned + excluded.assigned, " \
    "accepted = accepted + excluded.accepted, sql = sql + excluded.sql, " \
    "opportunity = opportunity + excluded.opportunity, won = won + excluded.won, " \
    "qualified = qualified + excluded.qualified, " \
    "never_accepted = never_accepted + excluded.never_accepted, " \
    "never_contacted = never_contacted + excluded.never_contacted, " \
    "g1 = g1 || substr(excluded.g1, 2), g2 = g2 || substr(excluded.g2, 2), " \
    "g3 = g3 || substr(excluded.g3, 2), g4 = g4 || substr(excluded.g4, 2), " \
    "g5 = g5 || substr(excluded.g5, 2), g6 = g6 || substr(excluded.g6, 2), " \
    "cycle = cycle || substr(excluded.cycle, 2);"
#define FN_REMOVE(R) \
    "UPDATE funnel_days SET n = n - 1, mql = mql - (" FN_LAST(R) " >= 1), " \
    "assigned = assigned - (" FN_LAST(R) " >= 2), accepted = accepted - (" FN_LAST(R) " >= 3), " \
    "sql = sql - (" FN_LAST(R) " >= 4), opportunity = opportunity - (" FN_LAST(R) " >= 5), " \
    "won = won - (" FN_LAST(R) " >= 6), qualified = qualified - (" FN_LAST(R) " >= 1), " \
    "never_accepted = never_accepted - (" FN_LIT(R) " AND " FN_LAST(R) " < 3), " \
    "never_contacted = never_contacted - (" FN_LIT(R) " AND NOT " FN_SET(R ".contacted_at") "), " \
    "g1 = " SP_DEL("g1", FN_G1(R)) ", g2 = " SP_DEL("g2", FN_G2(R)) ", " \
    "g3 = " SP_DEL("g3", FN_G3(R)) ", g4 = " SP_DEL("g4", FN_G4(R)) ", " \
    "g5 = " SP_DEL("g5", FN_G5(R)) ", g6 = " SP_DEL("g6", FN_G6(R)) ", " \
    "cycle = " SP_DEL("cycle", FN_CY(R)) " " \
    "WHERE day = " R ".created_at / 86400000 AND source = coalesce(" R ".source, '') " \
    "AND owner = coalesce(" R ".owner, '');"
#define FN_LIST(V) "',' || coalesce(group_concat(" V ", ',') || ',', '')"
/* an assignment's status counted (N 1) or taken out (N -1) when WHEN */
#define AD_STATUS(R, N, WHEN) \
    "INSERT INTO assignment_status_counts SELECT coalesce(" R ".status, ''), " N " " \
    "WHERE " WHEN " ON CONFLICT (status) DO UPDATE SET n = n + excluded.n;"
/* a decision's key in decision_days, but for the lead's source */
#define DD_KEY(R) \
    R ".at / 86400000, " R ".result, coalesce(" R ".rule, ''), coalesce(" R ".pool_id, ''), " \
    "coalesce(" R ".rep_id, '')"
#define DD_CONFLICT \
    " ON CONFLICT (day, result, rule, pool_id, rep_id, source) DO UPDATE SET n = n + excluded.n;"
/* clang-format on */

/* Migrations, in order; migration i brings the schema to version i + 1. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE leads ("
    "  id INTEGER PRIMARY KEY,"
    "  external_id TEXT UNIQUE,"
    "  email TEXT UNIQUE,"
    "  first_name TEXT, last_name TEXT, company TEXT, title TEXT, phone TEXT, website TEXT,"
    "  country TEXT, state TEXT, city TEXT, industry TEXT, source TEXT,"
    "  email_domain TEXT, website_domain TEXT, country_input TEXT, employees_band TEXT,"
    "  stage TEXT NOT NULL DEFAULT 'new', owner TEXT,"
    "  email_free INTEGER NOT NULL DEFAULT 0,"
    "  employees INTEGER,"
    "  fields TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX leads_owner ON leads (owner, id) WHERE owner IS NOT NULL;"
    "CREATE TABLE lead_events ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  type TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  reason TEXT,"
    "  data TEXT NOT NULL DEFAULT '{}',"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX lead_events_lead ON lead_events (lead_id, id);"
    "CREATE TABLE idempotency_keys ("
    "  key TEXT PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  fingerprint TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'ingest', 'rep')),"
    "  rep_id TEXT,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  prefix TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER"
    ");",
    /* 2: scores, activities, outcomes */
    "ALTER TABLE leads ADD COLUMN score REAL;"
    "ALTER TABLE leads ADD COLUMN fit REAL;"
    "ALTER TABLE leads ADD COLUMN engagement REAL;"
    "ALTER TABLE leads ADD COLUMN grade TEXT;"
    "ALTER TABLE leads ADD COLUMN score_reasons TEXT;"
    "ALTER TABLE leads ADD COLUMN scored_at INTEGER;"
    "ALTER TABLE leads ADD COLUMN rescore_at INTEGER;"
    "CREATE INDEX leads_rescore_at ON leads (rescore_at) WHERE rescore_at IS NOT NULL;"
    "CREATE TABLE activities ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  type TEXT NOT NULL,"
    "  occurred_at INTEGER NOT NULL,"
    "  properties TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX activities_lead ON activities (lead_id, occurred_at);"
    "CREATE TABLE outcomes ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  stage TEXT NOT NULL,"
    "  value REAL,"
    "  currency TEXT,"
    "  reason TEXT,"
    "  actor TEXT NOT NULL,"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX outcomes_lead ON outcomes (lead_id);",
    /* 3: accounts, routing (rep state, time off, pools, assignments, decisions, holds) */
    "ALTER TABLE leads ADD COLUMN account_id TEXT;"
    "ALTER TABLE leads ADD COLUMN account_match TEXT;"
    "CREATE INDEX leads_owner_stage ON leads (owner, stage) WHERE owner IS NOT NULL;"
    "CREATE TABLE accounts ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT,"
    "  domains TEXT NOT NULL DEFAULT '[]',"
    "  website TEXT,"
    "  country TEXT,"
    "  owner TEXT,"
    "  fields TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE rep_state ("
    "  rep_id TEXT PRIMARY KEY,"
    "  status TEXT NOT NULL DEFAULT 'available',"
    "  status_reason TEXT,"
    "  status_until INTEGER,"
    "  day_start INTEGER NOT NULL DEFAULT 0,"
    "  day_count INTEGER NOT NULL DEFAULT 0,"
    "  week_start INTEGER NOT NULL DEFAULT 0,"
    "  week_count INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE rep_time_off ("
    "  id INTEGER PRIMARY KEY,"
    "  rep_id TEXT NOT NULL,"
    "  from_at INTEGER NOT NULL,"
    "  to_at INTEGER NOT NULL,"
    "  reason TEXT,"
    "  actor TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX rep_time_off_rep ON rep_time_off (rep_id, to_at);"
    "CREATE TABLE rep_events ("
    "  id INTEGER PRIMARY KEY,"
    "  rep_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  reason TEXT,"
    "  data TEXT NOT NULL DEFAULT '{}',"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX rep_events_rep ON rep_events (rep_id, id);"
    "CREATE TABLE pool_state ("
    "  pool_id TEXT PRIMARY KEY,"
    "  state TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE decisions ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  result TEXT NOT NULL,"
    "  rep_id TEXT,"
    "  pool_id TEXT,"
    "  rule TEXT,"
    "  config_version TEXT NOT NULL,"
    "  record TEXT NOT NULL,"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX decisions_lead ON decisions (lead_id, id);"
    "CREATE TABLE assignments ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  rep_id TEXT NOT NULL,"
    "  pool_id TEXT,"
    "  rule TEXT,"
    "  decision_id INTEGER REFERENCES decisions (id),"
    "  assigned_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX assignments_lead ON assignments (lead_id, id);"
    "CREATE INDEX assignments_rep ON assignments (rep_id, assigned_at);"
    "CREATE TABLE holds ("
    "  lead_id INTEGER PRIMARY KEY REFERENCES leads (id),"
    "  reason TEXT NOT NULL,"
    "  rule TEXT,"
    "  pool_id TEXT,"
    "  rep_id TEXT,"
    "  score REAL NOT NULL DEFAULT 0,"
    "  since INTEGER NOT NULL,"
    "  decision_id INTEGER"
    ");"
    "CREATE INDEX holds_order ON holds (score DESC, since, lead_id);"
    "CREATE TABLE lead_exclusions ("
    "  lead_id INTEGER NOT NULL REFERENCES leads (id),"
    "  rep_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (lead_id, rep_id)"
    ");"
    /* leads qualified before routing existed wait in the hold queue */
    "INSERT INTO holds (lead_id, reason, score, since) "
    "SELECT id, 'awaiting_routing', coalesce(score, 0), updated_at FROM leads WHERE stage = 'mql';",
    /* 4: a version that every write of accounts changes (store_accounts_version) */
    "CREATE TABLE store_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ");"
    "INSERT INTO store_meta (key, value) VALUES ('accounts_version', 0);",
    /* 5: open assignments per rep (leads it owns at assigned or accepted), kept
     * by triggers so that eligibility reads one row instead of counting */
    "CREATE TABLE rep_open ("
    "  rep_id TEXT PRIMARY KEY,"
    "  open INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "INSERT INTO rep_open (rep_id, open) SELECT owner, count(*) FROM leads "
    "WHERE owner IS NOT NULL AND stage IN ('assigned', 'accepted') GROUP BY owner;"
    "CREATE TRIGGER leads_open_insert AFTER INSERT ON leads "
    "WHEN NEW.owner IS NOT NULL AND NEW.stage IN ('assigned', 'accepted') BEGIN "
    "  INSERT INTO rep_open (rep_id, open) VALUES (NEW.owner, 1) "
    "  ON CONFLICT (rep_id) DO UPDATE SET open = open + 1; "
    "END;"
    "CREATE TRIGGER leads_open_update AFTER UPDATE OF owner, stage ON leads "
    "WHEN OLD.owner IS NOT NEW.owner OR OLD.stage IS NOT NEW.stage BEGIN "
    "  UPDATE rep_open SET open = open - 1 WHERE rep_id = OLD.owner "
    "    AND OLD.stage IN ('assigned', 'accepted'); "
    "  INSERT INTO rep_open (rep_id, open) SELECT NEW.owner, 1 "
    "    WHERE NEW.owner IS NOT NULL AND NEW.stage IN ('assigned', 'accepted') "
    "  ON CONFLICT (rep_id) DO UPDATE SET open = open + 1; "
    "END;"
    "CREATE TRIGGER leads_open_delete AFTER DELETE ON leads "
    "WHEN OLD.owner IS NOT NULL AND OLD.stage IN ('assigned', 'accepted') BEGIN "
    "  UPDATE rep_open SET open = open - 1 WHERE rep_id = OLD.owner; "
    "END;",
    /* 6: decision records in their final form (core/decide.h: "at" in RFC 3339,
     * served as stored), and claims of shared work (store_claim) */
    "UPDATE decisions SET record = json_set(record, '$.at', "
    "  strftime('%Y-%m-%dT%H:%M:%S', at / 1000, 'unixepoch') || '.' || "
    "  printf('%03d', at % 1000) || 'Z') "
    "WHERE json_valid(record) AND json_type(record, '$.at') = 'integer';"
    "CREATE TABLE claims ("
    "  kind TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  holder TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, key)"
    ") WITHOUT ROWID;",
    /* 7: the handoff (store_handoff.h): assignments get their status, SLA
     * clock and deadlines, one live assignment per lead is a constraint,
     * and one-click links get their first secret. Assignments made before
     * are closed as reassigned, except each lead's latest, which stays live
     * when its rep still owns the lead (pending while assigned, accepted
     * after), without a clock. */
    "ALTER TABLE assignments ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE assignments ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';"
    "ALTER TABLE assignments ADD COLUMN policy TEXT;"
    "ALTER TABLE assignments ADD COLUMN clock TEXT;"
    "ALTER TABLE assignments ADD COLUMN accept_by INTEGER;"
    "ALTER TABLE assignments ADD COLUMN contact_by INTEGER;"
    "ALTER TABLE assignments ADD COLUMN accepted_at INTEGER;"
    "ALTER TABLE assignments ADD COLUMN contacted_at INTEGER;"
    "ALTER TABLE assignments ADD COLUMN closed_at INTEGER;"
    "ALTER TABLE assignments ADD COLUMN breached_at INTEGER;"
    "ALTER TABLE assignments ADD COLUMN closed_by TEXT;"
    "ALTER TABLE assignments ADD COLUMN close_reason TEXT;"
    "ALTER TABLE assignments ADD COLUMN note TEXT;"
    "ALTER TABLE assignments ADD COLUMN successor TEXT;"
    "ALTER TABLE assignments ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE assignments ADD COLUMN next_due INTEGER;"
    "ALTER TABLE assignments ADD COLUMN next_kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE assignments ADD COLUMN offer_group INTEGER;"
    "ALTER TABLE assignments ADD COLUMN terms TEXT;"
    "UPDATE assignments SET attempt = (SELECT count(*) FROM assignments b "
    "  WHERE b.lead_id = assignments.lead_id AND b.id <= assignments.id);"
    "UPDATE assignments SET status = 'reassigned', closed_at = assigned_at, "
    "  close_reason = 'before handoff tracking';"
    "UPDATE assignments SET closed_at = NULL, close_reason = NULL, "
    "  status = CASE (SELECT stage FROM leads WHERE leads.id = assignments.lead_id) "
    "    WHEN 'assigned' THEN 'pending' ELSE 'accepted' END "
    "WHERE id IN (SELECT max(id) FROM assignments GROUP BY lead_id) AND rep_id = "
    "  (SELECT owner FROM leads WHERE leads.id = assignments.lead_id "
    "   AND stage IN ('assigned', 'accepted', 'sql', 'opportunity'));"
    "CREATE UNIQUE INDEX assignments_live ON assignments (lead_id) "
    "  WHERE closed_at IS NULL AND status <> 'offered';"
    "CREATE INDEX assignments_due ON assignments (next_due) WHERE next_due IS NOT NULL;"
    "CREATE INDEX assignments_open ON assignments (rep_id, accept_by) WHERE closed_at IS NULL;"
    "CREATE INDEX assignments_urgency ON assignments "
    "  (coalesce(accept_by, 9000000000000000000), id) WHERE closed_at IS NULL;"
    "CREATE INDEX assignments_group ON assignments (offer_group) WHERE offer_group IS NOT NULL;"
    "CREATE TABLE link_secrets ("
    "  generation INTEGER PRIMARY KEY,"
    "  secret BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "INSERT INTO link_secrets (generation, secret, created_at) "
    "VALUES (1, randomblob(32), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));",
    /* 8: reports (store_reports.h): indexes on the times reports select by,
     * and lead_funnel, one narrow row per lead with its source, stage and
     * owner now and the first time it reached each stage and its first
     * contact, kept by triggers on leads and lead_events so that a report
     * reads one row per lead instead of every event (or the wide lead). */
    "CREATE INDEX leads_created ON leads (created_at);"
    /* an assignment keeps its lead's intake time and source (as they were
     * when it was made), so that reports read one covering index in
     * assigned_at order and nothing else */
    "ALTER TABLE assignments ADD COLUMN lead_created_at INTEGER;"
    "ALTER TABLE assignments ADD COLUMN source TEXT;"
    "UPDATE assignments SET "
    "  lead_created_at = (SELECT created_at FROM leads WHERE leads.id = assignments.lead_id), "
    "  source = (SELECT source FROM leads WHERE leads.id = assignments.lead_id);"
    "CREATE TRIGGER assignments_lead AFTER INSERT ON assignments BEGIN "
    "  UPDATE assignments SET "
    "    lead_created_at = (SELECT created_at FROM leads WHERE leads.id = NEW.lead_id), "
    "    source = (SELECT source FROM leads WHERE leads.id = NEW.lead_id) "
    "  WHERE id = NEW.id; "
    "END;"
    "CREATE INDEX assignments_report ON assignments (assigned_at, rep_id, pool_id, rule, policy, "
    "  status, close_reason, source, attempt, lead_created_at, accepted_at, contacted_at, "
    "  closed_at, breached_at, reminders_sent, lead_id);"
    "CREATE INDEX decisions_at ON decisions (at);"
    "CREATE INDEX lead_events_steps ON lead_events (at) "
    "  WHERE type IN ('assignment.escalated', 'assignment.reminded');"
    "CREATE TABLE lead_funnel ("
    "  lead_id INTEGER PRIMARY KEY REFERENCES leads (id),"
    "  created_at INTEGER NOT NULL,"
    "  source TEXT, stage TEXT, owner TEXT,"
    "  mql_at INTEGER, assigned_at INTEGER, accepted_at INTEGER, sql_at INTEGER,"
    "  opportunity_at INTEGER, won_at INTEGER, lost_at INTEGER, contacted_at INTEGER"
    ");"
    "CREATE INDEX lead_funnel_created ON lead_funnel (created_at);"
    "INSERT INTO lead_funnel (lead_id, created_at, source, stage, owner) "
    "  SELECT id, created_at, source, stage, owner FROM leads;"
    "CREATE TRIGGER lead_funnel_insert AFTER INSERT ON leads BEGIN "
    "  INSERT OR IGNORE INTO lead_funnel (lead_id, created_at, source, stage, owner) "
    "  VALUES (NEW.id, NEW.created_at, NEW.source, NEW.stage, NEW.owner); "
    "END;"
    "CREATE TRIGGER lead_funnel_lead AFTER UPDATE OF source, stage, owner ON leads "
    "WHEN OLD.source IS NOT NEW.source OR OLD.stage IS NOT NEW.stage "
    "  OR OLD.owner IS NOT NEW.owner BEGIN "
    "  UPDATE lead_funnel SET source = NEW.source, stage = NEW.stage, owner = NEW.owner "
    "  WHERE lead_id = NEW.id; "
    "END;"
    "CREATE TRIGGER lead_funnel_stage AFTER INSERT ON lead_events "
    "WHEN NEW.type = 'lead.stage_changed' BEGIN "
    "  UPDATE lead_funnel SET "
    "    mql_at = coalesce(mql_at, CASE json_extract(NEW.data, '$.to') WHEN 'mql' THEN NEW.at "
    "END), "
    "    assigned_at = coalesce(assigned_at, CASE json_extract(NEW.data, '$.to') WHEN 'assigned' "
    "THEN NEW.at END), "
    "    accepted_at = coalesce(accepted_at, CASE json_extract(NEW.data, '$.to') WHEN 'accepted' "
    "THEN NEW.at END), "
    "    sql_at = coalesce(sql_at, CASE json_extract(NEW.data, '$.to') WHEN 'sql' THEN NEW.at "
    "END), "
    "    opportunity_at = coalesce(opportunity_at, CASE json_extract(NEW.data, '$.to') WHEN "
    "'opportunity' THEN NEW.at END), "
    "    won_at = coalesce(won_at, CASE json_extract(NEW.data, '$.to') WHEN 'won' THEN NEW.at "
    "END), "
    "    lost_at = coalesce(lost_at, CASE json_extract(NEW.data, '$.to') WHEN 'lost' THEN NEW.at "
    "END) "
    "  WHERE lead_id = NEW.lead_id; "
    "END;"
    "CREATE TRIGGER lead_funnel_contact AFTER INSERT ON lead_events "
    "WHEN NEW.type = 'assignment.contacted' BEGIN "
    "  UPDATE lead_funnel SET contacted_at = coalesce(contacted_at, NEW.at) "
    "  WHERE lead_id = NEW.lead_id; "
    "END;"
    "UPDATE lead_funnel SET "
    "  mql_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'mql'), "
    "  assigned_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'assigned'), "
    "  accepted_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'accepted'), "
    "  sql_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'sql'), "
    "  opportunity_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'opportunity'), "
    "  won_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'won'), "
    "  lost_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'lead.stage_changed' AND json_extract(e.data, '$.to') = 'lost'), "
    "  contacted_at = (SELECT min(at) FROM lead_events e WHERE e.lead_id = lead_funnel.lead_id "
    "    AND e.type = 'assignment.contacted');",
    /* 9: delivery (store_outbox.h): the outbox, its attempts, the state of
     * each destination, and reps' follow-up tasks. A row is due while
     * next_attempt_at is set (a claim moves it to the lease's end), so the
     * partial index outbox_due is exactly the work there is. */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL UNIQUE,"
    "  channel TEXT NOT NULL,"
    "  event_type TEXT NOT NULL,"
    "  event_id INTEGER,"
    "  lead_id INTEGER,"
    "  recipient TEXT,"
    "  payload TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER,"
    "  lease_owner TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  delivered_at INTEGER,"
    "  last_status INTEGER,"
    "  last_error TEXT"
    ");"
    "CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) "
    "  WHERE next_attempt_at IS NOT NULL;"
    "CREATE INDEX outbox_lead ON outbox (lead_id, id) WHERE lead_id IS NOT NULL;"
    "CREATE INDEX outbox_status ON outbox (status, channel, id);"
    "CREATE INDEX outbox_created ON outbox (created_at);"
    "CREATE TABLE delivery_attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  outbox_id INTEGER NOT NULL REFERENCES outbox (id),"
    "  at INTEGER NOT NULL,"
    "  latency_ms INTEGER NOT NULL,"
    "  status INTEGER,"
    "  verdict TEXT NOT NULL,"
    "  error TEXT,"
    "  response TEXT,"
    "  node TEXT"
    ");"
    "CREATE INDEX delivery_attempts_row ON delivery_attempts (outbox_id, id);"
    "CREATE TABLE delivery_channels ("
    "  id TEXT PRIMARY KEY,"
    "  state TEXT NOT NULL,"
    "  failing_since INTEGER,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  next_probe_at INTEGER,"
    "  changed_at INTEGER,"
    "  reason TEXT"
    ");"
    "CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY,"
    "  lead_id INTEGER NOT NULL,"
    "  assignment_id INTEGER,"
    "  rep_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  due_at INTEGER,"
    "  starts_at INTEGER,"
    "  ends_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER,"
    "  done_by TEXT"
    ");"
    "CREATE INDEX tasks_rep_open ON tasks (rep_id, coalesce(due_at, 9000000000000000000), id) "
    "  WHERE done_at IS NULL;"
    "CREATE INDEX tasks_rep_done ON tasks (rep_id, done_at) WHERE done_at IS NOT NULL;"
    "CREATE INDEX tasks_assignment ON tasks (assignment_id) WHERE done_at IS NULL;"
    "CREATE INDEX tasks_meetings ON tasks (rep_id, starts_at) WHERE starts_at IS NOT NULL;"
    /* A task follows its assignment: the first contact completes the
     * contact task, and an assignment that ends (rejected, expired,
     * reassigned, withdrawn, or the lead's outcome) closes what is open. */
    "CREATE TRIGGER tasks_contacted AFTER UPDATE OF contacted_at ON assignments "
    "WHEN NEW.contacted_at IS NOT NULL AND OLD.contacted_at IS NULL BEGIN "
    "  UPDATE tasks SET done_at = NEW.contacted_at, done_by = 'contacted' "
    "  WHERE assignment_id = NEW.id AND kind = 'contact' AND done_at IS NULL; "
    "END;"
    "CREATE TRIGGER tasks_closed AFTER UPDATE OF closed_at ON assignments "
    "WHEN NEW.closed_at IS NOT NULL AND OLD.closed_at IS NULL BEGIN "
    "  UPDATE tasks SET done_at = NEW.closed_at, done_by = 'assignment ' || NEW.status "
    "  WHERE assignment_id = NEW.id AND done_at IS NULL; "
    "END;",
    /* 10: per-day summaries for the counting reports, so that a year costs
     * tens of thousands of rows, not a million. assignment_days holds, per
     * UTC day of assigned_at, rep, pool, policy and source, how many
     * assignments fall in each class of count_into() (SLA, acceptance,
     * fairness), and rejection_days the rejections by reason. Triggers on
     * assignments keep them: an update takes the old row's counts out and
     * puts the new row's in, so the order in which triggers fire does not
     * matter. An escalation or a reminder of a breach marks its assignment
     * (report_steps: 1 escalated, 2 reminded), which replaces the scan of
     * those events (lead_events_steps, dropped). decision_days counts
     * decisions per day, result, rule, pool, rep and the lead's source now,
     * kept when a decision is made and when a lead's source changes.
     * assignment_status_counts counts every assignment by status. */
    /* clang-format off */
    /* the store's insert sets the lead's intake time and source itself
     * now; the trigger is for rows written otherwise, so that the engine's
     * insert is not followed by an update (and its summaries' triggers) */
    "DROP TRIGGER assignments_lead;"
    "CREATE TRIGGER assignments_lead AFTER INSERT ON assignments "
    "WHEN NEW.lead_created_at IS NULL AND NEW.source IS NULL BEGIN "
    "  UPDATE assignments SET "
    "    lead_created_at = (SELECT created_at FROM leads WHERE leads.id = NEW.lead_id), "
    "    source = (SELECT source FROM leads WHERE leads.id = NEW.lead_id) "
    "  WHERE id = NEW.id; "
    "END;"
    "ALTER TABLE assignments ADD COLUMN report_steps INTEGER NOT NULL DEFAULT 0;"
    "UPDATE assignments SET report_steps = s.steps FROM ("
    "  SELECT json_extract(data, '$.assignment') AS id, "
    "    max(type = 'assignment.escalated') | (max(type = 'assignment.reminded') << 1) AS steps "
    "  FROM lead_events WHERE type IN ('assignment.escalated', 'assignment.reminded') "
    "  AND (type = 'assignment.escalated' OR json_extract(data, '$.breach')) GROUP BY 1) AS s "
    "WHERE assignments.id = s.id;"
    "DROP INDEX lead_events_steps;"
    "CREATE TABLE assignment_days ("
    "  day INTEGER NOT NULL, rep_id TEXT NOT NULL, pool_id TEXT NOT NULL,"
    "  policy TEXT NOT NULL, source TEXT NOT NULL,"
    "  n INTEGER NOT NULL, with_sla INTEGER NOT NULL, met INTEGER NOT NULL,"
    "  breached INTEGER NOT NULL, open INTEGER NOT NULL, reminded INTEGER NOT NULL,"
    "  escalated INTEGER NOT NULL, breach_expired INTEGER NOT NULL, accepted INTEGER NOT NULL,"
    "  rejected INTEGER NOT NULL, expired INTEGER NOT NULL, reassigned INTEGER NOT NULL,"
    "  withdrawn INTEGER NOT NULL, pending INTEGER NOT NULL, not_withdrawn INTEGER NOT NULL,"
    "  PRIMARY KEY (day, rep_id, pool_id, policy, source)"
    ") WITHOUT ROWID;"
    "CREATE TABLE rejection_days ("
    "  day INTEGER NOT NULL, rep_id TEXT NOT NULL, pool_id TEXT NOT NULL,"
    "  policy TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (day, rep_id, pool_id, policy, source, reason)"
    ") WITHOUT ROWID;"
    "INSERT INTO assignment_days SELECT " AD_KEY("a") ", " AD_COUNTS("a", "sum")
    " FROM assignments a WHERE true GROUP BY 1, 2, 3, 4, 5;"
    "INSERT INTO rejection_days SELECT " AD_KEY("a") ", coalesce(a.close_reason, ''), count(*) "
    "FROM assignments a WHERE a.status = 'rejected' AND a.accepted_at IS NULL "
    "GROUP BY 1, 2, 3, 4, 5, 6;"
    /* and every assignment by status, for /metrics (a handful of rows) */
    "CREATE TABLE assignment_status_counts ("
    "  status TEXT PRIMARY KEY, n INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO assignment_status_counts "
    "  SELECT coalesce(status, ''), count(*) FROM assignments WHERE true GROUP BY 1;"
    "CREATE TRIGGER assignment_days_insert AFTER INSERT ON assignments BEGIN "
    AD_ADD("NEW", "") AD_REJECTION("NEW", "1") AD_STATUS("NEW", "1", "true")
    "END;"
    "CREATE TRIGGER assignment_days_update AFTER UPDATE OF assigned_at, rep_id, pool_id, policy, "
    "  source, status, close_reason, accepted_at, breached_at, report_steps ON assignments "
    "WHEN OLD.assigned_at IS NOT NEW.assigned_at OR OLD.rep_id IS NOT NEW.rep_id "
    "  OR OLD.pool_id IS NOT NEW.pool_id OR OLD.policy IS NOT NEW.policy "
    "  OR OLD.source IS NOT NEW.source OR OLD.status IS NOT NEW.status "
    "  OR OLD.close_reason IS NOT NEW.close_reason OR OLD.accepted_at IS NOT NEW.accepted_at "
    "  OR OLD.breached_at IS NOT NEW.breached_at OR OLD.report_steps IS NOT NEW.report_steps "
    "BEGIN "
    AD_ADD("OLD", "-") AD_REJECTION("OLD", "-1") AD_ADD("NEW", "") AD_REJECTION("NEW", "1")
    AD_STATUS("OLD", "-1", "OLD.status IS NOT NEW.status")
    AD_STATUS("NEW", "1", "OLD.status IS NOT NEW.status")
    "END;"
    "CREATE TRIGGER assignment_days_delete AFTER DELETE ON assignments BEGIN "
    AD_ADD("OLD", "-") AD_REJECTION("OLD", "-1") AD_STATUS("OLD", "-1", "true")
    "END;"
    "CREATE TRIGGER assignment_steps AFTER INSERT ON lead_events "
    "WHEN NEW.type = 'assignment.escalated' "
    "  OR (NEW.type = 'assignment.reminded' AND json_extract(NEW.data, '$.breach')) BEGIN "
    "  UPDATE assignments SET report_steps = report_steps "
    "    | CASE NEW.type WHEN 'assignment.escalated' THEN 1 ELSE 2 END "
    "  WHERE id = json_extract(NEW.data, '$.assignment'); "
    "END;"
    "CREATE TABLE speed_days ("
    "  day INTEGER NOT NULL, rep_id TEXT NOT NULL, pool_id TEXT NOT NULL,"
    "  policy TEXT NOT NULL, source TEXT NOT NULL, n INTEGER NOT NULL,"
    "  sys TEXT NOT NULL, acc TEXT NOT NULL, con TEXT NOT NULL,"
    "  PRIMARY KEY (day, rep_id, pool_id, policy, source)"
    ") WITHOUT ROWID;"
    "INSERT INTO speed_days SELECT " AD_KEY("a") ", count(*), "
    "  ',' || coalesce(group_concat(" SP_SYS("a") ", ',') || ',', ''), "
    "  ',' || coalesce(group_concat(" SP_ACC("a") ", ',') || ',', ''), "
    "  ',' || coalesce(group_concat(" SP_CON("a") ", ',') || ',', '') "
    "FROM assignments a WHERE true GROUP BY 1, 2, 3, 4, 5;"
    "CREATE TRIGGER speed_days_insert AFTER INSERT ON assignments BEGIN "
    SP_ADD("NEW")
    "END;"
    "CREATE TRIGGER speed_days_update AFTER UPDATE OF assigned_at, rep_id, pool_id, policy, "
    "  source, attempt, status, lead_created_at, accepted_at, contacted_at ON assignments "
    "WHEN OLD.assigned_at IS NOT NEW.assigned_at OR OLD.rep_id IS NOT NEW.rep_id "
    "  OR OLD.pool_id IS NOT NEW.pool_id OR OLD.policy IS NOT NEW.policy "
    "  OR OLD.source IS NOT NEW.source OR OLD.attempt IS NOT NEW.attempt "
    "  OR OLD.status IS NOT NEW.status OR OLD.lead_created_at IS NOT NEW.lead_created_at "
    "  OR OLD.accepted_at IS NOT NEW.accepted_at OR OLD.contacted_at IS NOT NEW.contacted_at "
    "BEGIN "
    SP_REMOVE("OLD") SP_ADD("NEW")
    "END;"
    "CREATE TRIGGER speed_days_delete AFTER DELETE ON assignments BEGIN "
    SP_REMOVE("OLD")
    "END;"
    "CREATE TABLE funnel_days ("
    "  day INTEGER NOT NULL, source TEXT NOT NULL, owner TEXT NOT NULL,"
    "  n INTEGER NOT NULL, mql INTEGER NOT NULL, assigned INTEGER NOT NULL,"
    "  accepted INTEGER NOT NULL, sql INTEGER NOT NULL, opportunity INTEGER NOT NULL,"
    "  won INTEGER NOT NULL, qualified INTEGER NOT NULL, never_accepted INTEGER NOT NULL,"
    "  never_contacted INTEGER NOT NULL,"
    "  g1 TEXT NOT NULL, g2 TEXT NOT NULL, g3 TEXT NOT NULL, g4 TEXT NOT NULL,"
    "  g5 TEXT NOT NULL, g6 TEXT NOT NULL, cycle TEXT NOT NULL,"
    "  PRIMARY KEY (day, source, owner)"
    ") WITHOUT ROWID;"
    "INSERT INTO funnel_days SELECT " FN_KEY("f") ", " FN_COUNTS("f", "sum") ", "
    FN_LIST(FN_G1("f")) ", " FN_LIST(FN_G2("f")) ", " FN_LIST(FN_G3("f")) ", "
    FN_LIST(FN_G4("f")) ", " FN_LIST(FN_G5("f")) ", " FN_LIST(FN_G6("f")) ", "
    FN_LIST(FN_CY("f")) " FROM lead_funnel f WHERE true GROUP BY 1, 2, 3;"
    "CREATE TRIGGER funnel_days_insert AFTER INSERT ON lead_funnel BEGIN "
    FN_ADD("NEW")
    "END;"
    "CREATE TRIGGER funnel_days_update AFTER UPDATE ON lead_funnel "
    "WHEN OLD.created_at IS NOT NEW.created_at OR OLD.source IS NOT NEW.source "
    "  OR OLD.owner IS NOT NEW.owner OR OLD.stage IS NOT NEW.stage "
    "  OR OLD.mql_at IS NOT NEW.mql_at OR OLD.assigned_at IS NOT NEW.assigned_at "
    "  OR OLD.accepted_at IS NOT NEW.accepted_at OR OLD.sql_at IS NOT NEW.sql_at "
    "  OR OLD.opportunity_at IS NOT NEW.opportunity_at OR OLD.won_at IS NOT NEW.won_at "
    "  OR OLD.contacted_at IS NOT NEW.contacted_at "
    "BEGIN "
    FN_REMOVE("OLD") FN_ADD("NEW")
    "END;"
    "CREATE TRIGGER funnel_days_delete AFTER DELETE ON lead_funnel BEGIN "
    FN_REMOVE("OLD")
    "END;"
    "CREATE TABLE decision_days ("
    "  day INTEGER NOT NULL, result TEXT NOT NULL, rule TEXT NOT NULL, pool_id TEXT NOT NULL,"
    "  rep_id TEXT NOT NULL, source TEXT NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (day, result, rule, pool_id, rep_id, source)"
    ") WITHOUT ROWID;"
    "INSERT INTO decision_days SELECT " DD_KEY("d") ", coalesce(f.source, ''), count(*) "
    "FROM decisions d LEFT JOIN lead_funnel f ON f.lead_id = d.lead_id WHERE true "
    "GROUP BY 1, 2, 3, 4, 5, 6;"
    "CREATE TRIGGER decision_days_insert AFTER INSERT ON decisions BEGIN "
    "  INSERT INTO decision_days VALUES (" DD_KEY("NEW") ", coalesce((SELECT source FROM "
    "  lead_funnel WHERE lead_id = NEW.lead_id), ''), 1)" DD_CONFLICT
    "END;"
    "CREATE TRIGGER decision_days_delete AFTER DELETE ON decisions BEGIN "
    "  INSERT INTO decision_days VALUES (" DD_KEY("OLD") ", coalesce((SELECT source FROM "
    "  lead_funnel WHERE lead_id = OLD.lead_id), ''), -1)" DD_CONFLICT
    "END;"
    "CREATE TRIGGER decision_days_source AFTER UPDATE OF source ON lead_funnel "
    "WHEN OLD.source IS NOT NEW.source BEGIN "
    "  INSERT INTO decision_days SELECT " DD_KEY("d") ", coalesce(OLD.source, ''), -count(*) "
    "  FROM decisions d WHERE d.lead_id = NEW.lead_id GROUP BY 1, 2, 3, 4, 5" DD_CONFLICT
    "  INSERT INTO decision_days SELECT " DD_KEY("d") ", coalesce(NEW.source, ''), count(*) "
    "  FROM decisions d WHERE d.lead_id = NEW.lead_id GROUP BY 1, 2, 3, 4, 5" DD_CONFLICT
    "END;",
    /* clang-format on */
    /* 11: predictive models (store_models.h) */
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  version TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  trained_from INTEGER, trained_until INTEGER,"
    "  test_from INTEGER, test_until INTEGER,"
    "  n_train INTEGER NOT NULL DEFAULT 0, n_test INTEGER NOT NULL DEFAULT 0,"
    "  model TEXT NOT NULL,"
    "  metrics TEXT NOT NULL DEFAULT '{}',"
    "  active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),"
    "  activated_at INTEGER"
    ");"
    "CREATE UNIQUE INDEX models_active ON models (active) WHERE active = 1;",
    /* 12: what may help each held lead (store_routing.h, the hold queue's
     * wake targets); the holds already there keep being retried by the
     * timer ('any') and by their pool's or rep's changes */
    "CREATE TABLE hold_wakes ("
    "  target TEXT NOT NULL,"
    "  lead_id INTEGER NOT NULL,"
    "  PRIMARY KEY (target, lead_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX hold_wakes_lead ON hold_wakes (lead_id);"
    "CREATE TRIGGER holds_wakes_gone AFTER DELETE ON holds BEGIN "
    "  DELETE FROM hold_wakes WHERE lead_id = OLD.lead_id; "
    "END;"
    "INSERT INTO hold_wakes (target, lead_id) SELECT 'any', lead_id FROM holds;"
    "INSERT INTO hold_wakes (target, lead_id) "
    "  SELECT 'pool:' || pool_id, lead_id FROM holds WHERE pool_id IS NOT NULL;"
    "INSERT INTO hold_wakes (target, lead_id) "
    "  SELECT 'rep:' || rep_id, lead_id FROM holds WHERE rep_id IS NOT NULL;",
    /* 13: what decision records need of every configuration version that
     * decided something (its rules and reps' limits, route_record_context:
     * no secrets), by version: records are stored compact and name theirs
     * (core/routing_json.h) */
    "CREATE TABLE config_versions ("
    "  version TEXT PRIMARY KEY,"
    "  context TEXT NOT NULL,"
    "  first_at INTEGER NOT NULL"
    ");",
};

static bt_err db_error(sqlite3 *db, struct bt_error *err, const char *what)
{
    int code = sqlite3_extended_errcode(db);
    if ((code & 0xff) == SQLITE_CONSTRAINT &&
        (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY))
        return bt_fail(err, BT_ECONFLICT, NULL, "%s: %s", what, sqlite3_errmsg(db));
    return bt_fail(err, BT_ESTORE, NULL, "%s: %s", what, sqlite3_errmsg(db));
}

static bt_err exec_sql(sqlite3 *db, const char *sql, struct bt_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        bt_fail(err, BT_ESTORE, NULL, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return BT_ESTORE;
    }
    return BT_OK;
}

/* Only the first open of a store may create the file (with opts.create):
 * the other connections open the file that exists by then, and never make
 * a new empty one if it has been removed meanwhile. */
static bt_err open_handle(const struct sqlite_db *d, bool create, sqlite3 **out,
                          struct bt_error *err)
{
    sqlite3 *db = NULL;
    int flags = (d->opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX | (create && !d->opts.read_only ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(d->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        bt_fail(err, BT_ESTORE, NULL, "cannot open database %s: %s", d->path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return BT_ESTORE;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, (int)d->opts.busy_timeout_ms);
    const char *sync = d->opts.synchronous == STORE_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL;"
                                                                : "PRAGMA synchronous = FULL;";
    /* A larger page cache keeps the index pages of a growing database in
     * memory. (Memory-mapped I/O is left off: remapping a growing file costs
     * every thread a TLB shootdown.) */
    bt_err e = exec_sql(db,
                        "PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; "
                        "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT ";",
                        err);
    if (!e)
        e = exec_sql(db, sync, err);
    if (e) {
        bt_error_prefix(err, "%s: ", d->path);
        sqlite3_close(db);
        return e;
    }
    *out = db;
    return BT_OK;
}

static bt_err migrate(sqlite3 *db, const char *path, struct bt_error *err)
{
    bt_err e = exec_sql(db, "BEGIN IMMEDIATE", err);
    if (e)
        goto fail;
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > STORE_SCHEMA_VERSION) {
        exec_sql(db, "ROLLBACK", NULL);
        return bt_fail(err, BT_ESTORE, NULL,
                       "%s has schema version %d, newer than this baton understands (%d); "
                       "upgrade baton",
                       path, version, STORE_SCHEMA_VERSION);
    }
    for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((e = exec_sql(db, migrations[v], err)) || (e = exec_sql(db, pragma, err))) {
            exec_sql(db, "ROLLBACK", NULL);
            bt_error_prefix(err, "migrating to schema version %d: ", v + 1);
            goto fail;
        }
    }
    if ((e = exec_sql(db, "COMMIT", err)))
        goto fail;
    return BT_OK;
fail:
    bt_error_prefix(err, "%s: ", path);
    return e;
}

/* A read-only store cannot migrate: it reads only a file at this build's
 * schema version. */
static bt_err check_version(sqlite3 *db, const char *path, struct bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return bt_fail(err, BT_ESTORE, NULL, "%s: cannot read the schema version: %s", path,
                       sqlite3_errmsg(db));
    if (version != STORE_SCHEMA_VERSION)
        return bt_fail(err, BT_ESTORE, NULL,
                       "%s has schema version %d and this baton reads %d; it opens the file "
                       "read-only and cannot migrate it (run baton serve on it once%s)",
                       path, version, STORE_SCHEMA_VERSION,
                       version > STORE_SCHEMA_VERSION ? ", or upgrade baton" : "");
    return BT_OK;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_db *d = arg;
    (void)name;
    pthread_mutex_lock(&d->lock);
    d->wal_dirty = true;
    d->last_commit = metrics_now_ns();
    /* `pages` counts the whole WAL; a restarted WAL counts from 0 again */
    if (pages < d->last_pass_frames)
        d->last_pass_frames = 0;
    if (pages - d->last_pass_frames >= CHECKPOINT_PAGES) {
        d->wal_grown = true;
        pthread_cond_signal(&d->wake);
    }
    bool tail = d->tail_due;
    d->tail_due = false;
    pthread_mutex_unlock(&d->lock);
    if (tail) {
        /* The background pass copied all but what was committed while it
         * ran; the writer copies that rest (a few hundred pages) between
         * its commits, where nothing can be appended meanwhile, so that the
         * WAL is wholly backfilled and the next transaction starts it again
         * from the top instead of growing it for ever. Passive: it waits
         * for nobody. */
        int log = 0, done = 0;
        int64_t t0 = metrics_now_ns();
        if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
                SQLITE_OK &&
            log == done)
            metrics_inc(&metrics.wal_restarts);
        metrics_observe(&metrics.checkpoint_duration, metrics_now_ns() - t0);
    }
    return SQLITE_OK;
}

static void note_wal_size(const struct sqlite_db *d)
{
    char wal[4096];
    struct stat sb;
    snprintf(wal, sizeof(wal), "%s-wal", d->path);
    uint64_t bytes = stat(wal, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    __atomic_store_n(&metrics.wal_bytes, bytes, __ATOMIC_RELAXED);
}

/* One pass of `mode`; returns the WAL's frames after it (-1 when busy). */
static int checkpoint_pass(struct sqlite_db *d, sqlite3 *db, int mode)
{
    int log = 0, done = 0;
    int64_t t0 = metrics_now_ns();
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, &log, &done);
    metrics_observe(&metrics.checkpoint_duration, metrics_now_ns() - t0);
    note_wal_size(d);
    return rc == SQLITE_OK ? log : -1;
}

static void *checkpointer_main(void *arg)
{
    struct sqlite_db *d = arg;
    sqlite3 *db = d->checkpointer_db;
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        if (!d->wal_grown) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += CHECKPOINT_IDLE_MS / 1000;
            until.tv_nsec += (long)(CHECKPOINT_IDLE_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&d->wake, &d->lock, &until);
        }
        if (d->stopping)
            break;
        bool grown = d->wal_grown;
        bool idle = d->wal_dirty &&
                    metrics_now_ns() - d->last_commit >= (int64_t)CHECKPOINT_IDLE_MS * 1000000;
        d->wal_grown = false;
        if (!grown && !idle)
            continue;
        if (idle && !grown)
            d->wal_dirty = false;
        pthread_mutex_unlock(&d->lock);
        int frames;
        if (grown) {
            frames = checkpoint_pass(d, db, SQLITE_CHECKPOINT_PASSIVE);
        } else {
            /* Truncating waits for the writer and readers: not at all here
             * (a busy database is not idle after all; the next idle moment
             * tries again). */
            sqlite3_busy_timeout(db, 0);
            frames = checkpoint_pass(d, db, SQLITE_CHECKPOINT_TRUNCATE);
            sqlite3_busy_timeout(db, (int)d->opts.busy_timeout_ms);
            if (frames == 0)
                metrics_inc(&metrics.checkpoint_truncations);
        }
        pthread_mutex_lock(&d->lock);
        if (frames >= 0)
            d->last_pass_frames = frames;
        if (grown && frames >= WAL_RESTART_PAGES)
            d->tail_due = true;
        else if (!grown)
            d->wal_dirty = true;
    }
    pthread_mutex_unlock(&d->lock);
    sqlite3_close(db);
    return NULL;
}

static bt_err sq_open(const char *location, const struct store_options *opts, void **out,
                      struct bt_error *err)
{
    struct stat sb;
    if (!opts->create && stat(location, &sb) != 0 && errno == ENOENT)
        return bt_fail(err, BT_ENOTFOUND, NULL, "no database at %s", location);
    struct sqlite_db *d = xcalloc(1, sizeof(*d));
    d->path = xstrdup(location);
    d->opts = *opts;
    sqlite3 *db = NULL;
    bt_err e = open_handle(d, opts->create, &db, err);
    if (!e && opts->read_only) {
        e = check_version(db, location, err);
    } else if (!e) {
        /* WAL is a property of the file; set it once here. */
        e = exec_sql(db, "PRAGMA journal_mode = WAL;", err);
        if (e)
            bt_error_prefix(err, "%s: ", location);
    }
    if (!e)
        e = migrate(db, location, err);
    sqlite3_close(db);
    if (e) {
        free(d->path);
        free(d);
        return e;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    /* The checkpointer's connection is opened here, so that a failure leaves
     * SQLite's own automatic checkpoints on instead of none at all. */
    if (opts->background_checkpoint && open_handle(d, false, &d->checkpointer_db, NULL) == BT_OK) {
        if (pthread_create(&d->checkpointer, NULL, checkpointer_main, d) == 0) {
            d->checkpointer_running = true;
        } else {
            sqlite3_close(d->checkpointer_db);
            d->checkpointer_db = NULL;
        }
    }
    *out = d;
    return BT_OK;
}

static void sq_close(void *p)
{
    struct sqlite_db *d = p;
    if (!d)
        return;
    if (d->checkpointer_running) {
        pthread_mutex_lock(&d->lock);
        d->stopping = true;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->checkpointer, NULL);
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    free(d->path);
    free(d);
}

static void sq_conn_close(struct store_conn *base)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    for (int i = 0; i < SQLITE__SLOTS; i++)
        sqlite3_finalize(c->lazy[i]);
    sqlite3_close(c->db);
    free(c);
}

static bt_err sq_conn_open(void *p, struct store_conn **out, struct bt_error *err)
{
    struct sqlite_db *d = p;
    struct sqlite_conn *c = xcalloc(1, sizeof(*c));
    c->base.ops = &store__sqlite_ops;
    bt_err e = open_handle(d, false, &c->db, err);
    if (e) {
        free(c);
        return e;
    }
    if (d->checkpointer_running) {
        sqlite3_wal_autocheckpoint(c->db, 0);
        sqlite3_wal_hook(c->db, wal_hook, d);
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                               NULL) != SQLITE_OK) {
            e = db_error(c->db, err, "preparing statement");
            sq_conn_close(&c->base);
            return e;
        }
    }
    *out = &c->base;
    return BT_OK;
}

/* Takes a statement ready for binding; callers reset it when done. */
static sqlite3_stmt *stmt(struct store_conn *base, enum stmt_id id)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    sqlite3_reset(c->stmt[id]);
    sqlite3_clear_bindings(c->stmt[id]);
    return c->stmt[id];
}

static sqlite3 *handle(struct store_conn *base)
{
    return ((struct sqlite_conn *)base)->db;
}

sqlite3_stmt *sqlite__stmt(struct store_conn *base, unsigned slot, const char *sql,
                           struct bt_error *err)
{
    struct sqlite_conn *c = (struct sqlite_conn *)base;
    if (slot >= SQLITE__SLOTS) {
        bt_fail(err, BT_ESTORE, NULL, "statement slot %u out of range", slot);
        return NULL;
    }
    if (!c->lazy[slot]) {
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->lazy[slot], NULL) !=
            SQLITE_OK) {
            db_error(c->db, err, "preparing statement");
            c->lazy[slot] = NULL;
            return NULL;
        }
    }
    sqlite3_reset(c->lazy[slot]);
    sqlite3_clear_bindings(c->lazy[slot]);
    return c->lazy[slot];
}

sqlite3 *sqlite__handle(struct store_conn *c)
{
    return handle(c);
}

bt_err sqlite__error(struct store_conn *c, struct bt_error *err, const char *what)
{
    return db_error(handle(c), err, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_positive(sqlite3_stmt *st, int i, int64_t v)
{
    if (v > 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i, struct arena *a)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    if (!s)
        return NULL;
    return arena_strndup(a, (const char *)s, (size_t)sqlite3_column_bytes(st, i));
}

/* Runs a statement expected to produce no rows. */
static bt_err step_done(struct store_conn *c, sqlite3_stmt *st, const char *what,
                        struct bt_error *err)
{
    int rc = sqlite3_step(st);
    bt_err e = rc == SQLITE_DONE ? BT_OK : db_error(handle(c), err, what);
    sqlite3_reset(st);
    return e;
}

void sqlite__bind_text(sqlite3_stmt *st, int i, const char *s)
{
    bind_text(st, i, s);
}

void sqlite__bind_positive(sqlite3_stmt *st, int i, int64_t v)
{
    bind_positive(st, i, v);
}

const char *sqlite__col_text(sqlite3_stmt *st, int i, struct arena *a)
{
    return col_text(st, i, a);
}

bt_err sqlite__step_done(struct store_conn *c, sqlite3_stmt *st, const char *what,
                         struct bt_error *err)
{
    return step_done(c, st, what, err);
}

static bt_err sq_ping(struct store_conn *c, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_PING);
    int rc = sqlite3_step(st);
    bt_err e = rc == SQLITE_ROW ? BT_OK : db_error(handle(c), err, "ping");
    sqlite3_reset(st);
    return e;
}

static bt_err sq_exec(struct store_conn *c, int what, struct bt_error *err)
{
    static const enum stmt_id ids[] = {
        [STORE__BEGIN] = ST_BEGIN,       [STORE__COMMIT] = ST_COMMIT,
        [STORE__ROLLBACK] = ST_ROLLBACK, [STORE__SAVEPOINT] = ST_SAVEPOINT,
        [STORE__RELEASE] = ST_RELEASE,   [STORE__ROLLBACK_TO] = ST_ROLLBACK_TO,
    };
    return step_done(c, stmt(c, ids[what]), stmt_sql[ids[what]], err);
}

static void read_lead(sqlite3_stmt *st, struct arena *a, struct lead *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(st, 0);
    for (int i = 0; i < LEAD_ATTR_COUNT; i++)
        out->attr[i] = col_text(st, 1 + i, a);
    int k = 1 + LEAD_ATTR_COUNT;
    out->email_free = sqlite3_column_int(st, k) != 0;
    out->employees =
        sqlite3_column_type(st, k + 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, k + 1);
    out->fields_json = col_text(st, k + 2, a);
    out->created_at = sqlite3_column_int64(st, k + 3);
    out->updated_at = sqlite3_column_int64(st, k + 4);
    struct lead_score *sc = &out->score;
    sc->scored = sqlite3_column_type(st, k + 5) != SQLITE_NULL;
    if (sc->scored) {
        sc->total = sqlite3_column_double(st, k + 5);
        sc->fit = sqlite3_column_double(st, k + 6);
        sc->engagement = sqlite3_column_double(st, k + 7);
        const unsigned char *g = sqlite3_column_text(st, k + 8);
        snprintf(sc->grade, sizeof(sc->grade), "%s", g ? (const char *)g : "");
        sc->reasons_json = col_text(st, k + 9, a);
        sc->scored_at = sqlite3_column_int64(st, k + 10);
        sc->rescore_at = sqlite3_column_int64(st, k + 11);
    }
    out->account_id = col_text(st, k + 12, a);
    out->account_match_json = col_text(st, k + 13, a);
}

static bt_err sq_lead_get(struct store_conn *c, int by, const char *key, int64_t id,
                          struct arena *a, struct lead *out, struct bt_error *err)
{
    sqlite3_stmt *st;
    if (by == STORE__BY_ID) {
        st = stmt(c, ST_LEAD_BY_ID);
        sqlite3_bind_int64(st, 1, id);
    } else {
        st = stmt(c, by == STORE__BY_EMAIL ? ST_LEAD_BY_EMAIL : ST_LEAD_BY_EXTERNAL_ID);
        bind_text(st, 1, key);
    }
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW)
        read_lead(st, a, out);
    else if (rc == SQLITE_DONE)
        e = bt_fail(err, BT_ENOTFOUND, NULL, "no such lead");
    else
        e = db_error(handle(c), err, "reading lead");
    sqlite3_reset(st);
    return e;
}

static void bind_lead(sqlite3_stmt *st, const struct lead *l)
{
    for (int i = 0; i < LEAD_ATTR_COUNT; i++)
        bind_text(st, 1 + i, l->attr[i]);
    int k = 1 + LEAD_ATTR_COUNT;
    sqlite3_bind_int(st, k, l->email_free);
    if (l->employees >= 0)
        sqlite3_bind_int64(st, k + 1, l->employees);
    else
        sqlite3_bind_null(st, k + 1);
    bind_text(st, k + 2, l->fields_json ? l->fields_json : "{}");
    sqlite3_bind_int64(st, k + 3, l->created_at);
    sqlite3_bind_int64(st, k + 4, l->updated_at);
    const struct lead_score *sc = &l->score;
    if (sc->scored) {
        sqlite3_bind_double(st, k + 5, sc->total);
        sqlite3_bind_double(st, k + 6, sc->fit);
        sqlite3_bind_double(st, k + 7, sc->engagement);
        bind_text(st, k + 8, sc->grade);
        bind_text(st, k + 9, sc->reasons_json ? sc->reasons_json : "[]");
        sqlite3_bind_int64(st, k + 10, sc->scored_at);
        bind_positive(st, k + 11, sc->rescore_at);
    } else {
        for (int i = 5; i <= 11; i++)
            sqlite3_bind_null(st, k + i);
    }
}

static bt_err sq_lead_insert(struct store_conn *c, struct lead *lead, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_LEAD_INSERT);
    bind_lead(st, lead);
    bt_err e = step_done(c, st, "inserting lead", err);
    if (!e)
        lead->id = sqlite3_last_insert_rowid(handle(c));
    return e;
}

static bt_err sq_lead_update(struct store_conn *c, const struct lead *lead, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_LEAD_UPDATE);
    bind_lead(st, lead);
    sqlite3_bind_int64(st, LEAD_BIND_COUNT + 1, lead->id);
    bt_err e = step_done(c, st, "updating lead", err);
    if (!e && sqlite3_changes(handle(c)) == 0)
        e = bt_fail(err, BT_ENOTFOUND, NULL, "no such lead: %lld", (long long)lead->id);
    return e;
}

static bt_err sq_lead_list(struct store_conn *c, const struct lead_filter *f, struct arena *a,
                           struct lead **out, size_t *count, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, f->email   ? ST_LEAD_LIST_EMAIL
                               : f->owner ? ST_LEAD_LIST_OWNER
                                          : ST_LEAD_LIST);
    bind_text(st, 1, f->email);
    bind_text(st, 2, f->email_domain);
    bind_text(st, 3, f->company);
    bind_text(st, 4, f->stage);
    bind_text(st, 5, f->owner);
    bind_text(st, 6, f->source);
    bind_text(st, 7, f->country);
    bind_positive(st, 8, f->created_after);
    bind_positive(st, 9, f->created_before);
    sqlite3_bind_int64(st, 10, f->before_id > 0 ? f->before_id : INT64_MAX);
    sqlite3_bind_int(st, 11, (int)f->limit);
    struct lead *leads = arena_alloc(a, sizeof(*leads) * f->limit);
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (leads && n < f->limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_lead(st, a, &leads[n++]);
    bt_err e = BT_OK;
    if (!leads)
        e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = db_error(handle(c), err, "listing leads");
    sqlite3_reset(st);
    *out = leads;
    *count = n;
    return e;
}

static bt_err sq_event_append(struct store_conn *c, struct lead_event *ev, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_EVENT_APPEND);
    sqlite3_bind_int64(st, 1, ev->lead_id);
    bind_text(st, 2, ev->type);
    bind_text(st, 3, ev->actor);
    bind_text(st, 4, ev->reason);
    bind_text(st, 5, ev->data_json ? ev->data_json : "{}");
    sqlite3_bind_int64(st, 6, ev->at);
    bt_err e = step_done(c, st, "appending event", err);
    if (!e)
        ev->id = sqlite3_last_insert_rowid(handle(c));
    return e;
}

static bt_err sq_event_list(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                            struct arena *a, struct lead_event **out, size_t *count,
                            struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_EVENT_LIST);
    sqlite3_bind_int64(st, 1, lead_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, (int)limit);
    struct lead_event *evs = arena_alloc(a, sizeof(*evs) * (limit ? limit : 1));
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (evs && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct lead_event *ev = &evs[n++];
        ev->id = sqlite3_column_int64(st, 0);
        ev->lead_id = sqlite3_column_int64(st, 1);
        ev->type = col_text(st, 2, a);
        ev->actor = col_text(st, 3, a);
        ev->reason = col_text(st, 4, a);
        ev->data_json = col_text(st, 5, a);
        ev->at = sqlite3_column_int64(st, 6);
    }
    bt_err e = BT_OK;
    if (!evs)
        e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = db_error(handle(c), err, "listing events");
    sqlite3_reset(st);
    *out = evs;
    *count = n;
    return e;
}

static bt_err sq_idem_get(struct store_conn *c, const char *key, struct arena *a, int64_t *lead_id,
                          const char **fingerprint, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_IDEM_GET);
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW) {
        *lead_id = sqlite3_column_int64(st, 0);
        *fingerprint = col_text(st, 1, a);
    } else if (rc == SQLITE_DONE) {
        e = bt_fail(err, BT_ENOTFOUND, NULL, "no such idempotency key");
    } else {
        e = db_error(handle(c), err, "reading idempotency key");
    }
    sqlite3_reset(st);
    return e;
}

static bt_err sq_idem_put(struct store_conn *c, const char *key, int64_t lead_id,
                          const char *fingerprint, int64_t now, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_IDEM_PUT);
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, lead_id);
    bind_text(st, 3, fingerprint);
    sqlite3_bind_int64(st, 4, now);
    return step_done(c, st, "storing idempotency key", err);
}

static bt_err sq_key_insert(struct store_conn *c, struct api_key *k, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_KEY_INSERT);
    bind_text(st, 1, k->name);
    bind_text(st, 2, k->role);
    bind_text(st, 3, k->rep_id);
    bind_text(st, 4, k->hash);
    bind_text(st, 5, k->prefix);
    sqlite3_bind_int64(st, 6, k->created_at);
    bt_err e = step_done(c, st, "inserting API key", err);
    if (!e)
        k->id = sqlite3_last_insert_rowid(handle(c));
    return e;
}

static void read_key(sqlite3_stmt *st, struct arena *a, struct api_key *k)
{
    k->id = sqlite3_column_int64(st, 0);
    k->name = col_text(st, 1, a);
    k->role = col_text(st, 2, a);
    k->rep_id = col_text(st, 3, a);
    k->hash = col_text(st, 4, a);
    k->prefix = col_text(st, 5, a);
    k->created_at = sqlite3_column_int64(st, 6);
    k->revoked_at = sqlite3_column_int64(st, 7);
}

static bt_err sq_key_find_active(struct store_conn *c, const char *hash, struct arena *a,
                                 struct api_key *out, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_KEY_FIND);
    bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW)
        read_key(st, a, out);
    else if (rc == SQLITE_DONE)
        e = bt_fail(err, BT_ENOTFOUND, NULL, "no such API key");
    else
        e = db_error(handle(c), err, "reading API key");
    sqlite3_reset(st);
    return e;
}

static bt_err sq_key_list(struct store_conn *c, struct arena *a, struct api_key **out,
                          size_t *count, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_KEY_LIST);
    size_t n = 0, cap = 0;
    struct api_key *keys = NULL;
    bool full = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        keys = arena_room_for_one(a, keys, n, &cap, sizeof(*keys));
        if (!keys) {
            full = true;
            break;
        }
        read_key(st, a, &keys[n++]);
    }
    bt_err e = BT_OK;
    if (full)
        e = bt_fail(err, BT_ETOOBIG, NULL, "too many keys");
    else if (rc != SQLITE_DONE)
        e = db_error(handle(c), err, "listing API keys");
    sqlite3_reset(st);
    *out = keys;
    *count = n;
    return e;
}

static bt_err sq_key_revoke(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_KEY_REVOKE);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    bt_err e = step_done(c, st, "revoking API key", err);
    if (!e && sqlite3_changes(handle(c)) == 0)
        e = bt_fail(err, BT_ENOTFOUND, "id", "no active API key with id %lld", (long long)id);
    return e;
}

static bt_err sq_key_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_KEY_COUNT);
    int rc = sqlite3_step(st);
    bt_err e = BT_OK;
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        e = db_error(handle(c), err, "counting API keys");
    sqlite3_reset(st);
    return e;
}

static bt_err sq_activity_insert(struct store_conn *c, struct activity *act, int64_t now,
                                 struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_ACTIVITY_INSERT);
    sqlite3_bind_int64(st, 1, act->lead_id);
    bind_text(st, 2, act->type);
    sqlite3_bind_int64(st, 3, act->occurred_at);
    bind_text(st, 4, act->properties_json ? act->properties_json : "{}");
    sqlite3_bind_int64(st, 5, now);
    bt_err e = step_done(c, st, "inserting activity", err);
    if (!e)
        act->id = sqlite3_last_insert_rowid(handle(c));
    return e;
}

/* An activity from columns id, lead_id, type, occurred_at, properties. */
static void read_activity(sqlite3_stmt *st, struct arena *a, struct activity *x)
{
    x->id = sqlite3_column_int64(st, 0);
    x->lead_id = sqlite3_column_int64(st, 1);
    x->type = col_text(st, 2, a);
    x->occurred_at = sqlite3_column_int64(st, 3);
    x->properties_json = col_text(st, 4, a);
}

static bt_err sq_activity_list(struct store_conn *c, int64_t lead_id, unsigned limit,
                               struct arena *a, struct activity **out, size_t *count,
                               struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_ACTIVITY_LIST);
    sqlite3_bind_int64(st, 1, lead_id);
    sqlite3_bind_int(st, 2, (int)limit);
    struct activity *acts = arena_alloc(a, sizeof(*acts) * (limit ? limit : 1));
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (acts && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_activity(st, a, &acts[n++]);
    }
    bt_err e = BT_OK;
    if (!acts)
        e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = db_error(handle(c), err, "listing activities");
    sqlite3_reset(st);
    *out = acts;
    *count = n;
    return e;
}

/* Activities of a history row: the newest this many before qualification. */
#define HISTORY_ACTIVITIES_MAX 10000

static bt_err history_activities(struct store_conn *c, struct store_history_row *row,
                                 struct arena *a, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_HISTORY_ACTIVITIES);
    sqlite3_bind_int64(st, 1, row->lead.id);
    sqlite3_bind_int64(st, 2, row->qualified_at);
    sqlite3_bind_int(st, 3, HISTORY_ACTIVITIES_MAX);
    size_t cap = 0, n = 0;
    struct activity *acts = NULL;
    bool full = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        acts = arena_room_for_one(a, acts, n, &cap, sizeof(*acts));
        if (!acts) {
            full = true;
            break;
        }
        read_activity(st, a, &acts[n++]);
    }
    bt_err e = BT_OK;
    if (full)
        e = bt_fail(err, BT_ETOOBIG, NULL, "lead %lld: activities too large",
                    (long long)row->lead.id);
    else if (rc != SQLITE_DONE)
        e = db_error(handle(c), err, "reading a lead's activities");
    sqlite3_reset(st);
    row->acts = acts;
    row->n_acts = n;
    return e;
}

/* The earliest of the times that are set (0 when none is). */
static int64_t earliest(int64_t a, int64_t b)
{
    if (a <= 0)
        return b > 0 ? b : 0;
    return b > 0 && b < a ? b : a;
}

/* The label of a row for its target (columns k.. of ST_HISTORY); false when
 * it is not known yet. */
static bool history_label(sqlite3_stmt *st, int k, bool sql_target, struct store_history_row *row)
{
    int64_t sql_at = sqlite3_column_int64(st, k + 1), opp_at = sqlite3_column_int64(st, k + 2);
    int64_t won_at = sqlite3_column_int64(st, k + 3), lost_at = sqlite3_column_int64(st, k + 4);
    int64_t updated_at = sqlite3_column_int64(st, k + 5);
    const char *stage = row->lead.attr[LEAD_STAGE] ? row->lead.attr[LEAD_STAGE] : "";
    int64_t positive_at = sql_target ? earliest(earliest(sql_at, opp_at), won_at) : won_at;
    if (positive_at > 0) {
        row->label = 1;
        row->outcome_at = positive_at;
        return true;
    }
    bool negative = lost_at > 0 || strcmp(stage, "disqualified") == 0 ||
                    (sql_target && strcmp(stage, "recycled") == 0);
    if (!negative)
        return false;
    row->label = 0;
    row->outcome_at = lost_at > 0 ? lost_at : updated_at;
    return true;
}

static bt_err sq_history_each(struct store_conn *c, const char *target, int64_t since,
                              int64_t until, struct arena *scratch, store_history_fn fn, void *cls,
                              struct bt_error *err)
{
    bool sql_target = strcmp(target, "sql") == 0;
    sqlite3_stmt *st = stmt(c, ST_HISTORY);
    sqlite3_bind_int64(st, 1, since > 0 ? since : INT64_MIN);
    sqlite3_bind_int64(st, 2, until > 0 ? until : INT64_MAX);
    bt_err e = BT_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        arena_release(scratch);
        struct store_history_row row;
        memset(&row, 0, sizeof(row));
        read_lead(st, scratch, &row.lead);
        int k = 1 + LEAD_BIND_COUNT + 2; /* after id, the lead columns and the account pair */
        row.qualified_at = sqlite3_column_int64(st, k);
        if (!history_label(st, k, sql_target, &row))
            continue;
        row.has_value = sqlite3_column_type(st, k + 6) != SQLITE_NULL;
        row.value = row.has_value ? sqlite3_column_double(st, k + 6) : 0;
        e = history_activities(c, &row, scratch, err);
        if (!e)
            e = fn(cls, &row, err);
        if (e)
            break;
    }
    if (!e && rc != SQLITE_DONE)
        e = db_error(handle(c), err, "reading the lead history");
    sqlite3_reset(st);
    arena_release(scratch);
    return e;
}

static bt_err sq_rescore_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                             int64_t **ids, size_t *count, struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_RESCORE_DUE);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, (int)limit);
    int64_t *out = arena_alloc(a, sizeof(*out) * (limit ? limit : 1));
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (out && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        out[n++] = sqlite3_column_int64(st, 0);
    bt_err e = BT_OK;
    if (!out)
        e = bt_fail(err, BT_ETOOBIG, NULL, "result too large");
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = db_error(handle(c), err, "listing leads due for rescoring");
    sqlite3_reset(st);
    *ids = out;
    *count = n;
    return e;
}

static bt_err sq_rescore_set(struct store_conn *c, int64_t lead_id, int64_t at,
                             struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_RESCORE_SET);
    sqlite3_bind_int64(st, 1, lead_id);
    bind_positive(st, 2, at);
    return step_done(c, st, "setting rescore_at", err);
}

static bt_err sq_in_transaction(struct store_conn *c)
{
    return sqlite3_get_autocommit(handle(c)) ? BT_ENOTFOUND : BT_OK;
}

static bt_err sq_outcome_insert(struct store_conn *c, const struct lead_outcome *o,
                                struct bt_error *err)
{
    sqlite3_stmt *st = stmt(c, ST_OUTCOME_INSERT);
    sqlite3_bind_int64(st, 1, o->lead_id);
    bind_text(st, 2, o->stage);
    if (o->has_value)
        sqlite3_bind_double(st, 3, o->value);
    else
        sqlite3_bind_null(st, 3);
    bind_text(st, 4, o->currency);
    bind_text(st, 5, o->reason);
    bind_text(st, 6, o->actor);
    sqlite3_bind_int64(st, 7, o->at);
    return step_done(c, st, "recording outcome", err);
}

const struct store_ops store__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .conn_open = sq_conn_open,
    .conn_close = sq_conn_close,
    .ping = sq_ping,
    .exec = sq_exec,
    .lead_get = sq_lead_get,
    .lead_insert = sq_lead_insert,
    .lead_update = sq_lead_update,
    .lead_list = sq_lead_list,
    .event_append = sq_event_append,
    .event_list = sq_event_list,
    .idempotency_get = sq_idem_get,
    .idempotency_put = sq_idem_put,
    .key_insert = sq_key_insert,
    .key_find_active = sq_key_find_active,
    .key_list = sq_key_list,
    .key_revoke = sq_key_revoke,
    .key_count = sq_key_count,
    .activity_insert = sq_activity_insert,
    .activity_list = sq_activity_list,
    .rescore_due = sq_rescore_due,
    .rescore_set = sq_rescore_set,
    .in_transaction = sq_in_transaction,
    .outcome_insert = sq_outcome_insert,
    .history_each = sq_history_each,
    .routing = &store__sqlite_routing_ops,
    .accounts = &store__sqlite_account_ops,
    .work = &store__sqlite_work_ops,
    .handoff = &store__sqlite_handoff_ops,
    .outbox = &store__sqlite_outbox_ops,
    .models = &store__sqlite_model_ops,
    .reports = &store__sqlite_report_ops,
};
