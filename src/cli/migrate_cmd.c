/* connhub migrate: copies a SQLite database into PostgreSQL, with progress
 * and a row count per table at the end (see store_copy in store.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"
#include "core/banned.h"

static const char migrate_help[] =
    "usage: connhub migrate --from sqlite:PATH --to postgres://... [--truncate-target]\n"
    "  Copies every row of a SQLite database into a PostgreSQL database: users, workspaces,\n"
    "  tokens, connections, operations, OAuth state, and every secret as it is (still sealed:\n"
    "  the same INTEGRATION_ENCRYPTION_KEY opens them afterwards). Both databases are first\n"
    "  brought to this connhub's schema; the copy is one transaction (a failure changes\n"
    "  nothing); at the end each table's rows are counted on both sides.\n"
    "  Stop the servers using the SQLite file first; start them on the new URL afterwards.\n"
    "\n"
    "  --from sqlite:PATH    the database to copy (it is not changed, except for migrations)\n"
    "  --to URL              postgres://USER@HOST:PORT/DB, postgresql://..., or a libpq keyword\n"
    "                        string; the password is best in $PGPASSWORD or ~/.pgpass\n"
    "  --truncate-target     empty the target first (refused by default when it holds rows)\n";

static void
progress(void *arg, const char *table, int64_t done, int64_t total)
{
    (void)arg;
    if (done == 0)
        printf("copying %s: %lld rows\n", table, (long long)total);
    else
        printf("  %s: %lld/%lld\n", table, (long long)done, (long long)total);
    fflush(stdout);
}

int
cmd_migrate(int argc, char **argv)
{
    static const struct option lo[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"truncate-target", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct copy_opts o = {false, progress, NULL};
    const char *from = NULL, *to = NULL;
    struct copy_count *counts = NULL;
    struct errinfo ei = {0};
    char shown[1024];
    size_t n = 0;
    bool mismatch = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'T')
            o.truncate = true;
        else if (c == 'h') {
            fputs(migrate_help, stdout);
            return 0;
        } else {
            fputs(migrate_help, stderr);
            return 2;
        }
    }
    if (from == NULL || to == NULL || optind != argc) {
        fprintf(stderr, "connhub migrate: --from and --to are required (see --help)\n");
        return 2;
    }
    store_url_redact(to, shown, sizeof(shown));
    printf("migrating %s -> %s\n", from, shown);
    if (store_copy(from, to, &o, &counts, &n, &ei) != ERR_OK) {
        cli_fail("migrate", &ei);
        return 1;
    }
    printf("verification (rows: source, target):\n");
    for (size_t i = 0; i < n; i++) {
        bool ok = counts[i].src == counts[i].dst;
        mismatch |= !ok;
        printf("  %-24s %8lld %8lld  %s\n", counts[i].table, (long long)counts[i].src,
               (long long)counts[i].dst, ok ? "ok" : "MISMATCH");
    }
    free(counts);
    printf(mismatch ? "migrate: counts differ\n" : "migrate: done, every table verified\n");
    return mismatch ? 1 : 0;
}
