/*
 * test_whatif.c - the comparison and tally behind `baton simulate --db`
 * (core/whatif.c): which differences count, that strings are copied, the
 * limit on listed leads, rep loads against weighted fair shares, holds and
 * config versions; and the read-only store the replay reads (a file opened
 * read-only refuses writes and is left byte for byte as it was).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/whatif.h"
#include "store/store.h"
#include "store/store_replay.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct whatif_outcome assigned_to(const char *rep, const char *pool)
{
    return (struct whatif_outcome){
        .scored = true,
        .score = 40,
        .grade = "B2",
        .stage = "assigned",
        .qualified = true,
        .result = "assigned",
        .pool = pool,
        .owner = rep,
        .rule = "default",
        .sla_policy = "normal",
        .summary = "rule default -> pool p: round_robin chose x",
        .config_version = "v1",
    };
}

static void identical_outcomes_do_not_differ(void **state)
{
    (void)state;
    struct whatif_outcome a = assigned_to("ana", "emea");
    /* equal strings at other addresses */
    char owner[] = "ana", pool[] = "emea";
    struct whatif_outcome b = assigned_to(owner, pool);
    assert_int_equal(whatif_compare(&a, &b), 0);
    b.score += WHATIF_SCORE_EPSILON / 2;
    assert_int_equal(whatif_compare(&a, &b), 0);
}

static void each_difference_has_its_bit(void **state)
{
    (void)state;
    struct whatif_outcome a = assigned_to("ana", "emea"), b;
    b = a;
    b.score = 41;
    assert_int_equal(whatif_compare(&a, &b), WHATIF_SCORE);
    b = a;
    b.grade = "A1";
    assert_int_equal(whatif_compare(&a, &b), WHATIF_GRADE);
    b = a;
    b.owner = "ben";
    assert_int_equal(whatif_compare(&a, &b), WHATIF_OWNER);
    b = a;
    b.pool = "amer";
    assert_int_equal(whatif_compare(&a, &b), WHATIF_POOL);
    b = a;
    b.sla_policy = NULL;
    assert_int_equal(whatif_compare(&a, &b), WHATIF_SLA);
    b = a;
    b.scored = false;
    assert_int_equal(whatif_compare(&a, &b), WHATIF_SCORE);
    /* not qualified any more: no decision at all */
    b = (struct whatif_outcome){.scored = true, .score = 40, .grade = "B2", .stage = "new"};
    assert_int_equal(whatif_compare(&a, &b),
                     WHATIF_STAGE | WHATIF_POOL | WHATIF_OWNER | WHATIF_SLA);
    /* held instead of assigned, in the same pool */
    b = a;
    b.result = "held";
    b.stage = "mql";
    b.owner = NULL;
    b.sla_policy = "normal";
    b.hold_reason = "no_eligible_member";
    assert_int_equal(whatif_compare(&a, &b), WHATIF_STAGE | WHATIF_OWNER | WHATIF_HOLD);
    /* held on both sides, for another reason */
    a = b;
    b.hold_reason = "rule";
    assert_int_equal(whatif_compare(&a, &b), WHATIF_HOLD);
    /* an owner on a held side does not count as an owner */
    b = a;
    b.owner = "ana";
    assert_int_equal(whatif_compare(&a, &b), 0);
    assert_string_equal(whatif_change_name(0), "score");
    assert_string_equal(whatif_change_name(WHATIF_CHANGES - 1), "hold");
}

static const json_t *rep_row(const json_t *load, const char *rep)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(load, "reps"), i,
                       r) if (!strcmp(json_string_value(json_object_get(r, "rep")), rep)) return r;
    return NULL;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void tally_counts_loads_and_holds(void **state)
{
    (void)state;
    const char *reps[] = {"ana", "ben"};
    const double weights[] = {1, 3};
    struct whatif_options o = {.limit = 2, .reps = reps, .weights = weights, .n_reps = 2};
    struct whatif *w = whatif_new(&o);
    /* before: ana 3, ben 2; after: ana 1, ben 3, lead 5 held; lead 4 scores 10 more */
    const char *before_owner[] = {"ana", "ben", "ana", "ben", "ana"};
    const char *after_owner[] = {"ana", "ben", "ben", "ben", NULL};
    for (int i = 0; i < 5; i++) {
        char buf[8];
        snprintf(buf, sizeof(buf), "%s", before_owner[i]); /* freed by the caller: copied */
        struct whatif_outcome b = assigned_to(buf, "p"), a = assigned_to(after_owner[i], "p");
        if (!after_owner[i]) {
            a.result = "held";
            a.stage = "mql";
            a.hold_reason = "no_eligible_member";
            a.sla_policy = NULL;
        }
        a.config_version = "v2";
        if (i == 3)
            a.score = 50;
        unsigned c = whatif_add(w, i + 1, 1700000000000 + i, &b, &a);
        assert_int_equal(c != 0, i >= 2);
        memset(buf, 'x', sizeof(buf) - 1);
    }
    assert_int_equal(whatif_replayed(w), 5);
    assert_int_equal(whatif_differing(w), 3);
    json_t *r = whatif_report(w);
    const json_t *ch = json_object_get(r, "changed");
    assert_int_equal(json_integer_value(json_object_get(ch, "owner")), 2);
    assert_int_equal(json_integer_value(json_object_get(ch, "score")), 1);
    assert_int_equal(json_integer_value(json_object_get(ch, "hold")), 1);
    assert_int_equal(json_integer_value(json_object_get(ch, "sla_policy")), 1);
    assert_int_equal(json_integer_value(json_object_get(ch, "qualified")), 0);
    const json_t *sc = json_object_get(r, "score_change");
    assert_true(fabs(num(sc, "max_abs") - 10) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(sc, "max_lead")), 4);
    assert_true(fabs(num(sc, "mean") - 2) < 1e-12);
    /* only the first two differing leads are listed, the first is lead 3 */
    const json_t *leads = json_object_get(r, "leads");
    assert_int_equal(json_array_size(leads), 2);
    const json_t *l3 = json_array_get(leads, 0);
    assert_int_equal(json_integer_value(json_object_get(l3, "lead")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(l3, "before"), "owner")),
                        "ana");
    assert_string_equal(json_string_value(json_object_get(json_object_get(l3, "after"), "owner")),
                        "ben");
    assert_string_equal(json_string_value(json_array_get(json_object_get(l3, "changed"), 0)),
                        "owner");
    assert_string_equal(json_string_value(json_object_get(l3, "at")), "2023-11-14T22:13:20.002Z");
    /* loads: fair shares 1/4 and 3/4 */
    const json_t *lb = json_object_get(json_object_get(r, "load"), "before");
    const json_t *la = json_object_get(json_object_get(r, "load"), "after");
    assert_int_equal(json_integer_value(json_object_get(lb, "assigned")), 5);
    assert_int_equal(json_integer_value(json_object_get(la, "assigned")), 4);
    const json_t *ana_b = rep_row(lb, "ana"), *ben_a = rep_row(la, "ben");
    assert_non_null(ana_b);
    assert_non_null(ben_a);
    assert_int_equal(json_integer_value(json_object_get(ana_b, "count")), 3);
    assert_true(fabs(num(ana_b, "share") - 0.6) < 1e-12);
    assert_true(fabs(num(ana_b, "fair_share") - 0.25) < 1e-12);
    assert_true(fabs(num(ana_b, "deviation") - 1.4) < 1e-12);
    assert_true(fabs(num(lb, "max_deviation") - 1.4) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(ben_a, "count")), 3);
    assert_true(fabs(num(ben_a, "deviation")) < 1e-12); /* 3/4 of 4: exactly fair */
    /* ana has 1 of 4 after: also exactly fair */
    assert_true(fabs(num(la, "max_deviation")) < 1e-12);
    /* holds and versions */
    const json_t *h = json_object_get(r, "holds");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "before"), "total")), 0);
    const json_t *ha = json_object_get(h, "after");
    assert_int_equal(json_integer_value(json_object_get(ha, "total")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ha, "reasons"), "no_eligible_member")),
        1);
    const json_t *v = json_object_get(r, "config_versions");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "before"), "v1")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "after"), "v2")), 5);
    json_decref(r);
    whatif_free(w);
    whatif_free(NULL);
}

static void unlisted_rep_has_no_fair_share(void **state)
{
    (void)state;
    const char *reps[] = {"ana"};
    struct whatif_options o = {.limit = 0, .reps = reps, .n_reps = 1};
    struct whatif *w = whatif_new(&o);
    struct whatif_outcome b = assigned_to("gone", "p"), a = assigned_to("ana", "p");
    assert_int_equal(whatif_add(w, 1, 0, &b, &a), WHATIF_OWNER);
    json_t *r = whatif_report(w);
    assert_int_equal(json_array_size(json_object_get(r, "leads")), 0); /* limit 0 */
    const json_t *lb = json_object_get(json_object_get(r, "load"), "before");
    const json_t *gone = rep_row(lb, "gone");
    assert_non_null(gone);
    assert_true(json_is_null(json_object_get(gone, "deviation")));
    assert_true(fabs(num(gone, "fair_share")) < 1e-12);
    /* ana, listed, has none of the leads before: deviation -100 % */
    assert_true(fabs(num(rep_row(lb, "ana"), "deviation") + 1) < 1e-12);
    json_decref(r);
    whatif_free(w);
}

/* ---- the read-only store ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

struct seen {
    int64_t ids[8];
    size_t n;
};

static bt_err collect(void *cls, const struct store_replay_lead *row, struct bt_error *err)
{
    struct seen *s = cls;
    if (s->n < 8)
        s->ids[s->n++] = row->lead.id;
    return BT_OK;
}

static void read_only_store_writes_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_whatif.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/t.db", dir);
    struct bt_error err = BT_ERROR_INIT;
    struct store *st;
    struct store_conn *c;

    /* missing file: no database, read-only or not */
    struct store_options ro = STORE_OPTIONS_INIT;
    ro.read_only = true;
    assert_int_equal(store_open(path, &ro, &st, &err), BT_ENOTFOUND);

    struct store_options rw = STORE_OPTIONS_INIT;
    rw.create = true;
    assert_int_equal(store_open(path, &rw, &st, &err), BT_OK);
    assert_int_equal(store_conn_open(st, &c, &err), BT_OK);
    int64_t times[3] = {3000, 1000, 2000};
    for (int i = 0; i < 3; i++) {
        struct lead l = {.employees = -1, .fields_json = "{}", .created_at = times[i]};
        l.attr[LEAD_EMAIL] = i == 0 ? "a@x.example" : i == 1 ? "b@x.example" : "c@x.example";
        l.attr[LEAD_STAGE] = "new";
        l.updated_at = times[i];
        assert_int_equal(store_lead_insert(c, &l, &err), BT_OK);
    }
    store_conn_close(c);
    store_close(st);

    size_t len0, len1;
    char *before = read_all(path, &len0);
    struct stat sb0, sb1;
    assert_int_equal(stat(path, &sb0), 0);

    assert_int_equal(store_open(path, &ro, &st, &err), BT_OK);
    assert_int_equal(store_conn_open(st, &c, &err), BT_OK);
    struct seen s = {0};
    uint64_t n;
    assert_int_equal(store_replay_each(c, 0, 0, 0, collect, &s, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    /* created order, not id order */
    assert_int_equal(s.ids[0], 2);
    assert_int_equal(s.ids[1], 3);
    assert_int_equal(s.ids[2], 1);
    /* [since, until) */
    s.n = 0;
    assert_int_equal(store_replay_each(c, 2000, 3000, 0, collect, &s, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s.ids[0], 3);
    int64_t count;
    assert_int_equal(store_replay_count(c, 1000, 0, &count, &err), BT_OK);
    assert_int_equal(count, 3);
    /* a write is refused */
    struct lead l = {.employees = -1, .fields_json = "{}", .created_at = 5};
    l.attr[LEAD_EMAIL] = "d@x.example";
    l.attr[LEAD_STAGE] = "new";
    assert_int_not_equal(store_lead_insert(c, &l, &err), BT_OK);
    store_conn_close(c);
    store_close(st);

    char *after = read_all(path, &len1);
    assert_int_equal(stat(path, &sb1), 0);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    assert_int_equal(sb0.st_mtim.tv_sec, sb1.st_mtim.tv_sec);
    assert_int_equal(sb0.st_mtim.tv_nsec, sb1.st_mtim.tv_nsec);
    free(before);
    free(after);
    /* a file at another schema version is refused, not migrated */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 10", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err = (struct bt_error)BT_ERROR_INIT;
    assert_int_equal(store_open(path, &ro, &st, &err), BT_ESTORE);
    assert_non_null(strstr(err.message, "schema version 10"));
    assert_non_null(strstr(err.message, "read-only"));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 10); /* left as it was */
    sqlite3_finalize(q);
    sqlite3_close(db);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_outcomes_do_not_differ),
        cmocka_unit_test(each_difference_has_its_bit),
        cmocka_unit_test(tally_counts_loads_and_holds),
        cmocka_unit_test(unlisted_rep_has_no_fair_share),
        cmocka_unit_test(read_only_store_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
