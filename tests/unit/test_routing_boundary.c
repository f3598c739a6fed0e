/*
 * test_routing_boundary.c - core/routing: routing_next_boundary(), the next
 * instant at which time alone may make a held lead placeable.
 *
 * Hand cases first (written out from the 2026 rules: Berlin springs forward
 * on 2026-03-29 at 01:00 UTC and falls back on 2026-10-25 at 01:00 UTC; New
 * York on 2026-03-08 at 07:00 UTC and 2026-11-01 at 06:00 UTC), then a brute
 * force: for reps in several zones, at instants spread over 2026 and packed
 * around every change of offset, the boundary must equal the first whole
 * minute after `now` at which some rep's wall clock reaches one of its
 * interval starts (reads it, or jumps over it when the clocks go forward),
 * or reaches a local midnight when the rep has holidays or caps. The walk
 * uses tz_local() alone, one minute at a time, so it shares no shortcut with
 * the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/routing.h"
#include "core/workhours.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <stdio.h>
#include <string.h>

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- time and zones ------------------------------------------------------------------------ */

static struct tz_table *berlin, *new_york, *kolkata, *lord_howe, *santiago, *utc;

static int zones_setup(void **unused)
{
    (void)unused;
    berlin = zone("Europe/Berlin");
    new_york = zone("America/New_York");
    kolkata = zone("Asia/Kolkata");
    lord_howe = zone("Australia/Lord_Howe");
    santiago = zone("America/Santiago");
    utc = zone("UTC");
    return 0;
}

static int zones_teardown(void **unused)
{
    (void)unused;
    tz_table_free(berlin);
    tz_table_free(new_york);
    tz_table_free(kolkata);
    tz_table_free(lord_howe);
    tz_table_free(santiago);
    tz_table_free(utc);
    return 0;
}

/* ---- reps ---------------------------------------------------------------------------------- */

static void add_hours(struct routing_rep *r, int first_day, int last_day, unsigned start,
                      unsigned end)
{
    r->has_hours = true;
    for (int d = first_day; d <= last_day; d++) {
        struct bt_error e = BT_ERROR_INIT;
        if (workhours_add_interval(&r->hours, (enum weekday)d, start, end, &e) != BT_OK)
            fail_msg("add_interval: %s", e.message);
    }
}

#define HM(h, m) ((unsigned)((h)*60 + (m)))

/* An active rep with no limits, working around the clock: no boundary of its own. */
static struct routing_rep plain_rep(const char *id, const struct tz_table *tz)
{
    return (struct routing_rep){.id = id,
                                .active = true,
                                .tz = tz,
                                .has_hours = false,
                                .hours = WEEKLY_HOURS_INIT,
                                .weight = 1,
                                .capacity = ROUTING_UNLIMITED,
                                .daily_cap = ROUTING_UNLIMITED,
                                .weekly_cap = ROUTING_UNLIMITED};
}

/* Monday to Friday 09:00-17:00 on its own wall clock. */
static struct routing_rep office_rep(const char *id, const struct tz_table *tz)
{
    struct routing_rep r = plain_rep(id, tz);
    add_hours(&r, WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(9, 0), HM(17, 0));
    return r;
}

static int64_t boundary_of(const struct routing_rep *reps, size_t n, int64_t now)
{
    struct routing_config cfg = {.reps = reps, .n_reps = n};
    return routing_next_boundary(&cfg, now);
}

static int64_t boundary1(const struct routing_rep *rep, const char *now)
{
    return boundary_of(rep, 1, T(now));
}

/* ---- hand cases ----------------------------------------------------------------------------- */

static void test_nothing_to_wait_for(void **unused)
{
    (void)unused;
    assert_int_equal(boundary_of(NULL, 0, T("2026-06-10T12:00:00Z")), 0);

    /* Around the clock, no holidays, no caps (capacity is runtime state). */
    struct routing_rep reps[3] = {plain_rep("a", berlin), plain_rep("b", kolkata),
                                  plain_rep("c", utc)};
    reps[1].capacity = 3;
    assert_int_equal(boundary_of(reps, 3, T("2026-06-10T12:00:00Z")), 0);

    /* Hours filled in but not in force: still around the clock. */
    add_hours(&reps[0], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(9, 0), HM(17, 0));
    reps[0].has_hours = false;
    assert_int_equal(boundary_of(reps, 3, T("2026-06-10T12:00:00Z")), 0);

    /* Hours in force but no interval on any day: nothing starts. */
    struct routing_rep empty = plain_rep("e", berlin);
    empty.has_hours = true;
    assert_int_equal(boundary_of(&empty, 1, T("2026-06-10T12:00:00Z")), 0);

    /* Inactive reps count for nothing, whatever they have. */
    static const struct holiday_date dates[] = {{2026, 6, 11}};
    struct routing_rep off = office_rep("off", berlin);
    off.active = false;
    off.daily_cap = 2;
    off.weekly_cap = 5;
    off.holidays = (struct holidays){dates, 1};
    assert_int_equal(boundary_of(&off, 1, T("2026-06-10T12:00:00Z")), 0);
}

static void test_next_start_of_hours(void **unused)
{
    (void)unused;
    struct routing_rep r = office_rep("ana", berlin); /* 09:00 CEST is 07:00 UTC */
    /* Wednesday 2026-06-10 */
    assert_instant(boundary1(&r, "2026-06-10T05:00:00Z"), T("2026-06-10T07:00:00Z"));
    assert_instant(boundary1(&r, "2026-06-10T06:59:59.999Z"), T("2026-06-10T07:00:00Z"));
    /* Strictly after now: at the start itself, the next one is tomorrow's. */
    assert_instant(boundary1(&r, "2026-06-10T07:00:00Z"), T("2026-06-11T07:00:00Z"));
    assert_instant(boundary1(&r, "2026-06-10T12:00:00Z"), T("2026-06-11T07:00:00Z"));
    /* Friday afternoon, Saturday, Sunday: Monday. */
    assert_instant(boundary1(&r, "2026-06-12T08:00:00Z"), T("2026-06-15T07:00:00Z"));
    assert_instant(boundary1(&r, "2026-06-13T10:00:00Z"), T("2026-06-15T07:00:00Z"));
    assert_instant(boundary1(&r, "2026-06-14T23:59:00Z"), T("2026-06-15T07:00:00Z"));

    /* Split shifts: the afternoon start is a boundary too. */
    struct routing_rep s = plain_rep("ben", new_york); /* EDT: UTC-4 */
    add_hours(&s, WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(8, 0), HM(12, 0));
    add_hours(&s, WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(13, 30), HM(17, 0));
    assert_instant(boundary1(&s, "2026-06-10T12:30:00Z"), T("2026-06-10T17:30:00Z"));
    assert_instant(boundary1(&s, "2026-06-10T17:30:00Z"), T("2026-06-11T12:00:00Z"));

    /* One interval a week: found a week ahead. */
    struct routing_rep w = plain_rep("wed", kolkata); /* +05:30 */
    add_hours(&w, WEEKDAY_WEDNESDAY, WEEKDAY_WEDNESDAY, HM(10, 0), HM(11, 0));
    assert_instant(boundary1(&w, "2026-06-10T04:30:00Z"), T("2026-06-17T04:30:00Z"));
    assert_instant(boundary1(&w, "2026-06-10T04:29:00Z"), T("2026-06-10T04:30:00Z"));

    /* An overnight shift starts once, in the evening; its after-midnight half
     * is an interval from 00:00 too. */
    struct routing_rep n = plain_rep("night", utc);
    add_hours(&n, WEEKDAY_MONDAY, WEEKDAY_MONDAY, HM(22, 0), HM(6, 0));
    assert_instant(boundary1(&n, "2026-06-08T12:00:00Z"), T("2026-06-08T22:00:00Z"));
    assert_instant(boundary1(&n, "2026-06-08T22:00:00Z"), T("2026-06-09T00:00:00Z"));
    assert_instant(boundary1(&n, "2026-06-09T00:00:00Z"), T("2026-06-15T22:00:00Z"));
}

static void test_earliest_of_all_reps(void **unused)
{
    (void)unused;
    struct routing_rep reps[3] = {office_rep("ber", berlin), office_rep("nyc", new_york),
                                  office_rep("kol", kolkata)};
    /* Wednesday 2026-06-10: Kolkata 03:30 UTC, Berlin 07:00, New York 13:00. */
    assert_instant(boundary_of(reps, 3, T("2026-06-10T00:00:00Z")), T("2026-06-10T03:30:00Z"));
    assert_instant(boundary_of(reps, 3, T("2026-06-10T03:30:00Z")), T("2026-06-10T07:00:00Z"));
    assert_instant(boundary_of(reps, 3, T("2026-06-10T07:00:00Z")), T("2026-06-10T13:00:00Z"));
    assert_instant(boundary_of(reps, 3, T("2026-06-10T13:00:00Z")), T("2026-06-11T03:30:00Z"));
    /* An inactive rep's earlier start is not a boundary. */
    reps[0].active = false;
    assert_instant(boundary_of(reps, 3, T("2026-06-10T03:30:00Z")), T("2026-06-10T13:00:00Z"));
    reps[0].active = true;
    reps[2].active = false;
    assert_instant(boundary_of(reps, 3, T("2026-06-10T00:00:00Z")), T("2026-06-10T07:00:00Z"));
    /* Order in the configuration does not matter. */
    struct routing_rep rev[3] = {reps[2], reps[1], reps[0]};
    assert_instant(boundary_of(rev, 3, T("2026-06-10T00:00:00Z")), T("2026-06-10T07:00:00Z"));
}

static void test_midnight_for_holidays_and_caps(void **unused)
{
    (void)unused;
    /* A daily cap resets at local midnight: Kolkata's is 18:30 UTC. */
    struct routing_rep d = plain_rep("daily", kolkata);
    d.daily_cap = 10;
    assert_instant(boundary1(&d, "2026-06-10T12:00:00Z"), T("2026-06-10T18:30:00Z"));
    assert_instant(boundary1(&d, "2026-06-10T18:30:00Z"), T("2026-06-11T18:30:00Z"));
    /* A cap of 0 is a cap. */
    d.daily_cap = 0;
    assert_instant(boundary1(&d, "2026-06-10T12:00:00Z"), T("2026-06-10T18:30:00Z"));

    /* A weekly cap: the next midnight (Monday's is one of them). */
    struct routing_rep w = plain_rep("weekly", utc);
    w.weekly_cap = 50;
    assert_instant(boundary1(&w, "2026-06-14T15:00:00Z"), T("2026-06-15T00:00:00Z"));
    assert_instant(boundary1(&w, "2026-06-10T15:00:00Z"), T("2026-06-11T00:00:00Z"));

    /* Holidays: midnight in the rep's zone, every day (the list is not searched). */
    static const struct holiday_date dates[] = {{2026, 12, 24}};
    struct routing_rep h = plain_rep("holiday", new_york);
    h.holidays = (struct holidays){dates, 1};
    assert_instant(boundary1(&h, "2026-06-10T15:00:00Z"), T("2026-06-11T04:00:00Z"));
    assert_instant(boundary1(&h, "2026-12-24T15:00:00Z"), T("2026-12-25T05:00:00Z"));

    /* With hours too: whichever comes first. */
    struct routing_rep o = office_rep("office", berlin);
    o.daily_cap = 5;
    assert_instant(boundary1(&o, "2026-06-10T12:00:00Z"), T("2026-06-10T22:00:00Z"));
    assert_instant(boundary1(&o, "2026-06-10T22:00:00Z"), T("2026-06-11T07:00:00Z"));
    /* Friday evening: Saturday's midnight, long before Monday's start. */
    assert_instant(boundary1(&o, "2026-06-12T20:00:00Z"), T("2026-06-12T22:00:00Z"));
}

static void test_dst_berlin(void **unused)
{
    (void)unused;
    /* 09:00 is 08:00 UTC in winter, 07:00 in summer. */
    struct routing_rep r = office_rep("ana", berlin);
    assert_instant(boundary1(&r, "2026-03-27T12:00:00Z"), T("2026-03-30T07:00:00Z"));
    assert_instant(boundary1(&r, "2026-10-23T12:00:00Z"), T("2026-10-26T08:00:00Z"));

    /* A start inside the skipped hour starts when the clocks jump (01:00 UTC). */
    struct routing_rep s = plain_rep("sunday", berlin);
    add_hours(&s, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 30), HM(4, 0));
    assert_instant(boundary1(&s, "2026-03-28T12:00:00Z"), T("2026-03-29T01:00:00Z"));
    assert_instant(boundary1(&s, "2026-03-29T00:59:59Z"), T("2026-03-29T01:00:00Z"));
    assert_instant(boundary1(&s, "2026-03-29T01:00:00Z"), T("2026-04-05T00:30:00Z"));
    /* The Sunday before, the start is an ordinary 01:30 UTC. */
    assert_instant(boundary1(&s, "2026-03-21T12:00:00Z"), T("2026-03-22T01:30:00Z"));

    /* Midnights around the changes: 23:00 UTC in winter, 22:00 in summer. */
    struct routing_rep c = plain_rep("capped", berlin);
    c.daily_cap = 3;
    assert_instant(boundary1(&c, "2026-03-28T23:30:00Z"), T("2026-03-29T22:00:00Z"));
    assert_instant(boundary1(&c, "2026-03-28T22:30:00Z"), T("2026-03-28T23:00:00Z"));
    assert_instant(boundary1(&c, "2026-10-24T22:30:00Z"), T("2026-10-25T23:00:00Z"));
    assert_instant(boundary1(&c, "2026-10-25T01:30:00Z"), T("2026-10-25T23:00:00Z"));
}

static void test_dst_new_york(void **unused)
{
    (void)unused;
    struct routing_rep r = office_rep("ben", new_york); /* 09:00 EST 14:00 UTC, EDT 13:00 */
    assert_instant(boundary1(&r, "2026-03-06T20:00:00Z"), T("2026-03-09T13:00:00Z"));
    assert_instant(boundary1(&r, "2026-10-30T20:00:00Z"), T("2026-11-02T14:00:00Z"));

    /* 02:15 on 2026-03-08 does not exist: the clocks jump at 07:00 UTC. */
    struct routing_rep s = plain_rep("sunday", new_york);
    add_hours(&s, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 15), HM(3, 30));
    assert_instant(boundary1(&s, "2026-03-08T06:00:00Z"), T("2026-03-08T07:00:00Z"));
    assert_instant(boundary1(&s, "2026-03-08T07:00:00Z"), T("2026-03-15T06:15:00Z"));
    /* 03:00 exists: it is the jump itself. */
    struct routing_rep t = plain_rep("three", new_york);
    add_hours(&t, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(3, 0), HM(4, 0));
    assert_instant(boundary1(&t, "2026-03-08T06:59:00Z"), T("2026-03-08T07:00:00Z"));

    /* Midnight after the fall-back day: 05:00 UTC (EST), the one before 04:00 (EDT). */
    struct routing_rep c = plain_rep("capped", new_york);
    c.weekly_cap = 3;
    assert_instant(boundary1(&c, "2026-11-01T12:00:00Z"), T("2026-11-02T05:00:00Z"));
    assert_instant(boundary1(&c, "2026-10-31T12:00:00Z"), T("2026-11-01T04:00:00Z"));
}

/* Santiago's clocks skip local midnight in September (00:00 -> 01:00): the
 * day starts at the jump. */
static void test_skipped_midnight(void **unused)
{
    (void)unused;
    struct routing_rep c = plain_rep("capped", santiago);
    c.daily_cap = 4;
    /* 2026-09-05 23:30 -04 is 2026-09-06T03:30Z; the clocks jump at 04:00Z to 01:00 -03. */
    assert_instant(boundary1(&c, "2026-09-06T03:30:00Z"), T("2026-09-06T04:00:00Z"));
    assert_instant(boundary1(&c, "2026-09-06T04:00:00Z"), T("2026-09-07T03:00:00Z"));
}

/*
 * On the fall-back day the wall clock reads the repeated hour twice; an
 * interval that starts in it starts twice, and between the two the rep is
 * not working (workhours.h: "worked twice, once at each offset"). The second
 * start is a boundary: without it a lead held for this rep waits for some
 * later boundary (in the daemon, the next hold sweep).
 */
static void test_start_in_repeated_hour(void **unused)
{
    (void)unused;
    /* Berlin, Sunday 2026-10-25: 02:15 CEST is 00:15 UTC, 02:15 CET is 01:15 UTC. */
    struct routing_rep b = plain_rep("ber", berlin);
    add_hours(&b, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 15), HM(2, 45));
    assert_instant(boundary1(&b, "2026-10-24T23:00:00Z"), T("2026-10-25T00:15:00Z"));
    int64_t between = T("2026-10-25T00:50:00Z"), second = T("2026-10-25T01:15:00Z");
    assert_false(workhours_is_working(&b.hours, berlin, NULL, NULL, between, NULL));
    assert_false(workhours_is_working(&b.hours, berlin, NULL, NULL, second - 1, NULL));
    assert_true(workhours_is_working(&b.hours, berlin, NULL, NULL, second, NULL));
    assert_instant(boundary1(&b, "2026-10-25T00:50:00Z"), second);
    assert_instant(boundary1(&b, "2026-10-25T00:15:00Z"), second);

    /* New York, Sunday 2026-11-01: 01:30 EDT is 05:30 UTC, 01:30 EST is 06:30 UTC. */
    struct routing_rep n = plain_rep("nyc", new_york);
    add_hours(&n, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(1, 30), HM(1, 45));
    assert_instant(boundary1(&n, "2026-11-01T05:00:00Z"), T("2026-11-01T05:30:00Z"));
    assert_true(
        workhours_is_working(&n.hours, new_york, NULL, NULL, T("2026-11-01T06:30:00Z"), NULL));
    assert_instant(boundary1(&n, "2026-11-01T06:00:00Z"), T("2026-11-01T06:30:00Z"));
}

/* The clocks go back into an interval: no interval starts, yet the rep
 * works again from the change itself (Berlin, 2026-10-25 00:00-02:30: at
 * 03:00 CEST the wall clock reads 02:00 CET, inside the interval again). */
static void test_clocks_back_into_an_interval(void **unused)
{
    (void)unused;
    struct routing_rep b = plain_rep("ber", berlin);
    add_hours(&b, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(0, 0), HM(2, 30));
    int64_t change = T("2026-10-25T01:00:00Z");
    assert_false(
        workhours_is_working(&b.hours, berlin, NULL, NULL, T("2026-10-25T00:45:00Z"), NULL));
    assert_true(workhours_is_working(&b.hours, berlin, NULL, NULL, change, NULL));
    assert_instant(boundary1(&b, "2026-10-25T00:45:00Z"), change);
    /* a change that does not put the rep back to work is no boundary */
    struct routing_rep late = plain_rep("late", berlin);
    add_hours(&late, WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(9, 0), HM(17, 0));
    assert_instant(boundary1(&late, "2026-10-25T00:45:00Z"), T("2026-10-25T08:00:00Z"));
}

/* ---- brute force ---------------------------------------------------------------------------- */

#define WALK_MAX_MS (8 * DAY_MS)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The wall clock as a count of local minutes since 1970-01-01 00:00 local. */
static int64_t wall_minute(const struct tz_table *tz, int64_t t)
{
    struct tz_local_time lt;
    tz_local(tz, t, &lt);
    return lt.local_days * WORKHOURS_MINUTES_PER_DAY + lt.minute_of_day;
}

static bool has_midnights(const struct routing_rep *rep)
{
    return rep->holidays.count > 0 || rep->daily_cap != ROUTING_UNLIMITED ||
           rep->weekly_cap != ROUTING_UNLIMITED;
}

/* Whether the wall mark x (a local minute count) is reached at a minute whose
 * wall clock went from `before` to `now`: read exactly, or jumped over. */
static bool reached(int64_t x, int64_t before, int64_t now)
{
    return x == now || (before < x && x < now);
}

/* Whether, in the minute at which the rep's wall clock went from `before` to
 * `now`, one of its interval starts or (with holidays or caps) a midnight was
 * reached. */
static bool rep_boundary_at(const struct routing_rep *rep, int64_t before, int64_t now)
{
    int64_t lo = before < now ? before : now;
    for (int64_t day = floor_div(lo, WORKHOURS_MINUTES_PER_DAY);
         day <= floor_div(now, WORKHOURS_MINUTES_PER_DAY); day++) {
        int64_t base = day * WORKHOURS_MINUTES_PER_DAY;
        if (has_midnights(rep) && reached(base, before, now))
            return true;
        if (!rep->has_hours)
            continue;
        unsigned weekday = (unsigned)((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
        for (unsigned i = 0; i < rep->hours.count[weekday]; i++)
            if (reached(base + rep->hours.intervals[weekday][i].start_minute, before, now))
                return true;
    }
    return false;
}

/* The first whole minute after `now` at which the rep has a boundary, within
 * WALK_MAX_MS, or 0 (inactive reps have none). */
static int64_t brute_boundary(const struct routing_rep *rep, int64_t now)
{
    if (!rep->active || (!rep->has_hours && !has_midnights(rep)))
        return 0;
    int64_t t = (floor_div(now, MIN_MS) + 1) * MIN_MS;
    int64_t before = wall_minute(rep->tz, t - MIN_MS);
    for (; t <= now + WALK_MAX_MS; t += MIN_MS) {
        int64_t wall = wall_minute(rep->tz, t);
        if (rep_boundary_at(rep, before, wall))
            return t;
        before = wall;
    }
    return 0;
}

struct brute_stats {
    size_t samples, mismatches;
};

/* Compares routing_next_boundary() with the walk at `now`, for each rep alone
 * and for all of them together (the earliest of the reps' own). */
static void check_instant(const struct routing_rep *reps, size_t n, int64_t now,
                          struct brute_stats *st)
{
    int64_t earliest = 0;
    st->samples++;
    for (size_t i = 0; i < n; i++) {
        int64_t expected = brute_boundary(&reps[i], now);
        if (expected && (!earliest || expected < earliest))
            earliest = expected;
        int64_t got = boundary_of(&reps[i], 1, now);
        if (got != expected) {
            if (st->mismatches++ < 12) {
                char a[RFC3339_MAX], b[RFC3339_MAX], c[RFC3339_MAX];
                time_format_rfc3339(now, a);
                time_format_rfc3339(got, b);
                time_format_rfc3339(expected, c);
                print_error("rep %s (%s) at %s: got %s, expected %s\n", reps[i].id,
                            reps[i].tz->name, a, got ? b : "0", expected ? c : "0");
            }
        }
    }
    int64_t got = boundary_of(reps, n, now);
    if (got != earliest && st->mismatches++ < 12) {
        char a[RFC3339_MAX], b[RFC3339_MAX], c[RFC3339_MAX];
        time_format_rfc3339(now, a);
        time_format_rfc3339(got, b);
        time_format_rfc3339(earliest, c);
        print_error("all reps at %s: got %s, expected %s\n", a, b, c);
    }
}

/* Instants over 2026: every 7 h 13 min (with a varying odd fraction of a
 * minute), and every 10 min from a day before to a day after each change of
 * offset of the reps' zones in 2026. */
static void check_year(const struct routing_rep *reps, size_t n, struct brute_stats *st)
{
    int64_t from = T("2026-01-01T00:00:00Z"), to = T("2027-01-01T00:00:00Z");
    int k = 0;
    for (int64_t t = from; t < to; t += 7 * HOUR_MS + 13 * MIN_MS, k++)
        check_instant(reps, n, t + (k % 4) * 17003, st);

    const struct tz_table *seen[16];
    size_t n_seen = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tz_table *tz = reps[i].tz;
        bool dup = false;
        for (size_t s = 0; s < n_seen; s++)
            dup = dup || seen[s] == tz;
        if (dup || n_seen == COUNT_OF(seen))
            continue;
        seen[n_seen++] = tz;
        for (size_t x = 1; x < tz->count; x++) {
            int64_t at = tz->transits[x].utc_ms_from;
            if (at < from || at >= to)
                continue;
            for (int64_t t = at - 26 * HOUR_MS; t <= at + 26 * HOUR_MS; t += 10 * MIN_MS)
                check_instant(reps, n, t, st);
        }
    }
}

/*
 * Reps in six zones, with starts on every kind of day, in the hour the
 * clocks skip (Lord Howe skips 02:00-02:30 in October; New York's Sunday
 * 03:00 is the jump itself), with holidays and caps (Santiago skips its
 * midnight), around the clock, and inactive; none starts in an hour that is
 * repeated (see the next test).
 */
static void test_brute_force(void **unused)
{
    (void)unused;
    static const struct holiday_date holidays[] = {{2026, 1, 26}, {2026, 4, 3}, {2026, 12, 25}};
    struct routing_rep reps[8];
    reps[0] = plain_rep("ber", berlin);
    add_hours(&reps[0], WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(9, 0), HM(12, 0));
    add_hours(&reps[0], WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(13, 0), HM(17, 30));
    add_hours(&reps[0], WEEKDAY_SATURDAY, WEEKDAY_SATURDAY, HM(10, 0), HM(14, 0));
    add_hours(&reps[0], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(18, 0), HM(20, 0));

    reps[1] = plain_rep("nyc", new_york);
    add_hours(&reps[1], WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(8, 0), HM(16, 0));
    add_hours(&reps[1], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(3, 0), HM(5, 0));
    add_hours(&reps[1], WEEKDAY_THURSDAY, WEEKDAY_THURSDAY, HM(22, 0), HM(2, 0)); /* overnight */

    reps[2] = plain_rep("kol", kolkata);
    add_hours(&reps[2], WEEKDAY_MONDAY, WEEKDAY_SATURDAY, HM(10, 0), HM(19, 0));
    reps[2].daily_cap = 20;

    reps[3] = plain_rep("lhw", lord_howe);
    add_hours(&reps[3], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(2, 10), HM(3, 0));
    add_hours(&reps[3], WEEKDAY_TUESDAY, WEEKDAY_THURSDAY, HM(9, 0), HM(17, 0));
    reps[3].holidays = (struct holidays){holidays, COUNT_OF(holidays)};

    reps[4] = plain_rep("utc", utc);
    reps[4].weekly_cap = 100;

    reps[5] = plain_rep("scl", santiago);
    add_hours(&reps[5], WEEKDAY_MONDAY, WEEKDAY_FRIDAY, HM(9, 0), HM(18, 0));
    reps[5].daily_cap = 10;

    reps[6] = plain_rep("off", berlin); /* inactive: its many starts count for nothing */
    add_hours(&reps[6], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(0, 7), HM(0, 8));
    add_hours(&reps[6], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(6, 7), HM(6, 8));
    add_hours(&reps[6], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(12, 7), HM(12, 8));
    add_hours(&reps[6], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(18, 7), HM(18, 8));
    reps[6].daily_cap = 1;
    reps[6].active = false;

    reps[7] = plain_rep("any", new_york); /* hours not in force */
    add_hours(&reps[7], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(4, 44), HM(5, 0));
    reps[7].has_hours = false;

    struct brute_stats st = {0};
    check_year(reps, COUNT_OF(reps), &st);
    assert_true(st.samples > 1000);
    if (st.mismatches)
        fail_msg("%zu mismatches in %zu instants", st.mismatches, st.samples);
}

/* The same walk for reps whose starts fall in the hour the clocks repeat
 * (Berlin 02:00-03:00 on 2026-10-25, New York 01:00-02:00 on 2026-11-01,
 * Lord Howe 01:30-02:00 on 2026-04-05) or skip (Berlin and New York in
 * March: the same wall times). */
static void test_brute_force_repeated_hour(void **unused)
{
    (void)unused;
    struct routing_rep reps[3];
    reps[0] = plain_rep("ber", berlin);
    add_hours(&reps[0], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 0), HM(2, 30));
    add_hours(&reps[0], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 40), HM(5, 0));
    add_hours(&reps[0], WEEKDAY_MONDAY, WEEKDAY_SATURDAY, HM(9, 0), HM(17, 0));

    reps[1] = plain_rep("nyc", new_york);
    add_hours(&reps[1], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(1, 30), HM(1, 45));
    add_hours(&reps[1], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(2, 30), HM(4, 0));
    add_hours(&reps[1], WEEKDAY_MONDAY, WEEKDAY_SATURDAY, HM(8, 0), HM(16, 0));

    reps[2] = plain_rep("lhw", lord_howe);
    add_hours(&reps[2], WEEKDAY_SUNDAY, WEEKDAY_SUNDAY, HM(1, 40), HM(3, 0));
    add_hours(&reps[2], WEEKDAY_MONDAY, WEEKDAY_SUNDAY, HM(9, 0), HM(17, 0));

    struct brute_stats st = {0};
    check_year(reps, COUNT_OF(reps), &st);
    assert_true(st.samples > 1000);
    if (st.mismatches)
        fail_msg("%zu mismatches in %zu instants", st.mismatches, st.samples);
}

/* routing_reps_changed: the reps with a boundary of their own in (from, to]:
 * the Berlin office rep's 09:00 start, not the Kolkata one's (03:30 UTC,
 * before the span), not the rep working around the clock; an empty span
 * names nobody; a span that ends on the boundary includes it, one that
 * starts on it does not. */
static void test_reps_changed_in_a_span(void **unused)
{
    (void)unused;
    struct routing_rep reps[3] = {office_rep("ber", berlin), office_rep("kol", kolkata),
                                  plain_rep("any", utc)};
    struct routing_config cfg = {.reps = reps, .n_reps = 3};
    size_t out[3];
    /* Wednesday 2026-06-10: Berlin opens at 07:00Z, Kolkata at 03:30Z */
    assert_int_equal(
        routing_reps_changed(&cfg, T("2026-06-10T05:00:00Z"), T("2026-06-10T08:00:00Z"), out), 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(
        routing_reps_changed(&cfg, T("2026-06-10T03:00:00Z"), T("2026-06-10T08:00:00Z"), out), 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
    assert_int_equal(
        routing_reps_changed(&cfg, T("2026-06-10T08:00:00Z"), T("2026-06-10T08:00:00Z"), out), 0);
    assert_int_equal(
        routing_reps_changed(&cfg, T("2026-06-10T06:00:00Z"), T("2026-06-10T07:00:00Z"), out), 1);
    assert_int_equal(
        routing_reps_changed(&cfg, T("2026-06-10T07:00:00Z"), T("2026-06-10T07:30:00Z"), out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_to_wait_for),
        cmocka_unit_test(test_next_start_of_hours),
        cmocka_unit_test(test_earliest_of_all_reps),
        cmocka_unit_test(test_midnight_for_holidays_and_caps),
        cmocka_unit_test(test_dst_berlin),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_skipped_midnight),
        cmocka_unit_test(test_start_in_repeated_hour),
        cmocka_unit_test(test_clocks_back_into_an_interval),
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_brute_force_repeated_hour),
        cmocka_unit_test(test_reps_changed_in_a_span),
    };
    return cmocka_run_group_tests(tests, zones_setup, zones_teardown);
}
