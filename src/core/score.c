/*
 * score.c - fit and engagement scores, their reasons, and the lead subject.
 *
 * Paths are bound once: score_scratch_new() turns every slot of the model's
 * two symbol tables into a small descriptor (which attribute, which custom
 * field, which activity type), so that filling a lead's slots is a loop over
 * descriptors without string comparisons. The activity types the model names
 * are hashed into a table in the scratch; a lead's activities are bucketed by
 * type in one pass, and each activity's subject (its properties) is filled at
 * most once however many engagement rules look at it. The fit rules are
 * evaluated together as one rule set (rule_internal.h), which tests what many
 * rules share once per lead and walks each rule without unpredictable branches.
 *
 * Custom fields and activity properties are flat JSON objects of scalars,
 * read by the small scanner below (jansson would build a tree per lead).
 * Rule values carry their length, so strings without escapes are referenced
 * in place; only escaped text and lower-cased copies are written, into a
 * buffer of the scratch and, once that is full, into the caller's arena. In
 * the common case scoring a lead allocates nothing at all.
 */
#include "core/score.h"
#include "core/activity.h"
#include "core/normalize.h"
#include "core/rule_internal.h"
#include "util/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY        86400000.0
#define SUGGEST_MAX_LEN   64
#define JSON_MAX_DEPTH    32
#define LN2               0.69314718055994530942
#define SCRATCH_TEXT_SIZE 16384

/* Where a slot's value comes from. */
enum source {
    SRC_MISSING,
    SRC_ATTR,
    SRC_REGION,
    SRC_ACCOUNT,
    SRC_EMAIL_FREE,
    SRC_EMPLOYEES,
    SRC_FIELD,
    SRC_ACTIVITY_COUNT,
    SRC_ACTIVITY_LAST_DAYS,
    SRC_ACTIVITY_FIRST_DAYS,
    SRC_SCORE,
    SRC_FIT,
    SRC_ENGAGEMENT,
    SRC_GRADE,
    SRC_PREDICTED,
    SRC_TYPE,
    SRC_AGE_DAYS,
    SRC_PROPERTY,
};

struct known_path {
    const char *path;
    uint8_t source;
    uint8_t attr;
};

/* Sorted by path (strcmp order) for binary search. */
static const struct known_path lead_paths[] = {
    {"account", SRC_ACCOUNT, 0},
    {"city", SRC_ATTR, LEAD_CITY},
    {"company", SRC_ATTR, LEAD_COMPANY},
    {"country", SRC_ATTR, LEAD_COUNTRY},
    {"email", SRC_ATTR, LEAD_EMAIL},
    {"email.domain", SRC_ATTR, LEAD_EMAIL_DOMAIN},
    {"email.free", SRC_EMAIL_FREE, 0},
    {"employees", SRC_EMPLOYEES, 0},
    {"employees_band", SRC_ATTR, LEAD_EMPLOYEES_BAND},
    {"engagement", SRC_ENGAGEMENT, 0},
    {"external_id", SRC_ATTR, LEAD_EXTERNAL_ID},
    {"first_name", SRC_ATTR, LEAD_FIRST_NAME},
    {"fit", SRC_FIT, 0},
    {"grade", SRC_GRADE, 0},
    {"industry", SRC_ATTR, LEAD_INDUSTRY},
    {"last_name", SRC_ATTR, LEAD_LAST_NAME},
    {"owner", SRC_ATTR, LEAD_OWNER},
    {"phone", SRC_ATTR, LEAD_PHONE},
    {"predicted", SRC_PREDICTED, 0},
    {"region", SRC_REGION, 0},
    {"score", SRC_SCORE, 0},
    {"source", SRC_ATTR, LEAD_SOURCE},
    {"stage", SRC_ATTR, LEAD_STAGE},
    {"state", SRC_ATTR, LEAD_STATE},
    {"title", SRC_ATTR, LEAD_TITLE},
    {"website", SRC_ATTR, LEAD_WEBSITE},
    {"website.domain", SRC_ATTR, LEAD_WEBSITE_DOMAIN},
};

static const struct known_path activity_paths[] = {
    {"age_days", SRC_AGE_DAYS, 0},
    {"type", SRC_TYPE, 0},
};

static const struct known_path activity_facts[] = {
    {"count", SRC_ACTIVITY_COUNT, 0},
    {"first_days", SRC_ACTIVITY_FIRST_DAYS, 0},
    {"last_days", SRC_ACTIVITY_LAST_DAYS, 0},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Compares path[0..len) with a NUL-terminated name, in strcmp order. */
static int compare_path(const char *path, size_t len, const char *name)
{
    int c = strncmp(path, name, len);
    if (c != 0)
        return c;
    return name[len] == '\0' ? 0 : -1;
}

static const struct known_path *find_known(const struct known_path *table, size_t n,
                                           const char *path, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = compare_path(path, len, table[mid].path);
        if (c == 0)
            return &table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool has_prefix(const char *path, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(path, prefix, n) == 0;
}

/* ---- schemas ---- */

/* Optimal string alignment distance (a swap of two neighbours counts 1). */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

/* Whether a distance is small enough to suggest: at most 2 (3 for long
 * words: "property" for "properties") and at most half the typed word, so
 * that "x" does not become "fit". */
static bool close_enough(size_t distance, size_t typed_len)
{
    size_t most = typed_len >= 8 ? 3 : 2;
    return distance > 0 && distance <= most && 2 * distance <= typed_len;
}

/*
 * The closest known name to path[0..len) among `table`, or, when the first
 * component is close to one of `prefixes` ("fields"), that prefix with the
 * rest of the path. Writes the suggestion into buf; false when none is close.
 */
static bool suggest(const struct known_path *table, size_t n, const char *const *prefixes,
                    size_t n_prefixes, const char *path, size_t len, char *buf, size_t size)
{
    if (len > SUGGEST_MAX_LEN)
        return false;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(table[i].path);
        if (l > SUGGEST_MAX_LEN)
            continue;
        size_t d = edit_distance(path, len, table[i].path, l);
        if (close_enough(d, len) && d < best) {
            best = d;
            snprintf(buf, size, "%s", table[i].path);
        }
    }
    const char *dot = memchr(path, '.', len);
    if (dot) {
        size_t head = (size_t)(dot - path);
        for (size_t i = 0; i < n_prefixes; i++) {
            size_t d = edit_distance(path, head, prefixes[i], strlen(prefixes[i]));
            if (close_enough(d, head) && d < best) {
                best = d;
                snprintf(buf, size, "%s%.*s", prefixes[i], (int)(len - head), dot);
            }
        }
    }
    return best != SIZE_MAX;
}

static bool check_activity_fact(const char *path, size_t len, char *why, size_t why_size)
{
    const char *rest = path + 9; /* after "activity." */
    size_t rest_len = len > 9 ? len - 9 : 0;
    const char *dot = len > 9 ? memchr(rest, '.', rest_len) : NULL;
    if (!dot) {
        snprintf(why, why_size,
                 "'%.*s' needs an activity type and a fact: activity.TYPE.count, "
                 "activity.TYPE.last_days or activity.TYPE.first_days",
                 (int)len, path);
        return false;
    }
    size_t type_len = (size_t)(dot - rest);
    if (!activity_type_valid(rest, type_len)) {
        snprintf(why, why_size, "activity type '%.*s' must be 1 to 64 characters of a-z, 0-9 and _",
                 (int)type_len, rest);
        return false;
    }
    const char *fact = dot + 1;
    size_t fact_len = len - (size_t)(fact - path);
    if (find_known(activity_facts, COUNT_OF(activity_facts), fact, fact_len))
        return true;
    char hint[SUGGEST_MAX_LEN + 1];
    if (suggest(activity_facts, COUNT_OF(activity_facts), NULL, 0, fact, fact_len, hint,
                sizeof(hint)))
        snprintf(why, why_size, "unknown activity fact '%.*s'; did you mean '%s'?", (int)fact_len,
                 fact, hint);
    else
        snprintf(why, why_size,
                 "unknown activity fact '%.*s'; expected count, last_days or first_days",
                 (int)fact_len, fact);
    return false;
}

/*
 * A named scalar under a prefix: "fields.NAME", "properties.NAME". NAME is
 * what the rule path grammar allows, dots included ("fields.utm.source"
 * reads the key "utm.source").
 */
static bool check_named(const char *path, size_t len, size_t prefix_len, const char *what,
                        char *why, size_t why_size)
{
    size_t name_len = len > prefix_len ? len - prefix_len - 1 : 0;
    if (len <= prefix_len + 1) {
        snprintf(why, why_size, "'%.*s' needs a name, e.g. %.*s.budget", (int)prefix_len, path,
                 (int)prefix_len, path);
        return false;
    }
    if (name_len > LEAD_FIELD_KEY_MAX) {
        snprintf(why, why_size, "%s name '%.*s' is longer than %d bytes", what, (int)name_len,
                 path + prefix_len + 1, LEAD_FIELD_KEY_MAX);
        return false;
    }
    return true;
}

static bool lead_check(void *ctx, const char *path, size_t len, char *why, size_t why_size)
{
    (void)ctx;
    if (find_known(lead_paths, COUNT_OF(lead_paths), path, len))
        return true;
    if (has_prefix(path, len, "fields") && (len == 6 || path[6] == '.'))
        return check_named(path, len, 6, "field", why, why_size);
    if (has_prefix(path, len, "activity") && (len == 8 || path[8] == '.'))
        return check_activity_fact(path, len, why, why_size);
    static const char *const prefixes[] = {"fields", "activity"};
    char hint[SUGGEST_MAX_LEN + 16];
    if (suggest(lead_paths, COUNT_OF(lead_paths), prefixes, COUNT_OF(prefixes), path, len, hint,
                sizeof(hint)))
        snprintf(why, why_size, "unknown field '%.*s'; did you mean '%s'?", (int)len, path, hint);
    else if (!memchr(path, '.', len))
        snprintf(why, why_size, "unknown field '%.*s' (a custom field is fields.%.*s)", (int)len,
                 path, (int)len, path);
    else
        snprintf(why, why_size, "unknown field '%.*s'", (int)len, path);
    return false;
}

static bool activity_check(void *ctx, const char *path, size_t len, char *why, size_t why_size)
{
    (void)ctx;
    if (find_known(activity_paths, COUNT_OF(activity_paths), path, len))
        return true;
    if (has_prefix(path, len, "properties") && (len == 10 || path[10] == '.'))
        return check_named(path, len, 10, "property", why, why_size);
    static const char *const prefixes[] = {"properties"};
    char hint[SUGGEST_MAX_LEN + 16];
    if (suggest(activity_paths, COUNT_OF(activity_paths), prefixes, COUNT_OF(prefixes), path, len,
                hint, sizeof(hint)))
        snprintf(why, why_size, "unknown activity field '%.*s'; did you mean '%s'?", (int)len, path,
                 hint);
    else if (!memchr(path, '.', len))
        snprintf(why, why_size,
                 "unknown activity field '%.*s' (an activity has type, age_days and "
                 "properties.NAME, e.g. properties.%.*s)",
                 (int)len, path, (int)len, path);
    else
        snprintf(why, why_size, "unknown activity field '%.*s'", (int)len, path);
    return false;
}

const struct rule_schema score_lead_schema = {lead_check, NULL};
const struct rule_schema score_activity_schema = {activity_check, NULL};

/* ---- binding slots to sources ---- */

struct slot_source {
    uint8_t source; /* enum source */
    uint8_t attr;   /* SRC_ATTR */
    int32_t arg;    /* activity facts: type index (-1: none); fields, properties: wanted index */
};

/* A custom field or property that some slot reads. */
struct wanted {
    const char *name; /* in the symbol table's path */
    uint32_t len;
    uint32_t slot;
};

struct subject_plan {
    size_t n_slots;
    struct slot_source *sources;
    size_t n_wanted;
    struct wanted *wanted;
};

/* Facts about one activity type for one lead. */
struct fact_view {
    int64_t count, newest_at, oldest_at;
};

/* Maps an activity type named by a path to an index, or -1. */
typedef int (*type_resolver)(void *ctx, const char *type, size_t len);

/*
 * Describes every slot of `syms`. The arrays are the caller's, with room for
 * rule_symtab_count(syms) entries each. Paths were accepted by the schemas,
 * so anything unrecognised (a table compiled with another schema) is missing.
 */
static void plan_subject(const struct rule_symtab *syms, bool lead_subject, type_resolver resolve,
                         void *ctx, struct subject_plan *plan)
{
    plan->n_wanted = 0;
    for (size_t i = 0; i < plan->n_slots; i++) {
        const char *path = rule_symtab_path(syms, i);
        size_t len = strlen(path);
        struct slot_source *s = &plan->sources[i];
        *s = (struct slot_source){SRC_MISSING, 0, -1};
        const struct known_path *k =
            lead_subject ? find_known(lead_paths, COUNT_OF(lead_paths), path, len)
                         : find_known(activity_paths, COUNT_OF(activity_paths), path, len);
        if (k) {
            s->source = k->source;
            s->attr = k->attr;
            continue;
        }
        const char *prefix = lead_subject ? "fields." : "properties.";
        size_t prefix_len = strlen(prefix);
        if (len > prefix_len && memcmp(path, prefix, prefix_len) == 0) {
            s->source = lead_subject ? SRC_FIELD : SRC_PROPERTY;
            s->arg = (int32_t)plan->n_wanted;
            plan->wanted[plan->n_wanted++] =
                (struct wanted){path + prefix_len, (uint32_t)(len - prefix_len), (uint32_t)i};
            continue;
        }
        if (lead_subject && len > 9 && memcmp(path, "activity.", 9) == 0) {
            const char *type = path + 9;
            const char *dot = strchr(type, '.');
            if (!dot || !activity_type_valid(type, (size_t)(dot - type)))
                continue;
            k = find_known(activity_facts, COUNT_OF(activity_facts), dot + 1, strlen(dot + 1));
            if (!k)
                continue;
            s->source = k->source;
            s->arg = resolve(ctx, type, (size_t)(dot - type));
        }
    }
}

/* ---- flat JSON objects ---- */

/*
 * Scans a string whose opening quote is before p; returns the position after
 * the closing quote, or NULL when it is malformed. Inputs are NUL-terminated,
 * and NUL, like every control character, ends the scan as an error.
 */
static const char *scan_string(const char *p, bool *escaped)
{
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c != '\\') {
            p++;
            continue;
        }
        *escaped = true;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;
        case 'u': {
            uint32_t cp;
            if (!text_hex_digits(p + 2, 4, &cp))
                return NULL;
            p += 6;
            break;
        }
        default:
            return NULL;
        }
    }
}

/*
 * Decodes the escapes of a scanned string [p, stop) into out, which needs
 * stop - p bytes: no escape decodes to more bytes than it takes. A surrogate
 * pair becomes one 4-byte character; a lone surrogate and \u0000 (which would
 * cut a C string short) become U+FFFD, as a lenient decoder would show them.
 */
static size_t decode_string(const char *p, const char *stop, char *out)
{
    char *o = out;
    while (p < stop) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char c = p[1];
        if (c == 'u') {
            uint32_t cp;
            p += text_unescape_u(p, (size_t)(stop - p), &cp); /* scan_string checked it */
            if ((cp >= 0xD800 && cp < 0xE000) || cp == 0)
                cp = 0xFFFD;
            o += utf8_encode(cp, o);
            continue;
        }
        p += 2;
        switch (c) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        default: /* " \ / */
            *o++ = c;
            break;
        }
    }
    return (size_t)(o - out);
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * Scans a JSON number at p into *out; returns the position after it or NULL.
 * Numbers whose digits fit in 53 bits with a power of ten up to 22 (every
 * realistic amount) are converted exactly by one multiplication or division;
 * the rest go to strtod, which rounds correctly (Baton never sets a locale,
 * and the end check below refuses a locale that would change the syntax).
 */
static const char *scan_number(const char *p, double *out)
{
    const char *start = p;
    bool negative = *p == '-';
    if (negative)
        p++;
    uint64_t mantissa = 0;
    int digits = 0;
    long exponent = 0;
    bool fast = true;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        for (; *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                digits++;
            } else {
                fast = false;
            }
        }
    } else {
        return NULL;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return NULL;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                digits += mantissa != 0;
                exponent--;
            } else {
                fast = false;
            }
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        bool exp_negative = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        if (*p < '0' || *p > '9')
            return NULL;
        long e = 0;
        for (; *p >= '0' && *p <= '9'; p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        exponent += exp_negative ? -e : e;
    }
    if (fast && mantissa == 0) {
        *out = negative ? -0.0 : 0.0;
    } else if (fast && mantissa <= (1ULL << 53) && exponent >= -22 && exponent <= 22) {
        double v = exponent >= 0 ? (double)mantissa * pow10_exact[exponent]
                                 : (double)mantissa / pow10_exact[-exponent];
        *out = negative ? -v : v;
    } else {
        char *end;
        *out = strtod(start, &end);
        if (end != p)
            return NULL;
    }
    return p;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *skip_literal(const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncmp(p, word, n) == 0 ? p + n : NULL;
}

/* Skips any JSON value (objects and arrays too, at most JSON_MAX_DEPTH deep). */
static const char *skip_value(const char *p, int depth)
{
    bool escaped = false;
    double number;
    switch (*p) {
    case '"':
        return scan_string(p + 1, &escaped);
    case 't':
        return skip_literal(p, "true");
    case 'f':
        return skip_literal(p, "false");
    case 'n':
        return skip_literal(p, "null");
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        if (depth >= JSON_MAX_DEPTH)
            return NULL;
        p = skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (*p != '"' || !(p = scan_string(p + 1, &escaped)))
                    return NULL;
                p = skip_ws(p);
                if (*p != ':')
                    return NULL;
                p = skip_ws(p + 1);
            }
            if (!(p = skip_value(p, depth + 1)))
                return NULL;
            p = skip_ws(p);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p = skip_ws(p + 1);
        }
    }
    default:
        return scan_number(p, &number);
    }
}

/*
 * Where decoded and lower-cased text goes: a buffer of the scratch, reused
 * for every lead, and the caller's arena once it is full (or when there is no
 * scratch, as for score_fill_lead, whose slots outlive the call).
 */
struct text_space {
    char *buf;
    size_t used, size;
    struct arena *arena;
};

static char *text_alloc(struct text_space *t, size_t n)
{
    if (t->size - t->used >= n) {
        char *p = t->buf + t->used;
        t->used += n;
        return p;
    }
    return arena_alloc(t->arena, n);
}

/* Lower-cases s[0..len) into the text space when it has upper case; else s. */
static const char *lower_text(const char *s, size_t len, struct text_space *t)
{
    size_t i = 0;
    while (i < len && !(s[i] >= 'A' && s[i] <= 'Z'))
        i++;
    if (i == len)
        return s;
    char *l = text_alloc(t, len + 1);
    if (!l)
        return NULL;
    memcpy(l, s, i);
    for (; i < len; i++)
        l[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + ('a' - 'A')) : s[i];
    l[len] = '\0';
    return l;
}

static bt_err set_text(struct rule_value *v, const char *s, size_t len, struct text_space *t)
{
    const char *lower = lower_text(s, len, t);
    if (!lower)
        return BT_ETOOBIG;
    rule_value_string(v, s, lower, len);
    return BT_OK;
}

static int find_wanted(const struct wanted *w, size_t n, const char *key, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].len == len && memcmp(w[i].name, key, len) == 0)
            return (int)i;
    return -1;
}

/* The longest escaped key that can decode to LEAD_FIELD_KEY_MAX bytes. */
#define KEY_RAW_MAX (6 * LEAD_FIELD_KEY_MAX)

/*
 * Reads a flat JSON object and sets the slots of the wanted keys (the last
 * of duplicate keys wins; null, objects and arrays are missing). BT_EPARSE
 * when the text is not one JSON object, BT_ETOOBIG when the arena is full.
 */
static bt_err scan_object(const char *json, const struct wanted *wanted, size_t n_wanted,
                          struct rule_value *slots, struct text_space *t)
{
    const char *p = skip_ws(json);
    if (*p != '{')
        return BT_EPARSE;
    p = skip_ws(p + 1);
    if (*p == '}')
        return *skip_ws(p + 1) ? BT_EPARSE : BT_OK;
    for (;;) {
        if (*p != '"')
            return BT_EPARSE;
        bool escaped = false;
        const char *key = p + 1;
        if (!(p = scan_string(key, &escaped)))
            return BT_EPARSE;
        size_t key_len = (size_t)(p - 1 - key);
        int w = -1;
        if (!escaped) {
            w = find_wanted(wanted, n_wanted, key, key_len);
        } else if (key_len <= KEY_RAW_MAX) {
            char buf[KEY_RAW_MAX];
            w = find_wanted(wanted, n_wanted, buf, decode_string(key, p - 1, buf));
        }
        p = skip_ws(p);
        if (*p != ':')
            return BT_EPARSE;
        p = skip_ws(p + 1);
        struct rule_value *v = w >= 0 ? &slots[wanted[w].slot] : NULL;
        if (*p == '"') {
            const char *s = p + 1;
            escaped = false;
            if (!(p = scan_string(s, &escaped)))
                return BT_EPARSE;
            if (v) {
                size_t len = (size_t)(p - 1 - s);
                if (escaped) {
                    char *d = text_alloc(t, len + 1);
                    if (!d)
                        return BT_ETOOBIG;
                    len = decode_string(s, p - 1, d);
                    s = d;
                }
                if (set_text(v, s, len, t) != BT_OK)
                    return BT_ETOOBIG;
            }
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            double number;
            if (!(p = scan_number(p, &number)))
                return BT_EPARSE;
            if (v)
                rule_value_number(v, number);
        } else if (*p == 't' || *p == 'f') {
            bool b = *p == 't';
            if (!(p = skip_literal(p, b ? "true" : "false")))
                return BT_EPARSE;
            if (v)
                rule_value_bool(v, b);
        } else {
            if (!(p = skip_value(p, 1)))
                return BT_EPARSE;
            if (v)
                *v = (struct rule_value){0};
        }
        p = skip_ws(p);
        if (*p == '}')
            return *skip_ws(p + 1) ? BT_EPARSE : BT_OK;
        if (*p != ',')
            return BT_EPARSE;
        p = skip_ws(p + 1);
    }
}

/*
 * Fills the wanted slots from a JSON object. A malformed object (which
 * normalisation does not let through) reads as having no keys rather than
 * making the lead unscorable.
 */
static bt_err fill_wanted(const char *json, const struct wanted *wanted, size_t n_wanted,
                          struct rule_value *slots, struct text_space *t)
{
    if (!json || n_wanted == 0)
        return BT_OK;
    bt_err rc = scan_object(json, wanted, n_wanted, slots, t);
    if (rc == BT_EPARSE) {
        for (size_t i = 0; i < n_wanted; i++)
            slots[wanted[i].slot] = (struct rule_value){0};
        rc = BT_OK;
    }
    return rc;
}

/* ---- filling subjects ---- */

static double days_between(int64_t earlier, int64_t now)
{
    return earlier >= now ? 0.0 : (double)(now - earlier) / MS_PER_DAY;
}

/* `predicted`: the predictive score, NaN when there is none. */
static bt_err fill_lead(const struct subject_plan *plan, const struct lead *lead,
                        const struct fact_view *facts, const struct score_result *scores,
                        double predicted, int64_t now, struct text_space *t,
                        struct rule_value *slots)
{
    for (size_t i = 0; i < plan->n_slots; i++) {
        const struct slot_source *s = &plan->sources[i];
        struct rule_value *v = &slots[i];
        const struct fact_view *f = NULL;
        if (s->source >= SRC_ACTIVITY_COUNT && s->source <= SRC_ACTIVITY_FIRST_DAYS && s->arg >= 0)
            f = &facts[s->arg];
        *v = (struct rule_value){0};
        switch (s->source) {
        case SRC_ATTR: {
            const char *text = lead->attr[s->attr];
            if (text && set_text(v, text, strlen(text), t) != BT_OK)
                return BT_ETOOBIG;
            break;
        }
        case SRC_REGION: {
            const char *region = normalize_region(lead->attr[LEAD_COUNTRY]);
            if (region && set_text(v, region, strlen(region), t) != BT_OK)
                return BT_ETOOBIG;
            break;
        }
        case SRC_ACCOUNT:
            if (lead->account_id &&
                set_text(v, lead->account_id, strlen(lead->account_id), t) != BT_OK)
                return BT_ETOOBIG;
            break;
        case SRC_EMAIL_FREE:
            if (lead->attr[LEAD_EMAIL])
                rule_value_bool(v, lead->email_free);
            break;
        case SRC_EMPLOYEES:
            if (lead->employees >= 0)
                rule_value_number(v, (double)lead->employees);
            break;
        case SRC_ACTIVITY_COUNT:
            rule_value_number(v, f ? (double)f->count : 0.0);
            break;
        case SRC_ACTIVITY_LAST_DAYS:
            if (f && f->count > 0)
                rule_value_number(v, days_between(f->newest_at, now));
            break;
        case SRC_ACTIVITY_FIRST_DAYS:
            if (f && f->count > 0)
                rule_value_number(v, days_between(f->oldest_at, now));
            break;
        case SRC_SCORE:
            if (scores)
                rule_value_number(v, scores->total);
            break;
        case SRC_FIT:
            if (scores)
                rule_value_number(v, scores->fit);
            break;
        case SRC_ENGAGEMENT:
            if (scores)
                rule_value_number(v, scores->engagement);
            break;
        case SRC_GRADE:
            if (scores && set_text(v, scores->grade, strlen(scores->grade), t) != BT_OK)
                return BT_ETOOBIG;
            break;
        case SRC_PREDICTED:
            if (!isnan(predicted))
                rule_value_number(v, predicted);
            break;
        default: /* SRC_FIELD (below), SRC_MISSING */
            break;
        }
    }
    return fill_wanted(lead->fields_json, plan->wanted, plan->n_wanted, slots, t);
}

/* `type` is the activity's type as the model knows it: the same bytes. */
static bt_err fill_activity(const struct subject_plan *plan, const struct activity *act,
                            const char *type, size_t type_len, bool type_has_upper, int64_t age_ms,
                            struct text_space *t, struct rule_value *slots)
{
    for (size_t i = 0; i < plan->n_slots; i++) {
        struct rule_value *v = &slots[i];
        *v = (struct rule_value){0};
        switch (plan->sources[i].source) {
        case SRC_TYPE:
            if (!type_has_upper)
                rule_value_string(v, type, type, type_len);
            else if (set_text(v, type, type_len, t) != BT_OK)
                return BT_ETOOBIG;
            break;
        case SRC_AGE_DAYS:
            rule_value_number(v, (double)age_ms / MS_PER_DAY);
            break;
        default: /* SRC_PROPERTY (below) */
            break;
        }
    }
    return fill_wanted(act->properties_json, plan->wanted, plan->n_wanted, slots, t);
}

/* ---- scratch ---- */

/*
 * An activity type, keyed by its length and its first and last 8 bytes
 * (overlapping for short names): that is the whole name up to 16 bytes, so
 * most lookups compare two words and never call memcmp.
 */
struct type_entry {
    const char *name;
    uint32_t len;
    bool has_upper;
    uint64_t head, tail;
};

/* What one engagement rule gathered from one lead's activities. */
struct engagement_sum {
    int64_t matches;
    double points, after_decay;
    int64_t oldest_inside; /* windows: the oldest matching activity still inside */
    bool any_inside;
};

struct score_scratch {
    const struct score_model *model;
    struct rule_scratch *rules;
    struct subject_plan lead, activity;
    struct rule_value *lead_slots, *activity_slots;
    /* The fit rules as one set, its work space and its results. */
    struct rule__set *fit_set;
    uint8_t *fit_work;
    bool *fit_holds;
    uint32_t *fit_negative; /* the fit rules in a group with negative points */
    size_t n_fit_negative;

    /* The activity types the model names, hashed by open addressing. */
    struct type_entry *types;
    size_t n_types;
    int32_t *type_hash;
    uint32_t hash_mask;
    /* Engagement rules by type (indices into model->engagement, config order):
     * those of type t are rules_by_type[rules_start[t] .. rules_start[t + 1]). */
    uint32_t *rules_start, *rules_by_type;

    /* Per lead. */
    struct fact_view *facts; /* per type */
    int32_t *first;          /* per type: an activity of the type, -1 */
    int32_t *next;           /* per activity: the next of its type, -1 */
    size_t next_cap;
    uint32_t *matched; /* fit rules that matched */
    double *group_negative, *group_budget;
    struct engagement_sum *sums;
    char *text; /* SCRATCH_TEXT_SIZE bytes for a text_space */
};

/* The key words of a name: loads that never read outside it. */
static void type_key(const char *name, size_t len, uint64_t *head, uint64_t *tail)
{
    if (len >= 8) {
        memcpy(head, name, 8);
        memcpy(tail, name + len - 8, 8);
        return;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)(uint8_t)name[i] << (8 * i);
    *head = v;
    *tail = 0;
}

static uint32_t type_hash(uint64_t head, uint64_t tail, size_t len)
{
    uint64_t h = head * 0x9E3779B97F4A7C15ULL ^ tail * 0xC2B2AE3D27D4EB4FULL ^ len;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return (uint32_t)(h >> 32);
}

static int type_find(const struct score_scratch *s, const char *name, size_t len)
{
    uint64_t head, tail;
    type_key(name, len, &head, &tail);
    for (uint32_t i = type_hash(head, tail, len) & s->hash_mask;; i = (i + 1) & s->hash_mask) {
        int32_t t = s->type_hash[i];
        if (t < 0)
            return -1;
        const struct type_entry *e = &s->types[t];
        if (e->len == len && e->head == head && e->tail == tail &&
            (len <= 16 || memcmp(e->name + 8, name + 8, len - 16) == 0))
            return t;
    }
}

/* The type table has room for every path and rule, so it never fills up. */
static int type_intern(void *ctx, const char *name, size_t len)
{
    struct score_scratch *s = ctx;
    int t = type_find(s, name, len);
    if (t >= 0)
        return t;
    struct type_entry e = {name, (uint32_t)len, false, 0, 0};
    type_key(name, len, &e.head, &e.tail);
    for (size_t i = 0; i < len; i++)
        e.has_upper |= name[i] >= 'A' && name[i] <= 'Z';
    uint32_t i = type_hash(e.head, e.tail, len) & s->hash_mask;
    while (s->type_hash[i] >= 0)
        i = (i + 1) & s->hash_mask;
    t = (int)s->n_types++;
    s->types[t] = e;
    s->type_hash[i] = t;
    return t;
}

static size_t symtab_count(const struct rule_symtab *t)
{
    return t ? rule_symtab_count(t) : 0;
}

struct score_scratch *score_scratch_new(const struct score_model *m)
{
    struct score_scratch *s = xcalloc(1, sizeof(*s));
    s->model = m;
    s->rules = rule_scratch_new();

    size_t n_lead = symtab_count(m->lead_syms), n_act = symtab_count(m->activity_syms);
    size_t max_types = n_lead + m->n_engagement;
    uint32_t buckets = 16;
    while (buckets < 2 * max_types)
        buckets *= 2;
    s->types = xcalloc(max_types + 1, sizeof(*s->types));
    s->type_hash = xmalloc(buckets * sizeof(*s->type_hash));
    memset(s->type_hash, 0xff, buckets * sizeof(*s->type_hash));
    s->hash_mask = buckets - 1;

    s->lead = (struct subject_plan){n_lead, xcalloc(n_lead + 1, sizeof(struct slot_source)), 0,
                                    xcalloc(n_lead + 1, sizeof(struct wanted))};
    s->activity = (struct subject_plan){n_act, xcalloc(n_act + 1, sizeof(struct slot_source)), 0,
                                        xcalloc(n_act + 1, sizeof(struct wanted))};
    if (m->lead_syms)
        plan_subject(m->lead_syms, true, type_intern, s, &s->lead);
    if (m->activity_syms)
        plan_subject(m->activity_syms, false, type_intern, s, &s->activity);
    s->lead_slots = xcalloc(n_lead + 1, sizeof(struct rule_value));
    s->activity_slots = xcalloc(n_act + 1, sizeof(struct rule_value));

    int32_t *rule_type = xcalloc(m->n_engagement + 1, sizeof(*rule_type));
    for (size_t r = 0; r < m->n_engagement; r++) {
        const char *t = m->engagement[r].activity_type;
        rule_type[r] = t ? type_intern(s, t, strlen(t)) : -1;
    }
    s->rules_start = xcalloc(s->n_types + 1, sizeof(*s->rules_start));
    s->rules_by_type = xcalloc(m->n_engagement + 1, sizeof(*s->rules_by_type));
    for (size_t r = 0; r < m->n_engagement; r++)
        if (rule_type[r] >= 0)
            s->rules_start[rule_type[r] + 1]++;
    for (size_t t = 0; t < s->n_types; t++)
        s->rules_start[t + 1] += s->rules_start[t];
    uint32_t *fill = xcalloc(s->n_types + 1, sizeof(*fill));
    for (size_t r = 0; r < m->n_engagement; r++) {
        int32_t t = rule_type[r];
        if (t < 0)
            continue;
        s->rules_by_type[s->rules_start[t] + fill[t]++] = (uint32_t)r;
    }
    free(fill);
    free(rule_type);

    for (size_t i = 0; i < m->n_fit; i++)
        if (m->fit[i].group >= (int)m->n_groups)
            BT_BUG("fit rule %zu names group %d of %zu", i, m->fit[i].group, m->n_groups);

    s->facts = xcalloc(s->n_types + 1, sizeof(*s->facts));
    s->first = xcalloc(s->n_types + 1, sizeof(*s->first));
    s->matched = xcalloc(m->n_fit + 1, sizeof(*s->matched));
    const struct rule **whens = xcalloc(m->n_fit + 1, sizeof(*whens));
    for (size_t i = 0; i < m->n_fit; i++)
        whens[i] = m->fit[i].when;
    s->fit_set = rule__set_new(whens, m->n_fit);
    free(whens);
    s->fit_work = xmalloc(rule__set_work_size(s->fit_set));
    s->fit_holds = xcalloc(m->n_fit + 1, sizeof(*s->fit_holds));
    s->fit_negative = xcalloc(m->n_fit + 1, sizeof(*s->fit_negative));
    for (size_t i = 0; i < m->n_fit; i++)
        if (m->fit[i].group >= 0 && m->fit[i].points < 0)
            s->fit_negative[s->n_fit_negative++] = (uint32_t)i;
    s->group_negative = xcalloc(m->n_groups + 1, sizeof(double));
    s->group_budget = xcalloc(m->n_groups + 1, sizeof(double));
    s->sums = xcalloc(m->n_engagement + 1, sizeof(*s->sums));
    s->text = xmalloc(SCRATCH_TEXT_SIZE);
    return s;
}

void score_scratch_free(struct score_scratch *s)
{
    if (!s)
        return;
    rule_scratch_free(s->rules);
    free(s->lead.sources);
    free(s->lead.wanted);
    free(s->activity.sources);
    free(s->activity.wanted);
    free(s->lead_slots);
    free(s->activity_slots);
    free(s->types);
    free(s->type_hash);
    free(s->rules_start);
    free(s->rules_by_type);
    free(s->facts);
    free(s->first);
    free(s->next);
    free(s->matched);
    rule__set_free(s->fit_set);
    free(s->fit_work);
    free(s->fit_holds);
    free(s->fit_negative);
    free(s->group_negative);
    free(s->group_budget);
    free(s->sums);
    free(s->text);
    free(s);
}

/* ---- scoring ---- */

static void add_reason(struct score_result *out, const char *rule, const char *kind,
                       const char *group, double points, double after_decay, double counted,
                       int64_t matches)
{
    if (out->n_reasons == SCORE_MAX_REASONS)
        return;
    out->reasons[out->n_reasons++] =
        (struct score_reason){rule, kind, group, points, after_decay, counted, matches};
}

/*
 * Fit. A capped group's sum is min(sum of its matching rules, cap). To say
 * which rules made up the counted sum, negative points always count in full
 * and positive ones count in config order until the cap (less the negatives)
 * is used up: the rule crossing it counts partially, later ones 0. So the
 * counted points of a group add up to min(sum, cap) whatever the order of
 * signs. A cap of 0 or less lets no positive points through.
 */
static double score_fit(const struct score_model *m, struct score_scratch *s,
                        struct score_result *out)
{
    size_t n_matched = 0;
    for (size_t g = 0; g < m->n_groups; g++)
        s->group_negative[g] = 0;
    rule__set_eval(s->fit_set, s->lead_slots, s->rules, s->fit_work, s->fit_holds);
    /* Without a branch on whether a rule held: it varies from lead to lead. */
    for (size_t i = 0; i < m->n_fit; i++) {
        s->matched[n_matched] = (uint32_t)i;
        n_matched += s->fit_holds[i];
    }
    for (size_t k = 0; k < s->n_fit_negative; k++) {
        const struct fit_rule *r = &m->fit[s->fit_negative[k]];
        if (s->fit_holds[s->fit_negative[k]])
            s->group_negative[r->group] += r->points;
    }
    for (size_t g = 0; g < m->n_groups; g++)
        s->group_budget[g] = m->groups[g].cap - s->group_negative[g];
    double fit = 0;
    for (size_t k = 0; k < n_matched; k++) {
        const struct fit_rule *r = &m->fit[s->matched[k]];
        double counted = r->points;
        const char *group = NULL;
        if (r->group >= 0) {
            group = m->groups[r->group].name;
            if (m->groups[r->group].has_cap && counted > 0) {
                double *budget = &s->group_budget[r->group];
                counted = *budget <= 0 ? 0 : counted < *budget ? counted : *budget;
                *budget -= counted;
            }
        }
        fit += counted;
        add_reason(out, r->name, "fit", group, r->points, r->points, counted, 1);
    }
    return fit;
}

/* Buckets the activities of the types the model names. */
static bt_err bucket_activities(struct score_scratch *s, const struct activity *acts, size_t n)
{
    if (n > INT32_MAX)
        return BT_ETOOBIG;
    if (n > s->next_cap) {
        s->next_cap = n > 2 * s->next_cap ? n : 2 * s->next_cap;
        s->next = xrealloc(s->next, s->next_cap * sizeof(*s->next));
    }
    for (size_t t = 0; t < s->n_types; t++) {
        s->facts[t] = (struct fact_view){0, INT64_MIN, INT64_MAX};
        s->first[t] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        int t = acts[i].type ? type_find(s, acts[i].type, strlen(acts[i].type)) : -1;
        if (t < 0)
            continue;
        struct fact_view *f = &s->facts[t];
        int64_t at = acts[i].occurred_at;
        f->count++;
        if (at > f->newest_at)
            f->newest_at = at;
        if (at < f->oldest_at)
            f->oldest_at = at;
        s->next[i] = s->first[t];
        s->first[t] = (int32_t)i;
    }
    return BT_OK;
}

/*
 * Engagement sums: every activity of a type the rules name is looked at
 * once, against each rule of its type. An activity dated after `now` (clock
 * skew between systems) counts as happening now.
 */
static bt_err gather_engagement(const struct score_model *m, struct score_scratch *s,
                                const struct activity *acts, int64_t now, struct text_space *text)
{
    memset(s->sums, 0, m->n_engagement * sizeof(*s->sums));
    for (size_t t = 0; t < s->n_types; t++) {
        uint32_t begin = s->rules_start[t], end = s->rules_start[t + 1];
        if (begin == end || s->facts[t].count == 0)
            continue;
        for (int32_t i = s->first[t]; i >= 0; i = s->next[i]) {
            const struct activity *act = &acts[i];
            int64_t age = now - act->occurred_at;
            if (age < 0)
                age = 0;
            bool filled = false;
            int64_t last_half_life = 0;
            double last_factor = 1;
            for (uint32_t k = begin; k < end; k++) {
                uint32_t r = s->rules_by_type[k];
                const struct engagement_rule *e = &m->engagement[r];
                if (e->when) {
                    if (!filled) {
                        const struct type_entry *te = &s->types[t];
                        if (fill_activity(&s->activity, act, act->type, te->len, te->has_upper, age,
                                          text, s->activity_slots) != BT_OK)
                            return BT_ETOOBIG;
                        filled = true;
                    }
                    if (!rule_eval(e->when, s->activity_slots, s->rules))
                        continue;
                }
                double factor = 1;
                if (e->decay == DECAY_HALF_LIFE && e->decay_ms > 0) {
                    if (e->decay_ms != last_half_life) {
                        last_half_life = e->decay_ms;
                        last_factor = exp2(-(double)age / (double)e->decay_ms);
                    }
                    factor = last_factor;
                } else if (e->decay == DECAY_WINDOW) {
                    factor = age <= e->decay_ms ? 1 : 0;
                }
                struct engagement_sum *sum = &s->sums[r];
                sum->matches++;
                sum->points += e->points;
                sum->after_decay += e->points * factor;
                if (e->decay == DECAY_WINDOW && factor > 0 &&
                    (!sum->any_inside || act->occurred_at < sum->oldest_inside)) {
                    sum->oldest_inside = act->occurred_at;
                    sum->any_inside = true;
                }
            }
        }
    }
    return BT_OK;
}

/* What decay does to the engagement sum from now on, for next_change_at. */
struct decay_outlook {
    double half_life_mass; /* sum of |counted| of half-life rules */
    double half_life_rate; /* sum of |counted| * ln2 / half-life: the fastest it can fall */
    int64_t shortest_half_life;
    double window_mass;
    int64_t first_exit; /* when the first counted activity leaves its window */
};

/*
 * The engine rescores at next_change_at, so it must not be late; being early
 * costs a rescore. Every rule's counted points move monotonically towards 0
 * (a cap only delays that), so the engagement sum cannot change by 1 point
 * before the total movement of all rules can reach 1. For half-lives that
 * movement is at most min(rate * t, mass * (1 - 2^(-t / shortest))), and
 * both bounds give a time before which it stays under 1; the later of the two
 * is exact for one half-life and close for many. Windows move in steps, the
 * first at the earliest exit. If everything that decays adds up to less than
 * 1 point, the score never moves by 1 and the answer is 0.
 */
static int64_t next_change(const struct decay_outlook *o, int64_t now)
{
    if (o->half_life_mass + o->window_mass < 1)
        return 0;
    int64_t next = o->window_mass > 0 ? o->first_exit : INT64_MAX;
    if (o->half_life_mass > 1 && o->half_life_rate > 0) {
        double linear = 1 / o->half_life_rate;
        double exponential =
            (double)o->shortest_half_life * log2(o->half_life_mass / (o->half_life_mass - 1));
        double wait = ceil(linear > exponential ? linear : exponential);
        if (wait < 1)
            wait = 1;
        if (wait < 9e15 && (double)now + wait < 9e18 && now + (int64_t)wait < next)
            next = now + (int64_t)wait;
    }
    return next == INT64_MAX ? 0 : next;
}

/*
 * Engagement rules in config order: the cap limits the size of the rule's
 * sum after decay (a rule of negative points with cap 30 takes at most 30
 * off), and a reason is given for every rule with a matching activity, even
 * one that decay has brought to 0.
 */
static double score_engagement(const struct score_model *m, struct score_scratch *s, int64_t now,
                               struct score_result *out)
{
    struct decay_outlook o = {0, 0, INT64_MAX, 0, INT64_MAX};
    double engagement = 0;
    for (size_t r = 0; r < m->n_engagement; r++) {
        const struct engagement_rule *e = &m->engagement[r];
        const struct engagement_sum *sum = &s->sums[r];
        if (sum->matches == 0)
            continue;
        double counted = sum->after_decay;
        if (e->has_cap) {
            double cap = fabs(e->cap);
            if (counted > cap)
                counted = cap;
            else if (counted < -cap)
                counted = -cap;
        }
        engagement += counted;
        add_reason(out, e->name, "engagement", NULL, sum->points, sum->after_decay, counted,
                   sum->matches);
        if (counted == 0)
            continue;
        if (e->decay == DECAY_HALF_LIFE && e->decay_ms > 0) {
            o.half_life_mass += fabs(counted);
            o.half_life_rate += fabs(counted) * LN2 / (double)e->decay_ms;
            if (e->decay_ms < o.shortest_half_life)
                o.shortest_half_life = e->decay_ms;
        } else if (e->decay == DECAY_WINDOW && sum->any_inside) {
            o.window_mass += fabs(counted);
            int64_t exit = sum->oldest_inside + e->decay_ms + 1;
            if (exit <= now)
                exit = now + 1;
            if (exit < o.first_exit)
                o.first_exit = exit;
        }
    }
    out->next_change_at = next_change(&o, now);
    return engagement;
}

static char band(double value, const double bands[3], char best)
{
    for (int i = 0; i < 3; i++)
        if (value >= bands[i])
            return (char)(best + i);
    return (char)(best + 3);
}

bt_err score_lead(const struct score_model *m, const struct lead *lead, const struct activity *acts,
                  size_t n_acts, int64_t now, struct score_scratch *scratch, struct arena *arena,
                  struct score_result *out)
{
    return score_lead_predicted(m, lead, acts, n_acts, NAN, now, scratch, arena, out);
}

bt_err score_lead_predicted(const struct score_model *m, const struct lead *lead,
                            const struct activity *acts, size_t n_acts, double predicted,
                            int64_t now, struct score_scratch *scratch, struct arena *arena,
                            struct score_result *out)
{
    if (scratch->model != m)
        BT_BUG("score_lead: the scratch was made for another model");
    out->n_reasons = 0;
    out->next_change_at = 0;
    out->has_predicted = !isnan(predicted);
    out->predicted = out->has_predicted ? predicted : 0;
    struct text_space text = {scratch->text, 0, SCRATCH_TEXT_SIZE, arena};
    bt_err rc = bucket_activities(scratch, acts, n_acts);
    if (rc == BT_OK)
        rc = fill_lead(&scratch->lead, lead, scratch->facts, NULL, predicted, now, &text,
                       scratch->lead_slots);
    if (rc == BT_OK)
        rc = gather_engagement(m, scratch, acts, now, &text);
    if (rc != BT_OK)
        return rc;
    out->fit = score_fit(m, scratch, out);
    out->engagement = score_engagement(m, scratch, now, out);
    double total = out->fit + out->engagement;
    out->total = total < m->min_total ? m->min_total : total > m->max_total ? m->max_total : total;
    out->grade[0] = band(out->fit, m->fit_bands, 'A');
    out->grade[1] = band(out->engagement, m->engagement_bands, '1');
    out->grade[2] = '\0';
    return BT_OK;
}

/* ---- filling a lead subject for other rules ---- */

struct fact_list {
    const struct activity_fact *facts;
    size_t n;
};

static int fact_index(void *ctx, const char *type, size_t len)
{
    const struct fact_list *l = ctx;
    for (size_t i = 0; i < l->n; i++)
        if (l->facts[i].type && strncmp(l->facts[i].type, type, len) == 0 &&
            l->facts[i].type[len] == '\0')
            return (int)i;
    return -1;
}

/*
 * Binds the table's paths on every call: without a scratch there is nowhere
 * to keep the binding, and a path costs a binary search over two dozen names.
 */
bt_err score_fill_lead(const struct rule_symtab *syms, const struct lead *lead,
                       const struct activity_fact *facts, size_t n_facts,
                       const struct score_result *scores, int64_t now, struct arena *arena,
                       struct rule_value *slots)
{
    size_t n = symtab_count(syms);
    if (n == 0)
        return BT_OK;
    struct subject_plan plan = {n, arena_alloc(arena, n * sizeof(struct slot_source)), 0,
                                arena_alloc(arena, n * sizeof(struct wanted))};
    struct fact_view *views = arena_alloc(arena, (n_facts + 1) * sizeof(*views));
    if (!plan.sources || !plan.wanted || !views)
        return BT_ETOOBIG;
    struct fact_list list = {facts, n_facts};
    plan_subject(syms, true, fact_index, &list, &plan);
    for (size_t i = 0; i < n_facts; i++)
        views[i] = (struct fact_view){facts[i].count, facts[i].newest_at, facts[i].oldest_at};
    struct text_space text = {NULL, 0, 0, arena};
    double predicted = scores && scores->has_predicted ? scores->predicted : NAN;
    return fill_lead(&plan, lead, views, scores, predicted, now, &text, slots);
}

bt_err score_activity_facts(const struct activity *acts, size_t n, struct arena *arena,
                            struct activity_fact **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return BT_OK;
    struct activity_fact *facts = arena_alloc(arena, n * sizeof(*facts));
    if (!facts)
        return BT_ETOOBIG;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *type = acts[i].type;
        if (!type)
            continue;
        size_t k = 0;
        while (k < count && strcmp(facts[k].type, type) != 0)
            k++;
        if (k == count)
            facts[count++] = (struct activity_fact){type, 0, INT64_MIN, INT64_MAX};
        struct activity_fact *f = &facts[k];
        f->count++;
        if (acts[i].occurred_at > f->newest_at)
            f->newest_at = acts[i].occurred_at;
        if (acts[i].occurred_at < f->oldest_at)
            f->oldest_at = acts[i].occurred_at;
    }
    *out = facts;
    *n_out = count;
    return BT_OK;
}
