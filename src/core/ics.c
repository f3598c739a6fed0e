/*
 * ics.c - writes a meeting invite as iCalendar text (see ics.h).
 *
 * Everything is checked before anything is written, so an error leaves the
 * arena holding nothing the caller sees. Each content line is first built
 * whole (name, parameters, escaped value) in a scratch buffer and then
 * copied to the output with its folds: folding is a property of physical
 * lines, and doing it in one place, on the finished line, is what keeps
 * every line at 75 octets whatever the escaping added. The buffers grow by
 * doubling inside the arena (the old copy stays until the arena is
 * released, at most as much again as the output).
 */
#include "core/ics.h"

#include "util/intmath.h"
#include "util/text.h"
#include "util/timeutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL

/* ---- a growable buffer in the arena ---- */

struct ics_buf {
    struct arena *arena;
    char *data;
    size_t len, cap;
    bool failed; /* the arena's limit was reached */
};

static void buf_put(struct ics_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = arena_alloc_raw(b->arena, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        if (b->len > 0)
            memcpy(p, b->data, b->len);
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(struct ics_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* ---- checks ---- */

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * Common checks of a text field: present when required, at most `max`
 * bytes, valid UTF-8, and no control characters except, when
 * `multi_line`, tab and line breaks (tab is allowed on one line too: it is
 * white space in TEXT).
 */
static bt_err check_text(const char *field, const char *s, size_t max, bool required,
                         bool multi_line, struct bt_error *e)
{
    if (s == NULL || *s == '\0') {
        if (required)
            return bt_fail(e, BT_EINVAL, field, "%s is required", field);
        return BT_OK;
    }
    size_t n = strlen(s);
    if (n > max)
        return bt_fail(e, BT_ETOOBIG, field, "%s is longer than %zu bytes", field, max);
    size_t bad = utf8_invalid_at(s, n);
    if (bad != n)
        return bt_fail(e, BT_EINVAL, field, "%s is not valid UTF-8 (byte %zu)", field, bad);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t')
            continue;
        if (c == '\r' || c == '\n') {
            if (multi_line)
                continue;
            return bt_fail(e, BT_EINVAL, field, "%s must be one line (line break at byte %zu)",
                           field, i);
        }
        if (is_control(c))
            return bt_fail(e, BT_EINVAL, field, "%s contains control character 0x%02x at byte %zu",
                           field, c, i);
    }
    return BT_OK;
}

static bt_err check_name(const char *field, const char *name, struct bt_error *e)
{
    bt_err err = check_text(field, name, ICS_NAME_MAX, false, false, e);
    if (err != BT_OK)
        return err;
    if (name != NULL && strchr(name, '"') != NULL)
        return bt_fail(e, BT_EINVAL, field,
                       "%s contains a double quote, which an iCalendar parameter cannot hold",
                       field);
    return BT_OK;
}

/* Characters of a local part or domain that mailto: carries as they are. */
static bool is_email_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr(".!#$&'*+/=^_`{|}~-", c) != NULL;
}

static bt_err check_email(const char *field, const char *email, struct bt_error *e)
{
    if (email == NULL || *email == '\0')
        return bt_fail(e, BT_EINVAL, field, "%s is required", field);
    size_t n = strlen(email);
    if (n > ICS_EMAIL_MAX)
        return bt_fail(e, BT_ETOOBIG, field, "%s is longer than %d bytes", field, ICS_EMAIL_MAX);
    const char *at = strchr(email, '@');
    if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return bt_fail(e, BT_EINVAL, field, "%s is not an address of the form local@domain", field);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c != '@' && !is_email_char(c))
            return bt_fail(e, BT_EINVAL, field,
                           "%s: character at byte %zu cannot be written in a mailto: address",
                           field, i);
    }
    return BT_OK;
}

static bt_err check_url(const char *url, struct bt_error *e)
{
    if (url == NULL || *url == '\0')
        return BT_OK;
    size_t n = strlen(url);
    if (n > ICS_URL_MAX)
        return bt_fail(e, BT_ETOOBIG, "url", "url is longer than %d bytes", ICS_URL_MAX);
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986) */
    size_t i = 0;
    while ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
           (i > 0 &&
            ((url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.')))
        i++;
    if (i == 0 || url[i] != ':')
        return bt_fail(e, BT_EINVAL, "url", "url has no scheme (such as https:)");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL)
            return bt_fail(e, BT_EINVAL, "url",
                           "url: character at byte %zu is not allowed in a URI", i);
    }
    return BT_OK;
}

static bt_err check_time(const char *field, int64_t ms, bool whole_second, struct bt_error *e)
{
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS)
        return bt_fail(e, BT_EINVAL, field, "%s is outside the years 0000 to 9999", field);
    if (whole_second && ms % 1000 != 0)
        return bt_fail(e, BT_EINVAL, field, "%s is not a whole second", field);
    return BT_OK;
}

static bt_err check_invite(const struct ics_invite *in, struct bt_error *e)
{
    bt_err err;
    if ((err = check_text("uid", in->uid, ICS_UID_MAX, true, false, e)) != BT_OK ||
        (err = check_time("dtstamp", in->stamp_ms, false, e)) != BT_OK ||
        (err = check_time("start", in->start_ms, true, e)) != BT_OK ||
        (err = check_time("end", in->end_ms, true, e)) != BT_OK)
        return err;
    if (in->end_ms <= in->start_ms)
        return bt_fail(e, BT_EINVAL, "end", "end is not after start");
    if ((err = check_text("summary", in->summary, ICS_LINE_FIELD_MAX, true, false, e)) != BT_OK ||
        (err = check_text("description", in->description, ICS_DESCRIPTION_MAX, false, true, e)) !=
            BT_OK ||
        (err = check_text("location", in->location, ICS_LINE_FIELD_MAX, false, false, e)) !=
            BT_OK ||
        (err = check_url(in->url, e)) != BT_OK ||
        (err = check_name("organizer.name", in->organizer.name, e)) != BT_OK ||
        (err = check_email("organizer.email", in->organizer.email, e)) != BT_OK)
        return err;
    if (in->n_attendees == 0 || in->attendees == NULL)
        return bt_fail(e, BT_EINVAL, "attendees", "an invite needs at least one attendee");
    if (in->n_attendees > ICS_ATTENDEES_MAX)
        return bt_fail(e, BT_ETOOBIG, "attendees", "more than %d attendees", ICS_ATTENDEES_MAX);
    for (size_t i = 0; i < in->n_attendees; i++) {
        char field[BT_ERROR_FIELD_MAX];
        snprintf(field, sizeof(field), "attendees[%zu].name", i);
        if ((err = check_name(field, in->attendees[i].name, e)) != BT_OK)
            return err;
        snprintf(field, sizeof(field), "attendees[%zu].email", i);
        if ((err = check_email(field, in->attendees[i].email, e)) != BT_OK)
            return err;
    }
    return BT_OK;
}

/* ---- values ---- */

/* TEXT (RFC 5545 section 3.3.11): \\ \; \, and \n for a line break. */
static void put_text(struct ics_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            buf_put(b, "\\\\", 2);
            break;
        case ';':
            buf_put(b, "\\;", 2);
            break;
        case ',':
            buf_put(b, "\\,", 2);
            break;
        case '\r':
            if (s[1] == '\n')
                s++;
            buf_put(b, "\\n", 2);
            break;
        case '\n':
            buf_put(b, "\\n", 2);
            break;
        default:
            buf_put(b, s, 1);
        }
    }
}

/* A parameter value: quoted when it holds a character that ends one. */
static void put_param_value(struct ics_buf *b, const char *s)
{
    bool quote = strpbrk(s, ":;,") != NULL;
    if (quote)
        buf_put(b, "\"", 1);
    buf_puts(b, s);
    if (quote)
        buf_put(b, "\"", 1);
}

static void put_utc(struct ics_buf *b, int64_t ms)
{
    int64_t seconds = int_floor_div(ms, 1000);
    int64_t days = int_floor_div(seconds, 86400), sod = seconds - days * 86400;
    int64_t y;
    unsigned m, d;
    time_civil_from_days(days, &y, &m, &d);
    char s[32];
    snprintf(s, sizeof(s), "%04lld%02u%02uT%02u%02u%02uZ", (long long)y, m, d,
             (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
    buf_puts(b, s);
}

/* The number of bytes of the UTF-8 sequence that starts with `lead` (valid input). */
static size_t utf8_sequence_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead < 0xe0)
        return 2;
    if (lead < 0xf0)
        return 3;
    return 4;
}

/* Appends the content line in `line` to `out`, folded, with its CRLF. */
static void put_folded(struct ics_buf *out, const struct ics_buf *line)
{
    size_t col = 0;
    for (size_t i = 0; i < line->len;) {
        size_t n = utf8_sequence_len((unsigned char)line->data[i]);
        if (col + n > ICS_LINE_OCTETS) {
            buf_put(out, "\r\n ", 3);
            col = 1;
        }
        buf_put(out, line->data + i, n);
        col += n;
        i += n;
    }
    buf_put(out, "\r\n", 2);
}

/* ---- the invite ---- */

struct ics_writer {
    struct ics_buf out;
    struct ics_buf line;
};

static void line_begin(struct ics_writer *w, const char *name)
{
    w->line.len = 0;
    buf_puts(&w->line, name);
}

static void line_end(struct ics_writer *w)
{
    put_folded(&w->out, &w->line);
}

static void put_fixed(struct ics_writer *w, const char *whole_line)
{
    line_begin(w, whole_line);
    line_end(w);
}

static void put_text_property(struct ics_writer *w, const char *name, const char *value)
{
    line_begin(w, name);
    buf_put(&w->line, ":", 1);
    put_text(&w->line, value);
    line_end(w);
}

static void put_time_property(struct ics_writer *w, const char *name, int64_t ms)
{
    line_begin(w, name);
    buf_put(&w->line, ":", 1);
    put_utc(&w->line, ms);
    line_end(w);
}

static void put_person(struct ics_writer *w, const char *name, const char *params,
                       const struct ics_person *p)
{
    line_begin(w, name);
    if (p->name != NULL && *p->name != '\0') {
        buf_puts(&w->line, ";CN=");
        put_param_value(&w->line, p->name);
    }
    buf_puts(&w->line, params);
    buf_puts(&w->line, ":mailto:");
    buf_puts(&w->line, p->email);
    line_end(w);
}

bt_err ics_invite_build(const struct ics_invite *in, struct arena *arena, const char **out,
                        size_t *len_out, struct bt_error *e)
{
    if (in == NULL || arena == NULL || out == NULL)
        BT_BUG("ics_invite_build without an invite, an arena or an output");
    bt_err err = check_invite(in, e);
    if (err != BT_OK)
        return err;

    struct ics_writer w = {{arena, NULL, 0, 0, false}, {arena, NULL, 0, 0, false}};
    put_fixed(&w, "BEGIN:VCALENDAR");
    put_fixed(&w, "VERSION:2.0");
    put_fixed(&w, "PRODID:-//Baton//Baton//EN");
    put_fixed(&w, "CALSCALE:GREGORIAN");
    put_fixed(&w, "METHOD:REQUEST");
    put_fixed(&w, "BEGIN:VEVENT");
    put_text_property(&w, "UID", in->uid);
    put_time_property(&w, "DTSTAMP", in->stamp_ms);
    put_time_property(&w, "DTSTART", in->start_ms);
    put_time_property(&w, "DTEND", in->end_ms);
    put_text_property(&w, "SUMMARY", in->summary);
    if (in->description != NULL && *in->description != '\0')
        put_text_property(&w, "DESCRIPTION", in->description);
    if (in->location != NULL && *in->location != '\0')
        put_text_property(&w, "LOCATION", in->location);
    if (in->url != NULL && *in->url != '\0') {
        line_begin(&w, "URL:");
        buf_puts(&w.line, in->url);
        line_end(&w);
    }
    put_person(&w, "ORGANIZER", "", &in->organizer);
    for (size_t i = 0; i < in->n_attendees; i++)
        put_person(&w, "ATTENDEE", ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
                   &in->attendees[i]);
    put_fixed(&w, "SEQUENCE:0");
    put_fixed(&w, "STATUS:CONFIRMED");
    put_fixed(&w, "TRANSP:OPAQUE");
    put_fixed(&w, "END:VEVENT");
    put_fixed(&w, "END:VCALENDAR");

    if (w.out.failed || w.line.failed)
        return bt_fail(e, BT_ETOOBIG, NULL, "the invite does not fit in the request's memory");
    *out = w.out.data;
    if (len_out != NULL)
        *len_out = w.out.len;
    return BT_OK;
}
