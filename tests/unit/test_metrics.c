/*
 * test_metrics.c - the metrics module: buckets (a value on a bound counts
 * in it), the text format (HELP escaping, label escaping, cumulative
 * buckets ending in +Inf equal to _count, whole numbers written whole), a
 * label set that is full folding names into "other", the bounded text, and
 * loopback addresses (netaddr_is_loopback, which /metrics' access uses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/metrics.h"
#include "util/netaddr.h"

#include <stdio.h>
#include <string.h>

static void test_buckets_and_text(void **state)
{
    (void)state;
    static const int64_t bounds[] = {1000000, 5000000, 30000000000};
    struct metrics_histogram h = {.bounds = bounds, .n_bounds = 3};
    metrics_observe(&h, 1000000); /* on the bound: in it */
    metrics_observe(&h, 1000001);
    metrics_observe(&h, 40000000000);
    metrics_observe(&h, -5); /* counts as 0 */
    assert_int_equal(h.buckets[0], 2);
    assert_int_equal(h.buckets[1], 1);
    assert_int_equal(h.buckets[2], 0);
    assert_int_equal(h.buckets[3], 1);
    struct metrics_text t;
    metrics_text_init(&t, 1 << 16);
    metrics_text_family(&t, "x_seconds", "histogram", "a \\ help\nline");
    const char *labels[] = {"route", "/a/\"b\"\\\n", NULL};
    metrics_text_histogram(&t, "x_seconds", labels, &h, 1e9);
    assert_true(metrics_text_ok(&t));
    const char *want = "# HELP x_seconds a \\\\ help\\nline\n"
                       "# TYPE x_seconds histogram\n"
                       "x_seconds_bucket{route=\"/a/\\\"b\\\"\\\\\\n\",le=\"0.001\"} 2\n"
                       "x_seconds_bucket{route=\"/a/\\\"b\\\"\\\\\\n\",le=\"0.005\"} 3\n"
                       "x_seconds_bucket{route=\"/a/\\\"b\\\"\\\\\\n\",le=\"30\"} 3\n"
                       "x_seconds_bucket{route=\"/a/\\\"b\\\"\\\\\\n\",le=\"+Inf\"} 4\n"
                       "x_seconds_sum{route=\"/a/\\\"b\\\"\\\\\\n\"} 40.002000001\n"
                       "x_seconds_count{route=\"/a/\\\"b\\\"\\\\\\n\"} 4\n";
    assert_string_equal(t.buf, want);
    metrics_text_release(&t);
}

static void test_label_set_is_bounded(void **state)
{
    (void)state;
    struct metrics_labels set = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char name[32];
    for (unsigned i = 0; i < METRICS_LABELS_MAX; i++) {
        snprintf(name, sizeof(name), "policy-%u", i);
        assert_int_equal(metrics_label_slot(&set, name), i);
    }
    assert_int_equal(metrics_label_slot(&set, "policy-3"), 3);
    assert_int_equal(metrics_label_slot(&set, "one too many"), METRICS_LABELS_MAX);
    struct metrics_labels empty = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char longer[100];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(metrics_label_slot(&empty, longer), METRICS_LABELS_MAX);
    assert_int_equal(empty.n, 0);
}

static void test_statuses_and_the_text_limit(void **state)
{
    (void)state;
    assert_int_equal(metrics_statuses[metrics_status_slot(201)], 201);
    assert_int_equal(metrics_status_slot(418), METRICS_STATUSES);
    struct metrics_text t;
    metrics_text_init(&t, 40);
    metrics_text_sample_u64(&t, "a_total", NULL, 7);
    assert_true(metrics_text_ok(&t));
    assert_string_equal(t.buf, "a_total 7\n");
    metrics_text_sample(&t, "a_much_longer_name_than_fits", NULL, 0.25);
    assert_false(metrics_text_ok(&t)); /* the scrape answers 500, never a cut text */
    assert_true(t.len < 40);
    metrics_text_release(&t);
}

static void test_loopback(void **state)
{
    (void)state;
    const char *yes[] = {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"};
    const char *no[] = {"128.0.0.1", "10.0.0.1", "::2", "2001:db8::1", "::"};
    struct net_addr a;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(netaddr_parse(yes[i], strlen(yes[i]), &a));
        assert_true(netaddr_is_loopback(&a));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_true(netaddr_parse(no[i], strlen(no[i]), &a));
        assert_false(netaddr_is_loopback(&a));
    }
    struct net_addr none = {0};
    assert_false(netaddr_is_loopback(&none));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_and_text),
        cmocka_unit_test(test_label_set_is_bounded),
        cmocka_unit_test(test_statuses_and_the_text_limit),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
