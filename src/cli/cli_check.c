/*
 * cli_check.c - `baton check FILE`: validates a configuration the way the
 * daemon would load it, so that a change can be checked before SIGHUP.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/normalize.h"
#include "deliver/render.h"
#include "util/arena.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: baton check FILE\n"
                 "       baton check --config FILE\n"
                 "\n"
                 "Validates a Baton configuration file. Errors are printed as\n"
                 "FILE:LINE:COL: message and the exit status is 1; a valid file prints a\n"
                 "short summary (teams, reps, routing, delivery) and exits 0. Every\n"
                 "delivery channel's messages and every template are rendered against\n"
                 "a sample lead, so a template that cannot render fails the check.\n"
                 "\n"
                 "Options:\n"
                 "  -c, --config FILE  the file to check (as `baton serve --config`)\n"
                 "  -h, --help         show this help\n");
}

int cli_check(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
            continue;
        }
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    /* The file is given once: as --config or as the one argument. */
    if (path ? optind != argc : optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (!path)
        path = argv[optind];
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("%s: ok (config version %s; %zu teams, %zu reps, %zu free-mail domains)\n", path,
           cfg->version, cfg->n_teams, cfg->n_reps, freemail_count(cfg->freemail));
    const struct routing_config *routing = &cfg->routing;
    if (routing->n_rules > 0)
        printf("routing: %zu rule%s, %zu pool%s\n", routing->n_rules,
               routing->n_rules == 1 ? "" : "s", routing->n_pools,
               routing->n_pools == 1 ? "" : "s");
    else
        printf("routing: off (no routing section; qualified leads stay mql)\n");
    const struct config_delivery *d = &cfg->delivery;
    /* Every message a channel may send, rendered against a sample lead:
     * what loading cannot see (a message too long, a part that fails). */
    struct arena a = ARENA_INIT;
    bt_err rendered = render_check(cfg, &a, &err);
    arena_release(&a);
    if (rendered) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        config_unref(cfg);
        return 1;
    }
    if (d->n_channels > 0)
        printf("delivery: %zu channel%s, %zu template%s (each channel's messages rendered "
               "against a sample lead)\n",
               d->n_channels, d->n_channels == 1 ? "" : "s", d->n_templates,
               d->n_templates == 1 ? "" : "s");
    else if (d->n_templates > 0)
        printf("delivery: no channels (nothing is sent), %zu template%s\n", d->n_templates,
               d->n_templates == 1 ? "" : "s");
    config_unref(cfg);
    return 0;
}
