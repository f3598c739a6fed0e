/*
 * lead_json.h - JSON renderings of Baton's objects (jansson values; the
 * caller owns the returned reference). Timestamps are RFC 3339 UTC strings,
 * absent attributes null, scores rounded to two decimals.
 */
#ifndef BT_LEAD_JSON_H
#define BT_LEAD_JSON_H

#include "core/lead.h"
#include "core/score.h"
#include "store/store.h"

#include <jansson.h>

json_t *time_to_json(int64_t ms);
/* A JSON string, or null for NULL. */
json_t *text_to_json(const char *s);
/* The lead with every attribute, custom fields, and its score (or null). */
json_t *lead_to_json(const struct lead *lead);
json_t *event_to_json(const struct lead_event *ev);
json_t *activity_to_json(const struct activity *a);

#endif
