/*
 * config_internal.h - the loader machinery shared by the files of src/config/.
 *
 * Not part of the module's API (that is config.h). config.c parses the YAML
 * into a tree of struct ynode that keeps every node's position, then walks
 * it section by section; sections that live in their own file (scoring and
 * qualification, config_scoring.c) use the same tree, the same helpers and
 * therefore the same "NAME:LINE:COL: message" errors.
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
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_STRING  1024
#define CONFIG_MAX_KEYS    16 /* keys in any one mapping of the schema */
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
    const struct ynode **rep_id_at, **rep_team_at;
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

/* ---- values ---- */

/* A non-empty single-line string of at most `max` bytes, copied into the snapshot. */
bt_err config__get_string(struct loader *ld, const struct ynode *n, const char *path, size_t max,
                          const char **out);
bt_err config__get_bool(struct loader *ld, const struct ynode *n, const char *path, bool *out);
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

#endif
