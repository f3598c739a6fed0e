/*
 * sla.c - SLA policies: names, the built-in reject reasons and which policy
 * a lead gets. The clock arithmetic is in sla_clock.c.
 */
#include "core/sla.h"

#include <stdio.h>
#include <string.h>

static const char *const clock_names[] = {"wall", "business_hours"};
static const char *const breach_names[] = {"remind", "notify_manager", "reassign"};
static const char *const fallback_names[] = {"hold", "pool", "rep", "manager"};
static const char *const reject_names[] = {"reroute", "recycle", "disqualify"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool parse_name(const char *const *names, size_t n, const char *name, int *out)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0) {
            *out = (int)i;
            return true;
        }
    return false;
}

const char *sla_clock_name(enum sla_clock c)
{
    return (size_t)c < N_OF(clock_names) ? clock_names[c] : "?";
}

bool sla_clock_parse(const char *name, enum sla_clock *out)
{
    int i;
    if (!parse_name(clock_names, N_OF(clock_names), name, &i))
        return false;
    *out = (enum sla_clock)i;
    return true;
}

const char *sla_breach_action_name(enum sla_breach_action a)
{
    return (size_t)a < N_OF(breach_names) ? breach_names[a] : "?";
}

bool sla_breach_action_parse(const char *name, enum sla_breach_action *out)
{
    int i;
    if (!parse_name(breach_names, N_OF(breach_names), name, &i))
        return false;
    *out = (enum sla_breach_action)i;
    return true;
}

const char *sla_fallback_name(enum sla_fallback f)
{
    return (size_t)f < N_OF(fallback_names) ? fallback_names[f] : "?";
}

const char *sla_reject_action_name(enum sla_reject_action a)
{
    return (size_t)a < N_OF(reject_names) ? reject_names[a] : "?";
}

bool sla_reject_action_parse(const char *name, enum sla_reject_action *out)
{
    int i;
    if (!parse_name(reject_names, N_OF(reject_names), name, &i))
        return false;
    *out = (enum sla_reject_action)i;
    return true;
}

const struct sla_reject_reason sla_default_reject_reasons[] = {
    {"wrong_territory", "Wrong territory", SLA_REJECT_REROUTE},
    {"existing_customer", "Existing customer", SLA_REJECT_REROUTE},
    {"not_a_fit", "Not a fit", SLA_REJECT_RECYCLE},
    {"not_qualified", "Not qualified yet", SLA_REJECT_RECYCLE},
    {"duplicate", "Duplicate", SLA_REJECT_DISQUALIFY},
    {"bad_data", "Bad data", SLA_REJECT_DISQUALIFY},
};
const size_t sla_n_default_reject_reasons = N_OF(sla_default_reject_reasons);

long sla_policy_select(const struct sla_config *cfg, const struct rule_value *slots,
                       struct rule_scratch *scratch)
{
    for (size_t i = 0; cfg && i < cfg->n_policies; i++) {
        const struct sla_policy *p = &cfg->policies[i];
        if (!p->when || rule_eval(p->when, slots, scratch))
            return (long)i;
    }
    return -1;
}

const struct sla_reject_reason *sla_reject_reason_find(const struct sla_config *cfg, const char *id)
{
    const struct sla_reject_reason *r =
        cfg && cfg->n_reject_reasons ? cfg->reject_reasons : sla_default_reject_reasons;
    size_t n = cfg && cfg->n_reject_reasons ? cfg->n_reject_reasons : sla_n_default_reject_reasons;
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(r[i].id, id) == 0)
            return &r[i];
    return NULL;
}

void sla_schedule_of(const struct routing_rep *rep, struct sla_schedule *out)
{
    out->hours = rep->has_hours ? &rep->hours : NULL;
    out->tz = rep->tz;
    out->holidays = rep->holidays.count ? &rep->holidays : NULL;
}

int64_t sla_accept_point(const struct sla_policy *p, const struct sla_schedule *s,
                         int64_t assigned_at, double fraction)
{
    int64_t d =
        fraction >= 1 ? p->accept_within_ms : (int64_t)((double)p->accept_within_ms * fraction);
    return sla_deadline(p->clock, s, assigned_at, d);
}

json_t *sla_policy_terms(const struct sla_policy *p, const struct routing_config *routing)
{
    json_t *rem = json_array(), *breach = json_array();
    for (size_t i = 0; i < p->n_reminders; i++)
        json_array_append_new(rem, json_real(p->reminders[i]));
    for (size_t i = 0; i < p->n_on_breach; i++)
        json_array_append_new(breach, json_string(sla_breach_action_name(p->on_breach[i])));
    char after[160];
    if (p->after_max_attempts == SLA_FALLBACK_POOL && p->fallback_index < routing->n_pools)
        snprintf(after, sizeof(after), "pool:%s", routing->pools[p->fallback_index].id);
    else if (p->after_max_attempts == SLA_FALLBACK_REP && p->fallback_index < routing->n_reps)
        snprintf(after, sizeof(after), "rep:%s", routing->reps[p->fallback_index].id);
    else
        snprintf(after, sizeof(after), "%s",
                 p->after_max_attempts == SLA_FALLBACK_MANAGER ? "manager" : "hold");
    return json_pack(
        "{s:s, s:I, s:I, s:s, s:o, s:o, s:I, s:s, s:I, s:I}", "policy", p->name, "accept_within_ms",
        (json_int_t)p->accept_within_ms, "contact_within_ms", (json_int_t)p->contact_within_ms,
        "clock", sla_clock_name(p->clock), "reminders", rem, "on_breach", breach, "max_attempts",
        (json_int_t)p->max_attempts, "after_max_attempts", after, "exclude_last",
        (json_int_t)p->exclude_last, "away_after_breaches", (json_int_t)p->away_after_breaches);
}

static int64_t int_of(const json_t *o, const char *key, int64_t min, int64_t max, bool *ok)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        *ok = false;
        return min;
    }
    return json_integer_value(v);
}

bool sla_policy_from_terms(const json_t *terms, const struct routing_config *routing,
                           struct sla_policy *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(terms))
        return false;
    bool ok = true;
    out->name = json_string_value(json_object_get(terms, "policy"));
    out->accept_within_ms = int_of(terms, "accept_within_ms", 0, INT64_MAX / 4, &ok);
    out->contact_within_ms = int_of(terms, "contact_within_ms", 0, INT64_MAX / 4, &ok);
    out->max_attempts = (unsigned)int_of(terms, "max_attempts", 1, 1000, &ok);
    out->exclude_last = (unsigned)int_of(terms, "exclude_last", 0, 1000, &ok);
    out->away_after_breaches = (unsigned)int_of(terms, "away_after_breaches", 0, 1000, &ok);
    if (!out->name ||
        !sla_clock_parse(json_string_value(json_object_get(terms, "clock")), &out->clock))
        ok = false;
    const json_t *rem = json_object_get(terms, "reminders"),
                 *breach = json_object_get(terms, "on_breach");
    if (!json_is_array(rem) || json_array_size(rem) > SLA_REMINDERS_MAX || !json_is_array(breach) ||
        json_array_size(breach) > SLA_BREACH_MAX)
        return false;
    for (size_t i = 0; i < json_array_size(rem); i++) {
        double f = json_number_value(json_array_get(rem, i));
        if (!(f > 0 && f < 1))
            return false;
        out->reminders[out->n_reminders++] = f;
    }
    for (size_t i = 0; i < json_array_size(breach); i++)
        if (!sla_breach_action_parse(json_string_value(json_array_get(breach, i)),
                                     &out->on_breach[out->n_on_breach++]))
            return false;
    const char *after = json_string_value(json_object_get(terms, "after_max_attempts"));
    out->after_max_attempts = SLA_FALLBACK_HOLD;
    if (after && !strcmp(after, "manager")) {
        out->after_max_attempts = SLA_FALLBACK_MANAGER;
    } else if (after && !strncmp(after, "pool:", 5)) {
        long i = routing_find_pool(routing, after + 5);
        if (i >= 0) {
            out->after_max_attempts = SLA_FALLBACK_POOL;
            out->fallback_index = (size_t)i;
        }
    } else if (after && !strncmp(after, "rep:", 4)) {
        long i = routing_find_rep(routing, after + 4);
        if (i >= 0) {
            out->after_max_attempts = SLA_FALLBACK_REP;
            out->fallback_index = (size_t)i;
        }
    }
    return ok;
}
