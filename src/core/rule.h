/*
 * rule.h - Baton's condition language: the `when:` of scoring, qualification
 * and (later) routing and SLA rules.
 *
 *   employees >= 200 and country in ["DE", "AT", "CH"]
 *   title contains "vp" or title matches "^(chief|head) "
 *   not email.free and fields.budget >= 10000
 *   activity.demo_request.count > 0 and company == case "ACME"
 *   fields.partner exists
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | test
 *   test    := path                                  (true iff the value is boolean true)
 *            | path "exists"
 *            | path cmp literal                      cmp: == != < <= > >=
 *            | path ["not"] "in" "[" literal ("," literal)* [","] "]"
 *            | path ("contains"|"starts_with"|"ends_with") literal
 *            | path "matches" string                 (PCRE2 regex, compiled at load)
 *   literal := ["case"] (string | number | "true" | "false")
 *   path    := name ("." name)*                      name: [A-Za-z_][A-Za-z0-9_-]*
 *   string  := '"' ... '"'  with \" \\ \n \t \uXXXX escapes
 *   number  := -?digits[.digits]
 * Keywords are case-insensitive. String comparisons (==, !=, in, contains,
 * starts_with, ends_with, and < <= > >= between strings) ignore case unless
 * the literal is preceded by `case`; `matches` is case-insensitive unless the
 * pattern starts with `(?-i)`.
 *
 * Semantics. A path names a slot whose value the caller fills before
 * evaluation (see struct rule_value). A missing value never matches: any test
 * on a missing value is false (`exists` tests presence), so `not` of such a
 * test is true. Comparing a number with a string that parses as a number (a
 * form's "10000") compares numbers; otherwise a type mismatch is false.
 * Evaluation never allocates and never fails.
 *
 * Compilation resolves every path to a slot in a symbol table shared by all
 * rules of one configuration (struct rule_symtab), after asking the caller's
 * schema whether the path exists. Errors give a byte offset into the text and
 * say what was expected, so that the config loader can point at FILE:LINE:COL.
 */
#ifndef BT_CORE_RULE_H
#define BT_CORE_RULE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rule_type { RULE_MISSING = 0, RULE_STRING, RULE_NUMBER, RULE_BOOL };

/*
 * A slot's value for one evaluation. Fill with rule_value_string() /
 * rule_value_number() / rule_value_bool(), or zero it for "missing".
 * For strings the caller provides the text as-is and lower-cased (ASCII
 * lower-casing is enough: non-ASCII bytes compare exactly); both must stay
 * valid during evaluation.
 */
struct rule_value {
    uint8_t type;    /* enum rule_type */
    bool boolean;    /* RULE_BOOL */
    bool has_number; /* RULE_NUMBER, or a RULE_STRING that parses as a number */
    double number;
    const char *text;  /* RULE_STRING: as sent */
    const char *lower; /* RULE_STRING: ASCII lower-cased copy */
    uint32_t len;      /* bytes in text and lower */
};

void rule_value_number(struct rule_value *v, double n);
void rule_value_bool(struct rule_value *v, bool b);
/* `lower` may equal `text` when the caller knows it has no upper case. Sets
 * has_number when the whole text is a decimal number ("10000", "-2.5"). */
void rule_value_string(struct rule_value *v, const char *text, const char *lower, size_t len);

/*
 * What paths exist. `check` returns true when `path` (len bytes, not
 * NUL-terminated) may be used; otherwise it writes a short reason into
 * `why` ("unknown field 'emial'; did you mean 'email'?"). NULL accepts all.
 */
struct rule_schema {
    bool (*check)(void *ctx, const char *path, size_t len, char *why, size_t why_size);
    void *ctx;
};

/* Paths to slots. One per configuration (or per kind of subject: a lead, an
 * activity); frozen once its rules are compiled. */
struct rule_symtab;

struct rule_symtab *rule_symtab_new(const struct rule_schema *schema);
void rule_symtab_free(struct rule_symtab *t);
size_t rule_symtab_count(const struct rule_symtab *t);
/* The path of slot i (NUL-terminated, owned by the table). */
const char *rule_symtab_path(const struct rule_symtab *t, size_t i);
/* The slot of `path`, or -1 when no compiled rule used it. */
int rule_symtab_find(const struct rule_symtab *t, const char *path);
/* Adds `path` (NUL-terminated) as a slot without compiling a rule, for
 * readers that are not rules (the predictive model's features): the slot,
 * or -1 when the schema refuses the path (its reason in `why`). A path
 * already in the table gives its slot. */
int rule_symtab_add(struct rule_symtab *t, const char *path, char *why, size_t why_size);

struct rule;

struct rule_error {
    size_t offset; /* byte offset in the text where the problem is */
    char message[200];
};

/*
 * Compiles `text` (len bytes). On success *out is the rule, which borrows
 * `syms` (free rules before their table). On error returns BT_EINVAL with
 * the offset and "expected ..." message in *err. Limits: 4096 bytes of text,
 * 256 nodes, nesting 32 deep, 256 items in a list.
 */
bt_err rule_compile(struct rule_symtab *syms, const char *text, size_t len, struct rule **out,
                    struct rule_error *err) BT_MUST_USE;
void rule_free(struct rule *r);
/* The source text, as compiled (NUL-terminated). */
const char *rule_text(const struct rule *r);

/* Per-thread scratch space for evaluation (PCRE2 match data); one per
 * thread, reused across evaluations. */
struct rule_scratch;
struct rule_scratch *rule_scratch_new(void);
void rule_scratch_free(struct rule_scratch *s);

/* Evaluates against `slots` (rule_symtab_count(syms) values, indexed by
 * slot). Pure and allocation-free. */
bool rule_eval(const struct rule *r, const struct rule_value *slots, struct rule_scratch *s);

#endif
