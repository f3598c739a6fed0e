/*
 * fuzz_config.c - libFuzzer target for the YAML config loader.
 *
 * Any bytes must give either a snapshot or BT_ECONFIG with a positioned
 * message: never a crash, a leak, or output on stderr. A loaded snapshot is
 * read back through config_find_rep so that its index is exercised too.
 */
#include "config/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &err);
    if (rc != BT_OK) {
        /* Every failure names the input and a position. */
        if (rc != BT_ECONFIG || cfg != NULL || strncmp(err.message, "fuzz.yaml:", 10) != 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < cfg->n_reps; i++)
        if (config_find_rep(cfg, cfg->reps[i].id) != &cfg->reps[i])
            abort();
    config_unref(config_ref(cfg));
    config_unref(cfg);
    return 0;
}
