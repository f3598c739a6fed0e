/*
 * test_rule.c - the condition language: what each operator means on strings,
 * numbers, booleans and missing values, precedence, case rules, compile
 * errors with their offsets, limits, and the shared symbol table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ---- */

/* One value of a test lead, by path. */
struct field {
    const char *path;
    enum rule_type type;
    const char *text; /* RULE_STRING */
    double number;    /* RULE_NUMBER */
    bool boolean;     /* RULE_BOOL */
};

#define S(p, t)                                                                                    \
    {                                                                                              \
        p, RULE_STRING, t, 0, false                                                                \
    }
#define N(p, n)                                                                                    \
    {                                                                                              \
        p, RULE_NUMBER, NULL, n, false                                                             \
    }
#define B(p, b)                                                                                    \
    {                                                                                              \
        p, RULE_BOOL, NULL, 0, b                                                                   \
    }

static const struct field jane[] = {
    S("country", "DE"),
    S("company", "ACME GmbH"),
    S("title", "VP of Sales"),
    S("email", "Jane.Doe@Acme.com"),
    S("email.domain", "acme.com"),
    B("email.free", false),
    N("employees", 250),
    S("employees_band", "201-500"),
    S("fields.budget", "10000"),
    S("fields.zip", "01234"),
    S("fields.note", "Grüße aus München"),
    S("fields.neg", "-2.5"),
    S("fields.empty", ""),
    S("fields.quote", "say \"hi\"\\now"),
    N("score", 42.5),
    N("engagement", 0),
    S("stage", "new"),
    S("city", "Köln"),
    S("phone", "+49 30 1234"),
    B("fit", true),
    N("activity.demo_request.count", 2),
    N("activity.demo_request.last_days", 3),
};

/* A lead with values in none of the paths. */
static const struct field nobody[] = {{NULL, RULE_MISSING, NULL, 0, false}};

static const char *known[] = {
    "country",      "company",    "title",          "email",
    "email.domain", "email.free", "employees",      "employees_band",
    "score",        "engagement", "stage",          "city",
    "phone",        "fit",        "state",          "industry",
    "source",       "first_name", "website.domain", "grade",
};

/* Accepts the names above, fields.* and activity.*. */
static bool test_schema_check(void *ctx, const char *path, size_t len, char *why, size_t why_size)
{
    (void)ctx;
    if ((len > 7 && !strncmp(path, "fields.", 7)) || (len > 9 && !strncmp(path, "activity.", 9)))
        return true;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i]) == len && !strncmp(known[i], path, len))
            return true;
    if (len == 5 && !strncmp(path, "emial", 5))
        snprintf(why, why_size, "unknown field 'emial'; did you mean 'email'?");
    else
        snprintf(why, why_size, "unknown field '%.*s'", (int)len, path);
    return false;
}

static const struct rule_schema test_schema = {test_schema_check, NULL};

struct fixture {
    struct rule_symtab *syms;
    struct rule_scratch *scratch;
    struct rule_value slots[64];
    char lower[64][64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->syms = rule_symtab_new(&test_schema);
    f->scratch = rule_scratch_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rule_scratch_free(f->scratch);
    rule_symtab_free(f->syms);
    free(f);
    return 0;
}

/* Fills every slot of the table from `lead` (missing when absent). */
static void fill(struct fixture *f, const struct field *lead, size_t n)
{
    size_t count = rule_symtab_count(f->syms);
    assert_true(count <= 64);
    for (size_t i = 0; i < count; i++) {
        const char *path = rule_symtab_path(f->syms, i);
        memset(&f->slots[i], 0, sizeof(f->slots[i]));
        for (size_t j = 0; j < n; j++) {
            if (!lead[j].path || strcmp(lead[j].path, path))
                continue;
            if (lead[j].type == RULE_STRING) {
                size_t len = strlen(lead[j].text);
                assert_true(len < 64);
                for (size_t k = 0; k <= len; k++) {
                    char c = lead[j].text[k];
                    f->lower[i][k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
                }
                rule_value_string(&f->slots[i], lead[j].text, f->lower[i], len);
            } else if (lead[j].type == RULE_NUMBER) {
                rule_value_number(&f->slots[i], lead[j].number);
            } else {
                rule_value_bool(&f->slots[i], lead[j].boolean);
            }
        }
    }
}

static struct rule *compile_ok(struct fixture *f, const char *text)
{
    struct rule *r = NULL;
    struct rule_error err = {0, ""};
    bt_err e = rule_compile(f->syms, text, strlen(text), &r, &err);
    if (e != BT_OK)
        fail_msg("'%s' did not compile: at %zu: %s", text, err.offset, err.message);
    assert_non_null(r);
    assert_string_equal(rule_text(r), text);
    return r;
}

/* Compiles `text`, evaluates it against `lead` and frees it. */
static bool eval_on(struct fixture *f, const char *text, const struct field *lead, size_t n)
{
    struct rule *r = compile_ok(f, text);
    fill(f, lead, n);
    bool result = rule_eval(r, f->slots, f->scratch);
    rule_free(r);
    return result;
}

#define JANE   jane, sizeof(jane) / sizeof(jane[0])
#define NOBODY nobody, 1

struct case_row {
    const char *text;
    bool expected;
};

static void run_rows(struct fixture *f, const struct case_row *rows, size_t n,
                     const struct field *lead, size_t lead_n)
{
    for (size_t i = 0; i < n; i++) {
        bool got = eval_on(f, rows[i].text, lead, lead_n);
        if (got != rows[i].expected)
            fail_msg("'%s' gave %s, expected %s", rows[i].text, got ? "true" : "false",
                     rows[i].expected ? "true" : "false");
    }
}

#define RUN(f, rows, lead) run_rows(f, rows, sizeof(rows) / sizeof(rows[0]), lead)

/* ---- behaviour ---- */

static void test_comparisons_on_strings(void **state)
{
    static const struct case_row rows[] = {
        {"country == \"DE\"", true},
        {"country == \"de\"", true},
        {"country == \"AT\"", false},
        {"country != \"AT\"", true},
        {"country != \"de\"", false},
        {"country == \"D\"", false},
        {"country == \"DEU\"", false},
        {"stage < \"open\"", true},
        {"stage <= \"new\"", true},
        {"stage > \"new\"", false},
        {"stage >= \"NEW\"", true},
        {"stage > \"ne\"", true},
        {"stage < \"new2\"", true},
        {"company == \"acme gmbh\"", true},
        {"fields.empty == \"\"", true},
        {"fields.empty != \"x\"", true},
        {"fields.quote == \"say \\\"hi\\\"\\\\now\"", true},
    };
    RUN(*state, rows, JANE);
}

static void test_case_keyword(void **state)
{
    static const struct case_row rows[] = {
        {"country == case \"DE\"", true},
        {"country == case \"de\"", false},
        {"country != CASE \"de\"", true},
        {"company == Case \"ACME GmbH\"", true},
        {"company == case \"ACME GMBH\"", false},
        {"title contains case \"Sales\"", true},
        {"title contains case \"sales\"", false},
        {"title starts_with case \"vp\"", false},
        {"title ends_with case \"Sales\"", true},
        {"country in [case \"de\", \"at\"]", false},
        {"country in [case \"DE\", \"at\"]", true},
        {"stage < case \"New\"", false}, /* 'n' > 'N' byte-wise */
        {"employees == case 250", true},
        {"fit == case true", true},
    };
    RUN(*state, rows, JANE);
}

static void test_comparisons_on_numbers(void **state)
{
    static const struct case_row rows[] = {
        {"employees == 250", true},
        {"employees == 250.0", true},
        {"employees != 250", false},
        {"employees != 251", true},
        {"employees < 251", true},
        {"employees < 250", false},
        {"employees <= 250", true},
        {"employees > 249.99", true},
        {"employees >= 250", true},
        {"employees > 250", false},
        {"score == 42.5", true},
        {"score > -1", true},
        {"engagement == 0", true},
        {"engagement == -0", true},
        {"employees >= 200 and employees < 1000", true},
        /* a number against a string literal that is a number */
        {"employees == \"250\"", true},
        {"employees != \"250\"", false},
        {"employees > \"99\"", true},
        /* a number against text: a type mismatch is false, even for != */
        {"employees == \"many\"", false},
        {"employees != \"many\"", false},
        {"employees < \"many\"", false},
        {"employees == true", false},
        {"employees contains \"25\"", false},
        {"employees starts_with 2", false},
    };
    RUN(*state, rows, JANE);
}

static void test_number_like_strings(void **state)
{
    static const struct case_row rows[] = {
        {"fields.budget >= 10000", true},
        {"fields.budget > 9999.5", true},
        {"fields.budget == 10000.00", true},
        {"fields.budget != 10000", false},
        {"fields.budget < 5000", false},
        {"fields.neg < 0", true},
        {"fields.neg == -2.5", true},
        {"fields.zip == 1234", true},
        /* string against string compares text */
        {"fields.zip == \"1234\"", false},
        {"fields.zip == \"01234\"", true},
        {"fields.budget > \"5000\"", false}, /* "10000" < "5000" as text */
        {"fields.zip starts_with 01", true},
        {"fields.zip starts_with \"01\"", true},
        {"fields.budget in [5000, 10000]", true},
        {"fields.budget in [\"10000.0\"]", false},
        {"fields.zip in [1234]", true},
        {"fields.budget contains \"00\"", true},
        {"fields.budget matches \"^1\\\\d+$\"", true},
        {"fields.empty == 0", false},
        {"title == 0", false},
        {"title > 0", false},
    };
    RUN(*state, rows, JANE);
}

static void test_comparisons_on_bools(void **state)
{
    static const struct case_row rows[] = {
        {"fit", true},
        {"email.free", false},
        {"not email.free", true},
        {"fit == true", true},
        {"fit == TRUE", true},
        {"fit != false", true},
        {"email.free == false", true},
        {"email.free != true", true},
        {"email.free == true", false},
        {"fit in [true]", true},
        {"fit in [false, 1, \"true\"]", false},
        {"fit not in [false]", true},
        {"email.free in [true, false]", true},
        {"fit == \"true\"", false},
        {"fit == 1", false},
        {"country", false},   /* a string is not boolean true */
        {"employees", false}, /* nor is a number */
        {"country == true", false},
    };
    RUN(*state, rows, JANE);
}

static void test_in_lists(void **state)
{
    static const struct case_row rows[] = {
        {"country in [\"DE\", \"AT\", \"CH\"]", true},
        {"country in [\"at\", \"ch\", \"de\",]", true},
        {"country in [\"AT\", \"CH\"]", false},
        {"country not in [\"AT\", \"CH\"]", true},
        {"country NOT IN [\"de\"]", false},
        {"country in [\"DE\"]", true},
        {"country in [1, true, \"de\"]", true},
        {"country in [1, true, \"d\"]", false},
        {"employees in [100, 250, 500]", true},
        {"employees in [100, 250.0]", true},
        {"employees in [\"100\", \"250\"]", true},
        {"employees in [\"abc\", \"x\", 249]", false},
        {"employees not in [1, 2, 3]", true},
        {"employees not in [250]", false},
        {"score in [42.5]", true},
        {"employees_band in [\"1-10\", \"11-50\", \"51-200\", \"201-500\"]", true},
        {"city in [\"köln\", \"bonn\"]", true},
        {"city in [\"KÖLN\"]", false}, /* non-ASCII compares exactly */
        {"fields.empty in [\"\"]", true},
        {"stage in [\"new\", \"new\", \"NEW\"]", true},
        {"country in [\"\\u0044E\"]", true},
    };
    RUN(*state, rows, JANE);
}

static void test_text_operators(void **state)
{
    static const struct case_row rows[] = {
        {"title contains \"vp\"", true},
        {"title contains \"OF SAL\"", true},
        {"title contains \"cto\"", false},
        {"title contains \"\"", true},
        {"title starts_with \"vp \"", true},
        {"title starts_with \"of\"", false},
        {"title ends_with \"SALES\"", true},
        {"title ends_with \"vp\"", false},
        {"title starts_with \"VP of Sales and more\"", false},
        {"title ends_with \"The VP of Sales\"", false},
        {"email ends_with \"@acme.com\"", true},
        {"email.domain == \"ACME.com\"", true},
        {"phone starts_with \"+49\"", true},
        {"fields.note contains \"grüße\"", true},
        {"fields.note contains \"GRÜSSE\"", false},
        {"fields.note contains \"m\\u00fcnchen\"", true},
        {"fields.empty contains \"a\"", false},
        {"fields.empty starts_with \"\"", true},
    };
    RUN(*state, rows, JANE);
}

static void test_matches(void **state)
{
    static const struct case_row rows[] = {
        {"title matches \"^vp\"", true},
        {"title matches \"^(chief|head) \"", false},
        {"title matches \"SALES$\"", true},
        {"title matches \"(?-i)SALES$\"", false},
        {"title matches \"(?-i)Sales$\"", true},
        {"title matches \"\\\\bof\\\\b\"", true},
        {"title matches \"\\bof\\b\"", true}, /* \b reaches PCRE2 as written */
        {"email matches \"^[a-z.]+@acme\\.com$\"", true},
        {"fields.note matches \"MÜNCHEN$\"", true}, /* Unicode case folding */
        {"fields.note matches \"^gr.ße\"", true},
        {"fields.budget matches \"^10{4}$\"", true},
        {"employees matches \"250\"", false}, /* numbers are not text */
        {"fit matches \"true\"", false},
        {"fields.empty matches \"^$\"", true},
        {"fields.quote matches \"\\\"hi\\\"\"", true},
    };
    RUN(*state, rows, JANE);
}

static void test_precedence(void **state)
{
    static const struct case_row rows[] = {
        /* not > and > or */
        {"country == \"AT\" and employees > 1 or fit", true},
        {"fit or country == \"AT\" and employees > 1000", true},
        {"(fit or country == \"AT\") and employees > 1000", false},
        {"not fit and fit", false},
        {"not (fit and email.free)", true},
        {"not fit or fit", true},
        {"not not fit", true},
        {"not not not fit", false},
        {"email.free or email.free or fit", true},
        {"fit and fit and email.free", false},
        {"fit and (email.free or (country == \"DE\" and not email.free))", true},
        {"((((fit))))", true},
        {"country == \"AT\" or country == \"CH\" or country == \"DE\"", true},
        {"fit and not email.free and employees >= 200 and country in [\"DE\"]", true},
        {"fit AND Not email.free Or country == \"x\"", true},
        {"(email.free or fit) and (email.free or not fit)", false},
    };
    RUN(*state, rows, JANE);
}

static void test_missing_values(void **state)
{
    /* Every test on a missing value is false, so `not` of it is true. */
    static const char *tests[] = {
        "state == \"BY\"",
        "state != \"BY\"",
        "state < \"z\"",
        "state >= \"\"",
        "state == 1",
        "state != 1",
        "state > -1000000",
        "state == true",
        "state != true",
        "state == false",
        "state in [\"BY\", 1, true, false]",
        "state not in [\"BY\"]",
        "state contains \"\"",
        "state starts_with \"\"",
        "state ends_with \"\"",
        "state matches \"\"",
        "state matches \".*\"",
        "state",
        "state exists",
        "state == case \"BY\"",
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        char negated[128];
        snprintf(negated, sizeof(negated), "not (%s)", tests[i]);
        if (eval_on(f, tests[i], NOBODY))
            fail_msg("'%s' is true on a missing value", tests[i]);
        if (!eval_on(f, negated, NOBODY))
            fail_msg("'%s' is false on a missing value", negated);
    }
    static const struct case_row rows[] = {
        {"country exists", true},
        {"fields.empty exists", true},
        {"email.free exists", true},
        {"state exists", false},
        {"not state exists", true},
        {"fields.partner exists or fit", true},
        {"state == \"BY\" or country == \"DE\"", true},
        {"not state == \"BY\" and not state != \"BY\"", true},
    };
    RUN(f, rows, JANE);
}

static void test_keywords_any_case(void **state)
{
    static const struct case_row rows[] = {
        {"country IN [\"DE\"] AND NOT email.free", true},
        {"title CONTAINS \"vp\" oR title Matches \"x\"", true},
        {"title STARTS_WITH \"vp\" and title Ends_With \"sales\"", true},
        {"country EXISTS", true},
        {"fit == False", false},
        {"country not IN [\"AT\"]", true},
    };
    RUN(*state, rows, JANE);
}

static void test_unicode_and_escapes(void **state)
{
    static const struct case_row rows[] = {
        {"city == \"KÖLN\"", false}, /* only ASCII is folded */
        {"city == \"kÖln\"", false},
        {"city == \"KöLN\"", true},
        {"city == \"K\\u00f6ln\"", true},
        {"fields.note == \"Gr\\u00FC\\u00DFe aus M\\u00fcnchen\"", true},
        {"fields.note contains \"\\ud83d\\ude00\"", false},
        {"fields.quote contains \"\\\\\"", true},
        {"fields.quote contains \"\\n\"", false},
        {"title\tcontains\n\"vp\"\r\n", true},
    };
    RUN(*state, rows, JANE);
}

static void test_value_string_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool is_number;
        double value;
    } rows[] = {
        {"10000", true, 10000},
        {"-2.5", true, -2.5},
        {"0", true, 0},
        {"0.1", true, 0.1},
        {"007", true, 7},
        {"3.14159", true, 3.14159},
        {"123456789012", true, 123456789012.0},
        {"-0.000001", true, -0.000001},
        {"12345678901234567890123", true, 12345678901234567890123.0},
        {"", false, 0},
        {"-", false, 0},
        {"1.", false, 0},
        {".5", false, 0},
        {"+5", false, 0},
        {"1e3", false, 0},
        {" 5", false, 0},
        {"5 ", false, 0},
        {"1,000", false, 0},
        {"1.2.3", false, 0},
        {"--1", false, 0},
        {"10k", false, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct rule_value v;
        rule_value_string(&v, rows[i].text, rows[i].text, strlen(rows[i].text));
        assert_int_equal(v.type, RULE_STRING);
        if (v.has_number != rows[i].is_number)
            fail_msg("'%s': has_number %d", rows[i].text, v.has_number);
        if (rows[i].is_number && v.number != rows[i].value) {
            /* beyond 19 digits the value may be off by an ulp */
            double d = v.number - rows[i].value;
            if (strlen(rows[i].text) < 20 || (d > 0 ? d : -d) > rows[i].value * 1e-15)
                fail_msg("'%s' parsed as %.17g", rows[i].text, v.number);
        }
    }
    struct rule_value v;
    rule_value_number(&v, 5);
    assert_int_equal(v.type, RULE_NUMBER);
    assert_true(v.has_number);
    rule_value_bool(&v, true);
    assert_int_equal(v.type, RULE_BOOL);
    assert_true(v.boolean);
    assert_false(v.has_number);
}

static void test_scratch_and_text(void **state)
{
    struct fixture *f = *state;
    struct rule *r = compile_ok(f, "title matches \"^vp\" and country == \"DE\"");
    fill(f, JANE);
    /* two scratches, one rule: a rule is read-only during evaluation */
    struct rule_scratch *other = rule_scratch_new();
    for (int i = 0; i < 100; i++) {
        assert_true(rule_eval(r, f->slots, f->scratch));
        assert_true(rule_eval(r, f->slots, other));
    }
    rule_scratch_free(other);
    rule_scratch_free(NULL);
    rule_free(r);
    rule_free(NULL);
    rule_symtab_free(NULL);
}

static void test_regex_match_limit(void **state)
{
    struct fixture *f = *state;
    /* catastrophic backtracking ends at the match limit and counts as no match */
    static const struct field lead[] = {
        S("title", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")};
    assert_false(eval_on(f, "title matches \"^(a|a?)+$\"", lead, 1));
    assert_true(eval_on(f, "title matches \"^a+b$\"", lead, 1));
    /* invalid UTF-8 in the value does not break matching */
    static const struct field bad[] = {S("title", "VP \xff\xfe Sales")};
    assert_true(eval_on(f, "title matches \"sales\"", bad, 1));
    assert_true(eval_on(f, "title contains \"\xfe s\"", bad, 1));
}

/* ---- compile errors ---- */

struct error_row {
    const char *text;
    size_t offset;
    const char *message;
};

static void test_compile_errors(void **state)
{
    static const struct error_row rows[] = {
        {"", 0, "empty rule; expected a condition such as country == \"DE\""},
        {"   ", 3, "empty rule; expected a condition such as country == \"DE\""},
        {"employees >=", 12,
         "expected a value after '>=' (a number, a string in double quotes, true or false)"},
        {"employees >= and", 13,
         "expected a value after '>=' (a number, a string in double quotes, true or false)"},
        {"country == DE", 11,
         "expected a value after '==' (a number, a string in double quotes, true or false), "
         "found 'DE'; text goes in double quotes"},
        {"country equals \"DE\"", 8,
         "unknown operator 'equals'; expected ==, !=, <, <=, >, >=, in, not in, contains, "
         "starts_with, ends_with, matches or exists"},
        {"country \"DE\"", 8,
         "expected an operator after 'country' (==, !=, <, <=, >, >=, in, not in, contains, "
         "starts_with, ends_with, matches or exists), found a string"},
        {"country = \"DE\"", 8, "unknown operator '='; did you mean '=='?"},
        {"employees => 5", 10, "unknown operator '=>'; did you mean '>='?"},
        {"country <> \"DE\"", 8, "unknown operator '<>'; did you mean '!='?"},
        {"title == \"vp", 9, "unterminated string"},
        {"title == \"vp\nand x", 9, "unterminated string"},
        {"(fit and email.free", 0, "unbalanced parenthesis: this '(' is not closed"},
        {"fit and (email.free or (fit)", 8, "unbalanced parenthesis: this '(' is not closed"},
        {"fit)", 3, "unbalanced parenthesis: this ')' has no matching '('"},
        {"(fit == 1 fit)", 10, "expected 'and', 'or' or ')', found 'fit'"},
        {"fit fit", 4,
         "unknown operator 'fit'; expected ==, !=, <, <=, >, >=, in, not in, contains, "
         "starts_with, ends_with, matches or exists"},
        {"()", 1, "empty parentheses; expected a condition"},
        {"title matches \"([a-z\"", 20,
         "invalid regular expression: missing terminating ] for character class"},
        {"title matches \"a\\\\\"", 18, "invalid regular expression: \\ at end of pattern"},
        {"title matches \"ab)\"", 17, "invalid regular expression: unmatched closing parenthesis"},
        {"title matches \"x(?<n\"", 20,
         "invalid regular expression: syntax error in subpattern name (missing terminator?)"},
        {"title matches 5", 14,
         "expected a regular expression in double quotes after 'matches', like \"^vp\""},
        {"title matches case \"x\"", 14,
         "'case' does not apply to 'matches'; start the pattern with (?-i) to match upper and "
         "lower case exactly"},
        {"emial == \"x\"", 0, "unknown field 'emial'; did you mean 'email'?"},
        {"fit and nope.x", 8, "unknown field 'nope.x'"},
        {"country in \"DE\"", 11,
         "expected a list in square brackets after 'in', like [\"DE\", \"AT\"]"},
        {"country not in (\"DE\")", 15,
         "expected a list in square brackets after 'not in', like [\"DE\", \"AT\"]"},
        {"country in []", 12, "empty list; expected at least one value"},
        {"country in [\"DE\" \"AT\"]", 17,
         "expected ',' or ']' after a value in the list, found a string"},
        {"country in [\"DE\",", 11, "unterminated list: this '[' is not closed"},
        {"country in [\"DE\", ,]", 18,
         "expected a value in the list (a number, a string in double quotes, true or false)"},
        {"country not \"DE\"", 12, "expected 'in' after 'not', found a string"},
        {"country not exists", 8, "'not' goes before the field: write 'not country exists'"},
        {"country == \"DE\" country == \"AT\"", 16,
         "expected 'and', 'or' or the end of the rule, found 'country'"},
        {"fit and", 7,
         "expected a condition after 'and' (a field name, 'not' or '('), found the end of the "
         "rule"},
        {"not", 3,
         "expected a condition after 'not' (a field name, 'not' or '('), found the end of the "
         "rule"},
        {"and fit", 0, "expected a condition (a field name, 'not' or '('), found 'and'"},
        {"== 5", 0, "expected a condition (a field name, 'not' or '('), found '=='"},
        {"title == \"a\\qb\"", 11,
         "unknown escape '\\q' in a string; use \\\", \\\\, \\n, \\t or \\uXXXX"},
        {"title == \"\\u12\"", 10, "invalid \\u escape; expected 4 hex digits, like \\u00e9"},
        {"title == \"\\uDE00\"", 10, "invalid \\u escape: \\uDE00 is half of a surrogate pair"},
        {"title == \"x\\uD83Dy\"", 11,
         "invalid \\u escape: \\uD83D must be followed by a low surrogate (\\uDC00 to \\uDFFF)"},
        {"title == \"\\u0000\"", 10, "\\u0000 is not allowed in a string"},
        {"employees > 10k", 12,
         "invalid number '10k'; numbers are written like 200, -5 or 2.5 (text goes in double "
         "quotes)"},
        {"employees > 5.", 12, "invalid number: expected digits after '.'"},
        {"employees < true", 10,
         "'<' compares numbers or strings; true and false work with == and !="},
        {"title contains false", 15, "expected a string in double quotes after 'contains'"},
        {"title == case", 13,
         "expected a value after 'case' (a number, a string in double quotes, true or false)"},
        {"title == 'vp'", 9, "strings go in double quotes (\"...\"), not single quotes"},
        {"title @ \"x\"", 6, "unexpected character '@'"},
        {"title == \"x\" && fit", 13, "unexpected character '&'"},
        {"fit and !email.free", 8, "unexpected '!'; did you mean '!=' or 'not'?"},
        {"employees > - 5", 12, "unexpected '-'; a negative number is written like -5"},
        {"fields.", 7, "expected a field name after '.'"},
        {"fields..x", 7, "expected a field name after '.'"},
        {"in == 5", 0, "expected a condition (a field name, 'not' or '('), found 'in'"},
        {"titl\xc3\xa9 == 1", 4,
         "unexpected byte 0xC3 in a name; names use A-Z, a-z, 0-9, '_' and '-'"},
        {"fit and \xc3\xa9", 8, "unexpected byte 0xC3 outside a string"},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct rule *r = (struct rule *)1;
        struct rule_error err = {0, ""};
        bt_err e = rule_compile(f->syms, rows[i].text, strlen(rows[i].text), &r, &err);
        if (e != BT_EINVAL)
            fail_msg("'%s' compiled", rows[i].text);
        assert_null(r);
        if (strcmp(err.message, rows[i].message) || err.offset != rows[i].offset)
            fail_msg("'%s':\n  got      %zu: %s\n  expected %zu: %s", rows[i].text, err.offset,
                     err.message, rows[i].offset, rows[i].message);
    }
    /* NULL error is allowed */
    struct rule *r;
    assert_int_equal(rule_compile(f->syms, "(", strlen("("), &r, NULL), BT_EINVAL);
}

static void test_regex_error_offset_with_escapes(void **state)
{
    struct fixture *f = *state;
    /* \" in the source is one byte of pattern: the offset maps back */
    const char *text = "title matches \"\\\"\\\"[\"";
    struct rule *r;
    struct rule_error err;
    assert_int_equal(rule_compile(f->syms, text, strlen(text), &r, &err), BT_EINVAL);
    assert_string_equal(err.message,
                        "invalid regular expression: missing terminating ] for character class");
    assert_int_equal(err.offset, strlen(text) - 1);
    /* NUL inside the text */
    assert_int_equal(rule_compile(f->syms, "fit\0x", 5, &r, &err), BT_EINVAL);
    assert_int_equal(err.offset, 3);
    assert_string_equal(err.message, "unexpected byte 0x00 outside a string");
    assert_int_equal(rule_compile(f->syms, "title == \"a\0\"", 13, &r, &err), BT_EINVAL);
    assert_int_equal(err.offset, 11);
    assert_string_equal(err.message, "unexpected byte 0x00 in a string");
}

/* ---- limits ---- */

static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct rule *r;
    struct rule_error err;
    char *buf = malloc(16384);

    /* text: 4096 bytes are fine, 4097 are not */
    memset(buf, ' ', 4096);
    memcpy(buf, "fit", 3);
    assert_int_equal(rule_compile(f->syms, buf, 4096, &r, &err), BT_OK);
    rule_free(r);
    buf[4096] = ' ';
    assert_int_equal(rule_compile(f->syms, buf, 4097, &r, &err), BT_EINVAL);
    assert_int_equal(err.offset, 4096);
    assert_string_equal(err.message, "rule is too long (4097 bytes; at most 4096)");

    /* nodes: 128 conditions and 127 `or` are 255; one more `or fit` is 257 */
    size_t n = 0;
    for (int i = 0; i < 128; i++)
        n += (size_t)sprintf(buf + n, "%sfit", i ? " or " : "");
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_OK);
    fill(f, JANE);
    assert_true(rule_eval(r, f->slots, f->scratch));
    rule_free(r);
    n += (size_t)sprintf(buf + n, " or fit");
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);
    assert_string_equal(err.message, "rule is too complex: at most 256 conditions and operators; "
                                     "split it into several rules");
    assert_int_equal(err.offset, n - 3); /* the last `fit` is the 257th node */

    /* nodes: not counts too: 127 x "not fit and " + "fit" = 127+127+127+1 > 256 */
    n = 0;
    for (int i = 0; i < 85; i++)
        n += (size_t)sprintf(buf + n, "not fit and ");
    n += (size_t)sprintf(buf + n, "fit");
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_OK); /* 85*3+1 = 256 */
    fill(f, JANE);
    assert_false(rule_eval(r, f->slots, f->scratch));
    rule_free(r);
    n = 0;
    for (int i = 0; i < 86; i++)
        n += (size_t)sprintf(buf + n, "not fit and ");
    n += (size_t)sprintf(buf + n, "fit");
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);

    /* nesting: 32 levels are fine, 33 are not */
    n = 0;
    for (int i = 0; i < 32; i++)
        buf[n++] = '(';
    n += (size_t)sprintf(buf + n, "fit");
    for (int i = 0; i < 32; i++)
        buf[n++] = ')';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_OK);
    rule_free(r);
    memset(buf, '(', 33);
    memcpy(buf + 33, "fit", 3);
    memset(buf + 36, ')', 33);
    assert_int_equal(rule_compile(f->syms, buf, 69, &r, &err), BT_EINVAL);
    assert_string_equal(err.message,
                        "rule is nested too deeply: at most 32 levels of parentheses and 'not'");
    assert_int_equal(err.offset, 32); /* the 33rd '(' */
    /* `not` and parentheses add up */
    n = 0;
    for (int i = 0; i < 16; i++)
        n += (size_t)sprintf(buf + n, "not (");
    n += (size_t)sprintf(buf + n, "not fit");
    for (int i = 0; i < 16; i++)
        buf[n++] = ')';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);
    assert_int_equal(err.offset, 16 * 5);
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)sprintf(buf + n, "not ");
    n += (size_t)sprintf(buf + n, "fit");
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);
    assert_int_equal(err.offset, 32 * 4);

    /* lists: 256 values are fine, 257 are not */
    n = (size_t)sprintf(buf, "employees in [");
    for (int i = 0; i < 256; i++)
        n += (size_t)sprintf(buf + n, "%d,", i * 2);
    buf[n++] = ']';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_OK);
    fill(f, JANE);
    assert_true(rule_eval(r, f->slots, f->scratch)); /* 250 is in */
    rule_free(r);
    n = (size_t)sprintf(buf, "employees in [");
    size_t at = 0;
    for (int i = 0; i < 257; i++) {
        at = n;
        n += (size_t)sprintf(buf + n, "%d,", i);
    }
    buf[n++] = ']';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);
    assert_string_equal(err.message, "too many values in the list (at most 256)");
    assert_int_equal(err.offset, at);

    /* regular expressions: at most 1024 bytes of pattern */
    n = (size_t)sprintf(buf, "title matches \"");
    memset(buf + n, 'a', 1025);
    n += 1025;
    buf[n++] = '"';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_EINVAL);
    assert_string_equal(err.message, "regular expression is too long (1025 bytes; at most 1024)");
    assert_int_equal(err.offset, 14);
    n -= 2;
    buf[n++] = '"';
    assert_int_equal(rule_compile(f->syms, buf, n, &r, &err), BT_OK);
    rule_free(r);
    free(buf);
}

/* ---- symbol table ---- */

static void test_symtab(void **state)
{
    struct fixture *f = *state;
    struct rule *a, *b, *c;
    struct rule_error err;
    assert_int_equal(rule_symtab_count(f->syms), 0);
    assert_int_equal(rule_symtab_find(f->syms, "country"), -1);
    assert_int_equal(rule_compile(f->syms, "country == \"DE\" and employees > 5",
                                  strlen("country == \"DE\" and employees > 5"), &a, &err),
                     BT_OK);
    assert_int_equal(rule_compile(f->syms, "employees < 1000 or fields.x exists",
                                  strlen("employees < 1000 or fields.x exists"), &b, &err),
                     BT_OK);
    assert_int_equal(rule_symtab_count(f->syms), 3);
    assert_int_equal(rule_symtab_find(f->syms, "country"), 0);
    assert_int_equal(rule_symtab_find(f->syms, "employees"), 1);
    assert_int_equal(rule_symtab_find(f->syms, "fields.x"), 2);
    assert_string_equal(rule_symtab_path(f->syms, 1), "employees");
    assert_null(rule_symtab_path(f->syms, 3));

    /* a failed compile leaves no slots behind */
    assert_int_equal(rule_compile(f->syms, "title == \"x\" and bogus == 1",
                                  strlen("title == \"x\" and bogus == 1"), &c, &err),
                     BT_EINVAL);
    assert_int_equal(err.offset, 17);
    assert_string_equal(err.message, "unknown field 'bogus'");
    assert_int_equal(rule_symtab_find(f->syms, "title"), -1);
    assert_int_equal(
        rule_compile(f->syms, "title == \"x\" and (", strlen("title == \"x\" and ("), &c, &err),
        BT_EINVAL);
    assert_int_equal(rule_symtab_count(f->syms), 3);

    /* both rules read the shared employees slot */
    struct rule_value slots[3] = {{0}};
    rule_value_string(&slots[0], "DE", "de", 2);
    rule_value_number(&slots[1], 10);
    assert_true(rule_eval(a, slots, f->scratch));
    assert_true(rule_eval(b, slots, f->scratch));
    rule_value_number(&slots[1], 5000);
    assert_true(rule_eval(a, slots, f->scratch));
    assert_false(rule_eval(b, slots, f->scratch));
    rule_free(a);
    rule_free(b);

    /* without a schema, every path is accepted */
    struct rule_symtab *open = rule_symtab_new(NULL);
    assert_int_equal(
        rule_compile(open, "anything.at-all == 1", strlen("anything.at-all == 1"), &a, &err),
        BT_OK);
    assert_int_equal(rule_symtab_find(open, "anything.at-all"), 0);
    rule_free(a);
    rule_symtab_free(open);
}

/* Many rules over one table, evaluated against two leads. */
static void test_many_rules(void **state)
{
    static const struct {
        const char *text;
        bool on_jane, on_nobody;
    } rows[] = {
        {"employees >= 200 and country in [\"DE\", \"AT\", \"CH\"]", true, false},
        {"title contains \"vp\" or title matches \"^(chief|head) \"", true, false},
        {"not email.free and fields.budget >= 10000", true, false},
        {"activity.demo_request.count > 0 and company == case \"ACME GmbH\"", true, false},
        {"fields.partner exists", false, false},
        {"not fields.partner exists", true, true},
        {"not (country == \"US\")", true, true},
        {"activity.demo_request.last_days <= 7", true, false},
        {"activity.webinar.count > 0", false, false},
        {"employees_band in [\"201-500\", \"501-1000\"] and score > 40", true, false},
        {"industry != \"Retail\"", false, false},
        {"not industry in [\"Retail\", \"Gov\"]", true, true},
        {"stage == \"new\" and (grade == \"A\" or fit)", true, false},
        {"email.domain ends_with \".com\" and not email.free", true, false},
        {"phone matches \"^\\\\+49\"", true, false},
        {"first_name exists or company exists", true, false},
        {"source in [\"webinar\", \"ads\"] or score >= 42.5", true, false},
    };
    struct fixture *f = *state;
    struct rule *rules[sizeof(rows) / sizeof(rows[0])];
    size_t n = sizeof(rows) / sizeof(rows[0]);
    for (size_t i = 0; i < n; i++)
        rules[i] = compile_ok(f, rows[i].text);
    for (int round = 0; round < 2; round++) {
        const struct field *lead = round ? nobody : jane;
        fill(f, lead, round ? 1 : sizeof(jane) / sizeof(jane[0]));
        for (size_t i = 0; i < n; i++) {
            bool want = round ? rows[i].on_nobody : rows[i].on_jane;
            if (rule_eval(rules[i], f->slots, f->scratch) != want)
                fail_msg("'%s' on %s: expected %d", rows[i].text, round ? "nobody" : "jane", want);
        }
    }
    for (size_t i = 0; i < n; i++)
        rule_free(rules[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_comparisons_on_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_keyword, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparisons_on_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_like_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparisons_on_bools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keywords_any_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicode_and_escapes, setup, teardown),
        cmocka_unit_test(test_value_string_numbers),
        cmocka_unit_test_setup_teardown(test_scratch_and_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex_match_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compile_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex_error_offset_with_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symtab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rules, setup, teardown),
    };
    return cmocka_run_group_tests_name("rule", tests, NULL, NULL);
}
