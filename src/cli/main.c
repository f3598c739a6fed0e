/*
 * main.c - `baton COMMAND [OPTIONS]`: dispatches to the subcommands.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", cli_serve, "run the daemon: HTTP API, engine, store"},
    {"check", cli_check, "validate a configuration file"},
    {"reload", cli_reload, "check a configuration, reload the daemon with it, print the changes"},
    {"keys", cli_keys, "create, list and revoke API keys; rotate the one-click link secret"},
    {"score", cli_score, "dry run: normalise and score a lead, print the decision"},
    {"import", cli_import, "import accounts, leads or activities from a CSV file"},
    {"route", cli_route, "dry run: route a lead, print the decision record"},
    {"train", cli_train, "train the predictive score on the lead history"},
    {"model", cli_model, "predictive models: list, show, activate, report"},
    {"simulate", cli_simulate, "what-if on history, or a world with known answers"},
    {"report", cli_report, "reports: speed-to-lead, SLA, acceptance, funnel, fairness, ..."},
    {"api", cli_api, "the HTTP API's routes and its OpenAPI description"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: baton COMMAND [OPTIONS]\n"
                 "\n"
                 "Baton takes each inbound lead, decides who owns it and how urgent it is,\n"
                 "and makes sure the handoff happens.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Options:\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  print the version\n"
                 "\n"
                 "Run 'baton COMMAND --help' for a command's options. Documentation: docs/.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            char *sub[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(commands[i].name, argv[2]))
                    return commands[i].run(2, sub);
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("baton %s\n", BATON_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, cmd))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "baton: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
