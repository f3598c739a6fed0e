/*
 * account_match.h - which account does a lead belong to?
 *
 * A lead is matched against an immutable index built once from the list of
 * accounts (when the accounts or the configuration change, build a new index
 * and swap it). Matching is pure, allocation-free and thread-safe: any number
 * of threads may match against one index at once.
 *
 * How a lead matches, in order; the first stage that finds an account wins:
 *
 * 1. Domain. The lead's email domain (never when `email_free`: a gmail.com
 *    address says nothing about the employer) and its website domain are
 *    looked up among every account's domains and website domain.
 *    - "domain": the lead's domain equals an account domain.
 *    - "parent_domain": else the lead's domain is a subdomain of an account
 *      domain. The parents tried run from the nearest ("sales.eu.acme.com" ->
 *      "eu.acme.com") up to the registrable domain ("acme.com") and stop
 *      there: a public suffix ("co.uk") is never a parent, so "acme.co.uk"
 *      can never match an account that claims "co.uk". The nearest parent
 *      that is an account domain is the match.
 *    An exact domain beats a parent, and the email beats the website (the
 *    address is where the person works); the score of a domain match is 1.
 *
 * 2. Company name, only when no domain matched. Names are normalised (see
 *    account_name_normalize()) and compared:
 *    - "name_exact": equal normalised names; score 1. No supporting signal
 *      is needed.
 *    - "name_similar": similarity (below) at or above the index's threshold
 *      (default 0.90) AND at least one supporting signal:
 *        ACCOUNT_SIGNAL_COUNTRY        the lead's country equals the account's;
 *        ACCOUNT_SIGNAL_DOMAIN_FAMILY  the lead's (non-free) email or website
 *                                      domain and an account domain share the
 *                                      label left of the public suffix
 *                                      ("acme.de" and "acme.com": "acme").
 *      A similar name without a signal is not a match; it is reported as the
 *      runner-up with the reason "no_signal".
 *    An exact name beats a similar one.
 *
 * Similarity is the normalised Levenshtein similarity on Unicode code points:
 * 1 - distance / max(length_a, length_b), so 1 is equal and 0 shares nothing.
 * It is strict on short names, on purpose: "acme" vs "acne" is 0.75, "apple"
 * vs "apple bank" 0.50, and at 0.90 a single edit needs names of ten or more
 * characters.
 *
 * Ranking among candidates: stage and kind (domain by email, domain by
 * website, parent domain by email, parent by website, exact name, similar
 * name), then score, then the number of supporting signals, then the
 * account's position in the list the index was built from (earlier wins).
 * When the winner and the runner-up are equal up to the position, the match
 * is `ambiguous` (two accounts claim the same domain, or two accounts have the
 * same name and the same signals): the first account still wins,
 * deterministically, and the flag lets the caller say so.
 *
 * Public suffixes. A registrable domain is one label plus a public suffix. The
 * module does not ship the full Public Suffix List (thousands of entries that
 * change); it finds the suffix with three small rules, first that applies:
 * - a built-in list of hosting platforms whose customers get subdomains
 *   (github.io, herokuapp.com, myshopify.com, azurewebsites.net, netlify.app,
 *   vercel.app, pages.dev, blogspot.com, ...; about thirty), so that
 *   "acme.github.io" is not taken for GitHub, plus a few country second
 *   levels the next rule misses (me.uk, asn.au, id.au, gv.at, ...);
 * - a generic second level under a two-letter country code: com, co, net,
 *   org, ac, edu, gov, govt, gob, gouv, mil, nom, or, ne, go, ltd, plc, sch
 *   (co.uk, com.au, co.jp, ne.jp, com.br, co.za, org.uk, ...);
 * - else the last label ("acme.com" -> "com").
 * A suffix the rules miss errs towards no parent match, never towards a
 * wrong one, unless an account claims that suffix as its own domain.
 *
 * Lookup cost. Domains and normalised names are in hash tables (one probe
 * each, plus one per parent label). Similar names are found without comparing
 * against every account, by partition (the pigeonhole filter of Pass-Join,
 * Li et al., VLDB 2011): every distinct name of length L is cut into K + 2
 * segments, K being the most edits the threshold allows between it and any
 * name it could match, and each segment is indexed by its content, L and its
 * place. Within K edits at least two segments survive intact, near their
 * place, in the lead's name; so the matcher probes each segment of each
 * admissible length at the few admissible shifts, skips the segment that
 * brings the most names (one intact segment remains among the others),
 * screens what the rest bring with a 64-bit bag-of-characters lower bound,
 * and verifies the survivors with a banded Levenshtein that gives up past
 * K. The filter never loses a match (a unit test checks it against brute
 * force). It is sharp at the default threshold; as the threshold falls,
 * segments get short and lists long, and at about 0.5 and below, names can
 * no longer be cut and are compared one by one within the length window.
 * With 100,000 accounts: built in about 0.2 s; a domain hit in about 1 us,
 * a name lookup in about 5-10 us on one core (bench/account_match.c).
 *
 * Lifetimes: every string a match result points to belongs to the index
 * (account ids, owners, matched keys) or to the query (the lead's domain);
 * copy what must outlive either.
 */
#ifndef BT_CORE_ACCOUNT_MATCH_H
#define BT_CORE_ACCOUNT_MATCH_H

#include "core/lead.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_NAME_MAX               256     /* bytes of a company name, before normalisation */
#define ACCOUNT_ID_MAX                 128     /* bytes of an account id */
#define ACCOUNT_OWNER_MAX              128     /* bytes of an owner rep id */
#define ACCOUNT_DOMAINS_MAX            64      /* domains of one account, website not counted */
#define ACCOUNT_INDEX_MAX              4000000 /* accounts in one index */
#define ACCOUNT_NAME_THRESHOLD_DEFAULT 0.90

/* An account as the caller has it. Nothing is kept: the index copies. */
struct account {
    const char *id;             /* required, unique in the list */
    const char *name;           /* the company name; NULL or "" for none */
    const char *const *domains; /* "acme.com", "www.acme.de", "https://acme.io/" */
    size_t n_domains;           /* at most ACCOUNT_DOMAINS_MAX */
    const char *website;        /* a URL or a domain; NULL for none */
    const char *country;        /* alpha-2, alpha-3 or an English name; NULL */
    const char *owner;          /* the owning rep's id; NULL for none */
};

struct account_index_options {
    /* Least similarity for a "name_similar" match, in (0, 1]. 1 allows exact
     * names only. */
    double name_threshold;
};

#define ACCOUNT_INDEX_OPTIONS_INIT                                                                 \
    {                                                                                              \
        ACCOUNT_NAME_THRESHOLD_DEFAULT                                                             \
    }

struct account_index;

/*
 * Builds the index of `accounts[0..n)` (n may be 0: nothing matches then).
 * `options` may be NULL for the defaults. Domains and websites are
 * normalised like a lead's website (scheme, path, port and a leading "www."
 * dropped, lower case) and must be valid domain names; an account's own
 * duplicate domains count once; the same domain may belong to several
 * accounts (the ranking above decides, and flags a tie). The country
 * is normalised with normalize_country().
 * Errors: BT_EINVAL for a missing or duplicate id, an invalid domain or
 * website, an unknown country or a threshold outside (0, 1] (the message
 * names the account); BT_ETOOBIG past ACCOUNT_INDEX_MAX accounts,
 * ACCOUNT_DOMAINS_MAX domains, or ACCOUNT_*_MAX bytes. On error *out is NULL.
 * On success the caller frees *out with account_index_free().
 */
bt_err account_index_new(const struct account *accounts, size_t n,
                         const struct account_index_options *options, struct account_index **out,
                         struct bt_error *err) BT_MUST_USE;

/* Frees the index; NULL does nothing. Results pointing into it go stale. */
void account_index_free(struct account_index *index);

/* Number of accounts in the index. */
size_t account_index_count(const struct account_index *index);

/* Bytes of heap the index holds (for capacity planning and benchmarks). */
size_t account_index_memory(const struct account_index *index);

/* The threshold in force. */
double account_index_threshold(const struct account_index *index);

enum account_match_kind {
    ACCOUNT_MATCH_NONE,
    ACCOUNT_MATCH_DOMAIN,
    ACCOUNT_MATCH_PARENT_DOMAIN,
    ACCOUNT_MATCH_NAME_EXACT,
    ACCOUNT_MATCH_NAME_SIMILAR,
};

/* Which of the lead's attributes the candidate was found by. */
enum account_match_via {
    ACCOUNT_VIA_NONE,
    ACCOUNT_VIA_EMAIL_DOMAIN,
    ACCOUNT_VIA_WEBSITE_DOMAIN,
    ACCOUNT_VIA_COMPANY,
};

/* Supporting signals, a bit set. */
#define ACCOUNT_SIGNAL_COUNTRY       1u
#define ACCOUNT_SIGNAL_DOMAIN_FAMILY 2u

/* Why the runner-up is not the match. */
enum account_reject {
    ACCOUNT_REJECT_NONE,      /* (the match itself, or no candidate) */
    ACCOUNT_REJECT_OUTRANKED, /* a valid candidate, ranked below the match */
    ACCOUNT_REJECT_TIE,       /* equal to the match but for list position */
    ACCOUNT_REJECT_NO_SIGNAL, /* a similar name without a supporting signal */
};

struct account_candidate {
    const char *account_id; /* NULL when there is no candidate */
    const char *owner;      /* the account's owner; NULL when it has none */
    size_t position;        /* the account's index in the list given to the index */
    enum account_match_kind kind;
    enum account_match_via via;
    /* The lead's domain that matched (a pointer into the query); NULL for
     * name candidates, whose lead side is the match's company_key: so the
     * struct stays valid when copied. */
    const char *lead_key;
    const char *account_key; /* the account domain or normalised name that matched */
    double score;            /* 1 for domains and exact names */
    unsigned signals;        /* ACCOUNT_SIGNAL_* */
    enum account_reject rejected;
};

struct account_match {
    /* The account the lead belongs to; account_id NULL when none. */
    struct account_candidate match;
    /* The next best other account from the stage that decided (domain or
     * name); with no match, the closest candidate that was turned down. Name
     * candidates below the threshold are never computed, so never shown. */
    struct account_candidate runner_up;
    bool ambiguous; /* the runner-up ties with the match (see above) */
    double threshold;
    /* The lead's normalised company name ("" for none). */
    char company_key[ACCOUNT_NAME_MAX + 1];
};

/* What the matcher reads of a lead. Any member may be NULL. */
struct account_query {
    const char *email_domain;
    bool email_free;
    const char *website_domain;
    const char *company; /* raw; normalised by the matcher */
    const char *country; /* alpha-2 */
};

/* The query of a normalised lead: LEAD_EMAIL_DOMAIN, email_free,
 * LEAD_WEBSITE_DOMAIN, LEAD_COMPANY, LEAD_COUNTRY. */
struct account_query account_query_of_lead(const struct lead *lead);

/*
 * Matches `query` against `index` and fills `out` completely. Never fails: a
 * query with nothing to go on, or a company name longer than
 * ACCOUNT_NAME_MAX bytes (which is then not used), simply does not match.
 */
void account_match(const struct account_index *index, const struct account_query *query,
                   struct account_match *out);

/* account_match() on account_query_of_lead(lead). */
void account_match_lead(const struct account_index *index, const struct lead *lead,
                        struct account_match *out);

/*
 * Writes a one-line explanation of `m` into buf (always terminated when size
 * > 0), e.g. "account acme-1 by parent_domain: eu.acme.com (email_domain) is
 * under acme.com; runner-up acme-old: tie". Returns what snprintf returns.
 */
int account_match_describe(const struct account_match *m, char *buf, size_t size);

/* Stable names for JSON and decision records: "none", "domain",
 * "parent_domain", "name_exact", "name_similar"; "none", "email_domain",
 * "website_domain", "company"; "none", "outranked", "tie", "no_signal". */
const char *account_match_kind_name(enum account_match_kind kind);
const char *account_match_via_name(enum account_match_via via);
const char *account_reject_name(enum account_reject reason);
/* "none", "country", "domain_family" or "country+domain_family". */
const char *account_signals_name(unsigned signals);

/*
 * The matching key of a company name: `name[0..len)`, any bytes, at most
 * ACCOUNT_NAME_MAX (longer: BT_ETOOBIG). Writes a NUL-terminated UTF-8 key
 * of at most `len` bytes to `out` and its length to *out_len (0 when nothing
 * is left: "", "Inc.", "!!!"). The steps:
 * - Case-fold ASCII, Latin-1 and Latin Extended-A to ASCII without accents
 *   ("Ä" -> "a", "ß" -> "ss", "Æ" -> "ae", "Ł" -> "l", "Œ" -> "oe"), drop
 *   combining accents (so decomposed text folds the same), fold fullwidth
 *   ASCII, lower-case basic Greek and Cyrillic; letters of other scripts are
 *   kept as they are. Malformed UTF-8 bytes count as separators.
 * - Apostrophes vanish ("McDonald's" -> "mcdonalds"). A "." or "/" between
 *   two single characters joins them, so acronyms close up ("S.p.A." ->
 *   "spa", "L.L.C." -> "llc", "A/S" -> "as", "J.P. Morgan" -> "jp morgan").
 *   Every other punctuation, symbol or space separates words; runs of
 *   separators collapse to one space, none at the ends.
 * - The word "and" is dropped ("&" is punctuation), so "Procter & Gamble" and
 *   "Procter and Gamble" agree.
 * - A leading "the" is dropped, and legal-form suffixes are dropped from the
 *   end, repeatedly ("GmbH & Co. KG" goes whole), but never the last word
 *   left. The suffixes, after the steps above: inc, incorporated, corp,
 *   corporation, co, company, llc, llp, lp, ltd, limited, plc, pty ltd,
 *   pty limited, pte ltd, pvt ltd, private limited, gmbh, mbh, ag, kg, kgaa,
 *   se, sa, sa de cv, sas, sarl, sl, spa, srl, sro, bv, nv, oy, oyj, ab, as,
 *   asa, aps, kk, kft, sp zoo, sp z oo, ltda, sdn bhd, bhd.
 */
bt_err account_name_normalize(const char *name, size_t len, char out[ACCOUNT_NAME_MAX + 1],
                              size_t *out_len, struct bt_error *err) BT_MUST_USE;

/*
 * The registrable part of a lower-case domain, by the public-suffix rules
 * above: a pointer into `domain` ("eu.acme.co.uk" -> "acme.co.uk",
 * "acme.com" -> "acme.com"), or NULL when the domain is itself a public
 * suffix ("co.uk", "com", "github.io") or NULL.
 */
const char *account_registrable_domain(const char *domain);

/* The similarity of two normalised keys (above): 1 - Levenshtein distance /
 * the longer length, in code points; 1 for two empty keys. */
double account_name_similarity(const char *a, const char *b);

#endif
