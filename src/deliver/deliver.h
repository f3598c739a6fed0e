/*
 * deliver.h - the delivery worker: drains the outbox (store_outbox.h) over
 * HTTP and SMTP with libcurl's multi interface, on one thread.
 *
 * The worker claims the due rows of each channel that has room (its
 * `concurrency` minus the requests in flight; a paused channel one probe at
 * a time, a disabled one none) through the engine, renders each (render.h)
 * and adds its transfer to one curl multi handle; many requests are in
 * flight at once, each with its channel's timeout, so a receiver that hangs
 * holds only its own channel's slots. Finished transfers are reported to
 * the engine in batches (engine_outbox_report), which writes the attempt,
 * the row's next step and the channel's breaker.
 *
 * Claims carry a lease of the channel's timeout plus DELIVER_LEASE_MARGIN_MS:
 * a row whose node dies mid-send is due again when its lease ends, and sent
 * again (at-least-once; the message id stays the same, so receivers drop
 * the duplicate). Redirects are never followed.
 *
 * Usage (baton serve):
 *   deliver_start(engine, store, holder, clock, &opts, &d, &err);
 *   engine_set_outbox_hook(engine, deliver_poke, d);
 *   ...
 *   engine_set_outbox_hook(engine, NULL, NULL);
 *   deliver_stop(d);   // waits for transfers in flight up to opts.stop_wait_ms
 */
#ifndef BT_DELIVER_H
#define BT_DELIVER_H

#include "util/err.h"

#include <stdint.h>

struct deliver;
struct engine;
struct store;
struct config_holder;
struct clock;

#define DELIVER_LEASE_MARGIN_MS 5000

struct deliver_options {
    const char *node_id;    /* the claims' owner; NULL: "baton" */
    unsigned poll_ms;       /* how often the store is asked for due rows when nothing
                               woke the worker (other nodes' rows, a wake-up that came
                               as it looked); 0: 250 */
    unsigned stop_wait_ms;  /* deliver_stop() waits this long for transfers in flight;
                               0: 2000 */
    const char *user_agent; /* NULL: "Baton/VERSION" */
};

bt_err deliver_start(struct engine *engine, struct store *store, struct config_holder *holder,
                     struct clock *clock, const struct deliver_options *opts, struct deliver **out,
                     struct bt_error *err) BT_MUST_USE;

/* Wakes the worker: rows are due now (the engine's outbox hook). Thread-safe. */
void deliver_poke(void *d);

/* Stops the worker. Transfers still in flight after stop_wait_ms are
 * abandoned: their rows are sent again once their lease ends. NULL: nothing. */
void deliver_stop(struct deliver *d);

#endif
