/*
 * test_template.c - message templates: text passes through, variables by
 * dotted path (missing, null, objects and arrays render as nothing),
 * numbers and booleans, HTML escaping and its exceptions, sections over
 * truthy and falsy values, arrays of scalars and of objects, lookup outward
 * from inside a section, standalone lines, every compile error at its
 * line:column, name validation through known() with the order of the
 * candidates, and the limits: source size, nesting, output and steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const context_text =
    "{\"lead\": {\"first_name\": \"Ana\", \"last_name\": \"Sousa\", \"email\": \"ana@example.com\","
    "            \"score\": 72.5, \"employees\": 250, \"vip\": true, \"churned\": false,"
    "            \"company\": {\"name\": \"Acme & Sons\", \"country\": \"PT\"},"
    "            \"tags\": [\"cfo\", \"<b>\", \"eu\"], \"notes\": null, \"phone\": \"\","
    "            \"zero\": 0, \"zero_real\": 0.0, \"empty\": [], \"nothing\": {}},"
    " \"rep\": {\"name\": \"Luca Romano\", \"accounts\": [{\"name\": \"Acme\", \"open\": 3},"
    "                                                {\"open\": 0}]},"
    " \"name\": \"Baton\","
    " \"assignment\": {\"accept_by_local\": \"14:30 CET\"}}";

static json_t *context(void)
{
    json_error_t e;
    json_t *c = json_loads(context_text, 0, &e);
    if (!c)
        fail_msg("context: %s at %d", e.text, e.position);
    return c;
}

/* Compiles `src` accepting every name, renders it in `mode` against the
 * fixed context and checks the output. */
static void check_mode(const char *src, enum template_escape mode, const char *want)
{
    struct arena a = ARENA_INIT;
    struct template_error terr;
    const struct template *t;
    bt_err rc = template_compile(src, strlen(src), NULL, NULL, &a, &t, &terr);
    if (rc)
        fail_msg("compile '%s': %u:%u: %s", src, terr.line, terr.column, terr.message);
    json_t *ctx = context();
    const char *out;
    size_t len;
    struct bt_error err = BT_ERROR_INIT;
    rc = template_render(t, ctx, mode, &a, 4096, &out, &len, &err);
    if (rc)
        fail_msg("render '%s': %s", src, err.message);
    assert_int_equal(len, strlen(out));
    if (strcmp(out, want) != 0)
        fail_msg("'%s' renders '%s', not '%s'", src, out, want);
    json_decref(ctx);
    arena_release(&a);
}

static void check(const char *src, const char *want)
{
    check_mode(src, TEMPLATE_TEXT, want);
}

/* The error of compiling `src` with `known` (may be NULL). */
static bt_err compile_err(const char *src, size_t len, template_known_fn known, void *kctx,
                          struct template_error *terr)
{
    struct arena a = ARENA_INIT;
    const struct template *t = (const struct template *)1;
    memset(terr, 0, sizeof(*terr));
    bt_err rc = template_compile(src, len, known, kctx, &a, &t, terr);
    if (rc == BT_OK)
        fail_msg("'%s' compiles", src);
    assert_null(t);
    arena_release(&a);
    return rc;
}

/* Checks that `src` fails at line:column with a message containing `want`. */
static void check_error_with(const char *src, template_known_fn known, void *kctx, unsigned line,
                             unsigned column, size_t offset, const char *want)
{
    struct template_error terr;
    assert_int_equal(compile_err(src, strlen(src), known, kctx, &terr), BT_EINVAL);
    if (terr.line != line || terr.column != column || terr.offset != offset ||
        !strstr(terr.message, want))
        fail_msg("'%s': %u:%u (offset %zu): %s; expected %u:%u (offset %zu): ...%s...", src,
                 terr.line, terr.column, terr.offset, terr.message, line, column, offset, want);
}

static void check_error(const char *src, unsigned line, unsigned column, size_t offset,
                        const char *want)
{
    check_error_with(src, NULL, NULL, line, column, offset, want);
}

static void test_plain_text(void **state)
{
    (void)state;
    check("", "");
    check("Hello, world.\n", "Hello, world.\n");
    check("Grüße aus Lisboa 🎉", "Grüße aus Lisboa 🎉");
    check("a { b } c }} d {x}", "a { b } c }} d {x}");
    check("<p>&amp; kept</p>", "<p>&amp; kept</p>");
    check_mode("<p>\"'&</p>", TEMPLATE_HTML, "<p>\"'&</p>"); /* the template's own text */
    /* a NUL in the source is text like any other */
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile("a\0b{{name}}", 11, NULL, NULL, &a, &t, NULL), BT_OK);
    json_t *ctx = context();
    const char *out;
    size_t len;
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 100, &out, &len, NULL), BT_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(out, "a\0bBaton", 9);
    json_decref(ctx);
    arena_release(&a);
}

static void test_variables(void **state)
{
    (void)state;
    check("Hi {{lead.first_name}}!", "Hi Ana!");
    check("{{lead.first_name}} {{lead.last_name}}", "Ana Sousa");
    check("{{ lead.email }}|{{\tlead.email\n}}", "ana@example.com|ana@example.com");
    check("{{lead.company.name}} ({{lead.company.country}})", "Acme & Sons (PT)");
    check("{{rep.name}} by {{assignment.accept_by_local}}", "Luca Romano by 14:30 CET");
    check("{{name}}", "Baton");
    check("[{{lead.middle_name}}][{{nope}}][{{nope.deeper}}]", "[][][]");
    check("[{{lead.notes}}][{{lead.first_name.x}}][{{lead.tags.0}}]", "[][][]");
    check("[{{lead.company}}][{{lead.tags}}][{{.}}]", "[][][]"); /* objects, arrays */
}

static void test_numbers_and_booleans(void **state)
{
    (void)state;
    check("{{lead.employees}} {{lead.score}} {{lead.zero}} {{lead.zero_real}}", "250 72.5 0 0");
    check("{{lead.vip}}/{{lead.churned}}", "yes/no");
    struct {
        const char *json, *want;
    } cases[] = {
        {"{\"x\": 3.0}", "3"},
        {"{\"x\": 0.333}", "0.33"},
        {"{\"x\": 2.999}", "3"},
        {"{\"x\": 1.10}", "1.1"},
        {"{\"x\": -0.001}", "0"},
        {"{\"x\": -12.25}", "-12.25"},
        {"{\"x\": 1e20}", "100000000000000000000"},
        {"{\"x\": -9223372036854775808}", "-9223372036854775808"},
        {"{\"x\": 9223372036854775807}", "9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a = ARENA_INIT;
        const struct template *t;
        assert_int_equal(template_compile("{{x}}", 5, NULL, NULL, &a, &t, NULL), BT_OK);
        json_t *ctx = json_loads(cases[i].json, 0, NULL);
        assert_non_null(ctx);
        const char *out;
        assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 100, &out, NULL, NULL), BT_OK);
        assert_string_equal(out, cases[i].want);
        json_decref(ctx);
        arena_release(&a);
    }
}

static void test_escaping(void **state)
{
    (void)state;
    json_t *ctx = json_pack("{s:s}", "x", "<a href=\"/?a=1&b='2'\">");
    const char *src = "{{x}}|{{{x}}}|{{& x}}|{{{ x }}}";
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    const char *out;
    assert_int_equal(template_render(t, ctx, TEMPLATE_HTML, &a, 1000, &out, NULL, NULL), BT_OK);
    assert_string_equal(out, "&lt;a href=&quot;/?a=1&amp;b=&#39;2&#39;&quot;&gt;"
                             "|<a href=\"/?a=1&b='2'\">|<a href=\"/?a=1&b='2'\">"
                             "|<a href=\"/?a=1&b='2'\">");
    /* the same compiled template, in text mode: nothing escaped */
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 1000, &out, NULL, NULL), BT_OK);
    assert_string_equal(out, "<a href=\"/?a=1&b='2'\">|<a href=\"/?a=1&b='2'\">"
                             "|<a href=\"/?a=1&b='2'\">|<a href=\"/?a=1&b='2'\">");
    json_decref(ctx);
    arena_release(&a);
    check_mode("{{lead.company.name}} {{#lead.tags}}{{.}}{{/lead.tags}}", TEMPLATE_HTML,
               "Acme &amp; Sons cfo&lt;b&gt;eu");
    check_mode("{{lead.score}} {{lead.vip}}", TEMPLATE_HTML, "72.5 yes");
}

static void test_sections(void **state)
{
    (void)state;
    /* truthy: a non-empty string, true, a non-zero number, an object (even
     * empty), a non-empty array */
    check("{{#lead.email}}has{{/lead.email}}", "has");
    check("{{#lead.vip}}vip{{/lead.vip}}", "vip");
    check("{{#lead.employees}}n{{/lead.employees}}{{#lead.score}}s{{/lead.score}}", "ns");
    check("{{#lead.company}}c{{/lead.company}}{{#lead.nothing}}e{{/lead.nothing}}", "ce");
    /* falsy: missing, null, false, "", 0, 0.0, [] */
    check("[{{#lead.fax}}x{{/lead.fax}}{{#lead.notes}}x{{/lead.notes}}"
          "{{#lead.churned}}x{{/lead.churned}}{{#lead.phone}}x{{/lead.phone}}"
          "{{#lead.zero}}x{{/lead.zero}}{{#lead.zero_real}}x{{/lead.zero_real}}"
          "{{#lead.empty}}x{{/lead.empty}}]",
          "[]");
    /* inverted: exactly the other way round, pushing nothing */
    check("[{{^lead.fax}}a{{/lead.fax}}{{^lead.notes}}b{{/lead.notes}}"
          "{{^lead.churned}}c{{/lead.churned}}{{^lead.phone}}d{{/lead.phone}}"
          "{{^lead.zero}}e{{/lead.zero}}{{^lead.zero_real}}f{{/lead.zero_real}}"
          "{{^lead.empty}}g{{/lead.empty}}{{^lead.email}}X{{/lead.email}}"
          "{{^lead.company}}X{{/lead.company}}{{^lead.tags}}X{{/lead.tags}}]",
          "[abcdefg]");
    /* a truthy value is the innermost context: {{.}} and its keys */
    check("{{#lead.email}}<{{.}}>{{/lead.email}}", "<ana@example.com>");
    check("{{#lead.company}}{{name}}, {{country}}{{/lead.company}}", "Acme & Sons, PT");
    /* nested, with if/else */
    check("{{#lead}}{{#company}}{{name}}{{/company}}{{^fax}} (no fax){{/fax}}{{/lead}}",
          "Acme & Sons (no fax)");
    check("{{#lead.vip}}VIP {{/lead.vip}}{{^lead.vip}}regular {{/lead.vip}}{{lead.first_name}}",
          "VIP Ana");
}

static void test_arrays(void **state)
{
    (void)state;
    check("{{#lead.tags}}[{{.}}]{{/lead.tags}}", "[cfo][<b>][eu]");
    check("{{#lead.tags}}{{.}}{{^lead.zero}},{{/lead.zero}}{{/lead.tags}}", "cfo,<b>,eu,");
    /* object elements: their keys first, then outward ("name" falls back to
     * the root's for the element without one) */
    check("{{#rep.accounts}}{{name}}:{{open}} {{/rep.accounts}}", "Acme:3 Baton:0 ");
    check("{{#rep.accounts}}{{#open}}{{name}} has {{open}}; {{/open}}{{/rep.accounts}}",
          "Acme has 3; ");
    /* outer lookup from inside a section */
    check("{{#lead.tags}}{{lead.first_name}}/{{rep.name}}/{{.}} {{/lead.tags}}",
          "Ana/Luca Romano/cfo Ana/Luca Romano/<b> Ana/Luca Romano/eu ");
    /* the innermost context with the key wins, even when its value is null */
    json_t *ctx =
        json_loads("{\"who\": \"root\", \"items\": [{\"who\": null}, {\"who\": \"item\"}, 5,"
                   " [1, 2], {}]}",
                   0, NULL);
    const char *src = "{{#items}}<{{who}}|{{.}}>{{/items}}";
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    const char *out;
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 1000, &out, NULL, NULL), BT_OK);
    assert_string_equal(out, "<|><item|><root|5><root|><root|>");
    /* a NULL or non-object context: everything is missing */
    assert_int_equal(template_render(t, NULL, TEMPLATE_TEXT, &a, 1000, &out, NULL, NULL), BT_OK);
    assert_string_equal(out, "");
    json_decref(ctx);
    arena_release(&a);
}

static void test_standalone_lines(void **state)
{
    (void)state;
    check("Hi {{lead.first_name}},\n"
          "{{#lead.company}}\n"
          "  Company: {{name}}\n"
          "{{/lead.company}}\n"
          "  {{! a comment on its own line }}\n"
          "{{^lead.fax}}\r\n"
          "No fax.\n"
          "\t{{/lead.fax}}\n"
          "Bye",
          "Hi Ana,\n  Company: Acme & Sons\nNo fax.\nBye");
    /* not alone on its line: kept as is */
    check("a {{#lead.vip}}\nb{{/lead.vip}} c\n", "a \nb c\n");
    check("{{#lead.vip}}{{#lead.email}}\nx\n{{/lead.email}}{{/lead.vip}}", "\nx\n");
    /* variables are never standalone; the last line may lack its break */
    check("{{name}}\n{{#lead.vip}}\nx\n  {{/lead.vip}}", "Baton\nx\n");
}

static void test_compile_errors(void **state)
{
    (void)state;
    check_error("Hi {{lead.first_name", 1, 4, 3, "tag {{ is not closed (no }})");
    check_error("x\nHi {{lead.first_name, bye {{rep.name}}", 2, 4, 5,
                "tag {{ is not closed before the next {{");
    check_error("é\n\n  {{{lead.notes}}", 3, 3, 6, "tag {{{ is not closed (no }}})");
    check_error("ab {{{lead.notes", 1, 4, 3, "tag {{{ is not closed (no }}})");
    check_error("{{! never closed", 1, 1, 0, "not closed");
    check_error("{{#lead.vip}}\nyes\n", 1, 1, 0, "section {{#lead.vip}} is not closed");
    check_error("{{#a}}{{^b}}{{/b}}{{^c}}", 1, 19, 18, "section {{^c}} is not closed (no {{/c}})");
    check_error("{{#a}}\n  {{#b}}x{{/a}}", 2, 10, 16,
                "closing tag {{/a}} does not match the open section {{#b}} (line 2, column 3)");
    check_error("x {{/a}}", 1, 3, 2, "closing tag {{/a}} without an open section");
    check_error("{{#a}}{{/a.b}}", 1, 7, 6, "does not match");
    check_error("Hello {{}}", 1, 7, 6, "empty name");
    check_error("Hello {{  }}", 1, 7, 6, "empty name");
    check_error("ü {{#}}", 1, 3, 3, "empty name");
    check_error("{{{ }}}", 1, 1, 0, "empty name");
    check_error("{{& }}", 1, 1, 0, "empty name");
    check_error("{{lead.first-name}}", 1, 13, 12, "invalid character '-' in name");
    check_error("{{ lead.first name }}", 1, 14, 13, "invalid character ' '");
    check_error("{{lead.prénom}}", 1, 10, 9, "invalid character 'é'");
    check_error("{{lead..email}}", 1, 7, 6, "a dot in a name separates two parts");
    check_error("{{.lead}}", 1, 3, 2, "a dot in a name separates two parts");
    check_error("{{lead.}}", 1, 7, 6, "a dot in a name separates two parts");
    check_error("{{ .. }}", 1, 4, 3, "a dot in a name separates two parts");
    check_error("{{> footer}}", 1, 3, 2, "partials");
    check_error("{{=<% %>=}}", 1, 3, 2, "delimiters");
    check_error("{{a\x01}}", 1, 4, 3, "invalid character \\x01");
    check_error("{{{{x}}}}", 1, 4, 3, "invalid character '{'");
    /* invalid UTF-8: at the bad byte; the column counts characters */
    check_error("ok\nçà \xff", 2, 4, 8, "invalid UTF-8 (byte 0xFF)");
    check_error("\xc3\x28", 1, 1, 0, "invalid UTF-8");
    check_error("a\xed\xa0\x80", 1, 2, 1, "invalid UTF-8"); /* a surrogate */
    char longname[TEMPLATE_NAME_MAX + 8];
    memset(longname, 'n', sizeof(longname));
    memcpy(longname, "{{", 2);
    memcpy(longname + TEMPLATE_NAME_MAX + 3, "}}", 3); /* a name of 129 bytes */
    check_error(longname, 1, 3, 2, "name longer than 128 bytes");
    longname[TEMPLATE_NAME_MAX + 2] = '}';
    longname[TEMPLATE_NAME_MAX + 3] = '}';
    longname[TEMPLATE_NAME_MAX + 4] = '\0';
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(longname, strlen(longname), NULL, NULL, &a, &t, NULL), BT_OK);
    arena_release(&a);
    /* no error struct: still an error */
    assert_int_equal(template_compile("{{", 2, NULL, NULL, &a, &t, NULL), BT_EINVAL);
    assert_null(t);
    arena_release(&a);
}

static void test_source_limit(void **state)
{
    (void)state;
    char *src = malloc(TEMPLATE_SOURCE_MAX + 1);
    memset(src, 'x', TEMPLATE_SOURCE_MAX + 1);
    struct arena a = ARENA_INIT;
    const struct template *t;
    struct template_error terr;
    assert_int_equal(template_compile(src, TEMPLATE_SOURCE_MAX, NULL, NULL, &a, &t, &terr), BT_OK);
    const char *out;
    size_t len;
    assert_int_equal(
        template_render(t, NULL, TEMPLATE_TEXT, &a, TEMPLATE_SOURCE_MAX, &out, &len, NULL), BT_OK);
    assert_int_equal(len, TEMPLATE_SOURCE_MAX);
    assert_int_equal(compile_err(src, TEMPLATE_SOURCE_MAX + 1, NULL, NULL, &terr), BT_ETOOBIG);
    assert_int_equal(terr.line, 1);
    assert_int_equal(terr.column, 1);
    assert_non_null(strstr(terr.message, "longer than 65536 bytes"));
    /* as many tags as fit: the node array is sized for them */
    for (size_t i = 0; i + 5 <= TEMPLATE_SOURCE_MAX; i += 5)
        memcpy(src + i, "{{.}}", 5);
    assert_int_equal(template_compile(src, TEMPLATE_SOURCE_MAX, NULL, NULL, &a, &t, &terr), BT_OK);
    assert_int_equal(template_render(t, NULL, TEMPLATE_TEXT, &a, 10, &out, &len, NULL), BT_OK);
    assert_int_equal(len, 1); /* the last 'x' */
    /* a full arena is an error, not a crash */
    struct arena small = {NULL, 0, 1024};
    assert_int_equal(template_compile(src, TEMPLATE_SOURCE_MAX, NULL, NULL, &small, &t, &terr),
                     BT_ETOOBIG);
    assert_null(t);
    arena_release(&small);
    free(src);
    arena_release(&a);
}

/* known(): a fixed list of paths; every question is logged. */
struct names {
    const char *const *paths;
    char log[1024];
};

static bool known_in(void *ctx, const char *path)
{
    struct names *n = ctx;
    size_t used = strlen(n->log);
    snprintf(n->log + used, sizeof(n->log) - used, "%s%s", used ? " " : "", path);
    for (size_t i = 0; n->paths[i]; i++)
        if (strcmp(n->paths[i], path) == 0)
            return true;
    return false;
}

static const char *const schema[] = {
    "lead.first_name",
    "lead.email",
    "lead.tags",
    "lead.company",
    "lead.company.name",
    "rep",
    "rep.accounts",
    "rep.name",
    "rep.accounts.name",
    "rep.accounts.open",
    "name",
    NULL,
};

static void check_known(const char *src)
{
    struct names n = {schema, ""};
    struct arena a = ARENA_INIT;
    const struct template *t;
    struct template_error terr;
    if (template_compile(src, strlen(src), known_in, &n, &a, &t, &terr))
        fail_msg("'%s': %u:%u: %s", src, terr.line, terr.column, terr.message);
    arena_release(&a);
}

static void test_known_names(void **state)
{
    (void)state;
    check_known("Hi {{lead.first_name}} <{{ lead.email }}>, {{{rep.name}}} {{& name}}");
    check_known("{{#lead.tags}}{{.}}{{/lead.tags}}{{^lead.email}}none{{/lead.email}}");
    check_known("{{#lead.company}}{{name}}{{/lead.company}}");
    check_known("{{#rep}}{{#accounts}}{{name}}: {{open}} of {{lead.first_name}}"
                "{{/accounts}}{{/rep}}");
    check_known("{{#rep.accounts}}{{#.}}{{open}}{{/.}}{{/rep.accounts}}");
    check_known("{{! {{anything}} goes in a comment }}");

    struct names n = {schema, ""};
    check_error_with("Hi {{lead.frist_name}}", known_in, &n, 1, 6, 5,
                     "unknown variable lead.frist_name");
    assert_string_equal(n.log, "lead.frist_name");
    n.log[0] = '\0';
    check_error_with("Hi\n{{#lead.company}}\n  {{country}}{{/lead.company}}", known_in, &n, 3, 5,
                     25, "unknown variable country");
    assert_string_equal(n.log, "lead.company lead.company.country country");
    /* nested: the innermost section's path first, then outward, then the top */
    n.log[0] = '\0';
    check_error_with("{{#rep}}{{#accounts}}{{ owner }}{{/accounts}}{{/rep}}", known_in, &n, 1, 25,
                     24, "unknown variable owner");
    assert_string_equal(n.log, "rep rep.accounts rep.accounts.owner rep.owner owner");
    /* a section resolved at the top level is the scope of its body */
    n.log[0] = '\0';
    check_error_with("{{#lead.company}}{{#name}}{{x}}{{/name}}{{/lead.company}}", known_in, &n, 1,
                     29, 28, "unknown variable x");
    assert_string_equal(n.log,
                        "lead.company lead.company.name lead.company.name.x lead.company.x x");
    /* an inverted section is no scope: its body renders in its parent's */
    n.log[0] = '\0';
    check_error_with("{{#rep}}{{^accounts}}{{zip}}{{/accounts}}{{/rep}}", known_in, &n, 1, 24, 23,
                     "unknown variable zip");
    assert_string_equal(n.log, "rep rep.accounts rep.zip zip");
    n.log[0] = '\0';
    check_error_with("{{#lead.phone}}{{/lead.phone}}", known_in, &n, 1, 4, 3,
                     "unknown variable lead.phone");
    check_error_with("{{^rep.accounts}}{{{rep.boss}}}{{/rep.accounts}}", known_in, &n, 1, 21, 20,
                     "unknown variable rep.boss");
    check_error_with("{{& lead.x}}", known_in, &n, 1, 5, 4, "unknown variable lead.x");
}

static void test_names(void **state)
{
    (void)state;
    const char *src = "{{a}} {{#b.c}}{{.}}{{d}}{{/b.c}}{{! e }}{{a}}";
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    assert_int_equal(template_name_count(t), 4);
    size_t off;
    assert_string_equal(template_name(t, 0, &off), "a");
    assert_int_equal(off, 2);
    assert_string_equal(template_name(t, 1, &off), "b.c");
    assert_int_equal(off, 9);
    assert_string_equal(template_name(t, 2, NULL), "d");
    assert_string_equal(template_name(t, 3, &off), "a");
    assert_int_equal(off, 42);
    size_t len;
    assert_string_equal(template_source(t, &len), src);
    assert_int_equal(len, strlen(src));
    arena_release(&a);
}

static void test_output_limit(void **state)
{
    (void)state;
    json_t *ctx = json_pack("{s:s}", "x", "<&>");
    const char *src = "ab{{x}}";
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    const char *out = "unset";
    size_t len = 99;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 5, &out, &len, &err), BT_OK);
    assert_string_equal(out, "ab<&>");
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 4, &out, &len, &err), BT_ETOOBIG);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_string_equal(err.message, "message longer than 4 bytes");
    /* escaping counts: "ab&lt;&amp;&gt;" is 15 bytes */
    assert_int_equal(template_render(t, ctx, TEMPLATE_HTML, &a, 15, &out, &len, &err), BT_OK);
    assert_int_equal(len, 15);
    assert_int_equal(template_render(t, ctx, TEMPLATE_HTML, &a, 14, &out, &len, &err), BT_ETOOBIG);
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 0, &out, &len, &err), BT_ETOOBIG);
    /* a long array: the limit stops it */
    json_t *big = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(big, json_string("0123456789"));
    json_object_set_new(ctx, "big", big);
    const char *loop = "{{#big}}{{.}}{{/big}}";
    assert_int_equal(template_compile(loop, strlen(loop), NULL, NULL, &a, &t, NULL), BT_OK);
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 100000, &out, &len, &err), BT_OK);
    assert_int_equal(len, 100000);
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 99999, &out, &len, &err),
                     BT_ETOOBIG);
    /* a full arena is an error too */
    struct arena small = {NULL, 0, 4096};
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &small, 100000, &out, &len, &err),
                     BT_ETOOBIG);
    assert_non_null(strstr(err.message, "arena"));
    arena_release(&small);
    json_decref(ctx);
    arena_release(&a);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char src[1024] = "", *p = src;
    for (int i = 0; i < TEMPLATE_DEPTH_MAX; i++)
        p += sprintf(p, "{{#a}}");
    p += sprintf(p, "{{a}}");
    for (int i = 0; i < TEMPLATE_DEPTH_MAX; i++)
        p += sprintf(p, "{{/a}}");
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    json_t *ctx = json_pack("{s:i}", "a", 7);
    const char *out;
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 100, &out, NULL, NULL), BT_OK);
    assert_string_equal(out, "7");
    /* one more: refused at its tag */
    char deeper[1024] = "x\n";
    p = deeper + 2;
    for (int i = 0; i <= TEMPLATE_DEPTH_MAX; i++)
        p += sprintf(p, "{{^a}}");
    check_error(deeper, 2, 6 * TEMPLATE_DEPTH_MAX + 1, 2 + 6 * TEMPLATE_DEPTH_MAX,
                "sections nested deeper than 16");
    /* 16 nested loops over 3 elements would take 3^16 passes: stopped */
    json_t *three = json_pack("[i,i,i]", 1, 2, 3);
    json_object_set_new(ctx, "a", three);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(template_render(t, ctx, TEMPLATE_TEXT, &a, 100, &out, NULL, &err), BT_ETOOBIG);
    assert_non_null(strstr(err.message, "steps"));
    json_decref(ctx);
    arena_release(&a);
}

static void test_compile_once_render_many(void **state)
{
    (void)state;
    char *src = strdup("{{#rep.accounts}}{{name}} {{/rep.accounts}}for {{lead.first_name}}");
    struct arena a = ARENA_INIT;
    const struct template *t;
    assert_int_equal(template_compile(src, strlen(src), NULL, NULL, &a, &t, NULL), BT_OK);
    memset(src, '?', strlen(src)); /* the template keeps its own copy */
    free(src);
    json_t *ctx = context();
    for (int i = 0; i < 3; i++) {
        struct arena r = ARENA_INIT;
        const char *out;
        assert_int_equal(template_render(t, ctx, TEMPLATE_HTML, &r, 100, &out, NULL, NULL), BT_OK);
        assert_string_equal(out, "Acme Baton for Ana");
        arena_release(&r);
    }
    json_decref(ctx);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_standalone_lines),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_source_limit),
        cmocka_unit_test(test_known_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_output_limit),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_compile_once_render_many),
    };
    return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
