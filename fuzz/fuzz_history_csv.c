/*
 * fuzz_history_csv.c - libFuzzer target: history from CSV (core/history_csv)
 * and the mapping file (config/import_map). An input "MAP\n%%\nCSV" is a map
 * and a file read with it; any other input is a file read with the default
 * lead and activity mappings. Checks what the headers promise: a map error
 * names the file; rows come in order of line and offset; an invalid row's
 * message starts with "line N: "; a valid lead has a key (email, phone or
 * external id), a stage, custom fields that are a JSON object, an outcome
 * and qualification not before it was created; a valid activity names its
 * lead and has a type and properties.
 */
#include "config/import_map.h"
#include "core/history_csv.h"
#include "util/text.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    const struct history_map *map;
    size_t last_line, last_offset, size;
};

static void check_object(const char *text)
{
    json_error_t jerr;
    json_t *v = text ? json_loads(text, 0, &jerr) : NULL;
    if (!json_is_object(v))
        abort();
    json_decref(v);
}

static bt_err on_row(void *cls, const struct history_row *row, struct bt_error *err)
{
    struct state *st = cls;
    (void)err;
    if (row->line < st->last_line || row->offset < st->last_offset || row->offset > st->size ||
        row->line < 2 || row->number < 1)
        abort();
    st->last_line = row->line;
    st->last_offset = row->offset;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "line %zu: ", row->line);
    if (row->rc) {
        if (strncmp(row->err.message, prefix, strlen(prefix)) != 0)
            abort();
        return BT_OK;
    }
    if (row->skipped)
        return BT_OK;
    if (st->map->kind == HISTORY_ACTIVITIES) {
        const struct history_activity *a = &row->activity;
        if ((!a->lead_external_id && !a->lead_email) || !a->type)
            abort();
        check_object(a->properties_json);
        return BT_OK;
    }
    const struct history_lead *h = &row->lead;
    const struct lead *l = &h->lead;
    if (!l->attr[LEAD_EMAIL] && !l->attr[LEAD_PHONE] && !l->attr[LEAD_EXTERNAL_ID])
        abort();
    if (!l->attr[LEAD_STAGE] || h->qualified_at < l->created_at ||
        (h->outcome_stage && h->outcome_at < h->qualified_at))
        abort();
    for (int i = 0; i < LEAD_ATTR_COUNT; i++)
        if (l->attr[i] && !utf8_valid(l->attr[i], strlen(l->attr[i])))
            abort();
    check_object(l->fields_json);
    return BT_OK;
}

static void run(const struct history_map *map, const char *csv, size_t len)
{
    struct state st = {.map = map, .size = len};
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = history_csv_parse(map, NULL, csv, len, on_row, &st, &err);
    if (rc && strncmp(err.message, "line ", 5) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = size >= 4 ? memmem(text, size, "\n%%\n", 4) : NULL;
    if (sep) {
        struct arena a = {0};
        struct history_map map;
        struct bt_error err = BT_ERROR_INIT;
        size_t map_len = (size_t)(sep - text);
        for (int kind = HISTORY_LEADS; kind <= HISTORY_ACTIVITIES; kind++) {
            bt_err rc =
                import_map_parse("m.yaml", text, map_len, (enum history_kind)kind, &a, &map, &err);
            if (rc && strncmp(err.message, "m.yaml:", 7) != 0)
                abort();
            if (!rc)
                run(&map, sep + 4, size - map_len - 4);
            arena_release(&a);
        }
        return 0;
    }
    struct history_map map;
    history_map_init(&map, HISTORY_LEADS);
    run(&map, text, size);
    history_map_init(&map, HISTORY_ACTIVITIES);
    run(&map, text, size);
    return 0;
}
