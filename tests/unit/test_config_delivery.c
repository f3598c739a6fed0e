/*
 * test_config_delivery.c - the `delivery` section of the configuration:
 * every value of a full example read back, the defaults, and the exact
 * FILE:LINE:COL and message of each kind of error (config_delivery.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/rule.h"
#include "core/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines 1-6; a test's delivery section starts on line 7. */
#define HEAD                                                                                       \
    "version: 1\n"                                                                                 \
    "teams:\n"                                                                                     \
    "  - {id: emea}\n"                                                                             \
    "reps:\n"                                                                                      \
    "  - {id: ana, team: emea, email: ana@example.com}\n"                                          \
    "delivery:\n"

/* base64 of 32 and 16 bytes, and of 10 (too short) */
#define SECRET_32 "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SECRET_16 "whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7" /* 24 bytes, the least a secret may hold */
#define SECRET_10 "whsec_ZGVmZ2hpamtsbW5vcHFycw==" /* 16 bytes: too few */

/* A webhook channel's lines 7-11, to which a test adds keys from line 12. */
#define WEBHOOK                                                                                    \
    "  channels:\n"                                                                                \
    "    - id: hook\n"                                                                             \
    "      type: webhook\n"                                                                        \
    "      events: [lead.assigned]\n"                                                              \
    "      url: https://hooks.example.com/baton\n"

static const char full_yaml[] =
    HEAD "  smtp: {url: \"SMTP://Mail.Example.com:2525\", from: \"Baton <baton@example.com>\", "
         "username: baton, password_env: BATON_TEST_SMTP_PASSWORD, starttls: required}\n"
         "  sms: {url: \"https://gateway.example/send\", from: \"+15550100\", username: u, "
         "password: p}\n"
         "  marketing: marketing@example.com\n"
         "  retry: [0s, 1s, 1m, 7d]\n"
         "  breaker: {pause_after: 2h, min_failures: 5, probe_every: 30s}\n"
         "  meeting_minutes: 45\n"
         "  templates:\n"
         "    - id: rep_assigned\n"
         "      subject: \"New lead: {{lead.name}} ({{lead.company}})\"\n"
         "      text: |\n"
         "        Hello {{rep.name}},\n"
         "        {{lead.name}} scored {{score.total}}.\n"
         "      html: \"<p>{{lead.name}}</p>\"\n"
         "    - id: first_touch\n"
         "      text: \"Hi {{lead.first_name}}\"\n"
         "  channels:\n"
         "    - id: crm-hook\n"
         "      type: webhook\n"
         "      events: [lead.assigned, \"assignment.*\"]\n"
         "      when: \"score >= 50\"\n"
         "      url: https://CRM.Example.com/hooks/baton?x=1\n"
         "      secrets: [{secret: \"" SECRET_32 "\", until: 2026-12-31T00:00:00Z}, "
         "{secret_env: BATON_TEST_SECRET}]\n"
         "      timeout: 5s\n"
         "      concurrency: 8\n"
         "    - id: rep-mail\n"
         "      type: email\n"
         "      events: [lead.assigned]\n"
         "      to: rep\n"
         "      template: rep_assigned\n"
         "      first_touch: first_touch\n"
         "      invite: true\n"
         "    - id: slack\n"
         "      type: slack\n"
         "      events: [\"*\"]\n"
         "      url: https://hooks.slack.com/services/T/B/default\n"
         "      by_team: {emea: https://hooks.slack.com/services/T/B/emea}\n"
         "      by_rep: {ana: https://hooks.slack.com/services/T/B/ana}\n"
         "      template: rep_assigned\n"
         "    - id: sms-rep\n"
         "      type: sms\n"
         "      events: [assignment.reminded]\n"
         "      to: \"+15550199\"\n"
         "    - id: crm\n"
         "      type: crm\n"
         "      events: [lead.assigned]\n"
         "      url: http://127.0.0.1:9000/crm\n"
         "      secret: " SECRET_16 "\n"
         "      fields: {Email: lead.email, Company: lead.company, Lead_Score: score.total, "
         "Budget: lead.fields.budget}\n"
         "    - id: marketing\n"
         "      type: email\n"
         "      events: [lead.stage_changed]\n"
         "      to: marketing\n"
         "    - id: ops\n"
         "      type: email\n"
         "      events: [\"lead.*\"]\n"
         "      to: Ops@Example.com\n";

static struct config *load_ok(const char *yaml)
{
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_OK)
        fail_msg("expected success, got %s: %s", bt_strerror(rc), err.message);
    assert_non_null(cfg);
    return cfg;
}

/* Loads `yaml`, which must fail with exactly `message` ("t.yaml:L:C: ..."). */
static void expect_error(const char *yaml, const char *message)
{
    struct config *cfg = (struct config *)1;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc != BT_ECONFIG)
        fail_msg("expected BT_ECONFIG (\"%s\"), got %s: %s", message, bt_strerror(rc), err.message);
    assert_null(cfg);
    if (strcmp(err.message, message) != 0)
        fail_msg("expected\n  \"%s\", got\n  \"%s\"", message, err.message);
}

static int setup_env(void **state)
{
    setenv("BATON_TEST_SMTP_PASSWORD", "s3cret", 1);
    setenv("BATON_TEST_SECRET", SECRET_16, 1);
    setenv("BATON_TEST_BAD_SECRET", "not-a-secret", 1);
    unsetenv("BATON_TEST_UNSET");
    return 0;
}

static void test_full_example(void **state)
{
    struct config *cfg = load_ok(full_yaml);
    const struct config_delivery *d = &cfg->delivery;

    assert_string_equal(d->smtp.url, "smtp://mail.example.com:2525");
    assert_string_equal(d->smtp.from, "Baton <baton@example.com>");
    assert_string_equal(d->smtp.username, "baton");
    assert_string_equal(d->smtp.password, "s3cret");
    assert_int_equal(d->smtp.starttls, CONFIG_STARTTLS_REQUIRED);
    assert_string_equal(d->sms.url, "https://gateway.example/send");
    assert_string_equal(d->sms.from, "+15550100");
    assert_string_equal(d->sms.username, "u");
    assert_string_equal(d->sms.password, "p");
    assert_string_equal(d->marketing, "marketing@example.com");
    assert_int_equal(d->n_schedule, 4);
    assert_int_equal(d->schedule_ms[0], 0);
    assert_int_equal(d->schedule_ms[1], 1000);
    assert_int_equal(d->schedule_ms[2], 60000);
    assert_int_equal(d->schedule_ms[3], 7 * 86400000LL);
    assert_int_equal(d->breaker.pause_after_ms, 2 * 3600000LL);
    assert_int_equal(d->breaker.min_failures, 5);
    assert_int_equal(d->breaker.probe_every_ms, 30000);
    assert_int_equal(d->meeting_minutes, 45);

    assert_int_equal(d->n_templates, 2);
    assert_string_equal(d->templates[0].id, "rep_assigned");
    assert_string_equal(d->templates[1].id, "first_touch");
    const struct config_template *t = &d->templates[0];
    assert_non_null(t->subject);
    assert_non_null(t->text);
    assert_non_null(t->html);
    size_t len = 0;
    assert_string_equal(template_source(t->subject, &len),
                        "New lead: {{lead.name}} ({{lead.company}})");
    assert_string_equal(template_source(t->text, &len),
                        "Hello {{rep.name}},\n{{lead.name}} scored {{score.total}}.\n");
    assert_string_equal(template_source(t->html, &len), "<p>{{lead.name}}</p>");
    assert_non_null(d->templates[1].text);
    assert_null(d->templates[1].subject);
    assert_null(d->templates[1].html);

    assert_int_equal(d->n_channels, 7);
    const struct config_channel *c = &d->channels[0];
    assert_string_equal(c->id, "crm-hook");
    assert_int_equal(c->type, DELIVERY_WEBHOOK);
    assert_int_equal(c->n_events, 2);
    assert_string_equal(c->events[0], "lead.assigned");
    assert_string_equal(c->events[1], "assignment.*");
    assert_non_null(c->when);
    assert_string_equal(rule_text(c->when), "score >= 50");
    assert_string_equal(c->url, "https://crm.example.com/hooks/baton?x=1");
    assert_int_equal(c->n_secrets, 2);
    assert_string_equal(c->secrets[0].secret, SECRET_32);
    assert_int_equal(c->secrets[0].until, 1798675200000LL); /* 2026-12-31T00:00:00Z */
    assert_string_equal(c->secrets[1].secret, SECRET_16);
    assert_int_equal(c->secrets[1].until, 0);
    assert_int_equal(c->timeout_ms, 5000);
    assert_int_equal(c->concurrency, 8);
    assert_null(c->template);
    assert_int_equal(c->n_fields, 0);

    c = &d->channels[1];
    assert_string_equal(c->id, "rep-mail");
    assert_int_equal(c->type, DELIVERY_EMAIL);
    assert_null(c->when);
    assert_null(c->url);
    assert_int_equal(c->to, DELIVERY_TO_REP);
    assert_null(c->to_address);
    assert_ptr_equal(c->template, &d->templates[0]);
    assert_ptr_equal(c->first_touch, &d->templates[1]);
    assert_true(c->invite);
    assert_int_equal(c->timeout_ms, 30000); /* email's default */
    assert_int_equal(c->concurrency, 4);
    assert_int_equal(c->n_secrets, 0);

    c = &d->channels[2];
    assert_string_equal(c->id, "slack");
    assert_int_equal(c->type, DELIVERY_SLACK);
    assert_int_equal(c->n_events, 1);
    assert_string_equal(c->events[0], "*");
    assert_string_equal(c->url, "https://hooks.slack.com/services/T/B/default");
    assert_int_equal(c->n_by_team, 1);
    assert_string_equal(c->by_team[0].key, "emea");
    assert_string_equal(c->by_team[0].url, "https://hooks.slack.com/services/T/B/emea");
    assert_int_equal(c->n_by_rep, 1);
    assert_string_equal(c->by_rep[0].key, "ana");
    assert_string_equal(c->by_rep[0].url, "https://hooks.slack.com/services/T/B/ana");
    assert_ptr_equal(c->template, &d->templates[0]);
    assert_int_equal(c->timeout_ms, 10000);

    c = &d->channels[3];
    assert_int_equal(c->type, DELIVERY_SMS);
    assert_string_equal(c->url, "https://gateway.example/send"); /* delivery.sms.url */
    assert_int_equal(c->to, DELIVERY_TO_ADDRESS);
    assert_string_equal(c->to_address, "+15550199");

    c = &d->channels[4];
    assert_int_equal(c->type, DELIVERY_CRM);
    assert_string_equal(c->url, "http://127.0.0.1:9000/crm");
    assert_int_equal(c->n_secrets, 1);
    assert_string_equal(c->secrets[0].secret, SECRET_16);
    assert_int_equal(c->n_fields, 4);
    assert_string_equal(c->fields[0].name, "Email");
    assert_string_equal(c->fields[0].path, "lead.email");
    assert_string_equal(c->fields[1].name, "Company");
    assert_string_equal(c->fields[1].path, "lead.company");
    assert_string_equal(c->fields[2].name, "Lead_Score");
    assert_string_equal(c->fields[2].path, "score.total");
    assert_string_equal(c->fields[3].name, "Budget");
    assert_string_equal(c->fields[3].path, "lead.fields.budget");

    c = &d->channels[5];
    assert_int_equal(c->to, DELIVERY_TO_MARKETING);
    c = &d->channels[6];
    assert_int_equal(c->to, DELIVERY_TO_ADDRESS);
    assert_string_equal(c->to_address, "Ops@Example.com");
    config_unref(cfg);
}

static void test_defaults(void **state)
{
    struct config *cfg = load_ok("version: 1\n");
    const struct config_delivery *d = &cfg->delivery;
    assert_int_equal(d->n_channels, 0);
    assert_int_equal(d->n_templates, 0);
    assert_null(d->smtp.url);
    assert_null(d->sms.url);
    assert_null(d->marketing);
    assert_int_equal(d->n_schedule, delivery_default_schedule_len);
    for (size_t i = 0; i < d->n_schedule; i++)
        assert_int_equal(d->schedule_ms[i], delivery_default_schedule_ms[i]);
    assert_int_equal(d->breaker.pause_after_ms, DELIVERY_BREAKER_DEFAULT.pause_after_ms);
    assert_int_equal(d->breaker.min_failures, DELIVERY_BREAKER_DEFAULT.min_failures);
    assert_int_equal(d->breaker.probe_every_ms, DELIVERY_BREAKER_DEFAULT.probe_every_ms);
    assert_int_equal(d->meeting_minutes, 30);
    config_unref(cfg);

    cfg = load_ok(HEAD "  smtp: {url: smtps://mail.example.com, from: baton@example.com}\n"
                       "  channels: []\n");
    assert_string_equal(cfg->delivery.smtp.url, "smtps://mail.example.com");
    assert_null(cfg->delivery.smtp.username);
    assert_int_equal(cfg->delivery.smtp.starttls, CONFIG_STARTTLS_TRY);
    assert_int_equal(cfg->delivery.n_channels, 0);
    config_unref(cfg);

    cfg = load_ok(HEAD "  sms: {from: Baton}\n"
                       "  channels:\n"
                       "    - {id: s, type: sms, events: [lead.held], to: manager, url: "
                       "\"https://sms.example/x\", timeout: 120s, concurrency: 64}\n");
    const struct config_channel *c = &cfg->delivery.channels[0];
    assert_string_equal(c->url, "https://sms.example/x");
    assert_int_equal(c->to, DELIVERY_TO_MANAGER);
    assert_int_equal(c->timeout_ms, 120000);
    assert_int_equal(c->concurrency, 64);
    config_unref(cfg);
}

static void test_error_unknown_keys(void **state)
{
    expect_error(HEAD "  bogus: 1\n",
                 "t.yaml:7:3: unknown key 'bogus' in delivery; expected one of: smtp, sms, "
                 "marketing, retry, breaker, meeting_minutes, templates, channels");
    expect_error(HEAD WEBHOOK "      urll: https://x.example.com\n",
                 "t.yaml:12:7: unknown key 'urll' in delivery.channels[0]; expected one of: id, "
                 "type, events, when, url, secret, secrets, secret_env, to, template, "
                 "first_touch, invite, timeout, concurrency, fields, by_team, by_rep");
    expect_error(HEAD "  smtp: {url: smtp://a.example, host: x}\n",
                 "t.yaml:7:33: unknown key 'host' in delivery.smtp; expected one of: url, from, "
                 "username, password, password_env, starttls");
    expect_error(HEAD "  templates:\n    - {id: t, text: x, body: y}\n",
                 "t.yaml:8:24: unknown key 'body' in delivery.templates[0]; expected one of: id, "
                 "subject, text, html");
    expect_error(HEAD "  breaker: {pause: 1h}\n",
                 "t.yaml:7:13: unknown key 'pause' in delivery.breaker; expected one of: "
                 "pause_after, min_failures, probe_every");
}

static void test_error_types_and_shapes(void **state)
{
    expect_error(HEAD "  channels:\n    - id: x\n      type: pigeon\n      events: [lead.held]\n",
                 "t.yaml:9:13: delivery.channels[0].type: expected webhook, slack, email, sms or "
                 "crm");
    expect_error(HEAD "  channels:\n    - id: x\n      events: [lead.held]\n",
                 "t.yaml:8:7: delivery.channels[0]: missing required key 'type'");
    expect_error(HEAD "  channels: {id: x}\n",
                 "t.yaml:7:13: delivery.channels: expected a list of channels, not a mapping");
    expect_error(HEAD "  - x\n",
                 "t.yaml:7:3: delivery: expected a mapping with channels, templates, smtp, ..., "
                 "not a list");
    expect_error(HEAD "  channels:\n    - id: Hook!\n",
                 "t.yaml:8:11: delivery.channels[0].id: 'Hook!' is not a valid channel id "
                 "(lower-case letters, digits, '_' and '-', starting with a letter or digit, at "
                 "most 64 characters)");
    expect_error(HEAD WEBHOOK "    - id: hook\n      type: slack\n",
                 "t.yaml:12:11: delivery.channels[1].id: duplicate channel id 'hook' (first "
                 "defined at line 8)");
    expect_error(HEAD WEBHOOK "      timeout: 500ms\n",
                 "t.yaml:12:16: delivery.channels[0].timeout: 500ms is out of range (1s .. 2m)");
    expect_error(HEAD WEBHOOK "      concurrency: 65\n",
                 "t.yaml:12:20: delivery.channels[0].concurrency: 65 is out of range (1 .. 64)");
    expect_error(HEAD "  meeting_minutes: 1000\n",
                 "t.yaml:7:20: delivery.meeting_minutes: 1000 is out of range (5 .. 480)");
}

static void test_error_events_and_when(void **state)
{
    expect_error(HEAD "  channels:\n    - {id: x, type: webhook, url: \"http://a.example\"}\n",
                 "t.yaml:8:7: delivery.channels[0]: missing required key 'events'");
    expect_error(HEAD "  channels:\n    - id: x\n      type: webhook\n"
                      "      events: [lead.assigned, lead.asigned]\n",
                 "t.yaml:10:31: delivery.channels[0].events[1]: 'lead.asigned' is not an event "
                 "Baton sends; expected an event name (lead.assigned), a prefix with .* "
                 "(\"assignment.*\") or \"*\"");
    expect_error(HEAD "  channels:\n    - id: x\n      type: webhook\n      events: [\"lead*\"]\n",
                 "t.yaml:10:16: delivery.channels[0].events[0]: 'lead*' is not an event Baton "
                 "sends; expected an event name (lead.assigned), a prefix with .* "
                 "(\"assignment.*\") or \"*\"");
    expect_error(HEAD "  channels:\n    - id: x\n      type: webhook\n      events: []\n",
                 "t.yaml:10:15: delivery.channels[0].events: empty; list the events the channel "
                 "sends");
    expect_error(HEAD "  channels:\n    - id: x\n      type: webhook\n"
                      "      events: [lead.held, lead.held]\n",
                 "t.yaml:10:27: delivery.channels[0].events[1]: 'lead.held' is listed twice");
    /* the rule language's error at the character, inside the quotes */
    expect_error(
        HEAD "  channels:\n    - id: x\n      type: webhook\n      events: [lead.held]\n"
             "      when: \"score >= 50 and scor > 1\"\n",
        "t.yaml:11:30: delivery.channels[0].when: unknown field 'scor'; did you mean 'score'?");
}

static void test_error_urls(void **state)
{
    expect_error(HEAD "  channels:\n    - id: x\n      type: webhook\n      events: [lead.held]\n",
                 "t.yaml:8:7: delivery.channels[0]: missing required key 'url'");
    expect_error(HEAD "  channels:\n    - id: x\n      type: crm\n      events: [lead.held]\n"
                      "      url: ftp://crm.example.com/\n",
                 "t.yaml:11:12: delivery.channels[0].url: expected an http:// or https:// URL, "
                 "such as https://hooks.example.com/baton");
    expect_error(HEAD "  channels:\n    - id: x\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://user:pw@hooks.example.com/\n",
                 "t.yaml:11:12: delivery.channels[0].url: not a valid URL: expected no user name "
                 "or password in the URL");
    expect_error(HEAD "  channels:\n    - id: x\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://hooks.example.com:0/\n",
                 "t.yaml:11:12: delivery.channels[0].url: not a valid URL: expected a port from 1 "
                 "to 65535 after the host");
    expect_error(HEAD "  smtp: {url: \"http://mail.example.com\"}\n",
                 "t.yaml:7:15: delivery.smtp.url: expected smtp://HOST:PORT or smtps://HOST:PORT, "
                 "such as smtp://127.0.0.1:2525");
    expect_error(HEAD "  smtp: {url: \"smtp://\"}\n",
                 "t.yaml:7:15: delivery.smtp.url: expected smtp://HOST:PORT or smtps://HOST:PORT, "
                 "such as smtp://127.0.0.1:2525");
    expect_error(HEAD "  smtp: {url: \"smtp://:25\"}\n",
                 "t.yaml:7:15: delivery.smtp.url: not a valid URL: expected a host");
    expect_error(HEAD "  smtp: {url: \"smtp://mail.example.com/x\"}\n",
                 "t.yaml:7:15: delivery.smtp.url: not a valid URL: expected nothing after the "
                 "host and port");
    expect_error(HEAD "  smtp: {url: \"smtps://mail.example.com\", starttls: try}\n",
                 "t.yaml:7:53: delivery.smtp.starttls: applies to smtp:// URLs only (an smtps:// "
                 "connection is TLS from the start)");
    expect_error(HEAD "  smtp: {url: \"smtp://mail.example.com\", starttls: maybe}\n",
                 "t.yaml:7:52: delivery.smtp.starttls: expected try, required or off");
    expect_error(HEAD "  smtp: {from: \"Baton <baton>\"}\n",
                 "t.yaml:7:16: delivery.smtp.from: expected an address such as baton@example.com "
                 "or \"Baton <baton@example.com>\"");
}

static void test_error_type_keys(void **state)
{
    expect_error(HEAD WEBHOOK "      to: rep\n",
                 "t.yaml:12:7: delivery.channels[0].to: `to` applies to email and sms channels, "
                 "not to webhook ones");
    expect_error(HEAD WEBHOOK "      by_team: {emea: https://x.example.com}\n",
                 "t.yaml:12:7: delivery.channels[0].by_team: `by_team` applies to slack "
                 "channels, not to webhook ones");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, from: b@example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: rep\n      secret: " SECRET_16 "\n",
                 "t.yaml:13:7: delivery.channels[0].secret: `secret` applies to webhook and crm "
                 "channels, not to email ones");
    expect_error(HEAD "  channels:\n    - id: m\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n      fields: {a: lead.email}\n",
                 "t.yaml:12:7: delivery.channels[0].fields: `fields` applies to crm channels, "
                 "not to slack ones");
    expect_error(HEAD "  channels:\n    - id: m\n      type: sms\n      events: [lead.held]\n"
                      "      to: rep\n      invite: true\n",
                 "t.yaml:12:7: delivery.channels[0].invite: `invite` applies to email channels, "
                 "not to sms ones");
}

static void test_error_transports(void **state)
{
    expect_error(HEAD "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: rep\n",
                 "t.yaml:8:7: delivery.channels[0]: an email channel needs delivery.smtp.url and "
                 "delivery.smtp.from (the mail server and the sender)");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: rep\n",
                 "t.yaml:9:7: delivery.channels[0]: an email channel needs delivery.smtp.url and "
                 "delivery.smtp.from (the mail server and the sender)");
    expect_error(HEAD "  channels:\n    - id: s\n      type: sms\n      events: [lead.held]\n"
                      "      to: rep\n",
                 "t.yaml:8:7: delivery.channels[0]: an sms channel needs a gateway: give it a "
                 "url, or set delivery.sms.url");
    expect_error(HEAD "  sms: {url: \"https://g.example/send\"}\n"
                      "  channels:\n    - id: s\n      type: sms\n      events: [lead.held]\n"
                      "      to: rep\n",
                 "t.yaml:9:7: delivery.channels[0]: an sms channel needs delivery.sms.from (the "
                 "number or sender name messages come from)");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, from: b@example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n",
                 "t.yaml:9:7: delivery.channels[0]: missing required key 'to'");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, from: b@example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: marketing\n",
                 "t.yaml:12:11: delivery.channels[0].to: marketing needs delivery.marketing "
                 "(marketing's address)");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, from: b@example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: \"+15550100\"\n",
                 "t.yaml:12:11: delivery.channels[0].to: '+15550100' is not a recipient; "
                 "expected rep, manager, prospect, marketing or an email address");
    expect_error(HEAD "  sms: {url: \"https://g.example/send\", from: Baton}\n"
                      "  channels:\n    - id: m\n      type: sms\n      events: [lead.held]\n"
                      "      to: a@example.com\n",
                 "t.yaml:12:11: delivery.channels[0].to: 'a@example.com' is not a recipient; "
                 "expected rep, manager, prospect or a phone number such as \"+15550100\" "
                 "(E.164)");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, from: b@example.com}\n"
                      "  channels:\n    - id: m\n      type: email\n      events: [lead.held]\n"
                      "      to: manager\n      invite: true\n",
                 "t.yaml:13:15: delivery.channels[0].invite: a meeting proposal goes to the rep: "
                 "it applies to email channels with to: rep");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, username: u}\n",
                 "t.yaml:7:9: delivery.smtp: username and password go together: give both "
                 "(AUTH) or neither");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, username: u, password: p, "
                      "password_env: X}\n",
                 "t.yaml:7:77: delivery.smtp.password_env: give password or password_env, not "
                 "both");
    expect_error(HEAD "  smtp: {url: smtp://m.example.com, username: u, password_env: "
                      "BATON_TEST_UNSET}\n",
                 "t.yaml:7:64: delivery.smtp.password_env: the environment variable "
                 "BATON_TEST_UNSET is not set");
    expect_error(HEAD "  retry: [0s, 8d]\n",
                 "t.yaml:7:15: delivery.retry[1]: 8d is out of range (0s .. 7d)");
    expect_error(HEAD "  retry: []\n",
                 "t.yaml:7:10: delivery.retry: empty; list at least one delay (the first "
                 "attempt's, usually 0s), or leave retry out for the default");
    expect_error(HEAD "  retry: [0s, 1s, 2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s, 10s, 11s, 12s, 13s, "
                      "14s, 15s, 16s]\n",
                 "t.yaml:7:81: delivery.retry: too many attempts (at most 16)");
    expect_error(HEAD "  marketing: marketing\n",
                 "t.yaml:7:14: delivery.marketing: expected an email address such as "
                 "marketing@example.com");
}

static void test_error_secrets(void **state)
{
    expect_error(HEAD WEBHOOK "      secret: abc\n",
                 "t.yaml:12:15: delivery.channels[0].secret: not a webhook secret: expected "
                 "whsec_ followed by the base64 of 24 to 64 random bytes (such as the output of "
                 "`openssl rand -base64 32`)");
    expect_error(HEAD WEBHOOK "      secret: " SECRET_10 "\n",
                 "t.yaml:12:15: delivery.channels[0].secret: not a webhook secret: expected "
                 "whsec_ followed by the base64 of 24 to 64 random bytes (such as the output of "
                 "`openssl rand -base64 32`)");
    expect_error(HEAD WEBHOOK "      secret: whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
                 "t.yaml:12:15: delivery.channels[0].secret: not a webhook secret: expected "
                 "whsec_ followed by the base64 of 24 to 64 random bytes (such as the output of "
                 "`openssl rand -base64 32`)");
    expect_error(HEAD WEBHOOK "      secret_env: BATON_TEST_UNSET\n",
                 "t.yaml:12:19: delivery.channels[0].secret_env: the environment variable "
                 "BATON_TEST_UNSET is not set");
    expect_error(HEAD WEBHOOK "      secret_env: BATON_TEST_BAD_SECRET\n",
                 "t.yaml:12:19: delivery.channels[0].secret_env: not a webhook secret (the value "
                 "of BATON_TEST_BAD_SECRET): expected whsec_ followed by the base64 of 24 to 64 "
                 "random bytes (such as the output of `openssl rand -base64 32`)");
    expect_error(HEAD WEBHOOK "      secret: " SECRET_16 "\n      secret_env: BATON_TEST_SECRET\n",
                 "t.yaml:13:19: delivery.channels[0]: give one of secret, secrets and secret_env, "
                 "not several");
    expect_error(HEAD WEBHOOK "      secrets: [{secret: " SECRET_16
                              ", until: 2026-01-01T00:00:00Z}, "
                              "{secret: " SECRET_32 ", until: 2026-02-01T00:00:00Z}, {secret_env: "
                              "BATON_TEST_SECRET}, {secret: " SECRET_16 "}]\n",
                 "t.yaml:12:16: delivery.channels[0].secrets: too many secrets (at most 3)");
    expect_error(HEAD WEBHOOK "      secrets: [{secret: " SECRET_16 "}, {secret: " SECRET_32 "}]\n",
                 "t.yaml:12:67: delivery.channels[0].secrets[1]: delivery.channels[0].secrets[0] "
                 "has no `until` either; only the current secret goes without one (give the old "
                 "ones an until)");
    expect_error(HEAD WEBHOOK "      secrets: [{secret: " SECRET_16 ", until: tomorrow}]\n",
                 "t.yaml:12:73: delivery.channels[0].secrets[0].until: expected an RFC 3339 time "
                 "such as 2026-12-31T00:00:00Z");
    expect_error(HEAD WEBHOOK "      secrets: [{secret: " SECRET_16 "}, {secret_env: "
                              "BATON_TEST_SECRET, until: 2026-01-01T00:00:00Z}]\n",
                 "t.yaml:12:80: delivery.channels[0].secrets[1].secret_env: the same secret as "
                 "delivery.channels[0].secrets[0]");
}

static void test_error_references(void **state)
{
    expect_error(HEAD "  templates:\n    - {id: t, text: x}\n"
                      "  channels:\n    - id: s\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n      template: tt\n",
                 "t.yaml:14:17: delivery.channels[0].template: no template has the id 'tt'; "
                 "define it under delivery.templates");
    expect_error(HEAD "  templates:\n    - {id: t, text: x}\n    - {id: t, text: y}\n",
                 "t.yaml:9:12: delivery.templates[1].id: duplicate template id 't' (first defined "
                 "at line 8)");
    expect_error(HEAD "  templates:\n    - {id: t, subject: x}\n",
                 "t.yaml:8:7: delivery.templates[0]: missing required key 'text'");
    expect_error(HEAD "  channels:\n    - id: s\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n      by_team: {apac: "
                      "https://x.example.com/apac}\n",
                 "t.yaml:12:17: delivery.channels[0].by_team: no team has the id 'apac'");
    expect_error(HEAD "  channels:\n    - id: s\n      type: slack\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n      by_rep: {bob: "
                      "https://x.example.com/bob}\n",
                 "t.yaml:12:16: delivery.channels[0].by_rep: no rep has the id 'bob'");
    expect_error(HEAD
                 "  channels:\n    - id: s\n      type: slack\n      events: [lead.held]\n"
                 "      url: https://x.example.com\n      by_rep: {ana: ftp://x.example.com}\n",
                 "t.yaml:12:21: delivery.channels[0].by_rep.ana: expected an http:// or https:// "
                 "URL, such as https://hooks.example.com/baton");
    expect_error(HEAD "  channels:\n    - id: c\n      type: crm\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n",
                 "t.yaml:8:7: delivery.channels[0]: missing required key 'fields'");
    expect_error(HEAD "  channels:\n    - id: c\n      type: crm\n      events: [lead.held]\n"
                      "      url: https://x.example.com\n      fields: {Email: lead.mail}\n",
                 "t.yaml:12:23: delivery.channels[0].fields.Email: 'lead.mail' is not a value of "
                 "the message context; expected one such as lead.email, lead.company, "
                 "score.total, rep.email or lead.fields.NAME");
}

/* A template's error points at its place in the file, in any style of scalar. */
static void test_error_templates(void **state)
{
    /* a typo in a block scalar: line 11 of the file, the name's column */
    expect_error(HEAD "  templates:\n"
                      "    - id: t\n"
                      "      text: |\n"
                      "        Hello {{rep.name}},\n"
                      "        {{lead.name}} from {{lead.compnay}}\n",
                 "t.yaml:11:30: delivery.templates[0].text: unknown variable lead.compnay");
    /* in a double-quoted subject, after an escape */
    expect_error(HEAD "  templates:\n"
                      "    - id: t\n"
                      "      subject: \"\\u00c4 {{ lead.nam }}\"\n"
                      "      text: x\n",
                 "t.yaml:9:27: delivery.templates[0].subject: unknown variable lead.nam");
    /* a section's names are tried inside it: score.reasons.text is known */
    struct config *cfg =
        load_ok(HEAD "  templates:\n"
                     "    - id: t\n"
                     "      text: \"{{#score.reasons}}{{text}}{{/score.reasons}}\"\n");
    config_unref(cfg);
    expect_error(
        HEAD "  templates:\n"
             "    - id: t\n"
             "      text: x\n"
             "      html: >\n"
             "        <p>{{#lead.fields}}\n"
             "        {{lead.email}}</p>\n",
        "t.yaml:11:12: delivery.templates[0].html: section {{#lead.fields}} is not closed (no "
        "{{/lead.fields}})");
    expect_error(HEAD "  templates:\n"
                      "    - id: t\n"
                      "      subject: \"two\\nlines\"\n"
                      "      text: x\n",
                 "t.yaml:9:16: delivery.templates[0].subject: must be one line");
    expect_error(HEAD "  templates:\n"
                      "    - id: t\n"
                      "      text: [a]\n",
                 "t.yaml:9:13: delivery.templates[0].text: expected a string, not a list");
}

/* A load that fails after a channel's `when` was compiled frees it (the
 * leak check of the sanitizer build sees it otherwise). */
static void test_error_after_when_frees(void **state)
{
    expect_error(HEAD "  channels:\n"
                      "    - {id: a, type: webhook, events: [lead.held], when: \"score > 1\", url: "
                      "\"https://a.example\"}\n"
                      "    - {id: b, type: webhook, events: [lead.held], when: \"score > 2\"}\n",
                 "t.yaml:9:7: delivery.channels[1]: missing required key 'url'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),          cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_error_unknown_keys),    cmocka_unit_test(test_error_types_and_shapes),
        cmocka_unit_test(test_error_events_and_when), cmocka_unit_test(test_error_urls),
        cmocka_unit_test(test_error_type_keys),       cmocka_unit_test(test_error_transports),
        cmocka_unit_test(test_error_secrets),         cmocka_unit_test(test_error_references),
        cmocka_unit_test(test_error_templates),       cmocka_unit_test(test_error_after_when_frees),
    };
    return cmocka_run_group_tests(tests, setup_env, NULL);
}
