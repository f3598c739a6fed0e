/*
 * api_links.c - one-click links: GET and POST /a/{token} (no API key), and
 * the links handed out with an assignment (docs/handoff.md, "Links").
 *
 * The token (core/link_token.h) is the credential: it names one assignment
 * and one rep, is signed with a secret kept in the database (the newest
 * generation signs, every kept one verifies: `baton keys rotate-links`), and
 * expires LINK_GRACE_MS after the assignment's accept_by. A GET only shows
 * the page (mail scanners follow links); the page's forms POST back with a
 * CSRF value derived from the token, and the action goes through the engine
 * as that rep, so a link that has moved on is the same 409 as over the API,
 * shown as a page. Every answer is a self-contained HTML page
 * (server/action_page.h) with its security headers.
 */
#include "core/link_token.h"
#include "engine/engine.h"
#include "server/action_page.h"
#include "server/cors.h"
#include "server/http.h"
#include "server/intake_parse.h"
#include "server/ui_session.h"
#include "store/store_handoff.h"
#include "util/log.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of the page's form. The note's maxlength counts UTF-16 code units,
 * so its 1000 characters may each be three bytes of UTF-8, %-escaped to
 * nine (a line break, one character, is sent as %0D%0A): 9000 bytes, and
 * the csrf, the reason and the names besides. */
#define LINK_FORM_MAX 16384

/* reply_html() sets the Content-Type: the table's own is not sent twice. */
static void reply_page_html(struct request *r, unsigned status, const char *html, size_t len)
{
    reply_html(r, status, html, len);
    for (size_t i = 0; i < action_page_n_headers; i++)
        if (strcasecmp(action_page_headers[i].name, "Content-Type") != 0)
            reply_add_header(r, action_page_headers[i].name, action_page_headers[i].value);
}

static void reply_error_page(struct request *r, enum action_page_error kind, const char *detail)
{
    char *out = arena_alloc_raw(&r->arena, ACTION_PAGE_MAX);
    size_t len = 0;
    struct bt_error err = BT_ERROR_INIT;
    if (!out || action_page_error(kind, detail, out, ACTION_PAGE_MAX, &len, &err)) {
        reply_error(r, 500, "internal", NULL, "the page could not be made");
        return;
    }
    reply_page_html(r, action_page_error_status(kind), out, len);
}

/* The link secret of the generation a token names; false with the page
 * set. Generations start at 1: to the store 0 means "the newest", which a
 * token must not be able to ask for. */
static bool secret_of(struct request *r, struct store_conn *c, uint32_t generation,
                      uint8_t secret[LINK_SECRET_BYTES])
{
    bool found = false;
    uint32_t got = 0;
    struct bt_error err = BT_ERROR_INIT;
    if (generation > 0 && store_link_secret_get(c, generation, &found, &got, secret, &err)) {
        reply_error_page(r, ACTION_ERROR_UNAVAILABLE, NULL);
        return false;
    }
    if (!found || got != generation) {
        reply_error_page(r, ACTION_ERROR_INVALID,
                         "This link was signed with a key that has since been retired.");
        return false;
    }
    return true;
}

char *api_link_make(struct request *r, struct store_conn *c, const struct store_assignment *a)
{
    if (!r->cfg->public_url)
        return NULL;
    uint8_t secret[LINK_SECRET_BYTES];
    uint32_t gen;
    bool found;
    struct bt_error err = BT_ERROR_INIT;
    if (store_link_secret_get(c, 0, &found, &gen, secret, &err) || !found)
        return NULL;
    struct link_token t = {
        .generation = gen,
        .assignment_id = a->id,
        .action = LINK_ACTION_DECIDE,
        .expires_at = link_token_expiry(a->accept_by, a->assigned_at),
    };
    snprintf(t.rep_id, sizeof(t.rep_id), "%s", a->rep_id);
    char text[LINK_TOKEN_TEXT_MAX + 1];
    if (link_token_sign(&t, secret, sizeof(secret), text, sizeof(text), &err))
        return NULL;
    return arena_printf(&r->arena, "%s/a/%s", r->cfg->public_url, text);
}

/* What every request on a link does first: the token verified with its
 * generation's secret, the assignment loaded and bound to the token's rep.
 * false with the page set. */
struct link_ctx {
    struct link_token t;
    uint8_t secret[LINK_SECRET_BYTES];
    struct store_assignment a;
    struct lead lead;
};

static bool open_link(struct request *r, struct link_ctx *l)
{
    size_t len = strlen(r->name);
    struct bt_error err = BT_ERROR_INIT;
    if (link_token_parse(r->name, len, &l->t, &err)) {
        reply_error_page(r, ACTION_ERROR_INVALID, NULL);
        return false;
    }
    struct store_conn *c;
    if (store_reader_acquire(r->ctx->store, &c, &err)) { /* not request_reader: its reply is JSON */
        log_error("%s %s: %s", r->method, r->path, err.message);
        reply_error_page(r, ACTION_ERROR_UNAVAILABLE, NULL);
        return false;
    }
    bool ok = secret_of(r, c, l->t.generation, l->secret);
    if (ok) {
        bt_err e = link_token_verify(r->name, len, l->secret, sizeof(l->secret),
                                     clock_now(r->ctx->clock) / 1000, &l->t, &err);
        if (e) {
            reply_error_page(r, e == BT_EEXPIRED ? ACTION_ERROR_EXPIRED : ACTION_ERROR_INVALID,
                             NULL);
            ok = false;
        }
    }
    if (ok) {
        bt_err e = store_assignment_get(c, l->t.assignment_id, &r->arena, &l->a, &err);
        if (!e && strcmp(l->a.rep_id, l->t.rep_id) != 0)
            e = BT_ENOTFOUND; /* a signed link never names another rep's; be safe */
        if (!e)
            e = store_lead_get(c, l->a.lead_id, &r->arena, &l->lead, &err);
        if (e) {
            reply_error_page(
                r, e == BT_ENOTFOUND ? ACTION_ERROR_NOT_FOUND : ACTION_ERROR_UNAVAILABLE, NULL);
            ok = false;
        }
    }
    store_reader_release(r->ctx->store, c);
    return ok;
}

static const char *lead_name(struct request *r, const struct lead *lead)
{
    const char *first = lead->attr[LEAD_FIRST_NAME], *last = lead->attr[LEAD_LAST_NAME];
    if (first && last)
        return arena_printf(&r->arena, "%s %s", first, last);
    return first ? first : last ? last : lead->attr[LEAD_EMAIL];
}

/* "2026-11-24 10:05 UTC" in the arena. */
static const char *page_time(struct request *r, int64_t ms)
{
    char t[RFC3339_MAX];
    time_format_rfc3339(ms, t);
    return arena_printf(&r->arena, "%.10s %.5s UTC", t, t + 11);
}

/* Where the lead went when its assignment closed (the assignment's `next`:
 * a rep, "hold", or the lead's stage, as the engine writes it), as the end
 * of a sentence; NULL when it says nothing. */
static const char *where_it_went(struct request *r, const char *next)
{
    if (!next)
        return NULL;
    if (!strcmp(next, "hold"))
        return "the lead waits in the hold queue";
    if (!strcmp(next, "recycled"))
        return "the lead went back to marketing";
    if (!strcmp(next, "disqualified"))
        return "the lead was disqualified";
    if (!strcmp(next, "mql") || !strcmp(next, "new"))
        return "the lead went back to routing";
    return arena_printf(&r->arena, "the lead went to %s", next);
}

/* "moved on" as the API says it, for a page: what happened, when, and
 * where the lead went. */
static bool still_pending(struct request *r, const struct link_ctx *l)
{
    const struct store_assignment *a = &l->a;
    if (!a->closed_at && !strcmp(a->status, ASSIGNMENT_PENDING))
        return true;
    const char *detail;
    const char *why = a->close_reason && strcmp(a->close_reason, a->status)
                          ? arena_printf(&r->arena, " (%s)", a->close_reason)
                          : "";
    bool accepted =
        !strcmp(a->status, ASSIGNMENT_ACCEPTED) || !strcmp(a->status, ASSIGNMENT_CONTACTED);
    if (!a->closed_at) {
        detail = arena_printf(&r->arena, "You have already %s this lead.", a->status);
    } else if (accepted) { /* the lead was worked and is won, lost or disqualified */
        detail = arena_printf(&r->arena, "This lead was accepted at %s and is closed%s.",
                              page_time(r, a->accepted_at), why);
    } else {
        const char *where = where_it_went(r, a->successor);
        detail = arena_printf(
            &r->arena, "This lead is no longer waiting for you: it was %s at %s%s%s%s.", a->status,
            page_time(r, a->closed_at), why, where ? ", and " : "", where ? where : "");
    }
    reply_error_page(r, ACTION_ERROR_MOVED_ON, detail);
    return false;
}

void api_link_page(struct request *r)
{
    struct link_ctx l;
    if (!open_link(r, &l) || !still_pending(r, &l))
        return;
    /* the top three reasons of the score, by name */
    const char *reasons[3];
    size_t n_reasons = 0;
    json_error_t jerr;
    json_t *rs = l.lead.score.reasons_json ? json_loads(l.lead.score.reasons_json, 0, &jerr) : NULL;
    for (size_t i = 0; i < json_array_size(rs) && n_reasons < 3; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(rs, i), "rule"));
        if (name)
            reasons[n_reasons++] = arena_strdup(&r->arena, name);
    }
    json_decref(rs);
    char csrf[LINK_CSRF_LEN + 1];
    link_token_csrf(r->name, strlen(r->name), l.secret, sizeof(l.secret), csrf);
    const struct sla_config *sla = &r->cfg->sla;
    struct action_page_assignment p = {
        .lead_name = lead_name(r, &l.lead),
        .company = l.lead.attr[LEAD_COMPANY],
        .score = l.lead.score.total,
        .grade = l.lead.score.scored ? l.lead.score.grade : NULL,
        .reasons = reasons,
        .n_reasons = n_reasons,
        .why = l.a.pool_id ? arena_printf(&r->arena, "Routed to you by rule %s (pool %s).",
                                          l.a.rule ? l.a.rule : "?", l.a.pool_id)
               : l.a.rule  ? arena_printf(&r->arena, "Routed to you by rule %s.", l.a.rule)
                           : NULL,
        .policy = l.a.policy,
        .accept_by_ms = l.a.accept_by,
        .now_ms = clock_now(r->ctx->clock),
        .offer = l.t.action,
        .csrf = csrf,
        .reject_reasons = sla->reject_reasons,
        .n_reject_reasons = sla->n_reject_reasons,
    };
    char *out = arena_alloc_raw(&r->arena, ACTION_PAGE_MAX);
    size_t len = 0;
    struct bt_error err = BT_ERROR_INIT;
    if (!out || action_page_assignment(&p, out, ACTION_PAGE_MAX, &len, &err)) {
        log_error("link page for assignment %lld: %s", (long long)l.a.id, err.message);
        reply_error_page(r, ACTION_ERROR_UNAVAILABLE, NULL);
        return;
    }
    reply_page_html(r, 200, out, len);
}

struct link_form {
    const char *action, *csrf, *reason, *note;
    bool repeated, unknown;
};

static void read_form(struct request *r, struct link_form *f)
{
    const char *p = r->body ? r->body : "", *end = p + r->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *k = intake_form_decode(&r->arena, p, (size_t)((eq ? eq : stop) - p));
        const char *v = eq ? intake_form_decode(&r->arena, eq + 1, (size_t)(stop - eq - 1)) : "";
        const char **slot = !k                     ? NULL
                            : !strcmp(k, "action") ? &f->action
                            : !strcmp(k, "csrf")   ? &f->csrf
                            : !strcmp(k, "reason") ? &f->reason
                            : !strcmp(k, "note")   ? &f->note
                                                   : NULL;
        if (!slot || !v)
            f->unknown = true;
        else if (*slot)
            f->repeated = true;
        else
            *slot = v;
        p = stop + 1;
    }
}

/* A form sends a textarea's line breaks as CRLF, and the page's maxlength
 * counted each as one character: the note is kept with LF, as typed.
 * NULL when the arena is full. */
static const char *newlines_as_lf(struct request *r, const char *s)
{
    if (!strchr(s, '\r'))
        return s;
    char *out = arena_strdup(&r->arena, s), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p; p++) {
        if (*p == '\r') {
            *o++ = '\n';
            if (p[1] == '\n')
                p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Whether the request's Origin (if it sends one) is this server's: that of
 * server.public_url, or the host the request was sent to (the page was
 * opened at another address than public_url: a browser sends no Origin of
 * another site with the Host of this one). "null" and every other origin
 * are not (from_our_page() says when "null" is taken). */
static bool origin_is_ours(struct request *r)
{
    const char *origin = request_header(r, "Origin");
    switch (cors_classify(origin, r->cfg->public_url, NULL, 0)) {
    case CORS_NO_ORIGIN:
    case CORS_SAME_ORIGIN:
        return true;
    case CORS_ALLOWED:
    case CORS_REFUSED:
        break;
    }
    const char *host = request_header(r, "Host");
    const char *after = strstr(origin, "://");
    return host && *host && after && !strcasecmp(after + 3, host) &&
           (!strncasecmp(origin, "http://", 7) || !strncasecmp(origin, "https://", 8));
}

/* Whether a browser sent the request from a page of this server's. Its
 * Sec-Fetch-Site (which a page cannot set) must not be cross-site, as for
 * the dashboard's sign-in; its Origin, if any, must be ours. The link's
 * page is sent with Referrer-Policy: no-referrer, so a browser posts its
 * form with "Origin: null": that is taken only with Sec-Fetch-Site
 * same-origin, and refused from a browser that sends no Sec-Fetch-Site
 * (another site's sandboxed frame says null too). */
static bool from_our_page(struct request *r)
{
    const char *site = request_header(r, "Sec-Fetch-Site");
    const char *origin = request_header(r, "Origin");
    if (site && !strcmp(site, "cross-site"))
        return false;
    if (origin && !strcmp(origin, "null"))
        return site && !strcmp(site, "same-origin");
    return origin_is_ours(r);
}

/*
 * "Open my inbox": the link signs its rep in to the dashboard. The same
 * rules as the link's buttons (a verified, unexpired token and its CSRF
 * value, only the csrf and action fields), and the dashboard's sign-in's
 * against login CSRF: another site's page must not sign the browser in
 * (Sec-Fetch-Site: cross-site, or an Origin that is not this server's, is
 * refused). The session stands for the rep (ui_session.h), not for an
 * assignment: it lasts while the rep is configured and the token's secret
 * generation is kept, whatever becomes of the lead.
 */
static void open_inbox(struct request *r, const struct link_ctx *l, const struct link_form *f)
{
    struct bt_error err = BT_ERROR_INIT;
    if (f->unknown || f->repeated || !f->csrf || f->reason || f->note ||
        link_token_csrf_check(r->name, strlen(r->name), l->secret, sizeof(l->secret), f->csrf,
                              strlen(f->csrf), &err)) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM, "Use the buttons on the link's page.");
        return;
    }
    if (!from_our_page(r)) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM,
                         "Signing in from another site's page is refused: open the link itself.");
        return;
    }
    if (!config_find_rep(r->cfg, l->t.rep_id)) {
        reply_error_page(r, ACTION_ERROR_NOT_FOUND,
                         "You are no longer one of the configured reps.");
        return;
    }
    char principal[UI_SESSION_PRINCIPAL_MAX + 1];
    snprintf(principal, sizeof(principal), "%s%u:%s", UI_SESSION_LINK_PREFIX,
             (unsigned)l->t.generation, l->t.rep_id);
    api_ui_session_start(r, principal);
}

void api_link_act(struct request *r)
{
    if (r->body_kind != BODY_FORM || r->body_len > LINK_FORM_MAX) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM, "Use the buttons on the link's page.");
        return;
    }
    struct link_ctx l;
    if (!open_link(r, &l))
        return;
    struct link_form f = {0};
    read_form(r, &f);
    struct bt_error err = BT_ERROR_INIT;
    if (f.action && !strcmp(f.action, "inbox")) {
        open_inbox(r, &l, &f);
        return;
    }
    enum link_action posted;
    if (f.unknown || f.repeated || !f.csrf || !f.action ||
        link_token_csrf_check(r->name, strlen(r->name), l.secret, sizeof(l.secret), f.csrf,
                              strlen(f.csrf), &err) ||
        !link_action_parse(f.action, strlen(f.action), &posted) ||
        !link_token_permits(&l.t, posted) || posted == LINK_ACTION_DECIDE) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM, "Use the buttons on the link's page.");
        return;
    }
    if (f.note && !(f.note = newlines_as_lf(r, f.note))) {
        reply_error_page(r, ACTION_ERROR_UNAVAILABLE, NULL);
        return;
    }
    if (f.note && (!utf8_valid(f.note, strlen(f.note)) ||
                   utf8_length(f.note) > ACTION_PAGE_NOTE_MAX || text_has_control(f.note))) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM, "The note is at most 1,000 characters of text.");
        return;
    }
    if (posted == LINK_ACTION_REJECT &&
        (!f.reason || !sla_reject_reason_find(&r->cfg->sla, f.reason))) {
        reply_error_page(r, ACTION_ERROR_BAD_FORM, "Choose one of the reasons.");
        return;
    }
    if (!still_pending(r, &l))
        return;
    struct assignment_command cmd = {
        .cfg = r->cfg,
        .id = l.a.id,
        .action = posted == LINK_ACTION_ACCEPT ? ASSIGNMENT_ACT_ACCEPT : ASSIGNMENT_ACT_REJECT,
        .as_rep = l.t.rep_id,
        .require_pending = true,
        .actor = arena_printf(&r->arena, "link:%s", l.t.rep_id),
        .reason = posted == LINK_ACTION_REJECT ? f.reason : NULL,
        .note = posted == LINK_ACTION_REJECT && f.note && *f.note ? f.note : NULL,
    };
    if (engine_assignment_act(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_error_page(r,
                         err.code == BT_ECONFLICT    ? ACTION_ERROR_MOVED_ON
                         : err.code == BT_ENOTFOUND  ? ACTION_ERROR_NOT_FOUND
                         : err.code == BT_EFORBIDDEN ? ACTION_ERROR_BAD_FORM
                         : err.code == BT_EINVAL     ? ACTION_ERROR_BAD_FORM
                                                     : ACTION_ERROR_UNAVAILABLE,
                         err.message);
        return;
    }
    const char *detail, *next = cmd.result.successor ? cmd.result.successor : "";
    if (posted == LINK_ACTION_ACCEPT && cmd.result.contact_by)
        detail = arena_printf(&r->arena, "Make the first contact by %s.",
                              page_time(r, cmd.result.contact_by));
    else if (posted == LINK_ACTION_ACCEPT)
        detail = "Make the first contact soon.";
    else if (!strcmp(next, "hold"))
        detail = "No other rep can take it now: it waits in the hold queue.";
    else if (!strcmp(next, "recycled"))
        detail = "The lead goes back to marketing.";
    else if (!strcmp(next, "disqualified"))
        detail = "The lead is disqualified.";
    else if (!strcmp(next, "mql") || !strcmp(next, "new") || !*next)
        detail = "The lead goes back to routing.";
    else
        detail = "The lead goes to the next rep.";
    char *out = arena_alloc_raw(&r->arena, ACTION_PAGE_MAX);
    size_t len = 0;
    if (!out || action_page_result(
                    posted == LINK_ACTION_ACCEPT ? ACTION_RESULT_ACCEPTED : ACTION_RESULT_REJECTED,
                    lead_name(r, &cmd.lead), detail, out, ACTION_PAGE_MAX, &len, &err)) {
        reply_error_page(r, ACTION_ERROR_UNAVAILABLE, NULL);
        return;
    }
    reply_page_html(r, 200, out, len);
}
