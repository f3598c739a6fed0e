/*
 * cli_import.h - shared by the files of `baton import` (cli_import.c:
 * accounts and the dispatch; cli_import_history.c: leads and activities).
 */
#ifndef BT_CLI_IMPORT_H
#define BT_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_IMPORT_INPUT_MAX    ((size_t)2 << 30) /* 2 GiB of CSV */
#define CLI_IMPORT_ERRORS_SHOWN 20
#define CLI_IMPORT_BUSY_MS      120000 /* ms to wait for the daemon's write lock */

/* The whole of `path` ('-': standard input) in memory;
 * NULL after printing why. */
char *cli_import__read_input(const char *path, size_t *len);

struct cli_import_progress {
    bool on; /* stderr is a terminal and not --quiet */
    int64_t started, drawn;
};

/* Redraws the bar at most every 100 ms (always when force). */
void cli_import__progress_draw(struct cli_import_progress *p, const char *phase, size_t done,
                               size_t total, bool rows, bool force);
void cli_import__progress_clear(struct cli_import_progress *p);

struct cli_import_options {
    const char *db, *config, *path, *map;
    bool skip_invalid, quiet, create;
};

/* `baton import leads|activities` (cli_import_history.c). */
int cli_import__leads(const struct cli_import_options *o);
int cli_import__activities(const struct cli_import_options *o);

#endif
