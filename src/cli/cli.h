/*
 * cli.h - the subcommands of the single `baton` binary, one file each.
 * Each takes argc/argv starting at the subcommand's name and returns the
 * process exit status: 0 success, 1 failure the user can fix (bad input,
 * invalid config), 2 usage error.
 */
#ifndef BT_CLI_H
#define BT_CLI_H

#include "core/normalize.h"
#include "core/score.h"
#include "store/store.h"

#include <jansson.h>
#include <sys/types.h>

#include "util/version.h" /* BATON_VERSION */

int cli_serve(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_score(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_api(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_model(int argc, char **argv);
/* `baton simulate` (cli_simulate.c) dispatches on its mode to: */
int cli_simulate(int argc, char **argv);
int cli_simulate_replay(int argc, char **argv);   /* --db --config: what-if on history */
int cli_simulate_world(int argc, char **argv);    /* --world WORLD.yaml */
int cli_simulate_evaluate(int argc, char **argv); /* --evaluate: off-line replay on history */

/* Generates a key, stores its hash, writes the key itself into `token`
 * (at least CLI_TOKEN_MAX bytes). Shared by `keys create` and the first
 * start of `serve`. */
#define CLI_TOKEN_MAX 80
bt_err cli_key_create(struct store_conn *c, const char *role, const char *rep_id, const char *name,
                      char *token, struct api_key *out, struct bt_error *err) BT_MUST_USE;

/* Prints "baton CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Reads the file at `path` whole ("-": standard input), at most `max` bytes,
 * into a NUL-terminated buffer the caller frees. On failure prints
 * "baton CMD: ..." (cannot open, read error, too large) and returns NULL.
 */
char *cli_read_file(const char *cmd, const char *path, size_t max, size_t *len);

/* ---- the files `baton serve` keeps next to its database (cli_daemon.c) ----
 *
 *   DB.pid     the daemon's process id and a newline, from just before it
 *              says it listens until it exits
 *   DB.reload  one line of JSON: {"pid": N, "config": "/absolute/path",
 *              "version": "running version", "last_reload": {...} | null},
 *              last_reload as GET /readyz shows it; rewritten at start and
 *              after every reload (mode 0600)
 *
 * Each is replaced atomically (written beside it, then renamed); the daemon
 * holds a lock on DB.pid while it runs, and removes both at exit. `baton
 * reload` reads them.
 */
#define CLI_DAEMON_PID_SUFFIX    ".pid"
#define CLI_DAEMON_STATUS_SUFFIX ".reload"

struct config_holder;

/* DB followed by the suffix, a new string the caller frees. */
char *cli_daemon_path(const char *db, const char *suffix);
/*
 * Writes DB.pid and DB.reload; failures are logged as warnings. Returns the
 * descriptor of DB.pid, locked (flock) for as long as it stays open, or -1;
 * the caller keeps it until cli_daemon_files_remove().
 */
int cli_daemon_files_write(const char *db, struct config_holder *holder);
/* Rewrites DB.reload (after a reload). */
void cli_daemon_status_write(const char *db, struct config_holder *holder);
/* Removes both files while DB.pid is still the file `pid_fd` holds; closes
 * pid_fd. -1 does nothing. */
void cli_daemon_files_remove(const char *db, int pid_fd);
/*
 * The id in DB.pid of a daemon that runs: BT_ENOTFOUND without the file or
 * when no process holds its lock (a crashed daemon's file), BT_EINVAL when
 * it holds no id; the message says which.
 */
bt_err cli_daemon_read_pid(const char *db, pid_t *out, struct bt_error *err) BT_MUST_USE;

/* ---- the lead of a dry run (`baton score`, `baton route`) ---- */

#define CLI_LEAD_INPUT_MAX (1024 * 1024)

struct config;

/* A lead as a dry run takes it, parsed and normalised. */
struct cli_lead {
    struct lead lead; /* normalised as POST /v1/leads does; stage as given (default new),
                         owner as given (or NULL), created and updated at `now` */
    struct normalize_report report; /* what normalisation accepted but did not understand */
    struct activity *acts;          /* the activities given, in order */
    size_t n_acts;
};

/*
 * Parses text[0..len): a lead as POST /v1/leads takes it, or an object
 *   {"lead": {...}, "activities": [...], "stage": "recycled", "owner": "rep.id"}
 * (only "lead" required) for the lead's activities (as POST /v1/activities
 * items), its current stage and its current or last owner. Everything lives
 * in `a`. Errors: BT_EPARSE for malformed JSON, BT_EINVAL naming the field.
 */
bt_err cli_lead_parse(const struct config *cfg, const char *text, size_t len, int64_t now,
                      struct arena *a, struct cli_lead *out, struct bt_error *err) BT_MUST_USE;

/* The report's warnings as [{"field": ..., "message": ...}] (a new reference). */
json_t *cli_warnings_json(const struct normalize_report *report);

#endif
