/*
 * test_engine_outbox.c - delivery in the engine (engine_outbox.c) on a real
 * SQLite file with a manual clock: outbox rows written in the same commit
 * as the events they carry (and not at all when the command fails), the
 * message context in the payload, the contact task of an assignment, the
 * worker's claims and reports (retry schedule, dead letters, a 410
 * disabling its channel, the breaker pausing one that keeps failing), an
 * admin's retry, replay and enable, an email to a rep who has no address,
 * and a contact task completed by the rep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "config/config.h"
#include "engine/engine.h"
#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_outbox.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_MS 1795253400000LL /* 2026-11-21T09:30:00Z */
#define SEC_MS   1000LL
#define MIN_MS   60000LL

/*
 * Two reps in a round-robin pool (ana with an address, ben without one);
 * demo requests fast-track to mql and so are routed in their intake
 * command. Channels: `hook` on lead.created and lead.assigned, `never`
 * whose `when` no lead meets, `ops` on the delivery announcements, `mql`
 * on the milestone lead.mql of demo leads, and `rep-mail` to the rep of
 * lead.assigned.
 */
static const char yaml[] = "version: 1\n"
                           "qualification:\n"
                           "  fast_track_when: source == \"demo\"\n"
                           "reps:\n"
                           "  - {id: ana, name: Ana, email: ana@example.com}\n"
                           "  - {id: ben, name: Ben}\n"
                           "pools:\n"
                           "  - {id: inbound, strategy: round_robin, members: [ana, ben]}\n"
                           "routing:\n"
                           "  rules:\n"
                           "    - {name: everyone, to: 'pool:inbound'}\n"
                           "delivery:\n"
                           "  smtp: {url: \"smtp://127.0.0.1:2525\", from: baton@example.com}\n"
                           "  retry: [0s, 10s, 1m]\n"
                           "  breaker: {pause_after: 1m, min_failures: 2, probe_every: 1m}\n"
                           "  channels:\n"
                           "    - id: hook\n"
                           "      type: webhook\n"
                           "      events: [lead.created, lead.assigned]\n"
                           "      url: http://127.0.0.1:9/hook\n"
                           "    - id: never\n"
                           "      type: webhook\n"
                           "      events: [lead.created]\n"
                           "      when: source == \"never\"\n"
                           "      url: http://127.0.0.1:9/never\n"
                           "    - id: ops\n"
                           "      type: webhook\n"
                           "      events: [\"delivery.*\"]\n"
                           "      url: http://127.0.0.1:9/ops\n"
                           "    - id: mql\n"
                           "      type: webhook\n"
                           "      events: [lead.mql]\n"
                           "      when: source == \"demo\"\n"
                           "      url: http://127.0.0.1:9/mql\n"
                           "    - id: rep-mail\n"
                           "      type: email\n"
                           "      events: [lead.assigned]\n"
                           "      to: rep\n";

struct fixture {
    char dir[TMPDIR_MAX];
    char path[128];
    struct store *st;
    struct engine *eng;
    struct clock clock;
    struct store_conn *reader;
    struct arena a;
    struct config *cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !tmpdir_make(f->dir, "engine-outbox"))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    clock_manual_init(&f->clock, START_MS);
    struct bt_error err = BT_ERROR_INIT;
    struct engine_options opts = {.group_commit_max = 8, .node_id = "node-a"};
    struct store_options sopts = STORE_OPTIONS_INIT;
    sopts.create = true;
    if (store_open(f->path, &sopts, &f->st, &err) ||
        engine_start(f->st, &f->clock, &opts, &f->eng, &err) ||
        store_reader_acquire(f->st, &f->reader, &err) ||
        config_load_string("t.yaml", yaml, strlen(yaml), &f->cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    engine_stop(f->eng);
    store_reader_release(f->st, f->reader);
    store_close(f->st);
    config_unref(f->cfg);
    arena_release(&f->a);
    if (tmpdir_remove(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

/* ---- helpers ---- */

static bt_err try_ingest(struct fixture *f, const char *email, const char *source, struct lead *out)
{
    struct bt_error err = BT_ERROR_INIT;
    struct ingest_command c = {0};
    c.cfg = f->cfg;
    c.lead.attr[LEAD_EMAIL] = email;
    c.lead.attr[LEAD_EMAIL_DOMAIN] = strchr(email, '@') + 1;
    c.lead.attr[LEAD_SOURCE] = source;
    c.lead.attr[LEAD_FIRST_NAME] = "Jane";
    c.lead.attr[LEAD_LAST_NAME] = "Doe";
    c.lead.attr[LEAD_COMPANY] = "Acme";
    c.lead.employees = -1;
    c.lead.fields_json = "{}";
    c.actor = "key:1";
    c.fingerprint = email;
    bt_err e = engine_ingest(f->eng, &c, &f->a, &err);
    if (!e) {
        assert_int_equal(c.outcome, INGEST_CREATED);
        if (out)
            *out = c.result;
    }
    return e;
}

static struct lead ingest(struct fixture *f, const char *email, const char *source)
{
    struct lead l;
    assert_int_equal(try_ingest(f, email, source, &l), BT_OK);
    return l;
}

/* The outbox rows matching the filter, newest first. */
static struct store_outbox_row *rows_of(struct fixture *f, const char *channel, int64_t lead_id,
                                        const char *status, size_t *n)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_filter flt = {.status = status, .channel = channel, .lead_id = lead_id};
    struct store_outbox_row *rows = NULL;
    assert_int_equal(store_outbox_list(f->reader, &flt, 1000, &f->a, &rows, n, &err), BT_OK);
    return rows;
}

static size_t count_rows(struct fixture *f, const char *channel, int64_t lead_id,
                         const char *status)
{
    size_t n;
    rows_of(f, channel, lead_id, status, &n);
    return n;
}

/* The one row of `channel` for `type` of the lead. */
static struct store_outbox_row row_for(struct fixture *f, const char *channel, int64_t lead_id,
                                       const char *type)
{
    size_t n;
    struct store_outbox_row *rows = rows_of(f, channel, lead_id, NULL, &n);
    struct store_outbox_row *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].event_type, type) == 0) {
            assert_null(found);
            found = &rows[i];
        }
    if (!found)
        fail_msg("no %s row on %s for lead %lld", type, channel, (long long)lead_id);
    return *found;
}

static struct store_outbox_row get_row(struct fixture *f, int64_t id)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_outbox_row r;
    assert_int_equal(store_outbox_get(f->reader, id, &f->a, &r, &err), BT_OK);
    return r;
}

static json_t *parse(const char *s)
{
    json_error_t jerr;
    json_t *j = json_loads(s, 0, &jerr);
    if (!j)
        fail_msg("not JSON: %s: %s", jerr.text, s);
    return j;
}

/* Claims `channel`'s due rows for a minute. */
static size_t claim(struct fixture *f, const char *channel, struct store_outbox_row **rows)
{
    struct bt_error err = BT_ERROR_INIT;
    struct outbox_claim c = {.channel = channel, .limit = 50};
    assert_int_equal(engine_outbox_claim(f->eng, &c, 1, MIN_MS, &f->a, &err), BT_OK);
    if (rows)
        *rows = c.rows;
    return c.n;
}

/* Reports one attempt at row `r` with `verdict` (and HTTP `status`). */
static struct outbox_result report(struct fixture *f, const struct store_outbox_row *r,
                                   enum delivery_verdict verdict, long status)
{
    struct bt_error err = BT_ERROR_INIT;
    struct outbox_result res = {
        .id = r->id,
        .channel = r->channel,
        .attempts = r->attempts,
        .verdict = verdict,
        .attempt = {.at = clock_now(&f->clock),
                    .latency_ms = 12,
                    .status = status,
                    .error = verdict == DELIVERY_DELIVERED ? NULL : "the receiver refused"},
    };
    assert_int_equal(engine_outbox_report(f->eng, f->cfg, &res, 1, &f->a, &err), BT_OK);
    return res;
}

static struct store_delivery_channel channel_state(struct fixture *f, const char *id, bool *found)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_channel ch;
    assert_int_equal(store_delivery_channel_get(f->reader, id, &f->a, &ch, found, &err), BT_OK);
    return ch;
}

static void exec_sql(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* ---- rows written with the events ---- */

static void test_lead_created_writes_one_row(void **state)
{
    struct fixture *f = *state;
    struct lead l = ingest(f, "jane@acme.example", "web");

    /* hook: one row, pending, due now; `never`: none (its `when` is false). */
    assert_int_equal(count_rows(f, "hook", l.id, NULL), 1);
    assert_int_equal(count_rows(f, "never", 0, NULL), 0);
    assert_int_equal(count_rows(f, "ops", 0, NULL), 0);
    assert_int_equal(count_rows(f, "rep-mail", 0, NULL), 0); /* not subscribed */

    struct store_outbox_row r = row_for(f, "hook", l.id, "lead.created");
    assert_string_equal(r.status, OUTBOX_PENDING);
    assert_int_equal(r.next_attempt_at, START_MS);
    assert_int_equal(r.created_at, START_MS);
    assert_int_equal(r.attempts, 0);
    assert_null(r.recipient);
    assert_true(r.event_id > 0);
    assert_true(strncmp(r.uid, "msg_", 4) == 0);

    json_t *p = parse(r.payload);
    assert_true(json_is_object(p));
    assert_string_equal(json_string_value(json_object_get(p, "id")), r.uid);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "lead.created");
    json_t *ev = json_object_get(p, "event");
    assert_true(json_is_object(ev));
    assert_int_equal(json_integer_value(json_object_get(ev, "id")), r.event_id);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "lead.created");
    assert_string_equal(json_string_value(json_object_get(ev, "actor")), "key:1");
    char at[RFC3339_MAX];
    time_format_rfc3339(START_MS, at);
    assert_string_equal(json_string_value(json_object_get(ev, "at")), at);
    json_t *lead = json_object_get(p, "lead");
    assert_true(json_is_object(lead));
    assert_int_equal(json_integer_value(json_object_get(lead, "id")), l.id);
    assert_string_equal(json_string_value(json_object_get(lead, "email")), "jane@acme.example");
    assert_string_equal(json_string_value(json_object_get(lead, "name")), "Jane Doe");
    assert_string_equal(json_string_value(json_object_get(lead, "company")), "Acme");
    assert_true(json_is_object(json_object_get(lead, "fields")));
    assert_true(json_is_object(json_object_get(p, "data")));
    assert_null(json_object_get(p, "rep"));
    json_decref(p);

    /* The row is in the same commit as the event: the event it names exists. */
    struct bt_error err = BT_ERROR_INIT;
    struct lead_event *evs;
    size_t n;
    assert_int_equal(store_event_list(f->reader, l.id, 0, 100, &f->a, &evs, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].id, r.event_id);
}

static void test_failed_command_leaves_no_row(void **state)
{
    struct fixture *f = *state;
    /* The store refuses lead.assigned's rows: a routed intake fails after it
     * wrote lead.created's row, the lead, its stage changes, the assignment. */
    exec_sql(f, "CREATE TRIGGER refuse_assigned BEFORE INSERT ON outbox "
                "WHEN NEW.event_type = 'lead.assigned' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    assert_int_not_equal(try_ingest(f, "doomed@acme.example", "demo", NULL), BT_OK);

    size_t n;
    rows_of(f, NULL, 0, NULL, &n);
    assert_int_equal(n, 0);
    struct bt_error err = BT_ERROR_INIT;
    struct lead l;
    assert_int_equal(store_lead_find_by_email(f->reader, "doomed@acme.example", &f->a, &l, &err),
                     BT_ENOTFOUND);
    struct store_task *tasks;
    assert_int_equal(store_task_list(f->reader, "ana", false, 0, 10, &f->a, &tasks, &n, &err),
                     BT_OK);
    assert_int_equal(n, 0);

    /* A command that does not reach the refusal still writes its row. */
    struct lead ok = ingest(f, "fine@acme.example", "web");
    assert_int_equal(count_rows(f, "hook", ok.id, NULL), 1);
    exec_sql(f, "DROP TRIGGER refuse_assigned");

    /* The refused address goes through once the store takes it. */
    struct lead later = ingest(f, "doomed@acme.example", "demo");
    assert_int_equal(count_rows(f, "hook", later.id, NULL), 2);
}

static void test_assigned_lead_rows_and_task(void **state)
{
    struct fixture *f = *state;
    struct lead l = ingest(f, "buyer@acme.example", "demo");
    assert_string_equal(l.attr[LEAD_OWNER], "ana");

    /* hook: lead.created and lead.assigned; rep-mail: lead.assigned to ana. */
    assert_int_equal(count_rows(f, "hook", l.id, NULL), 2);
    struct store_outbox_row r = row_for(f, "hook", l.id, "lead.assigned");
    assert_string_equal(r.status, OUTBOX_PENDING);
    assert_int_equal(r.next_attempt_at, START_MS);

    struct bt_error err = BT_ERROR_INIT;
    struct store_assignment a;
    bool found;
    assert_int_equal(store_assignment_live(f->reader, l.id, &f->a, &found, &a, &err), BT_OK);
    assert_true(found);
    assert_string_equal(a.status, ASSIGNMENT_PENDING);

    json_t *p = parse(r.payload);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "lead.assigned");
    json_t *rep = json_object_get(p, "rep");
    assert_true(json_is_object(rep));
    assert_string_equal(json_string_value(json_object_get(rep, "id")), "ana");
    assert_string_equal(json_string_value(json_object_get(rep, "name")), "Ana");
    assert_string_equal(json_string_value(json_object_get(rep, "email")), "ana@example.com");
    json_t *asg = json_object_get(p, "assignment");
    assert_true(json_is_object(asg));
    assert_int_equal(json_integer_value(json_object_get(asg, "id")), a.id);
    assert_int_equal(json_integer_value(json_object_get(asg, "attempt")), 1);
    assert_string_equal(json_string_value(json_object_get(asg, "pool")), "inbound");
    assert_string_equal(json_string_value(json_object_get(asg, "rule")), "everyone");
    json_t *data = json_object_get(p, "data");
    assert_string_equal(json_string_value(json_object_get(data, "rep")), "ana");
    assert_int_equal(json_integer_value(json_object_get(data, "assignment")), a.id);
    json_decref(p);

    struct store_outbox_row m = row_for(f, "rep-mail", l.id, "lead.assigned");
    assert_string_equal(m.status, OUTBOX_PENDING);
    assert_string_equal(m.recipient, "ana@example.com");

    /* The contact task. */
    struct store_task *tasks;
    size_t n;
    assert_int_equal(store_task_list(f->reader, "ana", false, 0, 10, &f->a, &tasks, &n, &err),
                     BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(tasks[0].kind, "contact");
    assert_int_equal(tasks[0].lead_id, l.id);
    assert_int_equal(tasks[0].assignment_id, a.id);
    assert_non_null(strstr(tasks[0].title, "Jane Doe"));
    assert_non_null(strstr(tasks[0].title, "Acme"));
    assert_int_equal(tasks[0].done_at, 0);
}

static void test_email_to_rep_without_address_is_dead(void **state)
{
    struct fixture *f = *state;
    ingest(f, "first@acme.example", "demo");                  /* ana */
    struct lead l = ingest(f, "second@acme.example", "demo"); /* ben, who has no address */
    assert_string_equal(l.attr[LEAD_OWNER], "ben");

    struct store_outbox_row m = row_for(f, "rep-mail", l.id, "lead.assigned");
    assert_string_equal(m.status, OUTBOX_DEAD);
    assert_int_equal(m.next_attempt_at, 0);
    assert_null(m.recipient);

    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_attempt *att;
    size_t n;
    assert_int_equal(store_delivery_attempts(f->reader, m.id, 10, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(att[0].verdict, "undeliverable");
    assert_string_equal(att[0].error, "the rep has no email address");
    /* Never claimed. */
    assert_int_equal(claim(f, "rep-mail", NULL), 1); /* ana's only */
    /* The webhook row of the same event is not affected. */
    assert_string_equal(row_for(f, "hook", l.id, "lead.assigned").status, OUTBOX_PENDING);
}

/*
 * KNOWN BUG (engine_outbox.c, insert_row): the reason an undeliverable row
 * can never go is recorded as its attempt, but the row itself is not
 * updated: insert_row calls store_outbox_record(..., node "", ...) on a row
 * it has just inserted with lease_owner NULL, and store_outbox_record only
 * applies an outcome WHERE lease_owner = node, so *applied is false (and
 * ignored) and the row keeps attempts 0 and last_error NULL. Expected: the
 * row says attempts 1, last_error "the rep has no email address", like a
 * row whose attempts failed. The test asserts that and reports SKIPPED
 * while the bug is there, so that the suite stays green and the bug stays
 * visible.
 */
static void test_bug_undeliverable_row_keeps_its_reason(void **state)
{
    struct fixture *f = *state;
    ingest(f, "first@acme.example", "demo");                  /* ana */
    struct lead l = ingest(f, "second@acme.example", "demo"); /* ben: no address */
    struct store_outbox_row m = row_for(f, "rep-mail", l.id, "lead.assigned");
    assert_string_equal(m.status, OUTBOX_DEAD);
    if (!m.last_error && m.attempts == 0) {
        print_message("KNOWN BUG: engine_outbox.c insert_row: the undeliverable row keeps "
                      "attempts 0 and last_error NULL (store_outbox_record not applied)\n");
        skip();
    }
    assert_int_equal(m.attempts, 1);
    assert_non_null(m.last_error);
    assert_string_equal(m.last_error, "the rep has no email address");
}

static void test_stage_change_as_milestone(void **state)
{
    struct fixture *f = *state;
    /* A demo lead becomes mql: its stage change goes out as lead.mql. */
    struct lead l = ingest(f, "buyer@acme.example", "demo");
    size_t n;
    struct store_outbox_row *rows = rows_of(f, "mql", l.id, NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].event_type, "lead.mql");
    assert_string_equal(rows[0].status, OUTBOX_PENDING);
    json_t *p = parse(rows[0].payload);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "lead.mql");
    json_t *ev = json_object_get(p, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "lead.stage_changed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "data"), "to")),
                        "mql");
    json_decref(p);
    /* Another source does not qualify and fails `when` anyway: nothing. */
    struct lead cold = ingest(f, "cold@acme.example", "web");
    assert_int_equal(count_rows(f, "mql", cold.id, NULL), 0);
}

static void count_call(void *ctx)
{
    (*(int *)ctx)++;
}

static void test_outbox_hook_after_commit(void **state)
{
    struct fixture *f = *state;
    int calls = 0;
    engine_set_outbox_hook(f->eng, count_call, &calls);
    ingest(f, "one@acme.example", "web");
    assert_int_equal(calls, 1);
    /* A claim makes nothing due now. */
    assert_int_equal(claim(f, "hook", NULL), 1);
    assert_int_equal(calls, 1);
    /* Rows written held (the channel is disabled) are not due either. */
    struct bt_error err = BT_ERROR_INIT;
    struct outbox_admin_command dis = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_DISABLE, .channel = "hook", .actor = "admin:1"};
    assert_int_equal(engine_outbox_admin(f->eng, &dis, &f->a, &err), BT_OK);
    assert_int_equal(calls, 1);
    ingest(f, "two@acme.example", "web");
    assert_int_equal(calls, 1);
    /* Enabling makes them due: called. */
    struct outbox_admin_command en = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_ENABLE, .channel = "hook", .actor = "admin:1"};
    assert_int_equal(engine_outbox_admin(f->eng, &en, &f->a, &err), BT_OK);
    assert_int_equal(en.count, 2);
    assert_int_equal(calls, 2);
    engine_set_outbox_hook(f->eng, NULL, NULL);
}

/*
 * Recipients and deadlines: ana (Europe/Berlin) has a manager through her
 * team, bob has none; an SLA policy gives every assignment an hour to be
 * accepted. `boss` mails the rep's manager, `thanks` the prospect.
 */
static const char recipients_yaml[] =
    "version: 1\n"
    "qualification:\n"
    "  fast_track_when: source == \"demo\"\n"
    "teams:\n"
    "  - {id: emea, manager: max}\n"
    "reps:\n"
    "  - {id: ana, name: Ana, team: emea, email: ana@example.com, timezone: Europe/Berlin}\n"
    "  - {id: bob, name: Bob, email: bob@example.com}\n"
    "  - {id: max, name: Max, email: max@example.com, active: false}\n"
    "pools:\n"
    "  - {id: inbound, strategy: round_robin, members: [ana, bob]}\n"
    "routing:\n"
    "  rules:\n"
    "    - {name: everyone, to: 'pool:inbound'}\n"
    "sla:\n"
    "  policies:\n"
    "    - {name: standard, accept_within: 1h}\n"
    "delivery:\n"
    "  smtp: {url: \"smtp://127.0.0.1:2525\", from: baton@example.com}\n"
    "  channels:\n"
    "    - id: boss\n"
    "      type: email\n"
    "      events: [lead.assigned]\n"
    "      to: manager\n"
    "    - id: thanks\n"
    "      type: email\n"
    "      events: [lead.created]\n"
    "      to: prospect\n";

static void test_manager_prospect_and_deadline(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct config *cfg = NULL;
    if (config_load_string("r.yaml", recipients_yaml, strlen(recipients_yaml), &cfg, &err))
        fail_msg("%s", err.message);
    struct config *saved = f->cfg;
    f->cfg = cfg;

    /* ana's lead: her manager is mailed; the prospect is thanked. */
    struct lead l1 = ingest(f, "one@acme.example", "demo");
    assert_string_equal(l1.attr[LEAD_OWNER], "ana");
    struct store_outbox_row b1 = row_for(f, "boss", l1.id, "lead.assigned");
    assert_string_equal(b1.status, OUTBOX_PENDING);
    assert_string_equal(b1.recipient, "max@example.com");
    json_t *p = parse(b1.payload);
    json_t *mgr = json_object_get(p, "manager");
    assert_string_equal(json_string_value(json_object_get(mgr, "id")), "max");
    assert_string_equal(json_string_value(json_object_get(mgr, "email")), "max@example.com");
    json_t *asg = json_object_get(p, "assignment");
    char at[RFC3339_MAX];
    time_format_rfc3339(START_MS + 3600000LL, at);
    assert_string_equal(json_string_value(json_object_get(asg, "accept_by")), at);
    assert_string_equal(json_string_value(json_object_get(asg, "policy")), "standard");
    /* 10:30 UTC is 11:30 in Berlin in November */
    assert_string_equal(json_string_value(json_object_get(asg, "accept_by_local")),
                        "2026-11-21 11:30 Europe/Berlin");
    json_decref(p);
    struct store_outbox_row t1 = row_for(f, "thanks", l1.id, "lead.created");
    assert_string_equal(t1.recipient, "one@acme.example");

    /* The contact task is due when the assignment must be accepted. */
    struct store_task *tasks;
    size_t n;
    assert_int_equal(store_task_list(f->reader, "ana", false, 0, 10, &f->a, &tasks, &n, &err),
                     BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tasks[0].due_at, START_MS + 3600000LL);
    assert_string_equal(tasks[0].title, "Call Jane Doe (Acme) before 11:30 (Europe/Berlin)");

    /* bob's lead: bob has no manager, a dead row says so. */
    struct lead l2 = ingest(f, "two@acme.example", "demo");
    assert_string_equal(l2.attr[LEAD_OWNER], "bob");
    struct store_outbox_row b2 = row_for(f, "boss", l2.id, "lead.assigned");
    assert_string_equal(b2.status, OUTBOX_DEAD);
    struct store_delivery_attempt *att;
    assert_int_equal(store_delivery_attempts(f->reader, b2.id, 10, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(att[0].error, "the rep has no manager");

    /* A prospect who opted out is owed nothing. */
    struct ingest_command c = {0};
    c.cfg = cfg;
    c.lead.attr[LEAD_EMAIL] = "quiet@acme.example";
    c.lead.attr[LEAD_EMAIL_DOMAIN] = "acme.example";
    c.lead.attr[LEAD_SOURCE] = "web";
    c.lead.employees = -1;
    c.lead.fields_json = "{\"opt_out\": true}";
    c.actor = "key:1";
    c.fingerprint = "quiet";
    assert_int_equal(engine_ingest(f->eng, &c, &f->a, &err), BT_OK);
    assert_int_equal(count_rows(f, "thanks", c.result.id, NULL), 0);

    f->cfg = saved;
    config_unref(cfg);
}

/* ---- the worker's claims and reports ---- */

static void test_claim_and_retry_schedule(void **state)
{
    struct fixture *f = *state;
    struct lead l = ingest(f, "jane@acme.example", "web");
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 1);
    struct store_outbox_row r = rows[0];
    assert_int_equal(r.lead_id, l.id);
    assert_string_equal(r.lease_owner, "node-a");
    assert_int_equal(r.next_attempt_at, START_MS + MIN_MS);
    assert_int_equal(claim(f, "hook", NULL), 0); /* leased */

    /* First failure: retry: [0s, 10s, 1m] -> 10 s later, ±20 %. */
    struct outbox_result res = report(f, &r, DELIVERY_RETRY, 503);
    assert_true(res.applied);
    assert_string_equal(res.status, OUTBOX_FAILED);
    assert_true(res.next_attempt_at >= START_MS + 8 * SEC_MS);
    assert_true(res.next_attempt_at < START_MS + 12 * SEC_MS);
    struct store_outbox_row g = get_row(f, r.id);
    assert_string_equal(g.status, OUTBOX_FAILED);
    assert_int_equal(g.attempts, 1);
    assert_int_equal(g.next_attempt_at, res.next_attempt_at);
    assert_int_equal(g.last_status, 503);
    assert_null(g.lease_owner);

    /* Not due before then. */
    clock_manual_set(&f->clock, START_MS + 7 * SEC_MS);
    assert_int_equal(claim(f, "hook", NULL), 0);
    clock_manual_set(&f->clock, START_MS + 12 * SEC_MS);
    assert_int_equal(claim(f, "hook", &rows), 1);

    /* Second failure: 1 min later, ±20 %. */
    int64_t now = START_MS + 12 * SEC_MS;
    res = report(f, &rows[0], DELIVERY_RETRY, 500);
    assert_string_equal(res.status, OUTBOX_FAILED);
    assert_true(res.next_attempt_at >= now + 48 * SEC_MS);
    assert_true(res.next_attempt_at < now + 72 * SEC_MS);

    /* Third failure: the schedule is used up, dead. */
    now += 72 * SEC_MS;
    clock_manual_set(&f->clock, now);
    assert_int_equal(claim(f, "hook", &rows), 1);
    assert_int_equal(rows[0].attempts, 2);
    res = report(f, &rows[0], DELIVERY_RETRY, 500);
    assert_string_equal(res.status, OUTBOX_DEAD);
    assert_int_equal(res.next_attempt_at, 0);
    g = get_row(f, r.id);
    assert_string_equal(g.status, OUTBOX_DEAD);
    assert_int_equal(g.attempts, 3);

    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_attempt *att;
    size_t n;
    assert_int_equal(store_delivery_attempts(f->reader, r.id, 10, &f->a, &att, &n, &err), BT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(att[0].verdict, "retry");
    assert_string_equal(att[0].node, "node-a");
}

static void test_retry_after_and_delivered(void **state)
{
    struct fixture *f = *state;
    ingest(f, "jane@acme.example", "web");
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 1);
    struct store_outbox_row r = rows[0];

    /* A 429 asking for 2 minutes: exactly that, no jitter, counted from
     * the end of the attempt (it took 5 ms). */
    struct bt_error err = BT_ERROR_INIT;
    struct outbox_result res = {
        .id = r.id,
        .channel = "hook",
        .attempts = 0,
        .verdict = DELIVERY_RETRY,
        .retry_after_ms = 2 * MIN_MS,
        .attempt = {.at = START_MS, .latency_ms = 5, .status = 429, .error = "slow down"},
    };
    assert_int_equal(engine_outbox_report(f->eng, f->cfg, &res, 1, &f->a, &err), BT_OK);
    assert_int_equal(res.next_attempt_at, START_MS + 5 + 2 * MIN_MS);

    clock_manual_set(&f->clock, START_MS + 5 + 2 * MIN_MS);
    assert_int_equal(claim(f, "hook", &rows), 1);
    res = report(f, &rows[0], DELIVERY_DELIVERED, 200);
    assert_string_equal(res.status, OUTBOX_DELIVERED);
    struct store_outbox_row g = get_row(f, r.id);
    assert_string_equal(g.status, OUTBOX_DELIVERED);
    assert_int_equal(g.delivered_at, START_MS + 5 + 2 * MIN_MS + 12);
    assert_int_equal(g.attempts, 2);
}

static void test_lost_lease_is_not_applied(void **state)
{
    struct fixture *f = *state;
    ingest(f, "jane@acme.example", "web");
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 1);
    struct store_outbox_row r = rows[0];
    /* Another node takes the row over once the lease has run out. */
    struct bt_error err = BT_ERROR_INIT;
    struct store_conn *other;
    assert_int_equal(store_conn_open(f->st, &other, &err), BT_OK);
    struct store_outbox_row *taken;
    size_t n;
    assert_int_equal(store_begin(other, &err), BT_OK);
    assert_int_equal(store_outbox_claim(other, "hook", "node-b", START_MS + MIN_MS, MIN_MS, 10,
                                        &f->a, &taken, &n, &err),
                     BT_OK);
    assert_int_equal(store_commit(other, &err), BT_OK);
    store_conn_close(other);
    assert_int_equal(n, 1);

    struct outbox_result res = report(f, &r, DELIVERY_DELIVERED, 200);
    assert_false(res.applied);
    struct store_outbox_row g = get_row(f, r.id);
    assert_string_equal(g.status, OUTBOX_PENDING);
    assert_string_equal(g.lease_owner, "node-b");
    assert_int_equal(g.attempts, 0);
}

static void test_permanent_is_dead_and_not_a_failure(void **state)
{
    struct fixture *f = *state;
    ingest(f, "jane@acme.example", "web");
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 1);
    struct outbox_result res = report(f, &rows[0], DELIVERY_PERMANENT, 422);
    assert_string_equal(res.status, OUTBOX_DEAD);
    assert_int_equal(res.next_attempt_at, 0);
    assert_string_equal(get_row(f, rows[0].id).status, OUTBOX_DEAD);
    bool found;
    struct store_delivery_channel ch = channel_state(f, "hook", &found);
    assert_true(!found ||
                (ch.breaker.state == DELIVERY_CHANNEL_ACTIVE && ch.breaker.failures == 0));
}

static void test_gone_disables_and_holds(void **state)
{
    struct fixture *f = *state;
    struct lead l1 = ingest(f, "one@acme.example", "web");
    struct lead l2 = ingest(f, "two@acme.example", "web");
    struct store_outbox_row r1 = row_for(f, "hook", l1.id, "lead.created");
    struct store_outbox_row r2 = row_for(f, "hook", l2.id, "lead.created");

    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 2);
    assert_int_equal(rows[0].id, r1.id);
    struct outbox_result res = report(f, &rows[0], DELIVERY_GONE, 410);
    assert_string_equal(res.status, OUTBOX_HELD);
    assert_string_equal(get_row(f, r1.id).status, OUTBOX_HELD);
    /* The other waiting row is held too, its lease dropped. */
    struct store_outbox_row g2 = get_row(f, r2.id);
    assert_string_equal(g2.status, OUTBOX_HELD);
    assert_int_equal(g2.next_attempt_at, 0);
    assert_null(g2.lease_owner);

    bool found;
    struct store_delivery_channel ch = channel_state(f, "hook", &found);
    assert_true(found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_DISABLED);
    assert_int_equal(ch.changed_at, START_MS);

    /* Announced to ops (not to hook itself). */
    size_t n;
    struct store_outbox_row *ops = rows_of(f, "ops", 0, NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0].event_type, "delivery.channel_disabled");
    assert_string_equal(ops[0].status, OUTBOX_PENDING);
    assert_int_equal(ops[0].lead_id, 0);
    json_t *p = parse(ops[0].payload);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "data"), "channel")),
                        "hook");
    json_decref(p);

    /* A late success of the other claimed row (the hold dropped its lease)
     * changes nothing: the channel stays disabled. */
    report(f, &rows[1], DELIVERY_DELIVERED, 200);
    ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_DISABLED);

    /* While disabled, new messages are written held. */
    struct lead l3 = ingest(f, "three@acme.example", "web");
    struct store_outbox_row r3 = row_for(f, "hook", l3.id, "lead.created");
    assert_string_equal(r3.status, OUTBOX_HELD);
    assert_int_equal(claim(f, "hook", NULL), 0);

    /* Enabled by an admin: active, the held rows due now. */
    clock_manual_set(&f->clock, START_MS + MIN_MS);
    struct bt_error err = BT_ERROR_INIT;
    struct outbox_admin_command en = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_ENABLE, .channel = "hook", .actor = "admin:1"};
    assert_int_equal(engine_outbox_admin(f->eng, &en, &f->a, &err), BT_OK);
    ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(en.count, 3);
    assert_string_equal(get_row(f, r1.id).status, OUTBOX_FAILED); /* it had an attempt */
    assert_int_equal(get_row(f, r1.id).next_attempt_at, START_MS + MIN_MS);
    assert_string_equal(get_row(f, r3.id).status, OUTBOX_PENDING);
    assert_int_equal(claim(f, "hook", NULL), en.count);
}

/*
 * The late success in test_gone_disables_and_holds: the row it reports on
 * was held by the 410 (its lease dropped), so the report is not applied and
 * the row stays held; here, what the row looks like after it.
 */
static void test_gone_then_late_report(void **state)
{
    struct fixture *f = *state;
    struct lead l1 = ingest(f, "one@acme.example", "web");
    struct lead l2 = ingest(f, "two@acme.example", "web");
    (void)l1;
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 2);
    report(f, &rows[0], DELIVERY_GONE, 410);
    struct outbox_result late = report(f, &rows[1], DELIVERY_DELIVERED, 200);
    assert_false(late.applied); /* hold_channel dropped its lease */
    struct store_outbox_row g = row_for(f, "hook", l2.id, "lead.created");
    assert_string_equal(g.status, OUTBOX_HELD);
}

static void test_breaker_pauses_the_channel(void **state)
{
    struct fixture *f = *state;
    struct lead l = ingest(f, "jane@acme.example", "web");
    struct store_outbox_row *rows;

    /* One failure: still active (min_failures 2). */
    assert_int_equal(claim(f, "hook", &rows), 1);
    report(f, &rows[0], DELIVERY_RETRY, 503);
    bool found;
    struct store_delivery_channel ch = channel_state(f, "hook", &found);
    assert_true(found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(ch.breaker.failures, 1);
    assert_int_equal(ch.breaker.failing_since, START_MS);
    assert_int_equal(count_rows(f, "ops", 0, NULL), 0);

    /* A second failure a minute later: both conditions met, paused. */
    clock_manual_set(&f->clock, START_MS + MIN_MS);
    assert_int_equal(claim(f, "hook", &rows), 1);
    report(f, &rows[0], DELIVERY_RETRY, 503);
    ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_PAUSED);
    assert_int_equal(ch.breaker.failures, 2);
    assert_int_equal(ch.breaker.next_probe_at, START_MS + 2 * MIN_MS);
    assert_int_equal(ch.changed_at, START_MS + MIN_MS);
    size_t n;
    struct store_outbox_row *ops = rows_of(f, "ops", 0, NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0].event_type, "delivery.channel_paused");
    /* The row itself is still failed and kept. */
    assert_string_equal(row_for(f, "hook", l.id, "lead.created").status, OUTBOX_FAILED);

    /* A successful probe resumes it, announced as well. */
    clock_manual_set(&f->clock, START_MS + 3 * MIN_MS);
    assert_int_equal(claim(f, "hook", &rows), 1);
    report(f, &rows[0], DELIVERY_DELIVERED, 200);
    ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(ch.breaker.failures, 0);
    ops = rows_of(f, "ops", 0, NULL, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ops[0].event_type, "delivery.channel_resumed");
}

/* ---- an admin's commands ---- */

static void test_admin_retry_and_replay(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct lead l1 = ingest(f, "one@acme.example", "web");
    clock_manual_set(&f->clock, START_MS + MIN_MS);
    struct lead l2 = ingest(f, "two@acme.example", "web");
    struct store_outbox_row *rows;
    assert_int_equal(claim(f, "hook", &rows), 2);
    report(f, &rows[0], DELIVERY_PERMANENT, 400);
    report(f, &rows[1], DELIVERY_PERMANENT, 400);
    struct store_outbox_row r1 = row_for(f, "hook", l1.id, "lead.created");
    struct store_outbox_row r2 = row_for(f, "hook", l2.id, "lead.created");
    assert_string_equal(r1.status, OUTBOX_DEAD);
    assert_string_equal(r2.status, OUTBOX_DEAD);

    /* RETRY: one row, due now. */
    clock_manual_set(&f->clock, START_MS + 5 * MIN_MS);
    struct outbox_admin_command rt = {.cfg = f->cfg, .action = OUTBOX_ADMIN_RETRY, .id = r1.id};
    assert_int_equal(engine_outbox_admin(f->eng, &rt, &f->a, &err), BT_OK);
    assert_int_equal(rt.count, 1);
    assert_int_equal(rt.row.id, r1.id);
    assert_string_equal(rt.row.status, OUTBOX_FAILED);
    assert_int_equal(rt.row.next_attempt_at, START_MS + 5 * MIN_MS);
    assert_string_equal(get_row(f, r2.id).status, OUTBOX_DEAD);

    /* Unknown row; delivered row. */
    struct outbox_admin_command none = {.cfg = f->cfg, .action = OUTBOX_ADMIN_RETRY, .id = 9999};
    assert_int_equal(engine_outbox_admin(f->eng, &none, &f->a, &err), BT_ENOTFOUND);
    assert_int_equal(claim(f, "hook", &rows), 1);
    report(f, &rows[0], DELIVERY_DELIVERED, 200);
    struct outbox_admin_command again = {.cfg = f->cfg, .action = OUTBOX_ADMIN_RETRY, .id = r1.id};
    assert_int_equal(engine_outbox_admin(f->eng, &again, &f->a, &err), BT_ECONFLICT);

    /* REPLAY: dead rows created in [START+1m, START+2m) of hook: r2 only. */
    struct outbox_admin_command rp = {.cfg = f->cfg,
                                      .action = OUTBOX_ADMIN_REPLAY,
                                      .since = START_MS + MIN_MS,
                                      .until = START_MS + 2 * MIN_MS,
                                      .channel = "hook"};
    assert_int_equal(engine_outbox_admin(f->eng, &rp, &f->a, &err), BT_OK);
    assert_int_equal(rp.count, 1);
    struct store_outbox_row g2 = get_row(f, r2.id);
    assert_string_equal(g2.status, OUTBOX_FAILED);
    assert_int_equal(g2.next_attempt_at, START_MS + 5 * MIN_MS);
    assert_string_equal(get_row(f, r1.id).status, OUTBOX_DELIVERED);

    /* A channel the configuration does not have. */
    struct outbox_admin_command bad = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_REPLAY, .until = INT64_MAX, .channel = "nope"};
    assert_int_equal(engine_outbox_admin(f->eng, &bad, &f->a, &err), BT_EINVAL);
    struct outbox_admin_command en = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_ENABLE, .channel = "nope"};
    assert_int_equal(engine_outbox_admin(f->eng, &en, &f->a, &err), BT_EINVAL);
}

static void test_admin_disable_then_enable(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct lead l = ingest(f, "one@acme.example", "web");
    struct outbox_admin_command dis = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_DISABLE, .channel = "hook", .actor = "admin:1"};
    assert_int_equal(engine_outbox_admin(f->eng, &dis, &f->a, &err), BT_OK);
    assert_int_equal(dis.count, 1);
    assert_string_equal(row_for(f, "hook", l.id, "lead.created").status, OUTBOX_HELD);
    bool found;
    struct store_delivery_channel ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_DISABLED);
    assert_string_equal(ch.reason, "disabled by admin:1");

    struct outbox_admin_command en = {
        .cfg = f->cfg, .action = OUTBOX_ADMIN_ENABLE, .channel = "hook", .actor = "admin:1"};
    assert_int_equal(engine_outbox_admin(f->eng, &en, &f->a, &err), BT_OK);
    assert_int_equal(en.count, 1);
    struct store_outbox_row r = row_for(f, "hook", l.id, "lead.created");
    assert_string_equal(r.status, OUTBOX_PENDING);
    assert_int_equal(r.next_attempt_at, START_MS);
    ch = channel_state(f, "hook", &found);
    assert_int_equal(ch.breaker.state, DELIVERY_CHANNEL_ACTIVE);
}

/* ---- tasks ---- */

static void test_task_done_contacts_a_pending_assignment(void **state)
{
    struct fixture *f = *state;
    struct bt_error err = BT_ERROR_INIT;
    struct lead l = ingest(f, "buyer@acme.example", "demo");
    struct store_task *tasks;
    size_t n;
    assert_int_equal(store_task_list(f->reader, "ana", false, 0, 10, &f->a, &tasks, &n, &err),
                     BT_OK);
    assert_int_equal(n, 1);
    int64_t task_id = tasks[0].id, assignment_id = tasks[0].assignment_id;

    /* Another rep cannot complete it. */
    clock_manual_set(&f->clock, START_MS + 10 * MIN_MS);
    struct task_done_command wrong = {
        .cfg = f->cfg, .id = task_id, .as_rep = "ben", .actor = "rep:ben"};
    assert_int_equal(engine_task_done(f->eng, &wrong, &f->a, &err), BT_ENOTFOUND);

    struct task_done_command td = {
        .cfg = f->cfg, .id = task_id, .as_rep = "ana", .actor = "rep:ana"};
    assert_int_equal(engine_task_done(f->eng, &td, &f->a, &err), BT_OK);
    assert_true(td.contacted);
    assert_int_equal(td.result.id, task_id);
    assert_int_equal(td.result.done_at, START_MS + 10 * MIN_MS);

    struct store_assignment a;
    assert_int_equal(store_assignment_get(f->reader, assignment_id, &f->a, &a, &err), BT_OK);
    assert_string_equal(a.status, ASSIGNMENT_CONTACTED);
    assert_int_equal(a.accepted_at, START_MS + 10 * MIN_MS);
    assert_int_equal(a.contacted_at, START_MS + 10 * MIN_MS);

    struct lead_event *evs;
    assert_int_equal(store_event_list(f->reader, l.id, 0, 100, &f->a, &evs, &n, &err), BT_OK);
    bool accepted = false, contacted = false;
    for (size_t i = 0; i < n; i++) {
        accepted |= strcmp(evs[i].type, "assignment.accepted") == 0;
        contacted |= strcmp(evs[i].type, "assignment.contacted") == 0;
    }
    assert_true(accepted);
    assert_true(contacted);

    /* Done once. */
    struct task_done_command twice = {.cfg = f->cfg, .id = task_id, .actor = "admin:1"};
    assert_int_equal(engine_task_done(f->eng, &twice, &f->a, &err), BT_ECONFLICT);
    assert_int_equal(store_task_list(f->reader, "ana", false, 0, 10, &f->a, &tasks, &n, &err),
                     BT_OK);
    assert_int_equal(n, 0);
    struct task_done_command missing = {.cfg = f->cfg, .id = 9999, .actor = "admin:1"};
    assert_int_equal(engine_task_done(f->eng, &missing, &f->a, &err), BT_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lead_created_writes_one_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_command_leaves_no_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assigned_lead_rows_and_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_to_rep_without_address_is_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bug_undeliverable_row_keeps_its_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stage_change_as_milestone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_hook_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manager_prospect_and_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_and_retry_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_and_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_lease_is_not_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_is_dead_and_not_a_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_disables_and_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_then_late_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_pauses_the_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_retry_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_disable_then_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_done_contacts_a_pending_assignment, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
