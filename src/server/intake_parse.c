/*
 * intake_parse.c - JSON and form bodies to struct lead_input. JSON is parsed
 * by jansson (which also rejects invalid UTF-8 and NUL escapes); the form
 * decoder is ours because it must run without a connection object, so that
 * it can be fuzzed, and is twenty lines.
 */
#include "server/intake_parse.h"
#include "core/activity.h"
#include "core/normalize.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Custom field values: scalars only, so rules can compare them. */
static bt_err check_fields(json_t *fields, struct bt_error *err)
{
    if (!json_is_object(fields))
        return bt_fail(err, BT_EINVAL, "fields", "fields must be an object");
    if (json_object_size(fields) > LEAD_FIELDS_MAX_KEYS)
        return bt_fail(err, BT_EINVAL, "fields", "at most %d custom fields are allowed",
                       LEAD_FIELDS_MAX_KEYS);
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v)
    {
        size_t klen = strlen(key);
        if (klen == 0 || klen > LEAD_FIELD_KEY_MAX || text_has_control(key))
            return bt_fail(err, BT_EINVAL, "fields",
                           "custom field names must be 1 to %d printable characters",
                           LEAD_FIELD_KEY_MAX);
        if (json_is_object(v) || json_is_array(v))
            return bt_fail(err, BT_EINVAL, "fields",
                           "custom field '%.64s' must be a string, number, boolean or null", key);
        if (json_is_string(v) && text_has_control(json_string_value(v)))
            return bt_fail(err, BT_EINVAL, "fields",
                           "custom field '%.64s' contains control characters", key);
    }
    return BT_OK;
}

static bt_err dump_fields(json_t *fields, struct arena *a, struct lead_input *out,
                          struct bt_error *err)
{
    char *s = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        return bt_fail(err, BT_EINVAL, "fields", "custom fields cannot be encoded");
    bt_err rc = BT_OK;
    if (strlen(s) > LEAD_FIELDS_MAX_BYTES)
        rc = bt_fail(err, BT_EINVAL, "fields", "custom fields exceed %d bytes",
                     LEAD_FIELDS_MAX_BYTES);
    else if (!(out->fields_json = arena_strdup(a, s)))
        rc = bt_fail(err, BT_ETOOBIG, "fields", "request too large");
    free(s);
    return rc;
}

static bt_err set_text(struct arena *a, const char *name, const char *value, const char **slot,
                       struct bt_error *err)
{
    if (text_has_control(value))
        return bt_fail(err, BT_EINVAL, name, "%s contains control characters", name);
    if (!(*slot = arena_strdup(a, value)))
        return bt_fail(err, BT_ETOOBIG, name, "request too large");
    return BT_OK;
}

/* The body as a JSON object (repeated keys refused): BT_EPARSE naming the
 * line and column, or BT_EINVAL with `not_object` for any other value. */
static bt_err load_object(const char *body, size_t len, const char *not_object, json_t **out,
                          struct bt_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return bt_fail(err, BT_EPARSE, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return bt_fail(err, BT_EINVAL, NULL, "%s", not_object);
    }
    *out = root;
    return BT_OK;
}

bt_err intake_parse_json(const char *body, size_t len, struct arena *a, struct lead_input *out,
                         struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *root;
    bt_err rc = load_object(body, len, "the body must be a JSON object", &root, err);
    if (rc)
        return rc;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (json_is_null(v))
            continue; /* null means absent */
        int i = lead_attr_find(key);
        if (i >= 0 && lead_attrs[i].input) {
            if (!json_is_string(v)) {
                rc = bt_fail(err, BT_EINVAL, key, "%s must be a string", key);
                goto done;
            }
            if ((rc = set_text(a, key, json_string_value(v), &out->attr[i], err)))
                goto done;
        } else if (!strcmp(key, "employees")) {
            char num[32];
            const char *s = num;
            if (json_is_integer(v))
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v)) {
                /* A count is whole: round to the nearest (halves away from
                 * zero) and keep what was sent, for normalisation's warning. */
                double sent = json_real_value(v), whole = round(sent);
                snprintf(num, sizeof(num), "%.0f", whole);
                if (whole != sent) {
                    char text[32];
                    snprintf(text, sizeof(text), "%.15g", sent);
                    out->employees_sent = arena_strdup(a, text);
                    if (!out->employees_sent) {
                        rc = bt_fail(err, BT_ETOOBIG, key, "the request is too large");
                        goto done;
                    }
                }
            } else if (json_is_string(v))
                s = json_string_value(v);
            else {
                rc = bt_fail(err, BT_EINVAL, key, "employees must be a number or a string");
                goto done;
            }
            if (strlen(s) > LEAD_EMPLOYEES_RAW_MAX) {
                rc = bt_fail(err, BT_EINVAL, key, "employees is longer than %d characters",
                             LEAD_EMPLOYEES_RAW_MAX);
                goto done;
            }
            if ((rc = set_text(a, key, s, &out->employees, err)))
                goto done;
        } else if (!strcmp(key, "fields")) {
            if ((rc = check_fields(v, err)) || (rc = dump_fields(v, a, out, err)))
                goto done;
        } else {
            rc = bt_fail(err, BT_EINVAL, key, "unknown field '%.64s'", key);
            goto done;
        }
    }
done:
    json_decref(root);
    return rc;
}

const char *intake_form_decode(struct arena *a, const char *s, size_t len)
{
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[n++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= len)
                return NULL;
            int hi = text_hex_value(s[i + 1]), lo = text_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    if (!utf8_valid(out, n) || memchr(out, '\0', n))
        return NULL;
    return out;
}

bt_err intake_parse_form(const char *body, size_t len, struct arena *a, struct lead_input *out,
                         struct form_controls *controls, struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(controls, 0, sizeof(*controls));
    json_t *fields = json_object();
    bt_err rc = BT_OK;
    size_t pos = 0;
    while (pos < len) {
        const char *pair = body + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - pair) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        const char *name = intake_form_decode(a, pair, klen);
        const char *value = eq ? intake_form_decode(a, eq + 1, plen - klen - 1) : "";
        if (!name || !value) {
            rc = bt_fail(err, BT_EPARSE, name,
                         "malformed form data: bad %%-escape or invalid UTF-8");
            goto done;
        }
        int i = lead_attr_find(name);
        if (i >= 0 && lead_attrs[i].input) {
            if ((rc = set_text(a, name, value, &out->attr[i], err)))
                goto done;
        } else if (!strcmp(name, "employees")) {
            if (strlen(value) > LEAD_EMPLOYEES_RAW_MAX) {
                rc = bt_fail(err, BT_EINVAL, name, "employees is longer than %d characters",
                             LEAD_EMPLOYEES_RAW_MAX);
                goto done;
            }
            if ((rc = set_text(a, name, value, &out->employees, err)))
                goto done;
        } else if (name[0] == '_') {
            if (!strcmp(name, "_redirect"))
                controls->redirect = value;
        } else {
            const char *key = name;
            size_t nlen = strlen(name);
            if (!strncmp(name, "fields[", 7) && nlen > 8 && name[nlen - 1] == ']')
                key = arena_strndup(a, name + 7, nlen - 8);
            else if (!strncmp(name, "fields.", 7) && nlen > 7)
                key = name + 7;
            if (!key) {
                rc = bt_fail(err, BT_ETOOBIG, NULL, "request too large");
                goto done;
            }
            json_object_set_new(fields, key, json_string(value));
        }
    }
    if (json_object_size(fields) > 0 &&
        ((rc = check_fields(fields, err)) || (rc = dump_fields(fields, a, out, err))))
        goto done;
done:
    json_decref(fields);
    return rc;
}

/* ---- a defined form's pairs ---- */

/* Tabs and line breaks are fine in a form's value (a textarea); other
 * control characters are not. */
static bool value_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7F)
            return false;
    return true;
}

static bt_err add_pair(struct arena *a, struct intake_pair *pairs, size_t *n, const char *name,
                       const char *value, struct bt_error *err)
{
    if (*n == INTAKE_PAIRS_MAX)
        return bt_fail(err, BT_EINVAL, NULL, "at most %d inputs", INTAKE_PAIRS_MAX);
    if (!name[0] || strlen(name) > 256 || text_has_control(name))
        return bt_fail(err, BT_EINVAL, NULL, "input names must be 1 to 256 printable characters");
    if (!value_ok(value))
        return bt_fail(err, BT_EINVAL, name, "%.64s contains control characters", name);
    pairs[*n].name = name;
    pairs[*n].value = value;
    (*n)++;
    (void)a;
    return BT_OK;
}

bt_err intake_parse_pairs(const char *body, size_t len, bool json, struct arena *a,
                          struct intake_pair **pairs_out, size_t *n, struct bt_error *err)
{
    *n = 0;
    struct intake_pair *pairs = arena_alloc(a, INTAKE_PAIRS_MAX * sizeof(*pairs));
    *pairs_out = pairs;
    if (!pairs)
        return bt_fail(err, BT_ETOOBIG, NULL, "request too large");
    if (!json) {
        size_t pos = 0;
        while (pos < len) {
            const char *pair = body + pos;
            const char *amp = memchr(pair, '&', len - pos);
            size_t plen = amp ? (size_t)(amp - pair) : len - pos;
            pos += plen + 1;
            if (plen == 0)
                continue;
            const char *eq = memchr(pair, '=', plen);
            size_t klen = eq ? (size_t)(eq - pair) : plen;
            const char *name = intake_form_decode(a, pair, klen);
            const char *value = eq ? intake_form_decode(a, eq + 1, plen - klen - 1) : "";
            if (!name || !value)
                return bt_fail(err, BT_EPARSE, NULL,
                               "malformed form data: bad %%-escape or invalid UTF-8");
            bt_err rc = add_pair(a, pairs, n, name, value, err);
            if (rc)
                return rc;
        }
        return BT_OK;
    }
    json_t *root;
    bt_err rc =
        load_object(body, len, "the body must be a JSON object of the form's inputs", &root, err);
    if (rc)
        return rc;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        char num[40];
        const char *text;
        if (json_is_null(v))
            continue;
        if (json_is_string(v))
            text = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)), text = num;
        else if (json_is_real(v))
            snprintf(num, sizeof(num), "%.15g", json_real_value(v)), text = num;
        else if (json_is_boolean(v))
            text = json_is_true(v) ? "true" : "false";
        else {
            rc = bt_fail(err, BT_EINVAL, key, "%.64s must be a string, number or boolean", key);
            goto done;
        }
        /* jansson's strings may hold NUL (\u0000): refuse them, as the form decoder does */
        if (json_is_string(v) && strlen(text) != json_string_length(v)) {
            rc = bt_fail(err, BT_EINVAL, key, "%.64s contains a NUL character", key);
            goto done;
        }
        const char *name = arena_strdup(a, key), *value = arena_strdup(a, text);
        if (!name || !value) {
            rc = bt_fail(err, BT_ETOOBIG, NULL, "request too large");
            goto done;
        }
        if ((rc = add_pair(a, pairs, n, name, value, err)))
            goto done;
    }
done:
    json_decref(root);
    return rc;
}

bt_err intake_mark_disposable(struct lead *lead, const struct freemail_set *disposable,
                              struct arena *a, struct bt_error *err)
{
    const char *domain = lead->attr[LEAD_EMAIL_DOMAIN];
    if (!domain || !freemail_contains(disposable, domain))
        return BT_OK;
    json_t *fields = json_loads(lead->fields_json ? lead->fields_json : "{}", 0, NULL);
    if (!json_is_object(fields)) {
        json_decref(fields);
        fields = json_object();
    }
    json_object_set_new(fields, "email_disposable", json_true());
    bt_err rc = json_object_size(fields) > LEAD_FIELDS_MAX_KEYS
                    ? bt_fail(err, BT_EINVAL, "fields", "at most %d custom fields are allowed",
                              LEAD_FIELDS_MAX_KEYS)
                    : BT_OK;
    struct lead_input tmp = {0};
    if (!rc)
        rc = dump_fields(fields, a, &tmp, err);
    if (!rc)
        lead->fields_json = tmp.fields_json;
    json_decref(fields);
    return rc;
}

/* ---- activities ---- */

#define ACTIVITIES_MAX_BATCH          100
#define ACTIVITY_PROPERTIES_MAX_KEYS  32
#define ACTIVITY_PROPERTIES_MAX_BYTES 8192
#define ACTIVITY_FUTURE_SLACK_MS      (5 * 60 * 1000)

/* Parses one activity object into `it`; `by_email` requires and reads "email". */
static bt_err parse_activity(json_t *o, const char *where, bool by_email, int64_t now,
                             const struct freemail_set *fm, struct arena *a,
                             struct activity_item *it, struct bt_error *err)
{
    char field[64];
    if (!json_is_object(o))
        return bt_fail(err, BT_EINVAL, where[0] ? where : NULL, "%s must be an object",
                       where[0] ? where : "the body");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        snprintf(field, sizeof(field), "%s%s%s", where, where[0] ? "." : "", key);
        if (!strcmp(key, "type")) {
            if (!json_is_string(v) ||
                !activity_type_valid(json_string_value(v), strlen(json_string_value(v))))
                return bt_fail(err, BT_EINVAL, field,
                               "type must be 1 to 64 lower-case letters, digits or underscores, "
                               "e.g. demo_request");
            it->act.type = arena_strdup(a, json_string_value(v));
        } else if (!strcmp(key, "occurred_at")) {
            int64_t at;
            if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), &at))
                return bt_fail(err, BT_EINVAL, field,
                               "occurred_at must be an RFC 3339 timestamp such as "
                               "2026-11-21T09:30:00Z");
            if (at > now + ACTIVITY_FUTURE_SLACK_MS)
                return bt_fail(err, BT_EINVAL, field, "occurred_at is in the future");
            if (at < 946684800000LL)
                return bt_fail(err, BT_EINVAL, field, "occurred_at is before the year 2000");
            it->act.occurred_at = at;
        } else if (!strcmp(key, "properties")) {
            if (!json_is_object(v) || json_object_size(v) > ACTIVITY_PROPERTIES_MAX_KEYS)
                return bt_fail(err, BT_EINVAL, field,
                               "properties must be an object of at most %d keys",
                               ACTIVITY_PROPERTIES_MAX_KEYS);
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv)
            {
                if (json_is_object(pv) || json_is_array(pv) || strlen(pk) == 0 || strlen(pk) > 64 ||
                    text_has_control(pk) ||
                    (json_is_string(pv) && text_has_control(json_string_value(pv))))
                    return bt_fail(err, BT_EINVAL, field,
                                   "property '%.64s' must have a name of 1 to 64 printable "
                                   "characters and a string, number, boolean or null value",
                                   pk);
            }
            char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
            bool too_big = strlen(s) > ACTIVITY_PROPERTIES_MAX_BYTES;
            it->act.properties_json = arena_strdup(a, s);
            free(s);
            if (too_big)
                return bt_fail(err, BT_EINVAL, field, "properties exceed %d bytes",
                               ACTIVITY_PROPERTIES_MAX_BYTES);
        } else if (by_email && !strcmp(key, "email")) {
            const char *email, *domain;
            if (!json_is_string(v))
                return bt_fail(err, BT_EINVAL, field, "email must be a string");
            const char *trimmed = normalize_trim(a, json_string_value(v));
            bt_err rc = trimmed ? normalize_email(a, trimmed, &email, &domain, err)
                                : bt_fail(err, BT_EINVAL, field, "email is empty");
            if (rc) {
                if (err) /* name the item, not just "email" */
                    snprintf(err->field, sizeof(err->field), "%s", field);
                return rc;
            }
            it->email = email;
            it->email_domain = domain;
            it->email_free = freemail_contains(fm, domain);
        } else {
            return bt_fail(err, BT_EINVAL, field, "unknown field '%.64s'", key);
        }
    }
    if (!it->act.type) {
        snprintf(field, sizeof(field), "%s%stype", where, where[0] ? "." : "");
        return bt_fail(err, BT_EINVAL, field, "an activity needs a type");
    }
    if (by_email && !it->email) {
        snprintf(field, sizeof(field), "%s%semail", where, where[0] ? "." : "");
        return bt_fail(err, BT_EINVAL, field,
                       "an activity sent to /v1/activities needs the "
                       "lead's email");
    }
    if (!it->act.occurred_at)
        it->act.occurred_at = now;
    if (!it->act.properties_json)
        it->act.properties_json = "{}";
    return BT_OK;
}

/* A body is one activity or {"activities": [...]}. */
bt_err intake_parse_activities(const char *body, size_t len, bool by_email, int64_t now,
                               const struct freemail_set *fm, struct arena *a,
                               struct activity_item **items, size_t *n, struct bt_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return bt_fail(err, BT_EPARSE, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    bt_err rc = BT_OK;
    json_t *list = json_is_object(root) ? json_object_get(root, "activities") : NULL;
    if (list) {
        if (json_object_size(root) != 1) {
            rc = bt_fail(err, BT_EINVAL, NULL, "a batch body has only the key \"activities\"");
            goto done;
        }
        if (!json_is_array(list) || json_array_size(list) == 0 ||
            json_array_size(list) > ACTIVITIES_MAX_BATCH) {
            rc = bt_fail(err, BT_EINVAL, "activities",
                         "activities must be a list of 1 to %d activities", ACTIVITIES_MAX_BATCH);
            goto done;
        }
        *n = json_array_size(list);
        *items = arena_alloc(a, sizeof(**items) * *n);
        if (!*items) {
            rc = bt_fail(err, BT_ETOOBIG, NULL, "request too large");
            goto done;
        }
        for (size_t i = 0; i < *n && !rc; i++) {
            char where[40];
            snprintf(where, sizeof(where), "activities[%zu]", i);
            rc = parse_activity(json_array_get(list, i), where, by_email, now, fm, a, &(*items)[i],
                                err);
        }
    } else {
        *n = 1;
        *items = arena_alloc(a, sizeof(**items));
        rc = !*items ? bt_fail(err, BT_ETOOBIG, NULL, "request too large")
                     : parse_activity(root, "", by_email, now, fm, a, &(*items)[0], err);
    }
done:
    json_decref(root);
    return rc;
}
