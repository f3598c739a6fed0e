/*
 * bench/account_match.c - lead-to-account matching on one thread: an index
 * of 100,000 synthetic accounts (2-3 word names with legal suffixes, one to
 * three domains, a website, a country), then 1,000,000 synthetic leads:
 *
 *   35% domain hits   the email is at an account domain (a tenth of them at a
 *                     subdomain, a tenth carried by the website instead)
 *   20% exact names   free mail, the account's name recased and with another
 *                     legal suffix ("ACME WIDGETS, Inc." for "Acme Widgets GmbH")
 *   15% similar names free mail, the name with one typo, the account's country
 *   30% misses        a freshly drawn name (from the same syllables, so now and
 *                     then one equals or resembles an account's: the "misses
 *                     that matched" figure) and a domain no account has, or
 *                     free mail
 *
 *   build/bench/account_match [--accounts N] [--leads N] [--threshold T]
 *
 * Prints the index build time, its memory (as the index counts it, and the
 * growth of the process's resident set), matches per second and ns per match
 * over the mixed stream, the same for each kind of lead alone, and how the
 * leads matched (a sanity check: the mix above should show). Data comes from
 * a fixed seed, so runs compare. The synthetic names are built from a few
 * dozen syllables, so their pieces repeat far more than real company names
 * do: a pessimistic case for the similarity search, which slows sharply at
 * lower thresholds (try --threshold 0.8).
 */
#include "core/account_match.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a)  (a)[pick(COUNT(a))]

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A /proc/self/status figure in KiB ("VmRSS", "VmHWM"), or -1. */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kib = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kib;
}

static const char *const syllables[] = {
    "ac",  "me",    "nor",  "th",  "wind", "con", "to",  "so",  "fab", "ri",  "kam",
    "li",  "tware", "spin", "ner", "blue", "yon", "der", "ad",  "ven", "tu",  "re",
    "vel", "an",    "tri",  "da",  "ta",   "lo",  "gi",  "qu",  "ix",  "zen", "or",
    "bit", "ka",    "mo",   "sa",  "pex",  "ly",  "ra",  "nex", "sol", "vi",  "ta",
    "hel", "io",    "mar",  "ko",  "tec",  "ul",  "ro",  "fin", "gal", "ex"};
static const char *const sectors[] = {"Systems",   "Data",     "Logistics", "Capital",
                                      "Foods",     "Labs",     "Media",     "Energy",
                                      "Robotics",  "Health",   "Software",  "Partners",
                                      "Analytics", "Networks", "Holdings",  "Industries"};
static const char *const suffixes[] = {"GmbH", "Inc.", "Ltd", "LLC", "S.A.", "B.V.",
                                       "AB",   "Oy",   "SAS", "",    "",     "Corp."};
static const char *const tlds[] = {"com", "com", "com", "de", "co.uk", "fr", "io", "nl", "com.au"};
static const char *const countries[] = {"US", "US", "DE", "GB", "FR", "NL", "SE", "AU", "ES"};
static const char *const freemail[] = {"gmail.com", "yahoo.com", "outlook.com", "web.de"};

static size_t word(char *out)
{
    size_t n = 2 + pick(3), len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = PICK(syllables);
        memcpy(out + len, s, strlen(s));
        len += strlen(s);
    }
    out[0] = (char)(out[0] - 'a' + 'A');
    out[len] = '\0';
    return len;
}

/* Strings live in one growing buffer; offsets are turned into pointers at the end. */
static char *pool;
static size_t pool_used, pool_cap;

static size_t keep(const char *s)
{
    size_t n = strlen(s) + 1;
    if (pool_used + n > pool_cap) {
        pool_cap = pool_cap ? pool_cap * 2 : 1 << 20;
        pool = realloc(pool, pool_cap);
        if (!pool)
            abort();
    }
    memcpy(pool + pool_used, s, n);
    pool_used += n;
    return pool_used - n;
}

#define AT(off) ((off) == SIZE_MAX ? NULL : pool + (off))

struct synthetic_account {
    size_t id, name, domains[3], website, country;
    size_t n_domains;
    size_t base; /* the name without suffix */
};

enum lead_kind { LEAD_DOMAIN, LEAD_NAME_EXACT, LEAD_NAME_SIMILAR, LEAD_MISS, LEAD_KINDS };
static const char *const kind_names[] = {"domain hits", "exact names", "similar names", "misses"};

struct synthetic_lead {
    size_t email_domain, website_domain, company, country;
    bool email_free;
    enum lead_kind kind;
};

static void make_account(struct synthetic_account *a, size_t i)
{
    char base[128], buf[192], w1[32], w2[32];
    word(w1);
    word(w2);
    if (pick(2))
        snprintf(base, sizeof(base), "%s %s %s", w1, w2, PICK(sectors));
    else
        snprintf(base, sizeof(base), "%s %s", w1, PICK(sectors));
    const char *suffix = PICK(suffixes);
    snprintf(buf, sizeof(buf), "%s%s%s", base, suffix[0] ? " " : "", suffix);
    snprintf(w2, sizeof(w2), "a%zu", i);
    a->id = keep(w2);
    a->base = keep(base);
    a->name = keep(buf);
    a->n_domains = 1 + pick(3);
    for (size_t k = 0; k < a->n_domains; k++) {
        char d[128];
        size_t n = 0;
        for (const char *p = base; *p && *p != ' '; p++)
            d[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        snprintf(d + n, sizeof(d) - n, "%zu.%s", i, k == 0 ? "com" : PICK(tlds));
        a->domains[k] = keep(d);
    }
    char web[160];
    snprintf(web, sizeof(web), "https://www.%s/", pool + a->domains[0]);
    a->website = pick(2) ? keep(web) : SIZE_MAX;
    a->country = keep(PICK(countries));
}

static void make_lead(struct synthetic_lead *l, const struct synthetic_account *accounts, size_t n)
{
    size_t r = pick(100);
    const struct synthetic_account *a = &accounts[pick(n)];
    *l = (struct synthetic_lead){SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, false, LEAD_MISS};
    char buf[256];
    if (r < 35) {
        l->kind = LEAD_DOMAIN;
        size_t d = a->domains[pick(a->n_domains)]; /* an offset: keep() moves the pool */
        size_t how = pick(10);
        if (how == 0) {
            snprintf(buf, sizeof(buf), "mail.%s", pool + d);
            l->email_domain = keep(buf);
        } else if (how == 1) {
            l->email_domain = keep(PICK(freemail));
            l->email_free = true;
            l->website_domain = d;
        } else {
            l->email_domain = d;
        }
        l->company = a->name;
    } else if (r < 55) {
        l->kind = LEAD_NAME_EXACT;
        size_t k = 0;
        for (const char *p = pool + a->base; *p; p++)
            buf[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        snprintf(buf + k, sizeof(buf) - k, ", %s", PICK(suffixes));
        l->company = keep(buf);
        l->email_domain = keep(PICK(freemail));
        l->email_free = true;
    } else if (r < 70) {
        l->kind = LEAD_NAME_SIMILAR;
        snprintf(buf, sizeof(buf), "%s", pool + a->base);
        size_t len = strlen(buf);
        size_t at = 1 + pick(len - 2);
        if (buf[at] == ' ')
            at++;
        buf[at] = buf[at] == 'x' ? 'y' : 'x';
        l->company = keep(buf);
        l->email_domain = keep(PICK(freemail));
        l->email_free = true;
        l->country = a->country;
    } else {
        char w1[32], w2[32];
        word(w1);
        word(w2);
        snprintf(buf, sizeof(buf), "%s %s %s", w1, w2, PICK(sectors));
        l->company = keep(buf);
        if (pick(2)) {
            l->email_domain = keep(PICK(freemail));
            l->email_free = true;
        } else {
            char d[160];
            snprintf(d, sizeof(d), "%c%s-x.%s", w1[0] + 32, w1 + 1, PICK(tlds));
            l->email_domain = keep(d);
        }
        l->country = keep(PICK(countries));
    }
}

static struct account_query query_of(const struct synthetic_lead *l)
{
    return (struct account_query){AT(l->email_domain), l->email_free, AT(l->website_domain),
                                  AT(l->company), AT(l->country)};
}

int main(int argc, char **argv)
{
    size_t n_accounts = 100000, n_leads = 1000000;
    double threshold = ACCOUNT_NAME_THRESHOLD_DEFAULT;
    static const struct option options[] = {{"accounts", required_argument, NULL, 'a'},
                                            {"leads", required_argument, NULL, 'l'},
                                            {"threshold", required_argument, NULL, 't'},
                                            {NULL, 0, NULL, 0}};
    for (int c; (c = getopt_long(argc, argv, "a:l:t:", options, NULL)) != -1;) {
        if (c == 'a')
            n_accounts = strtoul(optarg, NULL, 10);
        else if (c == 'l')
            n_leads = strtoul(optarg, NULL, 10);
        else if (c == 't')
            threshold = strtod(optarg, NULL);
        else {
            fprintf(stderr, "usage: %s [--accounts N] [--leads N] [--threshold T]\n", argv[0]);
            return 2;
        }
    }
    if (n_accounts < 1 || n_leads < 1) {
        fprintf(stderr, "need at least one account and one lead\n");
        return 2;
    }

    struct synthetic_account *sa = calloc(n_accounts, sizeof(*sa));
    struct synthetic_lead *sl = calloc(n_leads, sizeof(*sl));
    struct account *accounts = calloc(n_accounts, sizeof(*accounts));
    const char **domain_ptrs = calloc(n_accounts * 3, sizeof(*domain_ptrs));
    if (!sa || !sl || !accounts || !domain_ptrs)
        return 1;
    for (size_t i = 0; i < n_accounts; i++)
        make_account(&sa[i], i);
    for (size_t i = 0; i < n_leads; i++)
        make_lead(&sl[i], sa, n_accounts);
    for (size_t i = 0; i < n_accounts; i++) {
        for (size_t k = 0; k < sa[i].n_domains; k++)
            domain_ptrs[i * 3 + k] = pool + sa[i].domains[k];
        accounts[i] = (struct account){.id = AT(sa[i].id),
                                       .name = AT(sa[i].name),
                                       .domains = &domain_ptrs[i * 3],
                                       .n_domains = sa[i].n_domains,
                                       .website = AT(sa[i].website),
                                       .country = AT(sa[i].country),
                                       .owner = "rep-1"};
    }

    long rss_before = status_kib("VmRSS");
    double t0 = now_seconds();
    struct account_index_options o = {threshold};
    struct account_index *ix = NULL;
    struct bt_error err = BT_ERROR_INIT;
    if (account_index_new(accounts, n_accounts, &o, &ix, &err) != BT_OK) {
        fprintf(stderr, "index: %s\n", err.message);
        return 1;
    }
    double build = now_seconds() - t0;
    long rss_after = status_kib("VmRSS");

    printf("accounts: %zu, leads: %zu, threshold %.2f\n", n_accounts, n_leads, threshold);
    printf("index build: %.3f s (%.0f accounts/s)\n", build, (double)n_accounts / build);
    printf("index memory: %.1f MiB by its count, resident set grew %.1f MiB\n",
           (double)account_index_memory(ix) / (1024.0 * 1024.0),
           (double)(rss_after - rss_before) / 1024.0);

    /* The mixed stream. */
    size_t by_kind[ACCOUNT_MATCH_NAME_SIMILAR + 1] = {0};
    size_t wrong = 0;
    struct account_match m;
    t0 = now_seconds();
    for (size_t i = 0; i < n_leads; i++) {
        struct account_query q = query_of(&sl[i]);
        account_match(ix, &q, &m);
        by_kind[m.match.kind]++;
        wrong += sl[i].kind == LEAD_MISS && m.match.account_id != NULL;
    }
    double mixed = now_seconds() - t0;
    printf("mixed: %.0f matches/s, %.0f ns/match\n", (double)n_leads / mixed,
           mixed * 1e9 / (double)n_leads);
    printf("  matched by domain %zu, parent_domain %zu, name_exact %zu, name_similar %zu, "
           "none %zu; misses that matched: %zu\n",
           by_kind[ACCOUNT_MATCH_DOMAIN], by_kind[ACCOUNT_MATCH_PARENT_DOMAIN],
           by_kind[ACCOUNT_MATCH_NAME_EXACT], by_kind[ACCOUNT_MATCH_NAME_SIMILAR],
           by_kind[ACCOUNT_MATCH_NONE], wrong);

    /* Each kind alone. */
    for (int k = 0; k < LEAD_KINDS; k++) {
        size_t count = 0, matched = 0;
        t0 = now_seconds();
        for (size_t i = 0; i < n_leads; i++) {
            if (sl[i].kind != (enum lead_kind)k)
                continue;
            struct account_query q = query_of(&sl[i]);
            account_match(ix, &q, &m);
            count++;
            matched += m.match.account_id != NULL;
        }
        double t = now_seconds() - t0;
        if (count)
            printf("  %-13s %8zu leads, %9.0f matches/s, %6.0f ns/match, %5.1f%% matched\n",
                   kind_names[k], count, (double)count / t, t * 1e9 / (double)count,
                   100.0 * (double)matched / (double)count);
    }
    printf("peak resident set: %.1f MiB (synthetic data included)\n",
           (double)status_kib("VmHWM") / 1024.0);

    account_index_free(ix);
    free(sa);
    free(sl);
    free(accounts);
    free(domain_ptrs);
    free(pool);
    return 0;
}
