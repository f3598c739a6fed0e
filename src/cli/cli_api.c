/*
 * cli_api.c - `baton api`: what the HTTP API is, without a running daemon.
 *
 *   baton api routes        every route: method, path, the roles that may call it
 *   baton api description   the OpenAPI description (docs/openapi.yaml, built in) as JSON
 */
#include "cli/cli.h"
#include "server/openapi.h"
#include "server/server.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: baton api routes | description\n"
                 "\n"
                 "  routes       list every route of the HTTP API: method, path and the roles\n"
                 "               whose keys may call it (none: no key needed)\n"
                 "  description  print the OpenAPI 3.1 description of the API as JSON, the\n"
                 "               same document GET /v1/openapi.json serves\n"
                 "\n"
                 "Options:\n"
                 "  -h, --help   show this help\n");
}

int cli_api(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "routes")) {
        const char *method, *pattern;
        char roles[64];
        for (size_t i = 0; server_route_at(i, &method, &pattern, roles, sizeof(roles)); i++)
            printf("%-7s %-36s %s\n", method, pattern, roles);
        return 0;
    }
    if (!strcmp(argv[1], "description")) {
        struct bt_error err = BT_ERROR_INIT;
        const char *json = openapi_json(&err);
        if (!json) {
            cli_error("api", "%s", err.message);
            return 1;
        }
        printf("%s\n", json);
        return 0;
    }
    cli_error("api", "unknown subcommand '%s' (routes, description)", argv[1]);
    return 2;
}
