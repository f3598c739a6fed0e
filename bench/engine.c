/*
 * engine.c - the engine and store alone, without HTTP: T threads submit
 * ingest commands for unique leads as fast as the engine commits them.
 * Prints commands/s, commits (group sizes) and p50/p99 submit-to-durable
 * latency, for synchronous=FULL and NORMAL.
 *
 *   build/bench/engine [--threads 32] [--seconds 5] [--dir /tmp]
 */
#include "engine/engine.h"
#include "store/store.h"
#include "util/metrics.h"

#include "bench_db.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct worker {
    struct engine *eng;
    int index;
    int64_t deadline;
    size_t count, cap;
    double *lat_us;
    int failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct arena a = ARENA_INIT;
    char email[64], domain[32];
    for (size_t i = 0; time_monotonic_ms() < w->deadline; i++) {
        snprintf(email, sizeof(email), "user%d.%zu@company%zu.com", w->index, i, i % 500);
        snprintf(domain, sizeof(domain), "company%zu.com", i % 500);
        struct ingest_command c = {0};
        c.lead.attr[LEAD_EMAIL] = email;
        c.lead.attr[LEAD_EMAIL_DOMAIN] = domain;
        c.lead.attr[LEAD_FIRST_NAME] = "Jane";
        c.lead.attr[LEAD_LAST_NAME] = "Doe";
        c.lead.attr[LEAD_COMPANY] = "Company GmbH";
        c.lead.attr[LEAD_COUNTRY] = "DE";
        c.lead.attr[LEAD_SOURCE] = "webinar";
        c.lead.employees = 125;
        c.lead.attr[LEAD_EMPLOYEES_BAND] = "51-200";
        c.lead.fields_json = "{\"utm_campaign\":\"q4\"}";
        c.actor = "key:1";
        c.via = "api";
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct bt_error err = BT_ERROR_INIT;
        if (engine_ingest(w->eng, &c, &a, &err) != BT_OK)
            w->failed++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (w->count == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat_us = xrealloc(w->lat_us, w->cap * sizeof(double));
        }
        w->lat_us[w->count++] =
            (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        arena_release(&a);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run(const char *dir, enum store_sync sync, int threads, int seconds)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/bench-engine-%d.db", dir, (int)getpid());
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.synchronous = sync;
    opts.background_checkpoint = true; /* as baton serve runs it */
    opts.create = true;
    struct store *st;
    struct engine *eng;
    struct bt_error err = BT_ERROR_INIT;
    if (store_open(path, &opts, &st, &err) || engine_start(st, clock_real(), NULL, &eng, &err)) {
        fprintf(stderr, "bench engine: %s\n", err.message);
        return 1;
    }
    struct worker *w = xcalloc((size_t)threads, sizeof(*w));
    pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
    int64_t start = time_monotonic_ms();
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){.eng = eng, .index = i, .deadline = start + seconds * 1000};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].count;
        failed += w[i].failed;
    }
    double elapsed = (double)(time_monotonic_ms() - start) / 1000.0;
    char wal[600];
    struct stat sb;
    snprintf(wal, sizeof(wal), "%s-wal", path);
    uint64_t wal_at_end = stat(wal, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    struct engine_stats stats;
    engine_get_stats(eng, &stats);
    double *all = xmalloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + k, w[i].lat_us, w[i].count * sizeof(double));
        k += w[i].count;
        free(w[i].lat_us);
    }
    qsort(all, total, sizeof(double), cmp_double);
    printf("engine synchronous=%-6s threads=%d commands=%zu failed=%d throughput=%.0f/s "
           "commits=%llu avg_group=%.1f p50=%.3fms p99=%.3fms p99.9=%.3fms max=%.3fms\n",
           sync == STORE_SYNC_FULL ? "full" : "normal", threads, total, failed,
           (double)total / elapsed, (unsigned long long)stats.commits,
           stats.commits ? (double)stats.commands / (double)stats.commits : 0.0,
           total ? all[total / 2] / 1000.0 : 0.0, total ? all[total * 99 / 100] / 1000.0 : 0.0,
           total ? all[total * 999 / 1000] / 1000.0 : 0.0, total ? all[total - 1] / 1000.0 : 0.0);
    free(all);
    free(w);
    free(t);
    engine_stop(eng);
    store_close(st);
    printf("  WAL at the end: %.1f MiB (%llu tail passes restarted it)\n",
           (double)wal_at_end / 1048576.0,
           (unsigned long long)__atomic_load_n(&metrics.wal_restarts, __ATOMIC_RELAXED));
    bench_remove_db(path);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"threads", required_argument, NULL, 't'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int threads = 32, seconds = 5, c;
    const char *dir = "/tmp";
    while ((c = getopt_long(argc, argv, "t:s:d:h", opts, NULL)) != -1) {
        if (c == 't')
            threads = atoi(optarg);
        else if (c == 's')
            seconds = atoi(optarg);
        else if (c == 'd')
            dir = optarg;
        else {
            printf("usage: engine [--threads N] [--seconds S] [--dir DIR]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (threads < 1 || threads > 1024 || seconds < 1 || seconds > 600) {
        fprintf(stderr, "engine: threads 1..1024, seconds 1..600\n");
        return 2;
    }
    return run(dir, STORE_SYNC_FULL, threads, seconds) |
           run(dir, STORE_SYNC_NORMAL, threads, seconds);
}
