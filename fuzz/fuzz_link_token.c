/*
 * fuzz_link_token.c - libFuzzer target: action link tokens as they come
 * from a URL. Whatever parses must sign back to the same payload text (the
 * encoding is canonical), verify only when the input is exactly that signed
 * text, and never be called expired unless genuine; the CSRF check refuses
 * everything but the one value.
 */
#include "core/link_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[32] = "fuzz-secret-fuzz-secret-fuzz-sec";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct link_token t, v;
    bt_err parsed = link_token_parse(text, size, &t, NULL);
    bt_err verified = link_token_verify(text, size, secret, sizeof(secret), 0, &v, NULL);
    if (parsed != BT_OK && parsed != BT_EAUTH)
        abort();
    if (parsed != BT_OK) {
        if (verified != BT_EAUTH || v.assignment_id != 0)
            abort(); /* what does not parse never verifies */
    } else {
        if (t.assignment_id < 1 || t.expires_at < 1 || t.expires_at > LINK_TOKEN_EXPIRES_MAX ||
            strlen(t.rep_id) < 1 || strlen(t.rep_id) > LINK_TOKEN_REP_MAX ||
            t.action < LINK_ACTION_DECIDE || t.action > LINK_ACTION_REJECT)
            abort(); /* parse let a field out of its range */
        char again[LINK_TOKEN_TEXT_MAX + 1];
        if (link_token_sign(&t, secret, sizeof(secret), again, sizeof(again), NULL) != BT_OK)
            abort(); /* what parses must be signable */
        const char *dot = memchr(text, '.', size);
        if (!dot)
            abort();
        size_t payload_len = (size_t)(dot - text);
        if (strlen(again) > LINK_TOKEN_TEXT_MAX || strncmp(again, text, payload_len) != 0 ||
            again[payload_len] != '.')
            abort(); /* one token, one text */
        bool same = strlen(again) == size && memcmp(again, text, size) == 0;
        /* now = 0 is before every expiry: the only answers are yes and no */
        if ((verified == BT_OK) != same || (verified != BT_OK && verified != BT_EAUTH))
            abort();
        struct link_token back;
        if (link_token_verify(again, strlen(again), secret, sizeof(secret), 0, &back, NULL) !=
                BT_OK ||
            back.generation != t.generation || back.assignment_id != t.assignment_id ||
            back.action != t.action || back.expires_at != t.expires_at ||
            strcmp(back.rep_id, t.rep_id) != 0)
            abort(); /* the round trip keeps every field */
        if (link_token_verify(again, strlen(again), secret, sizeof(secret), t.expires_at, NULL,
                              NULL) != BT_EEXPIRED)
            abort();
    }
    /* the input as a form's CSRF value for a fixed token */
    static const char token[] = "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAA";
    char csrf[LINK_CSRF_LEN + 1];
    link_token_csrf(token, sizeof(token) - 1, secret, sizeof(secret), csrf);
    bool is_it = size == LINK_CSRF_LEN && memcmp(csrf, data, size) == 0;
    if ((link_token_csrf_check(token, sizeof(token) - 1, secret, sizeof(secret), text, size,
                               NULL) == BT_OK) != is_it)
        abort();
    enum link_action a;
    (void)link_action_parse(text, size, &a);
    return 0;
}
