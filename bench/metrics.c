/*
 * bench/metrics.c - what the metrics cost.
 *
 * 1. The hot path: the updates one HTTP request makes (a counter and a
 *    latency histogram: two clock reads, three relaxed atomic additions),
 *    in ns per request, on one thread and on two contending for the same
 *    slots (the worst case: every request on the same route).
 * 2. A scrape's store queries (the hold queue summary and open assignments
 *    by status) against a database with N assignments (default 1,000,000),
 *    1,000 of them open, and 1,000 held leads, in ms per scrape; and the
 *    text writer for every metric slot of a busy process.
 *
 * The data is generated with sqlite3 directly into the store's schema
 * (the bench's only SQL: building a million rows through the engine would
 * take minutes); the queries timed are the store's own.
 *
 *   build/bench/metrics [N]
 */
#include "bench_db.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_routing.h"
#include "util/metrics.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPDATES 5000000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < UPDATES; i++) {
        int64_t t0 = metrics_now_ns();
        metrics_add(&metrics.http_requests[3][metrics_status_slot(201)], 1);
        metrics_observe(&metrics.http_duration[3], metrics_now_ns() - t0);
    }
    return NULL;
}

static double per_update_ns(int threads)
{
    pthread_t t[2];
    int64_t t0 = metrics_now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)(metrics_now_ns() - t0) / UPDATES; /* wall time per request per thread */
}

static int fill(const char *path, long n)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    char *msg = NULL;
    char sql[1024];
    snprintf(
        sql, sizeof(sql),
        "PRAGMA synchronous = OFF; BEGIN;"
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld) "
        "INSERT INTO assignments (lead_id, rep_id, assigned_at, status, closed_at, attempt) "
        "SELECT i, 'rep' || (i %% 50), i * 1000, "
        "CASE WHEN i > %ld THEN (CASE i %% 3 WHEN 0 THEN 'accepted' ELSE 'pending' END) "
        "ELSE (CASE i %% 4 WHEN 0 THEN 'rejected' WHEN 1 THEN 'expired' ELSE 'contacted' END) "
        "END, CASE WHEN i > %ld THEN NULL ELSE i * 1000 + 5 END, 1 FROM k;"
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1000) "
        "INSERT INTO holds (lead_id, reason, score, since) SELECT %ld + i, 'no_rep', i, i FROM k;"
        "COMMIT;",
        n, n - 1000, n - 1000, n);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "bench metrics: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    metrics_init();
    printf("metric updates per HTTP request: %.1f ns (1 thread), %.1f ns (2 threads, same slots)\n",
           per_update_ns(1), per_update_ns(2));

    char path[256];
    snprintf(path, sizeof(path), "/tmp/bench-metrics-%d.db", (int)getpid());
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    struct store *st;
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_open(path, &opts, &st, &err) || store_conn_open(st, &c, &err)) {
        fprintf(stderr, "bench metrics: %s\n", err.message);
        return 1;
    }
    if (fill(path, n)) {
        store_conn_close(c);
        store_close(st);
        return 1;
    }
    int64_t counts[ASSIGNMENT_STATUSES], held = 0, oldest = 0;
    const int rounds = 200;
    int64_t t0 = metrics_now_ns();
    for (int i = 0; i < rounds; i++)
        if (store_hold_summary(c, &held, &oldest, &err) ||
            store_assignment_open_counts(c, counts, &err)) {
            fprintf(stderr, "bench metrics: %s\n", err.message);
            return 1;
        }
    double ms = (double)(metrics_now_ns() - t0) / rounds / 1e6;
    printf("scrape store queries, %ld assignments (1000 open), %lld held: %.3f ms "
           "(open: %lld pending, %lld accepted)\n",
           n, (long long)held, ms, (long long)counts[0], (long long)counts[2]);

    /* the writer over a busy process's slots: every route and status */
    for (size_t r = 0; r < METRICS_ROUTES_MAX; r++)
        for (size_t s = 0; s < 6; s++) {
            metrics_add(&metrics.http_requests[r][s], 1);
            metrics_observe(&metrics.http_duration[r], 1000000);
        }
    t0 = metrics_now_ns();
    size_t bytes = 0;
    for (int i = 0; i < rounds; i++) {
        struct metrics_text t;
        metrics_text_init(&t, 4u << 20);
        for (size_t r = 0; r < METRICS_ROUTES_MAX; r++) {
            char route[32];
            snprintf(route, sizeof(route), "/v1/route/%zu", r);
            const char *labels[] = {"route", route, NULL};
            metrics_text_histogram(&t, "baton_http_request_duration_seconds", labels,
                                   &metrics.http_duration[r], 1e9);
        }
        bytes = t.len;
        metrics_text_release(&t);
    }
    printf("text of %d route histograms: %.3f ms, %zu bytes\n", METRICS_ROUTES_MAX,
           (double)(metrics_now_ns() - t0) / rounds / 1e6, bytes);
    store_conn_close(c);
    store_close(st);
    bench_remove_db(path);
    return 0;
}
