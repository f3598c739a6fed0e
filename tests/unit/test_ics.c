/*
 * test_ics.c - meeting invites as iCalendar text (core/ics): the exact text
 * of a known invite, folding (no physical line over 75 octets, unfolding
 * gives the value back, no UTF-8 sequence split), TEXT escaping, quoted
 * parameters, and every refusal with its field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testtime.h"

#include "core/ics.h"
#include "util/arena.h"
#include "util/text.h"

#include <stdio.h>
#include <string.h>

static const struct ics_person one_attendee[] = {{"Ada Lovelace", "ada@example.com"}};

static struct ics_invite base_invite(void)
{
    struct ics_invite in = {
        .uid = "assignment-42@baton.example",
        .stamp_ms = T("2026-11-24T08:15:30.250Z"),
        .start_ms = T("2026-11-24T09:00:00Z"),
        .end_ms = T("2026-11-24T09:30:00Z"),
        .summary = "Intro call",
        .description = "Lead from the website",
        .location = NULL,
        .url = NULL,
        .organizer = {"Luca Romano", "luca.romano@baton.example"},
        .attendees = one_attendee,
        .n_attendees = 1,
    };
    return in;
}

static const char *build(struct arena *a, const struct ics_invite *in)
{
    struct bt_error e = BT_ERROR_INIT;
    const char *out = NULL;
    size_t len = 0;
    if (ics_invite_build(in, a, &out, &len, &e) != BT_OK)
        fail_msg("ics_invite_build: %s (%s)", e.message, e.field);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    return out;
}

/* Unfolds `text` (RFC 5545 section 3.1: drop every CRLF followed by a space). */
static char *unfold(struct arena *a, const char *text)
{
    size_t n = strlen(text);
    char *u = arena_alloc(a, n + 1), *p = u;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r' && text[i + 1] == '\n' && text[i + 2] == ' ') {
            i += 2;
            continue;
        }
        *p++ = text[i];
    }
    *p = '\0';
    return u;
}

/* The value of the unfolded content line that starts with `prefix` (up to its CRLF). */
static char *line_value(struct arena *a, const char *unfolded, const char *prefix)
{
    const char *p = strstr(unfolded, prefix);
    if (p == NULL)
        fail_msg("no line starting with %s", prefix);
    p += strlen(prefix);
    const char *end = strstr(p, "\r\n");
    assert_non_null(end);
    return arena_strndup(a, p, (size_t)(end - p));
}

/*
 * Every physical line ends with CRLF, is at most 75 octets, holds valid
 * UTF-8 by itself (no sequence split by a fold), and no bare CR or LF
 * appears anywhere.
 */
static void check_lines(const char *text)
{
    size_t n = strlen(text);
    assert_true(n >= 2);
    assert_memory_equal(text + n - 2, "\r\n", 2);
    const char *line = text;
    while (*line) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        size_t len = (size_t)(end - line);
        if (len > ICS_LINE_OCTETS)
            fail_msg("a physical line of %zu octets: %.*s", len, (int)len, line);
        assert_true(utf8_valid(line, len));
        assert_null(memchr(line, '\r', len));
        assert_null(memchr(line, '\n', len));
        line = end + 2;
    }
}

static void test_known_invite(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct ics_person attendees[] = {{"Ada Lovelace", "ada@example.com"},
                                     {NULL, "grace@example.org"}};
    struct ics_invite in = base_invite();
    in.location = "Zoom";
    in.url = "https://meet.example.com/j/123?pwd=x";
    in.attendees = attendees;
    in.n_attendees = 2;
    const char *out = build(&a, &in);
    const char *expected =
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//Baton//Baton//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:assignment-42@baton.example\r\n"
        "DTSTAMP:20261124T081530Z\r\n"
        "DTSTART:20261124T090000Z\r\n"
        "DTEND:20261124T093000Z\r\n"
        "SUMMARY:Intro call\r\n"
        "DESCRIPTION:Lead from the website\r\n"
        "LOCATION:Zoom\r\n"
        "URL:https://meet.example.com/j/123?pwd=x\r\n"
        "ORGANIZER;CN=Luca Romano:mailto:luca.romano@baton.example\r\n"
        "ATTENDEE;CN=Ada Lovelace;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TR\r\n"
        " UE:mailto:ada@example.com\r\n"
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:grace@\r\n"
        " example.org\r\n"
        "SEQUENCE:0\r\n"
        "STATUS:CONFIRMED\r\n"
        "TRANSP:OPAQUE\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    assert_string_equal(out, expected);
    check_lines(out);
    arena_release(&a);
}

static void test_optional_fields_left_out(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct ics_invite in = base_invite();
    in.description = NULL;
    in.location = "";
    in.url = "";
    in.organizer.name = "";
    const char *out = build(&a, &in);
    assert_null(strstr(out, "DESCRIPTION"));
    assert_null(strstr(out, "LOCATION"));
    assert_null(strstr(out, "URL"));
    assert_non_null(strstr(out, "\r\nORGANIZER:mailto:luca.romano@baton.example\r\n"));
    check_lines(out);
    in.description = "";
    assert_null(strstr(build(&a, &in), "DESCRIPTION"));
    arena_release(&a);
}

static void test_escaping(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct ics_person attendees[] = {{"Doe, Jane; Sales: EMEA", "jane@example.com"}};
    struct ics_invite in = base_invite();
    in.summary = "Call; re: pricing, plans \\ options";
    in.description = "line 1\nline 2\r\nline 3\rend: a,b;c\\d\ttab";
    in.location = "Room 4, floor 2; Berlin";
    in.organizer.name = "Müller: Sales";
    in.attendees = attendees;
    const char *out = build(&a, &in);
    check_lines(out);
    char *u = unfold(&a, out);
    assert_string_equal(line_value(&a, u, "\r\nSUMMARY:"),
                        "Call\\; re: pricing\\, plans \\\\ options");
    assert_string_equal(line_value(&a, u, "\r\nDESCRIPTION:"),
                        "line 1\\nline 2\\nline 3\\nend: a\\,b\\;c\\\\d\ttab");
    assert_string_equal(line_value(&a, u, "\r\nLOCATION:"), "Room 4\\, floor 2\\; Berlin");
    assert_string_equal(line_value(&a, u, "\r\nORGANIZER;"),
                        "CN=\"Müller: Sales\":mailto:luca.romano@baton.example");
    assert_string_equal(
        line_value(&a, u, "\r\nATTENDEE;"),
        "CN=\"Doe, Jane; Sales: EMEA\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
        ":mailto:jane@example.com");
    arena_release(&a);
}

/* The TEXT escaping undone, as a reader does after unfolding. */
static char *unescape(struct arena *a, const char *v)
{
    char *u = arena_alloc(a, strlen(v) + 1), *p = u;
    for (; *v; v++) {
        if (*v == '\\') {
            v++;
            *p++ = (*v == 'n' || *v == 'N') ? '\n' : *v;
        } else {
            *p++ = *v;
        }
    }
    *p = '\0';
    return u;
}

static void test_folding_long_description(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    char description[4000];
    size_t n = 0;
    for (int i = 0; n < sizeof(description) - 64; i++)
        n += (size_t)snprintf(description + n, sizeof(description) - n,
                              "Item %d; budget 10,000 EUR\\month.\n", i);
    struct ics_invite in = base_invite();
    in.description = description;
    const char *out = build(&a, &in);
    check_lines(out);
    /* Folded lines are full: only the last piece of a content line is short. */
    const char *d = strstr(out, "\r\nDESCRIPTION:") + 2;
    const char *first_end = strstr(d, "\r\n");
    assert_int_equal(first_end - d, ICS_LINE_OCTETS);
    assert_int_equal(first_end[2], ' ');
    char *u = unfold(&a, out);
    assert_string_equal(unescape(&a, line_value(&a, u, "\r\nDESCRIPTION:")), description);
    arena_release(&a);
}

/*
 * Multi-byte characters at every alignment against the fold: for prefixes
 * of 0..3 ASCII bytes, a summary of 2-, 3- and 4-byte characters folds
 * between characters only, and unfolds to itself.
 */
static void test_folding_keeps_utf8_whole(void **state)
{
    (void)state;
    static const char *const chars[] = {"é", "€", "😀", "日本"};
    for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
        for (int prefix = 0; prefix < 4; prefix++) {
            struct arena a = ARENA_INIT;
            char summary[600];
            size_t n = 0;
            for (int i = 0; i < prefix; i++)
                summary[n++] = 'x';
            while (n + strlen(chars[c]) < 400) {
                memcpy(summary + n, chars[c], strlen(chars[c]));
                n += strlen(chars[c]);
            }
            summary[n] = '\0';
            struct ics_invite in = base_invite();
            in.summary = summary;
            const char *out = build(&a, &in);
            check_lines(out); /* each physical line is valid UTF-8 on its own */
            char *u = unfold(&a, out);
            assert_string_equal(line_value(&a, u, "\r\nSUMMARY:"), summary);
            arena_release(&a);
        }
    }
}

/* A content line of exactly 75 octets is not folded; one of 76 is. */
static void test_fold_boundary(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    char summary[80];
    memset(summary, 's', sizeof(summary));
    summary[75 - strlen("SUMMARY:")] = '\0';
    struct ics_invite in = base_invite();
    in.summary = summary;
    const char *out = build(&a, &in);
    const char *line = strstr(out, "\r\nSUMMARY:") + 2;
    assert_int_equal(strstr(line, "\r\n") - line, 75);
    assert_int_equal(strstr(line, "\r\n")[2], 'D'); /* DESCRIPTION follows, no fold */

    summary[75 - strlen("SUMMARY:")] = 's';
    summary[76 - strlen("SUMMARY:")] = '\0';
    out = build(&a, &in);
    line = strstr(out, "\r\nSUMMARY:") + 2;
    assert_int_equal(strstr(line, "\r\n") - line, 75);
    assert_memory_equal(strstr(line, "\r\n"), "\r\n s\r\n", 6);
    arena_release(&a);
}

static void expect_error(const struct ics_invite *in, bt_err code, const char *field,
                         const char *message_part)
{
    struct arena a = ARENA_INIT;
    struct bt_error e = BT_ERROR_INIT;
    const char *out = "untouched";
    size_t len = 12345;
    bt_err err = ics_invite_build(in, &a, &out, &len, &e);
    if (err != code)
        fail_msg("expected %s on %s, got %s: %s", bt_strerror(code), field, bt_strerror(err),
                 e.message);
    assert_string_equal(e.field, field);
    if (strstr(e.message, message_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.message, message_part);
    assert_string_equal(out, "untouched");
    assert_int_equal(len, 12345);
    arena_release(&a);
}

static void test_errors(void **state)
{
    (void)state;
    struct ics_invite in;

    in = base_invite(), in.uid = NULL;
    expect_error(&in, BT_EINVAL, "uid", "required");
    in = base_invite(), in.uid = "a\r\nBEGIN:VEVENT";
    expect_error(&in, BT_EINVAL, "uid", "one line");
    in = base_invite(), in.summary = "";
    expect_error(&in, BT_EINVAL, "summary", "required");
    in = base_invite(), in.summary = "Intro\ncall";
    expect_error(&in, BT_EINVAL, "summary", "one line");
    in = base_invite(), in.summary = "Intro\rcall";
    expect_error(&in, BT_EINVAL, "summary", "one line");
    in = base_invite(), in.summary = "bell \a";
    expect_error(&in, BT_EINVAL, "summary", "control character 0x07");
    in = base_invite(), in.summary = "del \x7f";
    expect_error(&in, BT_EINVAL, "summary", "control character 0x7f");
    in = base_invite(), in.summary = "caf\xc3";
    expect_error(&in, BT_EINVAL, "summary", "not valid UTF-8");
    in = base_invite(), in.summary = "overlong \xc0\xaf";
    expect_error(&in, BT_EINVAL, "summary", "not valid UTF-8");
    in = base_invite(), in.description = "ok\nbut \x1b[31m";
    expect_error(&in, BT_EINVAL, "description", "control character 0x1b");
    in = base_invite(), in.description = "surrogate \xed\xa0\x80";
    expect_error(&in, BT_EINVAL, "description", "not valid UTF-8");
    in = base_invite(), in.location = "Room\n2";
    expect_error(&in, BT_EINVAL, "location", "one line");

    in = base_invite(), in.url = "meet.example.com";
    expect_error(&in, BT_EINVAL, "url", "scheme");
    in = base_invite(), in.url = "https://meet.example.com/a b";
    expect_error(&in, BT_EINVAL, "url", "not allowed");
    in = base_invite(), in.url = "https://x/\r\nATTENDEE:mailto:evil@example.com";
    expect_error(&in, BT_EINVAL, "url", "not allowed");

    in = base_invite(), in.organizer.email = NULL;
    expect_error(&in, BT_EINVAL, "organizer.email", "required");
    in = base_invite(), in.organizer.email = "no-at-sign";
    expect_error(&in, BT_EINVAL, "organizer.email", "local@domain");
    in = base_invite(), in.organizer.email = "a@b@c";
    expect_error(&in, BT_EINVAL, "organizer.email", "local@domain");
    in = base_invite(), in.organizer.email = "a@example.com\r\nX:y";
    expect_error(&in, BT_EINVAL, "organizer.email", "mailto:");
    in = base_invite(), in.organizer.email = "a b@example.com";
    expect_error(&in, BT_EINVAL, "organizer.email", "mailto:");
    in = base_invite(), in.organizer.name = "Luca \"the rep\" Romano";
    expect_error(&in, BT_EINVAL, "organizer.name", "double quote");
    in = base_invite(), in.organizer.name = "Luca\nRomano";
    expect_error(&in, BT_EINVAL, "organizer.name", "one line");

    struct ics_person bad[] = {{"Ada", "ada@example.com"}, {"Bob\x01", "bob@example.com"}};
    in = base_invite(), in.attendees = bad, in.n_attendees = 2;
    expect_error(&in, BT_EINVAL, "attendees[1].name", "control character");
    bad[1].name = "Bob";
    bad[1].email = "bob";
    expect_error(&in, BT_EINVAL, "attendees[1].email", "local@domain");
    in = base_invite(), in.n_attendees = 0;
    expect_error(&in, BT_EINVAL, "attendees", "at least one");
    in = base_invite(), in.n_attendees = ICS_ATTENDEES_MAX + 1;
    expect_error(&in, BT_ETOOBIG, "attendees", "more than");

    in = base_invite(), in.end_ms = in.start_ms;
    expect_error(&in, BT_EINVAL, "end", "not after start");
    in = base_invite(), in.start_ms += 500;
    expect_error(&in, BT_EINVAL, "start", "whole second");
    in = base_invite(), in.end_ms = TIME_MAX_MS + 1;
    expect_error(&in, BT_EINVAL, "end", "9999");

    static char long_summary[ICS_LINE_FIELD_MAX + 2];
    memset(long_summary, 'a', ICS_LINE_FIELD_MAX + 1);
    in = base_invite(), in.summary = long_summary;
    expect_error(&in, BT_ETOOBIG, "summary", "longer than");

    /* No error struct: still refused. */
    struct arena a = ARENA_INIT;
    const char *out = NULL;
    in = base_invite(), in.uid = "";
    assert_int_equal(ics_invite_build(&in, &a, &out, NULL, NULL), BT_EINVAL);
    assert_null(out);
    arena_release(&a);
}

/* An arena too small for the text: BT_ETOOBIG, not a truncated invite. */
static void test_arena_limit(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    a.limit = 512;
    struct ics_invite in = base_invite();
    const char *out = NULL;
    struct bt_error e = BT_ERROR_INIT;
    assert_int_equal(ics_invite_build(&in, &a, &out, NULL, &e), BT_ETOOBIG);
    assert_null(out);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_invite),
        cmocka_unit_test(test_optional_fields_left_out),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_folding_long_description),
        cmocka_unit_test(test_folding_keeps_utf8_whole),
        cmocka_unit_test(test_fold_boundary),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_arena_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
