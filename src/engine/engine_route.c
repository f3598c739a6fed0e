/*
 * engine_route.c - the routing commands: reps' status and time off change,
 * a rep is excluded from a lead, and held leads are tried again.
 *
 * Routing a lead itself is a step of the lead path (engine_lead.c); these
 * commands change what routing sees and then send the leads that may now
 * find a rep down that path again: the hold queue, highest score first, or
 * the one lead a rep was excluded from.
 */
#include "config/config.h"
#include "engine/engine_internal.h"
#include "core/skill.h"
#include "store/store_models.h"
#include "store/store_routing.h"
#include "util/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_AFTER_CHANGE 1000 /* held leads tried after a rep becomes available */

/* ---- held leads ---- */

/* Which held leads a drain tries: every one, those with any wake target,
 * or those with one of `wakes`. */
struct hold_filter {
    bool every;
    bool none; /* nothing to try */
    const char *const *wakes;
    size_t n_wakes;
};

/* Tries up to `limit` held leads of the filter in queue order, after
 * *cursor when it is set, each in its own savepoint (a lead that cannot be
 * routed is logged and left held); *cursor (may be NULL) moves to the last
 * lead listed. */
static bt_err drain(struct engine__ctx *ctx, const struct config *cfg, unsigned limit,
                    const struct hold_filter *f, struct engine_hold_cursor *cursor, size_t *tried,
                    size_t *assigned, struct arena *arena, struct bt_error *err)
{
    *tried = *assigned = 0;
    if (cfg->routing.n_rules == 0 || f->none)
        return BT_OK;
    struct store_hold *holds, after;
    const struct store_hold *from = NULL;
    if (cursor && cursor->set) {
        after = (struct store_hold){
            .score = cursor->score, .since = cursor->since, .lead_id = cursor->lead_id};
        from = &after;
    }
    size_t n;
    bt_err e = f->every ? store_hold_list(ctx->conn, limit, from, arena, &holds, &n, err)
                        : store_hold_list_woken(ctx->conn, f->wakes, f->n_wakes, limit, from, arena,
                                                &holds, &n, err);
    if (e)
        return e;
    struct engine__lead_opts retry = {
        .actor = "system", .route = DECIDE_ROUTE_IF_MQL, .quiet_retry = true};
    for (size_t i = 0; i < n; i++) {
        struct arena one = ARENA_INIT;
        struct lead lead = {0};
        struct bt_error lerr = BT_ERROR_INIT;
        if ((e = store_savepoint(ctx->conn, err)))
            return e;
        bt_err rc = store_lead_get(ctx->conn, holds[i].lead_id, &one, &lead, &lerr);
        if (rc == BT_ENOTFOUND)
            rc = store_hold_remove(ctx->conn, holds[i].lead_id, &lerr);
        else if (!rc)
            rc = engine__lead_run(ctx, cfg, &lead, &retry, &one, &lerr);
        if (rc) {
            store_savepoint_rollback(ctx->conn);
            log_error("routing: cannot route held lead %lld: %s", (long long)holds[i].lead_id,
                      lerr.message);
        } else if (lead.attr[LEAD_STAGE] && strcmp(lead.attr[LEAD_STAGE], "assigned") == 0) {
            (*assigned)++;
        }
        arena_release(&one);
        if ((e = store_savepoint_release(ctx->conn, err)))
            return e;
        (*tried)++;
    }
    if (cursor && n > 0)
        *cursor = (struct engine_hold_cursor){.set = true,
                                              .score = holds[n - 1].score,
                                              .since = holds[n - 1].since,
                                              .lead_id = holds[n - 1].lead_id,
                                              .every = cursor->every,
                                              .changed_from = cursor->changed_from,
                                              .changed_to = cursor->changed_to,
                                              .deferred = cursor->deferred};
    return BT_OK;
}

/* The wake targets that a change of the reps `ids` (n of them) may help:
 * each rep itself and every pool it is a member of, each once. n 0: an
 * empty filter, nothing to try. */
static bt_err reps_wakes(const struct config *cfg, const char *const *ids, size_t n,
                         struct arena *arena, struct hold_filter *f, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    if (n == 0) {
        *f = (struct hold_filter){.none = true};
        return BT_OK;
    }
    bool *pool_in = arena_alloc(arena, (rc->n_pools ? rc->n_pools : 1) * sizeof(*pool_in));
    if (!pool_in)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    size_t pools = 0;
    for (size_t i = 0; i < n; i++) {
        long rep = routing_find_rep(rc, ids[i]);
        for (size_t p = 0; p < rc->n_pools && rep >= 0; p++)
            for (size_t m = 0; m < rc->pools[p].n_members && !pool_in[p]; m++)
                if (rc->pools[p].members[m] == (size_t)rep) {
                    pool_in[p] = true;
                    pools++;
                }
    }
    /* More targets than one list takes (a midnight that resets the caps of
     * hundreds of reps): every held lead a rep's change may help instead
     * (room is left for the "any" a timer walk adds). */
    if (n + pools >= STORE_WAKES_MAX) {
        *f = (struct hold_filter){0};
        return BT_OK;
    }
    const char **w = arena_alloc(arena, (n + pools + 1) * sizeof(*w));
    if (!w)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(w[k++] = arena_printf(arena, "rep:%s", ids[i])))
            return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    for (size_t p = 0; p < rc->n_pools; p++)
        if (pool_in[p] && !(w[k++] = arena_printf(arena, "pool:%s", rc->pools[p].id)))
            return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    *f = (struct hold_filter){.wakes = w, .n_wakes = k};
    return BT_OK;
}

/* The filter of a timer walk whose window is (from, to]: the reps whose
 * eligibility may have changed by time alone in it (a shift started, a cap
 * reset, a holiday ended) or whose `until` or time off ended in it. */
static bt_err window_wakes(struct engine__ctx *ctx, const struct config *cfg, int64_t from,
                           int64_t to, struct arena *arena, struct hold_filter *f,
                           struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    const char **freed;
    size_t n_freed;
    bt_err e = store_reps_freed(ctx->conn, from, to, arena, &freed, &n_freed, err);
    if (e)
        return e;
    size_t *timed = arena_alloc(arena, (rc->n_reps ? rc->n_reps : 1) * sizeof(*timed));
    const char **ids = arena_alloc(arena, (rc->n_reps + n_freed + 1) * sizeof(*ids));
    if (!timed || !ids)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    size_t n = routing_reps_changed(rc, from, to, timed);
    for (size_t i = 0; i < n; i++)
        ids[i] = rc->reps[timed[i]].id;
    for (size_t i = 0; i < n_freed; i++)
        ids[n++] = freed[i];
    if ((e = reps_wakes(cfg, ids, n, arena, f, err)))
        return e;
    if (!f->none && f->n_wakes == 0)
        return BT_OK; /* too many: every lead with a target, "any" included */
    /* and those marked "any" (an owner target found no owner, a re-route
     * held by its own rule): no rep's change says when they may go, so every
     * walk tries them */
    const char **w = arena_alloc(arena, (f->n_wakes + 1) * sizeof(*w));
    if (!w)
        return bt_fail(err, BT_ETOOBIG, NULL, "routing: out of memory");
    if (f->n_wakes)
        memcpy(w, f->wakes, f->n_wakes * sizeof(*w));
    w[f->n_wakes] = "any";
    *f = (struct hold_filter){.wakes = w, .n_wakes = f->n_wakes + 1};
    return BT_OK;
}

bt_err engine__drain_after_change(struct engine__ctx *ctx, const struct config *cfg,
                                  const char *rep_id, struct arena *arena, size_t *assigned,
                                  struct bt_error *err)
{
    size_t tried, n = 0;
    struct hold_filter f = {0};
    bt_err e = rep_id ? reps_wakes(cfg, &rep_id, 1, arena, &f, err) : BT_OK;
    if (!e)
        e = drain(ctx, cfg, DRAIN_AFTER_CHANGE, &f, NULL, &tried, &n, arena, err);
    if (assigned)
        *assigned = n;
    return e;
}

bt_err engine__apply_drain(struct engine__ctx *ctx, struct engine__drain *cmd, struct arena *arena,
                           struct bt_error *err)
{
    bool got;
    bt_err e = engine__claim_sweep(ctx, "holds", &got, err);
    if (e)
        return e;
    if (!got) {
        /* another node walks the queue now: nothing tried, come back soon
         * with the same cursor */
        cmd->next_change = ctx->now + ENGINE_SWEEP_RETRY_MS;
        cmd->cursor.deferred = true;
        return BT_OK;
    }
    cmd->cursor.deferred = false;
    struct hold_filter f = {.every = cmd->cursor.every};
    const struct engine_hold_cursor *cur = &cmd->cursor;
    if (!cur->every && cur->changed_to > cur->changed_from &&
        (e = window_wakes(ctx, cmd->cfg, cur->changed_from, cur->changed_to, arena, &f, err)))
        return e;
    if ((e = drain(ctx, cmd->cfg, cmd->limit, &f, &cmd->cursor, &cmd->tried, &cmd->assigned, arena,
                   err)) ||
        (e = store_rep_next_change(ctx->conn, ctx->now, &cmd->next_change, err)))
        return e;
    return engine__release_sweep(ctx, "holds", err);
}

bt_err engine_drain_holds(struct engine *e, const struct config *cfg, unsigned limit,
                          struct engine_hold_cursor *cursor, size_t *tried, size_t *assigned,
                          int64_t *next_change, struct bt_error *err)
{
    struct arena arena = ARENA_INIT;
    struct engine__drain d = {.cfg = cfg, .limit = limit};
    if (cursor)
        d.cursor = *cursor;
    else
        d.cursor.every = true;
    struct engine__command c = {.kind = ENGINE__DRAIN_HOLDS, .arena = &arena, .u.drain = &d};
    bt_err rc = engine__submit(e, &c, err);
    arena_release(&arena);
    if (cursor && !rc)
        *cursor = d.cursor;
    if (tried)
        *tried = d.tried;
    if (assigned)
        *assigned = d.assigned;
    if (next_change)
        *next_change = d.next_change;
    return rc;
}

/* ---- reps ---- */

static bt_err known_rep(const struct config *cfg, const char *rep_id, struct bt_error *err)
{
    if (routing_find_rep(&cfg->routing, rep_id) < 0)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such rep: %s", rep_id);
    return BT_OK;
}

bt_err engine__apply_rep_status(struct engine__ctx *ctx, struct rep_status_command *cmd,
                                struct arena *arena, struct bt_error *err)
{
    bt_err e = known_rep(cmd->cfg, cmd->rep_id, err);
    if (e)
        return e;
    if (cmd->until && cmd->until <= ctx->now)
        return bt_fail(err, BT_EINVAL, "until", "until must be in the future");
    struct rep_runtime before;
    if ((e = store_rep_runtime_get(ctx->conn, cmd->rep_id, ctx->now, arena, &before, err)))
        return e;
    if (cmd->until)
        engine__deadline(ctx, ENGINE_DEADLINE_HOLDS, cmd->until);
    if ((e = store_rep_status_set(ctx->conn, cmd->rep_id, cmd->status, cmd->reason, cmd->until,
                                  ctx->now, err)))
        return e;
    json_t *data = json_pack("{s:s, s:s}", "from", rep_status_name(before.status), "to",
                             rep_status_name(cmd->status));
    if (cmd->until)
        json_object_set_new(data, "until", json_integer(cmd->until));
    if ((e = engine__rep_event(ctx, arena, cmd->rep_id, "rep.status_changed", cmd->actor,
                               cmd->reason, data, err)))
        return e;
    if (cmd->status != REP_AVAILABLE)
        return BT_OK;
    return engine__drain_after_change(ctx, cmd->cfg, cmd->rep_id, arena, &cmd->assigned, err);
}

/* The checks of engine.h's time_off_command, against the command's now. */
static bt_err check_time_off(struct engine__ctx *ctx, const struct time_off_command *cmd,
                             struct bt_error *err)
{
    const int64_t day = 86400000;
    if (cmd->to <= cmd->from)
        return bt_fail(err, BT_EINVAL, "to", "time off must end after it starts");
    if (cmd->to <= ctx->now)
        return bt_fail(err, BT_EINVAL, "to",
                       "to must be in the future: time off that has ended changes nothing");
    if (cmd->to - cmd->from > TIME_OFF_DAYS_MAX * day)
        return bt_fail(err, BT_EINVAL, "to",
                       "time off may last at most %d days (this span is %lld days); add "
                       "several spans for longer leave",
                       TIME_OFF_DAYS_MAX, (long long)((cmd->to - cmd->from + day - 1) / day));
    if (cmd->from - ctx->now > TIME_OFF_AHEAD_DAYS_MAX * day)
        return bt_fail(err, BT_EINVAL, "from",
                       "from must be at most %d days (about five years) from now",
                       TIME_OFF_AHEAD_DAYS_MAX);
    int64_t same;
    bt_err e = store_time_off_find(ctx->conn, cmd->rep_id, cmd->from, cmd->to, &same, err);
    if (e)
        return e;
    if (same)
        return bt_fail(err, BT_EINVAL, "from",
                       "the same span exists: time off %lld of rep %s has this from and to",
                       (long long)same, cmd->rep_id);
    return BT_OK;
}

bt_err engine__apply_time_off(struct engine__ctx *ctx, struct time_off_command *cmd,
                              struct arena *arena, struct bt_error *err)
{
    bt_err e = known_rep(cmd->cfg, cmd->rep_id, err);
    if (e)
        return e;
    json_t *data;
    const char *type;
    if (cmd->remove) {
        if ((e = store_time_off_delete(ctx->conn, cmd->rep_id, cmd->id, err)))
            return e;
        type = "rep.time_off_removed";
        data = json_pack("{s:I}", "id", (json_int_t)cmd->id);
    } else {
        if ((e = check_time_off(ctx, cmd, err)))
            return e;
        struct store_time_off t = {
            .rep_id = cmd->rep_id,
            .from = cmd->from,
            .to = cmd->to,
            .reason = cmd->reason,
            .actor = cmd->actor,
            .created_at = ctx->now,
        };
        if ((e = store_time_off_add(ctx->conn, &t, err)))
            return e;
        engine__deadline(ctx, ENGINE_DEADLINE_HOLDS, t.to);
        cmd->id = t.id;
        type = "rep.time_off_added";
        data = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)t.id, "from", (json_int_t)t.from,
                         "to", (json_int_t)t.to);
    }
    if ((e = engine__rep_event(ctx, arena, cmd->rep_id, type, cmd->actor, cmd->reason, data, err)))
        return e;
    return engine__drain_after_change(ctx, cmd->cfg, cmd->rep_id, arena, &cmd->assigned, err);
}

bt_err engine_set_rep_status(struct engine *e, struct rep_status_command *cmd, struct arena *arena,
                             struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__REP_STATUS, .arena = arena, .u.rep_status = cmd};
    return engine__submit(e, &c, err);
}

bt_err engine_time_off(struct engine *e, struct time_off_command *cmd, struct arena *arena,
                       struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__TIME_OFF, .arena = arena, .u.time_off = cmd};
    return engine__submit(e, &c, err);
}

/* ---- exclusions ---- */

bt_err engine__apply_exclusion(struct engine__ctx *ctx, struct exclusion_command *cmd,
                               struct arena *arena, struct bt_error *err)
{
    bt_err e = known_rep(cmd->cfg, cmd->rep_id, err);
    if (e)
        return e;
    struct lead *lead = &cmd->result;
    if ((e = store_lead_get(ctx->conn, cmd->lead_id, arena, lead, err)) == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, "id", "no such lead: %lld", (long long)cmd->lead_id);
    if (e)
        return e;
    const char *reason = cmd->reason ? cmd->reason : "manual";
    if ((e = store_exclusion_add(ctx->conn, lead->id, cmd->rep_id, reason, ctx->now, err)) ||
        (e = engine__event(ctx, arena, lead->id, "lead.excluded", cmd->actor, reason,
                           json_pack("{s:s}", "rep", cmd->rep_id), err)))
        return e;
    bool owned = lead->attr[LEAD_OWNER] && !strcmp(lead->attr[LEAD_OWNER], cmd->rep_id);
    if (!cmd->reroute || !owned || decide_stage_of(lead) != STAGE_ASSIGNED)
        return BT_OK;
    cmd->rerouted = true;
    return engine__reroute(ctx, cmd->cfg, lead, "exclusion", cmd->actor, reason, NULL, arena, err);
}

bt_err engine_exclude_rep(struct engine *e, struct exclusion_command *cmd, struct arena *arena,
                          struct bt_error *err)
{
    struct engine__command c = {.kind = ENGINE__EXCLUSION, .arena = arena, .u.exclusion = cmd};
    return engine__submit(e, &c, err);
}

/* ---- best_match's skill tables ---- */

struct pool_rows {
    struct skill_outcome *rows;
    size_t n, cap;
};

struct engine__skills {
    const struct config *cfg; /* built for */
    size_t n_pools;
    char **pool_ids;
    int64_t built_at;
    struct skill_table **tables;
    bool empty; /* cfg has no best_match pool */
};

struct engine__skills *engine__skills_new(void)
{
    return xcalloc(1, sizeof(struct engine__skills));
}

static void skills_clear(struct engine__skills *s)
{
    for (size_t p = 0; p < s->n_pools; p++) {
        skill_table_free(s->tables[p]);
        free(s->pool_ids[p]);
    }
    free(s->tables);
    free(s->pool_ids);
    memset(s, 0, sizeof(*s));
}

void engine__skills_free(struct engine__skills *s)
{
    if (!s)
        return;
    skills_clear(s);
    free(s);
}

struct history_walk {
    const struct routing_config *rc;
    struct pool_rows *rows;
    struct arena *strings;
};

static bt_err history_row(void *cls, const struct store_history_row *row, struct bt_error *err)
{
    struct history_walk *w = cls;
    const char *owner = row->lead.attr[LEAD_OWNER];
    if (!owner || !*owner)
        return BT_OK; /* nobody worked it: nothing to learn about a rep */
    for (size_t p = 0; p < w->rc->n_pools; p++) {
        const struct routing_pool *pool = &w->rc->pools[p];
        if (pool->strategy != STRATEGY_BEST_MATCH)
            continue;
        char key[SKILL_SEGMENT_MAX];
        if (skill_lead_segment(&row->lead, pool->segments, pool->n_segments, key, NULL))
            key[0] = '\0';
        struct pool_rows *r = &w->rows[p];
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 1024;
            r->rows = xrealloc(r->rows, r->cap * sizeof(*r->rows));
        }
        const char *rep = arena_strdup(w->strings, owner), *seg = arena_strdup(w->strings, key);
        if (!rep || !seg)
            return bt_fail(err, BT_ETOOBIG, NULL, "the outcome history is too large");
        r->rows[r->n++] = (struct skill_outcome){
            rep, seg, row->label == 1, row->label == 1 && row->has_value ? row->value : 0};
    }
    return BT_OK;
}

static bool same_pools(const struct engine__skills *s, const struct config *cfg)
{
    const struct routing_config *rc = &cfg->routing;
    if (s->cfg != cfg || s->n_pools != rc->n_pools)
        return false;
    for (size_t p = 0; p < rc->n_pools; p++)
        if (strcmp(s->pool_ids[p], rc->pools[p].id) != 0)
            return false;
    return true;
}

static void skills_build(struct engine__ctx *ctx, const struct config *cfg)
{
    struct engine__skills *s = ctx->skills;
    const struct routing_config *rc = &cfg->routing;
    skills_clear(s);
    s->cfg = cfg;
    s->built_at = ctx->now;
    s->n_pools = rc->n_pools;
    s->empty = true;
    for (size_t p = 0; p < rc->n_pools; p++)
        s->empty &= rc->pools[p].strategy != STRATEGY_BEST_MATCH;
    s->tables = xcalloc(rc->n_pools + 1, sizeof(*s->tables));
    s->pool_ids = xcalloc(rc->n_pools + 1, sizeof(*s->pool_ids));
    for (size_t p = 0; p < rc->n_pools; p++)
        s->pool_ids[p] = xstrdup(rc->pools[p].id);
    if (s->empty)
        return;
    struct pool_rows *rows = xcalloc(rc->n_pools, sizeof(*rows));
    struct arena strings = ARENA_INIT, scratch = ARENA_INIT;
    strings.limit = (size_t)1 << 30;
    struct history_walk w = {rc, rows, &strings};
    struct bt_error err = BT_ERROR_INIT;
    bt_err e = store_history_each(ctx->conn, "converted", 0, 0, &scratch, history_row, &w, &err);
    if (e)
        log_error("routing: best_match: cannot read the outcome history: %s", err.message);
    for (size_t p = 0; !e && p < rc->n_pools; p++) {
        if (rc->pools[p].strategy != STRATEGY_BEST_MATCH)
            continue;
        if (skill_table_build(rows[p].rows, rows[p].n, NULL, &s->tables[p], &err))
            log_error("routing: best_match pool %s: %s", rc->pools[p].id, err.message);
        else
            log_info("routing: best_match pool %s: skill from %zu outcomes (k=%.1f)",
                     rc->pools[p].id, rows[p].n, skill_strength(s->tables[p]));
    }
    for (size_t p = 0; p < rc->n_pools; p++)
        free(rows[p].rows);
    free(rows);
    arena_release(&strings);
    arena_release(&scratch);
}

const struct skill_table *const *engine__skills_for(struct engine__ctx *ctx,
                                                    const struct config *cfg)
{
    struct engine__skills *s = ctx->skills;
    if (!s || !cfg)
        return NULL;
    if (!same_pools(s, cfg) || ctx->now - s->built_at >= ENGINE_SKILL_REFRESH_MS ||
        ctx->now < s->built_at)
        skills_build(ctx, cfg);
    return s->empty ? NULL : (const struct skill_table *const *)s->tables;
}
