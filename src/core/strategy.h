/*
 * strategy.h - which member of a pool gets the next lead, and why.
 *
 * A pool hands leads to its members by one of four strategies. This module is
 * the decision alone: the caller passes the members (in config order, each
 * with its weight, capacity, load and whether it is eligible right now - that
 * is decided elsewhere), the pool's persisted state, the strategy and the
 * time; strategy_decide() returns the chosen member (or none), the new state
 * and an explanation. It reads no clock, does no I/O, keeps no globals and
 * writes only into the caller's arena, so any number of threads may decide at
 * once. The engine serialises decisions per pool and writes the new state in
 * the same transaction as the assignment.
 *
 * Strategies (every one deterministic; none ever chooses an ineligible member;
 * when no member is eligible the decision is "none": the lead goes to the hold
 * queue, and the notes say why each member was ineligible):
 *
 *   round_robin    Strict rotation over the eligible members in config order.
 *                  The state keeps the id of the last member assigned (not an
 *                  index): the next lead goes to the first eligible member
 *                  after it in config order, wrapping round. A member who is
 *                  ineligible is skipped and simply takes its turn again once
 *                  eligible (no catch-up). When the last member assigned has
 *                  left the pool, the rotation continues after the nearest
 *                  member before it in the previous order who is still in the
 *                  pool, so a newcomer placed there in the config is next.
 *
 *   weighted       Shares in proportion to the weights. Each member has a
 *                  pointer; the lowest pointer among the eligible wins (ties:
 *                  config order) and grows by 1/weight. The pointer of a member
 *                  who is ineligible does not move, so a member who was away
 *                  makes up the leads it missed when it returns (pools that do
 *                  not want that use fair_share with no_catch_up). A member
 *                  with no pointer yet (new to the pool, or the pool's first
 *                  decision) starts at the lowest pointer of the eligible
 *                  members who have one (else of all who have one, else 0):
 *                  level with the front of the queue, never at 0 behind a pool
 *                  that has run for months.
 *
 *   load_balanced  Fewest open assignments relative to capacity: open/capacity,
 *                  compared exactly (cross-multiplied, no floating point).
 *                  Unlimited capacity counts as the largest capacity among the
 *                  pool's limited members, so an unlimited rep is loaded like
 *                  the roomiest limited one (a pool of unlimited members is
 *                  compared by open count). Capacity 0 is always "full".
 *                  Ties: fewer recent assignments (members[].recent, the
 *                  caller's count for a recent period), then config order.
 *                  The state keeps only counts: load lives in the store.
 *
 *   fair_share     Each member's deficit against its weighted share of the
 *                  leads of the current window (day, week or month: the caller
 *                  passes the window's start). With every lead, each member
 *                  who accrues is owed weight/(sum of accruing weights) of a
 *                  lead; the eligible member owed the most (largest deficit,
 *                  ties: config order) gets it. Who accrues is the pool's
 *                  absence policy:
 *                    catch_up     every member of the pool, eligible or not
 *                                 (but not one marked not_entitled): a member
 *                                 who was away is owed its share of the leads
 *                                 it missed and makes it up on return.
 *                    no_catch_up  only the eligible members: time away counts
 *                                 as if the member had received its share, so
 *                                 it returns level with the others, neither
 *                                 buried nor starved.
 *                  Entitlement is counted per lead, not per hour of
 *                  eligibility: leads do not arrive evenly (nights, campaigns),
 *                  and whom a lead was shared among is known only at the lead.
 *                  Credits are integers (weights in thousandths, see
 *                  STRATEGY_WEIGHT_UNIT): credit += weight for accruing
 *                  members, the chosen one's credit -= the sum of accruing
 *                  weights. The deficit in leads is credit / that sum. A new
 *                  window starts every credit and count at 0 (the decision
 *                  says so).
 *
 *   best_match     The eligible member with the highest expected conversion
 *                  (members[].expected: the caller's estimate, e.g. p from
 *                  core/skill.h, or p x expected value), within a fairness
 *                  bound over the leads of the current window (as fair_share:
 *                  the caller passes the window's start; counts restart with
 *                  a new window). A member's fair share is weight / (sum of
 *                  the weights of the members entitled to this lead: as
 *                  fair_share counts them, every member not marked
 *                  not_entitled with catch_up, the eligible ones with
 *                  no_catch_up). The member's fair count f_i is the sum of
 *                  its shares of every lead of the window so far, this one
 *                  included (kept in its entry's credit, in millionths of a
 *                  lead):
 *                    upper  member i may take the lead only if
 *                           assigned_i + 1 <= max(1, floor((1 + tolerance) * f_i));
 *                    lower  a member with assigned_i + 1 < (1 - tolerance) * f_i
 *                           is behind its share: the eligible member
 *                           furthest behind (largest f_i - assigned_i) gets the
 *                           lead, whatever its estimate.
 *                  The max(1, ...) gives each member room for one lead from the
 *                  first lead on (so the first leads go to the best members
 *                  until the others' floors bind), and the lower bound keeps
 *                  the weakest members from being starved: over many leads
 *                  every member stays within +/- tolerance of its share.
 *                  When the best member is at its bound the next best takes
 *                  the lead (the decision names the member passed over);
 *                  when every eligible member is at its bound, the one with
 *                  the largest deficit (f_i - assigned_i). Ties: config order.
 *                  Note value: the expected conversion.
 *
 * State is never reset silently: a member new to the pool gets an entry (its
 * note says `joined`); a member who left has its entry dropped and is listed
 * in `removed`; a change of strategy, a new fair_share window and a rebase of
 * weighted pointers set a flag in the decision. Before and after are both in
 * the decision, for the decision record. The state changes only with an
 * assignment: when the decision is none, `after` is the input state as it was
 * (and flags and removed are empty), so that nothing - a round_robin turn
 * after a member who left, a fair_share credit - is lost while leads wait.
 *
 * The state is plain numbers and ids (struct pool_state below), for the store
 * to persist as JSON or columns. With exact integer arithmetic, 3,000 leads
 * over 3 equal members give exactly 1,000 each (round_robin, weighted,
 * fair_share) and weights 3:2:1 over 600 leads give exactly 300/200/100.
 */
#ifndef BT_CORE_STRATEGY_H
#define BT_CORE_STRATEGY_H

#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum strategy_kind {
    STRATEGY_UNSET = 0, /* only in a fresh pool_state: no decision yet */
    STRATEGY_ROUND_ROBIN,
    STRATEGY_WEIGHTED,
    STRATEGY_LOAD_BALANCED,
    STRATEGY_FAIR_SHARE,
    STRATEGY_BEST_MATCH,
};

enum absence_policy {
    ABSENCE_CATCH_UP,    /* fair_share: the absent member is owed its share */
    ABSENCE_NO_CATCH_UP, /* fair_share: time away counts as share received */
};

/* "round_robin", "weighted", "load_balanced", "fair_share", "best_match" ("unset",
 * "unknown"). */
const char *strategy_name(enum strategy_kind kind);
/* Parses one of the five names above; false when unknown (out untouched). */
bool strategy_parse(const char *name, enum strategy_kind *out);
/* "catch_up", "no_catch_up". */
const char *absence_policy_name(enum absence_policy policy);
bool absence_policy_parse(const char *name, enum absence_policy *out);

/* Bounds on the input; exceeding one is BT_EINVAL (BT_ETOOBIG for size). */
#define STRATEGY_MEMBERS_MAX 1000  /* members of a pool, and entries of a state */
#define STRATEGY_REP_ID_MAX  64    /* bytes of a rep id (as config_rep.id) */
#define STRATEGY_WEIGHT_MIN  0.001 /* weights are in [MIN, MAX] */
#define STRATEGY_WEIGHT_MAX  1000.0
#define STRATEGY_COUNT_MAX   1000000000 /* open, recent and capacity are at most this */
#define STRATEGY_UNLIMITED   (-1)       /* capacity without limit, as config_rep.capacity */

/*
 * Weighted pointers are integers in 1/STRATEGY_POINTER_SCALE of a lead; a
 * member's pointer grows by round(SCALE / weight). SCALE is 2^6 3^3 5^3 7 11 13
 * 17 19, so the step is exact for every whole weight up to 22 and for weights
 * such as 24, 25, 30, 50, 100, 1000, 0.5, 1.5, 2.5 or 0.1.
 */
#define STRATEGY_POINTER_SCALE INT64_C(69837768000)
/* Pointers are kept in [0, STRATEGY_POINTER_MAX]: when the highest passes it,
 * every pointer is lowered by the lowest (order unchanged; STRATEGY_REBASED).
 * A member more than MAX behind the highest (~66 million leads at weight 1)
 * is lifted to MAX behind. */
#define STRATEGY_POINTER_MAX (INT64_C(1) << 62)
/* fair_share credits count weights in 1/STRATEGY_WEIGHT_UNIT (a weight of 1.5
 * is 1500); weights are rounded to that unit. |credit| <= STRATEGY_POINTER_MAX. */
#define STRATEGY_WEIGHT_UNIT 1000

/* One member of the pool, as the caller sees it now. */
struct pool_member {
    const char *rep_id; /* 1..STRATEGY_REP_ID_MAX bytes, unique in the pool */
    double weight;      /* weighted, fair_share; ignored otherwise but checked */
    int64_t capacity;   /* max open assignments, or STRATEGY_UNLIMITED */
    int64_t open;       /* open assignments now (load_balanced) */
    int64_t recent;     /* assignments in a recent period (load_balanced ties) */
    bool eligible;      /* may take this lead (decided by eligibility) */
    /* fair_share with catch_up: the member is ineligible for a reason of this
     * lead or of its own load (a language, a territory, a cap), not because
     * it is absent; it accrues nothing for this lead, as with no_catch_up. */
    bool not_entitled;
    int ineligible_reason; /* when not eligible: the eligibility code, copied to the note */
    /* best_match: the member's expected conversion for this lead (>= 0, finite;
     * p, or p x value), and for the record its interval and the outcomes it
     * rests on (copied to the note, not compared). */
    double expected;
    double low, high;
    int64_t n;
};

/* One member's persisted state. Which fields mean something depends on the
 * strategy; the others are 0. */
struct pool_state_entry {
    const char *rep_id;
    int64_t pointer;   /* weighted: in 1/STRATEGY_POINTER_SCALE of a lead */
    int64_t credit;    /* fair_share: owed, in weight units (deficit * accruing weights);
                          best_match: leads entitled to in the window, in millionths */
    uint64_t assigned; /* leads this pool gave the member: since it joined, or in the
                          current window for fair_share */
};

/*
 * A pool's persisted state. A fresh pool is POOL_STATE_INIT (all zero).
 * Entries are in the config order of the last decision (round_robin needs it
 * to continue after a member who left).
 */
struct pool_state {
    enum strategy_kind strategy; /* that wrote it; STRATEGY_UNSET when fresh */
    const char *last_rep_id;     /* round_robin: last member assigned, or NULL */
    int64_t window_start;        /* fair_share: start of the window counted (ms) */
    int64_t updated_at;          /* `now` of the last decision (ms), 0 when fresh */
    uint64_t decisions;          /* leads assigned through this state */
    struct pool_state_entry *entries;
    size_t n_entries;
};

#define POOL_STATE_INIT                                                                            \
    {                                                                                              \
        STRATEGY_UNSET, NULL, 0, 0, 0, NULL, 0                                                     \
    }

struct strategy_input {
    enum strategy_kind strategy;
    enum absence_policy absence;       /* fair_share */
    const struct pool_member *members; /* in config order */
    size_t n_members;                  /* 0 is allowed: the decision is none */
    const struct pool_state *state;    /* NULL is a fresh pool */
    int64_t now;                       /* ms since the epoch */
    int64_t window_start;              /* fair_share: start of the current window, <= now */
    /* The caller vouches that the members' ids are distinct (a validated
     * configuration): they are then not hashed and compared on every
     * decision, only when an entry of the state has moved. A repeated id
     * given with this set is not detected. */
    bool members_distinct;
    double tolerance; /* best_match: the fairness bound, in [0, 10]; e.g. 0.2 */
};

/* Why a member was or was not chosen. */
enum strategy_verdict {
    STRATEGY_CHOSEN,
    STRATEGY_INELIGIBLE,      /* see the note's ineligible_reason */
    STRATEGY_LATER_IN_TURN,   /* round_robin: after the chosen one in the rotation */
    STRATEGY_HIGHER_POINTER,  /* weighted */
    STRATEGY_HIGHER_LOAD,     /* load_balanced */
    STRATEGY_SMALLER_DEFICIT, /* fair_share */
    STRATEGY_TIE_MORE_RECENT, /* load_balanced: same load, more recent assignments */
    STRATEGY_TIE_LATER,       /* same value as the chosen one, later in config order */
    STRATEGY_LOWER_EXPECTED,  /* best_match: a lower expected conversion */
    STRATEGY_AT_BOUND,        /* best_match: at its fairness bound */
};

/* "chosen", "ineligible", "later_in_turn", "higher_pointer", "higher_load",
 * "smaller_deficit", "tie_more_recent", "tie_later", "lower_expected",
 * "at_bound". */
const char *strategy_verdict_name(enum strategy_verdict verdict);

/* One note per member, in config order. */
struct strategy_note {
    const char *rep_id; /* the member's string */
    enum strategy_verdict verdict;
    int ineligible_reason; /* STRATEGY_INELIGIBLE: the member's code; else 0 */
    bool joined;           /* the member had no entry in the state: one was created */
    /*
     * The value the strategy compared, in human units, for ineligible members
     * too:
     *   round_robin    place in the rotation (0 = first in turn, 1, ...)
     *   weighted       pointer in leads, before this decision
     *   load_balanced  open / capacity (unlimited: / the largest capacity;
     *                  INFINITY for capacity 0: render it as text, not a number)
     *   fair_share     deficit in leads, counting this lead
     *   best_match     the expected conversion
     */
    double value;
    /* best_match: the member's share (0..1), its leads in the window before
     * this one, and the most it may have counting this lead (the upper
     * bound); its interval and n as the caller gave them. */
    double share;
    uint64_t assigned;
    int64_t bound;
    double low, high;
    int64_t n;
};

/* Why best_match chose its member. */
enum best_match_reason {
    BEST_NONE = 0,     /* not best_match, or no decision */
    BEST_HIGHEST,      /* the highest expected conversion, within its bound */
    BEST_NEXT_BEST,    /* the better ones were at their bound: the next best */
    BEST_BEHIND_SHARE, /* a member was behind its lower bound: the furthest behind */
    BEST_ALL_AT_BOUND, /* every eligible member at its bound: the largest deficit */
};

/* "", "highest_expected", "next_best", "behind_share", "all_at_bound". */
const char *best_match_reason_name(enum best_match_reason r);

/* Decision flags. */
#define STRATEGY_RESTARTED     0x1u /* the state was written by another strategy: started afresh */
#define STRATEGY_WINDOW_ROLLED 0x2u /* fair_share: a new window: credits and counts from 0 */
#define STRATEGY_REBASED       0x4u /* weighted: pointers lowered together (see POINTER_MAX) */

struct strategy_decision {
    int chosen;                  /* index into members, or -1: none (hold queue) */
    const char *rep_id;          /* members[chosen].rep_id, or NULL */
    unsigned flags;              /* STRATEGY_RESTARTED | ... */
    struct pool_state before;    /* a shallow copy of the input state */
    struct pool_state after;     /* the state to persist */
    struct strategy_note *notes; /* n_members of them */
    size_t n_notes;
    const char **removed; /* ids of entries dropped because they left the pool */
    size_t n_removed;
    enum best_match_reason best_reason; /* best_match */
    int passed_over; /* best_match, BEST_NEXT_BEST: the best member, at its bound; else -1 */
};

/*
 * Decides who gets one lead. On success fills *out and returns BT_OK; the
 * input state is not modified. Memory: out->notes, out->removed and
 * out->after.entries are in `arena`; the strings in `after` and in the notes
 * are the members' rep_id strings (or, for a last_rep_id that left the pool,
 * an arena copy); out->before and out->removed point into the input state.
 * So `out` is valid while the arena, the members and the input state are.
 * The same inputs always give the same decision.
 *
 * Errors (nothing in *out is meaningful): BT_EINVAL for a bad member (empty,
 * too long or repeated id, weight out of range, capacity, open or recent out
 * of range), a corrupt state (repeated or bad ids, values out of range, an
 * unknown strategy), window_start after now, or a fair_share state from a
 * window later than window_start (the clock went back: nothing is reset);
 * BT_ETOOBIG for more than STRATEGY_MEMBERS_MAX members or entries, or when
 * the arena is full.
 */
bt_err strategy_decide(const struct strategy_input *in, struct arena *arena,
                       struct strategy_decision *out, struct bt_error *err) BT_MUST_USE;

#endif
