/*
 * err.c - error codes, messages, and the allocation wrappers that turn
 * out-of-memory into an abort so that no other code has to handle it.
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one table of error codes: the name (the API's error code for every
 * code a client can be told about) and the HTTP status. docs/api.md lists
 * it; the server answers every 500 as "internal". */
static const struct {
    const char *name;
    unsigned http_status;
} errs[BT_ERR_COUNT] = {
    [BT_OK] = {"ok", 500}, /* replying with no error is a bug */
    [BT_EINVAL] = {"invalid", 422},
    [BT_EPARSE] = {"malformed", 400},
    [BT_ETOOBIG] = {"too_large", 413},
    [BT_ENOTFOUND] = {"not_found", 404},
    [BT_ECONFLICT] = {"conflict", 409},
    [BT_EAUTH] = {"unauthorized", 401},
    [BT_EFORBIDDEN] = {"forbidden", 403},
    [BT_EUNSUPPORTED] = {"unsupported_media_type", 415},
    [BT_EIO] = {"io_error", 500},
    [BT_ESTORE] = {"store_unavailable", 503},
    [BT_EBUSY] = {"unavailable", 503},
    [BT_ECONFIG] = {"config_error", 500},
    [BT_ERATELIMIT] = {"rate_limited", 429},
    [BT_EEXPIRED] = {"expired", 410},
};

const char *bt_strerror(bt_err code)
{
    if ((unsigned)code >= BT_ERR_COUNT)
        return "unknown";
    return errs[code].name;
}

unsigned bt_http_status(bt_err code)
{
    if ((unsigned)code >= BT_ERR_COUNT)
        return 500;
    return errs[code].http_status;
}

bt_err bt_fail(struct bt_error *e, bt_err code, const char *field, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return code;
}

void bt_error_prefix(struct bt_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    char prefix[BT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    char joined[2 * BT_ERROR_MESSAGE_MAX];
    snprintf(joined, sizeof(joined), "%s%s", prefix, e->message);
    snprintf(e->message, sizeof(e->message), "%.*s", BT_ERROR_MESSAGE_MAX - 1, joined);
}

void bt_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void bt_die(const char *fmt, ...)
{
    va_list ap;
    fputs("fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void *oom(size_t size)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    return p ? p : oom(size);
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom(count * size);
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    return p ? p : oom(size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
