/*
 * test_action_page.c - the pages of action links: escaping of hostile text
 * (markup, quotes, ampersands, invalid UTF-8, control characters), every
 * field and form of the assignment page, the forms each link action shows,
 * visible cuts of long texts and lists, the worst case fitting in
 * ACTION_PAGE_MAX and a page that does not fit refused whole, the time
 * left, the result and error pages, and the headers the server sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/action_page.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char page[ACTION_PAGE_MAX];

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + k, needle))
        n++;
    return n;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle)))                                                              \
            fail_msg("missing: %s", (needle));                                                     \
    } while (0)

#define assert_lacks(hay, needle)                                                                  \
    do {                                                                                           \
        if (strstr((hay), (needle)))                                                               \
            fail_msg("should not contain: %s", (needle));                                          \
    } while (0)

static const char *esc(const char *s, size_t len)
{
    static char out[4096];
    size_t n = 0;
    bt_err rc = action_page_escape(s, len, out, sizeof(out), &n);
    if (rc)
        fail_msg("escape: %s", bt_strerror(rc));
    assert_int_equal(n, strlen(out));
    return out;
}

#define ESC(s) esc((s), sizeof(s) - 1)

static void test_escape(void **state)
{
    (void)state;
    assert_string_equal(ESC("<script>alert('x')</script>"),
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    assert_string_equal(ESC("\"><img src=x onerror=alert(1)>"),
                        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_string_equal(ESC("AT&T &amp; co"), "AT&amp;T &amp;amp; co");
    assert_string_equal(ESC(""), "");
    /* valid UTF-8 passes, NBSP included; tab, LF and CR too */
    assert_string_equal(ESC("M\xc3\xbcller \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80"
                            "\xc2\xa0\t\n\r"),
                        "M\xc3\xbcller \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80"
                        "\xc2\xa0\t\n\r");
    /* invalid UTF-8: a byte each becomes U+FFFD */
    assert_string_equal(ESC("a\xff"
                            "b"),
                        "a\xef\xbf\xbd"
                        "b");
    assert_string_equal(ESC("\xc3"), "\xef\xbf\xbd");                 /* cut short */
    assert_string_equal(ESC("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
    assert_string_equal(ESC("\xed\xa0\x80"),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    assert_string_equal(ESC("\xf4\x90\x80\x80"),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* > U+10FFFF */
    assert_string_equal(ESC("<\xe2\x80<"), "&lt;\xef\xbf\xbd\xef\xbf\xbd&lt;");
    /* control characters, DEL, C1, and a NUL inside the given length */
    assert_string_equal(ESC("\x01\x1b[31m\x7f"), "\xef\xbf\xbd\xef\xbf\xbd[31m\xef\xbf\xbd");
    assert_string_equal(ESC("\xc2\x85\xc2\x9f"), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(ESC("a\0b"), "a\xef\xbf\xbd"
                                     "b");
    assert_string_equal(esc(NULL, 0), "");

    /* every byte value, alone: the output is valid UTF-8 with no markup */
    for (unsigned b = 0; b < 256; b++) {
        char in = (char)b;
        const char *out = esc(&in, 1);
        assert_true(utf8_valid(out, strlen(out)));
        assert_null(strpbrk(out, "<>\"'"));
        if (b == '&')
            assert_string_equal(out, "&amp;");
    }

    /* six bytes per byte are enough; a buffer one short is refused whole */
    char quotes[1000], out[6001];
    memset(quotes, '"', sizeof(quotes));
    size_t n = 0;
    assert_int_equal(action_page_escape(quotes, sizeof(quotes), out, sizeof(out), &n), BT_OK);
    assert_int_equal(n, 6000);
    assert_int_equal(action_page_escape(quotes, sizeof(quotes), out, 6000, &n), BT_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    assert_int_equal(action_page_escape("x", 1, out, 0, NULL), BT_ETOOBIG);
}

static const char *const top_reasons[] = {"Demo requested", "Company > 500 employees",
                                          "Visited pricing 3 times"};

static const int64_t now = 1795000000000LL; /* 2026-11-18T11:06:40Z */

static struct action_page_assignment sample(void)
{
    struct action_page_assignment a = {
        .lead_name = "Jane Doe",
        .company = "Acme GmbH",
        .score = 81.6,
        .grade = "A1",
        .reasons = top_reasons,
        .n_reasons = 3,
        .why = "Territory DACH, round robin in pool emea",
        .policy = "enterprise",
        .accept_by_ms = now + 12 * 60000 + 30000,
        .now_ms = now,
        .offer = LINK_ACTION_DECIDE,
        .csrf = "Q1NSRl92YWx1ZV9vZl90aGlzX2xpbmtfMDEyMzQ1Njc",
    };
    return a;
}

static void render(const struct action_page_assignment *a)
{
    struct bt_error err = BT_ERROR_INIT;
    size_t len = 0;
    bt_err rc = action_page_assignment(a, page, sizeof(page), &len, &err);
    if (rc)
        fail_msg("render: %s: %s", bt_strerror(rc), err.message);
    assert_int_equal(len, strlen(page));
    assert_true(utf8_valid(page, len));
}

/* Self-contained: nothing the browser would fetch, nothing it would run. */
static void assert_self_contained(const char *html)
{
    const char *never[] = {"<script", "src=",    "href=", "<link",  "<img",       "<iframe",
                           "url(",    "@import", "http:", "https:", "javascript:"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        assert_lacks(html, never[i]);
    const char *start = "<!DOCTYPE html>\n<html lang=\"en\">";
    assert_true(strncmp(html, start, strlen(start)) == 0);
    assert_contains(html, "<meta charset=\"utf-8\">");
    assert_contains(html, "<meta name=\"referrer\" content=\"no-referrer\">");
    assert_int_equal(count(html, "<style>"), 1);
    assert_contains(html, "</html>\n");
}

static void test_assignment_page_fields(void **state)
{
    (void)state;
    struct action_page_assignment a = sample();
    render(&a);
    assert_self_contained(page);
    assert_contains(page, "<title>Jane Doe \xc2\xb7 Baton</title>");
    assert_contains(page, "<h1>Jane Doe</h1>");
    assert_contains(page, "<p class=\"sub\">Acme GmbH</p>");
    assert_contains(page, "<dt>Score</dt><dd>82 \xc2\xb7 grade A1</dd>");
    assert_contains(page, "<dt>Why you</dt><dd>Territory DACH, round robin in pool emea</dd>");
    assert_contains(page, "<dt>Policy</dt><dd>enterprise</dd>");
    assert_contains(page, "<p class=\"left\">12 min left <span>\xc2\xb7 accept by 2026-11-18 "
                          "11:19 UTC</span></p>");
    assert_contains(page, "<li>Demo requested</li>\n<li>Company &gt; 500 employees</li>\n"
                          "<li>Visited pricing 3 times</li>");
    assert_lacks(page, "class=\"more\"");

    /* the accept form, then the reject form folded in <details>, then
     * "Open my inbox" */
    assert_int_equal(count(page, "<form method=\"post\" accept-charset=\"utf-8\">"), 3);
    assert_contains(page, "<input type=\"hidden\" name=\"action\" value=\"inbox\">\n"
                          "<input type=\"hidden\" name=\"csrf\" "
                          "value=\"Q1NSRl92YWx1ZV9vZl90aGlzX2xpbmtfMDEyMzQ1Njc\">\n"
                          "<button type=\"submit\" class=\"inbox\">Open my inbox</button>");
    assert_true(strstr(page, "</details>") < strstr(page, "value=\"inbox\""));
    assert_lacks(page, "action=\""); /* both post to the page's own URL */
    assert_contains(page, "<input type=\"hidden\" name=\"action\" value=\"accept\">\n"
                          "<input type=\"hidden\" name=\"csrf\" "
                          "value=\"Q1NSRl92YWx1ZV9vZl90aGlzX2xpbmtfMDEyMzQ1Njc\">");
    assert_contains(page, "<input type=\"hidden\" name=\"action\" value=\"reject\">\n"
                          "<input type=\"hidden\" name=\"csrf\" "
                          "value=\"Q1NSRl92YWx1ZV9vZl90aGlzX2xpbmtfMDEyMzQ1Njc\">");
    assert_true(strstr(page, "value=\"accept\"") < strstr(page, "<details>"));
    assert_true(strstr(page, "<details>") < strstr(page, "value=\"reject\""));
    assert_contains(page, "<select id=\"reason\" name=\"reason\" required>\n"
                          "<option value=\"\" selected disabled>Choose a reason</option>\n");
    /* no configured reasons: the built-in ones, every one */
    for (size_t i = 0; i < sla_n_default_reject_reasons; i++) {
        char opt[200];
        snprintf(opt, sizeof(opt), "<option value=\"%s\">%s</option>",
                 sla_default_reject_reasons[i].id, sla_default_reject_reasons[i].label);
        assert_contains(page, opt);
    }
    assert_contains(page, "<textarea id=\"note\" name=\"note\" maxlength=\"1000\" rows=\"3\">"
                          "</textarea>");
    assert_int_equal(count(page, "<button type=\"submit\""), 3);

    /* configured reasons replace the built-in ones */
    const struct sla_reject_reason mine[] = {
        {"too_small", "Too small for us", SLA_REJECT_RECYCLE},
        {"no_label", NULL, SLA_REJECT_REROUTE},
    };
    a.reject_reasons = mine;
    a.n_reject_reasons = 2;
    render(&a);
    assert_contains(page, "<option value=\"too_small\">Too small for us</option>");
    assert_contains(page, "<option value=\"no_label\">no_label</option>");
    assert_lacks(page, "wrong_territory");

    /* optional lines left out */
    a = sample();
    a.lead_name = "";
    a.company = NULL;
    a.grade = NULL;
    a.why = "";
    a.policy = NULL;
    a.accept_by_ms = 0;
    a.n_reasons = 0;
    a.reasons = NULL;
    render(&a);
    assert_contains(page, "<h1>(no name)</h1>");
    assert_lacks(page, "class=\"sub\"");
    assert_lacks(page, "grade");
    assert_lacks(page, "Why you");
    assert_lacks(page, "Policy");
    assert_lacks(page, " left");
    assert_lacks(page, "<ul>");
    assert_contains(page, "<dd>82</dd>");
}

static void test_assignment_page_offers(void **state)
{
    (void)state;
    struct action_page_assignment a = sample();
    a.offer = LINK_ACTION_ACCEPT;
    render(&a);
    assert_contains(page, "value=\"accept\"");
    assert_lacks(page, "value=\"reject\"");
    assert_lacks(page, "<select");
    a.offer = LINK_ACTION_REJECT;
    render(&a);
    assert_lacks(page, "value=\"accept\"");
    assert_contains(page, "value=\"reject\"");
    assert_lacks(page, "<details>"); /* the only form: shown open */
    assert_contains(page, "<select");

    /* overdue */
    a = sample();
    a.accept_by_ms = now - 1;
    render(&a);
    assert_contains(page, "<p class=\"left overdue\">overdue <span>\xc2\xb7 was due 2026-11-18 "
                          "11:06 UTC</span></p>");
}

static void test_assignment_page_hostile(void **state)
{
    (void)state;
    const char *evil = "<script>alert(\"x\")</script>' onmouseover='x' & \xff\xc3\x28 \x1b";
    const char *const reasons[] = {evil, NULL, "", evil};
    const struct sla_reject_reason rejects[] = {{"ok_id", evil, SLA_REJECT_REROUTE}};
    struct action_page_assignment a = {
        .lead_name = evil,
        .company = evil,
        .score = 1,
        .grade = evil,
        .reasons = reasons,
        .n_reasons = 4,
        .why = evil,
        .policy = evil,
        .now_ms = now,
        .offer = LINK_ACTION_DECIDE,
        .csrf = "\"><script>x</script>",
        .reject_reasons = rejects,
        .n_reject_reasons = 1,
    };
    render(&a);
    assert_self_contained(page);
    assert_lacks(page, "<script>");
    assert_lacks(page, "' on");
    assert_lacks(page, "\"><script");
    assert_lacks(page, "\x1b");
    assert_contains(page, "<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; "
                          "onmouseover=&#39;x&#39; &amp; \xef\xbf\xbd\xef\xbf\xbd( "
                          "\xef\xbf\xbd</h1>");
    assert_contains(page, "name=\"csrf\" value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"");
    /* empty reasons are skipped: two listed */
    assert_int_equal(count(page, "<li>&lt;script&gt;"), 2);
    assert_int_equal(count(page, "&lt;script&gt;alert"), 9); /* name twice, 7 fields */
}

static void test_assignment_page_bad_input(void **state)
{
    (void)state;
    struct bt_error err = BT_ERROR_INIT;
    struct action_page_assignment a = sample();
    a.csrf = NULL;
    strcpy(page, "junk");
    assert_int_equal(action_page_assignment(&a, page, sizeof(page), NULL, &err), BT_EINVAL);
    assert_string_equal(err.field, "csrf");
    assert_string_equal(page, "");
    a = sample();
    a.offer = (enum link_action)0;
    assert_int_equal(action_page_assignment(&a, page, sizeof(page), NULL, &err), BT_EINVAL);
    assert_string_equal(err.field, "offer");

    const char *bad_ids[] = {
        "",     "Wrong", "a b",
        "x\"y", "<b>",   "a1234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        struct sla_reject_reason r = {bad_ids[i], "label", SLA_REJECT_REROUTE};
        a = sample();
        a.reject_reasons = &r;
        a.n_reject_reasons = 1;
        if (action_page_assignment(&a, page, sizeof(page), NULL, &err) != BT_EINVAL)
            fail_msg("accepted reason id '%s'", bad_ids[i]);
        assert_string_equal(err.field, "reject_reasons");
    }
    struct sla_reject_reason many[ACTION_PAGE_REJECT_MAX + 1];
    for (size_t i = 0; i < ACTION_PAGE_REJECT_MAX + 1; i++)
        many[i] = (struct sla_reject_reason){"r", "R", SLA_REJECT_REROUTE};
    a = sample();
    a.reject_reasons = many;
    a.n_reject_reasons = ACTION_PAGE_REJECT_MAX + 1;
    assert_int_equal(action_page_assignment(&a, page, sizeof(page), NULL, &err), BT_EINVAL);
    a.n_reject_reasons = ACTION_PAGE_REJECT_MAX;
    render(&a);
}

static void test_visible_cuts(void **state)
{
    (void)state;
    /* 400 two-byte characters: 300 shown, cut on a character, then "…" */
    char name[801];
    for (size_t i = 0; i < 400; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[800] = '\0';
    const char *const reasons[] = {"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"};
    struct action_page_assignment a = sample();
    a.lead_name = name;
    a.reasons = reasons;
    a.n_reasons = 8;
    render(&a);
    char want[700] = "<h1>";
    memcpy(want + 4, name, 600);
    strcpy(want + 604, "\xe2\x80\xa6</h1>");
    assert_contains(page, want);
    assert_contains(page, "<li>r5</li>\n<li class=\"more\">and 3 more</li>\n</ul>");
    assert_lacks(page, "<li>r6</li>");
    /* exactly 300: no ellipsis */
    name[600] = '\0';
    render(&a);
    strcpy(want + 604, "</h1>");
    assert_contains(page, want);
}

static void test_sizes_bounded(void **state)
{
    (void)state;
    /* the worst case: every text at its cut, every character six bytes
     * escaped, every list full, the longest ids */
    char worst[ACTION_PAGE_TEXT_MAX * 2 + 1];
    memset(worst, '"', sizeof(worst) - 1);
    worst[sizeof(worst) - 1] = '\0';
    char id[ACTION_PAGE_REJECT_ID_MAX + 1];
    memset(id, 'z', ACTION_PAGE_REJECT_ID_MAX);
    id[ACTION_PAGE_REJECT_ID_MAX] = '\0';
    const char *reasons[ACTION_PAGE_REASONS_MAX + 1];
    for (size_t i = 0; i <= ACTION_PAGE_REASONS_MAX; i++)
        reasons[i] = worst;
    struct sla_reject_reason rejects[ACTION_PAGE_REJECT_MAX];
    for (size_t i = 0; i < ACTION_PAGE_REJECT_MAX; i++)
        rejects[i] = (struct sla_reject_reason){id, worst, SLA_REJECT_REROUTE};
    char csrf[LINK_CSRF_LEN + 1];
    memset(csrf, 'A', LINK_CSRF_LEN);
    csrf[LINK_CSRF_LEN] = '\0';
    struct action_page_assignment a = {
        .lead_name = worst,
        .company = worst,
        .score = -1e308,
        .grade = worst,
        .reasons = reasons,
        .n_reasons = ACTION_PAGE_REASONS_MAX + 1,
        .why = worst,
        .policy = worst,
        .accept_by_ms = TIME_MAX_MS,
        .now_ms = TIME_MIN_MS,
        .offer = LINK_ACTION_DECIDE,
        .csrf = csrf,
        .reject_reasons = rejects,
        .n_reject_reasons = ACTION_PAGE_REJECT_MAX,
    };
    size_t len = 0;
    assert_int_equal(action_page_assignment(&a, page, sizeof(page), &len, NULL), BT_OK);
    assert_true(len < ACTION_PAGE_MAX);
    print_message("worst-case assignment page: %zu bytes of %d\n", len, ACTION_PAGE_MAX);

    /* a buffer one byte short (no room for the NUL) is refused whole */
    char *small = malloc(len);
    struct bt_error err = BT_ERROR_INIT;
    size_t got = 99;
    assert_int_equal(action_page_assignment(&a, small, len, &got, &err), BT_ETOOBIG);
    assert_string_equal(small, "");
    assert_int_equal(got, 0);
    assert_int_equal(err.code, BT_ETOOBIG);
    assert_int_equal(action_page_assignment(&a, small, 0, NULL, NULL), BT_ETOOBIG);
    free(small);
    small = malloc(len + 1);
    assert_int_equal(action_page_assignment(&a, small, len + 1, &got, NULL), BT_OK);
    assert_int_equal(got, len);
    assert_memory_equal(small, page, len + 1);
    free(small);

    /* result and error pages with the longest detail fit as well */
    assert_int_equal(
        action_page_result(ACTION_RESULT_ACCEPTED, worst, worst, page, sizeof(page), &len, NULL),
        BT_OK);
    for (int k = ACTION_ERROR_INVALID; k <= ACTION_ERROR_UNAVAILABLE; k++)
        assert_int_equal(
            action_page_error((enum action_page_error)k, worst, page, sizeof(page), &len, NULL),
            BT_OK);
    char tiny[64];
    assert_int_equal(action_page_error(ACTION_ERROR_INVALID, NULL, tiny, sizeof(tiny), &len, NULL),
                     BT_ETOOBIG);
    assert_string_equal(tiny, "");
}

static const char *left(int64_t ms)
{
    static char out[64];
    action_page_time_left(now + ms, now, out, sizeof(out));
    return out;
}

static void test_time_left(void **state)
{
    (void)state;
    assert_string_equal(left(0), "overdue");
    assert_string_equal(left(-3600000), "overdue");
    assert_string_equal(left(1), "less than a minute left");
    assert_string_equal(left(59999), "less than a minute left");
    assert_string_equal(left(60000), "1 min left");
    assert_string_equal(left(12 * 60000 + 59999), "12 min left"); /* rounded down */
    assert_string_equal(left(59 * 60000 + 59999), "59 min left");
    assert_string_equal(left(3600000), "1 h left");
    assert_string_equal(left(3600000 + 5 * 60000), "1 h 5 min left");
    assert_string_equal(left(23 * 3600000LL + 59 * 60000), "23 h 59 min left");
    assert_string_equal(left(24 * 3600000LL), "1 day left");
    assert_string_equal(left(24 * 3600000LL + 59 * 60000), "1 day left");
    assert_string_equal(left(3 * 24 * 3600000LL + 4 * 3600000LL), "3 days 4 h left");
    char out[64];
    action_page_time_left(INT64_MAX, INT64_MIN + 1, out, sizeof(out)); /* no overflow */
    assert_non_null(strstr(out, "days"));
}

static void test_result_pages(void **state)
{
    (void)state;
    size_t len = 0;
    assert_int_equal(action_page_result(ACTION_RESULT_ACCEPTED, "Jane <Doe>",
                                        "Contact her by 11:00 UTC & log it.", page, sizeof(page),
                                        &len, NULL),
                     BT_OK);
    assert_int_equal(len, strlen(page));
    assert_self_contained(page);
    assert_contains(page, "<title>Accepted \xc2\xb7 Baton</title>");
    assert_contains(page, "<h1>Accepted \xe2\x80\x94 the lead is yours</h1>");
    assert_contains(page, "<p class=\"sub\">Jane &lt;Doe&gt;</p>");
    assert_contains(page, "<p>Contact her by 11:00 UTC &amp; log it.</p>");
    assert_lacks(page, "<form");

    assert_int_equal(
        action_page_result(ACTION_RESULT_REJECTED, NULL, NULL, page, sizeof(page), &len, NULL),
        BT_OK);
    assert_contains(page, "<h1>Rejected</h1>");
    assert_contains(page, "<p>Thanks: your reason was recorded.</p>");
    assert_lacks(page, "class=\"sub\"");

    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(
        action_page_result((enum action_page_result)7, NULL, NULL, page, sizeof(page), &len, &err),
        BT_EINVAL);
    assert_string_equal(page, "");
}

static void test_error_pages(void **state)
{
    (void)state;
    const struct {
        enum action_page_error kind;
        unsigned status;
        const char *title;
    } kinds[] = {
        {ACTION_ERROR_INVALID, 403, "This link is not valid"},
        {ACTION_ERROR_EXPIRED, 410, "This link has expired"},
        {ACTION_ERROR_MOVED_ON, 409, "This assignment has moved on"},
        {ACTION_ERROR_NOT_FOUND, 404, "Assignment not found"},
        {ACTION_ERROR_BAD_FORM, 400, "The form could not be sent"},
        {ACTION_ERROR_UNAVAILABLE, 503, "Baton is unavailable"},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t len = 0;
        assert_int_equal(action_page_error(kinds[i].kind, NULL, page, sizeof(page), &len, NULL),
                         BT_OK);
        assert_int_equal(len, strlen(page));
        assert_self_contained(page);
        char h1[128];
        snprintf(h1, sizeof(h1), "<h1>%s</h1>\n<p>", kinds[i].title);
        assert_contains(page, h1);
        assert_int_equal(action_page_error_status(kinds[i].kind), kinds[i].status);
    }
    /* the detail replaces the kind's own message, escaped */
    assert_int_equal(action_page_error(ACTION_ERROR_MOVED_ON,
                                       "It expired at 10:05:00Z and was reassigned to "
                                       "luca.romano <b>",
                                       page, sizeof(page), NULL, NULL),
                     BT_OK);
    assert_contains(page, "<p>It expired at 10:05:00Z and was reassigned to luca.romano "
                          "&lt;b&gt;</p>");
    assert_lacks(page, "after this link was sent");
    assert_int_equal(action_page_error(ACTION_ERROR_EXPIRED, NULL, page, sizeof(page), NULL, NULL),
                     BT_OK);
    assert_contains(page, "Action links work for a limited time.");

    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(
        action_page_error((enum action_page_error)99, NULL, page, sizeof(page), NULL, &err),
        BT_EINVAL);
    assert_int_equal(action_page_error_status((enum action_page_error)99), 500);
}

static void test_headers(void **state)
{
    (void)state;
    const char *want[][2] = {
        {"Content-Type", "text/html; charset=utf-8"}, {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},           {"Cache-Control", "no-store"},
        {"X-Content-Type-Options", "nosniff"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool found = false;
        for (size_t k = 0; k < action_page_n_headers; k++)
            if (strcmp(action_page_headers[k].name, want[i][0]) == 0) {
                assert_string_equal(action_page_headers[k].value, want[i][1]);
                found = true;
            }
        if (!found)
            fail_msg("no %s header", want[i][0]);
    }
    const char *csp = NULL;
    for (size_t k = 0; k < action_page_n_headers; k++)
        if (strcmp(action_page_headers[k].name, "Content-Security-Policy") == 0)
            csp = action_page_headers[k].value;
    assert_non_null(csp);
    assert_contains(csp, "default-src 'none'");
    assert_contains(csp, "style-src 'unsafe-inline'");
    assert_contains(csp, "form-action 'self'");
    assert_contains(csp, "frame-ancestors 'none'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_assignment_page_fields),
        cmocka_unit_test(test_assignment_page_offers),
        cmocka_unit_test(test_assignment_page_hostile),
        cmocka_unit_test(test_assignment_page_bad_input),
        cmocka_unit_test(test_visible_cuts),
        cmocka_unit_test(test_sizes_bounded),
        cmocka_unit_test(test_time_left),
        cmocka_unit_test(test_result_pages),
        cmocka_unit_test(test_error_pages),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests_name("action_page", tests, NULL, NULL);
}
