/*
 * engine.h - the single writer.
 *
 * Every change to Baton's state is a command applied by one thread, in the
 * order submitted, inside a transaction: load state, call the core, write the
 * new state and its events, commit. Commands are committed in groups: the
 * writer takes every command waiting (up to group_commit_max), applies each
 * inside its own savepoint (a failing command is undone alone), and commits
 * them with one fsync. A submitter blocks until its command is committed, so
 * a successful return means the change is on disk; throughput is not bounded
 * by fsync latency, because while one group is being synced the next one
 * queues up.
 *
 * Usage:
 *   struct engine *e;
 *   engine_start(store, clock, &opts, &e, &err);
 *   struct ingest_command cmd = {...};
 *   engine_ingest(e, &cmd, &arena, &err);   // blocks until durable
 *   engine_stop(e);                         // applies what is queued, then joins
 *
 * engine_* submit functions are thread-safe.
 */
#ifndef BT_ENGINE_H
#define BT_ENGINE_H

#include "core/lead.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdint.h>

struct engine;
struct store;

struct engine_options {
    unsigned group_commit_max; /* commands per transaction; 0 = 256 */
};

bt_err engine_start(struct store *store, struct clock *clock, const struct engine_options *opts,
                    struct engine **out, struct bt_error *err) BT_MUST_USE;
/* Applies the commands already queued, refuses new ones (BT_EBUSY), joins
 * the writer and frees the engine. engine_stop(NULL) does nothing. */
void engine_stop(struct engine *e);

/* Counters since start, for /metrics and the benchmark. */
struct engine_stats {
    uint64_t commands;
    uint64_t commits;
    uint64_t failed_commits;
};
void engine_get_stats(struct engine *e, struct engine_stats *out);

enum ingest_outcome {
    INGEST_CREATED,   /* a new lead */
    INGEST_REPEATED,  /* same Idempotency-Key or external_id: nothing written */
    INGEST_MERGED,    /* same email as an existing lead: changes merged into it */
    INGEST_UNCHANGED, /* same email, nothing new to merge: nothing written */
};

const char *ingest_outcome_name(enum ingest_outcome o);

struct ingest_command {
    /* in */
    struct lead lead;            /* normalised; id, stage, owner, times are set by the engine */
    const char *idempotency_key; /* may be NULL */
    const char *fingerprint;     /* identifies the request body, for idempotency */
    const char *actor;           /* who sent it, e.g. "key:3" */
    const char *event_data_json; /* extra data for the lead.created/merged event, a JSON object */
    /* out */
    enum ingest_outcome outcome;
    struct lead result; /* the lead as stored, strings in the caller's arena */
};

/*
 * Creates the lead, or finds the lead it repeats, or merges it into the lead
 * with the same email. Blocks until committed. Errors: BT_ECONFLICT when the
 * Idempotency-Key was used before for a different request; BT_ESTORE;
 * BT_EBUSY when the engine is stopping.
 */
bt_err engine_ingest(struct engine *e, struct ingest_command *cmd, struct arena *arena,
                     struct bt_error *err) BT_MUST_USE;

#endif
