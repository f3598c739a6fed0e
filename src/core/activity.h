/*
 * activity.h - what every part of Baton agrees an activity type looks like:
 * 1 to 64 lower-case letters, digits and underscores ("demo_request"). The
 * API refuses other types, the config refuses rules naming them, and the
 * rule language's activity.TYPE.* paths use the same test.
 */
#ifndef BT_CORE_ACTIVITY_H
#define BT_CORE_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>

#define ACTIVITY_TYPE_MAX 64

bool activity_type_valid(const char *s, size_t len);

#endif
