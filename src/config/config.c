/*
 * config.c - from a YAML file to a validated, immutable struct config.
 *
 * Loading runs in two passes. First libfyaml's event parser feeds a small
 * tree of our own (struct ynode) that keeps every node's line and column:
 * libfyaml 0.7 has no public call for a node's position, but its events carry
 * marks. Then one function per section walks that tree, copies values into
 * the snapshot's arena and stops at the first problem with
 * "NAME:LINE:COL: message". References between sections (a rep's team, a
 * team's manager, unique ids) are checked last, once every team and rep is
 * known, so the file may list them in any order. The tree and the helpers
 * that walk it are shared through config_internal.h with config_scoring.c,
 * which loads `scoring` and `qualification`, and config_routing.c, which
 * parses the teams' and reps' hours, holidays, zones and territories and
 * loads `pools`, `routing` and `accounts`, and config_sla.c, which loads
 * `sla` (its policies name pools and reps), and config_delivery.c, which
 * loads `delivery` last of all (its channels name teams, reps and their
 * own templates, and compile conditions like sla); each scalar also
 * remembers the bytes it came from, so that an error inside a rule's text
 * can point at the character.
 *
 * The tree lives in a scratch arena freed before returning. A snapshot owns
 * one arena for all its strings and arrays, plus the freemail set, the
 * compiled rules and the time zone tables.
 *
 * YAML aliases are refused: a config file has no need for them, and expanding
 * them is how a small file becomes a huge one.
 */
#include "config/config.h"
#include "config/config_internal.h"
#include "core/routing_json.h"
#include "core/account_match.h"
#include "core/normalize.h"
#include "core/strategy.h"
#include "util/arena.h"
#include "util/text.h"

#include <libfyaml.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_FILE_BYTES (4u * 1024 * 1024)
#define CONFIG_MAX_NODES      500000
#define CONFIG_MAX_DEPTH      64
#define CONFIG_MAX_TEAMS      10000
#define CONFIG_MAX_REPS       10000
#define CONFIG_MAX_DOMAINS    10000 /* each of intake.freemail.add and .remove */
#define CONFIG_MAX_HOSTS      1000  /* server.form_redirect_hosts */
#define CONFIG_MAX_TAGS       256   /* a rep's languages or skills */
#define CONFIG_MAX_ID         64
#define CONFIG_MAX_TAG_LEN    64
#define CONFIG_MAX_PUBLIC_URL 200
#define CONFIG_SCRATCH_LIMIT  (128u * 1024 * 1024)
#define KIB                   1024ull
#define MIB                   (1024ull * 1024)
#define GIB                   (1024ull * 1024 * 1024)

/* What a snapshot owns besides the struct itself. */
struct config_priv {
    struct arena arena;
    const struct config_rep **reps_by_id; /* sorted by id, for config_find_rep */
    struct config_zones zones;            /* the routing's time zone tables */
};

/* ---- errors and node tests (config_internal.h) ---- */

static bt_err fail_vpos(struct loader *ld, int line, int column, const char *fmt, va_list ap)
{
    char msg[BT_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return bt_fail(ld->err, BT_ECONFIG, NULL, "%s:%d:%d: %s", ld->name, line > 0 ? line : 1,
                   column > 0 ? column : 1, msg);
}

bt_err config__fail_pos(struct loader *ld, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_err rc = fail_vpos(ld, line, column, fmt, ap);
    va_end(ap);
    return rc;
}

bt_err config__fail_at(struct loader *ld, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_err rc = fail_vpos(ld, n->line, n->column, fmt, ap);
    va_end(ap);
    return rc;
}

bt_err config__fail_too_large(struct loader *ld, const struct ynode *n)
{
    return config__fail_at(ld, n, "the configuration is too large");
}

/*
 * A printable excerpt of text from the file for use in a message: control
 * characters become '?' and long text is cut (on a UTF-8 boundary), so that
 * an error is one readable line whatever the file holds.
 */
const char *config__excerpt(const char *s, size_t len, char buf[CONFIG_EXCERPT_MAX + 4])
{
    size_t n = len;
    bool cut = false;
    if (n > CONFIG_EXCERPT_MAX) {
        n = CONFIG_EXCERPT_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (cut) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

const char *config__kind_name(const struct ynode *n)
{
    switch (n->kind) {
    case YNODE_MAP:
        return "a mapping";
    case YNODE_SEQ:
        return "a list";
    case YNODE_SCALAR:
        break;
    }
    return "a scalar";
}

bool config__is_null(const struct ynode *n)
{
    if (n->kind != YNODE_SCALAR || !n->plain)
        return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

/* A key that is missing and a key whose value is null both mean "the default". */
bool config__absent(const struct ynode *n)
{
    return n == NULL || config__is_null(n);
}

bool config__scalar_is(const struct ynode *n, const char *s)
{
    return n->kind == YNODE_SCALAR && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

/* ---- pass 1: YAML events to a tree ---- */

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

static void note_mark(struct loader *ld, const struct fy_mark *m)
{
    if (m) {
        ld->line = m->line + 1;
        ld->column = m->column + 1;
    }
}

static struct ynode *node_new(struct loader *ld, enum ynode_kind kind)
{
    if (ld->nodes >= CONFIG_MAX_NODES)
        return NULL;
    struct ynode *n = arena_alloc(&ld->scratch, sizeof(*n));
    if (!n)
        return NULL;
    ld->nodes++;
    n->kind = kind;
    n->line = ld->line;
    n->column = ld->column;
    return n;
}

/*
 * The value of a single-quoted scalar whose body (between the quotes) is
 * s[0..len): "''" is one quote, and line breaks fold as in any flow scalar
 * (white space around them dropped; one break is a space, n breaks are n-1
 * newlines). We decode these ourselves because libfyaml 0.7.12 leaks a
 * buffer in fy_token_get_text() on a run of escaped quotes (upstream issue
 * #233; found by fuzz/fuzz_config.c).
 */
static char *single_quoted_text(struct arena *a, const char *s, size_t len, size_t *out_len)
{
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '\'') {
            out[o++] = '\'';
            i += (i + 1 < len && s[i + 1] == '\'') ? 2 : 1;
        } else if (c == '\n' || c == '\r') {
            while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
                o--;
            size_t breaks = 0;
            for (; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'); i++)
                if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')))
                    breaks++;
            if (breaks == 1)
                out[o++] = ' ';
            for (size_t k = 1; k < breaks; k++)
                out[o++] = '\n';
        } else {
            out[o++] = c;
            i++;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Copies a scalar's value into the scratch arena (NUL-terminated); NULL when out of room. */
static char *scalar_text(struct loader *ld, struct fy_token *value, enum fy_scalar_style style,
                         const char *input, size_t input_len, size_t *len)
{
    *len = 0;
    if (!value)
        return arena_strndup(&ld->scratch, "", 0);
    if (style == FYSS_SINGLE_QUOTED) {
        const struct fy_mark *start = fy_token_start_mark(value);
        const struct fy_mark *end = fy_token_end_mark(value);
        if (start && end && start->input_pos <= end->input_pos && end->input_pos <= input_len)
            return single_quoted_text(&ld->scratch, input + start->input_pos,
                                      end->input_pos - start->input_pos, len);
    }
    const char *text = fy_token_get_text(value, len);
    if (!text)
        *len = 0;
    return arena_strndup(&ld->scratch, text ? text : "", *len);
}

/* Remembers where a scalar's value came from, for config__scalar_position(). */
static void note_source(struct ynode *n, struct fy_token *value, enum fy_scalar_style style,
                        size_t input_len)
{
    switch (style) {
    case FYSS_SINGLE_QUOTED:
        n->style = YSTYLE_SINGLE_QUOTED;
        break;
    case FYSS_DOUBLE_QUOTED:
        n->style = YSTYLE_DOUBLE_QUOTED;
        break;
    case FYSS_LITERAL:
        n->style = YSTYLE_LITERAL;
        break;
    case FYSS_FOLDED:
        n->style = YSTYLE_FOLDED;
        break;
    default:
        n->style = YSTYLE_PLAIN;
        break;
    }
    const struct fy_mark *start = value ? fy_token_start_mark(value) : NULL;
    const struct fy_mark *end = value ? fy_token_end_mark(value) : NULL;
    if (start && end && start->input_pos <= end->input_pos && end->input_pos <= input_len) {
        n->raw_start = start->input_pos;
        n->raw_end = end->input_pos;
    }
}

struct tree_builder {
    const char *input; /* the text being parsed, for decoding scalars */
    size_t input_len;
    struct ynode *stack[CONFIG_MAX_DEPTH];
    size_t depth;
    struct ynode *root;
    int documents;
};

static bt_err tree_attach(struct loader *ld, struct tree_builder *tb, struct ynode *n)
{
    if (tb->depth == 0) {
        tb->root = n;
        return BT_OK;
    }
    struct ynode *parent = tb->stack[tb->depth - 1];
    if (parent->kind == YNODE_MAP && parent->count % 2 == 0 && n->kind != YNODE_SCALAR)
        return config__fail_at(ld, n, "a key must be a plain string, not %s", config__kind_name(n));
    if (parent->last)
        parent->last->next = n;
    else
        parent->first = n;
    parent->last = n;
    parent->count++;
    return BT_OK;
}

static bt_err tree_event(struct loader *ld, struct tree_builder *tb, struct fy_event *ev)
{
    note_mark(ld, fy_event_start_mark(ev));
    struct ynode *n = NULL;
    switch (ev->type) {
    case FYET_DOCUMENT_START:
        if (++tb->documents > 1)
            return config__fail_pos(ld, ld->line, ld->column,
                                    "a second YAML document; the file must hold exactly one");
        return BT_OK;
    case FYET_SCALAR: {
        n = node_new(ld, YNODE_SCALAR);
        if (!n)
            return config__fail_pos(ld, ld->line, ld->column, "the configuration is too large");
        enum fy_scalar_style style = fy_token_scalar_style(ev->scalar.value);
        n->plain = style == FYSS_PLAIN;
        note_source(n, ev->scalar.value, style, tb->input_len);
        /* libfyaml marks a quoted scalar after its quote; editors expect the quote. */
        if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && n->column > 1)
            n->column--;
        n->text = scalar_text(ld, ev->scalar.value, style, tb->input, tb->input_len, &n->len);
        if (!n->text)
            return config__fail_too_large(ld, n);
        return tree_attach(ld, tb, n);
    }
    case FYET_MAPPING_START:
    case FYET_SEQUENCE_START: {
        n = node_new(ld, ev->type == FYET_MAPPING_START ? YNODE_MAP : YNODE_SEQ);
        if (!n)
            return config__fail_pos(ld, ld->line, ld->column, "the configuration is too large");
        if (tb->depth == CONFIG_MAX_DEPTH)
            return config__fail_at(ld, n, "nested too deeply (more than %d levels)",
                                   CONFIG_MAX_DEPTH);
        bt_err rc = tree_attach(ld, tb, n);
        if (rc)
            return rc;
        tb->stack[tb->depth++] = n;
        return BT_OK;
    }
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        if (tb->depth == 0)
            BT_BUG("unbalanced YAML events");
        tb->depth--;
        return BT_OK;
    case FYET_ALIAS: {
        size_t len = 0;
        const char *anchor = fy_token_get_text(ev->alias.anchor, &len);
        char buf[CONFIG_EXCERPT_MAX + 4];
        /* The mark is on the anchor name; point at the '*' before it. */
        return config__fail_pos(ld, ld->line, ld->column > 1 ? ld->column - 1 : 1,
                                "aliases (*%s) are not supported in the configuration; "
                                "write the value out",
                                config__excerpt(anchor ? anchor : "", anchor ? len : 0, buf));
    }
    default:
        return BT_OK;
    }
}

static bt_err syntax_error(struct loader *ld, struct fy_diag *diag)
{
    void *iter = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(diag, &iter)) != NULL) {
        if (e->type >= FYET_ERROR)
            return config__fail_pos(ld, e->line, e->column, "YAML syntax error: %s",
                                    e->msg ? e->msg : "invalid input");
    }
    return config__fail_pos(ld, ld->line, ld->column, "YAML syntax error");
}

/* Line and column (1-based, in characters) of byte offset `at`. */
void config__position_of(const char *text, size_t at, int *line, int *column)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *column = c;
}

static bool yaml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips a double-quoted scalar's escaped line breaks ("\" at a line's end). */
static size_t skip_continuations(const char *raw, size_t r, size_t end)
{
    while (r + 1 < end && raw[r] == '\\' && (raw[r + 1] == '\n' || raw[r + 1] == '\r')) {
        r++;
        while (r < end && yaml_space(raw[r]))
            r++;
    }
    return r;
}

/* Skips the white space (and escaped line breaks) that folding and block
 * indentation drop or shrink between two characters of a value. */
static size_t skip_source_space(const char *raw, size_t r, size_t end, bool dq)
{
    for (;;) {
        size_t from = r;
        while (r < end && yaml_space(raw[r]))
            r++;
        if (dq)
            r = skip_continuations(raw, r, end);
        if (r == from)
            return r;
    }
}

/*
 * A double-quoted scalar's escape at raw[0..len) (raw[0] is the backslash):
 * how many bytes it takes in the file and how many it gives in the value
 * (escapes of code points give their UTF-8 length; a surrogate pair written
 * as two \u escapes gives one 4-byte character). False for a form we do not
 * know, which libfyaml would have refused anyway.
 */
static bool dq_escape(const char *raw, size_t len, size_t *raw_len, size_t *value_len)
{
    if (len < 2)
        return false;
    size_t digits = 0;
    switch (raw[1]) {
    case 'x':
        digits = 2;
        break;
    case 'u':
        digits = 4;
        break;
    case 'U':
        digits = 8;
        break;
    case 'N': /* U+0085 */
    case '_': /* U+00A0 */
        *raw_len = 2;
        *value_len = 2;
        return true;
    case 'L': /* U+2028 */
    case 'P': /* U+2029 */
        *raw_len = 2;
        *value_len = 3;
        return true;
    default:
        *raw_len = 2;
        *value_len = 1;
        return true;
    }
    uint32_t cp;
    if (digits == 4) {
        if (!(*raw_len = text_unescape_u(raw, len, &cp)))
            return false;
    } else {
        if (len < 2 + digits || !text_hex_digits(raw + 2, digits, &cp))
            return false;
        *raw_len = 2 + digits;
    }
    *value_len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    return true;
}

/*
 * Walks the value and its source side by side: each character of the value
 * is either the same byte in the file, an escape (double-quoted), a doubled
 * quote (single-quoted), or white space that folding or a block's
 * indentation changed, which only ever shrinks. So skipping the file's
 * white space until the next non-space byte of the value matches is exact;
 * any mismatch means we misread the source, and we say so rather than point
 * at the wrong place.
 */
bool config__scalar_position(const struct loader *ld, const struct ynode *n, size_t offset,
                             int *line, int *column)
{
    *line = n->line;
    *column = n->column;
    if (n->kind != YNODE_SCALAR || !ld->input || n->raw_start > n->raw_end ||
        n->raw_end > ld->input_len || offset > n->len)
        return false;
    const char *raw = ld->input;
    size_t r = n->raw_start, end = n->raw_end, i = 0;
    bool dq = n->style == YSTYLE_DOUBLE_QUOTED, sq = n->style == YSTYLE_SINGLE_QUOTED;
    while (i < offset) {
        char c = n->text[i];
        bool space = yaml_space(c);
        r = space ? (dq ? skip_continuations(raw, r, end) : r) : skip_source_space(raw, r, end, dq);
        if (r >= end)
            return false;
        if (dq && raw[r] == '\\') {
            size_t raw_len, value_len;
            if (!dq_escape(raw + r, end - r, &raw_len, &value_len))
                return false;
            if (i + value_len > offset)
                break; /* the offset is inside the character: point at its escape */
            r += raw_len;
            i += value_len;
            continue;
        }
        if (space ? !yaml_space(raw[r]) : raw[r] != c)
            return false;
        r += (sq && c == '\'') ? 2 : 1;
        i++;
    }
    if (i == offset && offset < n->len && !yaml_space(n->text[offset]))
        r = skip_source_space(raw, r, end, dq);
    if (r > end)
        return false;
    config__position_of(raw, r, line, column);
    return true;
}

/* Parses `text` (NUL-terminated at text[len]) into a tree; *root is NULL for an empty stream. */
static bt_err parse_tree(struct loader *ld, const char *text, size_t len, struct ynode **root)
{
    /* Checked before libfyaml sees the text: libfyaml 0.7.12's scanner loops forever
     * on invalid UTF-8 inside a directive such as "%f\xfd" (found by fuzz_config). */
    size_t bad = utf8_invalid_at(text, len);
    if (bad < len) {
        int line, column;
        config__position_of(text, bad, &line, &column);
        return config__fail_pos(ld, line, column, "the file is not valid UTF-8 (byte 0x%02X)",
                                (unsigned char)text[bad]);
    }

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    /* Nothing may reach stderr: messages are collected and the first becomes ours. */
    dcfg.fp = NULL;
    dcfg.output_fn = diag_discard;
    dcfg.level = FYET_ERROR;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        bt_die("libfyaml: cannot create a diagnostic object");
    fy_diag_set_collect_errors(diag, true);

    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_AUTO, .diag = diag};
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    if (!fyp)
        bt_die("libfyaml: cannot create a parser");
    if (fy_parser_set_string(fyp, text, len) != 0)
        bt_die("libfyaml: cannot set the parser's input");

    struct tree_builder tb = {.input = text, .input_len = len};
    ld->input = text;
    ld->input_len = len;
    bt_err rc = BT_OK;
    ld->line = ld->column = 1;
    struct fy_event *ev;
    while (rc == BT_OK && (ev = fy_parser_parse(fyp)) != NULL) {
        rc = tree_event(ld, &tb, ev);
        fy_parser_event_free(fyp, ev);
    }
    if (rc == BT_OK && fy_parser_get_stream_error(fyp))
        rc = syntax_error(ld, diag);
    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    *root = rc == BT_OK ? tb.root : NULL;
    return rc;
}

/* ---- scalar syntax ---- */

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    if (alen != strlen(b))
        return false;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* Reads the leading decimal digits of s[0..len) into *v; returns how many there were (0 on
 * overflow). */
static size_t scan_digits(const char *s, size_t len, uint64_t *v)
{
    size_t i = 0;
    uint64_t acc = 0;
    while (i < len && ascii_digit(s[i])) {
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return 0;
        acc = acc * 10 + d;
        i++;
    }
    *v = acc;
    return i;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    return len > 0 && scan_digits(s, len, out) == len;
}

struct unit {
    const char *suffix;
    uint64_t factor;
};

/* A whole number, an optional space, then one of `units` (matched as `icase` says). */
static bool parse_with_unit(const char *s, size_t len, const struct unit *units, size_t n_units,
                            bool icase, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = scan_digits(s, len, &v);
    if (i == 0)
        return false;
    bool space = i < len && s[i] == ' ';
    if (space)
        i++;
    const char *suffix = s + i;
    size_t slen = len - i;
    if (space && slen == 0)
        return false;
    for (size_t u = 0; u < n_units; u++) {
        bool match =
            icase ? ieq(suffix, slen, units[u].suffix)
                  : (slen == strlen(units[u].suffix) && memcmp(suffix, units[u].suffix, slen) == 0);
        if (!match)
            continue;
        if (v > UINT64_MAX / units[u].factor)
            return false;
        *out = v * units[u].factor;
        return true;
    }
    return false;
}

static bool parse_size(const char *s, size_t len, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1},      {"b", 1},        {"k", KIB}, {"kib", KIB}, {"kb", 1000},       {"m", MIB},
        {"mib", MIB}, {"mb", 1000000}, {"g", GIB}, {"gib", GIB}, {"gb", 1000000000},
    };
    return parse_with_unit(s, len, units, sizeof(units) / sizeof(units[0]), true, out);
}

bool config__parse_duration_ms(const char *s, size_t len, uint64_t *out)
{
    static const struct unit units[] = {
        {"", CONFIG_SECOND_MS},  {"ms", 1},
        {"s", CONFIG_SECOND_MS}, {"m", CONFIG_MINUTE_MS},
        {"h", CONFIG_HOUR_MS},   {"d", CONFIG_DAY_MS},
    };
    return parse_with_unit(s, len, units, sizeof(units) / sizeof(units[0]), false, out);
}

/* How a size or duration is shown in range messages: the largest exact unit. */
static void format_size(uint64_t v, char *buf, size_t n)
{
    if (v >= GIB && v % GIB == 0)
        snprintf(buf, n, "%lluGiB", (unsigned long long)(v / GIB));
    else if (v >= MIB && v % MIB == 0)
        snprintf(buf, n, "%lluMiB", (unsigned long long)(v / MIB));
    else if (v >= KIB && v % KIB == 0)
        snprintf(buf, n, "%lluKiB", (unsigned long long)(v / KIB));
    else
        snprintf(buf, n, "%llu", (unsigned long long)v);
}

static void format_duration(uint64_t ms, char *buf, size_t n)
{
    if (ms >= CONFIG_DAY_MS && ms % CONFIG_DAY_MS == 0)
        snprintf(buf, n, "%llud", (unsigned long long)(ms / CONFIG_DAY_MS));
    else if (ms >= CONFIG_HOUR_MS && ms % CONFIG_HOUR_MS == 0)
        snprintf(buf, n, "%lluh", (unsigned long long)(ms / CONFIG_HOUR_MS));
    else if (ms >= CONFIG_MINUTE_MS && ms % CONFIG_MINUTE_MS == 0)
        snprintf(buf, n, "%llum", (unsigned long long)(ms / CONFIG_MINUTE_MS));
    else if (ms % CONFIG_SECOND_MS == 0)
        snprintf(buf, n, "%llus", (unsigned long long)(ms / CONFIG_SECOND_MS));
    else
        snprintf(buf, n, "%llums", (unsigned long long)ms);
}

/* Ids of reps and teams: [a-z0-9][a-z0-9_.-]*, at most 64 characters. */
static bool valid_id(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > CONFIG_MAX_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || ascii_digit(c) ||
                  (i > 0 && (c == '_' || c == '.' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

/*
 * A host name (lower-case already): dot-separated labels of letters, digits
 * and hyphens, 1-63 characters each, not starting or ending with a hyphen,
 * 253 characters in all. `min_labels` is 2 for mail domains.
 */
bool config__valid_hostname(const char *s, int min_labels)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    int labels = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || ascii_digit(c) || c == '-'))
                return false;
            continue;
        }
        size_t llen = i - start;
        if (llen == 0 || llen > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        labels++;
        start = i + 1;
    }
    return labels >= min_labels;
}

/* Roughly an address: one "@", a local part, and a domain with a dot in it. */
static bool valid_email(const char *s)
{
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len > 254 || !at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7F)
            return false;
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    size_t dlen = strlen(domain);
    return dot && dot != domain && domain[dlen - 1] != '.' && !strstr(domain, "..");
}

/* HOST:PORT with a host name or IPv4 address, or [IPv6]:PORT; port 0..65535. */
static bool valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    uint64_t port;
    if (!parse_u64(colon + 1, strlen(colon + 1), &port) || port > 65535)
        return false;
    size_t hlen = (size_t)(colon - s);
    char host[256];
    if (hlen >= sizeof(host))
        return false;
    if (s[0] == '[') {
        if (hlen < 3 || s[hlen - 1] != ']')
            return false;
        memcpy(host, s + 1, hlen - 2);
        host[hlen - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, host, &a6) == 1;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    for (size_t i = 0; i < hlen; i++)
        host[i] = ascii_lower(host[i]);
    return config__valid_hostname(host, 1);
}

/* A character a URL's path may hold as it is (RFC 3986: pchar and '/'). */
static bool url_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ascii_digit(c) ||
           (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

static bool hex_digit(char c)
{
    return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * server.public_url, the base of the links Baton makes: http:// or https://,
 * a host (a name, an IPv4 address or [IPv6]), an optional port and an
 * optional path. Links are made by appending a path to it, so a query, a
 * fragment or a user name (which would end up in every link, and in mail)
 * are refused. Scheme and host are stored lower-cased, trailing slashes
 * dropped.
 */
static bt_err get_public_url(struct loader *ld, const struct ynode *n, const char **out)
{
    static const char *const path = "server.public_url";
    const char *value = NULL;
    bt_err rc = config__get_string(ld, n, path, CONFIG_MAX_PUBLIC_URL, &value);
    if (rc || !value)
        return rc;
    char *u = (char *)value; /* the snapshot's own copy */
    size_t len = strlen(u), at = 0;
    if (len >= 7 && ieq(u, 7, "http://"))
        at = 7;
    else if (len >= 8 && ieq(u, 8, "https://"))
        at = 8;
    else
        return config__fail_at(ld, n,
                               "%s: expected an absolute URL starting with http:// or https://, "
                               "such as https://baton.example.com",
                               path);
    for (size_t i = 0; i < at; i++)
        u[i] = ascii_lower(u[i]);
    if (strchr(u, '?'))
        return config__fail_at(ld, n,
                               "%s: must not have a query ('?...'): links are made by "
                               "adding a path to it",
                               path);
    if (strchr(u, '#'))
        return config__fail_at(ld, n,
                               "%s: must not have a fragment ('#...'): links are made "
                               "by adding a path to it",
                               path);
    size_t end = at; /* the authority is u[at, end) */
    while (end < len && u[end] != '/')
        end++;
    if (memchr(u + at, '@', end - at))
        return config__fail_at(ld, n, "%s: must not hold a user name or password ('user@')", path);
    size_t host_end = end;
    bool host_ok;
    if (u[at] == '[') {
        const char *close = memchr(u + at, ']', end - at);
        char host[64];
        size_t hlen = close ? (size_t)(close - (u + at)) - 1 : 0;
        host_ok = close && hlen > 0 && hlen < sizeof(host);
        if (host_ok) {
            memcpy(host, u + at + 1, hlen);
            host[hlen] = '\0';
            struct in6_addr a6;
            host_ok = inet_pton(AF_INET6, host, &a6) == 1;
            host_end = (size_t)(close - u) + 1;
            for (size_t i = at; i < host_end; i++)
                u[i] = ascii_lower(u[i]);
        }
    } else {
        host_end = at;
        while (host_end < end && u[host_end] != ':')
            host_end++;
        char host[256];
        size_t hlen = host_end - at;
        host_ok = hlen > 0 && hlen < sizeof(host);
        if (host_ok) {
            for (size_t i = at; i < host_end; i++)
                u[i] = ascii_lower(u[i]);
            memcpy(host, u + at, hlen);
            host[hlen] = '\0';
            host_ok = config__valid_hostname(host, 1);
        }
    }
    if (!host_ok)
        return config__fail_at(ld, n,
                               "%s: expected a host name, an IPv4 address or an [IPv6] address "
                               "after %.*s",
                               path, (int)at, u);
    if (host_end < end) {
        uint64_t port = 0;
        if (u[host_end] != ':' || !parse_u64(u + host_end + 1, end - host_end - 1, &port) ||
            port == 0 || port > 65535)
            return config__fail_at(ld, n, "%s: expected a port from 1 to 65535 after the host",
                                   path);
    }
    for (size_t i = end; i < len; i++) {
        bool escape = u[i] == '%' && i + 2 < len && hex_digit(u[i + 1]) && hex_digit(u[i + 2]);
        if (!escape && !url_path_char(u[i]))
            return config__fail_at(ld, n,
                                   "%s: the path may hold only letters, digits, "
                                   "-._~!$&'()*+,;=:@/ and %%XX escapes; percent-encode "
                                   "anything else",
                                   path);
        if (escape)
            i += 2;
    }
    while (len > end && u[len - 1] == '/')
        u[--len] = '\0';
    *out = u;
    return BT_OK;
}

/* ---- pass 2: the schema ---- */

/*
 * Looks up each of `keys` in mapping `n`, storing its value node in vals[i]
 * (NULL when absent). Unknown and repeated keys are errors; `where` names the
 * mapping in messages ("in server", "at the top level").
 */
bt_err config__map_fields(struct loader *ld, const struct ynode *n, const char *where,
                          const char *const *keys, size_t n_keys, const struct ynode **vals)
{
    const struct ynode *seen[CONFIG_MAX_KEYS] = {NULL};
    if (n_keys > CONFIG_MAX_KEYS)
        BT_BUG("too many keys in a schema table");
    for (size_t i = 0; i < n_keys; i++)
        vals[i] = NULL;
    for (const struct ynode *k = n->first; k && k->next; k = k->next->next) {
        size_t i = 0;
        while (i < n_keys && !config__scalar_is(k, keys[i]))
            i++;
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (i == n_keys) {
            char expected[256] = "";
            size_t used = 0;
            for (size_t j = 0; j < n_keys && used < sizeof(expected); j++)
                used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s",
                                         j ? ", " : "", keys[j]);
            return config__fail_at(ld, k, "unknown key '%s' %s; expected one of: %s",
                                   config__excerpt(k->text, k->len, buf), where, expected);
        }
        if (seen[i])
            return config__fail_at(ld, k, "duplicate key '%s' %s (first at line %d)", keys[i],
                                   where, seen[i]->line);
        seen[i] = k;
        vals[i] = k->next;
    }
    return BT_OK;
}

/* A non-empty single-line string of at most `max` bytes, copied into the snapshot. */
bt_err config__get_string(struct loader *ld, const struct ynode *n, const char *path, size_t max,
                          const char **out)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SCALAR)
        return config__fail_at(ld, n, "%s: expected a string, not %s", path, config__kind_name(n));
    if (n->len == 0)
        return config__fail_at(ld, n, "%s: must not be empty", path);
    if (n->len > max)
        return config__fail_at(ld, n, "%s: too long (at most %zu characters)", path, max);
    for (size_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->text[i];
        if (c < 0x20 || c == 0x7F)
            return config__fail_at(ld, n, "%s: must not contain control characters or line breaks",
                                   path);
    }
    char *s = arena_strndup(ld->arena, n->text, n->len);
    if (!s)
        return config__fail_too_large(ld, n);
    *out = s;
    return BT_OK;
}

static char *lower_in_place(char *s)
{
    for (char *p = s; *p; p++)
        *p = ascii_lower(*p);
    return s;
}

bt_err config__require(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                       const char *path, const char *key)
{
    if (!v)
        return config__fail_at(ld, elem, "%s: missing required key '%s'", path, key);
    if (config__is_null(v))
        return config__fail_at(ld, v, "%s.%s: required", path, key);
    return BT_OK;
}

bt_err config__get_uint(struct loader *ld, const struct ynode *n, const char *path, uint64_t min,
                        uint64_t max, unsigned *out)
{
    if (config__absent(n))
        return BT_OK;
    uint64_t v = 0;
    if (n->kind != YNODE_SCALAR || !parse_u64(n->text, n->len, &v))
        return config__fail_at(ld, n, "%s: expected a whole number", path);
    if (v < min || v > max)
        return config__fail_at(ld, n, "%s: %llu is out of range (%llu .. %llu)", path,
                               (unsigned long long)v, (unsigned long long)min,
                               (unsigned long long)max);
    *out = (unsigned)v;
    return BT_OK;
}

static bt_err get_size(struct loader *ld, const struct ynode *n, const char *path, uint64_t min,
                       uint64_t max, size_t *out)
{
    if (config__absent(n))
        return BT_OK;
    uint64_t v = 0;
    if (n->kind != YNODE_SCALAR || !parse_size(n->text, n->len, &v))
        return config__fail_at(ld, n, "%s: expected a size such as 1048576 or 1MiB", path);
    if (v < min || v > max) {
        char lo[32], hi[32], buf[CONFIG_EXCERPT_MAX + 4];
        format_size(min, lo, sizeof(lo));
        format_size(max, hi, sizeof(hi));
        return config__fail_at(ld, n, "%s: %s is out of range (%s .. %s)", path,
                               config__excerpt(n->text, n->len, buf), lo, hi);
    }
    *out = (size_t)v;
    return BT_OK;
}

bt_err config__get_duration_ms(struct loader *ld, const struct ynode *n, const char *path,
                               uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms)
{
    if (config__absent(n))
        return BT_OK;
    uint64_t v = 0;
    if (n->kind != YNODE_SCALAR || !config__parse_duration_ms(n->text, n->len, &v))
        return config__fail_at(ld, n, "%s: expected a duration such as 30s, 500ms or 5m", path);
    if (v < min_ms || v > max_ms) {
        char lo[32], hi[32], buf[CONFIG_EXCERPT_MAX + 4];
        format_duration(min_ms, lo, sizeof(lo));
        format_duration(max_ms, hi, sizeof(hi));
        return config__fail_at(ld, n, "%s: %s is out of range (%s .. %s)", path,
                               config__excerpt(n->text, n->len, buf), lo, hi);
    }
    *out_ms = v;
    return BT_OK;
}

/* The settings' durations, whose maximum (an hour or so) fits an unsigned. */
static bt_err get_duration(struct loader *ld, const struct ynode *n, const char *path,
                           uint64_t min_ms, uint64_t max_ms, unsigned *out_ms)
{
    uint64_t v = *out_ms;
    if (max_ms > UINT_MAX)
        BT_BUG("duration range too wide for unsigned");
    bt_err rc = config__get_duration_ms(ld, n, path, min_ms, max_ms, &v);
    *out_ms = (unsigned)v;
    return rc;
}

bt_err config__get_bool(struct loader *ld, const struct ynode *n, const char *path, bool *out)
{
    if (config__absent(n))
        return BT_OK;
    if (config__scalar_is(n, "true") || config__scalar_is(n, "True") ||
        config__scalar_is(n, "TRUE"))
        *out = true;
    else if (config__scalar_is(n, "false") || config__scalar_is(n, "False") ||
             config__scalar_is(n, "FALSE"))
        *out = false;
    else
        return config__fail_at(ld, n, "%s: expected true or false", path);
    return BT_OK;
}

bool config__parse_number(const char *s, size_t len, bool negative, double *out)
{
    uint64_t digits = 0;
    unsigned n_digits = 0, n_fraction = 0;
    bool minus = negative && len > 0 && s[0] == '-', dot = false;
    for (size_t i = minus; i < len; i++) {
        char c = s[i];
        if (c == '.' && !dot) {
            dot = true;
        } else if (ascii_digit(c) && n_digits < 15) {
            digits = digits * 10 + (uint64_t)(c - '0');
            n_digits++;
            n_fraction += dot;
        } else {
            return false;
        }
    }
    if (n_digits == 0)
        return false;
    /* Both operands are exact doubles (15 digits < 2^53), so the quotient is
     * correctly rounded. */
    double scale = 1;
    for (unsigned i = 0; i < n_fraction; i++)
        scale *= 10;
    double v = (double)digits / scale;
    *out = minus ? -v : v;
    return true;
}

/* A decimal number such as 2 or 0.75 within the strategies' bounds (0.001 .. 1000). */
static bt_err get_weight(struct loader *ld, const struct ynode *n, const char *path, double *out)
{
    if (config__absent(n))
        return BT_OK;
    double v = 0;
    bool ok = n->kind == YNODE_SCALAR && config__parse_number(n->text, n->len, false, &v);
    if (!ok || v < STRATEGY_WEIGHT_MIN || v > STRATEGY_WEIGHT_MAX)
        return config__fail_at(ld, n, "%s: expected a number from %g to %g", path,
                               STRATEGY_WEIGHT_MIN, STRATEGY_WEIGHT_MAX);
    *out = v;
    return BT_OK;
}

/* A capacity or cap: a whole number up to STRATEGY_COUNT_MAX, or 'unlimited' (-1). */
static bt_err get_capacity(struct loader *ld, const struct ynode *n, const char *path, int64_t *out)
{
    if (config__absent(n))
        return BT_OK;
    uint64_t v = 0;
    if (config__scalar_is(n, "unlimited")) {
        *out = -1;
        return BT_OK;
    }
    if (n->kind != YNODE_SCALAR || !parse_u64(n->text, n->len, &v) || v > STRATEGY_COUNT_MAX)
        return config__fail_at(ld, n, "%s: expected a whole number from 0 to %d, or 'unlimited'",
                               path, STRATEGY_COUNT_MAX);
    *out = (int64_t)v;
    return BT_OK;
}

/* A list of strings (config_internal.h); text and tag elements are limited
 * to CONFIG_MAX_TAG_LEN. */
bt_err config__get_string_list(struct loader *ld, const struct ynode *n, const char *path,
                               size_t max_items, enum list_check check, const char ***out,
                               size_t *n_out)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n, "%s: expected a list of strings, not %s", path,
                               config__kind_name(n));
    if (n->count == 0)
        return BT_OK;
    if (n->count > max_items)
        return config__fail_at(ld, n, "%s: too many entries (at most %zu)", path, max_items);
    const char **items = arena_alloc(ld->arena, n->count * sizeof(*items));
    if (!items)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char epath[96];
        snprintf(epath, sizeof(epath), "%s[%zu]", path, i);
        if (config__absent(e))
            return config__fail_at(ld, e, "%s: expected a string, not null", epath);
        size_t max_len = check == LIST_TEXT || check == LIST_TAG ? CONFIG_MAX_TAG_LEN : 253;
        bt_err rc = config__get_string(ld, e, epath, max_len, &items[i]);
        if (rc)
            return rc;
        if (check == LIST_TEXT)
            continue;
        char *s = lower_in_place((char *)items[i]);
        if (check == LIST_TAG)
            continue;
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (check == LIST_DOMAIN && !config__valid_hostname(s, 2))
            return config__fail_at(ld, e, "%s: '%s' is not a domain name such as example.com",
                                   epath, config__excerpt(s, strlen(s), buf));
        if (check == LIST_HOST && !config__valid_hostname(s, 1))
            return config__fail_at(ld, e, "%s: '%s' is not a host name such as www.example.com",
                                   epath, config__excerpt(s, strlen(s), buf));
    }
    *out = items;
    *n_out = n->count;
    return BT_OK;
}

bt_err config__get_tags(struct loader *ld, const struct ynode *n, const char *path, size_t max,
                        const char ***out, size_t *n_out)
{
    return config__get_string_list(ld, n, path, max, LIST_TAG, out, n_out);
}

bt_err config__expect_map(struct loader *ld, const struct ynode *n, const char *path,
                          const char *what)
{
    if (n->kind != YNODE_MAP)
        return config__fail_at(ld, n, "%s: expected a mapping %s, not %s", path, what,
                               config__kind_name(n));
    return BT_OK;
}

#define CONFIG_N_KEYS(keys) (sizeof(keys) / sizeof((keys)[0]))

/* server.metrics: {public: false} - who may read GET /metrics without a
 * key (docs/config.md). */
static bt_err load_server_metrics(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"public"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "server.metrics", "of metrics settings")) ||
        (rc = config__map_fields(ld, n, "in server.metrics", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_bool(ld, v[0], "server.metrics.public", &ld->cfg->metrics_public)))
        return rc;
    return BT_OK;
}

static bt_err load_server(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {
        "listen",          "max_body_bytes",   "max_connections",
        "request_timeout", "shutdown_timeout", "form_redirect_hosts",
        "header_timeout",  "body_timeout",     "max_connections_per_address",
        "limit_loopback",  "public_url",       "metrics"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "server", "of server settings")) ||
        (rc = config__map_fields(ld, n, "in server", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    if ((rc = config__get_string(ld, v[0], "server.listen", 300, &cfg->listen)))
        return rc;
    if (!valid_listen(cfg->listen))
        return config__fail_at(ld, v[0],
                               "server.listen: expected HOST:PORT such as 127.0.0.1:8080 or "
                               "[::1]:8080 (port 0 to 65535)");
    if ((rc = get_size(ld, v[1], "server.max_body_bytes", KIB, 64 * MIB, &cfg->max_body_bytes)) ||
        (rc = config__get_uint(ld, v[2], "server.max_connections", 1, 10000,
                               &cfg->max_connections)) ||
        (rc = get_duration(ld, v[3], "server.request_timeout", CONFIG_SECOND_MS, CONFIG_HOUR_MS,
                           &cfg->request_timeout_ms)) ||
        (rc = get_duration(ld, v[4], "server.shutdown_timeout", 0, CONFIG_HOUR_MS,
                           &cfg->shutdown_timeout_ms)) ||
        (rc = config__get_string_list(ld, v[5], "server.form_redirect_hosts", CONFIG_MAX_HOSTS,
                                      LIST_HOST, &cfg->form_redirect_hosts,
                                      &cfg->n_form_redirect_hosts)) ||
        (rc = get_duration(ld, v[6], "server.header_timeout", CONFIG_SECOND_MS, CONFIG_HOUR_MS,
                           &cfg->header_timeout_ms)) ||
        (rc = get_duration(ld, v[7], "server.body_timeout", CONFIG_SECOND_MS, CONFIG_HOUR_MS,
                           &cfg->body_timeout_ms)) ||
        (rc = config__get_uint(ld, v[8], "server.max_connections_per_address", 0, 10000,
                               &cfg->max_connections_per_address)) ||
        (rc = config__get_bool(ld, v[9], "server.limit_loopback", &cfg->limit_loopback)) ||
        (rc = get_public_url(ld, v[10], &cfg->public_url)) || (rc = load_server_metrics(ld, v[11])))
        return rc;
    return BT_OK;
}

static bt_err load_store(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"synchronous", "busy_timeout", "group_commit_max"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "store", "of store settings")) ||
        (rc = config__map_fields(ld, n, "in store", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    if (!config__absent(v[0])) {
        if (config__scalar_is(v[0], "full"))
            cfg->synchronous = CONFIG_SYNC_FULL;
        else if (config__scalar_is(v[0], "normal"))
            cfg->synchronous = CONFIG_SYNC_NORMAL;
        else
            return config__fail_at(ld, v[0], "store.synchronous: expected full or normal");
    }
    if ((rc = get_duration(ld, v[1], "store.busy_timeout", 0, 10 * CONFIG_MINUTE_MS,
                           &cfg->busy_timeout_ms)) ||
        (rc = config__get_uint(ld, v[2], "store.group_commit_max", 1, 10000,
                               &cfg->group_commit_max)))
        return rc;
    return BT_OK;
}

/* A {add, remove} mapping of domains (intake.freemail, intake.disposable). */
static bt_err load_domain_changes(struct loader *ld, const struct ynode *n, const char *path,
                                  const char ***add, size_t *n_add, const char ***remove,
                                  size_t *n_remove)
{
    static const char *const keys[] = {"add", "remove"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    char where[64], add_path[64], remove_path[64];
    snprintf(where, sizeof(where), "in %s", path);
    snprintf(add_path, sizeof(add_path), "%s.add", path);
    snprintf(remove_path, sizeof(remove_path), "%s.remove", path);
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, path, "with add and remove")) ||
        (rc = config__map_fields(ld, n, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_string_list(ld, v[0], add_path, CONFIG_MAX_DOMAINS, LIST_DOMAIN, add,
                                      n_add)) ||
        (rc = config__get_string_list(ld, v[1], remove_path, CONFIG_MAX_DOMAINS, LIST_DOMAIN,
                                      remove, n_remove)))
        return rc;
    return BT_OK;
}

static bt_err load_intake(struct loader *ld, const struct ynode *n, const char ***add,
                          size_t *n_add, const char ***remove, size_t *n_remove)
{
    /* keys added later are appended, so that messages listing them keep their wording */
    static const char *const keys[] = {"freemail", "activities_create_leads", "rate_limit",
                                       "allowed_origins", "disposable"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "intake", "of intake settings")) ||
        (rc = config__map_fields(ld, n, "in intake", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = load_domain_changes(ld, v[0], "intake.freemail", add, n_add, remove, n_remove)) ||
        (rc = config__get_bool(ld, v[1], "intake.activities_create_leads",
                               &cfg->activities_create_leads)) ||
        (rc = config__load_rate_limit(ld, v[2])) || (rc = config__load_origins(ld, v[3])) ||
        (rc = load_domain_changes(ld, v[4], "intake.disposable", &cfg->disposable_add,
                                  &cfg->n_disposable_add, &cfg->disposable_remove,
                                  &cfg->n_disposable_remove)))
        return rc;
    return BT_OK;
}

/* Allocates `count` pointers in the scratch arena for remembering nodes. */
static const struct ynode **node_slots(struct loader *ld, size_t count)
{
    return arena_alloc(&ld->scratch, (count ? count : 1) * sizeof(const struct ynode *));
}

/* The id of a team, rep or pool: required, and of the id form. */
bt_err config__get_id(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                      const char *path, const char **out)
{
    char idpath[64];
    snprintf(idpath, sizeof(idpath), "%s.id", path);
    if (!v)
        return config__fail_at(ld, elem, "%s: missing required key 'id'", path);
    if (config__is_null(v))
        return config__fail_at(ld, v, "%s: required", idpath);
    bt_err rc = config__get_string(ld, v, idpath, CONFIG_MAX_STRING, out);
    if (rc)
        return rc;
    char buf[CONFIG_EXCERPT_MAX + 4];
    if (!valid_id(*out))
        return config__fail_at(
            ld, v,
            "%s: '%s' is not a valid id (lower-case letters, digits, '_', '.' and '-', "
            "starting with a letter or digit, at most %d characters)",
            idpath, config__excerpt(*out, strlen(*out), buf), CONFIG_MAX_ID);
    return BT_OK;
}

bt_err config__check_list(struct loader *ld, const struct ynode *n, const char *section, size_t max,
                          const char *what)
{
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n, "%s: expected a list of %s, not %s", section, what,
                               config__kind_name(n));
    if (n->count > max) {
        const struct ynode *e = n->first;
        for (size_t i = 0; i < max; i++)
            e = e->next;
        return config__fail_at(ld, e, "too many %s (at most %zu)", what, max);
    }
    return BT_OK;
}

static bt_err load_teams(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"id", "name", "manager", "timezone", "hours", "holidays"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__check_list(ld, n, "teams", CONFIG_MAX_TEAMS, "teams")))
        return rc;
    cfg->teams = arena_alloc(ld->arena, (n->count ? n->count : 1) * sizeof(*cfg->teams));
    ld->team_id_at = node_slots(ld, n->count);
    ld->team_manager_at = node_slots(ld, n->count);
    ld->team_schedule =
        arena_alloc(&ld->scratch, (n->count ? n->count : 1) * sizeof(*ld->team_schedule));
    if (!cfg->teams || !ld->team_id_at || !ld->team_manager_at || !ld->team_schedule)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        struct config_team *t = &cfg->teams[i];
        char path[32], where[40], field[48];
        snprintf(path, sizeof(path), "teams[%zu]", i);
        snprintf(where, sizeof(where), "in %s", path);
        if ((rc = config__expect_map(ld, e, path, "with id, name, manager, timezone, ...")) ||
            (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
            (rc = config__get_id(ld, e, v[0], path, &t->id)))
            return rc;
        snprintf(field, sizeof(field), "%s.name", path);
        if ((rc = config__get_string(ld, v[1], field, CONFIG_MAX_STRING, &t->name)))
            return rc;
        snprintf(field, sizeof(field), "%s.manager", path);
        if ((rc = config__get_string(ld, v[2], field, CONFIG_MAX_STRING, &t->manager)))
            return rc;
        struct config_schedule *sched = &ld->team_schedule[i];
        snprintf(field, sizeof(field), "%s.timezone", path);
        if ((rc = config__get_zone(ld, v[3], field, &t->timezone, &sched->tz)))
            return rc;
        snprintf(field, sizeof(field), "%s.hours", path);
        if ((rc = config__get_hours(ld, v[4], field, sched)))
            return rc;
        snprintf(field, sizeof(field), "%s.holidays", path);
        if ((rc = config__get_holidays(ld, v[5], field, sched)))
            return rc;
        if (!t->name)
            t->name = t->id;
        t->has_hours = sched->has_hours;
        t->hours = sched->hours;
        t->has_holidays = sched->has_holidays;
        t->holidays = sched->holidays;
        ld->team_id_at[i] = v[0];
        ld->team_manager_at[i] = v[2];
        cfg->n_teams = i + 1;
    }
    return BT_OK;
}

static bt_err load_rep(struct loader *ld, const struct ynode *e, size_t i, struct config_rep *r)
{
    /* Keys added later are appended, so that messages listing them keep their wording. */
    static const char *const keys[] = {
        "id",       "name",   "email",     "phone",       "slack",     "team",
        "timezone", "active", "languages", "skills",      "weight",    "capacity",
        "manager",  "hours",  "holidays",  "territories", "daily_cap", "weekly_cap"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    char path[32], where[40], f[48], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "reps[%zu]", i);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with id, name, email, team, ...")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_id(ld, e, v[0], path, &r->id)) ||
        (rc = config__get_string(ld, v[1], FIELD("name"), CONFIG_MAX_STRING, &r->name)) ||
        (rc = config__get_string(ld, v[2], FIELD("email"), 254, &r->email)))
        return rc;
    if (r->email) {
        lower_in_place((char *)r->email);
        if (!valid_email(r->email))
            return config__fail_at(ld, v[2], "%s: '%s' is not an email address", FIELD("email"),
                                   config__excerpt(r->email, strlen(r->email), buf));
    }
    /* The time zone, hours and holidays as given; the team's fill the gaps
     * once every team is known (config__load_routing). */
    struct config_schedule *sched = &ld->rep_schedule[i];
    if ((rc = config__get_string(ld, v[3], FIELD("phone"), CONFIG_MAX_STRING, &r->phone)) ||
        (rc = config__get_string(ld, v[4], FIELD("slack"), CONFIG_MAX_STRING, &r->slack)) ||
        (rc = config__get_string(ld, v[5], FIELD("team"), CONFIG_MAX_STRING, &r->team)) ||
        (rc = config__get_zone(ld, v[6], FIELD("timezone"), &r->timezone, &sched->tz)))
        return rc;
    r->active = true;
    r->weight = 1;
    r->capacity = ROUTING_UNLIMITED;
    r->daily_cap = ROUTING_UNLIMITED;
    r->weekly_cap = ROUTING_UNLIMITED;
    if ((rc = config__get_bool(ld, v[7], FIELD("active"), &r->active)) ||
        (rc = config__get_string_list(ld, v[8], FIELD("languages"), CONFIG_MAX_TAGS, LIST_TAG,
                                      &r->languages, &r->n_languages)) ||
        (rc = config__get_string_list(ld, v[9], FIELD("skills"), CONFIG_MAX_TAGS, LIST_TAG,
                                      &r->skills, &r->n_skills)) ||
        (rc = get_weight(ld, v[10], FIELD("weight"), &r->weight)) ||
        (rc = get_capacity(ld, v[11], FIELD("capacity"), &r->capacity)) ||
        (rc = config__get_string(ld, v[12], FIELD("manager"), CONFIG_MAX_STRING, &r->manager)) ||
        (rc = config__get_hours(ld, v[13], FIELD("hours"), sched)) ||
        (rc = config__get_holidays(ld, v[14], FIELD("holidays"), sched)) ||
        (rc = config__get_territories(ld, v[15], FIELD("territories"), &r->territories,
                                      &r->n_territories)) ||
        (rc = get_capacity(ld, v[16], FIELD("daily_cap"), &r->daily_cap)) ||
        (rc = get_capacity(ld, v[17], FIELD("weekly_cap"), &r->weekly_cap)))
        return rc;
#undef FIELD
    if (!r->name)
        r->name = r->id;
    ld->rep_id_at[i] = v[0];
    ld->rep_team_at[i] = v[5];
    ld->rep_manager_at[i] = v[12];
    return BT_OK;
}

static bt_err load_reps(struct loader *ld, const struct ynode *n)
{
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__check_list(ld, n, "reps", CONFIG_MAX_REPS, "reps")))
        return rc;
    cfg->reps = arena_alloc(ld->arena, (n->count ? n->count : 1) * sizeof(*cfg->reps));
    ld->rep_id_at = node_slots(ld, n->count);
    ld->rep_team_at = node_slots(ld, n->count);
    ld->rep_manager_at = node_slots(ld, n->count);
    ld->rep_schedule =
        arena_alloc(&ld->scratch, (n->count ? n->count : 1) * sizeof(*ld->rep_schedule));
    if (!cfg->reps || !ld->rep_id_at || !ld->rep_team_at || !ld->rep_manager_at ||
        !ld->rep_schedule)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        if ((rc = load_rep(ld, e, i, &cfg->reps[i])))
            return rc;
        cfg->n_reps = i + 1;
    }
    return BT_OK;
}

/* ---- references between sections ---- */

struct id_ref {
    const char *id;
    size_t index; /* position in the file's list */
};

static int id_ref_cmp(const void *a, const void *b)
{
    const struct id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int id_ref_find(const void *key, const void *elem)
{
    return strcmp(key, ((const struct id_ref *)elem)->id);
}

/*
 * Sorts ids (keeping file order among equals) and reports the first one, in
 * file order, that repeats an earlier id. The sorted array serves lookups.
 */
static bt_err sort_unique(struct loader *ld, struct id_ref *refs, size_t n,
                          const struct ynode **id_at, const char *what)
{
    qsort(refs, n, sizeof(*refs), id_ref_cmp);
    const struct id_ref *dup = NULL, *first = NULL;
    size_t group = 0;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(refs[i].id, refs[group].id) != 0)
            group = i;
        else if (!dup || refs[i].index < dup->index) {
            dup = &refs[i];
            first = &refs[group];
        }
    }
    if (!dup)
        return BT_OK;
    char buf[CONFIG_EXCERPT_MAX + 4];
    return config__fail_at(ld, id_at[dup->index], "duplicate %s id '%s' (first defined at line %d)",
                           what, config__excerpt(dup->id, strlen(dup->id), buf),
                           id_at[first->index]->line);
}

static bt_err check_references(struct loader *ld, struct config_priv *priv)
{
    struct config *cfg = ld->cfg;
    struct id_ref *teams = arena_alloc(&ld->scratch, (cfg->n_teams + 1) * sizeof(*teams));
    struct id_ref *reps = arena_alloc(&ld->scratch, (cfg->n_reps + 1) * sizeof(*reps));
    if (!teams || !reps)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    for (size_t i = 0; i < cfg->n_teams; i++)
        teams[i] = (struct id_ref){cfg->teams[i].id, i};
    for (size_t i = 0; i < cfg->n_reps; i++)
        reps[i] = (struct id_ref){cfg->reps[i].id, i};
    bt_err rc;
    if ((rc = sort_unique(ld, teams, cfg->n_teams, ld->team_id_at, "team")) ||
        (rc = sort_unique(ld, reps, cfg->n_reps, ld->rep_id_at, "rep")))
        return rc;

    char buf[CONFIG_EXCERPT_MAX + 4];
    for (size_t i = 0; i < cfg->n_teams; i++) {
        const char *m = cfg->teams[i].manager;
        if (m && !bsearch(m, reps, cfg->n_reps, sizeof(*reps), id_ref_find))
            return config__fail_at(ld, ld->team_manager_at[i],
                                   "teams[%zu].manager: no rep has the id '%s'", i,
                                   config__excerpt(m, strlen(m), buf));
    }
    ld->rep_team = arena_alloc(&ld->scratch, (cfg->n_reps + 1) * sizeof(*ld->rep_team));
    if (!ld->rep_team)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    for (size_t i = 0; i < cfg->n_reps; i++) {
        const char *t = cfg->reps[i].team;
        const struct id_ref *team =
            t ? bsearch(t, teams, cfg->n_teams, sizeof(*teams), id_ref_find) : NULL;
        if (t && !team)
            return config__fail_at(ld, ld->rep_team_at[i],
                                   "reps[%zu].team: no team has the id '%s'; define it under teams",
                                   i, config__excerpt(t, strlen(t), buf));
        ld->rep_team[i] = team ? team->index : SIZE_MAX;
        const char *m = cfg->reps[i].manager;
        if (m && !bsearch(m, reps, cfg->n_reps, sizeof(*reps), id_ref_find))
            return config__fail_at(ld, ld->rep_manager_at[i],
                                   "reps[%zu].manager: no rep has the id '%s'", i,
                                   config__excerpt(m, strlen(m), buf));
    }

    priv->reps_by_id = arena_alloc(&priv->arena, (cfg->n_reps + 1) * sizeof(*priv->reps_by_id));
    if (!priv->reps_by_id)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    for (size_t i = 0; i < cfg->n_reps; i++)
        priv->reps_by_id[i] = &cfg->reps[reps[i].index];
    return BT_OK;
}

/* reports: {lost_lead_value} (report/reports.h) */
static bt_err load_reports(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"lost_lead_value"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "reports", "of report settings")) ||
        (rc = config__map_fields(ld, n, "in reports", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    if (!config__absent(v[0])) {
        double value;
        if (v[0]->kind != YNODE_SCALAR ||
            !config__parse_number(v[0]->text, v[0]->len, false, &value) || value > 1e12)
            return config__fail_at(ld, v[0],
                                   "reports.lost_lead_value: expected a number from 0 to "
                                   "1000000000000 (the revenue one lead is worth)");
        ld->cfg->reports.lost_lead_value = value;
    }
    return BT_OK;
}

/* ---- the whole file ---- */

static bt_err load_root(struct loader *ld, const struct ynode *root, struct config_priv *priv)
{
    /* Sections added later are appended, so that messages listing the keys
     * keep their wording. */
    static const char *const keys[] = {
        "version", "server",  "store",    "intake", "teams", "reps",    "scoring",  "qualification",
        "pools",   "routing", "accounts", "sla",    "forms", "reports", "delivery", "predictive"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (!root || config__is_null(root))
        return config__fail_pos(ld, 1, 1, "the file is empty; it needs at least 'version: 1'");
    if (root->kind != YNODE_MAP)
        return config__fail_at(ld, root,
                               "expected a mapping of sections (version, server, ...) at the "
                               "top level, not %s",
                               config__kind_name(root));
    if ((rc = config__map_fields(ld, root, "at the top level", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    if (!v[0])
        return config__fail_at(ld, root,
                               "missing required key 'version' (add 'version: 1' at the top)");
    if (!config__scalar_is(v[0], "1"))
        return config__fail_at(ld, v[0], "version: expected 1, the only version of this format");

    const char **add = NULL, **remove = NULL;
    size_t n_add = 0, n_remove = 0;
    if ((rc = load_server(ld, v[1])) || (rc = load_store(ld, v[2])) ||
        (rc = load_intake(ld, v[3], &add, &n_add, &remove, &n_remove)) ||
        (rc = config__load_scoring(ld, v[6], v[7])) || (rc = load_teams(ld, v[4])) ||
        (rc = load_reps(ld, v[5])) || (rc = check_references(ld, priv)) ||
        (rc = config__load_routing(ld, v[8], v[9], v[10])) || (rc = config__load_sla(ld, v[11])) ||
        (rc = config__load_forms(ld, v[12])) || (rc = load_reports(ld, v[13])) ||
        (rc = config__load_delivery(ld, v[14])) || (rc = config__load_predictive(ld, v[15])))
        return rc;
    /* The domain arrays stay in the snapshot's arena for as long as the set. */
    cfg->freemail = freemail_set_new(add, n_add, remove, n_remove);
    cfg->freemail_add = add;
    cfg->n_freemail_add = n_add;
    cfg->freemail_remove = remove;
    cfg->n_freemail_remove = n_remove;
    cfg->disposable = disposable_set_new(cfg->disposable_add, cfg->n_disposable_add,
                                         cfg->disposable_remove, cfg->n_disposable_remove);
    return BT_OK;
}

static void config_free(struct config *cfg)
{
    struct config_priv *priv = cfg->priv;
    /* Rules first: they borrow the symbol tables, and all of it the arena. */
    config__delivery_release(cfg);
    config__sla_release(cfg);
    config__routing_release(cfg, &priv->zones);
    config__scoring_release(cfg);
    freemail_set_free(cfg->freemail);
    freemail_set_free(cfg->disposable);
    arena_release(&priv->arena);
    free(priv);
    free(cfg);
}

static void set_defaults(struct config *cfg)
{
    config__predictive_defaults(&cfg->predictive);
    cfg->listen = "127.0.0.1:8080";
    cfg->max_body_bytes = MIB;
    cfg->max_connections = 256;
    cfg->request_timeout_ms = 30 * CONFIG_SECOND_MS;
    cfg->header_timeout_ms = 10 * CONFIG_SECOND_MS;
    cfg->body_timeout_ms = 60 * CONFIG_SECOND_MS;
    cfg->max_connections_per_address = 64;
    cfg->shutdown_timeout_ms = 10 * CONFIG_SECOND_MS;
    cfg->synchronous = CONFIG_SYNC_FULL;
    cfg->busy_timeout_ms = 5 * CONFIG_SECOND_MS;
    cfg->group_commit_max = 256;
    cfg->account_name_threshold = ACCOUNT_NAME_THRESHOLD_DEFAULT;
    cfg->rate_limit = (struct config_rate_limit){
        .per_key = {.count = 100, .period_ms = 1000, .burst = 1000},
        .per_address = {.count = 10, .period_ms = 1000, .burst = 100},
        .ingest = true,
    };
    config__delivery_defaults(cfg);
}

static void version_hash(const char *text, size_t len, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(text, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len < 8)
        bt_die("libcrypto: SHA-256 failed");
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[16] = '\0';
}

bt_err config_load_string(const char *name, const char *text, size_t len, struct config **out,
                          struct bt_error *err)
{
    *out = NULL;
    if (!name)
        name = "<config>";
    if (!text)
        len = 0;
    struct loader ld = {.name = name, .err = err, .scratch = ARENA_INIT};
    if (len > CONFIG_MAX_FILE_BYTES)
        return config__fail_pos(&ld, 1, 1, "the file is larger than %u MiB",
                                CONFIG_MAX_FILE_BYTES >> 20);

    struct config *cfg = xcalloc(1, sizeof(*cfg));
    struct config_priv *priv = xcalloc(1, sizeof(*priv));
    priv->arena = (struct arena)ARENA_INIT;
    cfg->priv = priv;
    cfg->refs = 1;
    set_defaults(cfg);
    ld.scratch.limit = CONFIG_SCRATCH_LIMIT;
    ld.arena = &priv->arena;
    ld.zones = &priv->zones;
    ld.cfg = cfg;

    /* libfyaml wants the input terminated; `text` need not be. */
    char *copy = xmalloc(len + 1);
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';

    struct ynode *root = NULL;
    bt_err rc = parse_tree(&ld, copy, len, &root);
    if (rc == BT_OK)
        rc = load_root(&ld, root, priv);
    if (rc == BT_OK) {
        cfg->path = arena_strdup(&priv->arena, name);
        json_t *context = route_record_context(&cfg->routing);
        char *ctx_text = context ? json_dumps(context, JSON_COMPACT) : NULL;
        json_decref(context);
        cfg->record_context = ctx_text ? arena_strdup(&priv->arena, ctx_text) : NULL;
        cfg->record_context_len = cfg->record_context ? strlen(cfg->record_context) : 0;
        free(ctx_text);
        if (!cfg->path || !cfg->record_context)
            rc = config__fail_pos(&ld, 1, 1, "the configuration is too large");
    }
    free(copy);
    arena_release(&ld.scratch);
    if (rc) {
        config_free(cfg);
        return rc;
    }
    version_hash(text ? text : "", len, cfg->version);
    cfg->decide = (struct decide_model){
        .scoring = cfg->scoring,
        .qualification = &cfg->qualification,
        .routing = &cfg->routing,
        .sla = &cfg->sla,
        .version = cfg->version,
    };
    *out = cfg;
    return BT_OK;
}

bt_err config_load(const char *path, struct config **out, struct bt_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bt_fail(err, BT_EIO, NULL, "%s: cannot open: %s", path, strerror(errno));
    /* Read one byte past the limit so that a larger file is noticed, not cut. */
    size_t cap = 64 * 1024, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > CONFIG_MAX_FILE_BYTES)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f);
    int saved = errno;
    fclose(f);
    bt_err rc;
    if (failed)
        rc = bt_fail(err, BT_EIO, NULL, "%s: cannot read: %s", path, strerror(saved));
    else if (len > CONFIG_MAX_FILE_BYTES)
        rc = bt_fail(err, BT_ECONFIG, NULL, "%s:1:1: the file is larger than %u MiB", path,
                     CONFIG_MAX_FILE_BYTES >> 20);
    else
        rc = config_load_string(path, buf, len, out, err);
    free(buf);
    return rc;
}

struct config *config_ref(struct config *cfg)
{
    if (cfg)
        __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
    return cfg;
}

void config_unref(struct config *cfg)
{
    if (cfg && __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) == 0)
        config_free(cfg);
}

static int rep_find(const void *key, const void *elem)
{
    return strcmp(key, (*(const struct config_rep *const *)elem)->id);
}

const struct config_rep *config_rep_of(const struct config *cfg, size_t routing_index)
{
    if (routing_index >= cfg->n_reps ||
        cfg->reps[routing_index].routing != &cfg->routing.reps[routing_index])
        BT_BUG("config_rep_of: %zu is not a rep of this configuration", routing_index);
    return &cfg->reps[routing_index];
}

const struct config_rep *config_find_rep(const struct config *cfg, const char *id)
{
    if (!cfg || !id || cfg->n_reps == 0)
        return NULL;
    const struct config_priv *priv = cfg->priv;
    const struct config_rep *const *hit =
        bsearch(id, priv->reps_by_id, cfg->n_reps, sizeof(*priv->reps_by_id), rep_find);
    return hit ? *hit : NULL;
}

const char *config_rep_manager(const struct config *cfg, const char *rep_id)
{
    const struct config_rep *r = config_find_rep(cfg, rep_id);
    if (!r)
        return NULL;
    if (r->manager)
        return r->manager;
    for (size_t i = 0; r->team && i < cfg->n_teams; i++)
        if (!strcmp(cfg->teams[i].id, r->team))
            return cfg->teams[i].manager;
    return NULL;
}

bool config_manages(const struct config *cfg, const char *manager, const char *rep_id)
{
    const char *m = config_rep_manager(cfg, rep_id);
    return m && manager && !strcmp(m, manager);
}
