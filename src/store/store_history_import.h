/*
 * store_history_import.h - what `baton import leads|activities` needs from
 * the store beyond store.h: history is written with the ordinary lead,
 * event, outcome and activity calls (so that an imported lead looks to
 * reports and to the history walk exactly like one that lived through
 * Baton), plus the checks that make an import idempotent.
 *
 * Part of the store module; call on a connection of one's own, inside or
 * outside a transaction.
 */
#ifndef BT_STORE_HISTORY_IMPORT_H
#define BT_STORE_HISTORY_IMPORT_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Sets *exists when lead `lead_id` already has an activity of `type` that
 * occurred at `occurred_at` (re-importing a file adds no second copy). */
bt_err store_import_activity_exists(struct store_conn *c, int64_t lead_id, const char *type,
                                    int64_t occurred_at, bool *exists,
                                    struct bt_error *err) BT_MUST_USE;

/* Counts what an import left: leads whose external_id starts with
 * `prefix` ("" for all), those of them with an outcome row, and those
 * won. For tests and the import's own summary. */
struct store_import_counts {
    int64_t leads, with_outcome, won;
};

bt_err store_import_count(struct store_conn *c, const char *prefix, struct store_import_counts *out,
                          struct bt_error *err) BT_MUST_USE;

#endif
