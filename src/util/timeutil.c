/*
 * timeutil.c - civil-calendar arithmetic (days from/to year-month-day, the
 * well-known era-based algorithm) and RFC 3339 text, with no use of the
 * process TZ, localtime() or mktime().
 */
#include "util/timeutil.h"
#include "util/intmath.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void time_format_rfc3339(int64_t ms, char *buf)
{
    int64_t days = int_floor_div(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    unsigned hh = (unsigned)(rem / 3600000), mm = (unsigned)(rem / 60000 % 60);
    unsigned ss = (unsigned)(rem / 1000 % 60), milli = (unsigned)(rem % 1000);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    snprintf(buf, RFC3339_MAX, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo, d, hh, mm,
             ss, milli);
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool time_parse_rfc3339(const char *s, int64_t *ms_out)
{
    int y, mo, d, hh, mi, ss;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &ss))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || hh > 23 ||
        mi > 59 || ss > 59)
        return false;
    const char *p = s + 19;
    int milli = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 3)
                milli = milli * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return false;
        for (; n < 3; n++)
            milli *= 10;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t ms = ((days * 86400 + hh * 3600 + mi * 60 + ss) - offset_min * 60) * 1000 + milli;
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS)
        return false; /* "0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00" */
    *ms_out = ms;
    return true;
}

int64_t time_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_now(struct clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t manual_now(struct clock *c)
{
    return __atomic_load_n(&c->manual_ms, __ATOMIC_ACQUIRE);
}

struct clock *clock_real(void)
{
    static struct clock real = {real_now, 0};
    return &real;
}

void clock_manual_init(struct clock *c, int64_t start_ms)
{
    c->now_ms = manual_now;
    c->manual_ms = start_ms;
}

void clock_manual_set(struct clock *c, int64_t ms)
{
    __atomic_store_n(&c->manual_ms, ms, __ATOMIC_RELEASE);
}

bool clock_manual_advance_to(struct clock *c, int64_t ms)
{
    int64_t cur = __atomic_load_n(&c->manual_ms, __ATOMIC_ACQUIRE);
    while (cur <= ms)
        if (__atomic_compare_exchange_n(&c->manual_ms, &cur, ms, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    return false;
}
