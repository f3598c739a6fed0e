/*
 * store.c - the backend-neutral half of the store: picks the backend from
 * the location, keeps the pool of reader connections, and forwards calls.
 */
#include "store/store_backend.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct store {
    const struct store_ops *ops;
    void *db;
    pthread_mutex_t lock;
    struct store_conn *free_readers;
    unsigned readers_open;
    unsigned max_readers;
    pthread_cond_t reader_returned;
};

bt_err store_open(const char *location, const struct store_options *opts, struct store **out,
                  struct bt_error *err)
{
    static const struct store_options defaults = STORE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!strncmp(location, "postgres://", 11) || !strncmp(location, "postgresql://", 13))
        return bt_fail(err, BT_EUNSUPPORTED, NULL,
                       "the PostgreSQL backend is not available in this build yet; "
                       "use an SQLite file path");
    const struct store_ops *ops = &store__sqlite_ops;
    void *db = NULL;
    bt_err rc = ops->open(location, opts, &db, err);
    if (rc)
        return rc;
    struct store *st = xcalloc(1, sizeof(*st));
    st->ops = ops;
    st->db = db;
    st->max_readers = opts->max_readers ? opts->max_readers : 16;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->reader_returned, NULL);
    *out = st;
    return BT_OK;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    while (st->free_readers) {
        struct store_conn *c = st->free_readers;
        st->free_readers = c->next_free;
        st->ops->conn_close(c);
    }
    st->ops->close(st->db);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->reader_returned);
    free(st);
}

bt_err store_conn_open(struct store *st, struct store_conn **out, struct bt_error *err)
{
    return st->ops->conn_open(st->db, out, err);
}

void store_conn_close(struct store_conn *c)
{
    if (c)
        c->ops->conn_close(c);
}

/*
 * Readers are opened lazily up to max_readers; past that a caller waits for
 * one to come back, which bounds the number of open files under load.
 */
bt_err store_reader_acquire(struct store *st, struct store_conn **out, struct bt_error *err)
{
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (st->free_readers) {
            *out = st->free_readers;
            st->free_readers = (*out)->next_free;
            pthread_mutex_unlock(&st->lock);
            return BT_OK;
        }
        if (st->readers_open < st->max_readers)
            break;
        pthread_cond_wait(&st->reader_returned, &st->lock);
    }
    st->readers_open++;
    pthread_mutex_unlock(&st->lock);
    bt_err rc = st->ops->conn_open(st->db, out, err);
    if (rc) {
        pthread_mutex_lock(&st->lock);
        st->readers_open--;
        pthread_cond_signal(&st->reader_returned);
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

void store_reader_release(struct store *st, struct store_conn *c)
{
    pthread_mutex_lock(&st->lock);
    c->next_free = st->free_readers;
    st->free_readers = c;
    pthread_cond_signal(&st->reader_returned);
    pthread_mutex_unlock(&st->lock);
}

bt_err store_ping(struct store_conn *c, struct bt_error *err)
{
    return c->ops->ping(c, err);
}

bt_err store_begin(struct store_conn *c, struct bt_error *err)
{
    return c->ops->exec(c, STORE__BEGIN, err);
}

bt_err store_commit(struct store_conn *c, struct bt_error *err)
{
    return c->ops->exec(c, STORE__COMMIT, err);
}

void store_rollback(struct store_conn *c)
{
    (void)c->ops->exec(c, STORE__ROLLBACK, NULL);
}

bt_err store_savepoint(struct store_conn *c, struct bt_error *err)
{
    return c->ops->exec(c, STORE__SAVEPOINT, err);
}

bt_err store_savepoint_release(struct store_conn *c, struct bt_error *err)
{
    return c->ops->exec(c, STORE__RELEASE, err);
}

void store_savepoint_rollback(struct store_conn *c)
{
    (void)c->ops->exec(c, STORE__ROLLBACK_TO, NULL);
}

bt_err store_lead_get(struct store_conn *c, int64_t id, struct arena *a, struct lead *out,
                      struct bt_error *err)
{
    return c->ops->lead_get(c, STORE__BY_ID, NULL, id, a, out, err);
}

bt_err store_lead_find_by_email(struct store_conn *c, const char *email, struct arena *a,
                                struct lead *out, struct bt_error *err)
{
    return c->ops->lead_get(c, STORE__BY_EMAIL, email, 0, a, out, err);
}

bt_err store_lead_find_by_external_id(struct store_conn *c, const char *external_id,
                                      struct arena *a, struct lead *out, struct bt_error *err)
{
    return c->ops->lead_get(c, STORE__BY_EXTERNAL_ID, external_id, 0, a, out, err);
}

bt_err store_lead_insert(struct store_conn *c, struct lead *lead, struct bt_error *err)
{
    return c->ops->lead_insert(c, lead, err);
}

bt_err store_lead_update(struct store_conn *c, const struct lead *lead, struct bt_error *err)
{
    return c->ops->lead_update(c, lead, err);
}

bt_err store_lead_list(struct store_conn *c, const struct lead_filter *filter, struct arena *a,
                       struct lead **out, size_t *count, struct bt_error *err)
{
    if (filter->limit < 1 || filter->limit > STORE_LIST_MAX)
        BT_BUG("lead list limit %u out of range", filter->limit);
    return c->ops->lead_list(c, filter, a, out, count, err);
}

bt_err store_event_append(struct store_conn *c, struct lead_event *ev, struct bt_error *err)
{
    return c->ops->event_append(c, ev, err);
}

bt_err store_event_list(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                        struct arena *a, struct lead_event **out, size_t *count,
                        struct bt_error *err)
{
    return c->ops->event_list(c, lead_id, after_id, limit, a, out, count, err);
}

bt_err store_idempotency_get(struct store_conn *c, const char *key, struct arena *a,
                             int64_t *lead_id, const char **fingerprint, struct bt_error *err)
{
    return c->ops->idempotency_get(c, key, a, lead_id, fingerprint, err);
}

bt_err store_idempotency_put(struct store_conn *c, const char *key, int64_t lead_id,
                             const char *fingerprint, int64_t now, struct bt_error *err)
{
    return c->ops->idempotency_put(c, key, lead_id, fingerprint, now, err);
}

bt_err store_key_insert(struct store_conn *c, struct api_key *key, struct bt_error *err)
{
    return c->ops->key_insert(c, key, err);
}

bt_err store_key_find_active(struct store_conn *c, const char *hash, struct arena *a,
                             struct api_key *out, struct bt_error *err)
{
    return c->ops->key_find_active(c, hash, a, out, err);
}

bt_err store_key_list(struct store_conn *c, struct arena *a, struct api_key **out, size_t *count,
                      struct bt_error *err)
{
    return c->ops->key_list(c, a, out, count, err);
}

bt_err store_key_revoke(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err)
{
    return c->ops->key_revoke(c, id, now, err);
}

bt_err store_key_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    return c->ops->key_count(c, count, err);
}

bt_err store_activity_insert(struct store_conn *c, struct activity *act, int64_t now,
                             struct bt_error *err)
{
    return c->ops->activity_insert(c, act, now, err);
}

bt_err store_activity_list(struct store_conn *c, int64_t lead_id, unsigned limit, struct arena *a,
                           struct activity **out, size_t *count, struct bt_error *err)
{
    return c->ops->activity_list(c, lead_id, limit, a, out, count, err);
}

bt_err store_lead_rescore_due(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                              int64_t **ids, size_t *count, struct bt_error *err)
{
    return c->ops->rescore_due(c, now, limit, a, ids, count, err);
}

bt_err store_outcome_insert(struct store_conn *c, const struct lead_outcome *o,
                            struct bt_error *err)
{
    return c->ops->outcome_insert(c, o, err);
}

bt_err store_history_each(struct store_conn *c, const char *target, int64_t since, int64_t until,
                          struct arena *scratch, store_history_fn fn, void *cls,
                          struct bt_error *err)
{
    if (!target || !scratch || !fn)
        BT_BUG("store_history_each without a target, scratch arena or callback");
    if (strcmp(target, "converted") != 0 && strcmp(target, "sql") != 0)
        return bt_fail(err, BT_EINVAL, "target", "unknown target '%s' (converted or sql)", target);
    return c->ops->history_each(c, target, since, until, scratch, fn, cls, err);
}

bt_err store_lead_set_rescore_at(struct store_conn *c, int64_t lead_id, int64_t at,
                                 struct bt_error *err)
{
    return c->ops->rescore_set(c, lead_id, at, err);
}

bool store_in_transaction(struct store_conn *c)
{
    return c->ops->in_transaction(c) == BT_OK;
}

bt_err store_account_upsert(struct store_conn *c, struct store_account *accounts, size_t n,
                            int64_t now, enum store_account_outcome *outcomes, struct bt_error *err)
{
    /* Outside a transaction the version could commit apart from the rows. */
    if (!store_in_transaction(c))
        BT_BUG("store_account_upsert outside a transaction");
    return c->ops->accounts->upsert(c, accounts, n, now, outcomes, err);
}

bt_err store_account_get(struct store_conn *c, const char *id, struct arena *a,
                         struct store_account *out, struct bt_error *err)
{
    return c->ops->accounts->get(c, id, a, out, err);
}

bt_err store_account_list(struct store_conn *c, const char *after, unsigned limit, struct arena *a,
                          struct store_account **out, size_t *count, struct bt_error *err)
{
    if (limit < 1 || limit > STORE_LIST_MAX)
        BT_BUG("account list limit %u out of range", limit);
    return c->ops->accounts->list(c, after, limit, a, out, count, err);
}

bt_err store_account_each(struct store_conn *c, store_account_fn fn, void *cls,
                          struct bt_error *err)
{
    return c->ops->accounts->each(c, fn, cls, err);
}

bt_err store_account_count(struct store_conn *c, int64_t *count, struct bt_error *err)
{
    return c->ops->accounts->count(c, count, err);
}

bt_err store_accounts_version(struct store_conn *c, int64_t *version, struct bt_error *err)
{
    return c->ops->accounts->version(c, version, err);
}

bt_err store_claim(struct store_conn *c, const char *kind, const char *key, const char *holder,
                   int64_t now, int64_t lease_ms, bool *got, struct bt_error *err)
{
    *got = false;
    if (!kind || !key || !holder || strlen(kind) > 64 || strlen(key) > 256 || lease_ms <= 0)
        BT_BUG("store_claim: bad arguments");
    return c->ops->work->claim(c, kind, key, holder, now, lease_ms, got, err);
}

bt_err store_claim_release(struct store_conn *c, const char *kind, const char *key,
                           const char *holder, struct bt_error *err)
{
    return c->ops->work->claim_release(c, kind, key, holder, err);
}

bt_err store_lead_next_rescore(struct store_conn *c, int64_t *at, struct bt_error *err)
{
    return c->ops->work->next_rescore(c, at, err);
}
