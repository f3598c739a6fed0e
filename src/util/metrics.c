/*
 * metrics.c - the process's metrics (metrics.h) and the text exposition
 * format. The slots are plain integers updated with relaxed atomics; a
 * scrape reads each one atomically, so a figure is never torn, though two
 * figures may be a few updates apart (as with any Prometheus client).
 */
#include "util/metrics.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct metrics metrics = {
    .sla_policies = {.lock = PTHREAD_MUTEX_INITIALIZER},
    .timer_sources = {.lock = PTHREAD_MUTEX_INITIALIZER},
    .delivery_channels = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

const unsigned metrics_statuses[METRICS_STATUSES] = {
    200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403,
    404, 405, 409, 410, 413, 415, 422, 429, 500, 502, 503,
};

#define MS 1000000LL /* ns */
#define S  1000000000LL

/* Latencies of requests and commits: 0.5 ms to 10 s. */
static const int64_t latency_bounds[] = {MS / 2,  MS,      2 * MS,   5 * MS,   10 * MS,
                                         25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS,
                                         S,       2 * S,   5 * S,    10 * S};
/* Commands per group commit (group_commit_max is at most 10000). */
static const int64_t size_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
/* Timer lateness: 1 ms to 5 min (a source is late when the engine is busy
 * or the machine was suspended). */
static const int64_t lateness_bounds[] = {MS, 5 * MS, 10 * MS, 50 * MS, 100 * MS, 500 * MS,
                                          S,  5 * S,  30 * S,  60 * S,  300 * S};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(N_OF(latency_bounds) <= METRICS_BUCKETS_MAX, "latency buckets fit");
_Static_assert(N_OF(size_bounds) <= METRICS_BUCKETS_MAX, "size buckets fit");
_Static_assert(N_OF(lateness_bounds) <= METRICS_BUCKETS_MAX, "lateness buckets fit");

static void set_bounds(struct metrics_histogram *h, const int64_t *b, size_t n)
{
    h->bounds = b;
    h->n_bounds = n;
}

void metrics_init(void)
{
    for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++)
        set_bounds(&metrics.http_duration[i], latency_bounds, N_OF(latency_bounds));
    set_bounds(&metrics.commit_duration, latency_bounds, N_OF(latency_bounds));
    set_bounds(&metrics.commit_size, size_bounds, N_OF(size_bounds));
    set_bounds(&metrics.checkpoint_duration, latency_bounds, N_OF(latency_bounds));
    for (size_t i = 0; i <= METRICS_LABELS_MAX; i++)
        set_bounds(&metrics.timer_lateness[i], lateness_bounds, N_OF(lateness_bounds));
    for (size_t i = 0; i <= METRICS_LABELS_MAX; i++)
        set_bounds(&metrics.delivery_duration[i], latency_bounds, N_OF(latency_bounds));
}

int64_t metrics_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

void metrics_observe(struct metrics_histogram *h, int64_t value)
{
    if (value < 0)
        value = 0;
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i])
        i++;
    __atomic_fetch_add(&h->buckets[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum, (uint64_t)value, __ATOMIC_RELAXED);
}

unsigned metrics_label_slot(struct metrics_labels *set, const char *name)
{
    unsigned n = __atomic_load_n(&set->n, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(set->names[i], name))
            return i;
    if (strlen(name) >= sizeof(set->names[0]))
        return METRICS_LABELS_MAX;
    pthread_mutex_lock(&set->lock);
    unsigned slot = METRICS_LABELS_MAX;
    for (unsigned i = 0; i < set->n && slot == METRICS_LABELS_MAX; i++)
        if (!strcmp(set->names[i], name))
            slot = i;
    if (slot == METRICS_LABELS_MAX && set->n < METRICS_LABELS_MAX) {
        slot = set->n;
        strcpy(set->names[slot], name);
        __atomic_store_n(&set->n, slot + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&set->lock);
    return slot;
}

unsigned metrics_status_slot(unsigned status)
{
    for (unsigned i = 0; i < METRICS_STATUSES; i++)
        if (metrics_statuses[i] == status)
            return i;
    return METRICS_STATUSES;
}

/* ---- text ---- */

void metrics_text_init(struct metrics_text *t, size_t max)
{
    *t = (struct metrics_text){.max = max};
}

void metrics_text_release(struct metrics_text *t)
{
    free(t->buf);
    *t = (struct metrics_text){0};
}

bool metrics_text_ok(const struct metrics_text *t)
{
    return !t->overflow;
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
    if (t->overflow)
        return;
    if (t->len + n + 1 > t->max) {
        t->overflow = true;
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 16384;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->buf = xrealloc(t->buf, cap);
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_(struct metrics_text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void putf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(struct metrics_text *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        BT_BUG("metrics: a formatted piece of %d bytes", n);
    put(t, buf, (size_t)n);
}

void metrics_escape_label(char *out, size_t size, const char *value)
{
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

void metrics_text_family(struct metrics_text *t, const char *name, const char *type,
                         const char *help)
{
    putf(t, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            puts_(t, "\\\\");
        else if (*p == '\n')
            puts_(t, "\\n");
        else
            put(t, p, 1);
    }
    putf(t, "\n# TYPE %s %s\n", name, type);
}

static void put_labels(struct metrics_text *t, const char *const *labels, const char *le)
{
    bool any = (labels && labels[0]) || le;
    if (!any)
        return;
    puts_(t, "{");
    bool first = true;
    for (size_t i = 0; labels && labels[i]; i += 2) {
        char esc[2 * 256 + 1];
        metrics_escape_label(esc, sizeof(esc), labels[i + 1] ? labels[i + 1] : "");
        putf(t, "%s%s=\"", first ? "" : ",", labels[i]);
        puts_(t, esc);
        puts_(t, "\"");
        first = false;
    }
    if (le)
        putf(t, "%sle=\"%s\"", first ? "" : ",", le);
    puts_(t, "}");
}

/* The shortest text that reads back as v; whole numbers as "10", not
 * "1e+01". */
static void format_double(char buf[64], double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
        snprintf(buf, 64, "%lld", (long long)v);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, 64, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            return;
    }
}

static void put_double(struct metrics_text *t, double v)
{
    char buf[64];
    format_double(buf, v);
    puts_(t, buf);
}

void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *labels,
                         double value)
{
    puts_(t, name);
    put_labels(t, labels, NULL);
    puts_(t, " ");
    put_double(t, value);
    puts_(t, "\n");
}

void metrics_text_sample_u64(struct metrics_text *t, const char *name, const char *const *labels,
                             uint64_t value)
{
    puts_(t, name);
    put_labels(t, labels, NULL);
    putf(t, " %llu\n", (unsigned long long)value);
}

void metrics_text_histogram(struct metrics_text *t, const char *name, const char *const *labels,
                            const struct metrics_histogram *h, double divisor)
{
    char series[128];
    uint64_t total = 0;
    for (size_t i = 0; i <= h->n_bounds; i++) {
        total += __atomic_load_n(&h->buckets[i], __ATOMIC_RELAXED);
        char le[64];
        if (i == h->n_bounds)
            strcpy(le, "+Inf");
        else
            format_double(le, (double)h->bounds[i] / divisor);
        snprintf(series, sizeof(series), "%s_bucket", name);
        puts_(t, series);
        put_labels(t, labels, le);
        putf(t, " %llu\n", (unsigned long long)total);
    }
    snprintf(series, sizeof(series), "%s_sum", name);
    metrics_text_sample(t, series, labels,
                        (double)__atomic_load_n(&h->sum, __ATOMIC_RELAXED) / divisor);
    snprintf(series, sizeof(series), "%s_count", name);
    metrics_text_sample_u64(t, series, labels, total);
}
