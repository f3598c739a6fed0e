/*
 * test_mailfmt.c - mail header values: ASCII passes through, non-ASCII
 * becomes encoded-words that decode back to the text (checked with a small
 * decoder written here), long text is split into words of at most 75
 * characters on lines of at most 76 without splitting a character, CR/LF
 * and invalid UTF-8 are refused, names are quoted or encoded as needed,
 * addresses are checked, the Date of known instants, the Message-ID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/mailfmt.h"
#include "util/crypto.h"
#include "util/text.h"

#include <stdio.h>
#include <string.h>

/*
 * Decodes a header value made of encoded-words separated by folds, as a
 * reader would, checking the form as it goes: every word is
 * "=?UTF-8?B?" base64 "?=", at most 75 characters, decodes to valid UTF-8
 * on its own (no character split across words), and every line is at most
 * 76 characters, the first counting `used`. Returns the decoded text in
 * out (size outsz).
 */
static void decode_words(const char *value, size_t used, char *out, size_t outsz)
{
    size_t n = 0;
    const char *p = value;
    size_t line = used;
    for (;;) {
        if (strncmp(p, "\r\n ", 3) == 0) {
            p += 3;
            line = 1;
            continue;
        }
        if (*p == '\0')
            break;
        if (strncmp(p, "=?UTF-8?B?", 10) != 0)
            fail_msg("not an encoded-word at \"%s\"", p);
        const char *b64 = p + 10;
        const char *close = strstr(b64, "?=");
        assert_non_null(close);
        size_t word = (size_t)(close + 2 - p);
        if (word > MAILFMT_WORD_MAX)
            fail_msg("an encoded-word of %zu characters", word);
        line += word;
        if (line > MAILFMT_LINE_MAX)
            fail_msg("a line of %zu characters", line);
        uint8_t bytes[64];
        size_t got = 0;
        assert_int_equal(
            crypto_base64_decode(b64, (size_t)(close - b64), bytes, sizeof(bytes), &got, NULL),
            BT_OK);
        assert_true(got > 0);
        if (!utf8_valid((const char *)bytes, got))
            fail_msg("a word that splits a character");
        assert_true(n + got < outsz);
        memcpy(out + n, bytes, got);
        n += got;
        p = close + 2;
        /* words are separated by folds only */
        if (*p && strncmp(p, "\r\n ", 3) != 0)
            fail_msg("\"%s\" after a word", p);
    }
    out[n] = '\0';
}

static const char *text(struct arena *a, const char *s, size_t used)
{
    const char *out = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = mailfmt_header_text(a, s, used, &out, &err);
    if (rc)
        fail_msg("header text \"%s\": %s", s, err.message);
    assert_non_null(out);
    return out;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_ascii_passthrough(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    assert_string_equal(text(&a, "New lead: ACME Corp (EMEA), 250 seats", 9),
                        "New lead: ACME Corp (EMEA), 250 seats");
    assert_string_equal(text(&a, "", 9), "");
    assert_string_equal(text(&a, "  spaces  kept  ", 9), "  spaces  kept  ");
    assert_string_equal(text(&a, "100% = ? !", 9), "100% = ? !");
    /* long ASCII stays one line: it is already a valid header */
    char long_ascii[MAILFMT_TEXT_MAX + 1];
    memset(long_ascii, 'x', MAILFMT_TEXT_MAX);
    long_ascii[MAILFMT_TEXT_MAX] = '\0';
    assert_string_equal(text(&a, long_ascii, 9), long_ascii);
    arena_release(&a);
}

static void test_non_ascii(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    char back[2048];
    assert_string_equal(text(&a, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", 9),
                        "=?UTF-8?B?Wm/DqyDDhW5nc3Ryw7Zt?=");
    /* Japanese: 山田太郎 */
    assert_string_equal(text(&a, "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e", 9),
                        "=?UTF-8?B?5bGx55Sw5aSq6YOO?=");
    /* "=?" in ASCII, a tab: encoded, so that nobody decodes or folds them */
    const char *v = text(&a, "see =?UTF-8?B?eA==?= here", 9);
    assert_memory_equal(v, "=?UTF-8?B?", 10);
    decode_words(v, 9, back, sizeof(back));
    assert_string_equal(back, "see =?UTF-8?B?eA==?= here");
    v = text(&a, "a\tb", 9);
    decode_words(v, 9, back, sizeof(back));
    assert_string_equal(back, "a\tb");
    arena_release(&a);
}

static void test_long_subjects_split(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    char subject[MAILFMT_TEXT_MAX + 1], back[2048];
    /* characters of every length, so cuts fall next to each of them */
    static const char *const pieces[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " "};
    for (size_t k = 0; k < 5; k++) {
        size_t n = 0;
        for (size_t i = k; n + 4 < MAILFMT_TEXT_MAX; i++) {
            const char *piece = pieces[i % 5];
            memcpy(subject + n, piece, strlen(piece));
            n += strlen(piece);
        }
        subject[n] = '\0';
        for (size_t used = 0; used <= 80; used += 9) {
            const char *v = text(&a, subject, used);
            decode_words(v, used, back, sizeof(back));
            assert_string_equal(back, subject);
            assert_true(count(v, "=?UTF-8?B?") > 10);
        }
    }
    /* a subject of 4-byte characters only: 11 per word (44 bytes of 45) */
    size_t n = 0;
    while (n + 4 <= 200) {
        memcpy(subject + n, "\xf0\x9f\x98\x80", 4);
        n += 4;
    }
    subject[n] = '\0';
    const char *v = text(&a, subject, 9);
    decode_words(v, 9, back, sizeof(back));
    assert_string_equal(back, subject);
    /* a Japanese subject of 3-byte characters: 15 per full word */
    n = 0;
    while (n + 3 <= 300) {
        memcpy(subject + n, "\xe5\xb1\xb1", 3);
        n += 3;
    }
    subject[n] = '\0';
    v = text(&a, subject, 9);
    decode_words(v, 9, back, sizeof(back));
    assert_string_equal(back, subject);
    /* the first line has no room for a word: the value starts with a fold */
    v = text(&a, "\xc3\xa9t\xc3\xa9", 70);
    assert_memory_equal(v, "\r\n =?UTF-8?B?", 13);
    decode_words(v, 70, back, sizeof(back));
    assert_string_equal(back, "\xc3\xa9t\xc3\xa9");
    arena_release(&a);
}

static void test_refused_text(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    const char *out = "x";
    static const char *const injections[] = {
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: x@y",
        "Hello\r",
        "\xc3\xa9\r\n\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
        assert_int_equal(mailfmt_header_text(&a, injections[i], 9, &out, &err), BT_EINVAL);
        assert_null(out);
        assert_non_null(strstr(err.message, "injection"));
        assert_string_equal(err.field, "text");
    }
    static const char *const invalid[] = {"\xff",         "caf\xc3", "\xc0\xaf",
                                          "\xed\xa0\x80", "a\x01",   "\x7f"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (mailfmt_header_text(&a, invalid[i], 9, &out, &err) != BT_EINVAL)
            fail_msg("text %zu was not refused", i);
        assert_null(out);
    }
    char too_long[MAILFMT_TEXT_MAX + 2];
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    assert_int_equal(mailfmt_header_text(&a, too_long, 9, &out, &err), BT_ETOOBIG);
    /* an arena that is full */
    struct arena tiny = ARENA_INIT;
    tiny.limit = 16;
    assert_int_equal(mailfmt_header_text(&tiny, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 9, &out, &err),
                     BT_ETOOBIG);
    arena_release(&tiny);
    arena_release(&a);
}

static const char *address(struct arena *a, const char *name, const char *addr)
{
    const char *out = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = mailfmt_address(a, name, addr, 6, &out, &err);
    if (rc)
        fail_msg("address %s <%s>: %s", name ? name : "(null)", addr, err.message);
    return out;
}

static void test_addresses(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    assert_string_equal(address(&a, NULL, "jane@example.com"), "jane@example.com");
    assert_string_equal(address(&a, "", "jane@example.com"), "jane@example.com");
    assert_string_equal(address(&a, "Jane Doe", "jane@example.com"), "Jane Doe <jane@example.com>");
    assert_string_equal(address(&a, "O'Brien", "ob@example.com"), "O'Brien <ob@example.com>");
    /* specials, dots, quotes, backslashes, odd spacing, "=?": quoted */
    assert_string_equal(address(&a, "Doe, Jane", "jane@example.com"),
                        "\"Doe, Jane\" <jane@example.com>");
    assert_string_equal(address(&a, "Jane \"JD\" Doe", "jane@example.com"),
                        "\"Jane \\\"JD\\\" Doe\" <jane@example.com>");
    assert_string_equal(address(&a, "a\\b", "x@y.z"), "\"a\\\\b\" <x@y.z>");
    assert_string_equal(address(&a, "J. Doe", "x@y.z"), "\"J. Doe\" <x@y.z>");
    assert_string_equal(address(&a, "Sales (EMEA)", "x@y.z"), "\"Sales (EMEA)\" <x@y.z>");
    assert_string_equal(address(&a, "a@b", "x@y.z"), "\"a@b\" <x@y.z>");
    assert_string_equal(address(&a, " Jane", "x@y.z"), "\" Jane\" <x@y.z>");
    assert_string_equal(address(&a, "Jane  Doe", "x@y.z"), "\"Jane  Doe\" <x@y.z>");
    assert_string_equal(address(&a, "=?UTF-8?B?eA==?=", "x@y.z"), "\"=?UTF-8?B?eA==?=\" <x@y.z>");
    /* non-ASCII: encoded */
    assert_string_equal(address(&a, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", "zoe@example.com"),
                        "=?UTF-8?B?Wm/DqyDDhW5nc3Ryw7Zt?= <zoe@example.com>");
    assert_string_equal(
        address(&a, "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e", "yamada@example.jp"),
        "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>");
    /* a long encoded name: the address goes on a line of its own when the
     * last word's line has no room for it */
    char name[200], back[400];
    size_t n = 0;
    while (n + 2 <= 130) {
        memcpy(name + n, "\xc3\xa9", 2);
        n += 2;
    }
    name[n] = '\0';
    const char *v = address(&a, name, "someone.with.a.long.address@subdomain.example.com");
    const char *lt = strstr(v, "\r\n <someone.with.a.long.address@subdomain.example.com>");
    assert_non_null(lt);
    assert_string_equal(lt + 3, "<someone.with.a.long.address@subdomain.example.com>");
    char words[400];
    memcpy(words, v, (size_t)(lt - v));
    words[lt - v] = '\0';
    decode_words(words, 6, back, sizeof(back));
    assert_string_equal(back, name);
    arena_release(&a);
}

static void test_refused_addresses(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    const char *out = "x";
    static const char *const bad[] = {
        "",
        "a@",
        "@b",
        "ab",
        "a@b@c",
        "jane doe@x.y",
        "a@b\r\nBcc: c@d",
        "a@b\n",
        "<a@b>",
        "a@b>",
        "a,b@c",
        "a;b@c",
        "a@b:25",
        "\"a\"@b",
        "a\\b@c",
        "a@[1.2.3.4]",
        "j\xc3\xa9@x.y",
        "a\t@b",
        "noatsign",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = "x";
        if (mailfmt_address(&a, "Jane", bad[i], 6, &out, &err) != BT_EINVAL)
            fail_msg("address \"%s\" was not refused", bad[i]);
        assert_string_equal(err.field, "address");
        assert_null(out);
    }
    char long_addr[MAILFMT_ADDRESS_MAX + 2];
    memset(long_addr, 'a', sizeof(long_addr) - 1);
    long_addr[1] = '@';
    long_addr[sizeof(long_addr) - 1] = '\0';
    assert_int_equal(mailfmt_address(&a, NULL, long_addr, 6, &out, &err), BT_EINVAL);
    long_addr[MAILFMT_ADDRESS_MAX] = '\0';
    assert_int_equal(mailfmt_address(&a, NULL, long_addr, 6, &out, &err), BT_OK);
    /* names: line breaks and invalid UTF-8 */
    assert_int_equal(mailfmt_address(&a, "Jane\r\nBcc: x@y", "a@b", 6, &out, &err), BT_EINVAL);
    assert_string_equal(err.field, "name");
    assert_non_null(strstr(err.message, "injection"));
    assert_null(out);
    assert_int_equal(mailfmt_address(&a, "Jane\xff", "a@b", 6, &out, &err), BT_EINVAL);
    assert_string_equal(err.field, "name");
    arena_release(&a);
}

static const char *date(int64_t ms)
{
    static char out[MAILFMT_DATE_LEN + 1];
    struct bt_error err = BT_ERROR_INIT;
    if (mailfmt_date(ms, out, &err))
        fail_msg("date %lld: %s", (long long)ms, err.message);
    assert_int_equal(strlen(out), MAILFMT_DATE_LEN);
    return out;
}

static void test_date(void **state)
{
    (void)state;
    assert_string_equal(date(1796115600000LL), "Tue, 01 Dec 2026 09:00:00 +0000");
    assert_string_equal(date(1796115600999LL), "Tue, 01 Dec 2026 09:00:00 +0000");
    assert_string_equal(date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_string_equal(date(-1), "Wed, 31 Dec 1969 23:59:59 +0000");
    assert_string_equal(date(951782400000LL), "Tue, 29 Feb 2000 00:00:00 +0000");
    assert_string_equal(date(1614265330000LL), "Thu, 25 Feb 2021 15:02:10 +0000");
    assert_string_equal(date(-2208988800000LL), "Mon, 01 Jan 1900 00:00:00 +0000");
    assert_string_equal(date(253402300799999LL), "Fri, 31 Dec 9999 23:59:59 +0000");
    char out[MAILFMT_DATE_LEN + 1];
    assert_int_equal(mailfmt_date(-2208988800001LL, out, NULL), BT_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(mailfmt_date(253402300800000LL, out, NULL), BT_EINVAL);
    assert_int_equal(mailfmt_date(INT64_MIN, out, NULL), BT_EINVAL);
}

static void test_message_id(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct bt_error err = BT_ERROR_INIT;
    const char *out = NULL;
    assert_int_equal(
        mailfmt_message_id(&a, "123456", "9f86d081884c7d65", "mail.example.com", &out, &err),
        BT_OK);
    assert_string_equal(out, "<baton.123456.9f86d081884c7d65@mail.example.com>");
    assert_int_equal(mailfmt_message_id(&a, "lead.42", "a", "localhost", &out, &err), BT_OK);
    assert_string_equal(out, "<baton.lead.42.a@localhost>");
    static const char *const bad[][4] = {
        {"", "u", "d.com", "id"},        {"1", "", "d.com", "unique"},
        {"1", "u", "", "domain"},        {"a b", "u", "d.com", "id"},
        {"1", "u>", "d.com", "unique"},  {"1", "u", "d.com\r\nX: y", "domain"},
        {".1", "u", "d.com", "id"},      {"1", "u.", "d.com", "unique"},
        {"1", "u", "d..com", "domain"},  {"1", "u", "[127.0.0.1]", "domain"},
        {"1", "u@v", "d.com", "unique"}, {"\xc3\xa9", "u", "d.com", "id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = "x";
        if (mailfmt_message_id(&a, bad[i][0], bad[i][1], bad[i][2], &out, &err) != BT_EINVAL)
            fail_msg("Message-ID %zu was not refused", i);
        assert_string_equal(err.field, bad[i][3]);
        assert_null(out);
    }
    assert_int_equal(mailfmt_message_id(&a, NULL, "u", "d", &out, &err), BT_EINVAL);
    char long_part[MAILFMT_ID_PART_MAX + 2];
    memset(long_part, '7', sizeof(long_part) - 1);
    long_part[sizeof(long_part) - 1] = '\0';
    assert_int_equal(mailfmt_message_id(&a, long_part, "u", "d", &out, &err), BT_EINVAL);
    long_part[MAILFMT_ID_PART_MAX] = '\0';
    assert_int_equal(mailfmt_message_id(&a, long_part, long_part, "d", &out, &err), BT_OK);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_passthrough),
        cmocka_unit_test(test_non_ascii),
        cmocka_unit_test(test_long_subjects_split),
        cmocka_unit_test(test_refused_text),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_refused_addresses),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_message_id),
    };
    return cmocka_run_group_tests_name("mailfmt", tests, NULL, NULL);
}
