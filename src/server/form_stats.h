/*
 * form_stats.h - what happened to the submissions of each form since the
 * server started: accepted, refused as invalid or over a rate limit, and
 * spam by reason. Spam is answered as if accepted and never becomes a lead,
 * so these counters (GET /v1/forms, and a log line per spam) are where it
 * is recorded. In memory, for at most FORM_STATS_MAX form ids; thread-safe.
 */
#ifndef BT_FORM_STATS_H
#define BT_FORM_STATS_H

#include <stdint.h>

#define FORM_STATS_MAX 512

enum form_stat {
    FORM_STAT_ACCEPTED,
    FORM_STAT_INVALID,
    FORM_STAT_RATE_LIMITED,
    FORM_STAT_SPAM_HONEYPOT,
    FORM_STAT_SPAM_NO_TOKEN,
    FORM_STAT_SPAM_MALFORMED,
    FORM_STAT_SPAM_FORGED,
    FORM_STAT_SPAM_TOO_FAST,
    FORM_STAT_SPAM_EXPIRED,
    FORM_STAT_COUNT
};

/* "accepted", "invalid", "rate_limited", "honeypot", "no_token", ... */
const char *form_stat_name(enum form_stat s);

struct form_stats;
struct form_stats *form_stats_new(void);
void form_stats_free(struct form_stats *fs); /* NULL: nothing */

/* Counts one submission of form `id`; past FORM_STATS_MAX ids, new ones are
 * not counted (a log line still says it). */
void form_stats_add(struct form_stats *fs, const char *id, enum form_stat s);
/* The counters of form `id` (zeros when it has none). */
void form_stats_get(struct form_stats *fs, const char *id, uint64_t out[FORM_STAT_COUNT]);

#endif
