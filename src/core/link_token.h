/*
 * link_token.h - signed one-click action links: {public_url}/a/{token}.
 *
 * A rep receives a link by email, Slack or SMS and accepts or rejects an
 * assignment with it, without an API key. The token names one assignment,
 * one rep, what the link may do and until when, and carries an HMAC-SHA256
 * over all of it, so that nobody can make a link for another assignment,
 * another rep, another action or a later expiry.
 *
 * The text is two base64url parts (RFC 4648 section 5, no padding):
 *
 *     PAYLOAD "." MAC
 *
 * PAYLOAD is, in this order: a format version byte (1), the action (one
 * byte), the secret generation, the assignment id and the expiry as
 * unsigned LEB128 varints, the rep id's length (one byte) and its bytes.
 * MAC is the first 16 bytes (128 bits) of HMAC-SHA256 over the decoded
 * PAYLOAD under a key derived from the secret. A typical token (assignment
 * 123456, rep "luca.romano", generation 1, an expiry in 2026) is 54
 * characters; the longest possible (every field at its maximum) is
 * LINK_TOKEN_TEXT_MAX, 139. Every encoding is canonical (strict base64url,
 * no padding bits set, shortest varints), so a token has exactly one text:
 * changing any byte of it breaks the MAC or the parse.
 *
 * Secret rotation: the server keeps the current and the previous secret,
 * each with a generation number. It signs with the current one; to check a
 * link it parses it (link_token_parse, which does not verify), takes the
 * secret of the generation the token names (an unknown generation: the
 * link is invalid), and verifies with that (link_token_verify). So links
 * signed before a rotation keep working until the previous secret is
 * dropped.
 *
 * The page a link opens posts its form back to the same URL with a CSRF
 * value (link_token_csrf): an HMAC of the token text under another key
 * derived from the same secret, checked in constant time.
 *
 * Errors: anything that is not a well-formed token, or whose MAC does not
 * match, is BT_EAUTH (the message says which); a genuine token past its
 * expiry is BT_EEXPIRED; a form without the right CSRF value is
 * BT_EFORBIDDEN. A token from a URL may be any bytes of any length: every
 * function here takes (text, len), never reads past len, and refuses more
 * than LINK_TOKEN_TEXT_MAX bytes before decoding anything.
 *
 * Pure: no I/O, no clock (now is an argument), no allocation.
 */
#ifndef BT_CORE_LINK_TOKEN_H
#define BT_CORE_LINK_TOKEN_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_TOKEN_VERSION 1
#define LINK_TOKEN_REP_MAX 64 /* bytes of a rep id, [a-z0-9][a-z0-9_.-]* */
#define LINK_TOKEN_MAC_LEN 16 /* bytes of the truncated HMAC-SHA256 */
/* The longest token text, without the NUL: a 87-byte payload (116
 * characters), the dot and the MAC (22 characters). */
#define LINK_TOKEN_TEXT_MAX 139

/* How long an assignment's link works: until an hour after its accept_by,
 * or a week after it was made when it has no deadline. */
#define LINK_GRACE_MS    (60LL * 60 * 1000)
#define LINK_NO_CLOCK_MS (7LL * 24 * 60 * 60 * 1000)
/* The expiry (seconds since the epoch, rounded up) of the link of an
 * assignment with this accept_by (0: none) made at assigned_at (ms). */
int64_t link_token_expiry(int64_t accept_by, int64_t assigned_at);
/* The latest expiry a token can carry: 9999-12-31T23:59:59Z, as timeutil.h. */
#define LINK_TOKEN_EXPIRES_MAX 253402300799LL
/* Secrets are at least this many bytes (the server makes 32 random ones);
 * a shorter secret is a bug (BT_BUG), not an input error. */
#define LINK_TOKEN_SECRET_MIN 32
/* Length of a CSRF value: base64url of a full HMAC-SHA256. */
#define LINK_CSRF_LEN 43

/* What a link lets its rep do. */
enum link_action {
    LINK_ACTION_DECIDE = 1, /* the page offers accept and reject */
    LINK_ACTION_ACCEPT = 2, /* the page offers accept only */
    LINK_ACTION_REJECT = 3, /* the page offers reject only */
};

/* "decide", "accept", "reject"; "?" for a value outside the enum. */
const char *link_action_name(enum link_action a);

/* The action named by s[0..len) (any bytes: a form field), or false. */
bool link_action_parse(const char *s, size_t len, enum link_action *out);

struct link_token {
    uint32_t generation;                 /* of the secret that signs it */
    int64_t assignment_id;               /* > 0 */
    char rep_id[LINK_TOKEN_REP_MAX + 1]; /* [a-z0-9][a-z0-9_.-]*, NUL-terminated */
    enum link_action action;
    int64_t expires_at; /* Unix seconds: the link works while now < expires_at;
                           1 .. LINK_TOKEN_EXPIRES_MAX */
};

/*
 * True when a link made for `t` may do `posted`, which is what the form
 * asks for: LINK_ACTION_ACCEPT or LINK_ACTION_REJECT. A DECIDE link permits
 * both, an ACCEPT or REJECT link only itself; posting DECIDE is never
 * permitted (it is not something to do).
 */
bool link_token_permits(const struct link_token *t, enum link_action posted);

/*
 * Writes the token for `t` signed with secret[0..secret_len), NUL-terminated,
 * into out (outsz >= LINK_TOKEN_TEXT_MAX + 1: less is a bug). Returns
 * BT_EINVAL, with the field's name, when a field is out of its range (an
 * assignment id <= 0, a rep id that is not one, an action or expiry outside
 * the above); out is then "".
 */
BT_MUST_USE bt_err link_token_sign(const struct link_token *t, const uint8_t *secret,
                                   size_t secret_len, char *out, size_t outsz,
                                   struct bt_error *err);

/*
 * Decodes text[0..len) into *out and checks every field's range, WITHOUT
 * checking the MAC: the caller needs the generation to find the secret,
 * and must not act on anything else until link_token_verify() says yes.
 * Returns BT_EAUTH for anything malformed (too long, a character outside
 * base64url, a bad version, a field out of range, bytes left over); *out
 * is zeroed then.
 */
BT_MUST_USE bt_err link_token_parse(const char *text, size_t len, struct link_token *out,
                                    struct bt_error *err);

/*
 * Checks text[0..len): parses it (as link_token_parse), checks its MAC
 * against secret[0..secret_len) in constant time, then its expiry against
 * now_s (Unix seconds). Returns BT_OK; BT_EAUTH when malformed or when the
 * MAC does not match (tampered with, or signed with another secret); or
 * BT_EEXPIRED when the MAC matches but now_s >= expires_at. The MAC is
 * checked first, so an expired answer is only ever given for a genuine
 * token. *out (may be NULL) receives the token on BT_OK and BT_EEXPIRED,
 * and is zeroed otherwise.
 */
BT_MUST_USE bt_err link_token_verify(const char *text, size_t len, const uint8_t *secret,
                                     size_t secret_len, int64_t now_s, struct link_token *out,
                                     struct bt_error *err);

/*
 * The CSRF value of the page opened by token text[0..len): base64url of
 * HMAC-SHA256 of the text under a key derived from the secret (another key
 * than the MAC's), LINK_CSRF_LEN characters and a NUL. Call it only for a
 * token that verified, with the secret it verified with.
 */
void link_token_csrf(const char *text, size_t len, const uint8_t *secret, size_t secret_len,
                     char out[LINK_CSRF_LEN + 1]);

/*
 * Checks the CSRF value csrf[0..csrf_len) a form sent (any bytes) against
 * the one of token text[0..len), in constant time. Returns BT_OK or
 * BT_EFORBIDDEN.
 */
BT_MUST_USE bt_err link_token_csrf_check(const char *text, size_t len, const uint8_t *secret,
                                         size_t secret_len, const char *csrf, size_t csrf_len,
                                         struct bt_error *err);

#endif
