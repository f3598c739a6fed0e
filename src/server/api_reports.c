/*
 * api_reports.c - GET /v1/reports/{name}: the reports of report/reports.h
 * over HTTP, for admin keys (a report mixes every rep's work, so a rep key
 * is refused by the route's roles rather than shown a partial one).
 *
 * Query: since, until (RFC 3339, YYYY-MM-DD or an age such as 7d; default
 * the 30 days up to now), team, rep, pool, source. Any other parameter, a
 * repeated one or a bad value is a 400 naming it; an unknown report 404.
 */
#include "report/reports.h"
#include "server/http.h"
#include "util/text.h"

#include <string.h>

struct report_args {
    struct reports_query q;
    const char *since, *until;
    const char *bad, *why;
};

static int report_arg(void *cls, const char *k, const char *v)
{
    struct report_args *a = cls;
    a->bad = k;
    if (!utf8_valid(v, strlen(v)) || text_has_control(v) || strlen(v) > 256) {
        a->why = "is not valid text (at most 256 bytes)";
        return 1;
    }
    const char **slot = !strcmp(k, "since")    ? &a->since
                        : !strcmp(k, "until")  ? &a->until
                        : !strcmp(k, "team")   ? &a->q.team
                        : !strcmp(k, "rep")    ? &a->q.rep
                        : !strcmp(k, "pool")   ? &a->q.pool
                        : !strcmp(k, "source") ? &a->q.source
                                               : NULL;
    if (!slot) {
        a->why = "is not one of since, until, team, rep, pool, source";
        return 1;
    }
    if (*slot) {
        a->why = "is given more than once";
        return 1;
    }
    *slot = v;
    return 0;
}

void api_report_get(struct request *r)
{
    struct report_args a = {.q.name = r->name};
    if (!reports_known(r->name)) {
        reply_error(r, 404, "not_found", "name",
                    "no such report: %.64s (one of speed-to-lead, sla, acceptance, funnel, "
                    "fairness, dark-leads, routing)",
                    r->name);
        return;
    }
    if (request_query_each(r, report_arg, &a)) {
        reply_error(r, 400, "invalid", a.bad, "query parameter '%.64s' %s", a.bad, a.why);
        return;
    }
    int64_t now = clock_now(r->ctx->clock);
    a.q.until = now;
    if (a.until && !reports_parse_time(a.until, now, &a.q.until)) {
        reply_error(r, 400, "invalid", "until",
                    "query parameter 'until' must be an RFC 3339 time, a date (YYYY-MM-DD) or "
                    "an age such as 7d, 12h or 90m");
        return;
    }
    a.q.since = a.q.until - (int64_t)REPORTS_DEFAULT_DAYS * 86400000;
    if (a.since && !reports_parse_time(a.since, now, &a.q.since)) {
        reply_error(r, 400, "invalid", "since",
                    "query parameter 'since' must be an RFC 3339 time, a date (YYYY-MM-DD) or "
                    "an age such as 7d, 12h or 90m");
        return;
    }
    struct store_conn *c;
    if (!request_reader(r, &c))
        return;
    json_t *out = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = reports_run(c, r->cfg, &a.q, NULL, NULL, &out, &err);
    store_reader_release(r->ctx->store, c);
    if (rc == BT_EINVAL) {
        /* a filter naming nothing configured: a bad query, like the others */
        reply_error(r, 400, "invalid", err.field[0] ? err.field : NULL, "%s", err.message);
        return;
    }
    if (rc) {
        reply_bt_error(r, &err);
        return;
    }
    reply_json(r, 200, out);
}
