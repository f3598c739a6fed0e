/*
 * bench/rule.c - how fast compiled rules evaluate: 200 realistic scoring and
 * qualification rules (==, in lists of 5-20 values, numeric ranges, contains,
 * a few regular expressions, and/or/not) over ~30 lead-like slots, evaluated
 * against 1000 pre-filled, varied leads for about two seconds on one thread.
 *
 *   build/bench/rule [SECONDS]
 *
 * Prints rule evaluations per second, nanoseconds per rule and leads per
 * second for 200 rules per lead: the mean over the run, and the fastest pass
 * over the 1000 leads (on a shared machine the mean includes other work);
 * then the same for the 200 rules evaluated as one rule set, as scoring does. The leads and rules
 * come from a fixed seed, so runs compare.
 */
#include "core/rule.h"
#include "core/rule_internal.h" /* rule sets, as scoring evaluates fit rules */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_RULES 200
#define N_LEADS 1000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *countries[] = {"DE", "AT", "CH", "FR", "IT", "ES", "NL", "BE", "PL",
                                  "SE", "NO", "DK", "FI", "GB", "IE", "US", "CA", "BR",
                                  "JP", "AU", "IN", "SG", "MX", "PT", "CZ"};
static const char *industries[] = {"Software", "Retail",    "Manufacturing", "Healthcare",
                                   "Finance",  "Education", "Government",    "Logistics",
                                   "Media",    "Energy",    "Telecom",       "Insurance"};
static const char *titles[] = {"VP of Sales",
                               "Head of Marketing",
                               "CEO",
                               "Chief Revenue Officer",
                               "Marketing Manager",
                               "Sales Development Rep",
                               "CTO",
                               "Director of Operations",
                               "Software Engineer",
                               "Founder",
                               "Account Executive",
                               "Head of IT",
                               "Procurement Lead",
                               "Student"};
static const char *sources[] = {"webinar", "ads",      "organic", "referral", "event",
                                "partner", "outbound", "content", "g2",       "linkedin"};
static const char *stages[] = {"new", "working", "qualified", "disqualified", "nurture"};
static const char *grades[] = {"A1", "A2", "B1", "B2", "C3", "D4"};
static const char *bands[] = {"1-10",     "11-50",     "51-200", "201-500",
                              "501-1000", "1001-5000", "5000+"};
static const char *domains[] = {"acme.com", "gmail.com",   "example.de", "corp.io",
                                "web.de",   "bigco.co.uk", "startup.ai", "yahoo.com"};
static const char *cities[] = {"Berlin", "München",  "Wien", "Zürich", "Paris",
                               "London", "New York", "Köln", "Madrid", "Milano"};
static const char *activities[] = {"demo_request", "webinar", "pricing_view", "download"};

/* A random `in` list of 5-20 values from `from`. */
static int list_of(char *out, size_t size, const char **from, size_t n)
{
    size_t k = 5 + rnd(16);
    if (k > n)
        k = n;
    int w = snprintf(out, size, "[");
    size_t start = rnd((uint32_t)n);
    for (size_t i = 0; i < k; i++)
        w += snprintf(out + w, size - (size_t)w, "%s\"%s\"", i ? ", " : "", from[(start + i) % n]);
    w += snprintf(out + w, size - (size_t)w, "]");
    return w;
}

static void make_rule(char *out, size_t size, int i)
{
    char l1[512], l2[512];
    const char *act = activities[rnd(COUNT(activities))];
    switch (i % 20) {
    case 0:
        list_of(l1, sizeof(l1), countries, COUNT(countries));
        snprintf(out, size, "employees >= %u and country in %s", 10 + rnd(1000), l1);
        break;
    case 1:
        snprintf(out, size, "industry == \"%s\"", industries[rnd(COUNT(industries))]);
        break;
    case 2:
        snprintf(out, size, "title contains \"%s\" or title starts_with \"%s\"",
                 (const char *[]){"vp", "head", "chief", "director"}[rnd(4)],
                 (const char *[]){"ceo", "cto", "founder"}[rnd(3)]);
        break;
    case 3:
        snprintf(out, size, "score >= %u and score < %u", rnd(50), 50 + rnd(50));
        break;
    case 4:
        snprintf(out, size, "not email.free and email.domain ends_with \"%s\"",
                 (const char *[]){".de", ".com", ".io", ".co.uk"}[rnd(4)]);
        break;
    case 5:
        list_of(l1, sizeof(l1), sources, COUNT(sources));
        snprintf(out, size, "source in %s", l1);
        break;
    case 6:
        snprintf(out, size, "fields.budget >= %u", 1000 * (1 + rnd(50)));
        break;
    case 7:
        snprintf(out, size, "activity.%s.count > 0 and activity.%s.last_days <= %u", act, act,
                 1 + rnd(30));
        break;
    case 8:
        snprintf(out, size,
                 "stage != \"disqualified\" and (grade starts_with \"a\" or grade == \"B1\")");
        break;
    case 9:
        list_of(l1, sizeof(l1), bands, COUNT(bands));
        list_of(l2, sizeof(l2), industries, COUNT(industries));
        snprintf(out, size, "employees_band in %s and industry not in %s", l1, l2);
        break;
    case 10:
        if (i % 40 == 10)
            snprintf(out, size, "title matches \"^(chief|head|vp)\\\\b\"");
        else
            snprintf(out, size, "phone starts_with \"+%u\"", 1 + rnd(60));
        break;
    case 11:
        snprintf(out, size, "fit >= %u and engagement > %u", rnd(60), rnd(80));
        break;
    case 12:
        list_of(l1, sizeof(l1), countries, COUNT(countries));
        snprintf(out, size, "not (country in %s) or state exists", l1);
        break;
    case 13:
        snprintf(out, size, "company contains \"%s\" or website.domain == \"%s\"",
                 (const char *[]){"gmbh", "inc", "ltd", "ag"}[rnd(4)],
                 domains[rnd(COUNT(domains))]);
        break;
    case 14:
        snprintf(out, size, "employees > %u and employees <= %u and not email.free", rnd(100),
                 100 + rnd(5000));
        break;
    case 15:
        list_of(l1, sizeof(l1), cities, COUNT(cities));
        snprintf(out, size, "city in %s and lead_source != \"spam\"", l1);
        break;
    case 16:
        snprintf(out, size,
                 "grade in [\"A1\", \"A2\", \"B1\"] and email.free == false and stage == \"new\"");
        break;
    case 17:
        snprintf(out, size, "fields.plan == \"%s\" or fields.seats >= %u",
                 (const char *[]){"pro", "team", "enterprise"}[rnd(3)], 5 + rnd(100));
        break;
    case 18:
        snprintf(out, size, "first_name exists and last_name exists and email.domain != \"%s\"",
                 domains[rnd(COUNT(domains))]);
        break;
    default:
        snprintf(out, size,
                 "(title contains \"sales\" or title contains \"marketing\") and country == \"%s\"",
                 countries[rnd(COUNT(countries))]);
        break;
    }
}

/* A lead's value for `path`, written into v; its text and lower-cased copy
 * are appended at *pool, so that one lead's strings are packed together as
 * they would be in a request's arena. */
static void lead_value(struct rule_value *v, const char *path, char **pool)
{
    char buf[64];
    size_t size = sizeof(buf);
    const char *s = NULL;
    memset(v, 0, sizeof(*v));
    if (rnd(20) == 0)
        return; /* now and then a value is missing */
    if (!strcmp(path, "country"))
        s = countries[rnd(COUNT(countries))];
    else if (!strcmp(path, "industry"))
        s = industries[rnd(COUNT(industries))];
    else if (!strcmp(path, "title"))
        s = titles[rnd(COUNT(titles))];
    else if (!strcmp(path, "source") || !strcmp(path, "lead_source"))
        s = sources[rnd(COUNT(sources))];
    else if (!strcmp(path, "stage"))
        s = stages[rnd(COUNT(stages))];
    else if (!strcmp(path, "grade"))
        s = grades[rnd(COUNT(grades))];
    else if (!strcmp(path, "state"))
        s = (const char *[]){"BY", "NRW", "CA", "NY"}[rnd(4)];
    else if (!strcmp(path, "employees_band"))
        s = bands[rnd(COUNT(bands))];
    else if (!strcmp(path, "email.domain") || !strcmp(path, "website.domain"))
        s = domains[rnd(COUNT(domains))];
    else if (!strcmp(path, "city"))
        s = cities[rnd(COUNT(cities))];
    else if (!strcmp(path, "company"))
        s = (const char *[]){"Acme GmbH", "Globex Inc", "Initech Ltd", "Umbrella AG",
                             "Hooli"}[rnd(5)];
    else if (!strcmp(path, "phone")) {
        snprintf(buf, size, "+%u %u", 1 + rnd(60), rnd(100000000));
        s = buf;
    } else if (!strcmp(path, "fields.budget") || !strcmp(path, "fields.seats")) {
        snprintf(buf, size, "%u", rnd(60000)); /* forms send numbers as text */
        s = buf;
    } else if (!strcmp(path, "fields.plan"))
        s = (const char *[]){"Pro", "team", "Enterprise", "free"}[rnd(4)];
    else if (!strcmp(path, "first_name") || !strcmp(path, "last_name"))
        s = (const char *[]){"Jane", "Max", "Ana", "Lukas"}[rnd(4)];
    else if (!strcmp(path, "email.free"))
        rule_value_bool(v, rnd(2));
    else /* counts, scores, sizes */
        rule_value_number(v, (double)rnd(strstr(path, "last_days") ? 60 : 1000));
    if (!s)
        return;
    size_t len = strlen(s);
    char *text = *pool, *lower = text + len + 1;
    *pool += 2 * (len + 1);
    for (size_t i = 0; i <= len; i++) {
        text[i] = s[i];
        lower[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
    }
    rule_value_string(v, text, lower, len);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    struct rule_symtab *syms = rule_symtab_new(NULL);
    struct rule *rules[N_RULES];
    char text[2048];
    double t0 = now();
    for (int i = 0; i < N_RULES; i++) {
        make_rule(text, sizeof(text), i);
        struct rule_error err;
        if (rule_compile(syms, text, strlen(text), &rules[i], &err) != BT_OK) {
            fprintf(stderr, "rule %d: at %zu: %s\n  %s\n", i, err.offset, err.message, text);
            return 1;
        }
    }
    double compile_s = now() - t0;
    size_t n_slots = rule_symtab_count(syms);

    struct rule_value *slots = calloc(N_LEADS * n_slots, sizeof(*slots));
    char *strings = calloc(N_LEADS * n_slots, 2 * 64);
    char *pool = strings;
    for (size_t l = 0; l < N_LEADS; l++)
        for (size_t i = 0; i < n_slots; i++)
            lead_value(&slots[l * n_slots + i], rule_symtab_path(syms, i), &pool);

    struct rule_scratch *scratch = rule_scratch_new();
    uint64_t evaluations = 0, matched = 0;
    double best = 1e9; /* the fastest pass over all leads: least disturbed by other work */
    t0 = now();
    double elapsed;
    do {
        double pass = now();
        for (size_t l = 0; l < N_LEADS; l++) {
            const struct rule_value *lead = &slots[l * n_slots];
            for (int i = 0; i < N_RULES; i++)
                matched += rule_eval(rules[i], lead, scratch);
        }
        pass = now() - pass;
        if (pass < best)
            best = pass;
        evaluations += (uint64_t)N_LEADS * N_RULES;
        elapsed = now() - t0;
    } while (elapsed < seconds);

    double per_s = (double)evaluations / elapsed;
    double best_per_s = (double)N_LEADS * N_RULES / best;
    printf("rules=%d slots=%zu leads=%d compile=%.1fus/rule\n", N_RULES, n_slots, N_LEADS,
           compile_s * 1e6 / N_RULES);
    printf("evaluations=%llu in %.2fs matched=%.1f%%\n", (unsigned long long)evaluations, elapsed,
           100.0 * (double)matched / (double)evaluations);
    printf("mean: rule evaluations/s=%.0f ns/rule=%.2f leads/s=%.0f\n", per_s, 1e9 / per_s,
           per_s / N_RULES);
    printf("best pass: rule evaluations/s=%.0f ns/rule=%.2f leads/s=%.0f\n", best_per_s,
           1e9 / best_per_s, best_per_s / N_RULES);

    /* The same with the first 10 leads only, which stay in the cache, as a
     * lead just normalised does in the server. */
    double hot_best = 1e9;
    for (int round = 0; round < 2000; round++) {
        double pass = now();
        for (size_t l = 0; l < 10; l++) {
            const struct rule_value *lead = &slots[l * n_slots];
            for (int i = 0; i < N_RULES; i++)
                matched += rule_eval(rules[i], lead, scratch);
        }
        pass = now() - pass;
        if (pass < hot_best)
            hot_best = pass;
    }
    double hot_per_s = 10.0 * N_RULES / hot_best;
    printf("10 leads in cache, best pass: rule evaluations/s=%.0f ns/rule=%.2f leads/s=%.0f\n",
           hot_per_s, 1e9 / hot_per_s, hot_per_s / N_RULES);

    /* All 200 rules as one set: each distinct test once per lead, then the
     * rules by jump tables. Its results must be rule_eval's. */
    struct rule__set *set = rule__set_new((const struct rule *const *)rules, N_RULES);
    uint8_t *work = malloc(rule__set_work_size(set));
    bool holds[N_RULES];
    for (size_t l = 0; l < N_LEADS; l++) {
        const struct rule_value *lead = &slots[l * n_slots];
        rule__set_eval(set, lead, scratch, work, holds);
        for (int i = 0; i < N_RULES; i++)
            if (holds[i] != rule_eval(rules[i], lead, scratch)) {
                fprintf(stderr, "rule set and rule_eval differ: lead %zu rule %d\n", l, i);
                return 1;
            }
    }
    uint64_t set_evaluations = 0;
    double set_best = 1e9;
    t0 = now();
    do {
        double pass = now();
        for (size_t l = 0; l < N_LEADS; l++) {
            rule__set_eval(set, &slots[l * n_slots], scratch, work, holds);
            matched += holds[l % N_RULES];
        }
        pass = now() - pass;
        if (pass < set_best)
            set_best = pass;
        set_evaluations += (uint64_t)N_LEADS * N_RULES;
        elapsed = now() - t0;
    } while (elapsed < seconds);
    double set_per_s = (double)set_evaluations / elapsed;
    double set_best_per_s = (double)N_LEADS * N_RULES / set_best;
    printf("rule set mean: rule evaluations/s=%.0f ns/rule=%.2f leads/s=%.0f\n", set_per_s,
           1e9 / set_per_s, set_per_s / N_RULES);
    printf("rule set best pass: rule evaluations/s=%.0f ns/rule=%.2f leads/s=%.0f\n",
           set_best_per_s, 1e9 / set_best_per_s, set_best_per_s / N_RULES);
    free(work);
    rule__set_free(set);

    rule_scratch_free(scratch);
    for (int i = 0; i < N_RULES; i++)
        rule_free(rules[i]);
    rule_symtab_free(syms);
    free(slots);
    free(strings);
    return 0;
}
