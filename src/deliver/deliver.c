/*
 * deliver.c - the delivery worker (deliver.h): one thread, one curl multi
 * handle, the outbox drained channel by channel.
 *
 * A loop turn: take the configuration in use; for each of its channels that
 * has room and whose breaker lets a message through, ask the store (a
 * reader) whether a row is due and claim as many as there is room for
 * (one engine command for every channel); start a transfer per row; wait
 * in curl_multi_poll() until a transfer finishes, a row falls due, the
 * engine pokes (curl_multi_wakeup) or the poll interval passes; report the
 * finished transfers to the engine in one command.
 *
 * Each transfer owns its arena (the rendered message, headers, the MIME
 * tree's strings), its curl handle and lists, and a copy of what it needs
 * of its row; nothing of it outlives the report.
 */
#include "deliver/deliver.h"

#include "config/config.h"
#include "core/delivery.h"
#include "core/ics.h"
#include "core/link_token.h"
#include "core/mailfmt.h"
#include "deliver/render.h"
#include "deliver/webhook_sign.h"
#include "engine/engine.h"
#include "store/store_handoff.h"
#include "store/store_outbox.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/timeutil.h"
#include "util/version.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_MAX_CHANNELS 256 /* channels a turn considers */
#define REPORT_BATCH       64

struct transfer {
    struct deliver *d;
    CURL *h;
    struct curl_slist *headers, *rcpt;
    curl_mime *mime;
    struct arena arena;
    int64_t id, attempts;
    char channel[72];
    bool smtp;
    int64_t started_at; /* the engine clock's ms */
    int64_t t0;         /* metrics_now_ns() */
    char response[OUTBOX_RESPONSE_MAX + 1];
    size_t response_len;
    int64_t retry_after_ms;
    char error[CURL_ERROR_SIZE];
    const char *render_error; /* set: no request was made */
    CURLcode code;            /* the transfer's result, once done */
    struct transfer *next;
};

struct channel_slot {
    char id[72];
    unsigned in_flight;
};

struct deliver {
    struct engine *engine;
    struct store *store;
    struct config_holder *holder;
    struct clock *clock;
    char *node_id;
    char *user_agent;
    unsigned poll_ms, stop_wait_ms;
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t lock;
    bool stopping; /* under lock */
    struct transfer *running;
    struct channel_slot slots[CLAIM_MAX_CHANNELS];
    size_t n_slots;
};

static struct channel_slot *slot_of(struct deliver *d, const char *id)
{
    for (size_t i = 0; i < d->n_slots; i++)
        if (strcmp(d->slots[i].id, id) == 0)
            return &d->slots[i];
    if (d->n_slots == CLAIM_MAX_CHANNELS)
        return NULL;
    struct channel_slot *s = &d->slots[d->n_slots++];
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->in_flight = 0;
    return s;
}

/* ---- what the answer says ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    size_t room = OUTBOX_RESPONSE_MAX - t->response_len;
    size_t take = len < room ? len : room;
    memcpy(t->response + t->response_len, p, take);
    t->response_len += take;
    t->response[t->response_len] = '\0';
    return len; /* the rest is read and dropped */
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        /* Seconds only; an HTTP date is rare from webhook receivers and is
         * treated as no wish (the schedule applies). */
        char buf[32];
        size_t k = len - (sizeof(name) - 1);
        if (k >= sizeof(buf))
            k = sizeof(buf) - 1;
        memcpy(buf, p + sizeof(name) - 1, k);
        buf[k] = '\0';
        char *end;
        long long secs = strtoll(buf, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n' || *end == '\t')
            end++;
        if (end != buf && *end == '\0' && secs >= 0 && secs < 1000000)
            t->retry_after_ms = secs * 1000;
    }
    return len;
}

/* ---- links the rep's messages carry ---- */

/* Completes ctx with links.{decide, accept, reject} from its "_link", signed
 * with the newest link secret, when the configuration has a public_url. */
static void add_links(struct deliver *d, const struct config *cfg, json_t *ctx, struct arena *a)
{
    json_t *l = json_object_get(ctx, "_link");
    if (!l || !cfg->public_url)
        return;
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(d->store, &c, &err))
        return;
    uint8_t secret[LINK_SECRET_BYTES];
    uint32_t gen;
    bool found;
    bt_err e = store_link_secret_get(c, 0, &found, &gen, secret, &err);
    store_reader_release(d->store, c);
    if (e || !found)
        return;
    struct link_token tok = {
        .generation = gen,
        .assignment_id = json_integer_value(json_object_get(l, "assignment")),
        .action = LINK_ACTION_DECIDE,
        .expires_at = link_token_expiry(json_integer_value(json_object_get(l, "accept_by")),
                                        json_integer_value(json_object_get(l, "assigned_at"))),
    };
    snprintf(tok.rep_id, sizeof(tok.rep_id), "%s",
             json_string_value(json_object_get(l, "rep")) ?: "");
    char text[LINK_TOKEN_TEXT_MAX + 1];
    if (link_token_sign(&tok, secret, sizeof(secret), text, sizeof(text), &err))
        return;
    const char *url = arena_printf(a, "%s/a/%s", cfg->public_url, text);
    /* One page decides: a GET never acts (mail scanners and chat unfurlers
     * open links), so Accept and Reject open it at the matching button. */
    json_object_set_new(ctx, "links",
                        json_pack("{s:s, s:s+, s:s+}", "decide", url, "accept", url, "#accept",
                                  "reject", url, "#reject"));
}

/* ---- requests ---- */

static void common_options(struct deliver *d, struct transfer *t, const struct config_channel *ch)
{
    CURL *h = t->h;
    curl_easy_setopt(h, CURLOPT_PRIVATE, t);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ch->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(ch->timeout_ms < 10000 ? ch->timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_USERAGENT, d->user_agent);
}

/* The secrets of a channel in force at now_ms, parsed (config checked them). */
static size_t secrets_of(const struct config_channel *ch, int64_t now_ms,
                         struct webhook_secret out[WEBHOOK_SECRETS_MAX])
{
    size_t n = 0;
    for (size_t i = 0; i < ch->n_secrets && n < WEBHOOK_SECRETS_MAX; i++) {
        const struct config_webhook_secret *s = &ch->secrets[i];
        if (s->until && s->until <= now_ms)
            continue;
        struct bt_error err = BT_ERROR_INIT;
        if (!webhook_secret_parse(s->secret, strlen(s->secret), &out[n], &err))
            n++;
    }
    return n;
}

static const char *slack_url(const struct config_channel *ch, json_t *ctx)
{
    json_t *rep = json_object_get(ctx, "rep");
    const char *rep_id = json_string_value(json_object_get(rep, "id"));
    const char *team = json_string_value(json_object_get(rep, "team"));
    for (size_t i = 0; rep_id && i < ch->n_by_rep; i++)
        if (strcmp(ch->by_rep[i].key, rep_id) == 0)
            return ch->by_rep[i].url;
    for (size_t i = 0; team && i < ch->n_by_team; i++)
        if (strcmp(ch->by_team[i].key, team) == 0)
            return ch->by_team[i].url;
    return ch->url;
}

static bt_err http_request(struct deliver *d, struct transfer *t, const struct config *cfg,
                           const struct config_channel *ch, const struct store_outbox_row *row,
                           const struct rendered *r, json_t *ctx, struct bt_error *err)
{
    CURL *h = t->h;
    const char *url = ch->url;
    if (ch->type == DELIVERY_SLACK)
        url = slack_url(ch, ctx);
    else if (ch->type == DELIVERY_SMS && !url)
        url = cfg->delivery.sms.url;
    if (!url)
        return bt_fail(err, BT_EINVAL, NULL, "channel %s has no url", ch->id);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    bool form = ch->type == DELIVERY_SMS;
    t->headers =
        curl_slist_append(t->headers, form ? "Content-Type: application/x-www-form-urlencoded"
                                           : "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (ch->type == DELIVERY_WEBHOOK || ch->type == DELIVERY_CRM) {
        int64_t ts = t->started_at / 1000;
        t->headers =
            curl_slist_append(t->headers, arena_printf(&t->arena, "webhook-id: %s", row->uid));
        t->headers = curl_slist_append(
            t->headers, arena_printf(&t->arena, "webhook-timestamp: %lld", (long long)ts));
        struct webhook_secret secrets[WEBHOOK_SECRETS_MAX];
        size_t n = secrets_of(ch, t->started_at, secrets);
        if (n) {
            char *sig = arena_alloc(&t->arena, WEBHOOK_SIGNATURE_HEADER_LEN(n) + 1);
            bt_err e = webhook_sign(row->uid, ts, r->body, strlen(r->body), secrets, n, sig,
                                    WEBHOOK_SIGNATURE_HEADER_LEN(n) + 1, err);
            if (e)
                return e;
            t->headers = curl_slist_append(t->headers,
                                           arena_printf(&t->arena, "webhook-signature: %s", sig));
        }
    }
    if (form && cfg->delivery.sms.username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->delivery.sms.username);
        curl_easy_setopt(h, CURLOPT_PASSWORD,
                         cfg->delivery.sms.password ? cfg->delivery.sms.password : "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    return BT_OK;
}

/* "Name <addr@host>" or "addr@host" into its name (may be NULL) and address. */
static void split_address(struct arena *a, const char *s, const char **name, const char **addr)
{
    const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (!lt || !gt) {
        *name = NULL;
        *addr = s;
        return;
    }
    const char *end = lt;
    while (end > s && end[-1] == ' ')
        end--;
    const char *start = s;
    if (*start == '"' && end > start + 1 && end[-1] == '"') {
        start++;
        end--;
    }
    *name = end > start ? arena_strndup(a, start, (size_t)(end - start)) : NULL;
    *addr = arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
}

static bt_err add_header(struct transfer *t, const char *name, const char *value)
{
    t->headers = curl_slist_append(t->headers, arena_printf(&t->arena, "%s: %s", name, value));
    return BT_OK;
}

/* The meeting proposal of ctx (its "_meeting") as a text/calendar part. */
static bt_err invite_part(struct transfer *t, const struct config_channel *ch, json_t *ctx,
                          const char *domain, curl_mime *mime, struct bt_error *err)
{
    json_t *m = json_object_get(ctx, "_meeting");
    json_t *rep = json_object_get(ctx, "rep"), *lead = json_object_get(ctx, "lead");
    const char *rep_email = json_string_value(json_object_get(rep, "email"));
    if (!ch->invite || !m || !rep_email)
        return BT_OK;
    struct ics_person attendees[2] = {
        {.name = json_string_value(json_object_get(rep, "name")), .email = rep_email},
    };
    size_t n = 1;
    const char *lead_email = json_string_value(json_object_get(lead, "email"));
    if (lead_email)
        attendees[n++] = (struct ics_person){
            .name = json_string_value(json_object_get(lead, "name")), .email = lead_email};
    const char *company = json_string_value(json_object_get(lead, "company"));
    const char *lead_name = json_string_value(json_object_get(lead, "name"));
    struct ics_invite inv = {
        .uid = arena_printf(&t->arena, "baton-meeting-%lld@%s",
                            (long long)json_integer_value(json_object_get(m, "task")), domain),
        .stamp_ms = t->started_at,
        .start_ms = json_integer_value(json_object_get(m, "start")),
        .end_ms = json_integer_value(json_object_get(m, "end")),
        .summary = arena_printf(&t->arena, "Call with %s%s%s%s", lead_name ? lead_name : "the lead",
                                company ? " (" : "", company ? company : "", company ? ")" : ""),
        .description = json_string_value(json_object_get(json_object_get(ctx, "links"), "decide")),
        .organizer = attendees[0],
        .attendees = attendees,
        .n_attendees = n,
    };
    const char *text;
    size_t len;
    bt_err e = ics_invite_build(&inv, &t->arena, &text, &len, err);
    if (e)
        return e;
    curl_mimepart *p = curl_mime_addpart(mime);
    curl_mime_data(p, text, len);
    curl_mime_type(p, "text/calendar; charset=utf-8; method=REQUEST");
    curl_mime_filename(p, "invite.ics");
    curl_mime_encoder(p, "base64");
    return BT_OK;
}

static bt_err smtp_request(struct deliver *d, struct transfer *t, const struct config *cfg,
                           const struct config_channel *ch, const struct store_outbox_row *row,
                           const struct rendered *r, json_t *ctx, struct bt_error *err)
{
    CURL *h = t->h;
    const struct config_delivery *dl = &cfg->delivery;
    if (!dl->smtp.url || !dl->smtp.from)
        return bt_fail(err, BT_EINVAL, NULL, "delivery.smtp is not configured");
    if (!row->recipient)
        return bt_fail(err, BT_EINVAL, NULL, "the message has no recipient");
    const char *from_name, *from_addr;
    split_address(&t->arena, dl->smtp.from, &from_name, &from_addr);
    const char *at = strrchr(from_addr, '@');
    const char *domain = at ? at + 1 : "baton.invalid";
    curl_easy_setopt(h, CURLOPT_URL, dl->smtp.url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, arena_printf(&t->arena, "<%s>", from_addr));
    t->rcpt = curl_slist_append(NULL, arena_printf(&t->arena, "<%s>", row->recipient));
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, t->rcpt);
    if (strncmp(dl->smtp.url, "smtp://", 7) == 0)
        curl_easy_setopt(h, CURLOPT_USE_SSL,
                         (long)(dl->smtp.starttls == CONFIG_STARTTLS_REQUIRED ? CURLUSESSL_ALL
                                : dl->smtp.starttls == CONFIG_STARTTLS_OFF    ? CURLUSESSL_NONE
                                                                              : CURLUSESSL_TRY));
    if (dl->smtp.username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, dl->smtp.username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, dl->smtp.password ? dl->smtp.password : "");
    }

    const char *v;
    bt_err e;
    if ((e = mailfmt_address(&t->arena, from_name, from_addr, 6, &v, err)))
        return e;
    add_header(t, "From", v);
    const char *to_name = NULL;
    if (ch->to == DELIVERY_TO_REP)
        to_name = json_string_value(json_object_get(json_object_get(ctx, "rep"), "name"));
    else if (ch->to == DELIVERY_TO_MANAGER)
        to_name = json_string_value(json_object_get(json_object_get(ctx, "manager"), "name"));
    else if (ch->to == DELIVERY_TO_PROSPECT)
        to_name = json_string_value(json_object_get(json_object_get(ctx, "lead"), "name"));
    if ((e = mailfmt_address(&t->arena, to_name, row->recipient, 4, &v, err)))
        return e;
    add_header(t, "To", v);
    if ((e = mailfmt_header_text(&t->arena, r->subject ? r->subject : "", 9, &v, err)))
        return e;
    add_header(t, "Subject", v);
    char date[MAILFMT_DATE_LEN + 1];
    if ((e = mailfmt_date(t->started_at, date, err)))
        return e;
    add_header(t, "Date", date);
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)row->id);
    if ((e = mailfmt_message_id(&t->arena, id, row->uid, domain, &v, err)))
        return e;
    add_header(t, "Message-ID", v);
    add_header(t, "X-Baton-Message-Id", row->uid);
    add_header(t, "X-Baton-Event", row->event_type);
    if (ch->to == DELIVERY_TO_PROSPECT) {
        add_header(t, "List-Unsubscribe",
                   arena_printf(&t->arena, "<mailto:%s?subject=unsubscribe>", from_addr));
        add_header(t, "Auto-Submitted", "auto-generated");
    }

    /* multipart/mixed { multipart/alternative { text, html }, invite } */
    t->mime = curl_mime_init(h);
    curl_mime *alt = curl_mime_init(h);
    curl_mimepart *p = curl_mime_addpart(alt);
    curl_mime_data(p, r->text ? r->text : "", CURL_ZERO_TERMINATED);
    curl_mime_type(p, "text/plain; charset=utf-8");
    curl_mime_encoder(p, "quoted-printable");
    if (r->html) {
        p = curl_mime_addpart(alt);
        curl_mime_data(p, r->html, CURL_ZERO_TERMINATED);
        curl_mime_type(p, "text/html; charset=utf-8");
        curl_mime_encoder(p, "quoted-printable");
    }
    p = curl_mime_addpart(t->mime);
    curl_mime_subparts(p, alt);
    curl_mime_type(p, "multipart/alternative");
    if ((e = invite_part(t, ch, ctx, domain, t->mime, err)))
        return e;
    curl_easy_setopt(h, CURLOPT_MIMEPOST, t->mime);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    t->smtp = true;
    return BT_OK;
}

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->h)
        curl_easy_cleanup(t->h);
    curl_mime_free(t->mime);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->rcpt);
    arena_release(&t->arena);
    free(t);
}

/* Starts the row's transfer; a row that cannot be rendered or requested
 * is reported as refused for good (its error recorded), not retried. */
static struct transfer *start(struct deliver *d, const struct config *cfg,
                              const struct config_channel *ch, const struct store_outbox_row *row)
{
    struct transfer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->d = d;
    t->arena = (struct arena)ARENA_INIT;
    t->id = row->id;
    t->attempts = row->attempts;
    snprintf(t->channel, sizeof(t->channel), "%s", row->channel);
    t->started_at = clock_now(d->clock);
    t->t0 = metrics_now_ns();
    struct bt_error err = BT_ERROR_INIT;
    json_error_t jerr;
    json_t *ctx = json_loads(row->payload, 0, &jerr);
    struct rendered r = {0};
    bt_err e = BT_OK;
    if (!json_is_object(ctx))
        e = bt_fail(&err, BT_EPARSE, NULL, "the stored message is not a JSON object");
    if (!e) {
        add_links(d, cfg, ctx, &t->arena);
        if (row->recipient)
            json_object_set_new(ctx, "_to", json_string(row->recipient));
        e = render_message(cfg, ch, row->event_type, ctx, &t->arena, &r, &err);
    }
    if (!e && !(t->h = curl_easy_init()))
        e = bt_fail(&err, BT_EIO, NULL, "curl_easy_init failed");
    if (!e) {
        common_options(d, t, ch);
        e = ch->type == DELIVERY_EMAIL ? smtp_request(d, t, cfg, ch, row, &r, ctx, &err)
                                       : http_request(d, t, cfg, ch, row, &r, ctx, &err);
    }
    json_decref(ctx);
    if (!e && curl_multi_add_handle(d->multi, t->h) != CURLM_OK)
        e = bt_fail(&err, BT_EIO, NULL, "curl_multi_add_handle failed");
    if (e) {
        t->render_error = arena_strdup(&t->arena, err.message);
        if (t->h) {
            curl_easy_cleanup(t->h);
            t->h = NULL;
        }
    }
    return t;
}

/* ---- the loop ---- */

static void fill_result(struct transfer *t, CURLcode code, struct outbox_result *out)
{
    long status = 0;
    if (t->h)
        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
    int64_t latency = (metrics_now_ns() - t->t0) / 1000000;
    *out = (struct outbox_result){
        .id = t->id,
        .channel = t->channel,
        .attempts = t->attempts,
        .attempt = {.at = t->started_at, .latency_ms = latency, .status = status},
    };
    if (t->render_error) {
        out->verdict = DELIVERY_PERMANENT;
        out->attempt.error = t->render_error;
        return;
    }
    if (t->smtp)
        out->verdict = code == CURLE_OK ? DELIVERY_DELIVERED : delivery_smtp_verdict(status);
    else
        out->verdict = code == CURLE_OK ? delivery_http_verdict(status) : DELIVERY_RETRY;
    if (code != CURLE_OK)
        out->attempt.error =
            arena_printf(&t->arena, "%s", t->error[0] ? t->error : curl_easy_strerror(code));
    else if (out->verdict != DELIVERY_DELIVERED)
        out->attempt.error = arena_printf(&t->arena, "answered %ld", status);
    if (t->response_len)
        out->attempt.response = t->response;
    if (status == 429 || status == 503)
        out->retry_after_ms = t->retry_after_ms;
    unsigned slot = metrics_label_slot(&metrics.delivery_channels, t->channel);
    metrics_inc(&metrics.deliveries[slot][out->verdict]);
    metrics_observe(&metrics.delivery_duration[slot], metrics_now_ns() - t->t0);
}

/* Reports finished transfers (done, a list) to the engine and frees them. */
static void report(struct deliver *d, const struct config *cfg, struct transfer *done)
{
    while (done) {
        struct outbox_result results[REPORT_BATCH];
        struct transfer *batch[REPORT_BATCH];
        size_t n = 0;
        while (done && n < REPORT_BATCH) {
            batch[n] = done;
            done = done->next;
            n++;
        }
        for (size_t i = 0; i < n; i++)
            fill_result(batch[i], batch[i]->code, &results[i]);
        struct arena a = ARENA_INIT;
        struct bt_error err = BT_ERROR_INIT;
        if (engine_outbox_report(d->engine, cfg, results, n, &a, &err))
            log_error("delivery: recording %zu outcome%s failed: %s (the rows go out again "
                      "when their lease ends)",
                      n, n == 1 ? "" : "s", err.message);
        arena_release(&a);
        for (size_t i = 0; i < n; i++) {
            struct channel_slot *s = slot_of(d, batch[i]->channel);
            if (s && s->in_flight)
                s->in_flight--;
            transfer_free(batch[i]);
        }
    }
}

static bool stopping(struct deliver *d)
{
    pthread_mutex_lock(&d->lock);
    bool s = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return s;
}

static bool in_flight(const struct deliver *d, int64_t id)
{
    for (const struct transfer *t = d->running; t; t = t->next)
        if (t->id == id)
            return true;
    return false;
}

/*
 * Claims what is due for every channel with room and starts it. Returns
 * the earliest instant a row not claimed now falls due (0: none known),
 * for the poll's timeout.
 */
static int64_t claim_and_start(struct deliver *d, const struct config *cfg,
                               struct transfer **failed)
{
    int64_t now = clock_now(d->clock), next = 0;
    struct outbox_claim claims[CLAIM_MAX_CHANNELS];
    const struct config_channel *chans[CLAIM_MAX_CHANNELS];
    size_t n = 0;
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(d->store, &c, &err)) {
        log_error("delivery: %s", err.message);
        return now + 1000;
    }
    struct arena scratch = ARENA_INIT;
    for (size_t i = 0; i < cfg->delivery.n_channels && n < CLAIM_MAX_CHANNELS; i++) {
        const struct config_channel *ch = &cfg->delivery.channels[i];
        struct channel_slot *s = slot_of(d, ch->id);
        if (!s || s->in_flight >= ch->concurrency)
            continue;
        int64_t due;
        if (store_outbox_next_due(c, ch->id, &due, &err) || !due)
            continue;
        if (due > now) {
            if (!next || due < next)
                next = due;
            continue;
        }
        struct store_delivery_channel st;
        bool found;
        if (store_delivery_channel_get(c, ch->id, &scratch, &st, &found, &err))
            continue;
        unsigned room = ch->concurrency - s->in_flight;
        if (found && st.breaker.state != DELIVERY_CHANNEL_ACTIVE) {
            if (!delivery_breaker_allows(&st.breaker, now) || s->in_flight) {
                if (st.breaker.state == DELIVERY_CHANNEL_PAUSED &&
                    (!next || st.breaker.next_probe_at < next))
                    next = st.breaker.next_probe_at;
                continue;
            }
            room = 1; /* a probe */
        }
        chans[n] = ch;
        claims[n++] = (struct outbox_claim){.channel = ch->id, .limit = room};
    }
    store_reader_release(d->store, c);
    arena_release(&scratch);
    if (!n)
        return next;
    int64_t lease = 0;
    for (size_t i = 0; i < n; i++)
        if ((int64_t)chans[i]->timeout_ms > lease)
            lease = (int64_t)chans[i]->timeout_ms;
    struct arena a = ARENA_INIT;
    if (engine_outbox_claim(d->engine, claims, n, lease + DELIVER_LEASE_MARGIN_MS, &a, &err)) {
        log_error("delivery: claiming messages failed: %s", err.message);
        arena_release(&a);
        return clock_now(d->clock) + 1000;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < claims[i].n; k++) {
            /* A row this worker is still sending, claimed again because its
             * lease ran out meanwhile (a manual clock moved past it): the
             * transfer in flight reports for it (the lease is this node's). */
            if (in_flight(d, claims[i].rows[k].id))
                continue;
            struct transfer *t = start(d, cfg, chans[i], &claims[i].rows[k]);
            if (!t)
                continue;
            struct channel_slot *s = slot_of(d, chans[i]->id);
            if (s)
                s->in_flight++;
            if (t->render_error) {
                t->next = *failed;
                *failed = t;
            } else {
                t->next = d->running;
                d->running = t;
            }
        }
    arena_release(&a);
    /* More may be due than there was room for: look again next turn. */
    return now;
}

/* Takes the finished transfers off the running list into *done. */
static void collect(struct deliver *d, struct transfer **done)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = m->data.result;
        curl_multi_remove_handle(d->multi, m->easy_handle);
        for (struct transfer **p = &d->running; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
        t->code = code;
        t->next = *done;
        *done = t;
    }
}

static void *worker(void *arg)
{
    struct deliver *d = arg;
    for (;;) {
        if (stopping(d))
            break;
        struct config *cfg = config_holder_get(d->holder);
        struct transfer *done = NULL;
        int64_t now = clock_now(d->clock);
        int64_t next = 0;
        if (cfg->delivery.n_channels) {
            next = claim_and_start(d, cfg, &done);
        }
        int running = 0;
        curl_multi_perform(d->multi, &running);
        collect(d, &done);
        report(d, cfg, done);
        done = NULL;
        /* Sleep until something is due, capped by the poll interval. */
        int64_t wait = d->poll_ms;
        if (next && next - now < wait)
            wait = next > now ? next - now : 0;
        if (wait > 0) {
            int numfds;
            curl_multi_poll(d->multi, NULL, 0, (int)wait, &numfds);
        }
        curl_multi_perform(d->multi, &running);
        collect(d, &done);
        report(d, cfg, done);
        config_unref(cfg);
    }
    /* Stopping: let what is in flight finish for a while. */
    int64_t until = time_monotonic_ms() + d->stop_wait_ms;
    struct config *cfg = config_holder_get(d->holder);
    while (d->running && time_monotonic_ms() < until) {
        int running, numfds;
        curl_multi_perform(d->multi, &running);
        struct transfer *done = NULL;
        collect(d, &done);
        report(d, cfg, done);
        if (d->running)
            curl_multi_poll(d->multi, NULL, 0, 50, &numfds);
    }
    config_unref(cfg);
    while (d->running) {
        struct transfer *t = d->running;
        d->running = t->next;
        curl_multi_remove_handle(d->multi, t->h);
        transfer_free(t);
    }
    return NULL;
}

/* libcurl's global state, once per process (baton serve starts one worker). */
static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

bt_err deliver_start(struct engine *engine, struct store *store, struct config_holder *holder,
                     struct clock *clock, const struct deliver_options *opts, struct deliver **out,
                     struct bt_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    struct deliver *d = calloc(1, sizeof(*d));
    if (!d)
        return bt_fail(err, BT_EIO, NULL, "out of memory");
    d->engine = engine;
    d->store = store;
    d->holder = holder;
    d->clock = clock;
    d->node_id = strdup(opts && opts->node_id ? opts->node_id : "baton");
    d->user_agent = strdup(opts && opts->user_agent ? opts->user_agent : "Baton/" BATON_VERSION);
    d->poll_ms = opts && opts->poll_ms ? opts->poll_ms : 250;
    d->stop_wait_ms = opts && opts->stop_wait_ms ? opts->stop_wait_ms : 2000;
    pthread_mutex_init(&d->lock, NULL);
    d->multi = curl_multi_init();
    /* Connections to receivers are kept for the next message: libcurl's
     * default cache follows the handles in use, and every transfer here
     * has its own, briefly. */
    if (d->multi)
        curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, 256L);
    if (!d->multi || pthread_create(&d->thread, NULL, worker, d) != 0) {
        if (d->multi)
            curl_multi_cleanup(d->multi);
        pthread_mutex_destroy(&d->lock);
        free(d->node_id);
        free(d->user_agent);
        free(d);
        return bt_fail(err, BT_EIO, NULL, "cannot start the delivery worker");
    }
    *out = d;
    return BT_OK;
}

void deliver_poke(void *arg)
{
    struct deliver *d = arg;
    /* Thread-safe, and remembered: a wake-up while the worker is not in
     * curl_multi_poll() makes its next poll return at once. */
    curl_multi_wakeup(d->multi);
}

void deliver_stop(struct deliver *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_mutex_unlock(&d->lock);
    curl_multi_wakeup(d->multi);
    pthread_join(d->thread, NULL);
    curl_multi_cleanup(d->multi);
    pthread_mutex_destroy(&d->lock);
    free(d->node_id);
    free(d->user_agent);
    free(d);
}
