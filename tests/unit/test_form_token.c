/*
 * test_form_token.c - the fill-time token of embedded forms: a round trip,
 * the min and max fill-time boundaries to the millisecond, a token of
 * another form, key or generation refused, every one-character change
 * refused, and non-canonical or truncated text refused by the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/form_token.h"

#include <string.h>

#define ISSUED 1795000000000LL
#define MIN_MS 3000
#define MAX_MS 86400000

static void key_of(const char *secret, uint8_t key[FORM_TOKEN_KEY_BYTES])
{
    form_token_key((const uint8_t *)secret, strlen(secret), key);
}

static enum form_token_verdict check_text(const char *text, const uint8_t *key, const char *form,
                                          int64_t now)
{
    struct form_token t;
    if (!form_token_parse(text, strlen(text), &t))
        return FORM_TOKEN_MALFORMED;
    return form_token_check(&t, key, form, now, MIN_MS, MAX_MS);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t key[FORM_TOKEN_KEY_BYTES];
    key_of("secret one", key);
    char text[FORM_TOKEN_TEXT_MAX + 1];
    size_t len = form_token_make(key, 7, "demo", ISSUED, text);
    assert_int_equal(len, strlen(text));
    assert_true(len <= FORM_TOKEN_TEXT_MAX);
    assert_int_equal(strncmp(text, "7.1795000000000.", 16), 0);
    struct form_token t;
    assert_true(form_token_parse(text, len, &t));
    assert_int_equal(t.generation, 7);
    assert_int_equal(t.issued_at, ISSUED);
    assert_int_equal(check_text(text, key, "demo", ISSUED + 5000), FORM_TOKEN_OK);
}

static void test_fill_time_boundaries(void **state)
{
    (void)state;
    uint8_t key[FORM_TOKEN_KEY_BYTES];
    key_of("secret one", key);
    char text[FORM_TOKEN_TEXT_MAX + 1];
    form_token_make(key, 1, "demo", ISSUED, text);
    assert_int_equal(check_text(text, key, "demo", ISSUED), FORM_TOKEN_TOO_FAST);
    assert_int_equal(check_text(text, key, "demo", ISSUED + MIN_MS - 1), FORM_TOKEN_TOO_FAST);
    assert_int_equal(check_text(text, key, "demo", ISSUED + MIN_MS), FORM_TOKEN_OK);
    assert_int_equal(check_text(text, key, "demo", ISSUED + MAX_MS), FORM_TOKEN_OK);
    assert_int_equal(check_text(text, key, "demo", ISSUED + MAX_MS + 1), FORM_TOKEN_EXPIRED);
    /* issued in the future (a clock stepped back): too fast, never ok */
    assert_int_equal(check_text(text, key, "demo", ISSUED - 60000), FORM_TOKEN_TOO_FAST);
}

static void test_other_form_key_generation(void **state)
{
    (void)state;
    uint8_t key[FORM_TOKEN_KEY_BYTES], other[FORM_TOKEN_KEY_BYTES];
    key_of("secret one", key);
    key_of("secret two", other);
    char text[FORM_TOKEN_TEXT_MAX + 1];
    form_token_make(key, 1, "demo", ISSUED, text);
    assert_int_equal(check_text(text, key, "demo2", ISSUED + 5000), FORM_TOKEN_FORGED);
    assert_int_equal(check_text(text, other, "demo", ISSUED + 5000), FORM_TOKEN_FORGED);
    /* the same MAC under another generation or time does not verify */
    char moved[FORM_TOKEN_TEXT_MAX + 1];
    memcpy(moved, text, sizeof(moved));
    moved[0] = '2';
    assert_int_equal(check_text(moved, key, "demo", ISSUED + 5000), FORM_TOKEN_FORGED);
    /* the key differs from the raw secret: a token signed with the secret
     * itself (as a link is) does not pass */
    uint8_t raw[FORM_TOKEN_KEY_BYTES] = {0};
    memcpy(raw, "secret one", 10);
    assert_int_equal(check_text(text, raw, "demo", ISSUED + 5000), FORM_TOKEN_FORGED);
}

static void test_every_change_refused(void **state)
{
    (void)state;
    uint8_t key[FORM_TOKEN_KEY_BYTES];
    key_of("secret one", key);
    char text[FORM_TOKEN_TEXT_MAX + 1];
    size_t len = form_token_make(key, 3, "demo", ISSUED, text);
    static const char alphabet[] = "0123456789abcdefABCDEF.x";
    for (size_t i = 0; i < len; i++) {
        for (const char *c = alphabet; *c; c++) {
            if (*c == text[i])
                continue;
            char copy[FORM_TOKEN_TEXT_MAX + 1];
            memcpy(copy, text, len + 1);
            copy[i] = *c;
            enum form_token_verdict v = check_text(copy, key, "demo", ISSUED + 60000);
            assert_true(v == FORM_TOKEN_MALFORMED || v == FORM_TOKEN_FORGED ||
                        v == FORM_TOKEN_TOO_FAST || v == FORM_TOKEN_EXPIRED);
            /* a changed issued time may move the age out of range, but never verifies */
            assert_int_not_equal(v, FORM_TOKEN_OK);
        }
    }
}

static void test_parser_is_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        ".",
        "..",
        "1.1795000000000.",
        "1.1795000000000.0123456789abcdef0123456789abcde",   /* 31 digits */
        "1.1795000000000.0123456789abcdef0123456789abcdef0", /* 33 */
        "1.1795000000000.0123456789ABCDEF0123456789abcdef",  /* upper case */
        "01.1795000000000.0123456789abcdef0123456789abcdef", /* leading zero */
        "1.01795000000000.0123456789abcdef0123456789abcdef",
        "0.1795000000000.0123456789abcdef0123456789abcdef", /* generation 0 */
        "1.0.0123456789abcdef0123456789abcdef",             /* time 0 */
        "4294967296.1795000000000.0123456789abcdef0123456789abcdef",
        "1.253402300800000.0123456789abcdef0123456789abcdef", /* past year 9999 */
        "-1.1795000000000.0123456789abcdef0123456789abcdef",
        "1.+1795000000000.0123456789abcdef0123456789abcdef",
        "1.1795000000000.0123456789abcdef0123456789abcdef.",
        " 1.1795000000000.0123456789abcdef0123456789abcdef",
    };
    struct form_token t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(form_token_parse(bad[i], strlen(bad[i]), &t));
    assert_true(
        form_token_parse("4294967295.253402300799999.0123456789abcdef0123456789abcdef", 59, &t));
    assert_int_equal(t.generation, 4294967295u);
    /* the length counts: a valid token cut short, or read past its end, fails */
    const char *ok = "1.1795000000000.0123456789abcdef0123456789abcdef";
    assert_true(form_token_parse(ok, strlen(ok), &t));
    assert_false(form_token_parse(ok, strlen(ok) - 1, &t));
    assert_false(form_token_parse(NULL, 0, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fill_time_boundaries),
        cmocka_unit_test(test_other_form_key_generation),
        cmocka_unit_test(test_every_change_refused),
        cmocka_unit_test(test_parser_is_strict),
    };
    return cmocka_run_group_tests_name("form_token", tests, NULL, NULL);
}
