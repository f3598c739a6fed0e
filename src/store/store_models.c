/*
 * store_models.c - forwards store_models.h's model table to the connection's
 * backend, checking the arguments every backend would otherwise check again.
 * (The history walk, store_history_each, is forwarded by store.c.)
 */
#include "store/store_backend.h"

#include <string.h>

bt_err store_model_insert(struct store_conn *c, struct store_model *m, struct bt_error *err)
{
    if (!m->version || !m->kind || !m->target || !m->model || !m->created_at)
        BT_BUG("store_model_insert without a version, kind, target, model or time");
    if (!m->version[0] || strlen(m->version) > STORE_MODEL_VERSION_MAX)
        return bt_fail(err, BT_EINVAL, "version", "a model version has 1 to %d bytes",
                       STORE_MODEL_VERSION_MAX);
    return c->ops->models->insert(c, m, err);
}

bt_err store_model_get(struct store_conn *c, int64_t id, struct arena *a, struct store_model *out,
                       struct bt_error *err)
{
    return c->ops->models->get(c, id, a, out, err);
}

bt_err store_model_get_by_version(struct store_conn *c, const char *version, struct arena *a,
                                  struct store_model *out, struct bt_error *err)
{
    if (!version)
        BT_BUG("store_model_get_by_version without a version");
    return c->ops->models->get_by_version(c, version, a, out, err);
}

bt_err store_model_active(struct store_conn *c, struct arena *a, struct store_model *out,
                          struct bt_error *err)
{
    return c->ops->models->active(c, a, out, err);
}

bt_err store_model_list(struct store_conn *c, struct arena *a, struct store_model **out,
                        size_t *count, struct bt_error *err)
{
    return c->ops->models->list(c, a, out, count, err);
}

bt_err store_model_activate(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err)
{
    /* Outside a transaction the old one could be deactivated without the new
     * one being activated. */
    if (!store_in_transaction(c))
        BT_BUG("store_model_activate outside a transaction");
    return c->ops->models->activate(c, id, now, err);
}

bt_err store_model_deactivate(struct store_conn *c, struct bt_error *err)
{
    return c->ops->models->deactivate(c, err);
}
