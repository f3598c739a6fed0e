/*
 * test_config.c - the config loader: values read back, defaults, the exact
 * FILE:LINE:COL of each kind of error, reference counting and the holder;
 * scoring and qualification rules compiled at load, with errors pointing at
 * the character of the condition at fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/normalize.h"
#include "core/rule.h"
#include "core/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char full_yaml[] = "version: 1\n"
                                "server:\n"
                                "  listen: \"[::1]:9090\"\n"
                                "  max_body_bytes: 2MiB\n"
                                "  max_connections: 64\n"
                                "  request_timeout: 45s\n"
                                "  shutdown_timeout: 1500ms\n"
                                "  form_redirect_hosts: [WWW.Example.com, example.org]\n"
                                "store:\n"
                                "  synchronous: normal\n"
                                "  busy_timeout: 2m\n"
                                "  group_commit_max: 128\n"
                                "intake:\n"
                                "  freemail:\n"
                                "    add: [Mail.Example.NET]\n"
                                "    remove: [gmx.de, web.de]\n"
                                "teams:\n"
                                "  - id: emea\n"
                                "    name: EMEA\n"
                                "    manager: anna\n"
                                "  - id: na-east\n"
                                "reps:\n"
                                "  - id: anna\n"
                                "    name: Anna Schmidt\n"
                                "    email: Anna.Schmidt@Example.COM\n"
                                "    phone: \"+49 30 1234567\"\n"
                                "    slack: U0123ANNA\n"
                                "    team: emea\n"
                                "    timezone: Europe/Berlin\n"
                                "    active: false\n"
                                "    languages: [de, en]\n"
                                "    skills: [enterprise, healthcare, fintech]\n"
                                "    weight: 1.5\n"
                                "    capacity: 25\n"
                                "  - id: bob.jones\n"
                                "    team: na-east\n"
                                "    timezone: America/New_York\n"
                                "    capacity: unlimited\n";

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

/*
 * Loads `yaml`, which must fail with BT_ECONFIG and a message that starts
 * with `prefix` ("t.yaml:LINE:COL: ...") and, when given, contains `part`.
 */
static void expect_error(const char *yaml, size_t len, const char *prefix, const char *part)
{
    struct config *cfg = (struct config *)1;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = config_load_string("t.yaml", yaml, len, &cfg, &err);
    assert_int_equal(rc, BT_ECONFIG);
    assert_int_equal(err.code, BT_ECONFIG);
    assert_null(cfg);
    if (strncmp(err.message, prefix, strlen(prefix)) != 0)
        fail_msg("expected prefix \"%s\", got \"%s\"", prefix, err.message);
    if (part && !strstr(err.message, part))
        fail_msg("expected \"%s\" in \"%s\"", part, err.message);
}

#define EXPECT_ERROR(yaml, prefix, part) expect_error(yaml, strlen(yaml), prefix, part)

static void test_full_config_values(void **state)
{
    struct config *cfg = load_ok(full_yaml);
    assert_string_equal(cfg->path, "t.yaml");
    assert_int_equal(strlen(cfg->version), 16);
    assert_int_equal(strspn(cfg->version, "0123456789abcdef"), 16);
    assert_int_equal(cfg->refs, 1);

    assert_string_equal(cfg->listen, "[::1]:9090");
    assert_int_equal(cfg->max_body_bytes, 2 * 1024 * 1024);
    assert_int_equal(cfg->max_connections, 64);
    assert_int_equal(cfg->request_timeout_ms, 45000);
    assert_int_equal(cfg->shutdown_timeout_ms, 1500);
    assert_int_equal(cfg->n_form_redirect_hosts, 2);
    assert_string_equal(cfg->form_redirect_hosts[0], "www.example.com");
    assert_string_equal(cfg->form_redirect_hosts[1], "example.org");

    assert_int_equal(cfg->synchronous, CONFIG_SYNC_NORMAL);
    assert_int_equal(cfg->busy_timeout_ms, 120000);
    assert_int_equal(cfg->group_commit_max, 128);
    assert_non_null(cfg->freemail);
    assert_true(freemail_contains(cfg->freemail, "mail.example.net"));
    assert_true(freemail_contains(cfg->freemail, "gmail.com"));
    assert_false(freemail_contains(cfg->freemail, "gmx.de"));

    assert_int_equal(cfg->n_teams, 2);
    assert_string_equal(cfg->teams[0].id, "emea");
    assert_string_equal(cfg->teams[0].name, "EMEA");
    assert_string_equal(cfg->teams[0].manager, "anna");
    assert_string_equal(cfg->teams[1].id, "na-east");
    assert_string_equal(cfg->teams[1].name, "na-east");
    assert_null(cfg->teams[1].manager);

    assert_int_equal(cfg->n_reps, 2);
    const struct config_rep *a = &cfg->reps[0];
    assert_string_equal(a->id, "anna");
    assert_string_equal(a->name, "Anna Schmidt");
    assert_string_equal(a->email, "anna.schmidt@example.com");
    assert_string_equal(a->phone, "+49 30 1234567");
    assert_string_equal(a->slack, "U0123ANNA");
    assert_string_equal(a->team, "emea");
    assert_string_equal(a->timezone, "Europe/Berlin");
    assert_false(a->active);
    assert_int_equal(a->n_languages, 2);
    assert_string_equal(a->languages[0], "de");
    assert_string_equal(a->languages[1], "en");
    assert_int_equal(a->n_skills, 3);
    assert_string_equal(a->skills[2], "fintech");
    assert_true(a->weight == 1.5);
    assert_int_equal(a->capacity, 25);

    const struct config_rep *b = &cfg->reps[1];
    assert_string_equal(b->id, "bob.jones");
    assert_string_equal(b->name, "bob.jones");
    assert_null(b->email);
    assert_null(b->phone);
    assert_string_equal(b->timezone, "America/New_York");
    assert_true(b->active);
    assert_int_equal(b->n_languages, 0);
    assert_true(b->weight == 1.0);
    assert_int_equal(b->capacity, -1);

    assert_ptr_equal(config_find_rep(cfg, "anna"), a);
    assert_ptr_equal(config_find_rep(cfg, "bob.jones"), b);
    assert_null(config_find_rep(cfg, "carol"));
    assert_null(config_find_rep(cfg, NULL));
    config_unref(cfg);
}

static void test_defaults_when_sections_missing(void **state)
{
    struct config *cfg = load_ok("version: 1\n");
    assert_string_equal(cfg->listen, "127.0.0.1:8080");
    assert_int_equal(cfg->max_body_bytes, 1024 * 1024);
    assert_int_equal(cfg->max_connections, 256);
    assert_int_equal(cfg->request_timeout_ms, 30000);
    assert_int_equal(cfg->shutdown_timeout_ms, 10000);
    assert_int_equal(cfg->n_form_redirect_hosts, 0);
    assert_int_equal(cfg->synchronous, CONFIG_SYNC_FULL);
    assert_int_equal(cfg->busy_timeout_ms, 5000);
    assert_int_equal(cfg->group_commit_max, 256);
    assert_non_null(cfg->freemail);
    assert_int_equal(cfg->n_teams, 0);
    assert_int_equal(cfg->n_reps, 0);
    assert_null(config_find_rep(cfg, "anna"));
    config_unref(cfg);
}

static void test_null_sections_and_values_mean_defaults(void **state)
{
    struct config *cfg = load_ok("version: 1\nserver:\n  listen: ~\n  max_connections:\n"
                                 "store:\nintake:\nteams: []\nreps:\n"
                                 "  - id: x1\n    weight: null\n");
    assert_string_equal(cfg->listen, "127.0.0.1:8080");
    assert_int_equal(cfg->max_connections, 256);
    assert_int_equal(cfg->n_teams, 0);
    assert_int_equal(cfg->n_reps, 1);
    assert_string_equal(cfg->reps[0].name, "x1");
    assert_string_equal(cfg->reps[0].timezone, "UTC");
    assert_true(cfg->reps[0].active);
    assert_true(cfg->reps[0].weight == 1.0);
    assert_int_equal(cfg->reps[0].capacity, -1);
    config_unref(cfg);
}

static void test_size_and_duration_forms(void **state)
{
    struct config *cfg = load_ok("version: 1\nserver:\n  max_body_bytes: 64 KiB\n"
                                 "  request_timeout: 1h\n  shutdown_timeout: 0\n"
                                 "store:\n  busy_timeout: 250ms\n");
    assert_int_equal(cfg->max_body_bytes, 64 * 1024);
    assert_int_equal(cfg->request_timeout_ms, 3600000);
    assert_int_equal(cfg->shutdown_timeout_ms, 0);
    assert_int_equal(cfg->busy_timeout_ms, 250);
    config_unref(cfg);

    cfg = load_ok("version: 1\nserver:\n  max_body_bytes: 2mb\n  request_timeout: 90\n");
    assert_int_equal(cfg->max_body_bytes, 2000000);
    assert_int_equal(cfg->request_timeout_ms, 90000);
    config_unref(cfg);

    cfg = load_ok("version: 1\nserver:\n  max_body_bytes: 4096\n  listen: 0.0.0.0:0\n");
    assert_int_equal(cfg->max_body_bytes, 4096);
    assert_string_equal(cfg->listen, "0.0.0.0:0");
    config_unref(cfg);
}

static void test_quoted_scalars(void **state)
{
    /* A run of escaped quotes made libfyaml leak (ASan checks that it no longer does). */
    struct config *cfg = load_ok("version: 1\nreps:\n  - id: a\n    name: 'O''Brien'\n"
                                 "  - id: b\n    name: 'x''''''''''''y'\n"
                                 "  - id: c\n    name: 'one  \n      two'\n"
                                 "  - id: d\n    name: \"Caf\\u00e9 \\\"Zur Post\\\"\"\n");
    assert_string_equal(cfg->reps[0].name, "O'Brien");
    assert_string_equal(cfg->reps[1].name, "x''''''y");
    assert_string_equal(cfg->reps[2].name, "one two");
    assert_string_equal(cfg->reps[3].name, "Caf\xc3\xa9 \"Zur Post\"");
    config_unref(cfg);

    /* Two line breaks fold to a newline, which a one-line value may not hold. */
    EXPECT_ERROR("version: 1\nreps:\n  - id: c\n    name: 'one\n\n      three'\n",
                 "t.yaml:4:11: ", "reps[0].name: must not contain control characters");
}

static void test_error_yaml_syntax(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  listen: \"127.0.0.1:8080\n",
                 "t.yaml:3:12: ", "YAML syntax error: double-quoted scalar without closing quote");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n  name: b\n", "t.yaml:4:3: ", "YAML syntax error");
    EXPECT_ERROR("version: 1\nteams: [\n", "t.yaml:3:1: ", "YAML syntax error");
}

static void test_error_unknown_key_top_level(void **state)
{
    EXPECT_ERROR("version: 1\nsevrer:\n  listen: x\n", "t.yaml:2:1: ",
                 "unknown key 'sevrer' at the top level; expected one of: version, server, "
                 "store, intake, teams, reps");
}

static void test_error_unknown_key_nested(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  listen: 127.0.0.1:80\n  lisen: x\n", "t.yaml:4:3: ",
                 "unknown key 'lisen' in server; expected one of: listen, max_body_bytes, "
                 "max_connections, request_timeout, shutdown_timeout, form_redirect_hosts");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n  - id: b\n    mail: b@example.com\n",
                 "t.yaml:5:5: ", "unknown key 'mail' in reps[1]; expected one of: id, name, email");
    EXPECT_ERROR("version: 1\nintake:\n  freemail:\n    added: [x.com]\n", "t.yaml:4:5: ",
                 "unknown key 'added' in intake.freemail; expected one of: add, remove");
}

static void test_error_duplicate_key(void **state)
{
    EXPECT_ERROR("version: 1\nstore:\n  synchronous: full\n  synchronous: normal\n",
                 "t.yaml:4:3: ", "duplicate key 'synchronous' in store (first at line 3)");
    EXPECT_ERROR("version: 1\nversion: 1\n", "t.yaml:2:1: ", "duplicate key 'version'");
}

static void test_error_wrong_type(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  max_body_bytes: lots\n",
                 "t.yaml:3:19: ", "server.max_body_bytes: expected a size such as 1048576 or 1MiB");
    EXPECT_ERROR("version: 1\nserver:\n  listen: {host: a}\n",
                 "t.yaml:3:11: ", "server.listen: expected a string, not a mapping");
    EXPECT_ERROR("version: 1\nserver: [a]\n",
                 "t.yaml:2:9: ", "server: expected a mapping of server settings, not a list");
    EXPECT_ERROR("version: 1\nserver:\n  max_connections: many\n",
                 "t.yaml:3:20: ", "server.max_connections: expected a whole number");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    active: yes\n",
                 "t.yaml:4:13: ", "reps[0].active: expected true or false");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    languages: en\n",
                 "t.yaml:4:16: ", "reps[0].languages: expected a list of strings");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    skills: [x, [y]]\n",
                 "t.yaml:4:17: ", "reps[0].skills[1]: expected a string, not a list");
    EXPECT_ERROR("version: 1\nreps: {id: a}\n",
                 "t.yaml:2:7: ", "reps: expected a list of reps, not a mapping");
    EXPECT_ERROR("version: 1\nteams:\n  - emea\n",
                 "t.yaml:3:5: ", "teams[0]: expected a mapping with id, name, manager");
    EXPECT_ERROR("- version: 1\n", "t.yaml:1:1: ", "expected a mapping of sections");
}

static void test_error_out_of_range(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  max_connections: 0\n",
                 "t.yaml:3:20: ", "server.max_connections: 0 is out of range (1 .. 10000)");
    EXPECT_ERROR("version: 1\nserver:\n  max_body_bytes: 100\n",
                 "t.yaml:3:19: ", "server.max_body_bytes: 100 is out of range (1KiB .. 64MiB)");
    EXPECT_ERROR("version: 1\nstore:\n  group_commit_max: 10001\n",
                 "t.yaml:3:21: ", "out of range (1 .. 10000)");
    EXPECT_ERROR("version: 1\nserver:\n  request_timeout: 500ms\n",
                 "t.yaml:3:20: ", "server.request_timeout: 500ms is out of range (1s .. 1h)");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    weight: 0\n",
                 "t.yaml:4:13: ", "reps[0].weight: expected a number from 0.001 to 1000");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    capacity: -1\n",
                 "t.yaml:4:15: ", "reps[0].capacity: expected a whole number from 0");
    EXPECT_ERROR("version: 1\nserver:\n  listen: 127.0.0.1:65536\n",
                 "t.yaml:3:11: ", "server.listen: expected HOST:PORT");
}

static void test_error_bad_duration(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  request_timeout: 30x\n", "t.yaml:3:20: ",
                 "server.request_timeout: expected a duration such as 30s, 500ms or 5m");
    EXPECT_ERROR("version: 1\nstore:\n  busy_timeout: 1.5s\n",
                 "t.yaml:3:17: ", "store.busy_timeout: expected a duration");
    EXPECT_ERROR("version: 1\nstore:\n  busy_timeout: 99999999999999999999d\n",
                 "t.yaml:3:17: ", "store.busy_timeout: expected a duration");
}

static void test_error_bad_size(void **state)
{
    EXPECT_ERROR("version: 1\nserver:\n  max_body_bytes: 1 XB\n",
                 "t.yaml:3:19: ", "server.max_body_bytes: expected a size such as 1048576 or 1MiB");
    EXPECT_ERROR("version: 1\nserver:\n  max_body_bytes: MiB\n",
                 "t.yaml:3:19: ", "expected a size");
}

static void test_error_bad_values(void **state)
{
    EXPECT_ERROR("version: 1\nstore:\n  synchronous: off\n",
                 "t.yaml:3:16: ", "store.synchronous: expected full or normal");
    EXPECT_ERROR("version: 1\nserver:\n  listen: localhost\n", "t.yaml:3:11: ",
                 "server.listen: expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080");
    EXPECT_ERROR("version: 1\nserver:\n  listen: \"[::g]:80\"\n", "t.yaml:3:11: ", "server.listen");
    EXPECT_ERROR("version: 1\nreps:\n  - id: Anna\n",
                 "t.yaml:3:9: ", "reps[0].id: 'Anna' is not a valid id");
    EXPECT_ERROR("version: 1\nreps:\n  - name: Anna\n",
                 "t.yaml:3:5: ", "reps[0]: missing required key 'id'");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    email: anna.example.com\n",
                 "t.yaml:4:12: ", "reps[0].email: 'anna.example.com' is not an email address");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    email: anna@localhost\n",
                 "t.yaml:4:12: ", "is not an email address");
    EXPECT_ERROR("version: 1\nintake:\n  freemail:\n    add: [mail.example.com, not_a_domain]\n",
                 "t.yaml:4:29: ", "intake.freemail.add[1]: 'not_a_domain' is not a domain name");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    name: \"An\\nna\"\n",
                 "t.yaml:4:11: ", "reps[0].name: must not contain control characters");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    name: \"\"\n",
                 "t.yaml:4:11: ", "reps[0].name: must not be empty");
}

/* server.public_url as stored, from `value` as written. */
static void check_public_url(const char *value, const char *want)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "version: 1\nserver:\n  public_url: %s\n", value);
    struct config *cfg = load_ok(yaml);
    if (!cfg->public_url || strcmp(cfg->public_url, want) != 0)
        fail_msg("public_url %s: got %s, want %s", value,
                 cfg->public_url ? cfg->public_url : "NULL", want);
    config_unref(cfg);
}

static void test_public_url(void **state)
{
    struct config *cfg = load_ok("version: 1\n");
    assert_null(cfg->public_url);
    config_unref(cfg);
    cfg = load_ok("version: 1\nserver:\n  public_url: ~\n");
    assert_null(cfg->public_url);
    config_unref(cfg);

    check_public_url("https://baton.example.com", "https://baton.example.com");
    check_public_url("http://127.0.0.1:8080", "http://127.0.0.1:8080");
    /* trailing slashes dropped: links add their own path */
    check_public_url("https://baton.example.com/", "https://baton.example.com");
    check_public_url("https://example.com/sales/baton//", "https://example.com/sales/baton");
    /* scheme and host lower-cased, the path kept as written */
    check_public_url("HTTPS://Baton.Example.COM/Leads", "https://baton.example.com/Leads");
    check_public_url("\"http://[::1]:9090/b%20c\"", "http://[::1]:9090/b%20c");
    check_public_url("\"http://[2001:DB8::A]/\"", "http://[2001:db8::a]");
    check_public_url("https://localhost:65535/a/b-c_d.e~f", "https://localhost:65535/a/b-c_d.e~f");

    /* 200 characters are fine, 201 are not */
    char yaml[512], url[256];
    memset(url, 'a', sizeof(url));
    memcpy(url, "https://x.example/", 18);
    url[200] = '\0';
    snprintf(yaml, sizeof(yaml), "version: 1\nserver:\n  public_url: %s\n", url);
    cfg = load_ok(yaml);
    assert_int_equal(strlen(cfg->public_url), 200);
    config_unref(cfg);
    url[200] = 'a';
    url[201] = '\0';
    snprintf(yaml, sizeof(yaml), "version: 1\nserver:\n  public_url: %s\n", url);
    EXPECT_ERROR(yaml, "t.yaml:3:15: ", "server.public_url: too long (at most 200 characters)");
}

/* reports.lost_lead_value: optional, a non-negative number */
static void test_reports_lost_lead_value(void **state)
{
    (void)state;
    struct config *cfg = load_ok("version: 1\n");
    assert_true(cfg->reports.lost_lead_value == 0);
    config_unref(cfg);
    cfg = load_ok("version: 1\nreports:\n  lost_lead_value: 1250.5\n");
    assert_true(cfg->reports.lost_lead_value == 1250.5);
    config_unref(cfg);
    cfg = load_ok("version: 1\nreports:\n");
    assert_true(cfg->reports.lost_lead_value == 0);
    config_unref(cfg);
    EXPECT_ERROR("version: 1\nreports:\n  lost_lead_value: -3\n",
                 "t.yaml:3:20: ", "reports.lost_lead_value: expected a number");
    EXPECT_ERROR("version: 1\nreports:\n  lost_lead_value: lots\n",
                 "t.yaml:3:20: ", "reports.lost_lead_value");
    EXPECT_ERROR("version: 1\nreports:\n  lost_value: 3\n", "t.yaml:3:3: ", "lost_value");
    EXPECT_ERROR("version: 1\nreports: [1]\n", "t.yaml:2:", "reports");
}

static void test_error_public_url(void **state)
{
    static const struct {
        const char *value, *message;
    } cases[] = {
        {"baton.example.com", "server.public_url: expected an absolute URL starting with "
                              "http:// or https://, such as https://baton.example.com"},
        {"ftp://example.com", "server.public_url: expected an absolute URL starting with http://"},
        {"/relative/path", "server.public_url: expected an absolute URL"},
        {"https://", "server.public_url: expected a host name, an IPv4 address or an [IPv6] "
                     "address after https://"},
        {"https:///path", "server.public_url: expected a host name"},
        {"http://:8080", "server.public_url: expected a host name"},
        {"http://bad_host.example", "server.public_url: expected a host name"},
        {"\"http://[::g]/\"", "server.public_url: expected a host name"},
        {"https://example.com?x=1", "server.public_url: must not have a query ('?...')"},
        {"https://example.com/a?", "server.public_url: must not have a query"},
        {"https://example.com/#top", "server.public_url: must not have a fragment ('#...')"},
        {"https://anna:secret@example.com", "server.public_url: must not hold a user name or "
                                            "password ('user@')"},
        {"https://anna@example.com", "server.public_url: must not hold a user name"},
        {"https://example.com:0", "server.public_url: expected a port from 1 to 65535 after "
                                  "the host"},
        {"https://example.com:65536", "server.public_url: expected a port from 1 to 65535"},
        {"\"https://example.com:\"", "server.public_url: expected a port"},
        {"https://example.com:http", "server.public_url: expected a port"},
        {"\"http://[::1]x/\"", "server.public_url: expected a port"},
        {"https://example.com/a b", "server.public_url: the path may hold only letters, digits, "
                                    "-._~!$&'()*+,;=:@/ and %XX escapes; percent-encode "
                                    "anything else"},
        {"https://example.com/100%", "server.public_url: the path may hold only"},
        {"https://example.com/%zz", "server.public_url: the path may hold only"},
        {"https://example.com/caf\xc3\xa9", "server.public_url: the path may hold only"},
        {"[https://example.com]", "server.public_url: expected a string, not a list"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml),
                 "version: 1\nserver:\n  listen: 127.0.0.1:80\n  "
                 "public_url: %s\n",
                 cases[i].value);
        EXPECT_ERROR(yaml, "t.yaml:4:15: ", cases[i].message);
    }
}

static void test_error_duplicate_rep_id(void **state)
{
    EXPECT_ERROR("version: 1\nreps:\n  - id: anna\n  - id: bob\n  - id: anna\n  - id: bob\n",
                 "t.yaml:5:9: ", "duplicate rep id 'anna' (first defined at line 3)");
    EXPECT_ERROR("version: 1\nteams:\n  - id: emea\n  - id: emea\n",
                 "t.yaml:4:9: ", "duplicate team id 'emea' (first defined at line 3)");
}

static void test_error_team_unknown_manager(void **state)
{
    EXPECT_ERROR("version: 1\nteams:\n  - id: emea\n    manager: carol\nreps:\n  - id: anna\n",
                 "t.yaml:4:14: ", "teams[0].manager: no rep has the id 'carol'");
}

static void test_error_rep_unknown_team(void **state)
{
    EXPECT_ERROR("version: 1\nreps:\n  - id: anna\n    team: apac\nteams:\n  - id: emea\n",
                 "t.yaml:4:11: ", "reps[0].team: no team has the id 'apac'");
}

static void test_error_bad_timezone(void **state)
{
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    timezone: Europe/Berln\n",
                 "t.yaml:4:15: ", "reps[0].timezone: unknown time zone 'Europe/Berln'");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    timezone: ../../etc/passwd\n",
                 "t.yaml:4:15: ", "unknown time zone");
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    timezone: zone.tab\n",
                 "t.yaml:4:15: ", "unknown time zone");
}

static void test_error_version(void **state)
{
    EXPECT_ERROR("# Baton\nserver:\n  listen: 127.0.0.1:8080\n",
                 "t.yaml:2:1: ", "missing required key 'version'");
    EXPECT_ERROR("version: 2\n", "t.yaml:1:10: ", "version: expected 1");
    EXPECT_ERROR("version:\n", "t.yaml:1:1: ", "version: expected 1");
}

static void test_error_empty_file(void **state)
{
    EXPECT_ERROR("", "t.yaml:1:1: ", "the file is empty");
    EXPECT_ERROR("# nothing here\n\n", "t.yaml:1:1: ", "the file is empty");
    EXPECT_ERROR("---\n", "t.yaml:1:1: ", "the file is empty");
    expect_error(NULL, 0, "t.yaml:1:1: ", "the file is empty");
}

static void test_error_yaml_features_refused(void **state)
{
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    skills: &s [x]\n  - id: b\n    skills: *s\n",
                 "t.yaml:6:13: ", "aliases (*s) are not supported");
    EXPECT_ERROR("version: 1\n---\nversion: 1\n", "t.yaml:2:1: ", "a second YAML document");
    EXPECT_ERROR("version: 1\n? [a, b]\n: c\n", "t.yaml:2:3: ", "a key must be a plain string");
}

static void test_error_invalid_utf8(void **state)
{
    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    name: J\xfcrgen\n",
                 "t.yaml:4:12: ", "the file is not valid UTF-8 (byte 0xFC)");
    /* Multi-byte characters count as one column. */
    EXPECT_ERROR("# J\xc3\xbcrgen \xed\xa0\x80\n", "t.yaml:1:10: ", "not valid UTF-8");
    /* libfyaml loops forever on this (a fuzz finding): it must not get to see it. */
    expect_error("%f%!\xfd\x7f\0\0\0", 9, "t.yaml:1:5: ", "not valid UTF-8");

    struct config *cfg = load_ok("version: 1\nreps:\n  - id: jurgen\n    name: J\xc3\xbcrgen\n");
    assert_string_equal(cfg->reps[0].name, "J\xc3\xbcrgen");
    config_unref(cfg);
}

static void test_error_limits(void **state)
{
    /* 10001 reps: one too many; the error names the first one past the limit. */
    size_t n = 10001, cap = 32 + n * 16;
    char *yaml = malloc(cap);
    size_t len = (size_t)snprintf(yaml, cap, "version: 1\nreps:\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "- id: r%zu\n", i);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "t.yaml:%zu:3: ", n + 2);
    expect_error(yaml, len, prefix, "too many reps (at most 10000)");
    free(yaml);

    /* More than 4 MiB is refused before parsing. */
    size_t big = 4u * 1024 * 1024 + 1;
    char *huge = malloc(big);
    memset(huge, '#', big);
    expect_error(huge, big, "t.yaml:1:1: ", "larger than 4 MiB");
    free(huge);

    EXPECT_ERROR("version: 1\nreps:\n  - id: a\n    name: \"a\\0b\"\n",
                 "t.yaml:4:11: ", "control characters");
}

/* ---- scoring and qualification ---- */

static const char scoring_yaml[] =
    "version: 1\n"
    "intake:\n"
    "  activities_create_leads: true\n"
    "scoring:\n"
    "  range: [-50, 150]\n"
    "  grades:\n"
    "    fit: {A: 70, B: 45, C: 15}\n"
    "    engagement: {1: 50, 2: 25.5, 3: 5}\n"
    "  fit:\n"
    "    - group: Company size\n"
    "      cap: 30\n"
    "      rules:\n"
    "        - {name: Enterprise, when: \"employees >= 1000\", points: 30}\n"
    "        - {name: Mid-market, when: \"employees >= 200\", points: 20}\n"
    "    - name: Senior title\n"
    "      when: title matches \"^(vp|chief|head)\"\n"
    "      points: 15\n"
    "    - name: Student\n"
    "      when: email.domain ends_with \".edu\"\n"
    "      points: -20.5\n"
    "    - group: Region\n"
    "      rules:\n"
    "        - name: DACH\n"
    "          when: country in [\"DE\", \"AT\", \"CH\"]\n"
    "          points: 10\n"
    "  engagement:\n"
    "    - name: Demo request\n"
    "      activity: demo_request\n"
    "      points: 40\n"
    "      cap: 40\n"
    "      half_life: 14d\n"
    "      when: properties.product == \"fleet\"\n"
    "    - name: Webinar\n"
    "      activity: webinar_attended\n"
    "      points: 5\n"
    "      window: 90d\n"
    "    - name: Unsubscribed\n"
    "      activity: email_unsubscribe\n"
    "      points: -10\n"
    "qualification:\n"
    "  mql_when: score >= 60\n"
    "  fast_track_when: activity.demo_request.count > 0\n"
    "  disqualify_when: email.domain in [\"competitor.com\"] or title contains \"student\"\n";

static void test_scoring_defaults(void **state)
{
    struct config *cfg = load_ok("version: 1\n");
    assert_false(cfg->activities_create_leads);
    const struct score_model *m = cfg->scoring;
    assert_non_null(m);
    assert_non_null(m->lead_syms);
    assert_non_null(m->activity_syms);
    assert_int_equal(m->n_fit, 0);
    assert_int_equal(m->n_groups, 0);
    assert_int_equal(m->n_engagement, 0);
    assert_true(m->min_total == 0 && m->max_total == 100);
    assert_true(m->fit_bands[0] == 60 && m->fit_bands[1] == 40 && m->fit_bands[2] == 20);
    assert_true(m->engagement_bands[0] == 60 && m->engagement_bands[1] == 30 &&
                m->engagement_bands[2] == 10);
    assert_null(cfg->qualification.mql_when);
    assert_null(cfg->qualification.fast_track_when);
    assert_null(cfg->qualification.disqualify_when);
    config_unref(cfg);

    /* Empty and null sections mean the same; a partial grade table keeps the other defaults. */
    cfg = load_ok("version: 1\nscoring:\n  range:\n  fit: []\n  engagement: ~\n"
                  "  grades:\n    fit: {A: 80}\n    engagement: {3: 0}\n"
                  "qualification:\n  mql_when:\nintake:\n  activities_create_leads: false\n");
    m = cfg->scoring;
    assert_true(m->min_total == 0 && m->max_total == 100);
    assert_int_equal(m->n_fit, 0);
    assert_true(m->fit_bands[0] == 80 && m->fit_bands[1] == 40 && m->fit_bands[2] == 20);
    assert_true(m->engagement_bands[1] == 30 && m->engagement_bands[2] == 0);
    assert_null(cfg->qualification.mql_when);
    assert_false(cfg->activities_create_leads);
    config_unref(cfg);
}

static void test_scoring_values(void **state)
{
    struct config *cfg = load_ok(scoring_yaml);
    assert_true(cfg->activities_create_leads);
    const struct score_model *m = cfg->scoring;
    assert_true(m->min_total == -50 && m->max_total == 150);
    assert_true(m->fit_bands[0] == 70 && m->fit_bands[1] == 45 && m->fit_bands[2] == 15);
    assert_true(m->engagement_bands[0] == 50 && m->engagement_bands[1] == 25.5 &&
                m->engagement_bands[2] == 5);

    assert_int_equal(m->n_groups, 2);
    assert_string_equal(m->groups[0].name, "Company size");
    assert_true(m->groups[0].has_cap);
    assert_true(m->groups[0].cap == 30);
    assert_string_equal(m->groups[1].name, "Region");
    assert_false(m->groups[1].has_cap);

    assert_int_equal(m->n_fit, 5);
    static const char *const names[] = {"Enterprise", "Mid-market", "Senior title", "Student",
                                        "DACH"};
    static const int groups[] = {0, 0, -1, -1, 1};
    static const double points[] = {30, 20, 15, -20.5, 10};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(m->fit[i].name, names[i]);
        assert_int_equal(m->fit[i].group, groups[i]);
        assert_true(m->fit[i].points == points[i]);
        assert_non_null(m->fit[i].when);
    }
    assert_string_equal(rule_text(m->fit[0].when), "employees >= 1000");
    assert_string_equal(rule_text(m->fit[2].when), "title matches \"^(vp|chief|head)\"");

    assert_int_equal(m->n_engagement, 3);
    const struct engagement_rule *e = m->engagement;
    assert_string_equal(e[0].name, "Demo request");
    assert_string_equal(e[0].activity_type, "demo_request");
    assert_true(e[0].points == 40);
    assert_true(e[0].has_cap && e[0].cap == 40);
    assert_int_equal(e[0].decay, DECAY_HALF_LIFE);
    assert_int_equal(e[0].decay_ms, 14LL * 86400 * 1000);
    assert_non_null(e[0].when);
    assert_string_equal(e[1].activity_type, "webinar_attended");
    assert_false(e[1].has_cap);
    assert_int_equal(e[1].decay, DECAY_WINDOW);
    /* 90 days in ms does not fit 32 bits. */
    assert_int_equal(e[1].decay_ms, 90LL * 86400 * 1000);
    assert_null(e[1].when);
    assert_true(e[2].points == -10);
    assert_int_equal(e[2].decay, DECAY_NONE);
    assert_int_equal(e[2].decay_ms, 0);

    assert_non_null(cfg->qualification.mql_when);
    assert_non_null(cfg->qualification.fast_track_when);
    assert_string_equal(rule_text(cfg->qualification.disqualify_when),
                        "email.domain in [\"competitor.com\"] or title contains \"student\"");
    config_unref(cfg);
}

/* The slot of `path` in `syms`, which a compiled rule must have used. */
static int slot_of(const struct rule_symtab *syms, const char *path)
{
    int slot = rule_symtab_find(syms, path);
    if (slot < 0 || (size_t)slot >= rule_symtab_count(syms))
        fail_msg("no slot for %s", path);
    return slot;
}

static void test_scoring_rules_evaluate(void **state)
{
    struct config *cfg = load_ok(scoring_yaml);
    const struct score_model *m = cfg->scoring;
    struct rule_scratch *scratch = rule_scratch_new();

    /* Fit and qualification rules share one table: both see the same slots. */
    size_t n = rule_symtab_count(m->lead_syms);
    struct rule_value *slots = calloc(n, sizeof(*slots));
    assert_false(rule_eval(m->fit[0].when, slots, scratch)); /* employees missing */
    rule_value_number(&slots[slot_of(m->lead_syms, "employees")], 1500);
    assert_true(rule_eval(m->fit[0].when, slots, scratch));
    rule_value_number(&slots[slot_of(m->lead_syms, "employees")], 500);
    assert_false(rule_eval(m->fit[0].when, slots, scratch));
    assert_true(rule_eval(m->fit[1].when, slots, scratch));
    rule_value_string(&slots[slot_of(m->lead_syms, "title")], "VP Sales", "vp sales", 8);
    assert_true(rule_eval(m->fit[2].when, slots, scratch));
    rule_value_string(&slots[slot_of(m->lead_syms, "country")], "AT", "at", 2);
    assert_true(rule_eval(m->fit[4].when, slots, scratch));
    rule_value_number(&slots[slot_of(m->lead_syms, "score")], 61);
    assert_true(rule_eval(cfg->qualification.mql_when, slots, scratch));
    rule_value_number(&slots[slot_of(m->lead_syms, "score")], 59.5);
    assert_false(rule_eval(cfg->qualification.mql_when, slots, scratch));
    free(slots);

    /* Engagement conditions have their own table, over the activity. */
    assert_int_equal(rule_symtab_find(m->activity_syms, "employees"), -1);
    n = rule_symtab_count(m->activity_syms);
    slots = calloc(n, sizeof(*slots));
    rule_value_string(&slots[slot_of(m->activity_syms, "properties.product")], "Fleet", "fleet", 5);
    assert_true(rule_eval(m->engagement[0].when, slots, scratch));
    rule_value_string(&slots[slot_of(m->activity_syms, "properties.product")], "rail", "rail", 4);
    assert_false(rule_eval(m->engagement[0].when, slots, scratch));
    free(slots);

    rule_scratch_free(scratch);
    config_unref(cfg);
}

static void test_error_rule_syntax_points_at_character(void **state)
{
    /* Plain scalar, inside a group: the column is the value's plus the offset. */
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n"
                 "    - name: A\n      when: employees > 1\n      points: 1\n"
                 "    - group: Size\n      rules:\n"
                 "        - name: B\n          when: employees >= and\n          points: 2\n",
                 "t.yaml:10:30: ", "scoring.fit[1].rules[0].when: ");
    /* Double-quoted with escapes before the error: each \" is two columns. */
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - group: Titles\n      rules:\n"
                 "        - {name: A, when: \"title == \\\"vp\\\" and emial == 1\", points: 1}\n",
                 "t.yaml:6:48: ", "scoring.fit[0].rules[0].when: ");
    /* Single-quoted with a doubled quote before the error. */
    EXPECT_ERROR("version: 1\nqualification:\n  mql_when: 'title == \"it''s\" or emial == 1'\n",
                 "t.yaml:3:34: ", "qualification.mql_when: ");
    /* A literal block: the line within the block and the column on that line. */
    EXPECT_ERROR("version: 1\nqualification:\n  disqualify_when: |\n"
                 "    email.domain in [\"competitor.com\"]\n    or titel contains \"student\"\n",
                 "t.yaml:5:8: ", "qualification.disqualify_when: ");
    /* A folded block whose header carries a comment. */
    EXPECT_ERROR("version: 1\nqualification:\n  mql_when: >-  # the bar\n"
                 "    score >= 60 and\n    grade == \"A1\" and )\n",
                 "t.yaml:5:23: ", "qualification.mql_when: ");
    /* An error at the end of the text points just past it. */
    EXPECT_ERROR("version: 1\nqualification:\n  mql_when: score >=\n",
                 "t.yaml:3:21: ", "qualification.mql_when: ");
    EXPECT_ERROR("version: 1\nqualification:\n  mql_when: \"score >=\"\n",
                 "t.yaml:3:22: ", "qualification.mql_when: ");
}

static void test_error_rule_unknown_field(void **state)
{
    /* The schema's reason is the message. */
    EXPECT_ERROR(
        "version: 1\nscoring:\n  fit:\n    - name: A\n      when: emial == \"x\"\n"
        "      points: 1\n",
        "t.yaml:5:13: ", "scoring.fit[0].when: unknown field 'emial'; did you mean 'email'?");
    /* A lead field is unknown to an engagement condition, which reads the activity. */
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n    - name: Demo\n"
                 "      activity: demo_request\n      points: 5\n"
                 "      when: properties.product == \"fleet\" and employees > 10\n",
                 "t.yaml:7:47: ",
                 "scoring.engagement[0].when: unknown activity field 'employees' (an activity has "
                 "type, age_days and properties.NAME");
    EXPECT_ERROR(
        "version: 1\nqualification:\n  fast_track_when: activity.demo_request.count > 0\n"
        "  disqualify_when: properties.product == \"x\"\n",
        "t.yaml:4:20: ", "qualification.disqualify_when: unknown field 'properties.product'");
    EXPECT_ERROR(
        "version: 1\nqualification:\n  fast_track_when: activity.demo_request.cuont > 0\n",
        "t.yaml:3:20: ",
        "qualification.fast_track_when: unknown activity fact 'cuont'; did you mean 'count'?");
}

static void test_error_rule_values(void **state)
{
    EXPECT_ERROR(
        "version: 1\nscoring:\n  fit:\n    - {name: A, when: [x], points: 1}\n", "t.yaml:4:23: ",
        "scoring.fit[0].when: expected a condition such as 'employees >= 200', not a list");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, when: \"\", points: 1}\n",
                 "t.yaml:4:23: ", "scoring.fit[0].when: must not be empty");
    EXPECT_ERROR("version: 1\nqualification:\n  mql_when: \"score > 1 \\x01\"\n",
                 "t.yaml:3:13: ", "qualification.mql_when: must not contain control characters");
    char long_rule[4200];
    snprintf(long_rule, sizeof(long_rule), "version: 1\nqualification:\n  mql_when: %04097d\n", 1);
    EXPECT_ERROR(long_rule,
                 "t.yaml:3:13: ", "qualification.mql_when: too long (at most 4096 bytes)");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, points: 1}\n",
                 "t.yaml:4:7: ", "scoring.fit[0]: missing required key 'when'");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, when: ~, points: 1}\n",
                 "t.yaml:4:23: ", "scoring.fit[0].when: required");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {when: title exists, points: 1}\n",
                 "t.yaml:4:7: ", "scoring.fit[0]: missing required key 'name'");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, when: title exists}\n",
                 "t.yaml:4:7: ", "scoring.fit[0]: missing required key 'points'");
    EXPECT_ERROR(
        "version: 1\nscoring:\n  fit:\n    - {name: A, when: title exists, points: lots}\n",
        "t.yaml:4:45: ", "scoring.fit[0].points: expected a number such as 15, 2.5 or -20");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, when: title exists, points: 1e3}\n",
                 "t.yaml:4:45: ", "scoring.fit[0].points: expected a number");
    EXPECT_ERROR(
        "version: 1\nscoring:\n  fit:\n"
        "    - {name: A, when: title exists, points: -2000000}\n",
        "t.yaml:4:45: ", "scoring.fit[0].points: -2e+06 is out of range (-1e+06 .. 1e+06)");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - [name, A]\n", "t.yaml:4:7: ",
                 "scoring.fit[0]: expected a mapping with name, when and points, not a list");
    EXPECT_ERROR("version: 1\nscoring:\n  fit: {name: A}\n", "t.yaml:3:8: ",
                 "scoring.fit: expected a list of fit rules and groups, not a mapping");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {group: G}\n",
                 "t.yaml:4:7: ", "scoring.fit[0]: missing required key 'rules'");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {rules: []}\n",
                 "t.yaml:4:7: ", "scoring.fit[0]: missing required key 'group'");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {group: G, rules: {name: A}}\n",
                 "t.yaml:4:25: ", "scoring.fit[0].rules: expected a list of fit rules");
    EXPECT_ERROR("version: 1\nscoring: [fit]\n", "t.yaml:2:10: ",
                 "scoring: expected a mapping with range, grades, fit and engagement, not a list");
    EXPECT_ERROR("version: 1\nqualification: score > 1\n",
                 "t.yaml:2:16: ", "qualification: expected a mapping with mql_when");
    EXPECT_ERROR("version: 1\nintake:\n  activities_create_leads: yes\n",
                 "t.yaml:3:28: ", "intake.activities_create_leads: expected true or false");
}

static void test_error_scoring_unknown_keys(void **state)
{
    EXPECT_ERROR("version: 1\nscoring:\n  fits: []\n", "t.yaml:3:3: ",
                 "unknown key 'fits' in scoring; expected one of: range, grades, fit, engagement");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {name: A, when: title exists, point: 1}\n",
                 "t.yaml:4:37: ",
                 "unknown key 'point' in scoring.fit[0]; expected one of: name, when, points");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {group: G, name: A, rules: []}\n",
                 "t.yaml:4:18: ",
                 "unknown key 'name' in scoring.fit[0]; expected one of: group, cap, rules");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - group: G\n      rules:\n"
                 "        - {name: A, when: title exists, points: 1, cap: 3}\n",
                 "t.yaml:6:52: ", "unknown key 'cap' in scoring.fit[0].rules[0]");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: A, activity: a, points: 1, decay: 7d}\n",
                 "t.yaml:4:41: ",
                 "unknown key 'decay' in scoring.engagement[0]; expected one of: name, activity, "
                 "points, cap, when, half_life, window");
    EXPECT_ERROR("version: 1\nscoring:\n  grades:\n    fit: {A: 60, D: 10}\n", "t.yaml:4:18: ",
                 "unknown key 'D' in scoring.grades.fit; expected one of: A, B, C");
    EXPECT_ERROR("version: 1\nscoring:\n  grades:\n    engagment: {}\n", "t.yaml:4:5: ",
                 "unknown key 'engagment' in scoring.grades; expected one of: fit, engagement");
    EXPECT_ERROR("version: 1\nqualification:\n  mql: score > 50\n", "t.yaml:3:3: ",
                 "unknown key 'mql' in qualification; expected one of: mql_when, "
                 "fast_track_when, disqualify_when");
    EXPECT_ERROR("version: 1\nintake:\n  activities_create_lead: true\n",
                 "t.yaml:3:3: ", "expected one of: freemail, activities_create_leads");
    EXPECT_ERROR("version: 1\nsevrer: {}\n", "t.yaml:2:1: ",
                 "expected one of: version, server, store, intake, teams, reps, scoring, "
                 "qualification, pools, routing, accounts");
}

static void test_error_engagement_decay(void **state)
{
    EXPECT_ERROR(
        "version: 1\nscoring:\n  engagement:\n    - name: Demo\n"
        "      activity: demo_request\n      points: 5\n"
        "      half_life: 7d\n      window: 30d\n",
        "t.yaml:8:15: ",
        "scoring.engagement[0]: half_life and window exclude each other; give one of them");
    /* Whichever comes second is the one pointed at. */
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: D, window: 30d, activity: a, points: 5, half_life: 7d}\n",
                 "t.yaml:4:65: ", "half_life and window exclude each other");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: D, activity: a, points: 5, half_life: 1.5d}\n",
                 "t.yaml:4:52: ",
                 "scoring.engagement[0].half_life: expected a duration such as 30s, 500ms or 5m");
    EXPECT_ERROR(
        "version: 1\nscoring:\n  engagement:\n"
        "    - {name: D, activity: a, points: 5, window: 30s}\n",
        "t.yaml:4:49: ", "scoring.engagement[0].window: 30s is out of range (1m .. 3650d)");
    EXPECT_ERROR(
        "version: 1\nscoring:\n  engagement:\n"
        "    - {name: D, activity: Demo Request, points: 5}\n",
        "t.yaml:4:27: ", "scoring.engagement[0].activity: 'Demo Request' is not an activity type");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n    - {name: D, points: 5}\n",
                 "t.yaml:4:7: ", "scoring.engagement[0]: missing required key 'activity'");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n    - {name: D, activity: a}\n",
                 "t.yaml:4:7: ", "scoring.engagement[0]: missing required key 'points'");
}

static void test_error_duplicate_rule_names(void **state)
{
    /* Unique across groups: a grouped rule may not reuse a top-level rule's name. */
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - name: Senior\n"
                 "      when: title contains \"vp\"\n      points: 10\n"
                 "    - group: Titles\n      rules:\n"
                 "        - {name: Senior, when: title contains \"chief\", points: 5}\n",
                 "t.yaml:9:18: ",
                 "scoring.fit[1].rules[0].name: duplicate fit rule name 'Senior' (first defined "
                 "at line 4)");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: Demo, activity: demo_request, points: 5}\n"
                 "    - {name: Demo, activity: demo_request, points: 1}\n",
                 "t.yaml:5:14: ",
                 "scoring.engagement[1].name: duplicate engagement rule name 'Demo' (first "
                 "defined at line 4)");
    EXPECT_ERROR("version: 1\nscoring:\n  fit:\n    - {group: Size, rules: []}\n"
                 "    - {group: Size, rules: []}\n",
                 "t.yaml:5:15: ", "scoring.fit[1].group: duplicate fit group name 'Size'");
    /* The same name in fit and engagement is fine: they are reported apart. */
    struct config *cfg = load_ok("version: 1\nscoring:\n"
                                 "  fit: [{name: Demo, when: title exists, points: 1}]\n"
                                 "  engagement: [{name: Demo, activity: demo, points: 1}]\n");
    assert_int_equal(cfg->scoring->n_fit, 1);
    assert_int_equal(cfg->scoring->n_engagement, 1);
    config_unref(cfg);
}

static void test_error_caps(void **state)
{
    EXPECT_ERROR(
        "version: 1\nscoring:\n  fit:\n    - group: Size\n      cap: -5\n      rules: []\n",
        "t.yaml:5:12: ",
        "scoring.fit[0].cap: expected a number greater than 0 and at most 1000000");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: D, activity: a, points: 5, cap: 0}\n",
                 "t.yaml:4:46: ", "scoring.engagement[0].cap: expected a number greater than 0");
    EXPECT_ERROR("version: 1\nscoring:\n  engagement:\n"
                 "    - {name: D, activity: a, points: 5, cap: many}\n",
                 "t.yaml:4:46: ", "scoring.engagement[0].cap: expected a number greater than 0");
}

static void test_error_range_and_grades(void **state)
{
    EXPECT_ERROR("version: 1\nscoring:\n  range: [100, 0]\n", "t.yaml:3:10: ",
                 "scoring.range: the minimum (100) must be less than the maximum (0)");
    EXPECT_ERROR("version: 1\nscoring:\n  range: [5, 5]\n", "t.yaml:3:10: ",
                 "scoring.range: the minimum (5) must be less than the maximum (5)");
    EXPECT_ERROR("version: 1\nscoring:\n  range: [0]\n",
                 "t.yaml:3:10: ", "scoring.range: expected a list of two numbers [min, max]");
    EXPECT_ERROR("version: 1\nscoring:\n  range: 100\n",
                 "t.yaml:3:10: ", "scoring.range: expected a list of two numbers");
    EXPECT_ERROR("version: 1\nscoring:\n  range: [0, lots]\n",
                 "t.yaml:3:14: ", "scoring.range[1]: expected a number");
    EXPECT_ERROR("version: 1\nscoring:\n  range: [~, 10]\n",
                 "t.yaml:3:11: ", "scoring.range[0]: expected a number, not null");
    EXPECT_ERROR(
        "version: 1\nscoring:\n  grades:\n    fit: {A: 60, B: 60}\n", "t.yaml:4:21: ",
        "scoring.grades.fit: thresholds must descend (A > B > C), but A is 60 and B is 60");
    /* Against a default: 2 stays 30. */
    EXPECT_ERROR("version: 1\nscoring:\n  grades:\n    engagement: {3: 40}\n", "t.yaml:4:21: ",
                 "scoring.grades.engagement: thresholds must descend (1 > 2 > 3), but 2 is 30 and "
                 "3 is 40");
    EXPECT_ERROR("version: 1\nscoring:\n  grades:\n    fit: [60, 40, 20]\n", "t.yaml:4:10: ",
                 "scoring.grades.fit: expected a mapping of grade thresholds, not a list");
    EXPECT_ERROR("version: 1\nscoring:\n  grades:\n    fit: {A: high}\n",
                 "t.yaml:4:14: ", "scoring.grades.fit.A: expected a number");
}

/* Writes `n` copies of `item` (with %zu for the index) after `head`. */
static char *repeat_yaml(const char *head, const char *item, size_t n, size_t *len)
{
    size_t cap = strlen(head) + n * (strlen(item) + 24) + 1;
    char *yaml = malloc(cap);
    size_t used = (size_t)snprintf(yaml, cap, "%s", head);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(yaml + used, cap - used, item, i);
    *len = used;
    return yaml;
}

static void test_error_scoring_limits(void **state)
{
    size_t len;
    /* Line 4 holds the first item, so the item past the limit is on line 4 + limit. */
    char *yaml = repeat_yaml("version: 1\nscoring:\n  engagement:\n",
                             "  - {name: r%zu, activity: a, points: 1}\n", 501, &len);
    expect_error(yaml, len, "t.yaml:504:5: ", "too many engagement rules (at most 500)");
    free(yaml);

    yaml = repeat_yaml("version: 1\nscoring:\n  fit:\n",
                       "  - {name: r%zu, when: employees > 1, points: 1}\n", 1001, &len);
    expect_error(yaml, len, "t.yaml:1004:5: ", "too many fit rules (at most 1000)");
    free(yaml);

    /* Rules inside groups count too. */
    yaml = repeat_yaml("version: 1\nscoring:\n  fit:\n  - group: G\n    rules:\n",
                       "    - {name: r%zu, when: employees > 1, points: 1}\n", 1001, &len);
    expect_error(yaml, len, "t.yaml:1006:7: ", "too many fit rules (at most 1000)");
    free(yaml);

    yaml =
        repeat_yaml("version: 1\nscoring:\n  fit:\n", "  - {group: g%zu, rules: []}\n", 101, &len);
    expect_error(yaml, len, "t.yaml:104:5: ", "too many fit groups (at most 100)");
    free(yaml);

    /* At the limits, everything loads (and is freed: ASan checks). */
    yaml = repeat_yaml("version: 1\nscoring:\n  fit:\n",
                       "  - {name: r%zu, when: employees > 1, points: 1}\n", 1000, &len);
    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(config_load_string("t.yaml", yaml, len, &cfg, &err), BT_OK);
    assert_int_equal(cfg->scoring->n_fit, 1000);
    config_unref(cfg);
    free(yaml);
}

static void assert_rate(const struct ratelimit_rate *r, unsigned count, unsigned period_ms,
                        unsigned burst)
{
    assert_int_equal(r->count, count);
    if (count) {
        assert_int_equal(r->period_ms, period_ms);
        assert_int_equal(r->burst, burst);
    }
}

static void test_rate_limit_values(void **state)
{
    (void)state;
    /* the defaults: ingest keys only */
    struct config *cfg = load_ok("version: 1\n");
    assert_rate(&cfg->rate_limit.per_key, 100, 1000, 1000);
    assert_rate(&cfg->rate_limit.per_address, 10, 1000, 100);
    assert_true(cfg->rate_limit.ingest);
    assert_false(cfg->rate_limit.admin);
    assert_int_equal(cfg->rate_limit.n_trusted_proxies, 0);
    config_unref(cfg);

    cfg = load_ok("version: 1\nintake:\n  rate_limit:\n"
                  "    per_key: 20/s burst 100\n"
                  "    per_address: 600/m\n"
                  "    roles: [ingest, admin]\n"
                  "    trusted_proxies: [127.0.0.1, 10.0.0.0/8, \"fd00::/8\", \"::1\"]\n");
    assert_rate(&cfg->rate_limit.per_key, 20, 1000, 100);
    assert_rate(&cfg->rate_limit.per_address, 600, 60000, 600); /* burst: the count */
    assert_true(cfg->rate_limit.ingest && cfg->rate_limit.admin);
    assert_int_equal(cfg->rate_limit.n_trusted_proxies, 4);
    struct net_addr a;
    assert_true(netaddr_parse("10.9.8.7", 8, &a));
    assert_true(netaddr_in_prefix(&a, &cfg->rate_limit.trusted_proxies[1]));
    assert_false(netaddr_in_prefix(&a, &cfg->rate_limit.trusted_proxies[0]));
    assert_int_equal(cfg->rate_limit.trusted_proxies[2].bits, 8);
    assert_int_equal(cfg->rate_limit.trusted_proxies[3].bits, 128);
    config_unref(cfg);

    /* other forms of periods; off, one limit or all; nobody limited */
    cfg = load_ok("version: 1\nintake:\n  rate_limit:\n    per_key: 5/10s burst   7\n"
                  "    per_address: off\n    roles: []\n");
    assert_rate(&cfg->rate_limit.per_key, 5, 10000, 7);
    assert_rate(&cfg->rate_limit.per_address, 0, 0, 0);
    assert_false(cfg->rate_limit.ingest || cfg->rate_limit.admin);
    config_unref(cfg);
    cfg = load_ok("version: 1\nintake:\n  rate_limit: {per_key: 1/h, per_address: 1000000/d}\n");
    assert_rate(&cfg->rate_limit.per_key, 1, 3600000, 1);
    assert_rate(&cfg->rate_limit.per_address, 1000000, 86400000, 1000000);
    assert_true(cfg->rate_limit.ingest);
    config_unref(cfg);
    cfg = load_ok("version: 1\nintake:\n  rate_limit: off\n");
    assert_rate(&cfg->rate_limit.per_key, 0, 0, 0);
    assert_rate(&cfg->rate_limit.per_address, 0, 0, 0);
    config_unref(cfg);
    /* absent values keep their defaults */
    cfg = load_ok("version: 1\nintake:\n  rate_limit:\n    per_key:\n");
    assert_rate(&cfg->rate_limit.per_key, 100, 1000, 1000);
    config_unref(cfg);
}

static void test_error_rate_limit(void **state)
{
    (void)state;
    const char *rate = "expected a rate such as 20/s, 600/m or 20/s burst 100, or off";
    const char *bad_rates[] = {"20",         "20/",          "/s",       "20/x",
                               "20/s burst", "20/s burst x", "20/s 100", "20/s burst 5 x",
                               "-1/s",       "1.5/s",        "20 / s",   "20/s burst 1e3",
                               "true",       "[1, 2]",       "20/sec",   "twenty/s"};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        char yaml[160];
        snprintf(yaml, sizeof(yaml), "version: 1\nintake:\n  rate_limit:\n    per_key: %s\n",
                 bad_rates[i]);
        EXPECT_ERROR(yaml, "t.yaml:4:14: ", rate);
    }
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_address: 0/s\n", "t.yaml:4:18: ",
                 "intake.rate_limit.per_address: the count must be from 1 to 1000000");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_key: 1000001/s\n",
                 "t.yaml:4:14: ", "the count must be from 1 to 1000000");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_key: 10/500ms\n",
                 "t.yaml:4:14: ", "intake.rate_limit.per_key: the period must be from 1s to 1d");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_key: 10/2d\n",
                 "t.yaml:4:14: ", "the period must be from 1s to 1d");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_key: 10/s burst 0\n",
                 "t.yaml:4:14: ", "intake.rate_limit.per_key: burst must be from 1 to 1000000");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_key: 10/s burst 1000001\n",
                 "t.yaml:4:14: ", "burst must be from 1 to 1000000");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    per_ky: 10/s\n", "t.yaml:4:5: ",
                 "unknown key 'per_ky' in intake.rate_limit; expected one of: per_key, "
                 "per_address, roles, trusted_proxies");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit: on\n", "t.yaml:3:15: ",
                 "intake.rate_limit: expected a mapping with per_key, per_address, roles and "
                 "trusted_proxies (or off), not a scalar");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    roles: [ingest, rep]\n",
                 "t.yaml:4:21: ", "intake.rate_limit.roles[1]: expected ingest or admin");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    roles: ingest\n", "t.yaml:4:12: ",
                 "intake.rate_limit.roles: expected a list of roles, not a scalar");
    EXPECT_ERROR("version: 1\nintake:\n  rate_limit:\n    trusted_proxies: 127.0.0.1\n",
                 "t.yaml:4:22: ", "intake.rate_limit.trusted_proxies: expected a list");
    const char *bad_proxies[] = {"localhost", "10.0.0.1/8", "10.0.0.0/33", "\"::1/200\"",
                                 "1.2.3.4.5", "~",          "\"\"",        "[1]"};
    for (size_t i = 0; i < sizeof(bad_proxies) / sizeof(bad_proxies[0]); i++) {
        char yaml[160];
        snprintf(yaml, sizeof(yaml),
                 "version: 1\nintake:\n  rate_limit:\n    trusted_proxies:\n      - 127.0.0.1\n"
                 "      - %s\n",
                 bad_proxies[i]);
        EXPECT_ERROR(yaml, "t.yaml:6:9: ", "intake.rate_limit.trusted_proxies[1]: ");
    }
}

/* ---- sla ---- */

static const char sla_yaml[] =
    "version: 1\n"                                                                 /* 1 */
    "teams:\n"                                                                     /* 2 */
    "  - {id: emea, manager: anna}\n"                                              /* 3 */
    "reps:\n"                                                                      /* 4 */
    "  - {id: anna, team: emea}\n"                                                 /* 5 */
    "  - id: bob\n"                                                                /* 6 */
    "pools:\n"                                                                     /* 7 */
    "  - {id: overflow, strategy: round_robin, members: [anna, bob]}\n"            /* 8 */
    "  - {id: night, strategy: load_balanced, members: [bob]}\n"                   /* 9 */
    "sla:\n"                                                                       /* 10 */
    "  policies:\n"                                                                /* 11 */
    "    - name: hot\n"                                                            /* 12 */
    "      when: score >= 80 or activity.demo_request.count > 0 and score >= 60\n" /* 13 */
    "      accept_within: 5m\n"                                                    /* 14 */
    "      contact_within: 5m\n"                                                   /* 15 */
    "    - name: vip_rep-2\n"                                                      /* 16 */
    "      when: email.domain == \"big.example\"\n"                                /* 17 */
    "      accept_within: 30d\n"                                                   /* 18 */
    "      contact_within: 90d\n"                                                  /* 19 */
    "      after_max_attempts: rep:bob\n"                                          /* 20 */
    "      on_breach: [notify_manager]\n"                                          /* 21 */
    "      reminders: [0.25, 0.5, 0.75]\n"                                         /* 22 */
    "      max_attempts: 1\n"                                                      /* 23 */
    "      exclude_last: 0\n"                                                      /* 24 */
    "    - name: german\n"                                                         /* 25 */
    "      when: country == \"DE\"\n"                                              /* 26 */
    "      accept_within: 1s\n"                                                    /* 27 */
    "      contact_within: 1s\n"                                                   /* 28 */
    "      clock: wall\n"                                                          /* 29 */
    "      after_max_attempts: manager\n"                                          /* 30 */
    "      reminders: [10%, 20%, 30%, 40%, 50%, 60%, 70%, 99.5%]\n"                /* 31 */
    "      on_breach: [reassign, remind]\n"                                        /* 32 */
    "      max_attempts: 100\n"                                                    /* 33 */
    "      exclude_last: 100\n"                                                    /* 34 */
    "      away_after_breaches: 100\n"                                             /* 35 */
    "    - name: standard\n"                                                       /* 36 */
    "      accept_within: 1h\n"                                                    /* 37 */
    "      contact_within: 24h\n"                                                  /* 38 */
    "      clock: business_hours\n"                                                /* 39 */
    "      reminders: [50%, 80%]\n"                                                /* 40 */
    "      on_breach: [remind, notify_manager, reassign]\n"                        /* 41 */
    "      max_attempts: 3\n"                                                      /* 42 */
    "      after_max_attempts: pool:night\n"                                       /* 43 */
    "      exclude_last: 3\n"                                                      /* 44 */
    "      away_after_breaches: 3\n"                                               /* 45 */
    "  reject_reasons:\n"                                                          /* 46 */
    "    - id: wrong_territory\n"                                                  /* 47 */
    "      label: Wrong territory\n"                                               /* 48 */
    "      action: reroute\n"                                                      /* 49 */
    "    - {id: spam_2, action: disqualify}\n"                                     /* 50 */
    "    - id: later\n"                                                            /* 51 */
    "      label: \"Not now: call back later\"\n"                                  /* 52 */
    "      action: recycle\n"                                                      /* 53 */
    "  rejections_per_day: 10\n";                                                  /* 54 */

static void test_sla_values(void **state)
{
    struct config *cfg = load_ok(sla_yaml);
    const struct sla_config *s = &cfg->sla;
    assert_int_equal(s->n_policies, 4);
    const struct sla_policy *p = s->policies;

    assert_string_equal(p[0].name, "hot");
    assert_non_null(p[0].when);
    assert_string_equal(rule_text(p[0].when),
                        "score >= 80 or activity.demo_request.count > 0 and score >= 60");
    assert_int_equal(p[0].accept_within_ms, 5 * 60 * 1000);
    assert_int_equal(p[0].contact_within_ms, 5 * 60 * 1000);
    assert_int_equal(p[0].clock, SLA_CLOCK_WALL);
    assert_int_equal(p[0].n_reminders, 0);
    assert_int_equal(p[0].n_on_breach, 1);
    assert_int_equal(p[0].on_breach[0], SLA_BREACH_REASSIGN);
    assert_int_equal(p[0].max_attempts, 3);
    assert_int_equal(p[0].after_max_attempts, SLA_FALLBACK_HOLD);
    assert_int_equal(p[0].exclude_last, 1);
    assert_int_equal(p[0].away_after_breaches, 0);

    assert_string_equal(p[1].name, "vip_rep-2");
    assert_int_equal(p[1].accept_within_ms, 30 * 86400000LL);
    assert_int_equal(p[1].contact_within_ms, 90 * 86400000LL);
    assert_int_equal(p[1].after_max_attempts, SLA_FALLBACK_REP);
    assert_int_equal(p[1].fallback_index, 1);
    assert_string_equal(cfg->routing.reps[p[1].fallback_index].id, "bob");
    assert_int_equal(p[1].n_on_breach, 1);
    assert_int_equal(p[1].on_breach[0], SLA_BREACH_NOTIFY_MANAGER);
    assert_int_equal(p[1].n_reminders, 3);
    assert_true(p[1].reminders[0] == 0.25 && p[1].reminders[1] == 0.5 && p[1].reminders[2] == 0.75);
    assert_int_equal(p[1].max_attempts, 1);
    assert_int_equal(p[1].exclude_last, 0);

    assert_int_equal(p[2].accept_within_ms, 1000);
    assert_int_equal(p[2].contact_within_ms, 1000);
    assert_int_equal(p[2].clock, SLA_CLOCK_WALL);
    assert_int_equal(p[2].after_max_attempts, SLA_FALLBACK_MANAGER);
    assert_int_equal(p[2].n_reminders, SLA_REMINDERS_MAX);
    assert_true(p[2].reminders[0] == 0.1 && p[2].reminders[4] == 0.5 && p[2].reminders[7] == 0.995);
    assert_int_equal(p[2].n_on_breach, 2);
    assert_int_equal(p[2].on_breach[0], SLA_BREACH_REASSIGN);
    assert_int_equal(p[2].on_breach[1], SLA_BREACH_REMIND);
    assert_int_equal(p[2].max_attempts, 100);
    assert_int_equal(p[2].exclude_last, 100);
    assert_int_equal(p[2].away_after_breaches, 100);

    assert_string_equal(p[3].name, "standard");
    assert_null(p[3].when);
    assert_int_equal(p[3].accept_within_ms, 3600000);
    assert_int_equal(p[3].contact_within_ms, 24 * 3600000LL);
    assert_int_equal(p[3].clock, SLA_CLOCK_BUSINESS_HOURS);
    assert_int_equal(p[3].n_reminders, 2);
    assert_true(p[3].reminders[0] == 0.5 && p[3].reminders[1] == 0.8);
    assert_int_equal(p[3].n_on_breach, 3);
    assert_int_equal(p[3].on_breach[0], SLA_BREACH_REMIND);
    assert_int_equal(p[3].on_breach[1], SLA_BREACH_NOTIFY_MANAGER);
    assert_int_equal(p[3].on_breach[2], SLA_BREACH_REASSIGN);
    assert_int_equal(p[3].after_max_attempts, SLA_FALLBACK_POOL);
    assert_int_equal(p[3].fallback_index, 1);
    assert_string_equal(cfg->routing.pools[p[3].fallback_index].id, "night");
    assert_int_equal(p[3].exclude_last, 3);
    assert_int_equal(p[3].away_after_breaches, 3);

    assert_int_equal(s->n_reject_reasons, 3);
    assert_string_equal(s->reject_reasons[0].id, "wrong_territory");
    assert_string_equal(s->reject_reasons[0].label, "Wrong territory");
    assert_int_equal(s->reject_reasons[0].action, SLA_REJECT_REROUTE);
    assert_string_equal(s->reject_reasons[1].id, "spam_2");
    assert_string_equal(s->reject_reasons[1].label, "spam_2"); /* defaults to the id */
    assert_int_equal(s->reject_reasons[1].action, SLA_REJECT_DISQUALIFY);
    assert_string_equal(s->reject_reasons[2].label, "Not now: call back later");
    assert_int_equal(s->reject_reasons[2].action, SLA_REJECT_RECYCLE);
    /* the configured reasons replace the built-in ones */
    assert_ptr_equal(sla_reject_reason_find(s, "later"), &s->reject_reasons[2]);
    assert_null(sla_reject_reason_find(s, "duplicate"));
    assert_int_equal(s->rejections_per_day, 10);
    config_unref(cfg);
}

/* The policies' conditions see the lead's slots, as the routing rules do;
 * the first policy that holds is the lead's. */
static void test_sla_policy_selected(void **state)
{
    struct config *cfg = load_ok(sla_yaml);
    const struct rule_symtab *syms = cfg->scoring->lead_syms;
    struct rule_scratch *scratch = rule_scratch_new();
    size_t n = rule_symtab_count(syms);
    struct rule_value *slots = calloc(n, sizeof(*slots));
    assert_int_equal(sla_policy_select(&cfg->sla, slots, scratch), 3);
    rule_value_number(&slots[slot_of(syms, "score")], 85);
    assert_int_equal(sla_policy_select(&cfg->sla, slots, scratch), 0);
    /* `and` binds tighter than `or`: 65 is hot only with a demo request */
    rule_value_number(&slots[slot_of(syms, "score")], 65);
    assert_int_equal(sla_policy_select(&cfg->sla, slots, scratch), 3);
    rule_value_number(&slots[slot_of(syms, "activity.demo_request.count")], 1);
    assert_int_equal(sla_policy_select(&cfg->sla, slots, scratch), 0);
    rule_value_number(&slots[slot_of(syms, "activity.demo_request.count")], 0);
    rule_value_string(&slots[slot_of(syms, "country")], "DE", "de", 2);
    assert_int_equal(sla_policy_select(&cfg->sla, slots, scratch), 2);
    free(slots);
    rule_scratch_free(scratch);
    config_unref(cfg);
}

static void test_sla_defaults(void **state)
{
    /* No section, a null one, an empty one: no clock, the built-in reasons, no limit. */
    static const char *const none[] = {"version: 1\n", "version: 1\nsla:\n",
                                       "version: 1\nsla: {}\n",
                                       "version: 1\nsla:\n  policies: ~\n  reject_reasons: ~\n"
                                       "  rejections_per_day: ~\n"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        struct config *cfg = load_ok(none[i]);
        assert_int_equal(cfg->sla.n_policies, 0);
        assert_null(cfg->sla.policies);
        assert_int_equal(cfg->sla.n_reject_reasons, 0);
        assert_int_equal(cfg->sla.rejections_per_day, 0);
        assert_int_equal(sla_policy_select(&cfg->sla, NULL, NULL), -1);
        assert_non_null(sla_reject_reason_find(&cfg->sla, "wrong_territory"));
        config_unref(cfg);
    }

    /* One policy with only what is required (null values mean the defaults). */
    struct config *cfg = load_ok("version: 1\nsla:\n  policies:\n"
                                 "    - name: all\n      accept_within: 2h\n"
                                 "      contact_within: ~\n      clock:\n      reminders: ~\n"
                                 "      on_breach: ~\n      max_attempts: ~\n"
                                 "      after_max_attempts: ~\n      exclude_last: ~\n"
                                 "      away_after_breaches: ~\n      when: ~\n");
    const struct sla_policy *p = cfg->sla.policies;
    assert_int_equal(cfg->sla.n_policies, 1);
    assert_null(p->when);
    assert_int_equal(p->accept_within_ms, 2 * 3600000);
    assert_int_equal(p->contact_within_ms, 24 * 3600000); /* a day */
    assert_int_equal(p->clock, SLA_CLOCK_WALL);
    assert_int_equal(p->n_reminders, 0);
    assert_int_equal(p->n_on_breach, 1);
    assert_int_equal(p->on_breach[0], SLA_BREACH_REASSIGN);
    assert_int_equal(p->max_attempts, 3);
    assert_int_equal(p->after_max_attempts, SLA_FALLBACK_HOLD);
    assert_int_equal(p->exclude_last, 1);
    assert_int_equal(p->away_after_breaches, 0);
    assert_int_equal(sla_policy_select(&cfg->sla, NULL, NULL), 0);
    config_unref(cfg);

    /* Reasons without policies; an empty reminder list; hold written out. */
    cfg = load_ok("version: 1\nsla:\n  reject_reasons: [{id: a, action: recycle}]\n"
                  "  rejections_per_day: 10000\n  policies:\n"
                  "    - {name: x, accept_within: 30s, reminders: [], after_max_attempts: hold}\n");
    assert_int_equal(cfg->sla.n_reject_reasons, 1);
    assert_int_equal(cfg->sla.rejections_per_day, 10000);
    assert_int_equal(cfg->sla.policies[0].n_reminders, 0);
    assert_int_equal(cfg->sla.policies[0].after_max_attempts, SLA_FALLBACK_HOLD);
    assert_null(sla_reject_reason_find(&cfg->sla, "wrong_territory"));
    config_unref(cfg);
}

#define SLA_HEAD                                                                                   \
    "version: 1\n"                                                                                 \
    "reps:\n"                                                                                      \
    "  - id: anna\n"                                                                               \
    "pools:\n"                                                                                     \
    "  - {id: p, strategy: round_robin, members: [anna]}\n"                                        \
    "sla:\n"                                                                                       \
    "  policies:\n"

/* `policies` (from line 8) after SLA_HEAD. */
static void expect_policy_error(const char *policies, const char *prefix, const char *part)
{
    size_t size = sizeof(SLA_HEAD) + strlen(policies);
    char *yaml = malloc(size);
    snprintf(yaml, size, "%s%s", SLA_HEAD, policies);
    EXPECT_ERROR(yaml, prefix, part);
    free(yaml);
}

static void test_error_sla_policies(void **state)
{
    /* names */
    expect_policy_error("    - name: Hot\n      accept_within: 5m\n", "t.yaml:8:13: ",
                        "sla.policies[0].name: 'Hot' is not a valid policy name (lower-case "
                        "letters, digits, '_' and '-', at most 64 characters)");
    expect_policy_error("    - name: a.b\n      accept_within: 5m\n",
                        "t.yaml:8:13: ", "sla.policies[0].name: 'a.b' is not a valid policy name");
    expect_policy_error("    - name: "
                        "a23456789012345678901234567890123456789012345678901234567890123456\n"
                        "      accept_within: 5m\n",
                        "t.yaml:8:13: ", "is not a valid policy name");
    expect_policy_error("    - accept_within: 5m\n",
                        "t.yaml:8:7: ", "sla.policies[0]: missing required key 'name'");
    expect_policy_error("    - {name: ~, accept_within: 5m}\n",
                        "t.yaml:8:14: ", "sla.policies[0].name: required");
    expect_policy_error("    - {name: a, when: score > 1, accept_within: 5m}\n"
                        "    - {name: a, accept_within: 5m}\n",
                        "t.yaml:9:14: ",
                        "sla.policies[1].name: duplicate policy name 'a' (first defined at line "
                        "8)");

    /* `when`: only and always missing from the last */
    expect_policy_error("    - {name: a, accept_within: 5m}\n    - {name: b, accept_within: 5m}\n",
                        "t.yaml:9:7: ",
                        "sla.policies[1]: never reached: policies[0] before it has no `when` and "
                        "takes every lead; give that policy a `when` or move it to the end");
    expect_policy_error("    - {name: a, when: score > 1, accept_within: 5m}\n", "t.yaml:8:23: ",
                        "sla.policies[0].when: the last SLA policy must have no `when`: it is "
                        "the default that every other lead gets");
    expect_policy_error("    - {name: a, when: score > 1, accept_within: 5m}\n"
                        "    - {name: b, when: score > 2, accept_within: 5m}\n",
                        "t.yaml:9:23: ", "sla.policies[1].when: the last SLA policy must have");
    expect_policy_error(
        "    - {name: a, when: \"scor > 1\", accept_within: 5m}\n"
        "    - {name: b, accept_within: 5m}\n",
        "t.yaml:8:24: ", "sla.policies[0].when: unknown field 'scor'; did you mean 'score'?");
    expect_policy_error("    - name: a\n      when: score >=\n      accept_within: 5m\n"
                        "    - {name: b, accept_within: 5m}\n",
                        "t.yaml:9:21: ", "sla.policies[0].when: expected a value after '>='");
    expect_policy_error("    - {name: a, when: [x], accept_within: 5m}\n    - {name: b, "
                        "accept_within: 5m}\n",
                        "t.yaml:8:23: ", "sla.policies[0].when: expected a condition");

    /* windows */
    expect_policy_error("    - {name: a}\n",
                        "t.yaml:8:7: ", "sla.policies[0]: missing required key 'accept_within'");
    expect_policy_error("    - {name: a, accept_within: ~}\n",
                        "t.yaml:8:32: ", "sla.policies[0].accept_within: required");
    expect_policy_error("    - {name: a, accept_within: 0}\n", "t.yaml:8:32: ",
                        "sla.policies[0].accept_within: 0 is out of range (1s .. 30d)");
    expect_policy_error("    - {name: a, accept_within: 999ms}\n", "t.yaml:8:32: ",
                        "sla.policies[0].accept_within: 999ms is out of range (1s .. 30d)");
    expect_policy_error("    - {name: a, accept_within: 31d}\n", "t.yaml:8:32: ",
                        "sla.policies[0].accept_within: 31d is out of range (1s .. 30d)");
    expect_policy_error("    - {name: a, accept_within: soon}\n", "t.yaml:8:32: ",
                        "sla.policies[0].accept_within: expected a duration such as 30s, 500ms "
                        "or 5m");
    expect_policy_error(
        "    - {name: a, accept_within: 1m, contact_within: 91d}\n",
        "t.yaml:8:52: ", "sla.policies[0].contact_within: 91d is out of range (1s .. 90d)");
    expect_policy_error("    - {name: a, accept_within: 1m, contact_within: 0}\n", "t.yaml:8:52: ",
                        "sla.policies[0].contact_within: 0 is out of range (1s .. 90d)");
    expect_policy_error("    - {name: a, accept_within: 1m, clock: business}\n",
                        "t.yaml:8:43: ", "sla.policies[0].clock: expected wall or business_hours");

    /* reminders */
    expect_policy_error("    - {name: a, accept_within: 1m, reminders: 50%}\n", "t.yaml:8:47: ",
                        "sla.policies[0].reminders: expected a list such as [50%, 80%], not a "
                        "scalar");
    static const char *const bad_shares[] = {"0",    "0%",   "1",    "100%", "1.5",
                                             "-0.5", "abc",  "~",    "50 %", "\"%\"",
                                             "[1]",  "\"\"", "1e-1", "120%", "0.0"};
    for (size_t i = 0; i < sizeof(bad_shares) / sizeof(bad_shares[0]); i++) {
        char policy[128];
        snprintf(policy, sizeof(policy), "    - {name: a, accept_within: 1m, reminders: [%s]}\n",
                 bad_shares[i]);
        expect_policy_error(policy, "t.yaml:8:48: ",
                            "sla.policies[0].reminders[0]: expected a share of accept_within "
                            "greater than 0 and less than 1, such as 50% or 0.5");
    }
    expect_policy_error("    - {name: a, accept_within: 1m, reminders: [80%, 50%]}\n",
                        "t.yaml:8:53: ",
                        "sla.policies[0].reminders[1]: '50%' does not come after the reminder "
                        "before it; list reminders in ascending order, each once");
    expect_policy_error(
        "    - {name: a, accept_within: 1m, reminders: [50%, 0.5]}\n",
        "t.yaml:8:53: ", "sla.policies[0].reminders[1]: '0.5' does not come after the reminder");
    expect_policy_error(
        "    - {name: a, accept_within: 1m,\n"
        "       reminders: [10%, 20%, 30%, 40%, 50%, 60%, 70%, 80%, 90%]}\n",
        "t.yaml:9:60: ", "sla.policies[0].reminders: too many reminders (at most 8)");

    /* on_breach */
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: reassign}\n",
                        "t.yaml:8:47: ",
                        "sla.policies[0].on_breach: expected a list of remind, notify_manager and "
                        "reassign, not a scalar");
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: []}\n", "t.yaml:8:47: ",
                        "sla.policies[0].on_breach: empty; list what a breach does (remind, "
                        "notify_manager, reassign), or leave it out for [reassign]");
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: [remind, escalate]}\n",
                        "t.yaml:8:56: ",
                        "sla.policies[0].on_breach[1]: 'escalate' is not an action; expected "
                        "remind, notify_manager or reassign");
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: [Remind]}\n",
                        "t.yaml:8:48: ", "sla.policies[0].on_breach[0]: 'Remind' is not an action");
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: [~]}\n", "t.yaml:8:48: ",
                        "sla.policies[0].on_breach[0]: expected remind, notify_manager or "
                        "reassign");
    expect_policy_error("    - {name: a, accept_within: 1m, on_breach: [remind, reassign, "
                        "remind]}\n",
                        "t.yaml:8:66: ", "sla.policies[0].on_breach[2]: 'remind' is listed twice");

    /* attempts and what follows them */
    expect_policy_error("    - {name: a, accept_within: 1m, max_attempts: 0}\n", "t.yaml:8:50: ",
                        "sla.policies[0].max_attempts: 0 is out of range (1 .. 100)");
    expect_policy_error("    - {name: a, accept_within: 1m, max_attempts: 101}\n", "t.yaml:8:50: ",
                        "sla.policies[0].max_attempts: 101 is out of range (1 .. 100)");
    expect_policy_error("    - {name: a, accept_within: 1m, max_attempts: three}\n",
                        "t.yaml:8:50: ", "sla.policies[0].max_attempts: expected a whole number");
    expect_policy_error("    - {name: a, accept_within: 1m, exclude_last: 101}\n", "t.yaml:8:50: ",
                        "sla.policies[0].exclude_last: 101 is out of range (0 .. 100)");
    expect_policy_error(
        "    - {name: a, accept_within: 1m, away_after_breaches: 101}\n",
        "t.yaml:8:57: ", "sla.policies[0].away_after_breaches: 101 is out of range (0 .. 100)");
    expect_policy_error(
        "    - {name: a, accept_within: 1m, away_after_breaches: -1}\n",
        "t.yaml:8:57: ", "sla.policies[0].away_after_breaches: expected a whole number");
    expect_policy_error("    - {name: a, accept_within: 1m, after_max_attempts: pool:q}\n",
                        "t.yaml:8:56: ",
                        "sla.policies[0].after_max_attempts: no pool has the id 'q'; define it "
                        "under pools");
    expect_policy_error(
        "    - {name: a, accept_within: 1m, after_max_attempts: rep:bob}\n",
        "t.yaml:8:56: ", "sla.policies[0].after_max_attempts: no rep has the id 'bob'");
    expect_policy_error("    - {name: a, accept_within: 1m, after_max_attempts: owner}\n",
                        "t.yaml:8:56: ",
                        "sla.policies[0].after_max_attempts: 'owner' is not a target; expected "
                        "pool:ID, rep:ID, manager or hold");
    expect_policy_error("    - {name: a, accept_within: 1m, after_max_attempts: [hold]}\n",
                        "t.yaml:8:56: ",
                        "sla.policies[0].after_max_attempts: expected pool:ID, rep:ID, manager "
                        "or hold");

    /* shape */
    expect_policy_error("    - {name: a, accept_within: 1m, accept: 1m}\n", "t.yaml:8:36: ",
                        "unknown key 'accept' in sla.policies[0]; expected one of: name, when, "
                        "accept_within, contact_within, clock, reminders, on_breach, "
                        "max_attempts, after_max_attempts, exclude_last, away_after_breaches");
    expect_policy_error("    - standard\n", "t.yaml:8:7: ",
                        "sla.policies[0]: expected a mapping with name, when, accept_within, "
                        "..., not a scalar");
    expect_policy_error("    []\n", "t.yaml:8:5: ",
                        "sla.policies: at least one policy is required (leave policies out for "
                        "assignments without a clock)");
    expect_policy_error("    name: a\n", "t.yaml:8:5: ",
                        "sla.policies: expected a list of SLA policies, not a mapping");

    /* at most 100 policies */
    char *many = malloc(64 * 1024);
    size_t len = 0;
    for (int i = 0; i < 101; i++)
        len += (size_t)snprintf(many + len, 64 * 1024 - len,
                                "    - {name: p%d, when: score > %d, accept_within: 1m}\n", i, i);
    expect_policy_error(many, "t.yaml:108:7: ", "too many SLA policies (at most 100)");
    free(many);
}

static void test_error_sla_section(void **state)
{
    EXPECT_ERROR("version: 1\nsla: [a]\n", "t.yaml:2:6: ",
                 "sla: expected a mapping with policies, reject_reasons, ..., not a list");
    EXPECT_ERROR("version: 1\nsla:\n  policy: []\n", "t.yaml:3:3: ",
                 "unknown key 'policy' in sla; expected one of: policies, reject_reasons, "
                 "rejections_per_day");
    EXPECT_ERROR("version: 1\nsla:\n  rejections_per_day: 10001\n",
                 "t.yaml:3:23: ", "sla.rejections_per_day: 10001 is out of range (0 .. 10000)");
    EXPECT_ERROR("version: 1\nsla:\n  rejections_per_day: -1\n",
                 "t.yaml:3:23: ", "sla.rejections_per_day: expected a whole number");

    /* reject reasons */
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons: []\n", "t.yaml:3:19: ",
                 "sla.reject_reasons: empty; list at least one reason, or leave reject_reasons "
                 "out for the built-in ones");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons: spam\n", "t.yaml:3:19: ",
                 "sla.reject_reasons: expected a list of reject reasons, not a scalar");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons: [spam]\n", "t.yaml:3:20: ",
                 "sla.reject_reasons[0]: expected a mapping with id, label and action, not a "
                 "scalar");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {label: Spam, action: disqualify}\n",
                 "t.yaml:4:7: ", "sla.reject_reasons[0]: missing required key 'id'");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: Spam, action: disqualify}\n",
                 "t.yaml:4:12: ",
                 "sla.reject_reasons[0].id: 'Spam' is not a valid reason id (lower-case "
                 "letters, digits and '_', at most 64 characters)");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: not-a-fit, action: recycle}\n",
                 "t.yaml:4:12: ", "sla.reject_reasons[0].id: 'not-a-fit' is not a valid reason id");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: "
                 "a234567890123456789012345678901234567890123456789012345678901234, action: "
                 "recycle}\n    - {id: "
                 "a2345678901234567890123456789012345678901234567890123456789012345, action: "
                 "recycle}\n",
                 "t.yaml:5:12: ", "sla.reject_reasons[1].id: 'a23456789");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: spam, action: disqualify}\n"
                 "    - {id: spam, action: recycle}\n",
                 "t.yaml:5:12: ",
                 "sla.reject_reasons[1].id: duplicate reject reason id 'spam' (first defined at "
                 "line 4)");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: spam}\n",
                 "t.yaml:4:7: ", "sla.reject_reasons[0]: missing required key 'action'");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: spam, action: drop}\n",
                 "t.yaml:4:26: ",
                 "sla.reject_reasons[0].action: expected reroute, recycle or "
                 "disqualify");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: spam, label: \"\", action: "
                 "recycle}\n",
                 "t.yaml:4:25: ", "sla.reject_reasons[0].label: must not be empty");
    EXPECT_ERROR("version: 1\nsla:\n  reject_reasons:\n    - {id: spam, colour: red, action: "
                 "recycle}\n",
                 "t.yaml:4:18: ",
                 "unknown key 'colour' in sla.reject_reasons[0]; expected one of: id, label, "
                 "action");
    char yaml[1024], label[256];
    memset(label, 'x', 201);
    label[201] = '\0';
    snprintf(yaml, sizeof(yaml),
             "version: 1\nsla:\n  reject_reasons:\n    - id: spam\n      label: %s\n"
             "      action: recycle\n",
             label);
    EXPECT_ERROR(yaml,
                 "t.yaml:5:14: ", "sla.reject_reasons[0].label: too long (at most 200 characters)");
    label[200] = '\0';
    snprintf(yaml, sizeof(yaml),
             "version: 1\nsla:\n  reject_reasons:\n    - id: spam\n      label: %s\n"
             "      action: recycle\n",
             label);
    struct config *cfg = load_ok(yaml);
    assert_int_equal(strlen(cfg->sla.reject_reasons[0].label), 200);
    config_unref(cfg);

    /* at most 100 reasons */
    char *many = malloc(64 * 1024);
    size_t len = (size_t)snprintf(many, 64 * 1024, "version: 1\nsla:\n  reject_reasons:\n");
    for (int i = 0; i < 101; i++)
        len +=
            (size_t)snprintf(many + len, 64 * 1024 - len, "    - {id: r%d, action: recycle}\n", i);
    EXPECT_ERROR(many, "t.yaml:104:7: ", "too many reject reasons (at most 100)");
    free(many);
}

static void test_refcount_and_holder_swap(void **state)
{
    struct config *first = load_ok("version: 1\nserver:\n  listen: 127.0.0.1:1111\n");
    struct config *second = load_ok("version: 1\nserver:\n  listen: 127.0.0.1:2222\n");
    config_unref(NULL);

    assert_ptr_equal(config_ref(first), first);
    assert_int_equal(first->refs, 2);
    config_unref(first);
    assert_int_equal(first->refs, 1);

    /* The holder keeps a second reference: the snapshot it started with. */
    struct config_holder *h = config_holder_new(first);
    struct config *in_use = config_holder_get(h);
    assert_ptr_equal(in_use, first);
    assert_int_equal(first->refs, 3);

    /* A request still holds the old snapshot across the swap; it stays valid. */
    config_holder_swap(h, second);
    assert_int_equal(in_use->refs, 2);
    assert_string_equal(in_use->listen, "127.0.0.1:1111");
    struct config *now = config_holder_get(h);
    assert_ptr_equal(now, second);
    assert_string_equal(now->listen, "127.0.0.1:2222");
    config_unref(in_use);
    assert_int_equal(first->refs, 1);
    config_unref(now);
    assert_int_equal(second->refs, 1);
    config_holder_free(h); /* both freed here (ASan checks) */
}

static void test_version_hash(void **state)
{
    struct config *a = load_ok("version: 1\n");
    struct config *b = load_ok("version: 1\n");
    struct config *c = load_ok("version: 1\n# a comment changes the bytes\n");
    assert_string_equal(a->version, b->version);
    assert_string_not_equal(a->version, c->version);
    /* The first 8 bytes of SHA-256("version: 1\n"), as from sha256sum. */
    assert_string_equal(a->version, "09bfcc6a14b83e21");
    struct config *full = load_ok(full_yaml);
    assert_string_not_equal(a->version, full->version);
    config_unref(a);
    config_unref(b);
    config_unref(c);
    config_unref(full);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, full_yaml, strlen(full_yaml)), (ssize_t)strlen(full_yaml));
    close(fd);

    struct config *cfg = NULL;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(config_load(path, &cfg, &err), BT_OK);
    assert_string_equal(cfg->path, path);
    struct config *same = load_ok(full_yaml);
    assert_string_equal(cfg->version, same->version);
    assert_int_equal(cfg->n_reps, 2);
    config_unref(same);
    config_unref(cfg);

    /* Errors name the path given. */
    FILE *f = fopen(path, "w");
    fputs("version: 1\nbogus: 1\n", f);
    fclose(f);
    assert_int_equal(config_load(path, &cfg, &err), BT_ECONFIG);
    assert_null(cfg);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s:2:1: unknown key 'bogus'", path);
    assert_int_equal(strncmp(err.message, prefix, strlen(prefix)), 0);
    unlink(path);
}

static void test_load_missing_file(void **state)
{
    const char *path = "/nonexistent-baton-dir/baton.yaml";
    struct config *cfg = (struct config *)1;
    struct bt_error err = BT_ERROR_INIT;
    assert_int_equal(config_load(path, &cfg, &err), BT_EIO);
    assert_int_equal(err.code, BT_EIO);
    assert_null(cfg);
    assert_non_null(strstr(err.message, path));

    /* A directory cannot be read as a file. */
    assert_int_equal(config_load("/tmp", &cfg, &err), BT_EIO);
    assert_non_null(strstr(err.message, "/tmp"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config_values),
        cmocka_unit_test(test_defaults_when_sections_missing),
        cmocka_unit_test(test_null_sections_and_values_mean_defaults),
        cmocka_unit_test(test_size_and_duration_forms),
        cmocka_unit_test(test_quoted_scalars),
        cmocka_unit_test(test_error_yaml_syntax),
        cmocka_unit_test(test_error_unknown_key_top_level),
        cmocka_unit_test(test_error_unknown_key_nested),
        cmocka_unit_test(test_error_duplicate_key),
        cmocka_unit_test(test_error_wrong_type),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_error_bad_duration),
        cmocka_unit_test(test_error_bad_size),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_public_url),
        cmocka_unit_test(test_reports_lost_lead_value),
        cmocka_unit_test(test_error_public_url),
        cmocka_unit_test(test_error_duplicate_rep_id),
        cmocka_unit_test(test_error_team_unknown_manager),
        cmocka_unit_test(test_error_rep_unknown_team),
        cmocka_unit_test(test_error_bad_timezone),
        cmocka_unit_test(test_error_version),
        cmocka_unit_test(test_error_empty_file),
        cmocka_unit_test(test_error_yaml_features_refused),
        cmocka_unit_test(test_error_invalid_utf8),
        cmocka_unit_test(test_error_limits),
        cmocka_unit_test(test_scoring_defaults),
        cmocka_unit_test(test_scoring_values),
        cmocka_unit_test(test_scoring_rules_evaluate),
        cmocka_unit_test(test_error_rule_syntax_points_at_character),
        cmocka_unit_test(test_error_rule_unknown_field),
        cmocka_unit_test(test_error_rule_values),
        cmocka_unit_test(test_error_scoring_unknown_keys),
        cmocka_unit_test(test_error_engagement_decay),
        cmocka_unit_test(test_error_duplicate_rule_names),
        cmocka_unit_test(test_error_caps),
        cmocka_unit_test(test_rate_limit_values),
        cmocka_unit_test(test_error_rate_limit),
        cmocka_unit_test(test_error_range_and_grades),
        cmocka_unit_test(test_error_scoring_limits),
        cmocka_unit_test(test_sla_values),
        cmocka_unit_test(test_sla_policy_selected),
        cmocka_unit_test(test_sla_defaults),
        cmocka_unit_test(test_error_sla_policies),
        cmocka_unit_test(test_error_sla_section),
        cmocka_unit_test(test_refcount_and_holder_swap),
        cmocka_unit_test(test_version_hash),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
