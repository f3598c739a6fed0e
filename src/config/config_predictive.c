/*
 * config_predictive.c - the `predictive` section: how the model trained on
 * the company's own history (core/predict.h, docs/predictive.md) is trained
 * and used.
 *
 *   predictive:
 *     enabled: true            # score with the active model (baton model activate)
 *     target: converted        # converted | sql: what `baton train` predicts
 *     min_labelled: 1000       # fewer labelled leads: no model, rules only
 *     min_per_class: 100       # ... or fewer of either class
 *     retrain_every: 7d        # off (the default) or a duration of 1s .. 365d
 *                              # (under an hour: for trials and tests)
 *     points: 30               # round(p * points) added to the total; 0: not added
 *     exclude_fields: [won_reason, closed_value]   # outcomes, never features
 *
 * The defaults are set in config_predictive_defaults() (called by config.c's
 * set_defaults()).
 */
#include "config/config_internal.h"

#include <string.h>

#define PREDICTIVE_EXCLUDE_MAX  256
#define PREDICTIVE_POINTS_MAX   1000.0
#define PREDICTIVE_LABELLED_MAX 100000000
#define PREDICTIVE_RETRAIN_MIN  CONFIG_SECOND_MS
#define PREDICTIVE_RETRAIN_MAX  (365 * CONFIG_DAY_MS)

void config__predictive_defaults(struct config_predictive *p)
{
    *p = (struct config_predictive){
        .enabled = true,
        .target = "converted",
        .min_labelled = 1000,
        .min_per_class = 100,
        .retrain_every_ms = 0,
        .points = 0,
    };
}

static bt_err get_points(struct loader *ld, const struct ynode *n, double *out)
{
    if (config__absent(n))
        return BT_OK;
    double v;
    if (n->kind != YNODE_SCALAR || !config__parse_number(n->text, n->len, false, &v) ||
        v > PREDICTIVE_POINTS_MAX)
        return config__fail_at(ld, n,
                               "predictive.points: expected a number from 0 to 1000 (the points "
                               "a lead with p = 1 gets; round(p * points) is added)");
    *out = v;
    return BT_OK;
}

static bt_err get_exclude(struct loader *ld, const struct ynode *n, struct config_predictive *p)
{
    if (config__absent(n))
        return BT_OK;
    bt_err rc = config__get_string_list(ld, n, "predictive.exclude_fields", PREDICTIVE_EXCLUDE_MAX,
                                        LIST_TEXT, &p->exclude_fields, &p->n_exclude_fields);
    if (rc)
        return rc;
    /* Names as in fields.NAME: a leading "fields." is accepted and dropped. */
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        const char *name = p->exclude_fields[i];
        if (!strncmp(name, "fields.", 7))
            name += 7;
        if (!*name || strchr(name, '.') || strchr(name, ' '))
            return config__fail_at(ld, e,
                                   "predictive.exclude_fields[%zu]: expected a custom field's "
                                   "name (as in fields.NAME)",
                                   i);
        p->exclude_fields[i] = name;
    }
    return BT_OK;
}

bt_err config__load_predictive(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"enabled",       "target", "min_labelled",  "min_per_class",
                                       "retrain_every", "points", "exclude_fields"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_predictive *p = &ld->cfg->predictive;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "predictive", "of predictive settings")) ||
        (rc = config__map_fields(ld, n, "in predictive", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_bool(ld, v[0], "predictive.enabled", &p->enabled)))
        return rc;
    if (!config__absent(v[1])) {
        if (config__scalar_is(v[1], "converted"))
            p->target = "converted";
        else if (config__scalar_is(v[1], "sql"))
            p->target = "sql";
        else
            return config__fail_at(ld, v[1], "predictive.target: expected converted or sql");
    }
    if ((rc = config__get_uint(ld, v[2], "predictive.min_labelled", 1, PREDICTIVE_LABELLED_MAX,
                               &p->min_labelled)) ||
        (rc = config__get_uint(ld, v[3], "predictive.min_per_class", 1, PREDICTIVE_LABELLED_MAX,
                               &p->min_per_class)))
        return rc;
    if (!config__absent(v[4])) {
        if (config__scalar_is(v[4], "off"))
            p->retrain_every_ms = 0;
        else if ((rc = config__get_duration_ms(ld, v[4], "predictive.retrain_every",
                                               PREDICTIVE_RETRAIN_MIN, PREDICTIVE_RETRAIN_MAX,
                                               &p->retrain_every_ms)))
            return rc;
    }
    if ((rc = get_points(ld, v[5], &p->points)) || (rc = get_exclude(ld, v[6], p)))
        return rc;
    if (p->min_per_class * 2 > p->min_labelled)
        return config__fail_at(ld, v[3] ? v[3] : n,
                               "predictive.min_per_class: %u of each class needs min_labelled of "
                               "at least %u (it is %u)",
                               p->min_per_class, p->min_per_class * 2, p->min_labelled);
    return BT_OK;
}
