/*
 * api_ui.c - the dashboard (docs/dashboard.md): its page, script and style
 * (src/server/assets/ui/, built in with .incbin like the forms' script, so
 * the binary serves the dashboard it was built with and nothing is fetched
 * from elsewhere), Chart.js from Debian's libjs-chart.js (read from its
 * installed file on every request, so a package upgrade needs no rebuild),
 * and sign-in: POST /ui/session trades an admin or rep API key for a
 * session cookie (ui_session.h), GET /ui/session says who is signed in and
 * hands the page its CSRF token, POST /ui/logout ends the session. A rep's
 * one-click link signs in too (api_links.c, through api_ui_session_start).
 *
 * Every page and asset is sent with a strict Content-Security-Policy (no
 * inline script, nothing from another origin), X-Frame-Options: DENY and
 * nosniff. server.c accepts the cookie in place of a bearer key.
 */
#include "server/http.h"
#include "server/intake_parse.h"
#include "server/ui_session.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UI_ASSET(sym, file)                                                                        \
    __asm__(".section .rodata\n"                                                                   \
            ".global " #sym "\n"                                                                   \
            ".type " #sym ", @object\n" #sym ":\n"                                                 \
            ".incbin \"" file "\"\n"                                                               \
            ".global " #sym "_end\n" #sym "_end:\n"                                                \
            ".byte 0\n"                                                                            \
            ".previous\n");                                                                        \
    extern const char sym[];                                                                       \
    extern const char sym##_end[]

UI_ASSET(baton_ui_index_html, "src/server/assets/ui/index.html");
UI_ASSET(baton_ui_app_js, "src/server/assets/ui/app.js");
UI_ASSET(baton_ui_app_css, "src/server/assets/ui/app.css");

/* Debian's libjs-chart.js (3.x, UMD: defines window.Chart). */
#define UI_CHART_JS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#define UI_CHART_JS_MAX  (4u << 20)

#define UI_CSP                                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void ui_headers(struct request *r, bool cache)
{
    reply_add_header(r, "Content-Security-Policy", UI_CSP);
    reply_add_header(r, "X-Frame-Options", "DENY");
    reply_add_header(r, "X-Content-Type-Options", "nosniff");
    reply_add_header(r, "Referrer-Policy", "no-referrer");
    reply_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? "max-age=300" : "no-store");
}

static void reply_asset(struct request *r, const char *type, const char *start, const char *end)
{
    reply_body(r, 200, type, start, (size_t)(end - start));
    ui_headers(r, false);
}

void api_ui_index(struct request *r)
{
    reply_asset(r, "text/html; charset=utf-8", baton_ui_index_html, baton_ui_index_html_end);
}

void api_ui_script(struct request *r)
{
    reply_asset(r, "text/javascript; charset=utf-8", baton_ui_app_js, baton_ui_app_js_end);
}

void api_ui_style(struct request *r)
{
    reply_asset(r, "text/css; charset=utf-8", baton_ui_app_css, baton_ui_app_css_end);
}

void api_ui_chart(struct request *r)
{
    FILE *f = fopen(UI_CHART_JS_PATH, "rb");
    if (!f) {
        reply_error(r, 503, "unavailable", NULL,
                    "Chart.js is not installed (%s: %s): install Debian's libjs-chart.js",
                    UI_CHART_JS_PATH, strerror(errno));
        return;
    }
    char *buf = xmalloc(UI_CHART_JS_MAX + 1);
    size_t n = fread(buf, 1, UI_CHART_JS_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed || n > UI_CHART_JS_MAX) {
        free(buf);
        reply_error(r, 503, "unavailable", NULL, "%s could not be read or is over %u bytes",
                    UI_CHART_JS_PATH, UI_CHART_JS_MAX);
        return;
    }
    reply_body(r, 200, "text/javascript; charset=utf-8", buf, n);
    free(buf);
    ui_headers(r, true);
}

/* The cookie's attributes: Secure when the server is reached by https. */
static const char *cookie_attributes(struct request *r)
{
    bool https = r->cfg->public_url && !strncmp(r->cfg->public_url, "https:", 6);
    return https ? "; Path=/; HttpOnly; SameSite=Strict; Secure"
                 : "; Path=/; HttpOnly; SameSite=Strict";
}

/* Sign-ins from one client address: plenty for an office behind one NAT
 * address at nine o'clock, few for a script trying keys (keys are random,
 * so this limits the load of trying more than the odds). */
static const struct ratelimit_rate sign_in_rate = {.count = 60, .period_ms = 60000, .burst = 30};

void api_ui_session_create(struct request *r)
{
    struct intake_pair *pairs;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    /* Another site's page must not sign the browser in to a session of the
     * site's choosing (login CSRF): browsers say where a request comes from. */
    const char *site = request_header(r, "Sec-Fetch-Site");
    if (site && !strcmp(site, "cross-site")) {
        reply_error(r, 403, "forbidden", "Sec-Fetch-Site",
                    "signing in from another site's page is refused: open /ui/");
        return;
    }
    uint8_t client[9];
    size_t client_len = request_client_key(r, client);
    if (!request_within_rate(r, 's', &sign_in_rate, client, client_len,
                             "sign-in from this address"))
        return;
    if (intake_parse_pairs(r->body, r->body_len, r->body_kind == BODY_JSON, &r->arena, &pairs, &n,
                           &err)) {
        reply_bt_error(r, &err);
        return;
    }
    const char *key = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pairs[i].name, "key") != 0) {
            reply_error(r, 400, "invalid", pairs[i].name, "unknown field '%.64s': send only 'key'",
                        pairs[i].name);
            return;
        }
        key = pairs[i].value;
    }
    if (!key || !*key) {
        reply_error(r, 400, "invalid", "key", "an API key is required");
        return;
    }
    if (strlen(key) > 256) {
        reply_error(r, 401, "unauthorized", "key", "the API key is not valid");
        return;
    }
    char hash[SHA256_HEX_LEN + 1];
    crypto_sha256_hex(key, strlen(key), hash);
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    struct api_key k;
    bt_err rc = store_key_find_active(c, hash, &r->arena, &k, &err);
    store_reader_release(r->ctx->store, c);
    if (rc == BT_ENOTFOUND) {
        reply_error(r, 401, "unauthorized", "key", "the API key is not valid or has been revoked");
        return;
    }
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    if (strcmp(k.role, "admin") != 0 && strcmp(k.role, "rep") != 0) {
        reply_error(r, 403, "forbidden", "key",
                    "a key with role '%s' may not sign in to the dashboard: use an admin or a "
                    "rep key",
                    k.role);
        return;
    }
    char token[UI_SESSION_TOKEN_LEN + 1], csrf[UI_SESSION_CSRF_LEN + 1];
    ui_sessions_create(request_ui_sessions(r), hash, time_monotonic_ms(), token, csrf);
    char *cookie = arena_printf(&r->arena, "%s=%s; Max-Age=%lld%s", UI_SESSION_COOKIE, token,
                                (long long)(UI_SESSION_TTL_MS / 1000), cookie_attributes(r));
    explicit_bzero(token, sizeof(token));
    if (r->body_kind == BODY_FORM) {
        reply_redirect(r, "/ui/");
    } else {
        reply_json(r, 200,
                   json_pack("{s:s, s:o, s:s, s:I}", "role", k.role, "rep",
                             k.rep_id ? json_string(k.rep_id) : json_null(), "csrf", csrf,
                             "expires_in_seconds", (json_int_t)(UI_SESSION_TTL_MS / 1000)));
    }
    reply_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    reply_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

void api_ui_session_start(struct request *r, const char *principal)
{
    char token[UI_SESSION_TOKEN_LEN + 1], csrf[UI_SESSION_CSRF_LEN + 1];
    ui_sessions_create(request_ui_sessions(r), principal, time_monotonic_ms(), token, csrf);
    char *cookie = arena_printf(&r->arena, "%s=%s; Max-Age=%lld%s", UI_SESSION_COOKIE, token,
                                (long long)(UI_SESSION_TTL_MS / 1000), cookie_attributes(r));
    explicit_bzero(token, sizeof(token));
    explicit_bzero(csrf, sizeof(csrf)); /* the page asks GET /ui/session for it */
    reply_redirect(r, "/ui/");
    reply_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    reply_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

void api_ui_session_get(struct request *r)
{
    reply_json(r, 200,
               json_pack("{s:s, s:o, s:o}", "role", r->key.role, "rep",
                         r->key.rep_id ? json_string(r->key.rep_id) : json_null(), "csrf",
                         r->session_csrf[0] ? json_string(r->session_csrf) : json_null()));
}

void api_ui_logout(struct request *r)
{
    const char *token = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, UI_SESSION_COOKIE);
    if (r->session_csrf[0] && token)
        ui_sessions_remove(request_ui_sessions(r), token);
    reply_body(r, 204, NULL, "", 0);
    char *cookie =
        arena_printf(&r->arena, "%s=; Max-Age=0%s", UI_SESSION_COOKIE, cookie_attributes(r));
    reply_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

_Static_assert(sizeof(((struct request *)0)->session_csrf) == UI_SESSION_CSRF_LEN + 1,
               "a request holds a session's CSRF token");
