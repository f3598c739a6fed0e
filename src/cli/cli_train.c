/*
 * cli_train.c - `baton train`: trains the predictive model on the
 * database's history (ml/train.h), prints its held-out quality next to the
 * plain logistic regression and the trees alone, and stores it (inactive
 * unless --activate, which activates it only when it is not worse than the
 * active model on the same held-out period).
 */
#include "cli/cli.h"
#include "config/config.h"
#include "ml/train.h"
#include "report/reports.h"
#include "store/store_models.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: baton train [--db PATH] [--config FILE] [--target converted|sql] [--since T] "
          "[--until T]\n"
          "                   [--test-from T] [--exclude SOURCE]... [--min-labelled N]\n"
          "                   [--min-per-class N] [--activate] [--quiet]\n"
          "\n"
          "Trains the predictive score on the leads of the database whose outcome is known,\n"
          "each as it was when it qualified, and stores the model (inactive unless\n"
          "--activate). The last 20% of the leads by qualification time (or those qualified\n"
          "from --test-from) are held out and the model is measured on them, next to a\n"
          "plain logistic regression and XGBoost alone.\n"
          "\n"
          "  --db PATH           the database (default ./baton.db)\n"
          "  --config FILE       take predictive.target, min_labelled, min_per_class and\n"
          "                      exclude_fields from this configuration (flags win), and\n"
          "                      report its rules score next to the model\n"
          "  --target T          converted (reached won; default) or sql\n"
          "  --since/--until T   leads created in [since, until): RFC 3339 or YYYY-MM-DD\n"
          "  --test-from T       hold out the leads qualified from T\n"
          "  --exclude SOURCE    never use this feature source (e.g. fields.outcome)\n"
          "  --min-labelled N    refuse with fewer labelled training leads (default 1000)\n"
          "  --min-per-class N   ... or fewer of either class (default 100)\n"
          "  --activate          activate it, when not worse than the active model\n"
          "  --quiet             no progress\n",
          f);
}

static void progress(void *cls, const char *stage, double fraction)
{
    (void)cls;
    fprintf(stderr, "\r\033[Ktraining: %-24s %3.0f%%", stage, fraction * 100);
    fflush(stderr);
}

static double metric(json_t *metrics, const char *who, const char *what)
{
    json_t *v = json_object_get(json_object_get(json_object_get(metrics, "test"), who), what);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool parse_count(const char *s, size_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || v > 100000000)
        return false;
    *out = (size_t)v;
    return true;
}

int cli_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"target", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"test-from", required_argument, NULL, 'f'},
        {"exclude", required_argument, NULL, 'x'},
        {"min-labelled", required_argument, NULL, 'l'},
        {"min-per-class", required_argument, NULL, 'p'},
        {"activate", no_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "./baton.db", *config_path = NULL;
    bool set_target = false, set_labelled = false, set_class = false;
    const char *exclude[DATASET_EXCLUDE_MAX];
    struct train_options o = TRAIN_OPTIONS_INIT;
    bool activate = false, quiet = false;
    int64_t now = clock_now(clock_real());
    o.now = now;
    struct arena cfg_arena = ARENA_INIT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 't':
            if (strcmp(optarg, "converted") && strcmp(optarg, "sql")) {
                cli_error("train", "--target: expected converted or sql, not '%s'", optarg);
                return 2;
            }
            o.target = optarg;
            set_target = true;
            break;
        case 's':
        case 'u':
        case 'f': {
            int64_t t;
            if (!reports_parse_time(optarg, now, &t)) {
                cli_error("train", "--%s: expected RFC 3339 or YYYY-MM-DD, not '%s'",
                          c == 's'   ? "since"
                          : c == 'u' ? "until"
                                     : "test-from",
                          optarg);
                return 2;
            }
            *(c == 's' ? &o.since : c == 'u' ? &o.until : &o.test_from) = t;
            break;
        }
        case 'x':
            if (o.n_exclude >= DATASET_EXCLUDE_MAX) {
                cli_error("train", "at most %d --exclude", DATASET_EXCLUDE_MAX);
                return 2;
            }
            exclude[o.n_exclude++] = optarg;
            o.exclude = exclude;
            break;
        case 'l':
        case 'p':
            if (!parse_count(optarg, c == 'l' ? &o.min_labelled : &o.min_per_class)) {
                cli_error("train", "--%s: expected a positive whole number, not '%s'",
                          c == 'l' ? "min-labelled" : "min-per-class", optarg);
                return 2;
            }
            *(c == 'l' ? &set_labelled : &set_class) = true;
            break;
        case 'a':
            activate = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("train", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (o.since && o.until && o.since >= o.until) {
        cli_error("train", "--since must be before --until");
        return 2;
    }
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg = NULL;
    if (config_path) {
        if (config_load(config_path, &cfg, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        const struct config_predictive *pc = &cfg->predictive;
        if (!set_target && pc->target)
            o.target = pc->target;
        if (!set_labelled && pc->min_labelled)
            o.min_labelled = pc->min_labelled;
        if (!set_class && pc->min_per_class)
            o.min_per_class = pc->min_per_class;
        for (size_t i = 0; i < pc->n_exclude_fields && o.n_exclude < DATASET_EXCLUDE_MAX; i++) {
            /* the config names custom fields; a feature source is fields.NAME */
            const char *f = pc->exclude_fields[i];
            exclude[o.n_exclude++] =
                strncmp(f, "fields.", 7) ? arena_printf(&cfg_arena, "fields.%s", f) : f;
        }
        o.exclude = exclude;
        o.rules = cfg->scoring;
    }
    bool tty = !quiet && isatty(STDERR_FILENO);
    if (tty)
        o.progress = progress;

    struct store *st = NULL;
    struct store_conn *conn = NULL;
    struct store_options sopts = STORE_OPTIONS_INIT;
    struct arena arena = ARENA_INIT;
    struct train_result res;
    json_t *metrics = NULL;
    int status = 1;
    bt_err rc = store_open(db, &sopts, &st, &err);
    if (!rc)
        rc = store_conn_open(st, &conn, &err);
    if (!rc)
        rc = train_run(conn, &o, &arena, &res, &err);
    if (tty)
        fputs("\r\033[K", stderr);
    if (rc) {
        cli_error("train", "%s", err.message);
        goto done;
    }
    metrics = json_loads(res.model.metrics, 0, NULL);
    printf("held-out period: %lld leads (trained on %lld), %s\n", (long long)res.model.n_test,
           (long long)res.model.n_train, res.model.kind);
    printf("%-22s %8s %8s %8s\n", "", "ROC-AUC", "PR-AUC", "Brier");
    static const char *const who[][2] = {{"model", "model"},
                                         {"logistic", "logistic regression"},
                                         {"xgboost", "xgboost alone"},
                                         {"rules", "rules score"}};
    for (size_t i = 0; i < 4 - (o.rules == NULL); i++)
        printf("%-22s %8.4f %8.4f %8.4f\n", who[i][1], metric(metrics, who[i][0], "roc_auc"),
               metric(metrics, who[i][0], "pr_auc"), metric(metrics, who[i][0], "brier"));
    printf("training: %.1f s\n", res.seconds);

    if ((rc = store_model_insert(conn, &res.model, &err))) {
        cli_error("train", "storing the model: %s", err.message);
        goto done;
    }
    printf("model %lld %s stored\n", (long long)res.model.id, res.model.version);
    status = 0;
    if (activate) {
        /* Not worse: the active model's held-out ROC-AUC is compared with the
         * new one's only when both were measured on the same period. */
        struct arena a2 = ARENA_INIT;
        struct store_model cur;
        bt_err ar = store_model_active(conn, &a2, &cur, &err);
        bool go = true;
        if (ar == BT_OK) {
            json_t *cm = json_loads(cur.metrics ? cur.metrics : "{}", 0, NULL);
            double old_auc = metric(cm, "model", "roc_auc");
            json_decref(cm);
            if (cur.test_from == res.model.test_from && cur.test_until == res.model.test_until &&
                !isnan(old_auc) && res.test_auc < old_auc) {
                printf("not activated: worse than the active model %lld (ROC-AUC %.4f < %.4f on "
                       "the same held-out period)\n",
                       (long long)cur.id, res.test_auc, old_auc);
                go = false;
            }
        } else if (ar != BT_ENOTFOUND) {
            cli_error("train", "%s", err.message);
            status = 1;
            go = false;
        }
        arena_release(&a2);
        if (go) {
            rc = store_begin(conn, &err);
            if (!rc)
                rc = store_model_activate(conn, res.model.id, now, &err);
            if (!rc)
                rc = store_commit(conn, &err);
            if (rc) {
                store_rollback(conn);
                cli_error("train", "activating: %s", err.message);
                status = 1;
            } else {
                printf("model %lld activated (a running daemon loads it on SIGHUP)\n",
                       (long long)res.model.id);
            }
        }
    }
done:
    json_decref(metrics);
    arena_release(&cfg_arena);
    if (cfg)
        config_unref(cfg);
    arena_release(&arena);
    if (conn)
        store_conn_close(conn);
    if (st)
        store_close(st);
    return status;
}
