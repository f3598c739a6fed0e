/*
 * test_cors.c - the CORS rules of the intake endpoints (server/cors.h):
 * which origins are allowed, same-origin or refused, and what a preflight
 * may ask for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/cors.h"

#include <string.h>

static const char *const allowed[] = {"https://www.example.com", "http://127.0.0.1:8000"};
#define N_ALLOWED 2

static enum cors_origin classify(const char *origin, const char *public_url)
{
    return cors_classify(origin, public_url, allowed, N_ALLOWED);
}

static void test_origins(void **state)
{
    (void)state;
    assert_int_equal(classify(NULL, NULL), CORS_NO_ORIGIN);
    assert_int_equal(classify("https://www.example.com", NULL), CORS_ALLOWED);
    assert_int_equal(classify("HTTPS://WWW.EXAMPLE.COM", NULL), CORS_ALLOWED);
    assert_int_equal(classify("http://127.0.0.1:8000", NULL), CORS_ALLOWED);
    /* exact: no other scheme, port, subdomain, suffix or path */
    assert_int_equal(classify("http://www.example.com", NULL), CORS_REFUSED);
    assert_int_equal(classify("https://www.example.com:8443", NULL), CORS_REFUSED);
    assert_int_equal(classify("https://evil.www.example.com", NULL), CORS_REFUSED);
    assert_int_equal(classify("https://www.example.com.evil.net", NULL), CORS_REFUSED);
    assert_int_equal(classify("https://www.example.com/", NULL), CORS_REFUSED);
    assert_int_equal(classify("http://127.0.0.1:8001", NULL), CORS_REFUSED);
    assert_int_equal(classify("null", NULL), CORS_REFUSED);
    assert_int_equal(classify("", NULL), CORS_REFUSED);
    assert_int_equal(classify("*", NULL), CORS_REFUSED);
    /* Baton's own origin, with or without a path in public_url */
    assert_int_equal(classify("https://baton.example.com", "https://baton.example.com"),
                     CORS_SAME_ORIGIN);
    assert_int_equal(classify("https://baton.example.com", "https://baton.example.com/baton"),
                     CORS_SAME_ORIGIN);
    assert_int_equal(classify("https://baton.example.co", "https://baton.example.com"),
                     CORS_REFUSED);
    assert_int_equal(classify("https://baton.example.com:1", "https://baton.example.com"),
                     CORS_REFUSED);
    /* nothing allowed: every origin refused */
    assert_int_equal(cors_classify("https://www.example.com", NULL, NULL, 0), CORS_REFUSED);
    char huge[CORS_ORIGIN_MAX + 2];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(classify(huge, NULL), CORS_REFUSED);
}

static bool preflight(const char *method, const char *headers, const char **field)
{
    char why[200];
    *field = NULL;
    return cors_preflight_ok("POST", method, headers, why, sizeof(why), field);
}

static void test_preflight(void **state)
{
    (void)state;
    const char *field;
    assert_true(preflight("POST", NULL, &field));
    assert_true(preflight("POST", "", &field));
    assert_true(preflight("POST", "content-type", &field));
    assert_true(preflight("POST", "Content-Type, Authorization, Idempotency-Key", &field));
    assert_true(preflight("POST", "content-type,idempotency-key", &field));
    assert_true(preflight("POST", " authorization ,, content-type ", &field));
    assert_false(preflight("GET", "content-type", &field));
    assert_string_equal(field, "Access-Control-Request-Method");
    assert_false(preflight("post", NULL, &field)); /* methods are case-sensitive */
    assert_false(preflight(NULL, NULL, &field));
    assert_false(preflight("POST", "content-type, x-api-key", &field));
    assert_string_equal(field, "Access-Control-Request-Headers");
    assert_false(preflight("POST", "cookie", &field));
    assert_false(preflight("POST", "content-typex", &field));
    assert_false(preflight("POST", "content", &field));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origins),
        cmocka_unit_test(test_preflight),
    };
    return cmocka_run_group_tests_name("cors", tests, NULL, NULL);
}
