/*
 * config_import_map.c - the import mapping file (import_map.h) into a
 * struct history_map.
 *
 * A small file with its own loader rather than a section of the main
 * configuration: a map belongs to one data file, not to the running
 * daemon. libfyaml builds the document; every error names the file, line
 * and column of the value at fault (a scalar's own position; a mapping's
 * first key). Text is checked for UTF-8 before libfyaml sees it (see
 * config.c: its scanner can loop on invalid UTF-8).
 */
#include "config/import_map.h"
#include "util/text.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAP_COLUMNS_MAX HISTORY_CSV_COLUMNS_MAX

struct map_loader {
    const char *name;
    struct arena *a;
    struct bt_error *err;
};

static void position(struct fy_node *n, int *line, int *column)
{
    *line = *column = 1;
    while (n) {
        if (fy_node_get_type(n) == FYNT_SCALAR) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
            if (m) {
                *line = m->line + 1;
                *column = m->column + 1;
            }
            return;
        }
        void *it = NULL;
        if (fy_node_get_type(n) == FYNT_MAPPING) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else {
            n = fy_node_sequence_iterate(n, &it);
        }
    }
}

static bt_err fail_at(struct map_loader *ld, struct fy_node *n, const char *fmt, ...)
    BT_PRINTF(3, 4);

static bt_err fail_at(struct map_loader *ld, struct fy_node *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line, column;
    position(n, &line, &column);
    return bt_fail(ld->err, BT_ECONFIG, NULL, "%s:%d:%d: %s", ld->name, line, column, msg);
}

/* The text of a scalar, in the arena; NULL (with the error set) otherwise. */
static const char *scalar(struct map_loader *ld, struct fy_node *n, const char *path, bt_err *rc)
{
    if (!n || fy_node_get_type(n) != FYNT_SCALAR) {
        *rc = fail_at(ld, n, "%s: expected a text value", path);
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s || memchr(s, '\0', len) || len > 1024) {
        *rc = fail_at(ld, n, "%s: expected a text of at most 1024 bytes", path);
        return NULL;
    }
    return arena_strndup(ld->a, s, len);
}

static bool is_map(struct fy_node *n)
{
    return n && fy_node_get_type(n) == FYNT_MAPPING;
}

/* Checks that mapping n has only `keys`, and fills vals[] (NULL when absent). */
static bt_err fields(struct map_loader *ld, struct fy_node *n, const char *path,
                     const char *const *keys, size_t n_keys, struct fy_node **vals)
{
    for (size_t k = 0; k < n_keys; k++)
        vals[k] = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        bt_err rc = BT_OK;
        const char *key = scalar(ld, fy_node_pair_key(p), path, &rc);
        if (!key)
            return rc;
        size_t k = 0;
        while (k < n_keys && strcmp(keys[k], key))
            k++;
        if (k == n_keys) {
            char known[256] = "";
            for (size_t j = 0; j < n_keys; j++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         j ? ", " : "", keys[j]);
            return fail_at(ld, fy_node_pair_key(p), "%s%s'%s' is not a key here (known: %s)", path,
                           path[0] ? ": " : "", key, known);
        }
        if (vals[k])
            return fail_at(ld, fy_node_pair_key(p), "%s%s'%s' appears twice", path,
                           path[0] ? ": " : "", key);
        vals[k] = fy_node_pair_value(p);
    }
    return BT_OK;
}

static bt_err target_of(struct map_loader *ld, enum history_kind kind, struct fy_node *n,
                        const char *path, const char *text, struct history_column *c)
{
    if (!strncasecmp(text, "fields.", 7) && text[7]) {
        c->target = HISTORY_FIELD;
        c->key = text + 7;
        return BT_OK;
    }
    int attr;
    int t = history_target_find(kind, text, &attr);
    if (t < 0)
        return fail_at(ld, n,
                       "%s: '%s' is not a target; use a lead attribute (email, company, ...), "
                       "owner, employees, created_at, qualified_at, converted, stage, outcome_at, "
                       "value, fields.NAME or drop%s",
                       path, text,
                       kind == HISTORY_ACTIVITIES
                           ? " (activities: lead_external_id, lead_email, type, occurred_at)"
                           : "");
    c->target = (enum history_target)t;
    c->attr = attr;
    return BT_OK;
}

static bt_err load_column(struct map_loader *ld, enum history_kind kind, const char *column,
                          struct fy_node *v, struct history_column *c)
{
    char path[300];
    snprintf(path, sizeof(path), "columns.%.200s", column);
    memset(c, 0, sizeof(*c));
    c->column = column;
    c->attr = -1;
    bt_err rc = BT_OK;
    if (!is_map(v)) {
        const char *t = scalar(ld, v, path, &rc);
        return t ? target_of(ld, kind, v, path, t, c) : rc;
    }
    static const char *const keys[] = {"to", "field", "type"};
    struct fy_node *vals[3];
    if ((rc = fields(ld, v, path, keys, 3, vals)))
        return rc;
    if (vals[0] && vals[1])
        return fail_at(ld, v, "%s: give 'to' or 'field', not both", path);
    if (vals[0]) {
        const char *t = scalar(ld, vals[0], path, &rc);
        if (!t || (rc = target_of(ld, kind, vals[0], path, t, c)))
            return rc;
    } else {
        c->target = HISTORY_FIELD;
        if (vals[1] && !(c->key = scalar(ld, vals[1], path, &rc)))
            return rc;
        if (c->key && (!c->key[0] || strlen(c->key) > LEAD_FIELD_KEY_MAX))
            return fail_at(ld, vals[1], "%s: a field name has 1 to %d bytes", path,
                           LEAD_FIELD_KEY_MAX);
    }
    if (vals[2]) {
        const char *t = scalar(ld, vals[2], path, &rc);
        if (!t)
            return rc;
        if (c->target != HISTORY_FIELD)
            return fail_at(ld, vals[2], "%s: only a custom field has a type", path);
        if (!strcmp(t, "text"))
            c->type = HISTORY_TEXT;
        else if (!strcmp(t, "number"))
            c->type = HISTORY_NUMBER;
        else if (!strcmp(t, "boolean"))
            c->type = HISTORY_BOOLEAN;
        else
            return fail_at(ld, vals[2], "%s: type '%s' is not text, number or boolean", path, t);
    }
    return BT_OK;
}

/* Adds a column mapped to `target` (created_at: COLUMN, external_id: COLUMN). */
static bt_err add_column(struct map_loader *ld, struct history_column *cols, size_t *n,
                         struct fy_node *at, const char *column, enum history_target target,
                         int attr)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcasecmp(cols[i].column, column))
            return fail_at(ld, at, "column '%s' is mapped twice", column);
    if (*n == MAP_COLUMNS_MAX)
        return fail_at(ld, at, "more than %d columns", MAP_COLUMNS_MAX);
    cols[(*n)++] = (struct history_column){.column = column, .target = target, .attr = attr};
    return BT_OK;
}

static bt_err load_root(struct map_loader *ld, struct fy_node *root, enum history_kind kind,
                        struct history_map *map)
{
    history_map_init(map, kind);
    if (!root)
        return BT_OK;
    if (!is_map(root))
        return fail_at(ld, root,
                       "the map must be a mapping of keys (name, delimiter, columns, ...)");
    static const char *const keys[] = {"name",       "delimiter",   "date_format", "unmapped",
                                       "created_at", "external_id", "columns",     "stages"};
    enum { K_NAME, K_DELIM, K_FORMAT, K_UNMAPPED, K_CREATED, K_EXTERNAL, K_COLUMNS, K_STAGES };
    struct fy_node *v[8];
    bt_err rc = fields(ld, root, "", keys, 8, v);
    if (rc)
        return rc;
    const char *s;
    if (v[K_NAME]) {
        if (!(s = scalar(ld, v[K_NAME], "name", &rc)))
            return rc;
        if (!s[0] || strlen(s) > HISTORY_NAME_MAX)
            return fail_at(ld, v[K_NAME], "name: 1 to %d bytes", HISTORY_NAME_MAX);
        map->name = s;
    }
    if (v[K_DELIM]) {
        if (!(s = scalar(ld, v[K_DELIM], "delimiter", &rc)))
            return rc;
        if (!strcmp(s, "\\t") || !strcmp(s, "tab"))
            s = "\t";
        if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
            return fail_at(ld, v[K_DELIM],
                           "delimiter: one character (not a quote or a line "
                           "break), such as \",\" or \";\"");
        map->delimiter = s[0];
    }
    if (v[K_FORMAT]) {
        if (!(s = scalar(ld, v[K_FORMAT], "date_format", &rc)))
            return rc;
        if (!s[0] || strlen(s) > HISTORY_FORMAT_MAX || !strstr(s, "%Y"))
            return fail_at(ld, v[K_FORMAT],
                           "date_format: 1 to %d bytes, with %%Y and other "
                           "conversions among %%m %%d %%H %%M %%S",
                           HISTORY_FORMAT_MAX);
        for (const char *p = s; *p; p++)
            if (*p == '%' && (!p[1] || !strchr("YmdHMS%", p[1])))
                return fail_at(ld, v[K_FORMAT],
                               "date_format: '%%%c' is not one of %%Y %%m %%d "
                               "%%H %%M %%S %%%%",
                               p[1] ? p[1] : ' ');
            else if (*p == '%')
                p++;
        map->date_format = s;
    }
    if (v[K_UNMAPPED]) {
        if (!(s = scalar(ld, v[K_UNMAPPED], "unmapped", &rc)))
            return rc;
        if (strcmp(s, "fields") && strcmp(s, "drop"))
            return fail_at(ld, v[K_UNMAPPED], "unmapped: 'fields' or 'drop', not '%s'", s);
        map->drop_unmapped = !strcmp(s, "drop");
    }

    struct history_column *cols = arena_alloc(ld->a, sizeof(*cols) * MAP_COLUMNS_MAX);
    if (!cols)
        return bt_fail(ld->err, BT_ETOOBIG, NULL, "%s: out of memory", ld->name);
    size_t n = 0;
    if (v[K_COLUMNS]) {
        if (!is_map(v[K_COLUMNS]))
            return fail_at(ld, v[K_COLUMNS], "columns: expected a mapping of COLUMN: TARGET");
        void *it = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(v[K_COLUMNS], &it))) {
            const char *column = scalar(ld, fy_node_pair_key(p), "columns", &rc);
            if (!column)
                return rc;
            for (size_t i = 0; i < n; i++)
                if (!strcasecmp(cols[i].column, column))
                    return fail_at(ld, fy_node_pair_key(p), "columns: '%s' appears twice", column);
            if (n == MAP_COLUMNS_MAX)
                return fail_at(ld, fy_node_pair_key(p), "columns: more than %d", MAP_COLUMNS_MAX);
            if ((rc = load_column(ld, kind, column, fy_node_pair_value(p), &cols[n])))
                return rc;
            n++;
        }
    }
    if (v[K_CREATED]) {
        if (kind != HISTORY_LEADS)
            return fail_at(ld, v[K_CREATED],
                           "created_at: only for leads (activities have an "
                           "occurred_at column)");
        if (!is_map(v[K_CREATED])) {
            if (!(s = scalar(ld, v[K_CREATED], "created_at", &rc)) ||
                (rc = add_column(ld, cols, &n, v[K_CREATED], s, HISTORY_CREATED_AT, -1)))
                return rc;
        } else {
            static const char *const ckeys[] = {"column", "missing", "start", "step"};
            struct fy_node *cv[4];
            if ((rc = fields(ld, v[K_CREATED], "created_at", ckeys, 4, cv)))
                return rc;
            if (cv[0] && (cv[2] || cv[3]))
                return fail_at(ld, v[K_CREATED],
                               "created_at: a column, or start and step, not both");
            if (cv[0]) {
                if (!(s = scalar(ld, cv[0], "created_at.column", &rc)) ||
                    (rc = add_column(ld, cols, &n, cv[0], s, HISTORY_CREATED_AT, -1)))
                    return rc;
                if (cv[1]) {
                    if (!(s = scalar(ld, cv[1], "created_at.missing", &rc)))
                        return rc;
                    if (strcmp(s, "skip") && strcmp(s, "error"))
                        return fail_at(ld, cv[1], "created_at.missing: 'skip' or 'error', not '%s'",
                                       s);
                    map->skip_missing_created_at = !strcmp(s, "skip");
                }
            } else {
                if (!cv[2] || !cv[3])
                    return fail_at(ld, v[K_CREATED],
                                   "created_at: give a column, or both start and step");
                if (cv[1])
                    return fail_at(ld, cv[1], "created_at.missing: only with a column");
                if (!(s = scalar(ld, cv[2], "created_at.start", &rc)))
                    return rc;
                if (!history_parse_time(s, NULL, &map->created_start))
                    return fail_at(ld, cv[2], "created_at.start: '%s' is not a date", s);
                if (!(s = scalar(ld, cv[3], "created_at.step", &rc)))
                    return rc;
                if (!history_parse_step(s, &map->created_step))
                    return fail_at(ld, cv[3],
                                   "created_at.step: '%s' is not a duration such as 1h, 30m or 1d",
                                   s);
                map->created_generated = true;
            }
        }
    }
    if (v[K_EXTERNAL]) {
        if (kind != HISTORY_LEADS)
            return fail_at(ld, v[K_EXTERNAL], "external_id: only for leads");
        if (!is_map(v[K_EXTERNAL])) {
            if (!(s = scalar(ld, v[K_EXTERNAL], "external_id", &rc)) ||
                (rc = add_column(ld, cols, &n, v[K_EXTERNAL], s, HISTORY_ATTR, LEAD_EXTERNAL_ID)))
                return rc;
        } else {
            static const char *const ekeys[] = {"row_number"};
            struct fy_node *ev[1];
            if ((rc = fields(ld, v[K_EXTERNAL], "external_id", ekeys, 1, ev)))
                return rc;
            if (!ev[0])
                return fail_at(ld, v[K_EXTERNAL], "external_id: give row_number: PREFIX");
            if (!(s = scalar(ld, ev[0], "external_id.row_number", &rc)))
                return rc;
            if (!s[0] || strlen(s) > 40)
                return fail_at(ld, ev[0], "external_id.row_number: a prefix of 1 to 40 bytes");
            map->external_id_prefix = s;
        }
    }
    map->columns = cols;
    map->n_columns = n;

    if (v[K_STAGES]) {
        if (kind != HISTORY_LEADS || !is_map(v[K_STAGES]))
            return fail_at(ld, v[K_STAGES], "stages: expected a mapping of VALUE: STAGE (leads)");
        struct history_stage_alias *st = arena_alloc(ld->a, sizeof(*st) * HISTORY_STAGES_MAX);
        size_t k = 0;
        void *it = NULL;
        struct fy_node_pair *p;
        static const char *const stages[] = {"won",         "lost",         "sql",
                                             "opportunity", "disqualified", "open"};
        while ((p = fy_node_mapping_iterate(v[K_STAGES], &it))) {
            if (!st || k == HISTORY_STAGES_MAX)
                return fail_at(ld, fy_node_pair_key(p), "stages: more than %d", HISTORY_STAGES_MAX);
            const char *from = scalar(ld, fy_node_pair_key(p), "stages", &rc);
            if (!from)
                return rc;
            const char *to = scalar(ld, fy_node_pair_value(p), "stages", &rc);
            if (!to)
                return rc;
            size_t j = 0;
            while (j < 6 && strcmp(stages[j], to))
                j++;
            if (j == 6)
                return fail_at(ld, fy_node_pair_value(p),
                               "stages.%s: '%s' is not won, lost, sql, opportunity, "
                               "disqualified or open",
                               from, to);
            st[k++] = (struct history_stage_alias){from, j == 5 ? NULL : stages[j]};
        }
        map->stages = st;
        map->n_stages = k;
    }
    return BT_OK;
}

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

bt_err import_map_parse(const char *name, const char *text, size_t len, enum history_kind kind,
                        struct arena *a, struct history_map *map, struct bt_error *err)
{
    struct map_loader ld = {.name = name, .a = a, .err = err};
    if (len > IMPORT_MAP_MAX_BYTES)
        return bt_fail(err, BT_ECONFIG, NULL, "%s: larger than %d bytes", name,
                       IMPORT_MAP_MAX_BYTES);
    size_t bad = utf8_invalid_at(text, len);
    if (bad < len || memchr(text, '\0', len)) {
        int line = 1;
        for (size_t i = 0; i < bad && i < len; i++)
            line += text[i] == '\n';
        return bt_fail(err, BT_ECONFIG, NULL, "%s:%d: the file is not valid UTF-8 text", name,
                       line);
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_discard;
    dcfg.level = FYET_ERROR;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        bt_die("libfyaml: cannot create a diagnostic object");
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_AUTO, .diag = diag};
    struct fy_document *doc = fy_document_build_from_string(&pcfg, text, len);
    bt_err rc = BT_OK;
    if (!doc) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        rc = bt_fail(err, BT_ECONFIG, NULL, "%s:%d:%d: %s", name, e ? e->line : 1,
                     e ? e->column : 1, e && e->msg ? e->msg : "not valid YAML");
    } else {
        rc = load_root(&ld, fy_document_root(doc), kind, map);
        fy_document_destroy(doc);
    }
    fy_diag_destroy(diag);
    return rc;
}

bt_err import_map_load(const char *path, enum history_kind kind, struct arena *a,
                       struct history_map *map, struct bt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bt_fail(err, BT_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
    char *buf = xmalloc(IMPORT_MAP_MAX_BYTES + 1);
    size_t n = fread(buf, 1, IMPORT_MAP_MAX_BYTES + 1, f);
    bool bad = ferror(f);
    fclose(f);
    bt_err rc;
    if (bad)
        rc = bt_fail(err, BT_EIO, NULL, "cannot read %s", path);
    else {
        /* the map keeps pointers into the arena only: the text may go */
        const char *name = arena_strdup(a, path);
        rc = import_map_parse(name ? name : path, buf, n, kind, a, map, err);
    }
    free(buf);
    return rc;
}
