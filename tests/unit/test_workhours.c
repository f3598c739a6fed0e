/*
 * test_workhours.c - zone tables from ICU (util/tzdb) and working hours on
 * top of them (core/workhours), with real zones: Europe/Berlin and
 * America/New_York (both DST changes of 2026), Australia/Sydney (southern
 * hemisphere: clocks go back in April, forward in October), Asia/Kolkata
 * (+05:30, no DST), America/St_Johns (-03:30/-02:30) and UTC.
 *
 * The expected instants are written out by hand from the 2026 rules; two
 * brute-force checks (every wall time round-trips, next_start equals a
 * minute-by-minute scan of is_working) cover what the hand cases miss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/workhours.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define HOUR_MS 3600000LL
#define MIN_MS  60000LL
#define DAY_MS  86400000LL

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

static bool working(const struct weekly_hours *h, const struct tz_table *tz,
                    const struct holidays *hol, const struct time_off *off, int64_t now,
                    enum workhours_reason expected_reason)
{
    enum workhours_reason r = WORKHOURS_WORKING;
    bool w = workhours_is_working(h, tz, hol, off, now, &r);
    assert_int_equal(w, r == WORKHOURS_WORKING);
    if (r != expected_reason) {
        char b[RFC3339_MAX];
        time_format_rfc3339(now, b);
        fail_msg("at %s in %s: reason %s, expected %s", b, tz->name, workhours_reason_name(r),
                 workhours_reason_name(expected_reason));
    }
    return w;
}

#define WORKING(h, tz, hol, off, now)          working((h), (tz), (hol), (off), (now), WORKHOURS_WORKING)
#define NOT_WORKING(h, tz, hol, off, now, why) working((h), (tz), (hol), (off), (now), (why))

/* ---- the zone tables ---- */

static void test_unknown_zones(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Mars/Olympus_Mons",
        "",
        "Europe/Berln",
        "GMT+05:00",
        "Etc/Unknown",
        "Europe/Berlin; ls",
        "Ëurope/Berlin",
        "Europe/Berlin/",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tz_table *t = (struct tz_table *)&t; /* must be reset to NULL */
        struct bt_error e = BT_ERROR_INIT;
        assert_int_equal(tz_table_new(bad[i], &t, &e), BT_EINVAL);
        assert_null(t);
        assert_int_equal(e.code, BT_EINVAL);
        assert_string_equal(e.field, "timezone");
        assert_true(strlen(e.message) > 0);
    }
    struct bt_error e = BT_ERROR_INIT;
    struct tz_table *t = NULL;
    assert_int_equal(tz_table_new("Mars/Olympus_Mons", &t, &e), BT_EINVAL);
    assert_non_null(strstr(e.message, "Mars/Olympus_Mons"));
    /* No error struct: still refused, no crash. */
    assert_int_equal(tz_table_new("Nowhere/Atall", &t, NULL), BT_EINVAL);
    tz_table_free(NULL);
}

static void test_tables(void **state)
{
    (void)state;
    struct tz_table *utc = zone("UTC");
    assert_int_equal(utc->count, 1);
    assert_int_equal(utc->transits[0].offset_ms, 0);
    assert_true(utc->transits[0].utc_ms_from == INT64_MIN);
    assert_true(strlen(utc->data_version) > 0);

    struct tz_table *kolkata = zone("Asia/Kolkata");
    assert_int_equal(kolkata->count, 1); /* unchanged since 1945 */
    assert_int_equal(kolkata->transits[0].offset_ms, 19800000);

    /* Berlin: DST from 1980, two changes a year until 2100, nothing merged wrongly. */
    struct tz_table *berlin = zone("Europe/Berlin");
    assert_true(berlin->count > 200 && berlin->count < 300);
    for (size_t i = 1; i < berlin->count; i++) {
        assert_true(berlin->transits[i].utc_ms_from > berlin->transits[i - 1].utc_ms_from);
        assert_true(berlin->transits[i].offset_ms != berlin->transits[i - 1].offset_ms);
        int32_t o = berlin->transits[i].offset_ms;
        assert_true(o == HOUR_MS || o == 2 * HOUR_MS);
    }
    assert_true(berlin->transits[berlin->count - 1].utc_ms_from > T("2099-01-01T00:00:00Z"));
    assert_true(berlin->transits[berlin->count - 1].utc_ms_from < T("2100-01-01T00:00:00Z"));
    int found = 0;
    for (size_t i = 1; i < berlin->count; i++) {
        if (berlin->transits[i].utc_ms_from == T("2026-03-29T01:00:00Z")) {
            assert_int_equal(berlin->transits[i].offset_ms, 2 * HOUR_MS);
            found++;
        }
        if (berlin->transits[i].utc_ms_from == T("2026-10-25T01:00:00Z")) {
            assert_int_equal(berlin->transits[i].offset_ms, HOUR_MS);
            found++;
        }
    }
    assert_int_equal(found, 2);

    /* A legacy link is accepted and knows its canonical name. */
    struct tz_table *eastern = zone("US/Eastern");
    assert_string_equal(eastern->name, "US/Eastern");
    assert_string_equal(eastern->canonical, "America/New_York");

    tz_table_free(utc);
    tz_table_free(kolkata);
    tz_table_free(berlin);
    tz_table_free(eastern);
}

/* ---- local time ---- */

static void check_local(const struct tz_table *tz, const char *utc, int64_t y, unsigned mo,
                        unsigned d, unsigned hh, unsigned mm, enum weekday wd, int32_t offset_min)
{
    struct tz_local_time lt;
    tz_local(tz, T(utc), &lt);
    if (lt.year != y || lt.month != mo || lt.day != d || lt.minute_of_day != hh * 60 + mm ||
        lt.weekday != (unsigned)wd || lt.offset_ms != offset_min * MIN_MS)
        fail_msg("%s at %s: got %04lld-%02u-%02u %02u:%02u wd %u offset %d min", tz->name, utc,
                 (long long)lt.year, lt.month, lt.day, lt.minute_of_day / 60, lt.minute_of_day % 60,
                 lt.weekday, (int)(lt.offset_ms / MIN_MS));
    assert_int_equal(lt.local_days, time_days_from_civil(y, mo, d));
}

static void test_local_time(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"),
                    *sydney = zone("Australia/Sydney"), *kolkata = zone("Asia/Kolkata"),
                    *stjohns = zone("America/St_Johns"), *utc = zone("UTC");

    check_local(berlin, "2026-03-29T00:59:59Z", 2026, 3, 29, 1, 59, WEEKDAY_SUNDAY, 60);
    check_local(berlin, "2026-03-29T01:00:00Z", 2026, 3, 29, 3, 0, WEEKDAY_SUNDAY, 120);
    check_local(berlin, "2026-10-25T00:59:59Z", 2026, 10, 25, 2, 59, WEEKDAY_SUNDAY, 120);
    check_local(berlin, "2026-10-25T01:00:00Z", 2026, 10, 25, 2, 0, WEEKDAY_SUNDAY, 60);
    check_local(berlin, "2026-12-31T23:30:00Z", 2027, 1, 1, 0, 30, WEEKDAY_FRIDAY, 60);

    check_local(ny, "2026-03-08T06:59:00Z", 2026, 3, 8, 1, 59, WEEKDAY_SUNDAY, -300);
    check_local(ny, "2026-03-08T07:00:00Z", 2026, 3, 8, 3, 0, WEEKDAY_SUNDAY, -240);
    check_local(ny, "2026-11-01T05:59:00Z", 2026, 11, 1, 1, 59, WEEKDAY_SUNDAY, -240);
    check_local(ny, "2026-11-01T06:00:00Z", 2026, 11, 1, 1, 0, WEEKDAY_SUNDAY, -300);
    check_local(ny, "2026-03-02T03:00:00Z", 2026, 3, 1, 22, 0, WEEKDAY_SUNDAY, -300);

    /* Sydney: AEDT (+11) ends 2026-04-05 03:00, AEST (+10) ends 2026-10-04 02:00. */
    check_local(sydney, "2026-04-04T15:59:00Z", 2026, 4, 5, 2, 59, WEEKDAY_SUNDAY, 660);
    check_local(sydney, "2026-04-04T16:00:00Z", 2026, 4, 5, 2, 0, WEEKDAY_SUNDAY, 600);
    check_local(sydney, "2026-10-03T15:59:00Z", 2026, 10, 4, 1, 59, WEEKDAY_SUNDAY, 600);
    check_local(sydney, "2026-10-03T16:00:00Z", 2026, 10, 4, 3, 0, WEEKDAY_SUNDAY, 660);

    check_local(kolkata, "2026-01-01T00:00:00Z", 2026, 1, 1, 5, 30, WEEKDAY_THURSDAY, 330);
    check_local(kolkata, "2026-07-01T20:00:00Z", 2026, 7, 2, 1, 30, WEEKDAY_THURSDAY, 330);

    /* St. John's: NST -03:30, NDT -02:30 from 2026-03-08 02:00 local. */
    check_local(stjohns, "2026-01-15T12:00:00Z", 2026, 1, 15, 8, 30, WEEKDAY_THURSDAY, -210);
    check_local(stjohns, "2026-03-08T05:29:00Z", 2026, 3, 8, 1, 59, WEEKDAY_SUNDAY, -210);
    check_local(stjohns, "2026-03-08T05:30:00Z", 2026, 3, 8, 3, 0, WEEKDAY_SUNDAY, -150);

    check_local(utc, "2026-06-15T12:34:00Z", 2026, 6, 15, 12, 34, WEEKDAY_MONDAY, 0);
    check_local(utc, "1969-12-31T23:00:00Z", 1969, 12, 31, 23, 0, WEEKDAY_WEDNESDAY, 0);
    check_local(utc, "1970-01-01T00:00:00Z", 1970, 1, 1, 0, 0, WEEKDAY_THURSDAY, 0);
    check_local(utc, "1969-12-20T08:00:00Z", 1969, 12, 20, 8, 0, WEEKDAY_SATURDAY, 0);
    check_local(utc, "1900-01-01T00:00:00Z", 1900, 1, 1, 0, 0, WEEKDAY_MONDAY, 0);

    struct tz_local_time lt;
    tz_local(berlin, T("2026-06-15T10:20:30.456Z"), &lt);
    assert_int_equal(lt.ms_of_minute, 30456);

    tz_table_free(berlin);
    tz_table_free(ny);
    tz_table_free(sydney);
    tz_table_free(kolkata);
    tz_table_free(stjohns);
    tz_table_free(utc);
}

static void check_utc_of_local(const struct tz_table *tz, int64_t y, unsigned mo, unsigned d,
                               unsigned hh, unsigned mm, const char *earlier, const char *later)
{
    assert_instant(tz_utc_of_local(tz, y, mo, d, hh * 60 + mm, TZ_EARLIER), T(earlier));
    assert_instant(tz_utc_of_local(tz, y, mo, d, hh * 60 + mm, TZ_LATER), T(later));
}

static void test_utc_of_local(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"),
                    *sydney = zone("Australia/Sydney"), *kolkata = zone("Asia/Kolkata"),
                    *stjohns = zone("America/St_Johns"), *utc = zone("UTC");
    const char *t;

    /* Ordinary wall times: one instant. */
    t = "2026-03-30T07:00:00Z";
    check_utc_of_local(berlin, 2026, 3, 30, 9, 0, t, t);
    t = "2026-03-27T08:00:00Z";
    check_utc_of_local(berlin, 2026, 3, 27, 9, 0, t, t);
    t = "2026-01-01T03:30:00Z";
    check_utc_of_local(kolkata, 2026, 1, 1, 9, 0, t, t);
    t = "2026-01-15T12:30:00Z";
    check_utc_of_local(stjohns, 2026, 1, 15, 9, 0, t, t);
    t = "2026-06-15T09:00:00Z";
    check_utc_of_local(utc, 2026, 6, 15, 9, 0, t, t);
    t = "2026-03-31T22:00:00Z"; /* midnight as minute 1440 of the day before */
    assert_instant(tz_utc_of_local(berlin, 2026, 3, 31, 1440, TZ_EARLIER), T(t));

    /* Skipped wall times: the end of the gap, whatever the policy. */
    t = "2026-03-29T01:00:00Z";
    check_utc_of_local(berlin, 2026, 3, 29, 2, 0, t, t);
    check_utc_of_local(berlin, 2026, 3, 29, 2, 30, t, t);
    check_utc_of_local(berlin, 2026, 3, 29, 2, 59, t, t);
    t = "2026-03-29T01:00:00Z"; /* 03:00 exists: it is the transition itself */
    check_utc_of_local(berlin, 2026, 3, 29, 3, 0, t, t);
    t = "2026-03-29T00:59:00Z";
    check_utc_of_local(berlin, 2026, 3, 29, 1, 59, t, t);
    t = "2026-03-08T07:00:00Z";
    check_utc_of_local(ny, 2026, 3, 8, 2, 30, t, t);
    t = "2026-10-03T16:00:00Z";
    check_utc_of_local(sydney, 2026, 10, 4, 2, 30, t, t);
    t = "2026-03-08T05:30:00Z";
    check_utc_of_local(stjohns, 2026, 3, 8, 2, 15, t, t);

    /* Repeated wall times: earlier or later as asked. */
    check_utc_of_local(berlin, 2026, 10, 25, 2, 30, "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z");
    check_utc_of_local(berlin, 2026, 10, 25, 2, 0, "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z");
    t = "2026-10-25T02:00:00Z"; /* 03:00 happens once */
    check_utc_of_local(berlin, 2026, 10, 25, 3, 0, t, t);
    check_utc_of_local(ny, 2026, 11, 1, 1, 30, "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z");
    check_utc_of_local(sydney, 2026, 4, 5, 2, 30, "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z");
    check_utc_of_local(stjohns, 2026, 11, 1, 1, 30, "2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z");

    tz_table_free(berlin);
    tz_table_free(ny);
    tz_table_free(sydney);
    tz_table_free(kolkata);
    tz_table_free(stjohns);
    tz_table_free(utc);
}

static const char *const zones[] = {"Europe/Berlin",       "America/New_York", "Australia/Sydney",
                                    "Asia/Kolkata",        "America/St_Johns", "UTC",
                                    "Australia/Lord_Howe", "Pacific/Chatham"};
#define N_ZONES (sizeof(zones) / sizeof(zones[0]))

/* Every quarter hour of 2026, read on the wall clock and converted back, is found again. */
static void test_round_trip(void **state)
{
    (void)state;
    for (size_t z = 0; z < N_ZONES; z++) {
        struct tz_table *tz = zone(zones[z]);
        int ambiguous = 0;
        for (int64_t u = T("2026-01-01T00:00:00Z"); u < T("2027-01-01T00:00:00Z");
             u += 15 * MIN_MS) {
            struct tz_local_time lt;
            tz_local(tz, u, &lt);
            int64_t e =
                tz_utc_of_local(tz, lt.year, lt.month, lt.day, lt.minute_of_day, TZ_EARLIER);
            int64_t l = tz_utc_of_local(tz, lt.year, lt.month, lt.day, lt.minute_of_day, TZ_LATER);
            if (u != e && u != l)
                fail_msg("%s: %lld does not round-trip", zones[z], (long long)u);
            assert_true(e <= l);
            ambiguous += e != l;
        }
        /* One repeated hour a year (half an hour on Lord Howe), or none: each of its
         * quarter hours is met twice. */
        bool dst = strcmp(zones[z], "Asia/Kolkata") != 0 && strcmp(zones[z], "UTC") != 0;
        int expected = !dst ? 0 : strcmp(zones[z], "Australia/Lord_Howe") == 0 ? 4 : 8;
        assert_int_equal(ambiguous, expected);
        tz_table_free(tz);
    }
}

/* ---- working hours ---- */

static void test_office_hours_across_dst(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct tz_table *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"),
                    *sydney = zone("Australia/Sydney"), *kolkata = zone("Asia/Kolkata"),
                    *stjohns = zone("America/St_Johns"), *utc = zone("UTC");
    const enum workhours_reason OUT = WORKHOURS_OUTSIDE_HOURS;

    /* Berlin, Friday before the spring change: 09:00 CET = 08:00 UTC. */
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-27T07:59:59Z"), OUT);
    WORKING(&h, berlin, NULL, NULL, T("2026-03-27T08:00:00Z"));
    WORKING(&h, berlin, NULL, NULL, T("2026-03-27T15:59:59Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-27T16:00:00Z"), OUT);
    /* Saturday and the change itself on Sunday. */
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-28T10:00:00Z"), OUT);
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-29T08:00:00Z"), OUT);
    /* Monday after: 09:00 CEST = 07:00 UTC. */
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-30T06:59:59Z"), OUT);
    WORKING(&h, berlin, NULL, NULL, T("2026-03-30T07:00:00Z"));
    WORKING(&h, berlin, NULL, NULL, T("2026-03-30T14:59:59Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-30T15:00:00Z"), OUT);
    /* Autumn: Friday 2026-10-23 still CEST, Monday 2026-10-26 CET. */
    WORKING(&h, berlin, NULL, NULL, T("2026-10-23T07:00:00Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-10-26T07:00:00Z"), OUT);
    WORKING(&h, berlin, NULL, NULL, T("2026-10-26T08:00:00Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-10-26T16:00:00Z"), OUT);

    /* New York: 09:00 EST = 14:00 UTC, 09:00 EDT = 13:00 UTC. */
    NOT_WORKING(&h, ny, NULL, NULL, T("2026-03-06T13:59:00Z"), OUT);
    WORKING(&h, ny, NULL, NULL, T("2026-03-06T14:00:00Z"));
    WORKING(&h, ny, NULL, NULL, T("2026-03-09T13:00:00Z"));
    NOT_WORKING(&h, ny, NULL, NULL, T("2026-03-09T21:00:00Z"), OUT);
    WORKING(&h, ny, NULL, NULL, T("2026-10-30T20:59:00Z"));
    WORKING(&h, ny, NULL, NULL, T("2026-11-02T21:59:00Z"));
    NOT_WORKING(&h, ny, NULL, NULL, T("2026-11-02T22:00:00Z"), OUT);

    /* Sydney: the working day begins on the previous UTC date. */
    WORKING(&h, sydney, NULL, NULL, T("2026-04-02T22:00:00Z")); /* Fri 09:00 AEDT */
    NOT_WORKING(&h, sydney, NULL, NULL, T("2026-04-02T21:59:00Z"), OUT);
    NOT_WORKING(&h, sydney, NULL, NULL, T("2026-04-05T22:30:00Z"), OUT); /* Mon 08:30 AEST */
    WORKING(&h, sydney, NULL, NULL, T("2026-04-05T23:00:00Z"));          /* Mon 09:00 AEST */
    WORKING(&h, sydney, NULL, NULL, T("2026-10-04T23:00:00Z"));          /* Mon 10:00 AEDT */
    NOT_WORKING(&h, sydney, NULL, NULL, T("2026-10-04T21:59:00Z"), OUT); /* Mon 08:59 AEDT */

    /* Half-hour offsets. */
    NOT_WORKING(&h, kolkata, NULL, NULL, T("2026-06-15T03:29:59Z"), OUT);
    WORKING(&h, kolkata, NULL, NULL, T("2026-06-15T03:30:00Z"));
    NOT_WORKING(&h, kolkata, NULL, NULL, T("2026-06-15T11:30:00Z"), OUT);
    WORKING(&h, stjohns, NULL, NULL, T("2026-01-15T12:30:00Z"));
    NOT_WORKING(&h, stjohns, NULL, NULL, T("2026-01-15T12:29:00Z"), OUT);
    WORKING(&h, stjohns, NULL, NULL, T("2026-06-15T11:30:00Z"));

    WORKING(&h, utc, NULL, NULL, T("2026-06-15T09:00:00Z"));
    NOT_WORKING(&h, utc, NULL, NULL, T("2026-06-13T12:00:00Z"), OUT); /* Saturday */

    tz_table_free(berlin);
    tz_table_free(ny);
    tz_table_free(sydney);
    tz_table_free(kolkata);
    tz_table_free(stjohns);
    tz_table_free(utc);
}

static void test_next_start_weekend(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct tz_table *berlin = zone("Europe/Berlin"), *stjohns = zone("America/St_Johns"),
                    *kolkata = zone("Asia/Kolkata");
    int64_t limit = 14 * DAY_MS;

    /* Friday 17:00 CET -> Monday 09:00 CEST, over the spring change. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-27T16:00:00Z"), limit),
                   T("2026-03-30T07:00:00Z"));
    /* Friday 17:00 CEST -> Monday 09:00 CET, over the autumn change. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-10-23T15:00:00Z"), limit),
                   T("2026-10-26T08:00:00Z"));
    /* Already working: now itself, to the millisecond. */
    int64_t now = T("2026-03-30T07:00:00.001Z");
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, now, limit), now);
    /* Early on a working day: later the same day. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-30T02:00:00Z"), limit),
                   T("2026-03-30T07:00:00Z"));
    /* St. John's, over its spring change: 09:00 NST = 12:30 UTC, 09:00 NDT = 11:30 UTC. */
    assert_instant(workhours_next_start(&h, stjohns, NULL, NULL, T("2026-03-06T21:00:00Z"), limit),
                   T("2026-03-09T11:30:00Z"));
    assert_instant(workhours_next_start(&h, kolkata, NULL, NULL, T("2026-06-12T12:00:00Z"), limit),
                   T("2026-06-15T03:30:00Z"));

    /* Limits: nothing within a day of Friday evening; exactly reachable is found. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-27T16:00:00Z"), DAY_MS),
                   0);
    int64_t from = T("2026-03-27T16:00:00Z"), next = T("2026-03-30T07:00:00Z");
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, from, next - from), next);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, from, next - from - 1), 0);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, from, -1), 0);
    struct weekly_hours none = WEEKLY_HOURS_INIT;
    assert_instant(workhours_next_start(&none, berlin, NULL, NULL, from, limit), 0);
    NOT_WORKING(&none, berlin, NULL, NULL, from, WORKHOURS_OUTSIDE_HOURS);

    tz_table_free(berlin);
    tz_table_free(stjohns);
    tz_table_free(kolkata);
}

static void test_holidays(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct tz_table *berlin = zone("Europe/Berlin"), *sydney = zone("Australia/Sydney");
    /* Good Friday and Easter Monday 2026. */
    static const struct holiday_date easter[] = {{2026, 4, 3}, {2026, 4, 6}, {2026, 12, 25}};
    struct holidays hol = {easter, 3};
    int64_t limit = 14 * DAY_MS;

    NOT_WORKING(&h, berlin, &hol, NULL, T("2026-04-03T10:00:00Z"), WORKHOURS_HOLIDAY);
    NOT_WORKING(&h, berlin, &hol, NULL, T("2026-04-06T10:00:00Z"), WORKHOURS_HOLIDAY);
    /* Whole local days: Saturday is outside hours, not a holiday. */
    NOT_WORKING(&h, berlin, &hol, NULL, T("2026-04-04T10:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    /* Good Friday starts at local midnight, 22:00 UTC on Thursday. */
    NOT_WORKING(&h, berlin, &hol, NULL, T("2026-04-02T22:00:00Z"), WORKHOURS_HOLIDAY);
    NOT_WORKING(&h, berlin, &hol, NULL, T("2026-04-02T21:59:00Z"), WORKHOURS_OUTSIDE_HOURS);
    WORKING(&h, berlin, &hol, NULL, T("2026-04-02T14:59:00Z"));
    /* Thursday 17:00 -> Tuesday 09:00 over a four-day weekend. */
    assert_instant(workhours_next_start(&h, berlin, &hol, NULL, T("2026-04-02T15:00:00Z"), limit),
                   T("2026-04-07T07:00:00Z"));
    assert_instant(workhours_next_start(&h, berlin, &hol, NULL, T("2026-04-06T09:00:00Z"), limit),
                   T("2026-04-07T07:00:00Z"));

    /* Sydney: the local date counts, not the UTC one. Easter Monday 09:00 AEST is
     * 2026-04-05T23:00Z, a Sunday in UTC. */
    NOT_WORKING(&h, sydney, &hol, NULL, T("2026-04-05T23:30:00Z"), WORKHOURS_HOLIDAY);
    assert_instant(workhours_next_start(&h, sydney, &hol, NULL, T("2026-04-05T23:30:00Z"), limit),
                   T("2026-04-06T23:00:00Z"));
    WORKING(&h, sydney, &hol, NULL, T("2026-04-06T23:00:00Z"));

    /* Every working day a holiday: nothing found within the limit. */
    struct holiday_date all[20];
    for (unsigned i = 0; i < 20; i++) {
        int64_t y;
        unsigned m, d;
        time_civil_from_days(time_days_from_civil(2026, 6, 1) + i, &y, &m, &d);
        all[i] = (struct holiday_date){(int32_t)y, (uint8_t)m, (uint8_t)d};
    }
    struct holidays many = {all, 20};
    assert_int_equal(workhours_holidays_check(&many, NULL), BT_OK);
    assert_instant(workhours_next_start(&h, berlin, &many, NULL, T("2026-06-01T00:00:00Z"), limit),
                   0);
    assert_instant(
        workhours_next_start(&h, berlin, &many, NULL, T("2026-06-01T00:00:00Z"), 30 * DAY_MS),
        T("2026-06-22T07:00:00Z"));

    tz_table_free(berlin);
    tz_table_free(sydney);
}

/* Spring forward: wall times in the skipped hour never happen. */
static void test_dst_gap(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York");
    int64_t limit = 14 * DAY_MS;

    /* Sunday 02:30-04:00 in Berlin. On 2026-03-29 02:30 does not exist: the shift
     * starts when the clocks jump, 03:00 CEST = 01:00 UTC, and ends 04:00 CEST. */
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    add(&h, WEEKDAY_SUNDAY, 2 * 60 + 30, 4 * 60);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-28T23:00:00Z"), limit),
                   T("2026-03-29T01:00:00Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-29T00:59:59Z"), WORKHOURS_OUTSIDE_HOURS);
    WORKING(&h, berlin, NULL, NULL, T("2026-03-29T01:00:00Z"));
    WORKING(&h, berlin, NULL, NULL, T("2026-03-29T01:59:59Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-03-29T02:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    /* A week later, summer time: 02:30 CEST = 00:30 UTC. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-29T02:00:00Z"), limit),
                   T("2026-04-05T00:30:00Z"));
    /* The week before, winter time: 02:30 CET = 01:30 UTC. */
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-03-21T00:00:00Z"), limit),
                   T("2026-03-22T01:30:00Z"));

    /* A shift wholly inside the skipped hour does not happen that day. */
    struct weekly_hours gap_only = WEEKLY_HOURS_INIT;
    add(&gap_only, WEEKDAY_SUNDAY, 2 * 60, 3 * 60);
    assert_instant(
        workhours_next_start(&gap_only, ny, NULL, NULL, T("2026-03-08T05:00:00Z"), limit),
        T("2026-03-15T06:00:00Z")); /* next Sunday 02:00 EDT */
    NOT_WORKING(&gap_only, ny, NULL, NULL, T("2026-03-08T07:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    NOT_WORKING(&gap_only, ny, NULL, NULL, T("2026-03-08T06:59:59Z"), WORKHOURS_OUTSIDE_HOURS);

    /* A shift ending in the gap ends when the clocks jump: 01:00-02:30 EST ends 07:00 UTC. */
    struct weekly_hours early = WEEKLY_HOURS_INIT;
    add(&early, WEEKDAY_SUNDAY, 60, 2 * 60 + 30);
    WORKING(&early, ny, NULL, NULL, T("2026-03-08T06:59:59Z"));
    NOT_WORKING(&early, ny, NULL, NULL, T("2026-03-08T07:00:00Z"), WORKHOURS_OUTSIDE_HOURS);

    tz_table_free(berlin);
    tz_table_free(ny);
}

/* Fall back: wall times in the repeated hour happen twice, and are worked twice. */
static void test_repeated_hour(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin"), *sydney = zone("Australia/Sydney");
    int64_t limit = 14 * DAY_MS;

    /* Sunday 02:30-03:00 in Berlin, 2026-10-25: 00:30-01:00 UTC (CEST) and 01:30-02:00 UTC (CET).
     */
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    add(&h, WEEKDAY_SUNDAY, 2 * 60 + 30, 3 * 60);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-10-24T22:00:00Z"), limit),
                   T("2026-10-25T00:30:00Z"));
    WORKING(&h, berlin, NULL, NULL, T("2026-10-25T00:45:00Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-10-25T01:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-10-25T01:00:00Z"), limit),
                   T("2026-10-25T01:30:00Z"));
    WORKING(&h, berlin, NULL, NULL, T("2026-10-25T01:59:59Z"));
    NOT_WORKING(&h, berlin, NULL, NULL, T("2026-10-25T02:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    assert_instant(workhours_next_start(&h, berlin, NULL, NULL, T("2026-10-25T02:00:00Z"), limit),
                   T("2026-11-01T01:30:00Z")); /* next Sunday 02:30 CET */

    /* Sunday 01:00-02:30: out at 03:00 CEST, back in when the clocks return to 02:00. */
    struct weekly_hours back = WEEKLY_HOURS_INIT;
    add(&back, WEEKDAY_SUNDAY, 60, 2 * 60 + 30);
    NOT_WORKING(&back, berlin, NULL, NULL, T("2026-10-25T00:30:00Z"), WORKHOURS_OUTSIDE_HOURS);
    assert_instant(
        workhours_next_start(&back, berlin, NULL, NULL, T("2026-10-25T00:30:00Z"), limit),
        T("2026-10-25T01:00:00Z"));
    WORKING(&back, berlin, NULL, NULL, T("2026-10-25T01:29:59Z"));
    NOT_WORKING(&back, berlin, NULL, NULL, T("2026-10-25T01:30:00Z"), WORKHOURS_OUTSIDE_HOURS);

    /* Sydney, April: 02:00-03:00 local on 2026-04-05 happens at +11 and at +10. */
    struct weekly_hours syd = WEEKLY_HOURS_INIT;
    add(&syd, WEEKDAY_SUNDAY, 2 * 60 + 15, 2 * 60 + 45);
    assert_instant(workhours_next_start(&syd, sydney, NULL, NULL, T("2026-04-04T13:00:00Z"), limit),
                   T("2026-04-04T15:15:00Z"));
    assert_instant(workhours_next_start(&syd, sydney, NULL, NULL, T("2026-04-04T15:45:00Z"), limit),
                   T("2026-04-04T16:15:00Z"));

    tz_table_free(berlin);
    tz_table_free(sydney);
}

static void test_time_off(void **state)
{
    (void)state;
    struct weekly_hours h = office(9 * 60, 17 * 60);
    struct tz_table *berlin = zone("Europe/Berlin");
    int64_t limit = 14 * DAY_MS;

    /* Monday 11:00 CEST to Tuesday 12:00 CEST. */
    struct time_off_span spans[] = {{T("2026-06-15T09:00:00Z"), T("2026-06-16T10:00:00Z")}};
    struct time_off off = {spans, 1};
    WORKING(&h, berlin, NULL, &off, T("2026-06-15T08:59:59Z"));
    NOT_WORKING(&h, berlin, NULL, &off, T("2026-06-15T09:00:00Z"), WORKHOURS_TIME_OFF);
    NOT_WORKING(&h, berlin, NULL, &off, T("2026-06-16T09:59:59Z"), WORKHOURS_TIME_OFF);
    WORKING(&h, berlin, NULL, &off, T("2026-06-16T10:00:00Z"));
    /* Back mid-shift. */
    assert_instant(workhours_next_start(&h, berlin, NULL, &off, T("2026-06-15T09:00:00Z"), limit),
                   T("2026-06-16T10:00:00Z"));
    /* Time off outside hours still reports time off, not hours. */
    NOT_WORKING(&h, berlin, NULL, &off, T("2026-06-15T20:00:00Z"), WORKHOURS_TIME_OFF);

    /* Overlapping and unsorted spans chain. */
    struct time_off_span chain[] = {{T("2026-06-16T09:30:00Z"), T("2026-06-16T12:00:00Z")},
                                    {T("2026-06-15T09:00:00Z"), T("2026-06-16T10:00:00Z")},
                                    {T("2026-06-20T00:00:00Z"), T("2026-06-19T00:00:00Z")}};
    struct time_off off2 = {chain, 3};
    assert_instant(workhours_next_start(&h, berlin, NULL, &off2, T("2026-06-15T09:00:00Z"), limit),
                   T("2026-06-16T12:00:00Z"));
    /* An empty span is ignored. */
    WORKING(&h, berlin, NULL, &off2, T("2026-06-19T10:00:00Z"));

    /* Time off that swallows the rest of a shift: the next shift. */
    struct time_off_span rest[] = {{T("2026-06-15T12:00:00Z"), T("2026-06-15T20:00:00Z")}};
    struct time_off off3 = {rest, 1};
    assert_instant(workhours_next_start(&h, berlin, NULL, &off3, T("2026-06-15T12:00:00Z"), limit),
                   T("2026-06-16T07:00:00Z"));
    /* Time off that starts before the next shift and covers its start. */
    struct time_off_span morning[] = {{T("2026-06-16T05:00:00Z"), T("2026-06-16T08:15:00Z")}};
    struct time_off off4 = {morning, 1};
    assert_instant(workhours_next_start(&h, berlin, NULL, &off4, T("2026-06-15T16:00:00Z"), limit),
                   T("2026-06-16T08:15:00Z"));

    /* Time off is reported before a holiday. */
    static const struct holiday_date day[] = {{2026, 6, 15}};
    struct holidays hol = {day, 1};
    NOT_WORKING(&h, berlin, &hol, &off, T("2026-06-15T10:00:00Z"), WORKHOURS_TIME_OFF);
    NOT_WORKING(&h, berlin, &hol, &off, T("2026-06-15T08:00:00Z"), WORKHOURS_HOLIDAY);

    /* Two weeks off: nothing within a 14-day search from its start. */
    struct time_off_span leave[] = {{T("2026-07-01T00:00:00Z"), T("2026-07-20T00:00:00Z")}};
    struct time_off off5 = {leave, 1};
    assert_instant(workhours_next_start(&h, berlin, NULL, &off5, T("2026-07-01T00:00:00Z"), limit),
                   0);
    assert_instant(
        workhours_next_start(&h, berlin, NULL, &off5, T("2026-07-01T00:00:00Z"), 30 * DAY_MS),
        T("2026-07-20T07:00:00Z"));

    tz_table_free(berlin);
}

static void test_intervals(void **state)
{
    (void)state;
    struct tz_table *ny = zone("America/New_York");
    struct bt_error e = BT_ERROR_INIT;

    /* Overnight Monday 22:00 - Tuesday 06:00 and Sunday 23:00 - Monday 01:00 wrap. */
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    add(&h, WEEKDAY_MONDAY, 22 * 60, 6 * 60);
    add(&h, WEEKDAY_SUNDAY, 23 * 60, 60);
    assert_int_equal(h.count[WEEKDAY_MONDAY], 2);
    assert_int_equal(h.intervals[WEEKDAY_MONDAY][0].start_minute, 0);
    assert_int_equal(h.intervals[WEEKDAY_MONDAY][0].end_minute, 60);
    assert_int_equal(h.intervals[WEEKDAY_MONDAY][1].start_minute, 22 * 60);
    assert_int_equal(h.intervals[WEEKDAY_MONDAY][1].end_minute, 1440);
    assert_int_equal(h.count[WEEKDAY_TUESDAY], 1);
    assert_int_equal(h.intervals[WEEKDAY_TUESDAY][0].end_minute, 6 * 60);
    assert_int_equal(workhours_check(&h, &e), BT_OK);
    WORKING(&h, ny, NULL, NULL, T("2026-03-03T03:00:00Z")); /* Mon 22:00 EST */
    WORKING(&h, ny, NULL, NULL, T("2026-03-03T05:00:00Z")); /* Tue 00:00 EST */
    WORKING(&h, ny, NULL, NULL, T("2026-03-03T10:59:00Z")); /* Tue 05:59 EST */
    NOT_WORKING(&h, ny, NULL, NULL, T("2026-03-03T11:00:00Z"), WORKHOURS_OUTSIDE_HOURS);
    assert_instant(workhours_next_start(&h, ny, NULL, NULL, T("2026-03-03T11:00:00Z"), 14 * DAY_MS),
                   T("2026-03-09T03:00:00Z")); /* Sun 23:00 EDT */

    /* "until midnight" as end 0 or 1440. */
    struct weekly_hours m = WEEKLY_HOURS_INIT;
    add(&m, WEEKDAY_FRIDAY, 20 * 60, 0);
    assert_int_equal(m.count[WEEKDAY_SATURDAY], 0);
    assert_int_equal(m.intervals[WEEKDAY_FRIDAY][0].end_minute, 1440);

    /* Errors leave the schedule unchanged. */
    struct weekly_hours before = h;
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 0, 30, &e), BT_EINVAL);
    assert_string_equal(e.field, "hours");
    assert_non_null(strstr(e.message, "overlaps"));
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 23 * 60, 30, &e), BT_EINVAL);
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 600, 600, &e), BT_EINVAL);
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 600, 1441, &e), BT_EINVAL);
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 1440, 100, &e), BT_EINVAL);
    assert_int_equal(workhours_add_interval(&h, (enum weekday)7, 60, 120, &e), BT_EINVAL);
    assert_memory_equal(&h, &before, sizeof(h));
    /* Four intervals at most; adjacent intervals are fine. */
    add(&h, WEEKDAY_MONDAY, 60, 120);
    add(&h, WEEKDAY_MONDAY, 120, 180);
    assert_int_equal(workhours_add_interval(&h, WEEKDAY_MONDAY, 300, 360, &e), BT_EINVAL);
    assert_non_null(strstr(e.message, "more than 4"));
    assert_int_equal(h.count[WEEKDAY_MONDAY], 4);
    for (unsigned k = 1; k < 4; k++)
        assert_true(h.intervals[WEEKDAY_MONDAY][k - 1].end_minute <=
                    h.intervals[WEEKDAY_MONDAY][k].start_minute);

    /* workhours_check on hand-built schedules. */
    struct weekly_hours bad = WEEKLY_HOURS_INIT;
    bad.count[WEEKDAY_WEDNESDAY] = 2;
    bad.intervals[WEEKDAY_WEDNESDAY][0] = (struct workhours_interval){600, 700};
    bad.intervals[WEEKDAY_WEDNESDAY][1] = (struct workhours_interval){650, 800};
    assert_int_equal(workhours_check(&bad, &e), BT_EINVAL);
    bad.intervals[WEEKDAY_WEDNESDAY][1] = (struct workhours_interval){900, 1500};
    assert_int_equal(workhours_check(&bad, &e), BT_EINVAL);
    bad.intervals[WEEKDAY_WEDNESDAY][1] = (struct workhours_interval){900, 1000};
    assert_int_equal(workhours_check(&bad, &e), BT_OK);

    /* Holiday lists. */
    static const struct holiday_date unsorted[] = {{2026, 5, 1}, {2026, 4, 3}};
    static const struct holiday_date twice[] = {{2026, 5, 1}, {2026, 5, 1}};
    static const struct holiday_date feb30[] = {{2026, 2, 30}};
    static const struct holiday_date leap[] = {{2028, 2, 29}};
    struct holidays hl = {unsorted, 2};
    assert_int_equal(workhours_holidays_check(&hl, &e), BT_EINVAL);
    assert_string_equal(e.field, "holidays");
    hl = (struct holidays){twice, 2};
    assert_int_equal(workhours_holidays_check(&hl, &e), BT_EINVAL);
    hl = (struct holidays){feb30, 1};
    assert_int_equal(workhours_holidays_check(&hl, &e), BT_EINVAL);
    hl = (struct holidays){leap, 1};
    assert_int_equal(workhours_holidays_check(&hl, &e), BT_OK);

    assert_string_equal(workhours_reason_name(WORKHOURS_WORKING), "working");
    assert_string_equal(workhours_reason_name(WORKHOURS_TIME_OFF), "time_off");
    assert_string_equal(workhours_reason_name(WORKHOURS_HOLIDAY), "holiday");
    assert_string_equal(workhours_reason_name(WORKHOURS_OUTSIDE_HOURS), "outside_hours");

    tz_table_free(ny);
}

/*
 * next_start against the definition: scan every minute (all transitions,
 * interval bounds and time-off bounds here fall on whole minutes) for the
 * first at which is_working holds. Schedules put interval bounds inside the
 * skipped and repeated hours; start instants walk through the weeks around
 * both changes of 2026 in steps of 97 minutes.
 */
static int64_t scan_next_start(const struct weekly_hours *h, const struct tz_table *tz,
                               const struct holidays *hol, const struct time_off *off, int64_t now,
                               int64_t limit)
{
    if (workhours_is_working(h, tz, hol, off, now, NULL))
        return now;
    int64_t t = (now / MIN_MS + 1) * MIN_MS;
    for (; t <= now + limit; t += MIN_MS)
        if (workhours_is_working(h, tz, hol, off, t, NULL))
            return t;
    return 0;
}

static void test_next_start_matches_scan(void **state)
{
    (void)state;
    struct weekly_hours sched[3] = {WEEKLY_HOURS_INIT, WEEKLY_HOURS_INIT, WEEKLY_HOURS_INIT};
    for (int d = WEEKDAY_MONDAY; d <= WEEKDAY_FRIDAY; d++)
        add(&sched[0], (enum weekday)d, 8 * 60 + 30, 12 * 60);
    add(&sched[0], WEEKDAY_SUNDAY, 2 * 60 + 10, 2 * 60 + 40);
    add(&sched[0], WEEKDAY_SUNDAY, 3 * 60 + 30, 4 * 60);
    add(&sched[1], WEEKDAY_SATURDAY, 23 * 60, 2 * 60 + 30);
    add(&sched[1], WEEKDAY_WEDNESDAY, 13 * 60, 13 * 60 + 1);
    add(&sched[2], WEEKDAY_SUNDAY, 60 + 45, 2 * 60 + 15);
    add(&sched[2], WEEKDAY_SUNDAY, 0, 30);
    add(&sched[2], WEEKDAY_THURSDAY, 17 * 60, 19 * 60);

    static const struct holiday_date hd[] = {{2026, 3, 9}, {2026, 4, 1}, {2026, 10, 29}};
    struct holidays hol = {hd, 3};
    struct time_off_span spans[] = {{T("2026-03-26T09:00:00Z"), T("2026-03-30T07:13:00Z")},
                                    {T("2026-10-31T10:07:00Z"), T("2026-11-01T06:31:00Z")}};
    struct time_off off = {spans, 2};
    static const char *const windows[] = {"2026-02-26T00:00:00Z", "2026-03-24T00:00:00Z",
                                          "2026-03-31T00:00:00Z", "2026-10-01T00:00:00Z",
                                          "2026-10-22T00:00:00Z", "2026-10-29T00:00:00Z"};
    const int64_t limit = 6 * DAY_MS;
    long checks = 0;
    for (size_t z = 0; z < N_ZONES; z++) {
        struct tz_table *tz = zone(zones[z]);
        for (size_t s = 0; s < 3; s++) {
            for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
                int64_t from = T(windows[w]);
                for (int64_t now = from; now < from + 10 * DAY_MS; now += 97 * MIN_MS + 7) {
                    const struct holidays *hp = (s == 1) ? NULL : &hol;
                    const struct time_off *op = (s == 2) ? NULL : &off;
                    int64_t got = workhours_next_start(&sched[s], tz, hp, op, now, limit);
                    int64_t want = scan_next_start(&sched[s], tz, hp, op, now, limit);
                    if (got != want) {
                        char a[RFC3339_MAX], b[RFC3339_MAX], n[RFC3339_MAX];
                        time_format_rfc3339(got, a);
                        time_format_rfc3339(want, b);
                        time_format_rfc3339(now, n);
                        fail_msg("%s schedule %zu from %s: got %s, scan says %s", zones[z], s, n, a,
                                 b);
                    }
                    checks++;
                }
            }
        }
        tz_table_free(tz);
    }
    assert_true(checks > 1000);
}

/* ---- threads ---- */

#define THREAD_STEPS 20000

struct thread_job {
    const struct tz_table *tz;
    const struct weekly_hours *hours;
    uint64_t digest;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    uint64_t h = 1469598103934665603ULL;
    int64_t start = T("2025-12-01T00:00:00Z");
    for (int64_t i = 0; i < THREAD_STEPS; i++) {
        int64_t u = start + i * 23 * MIN_MS; /* about 320 days, both DST changes */
        struct tz_local_time lt;
        tz_local(job->tz, u, &lt);
        int64_t next = workhours_next_start(job->hours, job->tz, NULL, NULL, u, 14 * DAY_MS);
        uint64_t v[] = {(uint64_t)lt.year, lt.month,         lt.day,
                        lt.weekday,        lt.minute_of_day, (uint64_t)(int64_t)lt.offset_ms,
                        (uint64_t)next};
        for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
            h = (h ^ v[k]) * 1099511628211ULL;
    }
    job->digest = h;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin");
    struct weekly_hours h = office(9 * 60, 17 * 60);

    struct thread_job alone = {berlin, &h, 0};
    thread_main(&alone);

    struct thread_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){berlin, &h, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_true(jobs[i].digest == alone.digest);
    }
    tz_table_free(berlin);
}

/* Tables may also be built concurrently (configuration reloads on other threads). */
static void *build_main(void *arg)
{
    struct tz_table *t = NULL;
    if (tz_table_new((const char *)arg, &t, NULL) != BT_OK)
        return NULL;
    return t;
}

static void test_threads_build(void **state)
{
    (void)state;
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, build_main, (void *)zones[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(threads[i], &ret), 0);
        struct tz_table *t = ret, *ref = zone(zones[i]);
        assert_non_null(t);
        assert_int_equal(t->count, ref->count);
        for (size_t k = 0; k < t->count; k++) {
            assert_true(t->transits[k].utc_ms_from == ref->transits[k].utc_ms_from);
            assert_int_equal(t->transits[k].offset_ms, ref->transits[k].offset_ms);
        }
        tz_table_free(t);
        tz_table_free(ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_zones),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_utc_of_local),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_office_hours_across_dst),
        cmocka_unit_test(test_next_start_weekend),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_dst_gap),
        cmocka_unit_test(test_repeated_hour),
        cmocka_unit_test(test_time_off),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_next_start_matches_scan),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
