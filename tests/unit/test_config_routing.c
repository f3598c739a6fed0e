/*
 * test_config_routing.c - the routing parts of the configuration: time
 * zones, weekly hours, holidays, territories and caps of teams and reps
 * (with a team's values as its reps' defaults), pools, routing rules and
 * accounts, read back from cfg->routing; and the FILE:LINE:COL of each kind
 * of error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/routing.h"
#include "core/rule.h"
#include "core/workhours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char routing_yaml[] = "version: 1\n"                                         /* 1 */
                                   "teams:\n"                                             /* 2 */
                                   "  - id: emea\n"                                       /* 3 */
                                   "    manager: katrin\n"                                /* 4 */
                                   "    timezone: Europe/Berlin\n"                        /* 5 */
                                   "    hours: {mon-fri: \"09:00-17:30\"}\n"              /* 6 */
                                   "    holidays: [\"2026-12-25\", \"2026-12-24\"]\n"     /* 7 */
                                   "  - id: na\n"                                         /* 8 */
                                   "    timezone: America/New_York\n"                     /* 9 */
                                   "reps:\n"                                              /* 10 */
                                   "  - id: katrin\n"                                     /* 11 */
                                   "    team: emea\n"                                     /* 12 */
                                   "    territories: [de, Austria, CHE, emea]\n"          /* 13 */
                                   "    languages: [DE, En]\n"                            /* 14 */
                                   "    skills: [Enterprise]\n"                           /* 15 */
                                   "    weight: 0.001\n"                                  /* 16 */
                                   "    daily_cap: 10\n"                                  /* 17 */
                                   "    weekly_cap: 40\n"                                 /* 18 */
                                   "  - id: luca\n"                                       /* 19 */
                                   "    team: emea\n"                                     /* 20 */
                                   "    manager: katrin\n"                                /* 21 */
                                   "    timezone: Europe/Rome\n"                          /* 22 */
                                   "    hours:\n"                                         /* 23 */
                                   "      mon-thu: \"09:00-12:30, 13:30-18:00\"\n"        /* 24 */
                                   "      fri: 09:00-15:00\n"                             /* 25 */
                                   "      sat: off\n"                                     /* 26 */
                                   "      sun: \"22:00-06:00\"\n"                         /* 27 */
                                   "    holidays: [2026-12-31, 2026-01-01, 2026-12-31]\n" /* 28 */
                                   "    weight: 1000\n"                                   /* 29 */
                                   "    capacity: 1000000000\n"                           /* 30 */
                                   "  - id: mia\n"                                        /* 31 */
                                   "    team: na\n"                                       /* 32 */
                                   "    active: false\n"                                  /* 33 */
                                   "  - id: olaf\n"                                       /* 34 */
                                   "    weekly_cap: unlimited\n"                          /* 35 */
                                   "  - id: nina\n"                                       /* 36 */
                                   "    team: emea\n"                                     /* 37 */
                                   "    holidays: []\n"                                   /* 38 */
                                   "pools:\n"                                             /* 39 */
                                   "  - id: emea-inbound\n"                               /* 40 */
                                   "    name: EMEA inbound\n"                             /* 41 */
                                   "    strategy: fair_share\n"                           /* 42 */
                                   "    window: month\n"                                  /* 43 */
                                   "    absence: catch_up\n"                              /* 44 */
                                   "    timezone: Europe/Berlin\n"                        /* 45 */
                                   "    match_territory: true\n"                          /* 46 */
                                   "    members: [olaf, luca]\n"                          /* 47 */
                                   "    teams: [emea]\n"                                  /* 48 */
                                   "  - id: na\n"                                         /* 49 */
                                   "    strategy: round_robin\n"                          /* 50 */
                                   "    out_of_hours: true\n"                             /* 51 */
                                   "    teams: [na]\n"                                    /* 52 */
                                   "  - id: fair\n"                                       /* 53 */
                                   "    strategy: fair_share\n"                           /* 54 */
                                   "    members: [mia]\n"                                 /* 55 */
                                   "routing:\n"                                           /* 56 */
                                   "  rules:\n"                                           /* 57 */
                                   "    - to: lead_owner\n"                               /* 58 */
                                   "    - name: named\n"                                  /* 59 */
                                   "      to: account_owner\n"                            /* 60 */
                                   "      fallback: hold\n"                               /* 61 */
                                   "      when: account exists\n"                         /* 62 */
                                   "    - name: german\n"                                 /* 63 */
                                   "      when: 'country in [\"DE\",\"AT\",\"CH\"]'\n"    /* 64 */
                                   "      to: pool:emea-inbound\n"                        /* 65 */
                                   "      languages: [DE]\n"                              /* 66 */
                                   "      skills: [enterprise]\n"                         /* 67 */
                                   "    - name: vip\n"                                    /* 68 */
                                   "      when: email.domain == \"bigco.com\"\n"          /* 69 */
                                   "      to: rep:luca\n"                                 /* 70 */
                                   "      fallback: next_rule\n"                          /* 71 */
                                   "    - to: hold\n"                                     /* 72 */
                                   "accounts:\n"                                          /* 73 */
                                   "  name_threshold: 0.75\n";                            /* 74 */

static struct config *load_ok(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_OK)
        fail_msg("expected success, got %s: %s", bt_strerror(rc), err.message);
    assert_non_null(cfg);
    return cfg;
}

/* Loads `yaml`, which must fail with a message that starts with `prefix`
 * ("t.yaml:LINE:COL: ") and contains `part`. */
static void expect_error(const char *yaml, const char *prefix, const char *part)
{
    struct config *cfg = (struct config *)1;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_ECONFIG)
        fail_msg("expected an error \"%s\" for:\n%s", part, yaml);
    assert_null(cfg);
    if (strncmp(err.message, prefix, strlen(prefix)) != 0)
        fail_msg("expected prefix \"%s\", got \"%s\"", prefix, err.message);
    if (part && !strstr(err.message, part))
        fail_msg("expected \"%s\" in \"%s\"", part, err.message);
}

/* Working at wall time year-month-day hh:mm in the rep's own zone? */
static bool works_at(const struct routing_rep *r, int64_t y, unsigned m, unsigned d, unsigned hh,
                     unsigned mm)
{
    int64_t t = tz_utc_of_local(r->tz, y, m, d, hh * 60 + mm, TZ_EARLIER);
    assert_true(r->has_hours);
    return workhours_is_working(&r->hours, r->tz, &r->holidays, NULL, t, NULL);
}

static void test_routing_values(void **state)
{
    struct config *cfg = load_ok(routing_yaml);
    const struct routing_config *rc = &cfg->routing;

    /* ---- reps: same order as cfg->reps ---- */
    assert_int_equal(rc->n_reps, 5);
    assert_int_equal(cfg->n_reps, 5);
    for (size_t i = 0; i < rc->n_reps; i++) {
        assert_string_equal(rc->reps[i].id, cfg->reps[i].id);
        assert_non_null(rc->reps[i].tz);
    }
    const struct routing_rep *katrin = &rc->reps[0], *luca = &rc->reps[1], *mia = &rc->reps[2],
                             *olaf = &rc->reps[3], *nina = &rc->reps[4];

    /* katrin: the team's zone, hours and holidays (sorted) */
    assert_string_equal(katrin->team, "emea");
    assert_string_equal(katrin->tz->name, "Europe/Berlin");
    assert_string_equal(cfg->reps[0].timezone, "Europe/Berlin");
    assert_true(katrin->has_hours);
    assert_int_equal(katrin->holidays.count, 2);
    assert_int_equal(katrin->holidays.dates[0].day, 24);
    assert_int_equal(katrin->holidays.dates[1].day, 25);
    assert_int_equal(katrin->holidays.dates[0].month, 12);
    assert_int_equal(katrin->holidays.dates[0].year, 2026);
    /* 2026-03-02 is a Monday */
    assert_true(works_at(katrin, 2026, 3, 2, 9, 0));
    assert_true(works_at(katrin, 2026, 3, 6, 17, 29));
    assert_false(works_at(katrin, 2026, 3, 6, 17, 30));
    assert_false(works_at(katrin, 2026, 3, 7, 10, 0));   /* Saturday */
    assert_false(works_at(katrin, 2026, 12, 24, 10, 0)); /* Thursday, a holiday */
    assert_true(works_at(katrin, 2026, 12, 23, 10, 0));
    /* The same wall time in summer (another UTC offset) */
    assert_true(works_at(katrin, 2026, 7, 1, 9, 0));
    assert_int_equal(katrin->n_territories, 4);
    assert_string_equal(katrin->territories[0], "DE");
    assert_string_equal(katrin->territories[1], "AT");
    assert_string_equal(katrin->territories[2], "CH");
    assert_string_equal(katrin->territories[3], "EMEA");
    assert_int_equal(katrin->n_languages, 2);
    assert_string_equal(katrin->languages[0], "de");
    assert_string_equal(katrin->languages[1], "en");
    assert_string_equal(katrin->skills[0], "enterprise");
    assert_true(katrin->weight == 0.001);
    assert_int_equal(katrin->capacity, ROUTING_UNLIMITED);
    assert_int_equal(katrin->daily_cap, 10);
    assert_int_equal(katrin->weekly_cap, 40);
    assert_int_equal(cfg->reps[0].daily_cap, 10);

    /* luca: his own zone, hours and holidays win over the team's */
    assert_string_equal(luca->tz->name, "Europe/Rome");
    assert_string_equal(cfg->reps[1].manager, "katrin");
    assert_true(works_at(luca, 2026, 3, 2, 9, 0));
    assert_true(works_at(luca, 2026, 3, 2, 12, 29));
    assert_false(works_at(luca, 2026, 3, 2, 13, 0)); /* lunch */
    assert_true(works_at(luca, 2026, 3, 5, 17, 59)); /* Thursday */
    assert_false(works_at(luca, 2026, 3, 6, 15, 0)); /* Friday ends at 15:00 */
    assert_false(works_at(luca, 2026, 3, 7, 12, 0)); /* sat: off */
    assert_true(works_at(luca, 2026, 3, 8, 23, 0));  /* Sunday night shift ... */
    assert_true(works_at(luca, 2026, 3, 9, 5, 59));  /* ... into Monday */
    assert_false(works_at(luca, 2026, 3, 9, 6, 30));
    assert_true(works_at(luca, 2026, 12, 24, 10, 0)); /* the team's holiday is not his */
    assert_int_equal(luca->holidays.count, 2);        /* repeats dropped, sorted */
    assert_int_equal(luca->holidays.dates[0].year, 2026);
    assert_int_equal(luca->holidays.dates[0].month, 1);
    assert_int_equal(luca->holidays.dates[1].month, 12);
    assert_int_equal(luca->holidays.dates[1].day, 31);
    assert_true(luca->weight == 1000);
    assert_int_equal(luca->capacity, 1000000000);
    assert_int_equal(luca->daily_cap, ROUTING_UNLIMITED);
    assert_int_equal(luca->n_territories, 0);

    /* mia: her team's zone, no hours anywhere: around the clock */
    assert_string_equal(mia->tz->name, "America/New_York");
    assert_string_equal(cfg->reps[2].timezone, "America/New_York");
    assert_false(mia->active);
    assert_false(mia->has_hours);
    assert_int_equal(mia->holidays.count, 0);

    /* olaf: no team: UTC, no hours, no holidays, defaults */
    assert_null(olaf->team);
    assert_string_equal(olaf->tz->name, "UTC");
    assert_string_equal(cfg->reps[3].timezone, "UTC");
    assert_false(olaf->has_hours);
    assert_true(olaf->active);
    assert_true(olaf->weight == 1);
    assert_int_equal(olaf->weekly_cap, ROUTING_UNLIMITED);

    /* nina: the team's hours, but an empty holiday list of her own */
    assert_true(nina->has_hours);
    assert_int_equal(nina->holidays.count, 0);
    assert_true(works_at(nina, 2026, 12, 24, 10, 0));
    /* One table per distinct zone, shared */
    assert_ptr_equal(katrin->tz, nina->tz);

    /* ---- pools ---- */
    assert_int_equal(rc->n_pools, 3);
    const struct routing_pool *p = &rc->pools[0];
    assert_string_equal(p->id, "emea-inbound");
    assert_string_equal(p->name, "EMEA inbound");
    assert_int_equal(p->strategy, STRATEGY_FAIR_SHARE);
    assert_int_equal(p->window, POOL_WINDOW_MONTH);
    assert_int_equal(p->absence, ABSENCE_CATCH_UP);
    assert_string_equal(p->tz->name, "Europe/Berlin");
    assert_true(p->match_territory);
    assert_false(p->out_of_hours);
    /* members and team members in config order, once each: katrin, luca, olaf, nina */
    assert_int_equal(p->n_members, 4);
    assert_int_equal(p->members[0], 0);
    assert_int_equal(p->members[1], 1);
    assert_int_equal(p->members[2], 3);
    assert_int_equal(p->members[3], 4);

    p = &rc->pools[1];
    assert_string_equal(p->name, "na"); /* defaults to the id */
    assert_int_equal(p->strategy, STRATEGY_ROUND_ROBIN);
    assert_true(p->out_of_hours);
    assert_false(p->match_territory);
    assert_string_equal(p->tz->name, "UTC");
    assert_int_equal(p->n_members, 1);
    assert_int_equal(p->members[0], 2);

    p = &rc->pools[2]; /* fair_share defaults */
    assert_int_equal(p->window, POOL_WINDOW_WEEK);
    assert_int_equal(p->absence, ABSENCE_NO_CATCH_UP);

    /* ---- rules ---- */
    assert_int_equal(rc->n_rules, 5);
    const struct routing_rule *r = rc->rules;
    assert_string_equal(r[0].name, "rule-1");
    assert_int_equal(r[0].target, ROUTE_TO_LEAD_OWNER);
    assert_int_equal(r[0].fallback, ROUTE_FALLBACK_NEXT_RULE);
    assert_null(r[0].when);

    assert_string_equal(r[1].name, "named");
    assert_int_equal(r[1].target, ROUTE_TO_ACCOUNT_OWNER);
    assert_int_equal(r[1].fallback, ROUTE_FALLBACK_HOLD);
    assert_non_null(r[1].when);
    assert_string_equal(rule_text(r[1].when), "account exists");

    assert_string_equal(r[2].name, "german");
    assert_int_equal(r[2].target, ROUTE_TO_POOL);
    assert_int_equal(r[2].index, 0);
    assert_int_equal(r[2].fallback, ROUTE_FALLBACK_HOLD);
    assert_int_equal(r[2].n_languages, 1);
    assert_string_equal(r[2].languages[0], "de");
    assert_int_equal(r[2].n_skills, 1);
    assert_string_equal(r[2].skills[0], "enterprise");

    assert_int_equal(r[3].target, ROUTE_TO_REP);
    assert_int_equal(r[3].index, 1);
    assert_int_equal(r[3].fallback, ROUTE_FALLBACK_NEXT_RULE);

    assert_string_equal(r[4].name, "rule-5");
    assert_int_equal(r[4].target, ROUTE_TO_HOLD);
    assert_null(r[4].when);

    /* The rules' paths are in the lead symbol table, like the qualification's. */
    assert_true(rule_symtab_find(cfg->scoring->lead_syms, "country") >= 0);
    assert_true(rule_symtab_find(cfg->scoring->lead_syms, "account") >= 0);

    assert_true(cfg->account_name_threshold == 0.75);
    config_unref(cfg);
}

static void test_routing_defaults(void **state)
{
    struct config *cfg = load_ok("version: 1\nreps:\n  - id: a\n");
    assert_int_equal(cfg->routing.n_rules, 0);
    assert_null(cfg->routing.rules);
    assert_int_equal(cfg->routing.n_pools, 0);
    assert_int_equal(cfg->routing.n_reps, 1);
    assert_string_equal(cfg->routing.reps[0].tz->name, "UTC");
    assert_false(cfg->routing.reps[0].has_hours);
    assert_int_equal(cfg->routing.reps[0].capacity, ROUTING_UNLIMITED);
    assert_int_equal(cfg->routing.reps[0].daily_cap, ROUTING_UNLIMITED);
    assert_int_equal(cfg->routing.reps[0].weekly_cap, ROUTING_UNLIMITED);
    assert_true(cfg->account_name_threshold == 0.90);
    config_unref(cfg);

    cfg = load_ok("version: 1\nrouting:\naccounts:\npools:\n");
    assert_int_equal(cfg->routing.n_rules, 0);
    assert_int_equal(cfg->routing.n_reps, 0);
    config_unref(cfg);

    /* A single default rule, the aliases of hours, a wrapping range */
    cfg = load_ok("version: 1\n"
                  "reps:\n"
                  "  - id: a\n"
                  "    hours: {weekdays: \"08:00-12:00\", sat-sun: 10:00-11:00}\n"
                  "  - id: b\n"
                  "    hours: {daily: 00:00-24:00}\n"
                  "  - id: c\n"
                  "    hours: {Fri-Mon: 20:00-24:00, tuesday: off}\n"
                  "routing:\n  rules:\n    - to: rep:a\n");
    const struct routing_rep *a = &cfg->routing.reps[0], *b = &cfg->routing.reps[1],
                             *c = &cfg->routing.reps[2];
    assert_true(works_at(a, 2026, 3, 4, 8, 0));
    assert_true(works_at(a, 2026, 3, 8, 10, 30));
    assert_false(works_at(a, 2026, 3, 8, 11, 0));
    assert_true(works_at(b, 2026, 3, 8, 23, 59));
    assert_true(works_at(b, 2026, 3, 8, 0, 0));
    assert_true(works_at(c, 2026, 3, 6, 21, 0));   /* Fri */
    assert_true(works_at(c, 2026, 3, 9, 21, 0));   /* Mon */
    assert_false(works_at(c, 2026, 3, 10, 21, 0)); /* Tue */
    assert_false(works_at(c, 2026, 3, 11, 21, 0)); /* Wed */
    assert_int_equal(cfg->routing.n_rules, 1);
    assert_int_equal(cfg->routing.rules[0].fallback, ROUTE_FALLBACK_HOLD);
    config_unref(cfg);
}

static void test_pool_offer(void **state)
{
    struct config *cfg = load_ok(
        "version: 1\n"
        "reps:\n  - id: a\n  - id: b\n  - id: c\n"
        "pools:\n"
        "  - {id: plain, strategy: round_robin, members: [a]}\n"
        "  - {id: direct, strategy: weighted, offer: direct, members: [a]}\n"
        "  - {id: wide, strategy: load_balanced, offer: broadcast, members: [a, b, c]}\n"
        "  - {id: two, strategy: round_robin, offer: broadcast, offer_to: 2, members: [a]}\n"
        "  - {id: most, strategy: fair_share, offer: broadcast, offer_to: 20, members: [c]}\n"
        "  - {id: null-offer, strategy: weighted, offer: ~, offer_to: ~, members: [b]}\n");
    const struct routing_pool *p = cfg->routing.pools;
    assert_int_equal(cfg->routing.n_pools, 6);
    /* direct, by default or said: offered to the one rep the strategy picks */
    assert_int_equal(p[0].offer, POOL_OFFER_DIRECT);
    assert_int_equal(p[0].offer_to, 1);
    assert_int_equal(p[1].offer, POOL_OFFER_DIRECT);
    assert_int_equal(p[1].offer_to, 1);
    /* broadcast: to 3 at once unless offer_to says otherwise */
    assert_int_equal(p[2].offer, POOL_OFFER_BROADCAST);
    assert_int_equal(p[2].offer_to, 3);
    assert_int_equal(p[3].offer, POOL_OFFER_BROADCAST);
    assert_int_equal(p[3].offer_to, 2);
    assert_int_equal(p[4].offer_to, 20);
    assert_int_equal(p[5].offer, POOL_OFFER_DIRECT);
    assert_int_equal(p[5].offer_to, 1);
    config_unref(cfg);
}

/* ---- errors ---- */

#define RULES_HEAD                                                                                 \
    "version: 1\nreps:\n  - id: a\npools:\n  - {id: p, strategy: weighted, members: [a]}\n"

static void test_error_targets(void **state)
{
    expect_error(RULES_HEAD "routing:\n  rules:\n    - to: pool:q\n",
                 "t.yaml:8:11: ", "routing.rules[0].to: no pool has the id 'q'");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - to: rep:bob\n",
                 "t.yaml:8:11: ", "routing.rules[0].to: no rep has the id 'bob'");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - to: pool\n", "t.yaml:8:11: ",
                 "'pool' is not a target; expected pool:ID, rep:ID, account_owner, lead_owner or "
                 "hold");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - name: x\n",
                 "t.yaml:8:7: ", "routing.rules[0]: missing required key 'to'");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - {to: hold, fallback: next_rule}\n",
                 "t.yaml:8:28: ", "routing.rules[0].fallback: means nothing with `to: hold`");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - {to: hold, skills: [x]}\n",
                 "t.yaml:8:26: ", "routing.rules[0].skills: means nothing with `to: hold`");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - {to: pool:p, fallback: later}\n",
                 "t.yaml:8:30: ", "routing.rules[0].fallback: expected next_rule or hold");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - {to: hold, priority: 1}\n", "t.yaml:8:18: ",
                 "unknown key 'priority' in routing.rules[0]; expected one of: name, when, to, "
                 "fallback, languages, skills");
}

static void test_error_rule_list(void **state)
{
    /* The last rule has a `when`: no default. */
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {to: lead_owner}\n"
                            "    - to: pool:p\n"
                            "      when: score > 50\n",
                 "t.yaml:10:13: ",
                 "routing.rules[1].when: the last routing rule must have no `when`: it is the "
                 "default that catches every lead");
    expect_error(RULES_HEAD "routing:\n  rules:\n    - {when: score > 1, to: hold}\n",
                 "t.yaml:8:14: ", "the last routing rule must have no `when`");
    expect_error(RULES_HEAD "routing:\n  rules: []\n",
                 "t.yaml:7:10: ", "routing.rules: at least one rule is required");
    expect_error(RULES_HEAD "routing: {}\n",
                 "t.yaml:6:10: ", "routing.rules: at least one rule is required");
    expect_error(RULES_HEAD "routing:\n  rule: []\n",
                 "t.yaml:7:3: ", "unknown key 'rule' in routing; expected one of: rules");
    /* Duplicate names, given or defaulted */
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {name: x, when: score > 1, to: pool:p}\n"
                            "    - {name: x, to: hold}\n",
                 "t.yaml:9:14: ",
                 "routing.rules[1].name: duplicate rule name 'x' (first defined at line 8)");
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {when: score > 1, to: pool:p}\n"
                            "    - {name: rule-1, to: hold}\n",
                 "t.yaml:9:14: ", "duplicate rule name 'rule-1'");
    /* A rule after one that always decides is never reached */
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {to: pool:p}\n"
                            "    - {to: hold}\n",
                 "t.yaml:9:7: ",
                 "routing.rules[1]: never reached: rules[0] before it has no "
                 "`when` and always decides");
    /* A condition is compiled like a qualification rule, errors at the character */
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {when: \"contry == 1\", to: pool:p}\n"
                            "    - {to: hold}\n",
                 "t.yaml:8:15: ", "routing.rules[0].when: unknown field 'contry'");
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - when: score >=\n"
                            "      to: pool:p\n"
                            "    - {to: hold}\n",
                 "t.yaml:8:21: ", "routing.rules[0].when: expected a value after '>='");
}

static void test_error_pools(void **state)
{
    const char *head = "version: 1\nteams:\n  - id: t\nreps:\n  - id: a\npools:\n";
    char yaml[1024];
#define POOL_ERROR(pool, prefix, part)                                                             \
    (snprintf(yaml, sizeof(yaml), "%s%s", head, pool), expect_error(yaml, prefix, part))
    POOL_ERROR(
        "  - {id: p, strategy: weighted, window: week, members: [a]}\n", "t.yaml:7:41: ",
        "pools[0].window: only fair_share and best_match pools have a window (this is weighted)");
    POOL_ERROR("  - {id: p, strategy: round_robin, absence: catch_up, members: [a]}\n",
               "t.yaml:7:45: ",
               "pools[0].absence: only fair_share and best_match pools have an absence policy");
    POOL_ERROR("  - {id: p, strategy: fair_share, window: year, members: [a]}\n",
               "t.yaml:7:43: ", "pools[0].window: expected day, week or month");
    POOL_ERROR("  - {id: p, strategy: fair_share, absence: maybe, members: [a]}\n",
               "t.yaml:7:44: ", "pools[0].absence: expected catch_up or no_catch_up");
    POOL_ERROR("  - {id: p, strategy: best, members: [a]}\n", "t.yaml:7:23: ",
               "pools[0].strategy: expected round_robin, weighted, load_balanced, fair_share or "
               "best_match");
    POOL_ERROR("  - {id: p, members: [a]}\n",
               "t.yaml:7:5: ", "pools[0]: missing required key 'strategy'");
    POOL_ERROR("  - {id: p, strategy: weighted}\n", "t.yaml:7:5: ",
               "pools[0]: no members; give members (rep ids), teams (team ids) or both");
    POOL_ERROR("  - {id: p, strategy: weighted, teams: [t]}\n",
               "t.yaml:7:40: ", "pools[0]: no members: the teams listed have no reps");
    POOL_ERROR("  - {id: p, strategy: weighted, members: []}\n",
               "t.yaml:7:42: ", "pools[0]: no members: the list is empty");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a, b]}\n",
               "t.yaml:7:46: ", "pools[0].members[1]: no rep has the id 'b'");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a, a]}\n",
               "t.yaml:7:46: ", "pools[0].members[1]: 'a' is listed twice");
    POOL_ERROR("  - {id: p, strategy: weighted, teams: [x]}\n",
               "t.yaml:7:41: ", "pools[0].teams[0]: no team has the id 'x'");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], timezone: Mars/Base}\n",
               "t.yaml:7:57: ", "pools[0].timezone: unknown time zone 'Mars/Base'");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a]}\n"
               "  - {id: p, strategy: weighted, members: [a]}\n",
               "t.yaml:8:10: ", "duplicate pool id 'p' (first defined at line 7)");
    POOL_ERROR("  - {id: P, strategy: weighted, members: [a]}\n",
               "t.yaml:7:10: ", "pools[0].id: 'P' is not a valid id");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], size: 3}\n",
               "t.yaml:7:47: ", "unknown key 'size' in pools[0]");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: all}\n",
               "t.yaml:7:54: ", "pools[0].offer: expected direct or broadcast");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: [broadcast]}\n",
               "t.yaml:7:54: ", "pools[0].offer: expected direct or broadcast");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer_to: 2}\n", "t.yaml:7:57: ",
               "pools[0].offer_to: only broadcast pools offer a lead to several reps at once; "
               "add `offer: broadcast` or remove it");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: direct, offer_to: 2}\n",
               "t.yaml:7:72: ", "pools[0].offer_to: only broadcast pools offer");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: broadcast, offer_to: 1}\n",
               "t.yaml:7:75: ", "pools[0].offer_to: 1 is out of range (2 .. 20)");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: broadcast, offer_to: 21}\n",
               "t.yaml:7:75: ", "pools[0].offer_to: 21 is out of range (2 .. 20)");
    POOL_ERROR("  - {id: p, strategy: weighted, members: [a], offer: broadcast, offer_to: x}\n",
               "t.yaml:7:75: ", "pools[0].offer_to: expected a whole number");
#undef POOL_ERROR
}

static void test_error_hours(void **state)
{
    expect_error("version: 1\nreps:\n  - id: a\n    hours: {mon: \"9-17\"}\n",
                 "t.yaml:4:19: ", "reps[0].hours.mon: expected hours such as \"09:00-17:30\"");
    /* The error points at the interval at fault inside the value. */
    expect_error(
        "version: 1\nreps:\n  - id: a\n    hours:\n      mon: \"09:00-12:00, 13:00-25:00\"\n",
        "t.yaml:5:26: ", "reps[0].hours.mon: expected hours");
    expect_error(
        "version: 1\nreps:\n  - id: a\n    hours:\n      mon: 09:00-12:00, 11:00-13:00\n",
        "t.yaml:5:25: ", "reps[0].hours.mon: Monday: 11:00-13:00 overlaps another interval");
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      mon: 09:00-09:00\n",
                 "t.yaml:5:12: ", "reps[0].hours.mon: Monday: empty interval at 09:00");
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      mon: 24:00-02:00\n",
                 "t.yaml:5:12: ", "24:00 can only end an interval");
    expect_error(
        "version: 1\nreps:\n  - id: a\n    hours:\n      mon-fri: 09:00-17:00\n"
        "      fri: 18:00-19:00\n",
        "t.yaml:6:7: ", "reps[0].hours: Friday is given twice (first by 'mon-fri' at line 5)");
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      mon-tue: 09:00-17:00\n"
                 "      daily: off\n",
                 "t.yaml:6:7: ", "reps[0].hours: Monday is given twice");
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      mo-fr: 09:00-17:00\n",
                 "t.yaml:5:7: ", "reps[0].hours: 'mo-fr' is not a day");
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      mon-mon: 09:00-17:00\n",
                 "t.yaml:5:7: ", "'mon-mon' is not a day");
    expect_error("version: 1\nreps:\n  - id: a\n    hours: 09:00-17:00\n",
                 "t.yaml:4:12: ", "reps[0].hours: expected a mapping of days to hours");
    expect_error("version: 1\nreps:\n  - id: a\n    hours: {}\n",
                 "t.yaml:4:12: ", "reps[0].hours: no days given");
    expect_error("version: 1\nreps:\n  - id: a\n    hours: {mon: [09:00-17:00]}\n",
                 "t.yaml:4:18: ", "reps[0].hours.mon: expected hours such as");
    /* An overnight shift that runs into hours of the next day */
    expect_error("version: 1\nreps:\n  - id: a\n    hours:\n      sun: 22:00-06:00\n"
                 "      mon: 05:00-09:00\n",
                 "t.yaml:6:12: ", "Monday: 05:00-09:00 overlaps another interval");
    expect_error("version: 1\nteams:\n  - id: t\n    hours: {sun: 1}\n",
                 "t.yaml:4:18: ", "teams[0].hours.sun: expected hours");
}

static void test_error_holidays_territories_zones(void **state)
{
    expect_error("version: 1\nreps:\n  - id: a\n    holidays: [2026-12-24, 2026-02-30]\n",
                 "t.yaml:4:28: ",
                 "reps[0].holidays[1]: '2026-02-30' is not a date; expected "
                 "YYYY-MM-DD");
    expect_error("version: 1\nreps:\n  - id: a\n    holidays: [24.12.2026]\n",
                 "t.yaml:4:16: ", "reps[0].holidays[0]: '24.12.2026' is not a date");
    expect_error("version: 1\nteams:\n  - id: t\n    holidays: 2026-12-24\n",
                 "t.yaml:4:15: ", "teams[0].holidays: expected a list of dates");
    expect_error("version: 1\nreps:\n  - id: a\n    territories: [DE, Atlantis]\n", "t.yaml:4:23: ",
                 "reps[0].territories[1]: 'Atlantis' is neither a country (DE, DEU, Germany) nor a "
                 "region (NA, LATAM, APAC, EMEA)");
    expect_error("version: 1\nreps:\n  - id: a\n    territories: [Namibia]\n",
                 "t.yaml:4:19: ", "reps[0].territories[0]: 'Namibia' is Namibia");
    expect_error("version: 1\nreps:\n  - id: a\n    territories: DE\n",
                 "t.yaml:4:18: ", "reps[0].territories: expected a list of countries and regions");
    expect_error("version: 1\nteams:\n  - id: t\n    timezone: Europe/Berln\n",
                 "t.yaml:4:15: ", "teams[0].timezone: unknown time zone 'Europe/Berln'");
    expect_error("version: 1\nreps:\n  - id: a\n    timezone: GMT+05:00\n",
                 "t.yaml:4:15: ", "reps[0].timezone: unknown time zone");
}

static void test_error_rep_values(void **state)
{
    expect_error("version: 1\nreps:\n  - id: a\n    weight: 0.0009\n",
                 "t.yaml:4:13: ", "reps[0].weight: expected a number from 0.001 to 1000");
    expect_error("version: 1\nreps:\n  - id: a\n    weight: 1000.5\n",
                 "t.yaml:4:13: ", "reps[0].weight: expected a number from 0.001 to 1000");
    expect_error("version: 1\nreps:\n  - id: a\n    daily_cap: -1\n", "t.yaml:4:16: ",
                 "reps[0].daily_cap: expected a whole number from 0 to 1000000000, or "
                 "'unlimited'");
    expect_error("version: 1\nreps:\n  - id: a\n    weekly_cap: 1000000001\n",
                 "t.yaml:4:17: ", "reps[0].weekly_cap: expected a whole number");
    expect_error("version: 1\nreps:\n  - id: a\n    capacity: 2.5\n",
                 "t.yaml:4:15: ", "reps[0].capacity: expected a whole number");
    expect_error("version: 1\nreps:\n  - id: a\n    manager: boss\n",
                 "t.yaml:4:14: ", "reps[0].manager: no rep has the id 'boss'");
    expect_error("version: 1\naccounts:\n  name_threshold: 0\n", "t.yaml:3:19: ",
                 "accounts.name_threshold: expected a number greater than 0 and at most 1");
    expect_error("version: 1\naccounts:\n  name_threshold: 1.01\n",
                 "t.yaml:3:19: ", "accounts.name_threshold");
    expect_error("version: 1\naccounts:\n  threshold: 0.5\n", "t.yaml:3:3: ",
                 "unknown key 'threshold' in accounts; expected one of: name_threshold");
}

/* Teams give defaults; each of a rep's own values replaces the team's alone. */
static void test_team_defaults(void **state)
{
    struct config *cfg = load_ok("version: 1\n"
                                 "teams:\n"
                                 "  - id: t\n"
                                 "    timezone: Asia/Tokyo\n"
                                 "    hours: {weekdays: 09:00-18:00}\n"
                                 "    holidays: [2026-01-01]\n"
                                 "reps:\n"
                                 "  - {id: a, team: t}\n"
                                 "  - {id: b, team: t, timezone: Europe/London}\n"
                                 "  - {id: c, team: t, hours: {sat: 10:00-14:00}}\n"
                                 "  - {id: d, team: t, holidays: [2026-01-02]}\n");
    const struct routing_rep *r = cfg->routing.reps;
    /* a: all the team's */
    assert_string_equal(r[0].tz->name, "Asia/Tokyo");
    assert_string_equal(cfg->reps[0].timezone, "Asia/Tokyo");
    assert_true(works_at(&r[0], 2026, 3, 2, 9, 0));
    assert_false(works_at(&r[0], 2026, 1, 1, 10, 0));
    /* b: own zone, the team's hours on b's own wall clock */
    assert_string_equal(r[1].tz->name, "Europe/London");
    assert_true(works_at(&r[1], 2026, 3, 2, 9, 0));
    assert_false(works_at(&r[1], 2026, 3, 2, 8, 59));
    assert_false(works_at(&r[1], 2026, 1, 1, 10, 0));
    /* c: own hours replace the team's (not merged) */
    assert_string_equal(r[2].tz->name, "Asia/Tokyo");
    assert_false(works_at(&r[2], 2026, 3, 2, 10, 0));
    assert_true(works_at(&r[2], 2026, 3, 7, 10, 0));
    assert_int_equal(r[2].holidays.count, 1);
    /* d: own holidays replace the team's */
    assert_int_equal(r[3].holidays.count, 1);
    assert_int_equal(r[3].holidays.dates[0].day, 2);
    assert_true(works_at(&r[3], 2026, 1, 1, 10, 0));
    assert_false(works_at(&r[3], 2026, 1, 2, 10, 0));
    config_unref(cfg);
}

/* Snapshots with rules and zones are freed whole, also when a load fails
 * after rules were compiled (LeakSanitizer checks). */
static void test_release_after_failure(void **state)
{
    expect_error(RULES_HEAD "routing:\n  rules:\n"
                            "    - {when: score > 1, to: pool:p}\n"
                            "    - {when: score > 2, to: pool:p, fallback: never}\n"
                            "    - {to: hold}\n",
                 "t.yaml:9:47: ", "expected next_rule or hold");
    for (int i = 0; i < 3; i++) {
        struct config *cfg = load_ok(routing_yaml);
        struct config *again = config_ref(cfg);
        config_unref(cfg);
        assert_int_equal(again->routing.n_rules, 5);
        config_unref(again);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_values),
        cmocka_unit_test(test_routing_defaults),
        cmocka_unit_test(test_pool_offer),
        cmocka_unit_test(test_error_targets),
        cmocka_unit_test(test_error_rule_list),
        cmocka_unit_test(test_error_pools),
        cmocka_unit_test(test_error_hours),
        cmocka_unit_test(test_error_holidays_territories_zones),
        cmocka_unit_test(test_error_rep_values),
        cmocka_unit_test(test_team_defaults),
        cmocka_unit_test(test_release_after_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
