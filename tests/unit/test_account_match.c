/*
 * test_account_match.c - lead-to-account matching as account_match.h states
 * it: the name normaliser (every legal suffix, accents, punctuation), public
 * suffixes, domain and parent-domain matches, free mail, name matches with
 * and without supporting signals, the near-misses that must not match, ties
 * and runner-ups, the explanation, index errors, and a check of the
 * similarity search's filter against brute force.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/account_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The normalised key of `name`, in a static buffer. */
static const char *key_of(const char *name)
{
    static char out[ACCOUNT_NAME_MAX + 1];
    size_t len;
    assert_int_equal(account_name_normalize(name, strlen(name), out, &len, NULL), BT_OK);
    assert_int_equal(len, strlen(out));
    return out;
}

static void check_key(const char *name, const char *want)
{
    const char *got = key_of(name);
    if (strcmp(got, want) != 0)
        fail_msg("normalise \"%s\": got \"%s\", want \"%s\"", name, got, want);
}

static struct account_index *index_of(const struct account *accounts, size_t n, double threshold)
{
    struct account_index_options o = ACCOUNT_INDEX_OPTIONS_INIT;
    if (threshold > 0)
        o.name_threshold = threshold;
    struct account_index *ix = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = account_index_new(accounts, n, &o, &ix, &err);
    if (rc)
        fail_msg("index: %s", err.message);
    assert_non_null(ix);
    return ix;
}

static struct account_match match_q(const struct account_index *ix, struct account_query q)
{
    struct account_match m;
    account_match(ix, &q, &m);
    return m;
}

static void assert_no_match(const struct account_match *m)
{
    if (m->match.account_id)
        fail_msg("unexpected match %s (%s, %.3f)", m->match.account_id,
                 account_match_kind_name(m->match.kind), m->match.score);
    assert_int_equal(m->match.kind, ACCOUNT_MATCH_NONE);
}

static void assert_match(const struct account_match *m, const char *id,
                         enum account_match_kind kind)
{
    if (!m->match.account_id)
        fail_msg("no match, wanted %s", id);
    assert_string_equal(m->match.account_id, id);
    assert_int_equal(m->match.kind, kind);
}

/* ------------------------------------------------------------------------ */
/* Normaliser                                                                */

static void test_normalize_case_punctuation_space(void **state)
{
    (void)state;
    check_key("ACME", "acme");
    check_key("  Acme   Widgets\t\n", "acme widgets");
    check_key("Acme-Widgets (Europe)", "acme widgets europe");
    check_key("McDonald's", "mcdonalds");
    check_key("McDonald\xE2\x80\x99s", "mcdonalds"); /* right single quote */
    check_key("Procter & Gamble", "procter gamble");
    check_key("Procter and Gamble", "procter gamble");
    check_key("AT&T", "at t");
    check_key("J.P. Morgan", "jp morgan");
    check_key("JP Morgan", "jp morgan");
    check_key("acme.com", "acme com");
    check_key("Yahoo!", "yahoo");
    check_key("3M", "3m");
    check_key("Acme\xC2\xA0Widgets", "acme widgets"); /* no-break space */
    check_key("Acme\xE2\x84\xA2", "acme");            /* trade mark sign */
    check_key("", "");
    check_key("!!! ...", "");
    check_key("and", "");
}

static void test_normalize_every_legal_suffix(void **state)
{
    (void)state;
    static const char *const suffixes[] = {
        "Inc",
        "Inc.",
        "Incorporated",
        "LLC",
        "L.L.C.",
        "Ltd",
        "Ltd.",
        "Limited",
        "GmbH",
        "AG",
        "SA",
        "S.A.",
        "SAS",
        "S.A.S.",
        "SARL",
        "S.A.R.L.",
        "BV",
        "B.V.",
        "NV",
        "N.V.",
        "Oy",
        "Oyj",
        "AB",
        "AS",
        "A/S",
        "ASA",
        "ApS",
        "SpA",
        "S.p.A.",
        "Srl",
        "S.r.l.",
        "s.r.o.",
        "Pty Ltd",
        "Pty. Ltd.",
        "Pty Limited",
        "PLC",
        "Corp",
        "Corp.",
        "Corporation",
        "Co",
        "Co.",
        "Company",
        "KK",
        "K.K.",
        "Sp. z o.o.",
        "Sp. z.o.o.",
        "SE",
        "KG",
        "KGaA",
        "LLP",
        "LP",
        "S.L.",
        "Ltda",
        "Kft.",
        "Pte. Ltd.",
        "Pvt. Ltd.",
        "Private Limited",
        "S.A. de C.V.",
        "Sdn. Bhd.",
        "Bhd",
        "mbH",
        "GmbH & Co. KG",
    };
    char name[128];
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        snprintf(name, sizeof(name), "Acme %s", suffixes[i]);
        check_key(name, "acme");
        snprintf(name, sizeof(name), "Acme, %s", suffixes[i]);
        check_key(name, "acme");
        snprintf(name, sizeof(name), "Blue Fox Trading %s", suffixes[i]);
        check_key(name, "blue fox trading");
    }
    check_key("The Acme Company", "acme");
    check_key("THE ACME GROUP", "acme group");
    /* the last word stays, whatever it is */
    check_key("Inc.", "inc");
    check_key("The Company", "company");
    check_key("The", "the");
    check_key("Company Ltd", "company");
    /* suffixes only come off the end */
    check_key("AG Insurance Brokers", "ag insurance brokers");
    check_key("Ltd Edition Prints", "ltd edition prints");
    /* "Studio A B.V.": the B.V. closes up, the A stays its own word */
    check_key("Studio A B.V.", "studio a");
}

static void test_normalize_accents(void **state)
{
    (void)state;
    check_key("Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale S.A.", "societe generale");
    check_key("Socie\xCC\x81te\xCC\x81 Ge\xCC\x81ne\xCC\x81rale", "societe generale"); /* NFD */
    check_key("M\xC3\xBCller GmbH", "muller");
    check_key("STRA\xC3\x9F"
              "E",
              "strasse");
    check_key("\xC3\x86R\xC3\x98", "aero");
    check_key("\xC5\x92uvre", "oeuvre");
    check_key("\xC5\x81\xC3\xB3"
              "d\xC5\xBA Sp. z o.o.",
              "lodz");
    check_key("\xC4\x8C"
              "esk\xC3\xA1 Spo\xC5\x99itelna",
              "ceska sporitelna");
    check_key("\xC4\xB2sselmuiden", "ijsselmuiden");
    check_key("\xC3\x85"
              "ngstr\xC3\xB6m \xC3\x96rsted",
              "angstrom orsted");
    check_key("\xEF\xBC\xA1\xEF\xBC\xA3\xEF\xBC\xAD\xEF\xBC\xA5", "acme"); /* fullwidth */
    check_key("\xD0\x93\xD0\x90\xD0\x97\xD0\x9F\xD0\xA0\xD0\x9E\xD0\x9C",
              "\xD0\xB3\xD0\xB0\xD0\xB7\xD0\xBF\xD1\x80\xD0\xBE\xD0\xBC"); /* Cyrillic */
    check_key("\xE6\xA0\xAA\xE5\xBC\x8F\xE4\xBC\x9A\xE7\xA4\xBE",          /* CJK kept as is */
              "\xE6\xA0\xAA\xE5\xBC\x8F\xE4\xBC\x9A\xE7\xA4\xBE");
    /* the same company, written four ways, is one key */
    assert_string_equal(key_of("N\xC3\xB8rd Bank A/S"), "nord bank");
    assert_string_equal(key_of("NORD BANK AS"), "nord bank");
}

static void test_normalize_bounds_and_bad_bytes(void **state)
{
    (void)state;
    char out[ACCOUNT_NAME_MAX + 1];
    char name[ACCOUNT_NAME_MAX + 2];
    size_t len;
    memset(name, 'a', sizeof(name));
    assert_int_equal(account_name_normalize(name, ACCOUNT_NAME_MAX, out, &len, NULL), BT_OK);
    assert_int_equal(len, ACCOUNT_NAME_MAX);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(account_name_normalize(name, ACCOUNT_NAME_MAX + 1, out, &len, &err),
                     BT_ETOOBIG);
    assert_string_equal(err.field, "name");
    assert_int_equal(len, 0);
    check_key("\xFF\xFE"
              "Acme\xC3",
              "acme");                  /* malformed bytes separate */
    check_key("Ac\xC0\xAFme", "ac me"); /* an overlong "/" is not a joiner */
    assert_int_equal(account_name_normalize("Ac\0me", 5, out, &len, NULL), BT_OK);
    assert_string_equal(out, "ac me");
    /* every byte value through the normaliser: the key is valid UTF-8 */
    for (int b = 0; b < 256; b++) {
        char one[3] = {'x', (char)b, 'y'};
        assert_int_equal(account_name_normalize(one, 3, out, &len, NULL), BT_OK);
        assert_true(len <= 3);
    }
}

static void test_similarity(void **state)
{
    (void)state;
    assert_true(account_name_similarity("acme", "acme") == 1.0);
    assert_true(account_name_similarity("", "") == 1.0);
    assert_true(account_name_similarity("acme", "acne") == 0.75);
    assert_true(account_name_similarity("apple", "apple bank") == 0.5);
    assert_true(account_name_similarity("abc", "") == 0.0);
    /* code points, not bytes: one accent-free letter changed in six */
    double s = account_name_similarity("\xD0\xB3\xD0\xB0\xD0\xB7\xD0\xBF\xD1\x80\xD0\xBE",
                                       "\xD0\xB3\xD0\xB0\xD0\xB7\xD0\xBF\xD1\x80\xD0\xB0");
    assert_true(s > 0.83 && s < 0.84);
}

static void test_registrable_domain(void **state)
{
    (void)state;
    static const struct {
        const char *domain, *want;
    } cases[] = {
        {"acme.com", "acme.com"},
        {"eu.acme.com", "acme.com"},
        {"a.b.c.acme.com", "acme.com"},
        {"acme.co.uk", "acme.co.uk"},
        {"sales.acme.co.uk", "acme.co.uk"},
        {"www.bbc.co.uk", "bbc.co.uk"},
        {"acme.com.au", "acme.com.au"},
        {"x.acme.com.au", "acme.com.au"},
        {"shop.acme.co.jp", "acme.co.jp"},
        {"x.acme.com.pe", "acme.com.pe"}, /* generic second level, not listed */
        {"acme.me.uk", "acme.me.uk"},
        {"acme.github.io", "acme.github.io"},
        {"docs.acme.github.io", "acme.github.io"},
        {"acme.s3.amazonaws.com", "acme.s3.amazonaws.com"},
        {"co.com", "co.com"}, /* a generic label under a three-letter TLD is a name */
        {"co.uk", NULL},
        {"com.au", NULL},
        {"com", NULL},
        {"github.io", NULL},
        {"s3.amazonaws.com", NULL},
        {"acme.com.", NULL},
        {".com", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = account_registrable_domain(cases[i].domain);
        if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
            fail_msg("registrable(%s): got %s, want %s", cases[i].domain, got ? got : "NULL",
                     cases[i].want ? cases[i].want : "NULL");
    }
    assert_null(account_registrable_domain(NULL));
}

/* ------------------------------------------------------------------------ */
/* Domains                                                                   */

static void test_domain_exact(void **state)
{
    (void)state;
    const char *acme_domains[] = {"acme.com", "WWW.Acme.DE"};
    struct account accounts[] = {
        {.id = "other", .name = "Other", .domains = (const char *[]){"other.com"}, .n_domains = 1},
        {.id = "acme",
         .name = "Acme Inc",
         .domains = acme_domains,
         .n_domains = 2,
         .website = "https://www.acme-corp.com/about?x=1",
         .country = "Germany",
         .owner = "rep-7"},
    };
    struct account_index *ix = index_of(accounts, 2, 0);
    assert_int_equal(account_index_count(ix), 2);

    struct account_match m = match_q(ix, (struct account_query){.email_domain = "acme.de"});
    assert_match(&m, "acme", ACCOUNT_MATCH_DOMAIN);
    assert_int_equal(m.match.via, ACCOUNT_VIA_EMAIL_DOMAIN);
    assert_string_equal(m.match.account_key, "acme.de");
    assert_string_equal(m.match.lead_key, "acme.de");
    assert_string_equal(m.match.owner, "rep-7");
    assert_int_equal(m.match.position, 1);
    assert_true(m.match.score == 1.0);
    assert_int_equal(m.match.rejected, ACCOUNT_REJECT_NONE);
    assert_null(m.runner_up.account_id);
    assert_false(m.ambiguous);

    m = match_q(ix, (struct account_query){.website_domain = "acme-corp.com", .country = "DE"});
    assert_match(&m, "acme", ACCOUNT_MATCH_DOMAIN);
    assert_int_equal(m.match.via, ACCOUNT_VIA_WEBSITE_DOMAIN);
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_COUNTRY | ACCOUNT_SIGNAL_DOMAIN_FAMILY);

    /* a domain match beats a name: the lead's company names the other account */
    m = match_q(ix, (struct account_query){.email_domain = "acme.com", .company = "Other"});
    assert_match(&m, "acme", ACCOUNT_MATCH_DOMAIN);
    assert_string_equal(m.company_key, "other");
    assert_null(m.runner_up.account_id); /* names are not tried once a domain matched */

    /* a different domain of the same family is not a domain match */
    m = match_q(ix, (struct account_query){.email_domain = "acme.fr"});
    assert_no_match(&m);
    m = match_q(ix, (struct account_query){.email_domain = "notacme.com"});
    assert_no_match(&m);
    account_index_free(ix);
}

static void test_subdomain_parent(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acme", .name = "Acme", .domains = (const char *[]){"acme.com"}, .n_domains = 1},
        {.id = "acme-eu",
         .name = "Acme Europe",
         .domains = (const char *[]){"eu.acme.com"},
         .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, 2, 0);

    struct account_match m = match_q(ix, (struct account_query){.email_domain = "us.acme.com"});
    assert_match(&m, "acme", ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_string_equal(m.match.lead_key, "us.acme.com");
    assert_string_equal(m.match.account_key, "acme.com");
    assert_true(m.match.score == 1.0);

    /* an account domain itself is an exact match, not a parent one */
    m = match_q(ix, (struct account_query){.email_domain = "eu.acme.com"});
    assert_match(&m, "acme-eu", ACCOUNT_MATCH_DOMAIN);

    /* the nearest parent wins */
    m = match_q(ix, (struct account_query){.website_domain = "sales.eu.acme.com"});
    assert_match(&m, "acme-eu", ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_string_equal(m.match.account_key, "eu.acme.com");

    /* a parent of an account domain is not a match for it */
    struct account only_eu[] = {accounts[1]};
    struct account_index *ix2 = index_of(only_eu, 1, 0);
    m = match_q(ix2, (struct account_query){.email_domain = "acme.com"});
    assert_no_match(&m);
    account_index_free(ix2);

    /* exact beats parent, whichever attribute carries them */
    m = match_q(
        ix, (struct account_query){.email_domain = "x.eu.acme.com", .website_domain = "acme.com"});
    assert_match(&m, "acme", ACCOUNT_MATCH_DOMAIN);
    assert_string_equal(m.runner_up.account_id, "acme-eu");
    assert_int_equal(m.runner_up.kind, ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    account_index_free(ix);
}

static void test_co_uk_and_public_suffixes(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acme-uk",
         .name = "Acme UK",
         .domains = (const char *[]){"acme.co.uk"},
         .n_domains = 1,
         .country = "GB"},
        /* bad data: an account that claims public suffixes */
        {.id = "bogus",
         .name = "Bogus",
         .domains = (const char *[]){"co.uk", "github.io"},
         .n_domains = 2},
        {.id = "github",
         .name = "GitHub",
         .domains = (const char *[]){"github.com"},
         .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);

    struct account_match m =
        match_q(ix, (struct account_query){.email_domain = "sales.acme.co.uk"});
    assert_match(&m, "acme-uk", ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_string_equal(m.match.account_key, "acme.co.uk");

    /* another company under co.uk never reaches the "co.uk" account */
    m = match_q(ix, (struct account_query){.email_domain = "widgets.co.uk"});
    assert_no_match(&m);
    m = match_q(ix, (struct account_query){.email_domain = "mail.widgets.co.uk"});
    assert_no_match(&m);
    /* nor does a project page reach the platform */
    m = match_q(ix, (struct account_query){.website_domain = "acme.github.io"});
    assert_no_match(&m);

    /* acme.co.uk and acme.de are one family: "acme" */
    struct account_index *ix2 = index_of((struct account[]){{.id = "acme-de",
                                                             .name = "Acme Widgets Holding",
                                                             .domains = (const char *[]){"acme.de"},
                                                             .n_domains = 1}},
                                         1, 0);
    m = match_q(ix2, (struct account_query){.email_domain = "acme.co.uk",
                                            .company = "Acme Widget Holding"});
    assert_match(&m, "acme-de", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_DOMAIN_FAMILY);
    /* ... while "co" is no family: widgets.co.uk shares nothing with acme.de */
    m = match_q(ix2, (struct account_query){.email_domain = "widgets.co.uk",
                                            .company = "Acme Widget Holding"});
    assert_no_match(&m);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_NO_SIGNAL);
    account_index_free(ix2);
    account_index_free(ix);
}

static void test_freemail_never_matches_by_domain(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "google",
         .name = "Google LLC",
         .domains = (const char *[]){"gmail.com", "google.com"},
         .n_domains = 2,
         .country = "US"},
        {.id = "acme",
         .name = "Acme Widgets Holding",
         .domains = (const char *[]){"gmail.de"},
         .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);

    struct account_match m =
        match_q(ix, (struct account_query){.email_domain = "gmail.com", .email_free = true});
    assert_no_match(&m);
    assert_null(m.runner_up.account_id);
    /* nor by parent */
    m = match_q(ix, (struct account_query){.email_domain = "eu.gmail.com", .email_free = true});
    assert_no_match(&m);
    /* the same domain without the flag does match */
    m = match_q(ix, (struct account_query){.email_domain = "gmail.com"});
    assert_match(&m, "google", ACCOUNT_MATCH_DOMAIN);

    /* a free-mail lead can still match by company name */
    m = match_q(ix, (struct account_query){
                        .email_domain = "gmail.com", .email_free = true, .company = "Google"});
    assert_match(&m, "google", ACCOUNT_MATCH_NAME_EXACT);
    assert_int_equal(m.match.via, ACCOUNT_VIA_COMPANY);

    /* and a free-mail domain is no supporting signal either ("gmail" family) */
    m = match_q(ix, (struct account_query){.email_domain = "gmail.com",
                                           .email_free = true,
                                           .company = "Acme Widget Holding"});
    assert_no_match(&m);
    assert_string_equal(m.runner_up.account_id, "acme");
    assert_int_equal(m.runner_up.signals, 0);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_NO_SIGNAL);
    account_index_free(ix);
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static void test_name_exact(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "a1", .name = "Acme Corporation", .country = "US"},
        {.id = "a2", .name = "Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale"},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);

    /* no signal needed for an exact name */
    struct account_match m =
        match_q(ix, (struct account_query){.company = "ACME Corp.", .country = "FR"});
    assert_match(&m, "a1", ACCOUNT_MATCH_NAME_EXACT);
    assert_true(m.match.score == 1.0);
    assert_int_equal(m.match.signals, 0);
    assert_string_equal(m.match.account_key, "acme");
    assert_null(m.match.lead_key); /* the lead's side is company_key */
    assert_string_equal(m.company_key, "acme");

    m = match_q(ix, (struct account_query){.company = "SOCIETE GENERALE S.A."});
    assert_match(&m, "a2", ACCOUNT_MATCH_NAME_EXACT);

    /* a company that normalises to nothing matches nothing */
    m = match_q(ix, (struct account_query){.company = "Inc."});
    assert_no_match(&m);
    m = match_q(ix, (struct account_query){.company = "..."});
    assert_no_match(&m);
    assert_string_equal(m.company_key, "");
    account_index_free(ix);
}

static void test_similar_name_needs_a_signal(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "nw",
         .name = "Northwind Traders Ltd",
         .country = "GB",
         .domains = (const char *[]){"northwind.co.uk"},
         .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, 1, 0);
    double want = 1.0 - 1.0 / 17.0; /* "northwind trader" vs "northwind traders" */

    /* nothing supports it: no match, but the candidate is explained */
    struct account_match m = match_q(ix, (struct account_query){.company = "Northwind Trader"});
    assert_no_match(&m);
    assert_string_equal(m.runner_up.account_id, "nw");
    assert_int_equal(m.runner_up.kind, ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_NO_SIGNAL);
    assert_int_equal(m.runner_up.signals, 0);
    assert_true(m.runner_up.score > want - 1e-12 && m.runner_up.score < want + 1e-12);

    /* another country is no support */
    m = match_q(ix, (struct account_query){.company = "Northwind Trader", .country = "DE"});
    assert_no_match(&m);

    /* same country */
    m = match_q(ix, (struct account_query){.company = "Northwind Trader", .country = "gb"});
    assert_match(&m, "nw", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_COUNTRY);
    assert_true(m.match.score > want - 1e-12 && m.match.score < want + 1e-12);

    /* same domain family under another TLD */
    m = match_q(ix, (struct account_query){.company = "Northwind Trader",
                                           .website_domain = "northwind.de",
                                           .country = "DE"});
    assert_match(&m, "nw", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_DOMAIN_FAMILY);

    /* both */
    m = match_q(ix, (struct account_query){.company = "Northwind Trader",
                                           .email_domain = "northwind.com",
                                           .country = "GB"});
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_COUNTRY | ACCOUNT_SIGNAL_DOMAIN_FAMILY);
    account_index_free(ix);
}

static void test_near_misses_do_not_match(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acne", .name = "Acne Studios AB", .country = "SE"},
        {.id = "acne2", .name = "Acne", .country = "US"},
        {.id = "delta",
         .name = "Delta Air Lines, Inc.",
         .country = "US",
         .domains = (const char *[]){"delta.com"},
         .n_domains = 1},
        {.id = "apple-bank", .name = "Apple Bank for Savings", .country = "US"},
        {.id = "apple-bank2", .name = "Apple Bank", .country = "US"},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);

    /* even with every signal */
    struct account_match m =
        match_q(ix, (struct account_query){.company = "Acme", .country = "US"});
    assert_no_match(&m);
    assert_null(m.runner_up.account_id); /* 0.75: below the threshold, not a candidate */
    /* "acme studios" vs "acne studios" is 0.917, above the threshold: only
     * a supporting signal would let it match, and the countries differ */
    assert_true(account_name_similarity("acme studios", "acne studios") > 0.9);
    m = match_q(ix, (struct account_query){.company = "Acme Studios", .country = "US"});
    assert_no_match(&m);
    assert_string_equal(m.runner_up.account_id, "acne");
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_NO_SIGNAL);
    m = match_q(ix, (struct account_query){.company = "Delta Faucet Company", .country = "US"});
    assert_no_match(&m);
    m = match_q(ix, (struct account_query){.company = "Apple", .country = "US"});
    assert_no_match(&m);
    account_index_free(ix);
}

static void test_signal_requirement_and_threshold(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "delta",
         .name = "Delta Air Lines",
         .country = "US",
         .domains = (const char *[]){"delta.com"},
         .n_domains = 1},
        {.id = "apple-bank", .name = "Apple Bank", .country = "US"},
    };
    double delta = account_name_similarity("delta faucet", "delta air lines");
    assert_true(delta < 0.9);

    /* with a threshold that lets the score through, support decides */
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), delta - 0.01);
    struct account_match m = match_q(ix, (struct account_query){.company = "Delta Faucet"});
    assert_no_match(&m);
    assert_string_equal(m.runner_up.account_id, "delta");
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_NO_SIGNAL);
    m = match_q(ix, (struct account_query){.company = "Delta Faucet", .country = "US"});
    assert_match(&m, "delta", ACCOUNT_MATCH_NAME_SIMILAR);
    account_index_free(ix);

    /* "Apple" vs "Apple Bank" is 0.5: only a threshold of 0.5 or less lets
     * it match (this threshold takes the full-scan path) */
    ix = index_of(accounts, ARRAY_LEN(accounts), 0.5);
    m = match_q(ix, (struct account_query){.company = "Apple", .country = "US"});
    assert_match(&m, "apple-bank", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_true(m.match.score == 0.5);
    m = match_q(ix, (struct account_query){.company = "Apple"});
    assert_no_match(&m);
    account_index_free(ix);
    ix = index_of(accounts, ARRAY_LEN(accounts), 0.51);
    m = match_q(ix, (struct account_query){.company = "Apple", .country = "US"});
    assert_no_match(&m);
    account_index_free(ix);

    /* 1.0 allows exact names only */
    ix = index_of(accounts, ARRAY_LEN(accounts), 1.0);
    m = match_q(ix, (struct account_query){.company = "Apple Bank", .country = "US"});
    assert_match(&m, "apple-bank", ACCOUNT_MATCH_NAME_EXACT);
    m = match_q(ix, (struct account_query){.company = "Apple Banks", .country = "US"});
    assert_no_match(&m);
    account_index_free(ix);
}

/* ------------------------------------------------------------------------ */
/* Ties and runner-ups                                                       */

static void test_ties_and_runner_up(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acme-old",
         .name = "Acme GmbH",
         .country = "DE",
         .domains = (const char *[]){"acme.com"},
         .n_domains = 1},
        {.id = "acme-new",
         .name = "Acme Inc",
         .country = "US",
         .domains = (const char *[]){"acme.com"},
         .n_domains = 1},
        {.id = "acme-io",
         .name = "Acme IO",
         .domains = (const char *[]){"acme.io"},
         .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);

    /* two accounts claim acme.com: the first wins, flagged */
    struct account_match m = match_q(ix, (struct account_query){.email_domain = "acme.com"});
    assert_match(&m, "acme-old", ACCOUNT_MATCH_DOMAIN);
    assert_string_equal(m.runner_up.account_id, "acme-new");
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_TIE);
    assert_true(m.ambiguous);

    /* the lead's country breaks the tie */
    m = match_q(ix, (struct account_query){.email_domain = "acme.com", .country = "US"});
    assert_match(&m, "acme-new", ACCOUNT_MATCH_DOMAIN);
    assert_string_equal(m.runner_up.account_id, "acme-old");
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    assert_false(m.ambiguous);

    /* email beats website */
    m = match_q(ix,
                (struct account_query){.email_domain = "acme.io", .website_domain = "acme.com"});
    assert_match(&m, "acme-io", ACCOUNT_MATCH_DOMAIN);
    assert_int_equal(m.runner_up.via, ACCOUNT_VIA_WEBSITE_DOMAIN);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    assert_false(m.ambiguous);

    /* the same name twice: the signal decides, else the first */
    m = match_q(ix, (struct account_query){.company = "ACME", .country = "US"});
    assert_match(&m, "acme-new", ACCOUNT_MATCH_NAME_EXACT);
    assert_string_equal(m.runner_up.account_id, "acme-old");
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    m = match_q(ix, (struct account_query){.company = "ACME"});
    assert_match(&m, "acme-old", ACCOUNT_MATCH_NAME_EXACT);
    assert_string_equal(m.runner_up.account_id, "acme-new");
    assert_true(m.ambiguous);
    account_index_free(ix);

    /* exact beats similar; the similar one is the runner-up */
    struct account names[] = {
        {.id = "similar", .name = "Contoso Pharmaceuticals", .country = "US"},
        {.id = "exact", .name = "Contoso Pharmaceutical"},
    };
    ix = index_of(names, 2, 0);
    m = match_q(ix, (struct account_query){.company = "Contoso Pharmaceutical", .country = "US"});
    assert_match(&m, "exact", ACCOUNT_MATCH_NAME_EXACT);
    assert_string_equal(m.runner_up.account_id, "similar");
    assert_int_equal(m.runner_up.kind, ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    account_index_free(ix);

    /* the higher score wins among similar names, signals being equal */
    struct account two[] = {
        {.id = "far", .name = "Fabrikam Industries Europe", .country = "FR"},
        {.id = "near", .name = "Fabrikam Industries Europa", .country = "FR"},
    };
    ix = index_of(two, 2, 0.85);
    m = match_q(ix,
                (struct account_query){.company = "Fabrikam Industries Europa.", .country = "FR"});
    assert_match(&m, "near", ACCOUNT_MATCH_NAME_EXACT);
    m = match_q(ix,
                (struct account_query){.company = "Fabrikam Industrie Europa", .country = "FR"});
    assert_match(&m, "near", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_string_equal(m.runner_up.account_id, "far");
    assert_true(m.runner_up.score < m.match.score);
    assert_int_equal(m.runner_up.rejected, ACCOUNT_REJECT_OUTRANKED);
    account_index_free(ix);
}

static void test_empty_index(void **state)
{
    (void)state;
    struct account_index *ix = index_of(NULL, 0, 0);
    assert_int_equal(account_index_count(ix), 0);
    assert_true(account_index_memory(ix) > 0);
    struct account_match m =
        match_q(ix, (struct account_query){.email_domain = "acme.com", .company = "Acme Inc."});
    assert_no_match(&m);
    assert_null(m.runner_up.account_id);
    assert_string_equal(m.company_key, "acme");
    assert_true(m.threshold == ACCOUNT_NAME_THRESHOLD_DEFAULT);
    char buf[64];
    account_match_describe(&m, buf, sizeof(buf));
    assert_string_equal(buf, "no account");
    account_index_free(ix);
    account_index_free(NULL);

    /* an empty query, a NULL index */
    ix = index_of((struct account[]){{.id = "a", .name = "A"}}, 1, 0);
    m = match_q(ix, (struct account_query){0});
    assert_no_match(&m);
    account_match(NULL, &(struct account_query){.company = "A"}, &m);
    assert_no_match(&m);
    account_index_free(ix);
}

static void test_explanation_fields(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acme",
         .name = "Acme Inc",
         .domains = (const char *[]){"acme.com"},
         .n_domains = 1,
         .owner = "alice"},
        {.id = "acme-dup",
         .name = "ACME, Inc.",
         .domains = (const char *[]){"acme.com"},
         .n_domains = 1},
        {.id = "nw", .name = "Northwind Traders", .country = "GB"},
    };
    struct account_index *ix = index_of(accounts, ARRAY_LEN(accounts), 0);
    char buf[512];

    struct account_match m = match_q(ix, (struct account_query){.email_domain = "eu.acme.com"});
    assert_match(&m, "acme", ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_int_equal(m.match.via, ACCOUNT_VIA_EMAIL_DOMAIN);
    assert_string_equal(m.match.owner, "alice");
    assert_null(m.runner_up.owner);
    account_match_describe(&m, buf, sizeof(buf));
    assert_string_equal(buf, "account acme by parent_domain: eu.acme.com (email_domain) is under "
                             "acme.com; runner-up acme-dup by parent_domain: eu.acme.com "
                             "(email_domain) is under acme.com: tie");

    m = match_q(ix, (struct account_query){.company = "Northwind Trader", .country = "GB"});
    assert_match(&m, "nw", ACCOUNT_MATCH_NAME_SIMILAR);
    assert_int_equal(m.match.via, ACCOUNT_VIA_COMPANY);
    assert_null(m.match.lead_key);
    assert_string_equal(m.company_key, "northwind trader");
    assert_string_equal(m.match.account_key, "northwind traders");
    assert_int_equal(m.match.position, 2);
    account_match_describe(&m, buf, sizeof(buf));
    assert_string_equal(buf, "account nw by name_similar: \"northwind trader\" ~ \"northwind "
                             "traders\" 0.941 (threshold 0.90), signals country");

    m = match_q(ix, (struct account_query){.company = "Northwind Trader"});
    account_match_describe(&m, buf, sizeof(buf));
    assert_string_equal(buf, "no account; closest nw by name_similar: \"northwind trader\" ~ "
                             "\"northwind traders\" 0.941 (threshold 0.90), signals none: "
                             "no_signal");
    /* a short buffer is terminated */
    int n = account_match_describe(&m, buf, 8);
    assert_true(n > 8);
    assert_string_equal(buf, "no acco");

    assert_string_equal(account_match_kind_name(ACCOUNT_MATCH_NONE), "none");
    assert_string_equal(account_match_kind_name(ACCOUNT_MATCH_DOMAIN), "domain");
    assert_string_equal(account_match_kind_name(ACCOUNT_MATCH_PARENT_DOMAIN), "parent_domain");
    assert_string_equal(account_match_kind_name(ACCOUNT_MATCH_NAME_EXACT), "name_exact");
    assert_string_equal(account_match_kind_name(ACCOUNT_MATCH_NAME_SIMILAR), "name_similar");
    assert_string_equal(account_match_via_name(ACCOUNT_VIA_WEBSITE_DOMAIN), "website_domain");
    assert_string_equal(account_reject_name(ACCOUNT_REJECT_NO_SIGNAL), "no_signal");
    assert_string_equal(account_signals_name(0), "none");
    assert_string_equal(account_signals_name(ACCOUNT_SIGNAL_COUNTRY | ACCOUNT_SIGNAL_DOMAIN_FAMILY),
                        "country+domain_family");
    account_index_free(ix);
}

static void test_match_lead(void **state)
{
    (void)state;
    struct account accounts[] = {
        {.id = "acme", .name = "Acme", .domains = (const char *[]){"acme.com"}, .n_domains = 1},
    };
    struct account_index *ix = index_of(accounts, 1, 0);
    struct lead lead = {0};
    lead.attr[LEAD_EMAIL_DOMAIN] = "gmail.com";
    lead.email_free = true;
    lead.attr[LEAD_WEBSITE_DOMAIN] = "shop.acme.com";
    lead.attr[LEAD_COMPANY] = "Someone Else";
    lead.attr[LEAD_COUNTRY] = "US";
    struct account_match m;
    account_match_lead(ix, &lead, &m);
    assert_match(&m, "acme", ACCOUNT_MATCH_PARENT_DOMAIN);
    assert_int_equal(m.match.via, ACCOUNT_VIA_WEBSITE_DOMAIN);
    struct account_query q = account_query_of_lead(&lead);
    assert_true(q.email_free);
    assert_string_equal(q.company, "Someone Else");
    account_index_free(ix);
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */

static void expect_index_error(const struct account *a, size_t n, double threshold, bt_err code,
                               const char *field, const char *needle)
{
    struct account_index_options o = {threshold};
    struct account_index *ix = (struct account_index *)&o; /* must be reset to NULL */
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = account_index_new(a, n, &o, &ix, &err);
    if (rc != code)
        fail_msg("want error %d, got %d (%s)", code, rc, err.message);
    assert_null(ix);
    assert_string_equal(err.field, field);
    if (!strstr(err.message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_index_errors(void **state)
{
    (void)state;
    expect_index_error((struct account[]){{.name = "x"}}, 1, 0.9, BT_EINVAL, "id", "no id");
    expect_index_error((struct account[]){{.id = "a"}, {.id = "b"}, {.id = "a"}}, 3, 0.9, BT_EINVAL,
                       "id", "account a appears twice");
    expect_index_error(
        (struct account[]){
            {.id = "a", .domains = (const char *[]){"not a domain"}, .n_domains = 1}},
        1, 0.9, BT_EINVAL, "domains", "account a: domains \"not a domain\"");
    expect_index_error(
        (struct account[]){{.id = "a", .domains = (const char *[]){""}, .n_domains = 1}}, 1, 0.9,
        BT_EINVAL, "domains", "empty");
    expect_index_error((struct account[]){{.id = "a", .website = "http://"}}, 1, 0.9, BT_EINVAL,
                       "website", "account a: website");
    expect_index_error((struct account[]){{.id = "a", .country = "Atlantis"}}, 1, 0.9, BT_EINVAL,
                       "country", "unknown country \"Atlantis\"");
    expect_index_error((struct account[]){{.id = "a"}}, 1, 0, BT_EINVAL, "name_threshold",
                       "threshold");
    expect_index_error((struct account[]){{.id = "a"}}, 1, 1.5, BT_EINVAL, "name_threshold",
                       "threshold");

    const char *many[ACCOUNT_DOMAINS_MAX + 1];
    for (size_t i = 0; i < ARRAY_LEN(many); i++)
        many[i] = "acme.com";
    expect_index_error(
        (struct account[]){{.id = "a", .domains = many, .n_domains = ARRAY_LEN(many)}}, 1, 0.9,
        BT_ETOOBIG, "domains", "more than 64 domains");
    char long_name[ACCOUNT_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    expect_index_error((struct account[]){{.id = "a", .name = long_name}}, 1, 0.9, BT_ETOOBIG,
                       "name", "longer than 256");
    char long_id[ACCOUNT_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    expect_index_error((struct account[]){{.id = long_id}}, 1, 0.9, BT_ETOOBIG, "id",
                       "longer than 128");

    /* 64 domains (duplicates count once), a country by name, an empty name */
    struct account ok = {
        .id = "a", .domains = many, .n_domains = ACCOUNT_DOMAINS_MAX, .country = "deu", .name = ""};
    struct account_index *ix = index_of(&ok, 1, 0);
    struct account_match m = match_q(ix, (struct account_query){.email_domain = "acme.com"});
    assert_match(&m, "a", ACCOUNT_MATCH_DOMAIN);
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_DOMAIN_FAMILY);
    m = match_q(ix, (struct account_query){.email_domain = "acme.com", .country = "DE"});
    assert_int_equal(m.match.signals, ACCOUNT_SIGNAL_COUNTRY | ACCOUNT_SIGNAL_DOMAIN_FAMILY);
    assert_true(account_index_threshold(ix) == ACCOUNT_NAME_THRESHOLD_DEFAULT);
    account_index_free(ix);
}

/* ------------------------------------------------------------------------ */
/* The segment filter finds what a full comparison finds                     */

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void random_name(char *out, size_t size)
{
    static const char *const parts[] = {
        "nor",  "th",    "wind", "con", "to",   "so",       "fab",      "ri",      "kam",
        "li",   "tware", "spin", "ner", "blue", "yon",      "der",      "ad",      "ven",
        "ture", "works", "a",    "e",   "o",    "\xD0\xB6", "\xCE\xBB", "\xC3\xB6"};
    size_t words = 1 + rnd(3), len = 0;
    for (size_t w = 0; w < words; w++) {
        if (w)
            out[len++] = ' ';
        size_t n = 1 + rnd(4);
        for (size_t i = 0; i < n; i++) {
            const char *p = parts[rnd(ARRAY_LEN(parts))];
            size_t l = strlen(p);
            if (len + l + 2 >= size)
                break;
            memcpy(out + len, p, l);
            len += l;
        }
    }
    out[len] = '\0';
}

/* One to three random edits of `s` in place. */
static void mutate(char *s, size_t size)
{
    size_t edits = 1 + rnd(3);
    for (size_t e = 0; e < edits; e++) {
        size_t len = strlen(s);
        size_t at = rnd((uint32_t)len + 1);
        char c = (char)('a' + rnd(26));
        switch (rnd(3)) {
        case 0:
            if (len + 2 < size) {
                memmove(s + at + 1, s + at, len - at + 1);
                s[at] = c;
            }
            break;
        case 1:
            if (at < len && len > 1)
                memmove(s + at, s + at + 1, len - at);
            break;
        default:
            if (at < len)
                s[at] = c;
            break;
        }
    }
}

static void check_against_brute_force(double threshold)
{
    enum { N = 400, Q = 400 };
    static char names[N][64];
    struct account accounts[N];
    static char ids[N][16];
    for (size_t i = 0; i < N; i++) {
        random_name(names[i], sizeof(names[i]));
        snprintf(ids[i], sizeof(ids[i]), "a%zu", i);
        accounts[i] = (struct account){.id = ids[i], .name = names[i], .country = "US"};
    }
    struct account_index *ix = index_of(accounts, N, threshold);
    for (size_t q = 0; q < Q; q++) {
        char lead[64];
        memcpy(lead, names[rnd(N)], sizeof(lead));
        mutate(lead, sizeof(lead));
        struct account_match m =
            match_q(ix, (struct account_query){.company = lead, .country = "US"});
        /* brute force: the best score over all accounts */
        char key[ACCOUNT_NAME_MAX + 1];
        memcpy(key, key_of(lead), sizeof(key));
        double best = -1;
        size_t best_at = 0;
        for (size_t i = 0; i < N; i++) {
            double s = account_name_similarity(key, key_of(names[i]));
            if (s > best + 1e-12) {
                best = s;
                best_at = i;
            }
        }
        if (best >= threshold - 1e-9) {
            if (!m.match.account_id)
                fail_msg("t=%.2f \"%s\": brute force finds a%zu (%.3f), matcher nothing", threshold,
                         key, best_at, best);
            if (m.match.score < best - 1e-12 || m.match.score > best + 1e-12)
                fail_msg("t=%.2f \"%s\": brute force %.4f, matcher %.4f", threshold, key, best,
                         m.match.score);
        } else if (m.match.account_id) {
            fail_msg("t=%.2f \"%s\": matcher found %s (%.3f) below the threshold", threshold, key,
                     m.match.account_id, m.match.score);
        }
    }
    account_index_free(ix);
}

static void test_segment_filter_is_complete(void **state)
{
    (void)state;
    check_against_brute_force(0.95);
    check_against_brute_force(0.90);
    check_against_brute_force(0.80);
    check_against_brute_force(0.70);
    check_against_brute_force(0.60); /* short segments */
    check_against_brute_force(0.50); /* names too short to cut: the scan */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_case_punctuation_space),
        cmocka_unit_test(test_normalize_every_legal_suffix),
        cmocka_unit_test(test_normalize_accents),
        cmocka_unit_test(test_normalize_bounds_and_bad_bytes),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_registrable_domain),
        cmocka_unit_test(test_domain_exact),
        cmocka_unit_test(test_subdomain_parent),
        cmocka_unit_test(test_co_uk_and_public_suffixes),
        cmocka_unit_test(test_freemail_never_matches_by_domain),
        cmocka_unit_test(test_name_exact),
        cmocka_unit_test(test_similar_name_needs_a_signal),
        cmocka_unit_test(test_near_misses_do_not_match),
        cmocka_unit_test(test_signal_requirement_and_threshold),
        cmocka_unit_test(test_ties_and_runner_up),
        cmocka_unit_test(test_empty_index),
        cmocka_unit_test(test_explanation_fields),
        cmocka_unit_test(test_match_lead),
        cmocka_unit_test(test_index_errors),
        cmocka_unit_test(test_segment_filter_is_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
