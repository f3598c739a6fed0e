/*
 * test_delivery.c - the arithmetic of delivery (core/delivery.c): which
 * events a channel's pattern takes, what an HTTP or SMTP answer means, the
 * retry schedule with its jitter and Retry-After bounds, the circuit
 * breaker, and the names a template may use from the message context.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/delivery.h"

#include <string.h>

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

/* ---- event patterns ---- */

static void test_event_matches(void **state)
{
    (void)state;
    assert_true(delivery_event_matches("*", "lead.created"));
    assert_true(delivery_event_matches("*", "assignment.accepted"));
    assert_true(delivery_event_matches("lead.created", "lead.created"));
    assert_false(delivery_event_matches("lead.created", "lead.created2"));
    assert_false(delivery_event_matches("lead.created", "lead.create"));
    assert_false(delivery_event_matches("lead.created", "lead.assigned"));
    assert_true(delivery_event_matches("assignment.*", "assignment.accepted"));
    assert_true(delivery_event_matches("assignment.*", "assignment.contact_breached"));
    assert_false(delivery_event_matches("assignment.*", "assignment"));
    assert_false(delivery_event_matches("assignment.*", "assignment."));
    assert_false(delivery_event_matches("assignment.*", "assignments.x"));
    assert_false(delivery_event_matches("assignment.*", "lead.assigned"));
}

static void test_event_pattern_valid(void **state)
{
    (void)state;
    assert_true(delivery_event_pattern_valid("*"));
    assert_true(delivery_event_pattern_valid("lead.created"));
    assert_true(delivery_event_pattern_valid("lead.*"));
    assert_true(delivery_event_pattern_valid("assignment.*"));
    assert_true(delivery_event_pattern_valid("delivery.*"));
    for (const char *const *t = delivery_event_types; *t; t++)
        assert_true(delivery_event_pattern_valid(*t));

    assert_false(delivery_event_pattern_valid("lead.creatd"));
    assert_false(delivery_event_pattern_valid("lead"));
    assert_false(delivery_event_pattern_valid("nothing.*"));
    assert_false(delivery_event_pattern_valid("lead.*x"));
    assert_false(delivery_event_pattern_valid("*.x"));
    assert_false(delivery_event_pattern_valid("*.created"));
    assert_false(delivery_event_pattern_valid("lead*"));
    assert_false(delivery_event_pattern_valid(""));
}

/* ---- verdicts ---- */

static void test_http_verdict(void **state)
{
    (void)state;
    assert_int_equal(delivery_http_verdict(200), DELIVERY_DELIVERED);
    assert_int_equal(delivery_http_verdict(204), DELIVERY_DELIVERED);
    assert_int_equal(delivery_http_verdict(299), DELIVERY_DELIVERED);
    /* Baton never follows a redirect: it is a failure to retry. */
    assert_int_equal(delivery_http_verdict(301), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(302), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(400), DELIVERY_PERMANENT);
    assert_int_equal(delivery_http_verdict(404), DELIVERY_PERMANENT);
    assert_int_equal(delivery_http_verdict(408), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(409), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(410), DELIVERY_GONE);
    assert_int_equal(delivery_http_verdict(422), DELIVERY_PERMANENT);
    assert_int_equal(delivery_http_verdict(429), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(500), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(503), DELIVERY_RETRY);
    assert_int_equal(delivery_http_verdict(0), DELIVERY_RETRY);
}

static void test_smtp_verdict(void **state)
{
    (void)state;
    assert_int_equal(delivery_smtp_verdict(250), DELIVERY_DELIVERED);
    assert_int_equal(delivery_smtp_verdict(451), DELIVERY_RETRY);
    assert_int_equal(delivery_smtp_verdict(550), DELIVERY_PERMANENT);
    assert_int_equal(delivery_smtp_verdict(0), DELIVERY_RETRY);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(delivery_verdict_name(DELIVERY_DELIVERED), "delivered");
    assert_string_equal(delivery_verdict_name(DELIVERY_GONE), "gone");
    for (int t = 0; t < DELIVERY_CHANNEL_TYPES; t++) {
        enum delivery_channel_type back;
        assert_true(delivery_channel_type_parse(
            delivery_channel_type_name((enum delivery_channel_type)t), &back));
        assert_int_equal(back, t);
    }
    enum delivery_channel_state s;
    assert_true(delivery_channel_state_parse("paused", &s));
    assert_int_equal(s, DELIVERY_CHANNEL_PAUSED);
    assert_false(delivery_channel_state_parse("broken", &s));
}

/* ---- the schedule ---- */

static void test_default_schedule(void **state)
{
    (void)state;
    static const int64_t expected[] = {0,        5 * SEC,  5 * MIN,   30 * MIN,
                                       2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR};
    assert_int_equal(delivery_default_schedule_len, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(delivery_default_schedule_ms[i], expected[i]);
}

static void test_next_attempt_jitter(void **state)
{
    (void)state;
    const int64_t *s = delivery_default_schedule_ms;
    size_t n = delivery_default_schedule_len;
    const int64_t now = 1800000000000LL;
    for (int64_t attempts = 1; attempts < (int64_t)n; attempts++) {
        int64_t base = s[attempts], at = 0;
        /* 0.5: no jitter. */
        assert_true(delivery_next_attempt(s, n, attempts, now, 0.5, 0, &at));
        assert_int_equal(at - now, base);
        /* 0: exactly 0.8 of the delay. */
        assert_true(delivery_next_attempt(s, n, attempts, now, 0.0, 0, &at));
        assert_int_equal(at - now, base * 8 / 10);
        /* just under 1: under 1.2 of the delay, and more than 1.19 of it. */
        assert_true(delivery_next_attempt(s, n, attempts, now, 0.999999, 0, &at));
        assert_true(at - now < base * 12 / 10);
        assert_true((double)(at - now) > (double)base * 1.19);
    }
    /* attempt 1 failed: 5 s later, between 4 s and 6 s. */
    int64_t at = 0;
    assert_true(delivery_next_attempt(s, n, 1, now, 0.0, 0, &at));
    assert_int_equal(at, now + 4000);
    assert_true(delivery_next_attempt(s, n, 1, now, 0.999999, 0, &at));
    assert_true(at > now + 5900 && at < now + 6000);
    /* A zero delay stays zero. */
    static const int64_t zeros[] = {0, 0, 0};
    assert_true(delivery_next_attempt(zeros, 3, 1, now, 0.999999, 0, &at));
    assert_int_equal(at, now);
}

static void test_next_attempt_used_up(void **state)
{
    (void)state;
    const int64_t *s = delivery_default_schedule_ms;
    size_t n = delivery_default_schedule_len;
    int64_t at = -1;
    assert_true(delivery_next_attempt(s, n, 7, 0, 0.5, 0, &at));
    assert_int_equal(at, 10 * HOUR);
    at = -1;
    assert_false(delivery_next_attempt(s, n, 8, 0, 0.5, 0, &at));
    assert_int_equal(at, -1); /* untouched */
    assert_false(delivery_next_attempt(s, n, 9, 0, 0.5, 0, &at));
    /* Not even a Retry-After brings back a used-up schedule. */
    assert_false(delivery_next_attempt(s, n, 8, 0, 0.5, 60 * SEC, &at));
    /* attempts starts at 1. */
    assert_false(delivery_next_attempt(s, n, 0, 0, 0.5, 0, &at));
}

static void test_next_attempt_retry_after(void **state)
{
    (void)state;
    const int64_t *s = delivery_default_schedule_ms;
    size_t n = delivery_default_schedule_len;
    const int64_t now = 1800000000000LL;
    int64_t at = 0;
    /* The receiver's wish, without jitter. */
    assert_true(delivery_next_attempt(s, n, 1, now, 0.0, 120 * SEC, &at));
    assert_int_equal(at, now + 120 * SEC);
    assert_true(delivery_next_attempt(s, n, 3, now, 0.999999, 120 * SEC, &at));
    assert_int_equal(at, now + 120 * SEC);
    /* At least 1 s. */
    assert_true(delivery_next_attempt(s, n, 1, now, 0.5, 1, &at));
    assert_int_equal(at, now + DELIVERY_RETRY_AFTER_MIN_MS);
    assert_int_equal(DELIVERY_RETRY_AFTER_MIN_MS, 1000);
    /* At most 6 h. */
    assert_true(delivery_next_attempt(s, n, 1, now, 0.5, 48 * HOUR, &at));
    assert_int_equal(at, now + 6 * HOUR);
    assert_true(delivery_next_attempt(s, n, 1, now, 0.5, 6 * HOUR, &at));
    assert_int_equal(at, now + 6 * HOUR);
}

/* ---- the breaker ---- */

static const struct delivery_breaker_policy policy = {10 * MIN, 3, 1 * MIN};

static void test_breaker_pauses_after_both(void **state)
{
    (void)state;
    struct delivery_breaker b = {0};
    bool changed = true;
    const int64_t t0 = 1800000000000LL;

    /* Many failures within pause_after: still active. */
    for (int i = 0; i < 20; i++) {
        delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + i * SEC, &changed);
        assert_false(changed);
        assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    }
    assert_int_equal(b.failures, 20);
    assert_int_equal(b.failing_since, t0);
    assert_true(delivery_breaker_allows(&b, t0 + 30 * SEC));

    /* pause_after passed and enough failures: paused. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + 10 * MIN, &changed);
    assert_true(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_PAUSED);
    assert_int_equal(b.next_probe_at, t0 + 11 * MIN);
}

static void test_breaker_needs_min_failures(void **state)
{
    (void)state;
    struct delivery_breaker b = {0};
    bool changed = true;
    const int64_t t0 = 1800000000000LL;
    /* Failing for an hour, but only two attempts: still active. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0, &changed);
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR, &changed);
    assert_false(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    /* The third failure reaches min_failures. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR + SEC, &changed);
    assert_true(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_PAUSED);
}

static void test_breaker_probes_and_resumes(void **state)
{
    (void)state;
    struct delivery_breaker b = {0};
    bool changed = false;
    const int64_t t0 = 1800000000000LL;
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0, &changed);
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + 5 * MIN, &changed);
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + 10 * MIN, &changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_PAUSED);

    int64_t paused_at = t0 + 10 * MIN;
    assert_false(delivery_breaker_allows(&b, paused_at));
    assert_false(delivery_breaker_allows(&b, paused_at + MIN - 1));
    assert_true(delivery_breaker_allows(&b, paused_at + MIN));

    /* A failed probe: still paused, the next probe a minute later. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, paused_at + MIN, &changed);
    assert_false(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_PAUSED);
    assert_int_equal(b.next_probe_at, paused_at + 2 * MIN);
    assert_false(delivery_breaker_allows(&b, paused_at + 2 * MIN - 1));
    assert_true(delivery_breaker_allows(&b, paused_at + 2 * MIN));

    /* A successful probe resumes it and clears the run. */
    delivery_breaker_record(&b, &policy, DELIVERY_DELIVERED, paused_at + 2 * MIN, &changed);
    assert_true(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(b.failures, 0);
    assert_int_equal(b.failing_since, 0);
    assert_true(delivery_breaker_allows(&b, paused_at + 2 * MIN));

    /* A new run of failures starts counting afresh. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, paused_at + 3 * MIN, &changed);
    assert_false(changed);
    assert_int_equal(b.failures, 1);
    assert_int_equal(b.failing_since, paused_at + 3 * MIN);
}

static void test_breaker_gone_disables(void **state)
{
    (void)state;
    struct delivery_breaker b = {0};
    bool changed = false;
    const int64_t t0 = 1800000000000LL;
    delivery_breaker_record(&b, &policy, DELIVERY_GONE, t0, &changed);
    assert_true(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_DISABLED);
    assert_false(delivery_breaker_allows(&b, t0));
    assert_false(delivery_breaker_allows(&b, t0 + 100 * HOUR));

    /* An answer already in flight does not undo the 410. */
    delivery_breaker_record(&b, &policy, DELIVERY_DELIVERED, t0 + SEC, &changed);
    assert_false(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_DISABLED);
    assert_false(delivery_breaker_allows(&b, t0 + SEC));
    /* Nor do failures move it to paused. */
    for (int i = 0; i < 5; i++)
        delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR + i * SEC, &changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_DISABLED);

    /* A paused channel that answers 410 is disabled. */
    struct delivery_breaker p = {0};
    delivery_breaker_record(&p, &policy, DELIVERY_RETRY, t0, &changed);
    delivery_breaker_record(&p, &policy, DELIVERY_RETRY, t0 + 5 * MIN, &changed);
    delivery_breaker_record(&p, &policy, DELIVERY_RETRY, t0 + 10 * MIN, &changed);
    assert_int_equal(p.state, DELIVERY_CHANNEL_PAUSED);
    delivery_breaker_record(&p, &policy, DELIVERY_GONE, t0 + 11 * MIN, &changed);
    assert_true(changed);
    assert_int_equal(p.state, DELIVERY_CHANNEL_DISABLED);
}

static void test_breaker_permanent_not_a_failure(void **state)
{
    (void)state;
    struct delivery_breaker b = {0};
    bool changed = true;
    const int64_t t0 = 1800000000000LL;
    /* Permanent refusals only: never paused. */
    for (int i = 0; i < 50; i++) {
        delivery_breaker_record(&b, &policy, DELIVERY_PERMANENT, t0 + i * MIN, &changed);
        assert_false(changed);
    }
    assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(b.failures, 0);

    /* A permanent refusal says the destination is up: it breaks a run. */
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR, &changed);
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR + 10 * MIN, &changed);
    delivery_breaker_record(&b, &policy, DELIVERY_PERMANENT, t0 + HOUR + 11 * MIN, &changed);
    assert_int_equal(b.failures, 0);
    delivery_breaker_record(&b, &policy, DELIVERY_RETRY, t0 + HOUR + 12 * MIN, &changed);
    assert_false(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    assert_int_equal(b.failures, 1);
}

static void test_breaker_default_policy(void **state)
{
    (void)state;
    struct delivery_breaker_policy d = DELIVERY_BREAKER_DEFAULT;
    assert_int_equal(d.pause_after_ms, HOUR);
    assert_int_equal(d.min_failures, 10);
    assert_int_equal(d.probe_every_ms, MIN);
    struct delivery_breaker b = {0};
    bool changed = false;
    const int64_t t0 = 1800000000000LL;
    /* Nine failures over two hours: active; the tenth pauses. */
    for (int i = 0; i < 9; i++)
        delivery_breaker_record(&b, &d, DELIVERY_RETRY, t0 + i * 15 * MIN, &changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_ACTIVE);
    delivery_breaker_record(&b, &d, DELIVERY_RETRY, t0 + 9 * 15 * MIN, &changed);
    assert_true(changed);
    assert_int_equal(b.state, DELIVERY_CHANNEL_PAUSED);
}

/* ---- the message context ---- */

static void test_context_known(void **state)
{
    (void)state;
    static const char *const known[] = {
        "event",
        "event.id",
        "event.type",
        "event.at",
        "event.actor",
        "event.reason",
        "lead",
        "lead.id",
        "lead.email",
        "lead.first_name",
        "lead.last_name",
        "lead.name",
        "lead.company",
        "lead.title",
        "lead.phone",
        "lead.country",
        "lead.source",
        "lead.stage",
        "lead.owner",
        "lead.created_at",
        "lead.fields",
        "lead.fields.x",
        "lead.fields.budget_usd",
        "score",
        "score.total",
        "score.fit",
        "score.engagement",
        "score.grade",
        "score.reasons",
        "score.reasons.text",
        "score.reasons.points",
        "rep.id",
        "rep.name",
        "rep.email",
        "rep.phone",
        "rep.timezone",
        "rep.team",
        "manager.id",
        "manager.name",
        "manager.email",
        "assignment.id",
        "assignment.attempt",
        "assignment.policy",
        "assignment.pool",
        "assignment.rule",
        "assignment.why",
        "assignment.accept_by",
        "assignment.accept_by_local",
        "assignment.contact_by",
        "rejection.reason",
        "rejection.label",
        "rejection.note",
        "links.decide",
        "links.accept",
        "links.reject",
        "meeting.start",
        "meeting.end",
        "meeting.start_local",
        "meeting.end_local",
        "first_touch",
        "data",
        "data.x",
        "data.from_rep",
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!delivery_context_known(known[i]))
            fail_msg("%s should be known", known[i]);

    static const char *const unknown[] = {
        "",
        "lead.fields.",
        "lead.nickname",
        "leads",
        "lead.",
        "rep.salary",
        "manager.phone",
        "data.",
        "score.reasons.why",
        "links.unsubscribe",
        "x",
        "event.id.x",
        "first_touch.text",
        "assignment.ids",
        "Lead.id",
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        if (delivery_context_known(unknown[i]))
            fail_msg("%s should be unknown", unknown[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_matches),
        cmocka_unit_test(test_event_pattern_valid),
        cmocka_unit_test(test_http_verdict),
        cmocka_unit_test(test_smtp_verdict),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_default_schedule),
        cmocka_unit_test(test_next_attempt_jitter),
        cmocka_unit_test(test_next_attempt_used_up),
        cmocka_unit_test(test_next_attempt_retry_after),
        cmocka_unit_test(test_breaker_pauses_after_both),
        cmocka_unit_test(test_breaker_needs_min_failures),
        cmocka_unit_test(test_breaker_probes_and_resumes),
        cmocka_unit_test(test_breaker_gone_disables),
        cmocka_unit_test(test_breaker_permanent_not_a_failure),
        cmocka_unit_test(test_breaker_default_policy),
        cmocka_unit_test(test_context_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
