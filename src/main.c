/* connhub: wiring only. Picks the command and hands over. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

static const char usage[] =
    "usage: connhub COMMAND [options]     (connhub COMMAND --help for each)\n"
    "\n"
    "  serve                  run the API server\n"
    "  user add NAME          add a user\n"
    "  user passwd NAME       set the password NAME signs in to the web UI with\n"
    "  workspace add SLUG     add a workspace\n"
    "  member add WS USER     add a user to a workspace with --role admin|member\n"
    "  token create           create an API token (--user NAME --workspace SLUG)\n"
    "  rekey                  re-seal every secret under the current key\n"
    "  openapi-import FILE    what a spec becomes (offline; timing and memory)\n"
    "  migrate                copy a SQLite database into PostgreSQL (--from, --to)\n"
    "  mcp-probe URL          run connhub's MCP client against a server\n"
    "  version                print the version and the memory allocator\n";

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"serve", cmd_serve},
    {"user", cmd_user},
    {"workspace", cmd_workspace},
    {"member", cmd_member},
    {"token", cmd_token},
    {"rekey", cmd_rekey},
    {"openapi-import", cmd_openapi},
    {"migrate", cmd_migrate},
    {"mcp-probe", cmd_mcp_probe},
};

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        char alloc[ALLOC_NAME_MAX];

        alloc_name(alloc);
        printf("connhub 0.1.0\nallocator: %s\n", alloc);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (strcmp(argv[1], "serve") != 0)
                log_set_level(LOG_WARN); /* operator commands: quiet unless wrong */
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "connhub: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
