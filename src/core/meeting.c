/*
 * meeting.c - the first free call slot in a rep's working time (see
 * meeting.h).
 *
 * Working time is walked the way sla_clock.c walks it: between two
 * transitions a zone's offset is constant, so within one such segment the
 * wall clock is UTC plus a constant and the segment's working time is each
 * local day's intervals cut to the segment's local range. That yields
 * pieces (one interval of one local day within one segment); pieces that
 * touch are joined into a stretch, which is what lets a slot run across
 * midnight in an overnight shift or across a daylight saving change, and
 * which keeps the skipped hour of a spring-forward day out of every slot
 * without a special case (it lies in no segment's local range).
 *
 * Inside a stretch the candidate start moves forward only: to the aligned
 * instant after the latest end among the busy intervals and time-off spans
 * it collides with. Time off is treated as busy rather than cut out of the
 * stretch: a slot that lies in working time and overlaps no time off is
 * exactly a slot inside one stretch of working time minus time off.
 */
#include "core/meeting.h"

#include "util/intmath.h"
#include "util/timeutil.h"

#include <stdbool.h>

#define MINUTE_MS 60000LL
#define DAY_MS    WORKHOURS_DAY_MS
#define NONE      INT64_MIN

static int64_t segment_end(const struct tz_table *tz, size_t i)
{
    return i + 1 < tz->count ? tz->transits[i + 1].utc_ms_from : INT64_MAX;
}

/* 1970-01-01 was a Thursday. */
static unsigned weekday_of_days(int64_t days)
{
    int64_t r = (days + WEEKDAY_THURSDAY) % 7;
    return (unsigned)(r < 0 ? r + 7 : r);
}

static bool is_holiday(const struct holidays *h, int64_t days)
{
    if (h == NULL)
        return false;
    size_t lo = 0, hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct holiday_date *d = &h->dates[mid];
        int64_t v = time_days_from_civil(d->year, d->month, d->day);
        if (v == days)
            return true;
        if (v < days)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* What `hours == NULL` means: every minute of every day. */
static const struct workhours_interval whole_day = {0, WORKHOURS_MINUTES_PER_DAY};

/*
 * The first piece of working time, holidays excluded but time off not, in
 * UTC [from, to): its start and end (both clipped to [from, to)) in *a and
 * *b. False when there is none. `to` is finite (<= TIME_MAX_MS), so local
 * times cannot overflow.
 */
static bool first_piece(const struct meeting_request *r, int64_t from, int64_t to, int64_t *a,
                        int64_t *b)
{
    const struct tz_table *tz = r->tz;
    int64_t t = from;
    for (size_t i = tz_segment_of(tz, from); t < to; i++) {
        int64_t end = segment_end(tz, i);
        if (end > to)
            end = to;
        int32_t offset = tz->transits[i].offset_ms;
        int64_t lo = t + offset, hi = end + offset; /* this segment's local range */
        for (int64_t day = int_floor_div(lo, DAY_MS); day * DAY_MS < hi; day++) {
            if (is_holiday(r->holidays, day))
                continue;
            const struct workhours_interval *iv = &whole_day;
            unsigned n = 1;
            if (r->hours != NULL) {
                unsigned wd = weekday_of_days(day);
                iv = r->hours->intervals[wd];
                n = r->hours->count[wd];
            }
            int64_t base = day * DAY_MS;
            for (unsigned k = 0; k < n; k++) {
                int64_t pa = base + iv[k].start_minute * MINUTE_MS;
                int64_t pb = base + iv[k].end_minute * MINUTE_MS;
                if (pa >= hi)
                    break; /* sorted by start: the rest are later still */
                if (pa < lo)
                    pa = lo;
                if (pb > hi)
                    pb = hi;
                if (pa < pb) {
                    *a = pa - offset;
                    *b = pb - offset;
                    return true;
                }
            }
        }
        t = end;
    }
    return false;
}

/* The first stretch of working time in [from, to): pieces that touch, joined. */
static bool next_stretch(const struct meeting_request *r, int64_t from, int64_t to, int64_t *a,
                         int64_t *b)
{
    if (!first_piece(r, from, to, a, b))
        return false;
    int64_t na, nb;
    while (*b < to && first_piece(r, *b, to, &na, &nb) && na == *b)
        *b = nb;
    return true;
}

/* The first instant >= t whose local time in `tz` is a multiple of `step` after midnight. */
static int64_t align_up(const struct tz_table *tz, int64_t t, int64_t step)
{
    for (;;) {
        size_t i = tz_segment_of(tz, t);
        int64_t end = segment_end(tz, i);
        int32_t offset = tz->transits[i].offset_ms;
        int64_t aligned = -int_floor_div(-(t + offset), step) * step - offset;
        if (aligned < end)
            return aligned;
        t = end; /* the offset changes before the next aligned instant: align in the new one */
    }
}

/* The latest end of the busy intervals and time-off spans overlapping [s, e), or NONE;
 * empty ones overlap nothing. */
static int64_t conflict_end(const struct meeting_request *r, int64_t s, int64_t e)
{
    int64_t until = NONE;
    for (size_t i = 0; i < r->n_busy; i++) {
        const struct meeting_interval *b = &r->busy[i];
        if (b->start_ms < b->end_ms && b->start_ms < e && s < b->end_ms && b->end_ms > until)
            until = b->end_ms;
    }
    if (r->time_off != NULL) {
        for (size_t i = 0; i < r->time_off->count; i++) {
            const struct time_off_span *o = &r->time_off->spans[i];
            if (o->from_ms < o->to_ms && o->from_ms < e && s < o->to_ms && o->to_ms > until)
                until = o->to_ms;
        }
    }
    return until;
}

static bt_err check_request(const struct meeting_request *r, struct bt_error *e)
{
    if (r->tz == NULL || (r->busy == NULL && r->n_busy > 0))
        BT_BUG("meeting request without a zone, or with busy intervals but no array");
    if (r->step_ms < MINUTE_MS || r->step_ms % MINUTE_MS != 0 || DAY_MS % r->step_ms != 0)
        return bt_fail(e, BT_EINVAL, "step", "the step must be whole minutes that divide a day");
    if (r->duration_ms <= 0 || r->duration_ms > DAY_MS)
        return bt_fail(e, BT_EINVAL, "duration",
                       "the duration must be more than 0 and at most "
                       "a day");
    if (r->horizon_ms <= 0 || r->horizon_ms > MEETING_HORIZON_MAX_MS)
        return bt_fail(e, BT_EINVAL, "horizon",
                       "the horizon must be more than 0 and at most %lld days",
                       MEETING_HORIZON_MAX_MS / DAY_MS);
    if (r->now_ms < TIME_MIN_MS || r->now_ms > TIME_MAX_MS - MEETING_HORIZON_MAX_MS)
        return bt_fail(e, BT_EINVAL, "now", "now is outside the years Baton can write");
    if (r->n_busy > MEETING_BUSY_MAX)
        return bt_fail(e, BT_ETOOBIG, "busy", "more than %d busy intervals", MEETING_BUSY_MAX);
    for (size_t i = 0; i < r->n_busy; i++)
        if (r->busy[i].end_ms < r->busy[i].start_ms)
            return bt_fail(e, BT_EINVAL, "busy", "busy interval %zu ends before it starts", i);
    return BT_OK;
}

bt_err meeting_find_slot(const struct meeting_request *r, struct meeting_interval *slot,
                         struct bt_error *e)
{
    bt_err err = check_request(r, e);
    if (err != BT_OK)
        return err;
    int64_t limit = r->now_ms + r->horizon_ms; /* a slot ends by then */
    int64_t t = r->earliest_ms > r->now_ms ? r->earliest_ms : r->now_ms;
    while (t < limit) {
        int64_t a, b;
        if (!next_stretch(r, t, limit, &a, &b))
            break;
        int64_t s = align_up(r->tz, a, r->step_ms);
        t = b;
        while (s <= b - r->duration_ms) {
            int64_t c = conflict_end(r, s, s + r->duration_ms);
            if (c == NONE) {
                slot->start_ms = s;
                slot->end_ms = s + r->duration_ms;
                return BT_OK;
            }
            if (c >= b) {
                t = c; /* the collision reaches past this stretch */
                break;
            }
            s = align_up(r->tz, c, r->step_ms);
        }
    }
    return bt_fail(e, BT_ENOTFOUND, NULL,
                   "no free %lld-minute slot in working time within %lld hours",
                   (long long)(r->duration_ms / MINUTE_MS), (long long)(r->horizon_ms / 3600000));
}
