/*
 * config_forms.c - what a website may do from a browser: `intake.allowed_origins`
 * (the pages that may call the intake endpoints, CORS) and `forms` (the
 * defined forms of POST /v1/forms/{id}; docs/forms.md).
 *
 *   intake:
 *     allowed_origins: [https://www.example.com]
 *   forms:
 *     - id: demo
 *       source: website-demo-form
 *       fields:
 *         - {name: email, label: Work email, required: true}
 *         - {name: company}
 *         - {name: budget, to: fields.budget}
 *       hidden: {fields.campaign: q4-launch}
 *       redirect: https://www.example.com/thanks
 *       success_message: Thank you, we will be in touch today.
 *       honeypot: website_url
 *       min_fill_time: 3s
 *       rate_limit: {per_form: 60/m, per_address: 5/m burst 10}
 *
 * An input's `to` names a lead attribute, `employees`, or `fields.NAME`; by
 * default an input named like an attribute goes to it and any other to the
 * custom field of its name. A form is the authority for what a page may
 * send without a key, so everything about it is checked here, once.
 */
#include "config/config_internal.h"
#include "core/lead.h"
#include "util/text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FORMS_MAX          256
#define FORM_FIELDS_MAX    64
#define FORM_HIDDEN_MAX    32
#define FORM_NAME_MAX      64
#define ORIGINS_MAX        256
#define ORIGIN_MAX         300
#define FORM_MESSAGE_MAX   500
#define FORM_FILL_TIME_MAX (7 * CONFIG_DAY_MS)

/* ---- intake.allowed_origins ---- */

/* An origin as a browser sends it: http or https, a host (name, IPv4 or
 * [IPv6]) and an optional port, nothing else. Lower-cases it in place. */
static bool valid_origin(char *s)
{
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *host;
    if (!strncmp(s, "https://", 8))
        host = s + 8;
    else if (!strncmp(s, "http://", 7))
        host = s + 7;
    else
        return false;
    const char *port = NULL;
    char buf[256];
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        size_t hlen = close ? (size_t)(close - host - 1) : 0;
        if (!close || hlen == 0 || hlen >= sizeof(buf))
            return false;
        memcpy(buf, host + 1, hlen);
        buf[hlen] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return false;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return false;
    } else {
        size_t hlen = strcspn(host, ":");
        if (hlen == 0 || hlen >= sizeof(buf))
            return false;
        memcpy(buf, host, hlen);
        buf[hlen] = '\0';
        if (!config__valid_hostname(buf, 1))
            return false;
        if (host[hlen] == ':')
            port = host + hlen + 1;
    }
    if (port) {
        size_t n = strlen(port);
        if (n == 0 || n > 5 || port[0] == '0' || strspn(port, "0123456789") != n)
            return false;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (unsigned)(port[i] - '0');
        if (v > 65535)
            return false;
    }
    return true;
}

bt_err config__load_origins(struct loader *ld, const struct ynode *n)
{
    struct config *cfg = ld->cfg;
    if (config__absent(n))
        return BT_OK;
    bt_err rc = config__check_list(ld, n, "intake.allowed_origins", ORIGINS_MAX, "origins");
    if (rc)
        return rc;
    const char **items = arena_alloc(ld->arena, (n->count + 1) * sizeof(*items));
    if (!items)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[64], buf[CONFIG_EXCERPT_MAX + 4];
        snprintf(path, sizeof(path), "intake.allowed_origins[%zu]", i);
        if (config__absent(e))
            return config__fail_at(ld, e, "%s: expected an origin, not null", path);
        if ((rc = config__get_string(ld, e, path, ORIGIN_MAX, &items[i])))
            return rc;
        if (!strcmp(items[i], "*"))
            return config__fail_at(ld, e,
                                   "%s: '*' is not allowed: list each site's origin, such as "
                                   "https://www.example.com",
                                   path);
        if (!valid_origin((char *)items[i]))
            return config__fail_at(ld, e,
                                   "%s: '%s' is not an origin: expected http:// or https://, a "
                                   "host and an optional :PORT, with no path (such as "
                                   "https://www.example.com)",
                                   path, config__excerpt(items[i], strlen(items[i]), buf));
    }
    cfg->allowed_origins = items;
    cfg->n_allowed_origins = n->count;
    return BT_OK;
}

bool config_origin_allowed(const struct config *cfg, const char *origin)
{
    if (!origin)
        return false;
    for (size_t i = 0; i < cfg->n_allowed_origins; i++)
        if (!strcasecmp(cfg->allowed_origins[i], origin))
            return true;
    return false;
}

/* ---- forms ---- */

/* Form ids: [a-z0-9][a-z0-9_-]* (no '.': GET /v1/forms/{id}.js). */
static bool valid_form_id(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '-'))))
            return false;
    }
    return true;
}

/* Input names: [A-Za-z0-9_-], 1..64, not starting with '_' (controls). */
static bool valid_input_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > FORM_NAME_MAX || s[0] == '_')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* "email" (an input attribute), "employees" or "fields.NAME". */
static bool parse_target(const char *s, struct arena *a, struct config_form_target *out)
{
    int i = lead_attr_find(s);
    if (i >= 0 && i < LEAD_INPUT_ATTR_COUNT && lead_attrs[i].input) {
        *out = (struct config_form_target){.kind = CONFIG_FORM_ATTR, .attr = i};
        return true;
    }
    if (!strcmp(s, "employees")) {
        *out = (struct config_form_target){.kind = CONFIG_FORM_EMPLOYEES, .attr = -1};
        return true;
    }
    if (!strncmp(s, "fields.", 7) && strlen(s + 7) >= 1 && strlen(s + 7) <= LEAD_FIELD_KEY_MAX &&
        !text_has_control(s + 7)) {
        *out = (struct config_form_target){.kind = CONFIG_FORM_FIELD, .attr = -1, .field = s + 7};
        return true;
    }
    (void)a;
    return false;
}

static bool same_target(const struct config_form_target *a, const struct config_form_target *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == CONFIG_FORM_ATTR)
        return a->attr == b->attr;
    if (a->kind == CONFIG_FORM_FIELD)
        return !strcmp(a->field, b->field);
    return true;
}

static const char *target_text(const struct config_form_target *t, char *buf, size_t size)
{
    if (t->kind == CONFIG_FORM_ATTR)
        snprintf(buf, size, "%s", lead_attrs[t->attr].name);
    else if (t->kind == CONFIG_FORM_EMPLOYEES)
        snprintf(buf, size, "employees");
    else
        snprintf(buf, size, "fields.%s", t->field);
    return buf;
}

static bt_err get_target(struct loader *ld, const struct ynode *n, const char *path,
                         struct config_form_target *out)
{
    const char *s;
    bt_err rc = config__get_string(ld, n, path, 7 + LEAD_FIELD_KEY_MAX, &s);
    if (rc)
        return rc;
    if (!parse_target(s, ld->arena, out)) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        return config__fail_at(ld, n,
                               "%s: '%s' is not a lead attribute (email, first_name, company, "
                               "...), employees, or fields.NAME",
                               path, config__excerpt(s, strlen(s), buf));
    }
    return BT_OK;
}

static bt_err load_form_fields(struct loader *ld, const struct ynode *n, const char *path,
                               struct config_form *f)
{
    static const char *const keys[] = {"name", "to", "required", "label"};
    bt_err rc = config__check_list(ld, n, path, FORM_FIELDS_MAX, "fields");
    if (rc)
        return rc;
    if (n->count == 0)
        return config__fail_at(ld, n, "%s: a form needs at least one field", path);
    f->fields = arena_alloc(ld->arena, n->count * sizeof(*f->fields));
    if (!f->fields)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        struct config_form_field *fld = &f->fields[i];
        const struct ynode *v[CONFIG_N_KEYS(keys)];
        char fpath[200], sub[256], buf[CONFIG_EXCERPT_MAX + 4];
        snprintf(fpath, sizeof(fpath), "%s[%zu]", path, i);
        memset(fld, 0, sizeof(*fld));
        char where[208];
        snprintf(where, sizeof(where), "in %s", fpath);
        if ((rc = config__expect_map(ld, e, fpath, "with name, to, required and label")) ||
            (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
            (rc = config__require(ld, e, v[0], fpath, "name")))
            return rc;
        snprintf(sub, sizeof(sub), "%s.name", fpath);
        if ((rc = config__get_string(ld, v[0], sub, FORM_NAME_MAX, &fld->name)))
            return rc;
        if (!valid_input_name(fld->name))
            return config__fail_at(ld, v[0],
                                   "%s: '%s' is not an input name (1 to %d letters, digits, '_' "
                                   "and '-', not starting with '_')",
                                   sub, config__excerpt(fld->name, strlen(fld->name), buf),
                                   FORM_NAME_MAX);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(f->fields[k].name, fld->name))
                return config__fail_at(ld, v[0], "%s: the form has an input '%s' already", sub,
                                       fld->name);
        if (!config__absent(v[1])) {
            snprintf(sub, sizeof(sub), "%s.to", fpath);
            if ((rc = get_target(ld, v[1], sub, &fld->to)))
                return rc;
        } else if (!parse_target(fld->name, ld->arena, &fld->to)) {
            fld->to = (struct config_form_target){
                .kind = CONFIG_FORM_FIELD, .attr = -1, .field = fld->name};
        }
        for (size_t k = 0; k < i; k++)
            if (same_target(&f->fields[k].to, &fld->to))
                return config__fail_at(
                    ld, v[1] ? v[1] : v[0], "%s: inputs '%s' and '%s' both go to %s", fpath,
                    f->fields[k].name, fld->name, target_text(&fld->to, sub, sizeof(sub)));
        snprintf(sub, sizeof(sub), "%s.required", fpath);
        if ((rc = config__get_bool(ld, v[2], sub, &fld->required)))
            return rc;
        snprintf(sub, sizeof(sub), "%s.label", fpath);
        fld->label = fld->name;
        if ((rc = config__get_string(ld, v[3], sub, 200, &fld->label)))
            return rc;
    }
    f->n_fields = n->count;
    return BT_OK;
}

static bt_err load_form_hidden(struct loader *ld, const struct ynode *n, const char *path,
                               struct config_form *f)
{
    if (config__absent(n))
        return BT_OK;
    bt_err rc = config__expect_map(ld, n, path, "of targets to values");
    if (rc)
        return rc;
    size_t count = n->count / 2;
    if (count > FORM_HIDDEN_MAX)
        return config__fail_at(ld, n, "%s: at most %d hidden values", path, FORM_HIDDEN_MAX);
    f->hidden = arena_alloc(ld->arena, (count + 1) * sizeof(*f->hidden));
    if (!f->hidden)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *k = n->first; k && k->next; k = k->next->next, i++) {
        const struct ynode *v = k->next;
        struct config_form_hidden *h = &f->hidden[i];
        char sub[256], buf[96];
        snprintf(sub, sizeof(sub), "%s.%s", path, config__excerpt(k->text, k->len, buf));
        if ((rc = get_target(ld, k, sub, &h->to)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (same_target(&f->hidden[j].to, &h->to))
                return config__fail_at(ld, k, "%s: given twice", sub);
        for (size_t j = 0; j < f->n_fields; j++)
            if (same_target(&f->fields[j].to, &h->to))
                return config__fail_at(ld, k, "%s: the input '%s' goes there already", sub,
                                       f->fields[j].name);
        if (h->to.kind == CONFIG_FORM_ATTR && h->to.attr == LEAD_SOURCE)
            return config__fail_at(ld, k, "%s: use the form's own `source` key", sub);
        if (config__absent(v))
            return config__fail_at(ld, v, "%s: expected a value, not null", sub);
        if ((rc = config__get_string(ld, v, sub, CONFIG_MAX_STRING, &h->value)))
            return rc;
    }
    f->n_hidden = i;
    return BT_OK;
}

/* A redirect must be an http(s) URL on one of server.form_redirect_hosts. */
static bt_err check_redirect(struct loader *ld, const struct ynode *n, const char *path,
                             const char *url)
{
    const struct config *cfg = ld->cfg;
    const char *host = !strncasecmp(url, "https://", 8)  ? url + 8
                       : !strncasecmp(url, "http://", 7) ? url + 7
                                                         : NULL;
    bool printable = true;
    for (const char *p = url; *p; p++)
        if (*p <= ' ' || *p > '~' || strchr("\"<>\\^`{|}", *p))
            printable = false;
    size_t alen = host ? strcspn(host, "/?#") : 0;
    size_t hlen = host ? strcspn(host, ":/?#") : 0;
    bool listed = false;
    for (size_t i = 0; host && i < cfg->n_form_redirect_hosts; i++)
        if (strlen(cfg->form_redirect_hosts[i]) == hlen &&
            !strncasecmp(cfg->form_redirect_hosts[i], host, hlen))
            listed = true;
    if (!host || !printable || memchr(host, '@', alen) || hlen == 0)
        return config__fail_at(ld, n, "%s: expected an http:// or https:// URL", path);
    if (!listed)
        return config__fail_at(ld, n, "%s: the host '%.*s' is not in server.form_redirect_hosts",
                               path, (int)(hlen > 100 ? 100 : hlen), host);
    return BT_OK;
}

static bt_err load_form(struct loader *ld, const struct ynode *e, const char *path,
                        struct config_form *f)
{
    static const char *const keys[] = {"id",
                                       "fields",
                                       "hidden",
                                       "source",
                                       "redirect",
                                       "success_message",
                                       "honeypot",
                                       "min_fill_time",
                                       "max_fill_time",
                                       "require_token",
                                       "rate_limit"};
    static const char *const rl_keys[] = {"per_form", "per_address"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    const struct ynode *rl[CONFIG_N_KEYS(rl_keys)] = {NULL, NULL};
    char where[96], sub[160];
    snprintf(where, sizeof(where), "in %s", path);
    bt_err rc;
    *f = (struct config_form){
        .success_message = "Thank you! We will be in touch shortly.",
        .honeypot = "website_url",
        .min_fill_time_ms = 3 * CONFIG_SECOND_MS,
        .max_fill_time_ms = CONFIG_DAY_MS,
        .per_form = {.count = 60, .period_ms = 60000, .burst = 120},
        .per_address = {.count = 10, .period_ms = 60000, .burst = 20},
    };
    if ((rc = config__expect_map(ld, e, path, "describing a form")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__require(ld, e, v[0], path, "id")))
        return rc;
    snprintf(sub, sizeof(sub), "%s.id", path);
    if ((rc = config__get_string(ld, v[0], sub, 64, &f->id)))
        return rc;
    if (!valid_form_id(f->id)) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        return config__fail_at(ld, v[0],
                               "%s: '%s' is not a form id (lower-case letters, digits, '_' and "
                               "'-', starting with a letter or digit, at most 64 characters)",
                               sub, config__excerpt(f->id, strlen(f->id), buf));
    }
    snprintf(sub, sizeof(sub), "%s.fields", path);
    if ((rc = config__require(ld, e, v[1], path, "fields")) ||
        (rc = load_form_fields(ld, v[1], sub, f)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.hidden", path);
    if ((rc = load_form_hidden(ld, v[2], sub, f)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.source", path);
    f->source = NULL;
    if ((rc = config__get_string(ld, v[3], sub, lead_attrs[LEAD_SOURCE].max_len, &f->source)))
        return rc;
    if (!f->source && !(f->source = arena_printf(ld->arena, "form:%s", f->id)))
        return config__fail_too_large(ld, e);
    snprintf(sub, sizeof(sub), "%s.redirect", path);
    if ((rc = config__get_string(ld, v[4], sub, 2000, &f->redirect)) ||
        (f->redirect && (rc = check_redirect(ld, v[4], sub, f->redirect))))
        return rc;
    snprintf(sub, sizeof(sub), "%s.success_message", path);
    if ((rc = config__get_string(ld, v[5], sub, FORM_MESSAGE_MAX, &f->success_message)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.honeypot", path);
    if (v[6] && config__scalar_is(v[6], "off")) {
        f->honeypot = NULL;
    } else {
        if ((rc = config__get_string(ld, v[6], sub, FORM_NAME_MAX, &f->honeypot)))
            return rc;
        bool ok = f->honeypot[0] != '_' || strlen(f->honeypot) > 1;
        for (const char *p = f->honeypot; *p && ok; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '_' || *p == '-';
        if (!ok)
            return config__fail_at(ld, v[6],
                                   "%s: expected an input name (letters, digits, '_' and '-') "
                                   "or off",
                                   sub);
        for (size_t i = 0; i < f->n_fields; i++)
            if (!strcmp(f->fields[i].name, f->honeypot))
                return config__fail_at(ld, v[6], "%s: '%s' is one of the form's own inputs", sub,
                                       f->honeypot);
    }
    snprintf(sub, sizeof(sub), "%s.min_fill_time", path);
    if ((rc = config__get_duration_ms(ld, v[7], sub, 0, 10 * CONFIG_MINUTE_MS,
                                      &f->min_fill_time_ms)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.max_fill_time", path);
    if ((rc = config__get_duration_ms(ld, v[8], sub, CONFIG_MINUTE_MS, FORM_FILL_TIME_MAX,
                                      &f->max_fill_time_ms)))
        return rc;
    if (f->max_fill_time_ms <= f->min_fill_time_ms)
        return config__fail_at(ld, v[8] ? v[8] : v[7], "%s: must be longer than min_fill_time",
                               sub);
    snprintf(sub, sizeof(sub), "%s.require_token", path);
    if ((rc = config__get_bool(ld, v[9], sub, &f->require_token)))
        return rc;
    if (config__absent(v[10]))
        return BT_OK;
    snprintf(sub, sizeof(sub), "%s.rate_limit", path);
    if (config__scalar_is(v[10], "off")) {
        f->per_form = f->per_address = (struct ratelimit_rate){0};
        return BT_OK;
    }
    snprintf(where, sizeof(where), "in %s.rate_limit", path);
    if ((rc = config__expect_map(ld, v[10], sub, "with per_form and per_address")) ||
        (rc = config__map_fields(ld, v[10], where, rl_keys, CONFIG_N_KEYS(rl_keys), rl)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.rate_limit.per_form", path);
    if ((rc = config__get_rate(ld, rl[0], sub, &f->per_form)))
        return rc;
    snprintf(sub, sizeof(sub), "%s.rate_limit.per_address", path);
    return config__get_rate(ld, rl[1], sub, &f->per_address);
}

bt_err config__load_forms(struct loader *ld, const struct ynode *n)
{
    struct config *cfg = ld->cfg;
    if (config__absent(n))
        return BT_OK;
    bt_err rc = config__check_list(ld, n, "forms", FORMS_MAX, "forms");
    if (rc)
        return rc;
    cfg->forms = arena_alloc(ld->arena, (n->count + 1) * sizeof(*cfg->forms));
    if (!cfg->forms)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char path[32];
        snprintf(path, sizeof(path), "forms[%zu]", i);
        if ((rc = load_form(ld, e, path, &cfg->forms[i])))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(cfg->forms[k].id, cfg->forms[i].id))
                return config__fail_at(ld, e, "%s.id: the form '%s' is defined twice", path,
                                       cfg->forms[i].id);
        cfg->n_forms = i + 1;
    }
    return BT_OK;
}

const struct config_form *config_find_form(const struct config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_forms; i++)
        if (!strcmp(cfg->forms[i].id, id))
            return &cfg->forms[i];
    return NULL;
}
