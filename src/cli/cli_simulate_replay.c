/*
 * cli_simulate_replay.c - placeholder while the predictive work is built on branches; the
 * branch that owns this command replaces the file.
 */
#include "cli/cli.h"

#include <stdio.h>

int cli_simulate_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "baton: cli_simulate_replay is not built yet\n");
    return 1;
}
