/*
 * fuzz_template.c - libFuzzer target: the input as a message template's
 * source through template_compile, with every name accepted and again with
 * a known() that refuses some; when it compiles, template_render against a
 * fixed context in both modes. An error must point into the source at a
 * real line and column; an output must be terminated, valid UTF-8 and
 * within its limit, and HTML never shorter than text.
 */
#include "core/template.h"
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 16384

static const char context_text[] =
    "{\"a\": \"<&>\", \"b\": [1, 2.5, \"x'y\", null, true, {\"a\": \"in\"}], \"c\": {\"a\": 0,"
    " \"b\": {\"c\": \"deep\"}, \"d\": [[], [\"\"], {}]}, \"d\": false, \"e\": \"\", \"f\": 0.0,"
    " \"x\": 72.5, \"y\": -3, \"z\": \"Gr\\u00fc\\u00dfe \\ud83c\\udf89\\u0000end\","
    " \"lead\": {\"first_name\": \"Ana\", \"email\": \"ana@example.com\", \"tags\": [\"cfo\","
    " \"eu\"]}, \"rep\": {\"name\": \"Luca\", \"accounts\": [{\"name\": \"Acme\"}, {}]}}";

/* Refuses every path with a 'z' in it or longer than 40 bytes. */
static bool known_some(void *ctx, const char *path)
{
    (void)ctx;
    return !strchr(path, 'z') && strlen(path) <= 40;
}

static void check_error(bt_err rc, const struct template_error *e, size_t size)
{
    if ((rc != BT_EINVAL && rc != BT_ETOOBIG) || e->offset > size || e->line < 1 || e->column < 1 ||
        e->column > e->offset + 1 || e->line > e->offset + 1)
        abort(); /* an error must point into the source */
    size_t n = strnlen(e->message, sizeof(e->message));
    if (n == 0 || n == sizeof(e->message) || !utf8_valid(e->message, n))
        abort();
}

static size_t render(const struct template *t, const json_t *ctx, enum template_escape mode,
                     bool *ok)
{
    struct arena a = ARENA_INIT;
    const char *out;
    size_t len;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = template_render(t, ctx, mode, &a, OUT_MAX, &out, &len, &err);
    *ok = rc == BT_OK;
    if (rc == BT_OK) {
        if (len > OUT_MAX || out[len] != '\0' || !utf8_valid(out, len))
            abort();
    } else if (rc != BT_ETOOBIG || out != NULL || len != 0 || err.message[0] == '\0') {
        abort();
    }
    arena_release(&a);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *ctx;
    if (!ctx && !(ctx = json_loads(context_text, JSON_ALLOW_NUL, NULL)))
        abort();
    const char *src = (const char *)data;
    struct arena a = ARENA_INIT;
    const struct template *t;
    struct template_error e;
    bt_err rc = template_compile(src, size, NULL, NULL, &a, &t, &e);
    if (rc != BT_OK) {
        check_error(rc, &e, size);
    } else {
        size_t len;
        if (template_source(t, &len) == NULL || len != size)
            abort();
        for (size_t i = 0; i < template_name_count(t); i++) {
            size_t off;
            const char *name = template_name(t, i, &off);
            if (off >= size || strlen(name) > TEMPLATE_NAME_MAX ||
                memcmp(src + off, name, strlen(name)) != 0)
                abort(); /* a name is where it says */
        }
        bool text_ok, html_ok;
        size_t text_len = render(t, ctx, TEMPLATE_TEXT, &text_ok);
        size_t html_len = render(t, ctx, TEMPLATE_HTML, &html_ok);
        if (text_ok && html_ok && html_len < text_len)
            abort(); /* escaping only ever lengthens */
        (void)render(t, NULL, TEMPLATE_TEXT, &text_ok);
    }
    /* the same source with a known() that refuses some names */
    const struct template *t2;
    bt_err rc2 = template_compile(src, size, known_some, NULL, &a, &t2, &e);
    if (rc2 != BT_OK)
        check_error(rc2, &e, size);
    if (rc != BT_OK && rc2 == BT_OK)
        abort(); /* validation only ever refuses more */
    arena_release(&a);
    return 0;
}
