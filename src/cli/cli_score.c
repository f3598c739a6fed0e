/*
 * cli_score.c - `baton score`: the dry run of intake, scoring and
 * qualification. It parses and normalises the lead exactly as POST /v1/leads
 * does, runs it through the same decision pipeline as the daemon
 * (core/decide.h, without routing), and prints the result as JSON; no
 * database is touched.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/decide.h"
#include "core/normalize.h"
#include "core/predict.h"
#include "server/lead_json.h"
#include "store/store_models.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: baton score --config FILE [--db PATH] [--now TIME] [LEAD.json | -]\n"
                 "\n"
                 "Scores one lead without a database and prints, as JSON, the lead after\n"
                 "normalisation, its score with every reason, its grade and what\n"
                 "qualification would do. The input (a file, or standard input when absent\n"
                 "or '-') is a lead as POST /v1/leads takes it, or an object\n"
                 "  {\"lead\": {...}, \"activities\": [{\"type\": ..., \"occurred_at\": ...,\n"
                 "   \"properties\": {...}}], \"stage\": \"new\", \"owner\": \"rep.id\"}\n"
                 "to include the lead's activities, current stage and owner.\n"
                 "\n"
                 "Options:\n"
                 "  -c, --config FILE  configuration (scoring and qualification sections)\n"
                 "      --db PATH      also score with the active predictive model of this\n"
                 "                     database (score.predicted: p and its factors)\n"
                 "      --now TIME     score as of this RFC 3339 time (default: now)\n"
                 "  -h, --help         show this help\n");
}

/* The active model of the database at `db` into *pm (in `a`); *version
 * "" when none is active. 1 (reported) on an error. */
static int load_model(const char *db, struct arena *a, struct predict_model *pm, char *version,
                      size_t version_size)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    struct store *st;
    struct store_conn *c;
    version[0] = '\0';
    if (store_open(db, &opts, &st, &err)) {
        cli_error("score", "%s", err.message);
        return 1;
    }
    if (store_conn_open(st, &c, &err)) {
        cli_error("score", "%s", err.message);
        store_close(st);
        return 1;
    }
    struct store_model m;
    bt_err rc = store_model_active(c, a, &m, &err);
    int status = 0;
    if (rc == BT_ENOTFOUND) {
        fprintf(stderr, "baton score: no model is active in %s: the rules-only score\n", db);
    } else if (rc) {
        cli_error("score", "%s", err.message);
        status = 1;
    } else {
        json_error_t jerr;
        json_t *j = json_loads(m.model, 0, &jerr);
        if (!j || predict_model_from_json(j, a, pm, &err)) {
            cli_error("score", "model %lld (%s): %s", (long long)m.id, m.version,
                      j ? err.message : "its JSON does not parse");
            status = 1;
        } else {
            snprintf(version, version_size, "%s", m.version);
        }
        json_decref(j);
    }
    store_conn_close(c);
    store_close(st);
    return status;
}

static int score_text(const struct config *cfg, const char *text, size_t len, int64_t now,
                      const struct predict_model *pm, const char *version)
{
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    struct cli_lead in;
    int status = 1;
    if (cli_lead_parse(cfg, text, len, now, &a, &in, &err)) {
        fprintf(stderr, "baton score: %s%s%s\n", err.field[0] ? err.field : "",
                err.field[0] ? ": " : "", err.message);
        goto out;
    }
    struct lead lead = in.lead;
    const char *stage = lead.attr[LEAD_STAGE];
    struct decide_model model = cfg->decide;
    if (pm && cfg->predictive.enabled) {
        model.predictive = pm;
        model.predictive_version = version;
        model.predictive_points = cfg->predictive.points;
    }
    struct decide_input din = {
        .model = &model,
        .lead = &lead,
        .acts = in.acts,
        .n_acts = in.n_acts,
        .route = DECIDE_ROUTE_NEVER,
        .now = now,
    };
    struct decide_result r;
    if (decide_lead(&din, &a, &r, &err)) {
        fprintf(stderr, "baton score: %s\n", err.message);
        goto out;
    }
    decide_result_release(&r);
    /* The lead is shown at the stage it came with; "decision" says where
     * qualification takes it. */
    lead.attr[LEAD_STAGE] = stage;
    json_t *warnings = cli_warnings_json(&in.report);
    const struct lifecycle_decision *d = &r.qualification;
    json_t *decision = json_pack("{s:s, s:s, s:b}", "stage", stage, "to", stage_name(r.stage),
                                 "change", d->change);
    json_object_set_new(decision, "reason", d->reason ? json_string(d->reason) : json_null());
    json_object_set_new(decision, "rule", d->rule ? json_string(d->rule) : json_null());
    json_t *out =
        json_pack("{s:o, s:o, s:o, s:o, s:s}", "lead", lead_to_json(&lead), "decision", decision,
                  "warnings", warnings, "now", time_to_json(now), "config_version", cfg->version);
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    printf("%s\n", s);
    free(s);
    json_decref(out);
    status = 0;
out:
    arena_release(&a);
    return status;
}

int cli_score(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"now", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *db = NULL;
    int64_t now = clock_now(clock_real());
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'n':
            if (!time_parse_rfc3339(optarg, &now)) {
                cli_error("score", "--now needs an RFC 3339 time, not '%s'", optarg);
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
    if (!config_path) {
        cli_error("score", "--config FILE is required");
        usage(stderr);
        return 2;
    }
    if (optind < argc - 1) {
        cli_error("score", "one lead at a time: a file or '-', not %d", argc - optind);
        usage(stderr);
        return 2;
    }
    const char *input = optind < argc ? argv[optind] : "-";
    size_t len = 0;
    char *text = cli_read_file("score", input, CLI_LEAD_INPUT_MAX, &len);
    if (!text)
        return 1;
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        free(text);
        return 1;
    }
    struct arena model_arena = ARENA_INIT;
    struct predict_model pm;
    char version[STORE_MODEL_VERSION_MAX + 1] = "";
    int status = db ? load_model(db, &model_arena, &pm, version, sizeof(version)) : 0;
    if (!status)
        status = score_text(cfg, text, len, now, version[0] ? &pm : NULL, version);
    arena_release(&model_arena);
    config_unref(cfg);
    free(text);
    return status;
}
