/*
 * template.h - the message templates of the emails, Slack messages and SMS
 * Baton sends: a small mustache-like language, compiled once when the
 * configuration is loaded and rendered for each message against a jansson
 * context object.
 *
 * The language:
 *
 *   {{lead.first_name}}    the value at a dotted path, escaped in HTML mode
 *   {{{lead.notes}}}       the same, never escaped
 *   {{& lead.notes}}       the same as {{{...}}}
 *   {{#path}}..{{/path}}   a section: the body once when the value is truthy,
 *                          once per element when it is an array
 *   {{^path}}..{{/path}}   an inverted section: the body when it is falsy
 *   {{.}}                  the innermost context itself (an array's element)
 *   {{! comment }}         nothing
 *
 * Whitespace (space, tab, CR, LF) may surround the name inside the braces:
 * {{ lead.email }}, {{# lead.tags }}. A name is one or more parts of
 * [A-Za-z0-9_] separated by single dots, at most TEMPLATE_NAME_MAX bytes, or
 * the lone ".". A comment ends at the first "}}"; no other tag may contain
 * "{{". Partials ({{> x}}) and delimiter changes ({{=<% %>=}}) do not exist.
 *
 * Values: a string is inserted as it is (its bytes, an embedded NUL
 * included); an integer in decimal; a real with at most two decimals and no
 * trailing zeros (72.5, 3, 0.33); true and false as "yes" and "no"; null,
 * a missing value, an object and an array as nothing.
 *
 * Lookup: the first part of a name is looked up in the innermost context
 * that is an object and has that key (even with a null value), then outward
 * to the root object; the other parts are looked up in what it found. So
 * inside {{#rep.accounts}} the name "name" is the element's "name" when the
 * element has one, and the root's "name" otherwise.
 *
 * Sections: a value is falsy when missing, null, false, "", 0 (integer or
 * real) or an empty array, truthy otherwise (an empty object is truthy). A
 * truthy section pushes its value as the innermost context (so {{.}} in
 * {{#lead.email}}..{{/lead.email}} is the address); an array section pushes
 * each element in turn. An inverted section pushes nothing. The closing tag
 * repeats the opening name exactly.
 *
 * Standalone lines: a section, inverted, closing or comment tag alone on its
 * line (only spaces and tabs around it) takes the whole line with it, its
 * line break included, so that a plain-text email can put each tag on its
 * own line without leaving blank lines behind. Variables never do.
 *
 * Escaping is chosen when rendering: TEMPLATE_TEXT inserts values as they
 * are; TEMPLATE_HTML replaces & < > " ' in values by &amp; &lt; &gt; &quot;
 * &#39;. The template's own text is never escaped.
 *
 * Pure: no I/O, no clock, no globals. A compiled template is immutable, so
 * one may be rendered by many threads at once, each with its own arena.
 */
#ifndef BT_CORE_TEMPLATE_H
#define BT_CORE_TEMPLATE_H

#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TEMPLATE_SOURCE_MAX (64 * 1024) /* bytes of source */
#define TEMPLATE_DEPTH_MAX  16          /* sections open at once */
#define TEMPLATE_NAME_MAX   128         /* bytes of one name, dots included */
/* Nodes visited by one render (text, variables, sections, each repetition of
 * a body counted): stops sections nested over long arrays that would run for
 * ever while writing little. */
#define TEMPLATE_RENDER_STEPS_MAX 1000000

enum template_escape {
    TEMPLATE_TEXT, /* values as they are: plain-text email, Slack, SMS */
    TEMPLATE_HTML, /* values HTML-escaped, except {{{x}}} and {{& x}} */
};

/* A compiled template; lives in the arena it was compiled into. */
struct template;

/*
 * Says whether `path` (NUL-terminated, dotted, e.g. "lead.first_name") is a
 * variable the context will have. `ctx` is the caller's pointer.
 */
typedef bool (*template_known_fn)(void *ctx, const char *path);

/* Where a template fails to compile, and why. */
struct template_error {
    size_t offset;   /* byte offset in the source */
    unsigned line;   /* 1-based; lines end at LF */
    unsigned column; /* 1-based, in characters (UTF-8 code points; a tab is one) */
    char message[BT_ERROR_MESSAGE_MAX];
};

/*
 * Compiles source[0..len) into *out, allocated in `a` together with a copy
 * of the source (the caller's buffer may go once this returns). The
 * template lives until `a` is released; nothing else frees it.
 *
 * `known` (may be NULL: every name is accepted) validates each name but ".",
 * of variables and of sections alike. At the top level NAME must be
 * known("NAME"). Inside sections, with S1 the innermost section's path and
 * Sn the outermost's, NAME is accepted when one of known("S1.NAME"), ...,
 * known("Sn.NAME"), known("NAME") is true; a section's path is the first of
 * these that was, so inside {{#rep}}{{#accounts}} the names are tried as
 * "rep.accounts.NAME", "rep.NAME", then "NAME". Inverted sections and
 * {{#.}} push no context when rendering, so they add no path either.
 *
 * Returns BT_OK; or, with *out NULL and *err (may be NULL) saying where and
 * why, BT_ETOOBIG when the source is over TEMPLATE_SOURCE_MAX bytes (at
 * offset 0) or the arena is full (at offset 0), and BT_EINVAL for:
 *
 *   - invalid UTF-8: at its first bad byte;
 *   - a tag without its "}}" (or "}}}" after "{{{"), or with "{{" inside:
 *     at the tag's "{{";
 *   - an empty name: at the tag's "{{";
 *   - a character not allowed in a name, a dot that does not separate two
 *     parts, or a name over TEMPLATE_NAME_MAX bytes: at that character (the
 *     name's first for the length);
 *   - "unknown variable NAME": at the name's first character;
 *   - a section opened while TEMPLATE_DEPTH_MAX are open: at its "{{";
 *   - a closing tag that does not match the open section, or with none
 *     open: at the closing tag's "{{";
 *   - a section not closed at the end: at its opening tag's "{{" (the
 *     innermost one).
 *
 * Memory taken from `a` before an error stays there until `a` is released.
 */
BT_MUST_USE bt_err template_compile(const char *source, size_t len, template_known_fn known,
                                    void *known_ctx, struct arena *a, const struct template **out,
                                    struct template_error *err);

/*
 * Renders `t` against `ctx` (an object; NULL or any other value is an empty
 * root: every name renders as nothing) with escaping `mode`. The output,
 * NUL-terminated, is allocated in `a`: *out points at it and *out_len (may
 * be NULL) is its length without the NUL. It is valid UTF-8 when the
 * context's strings are (jansson's always are).
 *
 * Returns BT_OK; or BT_ETOOBIG, with *out NULL, *out_len 0 and a message in
 * *err (may be NULL), when the output would be longer than max_out bytes,
 * the render takes more than TEMPLATE_RENDER_STEPS_MAX steps, or `a` is
 * full. The arena may grow up to about twice the output's length while the
 * output grows; that memory stays in `a`, also after an error.
 */
BT_MUST_USE bt_err template_render(const struct template *t, const json_t *ctx,
                                   enum template_escape mode, struct arena *a, size_t max_out,
                                   const char **out, size_t *out_len, struct bt_error *err);

/*
 * The names a template uses, in source order, once per tag (duplicates
 * included; "." and closing tags not): for a configuration check or a
 * listing of what a message needs. template_name() returns the i-th
 * (NUL-terminated, owned by the template) for i < template_name_count(t),
 * and its byte offset in the source in *offset (may be NULL).
 */
size_t template_name_count(const struct template *t);
const char *template_name(const struct template *t, size_t i, size_t *offset);

/* The source as compiled (NUL-terminated copy; may contain NUL bytes) and
 * its length. */
const char *template_source(const struct template *t, size_t *len);

#endif
