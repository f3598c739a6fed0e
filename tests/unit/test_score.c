/*
 * test_score.c - scoring: fit rules with groups and caps, engagement with
 * decay and caps, clamping, grades, reasons, next_change_at; the lead and
 * activity subjects (attributes, custom fields through the JSON scanner,
 * activity facts, missing values) and the two schemas. Models are built by
 * compiling rules against score_lead_schema / score_activity_schema, as the
 * config loader does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400000LL
#define NOW 1700000000000LL

#define MAX_FIT        300
#define MAX_ENGAGEMENT 32
#define MAX_RULES      400

static struct score_model model;
static struct fit_rule fits[MAX_FIT];
static struct fit_group groups[8];
static struct engagement_rule engagements[MAX_ENGAGEMENT];
static struct rule *owned[MAX_RULES];
static size_t n_owned;
static struct arena arena;
static struct score_result result;

#define assert_near(a, b) assert_near_at((a), (b), 1e-9, __FILE__, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps))
        fail_msg("%s:%d: %.17g is not %.17g", file, line, a, b);
}

static struct rule *compile(struct rule_symtab *t, const char *text)
{
    struct rule *r = NULL;
    struct rule_error e;
    if (rule_compile(t, text, strlen(text), &r, &e) != BT_OK)
        fail_msg("cannot compile '%s': %s", text, e.message);
    assert_true(n_owned < MAX_RULES);
    owned[n_owned++] = r;
    return r;
}

static void model_release(void)
{
    for (size_t i = 0; i < n_owned; i++)
        rule_free(owned[i]);
    n_owned = 0;
    rule_symtab_free(model.lead_syms);
    rule_symtab_free(model.activity_syms);
    memset(&model, 0, sizeof(model));
}

static int setup(void **state)
{
    (void)state;
    memset(&model, 0, sizeof(model));
    model.fit = fits;
    model.groups = groups;
    model.engagement = engagements;
    model.min_total = 0;
    model.max_total = 100;
    model.fit_bands[0] = 60, model.fit_bands[1] = 40, model.fit_bands[2] = 20;
    model.engagement_bands[0] = 60, model.engagement_bands[1] = 30, model.engagement_bands[2] = 10;
    model.lead_syms = rule_symtab_new(&score_lead_schema);
    model.activity_syms = rule_symtab_new(&score_activity_schema);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    model_release();
    arena_release(&arena);
    return 0;
}

static int add_group(const char *name, bool has_cap, double cap)
{
    groups[model.n_groups] = (struct fit_group){name, has_cap, cap};
    return (int)model.n_groups++;
}

static void add_fit(const char *name, const char *when, double points, int group)
{
    assert_true(model.n_fit < MAX_FIT);
    fits[model.n_fit++] =
        (struct fit_rule){name, when ? compile(model.lead_syms, when) : NULL, points, group};
}

static void add_engagement(const char *name, const char *type, const char *when, double points,
                           double cap, enum decay_kind decay, int64_t decay_ms)
{
    assert_true(model.n_engagement < MAX_ENGAGEMENT);
    engagements[model.n_engagement++] = (struct engagement_rule){
        name,  type,    when ? compile(model.activity_syms, when) : NULL, points, cap > 0, cap,
        decay, decay_ms};
}

static struct lead base_lead(void)
{
    struct lead l = {0};
    l.attr[LEAD_EMAIL] = "jane@acme.com";
    l.attr[LEAD_EMAIL_DOMAIN] = "acme.com";
    l.attr[LEAD_COMPANY] = "ACME Corp";
    l.attr[LEAD_TITLE] = "VP Sales";
    l.attr[LEAD_COUNTRY] = "DE";
    l.attr[LEAD_STAGE] = "new";
    l.employees = 250;
    l.attr[LEAD_EMPLOYEES_BAND] = "201-500";
    l.fields_json = "{}";
    return l;
}

static struct activity act(const char *type, int64_t occurred_at, const char *properties)
{
    return (struct activity){0, 1, type, occurred_at, properties ? properties : "{}"};
}

/* Scores with a fresh scratch (made after the rules, as the loader does). */
static void score_at(const struct lead *l, const struct activity *acts, size_t n, int64_t now)
{
    struct score_scratch *s = score_scratch_new(&model);
    assert_int_equal(score_lead(&model, l, acts, n, now, s, &arena, &result), BT_OK);
    score_scratch_free(s);
}

static const struct score_reason *reason(const char *rule)
{
    for (size_t i = 0; i < result.n_reasons; i++)
        if (strcmp(result.reasons[i].rule, rule) == 0)
            return &result.reasons[i];
    return NULL;
}

static const struct score_reason *must_reason(const char *rule)
{
    const struct score_reason *r = reason(rule);
    if (!r)
        fail_msg("no reason for rule '%s'", rule);
    return r;
}

/* ---- fit ---- */

static void test_fit_points_and_negatives(void **state)
{
    (void)state;
    add_fit("dach", "country in [\"DE\", \"AT\", \"CH\"]", 30, -1);
    add_fit("free_mail", "email.free", -20, -1);
    add_fit("vp", "title contains \"vp\"", 25, -1);
    add_fit("big", "employees >= 1000", 40, -1);
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 55);
    assert_near(result.engagement, 0);
    assert_near(result.total, 55);
    assert_int_equal(result.n_reasons, 2);
    assert_null(reason("big"));
    assert_null(reason("free_mail"));

    l.email_free = true;
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 35);
    const struct score_reason *r = must_reason("free_mail");
    assert_string_equal(r->kind, "fit");
    assert_null(r->group);
    assert_near(r->points, -20);
    assert_near(r->after_decay, -20);
    assert_near(r->counted, -20);
    assert_int_equal(r->matches, 1);
}

static void test_group_cap_trims_in_config_order(void **state)
{
    (void)state;
    int g = add_group("firmographics", true, 40);
    add_fit("dach", "country == \"DE\"", 30, g);
    add_fit("vp", "title contains \"vp\"", 20, g);
    add_fit("mid", "employees >= 200", 10, g);
    add_fit("outside", "company exists", 5, -1);
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 45);
    assert_near(must_reason("dach")->counted, 30);
    assert_near(must_reason("vp")->counted, 10);
    assert_near(must_reason("vp")->points, 20);
    assert_near(must_reason("mid")->counted, 0);
    assert_string_equal(must_reason("mid")->group, "firmographics");
    assert_near(must_reason("outside")->counted, 5);
    assert_null(must_reason("outside")->group);
    assert_int_equal(result.n_reasons, 4);
}

static void test_group_cap_with_negative_points(void **state)
{
    (void)state;
    /* +20 +20 -10 = 30 <= cap 30: everything counts. */
    int g1 = add_group("a", true, 30);
    add_fit("a1", "country == \"DE\"", 20, g1);
    add_fit("a2", "title exists", 20, g1);
    add_fit("a3", "company exists", -10, g1);
    /* +25 +25 -10 = 40 > cap 30: the group counts 30; the negative in full. */
    int g2 = add_group("b", true, 30);
    add_fit("b1", "country == \"DE\"", 25, g2);
    add_fit("b2", "title exists", 25, g2);
    add_fit("b3", "company exists", -10, g2);
    /* Without a cap a group is unbounded. */
    int g3 = add_group("c", false, 0);
    add_fit("c1", "country == \"DE\"", 50, g3);
    add_fit("c2", "title exists", 60, g3);
    /* Only negatives: the cap does not bound from below. */
    int g4 = add_group("d", true, 10);
    add_fit("d1", "country == \"DE\"", -15, g4);
    add_fit("d2", "title exists", -15, g4);
    model.max_total = 1000;
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_near(must_reason("a1")->counted, 20);
    assert_near(must_reason("a2")->counted, 20);
    assert_near(must_reason("a3")->counted, -10);
    assert_near(must_reason("b1")->counted, 25);
    assert_near(must_reason("b2")->counted, 15);
    assert_near(must_reason("b3")->counted, -10);
    assert_near(must_reason("c2")->counted, 60);
    assert_near(must_reason("d1")->counted, -15);
    assert_near(must_reason("d2")->counted, -15);
    assert_near(result.fit, 30 + 30 + 110 - 30);
}

static void test_total_is_clamped_grade_is_not(void **state)
{
    (void)state;
    add_fit("huge", "country == \"DE\"", 150, -1);
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 150);
    assert_near(result.total, 100);
    assert_string_equal(result.grade, "A4");

    model.fit[0].points = -30;
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, -30);
    assert_near(result.total, 0);
    assert_string_equal(result.grade, "D4");

    model.min_total = -20;
    score_at(&l, NULL, 0, NOW);
    assert_near(result.total, -20);
    model.min_total = -50;
    score_at(&l, NULL, 0, NOW);
    assert_near(result.total, -30);
}

static void test_grades_at_band_edges(void **state)
{
    (void)state;
    add_fit("f", "email exists", 0, -1);
    add_engagement("e", "visit", NULL, 0, 0, DECAY_NONE, 0);
    struct lead l = base_lead();
    struct activity a[1] = {act("visit", NOW, NULL)};
    static const struct {
        double fit, engagement;
        const char *grade;
    } cases[] = {
        {60, 60, "A1"},       {59.999, 59.999, "B2"}, {40, 30, "B2"},
        {39.99, 29.99, "C3"}, {20, 10, "C3"},         {19.99, 9.99, "D4"},
        {-5, -5, "D4"},       {100, 0, "A4"},         {0, 100, "D1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        model.fit[0].points = cases[i].fit;
        model.engagement[0].points = cases[i].engagement;
        score_at(&l, a, 1, NOW);
        if (strcmp(result.grade, cases[i].grade) != 0)
            fail_msg("fit %g engagement %g: grade %s, expected %s", cases[i].fit,
                     cases[i].engagement, result.grade, cases[i].grade);
    }
}

static void test_scores_are_missing_while_scoring(void **state)
{
    (void)state;
    add_fit("self", "score exists or fit exists or engagement exists or grade exists", 10, -1);
    add_fit("not_self", "not score exists", 7, -1);
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_null(reason("self"));
    assert_near(result.fit, 7);
}

static void test_reasons_limit(void **state)
{
    (void)state;
    for (int i = 0; i < 280; i++)
        add_fit("many", "email exists", 1, -1);
    model.max_total = 1000;
    struct lead l = base_lead();
    score_at(&l, NULL, 0, NOW);
    assert_int_equal(result.n_reasons, SCORE_MAX_REASONS);
    assert_near(result.fit, 280);
}

/* ---- engagement ---- */

static void test_half_life_decay(void **state)
{
    (void)state;
    add_engagement("visits", "visit", NULL, 10, 0, DECAY_HALF_LIFE, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW, NULL), act("visit", NOW - 7 * DAY, NULL),
                           act("visit", NOW - 14 * DAY, NULL)};
    score_at(&l, a, 3, NOW);
    const struct score_reason *r = must_reason("visits");
    assert_string_equal(r->kind, "engagement");
    assert_int_equal(r->matches, 3);
    assert_near(r->points, 30);
    assert_near(r->after_decay, 10 + 5 + 2.5);
    assert_near(r->counted, 17.5);
    assert_near(result.engagement, 17.5);

    /* Exactly one and two half-lives on their own. */
    score_at(&l, a + 1, 1, NOW);
    assert_near(result.engagement, 5);
    score_at(&l, a + 2, 1, NOW);
    assert_near(result.engagement, 2.5);
}

static void test_future_activity_counts_as_now(void **state)
{
    (void)state;
    add_engagement("visits", "visit", NULL, 10, 0, DECAY_HALF_LIFE, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW + DAY, NULL)};
    score_at(&l, a, 1, NOW);
    assert_near(result.engagement, 10);
}

static void test_window(void **state)
{
    (void)state;
    add_engagement("recent", "visit", NULL, 4, 0, DECAY_WINDOW, 30 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - 10 * DAY, NULL), act("visit", NOW - 30 * DAY, NULL),
                           act("visit", NOW - 30 * DAY - 1, NULL)};
    score_at(&l, a, 3, NOW);
    const struct score_reason *r = must_reason("recent");
    assert_int_equal(r->matches, 3);
    assert_near(r->points, 12);
    assert_near(r->after_decay, 8); /* the edge counts, one ms later does not */
    assert_near(r->counted, 8);

    score_at(&l, a + 2, 1, NOW);
    r = must_reason("recent");
    assert_int_equal(r->matches, 1);
    assert_near(r->after_decay, 0);
    assert_near(result.engagement, 0);
}

static void test_engagement_caps(void **state)
{
    (void)state;
    add_engagement("views", "page_view", NULL, 3, 10, DECAY_NONE, 0);
    add_engagement("unsubscribes", "unsubscribe", NULL, -5, 12, DECAY_NONE, 0);
    add_engagement("uncapped", "download", NULL, 7, 0, DECAY_NONE, 0);
    struct lead l = base_lead();
    struct activity a[10];
    for (int i = 0; i < 5; i++)
        a[i] = act("page_view", NOW - i * DAY, NULL);
    for (int i = 5; i < 9; i++)
        a[i] = act("unsubscribe", NOW - i * DAY, NULL);
    a[9] = act("download", NOW, NULL);
    score_at(&l, a, 10, NOW);
    assert_near(must_reason("views")->after_decay, 15);
    assert_near(must_reason("views")->counted, 10);
    assert_near(must_reason("unsubscribes")->after_decay, -20);
    assert_near(must_reason("unsubscribes")->counted, -12);
    assert_near(must_reason("uncapped")->counted, 7);
    assert_near(result.engagement, 10 - 12 + 7);
    assert_near(result.total, 5);
}

static void test_cap_applies_after_decay(void **state)
{
    (void)state;
    add_engagement("visits", "visit", NULL, 10, 12, DECAY_HALF_LIFE, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - 7 * DAY, NULL), act("visit", NOW - 7 * DAY, NULL),
                           act("visit", NOW - 14 * DAY, NULL)};
    score_at(&l, a, 3, NOW);
    assert_near(must_reason("visits")->points, 30);
    assert_near(must_reason("visits")->after_decay, 12.5);
    assert_near(must_reason("visits")->counted, 12);
}

static void test_engagement_conditions_on_properties(void **state)
{
    (void)state;
    add_engagement("demo_form", "form_submit", "properties.form == \"demo\"", 20, 0, DECAY_NONE, 0);
    add_engagement("big_download", "download", "properties.size_mb >= 10 and age_days < 7", 5, 0,
                   DECAY_NONE, 0);
    add_engagement("typed", "form_submit", "type == \"form_submit\"", 1, 0, DECAY_NONE, 0);
    add_engagement("any_form", "form_submit", NULL, 2, 0, DECAY_NONE, 0);
    struct lead l = base_lead();
    struct activity a[] = {
        act("form_submit", NOW - DAY, "{\"form\":\"Demo\",\"page\":\"/pricing\"}"),
        act("form_submit", NOW - DAY, "{\"form\":\"newsletter\"}"),
        act("form_submit", NOW - DAY, "{}"),
        act("download", NOW - DAY, "{\"size_mb\":12.5}"),
        act("download", NOW - DAY, "{\"size_mb\":\"25\"}"), /* a number in a string */
        act("download", NOW - DAY, "{\"size_mb\":3}"),
        act("download", NOW - 8 * DAY, "{\"size_mb\":50}"),
        act("visit", NOW, "{\"form\":\"demo\"}"),
    };
    score_at(&l, a, 8, NOW);
    assert_int_equal(must_reason("demo_form")->matches, 1);
    assert_near(must_reason("demo_form")->counted, 20);
    assert_int_equal(must_reason("big_download")->matches, 2);
    assert_int_equal(must_reason("typed")->matches, 3);
    assert_int_equal(must_reason("any_form")->matches, 3);
    assert_near(result.engagement, 20 + 10 + 3 + 6);
}

static void test_no_activities(void **state)
{
    (void)state;
    add_engagement("visits", "visit", NULL, 10, 0, DECAY_HALF_LIFE, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("email_open", NOW, NULL)};
    score_at(&l, a, 1, NOW);
    assert_int_equal(result.n_reasons, 0);
    assert_near(result.engagement, 0);
    assert_int_equal(result.next_change_at, 0);
    score_at(&l, NULL, 0, NOW);
    assert_int_equal(result.n_reasons, 0);
}

static void test_reasons_in_order(void **state)
{
    (void)state;
    int g = add_group("firm", true, 100);
    add_fit("f1", "country == \"DE\"", 10, g);
    add_fit("f2", "country == \"FR\"", 10, g);
    add_fit("f3", "title exists", 5, -1);
    add_engagement("e1", "visit", NULL, 2, 0, DECAY_NONE, 0);
    add_engagement("e2", "webinar", NULL, 9, 0, DECAY_NONE, 0);
    add_engagement("e3", "demo", NULL, 30, 0, DECAY_WINDOW, 14 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("demo", NOW - DAY, NULL), act("visit", NOW, NULL),
                           act("visit", NOW - 2 * DAY, NULL)};
    score_at(&l, a, 3, NOW);
    assert_int_equal(result.n_reasons, 4);
    assert_string_equal(result.reasons[0].rule, "f1");
    assert_string_equal(result.reasons[0].group, "firm");
    assert_string_equal(result.reasons[1].rule, "f3");
    assert_string_equal(result.reasons[2].rule, "e1");
    assert_string_equal(result.reasons[2].kind, "engagement");
    assert_null(result.reasons[2].group);
    assert_int_equal(result.reasons[2].matches, 2);
    assert_near(result.reasons[2].points, 4);
    assert_string_equal(result.reasons[3].rule, "e3");
    assert_near(result.total, 15 + 4 + 30);
    assert_string_equal(result.grade, "D2");
}

static void test_scratch_is_reused_cleanly(void **state)
{
    (void)state;
    add_fit("dach", "country == \"DE\"", 30, -1);
    add_fit("budget", "fields.budget >= 1000", 10, -1);
    add_engagement("visits", "visit", "properties.page starts_with \"/pricing\"", 5, 0, DECAY_NONE,
                   0);
    struct score_scratch *s = score_scratch_new(&model);
    struct lead a = base_lead(), b = base_lead();
    a.fields_json = "{\"budget\":5000}";
    b.attr[LEAD_COUNTRY] = "US";
    struct activity acts[40];
    for (int i = 0; i < 40; i++)
        acts[i] = act("visit", NOW - i, "{\"page\":\"/pricing/enterprise\"}");
    assert_int_equal(score_lead(&model, &a, acts, 40, NOW, s, &arena, &result), BT_OK);
    assert_near(result.total, 100);
    assert_near(result.engagement, 200);
    assert_int_equal(score_lead(&model, &b, acts, 2, NOW, s, &arena, &result), BT_OK);
    assert_near(result.fit, 0);
    assert_near(result.engagement, 10);
    assert_int_equal(result.n_reasons, 1);
    assert_int_equal(score_lead(&model, &a, NULL, 0, NOW, s, &arena, &result), BT_OK);
    assert_near(result.total, 40);
    score_scratch_free(s);
    score_scratch_free(NULL);
}

static void test_activity_types_are_told_apart(void **state)
{
    (void)state;
    /* Same length, same first and last 8 bytes: only the middle differs. */
    add_engagement("x", "aaaaaaaa_x_bbbbbbbb", NULL, 1, 0, DECAY_NONE, 0);
    add_engagement("y", "aaaaaaaa_y_bbbbbbbb", NULL, 10, 0, DECAY_NONE, 0);
    add_engagement("short", "a", NULL, 100, 0, DECAY_NONE, 0);
    add_engagement("eight", "abcdefgh", NULL, 1000, 0, DECAY_NONE, 0);
    add_fit("facts", "activity.aaaaaaaa_y_bbbbbbbb.count == 2 and activity.ab.count == 0", 5, -1);
    model.max_total = 10000;
    struct lead l = base_lead();
    struct activity a[] = {act("aaaaaaaa_y_bbbbbbbb", NOW, NULL),
                           act("aaaaaaaa_y_bbbbbbbb", NOW, NULL),
                           act("aaaaaaaa_z_bbbbbbbb", NOW, NULL),
                           act("a", NOW, NULL),
                           act("ab", NOW, NULL),
                           act("abcdefgh", NOW, NULL),
                           act("abcdefghi", NOW, NULL),
                           act("", NOW, NULL),
                           {0, 1, NULL, NOW, "{}"}};
    score_at(&l, a, 9, NOW);
    assert_null(reason("x"));
    assert_int_equal(must_reason("y")->matches, 2);
    assert_int_equal(must_reason("short")->matches, 1);
    assert_int_equal(must_reason("eight")->matches, 1);
    assert_null(reason("facts")); /* "ab" is there once */
    assert_near(result.engagement, 1120);
    score_at(&l, a, 2, NOW);
    assert_non_null(reason("facts"));
}

static char *upper_text(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_much_text_and_a_full_arena(void **state)
{
    (void)state;
    add_fit("company", "company starts_with \"aaaa\"", 1, -1);
    add_fit("title", "title ends_with \"bbbb\"", 2, -1);
    add_fit("note", "fields.note contains \"cccc\"", 4, -1);
    add_fit("escaped", "fields.escaped starts_with \"\u00e9\"", 8, -1);
    /* More upper-case text than the scratch keeps: the rest goes to the arena. */
    char *company = upper_text(9000, 'A'), *title = upper_text(9000, 'B');
    char *fields = malloc(20100);
    snprintf(fields, 20100, "{\"note\":\"%s\",\"escaped\":\"\\u00e9%s\"}", company + 1000,
             title + 1000);
    memset(strstr(fields, "AAAA"), 'C', 8000);
    struct lead l = base_lead();
    l.attr[LEAD_COMPANY] = company;
    l.attr[LEAD_TITLE] = title;
    l.fields_json = fields;
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 15);

    struct score_scratch *s = score_scratch_new(&model);
    struct arena small = ARENA_INIT;
    small.limit = 4096;
    assert_int_equal(score_lead(&model, &l, NULL, 0, NOW, s, &small, &result), BT_ETOOBIG);
    arena_release(&small);
    /* The same scratch and a roomy arena afterwards: nothing left over. */
    assert_int_equal(score_lead(&model, &l, NULL, 0, NOW, s, &arena, &result), BT_OK);
    assert_near(result.fit, 15);
    score_scratch_free(s);

    struct rule_value values[8];
    small.limit = 64;
    assert_true(rule_symtab_count(model.lead_syms) <= 8);
    assert_int_equal(score_fill_lead(model.lead_syms, &l, NULL, 0, NULL, NOW, &small, values),
                     BT_ETOOBIG);
    arena_release(&small);
    free(company);
    free(title);
    free(fields);
}

/* ---- next_change_at ---- */

static void test_next_change_half_life(void **state)
{
    (void)state;
    add_engagement("visits", "visit", NULL, 10, 0, DECAY_HALF_LIFE, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW, NULL)};
    score_at(&l, a, 1, NOW);
    /* One half-life: exactly when 10 * 2^(-t/H) reaches 9. */
    int64_t expected = NOW + (int64_t)ceil(7.0 * DAY * log2(10.0 / 9.0));
    assert_int_equal(result.next_change_at, expected);
    int64_t next = result.next_change_at;
    score_at(&l, a, 1, next);
    assert_true(result.engagement <= 9 + 1e-6);
    score_at(&l, a, 1, next - 60000);
    assert_true(result.engagement > 9);
}

static void test_next_change_is_never_late(void **state)
{
    (void)state;
    add_engagement("fast", "visit", NULL, 3, 0, DECAY_HALF_LIFE, 1 * DAY);
    add_engagement("slow", "webinar", NULL, 20, 15, DECAY_HALF_LIFE, 30 * DAY);
    add_engagement("negative", "bounce", NULL, -4, 0, DECAY_HALF_LIFE, 3 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - DAY, NULL), act("webinar", NOW - 2 * DAY, NULL),
                           act("bounce", NOW, NULL)};
    model.min_total = -100;
    score_at(&l, a, 3, NOW);
    double before = result.engagement;
    int64_t next = result.next_change_at;
    assert_true(next > NOW);
    /* Up to next, no change reaches one point. */
    for (int64_t t = NOW; t < next; t += (next - NOW) / 16 + 1) {
        score_at(&l, a, 3, t);
        assert_true(fabs(result.engagement - before) < 1);
    }
}

static void test_next_change_window(void **state)
{
    (void)state;
    add_engagement("recent", "visit", NULL, 4, 0, DECAY_WINDOW, 7 * DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - 2 * DAY, NULL), act("visit", NOW - 5 * DAY, NULL),
                           act("visit", NOW - 9 * DAY, NULL)};
    score_at(&l, a, 3, NOW);
    assert_int_equal(result.next_change_at, NOW - 5 * DAY + 7 * DAY + 1);
    score_at(&l, a, 3, result.next_change_at);
    assert_near(result.engagement, 4);
}

static void test_next_change_mixed_and_none(void **state)
{
    (void)state;
    add_engagement("recent", "visit", NULL, 4, 0, DECAY_WINDOW, 7 * DAY);
    add_engagement("decaying", "webinar", NULL, 50, 0, DECAY_HALF_LIFE, 30 * DAY);
    add_engagement("forever", "signup", NULL, 30, 0, DECAY_NONE, 0);
    add_engagement("tiny", "open", NULL, 0.5, 0, DECAY_HALF_LIFE, DAY);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - 6 * DAY, NULL), act("webinar", NOW, NULL),
                           act("signup", NOW - 100 * DAY, NULL), act("open", NOW, NULL)};
    score_at(&l, a, 2, NOW);
    /* The webinar loses 1 point after 30d * log2(50/49) (about 0.87 days);
     * the visit leaves the window after 1 day. */
    int64_t webinar = NOW + (int64_t)ceil(30.0 * DAY * log2(50.0 / 49.0));
    assert_int_equal(result.next_change_at, webinar);
    a[1].occurred_at = NOW - 365 * DAY; /* 50 * 2^-12: about 0.01 */
    score_at(&l, a, 2, NOW);
    assert_int_equal(result.next_change_at, NOW + DAY + 1);

    score_at(&l, a + 2, 1, NOW); /* no decay */
    assert_int_equal(result.next_change_at, 0);
    score_at(&l, a + 3, 1, NOW); /* all that decays is under a point */
    assert_int_equal(result.next_change_at, 0);
    score_at(&l, a + 2, 2, NOW);
    assert_int_equal(result.next_change_at, 0);
    a[0].occurred_at = NOW - 8 * DAY; /* already outside */
    score_at(&l, a, 1, NOW);
    assert_int_equal(result.next_change_at, 0);
}

/* ---- the lead subject ---- */

static struct rule_value slots[64];

static const struct rule_value *slot(const char *path)
{
    int i = rule_symtab_find(model.lead_syms, path);
    if (i < 0)
        fail_msg("no slot for '%s'", path);
    return &slots[i];
}

static void use(const char *path)
{
    char text[200];
    snprintf(text, sizeof(text), "%s exists", path);
    compile(model.lead_syms, text);
}

static void fill(const struct lead *l, const struct activity_fact *facts, size_t n_facts,
                 const struct score_result *scores)
{
    assert_true(rule_symtab_count(model.lead_syms) <= 64);
    memset(slots, 0xAB, sizeof(slots));
    assert_int_equal(
        score_fill_lead(model.lead_syms, l, facts, n_facts, scores, NOW, &arena, slots), BT_OK);
}

static void assert_text(const struct rule_value *v, const char *text)
{
    assert_int_equal(v->type, RULE_STRING);
    assert_int_equal(v->len, strlen(text));
    assert_memory_equal(v->text, text, v->len);
}

static void assert_lower(const struct rule_value *v, const char *lower)
{
    assert_int_equal(v->len, strlen(lower));
    assert_memory_equal(v->lower, lower, v->len);
}

static void assert_number(const struct rule_value *v, double n)
{
    assert_int_equal(v->type, RULE_NUMBER);
    assert_near(v->number, n);
}

static void assert_missing(const struct rule_value *v)
{
    assert_int_equal(v->type, RULE_MISSING);
}

static void test_lead_attributes(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "email",     "email.domain",   "email.free", "first_name",  "last_name",
        "company",   "title",          "phone",      "website",     "website.domain",
        "country",   "state",          "city",       "industry",    "source",
        "employees", "employees_band", "stage",      "external_id", "region",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        use(paths[i]);
    struct lead l = base_lead();
    l.attr[LEAD_WEBSITE] = "https://www.Acme.com/";
    l.attr[LEAD_WEBSITE_DOMAIN] = "acme.com";
    l.attr[LEAD_FIRST_NAME] = "Jane";
    l.attr[LEAD_EXTERNAL_ID] = "crm-1";
    fill(&l, NULL, 0, NULL);
    assert_text(slot("email"), "jane@acme.com");
    assert_ptr_equal(slot("email")->lower, slot("email")->text); /* no copy without upper case */
    assert_text(slot("email.domain"), "acme.com");
    assert_int_equal(slot("email.free")->type, RULE_BOOL);
    assert_false(slot("email.free")->boolean);
    assert_text(slot("company"), "ACME Corp");
    assert_lower(slot("company"), "acme corp");
    assert_text(slot("website"), "https://www.Acme.com/");
    assert_lower(slot("website"), "https://www.acme.com/");
    assert_text(slot("website.domain"), "acme.com");
    assert_text(slot("first_name"), "Jane");
    assert_text(slot("external_id"), "crm-1");
    assert_text(slot("stage"), "new");
    assert_text(slot("employees_band"), "201-500");
    assert_number(slot("employees"), 250);
    assert_missing(slot("last_name"));
    assert_missing(slot("phone"));
    assert_missing(slot("state"));
    assert_missing(slot("city"));
    assert_missing(slot("industry"));
    assert_missing(slot("source"));
    assert_text(slot("region"), "EMEA"); /* from the country, DE */
    l.attr[LEAD_COUNTRY] = "JP";
    fill(&l, NULL, 0, NULL);
    assert_text(slot("region"), "APAC");
    l.attr[LEAD_COUNTRY] = NULL;
    fill(&l, NULL, 0, NULL);
    assert_missing(slot("region"));
    l.attr[LEAD_COUNTRY] = "DE";

    l.attr[LEAD_EMAIL] = NULL;
    l.employees = -1;
    fill(&l, NULL, 0, NULL);
    assert_missing(slot("email"));
    assert_missing(slot("email.free"));
    assert_missing(slot("employees"));
}

static void test_missing_values_never_match(void **state)
{
    (void)state;
    add_fit("small", "employees < 50", 10, -1);
    add_fit("not_big", "not employees >= 50", 3, -1);
    add_fit("no_phone", "not phone exists", 1, -1);
    add_fit("free", "email.free", 5, -1);
    add_fit("not_free", "not email.free", 2, -1);
    struct lead l = base_lead();
    l.employees = -1;
    l.attr[LEAD_EMAIL] = NULL;
    score_at(&l, NULL, 0, NOW);
    assert_null(reason("small"));
    assert_null(reason("free"));
    assert_non_null(reason("not_big"));
    assert_non_null(reason("no_phone"));
    assert_non_null(reason("not_free"));
    assert_near(result.fit, 6);
}

static void test_scores_in_subject(void **state)
{
    (void)state;
    use("score");
    use("fit");
    use("engagement");
    use("grade");
    struct rule *a1 = compile(model.lead_syms, "grade == \"a1\"");
    struct rule *exact = compile(model.lead_syms, "grade == case \"A1\"");
    struct lead l = base_lead();
    fill(&l, NULL, 0, NULL);
    assert_missing(slot("score"));
    assert_missing(slot("grade"));
    struct score_result *s = calloc(1, sizeof(*s));
    s->fit = 70;
    s->engagement = 65.5;
    s->total = 100;
    strcpy(s->grade, "A1");
    fill(&l, NULL, 0, s);
    assert_number(slot("score"), 100);
    assert_number(slot("fit"), 70);
    assert_number(slot("engagement"), 65.5);
    assert_text(slot("grade"), "A1");
    assert_lower(slot("grade"), "a1");
    struct rule_scratch *rs = rule_scratch_new();
    assert_true(rule_eval(a1, slots, rs));
    assert_true(rule_eval(exact, slots, rs));
    rule_scratch_free(rs);
    free(s);
}

static void test_activity_facts(void **state)
{
    (void)state;
    use("activity.demo_request.count");
    use("activity.demo_request.last_days");
    use("activity.demo_request.first_days");
    use("activity.webinar.count");
    use("activity.webinar.last_days");
    struct activity a[] = {
        act("demo_request", NOW - 3 * DAY, NULL),
        act("visit", NOW - DAY, NULL),
        act("demo_request", NOW - DAY / 2, NULL),
        act("demo_request", NOW - 10 * DAY, NULL),
    };
    struct activity_fact *facts;
    size_t n;
    assert_int_equal(score_activity_facts(a, 4, &arena, &facts, &n), BT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(facts[0].type, "demo_request");
    assert_int_equal(facts[0].count, 3);
    assert_int_equal(facts[0].newest_at, NOW - DAY / 2);
    assert_int_equal(facts[0].oldest_at, NOW - 10 * DAY);
    assert_string_equal(facts[1].type, "visit");
    assert_int_equal(facts[1].count, 1);

    struct lead l = base_lead();
    fill(&l, facts, n, NULL);
    assert_number(slot("activity.demo_request.count"), 3);
    assert_number(slot("activity.demo_request.last_days"), 0.5);
    assert_number(slot("activity.demo_request.first_days"), 10);
    assert_number(slot("activity.webinar.count"), 0);
    assert_missing(slot("activity.webinar.last_days"));

    assert_int_equal(score_activity_facts(NULL, 0, &arena, &facts, &n), BT_OK);
    assert_int_equal(n, 0);
}

static void test_activity_facts_in_fit_rules(void **state)
{
    (void)state;
    add_fit("demo", "activity.demo_request.count > 0", 30, -1);
    add_fit("recent_demo", "activity.demo_request.last_days < 1", 10, -1);
    add_fit("many_visits", "activity.visit.count >= 3", 5, -1);
    add_fit("no_webinar", "activity.webinar.count == 0", 2, -1);
    add_fit("old_webinar", "activity.webinar.first_days > 1", 50, -1);
    struct lead l = base_lead();
    struct activity a[] = {act("visit", NOW - DAY, NULL), act("demo_request", NOW - DAY / 4, NULL),
                           act("visit", NOW - 2 * DAY, NULL), act("visit", NOW - 3 * DAY, NULL)};
    score_at(&l, a, 4, NOW);
    assert_near(result.fit, 47);
    assert_null(reason("old_webinar"));
    score_at(&l, a, 1, NOW);
    assert_near(result.fit, 2);
}

/* ---- custom fields ---- */

static void fields_case(const char *json)
{
    struct lead l = base_lead();
    l.fields_json = json;
    fill(&l, NULL, 0, NULL);
}

static void test_fields_scalars(void **state)
{
    (void)state;
    use("fields.plan");
    use("fields.budget");
    use("fields.seats");
    use("fields.partner");
    use("fields.note");
    use("fields.absent");
    use("fields.utm.source");
    fields_case(" { \"plan\" : \"Pro\" , \"budget\":\"10000\",\"seats\":25,\"partner\":true,"
                "\"note\":null,\"utm.source\":\"LinkedIn\",\"other\":\"x\" } ");
    assert_text(slot("fields.plan"), "Pro");
    assert_lower(slot("fields.plan"), "pro");
    assert_text(slot("fields.budget"), "10000");
    assert_true(slot("fields.budget")->has_number);
    assert_near(slot("fields.budget")->number, 10000);
    assert_number(slot("fields.seats"), 25);
    assert_int_equal(slot("fields.partner")->type, RULE_BOOL);
    assert_true(slot("fields.partner")->boolean);
    assert_missing(slot("fields.note"));
    assert_missing(slot("fields.absent"));
    assert_text(slot("fields.utm.source"), "LinkedIn");

    fields_case("{\"partner\":false,\"partner\":true,\"seats\":1,\"seats\":null}");
    assert_true(slot("fields.partner")->boolean);
    assert_missing(slot("fields.seats"));

    struct lead l = base_lead();
    l.fields_json = NULL;
    fill(&l, NULL, 0, NULL);
    assert_missing(slot("fields.plan"));
}

static void test_fields_number_like_strings_in_rules(void **state)
{
    (void)state;
    add_fit("budget", "fields.budget >= 10000", 10, -1);
    add_fit("plan", "fields.plan in [\"pro\", \"enterprise\"]", 5, -1);
    add_fit("partner", "fields.partner", 3, -1);
    struct lead l = base_lead();
    l.fields_json = "{\"budget\":\"12000\",\"plan\":\"Enterprise\",\"partner\":true}";
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 18);
    l.fields_json = "{\"budget\":9999.5,\"plan\":\"free\",\"partner\":\"true\"}";
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 0);
    l.fields_json = "{\"budget\":\"lots\"}";
    score_at(&l, NULL, 0, NOW);
    assert_near(result.fit, 0);
}

static void test_fields_escapes(void **state)
{
    (void)state;
    use("fields.name");
    use("fields.emoji");
    use("fields.lone");
    use("fields.nul");
    use("fields.key");
    use("fields.ctl");
    use("fields.upper");
    fields_case("{\"name\":\"J\\u00fcrgen \\\"JJ\\\" \\\\ \\/ x\","
                "\"emoji\":\"\\ud83d\\ude00!\","
                "\"lone\":\"a\\ud800b\\udc00c\","
                "\"nul\":\"a\\u0000b\","
                "\"k\\u0065y\":\"escaped key\","
                "\"ctl\":\"\\b\\f\\n\\r\\t\\u001f\","
                "\"upper\":\"\\u00C9T\\u00c9 \\u20AC\"}");
    assert_text(slot("fields.name"), "J\xc3\xbcrgen \"JJ\" \\ / x");
    assert_lower(slot("fields.name"), "j\xc3\xbcrgen \"jj\" \\ / x");
    assert_text(slot("fields.emoji"), "\xf0\x9f\x98\x80!");
    assert_text(slot("fields.lone"), "a\xef\xbf\xbd"
                                     "b\xef\xbf\xbd"
                                     "c");
    assert_text(slot("fields.nul"), "a\xef\xbf\xbd"
                                    "b");
    assert_text(slot("fields.key"), "escaped key");
    assert_text(slot("fields.ctl"), "\b\f\n\r\t\x1f");
    assert_text(slot("fields.upper"), "\xc3\x89T\xc3\x89 \xe2\x82\xac");
    assert_lower(slot("fields.upper"), "\xc3\x89t\xc3\x89 \xe2\x82\xac");

    /* A high surrogate followed by a non-surrogate escape. */
    fields_case("{\"lone\":\"\\ud83d\\u0041\"}");
    assert_text(slot("fields.lone"), "\xef\xbf\xbd"
                                     "A");
    /* Raw UTF-8 passes through as it is. */
    fields_case("{\"name\":\"Zo\xc3\xab\"}");
    assert_text(slot("fields.name"), "Zo\xc3\xab");
}

static void test_fields_numbers(void **state)
{
    (void)state;
    use("fields.n");
    static const struct {
        const char *json;
        double value;
    } cases[] = {
        {"0", 0},
        {"-0", 0},
        {"7", 7},
        {"-2.5", -2.5},
        {"0.1", 0.1},
        {"1.50", 1.5},
        {"1e3", 1000},
        {"1E+3", 1000},
        {"25e-1", 2.5},
        {"1.5E-2", 0.015},
        {"123456789012345", 123456789012345.0},
        {"12345678901234567890", 12345678901234567890.0},
        {"0.30000000000000004", 0.30000000000000004},
        {"1e300", 1e300},
        {"-4.9e-324", -4.9e-324},
        {"9007199254740993", 9007199254740992.0},
    };
    char json[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json), "{\"n\":%s}", cases[i].json);
        fields_case(json);
        const struct rule_value *v = slot("fields.n");
        if (v->type != RULE_NUMBER || v->number != cases[i].value)
            fail_msg("%s: type %d value %.17g, expected %.17g", cases[i].json, v->type, v->number,
                     cases[i].value);
    }
    static const char *const bad[] = {"01",  "1.",   ".5",  "+1",       "-",     "1e",
                                      "1e+", "0x10", "NaN", "Infinity", "1.5.2", "--1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json), "{\"n\":%s}", bad[i]);
        fields_case(json);
        if (slot("fields.n")->type != RULE_MISSING)
            fail_msg("'%s' was accepted as a number", bad[i]);
    }
}

static void test_fields_malformed_reads_as_empty(void **state)
{
    (void)state;
    use("fields.a");
    use("fields.b");
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"a\":1",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{a:1}",
        "{\"a\":\"unterminated}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"bad \\x escape\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":tru}",
        "{\"a\":1,\"b\":[1,2}",
        "{\"a\":1,\"b\":{\"c\":}}",
        "{\"a\":1,\"b\":nul}",
        "{\"a\":'x'}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fields_case(bad[i]);
        if (slot("fields.a")->type != RULE_MISSING || slot("fields.b")->type != RULE_MISSING)
            fail_msg("malformed '%s' gave a value", bad[i]);
    }
    fields_case("{}");
    assert_missing(slot("fields.a"));
    fields_case(" {\n} \n");
    assert_missing(slot("fields.a"));
}

static void test_fields_nested_values_are_missing(void **state)
{
    (void)state;
    use("fields.a");
    use("fields.c");
    use("fields.e");
    fields_case("{\"a\":{\"b\":1,\"x\":[true,null]},\"c\":[1,2,{\"d\":\"}\"}],\"e\":\"x\"}");
    assert_missing(slot("fields.a"));
    assert_missing(slot("fields.c"));
    assert_text(slot("fields.e"), "x");
}

/* ---- schemas ---- */

static bool lead_ok(const char *path, char *why, size_t size)
{
    why[0] = '\0';
    return score_lead_schema.check(score_lead_schema.ctx, path, strlen(path), why, size);
}

static bool activity_ok(const char *path, char *why, size_t size)
{
    why[0] = '\0';
    return score_activity_schema.check(score_activity_schema.ctx, path, strlen(path), why, size);
}

static void assert_refused(bool ok, const char *why, const char *expected)
{
    assert_false(ok);
    if (strcmp(why, expected) != 0)
        fail_msg("reason '%s', expected '%s'", why, expected);
}

static void test_lead_schema_accepts(void **state)
{
    (void)state;
    static const char *const good[] = {
        "owner",
        "account",
        "email",
        "email.domain",
        "email.free",
        "first_name",
        "last_name",
        "company",
        "title",
        "phone",
        "website",
        "website.domain",
        "country",
        "state",
        "city",
        "industry",
        "source",
        "employees",
        "employees_band",
        "stage",
        "external_id",
        "score",
        "fit",
        "engagement",
        "grade",
        "fields.budget",
        "fields.a.b",
        "fields.X-Y",
        "activity.demo_request.count",
        "activity.web_2.last_days",
        "activity.x.first_days",
    };
    char why[200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!lead_ok(good[i], why, sizeof(why)))
            fail_msg("'%s' refused: %s", good[i], why);
}

static void test_lead_schema_refuses_with_reasons(void **state)
{
    (void)state;
    char why[200];
    assert_refused(lead_ok("emial", why, sizeof(why)), why,
                   "unknown field 'emial'; did you mean 'email'?");
    assert_refused(lead_ok("employes", why, sizeof(why)), why,
                   "unknown field 'employes'; did you mean 'employees'?");
    assert_refused(lead_ok("email.domian", why, sizeof(why)), why,
                   "unknown field 'email.domian'; did you mean 'email.domain'?");
    assert_refused(lead_ok("field.budget", why, sizeof(why)), why,
                   "unknown field 'field.budget'; did you mean 'fields.budget'?");
    assert_refused(lead_ok("activty.demo.count", why, sizeof(why)), why,
                   "unknown field 'activty.demo.count'; did you mean 'activity.demo.count'?");
    assert_refused(lead_ok("budget", why, sizeof(why)), why,
                   "unknown field 'budget' (a custom field is fields.budget)");
    assert_refused(lead_ok("region_code", why, sizeof(why)), why,
                   "unknown field 'region_code' (a custom field is fields.region_code)");
    assert_refused(lead_ok("foo.bar", why, sizeof(why)), why, "unknown field 'foo.bar'");
    assert_refused(lead_ok("fields", why, sizeof(why)), why,
                   "'fields' needs a name, e.g. fields.budget");
    assert_refused(lead_ok("activity.Demo.count", why, sizeof(why)), why,
                   "activity type 'Demo' must be 1 to 64 characters of a-z, 0-9 and _");
    assert_refused(lead_ok("activity.demo-request.count", why, sizeof(why)), why,
                   "activity type 'demo-request' must be 1 to 64 characters of a-z, 0-9 and _");
    assert_refused(lead_ok("activity.demo.counts", why, sizeof(why)), why,
                   "unknown activity fact 'counts'; did you mean 'count'?");
    assert_refused(lead_ok("activity.demo.age", why, sizeof(why)), why,
                   "unknown activity fact 'age'; expected count, last_days or first_days");
    assert_refused(lead_ok("activity.demo.count.x", why, sizeof(why)), why,
                   "unknown activity fact 'count.x'; did you mean 'count'?");
    assert_refused(lead_ok("website_domain", why, sizeof(why)), why,
                   "unknown field 'website_domain'; did you mean 'website.domain'?");
    assert_false(lead_ok("activity.demo", why, sizeof(why)));
    assert_non_null(strstr(why, "activity.TYPE.count"));
    assert_false(lead_ok("activity", why, sizeof(why)));
    assert_non_null(strstr(why, "activity.TYPE.count"));
    char long_path[128];
    snprintf(long_path, sizeof(long_path), "fields.%0*d", 65, 0);
    assert_false(lead_ok(long_path, why, sizeof(why)));
    assert_non_null(strstr(why, "longer than 64 bytes"));
    snprintf(long_path, sizeof(long_path), "activity.%0*d.count", 65, 0);
    assert_false(lead_ok(long_path, why, sizeof(why)));
    /* A short buffer is never overrun. */
    char tiny[8];
    assert_false(lead_ok("emial", tiny, sizeof(tiny)));
    assert_int_equal(strlen(tiny), 7);
}

static void test_schema_reason_reaches_the_compiler(void **state)
{
    (void)state;
    struct rule *r = NULL;
    struct rule_error e;
    const char *text = "country == \"DE\" and titel contains \"vp\"";
    assert_int_equal(rule_compile(model.lead_syms, text, strlen(text), &r, &e), BT_EINVAL);
    assert_non_null(strstr(e.message, "did you mean 'title'?"));
    text = "properties.form == \"demo\"";
    assert_int_equal(rule_compile(model.lead_syms, text, strlen(text), &r, &e), BT_EINVAL);
    assert_int_equal(rule_compile(model.activity_syms, text, strlen(text), &r, &e), BT_OK);
    rule_free(r);
}

static void test_activity_schema(void **state)
{
    (void)state;
    char why[200];
    assert_true(activity_ok("type", why, sizeof(why)));
    assert_true(activity_ok("age_days", why, sizeof(why)));
    assert_true(activity_ok("properties.form", why, sizeof(why)));
    assert_true(activity_ok("properties.utm.campaign", why, sizeof(why)));
    assert_refused(activity_ok("typ", why, sizeof(why)), why,
                   "unknown activity field 'typ'; did you mean 'type'?");
    assert_refused(activity_ok("age", why, sizeof(why)), why,
                   "unknown activity field 'age' (an activity has type, age_days and "
                   "properties.NAME, e.g. properties.age)");
    assert_refused(activity_ok("property.form", why, sizeof(why)), why,
                   "unknown activity field 'property.form'; did you mean 'properties.form'?");
    assert_refused(activity_ok("properties", why, sizeof(why)), why,
                   "'properties' needs a name, e.g. properties.budget");
    assert_false(activity_ok("email", why, sizeof(why)));
    assert_false(activity_ok("fields.x", why, sizeof(why)));
}

static void test_activity_subject(void **state)
{
    (void)state;
    add_engagement("t", "visit", "type == \"visit\" and age_days >= 1.5 and properties.n > 2", 1, 0,
                   DECAY_NONE, 0);
    add_engagement("u", "visit", "properties.page ends_with \"/Pricing\"", 10, 0, DECAY_NONE, 0);
    add_engagement("c", "visit", "properties.page ends_with case \"/Pricing\"", 100, 0, DECAY_NONE,
                   0);
    struct lead l = base_lead();
    struct activity a[] = {
        act("visit", NOW - 2 * DAY, "{\"n\":3,\"page\":\"/pricing\"}"),
        act("visit", NOW - DAY, "{\"n\":3,\"page\":\"/PRICING\"}"),
        act("visit", NOW - 2 * DAY, "{\"n\":\"2\"}"),
        act("visit", NOW - 2 * DAY, "not json"),
        act("visit", NOW - 2 * DAY, "{\"page\":\"/x/Pricing\"}"),
    };
    score_at(&l, a, 5, NOW);
    assert_int_equal(must_reason("t")->matches, 1);
    assert_int_equal(must_reason("u")->matches, 3);
    assert_int_equal(must_reason("c")->matches, 1);
    assert_near(result.engagement, 1 + 30 + 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fit_points_and_negatives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_cap_trims_in_config_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_cap_with_negative_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_is_clamped_grade_is_not, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grades_at_band_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scores_are_missing_while_scoring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_life_decay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_activity_counts_as_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engagement_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_applies_after_decay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engagement_conditions_on_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_activities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scratch_is_reused_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_types_are_told_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_much_text_and_a_full_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_change_half_life, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_change_is_never_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_change_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_change_mixed_and_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_values_never_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scores_in_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_facts_in_fit_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_number_like_strings_in_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_malformed_reads_as_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_nested_values_are_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_schema_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_schema_refuses_with_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_reason_reaches_the_compiler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_subject, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
