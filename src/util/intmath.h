/*
 * intmath.h - integer arithmetic that C leaves out: division rounding
 * towards minus infinity (day numbers before 1970 are negative) and
 * addition that saturates instead of overflowing. Header-only.
 */
#ifndef BT_INTMATH_H
#define BT_INTMATH_H

#include <stdint.h>

/* a / b rounded down (b != 0): int_floor_div(-1, 86400000) is -1. */
static inline int64_t int_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* a + b, or INT64_MAX / INT64_MIN where that would overflow. */
static inline int64_t int_add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

#endif
