/*
 * test_store_outbox.c - delivery in the SQLite store on a real file,
 * through the public store API (store_outbox.h): outbox rows, claims with
 * leases by two nodes on two connections, the outcome of attempts with and
 * without the lease, listings, retries and replays, holding a channel,
 * counts, the channels' breakers, reps' tasks, and the schema's triggers
 * that complete a task when its assignment is contacted or closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "core/lead.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct store_conn *c;     /* node-a */
    struct store_conn *other; /* node-b, on the same file */
    struct arena a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, "store-outbox"))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = true;
    if (store_open(f->path, &opts, &f->st, &err) || store_conn_open(f->st, &f->c, &err) ||
        store_conn_open(f->st, &f->other, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_conn_close(f->c);
    store_conn_close(f->other);
    store_close(f->st);
    arena_release(&f->a);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

/* A pending row of `channel` created at `created`, due at `due`. */
static int64_t insert_row(struct fixture *f, const char *channel, int64_t lead_id, int64_t created,
                          int64_t due)
{
    static int seq;
    char uid[OUTBOX_UID_MAX];
    snprintf(uid, sizeof(uid), "msg_test%06d", ++seq);
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_row r = {
        .uid = uid,
        .channel = channel,
        .event_type = "lead.created",
        .event_id = 7,
        .lead_id = lead_id,
        .payload = "{\"id\":\"x\"}",
        .status = OUTBOX_PENDING,
        .next_attempt_at = due,
        .created_at = created,
    };
    assert_int_equal(store_outbox_insert(f->c, &r, &err), BT_OK);
    assert_true(r.id > 0);
    return r.id;
}

static struct store_outbox_row get_row(struct fixture *f, int64_t id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_row r;
    assert_int_equal(store_outbox_get(f->c, id, &f->a, &r, &err), BT_OK);
    return r;
}

/* One claim in a transaction of its own; the ids claimed into ids. */
static size_t claim(struct store_conn *c, struct arena *a, const char *channel, const char *node,
                    int64_t now, int64_t lease, unsigned limit, int64_t *ids)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_row *rows = NULL;
    size_t n = 99;
    assert_int_equal(store_begin(c, &err), BT_OK);
    assert_int_equal(store_outbox_claim(c, channel, node, now, lease, limit, a, &rows, &n, &err),
                     BT_OK);
    assert_int_equal(store_commit(c, &err), BT_OK);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rows[i].lease_owner, node);
        assert_int_equal(rows[i].next_attempt_at, now + lease);
        if (ids)
            ids[i] = rows[i].id;
    }
    return n;
}

static bool record(struct store_conn *c, int64_t id, const char *node, int64_t at, long status,
                   const char *verdict, const char *row_status, int64_t next)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_attempt att = {
        .at = at,
        .latency_ms = 25,
        .status = status,
        .verdict = verdict,
        .error = status >= 300 || status == 0 ? "it failed" : NULL,
        .response = "ok",
    };
    bool applied = !true;
    assert_int_equal(store_begin(c, &err), BT_OK);
    assert_int_equal(store_outbox_record(c, id, node, &att, row_status, next, &applied, &err),
                     BT_OK);
    assert_int_equal(store_commit(c, &err), BT_OK);
    return applied;
}

/* ---- rows ---- */

static void test_insert_get(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_row r = {
        .uid = "msg_01hx",
        .channel = "crm",
        .event_type = "lead.assigned",
        .event_id = 12,
        .lead_id = 3,
        .recipient = "ana@example.com",
        .payload = "{\"type\":\"lead.assigned\"}",
        .status = OUTBOX_PENDING,
        .next_attempt_at = 5000,
        .created_at = 5000,
    };
    assert_int_equal(store_outbox_insert(f->c, &r, &err), BT_OK);
    struct store_outbox_row g = get_row(f, r.id);
    assert_int_equal(g.id, r.id);
    assert_string_equal(g.uid, "msg_01hx");
    assert_string_equal(g.channel, "crm");
    assert_string_equal(g.event_type, "lead.assigned");
    assert_int_equal(g.event_id, 12);
    assert_int_equal(g.lead_id, 3);
    assert_string_equal(g.recipient, "ana@example.com");
    assert_string_equal(g.payload, "{\"type\":\"lead.assigned\"}");
    assert_string_equal(g.status, OUTBOX_PENDING);
    assert_int_equal(g.attempts, 0);
    assert_int_equal(g.next_attempt_at, 5000);
    assert_null(g.lease_owner);
    assert_int_equal(g.created_at, 5000);
    assert_int_equal(g.delivered_at, 0);
    assert_int_equal(g.last_status, 0);
    assert_null(g.last_error);

    /* No event, no lead, no recipient. */
    int64_t id = insert_row(f, "hook", 0, 6000, 6000);
    struct store_outbox_row h = get_row(f, id);
    assert_int_equal(h.lead_id, 0);
    assert_null(h.recipient);

    assert_int_equal(store_outbox_get(f->c, 999, &f->a, &g, &err), BT_ENOTFOUND);

    /* The uid is unique. */
    r.id = 0;
    assert_int_equal(store_outbox_insert(f->c, &r, &err), BT_ECONFLICT);
}

/* ---- claims ---- */

static void test_claim_due_of_one_channel(void **state)
{
    struct fixture *f = *state;
    int64_t late = insert_row(f, "hook", 1, 1000, 3000);
    int64_t early = insert_row(f, "hook", 1, 1000, 2000);
    int64_t future = insert_row(f, "hook", 1, 1000, 9000);
    int64_t other = insert_row(f, "slack", 1, 1000, 1000);
    (void)future;

    int64_t ids[8];
    /* Nothing due before 2000. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1999, 500, 10, ids), 0);
    /* limit 1: the earliest due. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 5000, 60000, 1, ids), 1);
    assert_int_equal(ids[0], early);
    /* Then the next; the future one and slack's are not taken. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 5000, 60000, 10, ids), 1);
    assert_int_equal(ids[0], late);

    struct store_outbox_row r = get_row(f, late);
    assert_string_equal(r.lease_owner, "node-a");
    assert_int_equal(r.next_attempt_at, 65000);
    assert_string_equal(r.status, OUTBOX_PENDING); /* a claim is not an attempt */
    assert_int_equal(r.attempts, 0);
    r = get_row(f, other);
    assert_null(r.lease_owner);

    /* Another node gets nothing while the leases run (the future row is
     * not due yet)... */
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 5001, 60000, 10, ids), 0);
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 8999, 60000, 10, ids), 0);
    /* ...but the future row once it is due... */
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 9000, 60000, 10, ids), 1);
    assert_int_equal(ids[0], future);
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 64999, 60000, 10, ids), 0);
    /* ...and node-a's two when their leases end. Within one claim the rows
     * come oldest (lowest id) first, as so_claim sorts them. */
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 65000, 1000, 10, ids), 2);
    assert_int_equal(ids[0], late);
    assert_int_equal(ids[1], early);
    r = get_row(f, early);
    assert_string_equal(r.lease_owner, "node-b");
    assert_int_equal(r.next_attempt_at, 66000);

    /* next_due: counts claimed rows at the lease's end. */
    struct bt_error err = BT_ERROR_INIT;
    int64_t at = -1;
    assert_int_equal(store_outbox_next_due(f->c, "hook", &at, &err), BT_OK);
    assert_int_equal(at, 66000);
    assert_int_equal(store_outbox_next_due(f->c, "slack", &at, &err), BT_OK);
    assert_int_equal(at, 1000);
    assert_int_equal(store_outbox_next_due(f->c, "nothing", &at, &err), BT_OK);
    assert_int_equal(at, 0);
}

static void test_record_with_and_without_lease(void **state)
{
    struct fixture *f = *state;
    int64_t id = insert_row(f, "hook", 1, 1000, 1000);
    int64_t ids[4];

    /* node-a claims and fails: failed, attempt 1, due again at 10000. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000, 30000, 10, ids), 1);
    assert_true(record(f->c, id, "node-a", 1000, 503, "retry", OUTBOX_FAILED, 10000));
    struct store_outbox_row r = get_row(f, id);
    assert_string_equal(r.status, OUTBOX_FAILED);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.next_attempt_at, 10000);
    assert_null(r.lease_owner);
    assert_int_equal(r.last_status, 503);
    assert_string_equal(r.last_error, "it failed");
    assert_int_equal(r.delivered_at, 0);

    /* node-a claims it again and stalls; its lease ends and node-b takes over. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 10000, 30000, 10, ids), 1);
    assert_int_equal(claim(f->other, &f->a, "hook", "node-b", 40000, 30000, 10, ids), 1);
    /* node-a's late answer is recorded as an attempt but changes nothing. */
    assert_false(record(f->c, id, "node-a", 10000, 200, "delivered", OUTBOX_DELIVERED, 0));
    r = get_row(f, id);
    assert_string_equal(r.status, OUTBOX_FAILED);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.lease_owner, "node-b");
    assert_int_equal(r.next_attempt_at, 70000);
    assert_int_equal(r.delivered_at, 0);

    /* node-b delivers it: delivered at the end of the attempt, not due. */
    assert_true(record(f->other, id, "node-b", 40000, 204, "delivered", OUTBOX_DELIVERED, 0));
    r = get_row(f, id);
    assert_string_equal(r.status, OUTBOX_DELIVERED);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(r.next_attempt_at, 0);
    assert_int_equal(r.delivered_at, 40025);
    assert_int_equal(r.last_status, 204);
    assert_null(r.last_error);
    assert_null(r.lease_owner);
    /* A delivered row is never claimed again. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000000, 30000, 10, ids), 0);

    /* The three attempts, oldest first, with their nodes. */
    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_attempt *att = NULL;
    size_t n = 0;
    assert_int_equal(store_delivery_attempts(f->c, id, 10, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_true(att[0].id < att[1].id && att[1].id < att[2].id);
    assert_int_equal(att[0].status, 503);
    assert_string_equal(att[0].verdict, "retry");
    assert_string_equal(att[0].node, "node-a");
    assert_string_equal(att[0].error, "it failed");
    assert_int_equal(att[0].latency_ms, 25);
    assert_int_equal(att[0].outbox_id, id);
    assert_int_equal(att[1].status, 200);
    assert_string_equal(att[1].node, "node-a");
    assert_int_equal(att[1].at, 10000);
    assert_int_equal(att[2].status, 204);
    assert_string_equal(att[2].node, "node-b");
    assert_string_equal(att[2].response, "ok");
    assert_null(att[2].error);
    /* limit */
    assert_int_equal(store_delivery_attempts(f->c, id, 2, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(att[1].status, 200);
    /* A row without attempts. */
    int64_t fresh = insert_row(f, "hook", 1, 1000, 1000);
    assert_int_equal(store_delivery_attempts(f->c, fresh, 10, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 0);
}

static void test_record_no_answer(void **state)
{
    struct fixture *f = *state;
    int64_t id = insert_row(f, "hook", 1, 1000, 1000);
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000, 30000, 10, NULL), 1);
    /* No answer (status 0), then dead: not due any more. */
    assert_true(record(f->c, id, "node-a", 1000, 0, "retry", OUTBOX_DEAD, 0));
    struct store_outbox_row r = get_row(f, id);
    assert_string_equal(r.status, OUTBOX_DEAD);
    assert_int_equal(r.last_status, 0);
    assert_int_equal(r.next_attempt_at, 0);
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000000, 30000, 10, NULL), 0);
    int64_t at = -1;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(store_outbox_next_due(f->c, "hook", &at, &err), BT_OK);
    assert_int_equal(at, 0);
}

/* ---- listings ---- */

static void test_list_filters_and_pages(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t ids[6];
    ids[0] = insert_row(f, "hook", 1, 1000, 1000);
    ids[1] = insert_row(f, "slack", 1, 1001, 1001);
    ids[2] = insert_row(f, "hook", 2, 1002, 1002);
    ids[3] = insert_row(f, "hook", 1, 1003, 1003);
    ids[4] = insert_row(f, "slack", 2, 1004, 1004);
    ids[5] = insert_row(f, "hook", 0, 1005, 1005);
    /* ids[0] fails once. */
    int64_t got[6];
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1002, 100, 1, got), 1);
    assert_int_equal(got[0], ids[0]);
    assert_true(record(f->c, ids[0], "node-a", 1002, 500, "retry", OUTBOX_FAILED, 5000));

    struct store_outbox_row *rows = NULL;
    size_t n = 0;
    struct store_outbox_filter all = {0};
    assert_int_equal(store_outbox_list(f->c, &all, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(rows[i].id, ids[5 - i]); /* newest first */

    struct store_outbox_filter by_channel = {.channel = "slack"};
    assert_int_equal(store_outbox_list(f->c, &by_channel, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, ids[4]);
    assert_int_equal(rows[1].id, ids[1]);

    struct store_outbox_filter by_status = {.status = OUTBOX_FAILED};
    assert_int_equal(store_outbox_list(f->c, &by_status, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, ids[0]);

    struct store_outbox_filter by_lead = {.lead_id = 1};
    assert_int_equal(store_outbox_list(f->c, &by_lead, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].id, ids[3]);
    assert_int_equal(rows[1].id, ids[1]);
    assert_int_equal(rows[2].id, ids[0]);

    struct store_outbox_filter combined = {
        .status = OUTBOX_PENDING, .channel = "hook", .lead_id = 1};
    assert_int_equal(store_outbox_list(f->c, &combined, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, ids[3]);

    /* Pages of two, each from before the last id of the previous one. */
    struct store_outbox_filter page = {0};
    size_t seen = 0;
    for (;;) {
        assert_int_equal(store_outbox_list(f->c, &page, 2, &f->a, &rows, &n, &err), BT_OK);
        if (n == 0)
            break;
        assert_true(n <= 2);
        for (size_t i = 0; i < n; i++, seen++)
            assert_int_equal(rows[i].id, ids[5 - seen]);
        page.before = rows[n - 1].id;
    }
    assert_int_equal(seen, 6);

    /* before with a filter */
    struct store_outbox_filter hook_before = {.channel = "hook", .before = ids[3]};
    assert_int_equal(store_outbox_list(f->c, &hook_before, 100, &f->a, &rows, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, ids[2]);
    assert_int_equal(rows[1].id, ids[0]);
}

/* ---- an admin's retry and replay ---- */

static void test_retry(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    bool found = false, changed = false;

    assert_int_equal(store_outbox_retry(f->c, 999, 5000, &found, &changed, &err), BT_OK);
    assert_false(found);
    assert_false(changed);

    /* A dead row with attempts: failed, due now, no lease. */
    int64_t dead = insert_row(f, "hook", 1, 1000, 1000);
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000, 100, 10, NULL), 1);
    assert_true(record(f->c, dead, "node-a", 1000, 400, "permanent", OUTBOX_DEAD, 0));
    assert_int_equal(store_outbox_retry(f->c, dead, 5000, &found, &changed, &err), BT_OK);
    assert_true(found);
    assert_true(changed);
    struct store_outbox_row r = get_row(f, dead);
    assert_string_equal(r.status, OUTBOX_FAILED);
    assert_int_equal(r.next_attempt_at, 5000);
    assert_null(r.lease_owner);
    assert_int_equal(r.attempts, 1); /* kept */

    /* A claimed row never tried: pending, the lease dropped. */
    int64_t claimed = insert_row(f, "slack", 1, 1000, 1000);
    assert_int_equal(claim(f->c, &f->a, "slack", "node-a", 1000, 100000, 10, NULL), 1);
    assert_int_equal(store_outbox_retry(f->c, claimed, 6000, &found, &changed, &err), BT_OK);
    assert_true(changed);
    r = get_row(f, claimed);
    assert_string_equal(r.status, OUTBOX_PENDING);
    assert_int_equal(r.next_attempt_at, 6000);
    assert_null(r.lease_owner);

    /* A delivered row: found, not changed. */
    int64_t done = insert_row(f, "crm", 1, 1000, 1000);
    assert_int_equal(claim(f->c, &f->a, "crm", "node-a", 1000, 100, 10, NULL), 1);
    assert_true(record(f->c, done, "node-a", 1000, 200, "delivered", OUTBOX_DELIVERED, 0));
    assert_int_equal(store_outbox_retry(f->c, done, 7000, &found, &changed, &err), BT_OK);
    assert_true(found);
    assert_false(changed);
    r = get_row(f, done);
    assert_string_equal(r.status, OUTBOX_DELIVERED);
    assert_int_equal(r.next_attempt_at, 0);
}

/* A row of `channel` created at `created` and brought to `status` (pending,
 * failed, delivered or dead) by a claim and an attempt. */
static int64_t row_in(struct fixture *f, const char *channel, int64_t created, const char *status)
{
    int64_t id = insert_row(f, channel, 1, created, created);
    if (strcmp(status, OUTBOX_PENDING) == 0)
        return id;
    struct bt_error err = BT_ERROR_INIT;
    int64_t ids[16];
    size_t n = claim(f->c, &f->a, channel, "node-a", created, 1, 16, ids);
    bool mine = false;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            mine = true;
        else { /* not this row: make it due again */
            bool found, changed;
            assert_int_equal(store_outbox_retry(f->c, ids[i], created, &found, &changed, &err),
                             BT_OK);
        }
    assert_true(mine);
    bool delivered = strcmp(status, OUTBOX_DELIVERED) == 0;
    assert_true(record(f->c, id, "node-a", created, delivered ? 200 : 500,
                       delivered ? "delivered" : "retry", status,
                       strcmp(status, OUTBOX_FAILED) == 0 ? created + 100000000 : 0));
    return id;
}

static void test_replay(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t d1 = row_in(f, "hook", 1000, OUTBOX_DEAD);
    int64_t d2 = row_in(f, "hook", 2000, OUTBOX_DEAD);
    int64_t d3 = row_in(f, "hook", 3000, OUTBOX_DEAD);
    int64_t ok = row_in(f, "hook", 2000, OUTBOX_DELIVERED);
    int64_t s1 = row_in(f, "slack", 2000, OUTBOX_DEAD);
    int64_t pend = row_in(f, "slack", 2500, OUTBOX_PENDING);
    (void)pend;

    /* [2000, 3000) of hook, dead: d2 only. */
    int64_t count = -1;
    assert_int_equal(store_outbox_replay(f->c, 2000, 3000, "hook", OUTBOX_DEAD, 9000, &count, &err),
                     BT_OK);
    assert_int_equal(count, 1);
    struct store_outbox_row r = get_row(f, d2);
    assert_string_equal(r.status, OUTBOX_FAILED);
    assert_int_equal(r.next_attempt_at, 9000);
    assert_string_equal(get_row(f, d1).status, OUTBOX_DEAD);
    assert_string_equal(get_row(f, d3).status, OUTBOX_DEAD);
    assert_string_equal(get_row(f, s1).status, OUTBOX_DEAD);
    assert_string_equal(get_row(f, ok).status, OUTBOX_DELIVERED);

    /* Any channel, dead or held, from 0: d1, d3, s1 (d2 is failed now). */
    assert_int_equal(store_outbox_replay(f->c, 0, 100000, NULL, "dead,held", 9500, &count, &err),
                     BT_OK);
    assert_int_equal(count, 3);
    assert_int_equal(get_row(f, d1).next_attempt_at, 9500);
    assert_int_equal(get_row(f, s1).next_attempt_at, 9500);
    assert_string_equal(get_row(f, ok).status, OUTBOX_DELIVERED);
    assert_int_equal(get_row(f, ok).next_attempt_at, 0);

    /* A status list that names none of them: nothing. */
    assert_int_equal(store_outbox_replay(f->c, 0, 100000, NULL, "held", 9600, &count, &err), BT_OK);
    assert_int_equal(count, 0);
    /* "dead" does not match "dead_x" or the like: the list is exact. */
    assert_int_equal(store_outbox_replay(f->c, 0, 100000, NULL, "ead,fail", 9600, &count, &err),
                     BT_OK);
    assert_int_equal(count, 0);
}

static void test_hold_channel(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t p = row_in(f, "hook", 1000, OUTBOX_PENDING);
    int64_t fl = row_in(f, "hook", 1100, OUTBOX_FAILED);
    int64_t dl = row_in(f, "hook", 1200, OUTBOX_DELIVERED);
    int64_t dd = row_in(f, "hook", 1300, OUTBOX_DEAD);
    int64_t other = row_in(f, "slack", 1400, OUTBOX_PENDING);
    /* p claimed by a node: held all the same, lease dropped. */
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 2000, 100000, 10, NULL), 1);

    int64_t count = -1;
    assert_int_equal(store_outbox_hold_channel(f->c, "hook", &count, &err), BT_OK);
    assert_int_equal(count, 2);
    struct store_outbox_row r = get_row(f, p);
    assert_string_equal(r.status, OUTBOX_HELD);
    assert_int_equal(r.next_attempt_at, 0);
    assert_null(r.lease_owner);
    assert_string_equal(get_row(f, fl).status, OUTBOX_HELD);
    assert_string_equal(get_row(f, dl).status, OUTBOX_DELIVERED);
    assert_string_equal(get_row(f, dd).status, OUTBOX_DEAD);
    assert_string_equal(get_row(f, other).status, OUTBOX_PENDING);
    assert_int_equal(claim(f->c, &f->a, "hook", "node-a", 1000000000, 100, 10, NULL), 0);

    /* Replayed: held ones come back, pending (never tried) or failed. */
    assert_int_equal(store_outbox_replay(f->c, 0, 10000, "hook", OUTBOX_HELD, 5000, &count, &err),
                     BT_OK);
    assert_int_equal(count, 2);
    assert_string_equal(get_row(f, p).status, OUTBOX_PENDING);
    assert_string_equal(get_row(f, fl).status, OUTBOX_FAILED);
    assert_int_equal(get_row(f, p).next_attempt_at, 5000);
}

static void test_counts(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t counts[OUTBOX_STATUSES];
    int64_t oldest = -1;
    assert_int_equal(store_outbox_counts(f->c, NULL, counts, &oldest, &err), BT_OK);
    for (int i = 0; i < OUTBOX_STATUSES; i++)
        assert_int_equal(counts[i], 0);
    assert_int_equal(oldest, 0);

    row_in(f, "hook", 1500, OUTBOX_PENDING);
    row_in(f, "hook", 1200, OUTBOX_FAILED);
    row_in(f, "hook", 1100, OUTBOX_DEAD);
    row_in(f, "slack", 1000, OUTBOX_PENDING);
    row_in(f, "slack", 900, OUTBOX_DEAD);
    row_in(f, "slack", 800, OUTBOX_DEAD);

    assert_string_equal(outbox_statuses[0], OUTBOX_PENDING);
    assert_string_equal(outbox_statuses[3], OUTBOX_DEAD);
    assert_int_equal(store_outbox_counts(f->c, NULL, counts, &oldest, &err), BT_OK);
    assert_int_equal(counts[0], 2); /* pending */
    assert_int_equal(counts[1], 1); /* failed */
    assert_int_equal(counts[3], 3); /* dead */
    assert_int_equal(counts[4], 0); /* held */
    assert_int_equal(oldest, 1000); /* slack's pending one; dead ones do not wait */

    assert_int_equal(store_outbox_counts(f->c, "hook", counts, &oldest, &err), BT_OK);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[3], 1);
    assert_int_equal(oldest, 1200);

    /* oldest may be NULL */
    assert_int_equal(store_outbox_counts(f->c, "slack", counts, NULL, &err), BT_OK);
    assert_int_equal(counts[3], 2);

    int64_t held = -1;
    assert_int_equal(store_outbox_hold_channel(f->c, "hook", &held, &err), BT_OK);
    assert_int_equal(store_outbox_counts(f->c, "hook", counts, &oldest, &err), BT_OK);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[4], 2);
    assert_int_equal(oldest, 0);
}

/*
 * The delivered column. store_outbox.h says the counts are "rows by
 * status (OUTBOX_* order: pending, failed, delivered, dead, held)", but
 * OS_COUNTS in store_sqlite_outbox.c counts only pending, failed, dead and
 * held: counts[2] is always 0. This test documents what the code does; if
 * delivered rows are meant to be counted, it should say 1.
 */
static void test_counts_delivered_not_counted(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    row_in(f, "hook", 1000, OUTBOX_DELIVERED);
    int64_t counts[OUTBOX_STATUSES];
    assert_int_equal(store_outbox_counts(f->c, NULL, counts, NULL, &err), BT_OK);
    assert_int_equal(counts[2], 0); /* see the comment above */
}

/* ---- channels ---- */

static void test_channel_breakers(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_channel ch;
    bool found = true;
    assert_int_equal(store_delivery_channel_get(f->c, "hook", &f->a, &ch, &found, &err), BT_OK);
    assert_false(found);

    struct store_delivery_channel put = {
        .id = "hook",
        .breaker = {.state = DELIVERY_CHANNEL_PAUSED,
                    .failing_since = 1000,
                    .failures = 12,
                    .next_probe_at = 70000},
        .changed_at = 60000,
        .reason = "503 Service Unavailable",
    };
    assert_int_equal(store_delivery_channel_put(f->c, &put, &err), BT_OK);
    assert_int_equal(store_delivery_channel_get(f->c, "hook", &f->a, &ch, &found, &err), BT_OK);
    assert_true(found);
    assert_string_equal(ch.id, "hook");
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_PAUSED);
    assert_int_equal(ch.breaker.failing_since, 1000);
    assert_int_equal(ch.breaker.failures, 12);
    assert_int_equal(ch.breaker.next_probe_at, 70000);
    assert_int_equal(ch.changed_at, 60000);
    assert_string_equal(ch.reason, "503 Service Unavailable");

    /* Put again: replaced. */
    put.breaker = (struct delivery_breaker){.state = DELIVERY_CHANNEL_ACTIVE};
    put.changed_at = 80000;
    put.reason = NULL;
    assert_int_equal(store_delivery_channel_put(f->c, &put, &err), BT_OK);
    assert_int_equal(store_delivery_channel_get(f->c, "hook", &f->a, &ch, &found, &err), BT_OK);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(ch.breaker.failures, 0);
    assert_int_equal(ch.breaker.failing_since, 0);
    assert_int_equal(ch.breaker.next_probe_at, 0);
    assert_int_equal(ch.changed_at, 80000);
    assert_null(ch.reason);

    struct store_delivery_channel dis = {
        .id = "crm", .breaker = {.state = DELIVERY_CHANNEL_DISABLED, .failures = 1}};
    assert_int_equal(store_delivery_channel_put(f->c, &dis, &err), BT_OK);
    struct store_delivery_channel *list = NULL;
    size_t n = 0;
    assert_int_equal(store_delivery_channel_list(f->c, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "crm"); /* by id */
    assert_int_equal(list[0].breaker.state, DELIVERY_CHANNEL_DISABLED);
    assert_string_equal(list[1].id, "hook");
}

/* ---- tasks ---- */

static struct store_task task(int64_t lead, int64_t assignment, const char *rep, const char *kind,
                              int64_t due)
{
    return (struct store_task){.lead_id = lead,
                               .assignment_id = assignment,
                               .rep_id = rep,
                               .kind = kind,
                               .title = "Call Jane Doe (Acme)",
                               .due_at = due,
                               .created_at = 1000};
}

static void test_tasks(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_task later = task(1, 0, "ana", "contact", 9000);
    struct store_task sooner = task(2, 0, "ana", "contact", 5000);
    struct store_task undated = task(3, 0, "ana", "contact", 0);
    struct store_task bobs = task(4, 0, "bob", "contact", 1000);
    assert_int_equal(store_task_insert(f->c, &later, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &sooner, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &undated, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &bobs, &err), BT_OK);
    assert_true(later.id > 0 && sooner.id > later.id);

    struct store_task g;
    assert_int_equal(store_task_get(f->c, later.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.lead_id, 1);
    assert_int_equal(g.assignment_id, 0);
    assert_string_equal(g.rep_id, "ana");
    assert_string_equal(g.kind, "contact");
    assert_string_equal(g.title, "Call Jane Doe (Acme)");
    assert_int_equal(g.due_at, 9000);
    assert_int_equal(g.created_at, 1000);
    assert_int_equal(g.done_at, 0);
    assert_null(g.done_by);
    assert_int_equal(store_task_get(f->c, 999, &f->a, &g, &err), BT_ENOTFOUND);

    /* Open ones by due, undated last. */
    struct store_task *list = NULL;
    size_t n = 0;
    assert_int_equal(store_task_list(f->c, "ana", false, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, sooner.id);
    assert_int_equal(list[1].id, later.id);
    assert_int_equal(list[2].id, undated.id);
    /* offset and limit */
    assert_int_equal(store_task_list(f->c, "ana", false, 1, 1, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, later.id);

    /* Done: once. */
    assert_int_equal(store_task_done(f->c, sooner.id, 6000, "rep:ana", &err), BT_OK);
    assert_int_equal(store_task_done(f->c, sooner.id, 7000, "rep:ana", &err), BT_ECONFLICT);
    assert_int_equal(store_task_done(f->c, 999, 7000, "rep:ana", &err), BT_ENOTFOUND);
    assert_int_equal(store_task_get(f->c, sooner.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 6000);
    assert_string_equal(g.done_by, "rep:ana");
    assert_int_equal(store_task_done(f->c, later.id, 8000, "rep:ana", &err), BT_OK);

    assert_int_equal(store_task_list(f->c, "ana", false, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, undated.id);
    /* Done ones newest first. */
    assert_int_equal(store_task_list(f->c, "ana", true, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, later.id);
    assert_int_equal(list[1].id, sooner.id);
    /* Another rep's are not mixed in. */
    assert_int_equal(store_task_list(f->c, "bob", false, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, bobs.id);
    assert_int_equal(store_task_list(f->c, "cy", false, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 0);
}

static void test_meetings(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct store_task m2 = task(1, 0, "ana", "meeting", 0);
    m2.starts_at = 20000, m2.ends_at = 21000;
    struct store_task m1 = task(2, 0, "ana", "meeting", 0);
    m1.starts_at = 10000, m1.ends_at = 11000;
    struct store_task past = task(3, 0, "ana", "meeting", 0);
    past.starts_at = 1000, past.ends_at = 2000;
    struct store_task done = task(4, 0, "ana", "meeting", 0);
    done.starts_at = 30000, done.ends_at = 31000;
    struct store_task bobs = task(5, 0, "bob", "meeting", 0);
    bobs.starts_at = 15000, bobs.ends_at = 16000;
    struct store_task plain = task(6, 0, "ana", "contact", 12000);
    struct store_task *all[] = {&m2, &m1, &past, &done, &bobs, &plain};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(store_task_insert(f->c, all[i], &err), BT_OK);
    assert_int_equal(store_task_done(f->c, done.id, 5000, "rep:ana", &err), BT_OK);

    int64_t slots[8][2];
    size_t n = 0;
    assert_int_equal(store_task_meetings(f->c, "ana", 5000, 8, slots, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(slots[0][0], 10000);
    assert_int_equal(slots[0][1], 11000);
    assert_int_equal(slots[1][0], 20000);
    assert_int_equal(slots[1][1], 21000);
    /* One under way at `from` counts (it ends after it). */
    assert_int_equal(store_task_meetings(f->c, "ana", 10500, 8, slots, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    /* limit */
    assert_int_equal(store_task_meetings(f->c, "ana", 0, 1, slots, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(slots[0][0], 1000);
}

/* ---- the triggers ---- */

static int64_t insert_lead(struct fixture *f, const char *email)
{
    struct bt_error err = BT_ERROR_INIT;
    struct lead l = {0};
    l.attr[LEAD_EMAIL] = email;
    l.attr[LEAD_STAGE] = "assigned";
    l.attr[LEAD_OWNER] = "ana";
    l.employees = -1;
    l.fields_json = "{}";
    l.created_at = l.updated_at = 1000;
    assert_int_equal(store_lead_insert(f->c, &l, &err), BT_OK);
    return l.id;
}

static struct store_assignment insert_assignment(struct fixture *f, int64_t lead)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_assignment a = {.lead_id = lead,
                                 .rep_id = "ana",
                                 .attempt = 1,
                                 .status = ASSIGNMENT_ACCEPTED,
                                 .assigned_at = 1000,
                                 .accepted_at = 1500,
                                 .contact_by = 9000};
    assert_int_equal(store_assignment_insert(f->c, &a, &err), BT_OK);
    return a;
}

static void test_trigger_contacted(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t lead = insert_lead(f, "jane@acme.example");
    struct store_assignment a = insert_assignment(f, lead);
    struct store_task contact = task(lead, a.id, "ana", "contact", 9000);
    struct store_task meeting = task(lead, a.id, "ana", "meeting", 0);
    meeting.starts_at = 20000, meeting.ends_at = 21000;
    assert_int_equal(store_task_insert(f->c, &contact, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &meeting, &err), BT_OK);

    /* Any other update: nothing. */
    a.reminders_sent = 1;
    assert_int_equal(store_assignment_update(f->c, &a, &err), BT_OK);
    struct store_task g;
    assert_int_equal(store_task_get(f->c, contact.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 0);

    /* Contacted: the contact task is done at that instant, the meeting is not. */
    a.status = ASSIGNMENT_CONTACTED;
    a.contacted_at = 4000;
    assert_int_equal(store_assignment_update(f->c, &a, &err), BT_OK);
    assert_int_equal(store_task_get(f->c, contact.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 4000);
    assert_string_equal(g.done_by, "contacted");
    assert_int_equal(store_task_get(f->c, meeting.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 0);
}

static void test_trigger_closed(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    int64_t lead = insert_lead(f, "joe@acme.example");
    struct store_assignment a = insert_assignment(f, lead);
    struct store_task contact = task(lead, a.id, "ana", "contact", 9000);
    struct store_task meeting = task(lead, a.id, "ana", "meeting", 0);
    meeting.starts_at = 20000, meeting.ends_at = 21000;
    struct store_task already = task(lead, a.id, "ana", "contact", 8000);
    struct store_task unrelated = task(lead, 0, "ana", "contact", 8000);
    assert_int_equal(store_task_insert(f->c, &contact, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &meeting, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &already, &err), BT_OK);
    assert_int_equal(store_task_insert(f->c, &unrelated, &err), BT_OK);
    assert_int_equal(store_task_done(f->c, already.id, 2000, "rep:ana", &err), BT_OK);

    a.status = ASSIGNMENT_REASSIGNED;
    a.closed_at = 5000;
    a.closed_by = "manager:mia";
    assert_int_equal(store_assignment_update(f->c, &a, &err), BT_OK);

    struct store_task g;
    assert_int_equal(store_task_get(f->c, contact.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 5000);
    assert_string_equal(g.done_by, "assignment reassigned");
    assert_int_equal(store_task_get(f->c, meeting.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 5000);
    /* One done before keeps its own record; another assignment's is untouched. */
    assert_int_equal(store_task_get(f->c, already.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 2000);
    assert_string_equal(g.done_by, "rep:ana");
    assert_int_equal(store_task_get(f->c, unrelated.id, &f->a, &g, &err), BT_OK);
    assert_int_equal(g.done_at, 0);

    struct store_task *list = NULL;
    size_t n = 0;
    assert_int_equal(store_task_list(f->c, "ana", false, 0, 10, &f->a, &list, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, unrelated.id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_due_of_one_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_with_and_without_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_delivered_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_breakers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meetings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_contacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_closed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
