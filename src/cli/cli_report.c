/*
 * cli_report.c - `baton report NAME`: a report of report/reports.h on the
 * database file, printed as a table, JSON or CSV. The same computation as
 * GET /v1/reports/{name}; it reads only, so it may run while the daemon
 * does. On a terminal a long run shows its progress on stderr.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "report/reports.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton report NAME [--db PATH] [--config FILE] [--since TIME] [--until TIME]\n"
            "                    [--team ID] [--rep ID] [--pool ID] [--source SOURCE]\n"
            "                    [--format table|json|csv]\n"
            "\n"
            "Computes a report from the stored events, as GET /v1/reports/NAME does.\n"
            "NAME is one of:\n"
            "  speed-to-lead  p50/p90/p95/max of intake->assigned, assigned->accepted and\n"
            "                 accepted->first contact, by team, rep, source and SLA policy\n"
            "  sla            SLA compliance per policy, team and rep; breaches by step\n"
            "  acceptance     offered, accepted, rejected (by reason), expired, per rep\n"
            "  funnel         new -> mql -> assigned -> accepted -> sql -> opportunity -> won\n"
            "  fairness       expected against actual share per pool member (needs --config)\n"
            "  dark-leads     qualified leads never accepted or never contacted; held longest\n"
            "  routing        decisions per rule, pool and rep; holds by reason\n"
            "\n"
            "  --db PATH        the database file (default ./baton.db); it must exist\n"
            "  --config FILE    the configuration: teams, reps' teams and weights, pools,\n"
            "                   reports.lost_lead_value (needed for --team and fairness)\n"
            "  --since TIME     start of the window (default 30d): RFC 3339, YYYY-MM-DD\n"
            "                   (midnight UTC) or an age such as 7d, 12h, 90m\n"
            "  --until TIME     end of the window, exclusive (default now)\n"
            "  --team, --rep, --pool, --source  only these rows\n"
            "  --format FMT     table (default), json or csv\n"
            "\n"
            "Docs: docs/metrics.md (how each figure is computed).\n");
}

static void progress(void *cls, const char *stage, int64_t rows)
{
    (void)cls;
    fprintf(stderr, "\rbaton report: %lld %s read...", (long long)rows, stage);
    fflush(stderr);
}

int cli_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"team", required_argument, NULL, 't'},
        {"rep", required_argument, NULL, 'r'},
        {"pool", required_argument, NULL, 'p'},
        {"source", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    struct reports_query q = {.name = argv[1]};
    const char *db = "./baton.db", *config_path = NULL, *since = NULL, *until = NULL;
    enum reports_format format = REPORTS_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 's':
            since = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        case 't':
            q.team = optarg;
            break;
        case 'r':
            q.rep = optarg;
            break;
        case 'p':
            q.pool = optarg;
            break;
        case 'o':
            q.source = optarg;
            break;
        case 'f':
            if (!strcmp(optarg, "table"))
                format = REPORTS_TABLE;
            else if (!strcmp(optarg, "json"))
                format = REPORTS_JSON;
            else if (!strcmp(optarg, "csv"))
                format = REPORTS_CSV;
            else {
                cli_error("report", "--format: expected table, json or csv, not '%s'", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - 1 - optind > 0) {
        cli_error("report", "unexpected argument '%s'", argv[1 + optind]);
        return 2;
    }
    if (!reports_known(q.name)) {
        cli_error("report", "no such report '%s' (baton report --help lists them)", q.name);
        return 2;
    }
    int64_t now = clock_now(clock_real());
    q.until = now;
    if (until && !reports_parse_time(until, now, &q.until)) {
        cli_error("report", "--until: expected RFC 3339, YYYY-MM-DD or an age like 7d, not '%s'",
                  until);
        return 2;
    }
    q.since = q.until - (int64_t)REPORTS_DEFAULT_DAYS * 86400000;
    if (since && !reports_parse_time(since, now, &q.since)) {
        cli_error("report", "--since: expected RFC 3339, YYYY-MM-DD or an age like 7d, not '%s'",
                  since);
        return 2;
    }
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg = NULL;
    if (config_path && config_load(config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    struct store *st = NULL;
    struct store_conn *conn = NULL;
    struct store_options sopts = STORE_OPTIONS_INIT;
    bt_err rc = store_open(db, &sopts, &st, &err);
    if (!rc)
        rc = store_conn_open(st, &conn, &err);
    json_t *report = NULL;
    bool tty = isatty(STDERR_FILENO);
    if (!rc)
        rc = reports_run(conn, cfg, &q, tty ? progress : NULL, NULL, &report, &err);
    if (tty)
        fputs("\r\033[K", stderr);
    if (conn)
        store_conn_close(conn);
    if (st)
        store_close(st);
    if (cfg)
        config_unref(cfg);
    if (rc) {
        if (rc == BT_ENOTFOUND && !strncmp(err.message, "no such report", 14))
            cli_error("report", "%s", err.message);
        else if (rc == BT_ENOTFOUND)
            cli_error("report", "%s; baton serve creates it", err.message);
        else
            cli_error("report", "%s", err.message);
        return 1;
    }
    reports_render(report, format, stdout);
    json_decref(report);
    return fflush(stdout) == 0 ? 0 : 1;
}
