/*
 * cli_import.c - `baton import accounts FILE.csv`: accounts from a CSV file
 * into the database, directly through the store (SQLite in WAL mode lets it
 * write while `baton serve` runs on the same file; the daemon's account index
 * notices the new accounts version at its next routing decision).
 *
 * Two passes over the bytes: the first checks every row (core/account_csv)
 * and counts them, so that a file with a bad row imports nothing, and the
 * second writes the good rows in transactions of BATCH_ROWS, short enough
 * that the daemon's own commits are never held up for long. The whole input
 * is read into memory first (at most INPUT_MAX bytes), which is what lets
 * standard input be read twice.
 */
#include "cli/cli.h"
#include "cli/cli_import.h"
#include "config/config.h"
#include "core/account_csv.h"
#include "util/hash.h"
#include "util/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_MAX       CLI_IMPORT_INPUT_MAX
#define BATCH_ROWS      5000
#define ERRORS_SHOWN    20
#define OWNERS_SHOWN    20
#define PROGRESS_EVERY  100 /* ms between redraws */
#define PROGRESS_BAR    30  /* characters */
#define OWNERS_TRACKED  4096
#define BUSY_TIMEOUT_MS 120000 /* ms to wait for the daemon's write lock */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton import accounts FILE.csv|- [--db PATH] [--create] [--config FILE]\n"
            "                             [--skip-invalid] [--quiet]\n"
            "       baton import leads FILE.csv|- [--db PATH] [--map MAP.yaml] [--config FILE]\n"
            "                          [--create] [--skip-invalid] [--quiet]\n"
            "       baton import activities FILE.csv|- [--db PATH] [--map MAP.yaml]\n"
            "                               [--skip-invalid] [--quiet]\n"
            "\n"
            "leads, activities: history (leads with their historical created_at and\n"
            "outcome; what they did), written directly to the database without routing,\n"
            "SLAs or notifications; idempotent on external_id. Columns and --map MAP.yaml:\n"
            "see docs/import.md and examples/history/.\n"
            "\n"
            "accounts:\n"
            "Inserts or updates accounts (the companies leads are matched to) from a CSV\n"
            "file, or from standard input with '-'. The first row is the header; columns,\n"
            "in any order and any case:\n"
            "  id        optional; empty: the first domain, else the website's domain,\n"
            "            else 'name-' and a hash of the normalised name\n"
            "  name      the company name\n"
            "  domains   domains or URLs, separated by ';', ',' or spaces\n"
            "  website   a URL or a domain\n"
            "  country   a name or an ISO code\n"
            "  owner     the id of the rep who owns the account\n"
            "Every other column becomes a custom field. An account needs a name, a\n"
            "domain or a website. An id already in the database is replaced: every\n"
            "attribute takes the file's value; rows that change nothing write nothing.\n"
            "\n"
            "The whole file is checked first: if any row is invalid, nothing is imported\n"
            "and the first %d errors are listed with their line numbers, unless\n"
            "--skip-invalid is given. The import runs in transactions of %d rows and may\n"
            "run while 'baton serve' uses the same database.\n"
            "\n"
            "Options:\n"
            "  --db PATH        the database file (default ./baton.db); it must exist\n"
            "                   (baton serve creates it) unless --create is given\n"
            "  --create         create the database file if it is missing\n"
            "  -c, --config F   warn about owners that are not reps in this configuration\n"
            "  --skip-invalid   import the valid rows, report the others\n"
            "  -q, --quiet      no progress bar and no summary (errors still print)\n"
            "  -h, --help       show this help\n"
            "\n"
            "Prints 'imported N accounts: C created, U updated, K unchanged, I invalid,\n"
            "in T s' on stdout. Exit status: 0 done, 1 invalid input or a database error\n"
            "(nothing or, for a database error mid-way, only whole batches written),\n"
            "2 usage.\n",
            ERRORS_SHOWN, BATCH_ROWS);
}

/* ---- input ---- */

char *cli_import__read_input(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        cli_error("import", "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= INPUT_MAX) {
                cli_error("import", "%s is larger than %zu MiB; split it", path, INPUT_MAX >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                cli_error("import", "cannot read %s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

/* ---- progress ---- */

void cli_import__progress_draw(struct cli_import_progress *p, const char *phase, size_t done,
                               size_t total, bool rows, bool force)
{
    if (!p->on)
        return;
    int64_t now = time_monotonic_ms();
    if (!force && now - p->drawn < PROGRESS_EVERY)
        return;
    p->drawn = now;
    double frac = total ? (double)done / (double)total : 1.0;
    char bar[PROGRESS_BAR + 1];
    int full = (int)(frac * PROGRESS_BAR);
    for (int i = 0; i < PROGRESS_BAR; i++)
        bar[i] = i < full ? '#' : '.';
    bar[PROGRESS_BAR] = '\0';
    fprintf(stderr, "\r\033[K%-9s [%s] %3d%%", phase, bar, (int)(frac * 100));
    if (rows) {
        double secs = (double)(now - p->started) / 1000.0;
        fprintf(stderr, "  %zu/%zu rows", done, total);
        if (secs > 0.2)
            fprintf(stderr, "  %.0f rows/s", (double)done / secs);
    }
    fflush(stderr);
}

void cli_import__progress_clear(struct cli_import_progress *p)
{
    if (p->on) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ---- owners that are not reps ---- */

struct owner_count {
    char *owner;
    size_t rows;
};

struct owners {
    struct owner_count slots[OWNERS_TRACKED];
    size_t distinct, untracked_rows;
};

static void owners_add(struct owners *o, const char *owner)
{
    size_t k = hash_fnv1a_text(owner) % OWNERS_TRACKED;
    for (size_t probe = 0; probe < OWNERS_TRACKED; probe++, k = (k + 1) % OWNERS_TRACKED) {
        struct owner_count *s = &o->slots[k];
        if (!s->owner) {
            if (o->distinct * 4 >= OWNERS_TRACKED * 3)
                break;
            s->owner = xstrdup(owner);
            o->distinct++;
        }
        if (!strcmp(s->owner, owner)) {
            s->rows++;
            return;
        }
    }
    o->untracked_rows++;
}

static int by_rows(const void *a, const void *b)
{
    const struct owner_count *x = a, *y = b;
    if (x->rows != y->rows)
        return x->rows < y->rows ? 1 : -1;
    return strcmp(x->owner, y->owner);
}

static void owners_report(struct owners *o, const char *config_path)
{
    if (!o->distinct && !o->untracked_rows)
        return;
    struct owner_count *list = xmalloc(sizeof(*list) * (o->distinct ? o->distinct : 1));
    size_t n = 0, rows = o->untracked_rows;
    for (size_t i = 0; i < OWNERS_TRACKED; i++)
        if (o->slots[i].owner) {
            list[n++] = o->slots[i];
            rows += o->slots[i].rows;
        }
    qsort(list, n, sizeof(*list), by_rows);
    /* "1 account names an owner that is not a rep in F: nobody (1 account)",
     * "3 accounts name 2 owners that are not reps in F: zed (2 accounts), ..." */
    fprintf(stderr, "baton import: warning: %zu account%s %s ", rows, rows == 1 ? "" : "s",
            rows == 1 ? "names" : "name");
    if (n == 1 && !o->untracked_rows)
        fprintf(stderr, "an owner that is not a rep");
    else
        fprintf(stderr, "%s%zu owners that are not reps", o->untracked_rows ? "more than " : "", n);
    fprintf(stderr, " in %s:", config_path);
    for (size_t i = 0; i < n && i < OWNERS_SHOWN; i++)
        fprintf(stderr, "%s %s (%zu account%s)", i ? "," : "", list[i].owner, list[i].rows,
                list[i].rows == 1 ? "" : "s");
    if (n > OWNERS_SHOWN || o->untracked_rows)
        fprintf(stderr, ", and others");
    fputc('\n', stderr);
    free(list);
}

static void owners_free(struct owners *o)
{
    for (size_t i = 0; i < OWNERS_TRACKED; i++)
        free(o->slots[i].owner);
    free(o);
}

/* ---- pass one: check ---- */

struct check {
    const char *path;
    const struct config *cfg; /* for owners; may be NULL */
    struct owners *owners;
    struct cli_import_progress *progress;
    size_t len;
    size_t valid, invalid;
    bool list_errors;
};

static bt_err check_row(void *cls, const struct account_csv_row *row, struct bt_error *err)
{
    struct check *c = cls;
    (void)err;
    cli_import__progress_draw(c->progress, "checking", row->offset, c->len, false, false);
    if (row->rc) {
        if (c->invalid < ERRORS_SHOWN) {
            cli_import__progress_clear(c->progress);
            fprintf(stderr, "%s: %s\n", c->path, row->err.message);
        }
        c->invalid++;
        return BT_OK;
    }
    c->valid++;
    if (c->cfg && row->account.owner && !config_find_rep(c->cfg, row->account.owner))
        owners_add(c->owners, row->account.owner);
    return BT_OK;
}

/* ---- pass two: write ---- */

struct writer {
    struct store_conn *conn;
    struct cli_import_progress *progress;
    struct arena arena; /* the batch's strings */
    struct store_account *batch;
    enum store_account_outcome *outcomes;
    size_t n;
    size_t total, done, created, updated, unchanged;
};

static bt_err flush(struct writer *w, struct bt_error *err)
{
    if (!w->n)
        return BT_OK;
    bt_err e = store_begin(w->conn, err);
    if (!e) {
        e = store_account_upsert(w->conn, w->batch, w->n, clock_now(clock_real()), w->outcomes,
                                 err);
        if (!e)
            e = store_commit(w->conn, err);
        if (e)
            store_rollback(w->conn);
    }
    if (e)
        return e;
    for (size_t i = 0; i < w->n; i++) {
        if (w->outcomes[i] == STORE_ACCOUNT_CREATED)
            w->created++;
        else if (w->outcomes[i] == STORE_ACCOUNT_UPDATED)
            w->updated++;
        else
            w->unchanged++;
    }
    w->done += w->n;
    w->n = 0;
    arena_release(&w->arena);
    cli_import__progress_draw(w->progress, "importing", w->done, w->total, true, false);
    return BT_OK;
}

static const char *keep(struct writer *w, const char *s, bool *full)
{
    if (!s)
        return NULL;
    const char *copy = arena_strdup(&w->arena, s);
    *full = *full || !copy;
    return copy;
}

static bt_err write_row(void *cls, const struct account_csv_row *row, struct bt_error *err)
{
    struct writer *w = cls;
    if (row->rc)
        return BT_OK; /* reported by the first pass */
    const struct account *a = &row->account;
    bool full = false;
    struct store_account *s = &w->batch[w->n];
    *s = (struct store_account){
        .id = keep(w, a->id, &full),
        .name = keep(w, a->name, &full),
        .website = keep(w, a->website, &full),
        .country = keep(w, a->country, &full),
        .owner = keep(w, a->owner, &full),
        .fields_json = keep(w, row->fields_json, &full),
        .n_domains = a->n_domains,
    };
    if (a->n_domains) {
        s->domains = arena_alloc(&w->arena, sizeof(*s->domains) * a->n_domains);
        full = full || !s->domains;
        for (size_t i = 0; !full && i < a->n_domains; i++)
            s->domains[i] = keep(w, a->domains[i], &full);
    }
    if (full)
        return bt_fail(err, BT_ETOOBIG, NULL, "line %zu: the batch does not fit in memory",
                       row->line);
    if (++w->n == BATCH_ROWS)
        return flush(w, err);
    return BT_OK;
}

/* ---- the command ---- */

static int import_accounts(const struct cli_import_options *o)
{
    int64_t started = time_monotonic_ms();
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (o->config && config_load(o->config, &cfg, &err)) {
        cli_error("import", "%s", err.message);
        return 1;
    }
    size_t len;
    char *data = cli_import__read_input(o->path, &len);
    if (!data) {
        config_unref(cfg);
        return 1;
    }
    const char *name = strcmp(o->path, "-") ? o->path : "stdin";
    struct cli_import_progress progress = {.on = !o->quiet && isatty(STDERR_FILENO)};
    progress.started = time_monotonic_ms();
    struct owners *owners = xcalloc(1, sizeof(*owners));
    struct check check = {
        .path = name, .cfg = cfg, .owners = owners, .progress = &progress, .len = len};
    bt_err rc = account_csv_parse(data, len, check_row, &check, &err);
    cli_import__progress_clear(&progress);
    int status = 0;
    struct store *st = NULL;
    struct store_conn *conn = NULL;
    struct writer w = {.progress = &progress, .total = check.valid};
    if (rc) {
        cli_error("import", "%s: %s; nothing imported", name, err.message);
        status = 1;
        goto done;
    }
    if (check.invalid > ERRORS_SHOWN)
        fprintf(stderr, "%s: ... and %zu more invalid rows\n", name, check.invalid - ERRORS_SHOWN);
    if (check.invalid && !o->skip_invalid) {
        cli_error("import",
                  "%s: %zu of %zu rows are invalid; nothing imported (fix them, or pass "
                  "--skip-invalid to import the %zu valid rows)",
                  name, check.invalid, check.invalid + check.valid, check.valid);
        status = 1;
        goto done;
    }
    if (cfg)
        owners_report(owners, o->config);

    /* The daemon may hold the write lock for a while when it rebuilds its
     * account index (about 0.4 s per 100,000 accounts) after a batch: wait. */
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.busy_timeout_ms = BUSY_TIMEOUT_MS;
    sopts.create = o->create;
    rc = store_open(o->db, &sopts, &st, &err);
    if (rc == BT_ENOTFOUND) {
        cli_error("import", "%s; baton serve creates it, or pass --create; nothing imported",
                  err.message);
        status = 1;
        goto done;
    }
    if (rc || store_conn_open(st, &conn, &err)) {
        cli_error("import", "%s", err.message);
        status = 1;
        goto done;
    }
    int64_t existing = 0;
    if (store_account_count(conn, &existing, &err)) {
        cli_error("import", "%s", err.message);
        status = 1;
        goto done;
    }
    if ((uint64_t)existing + check.valid > ACCOUNT_INDEX_MAX) {
        cli_error("import",
                  "the database has %lld accounts; %zu more could exceed the %d the account "
                  "index holds; nothing imported",
                  (long long)existing, check.valid, ACCOUNT_INDEX_MAX);
        status = 1;
        goto done;
    }

    w.conn = conn;
    w.batch = xcalloc(BATCH_ROWS, sizeof(*w.batch));
    w.outcomes = xcalloc(BATCH_ROWS, sizeof(*w.outcomes));
    progress.started = time_monotonic_ms();
    rc = account_csv_parse(data, len, write_row, &w, &err);
    if (!rc)
        rc = flush(&w, &err);
    cli_import__progress_draw(&progress, "importing", w.done, w.total, true, true);
    cli_import__progress_clear(&progress);
    if (rc) {
        cli_error("import", "%s: %s; %zu accounts were imported before the failure", name,
                  err.message, w.done);
        status = 1;
        goto done;
    }
    if (!o->quiet)
        printf("imported %zu account%s: %zu created, %zu updated, %zu unchanged, %zu invalid, "
               "in %.1f s\n",
               w.done, w.done == 1 ? "" : "s", w.created, w.updated, w.unchanged, check.invalid,
               (double)(time_monotonic_ms() - started) / 1000.0);
done:
    arena_release(&w.arena);
    free(w.batch);
    free(w.outcomes);
    owners_free(owners);
    store_conn_close(conn);
    store_close(st);
    free(data);
    config_unref(cfg);
    return status;
}

int cli_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"config", required_argument, NULL, 'c'},
        {"skip-invalid", no_argument, NULL, 's'}, {"quiet", no_argument, NULL, 'q'},
        {"create", no_argument, NULL, 'C'},       {"map", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct cli_import_options o = {.db = "./baton.db"};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.db = optarg;
            break;
        case 'c':
            o.config = optarg;
            break;
        case 's':
            o.skip_invalid = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'C':
            o.create = true;
            break;
        case 'm':
            o.map = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int rest = argc - optind;
    char **args = argv + optind;
    if (rest != 2) {
        usage(stderr);
        return 2;
    }
    o.path = args[1];
    if (!strcmp(args[0], "leads"))
        return cli_import__leads(&o);
    if (!strcmp(args[0], "activities")) {
        if (o.config) {
            cli_error("import", "--config is for accounts and leads");
            return 2;
        }
        return cli_import__activities(&o);
    }
    if (strcmp(args[0], "accounts")) {
        usage(stderr);
        return 2;
    }
    if (o.map) {
        cli_error("import", "--map is for leads and activities");
        return 2;
    }
    return import_accounts(&o);
}
