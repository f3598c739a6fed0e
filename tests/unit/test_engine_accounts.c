/*
 * test_engine_accounts.c - accounts in the store (upsert outcomes, times,
 * paging, the accounts version) and the writer's account index: empty,
 * rebuilt after a write by another connection (another process), kept when
 * nothing changed, rebuilt for a new threshold, and not fooled by a rolled
 * back transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "config/config.h"
#include "core/account_match.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct store_conn *conn;
    struct arena a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!tmpdir_make(f->dir, "accounts"))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    struct bt_error err = BT_ERROR_INIT;
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.create = true;
    if (store_open(f->path, &sopts, &f->st, &err) || store_conn_open(f->st, &f->conn, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_conn_close(f->conn);
    store_close(f->st);
    arena_release(&f->a);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

static const char *acme_domains[] = {"acme.com", "acme.de"};

static struct store_account account(const char *id, const char *name, const char *owner)
{
    return (struct store_account){
        .id = id, .name = name, .owner = owner, .country = "DE", .fields_json = "{\"t\":1}"};
}

static void upsert(struct store_conn *c, struct store_account *accs, size_t n, int64_t now,
                   enum store_account_outcome *outcomes)
{
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_begin(c, &err), BT_OK);
    if (store_account_upsert(c, accs, n, now, outcomes, &err))
        fail_msg("upsert: %s", err.message);
    assert_int_equal(store_commit(c, &err), BT_OK);
}

static int64_t version(struct store_conn *c)
{
    int64_t v;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_accounts_version(c, &v, &err), BT_OK);
    return v;
}

static void test_upsert_outcomes_and_times(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t v0 = version(f->conn);
    struct store_account a = account("acme", "Acme", "alice");
    a.domains = acme_domains;
    a.n_domains = 2;
    enum store_account_outcome o;
    upsert(f->conn, &a, 1, 1000, &o);
    assert_int_equal(o, STORE_ACCOUNT_CREATED);
    assert_int_equal(a.created_at, 1000);
    assert_int_equal(a.updated_at, 1000);
    int64_t v1 = version(f->conn);
    assert_true(v1 != v0);

    /* the same again: nothing written, the version stays */
    upsert(f->conn, &a, 1, 2000, &o);
    assert_int_equal(o, STORE_ACCOUNT_UNCHANGED);
    assert_int_equal(a.created_at, 1000);
    assert_int_equal(a.updated_at, 1000);
    assert_true(version(f->conn) == v1);

    /* a change: replaced, created_at kept */
    a.owner = "bob";
    a.n_domains = 1;
    upsert(f->conn, &a, 1, 3000, &o);
    assert_int_equal(o, STORE_ACCOUNT_UPDATED);
    assert_int_equal(a.created_at, 1000);
    assert_int_equal(a.updated_at, 3000);
    assert_true(version(f->conn) != v1);

    struct store_account got;
    assert_int_equal(store_account_get(f->conn, "acme", &f->a, &got, &err), BT_OK);
    assert_string_equal(got.name, "Acme");
    assert_string_equal(got.owner, "bob");
    assert_string_equal(got.country, "DE");
    assert_int_equal(got.n_domains, 1);
    assert_string_equal(got.domains[0], "acme.com");
    assert_null(got.website);
    assert_string_equal(got.fields_json, "{\"t\":1}");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 3000);

    assert_int_equal(store_account_get(f->conn, "nope", &f->a, &got, &err), BT_ENOTFOUND);
}

static bt_err collect_ids(void *cls, const struct store_account *a, struct bt_error *err)
{
    (void)err;
    char *buf = cls;
    strcat(buf, a->id);
    strcat(buf, " ");
    return BT_OK;
}

static void test_list_each_count(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_account accs[] = {account("c", "C", NULL), account("a", "A", NULL),
                                   account("b", "B", NULL), account("d", NULL, NULL)};
    accs[3].website = "https://d.io";
    upsert(f->conn, accs, 4, 5, NULL);

    struct store_account *list;
    size_t n;
    assert_int_equal(store_account_list(f->conn, NULL, 3, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].id, "a");
    assert_string_equal(list[2].id, "c");
    assert_int_equal(store_account_list(f->conn, "c", 3, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "d");
    assert_string_equal(list[0].website, "https://d.io");
    assert_null(list[0].name);

    char ids[64] = "";
    assert_int_equal(store_account_each(f->conn, collect_ids, ids, &err), BT_OK);
    assert_string_equal(ids, "a b c d ");
    int64_t count;
    assert_int_equal(store_account_count(f->conn, &count, &err), BT_OK);
    assert_int_equal(count, 4);
}

static void test_engine_command(void **state)
{
    struct fixture *f = *state;
    struct clock clock;
    clock_manual_init(&clock, 1795253400000LL);
    struct engine *eng;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(engine_start(f->st, &clock, NULL, &eng, &err), BT_OK);
    struct store_account accs[] = {account("x", "X", NULL), account("y", "Y", NULL)};
    struct accounts_command cmd = {.accounts = accs, .n = 2};
    assert_int_equal(engine_upsert_accounts(eng, &cmd, &f->a, &err), BT_OK);
    assert_int_equal(cmd.created, 2);
    assert_int_equal(cmd.outcomes[1], STORE_ACCOUNT_CREATED);
    assert_int_equal(accs[0].created_at, 1795253400000LL);
    accs[1].name = "Y2";
    assert_int_equal(engine_upsert_accounts(eng, &cmd, &f->a, &err), BT_OK);
    assert_int_equal(cmd.created, 0);
    assert_int_equal(cmd.updated, 1);
    assert_int_equal(cmd.unchanged, 1);
    engine_stop(eng);
}

/* engine__account_index as the router calls it: on the writer's connection,
 * inside a transaction. */
static const struct account_index *index_now(struct engine__ctx *ctx, const struct config *cfg)
{
    struct bt_error err = BT_ERROR_INIT;
    const struct account_index *ix = NULL;
    assert_int_equal(store_begin(ctx->conn, &err), BT_OK);
    if (engine__account_index(ctx, cfg, &ix, &err))
        fail_msg("index: %s", err.message);
    assert_int_equal(store_commit(ctx->conn, &err), BT_OK);
    assert_non_null(ix);
    return ix;
}

static const char *match_company(const struct account_index *ix, const char *company,
                                 const char *domain)
{
    struct account_query q = {.company = company, .website_domain = domain};
    static struct account_match m;
    account_match(ix, &q, &m);
    return m.match.account_id;
}

static void test_index_follows_the_store(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct engine__ctx ctx = {.conn = f->conn, .accounts = engine__accounts_new()};
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));

    const struct account_index *empty = index_now(&ctx, &cfg);
    assert_int_equal(account_index_count(empty), 0);
    assert_null(match_company(empty, "Acme", "acme.com"));
    assert_true(account_index_threshold(empty) == ACCOUNT_NAME_THRESHOLD_DEFAULT);

    /* another process writes to the same file */
    struct store *other;
    struct store_conn *oc;
    assert_int_equal(store_open(f->path, NULL, &other, &err), BT_OK);
    assert_int_equal(store_conn_open(other, &oc, &err), BT_OK);
    struct store_account a = account("acme", "Acme Corporation International", "alice");
    a.domains = acme_domains;
    a.n_domains = 2;
    upsert(oc, &a, 1, 10, NULL);

    const struct account_index *ix = index_now(&ctx, &cfg);
    assert_int_equal(account_index_count(ix), 1);
    assert_string_equal(match_company(ix, NULL, "acme.de"), "acme");
    /* nothing changed: the same index */
    assert_ptr_equal(index_now(&ctx, &cfg), ix);
    /* an unchanged upsert leaves it too */
    upsert(oc, &a, 1, 20, NULL);
    assert_ptr_equal(index_now(&ctx, &cfg), ix);

    /* a new threshold: rebuilt */
    assert_null(match_company(ix, "Acme Corporation Internationale", NULL));
    cfg.account_name_threshold = 0.5;
    const struct account_index *loose = index_now(&ctx, &cfg);
    assert_true(account_index_threshold(loose) == 0.5);

    /* written and rolled back on the writer after the index saw it */
    assert_int_equal(store_begin(f->conn, &err), BT_OK);
    struct store_account b = account("beta", "Beta", NULL);
    assert_int_equal(store_account_upsert(f->conn, &b, 1, 30, NULL, &err), BT_OK);
    const struct account_index *seen;
    assert_int_equal(engine__account_index(&ctx, &cfg, &seen, &err), BT_OK);
    assert_int_equal(account_index_count(seen), 2);
    store_rollback(f->conn);
    const struct account_index *after = index_now(&ctx, &cfg);
    assert_int_equal(account_index_count(after), 1);

    store_conn_close(oc);
    store_close(other);
    engine__accounts_free(ctx.accounts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upsert_outcomes_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_each_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_follows_the_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
