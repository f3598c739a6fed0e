/*
 * store_routing.c - forwards store_routing.h to the connection's backend.
 */
#include "store/store_backend.h"

bt_err store_rep_runtime_get(struct store_conn *c, const char *rep_id, int64_t now, struct arena *a,
                             struct rep_runtime *out, struct bt_error *err)
{
    return c->ops->routing->rep_runtime_get(c, rep_id, now, a, out, err);
}

bt_err store_rep_status_set(struct store_conn *c, const char *rep_id, enum rep_status status,
                            const char *reason, int64_t until, int64_t now, struct bt_error *err)
{
    return c->ops->routing->rep_status_set(c, rep_id, status, reason, until, now, err);
}

bt_err store_rep_counts_set(struct store_conn *c, const char *rep_id, int64_t day_start,
                            int64_t day_count, int64_t week_start, int64_t week_count, int64_t now,
                            struct bt_error *err)
{
    return c->ops->routing->rep_counts_set(c, rep_id, day_start, day_count, week_start, week_count,
                                           now, err);
}

bt_err store_time_off_add(struct store_conn *c, struct store_time_off *t, struct bt_error *err)
{
    return c->ops->routing->time_off_add(c, t, err);
}

bt_err store_time_off_delete(struct store_conn *c, const char *rep_id, int64_t id,
                             struct bt_error *err)
{
    return c->ops->routing->time_off_delete(c, rep_id, id, err);
}

bt_err store_time_off_find(struct store_conn *c, const char *rep_id, int64_t from, int64_t to,
                           int64_t *id, struct bt_error *err)
{
    return c->ops->routing->time_off_find(c, rep_id, from, to, id, err);
}

bt_err store_time_off_list(struct store_conn *c, const char *rep_id, int64_t after, struct arena *a,
                           struct store_time_off **out, size_t *count, struct bt_error *err)
{
    return c->ops->routing->time_off_list(c, rep_id, after, a, out, count, err);
}

bt_err store_rep_event_append(struct store_conn *c, const char *rep_id, const char *type,
                              const char *actor, const char *reason, const char *data_json,
                              int64_t at, struct bt_error *err)
{
    return c->ops->routing->rep_event_append(c, rep_id, type, actor, reason, data_json, at, err);
}

bt_err store_reps_freed(struct store_conn *c, int64_t from, int64_t to, struct arena *a,
                        const char ***ids, size_t *count, struct bt_error *err)
{
    return c->ops->routing->reps_freed(c, from, to, a, ids, count, err);
}

bt_err store_rep_next_change(struct store_conn *c, int64_t now, int64_t *out, struct bt_error *err)
{
    return c->ops->routing->rep_next_change(c, now, out, err);
}

bt_err store_pool_state_get(struct store_conn *c, const char *pool_id, struct arena *a,
                            const char **json, struct bt_error *err)
{
    return c->ops->routing->pool_state_get(c, pool_id, a, json, err);
}

bt_err store_pool_state_put(struct store_conn *c, const char *pool_id, const char *json,
                            int64_t now, struct bt_error *err)
{
    return c->ops->routing->pool_state_put(c, pool_id, json, now, err);
}

bt_err store_decision_insert(struct store_conn *c, struct store_decision *d, struct bt_error *err)
{
    return c->ops->routing->decision_insert(c, d, err);
}

bt_err store_decision_latest(struct store_conn *c, int64_t lead_id, struct arena *a,
                             struct store_decision *out, struct bt_error *err)
{
    return c->ops->routing->decision_latest(c, lead_id, a, out, err);
}

bt_err store_config_version_put(struct store_conn *c, const char *version, const char *text,
                                size_t len, int64_t at, struct bt_error *err)
{
    return c->ops->routing->config_version_put(c, version, text, len, at, err);
}

bt_err store_config_version_get(struct store_conn *c, const char *version, struct arena *a,
                                const char **text, size_t *len, struct bt_error *err)
{
    return c->ops->routing->config_version_get(c, version, a, text, len, err);
}

bt_err store_hold_put(struct store_conn *c, const struct store_hold *h, struct bt_error *err)
{
    return c->ops->routing->hold_put(c, h, err);
}

bt_err store_hold_remove(struct store_conn *c, int64_t lead_id, struct bt_error *err)
{
    return c->ops->routing->hold_remove(c, lead_id, err);
}

bt_err store_hold_list(struct store_conn *c, unsigned limit, const struct store_hold *after,
                       struct arena *a, struct store_hold **out, size_t *count,
                       struct bt_error *err)
{
    return c->ops->routing->hold_list(c, limit, after, a, out, count, err);
}

bt_err store_hold_list_woken(struct store_conn *c, const char *const *wakes, size_t n_wakes,
                             unsigned limit, const struct store_hold *after, struct arena *a,
                             struct store_hold **out, size_t *count, struct bt_error *err)
{
    if (n_wakes > STORE_WAKES_MAX)
        return bt_fail(err, BT_EINVAL, NULL, "at most %d wake targets", STORE_WAKES_MAX);
    return c->ops->routing->hold_list_woken(c, wakes, n_wakes, limit, after, a, out, count, err);
}

bt_err store_hold_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    return c->ops->routing->hold_count(c, count, err);
}

bt_err store_hold_get(struct store_conn *c, int64_t lead_id, struct arena *a, bool *held,
                      struct store_hold *h, struct bt_error *err)
{
    return c->ops->routing->hold_get(c, lead_id, a, held, h, err);
}

bt_err store_exclusion_add(struct store_conn *c, int64_t lead_id, const char *rep_id,
                           const char *reason, int64_t at, struct bt_error *err)
{
    return c->ops->routing->exclusion_add(c, lead_id, rep_id, reason, at, err);
}

bt_err store_exclusion_list(struct store_conn *c, int64_t lead_id, struct arena *a,
                            struct store_exclusion **out, size_t *count, struct bt_error *err)
{
    return c->ops->routing->exclusion_list(c, lead_id, a, out, count, err);
}

bt_err store_lead_set_account(struct store_conn *c, int64_t lead_id, const char *account_id,
                              const char *match_json, struct bt_error *err)
{
    return c->ops->routing->lead_set_account(c, lead_id, account_id, match_json, err);
}

bt_err store_hold_summary(struct store_conn *c, int64_t *count, int64_t *oldest_since,
                          struct bt_error *err)
{
    return c->ops->routing->hold_summary(c, count, oldest_since, err);
}
