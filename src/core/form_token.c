/*
 * form_token.c - fill-time tokens of embedded forms (form_token.h). The
 * parser accepts only the one canonical spelling of a token (no leading
 * zeros, no upper-case hex), so that every accepted text is exactly what
 * form_token_make() writes, and it reads nothing past `len`.
 */
#include "core/form_token.h"
#include "util/crypto.h"

#include <stdio.h>
#include <string.h>

static const char KEY_LABEL[] = "baton form fill-time token v1";

const char *form_token_verdict_name(enum form_token_verdict v)
{
    switch (v) {
    case FORM_TOKEN_OK:
        return "ok";
    case FORM_TOKEN_MALFORMED:
        return "malformed";
    case FORM_TOKEN_FORGED:
        return "forged";
    case FORM_TOKEN_TOO_FAST:
        return "too_fast";
    case FORM_TOKEN_EXPIRED:
        return "expired";
    }
    return "unknown";
}

void form_token_key(const uint8_t *secret, size_t len, uint8_t key[FORM_TOKEN_KEY_BYTES])
{
    crypto_hmac_sha256(secret, len, KEY_LABEL, sizeof(KEY_LABEL) - 1, key);
}

static void sign(const uint8_t key[FORM_TOKEN_KEY_BYTES], uint32_t generation, const char *form_id,
                 int64_t issued_at, uint8_t mac[CRYPTO_HMAC_SHA256_LEN])
{
    char msg[200];
    size_t id_len = strnlen(form_id, 100);
    memcpy(msg, "baton-form-fill", 16); /* with its NUL */
    memcpy(msg + 16, form_id, id_len);
    msg[16 + id_len] = '\0';
    int n = snprintf(msg + 17 + id_len, sizeof(msg) - 17 - id_len, "%u.%lld", generation,
                     (long long)issued_at);
    crypto_hmac_sha256(key, FORM_TOKEN_KEY_BYTES, msg, 17 + id_len + (size_t)n, mac);
}

size_t form_token_make(const uint8_t key[FORM_TOKEN_KEY_BYTES], uint32_t generation,
                       const char *form_id, int64_t issued_at, char out[FORM_TOKEN_TEXT_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
    sign(key, generation, form_id, issued_at, mac);
    int n = snprintf(out, FORM_TOKEN_TEXT_MAX + 1, "%u.%lld.", generation, (long long)issued_at);
    for (int i = 0; i < FORM_TOKEN_MAC_BYTES; i++) {
        out[n++] = hex[mac[i] >> 4];
        out[n++] = hex[mac[i] & 15];
    }
    out[n] = '\0';
    return (size_t)n;
}

/* A canonical decimal of 1 .. max in s[0..len). */
static bool decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 15 || s[0] == '0')
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool form_token_parse(const char *text, size_t len, struct form_token *out)
{
    memset(out, 0, sizeof(*out));
    if (!text || len > FORM_TOKEN_TEXT_MAX)
        return false;
    const char *dot1 = memchr(text, '.', len);
    if (!dot1)
        return false;
    size_t rest = len - (size_t)(dot1 + 1 - text);
    const char *dot2 = memchr(dot1 + 1, '.', rest);
    if (!dot2)
        return false;
    uint64_t gen, issued;
    if (!decimal(text, (size_t)(dot1 - text), UINT32_MAX, &gen) ||
        !decimal(dot1 + 1, (size_t)(dot2 - dot1 - 1), FORM_TOKEN_ISSUED_MAX, &issued))
        return false;
    const char *mac = dot2 + 1;
    if ((size_t)(text + len - mac) != 2 * FORM_TOKEN_MAC_BYTES)
        return false;
    for (int i = 0; i < FORM_TOKEN_MAC_BYTES; i++) {
        int hi = hex_value(mac[2 * i]), lo = hex_value(mac[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out->mac[i] = (uint8_t)(hi * 16 + lo);
    }
    out->generation = (uint32_t)gen;
    out->issued_at = (int64_t)issued;
    return true;
}

enum form_token_verdict form_token_check(const struct form_token *t,
                                         const uint8_t key[FORM_TOKEN_KEY_BYTES],
                                         const char *form_id, int64_t now, int64_t min_ms,
                                         int64_t max_ms)
{
    if (t->generation < 1 || t->issued_at < 1 || t->issued_at > FORM_TOKEN_ISSUED_MAX)
        return FORM_TOKEN_MALFORMED;
    uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
    sign(key, t->generation, form_id, t->issued_at, mac);
    if (!crypto_equal(mac, t->mac, FORM_TOKEN_MAC_BYTES))
        return FORM_TOKEN_FORGED;
    /* a token from the future (a clock stepped back) counts as too fast */
    if (now - t->issued_at < min_ms)
        return FORM_TOKEN_TOO_FAST;
    if (now - t->issued_at > max_ms)
        return FORM_TOKEN_EXPIRED;
    return FORM_TOKEN_OK;
}
