/*
 * cli_model.c - placeholder while the predictive work is built on branches; the
 * branch that owns this command replaces the file.
 */
#include "cli/cli.h"

#include <stdio.h>

int cli_model(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "baton: cli_model is not built yet\n");
    return 1;
}
