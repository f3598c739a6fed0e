/*
 * api_activities.c - what leads do, and what the CRM says became of them:
 *   POST /v1/leads/{id}/activities   one activity or {"activities": [...]}
 *   POST /v1/activities              the same, each naming its lead by email,
 *                                    as a marketing platform sends them
 *   GET  /v1/leads/{id}/activities   newest first
 *   POST /v1/leads/{id}/outcome      sql, opportunity, won, lost, disqualified
 * Activities are recorded and the lead rescored in one command, so a demo
 * request can make a lead an MQL in the same reply. An ingest key (public:
 * it sits in web pages) names people by email only and is told nothing
 * back but that its request was accepted.
 */
#include "core/normalize.h"
#include "engine/engine.h"
#include "server/http.h"
#include "server/intake_parse.h"
#include "util/log.h"
#include "util/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVITY_LIST_MAX 500

static void record(struct request *r, bool by_email)
{
    struct bt_error err = BT_ERROR_INIT;
    struct activities_command cmd = {.cfg = r->cfg, .actor = request_actor(r)};
    if (!by_email && r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such lead: ids are positive integers");
        return;
    }
    if (intake_parse_activities(r->body, r->body_len, by_email, clock_now(r->ctx->clock),
                                r->cfg->freemail, &r->arena, &cmd.items, &cmd.n_items, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    for (size_t i = 0; !by_email && i < cmd.n_items; i++)
        cmd.items[i].lead_id = r->id;
    cmd.create_missing = r->cfg->activities_create_leads;
    /* An ingest key is public: whether an email is a lead must not show in
     * its reply, so an unknown one is skipped rather than refused, and the
     * reply is the same either way. */
    bool public = r->role == ROLE_INGEST;
    cmd.skip_missing = public;
    if (engine_record_activities(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    if (public) {
        if (cmd.n_skipped)
            log_info("POST /v1/activities from key %lld (%s): %zu of %zu activities named no lead "
                     "and were dropped",
                     (long long)r->key.id, r->key.name ? r->key.name : "-", cmd.n_skipped,
                     cmd.n_items);
        reply_json(r, 202, json_pack("{s:b}", "accepted", 1));
        return;
    }
    json_t *acts = json_array();
    for (size_t i = 0; i < cmd.n_items; i++) {
        json_t *a = activity_to_json(&cmd.items[i].act);
        json_object_set_new(a, "created_lead", json_boolean(cmd.items[i].created_lead));
        json_array_append_new(acts, a);
    }
    json_t *leads = json_array();
    for (size_t k = 0; k < cmd.n_leads; k++)
        json_array_append_new(leads, lead_to_json(&cmd.leads[k]));
    reply_json(r, 201, json_pack("{s:o, s:o}", "activities", acts, "leads", leads));
}

void api_lead_activities_create(struct request *r)
{
    record(r, false);
}

void api_activities_create(struct request *r)
{
    record(r, true);
}

void api_lead_activities_list(struct request *r)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    if (!request_lead(r, c, &lead)) {
        store_reader_release(r->ctx->store, c);
        return;
    }
    struct bt_error err = BT_ERROR_INIT;
    struct activity *acts = NULL;
    size_t n = 0;
    bt_err rc = store_activity_list(c, lead.id, ACTIVITY_LIST_MAX, &r->arena, &acts, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, activity_to_json(&acts[i]));
    reply_json(r, 200, json_pack("{s:o}", "data", data));
}

void api_lead_outcome(struct request *r)
{
    struct bt_error err = BT_ERROR_INIT;
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such lead: ids are positive integers");
        return;
    }
    json_t *o = request_json(r);
    if (!o)
        return;
    struct outcome_command cmd = {.cfg = r->cfg, .lead_id = r->id, .actor = request_actor(r)};
    bool has_stage = false;
    const char *bad = NULL, *why = NULL;
    const char *key;
    json_t *v;
    if (!json_is_object(o)) {
        bad = "";
        why = "the body must be a JSON object";
    }
    json_object_foreach(o, key, v)
    {
        if (bad)
            break;
        if (!strcmp(key, "stage")) {
            enum lead_stage s = STAGE_NEW;
            if (!json_is_string(v) || !stage_parse(json_string_value(v), &s) ||
                (s != STAGE_SQL && s != STAGE_OPPORTUNITY && s != STAGE_WON && s != STAGE_LOST &&
                 s != STAGE_DISQUALIFIED)) {
                bad = key;
                why = "stage must be one of sql, opportunity, won, lost, disqualified";
            }
            cmd.to = s;
            has_stage = true;
        } else if (!strcmp(key, "value")) {
            if (!json_is_number(v) || json_number_value(v) < 0 || !isfinite(json_number_value(v))) {
                bad = key;
                why = "value must be a number of at least 0";
            }
            cmd.has_value = true;
            cmd.value = json_number_value(v);
        } else if (!strcmp(key, "currency")) {
            const char *c = json_is_string(v) ? json_string_value(v) : "";
            if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
                c[2] < 'A' || c[2] > 'Z') {
                bad = key;
                why = "currency must be an ISO 4217 code such as EUR";
            }
            cmd.currency = arena_strdup(&r->arena, c);
        } else if (!strcmp(key, "reason")) {
            if (!json_is_string(v) || utf8_length(json_string_value(v)) > 1000 ||
                text_has_control(json_string_value(v))) {
                bad = key;
                why = "reason must be text of at most 1000 characters";
            }
            cmd.reason = arena_strdup(&r->arena, json_string_value(v));
        } else {
            bad = key;
            why = arena_printf(&r->arena,
                               "unknown field '%.64s'; an outcome has stage, value, currency "
                               "and reason",
                               key);
        }
    }
    if (!bad && !has_stage) {
        bad = "stage";
        why = "an outcome needs a stage: sql, opportunity, won, lost or disqualified";
    }
    if (bad) {
        reply_error(r, 422, "invalid", bad[0] ? bad : NULL, "%s", why);
        json_decref(o);
        return;
    }
    json_decref(o);
    if (engine_record_outcome(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200, lead_to_json(&cmd.result));
}
