/*
 * bench/workhours.c - how fast availability is decided: 500 reps in 20 time
 * zones (both hemispheres, half-hour and 45-minute offsets, zones with and
 * without daylight saving time), each with a weekly schedule (office hours,
 * split shifts, overnight and weekend shifts), a dozen holidays and some time
 * off, asked at instants spread over 2026 on one thread.
 *
 *   build/bench/workhours [SECONDS]
 *
 * Prints the cost of building the 20 zone tables from ICU (done once per
 * configuration load), then is_working and next_start (14-day limit) calls
 * per second and ns per call, over all reps in turn. Everything comes from a
 * fixed seed, so runs compare.
 */
#include "core/workhours.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_REPS     500
#define N_INSTANTS 4096
#define DAY_MS     86400000LL
#define YEAR_START 1767225600000LL /* 2026-01-01T00:00:00Z */

static const char *const zone_names[] = {
    "Europe/Berlin",      "Europe/London",       "Europe/Helsinki",     "America/New_York",
    "America/Chicago",    "America/Denver",      "America/Los_Angeles", "America/Sao_Paulo",
    "America/St_Johns",   "America/Mexico_City", "Asia/Kolkata",        "Asia/Kathmandu",
    "Asia/Tokyo",         "Asia/Singapore",      "Asia/Dubai",          "Australia/Sydney",
    "Australia/Adelaide", "Pacific/Auckland",    "Africa/Johannesburg", "UTC"};
#define N_ZONES (sizeof(zone_names) / sizeof(zone_names[0]))

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

struct rep {
    const struct tz_table *tz;
    struct weekly_hours hours;
    struct holiday_date holiday_dates[12];
    struct holidays holidays;
    struct time_off_span spans[3];
    struct time_off time_off;
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
    r->tz = tz;
    switch (rnd(4)) {
    case 0: /* office hours, start between 07:00 and 10:00 */
    {
        unsigned start = 7 * 60 + 30 * (unsigned)rnd(7);
        for (int d = 0; d < 5; d++)
            add(&r->hours, d, start, start + 8 * 60);
        break;
    }
    case 1: /* split shift */
        for (int d = 0; d < 5; d++) {
            add(&r->hours, d, 8 * 60, 12 * 60);
            add(&r->hours, d, 13 * 60, 17 * 60 + 30);
        }
        break;
    case 2: /* overnight support, Sunday to Thursday nights */
        for (int d = 0; d < 4; d++)
            add(&r->hours, d, 22 * 60, 6 * 60);
        add(&r->hours, 6, 22 * 60, 6 * 60);
        break;
    default: /* weekends and two evenings */
        add(&r->hours, 5, 10 * 60, 18 * 60);
        add(&r->hours, 6, 10 * 60, 18 * 60);
        add(&r->hours, 2, 17 * 60, 21 * 60);
        add(&r->hours, 3, 17 * 60, 21 * 60);
        break;
    }
    /* A dozen holidays, one a month on a varying day. */
    for (unsigned m = 0; m < 12; m++)
        r->holiday_dates[m] = (struct holiday_date){2026, (uint8_t)(m + 1), (uint8_t)(1 + rnd(28))};
    r->holidays = (struct holidays){r->holiday_dates, 12};
    /* Up to three spans of time off of 1-10 days. */
    size_t n = (size_t)rnd(4);
    for (size_t i = 0; i < n; i++) {
        int64_t from = YEAR_START + (int64_t)rnd(365) * DAY_MS + (int64_t)rnd(24) * 3600000;
        r->spans[i] = (struct time_off_span){from, from + (1 + (int64_t)rnd(10)) * DAY_MS};
    }
    r->time_off = (struct time_off){r->spans, n};
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "usage: workhours [SECONDS (0-600]]\n");
        return 2;
    }

    struct tz_table *zones[N_ZONES];
    size_t transitions = 0;
    int64_t t0 = time_monotonic_ms();
    int builds = 0;
    do {
        for (size_t z = 0; z < N_ZONES; z++) {
            if (builds > 0)
                tz_table_free(zones[z]);
            struct bt_error e = BT_ERROR_INIT;
            if (tz_table_new(zone_names[z], &zones[z], &e) != BT_OK) {
                fprintf(stderr, "bench: %s\n", e.message);
                return 1;
            }
        }
        builds++;
    } while (time_monotonic_ms() - t0 < 500);
    double build_ms = (double)(time_monotonic_ms() - t0) / builds;
    for (size_t z = 0; z < N_ZONES; z++)
        transitions += zones[z]->count;

    static struct rep reps[N_REPS];
    for (size_t i = 0; i < N_REPS; i++)
        make_rep(&reps[i], zones[i % N_ZONES]);
    static int64_t instants[N_INSTANTS];
    for (size_t i = 0; i < N_INSTANTS; i++)
        instants[i] = YEAR_START + (int64_t)rnd(365 * DAY_MS);

    printf("zones: %zu tables, %zu offsets, %zu KiB, built from ICU in %.2f ms (tzdata %s)\n",
           N_ZONES, transitions, transitions * sizeof(struct tz_transition) / 1024, build_ms,
           zones[0]->data_version);

    /* is_working */
    uint64_t calls = 0, working = 0;
    size_t k = 0;
    t0 = time_monotonic_ms();
    int64_t elapsed = 0;
    while (elapsed < (int64_t)(seconds * 1000)) {
        for (size_t round = 0; round < 8; round++, k++) {
            int64_t now = instants[k % N_INSTANTS];
            for (size_t i = 0; i < N_REPS; i++) {
                struct rep *r = &reps[i];
                working +=
                    workhours_is_working(&r->hours, r->tz, &r->holidays, &r->time_off, now, NULL);
            }
            calls += N_REPS;
        }
        elapsed = time_monotonic_ms() - t0;
    }
    double working_per_s = (double)calls / ((double)elapsed / 1000.0);
    printf("is_working: %.0f calls/s, %.1f ns/call (%.1f%% of answers: working)\n", working_per_s,
           1e9 / working_per_s, 100.0 * (double)working / (double)calls);

    /* next_start, 14 days ahead */
    uint64_t found = 0;
    int64_t sink = 0;
    calls = 0;
    t0 = time_monotonic_ms();
    elapsed = 0;
    while (elapsed < (int64_t)(seconds * 1000)) {
        for (size_t round = 0; round < 2; round++, k++) {
            int64_t now = instants[k % N_INSTANTS];
            for (size_t i = 0; i < N_REPS; i++) {
                struct rep *r = &reps[i];
                int64_t next = workhours_next_start(&r->hours, r->tz, &r->holidays, &r->time_off,
                                                    now, 14 * DAY_MS);
                found += next != 0;
                sink ^= next;
            }
            calls += N_REPS;
        }
        elapsed = time_monotonic_ms() - t0;
    }
    double next_per_s = (double)calls / ((double)elapsed / 1000.0);
    printf("next_start: %.0f calls/s, %.1f ns/call (%.1f%% found within 14 days) [%lld]\n",
           next_per_s, 1e9 / next_per_s, 100.0 * (double)found / (double)calls,
           (long long)(sink & 1));
    printf("all %d reps at one instant: is_working %.1f us, next_start %.1f us\n", N_REPS,
           N_REPS * 1e6 / working_per_s, N_REPS * 1e6 / next_per_s);

    for (size_t z = 0; z < N_ZONES; z++)
        tz_table_free(zones[z]);
    return 0;
}
