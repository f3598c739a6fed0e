/*
 * test_account_csv.c - the CSV reader of account imports and the checks an
 * account passes (account_csv.h): quoting, line breaks inside cells, BOM,
 * CRLF, custom fields, derived ids, and every error with the line it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/account_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 64

/* A copy of what the callback saw. */
struct seen {
    size_t line;
    bt_err rc;
    char message[BT_ERROR_MESSAGE_MAX];
    char field[BT_ERROR_FIELD_MAX];
    char id[ACCOUNT_ID_MAX + 1];
    char name[ACCOUNT_NAME_MAX + 1];
    char domains[512]; /* joined with '|' */
    char website[256], country[8], owner[ACCOUNT_OWNER_MAX + 1];
    char fields[1024];
    bool derived;
};

struct collect {
    struct seen rows[ROWS_MAX];
    size_t n;
    size_t stop_after; /* 0: never */
    size_t last_offset;
};

static void copy(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : "");
}

static bt_err on_row(void *cls, const struct account_csv_row *row, struct bt_error *err)
{
    struct collect *c = cls;
    assert_true(c->n < ROWS_MAX);
    assert_true(row->offset >= c->last_offset);
    c->last_offset = row->offset;
    struct seen *s = &c->rows[c->n++];
    s->line = row->line;
    s->rc = row->rc;
    copy(s->message, sizeof(s->message), row->err.message);
    copy(s->field, sizeof(s->field), row->err.field);
    if (!row->rc) {
        const struct account *a = &row->account;
        copy(s->id, sizeof(s->id), a->id);
        copy(s->name, sizeof(s->name), a->name);
        for (size_t i = 0; i < a->n_domains; i++) {
            size_t used = strlen(s->domains);
            snprintf(s->domains + used, sizeof(s->domains) - used, "%s%s", i ? "|" : "",
                     a->domains[i]);
        }
        copy(s->website, sizeof(s->website), a->website);
        copy(s->country, sizeof(s->country), a->country);
        copy(s->owner, sizeof(s->owner), a->owner);
        copy(s->fields, sizeof(s->fields), row->fields_json);
        s->derived = row->id_derived;
    }
    if (c->stop_after && c->n == c->stop_after)
        return bt_fail(err, BT_ESTORE, NULL, "stopped by the callback");
    return BT_OK;
}

static bt_err parse(const char *text, struct collect *c, struct bt_error *err)
{
    memset(c, 0, sizeof(*c));
    return account_csv_parse(text, strlen(text), on_row, c, err);
}

/* Parses text that must parse, returning the collected rows. */
static struct collect *parse_ok(const char *text)
{
    static struct collect c;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = parse(text, &c, &err);
    if (rc)
        fail_msg("parse failed: %s", err.message);
    return &c;
}

/* Parses text with one data row that must be invalid; returns its message. */
static const struct seen *bad_row(const char *text)
{
    struct collect *c = parse_ok(text);
    assert_int_equal(c->n, 1);
    if (c->rows[0].rc == BT_OK)
        fail_msg("expected an invalid row in:\n%s", text);
    return &c->rows[0];
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void test_basic_columns_and_custom_fields(void **state)
{
    (void)state;
    struct collect *c = parse_ok("id,name,domains,website,country,owner,Tier,segment\n"
                                 "acme-1,Acme Inc.,acme.com;acme.de,https://www.acme.com/about,"
                                 "Germany,alice,gold,enterprise\n"
                                 "nw,Northwind,,,,,,\n");
    assert_int_equal(c->n, 2);
    const struct seen *a = &c->rows[0];
    assert_int_equal(a->rc, BT_OK);
    assert_int_equal(a->line, 2);
    assert_string_equal(a->id, "acme-1");
    assert_false(a->derived);
    assert_string_equal(a->name, "Acme Inc.");
    assert_string_equal(a->domains, "acme.com|acme.de");
    assert_string_equal(a->website, "https://www.acme.com/about");
    assert_string_equal(a->country, "DE");
    assert_string_equal(a->owner, "alice");
    assert_string_equal(a->fields, "{\"Tier\":\"gold\",\"segment\":\"enterprise\"}");
    const struct seen *b = &c->rows[1];
    assert_int_equal(b->rc, BT_OK);
    assert_int_equal(b->line, 3);
    assert_string_equal(b->name, "Northwind");
    assert_string_equal(b->domains, "");
    assert_string_equal(b->fields, "{}");
}

static void test_quoting(void **state)
{
    (void)state;
    struct collect *c = parse_ok("name,domains,note\n"
                                 "\"Acme, Inc.\",\"acme.com, acme.io\",\"the \"\"best\"\" one\"\n"
                                 "  Spaced Out  ,  spaced.com  ,\" kept \"\n");
    assert_int_equal(c->n, 2);
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_string_equal(c->rows[0].name, "Acme, Inc.");
    assert_string_equal(c->rows[0].domains, "acme.com|acme.io");
    assert_string_equal(c->rows[0].fields, "{\"note\":\"the \\\"best\\\" one\"}");
    assert_string_equal(c->rows[1].name, "Spaced Out");
    assert_string_equal(c->rows[1].domains, "spaced.com");
    assert_string_equal(c->rows[1].fields, "{\"note\":\"kept\"}");
}

static void test_embedded_newlines_keep_line_numbers(void **state)
{
    (void)state;
    struct collect *c = parse_ok("name,domains,note\n"
                                 "Acme,acme.com,\"line one\nline two\nline three\"\n"
                                 "Beta,beta.com,x\n"
                                 "\n"
                                 "Gamma,gamma..com,x\n");
    assert_int_equal(c->n, 3);
    assert_int_equal(c->rows[0].line, 2);
    assert_string_equal(c->rows[0].fields, "{\"note\":\"line one\\nline two\\nline three\"}");
    assert_int_equal(c->rows[1].line, 5);
    assert_int_equal(c->rows[2].line, 7);
    assert_int_equal(c->rows[2].rc, BT_EINVAL);
    assert_contains(c->rows[2].message, "line 7: domains: 'gamma..com' is not a domain name");
}

static void test_bom_crlf_and_cr(void **state)
{
    (void)state;
    struct collect *c =
        parse_ok("\xEF\xBB\xBFName,Domain\r\nAcme,acme.com\r\n\r\nBeta,beta.com\r\n");
    assert_int_equal(c->n, 2);
    assert_string_equal(c->rows[0].name, "Acme");
    assert_string_equal(c->rows[0].domains, "acme.com");
    assert_int_equal(c->rows[1].line, 4);
    assert_string_equal(c->rows[1].name, "Beta");

    c = parse_ok("name\rAcme\rBeta\r");
    assert_int_equal(c->n, 2);
    assert_int_equal(c->rows[1].line, 3);
    assert_string_equal(c->rows[1].name, "Beta");

    /* no line break at the end of the last row */
    c = parse_ok("name,domains\nAcme,acme.com");
    assert_int_equal(c->n, 1);
    assert_string_equal(c->rows[0].domains, "acme.com");
}

static void test_header_is_case_insensitive(void **state)
{
    (void)state;
    struct collect *c = parse_ok("  ID , NAME ,Domains,WebSite,COUNTRY,Owner\n"
                                 "x1,Acme,acme.com,acme.com,us,bob\n");
    assert_int_equal(c->n, 1);
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_string_equal(c->rows[0].id, "x1");
    assert_string_equal(c->rows[0].country, "US");
    assert_string_equal(c->rows[0].owner, "bob");
}

static void test_domains_split_normalised_deduplicated(void **state)
{
    (void)state;
    struct collect *c = parse_ok("name,domains\n"
                                 "Acme,\"https://www.Acme.com/x; acme.de  ACME.com,acme.io\"\n");
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_string_equal(c->rows[0].domains, "acme.com|acme.de|acme.io");
}

static void test_derived_ids(void **state)
{
    (void)state;
    struct collect *c = parse_ok("id,name,domains,website\n"
                                 ",Acme,acme.com;acme.de,\n"
                                 ",Beta,,https://www.beta.io/home\n"
                                 ",ACME Corp.,,\n"
                                 ",Gamma Inc,,\n");
    assert_int_equal(c->n, 4);
    assert_string_equal(c->rows[0].id, "acme.com");
    assert_true(c->rows[0].derived);
    assert_string_equal(c->rows[1].id, "beta.io");
    assert_true(strncmp(c->rows[2].id, "name-", 5) == 0);
    assert_int_equal(strlen(c->rows[2].id), 5 + 16);
    assert_true(strncmp(c->rows[3].id, "name-", 5) == 0);
    assert_string_not_equal(c->rows[2].id, c->rows[3].id);

    /* the same name in another spelling gives the same id: a repeat */
    c = parse_ok("name\nACME Corp.\nAcme\n");
    assert_int_equal(c->n, 2);
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_int_equal(c->rows[1].rc, BT_EINVAL);
    assert_contains(c->rows[1].message, "line 3: id 'name-");
    assert_contains(c->rows[1].message, "is already used by line 2 (ids are derived");
}

static void test_repeated_id(void **state)
{
    (void)state;
    struct collect *c = parse_ok("id,name\na,Acme\nb,Beta\na,Again\n");
    assert_int_equal(c->n, 3);
    assert_int_equal(c->rows[2].rc, BT_EINVAL);
    assert_string_equal(c->rows[2].message, "line 4: id 'a' is already used by line 2");
    assert_string_equal(c->rows[2].field, "id");
}

static void test_blank_rows_skipped(void **state)
{
    (void)state;
    struct collect *c = parse_ok("\n\nname,domains\n,\n  ,  \n\"\",\"\"\nAcme,acme.com\n");
    assert_int_equal(c->n, 1);
    assert_int_equal(c->rows[0].line, 7);
}

static void test_header_only(void **state)
{
    (void)state;
    struct collect *c = parse_ok("name,domains\n");
    assert_int_equal(c->n, 0);
}

static void test_row_errors_name_line_and_column(void **state)
{
    (void)state;
    const struct seen *s;

    s = bad_row("name,domains\nAcme,acme.com,extra\n");
    assert_string_equal(s->message, "line 2: the row has 3 cells but the header only 2 columns");

    s = bad_row("name,domains\nAc\xFF me,acme.com\n");
    assert_contains(s->message, "line 2: column 1 ('name') is not valid UTF-8");
    assert_string_equal(s->field, "name");

    s = bad_row("Company Name,domains,Note\nAcme,acme.com,\"bad \xC3\x28\"\n");
    assert_contains(s->message, "line 2: column 3 ('Note') is not valid UTF-8");

    char text[1024];
    char name[ACCOUNT_NAME_MAX + 2];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(text, sizeof(text), "name\n%s\n", name);
    s = bad_row(text);
    assert_string_equal(s->message, "line 2: name: longer than 256 bytes");

    s = bad_row("name,Domain\nAcme,acme..com\n");
    assert_contains(s->message, "line 2: domains: 'acme..com' is not a domain name");
    assert_string_equal(s->field, "Domain");

    s = bad_row("name,domains\nAcme,co.uk\n");
    assert_contains(s->message, "line 2: domains: 'co.uk' is a public suffix");

    s = bad_row("name,website\nAcme,http://\n");
    assert_contains(s->message, "line 2: website: 'http://' is not a domain name");

    s = bad_row("name,country\nAcme,Atlantis\n");
    assert_string_equal(s->message, "line 2: country: unknown country 'Atlantis'");
    assert_string_equal(s->field, "country");

    s = bad_row("name,owner\nAcme,Jane Doe\n");
    assert_contains(s->message, "line 2: owner: 'Jane Doe' is not a rep id");

    s = bad_row("id,name\nacme/1,Acme\n");
    assert_contains(s->message, "line 2: id: 'acme/1' is not a valid id");

    s = bad_row("id,name,domains\nx,,\n");
    assert_contains(s->message, "line 2: name: an account needs a name, a domain or a website");

    s = bad_row("name,,domains\nAcme,oops,acme.com\n");
    assert_string_equal(s->message, "line 2: column 2 has a value but no name in the header");

    /* a line break separates domains like a space does */
    struct collect *c = parse_ok("name,domains\nAcme,\"acme.com\nbeta.com\"\n");
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_string_equal(c->rows[0].domains, "acme.com|beta.com");

    s = bad_row("name\n\"Ac\nme\"\n");
    assert_string_equal(s->message, "line 2: name: contains a line break or a control character");

    s = bad_row("name,domains\nAcme,\"a\x01.com\"\n");
    assert_contains(s->message, "line 2: domains:");

    char many[4096] = "name,domains\nAcme,";
    for (int i = 0; i < ACCOUNT_DOMAINS_MAX + 1; i++) {
        size_t used = strlen(many);
        snprintf(many + used, sizeof(many) - used, "d%d.com;", i);
    }
    strcat(many, "\n");
    s = bad_row(many);
    assert_string_equal(s->message, "line 2: domains: more than 64 domains");
}

static void test_invalid_rows_do_not_stop_the_parse(void **state)
{
    (void)state;
    struct collect *c = parse_ok("name,country\nAcme,DE\nBeta,Nowhere\nGamma,FR\n");
    assert_int_equal(c->n, 3);
    assert_int_equal(c->rows[0].rc, BT_OK);
    assert_int_equal(c->rows[1].rc, BT_EINVAL);
    assert_int_equal(c->rows[2].rc, BT_OK);
    assert_string_equal(c->rows[2].country, "FR");
}

static void test_fatal_errors(void **state)
{
    (void)state;
    struct collect c;
    struct bt_error err = BT_ERROR_INIT;

    assert_int_equal(parse("", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 1: the file is empty");
    assert_int_equal(parse("\xEF\xBB\xBF\n\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "the file is empty");

    assert_int_equal(parse("id,country,owner\nx,DE,bob\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 1: the header needs a name, domains or website column");
    assert_int_equal(c.n, 0);

    assert_int_equal(parse("\nname,Name\n", &c, &err), BT_EINVAL);
    assert_string_equal(err.message, "line 2: column 'Name' appears twice");

    assert_int_equal(parse("name,domain,domains\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 1: column 'domains' repeats another");

    assert_int_equal(parse("name,tier,Tier\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "column 'Tier' appears twice");

    assert_int_equal(parse("na\xFFme\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 1: the header's column 1 is not valid UTF-8");

    assert_int_equal(parse("name\nAcme\nBe\"ta\nGamma\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 3: malformed CSV");
    assert_int_equal(c.n, 1);

    assert_int_equal(parse("name\nAcme\n\"Beta\"x\n", &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 3: malformed CSV");

    assert_int_equal(parse("name,note\nAcme,x\nBeta,\"open\nand on\nand on\n", &c, &err),
                     BT_EINVAL);
    assert_string_equal(err.message, "line 3: a quoted cell is never closed (a '\"' is missing)");

    char header[4096] = "name";
    for (int i = 0; i < ACCOUNT_FIELDS_MAX_KEYS + 1; i++) {
        size_t used = strlen(header);
        snprintf(header + used, sizeof(header) - used, ",f%d", i);
    }
    strcat(header, "\n");
    assert_int_equal(parse(header, &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 1: more than 64 custom-field columns");

    size_t big = ACCOUNT_CSV_CELL_MAX + 100;
    char *text = malloc(big + 32);
    strcpy(text, "name\nAcme\n\"");
    size_t used = strlen(text);
    memset(text + used, 'x', big);
    text[used + big] = '\0';
    assert_int_equal(parse(text, &c, &err), BT_EINVAL);
    assert_contains(err.message, "line 3: a cell is longer than 65536 bytes");
    free(text);
}

static void test_callback_stops_the_parse(void **state)
{
    (void)state;
    struct collect c;
    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    struct bt_error err = BT_ERROR_INIT;
    const char *text = "name\nA\nB\nC\nD\n";
    assert_int_equal(account_csv_parse(text, strlen(text), on_row, &c, &err), BT_ESTORE);
    assert_string_equal(err.message, "stopped by the callback");
    assert_int_equal(c.n, 2);
}

static void test_normalize_from_json_values(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct account out;
    const char *fields;
    struct bt_error err = BT_ERROR_INIT;
    const char *domains[] = {"Acme.com", " ", "acme.com"};
    json_t *f = json_pack("{s:i, s:b, s:n, s:s}", "seats", 40, "vip", 1, "none", "z", "last");
    struct account_input in = {
        .name = " Acme ", .domains = domains, .n_domains = 3, .country = "usa", .fields = f};
    assert_int_equal(account_input_normalize(&in, &a, &out, &fields, &err), BT_OK);
    assert_string_equal(out.id, "acme.com");
    assert_string_equal(out.name, "Acme");
    assert_int_equal(out.n_domains, 1);
    assert_string_equal(out.country, "US");
    assert_string_equal(fields, "{\"none\":null,\"seats\":40,\"vip\":true,\"z\":\"last\"}");
    json_decref(f);

    f = json_pack("{s:[i]}", "list", 1);
    in.fields = f;
    assert_int_equal(account_input_normalize(&in, &a, &out, &fields, &err), BT_EINVAL);
    assert_string_equal(err.field, "fields");
    assert_contains(err.message, "must be a string, number, boolean or null");
    json_decref(f);

    /* the index accepts whatever the checks let through */
    in.fields = NULL;
    assert_int_equal(account_input_normalize(&in, &a, &out, &fields, &err), BT_OK);
    struct account_index *ix = NULL;
    assert_int_equal(account_index_new(&out, 1, NULL, &ix, &err), BT_OK);
    account_index_free(ix);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_columns_and_custom_fields),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_embedded_newlines_keep_line_numbers),
        cmocka_unit_test(test_bom_crlf_and_cr),
        cmocka_unit_test(test_header_is_case_insensitive),
        cmocka_unit_test(test_domains_split_normalised_deduplicated),
        cmocka_unit_test(test_derived_ids),
        cmocka_unit_test(test_repeated_id),
        cmocka_unit_test(test_blank_rows_skipped),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_row_errors_name_line_and_column),
        cmocka_unit_test(test_invalid_rows_do_not_stop_the_parse),
        cmocka_unit_test(test_fatal_errors),
        cmocka_unit_test(test_callback_stops_the_parse),
        cmocka_unit_test(test_normalize_from_json_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
