/*
 * bench/strategy.c - how fast a pool strategy decides: a pool of 25 members
 * (ids like "rep.emea.07", weights 1-3, capacities 10-40 and some unlimited),
 * about one member in ten ineligible at any time (who changes every 64 leads),
 * for each strategy in turn, on one thread.
 *
 *   build/bench/strategy [SECONDS]      (per strategy, default 1)
 *
 * Each decision runs as the engine will run it: it takes the state the last
 * decision returned, decides into a per-command arena, and the arena holding
 * the older state is released (one malloc and free per decision). load_balanced
 * sees the chosen member's open count grow and an assignment close now and
 * then. Prints decisions per second and nanoseconds per decision: the mean
 * over the run and the fastest batch of 10,000 (on a shared machine the mean
 * includes other work). A fixed seed makes runs comparable.
 */
#include "core/strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMBERS 25
#define BATCH   10000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void init_members(struct pool_member *m, char (*ids)[24])
{
    static const char *const regions[] = {"emea", "amer", "apac"};
    for (int i = 0; i < MEMBERS; i++) {
        snprintf(ids[i], sizeof(ids[i]), "rep.%s.%02d", regions[i % 3], i);
        m[i] = (struct pool_member){.rep_id = ids[i],
                                    .weight = 1 + i % 3,
                                    .capacity = i % 5 == 4 ? STRATEGY_UNLIMITED : 10 + i % 4 * 10,
                                    .open = rnd(10),
                                    .recent = rnd(20),
                                    .eligible = true};
    }
}

static void shuffle_eligibility(struct pool_member *m)
{
    for (int i = 0; i < MEMBERS; i++) {
        bool full = m[i].capacity != STRATEGY_UNLIMITED && m[i].open >= m[i].capacity;
        m[i].eligible = !full && rnd(10) != 0;
        m[i].ineligible_reason = m[i].eligible ? 0 : 1 + (int)rnd(8);
    }
}

static void bench(enum strategy_kind kind, enum absence_policy absence, double seconds)
{
    struct pool_member m[MEMBERS];
    char ids[MEMBERS][24];
    rng_state = 0x9E3779B97F4A7C15ULL;
    init_members(m, ids);

    struct arena current = ARENA_INIT, previous = ARENA_INIT;
    struct pool_state state = POOL_STATE_INIT;
    struct strategy_input in = {.strategy = kind,
                                .absence = absence,
                                .members = m,
                                .n_members = MEMBERS,
                                .now = 1700000000000,
                                .window_start = 1699920000000};
    struct strategy_decision d;
    struct bt_error err = BT_ERROR_INIT;
    uint64_t decisions = 0, none = 0;
    uint64_t per_member[MEMBERS] = {0};
    double best = 1e9, start = seconds_now(), elapsed = 0;
    while (elapsed < seconds) {
        double batch_start = seconds_now();
        for (int k = 0; k < BATCH; k++) {
            if (decisions % 64 == 0)
                shuffle_eligibility(m);
            in.state = &state;
            in.now += 1000;
            if (strategy_decide(&in, &current, &d, &err) != BT_OK) {
                fprintf(stderr, "strategy_decide: %s\n", err.message);
                exit(1);
            }
            decisions++;
            if (d.chosen < 0) {
                none++;
            } else {
                per_member[d.chosen]++;
                if (kind == STRATEGY_LOAD_BALANCED) {
                    m[d.chosen].open++;
                    m[d.chosen].recent++;
                    struct pool_member *done = &m[rnd(MEMBERS)];
                    if (done->open > 0)
                        done->open--;
                }
            }
            if (d.chosen < 0) {
                /* after is the input state, which lives in `previous` */
                arena_release(&current);
                continue;
            }
            state = d.after;
            /* `previous` holds the state `current` was decided from */
            arena_release(&previous);
            struct arena t = previous;
            previous = current;
            current = t;
        }
        double batch = seconds_now() - batch_start;
        if (batch < best)
            best = batch;
        elapsed = seconds_now() - start;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < MEMBERS; i++) {
        if (per_member[i] < lo)
            lo = per_member[i];
        if (per_member[i] > hi)
            hi = per_member[i];
    }
    char label[32];
    snprintf(label, sizeof(label), "%s%s", strategy_name(kind),
             kind == STRATEGY_FAIR_SHARE
                 ? (absence == ABSENCE_CATCH_UP ? "/catch_up" : "/no_catch_up")
                 : "");
    printf("%-25s %12.0f %10.0f %8.1f %8.1f %10llu  %llu..%llu\n", label,
           (double)decisions / elapsed, BATCH / best, elapsed * 1e9 / (double)decisions,
           best * 1e9 / BATCH, (unsigned long long)none, (unsigned long long)lo,
           (unsigned long long)hi);
    arena_release(&current);
    arena_release(&previous);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(seconds > 0 && seconds <= 600)) {
        fprintf(stderr, "usage: %s [SECONDS per strategy, at most 600]\n", argv[0]);
        return 2;
    }
    printf("pool of %d members, ~10%% ineligible, one thread, %.1f s per strategy\n", MEMBERS,
           seconds);
    printf("%-25s %12s %10s %8s %8s %10s  %s\n", "strategy", "decisions/s", "best/s", "ns mean",
           "ns best", "none", "leads per member");
    bench(STRATEGY_ROUND_ROBIN, ABSENCE_CATCH_UP, seconds);
    bench(STRATEGY_WEIGHTED, ABSENCE_CATCH_UP, seconds);
    bench(STRATEGY_LOAD_BALANCED, ABSENCE_CATCH_UP, seconds);
    bench(STRATEGY_FAIR_SHARE, ABSENCE_CATCH_UP, seconds);
    bench(STRATEGY_FAIR_SHARE, ABSENCE_NO_CATCH_UP, seconds);
    return 0;
}
