/*
 * delivery.c - PLACEHOLDER written on branch h-config so that the config
 * loader links: only the parts of core/delivery.h that config_delivery.c
 * calls (channel types, recipients, event patterns, the message context's
 * names and the default retry schedule), per the header's contract. The
 * full module (verdicts, the schedule's arithmetic, the breaker) replaces
 * this file when the branches are merged.
 */
#include "core/delivery.h"

#include <string.h>

static const char *const channel_type_names[DELIVERY_CHANNEL_TYPES] = {"webhook", "slack", "email",
                                                                       "sms", "crm"};

const char *delivery_channel_type_name(enum delivery_channel_type t)
{
    return (unsigned)t < DELIVERY_CHANNEL_TYPES ? channel_type_names[t] : "?";
}

bool delivery_channel_type_parse(const char *s, enum delivery_channel_type *out)
{
    for (unsigned i = 0; i < DELIVERY_CHANNEL_TYPES; i++)
        if (!strcmp(s, channel_type_names[i])) {
            *out = (enum delivery_channel_type)i;
            return true;
        }
    return false;
}

static const char *const recipient_names[] = {"rep", "manager", "prospect", "marketing", "address"};

const char *delivery_recipient_name(enum delivery_recipient r)
{
    return (unsigned)r <= DELIVERY_TO_ADDRESS ? recipient_names[r] : "?";
}

/* The four named recipients; a fixed address is the caller's to recognise. */
bool delivery_recipient_parse(const char *s, enum delivery_recipient *out)
{
    for (unsigned i = 0; i < DELIVERY_TO_ADDRESS; i++)
        if (!strcmp(s, recipient_names[i])) {
            *out = (enum delivery_recipient)i;
            return true;
        }
    return false;
}

const char *const delivery_event_types[] = {
    "lead.created",
    "lead.merged",
    "lead.account_matched",
    "lead.stage_changed",
    "lead.assigned",
    "lead.held",
    "lead.excluded",
    "lead.recycled",
    "assignment.accepted",
    "assignment.rejected",
    "assignment.reminded",
    "assignment.breached",
    "assignment.contact_breached",
    "assignment.contacted",
    "assignment.escalated",
    "assignment.expired",
    "assignment.withdrawn",
    "assignment.reassigned",
    "rep.status_changed",
    "rep.time_off_added",
    "rep.time_off_removed",
    NULL,
};

bool delivery_event_matches(const char *pattern, const char *type)
{
    if (!strcmp(pattern, "*"))
        return true;
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 2] == '.' && pattern[n - 1] == '*')
        return !strncmp(pattern, type, n - 1) && type[n - 1] != '\0';
    return !strcmp(pattern, type);
}

bool delivery_event_pattern_valid(const char *pattern)
{
    if (!strcmp(pattern, "*"))
        return true;
    size_t n = strlen(pattern);
    bool prefix = n >= 3 && pattern[n - 2] == '.' && pattern[n - 1] == '*';
    if (!prefix && strchr(pattern, '*'))
        return false;
    if (prefix && memchr(pattern, '*', n - 1))
        return false;
    for (const char *const *t = delivery_event_types; *t; t++)
        if (delivery_event_matches(pattern, *t))
            return true;
    return false;
}

/* The message context's names (delivery.h); "*" ends a prefix under which
 * any dotted name is known (lead.fields.NAME, data.NAME). */
static const char *const context_paths[] = {
    "event",
    "event.id",
    "event.type",
    "event.at",
    "event.actor",
    "event.reason",
    "lead",
    "lead.id",
    "lead.email",
    "lead.first_name",
    "lead.last_name",
    "lead.name",
    "lead.company",
    "lead.title",
    "lead.phone",
    "lead.country",
    "lead.source",
    "lead.stage",
    "lead.owner",
    "lead.created_at",
    "lead.fields",
    "lead.fields.*",
    "score",
    "score.total",
    "score.fit",
    "score.engagement",
    "score.grade",
    "score.reasons",
    "score.reasons.text",
    "score.reasons.points",
    "rep",
    "rep.id",
    "rep.name",
    "rep.email",
    "rep.phone",
    "rep.timezone",
    "rep.team",
    "manager",
    "manager.id",
    "manager.name",
    "manager.email",
    "assignment",
    "assignment.id",
    "assignment.attempt",
    "assignment.policy",
    "assignment.pool",
    "assignment.rule",
    "assignment.why",
    "assignment.accept_by",
    "assignment.accept_by_local",
    "assignment.contact_by",
    "rejection",
    "rejection.reason",
    "rejection.label",
    "rejection.note",
    "links",
    "links.decide",
    "links.accept",
    "links.reject",
    "meeting",
    "meeting.start",
    "meeting.end",
    "meeting.start_local",
    "meeting.end_local",
    "first_touch",
    "data",
    "data.*",
};

bool delivery_context_known(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof(context_paths) / sizeof(context_paths[0]); i++) {
        const char *p = context_paths[i];
        size_t len = strlen(p);
        if (len >= 2 && p[len - 1] == '*') {
            /* a prefix "x." followed by at least one character */
            if (n > len - 1 && !strncmp(path, p, len - 1))
                return true;
        } else if (!strcmp(path, p)) {
            return true;
        }
    }
    return false;
}

const int64_t delivery_default_schedule_ms[] = {
    0,
    5 * 1000LL,
    5 * 60 * 1000LL,
    30 * 60 * 1000LL,
    2 * 3600 * 1000LL,
    5 * 3600 * 1000LL,
    10 * 3600 * 1000LL,
    10 * 3600 * 1000LL,
};
const size_t delivery_default_schedule_len =
    sizeof(delivery_default_schedule_ms) / sizeof(delivery_default_schedule_ms[0]);
