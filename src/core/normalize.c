/*
 * normalize.c - from what a client sent to a clean `struct lead`.
 *
 * The rules are written in normalize.h; this file applies them in one pass
 * over the input attributes. Validation that would lose a lead for a
 * cosmetic reason is deliberately absent: an unknown country or an odd
 * employee count becomes a warning, and only what the header calls an error
 * (a malformed email, website or phone, an over-long attribute, a lead with
 * no way to reach the person) fails. Character tests are written out for
 * ASCII instead of using <ctype.h>, whose answers depend on the locale.
 * Country names live in country.c and consumer mail domains in freemail.c.
 */
#include "core/normalize.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EMAIL_LOCAL_MAX            64
#define EMAIL_MAX                  254
#define DOMAIN_MAX                 253
#define LABEL_MAX                  63
#define PHONE_DIGITS_MIN           5
#define PHONE_DIGITS_MAX           20
#define PHONE_EXTENSION_DIGITS_MAX 10

/* Guards the employee arithmetic against overflow; no company is this big. */
#define EMPLOYEES_WHOLE_MAX       1000000000000LL
#define EMPLOYEES_FRACTION_DIGITS 6

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Length of the whitespace character at `p`: ASCII blanks or U+00A0. */
static size_t space_at(const char *p)
{
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        return 1;
    if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0)
        return 2;
    return 0;
}

/* Length of the whitespace character that ends at `end` (after `start`). */
static size_t space_before(const char *start, const char *end)
{
    if (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        return 1;
    if (end - start >= 2 && (unsigned char)end[-2] == 0xC2 && (unsigned char)end[-1] == 0xA0)
        return 2;
    return 0;
}

static const char *trim_bounds(const char *s, size_t *len)
{
    size_t n;
    while ((n = space_at(s)) != 0)
        s += n;
    const char *end = s + strlen(s);
    while ((n = space_before(s, end)) != 0)
        end -= n;
    *len = (size_t)(end - s);
    return s;
}

const char *normalize_trim(struct arena *arena, const char *s)
{
    if (!s)
        return NULL;
    size_t len;
    const char *start = trim_bounds(s, &len);
    return len ? arena_strndup(arena, start, len) : NULL;
}

static bt_err out_of_memory(struct bt_error *err, const char *field)
{
    return bt_fail(err, BT_ETOOBIG, field, "the request is too large to process");
}

/*
 * Checks a host name: LDH labels of 1-63 characters, no hyphen at either end
 * of a label, at least two labels, 253 characters in all, and a last label
 * that is not all digits (which also keeps IPv4 addresses out). Returns NULL
 * when valid, otherwise why not.
 */
static const char *domain_problem(const char *d, size_t len)
{
    if (len == 0)
        return "the domain is empty";
    if (len > DOMAIN_MAX)
        return "the domain is longer than 253 characters";
    size_t labels = 0;
    size_t start = 0;
    bool last_all_digits = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.') {
            if (!is_alpha(d[i]) && !is_digit(d[i]) && d[i] != '-')
                return "the domain may contain only letters, digits, hyphens and dots";
            continue;
        }
        size_t label_len = i - start;
        if (label_len == 0)
            return "the domain has an empty label";
        if (label_len > LABEL_MAX)
            return "a label of the domain is longer than 63 characters";
        if (d[start] == '-' || d[i - 1] == '-')
            return "a label of the domain starts or ends with a hyphen";
        last_all_digits = true;
        for (size_t j = start; j < i; j++) {
            if (!is_digit(d[j]))
                last_all_digits = false;
        }
        labels++;
        start = i + 1;
    }
    if (labels < 2)
        return "the domain needs at least two labels, like example.com";
    if (last_all_digits)
        return "the top-level domain is all digits";
    return NULL;
}

static bool is_atom_char(char c)
{
    return c != '\0' && (is_alpha(c) || is_digit(c) || strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static const char *local_part_problem(const char *local, size_t len)
{
    if (len == 0)
        return "nothing before the \"@\"";
    if (len > EMAIL_LOCAL_MAX)
        return "the part before the \"@\" is longer than 64 characters";
    if (local[0] == '.' || local[len - 1] == '.')
        return "the part before the \"@\" starts or ends with a dot";
    for (size_t i = 0; i < len; i++) {
        if (!is_atom_char(local[i]))
            return "the part before the \"@\" contains a character that is not allowed";
        if (local[i] == '.' && i + 1 < len && local[i + 1] == '.')
            return "the part before the \"@\" contains two dots in a row";
    }
    return NULL;
}

bt_err normalize_email(struct arena *arena, const char *email, const char **email_out,
                       const char **domain_out, struct bt_error *err)
{
    const char *field = lead_attrs[LEAD_EMAIL].name;
    if (!email)
        return bt_fail(err, BT_EINVAL, field, "not a valid email address: it is empty");
    if (strncasecmp(email, "mailto:", 7) == 0)
        email += 7;
    size_t len = strlen(email);
    const char *problem = NULL;
    const char *at = memchr(email, '@', len);
    if (len == 0)
        problem = "it is empty";
    else if (len > EMAIL_MAX)
        problem = "it is longer than 254 characters";
    else if (!at)
        problem = "it has no \"@\"";
    else if (memchr(at + 1, '@', len - (size_t)(at - email) - 1))
        problem = "it has more than one \"@\"";
    else
        problem = local_part_problem(email, (size_t)(at - email));
    if (!problem)
        problem = domain_problem(at + 1, len - (size_t)(at - email) - 1);
    if (problem)
        return bt_fail(err, BT_EINVAL, field, "not a valid email address: %s", problem);

    char *copy = arena_strndup(arena, email, len);
    if (!copy)
        return out_of_memory(err, field);
    for (char *p = copy; *p; p++)
        *p = to_lower(*p);
    *email_out = copy;
    *domain_out = copy + (at - email) + 1;
    return BT_OK;
}

static bool is_scheme_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}

bt_err normalize_website_domain(struct arena *arena, const char *website, const char **domain_out,
                                struct bt_error *err)
{
    const char *field = lead_attrs[LEAD_WEBSITE].name;
    if (!website)
        return bt_fail(err, BT_EINVAL, field, "the website is empty");

    /* Only a real "scheme://" counts: "x.com/?u=http://y" has a path instead. */
    const char *p = website;
    const char *scheme_end = strstr(p, "://");
    if (scheme_end && scheme_end > p && is_alpha(p[0])) {
        const char *q = p;
        while (q < scheme_end && is_scheme_char(*q))
            q++;
        if (q == scheme_end)
            p = scheme_end + 3;
    } else if (p[0] == '/' && p[1] == '/') {
        p += 2;
    }
    const char *host_end = p + strcspn(p, "/?#\\");
    for (const char *q = host_end; q > p; q--) {
        if (q[-1] == '@') {
            p = q;
            break;
        }
    }
    const char *colon = memchr(p, ':', (size_t)(host_end - p));
    if (colon)
        host_end = colon;
    size_t len = (size_t)(host_end - p);
    if (len > 0 && p[len - 1] == '.')
        len--; /* the root of a fully qualified name */

    const char *problem = NULL;
    if (len == 0)
        problem = "it has no host name";
    else if (len > DOMAIN_MAX + 4)
        problem = "its host name is longer than 253 characters";
    if (problem)
        return bt_fail(err, BT_EINVAL, field, "not a valid website: %s", problem);

    char *host = arena_strndup(arena, p, len);
    if (!host)
        return out_of_memory(err, field);
    for (char *c = host; *c; c++)
        *c = to_lower(*c);
    /* "www.com" is a domain in its own right; only strip "www." off a longer name. */
    if (strncmp(host, "www.", 4) == 0 && strchr(host + 4, '.')) {
        host += 4;
        len -= 4;
    }
    problem = domain_problem(host, len);
    if (problem)
        return bt_fail(err, BT_EINVAL, field, "not a valid website: %s", problem);
    *domain_out = host;
    return BT_OK;
}

bt_err normalize_phone(const char *phone, struct bt_error *err)
{
    const char *field = lead_attrs[LEAD_PHONE].name;
    if (!phone)
        return bt_fail(err, BT_EINVAL, field, "the phone number is empty");
    size_t len = strlen(phone);

    /* An extension is trailing digits after "x", "ext", "ext." or "extension". */
    size_t main_len = len;
    size_t digits_start = len;
    while (digits_start > 0 && is_digit(phone[digits_start - 1]))
        digits_start--;
    size_t extension_digits = len - digits_start;
    if (extension_digits > 0 && extension_digits <= PHONE_EXTENSION_DIGITS_MAX) {
        size_t m = digits_start;
        while (m > 0 && phone[m - 1] == ' ')
            m--;
        if (m > 0 && phone[m - 1] == '.')
            m--;
        static const char *const markers[] = {"extension", "ext", "x"};
        for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
            size_t n = strlen(markers[i]);
            if (m >= n && strncasecmp(phone + m - n, markers[i], n) == 0) {
                main_len = m - n;
                break;
            }
        }
    }

    size_t digits = 0;
    for (size_t i = 0; i < main_len; i++) {
        if (is_digit(phone[i])) {
            digits++;
        } else if (space_at(phone + i) == 2) {
            i++; /* U+00A0, which pasted numbers often carry */
        } else if (!strchr(" +()-./", phone[i])) {
            return bt_fail(err, BT_EINVAL, field,
                           "not a valid phone number: it may contain only digits, spaces, "
                           "+ ( ) - . / and an extension such as \"x123\"");
        }
    }
    if (digits < PHONE_DIGITS_MIN || digits > PHONE_DIGITS_MAX)
        return bt_fail(err, BT_EINVAL, field,
                       "not a valid phone number: it needs 5 to 20 digits, not %zu", digits);
    return BT_OK;
}

const char *normalize_employees_band(int64_t count)
{
    if (count <= 0)
        return NULL;
    if (count <= 10)
        return "1-10";
    if (count <= 50)
        return "11-50";
    if (count <= 200)
        return "51-200";
    if (count <= 500)
        return "201-500";
    if (count <= 1000)
        return "501-1000";
    if (count <= 5000)
        return "1001-5000";
    if (count <= 10000)
        return "5001-10000";
    return "10001+";
}

/* A number as written: whole and fractional digits and a multiplier (k, m). */
struct quantity {
    int64_t whole;
    int64_t fraction;
    int fraction_digits;
    int64_t multiplier;
};

/* Rounds down, as the header asks for midpoints; "1.25k" is 1250. */
static int64_t quantity_value(const struct quantity *q, int64_t multiplier)
{
    int64_t scale = 1;
    for (int i = 0; i < q->fraction_digits; i++)
        scale *= 10;
    return q->whole * multiplier + q->fraction * multiplier / scale;
}

/* Length of a thousands separator at `p`: , . ' space, U+00A0, U+2009, U+202F. */
static size_t group_separator_at(const char *p)
{
    if (*p == ',' || *p == '.' || *p == '\'' || *p == ' ')
        return 1;
    const unsigned char *u = (const unsigned char *)p;
    if (u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x89 || u[2] == 0xAF))
        return 3;
    return 0;
}

/* Length of a multiplier at `p` ("k", "M", " thousand", "million"), 0 if none. */
static size_t multiplier_at(const char *p, int64_t *multiplier)
{
    static const struct {
        const char *word;
        int64_t value;
    } words[] = {{"thousand", 1000}, {"million", 1000000}, {"k", 1000}, {"m", 1000000}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i].word);
        size_t skip = (n > 1 && *p == ' ') ? 1 : 0;
        if (strncasecmp(p + skip, words[i].word, n) == 0 && !is_alpha(p[skip + n])) {
            *multiplier = words[i].value;
            return skip + n;
        }
    }
    return 0;
}

static bool three_digits_at(const char *p)
{
    return is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && !is_digit(p[3]);
}

/*
 * Reads a number starting at the digit `*pp`. A separator followed by exactly
 * three digits groups thousands ("1,200", "1.200", "1 200") unless a
 * multiplier follows, in which case it is a decimal point ("1.200k" is
 * 1200); other separators are decimal points ("1.5k", "1,5k").
 */
static bool parse_quantity(const char **pp, struct quantity *q)
{
    const char *p = *pp;
    int run = 0;
    *q = (struct quantity){0, 0, 0, 1};
    while (is_digit(*p)) {
        q->whole = q->whole * 10 + (*p++ - '0');
        if (q->whole > EMPLOYEES_WHOLE_MAX)
            return false;
        run++;
    }
    if (run <= 3) {
        size_t first_sep = 0;
        char first = 0;
        for (;;) {
            size_t sep = group_separator_at(p);
            int64_t unused;
            if (!sep || (first_sep && (sep != first_sep || *p != first)))
                break;
            if (!three_digits_at(p + sep) || multiplier_at(p + sep + 3, &unused))
                break;
            first_sep = sep;
            first = *p;
            q->whole = q->whole * 1000 + (p[sep] - '0') * 100 + (p[sep + 1] - '0') * 10 +
                       (p[sep + 2] - '0');
            if (q->whole > EMPLOYEES_WHOLE_MAX)
                return false;
            p += sep + 3;
        }
    }
    if ((*p == '.' || *p == ',') && is_digit(p[1])) {
        p++;
        while (is_digit(*p)) {
            if (q->fraction_digits < EMPLOYEES_FRACTION_DIGITS) {
                q->fraction = q->fraction * 10 + (*p - '0');
                q->fraction_digits++;
            }
            p++;
        }
    }
    p += multiplier_at(p, &q->multiplier);
    *pp = p;
    return true;
}

static const char *skip_spaces(const char *p)
{
    size_t n;
    while ((n = space_at(p)) != 0)
        p += n;
    return p;
}

/* Length of a range separator at `p`: "-", en or em dash, "to". */
static size_t range_separator_at(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    if (*p == '-')
        return 1;
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x93 || u[2] == 0x94))
        return 3;
    if (strncasecmp(p, "to", 2) == 0 && !is_alpha(p[2]))
        return 2;
    return 0;
}

bool normalize_employees(const char *s, int64_t *count, const char **band)
{
    *count = -1;
    *band = NULL;
    if (!s)
        return false;
    size_t len;
    const char *start = trim_bounds(s, &len);
    if (len == 0 || len > LEAD_EMPLOYEES_RAW_MAX)
        return false;
    char text[LEAD_EMPLOYEES_RAW_MAX + 1];
    memcpy(text, start, len);
    text[len] = '\0';

    const char *p = text;
    while (*p && !is_digit(*p))
        p++;
    if (!*p)
        return false;
    if (p > text && p[-1] == '-')
        return false; /* negative */
    const char *before = p;
    while (before > text && before[-1] == ' ')
        before--;
    bool above = before > text && before[-1] == '>';

    struct quantity low, high;
    if (!parse_quantity(&p, &low))
        return false;
    p = skip_spaces(p);
    int64_t n;
    size_t sep = range_separator_at(p);
    if (sep) {
        p = skip_spaces(p + sep);
        if (!is_digit(*p))
            return false; /* "51-" lost its upper bound */
        if (!parse_quantity(&p, &high))
            return false;
        int64_t high_value = quantity_value(&high, high.multiplier);
        int64_t low_value = quantity_value(&low, low.multiplier);
        /* "1-5k" means 1k-5k; "500-5k" keeps its 500. */
        if (low.multiplier == 1 && high.multiplier > 1 &&
            quantity_value(&low, high.multiplier) <= high_value)
            low_value = quantity_value(&low, high.multiplier);
        if (high_value < low_value)
            return false;
        n = low_value + (high_value - low_value) / 2;
    } else {
        n = quantity_value(&low, low.multiplier);
        /* ">1000" is at least 1001; "1000+" includes 1000. */
        if (above)
            n++;
        if (*p == '+')
            p++;
    }
    /* Words may surround the number, but a second number makes it ambiguous. */
    for (; *p; p++) {
        if (is_digit(*p))
            return false;
    }
    if (n <= 0)
        return false;
    *count = n;
    *band = normalize_employees_band(n);
    return true;
}

/* Quotes `value` in a warning, cut on a character boundary if it is long. */
static void add_warning(struct normalize_report *report, const char *field, const char *head,
                        const char *value, size_t len, const char *tail)
{
    if (!report || report->count >= NORMALIZE_MAX_WARNINGS)
        return;
    struct normalize_warning *w = &report->warnings[report->count++];
    w->field = field;
    size_t room = sizeof(w->message) - strlen(head) - strlen(tail) - 3;
    const char *ellipsis = "";
    if (len > room) {
        len = room - 3;
        while (len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
            len--;
        ellipsis = "...";
    }
    snprintf(w->message, sizeof(w->message), "%s\"%.*s%s\"%s", head, (int)len, value, ellipsis,
             tail);
}

bt_err normalize_lead(const struct lead_input *in, const struct freemail_set *freemail,
                      struct arena *arena, struct lead *out, struct normalize_report *report,
                      struct bt_error *err)
{
    memset(out, 0, sizeof(*out));
    out->employees = -1;
    if (report)
        report->count = 0;

    for (int i = 0; i < LEAD_INPUT_ATTR_COUNT; i++) {
        if (!in->attr[i])
            continue;
        const struct lead_attr_spec *spec = &lead_attrs[i];
        size_t len;
        const char *start = trim_bounds(in->attr[i], &len);
        if (len == 0)
            continue;
        if (len > spec->max_len)
            return bt_fail(err, BT_EINVAL, spec->name, "%s is longer than %zu bytes (%zu)",
                           spec->name, spec->max_len, len);
        out->attr[i] = arena_strndup(arena, start, len);
        if (!out->attr[i])
            return out_of_memory(err, spec->name);
    }

    bt_err rc;
    if (out->attr[LEAD_EMAIL]) {
        rc = normalize_email(arena, out->attr[LEAD_EMAIL], &out->attr[LEAD_EMAIL],
                             &out->attr[LEAD_EMAIL_DOMAIN], err);
        if (rc)
            return rc;
        out->email_free = freemail_contains(freemail, out->attr[LEAD_EMAIL_DOMAIN]);
    }
    if (out->attr[LEAD_WEBSITE]) {
        rc = normalize_website_domain(arena, out->attr[LEAD_WEBSITE],
                                      &out->attr[LEAD_WEBSITE_DOMAIN], err);
        if (rc)
            return rc;
    }
    if (out->attr[LEAD_PHONE]) {
        rc = normalize_phone(out->attr[LEAD_PHONE], err);
        if (rc)
            return rc;
    }
    if (!out->attr[LEAD_EMAIL] && !out->attr[LEAD_PHONE])
        return bt_fail(err, BT_EINVAL, lead_attrs[LEAD_EMAIL].name,
                       "a lead needs an email or a phone");

    if (out->attr[LEAD_COUNTRY]) {
        const char *code = normalize_country(out->attr[LEAD_COUNTRY]);
        if (!code) {
            out->attr[LEAD_COUNTRY_INPUT] = out->attr[LEAD_COUNTRY];
            add_warning(report, lead_attrs[LEAD_COUNTRY].name, "unrecognised country ",
                        out->attr[LEAD_COUNTRY], strlen(out->attr[LEAD_COUNTRY]),
                        "; kept in country_input");
        }
        out->attr[LEAD_COUNTRY] = code;
    }

    if (in->employees) {
        size_t len;
        const char *start = trim_bounds(in->employees, &len);
        const char *sent = in->employees_sent; /* a JSON number rounded by the parser */
        if (len > 0 &&
            !normalize_employees(start, &out->employees, &out->attr[LEAD_EMPLOYEES_BAND]))
            add_warning(report, "employees", "could not read a number of employees from ",
                        sent ? sent : start, sent ? strlen(sent) : len, "");
        else if (len > 0 && sent && report && report->count < NORMALIZE_MAX_WARNINGS) {
            struct normalize_warning *w = &report->warnings[report->count++];
            w->field = "employees";
            snprintf(w->message, sizeof(w->message),
                     "%.32s is not a whole number of employees; rounded to %lld", sent,
                     (long long)out->employees);
        }
    }

    out->fields_json = "{}";
    if (in->fields_json) {
        size_t len;
        const char *start = trim_bounds(in->fields_json, &len);
        if (len > 0) {
            out->fields_json = arena_strndup(arena, start, len);
            if (!out->fields_json)
                return out_of_memory(err, "fields");
        }
    }
    return BT_OK;
}
