/*
 * cli_import_history.c - `baton import leads FILE.csv` and `baton import
 * activities FILE.csv`: the company's history, into the database.
 *
 * History goes directly through the store, not through the engine: an
 * imported lead is not routed, starts no SLA clock, and makes no outbox row
 * or notification. It is written the way a lead that lived through Baton
 * looks afterwards, so that reports (lead_funnel) and the history walk of
 * training (store_history_each) read it like any other: the lead with its
 * historical created_at, final stage and owner; a lead.imported event; a
 * lead.stage_changed event to mql at its qualification time (the funnel's
 * mql_at) and, with an outcome, one to the outcome's stage at its date
 * (won_at / lost_at ...); and an outcome row with the deal's value.
 *
 * Like the accounts import (cli_import.c): the whole input is read into
 * memory and parsed twice, first to check every row (nothing is written
 * when one is invalid, unless --skip-invalid), then to write the rows in
 * transactions of BATCH_ROWS, short enough that a daemon running on the
 * same database is never held up for long.
 *
 * Idempotent: a lead whose external_id is already stored is "unchanged"
 * (nothing written); one whose email is already stored is "matched" (the
 * stored lead is that person; no second lead is made, nothing is written).
 * An activity already stored for its lead, type and time is unchanged.
 */
#include "cli/cli.h"
#include "cli/cli_import.h"
#include "config/config.h"
#include "config/import_map.h"
#include "core/history_csv.h"
#include "store/store_history_import.h"
#include "util/timeutil.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_ROWS 4000

struct history_import {
    const struct cli_import_options *o;
    const char *name;   /* the input, for messages */
    const char *import; /* the import's name, in lead.imported */
    const char *actor;  /* "import:NAME" */
    struct history_map map;
    struct arena map_arena;
    struct config *cfg;
    struct freemail_set *own_freemail;
    const struct freemail_set *freemail;
    struct cli_import_progress progress;
    struct store *st;
    struct store_conn *conn;
    char *data;
    size_t len;
    /* pass one */
    size_t valid, invalid, skipped, unknown_owners;
    /* pass two */
    bool in_tx;
    size_t in_batch, done;
    size_t created, matched, unchanged, outcomes;
    struct arena scratch;
};

/* ---- opening ---- */

static int open_store(struct history_import *h)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.busy_timeout_ms = CLI_IMPORT_BUSY_MS;
    sopts.create = h->o->create;
    bt_err rc = store_open(h->o->db, &sopts, &h->st, &err);
    if (rc == BT_ENOTFOUND) {
        cli_error("import", "%s; baton serve creates it, or pass --create; nothing imported",
                  err.message);
        return 1;
    }
    if (rc || store_conn_open(h->st, &h->conn, &err)) {
        cli_error("import", "%s", err.message);
        return 1;
    }
    return 0;
}

static int prepare(struct history_import *h, enum history_kind kind)
{
    struct bt_error err = BT_ERROR_INIT;
    if (h->o->map) {
        if (import_map_load(h->o->map, kind, &h->map_arena, &h->map, &err)) {
            cli_error("import", "%s", err.message);
            return 1;
        }
    } else {
        history_map_init(&h->map, kind);
    }
    if (h->o->config && config_load(h->o->config, &h->cfg, &err)) {
        cli_error("import", "%s", err.message);
        return 1;
    }
    if (h->cfg) {
        h->freemail = h->cfg->freemail;
    } else {
        h->own_freemail = freemail_set_new(NULL, 0, NULL, 0);
        h->freemail = h->own_freemail;
    }
    h->name = strcmp(h->o->path, "-") ? h->o->path : "stdin";
    if (h->map.name) {
        h->import = h->map.name;
    } else {
        char *copy = arena_strdup(&h->map_arena, h->name);
        h->import = copy ? basename(copy) : "import";
    }
    h->actor = arena_printf(&h->map_arena, "import:%s", h->import);
    h->data = cli_import__read_input(h->o->path, &h->len);
    if (!h->data)
        return 1;
    h->progress.on = !h->o->quiet && isatty(STDERR_FILENO);
    h->progress.started = time_monotonic_ms();
    return 0;
}

static void finish(struct history_import *h)
{
    if (h->in_tx)
        store_rollback(h->conn);
    store_conn_close(h->conn);
    store_close(h->st);
    free(h->data);
    config_unref(h->cfg);
    freemail_set_free(h->own_freemail);
    arena_release(&h->map_arena);
    arena_release(&h->scratch);
}

/* ---- pass one: check ---- */

static void report_invalid(struct history_import *h, const struct history_row *row)
{
    if (h->invalid < CLI_IMPORT_ERRORS_SHOWN) {
        cli_import__progress_clear(&h->progress);
        fprintf(stderr, "%s: %s\n", h->name, row->err.message);
    }
    h->invalid++;
}

static bt_err find_activity_lead(struct history_import *h, const struct history_activity *a,
                                 int64_t *lead_id, struct bt_error *err)
{
    return store_import_find_lead(h->conn, a->lead_external_id, a->lead_email, &h->scratch, lead_id,
                                  err);
}

static bt_err check_row(void *cls, const struct history_row *row, struct bt_error *err)
{
    struct history_import *h = cls;
    cli_import__progress_draw(&h->progress, "checking", row->offset, h->len, false, false);
    if (row->rc) {
        report_invalid(h, row);
        return BT_OK;
    }
    if (row->skipped) {
        h->skipped++;
        return BT_OK;
    }
    if (h->map.kind == HISTORY_ACTIVITIES) {
        int64_t id;
        bt_err rc = find_activity_lead(h, &row->activity, &id, err);
        if (rc == BT_ENOTFOUND) {
            struct history_row bad = *row;
            const char *key = row->activity.lead_external_id ? row->activity.lead_external_id : "";
            bt_fail(&bad.err, BT_EINVAL, "lead", "line %zu: no lead has %s '%.80s'", row->line,
                    row->activity.lead_external_id ? "external_id" : "email",
                    row->activity.lead_external_id ? key : row->activity.lead_email);
            report_invalid(h, &bad);
            return BT_OK;
        }
        if (rc)
            return rc;
    } else if (h->cfg && row->lead.lead.attr[LEAD_OWNER] &&
               !config_find_rep(h->cfg, row->lead.lead.attr[LEAD_OWNER])) {
        h->unknown_owners++;
    }
    h->valid++;
    return BT_OK;
}

/* ---- pass two: write ---- */

static bt_err batch_begin(struct history_import *h, struct bt_error *err)
{
    if (h->in_tx)
        return BT_OK;
    bt_err rc = store_begin(h->conn, err);
    h->in_tx = rc == BT_OK;
    return rc;
}

static bt_err batch_commit(struct history_import *h, struct bt_error *err)
{
    if (!h->in_tx)
        return BT_OK;
    bt_err rc = store_commit(h->conn, err);
    if (rc)
        store_rollback(h->conn);
    h->in_tx = false;
    if (!rc)
        h->done += h->in_batch;
    h->in_batch = 0;
    return rc;
}

static void count(struct history_import *h, enum store_import_result r)
{
    if (r == STORE_IMPORT_CREATED)
        h->created++;
    else if (r == STORE_IMPORT_MATCHED)
        h->matched++;
    else
        h->unchanged++;
}

static bt_err write_lead(struct history_import *h, const struct history_row *row,
                         struct bt_error *err)
{
    struct store_import_source src = {.name = h->import, .file = h->name, .actor = h->actor};
    enum store_import_result r;
    bt_err rc = store_import_lead(h->conn, &row->lead, &src, row->line, &h->scratch, &r, err);
    if (rc)
        return rc == BT_ECONFLICT
                   ? bt_fail(err, BT_ECONFLICT, NULL, "line %zu: %s", row->line, err->message)
                   : rc;
    count(h, r);
    if (r == STORE_IMPORT_CREATED && row->lead.outcome_stage)
        h->outcomes++;
    return BT_OK;
}

static bt_err write_activity(struct history_import *h, const struct history_row *row,
                             int64_t lead_id, struct bt_error *err)
{
    enum store_import_result r;
    bt_err rc =
        store_import_activity(h->conn, lead_id, &row->activity, clock_now(clock_real()), &r, err);
    if (!rc)
        count(h, r);
    return rc;
}

static bt_err write_row(void *cls, const struct history_row *row, struct bt_error *err)
{
    struct history_import *h = cls;
    if (row->rc || row->skipped)
        return BT_OK;
    int64_t lead_id = 0;
    if (h->map.kind == HISTORY_ACTIVITIES) {
        struct bt_error ignored = BT_ERROR_INIT;
        bt_err found = find_activity_lead(h, &row->activity, &lead_id, &ignored);
        if (found == BT_ENOTFOUND)
            return BT_OK; /* reported (and refused, or skipped) by the first pass */
        if (found)
            return bt_fail(err, found, NULL, "%s", ignored.message);
    }
    bt_err rc = batch_begin(h, err);
    if (!rc)
        rc = h->map.kind == HISTORY_LEADS ? write_lead(h, row, err)
                                          : write_activity(h, row, lead_id, err);
    if (rc)
        return rc;
    if (++h->in_batch == BATCH_ROWS) {
        rc = batch_commit(h, err);
        cli_import__progress_draw(&h->progress, "importing", h->done, h->valid, true, false);
    }
    return rc;
}

/* ---- the command ---- */

static int run(const struct cli_import_options *o, enum history_kind kind)
{
    int64_t started = time_monotonic_ms();
    struct history_import h;
    memset(&h, 0, sizeof(h));
    h.o = o;
    int status = 1;
    struct bt_error err = BT_ERROR_INIT;
    const char *noun = kind == HISTORY_LEADS ? "lead" : "activit";
    if (prepare(&h, kind))
        goto done;
    /* Activities are checked against the stored leads: open first. */
    if (kind == HISTORY_ACTIVITIES && open_store(&h))
        goto done;
    bt_err rc = history_csv_parse(&h.map, h.freemail, h.data, h.len, check_row, &h, &err);
    cli_import__progress_clear(&h.progress);
    if (rc) {
        cli_error("import", "%s: %s; nothing imported", h.name, err.message);
        goto done;
    }
    if (h.invalid > CLI_IMPORT_ERRORS_SHOWN)
        fprintf(stderr, "%s: ... and %zu more invalid rows\n", h.name,
                h.invalid - CLI_IMPORT_ERRORS_SHOWN);
    if (h.invalid && !o->skip_invalid) {
        cli_error("import",
                  "%s: %zu of %zu rows are invalid; nothing imported (fix them, or pass "
                  "--skip-invalid to import the %zu valid rows)",
                  h.name, h.invalid, h.invalid + h.valid + h.skipped, h.valid);
        goto done;
    }
    if (h.unknown_owners)
        fprintf(stderr, "baton import: warning: %zu lead%s name an owner that is not a rep in %s\n",
                h.unknown_owners, h.unknown_owners == 1 ? "" : "s", o->config);
    if (kind == HISTORY_LEADS && open_store(&h))
        goto done;
    h.progress.started = time_monotonic_ms();
    rc = history_csv_parse(&h.map, h.freemail, h.data, h.len, write_row, &h, &err);
    if (!rc)
        rc = batch_commit(&h, &err);
    cli_import__progress_draw(&h.progress, "importing", h.done, h.valid, true, true);
    cli_import__progress_clear(&h.progress);
    if (rc) {
        cli_error("import", "%s: %s; the %zu rows before the failed batch were imported", h.name,
                  err.message, h.done);
        goto done;
    }
    double secs = (double)(time_monotonic_ms() - started) / 1000.0;
    if (!o->quiet) {
        size_t rows = h.valid;
        if (kind == HISTORY_LEADS)
            printf("imported %zu lead%s: %zu created, %zu matched, %zu unchanged, %zu outcomes, "
                   "%zu skipped, %zu invalid, in %.1f s (%.0f rows/s)\n",
                   rows, rows == 1 ? "" : "s", h.created, h.matched, h.unchanged, h.outcomes,
                   h.skipped, h.invalid, secs, secs > 0 ? (double)rows / secs : 0.0);
        else
            printf("imported %zu %s%s: %zu created, %zu unchanged, %zu invalid, in %.1f s\n", rows,
                   noun, rows == 1 ? "y" : "ies", h.created, h.unchanged, h.invalid, secs);
    }
    status = 0;
done:
    finish(&h);
    return status;
}

int cli_import__leads(const struct cli_import_options *o)
{
    return run(o, HISTORY_LEADS);
}

int cli_import__activities(const struct cli_import_options *o)
{
    return run(o, HISTORY_ACTIVITIES);
}
