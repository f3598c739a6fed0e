/*
 * test_link_token.c - signed action links: sign, parse and verify round
 * trips, the expiry boundary, every one-byte change of a token refused,
 * another secret or generation refused, truncated, oversized, garbage and
 * non-canonical input refused by the parser, fields out of range refused by
 * the signer, the CSRF value of the form, and what each action permits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/link_token.h"

#include <stdio.h>
#include <string.h>

static const uint8_t secret1[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t secret2[32] = "fedcba9876543210fedcba9876543210";

#define EXPIRES 1795000000LL /* 2026-11-18T11:06:40Z */

static struct link_token typical(void)
{
    struct link_token t = {
        .generation = 1,
        .assignment_id = 123456,
        .rep_id = "luca.romano",
        .action = LINK_ACTION_DECIDE,
        .expires_at = EXPIRES,
    };
    return t;
}

static void sign(const struct link_token *t, const uint8_t *secret,
                 char out[LINK_TOKEN_TEXT_MAX + 1])
{
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = link_token_sign(t, secret, 32, out, LINK_TOKEN_TEXT_MAX + 1, &err);
    if (rc)
        fail_msg("sign: %s: %s", bt_strerror(rc), err.message);
}

static void assert_same_token(const struct link_token *a, const struct link_token *b)
{
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->assignment_id, b->assignment_id);
    assert_string_equal(a->rep_id, b->rep_id);
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->expires_at, b->expires_at);
}

static bt_err verify(const char *text, size_t len, const uint8_t *secret, int64_t now,
                     struct link_token *out)
{
    return link_token_verify(text, len, secret, 32, now, out, NULL);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct link_token t = typical(), back;
    char text[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, text);
    /* compact enough for an SMS; only URL-safe characters */
    assert_int_equal(strlen(text), 54);
    assert_int_equal(
        strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
        strlen(text));
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(link_token_parse(text, strlen(text), &back, &err), BT_OK);
    assert_same_token(&t, &back);
    memset(&back, 0x55, sizeof(back));
    assert_int_equal(
        link_token_verify(text, strlen(text), secret1, 32, EXPIRES - 3600, &back, &err), BT_OK);
    assert_same_token(&t, &back);
    assert_int_equal(verify(text, strlen(text), secret1, EXPIRES - 3600, NULL), BT_OK);
    /* signing is deterministic */
    char again[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, again);
    assert_string_equal(text, again);

    /* each field is bound: change one, the token changes */
    const struct link_token variants[] = {
        {2, 123456, "luca.romano", LINK_ACTION_DECIDE, EXPIRES},
        {1, 123457, "luca.romano", LINK_ACTION_DECIDE, EXPIRES},
        {1, 123456, "luca.romana", LINK_ACTION_DECIDE, EXPIRES},
        {1, 123456, "luca.romano", LINK_ACTION_ACCEPT, EXPIRES},
        {1, 123456, "luca.romano", LINK_ACTION_DECIDE, EXPIRES + 1},
    };
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        sign(&variants[i], secret1, again);
        assert_string_not_equal(text, again);
        assert_int_equal(verify(again, strlen(again), secret1, 0, &back), BT_OK);
        assert_same_token(&variants[i], &back);
    }
}

static void test_extremes(void **state)
{
    (void)state;
    /* every field at its largest: the longest token there is */
    struct link_token t = {
        .generation = UINT32_MAX,
        .assignment_id = INT64_MAX,
        .action = LINK_ACTION_REJECT,
        .expires_at = LINK_TOKEN_EXPIRES_MAX,
    };
    memset(t.rep_id, 'z', LINK_TOKEN_REP_MAX);
    t.rep_id[LINK_TOKEN_REP_MAX] = '\0';
    char text[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, text);
    assert_int_equal(strlen(text), LINK_TOKEN_TEXT_MAX);
    struct link_token back;
    assert_int_equal(verify(text, strlen(text), secret1, LINK_TOKEN_EXPIRES_MAX - 1, &back), BT_OK);
    assert_same_token(&t, &back);

    /* and at its smallest */
    struct link_token s = {0, 1, "a", LINK_ACTION_ACCEPT, 1};
    sign(&s, secret1, text);
    assert_int_equal(verify(text, strlen(text), secret1, 0, &back), BT_OK);
    assert_same_token(&s, &back);
    assert_int_equal(verify(text, strlen(text), secret1, 1, &back), BT_EEXPIRED);
}

static void test_expiry_boundary(void **state)
{
    (void)state;
    struct link_token t = typical(), back;
    char text[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, text);
    size_t n = strlen(text);
    assert_int_equal(verify(text, n, secret1, EXPIRES - 1, &back), BT_OK);
    struct bt_error err = BT_ERROR_INIT;
    memset(&back, 0, sizeof(back));
    assert_int_equal(link_token_verify(text, n, secret1, 32, EXPIRES, &back, &err), BT_EEXPIRED);
    assert_int_equal(err.code, BT_EEXPIRED);
    assert_string_equal(err.message, "the link expired at 2026-11-18T11:06:40Z");
    /* an expired token is still genuine: the caller learns which one it is */
    assert_same_token(&t, &back);
    assert_int_equal(verify(text, n, secret1, EXPIRES + 86400 * 365, NULL), BT_EEXPIRED);
    /* but only a genuine one is ever called expired */
    assert_int_equal(verify(text, n, secret2, EXPIRES + 1, &back), BT_EAUTH);
    assert_int_equal(back.assignment_id, 0);
}

/* Every change of one byte of a token, to any other byte value, and every
 * truncation and extension, is refused as invalid: never accepted, never
 * mistaken for an expired genuine token. */
static void test_every_tamper_refused(void **state)
{
    (void)state;
    const struct link_token tokens[] = {
        typical(),
        {7, 1, "a", LINK_ACTION_ACCEPT, 2000000000},
        {UINT32_MAX, INT64_MAX, "x-y_z.0", LINK_ACTION_REJECT, LINK_TOKEN_EXPIRES_MAX},
    };
    for (size_t k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++) {
        char text[LINK_TOKEN_TEXT_MAX + 1], bad[LINK_TOKEN_TEXT_MAX + 2];
        sign(&tokens[k], secret1, text);
        size_t n = strlen(text);
        for (size_t i = 0; i < n; i++) {
            for (unsigned b = 0; b < 256; b++) {
                if (b == (unsigned char)text[i])
                    continue;
                memcpy(bad, text, n);
                bad[i] = (char)b;
                struct link_token back;
                bt_err rc = verify(bad, n, secret1, 0, &back);
                if (rc != BT_EAUTH)
                    fail_msg("token %zu, byte %zu set to 0x%02x: %s", k, i, b, bt_strerror(rc));
                assert_int_equal(back.assignment_id, 0);
            }
        }
        for (size_t len = 0; len < n; len++)
            assert_int_equal(verify(text, len, secret1, 0, NULL), BT_EAUTH);
        for (unsigned b = 0; b < 256; b++) {
            memcpy(bad, text, n);
            bad[n] = (char)b;
            assert_int_equal(verify(bad, n + 1, secret1, 0, NULL), BT_EAUTH);
        }
    }
}

static void test_other_secret_and_generation(void **state)
{
    (void)state;
    /* the server signs with generation 2 now; generation 1 is the previous */
    struct link_token t = typical(), back;
    t.generation = 2;
    char text[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret2, text);
    size_t n = strlen(text);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(link_token_parse(text, n, &back, &err), BT_OK);
    assert_int_equal(back.generation, 2);
    assert_int_equal(link_token_verify(text, n, secret1, 32, 0, &back, &err), BT_EAUTH);
    assert_non_null(strstr(err.message, "signature does not match"));
    assert_string_equal(err.field, "token");
    assert_int_equal(verify(text, n, secret2, 0, &back), BT_OK);

    /* a secret one byte different */
    uint8_t near[32];
    memcpy(near, secret2, 32);
    near[31] ^= 1;
    assert_int_equal(verify(text, n, near, 0, NULL), BT_EAUTH);
    /* a longer secret that starts with the right one (not with a zero byte
     * more: HMAC pads a short key with zeros, so that is the same key) */
    uint8_t longer[33];
    memcpy(longer, secret2, 32);
    longer[32] = 'x';
    assert_int_equal(link_token_verify(text, n, longer, 33, 0, NULL, NULL), BT_EAUTH);
    /* the generation is signed too: the same fields under generation 1 with
     * the right secret give another token */
    t.generation = 1;
    char other[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret2, other);
    assert_string_not_equal(text, other);
}

/* ---- handmade payloads: the parser's checks one by one ---- */

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = d[v >> 18];
        out[o++] = d[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = d[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = d[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* PAYLOAD "." and a MAC of 16 zero bytes (parse does not check it). */
static bt_err parse_bytes(const uint8_t *payload, size_t n, struct link_token *out)
{
    char text[512];
    size_t o = b64url(payload, n, text);
    text[o++] = '.';
    memset(text + o, 'A', 22);
    o += 22;
    return link_token_parse(text, o, out, NULL);
}

#define PARSE(expect, ...)                                                                         \
    do {                                                                                           \
        const uint8_t p_[] = {__VA_ARGS__};                                                        \
        struct link_token t_;                                                                      \
        bt_err rc_ = parse_bytes(p_, sizeof(p_), &t_);                                             \
        if (rc_ != (expect))                                                                       \
            fail_msg("line %d: expected %s, got %s", __LINE__, bt_strerror(expect),                \
                     bt_strerror(rc_));                                                            \
    } while (0)

static void test_parse_checks_each_field(void **state)
{
    (void)state;
    struct link_token t;
    /* version 1, decide, generation 1, assignment 300, expiry 1, rep "ab" */
    const uint8_t good[] = {1, 1, 1, 0xac, 0x02, 1, 2, 'a', 'b'};
    assert_int_equal(parse_bytes(good, sizeof(good), &t), BT_OK);
    assert_int_equal(t.assignment_id, 300);
    assert_string_equal(t.rep_id, "ab");
    PARSE(BT_OK, 1, 3, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1, 1, 'a'); /* generation 2^32-1 */
    for (size_t len = 0; len < sizeof(good); len++) /* every truncation of the payload */
        assert_int_equal(parse_bytes(good, len, &t), BT_EAUTH);

    PARSE(BT_EAUTH, 2, 1, 1, 1, 1, 1, 'a');                            /* version */
    PARSE(BT_EAUTH, 0, 1, 1, 1, 1, 1, 'a');                            /* version */
    PARSE(BT_EAUTH, 1, 0, 1, 1, 1, 1, 'a');                            /* action */
    PARSE(BT_EAUTH, 1, 4, 1, 1, 1, 1, 'a');                            /* action */
    PARSE(BT_EAUTH, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1, 1, 'a'); /* generation 2^32 */
    PARSE(BT_EAUTH, 1, 1, 0x81, 0x00, 1, 1, 1, 'a'); /* generation, not shortest */
    PARSE(BT_EAUTH, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 1, 1, 'a'); /* 6 bytes */
    PARSE(BT_EAUTH, 1, 1, 1, 0, 1, 1, 'a');                                  /* assignment 0 */
    PARSE(BT_EAUTH, 1, 1, 1, 0x81, 0x80, 0x00, 1, 1, 'a');                   /* not shortest */
    PARSE(BT_EAUTH, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1,
          'a');                             /* assignment of 10 bytes (2^64-1) */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 0, 1, 'a'); /* expiry 0 */
    /* expiry LINK_TOKEN_EXPIRES_MAX + 1 = 253402300800 */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 0x80, 0x83, 0xd1, 0xff, 0xaf, 0x07, 1, 'a');
    PARSE(BT_OK, 1, 1, 1, 1, 0xff, 0x82, 0xd1, 0xff, 0xaf, 0x07, 1, 'a'); /* the maximum itself */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 0);                                    /* empty rep id */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 2, 'a');                               /* rep id cut short */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 1, 'A');                               /* upper case */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 1, '.');                               /* starts with '.' */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 2, 'a', 0);                            /* NUL inside */
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 2, 'a', '/');
    PARSE(BT_OK, 1, 1, 1, 1, 1, 4, 'a', '_', '.', '-');
    PARSE(BT_EAUTH, 1, 1, 1, 1, 1, 1, 'a', 0); /* a byte left over */

    /* a 64-byte rep id parses, 65 bytes do not */
    uint8_t big[80] = {1, 1, 1, 1, 1, 64};
    memset(big + 6, 'r', 65);
    assert_int_equal(parse_bytes(big, 6 + 64, &t), BT_OK);
    assert_int_equal(strlen(t.rep_id), 64);
    big[5] = 65;
    assert_int_equal(parse_bytes(big, 6 + 65, &t), BT_EAUTH);
    assert_int_equal(t.rep_id[0], '\0'); /* zeroed on failure */
}

static void test_garbage_refused(void **state)
{
    (void)state;
    struct link_token t = typical();
    char text[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, text);
    size_t n = strlen(text), dot = (size_t)(strchr(text, '.') - text);
    const char *bad[] = {
        "",
        ".",
        "..",
        "a.b",
        "AQEB.",
        ".AAAAAAAAAAAAAAAAAAAAAA",
        "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAA.",
        "AQEBAQEBYQ==.AAAAAAAAAAAAAAAAAAAAAA", /* padding */
        "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAA==", /* padding */
        "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAAA",  /* MAC too long */
        "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAA",    /* MAC too short */
        "AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAB",   /* spare bits of the MAC set */
        "AQEBAQEBYR.AAAAAAAAAAAAAAAAAAAAAA",   /* spare bits of the payload set */
        "AQEBAQEB+Q.AAAAAAAAAAAAAAAAAAAAAA",   /* base64, not base64url */
        "AQEBAQEB/Q.AAAAAAAAAAAAAAAAAAAAAA",
        "AQEBA QEBYQ.AAAAAAAAAAAAAAAAAAAAAA",
        "%41QEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAA",
        "AQEBAQEBY.AAAAAAAAAAAAAAAAAAAAAA", /* a payload length no byte count gives */
        "\xff\xfe\xfd.AAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bt_error err = BT_ERROR_INIT;
        bt_err rc = link_token_parse(bad[i], strlen(bad[i]), &t, &err);
        if (rc != BT_EAUTH)
            fail_msg("'%s': %s", bad[i], bt_strerror(rc));
        assert_string_equal(err.field, "token");
        assert_non_null(strstr(err.message, "not a valid link"));
        assert_int_equal(verify(bad[i], strlen(bad[i]), secret1, 0, NULL), BT_EAUTH);
    }
    /* a sanity check that the handmade base above is well formed */
    assert_int_equal(link_token_parse("AQEBAQEBYQ.AAAAAAAAAAAAAAAAAAAAAA", 33, &t, NULL), BT_OK);

    /* NULL with length 0; a NUL inside a real token; the token twice */
    assert_int_equal(link_token_parse(NULL, 0, &t, NULL), BT_EAUTH);
    char buf[2 * LINK_TOKEN_TEXT_MAX + 2];
    memcpy(buf, text, n);
    buf[dot] = '\0';
    assert_int_equal(verify(buf, n, secret1, 0, NULL), BT_EAUTH);
    memcpy(buf, text, n);
    memcpy(buf + n, text, n);
    assert_int_equal(verify(buf, 2 * n, secret1, 0, NULL), BT_EAUTH);
    /* oversized: refused on length alone, however long */
    static char huge[1 << 16];
    memset(huge, 'A', sizeof(huge));
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(link_token_parse(huge, sizeof(huge), &t, &err), BT_EAUTH);
    assert_non_null(strstr(err.message, "too long"));
    assert_int_equal(link_token_parse(huge, LINK_TOKEN_TEXT_MAX + 1, &t, NULL), BT_EAUTH);
}

static void test_sign_refuses_bad_fields(void **state)
{
    (void)state;
    struct {
        struct link_token t;
        const char *field;
    } bad[] = {
        {{1, 0, "luca", LINK_ACTION_DECIDE, EXPIRES}, "assignment_id"},
        {{1, -5, "luca", LINK_ACTION_DECIDE, EXPIRES}, "assignment_id"},
        {{1, 1, "", LINK_ACTION_DECIDE, EXPIRES}, "rep_id"},
        {{1, 1, "Luca", LINK_ACTION_DECIDE, EXPIRES}, "rep_id"},
        {{1, 1, "_luca", LINK_ACTION_DECIDE, EXPIRES}, "rep_id"},
        {{1, 1, "luca romano", LINK_ACTION_DECIDE, EXPIRES}, "rep_id"},
        {{1, 1, "luca", (enum link_action)0, EXPIRES}, "action"},
        {{1, 1, "luca", (enum link_action)4, EXPIRES}, "action"},
        {{1, 1, "luca", LINK_ACTION_DECIDE, 0}, "expires_at"},
        {{1, 1, "luca", LINK_ACTION_DECIDE, -1}, "expires_at"},
        {{1, 1, "luca", LINK_ACTION_DECIDE, LINK_TOKEN_EXPIRES_MAX + 1}, "expires_at"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[LINK_TOKEN_TEXT_MAX + 1] = "x";
        struct bt_error err = BT_ERROR_INIT;
        assert_int_equal(link_token_sign(&bad[i].t, secret1, 32, out, sizeof(out), &err),
                         BT_EINVAL);
        assert_string_equal(err.field, bad[i].field);
        assert_string_equal(out, "");
    }
    /* a rep id filling the whole array, without a NUL: too long, not read past */
    struct link_token t = typical();
    memset(t.rep_id, 'a', sizeof(t.rep_id));
    char out[LINK_TOKEN_TEXT_MAX + 1];
    assert_int_equal(link_token_sign(&t, secret1, 32, out, sizeof(out), NULL), BT_EINVAL);
}

static void test_csrf(void **state)
{
    (void)state;
    struct link_token t = typical();
    char text[LINK_TOKEN_TEXT_MAX + 1], other[LINK_TOKEN_TEXT_MAX + 1];
    sign(&t, secret1, text);
    t.assignment_id++;
    sign(&t, secret1, other);
    size_t n = strlen(text);

    char csrf[LINK_CSRF_LEN + 1];
    link_token_csrf(text, n, secret1, 32, csrf);
    assert_int_equal(strlen(csrf), LINK_CSRF_LEN);
    assert_int_equal(
        strspn(csrf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        LINK_CSRF_LEN);
    assert_null(strstr(text, csrf)); /* not the token's own MAC */
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(link_token_csrf_check(text, n, secret1, 32, csrf, LINK_CSRF_LEN, &err), BT_OK);

    /* another token's form, another secret */
    char csrf_other[LINK_CSRF_LEN + 1];
    link_token_csrf(other, strlen(other), secret1, 32, csrf_other);
    assert_string_not_equal(csrf, csrf_other);
    assert_int_equal(link_token_csrf_check(text, n, secret1, 32, csrf_other, LINK_CSRF_LEN, &err),
                     BT_EFORBIDDEN);
    assert_string_equal(err.field, "csrf");
    assert_int_equal(link_token_csrf_check(text, n, secret2, 32, csrf, LINK_CSRF_LEN, NULL),
                     BT_EFORBIDDEN);

    /* every one-character change, every length */
    char bad[2 * LINK_CSRF_LEN];
    for (size_t i = 0; i < LINK_CSRF_LEN; i++) {
        memcpy(bad, csrf, LINK_CSRF_LEN);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(link_token_csrf_check(text, n, secret1, 32, bad, LINK_CSRF_LEN, NULL),
                         BT_EFORBIDDEN);
    }
    memcpy(bad, csrf, LINK_CSRF_LEN);
    bad[LINK_CSRF_LEN] = 'A';
    for (size_t len = 0; len <= LINK_CSRF_LEN + 1; len++) {
        if (len != LINK_CSRF_LEN)
            assert_int_equal(link_token_csrf_check(text, n, secret1, 32, bad, len, NULL),
                             BT_EFORBIDDEN);
    }
    assert_int_equal(link_token_csrf_check(text, n, secret1, 32, NULL, 0, NULL), BT_EFORBIDDEN);
}

static void test_actions(void **state)
{
    (void)state;
    struct link_token t = typical();
    enum link_action a;
    assert_true(link_action_parse("accept", 6, &a));
    assert_int_equal(a, LINK_ACTION_ACCEPT);
    assert_true(link_action_parse("reject", 6, &a));
    assert_int_equal(a, LINK_ACTION_REJECT);
    assert_true(link_action_parse("decide", 6, &a));
    assert_int_equal(a, LINK_ACTION_DECIDE);
    assert_false(link_action_parse("accepted", 8, &a));
    assert_false(link_action_parse("accept", 5, &a));
    assert_false(link_action_parse("ACCEPT", 6, &a));
    assert_false(link_action_parse("accept\0", 7, &a));
    assert_false(link_action_parse(NULL, 0, &a));
    assert_string_equal(link_action_name(LINK_ACTION_REJECT), "reject");
    assert_string_equal(link_action_name((enum link_action)9), "?");

    t.action = LINK_ACTION_DECIDE;
    assert_true(link_token_permits(&t, LINK_ACTION_ACCEPT));
    assert_true(link_token_permits(&t, LINK_ACTION_REJECT));
    assert_false(link_token_permits(&t, LINK_ACTION_DECIDE));
    t.action = LINK_ACTION_ACCEPT;
    assert_true(link_token_permits(&t, LINK_ACTION_ACCEPT));
    assert_false(link_token_permits(&t, LINK_ACTION_REJECT));
    t.action = LINK_ACTION_REJECT;
    assert_false(link_token_permits(&t, LINK_ACTION_ACCEPT));
    assert_true(link_token_permits(&t, LINK_ACTION_REJECT));
    assert_false(link_token_permits(&t, (enum link_action)0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_expiry_boundary),
        cmocka_unit_test(test_every_tamper_refused),
        cmocka_unit_test(test_other_secret_and_generation),
        cmocka_unit_test(test_parse_checks_each_field),
        cmocka_unit_test(test_garbage_refused),
        cmocka_unit_test(test_sign_refuses_bad_fields),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_actions),
    };
    return cmocka_run_group_tests_name("link_token", tests, NULL, NULL);
}
