/*
 * history_csv.h - history from a CSV file (or from the rows of a JSON body):
 * leads as they were, with their historical created_at and their outcome,
 * and the activities they had. What `baton import leads|activities` and
 * POST /v1/import/leads|activities read.
 *
 * Pure: no I/O, no clock, no globals. The caller hands in the bytes and a
 * mapping (struct history_map, built by config/import_map.h from a YAML file
 * or left at its defaults); rows come back one at a time through a
 * callback, each converted into a normalised lead (core/normalize.h, exactly
 * as intake does) or an activity, or with the reason it is invalid.
 *
 * The file follows the rules of core/account_csv.h (RFC 4180 through
 * libcsv in strict mode, a header row, a BOM skipped, LF / CRLF / CR line
 * ends, rows numbered by the line they start on), except that the delimiter
 * is the map's (',' by default; ';' for the UCI bank data).
 *
 * Columns. Each column of the header goes to one target:
 *   - the one the map's `columns` gives it (matched without regard to case);
 *   - else, when the header's name is a target's name ("email", "created_at",
 *     "converted", ...; "fields.NAME" for a custom field), that target;
 *   - else a custom field named as the header (a property for activities),
 *     as text; or nothing when the map says `unmapped: drop`.
 * Lead targets: the input attributes of core/lead.h (external_id, email,
 * first_name, last_name, company, title, phone, website, country, state,
 * city, industry, source), employees, owner (a rep id; a name such as
 * "Moses Frase" becomes "moses-frase"), created_at (required unless the map
 * generates it), qualified_at (when the lead became an MQL; default its
 * created_at), converted (yes/no/true/false/1/0, y/n: won or lost), stage
 * (won, lost, sql, opportunity, disqualified; open / new / empty: no outcome
 * yet; the map's `stages` renames values first), outcome_at (when the
 * outcome was known; default created_at) and value (the deal's value).
 * Activity targets: lead_external_id, lead_email (one of them names the
 * lead), type (core/activity.h), occurred_at; other columns are properties.
 *
 * Times: RFC 3339, "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DD HH:MM[:SS]"
 * (UTC); or, when the map has a date_format, exactly that format, whose
 * conversions are %Y %m %d %H %M %S (and %% for a percent sign).
 *
 * A history lead needs an email, a phone or an external_id (intake needs an
 * email or a phone; history may have neither, the UCI data does not).
 *
 * What stops a parse (history_csv_parse() returns BT_EINVAL with the line
 * in the message): no header, a header that repeats a column or lacks a
 * column the map names, a mapping that cannot work with the header (no
 * created_at for leads, no type or occurred_at or lead key for activities),
 * malformed quoting, a cell longer than HISTORY_CSV_CELL_MAX. What only
 * makes a row invalid: invalid UTF-8 or a NUL, more cells than the header,
 * a bad date, number or boolean, an unknown stage, anything normalize_lead()
 * refuses. A row whose created_at cell is empty, when the map says
 * `created_at: {column: C, missing: skip}`, is reported as skipped.
 */
#ifndef BT_CORE_HISTORY_CSV_H
#define BT_CORE_HISTORY_CSV_H

#include "core/lead.h"
#include "core/normalize.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_CSV_CELL_MAX    65536 /* bytes of one cell */
#define HISTORY_CSV_COLUMNS_MAX 256   /* columns of the header */
#define HISTORY_STAGES_MAX      64    /* renamed stage values in a map */
#define HISTORY_NAME_MAX        64    /* the import's name */
#define HISTORY_FORMAT_MAX      64    /* a date_format */

enum history_kind { HISTORY_LEADS, HISTORY_ACTIVITIES };

enum history_target {
    HISTORY_DROP,  /* the column is read and ignored */
    HISTORY_FIELD, /* a custom field (leads) or a property (activities) */
    HISTORY_ATTR,  /* an input attribute of core/lead.h */
    HISTORY_EMPLOYEES,
    HISTORY_OWNER,
    HISTORY_CREATED_AT,
    HISTORY_QUALIFIED_AT,
    HISTORY_CONVERTED,
    HISTORY_STAGE,
    HISTORY_OUTCOME_AT,
    HISTORY_VALUE,
    HISTORY_LEAD_EXTERNAL_ID, /* activities */
    HISTORY_LEAD_EMAIL,
    HISTORY_TYPE,
    HISTORY_OCCURRED_AT,
};

enum history_value_type { HISTORY_TEXT, HISTORY_NUMBER, HISTORY_BOOLEAN };

/* One column the map names. */
struct history_column {
    const char *column; /* the header's name */
    enum history_target target;
    int attr;                     /* HISTORY_ATTR: the enum lead_attr */
    const char *key;              /* HISTORY_FIELD: the field's name; NULL: the column's */
    enum history_value_type type; /* HISTORY_FIELD */
};

/* A stage value of the file and what it means ("Won" -> "won";
 * to == NULL: no outcome yet). */
struct history_stage_alias {
    const char *from;
    const char *to;
};

/* How a file maps to history. Zeroed, with kind set and delimiter ',', it
 * is the default mapping (history_map_init). Strings are borrowed. */
struct history_map {
    enum history_kind kind;
    char delimiter;
    const char *name;        /* the import's name (lead.imported); NULL: the caller's */
    const char *date_format; /* NULL: the formats above */
    bool drop_unmapped;
    /* created_at generated as start + i * step for the i-th data row (0-based),
     * for data in date order without dates */
    bool created_generated;
    int64_t created_start, created_step; /* ms */
    bool skip_missing_created_at;        /* an empty created_at skips the row */
    /* non-NULL: external_id is this prefix and the data row's number (1-based) */
    const char *external_id_prefix;
    const struct history_column *columns;
    size_t n_columns;
    const struct history_stage_alias *stages;
    size_t n_stages;
};

void history_map_init(struct history_map *map, enum history_kind kind);

/* The target called `name` ("email", "created_at", "fields.x" is not one:
 * see history_parse_target), or -1; *attr is set for HISTORY_ATTR. */
int history_target_find(enum history_kind kind, const char *name, int *attr);

/* A lead of the history, normalised. */
struct history_lead {
    struct lead lead; /* created_at, updated_at, stage (final) and owner set */
    int64_t qualified_at;
    const char *outcome_stage; /* won, lost, sql, opportunity, disqualified; NULL: none */
    int64_t outcome_at;
    bool has_value;
    double value;
};

struct history_activity {
    const char *lead_external_id, *lead_email; /* at least one */
    const char *type;
    int64_t occurred_at;
    const char *properties_json; /* a JSON object */
};

/* One data row, valid or not; everything in it lives until the callback
 * returns. */
struct history_row {
    size_t line;                      /* where the row starts (JSON rows: the index + 1) */
    size_t offset;                    /* bytes read so far, for progress */
    size_t number;                    /* 1-based among the data rows */
    bt_err rc;                        /* BT_OK, or why the row is invalid */
    struct bt_error err;              /* "line N: COLUMN: ..." */
    bool skipped;                     /* valid but without a created_at (missing: skip) */
    struct history_lead lead;         /* leads, rc == BT_OK */
    struct history_activity activity; /* activities, rc == BT_OK */
};

typedef bt_err (*history_row_fn)(void *cls, const struct history_row *row, struct bt_error *err);

/*
 * Parses data[0..len) with `map` and calls fn for each data row in order.
 * freemail may be NULL (no address counts as free mail). Returns BT_OK when
 * the whole input was read (invalid rows were reported to fn), BT_EINVAL
 * with "line N: ..." for what stops a parse, or what fn returned.
 */
bt_err history_csv_parse(const struct history_map *map, const struct freemail_set *freemail,
                         const char *data, size_t len, history_row_fn fn, void *cls,
                         struct bt_error *err) BT_MUST_USE;

/*
 * The same conversion for one row given as names and values (the rows of a
 * JSON body: values are text, NULL for absent). The names play the header's
 * part, so the map's columns and the name rules apply; a name the map does
 * not know is a field. `row` is filled (rc, err, lead or activity), strings
 * in `a`. Returns row->rc.
 */
bt_err history_convert(const struct history_map *map, const struct freemail_set *freemail,
                       const char *const *names, const char *const *values, size_t n, size_t number,
                       struct arena *a, struct history_row *row);

/* Parses a time as described above (format NULL: the default formats). */
bool history_parse_time(const char *s, const char *format, int64_t *ms);
/* "7d", "1h", "30m", "15s", "500ms" into ms (> 0). */
bool history_parse_step(const char *s, int64_t *ms);

#endif
