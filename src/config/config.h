/*
 * config.h - the YAML configuration as an immutable, validated snapshot.
 *
 * config_load() parses one YAML file with libfyaml, checks every key and value
 * against the schema (unknown keys are errors), and returns a snapshot that is
 * never modified afterwards. Errors name the place: "FILE:LINE:COL: message",
 * with LINE and COL counted from 1, pointing at the offending key or value.
 *
 * Snapshots are reference counted so that a reload (SIGHUP) can swap in a new
 * one while requests still use the old: config_holder_get() hands out a
 * reference; config_unref() drops it; the last reference frees the snapshot.
 *
 * Sections (docs/config.md is the user's manual):
 *   version: 1                          required, must be 1
 *   server:  listen, max_body_bytes, max_connections, request_timeout,
 *            shutdown_timeout, form_redirect_hosts, header_timeout, body_timeout,
 *            max_connections_per_address, limit_loopback, public_url
 *   store:   synchronous (full|normal), busy_timeout, group_commit_max
 *   intake:  freemail: {add: [...], remove: [...]}, activities_create_leads,
 *            rate_limit: {per_key, per_address, roles, trusted_proxies} | off,
 *            allowed_origins: [...], disposable: {add: [...], remove: [...]}
 *   scoring: range, grades, fit (rules and groups), engagement (see core/score.h)
 *   qualification: mql_when, fast_track_when, disqualify_when (core/lifecycle.h)
 *   teams:   [{id, name, manager, timezone, hours, holidays}]  (defaults for their reps)
 *   reps:    [{id, name, email, phone, slack, manager, team, timezone, hours,
 *              holidays, active, languages, skills, territories, weight,
 *              capacity, daily_cap, weekly_cap}]
 *   pools:   [{id, name, strategy, window, absence, timezone, out_of_hours,
 *              match_territory, members, teams, offer, offer_to}]
 *   routing: rules: [{name, when, to, fallback, languages, skills}]
 *   accounts: name_threshold
 *   sla:     policies: [{name, when, accept_within, contact_within, clock,
 *              reminders, on_breach, max_attempts, after_max_attempts,
 *              exclude_last, away_after_breaches}],
 *            reject_reasons: [{id, label, action}], rejections_per_day
 *   forms:   [{id, fields: [{name, to, required, label}], hidden, source, redirect,
 *              success_message, honeypot, min_fill_time, max_fill_time,
 *              require_token, rate_limit: {per_form, per_address}}]  (config_forms.c)
 *   reports: lost_lead_value
 *   predictive: enabled, target, min_labelled, min_per_class, retrain_every,
 *            points, exclude_fields  (config_predictive.c, docs/predictive.md)
 *   delivery: smtp: {url, from, username, password | password_env, starttls},
 *            sms: {url, from, username, password | password_env}, marketing,
 *            retry, breaker: {pause_after, min_failures, probe_every},
 *            meeting_minutes, templates: [{id, subject, text, html}],
 *            channels: [{id, type, events, when, url, secret | secrets |
 *              secret_env, to, template, first_touch, invite, timeout,
 *              concurrency, fields, by_team, by_rep}]  (config_delivery.c)
 * Sizes accept a number of bytes or a suffix (KiB, MiB, GiB, KB, MB, GB);
 * durations a number of seconds or a suffix (ms, s, m, h, d).
 */
#ifndef BT_CONFIG_H
#define BT_CONFIG_H

#include "core/decide.h"
#include "core/delivery.h"
#include "core/lifecycle.h"
#include "core/routing.h"
#include "core/score.h"
#include "core/sla.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/ratelimit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct freemail_set;

enum config_sync { CONFIG_SYNC_FULL, CONFIG_SYNC_NORMAL };

struct config_team {
    const char *id;
    const char *name;
    const char *manager;  /* a rep id, or NULL */
    const char *timezone; /* default for the team's reps, or NULL */
    /* Defaults for the team's reps, as the file gives them (the reps' own
     * values, with these applied, are in their routing reps). */
    bool has_hours;
    struct weekly_hours hours;
    bool has_holidays; /* given, even as an empty list */
    struct holidays holidays;
};

struct config_rep {
    const char *id; /* [a-z0-9][a-z0-9_.-]*, at most 64 characters, unique */
    const char *name;
    const char *email; /* lower-cased, or NULL */
    const char *phone;
    const char *slack;
    const char *team;       /* an id from teams, or NULL */
    const char *timezone;   /* IANA name: the rep's own, else its team's, else "UTC" */
    bool active;            /* default true */
    const char **languages; /* lower case */
    size_t n_languages;
    const char **skills; /* lower case */
    size_t n_skills;
    const char **territories; /* upper case: alpha-2 countries or NA, LATAM, APAC, EMEA */
    size_t n_territories;
    const char *manager; /* a rep id, or NULL */
    double weight;       /* in [0.001, 1000], default 1 */
    int64_t capacity;    /* max open assignments; -1 = unlimited (default) */
    int64_t daily_cap;   /* assignments per local day; -1 = unlimited (default) */
    int64_t weekly_cap;  /* assignments per local week; -1 = unlimited (default) */
    /* The same rep as routing sees it, with its hours, holidays and zone
     * (its own, else its team's): cfg->routing.reps + i for cfg->reps + i,
     * set once routing is built (config_rep_of goes the other way). */
    const struct routing_rep *routing;
};

/* delivery.templates[]: a named message, each part compiled (core/template.h)
 * and checked against the message context's variables when the file loads. */
struct template;
struct config_template {
    const char *id;
    const struct template *subject; /* email; NULL: the channel's default */
    const struct template *text;    /* email's text part, Slack's and SMS's text */
    const struct template *html;    /* email's HTML part; NULL: text only */
};

/* A webhook secret ("whsec_" + base64); while a secret is rotated, the old
 * one stays until `until` and both sign every message. */
struct config_webhook_secret {
    const char *secret;
    int64_t until; /* ms since the epoch; 0: no end (the current secret) */
};

/* crm channel: a CRM field set from a value of the message context. */
struct config_crm_field {
    const char *name; /* the CRM's field name, as given */
    const char *path; /* "lead.email", "score.total", "rep.email", ... */
};

/* A URL chosen by team or rep (Slack: a channel per team or per rep). */
struct config_url_by {
    const char *key; /* a team or rep id */
    const char *url;
};

/* delivery.channels[]: where events go (core/delivery.h). */
struct config_channel {
    const char *id; /* [a-z0-9][a-z0-9_-]*, unique: the destination's name */
    enum delivery_channel_type type;
    const char **events; /* patterns (delivery_event_matches), at least one */
    size_t n_events;
    const struct rule *when;                /* over scoring->lead_syms; NULL: every lead */
    const char *url;                        /* webhook, slack, crm; sms: default delivery.sms.url */
    struct config_url_by *by_team, *by_rep; /* slack: overrides of url */
    size_t n_by_team, n_by_rep;
    struct config_webhook_secret *secrets; /* webhook, crm: none: unsigned */
    size_t n_secrets;
    enum delivery_recipient to;                /* email, sms */
    const char *to_address;                    /* DELIVERY_TO_ADDRESS */
    const struct config_template *template;    /* email, slack, sms; NULL: built in */
    const struct config_template *first_touch; /* email to the rep: the suggested outreach */
    bool invite;          /* email to the rep: a meeting proposal (text/calendar) */
    uint64_t timeout_ms;  /* per attempt; default 10 s (email 30 s) */
    unsigned concurrency; /* requests in flight at once; default 4 */
    struct config_crm_field *fields;
    size_t n_fields;
};

enum config_starttls { CONFIG_STARTTLS_TRY, CONFIG_STARTTLS_REQUIRED, CONFIG_STARTTLS_OFF };

struct config_delivery {
    struct config_channel *channels;
    size_t n_channels;
    struct config_template *templates;
    size_t n_templates;
    struct {
        const char *url;                 /* smtp://host:port or smtps://host:port; NULL: no email */
        const char *from;                /* "Baton <baton@example.com>" */
        const char *username, *password; /* NULL: no AUTH */
        enum config_starttls starttls;   /* smtp:// only; default try */
    } smtp;
    struct {
        const char *url; /* the gateway's endpoint */
        const char *from;
        const char *username, *password; /* HTTP basic auth, or NULL */
    } sms;
    const char *marketing;                      /* marketing's address (to: marketing) */
    int64_t schedule_ms[DELIVERY_SCHEDULE_MAX]; /* delivery.retry; default
                                                   delivery_default_schedule_ms */
    size_t n_schedule;
    struct delivery_breaker_policy breaker;
    uint64_t meeting_minutes; /* invite length; default 30 */
};

/* predictive: how the predictive score is trained and used (docs/predictive.md) */
struct config_predictive {
    bool enabled;                /* default true: the active model scores every lead */
    const char *target;          /* "converted" (default) or "sql" */
    unsigned min_labelled;       /* fewer labelled leads: no model (default 1000) */
    unsigned min_per_class;      /* fewer of either class: no model (default 100) */
    uint64_t retrain_every_ms;   /* 0 (default): no retraining in the background */
    double points;               /* round(p * points) added to the total; 0 (default): none */
    const char **exclude_fields; /* custom fields that are outcomes: never features */
    size_t n_exclude_fields;
};

/* intake.rate_limit: how often POST /v1/leads and POST /v1/activities may be
 * called by one key and from one client address. */
struct config_rate_limit {
    struct ratelimit_rate per_key;     /* each API key; count 0: no limit */
    struct ratelimit_rate per_address; /* each client address (an IPv6 client by its /64) */
    bool ingest, admin;                /* the roles limited (default: ingest only) */
    /* peers whose X-Forwarded-For names the client (netaddr_forwarded_client) */
    const struct net_prefix *trusted_proxies;
    size_t n_trusted_proxies;
};

/* Where a form's input goes: a lead attribute, the employee count, or a
 * custom field (fields.NAME). */
enum config_form_target_kind {
    CONFIG_FORM_ATTR,
    CONFIG_FORM_EMPLOYEES,
    CONFIG_FORM_FIELD,
};

struct config_form_target {
    enum config_form_target_kind kind;
    int attr;          /* CONFIG_FORM_ATTR: an input attribute of core/lead.h */
    const char *field; /* CONFIG_FORM_FIELD: the custom field's name */
};

struct config_form_field {
    const char *name;  /* the input's name in the page: [A-Za-z0-9_-], not starting with '_' */
    const char *label; /* for messages ("Work email is required"); default: the name */
    struct config_form_target to;
    bool required;
};

struct config_form_hidden {
    struct config_form_target to;
    const char *value;
};

/* forms[]: a form a website embeds; POST /v1/forms/{id} (docs/forms.md). */
struct config_form {
    const char *id; /* [a-z0-9][a-z0-9_-]*, unique */
    struct config_form_field *fields;
    size_t n_fields;
    struct config_form_hidden *hidden; /* set on every submission, over what was sent */
    size_t n_hidden;
    const char *source;   /* the lead's source; default "form:ID" */
    const char *redirect; /* where a plain post lands (a form_redirect_hosts host), or NULL */
    const char *success_message;    /* what the embedded script shows */
    const char *honeypot;           /* the trap input's name; NULL: off */
    uint64_t min_fill_time_ms;      /* default 3 s; 0: no check */
    uint64_t max_fill_time_ms;      /* a page's token lives this long; default 1 day */
    bool require_token;             /* a post without the script's token is spam (default false) */
    struct ratelimit_rate per_form; /* submissions of this form; count 0: no limit */
    struct ratelimit_rate per_address; /* ... from one client address */
};

struct config {
    const char *path; /* as given to config_load */
    char version[17]; /* 16 hex digits of the SHA-256 of the file's bytes */
    /* What a compact decision record needs of this version to be shown whole
     * (route_record_context, as JSON text): the store keeps it per version. */
    const char *record_context;
    size_t record_context_len;

    /* server */
    const char *listen;           /* default "127.0.0.1:8080" */
    size_t max_body_bytes;        /* default 1 MiB; 1 KiB .. 64 MiB */
    unsigned max_connections;     /* default 256; 1 .. 10000 */
    unsigned request_timeout_ms;  /* default 30 s: idle connection timeout */
    unsigned shutdown_timeout_ms; /* default 10 s: how long SIGTERM waits for in-flight requests */
    unsigned header_timeout_ms;   /* default 10 s: a request's headers must be in by then */
    unsigned body_timeout_ms;     /* default 60 s: its body, counted from its headers */
    unsigned max_connections_per_address; /* default 64; 0: no limit */
    bool limit_loopback; /* default false: loopback clients are not limited per address */
    /* server.metrics.public: GET /metrics without a key from anywhere
     * (default false: without a key from loopback only, else an admin key) */
    bool metrics_public;
    const char **form_redirect_hosts; /* hosts a form's _redirect may point at */
    size_t n_form_redirect_hosts;

    /* store */
    enum config_sync synchronous; /* default full */
    unsigned busy_timeout_ms;     /* default 5 s */
    unsigned group_commit_max;    /* commands per transaction, default 256; 1 .. 10000 */

    /* intake */
    struct freemail_set *freemail; /* built-in list with the config's add/remove applied */
    const char **freemail_add;     /* intake.freemail.add and .remove as given (lower case) */
    size_t n_freemail_add;
    const char **freemail_remove;
    size_t n_freemail_remove;
    bool activities_create_leads;        /* POST /v1/activities with an unknown email creates the
                                            lead (default false: 404) */
    struct config_rate_limit rate_limit; /* default: ingest keys, 100/s burst 1000 per key,
                                            10/s burst 100 per address, no proxies */
    /* intake.allowed_origins: the web origins ("https://www.example.com",
     * lower case, no path) whose pages may call the intake endpoints from a
     * browser (CORS); none by default */
    const char **allowed_origins;
    size_t n_allowed_origins;
    /* throwaway mail domains (built-in list with intake.disposable's add and
     * remove applied): leads from them get fields.email_disposable = true */
    struct freemail_set *disposable;
    const char **disposable_add, **disposable_remove;
    size_t n_disposable_add, n_disposable_remove;

    /* forms: the defined website forms, in file order */
    struct config_form *forms;
    size_t n_forms;

    /* scoring and qualification; never NULL (an empty model scores 0) */
    struct score_model *scoring;
    struct qualification qualification; /* rules over scoring->lead_syms */

    struct config_team *teams;
    size_t n_teams;
    struct config_rep *reps;
    size_t n_reps;

    /* routing: reps (same order as `reps`), pools and rules; rules over
     * scoring->lead_syms. n_rules == 0 when the file has no routing section. */
    struct routing_config routing;
    double account_name_threshold; /* accounts.name_threshold, default 0.90 */

    /* handoff (core/sla.h): SLA policies over scoring->lead_syms, reject
     * reasons; no policies: assignments have no clock */
    struct sla_config sla;
    /* server.public_url: where one-click links point ("https://baton.example.com",
     * no trailing slash); NULL: links are not made */
    const char *public_url;

    /* delivery (config_delivery.c, docs/delivery.md): the channels every
     * event may go out on, their templates and transports; no channels:
     * nothing is written to the outbox */
    struct config_delivery delivery;

    /* predictive (config_predictive.c): the model trained on the history */
    struct config_predictive predictive;

    /* What the decision pipeline reads (core/decide.h): the scoring model,
     * qualification, routing and the version above. */
    struct decide_model decide;

    /* private: reference count and the arena holding every string above */
    int refs;
    void *priv;

    /* reports: the revenue one lead is worth, for the dark-leads report's
     * estimate of revenue left on the table; 0: not set */
    struct {
        double lost_lead_value;
    } reports;
};

/*
 * Loads and validates `path`. On success *out holds a snapshot with one
 * reference. On failure returns BT_ECONFIG (or BT_EIO when the file cannot be
 * read) with "PATH:LINE:COL: message" in err->message.
 */
bt_err config_load(const char *path, struct config **out, struct bt_error *err) BT_MUST_USE;

/* The same from memory; `name` stands for the file name in messages. */
bt_err config_load_string(const char *name, const char *text, size_t len, struct config **out,
                          struct bt_error *err) BT_MUST_USE;

/* Reference counting (thread-safe). config_unref(NULL) does nothing. */
struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/* The form with this id, or NULL. */
const struct config_form *config_find_form(const struct config *cfg, const char *id);

/* Whether `origin` (as a browser sends it: "https://www.example.com") is in
 * intake.allowed_origins; exact, ASCII case-insensitive. */
bool config_origin_allowed(const struct config *cfg, const char *origin);

/* The rep with this id, or NULL. */
const struct config_rep *config_find_rep(const struct config *cfg, const char *id);

/* The manager of a rep: its own `manager`, else its team's; NULL when it
 * has none (or there is no such rep). */
const char *config_rep_manager(const struct config *cfg, const char *rep_id);
/* Whether `manager` is the manager of rep `rep_id` (config_rep_manager). */
bool config_manages(const struct config *cfg, const char *manager, const char *rep_id);

/* The configuration's rep of a routing rep (an index into cfg->routing.reps
 * from a decision, a pool's members, ...). */
const struct config_rep *config_rep_of(const struct config *cfg, size_t routing_index);

/*
 * The process-wide current snapshot, swapped on reload (config_holder.c). A
 * holder is created once by `baton serve`; handlers take a reference per
 * request. It also keeps the snapshot the process started with, for the
 * settings read only at start, and the outcome of the last reload.
 */
struct config_holder;
struct config_holder *config_holder_new(struct config *initial); /* takes the reference */
void config_holder_free(struct config_holder *h);
struct config *config_holder_get(struct config_holder *h);             /* returns a new reference */
void config_holder_swap(struct config_holder *h, struct config *next); /* takes the reference */

#define CONFIG_RELOAD_SUMMARY_MAX 1024 /* config_diff.h's CONFIG_DIFF_LINE_MAX */

/* What config_holder_reload() did. */
struct config_reload {
    bool applied;              /* the new file is in use; false: the old one keeps running */
    bool warn;                 /* applied, and something was removed or waits for a restart */
    char version[17];          /* in use after the reload */
    char previous_version[17]; /* in use before it */
    char summary[CONFIG_RELOAD_SUMMARY_MAX]; /* applied: what changed (config_diff_line) */
    char error[BT_ERROR_MESSAGE_MAX];        /* failed: "FILE:LINE:COL: message" */
};

/*
 * Loads the file of the running snapshot again. A valid file is swapped in
 * and compared with the running snapshot (config_diff.h; restart-only
 * settings with the snapshot the process started with); a bad one changes
 * nothing. Either way the outcome becomes the holder's last reload, at
 * `now` (ms since the epoch). Only one thread may reload at a time (the
 * daemon's main thread, on SIGHUP); readers may run meanwhile.
 */
void config_holder_reload(struct config_holder *h, int64_t now, struct config_reload *out);

/*
 * The last reload as JSON, a new object the caller owns, or NULL before the
 * first:
 *   {"seq": N, "at": "RFC 3339", "result": "applied" | "failed",
 *    "version": "...", "previous_version": "...",
 *    "summary": {config_diff_json()} | null, "error": "FILE:LINE:COL: ..." | null}
 * seq counts the reloads of this process from 1, so that a caller can tell
 * a new reload from the one it saw before even when both say the same.
 * `current` (may be NULL) gets a new reference to the snapshot in use, read
 * under the same lock: the outcome and the snapshot it installed always
 * agree. Thread-safe.
 */
json_t *config_holder_last_reload(struct config_holder *h, struct config **current);

#endif
