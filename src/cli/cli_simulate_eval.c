/*
 * cli_simulate_eval.c - placeholder while the predictive work is built on branches; the
 * branch that owns this command replaces the file.
 */
#include "cli/cli.h"

#include <stdio.h>

int cli_simulate_evaluate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "baton: cli_simulate_evaluate is not built yet\n");
    return 1;
}
