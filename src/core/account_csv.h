/*
 * account_csv.h - accounts from a CSV file, and the checks every account
 * passes on its way in (from a CSV row or from a JSON body of the API).
 *
 * Pure: no I/O, no clock, no globals. The caller hands in the bytes (the CLI
 * reads the file); rows come back one at a time through a callback, so a file
 * of millions of rows is parsed in constant memory (plus the set of ids seen,
 * which is what finds a repeated id).
 *
 * The file (RFC 4180, parsed by libcsv in strict mode):
 * - A header row is required: the first row that is not empty. Column names
 *   are matched without regard to case or surrounding spaces:
 *     id        optional; when the column or the cell is empty, the id is
 *               derived (see account_input_normalize() below)
 *     name      the company name
 *     domains   (or "domain") one or more domains or URLs, separated by ';',
 *               ',' or white space inside the cell
 *     website   a URL or a domain
 *     country   a name, alias or ISO code (becomes alpha-2)
 *     owner     the owning rep's id
 *   Every other named column is a custom field: the header's text (trimmed,
 *   case kept) is the key, the cell's text the value (a string; an empty
 *   cell sets nothing). A column with an empty name is ignored, as long as
 *   its cells are empty too. The header must have a name, domains or
 *   website column; names may not repeat (case-insensitively); at most
 *   ACCOUNT_CSV_COLUMNS_MAX columns and LEAD_FIELDS_MAX_KEYS custom ones.
 * - A UTF-8 byte order mark at the start is skipped; lines may end in LF,
 *   CRLF or CR. Cells may be quoted with '"' (a quote inside a quoted cell is
 *   doubled) and may then contain commas and line breaks. A quote inside an
 *   unquoted cell, text after a closing quote, or a quote left open at the
 *   end is malformed. Blank lines and rows whose cells are all empty are
 *   skipped. A row with fewer cells than the header has the rest empty.
 * - Line numbers count from 1 in the file as given (the header is line 1
 *   unless blank lines precede it); a row is numbered by the line it starts
 *   on, so a row whose quoted cell spans lines still gets the number a text
 *   editor shows for its beginning.
 *
 * What stops the parse (account_csv_parse() returns BT_EINVAL with the line
 * in the message): no header, a bad header, malformed quoting, a cell longer
 * than ACCOUNT_CSV_CELL_MAX bytes (often an unclosed quote). What only makes
 * a row invalid (reported to the callback; the parse goes on): invalid UTF-8
 * or a NUL byte, more cells than the header, a value under a column without a
 * name, anything account_input_normalize() refuses, and an id that an earlier
 * valid row of the file already has (the first row keeps it).
 *
 * Whether a bad row stops an import is the caller's choice: `baton import`
 * runs the parse twice, checking every row first and writing nothing when
 * one is invalid (unless --skip-invalid).
 */
#ifndef BT_CORE_ACCOUNT_CSV_H
#define BT_CORE_ACCOUNT_CSV_H

#include "core/account_match.h"
#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ACCOUNT_CSV_CELL_MAX    65536 /* bytes of one cell */
#define ACCOUNT_CSV_COLUMNS_MAX 256   /* columns of the header */

/* Custom fields of an account: the limits of a lead's (core/lead.h). */
#define ACCOUNT_FIELDS_MAX_BYTES LEAD_FIELDS_MAX_BYTES
#define ACCOUNT_FIELDS_MAX_KEYS  LEAD_FIELDS_MAX_KEYS
#define ACCOUNT_FIELD_KEY_MAX    LEAD_FIELD_KEY_MAX

/* An account as it came in, before any check. Strings may be NULL (absent);
 * they need not be trimmed. */
struct account_input {
    const char *id; /* NULL or empty: derived */
    const char *name;
    const char *const *domains;
    size_t n_domains;
    const char *website;
    const char *country;
    const char *owner;
    json_t *fields; /* borrowed: an object, or NULL for none */
};

/*
 * Checks and normalises `in` into `out`, with the custom fields as compact
 * JSON with sorted keys in *fields_json ("{}" for none). Strings are in the
 * arena. The rules, the same for the CSV import and the HTTP API:
 * - Every text is trimmed (as normalize_trim()); an empty text is absent.
 *   No text may contain control characters; only custom field values may
 *   contain line breaks.
 * - id: 1 to ACCOUNT_ID_MAX bytes of A-Z a-z 0-9 and . _ - : @ +, starting
 *   with a letter or a digit (ids appear in URLs). Absent, it is derived, so
 *   that importing the same file again updates the same accounts instead of
 *   adding copies: the first domain ("acme.com"), else the website's domain,
 *   else "name-" and the 16 hex digits of a 64-bit FNV-1a hash of the
 *   normalised name (account_name_normalize(); the trimmed name when that
 *   leaves nothing), so that "ACME Inc." and "Acme" get the same id. A domain
 *   longer than ACCOUNT_ID_MAX gives "domain-" and the hash of the domain.
 * - name: at most ACCOUNT_NAME_MAX bytes.
 * - domains: at most ACCOUNT_DOMAINS_MAX; each is normalised like a lead's
 *   website ("https://www.Acme.com/x" -> "acme.com"), must be a valid
 *   domain name and not a public suffix ("co.uk", "github.io"); repeats are
 *   dropped, order is kept. An empty entry is skipped.
 * - website: kept as sent; its domain must be valid like the domains'.
 * - country: becomes alpha-2 (normalize_country()); unknown is an error.
 * - owner: a rep id: [a-z0-9][a-z0-9_.-]*, at most ACCOUNT_OWNER_MAX bytes.
 * - fields: string, number, boolean or null values; at most
 *   ACCOUNT_FIELDS_MAX_KEYS keys of 1 to ACCOUNT_FIELD_KEY_MAX bytes, at
 *   most ACCOUNT_FIELDS_MAX_BYTES once encoded.
 * - The account needs a name, a domain or a website.
 * Errors: BT_EINVAL (BT_ETOOBIG when the arena is full), with err->field
 * naming the attribute ("domains", "fields") and a message that starts with
 * it ("domains: 'acme' is not a domain name: ...").
 */
bt_err account_input_normalize(const struct account_input *in, struct arena *a, struct account *out,
                               const char **fields_json, struct bt_error *err) BT_MUST_USE;

/* One data row of the file, valid or not. Everything in it lives until the
 * callback returns; copy what must last longer. */
struct account_csv_row {
    size_t line;   /* where the row starts */
    size_t offset; /* bytes of the input read so far, for progress */
    bt_err rc;     /* BT_OK, or why the row is invalid */
    /* The message starts with "line N: "; field is the column's name as in
     * the header (or "" when the problem is the whole row). */
    struct bt_error err;
    /* When rc == BT_OK: the account (normalised, id set) and its custom
     * fields as compact JSON. */
    struct account account;
    const char *fields_json;
    bool id_derived; /* the row had no id: it was derived (see above) */
};

/* Called for each data row. A non-zero return stops the parse, and
 * account_csv_parse() returns it (with the callback's `err`). */
typedef bt_err (*account_csv_row_fn)(void *cls, const struct account_csv_row *row,
                                     struct bt_error *err);

/*
 * Parses data[0..len) (see the top of this file) and calls fn for each data
 * row, in order. Returns BT_OK when the whole input was read, even if some
 * rows were invalid (each was reported to fn); BT_EINVAL with "line N: ..."
 * for what stops a parse; or what fn returned.
 */
bt_err account_csv_parse(const char *data, size_t len, account_csv_row_fn fn, void *cls,
                         struct bt_error *err) BT_MUST_USE;

#endif
