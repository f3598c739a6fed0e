/*
 * store_handoff.c - forwards store_handoff.h to the connection's backend,
 * checking the arguments every backend would otherwise check again.
 */
#include "store/store_backend.h"

bt_err store_assignment_insert(struct store_conn *c, struct store_assignment *a,
                               struct bt_error *err)
{
    if (!a->lead_id || !a->rep_id || !a->status)
        BT_BUG("store_assignment_insert without a lead, rep or status");
    return c->ops->handoff->insert(c, a, err);
}

bt_err store_assignment_update(struct store_conn *c, const struct store_assignment *a,
                               struct bt_error *err)
{
    return c->ops->handoff->update(c, a, err);
}

bt_err store_assignment_get(struct store_conn *c, int64_t id, struct arena *a,
                            struct store_assignment *out, struct bt_error *err)
{
    return c->ops->handoff->get(c, id, a, out, err);
}

bt_err store_assignment_live(struct store_conn *c, int64_t lead_id, struct arena *a, bool *found,
                             struct store_assignment *out, struct bt_error *err)
{
    return c->ops->handoff->live(c, lead_id, a, found, out, err);
}

bt_err store_assignment_attempts(struct store_conn *c, int64_t lead_id, int64_t *count,
                                 struct bt_error *err)
{
    return c->ops->handoff->attempts(c, lead_id, count, err);
}

bt_err store_assignment_list_lead(struct store_conn *c, int64_t lead_id, int64_t after_id,
                                  unsigned limit, struct arena *a, struct store_assignment **out,
                                  size_t *count, struct bt_error *err)
{
    return c->ops->handoff->list_lead(c, lead_id, after_id, limit, a, out, count, err);
}

bt_err store_assignment_list(struct store_conn *c, const struct store_assignment_filter *f,
                             struct arena *a, struct store_assignment **out, size_t *count,
                             struct bt_error *err)
{
    return c->ops->handoff->list(c, f, a, out, count, err);
}

bt_err store_assignment_offers(struct store_conn *c, int64_t offer_group, struct arena *a,
                               struct store_assignment **out, size_t *count, struct bt_error *err)
{
    return c->ops->handoff->offers(c, offer_group, a, out, count, err);
}

bt_err store_assignment_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                            struct store_assignment **out, size_t *count, struct bt_error *err)
{
    return c->ops->handoff->due(c, now, limit, a, out, count, err);
}

bt_err store_assignment_next_due(struct store_conn *c, int64_t *at, struct bt_error *err)
{
    return c->ops->handoff->next_due(c, at, err);
}

bt_err store_rep_rejections_since(struct store_conn *c, const char *rep_id, int64_t since,
                                  int64_t *count, struct bt_error *err)
{
    return c->ops->handoff->rejections(c, rep_id, since, count, err);
}

bt_err store_rep_expired_run(struct store_conn *c, const char *rep_id, int64_t *count,
                             struct bt_error *err)
{
    return c->ops->handoff->expired_run(c, rep_id, count, err);
}

bt_err store_link_secret_get(struct store_conn *c, uint32_t generation, bool *found,
                             uint32_t *generation_out, uint8_t secret[LINK_SECRET_BYTES],
                             struct bt_error *err)
{
    return c->ops->handoff->secret_get(c, generation, found, generation_out, secret, err);
}

bt_err store_link_secret_add(struct store_conn *c, const uint8_t secret[LINK_SECRET_BYTES],
                             int64_t now, uint32_t *generation, struct bt_error *err)
{
    return c->ops->handoff->secret_add(c, secret, now, generation, err);
}

const char *const assignment_statuses[ASSIGNMENT_STATUSES] = {
    ASSIGNMENT_PENDING,  ASSIGNMENT_OFFERED, ASSIGNMENT_ACCEPTED,   ASSIGNMENT_CONTACTED,
    ASSIGNMENT_REJECTED, ASSIGNMENT_EXPIRED, ASSIGNMENT_REASSIGNED, ASSIGNMENT_WITHDRAWN,
};

bt_err store_assignment_status_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                                      struct bt_error *err)
{
    return c->ops->handoff->status_counts(c, counts, err);
}

bt_err store_assignment_open_counts(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                                    struct bt_error *err)
{
    return c->ops->handoff->open_counts(c, counts, err);
}
