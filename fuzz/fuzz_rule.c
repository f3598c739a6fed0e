/*
 * fuzz_rule.c - libFuzzer target: the input as a rule's text through
 * rule_compile (every path accepted) and, when it compiles, rule_eval against
 * a few fixed fillings of its slots: all missing, strings, numbers, booleans
 * and a mix.
 */
#include "core/rule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {"DE", "VP of Sales", "10000", "", "-2.5", "Grüße \xff"};
static const char *const lowers[] = {"de", "vp of sales", "10000", "", "-2.5", "grüße \xff"};

/* Filling `which` for slot i. */
static void fill(struct rule_value *v, int which, size_t i)
{
    memset(v, 0, sizeof(*v));
    switch (which) {
    case 0:
        break; /* missing */
    case 1: {
        size_t k = i % 6;
        rule_value_string(v, texts[k], lowers[k], strlen(texts[k]));
        break;
    }
    case 2:
        rule_value_number(v, (double)i * 125.5 - 3);
        break;
    case 3:
        rule_value_bool(v, i % 2);
        break;
    default:
        fill(v, (int)(i % 4), i);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rule_scratch *scratch;
    if (!scratch)
        scratch = rule_scratch_new();
    struct rule_symtab *syms = rule_symtab_new(NULL);
    struct rule *r = NULL;
    struct rule_error err;
    if (rule_compile(syms, (const char *)data, size, &r, &err) == BT_OK) {
        size_t n = rule_symtab_count(syms);
        struct rule_value *slots = calloc(n ? n : 1, sizeof(*slots));
        for (int which = 0; which < 5; which++) {
            for (size_t i = 0; i < n; i++)
                fill(&slots[i], which, i);
            (void)rule_eval(r, slots, scratch);
        }
        free(slots);
        rule_free(r);
    } else if (err.offset > size || !memchr(err.message, '\0', sizeof(err.message))) {
        abort(); /* an error must point into the text */
    }
    rule_symtab_free(syms);
    return 0;
}
