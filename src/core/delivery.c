/*
 * delivery.c - channel matching, verdicts, the retry schedule and the
 * circuit breaker (delivery.h). Small tables and arithmetic; the I/O is in
 * deliver/.
 */
#include "core/delivery.h"

#include <string.h>

static const char *const type_names[DELIVERY_CHANNEL_TYPES] = {"webhook", "slack", "email", "sms",
                                                               "crm"};

const char *delivery_channel_type_name(enum delivery_channel_type t)
{
    return (unsigned)t < DELIVERY_CHANNEL_TYPES ? type_names[t] : "?";
}

bool delivery_channel_type_parse(const char *s, enum delivery_channel_type *out)
{
    for (unsigned i = 0; i < DELIVERY_CHANNEL_TYPES; i++)
        if (strcmp(s, type_names[i]) == 0) {
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

bool delivery_recipient_parse(const char *s, enum delivery_recipient *out)
{
    /* "address" is not written: a channel names the address itself. */
    for (unsigned i = 0; i < DELIVERY_TO_ADDRESS; i++)
        if (strcmp(s, recipient_names[i]) == 0) {
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
    "lead.mql",
    "lead.assigned",
    "lead.held",
    "lead.excluded",
    "lead.recycled",
    "lead.outcome",
    "assignment.accepted",
    "assignment.rejected",
    "assignment.contacted",
    "assignment.reminded",
    "assignment.breached",
    "assignment.contact_breached",
    "assignment.escalated",
    "assignment.expired",
    "assignment.reassigned",
    "assignment.withdrawn",
    "delivery.channel_paused",
    "delivery.channel_resumed",
    "delivery.channel_disabled",
    NULL,
};

bool delivery_event_matches(const char *pattern, const char *type)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
        return strncmp(pattern, type, n - 1) == 0 && type[n - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

bool delivery_event_pattern_valid(const char *pattern)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    size_t n = strlen(pattern);
    bool prefix = n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.';
    if (!prefix && strchr(pattern, '*'))
        return false;
    for (const char *const *t = delivery_event_types; *t; t++)
        if (delivery_event_matches(pattern, *t))
            return true;
    return false;
}

/* ---- the message context ---- */

/* Every path a template may name. A list's element fields are written
 * LIST.FIELD; a `*` segment stands for any name. */
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
    NULL,
};

/* Whether `path` matches `pattern`, where a final ".*" stands for one or
 * more segments of any names. */
static bool path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
        return strncmp(pattern, path, n - 1) == 0 && path[n - 1] != '\0';
    return strcmp(pattern, path) == 0;
}

bool delivery_context_known(const char *path)
{
    for (const char *const *p = context_paths; *p; p++)
        if (path_matches(*p, path))
            return true;
    return false;
}

/* ---- verdicts ---- */

const char *delivery_verdict_name(enum delivery_verdict v)
{
    switch (v) {
    case DELIVERY_DELIVERED:
        return "delivered";
    case DELIVERY_RETRY:
        return "retry";
    case DELIVERY_PERMANENT:
        return "permanent";
    case DELIVERY_GONE:
        return "gone";
    }
    return "?";
}

enum delivery_verdict delivery_http_verdict(long status)
{
    if (status >= 200 && status < 300)
        return DELIVERY_DELIVERED;
    if (status == 410)
        return DELIVERY_GONE;
    /* 408 Request Timeout, 409 Conflict (a receiver mid-deploy often
     * answers it), 425 Too Early and 429 Too Many Requests are worth
     * another try; the rest of 4xx means the request itself is refused. */
    if (status >= 400 && status < 500 && status != 408 && status != 409 && status != 425 &&
        status != 429)
        return DELIVERY_PERMANENT;
    return DELIVERY_RETRY;
}

enum delivery_verdict delivery_smtp_verdict(long code)
{
    if (code >= 200 && code < 300)
        return DELIVERY_DELIVERED;
    if (code >= 500 && code < 600)
        return DELIVERY_PERMANENT;
    return DELIVERY_RETRY;
}

/* ---- the schedule ---- */

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

const int64_t delivery_default_schedule_ms[] = {
    0, 5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR,
};
const size_t delivery_default_schedule_len =
    sizeof(delivery_default_schedule_ms) / sizeof(delivery_default_schedule_ms[0]);

bool delivery_next_attempt(const int64_t *schedule, size_t n, int64_t attempts, int64_t now,
                           double rand01, int64_t retry_after_ms, int64_t *next_at)
{
    if (attempts < 1 || (uint64_t)attempts >= n)
        return false;
    if (retry_after_ms > 0) {
        int64_t d = retry_after_ms;
        if (d < DELIVERY_RETRY_AFTER_MIN_MS)
            d = DELIVERY_RETRY_AFTER_MIN_MS;
        if (d > DELIVERY_RETRY_AFTER_MAX_MS)
            d = DELIVERY_RETRY_AFTER_MAX_MS;
        *next_at = now + d;
        return true;
    }
    int64_t base = schedule[attempts];
    if (rand01 < 0)
        rand01 = 0;
    if (rand01 >= 1)
        rand01 = 0.999999;
    /* ±20 %: base * (0.8 + 0.4 * rand01) */
    double d = (double)base * (0.8 + 0.4 * rand01);
    *next_at = now + (int64_t)d;
    return true;
}

/* ---- the breaker ---- */

static const char *const state_names[] = {"active", "paused", "disabled"};

const char *delivery_channel_state_name(enum delivery_channel_state s)
{
    return (unsigned)s <= DELIVERY_CHANNEL_DISABLED ? state_names[s] : "?";
}

bool delivery_channel_state_parse(const char *s, enum delivery_channel_state *out)
{
    for (unsigned i = 0; i <= DELIVERY_CHANNEL_DISABLED; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum delivery_channel_state)i;
            return true;
        }
    return false;
}

void delivery_breaker_record(struct delivery_breaker *b, const struct delivery_breaker_policy *p,
                             enum delivery_verdict verdict, int64_t now, bool *changed)
{
    enum delivery_channel_state before = b->state;
    if (verdict == DELIVERY_GONE) {
        b->state = DELIVERY_CHANNEL_DISABLED;
        b->failures++;
        if (!b->failing_since)
            b->failing_since = now;
    } else if (verdict == DELIVERY_DELIVERED) {
        /* A delivery closes a paused breaker; a disabled destination stays
         * disabled until an admin enables it (an answer already in flight
         * does not undo a 410). */
        if (b->state == DELIVERY_CHANNEL_PAUSED)
            b->state = DELIVERY_CHANNEL_ACTIVE;
        b->failures = 0;
        b->failing_since = 0;
        b->next_probe_at = 0;
    } else if (verdict == DELIVERY_RETRY) {
        /* Only failures of the destination count: a permanent refusal is
         * about one message and says the destination is up. */
        b->failures++;
        if (!b->failing_since)
            b->failing_since = now;
        if (b->state == DELIVERY_CHANNEL_ACTIVE && b->failures >= p->min_failures &&
            now - b->failing_since >= p->pause_after_ms)
            b->state = DELIVERY_CHANNEL_PAUSED;
        if (b->state == DELIVERY_CHANNEL_PAUSED)
            b->next_probe_at = now + p->probe_every_ms;
    } else {
        b->failures = 0;
        b->failing_since = 0;
        if (b->state == DELIVERY_CHANNEL_PAUSED)
            b->state = DELIVERY_CHANNEL_ACTIVE;
    }
    if (changed)
        *changed = b->state != before;
}

bool delivery_breaker_allows(const struct delivery_breaker *b, int64_t now)
{
    switch (b->state) {
    case DELIVERY_CHANNEL_ACTIVE:
        return true;
    case DELIVERY_CHANNEL_PAUSED:
        return now >= b->next_probe_at;
    case DELIVERY_CHANNEL_DISABLED:
        return false;
    }
    return false;
}
