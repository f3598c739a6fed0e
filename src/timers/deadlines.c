/*
 * deadlines.c - the daemon's deadline sources: score decay, the hold
 * queue and the handoff's SLA deadlines (see deadlines.h for when each is due).
 *
 * Each source asks the engine to do the work (a command on the writer, with
 * the configuration current at the time) and says from the answer when it
 * is next due. The engine's deadline hook pokes the sources when a command
 * makes one due sooner. The hold source's walk state (the cursor down the
 * queue, whether something asked for a fresh walk) is touched only by the
 * runner, except `restart_at`, which the hook sets under `lock`.
 */
#include "timers/deadlines.h"
#include "config/config.h"
#include "engine/engine.h"

#include <pthread.h>
#include <stdlib.h>

#define DECAY_BATCH 500
#define HOLD_BATCH  1000
/* A walk over every held lead a rep's change may help, at least this often
 * (the others try only those of the reps that changed since the last walk):
 * a safety net, not a trigger. */
#define BROAD_WALK_MS (3600 * 1000LL)
#define SLA_BATCH     500

struct deadlines {
    struct timers *timers;
    struct engine *engine;
    struct config_holder *config;
    int decay_id, holds_id, sla_id;

    /* the hold queue (runner only) */
    bool walking;                     /* a walk down the queue is under way, */
    struct engine_hold_cursor cursor; /* and has got this far */
    bool again;                       /* walk again from the top when this walk ends */
    bool again_every;                 /* ... over every held lead */
    int64_t planned;                  /* the due time the last walk ended with */
    int64_t last_walk;                /* when the last walk started (0: none yet) */
    int64_t last_broad;               /* ... the last one not limited to a window */
    int64_t prev_walk, prev_broad;    /* the two before this walk (restored if it fails) */

    pthread_mutex_t lock;
    int64_t restart_at; /* a fresh walk is wanted from this instant (0: none) */
    bool every;         /* that walk tries every held lead (a reload, the start) */
};

static int64_t earliest(int64_t a, int64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

static bt_err run_decay(void *p, int64_t now, int64_t *next, size_t *done, struct bt_error *err)
{
    struct deadlines *d = p;
    struct config *cfg = config_holder_get(d->config);
    int64_t next_due = 0;
    bt_err e = engine_rescore_due(d->engine, cfg, DECAY_BATCH, done, &next_due, err);
    config_unref(cfg);
    if (e)
        return e;
    *next = *done == DECAY_BATCH ? now : next_due;
    return BT_OK;
}

/* Whether a fresh walk was asked for (a wake, a reload) by `now`, and
 * whether it is to try every held lead (*every). */
static bool restart_due(struct deadlines *d, int64_t now, bool *every)
{
    pthread_mutex_lock(&d->lock);
    bool due = d->restart_at && d->restart_at <= now;
    *every = due && d->every;
    if (due) {
        d->restart_at = 0;
        d->every = false;
    }
    pthread_mutex_unlock(&d->lock);
    return due;
}

static bt_err run_holds(void *p, int64_t now, int64_t *next, size_t *done, struct bt_error *err)
{
    struct deadlines *d = p;
    /* A boundary or a wake that came while a long walk was under way: the
     * leads already passed get their turn in another walk. */
    bool every;
    bool wanted = restart_due(d, now, &every);
    wanted = wanted || (d->planned && now >= d->planned);
    if (!d->walking) {
        /* Only the held leads a rep's change may help, unless a reload
         * (or the start) asked for every one: those held by a hold rule or
         * by no rule wait for a change of the lead or of the config. */
        d->cursor = (struct engine_hold_cursor){.every = every || d->again_every};
        d->prev_walk = d->last_walk;
        d->prev_broad = d->last_broad;
        if (d->cursor.every || !d->last_walk || now - d->last_broad >= BROAD_WALK_MS ||
            now <= d->last_walk) {
            d->last_broad = now;
        } else {
            /* the reps that may have become eligible since the last walk */
            d->cursor.changed_from = d->last_walk;
            d->cursor.changed_to = now;
        }
        d->last_walk = now;
        d->walking = true;
        d->again = d->again_every = false;
        d->planned = 0;
    } else if (wanted) {
        d->again = true;
        d->again_every = d->again_every || every;
    }
    struct config *cfg = config_holder_get(d->config);
    int64_t next_change = 0;
    size_t tried = 0;
    bt_err e =
        engine_drain_holds(d->engine, cfg, HOLD_BATCH, &d->cursor, &tried, NULL, &next_change, err);
    *done = tried;
    if (e) {
        /* The walk did not happen: the next one covers its span again
         * (and tries every lead if this one was to). */
        config_unref(cfg);
        d->walking = false;
        d->last_walk = d->prev_walk;
        d->last_broad = d->prev_broad;
        d->again_every = d->again_every || d->cursor.every;
        return e;
    }
    if (d->cursor.deferred) {
        /* another node walks the queue: this walk goes on later, as it is */
        *next = next_change;
    } else if (tried == HOLD_BATCH) {
        *next = now; /* more of the queue to walk */
    } else {
        d->walking = false;
        if (d->again) {
            *next = now;
        } else if (cfg->routing.n_rules == 0) {
            *next = 0; /* routing is off: nothing helps until a reload */
        } else {
            *next = earliest(next_change, routing_next_boundary(&cfg->routing, now));
            /* a boundary passed while this walk went on: its reps' turn now */
            int64_t during = routing_next_boundary(&cfg->routing, d->last_walk);
            if (during && during <= now)
                *next = now;
            /* and the broad walk at least hourly, whether or not anything
             * else is due */
            *next = earliest(*next, d->last_broad + BROAD_WALK_MS);
        }
    }
    if (!d->walking)
        d->planned = *next;
    config_unref(cfg);
    return BT_OK;
}

/* The assignments whose next deadline passed, in deadline order. */
static bt_err run_sla(void *p, int64_t now, int64_t *next, size_t *done, struct bt_error *err)
{
    struct deadlines *d = p;
    struct config *cfg = config_holder_get(d->config);
    int64_t next_due = 0;
    bt_err e = engine_sla_due(d->engine, cfg, SLA_BATCH, done, &next_due, err);
    config_unref(cfg);
    if (e)
        return e;
    *next = *done == SLA_BATCH ? now : next_due;
    return BT_OK;
}

static void on_deadline(void *p, enum engine_deadline kind, int64_t at)
{
    struct deadlines *d = p;
    if (kind == ENGINE_DEADLINE_DECAY || kind == ENGINE_DEADLINE_SLA) {
        timers_poke(d->timers, kind == ENGINE_DEADLINE_SLA ? d->sla_id : d->decay_id, at);
        return;
    }
    pthread_mutex_lock(&d->lock);
    d->restart_at = earliest(d->restart_at, at);
    pthread_mutex_unlock(&d->lock);
    timers_poke(d->timers, d->holds_id, at);
}

struct deadlines *deadlines_new(struct timers *t, struct engine *engine,
                                struct config_holder *config)
{
    struct deadlines *d = xcalloc(1, sizeof(*d));
    d->timers = t;
    d->engine = engine;
    d->config = config;
    pthread_mutex_init(&d->lock, NULL);
    d->restart_at = 1;
    d->every = true; /* the first walk: every held lead, with this configuration */
    /* All are due at once: decay and SLA deadlines that fell due while
     * Baton was down (processed in deadline order), and a first walk of the
     * queue with the configuration just loaded. */
    struct timer_source decay = {.name = "score decay", .run = run_decay, .ctx = d};
    struct timer_source holds = {.name = "hold queue", .run = run_holds, .ctx = d};
    struct timer_source sla = {.name = "sla deadlines", .run = run_sla, .ctx = d};
    d->decay_id = timers_add(t, &decay, 1);
    d->holds_id = timers_add(t, &holds, 1);
    d->sla_id = timers_add(t, &sla, 1);
    engine_set_deadline_hook(engine, on_deadline, d);
    return d;
}

void deadlines_free(struct deadlines *d)
{
    if (!d)
        return;
    engine_set_deadline_hook(d->engine, NULL, NULL);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void deadlines_config_changed(struct deadlines *d)
{
    pthread_mutex_lock(&d->lock);
    d->every = true;
    pthread_mutex_unlock(&d->lock);
    on_deadline(d, ENGINE_DEADLINE_HOLDS, 1);
}

int deadlines_decay_id(const struct deadlines *d)
{
    return d->decay_id;
}

int deadlines_holds_id(const struct deadlines *d)
{
    return d->holds_id;
}

int deadlines_sla_id(const struct deadlines *d)
{
    return d->sla_id;
}
