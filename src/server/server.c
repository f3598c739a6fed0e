/*
 * server.c - libmicrohttpd plumbing: the listening socket, the route table,
 * authentication and role checks, bounded body reading, replies, and the
 * in-flight count that graceful shutdown waits on. Handlers live in api_*.c.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers (we route, authenticate and check limits here so that a
 * bad request is refused before its body is read), once per chunk of body,
 * and once more with no data, when the handler runs.
 */
#include "server/conn_guard.h"
#include "server/cors.h"
#include "server/form_stats.h"
#include "server/http.h"
#include "server/ui_session.h"
#include "store/store_handoff.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/netaddr.h"
#include "util/ratelimit.h"
#include "util/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Keys and client addresses the rate limits track at once (ratelimit.h:
 * about 64 bytes each, allocated at start). */
#define RATE_LIMIT_KEYS      4096
#define RATE_LIMIT_ADDRESSES 16384
#define RATE_LIMIT_FORMS     16384 /* forms, and each form's client addresses */

struct server {
    struct server_context ctx;
    struct server_limits limits;
    struct conn_guard *guard;
    struct MHD_Daemon *daemon;
    struct ratelimit *by_key, *by_address; /* intake.rate_limit's buckets */
    struct ratelimit *by_form;             /* forms[].rate_limit's buckets */
    struct form_stats *form_stats;
    struct ui_sessions *ui_sessions; /* the dashboard's sign-ins */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned in_flight;
    bool draining;
};

static const struct route routes[] = {
    {"GET", "/healthz", api_health, 0, false, false, false, NULL, false, false},
    {"GET", "/readyz", api_ready, 0, false, false, false, NULL, false, false},
    {"GET", "/v1/openapi.json", api_openapi, 0, false, false, false, NULL, false, false},
    /* No route roles: loopback (or server.metrics.public) needs no key,
     * anyone else an admin key; api_metrics.c decides. */
    {"GET", "/metrics", api_metrics, 0, false, false, false, NULL, false, false},
    {"POST", "/v1/leads", api_lead_create, ROLE_ADMIN | ROLE_INGEST, true, true, true, NULL, false,
     true},
    {"OPTIONS", "/v1/leads", api_preflight, 0, false, false, false, NULL, false, true},
    {"GET", "/v1/leads", api_lead_list, ROLE_ADMIN | ROLE_REP, false, false, false, NULL, false,
     false},
    {"GET", "/v1/leads/{id}", api_lead_get, ROLE_ADMIN | ROLE_REP, false, false, false, NULL, false,
     false},
    {"GET", "/v1/leads/{id}/events", api_lead_events, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    /* An ingest key is public: it names people by email, and never acts
     * on a lead by its (sequential, guessable) id. */
    {"POST", "/v1/leads/{id}/activities", api_lead_activities_create, ROLE_ADMIN, true, false,
     false,
     "an ingest key may not act on a lead by its id: name the person by email with POST "
     "/v1/activities",
     false, false},
    {"GET", "/v1/leads/{id}/activities", api_lead_activities_list, ROLE_ADMIN | ROLE_REP, false,
     false, false, NULL, false, false},
    {"POST", "/v1/activities", api_activities_create, ROLE_ADMIN | ROLE_INGEST, true, false, true,
     NULL, false, true},
    {"OPTIONS", "/v1/activities", api_preflight, 0, false, false, false, NULL, false, true},
    /* No key: the form's definition and intake.allowed_origins are the
     * authority (docs/forms.md). */
    {"POST", "/v1/forms/{name}", api_form_submit, 0, true, true, false, NULL, false, true},
    {"OPTIONS", "/v1/forms/{name}", api_preflight, 0, false, false, false, NULL, false, true},
    {"GET", "/v1/forms/{name}.js", api_form_script, 0, false, false, false, NULL, false, false},
    {"GET", "/v1/forms", api_form_list, ROLE_ADMIN, false, false, false, NULL, false, false},
    {"POST", "/v1/leads/{id}/outcome", api_lead_outcome, ROLE_ADMIN, true, false, false, NULL,
     false, false},
    {"POST", "/v1/admin/clock", api_admin_clock, ROLE_ADMIN, true, false, false, NULL, false,
     false},
    {"GET", "/v1/leads/{id}/decision", api_lead_decision, ROLE_ADMIN | ROLE_REP, false, false,
     false, NULL, false, false},
    {"GET", "/v1/leads/{id}/exclusions", api_lead_exclusions, ROLE_ADMIN | ROLE_REP, false, false,
     false, NULL, false, false},
    {"POST", "/v1/leads/{id}/exclusions", api_lead_exclude, ROLE_ADMIN, true, false, false, NULL,
     false, false},
    {"GET", "/v1/leads/{id}/assignments", api_lead_assignments, ROLE_ADMIN | ROLE_REP, false, false,
     false, NULL, false, false},
    {"GET", "/v1/reps", api_rep_list, ROLE_ADMIN, false, false, false, NULL, false, false},
    {"GET", "/v1/reps/{name}", api_rep_get, ROLE_ADMIN | ROLE_REP, false, false, false, NULL, false,
     false},
    {"PUT", "/v1/reps/{name}/status", api_rep_status, ROLE_ADMIN | ROLE_REP, true, false, false,
     NULL, false, false},
    {"POST", "/v1/reps/{name}/time-off", api_rep_time_off_add, ROLE_ADMIN | ROLE_REP, true, false,
     false, NULL, false, false},
    {"DELETE", "/v1/reps/{name}/time-off/{id}", api_rep_time_off_delete, ROLE_ADMIN | ROLE_REP,
     false, false, false, NULL, false, false},
    {"GET", "/v1/reps/{name}/assignments", api_rep_assignments, ROLE_ADMIN | ROLE_REP, false, false,
     false, NULL, false, false},
    {"GET", "/v1/assignments", api_assignment_list, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    {"GET", "/v1/assignments/{id}", api_assignment_get, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    {"POST", "/v1/assignments/{id}/accept", api_assignment_accept, ROLE_ADMIN | ROLE_REP, true,
     false, false, NULL, true, false},
    {"POST", "/v1/assignments/{id}/reject", api_assignment_reject, ROLE_ADMIN | ROLE_REP, true,
     false, false, NULL, true, false},
    {"POST", "/v1/assignments/{id}/contacted", api_assignment_contacted, ROLE_ADMIN | ROLE_REP,
     true, false, false, NULL, true, false},
    {"POST", "/v1/assignments/{id}/reassign", api_assignment_reassign, ROLE_ADMIN | ROLE_REP, true,
     false, false, NULL, true, false},
    {"POST", "/v1/assignments/{id}/withdraw", api_assignment_withdraw, ROLE_ADMIN | ROLE_REP, true,
     false, false, NULL, true, false},
    {"GET", "/v1/reject-reasons", api_reject_reasons, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    /* Delivery (api_deliver.c). /v1/deliveries/channels and /replay are
     * not deliveries: find_route prefers the pattern with fewer parameters. */
    {"GET", "/v1/deliveries", api_delivery_list, ROLE_ADMIN, false, false, false, NULL, false,
     false},
    {"GET", "/v1/deliveries/channels", api_delivery_channels, ROLE_ADMIN, false, false, false, NULL,
     false, false},
    {"POST", "/v1/deliveries/replay", api_delivery_replay, ROLE_ADMIN, true, false, false, NULL,
     false, false},
    {"POST", "/v1/deliveries/channels/{name}/enable", api_delivery_channel_enable, ROLE_ADMIN, true,
     false, false, NULL, true, false},
    {"POST", "/v1/deliveries/channels/{name}/disable", api_delivery_channel_disable, ROLE_ADMIN,
     true, false, false, NULL, true, false},
    {"GET", "/v1/deliveries/{id}", api_delivery_get, ROLE_ADMIN, false, false, false, NULL, false,
     false},
    {"POST", "/v1/deliveries/{id}/retry", api_delivery_retry, ROLE_ADMIN, true, false, false, NULL,
     true, false},
    {"GET", "/v1/reps/{name}/tasks", api_rep_tasks, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    {"POST", "/v1/tasks/{id}/done", api_task_done, ROLE_ADMIN | ROLE_REP, true, false, false, NULL,
     true, false},
    {"GET", "/a/{name}", api_link_page, 0, false, false, false, NULL, false, false},
    {"POST", "/a/{name}", api_link_act, 0, true, true, false, NULL, false, false},
    {"GET", "/v1/pools", api_pool_list, ROLE_ADMIN, false, false, false, NULL, false, false},
    {"GET", "/v1/pools/{name}", api_pool_get, ROLE_ADMIN, false, false, false, NULL, false, false},
    {"GET", "/v1/holds", api_hold_list, ROLE_ADMIN, false, false, false, NULL, false, false},
    {"GET", "/v1/reports/{name}", api_report_get, ROLE_ADMIN, false, false, false, NULL, false,
     false},
    {"POST", "/v1/accounts", api_account_upsert, ROLE_ADMIN, true, false, false, NULL, false,
     false},
    {"POST", "/v1/import/leads", api_import_leads, ROLE_ADMIN, true, false, false, NULL, false,
     false},
    {"POST", "/v1/import/activities", api_import_activities, ROLE_ADMIN, true, false, false, NULL,
     false, false},
    {"GET", "/v1/accounts", api_account_list, ROLE_ADMIN | ROLE_REP, false, false, false, NULL,
     false, false},
    {"GET", "/v1/accounts/{name}", api_account_get, ROLE_ADMIN | ROLE_REP, false, false, false,
     NULL, false, false},
    /* The dashboard (api_ui.c): its files need no key; the page signs in
     * with a key for a session cookie that the routes above accept. */
    {"GET", "/ui/", api_ui_index, 0, false, false, false, NULL, false, false},
    {"GET", "/ui/app.js", api_ui_script, 0, false, false, false, NULL, false, false},
    {"GET", "/ui/app.css", api_ui_style, 0, false, false, false, NULL, false, false},
    {"GET", "/ui/chart.js", api_ui_chart, 0, false, false, false, NULL, false, false},
    {"POST", "/ui/session", api_ui_session_create, 0, true, true, false, NULL, false, false},
    {"GET", "/ui/session", api_ui_session_get, ROLE_ADMIN | ROLE_REP, false, false, false, NULL,
     false, false},
    {"POST", "/ui/logout", api_ui_logout, ROLE_ADMIN | ROLE_REP, true, false, false, NULL, true,
     false},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(N_ROUTES <= METRICS_ROUTES_MAX, "every route has its metrics slot");

const char *server_route_pattern(size_t i)
{
    return i < N_ROUTES ? routes[i].pattern : NULL;
}

const char *server_route_method(size_t i)
{
    return i < N_ROUTES ? routes[i].method : NULL;
}

bool server_route_at(size_t i, const char **method, const char **pattern, char *roles,
                     size_t roles_size)
{
    if (i >= N_ROUTES)
        return false;
    *method = routes[i].method;
    *pattern = routes[i].pattern;
    unsigned r = routes[i].roles;
    snprintf(roles, roles_size, "%s%s%s%s", r & ROLE_ADMIN ? "admin" : "",
             r & ROLE_INGEST ? (r & ROLE_ADMIN ? ", ingest" : "ingest") : "",
             r & ROLE_REP ? (r & (ROLE_ADMIN | ROLE_INGEST) ? ", rep" : "rep") : "",
             r ? "" : "none");
    return true;
}

/* ---- replies ---- */

static void set_response(struct request *r, unsigned status, struct MHD_Response *resp)
{
    if (r->response)
        BT_BUG("two replies to one request (%s %s)", r->method, r->path);
    r->status = status;
    r->response = resp;
    if (__atomic_load_n(&r->server->draining, __ATOMIC_ACQUIRE))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

static void reply_text(struct request *r, unsigned status, char *text)
{
    if (!text) {
        /* Never abort on a reply: answer with a fixed body instead. */
        log_error("%s %s: a reply could not be encoded as JSON", r->method, r->path);
        status = 500;
        text = xstrdup("{\"error\":{\"code\":\"internal\",\"message\":\"the reply could not "
                       "be encoded\",\"field\":null}}");
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    set_response(r, status, resp);
}

void reply_html(struct request *r, unsigned status, const char *html, size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, html, len);
    copy[len] = '\0';
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    set_response(r, status, resp);
}

void reply_json(struct request *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(body);
    reply_text(r, status, text);
}

void reply_json_text(struct request *r, unsigned status, const char *text)
{
    reply_text(r, status, text ? xstrdup(text) : NULL);
}

void reply_error(struct request *r, unsigned status, const char *code, const char *field,
                 const char *fmt, ...)
{
    char msg[BT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages and field names may quote client input: paths, headers, keys. */
    text_make_utf8(msg);
    char safe_field[BT_ERROR_FIELD_MAX + 1];
    text_copy(safe_field, sizeof(safe_field), field ? field : "");
    text_make_utf8(safe_field);
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    json_object_set_new(e, "field", safe_field[0] ? json_string(safe_field) : json_null());
    reply_json(r, status, json_pack("{s:o}", "error", e));
}

void reply_bt_error(struct request *r, const struct bt_error *err)
{
    /* the codes and statuses are util/err.c's one table; an internal
     * error's cause stays in the log */
    unsigned status = bt_http_status(err->code);
    const char *code = status == 500 ? "internal" : bt_strerror(err->code);
    if (status >= 500)
        log_error("%s %s: %s", r->method, r->path, err->message);
    const char *msg = status >= 500 && err->code != BT_EBUSY
                          ? "the server could not complete the request; it has been logged"
                          : err->message;
    reply_error(r, status, code, err->field, "%s", msg);
}

void reply_body(struct request *r, unsigned status, const char *content_type, const char *data,
                size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    set_response(r, status, resp);
}

void reply_redirect(struct request *r, const char *location)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    set_response(r, 303, resp);
}

void reply_add_header(struct request *r, const char *name, const char *value)
{
    if (!r->response)
        BT_BUG("header before reply");
    MHD_add_response_header(r->response, name, value);
}

const char *request_header(struct request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *request_query(struct request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_each {
    int (*fn)(void *, const char *, const char *);
    void *cls;
    int rc;
};

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    struct query_each *q = cls;
    (void)kind;
    q->rc = q->fn(q->cls, k, v ? v : "");
    return q->rc ? MHD_NO : MHD_YES;
}

int request_query_each(struct request *r, int (*fn)(void *, const char *, const char *), void *cls)
{
    struct query_each q = {fn, cls, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_iter, &q);
    return q.rc;
}

bool parse_count(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    if (!*s || strlen(s) > 18)
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void reply_page(struct request *r, const void *rows, size_t n, size_t limit,
                json_t *(*item)(const void *rows, size_t i),
                json_t *(*cursor)(const void *rows, size_t i))
{
    bool more = n > limit;
    if (more)
        n = limit;
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, item(rows, i));
    reply_json(r, 200,
               json_pack("{s:o, s:o}", "data", data, "next_cursor",
                         more && n > 0 ? cursor(rows, n - 1) : json_null()));
}

bool request_sees_lead(const struct request *r, const struct lead *lead)
{
    if (r->role != ROLE_REP)
        return true;
    return lead->attr[LEAD_OWNER] && r->key.rep_id &&
           strcmp(lead->attr[LEAD_OWNER], r->key.rep_id) == 0;
}

bool request_sees_rep(const struct request *r, const char *rep)
{
    if (r->role != ROLE_REP)
        return true;
    return r->key.rep_id &&
           (!strcmp(r->key.rep_id, rep) || config_manages(r->cfg, r->key.rep_id, rep));
}

bool request_lead(struct request *r, struct store_conn *c, struct lead *out)
{
    struct bt_error err = BT_ERROR_INIT;
    if (r->id <= 0) {
        reply_error(r, 404, "not_found", "id", "no such lead: ids are positive integers");
        return false;
    }
    bt_err rc = store_lead_get(c, r->id, &r->arena, out, &err);
    if (rc == BT_ENOTFOUND || (!rc && !request_sees_lead(r, out))) {
        reply_error(r, 404, "not_found", "id", "no such lead: %lld", (long long)r->id);
        return false;
    }
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    return true;
}

const char *request_actor(struct request *r)
{
    if (r->authenticated && !r->key.id && r->key.name) /* a link's session: "link:REP" */
        return r->key.name;
    return r->authenticated ? arena_printf(&r->arena, "key:%lld", (long long)r->key.id)
                            : "anonymous";
}

json_t *request_json(struct request *r)
{
    json_error_t jerr;
    json_t *v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v)
        reply_error(r, 400, "malformed", NULL, "malformed JSON at line %d, column %d: %s",
                    jerr.line, jerr.column, jerr.text);
    return v;
}

bool request_reader(struct request *r, struct store_conn **c)
{
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(r->ctx->store, c, &err)) {
        reply_bt_error(r, &err);
        return false;
    }
    return true;
}

/* ---- routing ---- */

/* Matches `path` against a pattern; a "{id}" segment takes a positive integer
 * (anything else there still matches, with id = -1, so that the handler can
 * answer 404 "no such lead" rather than "no such route"); a "{name}" segment
 * takes bytes other than '/', copied to `name` as sent when there are at
 * most REQUEST_NAME_MAX of them, else left empty (ids of reps, pools and
 * accounts, link tokens; the handler validates). */
static bool path_matches(const char *pattern, const char *path, int64_t *id, char *name)
{
    while (*pattern && *path) {
        if (!strncmp(pattern, "{id}", 4)) {
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            if (len == 0)
                return false;
            int64_t v = 0;
            for (size_t i = 0; i < len && v >= 0; i++)
                v = (path[i] >= '0' && path[i] <= '9' && i < 18) ? v * 10 + (path[i] - '0') : -1;
            *id = v > 0 ? v : -1;
            pattern += 4;
            path += len;
            continue;
        }
        if (!strncmp(pattern, "{name}", 6)) {
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            /* "{name}.js": the segment must end with the literal after it,
             * which is not part of the name */
            size_t suffix = strcspn(pattern + 6, "/");
            if (suffix) {
                if (len <= suffix || memcmp(path + len - suffix, pattern + 6, suffix) != 0)
                    return false;
                len -= suffix;
            }
            if (len == 0)
                return false;
            /* Too long for any name: the route still matches, with an empty
             * name that no handler finds (a 404, or a link's error page). */
            size_t copy = len > REQUEST_NAME_MAX ? 0 : len;
            memcpy(name, path, copy);
            name[copy] = '\0';
            pattern += 6;
            path += len;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

/* Path segments of a pattern that are parameters ({id}, {name}). */
static unsigned pattern_params(const char *pattern)
{
    unsigned n = 0;
    for (const char *p = pattern; (p = strchr(p, '{')); p++)
        n++;
    return n;
}

/*
 * Finds the route; *path_known tells a wrong method (405) from no route
 * (404). Where a pattern with fewer parameters matches the path, those with
 * more do not count: /v1/deliveries/replay is that route (405 for GET), not
 * a delivery whose id is "replay".
 */
static const struct route *find_route(const char *method, const char *path, int64_t *id, char *name,
                                      bool *path_known, char *allow, size_t allow_size)
{
    *path_known = false;
    allow[0] = '\0';
    unsigned fewest = UINT_MAX;
    for (size_t i = 0; i < N_ROUTES; i++) {
        int64_t rid = 0;
        char rname[REQUEST_NAME_MAX + 1] = "";
        unsigned params = pattern_params(routes[i].pattern);
        if (params < fewest && path_matches(routes[i].pattern, path, &rid, rname))
            fewest = params;
    }
    const struct route *found = NULL;
    for (size_t i = 0; i < N_ROUTES; i++) {
        int64_t rid = 0;
        char rname[REQUEST_NAME_MAX + 1] = "";
        if (pattern_params(routes[i].pattern) != fewest ||
            !path_matches(routes[i].pattern, path, &rid, rname))
            continue;
        *path_known = true;
        size_t used = strlen(allow);
        snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", routes[i].method);
        if (!strcmp(routes[i].method, method) && !found) {
            found = &routes[i];
            *id = rid;
            memcpy(name, rname, sizeof(rname));
        }
    }
    return found;
}

/* ---- authentication ---- */

static const char *bearer_token(struct request *r);

static const char *role_name_to_bits(const char *name, unsigned *bits)
{
    if (!strcmp(name, "admin"))
        *bits = ROLE_ADMIN;
    else if (!strcmp(name, "ingest"))
        *bits = ROLE_INGEST;
    else if (!strcmp(name, "rep"))
        *bits = ROLE_REP;
    else
        *bits = 0;
    return name;
}

/* Returns true when the request may go on with a key of one of `roles`;
 * otherwise a reply is set. */
static bool authenticate_hash(struct request *r, const char *hash, unsigned roles);
static bool authorize(struct request *r, unsigned roles);

static bool authenticate_for(struct request *r, const char *token, unsigned roles)
{
    if (!token || !*token) {
        reply_error(r, 401, "unauthorized", NULL,
                    "an API key is required: send 'Authorization: Bearer KEY'");
        reply_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        return false;
    }
    if (strlen(token) > 256) {
        reply_error(r, 401, "unauthorized", NULL, "the API key is not valid");
        return false;
    }
    char hash[SHA256_HEX_LEN + 1];
    crypto_sha256_hex(token, strlen(token), hash);
    return authenticate_hash(r, hash, roles);
}

/* The key of SHA-256 `hash` (a bearer key's, or a session's) for one of
 * `roles`; a reply is set when false. */
static bool authenticate_hash(struct request *r, const char *hash, unsigned roles)
{
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(r->ctx->store, &c, &err)) {
        reply_bt_error(r, &err);
        return false;
    }
    bt_err rc = store_key_find_active(c, hash, &r->arena, &r->key, &err);
    store_reader_release(r->ctx->store, c);
    if (rc == BT_ENOTFOUND) {
        reply_error(r, 401, "unauthorized", NULL, "the API key is not valid or has been revoked");
        reply_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
        return false;
    }
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    return authorize(r, roles);
}

/* The caller's key (r->key) is known: whether it may use this route with
 * one of `roles`; a reply is set when false. */
static bool authorize(struct request *r, unsigned roles)
{
    role_name_to_bits(r->key.role, &r->role);
    r->authenticated = true;
    if (!(r->role & roles)) {
        if (r->role == ROLE_INGEST && r->route->ingest_refused)
            reply_error(r, 403, "forbidden", NULL, "%s", r->route->ingest_refused);
        else
            reply_error(r, 403, "forbidden", NULL, "a key with role '%s' may not %s %s",
                        r->key.role, r->method, r->route->pattern);
        return false;
    }
    /* A key in another site's page is readable by anyone who opens it:
     * only an ingest key, made to be public, may be used there. */
    if (r->route->cors && r->cross_origin && r->role != ROLE_INGEST) {
        reply_error(r, 403, "forbidden", "Origin",
                    "a key with role '%s' may not be used from a web page (Origin: %s): it "
                    "would be visible to every visitor; use an ingest key",
                    r->key.role, r->origin);
        return false;
    }
    return true;
}

static bool authenticate(struct request *r, const char *token)
{
    return authenticate_for(r, token, r->route->roles);
}

/*
 * A session made from a one-click link ("GENERATION:REP" after the
 * "link:" of its principal, ui_session.h) stands for the rep as a rep key
 * would: role rep, that rep's id, as long as the rep is still in the
 * configuration and the link secret of that generation is still kept (so
 * `baton keys rotate-links` that drops it signs such sessions out, as a
 * revoked key ends its own). It has no key: id 0, and its name
 * "link:REP" is what request_actor() records.
 */
static bool authenticate_link_rep(struct request *r, const char *gen_rep)
{
    char *end;
    errno = 0;
    unsigned long gen = strtoul(gen_rep, &end, 10);
    const char *rep = end + 1;
    if (errno || end == gen_rep || *end != ':' || gen == 0 || gen > UINT32_MAX ||
        !config_find_rep(r->cfg, rep)) {
        reply_error(r, 401, "unauthorized", NULL,
                    "the session's rep is no longer configured: sign in again at /ui/");
        return false;
    }
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(r->ctx->store, &c, &err)) {
        reply_bt_error(r, &err);
        return false;
    }
    bool found = false;
    uint32_t got = 0;
    uint8_t secret[LINK_SECRET_BYTES];
    bt_err rc = store_link_secret_get(c, (uint32_t)gen, &found, &got, secret, &err);
    store_reader_release(r->ctx->store, c);
    explicit_bzero(secret, sizeof(secret));
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    if (!found || got != gen) {
        reply_error(r, 401, "unauthorized", NULL,
                    "the link this session was opened with was signed with a key that has since "
                    "been retired: open a newer link, or sign in at /ui/");
        return false;
    }
    memset(&r->key, 0, sizeof(r->key));
    r->key.role = "rep";
    r->key.rep_id = arena_strdup(&r->arena, rep);
    r->key.name = arena_printf(&r->arena, "link:%s", rep);
    return authorize(r, r->route->roles);
}

/*
 * The dashboard's session cookie in place of a bearer key: the session's
 * key is looked up as a bearer key would be (a revoked key ends its
 * sessions), with the same roles. A request that may change anything
 * (any method but GET) must also carry the session's CSRF token in the
 * X-Baton-CSRF header: another site's page can make the browser send the
 * cookie (SameSite=Strict aside), but cannot read the token.
 */
static bool authenticate_session(struct request *r, const char *cookie)
{
    char principal[UI_SESSION_PRINCIPAL_MAX + 1];
    if (!ui_sessions_find(r->server->ui_sessions, cookie, time_monotonic_ms(), principal,
                          r->session_csrf)) {
        reply_error(r, 401, "unauthorized", NULL,
                    "the session has expired or ended: sign in again at /ui/, or send "
                    "'Authorization: Bearer KEY'");
        return false;
    }
    if (strcmp(r->method, "GET") != 0 &&
        !ui_sessions_csrf_ok(r->session_csrf, request_header(r, UI_SESSION_CSRF_HEADER))) {
        reply_error(r, 403, "forbidden", UI_SESSION_CSRF_HEADER,
                    "a request made with the session cookie must send the session's CSRF token "
                    "in the %s header",
                    UI_SESSION_CSRF_HEADER);
        return false;
    }
    if (!strncmp(principal, UI_SESSION_LINK_PREFIX, strlen(UI_SESSION_LINK_PREFIX)))
        return authenticate_link_rep(r, principal + strlen(UI_SESSION_LINK_PREFIX));
    return authenticate_hash(r, principal, r->route->roles);
}

/* ---- rate limits ---- */

struct forwarded {
    struct arena *arena;
    char *joined; /* every X-Forwarded-For header, in order, joined by commas */
};

static enum MHD_Result forwarded_iter(void *cls, enum MHD_ValueKind kind, const char *k,
                                      const char *v)
{
    struct forwarded *f = cls;
    (void)kind;
    if (v && !strcasecmp(k, "X-Forwarded-For"))
        f->joined =
            f->joined ? arena_printf(f->arena, "%s,%s", f->joined, v) : arena_strdup(f->arena, v);
    return MHD_YES;
}

/* The client's address: the peer's, or behind a trusted proxy the one the
 * proxies name (netaddr_forwarded_client). Every X-Forwarded-For header
 * counts, so that one sent by the client ahead of the proxy's own cannot
 * stand in for it. */
static void client_address(struct request *r, struct net_addr *out)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct net_addr peer;
    if (!ci || !netaddr_from_sockaddr(ci->client_addr, &peer))
        memset(&peer, 0, sizeof(peer));
    const struct config_rate_limit *rl = &r->cfg->rate_limit;
    if (!rl->n_trusted_proxies || !peer.family) {
        *out = peer;
        return;
    }
    struct forwarded f = {&r->arena, NULL};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, forwarded_iter, &f);
    netaddr_forwarded_client(&peer, f.joined, rl->trusted_proxies, rl->n_trusted_proxies, out);
}

/*
 * Counts an intake request of a limited role against its client address's
 * budget and then its key's (in that order, so that an address over its
 * limit spends nothing of a key that many visitors share). Returns true
 * when it may go on; otherwise a 429 with Retry-After is set.
 */
static bool within_rate_limit(struct request *r)
{
    const struct config_rate_limit *rl = &r->cfg->rate_limit;
    bool limited = (r->role == ROLE_INGEST && rl->ingest) || (r->role == ROLE_ADMIN && rl->admin);
    if (!r->route->intake || !limited)
        return true;
    int64_t now = clock_now(r->ctx->clock), retry_ms = 0;
    struct bt_error err = BT_ERROR_INIT;
    const char *which = NULL;
    if (rl->per_address.count) {
        struct net_addr client;
        client_address(r, &client);
        uint8_t key[NETADDR_LIMIT_KEY];
        size_t len = netaddr_limit_key(&client, key);
        if (ratelimit_take(r->server->by_address, &rl->per_address, key, len, now, &retry_ms, &err))
            which = "this address";
    }
    if (!which && rl->per_key.count) {
        uint8_t key[sizeof(r->key.id)];
        memcpy(key, &r->key.id, sizeof(key));
        if (ratelimit_take(r->server->by_key, &rl->per_key, key, sizeof(key), now, &retry_ms, &err))
            which = "this API key";
    }
    if (!which)
        return true;
    bt_error_prefix(&err, "%s: ", which);
    reply_bt_error(r, &err);
    char seconds[24];
    snprintf(seconds, sizeof(seconds), "%lld", (long long)((retry_ms + 999) / 1000));
    reply_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    return false;
}

bool request_from_loopback(struct request *r)
{
    struct net_addr client;
    client_address(r, &client);
    return netaddr_is_loopback(&client);
}

bool request_authenticate(struct request *r, unsigned roles)
{
    return authenticate_for(r, bearer_token(r), roles);
}

size_t request_client_key(struct request *r, uint8_t out[NETADDR_LIMIT_KEY])
{
    struct net_addr client;
    client_address(r, &client);
    return netaddr_limit_key(&client, out);
}

bool request_within_rate(struct request *r, char space, const struct ratelimit_rate *rate,
                         const void *key, size_t key_len, const char *what)
{
    if (!rate->count)
        return true;
    uint8_t k[RATELIMIT_KEY_MAX];
    if (key_len + 1 > sizeof(k))
        BT_BUG("rate limit key of %zu bytes", key_len);
    k[0] = (uint8_t)space;
    memcpy(k + 1, key, key_len);
    int64_t now = clock_now(r->ctx->clock), retry_ms = 0;
    struct bt_error err = BT_ERROR_INIT;
    if (!ratelimit_take(r->server->by_form, rate, k, key_len + 1, now, &retry_ms, &err))
        return true;
    bt_error_prefix(&err, "%s: ", what);
    reply_bt_error(r, &err);
    char seconds[24];
    snprintf(seconds, sizeof(seconds), "%lld", (long long)((retry_ms + 999) / 1000));
    reply_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    return false;
}

struct ui_sessions *request_ui_sessions(struct request *r)
{
    return r->server->ui_sessions;
}

struct form_stats *request_form_stats(struct request *r)
{
    return r->server->form_stats;
}

/* ---- CORS (cors.h) ---- */

/* Classifies the request's Origin; true when it may go on, else a 403. */
static bool cors_admit(struct request *r)
{
    r->origin = request_header(r, "Origin");
    switch (cors_classify(r->origin, r->cfg->public_url, r->cfg->allowed_origins,
                          r->cfg->n_allowed_origins)) {
    case CORS_NO_ORIGIN:
    case CORS_SAME_ORIGIN:
        return true;
    case CORS_ALLOWED:
        r->cross_origin = r->origin_allowed = true;
        return true;
    case CORS_REFUSED:
        break;
    }
    r->cross_origin = true;
    reply_error(r, 403, "forbidden", "Origin",
                "pages of %.200s may not send to %s: the origin is not in "
                "intake.allowed_origins",
                r->origin, r->route->pattern);
    return false;
}

void api_preflight(struct request *r)
{
    if (!r->origin) {
        /* not a browser's preflight: say what the path takes */
        reply_body(r, 204, NULL, "", 0);
        reply_add_header(r, MHD_HTTP_HEADER_ALLOW, "POST, OPTIONS");
        return;
    }
    char why[200];
    const char *field = NULL;
    if (!cors_preflight_ok("POST", request_header(r, "Access-Control-Request-Method"),
                           request_header(r, "Access-Control-Request-Headers"), why, sizeof(why),
                           &field)) {
        reply_error(r, 403, "forbidden", field, "%s", why);
        return;
    }
    reply_body(r, 204, NULL, "", 0);
    reply_add_header(r, "Access-Control-Allow-Methods", "POST");
    reply_add_header(r, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    reply_add_header(r, "Access-Control-Max-Age", CORS_MAX_AGE);
}

static const char *bearer_token(struct request *r)
{
    const char *h = request_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h)
        return NULL;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return "";
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

static enum body_kind content_kind(const char *ct)
{
    if (!ct)
        return BODY_NONE;
    size_t len = strcspn(ct, ";");
    while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len == 16 && !strncasecmp(ct, "application/json", 16))
        return BODY_JSON;
    if (len == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        return BODY_FORM;
    return BODY_NONE;
}

/* ---- the request cycle ---- */

static bool is_probe(const char *path)
{
    return !strcmp(path, "/healthz") || !strcmp(path, "/readyz");
}

/* A 503 that tells the client when to come back, on a connection that is
 * then closed. */
static void reply_busy(struct request *r, const char *why)
{
    reply_error(r, 503, "unavailable", NULL, "%s; try again in a second", why);
    reply_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    reply_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* ---- what the request itself must satisfy ---- */

struct query_check {
    const char *keys[REQUEST_QUERY_MAX];
    size_t n;
    const char *dup;
    bool too_many;
};

static enum MHD_Result query_dup(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_check *q = cls;
    (void)kind;
    (void)value;
    for (size_t i = 0; i < q->n; i++)
        if (!strcmp(q->keys[i], key)) {
            q->dup = key;
            return MHD_NO;
        }
    if (q->n == REQUEST_QUERY_MAX) {
        q->too_many = true;
        return MHD_NO;
    }
    q->keys[q->n++] = key;
    return MHD_YES;
}

/* A NUL byte decoded from the path or the query ("%00") would cut the text
 * short after the checks that read it: such a request is refused whole. (A
 * raw NUL byte in the request line or a header is cut off by libmicrohttpd
 * itself before Baton sees the text; docs/api.md says so.) So is a query
 * parameter given twice: which one would count is anybody's guess. */
static bool request_well_formed(struct server *s, struct request *r)
{
    if (conn_guard_took_nul(s->guard, r->conn)) {
        reply_error(r, 400, "malformed", NULL, "the path or the query contains a NUL byte (%%00)");
        return false;
    }
    struct query_check q = {.n = 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_dup, &q);
    if (q.dup) {
        reply_error(r, 400, "invalid", q.dup, "query parameter '%.64s' is given more than once",
                    q.dup);
        return false;
    }
    if (q.too_many) {
        reply_error(r, 400, "invalid", NULL, "at most %d query parameters", REQUEST_QUERY_MAX);
        return false;
    }
    return true;
}

static bool begin_request(struct server *s, struct request *r)
{
    if (__atomic_load_n(&s->draining, __ATOMIC_ACQUIRE)) {
        reply_error(r, 503, "unavailable", NULL, "the server is shutting down");
        return false;
    }
    if (conn_guard_refused_here(s->guard, r->conn)) {
        reply_busy(r, "too many connections from this address");
        return false;
    }
    if (conn_guard_open(s->guard) > s->limits.max_connections && !is_probe(r->path)) {
        reply_busy(r, "the server is at its connection limit");
        return false;
    }
    if (!request_well_formed(s, r))
        return false;
    int64_t id = 0;
    bool path_known;
    char allow[64];
    r->route = find_route(r->method, r->path, &id, r->name, &path_known, allow, sizeof(allow));
    r->id = id;
    if (!r->route) {
        if (path_known) {
            reply_error(r, 405, "method_not_allowed", NULL, "%s is not allowed on %s; use %s",
                        r->method, r->path, allow);
            reply_add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
        } else {
            reply_error(r, 404, "not_found", NULL, "no such endpoint: %s %s", r->method, r->path);
        }
        return false;
    }
    if (r->route->cors && !cors_admit(r))
        return false;
    if (r->route->has_body) {
        const char *ct = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *cl = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        r->body_kind = content_kind(ct);
        /* An action that takes an optional body may come with none at all. */
        if (!ct && r->route->body_optional && (!cl || !strcmp(cl, "0")) &&
            !request_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING))
            r->body_kind = BODY_JSON;
        if (r->body_kind == BODY_NONE || (r->body_kind == BODY_FORM && !r->route->form_ok)) {
            reply_error(r, 415, "unsupported_media_type", "Content-Type",
                        "Content-Type must be application/json%s (got %s)",
                        r->route->form_ok ? " or application/x-www-form-urlencoded" : "",
                        ct ? ct : "none");
            return false;
        }
        if (cl && strtoull(cl, NULL, 10) > r->cfg->max_body_bytes) {
            reply_error(r, 413, "too_large", NULL, "the body is larger than %zu bytes",
                        r->cfg->max_body_bytes);
            return false;
        }
    }
    if (r->route->roles) {
        const char *token = bearer_token(r);
        /* An HTML form cannot send headers: it may carry the key in ?key=. */
        if (!token && r->body_kind == BODY_FORM)
            token = request_query(r, "key");
        /* No key at all: the dashboard's cookie may stand for one, except
         * on the intake routes, which other sites' pages call. */
        const char *cookie =
            token || r->route->intake || r->route->cors
                ? NULL
                : MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, UI_SESSION_COOKIE);
        if (cookie) {
            if (!authenticate_session(r, cookie) || !within_rate_limit(r))
                return false;
        } else if (!authenticate(r, token) || !within_rate_limit(r)) {
            return false;
        }
    }
    return true;
}

static bool append_body(struct request *r, const char *data, size_t len)
{
    if (r->body_too_big)
        return true;
    if (r->body_len + len > r->cfg->max_body_bytes) {
        r->body_too_big = true;
        return true;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        r->body = xrealloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return true;
}

static enum MHD_Result queue(struct request *r)
{
    /* Every reply of a CORS route depends on the Origin; an allowed page
     * may read it, errors included (a form shows them). */
    if (r->route && r->route->cors) {
        MHD_add_response_header(r->response, "Vary", "Origin");
        if (r->origin_allowed)
            MHD_add_response_header(r->response, "Access-Control-Allow-Origin", r->origin);
    }
    enum MHD_Result rc = MHD_queue_response(r->conn, r->status, r->response);
    MHD_destroy_response(r->response);
    r->response = NULL;
    /* By route pattern (never the raw path); no route: the slot after them. */
    size_t slot = r->route ? (size_t)(r->route - routes) : N_ROUTES;
    metrics_add(&metrics.http_requests[slot][metrics_status_slot(r->status)], 1);
    metrics_observe(&metrics.http_duration[slot], metrics_now_ns() - r->started_ns);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *s = cls;
    struct request *r = *con_cls;
    (void)version;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        r->server = s;
        r->started_ns = metrics_now_ns();
        r->ctx = &s->ctx;
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->cfg = config_holder_get(s->ctx.config);
        *con_cls = r;
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        conn_guard_headers_in(s->guard, conn);
        if (!begin_request(s, r))
            return queue(r);
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A body where none belongs, or a (chunked) body far past the limit:
         * a reply cannot be queued in the middle of an upload, and reading
         * on would let a client hold this thread for as long as it likes, so
         * the connection is closed. */
        r->body_seen += *upload_data_size;
        if (!r->route || !r->route->has_body ||
            r->body_seen > 2 * (uint64_t)r->cfg->max_body_bytes + 65536)
            return MHD_NO;
        append_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    conn_guard_body_in(s->guard, conn);
    if (r->body_too_big) {
        reply_error(r, 413, "too_large", NULL, "the body is larger than %zu bytes",
                    r->cfg->max_body_bytes);
    } else {
        if (!r->body) {
            r->body = xstrdup("");
        }
        r->route->handler(r);
        if (!r->response)
            BT_BUG("handler for %s %s gave no reply", r->method, r->route->pattern);
    }
    return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct request *r = *con_cls;
    (void)toe;
    conn_guard_answered(s->guard, conn);
    if (!r)
        return;
    if (r->response)
        MHD_destroy_response(r->response);
    config_unref(r->cfg);
    arena_release(&r->arena);
    free(r->body);
    free(r);
    *con_cls = NULL;
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    if (s->in_flight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* ---- lifecycle ---- */

static bool listen_socket_ok(int fd)
{
    return listen(fd, SOMAXCONN) == 0;
}

bt_err server_listen(const char *address, int *fd_out, char *url, size_t url_size,
                     struct bt_error *err)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || strlen(address) >= sizeof(host))
        return bt_fail(err, BT_EINVAL, "listen", "listen address must be HOST:PORT, got '%s'",
                       address);
    const char *port = colon + 1;
    size_t hlen = (size_t)(colon - address);
    if (address[0] == '[' && hlen >= 2 && address[hlen - 1] == ']') {
        memcpy(host, address + 1, hlen - 2);
        host[hlen - 2] = '\0';
    } else {
        memcpy(host, address, hlen);
        host[hlen] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return bt_fail(err, BT_EINVAL, "listen", "cannot resolve '%s': %s", address,
                       gai_strerror(gai));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen_socket_ok(fd))
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return bt_fail(err, BT_EIO, "listen", "cannot listen on %s: %s", address,
                       strerror(saved ? saved : EADDRNOTAVAIL));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char addr[INET6_ADDRSTRLEN];
    unsigned bound_port;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
        bound_port = ntohs(a6->sin6_port);
        snprintf(url, url_size, "http://[%s]:%u", addr, bound_port);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
        bound_port = ntohs(a4->sin_port);
        snprintf(url, url_size, "http://%s:%u", addr, bound_port);
    }
    *fd_out = fd;
    return BT_OK;
}

bt_err server_start(const struct server_context *ctx, int fd, const char *address,
                    const struct server_limits *limits, struct server **out, struct bt_error *err)
{
    struct server *s = xcalloc(1, sizeof(*s));
    s->ctx = *ctx;
    s->limits = *limits;
    struct conn_guard_options gopts = {
        .header_timeout_ms = limits->header_timeout_ms,
        .body_timeout_ms = limits->body_timeout_ms,
        .idle_timeout_ms = limits->idle_timeout_ms,
        .max_per_address = limits->max_per_address,
        .limit_loopback = limits->limit_loopback,
    };
    s->guard = conn_guard_new(&gopts);
    unsigned timeout_ms = limits->idle_timeout_ms;
    s->by_key = ratelimit_new(RATE_LIMIT_KEYS, crypto_random_u64());
    s->by_address = ratelimit_new(RATE_LIMIT_ADDRESSES, crypto_random_u64());
    s->by_form = ratelimit_new(RATE_LIMIT_FORMS, crypto_random_u64());
    s->form_stats = form_stats_new();
    s->ui_sessions = ui_sessions_new();
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr; /* the drain deadline follows the monotonic clock */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &attr);
    pthread_condattr_destroy(&attr);
    unsigned timeout_s = timeout_ms ? (timeout_ms + 999) / 1000 : 30;
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        limits->max_connections + CONN_GUARD_RESERVE, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        conn_guard_notify, s->guard, MHD_OPTION_UNESCAPE_CALLBACK, conn_guard_unescape, s->guard,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_END);
    /* From here libmicrohttpd owns the listening socket and closes it. */
    if (!s->daemon) {
        close(fd);
        conn_guard_free(s->guard);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->idle);
        ratelimit_free(s->by_key);
        ratelimit_free(s->by_address);
        ratelimit_free(s->by_form);
        form_stats_free(s->form_stats);
        ui_sessions_free(s->ui_sessions);
        free(s);
        return bt_fail(err, BT_EIO, "listen", "cannot start the HTTP server on %s", address);
    }
    *out = s;
    return BT_OK;
}

void server_quiesce(struct server *s)
{
    __atomic_store_n(&s->draining, true, __ATOMIC_RELEASE);
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd); /* after quiescing, the socket is ours to close */
}

bool server_drain(struct server *s, unsigned timeout_ms)
{
    int64_t deadline = time_monotonic_ms() + timeout_ms;
    pthread_mutex_lock(&s->lock);
    while (s->in_flight > 0) {
        int64_t left = deadline - time_monotonic_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait = left < 100 ? left : 100;
        ts.tv_nsec += (wait % 1000) * 1000000;
        ts.tv_sec += wait / 1000 + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&s->idle, &s->lock, &ts);
    }
    bool idle = s->in_flight == 0;
    pthread_mutex_unlock(&s->lock);
    return idle;
}

void server_stop(struct server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    uint64_t timed_out = conn_guard_timed_out(s->guard), refused = conn_guard_refused(s->guard);
    if (timed_out || refused)
        log_info("http: %llu connections closed for missing their deadline, %llu refused for "
                 "their address",
                 (unsigned long long)timed_out, (unsigned long long)refused);
    conn_guard_free(s->guard);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    ratelimit_free(s->by_key);
    ratelimit_free(s->by_address);
    ratelimit_free(s->by_form);
    form_stats_free(s->form_stats);
    ui_sessions_free(s->ui_sessions);
    free(s);
}
