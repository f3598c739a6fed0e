/*
 * timers.h - deadlines that move leads without anyone asking.
 *
 * For now one kind: score decay. Every tick (one second) the timer asks the
 * engine to rescore the leads whose rescore_at has passed, with the current
 * configuration; the engine finds them through an index, so an idle tick
 * costs one indexed query. (SLA deadlines will join this module.)
 */
#ifndef BT_TIMERS_H
#define BT_TIMERS_H

#include "util/err.h"

struct timers;
struct engine;
struct config_holder;

bt_err timers_start(struct engine *engine, struct config_holder *config, unsigned tick_ms,
                    struct timers **out, struct bt_error *err) BT_MUST_USE;
/* Stops the thread and frees. timers_stop(NULL) does nothing. */
void timers_stop(struct timers *t);

#endif
