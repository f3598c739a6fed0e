/*
 * metrics.h - the process's counters, gauges and histograms for /metrics,
 * and a writer of the Prometheus text exposition format (version 0.0.4).
 *
 * Every metric is declared up front in `struct metrics` (one instance,
 * `metrics`, zeroed at load): the label sets are bounded by construction
 * (route indexes of the server's table, status codes from a fixed list,
 * command kinds, at most METRICS_LABELS_MAX names of SLA policies or timer
 * sources with the rest folded into "other"). Updates are relaxed atomic
 * additions on fixed slots: nothing is allocated or locked on the hot path
 * (a name's slot is found under a lock the first time, then by a scan of
 * at most METRICS_LABELS_MAX entries).
 *
 * Histograms keep integer observations (nanoseconds, or items) in fixed
 * buckets that are not cumulative in memory; the writer accumulates them
 * and writes _count as the sum of the buckets it read, so that +Inf always
 * equals _count even when a scrape races an update.
 *
 * The code that owns a figure updates it (server.c: HTTP; engine.c:
 * commands and commits; engine_lead.c, engine_handoff.c: decisions and
 * breaches, after the commit; timers.c: lateness; cli_serve.c: reloads);
 * gauges read from the store at scrape time are api_metrics.c's.
 */
#ifndef BT_METRICS_H
#define BT_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_BUCKETS_MAX 16
#define METRICS_ROUTES_MAX  96 /* server routes; the slot after them: no route matched */
#define METRICS_LABELS_MAX  32 /* names of one label set; more are "other" */
#define METRICS_COMMANDS    16 /* engine command kinds */

struct metrics_histogram {
    const int64_t *bounds; /* upper bounds, ascending, in the observation's unit */
    size_t n_bounds;       /* at most METRICS_BUCKETS_MAX */
    uint64_t buckets[METRICS_BUCKETS_MAX + 1]; /* [n_bounds]: above every bound (+Inf) */
    uint64_t sum;
};

/* Adds one observation (negative counts as 0). Thread-safe, lock-free. */
void metrics_observe(struct metrics_histogram *h, int64_t value);

static inline void metrics_add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void metrics_inc(uint64_t *counter)
{
    metrics_add(counter, 1);
}

/* A bounded set of label values learnt while running (SLA policy names,
 * timer sources). */
struct metrics_labels {
    pthread_mutex_t lock;
    unsigned n; /* read without the lock: slots below n never change */
    char names[METRICS_LABELS_MAX][64];
};

/* The slot of `name` (0 .. n-1), adding it if there is room; a name that
 * does not fit (too long, or the set is full) is slot METRICS_LABELS_MAX,
 * written as "other". */
unsigned metrics_label_slot(struct metrics_labels *set, const char *name);

/* The HTTP statuses counted each on its own; any other counts as "other". */
#define METRICS_STATUSES 22
extern const unsigned metrics_statuses[METRICS_STATUSES];
/* The slot of a status (METRICS_STATUSES for any other). */
unsigned metrics_status_slot(unsigned status);

enum metrics_route_outcome { METRICS_ROUTED_ASSIGNED, METRICS_ROUTED_HELD, METRICS_ROUTED_N };
enum metrics_sla_deadline { METRICS_SLA_ACCEPT, METRICS_SLA_CONTACT, METRICS_SLA_N };
#define METRICS_VERDICTS 4  /* enum delivery_verdict (core/delivery.h) */
#define METRICS_STAGES   10 /* enum lead_stage's STAGE_COUNT (core/lifecycle.h) */

struct metrics {
    /* server.c: per route (and the unmatched slot) */
    uint64_t http_requests[METRICS_ROUTES_MAX + 1][METRICS_STATUSES + 1];
    struct metrics_histogram http_duration[METRICS_ROUTES_MAX + 1]; /* ns */
    /* engine.c */
    struct metrics_histogram commit_size;     /* commands per committed group */
    struct metrics_histogram commit_duration; /* ns, begin .. commit */
    /* engine: decisions of committed commands */
    uint64_t scoring_decisions[METRICS_STAGES]; /* by the stage qualification left */
    uint64_t routing_decisions[METRICS_ROUTED_N];
    struct metrics_labels sla_policies;
    uint64_t sla_breaches[METRICS_LABELS_MAX + 1][METRICS_SLA_N];
    /* timers.c: how late a source ran after its due time (real clock), ns */
    struct metrics_labels timer_sources;
    struct metrics_histogram timer_lateness[METRICS_LABELS_MAX + 1];
    /* cli_serve.c */
    uint64_t config_reloads, config_reload_failures;
    /* deliver/: attempts per channel by verdict (enum delivery_verdict)
     * and their latency (ns); engine_outbox.c: messages that could never go
     * (no address), and channels paused, resumed or disabled */
    struct metrics_labels delivery_channels;
    uint64_t deliveries[METRICS_LABELS_MAX + 1][METRICS_VERDICTS];
    struct metrics_histogram delivery_duration[METRICS_LABELS_MAX + 1];
    uint64_t deliveries_undeliverable;
    uint64_t delivery_channel_changes;
    /* store_sqlite.c: the checkpoint passes (ns; the background
     * checkpointer's and the writer's tail passes), the WAL truncations made
     * while the database was idle, the writer's tail passes that left the
     * WAL wholly copied (so that it restarts), and the WAL's size after the
     * last background pass (bytes; a gauge) */
    struct metrics_histogram checkpoint_duration;
    uint64_t checkpoint_truncations;
    uint64_t wal_restarts;
    uint64_t wal_bytes;
};

extern struct metrics metrics;

/* Sets the bucket bounds of every histogram; once, before any thread
 * observes (baton serve and the tests call it; calling it again is
 * harmless while nothing observes). */
void metrics_init(void);

/* Clock for latencies: CLOCK_MONOTONIC in ns. */
int64_t metrics_now_ns(void);

/* ---- the text exposition format ---- */

/* A growing text, bounded by `max` bytes (past it, metrics_text_ok() is
 * false and nothing more is written). */
struct metrics_text {
    char *buf;
    size_t len, cap, max;
    bool overflow;
};

void metrics_text_init(struct metrics_text *t, size_t max);
void metrics_text_release(struct metrics_text *t);
bool metrics_text_ok(const struct metrics_text *t);

/* "# HELP name help\n# TYPE name type\n" (help escaped). */
void metrics_text_family(struct metrics_text *t, const char *name, const char *type,
                         const char *help);
/*
 * One sample: name{labels} value. `labels` is NULL or alternating names and
 * values, ended by NULL: {"route", "/v1/leads", "status", "200", NULL};
 * values are escaped (\\, \", \n).
 */
void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *labels,
                         double value);
void metrics_text_sample_u64(struct metrics_text *t, const char *name, const char *const *labels,
                             uint64_t value);
/* name_bucket{labels,le="..."} (cumulative) .. +Inf, name_sum, name_count;
 * bounds and the sum are divided by `divisor` (1e9: ns to seconds; a
 * division keeps 30e9 ns exactly "30"). */
void metrics_text_histogram(struct metrics_text *t, const char *name, const char *const *labels,
                            const struct metrics_histogram *h, double divisor);

/* Escapes a label value into out (size >= 2 * strlen + 1 always fits). */
void metrics_escape_label(char *out, size_t size, const char *value);

#endif
