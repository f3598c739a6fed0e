/*
 * engine.c - the writer thread, its queue, and group commit.
 *
 * Submitters put a command on a FIFO and wait on the command's own
 * semaphore. The writer takes everything queued (up to group_commit_max),
 * opens one transaction, applies each command inside a savepoint, commits,
 * and only then wakes the submitters: no reply can precede durability. When
 * the commit itself fails every command of the group fails with it.
 *
 * What a command does is in the other engine_*.c files (engine_ingest.c,
 * engine_score.c, engine_route.c, engine_accounts.c), and every command that
 * changes a lead sends it down the lead path of engine_lead.c; this file
 * knows only how commands flow.
 */
#include "core/rule.h"
#include "engine/engine_internal.h"
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct engine {
    struct store *store;
    struct store_conn *conn;
    struct engine__scorer *scorer;
    struct engine__accounts *accounts; /* the account index, writer only */
    struct clock *clock;
    unsigned group_max;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct engine__command *head, *tail;
    bool stopping;
    pthread_t writer;

    struct engine_stats stats; /* under lock */
    char *node_id;
    engine_deadline_fn deadline_hook;
    void *deadline_ctx;
    engine_outbox_fn outbox_hook;
    void *outbox_ctx;
    struct rule_scratch *rules;
    struct engine__predictive *predictive; /* under lock; the writer takes a reference */
};

/* Wakes every submitter of the group; with `forced`, every command that has
 * not failed on its own (it succeeded, or never ran) fails with `why`. */
static void finish_group(struct engine__command *group, bt_err forced, const char *why)
{
    while (group) {
        struct engine__command *next = group->next;
        if (forced && !group->rc)
            group->rc = bt_fail(&group->err, forced, NULL, "%s", why);
        sem_post(&group->done);
        group = next;
    }
}

static const char *const kind_names[ENGINE_COMMAND_KINDS] = {
    [ENGINE__INGEST] = "ingest",
    [ENGINE__ACTIVITIES] = "activities",
    [ENGINE__OUTCOME] = "outcome",
    [ENGINE__RESCORE_DUE] = "rescore_due",
    [ENGINE__REP_STATUS] = "rep_status",
    [ENGINE__TIME_OFF] = "time_off",
    [ENGINE__DRAIN_HOLDS] = "drain_holds",
    [ENGINE__UPSERT_ACCOUNTS] = "upsert_accounts",
    [ENGINE__EXCLUSION] = "exclusion",
    [ENGINE__ASSIGNMENT] = "assignment",
    [ENGINE__SLA_DUE] = "sla_due",
    [ENGINE__OUTBOX_CLAIM] = "outbox_claim",
    [ENGINE__OUTBOX_REPORT] = "outbox_report",
    [ENGINE__OUTBOX_ADMIN] = "outbox_admin",
    [ENGINE__TASK_DONE] = "task_done",
};

const char *engine_command_kind_name(unsigned kind)
{
    return kind < ENGINE_COMMAND_KINDS ? kind_names[kind] : "unknown";
}

/* The committed group's decisions into the process's metrics. */
static void count_decisions(const struct engine__tally *t)
{
    for (size_t i = 0; i < METRICS_STAGES; i++)
        if (t->stages[i])
            metrics_add(&metrics.scoring_decisions[i], t->stages[i]);
    for (size_t i = 0; i < METRICS_ROUTED_N; i++)
        if (t->routed[i])
            metrics_add(&metrics.routing_decisions[i], t->routed[i]);
    for (size_t p = 0; p <= METRICS_LABELS_MAX; p++)
        for (size_t k = 0; k < METRICS_SLA_N; k++)
            if (t->breaches[p][k])
                metrics_add(&metrics.sla_breaches[p][k], t->breaches[p][k]);
}

static bool is_sweep(const struct engine__command *c)
{
    return c->kind == ENGINE__RESCORE_DUE || c->kind == ENGINE__DRAIN_HOLDS ||
           c->kind == ENGINE__SLA_DUE || c->kind == ENGINE__OUTBOX_CLAIM ||
           c->kind == ENGINE__OUTBOX_REPORT;
}

/* Adds the group's commands to the counters; under e->lock. */
static void count_group(struct engine *e, const struct engine__command *group)
{
    for (const struct engine__command *c = group; c; c = c->next) {
        if (is_sweep(c))
            e->stats.sweeps++;
        else
            e->stats.commands++;
        if ((unsigned)c->kind < ENGINE_COMMAND_KINDS)
            e->stats.by_kind[c->kind]++;
    }
}

static void apply_group_with(struct engine *e, struct engine__command *group, size_t n,
                             const struct engine__predictive *predictive);

/* A group is scored with the model active when it starts, whatever a
 * reload swaps in meanwhile. */
static void apply_group(struct engine *e, struct engine__command *group, size_t n)
{
    pthread_mutex_lock(&e->lock);
    struct engine__predictive *p = engine__predictive_ref(e->predictive);
    pthread_mutex_unlock(&e->lock);
    apply_group_with(e, group, n, p);
    engine__predictive_unref(p);
}

static void apply_group_with(struct engine *e, struct engine__command *group, size_t n,
                             const struct engine__predictive *predictive)
{
    struct bt_error err = BT_ERROR_INIT;
    int64_t started = metrics_now_ns();
    if (store_begin(e->conn, &err)) {
        log_error("engine: cannot begin a transaction: %s", err.message);
        finish_group(group, BT_ESTORE, err.message);
        return;
    }
    struct engine__ctx ctx = {.conn = e->conn,
                              .predictive = predictive,
                              .scorer = e->scorer,
                              .now = clock_now(e->clock),
                              .accounts = e->accounts,
                              .node_id = e->node_id,
                              .rules = e->rules};
    for (struct engine__command *c = group; c; c = c->next) {
        if (store_savepoint(e->conn, &c->err)) {
            c->rc = BT_ESTORE;
            continue;
        }
        struct engine__tally before = ctx.tally;
        c->rc = engine__apply(&ctx, c);
        if (c->rc && !store_in_transaction(e->conn)) {
            /* The database rolled the whole transaction back by itself (disk
             * full, I/O error): nothing of this group is written, so every
             * command in it fails, including those that had succeeded. */
            log_error("engine: the transaction was rolled back: %s", c->err.message);
            pthread_mutex_lock(&e->lock);
            count_group(e, group);
            e->stats.failed_commits++;
            pthread_mutex_unlock(&e->lock);
            finish_group(group, BT_ESTORE, "the database failed; nothing was written");
            return;
        }
        if (c->rc) {
            store_savepoint_rollback(e->conn);
            ctx.tally = before;
        }
        struct bt_error rel = BT_ERROR_INIT;
        if (store_savepoint_release(e->conn, &rel) && !c->rc)
            c->rc = bt_fail(&c->err, BT_ESTORE, NULL, "%s", rel.message);
    }
    bt_err rc = store_commit(e->conn, &err);
    pthread_mutex_lock(&e->lock);
    count_group(e, group);
    e->stats.commits++;
    if (rc)
        e->stats.failed_commits++;
    engine_deadline_fn hook = e->deadline_hook;
    void *hook_ctx = e->deadline_ctx;
    engine_outbox_fn outbox_hook = e->outbox_hook;
    void *outbox_ctx = e->outbox_ctx;
    pthread_mutex_unlock(&e->lock);
    if (rc) {
        log_error("engine: commit of %zu commands failed: %s", n, err.message);
        store_rollback(e->conn);
        finish_group(group, BT_ESTORE, "the database could not commit the change");
        return;
    }
    metrics_observe(&metrics.commit_duration, metrics_now_ns() - started);
    metrics_observe(&metrics.commit_size, (int64_t)n);
    count_decisions(&ctx.tally);
    /* Deadlines first: a submitter that pokes the timers after its reply
     * must not find them still thinking the old time. */
    for (int k = 0; k < ENGINE_DEADLINE_COUNT; k++)
        if (ctx.due[k] && hook)
            hook(hook_ctx, (enum engine_deadline)k, ctx.due[k]);
    if (ctx.outbox_due && outbox_hook)
        outbox_hook(outbox_ctx);
    finish_group(group, BT_OK, NULL);
}

static void *writer_main(void *arg)
{
    struct engine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->lock);
        while (!e->head && !e->stopping)
            pthread_cond_wait(&e->wake, &e->lock);
        if (!e->head && e->stopping) {
            pthread_mutex_unlock(&e->lock);
            break;
        }
        struct engine__command *group = e->head, *last = e->head;
        size_t n = 1;
        while (last->next && n < e->group_max) {
            last = last->next;
            n++;
        }
        e->head = last->next;
        if (!e->head)
            e->tail = NULL;
        e->stats.queue_depth -= n;
        last->next = NULL;
        pthread_mutex_unlock(&e->lock);
        apply_group(e, group, n);
    }
    return NULL;
}

bt_err engine_start(struct store *store, struct clock *clock, const struct engine_options *opts,
                    struct engine **out, struct bt_error *err)
{
    struct engine *e = xcalloc(1, sizeof(*e));
    e->store = store;
    e->clock = clock;
    e->group_max = opts && opts->group_commit_max ? opts->group_commit_max : 256;
    e->node_id = xstrdup(opts && opts->node_id ? opts->node_id : "baton");
    bt_err rc = store_conn_open(store, &e->conn, err);
    if (rc) {
        free(e->node_id);
        free(e);
        return rc;
    }
    e->scorer = engine__scorer_new();
    e->accounts = engine__accounts_new();
    e->rules = rule_scratch_new();
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    if (pthread_create(&e->writer, NULL, writer_main, e) != 0) {
        engine__scorer_free(e->scorer);
        engine__accounts_free(e->accounts);
        rule_scratch_free(e->rules);
        store_conn_close(e->conn);
        free(e->node_id);
        free(e);
        return bt_fail(err, BT_EIO, NULL, "cannot start the engine thread");
    }
    *out = e;
    return BT_OK;
}

void engine_stop(struct engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->writer, NULL);
    engine__scorer_free(e->scorer);
    engine__predictive_unref(e->predictive);
    engine__accounts_free(e->accounts);
    rule_scratch_free(e->rules);
    store_conn_close(e->conn);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->wake);
    free(e->node_id);
    free(e);
}

void engine__deadline(struct engine__ctx *ctx, enum engine_deadline kind, int64_t at)
{
    if (at > 0 && (ctx->due[kind] == 0 || at < ctx->due[kind]))
        ctx->due[kind] = at;
}

bt_err engine__claim_sweep(struct engine__ctx *ctx, const char *name, bool *got,
                           struct bt_error *err)
{
    return store_claim(ctx->conn, "sweep", name, ctx->node_id, ctx->now, ENGINE_SWEEP_LEASE_MS, got,
                       err);
}

bt_err engine__release_sweep(struct engine__ctx *ctx, const char *name, struct bt_error *err)
{
    return store_claim_release(ctx->conn, "sweep", name, ctx->node_id, err);
}

void engine_set_deadline_hook(struct engine *e, engine_deadline_fn fn, void *ctx)
{
    pthread_mutex_lock(&e->lock);
    e->deadline_hook = fn;
    e->deadline_ctx = ctx;
    pthread_mutex_unlock(&e->lock);
}

void engine_set_outbox_hook(struct engine *e, engine_outbox_fn fn, void *ctx)
{
    pthread_mutex_lock(&e->lock);
    e->outbox_hook = fn;
    e->outbox_ctx = ctx;
    pthread_mutex_unlock(&e->lock);
}

/* The configuration a command carries (NULL: it has none). */
static const struct config *config_of(const struct engine__command *c)
{
    switch (c->kind) {
    case ENGINE__INGEST:
        return c->u.ingest->cfg;
    case ENGINE__ACTIVITIES:
        return c->u.activities->cfg;
    case ENGINE__OUTCOME:
        return c->u.outcome->cfg;
    case ENGINE__RESCORE_DUE:
        return c->u.rescore_due->cfg;
    case ENGINE__REP_STATUS:
        return c->u.rep_status->cfg;
    case ENGINE__TIME_OFF:
        return c->u.time_off->cfg;
    case ENGINE__DRAIN_HOLDS:
        return c->u.drain->cfg;
    case ENGINE__UPSERT_ACCOUNTS:
    case ENGINE__OUTBOX_CLAIM:
        return NULL;
    case ENGINE__EXCLUSION:
        return c->u.exclusion->cfg;
    case ENGINE__ASSIGNMENT:
        return c->u.assignment->cfg;
    case ENGINE__SLA_DUE:
        return c->u.sla_due->cfg;
    case ENGINE__OUTBOX_REPORT:
        return c->u.outbox_report->cfg;
    case ENGINE__OUTBOX_ADMIN:
        return c->u.outbox_admin->cfg;
    case ENGINE__TASK_DONE:
        return c->u.task_done->cfg;
    }
    return NULL;
}

void engine_get_stats(struct engine *e, struct engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}

bt_err engine__apply(struct engine__ctx *ctx, struct engine__command *c)
{
    ctx->cfg = config_of(c);
    switch (c->kind) {
    case ENGINE__INGEST:
        return engine__apply_ingest(ctx, c->u.ingest, c->arena, &c->err);
    case ENGINE__ACTIVITIES:
        return engine__apply_activities(ctx, c->u.activities, c->arena, &c->err);
    case ENGINE__OUTCOME:
        return engine__apply_outcome(ctx, c->u.outcome, c->arena, &c->err);
    case ENGINE__RESCORE_DUE:
        return engine__apply_rescore_due(ctx, c->u.rescore_due, c->arena, &c->err);
    case ENGINE__REP_STATUS:
        return engine__apply_rep_status(ctx, c->u.rep_status, c->arena, &c->err);
    case ENGINE__TIME_OFF:
        return engine__apply_time_off(ctx, c->u.time_off, c->arena, &c->err);
    case ENGINE__DRAIN_HOLDS:
        return engine__apply_drain(ctx, c->u.drain, c->arena, &c->err);
    case ENGINE__UPSERT_ACCOUNTS:
        return engine__apply_accounts(ctx, c->u.accounts, c->arena, &c->err);
    case ENGINE__EXCLUSION:
        return engine__apply_exclusion(ctx, c->u.exclusion, c->arena, &c->err);
    case ENGINE__ASSIGNMENT:
        return engine__apply_assignment(ctx, c->u.assignment, c->arena, &c->err);
    case ENGINE__SLA_DUE:
        return engine__apply_sla_due(ctx, c->u.sla_due, c->arena, &c->err);
    case ENGINE__OUTBOX_CLAIM:
        return engine__apply_outbox_claim(ctx, c->u.outbox_claim, c->arena, &c->err);
    case ENGINE__OUTBOX_REPORT:
        return engine__apply_outbox_report(ctx, c->u.outbox_report, c->arena, &c->err);
    case ENGINE__OUTBOX_ADMIN:
        return engine__apply_outbox_admin(ctx, c->u.outbox_admin, c->arena, &c->err);
    case ENGINE__TASK_DONE:
        return engine__apply_task_done(ctx, c->u.task_done, c->arena, &c->err);
    }
    BT_BUG("unknown command kind %d", (int)c->kind);
}

bt_err engine__submit(struct engine *e, struct engine__command *c, struct bt_error *err)
{
    sem_init(&c->done, 0, 0);
    c->next = NULL;
    c->rc = BT_OK;
    c->err = (struct bt_error)BT_ERROR_INIT;
    pthread_mutex_lock(&e->lock);
    if (e->stopping) {
        pthread_mutex_unlock(&e->lock);
        sem_destroy(&c->done);
        return bt_fail(err, BT_EBUSY, NULL, "the server is shutting down");
    }
    if (e->tail)
        e->tail->next = c;
    else
        e->head = c;
    e->tail = c;
    e->stats.queue_depth++;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    while (sem_wait(&c->done) != 0)
        ; /* EINTR: keep waiting, the writer always posts */
    sem_destroy(&c->done);
    if (c->rc && err)
        *err = c->err;
    return c->rc;
}

bt_err engine_load_model(struct engine *e, char *version, size_t version_size, struct bt_error *err)
{
    if (version_size)
        version[0] = '\0';
    struct store_conn *c;
    bt_err rc = store_conn_open(e->store, &c, err);
    if (rc)
        return rc;
    struct engine__predictive *p = NULL;
    rc = engine__predictive_load(c, &p, err);
    store_conn_close(c);
    if (rc == BT_ESTORE)
        return rc; /* the store failed: the model in use stays */
    if (p && version_size)
        snprintf(version, version_size, "%s", engine__predictive_version(p));
    pthread_mutex_lock(&e->lock);
    struct engine__predictive *old = e->predictive;
    e->predictive = p;
    pthread_mutex_unlock(&e->lock);
    engine__predictive_unref(old);
    return rc == BT_ENOTFOUND ? BT_OK : rc;
}
