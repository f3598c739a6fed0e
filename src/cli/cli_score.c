/*
 * cli_score.c - `baton score`: the dry run of intake, scoring and
 * qualification. It parses and normalises the lead exactly as POST /v1/leads
 * does, scores it with the same engine_evaluate() the daemon runs, and prints
 * the result as JSON; no database is touched.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/normalize.h"
#include "engine/engine.h"
#include "server/intake_parse.h"
#include "server/lead_json.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX (1024 * 1024)

static void usage(FILE *out)
{
    fprintf(out, "usage: baton score --config FILE [--now TIME] [LEAD.json | -]\n"
                 "\n"
                 "Scores one lead without a database and prints, as JSON, the lead after\n"
                 "normalisation, its score with every reason, its grade and what\n"
                 "qualification would do. The input (a file, or standard input when absent\n"
                 "or '-') is a lead as POST /v1/leads takes it, or an object\n"
                 "  {\"lead\": {...}, \"activities\": [{\"type\": ..., \"occurred_at\": ...,\n"
                 "   \"properties\": {...}}], \"stage\": \"new\"}\n"
                 "to include the lead's activities and current stage.\n"
                 "\n"
                 "Options:\n"
                 "  -c, --config FILE  configuration (scoring and qualification sections)\n"
                 "      --now TIME     score as of this RFC 3339 time (default: now)\n"
                 "  -h, --help         show this help\n");
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > INPUT_MAX) {
            free(buf);
            return NULL;
        }
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    *len = n;
    return buf;
}

/* Splits the input into the lead's JSON text, the activities body and the stage. */
static bool split_input(const char *text, size_t len, struct arena *a, char **lead_text,
                        char **acts_text, const char **stage, struct bt_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        bt_fail(err, BT_EPARSE, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                jerr.column, jerr.text);
        return false;
    }
    json_t *lead = json_is_object(root) ? json_object_get(root, "lead") : NULL;
    bool ok = true;
    if (!lead) {
        char *s = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
        *lead_text = arena_strdup(a, s);
        free(s);
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            if (!strcmp(key, "lead")) {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                *lead_text = arena_strdup(a, s);
                free(s);
            } else if (!strcmp(key, "activities")) {
                json_t *wrap = json_pack("{s:O}", "activities", v);
                char *s = json_dumps(wrap, JSON_COMPACT);
                *acts_text = arena_strdup(a, s);
                free(s);
                json_decref(wrap);
            } else if (!strcmp(key, "stage")) {
                enum lead_stage st;
                if (!json_is_string(v) || !stage_parse(json_string_value(v), &st)) {
                    bt_fail(err, BT_EINVAL, "stage", "stage must be a lifecycle stage name");
                    ok = false;
                    break;
                }
                *stage = stage_name(st);
            } else {
                bt_fail(err, BT_EINVAL, key,
                        "unknown key '%.64s'; expected lead, activities and stage", key);
                ok = false;
                break;
            }
        }
    }
    json_decref(root);
    return ok;
}

static int score_text(const struct config *cfg, const char *text, size_t len, int64_t now)
{
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    char *lead_text = NULL, *acts_text = NULL;
    const char *stage = "new";
    struct lead_input in;
    struct lead lead;
    struct normalize_report report = {0};
    struct activity_item *items = NULL;
    size_t n_items = 0;
    int status = 1;
    if (!split_input(text, len, &a, &lead_text, &acts_text, &stage, &err) ||
        intake_parse_json(lead_text, strlen(lead_text), &a, &in, &err) ||
        normalize_lead(&in, cfg->freemail, &a, &lead, &report, &err) ||
        (acts_text && intake_parse_activities(acts_text, strlen(acts_text), false, now,
                                              cfg->freemail, &a, &items, &n_items, &err))) {
        fprintf(stderr, "baton score: %s%s%s\n", err.field[0] ? err.field : "",
                err.field[0] ? ": " : "", err.message);
        goto out;
    }
    lead.attr[LEAD_STAGE] = stage;
    lead.created_at = lead.updated_at = now;
    struct activity *acts = arena_alloc(&a, sizeof(*acts) * (n_items ? n_items : 1));
    for (size_t i = 0; i < n_items; i++)
        acts[i] = items[i].act;
    struct score_result *res = arena_alloc(&a, sizeof(*res));
    struct lifecycle_decision d;
    if (engine_evaluate(cfg, &lead, acts, n_items, now, NULL, NULL, &a, res, &d, &err)) {
        fprintf(stderr, "baton score: %s\n", err.message);
        goto out;
    }
    json_t *warnings = json_array();
    for (size_t i = 0; i < report.count; i++)
        json_array_append_new(warnings, json_pack("{s:s, s:s}", "field", report.warnings[i].field,
                                                  "message", report.warnings[i].message));
    enum lead_stage current = STAGE_NEW;
    (void)stage_parse(stage, &current);
    json_t *decision = json_pack("{s:s, s:s, s:b}", "stage", stage, "to",
                                 stage_name(d.change ? d.to : current), "change", d.change);
    json_object_set_new(decision, "reason", d.reason ? json_string(d.reason) : json_null());
    json_object_set_new(decision, "rule", d.rule ? json_string(d.rule) : json_null());
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int64_t now = clock_now(clock_real());
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
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
    if (!config_path || optind < argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *input = optind < argc ? argv[optind] : "-";
    FILE *f = strcmp(input, "-") ? fopen(input, "rb") : stdin;
    if (!f) {
        cli_error("score", "cannot open %s", input);
        return 1;
    }
    size_t len = 0;
    char *text = read_all(f, &len);
    if (f != stdin)
        fclose(f);
    if (!text) {
        cli_error("score", "%s is larger than %d bytes", input, INPUT_MAX);
        return 1;
    }
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        free(text);
        return 1;
    }
    int status = score_text(cfg, text, len, now);
    config_unref(cfg);
    free(text);
    return status;
}
