/*
 * ui_session.h - the dashboard's sign-in sessions (docs/dashboard.md).
 *
 * A session is made when someone signs in at POST /ui/session with an API
 * key. The browser holds a random token in an HttpOnly cookie; the table
 * holds only the token's SHA-256, the SHA-256 of the key it stands for
 * (so a revoked key ends its sessions: the key is looked up again on
 * every request), a CSRF token the page sends back in a header on every
 * request that changes state, and an expiry on the monotonic clock.
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

struct ui_sessions;

struct ui_sessions *ui_sessions_new(void);
void ui_sessions_free(struct ui_sessions *s); /* NULL: nothing */

/*
 * Makes a session for the key whose SHA-256 (hex) is key_hash, at now_ms
 * (time_monotonic_ms); writes its cookie token and CSRF token (each
 * NUL-terminated) into the out parameters.
 */
void ui_sessions_create(struct ui_sessions *s, const char *key_hash, int64_t now_ms,
                        char token[UI_SESSION_TOKEN_LEN + 1] /* out */,
                        char csrf[UI_SESSION_CSRF_LEN + 1] /* out */);

/*
 * Finds the live session of a cookie token: true with the key's hash and
 * the CSRF token copied out; false for an unknown, malformed or expired
 * token (an expired one is removed).
 */
bool ui_sessions_find(struct ui_sessions *s, const char *token, int64_t now_ms,
                      char key_hash[SHA256_HEX_LEN + 1] /* out */,
                      char csrf[UI_SESSION_CSRF_LEN + 1] /* out */);

/* Ends the session of a cookie token, if there is one. */
void ui_sessions_remove(struct ui_sessions *s, const char *token);

/* True when `sent` (may be NULL) is the CSRF token `csrf`, compared in
 * constant time. */
bool ui_sessions_csrf_ok(const char *csrf, const char *sent);

#endif
