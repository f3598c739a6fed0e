/*
 * err.h - the one error type of Baton.
 *
 * Every function that can fail returns a `bt_err` (0 is success) and takes an
 * optional `struct bt_error *` into which it writes a human message and, when
 * the error concerns one input field, the field's name. Callers that do not
 * care pass NULL. The code is stable and maps to an HTTP status and a JSON
 * error code; the message is for people.
 *
 * Broken invariants are not errors: BT_BUG() reports file and line and aborts.
 * Out-of-memory aborts in one place (xmalloc and friends), so no caller has to
 * handle it.
 */
#ifndef BT_ERR_H
#define BT_ERR_H

#include <stddef.h>

#define BT_MUST_USE     __attribute__((warn_unused_result))
#define BT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define BT_NORETURN     __attribute__((noreturn))

typedef enum bt_err {
    BT_OK = 0,
    BT_EINVAL,       /* input is malformed or fails validation (422/400) */
    BT_EPARSE,       /* input could not be parsed at all (400) */
    BT_ETOOBIG,      /* input exceeds a configured maximum (413) */
    BT_ENOTFOUND,    /* no such object (404) */
    BT_ECONFLICT,    /* the request conflicts with current state (409) */
    BT_EAUTH,        /* missing or invalid credentials (401) */
    BT_EFORBIDDEN,   /* valid credentials, wrong role (403) */
    BT_EUNSUPPORTED, /* unsupported media type or feature (415) */
    BT_EIO,          /* file or network I/O failed */
    BT_ESTORE,       /* the database failed (503) */
    BT_EBUSY,        /* temporarily unavailable, e.g. shutting down (503) */
    BT_ECONFIG,      /* configuration is invalid */
    BT_ERATELIMIT,   /* too many requests from this key or address; retry later (429) */
    BT_EEXPIRED,     /* a genuine credential past its expiry, e.g. an action link (410) */
    BT_ERR_COUNT
} bt_err;

#define BT_ERROR_MESSAGE_MAX 512
#define BT_ERROR_FIELD_MAX   64

struct bt_error {
    bt_err code;
    char message[BT_ERROR_MESSAGE_MAX];
    char field[BT_ERROR_FIELD_MAX]; /* "" when the error is not about one field */
};

#define BT_ERROR_INIT                                                                              \
    {                                                                                              \
        BT_OK, "", ""                                                                              \
    }

/* A short stable name for the code, e.g. "invalid", "not_found": the API's
 * error code (docs/api.md), except that the API answers every 500 as
 * "internal". */
const char *bt_strerror(bt_err code);
/* The HTTP status the code maps to. */
unsigned bt_http_status(bt_err code);

/*
 * Records code, field (may be NULL) and a printf-style message in `e` (which
 * may be NULL) and returns `code`, so that callers can write
 * `return bt_fail(e, BT_EINVAL, "email", "not an address: %s", s);`.
 */
bt_err bt_fail(struct bt_error *e, bt_err code, const char *field, const char *fmt, ...)
    BT_PRINTF(4, 5);

/* Prefixes the message already in `e` with a printf-style context. */
void bt_error_prefix(struct bt_error *e, const char *fmt, ...) BT_PRINTF(2, 3);

BT_NORETURN void bt_bug(const char *file, int line, const char *fmt, ...) BT_PRINTF(3, 4);
BT_NORETURN void bt_die(const char *fmt, ...) BT_PRINTF(1, 2);

#define BT_BUG(...) bt_bug(__FILE__, __LINE__, __VA_ARGS__)

/* Allocation wrappers: they never return NULL; out of memory aborts. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
