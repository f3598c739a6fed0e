/*
 * fuzz_account_name.c - libFuzzer target: the input as a company name through
 * account_name_normalize (the whole input, which may be too long, and its
 * first ACCOUNT_NAME_MAX bytes), then as the company, and as the email and
 * website domains, of a lead matched against two small fixed indexes (the
 * default threshold, which cuts names into segments, and 0.5, which scans).
 * Checks what the header promises: keys are valid UTF-8 no longer than the
 * name, scores lie in [0, 1], a match has a kind, and the explanation is a
 * terminated string.
 */
#include "core/account_match.h"
#include "util/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const acme_domains[] = {"acme.com", "acme.co.uk"};
static const char *const nw_domains[] = {"northwind.de"};
static const char *const bogus_domains[] = {"co.uk", "github.io"};

static const struct account accounts[] = {
    {.id = "acme", .name = "Acme, Inc.", .domains = acme_domains, .n_domains = 2, .country = "US"},
    {.id = "acme-2", .name = "ACME GmbH", .country = "DE", .owner = "rep-2"},
    {.id = "nw",
     .name = "Northwind Traders Ltd",
     .domains = nw_domains,
     .n_domains = 1,
     .country = "GB"},
    {.id = "sg", .name = "Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale", .country = "FR"},
    {.id = "cjk", .name = "\xE6\xA0\xAA\xE5\xBC\x8F\xE4\xBC\x9A\xE7\xA4\xBE"},
    {.id = "bogus", .name = "Bogus", .domains = bogus_domains, .n_domains = 2},
    {.id = "a", .name = "A"},
    {.id = "apple", .name = "Apple Bank for Savings", .country = "US"},
};

static struct account_index *index_at(double threshold)
{
    struct account_index_options o = {threshold};
    struct account_index *ix = NULL;
    if (account_index_new(accounts, sizeof(accounts) / sizeof(accounts[0]), &o, &ix, NULL))
        abort();
    return ix;
}

static void check_candidate(const struct account_candidate *c)
{
    if (!c->account_id)
        return;
    if (c->kind == ACCOUNT_MATCH_NONE || !(c->score >= 0 && c->score <= 1) || !c->account_key ||
        !c->lead_key != (c->via == ACCOUNT_VIA_COMPANY))
        abort();
}

static void check_match(const struct account_index *ix, const struct account_query *q)
{
    struct account_match m;
    account_match(ix, q, &m);
    check_candidate(&m.match);
    check_candidate(&m.runner_up);
    if (m.match.account_id && m.match.rejected != ACCOUNT_REJECT_NONE)
        abort();
    if (m.match.kind == ACCOUNT_MATCH_NAME_SIMILAR &&
        (m.match.signals == 0 || m.match.score < m.threshold - 1e-9))
        abort();
    if (!utf8_valid(m.company_key, strlen(m.company_key)))
        abort();
    char buf[256];
    account_match_describe(&m, buf, sizeof(buf));
    if (!memchr(buf, '\0', sizeof(buf)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct account_index *segmented, *scanned;
    if (!segmented) {
        segmented = index_at(ACCOUNT_NAME_THRESHOLD_DEFAULT);
        scanned = index_at(0.5);
    }

    char key[ACCOUNT_NAME_MAX + 1];
    size_t len;
    bt_err rc = account_name_normalize((const char *)data, size, key, &len, NULL);
    if ((size > ACCOUNT_NAME_MAX) != (rc == BT_ETOOBIG))
        abort();
    size_t head = size > ACCOUNT_NAME_MAX ? ACCOUNT_NAME_MAX : size;
    if (account_name_normalize((const char *)data, head, key, &len, NULL) != BT_OK)
        abort();
    if (len > head || strlen(key) != len || !utf8_valid(key, len))
        abort();
    double s = account_name_similarity(key, "northwind traders");
    if (!(s >= 0 && s <= 1))
        abort();

    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *const countries[] = {NULL, "US", "gb", "X"};
    for (int i = 0; i < 4; i++) {
        struct account_query q = {.company = text, .country = countries[i]};
        if (i == 1)
            q.website_domain = "acme.de";
        check_match(segmented, &q);
        check_match(scanned, &q);
    }
    struct account_query q = {.email_domain = text, .website_domain = text, .company = "Acme"};
    check_match(segmented, &q);
    q.email_free = true;
    check_match(scanned, &q);
    free(text);
    return 0;
}
