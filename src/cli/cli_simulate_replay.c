/*
 * cli_simulate_replay.c - `baton simulate --db PATH --config CANDIDATE.yaml`:
 * what a candidate configuration would have changed on the stored history.
 *
 * The database is opened read-only (store_options.read_only) and read in
 * one snapshot (store_replay.h), so nothing can be written and a running
 * daemon is not disturbed. Each lead created in [--since, --until) is
 * replayed in created order through the daemon's own pipeline
 * (core/decide.h decide_lead, as cli_route.c and the engine call it) at the
 * time it was decided (its first stored decision's `at`, else its
 * created_at), with the activities that had occurred by then. The state
 * routing reads is kept here in memory as the replay goes: every pool starts
 * fresh and carries its strategy's state from one decision to the next;
 * every rep starts available with nothing open, and each assignment of the
 * replay adds to its open count and its day and week counts (the replay does
 * not know when an assignment would have been accepted or closed, nor the
 * reps' absences or time off: none is applied).
 *
 * Each lead's outcome is compared (core/whatif.h) with what was stored (its
 * first decision record; its stored score) or, with --baseline FILE, with the
 * same replay under that configuration. Scores are compared at the time of
 * the stored score (its scored_at; the decision time for a lead never
 * scored), with the activities that had occurred by then, so that an
 * unchanged configuration shows no differences.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/decide.h"
#include "core/whatif.h"
#include "server/lead_json.h"
#include "store/store_replay.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_DEFAULT  20
#define LIMIT_MAX      100000
#define PROGRESS_EVERY 1000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton simulate --db PATH --config CANDIDATE.yaml [--baseline CURRENT.yaml]\n"
            "                      [--since T] [--until T] [--limit N] [--json]\n"
            "\n"
            "What-if on history: replays the stored leads created in [--since, --until), oldest\n"
            "first, with their activities, through the same decision pipeline as the daemon\n"
            "(score, qualification, routing, SLA policy) under the candidate configuration,\n"
            "and prints what would change: the leads whose score, grade, stage, pool, owner,\n"
            "SLA policy or hold differ (before -> after, with the rules that decided), each\n"
            "rep's load and its deviation from the fair share, and the holds. The database is\n"
            "opened read-only: nothing is written, and it may be in use by baton serve.\n"
            "\n"
            "Options:\n"
            "      --db PATH            the database baton serve keeps\n"
            "  -c, --config FILE        the candidate configuration\n"
            "      --baseline FILE      compare with this configuration replayed the same way\n"
            "                           (default: with what was stored: each lead's first\n"
            "                           routing decision and its stored score)\n"
            "      --since T            only leads created at or after T (RFC 3339, or a date\n"
            "                           YYYY-MM-DD: its midnight UTC)\n"
            "      --until T            only leads created before T\n"
            "      --limit N            differing leads to list (default %d; 0: none)\n"
            "      --json               print one JSON document instead of text\n"
            "  -h, --help               show this help\n"
            "\n"
            "The replay starts every pool fresh and every rep available with nothing open;\n"
            "it keeps the pools' state and the reps' open, daily and weekly counts as it\n"
            "goes (assignments are never closed; absences and time off are not applied).\n"
            "Exit status 0 (also when something differs), 1 for a bad configuration or\n"
            "database, 2 for a wrong command line.\n",
            LIMIT_DEFAULT);
}

/* ---- one configuration's replay ---- */

struct pool_slot {
    struct arena arena; /* holds state's strings and entries */
    struct pool_state state;
    bool set;
};

struct replay {
    struct config *cfg;
    struct decide_scratch *scratch;
    struct score_scratch *score_scratch;
    struct rep_runtime *reps; /* per config rep */
    struct pool_slot *pools;  /* per config pool */
};

static bt_err replay_rep(void *ctx, size_t rep, const struct rep_runtime **out,
                         struct bt_error *err)
{
    struct replay *r = ctx;
    *out = &r->reps[rep];
    return BT_OK;
}

static bt_err replay_pool(void *ctx, size_t pool, const struct pool_state **out, json_t **discarded,
                          struct bt_error *err)
{
    struct replay *r = ctx;
    *out = r->pools[pool].set ? &r->pools[pool].state : NULL;
    return BT_OK;
}

static void replay_init(struct replay *r, struct config *cfg)
{
    const struct routing_config *rc = &cfg->routing;
    r->cfg = cfg;
    r->scratch = decide_scratch_new(&cfg->decide);
    r->score_scratch = score_scratch_new(cfg->decide.scoring);
    r->reps = xcalloc(rc->n_reps ? rc->n_reps : 1, sizeof(*r->reps));
    for (size_t i = 0; i < rc->n_reps; i++)
        r->reps[i] = (struct rep_runtime)REP_RUNTIME_INIT;
    r->pools = xcalloc(rc->n_pools ? rc->n_pools : 1, sizeof(*r->pools));
}

static void replay_release(struct replay *r)
{
    if (!r->cfg)
        return;
    for (size_t i = 0; i < r->cfg->routing.n_pools; i++)
        arena_release(&r->pools[i].arena);
    free(r->pools);
    free(r->reps);
    score_scratch_free(r->score_scratch);
    decide_scratch_free(r->scratch);
}

/* Keeps the strategy's state after the decision, copied out of the lead's
 * arena into the pool's own (the old copy is dropped). */
static bt_err keep_pool_state(struct pool_slot *slot, const struct pool_state *after,
                              struct bt_error *err)
{
    struct arena fresh = ARENA_INIT;
    struct pool_state st = *after;
    st.last_rep_id = arena_strdup(&fresh, after->last_rep_id);
    st.entries = NULL;
    if (after->n_entries) {
        struct pool_state_entry *e = arena_alloc(&fresh, after->n_entries * sizeof(*e));
        if (!e) {
            arena_release(&fresh);
            return bt_fail(err, BT_ETOOBIG, NULL, "a pool's state: out of memory");
        }
        for (size_t i = 0; i < after->n_entries; i++) {
            e[i] = after->entries[i];
            e[i].rep_id = arena_strdup(&fresh, after->entries[i].rep_id);
        }
        st.entries = e;
    }
    arena_release(&slot->arena);
    slot->arena = fresh;
    slot->state = st;
    slot->set = true;
    return BT_OK;
}

/* What the decision changes in the replay's state: the pool's strategy
 * state, the rep's counts. */
static bt_err apply(struct replay *r, const struct decide_result *d, struct bt_error *err)
{
    if (!d->routed || d->route.result != ROUTE_ASSIGNED)
        return BT_OK;
    const struct route_decision *rd = &d->route;
    if (rd->has_strategy && rd->pool >= 0) {
        bt_err e = keep_pool_state(&r->pools[rd->pool], &rd->strategy.after, err);
        if (e)
            return e;
    }
    if (rd->rep >= 0) {
        struct rep_runtime *rt = &r->reps[rd->rep];
        rt->open++;
        rt->day_start = d->day_start;
        rt->day_count = d->day_count;
        rt->week_start = d->week_start;
        rt->week_count = d->week_count;
    }
    return BT_OK;
}

/* ---- outcomes ---- */

/* The activities that had occurred by `t` (acts are newest first). */
static size_t acts_by(const struct activity *acts, size_t n, int64_t t,
                      const struct activity **from)
{
    size_t skip = 0;
    while (skip < n && acts[skip].occurred_at > t)
        skip++;
    *from = acts + skip;
    return n - skip;
}

/* The stage a stored lead was at when it was decided (what the replay can
 * compare): assigned or mql from its first decision; else its stored stage. */
static const char *stored_stage(const struct store_replay_lead *row)
{
    if (row->decided)
        return row->decision.result && !strcmp(row->decision.result, "assigned")
                   ? stage_name(STAGE_ASSIGNED)
                   : stage_name(STAGE_MQL);
    return stage_name(decide_stage_of(&row->lead));
}

static bool stage_qualified(const char *stage)
{
    enum lead_stage s;
    return stage_parse(stage, &s) && s != STAGE_NEW && s != STAGE_DISQUALIFIED;
}

static const char *json_text(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Before, from what was stored. */
static void outcome_stored(const struct store_replay_lead *row, struct whatif_outcome *o)
{
    const struct lead *l = &row->lead;
    *o = (struct whatif_outcome){
        .scored = l->score.scored,
        .score = l->score.total,
        .grade = l->score.scored ? l->score.grade : NULL,
        .stage = stored_stage(row),
    };
    o->qualified = stage_qualified(o->stage);
    if (!row->decided)
        return;
    const struct store_decision *d = &row->decision;
    o->result = d->result;
    o->pool = d->pool_id;
    o->owner = d->rep_id;
    o->rule = d->rule;
    o->config_version = d->config_version;
    o->sla_policy = row->sla_policy;
    o->hold_reason = row->hold_reason;
    o->summary = row->summary;
}

/* After (or a baseline's before), from the replay's decision. */
static void outcome_decided(const struct replay *r, const struct decide_result *d,
                            const struct score_result *score, struct whatif_outcome *o)
{
    const struct routing_config *rc = &r->cfg->routing;
    const struct sla_config *sla = r->cfg->decide.sla;
    *o = (struct whatif_outcome){
        .scored = true,
        .score = score->total,
        .grade = score->grade,
        .stage = stage_name(d->stage),
        .qualified = d->stage != STAGE_NEW && d->stage != STAGE_DISQUALIFIED,
        .config_version = r->cfg->version,
    };
    if (!d->routed)
        return;
    const struct route_decision *rd = &d->route;
    bool assigned = rd->result == ROUTE_ASSIGNED;
    o->result = assigned ? "assigned" : "held";
    if (assigned)
        o->stage = stage_name(STAGE_ASSIGNED);
    o->pool = rd->pool >= 0 ? rc->pools[rd->pool].id : NULL;
    o->owner = rd->rep_id;
    o->rule = rd->rule >= 0 ? rc->rules[rd->rule].name : NULL;
    if (assigned && sla && d->sla_policy >= 0 && (size_t)d->sla_policy < sla->n_policies)
        o->sla_policy = sla->policies[d->sla_policy].name;
    o->hold_reason = assigned ? NULL : d->hold_reason;
    o->summary = rd->summary;
}

/* ---- the walk ---- */

struct walk {
    struct replay candidate, baseline; /* baseline.cfg NULL: compare with the store */
    struct whatif *whatif;
    int64_t total; /* leads in the range, for the progress line */
    bool progress;
    uint64_t done;
};

/*
 * Replays one lead under one configuration: the decision at `t`, then the
 * score at `score_at` (the time of the stored score). The lead is a copy
 * of the stored one as intake saw it: stage new, no owner.
 */
static bt_err replay_one(struct replay *r, const struct store_replay_lead *row, int64_t t,
                         int64_t score_at, struct arena *a, struct decide_result *d,
                         struct score_result *score, struct bt_error *err)
{
    struct lead *lead = arena_alloc(a, sizeof(*lead));
    if (!lead)
        return bt_fail(err, BT_ETOOBIG, NULL, "lead %lld: out of memory", (long long)row->lead.id);
    *lead = row->lead;
    lead->attr[LEAD_STAGE] = stage_name(STAGE_NEW);
    lead->attr[LEAD_OWNER] = NULL;
    lead->score = (struct lead_score){0};
    const struct activity *acts;
    size_t n = acts_by(row->acts, row->n_acts, t, &acts);
    struct decide_input in = {
        .model = &r->cfg->decide,
        .lead = lead,
        .acts = acts,
        .n_acts = n,
        .route = DECIDE_ROUTE_IF_MQL,
        .state = {.rep_runtime = replay_rep, .pool_state = replay_pool, .ctx = r},
        .now = t,
        .scratch = r->scratch,
    };
    bt_err e = decide_lead(&in, a, d, err);
    if (e)
        return e;
    if ((e = apply(r, d, err))) {
        decide_result_release(d);
        return e;
    }
    *score = *d->score;
    if (score_at != t) {
        n = acts_by(row->acts, row->n_acts, score_at, &acts);
        e = score_lead(r->cfg->decide.scoring, lead, acts, n, score_at, r->score_scratch, a, score);
        if (e) {
            decide_result_release(d);
            return bt_fail(err, e, NULL, "lead %lld: out of memory", (long long)row->lead.id);
        }
    }
    return BT_OK;
}

static bt_err walk_row(void *cls, const struct store_replay_lead *row, struct bt_error *err)
{
    struct walk *w = cls;
    int64_t t = row->decided ? row->decision.at : row->lead.created_at;
    int64_t score_at = row->lead.score.scored ? row->lead.score.scored_at : t;
    struct arena a = ARENA_INIT;
    struct decide_result after, before_d;
    struct score_result after_score, before_score;
    struct whatif_outcome before, now;
    bool have_before = false;
    bt_err e = BT_OK;
    if (w->baseline.cfg) {
        if ((e = replay_one(&w->baseline, row, t, score_at, &a, &before_d, &before_score, err)))
            goto out;
        have_before = true;
        outcome_decided(&w->baseline, &before_d, &before_score, &before);
    } else {
        outcome_stored(row, &before);
    }
    if ((e = replay_one(&w->candidate, row, t, score_at, &a, &after, &after_score, err)))
        goto out;
    outcome_decided(&w->candidate, &after, &after_score, &now);
    whatif_add(w->whatif, row->lead.id, t, &before, &now);
    decide_result_release(&after);
    w->done++;
    if (w->progress && w->done % PROGRESS_EVERY == 0)
        fprintf(stderr, "\rreplaying: %" PRIu64 " / %lld leads", w->done, (long long)w->total);
out:
    if (have_before)
        decide_result_release(&before_d);
    if (e)
        bt_error_prefix(err, "lead %lld: ", (long long)row->lead.id);
    arena_release(&a);
    return e;
}

/* ---- output ---- */

static const char *or_none(const json_t *o, const char *key)
{
    const char *s = json_text(o, key);
    return s ? s : "-";
}

/* A side's decision in one line: its summary, or why there was none. */
static void print_side(const char *label, const json_t *o)
{
    const char *summary = json_text(o, "summary");
    if (summary)
        printf("    %s %s\n", label, summary);
    else
        printf("    %s not routed (stage %s)\n", label, or_none(o, "stage"));
}

static void print_lead(const json_t *l)
{
    const json_t *b = json_object_get(l, "before"), *a = json_object_get(l, "after");
    printf("  lead %lld (%s):", (long long)json_integer_value(json_object_get(l, "lead")),
           json_text(l, "at"));
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(l, "changed"), i, c)
    {
        const char *what = json_string_value(c);
        const char *key = !strcmp(what, "hold")         ? "hold_reason"
                          : !strcmp(what, "sla_policy") ? "sla_policy"
                                                        : what;
        printf("%s %s ", i ? "," : "", what);
        if (!strcmp(what, "score")) {
            const json_t *x = json_object_get(b, "score"), *y = json_object_get(a, "score");
            if (json_is_number(x))
                printf("%g", json_number_value(x));
            else
                printf("-");
            printf(" -> ");
            if (json_is_number(y))
                printf("%g", json_number_value(y));
            else
                printf("-");
        } else {
            printf("%s -> %s", or_none(b, key), or_none(a, key));
        }
    }
    printf("\n");
    print_side("before", b);
    print_side("after: ", a);
}

static const json_t *rep_in(const json_t *load, const char *rep)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(load, "reps"), i,
                       r) if (!strcmp(json_text(r, "rep"), rep)) return r;
    return NULL;
}

static void print_deviation(const char *label, const json_t *load)
{
    const json_t *d = json_object_get(load, "max_deviation");
    if (json_is_number(d))
        printf("%s %.1f%%", label, 100 * json_number_value(d));
    else
        printf("%s -", label);
}

static void print_holds(const char *label, const json_t *h)
{
    printf("%s %lld", label, (long long)json_integer_value(json_object_get(h, "total")));
    const char *k;
    const json_t *v;
    const char *sep = " (";
    json_object_foreach((json_t *)json_object_get(h, "reasons"), k, v)
    {
        printf("%s%s %lld", sep, k, (long long)json_integer_value(v));
        sep = ", ";
    }
    if (strcmp(sep, " ("))
        printf(")");
}

static void print_text(const json_t *rep, const char *compared)
{
    printf("replayed %lld leads; compared with %s\n",
           (long long)json_integer_value(json_object_get(rep, "replayed")), compared);
    printf("differing: %lld leads\n",
           (long long)json_integer_value(json_object_get(rep, "differing")));
    const json_t *ch = json_object_get(rep, "changed"), *sc = json_object_get(rep, "score_change");
    for (unsigned i = 0; i < WHATIF_CHANGES; i++) {
        const char *name = whatif_change_name(i);
        printf("  %-11s %6lld", name, (long long)json_integer_value(json_object_get(ch, name)));
        if (!strcmp(name, "score") && json_integer_value(json_object_get(ch, name)))
            printf("  (mean change %+.2f, mean |change| %.2f, max |change| %.2f on lead %lld)",
                   json_number_value(json_object_get(sc, "mean")),
                   json_number_value(json_object_get(sc, "mean_abs")),
                   json_number_value(json_object_get(sc, "max_abs")),
                   (long long)json_integer_value(json_object_get(sc, "max_lead")));
        if (!strcmp(name, "stage"))
            printf("  (qualified or not: %lld)",
                   (long long)json_integer_value(json_object_get(ch, "qualified")));
        printf("\n");
    }
    const json_t *leads = json_object_get(rep, "leads");
    if (json_array_size(leads)) {
        printf("\nfirst %zu differing leads (before -> after):\n", json_array_size(leads));
        size_t i;
        const json_t *l;
        json_array_foreach(leads, i, l) print_lead(l);
    }
    const json_t *lb = json_object_get(json_object_get(rep, "load"), "before");
    const json_t *la = json_object_get(json_object_get(rep, "load"), "after");
    printf("\nload (assigned leads): before %lld, after %lld\n",
           (long long)json_integer_value(json_object_get(lb, "assigned")),
           (long long)json_integer_value(json_object_get(la, "assigned")));
    printf("  %-24s %16s %16s %8s\n", "rep", "before", "after", "fair");
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(la, "reps"), i, r)
    {
        const json_t *rb = rep_in(lb, json_text(r, "rep"));
        char bcol[32], acol[32];
        snprintf(bcol, sizeof(bcol), "%lld (%.1f%%)",
                 (long long)json_integer_value(json_object_get(rb, "count")),
                 100 * json_number_value(json_object_get(rb, "share")));
        snprintf(acol, sizeof(acol), "%lld (%.1f%%)",
                 (long long)json_integer_value(json_object_get(r, "count")),
                 100 * json_number_value(json_object_get(r, "share")));
        printf("  %-24s %16s %16s %7.1f%%\n", json_text(r, "rep"), bcol, acol,
               100 * json_number_value(json_object_get(r, "fair_share")));
    }
    printf("  max deviation from the fair share:");
    print_deviation(" before", lb);
    print_deviation(", after", la);
    printf("\n\n");
    const json_t *h = json_object_get(rep, "holds");
    print_holds("holds: before", json_object_get(h, "before"));
    print_holds(", after", json_object_get(h, "after"));
    printf("\n");
    /* Which configurations the "before" side decided under. */
    const json_t *versions = json_object_get(json_object_get(rep, "config_versions"), "before");
    if (json_object_size(versions)) {
        printf("before: decided under configuration version");
        const char *k;
        const json_t *v;
        const char *sep = json_object_size(versions) > 1 ? "s " : " ";
        json_object_foreach((json_t *)versions, k, v)
        {
            printf("%s%s (%lld leads)", sep, k, (long long)json_integer_value(v));
            sep = ", ";
        }
        printf("\n");
    }
}

/* ---- the command ---- */

static bool parse_time_arg(const char *opt, const char *s, int64_t *out)
{
    char buf[40];
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        s = buf;
    }
    if (time_parse_rfc3339(s, out) && *out > 0)
        return true;
    cli_error("simulate",
              "%s needs an RFC 3339 time such as 2026-11-24T09:30:00Z or a date "
              "such as 2026-11-24, not '%s'",
              opt, s == buf ? buf : s);
    return false;
}

static bool load_config(const char *path, struct config **out)
{
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(path, out, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return false;
    }
    return true;
}

/* The reps whose load is tallied: the active members of the candidate's
 * pools, each with its weight. */
static struct whatif *whatif_for(const struct config *cfg, size_t limit)
{
    const struct routing_config *rc = &cfg->routing;
    const char **ids = xcalloc(rc->n_reps ? rc->n_reps : 1, sizeof(*ids));
    double *weights = xcalloc(rc->n_reps ? rc->n_reps : 1, sizeof(*weights));
    bool *member = xcalloc(rc->n_reps ? rc->n_reps : 1, sizeof(*member));
    for (size_t p = 0; p < rc->n_pools; p++)
        for (size_t m = 0; m < rc->pools[p].n_members; m++)
            member[rc->pools[p].members[m]] = true;
    size_t n = 0;
    for (size_t i = 0; i < rc->n_reps; i++)
        if (member[i] && rc->reps[i].active) {
            ids[n] = rc->reps[i].id;
            weights[n++] = rc->reps[i].weight;
        }
    struct whatif_options o = {.limit = limit, .reps = ids, .weights = weights, .n_reps = n};
    struct whatif *w = whatif_new(&o);
    free(ids);
    free(weights);
    free(member);
    return w;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int cli_simulate_replay(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_BASELINE, OPT_SINCE, OPT_UNTIL, OPT_LIMIT, OPT_JSON };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"config", required_argument, NULL, 'c'},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config_path = NULL, *baseline_path = NULL;
    int64_t since = 0, until = 0;
    size_t limit = LIMIT_DEFAULT;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            db = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case OPT_BASELINE:
            baseline_path = optarg;
            break;
        case OPT_SINCE:
            if (!parse_time_arg("--since", optarg, &since))
                return 2;
            break;
        case OPT_UNTIL:
            if (!parse_time_arg("--until", optarg, &until))
                return 2;
            break;
        case OPT_LIMIT: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || optarg[0] == '-' || v > LIMIT_MAX) {
                cli_error("simulate", "--limit needs a whole number from 0 to %d, not '%s'",
                          LIMIT_MAX, optarg);
                return 2;
            }
            limit = (size_t)v;
            break;
        }
        case OPT_JSON:
            json = true;
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
        cli_error("simulate", "unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!db || !config_path) {
        cli_error("simulate", "--db PATH and --config CANDIDATE.yaml are required");
        usage(stderr);
        return 2;
    }
    if (since && until && until <= since) {
        cli_error("simulate", "--until must be after --since");
        return 2;
    }

    int status = 1;
    struct walk w = {0};
    struct config *cfg = NULL, *base = NULL;
    struct store *st = NULL;
    struct store_conn *conn = NULL;
    json_t *report = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (!load_config(config_path, &cfg) || (baseline_path && !load_config(baseline_path, &base)))
        goto out;
    struct store_options so = STORE_OPTIONS_INIT;
    so.read_only = true;
    if (store_open(db, &so, &st, &err) || store_conn_open(st, &conn, &err)) {
        cli_error("simulate", "%s", err.message);
        goto out;
    }
    replay_init(&w.candidate, cfg);
    if (base)
        replay_init(&w.baseline, base);
    w.whatif = whatif_for(cfg, limit);
    w.progress = isatty(STDERR_FILENO);
    if (w.progress && store_replay_count(conn, since, until, &w.total, &err)) {
        cli_error("simulate", "%s", err.message);
        goto out;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t n;
    bt_err e = store_replay_each(conn, since, until, 0, walk_row, &w, &n, &err);
    double seconds = seconds_since(&t0);
    if (w.progress && w.done >= PROGRESS_EVERY)
        fprintf(stderr, "\n");
    if (e) {
        cli_error("simulate", "%s", err.message);
        goto out;
    }
    report = whatif_report(w.whatif);
    char compared[256];
    if (base)
        snprintf(compared, sizeof(compared), "the baseline %s (version %s)", baseline_path,
                 base->version);
    else
        snprintf(compared, sizeof(compared), "the stored decisions and scores");
    double rate = seconds > 0 ? (double)n / seconds : 0;
    json_t *range = json_object();
    json_object_set_new(range, "since", since ? time_to_json(since) : json_null());
    json_object_set_new(range, "until", until ? time_to_json(until) : json_null());
    json_object_set_new(report, "range", range);
    json_object_set_new(report, "candidate",
                        json_pack("{s:s, s:s}", "config", config_path, "version", cfg->version));
    json_object_set_new(
        report, "baseline",
        base ? json_pack("{s:s, s:s}", "config", baseline_path, "version", base->version)
             : json_pack("{s:s}", "from", "store"));
    json_object_set_new(report, "throughput",
                        json_pack("{s:f, s:f}", "seconds", seconds, "leads_per_second", rate));
    if (json) {
        char *s = json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        printf("%s\n", s);
        free(s);
    } else {
        printf("candidate %s (version %s)\n", config_path, cfg->version);
        print_text(report, compared);
        printf("\nthroughput: %" PRIu64 " leads in %.3f s (%.0f leads/s)\n", n, seconds, rate);
    }
    status = 0;
out:
    json_decref(report);
    whatif_free(w.whatif);
    replay_release(&w.candidate);
    replay_release(&w.baseline);
    store_conn_close(conn);
    store_close(st);
    config_unref(cfg);
    config_unref(base);
    return status;
}
