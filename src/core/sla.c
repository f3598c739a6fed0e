/*
 * sla.c - SLA policies: names, the built-in reject reasons and which policy
 * a lead gets. The clock arithmetic is in sla_clock.c.
 */
#include "core/sla.h"

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
