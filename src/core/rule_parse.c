/*
 * rule_parse.c - from the text of a condition to a compiled rule: a lexer, a
 * recursive-descent parser that emits the flat node array of rule_internal.h
 * directly, and the preparation of literals (lower-casing, numbers, sorted
 * lists, PCRE2 patterns).
 *
 * The parser holds one token of lookahead and emits nodes in prefix order; an
 * `and`/`or` node is inserted in front of its first operand once the keyword
 * is seen, which works because subtree sizes are relative. Error messages are
 * written for the person editing the configuration: they point at a byte and
 * say what was expected there.
 */
#include "core/rule_internal.h"
#include "util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind {
    TOK_END,
    TOK_WORD, /* a name or a dotted path; `kw` says whether it is a keyword */
    TOK_STRING,
    TOK_NUMBER,
    TOK_CMP, /* == != < <= > >=; `mask` says which */
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_COMMA,
};

enum keyword {
    KW_NONE,
    KW_AND,
    KW_OR,
    KW_NOT,
    KW_IN,
    KW_CONTAINS,
    KW_STARTS_WITH,
    KW_ENDS_WITH,
    KW_MATCHES,
    KW_EXISTS,
    KW_CASE,
    KW_TRUE,
    KW_FALSE,
};

static const struct {
    const char *word;
    enum keyword kw;
} keywords[] = {
    {"and", KW_AND},
    {"or", KW_OR},
    {"not", KW_NOT},
    {"in", KW_IN},
    {"contains", KW_CONTAINS},
    {"starts_with", KW_STARTS_WITH},
    {"ends_with", KW_ENDS_WITH},
    {"matches", KW_MATCHES},
    {"exists", KW_EXISTS},
    {"case", KW_CASE},
    {"true", KW_TRUE},
    {"false", KW_FALSE},
};

struct token {
    enum tok_kind kind;
    enum keyword kw;
    uint8_t mask;
    size_t off, len;
};

/* A literal as parsed; `str` points into the rule's string pool. */
struct literal {
    enum rule_type type;
    bool exact, boolean, has_number;
    double number;
    const char *str;
    uint32_t len;
    size_t off;
};

struct parser {
    const char *text;
    size_t len, pos;
    struct token tok;  /* the next token */
    struct token prev; /* the last one consumed (kind TOK_END at the start) */
    bool started;
    struct rule_symtab *syms;
    struct rule_error *err;
    struct arena arena; /* becomes the rule's */
    pcre2_match_context *match_context;
    char *pool; /* decoded string literals; never moves */
    size_t pool_used;
    unsigned tree_nodes; /* conditions, and, or, not: the limit counts these */
    unsigned depth;
    uint32_t n_nodes;
    struct rule__node nodes[RULE__MAX_NODES]; /* the parse tree */
    struct literal items[RULE__MAX_LIST];
    /* lowering: where each jump label landed, and the leaves emitted */
    uint16_t label_at[RULE__MAX_NODES + 2];
    uint32_t n_labels;
    struct rule__node out[RULE__MAX_NODES + 2];
    uint32_t n_out;
};

#define OPERATORS                                                                                  \
    "==, !=, <, <=, >, >=, in, not in, contains, starts_with, ends_with, matches or exists"
#define VALUES "(a number, a string in double quotes, true or false)"

BT_PRINTF(3, 4)
static bt_err fail(struct parser *p, size_t off, const char *fmt, ...)
{
    if (p->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
        va_end(ap);
        p->err->offset = off;
    }
    return BT_EINVAL;
}

/* ---- lexer ---- */

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static enum keyword keyword_of(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        const char *k = keywords[i].word;
        if (strlen(k) != len)
            continue;
        size_t j = 0;
        while (j < len && lower_ascii(s[j]) == k[j])
            j++;
        if (j == len)
            return keywords[i].kw;
    }
    return KW_NONE;
}

/* Describes the next token for "found ..." in messages. */
static const char *describe(const struct parser *p, char *buf, size_t size)
{
    const struct token *t = &p->tok;
    switch (t->kind) {
    case TOK_END:
        return "the end of the rule";
    case TOK_STRING:
        return "a string";
    default:
        if (t->len > 40)
            snprintf(buf, size, "'%.40s...'", p->text + t->off);
        else
            snprintf(buf, size, "'%.*s'", (int)t->len, p->text + t->off);
        return buf;
    }
}

/* The name of the last token consumed, for "after ..." in messages. */
static const char *last(const struct parser *p, char *buf, size_t size)
{
    size_t n = p->prev.len > 40 ? 40 : p->prev.len;
    snprintf(buf, size, "'%.*s'", (int)n, p->text + p->prev.off);
    return buf;
}

static bt_err lex_string(struct parser *p, size_t start)
{
    size_t i = start + 1;
    while (i < p->len) {
        char c = p->text[i];
        if (c == '"') {
            p->tok = (struct token){TOK_STRING, KW_NONE, 0, start, i + 1 - start};
            p->pos = i + 1;
            return BT_OK;
        }
        /* A line break inside a string is almost always a missing quote. */
        if (c == '\n' || c == '\r')
            break;
        if (c == '\0')
            return fail(p, i, "unexpected byte 0x00 in a string");
        i += c == '\\' ? 2 : 1;
    }
    return fail(p, start, "unterminated string");
}

static bt_err lex_number(struct parser *p, size_t start)
{
    size_t i = start;
    if (p->text[i] == '-')
        i++;
    while (i < p->len && is_digit(p->text[i]))
        i++;
    if (i < p->len && p->text[i] == '.') {
        i++;
        if (i == p->len || !is_digit(p->text[i]))
            return fail(p, start, "invalid number: expected digits after '.'");
        while (i < p->len && is_digit(p->text[i]))
            i++;
    }
    if (i < p->len && (is_name_char(p->text[i]) || p->text[i] == '.')) {
        size_t end = i;
        while (end < p->len && (is_name_char(p->text[end]) || p->text[end] == '.'))
            end++;
        return fail(p, start,
                    "invalid number '%.*s'; numbers are written like 200, -5 or 2.5 "
                    "(text goes in double quotes)",
                    (int)(end - start > 40 ? 40 : end - start), p->text + start);
    }
    p->tok = (struct token){TOK_NUMBER, KW_NONE, 0, start, i - start};
    p->pos = i;
    return BT_OK;
}

static bt_err lex_word(struct parser *p, size_t start)
{
    size_t i = start;
    bool dotted = false;
    for (;;) {
        while (i < p->len && is_name_char(p->text[i]))
            i++;
        if (i < p->len && p->text[i] == '.') {
            if (i + 1 >= p->len || !is_name_start(p->text[i + 1]))
                return fail(p, i + 1, "expected a field name after '.'");
            dotted = true;
            i++;
            continue;
        }
        break;
    }
    if (i < p->len && (unsigned char)p->text[i] >= 0x80)
        return fail(p, i, "unexpected byte 0x%02X in a name; names use A-Z, a-z, 0-9, '_' and '-'",
                    (unsigned char)p->text[i]);
    enum keyword kw = dotted ? KW_NONE : keyword_of(p->text + start, i - start);
    p->tok = (struct token){TOK_WORD, kw, 0, start, i - start};
    p->pos = i;
    return BT_OK;
}

static bt_err advance(struct parser *p)
{
    if (p->started)
        p->prev = p->tok;
    p->started = true;
    const char *s = p->text;
    size_t i = p->pos;
    while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    p->pos = i;
    if (i == p->len) {
        p->tok = (struct token){TOK_END, KW_NONE, 0, i, 0};
        return BT_OK;
    }
    char c = s[i];
    char n = i + 1 < p->len ? s[i + 1] : '\0';
    enum tok_kind single = TOK_END;
    switch (c) {
    case '(':
        single = TOK_LPAREN;
        break;
    case ')':
        single = TOK_RPAREN;
        break;
    case '[':
        single = TOK_LBRACKET;
        break;
    case ']':
        single = TOK_RBRACKET;
        break;
    case ',':
        single = TOK_COMMA;
        break;
    case '"':
        return lex_string(p, i);
    case '=':
        if (n == '=') {
            p->tok = (struct token){TOK_CMP, KW_NONE, RULE__EQUAL, i, 2};
            p->pos = i + 2;
            return BT_OK;
        }
        if (n == '>' || n == '<')
            return fail(p, i, "unknown operator '=%c'; did you mean '%c='?", n, n);
        return fail(p, i, "unknown operator '='; did you mean '=='?");
    case '!':
        if (n == '=') {
            p->tok = (struct token){TOK_CMP, KW_NONE, RULE__LESS | RULE__GREATER, i, 2};
            p->pos = i + 2;
            return BT_OK;
        }
        return fail(p, i, "unexpected '!'; did you mean '!=' or 'not'?");
    case '<':
    case '>': {
        uint8_t mask = c == '<' ? RULE__LESS : RULE__GREATER;
        if (c == '<' && n == '>')
            return fail(p, i, "unknown operator '<>'; did you mean '!='?");
        if (n == '=')
            mask |= RULE__EQUAL;
        p->tok = (struct token){TOK_CMP, KW_NONE, mask, i, n == '=' ? 2 : 1};
        p->pos = i + p->tok.len;
        return BT_OK;
    }
    case '-':
        if (is_digit(n))
            return lex_number(p, i);
        return fail(p, i, "unexpected '-'; a negative number is written like -5");
    case '\'':
        return fail(p, i, "strings go in double quotes (\"...\"), not single quotes");
    default:
        if (is_digit(c))
            return lex_number(p, i);
        if (is_name_start(c))
            return lex_word(p, i);
        if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f)
            return fail(p, i, "unexpected character '%c'", c);
        return fail(p, i, "unexpected byte 0x%02X outside a string", (unsigned char)c);
    }
    p->tok = (struct token){single, KW_NONE, 0, i, 1};
    p->pos = i + 1;
    return BT_OK;
}

/* ---- string literals ---- */

/*
 * Decodes the string token `t` into `out` (which has room: no escape grows).
 * In a pattern (`regex`), a backslash before anything but " \ n t u is kept
 * with its character, so that \d, \. or \b reach PCRE2 as written. When
 * `map_to` is not SIZE_MAX, only returns the source offset of decoded byte
 * `map_to` (for PCRE2's error offsets) in *map_out.
 */
static bt_err decode_string(struct parser *p, const struct token *t, bool regex, char *out,
                            size_t *out_len, size_t map_to, size_t *map_out)
{
    const char *s = p->text;
    size_t i = t->off + 1, end = t->off + t->len - 1, n = 0;
    while (i < end) {
        if (map_to != SIZE_MAX && n >= map_to) {
            *map_out = i;
            return BT_OK;
        }
        char c = s[i];
        if (c != '\\') {
            if (out)
                out[n] = c;
            n++;
            i++;
            continue;
        }
        char e = s[i + 1]; /* the lexer guarantees a character after '\' */
        uint32_t cp;
        size_t used;
        char buf[4];
        size_t k;
        switch (e) {
        case '"':
        case '\\':
            buf[0] = e;
            k = 1;
            i += 2;
            break;
        case 'n':
            buf[0] = '\n';
            k = 1;
            i += 2;
            break;
        case 't':
            buf[0] = '\t';
            k = 1;
            i += 2;
            break;
        case 'u':
            if (!(used = text_unescape_u(s + i, end - i, &cp)))
                return fail(p, i, "invalid \\u escape; expected 4 hex digits, like \\u00e9");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(p, i, "invalid \\u escape: \\u%04X is half of a surrogate pair",
                            (unsigned)cp);
            if (cp >= 0xD800 && cp <= 0xDBFF)
                return fail(p, i,
                            "invalid \\u escape: \\u%04X must be followed by a low "
                            "surrogate (\\uDC00 to \\uDFFF)",
                            (unsigned)cp);
            if (cp == 0)
                return fail(p, i, "\\u0000 is not allowed in a string");
            k = utf8_encode(cp, buf);
            i += used;
            break;
        default:
            if (!regex)
                return fail(p, i,
                            "unknown escape '\\%c' in a string; use \\\", \\\\, \\n, \\t or "
                            "\\uXXXX",
                            (unsigned char)e >= 0x20 && (unsigned char)e < 0x7f ? e : '?');
            buf[0] = '\\';
            buf[1] = e;
            k = 2;
            i += 2;
            break;
        }
        if (out)
            memcpy(out + n, buf, k);
        n += k;
    }
    if (map_to != SIZE_MAX)
        *map_out = i;
    *out_len = n;
    return BT_OK;
}

/* Decodes a string token into the pool, lower-cased unless `exact`. */
static bt_err pool_string(struct parser *p, const struct token *t, bool exact, const char **str,
                          uint32_t *len)
{
    char *out = p->pool + p->pool_used;
    size_t n = 0;
    bt_err e = decode_string(p, t, false, out, &n, SIZE_MAX, NULL);
    if (e)
        return e;
    if (!exact)
        for (size_t i = 0; i < n; i++)
            out[i] = lower_ascii(out[i]);
    out[n] = '\0';
    p->pool_used += n + 1;
    *str = out;
    *len = (uint32_t)n;
    return BT_OK;
}

/* ---- parser ---- */

static bt_err parse_or(struct parser *p);

/* Counts one node of the tree (a condition, and, or, not) against the limit. */
static bt_err count_node(struct parser *p, size_t off)
{
    if (++p->tree_nodes > RULE__MAX_NODES)
        return fail(p, off,
                    "rule is too complex: at most %d conditions and operators; split it into "
                    "several rules",
                    RULE__MAX_NODES);
    return BT_OK;
}

static bt_err enter(struct parser *p, size_t off)
{
    if (++p->depth > RULE__MAX_DEPTH)
        return fail(p, off, "rule is nested too deeply: at most %d levels of parentheses and 'not'",
                    RULE__MAX_DEPTH);
    return BT_OK;
}

static struct rule__node *emit(struct parser *p, enum rule__op op, uint32_t slot)
{
    if (p->n_nodes >= RULE__MAX_NODES)
        BT_BUG("rule: node array overflow");
    struct rule__node *n = &p->nodes[p->n_nodes++];
    *n = (struct rule__node){.op = (uint8_t)op, .u.size = 1, .slot = slot};
    return n;
}

/* Puts an and/or node in front of the subtree that starts at `start`. */
static void insert_parent(struct parser *p, uint32_t start, enum rule__op op)
{
    if (p->n_nodes >= RULE__MAX_NODES)
        BT_BUG("rule: node array overflow");
    memmove(&p->nodes[start + 1], &p->nodes[start], (p->n_nodes - start) * sizeof(p->nodes[0]));
    p->n_nodes++;
    p->nodes[start] = (struct rule__node){.op = (uint8_t)op};
}

/*
 * literal := ["case"] (string | number | "true" | "false"). `where` completes
 * "expected a value ...", e.g. "after '=='".
 */
static bt_err parse_literal(struct parser *p, const char *where, struct literal *out)
{
    bt_err e;
    char buf[64];
    *out = (struct literal){.off = p->tok.off};
    if (p->tok.kind == TOK_WORD && p->tok.kw == KW_CASE) {
        out->exact = true;
        if ((e = advance(p)))
            return e;
        where = "after 'case'";
    }
    struct token t = p->tok;
    if (t.kind == TOK_STRING) {
        out->type = RULE_STRING;
        if ((e = pool_string(p, &t, out->exact, &out->str, &out->len)))
            return e;
        double d;
        if (rule__parse_number(out->str, out->len, &d)) {
            out->has_number = true;
            out->number = d;
        }
    } else if (t.kind == TOK_NUMBER) {
        out->type = RULE_NUMBER;
        if (!rule__parse_number(p->text + t.off, t.len, &out->number))
            return fail(p, t.off, "number out of range");
        out->has_number = true;
        /* The text as written, for contains/starts_with/ends_with. */
        char *copy = p->pool + p->pool_used;
        memcpy(copy, p->text + t.off, t.len);
        copy[t.len] = '\0';
        p->pool_used += t.len + 1;
        out->str = copy;
        out->len = (uint32_t)t.len;
    } else if (t.kind == TOK_WORD && (t.kw == KW_TRUE || t.kw == KW_FALSE)) {
        out->type = RULE_BOOL;
        out->boolean = t.kw == KW_TRUE;
    } else if (t.kind == TOK_WORD && t.kw == KW_NONE) {
        return fail(p, t.off,
                    "expected a value %s " VALUES ", found %s; text goes in double quotes", where,
                    describe(p, buf, sizeof(buf)));
    } else {
        return fail(p, t.off, "expected a value %s " VALUES, where);
    }
    out->off = t.off;
    return advance(p);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *rule_alloc(struct parser *p, size_t size)
{
    void *m = arena_alloc(&p->arena, size ? size : 1);
    if (!m)
        BT_BUG("rule: arena limit reached");
    return m;
}

/* Fills a string set with the `exact` (or not) string items of the list. */
static void build_set(struct parser *p, size_t n, bool exact, struct rule__strset *set)
{
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += p->items[i].type == RULE_STRING && p->items[i].exact == exact;
    if (!count)
        return;
    uint32_t size = 4;
    while (size < 2 * count)
        size *= 2;
    struct rule__str *items = rule_alloc(p, count * sizeof(*items));
    uint16_t *table = rule_alloc(p, size * sizeof(*table));
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct literal *it = &p->items[i];
        if (it->type != RULE_STRING || it->exact != exact)
            continue;
        items[k] = (struct rule__str){it->str, it->len};
        uint32_t h = rule__hash(it->str, it->len) & (size - 1);
        while (table[h])
            h = (h + 1) & (size - 1);
        table[h] = (uint16_t)(k + 1);
        k++;
    }
    *set = (struct rule__strset){items, table, size - 1, count};
}

static const struct rule__list *build_list(struct parser *p, size_t n)
{
    struct rule__list *l = rule_alloc(p, sizeof(*l));
    size_t nums = 0, all = 0;
    for (size_t i = 0; i < n; i++) {
        nums += p->items[i].type == RULE_NUMBER;
        all += p->items[i].has_number;
    }
    double *numbers = rule_alloc(p, nums * sizeof(double));
    double *numbers_all = rule_alloc(p, all * sizeof(double));
    nums = all = 0;
    for (size_t i = 0; i < n; i++) {
        const struct literal *it = &p->items[i];
        if (it->type == RULE_NUMBER)
            numbers[nums++] = it->number;
        if (it->has_number)
            numbers_all[all++] = it->number;
        if (it->type == RULE_BOOL)
            *(it->boolean ? &l->has_true : &l->has_false) = true;
    }
    qsort(numbers, nums, sizeof(double), compare_doubles);
    qsort(numbers_all, all, sizeof(double), compare_doubles);
    l->numbers = numbers;
    l->numbers_all = numbers_all;
    l->n_numbers = (uint16_t)nums;
    l->n_numbers_all = (uint16_t)all;
    build_set(p, n, false, &l->folded);
    build_set(p, n, true, &l->exact);
    return l;
}

/* "[" literal ("," literal)* [","] "]", after `in` or `not in`. */
static bt_err parse_list(struct parser *p, uint32_t slot, bool negate, const char *after)
{
    bt_err e;
    char buf[64];
    if (p->tok.kind != TOK_LBRACKET)
        return fail(p, p->tok.off,
                    "expected a list in square brackets after '%s', like [\"DE\", \"AT\"]", after);
    size_t open = p->tok.off;
    if ((e = advance(p)))
        return e;
    if (p->tok.kind == TOK_RBRACKET)
        return fail(p, p->tok.off, "empty list; expected at least one value");
    size_t n = 0;
    for (;;) {
        if (p->tok.kind == TOK_END)
            return fail(p, open, "unterminated list: this '[' is not closed");
        if (n == RULE__MAX_LIST)
            return fail(p, p->tok.off, "too many values in the list (at most %d)", RULE__MAX_LIST);
        if ((e = parse_literal(p, "in the list", &p->items[n])))
            return e;
        n++;
        if (p->tok.kind == TOK_COMMA) {
            if ((e = advance(p)))
                return e;
            if (p->tok.kind != TOK_RBRACKET)
                continue;
        }
        if (p->tok.kind == TOK_RBRACKET)
            break;
        if (p->tok.kind == TOK_END)
            return fail(p, open, "unterminated list: this '[' is not closed");
        return fail(p, p->tok.off, "expected ',' or ']' after a value in the list, found %s",
                    describe(p, buf, sizeof(buf)));
    }
    struct rule__node *node = emit(p, negate ? RULE__NOT_IN : RULE__IN, slot);
    node->lit.list = build_list(p, n);
    return advance(p);
}

static bt_err parse_matches(struct parser *p, uint32_t slot)
{
    bt_err e;
    if (p->tok.kind == TOK_WORD && p->tok.kw == KW_CASE)
        return fail(p, p->tok.off,
                    "'case' does not apply to 'matches'; start the pattern with (?-i) to match "
                    "upper and lower case exactly");
    if (p->tok.kind != TOK_STRING)
        return fail(p, p->tok.off,
                    "expected a regular expression in double quotes after 'matches', like \"^vp\"");
    struct token t = p->tok;
    char *pattern = xmalloc(t.len + 1);
    size_t n = 0;
    if ((e = decode_string(p, &t, true, pattern, &n, SIZE_MAX, NULL))) {
        free(pattern);
        return e;
    }
    if (n > RULE__MAX_PATTERN) {
        free(pattern);
        return fail(p, t.off, "regular expression is too long (%zu bytes; at most %d)", n,
                    RULE__MAX_PATTERN);
    }
    uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
    if (!(n >= 5 && !memcmp(pattern, "(?-i)", 5)))
        options |= PCRE2_CASELESS;
    int code;
    PCRE2_SIZE where;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, n, options, &code, &where, NULL);
    free(pattern);
    if (!re) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        size_t off = t.off + 1;
        (void)!decode_string(p, &t, true, NULL, &n, where, &off);
        return fail(p, off, "invalid regular expression: %s", (const char *)msg);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    struct rule__node *node = emit(p, RULE__MATCHES, slot);
    node->lit.re = re;
    if (!p->match_context) {
        p->match_context = pcre2_match_context_create(NULL);
        if (!p->match_context)
            bt_die("out of memory");
        pcre2_set_match_limit(p->match_context, RULE__MATCH_LIMIT);
        pcre2_set_heap_limit(p->match_context, RULE__HEAP_LIMIT_KIB);
    }
    return advance(p);
}

/* A test: the path has been checked; p->tok is what follows it. */
static bt_err parse_test(struct parser *p)
{
    bt_err e;
    char buf[64], buf2[64];
    struct token path = p->tok;
    if ((e = count_node(p, path.off)))
        return e;
    char why[sizeof(p->err->message)];
    int slot = rule__symtab_intern(p->syms, p->text + path.off, path.len, why, sizeof(why));
    if (slot < 0) {
        if (why[0])
            return fail(p, path.off, "%s", why);
        return fail(p, path.off, "unknown field '%.*s'", (int)(path.len > 60 ? 60 : path.len),
                    p->text + path.off);
    }
    if ((e = advance(p)))
        return e;
    struct token t = p->tok;
    struct literal lit;
    struct rule__node *n;
    switch (t.kind) {
    case TOK_END:
    case TOK_RPAREN:
        emit(p, RULE__TRUE, (uint32_t)slot);
        return BT_OK;
    case TOK_CMP: {
        char op[64];
        snprintf(op, sizeof(op), "after '%.*s'", (int)t.len, p->text + t.off);
        if ((e = advance(p)) || (e = parse_literal(p, op, &lit)))
            return e;
        if (lit.type == RULE_NUMBER) {
            n = emit(p, RULE__CMP_NUM, (uint32_t)slot);
            n->mask = t.mask;
            n->number = lit.number;
            return BT_OK;
        }
        if (lit.type == RULE_BOOL) {
            if (t.mask != RULE__EQUAL && t.mask != (RULE__LESS | RULE__GREATER))
                return fail(
                    p, t.off,
                    "'%.*s' compares numbers or strings; true and false work with == and !=",
                    (int)t.len, p->text + t.off);
            n = emit(p, RULE__CMP_BOOL, (uint32_t)slot);
            n->mask = lit.boolean == (t.mask == RULE__EQUAL); /* the value it wants */
            return BT_OK;
        }
        enum rule__op op_code = t.mask == RULE__EQUAL                    ? RULE__EQ_STR
                                : t.mask == (RULE__LESS | RULE__GREATER) ? RULE__NE_STR
                                                                         : RULE__ORD_STR;
        n = emit(p, op_code, (uint32_t)slot);
        n->mask = t.mask;
        n->exact = lit.exact;
        n->has_number = lit.has_number;
        n->number = lit.number;
        n->lit.str = lit.str;
        n->len = lit.len;
        return BT_OK;
    }
    case TOK_WORD:
        break;
    default:
        return fail(p, t.off, "expected an operator after '%.*s' (" OPERATORS "), found %s",
                    (int)(path.len > 40 ? 40 : path.len), p->text + path.off,
                    describe(p, buf, sizeof(buf)));
    }
    switch (t.kw) {
    case KW_AND:
    case KW_OR:
        emit(p, RULE__TRUE, (uint32_t)slot);
        return BT_OK;
    case KW_EXISTS:
        emit(p, RULE__EXISTS, (uint32_t)slot);
        return advance(p);
    case KW_IN:
        if ((e = advance(p)))
            return e;
        return parse_list(p, (uint32_t)slot, false, "in");
    case KW_NOT:
        if ((e = advance(p)))
            return e;
        if (p->tok.kind == TOK_WORD && p->tok.kw == KW_EXISTS)
            return fail(p, t.off, "'not' goes before the field: write 'not %.*s exists'",
                        (int)(path.len > 60 ? 60 : path.len), p->text + path.off);
        if (p->tok.kind != TOK_WORD || p->tok.kw != KW_IN)
            return fail(p, p->tok.off, "expected 'in' after 'not', found %s",
                        describe(p, buf, sizeof(buf)));
        if ((e = advance(p)))
            return e;
        return parse_list(p, (uint32_t)slot, true, "not in");
    case KW_CONTAINS:
    case KW_STARTS_WITH:
    case KW_ENDS_WITH:
        snprintf(buf2, sizeof(buf2), "after '%.*s'", (int)t.len, p->text + t.off);
        if ((e = advance(p)) || (e = parse_literal(p, buf2, &lit)))
            return e;
        break;
    case KW_MATCHES:
        if ((e = advance(p)))
            return e;
        return parse_matches(p, (uint32_t)slot);
    default:
        return fail(p, t.off, "unknown operator %s; expected " OPERATORS,
                    describe(p, buf, sizeof(buf)));
    }
    if (lit.type == RULE_BOOL)
        return fail(p, lit.off, "expected a string in double quotes after '%.*s'", (int)t.len,
                    p->text + t.off);
    n = emit(p,
             t.kw == KW_CONTAINS      ? RULE__CONTAINS
             : t.kw == KW_STARTS_WITH ? RULE__STARTS
                                      : RULE__ENDS,
             (uint32_t)slot);
    n->exact = lit.exact;
    n->lit.str = lit.str;
    n->len = lit.len;
    return BT_OK;
}

/* primary := "(" expr ")" | test */
static bt_err parse_primary(struct parser *p)
{
    bt_err e;
    char buf[64], buf2[64];
    struct token t = p->tok;
    if (t.kind == TOK_LPAREN) {
        if ((e = enter(p, t.off)) || (e = advance(p)) || (e = parse_or(p)))
            return e;
        if (p->tok.kind == TOK_END)
            return fail(p, t.off, "unbalanced parenthesis: this '(' is not closed");
        if (p->tok.kind != TOK_RPAREN)
            return fail(p, p->tok.off, "expected 'and', 'or' or ')', found %s",
                        describe(p, buf, sizeof(buf)));
        p->depth--;
        return advance(p);
    }
    if (t.kind == TOK_WORD && t.kw == KW_NONE)
        return parse_test(p);
    if (t.kind == TOK_END && p->prev.kind == TOK_END)
        return fail(p, t.off, "empty rule; expected a condition such as country == \"DE\"");
    if (p->prev.kind == TOK_END)
        return fail(p, t.off, "expected a condition (a field name, 'not' or '('), found %s",
                    describe(p, buf, sizeof(buf)));
    if (t.kind == TOK_RPAREN && p->prev.kind == TOK_LPAREN)
        return fail(p, t.off, "empty parentheses; expected a condition");
    return fail(p, t.off, "expected a condition after %s (a field name, 'not' or '('), found %s",
                last(p, buf2, sizeof(buf2)), describe(p, buf, sizeof(buf)));
}

/* not := "not" not | primary */
static bt_err parse_not(struct parser *p)
{
    bt_err e;
    if (p->tok.kind != TOK_WORD || p->tok.kw != KW_NOT)
        return parse_primary(p);
    if ((e = count_node(p, p->tok.off)) || (e = enter(p, p->tok.off)))
        return e;
    uint32_t at = p->n_nodes;
    emit(p, RULE__NOT, 0);
    if ((e = advance(p)) || (e = parse_not(p)))
        return e;
    p->nodes[at].u.size = (uint16_t)(p->n_nodes - at);
    p->depth--;
    return BT_OK;
}

/* Both `and := not ("and" not)*` and `or := and ("or" and)*`. */
static bt_err parse_chain(struct parser *p, enum keyword kw, enum rule__op op,
                          bt_err (*operand)(struct parser *))
{
    bt_err e;
    uint32_t start = p->n_nodes;
    if ((e = operand(p)))
        return e;
    if (p->tok.kind != TOK_WORD || p->tok.kw != kw)
        return BT_OK;
    /* Counted before the insertion, so the node array cannot overflow. */
    if ((e = count_node(p, p->tok.off)))
        return e;
    insert_parent(p, start, op);
    for (;;) {
        if ((e = advance(p)) || (e = operand(p)))
            return e;
        if (p->tok.kind != TOK_WORD || p->tok.kw != kw)
            break;
        if ((e = count_node(p, p->tok.off)))
            return e;
    }
    p->nodes[start].u.size = (uint16_t)(p->n_nodes - start);
    return BT_OK;
}

static bt_err parse_and(struct parser *p)
{
    return parse_chain(p, KW_AND, RULE__AND, parse_not);
}

static bt_err parse_or(struct parser *p)
{
    return parse_chain(p, KW_OR, RULE__OR, parse_and);
}

/* ---- lowering ---- */

/* Jump targets are labels until every leaf has its place; these two are the
 * final ACCEPT and REJECT nodes. */
enum { LABEL_FALSE, LABEL_TRUE };

/*
 * Emits the leaves of the subtree at tree index i so that evaluation jumps to
 * label if_true or if_false once the subtree's value is known. Each operand of
 * an `and` but the last goes on to the next operand when true; of an `or`,
 * when false.
 */
static void lower(struct parser *p, uint32_t i, uint16_t if_false, uint16_t if_true)
{
    const struct rule__node *n = &p->nodes[i];
    uint32_t end = i + n->u.size;
    switch (n->op) {
    case RULE__AND:
    case RULE__OR:
        for (uint32_t c = i + 1; c < end; c += p->nodes[c].u.size) {
            if (c + p->nodes[c].u.size == end) {
                lower(p, c, if_false, if_true);
                break;
            }
            uint16_t next = (uint16_t)p->n_labels++;
            if (n->op == RULE__AND)
                lower(p, c, if_false, next);
            else
                lower(p, c, next, if_true);
            p->label_at[next] = (uint16_t)p->n_out;
        }
        return;
    case RULE__NOT:
        lower(p, i + 1, if_true, if_false);
        return;
    default: {
        struct rule__node *leaf = &p->out[p->n_out++];
        *leaf = *n;
        leaf->u.next[0] = if_false;
        leaf->u.next[1] = if_true;
        return;
    }
    }
}

/* ---- packing: the rule as one block ---- */

struct packer {
    char *base; /* NULL while measuring */
    size_t used;
};

static void *pack(struct packer *k, const void *src, size_t size)
{
    size_t at = (k->used + 7) & ~(size_t)7;
    k->used = at + size;
    if (!k->base)
        return NULL;
    if (size)
        memcpy(k->base + at, src, size);
    return k->base + at;
}

static const char *pack_string(struct packer *k, const char *s, size_t len)
{
    size_t at = k->used;
    k->used += len + 1;
    if (!k->base)
        return NULL;
    memcpy(k->base + at, s, len);
    k->base[at + len] = '\0';
    return k->base + at;
}

static void pack_set(struct packer *k, const struct rule__strset *src, struct rule__strset *dst)
{
    const uint16_t *table = pack(k, src->table, src->n ? (src->mask + 1) * sizeof(uint16_t) : 0);
    struct rule__str *items = pack(k, src->items, src->n * sizeof(*items));
    for (uint32_t i = 0; i < src->n; i++) {
        const char *copy = pack_string(k, src->items[i].s, src->items[i].len);
        if (items)
            items[i].s = copy;
    }
    if (dst) {
        dst->table = table;
        dst->items = items;
    }
}

static const struct rule__list *pack_list(struct packer *k, const struct rule__list *src)
{
    struct rule__list *l = pack(k, src, sizeof(*src));
    const double *numbers = pack(k, src->numbers, src->n_numbers * sizeof(double));
    const double *all = pack(k, src->numbers_all, src->n_numbers_all * sizeof(double));
    pack_set(k, &src->folded, l ? &l->folded : NULL);
    pack_set(k, &src->exact, l ? &l->exact : NULL);
    if (l) {
        l->numbers = numbers;
        l->numbers_all = all;
    }
    return l;
}

/* Lays the leaves in p->out and what they point to out in r, or only
 * measures when r is NULL. Returns the size. */
static size_t pack_rule(const struct parser *p, struct rule *r)
{
    uint32_t n = p->n_out;
    struct packer k = {(char *)r, sizeof(*r) + (n + 2) * sizeof(r->nodes[0])};
    if (r)
        memcpy(r->nodes, p->out, (n + 2) * sizeof(r->nodes[0]));
    for (uint32_t i = 0; i < n; i++) {
        const struct rule__node *node = &p->out[i];
        switch (node->op) {
        case RULE__EQ_STR:
        case RULE__NE_STR:
        case RULE__ORD_STR:
        case RULE__CONTAINS:
        case RULE__STARTS:
        case RULE__ENDS: {
            const char *copy = pack_string(&k, node->lit.str, node->len);
            if (r)
                r->nodes[i].lit.str = copy;
            break;
        }
        case RULE__IN:
        case RULE__NOT_IN: {
            const struct rule__list *l = pack_list(&k, node->lit.list);
            if (r)
                r->nodes[i].lit.list = l;
            break;
        }
        default:
            break;
        }
    }
    const char *text = pack_string(&k, p->text, p->len);
    if (r)
        r->text = text;
    return k.used;
}

static struct rule *lower_all(struct parser *p)
{
    p->n_labels = 2;
    lower(p, 0, LABEL_FALSE, LABEL_TRUE);
    uint32_t n = p->n_out;
    p->label_at[LABEL_TRUE] = (uint16_t)n;
    p->label_at[LABEL_FALSE] = (uint16_t)(n + 1);
    for (uint32_t i = 0; i < n; i++) {
        p->out[i].u.next[0] = p->label_at[p->out[i].u.next[0]];
        p->out[i].u.next[1] = p->label_at[p->out[i].u.next[1]];
    }
    p->out[n] = (struct rule__node){.op = RULE__ACCEPT};
    p->out[n + 1] = (struct rule__node){.op = RULE__REJECT};

    struct rule *r = xmalloc(pack_rule(p, NULL));
    (void)pack_rule(p, r);
    r->n_leaves = n;
    r->match_context = p->match_context;
    return r;
}

static void discard(struct parser *p)
{
    for (uint32_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].op == RULE__MATCHES)
            pcre2_code_free(p->nodes[i].lit.re);
    pcre2_match_context_free(p->match_context);
    arena_release(&p->arena);
}

bt_err rule_compile(struct rule_symtab *syms, const char *text, size_t len, struct rule **out,
                    struct rule_error *err)
{
    *out = NULL;
    if (len > RULE__MAX_TEXT) {
        if (err) {
            err->offset = RULE__MAX_TEXT;
            snprintf(err->message, sizeof(err->message), "rule is too long (%zu bytes; at most %d)",
                     len, RULE__MAX_TEXT);
        }
        return BT_EINVAL;
    }
    struct parser *p = xcalloc(1, sizeof(*p));
    p->text = text;
    p->len = len;
    p->syms = syms;
    p->err = err;
    p->prev.kind = TOK_END;
    /* Decoding never makes a string longer, so the text's length (plus one
     * NUL per literal) bounds the pool and it never has to move. */
    p->pool = rule_alloc(p, 2 * len + 2);
    size_t syms_before = rule_symtab_count(syms);

    bt_err e = advance(p);
    if (!e)
        e = parse_or(p);
    if (!e && p->tok.kind != TOK_END) {
        char buf[64];
        if (p->tok.kind == TOK_RPAREN)
            e = fail(p, p->tok.off, "unbalanced parenthesis: this ')' has no matching '('");
        else
            e = fail(p, p->tok.off, "expected 'and', 'or' or the end of the rule, found %s",
                     describe(p, buf, sizeof(buf)));
    }
    if (e) {
        discard(p);
        rule__symtab_truncate(syms, syms_before);
        free(p);
        return e;
    }
    struct rule *r = lower_all(p);
    arena_release(&p->arena); /* everything the rule needs was packed into it */
    free(p);
    *out = r;
    return BT_OK;
}
