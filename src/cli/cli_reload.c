/*
 * cli_reload.c - `baton reload`: deploys a configuration to a running
 * `baton serve` and says what the reload did.
 *
 * A SIGHUP alone is fire and forget: nothing tells the sender whether the
 * daemon took the file, refused it, or took a file cut short. This command
 * checks the file first (as `baton check`), makes sure it is the file the
 * daemon reads (the daemon loads its own path again, whatever file was
 * checked), signals, and waits for the outcome the daemon writes to
 * DB.reload (cli_daemon.c): the reload's number tells this reload from the
 * previous one, and the version the daemon loaded is compared with the
 * version checked, so that a file changed in between is reported.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "util/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATUS_MAX_BYTES  (4u * 1024 * 1024)
#define TIMEOUT_DEFAULT_S 30
#define TIMEOUT_MAX_S     3600
#define POLL_INTERVAL_MS  20

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton reload [--config FILE] --db PATH [--pid PID] [--timeout SECONDS]\n"
            "       baton reload [--config FILE] --pid PID\n"
            "       baton reload --status --db PATH [--json]\n"
            "\n"
            "Checks FILE as `baton check` does, sends SIGHUP to the running `baton serve`,\n"
            "waits until it reports the reload and prints what the reload changed. A bad\n"
            "file is printed as FILE:LINE:COL: message and nothing is signalled.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE    the configuration to deploy (default ./baton.yaml); it must\n"
            "                       be the file the daemon reads: the daemon loads its own\n"
            "                       path again\n"
            "  -d, --db PATH        the daemon's database: its process id is read from\n"
            "                       PATH.pid, its configuration and the outcome of its reloads\n"
            "                       from PATH.reload (both written by `baton serve`)\n"
            "  -p, --pid PID        the daemon's process id; without --db the file cannot be\n"
            "                       matched with the daemon's and the outcome is not waited for\n"
            "  -t, --timeout SECS   how long to wait for the outcome (default %d)\n"
            "      --status         print the running configuration and the last reload;\n"
            "                       signal nothing\n"
            "      --json           with --status: print PATH.reload as it is (JSON)\n"
            "  -h, --help           show this help\n"
            "\n"
            "Exit status: 0 the daemon applied the file (or, with --status, runs); 1 the\n"
            "file is bad, is not the daemon's, the daemon refused it or loaded another\n"
            "version, or no outcome came in time; 2 usage error.\n",
            TIMEOUT_DEFAULT_S);
}

/* The daemon's DB.reload, parsed; NULL with a message in err. */
static json_t *read_status(const char *db, struct bt_error *err)
{
    char *path = cli_daemon_path(db, CLI_DAEMON_STATUS_SUFFIX);
    json_t *status = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        bt_fail(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, NULL, "cannot open %s: %s", path,
                strerror(errno));
        free(path);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (off_t)STATUS_MAX_BYTES) {
        bt_fail(err, BT_ETOOBIG, NULL, "%s is larger than %u bytes", path, STATUS_MAX_BYTES);
        fclose(f);
        free(path);
        return NULL;
    }
    json_error_t jerr;
    status = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!status) {
        bt_fail(err, BT_EPARSE, NULL, "%s is not the JSON `baton serve` writes: %s", path,
                jerr.text);
    } else if (!json_is_integer(json_object_get(status, "pid")) ||
               !json_is_string(json_object_get(status, "config")) ||
               !json_is_string(json_object_get(status, "version"))) {
        json_decref(status);
        status = NULL;
        bt_fail(err, BT_EINVAL, NULL, "%s lacks pid, config or version", path);
    }
    free(path);
    return status;
}

static json_int_t status_pid(const json_t *status)
{
    return json_integer_value(json_object_get(status, "pid"));
}

/* The number of the status's last reload; 0 before the first. */
static json_int_t status_seq(const json_t *status)
{
    return json_integer_value(json_object_get(json_object_get(status, "last_reload"), "seq"));
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

/* Prints a last reload: "applied at T: version W (was V): TEXT". */
static void print_reload(FILE *out, const json_t *last)
{
    if (strcmp(str(last, "result"), "applied") == 0)
        fprintf(out, "applied at %s: version %s (was %s): %s\n", str(last, "at"),
                str(last, "version"), str(last, "previous_version"),
                str(json_object_get(last, "summary"), "text"));
    else
        fprintf(out, "failed at %s, keeping version %s: %s\n", str(last, "at"),
                str(last, "version"), str(last, "error"));
}

/* 0 when the process runs and may be signalled; else prints why not. */
static int check_process(pid_t pid)
{
    if (kill(pid, 0) == 0)
        return 0;
    if (errno == ESRCH)
        cli_error("reload", "no process %ld runs (is the pid file stale?)", (long)pid);
    else
        cli_error("reload", "cannot signal process %ld: %s", (long)pid, strerror(errno));
    return -1;
}

static int show_status(const char *db, bool as_json)
{
    struct bt_error err = BT_ERROR_INIT;
    json_t *status = read_status(db, &err);
    if (!status) {
        cli_error("reload", "%s (is `baton serve --db %s` running?)", err.message, db);
        return 1;
    }
    int rc = 0;
    pid_t pid = (pid_t)status_pid(status);
    if (as_json) {
        char *text = json_dumps(status, JSON_COMPACT);
        printf("%s\n", text ? text : "null");
        free(text);
    } else {
        printf("baton serve (pid %ld) runs version %s of %s\n", (long)pid, str(status, "version"),
               str(status, "config"));
        json_t *last = json_object_get(status, "last_reload");
        if (json_is_object(last)) {
            printf("last reload (#%lld): ", (long long)status_seq(status));
            print_reload(stdout, last);
        } else {
            printf("last reload: none since it started\n");
        }
    }
    pid_t live;
    if (cli_daemon_read_pid(db, &live, &err) != BT_OK) {
        cli_error("reload", "%s", err.message);
        rc = 1;
    } else if (live != pid) {
        cli_error("reload", "%s.pid names process %ld, %s.reload process %ld", db, (long)live, db,
                  (long)pid);
        rc = 1;
    }
    json_decref(status);
    return rc;
}

/* The same file: what stat() sees through both names. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * Waits until the daemon's DB.reload shows a reload after `seq`; returns
 * its status (a new reference) or NULL with the reason printed.
 */
static json_t *wait_outcome(const char *db, pid_t pid, json_int_t seq, int timeout_s)
{
    int64_t deadline = time_monotonic_ms() + (int64_t)timeout_s * 1000;
    struct bt_error err = BT_ERROR_INIT;
    for (;;) {
        json_t *status = read_status(db, &err);
        if (status && status_pid(status) != pid) {
            cli_error("reload", "%s.reload now belongs to process %lld: the daemon restarted?", db,
                      (long long)status_pid(status));
            json_decref(status);
            return NULL;
        }
        if (status && status_seq(status) > seq)
            return status;
        json_decref(status);
        if (time_monotonic_ms() >= deadline) {
            cli_error("reload",
                      "process %ld reported no reload in %s.reload within %d s (%s); see its log "
                      "or GET /readyz",
                      (long)pid, db, timeout_s,
                      kill(pid, 0) == 0 ? "it still runs" : "it does not run any more");
            return NULL;
        }
        sleep_ms(POLL_INTERVAL_MS);
    }
}

static bool parse_positive(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > max)
        return false;
    *out = v;
    return true;
}

int cli_reload(int argc, char **argv)
{
    enum { OPT_STATUS = 256, OPT_JSON };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"db", required_argument, NULL, 'd'},
        {"pid", required_argument, NULL, 'p'},     {"timeout", required_argument, NULL, 't'},
        {"status", no_argument, NULL, OPT_STATUS}, {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *path = "./baton.yaml", *db = NULL;
    long pid_arg = 0, timeout_s = TIMEOUT_DEFAULT_S;
    bool status_only = false, as_json = false, config_given = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:p:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            config_given = true;
            break;
        case 'd':
            db = optarg;
            break;
        case 'p':
            if (!parse_positive(optarg, 0x3fffffff, &pid_arg)) {
                cli_error("reload", "--pid needs a process id, not '%s'", optarg);
                return 2;
            }
            break;
        case 't':
            if (!parse_positive(optarg, TIMEOUT_MAX_S, &timeout_s)) {
                cli_error("reload", "--timeout needs whole seconds from 1 to %d, not '%s'",
                          TIMEOUT_MAX_S, optarg);
                return 2;
            }
            break;
        case OPT_STATUS:
            status_only = true;
            break;
        case OPT_JSON:
            as_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!db && !pid_arg) || (status_only && (!db || config_given || pid_arg)) ||
        (as_json && !status_only)) {
        usage(stderr);
        return 2;
    }
    if (status_only)
        return show_status(db, as_json);

    /* 1. The file, as `baton check` sees it: a bad one stops here. */
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        cli_error("reload", "nothing was signalled; the daemon keeps its configuration");
        return 1;
    }
    char checked[17];
    memcpy(checked, cfg->version, sizeof(checked));
    config_unref(cfg);
    printf("%s: ok (config version %s)\n", path, checked);

    /* 2. The daemon, and that it reads this file. */
    pid_t pid = (pid_t)pid_arg;
    if (!pid && cli_daemon_read_pid(db, &pid, &err) != BT_OK) {
        cli_error("reload", "%s (is `baton serve --db %s` running?)", err.message, db);
        return 1;
    }
    if (check_process(pid) != 0)
        return 1;
    json_int_t seq = 0;
    if (db) {
        json_t *status = read_status(db, &err);
        if (!status) {
            cli_error("reload", "%s; nothing was signalled (--pid alone signals without waiting)",
                      err.message);
            return 1;
        }
        int bad = 0;
        if (status_pid(status) != pid) {
            cli_error("reload", "%s.reload belongs to process %lld, not %ld; nothing was signalled",
                      db, (long long)status_pid(status), (long)pid);
            bad = 1;
        } else if (!same_file(path, str(status, "config"))) {
            cli_error("reload",
                      "the daemon reads %s, not %s; nothing was signalled (rename the checked "
                      "file over the daemon's, then reload with --config %s)",
                      str(status, "config"), path, str(status, "config"));
            bad = 1;
        } else {
            seq = status_seq(status);
            printf("baton serve (pid %ld) runs version %s\n", (long)pid, str(status, "version"));
            fflush(stdout); /* before the wait */
        }
        json_decref(status);
        if (bad)
            return 1;
    }

    /* 3. Signal, and wait for the outcome. */
    if (kill(pid, SIGHUP) != 0) {
        cli_error("reload", "cannot signal process %ld: %s", (long)pid, strerror(errno));
        return 1;
    }
    if (!db) {
        printf("sent SIGHUP to process %ld; without --db the outcome is not waited for (see "
               "the daemon's log or GET /readyz)\n",
               (long)pid);
        return 0;
    }
    json_t *status = wait_outcome(db, pid, seq, (int)timeout_s);
    if (!status)
        return 1;
    json_t *last = json_object_get(status, "last_reload");
    int rc = 0;
    if (strcmp(str(last, "result"), "applied") != 0) {
        cli_error("reload", "the daemon refused the file: %s; it keeps version %s",
                  str(last, "error"), str(last, "version"));
        rc = 1;
    } else {
        printf("reloaded: version %s (was %s): %s\n", str(last, "version"),
               str(last, "previous_version"), str(json_object_get(last, "summary"), "text"));
        if (strcmp(str(last, "version"), checked) != 0) {
            cli_error("reload",
                      "the daemon loaded version %s, not the version checked (%s): the file "
                      "changed in between; check it and reload again",
                      str(last, "version"), checked);
            rc = 1;
        }
    }
    json_decref(status);
    return rc;
}
