/*
 * bench_db.h - what the in-process benchmarks share: removing the SQLite
 * file a run made, with its -wal and -shm.
 */
#ifndef BT_BENCH_DB_H
#define BT_BENCH_DB_H

#include <stdio.h>
#include <unistd.h>

static inline void bench_remove_db(const char *path)
{
    char side[4096];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

#endif
