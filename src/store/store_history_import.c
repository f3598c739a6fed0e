/*
 * store_history_import.c - history written the way a lead that lived through
 * Baton looks afterwards (store_history_import.h), with the ordinary calls
 * of store.h only, so that any backend has it once it has those.
 */
#include "store/store_history_import.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bt_err append_event(struct store_conn *c, const struct store_import_source *src,
                           int64_t lead_id, const char *type, json_t *data, int64_t at,
                           struct bt_error *err)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!text)
        return bt_fail(err, BT_ETOOBIG, NULL, "cannot encode an event");
    struct lead_event ev = {
        .lead_id = lead_id, .type = type, .actor = src->actor, .data_json = text, .at = at};
    bt_err rc = store_event_append(c, &ev, err);
    free(text);
    return rc;
}

bt_err store_import_lead(struct store_conn *c, const struct history_lead *h,
                         const struct store_import_source *src, size_t line, struct arena *scratch,
                         enum store_import_result *out, struct bt_error *err)
{
    struct lead lead = h->lead, found;
    bt_err rc = BT_ENOTFOUND;
    if (lead.attr[LEAD_EXTERNAL_ID])
        rc = store_lead_find_by_external_id(c, lead.attr[LEAD_EXTERNAL_ID], scratch, &found, err);
    if (!rc)
        *out = STORE_IMPORT_UNCHANGED;
    if (rc == BT_ENOTFOUND && lead.attr[LEAD_EMAIL]) {
        rc = store_lead_find_by_email(c, lead.attr[LEAD_EMAIL], scratch, &found, err);
        if (!rc)
            *out = STORE_IMPORT_MATCHED;
    }
    arena_release(scratch);
    if (rc != BT_ENOTFOUND)
        return rc;
    *out = STORE_IMPORT_CREATED;
    if ((rc = store_lead_insert(c, &lead, err)))
        return rc;
    json_t *data = json_pack("{s:s}", "import", src->name);
    if (src->file)
        json_object_set_new(data, "file", json_string(src->file));
    json_object_set_new(data, "line", json_integer((json_int_t)line));
    rc = append_event(c, src, lead.id, "lead.imported", data, lead.created_at, err);
    if (!rc)
        rc = append_event(c, src, lead.id, "lead.stage_changed",
                          json_pack("{s:s, s:s, s:s}", "from", "new", "to", "mql", "via", "import"),
                          h->qualified_at, err);
    if (rc || !h->outcome_stage)
        return rc;
    data = json_pack("{s:s, s:s, s:s}", "from", "mql", "to", h->outcome_stage, "via", "import");
    if (h->has_value)
        json_object_set_new(data, "value", json_real(h->value));
    rc = append_event(c, src, lead.id, "lead.stage_changed", data, h->outcome_at, err);
    struct lead_outcome o = {
        .lead_id = lead.id,
        .stage = h->outcome_stage,
        .has_value = h->has_value,
        .value = h->value,
        .reason = "imported",
        .actor = src->actor,
        .at = h->outcome_at,
    };
    if (!rc)
        rc = store_outcome_insert(c, &o, err);
    return rc;
}

bt_err store_import_find_lead(struct store_conn *c, const char *external_id, const char *email,
                              struct arena *scratch, int64_t *lead_id, struct bt_error *err)
{
    struct lead lead;
    bt_err rc = BT_ENOTFOUND;
    if (external_id)
        rc = store_lead_find_by_external_id(c, external_id, scratch, &lead, err);
    if (rc == BT_ENOTFOUND && email) {
        const char *normal = NULL, *domain = NULL;
        struct bt_error nerr = BT_ERROR_INIT;
        if (!normalize_email(scratch, email, &normal, &domain, &nerr))
            rc = store_lead_find_by_email(c, normal, scratch, &lead, err);
    }
    if (!rc)
        *lead_id = lead.id;
    else if (rc == BT_ENOTFOUND)
        bt_fail(err, BT_ENOTFOUND, external_id ? "lead_external_id" : "lead_email",
                "no lead has %s '%.80s'", external_id ? "external_id" : "email",
                external_id ? external_id
                : email     ? email
                            : "");
    arena_release(scratch);
    return rc;
}

bt_err store_import_activity(struct store_conn *c, int64_t lead_id,
                             const struct history_activity *a, int64_t now,
                             enum store_import_result *out, struct bt_error *err)
{
    bool exists = false;
    bt_err rc = store_import_activity_exists(c, lead_id, a->type, a->occurred_at, &exists, err);
    if (rc)
        return rc;
    if (exists) {
        *out = STORE_IMPORT_UNCHANGED;
        return BT_OK;
    }
    struct activity act = {
        .lead_id = lead_id,
        .type = a->type,
        .occurred_at = a->occurred_at,
        .properties_json = a->properties_json,
    };
    *out = STORE_IMPORT_CREATED;
    return store_activity_insert(c, &act, now, err);
}
