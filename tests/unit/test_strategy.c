/*
 * test_strategy.c - pool strategies: exact sequences of who gets leads 1..N
 * for each strategy, weights, members joining and leaving mid-way, absences
 * under both fair_share policies, load against capacity, ties, nobody
 * eligible, the explanation, and bad input.
 *
 * A small harness keeps a pool the way the engine will: it decides, copies
 * the new state out of the arena (as the store would persist it), releases
 * the arena and feeds the state to the next decision. Sequences are written
 * as strings of one-letter rep ids, '-' for "none".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXM  8
#define SCALE STRATEGY_POINTER_SCALE

struct pool {
    enum strategy_kind kind;
    enum absence_policy absence;
    struct pool_member m[MAXM];
    size_t n;
    int64_t now, window_start;
    double tolerance; /* best_match */
    bool track_load;  /* load_balanced: open and recent grow, full members become ineligible */
    /* the persisted state, owned here; two buffers, so that the last
     * decision's `before` stays valid after its `after` is persisted */
    struct pool_state state;
    int buffer;
    struct pool_state_entry entries[2][MAXM * 2];
    char ids[2][MAXM * 2][STRATEGY_REP_ID_MAX + 1];
    char last[2][STRATEGY_REP_ID_MAX + 1];
    /* the last decision, valid until the next step */
    struct arena arena;
    struct strategy_decision d;
};

static const char *const letters[] = {"a", "b", "c", "d", "e", "f", "g", "h"};

/* A pool of members with the given ids ("abc"), weight 1, unlimited, eligible.
 * `p` is zeroed or was initialised before. */
static void pool_init(struct pool *p, enum strategy_kind kind, const char *ids)
{
    arena_release(&p->arena);
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->now = 1700000000000;
    p->window_start = 1699999200000;
    p->state = (struct pool_state)POOL_STATE_INIT;
    p->n = strlen(ids);
    for (size_t i = 0; i < p->n; i++) {
        p->m[i] = (struct pool_member){.rep_id = letters[ids[i] - 'a'],
                                       .weight = 1,
                                       .capacity = STRATEGY_UNLIMITED,
                                       .eligible = true};
    }
}

static struct pool_member *member(struct pool *p, char id)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->m[i].rep_id[0] == id)
            return &p->m[i];
    fail_msg("no member %c", id);
    return NULL;
}

/* Replaces the members by `ids`, keeping the settings of those who stay. */
static void set_members(struct pool *p, const char *ids)
{
    struct pool_member next[MAXM];
    size_t n = strlen(ids);
    for (size_t i = 0; i < n; i++) {
        next[i] = (struct pool_member){.rep_id = letters[ids[i] - 'a'],
                                       .weight = 1,
                                       .capacity = STRATEGY_UNLIMITED,
                                       .eligible = true};
        for (size_t k = 0; k < p->n; k++)
            if (p->m[k].rep_id[0] == ids[i])
                next[i] = p->m[k];
    }
    memcpy(p->m, next, sizeof(next));
    p->n = n;
}

static void set_eligible(struct pool *p, char id, bool eligible, int reason)
{
    struct pool_member *x = member(p, id);
    x->eligible = eligible;
    x->ineligible_reason = eligible ? 0 : reason;
}

/* Copies the decision's state into the pool (deep: ids too), like a store. */
static void persist(struct pool *p, const struct pool_state *s)
{
    int b = p->buffer = !p->buffer;
    struct pool_state copy = *s;
    assert_true(copy.n_entries <= MAXM * 2);
    for (size_t j = 0; j < copy.n_entries; j++) {
        snprintf(p->ids[b][j], sizeof(p->ids[b][j]), "%s", s->entries[j].rep_id);
        p->entries[b][j] = s->entries[j];
        p->entries[b][j].rep_id = p->ids[b][j];
    }
    if (s->last_rep_id) {
        snprintf(p->last[b], sizeof(p->last[b]), "%s", s->last_rep_id);
        copy.last_rep_id = p->last[b];
    }
    copy.entries = p->entries[b];
    p->state = copy;
}

static void expect_same_state(const struct pool_state *x, const struct pool_state *y)
{
    assert_int_equal(x->strategy, y->strategy);
    assert_ptr_equal(x->last_rep_id, y->last_rep_id);
    assert_int_equal(x->window_start, y->window_start);
    assert_int_equal(x->updated_at, y->updated_at);
    assert_int_equal(x->decisions, y->decisions);
    assert_ptr_equal(x->entries, y->entries);
    assert_int_equal(x->n_entries, y->n_entries);
}

/* Whether step() vouches for distinct members (members_distinct): the
 * sequence tests run both ways and must give the same results. */
static bool distinct_members;

static int vouch(void **unused)
{
    (void)unused;
    distinct_members = true;
    return 0;
}

/* One lead: returns the chosen id's letter, or '-'. */
static char step(struct pool *p)
{
    arena_release(&p->arena);
    struct strategy_input in = {.strategy = p->kind,
                                .absence = p->absence,
                                .members = p->m,
                                .n_members = p->n,
                                .state = &p->state,
                                .now = p->now,
                                .window_start = p->window_start,
                                .members_distinct = distinct_members,
                                .tolerance = p->tolerance};
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = strategy_decide(&in, &p->arena, &p->d, &err);
    if (rc)
        fail_msg("strategy_decide: %s", err.message);
    p->now += 1000;
    if (p->d.chosen < 0) {
        assert_null(p->d.rep_id);
        return '-';
    }
    assert_true(p->m[p->d.chosen].eligible);
    assert_string_equal(p->d.rep_id, p->m[p->d.chosen].rep_id);
    if (p->track_load) {
        struct pool_member *x = &p->m[p->d.chosen];
        x->open++;
        x->recent++;
        if (x->capacity != STRATEGY_UNLIMITED && x->open >= x->capacity)
            x->eligible = false;
    }
    persist(p, &p->d.after);
    return p->d.rep_id[0];
}

static const char *run(struct pool *p, int leads, char *buf)
{
    for (int i = 0; i < leads; i++)
        buf[i] = step(p);
    buf[leads] = '\0';
    return buf;
}

#define EXPECT_RUN(p, seq)                                                                         \
    do {                                                                                           \
        char buf_[256];                                                                            \
        assert_string_equal(run((p), (int)strlen(seq), buf_), (seq));                              \
    } while (0)

static const struct pool_state_entry *entry(const struct pool_state *s, char id)
{
    for (size_t j = 0; j < s->n_entries; j++)
        if (s->entries[j].rep_id[0] == id)
            return &s->entries[j];
    return NULL;
}

static const struct strategy_note *note(const struct strategy_decision *d, char id)
{
    for (size_t i = 0; i < d->n_notes; i++)
        if (d->notes[i].rep_id[0] == id)
            return &d->notes[i];
    fail_msg("no note for %c", id);
    return NULL;
}

/* Runs `leads` leads and checks who got how many, from a tally and from the
 * counts in the state. */
static void expect_counts(struct pool *p, int leads, const int *want)
{
    int got[MAXM] = {0};
    uint64_t had[MAXM] = {0}, decisions = p->state.decisions;
    for (size_t i = 0; i < p->n; i++) {
        const struct pool_state_entry *e = entry(&p->state, p->m[i].rep_id[0]);
        had[i] = e ? e->assigned : 0;
    }
    for (int i = 0; i < leads; i++) {
        char c = step(p);
        assert_true(c != '-');
        got[c - 'a']++;
    }
    for (size_t i = 0; i < p->n; i++) {
        int k = p->m[i].rep_id[0] - 'a';
        if (got[k] != want[i])
            fail_msg("%s got %d leads, expected %d", p->m[i].rep_id, got[k], want[i]);
        assert_int_equal(entry(&p->state, p->m[i].rep_id[0])->assigned - had[i], (uint64_t)want[i]);
    }
    assert_int_equal(p->state.decisions - decisions, (uint64_t)leads);
}

static void pool_release(struct pool *p)
{
    arena_release(&p->arena);
}

/* --- names ------------------------------------------------------------------ */

static void test_names(void **unused)
{
    (void)unused;
    static const char *const names[] = {"round_robin", "weighted", "load_balanced", "fair_share"};
    for (int k = STRATEGY_ROUND_ROBIN; k <= STRATEGY_FAIR_SHARE; k++) {
        enum strategy_kind parsed = STRATEGY_UNSET;
        assert_string_equal(strategy_name((enum strategy_kind)k), names[k - 1]);
        assert_true(strategy_parse(names[k - 1], &parsed));
        assert_int_equal(parsed, k);
    }
    enum strategy_kind kind = STRATEGY_WEIGHTED;
    assert_false(strategy_parse("unset", &kind));
    assert_false(strategy_parse("Round_Robin", &kind));
    assert_false(strategy_parse(NULL, &kind));
    assert_int_equal(kind, STRATEGY_WEIGHTED);
    assert_string_equal(strategy_name((enum strategy_kind)99), "unknown");

    enum absence_policy policy = ABSENCE_CATCH_UP;
    assert_true(absence_policy_parse("no_catch_up", &policy));
    assert_int_equal(policy, ABSENCE_NO_CATCH_UP);
    assert_string_equal(absence_policy_name(ABSENCE_CATCH_UP), "catch_up");
    assert_false(absence_policy_parse("catchup", &policy));

    assert_string_equal(strategy_verdict_name(STRATEGY_CHOSEN), "chosen");
    assert_string_equal(strategy_verdict_name(STRATEGY_TIE_LATER), "tie_later");
    assert_string_equal(strategy_verdict_name(STRATEGY_TIE_MORE_RECENT), "tie_more_recent");
    assert_string_equal(strategy_verdict_name((enum strategy_verdict)99), "unknown");
}

/* --- round_robin ------------------------------------------------------------ */

static void test_round_robin_rotation(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abc");
    EXPECT_RUN(&p, "abcabcabc");
    assert_string_equal(p.state.last_rep_id, "c");

    pool_init(&p, STRATEGY_ROUND_ROBIN, "abc");
    expect_counts(&p, 3000, (const int[]){1000, 1000, 1000});
    pool_release(&p);
}

static void test_round_robin_skips_ineligible(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abc");
    EXPECT_RUN(&p, "abc");
    set_eligible(&p, 'b', false, 7);
    EXPECT_RUN(&p, "aca");
    assert_int_equal(note(&p.d, 'b')->verdict, STRATEGY_INELIGIBLE);
    assert_int_equal(note(&p.d, 'b')->ineligible_reason, 7);
    /* b takes its turn again, without making up what it missed */
    set_eligible(&p, 'b', true, 0);
    EXPECT_RUN(&p, "bcabc");
    /* only one eligible: it gets every lead */
    set_eligible(&p, 'a', false, 1);
    set_eligible(&p, 'b', false, 1);
    EXPECT_RUN(&p, "ccc");
    pool_release(&p);
}

static void test_round_robin_membership(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abcd");
    EXPECT_RUN(&p, "ab");
    /* b (the last assigned) leaves: the rotation goes on after a, its
     * predecessor, i.e. where b was */
    set_members(&p, "acd");
    EXPECT_RUN(&p, "c");
    assert_int_equal(p.d.n_removed, 1);
    assert_string_equal(p.d.removed[0], "b");
    EXPECT_RUN(&p, "da");
    /* e joins between a and c: it is next after a, in its config place */
    set_members(&p, "aecd");
    EXPECT_RUN(&p, "e");
    assert_true(note(&p.d, 'e')->joined);
    assert_false(note(&p.d, 'a')->joined);
    EXPECT_RUN(&p, "cdae");
    /* the last assigned (e) is replaced by f in its place: f is next */
    set_members(&p, "afcd");
    EXPECT_RUN(&p, "fcdaf");
    /* a member who is not the pointer leaves: the others keep their turns */
    set_members(&p, "afd");
    EXPECT_RUN(&p, "dafd");
    /* members reordered in the config: rotation follows the new order after d */
    set_members(&p, "dfa");
    EXPECT_RUN(&p, "fadf");
    pool_release(&p);
}

static void test_round_robin_none_keeps_turn(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abcd");
    EXPECT_RUN(&p, "ab");
    /* b leaves while nobody is eligible: the state is kept as it was */
    set_members(&p, "acd");
    set_eligible(&p, 'a', false, 1);
    set_eligible(&p, 'c', false, 2);
    set_eligible(&p, 'd', false, 3);
    EXPECT_RUN(&p, "--");
    assert_string_equal(p.state.last_rep_id, "b");
    assert_int_equal(p.state.n_entries, 4);
    assert_int_equal(p.d.n_removed, 0);
    set_eligible(&p, 'a', true, 0);
    set_eligible(&p, 'c', true, 0);
    set_eligible(&p, 'd', true, 0);
    EXPECT_RUN(&p, "cda");
    pool_release(&p);
}

/* --- weighted --------------------------------------------------------------- */

static void test_weighted_equal(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    EXPECT_RUN(&p, "abcabcabc");
    for (char c = 'a'; c <= 'c'; c++)
        assert_int_equal(entry(&p.state, c)->pointer, 3 * SCALE);
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    expect_counts(&p, 3000, (const int[]){1000, 1000, 1000});
    for (char c = 'a'; c <= 'c'; c++)
        assert_int_equal(entry(&p.state, c)->pointer, 1000 * SCALE);
    pool_release(&p);
}

static void test_weighted_3_2_1(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    /* pointers in sixths of a lead: a +2, b +3, c +6; ties by config order */
    EXPECT_RUN(&p, "abcaba"
                   "abcaba");
    assert_int_equal(entry(&p.state, 'a')->pointer, 2 * SCALE);
    assert_int_equal(entry(&p.state, 'b')->pointer, 2 * SCALE);
    assert_int_equal(entry(&p.state, 'c')->pointer, 2 * SCALE);

    struct pool q = {0};
    pool_init(&q, STRATEGY_WEIGHTED, "abc");
    member(&q, 'a')->weight = 3;
    member(&q, 'b')->weight = 2;
    expect_counts(&q, 600, (const int[]){300, 200, 100});
    /* the same with the weights in another order and more leads */
    pool_init(&q, STRATEGY_WEIGHTED, "abc");
    member(&q, 'a')->weight = 1;
    member(&q, 'c')->weight = 3;
    member(&q, 'b')->weight = 2;
    expect_counts(&q, 6000, (const int[]){1000, 2000, 3000});
    pool_release(&p);
    pool_release(&q);
}

static void test_weighted_fractional_weights(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "ab");
    member(&p, 'a')->weight = 1.5;
    expect_counts(&p, 500, (const int[]){300, 200});
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    member(&p, 'a')->weight = 0.1;
    member(&p, 'b')->weight = 0.2;
    member(&p, 'c')->weight = 0.3;
    expect_counts(&p, 600, (const int[]){100, 200, 300});
    pool_init(&p, STRATEGY_WEIGHTED, "abcd");
    member(&p, 'a')->weight = 7;
    member(&p, 'b')->weight = 11;
    member(&p, 'c')->weight = 13;
    member(&p, 'd')->weight = 17;
    expect_counts(&p, 48 * 25, (const int[]){7 * 25, 11 * 25, 13 * 25, 17 * 25});
    pool_release(&p);
}

static void test_weighted_newcomer(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "ab");
    EXPECT_RUN(&p, "abab");
    /* c joins level with the front (pointer 2), not at 0: no run of leads */
    set_members(&p, "abc");
    EXPECT_RUN(&p, "a");
    assert_true(note(&p.d, 'c')->joined);
    assert_true(note(&p.d, 'c')->value == 2.0);
    assert_int_equal(note(&p.d, 'c')->verdict, STRATEGY_TIE_LATER);
    EXPECT_RUN(&p, "bcabc");
    expect_counts(&p, 3000, (const int[]){1000, 1000, 1000});

    /* the front is the lowest pointer of the eligible: a member who is away
     * with a low pointer does not drag the newcomer back */
    pool_init(&p, STRATEGY_WEIGHTED, "ab");
    EXPECT_RUN(&p, "ab");
    set_eligible(&p, 'a', false, 1);
    EXPECT_RUN(&p, "bbbb"); /* a at 1, b at 5 */
    set_members(&p, "abc");
    EXPECT_RUN(&p, "b");
    assert_true(note(&p.d, 'c')->value == 5.0);
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_INELIGIBLE);
    assert_true(note(&p.d, 'a')->value == 1.0);
    EXPECT_RUN(&p, "cbc");
    pool_release(&p);
}

static void test_weighted_absence(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    EXPECT_RUN(&p, "abc");
    set_eligible(&p, 'a', false, 3);
    EXPECT_RUN(&p, "bcbcbc");
    /* a's pointer did not move while it was away: it makes up 3 leads */
    assert_int_equal(entry(&p.state, 'a')->pointer, 1 * SCALE);
    assert_int_equal(entry(&p.state, 'b')->pointer, 4 * SCALE);
    set_eligible(&p, 'a', true, 0);
    EXPECT_RUN(&p, "aaaabcabc");
    assert_int_equal(entry(&p.state, 'a')->assigned, 6);
    assert_int_equal(entry(&p.state, 'b')->assigned, 6);
    assert_int_equal(entry(&p.state, 'c')->assigned, 6);
    pool_release(&p);
}

static void test_weighted_member_leaves(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    member(&p, 'c')->weight = 2;
    EXPECT_RUN(&p, "abcc");
    set_members(&p, "ac");
    EXPECT_RUN(&p, "a");
    assert_int_equal(p.d.n_removed, 1);
    assert_string_equal(p.d.removed[0], "b");
    assert_int_equal(p.state.n_entries, 2);
    assert_int_equal(entry(&p.state, 'c')->pointer, SCALE); /* untouched */
    EXPECT_RUN(&p, "ccaccacc");
    /* b comes back: a newcomer again, level with the front (a and c at 4) */
    set_members(&p, "abc");
    EXPECT_RUN(&p, "a");
    assert_true(note(&p.d, 'b')->joined);
    assert_true(note(&p.d, 'b')->value == 4.0);
    EXPECT_RUN(&p, "bcc");
    pool_release(&p);
}

static void test_weighted_rebase(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    EXPECT_RUN(&p, "a");
    /* a state that has run for very long: same distances, huge pointers */
    const int64_t base = STRATEGY_POINTER_MAX - 2 * SCALE + 1;
    p.state.entries[0].pointer = base + SCALE; /* a */
    p.state.entries[1].pointer = base;         /* b */
    p.state.entries[2].pointer = base;         /* c */
    EXPECT_RUN(&p, "b");
    assert_int_equal(p.d.flags, 0);
    EXPECT_RUN(&p, "c");
    assert_int_equal(p.d.flags, 0);
    EXPECT_RUN(&p, "a"); /* a passes POINTER_MAX */
    assert_int_equal(p.d.flags, STRATEGY_REBASED);
    /* lowered by the lowest: order and distances unchanged */
    assert_int_equal(entry(&p.state, 'a')->pointer, SCALE);
    assert_int_equal(entry(&p.state, 'b')->pointer, 0);
    assert_int_equal(entry(&p.state, 'c')->pointer, 0);
    EXPECT_RUN(&p, "bcabca");

    /* a member absent so long that it is more than POINTER_MAX behind is
     * lifted to POINTER_MAX behind */
    p.state.entries[0].pointer = STRATEGY_POINTER_MAX;
    p.state.entries[1].pointer = 0;
    p.state.entries[2].pointer = STRATEGY_POINTER_MAX;
    set_eligible(&p, 'b', false, 1);
    EXPECT_RUN(&p, "a");
    assert_int_equal(p.d.flags, STRATEGY_REBASED);
    assert_int_equal(entry(&p.state, 'a')->pointer, STRATEGY_POINTER_MAX);
    assert_int_equal(entry(&p.state, 'b')->pointer, 0);
    assert_int_equal(entry(&p.state, 'c')->pointer, STRATEGY_POINTER_MAX - SCALE);
    pool_release(&p);
}

/* --- load_balanced ---------------------------------------------------------- */

static void test_load_balanced_capacity(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_LOAD_BALANCED, "ab");
    p.track_load = true;
    member(&p, 'a')->capacity = 2;
    member(&p, 'b')->capacity = 4;
    /* 0/2=0/4 (recent 0=0: a), 1/2>0/4, 1/2>1/4, 1/2=2/4 (recent 1<2: a),
     * then a is full; b to 4/4; then nobody is below capacity */
    EXPECT_RUN(&p, "abbabb-");
    assert_int_equal(member(&p, 'a')->open, 2);
    assert_int_equal(member(&p, 'b')->open, 4);

    pool_init(&p, STRATEGY_LOAD_BALANCED, "abc");
    p.track_load = true;
    member(&p, 'a')->capacity = 3;
    member(&p, 'b')->capacity = 6;
    member(&p, 'c')->capacity = 9;
    member(&p, 'c')->open = 3;
    /* loads 0 0 1/3 (a); 1/3 0 1/3 (b); 1/3 1/6 1/3 (b); all 1/3, recent
     * 1 2 0 (c); 1/3 1/3 4/9, recent 1 2 (a); ... a full after 10, b after 14 */
    EXPECT_RUN(&p, "abbcabcbcacbcbc-");
    pool_release(&p);
}

static void test_load_balanced_ties_and_unlimited(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_LOAD_BALANCED, "abcd");
    /* 1/3 and 2/6 are equal exactly; b has fewer recent assignments */
    member(&p, 'a')->capacity = 3;
    member(&p, 'a')->open = 1;
    member(&p, 'a')->recent = 5;
    member(&p, 'b')->capacity = 6;
    member(&p, 'b')->open = 2;
    member(&p, 'b')->recent = 4;
    member(&p, 'c')->capacity = 9;
    member(&p, 'c')->open = 3;
    member(&p, 'c')->recent = 4;
    member(&p, 'd')->capacity = 10;
    member(&p, 'd')->open = 4;
    EXPECT_RUN(&p, "b");
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_TIE_MORE_RECENT);
    assert_int_equal(note(&p.d, 'c')->verdict, STRATEGY_TIE_LATER);
    assert_int_equal(note(&p.d, 'd')->verdict, STRATEGY_HIGHER_LOAD);
    assert_true(note(&p.d, 'd')->value == 0.4);
    assert_true(fabs(note(&p.d, 'b')->value - 1.0 / 3) < 1e-12);

    /* unlimited counts as the largest limited capacity (10): 2/10 < 3/10 */
    pool_init(&p, STRATEGY_LOAD_BALANCED, "abc");
    member(&p, 'a')->capacity = 10;
    member(&p, 'a')->open = 3;
    member(&p, 'b')->open = 2;
    member(&p, 'c')->capacity = 5;
    member(&p, 'c')->open = 2;
    EXPECT_RUN(&p, "b");
    assert_true(note(&p.d, 'b')->value == 0.2);
    assert_int_equal(note(&p.d, 'c')->verdict, STRATEGY_HIGHER_LOAD);
    member(&p, 'b')->open = 3; /* 3/10 = 3/10 < 2/5: a, first in order */
    EXPECT_RUN(&p, "a");
    assert_int_equal(note(&p.d, 'b')->verdict, STRATEGY_TIE_LATER);

    /* all unlimited: open counts */
    pool_init(&p, STRATEGY_LOAD_BALANCED, "abc");
    p.track_load = true;
    member(&p, 'a')->open = 2;
    member(&p, 'b')->open = 0;
    member(&p, 'c')->open = 1;
    /* 2 0 1 (b); 2 1 1, recent b 1 c 0 (c); 2 1 2 (b); 2 2 2, recent 0 2 1
     * (a); 3 2 2, recent b 2 c 1 (c); 3 2 3 (b) */
    EXPECT_RUN(&p, "bcbacb");

    /* capacity 0 is always full, even with nothing open */
    pool_init(&p, STRATEGY_LOAD_BALANCED, "ab");
    member(&p, 'a')->capacity = 0;
    member(&p, 'b')->capacity = 2;
    member(&p, 'b')->open = 1;
    EXPECT_RUN(&p, "b");
    assert_true(isinf(note(&p.d, 'a')->value));
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_HIGHER_LOAD);
    pool_release(&p);
}

/* --- fair_share ------------------------------------------------------------- */

static void test_fair_share_weights(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    EXPECT_RUN(&p, "abcabc");
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    expect_counts(&p, 3000, (const int[]){1000, 1000, 1000});

    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    /* deficits of lead 1: 1/2, 1/3, 1/6; lead 3: a and c both 1/2 (a) */
    EXPECT_RUN(&p, "abacba"
                   "abacba");
    for (char c = 'a'; c <= 'c'; c++)
        assert_int_equal(entry(&p.state, c)->credit, 0);
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    expect_counts(&p, 600, (const int[]){300, 200, 100});
    pool_release(&p);
}

static void test_fair_share_catch_up(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_CATCH_UP;
    EXPECT_RUN(&p, "abc");
    set_eligible(&p, 'a', false, 4);
    EXPECT_RUN(&p, "bcbcbc");
    /* a is owed 6 x 1/3 = 2 leads; b and c received 1 each too many */
    assert_int_equal(entry(&p.state, 'a')->credit, 6000);
    assert_int_equal(entry(&p.state, 'b')->credit, -3000);
    assert_int_equal(entry(&p.state, 'c')->credit, -3000);
    assert_true(note(&p.d, 'a')->value == 2.0); /* owed, counting the last lead */
    set_eligible(&p, 'a', true, 0);
    /* a makes up its shortfall: 15 leads, 5 each */
    EXPECT_RUN(&p, "aaaabc");
    assert_int_equal(entry(&p.state, 'a')->assigned, 5);
    assert_int_equal(entry(&p.state, 'b')->assigned, 5);
    assert_int_equal(entry(&p.state, 'c')->assigned, 5);
    EXPECT_RUN(&p, "abcabc");
    pool_release(&p);
}

static void test_fair_share_no_catch_up(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_NO_CATCH_UP;
    EXPECT_RUN(&p, "abc");
    set_eligible(&p, 'a', false, 4);
    EXPECT_RUN(&p, "bcbcbc");
    /* time away counts as share received: nobody owes anybody */
    assert_int_equal(entry(&p.state, 'a')->credit, 0);
    assert_int_equal(entry(&p.state, 'b')->credit, 0);
    assert_int_equal(entry(&p.state, 'c')->credit, 0);
    set_eligible(&p, 'a', true, 0);
    /* a returns level with the others: neither buried nor starved */
    EXPECT_RUN(&p, "abcabc");
    assert_int_equal(entry(&p.state, 'a')->assigned, 3);
    assert_int_equal(entry(&p.state, 'b')->assigned, 6);
    assert_int_equal(entry(&p.state, 'c')->assigned, 6);

    /* a member who leaves while owed keeps exactly that credit */
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_NO_CATCH_UP;
    member(&p, 'a')->weight = 2;
    /* lead 1: a 2000 b 1000 c 1000 -> a: -2000; lead 2: a 0 b 2000 c 2000 -> b:
     * a 0, b -2000, c 2000 */
    EXPECT_RUN(&p, "ab");
    assert_int_equal(entry(&p.state, 'c')->credit, 2000);
    set_eligible(&p, 'c', false, 1);
    /* a and b share 2:1 while c is away; c's credit does not move */
    EXPECT_RUN(&p, "aabaab");
    assert_int_equal(entry(&p.state, 'c')->credit, 2000);
    set_eligible(&p, 'c', true, 0);
    EXPECT_RUN(&p, "c");
    pool_release(&p);
}

static void test_fair_share_absence_with_weights(void **unused)
{
    (void)unused;
    /* 3:2:1, c away for 30 leads then back. catch_up: c is owed 5 and gets
     * them at once; no_catch_up: c goes on at its share */
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_CATCH_UP;
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    EXPECT_RUN(&p, "abacba");
    set_eligible(&p, 'c', false, 2);
    char buf[64];
    run(&p, 30, buf);
    assert_int_equal(entry(&p.state, 'c')->assigned, 1);
    assert_int_equal(entry(&p.state, 'a')->assigned, 3 + 18);
    assert_int_equal(entry(&p.state, 'b')->assigned, 2 + 12);
    assert_int_equal(entry(&p.state, 'c')->credit, 30000); /* 5 leads x 6000 */
    set_eligible(&p, 'c', true, 0);
    EXPECT_RUN(&p, "cccccc");
    /* 42 leads: a 21 b 14 c 7 exactly */
    assert_int_equal(entry(&p.state, 'a')->assigned, 21);
    assert_int_equal(entry(&p.state, 'b')->assigned, 14);
    assert_int_equal(entry(&p.state, 'c')->assigned, 7);

    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_NO_CATCH_UP;
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    EXPECT_RUN(&p, "abacba");
    set_eligible(&p, 'c', false, 2);
    EXPECT_RUN(&p, "ababa"
                   "ababa");
    set_eligible(&p, 'c', true, 0);
    EXPECT_RUN(&p, "abacba");
    pool_release(&p);
}

static void test_fair_share_window(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    p.absence = ABSENCE_CATCH_UP;
    EXPECT_RUN(&p, "ab");
    set_eligible(&p, 'a', false, 1);
    EXPECT_RUN(&p, "cbc");
    assert_int_equal(entry(&p.state, 'a')->credit, 2000);
    assert_int_equal(p.state.window_start, p.window_start);
    /* a new day: credits and counts restart, and the decision says so */
    p.window_start += 86400000;
    p.now = p.window_start + 1000;
    set_eligible(&p, 'a', true, 0);
    EXPECT_RUN(&p, "a");
    assert_int_equal(p.d.flags, STRATEGY_WINDOW_ROLLED);
    assert_int_equal(p.d.before.entries[0].credit, 2000);
    assert_int_equal(entry(&p.state, 'a')->assigned, 1);
    assert_int_equal(entry(&p.state, 'b')->assigned, 0);
    assert_int_equal(entry(&p.state, 'a')->credit, -2000);
    assert_int_equal(p.state.decisions, 6); /* the total goes on */
    EXPECT_RUN(&p, "bc");
    assert_int_equal(p.d.flags, 0);

    /* the clock went back to an earlier window: refused, nothing reset */
    struct strategy_input in = {.strategy = STRATEGY_FAIR_SHARE,
                                .members = p.m,
                                .n_members = p.n,
                                .state = &p.state,
                                .now = p.now,
                                .window_start = p.window_start - 86400000};
    struct bt_error err = BT_ERROR_INIT;
    struct strategy_decision d;
    assert_int_equal(strategy_decide(&in, &p.arena, &d, &err), BT_EINVAL);
    assert_string_equal(err.field, "window_start");
    assert_non_null(strstr(err.message, "later window"));
    in.window_start = p.now + 1;
    assert_int_equal(strategy_decide(&in, &p.arena, &d, &err), BT_EINVAL);
    pool_release(&p);
}

/* --- none, explanation, restarts, bad input --------------------------------- */

static void test_no_eligible_member(void **unused)
{
    (void)unused;
    for (int k = STRATEGY_ROUND_ROBIN; k <= STRATEGY_FAIR_SHARE; k++) {
        struct pool p = {0};
        pool_init(&p, (enum strategy_kind)k, "abc");
        EXPECT_RUN(&p, "a");
        struct pool_state before = p.state;
        set_eligible(&p, 'a', false, 11);
        set_eligible(&p, 'b', false, 12);
        set_eligible(&p, 'c', false, 13);
        EXPECT_RUN(&p, "-");
        assert_int_equal(p.d.chosen, -1);
        assert_int_equal(p.d.flags, 0);
        assert_int_equal(p.d.n_notes, 3);
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(p.d.notes[i].verdict, STRATEGY_INELIGIBLE);
            assert_int_equal(p.d.notes[i].ineligible_reason, 11 + (int)i);
        }
        /* the state is as it was */
        expect_same_state(&p.d.after, &before);
        expect_same_state(&p.state, &before);
        pool_release(&p);
    }
    /* an empty pool */
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "");
    EXPECT_RUN(&p, "-");
    assert_int_equal(p.d.n_notes, 0);
    pool_release(&p);
}

static void test_explanation(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_WEIGHTED, "abcd");
    member(&p, 'b')->weight = 2;
    EXPECT_RUN(&p, "abcdb"); /* a 1, b 1, c 1, d 1 (b +1/2 twice) */
    set_members(&p, "abce");
    set_eligible(&p, 'c', false, 9);
    p.now = 1700000099000;
    EXPECT_RUN(&p, "a");
    const struct strategy_decision *d = &p.d;
    assert_int_equal(d->chosen, 0);
    assert_string_equal(d->rep_id, "a");
    assert_int_equal(d->flags, 0);
    /* before: the state as it was, d included */
    assert_int_equal(d->before.n_entries, 4);
    assert_string_equal(d->before.entries[3].rep_id, "d");
    assert_int_equal(d->before.entries[0].pointer, SCALE);
    assert_int_equal(d->before.decisions, 5);
    /* after: config order, d dropped, e joined at the front, a moved on */
    assert_int_equal(d->after.strategy, STRATEGY_WEIGHTED);
    assert_int_equal(d->after.n_entries, 4);
    assert_string_equal(d->after.entries[3].rep_id, "e");
    assert_int_equal(d->after.entries[0].pointer, 2 * SCALE);
    assert_int_equal(d->after.entries[1].pointer, SCALE);
    assert_int_equal(d->after.entries[3].pointer, SCALE);
    assert_int_equal(d->after.entries[0].assigned, 2);
    assert_int_equal(d->after.entries[3].assigned, 0);
    assert_int_equal(d->after.decisions, 6);
    assert_int_equal(d->after.updated_at, 1700000099000);
    assert_int_equal(d->n_removed, 1);
    assert_string_equal(d->removed[0], "d");
    /* a note per member, in config order, with why */
    assert_int_equal(d->n_notes, 4);
    static const enum strategy_verdict want[] = {STRATEGY_CHOSEN, STRATEGY_TIE_LATER,
                                                 STRATEGY_INELIGIBLE, STRATEGY_TIE_LATER};
    static const char *const ids[] = {"a", "b", "c", "e"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(d->notes[i].rep_id, ids[i]);
        assert_int_equal(d->notes[i].verdict, want[i]);
        assert_true(d->notes[i].value == 1.0);
        assert_int_equal(d->notes[i].joined, i == 3);
    }
    assert_int_equal(d->notes[2].ineligible_reason, 9);
    EXPECT_RUN(&p, "b");
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_HIGHER_POINTER);
    assert_true(note(&p.d, 'a')->value == 2.0);
    assert_int_equal(note(&p.d, 'e')->verdict, STRATEGY_TIE_LATER);

    /* round_robin notes: places in the rotation */
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abcd");
    EXPECT_RUN(&p, "ab");
    set_eligible(&p, 'c', false, 5);
    EXPECT_RUN(&p, "d");
    assert_true(note(&p.d, 'c')->value == 0.0);
    assert_true(note(&p.d, 'd')->value == 1.0);
    assert_true(note(&p.d, 'a')->value == 2.0);
    assert_true(note(&p.d, 'b')->value == 3.0);
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_LATER_IN_TURN);
    assert_string_equal(p.d.before.last_rep_id, "b");
    assert_string_equal(p.d.after.last_rep_id, "d");

    /* fair_share notes: deficits in leads, counting this lead */
    pool_init(&p, STRATEGY_FAIR_SHARE, "abc");
    member(&p, 'a')->weight = 3;
    member(&p, 'b')->weight = 2;
    EXPECT_RUN(&p, "a");
    assert_true(note(&p.d, 'a')->value == 0.5);
    assert_true(fabs(note(&p.d, 'b')->value - 1.0 / 3) < 1e-12);
    assert_int_equal(note(&p.d, 'b')->verdict, STRATEGY_SMALLER_DEFICIT);
    assert_int_equal(p.d.after.window_start, p.window_start);
    pool_release(&p);
}

static void test_strategy_change_restarts(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_ROUND_ROBIN, "abc");
    EXPECT_RUN(&p, "ab");
    p.kind = STRATEGY_WEIGHTED;
    EXPECT_RUN(&p, "a");
    assert_int_equal(p.d.flags, STRATEGY_RESTARTED);
    assert_int_equal(p.d.before.strategy, STRATEGY_ROUND_ROBIN);
    assert_null(p.d.after.last_rep_id);
    assert_int_equal(p.state.decisions, 1);
    assert_int_equal(entry(&p.state, 'a')->assigned, 1);
    assert_int_equal(entry(&p.state, 'b')->assigned, 0);
    assert_false(note(&p.d, 'b')->joined);
    EXPECT_RUN(&p, "bc");
    assert_int_equal(p.d.flags, 0);
    pool_release(&p);
}

static void test_deterministic_and_pure(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_FAIR_SHARE, "abcde");
    member(&p, 'b')->weight = 2.5;
    member(&p, 'd')->weight = 0.5;
    /* weights 1, 2.5, 1, 0.5, 1 (checked against a model in fractions) */
    EXPECT_RUN(&p, "bacbebdabc");
    set_eligible(&p, 'b', false, 1);

    struct pool_state_entry saved[MAXM * 2];
    memcpy(saved, p.state.entries, p.state.n_entries * sizeof(*saved));
    struct pool_state saved_state = p.state;
    struct strategy_input in = {.strategy = p.kind,
                                .members = p.m,
                                .n_members = p.n,
                                .state = &p.state,
                                .now = p.now,
                                .window_start = p.window_start};
    struct arena a1 = ARENA_INIT, a2 = ARENA_INIT;
    struct strategy_decision d1, d2;
    assert_int_equal(strategy_decide(&in, &a1, &d1, NULL), BT_OK);
    assert_int_equal(strategy_decide(&in, &a2, &d2, NULL), BT_OK);
    assert_int_equal(d1.chosen, d2.chosen);
    assert_memory_equal(d1.after.entries, d2.after.entries,
                        d1.after.n_entries * sizeof(*d1.after.entries));
    assert_memory_equal(d1.notes, d2.notes, d1.n_notes * sizeof(*d1.notes));
    /* the input state was not touched */
    assert_memory_equal(saved, p.state.entries, p.state.n_entries * sizeof(*saved));
    expect_same_state(&saved_state, &p.state);
    arena_release(&a1);
    arena_release(&a2);
    pool_release(&p);
}

static bt_err decide_with(struct pool *p, struct bt_error *err)
{
    struct strategy_input in = {.strategy = p->kind,
                                .members = p->m,
                                .n_members = p->n,
                                .state = &p->state,
                                .now = p->now,
                                .window_start = p->window_start};
    *err = (struct bt_error)BT_ERROR_INIT;
    struct strategy_decision d;
    bt_err rc = strategy_decide(&in, &p->arena, &d, err);
    arena_release(&p->arena);
    return rc;
}

static void test_bad_input(void **unused)
{
    (void)unused;
    struct pool p = {0};
    struct bt_error err;
    pool_init(&p, STRATEGY_WEIGHTED, "abc");
    assert_int_equal(decide_with(&p, &err), BT_OK);

    p.m[2].rep_id = "a";
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    assert_string_equal(err.message, "pool member a is listed twice");
    p.m[2].rep_id = "";
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.m[2].rep_id = NULL;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    char long_id[STRATEGY_REP_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    p.m[2].rep_id = long_id;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    long_id[STRATEGY_REP_ID_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(decide_with(&p, &err), BT_OK);
    p.m[2].rep_id = "c";

    static const double bad_weights[] = {0, -1, 0.0009, 1000.5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof(bad_weights) / sizeof(bad_weights[0]); i++) {
        p.m[1].weight = bad_weights[i];
        assert_int_equal(decide_with(&p, &err), BT_EINVAL);
        assert_string_equal(err.field, "weight");
    }
    p.m[1].weight = STRATEGY_WEIGHT_MIN;
    assert_int_equal(decide_with(&p, &err), BT_OK);
    p.m[1].weight = STRATEGY_WEIGHT_MAX;
    assert_int_equal(decide_with(&p, &err), BT_OK);
    p.m[1].capacity = -2;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.m[1].capacity = 0;
    p.m[1].open = -1;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.m[1].open = 0;
    p.m[1].recent = (int64_t)STRATEGY_COUNT_MAX + 1;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.m[1].recent = 0;

    p.kind = (enum strategy_kind)9;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.kind = STRATEGY_UNSET;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.kind = STRATEGY_WEIGHTED;

    /* corrupt states */
    EXPECT_RUN(&p, "ab");
    const char *b_id = p.state.entries[1].rep_id;
    p.state.entries[1].rep_id = p.state.entries[0].rep_id;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    assert_string_equal(err.message, "pool state: rep a has two entries");
    p.state.entries[1].rep_id = b_id;
    p.state.entries[1].pointer = -1;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.state.entries[1].pointer = STRATEGY_POINTER_MAX + 1;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.state.entries[1].pointer = 0;
    p.state.entries[2].credit = INT64_MIN;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.state.entries[2].credit = 0;
    p.state.strategy = (enum strategy_kind)7;
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.state.strategy = STRATEGY_UNSET; /* unset, but with entries */
    assert_int_equal(decide_with(&p, &err), BT_EINVAL);
    p.state.strategy = STRATEGY_WEIGHTED;
    assert_int_equal(decide_with(&p, &err), BT_OK);

    /* too many members */
    static struct pool_member many[STRATEGY_MEMBERS_MAX + 1];
    static char many_ids[STRATEGY_MEMBERS_MAX + 1][8];
    for (size_t i = 0; i < STRATEGY_MEMBERS_MAX + 1; i++) {
        snprintf(many_ids[i], sizeof(many_ids[i]), "r%zu", i);
        many[i] = (struct pool_member){
            .rep_id = many_ids[i], .weight = 1, .capacity = -1, .eligible = true};
    }
    struct strategy_input in = {.strategy = STRATEGY_ROUND_ROBIN, .members = many};
    struct strategy_decision d;
    in.n_members = STRATEGY_MEMBERS_MAX + 1;
    assert_int_equal(strategy_decide(&in, &p.arena, &d, &err), BT_ETOOBIG);
    in.n_members = STRATEGY_MEMBERS_MAX; /* the maximum works, a fresh state */
    assert_int_equal(strategy_decide(&in, &p.arena, &d, &err), BT_OK);
    assert_string_equal(d.rep_id, "r0");
    /* a full arena */
    struct arena small = {NULL, 0, 1024};
    assert_int_equal(strategy_decide(&in, &small, &d, &err), BT_ETOOBIG);
    arena_release(&small);
    pool_release(&p);
}

/* A large pool: every member's id is found whether or not the state is in
 * config order, and 25 x 40 leads are shared exactly. */
static void test_large_pool_reordered(void **unused)
{
    (void)unused;
    enum { N = 25 };
    struct pool_member m[N];
    char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "rep.%02d", i);
        m[i] = (struct pool_member){
            .rep_id = ids[i], .weight = 1 + i % 3, .capacity = -1, .eligible = true};
    }
    struct arena a = ARENA_INIT, b = ARENA_INIT;
    struct pool_state state = POOL_STATE_INIT;
    struct strategy_input in = {.strategy = STRATEGY_WEIGHTED, .members = m, .n_members = N};
    struct strategy_decision d;
    int total_weight = 0;
    for (int i = 0; i < N; i++)
        total_weight += 1 + i % 3;
    for (int lead = 0; lead < total_weight * 40; lead++) {
        in.state = &state;
        assert_int_equal(strategy_decide(&in, &a, &d, NULL), BT_OK);
        state = d.after;
        /* reverse the member order every 7 leads */
        if (lead % 7 == 6) {
            for (int i = 0; i < N / 2; i++) {
                struct pool_member t = m[i];
                m[i] = m[N - 1 - i];
                m[N - 1 - i] = t;
            }
        }
        struct arena t = a;
        a = b;
        b = t;
        arena_release(&a);
    }
    assert_int_equal(state.n_entries, N);
    for (size_t j = 0; j < state.n_entries; j++) {
        int i = atoi(state.entries[j].rep_id + 4);
        assert_int_equal(state.entries[j].assigned, (uint64_t)(40 * (1 + i % 3)));
    }
    arena_release(&a);
    arena_release(&b);
}

/* --- best_match ------------------------------------------------------------ */

static void test_best_match_prefers_skill_within_bound(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_BEST_MATCH, "abc");
    p.tolerance = 0.2;
    member(&p, 'a')->expected = 0.1;
    member(&p, 'b')->expected = 0.3;
    member(&p, 'c')->expected = 0.2;
    assert_int_equal(step(&p), 'b');
    assert_int_equal(p.d.best_reason, BEST_HIGHEST);
    assert_int_equal(p.d.passed_over, -1);
    assert_int_equal(note(&p.d, 'a')->verdict, STRATEGY_LOWER_EXPECTED);
    assert_true(note(&p.d, 'b')->value == 0.3);
    assert_true(fabs(note(&p.d, 'b')->share - 1.0 / 3) < 1e-12);
    assert_int_equal(note(&p.d, 'b')->bound, 1); /* ceil(1.2 * 1/3 * 1) */
    /* b is at its bound (2 > ceil(1.2 * 2/3) = 1): the next best */
    assert_int_equal(step(&p), 'c');
    assert_int_equal(p.d.best_reason, BEST_NEXT_BEST);
    assert_int_equal(p.d.passed_over, 1);
    assert_int_equal(note(&p.d, 'b')->verdict, STRATEGY_AT_BOUND);
    assert_int_equal(note(&p.d, 'b')->assigned, 1);
    char buf[400];
    run(&p, 298, buf);
    /* 300 leads: every member within 20 % of 100, b the most, a the least */
    const struct pool_state_entry *a = entry(&p.state, 'a'), *b = entry(&p.state, 'b'),
                                  *c = entry(&p.state, 'c');
    assert_int_equal(a->assigned + b->assigned + c->assigned, 300);
    assert_true(b->assigned <= 120 && b->assigned >= c->assigned && c->assigned >= a->assigned);
    assert_true(a->assigned >= 79); /* the lower bound: 0.8 * 100 - 1 */
    arena_release(&p.arena);
}

/* Tiny deterministic generator for the skill tests. */
static uint64_t lcg_next(uint64_t *x)
{
    *x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *x >> 33;
}

static void test_best_match_fair_over_3000(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_BEST_MATCH, "abcde");
    p.tolerance = 0.2;
    member(&p, 'c')->weight = 2;
    /* hidden skill per segment: rep a is the best at everything, b at
     * segment 0, ...; the weights 1:1:2:1:1 give c a third of the leads */
    double skill[5][4];
    uint64_t x = 42;
    for (int r = 0; r < 5; r++)
        for (int g = 0; g < 4; g++)
            skill[r][g] = 0.05 + (double)(lcg_next(&x) % 1000) / 4000.0 + (r == 0 ? 0.2 : 0);
    double picked = 0, mean = 0;
    for (int lead = 0; lead < 3000; lead++) {
        int g = (int)(lcg_next(&x) % 4);
        for (int r = 0; r < 5; r++) {
            p.m[r].expected = skill[r][g];
            mean += skill[r][g] * (r == 2 ? 2 : 1) / 6;
        }
        /* now and then a member is away (no_catch_up: it does not accrue) */
        int away = lead % 97 < 5 ? 3 : -1;
        for (int r = 0; r < 5; r++)
            set_eligible(&p, (char)('a' + r), r != away, 1);
        char who = step(&p);
        assert_true(who != '-');
        picked += skill[who - 'a'][g];
    }
    uint64_t total = 0;
    for (int r = 0; r < 5; r++)
        total += entry(&p.state, (char)('a' + r))->assigned;
    assert_int_equal(total, 3000);
    for (int r = 0; r < 5; r++) {
        double fair = 3000.0 * (r == 2 ? 2 : 1) / 6;
        double got = (double)entry(&p.state, (char)('a' + r))->assigned;
        assert_true(got <= 1.2 * fair && got >= 0.8 * fair);
    }
    /* and the skill counted: better than the share-weighted average */
    assert_true(picked / 3000 > mean / 3000 + 0.02);
    arena_release(&p.arena);
}

static void test_best_match_behind_and_window(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_BEST_MATCH, "ab");
    p.tolerance = 0.2;
    p.absence = ABSENCE_CATCH_UP;
    member(&p, 'a')->expected = 0.5;
    member(&p, 'b')->expected = 0.1;
    set_eligible(&p, 'b', false, 3); /* away but owed its share */
    EXPECT_RUN(&p, "aaaa");
    set_eligible(&p, 'b', true, 0);
    /* b is behind: 4 leads owed 2.5 counting the next, it has 0 */
    assert_int_equal(step(&p), 'b');
    assert_int_equal(p.d.best_reason, BEST_BEHIND_SHARE);
    /* a new window: counts from 0, a is best again */
    p.window_start = p.now;
    assert_int_equal(step(&p), 'a');
    assert_true(p.d.flags & STRATEGY_WINDOW_ROLLED);
    assert_int_equal(entry(&p.state, 'a')->assigned, 1);
    assert_int_equal(entry(&p.state, 'b')->assigned, 0);
    /* ties go by config order */
    member(&p, 'b')->expected = 0.5;
    pool_init(&p, STRATEGY_BEST_MATCH, "ab");
    p.tolerance = 0.2;
    assert_int_equal(step(&p), 'a');
    assert_int_equal(note(&p.d, 'b')->verdict, STRATEGY_TIE_LATER);
    arena_release(&p.arena);
}

static void test_best_match_bad_input(void **unused)
{
    (void)unused;
    struct pool p = {0};
    pool_init(&p, STRATEGY_BEST_MATCH, "ab");
    p.tolerance = 0.2;
    p.m[0].expected = NAN;
    struct strategy_input in = {.strategy = STRATEGY_BEST_MATCH,
                                .members = p.m,
                                .n_members = p.n,
                                .now = p.now,
                                .window_start = p.window_start,
                                .tolerance = 0.2};
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(strategy_decide(&in, &p.arena, &p.d, &err), BT_EINVAL);
    assert_string_equal(err.field, "expected");
    p.m[0].expected = 0.3;
    in.tolerance = -0.1;
    assert_int_equal(strategy_decide(&in, &p.arena, &p.d, &err), BT_EINVAL);
    assert_string_equal(err.field, "tolerance");
    in.tolerance = 0.2;
    assert_int_equal(strategy_decide(&in, &p.arena, &p.d, &err), BT_OK);
    assert_int_equal(p.d.chosen, 0);
    enum strategy_kind k;
    assert_true(strategy_parse("best_match", &k) && k == STRATEGY_BEST_MATCH);
    assert_string_equal(strategy_name(STRATEGY_BEST_MATCH), "best_match");
    assert_string_equal(best_match_reason_name(BEST_NEXT_BEST), "next_best");
    arena_release(&p.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_round_robin_rotation),
        cmocka_unit_test(test_round_robin_skips_ineligible),
        cmocka_unit_test(test_round_robin_membership),
        cmocka_unit_test(test_round_robin_none_keeps_turn),
        cmocka_unit_test(test_weighted_equal),
        cmocka_unit_test(test_weighted_3_2_1),
        cmocka_unit_test(test_weighted_fractional_weights),
        cmocka_unit_test(test_weighted_newcomer),
        cmocka_unit_test(test_weighted_absence),
        cmocka_unit_test(test_weighted_member_leaves),
        cmocka_unit_test(test_weighted_rebase),
        cmocka_unit_test(test_load_balanced_capacity),
        cmocka_unit_test(test_load_balanced_ties_and_unlimited),
        cmocka_unit_test(test_fair_share_weights),
        cmocka_unit_test(test_fair_share_catch_up),
        cmocka_unit_test(test_fair_share_no_catch_up),
        cmocka_unit_test(test_fair_share_absence_with_weights),
        cmocka_unit_test(test_fair_share_window),
        cmocka_unit_test(test_no_eligible_member),
        cmocka_unit_test(test_explanation),
        cmocka_unit_test(test_strategy_change_restarts),
        cmocka_unit_test(test_deterministic_and_pure),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_large_pool_reordered),
        cmocka_unit_test(test_best_match_prefers_skill_within_bound),
        cmocka_unit_test(test_best_match_fair_over_3000),
        cmocka_unit_test(test_best_match_behind_and_window),
        cmocka_unit_test(test_best_match_bad_input),
    };
    /* the same sequences when the caller vouches for distinct members (the
     * router does): state entries are matched without hashing every id */
    const struct CMUnitTest vouched[] = {
        cmocka_unit_test(test_round_robin_rotation),
        cmocka_unit_test(test_round_robin_skips_ineligible),
        cmocka_unit_test(test_round_robin_membership),
        cmocka_unit_test(test_round_robin_none_keeps_turn),
        cmocka_unit_test(test_weighted_equal),
        cmocka_unit_test(test_weighted_3_2_1),
        cmocka_unit_test(test_weighted_newcomer),
        cmocka_unit_test(test_weighted_absence),
        cmocka_unit_test(test_weighted_member_leaves),
        cmocka_unit_test(test_load_balanced_capacity),
        cmocka_unit_test(test_fair_share_weights),
        cmocka_unit_test(test_fair_share_catch_up),
        cmocka_unit_test(test_fair_share_no_catch_up),
        cmocka_unit_test(test_fair_share_window),
        cmocka_unit_test(test_strategy_change_restarts),
        cmocka_unit_test(test_large_pool_reordered),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("members_distinct", vouched, vouch, NULL);
}
