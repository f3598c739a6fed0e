/*
 * test_normalize.c - the rules of normalize.h, one group of tests per rule.
 *
 * Table-driven where a rule has many cases; every case names its input in
 * the failure message so that a broken rule is found without a debugger.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/lead.h"
#include "core/normalize.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *eq_or_null(const char *a, const char *b)
{
    if (!a && !b)
        return NULL;
    if (!a || !b || strcmp(a, b) != 0)
        return "differ";
    return NULL;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80           ? 0
                    : (*p >> 5) == 0x6  ? 1
                    : (*p >> 4) == 0xE  ? 2
                    : (*p >> 3) == 0x1E ? 3
                                        : -1;
        if (extra < 0)
            return false;
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return false;
        }
    }
    return true;
}

/* A lead input with an email so that the email-or-phone rule is met. */
static struct lead_input input_with_email(void)
{
    struct lead_input in;
    memset(&in, 0, sizeof(in));
    in.attr[LEAD_EMAIL] = "ada@example.com";
    return in;
}

/* ---- lead_attrs ---------------------------------------------------------- */

static void test_lead_attrs_table(void **state)
{
    static const char *const names[LEAD_ATTR_COUNT] = {
        "external_id",   "email",          "first_name", "last_name",    "company",
        "title",         "phone",          "website",    "country",      "state",
        "city",          "industry",       "source",     "email_domain", "website_domain",
        "country_input", "employees_band", "stage",      "owner",
    };
    for (int i = 0; i < LEAD_ATTR_COUNT; i++) {
        assert_string_equal(lead_attrs[i].name, names[i]);
        assert_int_equal(lead_attrs[i].input, i < LEAD_INPUT_ATTR_COUNT);
        assert_true(lead_attrs[i].max_len > 0);
        assert_int_equal(lead_attr_find(names[i]), i);
    }
    assert_int_equal(lead_attrs[LEAD_EMAIL].max_len, 254);
    assert_int_equal(lead_attrs[LEAD_WEBSITE].max_len, 2048);
    assert_int_equal(lead_attrs[LEAD_PHONE].max_len, 64);
    assert_int_equal(lead_attr_find("Email"), -1);
    assert_int_equal(lead_attr_find("employees"), -1);
    assert_int_equal(lead_attr_find(""), -1);
    assert_int_equal(lead_attr_find(NULL), -1);
}

/* ---- trimming ------------------------------------------------------------ */

static void test_trim(void **state)
{
    struct arena a = ARENA_INIT;
    assert_string_equal(normalize_trim(&a, "  Ada  "), "Ada");
    assert_string_equal(normalize_trim(&a, "\t\r\nAda\n\r\t"), "Ada");
    assert_string_equal(normalize_trim(&a, "\xc2\xa0 Ada \xc2\xa0"), "Ada");
    assert_string_equal(normalize_trim(&a, "\xc2\xa0\xc2\xa0"
                                           "Ada"),
                        "Ada");
    assert_string_equal(normalize_trim(&a, "Ada\xc2\xa0\xc2\xa0"), "Ada");
    assert_string_equal(normalize_trim(&a, "Ada  Lovelace"), "Ada  Lovelace");
    assert_string_equal(normalize_trim(&a, "a\xc2\xa0"
                                           "b"),
                        "a\xc2\xa0"
                        "b");
    /* "à" is C3 A0: its second byte is not a no-break space. */
    assert_string_equal(normalize_trim(&a, " voil\xc3\xa0 "), "voil\xc3\xa0");
    assert_string_equal(normalize_trim(&a, "x"), "x");
    assert_null(normalize_trim(&a, ""));
    assert_null(normalize_trim(&a, "   \t\r\n"));
    assert_null(normalize_trim(&a, "\xc2\xa0"));
    assert_null(normalize_trim(&a, NULL));
    arena_release(&a);
}

static void test_lead_trims_every_attribute(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    in.attr[LEAD_EXTERNAL_ID] = " crm-42 ";
    in.attr[LEAD_EMAIL] = "\xc2\xa0"
                          "ada@example.com\t";
    in.attr[LEAD_FIRST_NAME] = "  Ada\xc2\xa0";
    in.attr[LEAD_LAST_NAME] = "   ";
    in.attr[LEAD_COMPANY] = "";
    in.attr[LEAD_TITLE] = "\xc2\xa0\xc2\xa0";
    in.attr[LEAD_PHONE] = "  +1 555 0100 ";
    in.attr[LEAD_WEBSITE] = " https://Example.com/x ";
    in.attr[LEAD_STATE] = " CA ";
    in.attr[LEAD_CITY] = "\nSan Francisco\n";
    in.attr[LEAD_INDUSTRY] = " Software ";
    in.attr[LEAD_SOURCE] = " webinar ";
    struct lead l;
    struct normalize_report r;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_EXTERNAL_ID], "crm-42");
    assert_string_equal(l.attr[LEAD_EMAIL], "ada@example.com");
    assert_string_equal(l.attr[LEAD_FIRST_NAME], "Ada");
    assert_null(l.attr[LEAD_LAST_NAME]);
    assert_null(l.attr[LEAD_COMPANY]);
    assert_null(l.attr[LEAD_TITLE]);
    assert_string_equal(l.attr[LEAD_PHONE], "+1 555 0100");
    assert_string_equal(l.attr[LEAD_WEBSITE], "https://Example.com/x");
    assert_string_equal(l.attr[LEAD_STATE], "CA");
    assert_string_equal(l.attr[LEAD_CITY], "San Francisco");
    assert_string_equal(l.attr[LEAD_INDUSTRY], "Software");
    assert_string_equal(l.attr[LEAD_SOURCE], "webinar");
    assert_null(l.attr[LEAD_COUNTRY]);
    assert_null(l.attr[LEAD_COUNTRY_INPUT]);
    assert_int_equal(r.count, 0);
    arena_release(&a);
}

static void test_lead_leaves_lifecycle_empty(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    struct lead l;
    memset(&l, 0xAB, sizeof(l));
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_int_equal(l.id, 0);
    assert_null(l.attr[LEAD_STAGE]);
    assert_null(l.attr[LEAD_OWNER]);
    assert_int_equal(l.created_at, 0);
    assert_int_equal(l.updated_at, 0);
    assert_int_equal(l.employees, -1);
    assert_null(l.attr[LEAD_EMPLOYEES_BAND]);
    assert_null(l.attr[LEAD_WEBSITE_DOMAIN]);
    assert_false(l.email_free);
    assert_string_equal(l.fields_json, "{}");
    arena_release(&a);
}

static void test_lead_fields_json(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    struct lead l;
    in.fields_json = "{\"plan\":\"pro\",\"seats\":12}";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.fields_json, "{\"plan\":\"pro\",\"seats\":12}");
    assert_ptr_not_equal(l.fields_json, in.fields_json);
    in.fields_json = "";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.fields_json, "{}");
    arena_release(&a);
}

/* ---- maximum lengths ----------------------------------------------------- */

static void test_lead_max_len_each_attribute(void **state)
{
    struct arena a = ARENA_INIT;
    for (int i = 0; i < LEAD_INPUT_ATTR_COUNT; i++) {
        struct lead_input in;
        memset(&in, 0, sizeof(in));
        in.attr[LEAD_PHONE] = "+1 555 0100";
        char *too_long = repeat('a', lead_attrs[i].max_len + 1);
        in.attr[i] = too_long;
        struct lead l;
        struct bt_error e = BT_ERROR_INIT;
        bt_err rc = normalize_lead(&in, NULL, &a, &l, NULL, &e);
        if (rc != BT_EINVAL || strcmp(e.field, lead_attrs[i].name) != 0)
            fail_msg("%s: rc %d field \"%s\"", lead_attrs[i].name, rc, e.field);
        char limit[32];
        snprintf(limit, sizeof(limit), "%zu", lead_attrs[i].max_len);
        if (!strstr(e.message, limit))
            fail_msg("%s: message \"%s\" does not state the limit", lead_attrs[i].name, e.message);
        free(too_long);
    }
    arena_release(&a);
}

static void test_lead_max_len_counts_after_trimming(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    char *exact = repeat('c', 256);
    char *padded = malloc(256 + 8);
    assert_non_null(padded);
    snprintf(padded, 256 + 8, "  %s \xc2\xa0", exact);
    in.attr[LEAD_COMPANY] = padded;
    in.attr[LEAD_TITLE] = exact;
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_COMPANY], exact);
    assert_string_equal(l.attr[LEAD_TITLE], exact);
    free(padded);
    free(exact);
    arena_release(&a);
}

/* ---- email --------------------------------------------------------------- */

/* local part of `local_len` 'x's, "@", then a domain of exactly `domain_len`
 * characters (labels of 'd' up to 63 long, ending in ".com"); domain_len >= 6. */
static char *make_address(size_t local_len, size_t domain_len)
{
    char *s = malloc(local_len + domain_len + 2);
    assert_non_null(s);
    memset(s, 'x', local_len);
    size_t p = local_len;
    s[p++] = '@';
    size_t rest = domain_len - 3; /* labels with their dots, then "com" */
    while (rest > 0) {
        size_t chunk = rest > 64 ? 64 : rest;
        if (rest - chunk == 1)
            chunk--;
        memset(s + p, 'd', chunk - 1);
        p += chunk - 1;
        s[p++] = '.';
        rest -= chunk;
    }
    memcpy(s + p, "com", 4);
    assert_int_equal(strlen(s), local_len + 1 + domain_len);
    return s;
}

static void check_email_ok(const char *in, const char *want, const char *want_domain)
{
    struct arena a = ARENA_INIT;
    struct bt_error e = BT_ERROR_INIT;
    const char *email = NULL, *domain = NULL;
    bt_err rc = normalize_email(&a, in, &email, &domain, &e);
    if (rc != BT_OK)
        fail_msg("\"%s\": rejected: %s", in, e.message);
    if (strcmp(email, want) != 0 || strcmp(domain, want_domain) != 0)
        fail_msg("\"%s\": got \"%s\" / \"%s\"", in, email, domain);
    arena_release(&a);
}

static void check_email_bad(const char *in)
{
    struct arena a = ARENA_INIT;
    struct bt_error e = BT_ERROR_INIT;
    const char *email = NULL, *domain = NULL;
    bt_err rc = normalize_email(&a, in, &email, &domain, &e);
    if (rc != BT_EINVAL)
        fail_msg("\"%s\": accepted as \"%s\"", in, email ? email : "(null)");
    assert_string_equal(e.field, "email");
    assert_int_equal(e.code, BT_EINVAL);
    assert_true(e.message[0] != '\0');
    arena_release(&a);
}

static void test_email_valid(void **state)
{
    check_email_ok("ada@example.com", "ada@example.com", "example.com");
    check_email_ok("Ada.Lovelace@Example.COM", "ada.lovelace@example.com", "example.com");
    check_email_ok("ADA@EXAMPLE.COM", "ada@example.com", "example.com");
    check_email_ok("mailto:bob@example.org", "bob@example.org", "example.org");
    check_email_ok("MailTo:Bob@Example.org", "bob@example.org", "example.org");
    check_email_ok("o'brien+tag@mail.example.co.uk", "o'brien+tag@mail.example.co.uk",
                   "mail.example.co.uk");
    check_email_ok("a!#$%&'*+/=?^_`{|}~-b@x.io", "a!#$%&'*+/=?^_`{|}~-b@x.io", "x.io");
    check_email_ok("first.middle.last@sub-domain.example.com",
                   "first.middle.last@sub-domain.example.com", "sub-domain.example.com");
    check_email_ok("x@123.example.com", "x@123.example.com", "123.example.com");
    check_email_ok("x@example.c0m", "x@example.c0m", "example.c0m");
    check_email_ok("x@xn--bcher-kva.de", "x@xn--bcher-kva.de", "xn--bcher-kva.de");
    check_email_ok("1@2.ab", "1@2.ab", "2.ab");

    char *longest = make_address(64, 189); /* 254 in all */
    check_email_ok(longest, longest, strchr(longest, '@') + 1);
    free(longest);
    char *label63 = make_address(1, 63 + 4);
    check_email_ok(label63, label63, strchr(label63, '@') + 1);
    free(label63);
}

static void test_email_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "plain",
        "mailto:",
        "a@@example.com",
        "a@b@example.com",
        "@example.com",
        "ada@",
        "a..b@example.com",
        ".ada@example.com",
        "ada.@example.com",
        "ada@example",
        "ada@example.123",
        "ada@1.2.3.4",
        "ada@example..com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@-example.com",
        "ada@example-.com",
        "ada@exam_ple.com",
        "ada@exa mple.com",
        "ada lovelace@example.com",
        "ada(x)@example.com",
        "\"ada\"@example.com",
        "ada,b@example.com",
        "ada@ex\xc3\xa4mple.com",
        "ad\xc3\xa4@example.com",
        "<ada@example.com>",
        "Ada <ada@example.com>",
        "ada@[192.168.0.1]",
        "mailto:mailto:ada@example.com",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        check_email_bad(bad[i]);

    char *local65 = make_address(65, 11);
    check_email_bad(local65);
    free(local65);
    char *too_long = make_address(64, 190); /* 255 in all */
    check_email_bad(too_long);
    free(too_long);
    char label64[80];
    snprintf(label64, sizeof(label64), "a@%.64s.com",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    assert_int_equal(strlen(label64), 2 + 64 + 4);
    check_email_bad(label64);
    label64[strlen(label64) - 5] = '\0'; /* 63 characters: fine */
    strcat(label64, ".com");
    check_email_ok(label64, label64, label64 + 2);
}

static void test_lead_email_lowercased_with_domain(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    in.attr[LEAD_EMAIL] = "  mailto:Grace.Hopper@Navy.MIL  ";
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_EMAIL], "grace.hopper@navy.mil");
    assert_string_equal(l.attr[LEAD_EMAIL_DOMAIN], "navy.mil");
    assert_false(l.email_free);

    struct bt_error e = BT_ERROR_INIT;
    in.attr[LEAD_EMAIL] = "grace..hopper@navy.mil";
    in.attr[LEAD_PHONE] = "+1 555 0100";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e), BT_EINVAL);
    assert_string_equal(e.field, "email");
    arena_release(&a);
}

/* ---- free-mail domains --------------------------------------------------- */

static void test_freemail_builtin(void **state)
{
    struct freemail_set *set = freemail_set_new(NULL, 0, NULL, 0);
    assert_true(freemail_count(set) >= 120);
    static const char *const consumer[] = {
        "gmail.com",     "googlemail.com", "yahoo.com",     "yahoo.co.uk",    "yahoo.co.jp",
        "outlook.com",   "hotmail.com",    "hotmail.co.uk", "hotmail.fr",     "hotmail.de",
        "hotmail.it",    "hotmail.es",     "live.com",      "msn.com",        "icloud.com",
        "me.com",        "mac.com",        "aol.com",       "gmx.de",         "gmx.net",
        "gmx.com",       "web.de",         "t-online.de",   "freenet.de",     "mail.ru",
        "yandex.ru",     "yandex.com",     "qq.com",        "163.com",        "126.com",
        "proton.me",     "protonmail.com", "zoho.com",      "fastmail.com",   "tutanota.com",
        "orange.fr",     "wanadoo.fr",     "free.fr",       "laposte.net",    "libero.it",
        "virgilio.it",   "btinternet.com", "comcast.net",   "verizon.net",    "att.net",
        "sbcglobal.net", "naver.com",      "daum.net",      "rediffmail.com", "seznam.cz",
        "wp.pl",         "onet.pl",        "o2.pl",         "interia.pl",     "bol.com.br",
        "uol.com.br",    "terra.com.br",
    };
    for (size_t i = 0; i < ARRAY_LEN(consumer); i++) {
        if (!freemail_contains(set, consumer[i]))
            fail_msg("%s is not in the built-in list", consumer[i]);
    }
    assert_true(freemail_contains(set, "GMail.COM"));
    assert_false(freemail_contains(set, "example.com"));
    assert_false(freemail_contains(set, "acme.io"));
    assert_false(freemail_contains(set, "mail.gmail.com"));
    assert_false(freemail_contains(set, "gmail.co"));
    assert_false(freemail_contains(set, ""));
    assert_false(freemail_contains(set, NULL));
    assert_false(freemail_contains(NULL, "gmail.com"));
    assert_int_equal(freemail_count(NULL), 0);
    freemail_set_free(set);
    freemail_set_free(NULL);
}

static void test_freemail_overrides(void **state)
{
    struct freemail_set *base = freemail_set_new(NULL, 0, NULL, 0);
    size_t n = freemail_count(base);

    const char *add[] = {"corp-mail.example", "Shouty.Example", "gmail.com", NULL, ""};
    const char *remove[] = {"gmail.com", "yahoo.com"};
    struct freemail_set *set = freemail_set_new(add, ARRAY_LEN(add), remove, ARRAY_LEN(remove));
    assert_true(freemail_contains(set, "corp-mail.example"));
    assert_true(freemail_contains(set, "shouty.example"));
    assert_false(freemail_contains(set, "gmail.com"));
    assert_false(freemail_contains(set, "yahoo.com"));
    assert_true(freemail_contains(set, "googlemail.com"));
    assert_int_equal(freemail_count(set), n + 2 - 2);
    freemail_set_free(set);

    const char *again[] = {"gmail.com", "hotmail.com"};
    set = freemail_set_new(again, ARRAY_LEN(again), NULL, 0);
    assert_int_equal(freemail_count(set), n);
    freemail_set_free(set);

    set = freemail_set_new(NULL, 3, NULL, 5);
    assert_int_equal(freemail_count(set), n);
    freemail_set_free(set);
    freemail_set_free(base);
}

static void test_lead_email_free_flag(void **state)
{
    struct arena a = ARENA_INIT;
    const char *add[] = {"corp-mail.example"};
    const char *remove[] = {"aol.com"};
    struct freemail_set *set = freemail_set_new(add, 1, remove, 1);
    static const struct {
        const char *email;
        bool free;
    } cases[] = {
        {"ada@gmail.com", true}, {"Ada@GMAIL.com", true},         {"bob@yahoo.co.uk", true},
        {"eve@web.de", true},    {"sam@corp-mail.example", true}, {"al@aol.com", false},
        {"ada@acme.com", false}, {"ada@sub.gmail.com", false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct lead_input in = input_with_email();
        in.attr[LEAD_EMAIL] = cases[i].email;
        struct lead l;
        assert_int_equal(normalize_lead(&in, set, &a, &l, NULL, NULL), BT_OK);
        if (l.email_free != cases[i].free)
            fail_msg("%s: email_free is %d", cases[i].email, l.email_free);
    }
    struct lead_input in = input_with_email();
    in.attr[LEAD_EMAIL] = "ada@gmail.com";
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_false(l.email_free);
    freemail_set_free(set);
    arena_release(&a);
}

/* ---- website ------------------------------------------------------------- */

static void check_website(const char *in, const char *want)
{
    struct arena a = ARENA_INIT;
    struct bt_error e = BT_ERROR_INIT;
    const char *domain = NULL;
    bt_err rc = normalize_website_domain(&a, in, &domain, &e);
    if (want) {
        if (rc != BT_OK)
            fail_msg("\"%s\": rejected: %s", in, e.message);
        if (strcmp(domain, want) != 0)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", in, domain, want);
    } else {
        if (rc != BT_EINVAL)
            fail_msg("\"%s\": accepted as \"%s\"", in, domain ? domain : "(null)");
        assert_string_equal(e.field, "website");
    }
    arena_release(&a);
}

static void test_website_domain(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"https://www.Example.com:443/x?y", "example.com"},
        {"example.com", "example.com"},
        {"EXAMPLE.COM", "example.com"},
        {"HTTP://WWW.EXAMPLE.COM/", "example.com"},
        {"http://example.com", "example.com"},
        {"https://shop.example.co.uk/cart#top", "shop.example.co.uk"},
        {"http://user:secret@app.example.io:8080/a/b?c=d#e", "app.example.io"},
        {"www.example.org/about", "example.org"},
        {"www.example.org", "example.org"},
        {"example.org:8443", "example.org"},
        {"example.org?ref=ad", "example.org"},
        {"example.org#pricing", "example.org"},
        {"//cdn.example.net/lib.js", "cdn.example.net"},
        {"ftp://files.example.net", "files.example.net"},
        {"example.com/?next=http://other.org", "example.com"},
        {"https://www2.example.com", "www2.example.com"},
        {"https://www.www.example.com", "www.example.com"},
        {"www.com", "www.com"},
        {"https://example.com.", "example.com"},
        {"https://xn--bcher-kva.de", "xn--bcher-kva.de"},
        {"https://my-shop.example", "my-shop.example"},
        {"", NULL},
        {"http://", NULL},
        {"https:///path", NULL},
        {"localhost", NULL},
        {"http://localhost:3000", NULL},
        {"http://192.168.0.1/", NULL},
        {"http://[::1]/", NULL},
        {"https://exa_mple.com", NULL},
        {"https://-bad.example.com", NULL},
        {"https://bad-.example.com", NULL},
        {"https://example..com", NULL},
        {"not a website", NULL},
        {"https://ex ample.com", NULL},
        {"https://b\xc3\xbc"
         "cher.de",
         NULL},
        {"www.", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        check_website(cases[i].in, cases[i].want);

    /* 253 characters is the longest name; one more is not a domain. */
    char *longest = make_address(1, 253);
    check_website(strchr(longest, '@') + 1, strchr(longest, '@') + 1);
    free(longest);
    char *too_long = make_address(1, 254);
    check_website(strchr(too_long, '@') + 1, NULL);
    free(too_long);
}

static void test_lead_website(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    in.attr[LEAD_WEBSITE] = "  HTTPS://WWW.Acme.COM/Pricing?utm=1  ";
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_WEBSITE], "HTTPS://WWW.Acme.COM/Pricing?utm=1");
    assert_string_equal(l.attr[LEAD_WEBSITE_DOMAIN], "acme.com");

    struct bt_error e = BT_ERROR_INIT;
    in.attr[LEAD_WEBSITE] = "http://intranet/";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e), BT_EINVAL);
    assert_string_equal(e.field, "website");
    arena_release(&a);
}

/* ---- country ------------------------------------------------------------- */

static void test_country_every_alpha2_code(void **state)
{
    static const char codes[] =
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
        "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
        "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
        "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
        "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
        "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
        "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
        "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
        "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";
    size_t n = 0;
    for (const char *p = codes; *p; p += (p[2] ? 3 : 2)) {
        char upper[3] = {p[0], p[1], '\0'};
        char lower[3] = {(char)(p[0] - 'A' + 'a'), (char)(p[1] - 'A' + 'a'), '\0'};
        const char *got = normalize_country(upper);
        if (!got || strcmp(got, upper) != 0)
            fail_msg("%s -> %s", upper, got ? got : "(null)");
        got = normalize_country(lower);
        if (!got || strcmp(got, upper) != 0)
            fail_msg("%s -> %s", lower, got ? got : "(null)");
        n++;
    }
    assert_int_equal(n, 249);
}

static void test_country_names_codes_aliases(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"USA", "US"},
        {"usa", "US"},
        {"U.S.A.", "US"},
        {"U.S.", "US"},
        {"US", "US"},
        {"United States", "US"},
        {"united states of america", "US"},
        {"UNITED STATES OF AMERICA", "US"},
        {"America", "US"},
        {"  Germany  ", "DE"},
        {"DEU", "DE"},
        {"deu", "DE"},
        {"Deutschland", "DE"},
        {"FRA", "FR"},
        {"France", "FR"},
        {"JPN", "JP"},
        {"BRA", "BR"},
        {"ZAF", "ZA"},
        {"GBR", "GB"},
        {"UK", "GB"},
        {"U.K.", "GB"},
        {"United Kingdom", "GB"},
        {"Great Britain", "GB"},
        {"Britain", "GB"},
        {"England", "GB"},
        {"Scotland", "GB"},
        {"Wales", "GB"},
        {"Northern Ireland", "GB"},
        {"United Kingdom of Great Britain and Northern Ireland", "GB"},
        {"Netherlands", "NL"},
        {"The Netherlands", "NL"},
        {"the netherlands", "NL"},
        {"Holland", "NL"},
        {"The Bahamas", "BS"},
        {"Gambia", "GM"},
        {"South Korea", "KR"},
        {"Korea, Republic of", "KR"},
        {"Korea", "KR"},
        {"North Korea", "KP"},
        {"Russia", "RU"},
        {"Russian Federation", "RU"},
        {"Czech Republic", "CZ"},
        {"Czechia", "CZ"},
        {"Ivory Coast", "CI"},
        {"C\xc3\xb4te d'Ivoire", "CI"},
        {"C\xc3\x94TE D'IVOIRE", "CI"},
        {"Cote d\xe2\x80\x99Ivoire", "CI"},
        {"Cote d'Ivoire", "CI"},
        {"Vietnam", "VN"},
        {"Viet Nam", "VN"},
        {"Iran", "IR"},
        {"Syria", "SY"},
        {"Laos", "LA"},
        {"Bolivia", "BO"},
        {"Venezuela", "VE"},
        {"Tanzania", "TZ"},
        {"Moldova", "MD"},
        {"Taiwan", "TW"},
        {"UAE", "AE"},
        {"U.A.E.", "AE"},
        {"United Arab Emirates", "AE"},
        {"T\xc3\xbcrkiye", "TR"},
        {"Turkey", "TR"},
        {"Macedonia", "MK"},
        {"North Macedonia", "MK"},
        {"Swaziland", "SZ"},
        {"Eswatini", "SZ"},
        {"Burma", "MM"},
        {"Myanmar", "MM"},
        {"St. Lucia", "LC"},
        {"St Kitts & Nevis", "KN"},
        {"Saint Vincent and the Grenadines", "VC"},
        {"Trinidad & Tobago", "TT"},
        {"Guinea Bissau", "GW"},
        {"Guinea-Bissau", "GW"},
        {"Timor-Leste", "TL"},
        {"East Timor", "TL"},
        {"\xc3\x85land Islands", "AX"},
        {"Aland Islands", "AX"},
        {"Cura\xc3\xa7"
         "ao",
         "CW"},
        {"R\xc3\xa9union", "RE"},
        {"Democratic Republic of the Congo", "CD"},
        {"DRC", "CD"},
        {"Republic of the Congo", "CG"},
        {"Congo", "CG"},
        {"Bosnia and Herzegovina", "BA"},
        {"Cape Verde", "CV"},
        {"Vatican City", "VA"},
        {"Hong Kong", "HK"},
        {"  new   zealand\xc2\xa0", "NZ"},
        {"\tswitzerland\n", "CH"},
        {"Schweiz", "CH"},
        {"Espa\xc3\xb1"
         "a",
         "ES"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = normalize_country(cases[i].in);
        if (eq_or_null(got, cases[i].want))
            fail_msg("\"%s\" -> %s, want %s", cases[i].in, got ? got : "(null)", cases[i].want);
    }
}

static void test_country_unknown(void **state)
{
    static const char *const unknown[] = {
        "Narnia", "XX",  "ZZZ",      "Europe",   "EU",     "Americas", "U",     "",      "   ",
        ".",      "the", "Germany!", "Germanyy", "United", "States",   "North", "Saint",
    };
    for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
        const char *got = normalize_country(unknown[i]);
        if (got)
            fail_msg("\"%s\" -> %s", unknown[i], got);
    }
    assert_null(normalize_country(NULL));
    char *long_name = repeat('a', 500);
    assert_null(normalize_country(long_name));
    free(long_name);
}

static void test_lead_country(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    struct lead l;
    struct normalize_report r;
    in.attr[LEAD_COUNTRY] = " Deutschland ";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_COUNTRY], "DE");
    assert_null(l.attr[LEAD_COUNTRY_INPUT]);
    assert_int_equal(r.count, 0);

    in.attr[LEAD_COUNTRY] = "  Narnia ";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_null(l.attr[LEAD_COUNTRY]);
    assert_string_equal(l.attr[LEAD_COUNTRY_INPUT], "Narnia");
    assert_int_equal(r.count, 1);
    assert_string_equal(r.warnings[0].field, "country");
    assert_non_null(strstr(r.warnings[0].message, "\"Narnia\""));

    /* without a report the unknown country is still kept and not an error */
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_COUNTRY_INPUT], "Narnia");

    /* a long value is cut in the warning, on a character boundary */
    char name[129];
    for (int i = 0; i < 64; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[128] = '\0';
    in.attr[LEAD_COUNTRY] = name;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_COUNTRY_INPUT], name);
    assert_int_equal(r.count, 1);
    assert_true(strlen(r.warnings[0].message) < sizeof(r.warnings[0].message));
    assert_true(valid_utf8(r.warnings[0].message));
    assert_non_null(strstr(r.warnings[0].message, "...\""));
    arena_release(&a);
}

/* ---- employees ----------------------------------------------------------- */

static void check_employees(const char *in, int64_t want, const char *want_band)
{
    int64_t count = 12345;
    const char *band = "unset";
    bool ok = normalize_employees(in, &count, &band);
    if (want < 0) {
        if (ok)
            fail_msg("\"%s\": parsed as %lld", in, (long long)count);
        if (count != -1)
            fail_msg("\"%s\": count %lld after failure", in, (long long)count);
        return;
    }
    if (!ok)
        fail_msg("\"%s\": not parsed, want %lld", in, (long long)want);
    if (count != want || eq_or_null(band, want_band))
        fail_msg("\"%s\": got %lld \"%s\", want %lld \"%s\"", in, (long long)count,
                 band ? band : "(null)", (long long)want, want_band);
}

static void test_employees_header_examples(void **state)
{
    check_employees("1200", 1200, "1001-5000");
    check_employees("1,200", 1200, "1001-5000");
    check_employees("1.200", 1200, "1001-5000");
    check_employees("1 200", 1200, "1001-5000");
    check_employees("1.5k", 1500, "1001-5000");
    check_employees("2K", 2000, "1001-5000");
    check_employees("1m", 1000000, "10001+");
    check_employees("1k-5k", 3000, "1001-5000");
    check_employees("51-200", 125, "51-200");
    check_employees("51 to 200", 125, "51-200");
    check_employees("51\xe2\x80\x93"
                    "200",
                    125, "51-200");
    check_employees("5000+", 5000, "1001-5000");
    check_employees("10k+", 10000, "5001-10000");
    check_employees(">1000", 1001, "1001-5000");
    check_employees("about 300 employees", 300, "201-500");
    check_employees("~40", 40, "11-50");
}

static void test_employees_more_forms(void **state)
{
    check_employees("7", 7, "1-10");
    check_employees("  250  ", 250, "201-500");
    check_employees("1,000,000", 1000000, "10001+");
    check_employees("12.500", 12500, "10001+");
    check_employees("1\xc2\xa0"
                    "200",
                    1200, "1001-5000");
    check_employees("1'200", 1200, "1001-5000");
    check_employees("1-10", 5, "1-10");
    check_employees("11-50", 30, "11-50");
    check_employees("201 - 500", 350, "201-500");
    check_employees("51 TO 200", 125, "51-200");
    check_employees("51\xe2\x80\x94"
                    "200",
                    125, "51-200");
    check_employees("1,001-5,000", 3000, "1001-5000");
    check_employees("1K - 5K employees", 3000, "1001-5000");
    check_employees("1-5k", 3000, "1001-5000");
    check_employees("500-5k", 2750, "1001-5000");
    check_employees("0-10", 5, "1-10");
    check_employees("10001+", 10001, "10001+");
    check_employees("10,001+", 10001, "10001+");
    check_employees("> 50", 51, "51-200");
    check_employees(">=1000", 1000, "501-1000");
    check_employees("1.25k", 1250, "1001-5000");
    check_employees("1,5k", 1500, "1001-5000");
    check_employees("2.5M", 2500000, "10001+");
    check_employees("2 million", 2000000, "10001+");
    check_employees("3 thousand", 3000, "1001-5000");
    check_employees("approx. 45 people", 45, "11-50");
    check_employees("Employees: 120", 120, "51-200");
    check_employees("100 employees", 100, "51-200");
    check_employees("10 members", 10, "1-10");
    check_employees("1.5", 1, "1-10");
    check_employees("200-200", 200, "51-200");
}

static void test_employees_unparseable(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "lots",
        "n/a",
        "unknown",
        "k",
        "0",
        "000",
        "0k",
        "0+",
        "-5",
        "-1",
        "x-5",
        "-",
        "0-1",
        "200-51",
        "5k-1k",
        "12 people in 3 offices",
        "abc123def456",
        "51-",
        "99999999999999999999",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        check_employees(bad[i], -1, NULL);
    check_employees(NULL, -1, NULL);
    char *too_long = repeat('9', LEAD_EMPLOYEES_RAW_MAX + 1);
    check_employees(too_long, -1, NULL);
    free(too_long);
}

static void test_employees_band_boundaries(void **state)
{
    static const struct {
        int64_t count;
        const char *band;
    } cases[] = {
        {1, "1-10"},          {10, "1-10"},          {11, "11-50"},       {50, "11-50"},
        {51, "51-200"},       {200, "51-200"},       {201, "201-500"},    {500, "201-500"},
        {501, "501-1000"},    {1000, "501-1000"},    {1001, "1001-5000"}, {5000, "1001-5000"},
        {5001, "5001-10000"}, {10000, "5001-10000"}, {10001, "10001+"},   {2000000, "10001+"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_string_equal(normalize_employees_band(cases[i].count), cases[i].band);
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)cases[i].count);
        check_employees(text, cases[i].count, cases[i].band);
    }
    assert_null(normalize_employees_band(0));
    assert_null(normalize_employees_band(-1));
}

static void test_lead_employees(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    struct lead l;
    struct normalize_report r;
    in.employees = " about 300 ";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_int_equal(l.employees, 300);
    assert_string_equal(l.attr[LEAD_EMPLOYEES_BAND], "201-500");
    assert_int_equal(r.count, 0);

    in.employees = "  lots  ";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_int_equal(l.employees, -1);
    assert_null(l.attr[LEAD_EMPLOYEES_BAND]);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.warnings[0].field, "employees");
    assert_non_null(strstr(r.warnings[0].message, "\"lots\""));

    in.employees = "0";
    in.attr[LEAD_COUNTRY] = "Atlantis";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_int_equal(l.employees, -1);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.warnings[0].field, "country");
    assert_string_equal(r.warnings[1].field, "employees");

    in.employees = "   ";
    in.attr[LEAD_COUNTRY] = NULL;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, &r, NULL), BT_OK);
    assert_int_equal(l.employees, -1);
    assert_int_equal(r.count, 0);
    arena_release(&a);
}

/* ---- phone --------------------------------------------------------------- */

static void test_phone_valid(void **state)
{
    static const char *const good[] = {
        "12345",
        "+1 (555) 010-0199",
        "555.010.0199",
        "+49 30 1234567",
        "+44 20 7946 0958",
        "0049/30/123456",
        "+44 20 7946 0958 x123",
        "+44 20 7946 0958x123",
        "+44 20 7946 0958 ext 123",
        "555-0100 ext. 42",
        "555-0100 EXT42",
        "555-0100 X 42",
        "555-0100 extension 7",
        "+33\xc2\xa0"
        "1\xc2\xa0"
        "23\xc2\xa0"
        "45\xc2\xa0"
        "67\xc2\xa0"
        "89",
        "12345678901234567890",
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        struct bt_error e = BT_ERROR_INIT;
        if (normalize_phone(good[i], &e) != BT_OK)
            fail_msg("\"%s\" rejected: %s", good[i], e.message);
    }
}

static void test_phone_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "1234",
        "12 34",
        "123456789012345678901",
        "+1 (555) 010-0199 0000000000",
        "555-CALL-NOW",
        "+1 555 0100 #12",
        "phone: 5550100",
        "x123",
        "ext 12345",
        "555_0100",
        "555,0100",
        "+1 555 0100 x",
        "+1 555 0100 ext",
        "555 0100 x12 x34",
        "555\t0100",
        "1234 x12345678901",
        "1234 x1234567",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct bt_error e = BT_ERROR_INIT;
        if (normalize_phone(bad[i], &e) != BT_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_string_equal(e.field, "phone");
    }
}

static void test_lead_phone(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in;
    memset(&in, 0, sizeof(in));
    in.attr[LEAD_PHONE] = "\xc2\xa0 +1 (555) 010-0199 ext. 7 ";
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_PHONE], "+1 (555) 010-0199 ext. 7");
    assert_null(l.attr[LEAD_EMAIL]);

    struct bt_error e = BT_ERROR_INIT;
    in.attr[LEAD_EMAIL] = "ada@example.com";
    in.attr[LEAD_PHONE] = "call me";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e), BT_EINVAL);
    assert_string_equal(e.field, "phone");
    arena_release(&a);
}

/* ---- email or phone ------------------------------------------------------ */

static void test_lead_needs_email_or_phone(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in;
    memset(&in, 0, sizeof(in));
    in.attr[LEAD_FIRST_NAME] = "Ada";
    in.attr[LEAD_COMPANY] = "Analytical Engines";
    struct lead l;
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e), BT_EINVAL);
    assert_int_equal(e.code, BT_EINVAL);
    assert_string_equal(e.field, "email");
    assert_string_equal(e.message, "a lead needs an email or a phone");

    /* blanks count as absent */
    in.attr[LEAD_EMAIL] = "  ";
    in.attr[LEAD_PHONE] = "\xc2\xa0";
    struct bt_error e2 = BT_ERROR_INIT;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e2), BT_EINVAL);
    assert_string_equal(e2.field, "email");

    in.attr[LEAD_EMAIL] = "ada@example.com";
    in.attr[LEAD_PHONE] = NULL;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    in.attr[LEAD_EMAIL] = NULL;
    in.attr[LEAD_PHONE] = "+44 20 7946 0958";
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_null(l.attr[LEAD_EMAIL_DOMAIN]);
    assert_false(l.email_free);
    arena_release(&a);
}

/* Things the header does not forbid must pass through untouched. */
static void test_lead_accepts_unconstrained_text(void **state)
{
    struct arena a = ARENA_INIT;
    struct lead_input in = input_with_email();
    in.attr[LEAD_FIRST_NAME] = "Zo\xc3\xab";
    in.attr[LEAD_LAST_NAME] = "O'Brien-Smith";
    in.attr[LEAD_COMPANY] = "\xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe <ACME> & Co.";
    in.attr[LEAD_TITLE] = "VP, R&D / \"Ops\"";
    in.attr[LEAD_STATE] = "??";
    in.attr[LEAD_SOURCE] = "https://ads.example.com/?x=1";
    in.attr[LEAD_EXTERNAL_ID] = "00Q5e00000AbCdE";
    struct lead l;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, NULL), BT_OK);
    assert_string_equal(l.attr[LEAD_FIRST_NAME], "Zo\xc3\xab");
    assert_string_equal(l.attr[LEAD_COMPANY],
                        "\xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe <ACME> & Co.");
    assert_string_equal(l.attr[LEAD_TITLE], "VP, R&D / \"Ops\"");
    assert_string_equal(l.attr[LEAD_EXTERNAL_ID], "00Q5e00000AbCdE");
    arena_release(&a);
}

/* An arena at its limit is reported, not turned into a missing attribute. */
static void test_lead_arena_exhausted(void **state)
{
    struct arena a = ARENA_INIT;
    a.limit = 64;
    struct lead_input in = input_with_email();
    in.attr[LEAD_COMPANY] = "A company name long enough to pass a sixty-four byte arena limit";
    struct lead l;
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(normalize_lead(&in, NULL, &a, &l, NULL, &e), BT_ETOOBIG);
    arena_release(&a);
}

static void test_region(void **state)
{
    (void)state;
    assert_string_equal(normalize_region("US"), "NA");
    assert_string_equal(normalize_region("CA"), "NA");
    assert_string_equal(normalize_region("MX"), "LATAM");
    assert_string_equal(normalize_region("BR"), "LATAM");
    assert_string_equal(normalize_region("JM"), "LATAM");
    assert_string_equal(normalize_region("JP"), "APAC");
    assert_string_equal(normalize_region("AU"), "APAC");
    assert_string_equal(normalize_region("IN"), "APAC");
    assert_string_equal(normalize_region("DE"), "EMEA");
    assert_string_equal(normalize_region("ZA"), "EMEA");
    assert_string_equal(normalize_region("AE"), "EMEA");
    assert_string_equal(normalize_region("RU"), "EMEA");
    assert_null(normalize_region(NULL));
    /* every region list is sorted, or bsearch would miss codes */
    assert_string_equal(normalize_region(normalize_country("Vietnam")), "APAC");
    assert_string_equal(normalize_region(normalize_country("Argentina")), "LATAM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region),
        cmocka_unit_test(test_lead_attrs_table),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_lead_trims_every_attribute),
        cmocka_unit_test(test_lead_leaves_lifecycle_empty),
        cmocka_unit_test(test_lead_fields_json),
        cmocka_unit_test(test_lead_max_len_each_attribute),
        cmocka_unit_test(test_lead_max_len_counts_after_trimming),
        cmocka_unit_test(test_email_valid),
        cmocka_unit_test(test_email_invalid),
        cmocka_unit_test(test_lead_email_lowercased_with_domain),
        cmocka_unit_test(test_freemail_builtin),
        cmocka_unit_test(test_freemail_overrides),
        cmocka_unit_test(test_lead_email_free_flag),
        cmocka_unit_test(test_website_domain),
        cmocka_unit_test(test_lead_website),
        cmocka_unit_test(test_country_every_alpha2_code),
        cmocka_unit_test(test_country_names_codes_aliases),
        cmocka_unit_test(test_country_unknown),
        cmocka_unit_test(test_lead_country),
        cmocka_unit_test(test_employees_header_examples),
        cmocka_unit_test(test_employees_more_forms),
        cmocka_unit_test(test_employees_unparseable),
        cmocka_unit_test(test_employees_band_boundaries),
        cmocka_unit_test(test_lead_employees),
        cmocka_unit_test(test_phone_valid),
        cmocka_unit_test(test_phone_invalid),
        cmocka_unit_test(test_lead_phone),
        cmocka_unit_test(test_lead_needs_email_or_phone),
        cmocka_unit_test(test_lead_accepts_unconstrained_text),
        cmocka_unit_test(test_lead_arena_exhausted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
