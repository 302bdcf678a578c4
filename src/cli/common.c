#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"
#include "core/banned.h"

void
cli_fail(const char *what, const struct errinfo *ei)
{
    if (ei->field[0])
        fprintf(stderr, "connhub: %s: %s: %s\n", what, ei->field, ei->msg);
    else
        fprintf(stderr, "connhub: %s: %s\n", what, ei->msg);
}

void
cli_prepare_db_dir(const char *url)
{
    char dir[4096];
    struct errinfo ei;

    if (store_data_dir(url, dir, sizeof(dir), &ei) != ERR_OK)
        return;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
    }
    mkdir(dir, 0700);
}

int
cli_open_store(const char *url, struct store **out)
{
    struct errinfo ei = {0};

    cli_prepare_db_dir(url);
    if (store_open(url, out, &ei) != ERR_OK) {
        cli_fail("cannot open the database", &ei);
        return 1;
    }
    return 0;
}
