/*
 * test_config_diff.c - what a reload would change: items of each kind added,
 * removed and changed by name, settings live and restart-only (compared
 * with the configuration the daemon started with), the one line and the
 * JSON, both bounded; the example file cut at 5,000 bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char base_yaml[] = "version: 1\n"
                                "server:\n"
                                "  listen: 127.0.0.1:8080\n"
                                "scoring:\n"
                                "  fit:\n"
                                "    - group: size\n"
                                "      cap: 30\n"
                                "      rules:\n"
                                "        - name: Enterprise\n"
                                "          when: employees >= 1000\n"
                                "          points: 20\n"
                                "        - name: Mid-market\n"
                                "          when: employees >= 100\n"
                                "          points: 10\n"
                                "    - name: Free mail\n"
                                "      when: email.free\n"
                                "      points: -15\n"
                                "  engagement:\n"
                                "    - name: Pricing page\n"
                                "      activity: pricing_page_view\n"
                                "      points: 5\n"
                                "      half_life: 7d\n"
                                "qualification:\n"
                                "  mql_when: score >= 60\n"
                                "  fast_track_when: activity.demo_request.count > 0\n"
                                "teams:\n"
                                "  - id: emea\n"
                                "    manager: anna\n"
                                "    hours: {mon-fri: \"09:00-17:00\"}\n"
                                "  - id: na\n"
                                "reps:\n"
                                "  - id: anna\n"
                                "    team: emea\n"
                                "    languages: [de, en]\n"
                                "  - id: bob\n"
                                "    team: na\n"
                                "  - id: carl\n"
                                "    team: emea\n"
                                "pools:\n"
                                "  - id: emea-pool\n"
                                "    strategy: round_robin\n"
                                "    teams: [emea]\n"
                                "  - id: all\n"
                                "    strategy: load_balanced\n"
                                "    members: [anna, bob, carl]\n"
                                "routing:\n"
                                "  rules:\n"
                                "    - name: german\n"
                                "      when: country == \"DE\"\n"
                                "      to: pool:emea-pool\n"
                                "    - name: vip\n"
                                "      when: email.domain == \"big.example\"\n"
                                "      to: rep:bob\n"
                                "    - name: default\n"
                                "      to: pool:all\n";

static struct config *load(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_OK)
        fail_msg("the test's configuration does not load: %s\n%s", err.message, yaml);
    return cfg;
}

/* `text` with each (old, new) pair replaced; every old must occur exactly
 * once, so that a test cannot silently change nothing. NULL ends the pairs. */
static char *edit(const char *text, ...)
{
    char *s = xstrdup(text);
    va_list ap;
    va_start(ap, text);
    const char *old;
    while ((old = va_arg(ap, const char *))) {
        const char *repl = va_arg(ap, const char *);
        char *at = strstr(s, old);
        if (!at || strstr(at + 1, old))
            fail_msg("edit: '%s' does not occur exactly once", old);
        size_t pre = (size_t)(at - s), ol = strlen(old), rl = strlen(repl);
        char *t = xmalloc(strlen(s) - ol + rl + 1);
        memcpy(t, s, pre);
        memcpy(t + pre, repl, rl);
        strcpy(t + pre + rl, at + ol);
        free(s);
        s = t;
    }
    va_end(ap);
    return s;
}

struct pair {
    struct config *from, *to, *started;
    struct config_diff d;
    char line[CONFIG_DIFF_LINE_MAX];
};

/* Diffs `to` against `from` (and, when given, restart-only settings against `started`). */
static void diff3(struct pair *p, const char *from, const char *to, const char *started)
{
    p->from = load(from);
    p->to = load(to);
    p->started = started ? load(started) : NULL;
    config_diff_compute(p->from, p->to, p->started, &p->d);
    config_diff_line(&p->d, p->line);
}

static void diff(struct pair *p, const char *from, const char *to)
{
    diff3(p, from, to, NULL);
}

static void pair_release(struct pair *p)
{
    config_diff_release(&p->d);
    config_unref(p->from);
    config_unref(p->to);
    config_unref(p->started);
}

/* names[0..n) joined with ',' equals `want` ("" for none). */
static void check_names(const char *const *names, size_t n, const char *want, const char *what)
{
    char got[4096] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(got, ",");
        strncat(got, names[i], sizeof(got) - strlen(got) - 2);
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s: got [%s], want [%s]", what, got, want);
}

static void check_kind(const struct config_diff *d, enum config_diff_kind k, const char *added,
                       const char *removed, const char *changed)
{
    const struct config_diff_names *n = &d->kinds[k];
    char what[64];
    snprintf(what, sizeof(what), "%s added", config_diff_kind_name(k));
    check_names(n->added, n->n_added, added, what);
    snprintf(what, sizeof(what), "%s removed", config_diff_kind_name(k));
    check_names(n->removed, n->n_removed, removed, what);
    snprintf(what, sizeof(what), "%s changed", config_diff_kind_name(k));
    check_names(n->changed, n->n_changed, changed, what);
}

/* Every kind other than the ones listed in `except` (a bit per kind) is unchanged. */
static void check_others_same(const struct config_diff *d, unsigned except)
{
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++)
        if (!(except & (1u << k)))
            check_kind(d, (enum config_diff_kind)k, "", "", "");
}

#define BIT(k) (1u << (k))

static void test_same_content_no_changes(void **state)
{
    /* Comments, layout, flow style and the order of sets change nothing. */
    char *same = edit(base_yaml, "    languages: [de, en]\n",
                      "    languages:  # spoken\n      - en\n      - de\n", "  - id: na\n",
                      "  - {id: na}\n", NULL);
    struct pair p;
    diff(&p, base_yaml, same);
    assert_true(config_diff_empty(&p.d));
    assert_false(config_diff_removes(&p.d));
    assert_string_equal(p.line, "no changes");
    check_others_same(&p.d, 0);
    assert_int_equal(p.d.n_settings, 0);
    assert_int_equal(p.d.n_restart, 0);
    assert_string_not_equal(p.from->version, p.to->version);
    pair_release(&p);
    free(same);
}

static void test_teams(void **state)
{
    /* na goes (bob moves to the new team apac); emea's hours change, so do
     * the hours of its reps, who inherit them. */
    char *next =
        edit(base_yaml, "  - id: na\n", "  - id: apac\n    timezone: Asia/Tokyo\n",
             "    team: na\n", "    team: apac\n", "\"09:00-17:00\"", "\"08:00-16:00\"", NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_TEAMS, "apac", "na", "emea");
    check_kind(&p.d, CONFIG_DIFF_REPS, "", "", "anna,bob,carl");
    check_others_same(&p.d, BIT(CONFIG_DIFF_TEAMS) | BIT(CONFIG_DIFF_REPS));
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 1 team (na); added 1 team (apac); changed 1 team (emea), "
                                "3 reps (anna, bob, carl)");
    pair_release(&p);
    free(next);

    /* A team's name, manager and holidays. */
    next = edit(base_yaml, "  - id: na\n", "  - id: na\n    name: North America\n", NULL);
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_TEAMS, "", "", "na");
    check_others_same(&p.d, BIT(CONFIG_DIFF_TEAMS));
    assert_false(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);

    next = edit(base_yaml, "  - id: na\n", "  - id: na\n    holidays: [\"2026-12-25\"]\n", NULL);
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_TEAMS, "", "", "na");
    check_kind(&p.d, CONFIG_DIFF_REPS, "", "", "bob");
    pair_release(&p);
    free(next);
}

static void test_reps(void **state)
{
    /* carl goes (and with him a member of both pools), dave comes, anna
     * speaks French now. */
    char *next = edit(base_yaml, "  - id: carl\n    team: emea\n",
                      "  - id: dave\n    team: na\n    capacity: 5\n", "[anna, bob, carl]",
                      "[anna, bob, dave]", "[de, en]", "[de, en, fr]", NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_REPS, "dave", "carl", "anna");
    check_kind(&p.d, CONFIG_DIFF_POOLS, "", "", "emea-pool,all");
    check_others_same(&p.d, BIT(CONFIG_DIFF_REPS) | BIT(CONFIG_DIFF_POOLS));
    assert_true(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);

    /* Each field of a rep counts. */
    static const char *const fields[] = {
        "    name: Bob B\n",
        "    email: bob@example.com\n",
        "    phone: \"+1 555\"\n",
        "    slack: U01BOB\n",
        "    manager: anna\n",
        "    timezone: Asia/Tokyo\n",
        "    active: false\n",
        "    skills: [enterprise]\n",
        "    territories: [US]\n",
        "    weight: 2\n",
        "    capacity: 3\n",
        "    daily_cap: 3\n",
        "    weekly_cap: 9\n",
        "    hours: {mon: \"09:00-10:00\"}\n",
        "    holidays: [\"2026-01-01\"]\n",
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char repl[128];
        snprintf(repl, sizeof(repl), "    team: na\n%s", fields[i]);
        next = edit(base_yaml, "    team: na\n", repl, NULL);
        diff(&p, base_yaml, next);
        check_kind(&p.d, CONFIG_DIFF_REPS, "", "", "bob");
        pair_release(&p);
        free(next);
    }
}

static void test_pools(void **state)
{
    char *next = edit(base_yaml, "    strategy: round_robin\n", "    strategy: fair_share\n",
                      "    members: [anna, bob, carl]\n",
                      "    members: [anna, bob, carl]\n  - id: night\n    strategy: "
                      "round_robin\n    out_of_hours: true\n    members: [bob]\n",
                      NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_POOLS, "night", "", "emea-pool");
    check_others_same(&p.d, BIT(CONFIG_DIFF_POOLS));
    assert_false(config_diff_removes(&p.d));
    assert_string_equal(p.line, "added 1 pool (night); changed 1 pool (emea-pool)");
    pair_release(&p);
    free(next);

    /* The pool a rule sends to goes: the rule's target changes too. */
    next = edit(base_yaml, "  - id: emea-pool\n    strategy: round_robin\n    teams: [emea]\n", "",
                "to: pool:emea-pool", "to: pool:all", NULL);
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_POOLS, "", "emea-pool", "");
    check_kind(&p.d, CONFIG_DIFF_ROUTING_RULES, "", "", "german");
    assert_true(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);

    /* How a pool offers its leads, and to how many. */
    static const char *const offers[][2] = {
        {"    members: [anna, bob, carl]\n",
         "    members: [anna, bob, carl]\n    offer: broadcast\n"},
        {"    teams: [emea]\n", "    teams: [emea]\n    offer: broadcast\n    offer_to: 2\n"},
    };
    for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        next = edit(base_yaml, offers[i][0], offers[i][1], NULL);
        diff(&p, base_yaml, next);
        check_kind(&p.d, CONFIG_DIFF_POOLS, "", "", i == 0 ? "all" : "emea-pool");
        check_others_same(&p.d, BIT(CONFIG_DIFF_POOLS));
        pair_release(&p);
        free(next);
    }
    char *three =
        edit(base_yaml, "    teams: [emea]\n", "    teams: [emea]\n    offer: broadcast\n", NULL);
    char *four = edit(base_yaml, "    teams: [emea]\n",
                      "    teams: [emea]\n    offer: broadcast\n    offer_to: 4\n", NULL);
    diff(&p, three, four);
    check_kind(&p.d, CONFIG_DIFF_POOLS, "", "", "emea-pool");
    pair_release(&p);
    free(four);
    /* offer_to: 3 is the default written down */
    four = edit(base_yaml, "    teams: [emea]\n",
                "    teams: [emea]\n    offer: broadcast\n    offer_to: 3\n", NULL);
    diff(&p, three, four);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);
    free(four);
    free(three);

    /* Members compare in order: reordering reps reorders round robin. */
    next = edit(base_yaml, "  - id: anna\n    team: emea\n    languages: [de, en]\n", "",
                "  - id: carl\n    team: emea\n",
                "  - id: carl\n    team: emea\n  - id: anna\n    team: emea\n    languages: [de, "
                "en]\n",
                NULL);
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_REPS, "", "", "");
    check_kind(&p.d, CONFIG_DIFF_POOLS, "", "", "emea-pool,all");
    pair_release(&p);
    free(next);
}

static void test_routing_rules(void **state)
{
    /* vip goes, a new rule comes, german's condition changes. */
    char *next = edit(base_yaml,
                      "    - name: vip\n      when: email.domain == \"big.example\"\n      to: "
                      "rep:bob\n",
                      "    - name: returning\n      to: lead_owner\n", "country == \"DE\"",
                      "country in [\"DE\", \"AT\"]", NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_ROUTING_RULES, "returning", "vip", "german");
    check_others_same(&p.d, BIT(CONFIG_DIFF_ROUTING_RULES));
    assert_int_equal(p.d.n_settings, 0);
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 1 routing rule (vip); added 1 routing rule (returning); "
                                "changed 1 routing rule (german)");
    pair_release(&p);
    free(next);

    /* The same rules in another order: nothing added or changed, but the
     * order is a change of its own. */
    next = edit(base_yaml,
                "    - name: german\n      when: country == \"DE\"\n      to: pool:emea-pool\n", "",
                "    - name: default\n",
                "    - name: german\n      when: country == \"DE\"\n      to: "
                "pool:emea-pool\n    - name: default\n",
                NULL);
    diff(&p, base_yaml, next);
    check_others_same(&p.d, 0);
    assert_int_equal(p.d.n_settings, 1);
    assert_string_equal(p.d.settings[0], "routing.rules (order)");
    assert_false(config_diff_removes(&p.d));
    assert_string_equal(p.line, "changed routing.rules (order)");
    pair_release(&p);
    free(next);

    /* A rule's fallback, languages and target. */
    static const char *const edits[][2] = {
        {"      to: pool:emea-pool\n", "      to: pool:emea-pool\n      fallback: next_rule\n"},
        {"      to: pool:emea-pool\n", "      to: pool:emea-pool\n      languages: [de]\n"},
        {"      to: pool:emea-pool\n", "      to: pool:all\n"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        next = edit(base_yaml, edits[i][0], edits[i][1], NULL);
        diff(&p, base_yaml, next);
        check_kind(&p.d, CONFIG_DIFF_ROUTING_RULES, "", "", "german");
        pair_release(&p);
        free(next);
    }

    /* No routing section: every rule removed, routing off. */
    const char *cut = strstr(base_yaml, "routing:\n");
    char *off = xstrndup(base_yaml, (size_t)(cut - base_yaml));
    diff(&p, base_yaml, off);
    check_kind(&p.d, CONFIG_DIFF_ROUTING_RULES, "", "german,vip,default", "");
    assert_true(config_diff_removes(&p.d));
    pair_release(&p);
    free(off);
}

static void test_scoring_rules(void **state)
{
    /* Mid-market goes, Enterprise is worth more, a rule joins outside the
     * group, the group's cap changes, the engagement rule decays differently. */
    char *next = edit(base_yaml,
                      "        - name: Mid-market\n          when: employees >= 100\n          "
                      "points: 10\n",
                      "", "          points: 20\n", "          points: 25\n", "      cap: 30\n",
                      "      cap: 40\n", "      half_life: 7d\n", "      window: 30d\n",
                      "      points: -15\n",
                      "      points: -15\n    - name: Title\n      when: title contains \"cto\"\n  "
                      "    points: 5\n",
                      NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_FIT_RULES, "Title", "Mid-market", "Enterprise");
    check_kind(&p.d, CONFIG_DIFF_FIT_GROUPS, "", "", "size");
    check_kind(&p.d, CONFIG_DIFF_ENGAGEMENT_RULES, "", "", "Pricing page");
    check_others_same(&p.d, BIT(CONFIG_DIFF_FIT_RULES) | BIT(CONFIG_DIFF_FIT_GROUPS) |
                                BIT(CONFIG_DIFF_ENGAGEMENT_RULES));
    assert_true(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);

    /* A rule moving out of its group changes; the engagement rule goes. */
    next = edit(base_yaml,
                "  engagement:\n    - name: Pricing page\n      activity: pricing_page_view\n     "
                " points: 5\n      half_life: 7d\n",
                "",
                "        - name: Mid-market\n          when: employees >= 100\n          points: "
                "10\n",
                "", "      points: -15\n",
                "      points: -15\n    - name: Mid-market\n      when: employees >= 100\n      "
                "points: 10\n",
                NULL);
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_FIT_RULES, "", "", "Mid-market");
    check_kind(&p.d, CONFIG_DIFF_ENGAGEMENT_RULES, "", "Pricing page", "");
    check_kind(&p.d, CONFIG_DIFF_FIT_GROUPS, "", "", "");
    pair_release(&p);
    free(next);
}

static void test_qualification(void **state)
{
    char *next = edit(base_yaml, "  mql_when: score >= 60\n", "",
                      "  fast_track_when: activity.demo_request.count > 0\n",
                      "  fast_track_when: activity.demo_request.count > 1\n  disqualify_when: "
                      "title contains \"student\"\n",
                      NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_kind(&p.d, CONFIG_DIFF_QUALIFICATION, "disqualify_when", "mql_when", "fast_track_when");
    check_others_same(&p.d, BIT(CONFIG_DIFF_QUALIFICATION));
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 1 qualification rule (mql_when); added 1 qualification "
                                "rule (disqualify_when); changed 1 qualification rule "
                                "(fast_track_when)");
    pair_release(&p);
    free(next);
}

static void test_settings_live(void **state)
{
    char *next =
        edit(base_yaml, "  listen: 127.0.0.1:8080\n",
             "  listen: 127.0.0.1:8080\n  max_body_bytes: 2MiB\n  shutdown_timeout: "
             "3s\n  form_redirect_hosts: [example.com]\n  public_url: https://b.example\n"
             "  metrics: {public: true}\n"
             "intake:\n  freemail:\n    add: "
             "[mail.example]\n  activities_create_leads: true\naccounts:\n  "
             "name_threshold: 0.8\n",
             "scoring:\n",
             "scoring:\n  range: [0, 200]\n  grades:\n    fit: {A: 70, B: 40, C: 20}\n", NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_others_same(&p.d, 0);
    check_names(p.d.settings, p.d.n_settings,
                "server.max_body_bytes,server.shutdown_timeout,server.form_redirect_hosts,server."
                "public_url,server.metrics.public,intake.freemail,intake.activities_create_leads,"
                "scoring.range,scoring."
                "grades,accounts."
                "name_threshold",
                "settings");
    assert_int_equal(p.d.n_restart, 0);
    assert_false(config_diff_removes(&p.d));
    assert_false(config_diff_empty(&p.d));
    pair_release(&p);
    free(next);

    /* Sets: the same domains in another order are the same. */
    char *a = edit(base_yaml, "scoring:\n",
                   "intake:\n  freemail:\n    remove: [gmx.de, web.de]\nscoring:\n", NULL);
    char *b = edit(base_yaml, "scoring:\n",
                   "intake:\n  freemail:\n    remove: [WEB.de, gmx.de]\nscoring:\n", NULL);
    diff(&p, a, b);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);
    free(a);
    free(b);

    /* public_url: a trailing slash is no change, another path is; it is
     * read per request, so it takes effect now */
    a = edit(base_yaml, "  listen: 127.0.0.1:8080\n",
             "  listen: 127.0.0.1:8080\n  public_url: https://b.example\n", NULL);
    b = edit(base_yaml, "  listen: 127.0.0.1:8080\n",
             "  listen: 127.0.0.1:8080\n  public_url: HTTPS://B.example/\n", NULL);
    diff(&p, a, b);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);
    free(b);
    b = edit(base_yaml, "  listen: 127.0.0.1:8080\n",
             "  listen: 127.0.0.1:8080\n  public_url: https://b.example/baton\n", NULL);
    diff(&p, a, b);
    assert_string_equal(p.line, "changed server.public_url");
    assert_int_equal(p.d.n_restart, 0);
    pair_release(&p);
    diff(&p, a, base_yaml);
    assert_string_equal(p.line, "changed server.public_url");
    pair_release(&p);
    free(a);
    free(b);
}

static void test_settings_restart_only(void **state)
{
    char *next = edit(base_yaml, "  listen: 127.0.0.1:8080\n",
                      "  listen: 0.0.0.0:9090\n  max_connections: 10\n  request_timeout: "
                      "5s\nstore:\n  synchronous: normal\n  busy_timeout: 1s\n  group_commit_max: "
                      "8\n",
                      NULL);
    struct pair p;
    diff(&p, base_yaml, next);
    check_others_same(&p.d, 0);
    assert_int_equal(p.d.n_settings, 0);
    check_names(p.d.restart, p.d.n_restart,
                "server.listen,server.max_connections,server.request_timeout,store.synchronous,"
                "store.busy_timeout,store.group_commit_max",
                "restart");
    assert_false(config_diff_removes(&p.d));
    assert_false(config_diff_empty(&p.d));
    assert_string_equal(p.line, "ignored until restart: server.listen, server.max_connections, "
                                "server.request_timeout, store.synchronous, store.busy_timeout, "
                                "store.group_commit_max");
    pair_release(&p);

    /* Compared with the start: a listen changed by an earlier reload is
     * still not in effect at the next one, and going back is no change. */
    char *later = edit(next, "  max_connections: 10\n", "  max_connections: 256\n", NULL);
    diff3(&p, next, later, base_yaml);
    check_names(p.d.restart, p.d.n_restart,
                "server.listen,server.request_timeout,store.synchronous,store.busy_timeout,store."
                "group_commit_max",
                "restart");
    pair_release(&p);
    diff3(&p, next, base_yaml, base_yaml);
    assert_int_equal(p.d.n_restart, 0);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);

    /* Mixed with an item change, after it. */
    char *both = edit(next, "    languages: [de, en]\n", "", NULL);
    diff(&p, base_yaml, both);
    assert_string_equal(p.line, "changed 1 rep (anna); ignored until restart: server.listen, "
                                "server.max_connections, server.request_timeout, "
                                "store.synchronous, store.busy_timeout, store.group_commit_max");
    pair_release(&p);
    free(both);
    free(later);
    free(next);
}

static const char sla_section[] = "sla:\n"
                                  "  policies:\n"
                                  "    - name: hot\n"
                                  "      when: score >= 80\n"
                                  "      accept_within: 5m\n"
                                  "    - name: german\n"
                                  "      when: country in [\"DE\", \"CH\"]\n"
                                  "      accept_within: 1h\n"
                                  "      reminders: [50%, 80%]\n"
                                  "      on_breach: [remind, reassign]\n"
                                  "      after_max_attempts: pool:all\n"
                                  "    - name: standard\n"
                                  "      accept_within: 4h\n"
                                  "      after_max_attempts: rep:bob\n"
                                  "  rejections_per_day: 5\n";

/* base_yaml with the sla section above (and `extra` after it). */
static char *with_sla(const char *extra)
{
    size_t n = strlen(base_yaml) + strlen(sla_section) + strlen(extra) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s%s", base_yaml, sla_section, extra);
    return s;
}

static void test_sla_policies(void **state)
{
    char *base = with_sla("");
    struct pair p;
    /* hot goes, night comes, german waits longer */
    char *next =
        edit(base, "    - name: hot\n      when: score >= 80\n      accept_within: 5m\n", "",
             "      accept_within: 1h\n", "      accept_within: 2h\n", "    - name: standard\n",
             "    - name: night\n      when: country == \"US\"\n      accept_within: "
             "8h\n    - name: standard\n",
             NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_SLA_POLICIES, "night", "hot", "german");
    check_others_same(&p.d, BIT(CONFIG_DIFF_SLA_POLICIES));
    assert_int_equal(p.d.n_settings, 0);
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 1 SLA policy (hot); added 1 SLA policy (night); changed "
                                "1 SLA policy (german)");
    pair_release(&p);
    free(next);

    /* Every value of a policy counts. */
    static const char *const edits[][2] = {
        {"[\"DE\", \"CH\"]", "[\"DE\", \"AT\"]"},
        {"      accept_within: 1h\n", "      accept_within: 61m\n"},
        {"      accept_within: 1h\n", "      accept_within: 1h\n      contact_within: 2d\n"},
        {"      accept_within: 1h\n", "      accept_within: 1h\n      clock: business_hours\n"},
        {"[50%, 80%]", "[50%, 90%]"},
        {"[50%, 80%]", "[50%]"},
        {"[remind, reassign]", "[reassign, remind]"},
        {"[remind, reassign]", "[remind, notify_manager, reassign]"},
        {"      accept_within: 1h\n", "      accept_within: 1h\n      max_attempts: 2\n"},
        {"attempts: pool:all", "attempts: pool:emea-pool"},
        {"attempts: pool:all", "attempts: manager"},
        {"      accept_within: 1h\n", "      accept_within: 1h\n      exclude_last: 0\n"},
        {"      accept_within: 1h\n", "      accept_within: 1h\n      away_after_breaches: 2\n"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        next = edit(base, edits[i][0], edits[i][1], NULL);
        diff(&p, base, next);
        check_kind(&p.d, CONFIG_DIFF_SLA_POLICIES, "", "", "german");
        check_others_same(&p.d, BIT(CONFIG_DIFF_SLA_POLICIES));
        pair_release(&p);
        free(next);
    }

    /* Defaults written out change nothing; a fallback rep or pool that
     * moves in the file is the same one. */
    next = edit(base, "      accept_within: 4h\n",
                "      accept_within: 4h\n      contact_within: 24h\n      clock: wall\n      "
                "on_breach: [reassign]\n      max_attempts: 3\n      exclude_last: 1\n",
                "  - id: anna\n    team: emea\n    languages: [de, en]\n", "",
                "  - id: carl\n    team: emea\n",
                "  - id: carl\n    team: emea\n  - id: anna\n    team: emea\n    languages: [de, "
                "en]\n",
                NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_SLA_POLICIES, "", "", "");
    check_kind(&p.d, CONFIG_DIFF_REPS, "", "", "");
    pair_release(&p);
    free(next);

    /* The same policies in another order: the first that holds wins, so
     * the order is a change of its own. */
    next = edit(base, "    - name: hot\n      when: score >= 80\n      accept_within: 5m\n", "",
                "    - name: standard\n",
                "    - name: hot\n      when: score >= 80\n      accept_within: 5m\n    - name: "
                "standard\n",
                NULL);
    diff(&p, base, next);
    check_others_same(&p.d, 0);
    check_names(p.d.settings, p.d.n_settings, "sla.policies (order)", "settings");
    assert_string_equal(p.line, "changed sla.policies (order)");
    assert_false(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);

    /* The daily rejection limit is a setting; no sla section at all removes the policies. */
    next = edit(base, "  rejections_per_day: 5\n", "  rejections_per_day: 0\n", NULL);
    diff(&p, base, next);
    check_others_same(&p.d, 0);
    check_names(p.d.settings, p.d.n_settings, "sla.rejections_per_day", "settings");
    pair_release(&p);
    free(next);
    diff(&p, base, base_yaml);
    check_kind(&p.d, CONFIG_DIFF_SLA_POLICIES, "", "hot,german,standard", "");
    check_others_same(&p.d, BIT(CONFIG_DIFF_SLA_POLICIES));
    check_names(p.d.settings, p.d.n_settings, "sla.rejections_per_day", "settings");
    assert_true(config_diff_removes(&p.d));
    pair_release(&p);
    free(base);
}

static void test_reject_reasons(void **state)
{
    /* No list: the built-in reasons. A list replaces them: the ones it does
     * not keep go, the same id with the same label and action is no change. */
    char *listed = with_sla("  reject_reasons:\n"
                            "    - {id: wrong_territory, label: Wrong territory, action: reroute}\n"
                            "    - {id: not_a_fit, label: Not a fit, action: disqualify}\n"
                            "    - {id: spam, action: disqualify}\n");
    char *built_in = with_sla("");
    struct pair p;
    diff(&p, built_in, listed);
    check_kind(&p.d, CONFIG_DIFF_REJECT_REASONS, "spam",
               "existing_customer,not_qualified,duplicate,bad_data", "not_a_fit");
    check_others_same(&p.d, BIT(CONFIG_DIFF_REJECT_REASONS));
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 4 reject reasons (existing_customer, not_qualified, "
                                "duplicate, bad_data); added 1 reject reason (spam); changed 1 "
                                "reject reason (not_a_fit)");
    pair_release(&p);

    /* and back: the built-in ones return */
    diff(&p, listed, built_in);
    check_kind(&p.d, CONFIG_DIFF_REJECT_REASONS,
               "existing_customer,not_qualified,duplicate,bad_data", "spam", "not_a_fit");
    pair_release(&p);

    /* a label, an action */
    char *next = edit(listed, "label: Wrong territory", "label: Not my territory", NULL);
    diff(&p, listed, next);
    check_kind(&p.d, CONFIG_DIFF_REJECT_REASONS, "", "", "wrong_territory");
    check_others_same(&p.d, BIT(CONFIG_DIFF_REJECT_REASONS));
    assert_false(config_diff_removes(&p.d));
    pair_release(&p);
    free(next);
    next = edit(listed, "{id: spam, action: disqualify}", "{id: spam, action: recycle}", NULL);
    diff(&p, listed, next);
    check_kind(&p.d, CONFIG_DIFF_REJECT_REASONS, "", "", "spam");
    pair_release(&p);
    free(next);
    /* a label that is the id, written out */
    next = edit(listed, "{id: spam, action: disqualify}",
                "{id: spam, label: spam, action: "
                "disqualify}",
                NULL);
    diff(&p, listed, next);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);
    free(next);

    /* the built-in list written out is no change */
    next = with_sla("  reject_reasons:\n"
                    "    - {id: wrong_territory, label: Wrong territory, action: reroute}\n"
                    "    - {id: existing_customer, label: Existing customer, action: reroute}\n"
                    "    - {id: not_a_fit, label: Not a fit, action: recycle}\n"
                    "    - {id: not_qualified, label: Not qualified yet, action: recycle}\n"
                    "    - {id: duplicate, label: Duplicate, action: disqualify}\n"
                    "    - {id: bad_data, label: Bad data, action: disqualify}\n");
    diff(&p, built_in, next);
    assert_true(config_diff_empty(&p.d));
    pair_release(&p);
    free(next);
    free(listed);
    free(built_in);
}

/* A configuration with n reps PREFIX0 .. PREFIX(n-1). */
static char *many_reps(size_t n, const char *prefix)
{
    size_t cap = 64 + n * 64;
    char *s = xmalloc(cap);
    size_t len = (size_t)snprintf(s, cap, "version: 1\nreps:\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "  - id: %s%zu\n", prefix, i);
    return s;
}

static const char delivery_yaml[] =
    "delivery:\n"
    "  smtp: {url: \"smtp://127.0.0.1:2525\", from: baton@example.com}\n"
    "  templates:\n"
    "    - id: assigned\n"
    "      subject: \"New lead: {{lead.name}}\"\n"
    "      text: \"{{lead.name}} is yours\"\n"
    "    - id: reminder\n"
    "      text: \"Still waiting: {{lead.name}}\"\n"
    "  channels:\n"
    "    - id: hook\n"
    "      type: webhook\n"
    "      events: [lead.assigned, \"assignment.*\"]\n"
    "      when: score >= 50\n"
    "      url: https://hooks.example.com/a\n"
    "      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n"
    "    - id: mail\n"
    "      type: email\n"
    "      events: [lead.assigned]\n"
    "      to: rep\n"
    "      template: assigned\n"
    "    - id: slack\n"
    "      type: slack\n"
    "      events: [assignment.reminded]\n"
    "      url: https://hooks.slack.com/x\n"
    "      by_team: {emea: https://hooks.slack.com/emea, na: https://hooks.slack.com/na}\n"
    "      template: reminder\n";

static char *with_delivery(void)
{
    char *s = xmalloc(strlen(base_yaml) + strlen(delivery_yaml) + 1);
    strcpy(s, base_yaml);
    strcat(s, delivery_yaml);
    return s;
}

static void test_delivery(void **state)
{
    char *base = with_delivery();
    struct pair p;
    /* hook goes, sms comes, mail changes its template */
    char *next = edit(base,
                      "    - id: hook\n      type: webhook\n      events: [lead.assigned, "
                      "\"assignment.*\"]\n      when: score >= 50\n      url: "
                      "https://hooks.example.com/a\n      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n",
                      "", "      template: assigned\n",
                      "      template: reminder\n    - id: crm\n      type: crm\n      events: "
                      "[lead.assigned]\n      url: https://crm.example.com/\n      fields: {Email: "
                      "lead.email}\n",
                      NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_DELIVERY_CHANNELS, "crm", "hook", "mail");
    check_others_same(&p.d, BIT(CONFIG_DIFF_DELIVERY_CHANNELS));
    assert_int_equal(p.d.n_settings, 0);
    assert_true(config_diff_removes(&p.d));
    assert_string_equal(p.line, "removed 1 delivery channel (hook); added 1 delivery channel "
                                "(crm); changed 1 delivery channel (mail)");
    json_t *j = config_diff_json(&p.d);
    json_t *k = json_object_get(j, "delivery_channels");
    assert_string_equal(json_string_value(json_array_get(json_object_get(k, "added"), 0)), "crm");
    assert_non_null(json_object_get(j, "delivery_templates"));
    json_decref(j);
    pair_release(&p);
    free(next);

    /* Every value of a channel counts. */
    static const char *const edits[][2] = {
        {"[lead.assigned, \"assignment.*\"]", "[lead.assigned]"},
        {"score >= 50", "score >= 60"},
        {"hooks.example.com/a", "hooks.example.com/b"},
        {"whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
        {"      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n",
         "      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n      timeout: 11s\n"},
        {"      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n",
         "      secret: whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7\n      concurrency: 2\n"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        next = edit(base, edits[i][0], edits[i][1], NULL);
        diff(&p, base, next);
        check_kind(&p.d, CONFIG_DIFF_DELIVERY_CHANNELS, "", "", "hook");
        check_others_same(&p.d, BIT(CONFIG_DIFF_DELIVERY_CHANNELS));
        pair_release(&p);
        free(next);
    }
    next = edit(base, "      to: rep\n", "      to: manager\n", NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_DELIVERY_CHANNELS, "", "", "mail");
    pair_release(&p);
    free(next);
    next = edit(base, "na: https://hooks.slack.com/na", "na: https://hooks.slack.com/na2", NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_DELIVERY_CHANNELS, "", "", "slack");
    pair_release(&p);
    free(next);

    /* Sets in another order and defaults written out change nothing. */
    next =
        edit(base, "[lead.assigned, \"assignment.*\"]", "[\"assignment.*\", lead.assigned]",
             "{emea: https://hooks.slack.com/emea, na: https://hooks.slack.com/na}",
             "{na: https://hooks.slack.com/na, emea: https://hooks.slack.com/emea}",
             "      to: rep\n", "      to: rep\n      timeout: 30s\n      concurrency: 4\n", NULL);
    diff(&p, base, next);
    check_others_same(&p.d, 0);
    assert_int_equal(p.d.n_settings, 0);
    pair_release(&p);
    free(next);

    /* A template's text is the template's change, not its channels'. */
    next = edit(base, "\"{{lead.name}} is yours\"", "\"{{lead.name}} is yours now\"", NULL);
    diff(&p, base, next);
    check_kind(&p.d, CONFIG_DIFF_DELIVERY_TEMPLATES, "", "", "assigned");
    check_others_same(&p.d, BIT(CONFIG_DIFF_DELIVERY_TEMPLATES));
    assert_string_equal(p.line, "changed 1 template (assigned)");
    pair_release(&p);
    free(next);

    /* The transports and the schedule are settings. */
    next = edit(base, "smtp://127.0.0.1:2525", "smtp://127.0.0.1:2526", "  templates:\n",
                "  retry: [0s, 1m]\n  breaker: {min_failures: 3}\n  meeting_minutes: 15\n"
                "  marketing: m@example.com\n  sms: {url: \"https://sms.example/\"}\n  "
                "templates:\n",
                NULL);
    diff(&p, base, next);
    check_others_same(&p.d, 0);
    check_names(p.d.settings, p.d.n_settings,
                "delivery.smtp,delivery.sms,delivery.marketing,delivery.retry,delivery.breaker,"
                "delivery.meeting_minutes",
                "settings");
    assert_int_equal(p.d.n_restart, 0);
    pair_release(&p);
    free(next);
    free(base);
}

static void test_line_and_json_are_bounded(void **state)
{
    char *from = many_reps(150, "rep-"), *to = many_reps(2, "new-");
    struct pair p;
    diff(&p, from, to);
    check_names(p.d.kinds[CONFIG_DIFF_REPS].added, p.d.kinds[CONFIG_DIFF_REPS].n_added,
                "new-0,new-1", "reps added");
    assert_int_equal(p.d.kinds[CONFIG_DIFF_REPS].n_removed, 150);
    assert_string_equal(p.d.kinds[CONFIG_DIFF_REPS].removed[0], "rep-0");
    assert_string_equal(p.d.kinds[CONFIG_DIFF_REPS].removed[149], "rep-149");
    assert_string_equal(p.line, "removed 150 reps (rep-0, rep-1, rep-2, rep-3, rep-4 and 145 "
                                "more); added 2 reps (new-0, new-1)");

    json_t *j = config_diff_json(&p.d);
    for (int k = 0; k < CONFIG_DIFF_KINDS; k++) {
        json_t *kind = json_object_get(j, config_diff_kind_name((enum config_diff_kind)k));
        assert_non_null(kind);
        assert_true(json_is_array(json_object_get(kind, "added")));
        assert_true(json_is_array(json_object_get(kind, "removed")));
        assert_true(json_is_array(json_object_get(kind, "changed")));
        if (k != CONFIG_DIFF_REPS)
            assert_null(json_object_get(kind, "more"));
    }
    json_t *reps = json_object_get(j, "reps");
    assert_int_equal(json_array_size(json_object_get(reps, "removed")), CONFIG_DIFF_JSON_NAMES);
    assert_int_equal(json_array_size(json_object_get(reps, "added")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(reps, "removed"), 99)),
                        "rep-99");
    json_t *more = json_object_get(reps, "more");
    assert_int_equal(json_integer_value(json_object_get(more, "removed")), 50);
    assert_null(json_object_get(more, "added"));
    assert_string_equal(json_string_value(json_object_get(j, "text")), p.line);
    assert_int_equal(json_array_size(json_object_get(j, "settings")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "ignored_until_restart")), 0);
    json_decref(j);
    pair_release(&p);
    free(from);
    free(to);

    /* Long names overflow the line: it is cut on a character boundary and
     * says so. The names are two-byte characters, and one more byte in the
     * first name moves the cut inside one of them in one of the two runs. */
    for (int shift = 0; shift < 2; shift++) {
        char name[128] = "";
        for (int i = 0; i < 49; i++)
            strcat(name, "\xc3\xbc"); /* ü */
        size_t cap = 64 * 1024, len = 0;
        char *big = xmalloc(cap);
        len += (size_t)snprintf(big + len, cap - len, "version: 1\nscoring:\n  fit:\n");
        for (int i = 0; i < 6; i++)
            len += (size_t)snprintf(big + len, cap - len,
                                    "    - name: \"%d%s%s\"\n      when: email.free\n      "
                                    "points: 1\n",
                                    i, shift && i == 0 ? "x" : "", name);
        len += (size_t)snprintf(big + len, cap - len, "  engagement:\n");
        for (int i = 0; i < 6; i++)
            len += (size_t)snprintf(
                big + len, cap - len,
                "    - name: \"%d%s\"\n      activity: visit\n      points: 1\n", i, name);
        diff(&p, big, "version: 1\n");
        size_t n = strlen(p.line);
        assert_true(n < CONFIG_DIFF_LINE_MAX);
        assert_true(n > CONFIG_DIFF_LINE_MAX - 10);
        assert_string_equal(p.line + n - 3, "...");
        j = config_diff_json(&p.d);
        /* jansson refuses invalid UTF-8: a cut inside a character would lose the text */
        assert_non_null(json_string_value(json_object_get(j, "text")));
        assert_string_equal(json_string_value(json_object_get(j, "text")), p.line);
        json_decref(j);
        pair_release(&p);
        free(big);
    }
}

/* The probe: a SIGHUP while an editor writes the example file loads its
 * first 5,000 bytes, a valid file without teams, reps, pools or routing. */
static void test_example_cut_short(void **state)
{
    struct config *full = NULL, *cut = NULL;
    struct bt_error err = BT_ERROR_INIT;
    FILE *f = fopen("examples/baton.yaml", "rb");
    if (!f)
        skip();
    char text[5000];
    size_t got = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_int_equal(got, sizeof(text));
    /* to the last blank line: a write that stopped between two entries */
    while (got > 1 && !(text[got - 1] == '\n' && text[got - 2] == '\n'))
        got--;
    assert_int_equal(config_load("examples/baton.yaml", &full, &err), BT_OK);
    if (config_load_string("cut.yaml", text, got, &cut, &err) != BT_OK)
        fail_msg("the first 5,000 bytes no longer load (%s): the probe needs another cut",
                 err.message);
    struct config_diff d;
    config_diff_compute(full, cut, NULL, &d);
    assert_true(config_diff_removes(&d));
    assert_int_equal(d.kinds[CONFIG_DIFF_TEAMS].n_removed, full->n_teams);
    assert_int_equal(d.kinds[CONFIG_DIFF_REPS].n_removed, full->n_reps);
    assert_int_equal(d.kinds[CONFIG_DIFF_POOLS].n_removed, full->routing.n_pools);
    assert_int_equal(d.kinds[CONFIG_DIFF_ROUTING_RULES].n_removed, full->routing.n_rules);
    assert_true(full->n_teams > 0 && full->n_reps > 0 && full->routing.n_rules > 0);
    assert_string_equal(d.kinds[CONFIG_DIFF_TEAMS].removed[0], full->teams[0].id);
    char line[CONFIG_DIFF_LINE_MAX];
    config_diff_line(&d, line);
    assert_non_null(strstr(line, "removed "));
    assert_non_null(strstr(line, full->teams[0].id));
    config_diff_release(&d);
    config_unref(full);
    config_unref(cut);
}

static void test_release_twice_and_init(void **state)
{
    struct config_diff d = CONFIG_DIFF_INIT;
    config_diff_release(&d);
    config_diff_release(NULL);
    assert_true(config_diff_empty(&d));
    char line[CONFIG_DIFF_LINE_MAX];
    assert_string_equal(config_diff_line(&d, line), "no changes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_content_no_changes),
        cmocka_unit_test(test_teams),
        cmocka_unit_test(test_reps),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_routing_rules),
        cmocka_unit_test(test_scoring_rules),
        cmocka_unit_test(test_qualification),
        cmocka_unit_test(test_sla_policies),
        cmocka_unit_test(test_reject_reasons),
        cmocka_unit_test(test_delivery),
        cmocka_unit_test(test_settings_live),
        cmocka_unit_test(test_settings_restart_only),
        cmocka_unit_test(test_line_and_json_are_bounded),
        cmocka_unit_test(test_example_cut_short),
        cmocka_unit_test(test_release_twice_and_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
