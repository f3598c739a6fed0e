/*
 * fuzz_world.c - libFuzzer target: the input as JSON through the two
 * parsers of the best_match work: world_spec_from_json (a simulated world,
 * core/world.h) and skill_table_from_json (a stored skill table,
 * core/skill.h). A spec that parses must be within its documented bounds; a
 * table that parses must give estimates that are probabilities with an
 * ordered interval in [0, 1], for reps and segments seen and unseen, and must
 * survive its own JSON round trip.
 */
#include "core/skill.h"
#include "core/world.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_estimate(const struct skill_table *t, const char *rep, const char *seg)
{
    struct skill_estimate e;
    skill_estimate(t, rep, seg, &e);
    /* (a very skewed posterior may have its mean outside the central 90 %) */
    if (!(e.p > 0 && e.p < 1) || !(e.low >= 0 && e.low <= e.high && e.high <= 1) || e.n < 0 ||
        e.wins < 0 || e.wins > e.n || !isfinite(e.value) || e.value < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, NULL);
    if (!j)
        return 0;
    struct world_spec spec;
    struct bt_error err = BT_ERROR_INIT;
    if (world_spec_from_json(j, &spec, &err) == BT_OK) {
        if (spec.n_reps < 2 || spec.n_reps > WORLD_REPS_MAX || spec.n_fields < 1 ||
            spec.n_fields > WORLD_FIELDS_MAX || !(spec.base > 0 && spec.base < 1) ||
            spec.test < 1 || spec.warmup < 0 || !(spec.tolerance >= 0 && spec.tolerance <= 10))
            abort();
        for (size_t f = 0; f < spec.n_fields; f++) {
            double sum = 0;
            for (size_t v = 0; v < spec.fields[f].n_values; v++)
                sum += spec.fields[f].shares[v];
            if (fabs(sum - 1) > 1e-9)
                abort();
        }
        world_spec_free(&spec);
    } else if (!err.message[0]) {
        abort(); /* an error says why */
    }
    struct skill_table *t = NULL;
    if (skill_table_from_json(j, &t, &err) == BT_OK) {
        const json_t *cells = json_object_get(j, "cells");
        const json_t *first = json_array_get(cells, 0);
        const char *rep = json_string_value(json_array_get(first, 0));
        const char *seg = json_string_value(json_array_get(first, 1));
        check_estimate(t, rep ? rep : "x", seg ? seg : "");
        check_estimate(t, "nobody", "nowhere");
        json_t *back = skill_table_to_json(t);
        struct skill_table *u = NULL;
        if (skill_table_from_json(back, &u, &err) != BT_OK)
            abort();
        if (rep) {
            struct skill_estimate a, b;
            skill_estimate(t, rep, seg ? seg : "", &a);
            skill_estimate(u, rep, seg ? seg : "", &b);
            if (fabs(a.p - b.p) > 1e-6)
                abort();
        }
        skill_table_free(u);
        json_decref(back);
        skill_table_free(t);
    } else if (t) {
        abort();
    }
    json_decref(j);
    return 0;
}
