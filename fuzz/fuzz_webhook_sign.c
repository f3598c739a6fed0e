/*
 * fuzz_webhook_sign.c - libFuzzer target: a received webhook as three
 * header values and a body (the input split at its first three newlines),
 * verified with the spec's secret at the timestamp it names; and the whole
 * input as a webhook secret and as base64. A webhook that verifies must
 * carry, as one of its entries, exactly the signature webhook_sign makes
 * for it; base64 that decodes must encode back to the same text (the
 * decoder is canonical); a secret that parses must format to a text that
 * parses to the same key.
 */
#include "deliver/webhook_sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Splits off the text up to the next newline as a NUL-terminated copy. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *p);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* base64: canonical both ways */
    uint8_t *decoded = malloc(size / 4 * 3 + 1);
    size_t n = 0;
    if (!decoded)
        abort();
    bt_err rc = crypto_base64_decode((const char *)data, size, decoded, size / 4 * 3 + 1, &n, NULL);
    if (rc == BT_OK) {
        char *text = malloc(CRYPTO_BASE64_LEN(n) + 1);
        if (!text || crypto_base64_encode(decoded, n, text, CRYPTO_BASE64_LEN(n) + 1) != size ||
            memcmp(text, data, size) != 0)
            abort();
        free(text);
    } else if (rc != BT_EPARSE && rc != BT_ETOOBIG) {
        abort();
    }
    free(decoded);

    /* the input as a secret */
    struct webhook_secret parsed, back;
    if (webhook_secret_parse((const char *)data, size, &parsed, NULL) == BT_OK) {
        char text[WEBHOOK_SECRET_TEXT_MAX + 1];
        webhook_secret_format(&parsed, text);
        if (webhook_secret_parse(text, strlen(text), &back, NULL) != BT_OK ||
            back.len != parsed.len || memcmp(back.key, parsed.key, parsed.len) != 0)
            abort();
    }

    /* the input as a webhook */
    struct webhook_secret secret;
    if (webhook_secret_parse(SPEC_SECRET, strlen(SPEC_SECRET), &secret, NULL) != BT_OK)
        abort();
    const uint8_t *p = data, *end = data + size;
    char *id = take_line(&p, end);
    char *ts = take_line(&p, end);
    char *sig = take_line(&p, end);
    int64_t now = 1614265330;
    if (ts[0] >= '1' && ts[0] <= '9' && strlen(ts) <= 15 && strspn(ts, "0123456789") == strlen(ts))
        now = strtoll(ts, NULL, 10);
    enum webhook_reject why;
    rc = webhook_verify(id, ts, sig, p, (size_t)(end - p), &secret, 1, now, WEBHOOK_TOLERANCE_S,
                        &why, NULL);
    if ((rc == BT_OK) != (why == WEBHOOK_ACCEPTED) || (rc != BT_OK && rc != BT_EAUTH))
        abort();
    if (rc == BT_OK) {
        char expected[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
        if (webhook_sign(id, now, p, (size_t)(end - p), &secret, 1, expected, sizeof(expected),
                         NULL) != BT_OK)
            abort();
        /* expected must be one whole space-separated entry of sig */
        size_t len = strlen(expected);
        const char *hit = sig;
        int found = 0;
        while ((hit = strstr(hit, expected)) != NULL) {
            if ((hit == sig || hit[-1] == ' ') && (hit[len] == '\0' || hit[len] == ' '))
                found = 1;
            hit++;
        }
        if (!found)
            abort();
    }
    free(id);
    free(ts);
    free(sig);
    return 0;
}
