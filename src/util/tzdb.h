/*
 * tzdb.h - IANA time zones as immutable tables of UTC offsets.
 *
 * A `struct tz_table` is the whole history of one zone's UTC offset as a
 * sorted array of {first UTC instant, offset}: entry i applies from
 * transitions[i].utc_ms_from up to transitions[i + 1].utc_ms_from. The first
 * entry starts at INT64_MIN and carries the offset in force on 1970-01-01;
 * the table lists every change from then until 2100-01-01 and the last entry
 * extends for ever (in a zone with daylight saving time, instants after 2100
 * keep the offset in force at that moment).
 *
 * The data comes from ICU (libicu), the zone database most distributions keep
 * up to date, and is read only here, when the configuration loads. Decisions
 * (core/workhours.h) use the table alone: a binary search and calendar
 * arithmetic, no ICU, no process time zone, no locks. A table never changes
 * after tz_table_new() returns it, so any number of threads may read it.
 */
#ifndef BT_UTIL_TZDB_H
#define BT_UTIL_TZDB_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

/* Longest accepted zone name ("America/Argentina/ComodRivadavia" is 32). */
#define TZ_NAME_MAX 64
/* Most offset changes one table may hold (the busiest zones have ~600). */
#define TZ_TRANSITIONS_MAX 4096

struct tz_transition {
    int64_t utc_ms_from; /* first instant (ms since the epoch, UTC) of this offset */
    int32_t offset_ms;   /* local time minus UTC, daylight saving included */
};

struct tz_table {
    char name[TZ_NAME_MAX];         /* the zone id as configured, e.g. "Europe/Berlin" */
    char canonical[TZ_NAME_MAX];    /* ICU's canonical id ("US/Eastern" -> "America/New_York") */
    char data_version[16];          /* the zone database's version, e.g. "2022e" */
    size_t count;                   /* >= 1 */
    struct tz_transition *transits; /* count entries, strictly increasing utc_ms_from */
};

/*
 * Builds the table of the IANA zone `name` ("Europe/Berlin", "UTC",
 * "Asia/Kolkata"; legacy links such as "US/Eastern" are accepted). Returns
 * BT_EINVAL, with a message naming the zone, for a name that is empty, too
 * long, not plain ASCII, unknown to the zone database, or a custom offset
 * such as "GMT+05:00" rather than a zone. On success *out is a new table the
 * caller frees with tz_table_free(). Meant for configuration loading: it
 * walks the zone's transitions through ICU and allocates.
 */
bt_err tz_table_new(const char *name, struct tz_table **out, struct bt_error *e) BT_MUST_USE;

/* Frees a table; NULL does nothing. */
void tz_table_free(struct tz_table *table);

#endif
