/*
 * cli_common.c - helpers shared by the subcommands.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "baton %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
