/*
 * openapi.c - docs/openapi.yaml, embedded, and its JSON form (openapi.h).
 *
 * The file is pulled in with the assembler's .incbin, so the binary always
 * carries the description of the API it serves; the Makefile rebuilds this
 * object when the file changes. JSON is made once, on first use, under a
 * pthread_once.
 */
#include "server/openapi.h"

#include <jansson.h>
#include <libfyaml.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__asm__(".section .rodata\n"
        ".global baton_openapi_yaml\n"
        ".type baton_openapi_yaml, @object\n"
        ".balign 16\n"
        "baton_openapi_yaml:\n"
        ".incbin \"docs/openapi.yaml\"\n"
        ".global baton_openapi_yaml_end\n"
        "baton_openapi_yaml_end:\n"
        ".byte 0\n"
        ".previous\n");
extern const char baton_openapi_yaml[];
extern const char baton_openapi_yaml_end[];

const char *openapi_yaml(size_t *len)
{
    *len = (size_t)(baton_openapi_yaml_end - baton_openapi_yaml);
    return baton_openapi_yaml;
}

static bool is_int(const char *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A plain scalar as YAML 1.2's core schema reads it. */
static json_t *plain_scalar(const char *s, size_t n)
{
    char buf[64];
    if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && !memcmp(s, "null", 4)) ||
        (n == 4 && !memcmp(s, "Null", 4)) || (n == 4 && !memcmp(s, "NULL", 4)))
        return json_null();
    if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4))))
        return json_true();
    if ((n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5))))
        return json_false();
    if (n < sizeof(buf)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (is_int(s, n))
            return json_integer((json_int_t)strtoll(buf, NULL, 10));
        char *end;
        double d = strtod(buf, &end);
        bool numeric = *end == '\0' && strspn(buf, "+-0123456789.eE") == n && isfinite(d);
        if (numeric)
            return json_real(d);
    }
    return json_stringn(s, n);
}

static json_t *to_json(struct fy_node *node)
{
    switch (fy_node_get_type(node)) {
    case FYNT_SCALAR: {
        size_t n;
        const char *s = fy_node_get_scalar(node, &n);
        if (!s)
            return json_null();
        return fy_node_get_style(node) == FYNS_PLAIN ? plain_scalar(s, n) : json_stringn(s, n);
    }
    case FYNT_SEQUENCE: {
        json_t *a = json_array();
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(node, &it))) {
            json_t *v = to_json(item);
            if (!v) {
                json_decref(a);
                return NULL; /* as for a mapping: no JSON form */
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    case FYNT_MAPPING: {
        json_t *o = json_object();
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(node, &it))) {
            size_t n;
            const char *k = fy_node_get_scalar(fy_node_pair_key(pair), &n);
            if (!k) {
                json_decref(o);
                return NULL; /* a key that is not a scalar has no JSON form */
            }
            json_t *v = to_json(fy_node_pair_value(pair));
            if (!v) {
                json_decref(o);
                return NULL;
            }
            char *key = strndup(k, n);
            json_object_set_new(o, key, v);
            free(key);
        }
        return o;
    }
    }
    return NULL;
}

static char *json_text;
static char why[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    size_t len;
    const char *yaml = openapi_yaml(&len);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *doc = fy_document_build_from_string(&cfg, yaml, len);
    if (!doc || fy_document_resolve(doc) != 0) {
        snprintf(why, sizeof(why), "docs/openapi.yaml (built in) is not valid YAML");
        fy_document_destroy(doc);
        return;
    }
    json_t *j = to_json(fy_document_root(doc));
    fy_document_destroy(doc);
    if (!json_is_object(j)) {
        snprintf(why, sizeof(why), "docs/openapi.yaml (built in) is not a mapping of JSON values");
        json_decref(j);
        return;
    }
    json_text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
}

const char *openapi_json(struct bt_error *err)
{
    pthread_once(&once, build);
    if (!json_text)
        bt_fail(err, BT_EIO, NULL, "%s", why[0] ? why : "the description could not be written");
    return json_text;
}
