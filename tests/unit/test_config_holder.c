/*
 * test_config_holder.c - reloads through the holder: a good file is swapped
 * in and its changes are the last reload; a bad one keeps the running
 * snapshot and is reported with its FILE:LINE:COL; restart-only settings
 * stay reported against the start; readers on other threads see whole
 * outcomes, numbered in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "tmpdir.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1795000000000LL /* 2026-11-18T11:06:40Z */

struct fixture {
    char dir[TMPDIR_MAX];
    char path[TMPDIR_MAX + 16];
    struct config_holder *holder;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static const char two_reps[] = "version: 1\n"
                               "teams:\n"
                               "  - id: emea\n"
                               "reps:\n"
                               "  - id: anna\n"
                               "    team: emea\n"
                               "  - id: bob\n"
                               "routing:\n"
                               "  rules:\n"
                               "    - name: default\n"
                               "      to: rep:anna\n";

static const char three_reps[] = "version: 1\n"
                                 "teams:\n"
                                 "  - id: emea\n"
                                 "reps:\n"
                                 "  - id: anna\n"
                                 "    team: emea\n"
                                 "  - id: bob\n"
                                 "  - id: carl\n"
                                 "routing:\n"
                                 "  rules:\n"
                                 "    - name: default\n"
                                 "      to: rep:anna\n";

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    assert_true(tmpdir_make(f->dir, "holder"));
    snprintf(f->path, sizeof(f->path), "%s/baton.yaml", f->dir);
    write_file(f->path, two_reps);
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(config_load(f->path, &cfg, &err), BT_OK);
    f->holder = config_holder_new(cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_holder_free(f->holder);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static const char *version_now(struct fixture *f, char out[17])
{
    struct config *c = config_holder_get(f->holder);
    memcpy(out, c->version, 17);
    config_unref(c);
    return out;
}

static void test_no_reload_yet(void **state)
{
    struct fixture *f = *state;
    assert_null(config_holder_last_reload(f->holder, NULL));
}

static void test_applied_with_summary(void **state)
{
    struct fixture *f = *state;
    char before[17], after[17];
    version_now(f, before);
    /* bob goes, carl comes, anna moves out of her team */
    write_file(f->path, "version: 1\n"
                        "teams:\n"
                        "  - id: emea\n"
                        "reps:\n"
                        "  - id: anna\n"
                        "  - id: carl\n"
                        "routing:\n"
                        "  rules:\n"
                        "    - name: default\n"
                        "      to: rep:anna\n");
    struct config_reload r;
    config_holder_reload(f->holder, T0, &r);
    assert_true(r.applied);
    assert_true(r.warn);
    assert_string_equal(r.previous_version, before);
    assert_string_equal(r.version, version_now(f, after));
    assert_string_not_equal(before, after);
    assert_string_equal(r.summary, "removed 1 rep (bob); added 1 rep (carl); changed 1 rep (anna)");
    assert_string_equal(r.error, "");

    json_t *j = config_holder_last_reload(f->holder, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "at")), "2026-11-18T11:06:40.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "result")), "applied");
    assert_string_equal(json_string_value(json_object_get(j, "version")), after);
    assert_string_equal(json_string_value(json_object_get(j, "previous_version")), before);
    assert_true(json_is_null(json_object_get(j, "error")));
    json_t *s = json_object_get(j, "summary");
    assert_string_equal(json_string_value(json_object_get(s, "text")), r.summary);
    json_t *reps = json_object_get(s, "reps");
    assert_string_equal(json_string_value(json_array_get(json_object_get(reps, "removed"), 0)),
                        "bob");
    assert_string_equal(json_string_value(json_array_get(json_object_get(reps, "added"), 0)),
                        "carl");
    json_decref(j);

    /* Only additions: applied without a warning. */
    write_file(f->path, "version: 1\n"
                        "teams:\n"
                        "  - id: emea\n"
                        "  - id: apac\n"
                        "reps:\n"
                        "  - id: anna\n"
                        "  - id: carl\n"
                        "routing:\n"
                        "  rules:\n"
                        "    - name: default\n"
                        "      to: rep:anna\n");
    config_holder_reload(f->holder, T0 + 1000, &r);
    assert_true(r.applied);
    assert_false(r.warn);
    assert_string_equal(r.summary, "added 1 team (apac)");
    j = config_holder_last_reload(f->holder, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
    json_decref(j);
}

static void test_failed_keeps_running_snapshot(void **state)
{
    struct fixture *f = *state;
    char before[17], after[17];
    version_now(f, before);
    write_file(f->path, "version: 1\nreps:\n  - id: anna\n    tema: emea\n");
    struct config_reload r;
    config_holder_reload(f->holder, T0, &r);
    assert_false(r.applied);
    assert_false(r.warn);
    assert_string_equal(r.version, before);
    assert_string_equal(r.previous_version, before);
    assert_string_equal(version_now(f, after), before);
    char want[256];
    snprintf(want, sizeof(want), "%s:4:5: unknown key 'tema'", f->path);
    assert_true(strncmp(r.error, want, strlen(want)) == 0);
    assert_string_equal(r.summary, "");

    json_t *j = config_holder_last_reload(f->holder, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "result")), "failed");
    assert_string_equal(json_string_value(json_object_get(j, "version")), before);
    assert_string_equal(json_string_value(json_object_get(j, "error")), r.error);
    assert_true(json_is_null(json_object_get(j, "summary")));
    json_decref(j);

    /* The running snapshot still has both reps. */
    struct config *c = config_holder_get(f->holder);
    assert_int_equal(c->n_reps, 2);
    config_unref(c);

    /* A missing file is a failure too, and numbered. */
    assert_int_equal(remove(f->path), 0);
    config_holder_reload(f->holder, T0, &r);
    assert_false(r.applied);
    assert_non_null(strstr(r.error, "cannot open"));
    j = config_holder_last_reload(f->holder, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
    json_decref(j);
}

static void test_restart_only_against_start(void **state)
{
    struct fixture *f = *state;
    char text[1024];
    snprintf(text, sizeof(text), "%sserver:\n  listen: 127.0.0.1:9999\n", two_reps);
    write_file(f->path, text);
    struct config_reload r;
    config_holder_reload(f->holder, T0, &r);
    assert_true(r.applied);
    assert_true(r.warn);
    assert_string_equal(r.summary, "ignored until restart: server.listen");
    json_t *j = config_holder_last_reload(f->holder, NULL);
    json_t *ign = json_object_get(json_object_get(j, "summary"), "ignored_until_restart");
    assert_int_equal(json_array_size(ign), 1);
    assert_string_equal(json_string_value(json_array_get(ign, 0)), "server.listen");
    json_decref(j);

    /* The next reload changes something else: listen is still not in effect. */
    write_file(f->path, "version: 1\n"
                        "teams:\n"
                        "  - id: emea\n"
                        "reps:\n"
                        "  - id: anna\n"
                        "    team: emea\n"
                        "  - id: bob\n"
                        "  - id: carl\n"
                        "routing:\n"
                        "  rules:\n"
                        "    - name: default\n"
                        "      to: rep:anna\n"
                        "server:\n"
                        "  listen: 127.0.0.1:9999\n");
    config_holder_reload(f->holder, T0, &r);
    assert_string_equal(r.summary, "added 1 rep (carl); ignored until restart: server.listen");
    assert_true(r.warn);

    /* Back to the address it started with: nothing waits for a restart. */
    write_file(f->path, two_reps);
    config_holder_reload(f->holder, T0, &r);
    assert_string_equal(r.summary, "removed 1 rep (carl)");
}

struct reader {
    struct config_holder *holder;
    int *stop;
    long long last_seq;
    int bad;
};

static void *read_loop(void *arg)
{
    struct reader *rd = arg;
    while (!__atomic_load_n(rd->stop, __ATOMIC_ACQUIRE)) {
        struct config *cur;
        json_t *j = config_holder_last_reload(rd->holder, &cur);
        if (j) {
            long long seq = json_integer_value(json_object_get(j, "seq"));
            const char *res = json_string_value(json_object_get(j, "result"));
            const char *version = json_string_value(json_object_get(j, "version"));
            if (seq < rd->last_seq || !res || strcmp(res, seq % 2 ? "applied" : "failed") != 0)
                rd->bad++;
            /* the outcome and the snapshot it installed, together */
            if (!version || strcmp(version, cur->version) != 0)
                rd->bad++;
            rd->last_seq = seq;
            json_decref(j);
        }
        config_unref(cur);
    }
    return NULL;
}

static void test_readers_see_whole_outcomes(void **state)
{
    struct fixture *f = *state;
    int stop = 0;
    struct reader rd[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        rd[i] = (struct reader){f->holder, &stop, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
    }
    for (int i = 1; i <= 40; i++) {
        /* odd reloads apply (two files in turn, each its own version), even ones fail */
        write_file(f->path, i % 2 == 0 ? "version: 2\n" : i % 4 == 1 ? three_reps : two_reps);
        struct config_reload r;
        config_holder_reload(f->holder, T0 + i, &r);
        assert_int_equal(r.applied, i % 2 == 1);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(rd[i].bad, 0);
    }
    json_t *j = config_holder_last_reload(f->holder, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 40);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_reload_yet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applied_with_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_keeps_running_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_only_against_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_see_whole_outcomes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
