/*
 * testtime.h - instants and zones for the unit tests that need them: an
 * RFC 3339 literal as ms (T("2026-11-24T09:00:00Z")), a zone table by
 * name, each failing the test on a typo, and assert_instant() that prints
 * instants as RFC 3339 when they differ. Include after <cmocka.h>.
 */
#ifndef BT_TEST_TESTTIME_H
#define BT_TEST_TESTTIME_H

#include "util/timeutil.h"
#include "util/tzdb.h"

static inline int64_t T(const char *rfc3339)
{
    int64_t ms = 0;
    if (!time_parse_rfc3339(rfc3339, &ms))
        fail_msg("bad timestamp in test: %s", rfc3339);
    return ms;
}

/* The caller frees it with tz_table_free(). */
static inline struct tz_table *zone(const char *name)
{
    struct tz_table *t = NULL;
    struct bt_error e = BT_ERROR_INIT;
    if (tz_table_new(name, &t, &e) != BT_OK)
        fail_msg("%s: %s", name, e.message);
    return t;
}

/* Asserts equality of instants, printing both as RFC 3339 when they differ. */
#define assert_instant(actual, expected) assert_instant_at((actual), (expected), __FILE__, __LINE__)

static inline void assert_instant_at(int64_t actual, int64_t expected, const char *file, int line)
{
    if (actual == expected)
        return;
    char a[RFC3339_MAX], b[RFC3339_MAX];
    time_format_rfc3339(actual, a);
    time_format_rfc3339(expected, b);
    print_error("got %s (%lld), expected %s (%lld)\n", a, (long long)actual, b,
                (long long)expected);
    _fail(file, line);
}

#endif
