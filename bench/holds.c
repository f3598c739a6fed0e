/*
 * holds.c - the hold queue at scale (issue 10, item 6): N leads held in
 * ten pools of two reps (by country) plus one lead in ten held by a hold
 * rule, everyone away; then, in the same run:
 *
 *   rep back    one rep of pool p3 becomes available (capacity 5): the
 *               command tries the held leads it may help (those waiting for
 *               it or its pools) and assigns 5; the reference is the old
 *               drain, the top 1,000 of the whole queue, timed on the same
 *               queue: how long it takes and how many of p3's leads it
 *               reaches;
 *   timer walks a walk down the queue as the timer makes it after rep r31's
 *               `until` ended (only the leads of the reps that changed since
 *               the last walk), the hourly walk (every lead a rep's change
 *               may help), and a walk over every held lead (as after a
 *               reload, and as every walk was before): leads tried, seconds,
 *               time per lead, and ratios to the last.
 *
 *   build/bench/holds [--leads 50000] [--dir /tmp]
 *
 * The leads are written with synchronous=NORMAL by 8 threads (the set-up
 * is not what is measured). Times are wall-clock on the engine's writer.
 */
#include "config/config.h"
#include "engine/engine.h"
#include "store/store.h"
#include "store/store_routing.h"
#include "util/timeutil.h"

#include "bench_db.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOLS   10
#define THREADS 8

static const char *const countries[POOLS] = {"DE", "FR", "ES", "IT", "NL",
                                             "US", "CA", "BR", "JP", "AU"};

static char *config_yaml(void)
{
    size_t cap = 16384, n = 0;
    char *y = xmalloc(cap);
    n += (size_t)snprintf(y + n, cap - n,
                          "version: 1\n"
                          "qualification:\n"
                          "  fast_track_when: source == \"demo\" or source == \"spam\"\n"
                          "reps:\n");
    for (int p = 0; p < POOLS; p++)
        for (int r = 0; r < 2; r++)
            n += (size_t)snprintf(y + n, cap - n, "  - {id: r%d%d, name: R%d%d, capacity: 5}\n", p,
                                  r, p, r);
    n += (size_t)snprintf(y + n, cap - n, "pools:\n");
    for (int p = 0; p < POOLS; p++)
        n += (size_t)snprintf(y + n, cap - n,
                              "  - {id: p%d, strategy: round_robin, members: [r%d0, r%d1]}\n", p, p,
                              p);
    n += (size_t)snprintf(y + n, cap - n,
                          "routing:\n  rules:\n"
                          "    - {name: spam, when: 'source == \"spam\"', to: hold}\n");
    for (int p = 0; p < POOLS - 1; p++)
        n += (size_t)snprintf(y + n, cap - n,
                              "    - {name: c%d, when: 'country == \"%s\"', to: 'pool:p%d'}\n", p,
                              countries[p], p);
    /* the last: the default rule (the rest, here AU) */
    n += (size_t)snprintf(y + n, cap - n, "    - {name: rest, to: 'pool:p%d'}\n", POOLS - 1);
    return y;
}

struct writer {
    struct engine *eng;
    const struct config *cfg;
    int index;
    long from, to;
    int failed;
};

static void *write_main(void *arg)
{
    struct writer *w = arg;
    char email[64];
    for (long i = w->from; i < w->to; i++) {
        struct arena a = ARENA_INIT;
        snprintf(email, sizeof(email), "held%ld@company%ld.example", i, i % 700);
        struct ingest_command c = {0};
        c.cfg = w->cfg;
        c.lead.attr[LEAD_EMAIL] = email;
        c.lead.attr[LEAD_EMAIL_DOMAIN] = strchr(email, '@') + 1;
        c.lead.attr[LEAD_COUNTRY] = countries[i % POOLS];
        c.lead.attr[LEAD_SOURCE] = i % 10 == 9 ? "spam" : "demo";
        c.lead.employees = -1;
        c.lead.fields_json = "{}";
        c.actor = "key:1";
        c.fingerprint = email;
        struct bt_error err = BT_ERROR_INIT;
        if (engine_ingest(w->eng, &c, &a, &err) != BT_OK)
            w->failed++;
        arena_release(&a);
    }
    return NULL;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, const struct bt_error *err)
{
    fprintf(stderr, "holds: %s: %s\n", what, err->message);
    exit(1);
}

/* A whole walk as the timer makes it, from `start`; returns the seconds. */
static double walk(struct engine *eng, const struct config *cfg,
                   const struct engine_hold_cursor *start, size_t *tried_all)
{
    struct engine_hold_cursor cursor = *start;
    size_t tried;
    *tried_all = 0;
    struct bt_error err = BT_ERROR_INIT;
    double t0 = seconds();
    do {
        if (engine_drain_holds(eng, cfg, 1000, &cursor, &tried, NULL, NULL, &err))
            fail("walking the queue", &err);
        *tried_all += tried;
    } while (tried == 1000);
    return seconds() - t0;
}

int main(int argc, char **argv)
{
    long leads = 50000;
    const char *dir = "/tmp";
    static const struct option opts[] = {
        {"leads", required_argument, NULL, 'n'}, {"dir", required_argument, NULL, 'd'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "n:d:", opts, NULL)) != -1) {
        if (o == 'n')
            leads = atol(optarg);
        else if (o == 'd')
            dir = optarg;
        else {
            fprintf(stderr, "usage: holds [--leads N] [--dir DIR]\n");
            return 2;
        }
    }
    if (leads < 2000 || leads > 10000000) {
        fprintf(stderr, "holds: --leads from 2000 to 10000000\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/baton-holds-%d.db", dir, (int)getpid());
    struct bt_error err = BT_ERROR_INIT;
    struct store_options so = STORE_OPTIONS_INIT;
    so.create = true;
    so.synchronous = STORE_SYNC_NORMAL;
    struct store *st;
    struct engine *eng;
    struct engine_options eo = {.group_commit_max = 256};
    if (store_open(path, &so, &st, &err) || engine_start(st, clock_real(), &eo, &eng, &err))
        fail("opening the store", &err);
    char *yaml = config_yaml();
    struct config *cfg;
    if (config_load_string("holds.yaml", yaml, strlen(yaml), &cfg, &err))
        fail("the configuration", &err);
    free(yaml);
    struct arena a = ARENA_INIT;
    for (int p = 0; p < POOLS; p++)
        for (int r = 0; r < 2; r++) {
            char id[16];
            snprintf(id, sizeof(id), "r%d%d", p, r);
            /* r31 is away only until a second from now: the windowed walk
             * below is the one that finds it back */
            struct rep_status_command c = {
                .cfg = cfg,
                .rep_id = id,
                .status = REP_AWAY,
                .until = p == 3 && r == 1 ? clock_now(clock_real()) + 1000 : 0,
                .actor = "bench"};
            if (engine_set_rep_status(eng, &c, &a, &err))
                fail("setting a rep away", &err);
        }

    int64_t setup_at = clock_now(clock_real());
    double t0 = seconds();
    pthread_t th[THREADS];
    struct writer w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct writer){eng, cfg, i, leads * i / THREADS, leads * (i + 1) / THREADS, 0};
        pthread_create(&th[i], NULL, write_main, &w[i]);
    }
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failed += w[i].failed;
    }
    if (failed) {
        fprintf(stderr, "holds: %d leads not written\n", failed);
        return 1;
    }
    printf("set-up: %ld held leads (%ld by the hold rule) in %.1f s\n", leads, leads / 10,
           seconds() - t0);

    /* The old drain on the same queue: the top 1,000, whatever they wait for. */
    size_t tried, assigned;
    t0 = seconds();
    if (engine_drain_holds(eng, cfg, 1000, NULL, &tried, &assigned, NULL, &err))
        fail("draining", &err);
    double old_s = seconds() - t0;
    long p3_in_top = 0;
    {
        struct store_conn *rd;
        if (store_reader_acquire(st, &rd, &err))
            fail("a reader", &err);
        struct store_hold *h;
        size_t n;
        if (store_hold_list(rd, 1000, NULL, &a, &h, &n, &err))
            fail("listing", &err);
        for (size_t i = 0; i < n; i++)
            p3_in_top += h[i].pool_id && !strcmp(h[i].pool_id, "p3");
        store_reader_release(st, rd);
    }

    struct rep_status_command back = {
        .cfg = cfg, .rep_id = "r30", .status = REP_AVAILABLE, .actor = "bench"};
    t0 = seconds();
    if (engine_set_rep_status(eng, &back, &a, &err))
        fail("a rep back", &err);
    double back_s = seconds() - t0;
    printf("rep back (pool p3 of %d, capacity 5): %.1f ms, %zu assigned; "
           "the old drain (top 1,000 of the queue): %.1f ms, reaching %ld of p3's leads "
           "(ratio %.2f)\n",
           POOLS, back_s * 1e3, back.assigned, old_s * 1e3, p3_in_top, back_s / old_s);

    size_t window_n, woken_n, every_n;
    struct engine_hold_cursor since = {.changed_from = setup_at - 1,
                                       .changed_to = clock_now(clock_real())};
    double window_s = walk(eng, cfg, &since, &window_n);
    struct engine_hold_cursor woken = {0}, every = {.every = true};
    double woken_s = walk(eng, cfg, &woken, &woken_n);
    double every_s = walk(eng, cfg, &every, &every_n);
    printf("timer walk after r31's `until` ended (the reps changed since the last walk): %zu "
           "leads in %.2f s (%.1f us each), ratio to every held lead %.3f\n",
           window_n, window_s, window_s * 1e6 / (double)(window_n ? window_n : 1),
           window_s / every_s);
    printf("hourly walk (every lead a rep's change may help): %zu leads in %.2f s (%.1f us "
           "each), ratio %.2f\n",
           woken_n, woken_s, woken_s * 1e6 / (double)(woken_n ? woken_n : 1), woken_s / every_s);
    printf("every held lead (the walk after a reload, and every walk before): %zu in %.2f s "
           "(%.1f us each)\n",
           every_n, every_s, every_s * 1e6 / (double)(every_n ? every_n : 1));

    config_unref(cfg);
    engine_stop(eng);
    store_close(st);
    arena_release(&a);
    bench_remove_db(path);
    return 0;
}
