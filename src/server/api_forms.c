/*
 * api_forms.c - the defined forms of the config (`forms:`, docs/forms.md):
 * POST /v1/forms/{id} takes a submission without a key, GET
 * /v1/forms/{id}.js serves the script a site embeds, GET /v1/forms lists
 * the forms with what happened to their submissions.
 *
 * A submission goes: the form's rate limits (the form, then the client
 * address on it) → its parse → the spam checks (the honeypot, then the
 * fill-time token) → each input checked against the definition, every
 * problem reported with the input's name → the lead built from the
 * definition's targets and hidden values → normalised and taken in like
 * POST /v1/leads with a public key (merges only fill what is empty). Spam
 * is answered exactly as an accepted submission, so that a bot learns
 * nothing, and is counted (form_stats.h) and logged instead of stored.
 *
 * The script is src/server/assets/form_embed.js, built in with .incbin
 * like docs/openapi.yaml; the per-request part (the token) follows it.
 */
#include "core/form_token.h"
#include "core/normalize.h"
#include "engine/engine.h"
#include "server/form_stats.h"
#include "server/http.h"
#include "server/intake_parse.h"
#include "store/store_handoff.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/text.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__asm__(".section .rodata\n"
        ".global baton_form_embed_js\n"
        ".type baton_form_embed_js, @object\n"
        "baton_form_embed_js:\n"
        ".incbin \"src/server/assets/form_embed.js\"\n"
        ".global baton_form_embed_js_end\n"
        "baton_form_embed_js_end:\n"
        ".byte 0\n"
        ".previous\n");
extern const char baton_form_embed_js[];
extern const char baton_form_embed_js_end[];

#define FORM_TOKEN_INPUT "_baton_token"

static const struct config_form *request_form(struct request *r)
{
    const struct config_form *f = config_find_form(r->cfg, r->name);
    if (!f)
        reply_error(r, 404, "not_found", "id", "no such form: %.64s", r->name);
    return f;
}

/* The last value sent for `name`, or NULL. */
static const char *value_of(const struct intake_pair *pairs, size_t n, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(pairs[i].name, name))
            v = pairs[i].value;
    return v;
}

/* The fill-time key of the newest link secret; false when there is none. */
static bool token_key(struct request *r, uint32_t generation, uint32_t *gen_out,
                      uint8_t key[FORM_TOKEN_KEY_BYTES])
{
    struct store_conn *c;
    struct bt_error err = BT_ERROR_INIT;
    if (store_reader_acquire(r->ctx->store, &c, &err)) {
        log_warn("forms: no store connection for the token key: %s", err.message);
        return false;
    }
    uint8_t secret[LINK_SECRET_BYTES];
    bool found = false;
    uint32_t gen = 0;
    bt_err rc = store_link_secret_get(c, generation, &found, &gen, secret, &err);
    store_reader_release(r->ctx->store, c);
    if (rc || !found)
        return false;
    form_token_key(secret, sizeof(secret), key);
    if (gen_out)
        *gen_out = gen;
    return true;
}

/* Which spam check the submission fails, or FORM_STAT_ACCEPTED. */
static enum form_stat spam_check(struct request *r, const struct config_form *f,
                                 const struct intake_pair *pairs, size_t n)
{
    if (f->honeypot) {
        const char *trap = value_of(pairs, n, f->honeypot);
        if (trap && trap[0])
            return FORM_STAT_SPAM_HONEYPOT;
    }
    const char *text = value_of(pairs, n, FORM_TOKEN_INPUT);
    if (!text || !text[0])
        return f->require_token ? FORM_STAT_SPAM_NO_TOKEN : FORM_STAT_ACCEPTED;
    struct form_token t;
    uint8_t key[FORM_TOKEN_KEY_BYTES];
    if (!form_token_parse(text, strlen(text), &t))
        return FORM_STAT_SPAM_MALFORMED;
    if (!token_key(r, t.generation, NULL, key))
        return FORM_STAT_SPAM_FORGED;
    switch (form_token_check(&t, key, f->id, clock_now(r->ctx->clock), (int64_t)f->min_fill_time_ms,
                             (int64_t)f->max_fill_time_ms)) {
    case FORM_TOKEN_OK:
        return FORM_STAT_ACCEPTED;
    case FORM_TOKEN_MALFORMED:
        return FORM_STAT_SPAM_MALFORMED;
    case FORM_TOKEN_FORGED:
        return FORM_STAT_SPAM_FORGED;
    case FORM_TOKEN_TOO_FAST:
        return FORM_STAT_SPAM_TOO_FAST;
    case FORM_TOKEN_EXPIRED:
        return FORM_STAT_SPAM_EXPIRED;
    }
    return FORM_STAT_SPAM_MALFORMED;
}

static void add_error(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error(json_t *errors, const char *field, const char *fmt, ...)
{
    char msg[BT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    text_make_utf8(msg);
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

/* 422 with every problem: {"error": {... the first ...}, "errors": [...]}. */
static void reply_invalid(struct request *r, const struct config_form *f, json_t *errors)
{
    json_t *first = json_array_get(errors, 0);
    json_t *e =
        json_pack("{s:s, s:O, s:O}", "code", "invalid", "message",
                  json_object_get(first, "message"), "field", json_object_get(first, "field"));
    form_stats_add(request_form_stats(r), f->id, FORM_STAT_INVALID);
    reply_json(r, 422, json_pack("{s:o, s:o}", "error", e, "errors", errors));
}

/* The input of the form that goes to lead attribute `attr`, for errors. */
static const struct config_form_field *field_of_attr(const struct config_form *f, const char *name)
{
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct config_form_target *t = &f->fields[i].to;
        if ((t->kind == CONFIG_FORM_ATTR && !strcmp(lead_attrs[t->attr].name, name)) ||
            (t->kind == CONFIG_FORM_EMPLOYEES && !strcmp(name, "employees")))
            return &f->fields[i];
    }
    return NULL;
}

/* Puts one value where the definition says; custom fields into `custom`. */
static void place(struct lead_input *in, json_t *custom, const struct config_form_target *t,
                  const char *value)
{
    if (t->kind == CONFIG_FORM_ATTR)
        in->attr[t->attr] = value;
    else if (t->kind == CONFIG_FORM_EMPLOYEES)
        in->employees = value;
    else
        json_object_set_new(custom, t->field, json_string(value));
}

/* Checks one input on its own (its length and syntax), adding its errors. */
static void check_input(struct request *r, const struct config_form_field *fld, const char *value,
                        json_t *errors)
{
    struct bt_error err = BT_ERROR_INIT;
    const struct config_form_target *t = &fld->to;
    size_t max = t->kind == CONFIG_FORM_ATTR        ? lead_attrs[t->attr].max_len
                 : t->kind == CONFIG_FORM_EMPLOYEES ? LEAD_EMPLOYEES_RAW_MAX
                                                    : 2000;
    if (strlen(value) > max) {
        add_error(errors, fld->name, "%s is longer than %zu characters", fld->label, max);
        return;
    }
    if (t->kind == CONFIG_FORM_ATTR && t->attr == LEAD_EMAIL) {
        const char *email, *domain;
        if (normalize_email(&r->arena, value, &email, &domain, &err))
            add_error(errors, fld->name, "%s: %s", fld->label, err.message);
    } else if (t->kind == CONFIG_FORM_ATTR && t->attr == LEAD_PHONE) {
        if (normalize_phone(value, &err))
            add_error(errors, fld->name, "%s: %s", fld->label, err.message);
    }
}

static json_t *warnings_json(const struct normalize_report *rep)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->count; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "field", rep->warnings[i].field, "message",
                                           rep->warnings[i].message));
    return a;
}

/* The reply of an accepted submission, spam included: a plain post with a
 * redirect goes there, anything else gets the success message. */
static void reply_accepted(struct request *r, const struct config_form *f,
                           const struct normalize_report *report)
{
    if (r->body_kind == BODY_FORM && f->redirect) {
        reply_redirect(r, f->redirect);
        return;
    }
    reply_json(r, 202,
               json_pack("{s:b, s:s, s:o}", "accepted", 1, "message", f->success_message,
                         "warnings", report ? warnings_json(report) : json_array()));
}

void api_form_submit(struct request *r)
{
    const struct config_form *f = request_form(r);
    if (!f)
        return;
    struct form_stats *stats = request_form_stats(r);
    uint8_t addr[9];
    uint8_t key[9 + 8];
    uint64_t form_hash;
    {
        uint8_t digest[32];
        crypto_hmac_sha256(NULL, 0, f->id, strlen(f->id), digest);
        memcpy(&form_hash, digest, sizeof(form_hash));
    }
    size_t alen = request_client_key(r, addr);
    memcpy(key, &form_hash, 8);
    memcpy(key + 8, addr, alen);
    if (!request_within_rate(r, 'f', &f->per_form, &form_hash, 8, "this form") ||
        !request_within_rate(r, 'a', &f->per_address, key, 8 + alen,
                             "this form from this address")) {
        form_stats_add(stats, f->id, FORM_STAT_RATE_LIMITED);
        return;
    }

    struct bt_error err = BT_ERROR_INIT;
    struct intake_pair *pairs;
    size_t n;
    if (intake_parse_pairs(r->body, r->body_len, r->body_kind == BODY_JSON, &r->arena, &pairs, &n,
                           &err)) {
        reply_bt_error(r, &err);
        return;
    }

    enum form_stat spam = spam_check(r, f, pairs, n);
    if (spam != FORM_STAT_ACCEPTED) {
        form_stats_add(stats, f->id, spam);
        log_info("form %s: spam (%s)%s%s; answered as accepted, not taken in", f->id,
                 form_stat_name(spam), r->origin ? " from " : "", r->origin ? r->origin : "");
        reply_accepted(r, f, NULL);
        return;
    }

    struct lead_input in = {0};
    json_t *custom = json_object(), *errors = json_array();
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct config_form_field *fld = &f->fields[i];
        const char *sent = value_of(pairs, n, fld->name);
        const char *value = sent ? normalize_trim(&r->arena, sent) : NULL;
        if (!value) {
            if (fld->required)
                add_error(errors, fld->name, "%s is required", fld->label);
            continue;
        }
        size_t before = json_array_size(errors);
        check_input(r, fld, value, errors);
        if (json_array_size(errors) == before)
            place(&in, custom, &fld->to, value);
    }
    for (size_t i = 0; i < f->n_hidden; i++)
        place(&in, custom, &f->hidden[i].to, f->hidden[i].value);
    in.attr[LEAD_SOURCE] = f->source;
    if (json_array_size(errors)) {
        json_decref(custom);
        reply_invalid(r, f, errors);
        return;
    }
    if (json_object_size(custom)) {
        char *s = json_dumps(custom, JSON_COMPACT | JSON_SORT_KEYS);
        in.fields_json = s ? arena_strdup(&r->arena, s) : NULL;
        free(s);
    }
    json_decref(custom);

    struct ingest_command cmd = {0};
    struct normalize_report report = {0};
    if (normalize_lead(&in, r->cfg->freemail, &r->arena, &cmd.lead, &report, &err) ||
        intake_mark_disposable(&cmd.lead, r->cfg->disposable, &r->arena, &err)) {
        if (bt_http_status(err.code) != 422) {
            reply_bt_error(r, &err);
            json_decref(errors);
            return;
        }
        const struct config_form_field *fld = err.field[0] ? field_of_attr(f, err.field) : NULL;
        add_error(errors, fld ? fld->name : err.field, "%s", err.message);
        reply_invalid(r, f, errors);
        return;
    }
    json_decref(errors);

    char fingerprint[SHA256_HEX_LEN + 1];
    crypto_sha256_hex(r->body, r->body_len, fingerprint);
    cmd.via = "form";
    cmd.key_name = arena_printf(&r->arena, "form:%s", f->id);
    cmd.warnings = &report;
    cmd.cfg = r->cfg;
    cmd.fill_only = true; /* anyone may post a form: it never overwrites */
    cmd.fingerprint = fingerprint;
    cmd.actor = cmd.key_name;
    if (engine_ingest(r->ctx->engine, &cmd, &r->arena, &err)) {
        reply_bt_error(r, &err);
        return;
    }
    form_stats_add(stats, f->id, FORM_STAT_ACCEPTED);
    reply_accepted(r, f, &report);
}

void api_form_script(struct request *r)
{
    const struct config_form *f = request_form(r);
    if (!f)
        return;
    uint8_t key[FORM_TOKEN_KEY_BYTES];
    uint32_t gen = 0;
    char token[FORM_TOKEN_TEXT_MAX + 1] = "";
    if (token_key(r, 0, &gen, key))
        form_token_make(key, gen, f->id, clock_now(r->ctx->clock), token);
    json_t *fields = json_array();
    for (size_t i = 0; i < f->n_fields; i++)
        json_array_append_new(fields,
                              json_pack("{s:s, s:s, s:b}", "name", f->fields[i].name, "label",
                                        f->fields[i].label, "required", f->fields[i].required));
    json_t *settings =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s, s:s, s:s}}", "id", f->id, "token", token,
                  "honeypot", f->honeypot ? json_string(f->honeypot) : json_null(), "redirect",
                  f->redirect ? json_string(f->redirect) : json_null(), "fields", fields,
                  "messages", "success", f->success_message, "sending", "Sending…", "fix",
                  "Please correct the fields marked.", "failed",
                  "The form could not be sent. Please try again later.");
    /* JSON_ESCAPE_SLASH: a value holding "</script>" stays harmless if a
     * site inlines the script */
    char *json = json_dumps(settings, JSON_COMPACT | JSON_ESCAPE_SLASH);
    json_decref(settings);
    size_t js_len = (size_t)(baton_form_embed_js_end - baton_form_embed_js);
    char *body = arena_printf(&r->arena, "%.*s(%s);\n", (int)js_len, baton_form_embed_js,
                              json ? json : "{}");
    free(json);
    if (!body) {
        reply_error(r, 500, "internal", NULL, "the script could not be made");
        return;
    }
    reply_body(r, 200, "text/javascript; charset=utf-8", body, strlen(body));
    reply_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    reply_add_header(r, "X-Content-Type-Options", "nosniff");
}

void api_form_list(struct request *r)
{
    json_t *data = json_array();
    for (size_t i = 0; i < r->cfg->n_forms; i++) {
        const struct config_form *f = &r->cfg->forms[i];
        uint64_t counts[FORM_STAT_COUNT];
        form_stats_get(request_form_stats(r), f->id, counts);
        json_t *spam = json_object(), *fields = json_array();
        for (int s = FORM_STAT_SPAM_HONEYPOT; s < FORM_STAT_COUNT; s++)
            json_object_set_new(spam, form_stat_name(s), json_integer((json_int_t)counts[s]));
        for (size_t k = 0; k < f->n_fields; k++)
            json_array_append_new(fields, json_pack("{s:s, s:b}", "name", f->fields[k].name,
                                                    "required", f->fields[k].required));
        json_array_append_new(
            data, json_pack("{s:s, s:s, s:o, s:o, s:{s:I, s:I, s:I, s:o}}", "id", f->id, "source",
                            f->source, "redirect",
                            f->redirect ? json_string(f->redirect) : json_null(), "fields", fields,
                            "submissions", "accepted", (json_int_t)counts[FORM_STAT_ACCEPTED],
                            "invalid", (json_int_t)counts[FORM_STAT_INVALID], "rate_limited",
                            (json_int_t)counts[FORM_STAT_RATE_LIMITED], "spam", spam));
    }
    reply_json(r, 200, json_pack("{s:o}", "data", data));
}
