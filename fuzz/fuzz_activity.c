/*
 * fuzz_activity.c - libFuzzer target: activity bodies (one activity or a
 * batch, by lead id or by email) through the parser the API uses.
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
    struct activity_item *items;
    size_t n;
    const int64_t now = 1795253400000LL;
    bool by_email = size > 0 && (data[0] & 1);
    (void)!intake_parse_activities((const char *)data, size, by_email, now, freemail, &a, &items,
                                   &n, NULL);
    arena_release(&a);
    return 0;
}
