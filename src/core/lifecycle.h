/*
 * lifecycle.h - the stages of a lead and the moves between them.
 *
 *   new -> mql -> assigned -> accepted -> sql -> opportunity -> won | lost
 *   rejected leads are `recycled` (back to marketing); `disqualified` ends it.
 *
 * Allowed moves (anything else is refused, naming the allowed ones):
 *   new          -> mql, disqualified
 *   mql          -> assigned, new (its score decayed below the bar), recycled, disqualified
 *   assigned     -> accepted, mql (taken back for re-routing), recycled, disqualified
 *   accepted     -> sql, opportunity, won, lost, recycled, disqualified
 *   sql          -> opportunity, won, lost, recycled, disqualified
 *   opportunity  -> won, lost
 *   lost         -> recycled
 *   recycled     -> mql, disqualified
 *   won, disqualified: final
 * The sales stages may be skipped forward (a CRM may report `won` for an
 * accepted lead), never backward.
 *
 * Qualification decides marketing's side automatically, from rules in the
 * config evaluated on the lead subject with its scores (see score.h):
 *   disqualify_when  -> disqualified   (from new, mql or recycled)
 *   fast_track_when  -> mql            (from new or recycled, whatever the score)
 *   mql_when         -> mql            (from new or recycled)
 *   an mql for which neither fast_track_when nor mql_when holds any more,
 *   and which nobody has yet been assigned, goes back to new.
 * Disqualification wins over qualification. Stages from assigned on are
 * sales' and are changed only by commands (accept, outcome, ...).
 */
#ifndef BT_CORE_LIFECYCLE_H
#define BT_CORE_LIFECYCLE_H

#include "core/rule.h"

#include <stdbool.h>
#include <stddef.h>

enum lead_stage {
    STAGE_NEW,
    STAGE_MQL,
    STAGE_ASSIGNED,
    STAGE_ACCEPTED,
    STAGE_SQL,
    STAGE_OPPORTUNITY,
    STAGE_WON,
    STAGE_LOST,
    STAGE_RECYCLED,
    STAGE_DISQUALIFIED,
    STAGE_COUNT
};

const char *stage_name(enum lead_stage s);
/* Parses a stage name (lower case); false when unknown. */
bool stage_parse(const char *name, enum lead_stage *out);

bool lifecycle_allowed(enum lead_stage from, enum lead_stage to);
/* Writes the stages reachable from `from` into out (STAGE_COUNT entries at
 * most) and returns how many. */
size_t lifecycle_next(enum lead_stage from, enum lead_stage *out);
/* "sql, opportunity, won" - the allowed moves as text, for error messages;
 * "none (won is final)" for final stages. Writes into buf. */
const char *lifecycle_next_text(enum lead_stage from, char *buf, size_t size);

struct qualification {
    struct rule *mql_when;        /* may be NULL: never by score */
    struct rule *fast_track_when; /* may be NULL */
    struct rule *disqualify_when; /* may be NULL */
};

struct lifecycle_decision {
    bool change;
    enum lead_stage to;
    const char *reason; /* static text: "mql_when matched", ... */
    const char *rule;   /* the rule's text that decided, or NULL */
};

/* What qualification says about a lead at `stage` whose subject is in
 * `slots` (filled with scores). Pure. */
void lifecycle_qualify(const struct qualification *q, enum lead_stage stage,
                       const struct rule_value *slots, struct rule_scratch *scratch,
                       struct lifecycle_decision *out);

#endif
