/*
 * cors.c - the CORS rules (cors.h). Header names compare without regard to
 * case and the list may have spaces around its commas, as browsers send it
 * ("content-type,idempotency-key").
 */
#include "server/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum cors_origin cors_classify(const char *origin, const char *public_url,
                               const char *const *allowed, size_t n)
{
    if (!origin)
        return CORS_NO_ORIGIN;
    size_t len = strlen(origin);
    if (len == 0 || len > CORS_ORIGIN_MAX)
        return CORS_REFUSED;
    /* public_url may have a path ("https://example.com/baton"): its origin
     * is what comes before it */
    if (public_url && !strncasecmp(public_url, origin, len) &&
        (public_url[len] == '\0' || public_url[len] == '/') && strstr(origin, "://"))
        return CORS_SAME_ORIGIN;
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(allowed[i], origin))
            return CORS_ALLOWED;
    return CORS_REFUSED;
}

static bool header_allowed(const char *name, size_t len)
{
    static const char *const ok[] = {"content-type", "authorization", "idempotency-key"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strlen(ok[i]) == len && !strncasecmp(ok[i], name, len))
            return true;
    return false;
}

bool cors_preflight_ok(const char *route_method, const char *request_method,
                       const char *request_headers, char *why, size_t why_size, const char **field)
{
    if (!request_method || strcmp(request_method, route_method) != 0) {
        *field = "Access-Control-Request-Method";
        snprintf(why, why_size,
                 "a preflight must ask for %s (Access-Control-Request-Method: %.32s)", route_method,
                 request_method ? request_method : "none");
        return false;
    }
    const char *p = request_headers ? request_headers : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed && !header_allowed(p, trimmed)) {
            *field = "Access-Control-Request-Headers";
            snprintf(why, why_size, "the header %.*s may not be sent here; allowed: %s",
                     (int)(trimmed > 64 ? 64 : trimmed), p, CORS_ALLOW_HEADERS);
            return false;
        }
        p += len;
    }
    return true;
}
