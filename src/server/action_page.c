/*
 * action_page.c - the pages of action links, written by hand into a bounded
 * buffer: they are three small fixed layouts, and a template engine would
 * be more code to audit than the pages themselves.
 *
 * Every string that is not a literal of this file goes through escape(),
 * and the only other things printed are numbers. The buffer keeps one byte
 * for the NUL; once a write does not fit the page is marked full, later
 * writes are dropped and the call fails whole, so a cut page is never
 * served.
 */
#include "server/action_page.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const struct action_page_header action_page_headers[] = {
    {"Content-Type", "text/html; charset=utf-8"},
    {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"X-Content-Type-Options", "nosniff"},
};
const size_t action_page_n_headers = sizeof(action_page_headers) / sizeof(action_page_headers[0]);

static const char css[] =
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1f2328;background:#f3f4f6}"
    "main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}"
    ".card{background:#fff;border-radius:10px;padding:1.25rem 1.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{font-size:1.4rem;line-height:1.25;margin:0 0 .25rem;overflow-wrap:anywhere}"
    "h2{font-size:1rem;margin:1.25rem 0 .25rem}"
    "p{margin:.5rem 0;overflow-wrap:anywhere}"
    ".sub{color:#59636e;margin-top:0}"
    ".left{font-weight:600;color:#9a6700}.left span{font-weight:400;color:#59636e}"
    ".overdue{color:#cf222e}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}"
    "dt{color:#59636e}dd{margin:0;overflow-wrap:anywhere}"
    "ul{margin:.25rem 0;padding-left:1.25rem}li{overflow-wrap:anywhere}.more{color:#59636e}"
    "form{margin:1.25rem 0 0}"
    "button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:.65rem 1.25rem;"
    "cursor:pointer;width:100%}"
    ".accept{background:#1a7f37;color:#fff}.reject{background:#cf222e;color:#fff}"
    ".inbox{background:none;color:#0969da;text-decoration:underline;font-weight:400}"
    "label{display:block;font-weight:600;margin-top:.5rem}label span{font-weight:400}"
    "select,textarea{font:inherit;width:100%;box-sizing:border-box;margin:.25rem 0 .75rem;"
    "padding:.45rem;border:1px solid #d1d9e0;border-radius:6px}"
    "summary{cursor:pointer;color:#59636e;margin-top:1.25rem}"
    ".ok h1{color:#1a7f37}.bad h1{color:#cf222e}"
    ".foot{color:#818b98;font-size:.85rem;text-align:center}";

/* ---- the bounded buffer ---- */

struct page {
    char *out;
    size_t cap, len;
    bool full;
};

static void raw_n(struct page *p, const char *s, size_t n)
{
    if (p->full)
        return;
    if (p->cap == 0 || n >= p->cap - p->len) {
        p->full = true;
        return;
    }
    memcpy(p->out + p->len, s, n);
    p->len += n;
}

static void raw(struct page *p, const char *s)
{
    raw_n(p, s, strlen(s));
}

/* Numbers only: every format here is this file's own. */
static void rawf(struct page *p, const char *fmt, ...) BT_PRINTF(2, 3);
static void rawf(struct page *p, const char *fmt, ...)
{
    char buf[512]; /* room for any double with %.0f */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        BT_BUG("action page: a number of %d characters", n);
    raw_n(p, buf, (size_t)n);
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define ELLIPSIS    "\xe2\x80\xa6" /* U+2026 */

/* s[0..n) escaped, at most max_chars characters of it and then "…". */
static void escape(struct page *p, const char *s, size_t n, size_t max_chars)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < n) {
        size_t end = i + utf8_invalid_at(s + i, n - i);
        while (i < end) {
            if (chars++ == max_chars) {
                raw(p, ELLIPSIS);
                return;
            }
            unsigned char c = u[i];
            size_t clen = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            switch (c) {
            case '&':
                raw(p, "&amp;");
                break;
            case '<':
                raw(p, "&lt;");
                break;
            case '>':
                raw(p, "&gt;");
                break;
            case '"':
                raw(p, "&quot;");
                break;
            case '\'':
                raw(p, "&#39;");
                break;
            default:
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f ||
                    (c == 0xC2 && u[i + 1] < 0xA0)) /* C0, DEL, C1 */
                    raw(p, REPLACEMENT);
                else
                    raw_n(p, s + i, clen);
            }
            i += clen;
        }
        if (i < n) { /* a byte that is not UTF-8 */
            if (chars++ == max_chars) {
                raw(p, ELLIPSIS);
                return;
            }
            raw(p, REPLACEMENT);
            i++;
        }
    }
}

static void text(struct page *p, const char *s)
{
    if (s)
        escape(p, s, strlen(s), ACTION_PAGE_TEXT_MAX);
}

static bool present(const char *s)
{
    return s && *s;
}

static bt_err finish(struct page *p, size_t *len, struct bt_error *err)
{
    if (p->full) {
        if (p->cap)
            p->out[0] = '\0';
        if (len)
            *len = 0;
        return bt_fail(err, BT_ETOOBIG, NULL, "the page does not fit in %zu bytes", p->cap);
    }
    p->out[p->len] = '\0';
    if (len)
        *len = p->len;
    return BT_OK;
}

bt_err action_page_escape(const char *s, size_t len, char *out, size_t outsz, size_t *outlen)
{
    struct page p = {out, outsz, 0, false};
    escape(&p, s, len, SIZE_MAX);
    return finish(&p, outlen, NULL);
}

/* ---- the frame every page shares ---- */

static void head(struct page *p, const char *title, const char *card_class)
{
    raw(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"referrer\" content=\"no-referrer\">\n"
           "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
    text(p, title);
    raw(p, " \xc2\xb7 Baton</title>\n<style>");
    raw(p, css);
    raw(p, "</style>\n</head>\n<body>\n<main>\n<div class=\"card");
    if (card_class) {
        raw(p, " ");
        raw(p, card_class);
    }
    raw(p, "\">\n");
}

static void foot(struct page *p)
{
    raw(p, "</div>\n<p class=\"foot\">Baton</p>\n</main>\n</body>\n</html>\n");
}

/* ---- the assignment page ---- */

void action_page_time_left(int64_t accept_by_ms, int64_t now_ms, char *out, size_t outsz)
{
    if (accept_by_ms <= now_ms) {
        snprintf(out, outsz, "overdue");
        return;
    }
    /* no overflow: a difference past INT64_MAX is just "a long time" */
    int64_t left =
        now_ms < 0 && accept_by_ms > INT64_MAX + now_ms ? INT64_MAX : accept_by_ms - now_ms;
    long long min = (long long)(left / 60000);
    if (min < 1)
        snprintf(out, outsz, "less than a minute left");
    else if (min < 60)
        snprintf(out, outsz, "%lld min left", min);
    else if (min < 24 * 60 && min % 60)
        snprintf(out, outsz, "%lld h %lld min left", min / 60, min % 60);
    else if (min < 24 * 60)
        snprintf(out, outsz, "%lld h left", min / 60);
    else if ((min % (24 * 60)) / 60)
        snprintf(out, outsz, "%lld day%s %lld h left", min / (24 * 60),
                 min / (24 * 60) == 1 ? "" : "s", (min % (24 * 60)) / 60);
    else
        snprintf(out, outsz, "%lld day%s left", min / (24 * 60), min / (24 * 60) == 1 ? "" : "s");
}

/* "2026-11-21 10:05 UTC", rounded down to the minute. */
static void put_deadline(struct page *p, int64_t ms)
{
    char t[RFC3339_MAX];
    time_format_rfc3339(ms, t);
    raw_n(p, t, 10);
    raw(p, " ");
    raw_n(p, t + 11, 5);
    raw(p, " UTC");
}

static bool valid_reason_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > ACTION_PAGE_REJECT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void hidden_fields(struct page *p, const char *action, const char *csrf)
{
    raw(p, "<input type=\"hidden\" name=\"action\" value=\"");
    raw(p, action);
    raw(p, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
    escape(p, csrf, strlen(csrf), SIZE_MAX);
    raw(p, "\">\n");
}

static void reject_form(struct page *p, const struct action_page_assignment *a,
                        const struct sla_reject_reason *reasons, size_t n)
{
    raw(p, "<form method=\"post\" accept-charset=\"utf-8\">\n");
    hidden_fields(p, "reject", a->csrf);
    raw(p, "<label for=\"reason\">Reason</label>\n"
           "<select id=\"reason\" name=\"reason\" required>\n"
           "<option value=\"\" selected disabled>Choose a reason</option>\n");
    for (size_t i = 0; i < n; i++) {
        const char *label = present(reasons[i].label) ? reasons[i].label : reasons[i].id;
        raw(p, "<option value=\"");
        escape(p, reasons[i].id, strlen(reasons[i].id), SIZE_MAX);
        raw(p, "\">");
        escape(p, label, strlen(label), ACTION_PAGE_LABEL_MAX);
        raw(p, "</option>\n");
    }
    rawf(p,
         "</select>\n<label for=\"note\">Note <span>(optional)</span></label>\n"
         "<textarea id=\"note\" name=\"note\" maxlength=\"%d\" rows=\"3\"></textarea>\n",
         ACTION_PAGE_NOTE_MAX);
    raw(p, "<button type=\"submit\" class=\"reject\">Reject</button>\n</form>\n");
}

bt_err action_page_assignment(const struct action_page_assignment *a, char *out, size_t outsz,
                              size_t *len, struct bt_error *err)
{
    if (outsz)
        out[0] = '\0';
    if (len)
        *len = 0;
    if (!present(a->csrf))
        return bt_fail(err, BT_EINVAL, "csrf", "action page: no csrf value");
    if (a->offer != LINK_ACTION_DECIDE && a->offer != LINK_ACTION_ACCEPT &&
        a->offer != LINK_ACTION_REJECT)
        return bt_fail(err, BT_EINVAL, "offer", "action page: offer %d is not an action",
                       (int)a->offer);
    const struct sla_reject_reason *reasons = a->reject_reasons;
    size_t n_reasons = a->n_reject_reasons;
    if (n_reasons == 0) {
        reasons = sla_default_reject_reasons;
        n_reasons = sla_n_default_reject_reasons;
    }
    if (n_reasons > ACTION_PAGE_REJECT_MAX)
        return bt_fail(err, BT_EINVAL, "reject_reasons",
                       "action page: %zu reject reasons, at most %d", n_reasons,
                       ACTION_PAGE_REJECT_MAX);
    for (size_t i = 0; i < n_reasons; i++)
        if (!valid_reason_id(reasons[i].id))
            return bt_fail(err, BT_EINVAL, "reject_reasons",
                           "action page: reject reason %zu: not an id ([a-z0-9_]+, at most %d)", i,
                           ACTION_PAGE_REJECT_ID_MAX);

    struct page pg = {out, outsz, 0, false}, *p = &pg;
    const char *name = present(a->lead_name) ? a->lead_name : "(no name)";
    head(p, name, NULL);
    raw(p, "<h1>");
    text(p, name);
    raw(p, "</h1>\n");
    if (present(a->company)) {
        raw(p, "<p class=\"sub\">");
        text(p, a->company);
        raw(p, "</p>\n");
    }
    if (a->accept_by_ms) {
        char left[64];
        action_page_time_left(a->accept_by_ms, a->now_ms, left, sizeof(left));
        bool overdue = a->accept_by_ms <= a->now_ms;
        raw(p, overdue ? "<p class=\"left overdue\">" : "<p class=\"left\">");
        raw(p, left);
        if (a->accept_by_ms >= TIME_MIN_MS && a->accept_by_ms <= TIME_MAX_MS) {
            raw(p, overdue ? " <span>\xc2\xb7 was due " : " <span>\xc2\xb7 accept by ");
            put_deadline(p, a->accept_by_ms);
            raw(p, "</span>");
        }
        raw(p, "</p>\n");
    }

    rawf(p, "<dl>\n<dt>Score</dt><dd>%.0f", a->score);
    if (present(a->grade)) {
        raw(p, " \xc2\xb7 grade ");
        text(p, a->grade);
    }
    raw(p, "</dd>\n");
    if (present(a->why)) {
        raw(p, "<dt>Why you</dt><dd>");
        text(p, a->why);
        raw(p, "</dd>\n");
    }
    if (present(a->policy)) {
        raw(p, "<dt>Policy</dt><dd>");
        text(p, a->policy);
        raw(p, "</dd>\n");
    }
    raw(p, "</dl>\n");

    size_t shown = 0, listed = 0;
    for (size_t i = 0; i < a->n_reasons; i++) {
        if (!present(a->reasons[i]))
            continue;
        if (listed == 0)
            raw(p, "<h2>Top reasons</h2>\n<ul>\n");
        listed++;
        if (shown == ACTION_PAGE_REASONS_MAX)
            continue;
        shown++;
        raw(p, "<li>");
        text(p, a->reasons[i]);
        raw(p, "</li>\n");
    }
    if (listed > shown)
        rawf(p, "<li class=\"more\">and %zu more</li>\n", listed - shown);
    if (listed)
        raw(p, "</ul>\n");

    if (a->offer != LINK_ACTION_REJECT) {
        raw(p, "<form method=\"post\" accept-charset=\"utf-8\">\n");
        hidden_fields(p, "accept", a->csrf);
        raw(p, "<button type=\"submit\" class=\"accept\">Accept</button>\n</form>\n");
    }
    if (a->offer == LINK_ACTION_DECIDE) {
        raw(p, "<details>\n<summary>Reject this lead\xe2\x80\xa6</summary>\n");
        reject_form(p, a, reasons, n_reasons);
        raw(p, "</details>\n");
    } else if (a->offer == LINK_ACTION_REJECT) {
        reject_form(p, a, reasons, n_reasons);
    }
    /* signs the rep in to the dashboard (docs/dashboard.md) */
    raw(p, "<form method=\"post\" accept-charset=\"utf-8\">\n");
    hidden_fields(p, "inbox", a->csrf);
    raw(p, "<button type=\"submit\" class=\"inbox\">Open my inbox</button>\n</form>\n");
    foot(p);
    return finish(p, len, err);
}

/* ---- result and error pages ---- */

bt_err action_page_result(enum action_page_result result, const char *lead_name, const char *detail,
                          char *out, size_t outsz, size_t *len, struct bt_error *err)
{
    if (outsz)
        out[0] = '\0';
    if (len)
        *len = 0;
    const char *title, *h1, *fallback;
    switch (result) {
    case ACTION_RESULT_ACCEPTED:
        title = "Accepted";
        h1 = "Accepted \xe2\x80\x94 the lead is yours";
        fallback = NULL;
        break;
    case ACTION_RESULT_REJECTED:
        title = "Rejected";
        h1 = "Rejected";
        fallback = "Thanks: your reason was recorded.";
        break;
    default:
        return bt_fail(err, BT_EINVAL, "result", "action page: result %d is not one", (int)result);
    }
    struct page pg = {out, outsz, 0, false}, *p = &pg;
    head(p, title, "ok");
    raw(p, "<h1>");
    raw(p, h1);
    raw(p, "</h1>\n");
    if (present(lead_name)) {
        raw(p, "<p class=\"sub\">");
        text(p, lead_name);
        raw(p, "</p>\n");
    }
    const char *message = present(detail) ? detail : fallback;
    if (message) {
        raw(p, "<p>");
        text(p, message);
        raw(p, "</p>\n");
    }
    foot(p);
    return finish(p, len, err);
}

static const struct {
    unsigned status;
    const char *title;
    const char *message;
} errors[] = {
    [ACTION_ERROR_INVALID] = {403, "This link is not valid",
                              "It may have been cut short or changed on its way. Open it again "
                              "from the original message, or ask your manager."},
    [ACTION_ERROR_EXPIRED] = {410, "This link has expired",
                              "Action links work for a limited time. Check Baton or your latest "
                              "messages for this lead."},
    [ACTION_ERROR_MOVED_ON] = {409, "This assignment has moved on",
                               "It was accepted, rejected or reassigned after this link was "
                               "sent."},
    [ACTION_ERROR_NOT_FOUND] = {404, "Assignment not found",
                                "There is no such assignment; it may have been removed."},
    [ACTION_ERROR_BAD_FORM] = {400, "The form could not be sent", "Open the link again and retry."},
    [ACTION_ERROR_UNAVAILABLE] = {503, "Baton is unavailable",
                                  "Nothing was changed. Please try again in a minute."},
};

static bool error_kind_valid(enum action_page_error kind)
{
    return (unsigned)kind < sizeof(errors) / sizeof(errors[0]) && errors[kind].title;
}

unsigned action_page_error_status(enum action_page_error kind)
{
    return error_kind_valid(kind) ? errors[kind].status : 500;
}

bt_err action_page_error(enum action_page_error kind, const char *detail, char *out, size_t outsz,
                         size_t *len, struct bt_error *err)
{
    if (outsz)
        out[0] = '\0';
    if (len)
        *len = 0;
    if (!error_kind_valid(kind))
        return bt_fail(err, BT_EINVAL, "kind", "action page: error kind %d is not one", (int)kind);
    struct page pg = {out, outsz, 0, false}, *p = &pg;
    head(p, errors[kind].title, "bad");
    raw(p, "<h1>");
    raw(p, errors[kind].title);
    raw(p, "</h1>\n<p>");
    text(p, present(detail) ? detail : errors[kind].message);
    raw(p, "</p>\n");
    foot(p);
    return finish(p, len, err);
}
