/*
 * account_csv.c - the checks an account passes on its way in, and the CSV
 * reader of `baton import accounts`. The rules are in account_csv.h.
 *
 * libcsv does the quoting; this file does the rest. libcsv knows nothing of
 * lines, so the input is fed to it one line at a time (at most SEGMENT_MAX
 * bytes at once): a row then starts on the line of the first segment fed
 * while the parser was between rows, and a parse error lies on the line of
 * the segment that failed. Cells of the current row are copied into one
 * growing buffer; a row's normalised strings live in an arena released
 * before the next row, so memory stays flat however long the file is, except
 * for the set of ids already seen.
 */
#include "core/account_csv.h"
#include "core/normalize.h"
#include "util/hash.h"
#include "util/text.h"

#include <csv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEGMENT_MAX   65536
#define ROW_NOT_BEGUN 0 /* libcsv's pstate between rows */

/* ------------------------------------------------------------------------ */
/* Checks of one account                                                     */

static bt_err too_large(struct bt_error *err, const char *field)
{
    return bt_fail(err, BT_ETOOBIG, field, "%s: the input is too large to process", field);
}

/* Control characters are refused everywhere; line breaks and tabs in single
 * line attributes too. */
static bool single_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            return false;
    return true;
}

/* Trims `raw` into *out (NULL when empty), refusing what cannot be a
 * one-line attribute of at most `max` bytes. */
static bt_err take_text(struct arena *a, const char *field, const char *raw, size_t max,
                        const char **out, struct bt_error *err)
{
    *out = NULL;
    if (!raw)
        return BT_OK;
    if (!utf8_valid(raw, strlen(raw)))
        return bt_fail(err, BT_EINVAL, field, "%s: invalid UTF-8", field);
    const char *s = normalize_trim(a, raw);
    if (!s) /* empty once trimmed, or the arena is full */
        return arena_alloc(a, 1) ? BT_OK : too_large(err, field);
    if (!single_line(s))
        return bt_fail(err, BT_EINVAL, field, "%s: contains a line break or a control character",
                       field);
    if (strlen(s) > max)
        return bt_fail(err, BT_EINVAL, field, "%s: longer than %zu bytes", field, max);
    *out = s;
    return BT_OK;
}

static bool id_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && c && strchr("._-:@+", c);
}

static bool rep_id_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return !first && c && strchr("_.-", c);
}

static bool all_chars(const char *s, bool (*ok)(char, bool))
{
    for (size_t i = 0; s[i]; i++)
        if (!ok(s[i], i == 0))
            return false;
    return true;
}

/* Normalises one domain or URL (the lead's website rules) and refuses what
 * cannot be a company's own domain. */
static bt_err take_domain(struct arena *a, const char *field, const char *raw, const char **out,
                          struct bt_error *err)
{
    struct bt_error inner = BT_ERROR_INIT;
    bt_err rc = normalize_website_domain(a, raw, out, &inner);
    if (rc == BT_ETOOBIG)
        return too_large(err, field);
    if (rc) {
        const char *why = inner.message;
        if (!strncmp(why, "not a valid website: ", 21))
            why += 21;
        return bt_fail(err, BT_EINVAL, field, "%s: '%.100s' is not a domain name: %s", field, raw,
                       why);
    }
    if (!account_registrable_domain(*out))
        return bt_fail(err, BT_EINVAL, field,
                       "%s: '%.100s' is a public suffix (like co.uk or github.io), not a "
                       "company's domain",
                       field, *out);
    return BT_OK;
}

static bt_err take_domains(struct arena *a, const struct account_input *in, struct account *out,
                           struct bt_error *err)
{
    if (in->n_domains == 0)
        return BT_OK;
    const char **list = arena_alloc(a, sizeof(*list) * (ACCOUNT_DOMAINS_MAX + 1));
    if (!list)
        return too_large(err, "domains");
    size_t n = 0;
    for (size_t i = 0; i < in->n_domains; i++) {
        const char *raw;
        bt_err rc = take_text(a, "domains", in->domains[i], 2048, &raw, err);
        if (rc)
            return rc;
        if (!raw)
            continue;
        const char *d;
        if ((rc = take_domain(a, "domains", raw, &d, err)))
            return rc;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = !strcmp(list[k], d);
        if (seen)
            continue;
        if (n == ACCOUNT_DOMAINS_MAX)
            return bt_fail(err, BT_EINVAL, "domains", "domains: more than %d domains",
                           ACCOUNT_DOMAINS_MAX);
        list[n++] = d;
    }
    out->domains = list;
    out->n_domains = n;
    return BT_OK;
}

/* Custom field values: scalars only, so that rules can compare them. */
static bt_err take_fields(struct arena *a, json_t *fields, const char **out, struct bt_error *err)
{
    *out = "{}";
    if (!fields)
        return BT_OK;
    if (!json_is_object(fields))
        return bt_fail(err, BT_EINVAL, "fields", "fields: must be an object");
    if (json_object_size(fields) > ACCOUNT_FIELDS_MAX_KEYS)
        return bt_fail(err, BT_EINVAL, "fields", "fields: at most %d custom fields are allowed",
                       ACCOUNT_FIELDS_MAX_KEYS);
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v)
    {
        size_t klen = strlen(key);
        if (klen == 0 || klen > ACCOUNT_FIELD_KEY_MAX || !single_line(key))
            return bt_fail(err, BT_EINVAL, "fields",
                           "fields: custom field names must be 1 to %d printable characters",
                           ACCOUNT_FIELD_KEY_MAX);
        if (json_is_object(v) || json_is_array(v))
            return bt_fail(err, BT_EINVAL, "fields",
                           "fields: custom field '%.64s' must be a string, number, boolean or null",
                           key);
        if (json_is_string(v) && (text_has_control(json_string_value(v)) ||
                                  strlen(json_string_value(v)) != json_string_length(v)))
            return bt_fail(err, BT_EINVAL, "fields",
                           "fields: custom field '%.64s' contains control characters", key);
    }
    if (json_object_size(fields) == 0)
        return BT_OK;
    char *s = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        return bt_fail(err, BT_EINVAL, "fields", "fields: cannot be encoded as JSON");
    bt_err rc = BT_OK;
    if (strlen(s) > ACCOUNT_FIELDS_MAX_BYTES)
        rc = bt_fail(err, BT_EINVAL, "fields", "fields: more than %d bytes once encoded",
                     ACCOUNT_FIELDS_MAX_BYTES);
    else if (!(*out = arena_strdup(a, s)))
        rc = too_large(err, "fields");
    free(s);
    return rc;
}

/* The derived id (account_csv.h, under account_input_normalize). */
static void default_id(const char *domain, const char *name, char buf[ACCOUNT_ID_MAX + 1])
{
    if (domain) {
        size_t len = strlen(domain);
        if (len <= ACCOUNT_ID_MAX)
            memcpy(buf, domain, len + 1);
        else
            snprintf(buf, ACCOUNT_ID_MAX + 1, "domain-%016llx",
                     (unsigned long long)hash_fnv1a(domain, len));
        return;
    }
    char key[ACCOUNT_NAME_MAX + 1];
    size_t klen = 0;
    if (account_name_normalize(name, strlen(name), key, &klen, NULL) != BT_OK || klen == 0) {
        klen = strlen(name);
        if (klen > ACCOUNT_NAME_MAX)
            klen = ACCOUNT_NAME_MAX;
        memcpy(key, name, klen);
    }
    snprintf(buf, ACCOUNT_ID_MAX + 1, "name-%016llx", (unsigned long long)hash_fnv1a(key, klen));
}

bt_err account_input_normalize(const struct account_input *in, struct arena *a, struct account *out,
                               const char **fields_json, struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    *fields_json = "{}";
    bt_err rc;
    const char *id, *website_domain = NULL;
    if ((rc = take_text(a, "id", in->id, ACCOUNT_ID_MAX, &id, err)))
        return rc;
    if (id && !all_chars(id, id_char))
        return bt_fail(err, BT_EINVAL, "id",
                       "id: '%.128s' is not a valid id: use letters, digits and . _ - : @ + "
                       "(starting with a letter or a digit)",
                       id);
    if ((rc = take_text(a, "name", in->name, ACCOUNT_NAME_MAX, &out->name, err)) ||
        (rc = take_domains(a, in, out, err)) ||
        (rc = take_text(a, "website", in->website, 2048, &out->website, err)))
        return rc;
    if (out->website && (rc = take_domain(a, "website", out->website, &website_domain, err)))
        return rc;
    const char *country;
    if ((rc = take_text(a, "country", in->country, 128, &country, err)))
        return rc;
    if (country && !(out->country = normalize_country(country)))
        return bt_fail(err, BT_EINVAL, "country", "country: unknown country '%.64s'", country);
    if ((rc = take_text(a, "owner", in->owner, ACCOUNT_OWNER_MAX, &out->owner, err)))
        return rc;
    if (out->owner && !all_chars(out->owner, rep_id_char))
        return bt_fail(err, BT_EINVAL, "owner",
                       "owner: '%.128s' is not a rep id (lower-case letters, digits and _ . -, "
                       "starting with a letter or a digit)",
                       out->owner);
    if ((rc = take_fields(a, in->fields, fields_json, err)))
        return rc;
    if (!out->name && !out->n_domains && !out->website)
        return bt_fail(err, BT_EINVAL, "name",
                       "name: an account needs a name, a domain or a website");
    if (!id) {
        char buf[ACCOUNT_ID_MAX + 1];
        default_id(out->n_domains ? out->domains[0] : website_domain, out->name, buf);
        if (!(id = arena_strdup(a, buf)))
            return too_large(err, "id");
    }
    out->id = id;
    return BT_OK;
}

/* ------------------------------------------------------------------------ */
/* The set of ids seen in the file                                           */

struct id_entry {
    uint64_t hash;
    const char *id; /* NULL: empty slot */
    size_t line;
};

struct id_set {
    struct id_entry *slots;
    size_t cap, count;
    struct arena strings;
};

/* Returns the line of the earlier row with this id, or 0 after adding it. */
static size_t id_set_add(struct id_set *s, const char *id, size_t line, bool *full)
{
    if ((s->count + 1) * 4 > s->cap * 3) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct id_entry *slots = xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i].id)
                continue;
            size_t k = s->slots[i].hash & (cap - 1);
            while (slots[k].id)
                k = (k + 1) & (cap - 1);
            slots[k] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t len = strlen(id);
    uint64_t h = hash_fnv1a(id, len);
    size_t k = h & (s->cap - 1);
    for (; s->slots[k].id; k = (k + 1) & (s->cap - 1))
        if (s->slots[k].hash == h && !strcmp(s->slots[k].id, id))
            return s->slots[k].line;
    const char *copy = arena_strndup(&s->strings, id, len);
    if (!copy) {
        *full = true;
        return 0;
    }
    s->slots[k] = (struct id_entry){h, copy, line};
    s->count++;
    return 0;
}

static void id_set_release(struct id_set *s)
{
    free(s->slots);
    arena_release(&s->strings);
}

/* ------------------------------------------------------------------------ */
/* The CSV reader                                                            */

enum column_kind {
    COL_IGNORED, /* no name in the header */
    COL_ID,
    COL_NAME,
    COL_DOMAINS,
    COL_WEBSITE,
    COL_COUNTRY,
    COL_OWNER,
    COL_FIELD,
};

static const struct {
    const char *name;
    enum column_kind kind;
} known_columns[] = {
    {"id", COL_ID},          {"name", COL_NAME},       {"domains", COL_DOMAINS},
    {"domain", COL_DOMAINS}, {"website", COL_WEBSITE}, {"country", COL_COUNTRY},
    {"owner", COL_OWNER},
};

struct cell {
    size_t off, len;
};

struct reader {
    struct csv_parser csv;
    account_csv_row_fn fn;
    void *cls;

    /* the header */
    bool have_header;
    size_t n_columns;
    enum column_kind kinds[ACCOUNT_CSV_COLUMNS_MAX];
    char *names[ACCOUNT_CSV_COLUMNS_MAX]; /* trimmed, as written; in `header` */
    struct arena header;

    /* the row being read: cells back to back in buf, each NUL-terminated */
    char *buf;
    size_t buf_len, buf_cap;
    struct cell cells[ACCOUNT_CSV_COLUMNS_MAX + 1];
    size_t n_cells; /* cells seen, stored or not */

    size_t line;     /* of the segment being fed */
    size_t row_line; /* where the current row began */
    size_t offset;   /* bytes fed so far */

    struct arena row_arena;
    struct id_set ids;

    bt_err stop; /* set once: a fatal error or the callback's return */
    struct bt_error *err;
};

static void halt(struct reader *r, bt_err rc)
{
    if (!r->stop)
        r->stop = rc;
}

static void on_cell(void *s, size_t len, void *data)
{
    struct reader *r = data;
    if (r->stop)
        return;
    if (len > ACCOUNT_CSV_CELL_MAX) {
        halt(r, bt_fail(r->err, BT_EINVAL, NULL,
                        "line %zu: a cell is longer than %d bytes (is a quote left open?)",
                        r->row_line, ACCOUNT_CSV_CELL_MAX));
        return;
    }
    size_t i = r->n_cells++;
    if (i > ACCOUNT_CSV_COLUMNS_MAX)
        return; /* counted, not kept: the row is refused anyway */
    if (r->buf_len + len + 1 > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : 4096;
        while (cap < r->buf_len + len + 1)
            cap *= 2;
        r->buf = xrealloc(r->buf, cap);
        r->buf_cap = cap;
    }
    if (len)
        memcpy(r->buf + r->buf_len, s, len);
    r->cells[i] = (struct cell){r->buf_len, len};
    r->buf_len += len;
    r->buf[r->buf_len++] = '\0';
}

static const char *cell_text(const struct reader *r, size_t i)
{
    return i < r->n_cells ? r->buf + r->cells[i].off : "";
}

static bool cell_blank(const struct reader *r, size_t i)
{
    if (i >= r->n_cells || i > ACCOUNT_CSV_COLUMNS_MAX)
        return true;
    const char *s = cell_text(r, i);
    size_t len = r->cells[i].len;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == 0xC2 && k + 1 < len && (unsigned char)s[k + 1] == 0xA0) {
            k++;
            continue;
        }
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

static bool row_blank(const struct reader *r)
{
    for (size_t i = 0; i < r->n_cells; i++)
        if (!cell_blank(r, i))
            return false;
    return true;
}

/* Where the cell's text is not a usable string, or NULL. */
static const char *cell_problem(const struct reader *r, size_t i)
{
    const char *s = cell_text(r, i);
    size_t len = r->cells[i].len;
    if (memchr(s, '\0', len))
        return "contains a NUL byte";
    if (!utf8_valid(s, len))
        return "is not valid UTF-8 (save the file as UTF-8)";
    return NULL;
}

static bt_err read_header(struct reader *r)
{
    struct bt_error *err = r->err;
    size_t line = r->row_line;
    if (r->n_cells > ACCOUNT_CSV_COLUMNS_MAX)
        return bt_fail(err, BT_EINVAL, NULL, "line %zu: the header has more than %d columns", line,
                       ACCOUNT_CSV_COLUMNS_MAX);
    size_t n_fields = 0;
    bool have[COL_FIELD + 1] = {false};
    for (size_t i = 0; i < r->n_cells; i++) {
        const char *why = cell_problem(r, i);
        if (why)
            return bt_fail(err, BT_EINVAL, NULL, "line %zu: the header's column %zu %s", line,
                           i + 1, why);
        const char *name = normalize_trim(&r->header, cell_text(r, i));
        r->names[i] = name ? (char *)name : "";
        r->kinds[i] = COL_IGNORED;
        if (!name)
            continue;
        if (!single_line(name) || strlen(name) > ACCOUNT_FIELD_KEY_MAX)
            return bt_fail(err, BT_EINVAL, NULL,
                           "line %zu: column %zu: a column name must be 1 to %d printable "
                           "characters on one line",
                           line, i + 1, ACCOUNT_FIELD_KEY_MAX);
        for (size_t k = 0; k < i; k++)
            if (r->names[k][0] && !strcasecmp(r->names[k], name))
                return bt_fail(err, BT_EINVAL, name, "line %zu: column '%s' appears twice", line,
                               name);
        r->kinds[i] = COL_FIELD;
        for (size_t k = 0; k < sizeof(known_columns) / sizeof(known_columns[0]); k++)
            if (!strcasecmp(name, known_columns[k].name))
                r->kinds[i] = known_columns[k].kind;
        if (r->kinds[i] != COL_FIELD && have[r->kinds[i]])
            return bt_fail(err, BT_EINVAL, name,
                           "line %zu: column '%s' repeats another (domain and domains are one "
                           "column)",
                           line, name);
        have[r->kinds[i]] = true;
        if (r->kinds[i] == COL_FIELD && ++n_fields > ACCOUNT_FIELDS_MAX_KEYS)
            return bt_fail(err, BT_EINVAL, name,
                           "line %zu: more than %d custom-field columns (columns other than id, "
                           "name, domains, website, country and owner)",
                           line, ACCOUNT_FIELDS_MAX_KEYS);
    }
    if (!have[COL_NAME] && !have[COL_DOMAINS] && !have[COL_WEBSITE])
        return bt_fail(err, BT_EINVAL, NULL,
                       "line %zu: the header needs a name, domains or website column (the first "
                       "row is the header: id, name, domains, website, country, owner, and any "
                       "custom fields)",
                       line);
    r->n_columns = r->n_cells;
    r->have_header = true;
    return BT_OK;
}

/* Splits a domains cell at ';', ',' and white space, in the row arena. */
static bool split_domains(struct arena *a, const char *cell, const char ***out, size_t *n)
{
    size_t count = 0;
    for (const char *p = cell; *p;) {
        p += strspn(p, ";, \t\r\n");
        if (!*p)
            break;
        count++;
        p += strcspn(p, ";, \t\r\n");
    }
    *n = 0;
    *out = NULL;
    if (!count)
        return true;
    const char **list = arena_alloc(a, sizeof(*list) * count);
    if (!list)
        return false;
    for (const char *p = cell; *p;) {
        p += strspn(p, ";, \t\r\n");
        if (!*p)
            break;
        size_t len = strcspn(p, ";, \t\r\n");
        if (!(list[(*n)++] = arena_strndup(a, p, len)))
            return false;
        p += len;
    }
    *out = list;
    return true;
}

/* The header's name for the column of `kind`, for error fields. */
static const char *column_name(const struct reader *r, enum column_kind kind)
{
    for (size_t i = 0; i < r->n_columns; i++)
        if (r->kinds[i] == kind)
            return r->names[i];
    return "";
}

static bt_err row_fail(struct reader *r, struct account_csv_row *row, bt_err code,
                       const char *field, const char *fmt, ...) BT_PRINTF(5, 6);

static bt_err row_fail(struct reader *r, struct account_csv_row *row, bt_err code,
                       const char *field, const char *fmt, ...)
{
    char msg[BT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)r;
    row->rc = bt_fail(&row->err, code, field, "line %zu: %s", row->line, msg);
    return row->rc;
}

/* Checks one data row; fills row (rc and err when it is invalid). */
static void check_row(struct reader *r, struct account_csv_row *row, json_t *fields)
{
    if (r->n_cells > r->n_columns) {
        row_fail(r, row, BT_EINVAL, NULL, "the row has %zu cells but the header only %zu columns",
                 r->n_cells, r->n_columns);
        return;
    }
    struct account_input in = {.fields = fields};
    for (size_t i = 0; i < r->n_cells; i++) {
        const char *why = cell_problem(r, i);
        if (why) {
            row_fail(r, row, BT_EINVAL, r->names[i], "column %zu ('%s') %s", i + 1, r->names[i],
                     why);
            return;
        }
        const char *text = cell_text(r, i);
        switch (r->kinds[i]) {
        case COL_IGNORED:
            if (!cell_blank(r, i)) {
                row_fail(r, row, BT_EINVAL, NULL,
                         "column %zu has a value but no name in the header", i + 1);
                return;
            }
            break;
        case COL_ID:
            in.id = text;
            break;
        case COL_NAME:
            in.name = text;
            break;
        case COL_DOMAINS: {
            const char **list;
            if (!split_domains(&r->row_arena, text, &list, &in.n_domains)) {
                row_fail(r, row, BT_ETOOBIG, r->names[i], "the row is too large to process");
                return;
            }
            in.domains = list;
            break;
        }
        case COL_WEBSITE:
            in.website = text;
            break;
        case COL_COUNTRY:
            in.country = text;
            break;
        case COL_OWNER:
            in.owner = text;
            break;
        case COL_FIELD: {
            const char *v = normalize_trim(&r->row_arena, text);
            if (v)
                json_object_set_new(fields, r->names[i], json_string(v));
            break;
        }
        }
    }
    row->id_derived = !in.id || !normalize_trim(&r->row_arena, in.id);
    struct bt_error inner = BT_ERROR_INIT;
    bt_err rc =
        account_input_normalize(&in, &r->row_arena, &row->account, &row->fields_json, &inner);
    if (rc) {
        static const struct {
            const char *field;
            enum column_kind kind;
        } map[] = {{"id", COL_ID},           {"name", COL_NAME},       {"domains", COL_DOMAINS},
                   {"website", COL_WEBSITE}, {"country", COL_COUNTRY}, {"owner", COL_OWNER}};
        const char *field = inner.field;
        for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
            if (!strcmp(inner.field, map[k].field) && column_name(r, map[k].kind)[0])
                field = column_name(r, map[k].kind);
        row_fail(r, row, rc, field, "%s", inner.message);
        return;
    }
    bool full = false;
    size_t first = id_set_add(&r->ids, row->account.id, row->line, &full);
    if (full)
        row_fail(r, row, BT_ETOOBIG, NULL, "too many rows to check for repeated ids");
    else if (first)
        row_fail(r, row, BT_EINVAL, column_name(r, COL_ID)[0] ? column_name(r, COL_ID) : "id",
                 "id '%s' is already used by line %zu%s", row->account.id, first,
                 row->id_derived ? " (ids are derived from the first domain or the name when the "
                                   "id column is empty)"
                                 : "");
}

static void on_row(int terminator, void *data)
{
    struct reader *r = data;
    (void)terminator;
    if (r->stop)
        goto reset;
    if (row_blank(r))
        goto reset;
    if (!r->have_header) {
        bt_err rc = read_header(r);
        if (rc)
            halt(r, rc);
        goto reset;
    }
    arena_release(&r->row_arena);
    struct account_csv_row row = {.line = r->row_line, .offset = r->offset, .rc = BT_OK};
    row.err = (struct bt_error)BT_ERROR_INIT;
    json_t *fields = json_object();
    check_row(r, &row, fields);
    if (row.rc)
        memset(&row.account, 0, sizeof(row.account));
    bt_err rc = r->fn(r->cls, &row, r->err);
    json_decref(fields);
    if (rc)
        halt(r, rc);
reset:
    r->n_cells = 0;
    r->buf_len = 0;
}

/* The end of the segment that starts at data[pos]: just past the next line
 * break (LF, CRLF or a lone CR), or SEGMENT_MAX bytes on. */
static size_t segment_end(const char *data, size_t len, size_t pos, bool *ends_line)
{
    size_t limit = len - pos > SEGMENT_MAX ? pos + SEGMENT_MAX : len;
    for (size_t i = pos; i < limit; i++) {
        if (data[i] == '\n') {
            *ends_line = true;
            return i + 1;
        }
        if (data[i] == '\r') {
            if (i + 1 < len && data[i + 1] == '\n')
                continue;
            *ends_line = true;
            return i + 1;
        }
    }
    *ends_line = false;
    return limit;
}

bt_err account_csv_parse(const char *data, size_t len, account_csv_row_fn fn, void *cls,
                         struct bt_error *err)
{
    struct reader *r = xcalloc(1, sizeof(*r));
    r->fn = fn;
    r->cls = cls;
    r->err = err;
    r->line = 1;
    r->row_line = 1;
    r->ids.strings.limit = (size_t)1 << 34;
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(r);
        return bt_fail(err, BT_ETOOBIG, NULL, "cannot start the CSV parser");
    }
    size_t pos = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        pos = 3;
    while (pos < len && !r->stop) {
        bool ends_line;
        size_t end = segment_end(data, len, pos, &ends_line);
        /* libcsv's state is public; between rows, the next row starts here. */
        if (r->csv.pstate == ROW_NOT_BEGUN)
            r->row_line = r->line;
        r->offset = end;
        size_t n = end - pos;
        if (csv_parse(&r->csv, data + pos, n, on_cell, on_row, r) != n && !r->stop) {
            int e = csv_error(&r->csv);
            halt(r, e == CSV_EPARSE
                        ? bt_fail(err, BT_EINVAL, NULL,
                                  "line %zu: malformed CSV: a quote inside an unquoted cell, or "
                                  "text after a closing quote (quote the whole cell and double "
                                  "the quotes inside it)",
                                  r->line)
                        : bt_fail(err, BT_ETOOBIG, NULL, "line %zu: %s", r->line, csv_strerror(e)));
        }
        if (!r->stop && r->csv.entry_pos > ACCOUNT_CSV_CELL_MAX)
            halt(r, bt_fail(err, BT_EINVAL, NULL,
                            "line %zu: a cell is longer than %d bytes (is a quote left open?)",
                            r->row_line, ACCOUNT_CSV_CELL_MAX));
        if (ends_line)
            r->line++;
        pos = end;
    }
    if (!r->stop) {
        r->offset = len;
        if (csv_fini(&r->csv, on_cell, on_row, r) != 0 && !r->stop)
            halt(r, bt_fail(err, BT_EINVAL, NULL,
                            "line %zu: a quoted cell is never closed (a '\"' is missing)",
                            r->row_line));
    }
    if (!r->stop && !r->have_header)
        halt(r, bt_fail(err, BT_EINVAL, NULL,
                        "line 1: the file is empty; the first row must be a header such as "
                        "'id,name,domains,website,country,owner'"));
    bt_err rc = r->stop;
    csv_free(&r->csv);
    free(r->buf);
    arena_release(&r->header);
    arena_release(&r->row_arena);
    id_set_release(&r->ids);
    free(r);
    return rc;
}
