/*
 * intake_parse.h - request bodies to struct lead_input.
 *
 * Two formats reach POST /v1/leads:
 * - JSON (application/json): one object whose keys are the input attributes
 *   of core/lead.h, "employees" (a number or a string) and "fields" (an
 *   object of custom attributes whose values are strings, numbers, booleans or
 *   null). Unknown keys and wrong types are errors naming the field.
 * - Form (application/x-www-form-urlencoded), so that a website's HTML form
 *   can post directly: known names map to attributes; "fields[x]" and
 *   "fields.x" to custom field x; names beginning with "_" are controls
 *   ("_redirect": where to send the browser afterwards); any other name
 *   becomes a custom field, so a form's extra inputs are kept rather than
 *   refused. When a name repeats, the last value wins.
 * Both reject invalid UTF-8 and control characters in attribute values.
 * Neither trims or normalises: that is core/normalize's job.
 *
 * Pure functions (no I/O); results live in the caller's arena.
 */
#ifndef BT_INTAKE_PARSE_H
#define BT_INTAKE_PARSE_H

#include "core/lead.h"
#include "engine/engine.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors are BT_EPARSE (not JSON / not a form / invalid UTF-8) or
 * BT_EINVAL (a field of the wrong type or unknown), with the field named. */
bt_err intake_parse_json(const char *body, size_t len, struct arena *a, struct lead_input *out,
                         struct bt_error *err) BT_MUST_USE;

/* Control fields a form may carry besides the lead. */
struct form_controls {
    const char *redirect; /* "_redirect", or NULL */
};

bt_err intake_parse_form(const char *body, size_t len, struct arena *a, struct lead_input *out,
                         struct form_controls *controls, struct bt_error *err) BT_MUST_USE;

/*
 * A defined form's submission (POST /v1/forms/{id}) as name/value pairs,
 * before the form's definition says what they mean: a form-encoded body
 * (`json` false; names and values decoded) or a JSON object (`json` true)
 * whose values are strings, numbers or booleans (as text) or null (left
 * out). At most INTAKE_PAIRS_MAX pairs; values without control characters
 * other than tab and line breaks (a textarea). Pairs live in the arena, in
 * body order; a repeated name is kept each time (the caller takes the last).
 */
#define INTAKE_PAIRS_MAX 128

struct intake_pair {
    const char *name;
    const char *value;
};

bt_err intake_parse_pairs(const char *body, size_t len, bool json, struct arena *a,
                          struct intake_pair **pairs, size_t *n, struct bt_error *err) BT_MUST_USE;

/*
 * Flags a lead whose email domain is in `disposable` (a throwaway inbox):
 * sets the custom field "email_disposable" to true in lead->fields_json
 * (rules read it as fields.email_disposable). BT_EINVAL when the fields
 * would then exceed their limits.
 */
struct freemail_set;
bt_err intake_mark_disposable(struct lead *lead, const struct freemail_set *disposable,
                              struct arena *a, struct bt_error *err) BT_MUST_USE;

/*
 * Decodes one application/x-www-form-urlencoded component ("a+b%20c" ->
 * "a b c") into the arena. Returns NULL on a malformed escape or invalid
 * UTF-8 in the result.
 */
const char *intake_form_decode(struct arena *a, const char *s, size_t len);

/*
 * Activity bodies: one activity object, or {"activities": [up to 100]}. An
 * activity is {"type": "demo_request", "occurred_at": RFC 3339 (default
 * `now`; at most 5 minutes in the future), "properties": {scalars, at most
 * 32 keys, 8 KiB}}; with `by_email` it also needs "email" (normalised here,
 * with the free-mail flag from `fm`). Errors name the field, e.g.
 * "activities[2].type". Items are allocated in the arena.
 */
struct freemail_set;
bt_err intake_parse_activities(const char *body, size_t len, bool by_email, int64_t now,
                               const struct freemail_set *fm, struct arena *a,
                               struct activity_item **items, size_t *n,
                               struct bt_error *err) BT_MUST_USE;

#endif
