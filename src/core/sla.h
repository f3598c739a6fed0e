/*
 * sla.h - how long a rep has to accept and contact a lead, and when the
 * clock runs out.
 *
 * Pure, like the rest of core/: the policies come from the configuration
 * (config_sla.c builds them), the lead's rule slots and the rep's schedule
 * are arguments, and so is time. Nothing here reads a clock or allocates.
 *
 * Policies are tried in order; the first whose `when` holds (no `when`:
 * every lead) is the lead's policy. The configuration requires a last
 * policy without `when`, so that every assignment gets one. A policy sets:
 *
 *   accept_within   how long the rep has to accept
 *   contact_within  from acceptance, how long to the first contact attempt
 *   clock           wall: both windows count every second;
 *                   business_hours: they count only the rep's working time
 *                   (weekly hours on its own wall clock, minus its holidays)
 *   reminders       fractions of the accept window at which the rep is
 *                   reminded, ascending, each in (0, 1)
 *   on_breach       what happens when accept_by passes, in order:
 *                   remind, notify_manager, reassign
 *   max_attempts    how many reps get the lead before the fallback target
 *   after_max_attempts  where the lead goes then: pool:ID, rep:ID, manager
 *                   (the last rep's manager) or hold
 *   exclude_last    a reassignment excludes the last N assignees
 *   away_after_breaches  a rep who lets K assignments expire in a row is set
 *                   away (0: never)
 *
 * The clock arithmetic (sla_deadline, sla_elapsed) is in sla_clock.c.
 *
 * Business-hours arithmetic walks the rep's intervals day by day (never
 * second by second): a lead assigned at 17:55 on a Friday with 30 business
 * minutes and hours 09:00-18:00 is due at 09:25 on Monday, or Tuesday when
 * Monday is a holiday. The weekly hours follow workhours.h's wall-clock
 * semantics across daylight saving time (a shift is worked as the wall clock
 * reads it; an hour skipped is not worked, an hour repeated is worked twice).
 */
#ifndef BT_CORE_SLA_H
#define BT_CORE_SLA_H

#include "core/routing.h"
#include "core/rule.h"
#include "core/workhours.h"
#include "util/tzdb.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sla_clock { SLA_CLOCK_WALL, SLA_CLOCK_BUSINESS_HOURS };

/* "wall", "business_hours". */
const char *sla_clock_name(enum sla_clock c);
bool sla_clock_parse(const char *name, enum sla_clock *out);

enum sla_breach_action { SLA_BREACH_REMIND, SLA_BREACH_NOTIFY_MANAGER, SLA_BREACH_REASSIGN };

/* "remind", "notify_manager", "reassign". */
const char *sla_breach_action_name(enum sla_breach_action a);
bool sla_breach_action_parse(const char *name, enum sla_breach_action *out);

enum sla_fallback {
    SLA_FALLBACK_HOLD,    /* the hold queue (the default) */
    SLA_FALLBACK_POOL,    /* pool:ID */
    SLA_FALLBACK_REP,     /* rep:ID */
    SLA_FALLBACK_MANAGER, /* the manager of the last rep (or of its team) */
};

/* "hold", "pool", "rep", "manager". */
const char *sla_fallback_name(enum sla_fallback f);

#define SLA_REMINDERS_MAX 8
#define SLA_BREACH_MAX    3

struct sla_policy {
    const char *name;        /* unique within the policies */
    const struct rule *when; /* NULL: every lead */
    int64_t accept_within_ms;
    int64_t contact_within_ms;
    enum sla_clock clock;
    double reminders[SLA_REMINDERS_MAX]; /* ascending, in (0, 1) */
    size_t n_reminders;
    enum sla_breach_action on_breach[SLA_BREACH_MAX]; /* default: [reassign] */
    size_t n_on_breach;
    unsigned max_attempts; /* default 3; 1 .. 100 */
    enum sla_fallback after_max_attempts;
    size_t fallback_index;        /* POOL: into routing pools; REP: into routing reps */
    unsigned exclude_last;        /* default 1 (the rep that let it expire) */
    unsigned away_after_breaches; /* default 0: never */
};

/* What a rep may say when rejecting an assignment, and what follows. */
enum sla_reject_action {
    SLA_REJECT_REROUTE,    /* route again, excluding this rep */
    SLA_REJECT_RECYCLE,    /* back to marketing: stage recycled, lead.recycled */
    SLA_REJECT_DISQUALIFY, /* stage disqualified */
};

/* "reroute", "recycle", "disqualify". */
const char *sla_reject_action_name(enum sla_reject_action a);
bool sla_reject_action_parse(const char *name, enum sla_reject_action *out);

struct sla_reject_reason {
    const char *id; /* [a-z0-9_]+ */
    const char *label;
    enum sla_reject_action action;
};

struct sla_config {
    const struct sla_policy *policies; /* 0 policies: assignments have no clock */
    size_t n_policies;
    const struct sla_reject_reason *reject_reasons; /* 0: the built-in ones below */
    size_t n_reject_reasons;
    unsigned rejections_per_day; /* a rep's own rejections per local day; 0: no limit */
};

/* The built-in reasons when the configuration lists none:
 *   wrong_territory, existing_customer   reroute
 *   not_a_fit, not_qualified             recycle
 *   duplicate, bad_data                  disqualify */
extern const struct sla_reject_reason sla_default_reject_reasons[];
extern const size_t sla_n_default_reject_reasons;

/* The first policy whose `when` holds for the lead in `slots`, or -1 when
 * there are no policies. */
long sla_policy_select(const struct sla_config *cfg, const struct rule_value *slots,
                       struct rule_scratch *scratch);

/* The reason with this id among the configured ones (or the built-in ones
 * when none are configured), or NULL. */
const struct sla_reject_reason *sla_reject_reason_find(const struct sla_config *cfg,
                                                       const char *id);

/*
 * A policy's terms as JSON, kept with each assignment so that a running
 * clock keeps the policy it started with whatever a reload changes:
 *   {"policy", "accept_within_ms", "contact_within_ms", "clock",
 *    "reminders": [0.5, ...], "on_breach": ["remind", ...], "max_attempts",
 *    "after_max_attempts": "hold" | "manager" | "pool:ID" | "rep:ID",
 *    "exclude_last", "away_after_breaches"}
 * sla_policy_from_terms() reads them back (the name and `when` are not
 * kept: *out->name points into `terms`, when is NULL), resolving pool:ID
 * and rep:ID in `routing`; a target that is gone becomes hold. false for
 * terms that are not such an object.
 */
json_t *sla_policy_terms(const struct sla_policy *p, const struct routing_config *routing);
bool sla_policy_from_terms(const json_t *terms, const struct routing_config *routing,
                           struct sla_policy *out);

/* ---- the clock ---- */

/* The working time a business-hours clock counts: the rep's weekly hours
 * (NULL: around the clock) in its zone, minus its holidays (may be NULL). */
struct sla_schedule {
    const struct weekly_hours *hours;
    const struct tz_table *tz;
    const struct holidays *holidays;
};

/* A routing rep's schedule (its hours, when it has any, zone and holidays). */
void sla_schedule_of(const struct routing_rep *rep, struct sla_schedule *out);

/* The instant at which `fraction` (0..1) of the policy's accept window has
 * passed on its clock, for an assignment made at `assigned_at` (0 when
 * unreachable). fraction 1 is accept_by. */
int64_t sla_accept_point(const struct sla_policy *p, const struct sla_schedule *s,
                         int64_t assigned_at, double fraction);

/* How far the deadline search looks ahead before it gives up (a schedule
 * with no working time at all, or holidays covering the whole span). */
#define SLA_SEARCH_DAYS 800

/*
 * The instant at which `duration_ms` of clock time has passed since
 * `start_ms`.
 *
 * SLA_CLOCK_WALL: start + duration (saturated at the int64 range); `s` is
 * not read and may be NULL.
 *
 * SLA_CLOCK_BUSINESS_HOURS: the earliest instant at which the rep's working
 * time since start adds up to duration, working time being what
 * workhours_is_working() says with the schedule's hours and holidays and no
 * time off (a schedule has none: time off does not stop the clock). Start
 * inside working time counts from start; outside, from the next start of
 * work. A duration that ends exactly where a shift ends gives that end (30
 * minutes from 17:30 with hours to 18:00 is 18:00 that day, not the next
 * morning). Duration 0 gives start when it is working time, else the next
 * start of work; a negative duration counts as 0. Returns 0 when the
 * deadline would lie more than SLA_SEARCH_DAYS * 24 hours after start, when
 * the schedule has no working time, or when start is outside the years
 * 0001..9999. `s` or `s->tz` NULL is a bug (BT_BUG).
 *
 * Cost: a few steps per local day between start and the deadline (or the
 * search limit), never per second or minute.
 */
int64_t sla_deadline(enum sla_clock clock, const struct sla_schedule *s, int64_t start_ms,
                     int64_t duration_ms);

/*
 * The clock time that passes in [from_ms, to_ms): 0 when to <= from.
 * SLA_CLOCK_WALL: to - from (`s` may be NULL). SLA_CLOCK_BUSINESS_HOURS:
 * the working time in that span, counted like sla_deadline() (only the part
 * within the years 0001..9999); for every duration d > 0 that sla_deadline()
 * reaches, sla_elapsed(start, sla_deadline(start, d)) == d. There is no
 * search limit here: the cost is a few steps per local day spanned.
 */
int64_t sla_elapsed(enum sla_clock clock, const struct sla_schedule *s, int64_t from_ms,
                    int64_t to_ms);

#endif
