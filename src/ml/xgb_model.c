/*
 * xgb_model.c - converting an XGBoost booster into the flat trees of
 * core/predict.h, through XGBoost's JSON model.
 *
 * The JSON model is XGBoost's documented, versioned format, so this reads
 * the same fields whatever XGBoost did internally; each tree's arrays are
 * read into scratch, walked depth-first from the root to renumber the nodes
 * (a child after its parent, every tree contiguous), and the inner nodes'
 * expected values are filled bottom-up from their children's covers.
 */
#include "ml/xgb_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bt_err xgb_fail(struct bt_error *err, const char *what)
{
    return bt_fail(err, BT_EIO, NULL, "%s: %s", what, XGBGetLastError());
}

static const json_t *path_get(const json_t *j, const char *const *keys)
{
    for (; *keys && j; keys++)
        j = json_object_get(j, *keys);
    return j;
}

/* A number, or a string holding one ("5E-1": XGBoost writes parameters as
 * strings). */
static bool json_double(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        *out = strtod(json_string_value(v), &end);
        return end != json_string_value(v) && *end == '\0';
    }
    return false;
}

struct raw_tree {
    size_t n;
    const json_t *left, *right, *split, *cond, *dleft, *hess;
};

static bt_err raw_tree_read(const json_t *t, size_t index, size_t n_features, struct raw_tree *r,
                            struct bt_error *err)
{
    r->left = json_object_get(t, "left_children");
    r->right = json_object_get(t, "right_children");
    r->split = json_object_get(t, "split_indices");
    r->cond = json_object_get(t, "split_conditions");
    r->dleft = json_object_get(t, "default_left");
    r->hess = json_object_get(t, "sum_hessian");
    const json_t *arrays[] = {r->left, r->right, r->split, r->cond, r->dleft, r->hess};
    r->n = json_array_size(r->left);
    for (size_t i = 0; i < 6; i++)
        if (!json_is_array(arrays[i]) || json_array_size(arrays[i]) != r->n)
            return bt_fail(err, BT_EINVAL, NULL, "XGBoost tree %zu: node arrays missing or unequal",
                           index);
    if (r->n == 0 || r->n > PREDICT_NODES_MAX)
        return bt_fail(err, BT_EINVAL, NULL, "XGBoost tree %zu: %zu nodes", index, r->n);
    for (size_t i = 0; i < r->n; i++) {
        json_int_t l = json_integer_value(json_array_get(r->left, i));
        json_int_t rr = json_integer_value(json_array_get(r->right, i));
        if (l == -1)
            continue;
        json_int_t f = json_integer_value(json_array_get(r->split, i));
        if (l <= 0 || rr <= 0 || (size_t)l >= r->n || (size_t)rr >= r->n)
            return bt_fail(err, BT_EINVAL, NULL, "XGBoost tree %zu, node %zu: bad children", index,
                           i);
        if (f < 0 || (size_t)f >= n_features)
            return bt_fail(err, BT_EINVAL, NULL,
                           "XGBoost tree %zu, node %zu: column %lld, but %zu features given", index,
                           i, (long long)f, n_features);
    }
    return BT_OK;
}

static double num_at(const json_t *a, size_t i)
{
    double d = 0;
    (void)json_double(json_array_get(a, i), &d);
    return d;
}

static bool default_left(const json_t *a, size_t i)
{
    const json_t *v = json_array_get(a, i);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

/*
 * Appends the tree to nodes[at ...] in depth-first order; `map` (raw index
 * -> new index) and `stack` are scratch of r->n. Returns the node count.
 */
static bt_err convert_tree(const struct raw_tree *r, size_t index, struct predict_node *nodes,
                           size_t at, int32_t *map, uint32_t *stack, size_t *count,
                           struct bt_error *err)
{
    for (size_t i = 0; i < r->n; i++)
        map[i] = -1;
    size_t top = 0, next = 0;
    stack[top++] = 0;
    while (top > 0) {
        uint32_t raw = stack[--top];
        if (map[raw] >= 0 || next >= r->n)
            return bt_fail(err, BT_EINVAL, NULL, "XGBoost tree %zu: not a tree", index);
        map[raw] = (int32_t)(at + next++);
        json_int_t l = json_integer_value(json_array_get(r->left, raw));
        if (l != -1) {
            /* The right child is pushed first so that the left comes next. */
            stack[top++] = (uint32_t)json_integer_value(json_array_get(r->right, raw));
            stack[top++] = (uint32_t)l;
            if (top > r->n)
                return bt_fail(err, BT_EINVAL, NULL, "XGBoost tree %zu: not a tree", index);
        }
    }
    /* Fill in new order; children's indices are known now. */
    for (size_t raw = 0; raw < r->n; raw++) {
        if (map[raw] < 0)
            continue; /* a deleted node nothing reaches */
        struct predict_node *n = &nodes[map[raw]];
        json_int_t l = json_integer_value(json_array_get(r->left, raw));
        n->cover = num_at(r->hess, raw);
        if (l == -1) {
            *n = (struct predict_node){-1, 0, -1, -1, -1, num_at(r->cond, raw), n->cover};
            continue;
        }
        json_int_t rr = json_integer_value(json_array_get(r->right, raw));
        n->feature = (int32_t)json_integer_value(json_array_get(r->split, raw));
        n->threshold = (float)num_at(r->cond, raw);
        n->yes = map[l];
        n->no = map[rr];
        n->missing = default_left(r->dleft, raw) ? n->yes : n->no;
    }
    /* Children follow parents, so a backward pass sees children first. */
    for (size_t k = next; k-- > 0;) {
        struct predict_node *n = &nodes[at + k];
        if (n->feature < 0)
            continue;
        const struct predict_node *y = &nodes[n->yes], *o = &nodes[n->no];
        double c = n->cover > 0 ? n->cover : y->cover + o->cover;
        n->value =
            c > 0 ? (y->value * y->cover + o->value * o->cover) / c : (y->value + o->value) / 2;
    }
    *count = next;
    return BT_OK;
}

bt_err xgb_model_convert(BoosterHandle booster, const struct predict_feature *features,
                         size_t n_features, struct arena *arena, struct predict_model *out,
                         struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    if (n_features > PREDICT_FEATURES_MAX)
        return bt_fail(err, BT_EINVAL, NULL, "more than %d features", PREDICT_FEATURES_MAX);
    bst_ulong len;
    const char *buf;
    if (XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &len, &buf) != 0)
        return xgb_fail(err, "XGBoost could not save the model");
    json_error_t jerr;
    json_t *root = json_loadb(buf, (size_t)len, 0, &jerr);
    if (!root)
        return bt_fail(err, BT_EINVAL, NULL, "XGBoost's model JSON: %s", jerr.text);

    bt_err rc = BT_OK;
    int32_t *map = NULL;
    uint32_t *stack = NULL;
    static const char *const k_booster[] = {"learner", "gradient_booster", "name", NULL};
    static const char *const k_objective[] = {"learner", "objective", "name", NULL};
    static const char *const k_base[] = {"learner", "learner_model_param", "base_score", NULL};
    static const char *const k_trees[] = {"learner", "gradient_booster", "model", "trees", NULL};
    const json_t *name = path_get(root, k_booster), *objective = path_get(root, k_objective);
    const json_t *trees = path_get(root, k_trees);
    double base_score;
    if (!json_is_string(name) || strcmp(json_string_value(name), "gbtree")) {
        rc = bt_fail(err, BT_EINVAL, NULL, "only XGBoost's gbtree booster converts");
        goto done;
    }
    if (!json_is_string(objective) || strcmp(json_string_value(objective), "binary:logistic")) {
        rc = bt_fail(err, BT_EINVAL, NULL, "only the binary:logistic objective converts");
        goto done;
    }
    if (!json_double(path_get(root, k_base), &base_score) || !(base_score > 0 && base_score < 1)) {
        rc = bt_fail(err, BT_EINVAL, NULL, "XGBoost's base_score is not a probability");
        goto done;
    }
    if (!json_is_array(trees) || json_array_size(trees) > PREDICT_TREES_MAX) {
        rc = bt_fail(err, BT_EINVAL, NULL, "XGBoost's model has no trees or more than %d",
                     PREDICT_TREES_MAX);
        goto done;
    }
    size_t n_trees = json_array_size(trees), total = 0, biggest = 1;
    for (size_t t = 0; t < n_trees; t++) {
        struct raw_tree r;
        rc = raw_tree_read(json_array_get(trees, t), t, n_features, &r, err);
        if (rc)
            goto done;
        total += r.n;
        if (r.n > biggest)
            biggest = r.n;
        if (total > PREDICT_NODES_MAX) {
            rc = bt_fail(err, BT_EINVAL, NULL, "more than %u nodes", PREDICT_NODES_MAX);
            goto done;
        }
    }
    struct predict_feature *f = arena_alloc(arena, (n_features ? n_features : 1) * sizeof(*f));
    uint32_t *roots = arena_alloc(arena, (n_trees ? n_trees : 1) * sizeof(*roots));
    struct predict_node *nodes = arena_alloc(arena, (total ? total : 1) * sizeof(*nodes));
    if (!f || !roots || !nodes) {
        rc = bt_fail(err, BT_ETOOBIG, NULL, "the model does not fit in memory");
        goto done;
    }
    for (size_t i = 0; i < n_features; i++) {
        f[i] = features[i];
        f[i].source = arena_strdup(arena, features[i].source);
        f[i].category = arena_strdup(arena, features[i].category);
        if (!f[i].source || (features[i].category && !f[i].category)) {
            rc = bt_fail(err, BT_ETOOBIG, NULL, "the model does not fit in memory");
            goto done;
        }
    }
    map = xmalloc(biggest * sizeof(*map));
    stack = xmalloc((biggest + 1) * sizeof(*stack));
    size_t at = 0;
    for (size_t t = 0; t < n_trees; t++) {
        struct raw_tree r;
        size_t count = 0;
        rc = raw_tree_read(json_array_get(trees, t), t, n_features, &r, err);
        if (!rc)
            rc = convert_tree(&r, t, nodes, at, map, stack, &count, err);
        if (rc)
            goto done;
        roots[t] = (uint32_t)at;
        at += count;
    }
    struct predict_model m = {0};
    m.n_features = n_features;
    m.features = f;
    /* XGBoost turns its base_score into a margin in float. */
    m.base = (double)-logf(1.0f / (float)base_score - 1.0f);
    m.n_trees = n_trees;
    m.roots = roots;
    m.n_nodes = at;
    m.nodes = nodes;
    m.calibration.kind = PREDICT_CALIBRATION_NONE;
    rc = predict_model_check(&m, err);
    if (!rc && predict_model_prepare(&m, arena))
        rc = bt_fail(err, BT_ETOOBIG, NULL, "the model does not fit in memory");
    if (!rc)
        *out = m;
done:
    free(map);
    free(stack);
    json_decref(root);
    return rc;
}

bt_err xgb_model_predict_margins(BoosterHandle booster, const float *x, size_t rows, size_t cols,
                                 double *out, struct bt_error *err)
{
    DMatrixHandle d;
    if (XGDMatrixCreateFromMat(x, (bst_ulong)rows, (bst_ulong)cols, NAN, &d) != 0)
        return xgb_fail(err, "XGBoost could not take the matrix");
    bst_ulong len;
    const float *res;
    bt_err rc = BT_OK;
    if (XGBoosterPredict(booster, d, 1 /* output margin */, 0, 0, &len, &res) != 0)
        rc = xgb_fail(err, "XGBoost could not predict");
    else if (len != rows)
        rc = bt_fail(err, BT_EIO, NULL, "XGBoost gave %llu margins for %zu rows",
                     (unsigned long long)len, rows);
    else
        for (size_t i = 0; i < rows; i++)
            out[i] = res[i];
    XGDMatrixFree(d);
    return rc;
}
