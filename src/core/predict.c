/*
 * predict.c - the predictive model: checking it, walking its trees and
 * terms, calibrating the margin, splitting it into per-feature
 * contributions, and its JSON form.
 *
 * The model is plain arrays (predict.h) so that a prediction is a few
 * hundred pointer-free steps through one node array and allocates nothing.
 * Every tree's nodes are contiguous (tree t owns [roots[t], roots[t + 1]))
 * and a child always comes after its parent: predict_model_check() insists
 * on both, which makes every walk end within the tree's node count whatever
 * the JSON said.
 *
 * Features are read through a rule symbol table holding the model's sources
 * (struct predict_reader), so that a model reads a lead exactly as the
 * scoring rules do (score_fill_lead). The slot of a source doubles as the
 * group of its features when factors are summed per source.
 */
#include "core/predict.h"

#include "core/rule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "baton-predict-1"

/* ---- feature sources ---- */

static const char *const refused_sources[][2] = {
    {"stage", "the stage is known only after qualification (it is the outcome)"},
    {"owner", "the owner is decided after qualification"},
    {"score", "the score is computed from the model's own output"},
    {"fit", "the fit score is computed after qualification"},
    {"engagement", "the engagement score is computed after qualification"},
    {"grade", "the grade is computed after qualification"},
    {"predicted", "the prediction is the model's own output"},
    {"account", "the account and its owner are assigned after qualification"},
    {"external_id", "an identifier says nothing about a lead, only who it is"},
};

bool predict_feature_source_allowed(const char *source, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!source || !*source) {
        *why = "a feature needs a source path";
        return false;
    }
    size_t len = strlen(source);
    if (len > PREDICT_NAME_MAX) {
        *why = "the source path is too long";
        return false;
    }
    for (size_t i = 0; i < sizeof(refused_sources) / sizeof(refused_sources[0]); i++) {
        size_t n = strlen(refused_sources[i][0]);
        if (!strncmp(source, refused_sources[i][0], n) && (source[n] == '\0' || source[n] == '.')) {
            *why = refused_sources[i][1];
            return false;
        }
    }
    char reason[200];
    if (!score_lead_schema.check(score_lead_schema.ctx, source, len, reason, sizeof(reason))) {
        *why = "not a lead path (see the lead paths of score.h)";
        return false;
    }
    return true;
}

/* ---- checking ---- */

static bool name_ok(const char *s)
{
    return s && *s && strlen(s) <= PREDICT_NAME_MAX;
}

static bool has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return true;
    return false;
}

static bt_err check_tree(const struct predict_model *m, size_t t, size_t begin, size_t end,
                         struct bt_error *err)
{
    if (begin >= end)
        return bt_fail(err, BT_EINVAL, "trees", "tree %zu has no node", t);
    for (size_t i = begin; i < end; i++) {
        const struct predict_node *n = &m->nodes[i];
        if (!isfinite(n->value) || !isfinite(n->cover) || n->cover < 0)
            return bt_fail(err, BT_EINVAL, "trees",
                           "tree %zu, node %zu: value and cover must be finite (cover >= 0)", t,
                           i - begin);
        if (n->feature < 0) {
            if (n->feature != -1)
                return bt_fail(err, BT_EINVAL, "trees", "tree %zu, node %zu: feature %d", t,
                               i - begin, (int)n->feature);
            continue;
        }
        if ((size_t)n->feature >= m->n_features)
            return bt_fail(err, BT_EINVAL, "trees",
                           "tree %zu, node %zu: feature %d is not one of the %zu features", t,
                           i - begin, (int)n->feature, m->n_features);
        if (isnan(n->threshold))
            return bt_fail(err, BT_EINVAL, "trees", "tree %zu, node %zu: threshold is NaN", t,
                           i - begin);
        const int32_t kids[3] = {n->yes, n->no, n->missing};
        for (int k = 0; k < 3; k++)
            if (kids[k] < 0 || (size_t)kids[k] <= i || (size_t)kids[k] >= end)
                return bt_fail(err, BT_EINVAL, "trees",
                               "tree %zu, node %zu: a child must be a later node of the same "
                               "tree",
                               t, i - begin);
    }
    return BT_OK;
}

static bt_err check_term(const struct predict_model *m, size_t t, struct bt_error *err)
{
    const struct predict_term *term = &m->terms[t];
    if (term->feature < 0 || (size_t)term->feature >= m->n_features)
        return bt_fail(err, BT_EINVAL, "terms", "term %zu: feature %d is not one of the %zu", t,
                       (int)term->feature, m->n_features);
    if (term->n_edges > PREDICT_EDGES_MAX)
        return bt_fail(err, BT_EINVAL, "terms", "term %zu: more than %d edges", t,
                       PREDICT_EDGES_MAX);
    if (term->n_edges && !term->edges)
        return bt_fail(err, BT_EINVAL, "terms", "term %zu: edges missing", t);
    if (!term->weights)
        return bt_fail(err, BT_EINVAL, "terms", "term %zu: weights missing", t);
    for (size_t i = 0; i < term->n_edges; i++) {
        if (!isfinite(term->edges[i]))
            return bt_fail(err, BT_EINVAL, "terms", "term %zu: edge %zu is not finite", t, i);
        if (i > 0 && !(term->edges[i] > term->edges[i - 1]))
            return bt_fail(err, BT_EINVAL, "terms", "term %zu: edges must be strictly ascending",
                           t);
    }
    for (size_t i = 0; i <= term->n_edges; i++)
        if (!isfinite(term->weights[i]))
            return bt_fail(err, BT_EINVAL, "terms", "term %zu: weight %zu is not finite", t, i);
    if (!isfinite(term->missing_weight) || !isfinite(term->mean))
        return bt_fail(err, BT_EINVAL, "terms", "term %zu: missing_weight and mean must be finite",
                       t);
    return BT_OK;
}

static bt_err check_calibration(const struct predict_calibration *c, struct bt_error *err)
{
    switch (c->kind) {
    case PREDICT_CALIBRATION_NONE:
        return BT_OK;
    case PREDICT_CALIBRATION_PLATT:
        if (!isfinite(c->a) || !isfinite(c->b))
            return bt_fail(err, BT_EINVAL, "calibration", "Platt's a and b must be finite");
        return BT_OK;
    case PREDICT_CALIBRATION_ISOTONIC:
        if (c->n_points < 1 || c->n_points > PREDICT_CALIBRATION_MAX || !c->margin || !c->p)
            return bt_fail(err, BT_EINVAL, "calibration", "an isotonic table needs 1 to %d points",
                           PREDICT_CALIBRATION_MAX);
        for (size_t i = 0; i < c->n_points; i++) {
            if (!isfinite(c->margin[i]) || !(c->p[i] >= 0 && c->p[i] <= 1))
                return bt_fail(err, BT_EINVAL, "calibration",
                               "point %zu: the margin must be finite and p within [0, 1]", i);
            if (i > 0 && !(c->margin[i] > c->margin[i - 1]))
                return bt_fail(err, BT_EINVAL, "calibration",
                               "the margins must be strictly ascending");
            if (i > 0 && c->p[i] < c->p[i - 1])
                return bt_fail(err, BT_EINVAL, "calibration", "p must be non-decreasing");
        }
        return BT_OK;
    }
    return bt_fail(err, BT_EINVAL, "calibration", "unknown calibration kind %d", (int)c->kind);
}

bt_err predict_model_check(const struct predict_model *m, struct bt_error *err)
{
    if (m->n_features > PREDICT_FEATURES_MAX)
        return bt_fail(err, BT_EINVAL, "features", "more than %d features", PREDICT_FEATURES_MAX);
    if (m->n_features && !m->features)
        return bt_fail(err, BT_EINVAL, "features", "features missing");
    for (size_t i = 0; i < m->n_features; i++) {
        const struct predict_feature *f = &m->features[i];
        const char *why;
        if (!name_ok(f->source))
            return bt_fail(err, BT_EINVAL, "features", "feature %zu: a source of 1 to %d bytes", i,
                           PREDICT_NAME_MAX);
        if (!predict_feature_source_allowed(f->source, &why))
            return bt_fail(err, BT_EINVAL, "features", "feature %zu (%s): %s", i, f->source, why);
        if (f->kind == PREDICT_CATEGORY) {
            if (!name_ok(f->category) || has_upper(f->category))
                return bt_fail(err, BT_EINVAL, "features",
                               "feature %zu (%s): a category of 1 to %d lower-case bytes", i,
                               f->source, PREDICT_NAME_MAX);
        } else if (f->kind != PREDICT_NUMERIC) {
            return bt_fail(err, BT_EINVAL, "features", "feature %zu: unknown kind", i);
        } else if (f->category) {
            return bt_fail(err, BT_EINVAL, "features", "feature %zu: a number has no category", i);
        }
    }
    if (!isfinite(m->base))
        return bt_fail(err, BT_EINVAL, "base", "the base margin must be finite");
    if (m->n_trees > PREDICT_TREES_MAX)
        return bt_fail(err, BT_EINVAL, "trees", "more than %d trees", PREDICT_TREES_MAX);
    if (m->n_nodes > PREDICT_NODES_MAX)
        return bt_fail(err, BT_EINVAL, "trees", "more than %u nodes", PREDICT_NODES_MAX);
    if (m->n_trees && (!m->roots || !m->nodes))
        return bt_fail(err, BT_EINVAL, "trees", "trees without nodes");
    if (!m->n_trees && m->n_nodes)
        return bt_fail(err, BT_EINVAL, "trees", "nodes without trees");
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t begin = m->roots[t];
        size_t end = t + 1 < m->n_trees ? m->roots[t + 1] : m->n_nodes;
        if ((t == 0 && begin != 0) || end > m->n_nodes)
            return bt_fail(err, BT_EINVAL, "trees",
                           "tree %zu: trees must cover the node array in order", t);
        bt_err rc = check_tree(m, t, begin, end, err);
        if (rc)
            return rc;
    }
    if (m->n_terms > PREDICT_FEATURES_MAX)
        return bt_fail(err, BT_EINVAL, "terms", "more than %d terms", PREDICT_FEATURES_MAX);
    if (m->n_terms && !m->terms)
        return bt_fail(err, BT_EINVAL, "terms", "terms missing");
    for (size_t t = 0; t < m->n_terms; t++) {
        bt_err rc = check_term(m, t, err);
        if (rc)
            return rc;
    }
    return check_calibration(&m->calibration, err);
}

/* ---- prediction ---- */

static inline size_t tree_leaf(const struct predict_node *nodes, size_t i, const float *x)
{
    while (nodes[i].feature >= 0) {
        const struct predict_node *n = &nodes[i];
        float v = x[n->feature];
        i = (size_t)(isnan(v) ? n->missing : v < n->threshold ? n->yes : n->no);
    }
    return i;
}

/* The bin of v: the number of edges <= v. */
static size_t term_bin(const struct predict_term *t, double v)
{
    size_t lo = 0, hi = t->n_edges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->edges[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double term_weight(const struct predict_term *t, float v)
{
    return isnan(v) ? t->missing_weight : t->weights[term_bin(t, v)];
}

/*
 * The fast walk. A node is 16 bytes: threshold, feature, and both children;
 * a NaN goes to `yes` when the node's flag says the missing branch is yes
 * (XGBoost's default_left), else to `no`, which is where an unordered
 * comparison sends it anyway. A leaf's children are itself (and its value
 * sits in the threshold's place, on the line just loaded), so walking any
 * tree `depth` steps lands on its leaf with no test for "is this a leaf";
 * the step indexes the children by the test instead of branching on it,
 * and trees are walked eight at a time so that their loads overlap.
 * Explanations read the inner nodes' values from the model's own nodes.
 */
#define FAST_DEPTH_MAX 32
#define FAST_LANES     8

struct fast_node {
    float threshold;        /* a leaf: its value, as the float the sum adds */
    uint32_t feature_flags; /* feature index << 1 | missing-goes-yes */
    uint32_t child[2];      /* [0] no, [1] yes: indexed by the test, not branched on */
};

struct predict_fast {
    const struct fast_node *nodes; /* indexed like the model's nodes */
    uint32_t depth;                /* the deepest tree's depth (steps root to leaf) */
};

bt_err predict_model_prepare(struct predict_model *m, struct arena *arena)
{
    m->fast = NULL;
    struct fast_node *nodes =
        arena_alloc_raw(arena, (m->n_nodes ? m->n_nodes : 1) * sizeof(*nodes));
    uint32_t *depth = arena_alloc(arena, (m->n_nodes ? m->n_nodes : 1) * sizeof(*depth));
    struct predict_fast *fast = arena_alloc(arena, sizeof(*fast));
    if (!nodes || !depth || !fast)
        return BT_ETOOBIG;
    uint32_t deepest = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const struct predict_node *n = &m->nodes[i];
        if (n->feature < 0) {
            nodes[i] = (struct fast_node){(float)n->value, 0, {(uint32_t)i, (uint32_t)i}};
            continue;
        }
        if (n->missing != n->yes && n->missing != n->no)
            return BT_OK; /* no fast form: the plain walk serves */
        nodes[i] = (struct fast_node){n->threshold,
                                      (uint32_t)n->feature << 1 |
                                          (n->missing == n->yes && n->yes != n->no),
                                      {(uint32_t)n->no, (uint32_t)n->yes}};
    }
    /* Children come after parents (predict_model_check), so one forward pass
     * gives every node its depth. */
    for (size_t t = 0; t < m->n_trees; t++)
        depth[m->roots[t]] = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const struct predict_node *n = &m->nodes[i];
        if (n->feature < 0) {
            if (depth[i] > deepest)
                deepest = depth[i];
            continue;
        }
        if (depth[i] + 1 > FAST_DEPTH_MAX)
            return BT_OK;
        depth[n->yes] = depth[i] + 1;
        depth[n->no] = depth[i] + 1;
    }
    fast->nodes = nodes;
    fast->depth = deepest;
    m->fast = fast;
    return BT_OK;
}

static inline uint32_t fast_step(const struct fast_node *nodes, uint32_t i, const float *x)
{
    const struct fast_node *n = &nodes[i];
    float v = x[n->feature_flags >> 1];
    /* v < threshold is false for NaN; v != v is true only for NaN. */
    uint32_t go_yes = (uint32_t)(v < n->threshold) | ((uint32_t)(v != v) & n->feature_flags);
    return n->child[go_yes & 1];
}

static float fast_trees(const struct predict_model *m, const float *x)
{
    const struct fast_node *nodes = m->fast->nodes;
    uint32_t depth = m->fast->depth;
    float sum = (float)m->base;
    size_t t = 0;
    /* Eight named lanes rather than an array, so that they stay in registers. */
    for (; t + FAST_LANES <= m->n_trees; t += FAST_LANES) {
        const uint32_t *r = &m->roots[t];
        uint32_t a0 = r[0], a1 = r[1], a2 = r[2], a3 = r[3], a4 = r[4], a5 = r[5], a6 = r[6],
                 a7 = r[7];
        for (uint32_t d = 0; d < depth; d++) {
            a0 = fast_step(nodes, a0, x);
            a1 = fast_step(nodes, a1, x);
            a2 = fast_step(nodes, a2, x);
            a3 = fast_step(nodes, a3, x);
            a4 = fast_step(nodes, a4, x);
            a5 = fast_step(nodes, a5, x);
            a6 = fast_step(nodes, a6, x);
            a7 = fast_step(nodes, a7, x);
        }
        /* In tree order, as the plain walk and XGBoost add them. */
        sum += nodes[a0].threshold;
        sum += nodes[a1].threshold;
        sum += nodes[a2].threshold;
        sum += nodes[a3].threshold;
        sum += nodes[a4].threshold;
        sum += nodes[a5].threshold;
        sum += nodes[a6].threshold;
        sum += nodes[a7].threshold;
    }
    for (; t < m->n_trees; t++) {
        uint32_t i = m->roots[t];
        for (uint32_t d = 0; d < depth; d++)
            i = fast_step(nodes, i, x);
        sum += nodes[i].threshold;
    }
    return sum;
}

double predict_margin(const struct predict_model *m, const float *x)
{
    if (m->fast) {
        double margin = fast_trees(m, x);
        for (size_t t = 0; t < m->n_terms; t++)
            margin += term_weight(&m->terms[t], x[m->terms[t].feature]);
        return margin;
    }
    /* Trees add up in float from the base, in tree order, as XGBoost does:
     * this gives XGBoost's margin to the bit rather than a sum more precise
     * than the one the model was validated with. */
    float trees = (float)m->base;
    const struct predict_node *nodes = m->nodes;
    for (size_t t = 0; t < m->n_trees; t++)
        trees += (float)nodes[tree_leaf(nodes, m->roots[t], x)].value;
    double margin = trees;
    for (size_t t = 0; t < m->n_terms; t++)
        margin += term_weight(&m->terms[t], x[m->terms[t].feature]);
    return margin;
}

static double logistic(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double predict_probability(const struct predict_model *m, double margin)
{
    const struct predict_calibration *c = &m->calibration;
    double p;
    if (isnan(margin))
        return NAN;
    switch (c->kind) {
    case PREDICT_CALIBRATION_PLATT:
        p = logistic(c->a * margin + c->b);
        break;
    case PREDICT_CALIBRATION_ISOTONIC: {
        size_t n = c->n_points;
        if (margin <= c->margin[0]) {
            p = c->p[0];
        } else if (margin >= c->margin[n - 1]) {
            p = c->p[n - 1];
        } else {
            size_t lo = 0, hi = n - 1; /* margin[lo] < margin < margin[hi] */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (c->margin[mid] <= margin)
                    lo = mid;
                else
                    hi = mid;
            }
            double w = (margin - c->margin[lo]) / (c->margin[hi] - c->margin[lo]);
            p = c->p[lo] + w * (c->p[hi] - c->p[lo]);
        }
        break;
    }
    default:
        p = logistic(margin);
        break;
    }
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

void predict_explain(const struct predict_model *m, const float *x, double *contributions,
                     double *bias)
{
    for (size_t i = 0; i < m->n_features; i++)
        contributions[i] = 0;
    double b = m->base;
    const struct predict_node *nodes = m->nodes;
    /* The fast form credits leaves' +0.0 to feature 0, so it needs one. */
    bool fast = m->fast && m->n_features > 0;
    for (size_t t = 0; t < m->n_trees && fast; t++) {
        uint32_t i = m->roots[t];
        b += nodes[i].value;
        for (uint32_t d = 0; d < m->fast->depth; d++) {
            /* No branch at a leaf either: it loops to itself and adds +0.0
             * to feature 0, which leaves every sum exactly as it was. */
            const struct fast_node *f = &m->fast->nodes[i];
            uint32_t next = fast_step(m->fast->nodes, i, x);
            contributions[f->feature_flags >> 1] += nodes[next].value - nodes[i].value;
            i = next;
        }
    }
    for (size_t t = 0; t < m->n_trees && !fast; t++) {
        size_t i = m->roots[t];
        b += nodes[i].value;
        while (nodes[i].feature >= 0) {
            const struct predict_node *n = &nodes[i];
            float v = x[n->feature];
            size_t next = (size_t)(isnan(v) ? n->missing : v < n->threshold ? n->yes : n->no);
            contributions[n->feature] += nodes[next].value - n->value;
            i = next;
        }
    }
    for (size_t t = 0; t < m->n_terms; t++) {
        const struct predict_term *term = &m->terms[t];
        b += term->mean;
        contributions[term->feature] += term_weight(term, x[term->feature]) - term->mean;
    }
    *bias = b;
}

/* ---- reading features from a lead ---- */

struct predict_reader {
    const struct predict_model *model;
    struct rule_symtab *syms;
    int *slot; /* per feature */
};

bt_err predict_reader_new(const struct predict_model *m, struct predict_reader **out,
                          struct bt_error *err)
{
    *out = NULL;
    struct predict_reader *r = xcalloc(1, sizeof(*r));
    r->model = m;
    r->syms = rule_symtab_new(&score_lead_schema);
    r->slot = xcalloc(m->n_features ? m->n_features : 1, sizeof(*r->slot));
    for (size_t i = 0; i < m->n_features; i++) {
        char why[200];
        r->slot[i] = rule_symtab_add(r->syms, m->features[i].source, why, sizeof(why));
        if (r->slot[i] < 0) {
            bt_err rc = bt_fail(err, BT_EINVAL, "features", "feature %zu (%s): %s", i,
                                m->features[i].source, why);
            predict_reader_free(r);
            return rc;
        }
    }
    *out = r;
    return BT_OK;
}

void predict_reader_free(struct predict_reader *r)
{
    if (!r)
        return;
    rule_symtab_free(r->syms);
    free(r->slot);
    free(r);
}

static float numeric_value(const struct rule_value *v)
{
    switch (v->type) {
    case RULE_NUMBER:
        return (float)v->number;
    case RULE_BOOL:
        return v->boolean ? 1.0f : 0.0f;
    case RULE_STRING:
        return v->has_number ? (float)v->number : NAN;
    default:
        return NAN;
    }
}

/* A category compares the value's lower-cased text; a boolean reads as
 * "true"/"false" and a number as its shortest decimal form. */
static float category_value(const struct rule_value *v, const char *category)
{
    char buf[40];
    const char *text;
    switch (v->type) {
    case RULE_STRING:
        return v->len == strlen(category) && !memcmp(v->lower, category, v->len) ? 1.0f : 0.0f;
    case RULE_BOOL:
        text = v->boolean ? "true" : "false";
        break;
    case RULE_NUMBER:
        snprintf(buf, sizeof(buf), "%.15g", v->number);
        text = buf;
        break;
    default:
        return NAN;
    }
    return strcmp(text, category) == 0 ? 1.0f : 0.0f;
}

static bt_err reader_slots(const struct predict_reader *r, const struct lead *lead,
                           const struct activity_fact *facts, size_t n_facts, int64_t at,
                           struct arena *arena, struct rule_value **out)
{
    size_t n = rule_symtab_count(r->syms);
    struct rule_value *slots = arena_alloc(arena, (n ? n : 1) * sizeof(*slots));
    if (!slots)
        return BT_ETOOBIG;
    bt_err rc = score_fill_lead(r->syms, lead, facts, n_facts, NULL, at, arena, slots);
    if (rc)
        return rc;
    *out = slots;
    return BT_OK;
}

static void slots_to_features(const struct predict_reader *r, const struct rule_value *slots,
                              float *x)
{
    const struct predict_model *m = r->model;
    for (size_t i = 0; i < m->n_features; i++) {
        const struct rule_value *v = &slots[r->slot[i]];
        x[i] = m->features[i].kind == PREDICT_CATEGORY ? category_value(v, m->features[i].category)
                                                       : numeric_value(v);
    }
}

bt_err predict_reader_features(const struct predict_reader *r, const struct lead *lead,
                               const struct activity_fact *facts, size_t n_facts, int64_t at,
                               struct arena *arena, float *x)
{
    struct rule_value *slots;
    bt_err rc = reader_slots(r, lead, facts, n_facts, at, arena, &slots);
    if (rc)
        return rc;
    slots_to_features(r, slots, x);
    return BT_OK;
}

bt_err predict_features(const struct predict_model *m, const struct lead *lead,
                        const struct activity_fact *facts, size_t n_facts, int64_t at,
                        struct arena *arena, float *x)
{
    struct predict_reader *r;
    bt_err rc = predict_reader_new(m, &r, NULL);
    if (rc)
        return rc;
    rc = predict_reader_features(r, lead, facts, n_facts, at, arena, x);
    predict_reader_free(r);
    return rc;
}

/* ---- factors ---- */

static void insert_factor(struct predict_factor *list, size_t *n, struct predict_factor f,
                          bool positive)
{
    size_t k = *n;
    if (k == PREDICT_FACTORS_MAX) {
        double last = list[k - 1].contribution;
        if (positive ? f.contribution <= last : f.contribution >= last)
            return;
        k--;
    } else {
        (*n)++;
    }
    while (k > 0 && (positive ? list[k - 1].contribution < f.contribution
                              : list[k - 1].contribution > f.contribution)) {
        list[k] = list[k - 1];
        k--;
    }
    list[k] = f;
}

bt_err predict_reader_lead(const struct predict_reader *r, const struct lead *lead,
                           const struct activity_fact *facts, size_t n_facts, int64_t at,
                           struct arena *arena, float *x, double *contrib,
                           struct predict_result *out)
{
    const struct predict_model *m = r->model;
    memset(out, 0, sizeof(*out));
    struct rule_value *slots;
    bt_err rc = reader_slots(r, lead, facts, n_facts, at, arena, &slots);
    if (rc)
        return rc;
    slots_to_features(r, slots, x);
    double bias;
    predict_explain(m, x, contrib, &bias);
    out->margin = predict_margin(m, x);
    out->probability = predict_probability(m, out->margin);

    /* One group per source (its slot): category indicators sum into one. */
    size_t n_groups = rule_symtab_count(r->syms);
    double *sum = arena_alloc(arena, (n_groups ? n_groups : 1) * sizeof(*sum));
    int *first = arena_alloc(arena, (n_groups ? n_groups : 1) * sizeof(*first));
    if (!sum || !first)
        return BT_ETOOBIG;
    for (size_t g = 0; g < n_groups; g++)
        first[g] = -1;
    for (size_t i = 0; i < m->n_features; i++) {
        int g = r->slot[i];
        sum[g] += contrib[i];
        if (first[g] < 0)
            first[g] = (int)i;
    }
    for (size_t g = 0; g < n_groups; g++) {
        if (first[g] < 0 || sum[g] == 0)
            continue;
        const struct predict_feature *f = &m->features[first[g]];
        const struct rule_value *v = &slots[g];
        struct predict_factor factor = {f->source, sum[g], x[first[g]]};
        if (f->kind == PREDICT_CATEGORY) {
            bool any_category = false;
            for (size_t i = 0; i < m->n_features; i++)
                if (r->slot[i] == (int)g && m->features[i].kind == PREDICT_CATEGORY)
                    any_category = true;
            if (any_category) {
                if (v->type == RULE_STRING)
                    factor.feature =
                        arena_printf(arena, "%s=%.*s", f->source, (int)v->len, v->lower);
                else if (v->type == RULE_MISSING)
                    factor.feature = arena_printf(arena, "%s missing", f->source);
                else if (v->type == RULE_BOOL)
                    factor.feature =
                        arena_printf(arena, "%s=%s", f->source, v->boolean ? "true" : "false");
                else
                    factor.feature = arena_printf(arena, "%s=%.15g", f->source, v->number);
                if (!factor.feature)
                    return BT_ETOOBIG;
                factor.value = v->type == RULE_MISSING ? NAN : 1.0;
            }
        }
        if (factor.contribution > 0)
            insert_factor(out->positive, &out->n_positive, factor, true);
        else
            insert_factor(out->negative, &out->n_negative, factor, false);
    }
    return BT_OK;
}

bt_err predict_lead(const struct predict_model *m, const struct lead *lead,
                    const struct activity_fact *facts, size_t n_facts, int64_t at,
                    struct arena *arena, float *x, double *contrib, struct predict_result *out)
{
    struct predict_reader *r;
    bt_err rc = predict_reader_new(m, &r, NULL);
    if (rc)
        return rc;
    rc = predict_reader_lead(r, lead, facts, n_facts, at, arena, x, contrib, out);
    predict_reader_free(r);
    return rc;
}

/* ---- JSON ---- */

static json_t *number(double v)
{
    return json_real(v);
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, number(v[i]));
    return a;
}

json_t *predict_model_to_json(const struct predict_model *m)
{
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string(FORMAT_NAME));
    json_t *features = json_array();
    for (size_t i = 0; i < m->n_features; i++) {
        const struct predict_feature *f = &m->features[i];
        json_t *o = json_pack("{s:s, s:s}", "source", f->source, "kind",
                              f->kind == PREDICT_CATEGORY ? "category" : "numeric");
        if (f->kind == PREDICT_CATEGORY)
            json_object_set_new(o, "category", json_string(f->category));
        json_array_append_new(features, o);
    }
    json_object_set_new(j, "features", features);
    json_object_set_new(j, "base", number(m->base));
    json_t *trees = json_array();
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t begin = m->roots[t];
        size_t end = t + 1 < m->n_trees ? m->roots[t + 1] : m->n_nodes;
        json_t *nodes = json_array();
        for (size_t i = begin; i < end; i++) {
            const struct predict_node *n = &m->nodes[i];
            json_t *row;
            if (n->feature < 0)
                row = json_pack("[i, n, i, i, i, o, o]", -1, -1, -1, -1, number(n->value),
                                number(n->cover));
            else
                row = json_pack("[i, o, i, i, i, o, o]", (int)n->feature, number(n->threshold),
                                (int)(n->yes - (int32_t)begin), (int)(n->no - (int32_t)begin),
                                (int)(n->missing - (int32_t)begin), number(n->value),
                                number(n->cover));
            json_array_append_new(nodes, row);
        }
        json_array_append_new(trees, json_pack("{s:o}", "nodes", nodes));
    }
    json_object_set_new(j, "trees", trees);
    json_t *terms = json_array();
    for (size_t t = 0; t < m->n_terms; t++) {
        const struct predict_term *term = &m->terms[t];
        json_array_append_new(terms,
                              json_pack("{s:i, s:o, s:o, s:o, s:o}", "feature", (int)term->feature,
                                        "edges", doubles(term->edges, term->n_edges), "weights",
                                        doubles(term->weights, term->n_edges + 1), "missing_weight",
                                        number(term->missing_weight), "mean", number(term->mean)));
    }
    json_object_set_new(j, "terms", terms);
    const struct predict_calibration *c = &m->calibration;
    json_t *cal;
    if (c->kind == PREDICT_CALIBRATION_PLATT)
        cal = json_pack("{s:s, s:o, s:o}", "kind", "platt", "a", number(c->a), "b", number(c->b));
    else if (c->kind == PREDICT_CALIBRATION_ISOTONIC)
        cal = json_pack("{s:s, s:o, s:o}", "kind", "isotonic", "margin",
                        doubles(c->margin, c->n_points), "p", doubles(c->p, c->n_points));
    else
        cal = json_pack("{s:s}", "kind", "none");
    json_object_set_new(j, "calibration", cal);
    return j;
}

/* Strict reading: every object's keys are known, every value of its type. */

static bt_err only_keys(const json_t *o, const char *where, const char *const *keys,
                        struct bt_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            if (!strcmp(k, keys[i]))
                known = true;
        if (!known)
            return bt_fail(err, BT_EINVAL, where, "%s: unknown key '%.64s'", where, k);
    }
    return BT_OK;
}

static bt_err get_double(const json_t *v, const char *where, double *out, struct bt_error *err)
{
    if (!json_is_number(v))
        return bt_fail(err, BT_EINVAL, where, "%s: expected a number", where);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return bt_fail(err, BT_EINVAL, where, "%s: not a finite number", where);
    return BT_OK;
}

static bt_err get_index(const json_t *v, const char *where, json_int_t lo, json_int_t hi,
                        json_int_t *out, struct bt_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bt_fail(err, BT_EINVAL, where, "%s: expected an integer from %lld to %lld", where,
                       (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return BT_OK;
}

static bt_err get_doubles(const json_t *v, const char *where, size_t max, struct arena *arena,
                          double **out, size_t *n, struct bt_error *err)
{
    if (!json_is_array(v))
        return bt_fail(err, BT_EINVAL, where, "%s: expected an array", where);
    size_t count = json_array_size(v);
    if (count > max)
        return bt_fail(err, BT_EINVAL, where, "%s: more than %zu numbers", where, max);
    double *d = arena_alloc(arena, (count ? count : 1) * sizeof(*d));
    if (!d)
        return bt_fail(err, BT_ETOOBIG, where, "%s: out of memory", where);
    for (size_t i = 0; i < count; i++) {
        bt_err rc = get_double(json_array_get(v, i), where, &d[i], err);
        if (rc)
            return rc;
    }
    *out = d;
    *n = count;
    return BT_OK;
}

static bt_err read_features(const json_t *a, struct arena *arena, struct predict_model *m,
                            struct bt_error *err)
{
    static const char *const keys[] = {"source", "kind", "category", NULL};
    if (!json_is_array(a))
        return bt_fail(err, BT_EINVAL, "features", "features: expected an array");
    size_t n = json_array_size(a);
    if (n > PREDICT_FEATURES_MAX)
        return bt_fail(err, BT_EINVAL, "features", "more than %d features", PREDICT_FEATURES_MAX);
    struct predict_feature *f = arena_alloc(arena, (n ? n : 1) * sizeof(*f));
    if (!f)
        return BT_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(a, i);
        if (!json_is_object(o))
            return bt_fail(err, BT_EINVAL, "features", "feature %zu: expected an object", i);
        bt_err rc = only_keys(o, "features", keys, err);
        if (rc)
            return rc;
        const json_t *source = json_object_get(o, "source");
        const json_t *kind = json_object_get(o, "kind");
        const json_t *category = json_object_get(o, "category");
        if (!json_is_string(source) || !json_is_string(kind))
            return bt_fail(err, BT_EINVAL, "features",
                           "feature %zu: source and kind must be strings", i);
        f[i].source = arena_strdup(arena, json_string_value(source));
        if (!strcmp(json_string_value(kind), "numeric")) {
            f[i].kind = PREDICT_NUMERIC;
            if (category)
                return bt_fail(err, BT_EINVAL, "features",
                               "feature %zu: a numeric feature has no category", i);
        } else if (!strcmp(json_string_value(kind), "category")) {
            f[i].kind = PREDICT_CATEGORY;
            if (!json_is_string(category))
                return bt_fail(err, BT_EINVAL, "features",
                               "feature %zu: a category feature needs its category (a string)", i);
            f[i].category = arena_strdup(arena, json_string_value(category));
        } else {
            return bt_fail(err, BT_EINVAL, "features",
                           "feature %zu: kind must be numeric or category", i);
        }
        if (!f[i].source || (f[i].kind == PREDICT_CATEGORY && !f[i].category))
            return BT_ETOOBIG;
    }
    m->features = f;
    m->n_features = n;
    return BT_OK;
}

static bt_err read_trees(const json_t *a, struct arena *arena, struct predict_model *m,
                         struct bt_error *err)
{
    static const char *const keys[] = {"nodes", NULL};
    if (!json_is_array(a))
        return bt_fail(err, BT_EINVAL, "trees", "trees: expected an array");
    size_t n = json_array_size(a);
    if (n > PREDICT_TREES_MAX)
        return bt_fail(err, BT_EINVAL, "trees", "more than %d trees", PREDICT_TREES_MAX);
    size_t total = 0;
    for (size_t t = 0; t < n; t++) {
        const json_t *o = json_array_get(a, t);
        if (!json_is_object(o))
            return bt_fail(err, BT_EINVAL, "trees", "tree %zu: expected an object", t);
        bt_err rc = only_keys(o, "trees", keys, err);
        if (rc)
            return rc;
        const json_t *nodes = json_object_get(o, "nodes");
        if (!json_is_array(nodes) || json_array_size(nodes) == 0)
            return bt_fail(err, BT_EINVAL, "trees", "tree %zu: nodes must be a non-empty array", t);
        total += json_array_size(nodes);
        if (total > PREDICT_NODES_MAX)
            return bt_fail(err, BT_EINVAL, "trees", "more than %u nodes", PREDICT_NODES_MAX);
    }
    uint32_t *roots = arena_alloc(arena, (n ? n : 1) * sizeof(*roots));
    struct predict_node *all = arena_alloc(arena, (total ? total : 1) * sizeof(*all));
    if (!roots || !all)
        return bt_fail(err, BT_ETOOBIG, "trees", "the model is too large for memory");
    size_t at = 0;
    for (size_t t = 0; t < n; t++) {
        const json_t *nodes = json_object_get(json_array_get(a, t), "nodes");
        size_t count = json_array_size(nodes);
        roots[t] = (uint32_t)at;
        for (size_t i = 0; i < count; i++) {
            const json_t *row = json_array_get(nodes, i);
            struct predict_node *node = &all[at + i];
            char where[64];
            snprintf(where, sizeof(where), "tree %zu, node %zu", t, i);
            if (!json_is_array(row) || json_array_size(row) != 7)
                return bt_fail(err, BT_EINVAL, "trees",
                               "%s: expected [feature, threshold, yes, no, missing, value, cover]",
                               where);
            json_int_t feature, yes = 0, no = 0, missing = 0;
            bt_err rc = get_index(json_array_get(row, 0), where, -1, PREDICT_FEATURES_MAX - 1,
                                  &feature, err);
            if (!rc)
                rc = get_double(json_array_get(row, 5), where, &node->value, err);
            if (!rc)
                rc = get_double(json_array_get(row, 6), where, &node->cover, err);
            if (rc)
                return rc;
            node->feature = (int32_t)feature;
            if (feature < 0) {
                for (size_t k = 1; k <= 4; k++) {
                    const json_t *v = json_array_get(row, k);
                    if (k == 1 ? !json_is_null(v)
                               : !json_is_integer(v) || json_integer_value(v) != -1)
                        return bt_fail(err, BT_EINVAL, "trees",
                                       "%s: a leaf is [-1, null, -1, -1, -1, value, cover]", where);
                }
                node->threshold = 0;
                node->yes = node->no = node->missing = -1;
                continue;
            }
            double threshold;
            rc = get_double(json_array_get(row, 1), where, &threshold, err);
            if (!rc)
                rc = get_index(json_array_get(row, 2), where, 1, (json_int_t)count - 1, &yes, err);
            if (!rc)
                rc = get_index(json_array_get(row, 3), where, 1, (json_int_t)count - 1, &no, err);
            if (!rc)
                rc = get_index(json_array_get(row, 4), where, 1, (json_int_t)count - 1, &missing,
                               err);
            if (rc)
                return rc;
            if (threshold > 3.4e38 || threshold < -3.4e38)
                return bt_fail(err, BT_EINVAL, "trees", "%s: threshold out of float range", where);
            node->threshold = (float)threshold;
            node->yes = (int32_t)(at + (size_t)yes);
            node->no = (int32_t)(at + (size_t)no);
            node->missing = (int32_t)(at + (size_t)missing);
        }
        at += count;
    }
    m->roots = roots;
    m->n_trees = n;
    m->nodes = all;
    m->n_nodes = total;
    return BT_OK;
}

static bt_err read_terms(const json_t *a, struct arena *arena, struct predict_model *m,
                         struct bt_error *err)
{
    static const char *const keys[] = {"feature",        "edges", "weights",
                                       "missing_weight", "mean",  NULL};
    if (!json_is_array(a))
        return bt_fail(err, BT_EINVAL, "terms", "terms: expected an array");
    size_t n = json_array_size(a);
    if (n > PREDICT_FEATURES_MAX)
        return bt_fail(err, BT_EINVAL, "terms", "more than %d terms", PREDICT_FEATURES_MAX);
    struct predict_term *terms = arena_alloc(arena, (n ? n : 1) * sizeof(*terms));
    if (!terms)
        return BT_ETOOBIG;
    for (size_t t = 0; t < n; t++) {
        const json_t *o = json_array_get(a, t);
        char where[32];
        snprintf(where, sizeof(where), "term %zu", t);
        if (!json_is_object(o))
            return bt_fail(err, BT_EINVAL, "terms", "%s: expected an object", where);
        bt_err rc = only_keys(o, "terms", keys, err);
        json_int_t feature = 0;
        double *edges = NULL, *weights = NULL;
        size_t n_edges = 0, n_weights = 0;
        if (!rc)
            rc = get_index(json_object_get(o, "feature"), where, 0, PREDICT_FEATURES_MAX - 1,
                           &feature, err);
        if (!rc)
            rc = get_doubles(json_object_get(o, "edges"), where, PREDICT_EDGES_MAX, arena, &edges,
                             &n_edges, err);
        if (!rc)
            rc = get_doubles(json_object_get(o, "weights"), where, PREDICT_EDGES_MAX + 1, arena,
                             &weights, &n_weights, err);
        if (!rc)
            rc = get_double(json_object_get(o, "missing_weight"), where, &terms[t].missing_weight,
                            err);
        if (!rc)
            rc = get_double(json_object_get(o, "mean"), where, &terms[t].mean, err);
        if (rc)
            return rc;
        if (n_weights != n_edges + 1)
            return bt_fail(err, BT_EINVAL, "terms", "%s: weights must be one more than edges",
                           where);
        terms[t].feature = (int32_t)feature;
        terms[t].edges = edges;
        terms[t].n_edges = n_edges;
        terms[t].weights = weights;
    }
    m->terms = terms;
    m->n_terms = n;
    return BT_OK;
}

static bt_err read_calibration(const json_t *o, struct arena *arena, struct predict_model *m,
                               struct bt_error *err)
{
    static const char *const none_keys[] = {"kind", NULL};
    static const char *const platt_keys[] = {"kind", "a", "b", NULL};
    static const char *const iso_keys[] = {"kind", "margin", "p", NULL};
    struct predict_calibration *c = &m->calibration;
    memset(c, 0, sizeof(*c));
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind")))
        return bt_fail(err, BT_EINVAL, "calibration", "calibration: an object with a kind");
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!strcmp(kind, "none")) {
        c->kind = PREDICT_CALIBRATION_NONE;
        return only_keys(o, "calibration", none_keys, err);
    }
    if (!strcmp(kind, "platt")) {
        c->kind = PREDICT_CALIBRATION_PLATT;
        bt_err rc = only_keys(o, "calibration", platt_keys, err);
        if (!rc)
            rc = get_double(json_object_get(o, "a"), "calibration.a", &c->a, err);
        if (!rc)
            rc = get_double(json_object_get(o, "b"), "calibration.b", &c->b, err);
        return rc;
    }
    if (!strcmp(kind, "isotonic")) {
        c->kind = PREDICT_CALIBRATION_ISOTONIC;
        double *margin = NULL, *p = NULL;
        size_t n_margin = 0, n_p = 0;
        bt_err rc = only_keys(o, "calibration", iso_keys, err);
        if (!rc)
            rc = get_doubles(json_object_get(o, "margin"), "calibration.margin",
                             PREDICT_CALIBRATION_MAX, arena, &margin, &n_margin, err);
        if (!rc)
            rc = get_doubles(json_object_get(o, "p"), "calibration.p", PREDICT_CALIBRATION_MAX,
                             arena, &p, &n_p, err);
        if (rc)
            return rc;
        if (n_margin != n_p)
            return bt_fail(err, BT_EINVAL, "calibration",
                           "calibration: margin and p must have the same length");
        c->margin = margin;
        c->p = p;
        c->n_points = n_p;
        return BT_OK;
    }
    return bt_fail(err, BT_EINVAL, "calibration",
                   "calibration: kind must be none, platt or isotonic");
}

bt_err predict_model_from_json(const json_t *j, struct arena *arena, struct predict_model *out,
                               struct bt_error *err)
{
    static const char *const keys[] = {"format", "features",    "base", "trees",
                                       "terms",  "calibration", NULL};
    struct predict_model m;
    memset(&m, 0, sizeof(m));
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return bt_fail(err, BT_EINVAL, NULL, "a model is a JSON object");
    bt_err rc = only_keys(j, "model", keys, err);
    if (rc)
        return rc;
    const json_t *format = json_object_get(j, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), FORMAT_NAME))
        return bt_fail(err, BT_EINVAL, "format", "format must be \"%s\"", FORMAT_NAME);
    rc = read_features(json_object_get(j, "features"), arena, &m, err);
    if (!rc)
        rc = get_double(json_object_get(j, "base"), "base", &m.base, err);
    if (!rc)
        rc = read_trees(json_object_get(j, "trees"), arena, &m, err);
    if (!rc)
        rc = read_terms(json_object_get(j, "terms"), arena, &m, err);
    if (!rc)
        rc = read_calibration(json_object_get(j, "calibration"), arena, &m, err);
    if (!rc)
        rc = predict_model_check(&m, err);
    if (!rc)
        rc = predict_model_prepare(&m, arena);
    if (rc)
        return rc == BT_ETOOBIG ? bt_fail(err, BT_ETOOBIG, NULL, "the model is too large") : rc;
    *out = m;
    return BT_OK;
}
