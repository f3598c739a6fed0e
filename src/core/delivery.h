/*
 * delivery.h - the arithmetic of delivering a message: which channels an
 * event goes to, what an answer means, when to try again, and when a
 * destination that keeps failing is paused (a circuit breaker).
 *
 * Pure: no I/O, no clock (now is an argument), no randomness (the jitter's
 * random number is an argument), no allocation. The outbox rows, the
 * requests and the waiting live in store/ and deliver/ (docs/delivery.md).
 */
#ifndef BT_CORE_DELIVERY_H
#define BT_CORE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of channel a configuration may define. */
enum delivery_channel_type {
    DELIVERY_WEBHOOK, /* JSON, signed by Standard Webhooks */
    DELIVERY_SLACK,   /* an incoming webhook, Block Kit */
    DELIVERY_EMAIL,   /* SMTP */
    DELIVERY_SMS,     /* an HTTP gateway: form-encoded To, From, Body */
    DELIVERY_CRM,     /* a webhook whose body is a field mapping of the lead */
};
#define DELIVERY_CHANNEL_TYPES 5

/* "webhook", "slack", "email", "sms", "crm"; parse: false when unknown. */
const char *delivery_channel_type_name(enum delivery_channel_type t);
bool delivery_channel_type_parse(const char *s, enum delivery_channel_type *out);

/* Who a message is for (email and SMS channels). */
enum delivery_recipient {
    DELIVERY_TO_REP,       /* the rep the event names (lead.assigned's rep, ...) */
    DELIVERY_TO_MANAGER,   /* that rep's manager */
    DELIVERY_TO_PROSPECT,  /* the lead itself; never a lead that opted out */
    DELIVERY_TO_MARKETING, /* delivery.marketing */
    DELIVERY_TO_ADDRESS,   /* a fixed address or number */
};
const char *delivery_recipient_name(enum delivery_recipient r);
bool delivery_recipient_parse(const char *s, enum delivery_recipient *out);

/*
 * Whether event `type` ("lead.assigned") matches `pattern`: the same name,
 * "*" (every event), or a prefix ending in ".*" ("assignment.*" matches
 * "assignment.accepted", not "assignment" or "assignments.x").
 */
bool delivery_event_matches(const char *pattern, const char *type);
/* Whether `pattern` is one delivery_event_matches understands and names an
 * event Baton sends (a known name, a known prefix with ".*", or "*"). */
bool delivery_event_pattern_valid(const char *pattern);
/* The events Baton sends, NULL-terminated (the event catalogue). */
extern const char *const delivery_event_types[];

/* ---- the message context ---- */

/*
 * Every message is made from one JSON object, the message context, built
 * when the event is written to the outbox (docs/delivery.md lists it):
 *   event       {id, type, at, actor, reason}
 *   lead        {id, email, first_name, last_name, name, company, title, phone,
 *                country, source, stage, owner, created_at, fields: {...}}
 *   score       {total, fit, engagement, grade, reasons: [{text, points}]}
 *   rep         {id, name, email, phone, timezone, team}      (the event's rep)
 *   manager     {id, name, email}                             (that rep's)
 *   assignment  {id, attempt, policy, pool, rule, why, accept_by,
 *                accept_by_local, contact_by}
 *   rejection   {reason, label, note}
 *   links       {decide, accept, reject}   (one-click, for the rep's channels)
 *   meeting     {start, end, start_local, end_local}
 *   first_touch the suggested first message, rendered
 *   data        the event's own data, as recorded
 * Templates may name any of these (lead.fields.NAME and data.NAME for any
 * NAME). delivery_context_known() says whether `path` is one of them, or
 * a field of an element of a list (score.reasons.text).
 */
bool delivery_context_known(const char *path);

/* ---- what an attempt's answer means ---- */

enum delivery_verdict {
    DELIVERY_DELIVERED, /* 2xx, or SMTP accepted */
    DELIVERY_RETRY,     /* try again later: 5xx, 408, 429, a 3xx, a timeout, no connection */
    DELIVERY_PERMANENT, /* dead-letter now: another 4xx (the request itself is wrong) */
    DELIVERY_GONE,      /* 410: the destination is gone; disable it */
};
const char *delivery_verdict_name(enum delivery_verdict v);

/* An HTTP status (0: no answer: connection refused, timeout, reset) to a
 * verdict. Redirects are failures to retry: Baton never follows them. */
enum delivery_verdict delivery_http_verdict(long status);
/* An SMTP reply code (0: no answer) to a verdict: 2xx delivered, 4xx and
 * no answer retry, 5xx permanent. */
enum delivery_verdict delivery_smtp_verdict(long code);

/* ---- the retry schedule ---- */

#define DELIVERY_SCHEDULE_MAX 16
/* The default delays before attempt 1, 2, ...: at once, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h (about 27 hours in all), then dead-letter. */
extern const int64_t delivery_default_schedule_ms[];
extern const size_t delivery_default_schedule_len;

/* Retry-After is honoured between these bounds (a receiver asking for
 * less waits the minimum; for more, the maximum). */
#define DELIVERY_RETRY_AFTER_MIN_MS 1000
#define DELIVERY_RETRY_AFTER_MAX_MS (6 * 3600 * 1000LL)

/*
 * When to make the next attempt after `attempts` attempts have failed
 * (attempts >= 1), at `now`: schedule[attempts] later, spread by ±20 %
 * with `rand01` in [0, 1) (0.5: no jitter). A delay of 0 stays 0. When the
 * receiver asked (retry_after_ms > 0, from a 429 or 503), its wish is
 * taken instead, clamped to the bounds above, without jitter. Returns
 * false when the schedule is used up: the message goes to the dead letters.
 */
bool delivery_next_attempt(const int64_t *schedule, size_t n, int64_t attempts, int64_t now,
                           double rand01, int64_t retry_after_ms, int64_t *next_at);

/* ---- the circuit breaker ---- */

/*
 * A destination is paused when every attempt at it has failed for
 * `pause_after_ms` (default 1 h) and at least `min_failures` (default 10)
 * attempts in a row: its messages wait (kept, visible, replayable) and one
 * of them goes out every `probe_every_ms` (default 1 min) as a probe. The
 * first success closes the breaker; its waiting messages then go out in
 * order. A 410 disables it at once: nothing goes out until an admin
 * enables it, and its messages are kept.
 */
enum delivery_channel_state {
    DELIVERY_CHANNEL_ACTIVE,
    DELIVERY_CHANNEL_PAUSED,
    DELIVERY_CHANNEL_DISABLED,
};
const char *delivery_channel_state_name(enum delivery_channel_state s);
bool delivery_channel_state_parse(const char *s, enum delivery_channel_state *out);

struct delivery_breaker_policy {
    int64_t pause_after_ms;
    int64_t min_failures;
    int64_t probe_every_ms;
};
#define DELIVERY_BREAKER_DEFAULT                                                                   \
    ((struct delivery_breaker_policy){3600 * 1000LL, 10, 60 * 1000LL})

struct delivery_breaker {
    enum delivery_channel_state state;
    int64_t failing_since; /* the first failure of the current run; 0: the last attempt worked */
    int64_t failures;      /* attempts failed in a row */
    int64_t next_probe_at; /* paused: when a probe may go out */
};

/*
 * The breaker after an attempt with `verdict` at `now`. *changed says
 * whether the state moved (paused, resumed, disabled), which the caller
 * announces (an event, a metric, the log).
 */
void delivery_breaker_record(struct delivery_breaker *b, const struct delivery_breaker_policy *p,
                             enum delivery_verdict verdict, int64_t now, bool *changed);

/* Whether a message may go to the destination now: always when active;
 * when paused, only a probe once next_probe_at has come; never when disabled. */
bool delivery_breaker_allows(const struct delivery_breaker *b, int64_t now);

#endif
