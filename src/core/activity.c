/*
 * activity.c - the activity type syntax (see activity.h).
 */
#include "core/activity.h"

bool activity_type_valid(const char *s, size_t len)
{
    if (len == 0 || len > ACTIVITY_TYPE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}
