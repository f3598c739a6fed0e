/*
 * cli_common.c - helpers shared by the subcommands: messages, reading an
 * input file, and the lead of the dry runs (`baton score`, `baton route`),
 * parsed and normalised exactly as POST /v1/leads and POST /v1/activities
 * do, so that a dry run sees the lead the daemon would see.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "server/intake_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OWNER_MAX 64 /* a rep id (config_rep.id) */

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "baton %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

char *cli_read_file(const char *cmd, const char *path, size_t max, size_t *len)
{
    bool use_stdin = strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error(cmd, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0, got;
    char *buf = xmalloc(cap + 1);
    bool too_big = false;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > max) {
            too_big = true;
            break;
        }
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    bool failed = !too_big && ferror(f);
    if (!use_stdin)
        fclose(f);
    if (too_big || failed) {
        if (too_big)
            cli_error(cmd, "%s is larger than %zu bytes", use_stdin ? "standard input" : path, max);
        else
            cli_error(cmd, "cannot read %s", use_stdin ? "standard input" : path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *dump_any(struct arena *a, const json_t *v, size_t flags)
{
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
    char *copy = arena_strdup(a, s ? s : "null");
    free(s);
    return copy;
}

/* A rep id: [a-z0-9][a-z0-9_.-]*, at most OWNER_MAX bytes. */
static bool rep_id_shaped(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OWNER_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '_' || c == '.' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

/* Splits the input into the lead's JSON text, the activities body, the stage
 * and the owner. */
static bt_err split_input(const char *text, size_t len, struct arena *a, char **lead_text,
                          char **acts_text, const char **stage, const char **owner,
                          struct bt_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return bt_fail(err, BT_EPARSE, NULL, "malformed JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    json_t *lead = json_is_object(root) ? json_object_get(root, "lead") : NULL;
    bt_err rc = BT_OK;
    if (!lead) {
        *lead_text = dump_any(a, root, JSON_COMPACT);
        json_decref(root);
        return BT_OK;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "lead")) {
            *lead_text = dump_any(a, v, JSON_COMPACT);
        } else if (!strcmp(key, "activities")) {
            json_t *wrap = json_pack("{s:O}", "activities", v);
            *acts_text = dump_any(a, wrap, JSON_COMPACT);
            json_decref(wrap);
        } else if (!strcmp(key, "stage")) {
            enum lead_stage st;
            if (!json_is_string(v) || !stage_parse(json_string_value(v), &st)) {
                rc = bt_fail(err, BT_EINVAL, "stage", "stage must be a lifecycle stage name");
                break;
            }
            *stage = stage_name(st);
        } else if (!strcmp(key, "owner")) {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v) || !rep_id_shaped(json_string_value(v))) {
                rc = bt_fail(err, BT_EINVAL, "owner",
                             "owner must be a rep id such as \"luca.romano\" (or null)");
                break;
            }
            *owner = arena_strdup(a, json_string_value(v));
        } else {
            rc = bt_fail(err, BT_EINVAL, key,
                         "unknown key '%.64s'; expected lead, activities, stage and owner", key);
            break;
        }
    }
    json_decref(root);
    return rc;
}

bt_err cli_lead_parse(const struct config *cfg, const char *text, size_t len, int64_t now,
                      struct arena *a, struct cli_lead *out, struct bt_error *err)
{
    char *lead_text = NULL, *acts_text = NULL;
    const char *stage = "new", *owner = NULL;
    struct lead_input in;
    struct activity_item *items = NULL;
    size_t n_items = 0;
    memset(out, 0, sizeof(*out));
    bt_err rc;
    if ((rc = split_input(text, len, a, &lead_text, &acts_text, &stage, &owner, err)) ||
        (rc = intake_parse_json(lead_text, strlen(lead_text), a, &in, err)) ||
        (rc = normalize_lead(&in, cfg->freemail, a, &out->lead, &out->report, err)))
        return rc;
    if (acts_text && (rc = intake_parse_activities(acts_text, strlen(acts_text), false, now,
                                                   cfg->freemail, a, &items, &n_items, err)))
        return rc;
    out->lead.attr[LEAD_STAGE] = stage;
    out->lead.attr[LEAD_OWNER] = owner;
    out->lead.created_at = out->lead.updated_at = now;
    out->acts = arena_alloc(a, sizeof(*out->acts) * (n_items ? n_items : 1));
    if (!out->acts)
        return bt_fail(err, BT_ETOOBIG, NULL, "the input is too large");
    for (size_t i = 0; i < n_items; i++)
        out->acts[i] = items[i].act;
    out->n_acts = n_items;
    return BT_OK;
}

json_t *cli_warnings_json(const struct normalize_report *report)
{
    json_t *warnings = json_array();
    for (size_t i = 0; i < report->count; i++)
        json_array_append_new(warnings, json_pack("{s:s, s:s}", "field", report->warnings[i].field,
                                                  "message", report->warnings[i].message));
    return warnings;
}
