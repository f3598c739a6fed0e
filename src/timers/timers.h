/*
 * timers.h - deadlines that move leads without anyone asking.
 *
 * Two kinds so far, each tick (one second), with the current configuration:
 * - score decay: the engine rescores the leads whose rescore_at has passed;
 *   it finds them through an index, so an idle tick costs one query.
 * - the hold queue: held leads are tried again whenever someone may have
 *   become eligible without any command saying so: at every new minute of
 *   the engine's clock (shifts start and caps reset on minute boundaries),
 *   when a status `until` or a time-off span ends (the engine says when the
 *   next one is due), and after a configuration reload. Status and time-off
 *   changes made through the API drain the queue in their own command.
 * (SLA deadlines will join this module.)
 */
#ifndef BT_TIMERS_H
#define BT_TIMERS_H

#include "util/err.h"

struct timers;
struct engine;
struct config_holder;
struct clock;

bt_err timers_start(struct engine *engine, struct config_holder *config, struct clock *clock,
                    unsigned tick_ms, struct timers **out, struct bt_error *err) BT_MUST_USE;
/* Stops the thread and frees. timers_stop(NULL) does nothing. */
void timers_stop(struct timers *t);

#endif
