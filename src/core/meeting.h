/*
 * meeting.h - the first free call slot in a rep's working time, for the
 * invite sent when a lead is assigned (core/ics.h writes the invite).
 *
 * A slot [start, start + duration) is offered when
 *   - start >= max(now, earliest) and start + duration <= now + horizon;
 *   - start is aligned to `step` on the rep's wall clock: the local time
 *     of start is a whole multiple of step after local midnight (09:00,
 *     09:15, ... for 15 minutes, in any zone, including those with offsets
 *     of :30 or :45);
 *   - the whole slot is working time without a break: working time is what
 *     workhours.h defines (the weekly hours on the rep's wall clock, minus
 *     holidays and time off), and the slot lies in one stretch of it, so a
 *     30-minute call is never put across a lunch break or the end of a day.
 *     Stretches that touch are one stretch: an overnight shift continues
 *     across midnight, and a shift continues across a daylight saving
 *     change (on a spring-forward day a 01:00-05:00 shift in Berlin is three
 *     hours long, and an hour's call from 01:30 ends at 03:30 on the wall
 *     clock);
 *   - it overlaps none of the busy intervals (the rep's other proposed
 *     slots); a slot may start when a busy interval ends or end when one
 *     starts.
 * The first such slot is returned. A rep without weekly hours (hours NULL)
 * works around the clock, minus holidays and time off when given.
 *
 * Pure: no I/O, no clock (now is an argument), no allocation. The search
 * walks working time stretch by stretch (never minute by minute), and costs
 * a few steps per day of horizon plus, per busy interval that pushes the
 * slot on, one pass over the busy list.
 */
#ifndef BT_CORE_MEETING_H
#define BT_CORE_MEETING_H

#include "core/workhours.h"
#include "util/err.h"
#include "util/tzdb.h"

#include <stddef.h>
#include <stdint.h>

#define MEETING_BUSY_MAX       1024
#define MEETING_HORIZON_MAX_MS (366LL * WORKHOURS_DAY_MS)

/* UTC [start_ms, end_ms). */
struct meeting_interval {
    int64_t start_ms;
    int64_t end_ms;
};

struct meeting_request {
    const struct weekly_hours *hours; /* NULL: around the clock */
    const struct tz_table *tz;        /* the rep's zone, never NULL (UTC when none is set) */
    const struct holidays *holidays;  /* may be NULL: none */
    const struct time_off *time_off;  /* may be NULL: none */
    int64_t now_ms;
    int64_t earliest_ms; /* e.g. now + a lead time; an earlier value means now */
    int64_t step_ms;     /* alignment: whole minutes that divide a day (15 or 30 min) */
    int64_t duration_ms; /* > 0, at most one day */
    int64_t horizon_ms;  /* > 0, at most MEETING_HORIZON_MAX_MS: the slot ends by now + horizon */
    const struct meeting_interval *busy; /* in any order, may overlap; empty ones are ignored */
    size_t n_busy;                       /* at most MEETING_BUSY_MAX */
};

/*
 * Finds the first slot (see above) and writes it to *slot. Returns
 * BT_ENOTFOUND when there is none within the horizon (the rep has no
 * working time there, or it is all busy or too short), and BT_EINVAL (field
 * "step", "duration", "horizon", "now" or "busy") for parameters out of
 * range (now must leave room for the longest horizon before year 10000) or
 * a busy interval that ends before it starts; BT_ETOOBIG for more than
 * MEETING_BUSY_MAX busy intervals. *slot is written only on success.
 */
bt_err meeting_find_slot(const struct meeting_request *request,
                         struct meeting_interval *slot /* out */, struct bt_error *e) BT_MUST_USE;

#endif
