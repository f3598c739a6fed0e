/*
 * sla_clock.c - the SLA clock: when a window of wall or business time runs
 * out (sla_deadline) and how much of it lies between two instants
 * (sla_elapsed).
 *
 * Business time is working time as workhours_is_working() defines it, without
 * time off: the local date is not a holiday and the local minute lies in one
 * of that weekday's intervals. Both functions walk it the way workhours.c
 * searches for the next start: between two transitions a zone's offset is
 * constant, so within one such segment the wall clock is UTC plus a constant
 * and the segment's working time is the day's intervals cut to the segment's
 * local range. Walking segment by segment, and inside one local day by local
 * day and interval by interval, costs a few steps per day spanned whatever
 * the durations, and gives workhours.h's daylight saving rules without a
 * special case: the wall-clock hour a spring-forward transition skips lies in
 * no segment's local range, so it is not worked; the hour a fall-back
 * transition repeats lies in two, so it is worked twice.
 */
#include "core/sla.h"
#include "util/intmath.h"

#include "util/timeutil.h"

#define MINUTE_MS 60000LL
#define DAY_MS    WORKHOURS_DAY_MS

/*
 * Business time is counted between 0001-01-01 and 10000-01-01 UTC: wider
 * than any instant Baton stores, and far from any overflow of the day
 * arithmetic below.
 */
#define CLOCK_MIN_MS (-62135596800000LL)
#define CLOCK_MAX_MS 253402300800000LL

/* 1970-01-01 was a Thursday. */
static unsigned weekday_of_days(int64_t days)
{
    int64_t r = (days + WEEKDAY_THURSDAY) % 7;
    return (unsigned)(r < 0 ? r + 7 : r);
}

static int64_t holiday_days(const struct holidays *h, size_t i)
{
    return time_days_from_civil(h->dates[i].year, h->dates[i].month, h->dates[i].day);
}

/* The index of the first holiday on or after local day `days` (h->count when none). */
static size_t holiday_from(const struct holidays *h, int64_t days)
{
    size_t lo = 0, hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (holiday_days(h, mid) < days)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has_working_time(const struct weekly_hours *hours)
{
    if (hours == NULL)
        return true;
    for (unsigned wd = 0; wd < WEEKDAY_COUNT; wd++)
        if (hours->count[wd] > 0)
            return true;
    return false;
}

/* What `hours == NULL` means: every minute of every day. */
static const struct workhours_interval whole_day = {0, WORKHOURS_MINUTES_PER_DAY};

/*
 * Walks the working time of `s` in UTC [from, to), in order, looking for
 * `budget` ms of it. At the first non-empty piece of working time that holds
 * all of the budget still missing, returns the instant that far into the
 * piece and sets *reached: the earliest instant by which `budget` has
 * passed, and for a budget of 0 the first working instant. Otherwise returns
 * the working time in [from, to) and clears *reached.
 */
static int64_t walk(const struct sla_schedule *s, int64_t from, int64_t to, int64_t budget,
                    bool *reached)
{
    static const struct holidays no_holidays = {NULL, 0};
    const struct tz_table *tz = s->tz;
    const struct holidays *hol = s->holidays ? s->holidays : &no_holidays;
    int64_t missing = budget, found = 0;
    *reached = false;

    int64_t t = from;
    for (size_t i = tz_segment_of(tz, from); t < to; i++) {
        int64_t end = i + 1 < tz->count ? tz->transits[i + 1].utc_ms_from : INT64_MAX;
        if (end > to)
            end = to;
        int32_t offset = tz->transits[i].offset_ms;
        int64_t lo = t + offset, hi = end + offset; /* this segment's local range */

        int64_t day = int_floor_div(lo, DAY_MS);
        /* Local days go forward within a segment, so one cursor serves it. */
        size_t h = holiday_from(hol, day);
        int64_t next_holiday = h < hol->count ? holiday_days(hol, h) : INT64_MAX;
        for (; day * DAY_MS < hi; day++) {
            while (next_holiday < day) {
                h++;
                next_holiday = h < hol->count ? holiday_days(hol, h) : INT64_MAX;
            }
            if (next_holiday == day)
                continue;
            const struct workhours_interval *iv = &whole_day;
            unsigned n = 1;
            if (s->hours != NULL) {
                unsigned wd = weekday_of_days(day);
                iv = s->hours->intervals[wd];
                n = s->hours->count[wd];
            }
            int64_t base = day * DAY_MS;
            for (unsigned k = 0; k < n; k++) {
                int64_t a = base + iv[k].start_minute * MINUTE_MS;
                int64_t b = base + iv[k].end_minute * MINUTE_MS;
                if (a >= hi)
                    break; /* sorted by start: the rest are later still */
                if (a < lo)
                    a = lo;
                if (b > hi)
                    b = hi;
                if (a >= b)
                    continue;
                if (b - a >= missing) {
                    *reached = true;
                    return a + missing - offset;
                }
                missing -= b - a;
                found += b - a;
            }
        }
        t = end;
    }
    return found;
}

static void check_schedule(const struct sla_schedule *s)
{
    if (s == NULL || s->tz == NULL)
        BT_BUG("business-hours clock without a schedule or a zone");
}

int64_t sla_deadline(enum sla_clock clock, const struct sla_schedule *s, int64_t start_ms,
                     int64_t duration_ms)
{
    switch (clock) {
    case SLA_CLOCK_WALL:
        return int_add_sat(start_ms, duration_ms);
    case SLA_CLOCK_BUSINESS_HOURS:
        break;
    default:
        BT_BUG("unknown SLA clock %d", (int)clock);
    }
    check_schedule(s);
    if (duration_ms < 0)
        duration_ms = 0;
    if (start_ms < CLOCK_MIN_MS || start_ms >= CLOCK_MAX_MS || !has_working_time(s->hours))
        return 0;
    int64_t limit = start_ms + SLA_SEARCH_DAYS * DAY_MS;
    if (limit > CLOCK_MAX_MS)
        limit = CLOCK_MAX_MS;
    /* Each UTC instant is worked once at most, so the walk can skip the impossible. */
    if (duration_ms > limit - start_ms)
        return 0;
    bool reached;
    int64_t at = walk(s, start_ms, limit + 1, duration_ms, &reached);
    return reached && at <= limit ? at : 0;
}

int64_t sla_elapsed(enum sla_clock clock, const struct sla_schedule *s, int64_t from_ms,
                    int64_t to_ms)
{
    if (to_ms <= from_ms)
        return 0;
    switch (clock) {
    case SLA_CLOCK_WALL:
        /* to - from, saturated for instants no caller should pass. */
        return from_ms < 0 && to_ms > INT64_MAX + from_ms ? INT64_MAX : to_ms - from_ms;
    case SLA_CLOCK_BUSINESS_HOURS:
        break;
    default:
        BT_BUG("unknown SLA clock %d", (int)clock);
    }
    check_schedule(s);
    if (from_ms < CLOCK_MIN_MS)
        from_ms = CLOCK_MIN_MS;
    if (to_ms > CLOCK_MAX_MS)
        to_ms = CLOCK_MAX_MS;
    if (to_ms <= from_ms || !has_working_time(s->hours))
        return 0;
    bool reached;
    return walk(s, from_ms, to_ms, INT64_MAX, &reached);
}
