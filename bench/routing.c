/*
 * bench/routing.c - in-process routing decisions per second: route_decide()
 * with 200 rules, 500 reps in 20 pools of 25, on one thread.
 *
 *   build/bench/routing [--seconds S] [--runs N] [--leads N]
 *
 * The configuration is synthetic but shaped like a real one: reps in 41 time
 * zones (each pool's reps live in 1-5 zones of its region and alternate
 * between them, as in a config that lists reps by name), weekly office
 * hours (some split, some around the clock), holidays, languages, skills,
 * territories, capacities and daily/weekly caps; 20 pools mixing the four
 * strategies (fair_share with both absence policies and day/week/month
 * windows in the pool's zone), territory matching and one out_of_hours pool;
 * 200 rules: lead_owner, account_owner, named-rep VIP rules, hold rules, 175
 * pool rules over country/region/employees/score/industry/source/band with
 * `in` lists, some requiring a language or a skill, regional catch-alls and a
 * default. Each lead is generated to satisfy one rule picked at random, so
 * leads are placed at every depth (a lead may also match an earlier rule);
 * 10% are returning leads with an owner and 15% belong to an account with an
 * owner.
 *
 * Each decision runs as the engine runs it: a fresh arena (released after
 * the decision: one or two malloc/free), rep runtimes served from an array by
 * the callback, the pool's state served from memory and the decision's
 * `after` copied back into that memory (the next decision's input). The
 * clock advances 1 ms per decision (monotonic, as fair_share requires), the
 * chosen rep's open count grows and a random open assignment closes. The
 * lead's rule slots are filled once up front with score_fill_lead() (the
 * engine fills them for scoring anyway); a second figure includes
 * score_fill_lead() in every decision.
 *
 * Prints decisions/s (best and mean of N runs of S seconds, per wall-clock
 * second and per CPU-second of the thread: they differ when the machine is
 * busy), ns per decision, p50/p99 per decision from batches of 32 decisions
 * timed together (so that reading the clock costs under 1%), p50/p99/max of
 * single decisions timed one in 64 (these include two clock reads), the
 * share assigned and held (by reason), rules tried per decision, the time of
 * the rule scan alone, and RSS. Last, the same configuration with each
 * pool's members listed by zone, which shows what converting local time
 * per member rather than per zone costs. A fixed seed makes runs comparable.
 */
#include "core/lead.h"
#include "core/normalize.h"
#include "core/routing.h"
#include "core/routing_json.h"
#include "core/score.h"
#include "util/timeutil.h"
#include "util/tzdb.h"

#include <getopt.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_POOLS     20
#define POOL_SIZE   25
#define N_REPS      (N_POOLS * POOL_SIZE)
#define N_RULES     200
#define BATCH       32
#define SAMPLE_EACH 64
#define MIN_MS      60000LL
#define HOUR_MS     3600000LL
#define DAY_MS      86400000LL
/* Wednesday 2026-06-10 13:00 UTC: Europe's afternoon, America's morning,
 * Asia-Pacific's evening. */
#define START_MS 1781096400000LL

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

#define PICK(a) (a)[rnd(COUNT_OF(a))]

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return xstrdup(buf);
}

static void die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

/* ---- the world ------------------------------------------------------------------------------ */

enum region { EMEA, NA, LATAM, APAC, GLOBAL };

static const char *const region_names[] = {"EMEA", "NA", "LATAM", "APAC", NULL};

/* Zone tables by name, built once (as the config loader does) and shared by reps. */
#define ZONES_MAX 48
static struct {
    const char *name;
    struct tz_table *table;
} zone_cache[ZONES_MAX];
static size_t n_zones;

static const struct tz_table *zone(const char *name)
{
    for (size_t i = 0; i < n_zones; i++)
        if (strcmp(zone_cache[i].name, name) == 0)
            return zone_cache[i].table;
    if (n_zones == ZONES_MAX)
        die("too many zones");
    struct bt_error err = BT_ERROR_INIT;
    if (tz_table_new(name, &zone_cache[n_zones].table, &err) != BT_OK) {
        fprintf(stderr, "bench: %s\n", err.message);
        exit(1);
    }
    zone_cache[n_zones].name = name;
    return zone_cache[n_zones++].table;
}

struct pool_spec {
    const char *id;
    enum region region;
    const char *countries[4]; /* the territories of its reps; none: the region's */
    const char *languages[4];
    const char *zones[5]; /* its reps' zones, interleaved (the config lists reps by name) */
};

static const struct pool_spec pool_specs[N_POOLS] = {
    {"dach-enterprise",
     EMEA,
     {"DE", "AT", "CH"},
     {"de", "en"},
     {"Europe/Berlin", "Europe/Vienna", "Europe/Zurich"}},
    {"dach-smb", EMEA, {"DE", "AT", "CH"}, {"de", "en"}, {"Europe/Berlin", "Europe/Vienna"}},
    {"uk-ireland", EMEA, {"GB", "IE"}, {"en"}, {"Europe/London", "Europe/Dublin"}},
    {"france-benelux",
     EMEA,
     {"FR", "BE", "NL", "LU"},
     {"fr", "en", "nl"},
     {"Europe/Paris", "Europe/Brussels", "Europe/Amsterdam"}},
    {"nordics",
     EMEA,
     {"SE", "NO", "DK", "FI"},
     {"en", "sv"},
     {"Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki"}},
    {"southern-europe",
     EMEA,
     {"ES", "IT", "PT"},
     {"es", "it", "en"},
     {"Europe/Madrid", "Europe/Rome", "Europe/Lisbon"}},
    {"middle-east-africa",
     EMEA,
     {"AE", "SA", "ZA", "EG"},
     {"en", "ar", "fr"},
     {"Asia/Dubai", "Asia/Riyadh", "Africa/Johannesburg", "Africa/Cairo"}},
    {"emea-inbound",
     EMEA,
     {NULL},
     {"en", "de", "fr"},
     {"Europe/Dublin", "Europe/Berlin", "Europe/Lisbon", "Europe/Madrid", "Europe/London"}},
    {"na-east-enterprise", NA, {"US"}, {"en"}, {"America/New_York", "America/Detroit"}},
    {"na-west-enterprise",
     NA,
     {"US"},
     {"en", "es"},
     {"America/Los_Angeles", "America/Denver", "America/Phoenix"}},
    {"na-central", NA, {"US"}, {"en"}, {"America/Chicago"}},
    {"na-smb",
     NA,
     {"US", "CA"},
     {"en", "es"},
     {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}},
    {"canada", NA, {"CA"}, {"en", "fr"}, {"America/Toronto", "America/Vancouver"}},
    {"na-inbound", NA, {NULL}, {"en"}, {"America/New_York", "America/Chicago"}},
    {"brazil", LATAM, {"BR"}, {"pt", "en", "es"}, {"America/Sao_Paulo"}},
    {"latam-spanish",
     LATAM,
     {"MX", "AR", "CO", "CL"},
     {"es", "en"},
     {"America/Mexico_City", "America/Bogota", "America/Argentina/Buenos_Aires",
      "America/Santiago"}},
    {"anz",
     APAC,
     {"AU", "NZ"},
     {"en"},
     {"Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland"}},
    {"japan", APAC, {"JP"}, {"ja", "en"}, {"Asia/Tokyo"}},
    {"india-sea",
     APAC,
     {"IN", "SG", "MY", "ID"},
     {"en", "hi"},
     {"Asia/Kolkata", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Jakarta"}},
    {"follow-the-sun",
     GLOBAL,
     {NULL},
     {"en"},
     {"Europe/London", "America/New_York", "Asia/Singapore", "Australia/Sydney", "UTC"}},
};

/* The zone of the pool's fair_share window: its reps' first, UTC for the global pool. */
static const char *pool_zone(const struct pool_spec *ps)
{
    return ps->region == GLOBAL ? "UTC" : ps->zones[0];
}

static const char *const all_countries[] = {
    "DE", "AT", "CH", "GB", "IE", "FR", "BE", "NL", "LU", "SE", "NO", "DK", "FI",
    "ES", "IT", "PT", "AE", "SA", "ZA", "EG", "US", "CA", "BR", "MX", "AR", "CO",
    "CL", "AU", "NZ", "JP", "IN", "SG", "MY", "ID", "PL", "TR", "KR", "PH"};
static const char *const industries[] = {"software",      "finance",    "healthcare", "retail",
                                         "manufacturing", "logistics",  "education",  "media",
                                         "energy",        "government", "telecom",    "insurance"};
static const char *const sources[] = {"website", "webinar",  "event",  "partner",
                                      "ads",     "referral", "content"};
static const char *const skills_all[] = {"enterprise", "smb",           "healthcare",   "finance",
                                         "saas",       "public_sector", "manufacturing"};
static const char *const titles[] = {"VP Sales",        "Head of Marketing", "CTO",
                                     "IT Manager",      "Student",           "CEO",
                                     "Director of Ops", "Procurement Lead",  "Engineer"};

/* One rep's owned data behind struct routing_rep. */
struct rep_data {
    char id[48];
    const char *languages[4];
    const char *skills[3];
    const char *territories[5];
    struct holiday_date holidays[5];
};

struct bench_config {
    struct routing_config cfg;
    struct routing_rep reps[N_REPS];
    struct rep_data data[N_REPS];
    struct routing_pool pools[N_POOLS];
    size_t members[N_POOLS][POOL_SIZE];
    struct routing_rule rules[N_RULES];
    uint32_t reps_by_id[N_REPS]; /* as config/ builds it */
    struct rule *when[N_RULES];
    char *texts[N_RULES];
    struct rule_symtab *syms;
};

static void add_interval(struct weekly_hours *h, int day, unsigned start, unsigned end)
{
    if (workhours_add_interval(h, (enum weekday)day, start, end, NULL) != BT_OK)
        die("bad interval");
}

static void build_rep(struct bench_config *b, size_t i, size_t pool, size_t k)
{
    const struct pool_spec *ps = &pool_specs[pool];
    struct rep_data *rd = &b->data[i];
    struct routing_rep *r = &b->reps[i];
    snprintf(rd->id, sizeof(rd->id), "rep.%s.%02zu", ps->id, k);
    size_t nz = 0;
    while (nz < 5 && ps->zones[nz])
        nz++;
    const struct tz_table *tz = zone(ps->zones[k % nz]);
    *r = (struct routing_rep){.id = rd->id,
                              .active = rnd(100) >= 2,
                              .tz = tz,
                              .hours = WEEKLY_HOURS_INIT,
                              .weight = (double)(1 + rnd(3)) * (rnd(4) == 0 ? 0.5 : 1.0),
                              .capacity = rnd(10) < 3 ? ROUTING_UNLIMITED : 20 + (int64_t)rnd(41),
                              .daily_cap = rnd(2) ? ROUTING_UNLIMITED : 8 + (int64_t)rnd(23),
                              .weekly_cap =
                                  rnd(10) < 6 ? ROUTING_UNLIMITED : 40 + (int64_t)rnd(111)};
    /* hours: office hours, split shifts, around the clock */
    unsigned roll = (unsigned)rnd(10);
    if (roll < 8) {
        unsigned start = 8 * 60 + 30 * (unsigned)rnd(3), end = 17 * 60 + 30 * (unsigned)rnd(3);
        r->has_hours = true;
        for (int d = 0; d < 5; d++)
            add_interval(&r->hours, d, start, end);
        if (rnd(10) == 0)
            add_interval(&r->hours, 5, 10 * 60, 14 * 60);
    } else if (roll == 8) {
        r->has_hours = true;
        for (int d = 0; d < 5; d++) {
            add_interval(&r->hours, d, 9 * 60, 12 * 60 + 30);
            add_interval(&r->hours, d, 13 * 60 + 30, 18 * 60);
        }
    }
    /* holidays: New Year, 1 May, Christmas, one of the region's */
    static const struct holiday_date fixed[] = {{2026, 1, 1}, {2026, 5, 1}, {2026, 12, 25}};
    rd->holidays[0] = fixed[0];
    rd->holidays[1] = fixed[1];
    rd->holidays[2] = (struct holiday_date){2026, 7, (uint8_t)(1 + ps->region)};
    rd->holidays[3] = fixed[2];
    r->holidays = (struct holidays){rd->holidays, 4};
    /* languages of the pool, the first always, the others by chance */
    size_t nl = 0;
    for (size_t j = 0; j < 4 && ps->languages[j]; j++)
        if (j == 0 || rnd(3) != 0)
            rd->languages[nl++] = ps->languages[j];
    r->languages = rd->languages;
    r->n_languages = nl;
    size_t ns = 1 + rnd(3);
    for (size_t j = 0; j < ns; j++)
        rd->skills[j] = skills_all[(i + j * 3) % COUNT_OF(skills_all)];
    r->skills = rd->skills;
    r->n_skills = ns;
    /* territories: the pool's countries; some the whole region; some none */
    size_t nt = 0;
    unsigned t = (unsigned)rnd(10);
    if (t == 0 && region_names[ps->region]) {
        rd->territories[nt++] = region_names[ps->region];
    } else if (t != 1) {
        for (size_t j = 0; j < 4 && ps->countries[j]; j++)
            rd->territories[nt++] = ps->countries[j];
        if (nt == 0 && region_names[ps->region])
            rd->territories[nt++] = region_names[ps->region];
    }
    r->territories = rd->territories;
    r->n_territories = nt;
}

/* ---- rules ---------------------------------------------------------------------------------- */

/* What a generated pool rule asks of a lead, so that leads can be made to match it. */
struct rule_spec {
    const char *countries[4];
    size_t n_countries;
    const char *region;
    const char *industries[2];
    size_t n_industries;
    int64_t employees_min, employees_max; /* -1: no bound */
    int score_min;                        /* -1: none */
    const char *sources[2];
    size_t n_sources;
    bool not_free;
    const char *band_in[2];
    size_t n_bands;
    const char *title; /* hold rules: title contains */
    bool free_mail;    /* hold rules: email.free */
};

static struct rule_spec specs[N_RULES];

static void append(char *buf, size_t size, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *f, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf + len, size - len, f, ap);
    va_end(ap);
}

static void append_list(char *buf, size_t size, const char *path, const char *const *items,
                        size_t n)
{
    if (n == 1) {
        append(buf, size, "%s%s == \"%s\"", *buf ? " and " : "", path, items[0]);
        return;
    }
    append(buf, size, "%s%s in [", *buf ? " and " : "", path);
    for (size_t i = 0; i < n; i++)
        append(buf, size, "%s\"%s\"", i ? ", " : "", items[i]);
    append(buf, size, "]");
}

static char *spec_text(const struct rule_spec *s)
{
    char buf[1024] = "";
    if (s->title)
        append(buf, sizeof(buf), "title contains \"%s\"", s->title);
    if (s->free_mail)
        append(buf, sizeof(buf), "%semail.free", *buf ? " and " : "");
    if (s->n_countries)
        append_list(buf, sizeof(buf), "country", s->countries, s->n_countries);
    if (s->region)
        append(buf, sizeof(buf), "%sregion == \"%s\"", *buf ? " and " : "", s->region);
    if (s->n_industries)
        append_list(buf, sizeof(buf), "industry", s->industries, s->n_industries);
    if (s->employees_min >= 0)
        append(buf, sizeof(buf), "%semployees >= %lld", *buf ? " and " : "",
               (long long)s->employees_min);
    if (s->employees_max >= 0)
        append(buf, sizeof(buf), "%semployees < %lld", *buf ? " and " : "",
               (long long)s->employees_max);
    if (s->score_min >= 0)
        append(buf, sizeof(buf), "%sscore >= %d", *buf ? " and " : "", s->score_min);
    if (s->n_sources)
        append_list(buf, sizeof(buf), "source", s->sources, s->n_sources);
    if (s->not_free)
        append(buf, sizeof(buf), "%snot email.free", *buf ? " and " : "");
    if (s->n_bands)
        append_list(buf, sizeof(buf), "employees_band", s->band_in, s->n_bands);
    return *buf ? xstrdup(buf) : NULL;
}

/* Countries a pool rule can name: the pool's, or its region's. */
static size_t pool_countries(size_t pool, const char **out)
{
    const struct pool_spec *ps = &pool_specs[pool];
    size_t n = 0;
    for (size_t j = 0; j < 4 && ps->countries[j]; j++)
        out[n++] = ps->countries[j];
    if (n == 0)
        for (size_t j = 0; j < COUNT_OF(all_countries); j++) {
            const char *region = normalize_region(all_countries[j]);
            if (region_names[ps->region] && strcmp(region, region_names[ps->region]) == 0)
                out[n++] = all_countries[j];
        }
    return n;
}

static const char *const bands[] = {"1-10", "11-50", "51-200", "201-500", "501-1000", "1000+"};

static void pool_rule_spec(size_t pool, unsigned pattern, struct rule_spec *s)
{
    const char *countries[64];
    size_t nc = pool_countries(pool, countries);
    *s = (struct rule_spec){.employees_min = -1, .employees_max = -1, .score_min = -1};
    switch (pattern % 6) {
    case 0:
        s->n_countries = nc < 3 ? nc : 1 + rnd(3);
        for (size_t i = 0; i < s->n_countries; i++)
            s->countries[i] = countries[(i + rnd(nc)) % nc];
        s->industries[s->n_industries++] = PICK(industries);
        s->employees_min = (int64_t)(50 * (1 + rnd(20)));
        break;
    case 1:
        s->countries[s->n_countries++] = countries[rnd(nc)];
        s->employees_min = (int64_t)(10 * (1 + rnd(50)));
        s->employees_max = s->employees_min * (int64_t)(2 + rnd(10));
        s->score_min = 40 + (int)rnd(50);
        break;
    case 2:
        s->region = region_names[pool_specs[pool].region];
        s->industries[s->n_industries++] = industries[rnd(6)];
        s->industries[s->n_industries++] = industries[6 + rnd(6)];
        s->sources[s->n_sources++] = PICK(sources);
        break;
    case 3:
        s->countries[s->n_countries++] = countries[rnd(nc)];
        s->sources[s->n_sources++] = "webinar";
        s->sources[s->n_sources++] = "event";
        s->score_min = 30 + (int)rnd(60);
        break;
    case 4:
        s->n_countries = nc < 4 ? nc : 4;
        for (size_t i = 0; i < s->n_countries; i++)
            s->countries[i] = countries[(i + rnd(nc)) % nc];
        s->not_free = true;
        s->band_in[s->n_bands++] = bands[3 + rnd(3)];
        s->band_in[s->n_bands++] = bands[rnd(3)];
        break;
    default:
        s->region = region_names[pool_specs[pool].region];
        s->industries[s->n_industries++] = PICK(industries);
        s->score_min = 50 + (int)rnd(45);
        s->employees_min = (int64_t)(100 * (1 + rnd(30)));
        break;
    }
    /* a repeated country in an `in` list is harmless; drop it from the text anyway */
    for (size_t i = 1; i < s->n_countries; i++)
        for (size_t j = 0; j < i; j++)
            if (s->countries[i] == s->countries[j]) {
                s->countries[i--] = s->countries[--s->n_countries];
                break;
            }
}

static void set_rule(struct bench_config *b, size_t i, const char *name, const struct rule_spec *s,
                     enum route_target target, size_t index, enum route_fallback fallback)
{
    specs[i] = *s;
    b->texts[i] = spec_text(s);
    b->when[i] = NULL;
    if (b->texts[i]) {
        struct rule_error e;
        if (rule_compile(b->syms, b->texts[i], strlen(b->texts[i]), &b->when[i], &e) != BT_OK) {
            fprintf(stderr, "bench: cannot compile '%s': %s\n", b->texts[i], e.message);
            exit(1);
        }
    }
    b->rules[i] = (struct routing_rule){
        .name = name, .when = b->when[i], .target = target, .index = index, .fallback = fallback};
}

static const char *const require_de[] = {"de"}, *const require_fr[] = {"fr"},
                         *const require_es[] = {"es"};

static void build_rules(struct bench_config *b)
{
    struct rule_spec none = {.employees_min = -1, .employees_max = -1, .score_min = -1};
    size_t i = 0;
    set_rule(b, i++, "returning", &none, ROUTE_TO_LEAD_OWNER, 0, ROUTE_FALLBACK_NEXT_RULE);
    set_rule(b, i++, "key-accounts", &none, ROUTE_TO_ACCOUNT_OWNER, 0, ROUTE_FALLBACK_NEXT_RULE);
    /* 8 named-rep VIP rules */
    for (int k = 0; k < 8; k++, i++) {
        struct rule_spec s = none;
        size_t pool = (size_t)k * 2;
        const char *countries[64];
        size_t nc = pool_countries(pool, countries);
        s.countries[s.n_countries++] = countries[rnd(nc)];
        s.score_min = 90;
        s.employees_min = 5000;
        set_rule(b, i, fmt("vip-%d", k), &s, ROUTE_TO_REP, pool * POOL_SIZE + (size_t)k,
                 ROUTE_FALLBACK_NEXT_RULE);
    }
    /* 5 hold rules */
    static const char *const hold_titles[] = {"student", "intern", "freelance"};
    for (int k = 0; k < 5; k++, i++) {
        struct rule_spec s = none;
        if (k < 3) {
            s.title = hold_titles[k];
        } else {
            s.free_mail = true;
            s.employees_max = 5;
            s.sources[s.n_sources++] = k == 3 ? "partner" : "ads";
        }
        set_rule(b, i, fmt("hold-%d", k), &s, ROUTE_TO_HOLD, 0, ROUTE_FALLBACK_HOLD);
    }
    /* 175 pool rules, pools in turn, patterns varied */
    size_t regional = 0;
    while (i < N_RULES - 10) {
        size_t pool = regional++ % (N_POOLS - 1); /* not follow-the-sun */
        struct rule_spec s;
        pool_rule_spec(pool, (unsigned)rnd(6), &s);
        set_rule(b, i, fmt("pool-rule-%zu", i), &s, ROUTE_TO_POOL, pool,
                 rnd(10) < 3 ? ROUTE_FALLBACK_NEXT_RULE : ROUTE_FALLBACK_HOLD);
        /* some rules ask for a language or a skill */
        unsigned ask = (unsigned)rnd(10);
        if (ask == 0 && pool <= 1) {
            b->rules[i].languages = require_de;
            b->rules[i].n_languages = 1;
        } else if (ask == 0 && pool == 3) {
            b->rules[i].languages = require_fr;
            b->rules[i].n_languages = 1;
        } else if (ask == 0 && (pool == 9 || pool == 15)) {
            b->rules[i].languages = require_es;
            b->rules[i].n_languages = 1;
        } else if (ask == 1) {
            b->rules[i].skills = &skills_all[rnd(COUNT_OF(skills_all))];
            b->rules[i].n_skills = 1;
        }
        i++;
    }
    /* regional catch-alls, an escalation and the default */
    static const size_t inbound[] = {7, 13, 15, 18};
    for (int r = 0; r < 4; r++, i++) {
        struct rule_spec s = none;
        s.region = region_names[r];
        s.score_min = 60;
        set_rule(b, i, fmt("%s-qualified", region_names[r]), &s, ROUTE_TO_POOL, inbound[r],
                 ROUTE_FALLBACK_NEXT_RULE);
    }
    for (int r = 0; r < 4; r++, i++) {
        struct rule_spec s = none;
        s.region = region_names[r];
        set_rule(b, i, fmt("%s-inbound", region_names[r]), &s, ROUTE_TO_POOL, inbound[r],
                 ROUTE_FALLBACK_NEXT_RULE);
    }
    {
        struct rule_spec s = none;
        s.score_min = 80;
        set_rule(b, i++, "hot-anywhere", &s, ROUTE_TO_POOL, 19, ROUTE_FALLBACK_NEXT_RULE);
    }
    set_rule(b, i++, "default", &none, ROUTE_TO_POOL, 19, ROUTE_FALLBACK_HOLD);
    if (i != N_RULES)
        die("rule count");
}

static void build_config(struct bench_config *b, bool group_by_zone)
{
    static const enum strategy_kind kinds[] = {STRATEGY_ROUND_ROBIN, STRATEGY_WEIGHTED,
                                               STRATEGY_LOAD_BALANCED, STRATEGY_FAIR_SHARE};
    for (size_t p = 0; p < N_POOLS; p++) {
        for (size_t k = 0; k < POOL_SIZE; k++) {
            build_rep(b, p * POOL_SIZE + k, p, k);
            b->members[p][k] = p * POOL_SIZE + k;
        }
        if (group_by_zone) {
            /* the same members, ordered by zone: one local-time conversion per zone */
            size_t *m = b->members[p];
            for (size_t x = 1; x < POOL_SIZE; x++)
                for (size_t y = x;
                     y > 0 && (uintptr_t)b->reps[m[y - 1]].tz > (uintptr_t)b->reps[m[y]].tz; y--) {
                    size_t t = m[y];
                    m[y] = m[y - 1];
                    m[y - 1] = t;
                }
        }
        const struct pool_spec *ps = &pool_specs[p];
        b->pools[p] = (struct routing_pool){
            .id = ps->id,
            .name = ps->id,
            .strategy = kinds[p % 4],
            .absence = (p / 4) % 2 ? ABSENCE_CATCH_UP : ABSENCE_NO_CATCH_UP,
            .window = (enum pool_window)(p % 3),
            .tz = zone(pool_zone(ps)),
            .out_of_hours = ps->region == GLOBAL,
            .match_territory = ps->countries[0] != NULL,
            .members = b->members[p],
            .n_members = POOL_SIZE,
        };
    }
    b->syms = rule_symtab_new(&score_lead_schema);
    build_rules(b);
    routing_sort_reps(b->reps, N_REPS, b->reps_by_id);
    b->cfg = (struct routing_config){b->reps,  N_REPS,  b->pools,     N_POOLS,
                                     b->rules, N_RULES, b->reps_by_id};
}

/* ---- leads ---------------------------------------------------------------------------------- */

struct bench_lead {
    struct lead lead;
    double score;
    char grade[3];
    const char *lead_owner, *account_id, *account_owner;
    const char *region;
    struct rule_value *slots;
    size_t target_rule; /* the rule it was made to match */
};

/* A lead that satisfies rule `t` (and perhaps an earlier one). */
static void make_lead(struct bench_lead *bl, size_t n, const struct bench_config *b, size_t t)
{
    const struct rule_spec *s = &specs[t];
    struct lead *l = &bl->lead;
    *l = (struct lead){.employees = -1, .fields_json = "{}"};
    const char *country = PICK(all_countries);
    if (s->n_countries)
        country = s->countries[rnd(s->n_countries)];
    else if (s->region)
        for (int k = 0; k < 100 && strcmp(normalize_region(country), s->region) != 0; k++)
            country = PICK(all_countries);
    int64_t lo = s->employees_min >= 0 ? s->employees_min : 1;
    int64_t hi = s->employees_max >= 0 ? s->employees_max : lo + 20000;
    int64_t employees = lo + (int64_t)rnd((uint64_t)(hi - lo));
    if (s->n_bands) {
        /* a size inside the band asked for, and the bounds above */
        static const int64_t band_lo[] = {1, 11, 51, 201, 501, 1001};
        size_t band = 0;
        while (strcmp(bands[band], s->band_in[0]) != 0)
            band++;
        employees = band_lo[band] + (int64_t)rnd(10);
    }
    if (s->employees_max == 5)
        employees = 1 + (int64_t)rnd(4);
    double score = s->score_min >= 0 ? s->score_min + (double)rnd((uint64_t)(101 - s->score_min))
                                     : (double)rnd(101);
    bool free_mail = s->free_mail || (!s->not_free && rnd(5) == 0);
    l->attr[LEAD_COUNTRY] = country;
    l->attr[LEAD_INDUSTRY] =
        s->n_industries ? s->industries[rnd(s->n_industries)] : PICK(industries);
    l->attr[LEAD_SOURCE] = s->n_sources ? s->sources[rnd(s->n_sources)] : PICK(sources);
    l->attr[LEAD_TITLE] = s->title ? fmt("Working %s", s->title) : PICK(titles);
    const char *domain = free_mail ? "gmail.com" : fmt("company%zu.example", n % 997);
    l->attr[LEAD_EMAIL] = fmt("lead%zu@%s", n, domain);
    l->attr[LEAD_EMAIL_DOMAIN] = domain;
    l->attr[LEAD_COMPANY] = fmt("Company %zu", n % 997);
    l->attr[LEAD_STAGE] = "mql";
    l->email_free = free_mail;
    l->employees = employees;
    l->attr[LEAD_EMPLOYEES_BAND] = normalize_employees_band(employees);
    bl->score = score;
    snprintf(bl->grade, sizeof(bl->grade), "%c%c", "ABCD"[rnd(4)], "1234"[rnd(4)]);
    bl->region = normalize_region(country);
    bl->target_rule = t;
    /* returning leads, and leads of accounts with an owner (some no longer reps) */
    unsigned roll = (unsigned)rnd(100);
    if (roll < 10)
        bl->lead_owner = b->reps[rnd(N_REPS)].id;
    else if (roll < 25) {
        bl->account_id = fmt("acc-%zu", n % 997);
        bl->account_owner = rnd(10) == 0 ? "rep.former.01" : b->reps[rnd(N_REPS)].id;
    } else if (roll < 30) {
        bl->account_id = fmt("acc-%zu", n % 997); /* an account nobody owns */
    }
}

static void fill_slots(const struct bench_config *b, struct bench_lead *bl, struct arena *a,
                       struct score_result *scores, struct rule_value *slots)
{
    scores->total = bl->score;
    scores->fit = bl->score * 0.6;
    scores->engagement = bl->score * 0.4;
    memcpy(scores->grade, bl->grade, sizeof(bl->grade));
    if (score_fill_lead(b->syms, &bl->lead, NULL, 0, scores, START_MS, a, slots) != BT_OK)
        die("score_fill_lead failed");
}

/* ---- runtime state ----------------------------------------------------------------------------
 */

struct state {
    struct rep_runtime rt[N_REPS];
    struct time_off_span off[N_REPS];
    struct pool_state pools[N_POOLS];
    struct pool_state_entry entries[N_POOLS][POOL_SIZE];
    char last[N_POOLS][STRATEGY_REP_ID_MAX + 1];
};

static bt_err runtime_cb(void *ctx, size_t rep, const struct rep_runtime **out,
                         struct bt_error *err)
{
    struct state *st = ctx;
    (void)err;
    *out = &st->rt[rep];
    return BT_OK;
}

static bt_err pool_cb(void *ctx, size_t pool, const struct pool_state **out, struct bt_error *err)
{
    struct state *st = ctx;
    (void)err;
    *out = &st->pools[pool];
    return BT_OK;
}

static void init_state(struct state *st, const struct bench_config *b)
{
    for (size_t i = 0; i < N_REPS; i++) {
        const struct routing_rep *r = &b->reps[i];
        struct rep_runtime *rt = &st->rt[i];
        *rt = (struct rep_runtime)REP_RUNTIME_INIT;
        unsigned roll = (unsigned)rnd(100);
        if (roll < 4) {
            rt->status = REP_AWAY;
            rt->status_until = START_MS + (int64_t)rnd(4) * HOUR_MS - HOUR_MS; /* some ended */
        } else if (roll < 7) {
            rt->status = REP_OFFLINE;
        }
        if (rnd(100) < 5) {
            st->off[i] = (struct time_off_span){START_MS - DAY_MS, START_MS + 3 * DAY_MS};
            rt->time_off = (struct time_off){&st->off[i], 1};
        }
        int64_t cap = r->capacity >= 0 ? r->capacity : 40;
        rt->open = (int64_t)rnd((uint64_t)cap);
        routing_rep_periods(r, START_MS, &rt->day_start, &rt->week_start);
        if (rnd(5) == 0)
            rt->day_start -= DAY_MS; /* a count from yesterday */
        rt->day_count = (int64_t)rnd(r->daily_cap >= 0 ? (uint64_t)r->daily_cap + 2 : 20);
        rt->week_count = (int64_t)rnd(r->weekly_cap >= 0 ? (uint64_t)r->weekly_cap + 5 : 80);
    }
    for (size_t p = 0; p < N_POOLS; p++)
        st->pools[p] = (struct pool_state)POOL_STATE_INIT;
}

/* The decision's `after` into the pool's own memory: the next decision's input. */
static void persist(struct state *st, size_t p, const struct pool_state *after)
{
    if (after->n_entries > POOL_SIZE)
        die("more state entries than members");
    struct pool_state s = *after;
    memcpy(st->entries[p], after->entries, after->n_entries * sizeof(*after->entries));
    s.entries = st->entries[p];
    if (after->last_rep_id) {
        snprintf(st->last[p], sizeof(st->last[p]), "%s", after->last_rep_id);
        s.last_rep_id = st->last[p];
    }
    /* entry ids are the members' rep_id strings (strategy.h): the config's */
    st->pools[p] = s;
}

/* ---- the measurement --------------------------------------------------------------------------
 */

/* Decision record sizes (issue 10, item 2), sampled in a run of their own
 * so that the dumps do not count in the timed runs. */
static struct {
    bool on;
    uint64_t seen, n;
    double full, compact;
} records;

static size_t dumped_size(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    size_t n = text ? strlen(text) : 0;
    free(text);
    json_decref(j);
    return n;
}

struct tally {
    uint64_t decisions, assigned, held_pool, held_rep, held_rule, held_none;
    uint64_t rules_tried, candidates;
    uint64_t by_depth[5]; /* deciding rule: <50, <100, <150, <200, none */
};

struct samples {
    double *v;
    size_t n, cap;
};

static void sample(struct samples *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v)
            die("out of memory");
    }
    s->v[s->n++] = x;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(struct samples *s, double p)
{
    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof(*s->v), compare_double);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

struct bench {
    struct bench_config *b;
    struct bench_lead *leads;
    size_t n_leads;
    struct state *st;
    struct rule_scratch *scratch;
    struct score_result *scores;
    struct rule_value *fill_slots; /* for the per-decision fill variant */
    struct route_input in;
    struct arena arena;
    int64_t clock; /* the simulated now */
    size_t next;   /* the next lead */
};

/* One decision, as the engine makes it. */
static void decide_one(struct bench *x, bool fill, struct tally *t)
{
    struct bench_lead *bl = &x->leads[x->next];
    if (++x->next == x->n_leads)
        x->next = 0;
    arena_release(&x->arena);
    struct route_input *in = &x->in;
    in->now = x->clock++;
    if (fill) {
        fill_slots(x->b, bl, &x->arena, x->scores, x->fill_slots);
        in->slots = x->fill_slots;
    } else {
        in->slots = bl->slots;
    }
    in->lead_owner = bl->lead_owner;
    in->account_id = bl->account_id;
    in->account_owner = bl->account_owner;
    in->country = bl->lead.attr[LEAD_COUNTRY];
    in->region = bl->region;
    struct route_decision d;
    struct bt_error err = BT_ERROR_INIT;
    if (route_decide(in, &x->arena, &d, &err) != BT_OK) {
        fprintf(stderr, "bench: route_decide: %s\n", err.message);
        exit(1);
    }
    if (records.on && records.seen++ % 16 == 0) {
        records.full += (double)dumped_size(route_decision_json(in->cfg, &d));
        records.compact += (double)dumped_size(route_decision_json_compact(in->cfg, &d));
        records.n++;
    }
    struct state *st = x->st;
    if (d.result == ROUTE_ASSIGNED) {
        if (d.has_strategy)
            persist(st, (size_t)d.pool, &d.strategy.after);
        st->rt[d.rep].open++;
        /* somebody closes an assignment */
        struct rep_runtime *done = &st->rt[rnd(N_REPS)];
        if (done->open > 0)
            done->open--;
    }
    if (t) {
        t->decisions++;
        t->rules_tried += d.n_trace;
        t->candidates += d.n_candidates;
        t->by_depth[d.rule < 0 ? 4 : d.rule / 50]++;
        if (d.result == ROUTE_ASSIGNED)
            t->assigned++;
        else if (strcmp(d.hold_reason, "no_eligible_member") == 0)
            t->held_pool++;
        else if (strcmp(d.hold_reason, "rep_unavailable") == 0)
            t->held_rep++;
        else if (strcmp(d.hold_reason, "rule") == 0)
            t->held_rule++;
        else
            t->held_none++;
    }
}

/*
 * Decides for `seconds`: batches of BATCH decisions timed together (their
 * mean per decision goes to `batch`), and every SAMPLE_EACH-th batch one
 * more decision timed alone (to `single`).
 */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rate {
    double wall, cpu; /* decisions per second of wall-clock time, of this thread's CPU time */
};

static struct rate run(struct bench *x, double seconds, bool fill, struct samples *batch,
                       struct samples *single, struct tally *t)
{
    uint64_t done = 0;
    double start = now_seconds(), cpu_start = cpu_seconds(), elapsed = 0;
    uint64_t k = 0;
    while (elapsed < seconds) {
        for (int r = 0; r < 64; r++) {
            int64_t t0 = now_ns();
            for (int i = 0; i < BATCH; i++)
                decide_one(x, fill, t);
            int64_t t1 = now_ns();
            if (batch)
                sample(batch, (double)(t1 - t0) / BATCH);
            done += BATCH;
            if (single && ++k % (SAMPLE_EACH / BATCH) == 0) {
                int64_t s0 = now_ns();
                decide_one(x, fill, t);
                int64_t s1 = now_ns();
                sample(single, (double)(s1 - s0));
                done++;
            }
        }
        elapsed = now_seconds() - start;
    }
    return (struct rate){(double)done / elapsed, (double)done / (cpu_seconds() - cpu_start)};
}

/* The rule scan alone: every `when` up to the first that holds (owner rules
 * skipped, as if their leads had no owner), without the targets. */
static double rules_alone(struct bench *x, double seconds, double *avg_tried)
{
    uint64_t done = 0, tried = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
        for (int r = 0; r < 4096; r++) {
            struct bench_lead *bl = &x->leads[x->next];
            if (++x->next == x->n_leads)
                x->next = 0;
            size_t i = 0;
            for (; i < N_RULES; i++) {
                const struct routing_rule *rule = &x->b->rules[i];
                if (rule->when ? rule_eval(rule->when, bl->slots, x->scratch)
                               : rule->target != ROUTE_TO_LEAD_OWNER &&
                                     rule->target != ROUTE_TO_ACCOUNT_OWNER)
                    break;
            }
            tried += i + 1;
            done++;
        }
        elapsed = now_seconds() - start;
    }
    *avg_tried = (double)tried / (double)done;
    return elapsed * 1e9 / (double)done;
}

static void rss(char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256], now[64] = "?", peak[64] = "?";
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            sscanf(line + 6, " %63[^\n]", now);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            sscanf(line + 6, " %63[^\n]", peak);
    }
    if (f)
        fclose(f);
    snprintf(buf, size, "RSS %s (peak %s)", now, peak);
}

static void setup(struct bench *x, struct bench_config *b, size_t n_leads, bool group_by_zone)
{
    rng_state = 0x9E3779B97F4A7C15ULL;
    memset(b, 0, sizeof(*b));
    build_config(b, group_by_zone);
    *x = (struct bench){.b = b, .n_leads = n_leads, .clock = START_MS};
    x->st = xcalloc(1, sizeof(*x->st));
    init_state(x->st, b);
    x->scratch = rule_scratch_new();
    x->scores = xcalloc(1, sizeof(*x->scores));
    size_t n_slots = rule_symtab_count(b->syms);
    x->fill_slots = xcalloc(n_slots ? n_slots : 1, sizeof(*x->fill_slots));
    x->leads = xcalloc(n_leads, sizeof(*x->leads));
    static struct arena lead_memory = ARENA_INIT;
    for (size_t i = 0; i < n_leads; i++) {
        /* a rule other than the owner rules, uniformly */
        size_t target = 2 + rnd(N_RULES - 2);
        make_lead(&x->leads[i], i, b, target);
        x->leads[i].slots =
            arena_alloc(&lead_memory, (n_slots ? n_slots : 1) * sizeof(struct rule_value));
        fill_slots(b, &x->leads[i], &lead_memory, x->scores, x->leads[i].slots);
    }
    x->in = (struct route_input){.cfg = &b->cfg,
                                 .scratch = x->scratch,
                                 .rep_runtime = runtime_cb,
                                 .pool_state = pool_cb,
                                 .ctx = x->st,
                                 .cache = route_cache_new()}; /* as the engine's writer has */
}

int main(int argc, char **argv)
{
    double seconds = 2;
    int runs = 5;
    size_t n_leads = 4096;
    static const struct option options[] = {{"seconds", required_argument, NULL, 's'},
                                            {"runs", required_argument, NULL, 'r'},
                                            {"leads", required_argument, NULL, 'n'},
                                            {0}};
    int c;
    while ((c = getopt_long(argc, argv, "s:r:n:", options, NULL)) != -1) {
        if (c == 's')
            seconds = atof(optarg);
        else if (c == 'r')
            runs = atoi(optarg);
        else if (c == 'n')
            n_leads = (size_t)atol(optarg);
        else
            return 2;
    }
    if (!(seconds > 0 && seconds <= 600) || runs < 1 || runs > 100 || n_leads < 1 ||
        n_leads > 1000000) {
        fprintf(stderr, "usage: routing [--seconds S (<= 600)] [--runs N (<= 100)] "
                        "[--leads N (<= 1000000)]\n");
        return 2;
    }

    double t0 = now_seconds();
    for (size_t p = 0; p < N_POOLS; p++)
        for (size_t z = 0; z < 5 && pool_specs[p].zones[z]; z++)
            zone(pool_specs[p].zones[z]);
    double t_zones = now_seconds() - t0;

    struct bench_config *b = xcalloc(1, sizeof(*b));
    struct bench x;
    t0 = now_seconds();
    setup(&x, b, n_leads, false);
    double t_setup = now_seconds() - t0;

    size_t with_languages = 0, with_skills = 0, with_when = 0;
    for (size_t i = 0; i < N_RULES; i++) {
        with_languages += b->rules[i].n_languages > 0;
        with_skills += b->rules[i].n_skills > 0;
        with_when += b->rules[i].when != NULL;
    }
    printf("config: %d reps in %zu zones, %d pools of %d (4 strategies, 1 out_of_hours, 15 "
           "matching territories), %d rules (%zu with `when`, %zu asking a language, %zu a "
           "skill), %zu lead slots\n",
           N_REPS, n_zones, N_POOLS, POOL_SIZE, N_RULES, with_when, with_languages, with_skills,
           rule_symtab_count(b->syms));
    printf("leads: %zu, each made to match a random rule; 10%% returning, 15%% with an "
           "account owner; slots filled once up front\n",
           n_leads);
    printf("setup: zone tables %.0f ms, config + leads %.0f ms; one thread, %d x %.1f s, "
           "simulated clock from 2026-06-10T13:00Z, +1 ms per decision\n",
           t_zones * 1e3, t_setup * 1e3, runs, seconds);

    /* warm-up */
    run(&x, seconds / 4, false, NULL, NULL, NULL);

    struct samples batch = {0}, single = {0};
    struct tally t = {0}; /* what the measured decisions were */
    double best = 0, sum = 0, best_cpu = 0, sum_cpu = 0;
    printf("\n%-6s %14s %10s %16s %10s\n", "run", "decisions/s", "ns/dec", "per CPU-second",
           "ns/dec");
    for (int r = 0; r < runs; r++) {
        struct rate rate = run(&x, seconds, false, &batch, &single, &t);
        printf("%-6d %14.0f %10.0f %16.0f %10.0f\n", r + 1, rate.wall, 1e9 / rate.wall, rate.cpu,
               1e9 / rate.cpu);
        best = rate.wall > best ? rate.wall : best;
        best_cpu = rate.cpu > best_cpu ? rate.cpu : best_cpu;
        sum += rate.wall;
        sum_cpu += rate.cpu;
    }
    double mean = sum / runs, mean_cpu = sum_cpu / runs;
    printf("\nroute_decide: best %.0f decisions/s (%.0f ns), mean %.0f decisions/s (%.0f ns) "
           "on one thread; target >= 500000\n",
           best, 1e9 / best, mean, 1e9 / mean);
    printf("  per CPU-second of the thread: best %.0f (%.0f ns), mean %.0f (%.0f ns); these "
           "differ when the machine is busy\n",
           best_cpu, 1e9 / best_cpu, mean_cpu, 1e9 / mean_cpu);
    printf("latency, batches of %d: p50 %.0f ns, p99 %.0f ns per decision (%zu batches)\n", BATCH,
           percentile(&batch, 0.50), percentile(&batch, 0.99), batch.n);
    printf("latency, single decisions (1 in %d, clock reads included): p50 %.0f ns, "
           "p99 %.0f ns, p99.9 %.0f ns, max %.0f ns\n",
           SAMPLE_EACH, percentile(&single, 0.50), percentile(&single, 0.99),
           percentile(&single, 0.999), percentile(&single, 1.0));

    double dn = (double)t.decisions;
    printf("decisions (%llu measured): assigned %.1f%%, held %.1f%% (no eligible member "
           "%.1f%%, rep unavailable %.1f%%, hold rule %.1f%%, no rule %.1f%%)\n",
           (unsigned long long)t.decisions, 100 * (double)t.assigned / dn,
           100 * (double)(dn - (double)t.assigned) / dn, 100 * (double)t.held_pool / dn,
           100 * (double)t.held_rep / dn, 100 * (double)t.held_rule / dn,
           100 * (double)t.held_none / dn);
    printf("rules tried per decision: %.1f on average; deciding rule 1-50 %.0f%%, 51-100 %.0f%%, "
           "101-150 %.0f%%, 151-200 %.0f%%; %.1f candidates per decision\n",
           (double)t.rules_tried / dn, 100 * (double)t.by_depth[0] / dn,
           100 * (double)t.by_depth[1] / dn, 100 * (double)t.by_depth[2] / dn,
           100 * (double)t.by_depth[3] / dn, (double)t.candidates / dn);

    records.on = true;
    (void)run(&x, seconds / 4 > 0.2 ? seconds / 4 : 0.2, false, &batch, NULL, NULL);
    records.on = false;
    printf("decision record (1 in 16 of a run of its own): full %.0f bytes, as stored (compact) "
           "%.0f bytes, ratio %.3f\n",
           records.full / (double)(records.n ? records.n : 1),
           records.compact / (double)(records.n ? records.n : 1),
           records.full > 0 ? records.compact / records.full : 0);

    double avg_scan;
    double scan_ns = rules_alone(&x, seconds / 2, &avg_scan);
    printf("split: the rule scan alone (rule_eval until the first match, %.1f rules) %.0f ns "
           "of the %.0f ns (%.0f%%)\n",
           avg_scan, scan_ns, 1e9 / best, 100 * scan_ns * best / 1e9);

    struct samples fill_batch = {0};
    double fill_best = 0;
    for (int r = 0; r < (runs + 1) / 2; r++) {
        double per_second = run(&x, seconds, true, &fill_batch, NULL, NULL).wall;
        if (per_second > fill_best)
            fill_best = per_second;
    }
    printf("with score_fill_lead in every decision: best %.0f decisions/s (%.0f ns), "
           "batch p50 %.0f ns, p99 %.0f ns\n",
           fill_best, 1e9 / fill_best, percentile(&fill_batch, 0.50),
           percentile(&fill_batch, 0.99));

    char mem[160];
    rss(mem, sizeof(mem));
    printf("memory: %s\n", mem);

    /* The same configuration with each pool's members ordered by zone. */
    struct bench_config *g = xcalloc(1, sizeof(*g));
    struct bench y;
    setup(&y, g, n_leads, true);
    run(&y, seconds / 4, false, NULL, NULL, NULL);
    double grouped = 0;
    for (int r = 0; r < (runs + 1) / 2; r++) {
        double per_second = run(&y, seconds, false, NULL, NULL, NULL).wall;
        if (per_second > grouped)
            grouped = per_second;
    }
    printf("members ordered by zone in each pool (same reps, same leads): best %.0f "
           "decisions/s (%.0f ns)\n",
           grouped, 1e9 / grouped);

    free(batch.v);
    free(single.v);
    free(fill_batch.v);
    return 0;
}
