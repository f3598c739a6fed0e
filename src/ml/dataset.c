/*
 * dataset.c - labelled history as features known at qualification.
 *
 * The spec is derived by counting, over the training rows only, the values
 * of a fixed set of categorical lead attributes, of every custom field and
 * of every activity type; counts are kept per source in small linear
 * tables (a source with more than VALUES_MAX distinct values keeps its
 * first ones: an identifier-like column makes no useful indicators anyway).
 */
#include "ml/dataset.h"

#include "store/store_models.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VALUES_MAX  1000
#define SOURCES_MAX 512

void dataset_init(struct dataset *ds)
{
    memset(ds, 0, sizeof(*ds));
}

void dataset_release(struct dataset *ds)
{
    arena_release(&ds->arena);
    free(ds->rows);
    memset(ds, 0, sizeof(*ds));
}

bt_err dataset_add(struct dataset *ds, const struct lead *lead, int64_t qualified_at, int label,
                   const struct activity *acts, size_t n_acts, struct bt_error *err)
{
    if (ds->n >= DATASET_ROWS_MAX)
        return bt_fail(err, BT_ETOOBIG, NULL, "more than %d labelled leads", DATASET_ROWS_MAX);
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 1024;
        struct dataset_row *r = realloc(ds->rows, cap * sizeof(*r));
        if (!r)
            bt_die("out of memory");
        ds->rows = r;
        ds->cap = cap;
    }
    struct arena *a = &ds->arena;
    struct dataset_row *row = &ds->rows[ds->n];
    memset(row, 0, sizeof(*row));
    for (size_t i = 0; i < LEAD_ATTR_COUNT; i++)
        row->lead.attr[i] = lead->attr[i] ? arena_strdup(a, lead->attr[i]) : NULL;
    row->lead.attr[LEAD_STAGE] = NULL; /* the outcome: never kept */
    row->lead.attr[LEAD_OWNER] = NULL;
    row->lead.id = lead->id;
    row->lead.email_free = lead->email_free;
    row->lead.employees = lead->employees;
    row->lead.fields_json = arena_strdup(a, lead->fields_json ? lead->fields_json : "{}");
    row->lead.created_at = lead->created_at;
    row->lead.updated_at = lead->created_at;
    row->qualified_at = qualified_at;
    row->label = label ? 1 : 0;

    /* Only what was known when the lead qualified. */
    struct activity *known = NULL;
    size_t n_known = 0;
    if (n_acts) {
        known = arena_alloc(a, n_acts * sizeof(*known));
        if (!known)
            return bt_fail(err, BT_ETOOBIG, NULL, "the dataset is larger than memory allows");
        for (size_t i = 0; i < n_acts; i++)
            if (acts[i].occurred_at <= qualified_at) {
                known[n_known] = acts[i];
                known[n_known].type = arena_strdup(a, acts[i].type);
                known[n_known].properties_json =
                    arena_strdup(a, acts[i].properties_json ? acts[i].properties_json : "{}");
                n_known++;
            }
    }
    row->acts = known;
    row->n_acts = n_known;
    struct activity_fact *facts = NULL;
    size_t n_facts = 0;
    if (n_known) {
        struct arena scratch = ARENA_INIT;
        bt_err rc = score_activity_facts(known, n_known, &scratch, &facts, &n_facts);
        if (rc) {
            arena_release(&scratch);
            return bt_fail(err, rc, NULL, "activity facts of lead %lld", (long long)lead->id);
        }
        struct activity_fact *copy = arena_alloc(a, n_facts * sizeof(*copy) + 1);
        for (size_t i = 0; i < n_facts; i++) {
            copy[i] = facts[i];
            copy[i].type = arena_strdup(a, facts[i].type);
        }
        arena_release(&scratch);
        facts = copy;
    }
    row->facts = facts;
    row->n_facts = n_facts;
    ds->positives += (size_t)row->label;
    ds->n++;
    return BT_OK;
}

static bt_err load_one(void *cls, const struct store_history_row *r, struct bt_error *err)
{
    return dataset_add(cls, &r->lead, r->qualified_at, r->label, r->acts, r->n_acts, err);
}

bt_err dataset_load(struct store_conn *c, const char *target, int64_t since, int64_t until,
                    struct dataset *ds, struct bt_error *err)
{
    struct arena scratch = ARENA_INIT;
    bt_err rc = store_history_each(c, target, since, until, &scratch, load_one, ds, err);
    arena_release(&scratch);
    return rc;
}

static bool excluded(const char *source, const struct dataset_spec_options *o)
{
    for (size_t i = 0; o && i < o->n_exclude; i++)
        if (!strcmp(o->exclude[i], source))
            return true;
    return false;
}

bt_err dataset_spec_check(const struct predict_feature *f, size_t n,
                          const struct dataset_spec_options *o, struct bt_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *why;
        if (!predict_feature_source_allowed(f[i].source, &why))
            return bt_fail(err, BT_EINVAL, "features", "feature '%s' may not be used: %s",
                           f[i].source ? f[i].source : "", why);
        if (excluded(f[i].source, o))
            return bt_fail(
                err, BT_EINVAL, "features",
                "feature '%s' may not be used: it is excluded (predictive.exclude_fields)",
                f[i].source);
    }
    return BT_OK;
}

/* ---- counting values per source ---- */

struct value_count {
    char *value;
    size_t count;
};

struct source_count {
    char *source;
    bool numeric_only; /* every present value was a number */
    bool activity;
    size_t present;
    size_t n_values;
    struct value_count values[VALUES_MAX];
};

struct counter {
    size_t n;
    struct source_count *s[SOURCES_MAX];
};

static struct source_count *counter_get(struct counter *c, const char *source)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->s[i]->source, source))
            return c->s[i];
    if (c->n >= SOURCES_MAX)
        return NULL;
    struct source_count *s = calloc(1, sizeof(*s));
    if (!s)
        bt_die("out of memory");
    s->source = strdup(source);
    s->numeric_only = true;
    c->s[c->n++] = s;
    return s;
}

static void counter_free(struct counter *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = 0; j < c->s[i]->n_values; j++)
            free(c->s[i]->values[j].value);
        free(c->s[i]->source);
        free(c->s[i]);
    }
    c->n = 0;
}

static void count_text(struct source_count *s, const char *value)
{
    if (!s || !value || !*value)
        return;
    char low[PREDICT_NAME_MAX + 1];
    size_t len = strlen(value);
    if (len > PREDICT_NAME_MAX)
        return;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)value[i]);
    low[len] = '\0';
    s->present++;
    s->numeric_only = false;
    for (size_t i = 0; i < s->n_values; i++)
        if (!strcmp(s->values[i].value, low)) {
            s->values[i].count++;
            return;
        }
    if (s->n_values < VALUES_MAX) {
        s->values[s->n_values].value = strdup(low);
        s->values[s->n_values].count = 1;
        s->n_values++;
    }
}

static const char *const category_attrs[] = {
    "industry", "country", "state", "source", "employees_band", "title",
};
static const enum lead_attr category_attr_ids[] = {
    LEAD_INDUSTRY, LEAD_COUNTRY, LEAD_STATE, LEAD_SOURCE, LEAD_EMPLOYEES_BAND, LEAD_TITLE,
};

static int compare_values(const void *a, const void *b)
{
    const struct value_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->value, y->value);
}

struct spec_builder {
    struct arena *a;
    struct predict_feature *f;
    size_t n;
    const struct dataset_spec_options *o;
};

static void add_feature(struct spec_builder *b, const char *source, enum predict_feature_kind kind,
                        const char *category)
{
    if (b->n >= PREDICT_FEATURES_MAX || excluded(source, b->o))
        return;
    if (!predict_feature_source_allowed(source, NULL))
        return;
    struct predict_feature *f = &b->f[b->n++];
    f->source = arena_strdup(b->a, source);
    f->kind = kind;
    f->category = category ? arena_strdup(b->a, category) : NULL;
}

static void add_counted(struct spec_builder *b, struct source_count *s, size_t min_count)
{
    if (!s->present)
        return;
    if (s->numeric_only) {
        add_feature(b, s->source, PREDICT_NUMERIC, NULL);
        return;
    }
    qsort(s->values, s->n_values, sizeof(s->values[0]), compare_values);
    size_t added = 0;
    for (size_t i = 0; i < s->n_values && added < DATASET_CATEGORIES_MAX; i++) {
        if (s->values[i].count < min_count)
            break;
        /* A value every row has says nothing. */
        if (s->values[i].count == s->present && s->n_values == 1)
            break;
        add_feature(b, s->source, PREDICT_CATEGORY, s->values[i].value);
        added++;
    }
}

bt_err dataset_spec(const struct dataset *ds, size_t n_rows, const struct dataset_spec_options *o,
                    struct arena *a, struct predict_feature **out, size_t *n_out,
                    struct bt_error *err)
{
    if (n_rows > ds->n)
        n_rows = ds->n;
    size_t min_count = o && o->min_count ? o->min_count : 20;
    struct counter attrs = {0}, fields = {0}, acts = {0};
    bool any_employees = false;
    for (size_t r = 0; r < n_rows; r++) {
        const struct dataset_row *row = &ds->rows[r];
        for (size_t i = 0; i < sizeof(category_attrs) / sizeof(category_attrs[0]); i++)
            count_text(counter_get(&attrs, category_attrs[i]),
                       row->lead.attr[category_attr_ids[i]]);
        if (row->lead.employees >= 0)
            any_employees = true;
        json_t *j = json_loads(row->lead.fields_json, 0, NULL);
        if (json_is_object(j)) {
            const char *key;
            json_t *v;
            json_object_foreach(j, key, v)
            {
                char source[PREDICT_NAME_MAX + 1];
                if (strlen(key) + 7 > PREDICT_NAME_MAX)
                    continue;
                snprintf(source, sizeof(source), "fields.%s", key);
                struct source_count *s = counter_get(&fields, source);
                if (!s)
                    continue;
                if (json_is_number(v) || json_is_boolean(v)) {
                    s->present++;
                } else if (json_is_string(v)) {
                    const char *t = json_string_value(v);
                    char *end;
                    if (*t && (strtod(t, &end), *end == '\0'))
                        s->present++;
                    else
                        count_text(s, t);
                }
            }
        }
        json_decref(j);
        for (size_t i = 0; i < row->n_facts; i++) {
            struct source_count *s = counter_get(&acts, row->facts[i].type);
            if (s)
                s->present++;
        }
    }

    struct spec_builder b = {a, arena_alloc(a, PREDICT_FEATURES_MAX * sizeof(*b.f)), 0, o};
    if (!b.f) {
        counter_free(&attrs);
        counter_free(&fields);
        counter_free(&acts);
        return bt_fail(err, BT_ETOOBIG, NULL, "no memory for the feature specification");
    }
    if (any_employees)
        add_feature(&b, "employees", PREDICT_NUMERIC, NULL);
    add_feature(&b, "email.free", PREDICT_NUMERIC, NULL);
    for (size_t i = 0; i < attrs.n; i++)
        add_counted(&b, attrs.s[i], min_count);
    for (size_t i = 0; i < fields.n; i++)
        add_counted(&b, fields.s[i], min_count);
    for (size_t i = 0; i < acts.n; i++) {
        if (acts.s[i]->present < min_count)
            continue;
        char source[PREDICT_NAME_MAX + 1];
        snprintf(source, sizeof(source), "activity.%s.count", acts.s[i]->source);
        add_feature(&b, source, PREDICT_NUMERIC, NULL);
        snprintf(source, sizeof(source), "activity.%s.last_days", acts.s[i]->source);
        add_feature(&b, source, PREDICT_NUMERIC, NULL);
    }
    counter_free(&attrs);
    counter_free(&fields);
    counter_free(&acts);
    bt_err rc = dataset_spec_check(b.f, b.n, o, err);
    if (rc)
        return rc;
    if (!b.n)
        return bt_fail(err, BT_EINVAL, "features", "the history has no usable feature");
    *out = b.f;
    *n_out = b.n;
    return BT_OK;
}

bt_err dataset_matrix(const struct dataset *ds, const struct predict_feature *f, size_t n_features,
                      float *x, struct bt_error *err)
{
    struct predict_model m;
    memset(&m, 0, sizeof(m));
    m.n_features = n_features;
    m.features = f;
    struct arena scratch = ARENA_INIT;
    for (size_t r = 0; r < ds->n; r++) {
        const struct dataset_row *row = &ds->rows[r];
        bt_err rc = predict_features(&m, &row->lead, row->facts, row->n_facts, row->qualified_at,
                                     &scratch, x + r * n_features);
        if (rc) {
            arena_release(&scratch);
            return bt_fail(err, rc, NULL, "features of lead %lld", (long long)row->lead.id);
        }
        if ((r & 255) == 255)
            arena_release(&scratch);
    }
    arena_release(&scratch);
    return BT_OK;
}
