/*
 * tmpdir.h - a fresh folder per test for the tests that use real files
 * (SQLite databases), removed with everything in it afterwards.
 */
#ifndef BT_TEST_TMPDIR_H
#define BT_TEST_TMPDIR_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TMPDIR_MAX 64

/* Creates /tmp/baton-test-NAME-XXXXXX into dir (TMPDIR_MAX bytes). */
static inline bool tmpdir_make(char *dir, const char *name)
{
    snprintf(dir, TMPDIR_MAX, "/tmp/baton-test-%s-XXXXXX", name);
    return mkdtemp(dir) != NULL;
}

static inline int tmpdir__remove_one(const char *path, const struct stat *sb, int flag,
                                     struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it; 0 on success. */
static inline int tmpdir_remove(const char *dir)
{
    return nftw(dir, tmpdir__remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
