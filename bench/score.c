/*
 * score.c - scoring speed on one thread: a 200-rule model (150 fit rules in
 * 10 capped groups and ungrouped, 50 engagement rules over 10 activity types
 * with half-lives, windows and property conditions), 1000 varied leads with
 * 0-40 activities each, scored round-robin for a few seconds.
 *
 *   build/bench/score [--seconds 3] [--leads 1000]
 *
 * Prints leads/s and ns/lead for the whole of score_lead, and the share of
 * that spent binding the lead (bucketing activities, filling slots) measured
 * with the same model stripped of its rules. Every lead gets a fresh arena,
 * released after it, as an engine command would.
 */
#include "core/score.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400000LL
#define NOW 1700000000000LL

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t pick(size_t n)
{
    return (size_t)(rnd() % n);
}

#define PICK(a) (a)[pick(sizeof(a) / sizeof((a)[0]))]

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const countries[] = {"DE", "AT", "CH", "FR", "US", "GB", "NL", "SE", "ES", "IT"};
static const char *const industries[] = {"software",   "manufacturing", "finance",   "retail",
                                         "healthcare", "education",     "logistics", "media"};
static const char *const titles[] = {"VP Sales",
                                     "Head of Marketing",
                                     "CTO",
                                     "Software Engineer",
                                     "Student",
                                     "CEO",
                                     "Director of IT",
                                     "Marketing Manager",
                                     "Chief Revenue Officer",
                                     "Intern"};
static const char *const sources[] = {"webinar", "website", "partner", "event", "ads", "referral"};
static const char *const companies[] = {"Acme GmbH",        "Globex Corp", "Initech",
                                        "Umbrella AG",      "Hooli",       "Stark Industries",
                                        "Wayne Enterprises"};
static const char *const domains[] = {"acme.com",    "globex.com", "initech.io", "gmail.com",
                                      "umbrella.de", "hooli.com",  "yahoo.com"};
static const char *const bands[] = {"1-10", "11-50", "51-200", "201-500", "501-1000", "1000+"};
static const char *const plans[] = {"free", "Pro", "enterprise", "team"};
static const char *const types[] = {"page_view",    "email_open",   "email_click", "form_submit",
                                    "webinar",      "demo_request", "download",    "trial_signup",
                                    "pricing_view", "event_visit",  "chat",        "unknown_type"};
static const char *const pages[] = {
    "/pricing", "/docs/start", "/blog/launch", "/Pricing/Enterprise", "/careers", "/product"};
static const char *const forms[] = {"demo", "newsletter", "contact", "Demo"};

/* ---- the model ---- */

static struct rule *compile(struct rule_symtab *t, const char *text)
{
    struct rule *r;
    struct rule_error e;
    if (rule_compile(t, text, strlen(text), &r, &e) != BT_OK) {
        fprintf(stderr, "bench: cannot compile '%s': %s\n", text, e.message);
        exit(1);
    }
    return r;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return xstrdup(buf);
}

/* Fit rule i of 150: a mix of the tests a real config uses. */
static char *fit_text(int i)
{
    switch (i % 15) {
    case 0:
        return fmt("country in [\"%s\", \"%s\", \"%s\"]", PICK(countries), PICK(countries),
                   PICK(countries));
    case 1:
        return fmt("employees >= %d and employees < %d", 10 * (i + 1), 200 * (i + 1));
    case 2:
        return fmt("title contains \"%s\"",
                   (const char *[]){"vp", "head", "chief", "director", "manager"}[i % 5]);
    case 3:
        return fmt("industry == \"%s\"", PICK(industries));
    case 4:
        return xstrdup("email.free");
    case 5:
        return fmt("fields.budget >= %d", 1000 * (i + 1));
    case 6:
        return fmt("fields.plan in [\"pro\", \"enterprise\"] and source == \"%s\"", PICK(sources));
    case 7:
        return fmt("activity.%s.count >= %d", PICK(types), 1 + i % 3);
    case 8:
        return fmt("activity.%s.last_days < %d", PICK(types), 1 + i % 30);
    case 9:
        return fmt("email.domain ends_with \"%s\"", PICK(domains));
    case 10:
        return fmt("employees_band in [\"%s\", \"%s\"]", PICK(bands), PICK(bands));
    case 11:
        return i == 11 ? xstrdup("title matches \"^(chief|head) \"")
                       : fmt("not fields.partner and country != \"%s\"", PICK(countries));
    case 12:
        return fmt("company starts_with \"%c\"", 'A' + (char)(i % 26));
    case 13:
        return fmt("(stage == \"new\" or stage == \"recycled\") and fields.seats > %d", i % 50);
    default:
        return fmt("website.domain exists and title contains \"%s\"",
                   (const char *[]){"sales", "marketing", "it"}[i % 3]);
    }
}

static struct score_model build_model(void)
{
    struct score_model m = {0};
    m.lead_syms = rule_symtab_new(&score_lead_schema);
    m.activity_syms = rule_symtab_new(&score_activity_schema);
    m.min_total = 0;
    m.max_total = 100;
    m.fit_bands[0] = 60, m.fit_bands[1] = 40, m.fit_bands[2] = 20;
    m.engagement_bands[0] = 60, m.engagement_bands[1] = 30, m.engagement_bands[2] = 10;

    m.n_groups = 10;
    m.groups = xcalloc(m.n_groups, sizeof(*m.groups));
    for (size_t g = 0; g < m.n_groups; g++)
        m.groups[g] = (struct fit_group){fmt("group%zu", g), g % 4 != 3, 15.0 + 5.0 * (double)g};

    m.n_fit = 150;
    m.fit = xcalloc(m.n_fit, sizeof(*m.fit));
    for (int i = 0; i < 150; i++) {
        char *text = fit_text(i);
        double points =
            (i % 15 == 4 || i % 15 == 11) ? -(double)(5 + i % 10) : (double)(2 + i % 12);
        m.fit[i] = (struct fit_rule){fmt("fit%d", i), compile(m.lead_syms, text), points,
                                     i % 7 == 6 ? -1 : i % 10};
        free(text);
    }

    m.n_engagement = 50;
    m.engagement = xcalloc(m.n_engagement, sizeof(*m.engagement));
    for (int i = 0; i < 50; i++) {
        const char *type = types[i % 10];
        const char *when = NULL;
        char *owned = NULL;
        if (strcmp(type, "page_view") == 0 && i >= 10)
            when = owned = fmt("properties.page starts_with \"%s\"", PICK(pages));
        else if (strcmp(type, "form_submit") == 0)
            when = owned = fmt("properties.form == \"%s\"", PICK(forms));
        else if (strcmp(type, "download") == 0 && i >= 10)
            when = "properties.size_mb >= 5 and age_days < 30";
        else if (strcmp(type, "email_click") == 0 && i >= 20)
            when = "properties.campaign contains \"q4\"";
        enum decay_kind decay = i % 3 == 0   ? DECAY_HALF_LIFE
                                : i % 3 == 1 ? DECAY_WINDOW
                                             : DECAY_NONE;
        m.engagement[i] = (struct engagement_rule){
            fmt("eng%d", i),
            type,
            when ? compile(m.activity_syms, when) : NULL,
            (double)(1 + i % 8),
            i % 2 == 0,
            (double)(10 + i % 20),
            decay,
            decay == DECAY_HALF_LIFE ? (int64_t)(7 + i % 21) * DAY : (int64_t)(14 + i % 60) * DAY,
        };
        free(owned);
    }
    return m;
}

/* ---- leads ---- */

struct bench_lead {
    struct lead lead;
    struct activity *acts;
    size_t n_acts;
};

static char *properties_for(const char *type)
{
    if (strcmp(type, "page_view") == 0 || strcmp(type, "pricing_view") == 0)
        return fmt("{\"page\":\"%s\",\"referrer\":\"https://www.google.com/\",\"ms\":%zu}",
                   PICK(pages), pick(60000));
    if (strcmp(type, "form_submit") == 0)
        return fmt("{\"form\":\"%s\",\"utm_source\":\"linkedin\"}", PICK(forms));
    if (strcmp(type, "download") == 0)
        return fmt("{\"asset\":\"whitepaper-%zu.pdf\",\"size_mb\":%zu.%zu}", pick(20), pick(12),
                   pick(10));
    if (strcmp(type, "email_click") == 0 || strcmp(type, "email_open") == 0)
        return fmt("{\"campaign\":\"%s\",\"link\":%zu}",
                   (const char *[]){"Q4-launch", "nurture-3", "q4_webinar", "welcome"}[pick(4)],
                   pick(5));
    return xstrdup("{}");
}

static struct bench_lead make_lead(size_t i)
{
    struct bench_lead b = {0};
    struct lead *l = &b.lead;
    const char *domain = PICK(domains);
    l->id = (int64_t)i + 1;
    l->attr[LEAD_EMAIL] = fmt("person%zu@%s", i, domain);
    l->attr[LEAD_EMAIL_DOMAIN] = domain;
    l->email_free = strcmp(domain, "gmail.com") == 0 || strcmp(domain, "yahoo.com") == 0;
    l->attr[LEAD_FIRST_NAME] = "Jane";
    l->attr[LEAD_LAST_NAME] = "Doe";
    l->attr[LEAD_COMPANY] = PICK(companies);
    l->attr[LEAD_TITLE] = PICK(titles);
    l->attr[LEAD_COUNTRY] = PICK(countries);
    l->attr[LEAD_INDUSTRY] = PICK(industries);
    l->attr[LEAD_SOURCE] = PICK(sources);
    l->attr[LEAD_STAGE] = i % 5 ? "new" : "recycled";
    if (i % 3)
        l->attr[LEAD_WEBSITE_DOMAIN] = domain;
    l->employees = i % 11 ? (int64_t)pick(5000) : -1;
    l->attr[LEAD_EMPLOYEES_BAND] = PICK(bands);
    l->fields_json = fmt("{\"budget\":%s,\"plan\":\"%s\",\"seats\":%zu,\"partner\":%s,"
                         "\"utm_campaign\":\"spring_%zu\"}",
                         i % 4 ? "\"25000\"" : "12000", PICK(plans), pick(100),
                         i % 6 ? "false" : "true", pick(10));
    b.n_acts = pick(41);
    b.acts = xcalloc(b.n_acts + 1, sizeof(*b.acts));
    for (size_t k = 0; k < b.n_acts; k++) {
        const char *type = types[pick(4) ? pick(4) : pick(sizeof(types) / sizeof(types[0]))];
        b.acts[k] = (struct activity){(int64_t)k, l->id, type, NOW - (int64_t)pick(90 * DAY),
                                      properties_for(type)};
    }
    return b;
}

struct figures {
    size_t scored;
    double mean_ns, best_ns; /* per lead: over the run, and of the fastest pass */
    double checksum;
};

/*
 * Scores the leads round-robin for `seconds`. The fastest pass over all the
 * leads is reported beside the mean because on a shared machine the mean
 * also counts whatever else ran meanwhile.
 */
static struct figures run(const struct score_model *m, const struct bench_lead *leads, size_t n,
                          double seconds)
{
    struct score_scratch *s = score_scratch_new(m);
    struct score_result *out = xmalloc(sizeof(*out));
    struct arena a = ARENA_INIT;
    struct figures f = {0, 0, 1e300, 0};
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
        double pass_start = now_seconds();
        for (size_t i = 0; i < n; i++) {
            const struct bench_lead *b = &leads[i];
            if (score_lead(m, &b->lead, b->acts, b->n_acts, NOW, s, &a, out) != BT_OK) {
                fprintf(stderr, "bench: score_lead failed\n");
                exit(1);
            }
            f.checksum += out->total + (double)out->n_reasons;
            arena_release(&a);
        }
        double now = now_seconds();
        double pass_ns = (now - pass_start) * 1e9 / (double)n;
        if (pass_ns < f.best_ns)
            f.best_ns = pass_ns;
        f.scored += n;
        elapsed = now - start;
    }
    f.mean_ns = elapsed * 1e9 / (double)f.scored;
    free(out);
    score_scratch_free(s);
    return f;
}

int main(int argc, char **argv)
{
    double seconds = 3;
    size_t n_leads = 1000;
    static const struct option options[] = {
        {"seconds", required_argument, NULL, 's'}, {"leads", required_argument, NULL, 'n'}, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "s:n:", options, NULL)) != -1) {
        if (c == 's')
            seconds = atof(optarg);
        else if (c == 'n')
            n_leads = (size_t)atol(optarg);
        else
            return 2;
    }
    if (seconds <= 0 || n_leads == 0) {
        fprintf(stderr, "usage: score [--seconds S] [--leads N]\n");
        return 2;
    }

    struct score_model m = build_model();
    struct bench_lead *leads = xcalloc(n_leads, sizeof(*leads));
    size_t total_acts = 0;
    for (size_t i = 0; i < n_leads; i++) {
        leads[i] = make_lead(i);
        total_acts += leads[i].n_acts;
    }

    /* A look at what the model does to these leads. */
    struct score_scratch *s = score_scratch_new(&m);
    struct score_result *out = xmalloc(sizeof(*out));
    struct arena a = ARENA_INIT;
    double reasons = 0, score = 0;
    size_t with_next = 0;
    for (size_t i = 0; i < n_leads; i++) {
        if (score_lead(&m, &leads[i].lead, leads[i].acts, leads[i].n_acts, NOW, s, &a, out) !=
            BT_OK)
            return 1;
        reasons += (double)out->n_reasons;
        score += out->total;
        with_next += out->next_change_at != 0;
        arena_release(&a);
    }
    free(out);
    score_scratch_free(s);
    printf("model: %zu fit rules in %zu groups, %zu engagement rules; %zu lead slots, "
           "%zu activity slots\n",
           m.n_fit, m.n_groups, m.n_engagement, rule_symtab_count(m.lead_syms),
           rule_symtab_count(m.activity_syms));
    printf("leads: %zu, %.1f activities each; %.1f reasons, score %.1f on average; "
           "%.0f%% with a next change\n",
           n_leads, (double)total_acts / (double)n_leads, reasons / (double)n_leads,
           score / (double)n_leads, 100.0 * (double)with_next / (double)n_leads);

    struct figures all = run(&m, leads, n_leads, seconds);
    /* The same model without engagement rules, and without any rules. */
    struct score_model fit_only = m, bare = m;
    fit_only.n_engagement = 0;
    bare.n_fit = 0;
    bare.n_engagement = 0;
    struct figures fit = run(&fit_only, leads, n_leads, seconds / 3);
    struct figures binding = run(&bare, leads, n_leads, seconds / 3);

    printf("score_lead: %.0f leads/s per core, %.0f ns/lead (mean of %zu leads in %.1f s, "
           "checksum %.0f)\n",
           1e9 / all.mean_ns, all.mean_ns, all.scored, all.mean_ns * (double)all.scored / 1e9,
           all.checksum);
    printf("best pass:  %.0f leads/s per core, %.0f ns/lead\n", 1e9 / all.best_ns, all.best_ns);
    printf("split (best passes):\n");
    printf("  binding (activities by type, lead slots, custom fields): %5.0f ns (%2.0f%%)\n",
           binding.best_ns, 100 * binding.best_ns / all.best_ns);
    printf("  fit rules and their reasons:                             %5.0f ns (%2.0f%%)\n",
           fit.best_ns - binding.best_ns, 100 * (fit.best_ns - binding.best_ns) / all.best_ns);
    printf("  engagement (activity subjects, rules, decay, reasons):   %5.0f ns (%2.0f%%)\n",
           all.best_ns - fit.best_ns, 100 * (all.best_ns - fit.best_ns) / all.best_ns);
    return 0;
}
