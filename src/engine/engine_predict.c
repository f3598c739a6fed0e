/*
 * engine_predict.c - the daemon's predictive model: the active row of the
 * models table (store_models.h) read, parsed and prepared once, then shared
 * by reference with the writer, which scores every lead of a group with the
 * model it took at the group's start. A reload swaps the pointer; the old
 * model is freed when the last group that holds it ends. A model whose JSON
 * does not parse is never used: the engine scores rules-only and says why.
 */
#include "config/config.h"
#include "core/predict.h"
#include "engine/engine_internal.h"
#include "store/store_models.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct engine__predictive {
    atomic_int refs;
    struct arena arena;
    struct predict_model model;
    struct predict_reader *reader;
    int64_t id;
    char version[STORE_MODEL_VERSION_MAX + 1];
};

static void predictive_free(struct engine__predictive *p)
{
    predict_reader_free(p->reader);
    arena_release(&p->arena);
    free(p);
}

bt_err engine__predictive_load(struct store_conn *c, struct engine__predictive **out,
                               struct bt_error *err)
{
    *out = NULL;
    struct arena scratch = ARENA_INIT;
    struct store_model row;
    bt_err e = store_model_active(c, &scratch, &row, err);
    if (e) {
        arena_release(&scratch);
        return e;
    }
    struct engine__predictive *p = xcalloc(1, sizeof(*p));
    atomic_init(&p->refs, 1);
    p->id = row.id;
    snprintf(p->version, sizeof(p->version), "%s", row.version);
    json_error_t jerr;
    json_t *j = json_loads(row.model, 0, &jerr);
    if (!j) {
        e = bt_fail(err, BT_EINVAL, NULL, "model %lld (%s): its JSON does not parse: %s",
                    (long long)row.id, p->version, jerr.text);
    } else {
        struct bt_error why = BT_ERROR_INIT;
        e = predict_model_from_json(j, &p->arena, &p->model, &why);
        if (!e)
            e = predict_reader_new(&p->model, &p->reader, &why);
        if (e)
            e = bt_fail(err, e, NULL, "model %lld (%s): %s%s%s", (long long)row.id, p->version,
                        why.field[0] ? why.field : "", why.field[0] ? ": " : "", why.message);
        json_decref(j);
    }
    arena_release(&scratch);
    if (e) {
        predictive_free(p);
        return e;
    }
    *out = p;
    return BT_OK;
}

struct engine__predictive *engine__predictive_ref(struct engine__predictive *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void engine__predictive_unref(struct engine__predictive *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        predictive_free(p);
}

const char *engine__predictive_version(const struct engine__predictive *p)
{
    return p->version;
}

void engine__predictive_use(const struct engine__predictive *p, const struct config *cfg,
                            struct decide_model *model)
{
    if (!p || !cfg->predictive.enabled)
        return;
    model->predictive = &p->model;
    model->predictive_reader = p->reader;
    model->predictive_version = p->version;
    model->predictive_points = cfg->predictive.points;
}
