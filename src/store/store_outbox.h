/*
 * store_outbox.h - what delivery keeps in the store: the outbox of messages
 * Baton owes someone, every attempt at sending one, the state of each
 * destination (its circuit breaker), and the follow-up tasks of reps.
 *
 * Part of the store module (store.h holds the connection and transactions);
 * writes run inside the engine's transaction, so a message commits with the
 * change that caused it. Times are ms since the epoch.
 *
 * Tables (schema v9):
 *   outbox             one row per message and channel: its stable id
 *                      (uid, "msg_..."), the event and lead it is about, the
 *                      recipient, the message context as JSON, its status
 *                      and the next instant it is due (next_attempt_at).
 *   delivery_attempts  every attempt: when, the answer's status, latency,
 *                      the verdict, the first bytes of the answer or error.
 *   delivery_channels  a channel's breaker (core/delivery.h) when it has
 *                      failed or been paused; no row: active, no failures.
 *   tasks              a rep's follow-ups ("Call Jane Doe before 10:35").
 *
 * Statuses of a row: pending (not tried yet), failed (tried, will be tried
 * again), delivered, dead (retries used up, or refused for good: the dead
 * letters), held (its channel is disabled or gone from the configuration:
 * kept until an admin replays it).
 *
 * Claims. A row is due when next_attempt_at <= now. Claiming it sets its
 * lease (lease_owner = the node, next_attempt_at = now + lease): the row is
 * then not due for anybody until the lease runs out, so that several nodes
 * on one database never send a row at the same time, and a node that dies
 * mid-send leaves the row due again when its lease ends. The outcome of an
 * attempt is written only while the reporting node still holds the lease.
 */
#ifndef BT_STORE_OUTBOX_H
#define BT_STORE_OUTBOX_H

#include "core/delivery.h"
#include "store/store.h"

#define OUTBOX_PENDING   "pending"
#define OUTBOX_FAILED    "failed"
#define OUTBOX_DELIVERED "delivered"
#define OUTBOX_DEAD      "dead"
#define OUTBOX_HELD      "held"

#define OUTBOX_UID_MAX      40  /* "msg_" + 26 characters, and room */
#define OUTBOX_RESPONSE_MAX 512 /* bytes of an answer kept with an attempt */
#define OUTBOX_ERROR_MAX    300

struct store_outbox_row {
    int64_t id;
    const char *uid;        /* stable across attempts: webhook-id, Message-ID */
    const char *channel;    /* the config's channel id */
    const char *event_type; /* as the channel matched it ("lead.mql" for a stage change) */
    int64_t event_id;       /* 0: none (a destination's own event) */
    int64_t lead_id;        /* 0: none */
    const char *recipient;  /* an address or number, or NULL (webhooks) */
    const char *payload;    /* the message context, a JSON object */
    const char *status;     /* OUTBOX_* */
    int64_t attempts;
    int64_t next_attempt_at; /* 0: not due (delivered, dead, held) */
    const char *lease_owner; /* the node holding the lease, or NULL */
    int64_t created_at, delivered_at;
    int64_t last_status;    /* the last answer's status; 0: none */
    const char *last_error; /* or NULL */
};

/* Inserts it (id set, not claimed); uid, channel, event_type, payload,
 * status and created_at are required. */
bt_err store_outbox_insert(struct store_conn *c, struct store_outbox_row *row,
                           struct bt_error *err) BT_MUST_USE;

/* BT_ENOTFOUND when there is no such row. */
bt_err store_outbox_get(struct store_conn *c, int64_t id, struct arena *a,
                        struct store_outbox_row *out, struct bt_error *err) BT_MUST_USE;

/*
 * Claims at most `limit` rows of `channel` due at `now`, earliest first,
 * for `node` until now + lease_ms (see Claims above); *rows in the arena.
 */
bt_err store_outbox_claim(struct store_conn *c, const char *channel, const char *node, int64_t now,
                          int64_t lease_ms, unsigned limit, struct arena *a,
                          struct store_outbox_row **rows, size_t *n,
                          struct bt_error *err) BT_MUST_USE;

/*
 * The earliest next_attempt_at of `channel`'s rows that are not delivered,
 * dead or held (claimed ones count at their lease's end); 0: none.
 */
bt_err store_outbox_next_due(struct store_conn *c, const char *channel, int64_t *at,
                             struct bt_error *err) BT_MUST_USE;

/* An attempt, as recorded. */
struct store_delivery_attempt {
    int64_t id;
    int64_t outbox_id;
    int64_t at;           /* when it started */
    int64_t latency_ms;   /* until the answer (or the failure) */
    int64_t status;       /* HTTP or SMTP status; 0: no answer */
    const char *verdict;  /* delivery_verdict_name() */
    const char *error;    /* what went wrong, or NULL */
    const char *response; /* the answer's first OUTBOX_RESPONSE_MAX bytes, or NULL */
    const char *node;
};

/*
 * The outcome of an attempt at row `id` by `node`: the attempt is recorded
 * and the row gets `status`, attempts + 1, next_attempt_at (0: not due),
 * delivered_at (for delivered), last_status and last_error, and loses its
 * lease. *applied false (nothing changed but the attempt's record) when
 * the node no longer holds the lease (another node took the row over).
 * Node "" records the outcome of a row nobody has claimed: the engine's
 * own, for a message that could never go (written as it is inserted).
 */
bt_err store_outbox_record(struct store_conn *c, int64_t id, const char *node,
                           const struct store_delivery_attempt *attempt, const char *status,
                           int64_t next_attempt_at, bool *applied,
                           struct bt_error *err) BT_MUST_USE;

/* The attempts of a row, oldest first, at most `limit`. */
bt_err store_delivery_attempts(struct store_conn *c, int64_t outbox_id, unsigned limit,
                               struct arena *a, struct store_delivery_attempt **out, size_t *n,
                               struct bt_error *err) BT_MUST_USE;

/* A listing: every filter may be 0/NULL (any); newest first, id < before
 * (0: from the newest), at most `limit`. */
struct store_outbox_filter {
    const char *status;
    const char *channel;
    int64_t lead_id;
    int64_t before;
};
bt_err store_outbox_list(struct store_conn *c, const struct store_outbox_filter *f, unsigned limit,
                         struct arena *a, struct store_outbox_row **rows, size_t *n,
                         struct bt_error *err) BT_MUST_USE;

/*
 * Makes row `id` due at `now` again, whatever its status but delivered
 * (an admin's retry): status pending unless it has attempts (failed),
 * lease dropped. *found false: no such row; *changed false: it was
 * delivered (nothing done).
 */
bt_err store_outbox_retry(struct store_conn *c, int64_t id, int64_t now, bool *found, bool *changed,
                          struct bt_error *err) BT_MUST_USE;

/*
 * Makes due at `now` every row created in [since, until) — of `channel`
 * when not NULL — whose status is in `statuses` (a comma-separated list of
 * OUTBOX_*, e.g. "dead,held"); *count says how many.
 */
bt_err store_outbox_replay(struct store_conn *c, int64_t since, int64_t until, const char *channel,
                           const char *statuses, int64_t now, int64_t *count,
                           struct bt_error *err) BT_MUST_USE;

/* Holds (status held, not due) every row of `channel` not delivered or dead:
 * the channel was disabled. *count says how many. */
bt_err store_outbox_hold_channel(struct store_conn *c, const char *channel, int64_t *count,
                                 struct bt_error *err) BT_MUST_USE;

/* Rows by status (OUTBOX_* order: pending, failed, delivered, dead, held)
 * for one channel or all (NULL), for /metrics; the oldest created_at of a
 * pending or failed row (0: none). Delivered rows are not counted (counts[2]
 * stays 0): they only grow, and reading them all would cost a scan;
 * baton_deliveries_total counts deliveries as they happen. */
#define OUTBOX_STATUSES 5
extern const char *const outbox_statuses[OUTBOX_STATUSES];
bt_err store_outbox_counts(struct store_conn *c, const char *channel,
                           int64_t counts[OUTBOX_STATUSES], int64_t *oldest_waiting,
                           struct bt_error *err) BT_MUST_USE;

/* A channel's breaker; *found false: none stored (active, no failures). */
struct store_delivery_channel {
    const char *id;
    struct delivery_breaker breaker;
    int64_t changed_at; /* when the state last moved; 0: never */
    const char *reason; /* why (the last error) */
};
bt_err store_delivery_channel_get(struct store_conn *c, const char *id, struct arena *a,
                                  struct store_delivery_channel *out, bool *found,
                                  struct bt_error *err) BT_MUST_USE;
bt_err store_delivery_channel_put(struct store_conn *c, const struct store_delivery_channel *ch,
                                  struct bt_error *err) BT_MUST_USE;
/* Every stored channel, by id. */
bt_err store_delivery_channel_list(struct store_conn *c, struct arena *a,
                                   struct store_delivery_channel **out, size_t *n,
                                   struct bt_error *err) BT_MUST_USE;

/* ---- tasks ---- */

struct store_task {
    int64_t id;
    int64_t lead_id;
    int64_t assignment_id; /* 0: none */
    const char *rep_id;
    const char *kind;           /* "contact" (the SLA's first contact), "meeting" */
    const char *title;          /* "Call Jane Doe (Acme) before 10:35" */
    int64_t due_at;             /* 0: none */
    int64_t starts_at, ends_at; /* a meeting's proposed slot; 0: none */
    int64_t created_at;
    int64_t done_at; /* 0: open */
    const char *done_by;
};
bt_err store_task_insert(struct store_conn *c, struct store_task *t,
                         struct bt_error *err) BT_MUST_USE;
bt_err store_task_get(struct store_conn *c, int64_t id, struct arena *a, struct store_task *out,
                      struct bt_error *err) BT_MUST_USE; /* BT_ENOTFOUND */
/* Marks it done; BT_ENOTFOUND; BT_ECONFLICT when it was done already. */
bt_err store_task_done(struct store_conn *c, int64_t id, int64_t at, const char *by,
                       struct bt_error *err) BT_MUST_USE;
/* A rep's tasks: the open ones (done false) earliest due first, or the
 * done ones newest first; at most `limit` after skipping `offset`. */
bt_err store_task_list(struct store_conn *c, const char *rep_id, bool done, unsigned offset,
                       unsigned limit, struct arena *a, struct store_task **out, size_t *n,
                       struct bt_error *err) BT_MUST_USE;
/* The rep's open meeting slots starting after `from`, for the next proposal
 * to avoid (at most `limit`, as [starts_at, ends_at) pairs into out). */
bt_err store_task_meetings(struct store_conn *c, const char *rep_id, int64_t from, unsigned limit,
                           int64_t (*out)[2], size_t *n, struct bt_error *err) BT_MUST_USE;

#endif
