/*
 * config_diff.h - what a new configuration changes compared with the running
 * one, so that a reload can say what it did.
 *
 * A reload swaps a whole snapshot; a file cut short by an editor still in the
 * middle of writing it can be valid and drop every team, rep and routing rule.
 * The diff names, by id or name, what such a swap adds, removes and changes:
 *
 *   teams, reps, pools            by id
 *   routing rules                 by name (and whether the rules the two
 *                                 configurations share are tried in another order)
 *   fit rules, fit groups,
 *   engagement rules              by name
 *   qualification                 mql_when, fast_track_when, disqualify_when
 *   SLA policies                  by name (and whether the shared ones are
 *                                 tried in another order)
 *   reject reasons                by id: the ones a rep can choose from, the
 *                                 built-in ones when the file lists none
 *   delivery channels, templates  by id
 *   settings                      the other keys, by their path ("server.max_body_bytes")
 *
 * An item is changed when anything a decision reads from it differs: a
 * rep's fields and its effective hours, holidays and zone; a pool's fields
 * and its members (in order: round robin goes round in that order); a rule's
 * condition text, target, points, caps and so on; a policy's condition,
 * windows, clock, reminders and breach actions (in order), attempts and
 * fallback; a reject reason's label and action; a delivery channel's
 * every key (its events, by_team, by_rep and fields as sets, its secrets
 * in order) and a template's source. Lists whose order carries
 * no meaning (a rep's languages, the free-mail domains) are compared as sets.
 *
 * Settings read only when `baton serve` starts (server.listen,
 * server.max_connections, server.request_timeout, store.*) are compared
 * with the configuration the daemon started with, not with the running one:
 * a change stays "ignored until restart" on every later reload until the
 * daemon restarts or the file goes back.
 *
 * Pure: no I/O, no clock. Out of memory aborts (xmalloc).
 */
#ifndef BT_CONFIG_DIFF_H
#define BT_CONFIG_DIFF_H

#include "config/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum config_diff_kind {
    CONFIG_DIFF_TEAMS,
    CONFIG_DIFF_REPS,
    CONFIG_DIFF_POOLS,
    CONFIG_DIFF_ROUTING_RULES,
    CONFIG_DIFF_FIT_RULES,
    CONFIG_DIFF_FIT_GROUPS,
    CONFIG_DIFF_ENGAGEMENT_RULES,
    CONFIG_DIFF_QUALIFICATION,
    CONFIG_DIFF_SLA_POLICIES,
    CONFIG_DIFF_REJECT_REASONS,
    CONFIG_DIFF_DELIVERY_CHANNELS,
    CONFIG_DIFF_DELIVERY_TEMPLATES,
    CONFIG_DIFF_KINDS
};

/* The kind's key in JSON: "teams", "reps", "pools", "routing_rules",
 * "fit_rules", "fit_groups", "engagement_rules", "qualification",
 * "sla_policies", "reject_reasons", "delivery_channels",
 * "delivery_templates". */
const char *config_diff_kind_name(enum config_diff_kind kind);

/* Names of one kind, each list in file order (removed: the old file's). */
struct config_diff_names {
    const char **added, **removed, **changed;
    size_t n_added, n_removed, n_changed;
};

/* At most this many settings exist (the table in config_diff.c). */
#define CONFIG_DIFF_SETTINGS_MAX 32

struct config_diff {
    struct config_diff_names kinds[CONFIG_DIFF_KINDS];
    /* Changed settings that take effect now ("server.max_body_bytes", and
     * "routing.rules (order)" or "sla.policies (order)" when shared rules
     * or policies are tried in another order). */
    const char *settings[CONFIG_DIFF_SETTINGS_MAX];
    size_t n_settings;
    /* Settings that differ from the ones the daemon started with and are
     * read only at start: ignored until a restart. */
    const char *restart[CONFIG_DIFF_SETTINGS_MAX];
    size_t n_restart;
};

#define CONFIG_DIFF_INIT                                                                           \
    {                                                                                              \
        0                                                                                          \
    }

/*
 * Compares `to` with `from` (the running configuration) into *out, which
 * the caller releases with config_diff_release(). Restart-only settings are
 * compared with `started` (the configuration the process started with), or
 * with `from` when `started` is NULL. Names are borrowed from `from` and
 * `to` (setting names are static): keep both alive while *out is used.
 */
void config_diff_compute(const struct config *from, const struct config *to,
                         const struct config *started, struct config_diff *out);
void config_diff_release(struct config_diff *d);

/* True when nothing differs (restart-only settings included). */
bool config_diff_empty(const struct config_diff *d);
/* True when anything is removed: a team, rep, pool, rule, qualification rule,
 * SLA policy, reject reason, delivery channel or template. */
bool config_diff_removes(const struct config_diff *d);

/*
 * One line for people and logs, at most CONFIG_DIFF_LINE_MAX - 1 bytes:
 *   "removed 2 teams (emea, na-east), 1 pool (overflow); added 1 rep
 *    (anna); changed 1 routing rule (default), server.max_body_bytes;
 *    ignored until restart: server.listen"
 * or "no changes". A list shows at most CONFIG_DIFF_LINE_NAMES names, then
 * "and N more". Written into buf.
 */
#define CONFIG_DIFF_LINE_MAX   1024
#define CONFIG_DIFF_LINE_NAMES 5
const char *config_diff_line(const struct config_diff *d, char buf[CONFIG_DIFF_LINE_MAX]);

/*
 * The diff as JSON (a new reference):
 *   {"teams": {"added": [...], "removed": [...], "changed": [...]},
 *    "reps": {...}, "pools": {...}, "routing_rules": {...}, "fit_rules": {...},
 *    "fit_groups": {...}, "engagement_rules": {...}, "qualification": {...},
 *    "sla_policies": {...}, "reject_reasons": {...}, "delivery_channels": {...},
 *    "delivery_templates": {...},
 *    "settings": [...], "ignored_until_restart": [...], "text": "the line"}
 * Every kind is present. A list holds at most CONFIG_DIFF_JSON_NAMES names;
 * when one is longer, its kind also has "more": {"removed": N, ...}, the
 * number of names left out of each list that was cut.
 */
#define CONFIG_DIFF_JSON_NAMES 100
json_t *config_diff_json(const struct config_diff *d);

#endif
