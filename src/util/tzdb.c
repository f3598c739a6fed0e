/*
 * tzdb.c - builds a zone's offset table from ICU.
 *
 * ICU is asked once per zone: ucal_open() on the zone id, then
 * ucal_getTimeZoneTransitionDate(UTZTRANS_NEXT) from 1970 to 2100, reading the
 * total offset (raw + daylight saving) after each transition. ICU silently
 * falls back to "Etc/Unknown" (UTC) for a name it does not know, so the id is
 * checked first with ucal_getCanonicalTimeZoneID(). ICU reports transitions at
 * which only the split between raw and daylight offset changes (the total
 * stays the same); those are merged away, so consecutive entries always
 * differ in offset.
 */
#include "util/tzdb.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

/* 2100-01-01T00:00:00Z */
#define TZ_END_MS 4102444800000LL

static bool name_chars_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}

/* Converts ICU's zone id (invariant characters) to a C string; false if it does not fit. */
static bool uchars_to_name(const UChar *u, int32_t len, char *out, size_t cap)
{
    if (len < 0 || (size_t)len >= cap)
        return false;
    u_UCharsToChars(u, out, len);
    out[len] = '\0';
    return true;
}

static void push(struct tz_table *t, size_t *cap, int64_t from, int32_t offset)
{
    if (t->count > 0 && t->transits[t->count - 1].offset_ms == offset)
        return;
    if (t->count == *cap) {
        *cap *= 2;
        t->transits = xrealloc(t->transits, *cap * sizeof(*t->transits));
    }
    t->transits[t->count].utc_ms_from = from;
    t->transits[t->count].offset_ms = offset;
    t->count++;
}

static bool offset_at(UCalendar *cal, UDate when, int32_t *offset)
{
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(cal, when, &st);
    int32_t raw = ucal_get(cal, UCAL_ZONE_OFFSET, &st);
    int32_t dst = ucal_get(cal, UCAL_DST_OFFSET, &st);
    if (U_FAILURE(st))
        return false;
    *offset = raw + dst;
    return true;
}

bt_err tz_table_new(const char *name, struct tz_table **out, struct bt_error *e)
{
    *out = NULL;
    size_t len = strlen(name);
    if (len == 0)
        return bt_fail(e, BT_EINVAL, "timezone", "empty time zone name");
    if (len >= TZ_NAME_MAX || !name_chars_ok(name))
        return bt_fail(e, BT_EINVAL, "timezone", "not a time zone name: \"%.*s\"", TZ_NAME_MAX,
                       name);

    UChar id[TZ_NAME_MAX];
    u_charsToUChars(name, id, (int32_t)len);

    UChar canon[TZ_NAME_MAX];
    UBool system_id = 0;
    UErrorCode st = U_ZERO_ERROR;
    int32_t canon_len =
        ucal_getCanonicalTimeZoneID(id, (int32_t)len, canon, TZ_NAME_MAX, &system_id, &st);
    char canonical[TZ_NAME_MAX];
    if (U_FAILURE(st) || !system_id || !uchars_to_name(canon, canon_len, canonical, TZ_NAME_MAX) ||
        strcmp(canonical, "Etc/Unknown") == 0)
        return bt_fail(e, BT_EINVAL, "timezone",
                       "unknown time zone \"%s\" (expected an IANA name such as "
                       "\"Europe/Berlin\")",
                       name);

    st = U_ZERO_ERROR;
    UCalendar *cal = ucal_open(id, (int32_t)len, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || cal == NULL)
        return bt_fail(e, BT_EINVAL, "timezone", "time zone \"%s\": ICU cannot open it: %s", name,
                       u_errorName(st));

    struct tz_table *t = xcalloc(1, sizeof(*t));
    memcpy(t->name, name, len + 1);
    memcpy(t->canonical, canonical, strlen(canonical) + 1);
    st = U_ZERO_ERROR;
    const char *version = ucal_getTZDataVersion(&st);
    if (U_SUCCESS(st) && version != NULL && strlen(version) < sizeof(t->data_version))
        memcpy(t->data_version, version, strlen(version) + 1);
    size_t cap = 64;
    t->transits = xmalloc(cap * sizeof(*t->transits));

    bt_err rc = BT_OK;
    int32_t offset;
    if (!offset_at(cal, 0.0, &offset)) {
        rc = bt_fail(e, BT_EINVAL, "timezone", "time zone \"%s\": no offset for 1970", name);
        goto done;
    }
    push(t, &cap, INT64_MIN, offset);

    /* Each step moves the calendar to the transition found, so the next search starts there. */
    for (;;) {
        UDate next = 0;
        st = U_ZERO_ERROR;
        if (!ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &next, &st) ||
            U_FAILURE(st) || next >= (UDate)TZ_END_MS)
            break;
        if (!offset_at(cal, next, &offset)) {
            rc = bt_fail(e, BT_EINVAL, "timezone", "time zone \"%s\": no offset at a transition",
                         name);
            goto done;
        }
        if (t->count == TZ_TRANSITIONS_MAX) {
            rc = bt_fail(e, BT_EINVAL, "timezone", "time zone \"%s\": more than %d transitions",
                         name, TZ_TRANSITIONS_MAX);
            goto done;
        }
        int64_t from = (int64_t)next;
        if (from <= t->transits[t->count - 1].utc_ms_from)
            BT_BUG("ICU transitions of %s out of order", name);
        push(t, &cap, from, offset);
    }
    t->transits = xrealloc(t->transits, t->count * sizeof(*t->transits));

done:
    ucal_close(cal);
    if (rc != BT_OK) {
        tz_table_free(t);
        return rc;
    }
    *out = t;
    return BT_OK;
}

void tz_table_free(struct tz_table *table)
{
    if (table == NULL)
        return;
    free(table->transits);
    free(table);
}
