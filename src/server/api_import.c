/*
 * api_import.c - history over HTTP, in batches (admin):
 *   POST /v1/import/leads       {"name"?, "rows": [{COLUMN: VALUE, ...}, up to 1000]}
 *   POST /v1/import/activities  the same, rows of activities
 *
 * The API twin of `baton import leads|activities`: each row is what a CSV
 * row would be with its header's names as keys (the default mapping of
 * core/history_csv.h: a key that names a target is that target, any other is
 * a custom field, or a property for activities), and is converted by the
 * same function. Values are text, numbers, booleans or null.
 *
 * The whole batch is checked first; one bad row, or an activity whose lead
 * does not exist, and nothing is written (422 naming rows[i].KEY). Then the
 * batch is written in one transaction of a connection of the request's own,
 * like the CLI import, and not through the engine: history is not routed,
 * starts no SLA and sends nothing.
 */
#include "core/history_csv.h"
#include "server/http.h"
#include "store/store_history_import.h"
#include "util/timeutil.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 1000

static const char *result_name(enum store_import_result r)
{
    return r == STORE_IMPORT_CREATED   ? "created"
           : r == STORE_IMPORT_MATCHED ? "matched"
                                       : "unchanged";
}

/* A row's keys and values as text; BT_EINVAL naming rows[i].KEY otherwise. */
static bt_err row_cells(struct arena *a, json_t *row, size_t i, const char ***names,
                        const char ***values, size_t *n, struct bt_error *err)
{
    if (!json_is_object(row))
        return bt_fail(err, BT_EINVAL, arena_printf(a, "rows[%zu]", i),
                       "rows[%zu]: a row is an object of COLUMN: VALUE", i);
    size_t count = json_object_size(row);
    if (count > HISTORY_CSV_COLUMNS_MAX)
        return bt_fail(err, BT_EINVAL, arena_printf(a, "rows[%zu]", i),
                       "rows[%zu]: more than %d keys", i, HISTORY_CSV_COLUMNS_MAX);
    *names = arena_alloc(a, sizeof(**names) * (count ? count : 1));
    *values = arena_alloc(a, sizeof(**values) * (count ? count : 1));
    if (!*names || !*values)
        return bt_fail(err, BT_ETOOBIG, NULL, "the request is too large");
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(row, key, v)
    {
        const char *text = NULL;
        if (json_is_string(v))
            text = json_string_value(v);
        else if (json_is_integer(v))
            text = arena_printf(a, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            text = arena_printf(a, "%.17g", json_real_value(v));
        else if (json_is_boolean(v))
            text = json_is_true(v) ? "true" : "false";
        else if (!json_is_null(v))
            return bt_fail(err, BT_EINVAL, arena_printf(a, "rows[%zu].%s", i, key),
                           "rows[%zu].%s: a value is text, a number, a boolean or null", i, key);
        if (json_is_string(v) && memchr(text, '\0', json_string_length(v)))
            return bt_fail(err, BT_EINVAL, arena_printf(a, "rows[%zu].%s", i, key),
                           "rows[%zu].%s: contains a NUL character", i, key);
        (*names)[k] = key;
        (*values)[k] = text;
        k++;
    }
    *n = k;
    return BT_OK;
}

static void import_rows(struct request *r, enum history_kind kind)
{
    struct bt_error err = BT_ERROR_INIT;
    json_t *root = request_json(r);
    if (!root)
        return;
    json_t *rows = json_is_object(root) ? json_object_get(root, "rows") : NULL;
    json_t *name = json_is_object(root) ? json_object_get(root, "name") : NULL;
    bt_err rc = BT_OK;
    size_t n = json_array_size(rows);
    if (!json_is_object(root) || !json_is_array(rows) ||
        json_object_size(root) != 1 + (name != NULL))
        rc = bt_fail(&err, BT_EINVAL, "rows",
                     "the body is {\"rows\": [{...}, ...]}, optionally with a \"name\"");
    else if (n < 1 || n > ROWS_MAX)
        rc = bt_fail(&err, BT_EINVAL, "rows", "a batch has 1 to %d rows, not %zu", ROWS_MAX, n);
    else if (name && (!json_is_string(name) || json_string_length(name) < 1 ||
                      json_string_length(name) > HISTORY_NAME_MAX ||
                      strlen(json_string_value(name)) != json_string_length(name)))
        rc = bt_fail(&err, BT_EINVAL, "name", "name: a text of 1 to %d bytes", HISTORY_NAME_MAX);

    struct history_map map;
    history_map_init(&map, kind);
    struct history_row *converted = NULL;
    if (!rc && !(converted = arena_alloc(&r->arena, sizeof(*converted) * n)))
        rc = bt_fail(&err, BT_ETOOBIG, NULL, "the request is too large");
    for (size_t i = 0; !rc && i < n; i++) {
        const char **names = NULL, **values = NULL;
        size_t count = 0;
        rc = row_cells(&r->arena, json_array_get(rows, i), i, &names, &values, &count, &err);
        if (!rc && history_convert(&map, r->cfg->freemail, names, values, count, i + 1, &r->arena,
                                   &converted[i])) {
            const struct bt_error *re = &converted[i].err;
            /* "line N: COLUMN: ..." becomes "rows[N-1].COLUMN: ..." */
            const char *rest = strstr(re->message, ": ");
            rest = rest ? rest + 2 : re->message;
            rc = bt_fail(
                &err, BT_EINVAL,
                arena_printf(&r->arena, "rows[%zu]%s%s", i, re->field[0] ? "." : "", re->field),
                "rows[%zu]%s%s", i, re->field[0] ? "." : ": ", rest);
        } else if (!rc && converted[i].skipped) {
            rc = bt_fail(&err, BT_EINVAL, arena_printf(&r->arena, "rows[%zu].created_at", i),
                         "rows[%zu].created_at: missing", i);
        }
    }
    const char *import_name = name ? arena_strdup(&r->arena, json_string_value(name)) : "api";
    json_decref(root);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }

    struct store_conn *conn = NULL;
    struct arena scratch = {0};
    size_t created = 0, matched = 0, unchanged = 0;
    enum store_import_result *results = arena_alloc(&r->arena, sizeof(*results) * n);
    int64_t *ids = arena_alloc(&r->arena, sizeof(*ids) * n);
    struct store_import_source src = {
        .name = import_name,
        .actor = arena_printf(&r->arena, "key:%lld", (long long)r->key.id),
    };
    if (!results || !ids || !src.actor)
        rc = bt_fail(&err, BT_ETOOBIG, NULL, "the request is too large");
    if (!rc)
        rc = store_conn_open(r->ctx->store, &conn, &err);
    if (!rc && !(rc = store_begin(conn, &err))) {
        int64_t now = clock_now(r->ctx->clock);
        for (size_t i = 0; !rc && i < n; i++) {
            const struct history_row *row = &converted[i];
            if (kind == HISTORY_LEADS) {
                rc = store_import_lead(conn, &row->lead, &src, i + 1, &scratch, &results[i], &err);
                ids[i] = 0;
                continue;
            }
            struct bt_error ferr = BT_ERROR_INIT;
            rc = store_import_find_lead(conn, row->activity.lead_external_id,
                                        row->activity.lead_email, &scratch, &ids[i], &ferr);
            if (rc == BT_ENOTFOUND)
                rc =
                    bt_fail(&err, BT_EINVAL, arena_printf(&r->arena, "rows[%zu].%s", i, ferr.field),
                            "rows[%zu].%s: %s", i, ferr.field, ferr.message);
            else if (rc)
                err = ferr;
            if (!rc)
                rc = store_import_activity(conn, ids[i], &row->activity, now, &results[i], &err);
        }
        if (!rc)
            rc = store_commit(conn, &err);
        if (rc)
            store_rollback(conn);
    }
    arena_release(&scratch);
    store_conn_close(conn);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        created += results[i] == STORE_IMPORT_CREATED;
        matched += results[i] == STORE_IMPORT_MATCHED;
        unchanged += results[i] == STORE_IMPORT_UNCHANGED;
        json_array_append_new(list, json_pack("{s:s}", "outcome", result_name(results[i])));
    }
    reply_json(r, created ? 201 : 200,
               json_pack("{s:I, s:I, s:I, s:o}", "created", (json_int_t)created, "matched",
                         (json_int_t)matched, "unchanged", (json_int_t)unchanged, "results", list));
}

void api_import_leads(struct request *r)
{
    import_rows(r, HISTORY_LEADS);
}

void api_import_activities(struct request *r)
{
    import_rows(r, HISTORY_ACTIVITIES);
}
