/*
 * normalize.h - turning what a form or an API client sent into clean data.
 *
 * Pure functions: no I/O, no clock, no globals beyond constant tables. Each
 * returns a bt_err and explains failures in a `struct bt_error` that names the
 * field. Outputs are allocated in the caller's arena.
 *
 * Rules (docs/api.md repeats them for users):
 * - Every text attribute is trimmed of leading and trailing whitespace
 *   (ASCII space, tab, CR, LF and U+00A0); an attribute that is empty after
 *   trimming counts as absent. Longer than its lead_attrs[].max_len: BT_EINVAL.
 * - email: an optional "mailto:" is dropped, then the address must have one
 *   "@", a local part of 1-64 characters from the RFC 5322 atom set (letters,
 *   digits and !#$%&'*+/=?^_`{|}~.-, no leading, trailing or double dot) and a
 *   domain of at least two dot-separated labels (letters, digits, hyphens, no
 *   leading/trailing hyphen, each 1-63 characters, 253 in all, a final label
 *   that is not all digits); the whole address is at most 254 characters. It
 *   is lower-cased. The domain goes to LEAD_EMAIL_DOMAIN, and `email_free`
 *   tells whether it is a consumer mail domain.
 * - website: scheme, user info, port, path, query and fragment are dropped,
 *   the host is lower-cased and a leading "www." removed; the result goes to
 *   LEAD_WEBSITE_DOMAIN (the website itself is kept as sent, trimmed). A
 *   website whose host is not a valid domain name is BT_EINVAL.
 * - country: ISO 3166-1 alpha-2 or alpha-3 codes and English names (and the
 *   common aliases: "USA", "UK", "Great Britain", "Deutschland", ...) in any
 *   case become the alpha-2 code. An unrecognised country is not an error:
 *   LEAD_COUNTRY is left absent, LEAD_COUNTRY_INPUT keeps what was sent, and
 *   a warning is added.
 * - employees: "1200", "1,200", "1.200", "1 200", "1.5k", "2K", "1m",
 *   ranges "1k-5k", "51-200", "51 to 200", "51–200" (en dash), open ranges
 *   "5000+", "10k+", ">1000", and words around them ("about 300 employees",
 *   "~40") become a number: a closed range gives its midpoint (rounded down),
 *   an open one its lower bound. The band is the one containing the number:
 *   "1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000",
 *   "5001-10000", "10001+". Unparseable text is not an error: employees stays
 *   -1 with a warning. Zero and negative numbers are unparseable. A JSON
 *   number that was not whole arrives rounded, with what was sent in
 *   lead_input.employees_sent; it gets the warning "1.5 is not a whole
 *   number of employees; rounded to 2".
 * - phone: must contain 5 to 20 digits and only digits, spaces, and
 *   + ( ) - . / characters (and an extension "x123" / "ext 123" at the end);
 *   otherwise BT_EINVAL. Kept as sent, trimmed.
 * - A lead needs an email or a phone: neither is BT_EINVAL on field "email".
 */
#ifndef BT_CORE_NORMALIZE_H
#define BT_CORE_NORMALIZE_H

#include "core/lead.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdint.h>

/* The consumer mail domains, after config overrides. Immutable once built. */
struct freemail_set;

/*
 * Builds the set from the built-in list (over a hundred consumer domains:
 * gmail.com, yahoo.*, outlook.com, hotmail.*, icloud.com, gmx.*, web.de,
 * mail.ru, yandex.*, qq.com, proton.me, ...), plus `add`, minus `remove`
 * (arrays of `n_add`/`n_remove` lower-case domains; either may be NULL).
 * Caller frees with freemail_set_free().
 */
struct freemail_set *freemail_set_new(const char *const *add, size_t n_add,
                                      const char *const *remove, size_t n_remove);
/* The same kind of set for disposable (throwaway) mail domains: the
 * built-in list (mailinator.com, guerrillamail.*, yopmail.*, 10minutemail.*,
 * temp-mail.org, ...) plus `add`, minus `remove`. Free it with
 * freemail_set_free(); query it with freemail_contains(). */
struct freemail_set *disposable_set_new(const char *const *add, size_t n_add,
                                        const char *const *remove, size_t n_remove);
void freemail_set_free(struct freemail_set *set);
bool freemail_contains(const struct freemail_set *set, const char *domain);
/* Number of domains in the set. */
size_t freemail_count(const struct freemail_set *set);

#define NORMALIZE_MAX_WARNINGS 8

struct normalize_warning {
    const char *field; /* static string: the attribute name */
    char message[160];
};

struct normalize_report {
    size_t count;
    struct normalize_warning warnings[NORMALIZE_MAX_WARNINGS];
};

/*
 * Normalises `in` into `out` (which it fills completely; id, stage, owner and
 * timestamps are left 0/NULL). Strings are copied into `arena`. Warnings go to
 * `report` (may be NULL). On error `out` is unspecified.
 */
bt_err normalize_lead(const struct lead_input *in, const struct freemail_set *freemail,
                      struct arena *arena, struct lead *out, struct normalize_report *report,
                      struct bt_error *err) BT_MUST_USE;

/* The pieces, for tests and for other callers (accounts, activities). */

/* Returns a trimmed copy in `arena`, or NULL when the result is empty. */
const char *normalize_trim(struct arena *arena, const char *s);

/* Validates and lower-cases an address (already trimmed); sets *domain_out to
 * the part after "@" (inside the returned string). */
bt_err normalize_email(struct arena *arena, const char *email, const char **email_out,
                       const char **domain_out, struct bt_error *err) BT_MUST_USE;

/* "https://www.Example.com:443/x?y" -> "example.com". */
bt_err normalize_website_domain(struct arena *arena, const char *website, const char **domain_out,
                                struct bt_error *err) BT_MUST_USE;

/* Returns the alpha-2 code (a static string) or NULL when unrecognised. */
const char *normalize_country(const char *s);

/*
 * The sales region of an alpha-2 country code: "NA" (United States, Canada
 * and their North Atlantic neighbours), "LATAM" (Mexico, Central and South
 * America, the Caribbean), "APAC" (Asia east of Iran, Central Asia,
 * Oceania) or "EMEA" (Europe, the Middle East, Africa and everything else).
 * NULL for NULL.
 */
const char *normalize_region(const char *alpha2);

/* Returns true and sets *count when `s` parses; band is a static string. */
bool normalize_employees(const char *s, int64_t *count, const char **band);

/* The band name for a positive count. */
const char *normalize_employees_band(int64_t count);

bt_err normalize_phone(const char *phone, struct bt_error *err) BT_MUST_USE;

#endif
