/*
 * lead_json.c - how leads, their scores, events and activities look in JSON:
 * one rendering shared by the API and the dry-run commands, so that
 * `baton score` prints exactly what the server would.
 */
#include "server/lead_json.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *time_to_json(int64_t ms)
{
    char buf[RFC3339_MAX];
    time_format_rfc3339(ms, buf);
    return json_string(buf);
}

json_t *text_to_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

/*
 * The predictive score from the reasons of kind "predicted" (core/decide.c
 * writes them): {probability, model, points, factors: {positive: [...],
 * negative: [...]}}, or null when the lead was scored without a model.
 */
static json_t *predicted_to_json(const json_t *reasons)
{
    json_t *out = NULL, *positive = json_array(), *negative = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(reasons, i, r)
    {
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *factor = json_string_value(json_object_get(r, "factor"));
        if (!kind || strcmp(kind, "predicted") || !factor)
            continue;
        if (!strcmp(factor, "model")) {
            json_decref(out);
            out = json_pack("{s:O?, s:O?, s:O?}", "probability", json_object_get(r, "probability"),
                            "model", json_object_get(r, "rule"), "points",
                            json_object_get(r, "counted"));
        } else {
            json_array_append_new(!strcmp(factor, "positive") ? positive : negative,
                                  json_pack("{s:O?, s:O?}", "feature", json_object_get(r, "rule"),
                                            "contribution", json_object_get(r, "contribution")));
        }
    }
    if (out)
        json_object_set_new(out, "factors",
                            json_pack("{s:O, s:O}", "positive", positive, "negative", negative));
    json_decref(positive);
    json_decref(negative);
    return out ? out : json_null();
}

static json_t *score_to_json(const struct lead_score *s)
{
    if (!s->scored)
        return json_null();
    json_error_t jerr;
    json_t *reasons = json_loads(s->reasons_json ? s->reasons_json : "[]", 0, &jerr);
    json_t *o =
        json_pack("{s:f, s:f, s:f, s:s, s:o, s:o}", "total", round2(s->total), "fit",
                  round2(s->fit), "engagement", round2(s->engagement), "grade", s->grade, "reasons",
                  reasons ? reasons : json_array(), "scored_at", time_to_json(s->scored_at));
    json_object_set_new(o, "rescore_at", s->rescore_at ? time_to_json(s->rescore_at) : json_null());
    json_object_set_new(o, "predicted", predicted_to_json(json_object_get(o, "reasons")));
    return o;
}

json_t *lead_to_json(const struct lead *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(l->id));
    for (int i = 0; i < LEAD_ATTR_COUNT; i++)
        json_object_set_new(o, lead_attrs[i].name, text_to_json(l->attr[i]));
    json_object_set_new(o, "email_free", json_boolean(l->email_free));
    json_object_set_new(o, "employees",
                        l->employees >= 0 ? json_integer(l->employees) : json_null());
    json_error_t jerr;
    json_t *fields = json_loads(l->fields_json ? l->fields_json : "{}", 0, &jerr);
    json_object_set_new(o, "fields", fields ? fields : json_object());
    json_object_set_new(o, "created_at", time_to_json(l->created_at));
    json_object_set_new(o, "updated_at", time_to_json(l->updated_at));
    json_object_set_new(o, "score", score_to_json(&l->score));
    if (l->account_id) {
        json_t *match = l->account_match_json ? json_loads(l->account_match_json, 0, &jerr) : NULL;
        json_object_set_new(
            o, "account",
            json_pack("{s:s, s:o}", "id", l->account_id, "match", match ? match : json_null()));
    } else {
        json_object_set_new(o, "account", json_null());
    }
    return o;
}

json_t *event_to_json(const struct lead_event *ev)
{
    json_error_t jerr;
    json_t *data = json_loads(ev->data_json ? ev->data_json : "{}", 0, &jerr);
    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)ev->id, "lead_id",
                     (json_int_t)ev->lead_id, "type", ev->type, "actor", ev->actor, "reason",
                     text_to_json(ev->reason), "data", data ? data : json_object(), "at",
                     time_to_json(ev->at));
}

json_t *activity_to_json(const struct activity *a)
{
    json_error_t jerr;
    json_t *props = json_loads(a->properties_json ? a->properties_json : "{}", 0, &jerr);
    return json_pack("{s:I, s:I, s:s, s:o, s:o}", "id", (json_int_t)a->id, "lead_id",
                     (json_int_t)a->lead_id, "type", a->type, "occurred_at",
                     time_to_json(a->occurred_at), "properties", props ? props : json_object());
}
