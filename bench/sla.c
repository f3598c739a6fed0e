/*
 * bench/sla.c - how fast SLA deadlines are computed: 500 reps in 20 time
 * zones (both hemispheres, half-hour and 45-minute offsets, with and without
 * daylight saving time), each with a weekly schedule (office hours, split
 * shifts, overnight and weekend shifts, one in ten around the clock) and a
 * dozen holidays, asked from start instants spread over 2026, on one thread.
 *
 *   build/bench/sla [SECONDS]      (per measurement, default 1)
 *
 * Prints, for business-hours deadlines of 30 minutes, 8 hours and 3 days
 * (72 hours of working time) and for business-hours elapsed time over 1 and
 * 7 calendar days: calls per second, ns per call, how many calendar days the
 * walk spanned on average (its cost grows with them), and the ratio to the
 * same number of wall-clock deadlines (a plain addition behind a call), the
 * floor any clock call has. Rates are per CPU-second of the thread, which
 * stays honest on a busy machine; the wall-clock rate is printed beside them
 * when they differ by more than 5%. A fixed seed makes runs comparable.
 */
#include "core/sla.h"
#include "core/workhours.h"
#include "util/tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_REPS     500
#define N_INSTANTS 4096
#define MIN_MS     60000LL
#define HOUR_MS    3600000LL
#define DAY_MS     86400000LL
#define YEAR_START 1767225600000LL /* 2026-01-01T00:00:00Z */

static const char *const zone_names[] = {
    "Europe/Berlin",      "Europe/London",       "Europe/Helsinki",     "America/New_York",
    "America/Chicago",    "America/Denver",      "America/Los_Angeles", "America/Sao_Paulo",
    "America/St_Johns",   "America/Mexico_City", "Asia/Kolkata",        "Asia/Kathmandu",
    "Asia/Tokyo",         "Asia/Singapore",      "Asia/Dubai",          "Australia/Sydney",
    "Australia/Adelaide", "Pacific/Chatham",     "Africa/Johannesburg", "UTC"};
#define N_ZONES (sizeof(zone_names) / sizeof(zone_names[0]))

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

static double now_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rep {
    struct weekly_hours hours;
    struct holiday_date holiday_dates[12];
    struct holidays holidays;
    struct sla_schedule schedule;
};

static void add(struct weekly_hours *h, int day, unsigned start, unsigned end)
{
    if (workhours_add_interval(h, (enum weekday)day, start, end, NULL) != BT_OK) {
        fprintf(stderr, "bench: bad interval\n");
        exit(1);
    }
}

static void make_rep(struct rep *r, const struct tz_table *tz)
{
    memset(r, 0, sizeof(*r));
    bool around_the_clock = false;
    switch (rnd(10)) {
    case 0:
    case 1:
    case 2:
    case 3: /* office hours, start between 07:00 and 10:00 */
    {
        unsigned start = 7 * 60 + 30 * (unsigned)rnd(7);
        for (int d = 0; d < 5; d++)
            add(&r->hours, d, start, start + 9 * 60);
        break;
    }
    case 4:
    case 5: /* split shift, Saturday morning */
        for (int d = 0; d < 5; d++) {
            add(&r->hours, d, 8 * 60, 12 * 60);
            add(&r->hours, d, 13 * 60, 17 * 60 + 30);
        }
        add(&r->hours, 5, 9 * 60, 13 * 60);
        break;
    case 6:
    case 7: /* overnight support, Sunday to Thursday nights */
        for (int d = 0; d < 4; d++)
            add(&r->hours, d, 22 * 60, 6 * 60);
        add(&r->hours, 6, 22 * 60, 6 * 60);
        break;
    case 8: /* weekends and two evenings */
        add(&r->hours, 5, 10 * 60, 18 * 60);
        add(&r->hours, 6, 10 * 60, 18 * 60);
        add(&r->hours, 2, 17 * 60, 21 * 60);
        add(&r->hours, 3, 17 * 60, 21 * 60);
        break;
    default:
        around_the_clock = true;
        break;
    }
    /* A dozen holidays, one a month on a varying day. */
    for (unsigned m = 0; m < 12; m++)
        r->holiday_dates[m] = (struct holiday_date){2026, (uint8_t)(m + 1), (uint8_t)(1 + rnd(28))};
    r->holidays = (struct holidays){r->holiday_dates, 12};
    r->schedule = (struct sla_schedule){around_the_clock ? NULL : &r->hours, tz, &r->holidays};
}

static struct rep reps[N_REPS];
static int64_t instants[N_INSTANTS];

struct result {
    double per_cpu_s, per_wall_s, days;
};

enum what { DEADLINE, ELAPSED };

/* Calls sla_deadline (or sla_elapsed over `amount_ms`) for every rep at one
 * instant after another for `seconds`. */
static struct result measure(enum what what, enum sla_clock clock, int64_t amount_ms,
                             double seconds)
{
    uint64_t calls = 0;
    double days = 0, sink = 0;
    size_t k = 0;
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID), w1 = w0;
    while (w1 - w0 < seconds) {
        for (size_t round = 0; round < 4; round++, k++) {
            int64_t start = instants[k % N_INSTANTS];
            for (size_t i = 0; i < N_REPS; i++) {
                const struct sla_schedule *s = &reps[i].schedule;
                if (what == DEADLINE) {
                    int64_t due = sla_deadline(clock, s, start, amount_ms);
                    days += due ? (double)(due - start) / DAY_MS : 0;
                } else {
                    sink += (double)sla_elapsed(clock, s, start, start + amount_ms);
                    days += (double)amount_ms / DAY_MS;
                }
            }
            calls += N_REPS;
        }
        w1 = now_s(CLOCK_MONOTONIC);
    }
    double cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    if (sink < 0)
        printf("[%g]\n", sink);
    return (struct result){(double)calls / cpu, (double)calls / (w1 - w0), days / (double)calls};
}

static void report(const char *label, struct result r, struct result wall)
{
    printf("%-28s %10.0f calls/s %8.1f ns/call  %5.2f days spanned  %6.1fx wall", label,
           r.per_cpu_s, 1e9 / r.per_cpu_s, r.days, wall.per_cpu_s / r.per_cpu_s);
    if (r.per_wall_s < 0.95 * r.per_cpu_s || r.per_wall_s > 1.05 * r.per_cpu_s)
        printf("  (wall-clock rate %.0f/s: machine busy)", r.per_wall_s);
    printf("\n");
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "usage: sla [SECONDS (0-600]]\n");
        return 2;
    }
    struct tz_table *zones[N_ZONES];
    for (size_t z = 0; z < N_ZONES; z++) {
        struct bt_error e = BT_ERROR_INIT;
        if (tz_table_new(zone_names[z], &zones[z], &e) != BT_OK) {
            fprintf(stderr, "bench: %s\n", e.message);
            return 1;
        }
    }
    for (size_t i = 0; i < N_REPS; i++)
        make_rep(&reps[i], zones[i % N_ZONES]);
    for (size_t i = 0; i < N_INSTANTS; i++)
        instants[i] = YEAR_START + (int64_t)rnd(365 * DAY_MS);

    printf("%d reps in %zu zones, starts over 2026, one thread, per CPU-second\n", N_REPS, N_ZONES);
    struct result wall = measure(DEADLINE, SLA_CLOCK_WALL, 30 * MIN_MS, seconds);
    report("deadline wall (reference)", wall, wall);
    report("deadline business 30 min",
           measure(DEADLINE, SLA_CLOCK_BUSINESS_HOURS, 30 * MIN_MS, seconds), wall);
    report("deadline business 8 h",
           measure(DEADLINE, SLA_CLOCK_BUSINESS_HOURS, 8 * HOUR_MS, seconds), wall);
    report("deadline business 3 days",
           measure(DEADLINE, SLA_CLOCK_BUSINESS_HOURS, 3 * DAY_MS, seconds), wall);
    report("elapsed business 1 day", measure(ELAPSED, SLA_CLOCK_BUSINESS_HOURS, DAY_MS, seconds),
           wall);
    report("elapsed business 7 days",
           measure(ELAPSED, SLA_CLOCK_BUSINESS_HOURS, 7 * DAY_MS, seconds), wall);

    for (size_t z = 0; z < N_ZONES; z++)
        tz_table_free(zones[z]);
    return 0;
}
