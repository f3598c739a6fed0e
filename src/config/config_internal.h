/*
 * config_internal.h - the loader machinery shared by the files of src/config/.
 *
 * Not part of the module's API (that is config.h). config.c parses the YAML
 * into a tree of struct ynode that keeps every node's position, then walks
 * it section by section; sections that live in their own file (scoring and
 * qualification, config_scoring.c; pools, routing and accounts,
 * config_routing.c; sla, config_sla.c; delivery, config_delivery.c) use the same tree, the same
 * helpers and therefore the same "NAME:LINE:COL: message" errors.
 *
 * Conventions of the helpers below:
 * - They return BT_OK or BT_ECONFIG; on error the message is already in
 *   ld->err and the caller returns the code unchanged.
 * - `path` names the value in messages ("scoring.range", "reps[2].email").
 * - The get_* helpers leave *out untouched when the node is absent (missing
 *   or null), so that the caller's default stays.
 * - Strings copied "into the snapshot" live in ld->arena and are freed with
 *   the snapshot; the tree itself lives in ld->scratch and is freed when
 *   loading ends, so no ynode pointer may be kept in the snapshot.
 */
#ifndef BT_CONFIG_INTERNAL_H
#define BT_CONFIG_INTERNAL_H

#include "config/config.h"
#include "core/workhours.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_STRING  1024
#define CONFIG_MAX_KEYS    24 /* keys in any one mapping of the schema */
#define CONFIG_EXCERPT_MAX 40 /* see config__excerpt */
#define CONFIG_SECOND_MS   1000ull
#define CONFIG_MINUTE_MS   (60 * CONFIG_SECOND_MS)
#define CONFIG_HOUR_MS     (60 * CONFIG_MINUTE_MS)
#define CONFIG_DAY_MS      (24 * CONFIG_HOUR_MS)

#define CONFIG_N_KEYS(keys) (sizeof(keys) / sizeof((keys)[0]))

/* ---- the position-keeping tree ---- */

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

/* How a scalar was written; decides how its text maps back to the file. */
enum ynode_style {
    YSTYLE_PLAIN,
    YSTYLE_SINGLE_QUOTED,
    YSTYLE_DOUBLE_QUOTED,
    YSTYLE_LITERAL, /* | */
    YSTYLE_FOLDED,  /* > */
};

struct ynode {
    enum ynode_kind kind;
    bool plain;       /* a plain (unquoted) scalar: may mean null */
    int line, column; /* 1-based; a quoted scalar's opening quote */
    const char *text; /* scalars: NUL-terminated copy, may hold inner NULs */
    size_t len;
    struct ynode *first, *last, *next; /* a mapping's children alternate key, value */
    size_t count;
    /* Scalars: the style and the bytes of the file the value was decoded
     * from (inside the quotes; a block scalar's lines without its header),
     * for config__scalar_position. */
    enum ynode_style style;
    size_t raw_start, raw_end;
};

/* The time zone tables a snapshot uses: one per distinct name, on the heap,
 * freed with the snapshot (config__routing_release). */
struct config_zones {
    struct tz_table **tables;
    size_t count, cap;
};

/*
 * A team's or rep's routing values as the file gives them, before a rep
 * inherits what it leaves out from its team. Holiday dates live in the
 * snapshot's arena (a team's are shared by its reps).
 */
struct config_schedule {
    const struct tz_table *tz; /* NULL: no timezone given */
    bool has_hours;
    struct weekly_hours hours;
    bool has_holidays; /* an empty list counts: it overrides the team's */
    struct holidays holidays;
};

struct loader {
    const char *name;
    struct bt_error *err;
    struct arena scratch;
    struct arena *arena; /* the snapshot's */
    struct config *cfg;
    size_t nodes;
    int line, column;  /* the last position seen, for events without a mark */
    const char *input; /* the file's text while it is parsed and loaded */
    size_t input_len;
    /* where each team's and rep's values were, for the checks made last */
    const struct ynode **team_id_at, **team_manager_at;
    const struct ynode **rep_id_at, **rep_team_at, **rep_manager_at;
    /* routing values per team and rep as given (scratch), the rep's team as
     * an index into cfg->teams (SIZE_MAX: none; set by the reference check),
     * and the snapshot's zone tables */
    struct config_schedule *team_schedule, *rep_schedule;
    size_t *rep_team;
    struct config_zones *zones;
};

/* ---- errors ---- */

/* "NAME:LINE:COL: message" into ld->err; returns BT_ECONFIG. */
bt_err config__fail_pos(struct loader *ld, int line, int column, const char *fmt, ...)
    BT_PRINTF(4, 5);
/* The same at node n's position. */
bt_err config__fail_at(struct loader *ld, const struct ynode *n, const char *fmt, ...)
    BT_PRINTF(3, 4);
bt_err config__fail_too_large(struct loader *ld, const struct ynode *n);

/* A printable, shortened copy of file text for messages, written into buf. */
const char *config__excerpt(const char *s, size_t len, char buf[CONFIG_EXCERPT_MAX + 4]);

/* Line and column (1-based, in characters) of byte offset `at` of `text`. */
void config__position_of(const char *text, size_t at, int *line, int *column);

/*
 * The line and column in the file of byte `offset` of scalar n's value
 * (offset == n->len is the position just past its last character), for
 * pointing into a value such as a rule's text. Returns false, with n's own
 * position, when the value's bytes cannot be matched to the file's (an
 * escape it cannot follow); the caller then names the offset in its message.
 */
bool config__scalar_position(const struct loader *ld, const struct ynode *n, size_t offset,
                             int *line, int *column);

/* ---- node tests ---- */

const char *config__kind_name(const struct ynode *n); /* "a mapping", "a list", "a scalar" */
bool config__is_null(const struct ynode *n);          /* a plain ~, null or empty scalar */
bool config__absent(const struct ynode *n);           /* NULL or null: "use the default" */
bool config__scalar_is(const struct ynode *n, const char *s);

/* ---- schema walking ---- */

/*
 * Looks up each of `keys` in mapping `n`, storing its value node in vals[i]
 * (NULL when absent). Unknown and repeated keys are errors; `where` names the
 * mapping in messages ("in server", "at the top level").
 */
bt_err config__map_fields(struct loader *ld, const struct ynode *n, const char *where,
                          const char *const *keys, size_t n_keys, const struct ynode **vals);
/* n must be a mapping: "PATH: expected a mapping WHAT, not a list". */
bt_err config__expect_map(struct loader *ld, const struct ynode *n, const char *path,
                          const char *what);
/* n must be a list of at most `max` entries; the error for too many points at the first extra. */
bt_err config__check_list(struct loader *ld, const struct ynode *n, const char *section, size_t max,
                          const char *what);

/* A key of mapping `elem` that must be present and not null: "PATH: missing
 * required key 'KEY'" at the mapping, or "PATH.KEY: required" at the null. */
bt_err config__require(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                       const char *path, const char *key);

/* ---- values ---- */

/* A non-empty single-line string of at most `max` bytes, copied into the snapshot. */
bt_err config__get_string(struct loader *ld, const struct ynode *n, const char *path, size_t max,
                          const char **out);
bt_err config__get_bool(struct loader *ld, const struct ynode *n, const char *path, bool *out);
/* A whole number in min .. max (unsigned range). */
bt_err config__get_uint(struct loader *ld, const struct ynode *n, const char *path, uint64_t min,
                        uint64_t max, unsigned *out);
/* A whole number of seconds, or one followed by ms, s, m, h or d, in
 * milliseconds; false when s[0..len) is anything else. */
bool config__parse_duration_ms(const char *s, size_t len, uint64_t *out);
/* A duration in min_ms .. max_ms, in milliseconds. */
bt_err config__get_duration_ms(struct loader *ld, const struct ynode *n, const char *path,
                               uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms);

/*
 * A decimal number: an optional '-' (when `negative` allows it), digits, an
 * optional '.' and fraction, at most 15 digits in all. By hand rather than
 * with strtod, whose decimal point follows the locale. False when s[0..len)
 * is anything else.
 */
bool config__parse_number(const char *s, size_t len, bool negative, double *out);

/* The id of a team, rep or pool (`v`, the value under key 'id' of mapping
 * `elem`, `path` the mapping's): required, [a-z0-9][a-z0-9_.-]*, at most 64
 * characters; copied into the snapshot. */
bt_err config__get_id(struct loader *ld, const struct ynode *elem, const struct ynode *v,
                      const char *path, const char **out);
/* A list of at most `max` tags (languages, skills): strings of at most 64
 * bytes, lower-cased, copied into the snapshot. */
bt_err config__get_tags(struct loader *ld, const struct ynode *n, const char *path, size_t max,
                        const char ***out, size_t *n_out);

/* ---- sections in other files ---- */

/*
 * config_scoring.c: the `scoring` and `qualification` sections (either may
 * be NULL). Always sets ld->cfg->scoring to a model, even on error, so that
 * config__scoring_release() finds whatever was compiled.
 */
bt_err config__load_scoring(struct loader *ld, const struct ynode *scoring,
                            const struct ynode *qualification);
/* Frees the compiled rules and symbol tables of cfg's model and qualification. */
void config__scoring_release(struct config *cfg);

/*
 * config_scoring.c: compiles the condition in scalar n over `syms` into
 * *out (NULL on error). A compile error points at the character at fault:
 * n's place in the file plus the rule language's offset into its text.
 * The caller frees the rule (before the table).
 */
bt_err config__compile_when(struct loader *ld, struct rule_symtab *syms, const struct ynode *n,
                            const char *path, struct rule **out);

/* What each element of a string list must look like, beyond being a string. */
enum list_check { LIST_TEXT, LIST_TAG, LIST_HOST, LIST_DOMAIN };

/*
 * A list of at most `max_items` strings into an arena array. Hosts and
 * domains are lower-cased and checked; text and tag elements are limited to
 * 64 bytes, and tags are lower-cased.
 */
bt_err config__get_string_list(struct loader *ld, const struct ynode *n, const char *path,
                               size_t max_items, enum list_check check, const char ***out,
                               size_t *n_out);

/* A host name (lower case): labels of letters, digits and '-', at least `min_labels`. */
bool config__valid_hostname(const char *s, int min_labels);

/* A rate ("20/s", "600/m burst 50") or off (count 0) into *out; untouched when absent. */
bt_err config__get_rate(struct loader *ld, const struct ynode *n, const char *path,
                        struct ratelimit_rate *out);

/* config_forms.c: `intake.allowed_origins` (a list; NULL: none). */
bt_err config__load_origins(struct loader *ld, const struct ynode *n);
/* config_forms.c: the `forms` section (NULL: none), after `server` (a
 * form's redirect must be on one of server.form_redirect_hosts). */
bt_err config__load_forms(struct loader *ld, const struct ynode *n);

/* config_predictive.c: the `predictive` section (NULL: the defaults stay)
 * into ld->cfg->predictive, and those defaults. */
bt_err config__load_predictive(struct loader *ld, const struct ynode *n);
void config__predictive_defaults(struct config_predictive *p);

/* config_ratelimit.c: `intake.rate_limit` (NULL: the defaults stay) into
 * ld->cfg->rate_limit. */
bt_err config__load_rate_limit(struct loader *ld, const struct ynode *n);

/*
 * config_routing.c: the pieces of teams and reps that routing reads, parsed
 * where those sections are (config.c), so that errors come in file order.
 *
 * config__get_zone: an IANA zone name; *name gets a copy in the snapshot and
 * *tz the snapshot's table for it (built on first use, shared by every user
 * of the name). Both untouched when n is absent.
 */
bt_err config__get_zone(struct loader *ld, const struct ynode *n, const char *path,
                        const char **name, const struct tz_table **tz);
/* Weekly hours (a mapping of days to "HH:MM-HH:MM, ..." or off) into s->hours;
 * sets s->has_hours. s untouched when n is absent. */
bt_err config__get_hours(struct loader *ld, const struct ynode *n, const char *path,
                         struct config_schedule *s);
/* Holidays (a list of YYYY-MM-DD) into s->holidays, sorted, repeats dropped;
 * sets s->has_holidays. s untouched when n is absent. */
bt_err config__get_holidays(struct loader *ld, const struct ynode *n, const char *path,
                            struct config_schedule *s);
/* Territories: countries in any form normalize_country() reads, stored as
 * alpha-2, or the regions NA, LATAM, APAC, EMEA; upper case, repeats dropped.
 * Static strings in an arena array. */
bt_err config__get_territories(struct loader *ld, const struct ynode *n, const char *path,
                               const char ***out, size_t *n_out);

/*
 * config_routing.c: once teams and reps are loaded and their references
 * checked, builds cfg->routing (the reps with their team's defaults applied,
 * the `pools` and the `routing` rules, compiled over scoring->lead_syms) and
 * reads `accounts`. Any of the nodes may be NULL. Rules are counted in
 * n_rules as they are compiled, so that a load failing half way frees them.
 */
bt_err config__load_routing(struct loader *ld, const struct ynode *pools,
                            const struct ynode *routing, const struct ynode *accounts);
/* Frees the routing rules' conditions (call it before config__scoring_release,
 * which frees their symbol table) and the zone tables. */
void config__routing_release(struct config *cfg, struct config_zones *zones);

/*
 * config_sla.c: the `sla` section (NULL: no policies, the built-in reject
 * reasons) into cfg->sla, once routing is built (after_max_attempts names
 * its pools and reps). Policy conditions are compiled over
 * scoring->lead_syms and counted in n_policies as they are compiled.
 */
bt_err config__load_sla(struct loader *ld, const struct ynode *n);
/* Frees the policies' conditions; call it before config__scoring_release. */
void config__sla_release(struct config *cfg);

/*
 * config_delivery.c: the `delivery` section (NULL: no channels) into
 * cfg->delivery, after sla: Slack channels' by_team and by_rep name teams
 * and reps, and channel conditions are compiled over scoring->lead_syms,
 * counted in n_channels as they are started. Templates are compiled into
 * the snapshot's arena. config__delivery_defaults() sets the retry
 * schedule, breaker and meeting length a file without them gets.
 */
bt_err config__load_delivery(struct loader *ld, const struct ynode *n);
void config__delivery_defaults(struct config *cfg);
/* Frees the channels' conditions; call it before config__scoring_release. */
void config__delivery_release(struct config *cfg);

#endif
