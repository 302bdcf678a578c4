/* connhub openapi-import FILE: what connhub makes of a spec, offline, with the
 * time and peak memory the import took (bench/openapi compares them with
 * swagger-parser). Saves nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "core/util.h"
#include "openapi/openapi.h"
#include "core/banned.h"

static const char help[] =
    "usage: connhub openapi-import FILE [--base-url URL] [--full]\n"
    "  Imports an OpenAPI 3.x or Swagger 2.0 spec (JSON or YAML) and prints a summary:\n"
    "  title, version, base URL, auth, operation and warning counts, import time (ms) and\n"
    "  peak memory (KiB). --full prints the whole proposed connection instead.\n";

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n + 1);
        if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
            p[n] = '\0';
            *len = (size_t)n;
        } else {
            free(p);
            p = NULL;
        }
    }
    fclose(f);
    return p;
}

int
cmd_openapi(int argc, char **argv)
{
    struct openapi_opts opts = {0};
    struct errinfo ei = {0};
    const char *file = NULL;
    bool full = false;
    json_t *prop = NULL;
    struct rusage ru;
    size_t len = 0;
    int64_t t0;
    char *text;
    enum err e;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--full") == 0) {
            full = true;
        } else if (strcmp(argv[i], "--base-url") == 0 && i + 1 < argc) {
            opts.base_url_override = argv[++i];
        } else if (file == NULL && argv[i][0] != '-') {
            file = argv[i];
        } else {
            fputs(help, stderr);
            return 2;
        }
    }
    if (file == NULL) {
        fputs(help, stderr);
        return 2;
    }
    text = slurp(file, &len);
    if (text == NULL) {
        fprintf(stderr, "connhub openapi-import: cannot read %s\n", file);
        return 1;
    }
    t0 = mono_ms();
    e = openapi_import(text, len, &opts, &prop, &ei);
    if (e != ERR_OK) {
        cli_fail("openapi-import", &ei);
        free(text);
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru);
    if (full) {
        json_dumpf(prop, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        json_t *s = json_pack(
            "{s:O?, s:O?, s:O?, s:O?, s:O?, s:I, s:I, s:I, s:I}", "title",
            json_object_get(prop, "title"), "spec_version", json_object_get(prop, "spec_version"),
            "base_url", json_object_get(prop, "base_url"), "auth", json_object_get(prop, "auth"),
            "auth_options", json_object_get(prop, "auth_options"), "operations",
            (json_int_t)json_array_size(json_object_get(prop, "operations")), "warnings",
            (json_int_t)json_array_size(json_object_get(prop, "warnings")), "import_ms",
            (json_int_t)(mono_ms() - t0), "peak_rss_kib", (json_int_t)ru.ru_maxrss);
        json_dumpf(s, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(s);
    }
    json_decref(prop);
    free(text);
    return 0;
}
