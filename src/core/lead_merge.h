/*
 * lead_merge.h - what happens when a person already known comes back.
 *
 * A lead whose normalised email matches an existing lead is never a second
 * lead: its data is merged into the existing one. The rules:
 * - a client attribute the newcomer carries replaces the stored value (the
 *   newest form fill is the freshest data), except the email (equal by
 *   definition) and external_id (kept once set: it is the CRM's identity);
 * - derived attributes follow their source (website -> website_domain,
 *   country -> country_input, employees -> employees_band);
 * - custom fields are merged key by key, the newcomer's values winning;
 * - stage and owner are kept: the person stays with the rep who has them.
 * With LEAD_MERGE_FILL_ONLY the newcomer only fills what is empty (absent
 * attributes, unknown employees, custom fields not yet set): the mode for
 * sources that anyone can use, such as a public web form, which must not be
 * able to overwrite what is known about a person by knowing their email.
 * The result lists every change with its value before and after, for the
 * lead.merged event. Pure: no I/O, no clock (the caller sets updated_at).
 */
#ifndef BT_CORE_LEAD_MERGE_H
#define BT_CORE_LEAD_MERGE_H

#include "core/lead.h"
#include "util/arena.h"
#include "util/err.h"

#define LEAD_MERGE_MAX_CHANGES (LEAD_ATTR_COUNT + 1 + LEAD_FIELDS_MAX_KEYS)

struct lead_change {
    const char *field;  /* attribute name, "employees", or "fields.KEY" */
    const char *before; /* text form; NULL when absent */
    const char *after;
};

struct lead_merge_result {
    struct lead merged;
    size_t n_changes;
    struct lead_change changes[LEAD_MERGE_MAX_CHANGES];
};

/* Merges `incoming` into `existing`. BT_EPARSE if a fields_json is not a JSON
 * object (cannot happen for normalised leads); BT_EINVAL if the merged
 * custom fields exceed LEAD_FIELDS_MAX_KEYS or LEAD_FIELDS_MAX_BYTES. */
enum lead_merge_mode { LEAD_MERGE_REPLACE, LEAD_MERGE_FILL_ONLY };

bt_err lead_merge(const struct lead *existing, const struct lead *incoming,
                  enum lead_merge_mode mode, struct arena *arena, struct lead_merge_result *out,
                  struct bt_error *err) BT_MUST_USE;

#endif
