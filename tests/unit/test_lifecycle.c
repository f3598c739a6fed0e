/*
 * test_lifecycle.c - stage names, every move of the 10x10 matrix against the
 * table in lifecycle.h (written out again here, on purpose, so that a change
 * to the table in lifecycle.c has to be made twice), the text of allowed
 * moves, and qualification precedence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/lifecycle.h"
#include "core/score.h"

#include <string.h>

enum { N = STAGE_COUNT };
#define NEW STAGE_NEW
#define MQL STAGE_MQL
#define ASG STAGE_ASSIGNED
#define ACC STAGE_ACCEPTED
#define SQL STAGE_SQL
#define OPP STAGE_OPPORTUNITY
#define WON STAGE_WON
#define LST STAGE_LOST
#define REC STAGE_RECYCLED
#define DQ  STAGE_DISQUALIFIED

/* expected[from][to], straight from the header. */
/* clang-format off */
static const unsigned char expected[N][N] = {
    /*       new  mql  asg  acc  sql  opp  won  lst  rec  dq */
    [NEW] = { 0,   1,   0,   0,   0,   0,   0,   0,   0,   1},
    [MQL] = { 1,   0,   1,   0,   0,   0,   0,   0,   1,   1},
    [ASG] = { 0,   1,   0,   1,   0,   0,   0,   0,   1,   1},
    [ACC] = { 0,   0,   0,   0,   1,   1,   1,   1,   1,   1},
    [SQL] = { 0,   0,   0,   0,   0,   1,   1,   1,   1,   1},
    [OPP] = { 0,   0,   0,   0,   0,   0,   1,   1,   0,   0},
    [WON] = { 0,   0,   0,   0,   0,   0,   0,   0,   0,   0},
    [LST] = { 0,   0,   0,   0,   0,   0,   0,   0,   1,   0},
    [REC] = { 0,   1,   0,   0,   0,   0,   0,   0,   0,   1},
    [DQ]  = { 0,   0,   0,   0,   0,   0,   0,   0,   0,   0},
};
/* clang-format on */

static void test_stage_names(void **state)
{
    (void)state;
    static const char *const names[N] = {"new",      "mql",         "assigned", "accepted",
                                         "sql",      "opportunity", "won",      "lost",
                                         "recycled", "disqualified"};
    for (int s = 0; s < N; s++) {
        assert_string_equal(stage_name((enum lead_stage)s), names[s]);
        enum lead_stage parsed = STAGE_COUNT;
        assert_true(stage_parse(names[s], &parsed));
        assert_int_equal(parsed, s);
    }
    enum lead_stage out = STAGE_WON;
    assert_false(stage_parse("MQL", &out));
    assert_false(stage_parse("qualified", &out));
    assert_false(stage_parse("", &out));
    assert_false(stage_parse("new ", &out));
    assert_false(stage_parse(NULL, &out));
    assert_int_equal(out, STAGE_WON);
    assert_string_equal(stage_name(STAGE_COUNT), "unknown");
}

static void test_every_move(void **state)
{
    (void)state;
    for (int from = 0; from < N; from++) {
        for (int to = 0; to < N; to++) {
            bool got = lifecycle_allowed((enum lead_stage)from, (enum lead_stage)to);
            if (got != expected[from][to])
                fail_msg("%s -> %s: %s, expected %s", stage_name((enum lead_stage)from),
                         stage_name((enum lead_stage)to), got ? "allowed" : "refused",
                         expected[from][to] ? "allowed" : "refused");
        }
        assert_false(lifecycle_allowed((enum lead_stage)from, STAGE_COUNT));
        assert_false(lifecycle_allowed(STAGE_COUNT, (enum lead_stage)from));
    }
}

static void test_next_lists_exactly_the_allowed(void **state)
{
    (void)state;
    for (int from = 0; from < N; from++) {
        enum lead_stage next[N];
        size_t n = lifecycle_next((enum lead_stage)from, next);
        size_t want = 0;
        for (int to = 0; to < N; to++)
            want += expected[from][to];
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++)
            assert_true(expected[from][next[i]]);
    }
}

static void test_next_text(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(lifecycle_next_text(STAGE_ACCEPTED, buf, sizeof(buf)),
                        "sql, opportunity, won, lost, recycled, disqualified");
    assert_string_equal(lifecycle_next_text(STAGE_NEW, buf, sizeof(buf)), "mql, disqualified");
    assert_string_equal(lifecycle_next_text(STAGE_MQL, buf, sizeof(buf)),
                        "assigned, new, recycled, disqualified");
    assert_string_equal(lifecycle_next_text(STAGE_ASSIGNED, buf, sizeof(buf)),
                        "accepted, mql, recycled, disqualified");
    assert_string_equal(lifecycle_next_text(STAGE_OPPORTUNITY, buf, sizeof(buf)), "won, lost");
    assert_string_equal(lifecycle_next_text(STAGE_LOST, buf, sizeof(buf)), "recycled");
    assert_string_equal(lifecycle_next_text(STAGE_WON, buf, sizeof(buf)), "none (won is final)");
    assert_string_equal(lifecycle_next_text(STAGE_DISQUALIFIED, buf, sizeof(buf)),
                        "none (disqualified is final)");
    /* A small buffer is filled and terminated, never overrun. */
    char small[10];
    memset(small, 'x', sizeof(small));
    lifecycle_next_text(STAGE_ACCEPTED, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, "sql, oppo", 9);
}

/* ---- qualification ---- */

static struct rule_symtab *syms;
static struct rule *mql_rule, *fast_rule, *dq_rule;
static struct rule_scratch *scratch;
static struct arena arena;
static struct rule_value slots[16];

static struct rule *compile(const char *text)
{
    struct rule *r = NULL;
    struct rule_error e;
    if (rule_compile(syms, text, strlen(text), &r, &e) != BT_OK)
        fail_msg("cannot compile '%s': %s", text, e.message);
    return r;
}

static int setup(void **state)
{
    (void)state;
    syms = rule_symtab_new(&score_lead_schema);
    mql_rule = compile("score >= 50");
    fast_rule = compile("activity.demo_request.count > 0");
    dq_rule = compile("email.domain ends_with \".invalid\" or title contains \"student\"");
    scratch = rule_scratch_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rule_free(mql_rule);
    rule_free(fast_rule);
    rule_free(dq_rule);
    rule_symtab_free(syms);
    rule_scratch_free(scratch);
    arena_release(&arena);
    return 0;
}

/* Fills the subject of a lead with `score`, a demo request or not, and
 * whether it looks disqualified. */
static void subject(double score, bool demo, bool bad)
{
    struct lead l = {0};
    l.attr[LEAD_EMAIL] = bad ? "x@test.invalid" : "jane@acme.com";
    l.attr[LEAD_EMAIL_DOMAIN] = bad ? "test.invalid" : "acme.com";
    l.attr[LEAD_TITLE] = "CTO";
    l.employees = -1;
    l.fields_json = "{}";
    struct activity_fact fact = {"demo_request", 1, 5, 5};
    static struct score_result scores;
    scores.total = score;
    scores.fit = score;
    scores.engagement = 0;
    strcpy(scores.grade, "A1");
    assert_true(rule_symtab_count(syms) <= 16);
    assert_int_equal(score_fill_lead(syms, &l, &fact, demo ? 1 : 0, &scores, 10, &arena, slots),
                     BT_OK);
}

static struct lifecycle_decision qualify(const struct qualification *q, enum lead_stage stage)
{
    struct lifecycle_decision d;
    memset(&d, 0xAB, sizeof(d));
    lifecycle_qualify(q, stage, slots, scratch, &d);
    return d;
}

static void expect(struct lifecycle_decision d, bool change, enum lead_stage to, const char *reason,
                   const struct rule *rule)
{
    if (d.change != change || d.to != to)
        fail_msg("decided %s to %s (%s), expected %s to %s", d.change ? "change" : "no change",
                 stage_name(d.to), d.reason, change ? "change" : "no change", stage_name(to));
    assert_non_null(d.reason);
    if (reason)
        assert_string_equal(d.reason, reason);
    if (rule)
        assert_string_equal(d.rule, rule_text(rule));
    else
        assert_null(d.rule);
}

static void test_qualify_mql_and_fast_track(void **state)
{
    (void)state;
    struct qualification q = {mql_rule, fast_rule, dq_rule};
    subject(60, false, false);
    expect(qualify(&q, STAGE_NEW), true, STAGE_MQL, "mql_when matched", mql_rule);
    expect(qualify(&q, STAGE_RECYCLED), true, STAGE_MQL, "mql_when matched", mql_rule);
    subject(10, true, false);
    expect(qualify(&q, STAGE_NEW), true, STAGE_MQL, "fast_track_when matched", fast_rule);
    expect(qualify(&q, STAGE_RECYCLED), true, STAGE_MQL, "fast_track_when matched", fast_rule);
    /* Fast track is named first when both hold. */
    subject(90, true, false);
    expect(qualify(&q, STAGE_NEW), true, STAGE_MQL, "fast_track_when matched", fast_rule);
    subject(10, false, false);
    expect(qualify(&q, STAGE_NEW), false, STAGE_NEW, NULL, NULL);
    expect(qualify(&q, STAGE_RECYCLED), false, STAGE_RECYCLED, NULL, NULL);
}

static void test_qualify_disqualify_wins(void **state)
{
    (void)state;
    struct qualification q = {mql_rule, fast_rule, dq_rule};
    subject(95, true, true);
    expect(qualify(&q, STAGE_NEW), true, STAGE_DISQUALIFIED, "disqualify_when matched", dq_rule);
    expect(qualify(&q, STAGE_MQL), true, STAGE_DISQUALIFIED, "disqualify_when matched", dq_rule);
    expect(qualify(&q, STAGE_RECYCLED), true, STAGE_DISQUALIFIED, "disqualify_when matched",
           dq_rule);
    /* Sales' stages are left alone, even by disqualification. */
    for (int s = STAGE_ASSIGNED; s <= STAGE_LOST; s++)
        expect(qualify(&q, (enum lead_stage)s), false, (enum lead_stage)s, NULL, NULL);
    expect(qualify(&q, STAGE_DISQUALIFIED), false, STAGE_DISQUALIFIED, NULL, NULL);
}

static void test_qualify_mql_demotion(void **state)
{
    (void)state;
    struct qualification q = {mql_rule, fast_rule, dq_rule};
    subject(60, false, false);
    expect(qualify(&q, STAGE_MQL), false, STAGE_MQL, "mql_when still holds", mql_rule);
    subject(10, true, false);
    expect(qualify(&q, STAGE_MQL), false, STAGE_MQL, "fast_track_when still holds", fast_rule);
    subject(10, false, false); /* decayed below the bar */
    struct lifecycle_decision d = qualify(&q, STAGE_MQL);
    expect(d, true, STAGE_NEW, "mql_when no longer holds", mql_rule);
    assert_true(lifecycle_allowed(STAGE_MQL, d.to));
    /* Once assigned, a falling score changes nothing. */
    expect(qualify(&q, STAGE_ASSIGNED), false, STAGE_ASSIGNED, NULL, NULL);

    struct qualification fast_only = {NULL, fast_rule, NULL};
    expect(qualify(&fast_only, STAGE_MQL), true, STAGE_NEW, NULL, fast_rule);
}

static void test_qualify_without_rules(void **state)
{
    (void)state;
    struct qualification none = {NULL, NULL, NULL};
    subject(100, true, true);
    for (int s = 0; s < STAGE_COUNT; s++)
        expect(qualify(&none, (enum lead_stage)s), false, (enum lead_stage)s, NULL, NULL);
    struct qualification dq_only = {NULL, NULL, dq_rule};
    subject(100, true, false);
    expect(qualify(&dq_only, STAGE_NEW), false, STAGE_NEW, NULL, NULL);
    expect(qualify(&dq_only, STAGE_MQL), false, STAGE_MQL, NULL, NULL);
}

static void test_qualification_only_makes_allowed_moves(void **state)
{
    (void)state;
    struct qualification q = {mql_rule, fast_rule, dq_rule};
    for (int variant = 0; variant < 8; variant++) {
        subject(variant & 1 ? 80 : 5, variant & 2, variant & 4);
        for (int s = 0; s < STAGE_COUNT; s++) {
            struct lifecycle_decision d = qualify(&q, (enum lead_stage)s);
            if (d.change)
                assert_true(lifecycle_allowed((enum lead_stage)s, d.to));
            else
                assert_int_equal(d.to, s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_every_move),
        cmocka_unit_test(test_next_lists_exactly_the_allowed),
        cmocka_unit_test(test_next_text),
        cmocka_unit_test_setup_teardown(test_qualify_mql_and_fast_track, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_disqualify_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_mql_demotion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_without_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualification_only_makes_allowed_moves, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
