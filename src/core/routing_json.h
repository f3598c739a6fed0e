/*
 * routing_json.h - routing decisions and pool state as JSON (jansson).
 *
 * Pure: builds and reads jansson values, nothing else. The decision record
 * the engine stores, GET /v1/leads/{id}/decision returns and `baton route`
 * prints is route_decision_json(); the pool state the store persists is
 * pool_state_to_json() / pool_state_from_json(), exact integers throughout
 * so that a state read back decides exactly as the one written.
 *
 * The decision record:
 *   {"result": "assigned" | "held",
 *    "rep": "luca.romano" | null, "pool": "emea" | null, "rule": "german" | null,
 *    "hold_reason": null | "no_eligible_member" | "rep_unavailable" | "rule" | "no_rule",
 *    "summary": "rule german -> pool emea: fair_share chose luca.romano",
 *    "rules": [{"rule": "returning", "target": "lead_owner", "when": null,
 *               "step": "no_owner"}, ...],          every rule tried, in order
 *    "candidates": [{"rep": "katrin.vogel", "eligible": false,
 *                    "reason": "outside_hours", "open": 3, "capacity": 15,
 *                    "today": 1, "daily_cap": null, "this_week": 4,
 *                    "weekly_cap": null, "verdict": "ineligible",
 *                    "value": 0.25}, ...],
 *    "strategy": {"name": "fair_share", "flags": ["window_rolled"],
 *                 "before": STATE, "after": STATE, "removed": ["old.rep"]}}
 *                 (only when a pool decided)
 */
#ifndef BT_CORE_ROUTING_JSON_H
#define BT_CORE_ROUTING_JSON_H

#include "core/account_match.h"
#include "core/routing.h"
#include "core/strategy.h"
#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>

/* A capacity or cap: the number, or null for ROUTING_UNLIMITED. */
json_t *routing_limit_json(int64_t v);

/* How a lead matched its account, as stored on the lead and shown in the
 * record: {"kind", "via", "key", "score", "signals", "owner", "ambiguous",
 * "explanation"} (a new reference). */
json_t *account_match_json(const struct account_match *m);

/* The decision record above (a new reference; NULL only when out of memory). */
json_t *route_decision_json(const struct routing_config *cfg, const struct route_decision *d);

/*
 * The same as it is stored (issue 10, item 2): what the configuration says
 * is left out, since the record's config_version names it: each rule's
 * target and `when`, each candidate's capacity, caps and weight; the rules
 * that did not match are only counted. "compact": true, "rules_tried": N,
 * and "rules" holds the others with their index "i". Everything the
 * decision saw and decided stays.
 */
json_t *route_decision_json_compact(const struct routing_config *cfg,
                                    const struct route_decision *d);

/* What of a configuration a compact record needs back, and nothing else
 * (no secrets; the store keeps it per configuration version):
 *   {"rules": [[name, target, when or null], ...],
 *    "reps": {"ana": [capacity, daily_cap, weekly_cap, weight], ...}}
 * with null for an unlimited capacity or cap. A new reference. */
json_t *route_record_context(const struct routing_config *cfg);

/* Puts back into a compact record, in place, what `context` (the above, of
 * its config_version) says, giving the full record; a full record is left
 * as it is. BT_EINVAL when the record does not fit the context (another
 * version's) or either is malformed; `rec` is then unchanged. */
bt_err route_record_expand(const json_t *context, json_t *rec, struct bt_error *err) BT_MUST_USE;

/*
 * A pool state as JSON:
 *   {"strategy": "weighted", "last_rep": null, "window_start": 0,
 *    "updated_at": 1767225600000, "decisions": 42,
 *    "members": [{"rep": "ana", "pointer": 0, "credit": 0, "assigned": 14}, ...]}
 * Times in ms since the epoch; pointer in 1/STRATEGY_POINTER_SCALE of a
 * lead, credit in 1/STRATEGY_WEIGHT_UNIT weight units (see strategy.h).
 */
json_t *pool_state_to_json(const struct pool_state *s);

/* Reads the above back; strings in the arena. BT_EINVAL with a message for
 * anything malformed (the caller treats it as a corrupt state). */
bt_err pool_state_from_json(const json_t *j, struct arena *a, struct pool_state *out,
                            struct bt_error *err) BT_MUST_USE;

#endif
