/*
 * history_csv.c - history leads and activities from CSV rows or JSON rows,
 * with a mapping. The rules are in history_csv.h.
 *
 * Built in two layers. resolve() turns a header (or a JSON row's names) and
 * the map into one target per column, once per file; convert() turns the
 * cells of one row into a normalised lead or an activity, in an arena that
 * the CSV reader releases before the next row, so memory stays flat however
 * long the file is. The CSV reader feeds libcsv one line at a time, like
 * core/account_csv.c, so that rows know the line they start on.
 */
#include "core/history_csv.h"
#include "core/activity.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <csv.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEGMENT_MAX   65536
#define ROW_NOT_BEGUN 0 /* libcsv's pstate between rows */
#define OWNER_MAX     64

void history_map_init(struct history_map *map, enum history_kind kind)
{
    memset(map, 0, sizeof(*map));
    map->kind = kind;
    map->delimiter = ',';
}

/* ------------------------------------------------------------------------ */
/* Targets                                                                   */

static const struct {
    const char *name;
    enum history_target target;
    enum history_kind kind;
} targets[] = {
    {"employees", HISTORY_EMPLOYEES, HISTORY_LEADS},
    {"owner", HISTORY_OWNER, HISTORY_LEADS},
    {"created_at", HISTORY_CREATED_AT, HISTORY_LEADS},
    {"qualified_at", HISTORY_QUALIFIED_AT, HISTORY_LEADS},
    {"converted", HISTORY_CONVERTED, HISTORY_LEADS},
    {"stage", HISTORY_STAGE, HISTORY_LEADS},
    {"outcome_at", HISTORY_OUTCOME_AT, HISTORY_LEADS},
    {"value", HISTORY_VALUE, HISTORY_LEADS},
    {"lead_external_id", HISTORY_LEAD_EXTERNAL_ID, HISTORY_ACTIVITIES},
    {"lead_email", HISTORY_LEAD_EMAIL, HISTORY_ACTIVITIES},
    {"type", HISTORY_TYPE, HISTORY_ACTIVITIES},
    {"occurred_at", HISTORY_OCCURRED_AT, HISTORY_ACTIVITIES},
};

int history_target_find(enum history_kind kind, const char *name, int *attr)
{
    *attr = -1;
    if (!strcasecmp(name, "drop"))
        return HISTORY_DROP;
    if (kind == HISTORY_LEADS) {
        char lower[32];
        size_t n = strlen(name);
        if (n >= sizeof(lower))
            n = sizeof(lower) - 1; /* longer than any attribute's name: no match */
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)tolower((unsigned char)name[i]);
        lower[n] = '\0';
        int a = strlen(name) < sizeof(lower) ? lead_attr_find(lower) : -1;
        if (a >= 0 && a < LEAD_INPUT_ATTR_COUNT) {
            *attr = a;
            return HISTORY_ATTR;
        }
    }
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        if (targets[i].kind == kind && !strcasecmp(targets[i].name, name))
            return (int)targets[i].target;
    return -1;
}

/* Where each column goes. */
struct resolved {
    enum history_target target;
    int attr;
    const char *key; /* HISTORY_FIELD */
    enum history_value_type type;
};

static const char *kind_noun(enum history_kind kind)
{
    return kind == HISTORY_LEADS ? "lead" : "activity";
}

/*
 * One target per column of `names`; for a header (strict), also the checks
 * that a column is not repeated and that every column the map names is
 * there, and that the targets a row needs can be present.
 */
static bt_err resolve(const struct history_map *map, const char *const *names, size_t n,
                      bool strict, struct resolved *out, struct bt_error *err)
{
    bool have[HISTORY_OCCURRED_AT + 1] = {false};
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        if (strict)
            for (size_t k = 0; k < i; k++)
                if (name[0] && !strcasecmp(names[k], name))
                    return bt_fail(err, BT_EINVAL, name,
                                   "column '%s' appears twice in the header (columns %zu and %zu)",
                                   name, k + 1, i + 1);
        struct resolved r = {.target = HISTORY_FIELD, .attr = -1, .key = name};
        const struct history_column *mc = NULL;
        for (size_t k = 0; k < map->n_columns && !mc; k++)
            if (!strcasecmp(map->columns[k].column, name))
                mc = &map->columns[k];
        if (mc) {
            r.target = mc->target;
            r.attr = mc->attr;
            r.key = mc->key ? mc->key : name;
            r.type = mc->type;
        } else if (!strncasecmp(name, "fields.", 7) && name[7]) {
            r.key = name + 7;
        } else {
            int attr;
            int t = history_target_find(map->kind, name, &attr);
            if (t > HISTORY_DROP) {
                r.target = (enum history_target)t;
                r.attr = attr;
            } else if (map->drop_unmapped || !name[0]) {
                r.target = HISTORY_DROP;
            }
        }
        if (r.target == HISTORY_ATTR && r.attr == LEAD_EXTERNAL_ID && map->external_id_prefix)
            r.target = HISTORY_DROP; /* generated instead */
        if (r.target == HISTORY_CREATED_AT && map->created_generated)
            r.target = HISTORY_DROP;
        if (r.target == HISTORY_FIELD && strlen(r.key) > LEAD_FIELD_KEY_MAX)
            return bt_fail(err, BT_EINVAL, name,
                           "column '%.40s...': a field name has at most %d bytes", name,
                           LEAD_FIELD_KEY_MAX);
        have[r.target] = true;
        out[i] = r;
    }
    if (!strict)
        return BT_OK;
    for (size_t k = 0; k < map->n_columns; k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = !strcasecmp(names[i], map->columns[k].column);
        if (!found)
            return bt_fail(err, BT_EINVAL, map->columns[k].column,
                           "the map names column '%s', which the header does not have",
                           map->columns[k].column);
    }
    if (map->kind == HISTORY_LEADS) {
        if (!have[HISTORY_CREATED_AT] && !map->created_generated)
            return bt_fail(err, BT_EINVAL, "created_at",
                           "no column gives the leads' created_at: name one 'created_at', map "
                           "one to it (columns: {COLUMN: created_at}), or generate it "
                           "(created_at: {start: DATE, step: 1h})");
        if (have[HISTORY_CONVERTED] && have[HISTORY_STAGE])
            return bt_fail(err, BT_EINVAL, "stage",
                           "both a converted and a stage column: map only one of them");
    } else {
        if (!have[HISTORY_TYPE] || !have[HISTORY_OCCURRED_AT])
            return bt_fail(err, BT_EINVAL, have[HISTORY_TYPE] ? "occurred_at" : "type",
                           "an %s file needs a '%s' column (or one mapped to it)",
                           kind_noun(map->kind), have[HISTORY_TYPE] ? "occurred_at" : "type");
        if (!have[HISTORY_LEAD_EXTERNAL_ID] && !have[HISTORY_LEAD_EMAIL])
            return bt_fail(err, BT_EINVAL, "lead_external_id",
                           "an activity file needs a 'lead_external_id' or 'lead_email' column "
                           "(or one mapped to it) to name each activity's lead");
    }
    return BT_OK;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return n > 0;
}

static bool civil_ms(int y, int mo, int d, int h, int mi, int sec, int64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL;
    return true;
}

/* strptime's idea, with %Y %m %d %H %M %S only, and no locale. */
static bool parse_with_format(const char *s, const char *f, int64_t *ms)
{
    int y = -1, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
    while (*f) {
        if (*f != '%') {
            if (*s++ != *f++)
                return false;
            continue;
        }
        f++;
        int *slot, width;
        switch (*f) {
        case 'Y':
            slot = &y, width = 4;
            break;
        case 'm':
            slot = &mo, width = 2;
            break;
        case 'd':
            slot = &d, width = 2;
            break;
        case 'H':
            slot = &h, width = 2;
            break;
        case 'M':
            slot = &mi, width = 2;
            break;
        case 'S':
            slot = &sec, width = 2;
            break;
        case '%':
            if (*s++ != '%')
                return false;
            f++;
            continue;
        default:
            return false;
        }
        f++;
        size_t n = 0;
        while (n < (size_t)width && s[n] >= '0' && s[n] <= '9')
            n++;
        if (!digits(s, n, slot) || (width == 4 && n != 4))
            return false;
        s += n;
    }
    return *s == '\0' && y >= 0 && civil_ms(y, mo, d, h, mi, sec, ms);
}

bool history_parse_time(const char *s, const char *format, int64_t *ms)
{
    if (format)
        return parse_with_format(s, format, ms);
    size_t len = strlen(s);
    if (len == 10)
        return parse_with_format(s, "%Y-%m-%d", ms);
    if (len == 16 && s[10] == ' ')
        return parse_with_format(s, "%Y-%m-%d %H:%M", ms);
    if (len == 19 && s[10] == ' ')
        return parse_with_format(s, "%Y-%m-%d %H:%M:%S", ms);
    return time_parse_rfc3339(s, ms);
}

bool history_parse_step(const char *s, int64_t *ms)
{
    char *end;
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(end, units[i].unit)) {
            if (v == 0 ||
                v > (unsigned long long)(INT64_C(1) << 40) / (unsigned long long)units[i].ms)
                return false;
            *ms = (int64_t)v * units[i].ms;
            return true;
        }
    return false;
}

static bool parse_number(const char *s, double *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return false;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_boolean(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "1", "y"};
    static const char *const no[] = {"no", "false", "0", "n"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcasecmp(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* A rep id from an id or a name: lower case, runs of other characters
 * become one '-' ("Moses Frase" -> "moses-frase"); NULL when nothing is left. */
static const char *owner_id(struct arena *a, const char *s)
{
    char buf[OWNER_MAX + 1];
    size_t n = 0;
    bool dash = false;
    for (const char *p = s; *p && n < OWNER_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || ((c == '_' || c == '.') && n > 0)) {
            if (dash && n > 0 && n < OWNER_MAX)
                buf[n++] = '-';
            dash = false;
            if (n < OWNER_MAX)
                buf[n++] = (char)tolower(c);
        } else {
            dash = true;
        }
    }
    buf[n] = '\0';
    return n ? arena_strdup(a, buf) : NULL;
}

static const char *outcome_stages[] = {"won", "lost", "sql", "opportunity", "disqualified"};

/* The outcome stage a cell means: *stage NULL for none; false when unknown. */
static bool stage_of(const struct history_map *map, const char *cell, const char **stage)
{
    for (size_t i = 0; i < map->n_stages; i++)
        if (!strcasecmp(map->stages[i].from, cell)) {
            *stage = map->stages[i].to;
            return true;
        }
    for (size_t i = 0; i < sizeof(outcome_stages) / sizeof(outcome_stages[0]); i++)
        if (!strcasecmp(outcome_stages[i], cell)) {
            *stage = outcome_stages[i];
            return true;
        }
    if (!*cell || !strcasecmp(cell, "open") || !strcasecmp(cell, "new")) {
        *stage = NULL;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* One row                                                                   */

static bt_err row_fail(struct history_row *row, const char *column, const char *fmt, ...)
    BT_PRINTF(3, 4);

static bt_err row_fail(struct history_row *row, const char *column, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    row->rc = BT_EINVAL;
    if (column && column[0])
        return bt_fail(&row->err, BT_EINVAL, column, "line %zu: %s: %s", row->line, column, msg);
    return bt_fail(&row->err, BT_EINVAL, "", "line %zu: %s", row->line, msg);
}

static bt_err set_field(json_t *obj, const struct resolved *r, const char *column, const char *cell,
                        struct history_row *row)
{
    json_t *v = NULL;
    if (r->type == HISTORY_NUMBER) {
        double d;
        if (!parse_number(cell, &d))
            return row_fail(row, column, "'%.40s' is not a number", cell);
        v = (d == floor(d) && fabs(d) < 9e15) ? json_integer((json_int_t)d) : json_real(d);
    } else if (r->type == HISTORY_BOOLEAN) {
        bool b;
        if (!parse_boolean(cell, &b))
            return row_fail(row, column, "'%.40s' is not yes/no, true/false or 1/0", cell);
        v = json_boolean(b);
    } else {
        v = json_string(cell);
    }
    json_object_set_new(obj, r->key, v);
    return BT_OK;
}

static bt_err take_time(const struct history_map *map, const char *column, const char *cell,
                        int64_t *out, struct history_row *row)
{
    if (history_parse_time(cell, map->date_format, out))
        return BT_OK;
    if (map->date_format)
        return row_fail(row, column, "'%.40s' is not a date in the format '%s'", cell,
                        map->date_format);
    return row_fail(row, column,
                    "'%.40s' is not a date (RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)", cell);
}

/* The cells of one row into row->lead or row->activity. Cells are trimmed
 * of surrounding white space; an empty cell is absent. */
static bt_err convert(const struct history_map *map, const struct freemail_set *freemail,
                      const struct resolved *cols, const char *const *names,
                      const char *const *cells, size_t n, struct arena *a, struct history_row *row)
{
    struct lead_input in;
    memset(&in, 0, sizeof(in));
    const char *owner = NULL, *converted = NULL, *stage_cell = NULL;
    const char *created = NULL, *qualified = NULL, *outcome_at = NULL, *value = NULL;
    const char *col_created = "created_at", *col_qualified = NULL, *col_outcome = NULL;
    const char *col_stage = NULL, *col_value = NULL;
    struct history_activity *act = &row->activity;
    const char *occurred = NULL, *col_occurred = NULL, *col_type = NULL;
    json_t *fields = json_object();
    bt_err rc = BT_OK;

    for (size_t i = 0; i < n && !rc; i++) {
        const char *raw = cells[i];
        if (!raw)
            continue;
        size_t len = strlen(raw);
        if (!utf8_valid(raw, len)) {
            rc = row_fail(row, names[i], "not valid UTF-8 (save the file as UTF-8)");
            break;
        }
        const char *cell = normalize_trim(a, raw);
        if (!cell)
            continue;
        const struct resolved *r = &cols[i];
        switch (r->target) {
        case HISTORY_DROP:
            break;
        case HISTORY_FIELD:
            if (json_object_size(fields) >= LEAD_FIELDS_MAX_KEYS &&
                !json_object_get(fields, r->key))
                rc = row_fail(row, names[i], "more than %d custom fields", LEAD_FIELDS_MAX_KEYS);
            else
                rc = set_field(fields, r, names[i], cell, row);
            break;
        case HISTORY_ATTR:
            in.attr[r->attr] = cell;
            break;
        case HISTORY_EMPLOYEES:
            in.employees = cell;
            break;
        case HISTORY_OWNER:
            owner = cell;
            break;
        case HISTORY_CREATED_AT:
            created = cell;
            col_created = names[i];
            break;
        case HISTORY_QUALIFIED_AT:
            qualified = cell;
            col_qualified = names[i];
            break;
        case HISTORY_CONVERTED:
            converted = cell;
            col_stage = names[i];
            break;
        case HISTORY_STAGE:
            stage_cell = cell;
            col_stage = names[i];
            break;
        case HISTORY_OUTCOME_AT:
            outcome_at = cell;
            col_outcome = names[i];
            break;
        case HISTORY_VALUE:
            value = cell;
            col_value = names[i];
            break;
        case HISTORY_LEAD_EXTERNAL_ID:
            act->lead_external_id = cell;
            break;
        case HISTORY_LEAD_EMAIL:
            act->lead_email = cell;
            break;
        case HISTORY_TYPE:
            act->type = cell;
            col_type = names[i];
            break;
        case HISTORY_OCCURRED_AT:
            occurred = cell;
            col_occurred = names[i];
            break;
        }
    }
    char *fields_json = NULL;
    if (!rc) {
        fields_json = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
        if (!fields_json || strlen(fields_json) > LEAD_FIELDS_MAX_BYTES)
            rc = row_fail(row, "fields", "the custom fields are longer than %d bytes",
                          LEAD_FIELDS_MAX_BYTES);
    }
    json_decref(fields);
    if (rc)
        goto out;

    if (map->kind == HISTORY_ACTIVITIES) {
        if (!act->lead_external_id && !act->lead_email) {
            rc = row_fail(row, "lead_external_id",
                          "the row names no lead (lead_external_id or "
                          "lead_email)");
            goto out;
        }
        if (!act->type || !activity_type_valid(act->type, strlen(act->type))) {
            rc = row_fail(row, col_type ? col_type : "type",
                          act->type ? "'%.40s' is not an activity type (1 to 64 lower-case "
                                      "letters, digits and _)"
                                    : "missing",
                          act->type);
            goto out;
        }
        if (!occurred) {
            rc = row_fail(row, col_occurred ? col_occurred : "occurred_at", "missing");
            goto out;
        }
        if ((rc = take_time(map, col_occurred, occurred, &act->occurred_at, row)))
            goto out;
        act->properties_json = arena_strdup(a, fields_json);
        goto out;
    }

    /* leads */
    struct history_lead *h = &row->lead;
    if (map->external_id_prefix)
        in.attr[LEAD_EXTERNAL_ID] = arena_printf(a, "%s%zu", map->external_id_prefix, row->number);
    if (map->created_generated) {
        if (map->created_step <= 0 ||
            (int64_t)(row->number - 1) > (TIME_MAX_MS - map->created_start) / map->created_step) {
            rc = row_fail(row, "created_at", "the generated date is after the year 9999");
            goto out;
        }
        h->lead.created_at = map->created_start + (int64_t)(row->number - 1) * map->created_step;
    } else if (!created) {
        if (map->skip_missing_created_at) {
            row->skipped = true;
            goto out;
        }
        rc = row_fail(row, col_created, "missing (history needs the date each lead came in)");
        goto out;
    } else {
        int64_t at;
        if ((rc = take_time(map, col_created, created, &at, row)))
            goto out;
        h->lead.created_at = at;
    }
    int64_t created_at = h->lead.created_at;
    h->qualified_at = created_at;
    if (qualified && (rc = take_time(map, col_qualified, qualified, &h->qualified_at, row)))
        goto out;
    if (h->qualified_at < created_at) {
        rc = row_fail(row, col_qualified, "before the lead's created_at");
        goto out;
    }
    const char *stage = NULL;
    if (converted) {
        bool yes;
        if (!parse_boolean(converted, &yes)) {
            rc = row_fail(row, col_stage, "'%.40s' is not yes/no, true/false or 1/0", converted);
            goto out;
        }
        stage = yes ? "won" : "lost";
    } else if (stage_cell && !stage_of(map, stage_cell, &stage)) {
        rc = row_fail(row, col_stage,
                      "'%.40s' is not a stage: won, lost, sql, opportunity, disqualified, or "
                      "open (rename others with the map's 'stages')",
                      stage_cell);
        goto out;
    }
    h->outcome_stage = stage;
    h->outcome_at = h->qualified_at;
    if (outcome_at) {
        if ((rc = take_time(map, col_outcome, outcome_at, &h->outcome_at, row)))
            goto out;
        if (h->outcome_at < created_at) {
            rc = row_fail(row, col_outcome, "before the lead's created_at");
            goto out;
        }
        if (h->outcome_at < h->qualified_at)
            h->outcome_at = h->qualified_at;
    }
    if (value) {
        if (!parse_number(value, &h->value) || h->value < 0) {
            rc = row_fail(row, col_value, "'%.40s' is not a number of 0 or more", value);
            goto out;
        }
        h->has_value = true;
    }
    if (owner && !(owner = owner_id(a, owner))) {
        rc = row_fail(row, "owner", "no letters or digits to make a rep id of");
        goto out;
    }

    /* A history lead may have only its external id: normalise it as intake
     * does, with a stand-in phone number that is dropped again, because
     * intake's rule (an email or a phone) is about reaching a new lead, not
     * about knowing an old one. */
    in.fields_json = fields_json;
    bool stand_in = !in.attr[LEAD_EMAIL] && !in.attr[LEAD_PHONE];
    if (stand_in) {
        if (!in.attr[LEAD_EXTERNAL_ID] || !normalize_trim(a, in.attr[LEAD_EXTERNAL_ID])) {
            rc = row_fail(row, "email", "a history lead needs an email, a phone or an external_id");
            goto out;
        }
        in.attr[LEAD_PHONE] = "+1 555 0100";
    }
    struct bt_error nerr = BT_ERROR_INIT;
    struct lead *lead = &h->lead;
    if (normalize_lead(&in, freemail, a, lead, NULL, &nerr)) {
        rc = row_fail(row, nerr.field, "%s", nerr.message);
        goto out;
    }
    if (stand_in)
        lead->attr[LEAD_PHONE] = NULL;
    lead->created_at = created_at;
    lead->updated_at = stage ? h->outcome_at : h->qualified_at;
    lead->attr[LEAD_OWNER] = owner;
    lead->attr[LEAD_STAGE] = stage ? stage : "mql";
out:
    free(fields_json);
    return rc;
}

bt_err history_convert(const struct history_map *map, const struct freemail_set *freemail,
                       const char *const *names, const char *const *values, size_t n, size_t number,
                       struct arena *a, struct history_row *row)
{
    memset(row, 0, sizeof(*row));
    row->line = number;
    row->number = number;
    row->err = (struct bt_error)BT_ERROR_INIT;
    if (n > HISTORY_CSV_COLUMNS_MAX)
        return row_fail(row, "", "more than %d values", HISTORY_CSV_COLUMNS_MAX);
    struct resolved cols[HISTORY_CSV_COLUMNS_MAX];
    struct bt_error rerr = BT_ERROR_INIT;
    if (resolve(map, names, n, false, cols, &rerr))
        return row_fail(row, rerr.field, "%s", rerr.message);
    return convert(map, freemail, cols, names, values, n, a, row);
}

/* ------------------------------------------------------------------------ */
/* The CSV reader                                                            */

struct cell {
    size_t off, len;
};

struct reader {
    struct csv_parser csv;
    const struct history_map *map;
    const struct freemail_set *freemail;
    history_row_fn fn;
    void *cls;

    bool have_header;
    size_t n_columns;
    const char *names[HISTORY_CSV_COLUMNS_MAX];
    struct resolved cols[HISTORY_CSV_COLUMNS_MAX];
    struct arena header;

    char *buf;
    size_t buf_len, buf_cap;
    struct cell cells[HISTORY_CSV_COLUMNS_MAX + 1];
    size_t n_cells;

    size_t line, row_line, offset, rows;
    struct arena row_arena;
    bt_err stop;
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
    if (len > HISTORY_CSV_CELL_MAX) {
        halt(r, bt_fail(r->err, BT_EINVAL, NULL,
                        "line %zu: a cell is longer than %d bytes (is a quote left open?)",
                        r->row_line, HISTORY_CSV_CELL_MAX));
        return;
    }
    size_t i = r->n_cells++;
    if (i > HISTORY_CSV_COLUMNS_MAX)
        return;
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

static bool row_blank(const struct reader *r)
{
    for (size_t i = 0; i < r->n_cells && i <= HISTORY_CSV_COLUMNS_MAX; i++) {
        const char *s = r->buf + r->cells[i].off;
        for (size_t k = 0; k < r->cells[i].len; k++)
            if (!isspace((unsigned char)s[k]))
                return false;
    }
    return true;
}

static bt_err read_header(struct reader *r)
{
    if (r->n_cells > HISTORY_CSV_COLUMNS_MAX)
        return bt_fail(r->err, BT_EINVAL, NULL, "line %zu: the header has more than %d columns",
                       r->row_line, HISTORY_CSV_COLUMNS_MAX);
    for (size_t i = 0; i < r->n_cells; i++) {
        const char *s = r->buf + r->cells[i].off;
        if (memchr(s, '\0', r->cells[i].len) || !utf8_valid(s, r->cells[i].len))
            return bt_fail(r->err, BT_EINVAL, NULL,
                           "line %zu: column %zu of the header is not valid UTF-8", r->row_line,
                           i + 1);
        const char *name = normalize_trim(&r->header, s);
        r->names[i] = name ? name : arena_strdup(&r->header, "");
    }
    r->n_columns = r->n_cells;
    struct bt_error rerr = BT_ERROR_INIT;
    if (resolve(r->map, r->names, r->n_columns, true, r->cols, &rerr))
        return bt_fail(r->err, BT_EINVAL, rerr.field, "line %zu: %s", r->row_line, rerr.message);
    r->have_header = true;
    return BT_OK;
}

static void on_row(int terminator, void *data)
{
    struct reader *r = data;
    (void)terminator;
    if (r->stop || row_blank(r))
        goto reset;
    if (!r->have_header) {
        bt_err rc = read_header(r);
        if (rc)
            halt(r, rc);
        goto reset;
    }
    arena_release(&r->row_arena);
    struct history_row row;
    memset(&row, 0, sizeof(row));
    row.line = r->row_line;
    row.offset = r->offset;
    row.number = ++r->rows;
    row.err = (struct bt_error)BT_ERROR_INIT;
    const char *cells[HISTORY_CSV_COLUMNS_MAX];
    if (r->n_cells > r->n_columns) {
        row_fail(&row, "", "%zu cells, but the header has %zu columns", r->n_cells, r->n_columns);
    } else {
        bool nul = false;
        for (size_t i = 0; i < r->n_columns; i++) {
            cells[i] = i < r->n_cells ? r->buf + r->cells[i].off : NULL;
            if (cells[i] && memchr(cells[i], '\0', r->cells[i].len)) {
                row_fail(&row, r->names[i], "contains a NUL byte");
                nul = true;
                break;
            }
        }
        if (!nul)
            (void)convert(r->map, r->freemail, r->cols, r->names, cells, r->n_columns,
                          &r->row_arena, &row);
    }
    bt_err rc = r->fn(r->cls, &row, r->err);
    if (rc)
        halt(r, rc);
reset:
    r->n_cells = 0;
    r->buf_len = 0;
}

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

bt_err history_csv_parse(const struct history_map *map, const struct freemail_set *freemail,
                         const char *data, size_t len, history_row_fn fn, void *cls,
                         struct bt_error *err)
{
    struct reader *r = xcalloc(1, sizeof(*r));
    r->map = map;
    r->freemail = freemail;
    r->fn = fn;
    r->cls = cls;
    r->err = err;
    r->line = 1;
    r->row_line = 1;
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(r);
        return bt_fail(err, BT_ETOOBIG, NULL, "cannot start the CSV parser");
    }
    csv_set_delim(&r->csv, (unsigned char)(map->delimiter ? map->delimiter : ','));
    size_t pos = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        pos = 3;
    while (pos < len && !r->stop) {
        bool ends_line;
        size_t end = segment_end(data, len, pos, &ends_line);
        if (r->csv.pstate == ROW_NOT_BEGUN)
            r->row_line = r->line;
        r->offset = end;
        size_t n = end - pos;
        if (csv_parse(&r->csv, data + pos, n, on_cell, on_row, r) != n && !r->stop) {
            int e = csv_error(&r->csv);
            halt(r, e == CSV_EPARSE
                        ? bt_fail(err, BT_EINVAL, NULL,
                                  "line %zu: malformed CSV: a quote inside an unquoted cell, or "
                                  "text after a closing quote",
                                  r->line)
                        : bt_fail(err, BT_ETOOBIG, NULL, "line %zu: %s", r->line, csv_strerror(e)));
        }
        if (!r->stop && r->csv.entry_pos > HISTORY_CSV_CELL_MAX)
            halt(r, bt_fail(err, BT_EINVAL, NULL,
                            "line %zu: a cell is longer than %d bytes (is a quote left open?)",
                            r->row_line, HISTORY_CSV_CELL_MAX));
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
                        "'external_id,email,created_at,converted'"));
    bt_err rc = r->stop;
    csv_free(&r->csv);
    free(r->buf);
    arena_release(&r->header);
    arena_release(&r->row_arena);
    free(r);
    return rc;
}
