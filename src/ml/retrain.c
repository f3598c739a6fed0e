/*
 * retrain.c - the retraining thread: a timed wait on a condition variable
 * (so that stopping does not wait for the interval), one training run per
 * interval on its own connection.
 */
#include "ml/retrain.h"

#include "store/store_models.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct retrain {
    struct store *st;
    struct retrain_options o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static double held_out_auc(const char *metrics)
{
    json_t *j = json_loads(metrics ? metrics : "{}", 0, NULL);
    json_t *v = json_object_get(json_object_get(json_object_get(j, "test"), "model"), "roc_auc");
    double auc = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return auc;
}

bt_err retrain_once(struct store_conn *c, const struct train_options *o, bool *activated,
                    int64_t *model_id, struct bt_error *err)
{
    *activated = false;
    *model_id = 0;
    struct arena a = ARENA_INIT;
    struct train_result res;
    bt_err rc = train_run(c, o, &a, &res, err);
    if (!rc)
        rc = store_model_insert(c, &res.model, err);
    if (rc) {
        arena_release(&a);
        return rc;
    }
    *model_id = res.model.id;
    struct store_model cur;
    bool go = true;
    rc = store_model_active(c, &a, &cur, err);
    if (rc == BT_OK) {
        double old_auc = held_out_auc(cur.metrics);
        if (cur.test_from == res.model.test_from && cur.test_until == res.model.test_until &&
            !isnan(old_auc) && res.test_auc < old_auc)
            go = false;
    } else if (rc != BT_ENOTFOUND) {
        arena_release(&a);
        return rc;
    }
    rc = BT_OK;
    if (go) {
        rc = store_begin(c, err);
        if (!rc)
            rc = store_model_activate(c, res.model.id, o->now, err);
        if (!rc)
            rc = store_commit(c, err);
        else
            store_rollback(c);
        *activated = rc == BT_OK;
    }
    arena_release(&a);
    return rc;
}

static void *run(void *arg)
{
    struct retrain *r = arg;
    struct bt_error err = BT_ERROR_INIT;
    struct store_conn *c = NULL;
    if (store_conn_open(r->st, &c, &err)) {
        if (r->o.on_error)
            r->o.on_error(r->o.cls, &err);
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = (int64_t)until.tv_nsec + (r->o.interval_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(r->o.interval_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
            ;
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        struct train_options to = r->o.train;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        to.now = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        bool activated;
        int64_t id;
        err = (struct bt_error)BT_ERROR_INIT;
        if (retrain_once(c, &to, &activated, &id, &err)) {
            if (r->o.on_error)
                r->o.on_error(r->o.cls, &err);
        } else if (activated && r->o.on_activate) {
            r->o.on_activate(r->o.cls, id);
        }
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    store_conn_close(c);
    return NULL;
}

bt_err retrain_start(struct store *st, const struct retrain_options *o, struct retrain **out,
                     struct bt_error *err)
{
    if (o->interval_ms < 1)
        return bt_fail(err, BT_EINVAL, "retrain_every", "the retraining interval must be positive");
    struct retrain *r = xcalloc(1, sizeof(*r));
    r->st = st;
    r->o = *o;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return bt_fail(err, BT_EIO, NULL, "cannot start the retraining thread");
    }
    *out = r;
    return BT_OK;
}

void retrain_stop(struct retrain *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
