/*
 * store_routing.h - what routing keeps in the store: reps' runtime state,
 * time off, pool state, decisions, assignments, the hold queue, exclusions
 * and a lead's account.
 *
 * Part of the store module (store.h holds the connection, transactions and
 * leads); every call runs on a connection from store.h and, for writes,
 * inside the engine's transaction. Times are ms since the epoch, UTC.
 *
 * Tables (schema v3):
 *   rep_state      one row per rep that was ever touched: status, reason,
 *                  until, and the assignment counts of its current local day
 *                  and week (the day/week they are for is stored with them,
 *                  so a count from yesterday reads as 0 today).
 *   rep_time_off   spans [from, to) per rep.
 *   rep_events     the audit of rep changes (status, time off), with actor.
 *   pool_state     a pool's strategy state as JSON (core/routing_json.h).
 *   decisions      every routing decision, its record as JSON.
 *   assignments    (store_handoff.h) every assignment of a lead to a rep.
 *   holds          leads waiting for an eligible rep, with the reason.
 *   lead_exclusions reps that may not get a lead again (rejected, expired).
 * A rep's open assignments (leads it owns at stage assigned or accepted) are
 * kept in rep_open by triggers on leads (schema v5), whoever changes a lead.
 *
 * Serialisation (docs/architecture.md, "the writer model"): a read of a
 * pool's state or of a rep's runtime inside a write transaction holds that
 * row until the commit, so that two decisions on the same pool or rep, on
 * any number of nodes, happen one after the other. SQLite gets this from its
 * write lock (BEGIN IMMEDIATE); a server backend locks the rows it reads
 * (SELECT ... FOR UPDATE).
 */
#ifndef BT_STORE_ROUTING_H
#define BT_STORE_ROUTING_H

#include "core/routing.h"
#include "store/store.h"

/* ---- reps ---- */

/*
 * The runtime state of `rep_id` at `now`: status (a rep never touched is
 * available), counts, open assignments, and the time off that has not ended
 * by `now` (spans in the arena). Never BT_ENOTFOUND.
 */
bt_err store_rep_runtime_get(struct store_conn *c, const char *rep_id, int64_t now, struct arena *a,
                             struct rep_runtime *out, struct bt_error *err) BT_MUST_USE;

bt_err store_rep_status_set(struct store_conn *c, const char *rep_id, enum rep_status status,
                            const char *reason, int64_t until, int64_t now,
                            struct bt_error *err) BT_MUST_USE;

/* Stores the counts of the rep's current day and week (after an assignment). */
bt_err store_rep_counts_set(struct store_conn *c, const char *rep_id, int64_t day_start,
                            int64_t day_count, int64_t week_start, int64_t week_count, int64_t now,
                            struct bt_error *err) BT_MUST_USE;

struct store_time_off {
    int64_t id;
    const char *rep_id;
    int64_t from, to;
    const char *reason; /* or NULL */
    const char *actor;
    int64_t created_at;
};

bt_err store_time_off_add(struct store_conn *c, struct store_time_off *t,
                          struct bt_error *err) BT_MUST_USE; /* sets t->id */
/* BT_ENOTFOUND when the rep has no such span. */
bt_err store_time_off_delete(struct store_conn *c, const char *rep_id, int64_t id,
                             struct bt_error *err) BT_MUST_USE;
/* The id of the rep's span from `from` to exactly `to`, in *id; 0 when the
 * rep has none. */
bt_err store_time_off_find(struct store_conn *c, const char *rep_id, int64_t from, int64_t to,
                           int64_t *id, struct bt_error *err) BT_MUST_USE;
/* Spans of the rep that end after `after` (0: all), by start; at most 1000. */
bt_err store_time_off_list(struct store_conn *c, const char *rep_id, int64_t after, struct arena *a,
                           struct store_time_off **out, size_t *count,
                           struct bt_error *err) BT_MUST_USE;

bt_err store_rep_event_append(struct store_conn *c, const char *rep_id, const char *type,
                              const char *actor, const char *reason, const char *data_json,
                              int64_t at, struct bt_error *err) BT_MUST_USE;

/* The reps (ids in the arena, at most 10,000) whose status `until` or a
 * time-off span ended in (from, to]: who may have become eligible then. */
bt_err store_reps_freed(struct store_conn *c, int64_t from, int64_t to, struct arena *a,
                        const char ***ids, size_t *count, struct bt_error *err) BT_MUST_USE;
/* The earliest instant after `now` at which a status `until` or a time-off
 * span ends (someone may become eligible then), or 0 when none. */
bt_err store_rep_next_change(struct store_conn *c, int64_t now, int64_t *out,
                             struct bt_error *err) BT_MUST_USE;

/* ---- pools ---- */

/* The stored JSON state of the pool, *json NULL when it never decided. */
bt_err store_pool_state_get(struct store_conn *c, const char *pool_id, struct arena *a,
                            const char **json, struct bt_error *err) BT_MUST_USE;
bt_err store_pool_state_put(struct store_conn *c, const char *pool_id, const char *json,
                            int64_t now, struct bt_error *err) BT_MUST_USE;

/* ---- decisions (assignments: store_handoff.h) ---- */

struct store_decision {
    int64_t id;
    int64_t lead_id;
    const char *result; /* "assigned", "held" */
    const char *rep_id, *pool_id, *rule;
    const char *config_version;
    const char *record; /* JSON */
    int64_t at;
};

bt_err store_decision_insert(struct store_conn *c, struct store_decision *d,
                             struct bt_error *err) BT_MUST_USE; /* sets d->id */
/* Keeps what decision records need of configuration `version`
 * (route_record_context's JSON text; a version already kept is left as it
 * is: the version is the hash of the configuration's text). */
bt_err store_config_version_put(struct store_conn *c, const char *version, const char *text,
                                size_t len, int64_t at, struct bt_error *err) BT_MUST_USE;
/* What was kept of configuration `version` (in the arena, NUL-terminated);
 * BT_ENOTFOUND when it was never kept. */
bt_err store_config_version_get(struct store_conn *c, const char *version, struct arena *a,
                                const char **text, size_t *len, struct bt_error *err) BT_MUST_USE;

/* The lead's latest decision; BT_ENOTFOUND when it was never routed. */
bt_err store_decision_latest(struct store_conn *c, int64_t lead_id, struct arena *a,
                             struct store_decision *out, struct bt_error *err) BT_MUST_USE;

/* ---- the hold queue ---- */

struct store_hold {
    int64_t lead_id;
    const char *reason;
    const char *rule, *pool_id, *rep_id; /* may be NULL */
    double score;
    int64_t since; /* kept when a held lead is held again */
    int64_t decision_id;
    /* What may help it (decide.h's hold_wakes: "pool:ID", "rep:ID", "any"):
     * written by store_hold_put, replacing the lead's earlier ones (the
     * lists below filter on them). */
    const char *const *wakes;
    size_t n_wakes;
    /* Read back by store_hold_get only: the stored targets in byte order,
     * joined by single spaces (NULL: none). */
    const char *wake_list;
};

bt_err store_hold_put(struct store_conn *c, const struct store_hold *h,
                      struct bt_error *err) BT_MUST_USE;
/* Removes the lead from the queue; not an error when it was not there. */
bt_err store_hold_remove(struct store_conn *c, int64_t lead_id, struct bt_error *err) BT_MUST_USE;
/* Held leads in the order they are tried: highest score first, then the
 * longest waiting, then the oldest lead; at most `limit` (1..STORE_LIST_MAX),
 * starting after `after` (NULL: from the top; else the last hold of the
 * previous page: its score, since and lead_id), so that a walk down a long
 * queue neither repeats nor skips a lead while others come and go. */
bt_err store_hold_list(struct store_conn *c, unsigned limit, const struct store_hold *after,
                       struct arena *a, struct store_hold **out, size_t *count,
                       struct bt_error *err) BT_MUST_USE;
/* The same walk over only the held leads that a change may help: those
 * with one of `wakes` among their wake targets, or, with n_wakes 0, those
 * with any wake target at all (a lead held by a hold rule or matched by no
 * rule has none: only a change of the lead, which routes it again, or a
 * reload, which walks the whole queue, can help it). At most
 * STORE_WAKES_MAX targets. */
#define STORE_WAKES_MAX 256
bt_err store_hold_list_woken(struct store_conn *c, const char *const *wakes, size_t n_wakes,
                             unsigned limit, const struct store_hold *after, struct arena *a,
                             struct store_hold **out, size_t *count,
                             struct bt_error *err) BT_MUST_USE;
bt_err store_hold_count(struct store_conn *c, int64_t *count, struct bt_error *err) BT_MUST_USE;
/* The queue's length and the earliest `since` among its leads (0 when it is
 * empty), in one scan of the hold queue (/metrics: the queue is the leads
 * waiting now, not the history). */
bt_err store_hold_summary(struct store_conn *c, int64_t *count, int64_t *oldest_since,
                          struct bt_error *err) BT_MUST_USE;
/* Whether the lead is held (*h filled when it is and h is not NULL). */
bt_err store_hold_get(struct store_conn *c, int64_t lead_id, struct arena *a, bool *held,
                      struct store_hold *h, struct bt_error *err) BT_MUST_USE;

/* ---- exclusions and accounts of leads ---- */

struct store_exclusion {
    const char *rep_id;
    const char *reason;
    int64_t at;
};

/* Excludes the rep from the lead; again for the same rep: the reason and
 * time are replaced. */
bt_err store_exclusion_add(struct store_conn *c, int64_t lead_id, const char *rep_id,
                           const char *reason, int64_t at, struct bt_error *err) BT_MUST_USE;
/* The lead's exclusions by rep id, at most 1000 (array in the arena). */
bt_err store_exclusion_list(struct store_conn *c, int64_t lead_id, struct arena *a,
                            struct store_exclusion **out, size_t *count,
                            struct bt_error *err) BT_MUST_USE;

/* Sets (or clears, with NULLs) the lead's account and how it matched. */
bt_err store_lead_set_account(struct store_conn *c, int64_t lead_id, const char *account_id,
                              const char *match_json, struct bt_error *err) BT_MUST_USE;

#endif
