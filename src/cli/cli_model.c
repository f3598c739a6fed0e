/*
 * cli_model.c - `baton model list|show|activate|deactivate|report`: the
 * predictive models `baton train` stored (store_models.h), read and switched
 * on the database file directly. Activation is one transaction (the old
 * model off, the new one on); a running daemon picks it up when it reloads
 * (SIGHUP or `baton reload`), so that the switch happens at a moment the
 * operator chooses.
 *
 * A model is named by its id or its version. `report` prints the held-out
 * metrics (metrics.test: the model, the rules-only score and the logistic
 * regression, each as core/evalmetrics.h's eval_report_to_json) as tables;
 * --json prints the stored document as it is.
 */
#include "cli/cli.h"
#include "core/predict.h"
#include "store/store_models.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton model list [--db PATH] [--json]\n"
            "       baton model show ID [--db PATH] [--json]\n"
            "       baton model report ID [--db PATH] [--json]\n"
            "       baton model activate ID [--db PATH]\n"
            "       baton model deactivate [--db PATH]\n"
            "\n"
            "The predictive models 'baton train' stored in the database (docs/predictive.md).\n"
            "ID is a model's id (the first column of 'list') or its version (pm-...).\n"
            "\n"
            "  list        every model, newest first: kind, target, training and held-out\n"
            "              ranges, rows, held-out ROC-AUC; '*' marks the active one\n"
            "  show        one model: its metadata, features, trees and terms, and the\n"
            "              features its trees split on most\n"
            "  report      its quality on the held-out period: ROC-AUC, PR-AUC and Brier\n"
            "              score of the model, the rules-only score and the logistic\n"
            "              regression, then lift by decile and the calibration table\n"
            "  activate    make it the model that scores leads (one at a time)\n"
            "  deactivate  no model: the rules-only score\n"
            "\n"
            "A running daemon uses a newly activated model after a reload (SIGHUP or\n"
            "'baton reload --db PATH').\n"
            "\n"
            "Options:\n"
            "  --db PATH   the database file (default ./baton.db); it must exist\n"
            "  --json      print JSON instead of tables (list, show, report)\n"
            "  -h, --help  show this help\n");
}

static int open_db(const char *path, struct store **st, struct store_conn **c)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    bt_err rc = store_open(path, &opts, st, &err);
    if (rc) {
        cli_error("model", "%s", err.message);
        return 1;
    }
    if (store_conn_open(*st, c, &err)) {
        cli_error("model", "%s", err.message);
        store_close(*st);
        return 1;
    }
    return 0;
}

/* The model named by `name`: an id (digits) or a version. */
static int find(struct store_conn *c, const char *name, struct arena *a, struct store_model *m)
{
    struct bt_error err = BT_ERROR_INIT;
    char *end;
    bt_err rc;
    long long id = strtoll(name, &end, 10);
    if (*name >= '0' && *name <= '9' && *end == '\0' && id > 0)
        rc = store_model_get(c, id, a, m, &err);
    else if (strlen(name) <= STORE_MODEL_VERSION_MAX && *name)
        rc = store_model_get_by_version(c, name, a, m, &err);
    else
        rc = bt_fail(&err, BT_ENOTFOUND, NULL, "no model '%.80s'", name);
    if (rc == BT_ENOTFOUND) {
        cli_error("model", "no model '%.80s' (baton model list shows them)", name);
        return 1;
    }
    if (rc) {
        cli_error("model", "%s", err.message);
        return 1;
    }
    return 0;
}

static void day(int64_t ms, char *buf)
{
    if (!ms) {
        strcpy(buf, "open");
        return;
    }
    time_format_rfc3339(ms, buf);
    buf[10] = '\0';
}

static double metric(const char *metrics, const char *who, const char *name)
{
    json_error_t jerr;
    json_t *j = json_loads(metrics ? metrics : "{}", 0, &jerr);
    json_t *v = json_object_get(json_object_get(json_object_get(j, "test"), who), name);
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return x;
}

static json_t *model_json(const struct store_model *m)
{
    char t[RFC3339_MAX];
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:I, s:I}", "id", (json_int_t)m->id, "version",
                          m->version, "kind", m->kind, "target", m->target, "active", m->active,
                          "n_train", (json_int_t)m->n_train, "n_test", (json_int_t)m->n_test);
    const struct {
        const char *key;
        int64_t ms;
    } times[] = {{"created_at", m->created_at},       {"trained_from", m->trained_from},
                 {"trained_until", m->trained_until}, {"test_from", m->test_from},
                 {"test_until", m->test_until},       {"activated_at", m->activated_at}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        if (times[i].ms) {
            time_format_rfc3339(times[i].ms, t);
            json_object_set_new(o, times[i].key, json_string(t));
        } else {
            json_object_set_new(o, times[i].key, json_null());
        }
    }
    double auc = metric(m->metrics, "model", "roc_auc");
    json_object_set_new(o, "test_roc_auc", isnan(auc) ? json_null() : json_real(auc));
    return o;
}

static int cmd_list(struct store_conn *c, bool as_json)
{
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    struct store_model *list;
    size_t n;
    if (store_model_list(c, &a, &list, &n, &err)) {
        cli_error("model", "%s", err.message);
        arena_release(&a);
        return 1;
    }
    if (as_json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, model_json(&list[i]));
        char *s = json_dumps(arr, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(arr);
    } else if (n == 0) {
        printf("no models yet: 'baton train --db PATH' trains one\n");
    } else {
        printf("  %-4s %-28s %-9s %-9s %-10s %-23s %-23s %8s %8s %7s\n", "ID", "VERSION", "KIND",
               "TARGET", "CREATED", "TRAINED", "HELD OUT", "N_TRAIN", "N_TEST", "ROC-AUC");
        for (size_t i = 0; i < n; i++) {
            const struct store_model *m = &list[i];
            char cr[RFC3339_MAX], tf[RFC3339_MAX], tu[RFC3339_MAX], sf[RFC3339_MAX],
                su[RFC3339_MAX], trained[2 * RFC3339_MAX + 2], held[2 * RFC3339_MAX + 2], auc[16];
            day(m->created_at, cr);
            day(m->trained_from, tf);
            day(m->trained_until, tu);
            day(m->test_from, sf);
            day(m->test_until, su);
            snprintf(trained, sizeof(trained), "%s..%s", tf, tu);
            if (m->test_from || m->test_until)
                snprintf(held, sizeof(held), "%s..%s", sf, su);
            else
                strcpy(held, "-");
            double x = metric(m->metrics, "model", "roc_auc");
            if (isnan(x))
                strcpy(auc, "-");
            else
                snprintf(auc, sizeof(auc), "%.3f", x);
            printf("%c %-4" PRId64 " %-28s %-9s %-9s %-10s %-23s %-23s %8" PRId64 " %8" PRId64
                   " %7s\n",
                   m->active ? '*' : ' ', m->id, m->version, m->kind, m->target, cr, trained, held,
                   m->n_train, m->n_test, auc);
        }
    }
    arena_release(&a);
    return 0;
}

struct feature_use {
    size_t index;
    size_t splits;
    double cover;
};

static int by_cover(const void *x, const void *y)
{
    const struct feature_use *a = x, *b = y;
    return a->cover < b->cover   ? 1
           : a->cover > b->cover ? -1
                                 : (a->index > b->index) - (a->index < b->index);
}

static const char *feature_name(const struct predict_feature *f, char *buf, size_t size)
{
    if (f->kind == PREDICT_CATEGORY)
        snprintf(buf, size, "%s=%s", f->source, f->category);
    else
        snprintf(buf, size, "%s", f->source);
    return buf;
}

static int cmd_show(struct store_conn *c, const char *name, bool as_json)
{
    struct arena a = ARENA_INIT;
    struct store_model m;
    if (find(c, name, &a, &m)) {
        arena_release(&a);
        return 1;
    }
    json_t *out = model_json(&m);
    json_error_t jerr;
    json_t *j = json_loads(m.model, 0, &jerr);
    struct predict_model pm;
    struct bt_error err = BT_ERROR_INIT;
    bool is_json = j != NULL;
    bool parsed = is_json && predict_model_from_json(j, &a, &pm, &err) == BT_OK;
    json_decref(j);
    if (!parsed) {
        json_object_set_new(out, "error",
                            json_string(is_json ? err.message : "the stored model is not JSON"));
    } else {
        json_object_set_new(out, "features", json_integer((json_int_t)pm.n_features));
        json_object_set_new(out, "trees", json_integer((json_int_t)pm.n_trees));
        json_object_set_new(out, "nodes", json_integer((json_int_t)pm.n_nodes));
        json_object_set_new(out, "terms", json_integer((json_int_t)pm.n_terms));
        static const char *const cal[] = {"none", "platt", "isotonic"};
        json_object_set_new(out, "calibration", json_string(cal[pm.calibration.kind]));
        struct feature_use *use = calloc(pm.n_features ? pm.n_features : 1, sizeof(*use));
        for (size_t i = 0; i < pm.n_features; i++)
            use[i].index = i;
        for (size_t i = 0; i < pm.n_nodes; i++)
            if (pm.nodes[i].feature >= 0 && (size_t)pm.nodes[i].feature < pm.n_features) {
                use[pm.nodes[i].feature].splits++;
                use[pm.nodes[i].feature].cover += pm.nodes[i].cover;
            }
        qsort(use, pm.n_features, sizeof(*use), by_cover);
        json_t *top = json_array();
        for (size_t i = 0; i < pm.n_features && i < 10 && use[i].splits; i++) {
            char buf[2 * PREDICT_NAME_MAX + 2];
            json_array_append_new(
                top, json_pack("{s:s, s:I, s:f}", "feature",
                               feature_name(&pm.features[use[i].index], buf, sizeof(buf)), "splits",
                               (json_int_t)use[i].splits, "cover", use[i].cover));
        }
        free(use);
        json_object_set_new(out, "top_features", top);
    }
    if (as_json) {
        char *s = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(out, k, v)
        {
            if (!strcmp(k, "top_features"))
                continue;
            char *s =
                json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
            printf("%-14s %s\n", k, s);
            free(s);
        }
        json_t *top = json_object_get(out, "top_features");
        if (json_array_size(top)) {
            printf("\ntop features (by the training weight of their splits):\n");
            size_t i;
            json_array_foreach(top, i, v)
                printf("  %-40s %6" JSON_INTEGER_FORMAT " splits  cover %.1f\n",
                       json_string_value(json_object_get(v, "feature")),
                       json_integer_value(json_object_get(v, "splits")),
                       json_number_value(json_object_get(v, "cover")));
        }
    }
    json_decref(out);
    arena_release(&a);
    return parsed ? 0 : 1;
}

static void num(char *buf, size_t n, const json_t *v, const char *fmt)
{
    if (json_is_number(v))
        snprintf(buf, n, fmt, json_number_value(v));
    else
        snprintf(buf, n, "-");
}

static int cmd_report(struct store_conn *c, const char *name, bool as_json)
{
    struct arena a = ARENA_INIT;
    struct store_model m;
    if (find(c, name, &a, &m)) {
        arena_release(&a);
        return 1;
    }
    json_error_t jerr;
    json_t *metrics = json_loads(m.metrics ? m.metrics : "{}", 0, &jerr);
    if (!metrics) {
        cli_error("model", "model %" PRId64 ": its metrics are not JSON", m.id);
        arena_release(&a);
        return 1;
    }
    int rc = 0;
    if (as_json) {
        char *s = json_dumps(metrics, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    } else {
        json_t *test = json_object_get(metrics, "test");
        char sf[RFC3339_MAX], su[RFC3339_MAX];
        day(m.test_from, sf);
        day(m.test_until, su);
        printf("model %" PRId64 " (%s), target %s, held out %s..%s, %" PRId64 " leads\n\n", m.id,
               m.version, m.target, sf, su, m.n_test);
        static const char *const who[] = {"model", "rules", "logistic"};
        if (!json_is_object(test) || !json_object_size(test)) {
            printf("no held-out metrics stored for this model\n");
            rc = 1;
        } else {
            printf("%-10s %8s %8s %8s %8s %8s %9s\n", "", "N", "RATE", "ROC-AUC", "PR-AUC", "BRIER",
                   "LOG LOSS");
            for (size_t i = 0; i < 3; i++) {
                json_t *e = json_object_get(test, who[i]);
                if (!json_is_object(e))
                    continue;
                char n[24], rate[24], auc[24], pr[24], brier[24], ll[24];
                num(n, sizeof(n), json_object_get(e, "n"), "%.0f");
                num(rate, sizeof(rate), json_object_get(e, "base_rate"), "%.3f");
                num(auc, sizeof(auc), json_object_get(e, "roc_auc"), "%.4f");
                num(pr, sizeof(pr), json_object_get(e, "pr_auc"), "%.4f");
                num(brier, sizeof(brier), json_object_get(e, "brier"), "%.4f");
                num(ll, sizeof(ll), json_object_get(e, "log_loss"), "%.4f");
                printf("%-10s %8s %8s %8s %8s %8s %9s\n", who[i], n, rate, auc, pr, brier, ll);
            }
            for (size_t i = 0; i < 3; i++) {
                json_t *e = json_object_get(test, who[i]);
                json_t *deciles = json_object_get(e, "deciles");
                if (!json_array_size(deciles))
                    continue;
                printf("\nlift by decile (%s; decile 1: the highest scores)\n", who[i]);
                printf("  %6s %8s %8s %8s %8s\n", "DECILE", "COUNT", "RATE", "LIFT", "MEAN P");
                size_t k;
                json_t *d;
                json_array_foreach(deciles, k, d)
                {
                    char cnt[24], rate[24], lift[24], mp[24];
                    num(cnt, sizeof(cnt), json_object_get(d, "count"), "%.0f");
                    num(rate, sizeof(rate), json_object_get(d, "rate"), "%.3f");
                    num(lift, sizeof(lift), json_object_get(d, "lift"), "%.2f");
                    num(mp, sizeof(mp), json_object_get(d, "mean_p"), "%.3f");
                    printf("  %6" JSON_INTEGER_FORMAT " %8s %8s %8s %8s\n",
                           json_integer_value(json_object_get(d, "decile")), cnt, rate, lift, mp);
                }
                if (strcmp(who[i], "model"))
                    continue;
                json_t *cal = json_object_get(e, "calibration");
                if (!json_array_size(cal))
                    continue;
                printf("\ncalibration (model): predicted p against the observed rate\n");
                printf("  %11s %8s %8s %8s\n", "P", "COUNT", "MEAN P", "RATE");
                json_array_foreach(cal, k, d)
                {
                    char from[24], to[24], cnt[24], mp[24], rate[24];
                    num(from, sizeof(from), json_object_get(d, "from"), "%.1f");
                    num(to, sizeof(to), json_object_get(d, "to"), "%.1f");
                    num(cnt, sizeof(cnt), json_object_get(d, "count"), "%.0f");
                    num(mp, sizeof(mp), json_object_get(d, "mean_p"), "%.3f");
                    num(rate, sizeof(rate), json_object_get(d, "rate"), "%.3f");
                    printf("  %4s..%-5s %8s %8s %8s\n", from, to, cnt, mp, rate);
                }
            }
        }
    }
    json_decref(metrics);
    arena_release(&a);
    return rc;
}

static int cmd_activate(struct store_conn *c, const char *name)
{
    struct arena a = ARENA_INIT;
    struct store_model m;
    if (find(c, name, &a, &m)) {
        arena_release(&a);
        return 1;
    }
    /* A model the daemon could not read would leave it rules-only: refuse it here. */
    json_error_t jerr;
    json_t *j = json_loads(m.model, 0, &jerr);
    struct predict_model pm;
    struct bt_error err = BT_ERROR_INIT;
    bool is_json = j != NULL;
    bool ok = is_json && predict_model_from_json(j, &a, &pm, &err) == BT_OK;
    json_decref(j);
    if (!ok) {
        cli_error("model", "model %" PRId64 " (%s) cannot be used: %s", m.id, m.version,
                  is_json ? err.message : "its JSON does not parse");
        arena_release(&a);
        return 1;
    }
    bt_err rc = store_begin(c, &err);
    if (!rc)
        rc = store_model_activate(c, m.id, clock_now(clock_real()), &err);
    if (!rc)
        rc = store_commit(c, &err);
    else
        store_rollback(c);
    if (rc) {
        cli_error("model", "%s", err.message);
        arena_release(&a);
        return 1;
    }
    printf("model %" PRId64 " (%s) is active; reload the daemon (SIGHUP or baton reload) to use "
           "it\n",
           m.id, m.version);
    arena_release(&a);
    return 0;
}

static int cmd_deactivate(struct store_conn *c)
{
    struct bt_error err = BT_ERROR_INIT;
    if (store_model_deactivate(c, &err)) {
        cli_error("model", "%s", err.message);
        return 1;
    }
    printf("no model is active: leads get the rules-only score after the daemon reloads "
           "(SIGHUP or baton reload)\n");
    return 0;
}

int cli_model(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
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
    const char *sub = argv[1], *db = "./baton.db";
    bool as_json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            db = optarg;
            break;
        case 'j':
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
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    bool needs_id = !strcmp(sub, "show") || !strcmp(sub, "report") || !strcmp(sub, "activate");
    bool no_id = !strcmp(sub, "list") || !strcmp(sub, "deactivate");
    if (!needs_id && !no_id) {
        cli_error("model",
                  "unknown subcommand '%.40s' (list, show, report, activate or "
                  "deactivate)",
                  sub);
        return 2;
    }
    if ((needs_id && rest != 1) || (no_id && rest != 0)) {
        cli_error("model", needs_id ? "%s needs one model id or version" : "%s takes no argument",
                  sub);
        return 2;
    }
    struct store *st;
    struct store_conn *c;
    if (open_db(db, &st, &c))
        return 1;
    int rc;
    if (!strcmp(sub, "list"))
        rc = cmd_list(c, as_json);
    else if (!strcmp(sub, "show"))
        rc = cmd_show(c, args[0], as_json);
    else if (!strcmp(sub, "report"))
        rc = cmd_report(c, args[0], as_json);
    else if (!strcmp(sub, "activate"))
        rc = cmd_activate(c, args[0]);
    else
        rc = cmd_deactivate(c);
    store_conn_close(c);
    store_close(st);
    return rc;
}
