/*
 * cli_serve.c - `baton serve`: wires config, store, engine and HTTP server
 * together and runs the signal loop.
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts) and taken by the main thread with sigwaitinfo(): SIGHUP reloads the
 * config (a bad file is reported and the old snapshot keeps serving);
 * SIGTERM/SIGINT stop accepting, wait for requests in flight, let the engine
 * commit what it has, close the store and exit 0.
 */
#include "util/metrics.h"
#include "cli/cli.h"
#include "config/config.h"
#include "deliver/deliver.h"
#include "engine/engine.h"
#include "server/server.h"
#include "store/store_models.h"
#include "timers/deadlines.h"
#include "ml/retrain.h"
#include "timers/timers.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton serve [--config FILE] [--db PATH] [--listen HOST:PORT]\n"
            "                   [--admin-key-file PATH] [--manual-clock TIME] [--quiet]\n"
            "\n"
            "Runs the Baton daemon: the HTTP API, the engine and the store.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE          configuration (default ./baton.yaml)\n"
            "  -d, --db PATH              SQLite database file, created if missing\n"
            "                             (default ./baton.db)\n"
            "  -l, --listen HOST:PORT     address to listen on; overrides server.listen;\n"
            "                             port 0 picks a free port\n"
            "      --admin-key-file PATH  where the first start writes the admin key\n"
            "                             (default: the database path + .admin-key)\n"
            "      --manual-clock TIME    run on a clock that starts at TIME (RFC 3339) and\n"
            "                             moves only by POST /v1/admin/clock (tests, simulation)\n"
            "  -q, --quiet                log warnings and errors only\n"
            "  -h, --help                 show this help\n"
            "\n"
            "On start it prints 'listening on http://HOST:PORT' on stderr. When the\n"
            "database has no API key yet, it creates an admin key and writes it to a\n"
            "file readable only by its owner.\n"
            "\n"
            "Signals: SIGHUP reloads the configuration (a bad file is reported and the\n"
            "old configuration keeps running; a good one is logged with what it adds,\n"
            "removes and changes); SIGTERM and SIGINT shut down gracefully.\n"
            "\n"
            "While it runs it keeps its process id in PATH.pid and the outcome of the last\n"
            "reload in PATH.reload (PATH: the database), for `baton reload`.\n");
}

/* Writes the first admin key to a new file with mode 0600. */
/*
 * On a database that has never had an API key, creates an admin key and
 * writes it to `key_file` (mode 0600). The file is created first and
 * exclusively, so an existing file is never overwritten and a key is never
 * stored without being written down. Revoked keys count: revoking every key
 * does not make the next start mint a new one.
 */
static int ensure_admin_key(struct store *st, const char *key_file)
{
    struct store_conn *c = NULL;
    struct bt_error err = BT_ERROR_INIT;
    int64_t count = 0;
    if (store_conn_open(st, &c, &err) || store_key_count(c, &count, &err)) {
        cli_error("serve", "%s", err.message);
        store_conn_close(c);
        return -1;
    }
    int rc = 0;
    if (count == 0) {
        int fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            cli_error("serve",
                      "cannot create %s for the first admin key: %s (remove the file, or choose "
                      "another with --admin-key-file)",
                      key_file, strerror(errno));
            store_conn_close(c);
            return -1;
        }
        char token[CLI_TOKEN_MAX];
        struct api_key key;
        size_t len = 0;
        if (cli_key_create(c, "admin", NULL, "admin (first start)", token, &key, &err)) {
            cli_error("serve", "cannot create the first admin key: %s", err.message);
            rc = -1;
        } else if ((len = strlen(token), write(fd, token, len) != (ssize_t)len) ||
                   write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
            cli_error("serve", "cannot write the admin key to %s: %s", key_file, strerror(errno));
            if (store_key_revoke(c, key.id, clock_now(clock_real()), &err))
                cli_error("serve", "and cannot revoke it: %s", err.message);
            rc = -1;
        } else {
            log_info("no API keys existed: created an admin key; it is in %s (mode 0600)",
                     key_file);
        }
        close(fd);
        if (rc)
            unlink(key_file);
    }
    store_conn_close(c);
    return rc;
}

/*
 * Loads the configuration's file again: a valid file is swapped in and the
 * log says what it changed (a warning when it removes anything or changes
 * a setting read only at start); a bad one is logged with its
 * FILE:LINE:COL and the running configuration stays. GET /readyz and
 * DB.reload show the outcome.
 */
/* The active predictive model, at start and on every reload (docs/predictive.md). */
/* Background retraining (predictive.retrain_every): a new active model is
 * loaded the way SIGHUP loads it. */
static void retrain_activated(void *cls, int64_t id)
{
    (void)cls;
    log_info("retrain: model %lld activated", (long long)id);
    kill(getpid(), SIGHUP);
}

static void retrain_failed(void *cls, const struct bt_error *e)
{
    (void)cls;
    log_warn("retrain: %s", e->message);
}

static void load_model(struct engine *engine)
{
    char version[STORE_MODEL_VERSION_MAX + 1];
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = engine_load_model(engine, version, sizeof(version), &err);
    if (rc && rc != BT_ESTORE)
        log_error("predictive model not loaded, scoring with the rules only: %s", err.message);
    else if (rc)
        log_error("predictive model: cannot read the store, keeping the model in use: %s",
                  err.message);
    else if (version[0])
        log_info("predictive model: %s", version);
    else
        log_info("predictive model: none active, scoring with the rules only");
}

static void reload(struct config_holder *holder, struct deadlines *deadlines, const char *db,
                   struct engine *engine)
{
    load_model(engine);
    struct config_reload r;
    config_holder_reload(holder, clock_now(clock_real()), &r);
    metrics_add(&metrics.config_reloads, 1);
    if (!r.applied) {
        metrics_add(&metrics.config_reload_failures, 1);
        log_error("config reload failed, keeping version %s: %s", r.version, r.error);
    } else {
        log_msg(r.warn ? LOG_WARN : LOG_INFO, "config reloaded: version %s (was %s): %s", r.version,
                r.previous_version, r.summary);
        deadlines_config_changed(deadlines);
    }
    cli_daemon_status_write(db, holder);
}

int cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"admin-key-file", required_argument, NULL, 'k'},
        {"manual-clock", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = "./baton.yaml", *db = "./baton.db", *listen_addr = NULL;
    const char *key_file = NULL;
    struct clock manual;
    struct clock *clock = clock_real();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'l':
            listen_addr = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'm': {
            int64_t start;
            if (!time_parse_rfc3339(optarg, &start)) {
                cli_error("serve",
                          "--manual-clock needs an RFC 3339 time such as "
                          "2026-11-21T09:00:00Z, not '%s'",
                          optarg);
                return 2;
            }
            clock_manual_init(&manual, start);
            clock = &manual;
            break;
        }
        case 'q':
            log_set_level(LOG_WARN);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    /* Before any thread exists, so that every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg;
    if (config_load(config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    /* Bind before anything is opened or created: a port in use must leave
     * no new database and no admin key file behind. */
    const char *address = listen_addr ? listen_addr : cfg->listen;
    /* Each connection takes two descriptors (the guard watches a duplicate
     * of its socket): take what the system allows, and say when too few. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
        if (files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &files);
        }
        rlim_t want = 2 * ((rlim_t)cfg->max_connections + 16) + 64;
        if (files.rlim_cur < want)
            log_warn("serve: at most %llu open files, and server.max_connections %u needs about "
                     "%llu: raise the limit (ulimit -n) or lower max_connections",
                     (unsigned long long)files.rlim_cur, cfg->max_connections,
                     (unsigned long long)want);
    }
    char url[128];
    int listen_fd = -1;
    if (server_listen(address, &listen_fd, url, sizeof(url), &err)) {
        cli_error("serve", "%s", err.message);
        config_unref(cfg);
        return 1;
    }
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.synchronous =
        cfg->synchronous == CONFIG_SYNC_NORMAL ? STORE_SYNC_NORMAL : STORE_SYNC_FULL;
    sopts.busy_timeout_ms = cfg->busy_timeout_ms;
    sopts.background_checkpoint = true;
    sopts.create = true; /* the one command that makes a new database */
    struct store *st = NULL;
    if (store_open(db, &sopts, &st, &err)) {
        cli_error("serve", "%s", err.message);
        close(listen_fd);
        config_unref(cfg);
        return 1;
    }
    char *default_key_file = NULL;
    if (!key_file) {
        size_t n = strlen(db) + sizeof(".admin-key");
        default_key_file = xmalloc(n);
        snprintf(default_key_file, n, "%s.admin-key", db);
        key_file = default_key_file;
    }
    int status = 1;
    struct engine *engine = NULL;
    struct server *server = NULL;
    struct timers *timers = NULL;
    struct deadlines *deadlines = NULL;
    struct deliver *deliver = NULL;
    struct config_holder *holder = NULL;
    if (ensure_admin_key(st, key_file) != 0)
        goto out;
    char host[128] = "baton", node_id[192];
    (void)gethostname(host, sizeof(host) - 1);
    snprintf(node_id, sizeof(node_id), "%s:%ld", host, (long)getpid());
    struct engine_options eopts = {.group_commit_max = cfg->group_commit_max, .node_id = node_id};
    metrics_init();
    if (engine_start(st, clock, &eopts, &engine, &err)) {
        cli_error("serve", "%s", err.message);
        goto out;
    }
    struct server_limits limits = {
        .max_connections = cfg->max_connections,
        .idle_timeout_ms = cfg->request_timeout_ms,
        .header_timeout_ms = cfg->header_timeout_ms,
        .body_timeout_ms = cfg->body_timeout_ms,
        .max_per_address = cfg->max_connections_per_address,
        .limit_loopback = cfg->limit_loopback,
    };
    load_model(engine);
    holder = config_holder_new(cfg);
    cfg = NULL;
    timers = timers_new(clock);
    deadlines = deadlines_new(timers, engine, holder);
    if (timers_start(timers, &err)) {
        cli_error("serve", "%s", err.message);
        goto out;
    }
    struct deliver_options dopts = {.node_id = node_id};
    if (deliver_start(engine, st, holder, clock, &dopts, &deliver, &err)) {
        cli_error("serve", "%s", err.message);
        goto out;
    }
    engine_set_outbox_hook(engine, deliver_poke, deliver);
    deliver_poke(deliver); /* what was due while Baton was down goes out now */
    struct server_context ctx = {holder, st, engine, clock, timers, deadlines, deliver};
    bt_err started = server_start(&ctx, listen_fd, address, &limits, &server, &err);
    listen_fd = -1; /* the server's now, in every case */
    if (started) {
        cli_error("serve", "%s", err.message);
        goto out;
    }
    int pid_fd = cli_daemon_files_write(db, holder); /* before the line: `baton reload` follows */
    /* Tests and scripts read this exact line to find the port. */
    fprintf(stderr, "listening on %s\n", url);
    fflush(stderr);

    /* The retrainer reads the configuration of the start (target,
     * exclusions): it keeps a reference until it stops. */
    struct retrain *retrainer = NULL;
    struct config *rcfg = config_holder_get(holder);
    if (rcfg->predictive.retrain_every_ms) {
        struct retrain_options ro = {0};
        ro.interval_ms = (int64_t)rcfg->predictive.retrain_every_ms;
        ro.train = (struct train_options)TRAIN_OPTIONS_INIT;
        ro.train.target = rcfg->predictive.target ? rcfg->predictive.target : "converted";
        if (rcfg->predictive.min_labelled)
            ro.train.min_labelled = rcfg->predictive.min_labelled;
        if (rcfg->predictive.min_per_class)
            ro.train.min_per_class = rcfg->predictive.min_per_class;
        ro.train.exclude = rcfg->predictive.exclude_fields;
        ro.train.n_exclude = rcfg->predictive.n_exclude_fields;
        ro.train.threads = 1;
        ro.on_activate = retrain_activated;
        ro.on_error = retrain_failed;
        if (retrain_start(st, &ro, &retrainer, &err))
            log_warn("retrain: %s", err.message);
    }
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&sigs, &info);
        if (sig < 0)
            continue; /* EINTR */
        if (sig == SIGHUP) {
            reload(holder, deadlines, db, engine);
            continue;
        }
        log_info("received %s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    retrain_stop(retrainer);
    config_unref(rcfg);
    cli_daemon_files_remove(db, pid_fd);
    server_quiesce(server);
    struct config *last = config_holder_get(holder); /* shutdown_timeout may have been reloaded */
    unsigned shutdown_ms = last->shutdown_timeout_ms;
    config_unref(last);
    if (!server_drain(server, shutdown_ms))
        log_warn("requests still in flight after %u ms; closing them", shutdown_ms);
    status = 0;
out:
    if (listen_fd >= 0)
        close(listen_fd);
    server_stop(server);
    if (engine) {
        engine_set_deadline_hook(engine, NULL, NULL); /* before the timers go */
        engine_set_outbox_hook(engine, NULL, NULL);
    }
    deliver_stop(deliver); /* before the engine: it reports through it */
    timers_free(timers);   /* stops its thread: no source runs after this */
    deadlines_free(deadlines);
    if (engine) {
        struct engine_stats stats;
        engine_get_stats(engine, &stats);
        log_info("engine: %llu command%s and %llu timer sweep%s in %llu commit%s (%llu failed)",
                 (unsigned long long)stats.commands, stats.commands == 1 ? "" : "s",
                 (unsigned long long)stats.sweeps, stats.sweeps == 1 ? "" : "s",
                 (unsigned long long)stats.commits, stats.commits == 1 ? "" : "s",
                 (unsigned long long)stats.failed_commits);
    }
    engine_stop(engine);
    store_close(st);
    config_holder_free(holder);
    config_unref(cfg);
    free(default_key_file);
    if (status == 0)
        log_info("stopped");
    return status;
}
