/*
 * cli_route.c - `baton route`: the dry run of routing. It parses the lead as
 * `baton score` does and runs it through the daemon's own decision pipeline
 * (core/decide.h: account match against an accounts CSV when one is given,
 * score, qualification, routing), with the reps' and pools' state taken from
 * a JSON file instead of the store. It prints the decision record exactly as
 * the daemon would store it; no database is touched. This file does only
 * the I/O: options, the state file, the accounts file, the output.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/account_csv.h"
#include "core/account_match.h"
#include "core/decide.h"
#include "core/routing_json.h"
#include "server/lead_json.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX        (16 * 1024 * 1024)  /* bytes of a state file */
#define ACCOUNTS_MAX     (512 * 1024 * 1024) /* bytes of an accounts CSV */
#define TIME_OFF_MAX     1000                /* spans per rep, as the store lists them */
#define STATE_REASON_MAX 1000                /* as the API's status reason */

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: baton route --config FILE [--now TIME] [--state STATE.json]\n"
        "                   [--accounts ACCOUNTS.csv] [--force] [LEAD.json | -]\n"
        "\n"
        "Routes one lead without a database and prints, as JSON, the decision record\n"
        "the daemon would store: the rules tried, every candidate rep with the reason\n"
        "it was or was not eligible, the pool strategy's state before and after, and\n"
        "the rep chosen or why the lead would be held, and the SLA policy the\n"
        "assignment would get with its accept_by (\"sla\"). The lead is parsed, scored and\n"
        "qualified exactly as by `baton score` (same input: a lead as POST /v1/leads\n"
        "takes it, or {\"lead\": {...}, \"activities\": [...], \"stage\": \"recycled\",\n"
        "\"owner\": \"rep.id\"}); only a lead that is mql after qualification is routed.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE        configuration with a routing section\n"
        "      --now TIME           route as of this RFC 3339 time (default: now); it\n"
        "                           decides working hours, holidays, caps and windows\n"
        "      --state STATE.json   the reps' and pools' state (default: every rep\n"
        "                           available with nothing assigned, every pool fresh):\n"
        "        {\"reps\": {\"REP\": {\"status\": \"away\", \"until\": TIME, \"reason\": TEXT,\n"
        "                          \"open\": 12, \"today\": 3, \"this_week\": 9,\n"
        "                          \"time_off\": [{\"from\": TIME, \"to\": TIME}]}},\n"
        "         \"pools\": {\"POOL\": STATE},\n"
        "         \"exclude\": [\"REP\", ...]}\n"
        "                           every key optional; STATE is a pool state as\n"
        "                           GET /v1/pools/ID shows it under \"state\", or as a\n"
        "                           decision record shows it under strategy.after\n"
        "      --accounts FILE.csv  accounts to match the lead against (the CSV of\n"
        "                           `baton import accounts`: id, name, domains,\n"
        "                           website, country, owner)\n"
        "      --force              route the lead as if it were mql even when\n"
        "                           qualification leaves it at another stage\n"
        "  -h, --help               show this help\n"
        "\n"
        "A lead that is not mql is not routed: the output is its score and stage,\n"
        "with result \"not_routed\", and the exit status 0. Errors go to standard\n"
        "error with exit status 1 (2 for a wrong command line).\n"
        "\n"
        "Example: who would get this German lead on a Tuesday morning, with Katrin away?\n"
        "  echo '{\"lead\": {\"email\": \"anna@spedition.example\", \"country\": \"DE\",\n"
        "         \"employees\": 300, \"title\": \"CEO\"},\n"
        "         \"activities\": [{\"type\": \"demo_request\",\n"
        "                         \"occurred_at\": \"2026-11-24T08:00:00Z\"}]}' |\n"
        "  baton route --config baton.yaml --now 2026-11-24T09:30:00Z \\\n"
        "              --state <(echo '{\"reps\": {\"katrin.vogel\": {\"status\": "
        "\"away\"}}}')\n");
}

/* ---- the state file ---- */

struct route_state {
    struct rep_runtime **reps; /* per config rep; NULL: fresh */
    struct pool_state **pools; /* per config pool; NULL: fresh */
    const char **excluded;
    size_t n_excluded;
};

static bt_err state_rep(void *ctx, size_t rep, const struct rep_runtime **out, struct bt_error *err)
{
    struct route_state *s = ctx;
    *out = s->reps[rep]; /* NULL: a fresh rep */
    return BT_OK;
}

static bt_err state_pool(void *ctx, size_t pool, const struct pool_state **out, json_t **discarded,
                         struct bt_error *err)
{
    struct route_state *s = ctx;
    *out = s->pools[pool]; /* NULL: a pool that never decided */
    return BT_OK;
}

static bt_err state_excluded(void *ctx, const char *const **ids, size_t *n, struct bt_error *err)
{
    struct route_state *s = ctx;
    *ids = s->excluded;
    *n = s->n_excluded;
    return BT_OK;
}

static const char *kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "a whole number";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static bt_err get_count(const json_t *v, const char *path, int64_t *out, struct bt_error *err)
{
    if (!json_is_integer(v))
        return bt_fail(err, BT_EINVAL, path, "%s: expected a whole number from 0 to %d, not %s",
                       path, STRATEGY_COUNT_MAX, kind_of(v));
    if (json_integer_value(v) < 0 || json_integer_value(v) > STRATEGY_COUNT_MAX)
        return bt_fail(err, BT_EINVAL, path, "%s: expected a whole number from 0 to %d, not %lld",
                       path, STRATEGY_COUNT_MAX, (long long)json_integer_value(v));
    *out = (int64_t)json_integer_value(v);
    return BT_OK;
}

static bt_err get_time(const json_t *v, const char *path, int64_t *out, struct bt_error *err)
{
    if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), out))
        return bt_fail(err, BT_EINVAL, path,
                       "%s: expected an RFC 3339 time such as \"2026-11-24T09:00:00Z\"", path);
    return BT_OK;
}

static bt_err parse_time_off(const json_t *list, const char *path, struct arena *a,
                             struct rep_runtime *rt, struct bt_error *err)
{
    if (!json_is_array(list))
        return bt_fail(err, BT_EINVAL, path,
                       "%s: expected a list of {\"from\": TIME, \"to\": TIME}, not %s", path,
                       kind_of(list));
    size_t n = json_array_size(list);
    if (n > TIME_OFF_MAX)
        return bt_fail(err, BT_EINVAL, path, "%s: at most %d spans", path, TIME_OFF_MAX);
    struct time_off_span *spans = arena_alloc(a, (n ? n : 1) * sizeof(*spans));
    if (!spans)
        return bt_fail(err, BT_ETOOBIG, path, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const json_t *span = json_array_get(list, i);
        char here[160];
        snprintf(here, sizeof(here), "%.120s[%zu]", path, i);
        if (!json_is_object(span))
            return bt_fail(err, BT_EINVAL, here, "%s: expected {\"from\": TIME, \"to\": TIME}",
                           here);
        bool has_from = false, has_to = false;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)span, key, v)
        {
            char field[200];
            snprintf(field, sizeof(field), "%.160s.%.32s", here, key);
            bt_err rc = BT_OK;
            if (!strcmp(key, "from")) {
                has_from = true;
                rc = get_time(v, field, &spans[i].from_ms, err);
            } else if (!strcmp(key, "to")) {
                has_to = true;
                rc = get_time(v, field, &spans[i].to_ms, err);
            } else if (strcmp(key, "id") && strcmp(key, "reason") && strcmp(key, "created_by")) {
                /* id, reason and created_by: as GET /v1/reps/ID lists them; ignored */
                rc = bt_fail(err, BT_EINVAL, field,
                             "%s: unknown key; time off has from and to (and reason)", field);
            }
            if (rc)
                return rc;
        }
        if (!has_from || !has_to)
            return bt_fail(err, BT_EINVAL, here, "%s: time off needs from and to", here);
        if (spans[i].to_ms <= spans[i].from_ms)
            return bt_fail(err, BT_EINVAL, here, "%s: to must be after from", here);
    }
    rt->time_off.spans = spans;
    rt->time_off.count = n;
    return BT_OK;
}

static bt_err parse_rep(const struct config *cfg, size_t index, const json_t *o, int64_t now,
                        struct arena *a, struct rep_runtime **out, struct bt_error *err)
{
    const struct routing_rep *rep = &cfg->routing.reps[index];
    char path[80];
    snprintf(path, sizeof(path), "reps.%.70s", rep->id);
    if (!json_is_object(o))
        return bt_fail(err, BT_EINVAL, path,
                       "%s: expected an object such as {\"status\": \"away\", \"open\": 3}, not %s",
                       path, kind_of(o));
    struct rep_runtime *rt = arena_alloc(a, sizeof(*rt));
    if (!rt)
        return bt_fail(err, BT_ETOOBIG, path, "%s: out of memory", path);
    *rt = (struct rep_runtime)REP_RUNTIME_INIT;
    bool has_today = false, has_week = false;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        char field[120];
        snprintf(field, sizeof(field), "%.80s.%.32s", path, key);
        bt_err rc = BT_OK;
        if (!strcmp(key, "status")) {
            if (!rep_status_parse(json_string_value(v), &rt->status))
                rc = bt_fail(err, BT_EINVAL, field, "%s: expected available, away or offline",
                             field);
        } else if (!strcmp(key, "until")) {
            if (!json_is_null(v))
                rc = get_time(v, field, &rt->status_until, err);
        } else if (!strcmp(key, "reason")) {
            const char *s = json_string_value(v);
            if (!json_is_null(v) && (!s || strlen(s) > STATE_REASON_MAX))
                rc = bt_fail(err, BT_EINVAL, field, "%s: expected text of at most %d bytes", field,
                             STATE_REASON_MAX);
            else
                rt->status_reason = s ? arena_strdup(a, s) : NULL;
        } else if (!strcmp(key, "open")) {
            rc = get_count(v, field, &rt->open, err);
        } else if (!strcmp(key, "today")) {
            has_today = true;
            rc = get_count(v, field, &rt->day_count, err);
        } else if (!strcmp(key, "this_week")) {
            has_week = true;
            rc = get_count(v, field, &rt->week_count, err);
        } else if (!strcmp(key, "time_off")) {
            rc = parse_time_off(v, field, a, rt, err);
        } else {
            rc = bt_fail(err, BT_EINVAL, field,
                         "%s: unknown key; a rep's state has status, until, reason, open, "
                         "today, this_week and time_off",
                         field);
        }
        if (rc)
            return rc;
    }
    if (rt->status_until && rt->status == REP_AVAILABLE)
        return bt_fail(err, BT_EINVAL, path,
                       "%s.until: applies to away and offline (the status ends then)", path);
    if (!has_week)
        rt->week_count = rt->day_count;
    else if (has_today && rt->week_count < rt->day_count)
        return bt_fail(err, BT_EINVAL, path,
                       "%s.this_week: %lld is less than today (%lld); today's assignments count "
                       "in the week too",
                       path, (long long)rt->week_count, (long long)rt->day_count);
    /* The counts are for the rep's current local day and week at --now. */
    routing_rep_periods(rep, now, &rt->day_start, &rt->week_start);
    *out = rt;
    return BT_OK;
}

static bt_err parse_pool(const struct config *cfg, size_t index, const json_t *o, struct arena *a,
                         struct pool_state **out, struct bt_error *err)
{
    const char *id = cfg->routing.pools[index].id;
    if (json_is_null(o))
        return BT_OK; /* as GET /v1/pools/ID shows a pool that never decided */
    struct pool_state *st = arena_alloc(a, sizeof(*st));
    if (!st)
        return bt_fail(err, BT_ETOOBIG, "pools", "pools.%s: out of memory", id);
    bt_err rc = pool_state_from_json(o, a, st, err);
    if (rc) {
        char message[sizeof(err->message)];
        snprintf(message, sizeof(message), "%s", err->message);
        return bt_fail(err, rc, "pools", "pools.%s: %s", id, message);
    }
    *out = st;
    return BT_OK;
}

static bt_err parse_state(const struct config *cfg, const char *text, size_t len, int64_t now,
                          struct arena *a, struct route_state *s, struct bt_error *err)
{
    const struct routing_config *rc = &cfg->routing;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_fail(err, BT_EPARSE, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    bt_err e = BT_OK;
    if (!json_is_object(root)) {
        e = bt_fail(err, BT_EINVAL, NULL, "expected an object with reps, pools and exclude, not %s",
                    kind_of(root));
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "reps") || !strcmp(key, "pools")) {
            bool reps = key[0] == 'r';
            if (!json_is_object(v)) {
                e = bt_fail(err, BT_EINVAL, key, "%s: expected an object keyed by %s id, not %s",
                            key, reps ? "rep" : "pool", kind_of(v));
                goto out;
            }
            const char *id;
            json_t *item;
            json_object_foreach(v, id, item)
            {
                long i = reps ? routing_find_rep(rc, id) : routing_find_pool(rc, id);
                if (i < 0) {
                    e = bt_fail(err, BT_ENOTFOUND, key, "%s: no %s '%.64s' in the configuration",
                                key, reps ? "rep" : "pool", id);
                    goto out;
                }
                e = reps ? parse_rep(cfg, (size_t)i, item, now, a, &s->reps[i], err)
                         : parse_pool(cfg, (size_t)i, item, a, &s->pools[i], err);
                if (e)
                    goto out;
            }
        } else if (!strcmp(key, "exclude")) {
            size_t n = json_array_size(v);
            if (!json_is_array(v)) {
                e = bt_fail(err, BT_EINVAL, key, "exclude: expected a list of rep ids, not %s",
                            kind_of(v));
                goto out;
            }
            s->excluded = arena_alloc(a, (n ? n : 1) * sizeof(*s->excluded));
            if (!s->excluded) {
                e = bt_fail(err, BT_ETOOBIG, key, "exclude: out of memory");
                goto out;
            }
            for (size_t i = 0; i < n; i++) {
                const char *id = json_string_value(json_array_get(v, i));
                long r = id ? routing_find_rep(rc, id) : -1;
                if (r < 0) {
                    e = id ? bt_fail(err, BT_ENOTFOUND, key,
                                     "exclude[%zu]: no rep '%.64s' in the configuration", i, id)
                           : bt_fail(err, BT_EINVAL, key, "exclude[%zu]: expected a rep id", i);
                    goto out;
                }
                s->excluded[s->n_excluded++] = rc->reps[r].id;
            }
        } else {
            e = bt_fail(err, BT_EINVAL, key,
                        "unknown key '%.64s'; expected reps, pools and exclude", key);
            goto out;
        }
    }
out:
    json_decref(root);
    return e;
}

/* ---- accounts ---- */

struct account_list {
    struct arena *arena;
    struct account *items;
    size_t n, cap;
};

static const char *copy_or_null(struct arena *a, const char *s)
{
    return s ? arena_strdup(a, s) : NULL;
}

static bt_err account_row(void *cls, const struct account_csv_row *row, struct bt_error *err)
{
    struct account_list *l = cls;
    if (row->rc)
        return bt_fail(err, row->rc, row->err.field, "%s", row->err.message);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    const struct account *in = &row->account;
    struct account *out = &l->items[l->n];
    const char **domains =
        arena_alloc(l->arena, (in->n_domains ? in->n_domains : 1) * sizeof(*domains));
    if (!domains)
        return bt_fail(err, BT_ETOOBIG, NULL, "line %zu: out of memory", row->line);
    for (size_t i = 0; i < in->n_domains; i++)
        domains[i] = arena_strdup(l->arena, in->domains[i]);
    *out = (struct account){
        .id = arena_strdup(l->arena, in->id),
        .name = copy_or_null(l->arena, in->name),
        .domains = domains,
        .n_domains = in->n_domains,
        .website = copy_or_null(l->arena, in->website),
        .country = copy_or_null(l->arena, in->country),
        .owner = copy_or_null(l->arena, in->owner),
    };
    l->n++;
    return BT_OK;
}

/* Reads the CSV at `path` into an index, as the daemon's accounts would be. */
static bool load_accounts(const struct config *cfg, const char *path, struct arena *a,
                          struct account_index **out)
{
    size_t len;
    char *data = cli_read_file("route", path, ACCOUNTS_MAX, &len);
    if (!data)
        return false;
    struct account_list list = {.arena = a};
    struct bt_error err = BT_ERROR_INIT;
    struct account_index_options opts = {.name_threshold = cfg->account_name_threshold};
    bool ok = !account_csv_parse(data, len, account_row, &list, &err) &&
              !account_index_new(list.items, list.n, &opts, out, &err);
    if (!ok)
        cli_error("route", "%s: %s", path, err.message);
    free(list.items);
    free(data);
    return ok;
}

/* ---- the dry run ---- */

struct route_options {
    int64_t now;
    bool force;
    const char *config_path;
};

static void print_json(json_t *out)
{
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    printf("%s\n", s);
    free(s);
    json_decref(out);
}

static int route_lead(const struct config *cfg, const struct route_options *o, struct cli_lead *in,
                      struct route_state *state, const struct account_index *accounts,
                      struct arena *a)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead *lead = &in->lead;
    struct decide_input din = {
        .model = &cfg->decide,
        .lead = lead,
        .acts = in->acts,
        .n_acts = in->n_acts,
        .accounts = accounts,
        .route = o->force ? DECIDE_ROUTE_ALWAYS : DECIDE_ROUTE_IF_MQL,
        .state = {.rep_runtime = state_rep,
                  .pool_state = state_pool,
                  .excluded = state_excluded,
                  .ctx = state},
        .now = o->now,
        .strict_state = true, /* a pool state from --state that the strategy refuses */
    };
    struct decide_result r;
    if (decide_lead(&din, a, &r, &err)) {
        cli_error("route", "cannot route the lead: %s", err.message);
        return 1;
    }
    if (r.routed) {
        print_json(json_incref(r.record));
        decide_result_release(&r);
        return 0;
    }
    char message[160];
    snprintf(message, sizeof(message), "not routed: the lead is %s, only mql leads are routed",
             stage_name(r.stage));
    const struct lifecycle_decision *q = &r.qualification;
    json_t *qual = json_pack("{s:s, s:s, s:b}", "stage", stage_name(r.from), "to",
                             stage_name(r.stage), "change", q->change);
    json_object_set_new(qual, "reason", q->reason ? json_string(q->reason) : json_null());
    json_object_set_new(qual, "rule", q->rule ? json_string(q->rule) : json_null());
    json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:o}", "result", "not_routed", "message", message,
                            "lead", lead_to_json(lead), "qualification", qual, "warnings",
                            cli_warnings_json(&in->report));
    json_t *account = decide_account_json(lead, &r);
    if (account)
        json_object_set_new(out, "account", account);
    json_object_set_new(out, "config_version", json_string(cfg->version));
    json_object_set_new(out, "at", time_to_json(o->now));
    print_json(out);
    decide_result_release(&r);
    cli_error("route", "%s (--force routes it anyway)", message);
    return 0;
}

int cli_route(int argc, char **argv)
{
    enum { OPT_NOW = 256, OPT_STATE, OPT_ACCOUNTS, OPT_FORCE };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"now", required_argument, NULL, OPT_NOW},
        {"state", required_argument, NULL, OPT_STATE},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct route_options o = {.now = clock_now(clock_real())};
    const char *state_path = NULL, *accounts_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config_path = optarg;
            break;
        case OPT_NOW:
            if (!time_parse_rfc3339(optarg, &o.now)) {
                cli_error("route",
                          "--now needs an RFC 3339 time such as 2026-11-24T09:30:00Z, "
                          "not '%s'",
                          optarg);
                return 2;
            }
            break;
        case OPT_STATE:
            state_path = optarg;
            break;
        case OPT_ACCOUNTS:
            accounts_path = optarg;
            break;
        case OPT_FORCE:
            o.force = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.config_path) {
        cli_error("route", "--config FILE is required");
        usage(stderr);
        return 2;
    }
    if (optind < argc - 1) {
        cli_error("route", "one lead at a time: a file or '-', not %d", argc - optind);
        usage(stderr);
        return 2;
    }
    const char *input = optind < argc ? argv[optind] : "-";
    if (state_path && !strcmp(state_path, "-") && !strcmp(input, "-")) {
        cli_error("route", "the lead and --state cannot both be read from standard input");
        return 2;
    }

    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(o.config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int status = 1;
    struct arena a = ARENA_INIT;
    struct account_index *accounts = NULL;
    char *text = NULL, *state_text = NULL;
    size_t len = 0, state_len = 0;
    const struct routing_config *rc = &cfg->routing;
    if (rc->n_rules == 0) {
        cli_error("route",
                  "routing is off: %s has no routing rules (add a routing section; see "
                  "docs/routing.md)",
                  o.config_path);
        goto out;
    }
    struct route_state state = {
        .reps = arena_alloc(&a, (rc->n_reps ? rc->n_reps : 1) * sizeof(*state.reps)),
        .pools = arena_alloc(&a, (rc->n_pools ? rc->n_pools : 1) * sizeof(*state.pools)),
    };
    if (!state.reps || !state.pools) {
        cli_error("route", "out of memory");
        goto out;
    }
    memset(state.reps, 0, (rc->n_reps ? rc->n_reps : 1) * sizeof(*state.reps));
    memset(state.pools, 0, (rc->n_pools ? rc->n_pools : 1) * sizeof(*state.pools));
    if (state_path) {
        if (!(state_text = cli_read_file("route", state_path, STATE_MAX, &state_len)))
            goto out;
        if (parse_state(cfg, state_text, state_len, o.now, &a, &state, &err)) {
            cli_error("route", "%s: %s", state_path, err.message);
            goto out;
        }
    }
    if (accounts_path && !load_accounts(cfg, accounts_path, &a, &accounts))
        goto out;
    if (!(text = cli_read_file("route", input, CLI_LEAD_INPUT_MAX, &len)))
        goto out;
    struct cli_lead lead;
    if (cli_lead_parse(cfg, text, len, o.now, &a, &lead, &err)) {
        cli_error("route", "%s%s%s", err.field[0] ? err.field : "", err.field[0] ? ": " : "",
                  err.message);
        goto out;
    }
    status = route_lead(cfg, &o, &lead, &state, accounts, &a);
out:
    account_index_free(accounts);
    free(text);
    free(state_text);
    arena_release(&a);
    config_unref(cfg);
    return status;
}
