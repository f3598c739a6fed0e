/*
 * test_webhook_sign.c - Standard Webhooks signatures: the specification's
 * test vector, signing with several secrets (rotation), and the spec
 * libraries' negative cases: missing headers, a wrong signature, a tampered
 * body, timestamps outside the tolerance, other schemes' entries only, one
 * matching entry among several; secrets with and without "whsec_" and bad
 * secrets refused; message ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "deliver/webhook_sign.h"

#include <stdio.h>
#include <string.h>

/* The specification libraries' shared test vector. */
#define SPEC_SECRET    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID        "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS        1614265330
#define SPEC_TS_TEXT   "1614265330"
#define SPEC_BODY      "{\"test\": 2432232314}"
#define SPEC_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static struct webhook_secret secret_of(const char *text)
{
    struct webhook_secret s;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = webhook_secret_parse(text, strlen(text), &s, &err);
    if (rc)
        fail_msg("secret %s: %s", text, err.message);
    return s;
}

/* webhook_verify of the spec's message with the given headers, at now_s,
 * with the spec's tolerance; returns the reason. */
static enum webhook_reject verify(const char *id, const char *ts, const char *sig, const char *body,
                                  const struct webhook_secret *secrets, size_t n, int64_t now_s)
{
    enum webhook_reject why = WEBHOOK_NO_MATCH;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = webhook_verify(id, ts, sig, body, strlen(body), secrets, n, now_s,
                               WEBHOOK_TOLERANCE_S, &why, &err);
    if (why == WEBHOOK_ACCEPTED) {
        assert_int_equal(rc, BT_OK);
    } else {
        assert_int_equal(rc, BT_EAUTH);
        assert_true(err.message[0] != '\0');
        assert_true(strncmp(err.field, "webhook-", 8) == 0);
    }
    return why;
}

static void test_spec_vector(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    assert_int_equal(s.len, 24);
    char header[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), &s, 1, header,
                                  sizeof(header), NULL),
                     BT_OK);
    assert_string_equal(header, SPEC_SIGNATURE);
    assert_int_equal(strlen(header), WEBHOOK_SIGNATURE_LEN);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
    /* reason may be NULL */
    assert_int_equal(webhook_verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY,
                                    strlen(SPEC_BODY), &s, 1, SPEC_TS, WEBHOOK_TOLERANCE_S, NULL,
                                    NULL),
                     BT_OK);
}

static void test_secret_without_prefix(void **state)
{
    (void)state;
    struct webhook_secret with = secret_of(SPEC_SECRET);
    struct webhook_secret without = secret_of(&SPEC_SECRET[6]);
    assert_int_equal(with.len, without.len);
    assert_memory_equal(with.key, without.key, with.len);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &without, 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
}

static void test_missing_headers(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    assert_int_equal(verify(NULL, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_ID);
    assert_int_equal(verify("", SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_ID);
    assert_int_equal(verify(SPEC_ID, NULL, SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_TIMESTAMP);
    assert_int_equal(verify(SPEC_ID, "", SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_TIMESTAMP);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, NULL, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_SIGNATURE);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, "", SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MISSING_SIGNATURE);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(webhook_verify(SPEC_ID, NULL, SPEC_SIGNATURE, SPEC_BODY, strlen(SPEC_BODY), &s,
                                    1, SPEC_TS, WEBHOOK_TOLERANCE_S, NULL, &err),
                     BT_EAUTH);
    assert_string_equal(err.field, "webhook-timestamp");
}

static void test_wrong_signature_and_tampering(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    /* one bit of the MAC changed ('g' -> 'h' in the first character) */
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT,
                            "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SPEC_BODY, &s, 1,
                            SPEC_TS),
                     WEBHOOK_NO_MATCH);
    /* a body, id or timestamp other than the signed one */
    assert_int_equal(
        verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, "{\"test\": 2432232315}", &s, 1, SPEC_TS),
        WEBHOOK_NO_MATCH);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, "", &s, 1, SPEC_TS),
                     WEBHOOK_NO_MATCH);
    assert_int_equal(verify("msg_p5jXN8AQM9LWM0D4loKWxJel", SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY,
                            &s, 1, SPEC_TS),
                     WEBHOOK_NO_MATCH);
    assert_int_equal(verify(SPEC_ID, "1614265331", SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_NO_MATCH);
    /* another secret */
    struct webhook_secret other;
    webhook_secret_generate(&other);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &other, 1, SPEC_TS),
                     WEBHOOK_NO_MATCH);
    /* garbage entries, a truncated MAC, a MAC with a byte too many, padding
     * moved, no version: skipped, so nothing matches */
    static const char *const junk[] = {
        "v1,",
        "v1",
        ",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AAAA",
        "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "    ",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        if (verify(SPEC_ID, SPEC_TS_TEXT, junk[i], SPEC_BODY, &s, 1, SPEC_TS) != WEBHOOK_NO_MATCH)
            fail_msg("signature \"%s\" was not refused", junk[i]);
    }
}

static void test_timestamp_tolerance(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    /* exactly the tolerance either way is accepted, one second more is not */
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1,
                            SPEC_TS + WEBHOOK_TOLERANCE_S),
                     WEBHOOK_ACCEPTED);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1,
                            SPEC_TS + WEBHOOK_TOLERANCE_S + 1),
                     WEBHOOK_TOO_OLD);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1,
                            SPEC_TS - WEBHOOK_TOLERANCE_S),
                     WEBHOOK_ACCEPTED);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, &s, 1,
                            SPEC_TS - WEBHOOK_TOLERANCE_S - 1),
                     WEBHOOK_TOO_NEW);
    /* far off either way, as the libraries test it (a signature made for
     * that timestamp, so only the timestamp is at fault) */
    char old_sig[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS - 3600, SPEC_BODY, strlen(SPEC_BODY), &s, 1,
                                  old_sig, sizeof(old_sig), NULL),
                     BT_OK);
    assert_int_equal(verify(SPEC_ID, "1614261730", old_sig, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_TOO_OLD);
    char new_sig[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS + 3600, SPEC_BODY, strlen(SPEC_BODY), &s, 1,
                                  new_sig, sizeof(new_sig), NULL),
                     BT_OK);
    assert_int_equal(verify(SPEC_ID, "1614268930", new_sig, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_TOO_NEW);
    /* the timestamp is checked before the signature */
    assert_int_equal(verify(SPEC_ID, "1614261730", "v1,bogus", SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_TOO_OLD);
    /* not canonical decimal digits */
    static const char *const bad[] = {"+1614265330", "-1614265330",        "01614265330",
                                      " 1614265330", "1614265330 ",        "1614265330.0",
                                      "16142653e3",  "1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (verify(SPEC_ID, bad[i], SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS) != WEBHOOK_MALFORMED)
            fail_msg("timestamp \"%s\" was not refused as malformed", bad[i]);
    }
    /* "0" is canonical: a timestamp far too old */
    assert_int_equal(verify(SPEC_ID, "0", SPEC_SIGNATURE, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_TOO_OLD);
}

static void test_other_versions_and_several_signatures(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    /* an asymmetric ("v1a") entry alone, even holding our MAC: ignored */
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT,
                            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SPEC_BODY, &s, 1,
                            SPEC_TS),
                     WEBHOOK_NO_MATCH);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT,
                            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SPEC_BODY, &s, 1,
                            SPEC_TS),
                     WEBHOOK_NO_MATCH);
    /* several entries, one of which matches, wherever it is */
    static const char *const lists[] = {
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/rKj8ixtFzYfS75RE= " SPEC_SIGNATURE,
        SPEC_SIGNATURE " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/rKj8ixtFzYfS75RE=",
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/"
        "enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " SPEC_SIGNATURE,
        "v1,garbage " SPEC_SIGNATURE " v9,whatever",
        "  " SPEC_SIGNATURE "  ",
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (verify(SPEC_ID, SPEC_TS_TEXT, lists[i], SPEC_BODY, &s, 1, SPEC_TS) != WEBHOOK_ACCEPTED)
            fail_msg("\"%s\" was refused", lists[i]);
    }
}

static void test_rotation(void **state)
{
    (void)state;
    struct webhook_secret secrets[2];
    secrets[0] = secret_of(SPEC_SECRET); /* the old one */
    webhook_secret_generate(&secrets[1]);
    char header[WEBHOOK_SIGNATURE_HEADER_LEN(2) + 1];
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), secrets, 2,
                                  header, sizeof(header), NULL),
                     BT_OK);
    assert_int_equal(strlen(header), 2 * WEBHOOK_SIGNATURE_LEN + 1);
    /* the old secret's signature first, unchanged, then the new one's */
    assert_memory_equal(header, SPEC_SIGNATURE " v1,", WEBHOOK_SIGNATURE_LEN + 4);
    /* a receiver with either secret, or both, accepts it */
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, header, SPEC_BODY, &secrets[0], 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, header, SPEC_BODY, &secrets[1], 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, header, SPEC_BODY, secrets, 2, SPEC_TS),
                     WEBHOOK_ACCEPTED);
    /* the new signature alone is checked by the new secret only */
    const char *second = header + WEBHOOK_SIGNATURE_LEN + 1;
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, second, SPEC_BODY, &secrets[0], 1, SPEC_TS),
                     WEBHOOK_NO_MATCH);
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, second, SPEC_BODY, &secrets[1], 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
    /* a receiver holding both verifies the spec's one-signature header */
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, SPEC_SIGNATURE, SPEC_BODY, secrets, 2, SPEC_TS),
                     WEBHOOK_ACCEPTED);
}

static void test_sign_refuses(void **state)
{
    (void)state;
    struct webhook_secret s = secret_of(SPEC_SECRET);
    char header[WEBHOOK_SIGNATURE_HEADER_LEN(WEBHOOK_SECRETS_MAX) + 1];
    struct bt_error err = BT_ERROR_INIT;
    char long_id[WEBHOOK_ID_MAX + 2];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    const char *bad_ids[] = {"", "msg.1", "msg 1", "msg\r\n1", "msg\x7f", "m\xc3\xa9", long_id};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        strcpy(header, "x");
        assert_int_equal(
            webhook_sign(bad_ids[i], SPEC_TS, "", 0, &s, 1, header, sizeof(header), &err),
            BT_EINVAL);
        assert_string_equal(err.field, "webhook-id");
        assert_string_equal(header, "");
    }
    assert_int_equal(webhook_sign(NULL, SPEC_TS, "", 0, &s, 1, header, sizeof(header), &err),
                     BT_EINVAL);
    long_id[WEBHOOK_ID_MAX] = '\0'; /* the longest id is fine */
    assert_int_equal(webhook_sign(long_id, SPEC_TS, "", 0, &s, 1, header, sizeof(header), &err),
                     BT_OK);
    assert_int_equal(verify(long_id, SPEC_TS_TEXT, header, "", &s, 1, SPEC_TS), WEBHOOK_ACCEPTED);
    long_id[WEBHOOK_ID_MAX] = 'a';
    assert_int_equal(verify(long_id, SPEC_TS_TEXT, header, "", &s, 1, SPEC_TS), WEBHOOK_MALFORMED);
    assert_int_equal(verify("msg.1", SPEC_TS_TEXT, header, "", &s, 1, SPEC_TS), WEBHOOK_MALFORMED);

    assert_int_equal(webhook_sign(SPEC_ID, -1, "", 0, &s, 1, header, sizeof(header), &err),
                     BT_EINVAL);
    assert_string_equal(err.field, "webhook-timestamp");
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, "", 0, &s, 0, header, sizeof(header), &err),
                     BT_EINVAL);
    struct webhook_secret many[WEBHOOK_SECRETS_MAX + 1];
    for (size_t i = 0; i < WEBHOOK_SECRETS_MAX + 1; i++)
        many[i] = s;
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, "", 0, many, WEBHOOK_SECRETS_MAX + 1, header,
                                  sizeof(header), &err),
                     BT_EINVAL);
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, "", 0, many, WEBHOOK_SECRETS_MAX, header,
                                  sizeof(header), &err),
                     BT_OK);
    assert_int_equal(strlen(header), WEBHOOK_SIGNATURE_HEADER_LEN(WEBHOOK_SECRETS_MAX));

    /* a signature header past the bound is refused before it is read */
    static char huge[WEBHOOK_SIGNATURE_HEADER_MAX + 2];
    memset(huge, ' ', sizeof(huge) - 1);
    memcpy(huge, SPEC_SIGNATURE, strlen(SPEC_SIGNATURE));
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, huge, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_MALFORMED);
    huge[WEBHOOK_SIGNATURE_HEADER_MAX] = '\0';
    assert_int_equal(verify(SPEC_ID, SPEC_TS_TEXT, huge, SPEC_BODY, &s, 1, SPEC_TS),
                     WEBHOOK_ACCEPTED);
}

static void test_binary_body(void **state)
{
    (void)state;
    /* the body is bytes: a NUL inside it is signed like any other byte */
    struct webhook_secret s = secret_of(SPEC_SECRET);
    const char body[] = "a\0b";
    char header[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
    assert_int_equal(webhook_sign(SPEC_ID, SPEC_TS, body, 3, &s, 1, header, sizeof(header), NULL),
                     BT_OK);
    assert_int_equal(webhook_verify(SPEC_ID, SPEC_TS_TEXT, header, body, 3, &s, 1, SPEC_TS,
                                    WEBHOOK_TOLERANCE_S, NULL, NULL),
                     BT_OK);
    assert_int_equal(webhook_verify(SPEC_ID, SPEC_TS_TEXT, header, body, 1, &s, 1, SPEC_TS,
                                    WEBHOOK_TOLERANCE_S, NULL, NULL),
                     BT_EAUTH);
}

static bt_err parse(const char *text, struct webhook_secret *s, struct bt_error *err)
{
    return webhook_secret_parse(text, strlen(text), s, err);
}

static void test_bad_secrets(void **state)
{
    (void)state;
    struct webhook_secret s;
    struct bt_error err = BT_ERROR_INIT;
    const char *bad[] = {
        "",                                       /* empty */
        "whsec_",                                 /* empty key */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",  /* not base64 (length) */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", /* not base64 (a byte) */
        "whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaS", /* whitespace */
        "whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw", /* base64url */
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAA=",     /* 20 bytes: too short */
        "whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&s, 0xaa, sizeof(s));
        err.field[0] = '\0';
        if (parse(bad[i], &s, &err) != BT_EINVAL)
            fail_msg("secret \"%s\" was not refused", bad[i]);
        assert_string_equal(err.field, "secret");
        assert_int_equal(s.len, 0);
        assert_int_equal(s.key[0], 0);
    }
    assert_int_equal(parse("whsec_", &s, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "empty"));
    /* the key's bounds: 64 bytes is fine, 65 is too long */
    char text[WEBHOOK_SECRET_TEXT_MAX + 8] = "whsec_";
    uint8_t key[65];
    memset(key, 0x5a, sizeof(key));
    crypto_base64_encode(key, 64, text + 6, sizeof(text) - 6);
    assert_int_equal(strlen(text), WEBHOOK_SECRET_TEXT_MAX);
    assert_int_equal(parse(text, &s, &err), BT_OK);
    assert_int_equal(s.len, 64);
    crypto_base64_encode(key, 65, text + 6, sizeof(text) - 6);
    assert_int_equal(parse(text, &s, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "too long"));
    /* a secret is read only as far as its length */
    assert_int_equal(webhook_secret_parse(SPEC_SECRET "garbage", strlen(SPEC_SECRET), &s, &err),
                     BT_OK);
}

static void test_generate_and_format(void **state)
{
    (void)state;
    struct webhook_secret a, b, back;
    webhook_secret_generate(&a);
    webhook_secret_generate(&b);
    assert_int_equal(a.len, 32);
    assert_memory_not_equal(a.key, b.key, 32);
    char text[WEBHOOK_SECRET_TEXT_MAX + 1];
    webhook_secret_format(&a, text);
    assert_int_equal(strlen(text), 6 + 44);
    assert_memory_equal(text, "whsec_", 6);
    assert_int_equal(parse(text, &back, NULL), BT_OK);
    assert_int_equal(back.len, 32);
    assert_memory_equal(back.key, a.key, 32);
    /* the spec's secret formats back to its own text */
    struct webhook_secret spec = secret_of(SPEC_SECRET);
    webhook_secret_format(&spec, text);
    assert_string_equal(text, SPEC_SECRET);
}

static void test_message_ids(void **state)
{
    (void)state;
    char a[WEBHOOK_MESSAGE_ID_LEN + 1], b[WEBHOOK_MESSAGE_ID_LEN + 1];
    webhook_message_id(a);
    webhook_message_id(b);
    assert_int_equal(strlen(a), WEBHOOK_MESSAGE_ID_LEN);
    assert_memory_equal(a, "msg_", 4);
    assert_string_not_equal(a, b);
    for (size_t i = 4; i < WEBHOOK_MESSAGE_ID_LEN; i++) {
        char c = a[i];
        assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_');
    }
    /* an id made here is one webhook_sign accepts */
    struct webhook_secret s = secret_of(SPEC_SECRET);
    char header[WEBHOOK_SIGNATURE_HEADER_LEN(1) + 1];
    assert_int_equal(webhook_sign(a, SPEC_TS, "{}", 2, &s, 1, header, sizeof(header), NULL), BT_OK);
    assert_int_equal(verify(a, SPEC_TS_TEXT, header, "{}", &s, 1, SPEC_TS), WEBHOOK_ACCEPTED);
}

static void test_reject_names(void **state)
{
    (void)state;
    assert_string_equal(webhook_reject_name(WEBHOOK_ACCEPTED), "accepted");
    assert_string_equal(webhook_reject_name(WEBHOOK_TOO_OLD), "too_old");
    assert_string_equal(webhook_reject_name(WEBHOOK_NO_MATCH), "no_match");
    assert_string_equal(webhook_reject_name((enum webhook_reject)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vector),
        cmocka_unit_test(test_secret_without_prefix),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_wrong_signature_and_tampering),
        cmocka_unit_test(test_timestamp_tolerance),
        cmocka_unit_test(test_other_versions_and_several_signatures),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_binary_body),
        cmocka_unit_test(test_bad_secrets),
        cmocka_unit_test(test_generate_and_format),
        cmocka_unit_test(test_message_ids),
        cmocka_unit_test(test_reject_names),
    };
    return cmocka_run_group_tests_name("webhook_sign", tests, NULL, NULL);
}
