/*
 * score.h - how sales-ready a lead is, with its reasons.
 *
 * A lead's score is fit + engagement, clamped to [min_total, max_total]:
 * - Fit: rules over the lead's attributes (`when` -> points, negative
 *   allowed), optionally in named groups with a cap on each group's sum
 *   (a positive cap limits the sum from above; a group without cap is
 *   unbounded). A rule outside any group is uncapped.
 * - Engagement: rules over the lead's activities. Each engagement rule names
 *   an activity type, optional conditions on the activity (`when` over the
 *   activity subject: properties.NAME), points per matching activity, a cap
 *   on the rule's sum, and a decay: a half-life (each activity's points are
 *   multiplied by 0.5^(age / half_life)) or a window (activities older than
 *   the window count 0), or none. Decay is applied per activity, then the cap.
 * - Grade: a letter from the fit (A if fit >= bands[0], B if >= bands[1],
 *   C if >= bands[2], else D) and a digit from engagement (1 if >= bands[0],
 *   2, 3, else 4), e.g. "A1".
 * Every rule that fired is a reason, with points before and after decay and
 * caps.
 *
 * The subject: rules read slots that score_fill_lead() fills from the lead,
 * its activity facts and (for qualification) its scores. Lead paths:
 *   email, email.domain, email.free, first_name, last_name, company, title,
 *   phone, website, website.domain, country, state, city, industry, source,
 *   employees, employees_band, stage, external_id, fields.NAME,
 *   score, fit, engagement, grade,
 *   predicted                 the predictive score p(convert), 0..1 (core/predict.h),
 *                             missing without an active model; known to fit rules
 *   activity.TYPE.count       activities of TYPE (any age)
 *   activity.TYPE.last_days   days (fractional) since the newest of TYPE
 *   activity.TYPE.first_days  days since the oldest of TYPE
 * Activity paths (engagement conditions): type, properties.NAME, age_days.
 * `score`, `fit`, `engagement` and `grade` are missing while fit and
 * engagement are being computed (rules cannot depend on their own result).
 *
 * Pure: no I/O, no clock (now is an argument). Scoring allocates only in the
 * caller's arena; the model is immutable and shared between threads.
 */
#ifndef BT_CORE_SCORE_H
#define BT_CORE_SCORE_H

#include "core/lead.h"
#include "core/rule.h"
#include "util/arena.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdint.h>

struct activity {
    int64_t id;
    int64_t lead_id;
    const char *type;            /* [a-z0-9_]+, at most 64 */
    int64_t occurred_at;         /* ms */
    const char *properties_json; /* a JSON object of scalars, "{}" when none */
};

enum decay_kind { DECAY_NONE, DECAY_HALF_LIFE, DECAY_WINDOW };

struct fit_rule {
    const char *name;
    struct rule *when; /* over the lead subject */
    double points;
    int group; /* index into groups, or -1 */
};

struct fit_group {
    const char *name;
    bool has_cap;
    double cap;
};

struct engagement_rule {
    const char *name;
    const char *activity_type;
    struct rule *when; /* over the activity subject, or NULL: every activity of the type */
    double points;     /* per matching activity, before decay */
    bool has_cap;
    double cap;
    enum decay_kind decay;
    int64_t decay_ms; /* the half-life or the window */
};

/* A scoring model, built by the config loader. */
struct score_model {
    struct fit_rule *fit;
    size_t n_fit;
    struct fit_group *groups;
    size_t n_groups;
    struct engagement_rule *engagement;
    size_t n_engagement;
    double min_total, max_total;       /* default 0 .. 100 */
    double fit_bands[3];               /* default 60, 40, 20 */
    double engagement_bands[3];        /* default 60, 30, 10 */
    struct rule_symtab *lead_syms;     /* slots of lead rules (fit, qualification) */
    struct rule_symtab *activity_syms; /* slots of engagement conditions */
};

/* The schemas the config loader compiles rules with. */
extern const struct rule_schema score_lead_schema;
extern const struct rule_schema score_activity_schema;

/* Facts about a lead's activities per type, as the rules see them. */
struct activity_fact {
    const char *type;
    int64_t count;
    int64_t newest_at, oldest_at;
};

#define SCORE_MAX_REASONS 256

struct score_reason {
    const char *rule;  /* the rule's name */
    const char *kind;  /* "fit" or "engagement" */
    const char *group; /* fit group name, or NULL */
    double points;     /* as configured: per rule (fit) or summed before decay (engagement) */
    double after_decay;
    double counted;  /* after decay and caps: what went into the score */
    int64_t matches; /* activities that matched (engagement); 1 for fit */
};

struct score_result {
    double fit, engagement, total;
    char grade[3];
    size_t n_reasons;
    struct score_reason reasons[SCORE_MAX_REASONS];
    /* When decay will next change the score by at least 1 point, or 0 when
     * it never will: the engine rescores the lead then. */
    int64_t next_change_at;
    /* The predictive score the rules read as `predicted` (score_lead_predicted). */
    bool has_predicted;
    double predicted;
};

/* Scratch for one thread: slot arrays and regex match data. */
struct score_scratch;
struct score_scratch *score_scratch_new(const struct score_model *m);
void score_scratch_free(struct score_scratch *s);

/*
 * Computes the score of `lead` with its activities (any order) at `now`.
 * Returns BT_OK, or BT_ETOOBIG when the arena runs out.
 */
bt_err score_lead(const struct score_model *m, const struct lead *lead, const struct activity *acts,
                  size_t n_acts, int64_t now, struct score_scratch *scratch, struct arena *arena,
                  struct score_result *out) BT_MUST_USE;

/* score_lead with the lead's predictive score (0..1; NaN: none), which fit
 * rules (and, through the result, every later rule) read as `predicted`.
 * The score itself is not changed by it: the caller maps it to points. */
bt_err score_lead_predicted(const struct score_model *m, const struct lead *lead,
                            const struct activity *acts, size_t n_acts, double predicted,
                            int64_t now, struct score_scratch *scratch, struct arena *arena,
                            struct score_result *out) BT_MUST_USE;

/*
 * Fills the lead-subject slots of `syms` (rule_symtab_count(syms) values)
 * from the lead, its activity facts and, when `scores` is not NULL, the
 * scores. Strings are lower-cased into the arena. Used by qualification and
 * (later) routing with their own rules over the same symbol table.
 */
bt_err score_fill_lead(const struct rule_symtab *syms, const struct lead *lead,
                       const struct activity_fact *facts, size_t n_facts,
                       const struct score_result *scores, int64_t now, struct arena *arena,
                       struct rule_value *slots) BT_MUST_USE;

/* Facts per type from a list of activities; the array is in the arena. */
bt_err score_activity_facts(const struct activity *acts, size_t n, struct arena *arena,
                            struct activity_fact **out, size_t *n_out) BT_MUST_USE;

#endif
