/*
 * template.c - the message template language of template.h: a one-pass
 * compiler from source to a flat node array, and a renderer that walks it.
 *
 * The compiled form is an array of nodes in source order: text runs (which
 * point into the template's copy of the source), variables, and sections
 * whose `end` is the index of the first node after their body, so the
 * renderer repeats or skips a body by index and needs no tree. Names are
 * split into NUL-terminated parts at compile time, so a lookup is a few
 * json_object_get() calls. The node array is sized before parsing by
 * counting "{{" (a template has at most two nodes per tag, plus one), which
 * keeps the compiler to one allocation per kind and the arena free of
 * abandoned growth.
 *
 * Output grows by doubling inside the caller's arena (arenas do not
 * reallocate), capped at max_out + 1, so the waste is at most the output's
 * own size and the cap is checked before anything is copied.
 */
#include "core/template.h"
#include "util/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum node_kind {
    NODE_TEXT,
    NODE_VAR,      /* {{x}}: escaped in HTML mode */
    NODE_RAW,      /* {{{x}}}, {{& x}} */
    NODE_SECTION,  /* {{#x}} */
    NODE_INVERTED, /* {{^x}} */
};

struct template_node {
    enum node_kind kind;
    uint32_t offset;    /* text: start in the source; others: the name's start */
    uint32_t len;       /* text: length; others: the name's length */
    uint32_t end;       /* sections: the node after the body */
    uint32_t n_parts;   /* 0 for "." */
    const char **parts; /* the name's parts, NUL-terminated */
};

struct template
{
    const char *source;
    size_t len;
    const struct template_node *nodes;
    uint32_t n_nodes;
    const char **names;
    const size_t *name_offsets;
    size_t n_names;
};

/* ---- compiling ---- */

struct open_section {
    uint32_t node;
    size_t tag_offset;
    const char *path; /* as resolved through known(); NULL without known */
};

struct compiler {
    const char *src;
    size_t len;
    template_known_fn known;
    void *known_ctx;
    struct arena *a;
    struct template_error *err;
    struct template_node *nodes;
    uint32_t n_nodes, cap_nodes;
    const char **names;
    size_t *name_offsets;
    size_t n_names;
    struct open_section open[TEMPLATE_DEPTH_MAX];
    unsigned depth;
};

/* The longest candidate path handed to known(): every section's path and the
 * name, each at most a name long, with the dots between. */
#define PATH_BUF ((TEMPLATE_DEPTH_MAX + 1) * (TEMPLATE_NAME_MAX + 1) + 1)

static void locate(const char *s, size_t offset, unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b == '\n') {
            l++;
            c = 1;
        } else if ((b & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *column = c;
}

BT_PRINTF(5, 6)
static bt_err fail_at(struct template_error *e, bt_err code, const char *src, size_t offset,
                      const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        text_make_utf8(e->message);
        e->offset = offset;
        locate(src, offset, &e->line, &e->column);
    }
    return code;
}

#define FAIL(c, off, ...) fail_at((c)->err, BT_EINVAL, (c)->src, (off), __VA_ARGS__)

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static const char *find2(const char *s, size_t from, size_t to, char c1, char c2)
{
    for (size_t i = from; i + 1 < to; i++)
        if (s[i] == c1 && s[i + 1] == c2)
            return s + i;
    return NULL;
}

static bt_err out_of_memory(struct compiler *c)
{
    return fail_at(c->err, BT_ETOOBIG, c->src, 0, "the template does not fit in its arena");
}

/* Checks the name at [off, off + len) and describes its first bad character. */
static bt_err check_name(struct compiler *c, size_t off, size_t len)
{
    const char *s = c->src + off;
    if (len == 1 && s[0] == '.')
        return BT_OK;
    if (len > TEMPLATE_NAME_MAX)
        return FAIL(c, off, "name longer than %d bytes: '%.40s...'", TEMPLATE_NAME_MAX, s);
    for (size_t i = 0; i < len; i++) {
        if (is_name_char(s[i]))
            continue;
        if (s[i] == '.') {
            if (i == 0 || i + 1 == len || s[i + 1] == '.')
                return FAIL(c, off + i,
                            "a dot in a name separates two parts: '%.*s' (a name is parts of "
                            "letters, digits and _ separated by single dots, or '.')",
                            (int)len, s);
            continue;
        }
        unsigned char b = (unsigned char)s[i];
        if (i == 0 && b == '>')
            return FAIL(c, off, "partials ({{> name}}) are not supported");
        if (i == 0 && b == '=')
            return FAIL(c, off, "changing the delimiters ({{=...=}}) is not supported");
        if (b < 0x20 || b == 0x7F)
            return FAIL(c, off + i,
                        "invalid character \\x%02X in name '%.*s' (allowed: letters, digits, "
                        "_ and dots between parts)",
                        b, (int)len, s);
        size_t n = 1;
        while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
            n++;
        return FAIL(c, off + i,
                    "invalid character '%.*s' in name '%.*s' (allowed: letters, digits, _ and "
                    "dots between parts)",
                    (int)n, s + i, (int)len, s);
    }
    return BT_OK;
}

/* Asks known() about `path` + "." + name, or the name alone when path is
 * NULL; on yes, the candidate path in the arena goes to *resolved. */
static bool try_known(struct compiler *c, const char *path, const char *name, size_t len,
                      const char **resolved)
{
    char buf[PATH_BUF];
    size_t n = 0;
    if (path) {
        size_t pl = strlen(path);
        if (pl + 1 + len + 1 > sizeof(buf))
            return false;
        memcpy(buf, path, pl);
        buf[pl] = '.';
        n = pl + 1;
    }
    memcpy(buf + n, name, len);
    n += len;
    buf[n] = '\0';
    if (!c->known(c->known_ctx, buf))
        return false;
    if (resolved)
        *resolved = arena_strndup(c->a, buf, n);
    return true;
}

/* Validates the name at [off, off + len) through known(), innermost scope
 * first; a section's resolved path goes to *resolved (may be NULL). */
static bt_err check_known(struct compiler *c, size_t off, size_t len, const char **resolved)
{
    if (!c->known || (len == 1 && c->src[off] == '.'))
        return BT_OK;
    const char *name = c->src + off;
    const char *found = NULL;
    const char *tried = NULL;
    bool ok = false;
    for (unsigned k = c->depth; k-- > 0 && !ok;) {
        /* sections that push no context share their parent's path: ask once */
        if (c->open[k].path && c->open[k].path != tried)
            ok = try_known(c, c->open[k].path, name, len, &found);
        tried = c->open[k].path;
    }
    if (!ok)
        ok = try_known(c, NULL, name, len, &found);
    if (!ok)
        return FAIL(c, off, "unknown variable %.*s", (int)len, name);
    if (!found)
        return out_of_memory(c);
    if (resolved)
        *resolved = found;
    return BT_OK;
}

/* Appends a node; the array was sized for the worst case, so running out is
 * a bug in the count. */
static struct template_node *add_node(struct compiler *c, enum node_kind kind, size_t off,
                                      size_t len)
{
    if (c->n_nodes >= c->cap_nodes)
        BT_BUG("template: more nodes than counted");
    struct template_node *n = &c->nodes[c->n_nodes++];
    n->kind = kind;
    n->offset = (uint32_t)off;
    n->len = (uint32_t)len;
    n->end = 0;
    n->n_parts = 0;
    n->parts = NULL;
    return n;
}

static void add_text(struct compiler *c, size_t from, size_t to)
{
    if (to > from)
        add_node(c, NODE_TEXT, from, to - from);
}

/* Splits the node's name into NUL-terminated parts and records it. */
static bt_err add_name(struct compiler *c, struct template_node *n)
{
    const char *s = c->src + n->offset;
    if (n->len == 1 && s[0] == '.')
        return BT_OK;
    char *copy = arena_strndup(c->a, s, n->len);
    uint32_t parts = 1;
    for (uint32_t i = 0; i < n->len; i++)
        parts += s[i] == '.';
    const char **p = arena_alloc(c->a, parts * sizeof(*p));
    char *full = arena_strndup(c->a, s, n->len);
    if (!copy || !p || !full)
        return out_of_memory(c);
    uint32_t k = 0;
    p[k++] = copy;
    for (uint32_t i = 0; i < n->len; i++) {
        if (copy[i] == '.') {
            copy[i] = '\0';
            p[k++] = copy + i + 1;
        }
    }
    n->parts = p;
    n->n_parts = parts;
    c->names[c->n_names] = full;
    c->name_offsets[c->n_names] = n->offset;
    c->n_names++;
    return BT_OK;
}

/* Whether the tag at [start, end) is alone on its line; if so the line's
 * indentation starts at *line_start and the text resumes at *resume. */
static bool standalone(const struct compiler *c, size_t text_start, size_t start, size_t end,
                       size_t *line_start, size_t *resume)
{
    size_t j = start;
    while (j > text_start && (c->src[j - 1] == ' ' || c->src[j - 1] == '\t'))
        j--;
    if (j > 0 && c->src[j - 1] != '\n')
        return false;
    size_t k = end;
    while (k < c->len && (c->src[k] == ' ' || c->src[k] == '\t'))
        k++;
    if (k < c->len) {
        if (c->src[k] == '\n')
            k++;
        else if (c->src[k] == '\r' && k + 1 < c->len && c->src[k + 1] == '\n')
            k += 2;
        else
            return false;
    }
    *line_start = j;
    *resume = k;
    return true;
}

static size_t count_tags(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] == '{' && s[i + 1] == '{') {
            n++;
            i++;
        }
    }
    return n;
}

static bt_err open_section(struct compiler *c, enum node_kind kind, size_t tag, size_t off,
                           size_t len)
{
    if (c->depth == TEMPLATE_DEPTH_MAX)
        return FAIL(c, tag, "sections nested deeper than %d", TEMPLATE_DEPTH_MAX);
    const char *path = NULL;
    bt_err rc = check_known(c, off, len, &path);
    if (rc)
        return rc;
    /* "." and inverted sections push no new context: their body's names
     * resolve as the parent's */
    if (kind == NODE_INVERTED || !path)
        path = c->depth ? c->open[c->depth - 1].path : NULL;
    struct template_node *n = add_node(c, kind, off, len);
    if ((rc = add_name(c, n)))
        return rc;
    c->open[c->depth].node = (uint32_t)(n - c->nodes);
    c->open[c->depth].tag_offset = tag;
    c->open[c->depth].path = path;
    c->depth++;
    return BT_OK;
}

static bt_err close_section(struct compiler *c, size_t tag, size_t off, size_t len)
{
    const char *name = c->src + off;
    if (c->depth == 0)
        return FAIL(c, tag, "closing tag {{/%.*s}} without an open section", (int)len, name);
    const struct open_section *o = &c->open[c->depth - 1];
    struct template_node *n = &c->nodes[o->node];
    if (n->len != len || memcmp(c->src + n->offset, name, len) != 0) {
        unsigned line, column;
        locate(c->src, o->tag_offset, &line, &column);
        return FAIL(c, tag,
                    "closing tag {{/%.*s}} does not match the open section {{%c%.*s}} "
                    "(line %u, column %u)",
                    (int)len, name, n->kind == NODE_SECTION ? '#' : '^', (int)n->len,
                    c->src + n->offset, line, column);
    }
    n->end = c->n_nodes;
    c->depth--;
    return BT_OK;
}

static bt_err compile_all(struct compiler *c)
{
    size_t pos = 0, text_start = 0;
    for (;;) {
        const char *hit = find2(c->src, pos, c->len, '{', '{');
        if (!hit) {
            add_text(c, text_start, c->len);
            break;
        }
        size_t tag = (size_t)(hit - c->src);
        size_t inner = tag + 2, close, end;
        bool triple = inner < c->len && c->src[inner] == '{';
        if (triple)
            inner++;
        const char *cl = find2(c->src, inner, c->len, '}', '}');
        if (!cl)
            return FAIL(c, tag, "tag %s is not closed (no %s)", triple ? "{{{" : "{{",
                        triple ? "}}}" : "}}");
        close = (size_t)(cl - c->src);
        end = close + 2;
        if (triple) {
            if (end >= c->len || c->src[end] != '}')
                return FAIL(c, tag, "tag {{{ is not closed (no }}})");
            end++;
        }
        /* the kind, from the first character after any whitespace */
        size_t i = inner;
        while (i < close && is_space(c->src[i]))
            i++;
        enum node_kind kind = triple ? NODE_RAW : NODE_VAR;
        bool comment = false, closing = false;
        if (!triple && i < close) {
            switch (c->src[i]) {
            case '!':
                comment = true;
                break;
            case '#':
                kind = NODE_SECTION;
                break;
            case '^':
                kind = NODE_INVERTED;
                break;
            case '/':
                closing = true;
                break;
            case '&':
                kind = NODE_RAW;
                break;
            default:
                i--; /* no sigil */
                break;
            }
            i++;
        }
        if (!comment && find2(c->src, inner, close, '{', '{'))
            return FAIL(c, tag, "tag {{ is not closed before the next {{");
        size_t line_start, resume;
        bool alone = (comment || closing || kind == NODE_SECTION || kind == NODE_INVERTED) &&
                     standalone(c, text_start, tag, end, &line_start, &resume);
        add_text(c, text_start, alone ? line_start : tag);
        pos = text_start = alone ? resume : end;
        if (comment)
            continue;
        while (i < close && is_space(c->src[i]))
            i++;
        size_t name_end = close;
        while (name_end > i && is_space(c->src[name_end - 1]))
            name_end--;
        size_t off = i, len = name_end - i;
        if (len == 0)
            return FAIL(c, tag, "empty name in tag");
        bt_err rc = check_name(c, off, len);
        if (rc)
            return rc;
        if (closing) {
            rc = close_section(c, tag, off, len);
        } else if (kind == NODE_SECTION || kind == NODE_INVERTED) {
            rc = open_section(c, kind, tag, off, len);
        } else if (!(rc = check_known(c, off, len, NULL))) {
            rc = add_name(c, add_node(c, kind, off, len));
        }
        if (rc)
            return rc;
    }
    if (c->depth > 0) {
        const struct template_node *n = &c->nodes[c->open[c->depth - 1].node];
        return FAIL(c, c->open[c->depth - 1].tag_offset,
                    "section {{%c%.*s}} is not closed (no {{/%.*s}})",
                    n->kind == NODE_SECTION ? '#' : '^', (int)n->len, c->src + n->offset,
                    (int)n->len, c->src + n->offset);
    }
    return BT_OK;
}

bt_err template_compile(const char *source, size_t len, template_known_fn known, void *known_ctx,
                        struct arena *a, const struct template **out, struct template_error *err)
{
    *out = NULL;
    if (len > TEMPLATE_SOURCE_MAX)
        return fail_at(err, BT_ETOOBIG, "", 0, "template longer than %d bytes",
                       TEMPLATE_SOURCE_MAX);
    size_t bad = utf8_invalid_at(source, len);
    if (bad < len)
        return fail_at(err, BT_EINVAL, source, bad, "invalid UTF-8 (byte 0x%02X)",
                       (unsigned char)source[bad]);
    struct compiler c = {.len = len, .known = known, .known_ctx = known_ctx, .a = a, .err = err};
    size_t tags = count_tags(source, len);
    c.cap_nodes = (uint32_t)(2 * tags + 1);
    c.src = arena_strndup(a, source, len);
    c.nodes = arena_alloc(a, c.cap_nodes * sizeof(*c.nodes));
    c.names = arena_alloc(a, (tags ? tags : 1) * sizeof(*c.names));
    c.name_offsets = arena_alloc(a, (tags ? tags : 1) * sizeof(*c.name_offsets));
    struct template *t = arena_alloc(a, sizeof(*t));
    if (!c.src || !c.nodes || !c.names || !c.name_offsets || !t) {
        c.src = source;
        return out_of_memory(&c);
    }
    bt_err rc = compile_all(&c);
    if (rc)
        return rc;
    t->source = c.src;
    t->len = len;
    t->nodes = c.nodes;
    t->n_nodes = c.n_nodes;
    t->names = c.names;
    t->name_offsets = c.name_offsets;
    t->n_names = c.n_names;
    *out = t;
    return BT_OK;
}

size_t template_name_count(const struct template *t)
{
    return t->n_names;
}

const char *template_name(const struct template *t, size_t i, size_t *offset)
{
    if (i >= t->n_names)
        BT_BUG("template_name: %zu of %zu", i, t->n_names);
    if (offset)
        *offset = t->name_offsets[i];
    return t->names[i];
}

const char *template_source(const struct template *t, size_t *len)
{
    if (len)
        *len = t->len;
    return t->source;
}

/* ---- rendering ---- */

struct renderer {
    const struct template *t;
    enum template_escape mode;
    struct arena *a;
    struct bt_error *err;
    size_t max_out;
    char *buf;
    size_t len, cap;
    unsigned long steps;
    const json_t *stack[TEMPLATE_DEPTH_MAX + 1];
    unsigned depth;
};

static bt_err put(struct renderer *r, const char *s, size_t n)
{
    if (n > r->max_out - r->len)
        return bt_fail(r->err, BT_ETOOBIG, NULL, "message longer than %zu bytes", r->max_out);
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n + 1)
            cap *= 2;
        if (cap > r->max_out + 1)
            cap = r->max_out + 1;
        char *b = arena_alloc_raw(r->a, cap);
        if (!b)
            return bt_fail(r->err, BT_ETOOBIG, NULL, "message does not fit in its arena");
        if (r->len)
            memcpy(b, r->buf, r->len);
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    return BT_OK;
}

static bt_err put_escaped(struct renderer *r, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *entity;
        switch (s[i]) {
        case '&':
            entity = "&amp;";
            break;
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '"':
            entity = "&quot;";
            break;
        case '\'':
            entity = "&#39;";
            break;
        default:
            continue;
        }
        bt_err rc = put(r, s + from, i - from);
        if (rc || (rc = put(r, entity, strlen(entity))))
            return rc;
        from = i + 1;
    }
    return put(r, s + from, n - from);
}

/* At most two decimals, no trailing zeros, no "-0". */
static size_t format_real(double d, char *buf, size_t size)
{
    if (!isfinite(d))
        return 0;
    int n = snprintf(buf, size, "%.2f", d);
    if (n < 0 || (size_t)n >= size)
        return 0;
    size_t len = (size_t)n;
    while (buf[len - 1] == '0')
        len--;
    if (buf[len - 1] == '.')
        len--;
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return len;
}

static bt_err put_value(struct renderer *r, const json_t *v, bool escape)
{
    char num[400];
    const char *s = NULL;
    size_t n = 0;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        s = json_string_value(v);
        n = json_string_length(v);
        break;
    case JSON_INTEGER: {
        int k = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
        n = k > 0 ? (size_t)k : 0;
        break;
    }
    case JSON_REAL:
        n = format_real(json_real_value(v), num, sizeof(num));
        s = num;
        break;
    case JSON_TRUE:
        s = "yes";
        n = 3;
        break;
    case JSON_FALSE:
        s = "no";
        n = 2;
        break;
    default:
        return BT_OK;
    }
    return escape ? put_escaped(r, s, n) : put(r, s, n);
}

static const json_t *lookup(const struct renderer *r, const struct template_node *n)
{
    if (n->n_parts == 0)
        return r->stack[r->depth - 1];
    const json_t *v = NULL;
    for (unsigned k = r->depth; k-- > 0 && !v;)
        if (json_is_object(r->stack[k]))
            v = json_object_get(r->stack[k], n->parts[0]);
    for (uint32_t i = 1; i < n->n_parts && v; i++)
        v = json_is_object(v) ? json_object_get(v, n->parts[i]) : NULL;
    return v;
}

static bool truthy(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    default:
        return true;
    }
}

static bt_err render_range(struct renderer *r, uint32_t from, uint32_t to);

static bt_err step(struct renderer *r)
{
    if (++r->steps > TEMPLATE_RENDER_STEPS_MAX)
        return bt_fail(r->err, BT_ETOOBIG, NULL, "rendering takes more than %d steps",
                       TEMPLATE_RENDER_STEPS_MAX);
    return BT_OK;
}

/* Renders the body [from, to) with `v` as the innermost context. */
static bt_err render_body(struct renderer *r, const json_t *v, uint32_t from, uint32_t to)
{
    if (r->depth > TEMPLATE_DEPTH_MAX)
        BT_BUG("template: context stack overflow");
    r->stack[r->depth++] = v;
    bt_err rc = render_range(r, from, to);
    r->depth--;
    return rc;
}

static bt_err render_range(struct renderer *r, uint32_t from, uint32_t to)
{
    const struct template_node *nodes = r->t->nodes;
    for (uint32_t i = from; i < to; i++) {
        const struct template_node *n = &nodes[i];
        bt_err rc = step(r);
        if (rc)
            return rc;
        const json_t *v;
        switch (n->kind) {
        case NODE_TEXT:
            rc = put(r, r->t->source + n->offset, n->len);
            break;
        case NODE_VAR:
        case NODE_RAW:
            rc = put_value(r, lookup(r, n), n->kind == NODE_VAR && r->mode == TEMPLATE_HTML);
            break;
        case NODE_SECTION:
            v = lookup(r, n);
            if (json_is_array(v)) {
                for (size_t k = 0; k < json_array_size(v) && !rc; k++)
                    if (!(rc = step(r)))
                        rc = render_body(r, json_array_get(v, k), i + 1, n->end);
            } else if (truthy(v)) {
                rc = render_body(r, v, i + 1, n->end);
            }
            i = n->end - 1;
            break;
        case NODE_INVERTED:
            if (!truthy(lookup(r, n)))
                rc = render_range(r, i + 1, n->end);
            i = n->end - 1;
            break;
        }
        if (rc)
            return rc;
    }
    return BT_OK;
}

bt_err template_render(const struct template *t, const json_t *ctx, enum template_escape mode,
                       struct arena *a, size_t max_out, const char **out, size_t *out_len,
                       struct bt_error *err)
{
    /* a quarter of the address space keeps len + n + 1 and the doubling from overflowing */
    if (max_out > SIZE_MAX / 4)
        max_out = SIZE_MAX / 4;
    struct renderer r = {.t = t, .mode = mode, .a = a, .err = err, .max_out = max_out};
    r.stack[r.depth++] = ctx;
    *out = NULL;
    if (out_len)
        *out_len = 0;
    bt_err rc = render_range(&r, 0, t->n_nodes);
    if (!rc && !r.buf) {
        r.buf = arena_alloc_raw(a, 1);
        if (!r.buf)
            rc = bt_fail(err, BT_ETOOBIG, NULL, "message does not fit in its arena");
    }
    if (rc)
        return rc;
    r.buf[r.len] = '\0';
    *out = r.buf;
    if (out_len)
        *out_len = r.len;
    return BT_OK;
}
