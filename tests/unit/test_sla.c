/*
 * test_sla.c - SLA policies (core/sla.c: names, reject reasons, which policy
 * a lead gets) and the SLA clock (core/sla_clock.c: deadlines and elapsed
 * time on the wall clock and in business hours).
 *
 * The business-hours cases written out by hand come from the 2026 rules of
 * Europe/Berlin and the 2018 ones of America/Sao_Paulo (clocks changed at
 * midnight there). test_against_minute_walk then holds sla_deadline() and
 * sla_elapsed() to the definition: a walk of every minute of a year, asking
 * workhours_is_working() at each, in six zones (both hemispheres, half-hour
 * and 45-minute offsets, midnight transitions) for office hours, split and
 * overnight shifts, intervals in and around the hours clocks skip or repeat,
 * and round-the-clock schedules, with holidays (some on the days clocks
 * change). Working time only changes on minute boundaries in these zones, so
 * the minute walk is exact for starts on a minute.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/rule.h"
#include "core/score.h"
#include "core/sla.h"
#include "core/workhours.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define BH SLA_CLOCK_BUSINESS_HOURS

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

/* ---- names ---- */

static void test_names_round_trip(void **state)
{
    (void)state;
    const enum sla_clock clocks[] = {SLA_CLOCK_WALL, SLA_CLOCK_BUSINESS_HOURS};
    for (size_t i = 0; i < 2; i++) {
        enum sla_clock c = (enum sla_clock)99;
        assert_true(sla_clock_parse(sla_clock_name(clocks[i]), &c));
        assert_int_equal(c, clocks[i]);
    }
    assert_string_equal(sla_clock_name(SLA_CLOCK_WALL), "wall");
    assert_string_equal(sla_clock_name(SLA_CLOCK_BUSINESS_HOURS), "business_hours");

    const enum sla_breach_action breaches[] = {SLA_BREACH_REMIND, SLA_BREACH_NOTIFY_MANAGER,
                                               SLA_BREACH_REASSIGN};
    const char *const breach_names[] = {"remind", "notify_manager", "reassign"};
    for (size_t i = 0; i < 3; i++) {
        enum sla_breach_action a = (enum sla_breach_action)99;
        assert_string_equal(sla_breach_action_name(breaches[i]), breach_names[i]);
        assert_true(sla_breach_action_parse(breach_names[i], &a));
        assert_int_equal(a, breaches[i]);
    }

    const enum sla_reject_action rejects[] = {SLA_REJECT_REROUTE, SLA_REJECT_RECYCLE,
                                              SLA_REJECT_DISQUALIFY};
    const char *const reject_names[] = {"reroute", "recycle", "disqualify"};
    for (size_t i = 0; i < 3; i++) {
        enum sla_reject_action a = (enum sla_reject_action)99;
        assert_string_equal(sla_reject_action_name(rejects[i]), reject_names[i]);
        assert_true(sla_reject_action_parse(reject_names[i], &a));
        assert_int_equal(a, rejects[i]);
    }

    assert_string_equal(sla_fallback_name(SLA_FALLBACK_HOLD), "hold");
    assert_string_equal(sla_fallback_name(SLA_FALLBACK_POOL), "pool");
    assert_string_equal(sla_fallback_name(SLA_FALLBACK_REP), "rep");
    assert_string_equal(sla_fallback_name(SLA_FALLBACK_MANAGER), "manager");

    /* Unknown names are refused and leave the output alone; names are exact. */
    enum sla_clock c = SLA_CLOCK_BUSINESS_HOURS;
    assert_false(sla_clock_parse("Wall", &c));
    assert_false(sla_clock_parse("business-hours", &c));
    assert_false(sla_clock_parse("", &c));
    assert_false(sla_clock_parse(NULL, &c));
    assert_int_equal(c, SLA_CLOCK_BUSINESS_HOURS);
    enum sla_breach_action b = SLA_BREACH_REMIND;
    assert_false(sla_breach_action_parse("reassign ", &b));
    assert_int_equal(b, SLA_BREACH_REMIND);
    enum sla_reject_action r = SLA_REJECT_RECYCLE;
    assert_false(sla_reject_action_parse("hold", &r));
    assert_int_equal(r, SLA_REJECT_RECYCLE);

    /* Values outside the enums have a name that is none of the real ones. */
    assert_string_equal(sla_clock_name((enum sla_clock)7), "?");
    assert_string_equal(sla_breach_action_name((enum sla_breach_action)7), "?");
    assert_string_equal(sla_fallback_name((enum sla_fallback)7), "?");
    assert_string_equal(sla_reject_action_name((enum sla_reject_action)7), "?");
}

/* ---- reject reasons ---- */

static void test_reject_reasons_default(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        enum sla_reject_action action;
    } want[] = {
        {"wrong_territory", SLA_REJECT_REROUTE}, {"existing_customer", SLA_REJECT_REROUTE},
        {"not_a_fit", SLA_REJECT_RECYCLE},       {"not_qualified", SLA_REJECT_RECYCLE},
        {"duplicate", SLA_REJECT_DISQUALIFY},    {"bad_data", SLA_REJECT_DISQUALIFY},
    };
    assert_int_equal(sla_n_default_reject_reasons, 6);
    struct sla_config none = {0};
    for (size_t i = 0; i < 6; i++) {
        /* No configuration and a configuration without reasons both get the built-in ones. */
        const struct sla_reject_reason *a = sla_reject_reason_find(NULL, want[i].id);
        const struct sla_reject_reason *b = sla_reject_reason_find(&none, want[i].id);
        assert_non_null(a);
        assert_ptr_equal(a, b);
        assert_ptr_equal(a, &sla_default_reject_reasons[i]);
        assert_string_equal(a->id, want[i].id);
        assert_int_equal(a->action, want[i].action);
        assert_true(strlen(a->label) > 0);
    }
    assert_null(sla_reject_reason_find(NULL, "Duplicate"));
    assert_null(sla_reject_reason_find(NULL, "dup"));
    assert_null(sla_reject_reason_find(NULL, ""));
    assert_null(sla_reject_reason_find(NULL, NULL));
}

static void test_reject_reasons_configured(void **state)
{
    (void)state;
    static const struct sla_reject_reason mine[] = {
        {"student", "A student", SLA_REJECT_DISQUALIFY},
        {"partner_lead", "Belongs to a partner", SLA_REJECT_REROUTE},
        {"not_a_fit", "Not a fit for us", SLA_REJECT_RECYCLE},
    };
    struct sla_config cfg = {0};
    cfg.reject_reasons = mine;
    cfg.n_reject_reasons = 3;
    assert_ptr_equal(sla_reject_reason_find(&cfg, "student"), &mine[0]);
    assert_ptr_equal(sla_reject_reason_find(&cfg, "partner_lead"), &mine[1]);
    /* A configured id that is also built in is the configured one. */
    assert_ptr_equal(sla_reject_reason_find(&cfg, "not_a_fit"), &mine[2]);
    assert_string_equal(sla_reject_reason_find(&cfg, "not_a_fit")->label, "Not a fit for us");
    /* A configured list replaces the built-in one. */
    assert_null(sla_reject_reason_find(&cfg, "duplicate"));
    assert_null(sla_reject_reason_find(&cfg, "wrong_territory"));
    assert_null(sla_reject_reason_find(&cfg, NULL));
}

/* ---- policy selection ---- */

static void set_string(struct rule_symtab *syms, struct rule_value *slots, const char *path,
                       const char *text, const char *lower)
{
    int slot = rule_symtab_find(syms, path);
    assert_true(slot >= 0);
    rule_value_string(&slots[slot], text, lower, strlen(text));
}

static void set_number(struct rule_symtab *syms, struct rule_value *slots, const char *path,
                       double n)
{
    int slot = rule_symtab_find(syms, path);
    assert_true(slot >= 0);
    rule_value_number(&slots[slot], n);
}

static struct rule *compile(struct rule_symtab *syms, const char *text)
{
    struct rule *r = NULL;
    struct rule_error e;
    if (rule_compile(syms, text, strlen(text), &r, &e) != BT_OK)
        fail_msg("cannot compile '%s': %s", text, e.message);
    return r;
}

static void test_policy_select(void **state)
{
    (void)state;
    struct rule_symtab *syms = rule_symtab_new(&score_lead_schema);
    struct rule *hot = compile(syms, "score >= 80");
    struct rule *dach = compile(syms, "country in [\"DE\", \"AT\", \"CH\"]");
    struct rule_scratch *scratch = rule_scratch_new();
    struct rule_value slots[8];
    assert_true(rule_symtab_count(syms) <= 8);

    struct sla_policy p[3];
    memset(p, 0, sizeof(p));
    p[0].name = "hot";
    p[0].when = hot;
    p[1].name = "dach";
    p[1].when = dach;
    p[2].name = "default";
    struct sla_config cfg = {0};
    cfg.policies = p;
    cfg.n_policies = 3;

    /* The first policy whose when holds. */
    memset(slots, 0, sizeof(slots));
    set_number(syms, slots, "score", 95);
    set_string(syms, slots, "country", "DE", "de");
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), 0);
    set_number(syms, slots, "score", 40);
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), 1);
    set_string(syms, slots, "country", "FR", "fr");
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), 2);
    /* Missing values match no when: only the catch-all is left. */
    memset(slots, 0, sizeof(slots));
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), 2);

    /* Without a catch-all a lead may get no policy. */
    cfg.n_policies = 2;
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), -1);
    set_string(syms, slots, "country", "AT", "at");
    assert_int_equal(sla_policy_select(&cfg, slots, scratch), 1);

    /* A policy without when comes first: every lead gets it. */
    struct sla_policy q[2] = {p[2], p[0]};
    struct sla_config first = {0};
    first.policies = q;
    first.n_policies = 2;
    set_number(syms, slots, "score", 99);
    assert_int_equal(sla_policy_select(&first, slots, scratch), 0);

    /* No policies, or no configuration: no clock. */
    struct sla_config empty = {0};
    assert_int_equal(sla_policy_select(&empty, slots, scratch), -1);
    assert_int_equal(sla_policy_select(NULL, slots, scratch), -1);

    rule_free(hot);
    rule_free(dach);
    rule_symtab_free(syms);
    rule_scratch_free(scratch);
}

/* ---- the wall clock ---- */

static void test_wall_clock(void **state)
{
    (void)state;
    int64_t start = T("2026-03-28T23:30:00Z");
    /* Plain addition, even across a DST change and with a schedule given. */
    assert_instant(sla_deadline(SLA_CLOCK_WALL, NULL, start, 2 * HOUR_MS),
                   T("2026-03-29T01:30:00Z"));
    assert_instant(sla_deadline(SLA_CLOCK_WALL, NULL, start, 0), start);
    assert_instant(sla_deadline(SLA_CLOCK_WALL, NULL, start, 900 * DAY_MS), start + 900 * DAY_MS);
    assert_true(sla_deadline(SLA_CLOCK_WALL, NULL, INT64_MAX - 5, 10) == INT64_MAX);

    assert_true(sla_elapsed(SLA_CLOCK_WALL, NULL, start, start + 90 * MIN_MS) == 90 * MIN_MS);
    assert_true(sla_elapsed(SLA_CLOCK_WALL, NULL, start, start) == 0);
    assert_true(sla_elapsed(SLA_CLOCK_WALL, NULL, start, start - 1) == 0);
    assert_true(sla_elapsed(SLA_CLOCK_WALL, NULL, INT64_MIN, INT64_MAX) == INT64_MAX);
}

/* ---- business hours by hand ---- */

static void test_friday_evening(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin");
    struct weekly_hours h = office(9 * 60, 18 * 60);
    struct sla_schedule s = {&h, berlin, NULL};

    /* Friday 17:55 CET with 30 business minutes: 5 on Friday, 25 on Monday. */
    int64_t friday = T("2026-11-20T17:55:00+01:00");
    assert_instant(sla_deadline(BH, &s, friday, 30 * MIN_MS), T("2026-11-23T09:25:00+01:00"));
    assert_true(sla_elapsed(BH, &s, friday, T("2026-11-23T09:25:00+01:00")) == 30 * MIN_MS);
    /* Monday a holiday: Tuesday. */
    static const struct holiday_date monday[] = {{2026, 11, 23}};
    struct holidays hol = {monday, 1};
    s.holidays = &hol;
    assert_instant(sla_deadline(BH, &s, friday, 30 * MIN_MS), T("2026-11-24T09:25:00+01:00"));
    assert_true(sla_elapsed(BH, &s, friday, T("2026-11-24T09:25:00+01:00")) == 30 * MIN_MS);
    assert_true(sla_elapsed(BH, &s, friday, T("2026-11-23T18:00:00+01:00")) == 5 * MIN_MS);
    s.holidays = NULL;

    /* Milliseconds are kept. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T17:55:30.250+01:00"), 30 * MIN_MS),
                   T("2026-11-23T09:25:30.250+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T17:59:59.999+01:00"), 1),
                   T("2026-11-20T18:00:00+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T17:59:59.999+01:00"), 2),
                   T("2026-11-23T09:00:00.001+01:00"));

    /* Inside hours: from the start. A window ending with the shift ends with it. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-18T10:00:00+01:00"), 2 * HOUR_MS),
                   T("2026-11-18T12:00:00+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T17:30:00+01:00"), 30 * MIN_MS),
                   T("2026-11-20T18:00:00+01:00"));
    /* Outside hours: from the next start. A full working day is the next one. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-18T06:00:00+01:00"), 9 * HOUR_MS),
                   T("2026-11-18T18:00:00+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-11-21T12:00:00+01:00"), 9 * HOUR_MS + 1),
                   T("2026-11-24T09:00:00.001+01:00"));
    /* Three business days from Wednesday noon, over the weekend. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-18T12:00:00+01:00"), 27 * HOUR_MS),
                   T("2026-11-23T12:00:00+01:00"));

    /* Duration 0: start itself when working, else the next start of work. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-18T10:00:00+01:00"), 0),
                   T("2026-11-18T10:00:00+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T18:00:00+01:00"), 0),
                   T("2026-11-23T09:00:00+01:00"));
    /* A negative duration counts as 0. */
    assert_instant(sla_deadline(BH, &s, T("2026-11-20T18:00:00+01:00"), -HOUR_MS),
                   T("2026-11-23T09:00:00+01:00"));

    /* Elapsed: a week of office hours, a weekend, nothing when to <= from. */
    assert_true(sla_elapsed(BH, &s, T("2026-11-16T00:00:00Z"), T("2026-11-23T00:00:00Z")) ==
                45 * HOUR_MS);
    assert_true(sla_elapsed(BH, &s, T("2026-11-21T00:00:00Z"), T("2026-11-23T00:00:00Z")) == 0);
    assert_true(sla_elapsed(BH, &s, friday, friday) == 0);
    assert_true(sla_elapsed(BH, &s, friday, friday - HOUR_MS) == 0);
    tz_table_free(berlin);
}

static void test_daylight_saving(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin");

    /* Saturday night shift 22:00-06:00: 7 hours when the clocks go forward
     * on Sunday 2026-03-29 at 02:00, 9 when they go back on 2026-10-25. */
    struct weekly_hours night = WEEKLY_HOURS_INIT;
    add(&night, WEEKDAY_SATURDAY, 22 * 60, 6 * 60);
    struct sla_schedule s = {&night, berlin, NULL};
    int64_t sat_march = T("2026-03-28T22:00:00+01:00");
    assert_true(sla_elapsed(BH, &s, sat_march, sat_march + DAY_MS) == 7 * HOUR_MS);
    assert_instant(sla_deadline(BH, &s, sat_march, 7 * HOUR_MS), T("2026-03-29T06:00:00+02:00"));
    assert_instant(sla_deadline(BH, &s, sat_march, 4 * HOUR_MS), T("2026-03-29T03:00:00+02:00"));
    assert_instant(sla_deadline(BH, &s, sat_march, 4 * HOUR_MS + 1),
                   T("2026-03-29T03:00:00.001+02:00"));
    int64_t sat_october = T("2026-10-24T22:00:00+02:00");
    assert_true(sla_elapsed(BH, &s, sat_october, sat_october + DAY_MS) == 9 * HOUR_MS);
    assert_instant(sla_deadline(BH, &s, sat_october, 9 * HOUR_MS), T("2026-10-25T06:00:00+01:00"));
    /* 02:30 happens twice: first in summer time, then an hour later in winter time. */
    assert_instant(sla_deadline(BH, &s, sat_october, 4 * HOUR_MS + 30 * MIN_MS),
                   T("2026-10-25T02:30:00+02:00"));
    assert_instant(sla_deadline(BH, &s, sat_october, 5 * HOUR_MS + 30 * MIN_MS),
                   T("2026-10-25T02:30:00+01:00"));

    /* A Sunday interval inside the hour that is skipped does not happen that
     * day; inside the repeated hour it is worked twice. */
    struct weekly_hours probe = WEEKLY_HOURS_INIT;
    add(&probe, WEEKDAY_SUNDAY, 2 * 60 + 15, 2 * 60 + 45);
    s.hours = &probe;
    assert_instant(sla_deadline(BH, &s, T("2026-03-28T12:00:00Z"), MIN_MS),
                   T("2026-04-05T02:16:00+02:00"));
    assert_true(sla_elapsed(BH, &s, T("2026-03-28T12:00:00Z"), T("2026-03-30T00:00:00Z")) == 0);
    assert_true(sla_elapsed(BH, &s, T("2026-10-24T12:00:00Z"), T("2026-10-26T00:00:00Z")) ==
                60 * MIN_MS);
    assert_instant(sla_deadline(BH, &s, T("2026-10-24T12:00:00Z"), 45 * MIN_MS),
                   T("2026-10-25T02:30:00+01:00"));
    assert_instant(sla_deadline(BH, &s, T("2026-10-25T02:44:00+02:00"), 2 * MIN_MS),
                   T("2026-10-25T02:16:00+01:00"));

    /* A shift that starts in the skipped hour starts when the clocks jump. */
    struct weekly_hours early = WEEKLY_HOURS_INIT;
    add(&early, WEEKDAY_SUNDAY, 2 * 60 + 30, 4 * 60);
    s.hours = &early;
    int64_t sat = T("2026-03-28T12:00:00Z");
    assert_instant(sla_deadline(BH, &s, sat, 0), T("2026-03-29T03:00:00+02:00"));
    assert_instant(sla_deadline(BH, &s, sat, HOUR_MS), T("2026-03-29T04:00:00+02:00"));
    assert_instant(sla_deadline(BH, &s, sat, HOUR_MS + MIN_MS), T("2026-04-05T02:31:00+02:00"));

    /* Around the clock: business time is UTC time, whatever the offsets do. */
    s.hours = NULL;
    assert_instant(sla_deadline(BH, &s, T("2026-03-28T20:00:00Z"), 10 * HOUR_MS),
                   T("2026-03-29T06:00:00Z"));
    assert_true(sla_elapsed(BH, &s, T("2026-10-24T20:00:00Z"), T("2026-10-25T06:00:00Z")) ==
                10 * HOUR_MS);
    tz_table_free(berlin);
}

/* Sao Paulo changed clocks at midnight: on 2018-02-18 00:00 (-02) back to
 * Saturday 23:00 (-03), so Saturday 17 February had 25 hours; on 2018-11-04
 * 00:00 (-03) forward to 01:00 (-02), so Sunday 4 November began at 01:00. */
static void test_midnight_transitions(void **state)
{
    (void)state;
    struct tz_table *sp = zone("America/Sao_Paulo");
    static const struct holiday_date sunday[] = {{2018, 2, 18}, {2018, 11, 5}};
    struct holidays hol = {sunday, 2};
    struct sla_schedule s = {NULL, sp, &hol};

    /* Around the clock with Sunday off: Saturday's last hour is worked twice. */
    int64_t sat = T("2018-02-17T22:00:00-02:00");
    assert_true(sla_elapsed(BH, &s, sat, T("2018-02-19T00:00:00-03:00")) == 3 * HOUR_MS);
    assert_instant(sla_deadline(BH, &s, sat, 3 * HOUR_MS), T("2018-02-18T00:00:00-03:00"));
    assert_instant(sla_deadline(BH, &s, sat, 3 * HOUR_MS - 1), T("2018-02-17T23:59:59.999-03:00"));

    /* An evening shift until midnight, and a shift from midnight that
     * starts at 01:00 on the day the first hour is skipped. */
    struct weekly_hours h = WEEKLY_HOURS_INIT;
    add(&h, WEEKDAY_SATURDAY, 23 * 60, 0);
    add(&h, WEEKDAY_SUNDAY, 0, 2 * 60);
    s.hours = &h;
    s.holidays = NULL;
    assert_true(sla_elapsed(BH, &s, T("2018-02-17T12:00:00-02:00"),
                            T("2018-02-18T12:00:00-03:00")) == 4 * HOUR_MS);
    assert_true(sla_elapsed(BH, &s, T("2018-11-03T12:00:00-03:00"),
                            T("2018-11-04T12:00:00-02:00")) == 2 * HOUR_MS);
    assert_instant(sla_deadline(BH, &s, T("2018-11-03T23:30:00-03:00"), 40 * MIN_MS),
                   T("2018-11-04T01:10:00-02:00"));
    tz_table_free(sp);
}

static void test_unreachable(void **state)
{
    (void)state;
    struct tz_table *berlin = zone("Europe/Berlin");
    int64_t start = T("2026-06-01T12:00:00Z");

    /* No working time at all. */
    struct weekly_hours none = WEEKLY_HOURS_INIT;
    struct sla_schedule s = {&none, berlin, NULL};
    assert_true(sla_deadline(BH, &s, start, 0) == 0);
    assert_true(sla_deadline(BH, &s, start, MIN_MS) == 0);
    assert_true(sla_elapsed(BH, &s, start, start + 30 * DAY_MS) == 0);

    /* Mondays only, and every Monday for three years a holiday. */
    struct weekly_hours mondays = WEEKLY_HOURS_INIT;
    add(&mondays, WEEKDAY_MONDAY, 9 * 60, 17 * 60);
    static struct holiday_date dates[160];
    size_t n = 0;
    for (int64_t d = time_days_from_civil(2026, 6, 1); n < 160; d += 7, n++) {
        int64_t y;
        unsigned m, dd;
        time_civil_from_days(d, &y, &m, &dd);
        dates[n] = (struct holiday_date){(int32_t)y, (uint8_t)m, (uint8_t)dd};
    }
    struct holidays hol = {dates, n};
    assert_int_equal(workhours_holidays_check(&hol, NULL), BT_OK);
    s.hours = &mondays;
    s.holidays = &hol;
    assert_true(sla_deadline(BH, &s, start, 0) == 0);
    assert_true(sla_deadline(BH, &s, start, HOUR_MS) == 0);
    /* The first Monday after them is beyond SLA_SEARCH_DAYS (elapsed has no limit)... */
    assert_true(sla_elapsed(BH, &s, start, T("2029-06-26T00:00:00Z")) == 8 * HOUR_MS);
    /* ...but within reach of a later start. */
    assert_instant(sla_deadline(BH, &s, start + 600 * DAY_MS, HOUR_MS),
                   T("2029-06-25T10:00:00+02:00"));

    /* The search limit is SLA_SEARCH_DAYS * 24 h after start, inclusive. */
    s.hours = NULL;
    s.holidays = NULL;
    int64_t limit = SLA_SEARCH_DAYS * DAY_MS;
    assert_instant(sla_deadline(BH, &s, start, limit), start + limit);
    assert_true(sla_deadline(BH, &s, start, limit + 1) == 0);
    assert_true(sla_deadline(BH, &s, start, INT64_MAX) == 0);
    tz_table_free(berlin);

    /* Around the clock after SLA_SEARCH_DAYS days of holidays (Kolkata has
     * no DST, so local midnight is start + N * 24 h): work starts exactly at
     * the limit, which is still in reach; one more holiday and it is not. */
    struct tz_table *kolkata = zone("Asia/Kolkata");
    static struct holiday_date off[SLA_SEARCH_DAYS + 1];
    int64_t first = time_days_from_civil(2026, 1, 1);
    for (size_t i = 0; i <= SLA_SEARCH_DAYS; i++) {
        int64_t y;
        unsigned m, d;
        time_civil_from_days(first + (int64_t)i, &y, &m, &d);
        off[i] = (struct holiday_date){(int32_t)y, (uint8_t)m, (uint8_t)d};
    }
    struct holidays long_leave = {off, SLA_SEARCH_DAYS};
    struct sla_schedule k = {NULL, kolkata, &long_leave};
    int64_t midnight = T("2026-01-01T00:00:00+05:30");
    assert_instant(sla_deadline(BH, &k, midnight, 0), midnight + limit);
    assert_true(sla_deadline(BH, &k, midnight, 1) == 0);
    assert_instant(sla_deadline(BH, &k, midnight + 1, 0), midnight + limit);
    long_leave.count = SLA_SEARCH_DAYS + 1;
    assert_true(sla_deadline(BH, &k, midnight, 0) == 0);
    assert_true(sla_elapsed(BH, &k, midnight, midnight + limit + 2 * DAY_MS) == DAY_MS);
    tz_table_free(kolkata);
}

/* ---- against the definition ---- */

/*
 * worked[i] is the number of working minutes in [base, base + i minutes),
 * from asking workhours_is_working() at every minute: the definition of
 * business time, walked the slow way.
 */
struct minute_walk {
    int64_t base;
    size_t minutes;
    uint32_t *worked; /* minutes + 1 entries */
};

static void minute_walk_build(struct minute_walk *w, const struct sla_schedule *s, int64_t base,
                              size_t minutes)
{
    w->base = base;
    w->minutes = minutes;
    w->worked = malloc((minutes + 1) * sizeof(*w->worked));
    assert_non_null(w->worked);
    w->worked[0] = 0;
    for (size_t i = 0; i < minutes; i++)
        w->worked[i + 1] = w->worked[i] + workhours_is_working(s->hours, s->tz, s->holidays, NULL,
                                                               base + (int64_t)i * MIN_MS, NULL);
}

/* The first index j with worked[j] >= target, or minutes + 1. */
static size_t lower_bound(const struct minute_walk *w, uint32_t target)
{
    size_t lo = 0, hi = w->minutes + 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->worked[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The deadline by the walk, or -1 when it lies beyond the walk's end. */
static int64_t walk_deadline(const struct minute_walk *w, size_t start, uint32_t minutes)
{
    uint32_t target = w->worked[start] + minutes;
    /* Duration 0: the first working minute at or after start. */
    size_t j = minutes == 0 ? lower_bound(w, target + 1) - 1 : lower_bound(w, target);
    if (j >= w->minutes)
        return -1;
    return w->base + (int64_t)j * MIN_MS;
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

/* The minute walk goes on this long after the year, for the deadlines of late starts. */
enum { N_DAYS_AFTER = 21 };

struct zone_year {
    const char *name;
    int year;
};

/* Holidays on fixed dates of `year`, and New Year after it. */
static size_t fixed_holidays(int year, struct holiday_date *out)
{
    static const uint8_t md[][2] = {{1, 1},  {1, 2},   {4, 3},   {4, 6},   {5, 1},
                                    {7, 17}, {12, 24}, {12, 25}, {12, 26}, {12, 31}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof(md) / sizeof(md[0]); i++)
        out[n++] = (struct holiday_date){year, md[i][0], md[i][1]};
    out[n++] = (struct holiday_date){year + 1, 1, 1};
    return n;
}

static int date_compare(const void *a, const void *b)
{
    const struct holiday_date *x = a, *y = b;
    int64_t kx = x->year * 512 + x->month * 32 + x->day,
            ky = y->year * 512 + y->month * 32 + y->day;
    return kx < ky ? -1 : kx > ky;
}

/* The local dates on either side of every offset change in [from, to). */
static size_t transition_holidays(const struct tz_table *tz, int64_t from, int64_t to,
                                  struct holiday_date *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 1; i < tz->count; i++) {
        int64_t at = tz->transits[i].utc_ms_from;
        if (at < from || at >= to)
            continue;
        int64_t sides[2] = {at - 1, at};
        for (int k = 0; k < 2 && n < max; k++) {
            struct tz_local_time lt;
            tz_local(tz, sides[k], &lt);
            out[n++] = (struct holiday_date){(int32_t)lt.year, (uint8_t)lt.month, (uint8_t)lt.day};
        }
    }
    qsort(out, n, sizeof(*out), date_compare);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || date_compare(&out[kept - 1], &out[i]) != 0)
            out[kept++] = out[i];
    return kept;
}

static void check_schedule(const char *what, const struct sla_schedule *s, int64_t year_start,
                           uint64_t *checked)
{
    static const uint32_t durations[] = {0, 1, 30, 61, 8 * 60, 3 * 9 * 60, 2 * 24 * 60};
    const size_t n_durations = sizeof(durations) / sizeof(durations[0]);
    struct minute_walk w;
    int64_t base = year_start - DAY_MS;
    minute_walk_build(&w, s, base, (size_t)(367 + N_DAYS_AFTER) * 1440);

    for (size_t start = 1440; start < (size_t)366 * 1440; start += 97) {
        int64_t start_ms = base + (int64_t)start * MIN_MS;
        for (size_t k = 0; k < n_durations; k++) {
            int64_t want = walk_deadline(&w, start, durations[k]);
            if (want < 0)
                continue;
            int64_t d = durations[k] * MIN_MS;
            int64_t got = sla_deadline(BH, s, start_ms, d);
            if (got != want) {
                char a[RFC3339_MAX], b[RFC3339_MAX], c[RFC3339_MAX];
                time_format_rfc3339(start_ms, a);
                time_format_rfc3339(got, b);
                time_format_rfc3339(want, c);
                fail_msg("%s in %s: deadline from %s for %u min: got %s, minute walk says %s", what,
                         s->tz->name, a, durations[k], b, c);
            }
            if (d > 0 && sla_elapsed(BH, s, start_ms, got) != d)
                fail_msg("%s in %s: elapsed to its own deadline is not %u min", what, s->tz->name,
                         durations[k]);
            if (d == 0 && s->hours != NULL)
                assert_instant(workhours_next_start(s->hours, s->tz, s->holidays, NULL, start_ms,
                                                    SLA_SEARCH_DAYS * DAY_MS),
                               got);
            (*checked)++;
        }
        /* Elapsed over a span of up to twelve days. */
        size_t end = start + (size_t)rnd(12 * 1440);
        int64_t want = (int64_t)(w.worked[end] - w.worked[start]) * MIN_MS;
        int64_t got = sla_elapsed(BH, s, start_ms, base + (int64_t)end * MIN_MS);
        if (got != want) {
            char a[RFC3339_MAX], b[RFC3339_MAX];
            time_format_rfc3339(start_ms, a);
            time_format_rfc3339(base + (int64_t)end * MIN_MS, b);
            fail_msg("%s in %s: elapsed %s .. %s: got %lld min, minute walk says %lld", what,
                     s->tz->name, a, b, (long long)(got / MIN_MS), (long long)(want / MIN_MS));
        }
        (*checked)++;
    }
    /* The whole walk at once. */
    assert_true(sla_elapsed(BH, s, base, base + (int64_t)w.minutes * MIN_MS) ==
                (int64_t)w.worked[w.minutes] * MIN_MS);
    free(w.worked);
}

static void test_against_minute_walk(void **state)
{
    (void)state;
    static const struct zone_year zones[] = {
        {"Europe/Berlin", 2026}, {"America/New_York", 2026}, {"Australia/Sydney", 2026},
        {"Asia/Kolkata", 2026},  {"Pacific/Chatham", 2026},  {"America/Sao_Paulo", 2018},
    };

    struct weekly_hours office_hours = office(9 * 60, 18 * 60);

    struct weekly_hours split = WEEKLY_HOURS_INIT;
    for (int d = WEEKDAY_MONDAY; d <= WEEKDAY_FRIDAY; d++) {
        add(&split, (enum weekday)d, 8 * 60, 12 * 60);
        add(&split, (enum weekday)d, 13 * 60, 17 * 60 + 30);
    }
    add(&split, WEEKDAY_SATURDAY, 10 * 60, 14 * 60);

    /* Nights from Saturday to Thursday, 22:00-06:00: most DST changes fall in one. */
    struct weekly_hours overnight = WEEKLY_HOURS_INIT;
    add(&overnight, WEEKDAY_SATURDAY, 22 * 60, 6 * 60);
    for (int d = WEEKDAY_SUNDAY; d != WEEKDAY_FRIDAY; d = (d + 1) % WEEKDAY_COUNT)
        add(&overnight, (enum weekday)d, 22 * 60, 6 * 60);

    /* Intervals before, across, inside and after the hours clocks skip or
     * repeat on Sunday mornings (Berlin, New York, Sydney at 02:00 or 03:00,
     * Chatham at 02:45 or 03:45, Sao Paulo at midnight), and weekdays. */
    struct weekly_hours probes = WEEKLY_HOURS_INIT;
    add(&probes, WEEKDAY_SATURDAY, 22 * 60 + 30, 0);
    add(&probes, WEEKDAY_SUNDAY, 30, 60 + 15);
    add(&probes, WEEKDAY_SUNDAY, 60 + 30, 2 * 60 + 30);
    add(&probes, WEEKDAY_SUNDAY, 2 * 60 + 40, 2 * 60 + 50);
    add(&probes, WEEKDAY_SUNDAY, 3 * 60, 5 * 60);
    for (int d = WEEKDAY_MONDAY; d <= WEEKDAY_FRIDAY; d++)
        add(&probes, (enum weekday)d, 10 * 60, 16 * 60);

    uint64_t checked = 0;
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        struct tz_table *tz = zone(zones[z].name);
        int year = zones[z].year;
        int64_t year_start = time_days_from_civil(year, 1, 1) * DAY_MS;

        struct holiday_date fixed_dates[16], dst_dates[64];
        struct holidays fixed = {fixed_dates, fixed_holidays(year, fixed_dates)};
        struct holidays dst = {dst_dates,
                               transition_holidays(tz, year_start - 2 * DAY_MS,
                                                   year_start + (366 + N_DAYS_AFTER) * DAY_MS,
                                                   dst_dates, 64)};
        assert_int_equal(workhours_holidays_check(&fixed, NULL), BT_OK);
        assert_int_equal(workhours_holidays_check(&dst, NULL), BT_OK);

        const struct {
            const char *what;
            struct sla_schedule s;
        } cases[] = {
            {"office hours", {&office_hours, tz, &fixed}},
            {"split shifts", {&split, tz, &fixed}},
            {"overnight", {&overnight, tz, &fixed}},
            {"overnight, DST days off", {&overnight, tz, &dst}},
            {"DST probes", {&probes, tz, NULL}},
            {"around the clock", {NULL, tz, &fixed}},
            {"around the clock, DST days off", {NULL, tz, &dst}},
        };
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            if (cases[c].s.holidays == &dst && dst.count == 0)
                continue; /* no DST in this zone: the same as a case without holidays */
            check_schedule(cases[c].what, &cases[c].s, year_start, &checked);
        }
        tz_table_free(tz);
    }
    /* Deadlines past the end of the minute walk are not compared: they stay rare. */
    assert_true(checked > 40 * 5400 * 7);
}

/*
 * At any millisecond, for any duration: the deadline is reached exactly
 * (elapsed to it is the duration) and no earlier (the last millisecond
 * before it is working time, or for duration 0 the deadline itself is).
 */
static void test_any_millisecond(void **state)
{
    (void)state;
    struct tz_table *zones[] = {zone("Europe/Berlin"), zone("Australia/Sydney"),
                                zone("Asia/Kolkata")};
    struct weekly_hours split = WEEKLY_HOURS_INIT;
    for (int d = WEEKDAY_MONDAY; d <= WEEKDAY_FRIDAY; d++) {
        add(&split, (enum weekday)d, 8 * 60, 12 * 60);
        add(&split, (enum weekday)d, 13 * 60, 17 * 60 + 30);
    }
    add(&split, WEEKDAY_SUNDAY, 22 * 60, 3 * 60);
    static const struct holiday_date dates[] = {{2026, 4, 3}, {2026, 10, 5}, {2026, 12, 25}};
    struct holidays hol = {dates, 3};
    int64_t year_start = T("2026-01-01T00:00:00Z");
    for (size_t z = 0; z < 3; z++) {
        struct sla_schedule s = {&split, zones[z], &hol};
        for (int i = 0; i < 20000; i++) {
            int64_t start = year_start + (int64_t)rnd(365 * DAY_MS);
            int64_t d = i % 4 == 0 ? 0 : (int64_t)rnd(5 * DAY_MS);
            int64_t due = sla_deadline(BH, &s, start, d);
            assert_true(due >= start);
            if (d == 0) {
                assert_true(workhours_is_working(s.hours, s.tz, s.holidays, NULL, due, NULL));
                assert_true(sla_elapsed(BH, &s, start, due) == 0);
            } else {
                assert_true(sla_elapsed(BH, &s, start, due) == d);
                assert_true(workhours_is_working(s.hours, s.tz, s.holidays, NULL, due - 1, NULL));
            }
        }
    }
    for (size_t z = 0; z < 3; z++)
        tz_table_free(zones[z]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_reject_reasons_default),
        cmocka_unit_test(test_reject_reasons_configured),
        cmocka_unit_test(test_policy_select),
        cmocka_unit_test(test_wall_clock),
        cmocka_unit_test(test_friday_evening),
        cmocka_unit_test(test_daylight_saving),
        cmocka_unit_test(test_midnight_transitions),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_against_minute_walk),
        cmocka_unit_test(test_any_millisecond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
