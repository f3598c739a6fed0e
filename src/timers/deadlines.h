/*
 * deadlines.h - the daemon's deadline sources (timers.h), and how the engine
 * tells them that something fell due sooner.
 *
 *   decay  leads whose score decay is due: due at the earliest rescore_at
 *          in the store (one read of an index); each run rescores up to 500
 *          due leads and is due again at once while more are due. A command
 *          that sets an earlier rescore_at pokes it.
 *   holds  the hold queue: held leads are tried again, highest score first,
 *          1,000 per run, whenever someone may have become eligible without
 *          any command saying so:
 *            - at the next instant any rep's eligibility changes by time
 *              alone: the start of a working interval in its own zone, its
 *              local midnight when it has holidays or caps, its week start
 *              when it has a weekly cap (routing_next_boundary);
 *            - when a status `until` or a time-off span ends (from the
 *              store, and poked by the command that sets one);
 *            - after a configuration reload (deadlines_config_changed).
 *          A walk tries only the held leads that the reps whose
 *          eligibility may have changed since the last walk began may help
 *          (those waiting for such a rep or one of its pools: decide.h's
 *          hold_wakes; routing_reps_changed, store_reps_freed), and those
 *          marked "any"; a walk over every held lead with a wake target at
 *          least once an hour (scheduled so); the walk at the start and after a
 *          reload tries every held lead (new rules, reps or pools may help
 *          a lead held by a hold rule or by no rule). (A held lead whose rules read times,
 *          activity.TYPE.last_days and the like, is rescored hourly by the
 *          decay source, and a rescored mql lead is routed again in that
 *          command.) Commands that free a rep (status back, time off
 *          removed, an assignment closed) drain, in their own transaction,
 *          the held leads that rep may help: those waiting for it or for
 *          one of its pools, highest score first.
 *   sla    assignments whose next deadline passed (a reminder, accept_by,
 *          contact_by; engine_sla_due): due at the earliest next_due in
 *          the store (one read of a partial index: the nearest deadline is
 *          all that is kept in memory, the store's index is the rest of the
 *          heap, so a million pending assignments cost no memory here and
 *          nothing to rebuild at start); 500 per run, in deadline order,
 *          due again at once while more are due. A command that sets an
 *          earlier deadline (a new assignment, an acceptance) pokes it.
 */
#ifndef BT_DEADLINES_H
#define BT_DEADLINES_H

#include "timers/timers.h"

struct engine;
struct config_holder;
struct deadlines;

/* Registers the sources on `t` and hooks them to the engine's deadline
 * notices (engine_set_deadline_hook). Call before timers_start(). */
struct deadlines *deadlines_new(struct timers *t, struct engine *engine,
                                struct config_holder *config);
/* Unhooks from the engine and frees (after the timers' thread stopped). */
void deadlines_free(struct deadlines *d);

/* The configuration was swapped: the hold queue is tried again at once. */
void deadlines_config_changed(struct deadlines *d);

/* The id of each source in the timers (for run_due's done_by). */
int deadlines_decay_id(const struct deadlines *d);
int deadlines_holds_id(const struct deadlines *d);
int deadlines_sla_id(const struct deadlines *d);

#endif
