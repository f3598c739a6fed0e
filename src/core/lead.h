/*
 * lead.h - what a lead is, as the core sees it.
 *
 * A lead's text attributes live in one array indexed by `enum lead_attr`, so
 * that parsing, normalisation, merging, storage and JSON output walk the same
 * table instead of repeating twenty field names in five places. The table
 * `lead_attrs[]` says, for each attribute, its JSON/SQL name, its maximum
 * length, and whether a client may send it (input) or Baton derives it.
 *
 * Strings in a `struct lead` are not owned by it: they live in the arena of
 * the request or command that built the lead.
 */
#ifndef BT_CORE_LEAD_H
#define BT_CORE_LEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lead_attr {
    /* sent by clients */
    LEAD_EXTERNAL_ID,
    LEAD_EMAIL,
    LEAD_FIRST_NAME,
    LEAD_LAST_NAME,
    LEAD_COMPANY,
    LEAD_TITLE,
    LEAD_PHONE,
    LEAD_WEBSITE,
    LEAD_COUNTRY,
    LEAD_STATE,
    LEAD_CITY,
    LEAD_INDUSTRY,
    LEAD_SOURCE,
    /* derived by normalisation */
    LEAD_EMAIL_DOMAIN,
    LEAD_WEBSITE_DOMAIN,
    LEAD_COUNTRY_INPUT, /* the raw country when it could not be recognised */
    LEAD_EMPLOYEES_BAND,
    /* lifecycle, set by the engine */
    LEAD_STAGE,
    LEAD_OWNER,
    LEAD_ATTR_COUNT
};

#define LEAD_INPUT_ATTR_COUNT (LEAD_SOURCE + 1)

struct lead_attr_spec {
    const char *name; /* JSON key and column name */
    size_t max_len;   /* in bytes, after trimming */
    bool input;       /* clients may send it */
};

extern const struct lead_attr_spec lead_attrs[LEAD_ATTR_COUNT];

/* Index of the attribute called `name`, or -1. */
int lead_attr_find(const char *name);

#define LEAD_FIELDS_MAX_BYTES  16384 /* serialised custom fields */
#define LEAD_FIELDS_MAX_KEYS   64
#define LEAD_FIELD_KEY_MAX     64
#define LEAD_EMPLOYEES_RAW_MAX 64

/*
 * A lead as a client sent it: raw strings (NULL when absent), not yet trimmed
 * or checked beyond being valid UTF-8 without control characters.
 */
struct lead_input {
    const char *attr[LEAD_INPUT_ATTR_COUNT];
    const char *employees;      /* "1,200", "1k-5k", "250"; NULL when absent */
    const char *employees_sent; /* a JSON number that was not whole, as sent ("1.5");
                                   `employees` is it rounded ("2"); else NULL */
    const char *fields_json;    /* a JSON object, compact; NULL when absent */
};

/* The last computed score of a lead (see core/score.h for how). */
struct lead_score {
    bool scored; /* false until the first scoring */
    double total, fit, engagement;
    char grade[3];            /* "A1" */
    const char *reasons_json; /* a JSON array of reasons */
    int64_t scored_at;        /* ms */
    int64_t rescore_at;       /* when decay will change it; 0 = never */
};

/* A normalised lead, stored or about to be. */
struct lead {
    int64_t id; /* 0 until stored */
    const char *attr[LEAD_ATTR_COUNT];
    bool email_free;
    int64_t employees;       /* -1 when unknown */
    const char *fields_json; /* a JSON object, never NULL once normalised */
    int64_t created_at;      /* milliseconds since the Unix epoch, UTC */
    int64_t updated_at;
    struct lead_score score;
    /* The account the lead matched (core/account_match.h), or NULL; and how,
     * as a JSON object ({"kind":"domain","via":"email_domain","score":1,...}). */
    const char *account_id;
    const char *account_match_json;
};

#endif
