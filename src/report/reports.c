/*
 * reports.c - every report of reports.h: one pass over the store's rows
 * (store_reports.h), aggregation in memory, figures from core/report.h,
 * and the one JSON document both the API and the CLI show.
 *
 * Speed-to-lead keeps each assignment's three durations in flat arrays and
 * a group index per dimension (team, rep, source, policy); each group's
 * durations are then gathered by a counting sort and summarised by
 * selection, so a million assignments cost a few linear passes and about
 * 40 bytes each. Counting reports (SLA, acceptance, fairness) keep only
 * counters per group. Groups are named by strings from the store, interned
 * in a small hash table per dimension.
 */
#include "report/reports.h"

#include "core/report.h"
#include "core/routing.h"
#include "core/strategy.h"
#include "store/store_reports.h"
#include "util/hash.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX     65536    /* distinct values of one dimension */
#define ROWS_MAX       50000000 /* assignments or leads one report reads */
#define PROGRESS_EVERY 200000
#define DARK_LIST      20 /* leads listed per kind of dark lead */

const char *const reports_names[] = {"speed-to-lead", "sla",        "acceptance", "funnel",
                                     "fairness",      "dark-leads", "routing",    NULL};

bool reports_known(const char *name)
{
    for (size_t i = 0; reports_names[i]; i++)
        if (!strcmp(reports_names[i], name))
            return true;
    return false;
}

/* ---- interned group names ---------------------------------------------- */

struct groups {
    char **names; /* by index */
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 empty */
    uint32_t n_slots;
};

static void groups_release(struct groups *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        free(g->names[i]);
    free(g->names);
    free(g->slots);
    *g = (struct groups){0};
}

/* The index of `name` ("" for NULL), added when new; UINT32_MAX when full. */
static uint32_t groups_index(struct groups *g, const char *name)
{
    if (!name)
        name = "";
    if (g->n_slots == 0 || (g->n + 1) * 2 > g->n_slots) {
        uint32_t ns = g->n_slots ? g->n_slots * 2 : 64;
        uint32_t *slots = xcalloc(ns, sizeof(*slots));
        for (uint32_t i = 0; i < g->n; i++) {
            uint32_t h = (uint32_t)hash_fnv1a_text(g->names[i]) & (ns - 1);
            while (slots[h])
                h = (h + 1) & (ns - 1);
            slots[h] = i + 1;
        }
        free(g->slots);
        g->slots = slots;
        g->n_slots = ns;
    }
    uint32_t h = (uint32_t)hash_fnv1a_text(name) & (g->n_slots - 1);
    while (g->slots[h]) {
        if (!strcmp(g->names[g->slots[h] - 1], name))
            return g->slots[h] - 1;
        h = (h + 1) & (g->n_slots - 1);
    }
    if (g->n >= GROUPS_MAX)
        return UINT32_MAX;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 32;
        g->names = xrealloc(g->names, g->cap * sizeof(*g->names));
    }
    g->names[g->n] = xstrdup(name);
    g->slots[h] = g->n + 1;
    return g->n++;
}

/* ---- JSON helpers --------------------------------------------------------- */

static json_t *seconds(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

static json_t *fraction(int64_t num, int64_t den)
{
    double r = report_rate(num, den);
    return r < 0 ? json_null() : json_real(round(r * 10000.0) / 10000.0);
}

static json_t *name_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[RFC3339_MAX];
    time_format_rfc3339(ms, buf);
    return json_string(buf);
}

/* A table {"name", "columns", "rows": []} appended to tables; returns rows. */
static json_t *table_add(json_t *tables, const char *name, const char *const *columns)
{
    json_t *cols = json_array();
    for (size_t i = 0; columns[i]; i++)
        json_array_append_new(cols, json_string(columns[i]));
    json_t *rows = json_array();
    json_array_append_new(
        tables, json_pack("{s:s, s:o, s:o}", "name", name, "columns", cols, "rows", rows));
    return rows;
}

/* ---- the report's context --------------------------------------------------- */

struct run {
    struct store_conn *c;
    const struct config *cfg;
    const struct reports_query *q;
    struct store_report_filter f;
    reports_progress_fn progress;
    void *cls;
    int64_t rows;
    bool too_many;
};

static void tick(struct run *r, const char *stage)
{
    if (++r->rows % PROGRESS_EVERY == 0 && r->progress)
        r->progress(r->cls, stage, r->rows);
}

static const char *team_of(const struct config *cfg, const char *rep_id)
{
    if (!cfg || !rep_id)
        return NULL;
    const struct config_rep *rep = config_find_rep(cfg, rep_id);
    return rep ? rep->team : NULL;
}

/* ---- speed-to-lead ------------------------------------------------------------ */

enum { DIM_TEAM, DIM_REP, DIM_SOURCE, DIM_POLICY, DIM_COUNT };
enum { M_SYSTEM, M_ACCEPT, M_CONTACT, M_COUNT };

static const char *const dim_names[DIM_COUNT] = {"team", "rep", "source", "policy"};
static const char *const measure_names[M_COUNT] = {"intake_to_assigned", "assigned_to_accepted",
                                                   "accepted_to_contacted"};

/* Floor of ms / a day. */
static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / STORE_REPORT_DAY_MS
                   : -((-ms + STORE_REPORT_DAY_MS - 1) / STORE_REPORT_DAY_MS);
}

/*
 * Whether the window is read from the daily summaries (schema v10): the
 * whole UTC days inside it, [*first, *end) in ms, from the summaries, the
 * hours before and after row by row. False with q->raw, or when no whole
 * day fits: every row then.
 */
static bool window_days(const struct run *r, int64_t *first, int64_t *end)
{
    *first = (day_of(r->f.since - 1) + 1) * STORE_REPORT_DAY_MS;
    *end = day_of(r->f.until) * STORE_REPORT_DAY_MS;
    return !r->q->raw && *first < *end;
}

/* Reads the rows of the window outside [first, end) with row_fn. */
static bt_err walk_edges(struct run *r, const struct store_report_filter *base, int64_t first,
                         int64_t end, store_report_assignment_fn row_fn, void *cls,
                         struct bt_error *err)
{
    struct store_report_filter f = *base;
    f.until = first;
    bt_err e = BT_OK;
    if (!r->too_many && f.since < f.until)
        e = store_report_assignments(r->c, &f, row_fn, cls, err);
    f.since = end;
    f.until = base->until;
    if (!e && !r->too_many && f.since < f.until)
        e = store_report_assignments(r->c, &f, row_fn, cls, err);
    return e;
}

/* Durations are kept per measure as (value, cell): a cell is one (rep,
 * source, policy) and knows its group in each dimension. */
struct speed {
    struct run *run;
    int64_t assignments;
    int64_t *val[M_COUNT];
    uint32_t *cell[M_COUNT];
    size_t n[M_COUNT], cap[M_COUNT];
    struct groups cells;
    uint32_t *cell_gid[DIM_COUNT];
    size_t cell_cap;
    struct groups groups[DIM_COUNT];
};

/* The cell of (rep, source, policy), added when new; UINT32_MAX when full. */
static uint32_t speed_cell(struct speed *s, const char *rep, const char *source, const char *policy)
{
    char key[3 * 130];
    snprintf(key, sizeof(key), "%.128s\x1f%.128s\x1f%.128s", rep ? rep : "", source ? source : "",
             policy ? policy : "");
    uint32_t before = s->cells.n, c = groups_index(&s->cells, key);
    if (c == UINT32_MAX || c < before)
        return c;
    if (c >= s->cell_cap) {
        s->cell_cap = (c + 1) * 2;
        for (int d = 0; d < DIM_COUNT; d++)
            s->cell_gid[d] = xrealloc(s->cell_gid[d], s->cell_cap * sizeof(uint32_t));
    }
    const char *names[DIM_COUNT] = {team_of(s->run->cfg, rep), rep, source, policy};
    for (int d = 0; d < DIM_COUNT; d++) {
        s->cell_gid[d][c] = groups_index(&s->groups[d], names[d]);
        if (s->cell_gid[d][c] == UINT32_MAX)
            return UINT32_MAX;
    }
    return c;
}

static bool speed_push(struct speed *s, int m, uint32_t cell, int64_t v)
{
    if (s->n[m] == s->cap[m]) {
        if (s->cap[m] >= ROWS_MAX)
            return false;
        s->cap[m] = s->cap[m] ? s->cap[m] * 2 : 4096;
        s->val[m] = xrealloc(s->val[m], s->cap[m] * sizeof(int64_t));
        s->cell[m] = xrealloc(s->cell[m], s->cap[m] * sizeof(uint32_t));
    }
    s->val[m][s->n[m]] = v;
    s->cell[m][s->n[m]++] = cell;
    return true;
}

/* One assignment's three durations (docs/metrics.md); speed_days (schema
 * v10, store/store_sqlite.c) measures the same in SQL. A duration the
 * clocks made negative counts as no time. */
static int speed_row(void *cls, const struct store_report_assignment *a)
{
    struct speed *s = cls;
    tick(s->run, "assignments");
    uint32_t cell = speed_cell(s, a->rep_id, a->source, a->policy);
    if (cell == UINT32_MAX) {
        s->run->too_many = true;
        return 1;
    }
    s->assignments++;
    bool withdrawn = a->status && !strcmp(a->status, "withdrawn");
    bool measured[M_COUNT] = {a->attempt == 1 && !withdrawn && a->lead_created_at,
                              a->accepted_at != 0, a->contacted_at && a->accepted_at};
    int64_t v[M_COUNT] = {a->assigned_at - a->lead_created_at, a->accepted_at - a->assigned_at,
                          a->contacted_at - a->accepted_at};
    for (int m = 0; m < M_COUNT; m++)
        if (measured[m] && !speed_push(s, m, cell, v[m] < 0 ? 0 : v[m])) {
            s->run->too_many = true;
            return 1;
        }
    return 0;
}

static int speed_day(void *cls, const struct store_report_speed_day *d)
{
    struct speed *s = cls;
    tick(s->run, "days of assignments");
    uint32_t cell = speed_cell(s, d->rep_id, d->source, d->policy);
    if (cell == UINT32_MAX) {
        s->run->too_many = true;
        return 1;
    }
    s->assignments += d->count;
    for (int m = 0; m < M_COUNT; m++)
        for (size_t k = 0; k < d->n_values[m]; k++)
            if (!speed_push(s, m, cell, d->values[m][k])) {
                s->run->too_many = true;
                return 1;
            }
    return 0;
}

static void speed_release(struct speed *s)
{
    for (int m = 0; m < M_COUNT; m++) {
        free(s->val[m]);
        free(s->cell[m]);
    }
    for (int d = 0; d < DIM_COUNT; d++) {
        free(s->cell_gid[d]);
        groups_release(&s->groups[d]);
    }
    groups_release(&s->cells);
}

static uint32_t *groups_by_name(const struct groups *g);

static json_t *durations_row(const char *dim, const char *value, const char *measure,
                             const struct report_durations *d)
{
    json_t *row = json_array();
    json_array_append_new(row, json_string(dim));
    json_array_append_new(row, name_or_null(value));
    json_array_append_new(row, json_string(measure));
    json_array_append_new(row, json_integer((json_int_t)d->count));
    if (d->count) {
        json_array_append_new(row, seconds(d->p50));
        json_array_append_new(row, seconds(d->p90));
        json_array_append_new(row, seconds(d->p95));
        json_array_append_new(row, seconds(d->max));
    } else {
        for (int k = 0; k < 4; k++)
            json_array_append_new(row, json_null());
    }
    json_array_append_new(row, fraction((int64_t)d->within_5m, (int64_t)d->count));
    json_array_append_new(row, fraction((int64_t)d->within_30m, (int64_t)d->count));
    json_array_append_new(row, fraction((int64_t)d->within_1h, (int64_t)d->count));
    return row;
}

static json_t *durations_json(const struct report_durations *d)
{
    if (!d->count)
        return json_pack("{s:i, s:n, s:n, s:n, s:n, s:n, s:n, s:n}", "count", 0, "p50", "p90",
                         "p95", "max", "within_5m", "within_30m", "within_1h");
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count", (json_int_t)d->count,
                     "p50", seconds(d->p50), "p90", seconds(d->p90), "p95", seconds(d->p95), "max",
                     seconds(d->max), "within_5m",
                     fraction((int64_t)d->within_5m, (int64_t)d->count), "within_30m",
                     fraction((int64_t)d->within_30m, (int64_t)d->count), "within_1h",
                     fraction((int64_t)d->within_1h, (int64_t)d->count));
}

static const char *const speed_columns[] = {"by",        "value",      "measure",   "count",
                                            "p50_s",     "p90_s",      "p95_s",     "max_s",
                                            "within_5m", "within_30m", "within_1h", NULL};

static bt_err report_speed(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    struct speed s = {.run = r};
    int64_t first, end;
    bt_err e;
    if (window_days(r, &first, &end)) {
        e = store_report_speed_days(r->c, &r->f, speed_day, &s, err);
        if (!e)
            e = walk_edges(r, &r->f, first, end, speed_row, &s, err);
    } else {
        e = store_report_assignments(r->c, &r->f, speed_row, &s, err);
    }
    if (!e && r->too_many)
        e = bt_fail(err, BT_ETOOBIG, NULL, "speed-to-lead: too many assignments or groups");
    if (!e) {
        size_t most = 1;
        for (int m = 0; m < M_COUNT; m++)
            most = s.n[m] > most ? s.n[m] : most;
        int64_t *scratch = xmalloc(most * sizeof(*scratch));
        json_t *rows = table_add(tables, "speed_to_lead", speed_columns);
        /* the whole window */
        for (int m = 0; m < M_COUNT; m++) {
            if (s.n[m])
                memcpy(scratch, s.val[m], s.n[m] * sizeof(*scratch));
            struct report_durations d;
            report_durations_of(scratch, s.n[m], &d);
            json_object_set_new(summary, measure_names[m], durations_json(&d));
            json_array_append_new(rows, durations_row("all", NULL, measure_names[m], &d));
        }
        json_object_set_new(summary, "assignments", json_integer((json_int_t)s.assignments));
        for (int dim = 0; dim < DIM_COUNT; dim++) {
            uint32_t ng = s.groups[dim].n;
            if (dim == DIM_TEAM && !r->cfg)
                continue;
            uint32_t *order = groups_by_name(&s.groups[dim]);
            size_t *offs = xcalloc(ng + 1, sizeof(*offs));
            size_t *pos = xmalloc((ng ? ng : 1) * sizeof(*pos));
            const uint32_t *gid = s.cell_gid[dim];
            for (int m = 0; m < M_COUNT; m++) {
                /* counting sort of the measure's durations by group */
                memset(offs, 0, (ng + 1) * sizeof(*offs));
                for (size_t i = 0; i < s.n[m]; i++)
                    offs[gid[s.cell[m][i]] + 1]++;
                for (uint32_t g = 0; g < ng; g++)
                    offs[g + 1] += offs[g];
                memcpy(pos, offs, ng * sizeof(*pos));
                for (size_t i = 0; i < s.n[m]; i++)
                    scratch[pos[gid[s.cell[m][i]]]++] = s.val[m][i];
                for (uint32_t k = 0; k < ng; k++) {
                    uint32_t g = order[k];
                    struct report_durations d;
                    report_durations_of(scratch + offs[g], offs[g + 1] - offs[g], &d);
                    json_array_append_new(rows,
                                          durations_row(dim_names[dim], s.groups[dim].names[g],
                                                        measure_names[m], &d));
                }
            }
            free(pos);
            free(offs);
            free(order);
        }
        free(scratch);
    }
    speed_release(&s);
    return e;
}

/* ---- SLA compliance and acceptance: counters per group ----------------------- */

/* the classes of store_reports.h (assignment_days counts the same) */
enum {
    C_ROWS = STORE_COUNT_OFFERED,
    C_WITH_SLA = STORE_COUNT_WITH_SLA,
    C_MET = STORE_COUNT_MET,
    C_BREACHED = STORE_COUNT_BREACHED,
    C_OPEN = STORE_COUNT_OPEN,
    C_REMINDED = STORE_COUNT_REMINDED,
    C_ESCALATED = STORE_COUNT_ESCALATED,
    C_REASSIGNED = STORE_COUNT_BREACH_EXPIRED, /* breached and taken back */
    C_ACCEPTED = STORE_COUNT_ACCEPTED,
    C_REJECTED = STORE_COUNT_REJECTED,
    C_EXPIRED = STORE_COUNT_EXPIRED,
    C_REASSIGNED_ANY = STORE_COUNT_REASSIGNED, /* closed as reassigned */
    C_WITHDRAWN = STORE_COUNT_WITHDRAWN,
    C_PENDING = STORE_COUNT_PENDING, /* pending or offered */
    C_TAKEN = STORE_COUNT_NOT_WITHDRAWN,
    C_COUNT = STORE_COUNT_CLASSES
};

struct counts {
    struct run *run;
    struct groups groups[DIM_COUNT];
    int64_t (*c[DIM_COUNT])[C_COUNT];
    uint32_t cap[DIM_COUNT];
    int64_t all[C_COUNT];
    /* rejections per (rep, reason) */
    struct groups reasons;
    struct reject {
        uint32_t rep, reason;
        int64_t count;
        const char *rep_name, *reason_name; /* set before sorting */
    } * rej;
    size_t n_rej, cap_rej;
};

static bool is(const char *s, const char *v)
{
    return s && !strcmp(s, v);
}

/* The classes one assignment counts in; assignment_days (schema v10,
 * store/store_sqlite.c) classifies the same way in SQL. */
static void count_into(int64_t *c, const struct store_report_assignment *a, unsigned steps)
{
    c[C_ROWS]++;
    c[C_TAKEN] += !is(a->status, "withdrawn");
    if (a->policy) {
        c[C_WITH_SLA]++;
        if (a->breached_at) {
            c[C_BREACHED]++;
            c[C_REMINDED] += (steps & STORE_STEP_REMINDED) != 0;
            c[C_ESCALATED] += (steps & STORE_STEP_ESCALATED) != 0;
            c[C_REASSIGNED] += is(a->status, "expired");
        } else if (a->accepted_at) {
            c[C_MET]++;
        } else if (is(a->status, "pending") || is(a->status, "offered")) {
            c[C_OPEN]++;
        }
    }
    if (a->accepted_at)
        c[C_ACCEPTED]++;
    else if (is(a->status, "rejected"))
        c[C_REJECTED]++;
    else if (is(a->status, "expired"))
        c[C_EXPIRED]++;
    else if (is(a->status, "reassigned"))
        c[C_REASSIGNED_ANY]++;
    else if (is(a->status, "withdrawn"))
        c[C_WITHDRAWN]++;
    else if (is(a->status, "pending") || is(a->status, "offered"))
        c[C_PENDING]++;
}

/* The counters of `name` in dimension d, added when new; NULL when full. */
static int64_t *count_group(struct counts *s, int d, const char *name, uint32_t *index)
{
    uint32_t g = groups_index(&s->groups[d], name);
    if (g == UINT32_MAX) {
        s->run->too_many = true;
        return NULL;
    }
    if (g >= s->cap[d]) {
        uint32_t ncap = (g + 1) * 2;
        s->c[d] = xrealloc(s->c[d], ncap * sizeof(*s->c[d]));
        memset(s->c[d] + s->cap[d], 0, (ncap - s->cap[d]) * sizeof(*s->c[d]));
        s->cap[d] = ncap;
    }
    if (index)
        *index = g;
    return s->c[d][g];
}

/* Adds `delta` (C_COUNT counters) to the whole and to the groups of a rep,
 * source and policy; 1 when a dimension is full. */
static int count_add(struct counts *s, const char *rep, const char *source, const char *policy,
                     const int64_t *delta)
{
    const char *keys[DIM_COUNT] = {team_of(s->run->cfg, rep), rep, source, policy};
    for (int k = 0; k < C_COUNT; k++)
        s->all[k] += delta[k];
    for (int d = 0; d < DIM_COUNT; d++) {
        int64_t *c = count_group(s, d, keys[d], NULL);
        if (!c)
            return 1;
        for (int k = 0; k < C_COUNT; k++)
            c[k] += delta[k];
    }
    return 0;
}

static int reject_add(void *cls, const char *rep_id, const char *reason_id, int64_t n)
{
    struct counts *s = cls;
    uint32_t rep, reason = groups_index(&s->reasons, reason_id);
    if (!count_group(s, DIM_REP, rep_id, &rep) || reason == UINT32_MAX) {
        s->run->too_many = true;
        return 1;
    }
    size_t k = 0;
    while (k < s->n_rej && (s->rej[k].rep != rep || s->rej[k].reason != reason))
        k++;
    if (k == s->n_rej) {
        if (s->n_rej == s->cap_rej) {
            s->cap_rej = s->cap_rej ? s->cap_rej * 2 : 64;
            s->rej = xrealloc(s->rej, s->cap_rej * sizeof(*s->rej));
        }
        s->rej[s->n_rej++] = (struct reject){rep, reason, 0, NULL, NULL};
    }
    s->rej[k].count += n;
    return 0;
}

static int count_row(void *cls, const struct store_report_assignment *a)
{
    struct counts *s = cls;
    tick(s->run, "assignments");
    int64_t delta[C_COUNT] = {0};
    count_into(delta, a, a->breached_at ? a->steps : 0);
    if (count_add(s, a->rep_id, a->source, a->policy, delta))
        return 1;
    if (is(a->status, "rejected") && !a->accepted_at)
        return reject_add(s, a->rep_id, a->close_reason, 1);
    return 0;
}

static int count_day(void *cls, const struct store_report_assignment_day *d)
{
    struct counts *s = cls;
    tick(s->run, "days of assignments");
    return count_add(s, d->rep_id, d->source, d->policy, d->count);
}

static void counts_release(struct counts *s)
{
    for (int d = 0; d < DIM_COUNT; d++) {
        groups_release(&s->groups[d]);
        free(s->c[d]);
    }
    groups_release(&s->reasons);
    free(s->rej);
}

/*
 * Walks the window's assignments: the whole UTC days inside it as daily
 * counts (day_fn, and rej_fn for their rejections; schema v10), the hours
 * before the first and after the last whole day row by row (row_fn, with
 * each breach's steps when `steps`). With q->raw, or no whole day inside,
 * every row.
 */
static bt_err walk_assignments(struct run *r, bool steps, store_report_assignment_fn row_fn,
                               store_report_assignment_day_fn day_fn,
                               store_report_rejection_fn rej_fn, void *cls, struct bt_error *err)
{
    struct store_report_filter f = r->f;
    f.steps = steps;
    int64_t first, end;
    if (!window_days(r, &first, &end))
        return store_report_assignments(r->c, &f, row_fn, cls, err);
    bt_err e = store_report_assignment_days(r->c, &r->f, day_fn, cls, err);
    if (!e && rej_fn)
        e = store_report_rejection_days(r->c, &r->f, rej_fn, cls, err);
    return e ? e : walk_edges(r, &f, first, end, row_fn, cls, err);
}

/* Counts the window's assignments; with `steps`, which breaches were
 * escalated or reminded. */
static bt_err read_counts(struct run *r, struct counts *s, bool steps, struct bt_error *err)
{
    *s = (struct counts){.run = r};
    bt_err e = walk_assignments(r, steps, count_row, count_day, reject_add, s, err);
    if (!e && r->too_many)
        e = bt_fail(err, BT_ETOOBIG, NULL, "report: too many groups");
    return e;
}

/* The indexes of g's groups in the order of their names (the same
 * whichever way the rows were read); the caller frees. */
struct named {
    const char *name;
    uint32_t index;
};

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static uint32_t *groups_by_name(const struct groups *g)
{
    struct named *v = xmalloc((g->n ? g->n : 1) * sizeof(*v));
    for (uint32_t i = 0; i < g->n; i++)
        v[i] = (struct named){g->names[i], i};
    if (g->n)
        qsort(v, g->n, sizeof(*v), cmp_named);
    uint32_t *order = xmalloc((g->n ? g->n : 1) * sizeof(*order));
    for (uint32_t i = 0; i < g->n; i++)
        order[i] = v[i].index;
    free(v);
    return order;
}

static json_t *sla_row(const char *dim, const char *value, const int64_t *c)
{
    return json_pack("[s, o, I, I, I, I, o, I, I, I]", dim, name_or_null(value),
                     (json_int_t)c[C_WITH_SLA], (json_int_t)c[C_MET], (json_int_t)c[C_BREACHED],
                     (json_int_t)c[C_OPEN], fraction(c[C_MET], c[C_MET] + c[C_BREACHED]),
                     (json_int_t)c[C_REMINDED], (json_int_t)c[C_ESCALATED],
                     (json_int_t)c[C_REASSIGNED]);
}

static bt_err report_sla(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    struct counts s;
    bt_err e = read_counts(r, &s, true, err);
    if (!e) {
        static const char *const cols[] = {"by",        "value",      "with_sla",   "met",
                                           "breached",  "open",       "compliance", "reminded",
                                           "escalated", "reassigned", NULL};
        json_t *rows = table_add(tables, "sla_compliance", cols);
        json_array_append_new(rows, sla_row("all", NULL, s.all));
        static const int dims[] = {DIM_POLICY, DIM_TEAM, DIM_REP};
        for (size_t k = 0; k < 3; k++) {
            int d = dims[k];
            if (d == DIM_TEAM && !r->cfg)
                continue;
            uint32_t *order = groups_by_name(&s.groups[d]);
            for (uint32_t k2 = 0; k2 < s.groups[d].n; k2++) {
                uint32_t g = order[k2];
                if (d == DIM_POLICY && !*s.groups[d].names[g])
                    continue; /* assignments without a clock */
                json_array_append_new(rows, sla_row(dim_names[d], s.groups[d].names[g], s.c[d][g]));
            }
            free(order);
        }
        json_object_set_new(summary, "with_sla", json_integer(s.all[C_WITH_SLA]));
        json_object_set_new(summary, "met", json_integer(s.all[C_MET]));
        json_object_set_new(summary, "breached", json_integer(s.all[C_BREACHED]));
        json_object_set_new(summary, "open", json_integer(s.all[C_OPEN]));
        json_object_set_new(summary, "compliance",
                            fraction(s.all[C_MET], s.all[C_MET] + s.all[C_BREACHED]));
        json_object_set_new(summary, "breaches_by_step",
                            json_pack("{s:I, s:I, s:I}", "reminded", (json_int_t)s.all[C_REMINDED],
                                      "escalated", (json_int_t)s.all[C_ESCALATED], "reassigned",
                                      (json_int_t)s.all[C_REASSIGNED]));
    }
    counts_release(&s);
    return e;
}

static json_t *acceptance_row(const char *value, const int64_t *c)
{
    int64_t decided = c[C_ACCEPTED] + c[C_REJECTED] + c[C_EXPIRED];
    return json_pack("[o, I, I, I, I, I, I, I, o]", name_or_null(value), (json_int_t)c[C_ROWS],
                     (json_int_t)c[C_ACCEPTED], (json_int_t)c[C_REJECTED], (json_int_t)c[C_EXPIRED],
                     (json_int_t)c[C_REASSIGNED_ANY], (json_int_t)c[C_WITHDRAWN],
                     (json_int_t)c[C_PENDING], fraction(c[C_ACCEPTED], decided));
}

/* by rep, then the most frequent reason first */
static int cmp_reject(const void *a, const void *b)
{
    const struct reject *x = a, *y = b;
    int c = strcmp(x->rep_name, y->rep_name);
    if (c)
        return c;
    if (x->count != y->count)
        return (x->count < y->count) - (x->count > y->count);
    return strcmp(x->reason_name, y->reason_name);
}

static bt_err report_acceptance(struct run *r, json_t *summary, json_t *tables,
                                struct bt_error *err)
{
    struct counts s;
    bt_err e = read_counts(r, &s, false, err);
    if (!e) {
        static const char *const cols[] = {"rep",        "offered",    "accepted",  "rejected",
                                           "expired",    "reassigned", "withdrawn", "pending",
                                           "acceptance", NULL};
        json_t *rows = table_add(tables, "acceptance", cols);
        uint32_t *order = groups_by_name(&s.groups[DIM_REP]);
        for (uint32_t k = 0; k < s.groups[DIM_REP].n; k++)
            json_array_append_new(
                rows, acceptance_row(s.groups[DIM_REP].names[order[k]], s.c[DIM_REP][order[k]]));
        free(order);
        static const char *const rcols[] = {"rep", "reason", "rejected", NULL};
        json_t *rrows = table_add(tables, "rejections", rcols);
        for (size_t k = 0; k < s.n_rej; k++) {
            s.rej[k].rep_name = s.groups[DIM_REP].names[s.rej[k].rep];
            s.rej[k].reason_name = s.reasons.names[s.rej[k].reason];
        }
        if (s.n_rej)
            qsort(s.rej, s.n_rej, sizeof(*s.rej), cmp_reject);
        json_t *by_reason = json_object();
        for (size_t k = 0; k < s.n_rej; k++) {
            const char *reason = s.reasons.names[s.rej[k].reason];
            json_array_append_new(rrows,
                                  json_pack("[s, o, I]", s.groups[DIM_REP].names[s.rej[k].rep],
                                            name_or_null(reason), (json_int_t)s.rej[k].count));
            const char *key = *reason ? reason : "(none)";
            json_t *v = json_object_get(by_reason, key);
            json_object_set_new(by_reason, key,
                                json_integer(json_integer_value(v) + s.rej[k].count));
        }
        int64_t *c = s.all;
        json_object_set_new(summary, "offered", json_integer(c[C_ROWS]));
        json_object_set_new(summary, "accepted", json_integer(c[C_ACCEPTED]));
        json_object_set_new(summary, "rejected", json_integer(c[C_REJECTED]));
        json_object_set_new(summary, "rejected_by_reason", by_reason);
        json_object_set_new(summary, "expired", json_integer(c[C_EXPIRED]));
        json_object_set_new(summary, "reassigned", json_integer(c[C_REASSIGNED_ANY]));
        json_object_set_new(summary, "withdrawn", json_integer(c[C_WITHDRAWN]));
        json_object_set_new(summary, "pending", json_integer(c[C_PENDING]));
        json_object_set_new(summary, "acceptance",
                            fraction(c[C_ACCEPTED], c[C_ACCEPTED] + c[C_REJECTED] + c[C_EXPIRED]));
    }
    counts_release(&s);
    return e;
}

/* ---- funnel and dark leads ---------------------------------------------------- */

enum { S_NEW, S_MQL, S_ASSIGNED, S_ACCEPTED, S_SQL, S_OPPORTUNITY, S_WON, S_COUNT };
static const char *const stage_names[S_COUNT] = {"new", "mql",         "assigned", "accepted",
                                                 "sql", "opportunity", "won"};

struct funnel {
    struct run *run;
    int64_t reached[S_COUNT];
    int64_t *gap[S_COUNT]; /* gap[s]: time from the stage before s to s */
    size_t n_gap[S_COUNT], cap_gap[S_COUNT];
    int64_t *cycle; /* new -> won */
    size_t n_cycle, cap_cycle;
    /* dark leads */
    int64_t qualified, never_accepted, never_contacted;
    json_t *list_accepted, *list_contacted; /* the oldest, up to DARK_LIST each */
    bool no_lists; /* the rows read are not the oldest: the lists are read apart */
};

static void push(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = x;
}

static json_t *dark_item(const struct store_report_funnel *f)
{
    return json_pack("[I, o, o, o, o]", (json_int_t)f->lead_id, time_json(f->created_at),
                     time_json(f->mql_at), name_or_null(f->stage), name_or_null(f->source));
}

static int funnel_row(void *cls, const struct store_report_funnel *f)
{
    struct funnel *s = cls;
    tick(s->run, "leads");
    if (s->run->rows > ROWS_MAX) {
        s->run->too_many = true;
        return 1;
    }
    int64_t at[S_COUNT] = {f->created_at, f->mql_at,         f->assigned_at, f->accepted_at,
                           f->sql_at,     f->opportunity_at, f->won_at};
    /* a stage counts as reached when the lead got there or past it */
    int last = S_NEW;
    for (int k = S_COUNT - 1; k > S_NEW; k--)
        if (at[k]) {
            last = k;
            break;
        }
    for (int k = S_NEW; k <= last; k++)
        s->reached[k]++;
    for (int k = S_MQL; k < S_COUNT; k++)
        if (at[k] && at[k - 1] && at[k] >= at[k - 1])
            push(&s->gap[k], &s->n_gap[k], &s->cap_gap[k], at[k] - at[k - 1]);
    if (f->won_at && f->won_at >= f->created_at)
        push(&s->cycle, &s->n_cycle, &s->cap_cycle, f->won_at - f->created_at);
    /* dark: qualified (mql or past it), never accepted or never contacted;
     * a lead a rep disqualified was looked at, and is not dark */
    if (last >= S_MQL) {
        if (is(f->stage, "disqualified")) {
            s->qualified++;
            return 0;
        }
        s->qualified++;
        bool accepted = last >= S_ACCEPTED;
        if (!accepted) {
            s->never_accepted++;
            if (!s->no_lists && json_array_size(s->list_accepted) < DARK_LIST)
                json_array_append_new(s->list_accepted, dark_item(f));
        }
        if (!f->contacted_at) {
            s->never_contacted++;
            if (!s->no_lists && json_array_size(s->list_contacted) < DARK_LIST)
                json_array_append_new(s->list_contacted, dark_item(f));
        }
    }
    return 0;
}

static void funnel_release(struct funnel *s)
{
    for (int k = 0; k < S_COUNT; k++)
        free(s->gap[k]);
    free(s->cycle);
    json_decref(s->list_accepted);
    json_decref(s->list_contacted);
}

/* One day's leads of one source and owner (funnel_days, schema v10). */
static int funnel_day(void *cls, const struct store_report_funnel_day *d)
{
    struct funnel *s = cls;
    tick(s->run, "days of leads");
    for (int k = S_NEW; k < S_COUNT; k++)
        s->reached[k] += d->count[STORE_FUNNEL_LEADS + k];
    for (int k = S_MQL; k < S_COUNT; k++)
        for (size_t i = 0; i < d->n_values[k - 1]; i++)
            push(&s->gap[k], &s->n_gap[k], &s->cap_gap[k], d->values[k - 1][i]);
    for (size_t i = 0; i < d->n_values[STORE_FUNNEL_TIMES - 1]; i++)
        push(&s->cycle, &s->n_cycle, &s->cap_cycle, d->values[STORE_FUNNEL_TIMES - 1][i]);
    s->qualified += d->count[STORE_FUNNEL_QUALIFIED];
    s->never_accepted += d->count[STORE_FUNNEL_NEVER_ACCEPTED];
    s->never_contacted += d->count[STORE_FUNNEL_NEVER_CONTACTED];
    return 0;
}

static int dark_accepted(void *cls, const struct store_report_funnel *f)
{
    json_array_append_new(((struct funnel *)cls)->list_accepted, dark_item(f));
    return 0;
}

static int dark_contacted(void *cls, const struct store_report_funnel *f)
{
    json_array_append_new(((struct funnel *)cls)->list_contacted, dark_item(f));
    return 0;
}

/* The window's leads: the whole days from funnel_days, the rest row by
 * row; with `lists`, the oldest dark leads too (one short query each
 * when the days were read from the summary). */
static bt_err read_funnel(struct run *r, struct funnel *s, bool lists, struct bt_error *err)
{
    *s = (struct funnel){.run = r, .list_accepted = json_array(), .list_contacted = json_array()};
    int64_t first, end;
    bt_err e;
    if (!window_days(r, &first, &end)) {
        e = store_report_funnel(r->c, &r->f, funnel_row, s, err);
    } else {
        s->no_lists = true;
        e = store_report_funnel_days(r->c, &r->f, funnel_day, s, err);
        struct store_report_filter f = r->f;
        f.until = first;
        if (!e && !r->too_many && f.since < f.until)
            e = store_report_funnel(r->c, &f, funnel_row, s, err);
        f.since = end;
        f.until = r->f.until;
        if (!e && !r->too_many && f.since < f.until)
            e = store_report_funnel(r->c, &f, funnel_row, s, err);
        if (!e && lists)
            e = store_report_dark_leads(r->c, &r->f, false, DARK_LIST, dark_accepted, s, err);
        if (!e && lists)
            e = store_report_dark_leads(r->c, &r->f, true, DARK_LIST, dark_contacted, s, err);
    }
    if (!e && r->too_many)
        e = bt_fail(err, BT_ETOOBIG, NULL, "report: more than %d leads", ROWS_MAX);
    return e;
}

static json_t *median_json(int64_t *v, size_t n)
{
    return n ? seconds(report_percentile(v, n, 0.5)) : json_null();
}

static bt_err report_funnel(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    struct funnel s;
    bt_err e = read_funnel(r, &s, false, err);
    if (!e) {
        static const char *const cols[] = {"stage",    "leads",    "from_previous",
                                           "from_new", "measured", "median_from_previous_s",
                                           NULL};
        json_t *rows = table_add(tables, "funnel", cols);
        for (int k = S_NEW; k < S_COUNT; k++) {
            json_array_append_new(
                rows, json_pack("[s, I, o, o, I, o]", stage_names[k], (json_int_t)s.reached[k],
                                k ? fraction(s.reached[k], s.reached[k - 1]) : json_null(),
                                fraction(s.reached[k], s.reached[S_NEW]),
                                (json_int_t)(k ? s.n_gap[k] : 0),
                                k ? median_json(s.gap[k], s.n_gap[k]) : json_null()));
        }
        json_object_set_new(summary, "leads", json_integer(s.reached[S_NEW]));
        json_object_set_new(summary, "mql_to_sql", fraction(s.reached[S_SQL], s.reached[S_MQL]));
        json_object_set_new(summary, "won", json_integer(s.reached[S_WON]));
        json_object_set_new(summary, "win_rate", fraction(s.reached[S_WON], s.reached[S_NEW]));
        json_object_set_new(summary, "median_cycle_s", median_json(s.cycle, s.n_cycle));
    }
    funnel_release(&s);
    return e;
}

static bt_err report_dark(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    struct funnel s;
    bt_err e = read_funnel(r, &s, true, err);
    struct arena a = ARENA_INIT;
    struct store_report_held *held = NULL;
    size_t n_held = 0;
    if (!e)
        e = store_report_held_longest(r->c, DARK_LIST, &a, &held, &n_held, err);
    if (!e) {
        json_object_set_new(summary, "qualified", json_integer(s.qualified));
        json_object_set_new(summary, "never_accepted", json_integer(s.never_accepted));
        json_object_set_new(summary, "never_contacted", json_integer(s.never_contacted));
        json_object_set_new(summary, "dark_share", fraction(s.never_contacted, s.qualified));
        double value = r->cfg ? r->cfg->reports.lost_lead_value : 0;
        if (value > 0) {
            json_object_set_new(summary, "lost_lead_value", json_real(value));
            json_object_set_new(summary, "estimated_lost_revenue",
                                json_real(round((double)s.never_contacted * value * 100) / 100));
        } else {
            json_object_set_new(summary, "lost_lead_value", json_null());
            json_object_set_new(summary, "estimated_lost_revenue", json_null());
        }
        static const char *const cols[] = {"lead",  "created_at", "qualified_at",
                                           "stage", "source",     NULL};
        json_t *rows = table_add(tables, "never_accepted", cols);
        json_array_extend(rows, s.list_accepted);
        rows = table_add(tables, "never_contacted", cols);
        json_array_extend(rows, s.list_contacted);
        static const char *const hcols[] = {"lead",   "held_since", "reason",
                                            "source", "score",      NULL};
        rows = table_add(tables, "held_longest", hcols);
        for (size_t i = 0; i < n_held; i++)
            json_array_append_new(rows, json_pack("[I, o, s, o, f]", (json_int_t)held[i].lead_id,
                                                  time_json(held[i].since), held[i].reason,
                                                  name_or_null(held[i].source), held[i].score));
    }
    arena_release(&a);
    funnel_release(&s);
    return e;
}

/* ---- fairness ------------------------------------------------------------------- */

struct fair {
    struct run *run;
    struct groups pools, reps;
    struct pair {
        uint32_t pool, rep;
        int64_t count;
    } * pairs;
    size_t n, cap;
    int64_t last_pool_rep[2]; /* a one-entry cache */
    size_t last;
};

/* Adds n assignments of a rep out of a pool. */
static int fair_add(struct fair *s, const char *pool_id, const char *rep_id, int64_t n)
{
    uint32_t p = groups_index(&s->pools, pool_id), rep = groups_index(&s->reps, rep_id);
    if (p == UINT32_MAX || rep == UINT32_MAX) {
        s->run->too_many = true;
        return 1;
    }
    size_t k = s->last;
    if (k >= s->n || s->pairs[k].pool != p || s->pairs[k].rep != rep) {
        for (k = 0; k < s->n && (s->pairs[k].pool != p || s->pairs[k].rep != rep); k++)
            ;
        if (k == s->n) {
            if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 64;
                s->pairs = xrealloc(s->pairs, s->cap * sizeof(*s->pairs));
            }
            s->pairs[s->n++] = (struct pair){p, rep, 0};
        }
    }
    s->pairs[k].count += n;
    s->last = k;
    return 0;
}

static int fair_row(void *cls, const struct store_report_assignment *a)
{
    struct fair *s = cls;
    tick(s->run, "assignments");
    /* a lead's share: its assignments out of a pool, broadcast offers others
     * took (withdrawn) left out */
    if (!a->pool_id || is(a->status, "withdrawn"))
        return 0;
    return fair_add(s, a->pool_id, a->rep_id, 1);
}

static int fair_day(void *cls, const struct store_report_assignment_day *d)
{
    struct fair *s = cls;
    tick(s->run, "days of assignments");
    if (!*d->pool_id || !d->count[C_TAKEN])
        return 0;
    return fair_add(s, d->pool_id, d->rep_id, d->count[C_TAKEN]);
}

static int64_t fair_count(const struct fair *s, const char *pool, const char *rep)
{
    for (size_t k = 0; k < s->n; k++)
        if (!strcmp(s->pools.names[s->pairs[k].pool], pool) &&
            !strcmp(s->reps.names[s->pairs[k].rep], rep))
            return s->pairs[k].count;
    return 0;
}

static bt_err report_fairness(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    if (!r->cfg)
        return bt_fail(err, BT_EINVAL, NULL, "the fairness report needs the configuration");
    struct fair s = {.run = r};
    bt_err e = walk_assignments(r, false, fair_row, fair_day, NULL, &s, err);
    if (!e && r->too_many)
        e = bt_fail(err, BT_ETOOBIG, NULL, "fairness: too many groups");
    if (!e) {
        static const char *const cols[] = {
            "pool",           "strategy", "absence",      "rep",       "weight", "counted",
            "expected_share", "leads",    "actual_share", "deviation", NULL};
        json_t *rows = table_add(tables, "fairness", cols);
        json_t *pools = json_object();
        const struct routing_config *rc = &r->cfg->routing;
        for (size_t p = 0; p < rc->n_pools; p++) {
            const struct routing_pool *pool = &rc->pools[p];
            if (r->q->pool && strcmp(r->q->pool, pool->id) != 0)
                continue;
            size_t n = pool->n_members;
            double *w = xcalloc(n ? n : 1, sizeof(double));
            double *share = xcalloc(n ? n : 1, sizeof(double));
            bool *in = xcalloc(n ? n : 1, sizeof(bool));
            int64_t total = 0;
            int64_t *got = xcalloc(n ? n : 1, sizeof(int64_t));
            for (size_t i = 0; i < n; i++) {
                const struct config_rep *rep = &r->cfg->reps[pool->members[i]];
                w[i] = rep->weight;
                /* an inactive rep is owed nothing */
                in[i] = rep->active;
                got[i] = fair_count(&s, pool->id, rep->id);
                total += got[i];
            }
            bool equal =
                pool->strategy == STRATEGY_ROUND_ROBIN || pool->strategy == STRATEGY_LOAD_BALANCED;
            report_expected_shares(w, in, n, equal, share);
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
                const struct config_rep *rep = &r->cfg->reps[pool->members[i]];
                double actual = total ? (double)got[i] / (double)total : 0;
                double dev = actual - share[i];
                if (fabs(dev) > fabs(worst))
                    worst = dev;
                json_array_append_new(
                    rows,
                    json_pack("[s, s, s, s, f, b, f, I, o, o]", pool->id,
                              strategy_name(pool->strategy), absence_policy_name(pool->absence),
                              rep->id, w[i], in[i], round(share[i] * 10000) / 10000,
                              (json_int_t)got[i], fraction(got[i], total),
                              total ? json_real(round(dev * 10000) / 10000) : json_null()));
            }
            json_object_set_new(
                pools, pool->id,
                json_pack("{s:I, s:o}", "leads", (json_int_t)total, "max_deviation",
                          total ? json_real(round(worst * 10000) / 10000) : json_null()));
            free(w);
            free(share);
            free(in);
            free(got);
        }
        json_object_set_new(summary, "pools", pools);
    }
    groups_release(&s.pools);
    groups_release(&s.reps);
    free(s.pairs);
    return e;
}

/* ---- routing -------------------------------------------------------------------- */

static void add_count(json_t *obj, const char *key, const char *result, int64_t n)
{
    const char *k = key ? key : "";
    json_t *row = json_object_get(obj, k);
    if (!row) {
        row = json_object();
        json_object_set_new(obj, k, row);
    }
    json_object_set_new(row, result,
                        json_integer(json_integer_value(json_object_get(row, result)) + n));
    json_object_set_new(row, "total",
                        json_integer(json_integer_value(json_object_get(row, "total")) + n));
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A table of obj's rows, in the order of their keys (the same whichever
 * way the decisions were read). */
static void count_table(json_t *tables, const char *name, const char *key_column, json_t *obj)
{
    const char *cols[] = {key_column, "decisions", "assigned", "offered", "held", "other", NULL};
    json_t *rows = table_add(tables, name, cols);
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        keys[i++] = k;
    }
    if (n)
        qsort(keys, n, sizeof(*keys), cmp_text);
    for (i = 0; i < n; i++) {
        v = json_object_get(obj, keys[i]);
        int64_t total = json_integer_value(json_object_get(v, "total"));
        int64_t assigned = json_integer_value(json_object_get(v, "assigned"));
        int64_t offered = json_integer_value(json_object_get(v, "offered"));
        int64_t held = json_integer_value(json_object_get(v, "held"));
        json_array_append_new(rows, json_pack("[o, I, I, I, I, I]", name_or_null(keys[i]),
                                              (json_int_t)total, (json_int_t)assigned,
                                              (json_int_t)offered, (json_int_t)held,
                                              (json_int_t)(total - assigned - offered - held)));
    }
    free(keys);
}

/* Decisions are counted per (result, rule, pool, rep), interned as one
 * key with unit separators, and split into the tables afterwards. */
struct routing {
    struct run *run;
    struct groups keys;
    int64_t *counts;
    uint32_t cap;
};

/* Adds n decisions of one result, rule, pool and rep (NULL or "": none). */
static int routing_add(struct routing *s, const char *result, const char *rule, const char *pool,
                       const char *rep, int64_t n)
{
    char key[4 * 130];
    snprintf(key, sizeof(key), "%.128s\x1f%.128s\x1f%.128s\x1f%.128s", result ? result : "",
             rule ? rule : "", pool ? pool : "", rep ? rep : "");
    uint32_t g = groups_index(&s->keys, key);
    if (g == UINT32_MAX) {
        s->run->too_many = true;
        return 1;
    }
    if (g >= s->cap) {
        uint32_t ncap = (g + 1) * 2;
        s->counts = xrealloc(s->counts, ncap * sizeof(*s->counts));
        memset(s->counts + s->cap, 0, (ncap - s->cap) * sizeof(*s->counts));
        s->cap = ncap;
    }
    s->counts[g] += n;
    return 0;
}

static int routing_row(void *cls, const struct store_report_decision *d)
{
    struct routing *s = cls;
    tick(s->run, "decisions");
    return routing_add(s, d->result, d->rule, d->pool_id, d->rep_id, 1);
}

static int routing_day(void *cls, const struct store_report_decision_day *d)
{
    struct routing *s = cls;
    tick(s->run, "days of decisions");
    return routing_add(s, d->result, d->rule, d->pool_id, d->rep_id, d->count);
}

/* The window's decisions: the whole days from decision_days, the rest
 * (and everything with q->raw) row by row. */
static bt_err walk_decisions(struct run *r, struct routing *rt, struct bt_error *err)
{
    struct store_report_filter f = r->f;
    int64_t first, end;
    if (!window_days(r, &first, &end))
        return store_report_decisions(r->c, &f, routing_row, rt, err);
    bt_err e = store_report_decision_days(r->c, &f, routing_day, rt, err);
    f.until = first;
    if (!e && !r->too_many && f.since < f.until)
        e = store_report_decisions(r->c, &f, routing_row, rt, err);
    f.since = end;
    f.until = r->f.until;
    if (!e && !r->too_many && f.since < f.until)
        e = store_report_decisions(r->c, &f, routing_row, rt, err);
    return e;
}

static bt_err report_routing(struct run *r, json_t *summary, json_t *tables, struct bt_error *err)
{
    struct arena a = ARENA_INIT;
    struct routing rt = {.run = r};
    struct store_report_hold_group *h = NULL;
    size_t nh = 0;
    bt_err e = walk_decisions(r, &rt, err);
    if (!e && r->too_many)
        e = bt_fail(err, BT_ETOOBIG, NULL, "routing: too many groups of decisions");
    if (!e)
        e = store_report_holds(r->c, &a, &h, &nh, err);
    if (!e) {
        json_t *by_rule = json_object(), *by_pool = json_object(), *by_rep = json_object(),
               *by_result = json_object();
        int64_t total = 0;
        for (uint32_t i = 0; i < rt.keys.n; i++) {
            /* result, rule, pool, rep: "" for none */
            char *parts[4], *p = rt.keys.names[i];
            for (int k = 0; k < 4; k++) {
                parts[k] = p;
                p = strchr(p, '\x1f');
                if (p)
                    *p++ = '\0';
                else
                    p = parts[k] + strlen(parts[k]);
            }
            int64_t n = rt.counts[i];
            const char *res = parts[0];
            const char *known =
                !strcmp(res, "assigned") || !strcmp(res, "offered") || !strcmp(res, "held")
                    ? res
                    : "other";
            add_count(by_rule, parts[1], known, n);
            add_count(by_pool, parts[2], known, n);
            add_count(by_rep, parts[3], known, n);
            json_object_set_new(
                by_result, res,
                json_integer(json_integer_value(json_object_get(by_result, res)) + n));
            total += n;
        }
        count_table(tables, "by_rule", "rule", by_rule);
        count_table(tables, "by_pool", "pool", by_pool);
        count_table(tables, "by_target", "rep", by_rep);
        static const char *const hcols[] = {"reason", "held_now", "oldest_since", NULL};
        json_t *rows = table_add(tables, "holds_by_reason", hcols);
        int64_t held_now = 0;
        for (size_t i = 0; i < nh; i++) {
            json_array_append_new(rows, json_pack("[s, I, o]", h[i].reason, (json_int_t)h[i].count,
                                                  time_json(h[i].oldest_since)));
            held_now += h[i].count;
        }
        json_object_set_new(summary, "decisions", json_integer(total));
        json_object_set_new(summary, "by_result", by_result);
        json_object_set_new(summary, "held_now", json_integer(held_now));
        json_decref(by_rule);
        json_decref(by_pool);
        json_decref(by_rep);
    }
    groups_release(&rt.keys);
    free(rt.counts);
    arena_release(&a);
    return e;
}

/* ---- running a report ------------------------------------------------------------ */

static bt_err check_filters(const struct config *cfg, const struct reports_query *q,
                            struct store_report_filter *f, json_t **reps_out, struct bt_error *err)
{
    *reps_out = NULL;
    if (q->since >= q->until)
        return bt_fail(err, BT_EINVAL, "since", "'since' must be before 'until'");
    f->since = q->since;
    f->until = q->until;
    f->pool = q->pool;
    f->source = q->source;
    if (q->team && !cfg)
        return bt_fail(err, BT_EINVAL, "team", "a team filter needs the configuration");
    if (cfg && q->team) {
        bool known = false;
        for (size_t i = 0; i < cfg->n_teams; i++)
            known |= !strcmp(cfg->teams[i].id, q->team);
        if (!known)
            return bt_fail(err, BT_EINVAL, "team", "no such team: %.128s", q->team);
    }
    if (cfg && q->rep && !config_find_rep(cfg, q->rep))
        return bt_fail(err, BT_EINVAL, "rep", "no such rep: %.128s", q->rep);
    if (cfg && q->pool && routing_find_pool(&cfg->routing, q->pool) < 0)
        return bt_fail(err, BT_EINVAL, "pool", "no such pool: %.128s", q->pool);
    if (q->team || q->rep) {
        json_t *reps = json_array();
        if (q->team) {
            for (size_t i = 0; i < cfg->n_reps; i++)
                if (cfg->reps[i].team && !strcmp(cfg->reps[i].team, q->team) &&
                    (!q->rep || !strcmp(q->rep, cfg->reps[i].id)))
                    json_array_append_new(reps, json_string(cfg->reps[i].id));
        } else {
            json_array_append_new(reps, json_string(q->rep));
        }
        char *text = json_dumps(reps, JSON_COMPACT);
        json_decref(reps);
        *reps_out = json_string(text); /* keeps the text alive with the document */
        free(text);
        f->reps_json = json_string_value(*reps_out);
    }
    return BT_OK;
}

bt_err reports_run(struct store_conn *c, const struct config *cfg, const struct reports_query *q,
                   reports_progress_fn progress, void *cls, json_t **out, struct bt_error *err)
{
    *out = NULL;
    if (!q->name || !reports_known(q->name))
        return bt_fail(err, BT_ENOTFOUND, "name",
                       "no such report: %.64s (one of speed-to-lead, "
                       "sla, acceptance, funnel, fairness, dark-leads, "
                       "routing)",
                       q->name ? q->name : "");
    struct run r = {.c = c, .cfg = cfg, .q = q, .progress = progress, .cls = cls};
    json_t *reps;
    bt_err e = check_filters(cfg, q, &r.f, &reps, err);
    if (e)
        return e;
    json_t *summary = json_object(), *tables = json_array();
    const char *n = q->name;
    if (!strcmp(n, "speed-to-lead"))
        e = report_speed(&r, summary, tables, err);
    else if (!strcmp(n, "sla"))
        e = report_sla(&r, summary, tables, err);
    else if (!strcmp(n, "acceptance"))
        e = report_acceptance(&r, summary, tables, err);
    else if (!strcmp(n, "funnel"))
        e = report_funnel(&r, summary, tables, err);
    else if (!strcmp(n, "dark-leads"))
        e = report_dark(&r, summary, tables, err);
    else if (!strcmp(n, "fairness"))
        e = report_fairness(&r, summary, tables, err);
    else
        e = report_routing(&r, summary, tables, err);
    json_decref(reps);
    if (e) {
        json_decref(summary);
        json_decref(tables);
        return e;
    }
    *out =
        json_pack("{s:s, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:o}", "report", n, "since",
                  time_json(q->since), "until", time_json(q->until), "filters", "team",
                  name_or_null(q->team), "rep", name_or_null(q->rep), "pool", name_or_null(q->pool),
                  "source", name_or_null(q->source), "summary", summary, "tables", tables);
    return BT_OK;
}

bool reports_parse_time(const char *s, int64_t now, int64_t *out)
{
    size_t len = strlen(s);
    if (len >= 2 && len <= 8 && strchr("dhm", s[len - 1])) {
        int64_t n = 0;
        for (size_t i = 0; i + 1 < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            n = n * 10 + (s[i] - '0');
        }
        int64_t unit = s[len - 1] == 'd' ? 86400000 : s[len - 1] == 'h' ? 3600000 : 60000;
        *out = now - n * unit;
        return true;
    }
    if (len == 10) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        return time_parse_rfc3339(buf, out);
    }
    return len < 64 && time_parse_rfc3339(s, out);
}

/* ---- rendering ------------------------------------------------------------------ */

/* A cell as text: strings bare, null empty, numbers as JSON writes them. */
static char *cell_text(const json_t *v)
{
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (!v || json_is_null(v))
        return xstrdup("");
    if (json_is_real(v)) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.4g", json_real_value(v));
        double x = json_real_value(v);
        if (fabs(x) >= 1e4)
            snprintf(buf, sizeof(buf), "%.1f", x);
        return xstrdup(buf);
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    return s ? s : xstrdup("");
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void render_table(const json_t *t, enum reports_format format, FILE *f)
{
    const json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    fprintf(f, "# %s\n", json_string_value(json_object_get(t, "name")));
    if (format == REPORTS_CSV) {
        for (size_t j = 0; j < nc; j++) {
            if (j)
                fputc(',', f);
            csv_field(f, json_string_value(json_array_get(cols, j)));
        }
        fputc('\n', f);
        for (size_t i = 0; i < nr; i++) {
            const json_t *row = json_array_get(rows, i);
            for (size_t j = 0; j < nc; j++) {
                char *s = cell_text(json_array_get(row, j));
                if (j)
                    fputc(',', f);
                csv_field(f, s);
                free(s);
            }
            fputc('\n', f);
        }
        return;
    }
    size_t *width = xcalloc(nc ? nc : 1, sizeof(*width));
    for (size_t j = 0; j < nc; j++)
        width[j] = strlen(json_string_value(json_array_get(cols, j)));
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) {
            char *s = cell_text(json_array_get(json_array_get(rows, i), j));
            if (strlen(s) > width[j])
                width[j] = strlen(s);
            free(s);
        }
    for (size_t j = 0; j < nc; j++)
        fprintf(f, "%s%-*s", j ? "  " : "", (int)width[j],
                json_string_value(json_array_get(cols, j)));
    fputc('\n', f);
    for (size_t i = 0; i < nr; i++) {
        for (size_t j = 0; j < nc; j++) {
            const json_t *v = json_array_get(json_array_get(rows, i), j);
            char *s = cell_text(v);
            /* numbers right-aligned, text left */
            fprintf(f, "%s%*s", j ? "  " : "", json_is_number(v) ? (int)width[j] : -(int)width[j],
                    s);
            free(s);
        }
        fputc('\n', f);
    }
    if (!nr)
        fputs("(no rows)\n", f);
    free(width);
}

void reports_render(const json_t *report, enum reports_format format, FILE *f)
{
    if (format == REPORTS_JSON) {
        json_dumpf(report, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        return;
    }
    if (format == REPORTS_TABLE) {
        fprintf(f, "%s from %s to %s\n", json_string_value(json_object_get(report, "report")),
                json_string_value(json_object_get(report, "since")),
                json_string_value(json_object_get(report, "until")));
        char *s =
            json_dumps(json_object_get(report, "summary"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            fprintf(f, "summary: %s\n", s);
        free(s);
    }
    const json_t *tables = json_object_get(report, "tables");
    for (size_t i = 0; i < json_array_size(tables); i++) {
        if (i || format == REPORTS_TABLE)
            fputc('\n', f);
        render_table(json_array_get(tables, i), format, f);
    }
}
