/*
 * form_token.h - the fill-time token of an embedded form.
 *
 * GET /v1/forms/{id}.js hands the page a token that says "form ID was shown
 * at time T", signed with a key of the server's; the submission carries it
 * back (_baton_token), and a submission sooner than the form's
 * min_fill_time after T, later than its max_fill_time, for another form, or
 * with a token that does not verify, is spam. People take seconds to fill a
 * form in; scripts that post it take none.
 *
 * Text: "GEN.ISSUED.MAC": the signing key's generation and the time shown
 * (ms since the epoch), both canonical decimals, and 32 lower-case hex
 * digits of HMAC-SHA256(key, "baton-form-fill\0" ID "\0" GEN "." ISSUED),
 * cut to 16 bytes. The key is derived from a link secret
 * (store_link_secret_get) with its own label, so that a form token can
 * never pass for a link token or the other way round.
 *
 * Pure: time comes in as an argument.
 */
#ifndef BT_CORE_FORM_TOKEN_H
#define BT_CORE_FORM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FORM_TOKEN_KEY_BYTES  32
#define FORM_TOKEN_MAC_BYTES  16
#define FORM_TOKEN_TEXT_MAX   64                /* 10 + 1 + 15 + 1 + 32, with room */
#define FORM_TOKEN_ISSUED_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

struct form_token {
    uint32_t generation; /* >= 1 */
    int64_t issued_at;   /* ms, 1 .. FORM_TOKEN_ISSUED_MAX */
    uint8_t mac[FORM_TOKEN_MAC_BYTES];
};

enum form_token_verdict {
    FORM_TOKEN_OK,
    FORM_TOKEN_MALFORMED, /* not a token at all */
    FORM_TOKEN_FORGED,    /* does not verify (another form, another key, altered) */
    FORM_TOKEN_TOO_FAST,  /* sent sooner than min_fill_time after it was issued */
    FORM_TOKEN_EXPIRED,   /* sent later than max_fill_time after */
};

/* "ok", "malformed", "forged", "too_fast", "expired". */
const char *form_token_verdict_name(enum form_token_verdict v);

/* The form-token key of a link secret (secret[0..len)). */
void form_token_key(const uint8_t *secret, size_t len, uint8_t key[FORM_TOKEN_KEY_BYTES]);

/* Writes the token of form `form_id` shown at `issued_at` (ms, in range)
 * under key generation `generation` (>= 1) into out; returns its length. */
size_t form_token_make(const uint8_t key[FORM_TOKEN_KEY_BYTES], uint32_t generation,
                       const char *form_id, int64_t issued_at, char out[FORM_TOKEN_TEXT_MAX + 1]);

/* Parses text[0..len) (not NUL-terminated); false for anything that is not
 * exactly the canonical form. */
bool form_token_parse(const char *text, size_t len, struct form_token *out);

/* Verifies a parsed token for `form_id` under `key` (of t->generation) and
 * checks its age at `now` against min_ms and max_ms. */
enum form_token_verdict form_token_check(const struct form_token *t,
                                         const uint8_t key[FORM_TOKEN_KEY_BYTES],
                                         const char *form_id, int64_t now, int64_t min_ms,
                                         int64_t max_ms);

#endif
