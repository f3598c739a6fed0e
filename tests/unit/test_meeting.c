/*
 * test_meeting.c - the first free call slot in a rep's working time
 * (core/meeting), in real zones: Europe/Berlin (office hours, weekends, the
 * spring-forward day 2026-03-29), Asia/Kathmandu (+05:45, alignment on the
 * wall clock) and UTC. Hand cases with instants written out from the 2026
 * rules, then 300 checks against a minute-by-minute scan of
 * workhours_is_working() with random schedules and busy lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/meeting.h"
#include "core/workhours.h"
#include "util/intmath.h"

#include <stdio.h>
#include <string.h>

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define NONE_FOUND INT64_MIN

static struct tz_table *berlin, *utc, *kathmandu;

static int setup(void **state)
{
    (void)state;
    berlin = zone("Europe/Berlin");
    utc = zone("UTC");
    kathmandu = zone("Asia/Kathmandu");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tz_table_free(berlin);
    tz_table_free(utc);
    tz_table_free(kathmandu);
    return 0;
}

static void add(struct weekly_hours *h, enum weekday d, unsigned start, unsigned end)
{
    struct bt_error e = BT_ERROR_INIT;
    if (workhours_add_interval(h, d, start, end, &e) != BT_OK)
        fail_msg("add_interval: %s", e.message);
}

/* Monday to Friday, [start, end) local minutes. */
static struct weekly_hours office(unsigned start, unsigned end)
{
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    for (int d = WEEKDAY_MONDAY; d <= WEEKDAY_FRIDAY; d++)
        add(&h, (enum weekday)d, start, end);
    return h;
}

/* A request with the usual parameters: 30 minutes, step 15, 14 days, no lead time. */
static struct meeting_request request(const struct weekly_hours *h, const struct tz_table *tz,
                                      int64_t now)
{
    struct meeting_request r = {
        .hours = h,
        .tz = tz,
        .now_ms = now,
        .earliest_ms = now,
        .step_ms = 15 * MIN_MS,
        .duration_ms = 30 * MIN_MS,
        .horizon_ms = 14 * DAY_MS,
    };
    return r;
}

#define assert_slot(r, start) assert_slot_at((r), T(start), __FILE__, __LINE__)

static void assert_slot_at(const struct meeting_request *r, int64_t start, const char *file,
                           int line)
{
    struct meeting_interval s = {-1, -1};
    struct bt_error e = BT_ERROR_INIT;
    bt_err err = meeting_find_slot(r, &s, &e);
    if (err != BT_OK) {
        print_error("meeting_find_slot: %s: %s\n", bt_strerror(err), e.message);
        _fail(file, line);
    }
    assert_instant_at(s.start_ms, start, file, line);
    assert_instant_at(s.end_ms, start + r->duration_ms, file, line);
}

static void assert_no_slot(const struct meeting_request *r)
{
    struct meeting_interval s = {-1, -1};
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(meeting_find_slot(r, &s, &e), BT_ENOTFOUND);
    assert_int_equal(e.code, BT_ENOTFOUND);
    assert_non_null(strstr(e.message, "no free"));
    assert_true(s.start_ms == -1 && s.end_ms == -1);
}

/* Tuesday 2026-11-24, Berlin on CET (UTC+1). */
static void test_inside_hours(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    /* 10:07 CET plus 10 minutes' lead time, rounded up to the quarter: 10:30 CET. */
    struct meeting_request r = request(&h, berlin, T("2026-11-24T09:07:00Z"));
    r.earliest_ms = r.now_ms + 10 * MIN_MS;
    assert_slot(&r, "2026-11-24T09:30:00Z");
    /* Half hours: the same. */
    r.step_ms = 30 * MIN_MS;
    assert_slot(&r, "2026-11-24T09:30:00Z");
    /* An aligned earliest start is kept as it is. */
    r.step_ms = 15 * MIN_MS;
    r.earliest_ms = T("2026-11-24T09:15:00Z");
    assert_slot(&r, "2026-11-24T09:15:00Z");
    /* Seconds count: 10:15:00.001 is past 10:15. */
    r.earliest_ms = T("2026-11-24T09:15:00.001Z");
    assert_slot(&r, "2026-11-24T09:30:00Z");
    /* An earliest start before now means now. */
    r.now_ms = T("2026-11-24T12:01:00Z");
    r.earliest_ms = T("2026-11-24T08:00:00Z");
    assert_slot(&r, "2026-11-24T12:15:00Z");
    /* Before the shift: its start. */
    r = request(&h, berlin, T("2026-11-24T05:00:00Z"));
    assert_slot(&r, "2026-11-24T08:00:00Z");
}

static void test_after_hours_next_day(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    /* 16:20 CET: 16:30-17:00 still fits, ending with the shift. */
    struct meeting_request r = request(&h, berlin, T("2026-11-24T15:20:00Z"));
    assert_slot(&r, "2026-11-24T15:30:00Z");
    /* 16:35 CET: 16:45-17:15 does not; Wednesday 09:00 CET. */
    r = request(&h, berlin, T("2026-11-24T15:35:00Z"));
    assert_slot(&r, "2026-11-25T08:00:00Z");
    /* A slot is never put across a break: 11:45-12:15 would cross lunch. */
    struct weekly_hours lunch = WEEKLY_HOURS_INIT;
    add(&lunch, WEEKDAY_TUESDAY, 9 * 60, 12 * 60);
    add(&lunch, WEEKDAY_TUESDAY, 13 * 60, 17 * 60);
    r = request(&lunch, berlin, T("2026-11-24T10:40:00Z"));
    assert_slot(&r, "2026-11-24T12:00:00Z"); /* 13:00 CET */
}

static void test_weekends(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    /* Friday 2026-11-27 16:45 CET: Monday 09:00. */
    struct meeting_request r = request(&h, berlin, T("2026-11-27T15:45:00Z"));
    assert_slot(&r, "2026-11-30T08:00:00Z");
    /* Saturday mornings worked: Saturday 10:00. */
    add(&h, WEEKDAY_SATURDAY, 10 * 60, 14 * 60);
    assert_slot(&r, "2026-11-28T09:00:00Z");
    /* Monday a holiday too: Tuesday. */
    struct weekly_hours plain = office(9 * 60, 17 * 60);
    static const struct holiday_date dates[] = {{2026, 11, 30}};
    struct holidays hol = {dates, 1};
    r = request(&plain, berlin, T("2026-11-27T15:45:00Z"));
    r.holidays = &hol;
    assert_slot(&r, "2026-12-01T08:00:00Z");
}

static void test_busy(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    /* Unsorted, overlapping, touching: 09:00-10:15 CET is taken, 10:15 is free. */
    struct meeting_interval busy[] = {
        {T("2026-11-24T08:30:00Z"), T("2026-11-24T09:15:00Z")},
        {T("2026-11-24T08:00:00Z"), T("2026-11-24T08:30:00Z")},
        {T("2026-11-24T08:10:00Z"), T("2026-11-24T08:20:00Z")},
        {T("2026-11-24T09:45:00Z"), T("2026-11-24T10:30:00Z")}, /* 10:45-11:30 CET */
        {T("2026-11-24T09:40:00Z"), T("2026-11-24T09:40:00Z")}, /* empty: ignored */
    };
    struct meeting_request r = request(&h, berlin, T("2026-11-24T08:00:00Z"));
    r.busy = busy;
    r.n_busy = 5;
    /* 10:15-10:45 CET: adjacent to the busy block before and the one after. */
    assert_slot(&r, "2026-11-24T09:15:00Z");
    /* A longer call does not fit in the gap: after the second block, 11:30 CET. */
    r.duration_ms = 45 * MIN_MS;
    assert_slot(&r, "2026-11-24T10:30:00Z");
    /* A busy end off the grid: the next aligned instant. */
    busy[0].end_ms = T("2026-11-24T09:17:00Z");
    r.duration_ms = 15 * MIN_MS;
    assert_slot(&r, "2026-11-24T09:30:00Z");
    /* Busy until after the shift: the next morning. */
    busy[0].end_ms = T("2026-11-24T16:30:00Z");
    assert_slot(&r, "2026-11-25T08:00:00Z");
    /* Time off counts as busy. */
    busy[0].end_ms = T("2026-11-24T09:15:00Z");
    struct time_off_span spans[] = {{T("2026-11-24T09:00:00Z"), T("2026-11-26T12:00:00Z")}};
    struct time_off off = {spans, 1};
    r.time_off = &off;
    assert_slot(&r, "2026-11-26T12:00:00Z"); /* 13:00 CET on Thursday */
}

/* Sunday 2026-03-29: Berlin goes from CET (+1) to CEST (+2) at 01:00 UTC. */
static void test_dst_change(void **state)
{
    (void)state;
    /* Office hours follow the wall clock: 09:00 is 08:00 UTC on Friday, 07:00 on Monday. */
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct meeting_request r = request(&h, berlin, T("2026-03-27T15:45:00Z"));
    assert_slot(&r, "2026-03-30T07:00:00Z");

    /* A Sunday shift 01:00-05:00 is three hours that day: 00:00-03:00 UTC. */
    struct weekly_hours night = WEEKLY_HOURS_INIT;
    add(&night, WEEKDAY_SUNDAY, 1 * 60, 5 * 60);
    /* 01:40 CET, an hour's call on the half hour: 02:00 CET does not exist, so 03:00 CEST. */
    r = request(&night, berlin, T("2026-03-29T00:40:00Z"));
    r.step_ms = 30 * MIN_MS;
    r.duration_ms = 60 * MIN_MS;
    assert_slot(&r, "2026-03-29T01:00:00Z");
    /* From 01:00 CET a 90-minute call runs across the change: 01:00 CET to 03:30 CEST. */
    r.now_ms = r.earliest_ms = T("2026-03-29T00:00:00Z");
    r.duration_ms = 90 * MIN_MS;
    assert_slot(&r, "2026-03-29T00:00:00Z");
    /* Three hours fit exactly; three and a quarter do not (next Sunday, four hours). */
    r.duration_ms = 180 * MIN_MS;
    assert_slot(&r, "2026-03-29T00:00:00Z");
    r.duration_ms = 195 * MIN_MS;
    assert_slot(&r, "2026-04-04T23:00:00Z"); /* 01:00 CEST on 2026-04-05 */

    /* A shift wholly inside the skipped hour does not happen that day. */
    struct weekly_hours gap = WEEKLY_HOURS_INIT;
    add(&gap, WEEKDAY_SUNDAY, 2 * 60, 3 * 60);
    r = request(&gap, berlin, T("2026-03-28T12:00:00Z"));
    assert_slot(&r, "2026-04-05T00:00:00Z"); /* 02:00 CEST */

    /* Sunday 2026-10-25, clocks go back at 01:00 UTC: 01:00-04:00 is four hours. */
    r = request(&night, berlin, T("2026-10-24T23:00:00Z"));
    r.duration_ms = 4 * HOUR_MS;
    r.step_ms = 60 * MIN_MS;
    assert_slot(&r, "2026-10-24T23:00:00Z");
}

static void test_around_the_clock(void **state)
{
    (void)state;
    struct meeting_request r = request(NULL, utc, T("2026-11-24T10:07:00Z"));
    assert_slot(&r, "2026-11-24T10:15:00Z");
    struct meeting_interval busy[] = {{T("2026-11-24T10:00:00Z"), T("2026-11-24T23:45:00Z")}};
    r.busy = busy;
    r.n_busy = 1;
    /* Across midnight: nothing ends a stretch without hours. */
    assert_slot(&r, "2026-11-24T23:45:00Z");
    /* Holidays still apply: the call cannot run into 2026-11-25. */
    static const struct holiday_date dates[] = {{2026, 11, 25}};
    struct holidays hol = {dates, 1};
    r.holidays = &hol;
    assert_slot(&r, "2026-11-26T00:00:00Z");

    /* Alignment is on the wall clock: Kathmandu is UTC+05:45, 09:05 local -> 09:30 local. */
    r = request(NULL, kathmandu, T("2026-11-24T03:20:00Z"));
    r.step_ms = 30 * MIN_MS;
    assert_slot(&r, "2026-11-24T03:45:00Z");
}

/* An overnight shift continues across midnight. */
static void test_overnight(void **state)
{
    (void)state;
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    add(&h, WEEKDAY_TUESDAY, 22 * 60, 6 * 60); /* Tuesday 22:00 to Wednesday 06:00 */
    struct meeting_request r = request(&h, utc, T("2026-11-24T23:40:00Z"));
    r.duration_ms = 60 * MIN_MS;
    assert_slot(&r, "2026-11-24T23:45:00Z");
}

static void test_no_slot(void **state)
{
    (void)state;
    /* No working time at all. */
    struct weekly_hours none = WEEKLY_HOURS_INIT;
    struct meeting_request r = request(&none, berlin, T("2026-11-24T08:00:00Z"));
    assert_no_slot(&r);
    /* Every shift too short for the call. */
    struct weekly_hours short_shifts = office(9 * 60, 10 * 60);
    r = request(&short_shifts, berlin, T("2026-11-24T08:00:00Z"));
    r.duration_ms = 90 * MIN_MS;
    assert_no_slot(&r);
    /* Busy for the whole horizon. */
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct meeting_interval busy[] = {{T("2026-11-20T00:00:00Z"), T("2026-12-31T00:00:00Z")}};
    r = request(&h, berlin, T("2026-11-24T08:00:00Z"));
    r.busy = busy;
    r.n_busy = 1;
    assert_no_slot(&r);
    /* Free only after the horizon: busy to 2026-12-08 09:00 UTC, the horizon ends at 08:00. */
    busy[0].end_ms = T("2026-12-08T09:00:00Z");
    assert_no_slot(&r);
    r.horizon_ms += 2 * HOUR_MS;
    assert_slot(&r, "2026-12-08T09:00:00Z");
    /* The slot must end within the horizon, not just start in it. */
    r.horizon_ms = 14 * DAY_MS + HOUR_MS + 15 * MIN_MS;
    assert_no_slot(&r);
    /* An earliest start past the horizon. */
    r = request(&h, berlin, T("2026-11-24T08:00:00Z"));
    r.earliest_ms = r.now_ms + 15 * DAY_MS;
    assert_no_slot(&r);
}

static void expect_invalid(const struct meeting_request *r, bt_err code, const char *field)
{
    struct meeting_interval s = {-1, -1};
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(meeting_find_slot(r, &s, &e), code);
    assert_string_equal(e.field, field);
    assert_true(strlen(e.message) > 0);
    assert_true(s.start_ms == -1);
}

static void test_invalid(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct meeting_request base = request(&h, berlin, T("2026-11-24T08:00:00Z")), r;
    r = base, r.step_ms = 0;
    expect_invalid(&r, BT_EINVAL, "step");
    r = base, r.step_ms = 7 * MIN_MS; /* does not divide a day */
    expect_invalid(&r, BT_EINVAL, "step");
    r = base, r.step_ms = 90 * 1000;
    expect_invalid(&r, BT_EINVAL, "step");
    r = base, r.duration_ms = 0;
    expect_invalid(&r, BT_EINVAL, "duration");
    r = base, r.duration_ms = DAY_MS + 1;
    expect_invalid(&r, BT_EINVAL, "duration");
    r = base, r.horizon_ms = 0;
    expect_invalid(&r, BT_EINVAL, "horizon");
    r = base, r.horizon_ms = MEETING_HORIZON_MAX_MS + 1;
    expect_invalid(&r, BT_EINVAL, "horizon");
    r = base, r.now_ms = INT64_MAX;
    expect_invalid(&r, BT_EINVAL, "now");
    struct meeting_interval backwards[] = {{T("2026-11-24T10:00:00Z"), T("2026-11-24T09:00:00Z")}};
    r = base, r.busy = backwards, r.n_busy = 1;
    expect_invalid(&r, BT_EINVAL, "busy");
    r = base, r.busy = backwards, r.n_busy = MEETING_BUSY_MAX + 1;
    expect_invalid(&r, BT_ETOOBIG, "busy");
}

/* ---- against a scan ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

/* The first slot by brute force: aligned minutes on the wall clock, every
 * minute of the call working, no busy overlap. */
static int64_t scan(const struct meeting_request *r)
{
    int64_t from = r->earliest_ms > r->now_ms ? r->earliest_ms : r->now_ms;
    int64_t limit = r->now_ms + r->horizon_ms;
    for (int64_t s = -int_floor_div(-from, MIN_MS) * MIN_MS; s + r->duration_ms <= limit;
         s += MIN_MS) {
        struct tz_local_time lt;
        tz_local(r->tz, s, &lt);
        if ((lt.minute_of_day * MIN_MS + lt.ms_of_minute) % r->step_ms != 0)
            continue;
        bool ok = true;
        for (int64_t m = s; ok && m < s + r->duration_ms; m += MIN_MS)
            ok = workhours_is_working(r->hours, r->tz, r->holidays, r->time_off, m, NULL);
        for (size_t i = 0; ok && i < r->n_busy; i++)
            ok = !(r->busy[i].start_ms < s + r->duration_ms && s < r->busy[i].end_ms);
        if (ok)
            return s;
    }
    return NONE_FOUND;
}

static void test_matches_scan(void **state)
{
    (void)state;
    static const struct holiday_date dates[] = {{2026, 3, 31}, {2026, 10, 27}};
    struct holidays hol = {dates, 2};
    const char *around[] = {"2026-03-26T10:00:00Z", "2026-10-22T10:00:00Z", "2026-11-24T10:00:00Z"};
    for (int round = 0; round < 300; round++) {
        struct weekly_hours h = WEEKLY_HOURS_INIT;
        for (int d = 0; d < WEEKDAY_COUNT; d++) {
            if (rnd(4) == 0)
                continue;
            unsigned a = rnd(40) * 30, b = a + 30 * (1 + rnd(12));
            if (b > 1440)
                b = 1440;
            add(&h, (enum weekday)d, a, b);
            unsigned c = b + 30 * (1 + rnd(4));
            if (rnd(2) && c < 1440) {
                unsigned end = c + 30 * (1 + rnd(12));
                add(&h, (enum weekday)d, c, end > 1440 ? 1440 : end);
            }
        }
        struct meeting_interval busy[12];
        int64_t now = T(around[round % 3]) + (int64_t)rnd(4 * 24 * 60) * MIN_MS + rnd(60000);
        size_t nb = rnd(12);
        for (size_t i = 0; i < nb; i++) {
            busy[i].start_ms = now + (int64_t)rnd(5 * 24 * 60) * MIN_MS;
            busy[i].end_ms = busy[i].start_ms + (int64_t)(1 + rnd(8 * 60)) * MIN_MS;
        }
        struct time_off_span spans[1] = {{now + (int64_t)rnd(3 * 24 * 60) * MIN_MS, 0}};
        spans[0].to_ms = spans[0].from_ms + (int64_t)rnd(2 * 24 * 60) * MIN_MS;
        struct time_off off = {spans, 1};
        static const int64_t steps[] = {15 * MIN_MS, 30 * MIN_MS, 60 * MIN_MS};
        struct meeting_request r =
            request(round % 5 == 0 ? NULL : &h, round % 7 == 3 ? kathmandu : berlin, now);
        r.holidays = &hol;
        r.time_off = &off;
        r.busy = busy;
        r.n_busy = nb;
        r.step_ms = steps[rnd(3)];
        r.duration_ms = (int64_t)(15 + rnd(16) * 15) * MIN_MS;
        r.earliest_ms = now + (int64_t)rnd(120) * MIN_MS;
        r.horizon_ms = (int64_t)(2 + rnd(7 * 24 - 2)) * HOUR_MS;

        int64_t expected = scan(&r);
        struct meeting_interval s = {-1, -1};
        struct bt_error e = BT_ERROR_INIT;
        bt_err err = meeting_find_slot(&r, &s, &e);
        if (expected == NONE_FOUND) {
            if (err != BT_ENOTFOUND)
                fail_msg("round %d: found a slot the scan did not", round);
        } else {
            if (err != BT_OK)
                fail_msg("round %d: %s", round, e.message);
            assert_instant(s.start_ms, expected);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_hours), cmocka_unit_test(test_after_hours_next_day),
        cmocka_unit_test(test_weekends),     cmocka_unit_test(test_busy),
        cmocka_unit_test(test_dst_change),   cmocka_unit_test(test_around_the_clock),
        cmocka_unit_test(test_overnight),    cmocka_unit_test(test_no_slot),
        cmocka_unit_test(test_invalid),      cmocka_unit_test(test_matches_scan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
