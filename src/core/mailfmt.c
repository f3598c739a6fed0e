/*
 * mailfmt.c - mail header values (mailfmt.h).
 *
 * The encoder works in two passes over the same code, one that only counts
 * and one that writes, so that the arena is asked once for exactly the
 * room the value needs. Words are cut at UTF-8 character boundaries: the
 * text has been checked to be valid UTF-8 first, so a character's length
 * is known from its lead byte. Base64 comes from util/crypto (libcrypto:
 * a pure computation).
 */
#include "core/mailfmt.h"
#include "util/crypto.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define WORD_OPEN     "=?UTF-8?B?"
#define WORD_CLOSE    "?="
#define WORD_OVERHEAD (sizeof(WORD_OPEN) - 1 + sizeof(WORD_CLOSE) - 1)
/* The most bytes of text one full-size word carries: base64 of 45 bytes is
 * 60 characters, 72 with the delimiters; 46 bytes would take 76. */
#define WORD_BYTES_MAX ((MAILFMT_WORD_MAX - WORD_OVERHEAD) / 4 * 3)
/* The shortest word worth writing: one 4-byte character. */
#define WORD_MIN_LEN (WORD_OVERHEAD + CRYPTO_BASE64_LEN(4))

_Static_assert(WORD_BYTES_MAX == 45, "WORD_BYTES_MAX");
_Static_assert(WORD_OVERHEAD + CRYPTO_BASE64_LEN(WORD_BYTES_MAX) <= MAILFMT_WORD_MAX, "word");
_Static_assert(1 + MAILFMT_WORD_MAX <= MAILFMT_LINE_MAX, "a folded line holds a full word");

/* The length of the UTF-8 character whose lead byte is c (valid text). */
static size_t utf8_char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Checks header text s[0..len) (a display name when field is "name"). */
static bt_err check_text(const char *s, size_t len, const char *field, struct bt_error *err)
{
    if (len > MAILFMT_TEXT_MAX)
        return bt_fail(err, BT_ETOOBIG, field, "header text of %zu bytes, more than %d", len,
                       MAILFMT_TEXT_MAX);
    if (memchr(s, '\r', len) || memchr(s, '\n', len))
        return bt_fail(err, BT_EINVAL, field,
                       "header text must not contain a line break (header injection)");
    if (!utf8_valid(s, len))
        return bt_fail(err, BT_EINVAL, field, "header text is not valid UTF-8 (byte %zu)",
                       utf8_invalid_at(s, len));
    if (text_has_control(s))
        return bt_fail(err, BT_EINVAL, field, "header text must not contain control characters");
    return BT_OK;
}

static bool printable_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < ' ' || s[i] > '~')
            return false;
    }
    return true;
}

/* True when s[0..len) holds "=?", which could open an encoded-word. */
static bool has_word_start(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] == '=' && s[i + 1] == '?')
            return true;
    }
    return false;
}

/*
 * Writes s[0..len) (valid UTF-8) as folded encoded-words at out, or only
 * counts when out is NULL; returns the characters written (no NUL) and the
 * length of the last line in *last_line. used is what the first line holds
 * already.
 */
static size_t encode_words(const char *s, size_t len, size_t used, char *out, size_t *last_line)
{
    size_t at = 0, i = 0;
    size_t line = used;
    bool first = true;
    while (i < len || first) {
        size_t room = MAILFMT_LINE_MAX > line ? MAILFMT_LINE_MAX - line : 0;
        if (!first || room < WORD_MIN_LEN) {
            /* a new line; when the caller's first line has no room for a
             * word, the value starts with the fold */
            if (out)
                memcpy(out + at, MAILFMT_FOLD, 3);
            at += 3;
            line = 1;
            room = MAILFMT_LINE_MAX - 1;
        }
        if (room > MAILFMT_WORD_MAX)
            room = MAILFMT_WORD_MAX;
        size_t cap = (room - WORD_OVERHEAD) / 4 * 3;
        size_t start = i;
        while (i < len && i - start + utf8_char_len((unsigned char)s[i]) <= cap)
            i += utf8_char_len((unsigned char)s[i]);
        size_t word = WORD_OVERHEAD + CRYPTO_BASE64_LEN(i - start);
        if (out) {
            char b64[CRYPTO_BASE64_LEN(WORD_BYTES_MAX) + 1];
            crypto_base64_encode(s + start, i - start, b64, sizeof(b64));
            memcpy(out + at, WORD_OPEN, sizeof(WORD_OPEN) - 1);
            memcpy(out + at + sizeof(WORD_OPEN) - 1, b64, word - WORD_OVERHEAD);
            memcpy(out + at + word - 2, WORD_CLOSE, 2);
        }
        at += word;
        line += word;
        first = false;
    }
    *last_line = line;
    return at;
}

/* The encoded-words of s[0..len) in the arena, with *last_line as above. */
static bt_err encode_in(struct arena *a, const char *s, size_t len, size_t used, size_t extra,
                        char **out, size_t *n, size_t *last_line, struct bt_error *err)
{
    size_t need = encode_words(s, len, used, NULL, last_line);
    char *buf = arena_alloc_raw(a, need + extra + 1);
    if (!buf)
        return bt_fail(err, BT_ETOOBIG, NULL, "no room for a header of %zu characters", need);
    encode_words(s, len, used, buf, last_line);
    buf[need] = '\0';
    *out = buf;
    *n = need;
    return BT_OK;
}

bt_err mailfmt_header_text(struct arena *a, const char *text, size_t used, const char **out,
                           struct bt_error *err)
{
    *out = NULL;
    size_t len = strnlen(text, MAILFMT_TEXT_MAX + 1);
    bt_err rc = check_text(text, len, "text", err);
    if (rc)
        return rc;
    if (printable_ascii(text, len) && !has_word_start(text, len)) {
        *out = arena_strndup(a, text, len);
        return *out ? BT_OK : bt_fail(err, BT_ETOOBIG, NULL, "no room for a header");
    }
    char *buf;
    size_t n, last;
    rc = encode_in(a, text, len, used, 0, &buf, &n, &last, err);
    if (rc == BT_OK)
        *out = buf;
    return rc;
}

/* RFC 5322 atext: the characters of an atom. */
static bool is_atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* True when s[0..len) is atoms separated by single spaces: a phrase that
 * needs no quotes (if it holds no "=?", which the caller checks). */
static bool plain_phrase(const char *s, size_t len)
{
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' ? s[i + 1] == ' ' : !is_atext(s[i]))
            return false;
    }
    return true;
}

static bt_err check_address(const char *s, size_t len, struct bt_error *err)
{
    if (len < 3 || len > MAILFMT_ADDRESS_MAX)
        return bt_fail(err, BT_EINVAL, "address", "an address is 3 to %d characters",
                       MAILFMT_ADDRESS_MAX);
    const char *at = NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            return bt_fail(err, BT_EINVAL, "address",
                           "an address must not contain a line break (header injection)");
        if (s[i] <= ' ' || s[i] > '~')
            return bt_fail(err, BT_EINVAL, "address",
                           "an address is printable ASCII without spaces");
        if (strchr("<>()[],;:\\\"", s[i]))
            return bt_fail(err, BT_EINVAL, "address", "an address must not contain '%c'", s[i]);
        if (s[i] == '@') {
            if (at)
                return bt_fail(err, BT_EINVAL, "address", "an address has one '@'");
            at = s + i;
        }
    }
    if (!at || at == s || at == s + len - 1)
        return bt_fail(err, BT_EINVAL, "address", "an address is local-part@domain");
    return BT_OK;
}

bt_err mailfmt_address(struct arena *a, const char *display_name, const char *address, size_t used,
                       const char **out, struct bt_error *err)
{
    *out = NULL;
    size_t alen = strnlen(address, MAILFMT_ADDRESS_MAX + 1);
    bt_err rc = check_address(address, alen, err);
    if (rc)
        return rc;
    size_t nlen = display_name ? strnlen(display_name, MAILFMT_TEXT_MAX + 1) : 0;
    if (nlen == 0) {
        *out = arena_strndup(a, address, alen);
        return *out ? BT_OK : bt_fail(err, BT_ETOOBIG, NULL, "no room for an address");
    }
    rc = check_text(display_name, nlen, "name", err);
    if (rc)
        return rc;

    char *buf;
    size_t n;
    if (printable_ascii(display_name, nlen)) {
        /* in quotes "=?" is not an encoded-word: no need to encode it */
        bool quote = !plain_phrase(display_name, nlen) || has_word_start(display_name, nlen);
        /* the worst case: quotes, a backslash before every byte, " <", ">" */
        buf = arena_alloc_raw(a, 2 * nlen + alen + 6);
        if (!buf)
            return bt_fail(err, BT_ETOOBIG, NULL, "no room for an address");
        n = 0;
        if (quote)
            buf[n++] = '"';
        for (size_t i = 0; i < nlen; i++) {
            if (quote && (display_name[i] == '"' || display_name[i] == '\\'))
                buf[n++] = '\\';
            buf[n++] = display_name[i];
        }
        if (quote)
            buf[n++] = '"';
        buf[n++] = ' ';
    } else {
        size_t last;
        rc = encode_in(a, display_name, nlen, used, alen + 5, &buf, &n, &last, err);
        if (rc)
            return rc;
        if (last + 1 + alen + 2 > MAILFMT_LINE_MAX) {
            memcpy(buf + n, MAILFMT_FOLD, 3);
            n += 3;
        } else {
            buf[n++] = ' ';
        }
    }
    buf[n++] = '<';
    memcpy(buf + n, address, alen);
    n += alen;
    buf[n++] = '>';
    buf[n] = '\0';
    *out = buf;
    return BT_OK;
}

#define MAILFMT_MS_MIN (-2208988800000LL) /* 1900-01-01T00:00:00Z */

bt_err mailfmt_date(int64_t ms, char out[MAILFMT_DATE_LEN + 1], struct bt_error *err)
{
    static const char *const weekdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    out[0] = '\0';
    if (ms < MAILFMT_MS_MIN || ms > TIME_MAX_MS)
        return bt_fail(err, BT_EINVAL, "date", "an instant outside the years 1900 to 9999");
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t secs = s - days * 86400;
    int64_t y;
    unsigned m, d;
    time_civil_from_days(days, &y, &m, &d);
    /* 1970-01-01 was a Thursday */
    int64_t wd = ((days % 7) + 7) % 7;
    int n = snprintf(out, MAILFMT_DATE_LEN + 1, "%s, %02u %s %04lld %02d:%02d:%02d +0000",
                     weekdays[wd], d, months[m - 1], (long long)y, (int)(secs / 3600),
                     (int)(secs / 60 % 60), (int)(secs % 60));
    if (n != MAILFMT_DATE_LEN)
        BT_BUG("date of %d characters", n);
    return BT_OK;
}

/* True when s[0..len) is an RFC 5322 dot-atom-text. */
static bool dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
            return false;
    }
    return true;
}

bt_err mailfmt_message_id(struct arena *a, const char *id, const char *unique, const char *domain,
                          const char **out, struct bt_error *err)
{
    *out = NULL;
    const struct {
        const char *field, *value;
        size_t max;
    } parts[] = {
        {"id", id, MAILFMT_ID_PART_MAX},
        {"unique", unique, MAILFMT_ID_PART_MAX},
        {"domain", domain, MAILFMT_DOMAIN_MAX},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t len = parts[i].value ? strnlen(parts[i].value, parts[i].max + 1) : 0;
        if (len > parts[i].max || !dot_atom(parts[i].value, len))
            return bt_fail(err, BT_EINVAL, parts[i].field,
                           "a Message-ID's %s is 1 to %zu characters of letters, digits, dots "
                           "and !#$%%&'*+-/=?^_`{|}~",
                           parts[i].field, parts[i].max);
    }
    *out = arena_printf(a, "<baton.%s.%s@%s>", id, unique, domain);
    return *out ? BT_OK : bt_fail(err, BT_ETOOBIG, NULL, "no room for a Message-ID");
}
