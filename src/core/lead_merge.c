/*
 * lead_merge.c - merging a returning person's data into their lead. The rules
 * are in lead_merge.h; jansson is used as a data structure only.
 */
#include "core/lead_merge.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void record(struct lead_merge_result *out, const char *field, const char *before,
                   const char *after)
{
    if (out->n_changes == LEAD_MERGE_MAX_CHANGES)
        return;
    out->changes[out->n_changes++] = (struct lead_change){field, before, after};
}

/* Copies the attribute when it differs, recording the change. */
static void take(struct lead_merge_result *out, const struct lead *in, enum lead_attr i)
{
    if (same(out->merged.attr[i], in->attr[i]))
        return;
    record(out, lead_attrs[i].name, out->merged.attr[i], in->attr[i]);
    out->merged.attr[i] = in->attr[i];
}

static char *json_text(struct arena *a, json_t *v)
{
    if (!v)
        return NULL;
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    char *copy = arena_strdup(a, s);
    free(s);
    return copy;
}

/* The length of v as compact JSON. */
static size_t json_length(const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    size_t n = s ? strlen(s) : 0;
    free(s);
    return n;
}

/*
 * Merges the custom fields. Replacing, a merge that would go past the
 * limits is refused. Filling only, a new key that does not fit is left out
 * (the keys are taken in the order sent, each if there is room): a public
 * source must not learn from a refusal that the person exists and has many
 * fields, and a full lead has nothing left to fill.
 */
static bt_err merge_fields(const struct lead *existing, const struct lead *incoming,
                           enum lead_merge_mode mode, struct arena *a,
                           struct lead_merge_result *out, struct bt_error *err)
{
    json_error_t jerr;
    json_t *base = json_loads(existing->fields_json ? existing->fields_json : "{}", 0, &jerr);
    json_t *add = json_loads(incoming->fields_json ? incoming->fields_json : "{}", 0, &jerr);
    bool fill = mode == LEAD_MERGE_FILL_ONLY;
    bt_err rc = BT_OK;
    if (!json_is_object(base) || !json_is_object(add)) {
        rc = bt_fail(err, BT_EPARSE, "fields", "custom fields are not a JSON object");
        goto done;
    }
    size_t length = fill ? json_length(base) : 0; /* of base as compact JSON */
    const char *key;
    json_t *value;
    size_t changed = 0;
    json_object_foreach(add, key, value)
    {
        json_t *old = json_object_get(base, key);
        if (old && (json_equal(old, value) || fill))
            continue;
        if (fill) {
            /* a new key: ',' (unless the first), "key", ':' and the value */
            json_t *k = json_string(key);
            size_t more =
                (json_object_size(base) ? 1 : 0) + json_length(k) + 1 + json_length(value);
            json_decref(k);
            if (json_object_size(base) >= LEAD_FIELDS_MAX_KEYS ||
                length + more > LEAD_FIELDS_MAX_BYTES)
                continue;
            length += more;
        }
        record(out, arena_printf(a, "fields.%s", key), json_text(a, old), json_text(a, value));
        json_object_set(base, key, value);
        changed++;
    }
    if (!changed) {
        out->merged.fields_json = existing->fields_json;
        goto done;
    }
    if (json_object_size(base) > LEAD_FIELDS_MAX_KEYS) {
        rc = bt_fail(err, BT_EINVAL, "fields", "merged custom fields would exceed %d keys",
                     LEAD_FIELDS_MAX_KEYS);
        goto done;
    }
    char *s = json_dumps(base, JSON_COMPACT | JSON_SORT_KEYS);
    if (strlen(s) > LEAD_FIELDS_MAX_BYTES)
        rc = bt_fail(err, BT_EINVAL, "fields", "merged custom fields would exceed %d bytes",
                     LEAD_FIELDS_MAX_BYTES);
    else
        out->merged.fields_json = arena_strdup(a, s);
    free(s);
done:
    json_decref(base);
    json_decref(add);
    return rc;
}

bt_err lead_merge(const struct lead *existing, const struct lead *incoming,
                  enum lead_merge_mode mode, struct arena *arena, struct lead_merge_result *out,
                  struct bt_error *err)
{
    out->merged = *existing;
    out->n_changes = 0;
    bool fill = mode == LEAD_MERGE_FILL_ONLY;

    for (int i = 0; i < LEAD_INPUT_ATTR_COUNT; i++) {
        if (i == LEAD_EMAIL || !incoming->attr[i])
            continue;
        if ((i == LEAD_EXTERNAL_ID || fill) && existing->attr[i])
            continue;
        if (i == LEAD_COUNTRY)
            continue; /* handled with its raw form below */
        take(out, incoming, (enum lead_attr)i);
        if (i == LEAD_WEBSITE)
            take(out, incoming, LEAD_WEBSITE_DOMAIN);
    }
    /* A country was sent when either its code or its raw text is present. */
    bool country_known = existing->attr[LEAD_COUNTRY] || existing->attr[LEAD_COUNTRY_INPUT];
    if ((incoming->attr[LEAD_COUNTRY] || incoming->attr[LEAD_COUNTRY_INPUT]) &&
        !(fill && country_known)) {
        take(out, incoming, LEAD_COUNTRY);
        take(out, incoming, LEAD_COUNTRY_INPUT);
    }
    if (incoming->employees >= 0 && incoming->employees != existing->employees &&
        !(fill && existing->employees >= 0)) {
        char before[32] = "", after[32];
        if (existing->employees >= 0)
            snprintf(before, sizeof(before), "%lld", (long long)existing->employees);
        snprintf(after, sizeof(after), "%lld", (long long)incoming->employees);
        record(out, "employees", existing->employees >= 0 ? arena_strdup(arena, before) : NULL,
               arena_strdup(arena, after));
        out->merged.employees = incoming->employees;
        take(out, incoming, LEAD_EMPLOYEES_BAND);
    }
    return merge_fields(existing, incoming, mode, arena, out, err);
}
