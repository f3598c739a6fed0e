/*
 * test_ui_session.c - the dashboard's session table: a session is found by
 * its token (and only by it) until it expires, holds the key's hash and its
 * own CSRF token, ends when removed, and a full table drops the session
 * nearest its expiry; CSRF tokens compare whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/ui_session.h"

#include <stdio.h>
#include <string.h>

static const char *KEY_HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_found_until_it_expires(void **state)
{
    (void)state;
    struct ui_sessions *s = ui_sessions_new();
    char token[UI_SESSION_TOKEN_LEN + 1], csrf[UI_SESSION_CSRF_LEN + 1];
    ui_sessions_create(s, KEY_HASH, 1000, token, csrf);
    assert_int_equal(strlen(token), UI_SESSION_TOKEN_LEN);
    assert_int_equal(strlen(csrf), UI_SESSION_CSRF_LEN);
    assert_string_not_equal(token, csrf);

    char hash[UI_SESSION_PRINCIPAL_MAX + 1], got_csrf[UI_SESSION_CSRF_LEN + 1];
    assert_true(ui_sessions_find(s, token, 1000 + UI_SESSION_TTL_MS - 1, hash, got_csrf));
    assert_string_equal(hash, KEY_HASH);
    assert_string_equal(got_csrf, csrf);
    assert_false(ui_sessions_find(s, token, 1000 + UI_SESSION_TTL_MS, hash, got_csrf));
    /* an expired session is gone, even for an earlier clock */
    assert_false(ui_sessions_find(s, token, 1000, hash, got_csrf));
    ui_sessions_free(s);
    ui_sessions_free(NULL);
}

static void test_only_its_token_finds_it(void **state)
{
    (void)state;
    struct ui_sessions *s = ui_sessions_new();
    char token[UI_SESSION_TOKEN_LEN + 1], csrf[UI_SESSION_CSRF_LEN + 1];
    ui_sessions_create(s, KEY_HASH, 0, token, csrf);
    char hash[UI_SESSION_PRINCIPAL_MAX + 1], c[UI_SESSION_CSRF_LEN + 1];
    char other[UI_SESSION_TOKEN_LEN + 1];
    memcpy(other, token, sizeof(other));
    other[0] = other[0] == 'a' ? 'b' : 'a';
    assert_false(ui_sessions_find(s, other, 1, hash, c));
    assert_false(ui_sessions_find(s, csrf, 1, hash, c)); /* the CSRF token is no cookie */
    assert_false(ui_sessions_find(s, "", 1, hash, c));
    assert_false(ui_sessions_find(s, NULL, 1, hash, c));
    char upper[UI_SESSION_TOKEN_LEN + 1];
    for (size_t i = 0; i <= UI_SESSION_TOKEN_LEN; i++)
        upper[i] = (char)(token[i] >= 'a' && token[i] <= 'f' ? token[i] - 32 : token[i]);
    if (strcmp(upper, token) != 0)
        assert_false(ui_sessions_find(s, upper, 1, hash, c));
    assert_true(ui_sessions_find(s, token, 1, hash, c));
    ui_sessions_remove(s, token);
    assert_false(ui_sessions_find(s, token, 1, hash, c));
    ui_sessions_free(s);
}

static void test_full_table_drops_the_oldest(void **state)
{
    (void)state;
    struct ui_sessions *s = ui_sessions_new();
    static char tokens[UI_SESSIONS_MAX + 1][UI_SESSION_TOKEN_LEN + 1];
    char csrf[UI_SESSION_CSRF_LEN + 1];
    for (int i = 0; i <= UI_SESSIONS_MAX; i++)
        ui_sessions_create(s, KEY_HASH, i, tokens[i], csrf);
    char hash[UI_SESSION_PRINCIPAL_MAX + 1], c[UI_SESSION_CSRF_LEN + 1];
    int64_t now = UI_SESSIONS_MAX + 1;
    assert_false(ui_sessions_find(s, tokens[0], now, hash, c));
    for (int i = 1; i <= UI_SESSIONS_MAX; i++)
        assert_true(ui_sessions_find(s, tokens[i], now, hash, c));
    ui_sessions_free(s);
}

/* A session may stand for a link's rep: its principal comes back whole. */
static void test_keeps_a_link_principal(void **state)
{
    (void)state;
    struct ui_sessions *s = ui_sessions_new();
    char token[UI_SESSION_TOKEN_LEN + 1], csrf[UI_SESSION_CSRF_LEN + 1];
    char longest[UI_SESSION_PRINCIPAL_MAX + 1];
    snprintf(longest, sizeof(longest), "link:4294967295:%064d", 0);
    assert_int_equal(strlen(longest), UI_SESSION_PRINCIPAL_MAX);
    ui_sessions_create(s, longest, 0, token, csrf);
    char got[UI_SESSION_PRINCIPAL_MAX + 1], c[UI_SESSION_CSRF_LEN + 1];
    assert_true(ui_sessions_find(s, token, 1, got, c));
    assert_string_equal(got, longest);
    ui_sessions_create(s, "link:2:ana", 0, token, csrf);
    assert_true(ui_sessions_find(s, token, 1, got, c));
    assert_string_equal(got, "link:2:ana");
    ui_sessions_free(s);
}

static void test_csrf_compares_whole(void **state)
{
    (void)state;
    const char *csrf = KEY_HASH;
    assert_true(ui_sessions_csrf_ok(csrf, KEY_HASH));
    assert_false(ui_sessions_csrf_ok(csrf, NULL));
    assert_false(ui_sessions_csrf_ok(csrf, ""));
    assert_false(ui_sessions_csrf_ok(csrf, "0123456789abcdef"));
    char longer[UI_SESSION_CSRF_LEN + 2];
    snprintf(longer, sizeof(longer), "%sx", KEY_HASH);
    assert_false(ui_sessions_csrf_ok(csrf, longer));
    char wrong[UI_SESSION_CSRF_LEN + 1];
    memcpy(wrong, KEY_HASH, sizeof(wrong));
    wrong[UI_SESSION_CSRF_LEN - 1] = 'e';
    assert_false(ui_sessions_csrf_ok(csrf, wrong));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_until_it_expires),
        cmocka_unit_test(test_only_its_token_finds_it),
        cmocka_unit_test(test_full_table_drops_the_oldest),
        cmocka_unit_test(test_keeps_a_link_principal),
        cmocka_unit_test(test_csrf_compares_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
