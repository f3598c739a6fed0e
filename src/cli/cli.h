/*
 * cli.h - the subcommands of the single `baton` binary, one file each.
 * Each takes argc/argv starting at the subcommand's name and returns the
 * process exit status: 0 success, 1 failure the user can fix (bad input,
 * invalid config), 2 usage error.
 */
#ifndef BT_CLI_H
#define BT_CLI_H

#include "store/store.h"

#define BATON_VERSION "0.1.0"

int cli_serve(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_score(int argc, char **argv);
int cli_import(int argc, char **argv);

/* Generates a key, stores its hash, writes the key itself into `token`
 * (at least CLI_TOKEN_MAX bytes). Shared by `keys create` and the first
 * start of `serve`. */
#define CLI_TOKEN_MAX 80
bt_err cli_key_create(struct store_conn *c, const char *role, const char *rep_id, const char *name,
                      char *token, struct api_key *out, struct bt_error *err) BT_MUST_USE;

/* Prints "baton CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
