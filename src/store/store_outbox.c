/*
 * store_outbox.c - forwards store_outbox.h to the connection's backend,
 * checking the arguments every backend would otherwise check again.
 */
#include "store/store_backend.h"

const char *const outbox_statuses[OUTBOX_STATUSES] = {OUTBOX_PENDING, OUTBOX_FAILED,
                                                      OUTBOX_DELIVERED, OUTBOX_DEAD, OUTBOX_HELD};

bt_err store_outbox_insert(struct store_conn *c, struct store_outbox_row *row, struct bt_error *err)
{
    if (!row->uid || !row->channel || !row->event_type || !row->payload || !row->status ||
        !row->created_at)
        BT_BUG("store_outbox_insert without a uid, channel, event type, payload, status or time");
    return c->ops->outbox->insert(c, row, err);
}

bt_err store_outbox_get(struct store_conn *c, int64_t id, struct arena *a,
                        struct store_outbox_row *out, struct bt_error *err)
{
    return c->ops->outbox->get(c, id, a, out, err);
}

bt_err store_outbox_claim(struct store_conn *c, const char *channel, const char *node, int64_t now,
                          int64_t lease_ms, unsigned limit, struct arena *a,
                          struct store_outbox_row **rows, size_t *n, struct bt_error *err)
{
    if (!channel || !node || lease_ms <= 0)
        BT_BUG("store_outbox_claim without a channel, node or lease");
    return c->ops->outbox->claim(c, channel, node, now, lease_ms, limit, a, rows, n, err);
}

bt_err store_outbox_next_due(struct store_conn *c, const char *channel, int64_t *at,
                             struct bt_error *err)
{
    return c->ops->outbox->next_due(c, channel, at, err);
}

bt_err store_outbox_record(struct store_conn *c, int64_t id, const char *node,
                           const struct store_delivery_attempt *attempt, const char *status,
                           int64_t next_attempt_at, bool *applied, struct bt_error *err)
{
    if (!node || !attempt || !status)
        BT_BUG("store_outbox_record without a node, attempt or status");
    return c->ops->outbox->record(c, id, node, attempt, status, next_attempt_at, applied, err);
}

bt_err store_delivery_attempts(struct store_conn *c, int64_t outbox_id, unsigned limit,
                               struct arena *a, struct store_delivery_attempt **out, size_t *n,
                               struct bt_error *err)
{
    return c->ops->outbox->attempts(c, outbox_id, limit, a, out, n, err);
}

bt_err store_outbox_list(struct store_conn *c, const struct store_outbox_filter *f, unsigned limit,
                         struct arena *a, struct store_outbox_row **rows, size_t *n,
                         struct bt_error *err)
{
    return c->ops->outbox->list(c, f, limit, a, rows, n, err);
}

bt_err store_outbox_retry(struct store_conn *c, int64_t id, int64_t now, bool *found, bool *changed,
                          struct bt_error *err)
{
    return c->ops->outbox->retry(c, id, now, found, changed, err);
}

bt_err store_outbox_replay(struct store_conn *c, int64_t since, int64_t until, const char *channel,
                           const char *statuses, int64_t now, int64_t *count, struct bt_error *err)
{
    if (!statuses)
        BT_BUG("store_outbox_replay without statuses");
    return c->ops->outbox->replay(c, since, until, channel, statuses, now, count, err);
}

bt_err store_outbox_hold_channel(struct store_conn *c, const char *channel, int64_t *count,
                                 struct bt_error *err)
{
    return c->ops->outbox->hold_channel(c, channel, count, err);
}

bt_err store_outbox_counts(struct store_conn *c, const char *channel,
                           int64_t counts[OUTBOX_STATUSES], int64_t *oldest_waiting,
                           struct bt_error *err)
{
    return c->ops->outbox->counts(c, channel, counts, oldest_waiting, err);
}

bt_err store_delivery_channel_get(struct store_conn *c, const char *id, struct arena *a,
                                  struct store_delivery_channel *out, bool *found,
                                  struct bt_error *err)
{
    return c->ops->outbox->channel_get(c, id, a, out, found, err);
}

bt_err store_delivery_channel_put(struct store_conn *c, const struct store_delivery_channel *ch,
                                  struct bt_error *err)
{
    return c->ops->outbox->channel_put(c, ch, err);
}

bt_err store_delivery_channel_list(struct store_conn *c, struct arena *a,
                                   struct store_delivery_channel **out, size_t *n,
                                   struct bt_error *err)
{
    return c->ops->outbox->channel_list(c, a, out, n, err);
}

bt_err store_task_insert(struct store_conn *c, struct store_task *t, struct bt_error *err)
{
    if (!t->lead_id || !t->rep_id || !t->kind || !t->title)
        BT_BUG("store_task_insert without a lead, rep, kind or title");
    return c->ops->outbox->task_insert(c, t, err);
}

bt_err store_task_get(struct store_conn *c, int64_t id, struct arena *a, struct store_task *out,
                      struct bt_error *err)
{
    return c->ops->outbox->task_get(c, id, a, out, err);
}

bt_err store_task_done(struct store_conn *c, int64_t id, int64_t at, const char *by,
                       struct bt_error *err)
{
    return c->ops->outbox->task_done(c, id, at, by, err);
}

bt_err store_task_list(struct store_conn *c, const char *rep_id, bool done, unsigned offset,
                       unsigned limit, struct arena *a, struct store_task **out, size_t *n,
                       struct bt_error *err)
{
    return c->ops->outbox->task_list(c, rep_id, done, offset, limit, a, out, n, err);
}

bt_err store_task_meetings(struct store_conn *c, const char *rep_id, int64_t from, unsigned limit,
                           int64_t (*out)[2], size_t *n, struct bt_error *err)
{
    return c->ops->outbox->task_meetings(c, rep_id, from, limit, out, n, err);
}
