/*
 * fuzz_lead_json.c - libFuzzer target: a POST /v1/leads JSON body through the
 * parser and normalisation, exactly as the server runs them.
 */
#include "core/normalize.h"
#include "server/intake_parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct freemail_set *freemail;
    if (!freemail)
        freemail = freemail_set_new(NULL, 0, NULL, 0);
    struct arena a = ARENA_INIT;
    struct lead_input in;
    struct lead lead;
    struct normalize_report report;
    if (intake_parse_json((const char *)data, size, &a, &in, NULL) == BT_OK)
        (void)!normalize_lead(&in, freemail, &a, &lead, &report, NULL);
    arena_release(&a);
    return 0;
}
