/*
 * api_leads.c - /v1/leads: intake (JSON and HTML forms), reads, listing with
 * filters and cursor pagination, and the audit trail of a lead.
 *
 * Writes go through the engine, reads through a pooled store connection. A
 * rep key sees only the leads it owns; another rep's lead is "not found"
 * rather than "forbidden", so that ids do not leak who has what.
 */
#include "core/normalize.h"
#include "engine/engine.h"
#include "server/http.h"
#include "server/intake_parse.h"
#include "util/crypto.h"
#include "util/text.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDEMPOTENCY_KEY_MAX 255

/* A form's _redirect must be a plain http(s) URL (printable ASCII, nothing
 * that needs escaping in a header) on a host the config lists. */
static bool redirect_allowed(const struct config *cfg, const char *url)
{
    for (const char *p = url; *p; p++)
        if (*p <= ' ' || *p > '~' || strchr("\"<>\\^`{|}", *p))
            return false;
    const char *host;
    if (!strncasecmp(url, "https://", 8))
        host = url + 8;
    else if (!strncasecmp(url, "http://", 7))
        host = url + 7;
    else
        return false;
    /* The authority is host[:port]: no user info ("allowed.com@evil.com"
     * sends the browser to evil.com), and a port of digits only. */
    size_t alen = strcspn(host, "/?#");
    if (memchr(host, '@', alen))
        return false;
    size_t hlen = strcspn(host, ":/?#");
    if (hlen < alen) {
        if (alen - hlen < 2 || alen - hlen > 6)
            return false;
        for (size_t i = hlen + 1; i < alen; i++)
            if (host[i] < '0' || host[i] > '9')
                return false;
    }
    for (size_t i = 0; i < cfg->n_form_redirect_hosts; i++) {
        const char *allowed = cfg->form_redirect_hosts[i];
        if (strlen(allowed) == hlen && !strncasecmp(allowed, host, hlen))
            return true;
    }
    return false;
}

static json_t *warnings_json(const struct normalize_report *rep)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->count; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "field", rep->warnings[i].field, "message",
                                           rep->warnings[i].message));
    return a;
}

void api_lead_create(struct request *r)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead_input input;
    struct form_controls controls = {0};
    bt_err rc = r->body_kind == BODY_FORM
                    ? intake_parse_form(r->body, r->body_len, &r->arena, &input, &controls, &err)
                    : intake_parse_json(r->body, r->body_len, &r->arena, &input, &err);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    if (controls.redirect && !redirect_allowed(r->cfg, controls.redirect)) {
        reply_error(r, 422, "invalid", "_redirect",
                    "_redirect must be an http(s) URL on a host listed in "
                    "server.form_redirect_hosts");
        return;
    }

    const char *idem = request_header(r, "Idempotency-Key");
    if (idem && (strlen(idem) == 0 || strlen(idem) > IDEMPOTENCY_KEY_MAX ||
                 !text_is_printable_ascii(idem))) {
        reply_error(r, 400, "invalid", "Idempotency-Key",
                    "Idempotency-Key must be 1 to %d printable characters", IDEMPOTENCY_KEY_MAX);
        return;
    }

    struct ingest_command cmd = {0};
    struct normalize_report report = {0};
    if ((rc = normalize_lead(&input, r->cfg->freemail, &r->arena, &cmd.lead, &report, &err)) ||
        (rc = intake_mark_disposable(&cmd.lead, r->cfg->disposable, &r->arena, &err))) {
        reply_bt_error(r, &err);
        return;
    }

    char fingerprint[SHA256_HEX_LEN + 1];
    crypto_sha256_hex(r->body, r->body_len, fingerprint);
    cmd.via = r->body_kind == BODY_FORM ? "form" : "api";
    cmd.key_name = r->key.name;
    cmd.warnings = &report;
    cmd.cfg = r->cfg;
    cmd.fill_only = r->role == ROLE_INGEST; /* an ingest key may sit in a public page */
    /* Keys are scoped to the API key that sent them: two sources that
     * happen to pick the same Idempotency-Key do not collide. */
    cmd.idempotency_key =
        idem ? arena_printf(&r->arena, "%lld:%s", (long long)r->key.id, idem) : NULL;
    cmd.fingerprint = fingerprint;
    cmd.actor = request_actor(r);

    if ((rc = engine_ingest(r->ctx->engine, &cmd, &r->arena, &err))) {
        reply_bt_error(r, &err);
        return;
    }

    if (controls.redirect) {
        reply_redirect(r, controls.redirect);
        return;
    }
    /* An ingest key may be public (a web form): its reply is the same
     * whether the person was known or not (no outcome, no id, no
     * Location), and says only what came from the request itself. */
    if (r->role == ROLE_INGEST) {
        reply_json(r, 202,
                   json_pack("{s:b, s:o}", "accepted", 1, "warnings", warnings_json(&report)));
        return;
    }
    json_t *body = json_pack("{s:s, s:o, s:o}", "outcome", ingest_outcome_name(cmd.outcome), "lead",
                             lead_to_json(&cmd.result), "warnings", warnings_json(&report));
    reply_json(r, cmd.outcome == INGEST_CREATED ? 201 : 200, body);
    char location[64];
    snprintf(location, sizeof(location), "/v1/leads/%lld", (long long)cmd.result.id);
    reply_add_header(r, MHD_HTTP_HEADER_LOCATION, location);
}

void api_lead_get(struct request *r)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    if (request_lead(r, c, &lead))
        reply_json(r, 200, lead_to_json(&lead));
    store_reader_release(r->ctx->store, c);
}

/* Cursors are the last row's id, as text. */
static json_t *id_cursor(int64_t id)
{
    char cur[32];
    snprintf(cur, sizeof(cur), "%lld", (long long)id);
    return json_string(cur);
}

static json_t *lead_item(const void *rows, size_t i)
{
    return lead_to_json(&((const struct lead *)rows)[i]);
}

static json_t *lead_cursor(const void *rows, size_t i)
{
    return id_cursor(((const struct lead *)rows)[i].id);
}

static json_t *event_item(const void *rows, size_t i)
{
    return event_to_json(&((const struct lead_event *)rows)[i]);
}

static json_t *event_cursor(const void *rows, size_t i)
{
    return id_cursor(((const struct lead_event *)rows)[i].id);
}

struct list_query {
    struct request *r;
    struct lead_filter filter;
    const char *bad; /* the argument that failed */
    const char *why;
};

static int list_arg(void *cls, const char *k, const char *v)
{
    struct list_query *q = cls;
    struct lead_filter *f = &q->filter;
    int64_t n;
    q->bad = k;
    if (!utf8_valid(v, strlen(v)) || text_has_control(v)) {
        q->why = "is not valid text";
        return 1;
    }
    const char **text_slot = NULL;
    if (!strcmp(k, "limit")) {
        if (!parse_count(v, 1, PAGE_MAX_LIMIT, &n)) {
            q->why = "must be an integer from 1 to 500";
            return 1;
        }
        f->limit = (unsigned)n;
    } else if (!strcmp(k, "cursor")) {
        if (!parse_count(v, 1, INT64_MAX, &n)) {
            q->why = "is not a cursor this server gave out";
            return 1;
        }
        f->before_id = n;
    } else if (!strcmp(k, "created_after") || !strcmp(k, "created_before")) {
        int64_t ms;
        if (!time_parse_rfc3339(v, &ms)) {
            q->why = "must be an RFC 3339 timestamp such as 2026-11-21T09:00:00Z";
            return 1;
        }
        if (k[8] == 'a')
            f->created_after = ms;
        else
            f->created_before = ms;
    } else if (!strcmp(k, "email")) {
        char *lower = arena_strdup(&q->r->arena, v);
        for (char *p = lower; p && *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        f->email = lower;
    } else if (!strcmp(k, "email_domain") || !strcmp(k, "domain")) {
        text_slot = &f->email_domain;
    } else if (!strcmp(k, "company")) {
        text_slot = &f->company;
    } else if (!strcmp(k, "stage")) {
        text_slot = &f->stage;
    } else if (!strcmp(k, "owner")) {
        text_slot = &f->owner;
    } else if (!strcmp(k, "source")) {
        text_slot = &f->source;
    } else if (!strcmp(k, "country")) {
        const char *code = normalize_country(v);
        f->country = code ? code : v;
    } else {
        q->why = "is not a filter of this endpoint (limit, cursor, email, email_domain, company, "
                 "stage, owner, source, country, created_after, created_before)";
        return 1;
    }
    if (text_slot)
        *text_slot = v;
    return 0;
}

void api_lead_list(struct request *r)
{
    struct list_query q = {.r = r};
    q.filter.limit = PAGE_DEFAULT_LIMIT;
    if (request_query_each(r, list_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%s' %s", q.bad, q.why);
        return;
    }
    if (r->role == ROLE_REP) {
        if (q.filter.owner && (!r->key.rep_id || strcmp(q.filter.owner, r->key.rep_id))) {
            reply_error(r, 403, "forbidden", "owner", "a rep key lists only its own leads");
            return;
        }
        q.filter.owner = r->key.rep_id ? r->key.rep_id : "";
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead *leads;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    unsigned page = q.filter.limit;
    q.filter.limit = page + 1; /* one more row tells whether there is a next page */
    bt_err rc = store_lead_list(c, &q.filter, &r->arena, &leads, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    reply_page(r, leads, n, page, lead_item, lead_cursor);
}

struct events_query {
    int64_t limit, after;
    const char *bad, *why;
};

static int events_arg(void *cls, const char *k, const char *v)
{
    struct events_query *q = cls;
    q->bad = k;
    if (!strcmp(k, "limit")) {
        q->why = "must be an integer from 1 to 500";
        return !parse_count(v, 1, PAGE_MAX_LIMIT, &q->limit);
    }
    if (!strcmp(k, "after")) {
        q->why = "must be an event id";
        return !parse_count(v, 0, INT64_MAX, &q->after);
    }
    q->why = "is not a parameter of this endpoint (limit, after)";
    return 1;
}

void api_lead_events(struct request *r)
{
    struct events_query q = {.limit = 100};
    if (request_query_each(r, events_arg, &q)) {
        reply_error(r, 400, "invalid", q.bad, "query parameter '%s' %s", q.bad, q.why);
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct lead lead;
    if (!request_lead(r, c, &lead)) {
        store_reader_release(r->ctx->store, c);
        return;
    }
    struct lead_event *evs;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc =
        store_event_list(c, lead.id, q.after, (unsigned)q.limit + 1, &r->arena, &evs, &n, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    reply_page(r, evs, n, (size_t)q.limit, event_item, event_cursor);
}
