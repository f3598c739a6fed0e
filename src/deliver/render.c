/*
 * render.c - messages from their context (render.h).
 *
 * The built-in templates below are what a channel without `template` sends;
 * they are written in the same template language as a configuration's, are
 * compiled once (and checked against the context's variables, so a typo
 * here fails the unit tests, not a delivery), and are chosen by recipient
 * and event. Slack's Block Kit and the CRM's field mapping are built with
 * jansson around the rendered text.
 */
#include "deliver/render.h"

#include "core/delivery.h"
#include "core/template.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- the built-in templates ---- */

#define LEAD_LINE                                                                                  \
    "{{lead.name}}{{#lead.title}}, {{lead.title}}{{/lead.title}}"                                  \
    "{{#lead.company}} at {{lead.company}}{{/lead.company}}"
#define LEAD_CARD                                                                                  \
    LEAD_LINE                                                                                      \
    "\n"                                                                                           \
    "{{#lead.email}}Email: {{lead.email}}\n{{/lead.email}}"                                        \
    "{{#lead.phone}}Phone: {{lead.phone}}\n{{/lead.phone}}"                                        \
    "{{#lead.country}}Country: {{lead.country}}\n{{/lead.country}}"                                \
    "{{#lead.source}}Source: {{lead.source}}\n{{/lead.source}}"                                    \
    "{{#score}}Score: {{score.total}}{{#score.grade}} ({{score.grade}}){{/score.grade}}\n"         \
    "{{#score.reasons}}  + {{text}} ({{points}})\n{{/score.reasons}}{{/score}}"
#define LEAD_CARD_HTML                                                                             \
    "<p><strong>{{lead.name}}</strong>{{#lead.title}}, {{lead.title}}{{/lead.title}}"              \
    "{{#lead.company}} at {{lead.company}}{{/lead.company}}</p>\n<p>"                              \
    "{{#lead.email}}Email: <a href=\"mailto:{{lead.email}}\">{{lead.email}}</a><br>"               \
    "{{/lead.email}}{{#lead.phone}}Phone: {{lead.phone}}<br>{{/lead.phone}}"                       \
    "{{#lead.country}}Country: {{lead.country}}<br>{{/lead.country}}"                              \
    "{{#lead.source}}Source: {{lead.source}}<br>{{/lead.source}}</p>\n"                            \
    "{{#score}}<p>Score: <strong>{{score.total}}</strong>{{#score.grade}} ({{score.grade}})"       \
    "{{/score.grade}}</p>\n<ul>{{#score.reasons}}<li>{{text}} ({{points}})</li>"                   \
    "{{/score.reasons}}</ul>\n{{/score}}"
#define BUTTONS_HTML                                                                               \
    "{{#links.decide}}<p><a href=\"{{links.accept}}\" style=\"background:#1a7f37;color:#fff;"      \
    "padding:8px 16px;text-decoration:none;border-radius:4px\">Accept</a> "                        \
    "<a href=\"{{links.reject}}\" style=\"background:#cf222e;color:#fff;padding:8px 16px;"         \
    "text-decoration:none;border-radius:4px\">Reject</a></p>\n{{/links.decide}}"

struct builtin {
    const char *recipient; /* "rep", "manager", "prospect", "marketing", "*" */
    const char *event;     /* a pattern (delivery_event_matches) */
    const char *subject, *text, *html;
};

static const struct builtin builtins[] = {
    {"rep", "lead.assigned",
     "New lead: {{lead.name}}{{#lead.company}} ({{lead.company}}){{/lead.company}}",
     "{{rep.name}}, this lead is yours{{#assignment.accept_by_local}}: accept it by "
     "{{assignment.accept_by_local}}{{/assignment.accept_by_local}}.\n\n" LEAD_CARD
     "\n{{#assignment.why}}Why you: {{assignment.why}}\n{{/assignment.why}}"
     "{{#links.decide}}\nAccept or reject: {{links.decide}}\n{{/links.decide}}"
     "{{#meeting.start_local}}\nProposed call: {{meeting.start_local}} (invite attached)\n"
     "{{/meeting.start_local}}"
     "{{#first_touch}}\nA first message you could send:\n\n{{first_touch}}\n{{/first_touch}}",
     "<p>{{rep.name}}, this lead is yours{{#assignment.accept_by_local}}: accept it by "
     "<strong>{{assignment.accept_by_local}}</strong>{{/assignment.accept_by_local}}.</"
     "p>\n" LEAD_CARD_HTML
     "{{#assignment.why}}<p>Why you: {{assignment.why}}</p>\n{{/assignment.why}}" BUTTONS_HTML
     "{{#meeting.start_local}}<p>Proposed call: {{meeting.start_local}} (invite "
     "attached)</p>\n{{/meeting.start_local}}{{#first_touch}}<p>A first message you could "
     "send:</p>\n<blockquote style=\"white-space:pre-wrap\">{{first_touch}}</blockquote>\n"
     "{{/first_touch}}"},
    {"rep", "assignment.reminded",
     "Reminder: accept {{lead.name}} by {{assignment.accept_by_local}}",
     "{{rep.name}}, {{lead.name}} is still waiting for you{{#assignment.accept_by_local}}: "
     "accept it by {{assignment.accept_by_local}}{{/assignment.accept_by_local}}.\n\n" LEAD_CARD
     "{{#links.decide}}\nAccept or reject: {{links.decide}}\n{{/links.decide}}",
     "<p>{{rep.name}}, {{lead.name}} is still waiting for you{{#assignment.accept_by_local}}: "
     "accept it by <strong>{{assignment.accept_by_local}}</strong>"
     "{{/assignment.accept_by_local}}.</p>\n" LEAD_CARD_HTML BUTTONS_HTML},
    {"manager", "*", "Escalation: {{lead.name}} waits for {{rep.name}}",
     "{{manager.name}}, {{rep.name}} has not acted on a lead in time ({{event.type}}"
     "{{#event.reason}}: {{event.reason}}{{/event.reason}}).\n\n" LEAD_CARD,
     "<p>{{manager.name}}, {{rep.name}} has not acted on a lead in time ({{event.type}}"
     "{{#event.reason}}: {{event.reason}}{{/event.reason}}).</p>\n" LEAD_CARD_HTML},
    {"marketing", "assignment.rejected",
     "Lead rejected: {{lead.name}}{{#rejection.label}} ({{rejection.label}}){{/rejection.label}}",
     "{{rep.name}} rejected {{lead.name}}{{#rejection.label}}: {{rejection.label}}"
     "{{/rejection.label}}.{{#rejection.note}}\nNote: "
     "{{rejection.note}}{{/rejection.note}}\n\n" LEAD_CARD,
     "<p>{{rep.name}} rejected {{lead.name}}{{#rejection.label}}: <strong>{{rejection.label}}"
     "</strong>{{/rejection.label}}.</p>\n{{#rejection.note}}<p>Note: {{rejection.note}}</p>\n"
     "{{/rejection.note}}" LEAD_CARD_HTML},
    {"marketing", "*", "{{event.type}}: {{lead.name}}",
     "{{lead.name}}: {{event.type}}{{#event.reason}} "
     "({{event.reason}}){{/event.reason}}.\n\n" LEAD_CARD,
     "<p>{{lead.name}}: {{event.type}}{{#event.reason}} "
     "({{event.reason}}){{/event.reason}}.</p>\n" LEAD_CARD_HTML},
    {"prospect", "*",
     "Thanks{{#lead.first_name}}, {{lead.first_name}}{{/lead.first_name}}: we "
     "have your request",
     "Hello{{#lead.first_name}} {{lead.first_name}}{{/lead.first_name}},\n\nthank you for your "
     "request. {{#rep.name}}{{rep.name}} will be in touch with you shortly."
     "{{/rep.name}}{{^rep.name}}Someone from our team will be in touch with you shortly."
     "{{/rep.name}}\n",
     "<p>Hello{{#lead.first_name}} {{lead.first_name}}{{/lead.first_name}},</p>\n<p>thank you "
     "for your request. {{#rep.name}}{{rep.name}} will be in touch with you shortly."
     "{{/rep.name}}{{^rep.name}}Someone from our team will be in touch with you shortly."
     "{{/rep.name}}</p>\n"},
    {"*", "*", "{{event.type}}{{#lead.name}}: {{lead.name}}{{/lead.name}}",
     "{{event.type}}{{#event.reason}} ({{event.reason}}){{/event.reason}}\n\n"
     "{{#lead}}" LEAD_CARD "{{/lead}}"
     "{{#data.channel}}Channel: {{data.channel}}\n{{/data.channel}}"
     "{{#links.decide}}\nAccept or reject: {{links.decide}}\n{{/links.decide}}",
     "<p>{{event.type}}{{#event.reason}} ({{event.reason}}){{/event.reason}}</p>\n"
     "{{#lead}}" LEAD_CARD_HTML "{{/lead}}{{#data.channel}}<p>Channel: {{data.channel}}</p>\n"
     "{{/data.channel}}" BUTTONS_HTML},
};
#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static const char first_touch_src[] =
    "Hi{{#lead.first_name}} {{lead.first_name}}{{/lead.first_name}},\n\n"
    "thank you for getting in touch{{#lead.company}} on behalf of {{lead.company}}"
    "{{/lead.company}}. I'm {{rep.name}} and I'll be your contact here. Would you have 20 "
    "minutes{{#meeting.start_local}} on {{meeting.start_local}}{{/meeting.start_local}} for a "
    "short call about what you are looking for?\n\nBest regards,\n{{rep.name}}";

static const char slack_src[] =
    "*New lead for {{rep.name}}:* {{lead.name}}{{#lead.company}} ({{lead.company}})"
    "{{/lead.company}}{{#assignment.accept_by_local}}, accept by "
    "{{assignment.accept_by_local}}{{/assignment.accept_by_local}}";
static const char slack_generic_src[] =
    "*{{event.type}}*{{#lead.name}}: {{lead.name}}{{/lead.name}}{{#lead.company}} "
    "({{lead.company}}){{/lead.company}}{{#rep.name}}, {{rep.name}}{{/rep.name}}"
    "{{#event.reason}}: {{event.reason}}{{/event.reason}}";
static const char sms_src[] =
    "New lead: {{lead.name}}{{#lead.company}} ({{lead.company}}){{/lead.company}}"
    "{{#assignment.accept_by_local}}. Accept by {{assignment.accept_by_local}}"
    "{{/assignment.accept_by_local}}";
static const char sms_generic_src[] = "{{event.type}}{{#lead.name}}: {{lead.name}}{{/lead.name}}";

struct compiled_builtin {
    const struct template *subject, *text, *html;
};

static struct {
    pthread_once_t once;
    struct arena arena;
    struct compiled_builtin b[N_BUILTINS];
    const struct template *first_touch, *slack, *slack_generic, *sms, *sms_generic;
    char error[BT_ERROR_MESSAGE_MAX];
} builtin = {.once = PTHREAD_ONCE_INIT, .arena = ARENA_INIT};

static bool known(void *ctx, const char *path)
{
    return delivery_context_known(path);
}

static const struct template *compile_one(const char *src, const char *what)
{
    const struct template *t = NULL;
    struct template_error te;
    if (template_compile(src, strlen(src), known, NULL, &builtin.arena, &t, &te) &&
        !builtin.error[0])
        snprintf(builtin.error, sizeof(builtin.error), "built-in template %s:%u:%u: %.200s", what,
                 te.line, te.column, te.message);
    return t;
}

static void compile_builtins(void)
{
    for (size_t i = 0; i < N_BUILTINS; i++) {
        builtin.b[i].subject = compile_one(builtins[i].subject, "subject");
        builtin.b[i].text = compile_one(builtins[i].text, "text");
        builtin.b[i].html = compile_one(builtins[i].html, "html");
    }
    builtin.first_touch = compile_one(first_touch_src, "first_touch");
    builtin.slack = compile_one(slack_src, "slack");
    builtin.slack_generic = compile_one(slack_generic_src, "slack_generic");
    builtin.sms = compile_one(sms_src, "sms");
    builtin.sms_generic = compile_one(sms_generic_src, "sms_generic");
}

static const struct compiled_builtin *builtin_for(const char *recipient, const char *type)
{
    for (size_t i = 0; i < N_BUILTINS; i++)
        if ((strcmp(builtins[i].recipient, "*") == 0 ||
             strcmp(builtins[i].recipient, recipient) == 0) &&
            delivery_event_matches(builtins[i].event, type))
            return &builtin.b[i];
    return &builtin.b[N_BUILTINS - 1];
}

/* ---- rendering ---- */

static bt_err render(const struct template *t, json_t *ctx, enum template_escape mode,
                     struct arena *a, const char **out, struct bt_error *err)
{
    *out = NULL;
    if (!t)
        return BT_OK;
    return template_render(t, ctx, mode, a, RENDER_TEXT_MAX, out, NULL, err);
}

/* The value at a dotted path of the context, or NULL. */
static json_t *lookup(json_t *ctx, const char *path)
{
    json_t *v = ctx;
    char part[128];
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        v = json_object_get(v, part);
        path += n + (dot ? 1 : 0);
    }
    return v;
}

/* The context without what only Baton reads (keys starting with '_') and
 * without the rep's one-click links (credentials for the rep alone). */
static json_t *public_context(json_t *ctx)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(ctx, k, v)
    {
        if (k[0] == '_' || strcmp(k, "links") == 0)
            continue;
        json_object_set(o, k, v);
    }
    return o;
}

static const char *dump(json_t *v, struct arena *a)
{
    char *s = json_dumps(v, JSON_COMPACT);
    const char *copy = arena_strdup(a, s ? s : "{}");
    free(s);
    return copy;
}

/* Slack's mrkdwn needs &, < and > escaped; templates render as text. */
static const char *slack_escape(const char *s, struct arena *a)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *out = arena_alloc(a, n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

static json_t *mrkdwn(const char *text)
{
    return json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text);
}

/* Block Kit: the lead, the score and its reasons, why this rep, the
 * deadline on the rep's clock, and Accept / Reject (the one-click page). */
static const char *slack_body(json_t *ctx, const char *text, struct arena *a)
{
    json_t *blocks = json_array();
    json_array_append_new(
        blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(slack_escape(text, a))));
    json_t *fields = json_array();
    json_t *score = json_object_get(ctx, "score");
    if (json_is_object(score)) {
        const char *grade = json_string_value(json_object_get(score, "grade"));
        json_array_append_new(
            fields, mrkdwn(arena_printf(a, "*Score*\n%g%s%s%s",
                                        json_number_value(json_object_get(score, "total")),
                                        grade && *grade ? " (" : "", grade ? grade : "",
                                        grade && *grade ? ")" : "")));
    }
    json_t *as = json_object_get(ctx, "assignment");
    const char *by = json_string_value(json_object_get(as, "accept_by_local"));
    if (by)
        json_array_append_new(fields, mrkdwn(arena_printf(a, "*Accept by*\n%s", by)));
    const char *why = json_string_value(json_object_get(as, "why"));
    if (why)
        json_array_append_new(fields,
                              mrkdwn(arena_printf(a, "*Why you*\n%s", slack_escape(why, a))));
    const char *email = json_string_value(lookup(ctx, "lead.email"));
    if (email)
        json_array_append_new(fields,
                              mrkdwn(arena_printf(a, "*Email*\n%s", slack_escape(email, a))));
    if (json_array_size(fields))
        json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    else
        json_decref(fields);
    json_t *reasons = json_object_get(score, "reasons");
    if (json_array_size(reasons)) {
        char buf[1024] = "";
        size_t used = 0, i;
        json_t *r;
        json_array_foreach(reasons, i, r)
        {
            if (i == 5)
                break;
            int k = snprintf(buf + used, sizeof(buf) - used, "%s+%g %s", i ? " · " : "",
                             json_number_value(json_object_get(r, "points")),
                             json_string_value(json_object_get(r, "text")) ?: "");
            if (k < 0 || (size_t)k >= sizeof(buf) - used)
                break;
            used += (size_t)k;
        }
        json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements",
                                                mrkdwn(slack_escape(buf, a))));
    }
    json_t *links = json_object_get(ctx, "links");
    if (json_is_object(links)) {
        json_t *accept = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:s}", "type", "button", "text",
                                   "type", "plain_text", "text", "Accept", "style", "primary",
                                   "url", json_string_value(json_object_get(links, "accept")),
                                   "action_id", "baton_accept");
        json_t *reject = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:s}", "type", "button", "text",
                                   "type", "plain_text", "text", "Reject", "style", "danger", "url",
                                   json_string_value(json_object_get(links, "reject")), "action_id",
                                   "baton_reject");
        json_array_append_new(
            blocks, json_pack("{s:s, s:[o, o]}", "type", "actions", "elements", accept, reject));
    }
    /* The fallback text (notifications) is mrkdwn too: escaped, so that a
     * lead calling itself <!channel> mentions nobody. */
    json_t *body = json_pack("{s:s, s:o}", "text", slack_escape(text, a), "blocks", blocks);
    const char *s = dump(body, a);
    json_decref(body);
    return s;
}

/* application/x-www-form-urlencoded, UTF-8 bytes percent-escaped. */
static void form_append(char **o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            *(*o)++ = (char)*p;
        else if (*p == ' ')
            *(*o)++ = '+';
        else {
            *(*o)++ = '%';
            *(*o)++ = hex[*p >> 4];
            *(*o)++ = hex[*p & 15];
        }
    }
}

static const char *form_body(struct arena *a, const char *to, const char *from, const char *body)
{
    char *out = arena_alloc(a, 3 * (strlen(to) + strlen(from) + strlen(body)) + 32), *o = out;
    memcpy(o, "To=", 3);
    o += 3;
    form_append(&o, to);
    memcpy(o, "&From=", 6);
    o += 6;
    form_append(&o, from);
    memcpy(o, "&Body=", 6);
    o += 6;
    form_append(&o, body);
    *o = '\0';
    return out;
}

/* Characters (code points) of UTF-8 text. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The SMS: the text, shortened with "..." so that it and ": " + the link fit
 * one 160-character segment where that is possible; the link is never cut. */
static const char *sms_text(struct arena *a, const char *text, const char *link)
{
    size_t link_chars = link ? chars(link) + 2 : 0;
    if (chars(text) + link_chars <= RENDER_SMS_SEGMENT || link_chars + 2 > RENDER_SMS_SEGMENT)
        return link ? arena_printf(a, "%s: %s", text, link) : text;
    size_t keep = RENDER_SMS_SEGMENT - link_chars - 3; /* room for "..." */
    size_t bytes = 0, n = 0;
    while (text[bytes] && n < keep) {
        bytes++;
        while (((unsigned char)text[bytes] & 0xC0) == 0x80)
            bytes++;
        n++;
    }
    /* "..." rather than an ellipsis: GSM-7 has no "…", and one character
     * outside it makes the whole message UCS-2, 70 characters a segment. */
    return link ? arena_printf(a, "%.*s...: %s", (int)bytes, text, link)
                : arena_printf(a, "%.*s...", (int)bytes, text);
}

static bt_err body_fits(const char *body, struct bt_error *err)
{
    size_t n = strlen(body);
    return n <= RENDER_BODY_MAX ? BT_OK
                                : bt_fail(err, BT_ETOOBIG, NULL,
                                          "the message is %zu bytes, more than the %d a webhook "
                                          "body may be",
                                          n, RENDER_BODY_MAX);
}

bt_err render_message(const struct config *cfg, const struct config_channel *ch, const char *type,
                      json_t *ctx, struct arena *a, struct rendered *out, struct bt_error *err)
{
    pthread_once(&builtin.once, compile_builtins);
    *out = (struct rendered){0};
    bt_err e = BT_OK;
    const struct config_template *tpl = ch->template;
    bool assigned = strcmp(type, "lead.assigned") == 0 || strcmp(type, "assignment.reminded") == 0;
    switch (ch->type) {
    case DELIVERY_WEBHOOK: {
        json_t *pub = public_context(ctx);
        out->body = dump(pub, a);
        json_decref(pub);
        return body_fits(out->body, err);
    }
    case DELIVERY_CRM: {
        json_t *fields = json_object();
        for (size_t i = 0; i < ch->n_fields; i++) {
            json_t *v = lookup(ctx, ch->fields[i].path);
            json_object_set(fields, ch->fields[i].name, v ? v : json_null());
        }
        json_t *body =
            json_pack("{s:O?, s:O?, s:O?, s:O?, s:o}", "id", json_object_get(ctx, "id"), "type",
                      json_object_get(ctx, "type"), "timestamp", lookup(ctx, "event.at"), "lead_id",
                      lookup(ctx, "lead.id"), "fields", fields);
        out->body = dump(body, a);
        json_decref(body);
        return body_fits(out->body, err);
    }
    case DELIVERY_SLACK: {
        const struct template *t = tpl && tpl->text ? tpl->text
                                   : assigned       ? builtin.slack
                                                    : builtin.slack_generic;
        if ((e = render(t, ctx, TEMPLATE_TEXT, a, &out->text, err)))
            return e;
        out->body = slack_body(ctx, out->text ? out->text : "", a);
        return BT_OK;
    }
    case DELIVERY_SMS: {
        const struct template *t = tpl && tpl->text ? tpl->text
                                   : assigned       ? builtin.sms
                                                    : builtin.sms_generic;
        const char *text;
        if ((e = render(t, ctx, TEMPLATE_TEXT, a, &text, err)))
            return e;
        const char *link = json_string_value(lookup(ctx, "links.decide"));
        out->text = sms_text(a, text ? text : "", link);
        const char *to = json_string_value(json_object_get(ctx, "_to"));
        const char *from = cfg->delivery.sms.from ? cfg->delivery.sms.from : "";
        out->body = form_body(a, to ? to : "", from, out->text);
        return BT_OK;
    }
    case DELIVERY_EMAIL: {
        if (ch->to == DELIVERY_TO_REP && json_object_get(ctx, "rep")) {
            const struct template *ft = ch->first_touch && ch->first_touch->text
                                            ? ch->first_touch->text
                                        : strcmp(type, "lead.assigned") == 0 ? builtin.first_touch
                                                                             : NULL;
            const char *first;
            if ((e = render(ft, ctx, TEMPLATE_TEXT, a, &first, err)))
                return e;
            if (first)
                json_object_set_new(ctx, "first_touch", json_string(first));
        }
        const struct compiled_builtin *b = builtin_for(delivery_recipient_name(ch->to), type);
        const struct template *subject = tpl && tpl->subject ? tpl->subject : b->subject;
        const struct template *text = tpl && tpl->text ? tpl->text : b->text;
        const struct template *html = tpl ? tpl->html : b->html;
        if ((e = render(subject, ctx, TEMPLATE_TEXT, a, &out->subject, err)) ||
            (e = render(text, ctx, TEMPLATE_TEXT, a, &out->text, err)) ||
            (e = render(html, ctx, TEMPLATE_HTML, a, &out->html, err)))
            return e;
        /* A subject is one line. */
        if (out->subject && strpbrk(out->subject, "\r\n")) {
            char *s = arena_strdup(a, out->subject);
            for (char *p = s; *p; p++)
                if (*p == '\r' || *p == '\n')
                    *p = ' ';
            out->subject = s;
        }
        if (out->html)
            out->html = arena_printf(a,
                                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
                                     "<body style=\"font-family:sans-serif\">\n%s</body></html>\n",
                                     out->html);
        return BT_OK;
    }
    }
    return bt_fail(err, BT_EINVAL, NULL, "unknown channel type");
}

static const char sample_json[] =
    "{\"id\": \"msg_sample\", \"event\": {\"id\": 1, \"at\": \"2026-12-01T09:00:00.000Z\", "
    "\"actor\": \"system\", \"reason\": \"rule enterprise-emea\"}, "
    "\"lead\": {\"id\": 1, \"email\": \"jane.doe@acme.example\", \"first_name\": \"Jane\", "
    "\"last_name\": \"Doe\", \"name\": \"Jane Doe\", \"company\": \"Acme GmbH\", "
    "\"title\": \"Head of Operations\", \"phone\": \"+4930123456\", \"country\": \"DE\", "
    "\"source\": \"web\", \"stage\": \"assigned\", \"created_at\": \"2026-12-01T08:59:00.000Z\", "
    "\"fields\": {}}, "
    "\"score\": {\"total\": 72.5, \"fit\": 60, \"engagement\": 12.5, \"grade\": \"B\", "
    "\"reasons\": [{\"text\": \"enterprise\", \"points\": 40}, "
    "{\"text\": \"demo request\", \"points\": 12.5}]}, "
    "\"rep\": {\"name\": \"Ana Lima\", \"email\": \"ana@example.com\", "
    "\"phone\": \"+4930999999\", \"timezone\": \"Europe/Berlin\", \"team\": null}, "
    "\"manager\": {\"id\": \"max\", \"name\": \"Max Mustermann\", \"email\": \"max@example.com\"}, "
    "\"assignment\": {\"id\": 1, \"attempt\": 1, \"policy\": \"standard\", \"pool\": \"emea\", "
    "\"rule\": \"enterprise-emea\", \"why\": \"round robin in pool emea\", "
    "\"accept_by\": \"2026-12-01T09:30:00.000Z\", "
    "\"accept_by_local\": \"2026-12-01 10:30 Europe/Berlin\", \"contact_by\": null}, "
    "\"rejection\": {\"reason\": \"not_a_fit\", \"label\": \"Not a fit\", \"note\": null}, "
    "\"links\": {\"decide\": \"https://baton.example.com/a/TOKEN\", "
    "\"accept\": \"https://baton.example.com/a/TOKEN#accept\", "
    "\"reject\": \"https://baton.example.com/a/TOKEN#reject\"}, "
    "\"meeting\": {\"start\": \"2026-12-01T13:00:00.000Z\", \"end\": \"2026-12-01T13:30:00.000Z\", "
    "\"start_local\": \"2026-12-01 14:00 Europe/Berlin\", "
    "\"end_local\": \"2026-12-01 14:30 Europe/Berlin\"}, "
    "\"data\": {}, \"_to\": \"+4930123456\"}";

json_t *render_sample_context(const struct config *cfg, const char *type)
{
    json_error_t jerr;
    json_t *ctx = json_loads(sample_json, 0, &jerr);
    if (!ctx)
        return NULL;
    const struct config_rep *rep = cfg && cfg->n_reps ? &cfg->reps[0] : NULL;
    json_t *r = json_object_get(ctx, "rep");
    json_object_set_new(r, "id", json_string(rep ? rep->id : "ana"));
    if (rep && rep->name)
        json_object_set_new(r, "name", json_string(rep->name));
    json_object_set_new(json_object_get(ctx, "lead"), "owner", json_string(rep ? rep->id : "ana"));
    json_object_set_new(ctx, "type", json_string(type));
    json_object_set_new(json_object_get(ctx, "event"), "type", json_string(type));
    return ctx;
}

bt_err render_check(const struct config *cfg, struct arena *a, struct bt_error *err)
{
    pthread_once(&builtin.once, compile_builtins);
    if (builtin.error[0])
        return bt_fail(err, BT_EINVAL, NULL, "%s", builtin.error);
    static const char *const types[] = {"lead.assigned",       "assignment.reminded",
                                        "assignment.rejected", "assignment.escalated",
                                        "lead.created",        "delivery.channel_paused"};
    for (size_t i = 0; cfg && i < cfg->delivery.n_templates; i++) {
        const struct config_template *t = &cfg->delivery.templates[i];
        json_t *ctx = render_sample_context(cfg, "lead.assigned");
        const char *out;
        bt_err e = BT_OK;
        if (!e && t->subject)
            e = render(t->subject, ctx, TEMPLATE_TEXT, a, &out, err);
        if (!e && t->text)
            e = render(t->text, ctx, TEMPLATE_TEXT, a, &out, err);
        if (!e && t->html)
            e = render(t->html, ctx, TEMPLATE_HTML, a, &out, err);
        json_decref(ctx);
        if (e)
            return bt_fail(err, e, NULL, "template %s: %s", t->id, err ? err->message : "");
    }
    for (size_t i = 0; cfg && i < cfg->delivery.n_channels; i++) {
        const struct config_channel *ch = &cfg->delivery.channels[i];
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
            json_t *ctx = render_sample_context(cfg, types[k]);
            struct rendered r;
            bt_err e = render_message(cfg, ch, types[k], ctx, a, &r, err);
            json_decref(ctx);
            if (e)
                return bt_fail(err, e, NULL, "channel %s, %s: %s", ch->id, types[k],
                               err ? err->message : "");
        }
    }
    return BT_OK;
}
