/*
 * engine_accounts.c - the accounts command, and the account index the
 * router matches leads against.
 *
 * The index (core/account_match.h) is immutable and costly to build (about
 * 0.2 s per 100,000 accounts), so the writer keeps one across commands and
 * rebuilds it only when the accounts changed: before each use it reads the
 * store's accounts version, which every write of accounts changes in the
 * same transaction, whoever wrote them (this engine, or `baton import` in
 * another process). The rebuild runs on the writer, inside the command that
 * needs the index, reading through the writer's connection: the index then
 * also holds the accounts an earlier command of the same group wrote, and
 * if that group is rolled back the version goes back to one that differs
 * from the one the index was built at (versions are random), so the next
 * use rebuilds it again.
 */
#include "config/config.h"
#include "core/account_match.h"
#include "engine/engine_internal.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

struct engine__accounts {
    struct account_index *index; /* NULL until the first use */
    int64_t version;             /* the accounts version it was built at */
    double threshold;
    /* the last failed build, so that it is logged once, not per lead */
    bool failed;
    int64_t failed_version;
};

struct engine__accounts *engine__accounts_new(void)
{
    return xcalloc(1, sizeof(struct engine__accounts));
}

void engine__accounts_free(struct engine__accounts *s)
{
    if (!s)
        return;
    account_index_free(s->index);
    free(s);
}

/* Copies every account out of the store into an array for the index. */
struct loader {
    struct arena arena;
    struct account *list;
    size_t n, cap;
};

static bt_err load_one(void *cls, const struct store_account *sa, struct bt_error *err)
{
    struct loader *l = cls;
    if (l->n == ACCOUNT_INDEX_MAX)
        return bt_fail(err, BT_ETOOBIG, NULL,
                       "more than %d accounts: the account index cannot hold them",
                       ACCOUNT_INDEX_MAX);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->list = xrealloc(l->list, l->cap * sizeof(*l->list));
    }
    struct arena *a = &l->arena;
    struct account *out = &l->list[l->n];
    memset(out, 0, sizeof(*out));
    const char **domains = sa->n_domains ? arena_alloc(a, sa->n_domains * sizeof(*domains)) : NULL;
    if (sa->n_domains && !domains)
        return bt_fail(err, BT_ETOOBIG, NULL, "the accounts do not fit in memory");
    for (size_t i = 0; i < sa->n_domains; i++)
        if (!(domains[i] = arena_strdup(a, sa->domains[i])))
            return bt_fail(err, BT_ETOOBIG, NULL, "the accounts do not fit in memory");
    out->id = arena_strdup(a, sa->id);
    out->name = arena_strdup(a, sa->name);
    out->domains = domains;
    out->n_domains = sa->n_domains;
    out->website = arena_strdup(a, sa->website);
    out->country = arena_strdup(a, sa->country);
    out->owner = arena_strdup(a, sa->owner);
    if (!out->id || (sa->name && !out->name) || (sa->website && !out->website) ||
        (sa->country && !out->country) || (sa->owner && !out->owner))
        return bt_fail(err, BT_ETOOBIG, NULL, "the accounts do not fit in memory");
    l->n++;
    return BT_OK;
}

static bt_err build(struct engine__ctx *ctx, double threshold, struct account_index **out,
                    struct bt_error *err)
{
    struct loader l = {.arena = {.limit = (size_t)1 << 38}};
    int64_t started = time_monotonic_ms();
    bt_err e = store_account_each(ctx->conn, load_one, &l, err);
    struct account_index_options opts = {threshold};
    if (!e)
        e = account_index_new(l.list, l.n, &opts, out, err);
    if (!e && l.n > 0)
        log_info("accounts: index of %zu account%s built in %lld ms", l.n, l.n == 1 ? "" : "s",
                 (long long)(time_monotonic_ms() - started));
    free(l.list);
    arena_release(&l.arena);
    return e;
}

bt_err engine__account_index(struct engine__ctx *ctx, const struct config *cfg,
                             const struct account_index **out, struct bt_error *err)
{
    struct engine__accounts *s = ctx->accounts;
    *out = NULL;
    if (!s)
        BT_BUG("engine__account_index without account state");
    double threshold = cfg && cfg->account_name_threshold > 0 ? cfg->account_name_threshold
                                                              : ACCOUNT_NAME_THRESHOLD_DEFAULT;
    int64_t version;
    bt_err e = store_accounts_version(ctx->conn, &version, err);
    if (e)
        return e;
    if (s->index && s->version == version && s->threshold == threshold) {
        *out = s->index;
        return BT_OK;
    }
    struct account_index *fresh = NULL;
    struct bt_error why = BT_ERROR_INIT;
    if ((e = build(ctx, threshold, &fresh, &why))) {
        if (!s->failed || s->failed_version != version)
            log_error("accounts: cannot build the account index: %s", why.message);
        s->failed = true;
        s->failed_version = version;
        if (err)
            *err = why;
        return e;
    }
    account_index_free(s->index);
    s->index = fresh;
    s->version = version;
    s->threshold = threshold;
    s->failed = false;
    *out = fresh;
    return BT_OK;
}

bt_err engine__apply_accounts(struct engine__ctx *ctx, struct accounts_command *cmd,
                              struct arena *arena, struct bt_error *err)
{
    cmd->created = cmd->updated = cmd->unchanged = 0;
    cmd->outcomes = arena_alloc(arena, sizeof(*cmd->outcomes) * (cmd->n ? cmd->n : 1));
    if (!cmd->outcomes)
        return bt_fail(err, BT_ETOOBIG, NULL, "too many accounts in one request");
    bt_err e = store_account_upsert(ctx->conn, cmd->accounts, cmd->n, ctx->now, cmd->outcomes, err);
    if (e)
        return e;
    for (size_t i = 0; i < cmd->n; i++) {
        if (cmd->outcomes[i] == STORE_ACCOUNT_CREATED)
            cmd->created++;
        else if (cmd->outcomes[i] == STORE_ACCOUNT_UPDATED)
            cmd->updated++;
        else
            cmd->unchanged++;
    }
    if (cmd->created) {
        /* More than the index can hold would stop every routing decision. */
        int64_t count;
        if ((e = store_account_count(ctx->conn, &count, err)))
            return e;
        if (count > ACCOUNT_INDEX_MAX)
            return bt_fail(err, BT_ETOOBIG, "accounts", "at most %d accounts can be stored",
                           ACCOUNT_INDEX_MAX);
    }
    return BT_OK;
}

bt_err engine_upsert_accounts(struct engine *e, struct accounts_command *cmd, struct arena *arena,
                              struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__UPSERT_ACCOUNTS, .arena = arena, .u.accounts = cmd};
    return engine__submit(e, &c, err);
}
