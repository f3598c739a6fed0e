/*
 * fuzz_account_csv.c - libFuzzer target: the input as a CSV file of accounts
 * through account_csv_parse. Checks what the header promises: rows come in
 * order of line and offset; a valid row has an id, a name, domain or
 * website, at most ACCOUNT_DOMAINS_MAX domains, valid UTF-8 without line
 * breaks in its attributes, custom fields that are a JSON object; an invalid
 * row has a message starting with "line N: "; and every valid row builds an
 * account index (what the engine does with them).
 */
#include "core/account_csv.h"
#include "util/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    size_t last_line, last_offset, size;
    size_t rows;
};

static void check_text(const char *s, size_t max)
{
    if (!s)
        return;
    size_t len = strlen(s);
    if (len == 0 || len > max || !utf8_valid(s, len) || strchr(s, '\n') || strchr(s, '\r'))
        abort();
}

static bt_err on_row(void *cls, const struct account_csv_row *row, struct bt_error *err)
{
    struct state *st = cls;
    (void)err;
    if (row->line < st->last_line || row->offset < st->last_offset || row->offset > st->size ||
        row->line < 2)
        abort();
    st->last_line = row->line;
    st->last_offset = row->offset;
    st->rows++;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "line %zu: ", row->line);
    if (row->rc) {
        if (strncmp(row->err.message, prefix, strlen(prefix)) != 0)
            abort();
        return BT_OK;
    }
    const struct account *a = &row->account;
    check_text(a->id, ACCOUNT_ID_MAX);
    check_text(a->name, ACCOUNT_NAME_MAX);
    check_text(a->website, 4096);
    check_text(a->owner, ACCOUNT_OWNER_MAX);
    if (!a->id || (!a->name && !a->n_domains && !a->website) ||
        a->n_domains > ACCOUNT_DOMAINS_MAX || (a->country && strlen(a->country) != 2))
        abort();
    for (size_t i = 0; i < a->n_domains; i++)
        check_text(a->domains[i], 253);
    json_error_t jerr;
    json_t *fields = json_loads(row->fields_json, 0, &jerr);
    if (!json_is_object(fields))
        abort();
    json_decref(fields);
    struct account_index *ix = NULL;
    if (account_index_new(a, 1, NULL, &ix, NULL) != BT_OK)
        abort();
    account_index_free(ix);
    return BT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = {.size = size};
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = account_csv_parse((const char *)data, size, on_row, &st, &err);
    if (rc && strncmp(err.message, "line ", 5) != 0)
        abort();
    return 0;
}
