/*
 * config_sla.c - the `sla` section: the handoff's policies (how long a rep
 * has to accept and then contact a lead, and what a breach does), the
 * reasons a rep may give for rejecting an assignment, and how many a rep
 * may reject a day, into cfg->sla (core/sla.h).
 *
 * Loaded last, once routing is built: a policy's after_max_attempts names
 * a pool or a rep, kept as an index into cfg->routing's pools or reps.
 * Policy conditions are compiled over scoring->lead_syms exactly like the
 * routing rules (and before anything plans evaluation over that table), and
 * counted in n_policies as they are compiled, so that config__sla_release()
 * frees them however far a failing load got. It runs before the symbol
 * table is freed. Arrays and strings live in the snapshot's arena.
 *
 * The checks follow routing's: names unique, and the last policy, and only
 * the last, without `when`, so that every lead gets exactly one policy and
 * none is unreachable.
 */
#include "config/config_internal.h"
#include "core/rule.h"
#include "core/sla.h"

#include <stdio.h>
#include <string.h>

#define SLA_MAX_POLICIES           100
#define SLA_MAX_REASONS            100
#define SLA_MAX_NAME               64 /* a policy's name, a reason's id */
#define SLA_MAX_LABEL              200
#define SLA_MAX_COUNT              100 /* max_attempts, exclude_last, away_after_breaches */
#define SLA_MAX_REJECTIONS_PER_DAY 10000
#define SLA_ACCEPT_MAX_MS          (30 * CONFIG_DAY_MS)
#define SLA_CONTACT_MAX_MS         (90 * CONFIG_DAY_MS)
#define SLA_CONTACT_DEFAULT_MS     (24 * CONFIG_HOUR_MS)
#define SLA_PATH_MAX               96

/* s is 1 to SLA_MAX_NAME lower-case letters, digits and characters of `extra`. */
static bool valid_name(const char *s, const char *extra)
{
    size_t len = strlen(s);
    if (len == 0 || len > SLA_MAX_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

/* A scalar holding no NUL, so that its text is the whole value. */
static bool plain_text(const struct ynode *n)
{
    return n->kind == YNODE_SCALAR && !memchr(n->text, '\0', n->len);
}

/* ---- one policy's values ---- */

/* "50%" or 0.5: a share of the accept window, greater than 0 and less than 1. */
static bool parse_fraction(const struct ynode *n, double *out)
{
    if (n->kind != YNODE_SCALAR || config__is_null(n))
        return false;
    size_t len = n->len;
    bool percent = len > 0 && n->text[len - 1] == '%';
    double v = 0;
    if (!config__parse_number(n->text, len - percent, false, &v))
        return false;
    if (percent)
        v /= 100;
    if (!(v > 0 && v < 1))
        return false;
    *out = v;
    return true;
}

static bt_err get_reminders(struct loader *ld, const struct ynode *n, const char *field,
                            struct sla_policy *p)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n, "%s: expected a list such as [50%%, 80%%], not %s", field,
                               config__kind_name(n));
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (i == SLA_REMINDERS_MAX)
            return config__fail_at(ld, e, "%s: too many reminders (at most %d)", field,
                                   SLA_REMINDERS_MAX);
        double f = 0;
        if (!parse_fraction(e, &f))
            return config__fail_at(ld, e,
                                   "%s[%zu]: expected a share of accept_within greater than 0 "
                                   "and less than 1, such as 50%% or 0.5",
                                   field, i);
        if (i > 0 && f <= p->reminders[i - 1])
            return config__fail_at(ld, e,
                                   "%s[%zu]: '%s' does not come after the reminder before it; "
                                   "list reminders in ascending order, each once",
                                   field, i, config__excerpt(e->text, e->len, buf));
        p->reminders[i] = f;
    }
    p->n_reminders = i;
    return BT_OK;
}

static bt_err get_on_breach(struct loader *ld, const struct ynode *n, const char *field,
                            struct sla_policy *p)
{
    p->on_breach[0] = SLA_BREACH_REASSIGN;
    p->n_on_breach = 1;
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "%s: expected a list of remind, notify_manager and reassign, "
                               "not %s",
                               field, config__kind_name(n));
    if (n->count == 0)
        return config__fail_at(ld, n,
                               "%s: empty; list what a breach does (remind, notify_manager, "
                               "reassign), or leave it out for [reassign]",
                               field);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (config__absent(e) || !plain_text(e))
            return config__fail_at(ld, e, "%s[%zu]: expected remind, notify_manager or reassign",
                                   field, i);
        enum sla_breach_action a;
        if (!sla_breach_action_parse(e->text, &a))
            return config__fail_at(ld, e,
                                   "%s[%zu]: '%s' is not an action; expected remind, "
                                   "notify_manager or reassign",
                                   field, i, config__excerpt(e->text, e->len, buf));
        for (size_t k = 0; k < i; k++)
            if (p->on_breach[k] == a)
                return config__fail_at(ld, e, "%s[%zu]: '%s' is listed twice", field, i,
                                       sla_breach_action_name(a));
        if (i == SLA_BREACH_MAX) /* not while there are three actions */
            return config__fail_at(ld, e, "%s: too many actions (at most %d)", field,
                                   SLA_BREACH_MAX);
        p->on_breach[i] = a;
    }
    p->n_on_breach = i;
    return BT_OK;
}

static bt_err get_fallback(struct loader *ld, const struct ynode *n, const char *field,
                           struct sla_policy *p)
{
    const struct config *cfg = ld->cfg;
    char buf[CONFIG_EXCERPT_MAX + 4];
    p->after_max_attempts = SLA_FALLBACK_HOLD;
    if (config__absent(n))
        return BT_OK;
    if (!plain_text(n))
        return config__fail_at(ld, n, "%s: expected pool:ID, rep:ID, manager or hold", field);
    const char *s = n->text;
    if (strcmp(s, "hold") == 0) {
        p->after_max_attempts = SLA_FALLBACK_HOLD;
    } else if (strcmp(s, "manager") == 0) {
        p->after_max_attempts = SLA_FALLBACK_MANAGER;
    } else if (strncmp(s, "pool:", 5) == 0) {
        const char *id = s + 5;
        size_t i = 0;
        while (i < cfg->routing.n_pools && strcmp(cfg->routing.pools[i].id, id) != 0)
            i++;
        if (i == cfg->routing.n_pools)
            return config__fail_at(ld, n, "%s: no pool has the id '%s'; define it under pools",
                                   field, config__excerpt(id, strlen(id), buf));
        p->after_max_attempts = SLA_FALLBACK_POOL;
        p->fallback_index = i;
    } else if (strncmp(s, "rep:", 4) == 0) {
        const char *id = s + 4;
        const struct config_rep *rep = config_find_rep(cfg, id);
        if (!rep)
            return config__fail_at(ld, n, "%s: no rep has the id '%s'", field,
                                   config__excerpt(id, strlen(id), buf));
        p->after_max_attempts = SLA_FALLBACK_REP;
        p->fallback_index = (size_t)(rep - cfg->reps);
    } else {
        return config__fail_at(ld, n,
                               "%s: '%s' is not a target; expected pool:ID, rep:ID, manager or "
                               "hold",
                               field, config__excerpt(n->text, n->len, buf));
    }
    return BT_OK;
}

/* ---- sla.policies ---- */

struct policy_loader {
    struct loader *ld;
    struct sla_policy *policies;
    const struct ynode **name_at;
};

static bt_err load_policy(struct policy_loader *pl, const struct ynode *e, size_t index, bool last)
{
    static const char *const keys[] = {"name",
                                       "when",
                                       "accept_within",
                                       "contact_within",
                                       "clock",
                                       "reminders",
                                       "on_breach",
                                       "max_attempts",
                                       "after_max_attempts",
                                       "exclude_last",
                                       "away_after_breaches"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct loader *ld = pl->ld;
    struct config *cfg = ld->cfg;
    struct sla_policy *p = &pl->policies[index];
    char path[40], where[48], f[SLA_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "sla.policies[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with name, when, accept_within, ...")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__require(ld, e, v[0], path, "name")) ||
        (rc = config__get_string(ld, v[0], FIELD("name"), CONFIG_MAX_STRING, &p->name)))
        return rc;
    if (!valid_name(p->name, "_-"))
        return config__fail_at(ld, v[0],
                               "%s: '%s' is not a valid policy name (lower-case letters, digits, "
                               "'_' and '-', at most %d characters)",
                               FIELD("name"), config__excerpt(p->name, strlen(p->name), buf),
                               SLA_MAX_NAME);
    pl->name_at[index] = v[0];
    for (size_t k = 0; k < index; k++)
        if (strcmp(pl->policies[k].name, p->name) == 0)
            return config__fail_at(ld, v[0],
                                   "%s: duplicate policy name '%s' (first defined at line %d)",
                                   FIELD("name"), p->name, pl->name_at[k]->line);
    if (index > 0 && !pl->policies[index - 1].when)
        return config__fail_at(ld, e,
                               "%s: never reached: policies[%zu] before it has no `when` and "
                               "takes every lead; give that policy a `when` or move it to the end",
                               path, index - 1);

    if (!config__absent(v[1])) {
        struct rule *when = NULL;
        if ((rc = config__compile_when(ld, cfg->scoring->lead_syms, v[1], FIELD("when"), &when)))
            return rc;
        p->when = when;
    }
    /* Counted from here on, so that config__sla_release() frees p->when. */
    cfg->sla.n_policies = index + 1;
    if (last && p->when)
        return config__fail_at(ld, v[1],
                               "%s: the last SLA policy must have no `when`: it is the default "
                               "that every other lead gets",
                               FIELD("when"));

    uint64_t accept = 0, contact = SLA_CONTACT_DEFAULT_MS;
    if ((rc = config__require(ld, e, v[2], path, "accept_within")) ||
        (rc = config__get_duration_ms(ld, v[2], FIELD("accept_within"), CONFIG_SECOND_MS,
                                      SLA_ACCEPT_MAX_MS, &accept)) ||
        (rc = config__get_duration_ms(ld, v[3], FIELD("contact_within"), CONFIG_SECOND_MS,
                                      SLA_CONTACT_MAX_MS, &contact)))
        return rc;
    p->accept_within_ms = (int64_t)accept;
    p->contact_within_ms = (int64_t)contact;

    p->clock = SLA_CLOCK_WALL;
    if (!config__absent(v[4]) && (!plain_text(v[4]) || !sla_clock_parse(v[4]->text, &p->clock)))
        return config__fail_at(ld, v[4], "%s: expected wall or business_hours", FIELD("clock"));

    p->max_attempts = 3;
    p->exclude_last = 1;
    p->away_after_breaches = 0;
    if ((rc = get_reminders(ld, v[5], FIELD("reminders"), p)) ||
        (rc = get_on_breach(ld, v[6], FIELD("on_breach"), p)) ||
        (rc = config__get_uint(ld, v[7], FIELD("max_attempts"), 1, SLA_MAX_COUNT,
                               &p->max_attempts)) ||
        (rc = get_fallback(ld, v[8], FIELD("after_max_attempts"), p)) ||
        (rc = config__get_uint(ld, v[9], FIELD("exclude_last"), 0, SLA_MAX_COUNT,
                               &p->exclude_last)) ||
        (rc = config__get_uint(ld, v[10], FIELD("away_after_breaches"), 0, SLA_MAX_COUNT,
                               &p->away_after_breaches)))
        return rc;
#undef FIELD
    return BT_OK;
}

static bt_err load_policies(struct loader *ld, const struct ynode *list)
{
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(list))
        return BT_OK; /* assignments have no clock */
    if ((rc = config__check_list(ld, list, "sla.policies", SLA_MAX_POLICIES, "SLA policies")))
        return rc;
    if (list->count == 0)
        return config__fail_at(ld, list,
                               "sla.policies: at least one policy is required (leave policies "
                               "out for assignments without a clock)");
    struct policy_loader pl = {
        .ld = ld,
        .policies = arena_alloc(ld->arena, list->count * sizeof(*pl.policies)),
        .name_at = arena_alloc(&ld->scratch, list->count * sizeof(*pl.name_at)),
    };
    if (!pl.policies || !pl.name_at)
        return config__fail_too_large(ld, list);
    cfg->sla.policies = pl.policies;
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++)
        if ((rc = load_policy(&pl, e, i, e->next == NULL)))
            return rc;
    return BT_OK;
}

/* ---- sla.reject_reasons ---- */

static bt_err load_reason(struct loader *ld, const struct ynode *e, size_t index,
                          struct sla_reject_reason *reasons, const struct ynode **id_at)
{
    static const char *const keys[] = {"id", "label", "action"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct sla_reject_reason *r = &reasons[index];
    char path[40], where[48], f[SLA_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "sla.reject_reasons[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with id, label and action")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__require(ld, e, v[0], path, "id")) ||
        (rc = config__get_string(ld, v[0], FIELD("id"), CONFIG_MAX_STRING, &r->id)))
        return rc;
    if (!valid_name(r->id, "_"))
        return config__fail_at(ld, v[0],
                               "%s: '%s' is not a valid reason id (lower-case letters, digits "
                               "and '_', at most %d characters)",
                               FIELD("id"), config__excerpt(r->id, strlen(r->id), buf),
                               SLA_MAX_NAME);
    id_at[index] = v[0];
    for (size_t k = 0; k < index; k++)
        if (strcmp(reasons[k].id, r->id) == 0)
            return config__fail_at(ld, v[0],
                                   "%s: duplicate reject reason id '%s' (first defined at line "
                                   "%d)",
                                   FIELD("id"), r->id, id_at[k]->line);
    if ((rc = config__get_string(ld, v[1], FIELD("label"), SLA_MAX_LABEL, &r->label)) ||
        (rc = config__require(ld, e, v[2], path, "action")))
        return rc;
    if (!r->label)
        r->label = r->id;
    if (!plain_text(v[2]) || !sla_reject_action_parse(v[2]->text, &r->action))
        return config__fail_at(ld, v[2], "%s: expected reroute, recycle or disqualify",
                               FIELD("action"));
#undef FIELD
    return BT_OK;
}

static bt_err load_reasons(struct loader *ld, const struct ynode *list)
{
    bt_err rc;
    if (config__absent(list))
        return BT_OK; /* the built-in reasons */
    if ((rc =
             config__check_list(ld, list, "sla.reject_reasons", SLA_MAX_REASONS, "reject reasons")))
        return rc;
    if (list->count == 0)
        return config__fail_at(ld, list,
                               "sla.reject_reasons: empty; list at least one reason, or leave "
                               "reject_reasons out for the built-in ones");
    struct sla_reject_reason *reasons = arena_alloc(ld->arena, list->count * sizeof(*reasons));
    const struct ynode **id_at = arena_alloc(&ld->scratch, list->count * sizeof(*id_at));
    if (!reasons || !id_at)
        return config__fail_too_large(ld, list);
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++)
        if ((rc = load_reason(ld, e, i, reasons, id_at)))
            return rc;
    ld->cfg->sla.reject_reasons = reasons;
    ld->cfg->sla.n_reject_reasons = list->count;
    return BT_OK;
}

/* ---- the whole ---- */

bt_err config__load_sla(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"policies", "reject_reasons", "rejections_per_day"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "sla", "with policies, reject_reasons, ...")) ||
        (rc = config__map_fields(ld, n, "in sla", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = load_policies(ld, v[0])) || (rc = load_reasons(ld, v[1])) ||
        (rc = config__get_uint(ld, v[2], "sla.rejections_per_day", 0, SLA_MAX_REJECTIONS_PER_DAY,
                               &ld->cfg->sla.rejections_per_day)))
        return rc;
    return BT_OK;
}

void config__sla_release(struct config *cfg)
{
    struct sla_config *s = &cfg->sla;
    for (size_t i = 0; i < s->n_policies; i++)
        rule_free((struct rule *)s->policies[i].when);
    s->policies = NULL;
    s->n_policies = 0;
}
