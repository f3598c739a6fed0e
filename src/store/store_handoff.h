/*
 * store_handoff.h - what the handoff keeps in the store: assignments with
 * their SLA clocks, and the secrets one-click links are signed with.
 *
 * Part of the store module (store.h holds the connection and transactions);
 * writes run inside the engine's transaction. Times are ms since the epoch.
 *
 * Tables (schema v7):
 *   assignments   every offer of a lead to a rep, attempt by attempt, with
 *                 its status, its policy and clock, its deadlines and the
 *                 next instant the timers must act on it (next_due).
 *   link_secrets  HMAC keys of one-click links by generation; the highest
 *                 generation signs, every kept one verifies.
 *
 * The invariant "a lead has at most one live assignment" is a partial
 * unique index: one row per lead with closed_at NULL and a status other
 * than `offered` (the open offers of a broadcast are not live until one is
 * accepted). A second live row is BT_ECONFLICT from the database itself.
 */
#ifndef BT_STORE_HANDOFF_H
#define BT_STORE_HANDOFF_H

#include "store/store.h"

/* The statuses, as stored. */
#define ASSIGNMENT_PENDING    "pending"
#define ASSIGNMENT_OFFERED    "offered" /* a broadcast offer, not yet taken */
#define ASSIGNMENT_ACCEPTED   "accepted"
#define ASSIGNMENT_CONTACTED  "contacted"
#define ASSIGNMENT_REJECTED   "rejected"
#define ASSIGNMENT_EXPIRED    "expired"
#define ASSIGNMENT_REASSIGNED "reassigned"
#define ASSIGNMENT_WITHDRAWN  "withdrawn"

/* Every status above, in that order (store_assignment_open_counts). */
#define ASSIGNMENT_STATUSES 8
extern const char *const assignment_statuses[ASSIGNMENT_STATUSES];

/* What the timers do next on an assignment (next_kind). */
enum assignment_due {
    ASSIGNMENT_DUE_NONE,
    ASSIGNMENT_DUE_REMIND, /* the reminder number reminders_sent + 1 */
    ASSIGNMENT_DUE_ACCEPT, /* accept_by passed */
    ASSIGNMENT_DUE_CONTACT /* contact_by passed */
};

struct store_assignment {
    int64_t id;
    int64_t lead_id;
    const char *rep_id;
    const char *pool_id, *rule; /* may be NULL */
    int64_t decision_id;        /* 0: none (a manual reassignment) */
    int64_t attempt;            /* 1, 2, 3 ... for the same lead */
    const char *status;         /* ASSIGNMENT_* */
    const char *policy;         /* the SLA policy's name, NULL: no clock */
    const char *clock;          /* "wall", "business_hours", or NULL */
    const char *terms;          /* the policy's terms as JSON (sla_policy_terms), or NULL */
    int64_t assigned_at;
    int64_t accept_by;                                         /* 0: none */
    int64_t contact_by;                                        /* set on acceptance; 0: none */
    int64_t accepted_at, contacted_at, closed_at, breached_at; /* 0: not (yet) */
    const char *closed_by;    /* the actor that closed it, or NULL */
    const char *close_reason; /* a reject reason, "expired", a manager's reason ... */
    const char *note;         /* the rep's note with a rejection, or NULL */
    const char *successor;    /* where the lead went next: a rep id, "hold", "recycled", ... */
    int64_t reminders_sent;
    int64_t next_due;    /* 0: the timers have nothing to do */
    int64_t next_kind;   /* enum assignment_due */
    int64_t offer_group; /* broadcast: the id of the group's first offer; 0: direct */
};

/* Inserts it (id set); BT_ECONFLICT when the lead already has a live one. */
bt_err store_assignment_insert(struct store_conn *c, struct store_assignment *a,
                               struct bt_error *err) BT_MUST_USE;
/* Writes every field but id, lead, rep, decision and assigned_at. */
bt_err store_assignment_update(struct store_conn *c, const struct store_assignment *a,
                               struct bt_error *err) BT_MUST_USE;
/* BT_ENOTFOUND when there is no such assignment. */
bt_err store_assignment_get(struct store_conn *c, int64_t id, struct arena *a,
                            struct store_assignment *out, struct bt_error *err) BT_MUST_USE;
/* The lead's live assignment; *found false when it has none. */
bt_err store_assignment_live(struct store_conn *c, int64_t lead_id, struct arena *a, bool *found,
                             struct store_assignment *out, struct bt_error *err) BT_MUST_USE;
/* How many attempts the lead has had (the next is this + 1): its
 * assignments, a broadcast's offers counting as one. */
bt_err store_assignment_attempts(struct store_conn *c, int64_t lead_id, int64_t *count,
                                 struct bt_error *err) BT_MUST_USE;

/*
 * Lists. Each reads at most `limit` rows (1..STORE_LIST_MAX + 1) after the
 * cursor `after_id` (0: from the start).
 *   by lead    every attempt, oldest first (by id)
 *   filtered   by rep (NULL: any; or one of rep_ids when n_rep_ids > 0), by
 *              status (NULL: any; "open": pending, offered, accepted or
 *              contacted and not closed), accept_by before `due_before`
 *              (0: any); open ones most urgent first (accept_by, then id),
 *              others newest first. The cursor of an urgency order is
 *              (accept_by, id).
 */
bt_err store_assignment_list_lead(struct store_conn *c, int64_t lead_id, int64_t after_id,
                                  unsigned limit, struct arena *a, struct store_assignment **out,
                                  size_t *count, struct bt_error *err) BT_MUST_USE;

struct store_assignment_filter {
    const char *rep_id;
    const char *const *rep_ids;
    size_t n_rep_ids;
    const char *status; /* an ASSIGNMENT_* status, "open", or NULL */
    int64_t due_before; /* pending ones whose accept_by is before this; 0: any */
    /* the cursor: the last row of the previous page */
    int64_t after_id;
    int64_t after_accept_by;
    unsigned limit;
};
bt_err store_assignment_list(struct store_conn *c, const struct store_assignment_filter *f,
                             struct arena *a, struct store_assignment **out, size_t *count,
                             struct bt_error *err) BT_MUST_USE;

/* The offers of a broadcast group still open (status offered). */
bt_err store_assignment_offers(struct store_conn *c, int64_t offer_group, struct arena *a,
                               struct store_assignment **out, size_t *count,
                               struct bt_error *err) BT_MUST_USE;

/* Assignments whose next_due is at or before `now`, earliest first (then
 * by id), at most `limit`. */
bt_err store_assignment_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                            struct store_assignment **out, size_t *count,
                            struct bt_error *err) BT_MUST_USE;
/* The earliest next_due of any assignment, 0 when none. */
bt_err store_assignment_next_due(struct store_conn *c, int64_t *at,
                                 struct bt_error *err) BT_MUST_USE;

/* How many assignments the rep rejected itself (closed_by rep:ID, its key,
 * or link:ID, its one-click link) since `since`. */
bt_err store_rep_rejections_since(struct store_conn *c, const char *rep_id, int64_t since,
                                  int64_t *count, struct bt_error *err) BT_MUST_USE;
/* How many of the rep's latest closed assignments, newest first, expired
 * in a row (an accepted, rejected or contacted one ends the run). */
bt_err store_rep_expired_run(struct store_conn *c, const char *rep_id, int64_t *count,
                             struct bt_error *err) BT_MUST_USE;

/* How many open assignments (closed_at not set) there are in each status
 * of assignment_statuses (the closed statuses are 0 here). One GROUP BY
 * over the open rows, through the partial index of open assignments: its
 * cost follows the open work, not the history (/metrics). */
bt_err store_assignment_open_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                                    struct bt_error *err) BT_MUST_USE;

/* How many assignments there are in each status of assignment_statuses,
 * open or closed: a table of counts kept by triggers (schema v10), so a
 * scrape reads eight rows whatever the history. */
bt_err store_assignment_status_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                                      struct bt_error *err) BT_MUST_USE;

/* ---- link secrets ---- */

#define LINK_SECRET_BYTES 32

/* The secret of `generation` (0: the newest); *found false when there is
 * none. */
bt_err store_link_secret_get(struct store_conn *c, uint32_t generation, bool *found,
                             uint32_t *generation_out, uint8_t secret[LINK_SECRET_BYTES],
                             struct bt_error *err) BT_MUST_USE;
/* Adds a new generation (the newest + 1) with this secret; the older ones
 * stay valid for links already sent. */
bt_err store_link_secret_add(struct store_conn *c, const uint8_t secret[LINK_SECRET_BYTES],
                             int64_t now, uint32_t *generation, struct bt_error *err) BT_MUST_USE;

#endif
