/*
 * fuzz_form_token.c - libFuzzer target: the fill-time token as a page sends
 * it back. Whatever parses must be written back by form_token_make() as the
 * very same text when it verifies, and a token that does not come from the
 * key never verifies.
 */
#include "core/form_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t key[FORM_TOKEN_KEY_BYTES];
    static int ready;
    if (!ready) {
        form_token_key((const uint8_t *)"fuzz-secret", 11, key);
        ready = 1;
    }
    const char *text = (const char *)data;
    struct form_token t;
    if (!form_token_parse(text, size, &t))
        return 0;
    if (t.generation < 1 || t.issued_at < 1 || t.issued_at > FORM_TOKEN_ISSUED_MAX)
        abort(); /* the parser let a field out of its range */
    enum form_token_verdict v = form_token_check(&t, key, "demo", t.issued_at + 5000, 3000, 60000);
    char again[FORM_TOKEN_TEXT_MAX + 1];
    size_t len = form_token_make(key, t.generation, "demo", t.issued_at, again);
    bool same = len == size && memcmp(again, text, size) == 0;
    if ((v == FORM_TOKEN_OK) != same)
        abort(); /* verifies exactly when it is the signed text */
    if (v != FORM_TOKEN_OK && v != FORM_TOKEN_FORGED)
        abort(); /* at a good age, only the signature can fail */
    return 0;
}
