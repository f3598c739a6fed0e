/*
 * config_scoring.c - the `scoring` and `qualification` sections: a score
 * model (core/score.h) and the qualification rules (core/lifecycle.h).
 *
 * Every `when` is compiled here, once, so that a mistake in a condition is a
 * load error pointing at its exact character and nothing parses rules at
 * run time. Lead rules (fit and qualification) share one symbol table and
 * activity conditions another: whoever evaluates fills a table's slots once
 * per subject, however many rules read them.
 *
 * Ownership: the model, its arrays and its names live in the snapshot's
 * arena; compiled rules and symbol tables are heap objects, freed by
 * config__scoring_release() (rules first: they borrow their table). Arrays
 * are allocated zeroed at their full length before any rule is compiled, so
 * that a load that fails half way leaves nothing to leak.
 */
#include "config/config_internal.h"
#include "core/activity.h"
#include "core/lifecycle.h"
#include "core/rule.h"
#include "core/score.h"

#include <stdio.h>
#include <string.h>

#define SCORING_MAX_FIT        1000 /* fit rules, in and out of groups */
#define SCORING_MAX_GROUPS     100
#define SCORING_MAX_ENGAGEMENT 500
#define SCORING_MAX_NAME       100 /* a rule's or group's name */
#define SCORING_MAX_POINTS     1000000.0
#define SCORING_MAX_RULE_TEXT  4096 /* as rule_compile() */
#define SCORING_MAX_TYPE       ACTIVITY_TYPE_MAX
#define SCORING_MIN_DECAY_MS   CONFIG_MINUTE_MS
#define SCORING_MAX_DECAY_MS   (3650 * CONFIG_DAY_MS)
#define SCORING_PATH_MAX       96

/* ---- values ---- */

/* A number in [min, max] (negative allowed when min is); *out unchanged when absent. */
static bt_err get_number(struct loader *ld, const struct ynode *n, const char *path, double min,
                         double max, double *out)
{
    if (config__absent(n))
        return BT_OK;
    double v = 0;
    if (n->kind != YNODE_SCALAR || !config__parse_number(n->text, n->len, min < 0, &v))
        return config__fail_at(ld, n, "%s: expected a number such as %s", path,
                               min < 0 ? "15, 2.5 or -20" : "15 or 2.5");
    if (v < min || v > max)
        return config__fail_at(ld, n, "%s: %g is out of range (%g .. %g)", path, v, min, max);
    *out = v;
    return BT_OK;
}

/* An optional cap: a number greater than 0. */
static bt_err get_cap(struct loader *ld, const struct ynode *n, const char *path, bool *has_cap,
                      double *cap)
{
    if (config__absent(n))
        return BT_OK;
    double v = 0;
    if (n->kind != YNODE_SCALAR || !config__parse_number(n->text, n->len, true, &v) || v <= 0 ||
        v > SCORING_MAX_POINTS)
        return config__fail_at(ld, n, "%s: expected a number greater than 0 and at most %.0f", path,
                               SCORING_MAX_POINTS);
    *has_cap = true;
    *cap = v;
    return BT_OK;
}

/* A key that must be present and not null; `elem` is the mapping that lacks it. */
static bt_err require(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                      const char *path, const char *key)
{
    if (!v)
        return config__fail_at(ld, elem, "%s: missing required key '%s'", path, key);
    if (config__is_null(v))
        return config__fail_at(ld, v, "%s.%s: required", path, key);
    return BT_OK;
}

static bt_err get_name(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                       const char *path, const char *key, const char **out)
{
    char field[SCORING_PATH_MAX + 16];
    snprintf(field, sizeof(field), "%s.%s", path, key);
    bt_err rc = require(ld, elem, v, path, key);
    return rc ? rc : config__get_string(ld, v, field, SCORING_MAX_NAME, out);
}

/* Names must differ within one list (fit rules, groups, engagement rules):
 * they are what a score's reasons show. */
static bt_err check_unique(struct loader *ld, const char *const *names,
                           const struct ynode *const *name_at, size_t n, const char *path,
                           const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], names[n]) != 0)
            continue;
        char buf[CONFIG_EXCERPT_MAX + 4];
        return config__fail_at(ld, name_at[n],
                               "%s: duplicate %s name '%s' (first defined at line %d)", path, what,
                               config__excerpt(names[n], strlen(names[n]), buf), name_at[i]->line);
    }
    return BT_OK;
}

/* ---- conditions ---- */

/*
 * Compiles the condition in scalar n. A compile error points at the
 * character the rule language names: the scalar's place in the file plus
 * the error's offset into its text. Should the two ever fail to line up
 * (see config__scalar_position), it points at the scalar and names the
 * offset instead.
 */
bt_err config__compile_when(struct loader *ld, struct rule_symtab *syms, const struct ynode *n,
                            const char *path, struct rule **out)
{
    if (n->kind != YNODE_SCALAR)
        return config__fail_at(ld, n, "%s: expected a condition such as 'employees >= 200', not %s",
                               path, config__kind_name(n));
    if (n->len == 0)
        return config__fail_at(ld, n, "%s: must not be empty", path);
    if (n->len > SCORING_MAX_RULE_TEXT)
        return config__fail_at(ld, n, "%s: too long (at most %d bytes)", path,
                               SCORING_MAX_RULE_TEXT);
    for (size_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->text[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
            return config__fail_at(ld, n, "%s: must not contain control characters", path);
    }
    struct rule_error rerr = {0};
    if (rule_compile(syms, n->text, n->len, out, &rerr) == BT_OK)
        return BT_OK;
    *out = NULL;
    size_t offset = rerr.offset <= n->len ? rerr.offset : n->len;
    int line, column;
    if (config__scalar_position(ld, n, offset, &line, &column))
        return config__fail_pos(ld, line, column, "%s: %s", path, rerr.message);
    return config__fail_pos(ld, line, column, "%s: %s (at byte %zu of the condition)", path,
                            rerr.message, offset);
}

/* An optional condition: *out stays NULL when absent. */
static bt_err get_when(struct loader *ld, struct rule_symtab *syms, const struct ynode *n,
                       const char *path, struct rule **out)
{
    return config__absent(n) ? BT_OK : config__compile_when(ld, syms, n, path, out);
}

/* ---- scoring.range and scoring.grades ---- */

static bt_err load_range(struct loader *ld, const struct ynode *n, struct score_model *m)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ || n->count != 2)
        return config__fail_at(ld, n, "scoring.range: expected a list of two numbers [min, max]");
    double ends[2];
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[48];
        snprintf(path, sizeof(path), "scoring.range[%zu]", i);
        if (config__absent(e))
            return config__fail_at(ld, e, "%s: expected a number, not null", path);
        bt_err rc = get_number(ld, e, path, -SCORING_MAX_POINTS, SCORING_MAX_POINTS, &ends[i]);
        if (rc)
            return rc;
    }
    double lo = ends[0], hi = ends[1];
    if (lo >= hi)
        return config__fail_at(
            ld, n, "scoring.range: the minimum (%g) must be less than the maximum (%g)", lo, hi);
    m->min_total = lo;
    m->max_total = hi;
    return BT_OK;
}

/*
 * Three thresholds under `keys` (A, B, C or 1, 2, 3) into bands, each key
 * optional; together they must descend strictly, or a grade could never be
 * given.
 */
static bt_err load_bands(struct loader *ld, const struct ynode *n, const char *path,
                         const char *const keys[3], double bands[3])
{
    const struct ynode *v[3];
    char where[SCORING_PATH_MAX], field[SCORING_PATH_MAX];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    snprintf(where, sizeof(where), "in %s", path);
    if ((rc = config__expect_map(ld, n, path, "of grade thresholds")) ||
        (rc = config__map_fields(ld, n, where, keys, 3, v)))
        return rc;
    for (size_t i = 0; i < 3; i++) {
        snprintf(field, sizeof(field), "%s.%s", path, keys[i]);
        if ((rc = get_number(ld, v[i], field, -SCORING_MAX_POINTS, SCORING_MAX_POINTS, &bands[i])))
            return rc;
    }
    for (size_t i = 1; i < 3; i++) {
        if (bands[i] < bands[i - 1])
            continue;
        const struct ynode *at = v[i] ? v[i] : v[i - 1];
        return config__fail_at(ld, at,
                               "%s: thresholds must descend (%s > %s > %s), but %s is %g and %s "
                               "is %g",
                               path, keys[0], keys[1], keys[2], keys[i - 1], bands[i - 1], keys[i],
                               bands[i]);
    }
    return BT_OK;
}

static bt_err load_grades(struct loader *ld, const struct ynode *n, struct score_model *m)
{
    static const char *const keys[] = {"fit", "engagement"};
    static const char *const fit_keys[3] = {"A", "B", "C"};
    static const char *const engagement_keys[3] = {"1", "2", "3"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "scoring.grades", "with fit and engagement")) ||
        (rc = config__map_fields(ld, n, "in scoring.grades", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = load_bands(ld, v[0], "scoring.grades.fit", fit_keys, m->fit_bands)) ||
        (rc = load_bands(ld, v[1], "scoring.grades.engagement", engagement_keys,
                         m->engagement_bands)))
        return rc;
    return BT_OK;
}

/* ---- scoring.fit ---- */

/* What loading the fit list needs beyond the model. */
struct fit_loader {
    struct loader *ld;
    struct score_model *m;
    const char **rule_names; /* scratch, parallel to m->fit, for uniqueness */
    const struct ynode **rule_name_at;
    const char **group_names;
    const struct ynode **group_name_at;
};

/* A fit item is a group when it has a `group` or a `rules` key. */
static bool is_group(const struct ynode *e)
{
    if (e->kind != YNODE_MAP)
        return false;
    for (const struct ynode *k = e->first; k && k->next; k = k->next->next)
        if (config__scalar_is(k, "group") || config__scalar_is(k, "rules"))
            return true;
    return false;
}

/*
 * Counts the fit rules and groups before anything is allocated, and refuses
 * a list past the limits at the first rule or group too many. Items of the
 * wrong shape count as one rule; loading reports them.
 */
static bt_err count_fit(struct loader *ld, const struct ynode *list, size_t *n_rules,
                        size_t *n_groups)
{
    *n_rules = *n_groups = 0;
    for (const struct ynode *e = list->first; e; e = e->next) {
        if (!is_group(e)) {
            if (++*n_rules > SCORING_MAX_FIT)
                return config__fail_at(ld, e, "too many fit rules (at most %d)", SCORING_MAX_FIT);
            continue;
        }
        if (++*n_groups > SCORING_MAX_GROUPS)
            return config__fail_at(ld, e, "too many fit groups (at most %d)", SCORING_MAX_GROUPS);
        for (const struct ynode *k = e->first; k && k->next; k = k->next->next) {
            if (!config__scalar_is(k, "rules") || k->next->kind != YNODE_SEQ)
                continue;
            for (const struct ynode *r = k->next->first; r; r = r->next)
                if (++*n_rules > SCORING_MAX_FIT)
                    return config__fail_at(ld, r, "too many fit rules (at most %d)",
                                           SCORING_MAX_FIT);
        }
    }
    return BT_OK;
}

static bt_err load_fit_rule(struct fit_loader *fl, const struct ynode *e, const char *path,
                            int group)
{
    static const char *const keys[] = {"name", "when", "points"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct loader *ld = fl->ld;
    struct score_model *m = fl->m;
    struct fit_rule *r = &m->fit[m->n_fit];
    char where[SCORING_PATH_MAX + 4], field[SCORING_PATH_MAX + 16];
    bt_err rc;
    snprintf(where, sizeof(where), "in %s", path);
    if ((rc = config__expect_map(ld, e, path, "with name, when and points")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = get_name(ld, e, v[0], path, "name", &r->name)))
        return rc;
    fl->rule_names[m->n_fit] = r->name;
    fl->rule_name_at[m->n_fit] = v[0];
    snprintf(field, sizeof(field), "%s.name", path);
    if ((rc = check_unique(ld, fl->rule_names, fl->rule_name_at, m->n_fit, field, "fit rule")) ||
        (rc = require(ld, e, v[1], path, "when")))
        return rc;
    snprintf(field, sizeof(field), "%s.when", path);
    if ((rc = config__compile_when(ld, m->lead_syms, v[1], field, &r->when)))
        return rc;
    /* Counted from here on, so that config__scoring_release() frees the rule. */
    r->group = group;
    m->n_fit++;
    snprintf(field, sizeof(field), "%s.points", path);
    if ((rc = require(ld, e, v[2], path, "points")) ||
        (rc = get_number(ld, v[2], field, -SCORING_MAX_POINTS, SCORING_MAX_POINTS, &r->points)))
        return rc;
    return BT_OK;
}

static bt_err load_fit_group(struct fit_loader *fl, const struct ynode *e, const char *path)
{
    static const char *const keys[] = {"group", "cap", "rules"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct loader *ld = fl->ld;
    struct score_model *m = fl->m;
    size_t gi = m->n_groups;
    struct fit_group *g = &m->groups[gi];
    char where[SCORING_PATH_MAX + 4], field[SCORING_PATH_MAX + 16];
    bt_err rc;
    snprintf(where, sizeof(where), "in %s", path);
    if ((rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = get_name(ld, e, v[0], path, "group", &g->name)))
        return rc;
    fl->group_names[gi] = g->name;
    fl->group_name_at[gi] = v[0];
    snprintf(field, sizeof(field), "%s.group", path);
    if ((rc = check_unique(ld, fl->group_names, fl->group_name_at, gi, field, "fit group")))
        return rc;
    snprintf(field, sizeof(field), "%s.cap", path);
    if ((rc = get_cap(ld, v[1], field, &g->has_cap, &g->cap)) ||
        (rc = require(ld, e, v[2], path, "rules")))
        return rc;
    m->n_groups++;
    snprintf(field, sizeof(field), "%s.rules", path);
    if ((rc = config__check_list(ld, v[2], field, SCORING_MAX_FIT, "fit rules")))
        return rc;
    size_t i = 0;
    for (const struct ynode *r = v[2]->first; r; r = r->next, i++) {
        snprintf(field, sizeof(field), "%s.rules[%zu]", path, i);
        if ((rc = load_fit_rule(fl, r, field, (int)gi)))
            return rc;
    }
    return BT_OK;
}

static bt_err load_fit(struct loader *ld, const struct ynode *n, struct score_model *m)
{
    if (config__absent(n))
        return BT_OK;
    size_t n_rules, n_groups;
    bt_err rc;
    if ((rc = config__check_list(ld, n, "scoring.fit", SIZE_MAX, "fit rules and groups")) ||
        (rc = count_fit(ld, n, &n_rules, &n_groups)))
        return rc;
    struct fit_loader fl = {.ld = ld, .m = m};
    m->fit = arena_alloc(ld->arena, (n_rules + 1) * sizeof(*m->fit));
    m->groups = arena_alloc(ld->arena, (n_groups + 1) * sizeof(*m->groups));
    fl.rule_names = arena_alloc(&ld->scratch, (n_rules + 1) * sizeof(*fl.rule_names));
    fl.rule_name_at = arena_alloc(&ld->scratch, (n_rules + 1) * sizeof(*fl.rule_name_at));
    fl.group_names = arena_alloc(&ld->scratch, (n_groups + 1) * sizeof(*fl.group_names));
    fl.group_name_at = arena_alloc(&ld->scratch, (n_groups + 1) * sizeof(*fl.group_name_at));
    if (!m->fit || !m->groups || !fl.rule_names || !fl.rule_name_at || !fl.group_names ||
        !fl.group_name_at)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[SCORING_PATH_MAX];
        snprintf(path, sizeof(path), "scoring.fit[%zu]", i);
        rc = is_group(e) ? load_fit_group(&fl, e, path) : load_fit_rule(&fl, e, path, -1);
        if (rc)
            return rc;
    }
    return BT_OK;
}

/* ---- scoring.engagement ---- */

static bt_err load_engagement_rule(struct loader *ld, const struct ynode *e, const char *path,
                                   struct score_model *m, const char **names,
                                   const struct ynode **name_at)
{
    static const char *const keys[] = {"name", "activity",  "points", "cap",
                                       "when", "half_life", "window"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct engagement_rule *r = &m->engagement[m->n_engagement];
    char where[SCORING_PATH_MAX + 4], field[SCORING_PATH_MAX + 16], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(where, sizeof(where), "in %s", path);
    if ((rc = config__expect_map(ld, e, path, "with name, activity and points")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = get_name(ld, e, v[0], path, "name", &r->name)))
        return rc;
    names[m->n_engagement] = r->name;
    name_at[m->n_engagement] = v[0];
    snprintf(field, sizeof(field), "%s.name", path);
    if ((rc = check_unique(ld, names, name_at, m->n_engagement, field, "engagement rule")) ||
        (rc = require(ld, e, v[1], path, "activity")))
        return rc;
    snprintf(field, sizeof(field), "%s.activity", path);
    if ((rc = config__get_string(ld, v[1], field, CONFIG_MAX_STRING, &r->activity_type)))
        return rc;
    if (!activity_type_valid(r->activity_type, strlen(r->activity_type)))
        return config__fail_at(ld, v[1],
                               "%s: '%s' is not an activity type (lower-case letters, digits and "
                               "'_', at most %d characters)",
                               field, config__excerpt(v[1]->text, v[1]->len, buf),
                               SCORING_MAX_TYPE);
    snprintf(field, sizeof(field), "%s.points", path);
    if ((rc = require(ld, e, v[2], path, "points")) ||
        (rc = get_number(ld, v[2], field, -SCORING_MAX_POINTS, SCORING_MAX_POINTS, &r->points)))
        return rc;
    snprintf(field, sizeof(field), "%s.cap", path);
    if ((rc = get_cap(ld, v[3], field, &r->has_cap, &r->cap)))
        return rc;
    snprintf(field, sizeof(field), "%s.when", path);
    if ((rc = get_when(ld, m->activity_syms, v[4], field, &r->when)))
        return rc;
    m->n_engagement++; /* from here on config__scoring_release() frees r->when */

    const struct ynode *half_life = v[5], *window = v[6];
    if (!config__absent(half_life) && !config__absent(window)) {
        /* Point at whichever comes second: that is the one just added. */
        bool window_later = window->line > half_life->line ||
                            (window->line == half_life->line && window->column > half_life->column);
        return config__fail_at(ld, window_later ? window : half_life,
                               "%s: half_life and window exclude each other; give one of them",
                               path);
    }
    uint64_t ms = 0;
    r->decay = DECAY_NONE;
    if (!config__absent(half_life)) {
        snprintf(field, sizeof(field), "%s.half_life", path);
        if ((rc = config__get_duration_ms(ld, half_life, field, SCORING_MIN_DECAY_MS,
                                          SCORING_MAX_DECAY_MS, &ms)))
            return rc;
        r->decay = DECAY_HALF_LIFE;
    } else if (!config__absent(window)) {
        snprintf(field, sizeof(field), "%s.window", path);
        if ((rc = config__get_duration_ms(ld, window, field, SCORING_MIN_DECAY_MS,
                                          SCORING_MAX_DECAY_MS, &ms)))
            return rc;
        r->decay = DECAY_WINDOW;
    }
    r->decay_ms = (int64_t)ms;
    return BT_OK;
}

static bt_err load_engagement(struct loader *ld, const struct ynode *n, struct score_model *m)
{
    if (config__absent(n))
        return BT_OK;
    bt_err rc =
        config__check_list(ld, n, "scoring.engagement", SCORING_MAX_ENGAGEMENT, "engagement rules");
    if (rc)
        return rc;
    m->engagement = arena_alloc(ld->arena, (n->count + 1) * sizeof(*m->engagement));
    const char **names = arena_alloc(&ld->scratch, (n->count + 1) * sizeof(*names));
    const struct ynode **name_at = arena_alloc(&ld->scratch, (n->count + 1) * sizeof(*name_at));
    if (!m->engagement || !names || !name_at)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[SCORING_PATH_MAX];
        snprintf(path, sizeof(path), "scoring.engagement[%zu]", i);
        if ((rc = load_engagement_rule(ld, e, path, m, names, name_at)))
            return rc;
    }
    return BT_OK;
}

/* ---- the sections ---- */

static bt_err load_model(struct loader *ld, const struct ynode *n, struct score_model *m)
{
    static const char *const keys[] = {"range", "grades", "fit", "engagement"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "scoring", "with range, grades, fit and engagement")) ||
        (rc = config__map_fields(ld, n, "in scoring", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = load_range(ld, v[0], m)) || (rc = load_grades(ld, v[1], m)) ||
        (rc = load_fit(ld, v[2], m)) || (rc = load_engagement(ld, v[3], m)))
        return rc;
    return BT_OK;
}

static bt_err load_qualification(struct loader *ld, const struct ynode *n, struct rule_symtab *syms,
                                 struct qualification *q)
{
    static const char *const keys[] = {"mql_when", "fast_track_when", "disqualify_when"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "qualification",
                                 "with mql_when, fast_track_when and disqualify_when")) ||
        (rc = config__map_fields(ld, n, "in qualification", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = get_when(ld, syms, v[0], "qualification.mql_when", &q->mql_when)) ||
        (rc = get_when(ld, syms, v[1], "qualification.fast_track_when", &q->fast_track_when)) ||
        (rc = get_when(ld, syms, v[2], "qualification.disqualify_when", &q->disqualify_when)))
        return rc;
    return BT_OK;
}

bt_err config__load_scoring(struct loader *ld, const struct ynode *scoring,
                            const struct ynode *qualification)
{
    struct score_model *m = arena_alloc(ld->arena, sizeof(*m));
    if (!m)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    m->min_total = 0;
    m->max_total = 100;
    m->fit_bands[0] = 60;
    m->fit_bands[1] = 40;
    m->fit_bands[2] = 20;
    m->engagement_bands[0] = 60;
    m->engagement_bands[1] = 30;
    m->engagement_bands[2] = 10;
    m->lead_syms = rule_symtab_new(&score_lead_schema);
    m->activity_syms = rule_symtab_new(&score_activity_schema);
    ld->cfg->scoring = m;
    bt_err rc;
    if ((rc = load_model(ld, scoring, m)) ||
        (rc = load_qualification(ld, qualification, m->lead_syms, &ld->cfg->qualification)))
        return rc;
    return BT_OK;
}

void config__scoring_release(struct config *cfg)
{
    struct qualification *q = &cfg->qualification;
    rule_free(q->mql_when);
    rule_free(q->fast_track_when);
    rule_free(q->disqualify_when);
    *q = (struct qualification){NULL, NULL, NULL};
    struct score_model *m = cfg->scoring;
    if (!m)
        return;
    for (size_t i = 0; i < m->n_fit; i++)
        rule_free(m->fit[i].when);
    for (size_t i = 0; i < m->n_engagement; i++)
        rule_free(m->engagement[i].when);
    rule_symtab_free(m->lead_syms);
    rule_symtab_free(m->activity_syms);
    cfg->scoring = NULL; /* the model itself goes with the arena */
}
