/*
 * ui_session.h - the dashboard's sign-in sessions (docs/dashboard.md).
 *
 * A session is made when someone signs in at POST /ui/session with an API
 * key, or when a rep presses "Open my inbox" on a one-click link's page
 * (POST /a/{token} with action=inbox). The browser holds a random token in
 * an HttpOnly cookie; the table holds only the token's SHA-256, the
 * principal the session stands for, a CSRF token the page sends back in a
 * header on every request that changes state, and an expiry on the
 * monotonic clock.
 *
 * The principal is one of (server.c looks it up again on every request):
 *   - the SHA-256 (hex) of an API key: a revoked key ends its sessions;
 *   - "link:GENERATION:REP" for a rep signed in with a one-click link: the
 *     session is the rep's, as long as the rep is in the configuration and
 *     the link secret of GENERATION is kept (`baton keys rotate-links`
 *     dropping it ends the session).
 *
 * In memory, for at most UI_SESSIONS_MAX sessions; a restart signs
 * everybody out. When the table is full, the session nearest its expiry is
 * dropped for the new one. Thread-safe.
 */
#ifndef BT_UI_SESSION_H
#define BT_UI_SESSION_H

#include "util/crypto.h"

#include <stdbool.h>
#include <stdint.h>

#define UI_SESSIONS_MAX        1024
#define UI_SESSION_TTL_MS      (8 * 3600 * 1000LL) /* 8 hours, and the cookie's Max-Age */
#define UI_SESSION_TOKEN_LEN   64                  /* hex characters of a cookie's token */
#define UI_SESSION_CSRF_LEN    64                  /* hex characters of a CSRF token */
#define UI_SESSION_COOKIE      "baton_session"
#define UI_SESSION_CSRF_HEADER "X-Baton-CSRF"
/* bytes of a principal: a key's hash, or "link:" + a generation (10
 * digits) + ":" + a rep id (LINK_TOKEN_REP_MAX) */
#define UI_SESSION_PRINCIPAL_MAX 80
#define UI_SESSION_LINK_PREFIX   "link:"

struct ui_sessions;

struct ui_sessions *ui_sessions_new(void);
void ui_sessions_free(struct ui_sessions *s); /* NULL: nothing */

/*
 * Makes a session for `principal` (above; at most UI_SESSION_PRINCIPAL_MAX
 * bytes, else BT_BUG), at now_ms (time_monotonic_ms); writes its cookie
 * token and CSRF token (each NUL-terminated) into the out parameters.
 */
void ui_sessions_create(struct ui_sessions *s, const char *principal, int64_t now_ms,
                        char token[UI_SESSION_TOKEN_LEN + 1] /* out */,
                        char csrf[UI_SESSION_CSRF_LEN + 1] /* out */);

/*
 * Finds the live session of a cookie token: true with its principal and
 * the CSRF token copied out; false for an unknown, malformed or expired
 * token (an expired one is removed).
 */
bool ui_sessions_find(struct ui_sessions *s, const char *token, int64_t now_ms,
                      char principal[UI_SESSION_PRINCIPAL_MAX + 1] /* out */,
                      char csrf[UI_SESSION_CSRF_LEN + 1] /* out */);

/* Ends the session of a cookie token, if there is one. */
void ui_sessions_remove(struct ui_sessions *s, const char *token);

/* True when `sent` (may be NULL) is the CSRF token `csrf`, compared in
 * constant time. */
bool ui_sessions_csrf_ok(const char *csrf, const char *sent);

#endif
