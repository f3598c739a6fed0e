/*
 * config_delivery.c - the `delivery` section: the channels every event may
 * go out on (webhooks, Slack, email, SMS, a CRM), the templates of their
 * messages, the SMTP server and SMS gateway they use, the retry schedule
 * and the circuit breaker, into cfg->delivery (core/delivery.h,
 * docs/delivery.md).
 *
 * Loaded after sla, once teams and reps are known (a Slack channel's
 * by_team and by_rep name them) and while scoring->lead_syms still exists
 * (a channel's `when` is compiled over it, like an SLA policy's). Channels
 * are counted in n_channels as soon as they are started, so that
 * config__delivery_release() frees every compiled `when` however far a
 * failing load got. Templates are compiled into the snapshot's arena and
 * go with it.
 *
 * Everything a delivery needs is checked here, once: a key that does not
 * apply to a channel's type is an error rather than ignored, an email
 * channel without an SMTP server is refused at load rather than
 * dead-lettering every message, and secrets read from the environment are
 * read now, so that a missing variable stops the load, not the first
 * delivery.
 */
#include "config/config_internal.h"
#include "core/delivery.h"
#include "core/rule.h"
#include "core/template.h"
#include "util/timeutil.h"

#include "util/crypto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DELIVERY_MAX_CHANNELS     100
#define DELIVERY_MAX_TEMPLATES    100
#define DELIVERY_MAX_EVENTS       32
#define DELIVERY_MAX_SECRETS      3
#define DELIVERY_MAX_FIELDS       64
#define DELIVERY_MAX_BY           1000 /* entries of by_team, by_rep */
#define DELIVERY_MAX_ID           64
#define DELIVERY_MAX_URL          2000
#define DELIVERY_MAX_ADDRESS      254
#define DELIVERY_MAX_FIELD_NAME   64
#define DELIVERY_MAX_PATH         128
#define DELIVERY_MAX_SUBJECT      998 /* RFC 5322's line limit */
#define DELIVERY_MAX_ENV_NAME     128
#define DELIVERY_MAX_CREDENTIAL   1024
#define DELIVERY_RETRY_MAX_MS     (7 * CONFIG_DAY_MS)
#define DELIVERY_TIMEOUT_MIN_MS   CONFIG_SECOND_MS
#define DELIVERY_TIMEOUT_MAX_MS   (120 * CONFIG_SECOND_MS)
#define DELIVERY_TIMEOUT_DEFAULT  (10 * CONFIG_SECOND_MS)
#define DELIVERY_EMAIL_TIMEOUT    (30 * CONFIG_SECOND_MS)
#define DELIVERY_CONCURRENCY_MAX  64
#define DELIVERY_SECRET_PREFIX    "whsec_"
#define DELIVERY_SECRET_MIN_BYTES 24
#define DELIVERY_SECRET_MAX_BYTES 64
#define DELIVERY_PATH_MAX         160

/* ---- small checks ---- */

/* Channel and template ids: [a-z0-9][a-z0-9_-]*, at most 64 characters. */
static bool valid_delivery_id(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > DELIVERY_MAX_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '-'))))
            return false;
    }
    return true;
}

/* A scalar holding no NUL, so that its text is the whole value. */
static bool plain_text(const struct ynode *n)
{
    return n && n->kind == YNODE_SCALAR && !memchr(n->text, '\0', n->len);
}

/* An address as a mail's envelope needs it: one '@' between a non-empty
 * local part and a domain, no spaces, controls or angle brackets. */
static bool valid_address(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at == s + len - 1 || memchr(at + 1, '@', (size_t)(s + len - at - 1)) ||
        len > DELIVERY_MAX_ADDRESS)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == '"')
            return false;
    }
    return true;
}

/* "addr@example.com" or "Display Name <addr@example.com>". */
static bool valid_mailbox(const char *s)
{
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '>') {
        const char *open = strrchr(s, '<');
        return open && valid_address(open + 1, (size_t)(s + len - 1 - open - 1));
    }
    return valid_address(s, len);
}

/* A phone number in E.164: '+', then 8 to 15 digits. */
static bool valid_phone(const char *s)
{
    size_t len = strlen(s);
    return len >= 9 && len <= 16 && s[0] == '+' && s[1] != '0' &&
           strspn(s + 1, "0123456789") == len - 1;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * A URL with one of `schemes` ("http", "https"; "smtp", "smtps"), a host (a
 * name, an IPv4 address or [IPv6]) and an optional port from 1 to 65535,
 * then, when `rest` allows it, a path and query (printable ASCII without
 * spaces; no fragment). No user name or password: they have keys of their
 * own, and a URL is shown in logs and the admin API. Lower-cases the scheme
 * and host in place. Returns NULL, or what is wrong ("a host", ...).
 */
static const char *check_url(char *u, const char *const *schemes, size_t n_schemes, bool rest)
{
    size_t len = strlen(u), at = 0;
    for (size_t i = 0; i < n_schemes && !at; i++) {
        size_t sl = strlen(schemes[i]);
        if (len > sl + 3 && !strncasecmp(u, schemes[i], sl) && !strncmp(u + sl, "://", 3))
            at = sl + 3;
    }
    if (!at)
        return "scheme";
    for (size_t i = 0; i < at; i++)
        u[i] = lower(u[i]);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7F)
            return "printable characters only (percent-encode spaces and the like)";
    size_t end = at + strcspn(u + at, "/?#");
    if (memchr(u + at, '@', end - at))
        return "no user name or password in the URL";
    size_t host_end;
    if (u[at] == '[') {
        const char *close = memchr(u + at, ']', end - at);
        char host[64];
        size_t hlen = close ? (size_t)(close - (u + at)) - 1 : 0;
        struct in6_addr a6;
        if (!close || hlen == 0 || hlen >= sizeof(host))
            return "a host";
        memcpy(host, u + at + 1, hlen);
        host[hlen] = '\0';
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return "a host";
        host_end = (size_t)(close - u) + 1;
    } else {
        host_end = at;
        while (host_end < end && u[host_end] != ':')
            host_end++;
        char host[256];
        size_t hlen = host_end - at;
        if (hlen == 0 || hlen >= sizeof(host))
            return "a host";
        for (size_t i = at; i < host_end; i++)
            u[i] = lower(u[i]);
        memcpy(host, u + at, hlen);
        host[hlen] = '\0';
        if (!config__valid_hostname(host, 1))
            return "a host";
    }
    for (size_t i = at; i < host_end; i++)
        u[i] = lower(u[i]);
    if (host_end < end) {
        const char *p = u + host_end + 1;
        size_t plen = end - host_end - 1;
        unsigned long port = 0;
        if (u[host_end] != ':' || plen == 0 || plen > 5 || strspn(p, "0123456789") < plen)
            return "a port from 1 to 65535 after the host";
        for (size_t i = 0; i < plen; i++)
            port = port * 10 + (unsigned long)(p[i] - '0');
        if (port == 0 || port > 65535)
            return "a port from 1 to 65535 after the host";
    }
    if (strchr(u + end, '#'))
        return "no fragment ('#...')";
    if (!rest && u[end] != '\0' && strcmp(u + end, "/") != 0)
        return "nothing after the host and port";
    return NULL;
}

/* An http:// or https:// URL (check_url) at n, copied into the snapshot. */
static bt_err get_http_url(struct loader *ld, const struct ynode *n, const char *path,
                           const char **out)
{
    static const char *const schemes[] = {"http", "https"};
    const char *value = NULL;
    bt_err rc = config__get_string(ld, n, path, DELIVERY_MAX_URL, &value);
    if (rc || !value)
        return rc;
    const char *wrong = check_url((char *)value, schemes, 2, true);
    if (wrong && !strcmp(wrong, "scheme"))
        return config__fail_at(ld, n,
                               "%s: expected an http:// or https:// URL, such as "
                               "https://hooks.example.com/baton",
                               path);
    if (wrong)
        return config__fail_at(ld, n, "%s: not a valid URL: expected %s", path, wrong);
    *out = value;
    return BT_OK;
}

/* The value of environment variable `n` names (a `*_env` key), read now. */
static bt_err get_env(struct loader *ld, const struct ynode *n, const char *path, const char **out)
{
    const char *name = NULL;
    bt_err rc = config__get_string(ld, n, path, DELIVERY_MAX_ENV_NAME, &name);
    if (rc || !name)
        return rc;
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
            strlen(name) ||
        (name[0] >= '0' && name[0] <= '9'))
        return config__fail_at(ld, n,
                               "%s: '%s' is not an environment variable name (letters, digits "
                               "and '_', not starting with a digit)",
                               path, name);
    const char *value = getenv(name);
    if (!value)
        return config__fail_at(ld, n, "%s: the environment variable %s is not set", path, name);
    if (!*value)
        return config__fail_at(ld, n, "%s: the environment variable %s is empty", path, name);
    if (strlen(value) > DELIVERY_MAX_CREDENTIAL)
        return config__fail_at(ld, n,
                               "%s: the environment variable %s is too long (at most %d "
                               "bytes)",
                               path, name, DELIVERY_MAX_CREDENTIAL);
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            return config__fail_at(ld, n,
                                   "%s: the environment variable %s holds control characters "
                                   "or line breaks",
                                   path, name);
    if (!(*out = arena_strdup(ld->arena, value)))
        return config__fail_too_large(ld, n);
    return BT_OK;
}

/* `password` or `password_env` (not both) into *out; NULL when neither. */
static bt_err get_password(struct loader *ld, const struct ynode *pw, const struct ynode *env,
                           const char *section, const char **out)
{
    char path[64];
    if (pw && env)
        return config__fail_at(ld, env, "%s.password_env: give password or password_env, not both",
                               section);
    snprintf(path, sizeof(path), "%s.password", section);
    bt_err rc = config__get_string(ld, pw, path, DELIVERY_MAX_CREDENTIAL, out);
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "%s.password_env", section);
    return get_env(ld, env, path, out);
}

/* ---- delivery.smtp, delivery.sms ---- */

static bt_err load_smtp(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"url",      "from",         "username",
                                       "password", "password_env", "starttls"};
    static const char *const schemes[] = {"smtp", "smtps"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_delivery *d = &ld->cfg->delivery;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "delivery.smtp", "with url, from, username, ...")) ||
        (rc = config__map_fields(ld, n, "in delivery.smtp", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_string(ld, v[0], "delivery.smtp.url", DELIVERY_MAX_URL, &d->smtp.url)))
        return rc;
    if (d->smtp.url) {
        const char *wrong = check_url((char *)d->smtp.url, schemes, 2, false);
        if (wrong && !strcmp(wrong, "scheme"))
            return config__fail_at(ld, v[0],
                                   "delivery.smtp.url: expected smtp://HOST:PORT or "
                                   "smtps://HOST:PORT, such as smtp://127.0.0.1:2525");
        if (wrong)
            return config__fail_at(ld, v[0], "delivery.smtp.url: not a valid URL: expected %s",
                                   wrong);
    }
    if ((rc = config__get_string(ld, v[1], "delivery.smtp.from", DELIVERY_MAX_ADDRESS + 200,
                                 &d->smtp.from)))
        return rc;
    if (d->smtp.from && !valid_mailbox(d->smtp.from))
        return config__fail_at(ld, v[1],
                               "delivery.smtp.from: expected an address such as "
                               "baton@example.com or \"Baton <baton@example.com>\"");
    if ((rc = config__get_string(ld, v[2], "delivery.smtp.username", DELIVERY_MAX_CREDENTIAL,
                                 &d->smtp.username)) ||
        (rc = get_password(ld, v[3], v[4], "delivery.smtp", &d->smtp.password)))
        return rc;
    if (!d->smtp.username != !d->smtp.password)
        return config__fail_at(ld, n,
                               "delivery.smtp: username and password go together: give both "
                               "(AUTH) or neither");
    d->smtp.starttls = CONFIG_STARTTLS_TRY;
    if (!config__absent(v[5])) {
        if (config__scalar_is(v[5], "try"))
            d->smtp.starttls = CONFIG_STARTTLS_TRY;
        else if (config__scalar_is(v[5], "required"))
            d->smtp.starttls = CONFIG_STARTTLS_REQUIRED;
        else if (config__scalar_is(v[5], "off"))
            d->smtp.starttls = CONFIG_STARTTLS_OFF;
        else
            return config__fail_at(ld, v[5],
                                   "delivery.smtp.starttls: expected try, required or "
                                   "off");
        if (d->smtp.url && !strncmp(d->smtp.url, "smtps://", 8))
            return config__fail_at(ld, v[5],
                                   "delivery.smtp.starttls: applies to smtp:// URLs only (an "
                                   "smtps:// connection is TLS from the start)");
    }
    return BT_OK;
}

static bt_err load_sms(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"url", "from", "username", "password", "password_env"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_delivery *d = &ld->cfg->delivery;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "delivery.sms", "with url, from, username, ...")) ||
        (rc = config__map_fields(ld, n, "in delivery.sms", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = get_http_url(ld, v[0], "delivery.sms.url", &d->sms.url)) ||
        (rc = config__get_string(ld, v[1], "delivery.sms.from", 64, &d->sms.from)) ||
        (rc = config__get_string(ld, v[2], "delivery.sms.username", DELIVERY_MAX_CREDENTIAL,
                                 &d->sms.username)) ||
        (rc = get_password(ld, v[3], v[4], "delivery.sms", &d->sms.password)))
        return rc;
    if (!d->sms.username != !d->sms.password)
        return config__fail_at(ld, n,
                               "delivery.sms: username and password go together: give both "
                               "(HTTP basic authentication) or neither");
    return BT_OK;
}

/* ---- delivery.retry, delivery.breaker ---- */

static bt_err load_retry(struct loader *ld, const struct ynode *n)
{
    struct config_delivery *d = &ld->cfg->delivery;
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "delivery.retry: expected a list of delays such as [0s, 5s, 5m, "
                               "30m], not %s",
                               config__kind_name(n));
    if (n->count == 0)
        return config__fail_at(ld, n,
                               "delivery.retry: empty; list at least one delay (the first "
                               "attempt's, usually 0s), or leave retry out for the default");
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[40];
        uint64_t ms = 0;
        if (i == DELIVERY_SCHEDULE_MAX)
            return config__fail_at(ld, e, "delivery.retry: too many attempts (at most %d)",
                                   DELIVERY_SCHEDULE_MAX);
        snprintf(path, sizeof(path), "delivery.retry[%zu]", i);
        if (config__absent(e))
            return config__fail_at(ld, e, "%s: expected a duration such as 5m, not null", path);
        bt_err rc = config__get_duration_ms(ld, e, path, 0, DELIVERY_RETRY_MAX_MS, &ms);
        if (rc)
            return rc;
        d->schedule_ms[i] = (int64_t)ms;
    }
    d->n_schedule = i;
    return BT_OK;
}

static bt_err load_breaker(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"pause_after", "min_failures", "probe_every"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct delivery_breaker_policy *b = &ld->cfg->delivery.breaker;
    uint64_t pause = (uint64_t)b->pause_after_ms, probe = (uint64_t)b->probe_every_ms;
    unsigned failures = (unsigned)b->min_failures;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "delivery.breaker",
                                 "with pause_after, min_failures and probe_every")) ||
        (rc = config__map_fields(ld, n, "in delivery.breaker", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_duration_ms(ld, v[0], "delivery.breaker.pause_after", CONFIG_MINUTE_MS,
                                      7 * CONFIG_DAY_MS, &pause)) ||
        (rc = config__get_uint(ld, v[1], "delivery.breaker.min_failures", 1, 10000, &failures)) ||
        (rc = config__get_duration_ms(ld, v[2], "delivery.breaker.probe_every", CONFIG_SECOND_MS,
                                      CONFIG_DAY_MS, &probe)))
        return rc;
    b->pause_after_ms = (int64_t)pause;
    b->min_failures = failures;
    b->probe_every_ms = (int64_t)probe;
    return BT_OK;
}

/* ---- delivery.templates ---- */

/* template_compile's `known`: the names of the message context. */
static bool context_known(void *ctx, const char *path)
{
    (void)ctx;
    return delivery_context_known(path);
}

/*
 * One part of a template (subject, text or html): a string, compiled into
 * the snapshot's arena with every name checked against the message
 * context. An error points at its place in the file, inside a block
 * scalar too; when the value's bytes cannot be matched to the file's (an
 * escape), at the value, with the template's own line and column.
 */
static bt_err get_template_part(struct loader *ld, const struct ynode *n, const char *path,
                                bool one_line, const struct template **out)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SCALAR)
        return config__fail_at(ld, n, "%s: expected a string, not %s", path, config__kind_name(n));
    size_t max = one_line ? DELIVERY_MAX_SUBJECT : TEMPLATE_SOURCE_MAX;
    if (n->len > max)
        return config__fail_at(ld, n, "%s: too long (at most %zu bytes)", path, max);
    if (one_line && (memchr(n->text, '\n', n->len) || memchr(n->text, '\r', n->len)))
        return config__fail_at(ld, n, "%s: must be one line", path);
    if (memchr(n->text, '\0', n->len))
        return config__fail_at(ld, n, "%s: must not contain NUL characters", path);
    struct template_error terr = {0};
    bt_err rc = template_compile(n->text, n->len, context_known, NULL, ld->arena, out, &terr);
    if (rc == BT_OK)
        return BT_OK;
    *out = NULL;
    if (rc == BT_ETOOBIG)
        return config__fail_too_large(ld, n);
    int line, column;
    size_t offset = terr.offset <= n->len ? terr.offset : n->len;
    if (config__scalar_position(ld, n, offset, &line, &column))
        return config__fail_pos(ld, line, column, "%s: %s", path, terr.message);
    return config__fail_pos(ld, line, column, "%s: %s (at line %u, column %u of the template)",
                            path, terr.message, terr.line, terr.column);
}

static bt_err load_template(struct loader *ld, const struct ynode *e, size_t index,
                            struct config_template *templates, const struct ynode **id_at)
{
    static const char *const keys[] = {"id", "subject", "text", "html"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_template *t = &templates[index];
    char path[40], where[48], f[DELIVERY_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "delivery.templates[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with id, subject, text and html")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__require(ld, e, v[0], path, "id")) ||
        (rc = config__get_string(ld, v[0], FIELD("id"), CONFIG_MAX_STRING, &t->id)))
        return rc;
    if (!valid_delivery_id(t->id))
        return config__fail_at(ld, v[0],
                               "%s: '%s' is not a valid template id (lower-case letters, digits, "
                               "'_' and '-', starting with a letter or digit, at most %d "
                               "characters)",
                               FIELD("id"), config__excerpt(t->id, strlen(t->id), buf),
                               DELIVERY_MAX_ID);
    id_at[index] = v[0];
    for (size_t k = 0; k < index; k++)
        if (!strcmp(templates[k].id, t->id))
            return config__fail_at(ld, v[0],
                                   "%s: duplicate template id '%s' (first defined at line %d)",
                                   FIELD("id"), t->id, id_at[k]->line);
    if ((rc = config__require(ld, e, v[2], path, "text")) ||
        (rc = get_template_part(ld, v[1], FIELD("subject"), true, &t->subject)) ||
        (rc = get_template_part(ld, v[2], FIELD("text"), false, &t->text)) ||
        (rc = get_template_part(ld, v[3], FIELD("html"), false, &t->html)))
        return rc;
#undef FIELD
    return BT_OK;
}

static bt_err load_templates(struct loader *ld, const struct ynode *list)
{
    struct config_delivery *d = &ld->cfg->delivery;
    bt_err rc;
    if (config__absent(list))
        return BT_OK;
    if ((rc = config__check_list(ld, list, "delivery.templates", DELIVERY_MAX_TEMPLATES,
                                 "templates")))
        return rc;
    if (list->count == 0)
        return BT_OK;
    struct config_template *templates = arena_alloc(ld->arena, list->count * sizeof(*templates));
    const struct ynode **id_at = arena_alloc(&ld->scratch, list->count * sizeof(*id_at));
    if (!templates || !id_at)
        return config__fail_too_large(ld, list);
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++)
        if ((rc = load_template(ld, e, i, templates, id_at)))
            return rc;
    d->templates = templates;
    d->n_templates = list->count;
    return BT_OK;
}

/* ---- delivery.channels ---- */

/* The keys of a channel, and the types each applies to. */
enum channel_key {
    K_ID,
    K_TYPE,
    K_EVENTS,
    K_WHEN,
    K_URL,
    K_SECRET,
    K_SECRETS,
    K_SECRET_ENV,
    K_TO,
    K_TEMPLATE,
    K_FIRST_TOUCH,
    K_INVITE,
    K_TIMEOUT,
    K_CONCURRENCY,
    K_FIELDS,
    K_BY_TEAM,
    K_BY_REP,
    K_COUNT
};

#define T_WEBHOOK (1u << DELIVERY_WEBHOOK)
#define T_SLACK   (1u << DELIVERY_SLACK)
#define T_EMAIL   (1u << DELIVERY_EMAIL)
#define T_SMS     (1u << DELIVERY_SMS)
#define T_CRM     (1u << DELIVERY_CRM)
#define T_ALL     (T_WEBHOOK | T_SLACK | T_EMAIL | T_SMS | T_CRM)

static const struct {
    const char *name;
    unsigned types;
    const char *types_text; /* for "`KEY` applies to ..." */
} channel_keys[K_COUNT] = {
    [K_ID] = {"id", T_ALL, NULL},
    [K_TYPE] = {"type", T_ALL, NULL},
    [K_EVENTS] = {"events", T_ALL, NULL},
    [K_WHEN] = {"when", T_ALL, NULL},
    [K_URL] = {"url", T_WEBHOOK | T_SLACK | T_CRM | T_SMS, "webhook, slack, crm and sms channels"},
    [K_SECRET] = {"secret", T_WEBHOOK | T_CRM, "webhook and crm channels"},
    [K_SECRETS] = {"secrets", T_WEBHOOK | T_CRM, "webhook and crm channels"},
    [K_SECRET_ENV] = {"secret_env", T_WEBHOOK | T_CRM, "webhook and crm channels"},
    [K_TO] = {"to", T_EMAIL | T_SMS, "email and sms channels"},
    [K_TEMPLATE] = {"template", T_EMAIL | T_SLACK | T_SMS, "email, slack and sms channels"},
    [K_FIRST_TOUCH] = {"first_touch", T_EMAIL, "email channels"},
    [K_INVITE] = {"invite", T_EMAIL, "email channels"},
    [K_TIMEOUT] = {"timeout", T_ALL, NULL},
    [K_CONCURRENCY] = {"concurrency", T_ALL, NULL},
    [K_FIELDS] = {"fields", T_CRM, "crm channels"},
    [K_BY_TEAM] = {"by_team", T_SLACK, "slack channels"},
    [K_BY_REP] = {"by_rep", T_SLACK, "slack channels"},
};

/* The key node whose value is v in mapping m (for pointing at the key). */
static const struct ynode *key_of(const struct ynode *m, const struct ynode *v)
{
    for (const struct ynode *k = m->first; k && k->next; k = k->next->next)
        if (k->next == v)
            return k;
    return v;
}

static bt_err get_events(struct loader *ld, const struct ynode *n, const char *path,
                         struct config_channel *c)
{
    char buf[CONFIG_EXCERPT_MAX + 4];
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "%s: expected a list of events such as [lead.assigned, "
                               "\"assignment.*\"], not %s",
                               path, config__kind_name(n));
    if (n->count == 0)
        return config__fail_at(ld, n, "%s: empty; list the events the channel sends", path);
    if (n->count > DELIVERY_MAX_EVENTS)
        return config__fail_at(ld, n, "%s: too many events (at most %d)", path,
                               DELIVERY_MAX_EVENTS);
    const char **events = arena_alloc(ld->arena, n->count * sizeof(*events));
    if (!events)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        if (config__absent(e) || !plain_text(e))
            return config__fail_at(ld, e, "%s[%zu]: expected an event name such as lead.assigned",
                                   path, i);
        if (!delivery_event_pattern_valid(e->text))
            return config__fail_at(ld, e,
                                   "%s[%zu]: '%s' is not an event Baton sends; expected an "
                                   "event name (lead.assigned), a prefix with .* "
                                   "(\"assignment.*\") or \"*\"",
                                   path, i, config__excerpt(e->text, e->len, buf));
        for (size_t k = 0; k < i; k++)
            if (!strcmp(events[k], e->text))
                return config__fail_at(ld, e, "%s[%zu]: '%s' is listed twice", path, i, events[k]);
        if (!(events[i] = arena_strndup(ld->arena, e->text, e->len)))
            return config__fail_too_large(ld, e);
    }
    c->events = events;
    c->n_events = i;
    return BT_OK;
}

/* "whsec_" and the standard base64 of DELIVERY_SECRET_MIN_BYTES to
 * DELIVERY_SECRET_MAX_BYTES bytes (Standard Webhooks; the same bounds as
 * deliver/webhook_sign.c's parser, which signs with it). */
static bool valid_secret(const char *s)
{
    size_t plen = strlen(DELIVERY_SECRET_PREFIX);
    if (strncmp(s, DELIVERY_SECRET_PREFIX, plen) != 0)
        return false;
    uint8_t key[DELIVERY_SECRET_MAX_BYTES + 3];
    size_t got;
    return !crypto_base64_decode(s + plen, strlen(s + plen), key, sizeof(key), &got, NULL) &&
           got >= DELIVERY_SECRET_MIN_BYTES && got <= DELIVERY_SECRET_MAX_BYTES;
}

static bt_err check_secret(struct loader *ld, const struct ynode *n, const char *path,
                           const char *secret, const char *from_env)
{
    if (valid_secret(secret))
        return BT_OK;
    char where[DELIVERY_MAX_ENV_NAME + 40] = "";
    if (from_env)
        snprintf(where, sizeof(where), " (the value of %s)", from_env);
    return config__fail_at(ld, n,
                           "%s: not a webhook secret%s: expected whsec_ followed by the base64 "
                           "of %d to %d random bytes (such as the output of `openssl rand "
                           "-base64 32`)",
                           path, where, DELIVERY_SECRET_MIN_BYTES, DELIVERY_SECRET_MAX_BYTES);
}

static bt_err get_secrets(struct loader *ld, const struct ynode *secret,
                          const struct ynode *secrets, const struct ynode *secret_env,
                          const char *path, struct config_channel *c)
{
    char f[DELIVERY_PATH_MAX];
    bt_err rc;
    int given = !!secret + !!secrets + !!secret_env;
    if (given > 1) {
        const struct ynode *second = secret_env ? secret_env : secrets;
        return config__fail_at(ld, second,
                               "%s: give one of secret, secrets and secret_env, not several", path);
    }
    if (given == 0)
        return BT_OK;
    c->secrets = arena_alloc(ld->arena, DELIVERY_MAX_SECRETS * sizeof(*c->secrets));
    if (!c->secrets)
        return config__fail_too_large(ld, secret ? secret : secrets ? secrets : secret_env);
    if (secret || secret_env) {
        const char *s = NULL;
        const struct ynode *n = secret ? secret : secret_env;
        snprintf(f, sizeof(f), "%s.%s", path, secret ? "secret" : "secret_env");
        if (secret && config__absent(secret))
            return config__fail_at(ld, secret, "%s: expected a secret (whsec_...), not null", f);
        if ((rc = secret ? config__get_string(ld, secret, f, DELIVERY_MAX_CREDENTIAL, &s)
                         : get_env(ld, secret_env, f, &s)))
            return rc;
        if (!s)
            return config__fail_at(ld, n, "%s: expected an environment variable's name, not null",
                                   f);
        if ((rc = check_secret(ld, n, f, s, secret ? NULL : n->text)))
            return rc;
        c->secrets[0] = (struct config_webhook_secret){.secret = s, .until = 0};
        c->n_secrets = 1;
        return BT_OK;
    }
    static const char *const keys[] = {"secret", "secret_env", "until"};
    snprintf(f, sizeof(f), "%s.secrets", path);
    if (secrets->kind != YNODE_SEQ)
        return config__fail_at(ld, secrets,
                               "%s: expected a list such as [{secret: whsec_..., until: "
                               "2026-12-31T00:00:00Z}, {secret: whsec_...}], not %s",
                               f, config__kind_name(secrets));
    if (secrets->count == 0)
        return config__fail_at(ld, secrets,
                               "%s: empty; list at least one secret, or leave "
                               "secrets out for unsigned messages",
                               f);
    if (secrets->count > DELIVERY_MAX_SECRETS)
        return config__fail_at(ld, secrets, "%s: too many secrets (at most %d)", f,
                               DELIVERY_MAX_SECRETS);
    size_t i = 0, current = SIZE_MAX;
    for (const struct ynode *e = secrets->first; e; e = e->next, i++) {
        const struct ynode *v[CONFIG_N_KEYS(keys)];
        char ep[DELIVERY_PATH_MAX + 24], where[DELIVERY_PATH_MAX + 32], sub[DELIVERY_PATH_MAX + 48];
        struct config_webhook_secret *s = &c->secrets[i];
        snprintf(ep, sizeof(ep), "%s[%zu]", f, i);
        snprintf(where, sizeof(where), "in %s", ep);
        if ((rc = config__expect_map(ld, e, ep, "with secret (or secret_env) and until")) ||
            (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)))
            return rc;
        if (v[0] && v[1])
            return config__fail_at(ld, v[1], "%s: give secret or secret_env, not both", ep);
        if (!v[0] && !v[1])
            return config__fail_at(ld, e, "%s: missing required key 'secret'", ep);
        const struct ynode *sn = v[0] ? v[0] : v[1];
        snprintf(sub, sizeof(sub), "%s.%s", ep, v[0] ? "secret" : "secret_env");
        if (config__absent(sn))
            return config__fail_at(ld, sn, "%s: required", sub);
        if ((rc = v[0] ? config__get_string(ld, v[0], sub, DELIVERY_MAX_CREDENTIAL, &s->secret)
                       : get_env(ld, v[1], sub, &s->secret)) ||
            (rc = check_secret(ld, sn, sub, s->secret, v[0] ? NULL : sn->text)))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(c->secrets[k].secret, s->secret))
                return config__fail_at(ld, sn, "%s: the same secret as %s[%zu]", sub, f, k);
        snprintf(sub, sizeof(sub), "%s.until", ep);
        if (config__absent(v[2])) {
            if (current != SIZE_MAX)
                return config__fail_at(ld, e,
                                       "%s: %s[%zu] has no `until` either; only the current "
                                       "secret goes without one (give the old ones an until)",
                                       ep, f, current);
            current = i;
            s->until = 0;
        } else if (!plain_text(v[2]) || !time_parse_rfc3339(v[2]->text, &s->until)) {
            return config__fail_at(
                ld, v[2], "%s: expected an RFC 3339 time such as 2026-12-31T00:00:00Z", sub);
        } else if (s->until <= 0) {
            return config__fail_at(ld, v[2], "%s: must be after 1970-01-01T00:00:00Z", sub);
        }
    }
    c->n_secrets = i;
    return BT_OK;
}

/* email: rep, manager, prospect, marketing or an address; sms: the same
 * with a phone number. */
static bt_err get_recipient(struct loader *ld, const struct ynode *n, const char *path,
                            struct config_channel *c)
{
    const struct config_delivery *d = &ld->cfg->delivery;
    bool email = c->type == DELIVERY_EMAIL;
    char buf[CONFIG_EXCERPT_MAX + 4];
    const char *s = NULL;
    bt_err rc = config__get_string(ld, n, path, DELIVERY_MAX_ADDRESS, &s);
    if (rc)
        return rc;
    enum delivery_recipient r;
    if (delivery_recipient_parse(s, &r) && r != DELIVERY_TO_ADDRESS) {
        if (r == DELIVERY_TO_MARKETING && !d->marketing)
            return config__fail_at(ld, n,
                                   "%s: marketing needs delivery.marketing (marketing's "
                                   "address)",
                                   path);
        if (r == DELIVERY_TO_MARKETING && !email)
            return config__fail_at(ld, n,
                                   "%s: marketing is an email address; an sms channel goes to "
                                   "rep, manager, prospect or a phone number",
                                   path);
        c->to = r;
        return BT_OK;
    }
    if (email ? valid_address(s, strlen(s)) : valid_phone(s)) {
        c->to = DELIVERY_TO_ADDRESS;
        c->to_address = s;
        return BT_OK;
    }
    return config__fail_at(ld, n,
                           email ? "%s: '%s' is not a recipient; expected rep, manager, prospect, "
                                   "marketing or an email address"
                                 : "%s: '%s' is not a recipient; expected rep, manager, prospect "
                                   "or a phone number such as \"+15550100\" (E.164)",
                           path, config__excerpt(s, strlen(s), buf));
}

static bt_err get_template_ref(struct loader *ld, const struct ynode *n, const char *path,
                               const struct config_template **out)
{
    const struct config_delivery *d = &ld->cfg->delivery;
    char buf[CONFIG_EXCERPT_MAX + 4];
    if (config__absent(n))
        return BT_OK;
    if (!plain_text(n))
        return config__fail_at(ld, n, "%s: expected a template id", path);
    for (size_t i = 0; i < d->n_templates; i++)
        if (!strcmp(d->templates[i].id, n->text)) {
            *out = &d->templates[i];
            return BT_OK;
        }
    return config__fail_at(ld, n,
                           "%s: no template has the id '%s'; define it under "
                           "delivery.templates",
                           path, config__excerpt(n->text, n->len, buf));
}

static bt_err get_fields(struct loader *ld, const struct ynode *n, const char *path,
                         struct config_channel *c)
{
    char buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc = config__expect_map(ld, n, path,
                                   "of CRM field names to values such as "
                                   "lead.email");
    if (rc)
        return rc;
    size_t count = n->count / 2;
    if (count == 0)
        return config__fail_at(ld, n, "%s: empty; map at least one CRM field to a value", path);
    if (count > DELIVERY_MAX_FIELDS)
        return config__fail_at(ld, n, "%s: too many fields (at most %d)", path,
                               DELIVERY_MAX_FIELDS);
    c->fields = arena_alloc(ld->arena, count * sizeof(*c->fields));
    if (!c->fields)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *k = n->first; k && k->next; k = k->next->next, i++) {
        struct config_crm_field *fld = &c->fields[i];
        char sub[DELIVERY_PATH_MAX + CONFIG_EXCERPT_MAX + 8];
        snprintf(sub, sizeof(sub), "%s.%s", path, config__excerpt(k->text, k->len, buf));
        if (k->kind != YNODE_SCALAR || config__is_null(k))
            return config__fail_at(ld, k, "%s: expected a CRM field name", path);
        if ((rc = config__get_string(ld, k, sub, DELIVERY_MAX_FIELD_NAME, &fld->name)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->fields[j].name, fld->name))
                return config__fail_at(ld, k, "%s: the field is mapped twice", sub);
        if (config__absent(k->next))
            return config__fail_at(ld, k->next,
                                   "%s: expected a value of the message context such as "
                                   "lead.email, not null",
                                   sub);
        if ((rc = config__get_string(ld, k->next, sub, DELIVERY_MAX_PATH, &fld->path)))
            return rc;
        if (!delivery_context_known(fld->path))
            return config__fail_at(ld, k->next,
                                   "%s: '%s' is not a value of the message context; expected "
                                   "one such as lead.email, lead.company, score.total, "
                                   "rep.email or lead.fields.NAME",
                                   sub, config__excerpt(fld->path, strlen(fld->path), buf));
    }
    c->n_fields = i;
    return BT_OK;
}

/* by_team and by_rep: team (or rep) id -> Slack URL. */
static bt_err get_url_by(struct loader *ld, const struct ynode *n, const char *path, bool teams,
                         struct config_url_by **out, size_t *n_out)
{
    const struct config *cfg = ld->cfg;
    char buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc = config__expect_map(
        ld, n, path, teams ? "of team ids to Slack URLs" : "of rep ids to Slack URLs");
    if (rc)
        return rc;
    size_t count = n->count / 2;
    if (count > DELIVERY_MAX_BY)
        return config__fail_at(ld, n, "%s: too many entries (at most %d)", path, DELIVERY_MAX_BY);
    struct config_url_by *by = arena_alloc(ld->arena, (count ? count : 1) * sizeof(*by));
    if (!by)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *k = n->first; k && k->next; k = k->next->next, i++) {
        char sub[DELIVERY_PATH_MAX + CONFIG_EXCERPT_MAX + 8];
        snprintf(sub, sizeof(sub), "%s.%s", path, config__excerpt(k->text, k->len, buf));
        if (!plain_text(k) || config__is_null(k))
            return config__fail_at(ld, k, "%s: expected a %s id", path, teams ? "team" : "rep");
        bool found = false;
        if (teams) {
            for (size_t t = 0; t < cfg->n_teams && !found; t++)
                found = !strcmp(cfg->teams[t].id, k->text);
        } else {
            found = config_find_rep(cfg, k->text) != NULL;
        }
        if (!found)
            return config__fail_at(ld, k, "%s: no %s has the id '%s'", path, teams ? "team" : "rep",
                                   config__excerpt(k->text, k->len, buf));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(by[j].key, k->text))
                return config__fail_at(ld, k, "%s: given twice", sub);
        if (!(by[i].key = arena_strndup(ld->arena, k->text, k->len)))
            return config__fail_too_large(ld, k);
        if (config__absent(k->next))
            return config__fail_at(ld, k->next, "%s: expected a URL, not null", sub);
        if ((rc = get_http_url(ld, k->next, sub, &by[i].url)))
            return rc;
    }
    *out = by;
    *n_out = i;
    return BT_OK;
}

static bt_err load_channel(struct loader *ld, const struct ynode *e, size_t index,
                           struct config_channel *channels, const struct ynode **id_at)
{
    const char *keys[K_COUNT];
    for (size_t i = 0; i < K_COUNT; i++)
        keys[i] = channel_keys[i].name;
    const struct ynode *v[K_COUNT];
    struct config *cfg = ld->cfg;
    const struct config_delivery *d = &cfg->delivery;
    struct config_channel *c = &channels[index];
    char path[40], where[48], f[DELIVERY_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "delivery.channels[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with id, type, events, ...")) ||
        (rc = config__map_fields(ld, e, where, keys, K_COUNT, v)) ||
        (rc = config__require(ld, e, v[K_ID], path, "id")) ||
        (rc = config__get_string(ld, v[K_ID], FIELD("id"), CONFIG_MAX_STRING, &c->id)))
        return rc;
    if (!valid_delivery_id(c->id))
        return config__fail_at(ld, v[K_ID],
                               "%s: '%s' is not a valid channel id (lower-case letters, digits, "
                               "'_' and '-', starting with a letter or digit, at most %d "
                               "characters)",
                               FIELD("id"), config__excerpt(c->id, strlen(c->id), buf),
                               DELIVERY_MAX_ID);
    id_at[index] = v[K_ID];
    for (size_t k = 0; k < index; k++)
        if (!strcmp(channels[k].id, c->id))
            return config__fail_at(ld, v[K_ID],
                                   "%s: duplicate channel id '%s' (first defined at line %d)",
                                   FIELD("id"), c->id, id_at[k]->line);

    if ((rc = config__require(ld, e, v[K_TYPE], path, "type")))
        return rc;
    if (!plain_text(v[K_TYPE]) || !delivery_channel_type_parse(v[K_TYPE]->text, &c->type))
        return config__fail_at(ld, v[K_TYPE], "%s: expected webhook, slack, email, sms or crm",
                               FIELD("type"));
    unsigned bit = 1u << c->type;
    for (size_t k = 0; k < K_COUNT; k++)
        if (v[k] && !(channel_keys[k].types & bit))
            return config__fail_at(ld, key_of(e, v[k]), "%s: `%s` applies to %s, not to %s ones",
                                   FIELD(channel_keys[k].name), channel_keys[k].name,
                                   channel_keys[k].types_text, delivery_channel_type_name(c->type));

    if ((rc = config__require(ld, e, v[K_EVENTS], path, "events")) ||
        (rc = get_events(ld, v[K_EVENTS], FIELD("events"), c)))
        return rc;
    if (!config__absent(v[K_WHEN])) {
        struct rule *when = NULL;
        if ((rc = config__compile_when(ld, cfg->scoring->lead_syms, v[K_WHEN], FIELD("when"),
                                       &when)))
            return rc;
        c->when = when; /* freed by config__delivery_release: the channel is counted */
    }

    /* Where it goes. */
    if (c->type == DELIVERY_WEBHOOK || c->type == DELIVERY_SLACK || c->type == DELIVERY_CRM) {
        if ((rc = config__require(ld, e, v[K_URL], path, "url")))
            return rc;
    }
    if ((rc = get_http_url(ld, v[K_URL], FIELD("url"), &c->url)))
        return rc;
    if (c->type == DELIVERY_SMS) {
        if (!c->url)
            c->url = d->sms.url;
        if (!c->url)
            return config__fail_at(ld, e,
                                   "%s: an sms channel needs a gateway: give it a url, or set "
                                   "delivery.sms.url",
                                   path);
        if (!d->sms.from)
            return config__fail_at(ld, e,
                                   "%s: an sms channel needs delivery.sms.from (the number or "
                                   "sender name messages come from)",
                                   path);
    }
    if (c->type == DELIVERY_EMAIL && (!d->smtp.url || !d->smtp.from))
        return config__fail_at(ld, e,
                               "%s: an email channel needs delivery.smtp.url and "
                               "delivery.smtp.from (the mail server and the sender)",
                               path);
    if ((rc = get_secrets(ld, v[K_SECRET], v[K_SECRETS], v[K_SECRET_ENV], path, c)))
        return rc;
    if (c->type == DELIVERY_EMAIL || c->type == DELIVERY_SMS) {
        if ((rc = config__require(ld, e, v[K_TO], path, "to")) ||
            (rc = get_recipient(ld, v[K_TO], FIELD("to"), c)))
            return rc;
    }

    /* What it sends. */
    if ((rc = get_template_ref(ld, v[K_TEMPLATE], FIELD("template"), &c->template)) ||
        (rc = get_template_ref(ld, v[K_FIRST_TOUCH], FIELD("first_touch"), &c->first_touch)) ||
        (rc = config__get_bool(ld, v[K_INVITE], FIELD("invite"), &c->invite)))
        return rc;
    if (c->first_touch && c->to != DELIVERY_TO_REP)
        return config__fail_at(ld, v[K_FIRST_TOUCH],
                               "%s: a first touch is suggested to the rep: it applies to email "
                               "channels with to: rep",
                               FIELD("first_touch"));
    if (c->invite && c->to != DELIVERY_TO_REP)
        return config__fail_at(ld, v[K_INVITE],
                               "%s: a meeting proposal goes to the rep: it applies to email "
                               "channels with to: rep",
                               FIELD("invite"));
    if (!config__absent(v[K_FIELDS]) || c->type == DELIVERY_CRM) {
        if ((rc = config__require(ld, e, v[K_FIELDS], path, "fields")) ||
            (rc = get_fields(ld, v[K_FIELDS], FIELD("fields"), c)))
            return rc;
    }
    if (!config__absent(v[K_BY_TEAM]) &&
        (rc = get_url_by(ld, v[K_BY_TEAM], FIELD("by_team"), true, &c->by_team, &c->n_by_team)))
        return rc;
    if (!config__absent(v[K_BY_REP]) &&
        (rc = get_url_by(ld, v[K_BY_REP], FIELD("by_rep"), false, &c->by_rep, &c->n_by_rep)))
        return rc;

    /* How. */
    c->timeout_ms = c->type == DELIVERY_EMAIL ? DELIVERY_EMAIL_TIMEOUT : DELIVERY_TIMEOUT_DEFAULT;
    c->concurrency = 4;
    if ((rc = config__get_duration_ms(ld, v[K_TIMEOUT], FIELD("timeout"), DELIVERY_TIMEOUT_MIN_MS,
                                      DELIVERY_TIMEOUT_MAX_MS, &c->timeout_ms)) ||
        (rc = config__get_uint(ld, v[K_CONCURRENCY], FIELD("concurrency"), 1,
                               DELIVERY_CONCURRENCY_MAX, &c->concurrency)))
        return rc;
#undef FIELD
    return BT_OK;
}

static bt_err load_channels(struct loader *ld, const struct ynode *list)
{
    struct config_delivery *d = &ld->cfg->delivery;
    bt_err rc;
    if (config__absent(list))
        return BT_OK;
    if ((rc = config__check_list(ld, list, "delivery.channels", DELIVERY_MAX_CHANNELS, "channels")))
        return rc;
    if (list->count == 0)
        return BT_OK;
    d->channels = arena_alloc(ld->arena, list->count * sizeof(*d->channels));
    const struct ynode **id_at = arena_alloc(&ld->scratch, list->count * sizeof(*id_at));
    if (!d->channels || !id_at)
        return config__fail_too_large(ld, list);
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++) {
        /* Counted before it is loaded: its `when` is freed on failure. */
        d->n_channels = i + 1;
        if ((rc = load_channel(ld, e, i, d->channels, id_at)))
            return rc;
    }
    return BT_OK;
}

/* ---- the whole ---- */

bt_err config__load_delivery(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {
        "smtp", "sms", "marketing", "retry", "breaker", "meeting_minutes", "templates", "channels"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_delivery *d = &ld->cfg->delivery;
    bt_err rc;
    unsigned minutes = (unsigned)d->meeting_minutes;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "delivery", "with channels, templates, smtp, ...")) ||
        (rc = config__map_fields(ld, n, "in delivery", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = load_smtp(ld, v[0])) || (rc = load_sms(ld, v[1])) ||
        (rc = config__get_string(ld, v[2], "delivery.marketing", DELIVERY_MAX_ADDRESS,
                                 &d->marketing)))
        return rc;
    if (d->marketing && !valid_address(d->marketing, strlen(d->marketing)))
        return config__fail_at(ld, v[2],
                               "delivery.marketing: expected an email address such as "
                               "marketing@example.com");
    if ((rc = load_retry(ld, v[3])) || (rc = load_breaker(ld, v[4])) ||
        (rc = config__get_uint(ld, v[5], "delivery.meeting_minutes", 5, 480, &minutes)))
        return rc;
    d->meeting_minutes = minutes;
    if ((rc = load_templates(ld, v[6])) || (rc = load_channels(ld, v[7])))
        return rc;
    return BT_OK;
}

void config__delivery_defaults(struct config *cfg)
{
    struct config_delivery *d = &cfg->delivery;
    for (size_t i = 0; i < delivery_default_schedule_len && i < DELIVERY_SCHEDULE_MAX; i++)
        d->schedule_ms[i] = delivery_default_schedule_ms[i];
    d->n_schedule = delivery_default_schedule_len;
    d->breaker = DELIVERY_BREAKER_DEFAULT;
    d->meeting_minutes = 30;
    d->smtp.starttls = CONFIG_STARTTLS_TRY;
}

void config__delivery_release(struct config *cfg)
{
    struct config_delivery *d = &cfg->delivery;
    for (size_t i = 0; i < d->n_channels; i++)
        rule_free((struct rule *)d->channels[i].when);
    d->channels = NULL;
    d->n_channels = 0;
}
