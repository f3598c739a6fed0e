/*
 * engine_internal.h - shared inside src/engine/ only: the queued command and
 * the dispatcher that applies one command inside the open transaction.
 */
#ifndef BT_ENGINE_INTERNAL_H
#define BT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "store/store.h"

#include <semaphore.h>

enum engine__kind { ENGINE__INGEST };

struct engine__command {
    enum engine__kind kind;
    struct arena *arena; /* the submitter's; results are allocated here */
    union {
        struct ingest_command *ingest;
    } u;
    /* set by the writer */
    bt_err rc;
    struct bt_error err;
    sem_t done;
    struct engine__command *next;
};

/* Queues the command and blocks until its group is committed (or failed). */
bt_err engine__submit(struct engine *e, struct engine__command *c,
                      struct bt_error *err) BT_MUST_USE;

/* Applies one command on the writer's connection, inside a savepoint. */
bt_err engine__apply(struct store_conn *conn, struct engine__command *c, int64_t now) BT_MUST_USE;

bt_err engine__apply_ingest(struct store_conn *conn, struct ingest_command *cmd,
                            struct arena *arena, int64_t now, struct bt_error *err) BT_MUST_USE;

#endif
