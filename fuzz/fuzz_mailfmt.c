/*
 * fuzz_mailfmt.c - libFuzzer target: the input (after a first byte that
 * picks the column the value starts at) as header text and as a display
 * name. Whatever is accepted must be one header value: no CR or LF except
 * in the folds written between encoded-words, encoded-words of at most 75
 * characters on lines of at most 76, each decoding to whole UTF-8
 * characters, all of them together decoding back to the input; text that
 * is written as it is must be the input itself.
 */
#include "core/mailfmt.h"
#include "util/crypto.h"
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks value (encoded-words and folds only, up to stop) against the
 * input text[0..len). */
static void check_words(const char *value, const char *stop, size_t used, const char *text,
                        size_t len)
{
    char *back = malloc(len + 1);
    size_t n = 0, line = used;
    const char *p = value;
    if (!back)
        abort();
    while (p < stop) {
        if (strncmp(p, "\r\n ", 3) == 0) {
            p += 3;
            line = 1;
            continue;
        }
        if (strncmp(p, "=?UTF-8?B?", 10) != 0)
            abort();
        const char *close = strstr(p + 10, "?=");
        if (!close || close + 2 > stop)
            abort();
        size_t word = (size_t)(close + 2 - p);
        line += word;
        if (word > MAILFMT_WORD_MAX || line > MAILFMT_LINE_MAX)
            abort();
        uint8_t bytes[64];
        size_t got = 0;
        if (crypto_base64_decode(p + 10, (size_t)(close - p - 10), bytes, sizeof(bytes), &got,
                                 NULL) != BT_OK ||
            got == 0 || !utf8_valid((const char *)bytes, got) || n + got > len)
            abort();
        memcpy(back + n, bytes, got);
        n += got;
        p = close + 2;
    }
    if (n != len || memcmp(back, text, len) != 0)
        abort();
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t used = data[0] % 90;
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t len = strlen(text);

    struct arena a = ARENA_INIT;
    const char *out = NULL;
    bt_err rc = mailfmt_header_text(&a, text, used, &out, NULL);
    if (rc == BT_OK) {
        if (strcmp(out, text) != 0)
            check_words(out, out + strlen(out), used, text, len);
        else if (strchr(out, '\r') || strchr(out, '\n'))
            abort();
    } else if (out || (rc != BT_EINVAL && rc != BT_ETOOBIG)) {
        abort();
    }

    rc = mailfmt_address(&a, text, "jane@example.com", used, &out, NULL);
    if (rc == BT_OK) {
        size_t olen = strlen(out);
        const char *addr = " <jane@example.com>";
        const char *tail = olen >= 18 ? out + olen - 18 : NULL;
        if (len == 0) {
            if (strcmp(out, "jane@example.com") != 0)
                abort();
        } else if (!tail || strcmp(tail, addr + 1) != 0) {
            abort();
        } else if (strncmp(out, "=?UTF-8?B?", 10) == 0 || strncmp(out, "\r\n ", 3) == 0) {
            /* encoded: the words, then a space or a fold, then the address */
            const char *stop = tail;
            if (stop - out >= 3 && strncmp(stop - 3, "\r\n ", 3) == 0)
                stop -= 3;
            else if (stop > out && stop[-1] == ' ')
                stop -= 1;
            else
                abort();
            check_words(out, stop, used, text, len);
        } else if (strchr(out, '\r') || strchr(out, '\n')) {
            abort();
        }
    }
    arena_release(&a);
    free(text);
    return 0;
}
