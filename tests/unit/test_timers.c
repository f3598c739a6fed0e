/*
 * test_timers.c - timers/timers: deadline sources on a manual clock, run in
 * order of due time by timers_run_due(), moved earlier (never later) by
 * timers_poke(), retried a second after an error, and run by the thread when
 * they fall due.
 *
 * A `struct fake` is a source whose behaviour is set by the test (when it
 * is next due, how many batches remain, whether it fails, what it pokes
 * while it runs) and which writes every run into a shared `struct journal`:
 * the source, the `now` it was given and what the clock read at that
 * moment. The tests assert on the journal, not on the heap inside.
 *
 * A model test drives eight sources with random pokes and random next due
 * times and checks every run against a plain array of due times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timers/timers.h"
#include "util/timeutil.h"

#include <string.h>
#include <unistd.h>

#define COUNT_OF(a)  (sizeof(a) / sizeof((a)[0]))
#define JOURNAL_MAX  4096
#define RETRY_MS     1000 /* timers.h: an error is tried again a second later */
#define WAIT_MAX_MS  5000 /* the thread tests wait at most this long */
#define WAIT_STEP_US 2000

/* ---- a journal of runs and sources that write to it ---------------------------------------- */

struct run_entry {
    int source;    /* the fake's tag (its id in the timers) */
    int64_t now;   /* the `now` run() was given */
    int64_t clock; /* what the clock read inside run() */
    int64_t next;  /* what run() set *next to */
};

struct journal {
    struct clock *clock;
    struct run_entry runs[JOURNAL_MAX];
    size_t n; /* written by the runner, read by the test thread: atomics */
};

enum next_rule {
    NEXT_NONE,  /* *next = 0: not until poked */
    NEXT_AFTER, /* *next = now + after */
    NEXT_AT,    /* *next = at (absolute) */
};

struct fake {
    struct journal *journal;
    int tag;
    enum next_rule rule;
    int64_t after, at;
    int batches_left;      /* runs left that set *next = now + batch_next_delta (work remains) */
    int64_t batch_delta;   /* 0 or negative: "at once again" */
    size_t done_per_run;   /* *done */
    int failures_left;     /* runs left that return `failure` */
    bt_err failure;        /* BT_EBUSY is not logged, others are */
    struct timers *timers; /* when set, run() pokes poke_id at poke_at, once */
    int poke_id;
    int64_t poke_at;
};

static void journal_init(struct journal *j, struct clock *clock)
{
    memset(j, 0, sizeof(*j));
    j->clock = clock;
}

static size_t journal_count(struct journal *j)
{
    return __atomic_load_n(&j->n, __ATOMIC_ACQUIRE);
}

static bt_err fake_run(void *ctx, int64_t now, int64_t *next, size_t *done, struct bt_error *err)
{
    struct fake *f = ctx;
    struct journal *j = f->journal;
    size_t n = __atomic_load_n(&j->n, __ATOMIC_ACQUIRE);
    if (n == JOURNAL_MAX)
        fail_msg("journal full: a source runs for ever?");
    int64_t clock = clock_now(j->clock);
    if (f->timers) {
        struct timers *t = f->timers;
        f->timers = NULL;
        timers_poke(t, f->poke_id, f->poke_at);
    }
    switch (f->rule) {
    case NEXT_NONE:
        *next = 0;
        break;
    case NEXT_AFTER:
        *next = now + f->after;
        break;
    case NEXT_AT:
        *next = f->at;
        break;
    }
    if (f->batches_left > 0) {
        f->batches_left--;
        *next = now + f->batch_delta;
    }
    *done = f->done_per_run;
    j->runs[n] = (struct run_entry){.source = f->tag, .now = now, .clock = clock, .next = *next};
    __atomic_store_n(&j->n, n + 1, __ATOMIC_RELEASE);
    if (f->failures_left > 0) {
        f->failures_left--;
        return bt_fail(err, f->failure, NULL, "fake source %d fails on purpose", f->tag);
    }
    return BT_OK;
}

/* A source that runs once and waits to be poked, unless the test says more. */
static struct fake fake_once(struct journal *j)
{
    return (struct fake){.journal = j, .tag = -1, .rule = NEXT_NONE};
}

static int add_fake(struct timers *t, struct fake *f, int64_t first_due)
{
    struct timer_source src = {.name = "fake", .run = fake_run, .ctx = f};
    int id = timers_add(t, &src, first_due);
    assert_in_range(id, 0, TIMERS_MAX_SOURCES - 1);
    f->tag = id;
    return id;
}

/* Asserts that run i of the journal was source `source` at `at`, the clock reading `at` too. */
#define assert_run(j, i, src, at) assert_run_at((j), (i), (src), (at), __FILE__, __LINE__)

static void assert_run_at(struct journal *j, size_t i, int source, int64_t at, const char *file,
                          int line)
{
    if (i >= journal_count(j)) {
        print_error("run %zu: only %zu runs\n", i, journal_count(j));
        _fail(file, line);
    }
    const struct run_entry *r = &j->runs[i];
    if (r->source != source || r->now != at || r->clock != at) {
        print_error("run %zu: source %d now %lld clock %lld, expected source %d at %lld\n", i,
                    r->source, (long long)r->now, (long long)r->clock, source, (long long)at);
        _fail(file, line);
    }
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void test_new_and_free(void **unused)
{
    (void)unused;
    timers_free(NULL);
    struct clock clock;
    clock_manual_init(&clock, 1000);
    struct timers *t = timers_new(&clock);
    assert_int_equal(timers_next_due(t), 0);
    size_t ran = 99, done_by[TIMERS_MAX_SOURCES];
    memset(done_by, 0xff, sizeof(done_by));
    timers_run_due(t, 5000, &ran, done_by);
    assert_int_equal(ran, 0);
    for (size_t i = 0; i < TIMERS_MAX_SOURCES; i++)
        assert_int_equal(done_by[i], 0);
    assert_int_equal(clock_now(&clock), 5000); /* the clock moves to `until` even with no source */
    timers_free(t);
}

/* ---- order ------------------------------------------------------------------------------- */

static void test_runs_in_due_order(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 1000);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    static const int64_t first_due[] = {5000, 2000, 9000, 3000, 7500};
    struct fake f[COUNT_OF(first_due)];
    for (size_t i = 0; i < COUNT_OF(first_due); i++) {
        f[i] = fake_once(&j);
        assert_int_equal(add_fake(t, &f[i], first_due[i]), (int)i);
    }
    assert_int_equal(timers_next_due(t), 2000);
    assert_int_equal(clock_now(&clock), 1000); /* adding moves no clock */

    size_t ran = 0;
    timers_run_due(t, 10000, &ran, NULL);
    assert_int_equal(ran, 5);
    assert_int_equal(journal_count(&j), 5);
    assert_run(&j, 0, 1, 2000);
    assert_run(&j, 1, 3, 3000);
    assert_run(&j, 2, 0, 5000);
    assert_run(&j, 3, 4, 7500);
    assert_run(&j, 4, 2, 9000);
    assert_int_equal(clock_now(&clock), 10000);
    assert_int_equal(timers_next_due(t), 0); /* every source said "when poked" */

    /* Nothing is due any more: a second call runs nothing and still moves the clock. */
    timers_run_due(t, 20000, &ran, NULL);
    assert_int_equal(ran, 0);
    assert_int_equal(clock_now(&clock), 20000);
    timers_free(t);
}

static void test_due_after_until_waits(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake a = fake_once(&j), b = fake_once(&j);
    add_fake(t, &a, 2000);
    add_fake(t, &b, 8000);

    size_t ran = 0;
    timers_run_due(t, 7999, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 0, 0, 2000);
    assert_int_equal(clock_now(&clock), 7999);
    assert_int_equal(timers_next_due(t), 8000);

    /* Due exactly at `until` runs. */
    timers_run_due(t, 8000, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 1, 1, 8000);
    assert_int_equal(clock_now(&clock), 8000);
    timers_free(t);
}

static void test_ties_in_registration_order(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake f[TIMERS_MAX_SOURCES];
    /* All due at the same time: only the id orders them. */
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++) {
        f[i] = fake_once(&j);
        add_fake(t, &f[i], 4000);
    }
    size_t ran = 0;
    timers_run_due(t, 4000, &ran, NULL);
    assert_int_equal(ran, TIMERS_MAX_SOURCES);
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++)
        assert_run(&j, (size_t)i, i, 4000);

    /* Poked into a tie, in reverse order of id: still by id. */
    for (int i = TIMERS_MAX_SOURCES - 1; i >= 0; i -= 2)
        timers_poke(t, i, 6000);
    timers_run_due(t, 6000, &ran, NULL);
    assert_int_equal(ran, TIMERS_MAX_SOURCES / 2);
    for (int k = 0; k < TIMERS_MAX_SOURCES / 2; k++)
        assert_run(&j, (size_t)(TIMERS_MAX_SOURCES + k), 2 * k + 1, 6000);
    timers_free(t);
}

/* ---- what run() sets *next to --------------------------------------------------------------- */

static void test_batches_run_again_at_once(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    /* Three batches: the first two leave work (next = now, next = now - 500),
     * the third is the last and waits for a poke. */
    struct fake batch = fake_once(&j), later = fake_once(&j);
    batch.batches_left = 2;
    batch.batch_delta = 0;
    batch.done_per_run = 100;
    later.done_per_run = 1;
    int b = add_fake(t, &batch, 3000);
    int l = add_fake(t, &later, 3001);

    size_t ran = 0, done_by[TIMERS_MAX_SOURCES];
    timers_run_due(t, 10000, &ran, done_by);
    assert_int_equal(ran, 4);
    assert_run(&j, 0, b, 3000);
    assert_run(&j, 1, b, 3000);
    assert_run(&j, 2, b, 3000);
    assert_run(&j, 3, l, 3001);
    assert_int_equal(done_by[b], 300);
    assert_int_equal(done_by[l], 1);
    assert_int_equal(timers_next_due(t), 0);

    /* A next in the past is "at once" too; the clock does not go back for it. */
    batch.batches_left = 1;
    batch.batch_delta = -500;
    timers_poke(t, b, 12000);
    timers_run_due(t, 15000, &ran, done_by);
    assert_int_equal(ran, 2);
    assert_run(&j, 4, b, 12000);
    assert_run(&j, 5, b, 12000);
    assert_int_equal(j.runs[4].next, 11500);
    assert_int_equal(done_by[b], 200);
    assert_int_equal(done_by[l], 0); /* zeroed by each call */
    assert_int_equal(clock_now(&clock), 15000);
    timers_free(t);
}

static void test_zero_next_waits_for_poke(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 1000);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake idle = fake_once(&j);
    int id = add_fake(t, &idle, 0); /* first due when poked */
    assert_int_equal(timers_next_due(t), 0);
    size_t ran = 0;
    timers_run_due(t, 1000000, &ran, NULL);
    assert_int_equal(ran, 0);

    timers_poke(t, id, 1003000);
    assert_int_equal(timers_next_due(t), 1003000);
    timers_run_due(t, 1002999, &ran, NULL);
    assert_int_equal(ran, 0);
    timers_run_due(t, 1003000, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 0, id, 1003000);

    /* It said 0 again: a year of run_due does not run it. */
    timers_run_due(t, 1003000 + 365LL * 86400000, &ran, NULL);
    assert_int_equal(ran, 0);
    assert_int_equal(timers_next_due(t), 0);
    timers_free(t);
}

static void test_periodic_source(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake every = fake_once(&j), fixed = fake_once(&j);
    every.rule = NEXT_AFTER;
    every.after = 2500;
    fixed.rule = NEXT_AT;
    fixed.at = 7000;
    int e = add_fake(t, &every, 1000);
    int f = add_fake(t, &fixed, 5000);
    size_t ran = 0;
    timers_run_due(t, 6000, &ran, NULL);
    assert_int_equal(ran, 4);
    assert_run(&j, 0, e, 1000);
    assert_run(&j, 1, e, 3500);
    assert_run(&j, 2, f, 5000);
    assert_run(&j, 3, e, 6000);
    assert_int_equal(timers_next_due(t), 7000);
    fixed.rule = NEXT_NONE;
    timers_run_due(t, 9000, &ran, NULL);
    assert_int_equal(ran, 2);
    assert_run(&j, 4, f, 7000);
    assert_run(&j, 5, e, 8500);
    assert_int_equal(timers_next_due(t), 11000);
    timers_free(t);
}

/* ---- pokes ---------------------------------------------------------------------------------- */

static void test_poke_moves_earlier_never_later(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake a = fake_once(&j), b = fake_once(&j), c = fake_once(&j);
    int ia = add_fake(t, &a, 5000);
    int ib = add_fake(t, &b, 9000);
    int ic = add_fake(t, &c, 0);
    assert_int_equal(timers_next_due(t), 5000);

    timers_poke(t, ia, 7000); /* later: ignored */
    assert_int_equal(timers_next_due(t), 5000);
    timers_poke(t, ib, 4000); /* earlier: b is now first */
    assert_int_equal(timers_next_due(t), 4000);
    timers_poke(t, ib, 4500); /* later again: ignored */
    assert_int_equal(timers_next_due(t), 4000);
    timers_poke(t, ic, 8000); /* a source waiting for a poke takes any time */
    assert_int_equal(timers_next_due(t), 4000);
    /* No time, a time before the epoch, no such source: ignored. */
    timers_poke(t, ia, 0);
    timers_poke(t, ia, -5);
    timers_poke(t, -1, 10);
    timers_poke(t, 3, 10);
    timers_poke(t, TIMERS_MAX_SOURCES, 10);
    assert_int_equal(timers_next_due(t), 4000);

    size_t ran = 0;
    timers_run_due(t, 100000, &ran, NULL);
    assert_int_equal(ran, 3);
    assert_run(&j, 0, ib, 4000);
    assert_run(&j, 1, ia, 5000);
    assert_run(&j, 2, ic, 8000);

    /* A poke in the past runs at once, at the clock's time. */
    timers_poke(t, ia, 50);
    assert_int_equal(timers_next_due(t), 50);
    timers_run_due(t, 100000, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 3, ia, 100000);
    timers_free(t);
}

static void test_next_due_is_earliest(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake f[TIMERS_MAX_SOURCES];
    static const int64_t due[TIMERS_MAX_SOURCES] = {700, 0, 300, 900, 0, 100, 500, 800};
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++) {
        f[i] = fake_once(&j);
        add_fake(t, &f[i], due[i]);
    }
    /* Running up to each due time leaves the next one as the earliest. */
    static const int64_t expect[] = {100, 300, 500, 700, 800, 900, 0};
    for (size_t k = 0; k + 1 < COUNT_OF(expect); k++) {
        assert_int_equal(timers_next_due(t), expect[k]);
        size_t ran = 0;
        timers_run_due(t, expect[k], &ran, NULL);
        assert_int_equal(ran, 1);
    }
    assert_int_equal(timers_next_due(t), 0);
    timers_free(t);
}

static void test_poke_while_running(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake a = fake_once(&j), b = fake_once(&j);
    int ia = add_fake(t, &a, 1000);
    int ib = add_fake(t, &b, 0);

    /* a pokes itself at its own `now` while it runs, and says 0: it runs again. */
    a.timers = t;
    a.poke_id = ia;
    a.poke_at = 1000;
    size_t ran = 0;
    timers_run_due(t, 2000, &ran, NULL);
    assert_int_equal(ran, 2);
    assert_run(&j, 0, ia, 1000);
    assert_run(&j, 1, ia, 1000);

    /* A poke during the run that is earlier than what run() names wins. */
    a.rule = NEXT_AFTER;
    a.after = 10000;
    a.timers = t;
    a.poke_at = 4000;
    timers_poke(t, ia, 3000);
    timers_run_due(t, 3000, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_int_equal(timers_next_due(t), 4000);
    /* ...and one later than what run() names loses. */
    a.after = 500;
    a.timers = t;
    a.poke_at = 9000;
    timers_run_due(t, 4000, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 3, ia, 4000);
    assert_int_equal(timers_next_due(t), 4500);

    /* A source that pokes another source, due at once, within the same call. */
    a.rule = NEXT_NONE;
    a.timers = t;
    a.poke_id = ib;
    a.poke_at = 4500;
    timers_run_due(t, 5000, &ran, NULL);
    assert_int_equal(ran, 2);
    assert_run(&j, 4, ia, 4500);
    assert_run(&j, 5, ib, 4500);
    assert_int_equal(timers_next_due(t), 0);
    timers_free(t);
}

/* ---- errors and counts ---------------------------------------------------------------------- */

static void test_error_retried_a_second_later(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 10000);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    /* busy fails three times and would otherwise run at once again (next =
     * now): the error wins, one second later each time. */
    struct fake busy = fake_once(&j), broken = fake_once(&j);
    busy.failures_left = 3;
    busy.failure = BT_EBUSY;
    busy.rule = NEXT_AFTER;
    busy.after = 0;
    broken.failures_left = 1;
    broken.failure = BT_EIO; /* logged; retried the same way */
    broken.rule = NEXT_AFTER;
    broken.after = 60000;
    int ib = add_fake(t, &busy, 10000);
    int ik = add_fake(t, &broken, 10200);

    size_t ran = 0;
    timers_run_due(t, 10500, &ran, NULL);
    assert_int_equal(ran, 2);
    assert_run(&j, 0, ib, 10000);
    assert_run(&j, 1, ik, 10200);
    assert_int_equal(timers_next_due(t), 10000 + RETRY_MS);

    timers_run_due(t, 10000 + RETRY_MS - 1, &ran, NULL);
    assert_int_equal(ran, 0);

    /* A source that fails is not run again in the same call (a failing
     * store would otherwise be retried every simulated second up to the
     * end): busy fails at 11000 and waits for the next call, due 12000. */
    busy.after = 4000;
    timers_run_due(t, 13000, &ran, NULL);
    assert_int_equal(ran, 2);
    assert_run(&j, 2, ib, 11000);
    assert_run(&j, 3, ik, 10200 + RETRY_MS); /* succeeds: next in a minute */
    assert_int_equal(timers_next_due(t), 12000);
    /* the next call: its third failure (at the clock's 13000), then due 14000 */
    timers_run_due(t, 13500, &ran, NULL);
    assert_int_equal(ran, 1);
    assert_run(&j, 4, ib, 13000);
    assert_int_equal(timers_next_due(t), 14000);
    timers_run_due(t, 72000, &ran, NULL);
    assert_run(&j, 5, ib, 14000); /* succeeds: next now + 4000 */
    assert_run(&j, 6, ib, 18000);
    /* busy every 4 s from 14000 to 70000 (15 runs), and broken's minute is up at 71200 */
    assert_int_equal(ran, 16);
    assert_run(&j, journal_count(&j) - 1, ik, 10200 + RETRY_MS + 60000);
    timers_free(t);
}

static void test_done_by_counts_per_source(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake f[3];
    for (int i = 0; i < 3; i++)
        f[i] = fake_once(&j);
    f[0].done_per_run = 7;
    f[0].rule = NEXT_AFTER;
    f[0].after = 1000; /* runs at 1000, 2000, 3000 */
    f[1].done_per_run = 0;
    f[2].done_per_run = 40;
    f[2].batches_left = 4; /* 5 runs at 2500 */
    f[2].batch_delta = 0;
    add_fake(t, &f[0], 1000);
    add_fake(t, &f[1], 1500);
    add_fake(t, &f[2], 2500);

    size_t ran = 0, done_by[TIMERS_MAX_SOURCES];
    memset(done_by, 0xff, sizeof(done_by)); /* zeroed by the call */
    timers_run_due(t, 3000, &ran, done_by);
    assert_int_equal(ran, 3 + 1 + 5);
    assert_int_equal(done_by[0], 21);
    assert_int_equal(done_by[1], 0);
    assert_int_equal(done_by[2], 200);
    for (int i = 3; i < TIMERS_MAX_SOURCES; i++)
        assert_int_equal(done_by[i], 0);

    /* Both out parameters may be NULL. */
    timers_run_due(t, 4000, NULL, NULL);
    assert_int_equal(journal_count(&j), 10);
    assert_run(&j, 9, 0, 4000);
    timers_free(t);
}

/* ---- the heap against a model --------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t rng_below(int64_t n)
{
    return (int64_t)(rng() % (uint64_t)n);
}

/* A source whose next due time is drawn at random, and which a model replays. */
struct random_source {
    struct journal *journal;
    int tag;
    int at_once_left; /* bounds runs that ask to run at once again */
};

static bt_err random_run(void *ctx, int64_t now, int64_t *next, size_t *done, struct bt_error *err)
{
    (void)err;
    struct random_source *s = ctx;
    struct journal *j = s->journal;
    int64_t r = rng_below(100);
    if (r < 10)
        *next = 0;
    else if (r < 20 && s->at_once_left > 0) {
        s->at_once_left--;
        *next = now - rng_below(3); /* now, or just before */
    } else
        *next = now + 1 + rng_below(5000);
    *done = (size_t)s->tag + 1;
    if (j->n == JOURNAL_MAX)
        fail_msg("journal full");
    j->runs[j->n++] = (struct run_entry){
        .source = s->tag, .now = now, .clock = clock_now(j->clock), .next = *next};
    return BT_OK;
}

/* The source a model of the timers runs next at or before `until`, or -1. */
static int model_next(const int64_t *due, int64_t until)
{
    int best = -1;
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++)
        if (due[i] > 0 && due[i] <= until && (best < 0 || due[i] < due[best]))
            best = i;
    return best;
}

static int64_t model_earliest(const int64_t *due)
{
    int64_t e = 0;
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++)
        if (due[i] > 0 && (e == 0 || due[i] < e))
            e = due[i];
    return e;
}

static void test_heap_matches_model(void **unused)
{
    (void)unused;
    rng_state = 0x9e3779b97f4a7c15ULL;
    struct clock clock;
    clock_manual_init(&clock, 1);
    static struct journal j; /* large: not on the stack */
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct random_source src[TIMERS_MAX_SOURCES];
    int64_t due[TIMERS_MAX_SOURCES];
    for (int i = 0; i < TIMERS_MAX_SOURCES; i++) {
        src[i] = (struct random_source){.journal = &j, .tag = i};
        due[i] = rng_below(4) == 0 ? 0 : 1 + rng_below(3000);
        struct timer_source ts = {.name = "random", .run = random_run, .ctx = &src[i]};
        assert_int_equal(timers_add(t, &ts, due[i]), i);
    }
    int64_t model_clock = 1;
    size_t total_runs = 0;
    for (int round = 0; round < 3000; round++) {
        /* A few pokes: any source (or none), any time around now. */
        int pokes = (int)rng_below(4);
        for (int p = 0; p < pokes; p++) {
            int id = (int)rng_below(TIMERS_MAX_SOURCES + 2) - 1;
            int64_t at = model_clock - 1000 + rng_below(6000);
            timers_poke(t, id, at);
            if (id >= 0 && id < TIMERS_MAX_SOURCES && at > 0 && (due[id] == 0 || at < due[id]))
                due[id] = at;
        }
        assert_int_equal(timers_next_due(t), model_earliest(due));
        for (int i = 0; i < TIMERS_MAX_SOURCES; i++)
            src[i].at_once_left = 3;

        int64_t until = model_clock + rng_below(4000);
        size_t first = j.n, ran = 0, done_by[TIMERS_MAX_SOURCES];
        timers_run_due(t, until, &ran, done_by);
        assert_int_equal(ran, j.n - first);
        size_t model_done[TIMERS_MAX_SOURCES] = {0};
        for (size_t k = first; k < j.n; k++) {
            int id = model_next(due, until);
            if (id < 0 || j.runs[k].source != id)
                fail_msg("round %d run %zu: source %d ran, the model expected %d", round, k,
                         j.runs[k].source, id);
            if (due[id] > model_clock)
                model_clock = due[id];
            if (j.runs[k].now != model_clock || j.runs[k].clock != model_clock)
                fail_msg("round %d run %zu: source %d at %lld (clock %lld), expected %lld", round,
                         k, id, (long long)j.runs[k].now, (long long)j.runs[k].clock,
                         (long long)model_clock);
            due[id] = j.runs[k].next > 0 ? j.runs[k].next : 0;
            model_done[id] += (size_t)id + 1;
        }
        if (model_next(due, until) >= 0)
            fail_msg("round %d: a source due by %lld did not run", round, (long long)until);
        if (until > model_clock)
            model_clock = until;
        assert_int_equal(clock_now(&clock), model_clock);
        for (int i = 0; i < TIMERS_MAX_SOURCES; i++)
            assert_int_equal(done_by[i], model_done[i]);
        total_runs += ran;
        if (j.n > JOURNAL_MAX - 200)
            j.n = 0;
    }
    assert_true(total_runs > 3000); /* the model saw real work */
    timers_free(t);
}

/* ---- the thread ----------------------------------------------------------------------------- */

/* Waits until the journal holds `n` runs, at most WAIT_MAX_MS; true when it does. */
static bool wait_for_runs(struct journal *j, size_t n)
{
    for (int waited = 0; waited * WAIT_STEP_US < WAIT_MAX_MS * 1000; waited++) {
        if (journal_count(j) >= n)
            return true;
        usleep(WAIT_STEP_US);
    }
    return journal_count(j) >= n;
}

static void test_thread_runs_poked_source(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 500000);
    struct journal j;
    journal_init(&j, &clock);
    struct timers *t = timers_new(&clock);
    struct fake now_source = fake_once(&j), later = fake_once(&j);
    now_source.done_per_run = 1;
    int id = add_fake(t, &now_source, 0);
    int il = add_fake(t, &later, 900000);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(timers_start(t, &err), BT_OK);

    timers_poke(t, id, clock_now(&clock));
    assert_true(wait_for_runs(&j, 1));
    assert_run(&j, 0, id, 500000); /* the thread moves no manual clock */
    assert_int_equal(clock_now(&clock), 500000);
    assert_int_equal(timers_next_due(t), 900000);

    /* Again, poked in the past: run at the clock's time. */
    clock_manual_set(&clock, 600000);
    timers_poke(t, id, 1);
    assert_true(wait_for_runs(&j, 2));
    assert_run(&j, 1, id, 600000);

    /* timers_run_due() from another thread while the thread runs. */
    size_t ran = 0;
    timers_run_due(t, 900000, &ran, NULL);
    assert_true(wait_for_runs(&j, 3));
    assert_int_equal(journal_count(&j), 3);
    assert_run(&j, 2, il, 900000);
    assert_int_equal(ran, 1);
    timers_free(t); /* joins the thread */
}

static void test_thread_on_real_clock(void **unused)
{
    (void)unused;
    struct journal j;
    journal_init(&j, clock_real());
    struct timers *t = timers_new(clock_real());
    struct fake due_now = fake_once(&j), far = fake_once(&j);
    int64_t start = clock_now(clock_real());
    int id = add_fake(t, &due_now, start);
    add_fake(t, &far, start + 3600000); /* an hour away: the thread sleeps on it */
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(timers_start(t, &err), BT_OK);
    assert_true(wait_for_runs(&j, 1));
    assert_int_equal(j.runs[0].source, id);
    assert_true(j.runs[0].now >= start);
    /* Poked again for a little later: the thread wakes and runs it when due. */
    timers_poke(t, id, clock_now(clock_real()) + 50);
    assert_true(wait_for_runs(&j, 2));
    assert_int_equal(j.runs[1].source, id);
    assert_int_equal(timers_next_due(t), start + 3600000);

    /* The thread sleeps on a due time an hour away; freeing wakes and joins it. */
    int64_t before = time_monotonic_ms();
    timers_free(t);
    assert_true(time_monotonic_ms() - before < WAIT_MAX_MS);
    assert_int_equal(journal_count(&j), 2);
}

static void test_start_and_free_without_sources(void **unused)
{
    (void)unused;
    struct clock clock;
    clock_manual_init(&clock, 0);
    struct timers *t = timers_new(&clock);
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(timers_start(t, &err), BT_OK);
    usleep(10000);
    timers_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_free),
        cmocka_unit_test(test_runs_in_due_order),
        cmocka_unit_test(test_due_after_until_waits),
        cmocka_unit_test(test_ties_in_registration_order),
        cmocka_unit_test(test_batches_run_again_at_once),
        cmocka_unit_test(test_zero_next_waits_for_poke),
        cmocka_unit_test(test_periodic_source),
        cmocka_unit_test(test_poke_moves_earlier_never_later),
        cmocka_unit_test(test_next_due_is_earliest),
        cmocka_unit_test(test_poke_while_running),
        cmocka_unit_test(test_error_retried_a_second_later),
        cmocka_unit_test(test_done_by_counts_per_source),
        cmocka_unit_test(test_heap_matches_model),
        cmocka_unit_test(test_thread_runs_poked_source),
        cmocka_unit_test(test_thread_on_real_clock),
        cmocka_unit_test(test_start_and_free_without_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
