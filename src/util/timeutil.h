/*
 * timeutil.h - time as Baton stores and shows it.
 *
 * Instants are int64 milliseconds since the Unix epoch, UTC. The API shows
 * them as RFC 3339 with milliseconds and a "Z" ("2026-11-21T09:30:00.000Z").
 * Parsing accepts any RFC 3339 offset ("+02:00") and optional fractions.
 * Conversion is done by arithmetic on the civil calendar, never through the
 * process time zone, so it is thread-safe.
 *
 * The clock object is how the engine and server read "now": the real clock
 * in production, a manual one in tests and simulation.
 */
#ifndef BT_TIMEUTIL_H
#define BT_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFC3339_MAX 32

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least RFC3339_MAX bytes). */
void time_format_rfc3339(int64_t ms, char *buf);

/* The instants Baton can write: years 0000 to 9999 (time_format_rfc3339
 * has four digits for the year). */
#define TIME_MIN_MS (-62167219200000LL) /* 0000-01-01T00:00:00.000Z */
#define TIME_MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/*
 * Parses an RFC 3339 timestamp; false when malformed or out of range: an
 * impossible date or time, a second of 60 (a leap second: Unix time has no
 * room for it, and clamping it to :59 would store another instant than the
 * one sent), or an instant outside TIME_MIN_MS..TIME_MAX_MS once the offset
 * is applied. Every time Baton reads (API, CLI, state files) goes through
 * this one parser.
 */
bool time_parse_rfc3339(const char *s, int64_t *ms_out);

/* Days since 1970-01-01 for a civil date, and back (proleptic Gregorian). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Monotonic milliseconds, for timeouts and measurements only. */
int64_t time_monotonic_ms(void);

struct clock {
    int64_t (*now_ms)(struct clock *c);
    int64_t manual_ms; /* used by the manual clock */
};

/* The system's real-time clock. The returned object is static and shared. */
struct clock *clock_real(void);
/* A clock that reads `start_ms` until set or advanced; caller-owned value. */
void clock_manual_init(struct clock *c, int64_t start_ms);
void clock_manual_set(struct clock *c, int64_t ms);
/* Moves a manual clock to `ms` unless it already reads later (concurrent
 * callers never move it backwards); false when it did not move. */
bool clock_manual_advance_to(struct clock *c, int64_t ms);

static inline int64_t clock_now(struct clock *c)
{
    return c->now_ms(c);
}

#endif
