/*
 * storefix.h - the fixture of the store tests that need one new SQLite file
 * and one connection: `struct fixture` (the folder, the file, the store, a
 * connection and an arena the test may use), made and removed by
 * store_fixture_setup() / store_fixture_teardown() as cmocka setup and
 * teardown. Include after cmocka.h.
 */
#ifndef BT_TEST_STOREFIX_H
#define BT_TEST_STOREFIX_H

#include "tmpdir.h"

#include "store/store.h"
#include "util/arena.h"

#include <stdio.h>
#include <stdlib.h>

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct store_conn *c;
    struct arena a;
};

/* A fresh database in /tmp/baton-test-NAME-XXXXXX/t.db, opened with one
 * connection; -1 (with the error on stderr) when it cannot be made. */
static inline int store_fixture_setup(void **state, const char *name)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, name)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    if (store_open(f->path, &opts, &f->st, &err) || store_conn_open(f->st, &f->c, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int store_fixture_teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    store_conn_close(f->c);
    store_close(f->st);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

#endif
