/*
 * webhook_sign.h - the Standard Webhooks signature scheme (symmetric, "v1"),
 * www.standardwebhooks.com, spec version 1.0.0.
 *
 * A webhook is a POST whose body is signed together with two headers:
 *
 *     webhook-id:        msg_2KWPBgLlAfxdpx2AI54pPJ85f4W
 *     webhook-timestamp: 1674087231
 *     webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=
 *
 * The signed content is id "." timestamp "." body; the signature is "v1,"
 * and the standard base64 of HMAC-SHA256 of that content under the secret's
 * key bytes. The id names the event and stays the same on every retry (the
 * receiver's idempotency key: keep it with the outbox row); the timestamp is
 * the attempt's, in decimal Unix seconds, so that a receiver can refuse
 * replays. While a secret is rotated the header carries one signature per
 * secret, space-separated, and a receiver accepts the message when any of
 * them matches one of its secrets.
 *
 * Secrets are written "whsec_" + base64 of the key bytes, as the spec's
 * libraries show them; those libraries also take the base64 without the
 * prefix, and so does webhook_secret_parse(). The spec asks for 24 to 64
 * random key bytes; both bounds are enforced.
 *
 * Bounds: an id is 1..WEBHOOK_ID_MAX printable ASCII characters without
 * spaces or '.' (a '.' would let bytes move between id and timestamp
 * without changing the signed content); a signature header is at most
 * WEBHOOK_SIGNATURE_HEADER_MAX bytes; one message is signed with at most
 * WEBHOOK_SECRETS_MAX secrets. The body is any bytes of any length: it is
 * MACed in place, never copied.
 *
 * Pure computation: no I/O and no clock (the verifier takes "now"), except
 * webhook_message_id() and webhook_secret_generate(), which read the
 * system's random source.
 */
#ifndef BT_DELIVER_WEBHOOK_SIGN_H
#define BT_DELIVER_WEBHOOK_SIGN_H

#include "util/crypto.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_KEY_MIN       24 /* bytes of a secret's key, as the spec asks */
#define WEBHOOK_KEY_MAX       64
/* The longest secret text: the prefix and the base64 of WEBHOOK_KEY_MAX bytes. */
#define WEBHOOK_SECRET_TEXT_MAX                                                                    \
    (sizeof(WEBHOOK_SECRET_PREFIX) - 1 + CRYPTO_BASE64_LEN(WEBHOOK_KEY_MAX))

#define WEBHOOK_ID_MAX 256
/* "msg_" and 22 base64url characters (132 random bits). */
#define WEBHOOK_MESSAGE_ID_LEN 26

/* One signature: "v1," and the base64 of a 32-byte MAC. */
#define WEBHOOK_SIGNATURE_LEN (3 + CRYPTO_BASE64_LEN(CRYPTO_HMAC_SHA256_LEN))
#define WEBHOOK_SECRETS_MAX   8
/* The header value for n signatures, without the NUL. */
#define WEBHOOK_SIGNATURE_HEADER_LEN(n) ((n) * (WEBHOOK_SIGNATURE_LEN + 1) - 1)
/* The longest signature header webhook_verify() reads. */
#define WEBHOOK_SIGNATURE_HEADER_MAX 4096

/* The spec's tolerance between the timestamp and the receiver's clock. */
#define WEBHOOK_TOLERANCE_S 300

/* A signing key, held by value: no ownership to track. */
struct webhook_secret {
    uint8_t key[WEBHOOK_KEY_MAX];
    size_t len; /* WEBHOOK_KEY_MIN..WEBHOOK_KEY_MAX once parsed or generated */
};

/*
 * Parses text[0..len) (any bytes, e.g. from the configuration): "whsec_" and
 * base64, or the base64 alone, into *out. Returns BT_OK, or BT_EINVAL with
 * field "secret" and a message saying what is wrong (empty, too long, not
 * base64, a key shorter than WEBHOOK_KEY_MIN or longer than
 * WEBHOOK_KEY_MAX bytes); *out is zeroed on error. The message never
 * quotes the text.
 */
BT_MUST_USE bt_err webhook_secret_parse(const char *text, size_t len, struct webhook_secret *out,
                                        struct bt_error *err);

/* Fills *out with 32 random key bytes (dies if the random source fails). */
void webhook_secret_generate(struct webhook_secret *out);

/* Writes "whsec_" + base64 of the key and a NUL into out: the text that
 * webhook_secret_parse() reads back. */
void webhook_secret_format(const struct webhook_secret *s, char out[WEBHOOK_SECRET_TEXT_MAX + 1]);

/* Writes a new message id, "msg_" and 22 random base64url characters, and
 * a NUL into out. Make it once per event and store it: retries reuse it. */
void webhook_message_id(char out[WEBHOOK_MESSAGE_ID_LEN + 1]);

/*
 * Writes the webhook-signature header value for the message (id, the
 * attempt's timestamp in Unix seconds, body[0..body_len)) signed with each
 * of secrets[0..nsecrets), in that order and space-separated, and a NUL,
 * into out. out is caller-owned with outsz >=
 * WEBHOOK_SIGNATURE_HEADER_LEN(nsecrets) + 1 (less is a bug). The
 * webhook-timestamp header must carry timestamp_s in decimal ("%lld"),
 * and the body must be sent byte for byte as signed.
 * Returns BT_OK, or BT_EINVAL (out is then "") for an id that breaks the
 * bounds above (field "webhook-id"), a timestamp outside 0..10^18 - 1, or
 * nsecrets outside 1..WEBHOOK_SECRETS_MAX. A secret that is not a parsed
 * or generated one (len outside WEBHOOK_KEY_MIN..MAX) is a bug.
 */
BT_MUST_USE bt_err webhook_sign(const char *msg_id, int64_t timestamp_s, const void *body,
                                size_t body_len, const struct webhook_secret *secrets,
                                size_t nsecrets, char *out, size_t outsz, struct bt_error *err);

/* Why webhook_verify() refused a message. */
enum webhook_reject {
    WEBHOOK_ACCEPTED = 0,
    WEBHOOK_MISSING_ID,        /* no webhook-id, or empty */
    WEBHOOK_MISSING_TIMESTAMP, /* no webhook-timestamp, or empty */
    WEBHOOK_MISSING_SIGNATURE, /* no webhook-signature, or empty */
    WEBHOOK_MALFORMED,         /* an id or signature header out of bounds, or a
                                  timestamp that is not canonical decimal digits */
    WEBHOOK_TOO_OLD,           /* timestamp more than the tolerance before now */
    WEBHOOK_TOO_NEW,           /* timestamp more than the tolerance after now */
    WEBHOOK_NO_MATCH,          /* no "v1" signature matches any secret */
};

/* A short stable name: "accepted", "missing_id", ..., "no_match". */
const char *webhook_reject_name(enum webhook_reject r);

/*
 * Verifies a received webhook as the spec's libraries do. id, timestamp
 * and signature are the three header values as received (NUL-terminated;
 * NULL or "" when absent), body[0..body_len) the raw body, and
 * secrets[0..nsecrets) the receiver's, 1..WEBHOOK_SECRETS_MAX of them.
 * now_s is the receiver's clock in Unix seconds (0..10^18 - 1) and
 * tolerance_s (0..86400, the
 * spec's WEBHOOK_TOLERANCE_S) how far the timestamp may be from it either
 * way; exactly tolerance_s away is still accepted.
 *
 * The checks run in the libraries' order: the headers are present, the
 * timestamp is within the tolerance, then a signature matches. Signature
 * entries are split on spaces; an entry whose version is not exactly "v1"
 * (e.g. "v1a," for the asymmetric scheme) or whose base64 is not a 32-byte
 * MAC is skipped. MACs are compared in constant time.
 *
 * Returns BT_OK with *reason WEBHOOK_ACCEPTED, or BT_EAUTH with *reason
 * saying why and err naming the header at fault. reason may be NULL.
 * Arguments outside the ranges above are a bug. A timestamp header that is
 * not canonical decimal ("+1", "01", " 1") is WEBHOOK_MALFORMED: the
 * libraries sign the number as they print it, so such a header could only
 * match by accident. An id with a '.' is refused too (see the top).
 */
BT_MUST_USE bt_err webhook_verify(const char *id, const char *timestamp, const char *signature,
                                  const void *body, size_t body_len,
                                  const struct webhook_secret *secrets, size_t nsecrets,
                                  int64_t now_s, int64_t tolerance_s, enum webhook_reject *reason,
                                  struct bt_error *err);

#endif
