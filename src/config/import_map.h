/*
 * import_map.h - the mapping file of `baton import leads|activities --map
 * MAP.yaml`: how the columns of a CSV file become history
 * (core/history_csv.h). docs/import.md is the user's description.
 *
 *   name: uci-bank                 # the import's name, in each lead.imported event
 *   delimiter: ";"                 # one character; default ","
 *   date_format: "%d/%m/%Y"        # default: RFC 3339, YYYY-MM-DD, YYYY-MM-DD HH:MM:SS
 *   unmapped: fields               # or drop: what columns not named below become
 *   created_at: engage_date        # a column; or {column: C, missing: skip};
 *                                  # or {start: 2008-05-05, step: 30m}
 *   external_id: opportunity_id    # a column; or {row_number: "uci-"}
 *   columns:
 *     y: converted                 # a target (history_csv.h), drop, or fields.NAME
 *     age: {field: age, type: number}   # a custom field, typed (text, number, boolean)
 *     sales_agent: {to: owner}
 *   stages:                        # values of the stage column and what they mean
 *     Won: won
 *     Engaging: opportunity
 *     Prospecting: open            # no outcome yet
 *
 * Errors name the file, line and column ("MAP.yaml:7:5: columns.y: 'conveted'
 * is not a target; ..."). Unknown keys are errors.
 */
#ifndef BT_CONFIG_IMPORT_MAP_H
#define BT_CONFIG_IMPORT_MAP_H

#include "core/history_csv.h"
#include "util/arena.h"
#include "util/err.h"

#define IMPORT_MAP_MAX_BYTES (1 << 20)

/*
 * Parses text[0..len) (`name` is the file's name for messages) into *map
 * for `kind`; the map's strings and arrays live in `a`. Errors: BT_ECONFIG
 * with "NAME:LINE:COL: ..." in err.
 */
bt_err import_map_parse(const char *name, const char *text, size_t len, enum history_kind kind,
                        struct arena *a, struct history_map *map, struct bt_error *err) BT_MUST_USE;

/* Reads the file at `path` (at most IMPORT_MAP_MAX_BYTES) and parses it. */
bt_err import_map_load(const char *path, enum history_kind kind, struct arena *a,
                       struct history_map *map, struct bt_error *err) BT_MUST_USE;

#endif
