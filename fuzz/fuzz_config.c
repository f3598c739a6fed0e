/*
 * fuzz_config.c - libFuzzer target for the YAML config loader.
 *
 * Any bytes must give either a snapshot or BT_ECONFIG with a positioned
 * message: never a crash, a leak, or output on stderr. A loaded snapshot is
 * read back through config_find_rep so that its index is exercised too, and
 * compared (config_diff) with itself, which must show no change, and with
 * an empty configuration both ways, whose line and JSON must be whole.
 */
#include "config/config.h"
#include "config/config_diff.h"

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
    struct config_diff d;
    config_diff_compute(cfg, cfg, NULL, &d);
    if (!config_diff_empty(&d))
        abort();
    config_diff_release(&d);
    struct config *empty = NULL;
    if (config_load_string("empty.yaml", "version: 1\n", 11, &empty, &err) != BT_OK)
        abort();
    for (int way = 0; way < 2; way++) {
        config_diff_compute(way ? cfg : empty, way ? empty : cfg, NULL, &d);
        char line[CONFIG_DIFF_LINE_MAX];
        config_diff_line(&d, line);
        json_t *j = config_diff_json(&d);
        /* jansson refuses a string that is not UTF-8: the line must be whole */
        if (!j || !json_is_string(json_object_get(j, "text")))
            abort();
        json_decref(j);
        config_diff_release(&d);
    }
    config_unref(empty);
    config_unref(config_ref(cfg));
    config_unref(cfg);
    return 0;
}
