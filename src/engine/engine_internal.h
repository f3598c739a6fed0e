/*
 * engine_internal.h - shared inside src/engine/ only: the queued command and
 * the dispatcher that applies one command inside the open transaction.
 */
#ifndef BT_ENGINE_INTERNAL_H
#define BT_ENGINE_INTERNAL_H

#include "core/decide.h"
#include "core/lead_merge.h"
#include "engine/engine.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "util/metrics.h"

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
    ENGINE__EXCLUSION,
    ENGINE__ASSIGNMENT,
    ENGINE__SLA_DUE,
    ENGINE__OUTBOX_CLAIM,
    ENGINE__OUTBOX_REPORT,
    ENGINE__OUTBOX_ADMIN,
    ENGINE__TASK_DONE,
};
_Static_assert(ENGINE__TASK_DONE + 1 == ENGINE_COMMAND_KINDS, "ENGINE_COMMAND_KINDS");

/* What the commands of a group decided, counted into util/metrics.h only
 * once the group has committed (a command undone by its savepoint takes
 * its share back): the metrics never count what was not written. */
struct engine__tally {
    uint32_t stages[METRICS_STAGES]; /* scoring: the stage qualification left the lead at */
    uint32_t routed[METRICS_ROUTED_N];
    uint32_t breaches[METRICS_LABELS_MAX + 1][METRICS_SLA_N]; /* by policy slot */
};

struct engine__sla_due {
    const struct config *cfg;
    unsigned limit;
    size_t ran;
    int64_t next_due;
};

struct engine__rescore_due {
    const struct config *cfg;
    unsigned limit;
    size_t rescored;
    int64_t next_due;
};

struct engine__outbox_claim {
    struct outbox_claim *claims;
    size_t n;
    int64_t lease_ms;
};

struct engine__outbox_report {
    const struct config *cfg;
    struct outbox_result *results;
    size_t n;
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
        struct exclusion_command *exclusion;
        struct assignment_command *assignment;
        struct engine__sla_due *sla_due;
        struct engine__outbox_claim *outbox_claim;
        struct engine__outbox_report *outbox_report;
        struct outbox_admin_command *outbox_admin;
        struct task_done_command *task_done;
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

/* The writer's decision scratch, kept for the configuration in use. */
struct engine__scorer;
struct engine__scorer *engine__scorer_new(void);
void engine__scorer_free(struct engine__scorer *s);

/* Everything a command needs while it runs on the writer. */
/* engine_predict.c: the active predictive model, loaded once and shared by
 * reference (the writer holds one for each group). */
struct engine__predictive;
/* The active model of the store, parsed and prepared; BT_ENOTFOUND when none
 * is active, BT_EINVAL (naming the model) when its JSON is not a model. */
bt_err engine__predictive_load(struct store_conn *c, struct engine__predictive **out,
                               struct bt_error *err) BT_MUST_USE;
struct engine__predictive *engine__predictive_ref(struct engine__predictive *p); /* NULL: NULL */
void engine__predictive_unref(struct engine__predictive *p);                     /* NULL: nothing */
const char *engine__predictive_version(const struct engine__predictive *p);
/* Points `model` at p (NULL, or predictive.enabled false: leaves it rules-only). */
struct config;
void engine__predictive_use(const struct engine__predictive *p, const struct config *cfg,
                            struct decide_model *model);

struct engine__ctx {
    struct store_conn *conn;
    const struct engine__predictive *predictive; /* the group's model, or NULL */
    struct engine__scorer *scorer;
    int64_t now;
    struct engine__accounts *accounts;  /* the account index, kept across commands */
    struct engine__skills *skills;      /* best_match's skill tables, kept across commands */
    const char *node_id;                /* the holder of this node's claims */
    int64_t due[ENGINE_DEADLINE_COUNT]; /* deadlines the group asked for (0: none) */
    struct engine__tally tally;         /* decisions, for the metrics after the commit */
    /* The running command's configuration (NULL: a command without one):
     * which channels its events go to. */
    const struct config *cfg;
    struct rule_scratch *rules; /* the writer's, for channels' `when` */
    bool outbox_due;            /* the group made outbox rows due now */
    /* The meeting the last assignment proposed (engine__task_for), for the
     * messages of its lead.assigned. */
    struct {
        int64_t assignment_id, task_id, start, end;
    } meeting;
};

/*
 * Sweeps (the decay sweep, a walk of the hold queue) claim their work for
 * the command's transaction, so that with several nodes on one database one
 * sweeps at a time; the claim is released before the commit, and a crash
 * rolls it back. *got false: another node holds it (try again in
 * ENGINE_SWEEP_RETRY_MS).
 */
/*
 * best_match's skill tables (engine_route.c): one per best_match pool of the
 * configuration, built from the outcome history (store_history_each, target
 * converted: the rep is the lead's owner, the segment the lead's values of
 * the pool's segment fields) when first needed, again when the
 * configuration changes, and again once ENGINE_SKILL_REFRESH_MS has passed.
 * engine__skills_for returns the tables for cfg's pools (entries NULL for
 * the other pools), or NULL when cfg has no best_match pool; valid until the
 * next call. A history that cannot be read is logged and leaves no table
 * (the pool then decides by its fairness bound alone).
 */
#define ENGINE_SKILL_REFRESH_MS (60 * 60 * 1000)
struct engine__skills;
struct engine__skills *engine__skills_new(void);
void engine__skills_free(struct engine__skills *s);
const struct skill_table *const *engine__skills_for(struct engine__ctx *ctx,
                                                    const struct config *cfg);

#define ENGINE_SWEEP_LEASE_MS 30000
#define ENGINE_SWEEP_RETRY_MS 1000
bt_err engine__claim_sweep(struct engine__ctx *ctx, const char *name, bool *got,
                           struct bt_error *err) BT_MUST_USE;
bt_err engine__release_sweep(struct engine__ctx *ctx, const char *name,
                             struct bt_error *err) BT_MUST_USE;

/* A command asks for a deadline of `kind` at `at` (the earliest asked in a
 * group reaches the hook once the group commits). */
void engine__deadline(struct engine__ctx *ctx, enum engine_deadline kind, int64_t at);

bt_err engine__apply(struct engine__ctx *ctx, struct engine__command *c) BT_MUST_USE;

bt_err engine__apply_ingest(struct engine__ctx *ctx, struct ingest_command *cmd,
                            struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_activities(struct engine__ctx *ctx, struct activities_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_outcome(struct engine__ctx *ctx, struct outcome_command *cmd,
                             struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_rescore_due(struct engine__ctx *ctx, struct engine__rescore_due *cmd,
                                 struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* ---- the lead path (engine_lead.c) ---- */

struct engine__lead_opts {
    const char *actor;       /* who caused it, for the events */
    enum decide_route route; /* DECIDE_ROUTE_IF_MQL; ALWAYS for a lead routed again */
    /* The hold queue's retry: a lead held again for the same reason, with
     * the same score and stage, writes nothing. */
    bool quiet_retry;
    /* Route by this one rule instead of the configuration's (an SLA's
     * after_max_attempts target); NULL: the configuration's rules. */
    const struct routing_rule *only_rule;
    /* The attempt's SLA terms when they are carried over (a lead routed
     * again keeps its policy's chain); NULL: the policy routing selects. */
    const char *terms;
};

/*
 * One lead through the pipeline, in the current transaction (see
 * engine_lead.c): its activities and the account index are loaded,
 * decide_lead() runs (the state routing asks for is read from the store),
 * and the outcome is written with its events: the lead (account, score,
 * stage), and when it was routed the assignment or the hold. `lead` is
 * updated in place to what is stored. With route DECIDE_ROUTE_ALWAYS the
 * lead is routed whatever qualification says and keeps its stage.
 */
bt_err engine__lead_run(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                        const struct engine__lead_opts *o, struct arena *arena,
                        struct bt_error *err) BT_MUST_USE;

/*
 * The route step for a lead taken back (rejected, expired, reassigned, a
 * rep excluded): an assigned or accepted lead goes back to mql without an
 * owner (lead.stage_changed with `via` and the rep it was taken from), its
 * live assignment, if still open, is closed as reassigned, then it is
 * routed again whatever its score, excluding every rep in its exclusions
 * (with o->only_rule: by that rule). BT_ECONFLICT for a lead at any other
 * stage. o may be NULL.
 */
bt_err engine__reroute(struct engine__ctx *ctx, const struct config *cfg, struct lead *lead,
                       const char *via, const char *actor, const char *reason,
                       const struct engine__lead_opts *o, struct arena *arena,
                       struct bt_error *err) BT_MUST_USE;

/* ---- the handoff (engine_handoff.c) ---- */

/*
 * The assignment routing just made (the lead is already assigned to
 * `rep_id`): attempt number, the SLA policy's terms (o_terms when carried
 * over, else the decision's policy), accept_by and the first deadline the
 * timers will act on. *out is what was stored.
 */
bt_err engine__assignment_open(struct engine__ctx *ctx, const struct config *cfg,
                               const struct lead *lead, const struct decide_result *r,
                               int64_t decision_id, const char *o_terms, struct arena *arena,
                               struct store_assignment *out, struct bt_error *err) BT_MUST_USE;
/* Closes the lead's live assignment, if any: with `status` (NULL: it keeps
 * its own, e.g. accepted for a lead won), the actor and reason. */
bt_err engine__assignment_close_live(struct engine__ctx *ctx, int64_t lead_id, const char *status,
                                     const char *actor, const char *reason, struct arena *arena,
                                     struct bt_error *err) BT_MUST_USE;
/* After an outcome: the first contact when the CRM reports progress on an
 * accepted lead, the assignment closed when the lead is won, lost or
 * disqualified. */
bt_err engine__assignment_outcome(struct engine__ctx *ctx, int64_t lead_id, enum lead_stage to,
                                  const char *actor, struct arena *arena,
                                  struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_assignment(struct engine__ctx *ctx, struct assignment_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_sla_due(struct engine__ctx *ctx, struct engine__sla_due *cmd,
                             struct arena *arena, struct bt_error *err) BT_MUST_USE;

/* ---- routing commands (engine_route.c) ---- */

/* Tries the held leads after a change that may have made rep `rep_id`
 * eligible (capacity freed, the rep back): those it may help (the rep's own
 * and its pools' wake targets; rep_id NULL: every held lead with a wake
 * target), highest score first, at most 1000; *assigned (may be NULL)
 * counts the assigned. */
bt_err engine__drain_after_change(struct engine__ctx *ctx, const struct config *cfg,
                                  const char *rep_id, struct arena *arena, size_t *assigned,
                                  struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_rep_status(struct engine__ctx *ctx, struct rep_status_command *cmd,
                                struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_time_off(struct engine__ctx *ctx, struct time_off_command *cmd,
                              struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_drain(struct engine__ctx *ctx, struct engine__drain *cmd, struct arena *arena,
                           struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_exclusion(struct engine__ctx *ctx, struct exclusion_command *cmd,
                               struct arena *arena, struct bt_error *err) BT_MUST_USE;

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

/* ---- events (engine_events.c) ---- */

/* `v` as compact JSON text in the arena (v is released); "null" when it
 * cannot be written. */
const char *engine__dump(struct arena *a, json_t *v);

/* Appends an event to the lead's audit trail; `data` (an object, may be
 * NULL: {}) is taken over and serialised once. */
bt_err engine__event(struct engine__ctx *ctx, struct arena *arena, int64_t lead_id,
                     const char *type, const char *actor, const char *reason, json_t *data,
                     struct bt_error *err) BT_MUST_USE;
/* The same for a rep's audit trail. */
bt_err engine__rep_event(struct engine__ctx *ctx, struct arena *arena, const char *rep_id,
                         const char *type, const char *actor, const char *reason, json_t *data,
                         struct bt_error *err) BT_MUST_USE;

/* {"from", "to", "via"}: the data of every lead.stage_changed. */
json_t *engine__stage_data(enum lead_stage from, enum lead_stage to, const char *via);
/* lead.created / lead.merged data: where the lead came from (cmd may be
 * NULL), and a merge's changes (merge may be NULL). */
json_t *engine__intake_data(const struct ingest_command *cmd,
                            const struct lead_merge_result *merge);

bt_err engine__event_qualified(struct engine__ctx *ctx, struct arena *arena,
                               const struct lead *lead, const struct decide_result *r,
                               const char *actor, struct bt_error *err) BT_MUST_USE;
bt_err engine__event_account(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                             const struct decide_result *r, const char *actor,
                             struct bt_error *err) BT_MUST_USE;
bt_err engine__event_assigned(struct engine__ctx *ctx, struct arena *arena,
                              const struct config *cfg, const struct lead *lead,
                              const struct decide_result *r, int64_t decision_id,
                              const struct store_assignment *a, enum lead_stage from,
                              const char *previous_owner, const char *actor,
                              struct bt_error *err) BT_MUST_USE;
/* {"assignment", "attempt", "policy", "accept_by"} added to `data`. */
void engine__assignment_fields(json_t *data, const struct store_assignment *a);

/* ---- the outbox (engine_outbox.c) ---- */

/*
 * After event `ev` (its id set) about lead ev->lead_id (0: none) was
 * appended, with `data` its data (borrowed): an outbox row for every
 * channel of ctx->cfg that subscribes to it and whose `when` holds for the
 * lead. Does nothing without channels.
 */
bt_err engine__outbox_event(struct engine__ctx *ctx, struct arena *arena,
                            const struct lead_event *ev, json_t *data,
                            struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_outbox_claim(struct engine__ctx *ctx, struct engine__outbox_claim *cmd,
                                  struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_outbox_report(struct engine__ctx *ctx, struct engine__outbox_report *cmd,
                                   struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_outbox_admin(struct engine__ctx *ctx, struct outbox_admin_command *cmd,
                                  struct arena *arena, struct bt_error *err) BT_MUST_USE;
bt_err engine__apply_task_done(struct engine__ctx *ctx, struct task_done_command *cmd,
                               struct arena *arena, struct bt_error *err) BT_MUST_USE;
/* The contact task of a new assignment ("Call Jane Doe (Acme) before
 * 10:35", due at its accept_by), when the configuration has channels or
 * the assignment has a clock. */
bt_err engine__task_for(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                        const struct store_assignment *a, struct bt_error *err) BT_MUST_USE;
bt_err engine__event_held(struct engine__ctx *ctx, struct arena *arena, const struct lead *lead,
                          const struct decide_result *r, int64_t decision_id, const char *actor,
                          struct bt_error *err) BT_MUST_USE;

#endif
