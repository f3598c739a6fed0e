/*
 * link_token.c - the token format of link_token.h: strict base64url,
 * shortest LEB128 varints, and two keys derived from the one secret (the
 * MAC's and the CSRF value's), so that a CSRF value can never stand in for
 * a token's MAC or the other way round.
 *
 * Parsing is written for hostile input: the length is checked before any
 * decoding, every read is checked against the decoded length, and a field
 * is accepted only in the one encoding link_token_sign() writes for it.
 * That last rule is what makes a token's text unique, so that a change of
 * any one character is refused (in base64 the last character of a part
 * carries spare low bits: a decoder that ignored them would accept four
 * texts for one token).
 */
#include "core/link_token.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#include <string.h>

/* Bytes of each varint at most: 32 bits, 63 bits (a positive int64),
 * 38 bits (LINK_TOKEN_EXPIRES_MAX < 2^38). */
#define GENERATION_BYTES 5
#define ASSIGNMENT_BYTES 9
#define EXPIRES_BYTES    6

#define PAYLOAD_MAX                                                                                \
    (1 + 1 + GENERATION_BYTES + ASSIGNMENT_BYTES + EXPIRES_BYTES + 1 + LINK_TOKEN_REP_MAX)
/* Characters of n bytes in base64url without padding. */
#define B64_LEN(n)       ((n) / 3 * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))
#define PAYLOAD_TEXT_MAX B64_LEN(PAYLOAD_MAX)
#define MAC_TEXT_LEN     B64_LEN(LINK_TOKEN_MAC_LEN)

_Static_assert(PAYLOAD_TEXT_MAX + 1 + MAC_TEXT_LEN == LINK_TOKEN_TEXT_MAX, "LINK_TOKEN_TEXT_MAX");
_Static_assert(B64_LEN(CRYPTO_HMAC_SHA256_LEN) == LINK_CSRF_LEN, "LINK_CSRF_LEN");
_Static_assert(LINK_TOKEN_EXPIRES_MAX < (1LL << (7 * EXPIRES_BYTES)), "EXPIRES_BYTES");

/* The labels of the derived keys; a new format version gets new ones. */
static const char mac_label[] = "baton link token v1: mac";
static const char csrf_label[] = "baton link token v1: csrf";

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *const action_names[] = {
    [LINK_ACTION_DECIDE] = "decide",
    [LINK_ACTION_ACCEPT] = "accept",
    [LINK_ACTION_REJECT] = "reject",
};

static bool action_valid(long a)
{
    return a >= LINK_ACTION_DECIDE && a <= LINK_ACTION_REJECT;
}

const char *link_action_name(enum link_action a)
{
    return action_valid(a) ? action_names[a] : "?";
}

bool link_action_parse(const char *s, size_t len, enum link_action *out)
{
    for (long a = LINK_ACTION_DECIDE; a <= LINK_ACTION_REJECT; a++) {
        if (len == strlen(action_names[a]) && memcmp(s, action_names[a], len) == 0) {
            *out = (enum link_action)a;
            return true;
        }
    }
    return false;
}

bool link_token_permits(const struct link_token *t, enum link_action posted)
{
    switch (posted) {
    case LINK_ACTION_ACCEPT:
    case LINK_ACTION_REJECT:
        return t->action == LINK_ACTION_DECIDE || t->action == posted;
    case LINK_ACTION_DECIDE:
        return false;
    }
    return false;
}

/* ---- encodings ---- */

/* Writes B64_LEN(n) characters (no NUL) and returns their number. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_digits[v >> 18];
        out[o++] = b64_digits[(v >> 12) & 63];
        out[o++] = b64_digits[(v >> 6) & 63];
        out[o++] = b64_digits[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_digits[v >> 18];
        out[o++] = b64_digits[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_digits[v >> 18];
        out[o++] = b64_digits[(v >> 12) & 63];
        out[o++] = b64_digits[(v >> 6) & 63];
    }
    return o;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes text[0..len) into out (room for outsz bytes). False for a
 * character outside the alphabet, a length no byte count gives, more than
 * outsz bytes, or spare bits that are not zero. */
static bool b64_decode(const char *text, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
    if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > outsz)
        return false;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return false;
    *outlen = o;
    return true;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return n;
}

struct reader {
    const uint8_t *p;
    size_t len, pos;
};

/* A varint of at most maxbytes bytes (at most 9), in its shortest form. */
static bool read_varint(struct reader *r, unsigned maxbytes, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < maxbytes && r->pos < r->len; i++) {
        uint8_t b = r->p[r->pos++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return false; /* a trailing zero group: not the shortest form */
            *out = v;
            return true;
        }
    }
    return false;
}

static bool read_byte(struct reader *r, uint8_t *out)
{
    if (r->pos >= r->len)
        return false;
    *out = r->p[r->pos++];
    return true;
}

/* [a-z0-9][a-z0-9_.-]*, 1 to LINK_TOKEN_REP_MAX bytes. */
static bool valid_rep_id(const char *s, size_t n)
{
    if (n == 0 || n > LINK_TOKEN_REP_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

static size_t payload_encode(const struct link_token *t, size_t rep_len, uint8_t out[PAYLOAD_MAX])
{
    size_t n = 0;
    out[n++] = LINK_TOKEN_VERSION;
    out[n++] = (uint8_t)t->action;
    n += varint_put(out + n, t->generation);
    n += varint_put(out + n, (uint64_t)t->assignment_id);
    n += varint_put(out + n, (uint64_t)t->expires_at);
    out[n++] = (uint8_t)rep_len;
    memcpy(out + n, t->rep_id, rep_len);
    return n + rep_len;
}

/* ---- keys and MACs ---- */

static void derive_key(const uint8_t *secret, size_t secret_len, const char *label,
                       uint8_t key[CRYPTO_HMAC_SHA256_LEN])
{
    if (!secret || secret_len < LINK_TOKEN_SECRET_MIN)
        BT_BUG("link token secret of %zu bytes (at least %d)", secret_len, LINK_TOKEN_SECRET_MIN);
    crypto_hmac_sha256(secret, secret_len, label, strlen(label), key);
}

static void payload_mac(const uint8_t *secret, size_t secret_len, const uint8_t *payload, size_t n,
                        uint8_t mac[CRYPTO_HMAC_SHA256_LEN])
{
    uint8_t key[CRYPTO_HMAC_SHA256_LEN];
    derive_key(secret, secret_len, mac_label, key);
    crypto_hmac_sha256(key, sizeof(key), payload, n, mac);
}

/* ---- sign, parse, verify ---- */

bt_err link_token_sign(const struct link_token *t, const uint8_t *secret, size_t secret_len,
                       char *out, size_t outsz, struct bt_error *err)
{
    if (outsz < LINK_TOKEN_TEXT_MAX + 1)
        BT_BUG("link token buffer of %zu bytes (at least %d)", outsz, LINK_TOKEN_TEXT_MAX + 1);
    out[0] = '\0';
    size_t rep_len = strnlen(t->rep_id, sizeof(t->rep_id));
    if (t->assignment_id <= 0)
        return bt_fail(err, BT_EINVAL, "assignment_id", "link token: assignment id %lld is not > 0",
                       (long long)t->assignment_id);
    if (!valid_rep_id(t->rep_id, rep_len))
        return bt_fail(err, BT_EINVAL, "rep_id",
                       "link token: not a rep id ([a-z0-9][a-z0-9_.-]*, at most %d characters)",
                       LINK_TOKEN_REP_MAX);
    if (!action_valid(t->action))
        return bt_fail(err, BT_EINVAL, "action", "link token: action %d is not one",
                       (int)t->action);
    if (t->expires_at < 1 || t->expires_at > LINK_TOKEN_EXPIRES_MAX)
        return bt_fail(err, BT_EINVAL, "expires_at",
                       "link token: expiry %lld is outside 1 .. %lld (Unix seconds)",
                       (long long)t->expires_at, LINK_TOKEN_EXPIRES_MAX);
    uint8_t payload[PAYLOAD_MAX], mac[CRYPTO_HMAC_SHA256_LEN];
    size_t n = payload_encode(t, rep_len, payload);
    payload_mac(secret, secret_len, payload, n, mac);
    size_t o = b64_encode(payload, n, out);
    out[o++] = '.';
    o += b64_encode(mac, LINK_TOKEN_MAC_LEN, out + o);
    out[o] = '\0';
    return BT_OK;
}

struct decoded {
    uint8_t payload[PAYLOAD_MAX];
    size_t payload_len;
    uint8_t mac[LINK_TOKEN_MAC_LEN];
};

static bt_err malformed(struct bt_error *err, const char *why)
{
    return bt_fail(err, BT_EAUTH, "token", "not a valid link: %s", why);
}

static bt_err decode(const char *text, size_t len, struct link_token *out, struct decoded *d,
                     struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return malformed(err, "the token is empty");
    if (len > LINK_TOKEN_TEXT_MAX)
        return malformed(err, "the token is too long");
    const char *dot = memchr(text, '.', len);
    if (!dot)
        return malformed(err, "the token has no signature");
    size_t payload_text_len = (size_t)(dot - text), mac_text_len = len - payload_text_len - 1;
    size_t mac_len = 0;
    if (mac_text_len != MAC_TEXT_LEN ||
        !b64_decode(dot + 1, mac_text_len, d->mac, sizeof(d->mac), &mac_len) ||
        mac_len != LINK_TOKEN_MAC_LEN)
        return malformed(err, "the signature is not one");
    if (!b64_decode(text, payload_text_len, d->payload, sizeof(d->payload), &d->payload_len))
        return malformed(err, "the token is not base64url");

    struct reader r = {d->payload, d->payload_len, 0};
    uint8_t version, action, rep_len;
    uint64_t generation, assignment, expires;
    if (!read_byte(&r, &version) || version != LINK_TOKEN_VERSION)
        return malformed(err, "unknown token version");
    if (!read_byte(&r, &action) || !action_valid(action))
        return malformed(err, "unknown action");
    if (!read_varint(&r, GENERATION_BYTES, &generation) || generation > UINT32_MAX)
        return malformed(err, "bad secret generation");
    if (!read_varint(&r, ASSIGNMENT_BYTES, &assignment) || assignment < 1 ||
        assignment > (uint64_t)INT64_MAX)
        return malformed(err, "bad assignment id");
    if (!read_varint(&r, EXPIRES_BYTES, &expires) || expires < 1 ||
        expires > (uint64_t)LINK_TOKEN_EXPIRES_MAX)
        return malformed(err, "bad expiry");
    if (!read_byte(&r, &rep_len) || rep_len > r.len - r.pos ||
        !valid_rep_id((const char *)r.p + r.pos, rep_len))
        return malformed(err, "bad rep id");
    r.pos += rep_len;
    if (r.pos != r.len)
        return malformed(err, "bytes after the rep id");

    out->generation = (uint32_t)generation;
    out->assignment_id = (int64_t)assignment;
    out->action = (enum link_action)action;
    out->expires_at = (int64_t)expires;
    memcpy(out->rep_id, r.p + r.pos - rep_len, rep_len);
    out->rep_id[rep_len] = '\0';
    return BT_OK;
}

bt_err link_token_parse(const char *text, size_t len, struct link_token *out, struct bt_error *err)
{
    struct decoded d;
    return decode(text, len, out, &d, err);
}

bt_err link_token_verify(const char *text, size_t len, const uint8_t *secret, size_t secret_len,
                         int64_t now_s, struct link_token *out, struct bt_error *err)
{
    struct link_token t;
    struct decoded d;
    if (out)
        memset(out, 0, sizeof(*out));
    bt_err rc = decode(text, len, &t, &d, err);
    if (rc)
        return rc;
    uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
    payload_mac(secret, secret_len, d.payload, d.payload_len, mac);
    if (!crypto_equal(mac, d.mac, LINK_TOKEN_MAC_LEN))
        return bt_fail(err, BT_EAUTH, "token",
                       "not a valid link: the signature does not match (the link was changed, "
                       "or signed with another secret)");
    if (out)
        *out = t;
    if (now_s >= t.expires_at) {
        char when[RFC3339_MAX];
        time_format_rfc3339(t.expires_at * 1000, when);
        return bt_fail(err, BT_EEXPIRED, "token", "the link expired at %.19sZ", when);
    }
    return BT_OK;
}

/* ---- the form's CSRF value ---- */

void link_token_csrf(const char *text, size_t len, const uint8_t *secret, size_t secret_len,
                     char out[LINK_CSRF_LEN + 1])
{
    uint8_t key[CRYPTO_HMAC_SHA256_LEN], mac[CRYPTO_HMAC_SHA256_LEN];
    derive_key(secret, secret_len, csrf_label, key);
    crypto_hmac_sha256(key, sizeof(key), text, len, mac);
    out[b64_encode(mac, sizeof(mac), out)] = '\0';
}

bt_err link_token_csrf_check(const char *text, size_t len, const uint8_t *secret, size_t secret_len,
                             const char *csrf, size_t csrf_len, struct bt_error *err)
{
    char want[LINK_CSRF_LEN + 1];
    link_token_csrf(text, len, secret, secret_len, want);
    if (csrf_len != LINK_CSRF_LEN || !crypto_equal(want, csrf, LINK_CSRF_LEN))
        return bt_fail(err, BT_EFORBIDDEN, "csrf",
                       "the form was not sent from this link's page: open the link again");
    return BT_OK;
}

int64_t link_token_expiry(int64_t accept_by, int64_t assigned_at)
{
    int64_t ms = accept_by ? accept_by + LINK_GRACE_MS : assigned_at + LINK_NO_CLOCK_MS;
    return (ms + 999) / 1000;
}
