/*
 * lifecycle.c - the stage table and qualification.
 *
 * The allowed moves are one constant table of bit sets, so that the check,
 * the list of next stages and the error text all read the same data and
 * cannot disagree with each other.
 */
#include "core/lifecycle.h"

#include <stdio.h>
#include <string.h>

static const char *const stage_names[STAGE_COUNT] = {
    [STAGE_NEW] = "new",           [STAGE_MQL] = "mql",
    [STAGE_ASSIGNED] = "assigned", [STAGE_ACCEPTED] = "accepted",
    [STAGE_SQL] = "sql",           [STAGE_OPPORTUNITY] = "opportunity",
    [STAGE_WON] = "won",           [STAGE_LOST] = "lost",
    [STAGE_RECYCLED] = "recycled", [STAGE_DISQUALIFIED] = "disqualified",
};

#define TO(s) (1u << (s))

static const unsigned allowed[STAGE_COUNT] = {
    [STAGE_NEW] = TO(STAGE_MQL) | TO(STAGE_DISQUALIFIED),
    [STAGE_MQL] = TO(STAGE_ASSIGNED) | TO(STAGE_NEW) | TO(STAGE_RECYCLED) | TO(STAGE_DISQUALIFIED),
    [STAGE_ASSIGNED] =
        TO(STAGE_ACCEPTED) | TO(STAGE_MQL) | TO(STAGE_RECYCLED) | TO(STAGE_DISQUALIFIED),
    [STAGE_ACCEPTED] = TO(STAGE_SQL) | TO(STAGE_OPPORTUNITY) | TO(STAGE_WON) | TO(STAGE_LOST) |
                       TO(STAGE_RECYCLED) | TO(STAGE_DISQUALIFIED),
    [STAGE_SQL] = TO(STAGE_OPPORTUNITY) | TO(STAGE_WON) | TO(STAGE_LOST) | TO(STAGE_RECYCLED) |
                  TO(STAGE_DISQUALIFIED),
    [STAGE_OPPORTUNITY] = TO(STAGE_WON) | TO(STAGE_LOST),
    [STAGE_WON] = 0,
    [STAGE_LOST] = TO(STAGE_RECYCLED),
    [STAGE_RECYCLED] = TO(STAGE_MQL) | TO(STAGE_DISQUALIFIED),
    [STAGE_DISQUALIFIED] = 0,
};

/*
 * The order in which next stages are listed: forward along the funnel
 * first, then the ways out, so that "sql, opportunity, won, lost, recycled,
 * disqualified" reads as the header does.
 */
static const enum lead_stage listing_order[STAGE_COUNT] = {
    STAGE_ASSIGNED, STAGE_ACCEPTED, STAGE_SQL, STAGE_OPPORTUNITY, STAGE_WON,
    STAGE_LOST,     STAGE_MQL,      STAGE_NEW, STAGE_RECYCLED,    STAGE_DISQUALIFIED,
};

static bool valid(enum lead_stage s)
{
    return (unsigned)s < STAGE_COUNT;
}

const char *stage_name(enum lead_stage s)
{
    return valid(s) ? stage_names[s] : "unknown";
}

bool stage_parse(const char *name, enum lead_stage *out)
{
    if (!name)
        return false;
    for (int s = 0; s < STAGE_COUNT; s++) {
        if (strcmp(stage_names[s], name) == 0) {
            *out = (enum lead_stage)s;
            return true;
        }
    }
    return false;
}

bool lifecycle_allowed(enum lead_stage from, enum lead_stage to)
{
    return valid(from) && valid(to) && (allowed[from] & TO(to)) != 0;
}

size_t lifecycle_next(enum lead_stage from, enum lead_stage *out)
{
    size_t n = 0;
    for (int i = 0; i < STAGE_COUNT; i++)
        if (lifecycle_allowed(from, listing_order[i]))
            out[n++] = listing_order[i];
    return n;
}

const char *lifecycle_next_text(enum lead_stage from, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    enum lead_stage next[STAGE_COUNT];
    size_t n = lifecycle_next(from, next);
    if (n == 0) {
        snprintf(buf, size, "none (%s is final)", stage_name(from));
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", stage_names[next[i]]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static bool holds(const struct rule *r, const struct rule_value *slots, struct rule_scratch *s)
{
    return r && rule_eval(r, slots, s);
}

static void decide(struct lifecycle_decision *out, bool change, enum lead_stage to,
                   const char *reason, const struct rule *r)
{
    *out = (struct lifecycle_decision){change, to, reason, r ? rule_text(r) : NULL};
}

/*
 * Marketing's stages only. Demotion of an mql needs at least one of
 * fast_track_when and mql_when to be configured: without either, nothing
 * made the lead an mql automatically, so nothing takes it back.
 */
void lifecycle_qualify(const struct qualification *q, enum lead_stage stage,
                       const struct rule_value *slots, struct rule_scratch *scratch,
                       struct lifecycle_decision *out)
{
    if (stage != STAGE_NEW && stage != STAGE_MQL && stage != STAGE_RECYCLED) {
        decide(out, false, stage, "stage is changed by sales commands only", NULL);
        return;
    }
    if (holds(q->disqualify_when, slots, scratch)) {
        decide(out, true, STAGE_DISQUALIFIED, "disqualify_when matched", q->disqualify_when);
        return;
    }
    const struct rule *qualifying = NULL;
    const char *reason = NULL;
    if (holds(q->fast_track_when, slots, scratch)) {
        qualifying = q->fast_track_when;
        reason = "fast_track_when matched";
    } else if (holds(q->mql_when, slots, scratch)) {
        qualifying = q->mql_when;
        reason = "mql_when matched";
    }
    if (stage == STAGE_MQL) {
        if (qualifying)
            decide(out, false, STAGE_MQL,
                   qualifying == q->fast_track_when ? "fast_track_when still holds"
                                                    : "mql_when still holds",
                   qualifying);
        else if (q->mql_when || q->fast_track_when)
            decide(out, true, STAGE_NEW, "mql_when no longer holds",
                   q->mql_when ? q->mql_when : q->fast_track_when);
        else
            decide(out, false, STAGE_MQL, "no qualification rules", NULL);
        return;
    }
    if (qualifying)
        decide(out, true, STAGE_MQL, reason, qualifying);
    else
        decide(out, false, stage, "no qualification rule matched", NULL);
}
