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

int rule_symtab_add(struct rule_symtab *t, const char *path, char *why, size_t why_size)
{
    return rule__symtab_intern(t, path, strlen(path), why, why_size);
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

/* ---- rule sets ---- */

/* One leaf of one rule in a set: its test's byte in the work space, and the
 * step to go to when the test is false [0] or true [1]. */
struct set_step {
    uint32_t test;
    uint16_t next[2];
};

struct set_rule {
    uint32_t first;    /* steps[first .. first + n_leaves + 2): leaves, ACCEPT, REJECT */
    uint16_t n_leaves; /* ACCEPT is step n_leaves */
    bool lazy;         /* has a test evaluated on demand (`matches`) */
};

struct rule__set {
    uint32_t n_rules, n_tests, n_eager;
    struct rule__node *tests;      /* eager tests, sorted by op and slot; then lazy ones */
    const struct rule **test_rule; /* the rule a test came from, for its match context */
    struct set_rule *rules;
    struct set_step *steps;
};

/* A test as collected from the rules, before sorting. */
struct set_test {
    struct rule__node node;
    const struct rule *rule;
    uint32_t first_seen;
    uint32_t index; /* after sorting */
};

static bool is_lazy(const struct rule__node *n)
{
    return n->op == RULE__MATCHES;
}

static bool same_strset(const struct rule__strset *a, const struct rule__strset *b)
{
    if (a->n != b->n || a->mask != b->mask)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->items[i].len != b->items[i].len ||
            memcmp(a->items[i].s, b->items[i].s, a->items[i].len) != 0)
            return false;
    return true;
}

static bool same_list(const struct rule__list *a, const struct rule__list *b)
{
    return a->n_numbers == b->n_numbers && a->n_numbers_all == b->n_numbers_all &&
           a->has_true == b->has_true && a->has_false == b->has_false &&
           (!a->n_numbers || !memcmp(a->numbers, b->numbers, a->n_numbers * sizeof(double))) &&
           (!a->n_numbers_all ||
            !memcmp(a->numbers_all, b->numbers_all, a->n_numbers_all * sizeof(double))) &&
           same_strset(&a->folded, &b->folded) && same_strset(&a->exact, &b->exact);
}

/* Whether two leaves always give the same result on the same slots. Errs
 * towards "no" (regular expressions are never merged). */
static bool same_test(const struct rule__node *a, const struct rule__node *b)
{
    if (a->op != b->op || a->slot != b->slot || a->mask != b->mask || a->exact != b->exact ||
        a->has_number != b->has_number || a->len != b->len ||
        memcmp(&a->number, &b->number, sizeof(double)) != 0)
        return false;
    switch (a->op) {
    case RULE__EQ_STR:
    case RULE__NE_STR:
    case RULE__ORD_STR:
    case RULE__CONTAINS:
    case RULE__STARTS:
    case RULE__ENDS:
        return memcmp(a->lit.str, b->lit.str, a->len) == 0;
    case RULE__IN:
    case RULE__NOT_IN:
        return same_list(a->lit.list, b->lit.list);
    case RULE__MATCHES:
        return false;
    default:
        return true;
    }
}

static uint32_t test_hash(const struct rule__node *n)
{
    uint64_t bits;
    memcpy(&bits, &n->number, sizeof(bits));
    uint64_t h =
        (uint64_t)n->op * 0x9E3779B97F4A7C15ULL ^ (uint64_t)n->slot * 0xC2B2AE3D27D4EB4FULL ^
        ((uint64_t)n->mask << 8 | (uint64_t)n->exact << 16 | (uint64_t)n->len << 24) ^ bits;
    switch (n->op) {
    case RULE__EQ_STR:
    case RULE__NE_STR:
    case RULE__ORD_STR:
    case RULE__CONTAINS:
    case RULE__STARTS:
    case RULE__ENDS:
        h ^= (uint64_t)rule__hash(n->lit.str, n->len) << 32;
        break;
    case RULE__IN:
    case RULE__NOT_IN:
        h ^= (uint64_t)(n->lit.list->folded.n + 31 * n->lit.list->n_numbers_all) << 40;
        break;
    default:
        break;
    }
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return (uint32_t)(h >> 32);
}

static int compare_set_tests(const void *pa, const void *pb)
{
    const struct set_test *a = pa, *b = pb;
    bool la = is_lazy(&a->node), lb = is_lazy(&b->node);
    if (la != lb)
        return la - lb;
    if (a->node.op != b->node.op)
        return a->node.op - b->node.op;
    if (a->node.slot != b->node.slot)
        return a->node.slot < b->node.slot ? -1 : 1;
    return a->first_seen < b->first_seen ? -1 : a->first_seen > b->first_seen;
}

struct rule__set *rule__set_new(const struct rule *const *rules, size_t n)
{
    if (n > UINT32_MAX / 2)
        BT_BUG("rule set: %zu rules", n);
    size_t n_leaves = 0;
    for (size_t r = 0; r < n; r++)
        n_leaves += rules[r] ? rules[r]->n_leaves : 0;
    struct rule__set *set = xcalloc(1, sizeof(*set));
    set->n_rules = (uint32_t)n;
    set->rules = xcalloc(n + 1, sizeof(*set->rules));
    set->steps = xcalloc(n_leaves + 2 * n + 1, sizeof(*set->steps));

    /* The distinct tests, found through an open-addressing table. */
    struct set_test *found = xcalloc(n_leaves + 1, sizeof(*found));
    uint32_t *leaf_test = xcalloc(n_leaves + 1, sizeof(*leaf_test));
    uint32_t buckets = 16;
    while (buckets < 2 * n_leaves)
        buckets *= 2;
    uint32_t *table = xcalloc(buckets, sizeof(*table)); /* 0 empty, i + 1 is found[i] */
    uint32_t n_found = 0, leaf = 0;
    for (size_t r = 0; r < n; r++) {
        for (uint32_t i = 0; rules[r] && i < rules[r]->n_leaves; i++, leaf++) {
            const struct rule__node *node = &rules[r]->nodes[i];
            uint32_t h = test_hash(node) & (buckets - 1);
            for (; table[h]; h = (h + 1) & (buckets - 1))
                if (same_test(&found[table[h] - 1].node, node))
                    break;
            if (!table[h]) {
                found[n_found] = (struct set_test){*node, rules[r], n_found, 0};
                table[h] = ++n_found;
            }
            leaf_test[leaf] = table[h] - 1;
        }
    }
    free(table);

    /* Sorted, so that evaluation meets tests of one kind in a row. */
    struct set_test *sorted = xcalloc(n_found + 1, sizeof(*sorted));
    memcpy(sorted, found, n_found * sizeof(*sorted));
    qsort(sorted, n_found, sizeof(*sorted), compare_set_tests);
    set->n_tests = n_found;
    set->tests = xcalloc(n_found + 1, sizeof(*set->tests));
    set->test_rule = xcalloc(n_found + 1, sizeof(*set->test_rule));
    for (uint32_t i = 0; i < n_found; i++) {
        found[sorted[i].first_seen].index = i;
        set->tests[i] = sorted[i].node;
        set->test_rule[i] = sorted[i].rule;
        set->n_eager += !is_lazy(&sorted[i].node);
    }
    free(sorted);

    /* The steps: each rule's leaves, then ACCEPT and REJECT, which read the
     * byte after the tests (always 0) and stay where they are. */
    uint32_t step = 0;
    leaf = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t k = rules[r] ? rules[r]->n_leaves : 0;
        set->rules[r] = (struct set_rule){step, (uint16_t)k, false};
        for (uint32_t i = 0; i < k; i++, leaf++) {
            const struct rule__node *node = &rules[r]->nodes[i];
            uint32_t t = found[leaf_test[leaf]].index;
            set->steps[step + i] = (struct set_step){t, {node->u.next[0], node->u.next[1]}};
            set->rules[r].lazy |= t >= set->n_eager;
        }
        for (uint32_t i = k; i < k + 2; i++)
            set->steps[step + i] = (struct set_step){n_found, {(uint16_t)i, (uint16_t)i}};
        step += k + 2;
    }
    free(found);
    free(leaf_test);
    return set;
}

void rule__set_free(struct rule__set *set)
{
    if (!set)
        return;
    free(set->tests);
    free(set->test_rule);
    free(set->rules);
    free(set->steps);
    free(set);
}

size_t rule__set_work_size(const struct rule__set *set)
{
    return (size_t)set->n_tests + 1;
}

void rule__set_eval(const struct rule__set *set, const struct rule_value *slots,
                    struct rule_scratch *s, uint8_t *work, bool *holds)
{
    uint32_t t = 0;
    for (; t < set->n_eager; t++)
        work[t] = eval_leaf(NULL, &set->tests[t], slots, s);
    for (; t < set->n_tests; t++)
        work[t] = 2; /* not yet evaluated */
    work[set->n_tests] = 0;
    for (uint32_t r = 0; r < set->n_rules; r++) {
        const struct set_rule *rule = &set->rules[r];
        const struct set_step *steps = &set->steps[rule->first];
        uint32_t i = 0;
        if (!rule->lazy) {
            for (uint32_t k = 0; k < rule->n_leaves; k++)
                i = steps[i].next[work[steps[i].test]];
        } else {
            while (i < rule->n_leaves) {
                uint32_t test = steps[i].test;
                if (work[test] == 2)
                    work[test] = eval_leaf(set->test_rule[test], &set->tests[test], slots, s);
                i = steps[i].next[work[test]];
            }
        }
        holds[r] = i == rule->n_leaves;
    }
}
