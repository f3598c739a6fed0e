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
#include "core/normalize.h"
#include "core/lifecycle.h"
#include "core/routing.h"
#include "core/score.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_outbox.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdint.h>

struct engine;
struct store;
struct config;

struct engine_options {
    unsigned group_commit_max; /* commands per transaction; 0 = 256 */
    /* This node's name in claims of shared work (store_claim); NULL:
     * "baton". Unique per running process (baton serve: host:pid). */
    const char *node_id;
};

bt_err engine_start(struct store *store, struct clock *clock, const struct engine_options *opts,
                    struct engine **out, struct bt_error *err) BT_MUST_USE;
/*
 * Loads the store's active predictive model (store_models.h) and makes it the
 * one every later group scores with (at start and on every reload). No
 * active model: rules only, BT_OK, version "". A model that cannot be used
 * (BT_EINVAL: its JSON is not a model; BT_ETOOBIG; the message names it):
 * rules only too. A store error (BT_ESTORE) keeps the model in use. `version` receives the loaded
 * model's version.
 */
bt_err engine_load_model(struct engine *e, char *version, size_t version_size,
                         struct bt_error *err) BT_MUST_USE;
/* Applies the commands already queued, refuses new ones (BT_EBUSY), joins
 * the writer and frees the engine. engine_stop(NULL) does nothing. */
void engine_stop(struct engine *e);

/* Counters since start, for /metrics, the benchmark and the shutdown log.
 * Sweeps are the commands the timers submit (engine_rescore_due,
 * engine_drain_holds); `commands` counts every other one, so that an idle
 * daemon reports none. A commit may hold both. */
#define ENGINE_COMMAND_KINDS 15
struct engine_stats {
    uint64_t commands;
    uint64_t sweeps;
    uint64_t commits;
    uint64_t failed_commits;
    uint64_t by_kind[ENGINE_COMMAND_KINDS]; /* every command applied, sweeps too */
    uint64_t queue_depth;                   /* submitted, not yet taken by the writer */
};
void engine_get_stats(struct engine *e, struct engine_stats *out);
/* A command kind's name for /metrics ("ingest", "sla_due", ...), kind <
 * ENGINE_COMMAND_KINDS. */
const char *engine_command_kind_name(unsigned kind);

enum ingest_outcome {
    INGEST_CREATED,   /* a new lead */
    INGEST_REPEATED,  /* same Idempotency-Key or external_id: nothing written */
    INGEST_MERGED,    /* same email as an existing lead: changes merged into it */
    INGEST_UNCHANGED, /* same email, nothing new to merge: nothing written */
};

const char *ingest_outcome_name(enum ingest_outcome o);

struct ingest_command {
    /* in */
    const struct config *cfg;    /* scoring and qualification; NULL: the lead is not scored */
    struct lead lead;            /* normalised; id, stage, owner, times are set by the engine */
    const char *idempotency_key; /* may be NULL */
    const char *fingerprint;     /* identifies the request body, for idempotency */
    const char *actor;           /* who sent it, e.g. "key:3" */
    bool fill_only;              /* a merge may only fill what is empty (public sources) */
    /* where it came from, for the lead.created / lead.merged event */
    const char *via;                         /* "api", "form"; NULL: not said */
    const char *key_name;                    /* the sending key's name, or NULL */
    const struct normalize_report *warnings; /* what normalisation said, or NULL */
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

/*
 * Scoring. After every change to a lead (ingest, activity) the engine runs
 * it through the decision pipeline (core/decide.h) with the command's
 * config: account match, score, qualification (which may move the lead
 * between new, mql and disqualified, each move an event lead.stage_changed)
 * and, for an mql lead, routing; it stores the score with its reasons and
 * the time at which decay will next change it.
 */

struct activity_item {
    /* in: the lead by id, or else by normalised email */
    int64_t lead_id;
    const char *email;
    const char *email_domain; /* for a lead created from an unknown email */
    bool email_free;
    struct activity act; /* type, occurred_at, properties_json */
    /* out */
    int64_t result_lead_id; /* 0 when skipped */
    bool created_lead;
    bool skipped; /* it named an unknown email and skip_missing was set */
};

struct activities_command {
    const struct config *cfg;
    struct activity_item *items;
    size_t n_items;
    bool create_missing; /* an unknown email creates the lead, else BT_ENOTFOUND */
    /* without create_missing: an item naming an unknown email is skipped
     * (not recorded, no error), for sources that must not learn whether a
     * person is known */
    bool skip_missing;
    const char *actor;
    /* out: the leads touched, after rescoring, in the order first seen, and
     * how many items were skipped */
    struct lead *leads;
    size_t n_leads;
    size_t n_skipped;
};

/* Records activities and rescores their leads, all or nothing. Errors:
 * BT_ENOTFOUND naming the item ("activities[2].email") unless skip_missing. */
bt_err engine_record_activities(struct engine *e, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;

struct outcome_command {
    const struct config *cfg;
    int64_t lead_id;
    enum lead_stage to; /* sql, opportunity, won, lost or disqualified */
    bool has_value;
    double value;
    const char *currency;
    const char *reason;
    const char *actor;
    /* out */
    enum lead_stage from;
    struct lead result;
};

/* Moves the lead as the CRM reports. BT_ENOTFOUND; BT_ECONFLICT when the
 * move is not allowed (the message names the allowed ones). */
bt_err engine_record_outcome(struct engine *e, struct outcome_command *cmd, struct arena *arena,
                             struct bt_error *err) BT_MUST_USE;

/*
 * Routing (engine_route.c). When the configuration has routing rules, every
 * lead that is (or becomes) mql after a change is routed in the same
 * transaction: assigned (stage assigned, owner set, a decision record, the
 * pool's state and the rep's counts written) or held in the hold queue with
 * the reason. Held leads are tried again, highest score first, when a rep's
 * status or time off changes (in that command) and by the timer
 * (engine_drain_holds) when shifts start, caps reset or an `until` passes.
 */
struct rep_status_command {
    const struct config *cfg;
    const char *rep_id; /* a rep of cfg */
    enum rep_status status;
    const char *reason; /* may be NULL */
    int64_t until;      /* 0: none; else in the future: the status ends then */
    const char *actor;
    /* out */
    size_t assigned; /* held leads assigned because of the change */
};

bt_err engine_set_rep_status(struct engine *e, struct rep_status_command *cmd, struct arena *arena,
                             struct bt_error *err) BT_MUST_USE;

/*
 * Time off. A span added must end in the future (one that has ended would
 * change nothing), last at most TIME_OFF_DAYS_MAX days, start at most
 * TIME_OFF_AHEAD_DAYS_MAX days from now (a mistyped year such as 9027 is
 * refused, not kept for centuries) and not be an exact copy of a span the
 * rep has; each is BT_EINVAL naming the field. Longer leave is several
 * spans.
 */
#define TIME_OFF_DAYS_MAX       366
#define TIME_OFF_AHEAD_DAYS_MAX 1830 /* about five years */

struct time_off_command {
    const struct config *cfg;
    const char *rep_id;
    bool remove;      /* delete span `id` (BT_ENOTFOUND when the rep has none) */
    int64_t id;       /* remove: in; add: out */
    int64_t from, to; /* add: [from, to), from < to */
    const char *reason;
    const char *actor;
    /* out */
    size_t assigned;
};

bt_err engine_time_off(struct engine *e, struct time_off_command *cmd, struct arena *arena,
                       struct bt_error *err) BT_MUST_USE;

struct exclusion_command {
    const struct config *cfg;
    int64_t lead_id;
    const char *rep_id; /* a rep of cfg */
    const char *reason; /* why; NULL is recorded as "manual" */
    /* The lead, when this rep owns it at stage assigned, is taken back and
     * routed again (to anyone but the excluded reps). */
    bool reroute;
    const char *actor;
    /* out */
    bool rerouted;
    struct lead result; /* the lead after the command */
};

/*
 * Excludes a rep from a lead: routing never offers the lead to that rep
 * again (eligibility `excluded`); excluding twice updates the reason. Then,
 * with `reroute`, a lead that rep holds at stage assigned is taken from it
 * (no owner) and routed again (engine__reroute). A lead in any other state
 * is left as it is: an exclusion makes nobody eligible. BT_ENOTFOUND for an
 * unknown lead or rep.
 */
bt_err engine_exclude_rep(struct engine *e, struct exclusion_command *cmd, struct arena *arena,
                          struct bt_error *err) BT_MUST_USE;

/*
 * The handoff (engine_handoff.c, docs/handoff.md). Every assignment routing
 * makes is a row with its SLA policy's terms and clock: the rep accepts,
 * rejects (with a reason whose configured action follows), records the
 * first contact; a manager reassigns or withdraws it. A rep key acts only on
 * its own assignments (reassign, withdraw and reject: also on those of the
 * reps it manages, never reassign or withdraw its own); acting on one that
 * has moved on is BT_ECONFLICT saying what happened to it.
 */
enum assignment_action {
    ASSIGNMENT_ACT_ACCEPT,
    ASSIGNMENT_ACT_REJECT,
    ASSIGNMENT_ACT_CONTACTED,
    ASSIGNMENT_ACT_REASSIGN,
    ASSIGNMENT_ACT_WITHDRAW,
};

/* "accept", "reject", "contacted", "reassign", "withdraw". */
const char *assignment_action_name(enum assignment_action a);

struct assignment_command {
    const struct config *cfg;
    int64_t id;
    enum assignment_action action;
    /* The acting rep (a rep key, or a one-click link); NULL: an admin. */
    const char *as_rep;
    const char *actor;
    const char *reason; /* reject: a reason id (required); reassign, withdraw: why */
    const char *note;   /* reject: the rep's note, may be NULL */
    const char *to_rep; /* reassign: this rep; NULL: back to routing */
    /* Only while the assignment is pending (or offered): a one-click page
     * shown before an accept must not reject the accepted lead. */
    bool require_pending;
    /* out */
    struct store_assignment result; /* the assignment after the action */
    struct lead lead;               /* the lead after it */
};

/* BT_ENOTFOUND (no such assignment, or a rep acting on another's: that is
 * BT_EFORBIDDEN); BT_ECONFLICT when it is not pending (accepted, for
 * contacted) any more; BT_EINVAL for an unknown reject reason or rep;
 * BT_EFORBIDDEN past the rep's daily rejection limit. */
bt_err engine_assignment_act(struct engine *e, struct assignment_command *cmd, struct arena *arena,
                             struct bt_error *err) BT_MUST_USE;

/* Acts on the assignments whose next deadline (a reminder, accept_by,
 * contact_by) is at or before now, earliest first, at most `limit`; *ran
 * says how many, *next_due (may be NULL) when the next one is due after
 * them (0: none). Called by the timers' SLA source. With several nodes
 * one runs it at a time (a claim, like the other sweeps). */
bt_err engine_sla_due(struct engine *e, const struct config *cfg, unsigned limit, size_t *ran,
                      int64_t *next_due, struct bt_error *err) BT_MUST_USE;

/* Where a walk down the hold queue has got to (see engine_drain_holds). */
struct engine_hold_cursor {
    bool set; /* false: from the top */
    double score;
    int64_t since, lead_id;
    /* Which held leads the walk tries: false, only those that a rep's
     * change (a shift starting, a cap resetting, a status or time off
     * ending) may help, i.e. those with a wake target (decide.h's
     * hold_wakes); true, every one (after a reload: new rules or reps may
     * help any of them). Kept by the engine as the walk goes on. */
    bool every;
    /* Not every: when changed_to > changed_from, only the held leads that
     * the reps whose eligibility may have changed in (changed_from,
     * changed_to] may help: a working interval started, a cap reset or a
     * holiday ended (routing_reps_changed), or a status `until` or a time
     * off ended (store_reps_freed); none such: nothing is tried. Else
     * (both 0) every held lead with a wake target. */
    int64_t changed_from, changed_to;
    /* Out: another node is walking the queue (its claim holds); nothing was
     * tried, and the walk goes on later from this same cursor. */
    bool deferred;
};

/* Tries the held leads in queue order (highest score first), at most
 * `limit`, after *cursor when it is set (cursor may be NULL: every held
 * lead from the top); only those a rep's change may help unless
 * cursor->every;
 * *cursor moves to the last lead tried, so that repeated calls walk the whole
 * queue (fewer than `limit` tried: the walk is done). Each out pointer may be
 * NULL: how many were tried, how many found a rep, and the next instant a
 * status `until` or a time-off span starts or ends (0: none), when the queue
 * should be tried again even if nothing else happens. When another node is
 * walking the queue (its claim holds), nothing is tried and *next_change is
 * a second from now. */
bt_err engine_drain_holds(struct engine *e, const struct config *cfg, unsigned limit,
                          struct engine_hold_cursor *cursor, size_t *tried, size_t *assigned,
                          int64_t *next_change, struct bt_error *err) BT_MUST_USE;

/* Rescores leads whose decay is due at `now` (at most `limit`); *rescored
 * says how many and *next_due (may be NULL) when the next lead is due after
 * them (0: none). Called by the timers' decay source. */
bt_err engine_rescore_due(struct engine *e, const struct config *cfg, unsigned limit,
                          size_t *rescored, int64_t *next_due, struct bt_error *err) BT_MUST_USE;

/*
 * Delivery (engine_outbox.c, docs/delivery.md). Every event a command
 * records goes, in the same transaction, to the outbox of each channel of
 * the command's configuration whose `events` and `when` match it. The
 * delivery worker (deliver/) claims due rows, sends them and reports the
 * outcome; these commands are how it and the admin API change the outbox.
 */
struct outbox_claim {
    const char *channel;           /* in: a channel of the configuration */
    unsigned limit;                /* in: at most this many rows */
    struct store_outbox_row *rows; /* out, in the arena */
    size_t n;
};
/* Claims due rows for this node for lease_ms (store_outbox_claim), for
 * each channel in turn. */
bt_err engine_outbox_claim(struct engine *e, struct outbox_claim *claims, size_t n,
                           int64_t lease_ms, struct arena *arena, struct bt_error *err) BT_MUST_USE;

struct outbox_result {
    /* in */
    int64_t id;          /* the row */
    const char *channel; /* its channel */
    int64_t attempts;    /* attempts before this one */
    enum delivery_verdict verdict;
    int64_t retry_after_ms;                /* the receiver's Retry-After (429, 503); 0: none */
    struct store_delivery_attempt attempt; /* at, latency_ms, status, error, response */
    /* out */
    const char *status;      /* the row's status now (OUTBOX_*) */
    int64_t next_attempt_at; /* 0: not due */
    bool applied;            /* false: this node had lost the row's lease */
};
/*
 * Records the outcome of attempts: each row delivered, due again after the
 * configuration's retry schedule (delivery_next_attempt, Retry-After
 * honoured), dead-lettered (schedule used up, or a permanent refusal) or
 * held (410: the channel is disabled and all its waiting rows held); and
 * each channel's breaker moved. A channel that is paused, resumed or
 * disabled is announced: a warning in the log, the metric, and the event
 * delivery.channel_paused / _resumed / _disabled to the other channels that
 * subscribe to it.
 */
bt_err engine_outbox_report(struct engine *e, const struct config *cfg, struct outbox_result *r,
                            size_t n, struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* What an admin does with the outbox. */
enum outbox_admin_action {
    OUTBOX_ADMIN_RETRY,   /* row `id` due now (not a delivered one: BT_ECONFLICT) */
    OUTBOX_ADMIN_REPLAY,  /* rows created in [since, until), of `channel` or all, whose
                             status is in `statuses` ("dead,held" by default), due now */
    OUTBOX_ADMIN_ENABLE,  /* channel `channel` active again; its held rows due now */
    OUTBOX_ADMIN_DISABLE, /* channel `channel` disabled; its waiting rows held */
};
struct outbox_admin_command {
    const struct config *cfg;
    enum outbox_admin_action action;
    int64_t id;
    int64_t since, until;
    const char *channel;
    const char *statuses;
    const char *actor;
    /* out */
    int64_t count;               /* rows made due (or held) */
    struct store_outbox_row row; /* RETRY: the row after it */
};
/* BT_ENOTFOUND for an unknown row; BT_EINVAL for a channel the
 * configuration does not have; BT_ECONFLICT retrying a delivered row. */
bt_err engine_outbox_admin(struct engine *e, struct outbox_admin_command *cmd, struct arena *arena,
                           struct bt_error *err) BT_MUST_USE;

/*
 * Called after a commit that made outbox rows due now (new messages, a
 * retry, a replay), on the writer thread with no engine lock held: the
 * delivery worker wakes up instead of waiting for its next poll.
 */
typedef void (*engine_outbox_fn)(void *ctx);
void engine_set_outbox_hook(struct engine *e, engine_outbox_fn fn, void *ctx);

/*
 * Tasks: the follow-ups assignments create (store_outbox.h). Completing a
 * contact task records the first contact of its assignment (accepting it
 * first when it is still pending); a rep key completes only its own.
 */
struct task_done_command {
    const struct config *cfg;
    int64_t id;
    const char *as_rep; /* the acting rep; NULL: an admin */
    const char *actor;
    /* out */
    struct store_task result;
    bool contacted; /* the assignment's first contact was recorded */
};
/* BT_ENOTFOUND (also another rep's task); BT_ECONFLICT when done already. */
bt_err engine_task_done(struct engine *e, struct task_done_command *cmd, struct arena *arena,
                        struct bt_error *err) BT_MUST_USE;

/*
 * Deadlines that commands move. After a group commits, the engine tells the
 * hook (on the writer thread, with no engine lock held) the earliest instant
 * of each kind that the group's commands asked for:
 *   ENGINE_DEADLINE_DECAY  a lead's rescore_at was set (the decay sweep may
 *                          be due sooner than it thought)
 *   ENGINE_DEADLINE_HOLDS  a status `until` or a time-off span ends then:
 *                          the hold queue should be tried again at that time
 * The hook must be quick and must not submit commands.
 */
enum engine_deadline {
    ENGINE_DEADLINE_DECAY,
    ENGINE_DEADLINE_HOLDS,
    ENGINE_DEADLINE_SLA, /* an assignment's next deadline was set */
    ENGINE_DEADLINE_COUNT
};
typedef void (*engine_deadline_fn)(void *ctx, enum engine_deadline kind, int64_t at);
/* Sets (or, with fn NULL, removes) the hook; call while no command runs. */
void engine_set_deadline_hook(struct engine *e, engine_deadline_fn fn, void *ctx);

/*
 * Accounts: the companies leads are matched to (the CSV import writes them
 * through the store directly; the API through this command).
 */
struct accounts_command {
    /* in: accounts checked by account_input_normalize() (core/account_csv.h);
     * their created_at and updated_at are set to what is stored */
    struct store_account *accounts;
    size_t n;
    /* out: per account (an array of n in the arena), and the totals */
    enum store_account_outcome *outcomes;
    size_t created, updated, unchanged;
};

/* Inserts or replaces the accounts by id, all in one command (all or
 * nothing); the writer's account index sees them at the next routing. */
bt_err engine_upsert_accounts(struct engine *e, struct accounts_command *cmd, struct arena *arena,
                              struct bt_error *err) BT_MUST_USE;

#endif
