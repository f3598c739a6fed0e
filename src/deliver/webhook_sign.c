/*
 * webhook_sign.c - Standard Webhooks "v1" signatures (webhook_sign.h).
 *
 * The signed content is never assembled: the id, the two dots, the
 * timestamp and the body go to the HMAC as pieces, so a large body is not
 * copied once per secret. The verifier computes one expected MAC per secret
 * before looking at the received signatures, decodes each "v1" entry into
 * exactly 32 bytes and compares it with every expected MAC in constant
 * time, without stopping at the first match, so that the time taken tells
 * nothing about which secret or entry matched.
 */
#include "deliver/webhook_sign.h"

#include <stdio.h>
#include <string.h>

#define PREFIX_LEN      (sizeof(WEBHOOK_SECRET_PREFIX) - 1)
#define TOLERANCE_MAX_S 86400
/* Digits of a timestamp at most: enough for year 9999 many times over,
 * few enough never to overflow an int64. */
#define TIMESTAMP_DIGITS_MAX 18
#define TIMESTAMP_MAX        999999999999999999LL

_Static_assert(WEBHOOK_SIGNATURE_LEN == 47, "WEBHOOK_SIGNATURE_LEN");
_Static_assert(WEBHOOK_SECRET_TEXT_MAX == 94, "WEBHOOK_SECRET_TEXT_MAX");

bt_err webhook_secret_parse(const char *text, size_t len, struct webhook_secret *out,
                            struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len >= PREFIX_LEN && memcmp(text, WEBHOOK_SECRET_PREFIX, PREFIX_LEN) == 0) {
        text += PREFIX_LEN;
        len -= PREFIX_LEN;
    }
    if (len == 0)
        return bt_fail(err, BT_EINVAL, "secret", "the webhook secret is empty");
    if (len > CRYPTO_BASE64_LEN(WEBHOOK_KEY_MAX))
        return bt_fail(err, BT_EINVAL, "secret",
                       "the webhook secret is too long: %zu base64 characters, at most %zu (%d "
                       "key bytes)",
                       len, (size_t)CRYPTO_BASE64_LEN(WEBHOOK_KEY_MAX), WEBHOOK_KEY_MAX);
    struct bt_error detail = BT_ERROR_INIT;
    size_t n = 0;
    bt_err rc = crypto_base64_decode(text, len, out->key, sizeof(out->key), &n, &detail);
    if (rc == BT_ETOOBIG) {
        memset(out, 0, sizeof(*out));
        return bt_fail(err, BT_EINVAL, "secret",
                       "the webhook secret is too long: its key is more than %d bytes",
                       WEBHOOK_KEY_MAX);
    }
    if (rc != BT_OK) {
        memset(out, 0, sizeof(*out));
        return bt_fail(err, BT_EINVAL, "secret",
                       "the webhook secret is not \"whsec_\" and standard base64: %s",
                       detail.message);
    }
    if (n < WEBHOOK_KEY_MIN) {
        memset(out, 0, sizeof(*out));
        return bt_fail(err, BT_EINVAL, "secret",
                       "the webhook secret's key is %zu bytes, too short: it must be %d to %d", n,
                       WEBHOOK_KEY_MIN, WEBHOOK_KEY_MAX);
    }
    out->len = n;
    return BT_OK;
}

void webhook_secret_generate(struct webhook_secret *out)
{
    memset(out, 0, sizeof(*out));
    crypto_random_bytes(out->key, 32);
    out->len = 32;
}

void webhook_secret_format(const struct webhook_secret *s, char out[WEBHOOK_SECRET_TEXT_MAX + 1])
{
    if (s->len < WEBHOOK_KEY_MIN || s->len > WEBHOOK_KEY_MAX)
        BT_BUG("webhook secret of %zu bytes", s->len);
    memcpy(out, WEBHOOK_SECRET_PREFIX, PREFIX_LEN);
    crypto_base64_encode(s->key, s->len, out + PREFIX_LEN,
                         WEBHOOK_SECRET_TEXT_MAX + 1 - PREFIX_LEN);
}

void webhook_message_id(char out[WEBHOOK_MESSAGE_ID_LEN + 1])
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t random[WEBHOOK_MESSAGE_ID_LEN - 4];
    crypto_random_bytes(random, sizeof(random));
    memcpy(out, "msg_", 4);
    /* 64 divides 256: the low six bits of a random byte are uniform. */
    for (size_t i = 0; i < sizeof(random); i++)
        out[4 + i] = digits[random[i] & 63];
    out[WEBHOOK_MESSAGE_ID_LEN] = '\0';
}

/* True when id[0..len) is within the bounds of webhook_sign.h. */
static bool id_valid(const char *id, size_t len)
{
    if (len == 0 || len > WEBHOOK_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '.')
            return false;
    }
    return true;
}

/* The MAC of id "." timestamp "." body under one secret. */
static void content_mac(const struct webhook_secret *s, const char *id, size_t id_len,
                        const char *timestamp, size_t ts_len, const void *body, size_t body_len,
                        uint8_t mac[CRYPTO_HMAC_SHA256_LEN])
{
    const struct crypto_slice parts[] = {
        {id, id_len}, {".", 1}, {timestamp, ts_len}, {".", 1}, {body, body_len},
    };
    crypto_hmac_sha256_parts(s->key, s->len, parts, sizeof(parts) / sizeof(parts[0]), mac);
}

static void check_secrets(const struct webhook_secret *secrets, size_t nsecrets)
{
    if (nsecrets == 0 || nsecrets > WEBHOOK_SECRETS_MAX)
        BT_BUG("%zu webhook secrets", nsecrets);
    for (size_t i = 0; i < nsecrets; i++) {
        if (secrets[i].len < WEBHOOK_KEY_MIN || secrets[i].len > WEBHOOK_KEY_MAX)
            BT_BUG("webhook secret %zu of %zu bytes", i, secrets[i].len);
    }
}

bt_err webhook_sign(const char *msg_id, int64_t timestamp_s, const void *body, size_t body_len,
                    const struct webhook_secret *secrets, size_t nsecrets, char *out, size_t outsz,
                    struct bt_error *err)
{
    if (outsz == 0)
        BT_BUG("no room for a webhook signature");
    out[0] = '\0';
    if (nsecrets == 0 || nsecrets > WEBHOOK_SECRETS_MAX)
        return bt_fail(err, BT_EINVAL, "secrets",
                       "a webhook is signed with 1 to %d secrets, not %zu", WEBHOOK_SECRETS_MAX,
                       nsecrets);
    check_secrets(secrets, nsecrets);
    if (outsz < WEBHOOK_SIGNATURE_HEADER_LEN(nsecrets) + 1)
        BT_BUG("webhook signature header of %zu secrets into %zu bytes", nsecrets, outsz);
    size_t id_len = msg_id ? strnlen(msg_id, WEBHOOK_ID_MAX + 1) : 0;
    if (!id_valid(msg_id, id_len))
        return bt_fail(err, BT_EINVAL, "webhook-id",
                       "a webhook id is 1 to %d printable ASCII characters without spaces or "
                       "'.'",
                       WEBHOOK_ID_MAX);
    if (timestamp_s < 0 || timestamp_s > TIMESTAMP_MAX)
        return bt_fail(err, BT_EINVAL, "webhook-timestamp", "webhook timestamp %lld out of range",
                       (long long)timestamp_s);
    char ts[24];
    int ts_len = snprintf(ts, sizeof(ts), "%lld", (long long)timestamp_s);
    size_t at = 0;
    for (size_t i = 0; i < nsecrets; i++) {
        uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
        content_mac(&secrets[i], msg_id, id_len, ts, (size_t)ts_len, body, body_len, mac);
        if (i)
            out[at++] = ' ';
        memcpy(out + at, "v1,", 3);
        at += 3;
        at += crypto_base64_encode(mac, sizeof(mac), out + at, outsz - at);
    }
    return BT_OK;
}

static const char *const reject_names[] = {
    [WEBHOOK_ACCEPTED] = "accepted",
    [WEBHOOK_MISSING_ID] = "missing_id",
    [WEBHOOK_MISSING_TIMESTAMP] = "missing_timestamp",
    [WEBHOOK_MISSING_SIGNATURE] = "missing_signature",
    [WEBHOOK_MALFORMED] = "malformed",
    [WEBHOOK_TOO_OLD] = "too_old",
    [WEBHOOK_TOO_NEW] = "too_new",
    [WEBHOOK_NO_MATCH] = "no_match",
};

const char *webhook_reject_name(enum webhook_reject r)
{
    if ((unsigned)r >= sizeof(reject_names) / sizeof(reject_names[0]))
        return "?";
    return reject_names[r];
}

static bt_err reject(enum webhook_reject *reason, enum webhook_reject why, struct bt_error *err,
                     const char *header, const char *message)
{
    if (reason)
        *reason = why;
    return bt_fail(err, BT_EAUTH, header, "%s", message);
}

/* Canonical decimal digits (no sign, no leading zero) into *out. */
static bool parse_timestamp(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > TIMESTAMP_DIGITS_MAX || (s[0] == '0' && len > 1))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bt_err webhook_verify(const char *id, const char *timestamp, const char *signature,
                      const void *body, size_t body_len, const struct webhook_secret *secrets,
                      size_t nsecrets, int64_t now_s, int64_t tolerance_s,
                      enum webhook_reject *reason, struct bt_error *err)
{
    check_secrets(secrets, nsecrets);
    if (now_s < 0 || now_s > TIMESTAMP_MAX || tolerance_s < 0 || tolerance_s > TOLERANCE_MAX_S)
        BT_BUG("webhook_verify: now %lld, tolerance %lld", (long long)now_s,
               (long long)tolerance_s);
    if (reason)
        *reason = WEBHOOK_ACCEPTED;
    if (!id || !id[0])
        return reject(reason, WEBHOOK_MISSING_ID, err, "webhook-id", "no webhook-id header");
    if (!timestamp || !timestamp[0])
        return reject(reason, WEBHOOK_MISSING_TIMESTAMP, err, "webhook-timestamp",
                      "no webhook-timestamp header");
    if (!signature || !signature[0])
        return reject(reason, WEBHOOK_MISSING_SIGNATURE, err, "webhook-signature",
                      "no webhook-signature header");

    /* strnlen: a hostile header is measured only as far as the bound. */
    size_t id_len = strnlen(id, WEBHOOK_ID_MAX + 1);
    if (!id_valid(id, id_len))
        return reject(reason, WEBHOOK_MALFORMED, err, "webhook-id",
                      "the webhook-id header is too long or has a space, '.' or a byte outside "
                      "printable ASCII");
    size_t ts_len = strnlen(timestamp, TIMESTAMP_DIGITS_MAX + 1);
    int64_t ts = 0;
    if (!parse_timestamp(timestamp, ts_len, &ts))
        return reject(reason, WEBHOOK_MALFORMED, err, "webhook-timestamp",
                      "the webhook-timestamp header is not Unix seconds in decimal");
    size_t sig_len = strnlen(signature, WEBHOOK_SIGNATURE_HEADER_MAX + 1);
    if (sig_len > WEBHOOK_SIGNATURE_HEADER_MAX)
        return reject(reason, WEBHOOK_MALFORMED, err, "webhook-signature",
                      "the webhook-signature header is too long");
    /* Both sides are at most 10^18 and tolerance_s at most a day: no overflow. */
    if (ts < now_s - tolerance_s)
        return reject(reason, WEBHOOK_TOO_OLD, err, "webhook-timestamp",
                      "the webhook timestamp is too old");
    if (ts > now_s + tolerance_s)
        return reject(reason, WEBHOOK_TOO_NEW, err, "webhook-timestamp",
                      "the webhook timestamp is too new");

    uint8_t expected[WEBHOOK_SECRETS_MAX][CRYPTO_HMAC_SHA256_LEN];
    for (size_t i = 0; i < nsecrets; i++)
        content_mac(&secrets[i], id, id_len, timestamp, ts_len, body, body_len, expected[i]);

    bool matched = false;
    const char *p = signature, *end = signature + sig_len;
    while (p < end) {
        const char *entry = p;
        while (p < end && *p != ' ')
            p++;
        size_t entry_len = (size_t)(p - entry);
        if (p < end)
            p++; /* the space */
        if (entry_len < 3 || memcmp(entry, "v1,", 3) != 0)
            continue; /* another scheme, e.g. "v1a,", or no version at all */
        uint8_t got[CRYPTO_HMAC_SHA256_LEN];
        size_t got_len = 0;
        if (crypto_base64_decode(entry + 3, entry_len - 3, got, sizeof(got), &got_len, NULL) !=
                BT_OK ||
            got_len != sizeof(got))
            continue;
        for (size_t i = 0; i < nsecrets; i++)
            matched |= crypto_equal(got, expected[i], sizeof(got));
    }
    if (!matched)
        return reject(reason, WEBHOOK_NO_MATCH, err, "webhook-signature",
                      "no webhook signature matches");
    return BT_OK;
}
