/*
 * workhours.h - local time in a rep's zone, and whether the rep is working.
 *
 * Pure: every function here reads an immutable zone table (util/tzdb.h, built
 * from ICU when the configuration loads) and plain values; none calls ICU,
 * reads the clock, touches the process time zone or allocates. They are
 * therefore safe to call from any number of threads on shared tables.
 *
 * Instants are int64 ms since the epoch, UTC. "Local" values are wall-clock
 * readings in the zone: a calendar date and a minute of the day.
 *
 * Working time is defined on the wall clock: a rep works at instant t when
 *   - t is in none of the rep's time-off spans (UTC [from, to)),
 *   - the local date of t is not one of the rep's holidays (whole local days),
 *   - the local minute of t lies in one of the intervals of that weekday.
 * Consequences across daylight saving time, on purpose: a 09:00-17:00 shift
 * is 09:00-17:00 on the wall clock whatever the offset (07:00 UTC in Berlin
 * summer, 08:00 UTC in winter); on a spring-forward day a shift that starts in
 * the skipped hour starts when the clocks jump (02:30 in Berlin on 2026-03-29
 * means 03:00 local, 01:00 UTC), an interval lying wholly inside the skipped
 * hour does not happen that day, and an interval inside the repeated hour of
 * a fall-back day is worked twice, once at each offset.
 */
#ifndef BT_CORE_WORKHOURS_H
#define BT_CORE_WORKHOURS_H

#include "util/err.h"
#include "util/tzdb.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORKHOURS_DAY_MS          86400000LL
#define WORKHOURS_MINUTES_PER_DAY 1440

/* ---- local time ---- */

struct tz_local_time {
    int64_t year;
    unsigned month;         /* 1..12 */
    unsigned day;           /* 1..31 */
    unsigned weekday;       /* 0 = Monday .. 6 = Sunday (enum weekday) */
    unsigned minute_of_day; /* 0..1439 */
    unsigned ms_of_minute;  /* 0..59999 */
    int32_t offset_ms;      /* local minus UTC at this instant */
    int64_t local_days;     /* the local date as days since 1970-01-01 */
};

/* The index in tz->transits of the offset in force at `utc_ms` (the last
 * entry with utc_ms_from <= utc_ms): two instants with the same index have
 * no change of offset between them. */
size_t tz_segment_of(const struct tz_table *tz, int64_t utc_ms);

/* The zone's UTC offset in force at `utc_ms` (daylight saving included). */
int32_t tz_offset_at(const struct tz_table *tz, int64_t utc_ms);

/* The local civil time at `utc_ms`, written to *out. */
void tz_local(const struct tz_table *tz, int64_t utc_ms, struct tz_local_time *out);

/* Which instant a repeated wall time means (see tz_utc_of_local). */
enum tz_ambiguity {
    TZ_EARLIER, /* the first occurrence, before the clocks go back (the default) */
    TZ_LATER,   /* the second occurrence, after the clocks go back */
};

/*
 * The UTC instant at which the wall clock in `tz` reads year-month-day
 * minute_of_day (0..1440; 1440 is the next day's midnight). The date must be
 * a valid calendar date.
 *   - A wall time that happens once: that instant.
 *   - A wall time that happens twice (the repeated hour when clocks go back):
 *     the earlier instant with TZ_EARLIER, the later with TZ_LATER.
 *   - A wall time that never happens (the hour skipped when clocks go
 *     forward): the first instant after the gap, i.e. the transition itself,
 *     whatever the policy. 02:30 in Berlin on 2026-03-29 gives 01:00 UTC
 *     (03:00 CEST).
 */
int64_t tz_utc_of_local(const struct tz_table *tz, int64_t year, unsigned month, unsigned day,
                        unsigned minute_of_day, enum tz_ambiguity policy);

/* ---- weekly hours, holidays, time off ---- */

enum weekday {
    WEEKDAY_MONDAY,
    WEEKDAY_TUESDAY,
    WEEKDAY_WEDNESDAY,
    WEEKDAY_THURSDAY,
    WEEKDAY_FRIDAY,
    WEEKDAY_SATURDAY,
    WEEKDAY_SUNDAY,
    WEEKDAY_COUNT
};

#define WORKHOURS_INTERVALS_MAX 4

/* Local minutes [start_minute, end_minute), 0 <= start < end <= 1440. */
struct workhours_interval {
    uint16_t start_minute;
    uint16_t end_minute;
};

/*
 * A rep's weekly schedule on its own wall clock: per weekday up to
 * WORKHOURS_INTERVALS_MAX intervals, sorted by start, not overlapping, none
 * crossing midnight (an overnight shift is two intervals on two days;
 * workhours_add_interval() splits it). A value type: zero it with
 * WEEKLY_HOURS_INIT (no hours at all) and fill it with workhours_add_interval().
 */
struct weekly_hours {
    uint8_t count[WEEKDAY_COUNT];
    struct workhours_interval intervals[WEEKDAY_COUNT][WORKHOURS_INTERVALS_MAX];
};

/* clang-format off */
#define WEEKLY_HOURS_INIT {{0}, {{{0, 0}}}}
/* clang-format on */

/*
 * Adds local minutes [start_minute, end_minute) to `weekday`, keeping the
 * day's intervals sorted. end_minute < start_minute is an overnight shift:
 * it becomes [start, 1440) on `weekday` and [0, end) on the next day (Sunday
 * wraps to Monday); end_minute == 0 means until midnight. Returns BT_EINVAL
 * (with `field` "hours") for minutes out of 0..1440, an empty interval, an
 * overlap with an interval already there, or a day that would hold more than
 * WORKHOURS_INTERVALS_MAX intervals; `hours` is unchanged on error.
 */
bt_err workhours_add_interval(struct weekly_hours *hours, enum weekday weekday,
                              unsigned start_minute, unsigned end_minute,
                              struct bt_error *e) BT_MUST_USE;

/* Checks the invariants above on a schedule built by other means. */
bt_err workhours_check(const struct weekly_hours *hours, struct bt_error *e) BT_MUST_USE;

struct holiday_date {
    int32_t year;
    uint8_t month; /* 1..12 */
    uint8_t day;   /* 1..31 */
};

/* Whole local days off, sorted ascending without repeats; a view on caller memory. */
struct holidays {
    const struct holiday_date *dates;
    size_t count;
};

/* Checks that every date is a real calendar date and that the list is strictly ascending. */
bt_err workhours_holidays_check(const struct holidays *holidays, struct bt_error *e) BT_MUST_USE;

/* UTC [from_ms, to_ms); empty spans (to <= from) are ignored. */
struct time_off_span {
    int64_t from_ms;
    int64_t to_ms;
};

/* Time off as UTC spans in any order, possibly overlapping; a view on caller memory. */
struct time_off {
    const struct time_off_span *spans;
    size_t count;
};

/* ---- decisions ---- */

/* Why a rep is not working; when several apply the first listed here is reported. */
enum workhours_reason {
    WORKHOURS_WORKING,       /* working */
    WORKHOURS_TIME_OFF,      /* inside a time-off span */
    WORKHOURS_HOLIDAY,       /* the local date is a holiday */
    WORKHOURS_OUTSIDE_HOURS, /* the local time is outside the weekly hours */
};

/* "working", "time_off", "holiday", "outside_hours". */
const char *workhours_reason_name(enum workhours_reason reason);

/*
 * Whether the rep is working at `now_ms`. `holidays` and `time_off` may be
 * NULL (none). When `reason` is not NULL it receives WORKHOURS_WORKING or the
 * reason the rep is not working (time off before holiday before hours).
 */
bool workhours_is_working(const struct weekly_hours *hours, const struct tz_table *tz,
                          const struct holidays *holidays, const struct time_off *time_off,
                          int64_t now_ms, enum workhours_reason *reason /* out */);

/*
 * The same, for a caller that already has the local time of now_ms in the
 * rep's zone (tz_local): several reps of one zone share one conversion.
 * `hours` may be NULL: no weekly hours are checked (time off and holidays
 * still are).
 */
bool workhours_is_working_local(const struct weekly_hours *hours, const struct tz_local_time *local,
                                const struct holidays *holidays, const struct time_off *time_off,
                                int64_t now_ms, enum workhours_reason *reason /* out */);

/*
 * The first instant t with now_ms <= t <= now_ms + limit_ms at which
 * workhours_is_working() holds: now_ms itself when the rep is working, else
 * the start of the next shift that is not on a holiday, not swallowed by time
 * off, with offsets changing in between handled exactly (including a shift
 * that starts in a skipped hour, and a shift that resumes when the clocks go
 * back into it). Returns 0 when there is none within the limit (a limit of a
 * few weeks keeps the search cheap; its cost grows with the days searched).
 */
int64_t workhours_next_start(const struct weekly_hours *hours, const struct tz_table *tz,
                             const struct holidays *holidays, const struct time_off *time_off,
                             int64_t now_ms, int64_t limit_ms);

#endif
