/*
 * store.h - the only door to the database.
 *
 * Nothing outside src/store/ speaks SQL. The interface is written in terms of
 * Baton's objects (leads, events, API keys, idempotency records) and plain
 * transactions, so that a second backend (PostgreSQL, for teams running
 * several nodes) can implement it without the callers changing. Today the
 * backend is SQLite in WAL mode: one file, nothing to install.
 *
 * Objects:
 *   struct store       the database, opened once per process. store_open()
 *                      applies pending schema migrations before returning.
 *   struct store_conn  one connection with its prepared statements. A
 *                      connection is used by one thread at a time. The engine
 *                      owns one connection for writing; readers borrow
 *                      connections from a pool (store_reader_acquire).
 *
 * Memory: strings in objects returned by the store are allocated in the
 * caller's arena and live as long as it.
 *
 * Errors: BT_ENOTFOUND when the object does not exist, BT_ECONFLICT for a
 * uniqueness violation, BT_ESTORE for anything the database reports, with the
 * database's message in the bt_error.
 */
#ifndef BT_STORE_H
#define BT_STORE_H

#include "core/lead.h"
#include "core/score.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_conn;

enum store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL };

struct store_options {
    enum store_sync synchronous; /* FULL: each commit is fsynced; NORMAL: WAL checkpoints only */
    unsigned busy_timeout_ms;    /* how long a connection waits on a lock */
    unsigned max_readers;        /* size of the reader pool (0 = 16) */
    bool background_checkpoint;  /* SQLite: copy the WAL into the database from a
                                    thread of its own, not inside a commit (the
                                    daemon sets this; short-lived tools do not) */
    bool create;                 /* SQLite: create the file when it is missing (baton
                                    serve, an explicit --create); otherwise a missing
                                    file is BT_ENOTFOUND, so that a mistyped path is
                                    an error, not a new empty database */
    bool read_only;              /* SQLite: open read-only, never migrate or write
                                    (`baton simulate`); a file at another schema
                                    version than this build's is refused */
};

/* clang-format off */
#define STORE_OPTIONS_INIT {STORE_SYNC_FULL, 5000, 0, false, false, false}
/* clang-format on */

/* The schema version this build writes; store_open migrates older files. */
#define STORE_SCHEMA_VERSION 13

/*
 * Opens the database named by `location`: a file path (SQLite) or, in the
 * future, a "postgresql://" URL. Migrates the schema. A missing file is
 * created only with opts->create; without it the answer is BT_ENOTFOUND
 * ("no database at PATH"). A file written by a newer Baton (higher schema
 * version) is refused. opts may be NULL: STORE_OPTIONS_INIT.
 */
bt_err store_open(const char *location, const struct store_options *opts, struct store **out,
                  struct bt_error *err) BT_MUST_USE;
/* Closes the pool; every connection must have been closed or released.
 * store_close(NULL) does nothing. */
void store_close(struct store *st);

/* A connection of one's own (the engine's writer, the CLI). */
bt_err store_conn_open(struct store *st, struct store_conn **out, struct bt_error *err) BT_MUST_USE;
void store_conn_close(struct store_conn *c);

/* Borrow a connection from the reader pool; give it back with release.
 * Readers see the last committed state. */
bt_err store_reader_acquire(struct store *st, struct store_conn **out,
                            struct bt_error *err) BT_MUST_USE;
void store_reader_release(struct store *st, struct store_conn *c);

/* A cheap query that proves the database answers (for /readyz). */
bt_err store_ping(struct store_conn *c, struct bt_error *err) BT_MUST_USE;

/*
 * Transactions. store_begin takes the write lock at once (so commands never
 * fail half-way on a lock). Savepoints nest inside a transaction: the engine
 * wraps each command of a group commit in one, so that a failing command is
 * undone alone.
 */
bt_err store_begin(struct store_conn *c, struct bt_error *err) BT_MUST_USE;
bt_err store_commit(struct store_conn *c, struct bt_error *err) BT_MUST_USE;
void store_rollback(struct store_conn *c);
bt_err store_savepoint(struct store_conn *c, struct bt_error *err) BT_MUST_USE;
bt_err store_savepoint_release(struct store_conn *c, struct bt_error *err) BT_MUST_USE;
void store_savepoint_rollback(struct store_conn *c);

/* Leads. */
bt_err store_lead_get(struct store_conn *c, int64_t id, struct arena *a, struct lead *out,
                      struct bt_error *err) BT_MUST_USE;
bt_err store_lead_find_by_email(struct store_conn *c, const char *email, struct arena *a,
                                struct lead *out, struct bt_error *err) BT_MUST_USE;
bt_err store_lead_find_by_external_id(struct store_conn *c, const char *external_id,
                                      struct arena *a, struct lead *out,
                                      struct bt_error *err) BT_MUST_USE;
/* Inserts; sets lead->id. BT_ECONFLICT if email or external_id is taken. */
bt_err store_lead_insert(struct store_conn *c, struct lead *lead, struct bt_error *err) BT_MUST_USE;
/* Rewrites every column of the lead with this id. */
bt_err store_lead_update(struct store_conn *c, const struct lead *lead,
                         struct bt_error *err) BT_MUST_USE;

/* Filters for listing leads; NULL / 0 means "any". Newest first. */
struct lead_filter {
    const char *email;
    const char *email_domain;
    const char *company; /* exact, case-insensitive */
    const char *stage;
    const char *owner;
    const char *source;
    const char *country;
    int64_t created_after;  /* ms, exclusive; 0 = any */
    int64_t created_before; /* ms, exclusive; 0 = any */
    int64_t before_id;      /* cursor: only ids below this; 0 = from the newest */
    unsigned limit;         /* 1 .. STORE_LIST_MAX */
};

#define STORE_LIST_MAX 1000

/* Fills *out with up to filter->limit leads (array in the arena). */
bt_err store_lead_list(struct store_conn *c, const struct lead_filter *filter, struct arena *a,
                       struct lead **out, size_t *count, struct bt_error *err) BT_MUST_USE;

/* Events: the append-only audit trail of a lead. */
struct lead_event {
    int64_t id;
    int64_t lead_id;
    const char *type;      /* "lead.created", "lead.merged", ... */
    const char *actor;     /* who caused it: "key:3", "system", "rep:alice" */
    const char *reason;    /* human text, may be NULL */
    const char *data_json; /* a JSON object */
    int64_t at;            /* ms */
};

bt_err store_event_append(struct store_conn *c, struct lead_event *ev,
                          struct bt_error *err) BT_MUST_USE;
/* Events of a lead in order, with id > after_id, at most `limit`. */
bt_err store_event_list(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                        struct arena *a, struct lead_event **out, size_t *count,
                        struct bt_error *err) BT_MUST_USE;

/* Idempotency records: a client's key, the lead it produced, and a
 * fingerprint of the request so that a reused key with another body is
 * recognised. */
bt_err store_idempotency_get(struct store_conn *c, const char *key, struct arena *a,
                             int64_t *lead_id, const char **fingerprint,
                             struct bt_error *err) BT_MUST_USE;
bt_err store_idempotency_put(struct store_conn *c, const char *key, int64_t lead_id,
                             const char *fingerprint, int64_t now,
                             struct bt_error *err) BT_MUST_USE;

/* API keys. Only a SHA-256 of the key is stored; `prefix` is its first
 * characters, shown in listings so people can tell keys apart. */
struct api_key {
    int64_t id;
    const char *name;
    const char *role;   /* "admin", "ingest" or "rep" */
    const char *rep_id; /* for role rep */
    const char *hash;
    const char *prefix;
    int64_t created_at;
    int64_t revoked_at; /* 0 when active */
};

bt_err store_key_insert(struct store_conn *c, struct api_key *key,
                        struct bt_error *err) BT_MUST_USE;
/* Finds an active (not revoked) key by hash. */
bt_err store_key_find_active(struct store_conn *c, const char *hash, struct arena *a,
                             struct api_key *out, struct bt_error *err) BT_MUST_USE;
bt_err store_key_list(struct store_conn *c, struct arena *a, struct api_key **out, size_t *count,
                      struct bt_error *err) BT_MUST_USE;
/* BT_ENOTFOUND when no active key has this id. */
bt_err store_key_revoke(struct store_conn *c, int64_t id, int64_t now,
                        struct bt_error *err) BT_MUST_USE;
/* Every key ever created, revoked ones included. */
bt_err store_key_count(struct store_conn *c, int64_t *count, struct bt_error *err) BT_MUST_USE;

/* Activities: what a lead did (a demo request, a page view), the input of
 * engagement scoring. */
bt_err store_activity_insert(struct store_conn *c, struct activity *act, int64_t now,
                             struct bt_error *err) BT_MUST_USE;
/* The newest `limit` activities of a lead, newest first. */
bt_err store_activity_list(struct store_conn *c, int64_t lead_id, unsigned limit, struct arena *a,
                           struct activity **out, size_t *count, struct bt_error *err) BT_MUST_USE;

/* Ids of leads whose score decay is due (rescore_at <= now), oldest first. */
bt_err store_lead_rescore_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                              int64_t **ids, size_t *count, struct bt_error *err) BT_MUST_USE;

/* Moves a lead's next rescoring (0 = never), without touching the rest. */
bt_err store_lead_set_rescore_at(struct store_conn *c, int64_t lead_id, int64_t at,
                                 struct bt_error *err) BT_MUST_USE;

/* False when the database has rolled back the open transaction by itself
 * (after a full disk or an I/O error): the rest of a group must not run. */
bool store_in_transaction(struct store_conn *c);

/* What the CRM reported about a lead: the feedback later models learn from. */
struct lead_outcome {
    int64_t lead_id;
    const char *stage; /* sql, opportunity, won, lost, disqualified */
    bool has_value;
    double value;
    const char *currency; /* ISO 4217, or NULL */
    const char *reason;
    const char *actor;
    int64_t at;
};

bt_err store_outcome_insert(struct store_conn *c, const struct lead_outcome *o,
                            struct bt_error *err) BT_MUST_USE;

/*
 * Accounts: the companies leads are matched to (core/account_match.h),
 * keyed by a text id (given by the importer, or derived: core/account_csv.h).
 * The store checks nothing but the id's uniqueness: callers write accounts
 * that passed account_input_normalize().
 *
 * Every write of accounts also changes the accounts version, in the same
 * transaction. The engine reads it (one indexed read of one row) before each
 * use of its account index and rebuilds the index when it moved, so a write
 * by another process on the same file (`baton import accounts` while the
 * daemon runs) is seen by the next routing decision. A version is random,
 * not counted, so that a transaction rolled back after the engine looked
 * cannot hand out the version that a later, different change will have:
 * compare versions for equality only.
 */
struct store_account {
    const char *id;
    const char *name;     /* or NULL */
    const char **domains; /* normalised domains, in the order given */
    size_t n_domains;
    const char *website;     /* as given, or NULL */
    const char *country;     /* alpha-2, or NULL */
    const char *owner;       /* a rep id, or NULL */
    const char *fields_json; /* custom fields, a JSON object; NULL is written as {} */
    int64_t created_at;      /* ms; set by store_account_upsert() */
    int64_t updated_at;
};

enum store_account_outcome {
    STORE_ACCOUNT_CREATED,   /* a new id */
    STORE_ACCOUNT_UPDATED,   /* an existing id, something differed */
    STORE_ACCOUNT_UNCHANGED, /* an existing id, nothing differed: nothing written */
};

/*
 * Inserts or replaces accounts[0..n) by id, inside the caller's transaction
 * (outside one is a bug). A new account gets created_at = updated_at = now;
 * an existing one keeps its created_at, and every attribute is replaced:
 * updated_at becomes now when something differs, else the row is left as it
 * was. Sets each account's created_at and updated_at as stored and, when
 * `outcomes` is not NULL, outcomes[i]. The accounts version changes once
 * when any row was written. An id repeated in one call is written twice (the
 * last wins).
 */
bt_err store_account_upsert(struct store_conn *c, struct store_account *accounts, size_t n,
                            int64_t now, enum store_account_outcome *outcomes,
                            struct bt_error *err) BT_MUST_USE;

/* The account with this id (strings in the arena), or BT_ENOTFOUND. */
bt_err store_account_get(struct store_conn *c, const char *id, struct arena *a,
                         struct store_account *out, struct bt_error *err) BT_MUST_USE;

/* Up to `limit` (1 .. STORE_LIST_MAX) accounts whose id sorts after `after`
 * (NULL: from the first), in byte order of id; array in the arena. */
bt_err store_account_list(struct store_conn *c, const char *after, unsigned limit, struct arena *a,
                          struct store_account **out, size_t *count,
                          struct bt_error *err) BT_MUST_USE;

/* Called by store_account_each() for one account; everything `account`
 * points to lives until the call returns. Non-zero stops the walk. */
typedef bt_err (*store_account_fn)(void *cls, const struct store_account *account,
                                   struct bt_error *err);

/* Calls fn for every account, in byte order of id, holding one account in
 * memory at a time (for building the account index); returns what fn
 * returned when it stopped the walk. */
bt_err store_account_each(struct store_conn *c, store_account_fn fn, void *cls,
                          struct bt_error *err) BT_MUST_USE;

bt_err store_account_count(struct store_conn *c, int64_t *count, struct bt_error *err) BT_MUST_USE;

/* The accounts version (see above). */
bt_err store_accounts_version(struct store_conn *c, int64_t *version,
                              struct bt_error *err) BT_MUST_USE;

/*
 * Shared work: claims with a lease (docs/architecture.md, "the writer
 * model"). Every Baton node writes to the one database; what must be done
 * once however many nodes run (a sweep of due leads, firing a deadline,
 * sending an outbox row) is claimed first. A claim names the work (`kind`,
 * `key`), the node that holds it and when its lease runs out; a node that
 * dies holding one blocks nobody for longer than the lease.
 *
 * store_claim() runs inside the caller's transaction (outside one is a bug)
 * and sets *got: true when the work was free, its lease had run out
 * (expires_at <= now), or `holder` held it already (the lease is then
 * renewed to now + lease_ms); false while another holder's lease runs. Work
 * done inside one transaction claims and releases in that transaction, so a
 * crash leaves no claim behind (the rollback takes it away); work that
 * spans transactions keeps its claim until it releases it or the lease
 * ends. Kind and key: at most 64 and 256 bytes.
 */
bt_err store_claim(struct store_conn *c, const char *kind, const char *key, const char *holder,
                   int64_t now, int64_t lease_ms, bool *got, struct bt_error *err) BT_MUST_USE;
/* Gives up holder's claim; not an error when it holds none. */
bt_err store_claim_release(struct store_conn *c, const char *kind, const char *key,
                           const char *holder, struct bt_error *err) BT_MUST_USE;

/* The earliest rescore_at of any lead (0: none): when the decay sweep is
 * next due. One read of an index. */
bt_err store_lead_next_rescore(struct store_conn *c, int64_t *at, struct bt_error *err) BT_MUST_USE;

#endif
