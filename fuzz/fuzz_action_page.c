/*
 * fuzz_action_page.c - libFuzzer target: arbitrary bytes as every text of
 * the action pages. The escaped text must be valid UTF-8 without markup
 * characters, and a page rendered with the input in every field must have
 * exactly the markup of the same page rendered with a plain word: the input
 * can add no tag, attribute or quote.
 */
#include "server/action_page.h"
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char page[ACTION_PAGE_MAX], plain[ACTION_PAGE_MAX];

static void markup(const char *s, size_t counts[4])
{
    memset(counts, 0, 4 * sizeof(size_t));
    for (; *s; s++) {
        const char *at = strchr("<>\"'", *s);
        if (at)
            counts[at - "<>\"'"]++;
    }
}

static size_t render(const char *text, size_t n_reasons)
{
    const char *const reasons[] = {text, text, text, text, text, text, text};
    const struct sla_reject_reason rejects[] = {{"a_reason", text, SLA_REJECT_REROUTE}};
    struct action_page_assignment a = {
        .lead_name = text,
        .company = text,
        .score = 50,
        .grade = text,
        .reasons = reasons,
        .n_reasons = n_reasons,
        .why = text,
        .policy = text,
        .accept_by_ms = 1795000000000LL,
        .now_ms = 1794999000000LL,
        .offer = LINK_ACTION_DECIDE,
        .csrf = text,
        .reject_reasons = rejects,
        .n_reject_reasons = 1,
    };
    size_t len = 0;
    if (action_page_assignment(&a, page, sizeof(page), &len, NULL) != BT_OK)
        abort(); /* every input fits: texts are cut */
    if (len != strlen(page) || !utf8_valid(page, len))
        abort();
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[6 * 65536 + 1];
    if (size > 65536)
        return 0;
    size_t n = 0;
    if (action_page_escape((const char *)data, size, out, sizeof(out), &n) != BT_OK ||
        n != strlen(out) || !utf8_valid(out, n) || strpbrk(out, "<>\"'"))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            abort();
    }

    /* the input as a C string (up to its first NUL) in every field; the
     * csrf is escaped whole, so keep it short enough for the page */
    char text[2048];
    size_t len = strnlen((const char *)data, size < sizeof(text) - 1 ? size : sizeof(text) - 1);
    memcpy(text, data, len);
    text[len] = '\0';
    if (len == 0)
        return 0;
    size_t want[4], got[4];
    render("word", 7);
    memcpy(plain, page, sizeof(plain));
    render(text, 7);
    markup(plain, want);
    markup(page, got);
    if (memcmp(want, got, sizeof(want)) != 0)
        abort(); /* the input added markup */
    char err_page[ACTION_PAGE_MAX];
    if (action_page_error(ACTION_ERROR_MOVED_ON, text, err_page, sizeof(err_page), NULL, NULL) !=
            BT_OK ||
        !utf8_valid(err_page, strlen(err_page)))
        abort();
    return 0;
}
