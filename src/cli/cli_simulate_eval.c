/*
 * cli_simulate_eval.c - `baton simulate --evaluate --db PATH --split T
 * [--config FILE] [--pool ID] [--segments a,b] [--json]`: how best_match
 * would have done on the outcome history, against round robin, by the
 * replay method for logged decisions.
 *
 * The skill table is built from the outcomes of leads created before the
 * split. Then every closed lead created at or after the split, in time order,
 * is offered to the policy (best_match, then round robin, each keeping its
 * own pool state through core/strategy.h as the daemon does); a lead counts
 * for a policy only when the policy's choice is the rep who actually worked
 * it (its owner), and the policy's win rate is the rate among those. The
 * estimate is unbiased when the logged assignment was itself unrelated to
 * the lead's prospects (e.g. round robin); it rests on as many deals as
 * matched, which is printed next to it.
 *
 * The candidates are the members of the pool (--pool, else the first
 * best_match pool of --config) or, without a configuration, every rep seen
 * in the history before the split; their segment fields are the pool's, or
 * --segments, or industry, employees_band, country.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/skill.h"
#include "core/strategy.h"
#include "store/store_models.h"
#include "util/arena.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_SEGMENTS_MAX 8

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton simulate --evaluate --db PATH --split T [--config FILE] [--pool ID]\n"
            "                      [--segments FIELD,...] [--json]\n"
            "\n"
            "Estimates on the outcome history the win rate best_match would have had, against\n"
            "round robin, by the replay method: skill learnt from leads created before T\n"
            "(RFC 3339 or YYYY-MM-DD), then each closed lead created after T counts for a\n"
            "policy only when the policy would have chosen the rep who actually worked it.\n");
}

struct deal {
    char *rep, *seg;
    int64_t created_at;
    bool won;
    double value;
};

struct deals {
    struct deal *d;
    size_t n, cap;
    const char *const *segments;
    size_t n_segments;
};

static bt_err collect(void *cls, const struct store_history_row *row, struct bt_error *err)
{
    struct deals *ds = cls;
    const char *owner = row->lead.attr[LEAD_OWNER];
    if (!owner || !*owner)
        return BT_OK;
    char key[SKILL_SEGMENT_MAX];
    if (skill_lead_segment(&row->lead, ds->segments, ds->n_segments, key, NULL))
        key[0] = '\0'; /* too long a key: no segment */
    (void)err;
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? 2 * ds->cap : 1024;
        ds->d = xrealloc(ds->d, ds->cap * sizeof(*ds->d));
    }
    ds->d[ds->n++] = (struct deal){xstrdup(owner), xstrdup(key), row->lead.created_at,
                                   row->label == 1, row->has_value ? row->value : 0};
    return BT_OK;
}

static int by_time(const void *a, const void *b)
{
    const struct deal *x = a, *y = b;
    return (x->created_at > y->created_at) - (x->created_at < y->created_at);
}

struct policy {
    enum strategy_kind kind;
    struct pool_state state;
    struct pool_state_entry *entries;
    struct arena arena;
    int64_t matched, wins;
    double value;
};

static bt_err step(struct policy *p, struct pool_member *m, size_t n, int64_t now, double tolerance,
                   int *chosen, struct bt_error *err)
{
    arena_release(&p->arena);
    struct strategy_input in = {.strategy = p->kind,
                                .absence = ABSENCE_NO_CATCH_UP,
                                .members = m,
                                .n_members = n,
                                .state = &p->state,
                                .now = now,
                                .window_start = 0,
                                .members_distinct = true,
                                .tolerance = tolerance};
    struct strategy_decision d;
    bt_err e = strategy_decide(&in, &p->arena, &d, err);
    if (e)
        return e;
    *chosen = d.chosen;
    if (d.chosen >= 0) {
        memcpy(p->entries, d.after.entries, d.after.n_entries * sizeof(*p->entries));
        p->state = d.after;
        p->state.entries = p->entries;
    }
    return BT_OK;
}

static bool parse_split(const char *s, int64_t *out)
{
    if (time_parse_rfc3339(s, out))
        return true;
    char buf[40];
    if (strlen(s) != 10)
        return false;
    snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
    return time_parse_rfc3339(buf, out);
}

int cli_simulate_evaluate(int argc, char **argv)
{
    static const struct option opts[] = {{"evaluate", no_argument, NULL, 'e'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"split", required_argument, NULL, 's'},
                                         {"pool", required_argument, NULL, 'p'},
                                         {"segments", required_argument, NULL, 'g'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *config_path = NULL, *split_s = NULL, *pool_id = NULL, *segs_s = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            break;
        case 'd':
            db = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 's':
            split_s = optarg;
            break;
        case 'p':
            pool_id = optarg;
            break;
        case 'g':
            segs_s = optarg;
            break;
        case 'j':
            as_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            cli_error("simulate", "unknown or incomplete option %s (see --evaluate --help)",
                      argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("simulate", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    int64_t split = 0;
    if (!db || !split_s) {
        cli_error("simulate", "--evaluate needs --db PATH and --split T");
        usage(stderr);
        return 2;
    }
    if (!parse_split(split_s, &split)) {
        cli_error("simulate", "--split: expected RFC 3339 or YYYY-MM-DD, not '%s'", split_s);
        return 2;
    }
    if (pool_id && !config_path) {
        cli_error("simulate", "--pool needs --config");
        return 2;
    }

    /* the candidates and the segment fields */
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    const struct routing_pool *pool = NULL;
    if (config_path) {
        if (config_load(config_path, &cfg, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        for (size_t p = 0; p < cfg->routing.n_pools && !pool; p++) {
            const struct routing_pool *x = &cfg->routing.pools[p];
            if (pool_id ? strcmp(x->id, pool_id) == 0 : x->strategy == STRATEGY_BEST_MATCH)
                pool = x;
        }
        if (pool_id && !pool) {
            cli_error("simulate", "no pool '%s' in %s", pool_id, config_path);
            config_unref(cfg);
            return 1;
        }
    }
    static const char *const default_segments[] = {"industry", "employees_band", "country"};
    const char *segs[EVAL_SEGMENTS_MAX];
    char *segs_buf = NULL;
    struct deals ds = {0};
    ds.segments = pool ? pool->segments : default_segments;
    ds.n_segments = pool ? pool->n_segments : 3;
    if (segs_s) {
        segs_buf = xstrdup(segs_s);
        size_t n = 0;
        for (char *save = NULL, *t = strtok_r(segs_buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (n == EVAL_SEGMENTS_MAX || !skill_segment_path_valid(t)) {
                cli_error("simulate", "--segments: '%s' is not a lead attribute or fields.NAME%s",
                          t, n == EVAL_SEGMENTS_MAX ? " (or too many fields)" : "");
                free(segs_buf);
                config_unref(cfg);
                return 2;
            }
            segs[n++] = t;
        }
        ds.segments = segs;
        ds.n_segments = n;
    }
    double tolerance = pool ? pool->tolerance : 0.2;
    bool by_value = pool && pool->objective == POOL_OBJECTIVE_VALUE;

    /* the history */
    struct store *st = NULL;
    struct store_conn *conn = NULL;
    struct store_options sopts = STORE_OPTIONS_INIT;
    struct arena scratch = ARENA_INIT;
    bt_err rc = store_open(db, &sopts, &st, &err);
    if (!rc)
        rc = store_conn_open(st, &conn, &err);
    if (!rc)
        rc = store_history_each(conn, "converted", 0, 0, &scratch, collect, &ds, &err);
    arena_release(&scratch);
    store_conn_close(conn);
    store_close(st);
    int status = 0;
    struct skill_outcome *train = NULL;
    struct skill_table *table = NULL;
    struct pool_member *m = NULL;
    struct policy pol[2] = {{.kind = STRATEGY_BEST_MATCH}, {.kind = STRATEGY_ROUND_ROBIN}};
    if (rc) {
        cli_error("simulate", "%s: %s", db, err.message);
        status = 1;
        goto done;
    }
    if (ds.n > 1)
        qsort(ds.d, ds.n, sizeof(*ds.d), by_time);
    size_t n_train = 0;
    while (n_train < ds.n && ds.d[n_train].created_at < split)
        n_train++;
    train = xcalloc(n_train + 1, sizeof(*train));
    for (size_t i = 0; i < n_train; i++)
        train[i] = (struct skill_outcome){ds.d[i].rep, ds.d[i].seg, ds.d[i].won,
                                          ds.d[i].won ? ds.d[i].value : 0};
    if ((rc = skill_table_build(train, n_train, NULL, &table, &err))) {
        cli_error("simulate", "%s", err.message);
        status = 1;
        goto done;
    }
    /* the candidates: the pool's members, else the reps of the training period */
    size_t n_members = 0;
    m = xcalloc(STRATEGY_MEMBERS_MAX, sizeof(*m));
    if (pool) {
        for (size_t i = 0; i < pool->n_members && i < STRATEGY_MEMBERS_MAX; i++) {
            const struct routing_rep *r = &cfg->routing.reps[pool->members[i]];
            m[n_members++] = (struct pool_member){.rep_id = r->id, .weight = r->weight};
        }
    } else {
        for (size_t i = 0; i < n_train; i++) {
            bool seen = false;
            for (size_t k = 0; k < n_members && !seen; k++)
                seen = strcmp(m[k].rep_id, ds.d[i].rep) == 0;
            if (!seen && n_members < STRATEGY_MEMBERS_MAX &&
                strlen(ds.d[i].rep) <= STRATEGY_REP_ID_MAX)
                m[n_members++] = (struct pool_member){.rep_id = ds.d[i].rep, .weight = 1};
        }
    }
    for (size_t k = 0; k < n_members; k++) {
        m[k].capacity = STRATEGY_UNLIMITED;
        m[k].eligible = true;
    }
    for (int k = 0; k < 2; k++)
        pol[k].entries = xcalloc(n_members + 1, sizeof(*pol[k].entries));
    int64_t test = 0, test_wins = 0;
    for (size_t i = n_train; i < ds.n && n_members; i++) {
        const struct deal *d = &ds.d[i];
        test++;
        test_wins += d->won;
        for (size_t k = 0; k < n_members; k++) {
            struct skill_estimate e;
            skill_estimate(table, m[k].rep_id, d->seg, &e);
            m[k].expected = by_value ? e.p * e.value : e.p;
        }
        for (int k = 0; k < 2; k++) {
            int chosen;
            if ((rc = step(&pol[k], m, n_members, d->created_at > 0 ? d->created_at : 1, tolerance,
                           &chosen, &err))) {
                cli_error("simulate", "%s", err.message);
                status = 1;
                goto done;
            }
            if (chosen >= 0 && strcmp(m[chosen].rep_id, d->rep) == 0) {
                pol[k].matched++;
                pol[k].wins += d->won;
                pol[k].value += d->won ? d->value : 0;
            }
        }
    }
    double rate[2];
    for (int k = 0; k < 2; k++)
        rate[k] = pol[k].matched ? (double)pol[k].wins / (double)pol[k].matched : NAN;
    const char *note = "a replay estimate is only as good as the number of deals it rests on "
                       "(matched): few matches give a wide margin of error";
    if (as_json) {
        json_t *o = json_pack(
            "{s:s s:I s:I s:I s:f s:I s:f s:{s:I s:I s:o} s:{s:I s:I s:o} s:s}", "split", split_s,
            "train_outcomes", (json_int_t)n_train, "test_deals", (json_int_t)test, "candidates",
            (json_int_t)n_members, "logged_win_rate", test ? (double)test_wins / (double)test : 0,
            "skill_outcomes", (json_int_t)skill_outcomes(table), "skill_strength",
            skill_strength(table), "best_match", "matched", (json_int_t)pol[0].matched, "wins",
            (json_int_t)pol[0].wins, "win_rate", isnan(rate[0]) ? json_null() : json_real(rate[0]),
            "round_robin", "matched", (json_int_t)pol[1].matched, "wins", (json_int_t)pol[1].wins,
            "win_rate", isnan(rate[1]) ? json_null() : json_real(rate[1]), "note", note);
        json_t *sa = json_array();
        for (size_t k = 0; k < ds.n_segments; k++)
            json_array_append_new(sa, json_string(ds.segments[k]));
        json_object_set_new(o, "segments", sa);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("history: %zu outcomes before %s (skill from them, k=%.1f), %lld closed deals "
               "after it (logged win rate %.1f%%), %zu candidate reps\n",
               n_train, split_s, skill_strength(table), (long long)test,
               test ? 100.0 * (double)test_wins / (double)test : 0, n_members);
        const char *names[2] = {"best_match", "round_robin"};
        for (int k = 0; k < 2; k++) {
            if (pol[k].matched)
                printf("%-12s win rate %.1f%% on %lld matched deals (%lld won)\n", names[k],
                       100 * rate[k], (long long)pol[k].matched, (long long)pol[k].wins);
            else
                printf("%-12s no deal matched: no estimate\n", names[k]);
        }
        printf("note: %s.\n", note);
    }
done:
    for (int k = 0; k < 2; k++) {
        arena_release(&pol[k].arena);
        free(pol[k].entries);
    }
    free(m);
    skill_table_free(table);
    free(train);
    for (size_t i = 0; i < ds.n; i++) {
        free(ds.d[i].rep);
        free(ds.d[i].seg);
    }
    free(ds.d);
    free(segs_buf);
    config_unref(cfg);
    return status;
}
