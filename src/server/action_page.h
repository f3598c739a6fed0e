/*
 * action_page.h - the HTML pages of one-click action links ({public_url}/a/{token}).
 *
 * A GET of a link shows the assignment page: the lead, its score and top
 * reasons, why this rep, the time left to accept, the SLA policy, and the
 * forms the link's action allows (core/link_token.h): Accept, and Reject
 * with a reason and an optional note. Both forms POST back to the page's
 * own URL (they have no action attribute, so a path prefix in public_url
 * needs no care here) as application/x-www-form-urlencoded, UTF-8:
 *
 *     action=accept&csrf=CSRF
 *     action=reject&csrf=CSRF&reason=REASON_ID&note=TEXT
 *     action=inbox&csrf=CSRF     ("Open my inbox": a dashboard session
 *                                 for the link's rep, docs/dashboard.md)
 *
 * The server checks csrf with link_token_csrf_check(), action with
 * link_token_permits(), reason against the configured reasons and note
 * against ACTION_PAGE_NOTE_MAX characters, and answers with a result page
 * or an error page.
 *
 * Pure rendering: no I/O, no clock (now is an argument), no allocation. A
 * page is written into a caller's buffer; ACTION_PAGE_MAX bytes always
 * suffice, and a page that does not fit is BT_ETOOBIG, never cut short.
 * Every value is HTML-escaped (action_page_escape); invalid UTF-8 and
 * control characters are shown as U+FFFD. A long text is cut at
 * ACTION_PAGE_TEXT_MAX characters, visibly, with "…"; a longer list of top
 * reasons than ACTION_PAGE_REASONS_MAX ends with "and N more".
 *
 * The pages are self-contained: inline CSS, no scripts, no images, no
 * external resources. The server must send every page, whatever its
 * status, with the headers of action_page_headers[]:
 *
 *   Content-Type: text/html; charset=utf-8
 *   Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline';
 *       form-action 'self'; frame-ancestors 'none'; base-uri 'none'
 *   X-Frame-Options: DENY
 *   Referrer-Policy: no-referrer           (the token is in the URL)
 *   Cache-Control: no-store                (nor may a proxy keep it)
 *   X-Content-Type-Options: nosniff
 */
#ifndef BT_ACTION_PAGE_H
#define BT_ACTION_PAGE_H

#include "core/link_token.h"
#include "core/sla.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

/* A page holds as many reject reasons as sla.reject_reasons may list (100,
 * config_sla.c); the worst case of every field is about 92 KB. */
#define ACTION_PAGE_MAX           131072 /* bytes of any page, with its NUL */
#define ACTION_PAGE_TEXT_MAX      300    /* characters of a text shown, then "…" */
#define ACTION_PAGE_LABEL_MAX     100    /* characters of a reject reason's label */
#define ACTION_PAGE_REASONS_MAX   5      /* top reasons listed */
#define ACTION_PAGE_REJECT_MAX    100    /* reject reasons offered; more is BT_EINVAL */
#define ACTION_PAGE_REJECT_ID_MAX 64     /* bytes of a reject reason id, [a-z0-9_]+ */
#define ACTION_PAGE_NOTE_MAX      1000   /* characters of the reject note (maxlength) */

struct action_page_header {
    const char *name;
    const char *value;
};

/* The headers above, for the server to send with every page. */
extern const struct action_page_header action_page_headers[];
extern const size_t action_page_n_headers;

/* What the assignment page shows. Strings are UTF-8 (anything else is
 * shown as U+FFFD); NULL or "" leaves an optional line out. */
struct action_page_assignment {
    const char *lead_name;      /* the person; NULL or "": "(no name)" */
    const char *company;        /* optional */
    double score;               /* shown rounded, e.g. 82 */
    const char *grade;          /* optional, e.g. "A1" */
    const char *const *reasons; /* the top reasons, most important first; NULL and "" skipped */
    size_t n_reasons;
    const char *why;      /* why this rep got it; optional */
    const char *policy;   /* the SLA policy's name; optional */
    int64_t accept_by_ms; /* the deadline to accept; 0: none */
    int64_t now_ms;
    enum link_action offer; /* the token's action: which forms are shown */
    const char *csrf;       /* link_token_csrf() of the link */
    /* The reasons a rep may give (none: sla_default_reject_reasons, as in
     * struct sla_config);
     * at most ACTION_PAGE_REJECT_MAX, ids [a-z0-9_]+ of at most
     * ACTION_PAGE_REJECT_ID_MAX bytes (they come back in the form as they
     * are, so they are never cut). */
    const struct sla_reject_reason *reject_reasons;
    size_t n_reject_reasons;
};

/*
 * Writes the assignment page into out (size outsz), NUL-terminated, and its
 * length into *len (may be NULL). Returns BT_ETOOBIG when it does not fit
 * (out is then ""), or BT_EINVAL for a missing csrf, an offer outside the
 * enum, or reject reasons out of the bounds above.
 */
BT_MUST_USE bt_err action_page_assignment(const struct action_page_assignment *a, char *out,
                                          size_t outsz, size_t *len, struct bt_error *err);

enum action_page_result {
    ACTION_RESULT_ACCEPTED, /* "Accepted — the lead is yours" */
    ACTION_RESULT_REJECTED, /* "Rejected" */
};

/*
 * The page after a successful POST: its title, the lead's name (optional)
 * and a detail (optional; e.g. "Contact Jane by 11:00 UTC." or "The lead
 * goes back to routing."). Errors as action_page_assignment().
 */
BT_MUST_USE bt_err action_page_result(enum action_page_result result, const char *lead_name,
                                      const char *detail, char *out, size_t outsz, size_t *len,
                                      struct bt_error *err);

enum action_page_error {
    ACTION_ERROR_INVALID,     /* a malformed or forged link, an unknown generation (403) */
    ACTION_ERROR_EXPIRED,     /* a genuine link past its expiry (410) */
    ACTION_ERROR_MOVED_ON,    /* the assignment was accepted, rejected, reassigned (409) */
    ACTION_ERROR_NOT_FOUND,   /* no such assignment (404) */
    ACTION_ERROR_BAD_FORM,    /* a wrong csrf, a missing reason, a note too long, an
                                 action the link does not permit (400) */
    ACTION_ERROR_UNAVAILABLE, /* the store failed or the server is draining (503) */
};

/* The HTTP status to send with the error page of `kind` (above). */
unsigned action_page_error_status(enum action_page_error kind);

/*
 * An error page: a clear title for `kind` and a message, `detail` when
 * given (e.g. "It expired at 10:05:00Z and was reassigned to luca.romano."),
 * else the kind's own explanation. Errors as action_page_assignment().
 */
BT_MUST_USE bt_err action_page_error(enum action_page_error kind, const char *detail, char *out,
                                     size_t outsz, size_t *len, struct bt_error *err);

/*
 * Writes the time left between now and accept_by into out (size outsz,
 * 32 is enough): "overdue", "less than a minute left", "12 min left",
 * "2 h 5 min left", "3 days 4 h left". Minutes are rounded down, so the
 * time shown is never more than there is.
 */
void action_page_time_left(int64_t accept_by_ms, int64_t now_ms, char *out, size_t outsz);

/*
 * Writes s[0..len) (any bytes) HTML-escaped into out (size outsz),
 * NUL-terminated, for text and for double-quoted attribute values: & < > "
 * ' become entities; a byte that is not part of well-formed UTF-8, a
 * control character other than tab, LF and CR, DEL and the C1 controls
 * become U+FFFD. Returns BT_ETOOBIG when it does not fit (out is then "").
 * Six bytes per input byte always suffice.
 */
BT_MUST_USE bt_err action_page_escape(const char *s, size_t len, char *out, size_t outsz,
                                      size_t *outlen);

#endif
