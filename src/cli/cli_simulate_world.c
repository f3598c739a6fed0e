/*
 * cli_simulate_world.c - `baton simulate --world WORLD.yaml [--seed N]
 * [--json]`: generates a world with known answers (core/world.h), races the
 * routing strategies on it and prints conversions, lift over round robin,
 * best_match's share of the oracle's lift, the largest deviation from fair
 * share and holds per strategy.
 *
 * The YAML file is read here and turned into JSON (plain scalars typed as
 * YAML 1.2's core schema does); the world itself is pure.
 */
#include "cli/cli.h"
#include "core/world.h"

#include <errno.h>
#include <getopt.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORLD_FILE_MAX  (1 << 20)
#define WORLD_DEPTH_MAX 16

static void usage(FILE *out)
{
    fprintf(out, "usage: baton simulate --world WORLD.yaml [--seed N] [--json]\n"
                 "\n"
                 "Generates reps with hidden per-segment skill and a lead stream (see\n"
                 "examples/world.yaml and docs/simulate.md), learns best_match's estimates from\n"
                 "a warm-up history routed round robin, then routes the test period with\n"
                 "round_robin, load_balanced, fair_share, best_match and the oracle (the true\n"
                 "rates, under the same fairness bound), outcomes drawn with common random\n"
                 "numbers. --seed overrides the file's seed.\n");
}

static json_t *scalar_json(const char *s, size_t n, bool plain)
{
    char buf[64];
    if (!plain)
        return json_stringn(s, n);
    if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && !memcmp(s, "null", 4)))
        return json_null();
    if (n == 4 && !memcmp(s, "true", 4))
        return json_true();
    if (n == 5 && !memcmp(s, "false", 5))
        return json_false();
    if (n < sizeof(buf)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        char *end;
        errno = 0;
        long long i = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0)
            return json_integer(i);
        double d = strtod(buf, &end);
        if (*end == '\0' && isfinite(d) && strspn(buf, "+-0123456789.eE") == n)
            return json_real(d);
    }
    return json_stringn(s, n);
}

static json_t *yaml_json(struct fy_node *node, int depth)
{
    if (!node || depth > WORLD_DEPTH_MAX)
        return NULL;
    switch (fy_node_get_type(node)) {
    case FYNT_SCALAR: {
        size_t n;
        const char *s = fy_node_get_scalar(node, &n);
        return s ? scalar_json(s, n, fy_node_get_style(node) == FYNS_PLAIN) : json_null();
    }
    case FYNT_SEQUENCE: {
        json_t *a = json_array();
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(node, &it))) {
            json_t *v = yaml_json(item, depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    case FYNT_MAPPING: {
        json_t *o = json_object();
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(node, &it))) {
            size_t n;
            const char *k = fy_node_get_scalar(fy_node_pair_key(pair), &n);
            json_t *v = k ? yaml_json(fy_node_pair_value(pair), depth + 1) : NULL;
            if (!v || memchr(k, '\0', n)) {
                json_decref(v);
                json_decref(o);
                return NULL;
            }
            char *key = strndup(k, n);
            if (json_object_get(o, key)) { /* a repeated key */
                free(key);
                json_decref(v);
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, key, v);
            free(key);
        }
        return o;
    }
    }
    return NULL;
}

static json_t *load_world(const char *path)
{
    size_t len;
    char *text = cli_read_file("simulate", path, WORLD_FILE_MAX, &len);
    if (!text)
        return NULL;
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
    json_t *j = doc ? yaml_json(fy_document_root(doc), 0) : NULL;
    if (!j)
        cli_error("simulate",
                  "%s: not a readable YAML world (bad syntax, repeated keys or "
                  "nesting deeper than %d)",
                  path, WORLD_DEPTH_MAX);
    fy_document_destroy(doc);
    free(text);
    return j;
}

static void print_text(const struct world_spec *s, const struct world_result *r)
{
    const struct world_outcome *rr = &r->s[WORLD_ROUND_ROBIN];
    printf("world: %zu reps, %zu segment fields, %lld warm-up outcomes (round robin), "
           "%lld test leads, seed %llu\n",
           s->n_reps, s->n_fields, (long long)r->history, (long long)s->test,
           (unsigned long long)s->seed);
    printf("%-14s %11s %9s %10s %9s %12s %6s\n", "strategy", "conversions", "rate", "expected",
           "lift", "max_share_dev", "holds");
    for (int k = 0; k < WORLD_STRATEGIES; k++) {
        const struct world_outcome *o = &r->s[k];
        int64_t routed = o->leads - o->holds;
        printf("%-14s %11lld %8.2f%% %10.1f %+8.1f%% %11.1f%% %6lld\n",
               world_strategy_name((enum world_strategy)k), (long long)o->conversions,
               routed ? 100.0 * (double)o->conversions / (double)routed : 0, o->expected,
               rr->conversions ? 100.0 * ((double)o->conversions / (double)rr->conversions - 1) : 0,
               100 * o->max_share_dev, (long long)o->holds);
    }
    printf("best_match captures %.1f%% of the oracle's lift over round robin "
           "(%.1f%% on expected conversions); fairness tolerance %.0f%%; skill strength k=%.1f\n",
           100 * r->capture, 100 * r->capture_expected, 100 * s->tolerance, r->skill_strength);
}

int cli_simulate_world(int argc, char **argv)
{
    static const struct option opts[] = {{"world", required_argument, NULL, 'w'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL, *seed = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            path = optarg;
            break;
        case 's':
            seed = optarg;
            break;
        case 'j':
            as_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            cli_error("simulate", "unknown or incomplete option %s (see --world --help)",
                      argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("simulate", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    json_t *j = load_world(path);
    if (!j)
        return 1;
    if (seed) {
        char *end;
        errno = 0;
        long long v = strtoll(seed, &end, 10);
        if (*seed == '\0' || *end != '\0' || errno || v < 0) {
            cli_error("simulate", "--seed: expected a whole number >= 0, not '%s'", seed);
            json_decref(j);
            return 2;
        }
        json_object_set_new(j, "seed", json_integer(v));
    }
    struct world_spec spec;
    struct world_result res;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = world_spec_from_json(j, &spec, &err);
    json_decref(j);
    if (rc) {
        cli_error("simulate", "%s: %s", path, err.message);
        return 1;
    }
    if ((rc = world_run(&spec, &res, &err))) {
        cli_error("simulate", "%s", err.message);
        world_spec_free(&spec);
        return 1;
    }
    if (as_json) {
        json_t *out = world_result_to_json(&spec, &res);
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
        json_decref(out);
    } else {
        print_text(&spec, &res);
    }
    world_spec_free(&spec);
    return 0;
}
