/*
 * fuzz_form_pairs.c - libFuzzer target: a defined form's submission
 * (POST /v1/forms/{id}) through intake_parse_pairs, form-encoded or JSON
 * (the first byte chooses), then every pair's value through the checks the
 * handler runs (trim, email) - nothing may crash, leak or read past the body.
 */
#include "core/normalize.h"
#include "server/intake_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct arena a = ARENA_INIT;
    struct intake_pair *pairs;
    size_t n = 0;
    bool json = data[0] & 1;
    if (intake_parse_pairs((const char *)data + 1, size - 1, json, &a, &pairs, &n, NULL) == BT_OK) {
        if (n > INTAKE_PAIRS_MAX)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!pairs[i].name || !pairs[i].value || !pairs[i].name[0])
                abort();
            const char *v = normalize_trim(&a, pairs[i].value);
            const char *email, *domain;
            if (v)
                (void)!normalize_email(&a, v, &email, &domain, NULL);
        }
    }
    arena_release(&a);
    return 0;
}
