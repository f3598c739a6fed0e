/*
 * cli_check.c - `baton check FILE`: validates a configuration the way the
 * daemon would load it, so that a change can be checked before SIGHUP.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/normalize.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: baton check FILE\n"
                 "\n"
                 "Validates a Baton configuration file. Errors are printed as\n"
                 "FILE:LINE:COL: message and the exit status is 1; a valid file prints a\n"
                 "one-line summary and exits 0.\n"
                 "\n"
                 "Options:\n"
                 "  -h, --help  show this help\n");
}

int cli_check(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("%s: ok (config version %s; %zu teams, %zu reps, %zu free-mail domains)\n", path,
           cfg->version, cfg->n_teams, cfg->n_reps, freemail_count(cfg->freemail));
    config_unref(cfg);
    return 0;
}
