/*
 * api_accounts.c - accounts over HTTP:
 *   POST /v1/accounts          one account, or {"accounts": [up to 1000]}:
 *                              insert or replace by id (admin)
 *   GET  /v1/accounts/{id}     one account (admin, rep)
 *   GET  /v1/accounts          by id, paged with ?limit= and ?after= (admin, rep)
 *
 * A body is checked whole before anything is written, with the function the
 * CSV import uses (account_input_normalize), and written in one engine
 * command: a batch is all or nothing.
 */
#include "core/account_csv.h"
#include "engine/engine.h"
#include "server/http.h"
#include "util/text.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 1000

static const char *outcome_name(enum store_account_outcome o)
{
    switch (o) {
    case STORE_ACCOUNT_CREATED:
        return "created";
    case STORE_ACCOUNT_UPDATED:
        return "updated";
    case STORE_ACCOUNT_UNCHANGED:
        return "unchanged";
    }
    return "unchanged";
}

static json_t *account_to_json(const struct store_account *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "name", text_to_json(a->name));
    json_t *domains = json_array();
    for (size_t i = 0; i < a->n_domains; i++)
        json_array_append_new(domains, json_string(a->domains[i]));
    json_object_set_new(o, "domains", domains);
    json_object_set_new(o, "website", text_to_json(a->website));
    json_object_set_new(o, "country", text_to_json(a->country));
    json_object_set_new(o, "owner", text_to_json(a->owner));
    json_error_t jerr;
    json_t *fields = json_loads(a->fields_json ? a->fields_json : "{}", 0, &jerr);
    json_object_set_new(o, "fields", fields ? fields : json_object());
    json_object_set_new(o, "created_at", time_to_json(a->created_at));
    json_object_set_new(o, "updated_at", time_to_json(a->updated_at));
    return o;
}

/* A string attribute of the body: absent, null or a string. */
static bool take_string(json_t *v, const char **out)
{
    if (json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = json_string_value(v);
    return strlen(*out) == json_string_length(v); /* no NUL inside */
}

/* Reads one account object of the body into `in`; on error fills err with
 * the field prefixed by `where` ("accounts[3]." or ""). */
static bt_err read_item(struct arena *a, json_t *item, const char *where, struct account_input *in,
                        struct bt_error *err)
{
    memset(in, 0, sizeof(*in));
    if (!json_is_object(item)) {
        char field[BT_ERROR_FIELD_MAX + 64]; /* bt_fail keeps what fits */
        snprintf(field, sizeof(field), "%.*s", (int)(where[0] ? strlen(where) - 1 : 0), where);
        return bt_fail(err, BT_EINVAL, field[0] ? field : NULL, "%s must be an account object",
                       field[0] ? field : "the body");
    }
    const char *key;
    json_t *v;
    json_object_foreach(item, key, v)
    {
        const char **slot = NULL;
        if (!strcmp(key, "id"))
            slot = &in->id;
        else if (!strcmp(key, "name"))
            slot = &in->name;
        else if (!strcmp(key, "website"))
            slot = &in->website;
        else if (!strcmp(key, "country"))
            slot = &in->country;
        else if (!strcmp(key, "owner"))
            slot = &in->owner;
        char field[BT_ERROR_FIELD_MAX + 64]; /* bt_fail keeps what fits */
        snprintf(field, sizeof(field), "%s%.40s", where, key);
        if (slot) {
            if (!take_string(v, slot))
                return bt_fail(err, BT_EINVAL, field, "%s must be a string", field);
        } else if (!strcmp(key, "domains")) {
            if (json_is_null(v))
                continue;
            if (!json_is_array(v))
                return bt_fail(err, BT_EINVAL, field, "%s must be an array of strings", field);
            size_t n = json_array_size(v);
            if (n > 4 * ACCOUNT_DOMAINS_MAX)
                return bt_fail(err, BT_EINVAL, field, "%s: more than %d domains", field,
                               ACCOUNT_DOMAINS_MAX);
            const char **list = arena_alloc(a, sizeof(*list) * (n ? n : 1));
            if (!list)
                return bt_fail(err, BT_ETOOBIG, field, "the request is too large");
            for (size_t i = 0; i < n; i++)
                if (!take_string(json_array_get(v, i), &list[i]) || !list[i])
                    return bt_fail(err, BT_EINVAL, field, "%s must be an array of strings", field);
            in->domains = list;
            in->n_domains = n;
        } else if (!strcmp(key, "fields")) {
            if (!json_is_null(v))
                in->fields = v;
        } else if (!strcmp(key, "created_at") || !strcmp(key, "updated_at")) {
            return bt_fail(err, BT_EINVAL, field, "%s is set by the server; leave it out", field);
        } else {
            return bt_fail(err, BT_EINVAL, field,
                           "%s is not an account field (id, name, domains, website, country, "
                           "owner, fields)",
                           field);
        }
    }
    return BT_OK;
}

/* Checks one item and turns it into what the store writes. */
static bt_err check_item(struct arena *a, json_t *item, const char *where,
                         struct store_account *out, struct bt_error *err)
{
    struct account_input in;
    bt_err rc = read_item(a, item, where, &in, err);
    if (rc)
        return rc;
    struct account acc;
    const char *fields;
    struct bt_error inner = BT_ERROR_INIT;
    if ((rc = account_input_normalize(&in, a, &acc, &fields, &inner))) {
        char field[BT_ERROR_FIELD_MAX + 64]; /* bt_fail keeps what fits */
        snprintf(field, sizeof(field), "%s%s", where, inner.field);
        return bt_fail(err, rc == BT_ETOOBIG ? BT_ETOOBIG : BT_EINVAL, field, "%s%s", where,
                       inner.message);
    }
    *out = (struct store_account){
        .id = acc.id,
        .name = acc.name,
        .domains = (const char **)acc.domains,
        .n_domains = acc.n_domains,
        .website = acc.website,
        .country = acc.country,
        .owner = acc.owner,
        .fields_json = fields,
    };
    return BT_OK;
}

void api_account_upsert(struct request *r)
{
    struct bt_error err = BT_ERROR_INIT;
    json_t *root = request_json(r);
    if (!root)
        return;
    json_t *batch = json_is_object(root) ? json_object_get(root, "accounts") : NULL;
    bt_err rc = BT_OK;
    struct accounts_command cmd = {0};
    if (!json_is_object(root)) {
        rc = bt_fail(&err, BT_EINVAL, NULL,
                     "the body must be an account object or {\"accounts\": [...]}");
    } else if (batch) {
        size_t n = json_array_size(batch);
        if (!json_is_array(batch) || json_object_size(root) != 1)
            rc = bt_fail(&err, BT_EINVAL, "accounts",
                         "a batch is {\"accounts\": [...]} with nothing else");
        else if (n < 1 || n > BATCH_MAX)
            rc = bt_fail(&err, BT_EINVAL, "accounts", "a batch has 1 to %d accounts, not %zu",
                         BATCH_MAX, n);
        cmd.n = n;
    } else {
        cmd.n = 1;
    }
    if (!rc && !(cmd.accounts = arena_alloc(&r->arena, sizeof(*cmd.accounts) * cmd.n)))
        rc = bt_fail(&err, BT_ETOOBIG, NULL, "the request is too large");
    for (size_t i = 0; !rc && i < cmd.n; i++) {
        char where[32] = "";
        if (batch)
            snprintf(where, sizeof(where), "accounts[%zu].", i);
        rc = check_item(&r->arena, batch ? json_array_get(batch, i) : root, where, &cmd.accounts[i],
                        &err);
        /* A batch that names an account twice is most likely a mistake. */
        for (size_t k = 0; !rc && k < i; k++)
            if (!strcmp(cmd.accounts[k].id, cmd.accounts[i].id))
                rc = bt_fail(&err, BT_EINVAL, arena_printf(&r->arena, "accounts[%zu].id", i),
                             "accounts[%zu].id: id '%s' is also the id of accounts[%zu]", i,
                             cmd.accounts[i].id, k);
    }
    json_decref(root);
    if (rc || (rc = engine_upsert_accounts(r->ctx->engine, &cmd, &r->arena, &err))) {
        reply_bt_error(r, &err);
        return;
    }
    unsigned status = cmd.created ? 201 : 200;
    if (!batch) {
        reply_json(r, status,
                   json_pack("{s:s, s:o}", "outcome", outcome_name(cmd.outcomes[0]), "account",
                             account_to_json(&cmd.accounts[0])));
        const char *location = arena_printf(&r->arena, "/v1/accounts/%s", cmd.accounts[0].id);
        if (location)
            reply_add_header(r, MHD_HTTP_HEADER_LOCATION, location);
        return;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < cmd.n; i++)
        json_array_append_new(results,
                              json_pack("{s:s, s:o}", "outcome", outcome_name(cmd.outcomes[i]),
                                        "account", account_to_json(&cmd.accounts[i])));
    reply_json(r, status,
               json_pack("{s:I, s:I, s:I, s:o}", "created", (json_int_t)cmd.created, "updated",
                         (json_int_t)cmd.updated, "unchanged", (json_int_t)cmd.unchanged, "results",
                         results));
}

void api_account_get(struct request *r)
{
    if (!utf8_valid(r->name, strlen(r->name))) {
        reply_error(r, 404, "not_found", "id", "no such account");
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_account acc;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = store_account_get(c, r->name, &r->arena, &acc, &err);
    store_reader_release(r->ctx->store, c);
    if (rc == BT_ENOTFOUND)
        reply_error(r, 404, "not_found", "id", "no such account: %s", r->name);
    else if (rc)
        reply_bt_error(r, &err);
    else
        reply_json(r, 200, account_to_json(&acc));
}

static json_t *account_item(const void *rows, size_t i)
{
    return account_to_json(&((const struct store_account *)rows)[i]);
}

static json_t *account_cursor(const void *rows, size_t i)
{
    return json_string(((const struct store_account *)rows)[i].id);
}

struct list_query {
    int64_t limit;
    const char *after;
    const char *bad, *why;
};

static int list_arg(void *cls, const char *k, const char *v)
{
    struct list_query *q = cls;
    q->bad = k;
    if (!strcmp(k, "limit")) {
        q->why = "must be an integer from 1 to 500";
        return !parse_count(v, 1, PAGE_MAX_LIMIT, &q->limit);
    }
    if (!strcmp(k, "after")) {
        q->why = "must be an account id (the next_cursor of the previous page)";
        q->after = v;
        return !*v || strlen(v) > ACCOUNT_ID_MAX || !utf8_valid(v, strlen(v));
    }
    q->why = "is not a parameter of this endpoint (limit, after)";
    return 1;
}

void api_account_list(struct request *r)
{
    struct list_query q = {.limit = PAGE_DEFAULT_LIMIT};
    if (request_query_each(r, list_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%s' %s", q.bad, q.why);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct store_account *list;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    /* one more row tells whether there is a next page */
    bt_err rc = store_account_list(c, q.after, (unsigned)q.limit + 1, &r->arena, &list, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    reply_page(r, list, n, (size_t)q.limit, account_item, account_cursor);
}
