/*
 * config_diff.c - compares two configuration snapshots (config_diff.h).
 *
 * Two tables drive it. `kinds[]` describes each kind of named item (how
 * many a snapshot has, the name of one, whether two are the same); one
 * function sorts both snapshots' names and merges them, so that 10000 reps
 * cost a sort, not 10^8 comparisons, and reports each list in file order.
 * `settings[]` names every other key with whether it is read only at start
 * and how to compare it. A key added to struct config needs a line in one
 * of the two tables, or a reload changing it goes unreported.
 */
#include "config/config_diff.h"
#include "core/template.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- comparisons ---- */

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *when_text(const struct rule *r)
{
    return r ? rule_text(r) : NULL;
}

static const char *zone_name(const struct tz_table *tz)
{
    return tz ? tz->name : NULL;
}

static int text_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same strings in any order (lists whose order means nothing). */
static bool same_set(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    if (na == 0)
        return true;
    const char **sa = xmalloc(na * sizeof(*sa)), **sb = xmalloc(nb * sizeof(*sb));
    memcpy(sa, a, na * sizeof(*sa));
    memcpy(sb, b, nb * sizeof(*sb));
    qsort(sa, na, sizeof(*sa), text_cmp);
    qsort(sb, nb, sizeof(*sb), text_cmp);
    bool same = true;
    for (size_t i = 0; same && i < na; i++)
        same = strcmp(sa[i], sb[i]) == 0;
    free(sa);
    free(sb);
    return same;
}

static bool same_hours(bool has_a, const struct weekly_hours *a, bool has_b,
                       const struct weekly_hours *b)
{
    if (has_a != has_b)
        return false;
    if (!has_a)
        return true;
    for (int d = 0; d < WEEKDAY_COUNT; d++) {
        if (a->count[d] != b->count[d])
            return false;
        for (unsigned i = 0; i < a->count[d]; i++)
            if (a->intervals[d][i].start_minute != b->intervals[d][i].start_minute ||
                a->intervals[d][i].end_minute != b->intervals[d][i].end_minute)
                return false;
    }
    return true;
}

static bool same_holidays(const struct holidays *a, const struct holidays *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->dates[i].year != b->dates[i].year || a->dates[i].month != b->dates[i].month ||
            a->dates[i].day != b->dates[i].day)
            return false;
    return true;
}

/* ---- the kinds of named items ---- */

static size_t team_count(const struct config *c)
{
    return c->n_teams;
}

static const char *team_name(const struct config *c, size_t i)
{
    return c->teams[i].id;
}

static bool team_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct config_team *a = &ca->teams[i], *b = &cb->teams[j];
    return same_text(a->name, b->name) && same_text(a->manager, b->manager) &&
           same_text(a->timezone, b->timezone) &&
           same_hours(a->has_hours, &a->hours, b->has_hours, &b->hours) &&
           a->has_holidays == b->has_holidays && same_holidays(&a->holidays, &b->holidays);
}

static size_t rep_count(const struct config *c)
{
    return c->n_reps;
}

static const char *rep_name(const struct config *c, size_t i)
{
    return c->reps[i].id;
}

/* Every field, and the hours, holidays and zone routing uses (the rep's
 * own or its team's: a team's new hours change its reps). */
static bool rep_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct config_rep *a = &ca->reps[i], *b = &cb->reps[j];
    if (!same_text(a->name, b->name) || !same_text(a->email, b->email) ||
        !same_text(a->phone, b->phone) || !same_text(a->slack, b->slack) ||
        !same_text(a->team, b->team) || !same_text(a->timezone, b->timezone) ||
        !same_text(a->manager, b->manager) || a->active != b->active || a->weight != b->weight ||
        a->capacity != b->capacity || a->daily_cap != b->daily_cap ||
        a->weekly_cap != b->weekly_cap ||
        !same_set(a->languages, a->n_languages, b->languages, b->n_languages) ||
        !same_set(a->skills, a->n_skills, b->skills, b->n_skills) ||
        !same_set(a->territories, a->n_territories, b->territories, b->n_territories))
        return false;
    const struct routing_rep *ra = a->routing, *rb = b->routing;
    if (!ra || !rb)
        return ra == rb;
    return same_text(zone_name(ra->tz), zone_name(rb->tz)) &&
           same_hours(ra->has_hours, &ra->hours, rb->has_hours, &rb->hours) &&
           same_holidays(&ra->holidays, &rb->holidays);
}

static size_t pool_count(const struct config *c)
{
    return c->routing.n_pools;
}

static const char *pool_name(const struct config *c, size_t i)
{
    return c->routing.pools[i].id;
}

/* Members compare by id and in order: round robin goes round in it. */
static bool pool_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct routing_pool *a = &ca->routing.pools[i], *b = &cb->routing.pools[j];
    if (!same_text(a->name, b->name) || a->strategy != b->strategy || a->absence != b->absence ||
        a->window != b->window || !same_text(zone_name(a->tz), zone_name(b->tz)) ||
        a->out_of_hours != b->out_of_hours || a->match_territory != b->match_territory ||
        a->offer != b->offer || a->offer_to != b->offer_to || a->n_members != b->n_members)
        return false;
    for (size_t m = 0; m < a->n_members; m++)
        if (strcmp(ca->routing.reps[a->members[m]].id, cb->routing.reps[b->members[m]].id) != 0)
            return false;
    return true;
}

static size_t routing_rule_count(const struct config *c)
{
    return c->routing.n_rules;
}

static const char *routing_rule_name(const struct config *c, size_t i)
{
    return c->routing.rules[i].name;
}

static const char *route_target_id(const struct config *c, const struct routing_rule *r)
{
    if (r->target == ROUTE_TO_POOL)
        return c->routing.pools[r->index].id;
    if (r->target == ROUTE_TO_REP)
        return c->routing.reps[r->index].id;
    return NULL;
}

static bool routing_rule_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct routing_rule *a = &ca->routing.rules[i], *b = &cb->routing.rules[j];
    return same_text(when_text(a->when), when_text(b->when)) && a->target == b->target &&
           same_text(route_target_id(ca, a), route_target_id(cb, b)) &&
           a->fallback == b->fallback &&
           same_set(a->languages, a->n_languages, b->languages, b->n_languages) &&
           same_set(a->skills, a->n_skills, b->skills, b->n_skills);
}

static size_t fit_rule_count(const struct config *c)
{
    return c->scoring->n_fit;
}

static const char *fit_rule_name(const struct config *c, size_t i)
{
    return c->scoring->fit[i].name;
}

static const char *fit_group_of(const struct config *c, const struct fit_rule *r)
{
    return r->group >= 0 ? c->scoring->groups[r->group].name : NULL;
}

static bool fit_rule_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct fit_rule *a = &ca->scoring->fit[i], *b = &cb->scoring->fit[j];
    return same_text(when_text(a->when), when_text(b->when)) && a->points == b->points &&
           same_text(fit_group_of(ca, a), fit_group_of(cb, b));
}

static size_t fit_group_count(const struct config *c)
{
    return c->scoring->n_groups;
}

static const char *fit_group_name(const struct config *c, size_t i)
{
    return c->scoring->groups[i].name;
}

static bool fit_group_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct fit_group *a = &ca->scoring->groups[i], *b = &cb->scoring->groups[j];
    return a->has_cap == b->has_cap && (!a->has_cap || a->cap == b->cap);
}

static size_t engagement_count(const struct config *c)
{
    return c->scoring->n_engagement;
}

static const char *engagement_name(const struct config *c, size_t i)
{
    return c->scoring->engagement[i].name;
}

static bool engagement_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct engagement_rule *a = &ca->scoring->engagement[i];
    const struct engagement_rule *b = &cb->scoring->engagement[j];
    return same_text(a->activity_type, b->activity_type) &&
           same_text(when_text(a->when), when_text(b->when)) && a->points == b->points &&
           a->has_cap == b->has_cap && (!a->has_cap || a->cap == b->cap) && a->decay == b->decay &&
           (a->decay == DECAY_NONE || a->decay_ms == b->decay_ms);
}

static size_t sla_policy_count(const struct config *c)
{
    return c->sla.n_policies;
}

static const char *sla_policy_name(const struct config *c, size_t i)
{
    return c->sla.policies[i].name;
}

static const char *sla_fallback_id(const struct config *c, const struct sla_policy *p)
{
    if (p->after_max_attempts == SLA_FALLBACK_POOL)
        return c->routing.pools[p->fallback_index].id;
    if (p->after_max_attempts == SLA_FALLBACK_REP)
        return c->routing.reps[p->fallback_index].id;
    return NULL;
}

/* Every field; reminders and breach actions in order (they happen in it). */
static bool sla_policy_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct sla_policy *a = &ca->sla.policies[i], *b = &cb->sla.policies[j];
    if (!same_text(when_text(a->when), when_text(b->when)) ||
        a->accept_within_ms != b->accept_within_ms ||
        a->contact_within_ms != b->contact_within_ms || a->clock != b->clock ||
        a->n_reminders != b->n_reminders || a->n_on_breach != b->n_on_breach ||
        a->max_attempts != b->max_attempts || a->after_max_attempts != b->after_max_attempts ||
        !same_text(sla_fallback_id(ca, a), sla_fallback_id(cb, b)) ||
        a->exclude_last != b->exclude_last || a->away_after_breaches != b->away_after_breaches)
        return false;
    for (size_t k = 0; k < a->n_reminders; k++)
        if (a->reminders[k] != b->reminders[k])
            return false;
    for (size_t k = 0; k < a->n_on_breach; k++)
        if (a->on_breach[k] != b->on_breach[k])
            return false;
    return true;
}

/* The reasons a rep can choose from: the configured ones, else the
 * built-in ones (a file that drops its list brings those back). */
static const struct sla_reject_reason *reasons_of(const struct config *c, size_t *n)
{
    if (c->sla.n_reject_reasons) {
        *n = c->sla.n_reject_reasons;
        return c->sla.reject_reasons;
    }
    *n = sla_n_default_reject_reasons;
    return sla_default_reject_reasons;
}

static size_t reject_reason_count(const struct config *c)
{
    size_t n;
    reasons_of(c, &n);
    return n;
}

static const char *reject_reason_name(const struct config *c, size_t i)
{
    size_t n;
    return reasons_of(c, &n)[i].id;
}

static bool reject_reason_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    size_t n;
    const struct sla_reject_reason *a = &reasons_of(ca, &n)[i], *b = &reasons_of(cb, &n)[j];
    return same_text(a->label, b->label) && a->action == b->action;
}

/* ---- delivery ---- */

static size_t channel_count(const struct config *c)
{
    return c->delivery.n_channels;
}

static const char *channel_name(const struct config *c, size_t i)
{
    return c->delivery.channels[i].id;
}

static const char *template_id(const struct config_template *t)
{
    return t ? t->id : NULL;
}

/* The same key -> URL pairs in any order (keys are unique in each). */
static bool same_url_by(const struct config_url_by *a, size_t na, const struct config_url_by *b,
                        size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        size_t j = 0;
        while (j < nb && strcmp(a[i].key, b[j].key) != 0)
            j++;
        if (j == nb || !same_text(a[i].url, b[j].url))
            return false;
    }
    return true;
}

static bool same_fields(const struct config_channel *a, const struct config_channel *b)
{
    if (a->n_fields != b->n_fields)
        return false;
    for (size_t i = 0; i < a->n_fields; i++) {
        size_t j = 0;
        while (j < b->n_fields && strcmp(a->fields[i].name, b->fields[j].name) != 0)
            j++;
        if (j == b->n_fields || !same_text(a->fields[i].path, b->fields[j].path))
            return false;
    }
    return true;
}

/* Every key; events, fields and the URLs by team or rep as sets, the
 * secrets in order (a rotation is a change). Templates by id: a change to
 * a template's text is the template's. */
static bool channel_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    const struct config_channel *a = &ca->delivery.channels[i], *b = &cb->delivery.channels[j];
    if (a->type != b->type || !same_set(a->events, a->n_events, b->events, b->n_events) ||
        !same_text(when_text(a->when), when_text(b->when)) || !same_text(a->url, b->url) ||
        !same_url_by(a->by_team, a->n_by_team, b->by_team, b->n_by_team) ||
        !same_url_by(a->by_rep, a->n_by_rep, b->by_rep, b->n_by_rep) ||
        a->n_secrets != b->n_secrets || a->to != b->to ||
        !same_text(a->to_address, b->to_address) ||
        !same_text(template_id(a->template), template_id(b->template)) ||
        !same_text(template_id(a->first_touch), template_id(b->first_touch)) ||
        a->invite != b->invite || a->timeout_ms != b->timeout_ms ||
        a->concurrency != b->concurrency || !same_fields(a, b))
        return false;
    for (size_t k = 0; k < a->n_secrets; k++)
        if (!same_text(a->secrets[k].secret, b->secrets[k].secret) ||
            a->secrets[k].until != b->secrets[k].until)
            return false;
    return true;
}

static size_t delivery_template_count(const struct config *c)
{
    return c->delivery.n_templates;
}

static const char *delivery_template_name(const struct config *c, size_t i)
{
    return c->delivery.templates[i].id;
}

static bool same_template_part(const struct template *a, const struct template *b)
{
    if (!a || !b)
        return a == b;
    size_t la, lb;
    const char *sa = template_source(a, &la), *sb = template_source(b, &lb);
    return la == lb && memcmp(sa, sb, la) == 0;
}

static bool delivery_template_same(const struct config *ca, size_t i, const struct config *cb,
                                   size_t j)
{
    const struct config_template *a = &ca->delivery.templates[i], *b = &cb->delivery.templates[j];
    return same_template_part(a->subject, b->subject) && same_template_part(a->text, b->text) &&
           same_template_part(a->html, b->html);
}

/* Qualification has three fixed slots; an absent condition is no item. */
static const char *const qualification_keys[] = {"mql_when", "fast_track_when", "disqualify_when"};

static const struct rule *qualification_rule(const struct config *c, size_t i)
{
    const struct qualification *q = &c->qualification;
    return i == 0 ? q->mql_when : i == 1 ? q->fast_track_when : q->disqualify_when;
}

static size_t qualification_count(const struct config *c)
{
    return 3;
}

static const char *qualification_name(const struct config *c, size_t i)
{
    return qualification_rule(c, i) ? qualification_keys[i] : NULL;
}

static bool qualification_same(const struct config *ca, size_t i, const struct config *cb, size_t j)
{
    return same_text(when_text(qualification_rule(ca, i)), when_text(qualification_rule(cb, j)));
}

static const struct kind {
    const char *key, *one, *many; /* JSON key; the line's words */
    size_t (*count)(const struct config *c);
    /* The name of item i, or NULL when there is no item at i. */
    const char *(*name)(const struct config *c, size_t i);
    bool (*same)(const struct config *a, size_t i, const struct config *b, size_t j);
} kinds[CONFIG_DIFF_KINDS] = {
    [CONFIG_DIFF_TEAMS] = {"teams", "team", "teams", team_count, team_name, team_same},
    [CONFIG_DIFF_REPS] = {"reps", "rep", "reps", rep_count, rep_name, rep_same},
    [CONFIG_DIFF_POOLS] = {"pools", "pool", "pools", pool_count, pool_name, pool_same},
    [CONFIG_DIFF_ROUTING_RULES] = {"routing_rules", "routing rule", "routing rules",
                                   routing_rule_count, routing_rule_name, routing_rule_same},
    [CONFIG_DIFF_FIT_RULES] = {"fit_rules", "fit rule", "fit rules", fit_rule_count, fit_rule_name,
                               fit_rule_same},
    [CONFIG_DIFF_FIT_GROUPS] = {"fit_groups", "fit group", "fit groups", fit_group_count,
                                fit_group_name, fit_group_same},
    [CONFIG_DIFF_ENGAGEMENT_RULES] = {"engagement_rules", "engagement rule", "engagement rules",
                                      engagement_count, engagement_name, engagement_same},
    [CONFIG_DIFF_QUALIFICATION] = {"qualification", "qualification rule", "qualification rules",
                                   qualification_count, qualification_name, qualification_same},
    [CONFIG_DIFF_SLA_POLICIES] = {"sla_policies", "SLA policy", "SLA policies", sla_policy_count,
                                  sla_policy_name, sla_policy_same},
    [CONFIG_DIFF_REJECT_REASONS] = {"reject_reasons", "reject reason", "reject reasons",
                                    reject_reason_count, reject_reason_name, reject_reason_same},
    [CONFIG_DIFF_DELIVERY_CHANNELS] = {"delivery_channels", "delivery channel", "delivery channels",
                                       channel_count, channel_name, channel_same},
    [CONFIG_DIFF_DELIVERY_TEMPLATES] = {"delivery_templates", "template", "templates",
                                        delivery_template_count, delivery_template_name,
                                        delivery_template_same},
};

const char *config_diff_kind_name(enum config_diff_kind kind)
{
    if ((unsigned)kind >= CONFIG_DIFF_KINDS)
        BT_BUG("config_diff_kind_name: no kind %d", (int)kind);
    return kinds[kind].key;
}

/* ---- settings ---- */

#define SAME_FIELD(fn, field)                                                                      \
    static bool fn(const struct config *a, const struct config *b)                                 \
    {                                                                                              \
        return a->field == b->field;                                                               \
    }

SAME_FIELD(same_max_body_bytes, max_body_bytes)
SAME_FIELD(same_shutdown_timeout, shutdown_timeout_ms)
SAME_FIELD(same_activities_create_leads, activities_create_leads)
SAME_FIELD(same_name_threshold, account_name_threshold)
SAME_FIELD(same_max_connections, max_connections)
SAME_FIELD(same_request_timeout, request_timeout_ms)
SAME_FIELD(same_synchronous, synchronous)
SAME_FIELD(same_busy_timeout, busy_timeout_ms)
SAME_FIELD(same_group_commit_max, group_commit_max)
SAME_FIELD(same_rejections_per_day, sla.rejections_per_day)

static bool same_form_redirect_hosts(const struct config *a, const struct config *b)
{
    return same_set(a->form_redirect_hosts, a->n_form_redirect_hosts, b->form_redirect_hosts,
                    b->n_form_redirect_hosts);
}

static bool same_freemail(const struct config *a, const struct config *b)
{
    return same_set(a->freemail_add, a->n_freemail_add, b->freemail_add, b->n_freemail_add) &&
           same_set(a->freemail_remove, a->n_freemail_remove, b->freemail_remove,
                    b->n_freemail_remove);
}

static bool same_range(const struct config *a, const struct config *b)
{
    return a->scoring->min_total == b->scoring->min_total &&
           a->scoring->max_total == b->scoring->max_total;
}

static bool same_grades(const struct config *a, const struct config *b)
{
    for (int i = 0; i < 3; i++)
        if (a->scoring->fit_bands[i] != b->scoring->fit_bands[i] ||
            a->scoring->engagement_bands[i] != b->scoring->engagement_bands[i])
            return false;
    return true;
}

static bool same_listen(const struct config *a, const struct config *b)
{
    return same_text(a->listen, b->listen);
}

static bool same_public_url(const struct config *a, const struct config *b)
{
    return same_text(a->public_url, b->public_url);
}

static bool same_metrics_public(const struct config *a, const struct config *b)
{
    return a->metrics_public == b->metrics_public;
}

static bool same_smtp(const struct config *a, const struct config *b)
{
    const struct config_delivery *x = &a->delivery, *y = &b->delivery;
    return same_text(x->smtp.url, y->smtp.url) && same_text(x->smtp.from, y->smtp.from) &&
           same_text(x->smtp.username, y->smtp.username) &&
           same_text(x->smtp.password, y->smtp.password) && x->smtp.starttls == y->smtp.starttls;
}

static bool same_sms(const struct config *a, const struct config *b)
{
    const struct config_delivery *x = &a->delivery, *y = &b->delivery;
    return same_text(x->sms.url, y->sms.url) && same_text(x->sms.from, y->sms.from) &&
           same_text(x->sms.username, y->sms.username) &&
           same_text(x->sms.password, y->sms.password);
}

static bool same_marketing(const struct config *a, const struct config *b)
{
    return same_text(a->delivery.marketing, b->delivery.marketing);
}

static bool same_retry(const struct config *a, const struct config *b)
{
    const struct config_delivery *x = &a->delivery, *y = &b->delivery;
    if (x->n_schedule != y->n_schedule)
        return false;
    for (size_t i = 0; i < x->n_schedule; i++)
        if (x->schedule_ms[i] != y->schedule_ms[i])
            return false;
    return true;
}

static bool same_breaker(const struct config *a, const struct config *b)
{
    const struct delivery_breaker_policy *x = &a->delivery.breaker, *y = &b->delivery.breaker;
    return x->pause_after_ms == y->pause_after_ms && x->min_failures == y->min_failures &&
           x->probe_every_ms == y->probe_every_ms;
}

SAME_FIELD(same_meeting_minutes, delivery.meeting_minutes)

/* Restart-only: what cli_serve.c and server.c read once, at start. */
static const struct setting {
    const char *name;
    bool restart_only;
    bool (*same)(const struct config *a, const struct config *b);
} settings[] = {
    {"server.listen", true, same_listen},
    {"server.max_body_bytes", false, same_max_body_bytes},
    {"server.max_connections", true, same_max_connections},
    {"server.request_timeout", true, same_request_timeout},
    {"server.shutdown_timeout", false, same_shutdown_timeout},
    {"server.form_redirect_hosts", false, same_form_redirect_hosts},
    {"server.public_url", false, same_public_url},         /* read per request */
    {"server.metrics.public", false, same_metrics_public}, /* read per request */
    {"store.synchronous", true, same_synchronous},
    {"store.busy_timeout", true, same_busy_timeout},
    {"store.group_commit_max", true, same_group_commit_max},
    {"intake.freemail", false, same_freemail},
    {"intake.activities_create_leads", false, same_activities_create_leads},
    {"scoring.range", false, same_range},
    {"scoring.grades", false, same_grades},
    {"accounts.name_threshold", false, same_name_threshold},
    {"sla.rejections_per_day", false, same_rejections_per_day},
    {"delivery.smtp", false, same_smtp},
    {"delivery.sms", false, same_sms},
    {"delivery.marketing", false, same_marketing},
    {"delivery.retry", false, same_retry},
    {"delivery.breaker", false, same_breaker},
    {"delivery.meeting_minutes", false, same_meeting_minutes},
};

/* The settings plus the two orders below must fit the arrays. */
_Static_assert(sizeof(settings) / sizeof(settings[0]) + 2 <= CONFIG_DIFF_SETTINGS_MAX,
               "CONFIG_DIFF_SETTINGS_MAX is too small");

#define ROUTING_ORDER_SETTING "routing.rules (order)"
#define SLA_ORDER_SETTING     "sla.policies (order)"

/* ---- the merge ---- */

struct named {
    const char *name;
    size_t index;
};

static int named_cmp(const void *a, const void *b)
{
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The items of c sorted by name; *n gets how many. */
static struct named *sorted_names(const struct kind *k, const struct config *c, size_t *n)
{
    size_t count = k->count(c), m = 0;
    struct named *out = xmalloc((count ? count : 1) * sizeof(*out));
    for (size_t i = 0; i < count; i++) {
        const char *name = k->name(c, i);
        if (name)
            out[m++] = (struct named){name, i};
    }
    qsort(out, m, sizeof(*out), named_cmp);
    *n = m;
    return out;
}

enum mark { MARK_NONE, MARK_KEPT, MARK_CHANGED, MARK_GONE, MARK_NEW };

/* *list: the names of c's items marked `want`, in file order (NULL when none). */
static void list_marked(const struct kind *k, const struct config *c, const unsigned char *marks,
                        enum mark want, const char ***list, size_t *n)
{
    size_t count = k->count(c), m = 0;
    for (size_t i = 0; i < count; i++)
        m += marks[i] == want;
    *list = m ? xmalloc(m * sizeof(**list)) : NULL;
    *n = 0;
    for (size_t i = 0; i < count; i++)
        if (marks[i] == want)
            (*list)[(*n)++] = k->name(c, i);
}

/*
 * One kind: names merged after sorting; then the lists in file order.
 * *reordered: the items both have are not in the same relative order.
 */
static void diff_kind(const struct kind *k, const struct config *from, const struct config *to,
                      struct config_diff_names *out, bool *reordered)
{
    size_t na, nb;
    struct named *a = sorted_names(k, from, &na), *b = sorted_names(k, to, &nb);
    size_t ca = k->count(from), cb = k->count(to);
    unsigned char *ma = xcalloc(ca ? ca : 1, 1), *mb = xcalloc(cb ? cb : 1, 1);
    /* for the order: the position in `to` of each item kept from `from` */
    size_t *peer = xmalloc((ca ? ca : 1) * sizeof(*peer));
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].name, b[j].name);
        if (c < 0) {
            ma[a[i++].index] = MARK_GONE;
        } else if (c > 0) {
            mb[b[j++].index] = MARK_NEW;
        } else {
            bool same = k->same(from, a[i].index, to, b[j].index);
            ma[a[i].index] = MARK_KEPT;
            mb[b[j].index] = same ? MARK_KEPT : MARK_CHANGED;
            peer[a[i].index] = b[j].index;
            i++, j++;
        }
    }
    *reordered = false;
    size_t last = 0;
    bool first = true;
    for (size_t x = 0; x < ca; x++) {
        if (ma[x] != MARK_KEPT)
            continue;
        if (!first && peer[x] < last)
            *reordered = true;
        last = peer[x];
        first = false;
    }
    list_marked(k, from, ma, MARK_GONE, &out->removed, &out->n_removed);
    list_marked(k, to, mb, MARK_NEW, &out->added, &out->n_added);
    list_marked(k, to, mb, MARK_CHANGED, &out->changed, &out->n_changed);
    free(peer);
    free(ma);
    free(mb);
    free(a);
    free(b);
}

void config_diff_compute(const struct config *from, const struct config *to,
                         const struct config *started, struct config_diff *out)
{
    *out = (struct config_diff)CONFIG_DIFF_INIT;
    if (!started)
        started = from;
    /* The kinds whose order decides: the first rule, the first policy that matches wins. */
    bool rules_reordered = false, policies_reordered = false;
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++) {
        bool r;
        diff_kind(&kinds[k], from, to, &out->kinds[k], &r);
        if (k == CONFIG_DIFF_ROUTING_RULES)
            rules_reordered = r;
        else if (k == CONFIG_DIFF_SLA_POLICIES)
            policies_reordered = r;
    }
    for (size_t s = 0; s < sizeof(settings) / sizeof(settings[0]); s++) {
        const struct setting *st = &settings[s];
        if (st->restart_only && !st->same(started, to))
            out->restart[out->n_restart++] = st->name;
        else if (!st->restart_only && !st->same(from, to))
            out->settings[out->n_settings++] = st->name;
    }
    if (rules_reordered)
        out->settings[out->n_settings++] = ROUTING_ORDER_SETTING;
    if (policies_reordered)
        out->settings[out->n_settings++] = SLA_ORDER_SETTING;
}

void config_diff_release(struct config_diff *d)
{
    if (!d)
        return;
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++) {
        free(d->kinds[k].added);
        free(d->kinds[k].removed);
        free(d->kinds[k].changed);
    }
    *d = (struct config_diff)CONFIG_DIFF_INIT;
}

bool config_diff_removes(const struct config_diff *d)
{
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++)
        if (d->kinds[k].n_removed)
            return true;
    return false;
}

bool config_diff_empty(const struct config_diff *d)
{
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++)
        if (d->kinds[k].n_added || d->kinds[k].n_removed || d->kinds[k].n_changed)
            return false;
    return d->n_settings == 0 && d->n_restart == 0;
}

/* ---- the line ---- */

/* A bounded line: what does not fit is cut on a character boundary and
 * ends in "...", never silently. */
struct line {
    char *buf;
    size_t len;
    bool full;
};

#define LINE_ROOM (CONFIG_DIFF_LINE_MAX - 4) /* room for "..." and the NUL */

static void put(struct line *l, const char *fmt, ...) BT_PRINTF(2, 3);

static void put(struct line *l, const char *fmt, ...)
{
    if (l->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, LINE_ROOM - l->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < LINE_ROOM - l->len) {
        l->len += (size_t)n;
        return;
    }
    /* buf[len, end) holds what fitted; its last character may be cut. */
    size_t end = LINE_ROOM - 1, start = end;
    while (start > l->len && ((unsigned char)l->buf[start - 1] & 0xC0) == 0x80)
        start--;
    if (start > l->len) {
        unsigned char lead = (unsigned char)l->buf[start - 1];
        size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (end - (start - 1) < need)
            end = start - 1;
    }
    memcpy(l->buf + end, "...", 4);
    l->len = end + 3;
    l->full = true;
}

/* "2 reps (anna, bob)", at most CONFIG_DIFF_LINE_NAMES names. */
static void put_names(struct line *l, const struct kind *k, const char *const *names, size_t n)
{
    put(l, "%zu %s (", n, n == 1 ? k->one : k->many);
    size_t shown = n < CONFIG_DIFF_LINE_NAMES ? n : CONFIG_DIFF_LINE_NAMES;
    for (size_t i = 0; i < shown; i++)
        put(l, "%s%s", i ? ", " : "", names[i]);
    if (n > shown)
        put(l, " and %zu more", n - shown);
    put(l, ")");
}

enum which { ADDED, REMOVED, CHANGED_ITEMS };

static void names_of(const struct config_diff_names *n, enum which w, const char *const **names,
                     size_t *count)
{
    if (w == ADDED)
        *names = n->added, *count = n->n_added;
    else if (w == REMOVED)
        *names = n->removed, *count = n->n_removed;
    else
        *names = n->changed, *count = n->n_changed;
}

/* One part of the line: "removed 1 team (emea), 2 reps (...)", after "; "
 * when another part came before. False when the part is empty. */
static bool put_part(struct line *l, const struct config_diff *d, enum which w, const char *verb,
                     bool after)
{
    bool any = false;
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++) {
        const char *const *names;
        size_t n;
        names_of(&d->kinds[k], w, &names, &n);
        if (!n)
            continue;
        put(l, "%s", any ? ", " : after ? "; " : "");
        if (!any)
            put(l, "%s ", verb);
        put_names(l, &kinds[k], names, n);
        any = true;
    }
    for (size_t s = 0; w == CHANGED_ITEMS && s < d->n_settings; s++) {
        put(l, "%s", any ? ", " : after ? "; " : "");
        if (!any)
            put(l, "%s ", verb);
        put(l, "%s", d->settings[s]);
        any = true;
    }
    return any;
}

const char *config_diff_line(const struct config_diff *d, char buf[CONFIG_DIFF_LINE_MAX])
{
    struct line l = {buf, 0, false};
    buf[0] = '\0';
    bool any = put_part(&l, d, REMOVED, "removed", false);
    if (put_part(&l, d, ADDED, "added", any))
        any = true;
    if (put_part(&l, d, CHANGED_ITEMS, "changed", any))
        any = true;
    for (size_t s = 0; s < d->n_restart; s++) {
        if (s == 0)
            put(&l, "%signored until restart: ", any ? "; " : "");
        put(&l, "%s%s", s ? ", " : "", d->restart[s]);
        any = true;
    }
    if (!any)
        put(&l, "no changes");
    return buf;
}

/* ---- JSON ---- */

static json_t *string_list(const char *const *names, size_t n, size_t max)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < max; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

json_t *config_diff_json(const struct config_diff *d)
{
    static const char *const list_keys[] = {"added", "removed", "changed"};
    json_t *o = json_object();
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++) {
        json_t *kind = json_object(), *more = NULL;
        for (int w = ADDED; w <= CHANGED_ITEMS; w++) {
            const char *const *names;
            size_t n;
            names_of(&d->kinds[k], (enum which)w, &names, &n);
            json_object_set_new(kind, list_keys[w], string_list(names, n, CONFIG_DIFF_JSON_NAMES));
            if (n > CONFIG_DIFF_JSON_NAMES) {
                if (!more)
                    more = json_object();
                json_object_set_new(more, list_keys[w],
                                    json_integer((json_int_t)(n - CONFIG_DIFF_JSON_NAMES)));
            }
        }
        if (more)
            json_object_set_new(kind, "more", more);
        json_object_set_new(o, kinds[k].key, kind);
    }
    json_object_set_new(o, "settings", string_list(d->settings, d->n_settings, SIZE_MAX));
    json_object_set_new(o, "ignored_until_restart",
                        string_list(d->restart, d->n_restart, SIZE_MAX));
    char line[CONFIG_DIFF_LINE_MAX];
    json_object_set_new(o, "text", json_string(config_diff_line(d, line)));
    return o;
}
