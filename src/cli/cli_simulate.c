/*
 * cli_simulate.c - `baton simulate`: one command, three modes, each in a
 * file of its own.
 *   --world WORLD.yaml                 a generated world with known answers
 *                                      (cli_simulate_world.c)
 *   --evaluate --db PATH ...           off-line replay of a strategy on the
 *                                      outcome history (cli_simulate_eval.c)
 *   --db PATH --config CANDIDATE.yaml  what a candidate configuration would
 *                                      have changed (cli_simulate_replay.c)
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: baton simulate --db PATH --config CANDIDATE.yaml [--baseline FILE]\n"
            "                      [--since T] [--until T] [--limit N] [--json]\n"
            "       baton simulate --world WORLD.yaml [--seed N] [--json]\n"
            "       baton simulate --evaluate --db PATH --split T [--config FILE] [--pool ID]\n"
            "                      [--segments FIELD,...] [--json]\n"
            "\n"
            "What-if on history: replays stored leads and activities through the decision\n"
            "pipeline with a candidate configuration, writes nothing, and prints what would\n"
            "change. --world: generates leads and reps with hidden skills and compares the\n"
            "routing strategies against the oracle. --evaluate: estimates on the outcome\n"
            "history how best_match would have done against round robin (replay method).\n"
            "Run 'baton simulate MODE --help' for the options of each mode, e.g.\n"
            "'baton simulate --world --help'.\n");
}

int cli_simulate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--world") == 0 || strncmp(argv[i], "--world=", 8) == 0)
            return cli_simulate_world(argc, argv);
        if (strcmp(argv[i], "--evaluate") == 0)
            return cli_simulate_evaluate(argc, argv);
    }
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 1) {
        usage(stderr);
        return 2;
    }
    return cli_simulate_replay(argc, argv);
}
