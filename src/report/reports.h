/*
 * reports.h - the reports of issue 13, computed in one place for the API
 * (GET /v1/reports/{name}) and the CLI (baton report NAME).
 *
 * A report reads its rows from the store (store_reports.h) for one window
 * of time, aggregates them with core/report.h, and answers one JSON
 * document of tables:
 *
 *   {"report": NAME, "since": RFC 3339, "until": RFC 3339,
 *    "filters": {"team", "rep", "pool", "source"},
 *    "summary": {...figures of the whole window...},
 *    "tables": [{"name", "columns": [...], "rows": [[...], ...]}, ...]}
 *
 * Durations are seconds (with milliseconds), shares and rates fractions
 * from 0 to 1 (null where nothing was counted). The same document is
 * printed by the CLI as JSON, or its tables as text or CSV
 * (reports_render). docs/metrics.md says how each figure is computed.
 */
#ifndef BT_REPORTS_H
#define BT_REPORTS_H

#include "config/config.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>

/* "speed-to-lead", "sla", "acceptance", "funnel", "fairness",
 * "dark-leads", "routing", NULL-terminated. */
extern const char *const reports_names[];
bool reports_known(const char *name);

struct reports_query {
    const char *name;     /* one of reports_names */
    int64_t since, until; /* [since, until) in ms; since < until */
    /* filters; NULL: none. team is resolved to its reps through the
     * configuration, rep and pool must be configured (when cfg is set). */
    const char *team, *rep, *pool, *source;
    /* read every row of the window, not the daily counts the counting
     * reports read for its whole days (the same figures: tests compare) */
    bool raw;
};

/* Called now and then on long runs with the rows read so far (for a
 * progress line); may be NULL. */
typedef void (*reports_progress_fn)(void *cls, const char *stage, int64_t rows);

/*
 * Computes the report on a read connection. `cfg` gives teams, reps' teams
 * and weights, pools and reports.lost_lead_value; it may be NULL (no team
 * filter or team column, no fairness). BT_ENOTFOUND for an unknown name,
 * BT_EINVAL naming the field for a bad filter. On success *out is a new
 * reference the caller releases.
 */
bt_err reports_run(struct store_conn *c, const struct config *cfg, const struct reports_query *q,
                   reports_progress_fn progress, void *cls, json_t **out,
                   struct bt_error *err) BT_MUST_USE;

/*
 * A time for since/until: RFC 3339 ("2026-11-01T00:00:00Z"), a date
 * ("2026-11-01", midnight UTC), or an age before `now`: digits and d, h or
 * m ("30d", "12h"). False for anything else.
 */
bool reports_parse_time(const char *s, int64_t now, int64_t *out);
/* The default window: the 30 days up to now. */
#define REPORTS_DEFAULT_DAYS 30

enum reports_format { REPORTS_JSON, REPORTS_TABLE, REPORTS_CSV };
/* Prints a report document to `f`: JSON, aligned text tables, or CSV
 * (each table after a "# name" line, a header row, then the rows). */
void reports_render(const json_t *report, enum reports_format format, FILE *f);

#endif
