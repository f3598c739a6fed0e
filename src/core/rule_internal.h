/*
 * rule_internal.h - what rule.c (tables, values, evaluation) and rule_parse.c
 * (lexer, parser, compiler) share: the compiled form of a rule.
 *
 * The parser builds the tree as an array of nodes in prefix order, each
 * knowing the size of its subtree. Compilation then lowers it to what is
 * evaluated: the leaves (the tests) alone, in source order, each with the
 * index of the node to go to when it is false and when it is true; `and`,
 * `or` and `not` become those jumps (`not` swaps them), which gives the same
 * short-circuit order without recursion. Two final nodes answer true and
 * false. Leaves carry everything a test needs, prepared at compile time:
 * literal strings lower-cased unless `case` was given, their length, their
 * numeric value, and `in` lists as hash sets.
 */
#ifndef BT_CORE_RULE_INTERNAL_H
#define BT_CORE_RULE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include "core/rule.h"
#include "util/arena.h"

#include <pcre2.h>

#define RULE__MAX_TEXT       4096
#define RULE__MAX_NODES      256
#define RULE__MAX_DEPTH      32
#define RULE__MAX_LIST       256
#define RULE__MAX_PATTERN    1024
#define RULE__MATCH_LIMIT    100000
#define RULE__HEAP_LIMIT_KIB 1024

/* Outcomes of a comparison, as bits of a node's mask: `<=` is LESS|EQUAL. */
enum { RULE__LESS = 1, RULE__EQUAL = 2, RULE__GREATER = 4 };

enum rule__op {
    RULE__AND,      /* parse tree only: children follow; true when all are */
    RULE__OR,       /* parse tree only: children follow; true when one is */
    RULE__NOT,      /* parse tree only: one child follows */
    RULE__TRUE,     /* a bare path: the value is boolean true */
    RULE__EXISTS,   /* the value is present */
    RULE__CMP_NUM,  /* the literal is a number; mask says which outcomes hold */
    RULE__EQ_STR,   /* the literal is a string */
    RULE__NE_STR,   /* the literal is a string */
    RULE__ORD_STR,  /* < <= > >= with a string literal; mask as CMP_NUM */
    RULE__CMP_BOOL, /* == or != true/false; mask is 1 when the value must be true */
    RULE__IN,       /* list */
    RULE__NOT_IN,   /* list */
    RULE__CONTAINS, /* str/len */
    RULE__STARTS,   /* str/len */
    RULE__ENDS,     /* str/len */
    RULE__MATCHES,  /* re */
    RULE__ACCEPT,   /* end of evaluation: the rule holds */
    RULE__REJECT,   /* end of evaluation: it does not */
};

struct rule__str {
    const char *s;
    uint32_t len;
};

/* A set of strings: open addressing over indices into `items`, probed
 * linearly from rule__hash(); `table` has mask + 1 entries, 0 is empty and
 * i + 1 is items[i]. At most half full. */
struct rule__strset {
    const struct rule__str *items;
    const uint16_t *table;
    uint32_t mask;
    uint32_t n;
};

/* Looks at the length and three bytes only: cheap for the value probed at
 * every evaluation, and enough to spread country codes, sources or titles. */
static inline uint32_t rule__hash(const char *s, uint32_t len)
{
    uint32_t h = len * 0x9E3779B1u;
    if (len) {
        h ^= (uint32_t)(unsigned char)s[0] * 0x85EBCA77u;
        h ^= (uint32_t)(unsigned char)s[len - 1] * 0xC2B2AE3Du;
        h ^= (uint32_t)(unsigned char)s[len / 2] * 0x27D4EB2Fu;
    }
    return h ^ (h >> 15);
}

/* An `in` list split by what can match it. Number-like string literals
 * ("200") also match a number value, so numbers_all holds the numbers of the
 * number literals and of those strings; a string value that is a number only
 * meets real number literals, as `==` does. */
struct rule__list {
    const double *numbers;      /* number literals, sorted */
    const double *numbers_all;  /* numbers + number-like string literals, sorted */
    struct rule__strset folded; /* strings without `case`, lower-cased */
    struct rule__strset exact;  /* strings with `case` */
    uint16_t n_numbers, n_numbers_all;
    bool has_true, has_false;
};

struct rule__node {
    uint8_t op;      /* enum rule__op */
    uint8_t mask;    /* comparisons: RULE__LESS | RULE__EQUAL | RULE__GREATER */
    bool exact;      /* `case`: compare with the text as sent, not lower-cased */
    bool has_number; /* a string literal that is also a number, in `number` */
    union {
        uint16_t size;    /* parse tree: nodes in this subtree, this one included */
        uint16_t next[2]; /* compiled: the node to go to when false [0], true [1] */
    } u;
    uint32_t slot; /* leaves */
    uint32_t len;  /* bytes in str */
    double number; /* CMP_NUM; string literals with has_number */
    union {
        const char *str;               /* string literals (lower-cased unless exact) */
        const struct rule__list *list; /* IN, NOT_IN */
        pcre2_code *re;                /* MATCHES */
    } lit;
};

/*
 * A rule is one allocation, laid out in the order evaluation reads it: the
 * header, the nodes, then each test's string or list with its strings, and
 * the source text last. Two hundred rules are evaluated per lead, so what
 * matters is how few cache lines a rule touches and that they are adjacent.
 */
struct rule {
    uint32_t n_leaves; /* tests; nodes[n_leaves] is ACCEPT, then REJECT */
    const char *text;
    pcre2_match_context *match_context; /* NULL unless the rule has `matches` */
    struct rule__node nodes[];
};

/*
 * A set of rules evaluated together against the same slots, as scoring does
 * with every fit rule of a model. Built once from compiled rules (which it
 * borrows: free it before them) and then read-only, so threads may share it.
 *
 * Evaluation runs in two passes. First every distinct test of all the rules
 * (rules of one configuration repeat many: `email.free`, `country == "DE"`)
 * is evaluated once, in an order sorted by kind and slot so that the
 * processor predicts which kind comes next; the results go into a byte per
 * test. Then each rule walks its own leaves by those bytes, taking the jump
 * as an index rather than a branch and stepping exactly as many times as it
 * has leaves (jumps only go forward; the end nodes loop on themselves), so
 * that varied leads cost no mispredicted branches. `matches` tests are the
 * exception: they are evaluated only when a rule reaches them, once per
 * evaluation at most, since a regular expression costs more than a branch.
 * Results equal those of rule_eval() on each rule.
 */
struct rule__set;

/* rules[i] may be NULL: a rule that always holds. */
struct rule__set *rule__set_new(const struct rule *const *rules, size_t n);
void rule__set_free(struct rule__set *set);
/* Bytes of work space rule__set_eval() needs. */
size_t rule__set_work_size(const struct rule__set *set);
/* Sets holds[i] to whether rule i holds; `work` has rule__set_work_size()
 * bytes, contents irrelevant. Allocation-free. */
void rule__set_eval(const struct rule__set *set, const struct rule_value *slots,
                    struct rule_scratch *s, uint8_t *work, bool *holds);

/* True when s[0..len) is exactly -?digits[.digits] and finite; the value in
 * *out. Locale-independent; exact for up to 15 significant digits. */
bool rule__parse_number(const char *s, size_t len, double *out);

/*
 * The slot of `path`, adding it after the schema accepts it. Returns -1 and
 * writes the schema's reason into why when it refuses.
 */
int rule__symtab_intern(struct rule_symtab *t, const char *path, size_t len, char *why,
                        size_t why_size);
/* Forgets the slots added after the first n (a rule that failed to compile). */
void rule__symtab_truncate(struct rule_symtab *t, size_t n);

#endif
