/*
 * workhours.c - wall-clock arithmetic on a zone's offset table, and working
 * hours on top of it.
 *
 * Between two transitions a zone's offset is constant, so local time is UTC
 * plus a constant there. Everything below works segment by segment: find the
 * segment of an instant by binary search, shift by its offset, and do
 * calendar arithmetic on the shifted value (util/timeutil). The next start of
 * work is searched the same way: within one segment the wall clock moves
 * forward in step with UTC, so the first working wall time in the segment's
 * local range is the answer unless it lies past the segment's end, in which
 * case the search goes on from the transition, where the wall clock may have
 * jumped forward or back.
 */
#include "core/workhours.h"
#include "util/intmath.h"

#include "util/timeutil.h"

#define MINUTE_MS 60000LL
#define NONE      INT64_MIN
/* Searches stop at 10000-01-01T00:00:00Z, far from any overflow of day arithmetic. */
#define SEARCH_END_MS 253402300800000LL

size_t tz_segment_of(const struct tz_table *tz, int64_t utc_ms)
{
    size_t lo = 0, hi = tz->count; /* transits[0].utc_ms_from is INT64_MIN */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->transits[mid].utc_ms_from <= utc_ms)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

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

int32_t tz_offset_at(const struct tz_table *tz, int64_t utc_ms)
{
    return tz->transits[tz_segment_of(tz, utc_ms)].offset_ms;
}

void tz_local(const struct tz_table *tz, int64_t utc_ms, struct tz_local_time *out)
{
    int32_t offset = tz_offset_at(tz, utc_ms);
    int64_t local = int_add_sat(utc_ms, offset);
    int64_t days = int_floor_div(local, WORKHOURS_DAY_MS);
    int64_t in_day = local - days * WORKHOURS_DAY_MS;
    time_civil_from_days(days, &out->year, &out->month, &out->day);
    out->weekday = weekday_of_days(days);
    out->minute_of_day = (unsigned)(in_day / MINUTE_MS);
    out->ms_of_minute = (unsigned)(in_day % MINUTE_MS);
    out->offset_ms = offset;
    out->local_days = days;
}

/*
 * Real zones' offsets stay within +-26 hours, so only segments overlapping
 * [local - 26h, local + 26h] in UTC can map an instant onto `local`.
 */
#define OFFSET_BOUND_MS (26 * 3600000LL)

int64_t tz_utc_of_local(const struct tz_table *tz, int64_t year, unsigned month, unsigned day,
                        unsigned minute_of_day, enum tz_ambiguity policy)
{
    int64_t local =
        time_days_from_civil(year, month, day) * WORKHOURS_DAY_MS + minute_of_day * MINUTE_MS;
    int64_t earliest = NONE, latest = NONE, gap_end = NONE;
    int64_t stop = int_add_sat(local, OFFSET_BOUND_MS);
    for (size_t i = tz_segment_of(tz, int_add_sat(local, -OFFSET_BOUND_MS));
         i < tz->count && tz->transits[i].utc_ms_from <= stop; i++) {
        int64_t from = tz->transits[i].utc_ms_from, end = segment_end(tz, i);
        int64_t utc = int_add_sat(local, -tz->transits[i].offset_ms);
        if (utc >= from && utc < end) {
            if (earliest == NONE)
                earliest = utc;
            latest = utc;
        }
        /* The wall clock jumps over `local` at the start of segment i. */
        if (i > 0 && gap_end == NONE && from - 1 + tz->transits[i - 1].offset_ms < local &&
            from + tz->transits[i].offset_ms > local)
            gap_end = from;
    }
    if (earliest != NONE)
        return policy == TZ_LATER ? latest : earliest;
    if (gap_end != NONE)
        return gap_end;
    BT_BUG("wall time maps to no instant in %s", tz->name);
}

/* ---- weekly hours, holidays ---- */

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_date(int64_t y, unsigned m, unsigned d)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (unsigned)(m == 2 && leap_year(y));
}

static const char *const day_names[WEEKDAY_COUNT] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                     "Friday", "Saturday", "Sunday"};

/* Inserts [start, end) into one day of `h`, sorted; refuses overlaps and a full day. */
static bt_err insert_interval(struct weekly_hours *h, unsigned wd, unsigned start, unsigned end,
                              struct bt_error *e)
{
    unsigned n = h->count[wd], pos = 0;
    struct workhours_interval *iv = h->intervals[wd];
    while (pos < n && iv[pos].start_minute < start)
        pos++;
    if ((pos > 0 && iv[pos - 1].end_minute > start) || (pos < n && iv[pos].start_minute < end))
        return bt_fail(e, BT_EINVAL, "hours", "%s: %02u:%02u-%02u:%02u overlaps another interval",
                       day_names[wd], start / 60, start % 60, end / 60, end % 60);
    if (n == WORKHOURS_INTERVALS_MAX)
        return bt_fail(e, BT_EINVAL, "hours", "%s: more than %d intervals", day_names[wd],
                       WORKHOURS_INTERVALS_MAX);
    for (unsigned k = n; k > pos; k--)
        iv[k] = iv[k - 1];
    iv[pos].start_minute = (uint16_t)start;
    iv[pos].end_minute = (uint16_t)end;
    h->count[wd] = (uint8_t)(n + 1);
    return BT_OK;
}

bt_err workhours_add_interval(struct weekly_hours *hours, enum weekday weekday,
                              unsigned start_minute, unsigned end_minute, struct bt_error *e)
{
    if ((unsigned)weekday >= WEEKDAY_COUNT)
        return bt_fail(e, BT_EINVAL, "hours", "no such weekday: %u", (unsigned)weekday);
    if (start_minute > WORKHOURS_MINUTES_PER_DAY || end_minute > WORKHOURS_MINUTES_PER_DAY)
        return bt_fail(e, BT_EINVAL, "hours", "%s: minutes must be within 0..1440",
                       day_names[weekday]);
    if (end_minute == 0)
        end_minute = WORKHOURS_MINUTES_PER_DAY;
    if (start_minute == end_minute || start_minute == WORKHOURS_MINUTES_PER_DAY)
        return bt_fail(e, BT_EINVAL, "hours", "%s: empty interval at %02u:%02u", day_names[weekday],
                       start_minute / 60, start_minute % 60);
    if (end_minute > start_minute)
        return insert_interval(hours, weekday, start_minute, end_minute, e);

    /* Overnight: split at midnight; all or nothing. */
    struct weekly_hours copy = *hours;
    bt_err rc = insert_interval(&copy, weekday, start_minute, WORKHOURS_MINUTES_PER_DAY, e);
    if (rc == BT_OK)
        rc = insert_interval(&copy, (weekday + 1) % WEEKDAY_COUNT, 0, end_minute, e);
    if (rc == BT_OK)
        *hours = copy;
    return rc;
}

bt_err workhours_check(const struct weekly_hours *hours, struct bt_error *e)
{
    for (unsigned wd = 0; wd < WEEKDAY_COUNT; wd++) {
        if (hours->count[wd] > WORKHOURS_INTERVALS_MAX)
            return bt_fail(e, BT_EINVAL, "hours", "%s: more than %d intervals", day_names[wd],
                           WORKHOURS_INTERVALS_MAX);
        for (unsigned k = 0; k < hours->count[wd]; k++) {
            const struct workhours_interval *iv = &hours->intervals[wd][k];
            if (iv->start_minute >= iv->end_minute || iv->end_minute > WORKHOURS_MINUTES_PER_DAY)
                return bt_fail(e, BT_EINVAL, "hours", "%s: interval %u is not within a day",
                               day_names[wd], k + 1);
            if (k > 0 && hours->intervals[wd][k - 1].end_minute > iv->start_minute)
                return bt_fail(e, BT_EINVAL, "hours",
                               "%s: intervals overlap or are not sorted by start", day_names[wd]);
        }
    }
    return BT_OK;
}

static int64_t date_key(int64_t y, unsigned m, unsigned d)
{
    return y * 512 + m * 32 + d;
}

bt_err workhours_holidays_check(const struct holidays *holidays, struct bt_error *e)
{
    for (size_t i = 0; i < holidays->count; i++) {
        const struct holiday_date *h = &holidays->dates[i];
        if (!valid_date(h->year, h->month, h->day))
            return bt_fail(e, BT_EINVAL, "holidays", "not a date: %d-%02u-%02u", (int)h->year,
                           h->month, h->day);
        if (i > 0 && date_key(holidays->dates[i - 1].year, holidays->dates[i - 1].month,
                              holidays->dates[i - 1].day) >= date_key(h->year, h->month, h->day))
            return bt_fail(e, BT_EINVAL, "holidays",
                           "dates must be ascending without repeats (at %d-%02u-%02u)",
                           (int)h->year, h->month, h->day);
    }
    return BT_OK;
}

static bool is_holiday_on(const struct holidays *holidays, int64_t y, unsigned m, unsigned d)
{
    if (holidays == NULL || holidays->count == 0)
        return false;
    int64_t key = date_key(y, m, d);
    size_t lo = 0, hi = holidays->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct holiday_date *h = &holidays->dates[mid];
        int64_t k = date_key(h->year, h->month, h->day);
        if (k == key)
            return true;
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool is_holiday(const struct holidays *holidays, int64_t local_days)
{
    if (holidays == NULL || holidays->count == 0)
        return false;
    int64_t y;
    unsigned m, d;
    time_civil_from_days(local_days, &y, &m, &d);
    return is_holiday_on(holidays, y, m, d);
}

/* The end of the time off covering utc_ms, following overlapping spans; NONE when none covers it.
 */
static int64_t time_off_until(const struct time_off *off, int64_t utc_ms)
{
    if (off == NULL)
        return NONE;
    int64_t until = NONE, t = utc_ms;
    bool moved = true;
    while (moved) {
        moved = false;
        for (size_t i = 0; i < off->count; i++) {
            const struct time_off_span *s = &off->spans[i];
            if (s->from_ms <= t && t < s->to_ms) {
                t = until = s->to_ms;
                moved = true;
            }
        }
    }
    return until;
}

/* ---- decisions ---- */

const char *workhours_reason_name(enum workhours_reason reason)
{
    switch (reason) {
    case WORKHOURS_WORKING:
        return "working";
    case WORKHOURS_TIME_OFF:
        return "time_off";
    case WORKHOURS_HOLIDAY:
        return "holiday";
    case WORKHOURS_OUTSIDE_HOURS:
        return "outside_hours";
    }
    return "unknown";
}

static bool in_hours(const struct weekly_hours *hours, unsigned weekday, unsigned minute)
{
    const struct workhours_interval *iv = hours->intervals[weekday];
    for (unsigned k = 0; k < hours->count[weekday]; k++)
        if (minute >= iv[k].start_minute && minute < iv[k].end_minute)
            return true;
    return false;
}

bool workhours_is_working_local(const struct weekly_hours *hours, const struct tz_local_time *local,
                                const struct holidays *holidays, const struct time_off *time_off,
                                int64_t now_ms, enum workhours_reason *reason)
{
    enum workhours_reason r = WORKHOURS_WORKING;
    if (time_off_until(time_off, now_ms) != NONE)
        r = WORKHOURS_TIME_OFF;
    else if (is_holiday_on(holidays, local->year, local->month, local->day))
        r = WORKHOURS_HOLIDAY;
    else if (hours != NULL && !in_hours(hours, local->weekday, local->minute_of_day))
        r = WORKHOURS_OUTSIDE_HOURS;
    if (reason != NULL)
        *reason = r;
    return r == WORKHOURS_WORKING;
}

bool workhours_is_working(const struct weekly_hours *hours, const struct tz_table *tz,
                          const struct holidays *holidays, const struct time_off *time_off,
                          int64_t now_ms, enum workhours_reason *reason)
{
    struct tz_local_time lt;
    tz_local(tz, now_ms, &lt);
    return workhours_is_working_local(hours, &lt, holidays, time_off, now_ms, reason);
}

/*
 * The first wall-clock instant in [local, local_end) (both "local ms", i.e.
 * UTC plus the offset) inside the weekly hours and not on a holiday, or NONE.
 * Intervals are sorted by start, so on each day the first interval that ends
 * after `local` gives the earliest candidate.
 */
static int64_t first_working_local(const struct weekly_hours *hours,
                                   const struct holidays *holidays, int64_t local,
                                   int64_t local_end)
{
    for (int64_t days = int_floor_div(local, WORKHOURS_DAY_MS); days * WORKHOURS_DAY_MS < local_end;
         days++) {
        unsigned wd = weekday_of_days(days);
        if (hours->count[wd] == 0 || is_holiday(holidays, days))
            continue;
        int64_t base = days * WORKHOURS_DAY_MS;
        for (unsigned k = 0; k < hours->count[wd]; k++) {
            const struct workhours_interval *iv = &hours->intervals[wd][k];
            if (base + iv->end_minute * MINUTE_MS <= local)
                continue;
            int64_t start = base + iv->start_minute * MINUTE_MS;
            int64_t candidate = start > local ? start : local;
            return candidate < local_end ? candidate : NONE;
        }
    }
    return NONE;
}

static bool has_hours(const struct weekly_hours *hours)
{
    for (unsigned wd = 0; wd < WEEKDAY_COUNT; wd++)
        if (hours->count[wd] > 0)
            return true;
    return false;
}

int64_t workhours_next_start(const struct weekly_hours *hours, const struct tz_table *tz,
                             const struct holidays *holidays, const struct time_off *time_off,
                             int64_t now_ms, int64_t limit_ms)
{
    if (limit_ms < 0 || now_ms < -SEARCH_END_MS || !has_hours(hours))
        return 0;
    int64_t last = int_add_sat(now_ms, limit_ms);
    if (last > SEARCH_END_MS)
        last = SEARCH_END_MS;
    int64_t t = now_ms;
    while (t <= last) {
        int64_t off_until = time_off_until(time_off, t);
        if (off_until != NONE) {
            t = off_until;
            continue;
        }
        size_t i = tz_segment_of(tz, t);
        int64_t seg_end = segment_end(tz, i);
        int64_t stop = seg_end <= last ? seg_end : last + 1; /* exclusive, UTC */
        int32_t offset = tz->transits[i].offset_ms;
        int64_t found =
            first_working_local(hours, holidays, int_add_sat(t, offset), int_add_sat(stop, offset));
        if (found == NONE) {
            if (stop != seg_end)
                return 0;
            t = seg_end;
            continue;
        }
        t = found - offset;
        if (time_off_until(time_off, t) == NONE)
            return t;
        /* Time off covers that start: go on from its end. */
    }
    return 0;
}
