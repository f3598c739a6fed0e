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

#include "core/history_csv.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

enum store_import_result {
    STORE_IMPORT_CREATED,   /* written */
    STORE_IMPORT_MATCHED,   /* a lead with this email exists: it is that lead; nothing written */
    STORE_IMPORT_UNCHANGED, /* already imported (same external_id; same activity): nothing written
                             */
};

/* Where history comes from, for its events: lead.imported {"import": name,
 * "file": file, "line": N}, and the actor of every event and outcome. */
struct store_import_source {
    const char *name;  /* the import's name */
    const char *file;  /* the file, or NULL (the API) */
    const char *actor; /* "import:NAME", "key:ID" */
};

/*
 * Writes one history lead inside the caller's transaction, unless a lead
 * with its external_id (unchanged) or its email (matched) exists: the lead
 * (created_at, final stage and owner as given), lead.imported at created_at,
 * lead.stage_changed new -> mql at qualified_at and, with an outcome,
 * mql -> STAGE at outcome_at (so lead_funnel gets mql_at and won_at /
 * lost_at / ...), and the outcome row with its value. No assignment, no
 * deadline, no outbox row: history is not routed. `scratch` holds the
 * lookups (released by the call).
 */
bt_err store_import_lead(struct store_conn *c, const struct history_lead *lead,
                         const struct store_import_source *src, size_t line, struct arena *scratch,
                         enum store_import_result *out, struct bt_error *err) BT_MUST_USE;

/* The id of the lead with this external_id, else with this email (either
 * may be NULL; the email is normalised first); BT_ENOTFOUND when neither. */
bt_err store_import_find_lead(struct store_conn *c, const char *external_id, const char *email,
                              struct arena *scratch, int64_t *lead_id,
                              struct bt_error *err) BT_MUST_USE;

/* Writes one activity of lead `lead_id` unless the lead already has one of
 * that type at that time (unchanged). `now` is its created_at. */
bt_err store_import_activity(struct store_conn *c, int64_t lead_id,
                             const struct history_activity *act, int64_t now,
                             enum store_import_result *out, struct bt_error *err) BT_MUST_USE;

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
