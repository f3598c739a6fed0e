/*
 * test_util.c - arena bounds, UTF-8 validation, RFC 3339 round trips and the
 * civil calendar, SHA-256, HMAC-SHA256 (RFC 4231 vectors), the constant-time
 * comparison, random tokens, and base64 (RFC 4648 vectors, strict decoding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/arena.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

static void test_arena_strings_and_limit(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    a.limit = 10000;
    char *s = arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    assert_string_equal(arena_printf(&a, "%d-%s", 42, "x"), "42-x");
    assert_null(arena_strdup(&a, NULL));
    /* zeroed memory */
    unsigned char *p = arena_alloc(&a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    /* past the limit: NULL, and the arena is still usable */
    assert_null(arena_alloc(&a, 20000));
    assert_non_null(arena_alloc(&a, 100));
    arena_release(&a);
    assert_int_equal(a.used, 0);
    /* reuse after release (the limit stays), with growth over many blocks */
    for (int i = 0; i < 600; i++)
        assert_non_null(arena_alloc(&a, 7)); /* 16 bytes each once aligned */
    assert_null(arena_alloc(&a, 1000));
    arena_release(&a);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(utf8_valid("plain", 5));
    assert_true(utf8_valid("M\xc3\xbcller", 7));     /* ü */
    assert_true(utf8_valid("\xe2\x82\xac", 3));      /* € */
    assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));  /* emoji */
    assert_false(utf8_valid("\xff", 1));             /* never valid */
    assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(utf8_valid("\xc3", 1));             /* truncated */
    assert_false(utf8_valid("\xe2\x82", 2));         /* truncated */
    assert_false(utf8_valid("a\x80"
                            "b",
                            3)); /* stray continuation */
    assert_true(text_has_control("a\x01"));
    assert_true(text_has_control("a\x7f"));
    assert_false(text_has_control("tab\tnew\nline\r"));
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[RFC3339_MAX];
    time_format_rfc3339(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    time_format_rfc3339(1795253400123LL, buf);
    assert_string_equal(buf, "2026-11-21T09:30:00.123Z");
    time_format_rfc3339(951782400000LL, buf); /* leap day 2000 */
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
    time_format_rfc3339(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");

    int64_t ms;
    assert_true(time_parse_rfc3339("2026-11-21T09:30:00.123Z", &ms));
    assert_int_equal(ms, 1795253400123LL);
    assert_true(time_parse_rfc3339("2026-11-21T10:30:00+01:00", &ms));
    assert_int_equal(ms, 1795253400000LL);
    assert_true(time_parse_rfc3339("2026-11-21T04:00:00-05:30", &ms));
    assert_int_equal(ms, 1795253400000LL);
    assert_true(time_parse_rfc3339("2026-11-21t09:30:00.1z", &ms));
    assert_int_equal(ms, 1795253400100LL);
    assert_false(time_parse_rfc3339("2026-11-21", &ms));
    assert_false(time_parse_rfc3339("2026-02-30T00:00:00Z", &ms));
    assert_false(time_parse_rfc3339("2025-02-29T00:00:00Z", &ms));
    assert_true(time_parse_rfc3339("2024-02-29T00:00:00Z", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T24:00:00Z", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T09:30:00", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T09:30:00.Z", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T09:30:00Zjunk", &ms));

    /* a leap second is refused, not stored as :59 (another instant) */
    ms = 42;
    assert_false(time_parse_rfc3339("2016-12-31T23:59:60Z", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T00:00:60Z", &ms));
    assert_false(time_parse_rfc3339("2026-11-21T00:00:60.500+01:00", &ms));
    assert_int_equal(ms, 42); /* untouched on failure */
    assert_true(time_parse_rfc3339("2026-11-21T00:00:59.999Z", &ms));
    assert_int_equal(ms, 1795219259999LL);

    /* the range Baton can write back: years 0000 to 9999, offsets applied */
    assert_true(time_parse_rfc3339("9999-12-31T23:59:59.999Z", &ms));
    assert_int_equal(ms, TIME_MAX_MS);
    time_format_rfc3339(ms, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    assert_false(time_parse_rfc3339("9999-12-31T23:30:00-01:00", &ms));
    assert_true(time_parse_rfc3339("0000-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, TIME_MIN_MS);
    time_format_rfc3339(ms, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    assert_false(time_parse_rfc3339("0000-01-01T00:30:00+01:00", &ms));

    /* civil calendar round trip over four centuries, day by day */
    for (int64_t d = -146097; d < 146097; d += 13) {
        int64_t y;
        unsigned m, dd;
        time_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(time_days_from_civil(y, m, dd), d);
    }
}

static void test_manual_clock(void **state)
{
    (void)state;
    struct clock c;
    clock_manual_init(&c, 1000);
    assert_int_equal(clock_now(&c), 1000);
    clock_manual_set(&c, 5000);
    assert_int_equal(clock_now(&c), 5000);
    assert_true(clock_now(clock_real()) > 1700000000000LL);
}

static void test_crypto(void **state)
{
    (void)state;
    char hex[SHA256_HEX_LEN + 1];
    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char a[80], b[80];
    crypto_random_token("bt_", 32, a, sizeof(a));
    crypto_random_token("bt_", 32, b, sizeof(b));
    assert_int_equal(strlen(a), 3 + 64);
    assert_memory_equal(a, "bt_", 3);
    assert_string_not_equal(a, b);
    assert_true(crypto_random_u64() != crypto_random_u64());
}

static const char *hmac_hex(const void *key, size_t keylen, const char *data)
{
    static char hex[2 * CRYPTO_HMAC_SHA256_LEN + 1];
    uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
    crypto_hmac_sha256(key, keylen, data, strlen(data), mac);
    for (size_t i = 0; i < sizeof(mac); i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return hex;
}

static void test_hmac(void **state)
{
    (void)state;
    /* RFC 4231, test cases 1, 2 and 6 (a key longer than the block) */
    uint8_t key1[20], key6[131];
    memset(key1, 0x0b, sizeof(key1));
    memset(key6, 0xaa, sizeof(key6));
    assert_string_equal(hmac_hex(key1, sizeof(key1), "Hi There"),
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_string_equal(hmac_hex("Jefe", 4, "what do ya want for nothing?"),
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_string_equal(
        hmac_hex(key6, sizeof(key6), "Test Using Larger Than Block-Size Key - Hash Key First"),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* empty key and message, NULL pointers allowed (openssl dgst -hmac '') */
    uint8_t mac[CRYPTO_HMAC_SHA256_LEN];
    assert_string_equal(hmac_hex(NULL, 0, ""),
                        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    crypto_hmac_sha256(NULL, 0, NULL, 0, mac);
    assert_int_equal(mac[0], 0xb6);
    assert_int_equal(mac[31], 0xad);
}

static void test_hmac_parts(void **state)
{
    (void)state;
    /* RFC 4231 test case 2 in pieces, empty pieces included */
    struct crypto_slice parts[] = {
        {"what do ya", 10}, {NULL, 0}, {" want for ", 10}, {"nothing?", 8}};
    uint8_t whole[CRYPTO_HMAC_SHA256_LEN], pieces[CRYPTO_HMAC_SHA256_LEN];
    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, whole);
    crypto_hmac_sha256_parts("Jefe", 4, parts, 4, pieces);
    assert_memory_equal(whole, pieces, sizeof(whole));
    assert_int_equal(pieces[0], 0x5b);
    /* no parts at all: the MAC of the empty message, empty key too */
    crypto_hmac_sha256_parts(NULL, 0, NULL, 0, pieces);
    crypto_hmac_sha256(NULL, 0, NULL, 0, whole);
    assert_memory_equal(whole, pieces, sizeof(whole));
}

static bt_err b64_decode(const char *text, char *out, size_t outsz, size_t *n)
{
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = crypto_base64_decode(text, strlen(text), (uint8_t *)out, outsz, n, &err);
    if (rc)
        assert_true(err.message[0] != '\0');
    return rc;
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    static const char *const vectors[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *plain = vectors[i][0], *text = vectors[i][1];
        char enc[16], dec[16];
        size_t n = 99;
        assert_int_equal(crypto_base64_encode(plain, strlen(plain), enc, sizeof(enc)),
                         strlen(text));
        assert_string_equal(enc, text);
        assert_int_equal(b64_decode(text, dec, sizeof(dec), &n), BT_OK);
        assert_int_equal(n, strlen(plain));
        assert_memory_equal(dec, plain, n);
        /* exactly the room it needs is enough, one byte less is not */
        assert_int_equal(b64_decode(text, dec, strlen(plain), &n), BT_OK);
        if (plain[0]) {
            assert_int_equal(b64_decode(text, dec, strlen(plain) - 1, &n), BT_ETOOBIG);
            assert_int_equal(n, 0);
        }
    }
    assert_int_equal(CRYPTO_BASE64_LEN(32), 44);
    assert_int_equal(CRYPTO_BASE64_DECODED_MAX(44), 33);

    /* every byte value, both alphabet extras, and the room limit honoured:
     * the padding bytes libcrypto writes never land past outsz */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char text[CRYPTO_BASE64_LEN(256) + 1];
    assert_int_equal(crypto_base64_encode(all, sizeof(all), text, sizeof(text)), 344);
    assert_non_null(strchr(text, '+'));
    assert_non_null(strchr(text, '/'));
    char back[257];
    memset(back, 'X', sizeof(back));
    size_t n = 0;
    assert_int_equal(b64_decode(text, back, 256, &n), BT_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(back, all, 256);
    assert_int_equal(back[256], 'X');

    /* refused: whitespace anywhere, wrong lengths, padding out of place,
     * base64url, bytes outside the alphabet, spare bits set */
    static const char *const bad[] = {
        "Zg",       "Zg=",      "Zm9",  "Zm9vY", "Zg== ", " Zg==",    "Zm9v\n", "Zm 9v",
        "Zm9v\r\n", "\tZm9v",   "=Zg=", "Z===",  "====",  "Zg==Zg==", "Zm=v",   "Zm9-",
        "Zm9_",     "Zm9v\x80", "Zh==", "Zm9=",  "Zm8*",  "Zm9vYg=a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[16];
        n = 99;
        if (b64_decode(bad[i], out, sizeof(out), &n) != BT_EPARSE)
            fail_msg("\"%s\" was not refused", bad[i]);
        assert_int_equal(n, 0);
    }
    /* a NUL inside the counted length is not skipped */
    uint8_t out[8];
    assert_int_equal(crypto_base64_decode("Zm\0v", 4, out, sizeof(out), &n, NULL), BT_EPARSE);
}

static void test_constant_time_equal(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_true(crypto_equal(a, b, sizeof(a)));
    assert_true(crypto_equal(a, b, 0));
    assert_true(crypto_equal(NULL, NULL, 0));
    for (size_t i = 0; i < sizeof(a); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            if (crypto_equal(a, b, sizeof(a)))
                fail_msg("a flip of bit %u of byte %zu went unseen", bit, i);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(crypto_equal(a, b, sizeof(a)));
}

static void test_errors(void **state)
{
    (void)state;
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(bt_fail(&e, BT_EINVAL, "email", "bad %s", "address"), BT_EINVAL);
    assert_string_equal(e.message, "bad address");
    assert_string_equal(e.field, "email");
    bt_error_prefix(&e, "%s: ", "file.yaml");
    assert_string_equal(e.message, "file.yaml: bad address");
    assert_int_equal(bt_fail(NULL, BT_ENOTFOUND, NULL, "x"), BT_ENOTFOUND);
    assert_string_equal(bt_strerror(BT_ENOTFOUND), "not_found");
    assert_string_equal(bt_strerror(BT_ERATELIMIT), "rate_limited");
    assert_int_equal(bt_http_status(BT_ERATELIMIT), 429);
    assert_string_equal(bt_strerror(BT_EEXPIRED), "expired");
    assert_int_equal(bt_http_status(BT_EEXPIRED), 410);
    /* every code has a name and a status */
    for (int c = 0; c < BT_ERR_COUNT; c++) {
        assert_non_null(bt_strerror((bt_err)c));
        assert_true(bt_http_status((bt_err)c) >= 400);
    }
    assert_string_equal(bt_strerror(BT_ERR_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_strings_and_limit),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_manual_clock),
        cmocka_unit_test(test_crypto),
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_hmac_parts),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_constant_time_equal),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
