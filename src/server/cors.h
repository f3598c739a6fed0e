/*
 * cors.h - the CORS rules of the intake endpoints (POST /v1/leads, POST
 * /v1/activities, POST /v1/forms/{id}), as pure functions of the request's
 * headers and the configuration, so that unit tests can state them.
 *
 * - No Origin header: not a browser's cross-site request; no CORS at all.
 * - Origin equal to server.public_url's origin: Baton's own page; same origin.
 * - Origin listed in intake.allowed_origins (exactly; ASCII case ignored):
 *   allowed; replies carry Access-Control-Allow-Origin: that origin (never
 *   "*") and Vary: Origin.
 * - Any other Origin, "null" included: refused with 403.
 * A preflight (OPTIONS) of an allowed origin must ask for the route's
 * method and at most the headers Content-Type, Authorization and
 * Idempotency-Key; it is answered 204 with those and Access-Control-Max-Age.
 */
#ifndef BT_CORS_H
#define BT_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_ALLOW_HEADERS "Content-Type, Authorization, Idempotency-Key"
#define CORS_MAX_AGE       "600" /* seconds a browser may cache a preflight */
#define CORS_ORIGIN_MAX    300

enum cors_origin {
    CORS_NO_ORIGIN,
    CORS_SAME_ORIGIN,
    CORS_ALLOWED,
    CORS_REFUSED,
};

/* What `origin` (the header, or NULL) is for a server at `public_url` (or
 * NULL) that allows `allowed[0..n)`. */
enum cors_origin cors_classify(const char *origin, const char *public_url,
                               const char *const *allowed, size_t n);

/*
 * Whether a preflight asking for `request_method` (Access-Control-Request-
 * Method, or NULL) and `request_headers` (Access-Control-Request-Headers, a
 * comma-separated list, or NULL) may go on to a route of `route_method`.
 * False with the reason in why[0..why_size) and *field naming the header.
 */
bool cors_preflight_ok(const char *route_method, const char *request_method,
                       const char *request_headers, char *why, size_t why_size, const char **field);

#endif
