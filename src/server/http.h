/*
 * http.h - what handlers see of a request (internal to src/server/).
 *
 * server.c owns the libmicrohttpd plumbing: it reads the body (bounded),
 * finds the route, authenticates, and calls the route's handler once with
 * the whole body. A handler answers with exactly one reply_*() call. All
 * memory a handler allocates comes from r->arena and is freed with the
 * request.
 */
#ifndef BT_HTTP_H
#define BT_HTTP_H

#include "config/config.h"
#include "server/lead_json.h"
#include "server/server.h"
#include "store/store.h"
#include "util/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Response;

enum role_bits {
    ROLE_ADMIN = 1u << 0,
    ROLE_INGEST = 1u << 1,
    ROLE_REP = 1u << 2,
};

enum body_kind { BODY_NONE, BODY_JSON, BODY_FORM };

#define REQUEST_NAME_MAX  160 /* bytes of a {name} path segment (a link token: 139) */
#define REQUEST_QUERY_MAX 32  /* query parameters of one request */

struct request {
    struct server *server;
    const struct server_context *ctx;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct arena arena;
    struct config *cfg; /* a reference held for the request's life */

    const struct route *route;
    int64_t id;                      /* the {id} in the path, when the route has one */
    char name[REQUEST_NAME_MAX + 1]; /* the {name} in the path, when the route has one */

    enum body_kind body_kind;
    char *body;
    size_t body_len, body_cap;
    bool body_too_big;
    uint64_t body_seen; /* bytes received, kept or not */

    /* CORS (routes with `cors`): the request's Origin header, or NULL; and
     * whether it is another site's page (not server.public_url's origin) and
     * one of intake.allowed_origins */
    const char *origin;
    bool cross_origin;
    bool origin_allowed;

    bool authenticated;
    unsigned role;      /* one of role_bits */
    struct api_key key; /* the caller's key, strings in the arena */
    /* signed in with the dashboard's session cookie: its CSRF token
     * (ui_session.h); "" for a bearer key */
    char session_csrf[64 + 1];

    unsigned status;
    struct MHD_Response *response;
    int64_t started_ns; /* metrics_now_ns() when the headers came in */
};

typedef void (*handler_fn)(struct request *r);

struct route {
    const char *method;
    const char *pattern; /* "/v1/leads/{id}/events" */
    handler_fn handler;
    unsigned roles; /* 0: no authentication */
    bool has_body;
    bool form_ok; /* accepts application/x-www-form-urlencoded */
    bool intake;  /* counted by intake.rate_limit */
    /* what an ingest key is told when refused here, for a route that it
     * might expect to use; NULL: the general message */
    const char *ingest_refused;
    bool body_optional; /* has_body, but a request may come without one (no Content-Type) */
    /* callable from other sites' pages (intake.allowed_origins): another
     * origin is refused, an allowed one gets Access-Control-Allow-Origin,
     * and only an ingest key (or none) may come from a page */
    bool cors;
};

/* Replies; each takes ownership of `body` (a jansson reference). */
void reply_json(struct request *r, unsigned status, json_t *body);
/* A body that is JSON text already (copied; the caller keeps `text`). */
void reply_json_text(struct request *r, unsigned status, const char *text);
void reply_error(struct request *r, unsigned status, const char *code, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a bt_err to a status and code and replies with the error's text. */
void reply_bt_error(struct request *r, const struct bt_error *err);
void reply_redirect(struct request *r, const char *location);
/* A page (copied): Content-Type text/html; charset=utf-8, nothing else. */
void reply_html(struct request *r, unsigned status, const char *html, size_t len);
void reply_add_header(struct request *r, const char *name, const char *value);
/* A body of any type (copied), e.g. "application/javascript; charset=utf-8";
 * len 0 with status 204 for no content. */
void reply_body(struct request *r, unsigned status, const char *content_type, const char *data,
                size_t len);

/*
 * Counts one request against `rate` for `key` (1 .. 24 bytes; `space` keeps
 * the keys of different limits apart) in the server's table of form limits.
 * True when it may go on; otherwise a 429 naming `what` ("this form") with
 * Retry-After is set.
 */
bool request_within_rate(struct request *r, char space, const struct ratelimit_rate *rate,
                         const void *key, size_t key_len, const char *what);
/* The client's address as a rate-limit key (netaddr_limit_key; behind a
 * trusted proxy, the client it names); returns its length. */
size_t request_client_key(struct request *r, uint8_t out[9]);
/* Whether the client (behind a trusted proxy: the one it names) is on
 * loopback (127.0.0.0/8, ::1). */
bool request_from_loopback(struct request *r);
/* Authenticates the request's bearer key for one of `roles` (role_bits),
 * for a route whose handler decides who needs a key; false with the 401 or
 * 403 reply set. */
bool request_authenticate(struct request *r, unsigned roles);
/* The route table's pattern and method of route i (the metrics' slots),
 * NULL past the last. */
const char *server_route_pattern(size_t i);
const char *server_route_method(size_t i);

/* The server's dashboard sessions (ui_session.h). */
struct ui_sessions *request_ui_sessions(struct request *r);
/* The server's form counters (form_stats.h). */
struct form_stats *request_form_stats(struct request *r);

/* Request header or query argument, or NULL. */
const char *request_header(struct request *r, const char *name);
const char *request_query(struct request *r, const char *name);
/* Calls fn for every query argument; stops at the first non-zero return. */
int request_query_each(struct request *r, int (*fn)(void *cls, const char *k, const char *v),
                       void *cls);

/* The request's body as JSON (any value; repeated keys refused), or NULL
 * with a 400 "malformed" reply naming the line and column. */
json_t *request_json(struct request *r);

/* A pooled reader connection (release it with store_reader_release); false
 * when none could be had, with the error reply set. */
bool request_reader(struct request *r, struct store_conn **c);

/* Whether the caller may see this lead: a rep key sees only the leads its
 * rep owns (another rep's lead is answered as not found); other roles see
 * every lead their routes allow. */
bool request_sees_lead(const struct request *r, const struct lead *lead);

/* Whether the caller may see the work of rep `rep` (its assignments, its
 * tasks): a rep key its own and those of the reps it manages (config_manages:
 * the rep's `manager`, else its team's); other roles every rep. */
bool request_sees_rep(const struct request *r, const char *rep);

/* Loads the lead of the path's {id} on `c`, as the caller may see it
 * (request_sees_lead); false with a 404 (or a store error) reply set. */
bool request_lead(struct request *r, struct store_conn *c, struct lead *out);

/* "key:3" - the actor recorded in events. */
const char *request_actor(struct request *r);

/*
 * Cursor pagination, the same for every list: the handler reads one row
 * more than the page (limit + 1) and reply_page() answers
 * {"data": [item(rows, i), ...], "next_cursor": cursor(rows, last) | null}
 * for the first min(n, limit) rows; there is a next page when n > limit.
 */
#define PAGE_DEFAULT_LIMIT 50
#define PAGE_MAX_LIMIT     500
/* A decimal integer from min to max (at most 18 digits); false otherwise. */
bool parse_count(const char *s, int64_t min, int64_t max, int64_t *out);
void reply_page(struct request *r, const void *rows, size_t n, size_t limit,
                json_t *(*item)(const void *rows, size_t i),
                json_t *(*cursor)(const void *rows, size_t i));

/* Handlers. */
void api_health(struct request *r);
void api_ready(struct request *r);
void api_openapi(struct request *r);
void api_metrics(struct request *r);
void api_lead_create(struct request *r);
void api_lead_get(struct request *r);
void api_lead_list(struct request *r);
void api_lead_events(struct request *r);
void api_lead_activities_create(struct request *r);
void api_lead_activities_list(struct request *r);
void api_activities_create(struct request *r);
void api_lead_outcome(struct request *r);
void api_admin_clock(struct request *r);
void api_rep_list(struct request *r);
void api_rep_get(struct request *r);
void api_rep_status(struct request *r);
void api_rep_time_off_add(struct request *r);
void api_rep_time_off_delete(struct request *r);
void api_pool_list(struct request *r);
void api_pool_get(struct request *r);
void api_hold_list(struct request *r);
void api_lead_decision(struct request *r);
void api_lead_exclusions(struct request *r);
void api_lead_exclude(struct request *r);
void api_account_upsert(struct request *r);
/* api_import.c: history in batches */
void api_import_leads(struct request *r);
void api_import_activities(struct request *r);
void api_account_get(struct request *r);
void api_account_list(struct request *r);
void api_assignment_list(struct request *r);
void api_assignment_get(struct request *r);
void api_assignment_accept(struct request *r);
void api_assignment_reject(struct request *r);
void api_assignment_contacted(struct request *r);
void api_assignment_reassign(struct request *r);
void api_assignment_withdraw(struct request *r);
void api_lead_assignments(struct request *r);
void api_rep_assignments(struct request *r);
void api_reject_reasons(struct request *r);
void api_delivery_list(struct request *r);
void api_delivery_get(struct request *r);
void api_delivery_retry(struct request *r);
void api_delivery_replay(struct request *r);
void api_delivery_channels(struct request *r);
void api_delivery_channel_enable(struct request *r);
void api_delivery_channel_disable(struct request *r);
void api_rep_tasks(struct request *r);
void api_task_done(struct request *r);
void api_link_page(struct request *r);
void api_preflight(struct request *r);
void api_form_submit(struct request *r);
void api_form_script(struct request *r);
void api_form_list(struct request *r);
void api_link_act(struct request *r);
void api_report_get(struct request *r);
void api_ui_index(struct request *r);
void api_ui_script(struct request *r);
void api_ui_style(struct request *r);
void api_ui_chart(struct request *r);
void api_ui_session_create(struct request *r);
void api_ui_session_get(struct request *r);
/* Signs the browser in for `principal` (ui_session.h): a session, its
 * cookie (the same attributes as POST /ui/session's) and a 303 to /ui/. */
void api_ui_session_start(struct request *r, const char *principal);
void api_ui_logout(struct request *r);
/* The one-click link of an assignment ({public_url}/a/{token}) in the
 * arena, or NULL when server.public_url is not set (or no secret). */
struct store_assignment;
char *api_link_make(struct request *r, struct store_conn *c, const struct store_assignment *a);

#endif
