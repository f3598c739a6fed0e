/*
 * api_metrics.c - GET /metrics, the Prometheus text exposition format
 * (docs/metrics.md lists every metric).
 *
 * Counters and histograms are read from util/metrics.h, where the code that
 * owns each figure keeps it; the engine's counts from engine_get_stats();
 * the gauges of the work waiting now (the hold queue, open assignments)
 * from the store, with one scan of the hold queue and one GROUP BY over
 * the partial index of open assignments: a scrape costs what is open, not
 * the history.
 *
 * Access: without a key from loopback (behind a trusted proxy: the client
 * it names), or from anywhere with server.metrics.public; otherwise an
 * admin key (401 without one, 403 with another role's).
 */
#include "core/lifecycle.h"
#include "engine/engine.h"
#include "server/http.h"
#include "store/store_handoff.h"
#include "store/store_outbox.h"
#include "store/store_routing.h"
#include "util/metrics.h"
#include "util/version.h"

#include <stdio.h>
#include <string.h>

#define METRICS_TEXT_MAX (4u << 20) /* bytes; the bounded label sets stay far below */

static int no_query(void *cls, const char *key, const char *value)
{
    (void)value;
    *(const char **)cls = key;
    return 1;
}

static void write_http(struct metrics_text *t)
{
    metrics_text_family(t, "baton_http_requests_total", "counter",
                        "HTTP requests answered, by route pattern and status");
    for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
        const char *pattern = server_route_pattern(i), *method = server_route_method(i);
        for (unsigned s = 0; s <= METRICS_STATUSES; s++) {
            uint64_t n = __atomic_load_n(&metrics.http_requests[i][s], __ATOMIC_RELAXED);
            if (!n)
                continue;
            char status[16];
            if (s < METRICS_STATUSES)
                snprintf(status, sizeof(status), "%u", metrics_statuses[s]);
            else
                strcpy(status, "other");
            const char *labels[] = {"method", method ? method : "any",
                                    "route",  pattern ? pattern : "unmatched",
                                    "status", status,
                                    NULL};
            metrics_text_sample_u64(t, "baton_http_requests_total", labels, n);
        }
    }
    metrics_text_family(t, "baton_http_request_duration_seconds", "histogram",
                        "Time from a request's headers to its reply being queued, by route");
    for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
        const struct metrics_histogram *h = &metrics.http_duration[i];
        uint64_t any = 0;
        for (size_t b = 0; b <= h->n_bounds; b++)
            any += __atomic_load_n(&h->buckets[b], __ATOMIC_RELAXED);
        if (!any)
            continue;
        const char *pattern = server_route_pattern(i), *method = server_route_method(i);
        const char *labels[] = {"method", method ? method : "any", "route",
                                pattern ? pattern : "unmatched", NULL};
        metrics_text_histogram(t, "baton_http_request_duration_seconds", labels, h, 1e9);
    }
}

static void write_engine(struct metrics_text *t, struct engine *e)
{
    struct engine_stats st;
    engine_get_stats(e, &st);
    metrics_text_family(t, "baton_engine_commands_total", "counter",
                        "Commands the engine applied (committed or failed), by kind");
    for (unsigned k = 0; k < ENGINE_COMMAND_KINDS; k++) {
        const char *labels[] = {"kind", engine_command_kind_name(k), NULL};
        metrics_text_sample_u64(t, "baton_engine_commands_total", labels, st.by_kind[k]);
    }
    metrics_text_family(t, "baton_engine_commits_total", "counter",
                        "Transactions (groups of commands) the engine committed or tried to");
    metrics_text_sample_u64(t, "baton_engine_commits_total", NULL, st.commits);
    metrics_text_family(t, "baton_engine_commit_failures_total", "counter",
                        "Group commits that failed (every command of the group failed)");
    metrics_text_sample_u64(t, "baton_engine_commit_failures_total", NULL, st.failed_commits);
    metrics_text_family(t, "baton_engine_commit_group_size", "histogram",
                        "Commands per committed group (group commit)");
    metrics_text_histogram(t, "baton_engine_commit_group_size", NULL, &metrics.commit_size, 1);
    metrics_text_family(t, "baton_engine_commit_duration_seconds", "histogram",
                        "Time from a group's BEGIN to its durable COMMIT");
    metrics_text_histogram(t, "baton_engine_commit_duration_seconds", NULL,
                           &metrics.commit_duration, 1e9);
    metrics_text_family(t, "baton_engine_queue_depth", "gauge",
                        "Commands submitted and waiting for the writer");
    metrics_text_sample_u64(t, "baton_engine_queue_depth", NULL, st.queue_depth);
}

/* The SQLite backend's background checkpointer (no samples elsewhere). */
static void write_checkpoints(struct metrics_text *t)
{
    metrics_text_family(t, "baton_store_checkpoint_duration_seconds", "histogram",
                        "WAL checkpoint passes: the background checkpointer's and the writer's "
                        "tail passes (SQLite)");
    metrics_text_histogram(t, "baton_store_checkpoint_duration_seconds", NULL,
                           &metrics.checkpoint_duration, 1e9);
    metrics_text_family(t, "baton_store_wal_truncations_total", "counter",
                        "Times the WAL was truncated while the database was idle (SQLite)");
    metrics_text_sample_u64(t, "baton_store_wal_truncations_total", NULL,
                            __atomic_load_n(&metrics.checkpoint_truncations, __ATOMIC_RELAXED));
    metrics_text_family(t, "baton_store_wal_restarts_total", "counter",
                        "Writer's tail passes that left the WAL wholly copied, so that it "
                        "starts again from the top (SQLite)");
    metrics_text_sample_u64(t, "baton_store_wal_restarts_total", NULL,
                            __atomic_load_n(&metrics.wal_restarts, __ATOMIC_RELAXED));
    metrics_text_family(t, "baton_store_wal_bytes", "gauge",
                        "Size of the WAL file after the checkpointer's last pass (SQLite)");
    metrics_text_sample_u64(t, "baton_store_wal_bytes", NULL,
                            __atomic_load_n(&metrics.wal_bytes, __ATOMIC_RELAXED));
}

static void write_decisions(struct metrics_text *t, const struct config *cfg)
{
    metrics_text_family(t, "baton_scoring_decisions_total", "counter",
                        "Leads run through scoring and qualification, by the stage they were "
                        "left at");
    for (unsigned s = 0; s < METRICS_STAGES; s++) {
        const char *labels[] = {"stage", stage_name((enum lead_stage)s), NULL};
        metrics_text_sample_u64(t, "baton_scoring_decisions_total", labels,
                                __atomic_load_n(&metrics.scoring_decisions[s], __ATOMIC_RELAXED));
    }
    static const char *const outcomes[METRICS_ROUTED_N] = {"assigned", "held"};
    metrics_text_family(t, "baton_routing_decisions_total", "counter",
                        "Routing decisions written, by outcome (a held lead tried again with "
                        "nothing changed is not counted)");
    for (unsigned o = 0; o < METRICS_ROUTED_N; o++) {
        const char *labels[] = {"outcome", outcomes[o], NULL};
        metrics_text_sample_u64(t, "baton_routing_decisions_total", labels,
                                __atomic_load_n(&metrics.routing_decisions[o], __ATOMIC_RELAXED));
    }
    /* The configuration's policies are written from the start (at 0), so
     * that rate() and alerts see them before their first breach. */
    for (size_t i = 0; i < cfg->sla.n_policies; i++)
        if (cfg->sla.policies[i].name)
            (void)metrics_label_slot(&metrics.sla_policies, cfg->sla.policies[i].name);
    static const char *const deadlines[METRICS_SLA_N] = {"accept", "contact"};
    metrics_text_family(t, "baton_sla_breaches_total", "counter",
                        "SLA deadlines missed, by policy and deadline (accept_by, contact_by)");
    unsigned n = __atomic_load_n(&metrics.sla_policies.n, __ATOMIC_ACQUIRE);
    for (unsigned p = 0; p <= METRICS_LABELS_MAX; p++) {
        if (p >= n && p != METRICS_LABELS_MAX)
            continue;
        for (unsigned k = 0; k < METRICS_SLA_N; k++) {
            uint64_t v = __atomic_load_n(&metrics.sla_breaches[p][k], __ATOMIC_RELAXED);
            if (p == METRICS_LABELS_MAX && !v)
                continue;
            const char *labels[] = {
                "policy", p < METRICS_LABELS_MAX ? metrics.sla_policies.names[p] : "other",
                "deadline", deadlines[k], NULL};
            metrics_text_sample_u64(t, "baton_sla_breaches_total", labels, v);
        }
    }
}

static void write_timers(struct metrics_text *t)
{
    metrics_text_family(t, "baton_timer_lateness_seconds", "histogram",
                        "How long after its due time a timer source ran (real clock only)");
    unsigned n = __atomic_load_n(&metrics.timer_sources.n, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        const char *labels[] = {"source", metrics.timer_sources.names[i], NULL};
        metrics_text_histogram(t, "baton_timer_lateness_seconds", labels,
                               &metrics.timer_lateness[i], 1e9);
    }
}

/*
 * Delivery's counters: attempts by channel and verdict, and their latency.
 * The configuration's channels are written from the start (at 0); the
 * label set is the channels learnt while running, at most
 * METRICS_LABELS_MAX of them (the rest count as "other").
 */
static void write_delivery(struct metrics_text *t, const struct config *cfg)
{
    for (size_t i = 0; i < cfg->delivery.n_channels; i++)
        (void)metrics_label_slot(&metrics.delivery_channels, cfg->delivery.channels[i].id);
    unsigned n = __atomic_load_n(&metrics.delivery_channels.n, __ATOMIC_ACQUIRE);
    metrics_text_family(t, "baton_deliveries_total", "counter",
                        "Delivery attempts, by channel and verdict (delivered, retry, permanent, "
                        "gone)");
    for (unsigned c = 0; c <= METRICS_LABELS_MAX; c++) {
        if (c >= n && c != METRICS_LABELS_MAX)
            continue;
        for (unsigned v = 0; v < METRICS_VERDICTS; v++) {
            uint64_t count = __atomic_load_n(&metrics.deliveries[c][v], __ATOMIC_RELAXED);
            if (c == METRICS_LABELS_MAX && !count)
                continue;
            const char *labels[] = {
                "channel", c < METRICS_LABELS_MAX ? metrics.delivery_channels.names[c] : "other",
                "verdict", delivery_verdict_name((enum delivery_verdict)v), NULL};
            metrics_text_sample_u64(t, "baton_deliveries_total", labels, count);
        }
    }
    metrics_text_family(t, "baton_delivery_duration_seconds", "histogram",
                        "Time from a delivery attempt's start to its answer (or failure), by "
                        "channel");
    for (unsigned c = 0; c <= METRICS_LABELS_MAX; c++) {
        const struct metrics_histogram *h = &metrics.delivery_duration[c];
        if (c == METRICS_LABELS_MAX) {
            uint64_t any = 0;
            for (size_t b = 0; b <= h->n_bounds; b++)
                any += __atomic_load_n(&h->buckets[b], __ATOMIC_RELAXED);
            if (!any)
                continue;
        } else if (c >= n) {
            continue;
        }
        const char *labels[] = {
            "channel", c < METRICS_LABELS_MAX ? metrics.delivery_channels.names[c] : "other", NULL};
        metrics_text_histogram(t, "baton_delivery_duration_seconds", labels, h, 1e9);
    }
    metrics_text_family(t, "baton_deliveries_undeliverable_total", "counter",
                        "Messages that could never go out (no address for their recipient)");
    metrics_text_sample_u64(t, "baton_deliveries_undeliverable_total", NULL,
                            __atomic_load_n(&metrics.deliveries_undeliverable, __ATOMIC_RELAXED));
    metrics_text_family(t, "baton_delivery_channel_changes_total", "counter",
                        "Channels paused, resumed or disabled by their circuit breaker");
    metrics_text_sample_u64(t, "baton_delivery_channel_changes_total", NULL,
                            __atomic_load_n(&metrics.delivery_channel_changes, __ATOMIC_RELAXED));
}

/* The outbox now, per channel of the configuration: one count query and
 * the breakers' table. */
static bool write_outbox(struct request *r, struct metrics_text *t)
{
    const struct config_delivery *d = &r->cfg->delivery;
    struct store_conn *c;
    if (!request_reader(r, &c))
        return false;
    struct bt_error err = BT_ERROR_INIT;
    struct store_delivery_channel *stored = NULL;
    size_t n_stored = 0;
    int64_t(*counts)[OUTBOX_STATUSES] =
        arena_alloc(&r->arena, (d->n_channels ? d->n_channels : 1) * sizeof(*counts));
    int64_t *oldest = arena_alloc(&r->arena, (d->n_channels ? d->n_channels : 1) * sizeof(*oldest));
    bt_err rc = counts && oldest
                    ? BT_OK
                    : bt_fail(&err, BT_EIO, NULL, "out of memory for the outbox gauges");
    if (!rc)
        rc = store_delivery_channel_list(c, &r->arena, &stored, &n_stored, &err);
    for (size_t i = 0; !rc && i < d->n_channels; i++)
        rc = store_outbox_counts(c, d->channels[i].id, counts[i], &oldest[i], &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    int64_t now = clock_now(r->ctx->clock);
    static const size_t waiting[] = {0, 1, 3, 4}; /* pending, failed, dead, held */
    metrics_text_family(t, "baton_outbox_messages", "gauge",
                        "Messages in the outbox not delivered, by channel and status");
    for (size_t i = 0; i < d->n_channels; i++)
        for (size_t k = 0; k < sizeof(waiting) / sizeof(waiting[0]); k++) {
            const char *labels[] = {"channel", d->channels[i].id, "status",
                                    outbox_statuses[waiting[k]], NULL};
            metrics_text_sample_u64(t, "baton_outbox_messages", labels,
                                    (uint64_t)counts[i][waiting[k]]);
        }
    metrics_text_family(t, "baton_outbox_oldest_waiting_seconds", "gauge",
                        "How long the oldest pending or failed message of a channel has waited "
                        "(0: none)");
    for (size_t i = 0; i < d->n_channels; i++) {
        const char *labels[] = {"channel", d->channels[i].id, NULL};
        metrics_text_sample(t, "baton_outbox_oldest_waiting_seconds", labels,
                            oldest[i] && now > oldest[i] ? (double)(now - oldest[i]) / 1000.0
                                                         : 0.0);
    }
    metrics_text_family(t, "baton_delivery_channel_state", "gauge",
                        "A channel's circuit breaker: 1 for its current state");
    for (size_t i = 0; i < d->n_channels; i++) {
        enum delivery_channel_state state = DELIVERY_CHANNEL_ACTIVE;
        for (size_t k = 0; k < n_stored; k++)
            if (!strcmp(stored[k].id, d->channels[i].id))
                state = stored[k].breaker.state;
        for (int s = DELIVERY_CHANNEL_ACTIVE; s <= DELIVERY_CHANNEL_DISABLED; s++) {
            const char *labels[] = {"channel", d->channels[i].id, "state",
                                    delivery_channel_state_name((enum delivery_channel_state)s),
                                    NULL};
            metrics_text_sample_u64(t, "baton_delivery_channel_state", labels,
                                    s == (int)state ? 1 : 0);
        }
    }
    return true;
}

/* The gauges of the work waiting now, from the store. */
static bool write_store(struct request *r, struct metrics_text *t)
{
    struct store_conn *c;
    if (!request_reader(r, &c))
        return false;
    struct bt_error err = BT_ERROR_INIT;
    int64_t held = 0, oldest = 0, open[ASSIGNMENT_STATUSES], all[ASSIGNMENT_STATUSES];
    bt_err rc = store_hold_summary(c, &held, &oldest, &err);
    if (!rc)
        rc = store_assignment_open_counts(c, open, &err);
    if (!rc)
        rc = store_assignment_status_counts(c, all, &err);
    store_reader_release(r->ctx->store, c);
    if (rc) {
        reply_bt_error(r, &err);
        return false;
    }
    int64_t now = clock_now(r->ctx->clock);
    metrics_text_family(t, "baton_hold_queue_leads", "gauge",
                        "Leads in the hold queue, waiting for an eligible rep");
    metrics_text_sample_u64(t, "baton_hold_queue_leads", NULL, (uint64_t)held);
    metrics_text_family(t, "baton_hold_queue_oldest_age_seconds", "gauge",
                        "How long the longest-waiting held lead has waited (0: none held)");
    metrics_text_sample(t, "baton_hold_queue_oldest_age_seconds", NULL,
                        held && now > oldest ? (double)(now - oldest) / 1000.0 : 0.0);
    metrics_text_family(t, "baton_assignments_open", "gauge",
                        "Open assignments (not closed), by status");
    for (size_t i = 0; i < 4; i++) { /* pending, offered, accepted, contacted */
        const char *labels[] = {"status", assignment_statuses[i], NULL};
        metrics_text_sample_u64(t, "baton_assignments_open", labels, (uint64_t)open[i]);
    }
    metrics_text_family(t, "baton_assignments", "gauge",
                        "Every assignment made, open or closed, by its status now");
    for (size_t i = 0; i < ASSIGNMENT_STATUSES; i++) {
        const char *labels[] = {"status", assignment_statuses[i], NULL};
        metrics_text_sample_u64(t, "baton_assignments", labels,
                                (uint64_t)(all[i] > 0 ? all[i] : 0));
    }
    return true;
}

void api_metrics(struct request *r)
{
    const char *bad = NULL;
    if (request_query_each(r, no_query, &bad)) {
        reply_error(r, 400, "invalid", bad,
                    "query parameter '%.64s' is not known: /metrics takes "
                    "none",
                    bad);
        return;
    }
    if (!r->cfg->metrics_public && !request_from_loopback(r) &&
        !request_authenticate(r, ROLE_ADMIN))
        return;
    struct metrics_text t;
    metrics_text_init(&t, METRICS_TEXT_MAX);
    const char *build[] = {"version", BATON_VERSION, NULL};
    metrics_text_family(&t, "baton_build_info", "gauge", "Baton's version (always 1)");
    metrics_text_sample_u64(&t, "baton_build_info", build, 1);
    struct config *cur;
    json_t *last = config_holder_last_reload(r->ctx->config, &cur);
    json_decref(last);
    const char *cfgv[] = {"version", cur->version, NULL};
    metrics_text_family(&t, "baton_config_info", "gauge",
                        "The version of the configuration in use (always 1)");
    metrics_text_sample_u64(&t, "baton_config_info", cfgv, 1);
    config_unref(cur);
    metrics_text_family(&t, "baton_config_reloads_total", "counter",
                        "Configuration reloads asked for (SIGHUP, baton reload)");
    metrics_text_sample_u64(&t, "baton_config_reloads_total", NULL,
                            __atomic_load_n(&metrics.config_reloads, __ATOMIC_RELAXED));
    metrics_text_family(&t, "baton_config_reload_failures_total", "counter",
                        "Reloads refused (a bad file; the running configuration was kept)");
    metrics_text_sample_u64(&t, "baton_config_reload_failures_total", NULL,
                            __atomic_load_n(&metrics.config_reload_failures, __ATOMIC_RELAXED));
    write_http(&t);
    write_engine(&t, r->ctx->engine);
    write_checkpoints(&t);
    write_decisions(&t, r->cfg);
    write_timers(&t);
    write_delivery(&t, r->cfg);
    if (!write_store(r, &t) || !write_outbox(r, &t)) {
        metrics_text_release(&t);
        return;
    }
    if (!metrics_text_ok(&t)) {
        metrics_text_release(&t);
        reply_error(r, 500, "internal", NULL, "the metrics are larger than %u bytes",
                    METRICS_TEXT_MAX);
        return;
    }
    reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", t.buf ? t.buf : "", t.len);
    reply_add_header(r, "Cache-Control", "no-store");
    metrics_text_release(&t);
}
