/*
 * engine_internal.h - shared inside src/engine/ only: the queued command and
 * the dispatcher that applies one command inside the open transaction.
 */
#ifndef BT_ENGINE_INTERNAL_H
#define BT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "store/store.h"

#include <jansson.h>
#include <semaphore.h>

enum engine__kind {
    ENGINE__INGEST,
    ENGINE__ACTIVITIES,
    ENGINE__OUTCOME,
    ENGINE__RESCORE_DUE,
    ENGINE__REP_STATUS,
    ENGINE__TIME_OFF,
    ENGINE__DRAIN_HOLDS,
    ENGINE__UPSERT_ACCOUNTS,
};

struct engine__rescore_due {
    const struct config *cfg;
    unsigned limit;
    size_t rescored;
};

struct engine__drain {
    const struct config *cfg;
    unsigned limit;
    struct engine_hold_cursor cursor; /* in and out */
    size_t tried, assigned;
    int64_t next_change;
};

struct engine__command {
    enum engine__kind kind;
    struct arena *arena; /* the submitter's; results are allocated here */
    union {
        struct ingest_command *ingest;
        struct activities_command *activities;
        struct outcome_command *outcome;
        struct engine__rescore_due *rescore_due;
        struct rep_status_command *rep_status;
        struct time_off_command *time_off;
        struct engine__drain *drain;
        struct accounts_command *accounts;
    } u;
    /* set by the writer */
    bt_err rc;
    struct bt_error err;
    sem_t done;
    struct engine__command *next;
};

/* Queues the command and blocks until its group is committed (or failed). */
bt_err engine__submit(struct engine *e, struct engine__command *c,
                      struct bt_error *err) BT_MUST_USE;

/* The writer thread's scoring state (scratch space for the current model). */
struct engine__scorer;
struct engine__scorer *engine__scorer_new(void);
void engine__scorer_free(struct engine__scorer *s);

/* Everything a command needs while it runs on the writer. */
struct engine__ctx {
    struct store_conn *conn;
    struct engine__scorer *scorer;
    int64_t now;
    struct engine__accounts *accounts; /* the account index, kept across commands */
    int64_t *hold_wake_at;             /* see engine__wake_holds_at (atomic) */
    /* The hold queue's retry of a lead that is held again for the same
     * reason writes nothing when its score did not move either: retrying
     * is set by the retry, score_unchanged by engine__rescore(). */
    bool retrying;
    bool score_unchanged;
};

/* Asks the timer to try the hold queue at `at` (the earliest asked wins):
 * when a status `until` or a time off ends, someone may become eligible. */
void engine__wake_holds_at(struct engine__ctx *ctx, int64_t at);

bt_err engine__apply(struct engine__ctx *ctx, struct engine__command *c) BT_MUST_USE;

bt_err engine__apply_ingest(struct engine__ctx *ctx, struct ingest_command *cmd,
                            struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_activities(struct engine__ctx *ctx, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_outcome(struct engine__ctx *ctx, struct outcome_command *cmd,
                             struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_rescore_due(struct engine__ctx *ctx, struct engine__rescore_due *cmd,
                                 struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* Rescores `lead` (in place) with cfg, applies qualification, appends a
 * lead.stage_changed event when the stage moves, and writes the lead. */
bt_err engine__rescore(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                       const char *actor, struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* The writer's rule scratch space (for rules evaluated outside scoring). */
struct rule_scratch *engine__rule_scratch(struct engine__ctx *ctx);
/* The writer's cache of local times for routing with cfg (made anew when the
 * configuration changes, as the zone tables it points into do). */
struct route_cache *engine__route_cache(struct engine__ctx *ctx, const struct config *cfg);

/* ---- routing (engine_route.c) ---- */

/*
 * Matches the lead to an account with the writer's index (before scoring, so
 * that rules may test `account`); stores and records a change of account
 * (lead.account_matched). *owner is the account's owner, or NULL.
 */
bt_err engine__match_account(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                             const char *actor, struct arena *arena, const char **owner,
                             struct bt_error *err) BT_MUST_USE;

/* Whether engine__route_after_score() will route the lead (routing is on
 * and the lead is mql); it then writes the lead itself, once. */
bool engine__will_route(const struct config *cfg, const struct lead *lead);

/*
 * Called by engine__rescore() once the lead is scored, qualified and (unless it will be routed)
 * written (acts/res are what it was scored with, account_owner what engine__match_account found):
 * when routing is configured and the lead is mql, routes it (assigns it, or holds it with the
 * reason) and writes it, all in the current transaction. A lead that left mql leaves the hold
 * queue.
 */
bt_err engine__route_after_score(struct engine__ctx *ctx, const struct config *cfg,
                                 struct lead *lead, const struct activity *acts, size_t n_acts,
                                 const struct score_result *res, const char *account_owner,
                                 const char *actor, struct arena *arena,
                                 struct bt_error *err) BT_MUST_USE;
/* Tries the held leads after a change that may have made a rep eligible
 * (capacity freed, a rep back); *assigned (may be NULL) counts the assigned. */
bt_err engine__drain_after_change(struct engine__ctx *ctx, const struct config *cfg,
                                  struct arena *arena, size_t *assigned,
                                  struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_rep_status(struct engine__ctx *ctx, struct rep_status_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_time_off(struct engine__ctx *ctx, struct time_off_command *cmd,
                              struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_drain(struct engine__ctx *ctx, struct engine__drain *cmd, struct arena *arena,
                           struct bt_error *err) BT_MUST_USE;

/* ---- accounts (engine_accounts.c) ---- */

bt_err engine__apply_accounts(struct engine__ctx *ctx, struct accounts_command *cmd,
                              struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* The writer's account index and what it was built from; owned by the
 * engine (engine_start/engine_stop), used only on the writer thread. */
struct engine__accounts;
struct account_index;
struct engine__accounts *engine__accounts_new(void);
void engine__accounts_free(struct engine__accounts *s); /* NULL does nothing */

/*
 * The index of every account written so far (including by earlier commands
 * of the current transaction, and by other processes on the same database),
 * with the name threshold cfg->account_name_threshold (0, or cfg NULL:
 * ACCOUNT_NAME_THRESHOLD_DEFAULT). Costs one read of the accounts version;
 * the index is rebuilt, on the writer, only when the version or the
 * threshold changed since it was built. With no accounts the index matches
 * nothing. *out belongs to the engine and stays valid until the next call;
 * never NULL on success. On error *out is NULL and the previous index is
 * kept for the next try.
 */
bt_err engine__account_index(struct engine__ctx *ctx, const struct config *cfg,
                             const struct account_index **out, struct bt_error *err) BT_MUST_USE;

/* `v` as compact JSON text in the arena (v is released); "null" when it
 * cannot be written. For event data and records. */
const char *engine__dump(struct arena *a, json_t *v);

/* Appends an event to the lead's audit trail. */
bt_err engine__event(struct engine__ctx *ctx, int64_t lead_id, const char *type, const char *actor,
                     const char *reason, const char *data_json, struct bt_error *err) BT_MUST_USE;

#endif
