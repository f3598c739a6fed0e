/*
 * test_skill.c - rep x segment conversion estimates: shrinkage (three lucky
 * deals are not a genius), the prior from the rep's level and the segment's
 * lift, the strength estimated from the data, intervals, unseen reps and
 * segments, segment keys, the JSON round trip and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/lead.h"
#include "core/skill.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 7;

static double uniform(void)
{
    rng = rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* n outcomes of rep in segment, won with probability p (or exactly `wins`). */
struct rows {
    struct skill_outcome r[20000];
    size_t n;
};

static void add(struct rows *rs, const char *rep, const char *seg, int n, int wins, double value)
{
    for (int i = 0; i < n; i++)
        rs->r[rs->n++] = (struct skill_outcome){rep, seg, i < wins, i < wins ? value : 0};
}

static void add_random(struct rows *rs, const char *rep, const char *seg, int n, double p)
{
    for (int i = 0; i < n; i++)
        rs->r[rs->n++] = (struct skill_outcome){rep, seg, uniform() < p, 0};
}

static void test_three_lucky_deals_are_not_a_genius(void **unused)
{
    (void)unused;
    static struct rows rs;
    rs.n = 0;
    add_random(&rs, "a", "s", 400, 0.2);
    add_random(&rs, "b", "s", 400, 0.2);
    add_random(&rs, "c", "s", 400, 0.2);
    add(&rs, "lucky", "s", 3, 3, 0);
    struct skill_table *t;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, &err), BT_OK);
    struct skill_estimate e, a;
    skill_estimate(t, "lucky", "s", &e);
    skill_estimate(t, "a", "s", &a);
    assert_int_equal(e.n, 3);
    assert_int_equal(e.wins, 3);
    assert_true(e.p < 0.4); /* raw rate 1.0 */
    assert_true(e.p > a.p);
    assert_true(e.low < e.p && e.p < e.high);
    assert_true(e.high - e.low > a.high - a.low); /* less known, wider */
    assert_true(fabs(a.p - 0.2) < 0.05);
    assert_int_equal(skill_outcomes(t), 1203);
    assert_true(skill_strength(t) >= 1 && skill_strength(t) <= 1000);
    skill_table_free(t);
}

static void test_real_skill_is_found(void **unused)
{
    (void)unused;
    static struct rows rs;
    rs.n = 0;
    /* b excels at saas, c at manufacturing */
    add_random(&rs, "b", "saas", 300, 0.40);
    add_random(&rs, "b", "mfg", 300, 0.10);
    add_random(&rs, "c", "saas", 300, 0.10);
    add_random(&rs, "c", "mfg", 300, 0.40);
    add_random(&rs, "d", "saas", 300, 0.20);
    add_random(&rs, "d", "mfg", 300, 0.20);
    struct skill_table *t;
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, NULL), BT_OK);
    struct skill_estimate bs, bm, cs, cm;
    skill_estimate(t, "b", "saas", &bs);
    skill_estimate(t, "b", "mfg", &bm);
    skill_estimate(t, "c", "saas", &cs);
    skill_estimate(t, "c", "mfg", &cm);
    assert_true(bs.p > cs.p + 0.15);
    assert_true(cm.p > bm.p + 0.15);
    assert_true(bs.low > cs.high); /* well separated with 300 each */
    /* the rep x segment effects of the additive model carry the skill */
    assert_true(bs.prior > cs.prior + 0.15);
    assert_true(cm.prior > bm.prior + 0.15);
    skill_table_free(t);

    /* with no real differences, strong shrinkage */
    rs.n = 0;
    for (int r = 0; r < 6; r++)
        for (int s = 0; s < 6; s++) {
            static char names[6][2] = {"a", "b", "c", "d", "e", "f"};
            add_random(&rs, names[r], names[s], 100, 0.25);
        }
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, NULL), BT_OK);
    /* raw cell rates scatter by 0.043; the estimates hardly */
    for (int r = 0; r < 6; r++)
        for (int g = 0; g < 6; g++) {
            static const char *const nm[6] = {"a", "b", "c", "d", "e", "f"};
            struct skill_estimate e;
            skill_estimate(t, nm[r], nm[g], &e);
            assert_true(fabs(e.p - 0.25) < 0.03);
        }
    skill_table_free(t);
}

static void test_prior_unseen_and_fixed_strength(void **unused)
{
    (void)unused;
    static struct rows rs;
    rs.n = 0;
    add(&rs, "a", "x", 100, 50, 1000); /* a is strong, x converts well */
    add(&rs, "a", "y", 100, 10, 500);
    add(&rs, "b", "x", 100, 30, 1000);
    add(&rs, "b", "y", 100, 10, 500);
    struct skill_options opts = {.strength = 20};
    struct skill_table *t;
    assert_int_equal(skill_table_build(rs.r, rs.n, &opts, &t, NULL), BT_OK);
    assert_true(skill_strength(t) == 20);
    assert_true(fabs(skill_global_rate(t) - 0.25) < 1e-12);
    struct skill_estimate e, f;
    /* an unseen segment: the rep's level, no cell to add */
    skill_estimate(t, "a", "z", &e);
    skill_estimate(t, "b", "z", &f);
    assert_int_equal(e.n, 0);
    assert_true(fabs(e.p - e.prior) < 1e-12);
    assert_true(e.p > f.p); /* a converts 30 %, b 20 % */
    /* an unseen rep: the segment's effect */
    skill_estimate(t, "new", "x", &e);
    skill_estimate(t, "new", "y", &f);
    assert_true(e.p > f.p + 0.1);
    /* a seen cell: the prior and the cell's own outcomes, k = 20 */
    skill_estimate(t, "b", "x", &e);
    assert_true(e.prior > 0.2 && e.prior < 0.45);
    assert_true(fabs(e.p - (30 + 20 * e.prior) / 120) < 1e-9);
    assert_true(e.low < e.p && e.high > e.p && e.low > 0.15 && e.high < 0.45);
    /* values: x's won deals are 1000, shrunk toward the global 812.5 */
    double gv = (80 * 1000.0 + 20 * 500.0) / 100;
    assert_true(fabs(e.value - (80 * 1000.0 + 20 * gv) / 100) < 1e-6);
    skill_table_free(t);
    /* nothing at all: a harmless table */
    assert_int_equal(skill_table_build(NULL, 0, NULL, &t, NULL), BT_OK);
    skill_estimate(t, "a", "", &e);
    assert_true(e.p > 0 && e.p < 1);
    skill_table_free(t);
}

static void test_parts_carry_to_unseen_keys(void **unused)
{
    (void)unused;
    static struct rows rs;
    rs.n = 0;
    /* a is good with software whatever the size, b with retail */
    add_random(&rs, "a", "i=software|z=small", 500, 0.35);
    add_random(&rs, "a", "i=retail|z=small", 500, 0.10);
    add_random(&rs, "a", "i=retail|z=big", 500, 0.10);
    add_random(&rs, "b", "i=software|z=small", 500, 0.10);
    add_random(&rs, "b", "i=retail|z=small", 500, 0.35);
    add_random(&rs, "b", "i=retail|z=big", 500, 0.35);
    struct skill_table *t;
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, NULL), BT_OK);
    struct skill_estimate a, b;
    /* nobody has seen big software companies */
    skill_estimate(t, "a", "i=software|z=big", &a);
    skill_estimate(t, "b", "i=software|z=big", &b);
    assert_int_equal(a.n, 0);
    assert_true(a.p > b.p + 0.1);
    skill_table_free(t);
}

static void test_json_round_trip(void **unused)
{
    (void)unused;
    static struct rows rs;
    rs.n = 0;
    add_random(&rs, "a", "x", 50, 0.3);
    add_random(&rs, "b", "x", 70, 0.1);
    add(&rs, "b", "y", 20, 5, 300);
    struct skill_table *t, *u;
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, NULL), BT_OK);
    json_t *j = skill_table_to_json(t);
    char *text = json_dumps(j, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    assert_int_equal(skill_table_from_json(back, &u, NULL), BT_OK);
    assert_true(fabs(skill_strength(t) - skill_strength(u)) < 1e-9);
    const char *reps[] = {"a", "b", "c"}, *segs[] = {"x", "y", "w"};
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) {
            struct skill_estimate x, y;
            skill_estimate(t, reps[r], segs[s], &x);
            skill_estimate(u, reps[r], segs[s], &y);
            assert_true(fabs(x.p - y.p) < 1e-9 && x.n == y.n && fabs(x.value - y.value) < 1e-6);
        }
    skill_table_free(u);
    /* corrupt tables are refused */
    struct bt_error err = BT_ERROR_INIT;
    json_t *bad = json_loads("{\"strength\":5,\"cells\":[[\"a\",\"x\",3,4,0,0]]}", 0, NULL);
    assert_int_equal(skill_table_from_json(bad, &u, &err), BT_EINVAL);
    assert_null(u);
    json_decref(bad);
    bad = json_loads("{\"strength\":5,\"cells\":[[\"a\",\"x\",3,1,0,0],[\"a\",\"x\",3,1,0,0]]}", 0,
                     NULL);
    assert_int_equal(skill_table_from_json(bad, &u, &err), BT_EINVAL);
    json_decref(bad);
    bad = json_loads("{\"cells\":[]}", 0, NULL);
    assert_int_equal(skill_table_from_json(bad, &u, &err), BT_EINVAL);
    json_decref(bad);
    json_decref(back);
    free(text);
    json_decref(j);
    skill_table_free(t);
}

static void test_segment_key_and_bad_input(void **unused)
{
    (void)unused;
    const char *names[] = {"industry", "employees_band", "country"};
    const char *values[] = {"Software", NULL, "DE"};
    char key[SKILL_SEGMENT_MAX];
    assert_int_equal(skill_segment_key(names, values, 3, key, NULL), BT_OK);
    assert_string_equal(key, "industry=software|country=de");
    const char *tricky[] = {"a|b=c", "", ""};
    assert_int_equal(skill_segment_key(names, tricky, 3, key, NULL), BT_OK);
    assert_string_equal(key, "industry=a_b_c");
    static char big[600];
    memset(big, 'x', sizeof(big) - 1);
    const char *huge[] = {big, "", ""};
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(skill_segment_key(names, huge, 3, key, &err), BT_ETOOBIG);
    assert_string_equal(key, "");

    struct skill_outcome rows[2] = {{"a", "x", true, 0}, {"", "x", false, 0}};
    struct skill_table *t = (struct skill_table *)1;
    assert_int_equal(skill_table_build(rows, 2, NULL, &t, &err), BT_EINVAL);
    assert_null(t);
    rows[1].rep_id = "b";
    rows[1].value = -1;
    assert_int_equal(skill_table_build(rows, 2, NULL, &t, &err), BT_EINVAL);
    rows[1].value = 0;
    struct skill_options opts = {.strength = 0.5};
    assert_int_equal(skill_table_build(rows, 2, &opts, &t, &err), BT_EINVAL);
    assert_string_equal(err.field, "strength");
    rows[1].segment = big;
    assert_int_equal(skill_table_build(rows, 2, NULL, &t, &err), BT_ETOOBIG);
}

static void test_lead_segment(void **unused)
{
    (void)unused;
    struct lead l = {0};
    l.attr[LEAD_INDUSTRY] = "Software";
    l.attr[LEAD_EMPLOYEES_BAND] = "51-200";
    l.fields_json = "{\"product\": \"GTX Pro\", \"seats\": 12, \"trial\": true, \"x\": [1]}";
    const char *paths[] = {"industry",     "employees_band", "fields.product", "fields.seats",
                           "fields.trial", "fields.x",       "country"};
    char key[SKILL_SEGMENT_MAX];
    assert_int_equal(skill_lead_segment(&l, paths, 7, key, NULL), BT_OK);
    assert_string_equal(key, "industry=software|employees_band=51-200|fields.product=gtx "
                             "pro|fields.seats=12|fields.trial=true");
    const char *bad[] = {"colour"};
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(skill_lead_segment(&l, bad, 1, key, &err), BT_EINVAL);
    assert_true(skill_segment_path_valid("fields.product"));
    assert_true(skill_segment_path_valid("country"));
    assert_false(skill_segment_path_valid("fields."));
    assert_false(skill_segment_path_valid("colour"));
}

/* A normal draw (Box-Muller) for the additive world below. */
static double normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* The intervals mean what they say: in an additive world (8 reps, 5
 * industries x 3 sizes, each rep with its own strengths), 12,000 outcomes
 * spread round robin, the true rate of a rep x segment cell falls inside
 * its 90 % interval about 90 % of the time, and the spread `sd` is about
 * the size of the actual log-odds error. (An interval from the cell's
 * counts and the prior's pseudo-counts alone is too narrow here: it
 * covers two cells in three.) */
static void test_intervals_cover_the_truth(void **unused)
{
    (void)unused;
    static struct rows rs;
    static const char *const reps[8] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
    static const char *const ind[5] = {"software", "retail", "energy", "media", "health"};
    static const char *const size[3] = {"small", "mid", "large"};
    static char keys[5][3][64];
    double truth[8][5][3], rep[8], ie[5], se[3], ri[8][5], rsz[8][3];
    rng = 99;
    for (int i = 0; i < 5; i++)
        ie[i] = 0.35 * normal();
    for (int z = 0; z < 3; z++)
        se[z] = 0.35 * normal();
    for (int r = 0; r < 8; r++) {
        rep[r] = 0.2 * normal();
        for (int i = 0; i < 5; i++)
            ri[r][i] = 0.35 * normal();
        for (int z = 0; z < 3; z++)
            rsz[r][z] = 0.35 * normal();
    }
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < 5; i++)
            for (int z = 0; z < 3; z++) {
                double x = log(0.12 / 0.88) + rep[r] + ie[i] + se[z] + ri[r][i] + rsz[r][z];
                truth[r][i][z] = 1 / (1 + exp(-x));
                snprintf(keys[i][z], sizeof(keys[i][z]), "industry=%s|size=%s", ind[i], size[z]);
            }
    rs.n = 0;
    for (int k = 0; k < 12000; k++) {
        int r = k % 8, i = (int)(uniform() * 5), z = (int)(uniform() * 3);
        rs.r[rs.n++] = (struct skill_outcome){reps[r], keys[i][z], uniform() < truth[r][i][z], 0};
    }
    struct skill_table *t;
    assert_int_equal(skill_table_build(rs.r, rs.n, NULL, &t, NULL), BT_OK);
    int inside = 0, cells = 0;
    double err2 = 0, sd2 = 0;
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < 5; i++)
            for (int z = 0; z < 3; z++) {
                struct skill_estimate e;
                skill_estimate(t, reps[r], keys[i][z], &e);
                double p = truth[r][i][z];
                inside += e.low <= p && p <= e.high;
                double d = log(e.p / (1 - e.p)) - log(p / (1 - p));
                err2 += d * d;
                sd2 += e.sd * e.sd;
                cells++;
                assert_true(e.low < e.p && e.p < e.high && e.sd > 0);
            }
    double coverage = (double)inside / cells, ratio = sqrt(sd2 / err2);
    printf("# 90%% intervals cover %.0f%% of %d cells; sd / actual error %.2f\n", 100 * coverage,
           cells, ratio);
    assert_true(coverage >= 0.78 && coverage <= 0.98);
    assert_true(ratio > 0.67 && ratio < 1.5);
    skill_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_lucky_deals_are_not_a_genius),
        cmocka_unit_test(test_real_skill_is_found),
        cmocka_unit_test(test_prior_unseen_and_fixed_strength),
        cmocka_unit_test(test_parts_carry_to_unseen_keys),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_segment_key_and_bad_input),
        cmocka_unit_test(test_lead_segment),
        cmocka_unit_test(test_intervals_cover_the_truth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
