/*
 * rule.c - the condition language at run time: slot values, the symbol table
 * and evaluation. Parsing and compilation are in rule_parse.c.
 *
 * Evaluation is the hot path (hundreds of rules per lead). It runs the
 * compiled form of rule_internal.h: the tests in source order, each jumping to
 * the next by its result, with literals prepared at compile time so that a
 * test is a length check and a short byte comparison, a double comparison, or
 * a probe in a small hash set. Nothing here allocates or writes outside the
 * caller's scratch, so compiled rules can be shared between threads.
 */
#include "core/rule_internal.h"

#include <stdlib.h>
#include <string.h>

/* Powers of ten that are exact doubles. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * By hand, because strtod follows the locale's decimal point. Up to 19
 * significant digits are collected into an integer; when it fits in 53 bits
 * and the power of ten is exact, one multiplication or division gives the
 * correctly rounded double (the case of every realistic amount). Longer
 * numbers go through long double, which may be off by one unit in the last
 * place.
 */
bool rule__parse_number(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && s[i] == '-') {
        negative = true;
        i++;
    }
    if (i == len || s[i] < '0' || s[i] > '9')
        return false;
    uint64_t mantissa = 0;
    int digits = 0;    /* significant digits in mantissa */
    long exponent = 0; /* value = mantissa * 10^exponent */
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (digits < 19) {
            mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
            digits += mantissa != 0;
        } else {
            exponent++;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i == len || s[i] < '0' || s[i] > '9')
            return false;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
                digits += mantissa != 0;
                exponent--;
            }
        }
    }
    if (i != len)
        return false;
    double v;
    if (mantissa == 0) {
        v = 0;
    } else if (mantissa <= (1ULL << 53) && exponent >= -22 && exponent <= 22) {
        v = exponent >= 0 ? (double)mantissa * pow10_exact[exponent]
                          : (double)mantissa / pow10_exact[-exponent];
    } else {
        long double x = (long double)mantissa;
        for (; exponent >= 22; exponent -= 22)
            x *= 1e22L;
        for (; exponent <= -22 && x != 0; exponent += 22)
            x /= 1e22L;
        if (exponent > 0)
            x *= (long double)pow10_exact[exponent];
        else if (exponent < 0)
            x /= (long double)pow10_exact[-exponent];
        v = (double)x;
        if (v - v != 0) /* infinite */
            return false;
    }
    *out = negative ? -v : v;
    return true;
}

void rule_value_number(struct rule_value *v, double n)
{
    *v = (struct rule_value){.type = RULE_NUMBER, .has_number = true, .number = n};
}

void rule_value_bool(struct rule_value *v, bool b)
{
    *v = (struct rule_value){.type = RULE_BOOL, .boolean = b};
}

void rule_value_string(struct rule_value *v, const char *text, const char *lower, size_t len)
{
    *v = (struct rule_value){
        .type = RULE_STRING, .text = text, .lower = lower ? lower : text, .len = (uint32_t)len};
    v->has_number = rule__parse_number(text, len, &v->number);
}

/* ---- symbol table ---- */

struct rule_symtab {
    struct rule_schema schema;
    char **paths;
    size_t count, cap;
};

struct rule_symtab *rule_symtab_new(const struct rule_schema *schema)
{
    struct rule_symtab *t = xcalloc(1, sizeof(*t));
    if (schema)
        t->schema = *schema;
    return t;
}

void rule_symtab_free(struct rule_symtab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        free(t->paths[i]);
    free(t->paths);
    free(t);
}

size_t rule_symtab_count(const struct rule_symtab *t)
{
    return t->count;
}

const char *rule_symtab_path(const struct rule_symtab *t, size_t i)
{
    return i < t->count ? t->paths[i] : NULL;
}

int rule_symtab_find(const struct rule_symtab *t, const char *path)
{
    for (size_t i = 0; i < t->count; i++)
        if (!strcmp(t->paths[i], path))
            return (int)i;
    return -1;
}

/* A table holds a few dozen paths and is only searched while compiling, so a
 * linear scan is enough. */
int rule__symtab_intern(struct rule_symtab *t, const char *path, size_t len, char *why,
                        size_t why_size)
{
    for (size_t i = 0; i < t->count; i++)
        if (!strncmp(t->paths[i], path, len) && t->paths[i][len] == '\0')
            return (int)i;
    if (t->schema.check) {
        why[0] = '\0';
        if (!t->schema.check(t->schema.ctx, path, len, why, why_size))
            return -1;
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->paths = xrealloc(t->paths, t->cap * sizeof(*t->paths));
    }
    t->paths[t->count] = xstrndup(path, len);
    return (int)t->count++;
}

void rule__symtab_truncate(struct rule_symtab *t, size_t n)
{
    while (t->count > n)
        free(t->paths[--t->count]);
}

/* ---- rules ---- */

void rule_free(struct rule *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n_leaves; i++)
        if (r->nodes[i].op == RULE__MATCHES)
            pcre2_code_free(r->nodes[i].lit.re);
    pcre2_match_context_free(r->match_context);
    free(r);
}

const char *rule_text(const struct rule *r)
{
    return r->text;
}

struct rule_scratch {
    pcre2_match_data *match_data;
};

struct rule_scratch *rule_scratch_new(void)
{
    struct rule_scratch *s = xcalloc(1, sizeof(*s));
    /* One pair of offsets is enough: a match with a too-small ovector still
     * reports success (rc 0), and we only ask whether there is one. */
    s->match_data = pcre2_match_data_create(1, NULL);
    if (!s->match_data)
        bt_die("out of memory");
    return s;
}

void rule_scratch_free(struct rule_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->match_data);
    free(s);
}

/* ---- evaluation ---- */

/* Most values and literals are a few bytes long, where a loop beats a call
 * into the C library. */
static inline bool same_bytes(const char *a, const char *b, uint32_t n)
{
    if (n > 16)
        return memcmp(a, b, n) == 0;
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static inline bool contains_bytes(const char *hay, uint32_t hay_len, const char *needle,
                                  uint32_t len)
{
    if (len == 0)
        return true;
    if (hay_len > 64)
        return memmem(hay, hay_len, needle, len) != NULL;
    char first = needle[0];
    for (uint32_t i = 0; i + len <= hay_len; i++)
        if (hay[i] == first && same_bytes(hay + i + 1, needle + 1, len - 1))
            return true;
    return false;
}

static inline unsigned outcome_numbers(double a, double b)
{
    return a < b ? RULE__LESS : a > b ? RULE__GREATER : a == b ? RULE__EQUAL : 0;
}

static inline unsigned outcome_strings(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c == 0)
        return alen < blen ? RULE__LESS : alen > blen ? RULE__GREATER : RULE__EQUAL;
    return c < 0 ? RULE__LESS : RULE__GREATER;
}

static bool find_number(const double *a, uint32_t n, double x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == x;
}

static bool find_string(const struct rule__strset *set, const char *s, uint32_t len)
{
    uint32_t h = rule__hash(s, len) & set->mask;
    for (uint16_t k; (k = set->table[h]) != 0; h = (h + 1) & set->mask) {
        const struct rule__str *it = &set->items[k - 1];
        if (it->len == len && same_bytes(it->s, s, len))
            return true;
    }
    return false;
}

static bool in_list(const struct rule__list *l, const struct rule_value *v)
{
    switch (v->type) {
    case RULE_STRING:
        if (l->folded.n && find_string(&l->folded, v->lower, v->len))
            return true;
        if (l->exact.n && find_string(&l->exact, v->text, v->len))
            return true;
        return v->has_number && l->n_numbers && find_number(l->numbers, l->n_numbers, v->number);
    case RULE_NUMBER:
        return find_number(l->numbers_all, l->n_numbers_all, v->number);
    case RULE_BOOL:
        return v->boolean ? l->has_true : l->has_false;
    default:
        return false;
    }
}

/* One test of one slot. */
__attribute__((always_inline)) static inline bool eval_leaf(const struct rule *r,
                                                            const struct rule__node *n,
                                                            const struct rule_value *slots,
                                                            struct rule_scratch *s)
{
    const struct rule_value *v = &slots[n->slot];
    const char *text;
    switch (n->op) {
    case RULE__TRUE:
        return v->type == RULE_BOOL && v->boolean;
    case RULE__EXISTS:
        return v->type != RULE_MISSING;
    case RULE__CMP_NUM: {
        /* without branches: on varied leads the outcome is not predictable */
        double a = v->number, b = n->number;
        unsigned o = (a < b) * RULE__LESS | (a == b) * RULE__EQUAL | (a > b) * RULE__GREATER;
        return v->has_number & ((o & n->mask) != 0);
    }
    case RULE__EQ_STR:
    case RULE__NE_STR:
        if (v->type == RULE_STRING) {
            text = n->exact ? v->text : v->lower;
            bool equal = v->len == n->len && same_bytes(text, n->lit.str, n->len);
            return equal == (n->op == RULE__EQ_STR);
        }
        if (v->type == RULE_NUMBER && n->has_number) {
            unsigned o = outcome_numbers(v->number, n->number);
            return o && (o == RULE__EQUAL) == (n->op == RULE__EQ_STR);
        }
        return false;
    case RULE__ORD_STR:
        if (v->type == RULE_STRING) {
            text = n->exact ? v->text : v->lower;
            return outcome_strings(text, v->len, n->lit.str, n->len) & n->mask;
        }
        return v->type == RULE_NUMBER && n->has_number &&
               (outcome_numbers(v->number, n->number) & n->mask);
    case RULE__CMP_BOOL:
        return v->type == RULE_BOOL && v->boolean == n->mask;
    case RULE__IN:
        return in_list(n->lit.list, v);
    case RULE__NOT_IN:
        return v->type != RULE_MISSING && !in_list(n->lit.list, v);
    case RULE__CONTAINS:
        text = n->exact ? v->text : v->lower;
        return v->type == RULE_STRING && v->len >= n->len &&
               contains_bytes(text, v->len, n->lit.str, n->len);
    case RULE__STARTS:
        text = n->exact ? v->text : v->lower;
        return v->type == RULE_STRING && v->len >= n->len && same_bytes(text, n->lit.str, n->len);
    case RULE__ENDS:
        text = n->exact ? v->text : v->lower;
        return v->type == RULE_STRING && v->len >= n->len &&
               same_bytes(text + (v->len - n->len), n->lit.str, n->len);
    case RULE__MATCHES:
        /* A negative result is "no match" or an error such as the match
         * limit: a pattern that takes too long never matches. */
        return v->type == RULE_STRING &&
               pcre2_match(n->lit.re, (PCRE2_SPTR)(v->len ? v->text : ""), v->len, 0, 0,
                           s->match_data, r->match_context) >= 0;
    default:
        BT_BUG("rule: bad node op %d", n->op);
    }
}

bool rule_eval(const struct rule *r, const struct rule_value *slots, struct rule_scratch *s)
{
    const struct rule__node *nodes = r->nodes;
    /* Each test picks the next node by its result, until ACCEPT or REJECT.
     * A branch, not an index computed from the result: the processor
     * predicts it and starts on the next test before this one is done. */
    uint32_t i = 0;
    while (i < r->n_leaves) {
        if (eval_leaf(r, &nodes[i], slots, s))
            i = nodes[i].u.next[1];
        else
            i = nodes[i].u.next[0];
    }
    return i == r->n_leaves;
}
